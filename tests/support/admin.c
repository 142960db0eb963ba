/* Test support: /__admin calls and writes to the test server (see admin.h). */
#include "admin.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ifx/buf.h"
#include "ifx/client.h"
#include "ifx/config.h"

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    return ifx_buf_append(ud, p, size * n) ? 0 : size * n;
}

char *http_request(int port, const char *method, const char *path, const char *const *headers,
                   const char *body, long *status, size_t *len)
{
    char url[2048];
    ifx_buf reply;
    struct curl_slist *h = NULL;
    CURL *c = curl_easy_init();

    ifx_buf_init(&reply, 64u << 20);
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    for (size_t i = 0; headers && headers[i]; i++)
        h = curl_slist_append(h, headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(c) != CURLE_OK) {
        fprintf(stderr, "%s %s failed\n", method, path);
        abort();
    }
    if (status)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (len)
        *len = reply.len;
    if (!reply.data)
        return calloc(1, 1);
    return ifx_buf_detach(&reply);
}

char *admin_text(int port, const char *method, const char *path, const char *body)
{
    return http_request(port, method, path, NULL, body, NULL, NULL);
}

json_t *admin_call(int port, const char *method, const char *path, const char *body)
{
    char *text = admin_text(port, method, path, body);
    json_t *j = text && *text ? json_loadb(text, strlen(text), 0, NULL) : NULL;
    if (text && *text && !j) {
        fprintf(stderr, "admin %s %s: the answer is not JSON jansson can read\n", method, path);
        abort();
    }
    free(text);
    return j;
}

void admin_write_v3(int port, const char *db, const char *token, const char *lp, size_t len)
{
    char json[512];
    ifx_config cfg;
    ifx_client *c;
    ifx_write_result res;
    ifx_err e;
    snprintf(json, sizeof json,
             "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"%s\",\"token\":"
             "\"%s\"}",
             port, db, token);
    if (ifx_config_parse_json(&cfg, IFX_ROLE_SINK, json, strlen(json), NULL, &e) ||
        ifx_client_new(cfg.version, &cfg.http, &c, &e)) {
        fprintf(stderr, "admin write to %s: %s\n", db, e.msg);
        abort();
    }
    ifx_write_result_init(&res);
    if (ifx_client_write(c, lp, len, IFX_PRECISION_NS, &res, &e)) {
        fprintf(stderr, "admin write to %s: %s\n", db, e.msg);
        abort();
    }
    ifx_write_result_free(&res);
    ifx_client_free(c);
    ifx_config_free(&cfg);
}
