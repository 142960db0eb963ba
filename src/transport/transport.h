/* ifx — what a version transport (v1.c, v2.c, v3.c) provides to the HTTP engine (http.c).
 * A version file holds only what differs between server generations: URLs and parameters, the
 * authentication header, precision names, the query request shape, and how its error bodies
 * name rejected lines. Internal header. */
#ifndef IFX_TRANSPORT_H
#define IFX_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "ifx/buf.h"
#include "ifx/client.h"
#include "ifx/error.h"

/* The settings of a client that the version files read. Strings are owned by the client. */
typedef struct ifx_client_settings {
    char *base_url; /* without a trailing '/' */
    char *org, *bucket, *db, *retention_policy, *username, *password, *token;
    bool accept_partial, no_sync;
    bool v2_compat_write; /* v3: write through /api/v2/write */
    bool for_write;       /* a sink's client: the access check proves write access */
} ifx_client_settings;

/* A query request, as a version builds it. */
typedef struct ifx_query_request {
    ifx_buf path_and_query; /* "/api/v2/query?org=..." */
    ifx_buf body;
    const char *content_type;
    const char *accept; /* NULL: no Accept header at all */
    ifx_result_format format;
} ifx_query_request;

typedef struct ifx_transport {
    ifx_version version;
    const char *name; /* "InfluxDB 1.x", ... */
    /* Appends path and query string of a write with precision p. */
    ifx_rc (*write_target)(const ifx_client_settings *s, ifx_precision p, ifx_buf *out);
    /* Appends the Authorization header line ("Authorization: ..."), or nothing. */
    ifx_rc (*auth_header)(const ifx_client_settings *s, ifx_buf *out);
    /* The precision parameter value. */
    const char *(*precision_param)(ifx_precision p);
    /* Fills q for a query in lang (IFX_QUERY_DEFAULT already resolved by the caller). */
    ifx_rc (*query_request)(const ifx_client_settings *s, ifx_query_lang lang, const char *query,
                            size_t len, ifx_result_format v3_format, ifx_query_request *q,
                            ifx_err *err);
    ifx_query_lang default_lang;
    const char *health_path;
    bool health_sends_auth;
    /* After the health probe: one authenticated, read-only request that proves the credentials
     * and the target (ifx_client_health). NULL when the health probe already proves them. */
    ifx_rc (*check_access)(ifx_client *c, const ifx_client_settings *s, ifx_err *err);
    /* Reads a non-2xx (or 207) write answer: names the rejected lines in res and returns
     * IFX_E_PARTIAL when the rest of the batch was stored, IFX_E_REJECTED when nothing was, or
     * IFX_OK when the body says nothing about lines (the engine then classifies by status). */
    ifx_rc (*read_write_error)(const ifx_client_settings *s, int status, const char *body,
                               size_t len, const char *lp, size_t lp_len, ifx_write_result *res);
} ifx_transport;

extern const ifx_transport ifxi_transport_v1;
extern const ifx_transport ifxi_transport_v2;
extern const ifx_transport ifxi_transport_v3;

/* Shared helpers of the version files (http.c). */

/* The class of an HTTP status: 2xx OK; 408, 429, 5xx transient; 401, 403 auth; 413 too large;
 * any other status rejected. */
ifx_rc ifxi_http_classify_status(long status);

/* Appends s percent-encoded for a URL query component. */
ifx_rc ifxi_http_url_append_escaped(ifx_buf *out, const char *s, size_t len);
/* Appends "name=value" (value escaped), preceded by '?' or '&' as needed. */
ifx_rc ifxi_http_url_add_param(ifx_buf *out, const char *name, const char *value);
/* The error for a query request that could not be built: rc is IFX_E_NOMEM (out of memory) or
 * IFX_E_FULL (over the request's cap); returns rc. */
ifx_rc ifxi_http_query_unbuilt(ifx_err *err, ifx_rc rc);
/* Records a rejected line in res (copies message). */
ifx_rc ifxi_http_write_result_add_line(ifx_write_result *res, size_t line, const char *msg,
                                       size_t msg_len);
/* Finds the 1-based number of the line of lp equal to text, or 0. */
size_t ifxi_http_find_line(const char *lp, size_t lp_len, const char *text, size_t text_len);
/* Go servers (1.x, 2.x): names each line quoted in "unable to parse '<line>': <reason>" messages.
 * Returns how many it named. */
size_t ifxi_http_read_go_parse_errors(const char *msg, size_t len, const char *lp, size_t lp_len,
                                      ifx_write_result *res);

/* One GET on the client's server, for probes (internal to the transport layer). */
typedef struct ifx_http_reply {
    long status; /* 0 when no answer came */
    ifx_buf *body;
    char version[64]; /* X-Influxdb-Version */
    char build[32];   /* X-Influxdb-Build */
} ifx_http_reply;

ifx_rc ifxi_http_get(ifx_client *c, const char *path, bool send_auth, ifx_http_reply *reply,
                     ifx_err *err);

/* One probe request with a body (content_type may be NULL), always authenticated. */
ifx_rc ifxi_http_probe(ifx_client *c, const char *method, const char *path, const char *body,
                       size_t len, const char *content_type, ifx_http_reply *reply, ifx_err *err);

/* Sets err from a non-2xx answer: "HTTP <status> from <path>: <server message>". Returns rc. */
ifx_rc ifxi_http_status_error(const char *path_and_query, long status, const ifx_buf *body,
                              ifx_rc rc, ifx_err *err);

#endif
