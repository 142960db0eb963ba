/* Retry policy, Retry-After parsing and the circuit breaker. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "ifx/resilience.h"

#define MS  1000000ULL
#define SEC 1000000000ULL

static void test_backoff_full_jitter_and_cap(void **state)
{
    ifx_retry_policy p = {
        .max_attempts = 5, .base_ns = 100 * MS, .cap_ns = 1 * SEC, .retry_after_max_ns = 60 * SEC};
    uint64_t rng = 42, maxseen[6] = {0}, minseen[6];
    (void)state;
    for (int r = 1; r <= 5; r++)
        minseen[r] = UINT64_MAX;
    for (int i = 0; i < 20000; i++) {
        for (uint32_t r = 1; r <= 5; r++) {
            uint64_t d = ifx_backoff_ns(&p, r, &rng);
            uint64_t ceiling = 100 * MS << (r - 1);
            if (ceiling > SEC)
                ceiling = SEC;
            assert_true(d <= ceiling);
            if (d > maxseen[r])
                maxseen[r] = d;
            if (d < minseen[r])
                minseen[r] = d;
        }
    }
    /* the whole window is used: close to 0 and close to the ceiling */
    assert_true(maxseen[1] > 95 * MS && minseen[1] < 5 * MS);
    assert_true(maxseen[4] > 750 * MS);                      /* 800 ms ceiling */
    assert_true(maxseen[5] > 950 * MS && maxseen[5] <= SEC); /* capped at 1 s, not 1.6 s */
    /* a huge retry number does not overflow */
    assert_true(ifx_backoff_ns(&p, 200, &rng) <= SEC);
}

static void test_retry_after_wins_but_is_capped(void **state)
{
    ifx_retry_policy p = {
        .max_attempts = 3, .base_ns = 1 * SEC, .cap_ns = 5 * SEC, .retry_after_max_ns = 30 * SEC};
    uint64_t rng = 7;
    (void)state;
    assert_int_equal(ifx_retry_delay_ns(&p, 1, 2000, &rng), 2 * SEC);
    assert_int_equal(ifx_retry_delay_ns(&p, 1, 3600 * 1000, &rng), 30 * SEC);
    assert_true(ifx_retry_delay_ns(&p, 1, 0, &rng) <= 1 * SEC);
}

static void test_breaker_cycle(void **state)
{
    ifx_breaker b;
    uint64_t wait, t = 1000 * SEC;
    (void)state;
    ifx_breaker_init(&b, 3, 10 * SEC);
    assert_int_equal(ifx_breaker_allow(&b, t, NULL), IFX_OK);
    ifx_breaker_failure(&b, t);
    ifx_breaker_failure(&b, t);
    assert_int_equal(ifx_breaker_get_state(&b), IFX_BREAKER_CLOSED);
    ifx_breaker_success(&b); /* resets the consecutive count */
    ifx_breaker_failure(&b, t);
    ifx_breaker_failure(&b, t);
    assert_int_equal(ifx_breaker_get_state(&b), IFX_BREAKER_CLOSED);
    ifx_breaker_failure(&b, t);
    assert_int_equal(ifx_breaker_get_state(&b), IFX_BREAKER_OPEN);
    assert_int_equal(ifx_breaker_allow(&b, t + 4 * SEC, &wait), IFX_E_BREAKER_OPEN);
    assert_int_equal(wait, 6 * SEC);
    /* after the cool-down: exactly one probe */
    assert_int_equal(ifx_breaker_allow(&b, t + 10 * SEC, NULL), IFX_OK);
    assert_int_equal(ifx_breaker_get_state(&b), IFX_BREAKER_HALF_OPEN);
    assert_int_equal(ifx_breaker_allow(&b, t + 10 * SEC, NULL), IFX_E_BREAKER_OPEN);
    /* the probe fails: open again with a fresh cool-down */
    ifx_breaker_failure(&b, t + 11 * SEC);
    assert_int_equal(ifx_breaker_get_state(&b), IFX_BREAKER_OPEN);
    assert_int_equal(ifx_breaker_allow(&b, t + 20 * SEC, &wait), IFX_E_BREAKER_OPEN);
    assert_int_equal(wait, 1 * SEC);
    /* the next probe succeeds: closed */
    assert_int_equal(ifx_breaker_allow(&b, t + 21 * SEC, NULL), IFX_OK);
    ifx_breaker_success(&b);
    assert_int_equal(ifx_breaker_get_state(&b), IFX_BREAKER_CLOSED);
    assert_int_equal(ifx_breaker_allow(&b, t + 21 * SEC, NULL), IFX_OK);
    assert_int_equal(b.times_opened, 2);
    assert_string_equal(ifx_breaker_state_name(IFX_BREAKER_HALF_OPEN), "half-open");
    ifx_breaker_destroy(&b);
}

static void test_which_outcomes_count(void **state)
{
    (void)state;
    assert_true(ifx_rc_counts_as_failure(IFX_E_TRANSIENT));
    assert_true(ifx_rc_counts_as_failure(IFX_E_AUTH));
    assert_false(ifx_rc_counts_as_failure(IFX_E_PARTIAL));
    assert_false(ifx_rc_counts_as_failure(IFX_E_REJECTED));
    assert_false(ifx_rc_counts_as_failure(IFX_E_TOO_LARGE));
    assert_false(ifx_rc_counts_as_failure(IFX_OK));
}

/* Many threads hammer one half-open breaker: only one of them may probe. */
struct race {
    ifx_breaker *b;
    uint64_t now;
    int allowed;
};

static void *race_allow(void *arg)
{
    struct race *r = arg;
    r->allowed = ifx_breaker_allow(r->b, r->now, NULL) == IFX_OK;
    return NULL;
}

static void test_single_probe_under_threads(void **state)
{
    ifx_breaker b;
    pthread_t th[16];
    struct race r[16];
    int allowed = 0;
    (void)state;
    ifx_breaker_init(&b, 1, 1 * SEC);
    ifx_breaker_failure(&b, 0);
    for (int i = 0; i < 16; i++) {
        r[i] = (struct race){.b = &b, .now = 2 * SEC};
        pthread_create(&th[i], NULL, race_allow, &r[i]);
    }
    for (int i = 0; i < 16; i++) {
        pthread_join(th[i], NULL);
        allowed += r[i].allowed;
    }
    assert_int_equal(allowed, 1);
    ifx_breaker_destroy(&b);
}

static uint64_t ts_ns(const struct timespec *t)
{
    return (uint64_t)t->tv_sec * SEC + (uint64_t)t->tv_nsec;
}

/* Deadlines are built on CLOCK_MONOTONIC (not the wall clock, which an operator or NTP may
 * step), and a condition made by ifx_cond_init_monotonic reads them on that clock: a 50 ms
 * wait times out after at least 50 ms of monotonic time, neither at once nor decades later. */
static void test_deadline_is_monotonic(void **state)
{
    struct timespec before, until, after;
    pthread_cond_t cond;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    (void)state;

    clock_gettime(CLOCK_MONOTONIC, &before);
    ifx_deadline_in(&until, 2 * SEC + 999999999ULL);
    clock_gettime(CLOCK_MONOTONIC, &after);
    assert_true(until.tv_nsec >= 0 && until.tv_nsec < 1000000000L);
    assert_true(ts_ns(&until) >= ts_ns(&before) + 2 * SEC + 999999999ULL);
    assert_true(ts_ns(&until) <= ts_ns(&after) + 2 * SEC + 999999999ULL);

    assert_int_equal(ifx_cond_init_monotonic(&cond), 0);
    uint64_t start = ifx_now_ns();
    ifx_deadline_in(&until, 50 * MS);
    pthread_mutex_lock(&lock);
    int rc;
    while ((rc = pthread_cond_timedwait(&cond, &lock, &until)) == 0)
        ;
    pthread_mutex_unlock(&lock);
    assert_int_equal(rc, ETIMEDOUT);
    assert_true(ifx_now_ns() - start >= 50 * MS);
    pthread_cond_destroy(&cond);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_full_jitter_and_cap),
        cmocka_unit_test(test_retry_after_wins_but_is_capped),
        cmocka_unit_test(test_breaker_cycle),
        cmocka_unit_test(test_which_outcomes_count),
        cmocka_unit_test(test_single_probe_under_threads),
        cmocka_unit_test(test_deadline_is_monotonic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
