/* ifx — InfluxDB 3 transport: /api/v3/write_lp (or /api/v2/write), /api/v3/query_sql and
 * query_influxql (JSONL), /health with the token, Bearer auth.
 * See ../shared/spec/influxdb-http-api.md §2. */
#include <jansson.h>
#include <string.h>

#include "core/codec.h"
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
            (rc = ifxi_http_url_add_param(out, "bucket", s->db)))
            return rc;
        return ifxi_http_url_add_param(out, "precision", ifx_precision_param(IFX_VERSION_V2, p));
    }
    if ((rc = ifx_buf_puts(out, "/api/v3/write_lp")) ||
        (rc = ifxi_http_url_add_param(out, "db", s->db)) ||
        (rc = ifxi_http_url_add_param(out, "precision", v3_precision(p))) ||
        (rc = ifxi_http_url_add_param(out, "accept_partial", s->accept_partial ? "true" : "false")))
        return rc;
    return ifxi_http_url_add_param(out, "no_sync", s->no_sync ? "true" : "false");
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
        (rc = ifxi_json_append_string(&q->body, s->db, strlen(s->db))) ||
        (rc = ifx_buf_puts(&q->body, ",\"q\":")) ||
        (rc = ifxi_json_append_string(&q->body, query, len)) ||
        (rc = ifx_buf_printf(&q->body, ",\"format\":\"%s\"}", format)))
        return ifxi_http_query_unbuilt(err, rc);
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
        ifxi_http_write_result_add_line(res, (size_t)json_integer_value(n), m ? m : "rejected",
                                        m ? strlen(m) : 8);
}

/* ---- reading the head of an answer cut at IFX_MAX_ERROR_BODY -------------------------------
 * A v3 server lists every refused line (about 150 bytes each), so a conflict across a few
 * hundred lines is longer than what is kept. jansson refuses the cut text, so the "data" array
 * is walked here by nesting only, and each complete entry is handed to jansson alone. Every
 * step checks the end of the text: the cut may fall anywhere. */

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Just past the closing quote of the string opening at p, or NULL when the text ends first. */
static const char *string_end(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\') {
            if (++p == end)
                return NULL;
        } else if (*p == '"') {
            return p + 1;
        }
    }
    return NULL;
}

/* Just past the JSON value starting at p, or NULL when the text ends inside it. */
static const char *value_end(const char *p, const char *end)
{
    size_t depth = 0;
    if (p < end && *p != '"' && *p != '{' && *p != '[') {
        /* a number or a literal: it may be cut too, so it counts only if something follows */
        while (p < end && !memchr(",}] \t\r\n", *p, 7))
            p++;
        return p < end ? p : NULL;
    }
    while (p < end) {
        if (*p == '"') {
            if (!(p = string_end(p, end)))
                return NULL;
            if (depth == 0)
                return p;
            continue;
        }
        if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            if (depth == 0)
                return NULL;
            if (--depth == 0)
                return p + 1;
        }
        p++;
    }
    return NULL;
}

static void add_entry_text(const char *p, const char *e, ifx_write_result *res)
{
    json_t *o = json_loadb(p, (size_t)(e - p), 0, NULL);
    if (json_is_object(o))
        add_line_error(o, res);
    json_decref(o);
}

/* Names the lines of every complete entry of the top-level "data" of a cut body. Returns
 * whether "data" was found and is an array in *array. */
static bool read_cut_body(const char *body, size_t len, bool *array, ifx_write_result *res)
{
    const char *end = body + len, *p = skip_space(body, end);
    if (p == end || *p++ != '{')
        return false;
    for (;;) {
        const char *key = skip_space(p, end), *key_end;
        if (key == end || *key != '"' || !(key_end = string_end(key, end)))
            return false;
        p = skip_space(key_end, end);
        if (p == end || *p != ':')
            return false;
        p = skip_space(p + 1, end);
        if (key_end - key == 6 && memcmp(key, "\"data\"", 6) == 0)
            break;
        if (!(p = value_end(p, end)))
            return false;
        p = skip_space(p, end);
        if (p == end || *p++ != ',')
            return false;
    }
    if (p < end && *p == '{') {
        const char *e = value_end(p, end);
        if (e)
            add_entry_text(p, e, res);
        *array = false;
        return true;
    }
    if (p == end || *p++ != '[')
        return false;
    *array = true;
    for (;;) {
        p = skip_space(p, end);
        if (p < end && *p == ',')
            p = skip_space(p + 1, end);
        const char *e = p < end && *p == '{' ? value_end(p, end) : NULL;
        if (!e)
            return true; /* the end of the array, or the entry the cut fell in */
        add_entry_text(p, e, res);
        p = e;
    }
}

/* v3 names rejected lines in "data": an array when the other lines were stored
 * (accept_partial=true, 400 or 422), a single object when nothing was (accept_partial=false).
 * Older servers may send an array in both cases; the error text is not relied on. */
static ifx_rc v3_read_write_error(const ifx_client_settings *s, int status, const char *body,
                                  size_t len, const char *lp, size_t lp_len, ifx_write_result *res)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    json_t *data = json_object_get(j, "data");
    bool array = json_is_array(data), found = array || json_is_object(data);
    size_t i;
    json_t *e;
    (void)lp;
    (void)lp_len;
    (void)status;
    if (array)
        json_array_foreach(data, i, e) add_line_error(e, res);
    else if (json_is_object(data))
        add_line_error(data, res);
    else if (!j && res->truncated)
        found = read_cut_body(body, len, &array, res);
    json_decref(j);
    if (!found)
        return IFX_OK;
    return array && s->accept_partial && !s->v2_compat_write ? IFX_E_PARTIAL : IFX_E_REJECTED;
}

const ifx_transport ifxi_transport_v3 = {
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
