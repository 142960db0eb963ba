/* Test support: /__admin calls (see admin.h). */
#include "admin.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ifx/buf.h"

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    return ifx_buf_append(ud, p, size * n) ? 0 : size * n;
}

char *admin_text(int port, const char *method, const char *path, const char *body)
{
    char url[512];
    ifx_buf reply;
    CURL *c = curl_easy_init();

    ifx_buf_init(&reply, 64u << 20);
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(c) != CURLE_OK) {
        fprintf(stderr, "admin %s %s failed\n", method, path);
        abort();
    }
    curl_easy_cleanup(c);
    return ifx_buf_detach(&reply);
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
