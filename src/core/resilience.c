/* ifx — retry policy and circuit breaker (see include/ifx/resilience.h). */
#include "ifx/resilience.h"

#include "ifx/timeutil.h"

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

static int month_index(const char *s)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int i = 0; i < 12; i++)
        if (strncmp(names + 3 * i, s, 3) == 0)
            return i + 1;
    return 0;
}

/* Reads n digits at s into *v. */
static bool digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *v = *v * 10 + (s[i] - '0');
    }
    return true;
}

ifx_rc ifx_parse_retry_after(const char *s, size_t len, int64_t now_unix_s, uint64_t *delay_ms)
{
    char t[64];
    int day, mon, year, hh, mm, ss;
    const char *p;

    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        len--;
    if (len == 0 || len >= sizeof t)
        return IFX_E_INVALID;
    memcpy(t, s, len);
    t[len] = '\0';

    if (t[0] >= '0' && t[0] <= '9') {
        uint64_t secs = 0;
        for (size_t i = 0; i < len; i++) {
            if (t[i] < '0' || t[i] > '9' || secs > UINT64_MAX / 10000)
                return IFX_E_INVALID;
            secs = secs * 10 + (uint64_t)(t[i] - '0');
        }
        *delay_ms = secs * 1000;
        return IFX_OK;
    }
    /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
    if (len == 29 && t[3] == ',' && digits(t + 5, 2, &day) && (mon = month_index(t + 8)) &&
        digits(t + 12, 4, &year) && digits(t + 17, 2, &hh) && digits(t + 20, 2, &mm) &&
        digits(t + 23, 2, &ss) && strcmp(t + 25, " GMT") == 0) {
        goto have_date;
    }
    /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
    if ((p = strchr(t, ',')) && p[1] == ' ' && strlen(p) == 24 && digits(p + 2, 2, &day) &&
        p[4] == '-' && (mon = month_index(p + 5)) && p[8] == '-' && digits(p + 9, 2, &year) &&
        digits(p + 12, 2, &hh) && digits(p + 15, 2, &mm) && digits(p + 18, 2, &ss) &&
        strcmp(p + 20, " GMT") == 0) {
        year += year < 70 ? 2000 : 1900;
        goto have_date;
    }
    /* asctime: "Sun Nov  6 08:49:37 1994" */
    if (len == 24 && (mon = month_index(t + 4)) && (t[8] == ' ' || (t[8] >= '0' && t[8] <= '9')) &&
        digits(t + 9, 1, &day) && digits(t + 11, 2, &hh) && digits(t + 14, 2, &mm) &&
        digits(t + 17, 2, &ss) && digits(t + 20, 4, &year)) {
        if (t[8] != ' ')
            day += (t[8] - '0') * 10;
        goto have_date;
    }
    return IFX_E_INVALID;
have_date:
    if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
        return IFX_E_INVALID;
    int64_t when = ifx_days_from_civil(year, mon, day) * 86400 + hh * 3600 + mm * 60 + ss;
    *delay_ms = when > now_unix_s ? (uint64_t)(when - now_unix_s) * 1000 : 0;
    return IFX_OK;
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
