/* ifx — talking to an InfluxDB server: one HTTP engine (libcurl) and a transport per server
 * generation behind one set of operations: write line protocol, run a query, check health (which
 * proves the credentials too), each mapped onto the endpoints, auth header and precision names of
 * the server's version (1.x /write and /query; 2.x /api/v2/write and /api/v2/query; 3.x
 * /api/v3/write_lp, /api/v3/query_sql and /api/v3/query_influxql).
 *
 *     ifx_client *c;
 *     ifx_client_new(cfg.version, &cfg.http, &c, &err); // copies what it needs
 *     ifx_write_result res;
 *     ifx_write_result_init(&res);
 *     rc = ifx_client_write(c, lp, len, IFX_PRECISION_NS, &res, &err);
 *     ...
 *     ifx_write_result_free(&res);
 *     ifx_client_free(c);
 *
 * One call is one HTTP request: retries, backoff and the circuit breaker are layered on top
 * (ifx/resilience.h). Every answer is classified into an ifx_rc:
 *   IFX_OK            2xx (a 207 counts as partial, should a proxy send one);
 *   IFX_E_PARTIAL     some lines rejected: v3 400/422 with a per-line "data" list; v1 400 and
 *                     v2 422 "partial write" bodies. res->lines names the rejected lines;
 *   IFX_E_TRANSIENT   connection errors, timeouts, 408, 429, 5xx (res->retry_after_ms set when
 *                     the server sent Retry-After, in seconds or as an HTTP date);
 *   IFX_E_AUTH        401, 403;
 *   IFX_E_TOO_LARGE   413;
 *   IFX_E_REJECTED    any other 4xx (the whole request refused).
 * err->http_status holds the status and err->msg a one-line summary with the server's message;
 * res->body the raw response body (capped). Secrets never appear in either.
 *
 * Thread safety: an ifx_client may be used from many threads at once. It keeps a small pool of
 * libcurl handles (each with its own keep-alive connections) guarded by a mutex; a request takes
 * one handle for its duration.
 */
#ifndef IFX_CLIENT_H
#define IFX_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ifx/export.h"
#include "ifx/buf.h"
#include "ifx/error.h"
#include "ifx/resilience.h"
#include "ifx/rows.h"
#include "ifx/transport_options.h"
#include "ifx/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest response body kept (bytes). Query answers up to this size are read whole. */
#define IFX_MAX_RESPONSE_BODY (256u << 20)
/* Largest error body kept (bytes). A longer answer to a write is still read whole, but only
 * its start is kept (ifx_write_result.truncated); other requests fail on it. */
#define IFX_MAX_ERROR_BODY (64u << 10)

typedef struct ifx_client ifx_client;

/* One rejected line of a partial write. */
typedef struct ifx_line_error {
    size_t line;   /* 1-based line number in the request body */
    char *message; /* the server's reason (owned) */
} ifx_line_error;

typedef struct ifx_write_result {
    int status;            /* HTTP status, 0 when no answer came */
    ifx_line_error *lines; /* rejected lines the server named, in body order */
    size_t nlines, cap_lines;
    size_t unnamed_rejects;  /* rejected lines the server counted but did not name */
    uint64_t retry_after_ms; /* from Retry-After; 1 for "now"; 0 when absent or unreadable */
    ifx_buf body;            /* the response body, at most IFX_MAX_ERROR_BODY bytes */
    /* The body was longer than IFX_MAX_ERROR_BODY and only its start is in body (the rest was
     * read and dropped): the server may have refused more lines than lines names. */
    bool truncated;
} ifx_write_result;

IFX_EXTERN void ifx_write_result_init(ifx_write_result *r);
IFX_EXTERN void
ifx_write_result_reset(ifx_write_result *r); /* empties it for reuse, keeps memory */
IFX_EXTERN void ifx_write_result_free(ifx_write_result *r);

/* Creates a client of a server generation (v1, v2 or v3; AUTO must be resolved first with
 * ifx_detect_resolve_version) with the options opts (a configuration's are &cfg.http). Copies
 * every value it needs; opts may be freed afterwards. IFX_E_CONFIG without opts->url. Proxies
 * come from the standard environment variables unless opts->ignore_proxy_env. */
IFX_EXTERN ifx_rc ifx_client_new(ifx_version version, const ifx_transport_options *opts,
                                 ifx_client **out, ifx_err *err);
IFX_EXTERN void ifx_client_free(ifx_client *c);

/* Aborts every request in flight and makes every later one fail at once (IFX_E_TRANSIENT,
 * "cancelled"). For shutdown: safe from any thread, not undoable. */
IFX_EXTERN void ifx_client_cancel(ifx_client *c);

/* Request latency: every HTTP attempt (retries included, failures too) is timed from the
 * start of the request to the end of the answer and counted under its kind. The buckets are
 * Prometheus-style upper bounds in seconds (ifx_latency_bounds); bucket[i] counts the requests
 * that took at most ifx_latency_bounds[i] and more than the bound before it; the last bucket
 * (index IFX_LATENCY_BOUNDS) counts the rest. */
typedef enum ifx_request_kind {
    IFX_REQUEST_WRITE = 0,
    IFX_REQUEST_QUERY,
    IFX_REQUEST_PROBE, /* health checks */
    IFX_REQUEST_KINDS
} ifx_request_kind;

#define IFX_LATENCY_BOUNDS 12
IFX_EXTERN extern const double ifx_latency_bounds[IFX_LATENCY_BOUNDS];

typedef struct ifx_latency {
    uint64_t count;
    uint64_t sum_us; /* total time in microseconds */
    uint64_t bucket[IFX_LATENCY_BOUNDS + 1];
} ifx_latency;

/* A snapshot of the latency counters of one kind. Safe from any thread while requests run
 * (each counter is read atomically; the set is not one instant). */
IFX_EXTERN void ifx_client_latency(const ifx_client *c, ifx_request_kind kind, ifx_latency *out);

/* The server generation this client talks to. */
IFX_EXTERN ifx_version ifx_client_version(const ifx_client *c);

/* Writes a batch of line protocol (lines separated by '\n', no blank or comment lines) with the
 * given timestamp precision. One HTTP request; classified as described above. */
IFX_EXTERN ifx_rc ifx_client_write(ifx_client *c, const char *lp, size_t len,
                                   ifx_precision precision, ifx_write_result *res, ifx_err *err);

/* The query language of a request: v1 InfluxQL, v2 Flux, v3 SQL or InfluxQL. */
typedef enum ifx_query_lang {
    IFX_QUERY_DEFAULT = 0, /* the version's own: InfluxQL on v1, Flux on v2, SQL on v3 */
    IFX_QUERY_SQL,
    IFX_QUERY_INFLUXQL,
    IFX_QUERY_FLUX
} ifx_query_lang;

/* Runs a query and leaves the raw answer in body (reset first) with its format in *fmt, ready
 * for ifx_rows_read. v1: /query (epoch=ns); v2: /api/v2/query, annotated CSV; v3: query_sql or
 * query_influxql with format=jsonl (or v3_format when not 0: JSON or CSV). Status classes as for
 * writes; a 200 answer with an in-band error is found by the reader. */
IFX_EXTERN ifx_rc ifx_client_query(ifx_client *c, ifx_query_lang lang, const char *query,
                                   size_t len, ifx_result_format v3_format, ifx_buf *body,
                                   ifx_result_format *fmt, ifx_err *err);

/* Runs a query as ifx_client_query does, and reads its answer as it arrives: each row is handed
 * to fn (see ifx_rows_read) while the transfer runs, in the caller's thread, and only the record
 * in progress is kept between chunks (at most max_record bytes, 0 for no cap; a v3 JSON answer,
 * one array, is still kept whole until it ends; see ifx_rows_stream). reader is borrowed for the
 * call. *bytes (may be NULL) gets the bytes of the answer read. Errors: as ifx_client_query for the
 * request and the status; a reader error (IFX_E_INVALID or IFX_E_REJECTED, the byte offset counted
 * from the start of the answer) or fn's code stops the transfer and is returned as is. On any
 * error, rows may already have been delivered: treat the whole answer as failed. ifx_client_cancel
 * interrupts the transfer (IFX_E_TRANSIENT). */
IFX_EXTERN ifx_rc ifx_client_query_rows(ifx_client *c, ifx_query_lang lang, const char *query,
                                        size_t len, ifx_result_format v3_format,
                                        ifx_rows_reader *reader, size_t max_record, ifx_row_fn fn,
                                        void *ud, uint64_t *bytes, ifx_err *err);

/* Checks that the server is up, the credentials work and the target is there: v1 /ping, then
 * SHOW DATABASES (authenticated when auth is on; a sink's database must be listed, since 1.x never
 * creates one on write); v2 /health, then for a sink an empty write to its bucket (2.x checks
 * token, org, bucket and write permission before the body, and stores nothing), for a source a
 * listing of one bucket of its org; v3 /health with the token (v3 authenticates it, and creates a
 * database on the first write). A refusal names the key to fix: IFX_E_AUTH for credentials,
 * IFX_E_CONFIG for an org, bucket or database that is not there. */
IFX_EXTERN ifx_rc ifx_client_health(ifx_client *c, ifx_err *err);

/* The health probe at start: ifx_client_health up to p->max_attempts times (0 counts as 1),
 * waiting between tries with full-jitter backoff from p->base_ns up to p->cap_ns (a
 * configuration's max_open_retries, retry_delay and open_retry_max_delay). Stops at once on an
 * auth failure or a refusal (retrying cannot fix credentials or a wrong URL path). sleep may be
 * NULL (ifx_sleep); *attempts (when not NULL) gets the number of probes made. */
IFX_EXTERN ifx_rc ifx_client_wait_healthy(ifx_client *c, const ifx_retry_policy *p,
                                          ifx_sleep_fn sleep, void *sleep_ud, uint32_t *attempts,
                                          ifx_err *err);

/* What ifx_detect found. */
typedef struct ifx_detect_result {
    ifx_version version;
    char product[64]; /* "InfluxDB 1.x", "InfluxDB 2.x OSS", "InfluxDB 3 Core", ... */
    char server_version[64];
    char build[32];          /* X-Influxdb-Build: "OSS", "Core", "Enterprise", or "" */
    bool ping_needs_auth;    /* /ping, asked without credentials, answered 401: only a secured 3.x
                                does. false says nothing of writes and queries, which 2.x always
                                and 1.x with auth on refuse without credentials */
    bool token_checked;      /* credentials were given and token_endpoint was asked with them */
    bool token_accepted;     /* ... and answered 2xx (a server without auth accepts any) */
    char token_endpoint[64]; /* the request that checked them: v1 "GET /query?q=SHOW DATABASES",
                                v2 "GET /api/v2/buckets?limit=1", v3 "GET /health" */
} ifx_detect_result;

/* Asks the server at opts->url which generation it is: /ping headers (X-Influxdb-Version,
 * X-Influxdb-Build) and status (204 on 1.x/2.x, 200 with a JSON body on 3.x, 401 on a secured
 * 3.x), asked first without credentials. With credentials (opts->token; on 1.x opts->username and
 * opts->password, or a token written USER:PASSWORD), it then asks an endpoint of the version found
 * that needs them on every secured server, and reports whether they were accepted. Uses opts'
 * timeout, TLS and proxy settings. Borrows opts. */
IFX_EXTERN ifx_rc ifx_detect(const ifx_transport_options *opts, ifx_detect_result *out,
                             ifx_err *err);

/* Resolves *version when it is AUTO by asking the server (ifx_detect with opts), then checks
 * that the options the found version needs are there (v1 and v3: db; v2: org and token, and
 * bucket when opts->for_write), naming the configuration keys. Does nothing for an explicit
 * version. found may be NULL. A configuration calls it as (&cfg.version, &cfg.http, ...). */
IFX_EXTERN ifx_rc ifx_detect_resolve_version(ifx_version *version,
                                             const ifx_transport_options *opts,
                                             ifx_detect_result *found, ifx_err *err);

#ifdef __cplusplus
}
#endif
#endif
