/* ifx — delivering a batch of lines: the write half of the delivery contract
 * (../shared/DESIGN.md). Shared by the sink engine and `ifx write`.
 *
 * ifxi_writer_write sends a batch and keeps at it until every line has a final outcome:
 *  - written: the server stored it;
 *  - rejected: the server refused that line (the reject callback gets its index and reason).
 * Lines the server named are rejected alone and the rest is sent again when it was not stored.
 * Partial writes that only count their drops (1.x, 2.x storage errors) and 400/422 answers that
 * name nothing are narrowed down by halving the batch, so only the bad lines are rejected
 * (writing a point twice stores the same point). A 413 splits the batch in halves; a single line
 * still too large is rejected. Transient failures are retried with backoff and Retry-After.
 *
 * When it cannot finish, it returns the failure and the lines not yet written or rejected are
 * pending (the caller keeps them): IFX_E_TRANSIENT (attempts used up), IFX_E_AUTH,
 * IFX_E_BREAKER_OPEN, or IFX_E_REJECTED for a refusal of the whole request that no line explains
 * (an unknown, deleted or full database or bucket, a malformed header: a configuration error,
 * not bad data). A 400 or 422 that names no line is told apart by sending the first and the
 * last line alone: when both get the batch's very answer (status and body), the request is
 * refused; otherwise the bad lines are found by halving. Line numbers outside the request are
 * not trusted: such an answer is narrowed down by halving too, and no line is counted written
 * while a refusal in the answer is unaccounted for. The report then counts only what was
 * settled before.
 *
 * Thread safety: one ifx_writer per thread; its client and breaker may be shared.
 */
#ifndef IFX_WRITER_H
#define IFX_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ifx/buf.h"
#include "ifx/client.h"
#include "ifx/config.h"
#include "ifx/resilience.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A line of a batch: its bytes in the batch body, without the '\n'. */
typedef struct ifx_line_span {
    size_t off, len;
} ifx_line_span;

/* Called once per rejected line: index into the span array, and the server's reason. */
typedef void (*ifx_reject_fn)(void *ud, size_t index, const char *reason);

typedef struct ifx_write_report {
    size_t written;
    size_t rejected;
} ifx_write_report;

typedef struct ifx_writer {
    ifx_client *client;   /* borrowed */
    ifx_breaker *breaker; /* borrowed; NULL for none */
    ifx_retry_policy policy;
    ifx_precision precision;
    ifx_sleep_fn sleep; /* NULL: nanosleep */
    void *sleep_ud;
    uint64_t rng;
    /* counters, cumulative */
    uint64_t requests, retries, bytes_sent;
    /* reused between calls */
    ifx_write_result res;
    ifx_buf body;
    /* The last 400/422 naming no line that was compared line by line (status and body), and
     * whether it proved to refuse the request itself: while it is held, the same answer again
     * keeps the lines pending without sending any line alone. A write that succeeds ends it. */
    int refusal_status;
    ifx_buf refusal;
    bool refusal_held;
    size_t *idx; /* the lines of the call, by index into its spans */
    size_t cap_idx;
    /* A request body gzipped ahead (transport/write_gzip.h): a request whose body is exactly
     * pre_data[0..pre_len) sends pre_gz instead of compressing it again. Set by the caller for
     * the duration of a call; pre_gz NULL for none. */
    const char *pre_data;
    size_t pre_len;
    const ifx_buf *pre_gz;
} ifx_writer;

/* Sets up a writer with a copy of policy (how often and how long a request is tried; callers
 * build it from the configuration's retry settings, see ifxi_engine_retry_policy). Borrows
 * client and breaker. */
void ifxi_writer_init(ifx_writer *w, ifx_client *client, ifx_breaker *breaker,
                      const ifx_retry_policy *policy, ifx_precision precision);
void ifxi_writer_free(ifx_writer *w);

/* Splits body into line spans (a line feed inside a quoted string field stays in its line; blank
 * lines are skipped). Appends to *spans (realloc'd; caller frees) and returns the count. */
size_t ifxi_writer_split_lines(const char *body, size_t len, ifx_line_span **spans, size_t *cap);

/* Per-line outcome, for callers that retry what a failed call left pending. */
enum { IFX_LINE_PENDING = 0, IFX_LINE_WRITTEN = 1, IFX_LINE_REJECTED = 2 };

/* Delivers the lines of body given by spans[0..n). See the top of this file. line_state, when
 * not NULL, holds n entries, in and out: only the lines still IFX_LINE_PENDING are sent, and
 * they receive IFX_LINE_WRITTEN or IFX_LINE_REJECTED as they settle (the entries of lines still
 * pending are left as they were). So a caller retries a failed call by calling again with the
 * same arrays. Indices given to on_reject are into spans; rep counts this call's lines. Lines
 * that lie one after the other in body, separated by '\n', are sent in place, not copied. */
ifx_rc ifxi_writer_write(ifx_writer *w, const char *body, const ifx_line_span *spans, size_t n,
                         ifx_reject_fn on_reject, void *ud, ifx_write_report *rep,
                         uint8_t *line_state, ifx_err *err);

/* Called after each round of ifxi_writer_settle with the round's result and report (counters,
 * logging). Its answer matters after a failed round only: false stops the settling. */
typedef bool (*ifx_round_fn)(void *ud, ifx_rc rc, const ifx_err *err, const ifx_write_report *rep);

/* The one retry loop for a caller that never gives up on a batch (the sink engine): delivers
 * the pending lines of line_state[0..n) with ifxi_writer_write and, while some stay pending after
 * a failed round, tries them again after a backoff (ifx_backoff_ns of the policy by round, at
 * least 50 ms; the breaker decides when requests really go out), until every line is settled,
 * on_round says stop, or w->sleep is cut short (the caller is closing). Returns the number of
 * lines still pending (0 unless stopped). */
size_t ifxi_writer_settle(ifx_writer *w, const char *body, const ifx_line_span *spans, size_t n,
                          ifx_reject_fn on_reject, void *ud, uint8_t *line_state,
                          ifx_round_fn on_round, void *round_ud);

#ifdef __cplusplus
}
#endif
#endif
