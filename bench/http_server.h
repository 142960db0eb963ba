/* bench/http_server — a tiny in-process HTTP/1.1 server for the benchmarks.
 *
 * It listens on 127.0.0.1 at a port the kernel picks, serves each connection on a thread of its
 * own (keep-alive, one request at a time, at most 16 connections at once), reads request bodies
 * by Content-Length (no chunked requests) and answers with what a handler chooses: a status,
 * optional headers and a body sent with Content-Length (none for 1xx, 204 and 304; no body for
 * HEAD). It is as cheap as it can be for the client it serves: a benchmark measures the client,
 * so work that the answer does not depend on (counting, checking) belongs in the `after` hook,
 * which runs once the answer is on its way. The Python test server is far slower than ifx.
 *
 * Its threads never count in alloc_track's allocation figure (alloc_track_exclude_thread).
 *
 * Thread safety: the handler and the hooks are called on the connection threads, several at once
 * when the client opens several connections. bench_http_counters may be called from any thread.
 */
#ifndef IFX_BENCH_HTTP_SERVER_H
#define IFX_BENCH_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct bench_http_request {
    const char *method;  /* "GET", "POST", ...: NUL-terminated */
    const char *target;  /* the path and query string as sent: NUL-terminated */
    const char *headers; /* the header lines, each ending in CRLF: NUL-terminated */
    const char *body;    /* body_len bytes, not NUL-terminated */
    size_t body_len;
    /* A slot for the handler's per-connection state: NULL on the connection's first request,
     * kept across its requests, passed to the config's conn_end when the connection ends. */
    void **conn_state;
} bench_http_request;

typedef struct bench_http_response {
    int status;                /* left 0: 200 */
    const char *content_type;  /* NULL: no Content-Type header */
    const char *extra_headers; /* NULL, or header lines each ending in CRLF */
    const void *body;          /* borrowed until the answer is sent (and through `after`) */
    size_t body_len;
} bench_http_response;

/* Everything a request points to is valid during the call only. */
typedef void (*bench_http_handler)(void *ud, const bench_http_request *req,
                                   bench_http_response *res);
typedef void (*bench_http_after_fn)(void *ud, const bench_http_request *req,
                                    const bench_http_response *res);
typedef void (*bench_http_conn_end_fn)(void *ud, void *conn_state);

typedef struct bench_http_config {
    bench_http_handler handle;       /* required: chooses the answer, before it is sent */
    bench_http_after_fn after;       /* optional: runs after the answer has been sent */
    bench_http_conn_end_fn conn_end; /* optional: frees a connection's state */
    void *ud;
    size_t max_body; /* the largest request body taken; 0: 16 MiB. Larger ones close the
                        connection (counted in bad_requests) */
} bench_http_config;

typedef struct bench_http_counters {
    unsigned long long connections;  /* accepted and served */
    unsigned long long refused;      /* accepted and closed at once: 16 already open */
    unsigned long long requests;     /* read in full; counted before the answer is sent */
    unsigned long long completed;    /* answered and through `after` */
    unsigned long long bad_requests; /* malformed, chunked or too large: connection closed */
    unsigned long long body_bytes_in, body_bytes_out; /* request and answer bodies */
    unsigned long long cpu_ns; /* CPU time of the connection threads, added after each request */
} bench_http_counters;

typedef struct bench_http_server bench_http_server;

/* Starts listening on 127.0.0.1:0 and serving; copies cfg. NULL on failure (errno says why). */
bench_http_server *bench_http_start(const bench_http_config *cfg);

/* The port the server listens on. */
int bench_http_port(const bench_http_server *s);

void bench_http_counters_get(bench_http_server *s, bench_http_counters *out);

/* Stops accepting, waits for the open connections to end (the client closes them; after 10 s
 * the server shuts them down itself), and frees s. NULL is ignored. */
void bench_http_stop(bench_http_server *s);

/* The value of a request header (case-insensitive name), up to its CRLF, or NULL. */
const char *bench_http_header(const bench_http_request *req, const char *name);

#endif
