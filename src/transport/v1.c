/* ifx — InfluxDB 1.x transport: /write, /query (InfluxQL, JSON), /ping, Basic auth.
 * See ../shared/spec/influxdb-http-api.md §4. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ifx/codec.h"
#include "transport/transport.h"

static const char *v1_precision(ifx_precision p)
{
    return ifx_precision_param(IFX_VERSION_V1, p);
}

static ifx_rc v1_write_target(const ifx_client_settings *s, ifx_precision p, ifx_buf *out)
{
    ifx_rc rc;
    if ((rc = ifx_buf_puts(out, "/write")) || (rc = ifx_url_add_param(out, "db", s->db)))
        return rc;
    if (s->retention_policy && (rc = ifx_url_add_param(out, "rp", s->retention_policy)))
        return rc;
    /* 1.x reads any unknown precision, "us" included, as nanoseconds: always send its own
     * names. */
    return ifx_url_add_param(out, "precision", v1_precision(p));
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
        (rc = ifx_base64_encode(cred.data, cred.len, out)))
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
        (rc = ifx_url_append_escaped(&q->body, s->db, strlen(s->db))))
        goto fail;
    if (s->retention_policy &&
        ((rc = ifx_buf_puts(&q->body, "&rp=")) ||
         (rc = ifx_url_append_escaped(&q->body, s->retention_policy, strlen(s->retention_policy)))))
        goto fail;
    if ((rc = ifx_buf_puts(&q->body, "&epoch=ns&q=")) ||
        (rc = ifx_url_append_escaped(&q->body, query, len)))
        goto fail;
    q->content_type = "application/x-www-form-urlencoded";
    q->accept = "application/json";
    q->format = IFX_RESULT_V1_JSON;
    return IFX_OK;
fail:
    return ifx_err_set(err, rc, "query too large to send");
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
    size_t named = ifx_read_go_parse_errors(msg, strlen(msg), lp, lp_len, res);
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

const ifx_transport ifx_transport_v1 = {
    .version = IFX_VERSION_V1,
    .name = "InfluxDB 1.x",
    .write_target = v1_write_target,
    .auth_header = v1_auth_header,
    .precision_param = v1_precision,
    .query_request = v1_query_request,
    .default_lang = IFX_QUERY_INFLUXQL,
    .health_path = "/ping",
    .health_sends_auth = false,
    .read_write_error = v1_read_write_error,
};
