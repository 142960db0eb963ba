/* ifx — InfluxDB 3 transport: /api/v3/write_lp (or /api/v2/write), /api/v3/query_sql and
 * query_influxql (JSONL), /health with the token, Bearer auth.
 * See ../shared/spec/influxdb-http-api.md §2. */
#include <jansson.h>
#include <string.h>

#include "ifx/codec.h"
#include "transport/transport.h"

static const char *v3_precision(ifx_precision p)
{
    return ifx_precision_param(IFX_VERSION_V3, p);
}

static ifx_rc v3_write_target(const ifx_client_settings *s, ifx_precision p, ifx_buf *out)
{
    ifx_rc rc;
    if (s->v2_compat_write) {
        /* The v2-compatible endpoint is all or nothing and takes the short precision names. */
        if ((rc = ifx_buf_puts(out, "/api/v2/write")) ||
            (rc = ifx_url_add_param(out, "bucket", s->db)))
            return rc;
        return ifx_url_add_param(out, "precision", ifx_precision_param(IFX_VERSION_V2, p));
    }
    if ((rc = ifx_buf_puts(out, "/api/v3/write_lp")) ||
        (rc = ifx_url_add_param(out, "db", s->db)) ||
        (rc = ifx_url_add_param(out, "precision", v3_precision(p))) ||
        (rc = ifx_url_add_param(out, "accept_partial", s->accept_partial ? "true" : "false")))
        return rc;
    return ifx_url_add_param(out, "no_sync", s->no_sync ? "true" : "false");
}

static ifx_rc v3_auth_header(const ifx_client_settings *s, ifx_buf *out)
{
    ifx_rc rc;
    if (!s->token)
        return IFX_OK;
    if ((rc = ifx_buf_puts(out, "Authorization: Bearer ")))
        return rc;
    return ifx_buf_puts(out, s->token);
}

static ifx_rc v3_query_request(const ifx_client_settings *s, ifx_query_lang lang, const char *query,
                               size_t len, ifx_result_format v3_format, ifx_query_request *q,
                               ifx_err *err)
{
    const char *format = "jsonl";
    ifx_rc rc;

    if (lang != IFX_QUERY_SQL && lang != IFX_QUERY_INFLUXQL)
        return ifx_err_set(err, IFX_E_USAGE, "InfluxDB 3 runs SQL or InfluxQL queries");
    q->format = IFX_RESULT_V3_JSONL;
    if (v3_format == IFX_RESULT_V3_JSON || v3_format == IFX_RESULT_V3_CSV) {
        q->format = v3_format;
        format = v3_format == IFX_RESULT_V3_JSON ? "json" : "csv";
    }
    if ((rc = ifx_buf_puts(&q->path_and_query, lang == IFX_QUERY_SQL ? "/api/v3/query_sql"
                                                                     : "/api/v3/query_influxql")) ||
        (rc = ifx_buf_puts(&q->body, "{\"db\":")) ||
        (rc = ifx_json_append_string(&q->body, s->db, strlen(s->db))) ||
        (rc = ifx_buf_puts(&q->body, ",\"q\":")) ||
        (rc = ifx_json_append_string(&q->body, query, len)) ||
        (rc = ifx_buf_printf(&q->body, ",\"format\":\"%s\"}", format)))
        return ifx_err_set(err, rc, "query too large to send");
    q->content_type = "application/json";
    /* v3 answers 400 to most Accept values, application/jsonl included: send none. */
    q->accept = NULL;
    return IFX_OK;
}

static void add_line_error(json_t *e, ifx_write_result *res)
{
    json_t *n = json_object_get(e, "line_number");
    const char *m = json_string_value(json_object_get(e, "error_message"));
    if (json_is_integer(n) && json_integer_value(n) > 0)
        ifx_write_result_add_line(res, (size_t)json_integer_value(n), m ? m : "rejected",
                                  m ? strlen(m) : 8);
}

/* v3 names rejected lines in "data": an array when the other lines were stored
 * (accept_partial=true, 400 or 422), a single object when nothing was (accept_partial=false).
 * Older servers may send an array in both cases; the error text is not relied on. */
static ifx_rc v3_read_write_error(const ifx_client_settings *s, int status, const char *body,
                                  size_t len, const char *lp, size_t lp_len, ifx_write_result *res)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    json_t *data = json_object_get(j, "data");
    ifx_rc rc = IFX_OK;
    size_t i;
    json_t *e;
    (void)lp;
    (void)lp_len;
    (void)status;
    if (json_is_array(data)) {
        json_array_foreach(data, i, e) add_line_error(e, res);
        rc = s->accept_partial && !s->v2_compat_write ? IFX_E_PARTIAL : IFX_E_REJECTED;
    } else if (json_is_object(data)) {
        add_line_error(data, res);
        rc = IFX_E_REJECTED;
    }
    json_decref(j);
    return rc;
}

const ifx_transport ifx_transport_v3 = {
    .version = IFX_VERSION_V3,
    .name = "InfluxDB 3",
    .write_target = v3_write_target,
    .auth_header = v3_auth_header,
    .precision_param = v3_precision,
    .query_request = v3_query_request,
    .default_lang = IFX_QUERY_SQL,
    .health_path = "/health",
    .health_sends_auth = true,
    .read_write_error = v3_read_write_error,
};
