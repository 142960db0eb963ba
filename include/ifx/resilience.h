/* ifx — retries and the circuit breaker, shared by the sink, the source and the CLI.
 *
 * Retry policy: exponential backoff with full jitter (a random delay between 0 and
 * min(cap, base * 2^(retry-1))), a bounded number of attempts, and Retry-After honoured in both
 * forms (seconds or an HTTP date; the client reads it, see ifx_write_result.retry_after_ms) but
 * never beyond retry_after_max.
 *
 * Circuit breaker: closed -> open after `threshold` consecutive failures -> half-open when the
 * cool-down has passed, letting exactly one probe through at a time -> closed when the probe
 * succeeds, open again (a fresh cool-down) when it fails. Only transient and auth failures count;
 * a request the server answered and refused (400, 413, a partial write) shows the server is up.
 *
 * Thread safety: ifx_breaker is safe to share between threads (it has its own mutex); the
 * other functions are pure.
 */
#ifndef IFX_RESILIENCE_H
#define IFX_RESILIENCE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "ifx/export.h"
#include "ifx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ifx_retry_policy {
    uint32_t max_attempts;       /* total attempts, >= 1 (config: max_retries) */
    uint64_t base_ns;            /* config: retry_delay */
    uint64_t cap_ns;             /* config: retry_max_delay */
    uint64_t retry_after_max_ns; /* the longest Retry-After obeyed */
} ifx_retry_policy;

/* The delay before retry number `retry` (1 for the first retry): full jitter over
 * min(cap, base * 2^(retry-1)). *rng is a caller-owned xorshift state (any non-zero seed). */
IFX_EXTERN uint64_t ifx_backoff_ns(const ifx_retry_policy *p, uint32_t retry, uint64_t *rng);

/* The delay to wait before retrying after an answer: Retry-After when the server sent one
 * (capped by retry_after_max), else the jittered backoff. */
IFX_EXTERN uint64_t ifx_retry_delay_ns(const ifx_retry_policy *p, uint32_t retry,
                                       uint64_t retry_after_ms, uint64_t *rng);

typedef enum ifx_breaker_state {
    IFX_BREAKER_CLOSED = 0,
    IFX_BREAKER_OPEN,
    IFX_BREAKER_HALF_OPEN
} ifx_breaker_state;

typedef struct ifx_breaker {
    pthread_mutex_t lock;
    ifx_breaker_state state;
    uint32_t threshold;
    uint64_t cool_down_ns;
    uint32_t failures;     /* consecutive */
    uint64_t opened_at_ns; /* monotonic */
    bool probe_in_flight;
    uint64_t times_opened;
} ifx_breaker;

IFX_EXTERN void ifx_breaker_init(ifx_breaker *b, uint32_t threshold, uint64_t cool_down_ns);
IFX_EXTERN void ifx_breaker_destroy(ifx_breaker *b);

/* May a request go out now? IFX_OK (in half-open: this caller is the probe and must report its
 * outcome), or IFX_E_BREAKER_OPEN with *wait_ns (when not NULL) the time left in the cool-down. */
IFX_EXTERN ifx_rc ifx_breaker_allow(ifx_breaker *b, uint64_t now_ns, uint64_t *wait_ns);

/* Reports the outcome of an allowed request. */
IFX_EXTERN void ifx_breaker_success(ifx_breaker *b);
IFX_EXTERN void ifx_breaker_failure(ifx_breaker *b, uint64_t now_ns);

IFX_EXTERN ifx_breaker_state ifx_breaker_get_state(ifx_breaker *b);
IFX_EXTERN const char *ifx_breaker_state_name(ifx_breaker_state s);

/* True for the outcomes that count against the breaker (transient and auth failures). */
IFX_EXTERN bool ifx_rc_counts_as_failure(ifx_rc rc);

/* Waits ns nanoseconds; returns false when the wait was cut short (shutting down). Engines take
 * one of these so that close can interrupt a backoff. */
typedef bool (*ifx_sleep_fn)(void *ud, uint64_t ns);

/* The plain ifx_sleep_fn: nanosleep, resumed after signals; ud is unused. Always true. */
IFX_EXTERN bool ifx_sleep(void *ud, uint64_t ns);

/* Monotonic clock in nanoseconds. */
IFX_EXTERN uint64_t ifx_now_ns(void);

/* Timed waits are measured on the monotonic clock, so that a step of the wall clock (NTP,
 * an operator, a VM resumed) neither stretches nor cuts a backoff or a verdict timeout. Every
 * condition waited on with pthread_cond_timedwait is made by ifx_cond_init_monotonic, and its
 * deadlines by ifx_deadline_in; the two go together. */

/* pthread_cond_init with the condition's clock set to CLOCK_MONOTONIC. Returns its error. */
IFX_EXTERN int ifx_cond_init_monotonic(pthread_cond_t *cond);

/* The CLOCK_MONOTONIC instant ns from now, as a pthread_cond_timedwait deadline
 * for a condition made by ifx_cond_init_monotonic. */
IFX_EXTERN void ifx_deadline_in(struct timespec *until, uint64_t ns);

#ifdef __cplusplus
}
#endif
#endif
