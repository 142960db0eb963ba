/* ifx — InfluxDB 1.x transport: /write, /query (InfluxQL, JSON), /ping, Basic auth.
 * See ../shared/spec/influxdb-http-api.md §4. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "transport/transport.h"

static const char *v1_precision(ifx_precision p)
{
    return ifx_precision_param(IFX_VERSION_V1, p);
}

static ifx_rc v1_write_target(const ifx_client_settings *s, ifx_precision p, ifx_buf *out)
{
    ifx_rc rc;
    if ((rc = ifx_buf_puts(out, "/write")) || (rc = ifxi_http_url_add_param(out, "db", s->db)))
        return rc;
    if (s->retention_policy && (rc = ifxi_http_url_add_param(out, "rp", s->retention_policy)))
        return rc;
    /* 1.x reads any unknown precision, "us" included, as nanoseconds: always send its own
     * names. */
    return ifxi_http_url_add_param(out, "precision", v1_precision(p));
}

static ifx_rc v1_auth_header(const ifx_client_settings *s, ifx_buf *out)
{
    const char *secret = s->password ? s->password : s->token;
    ifx_buf cred;
    ifx_rc rc;

    if (!s->username) {
        /* No user: 1.x without auth ignores credentials; a 2.x/3.x v1-compatible endpoint
         * takes a token. */
        if (!secret)
            return IFX_OK;
        if ((rc = ifx_buf_puts(out, "Authorization: Token ")))
            return rc;
        return ifx_buf_puts(out, secret);
    }
    ifx_buf_init(&cred, 64 * 1024);
    if ((rc = ifx_buf_printf(&cred, "%s:%s", s->username, secret ? secret : "")) ||
        (rc = ifx_buf_puts(out, "Authorization: Basic ")) ||
        (rc = ifxi_base64_encode(cred.data, cred.len, out)))
        goto out;
out:
    /* The buffer held the password. */
    if (cred.data)
        memset(cred.data, 0, cred.alloc);
    ifx_buf_free(&cred);
    return rc;
}

static ifx_rc v1_query_request(const ifx_client_settings *s, ifx_query_lang lang, const char *query,
                               size_t len, ifx_result_format v3_format, ifx_query_request *q,
                               ifx_err *err)
{
    ifx_rc rc;
    (void)v3_format;
    if (lang != IFX_QUERY_INFLUXQL)
        return ifx_err_set(err, IFX_E_USAGE, "InfluxDB 1.x runs InfluxQL queries only");
    if ((rc = ifx_buf_puts(&q->path_and_query, "/query")))
        goto fail;
    /* A form body keeps long queries out of the URL and allows statements that write. */
    if ((rc = ifx_buf_puts(&q->body, "db=")) ||
        (rc = ifxi_http_url_append_escaped(&q->body, s->db, strlen(s->db))))
        goto fail;
    if (s->retention_policy && ((rc = ifx_buf_puts(&q->body, "&rp=")) ||
                                (rc = ifxi_http_url_append_escaped(&q->body, s->retention_policy,
                                                                   strlen(s->retention_policy)))))
        goto fail;
    if ((rc = ifx_buf_puts(&q->body, "&epoch=ns&q=")) ||
        (rc = ifxi_http_url_append_escaped(&q->body, query, len)))
        goto fail;
    q->content_type = "application/x-www-form-urlencoded";
    q->accept = "application/json";
    q->format = IFX_RESULT_V1_JSON;
    return IFX_OK;
fail:
    return ifxi_http_query_unbuilt(err, rc);
}

/* 1.x answers every error as {"error":"<msg>"}. A partial write ("partial write: ...") stored
 * the other points; Go parse errors quote each bad line; storage drops say only how many. */
static ifx_rc v1_read_write_error(const ifx_client_settings *s, int status, const char *body,
                                  size_t len, const char *lp, size_t lp_len, ifx_write_result *res)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    const char *msg = json_string_value(json_object_get(j, "error"));
    ifx_rc rc = IFX_OK;
    (void)s;
    if (!msg || (status != 400 && status != 207))
        goto out;
    size_t named = ifxi_http_read_go_parse_errors(msg, strlen(msg), lp, lp_len, res);
    if (strncmp(msg, "partial write:", 14) == 0) {
        const char *d = strstr(msg, "dropped=");
        if (d)
            res->unnamed_rejects = strtoull(d + 8, NULL, 10);
        rc = IFX_E_PARTIAL;
    } else if (named) {
        rc = IFX_E_REJECTED;
    }
out:
    json_decref(j);
    return rc;
}

/* True when the SHOW DATABASES answer lists db. */
static bool lists_database(const char *body, size_t len, const char *db, char *error, size_t cap)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    json_t *res = json_array_get(json_object_get(j, "results"), 0);
    const char *stmt_error = json_string_value(json_object_get(res, "error"));
    bool found = false;
    size_t i;
    json_t *row;

    error[0] = '\0';
    if (stmt_error)
        snprintf(error, cap, "%s", stmt_error);
    json_array_foreach(json_object_get(json_array_get(json_object_get(res, "series"), 0), "values"),
                       i, row)
    {
        const char *name = json_string_value(json_array_get(row, 0));
        if (name && strcmp(name, db) == 0)
            found = true;
    }
    json_decref(j);
    return found;
}

/* /ping answers without credentials, so prove them with SHOW DATABASES (it authenticates when
 * auth is on, and lists only what the user may use). A sink also needs the database: 1.x never
 * creates one on write, so every write to a missing one would fail until an operator acts. */
static ifx_rc v1_check_access(ifx_client *c, const ifx_client_settings *s, ifx_err *err)
{
    static const char q[] = "SHOW DATABASES";
    char stmt_error[256];
    ifx_buf body;
    ifx_result_format fmt;
    ifx_rc rc;

    ifx_buf_init(&body, 16u << 20);
    rc = ifx_client_query(c, IFX_QUERY_INFLUXQL, q, sizeof q - 1, 0, &body, &fmt, err);
    if (rc == IFX_E_AUTH) {
        ifx_err_prefix(err, "the server refused the credentials (keys username and password)");
        goto out;
    }
    if (rc)
        goto out;
    bool found =
        lists_database(body.data ? body.data : "", body.len, s->db, stmt_error, sizeof stmt_error);
    if (stmt_error[0]) {
        rc = ifx_err_set(err, IFX_E_AUTH, "SHOW DATABASES failed: %s", stmt_error);
        ifx_err_prefix(err, "the server refused the credentials (keys username and password)");
    } else if (s->for_write && !found) {
        rc = ifx_err_set(err, IFX_E_CONFIG,
                         "database \"%s\" does not exist%s (key db); InfluxDB 1.x does not create "
                         "it on write: CREATE DATABASE \"%s\"",
                         s->db, s->username ? " or the user may not use it" : "", s->db);
    }
out:
    ifx_buf_free(&body);
    return rc;
}

const ifx_transport ifxi_transport_v1 = {
    .version = IFX_VERSION_V1,
    .name = "InfluxDB 1.x",
    .write_target = v1_write_target,
    .auth_header = v1_auth_header,
    .precision_param = v1_precision,
    .query_request = v1_query_request,
    .default_lang = IFX_QUERY_INFLUXQL,
    .health_path = "/ping",
    .health_sends_auth = false,
    .check_access = v1_check_access,
    .read_write_error = v1_read_write_error,
};
