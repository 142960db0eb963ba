/* ifx — the source engine: InfluxDB rows into Iggy messages, exactly once in steady state.
 *
 * A source runs its query template with its cursor substituted (the time up to which rows have
 * been delivered, and which rows at that time were), turns the rows it should deliver into
 * messages, and hands them to its host as one batch with the state bytes to persist. The cursor
 * moves only when the host reports the batch acknowledged; a negative verdict (or none within 30 s)
 * delivers the same rows again. Hosts: the Iggy plugin (the verdict comes from
 * iggy_source_batch_result) and `ifx source` (the verdict is "written to stdout and flushed").
 *
 * Messages: id = a 128-bit hash of the row (measurement and every column but the query's own
 * bookkeeping: result, table, _start, _stop), so a re-delivered row carries the same id and Iggy's
 * de-duplication can drop it; timestamp = the row's time (timestamp_source "row", the default) or
 * the poll time ("poll"); payload = the row as a JSON object (integers stay integers, unsigned
 * exact, nulls null, times as RFC 3339 strings; without the query's own columns result, table,
 * _start and _stop), or with payload_column that column as json, text
 * or raw (base64-decoded) — the same whatever the server version.
 *
 * Thread safety: ifx_source_run runs on one thread; ifx_source_verdict and
 * ifx_source_request_stop may be called from any thread.
 */
#ifndef IFX_SOURCE_H
#define IFX_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ifx/client.h" /* ifx_latency */
#include "ifx/export.h"
#include "ifx/config.h"
#include "ifx/error.h"
#include "ifx/log.h"
#include "ifx/message.h"
#include "ifx/resilience.h" /* ifx_breaker_state */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ifx_source_message {
    ifx_u128 id;
    uint64_t timestamp_us;
    const uint8_t *payload;
    size_t payload_len;
} ifx_source_message;

/* A batch handed to the host. Everything is owned by the source and valid until the verdict. */
typedef struct ifx_source_batch {
    uint64_t seq; /* 1, 2, 3, ...: the batch number */
    const ifx_source_message *msgs;
    size_t n;
    ifx_schema schema;    /* Json, Text or Raw */
    const uint8_t *state; /* the cursor to persist once the batch is delivered */
    size_t state_len;
} ifx_source_batch;

typedef struct ifx_source_stats {
    uint64_t polls, rows, messages, batches_acked, batches_nacked, query_errors;
    uint64_t bytes_received; /* query answer bytes (after gzip decoding) */
    ifx_breaker_state breaker;
    ifx_latency query_latency; /* query requests, every attempt */
} ifx_source_stats;

/* Hands a batch to the host. IFX_OK: accepted, a verdict will follow through
 * ifx_source_verdict (it may come before this returns). Anything else: refused, taken as a Nack. */
typedef ifx_rc (*ifx_source_send_fn)(void *ud, const ifx_source_batch *b);

typedef struct ifx_source ifx_source;

/* Opens a source for cfg (role source): checks the query template (it must use $cursor; with
 * query_window set it must use $cursor_end, and without it must not),
 * restores the cursor from state (NULL/0: start at initial_offset; unreadable state is refused,
 * never silently reset), resolves version "auto", and probes the server. */
IFX_EXTERN ifx_rc ifx_source_open(const ifx_config *cfg, const uint8_t *state, size_t state_len,
                                  ifx_log_fn log, void *log_ud, ifx_source **out, ifx_err *err);

/* Polls until stopped: query; when there are rows to deliver, send them and wait for the
 * verdict; query again at once after a full answer, after poll_interval after a short one
 * (with query_window: at once when the short answer ended a window whose end has passed, the
 * cursor then moving to that end less 1 ns);
 * back off through the circuit breaker on failures (logged once per change, not per poll).
 * With once, returns after the first short answer has been delivered, or with the error at the
 * first failure that is not transient (a bad query, bad rows, wrong credentials). */
IFX_EXTERN ifx_rc ifx_source_run(ifx_source *s, ifx_source_send_fn send, void *ud, bool once,
                                 ifx_err *err);

/* The host's verdict on the batch in flight (seq must match; other values are ignored). */
IFX_EXTERN void ifx_source_verdict(ifx_source *s, uint64_t seq, bool ack);

/* Makes ifx_source_run return soon (from any thread). */
IFX_EXTERN void ifx_source_request_stop(ifx_source *s);

IFX_EXTERN void ifx_source_get_stats(ifx_source *s, ifx_source_stats *out);

/* Frees the source; ifx_source_run must have returned. NULL is ignored. */
IFX_EXTERN void ifx_source_close(ifx_source *s);

/* Substitutes $cursor (cursor_ns), $cursor_end (cursor_end_ns; both as RFC 3339 UTC), $limit
 * and $offset (always 0) in a template; a placeholder is the name not followed by a letter,
 * digit or '_', so "$cursor_end" is never "$cursor" + "_end". Other text is copied as is. out is
 * reset first (IFX_E_FULL past its cap). Borrows tmpl. Exposed for tests. */
IFX_EXTERN ifx_rc ifx_source_render_query(const char *tmpl, int64_t cursor_ns,
                                          int64_t cursor_end_ns, uint64_t limit, ifx_buf *out,
                                          ifx_err *err);

#ifdef __cplusplus
}
#endif
#endif
