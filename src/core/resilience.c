/* ifx — retry policy and circuit breaker (see include/ifx/resilience.h). */
#include "ifx/resilience.h"

#include <errno.h>
#include <string.h>
#include <time.h>

uint64_t ifx_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int ifx_cond_init_monotonic(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);
    if (rc)
        return rc;
    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
    return rc;
}

void ifx_deadline_in(struct timespec *until, uint64_t ns)
{
    clock_gettime(CLOCK_MONOTONIC, until);
    until->tv_sec += (time_t)(ns / 1000000000ULL);
    until->tv_nsec += (long)(ns % 1000000000ULL);
    if (until->tv_nsec >= 1000000000L) {
        until->tv_sec++;
        until->tv_nsec -= 1000000000L;
    }
}

bool ifx_sleep(void *ud, uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ULL),
                          .tv_nsec = (long)(ns % 1000000000ULL)};
    (void)ud;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return true;
}

static uint64_t next_random(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ULL;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

uint64_t ifx_backoff_ns(const ifx_retry_policy *p, uint32_t retry, uint64_t *rng)
{
    uint64_t ceiling = p->base_ns;
    for (uint32_t i = 1; i < retry && ceiling < p->cap_ns; i++)
        ceiling = ceiling > UINT64_MAX / 2 ? UINT64_MAX : ceiling * 2;
    if (ceiling > p->cap_ns)
        ceiling = p->cap_ns;
    if (ceiling == 0)
        return 0;
    /* Full jitter: spreading retries over the whole window keeps many clients from waking
     * together after an outage. */
    return next_random(rng) % (ceiling + 1);
}

uint64_t ifx_retry_delay_ns(const ifx_retry_policy *p, uint32_t retry, uint64_t retry_after_ms,
                            uint64_t *rng)
{
    if (retry_after_ms > 0) {
        uint64_t ns =
            retry_after_ms > UINT64_MAX / 1000000ULL ? UINT64_MAX : retry_after_ms * 1000000ULL;
        return ns > p->retry_after_max_ns ? p->retry_after_max_ns : ns;
    }
    return ifx_backoff_ns(p, retry, rng);
}

void ifx_breaker_init(ifx_breaker *b, uint32_t threshold, uint64_t cool_down_ns)
{
    memset(b, 0, sizeof *b);
    pthread_mutex_init(&b->lock, NULL);
    b->threshold = threshold ? threshold : 1;
    b->cool_down_ns = cool_down_ns;
}

void ifx_breaker_destroy(ifx_breaker *b)
{
    pthread_mutex_destroy(&b->lock);
}

ifx_rc ifx_breaker_allow(ifx_breaker *b, uint64_t now_ns, uint64_t *wait_ns)
{
    ifx_rc rc = IFX_OK;
    uint64_t wait = 0;

    pthread_mutex_lock(&b->lock);
    switch (b->state) {
    case IFX_BREAKER_CLOSED:
        break;
    case IFX_BREAKER_OPEN:
        if (now_ns - b->opened_at_ns >= b->cool_down_ns) {
            b->state = IFX_BREAKER_HALF_OPEN;
            b->probe_in_flight = true; /* this caller is the probe */
        } else {
            wait = b->cool_down_ns - (now_ns - b->opened_at_ns);
            rc = IFX_E_BREAKER_OPEN;
        }
        break;
    case IFX_BREAKER_HALF_OPEN:
        if (b->probe_in_flight) {
            rc = IFX_E_BREAKER_OPEN; /* one probe at a time */
            wait = b->cool_down_ns / 10 + 1;
        } else {
            b->probe_in_flight = true;
        }
        break;
    }
    pthread_mutex_unlock(&b->lock);
    if (wait_ns)
        *wait_ns = wait;
    return rc;
}

void ifx_breaker_success(ifx_breaker *b)
{
    pthread_mutex_lock(&b->lock);
    b->failures = 0;
    b->state = IFX_BREAKER_CLOSED;
    b->probe_in_flight = false;
    pthread_mutex_unlock(&b->lock);
}

void ifx_breaker_failure(ifx_breaker *b, uint64_t now_ns)
{
    pthread_mutex_lock(&b->lock);
    b->probe_in_flight = false;
    if (b->state == IFX_BREAKER_HALF_OPEN ||
        (b->state == IFX_BREAKER_CLOSED && ++b->failures >= b->threshold)) {
        b->state = IFX_BREAKER_OPEN;
        b->opened_at_ns = now_ns;
        b->times_opened++;
    } else if (b->state == IFX_BREAKER_OPEN) {
        /* A request allowed before the breaker opened failed late: keep the cool-down. */
    }
    pthread_mutex_unlock(&b->lock);
}

ifx_breaker_state ifx_breaker_get_state(ifx_breaker *b)
{
    pthread_mutex_lock(&b->lock);
    ifx_breaker_state s = b->state;
    pthread_mutex_unlock(&b->lock);
    return s;
}

const char *ifx_breaker_state_name(ifx_breaker_state s)
{
    switch (s) {
    case IFX_BREAKER_OPEN:
        return "open";
    case IFX_BREAKER_HALF_OPEN:
        return "half-open";
    case IFX_BREAKER_CLOSED:
        break;
    }
    return "closed";
}

bool ifx_rc_counts_as_failure(ifx_rc rc)
{
    return rc == IFX_E_TRANSIENT || rc == IFX_E_AUTH;
}
