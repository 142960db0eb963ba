/* Test support: the v2 server of a test, real or stand-in (see v2server.h). */
#include "v2server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "ifx/buf.h"

bool v2_real(void)
{
    const char *p = getenv("IFX_INFLUXD2");
    return p && *p;
}

void v2_skip_if_unavailable(const char *test_name)
{
    const char *p = getenv("IFX_INFLUXD2");
    if (p && !*p) {
        fprintf(stderr,
                "SKIPPED %s: no real InfluxDB 2.7 on this machine (scripts/influxdb2 builds it; "
                "it needs go and cargo)\n",
                test_name);
        exit(V2_SKIP);
    }
}

/* Starts the real server; port and dir reuse the ones of an earlier run when not NULL. */
static int real_start(fixture *f, const char *port, const char *dir)
{
    char *argv[20] = {"python3",   IFX_SOURCE_DIR "/tests/fixtures/influxdb2.py",
                      "--influxd", getenv("IFX_INFLUXD2"),
                      "--org",     V2_ORG,
                      "--bucket",  V2_BUCKET,
                      "--token",   V2_TOKEN,
                      "--keep"};
    int n = 11;
    if (port) {
        argv[n++] = "--port";
        argv[n++] = (char *)port;
        argv[n++] = "--dir";
        argv[n++] = (char *)dir;
    }
    argv[n] = NULL;
    return fixture_start(f, argv, 90);
}

int v2_start(fixture *f)
{
    if (v2_real())
        return real_start(f, NULL, NULL);
    char *argv[] = {"python3", IFX_SOURCE_DIR "/tests/fixtures/influxdb_server.py",
                    "--mode",  "v2",
                    "--token", V2_TOKEN,
                    NULL};
    return fixture_start(f, argv, 30);
}

/* The data directory of a real server, from its READY line. */
static void data_dir(const fixture *f, char *out, size_t cap)
{
    const char *d = strstr(f->ready_line, "dir=");
    size_t n = d ? strcspn(d + 4, " \n") : 0;
    snprintf(out, cap, "%.*s", (int)n, d ? d + 4 : "");
}

int v2_restart(fixture *f)
{
    char port[16], dir[512];
    snprintf(port, sizeof port, "%d", f->port);
    data_dir(f, dir, sizeof dir);
    fixture_stop(f);
    return real_start(f, port, dir);
}

void v2_stop(fixture *f)
{
    char dir[512];
    data_dir(f, dir, sizeof dir);
    fixture_stop(f);
    if (v2_real() && strncmp(dir, "/tmp/ifx-influxd2-", 18) == 0) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
}

char *v2_request(const fixture *f, const char *method, const char *path, const char *content_type,
                 const char *accept, const char *body, long *status, size_t *len)
{
    char type[128], acc[128];
    const char *headers[4] = {"Authorization: Token " V2_TOKEN};
    size_t n = 1;
    if (content_type) {
        snprintf(type, sizeof type, "Content-Type: %s", content_type);
        headers[n++] = type;
    }
    if (accept) {
        snprintf(acc, sizeof acc, "Accept: %s", accept);
        headers[n++] = acc;
    }
    return http_request(f->port, method, path, headers, body, status, len);
}

json_t *v2_api(const fixture *f, const char *method, const char *path, const char *body,
               long *status)
{
    char *text =
        v2_request(f, method, path, body ? "application/json" : NULL, NULL, body, status, NULL);
    json_t *j = *text ? json_loads(text, 0, NULL) : NULL;
    if (*text && !j) {
        fprintf(stderr, "v2 %s %s: the answer is not JSON: %s\n", method, path, text);
        abort();
    }
    free(text);
    return j;
}

char *v2_query_text(const fixture *f, const char *path)
{
    return v2_request(f, "GET", path, NULL, NULL, NULL, NULL, NULL);
}

char *v2_flux_csv(const fixture *f, const char *flux, size_t *len)
{
    json_t *q = json_pack("{s:s, s:s, s:{s:[s,s,s]}}", "query", flux, "type", "flux", "dialect",
                          "annotations", "datatype", "group", "default");
    char *body = json_dumps(q, 0);
    long status = 0;
    char *csv = v2_request(f, "POST", "/api/v2/query?org=" V2_ORG, "application/json",
                           "application/csv", body, &status, len);
    if (status != 200) {
        fprintf(stderr, "v2 query failed (%ld): %s\n", status, csv);
        abort();
    }
    json_decref(q);
    free(body);
    return csv;
}

void v2_org_id(const fixture *f, char *out, size_t cap)
{
    const char *p = strstr(f->ready_line, "org_id=");
    size_t n = p ? strcspn(p + 7, " \n") : 0;
    snprintf(out, cap, "%.*s", (int)n, p ? p + 7 : "0000000000000001");
}

static void real_reset(const fixture *f)
{
    long status = 0;
    char org_id[64];
    v2_org_id(f, org_id, sizeof org_id);
    json_t *list = v2_api(f, "GET", "/api/v2/buckets?org=" V2_ORG "&limit=100", NULL, &status);
    if (status != 200) {
        fprintf(stderr, "v2 reset: listing buckets answered %ld\n", status);
        abort();
    }
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(list, "buckets"), i, b)
    {
        const char *name = json_string_value(json_object_get(b, "name"));
        const char *id = json_string_value(json_object_get(b, "id"));
        char path[128];
        if (!name || !id || name[0] == '_') /* _monitoring, _tasks */
            continue;
        snprintf(path, sizeof path, "/api/v2/buckets/%s", id);
        json_decref(v2_api(f, "DELETE", path, NULL, &status));
        if (status != 204) {
            fprintf(stderr, "v2 reset: deleting bucket %s answered %ld\n", name, status);
            abort();
        }
    }
    json_decref(list);
    char body[256];
    snprintf(body, sizeof body,
             "{\"orgID\":\"%s\",\"name\":\"" V2_BUCKET "\",\"retentionRules\":[]}", org_id);
    json_decref(v2_api(f, "POST", "/api/v2/buckets", body, &status));
    if (status != 201) {
        fprintf(stderr, "v2 reset: creating bucket " V2_BUCKET " answered %ld\n", status);
        abort();
    }
}

void v2_reset(const fixture *f)
{
    if (v2_real())
        real_reset(f);
    else
        json_decref(admin_call(f->port, "POST", "/__admin/reset", NULL));
}
