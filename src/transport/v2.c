/* ifx — InfluxDB 2.x transport: /api/v2/write, /api/v2/query (Flux, annotated CSV), /health,
 * Token auth. See ../shared/spec/influxdb-http-api.md §3. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "transport/transport.h"

static const char *v2_precision(ifx_precision p)
{
    return ifx_precision_param(IFX_VERSION_V2, p);
}

static ifx_rc v2_write_target(const ifx_client_settings *s, ifx_precision p, ifx_buf *out)
{
    ifx_rc rc;
    if ((rc = ifx_buf_puts(out, "/api/v2/write")) ||
        (rc = ifxi_http_url_add_param(out, "org", s->org)) ||
        (rc = ifxi_http_url_add_param(out, "bucket", s->bucket)))
        return rc;
    return ifxi_http_url_add_param(out, "precision", v2_precision(p));
}

static ifx_rc v2_auth_header(const ifx_client_settings *s, ifx_buf *out)
{
    ifx_rc rc;
    if (!s->token)
        return IFX_OK;
    /* Early 2.0.x servers accept only the Token scheme. */
    if ((rc = ifx_buf_puts(out, "Authorization: Token ")))
        return rc;
    return ifx_buf_puts(out, s->token);
}

static ifx_rc v2_query_request(const ifx_client_settings *s, ifx_query_lang lang, const char *query,
                               size_t len, ifx_result_format v3_format, ifx_query_request *q,
                               ifx_err *err)
{
    ifx_rc rc;
    (void)v3_format;
    if (lang != IFX_QUERY_FLUX)
        return ifx_err_set(err, IFX_E_USAGE, "InfluxDB 2.x runs Flux queries only");
    if ((rc = ifx_buf_puts(&q->path_and_query, "/api/v2/query")) ||
        (rc = ifxi_http_url_add_param(&q->path_and_query, "org", s->org)) ||
        (rc = ifx_buf_puts(&q->body, "{\"query\":")) ||
        (rc = ifxi_json_append_string(&q->body, query, len)) ||
        /* Annotations must be asked for: without them 2.x sends untyped CSV. */
        (rc = ifx_buf_puts(&q->body,
                           ",\"type\":\"flux\",\"dialect\":{\"header\":true,\"delimiter\":\",\","
                           "\"annotations\":[\"datatype\",\"group\",\"default\"],"
                           "\"commentPrefix\":\"#\",\"dateTimeFormat\":\"RFC3339\"}}")))
        return ifxi_http_query_unbuilt(err, rc);
    q->content_type = "application/json";
    q->accept = "application/csv";
    q->format = IFX_RESULT_V2_CSV;
    return IFX_OK;
}

/* 2.x errors are {"code":..,"message":..}. Parsing is all or nothing (400, each bad line
 * quoted); storage-level partial writes are 422 with only a count of dropped points. */
static ifx_rc v2_read_write_error(const ifx_client_settings *s, int status, const char *body,
                                  size_t len, const char *lp, size_t lp_len, ifx_write_result *res)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    const char *msg = json_string_value(json_object_get(j, "message"));
    ifx_rc rc = IFX_OK;
    (void)s;
    if (!msg)
        goto out;
    if ((status == 422 || status == 207) && strstr(msg, "partial write")) {
        const char *d = strstr(msg, "dropped=");
        res->unnamed_rejects = d ? strtoull(d + 8, NULL, 10) : 0;
        rc = IFX_E_PARTIAL;
    } else if (status == 400 && ifxi_http_read_go_parse_errors(msg, strlen(msg), lp, lp_len, res)) {
        rc = IFX_E_REJECTED;
    }
out:
    json_decref(j);
    return rc;
}

/* /health answers without a token. A sink proves the token, the org, the bucket and its write
 * permission with an empty write: 2.x checks all four before it reads the body, and stores
 * nothing (2.7.12 answers 204; the spec has some versions refuse the empty body with 400 "writing
 * requires points", which proves the same). A source proves the token and the
 * org by listing at most one bucket of the org (its own bucket is named in its query). */
static ifx_rc v2_check_access(ifx_client *c, const ifx_client_settings *s, ifx_err *err)
{
    ifx_buf target, body;
    ifx_http_reply r = {.body = &body};
    ifx_rc rc;

    ifx_buf_init(&target, 64 * 1024);
    ifx_buf_init(&body, IFX_MAX_ERROR_BODY);
    if (s->for_write) {
        if ((rc = v2_write_target(s, IFX_PRECISION_NS, &target)))
            goto out;
        rc = ifxi_http_probe(c, "POST", target.data, "", 0, "text/plain; charset=utf-8", &r, err);
    } else {
        if ((rc = ifx_buf_puts(&target, "/api/v2/buckets")) ||
            (rc = ifxi_http_url_add_param(&target, "org", s->org)) ||
            (rc = ifxi_http_url_add_param(&target, "limit", "1")))
            goto out;
        rc = ifxi_http_get(c, target.data, true, &r, err);
    }
    if (rc)
        goto out;
    if (r.status == 200 || r.status == 204 ||
        (s->for_write && r.status == 400 && body.data && strstr(body.data, "requires points")))
        goto out;
    if ((rc = ifxi_http_classify_status(r.status)) == IFX_OK)
        rc = IFX_E_REJECTED; /* a status no class covers: still not access */
    ifxi_http_status_error(target.data, r.status, &body, rc, err);
    if (r.status == 401)
        ifx_err_prefix(err, "the server refused the token (key token)");
    else if (r.status == 403)
        ifx_err_prefix(err, "the token may not write to bucket \"%s\" (key token)", s->bucket);
    else if (r.status == 404 && s->for_write)
        ifx_err_prefix(err, "org \"%s\" or bucket \"%s\" not found (keys org and bucket)", s->org,
                       s->bucket);
    else if (r.status == 404)
        ifx_err_prefix(err, "org \"%s\" not found (key org)", s->org);
    if (rc == IFX_E_REJECTED)
        rc = IFX_E_CONFIG; /* retrying cannot fix a wrong org or bucket */
out:
    ifx_buf_free(&target);
    ifx_buf_free(&body);
    return rc;
}

const ifx_transport ifxi_transport_v2 = {
    .version = IFX_VERSION_V2,
    .name = "InfluxDB 2.x",
    .write_target = v2_write_target,
    .auth_header = v2_auth_header,
    .precision_param = v2_precision,
    .query_request = v2_query_request,
    .default_lang = IFX_QUERY_FLUX,
    .health_path = "/health",
    .health_sends_auth = false, /* 2.x ignores it there: check_access proves the token */
    .check_access = v2_check_access,
    .read_write_error = v2_read_write_error,
};
