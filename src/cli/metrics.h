/* ifx command line: a Prometheus scrape endpoint for `ifx sink` and `ifx source`.
 *
 * Two halves that know nothing of each other:
 * - metrics.c: a tiny HTTP/1.1 server on its own thread that answers GET and HEAD /metrics with
 *   whatever a render callback puts into a buffer (404 for other paths, 405 for other methods on
 *   /metrics, 400 for malformed requests). One poll loop serves up to 32 connections at once,
 *   none blocking another: each is bounded by a 2 s deadline and an 8 KiB request head, and
 *   closed after the answer. When all 32 are taken, the one waiting longest for its request is
 *   dropped for a newcomer, so idle connections cannot starve a scraper.
 * - metrics_text.c: the Prometheus text format (version 0.0.4) of the sink's and the source's
 *   counters.
 *
 * Thread safety: cli_metrics_start and cli_metrics_stop are called by one thread (the command's).
 * The render callback runs on the server thread, concurrently with the engine: it must only use
 * thread-safe reads (ifx_sink_get_stats and ifx_source_get_stats are). The render functions
 * below are pure and safe from any thread on distinct buffers.
 */
#ifndef IFX_CLI_METRICS_H
#define IFX_CLI_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ifx/buf.h"
#include "ifx/error.h"
#include "ifx/sink.h"
#include "ifx/source.h"

/* ---- the request head (exposed for the fuzz target) ---- */

/* The length of the request head in buf[0..n) including its blank line, or 0 when incomplete. */
size_t cli_http_head_length(const char *buf, size_t n);

/* Splits the request line "METHOD SP TARGET SP HTTP/1.x" of a complete head[0..len) and checks
 * its header lines ("name: value", name a token, no control characters). The spans point into
 * head; the path stops before a '?' or '#'. False for anything malformed, or a target that is
 * not a path. Never reads past len. */
bool cli_http_parse_request(const char *head, size_t len, const char **method, size_t *method_len,
                            const char **path, size_t *path_len);

/* The most a rendered page may hold (bytes); over it the scrape answers 500. */
#define CLI_METRICS_MAX_BODY (1u << 20)

/* Appends the page to out (already reset by the caller). Anything but IFX_OK answers 500. */
typedef ifx_rc (*cli_metrics_render_fn)(void *ud, ifx_buf *out);

typedef struct cli_metrics cli_metrics;

/* Checks the syntax of a --metrics-listen value without binding anything: "HOST:PORT" where HOST
 * is a dotted IPv4 address, "[IPv6]" or "localhost" (127.0.0.1), and PORT is 0..65535 (0: any
 * free port). IFX_E_USAGE with "--metrics-listen: expected HOST:PORT, got '...'" otherwise. */
ifx_rc cli_metrics_check_listen(const char *address, ifx_err *err);

/* Binds listen (see cli_metrics_check_listen; SO_REUSEADDR) and starts the server thread, which
 * calls render(ud, buf) once per scrape until cli_metrics_stop. Borrows render's ud, which must
 * outlive the server. The thread blocks every signal, so signals keep going to the command.
 * On success *out is the server (caller stops it with cli_metrics_stop). Errors: IFX_E_USAGE for
 * a malformed listen value, IFX_E_IO for a socket that cannot be bound ("cannot listen on
 * 127.0.0.1:9999: Address already in use"), IFX_E_NOMEM. */
ifx_rc cli_metrics_start(const char *address, cli_metrics_render_fn render, void *ud,
                         cli_metrics **out, ifx_err *err);

/* For a command (cmd: "sink", "source"): starts the server on address, when not NULL, and says
 * where on stderr ("ifx: metrics on <url>"); *out is NULL when address is. On failure prints
 * "ifx: <cmd>: <why>" on stderr and returns false. */
bool cli_metrics_begin(const char *cmd, const char *address, cli_metrics_render_fn render, void *ud,
                       cli_metrics **out);

/* The usage lines of --metrics-listen. */
#define CLI_METRICS_USAGE                                                                          \
    "  --metrics-listen HOST:PORT\n"                                                               \
    "                       serve Prometheus metrics at http://HOST:PORT/metrics while running\n"  \
    "                       (port 0: any free port; the URL is printed on stderr)\n"

/* The port the server listens on (the one chosen by the system when 0 was asked for). */
uint16_t cli_metrics_port(const cli_metrics *m);

/* The scrape URL, "http://127.0.0.1:9464/metrics" ("http://[::1]:9464/metrics" for IPv6).
 * Owned by m, valid until cli_metrics_stop. */
const char *cli_metrics_url(const cli_metrics *m);

/* Stops the server: wakes and joins its thread (an answer in progress is cut short), closes the
 * sockets and frees m. NULL is ignored. */
void cli_metrics_stop(cli_metrics *m);

/* ---- the Prometheus text format -------------------------------------------------------------- */

/* Appends the sink's metrics, each labelled connector="<connector_id>" (escaped as the format
 * requires): ifx_sink_messages_{received,written,rejected,spooled}_total,
 * ifx_sink_messages_pending, ifx_sink_spool_records, ifx_sink_http_requests_total,
 * ifx_sink_http_retries_total, ifx_sink_bytes_sent_total, the histogram
 * ifx_sink_write_duration_seconds and ifx_circuit_breaker_state{state="closed|open|half_open"}.
 * Borrows st and connector_id. IFX_E_FULL when out's cap is reached (out is then incomplete). */
ifx_rc cli_metrics_render_sink(const ifx_sink_stats *st, const char *connector_id, ifx_buf *out);

/* Appends the source's metrics the same way: ifx_source_polls_total, ifx_source_query_rows_total,
 * ifx_source_messages_total, ifx_source_batches_{acked,nacked}_total,
 * ifx_source_query_errors_total, ifx_source_bytes_received_total, the histogram
 * ifx_source_query_duration_seconds and ifx_circuit_breaker_state. */
ifx_rc cli_metrics_render_source(const ifx_source_stats *st, const char *connector_id,
                                 ifx_buf *out);

/* Ready-made render callbacks: ud is one of these, borrowed for the server's lifetime. */
typedef struct cli_metrics_sink_view {
    ifx_sink *sink;
    const char *connector_id;
} cli_metrics_sink_view;

typedef struct cli_metrics_source_view {
    ifx_source *source;
    const char *connector_id;
} cli_metrics_source_view;

ifx_rc cli_metrics_sink_page(void *ud, ifx_buf *out);
ifx_rc cli_metrics_source_page(void *ud, ifx_buf *out);

#endif
