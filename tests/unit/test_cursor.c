/* The source's cursor: every rule of ifxi_cursor_plan, the persisted form and each refusal, the
 * identity hash, and a simulation that polls a fake server (per-table limits, ties in a new
 * random order on every query, rows arriving between polls) through Nacks and restarts, and checks
 * that every row is delivered exactly once. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ifx/buf.h"
#include "connector/cursor.h"
#include "ifx/error.h"

/* ---- helpers ----------------------------------------------------------------------------------
 */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (the bias is irrelevant here). */
static uint64_t rng_below(uint64_t *s, uint64_t n)
{
    return rng_next(s) % n;
}

static ifx_cursor_row R(int64_t t, uint64_t hash, int64_t table)
{
    ifx_cursor_row r = {.time_ns = t, .hash = hash, .table = table};
    return r;
}

static void set_seen(ifx_cursor *c, int64_t t, const uint64_t *seen, size_t n)
{
    ifx_cursor src = {.time_ns = t, .seen = (uint64_t *)seen, .nseen = n, .cap = n};
    assert_int_equal(ifxi_cursor_copy(c, &src), IFX_OK);
}

static void assert_cursor(const ifx_cursor *c, int64_t t, const uint64_t *seen, size_t n)
{
    assert_int_equal(c->time_ns, t);
    assert_int_equal(c->nseen, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(c->seen[i], seen[i]);
}

static void assert_emit(const bool *emit, const char *want)
{
    for (size_t i = 0; want[i]; i++) {
        if (emit[i] != (want[i] == '1'))
            fail_msg("emit[%zu] is %d, want %c (pattern %s)", i, emit[i], want[i], want);
    }
}

typedef struct plan_out {
    bool emit[64];
    ifx_cursor next;
    bool full;
    ifx_err err;
    ifx_rc rc;
} plan_out;

static void plan(const ifx_cursor *c, const ifx_cursor_row *rows, size_t n, uint64_t limit,
                 plan_out *o)
{
    assert_true(n <= 64);
    memset(o->emit, 0x5a, sizeof o->emit); /* garbage: the plan must set every entry */
    memset(&o->next, 0x5a, sizeof o->next);
    o->full = true;
    ifx_err_clear(&o->err);
    o->rc = ifxi_cursor_plan(c, rows, n, limit, o->emit, &o->next, &o->full, &o->err);
}

/* A refused answer: nothing emitted, next is c, not full. */
static void assert_refused(const ifx_cursor *c, plan_out *o, size_t n, const char *msg_part)
{
    assert_int_equal(o->rc, IFX_E_INVALID);
    if (!strstr(o->err.msg, msg_part))
        fail_msg("message \"%s\" lacks \"%s\"", o->err.msg, msg_part);
    for (size_t i = 0; i < n; i++)
        assert_false(o->emit[i]);
    assert_false(o->full);
    assert_cursor(&o->next, c->time_ns, c->seen, c->nseen);
    ifxi_cursor_free(&o->next);
}

/* ---- init, copy, query parameters --------------------------------------------------------------
 */

static void test_init_copy_free(void **state)
{
    ifx_cursor a, b;
    const uint64_t s[] = {3, 9, 12};
    (void)state;
    ifxi_cursor_init(&a, 42);
    assert_int_equal(a.time_ns, 42);
    assert_null(a.seen);
    assert_int_equal(a.nseen, 0);
    ifxi_cursor_init(&b, 0);
    set_seen(&a, 7, s, 3);
    assert_int_equal(ifxi_cursor_copy(&b, &a), IFX_OK);
    assert_cursor(&b, 7, s, 3);
    assert_ptr_not_equal(a.seen, b.seen); /* independent */
    b.seen[0] = 99;
    assert_int_equal(a.seen[0], 3);
    /* copying over a cursor that holds hashes replaces them */
    ifx_cursor empty;
    ifxi_cursor_init(&empty, -5);
    assert_int_equal(ifxi_cursor_copy(&b, &empty), IFX_OK);
    assert_cursor(&b, -5, NULL, 0);
    assert_int_equal(ifxi_cursor_copy(&b, &b), IFX_OK);
    ifxi_cursor_free(&a);
    ifxi_cursor_free(&a); /* twice is harmless */
    ifxi_cursor_free(&b);
    assert_null(b.seen);
    assert_int_equal(b.nseen, 0);
}

static void test_query_time_and_limit(void **state)
{
    ifx_cursor c;
    const uint64_t s[] = {1, 2, 3, 4};
    (void)state;
    ifxi_cursor_init(&c, 1000);
    assert_int_equal(ifxi_cursor_query_time(&c), 999);
    assert_int_equal(ifxi_cursor_query_limit(&c, 7), 7);
    c.time_ns = INT64_MIN;
    assert_true(ifxi_cursor_query_time(&c) == INT64_MIN);
    c.time_ns = INT64_MIN + 1;
    assert_true(ifxi_cursor_query_time(&c) == INT64_MIN);
    c.time_ns = INT64_MAX;
    assert_true(ifxi_cursor_query_time(&c) == INT64_MAX - 1);
    c.time_ns = 0;
    assert_true(ifxi_cursor_query_time(&c) == -1);
    set_seen(&c, 5, s, 4);
    assert_int_equal(ifxi_cursor_query_limit(&c, 7), 11);
    assert_int_equal(ifxi_cursor_query_limit(&c, 0), 4);
    assert_true(ifxi_cursor_query_limit(&c, UINT32_MAX) == (uint64_t)UINT32_MAX + 4);
    ifxi_cursor_free(&c);
    /* saturates (nseen is only read) */
    ifx_cursor big = {.time_ns = 0, .seen = NULL, .nseen = SIZE_MAX - 2, .cap = 0};
    if ((uint64_t)SIZE_MAX == UINT64_MAX) {
        assert_true(ifxi_cursor_query_limit(&big, 10) == UINT64_MAX);
        assert_true(ifxi_cursor_query_limit(&big, 2) == UINT64_MAX);
        assert_true(ifxi_cursor_query_limit(&big, 1) == UINT64_MAX - 1);
    }
}

/* ifxi_cursor_seen_count: copies of a hash in the sorted seen set, at the ends, in the middle,
 * absent, and in a set of one value repeated. */
static void test_seen_count(void **state)
{
    ifx_cursor c;
    const uint64_t s[] = {0, 0, 3, 7, 7, 7, 9, UINT64_MAX};
    const uint64_t same[] = {5, 5, 5, 5};
    (void)state;
    ifxi_cursor_init(&c, 0);
    assert_int_equal(ifxi_cursor_seen_count(&c, 0), 0);
    set_seen(&c, 0, s, 8);
    assert_int_equal(ifxi_cursor_seen_count(&c, 0), 2);
    assert_int_equal(ifxi_cursor_seen_count(&c, 1), 0);
    assert_int_equal(ifxi_cursor_seen_count(&c, 3), 1);
    assert_int_equal(ifxi_cursor_seen_count(&c, 7), 3);
    assert_int_equal(ifxi_cursor_seen_count(&c, 8), 0);
    assert_int_equal(ifxi_cursor_seen_count(&c, 9), 1);
    assert_int_equal(ifxi_cursor_seen_count(&c, UINT64_MAX), 1);
    assert_int_equal(ifxi_cursor_seen_count(&c, UINT64_MAX - 1), 0);
    set_seen(&c, 0, same, 4);
    assert_int_equal(ifxi_cursor_seen_count(&c, 5), 4);
    assert_int_equal(ifxi_cursor_seen_count(&c, 4), 0);
    assert_int_equal(ifxi_cursor_seen_count(&c, 6), 0);
    ifxi_cursor_free(&c);
}

/* ---- plan: the rules ----------------------------------------------------------------------------
 */

static void test_plan_empty_answer(void **state)
{
    ifx_cursor c;
    plan_out o;
    const uint64_t s[] = {5, 6};
    (void)state;
    ifxi_cursor_init(&c, 0);
    set_seen(&c, 100, s, 2);
    plan(&c, NULL, 0, 12, &o);
    assert_int_equal(o.rc, IFX_OK);
    assert_false(o.full);
    assert_cursor(&o.next, 100, s, 2);
    assert_ptr_not_equal(o.next.seen, c.seen);
    ifxi_cursor_free(&o.next);
    ifxi_cursor_free(&c);
}

static void test_plan_short_answer_moves_to_last_time(void **state)
{
    ifx_cursor c;
    plan_out o;
    (void)state;
    ifxi_cursor_init(&c, 10);
    const ifx_cursor_row rows[] = {R(10, 1, 0), R(11, 2, 0), R(15, 3, 0), R(15, 4, 0)};
    plan(&c, rows, 4, 10, &o);
    assert_int_equal(o.rc, IFX_OK);
    assert_false(o.full);
    assert_emit(o.emit, "1111");
    const uint64_t want[] = {3, 4};
    assert_cursor(&o.next, 15, want, 2);
    ifxi_cursor_free(&o.next);
    ifxi_cursor_free(&c);
}

static void test_plan_rows_before_cursor_and_seen_are_dropped(void **state)
{
    ifx_cursor c;
    plan_out o;
    const uint64_t s[] = {20, 30};
    (void)state;
    ifxi_cursor_init(&c, 0);
    set_seen(&c, 50, s, 2);
    /* 49: before T (a '>=' template returns T - 1 ns); 20 and 30 at T: seen; 25 at T: new */
    const ifx_cursor_row rows[] = {R(49, 7, 0), R(50, 30, 0), R(50, 25, 0), R(50, 20, 0),
                                   R(51, 8, 0)};
    plan(&c, rows, 5, 12, &o);
    assert_int_equal(o.rc, IFX_OK);
    assert_false(o.full);
    assert_emit(o.emit, "00101");
    const uint64_t want[] = {8};
    assert_cursor(&o.next, 51, want, 1);
    ifxi_cursor_free(&o.next);

    /* the same rows without 51: the cursor stays at T and adds what it delivered there */
    plan(&c, rows, 4, 12, &o);
    assert_int_equal(o.rc, IFX_OK);
    assert_emit(o.emit, "0010");
    const uint64_t want2[] = {20, 25, 30};
    assert_cursor(&o.next, 50, want2, 3);
    ifxi_cursor_free(&o.next);
    ifxi_cursor_free(&c);
}

static void test_plan_nothing_new_keeps_cursor(void **state)
{
    ifx_cursor c;
    plan_out o;
    const uint64_t s[] = {20, 30};
    (void)state;
    ifxi_cursor_init(&c, 0);
    set_seen(&c, 50, s, 2);
    const ifx_cursor_row rows[] = {R(40, 7, 0), R(50, 30, 0), R(50, 20, 0)};
    plan(&c, rows, 3, 12, &o);
    assert_int_equal(o.rc, IFX_OK);
    assert_false(o.full);
    assert_emit(o.emit, "000");
    assert_cursor(&o.next, 50, s, 2);
    ifxi_cursor_free(&o.next);
    /* only rows before T: the cursor never goes back */
    plan(&c, rows, 1, 12, &o);
    assert_int_equal(o.rc, IFX_OK);
    assert_emit(o.emit, "0");
    assert_cursor(&o.next, 50, s, 2);
    ifxi_cursor_free(&o.next);
    ifxi_cursor_free(&c);
}

/* Upstream R1: batch 3, rows T1,T1,T2,T2,T2. The first answer stops inside the T2 run. */
static void test_plan_r1_full_answer_inside_a_tie(void **state)
{
    ifx_cursor c;
    plan_out o;
    (void)state;
    ifxi_cursor_init(&c, 0);
    const ifx_cursor_row a1[] = {R(1, 11, 0), R(1, 12, 0), R(2, 21, 0)};
    plan(&c, a1, 3, ifxi_cursor_query_limit(&c, 3), &o);
    assert_int_equal(o.rc, IFX_OK);
    assert_true(o.full);
    assert_emit(o.emit, "111");
    const uint64_t w1[] = {21};
    assert_cursor(&o.next, 2, w1, 1);
    ifxi_cursor_free(&c);
    c = o.next;
    assert_int_equal(ifxi_cursor_query_time(&c), 1);
    assert_int_equal(ifxi_cursor_query_limit(&c, 3), 4);
    /* the next answer returns the whole T2 run, in another order */
    const ifx_cursor_row a2[] = {R(2, 23, 0), R(2, 21, 0), R(2, 22, 0)};
    plan(&c, a2, 3, 4, &o);
    assert_int_equal(o.rc, IFX_OK);
    assert_false(o.full);
    assert_emit(o.emit, "101");
    const uint64_t w2[] = {21, 22, 23};
    assert_cursor(&o.next, 2, w2, 3);
    ifxi_cursor_free(&c);
    ifxi_cursor_free(&o.next);
}

/* Upstream R3: limits are per table; a dense table that came back full hides what lies beyond its
 * last row, so the sparse table's later rows must wait. */
static void test_plan_r3_frontier_of_full_tables(void **state)
{
    ifx_cursor c;
    plan_out o;
    (void)state;
    ifxi_cursor_init(&c, 0);
    const ifx_cursor_row rows[] = {
        R(1, 101, 0), R(2, 102, 0),  R(3, 103, 0),  /* dense, full at limit 3 */
        R(2, 201, 1), R(3, 202, 1),  R(10, 203, 1), /* sparse, full too, ends at 10 */
        R(3, 301, 2), R(50, 302, 2),                /* not full */
    };
    plan(&c, rows, 8, 3, &o);
    assert_int_equal(o.rc, IFX_OK);
    assert_true(o.full);
    assert_emit(o.emit, "11111010");
    const uint64_t w[] = {103, 202, 301}; /* every row at the frontier time, sorted */
    assert_cursor(&o.next, 3, w, 3);
    ifxi_cursor_free(&o.next);

    /* the frontier is the earliest last time among full tables, not the latest */
    const ifx_cursor_row rows2[] = {R(1, 1, 5), R(9, 2, 5), R(4, 3, 6), R(5, 4, 6), R(6, 5, 7)};
    plan(&c, rows2, 5, 2, &o);
    assert_int_equal(o.rc, IFX_OK);
    assert_true(o.full);
    assert_emit(o.emit, "10110");
    const uint64_t w2[] = {4};
    assert_cursor(&o.next, 5, w2, 1);
    ifxi_cursor_free(&o.next);

    /* more rows than the limit is full too (defensive) */
    const ifx_cursor_row rows3[] = {R(1, 1, 0), R(2, 2, 0), R(3, 3, 0), R(2, 9, 1)};
    plan(&c, rows3, 4, 2, &o);
    assert_int_equal(o.rc, IFX_OK);
    assert_true(o.full);
    assert_emit(o.emit, "1111");
    const uint64_t w3[] = {3};
    assert_cursor(&o.next, 3, w3, 1);
    ifxi_cursor_free(&o.next);
    ifxi_cursor_free(&c);
}

static void test_plan_tables_need_not_be_contiguous(void **state)
{
    ifx_cursor c;
    plan_out o;
    (void)state;
    ifxi_cursor_init(&c, 0);
    /* interleaved: each table is in order on its own */
    const ifx_cursor_row rows[] = {R(5, 1, 0), R(1, 2, 1), R(6, 3, 0), R(2, 4, 1), R(3, 5, 1)};
    plan(&c, rows, 5, 3, &o);
    assert_int_equal(o.rc, IFX_OK);
    assert_true(o.full); /* table 1 has 3 rows, ends at 3 */
    assert_emit(o.emit, "01011");
    const uint64_t w[] = {5};
    assert_cursor(&o.next, 3, w, 1);
    ifxi_cursor_free(&o.next);
    ifxi_cursor_free(&c);
}

static void test_plan_unsorted_table_is_refused(void **state)
{
    ifx_cursor c;
    plan_out o;
    const uint64_t s[] = {4};
    (void)state;
    ifxi_cursor_init(&c, 0);
    set_seen(&c, 1, s, 1);
    const ifx_cursor_row rows[] = {R(1, 1, 3), R(2, 2, 7), R(5, 3, 7), R(1000000003, 4, 7),
                                   R(1000000002, 5, 7)};
    plan(&c, rows, 5, 100, &o);
    assert_int_equal(o.rc, IFX_E_INVALID);
    assert_non_null(strstr(o.err.msg, "result table 7"));
    assert_non_null(strstr(o.err.msg, "1970-01-01T00:00:01.000000002Z comes after "
                                      "1970-01-01T00:00:01.000000003Z"));
    assert_non_null(strstr(o.err.msg, "ORDER BY time"));
    assert_non_null(strstr(o.err.msg, "sort(columns: [\"_time\"])"));
    assert_refused(&c, &o, 5, "ascending time order");
    /* equal times are in order */
    const ifx_cursor_row eq[] = {R(3, 1, 0), R(3, 2, 0), R(3, 3, 0)};
    plan(&c, eq, 3, 100, &o);
    assert_int_equal(o.rc, IFX_OK);
    ifxi_cursor_free(&o.next);
    ifxi_cursor_free(&c);
}

static void test_plan_full_table_before_cursor_is_refused(void **state)
{
    ifx_cursor c;
    plan_out o;
    const uint64_t s[] = {4, 8};
    (void)state;
    ifxi_cursor_init(&c, 0);
    set_seen(&c, 100, s, 2);
    /* a query without the $cursor filter: a full table that ends before T */
    const ifx_cursor_row rows[] = {R(10, 1, 0), R(20, 2, 0), R(30, 3, 0), R(40, 4, 0),
                                   R(100, 5, 1)};
    plan(&c, rows, 5, 4, &o);
    assert_refused(&c, &o, 5,
                   "the query returned rows before the cursor; check that it filters on $cursor");
    ifxi_cursor_free(&c);
}

static void test_plan_full_answer_without_progress_is_refused(void **state)
{
    ifx_cursor c;
    plan_out o;
    const uint64_t s[] = {1, 2, 3};
    (void)state;
    ifxi_cursor_init(&c, 0);
    set_seen(&c, 100, s, 3);
    /* a limit below ifxi_cursor_query_limit: only seen rows fit, and asking again changes nothing
     */
    const ifx_cursor_row rows[] = {R(100, 3, 0), R(100, 1, 0)};
    plan(&c, rows, 2, 2, &o);
    assert_refused(&c, &o, 2, "no progress");
    /* a '>=' template: rows at T - 1 ns take up the limit */
    const ifx_cursor_row crowd[] = {R(99, 7, 0),  R(99, 8, 0),  R(99, 9, 0),
                                    R(100, 3, 0), R(100, 1, 0), R(100, 2, 0)};
    plan(&c, crowd, 6, ifxi_cursor_query_limit(&c, 3), &o);
    assert_refused(&c, &o, 6, "the query returned rows before the cursor");
    /* with fewer of them there is progress */
    const ifx_cursor_row some[] = {R(99, 8, 0),  R(100, 3, 0), R(100, 1, 0),
                                   R(100, 2, 0), R(100, 4, 0), R(100, 5, 0)};
    plan(&c, some, 6, ifxi_cursor_query_limit(&c, 3), &o);
    assert_int_equal(o.rc, IFX_OK);
    assert_true(o.full);
    assert_emit(o.emit, "000011");
    const uint64_t w[] = {1, 2, 3, 4, 5};
    assert_cursor(&o.next, 100, w, 5);
    ifxi_cursor_free(&o.next);
    ifxi_cursor_free(&c);
}

/* With limit = batch + nseen, a full answer at T holds at least batch new rows (pigeonhole). */
static void test_plan_progress_inside_a_long_tie(void **state)
{
    uint64_t rng = 7;
    (void)state;
    for (uint32_t batch = 1; batch <= 6; batch++) {
        for (size_t nseen = 0; nseen <= 10; nseen++) {
            ifx_cursor c;
            plan_out o;
            uint64_t s[16];
            ifx_cursor_row rows[32];
            size_t n = 0;
            for (size_t i = 0; i < nseen; i++)
                s[i] = 1000 + 2 * i;
            ifxi_cursor_init(&c, 0);
            set_seen(&c, 77, s, nseen);
            uint64_t limit = ifxi_cursor_query_limit(&c, batch);
            /* the server's pick of `limit` rows at 77 out of nseen seen + 20 new, any order */
            uint64_t pool[40];
            size_t npool = 0;
            for (size_t i = 0; i < nseen; i++)
                pool[npool++] = s[i];
            for (size_t i = 0; i < 20; i++)
                pool[npool++] = 5000 + i;
            for (size_t i = npool - 1; i > 0; i--) {
                size_t j = (size_t)rng_below(&rng, i + 1);
                uint64_t t = pool[i];
                pool[i] = pool[j];
                pool[j] = t;
            }
            for (; n < limit; n++)
                rows[n] = R(77, pool[n], 0);
            plan(&c, rows, n, limit, &o);
            assert_int_equal(o.rc, IFX_OK);
            assert_true(o.full);
            size_t nemit = 0, nnew = 0;
            for (size_t i = 0; i < n; i++) {
                nemit += o.emit[i];
                nnew += rows[i].hash >= 5000;
                assert_int_equal(o.emit[i], rows[i].hash >= 5000);
            }
            assert_true(nemit >= batch);
            assert_int_equal(nemit, nnew);
            assert_int_equal(o.next.time_ns, 77);
            assert_int_equal(o.next.nseen, nseen + nemit);
            for (size_t i = 1; i < o.next.nseen; i++)
                assert_true(o.next.seen[i - 1] < o.next.seen[i]);
            ifxi_cursor_free(&o.next);
            ifxi_cursor_free(&c);
        }
    }
}

/* Rows that share time and hash are copies of one value: counted, not collapsed. */
static void test_plan_copies_are_counted(void **state)
{
    ifx_cursor c;
    plan_out o;
    (void)state;
    ifxi_cursor_init(&c, 0);
    const ifx_cursor_row rows[] = {R(5, 9, 0), R(5, 9, 0), R(5, 4, 0)};
    plan(&c, rows, 3, 10, &o);
    assert_int_equal(o.rc, IFX_OK);
    assert_emit(o.emit, "111");
    const uint64_t w[] = {4, 9, 9};
    assert_cursor(&o.next, 5, w, 3);
    ifxi_cursor_free(&c);
    c = o.next;
    /* the same answer again: nothing new */
    plan(&c, rows, 3, 13, &o);
    assert_int_equal(o.rc, IFX_OK);
    assert_emit(o.emit, "000");
    assert_cursor(&o.next, 5, w, 3);
    ifxi_cursor_free(&o.next);
    /* a third copy arrived: one more */
    const ifx_cursor_row more[] = {R(5, 9, 0), R(5, 4, 0), R(5, 9, 0), R(5, 9, 0)};
    plan(&c, more, 4, 13, &o);
    assert_int_equal(o.rc, IFX_OK);
    assert_emit(o.emit, "1000"); /* which copy goes is immaterial: the first */
    const uint64_t w2[] = {4, 9, 9, 9};
    assert_cursor(&o.next, 5, w2, 4);
    ifxi_cursor_free(&o.next);
    ifxi_cursor_free(&c);

    /* one hash at different times is two rows */
    ifxi_cursor_init(&c, 0);
    const ifx_cursor_row two[] = {R(1, 9, 0), R(2, 9, 0)};
    plan(&c, two, 2, 10, &o);
    assert_int_equal(o.rc, IFX_OK);
    assert_emit(o.emit, "11");
    const uint64_t w3[] = {9};
    assert_cursor(&o.next, 2, w3, 1);
    ifxi_cursor_free(&o.next);

    /* batch 1 through three copies: each full answer brings one more (a set would stall here) */
    const ifx_cursor_row h3[] = {R(5, 9, 0), R(5, 9, 0), R(5, 9, 0)};
    for (size_t round = 0; round < 3; round++) {
        uint64_t limit = ifxi_cursor_query_limit(&c, 1);
        size_t n = limit < 3 ? (size_t)limit : 3;
        plan(&c, h3, n, limit, &o);
        assert_int_equal(o.rc, IFX_OK);
        assert_true(o.full);
        size_t nemit = 0;
        for (size_t i = 0; i < n; i++)
            nemit += o.emit[i];
        assert_int_equal(nemit, 1);
        assert_int_equal(o.next.nseen, round + 1);
        ifxi_cursor_free(&c);
        c = o.next;
    }
    plan(&c, h3, 3, ifxi_cursor_query_limit(&c, 1), &o);
    assert_int_equal(o.rc, IFX_OK);
    assert_false(o.full);
    assert_emit(o.emit, "000");
    ifxi_cursor_free(&o.next);
    ifxi_cursor_free(&c);
}

static void test_plan_seen_is_replaced_when_time_moves(void **state)
{
    ifx_cursor c;
    plan_out o;
    const uint64_t s[] = {1, 2};
    (void)state;
    ifxi_cursor_init(&c, 0);
    set_seen(&c, 10, s, 2);
    const ifx_cursor_row rows[] = {R(10, 1, 0), R(10, 3, 0), R(12, 9, 0), R(12, 8, 1)};
    plan(&c, rows, 4, 5, &o);
    assert_int_equal(o.rc, IFX_OK);
    assert_false(o.full);
    assert_emit(o.emit, "0111");
    const uint64_t w[] = {8, 9};
    assert_cursor(&o.next, 12, w, 2);
    ifxi_cursor_free(&o.next);
    ifxi_cursor_free(&c);
}

static void test_plan_extreme_times(void **state)
{
    ifx_cursor c;
    plan_out o;
    (void)state;
    ifxi_cursor_init(&c, INT64_MIN);
    const ifx_cursor_row rows[] = {R(INT64_MIN, 1, 0), R(-1, 2, 0), R(INT64_MAX, 3, 0)};
    plan(&c, rows, 3, 10, &o);
    assert_int_equal(o.rc, IFX_OK);
    assert_emit(o.emit, "111");
    const uint64_t w[] = {3};
    assert_cursor(&o.next, INT64_MAX, w, 1);
    ifxi_cursor_free(&c);
    c = o.next;
    assert_true(ifxi_cursor_query_time(&c) == INT64_MAX - 1);
    plan(&c, rows + 2, 1, 11, &o);
    assert_int_equal(o.rc, IFX_OK);
    assert_emit(o.emit, "0");
    assert_cursor(&o.next, INT64_MAX, w, 1);
    ifxi_cursor_free(&o.next);
    ifxi_cursor_free(&c);
}

/* ---- persisted form -----------------------------------------------------------------------------
 */

static void test_encode_layout(void **state)
{
    ifx_cursor c;
    ifx_buf b;
    const uint64_t s[] = {1, 0xAABB, 0xAABB, 0x8000000000000000ULL};
    (void)state;
    ifxi_cursor_init(&c, 0);
    set_seen(&c, 0x0102030405060708LL, s, 4);
    ifx_buf_init(&b, 1024);
    assert_int_equal(ifx_buf_puts(&b, "pre"), IFX_OK);
    assert_int_equal(ifxi_cursor_encode(&c, &b), IFX_OK); /* appends */
    const uint8_t want[] = {'p', 'r', 'e',  'I',  'F', 'X', 'C', 1, 8, 7, 6,    5,    4,
                            3,   2,   1,    4,    0,   0,   0,   1, 0, 0, 0,    0,    0,
                            0,   0,   0xBB, 0xAA, 0,   0,   0,   0, 0, 0, 0xBB, 0xAA, 0,
                            0,   0,   0,    0,    0,   0,   0,   0, 0, 0, 0,    0,    0x80};
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);

    ifx_cursor d;
    ifx_err e;
    assert_int_equal(ifxi_cursor_decode((const uint8_t *)b.data + 3, b.len - 3, &d, &e), IFX_OK);
    assert_cursor(&d, 0x0102030405060708LL, s, 4);
    ifxi_cursor_free(&d);

    /* over the cap: refused, buffer unchanged */
    ifx_buf small;
    ifx_buf_init(&small, 20);
    assert_int_equal(ifx_buf_puts(&small, "x"), IFX_OK);
    assert_int_equal(ifxi_cursor_encode(&c, &small), IFX_E_FULL);
    assert_int_equal(small.len, 1);
    assert_string_equal(small.data, "x");
    ifx_buf_free(&small);
    ifx_buf_free(&b);
    ifxi_cursor_free(&c);
}

static void test_encode_decode_round_trips(void **state)
{
    uint64_t rng = 99;
    const int64_t times[] = {0, 1, -1, INT64_MIN, INT64_MAX, 1700000000123456789LL};
    (void)state;
    for (size_t ti = 0; ti < sizeof times / sizeof times[0]; ti++) {
        for (size_t n = 0; n < 40; n += 1 + n / 3) {
            ifx_cursor c, d;
            ifx_buf b;
            ifx_err e;
            uint64_t s[40];
            for (size_t i = 0; i < n; i++)
                s[i] = i && rng_below(&rng, 4) == 0 ? s[i - 1] : rng_next(&rng);
            for (size_t i = 1; i < n; i++) /* insertion sort */
                for (size_t j = i; j > 0 && s[j - 1] > s[j]; j--) {
                    uint64_t t = s[j];
                    s[j] = s[j - 1];
                    s[j - 1] = t;
                }
            ifxi_cursor_init(&c, 0);
            set_seen(&c, times[ti], s, n);
            ifx_buf_init(&b, 1 << 20);
            assert_int_equal(ifxi_cursor_encode(&c, &b), IFX_OK);
            assert_int_equal(b.len, 17 + 8 * n);
            assert_int_equal(ifxi_cursor_decode((const uint8_t *)b.data, b.len, &d, &e), IFX_OK);
            assert_cursor(&d, times[ti], s, n);
            ifxi_cursor_free(&d);
            ifxi_cursor_free(&c);
            ifx_buf_free(&b);
        }
    }
}

static void expect_refusal(const uint8_t *p, size_t len, const char *msg, size_t offset)
{
    ifx_cursor d;
    ifx_err e;
    memset(&d, 0x5a, sizeof d);
    ifx_err_clear(&e);
    assert_int_equal(ifxi_cursor_decode(p, len, &d, &e), IFX_E_INVALID);
    if (strcmp(e.msg, msg) != 0)
        fail_msg("decode of %zu bytes: \"%s\", want \"%s\"", len, e.msg, msg);
    assert_int_equal(e.offset, offset);
    assert_null(d.seen); /* owns nothing */
    assert_int_equal(d.nseen, 0);
    ifxi_cursor_free(&d);
}

static void test_decode_refusals(void **state)
{
    uint8_t good[17 + 24];
    char msg[128];
    ifx_cursor c;
    ifx_buf b;
    const uint64_t s[] = {1, 5, 9};
    (void)state;
    ifxi_cursor_init(&c, 0);
    set_seen(&c, 12345, s, 3);
    ifx_buf_init(&b, 1024);
    assert_int_equal(ifxi_cursor_encode(&c, &b), IFX_OK);
    assert_int_equal(b.len, sizeof good);
    memcpy(good, b.data, sizeof good);
    ifx_buf_free(&b);
    ifxi_cursor_free(&c);

    expect_refusal((const uint8_t *)"", 0, "cursor state: truncated at byte 0", 0);
    expect_refusal((const uint8_t *)"IF", 2, "cursor state: truncated at byte 2", 2);
    expect_refusal((const uint8_t *)"IX", 2, "cursor state: unknown magic", 0);
    expect_refusal((const uint8_t *)"\x83\xa7version", 9, "cursor state: unknown magic", 0);
    expect_refusal((const uint8_t *)"IFXc\x01", 5, "cursor state: unknown magic", 0);
    expect_refusal(good, 4, "cursor state: truncated at byte 4", 4);
    /* every cut inside the header and the hashes */
    for (size_t len = 5; len < sizeof good; len++) {
        snprintf(msg, sizeof msg, "cursor state: truncated at byte %zu", len);
        expect_refusal(good, len, msg, len);
    }
    uint8_t v[sizeof good];
    memcpy(v, good, sizeof v);
    v[4] = 2;
    expect_refusal(v, sizeof v, "cursor state: version 2 is not supported", 4);
    v[4] = 0;
    expect_refusal(v, sizeof v, "cursor state: version 0 is not supported", 4);
    v[4] = 2;
    expect_refusal(v, 5, "cursor state: version 2 is not supported", 4);
    /* a count far beyond the data */
    memcpy(v, good, sizeof v);
    v[13] = v[14] = v[15] = v[16] = 0xFF;
    expect_refusal(v, sizeof v, "cursor state: truncated at byte 41", 41);
    /* unsorted at entry 2 (9 then 3) and at entry 1 */
    memcpy(v, good, sizeof v);
    v[17 + 16] = 3;
    expect_refusal(v, sizeof v, "cursor state: hashes not sorted at entry 2", 17 + 16);
    memcpy(v, good, sizeof v);
    v[17] = 6; /* 6, 5, 9 */
    expect_refusal(v, sizeof v, "cursor state: hashes not sorted at entry 1", 17 + 8);
    /* trailing bytes */
    uint8_t longer[sizeof good + 3];
    memcpy(longer, good, sizeof good);
    memset(longer + sizeof good, 0, 3);
    expect_refusal(longer, sizeof longer, "cursor state: 3 trailing bytes", sizeof good);
    memcpy(v, good, sizeof v);
    v[13] = 1; /* count 1, two hashes left over */
    expect_refusal(v, sizeof v, "cursor state: 16 trailing bytes", 25);
    /* NULL err is fine */
    ifx_cursor d;
    assert_int_equal(ifxi_cursor_decode(v, sizeof v, &d, NULL), IFX_E_INVALID);
    ifxi_cursor_free(&d);
}

/* ---- identity hash
 * -------------------------------------------------------------------------------
 */

static int popcount64(uint64_t x)
{
    int n = 0;
    while (x) {
        x &= x - 1;
        n++;
    }
    return n;
}

static int cmp_u64(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return a < b ? -1 : a > b;
}

static void test_hash_known_values(void **state)
{
    (void)state;
    /* Persisted in cursor states: these must never change. */
    assert_true(ifxi_cursor_hash64("", 0, 0) == 0xFA35450F7D173274ULL);
    assert_true(ifxi_cursor_hash64("a", 1, 0) == 0x2AA7C2B45A6430E4ULL);
    assert_true(ifxi_cursor_hash64("abcdefgh", 8, 0) == 0xCBF61A5CE68F3FEAULL);
    assert_true(ifxi_cursor_hash64("the quick brown fox", 19, 1) == 0xB8E6E7BC0FC51BCEULL);
}

/* Every length from 0 to 24, so every tail length (1..7) after 0, 1 and 2 whole words, with bytes
 * over 0x7F in the tail: tail_word gathers the tail with overlapping loads instead of a byte
 * loop, and must give the word the loop gave. The values are those of the byte loop. */
static void test_hash_known_values_every_tail(void **state)
{
    static const uint64_t want[25] = {
        0xFCDE5BCEC5F4E3CDULL, 0x9F178A412ED2F034ULL, 0xFF1CA481F22D1FF4ULL, 0x63912F28CC639B49ULL,
        0x6A0531E684DC4803ULL, 0x594FD146736F9E7EULL, 0x86326C41C84358CAULL, 0x21C5A1A3E102D13FULL,
        0xD9C86C5247B48EF0ULL, 0x222B79B972DF6E14ULL, 0xD189003D4E00D941ULL, 0xD278A3D8952A5C9CULL,
        0x72912F4FC8615BC6ULL, 0xA1FE9D5D46533437ULL, 0x50C05B1F55A0CD7AULL, 0x37CA5D0649E7C8E4ULL,
        0xD11EDE1C8B384FBAULL, 0x5619448C4470C9E7ULL, 0x61119F3EB356A730ULL, 0xADC66E8D1A292124ULL,
        0xC4935C63B7BE9029ULL, 0x3A454E1CFE50B219ULL, 0x44462CEF6DA5F940ULL, 0x4FAC0EDD7D48CD7CULL,
        0xBFEFA880C5FF56CBULL,
    };
    const char *s = "\x01\x80\xff"
                    "abcdefghijklmnopqrstuvw";
    (void)state;
    for (size_t len = 0; len <= 24; len++)
        assert_true(ifxi_cursor_hash64(s, len, 0x5EED) == want[len]);
}

static void test_hash_length_seed_and_every_byte(void **state)
{
    uint8_t zeros[64] = {0}, buf[72];
    uint64_t h[65];
    (void)state;
    /* zero runs of every length differ ("a" and "a\0" must not collide) */
    for (size_t len = 0; len <= 64; len++)
        h[len] = ifxi_cursor_hash64(zeros, len, 0);
    qsort(h, 65, sizeof h[0], cmp_u64);
    for (size_t i = 1; i < 65; i++)
        assert_true(h[i - 1] != h[i]);
    assert_true(ifxi_cursor_hash64("a", 1, 0) != ifxi_cursor_hash64("a\0", 2, 0));
    assert_true(ifxi_cursor_hash64("abc", 3, 0) != ifxi_cursor_hash64("abc", 3, 1));
    /* every byte of every length counts, the tail too */
    for (size_t len = 1; len <= 33; len++) {
        uint8_t in[33];
        for (size_t i = 0; i < len; i++)
            in[i] = (uint8_t)(i * 37 + len);
        uint64_t base = ifxi_cursor_hash64(in, len, 5);
        for (size_t i = 0; i < len; i++) {
            in[i] ^= 0x80;
            assert_true(ifxi_cursor_hash64(in, len, 5) != base);
            in[i] ^= 0x80;
        }
    }
    /* the value does not depend on alignment */
    uint8_t a[40];
    for (size_t i = 0; i < 40; i++)
        a[i] = (uint8_t)(i * 13 + 5);
    for (size_t off = 1; off < 8; off++) {
        memcpy(buf + off, a, sizeof a);
        for (size_t len = 0; len <= 40; len++)
            assert_true(ifxi_cursor_hash64(a, len, 3) == ifxi_cursor_hash64(buf + off, len, 3));
    }
}

/* The two-lane hash the source uses for row identities is two single hashes, at every length
 * (the tail too), alignment and pair of seeds. */
static void test_hash_two_lanes_equal_two_hashes(void **state)
{
    uint64_t rng = 777;
    uint8_t buf[80];
    (void)state;
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)rng_next(&rng);
    for (size_t off = 0; off < 8; off++) {
        for (size_t len = 0; len + off <= sizeof buf; len++) {
            uint64_t s1 = rng_next(&rng), s2 = rng_next(&rng);
            uint64_t h1 = s1, h2 = s2;
            ifxi_cursor_hash64x2(buf + off, len, &h1, &h2);
            assert_true(h1 == ifxi_cursor_hash64(buf + off, len, s1));
            assert_true(h2 == ifxi_cursor_hash64(buf + off, len, s2));
        }
    }
}

static void test_hash_avalanche(void **state)
{
    uint64_t rng = 12345;
    uint64_t out_flips[64] = {0}, trials = 0;
    (void)state;
    for (size_t len = 1; len <= 24; len++) {
        for (size_t bit = 0; bit < len * 8; bit++) {
            uint64_t sum = 0;
            const int samples = 60;
            for (int s = 0; s < samples; s++) {
                uint8_t in[24];
                for (size_t i = 0; i < len; i++)
                    in[i] = (uint8_t)rng_next(&rng);
                uint64_t seed = rng_next(&rng);
                uint64_t h0 = ifxi_cursor_hash64(in, len, seed);
                in[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                uint64_t d = h0 ^ ifxi_cursor_hash64(in, len, seed);
                sum += (uint64_t)popcount64(d);
                for (int j = 0; j < 64; j++)
                    out_flips[j] += (d >> j) & 1;
                trials++;
            }
            double mean = (double)sum / samples;
            if (mean < 28.0 || mean > 36.0)
                fail_msg("len %zu bit %zu: %.2f output bits flip on average", len, bit, mean);
        }
    }
    for (int j = 0; j < 64; j++) {
        double p = (double)out_flips[j] / (double)trials;
        if (p < 0.48 || p > 0.52)
            fail_msg("output bit %d flips with probability %.3f", j, p);
    }
    /* the seed avalanches too */
    for (int bit = 0; bit < 64; bit++) {
        uint64_t sum = 0;
        for (int s = 0; s < 200; s++) {
            uint64_t seed = rng_next(&rng);
            uint64_t x = rng_next(&rng);
            sum += (uint64_t)popcount64(ifxi_cursor_hash64(&x, 8, seed) ^
                                        ifxi_cursor_hash64(&x, 8, seed ^ (1ULL << bit)));
        }
        double mean = sum / 200.0;
        if (mean < 29.0 || mean > 35.0)
            fail_msg("seed bit %d: %.2f output bits flip on average", bit, mean);
    }
}

static void test_hash_no_collisions_on_structured_input(void **state)
{
    enum { N = 1 << 17 };
    uint64_t *h = malloc(3 * N * sizeof *h);
    (void)state;
    assert_non_null(h);
    for (uint32_t i = 0; i < N; i++) {
        uint64_t w = i;
        uint32_t v = i;
        h[i] = ifxi_cursor_hash64(&w, 8, 0);
        h[N + i] = ifxi_cursor_hash64(&v, 4, 0);
        h[2 * N + i] = ifxi_cursor_hash64("", 0, i); /* chained use: the seed alone */
    }
    qsort(h, 3 * N, sizeof *h, cmp_u64);
    for (size_t i = 1; i < 3 * (size_t)N; i++)
        assert_true(h[i - 1] != h[i]);
    free(h);
}

/* ---- simulation ---------------------------------------------------------------------------------
 *
 * A fake server holds rows (time, table, hash) sorted by (table, time). It answers a query as a
 * real one does: per table, the rows after query_time in time order, ties in a fresh random order
 * on every query, the first `limit` of them; the tables concatenated in a random order. The
 * source loop polls, plans, delivers the emitted rows and commits on Ack, discards on Nack, and
 * now and then restarts from the persisted form of its committed cursor. Rows arrive between
 * polls at or after the cursor (at exactly T too), and even between a query and its commit.
 */

typedef struct sim_row {
    int64_t t;
    int64_t table;
    uint64_t hash;
    uint32_t id;
} sim_row;

typedef struct sim_opts {
    uint32_t batch;
    int64_t start;
    unsigned nack_pct;    /* chance that a batch is Nacked */
    unsigned restart_pct; /* chance of a restart from the persisted state after a commit */
    size_t arrivals;      /* rows to add while polling */
    int64_t arrival_span; /* added rows land in [cursor, cursor + span) */
    int64_t ntables;
    bool copies; /* hashes from a tiny value space: many rows share time and hash */
} sim_opts;

typedef struct sim {
    uint64_t rng;
    sim_opts o;
    sim_row *rows;
    size_t n, cap;
    uint32_t *delivered; /* by id */
    ifx_cursor_row *ans;
    uint32_t *ans_id;
    size_t nans;
    bool *emit;
    size_t *tmp;
    size_t polls, nacks, restarts, max_seen;
} sim;

typedef struct sim_totals {
    size_t scenarios, rows, polls, nacks, restarts, max_seen;
} sim_totals;

static sim_totals g_totals;

static int cmp_sim_row(const sim_row *a, const sim_row *b)
{
    if (a->table != b->table)
        return a->table < b->table ? -1 : 1;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return 0;
}

static uint64_t copy_hash(sim *s, int64_t t)
{
    uint64_t v = rng_below(&s->rng, 3);
    uint8_t in[16];
    memcpy(in, &t, 8);
    memcpy(in + 8, &v, 8);
    return ifxi_cursor_hash64(in, sizeof in, 77);
}

static void sim_grow(sim *s, size_t need)
{
    if (need <= s->cap)
        return;
    size_t cap = s->cap ? s->cap : 64;
    while (cap < need)
        cap *= 2;
    s->rows = realloc(s->rows, cap * sizeof *s->rows);
    s->delivered = realloc(s->delivered, cap * sizeof *s->delivered);
    s->ans = realloc(s->ans, cap * sizeof *s->ans);
    s->ans_id = realloc(s->ans_id, cap * sizeof *s->ans_id);
    s->emit = realloc(s->emit, cap * sizeof *s->emit);
    s->tmp = realloc(s->tmp, cap * sizeof *s->tmp);
    assert_true(s->rows && s->delivered && s->ans && s->ans_id && s->emit && s->tmp);
    s->cap = cap;
}

/* Adds a row, keeping (table, time) order; a new row goes at a random place among its ties. */
static void sim_add(sim *s, int64_t t, int64_t table)
{
    sim_row r = {.t = t, .table = table, .id = (uint32_t)s->n};
    r.hash = s->o.copies ? copy_hash(s, t) : rng_next(&s->rng);
    sim_grow(s, s->n + 1);
    s->delivered[r.id] = 0;
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_sim_row(&s->rows[mid], &r) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(s->rows + lo + 1, s->rows + lo, (s->n - lo) * sizeof *s->rows);
    s->rows[lo] = r;
    s->n++;
}

static void sim_query(sim *s, int64_t query_time, uint64_t limit)
{
    int64_t order[16];
    assert_true(s->o.ntables <= 16);
    for (int64_t i = 0; i < s->o.ntables; i++)
        order[i] = i;
    for (int64_t i = s->o.ntables - 1; i > 0; i--) {
        int64_t j = (int64_t)rng_below(&s->rng, (uint64_t)i + 1), x = order[i];
        order[i] = order[j];
        order[j] = x;
    }
    s->nans = 0;
    for (int64_t k = 0; k < s->o.ntables; k++) {
        int64_t tb = order[k];
        size_t lo = 0, hi = s->n; /* first row of table tb after query_time */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            const sim_row *r = &s->rows[mid];
            if (r->table < tb || (r->table == tb && r->t <= query_time))
                lo = mid + 1;
            else
                hi = mid;
        }
        uint64_t taken = 0;
        size_t i = lo;
        while (i < s->n && s->rows[i].table == tb && taken < limit) {
            size_t j = i, g;
            while (j < s->n && s->rows[j].table == tb && s->rows[j].t == s->rows[i].t)
                j++;
            g = j - i;
            for (size_t x = 0; x < g; x++)
                s->tmp[x] = i + x;
            for (size_t x = g - 1; x > 0 && g > 1; x--) {
                size_t y = (size_t)rng_below(&s->rng, x + 1), z = s->tmp[x];
                s->tmp[x] = s->tmp[y];
                s->tmp[y] = z;
            }
            for (size_t x = 0; x < g && taken < limit; x++, taken++) {
                const sim_row *r = &s->rows[s->tmp[x]];
                s->ans[s->nans] = R(r->t, r->hash, r->table);
                s->ans_id[s->nans] = r->id;
                s->nans++;
            }
            i = j;
        }
    }
}

static void sim_arrive(sim *s, int64_t from, size_t *budget)
{
    size_t k = 1 + (size_t)rng_below(&s->rng, 4);
    for (size_t i = 0; i<k && * budget> 0; i++, (*budget)--) {
        int64_t t = rng_below(&s->rng, 3) == 0
                        ? from
                        : from + (int64_t)rng_below(&s->rng, (uint64_t)s->o.arrival_span);
        sim_add(s, t, (int64_t)rng_below(&s->rng, (uint64_t)s->o.ntables));
    }
}

static int cmp_time_hash(const void *pa, const void *pb)
{
    const sim_row *a = pa, *b = pb;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    return 0;
}

/* Every row at or after the start delivered exactly once (copies, which no one can tell apart,
 * as many times as there are copies), and nothing before the start. */
static void sim_check(sim *s, const char *name, uint64_t seed)
{
    sim_row *v = malloc((s->n ? s->n : 1) * sizeof *v);
    assert_non_null(v);
    if (s->n)
        memcpy(v, s->rows, s->n * sizeof *v);
    qsort(v, s->n, sizeof *v, cmp_time_hash);
    for (size_t i = 0; i < s->n;) {
        size_t j = i, got = 0;
        while (j < s->n && v[j].t == v[i].t && v[j].hash == v[i].hash)
            got += s->delivered[v[j++].id];
        size_t want = v[i].t >= s->o.start ? j - i : 0;
        if (got != want)
            fail_msg("%s seed %" PRIu64 ": row at %" PRId64 " (hash %016" PRIx64
                     ", %zu copies) delivered %zu times, want %zu (batch %u, %zu rows)",
                     name, seed, v[i].t, v[i].hash, j - i, got, want, s->o.batch, s->n);
        if (!s->o.copies && j - i > 1)
            fail_msg("%s: a random hash repeated", name);
        i = j;
    }
    free(v);
}

/* Runs the source loop over the data set already in s until a short answer brings nothing new
 * and no more rows will arrive. */
static void sim_run(sim *s, const char *name, uint64_t seed)
{
    ifx_cursor committed, next;
    ifx_err err;
    ifx_buf state;
    size_t budget = s->o.arrivals;
    /* generous: every answer brings at least one row, or the loop ends */
    const size_t max_polls = 100 + 4 * (s->n + s->o.arrivals);

    ifx_buf_init(&state, 1 << 26);
    ifxi_cursor_init(&committed, s->o.start);
    for (;;) {
        bool full, last_chance = budget == 0;
        if (++s->polls > max_polls)
            fail_msg("%s seed %" PRIu64 ": no end after %zu polls", name, seed, max_polls);
        uint64_t limit = ifxi_cursor_query_limit(&committed, s->o.batch);
        sim_query(s, ifxi_cursor_query_time(&committed), limit);
        ifx_err_clear(&err);
        ifx_rc rc =
            ifxi_cursor_plan(&committed, s->ans, s->nans, limit, s->emit, &next, &full, &err);
        if (rc)
            fail_msg("%s seed %" PRIu64 ": plan failed: %s", name, seed, err.msg);
        size_t nemit = 0;
        for (size_t i = 0; i < s->nans; i++) {
            if (!s->emit[i])
                continue;
            nemit++;
            if (s->ans[i].time_ns < committed.time_ns)
                fail_msg("%s: a row before the cursor was emitted", name);
        }
        /* the next cursor: never back, sorted, and real progress on a full answer */
        assert_true(next.time_ns >= committed.time_ns);
        for (size_t i = 1; i < next.nseen; i++)
            assert_true(next.seen[i - 1] <= next.seen[i]);
        if (full && next.time_ns == committed.time_ns && nemit < s->o.batch)
            fail_msg("%s seed %" PRIu64 ": a full answer at T emitted %zu < batch %u", name, seed,
                     nemit, s->o.batch);
        if (!full && nemit == 0 && last_chance) {
            ifxi_cursor_free(&next);
            break;
        }
        /* rows that arrive after the query ran but before its batch is acknowledged */
        if (budget && rng_below(&s->rng, 100) < 10)
            sim_arrive(s, next.time_ns, &budget);
        if (nemit && rng_below(&s->rng, 100) < s->o.nack_pct) {
            ifxi_cursor_free(&next); /* Nack: the same rows come again */
            s->nacks++;
        } else {
            for (size_t i = 0; i < s->nans; i++) {
                if (!s->emit[i])
                    continue;
                if (!s->o.copies && s->delivered[s->ans_id[i]])
                    fail_msg("%s seed %" PRIu64 ": row at %" PRId64 " delivered twice", name, seed,
                             s->ans[i].time_ns);
                s->delivered[s->ans_id[i]]++;
            }
            ifxi_cursor_free(&committed);
            committed = next; /* Ack: commit */
            if (committed.nseen > s->max_seen)
                s->max_seen = committed.nseen;
        }
        if (rng_below(&s->rng, 100) < s->o.restart_pct) {
            ifx_cursor restored;
            ifx_buf_reset(&state);
            assert_int_equal(ifxi_cursor_encode(&committed, &state), IFX_OK);
            assert_int_equal(
                ifxi_cursor_decode((const uint8_t *)state.data, state.len, &restored, &err),
                IFX_OK);
            assert_cursor(&restored, committed.time_ns, committed.seen, committed.nseen);
            ifxi_cursor_free(&committed);
            committed = restored;
            s->restarts++;
        }
        if (budget && rng_below(&s->rng, 100) < 30)
            sim_arrive(s, committed.time_ns, &budget);
    }
    ifxi_cursor_free(&committed);
    ifx_buf_free(&state);
    sim_check(s, name, seed);
}

static void sim_init(sim *s, uint64_t seed, sim_opts o)
{
    memset(s, 0, sizeof *s);
    s->rng = seed * 0x2545F4914F6CDD1DULL + 1;
    s->o = o;
    if (s->o.ntables < 1)
        s->o.ntables = 1;
    if (s->o.arrival_span < 1)
        s->o.arrival_span = 1;
}

static void sim_done(sim *s)
{
    g_totals.scenarios++;
    g_totals.rows += s->n;
    g_totals.polls += s->polls;
    g_totals.nacks += s->nacks;
    g_totals.restarts += s->restarts;
    if (s->max_seen > g_totals.max_seen)
        g_totals.max_seen = s->max_seen;
    free(s->rows);
    free(s->delivered);
    free(s->ans);
    free(s->ans_id);
    free(s->emit);
    free(s->tmp);
}

static sim_opts opts(uint32_t batch, unsigned nack_pct, unsigned restart_pct)
{
    sim_opts o = {.batch = batch,
                  .start = 0,
                  .nack_pct = nack_pct,
                  .restart_pct = restart_pct,
                  .ntables = 1,
                  .arrival_span = 1};
    return o;
}

static void test_sim_r1(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        sim s;
        sim_init(&s, seed, opts(3, seed > 1 ? 25 : 0, seed > 1 ? 20 : 0));
        sim_add(&s, 1, 0);
        sim_add(&s, 1, 0);
        sim_add(&s, 2, 0);
        sim_add(&s, 2, 0);
        sim_add(&s, 2, 0);
        sim_run(&s, "R1", seed);
        sim_done(&s);
    }
}

static void test_sim_long_tie(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 2; seed++) {
        sim s;
        sim_init(&s, seed, opts(7, 20, 10));
        sim_add(&s, 5, 0);
        for (int i = 0; i < 1000; i++)
            sim_add(&s, 1000, 0);
        sim_add(&s, 1001, 0);
        sim_run(&s, "1000 rows at one time, batch 7", seed);
        assert_true(s.max_seen > 900); /* the seen set carried most of the run */
        sim_done(&s);
    }
}

static void test_sim_r3_tables_of_different_density(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 30; seed++) {
        sim s;
        sim_opts o = opts(1 + (uint32_t)(seed % 5), 15, 10);
        o.ntables = 4;
        sim_init(&s, seed, o);
        for (int64_t t = 0; t < 200; t++)
            sim_add(&s, t, 0); /* every ns */
        for (int64_t t = 0; t < 200; t += 17)
            sim_add(&s, t, 1); /* sparse */
        for (int64_t t = 0; t < 200; t += 50)
            for (int k = 0; k < 6; k++)
                sim_add(&s, t, 2); /* bursts */
        sim_add(&s, 199, 3);       /* one late row */
        sim_run(&s, "R3 densities", seed);
        sim_done(&s);
    }
}

static void test_sim_equal_times_across_tables(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 30; seed++) {
        sim s;
        sim_opts o = opts(1 + (uint32_t)(seed % 4), 20, 15);
        o.ntables = 5;
        sim_init(&s, seed, o);
        for (int64_t t = 10; t < 30; t++)
            for (int64_t tb = 0; tb < 5; tb++)
                for (uint64_t k = 0; k <= (uint64_t)((t + tb) % 3); k++)
                    sim_add(&s, t * 1000, tb);
        sim_run(&s, "equal times across tables", seed);
        sim_done(&s);
    }
}

static void test_sim_batch_ends_on_time_change(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        for (uint32_t batch = 2; batch <= 4; batch++) {
            sim s;
            sim_init(&s, seed, opts(batch, seed == 1 ? 0 : 20, 10));
            for (int64_t t = 1; t <= 6; t++) /* runs exactly one batch long */
                for (uint32_t k = 0; k < batch; k++)
                    sim_add(&s, t, 0);
            sim_run(&s, "batch ends on a time change", seed);
            sim_done(&s);
        }
    }
}

static void test_sim_batch_size_one(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 30; seed++) {
        sim s;
        sim_opts o = opts(1, 20, 15);
        o.ntables = 2;
        sim_init(&s, seed, o);
        for (int i = 0; i < 60; i++)
            sim_add(&s, (int64_t)rng_below(&s.rng, 12), (int64_t)rng_below(&s.rng, 2));
        sim_run(&s, "batch 1 (R16)", seed);
        sim_done(&s);
    }
}

static void test_sim_empty_and_before_start(void **state)
{
    (void)state;
    sim s;
    sim_init(&s, 1, opts(5, 0, 0));
    sim_run(&s, "empty", 1);
    assert_int_equal(s.polls, 1);
    sim_done(&s);
    /* only rows before the start (initial_offset): nothing is delivered */
    sim_opts o = opts(2, 0, 0);
    o.start = 100;
    sim_init(&s, 2, o);
    for (int i = 0; i < 10; i++)
        sim_add(&s, 90 + i, 0);
    sim_run(&s, "all before start", 2);
    sim_done(&s);
}

static void test_sim_rows_arrive_while_polling(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        sim s;
        sim_opts o = opts(1 + (uint32_t)(seed % 6), 20, 10);
        o.ntables = 1 + (int64_t)(seed % 3);
        o.arrivals = 150;
        o.arrival_span = seed % 2 ? 1 : 5; /* span 1: every new row lands exactly at T */
        sim_init(&s, seed, o);
        for (int i = 0; i < 30; i++)
            sim_add(&s, (int64_t)rng_below(&s.rng, 10), (int64_t)rng_below(&s.rng, 3) % o.ntables);
        sim_run(&s, "arrivals", seed);
        sim_done(&s);
    }
}

static void test_sim_copies_share_time_and_hash(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        sim s;
        sim_opts o = opts(1 + (uint32_t)(seed % 4), 20, 10);
        o.ntables = 1 + (int64_t)(seed % 2);
        o.copies = true;
        o.arrivals = seed % 3 ? 0 : 40;
        o.arrival_span = 2;
        sim_init(&s, seed, o);
        for (int i = 0; i < 80; i++)
            sim_add(&s, (int64_t)rng_below(&s.rng, 8), (int64_t)rng_below(&s.rng, 2) % o.ntables);
        sim_run(&s, "copies", seed);
        sim_done(&s);
    }
}

static void test_sim_random(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 600; seed++) {
        uint64_t g = seed ^ 0xC0FFEE;
        sim s;
        sim_opts o;
        static const int64_t spans[] = {1, 2, 5, 20, 100, 100000};
        int64_t span = spans[rng_below(&g, 6)];
        memset(&o, 0, sizeof o);
        o.batch = 1 + (uint32_t)rng_below(&g, 16);
        o.ntables = 1 + (int64_t)rng_below(&g, 5);
        o.nack_pct = (unsigned)rng_below(&g, 35);
        o.restart_pct = (unsigned)rng_below(&g, 25);
        o.copies = rng_below(&g, 6) == 0;
        o.arrivals = rng_below(&g, 3) == 0 ? (size_t)rng_below(&g, 60) : 0;
        o.arrival_span = 1 + (int64_t)rng_below(&g, (uint64_t)span);
        o.start = rng_below(&g, 4) == 0 ? (int64_t)rng_below(&g, (uint64_t)span) : 0;
        size_t n = (size_t)rng_below(&g, 400);
        sim_init(&s, seed, o);
        for (size_t i = 0; i < n; i++)
            sim_add(&s, (int64_t)rng_below(&s.rng, (uint64_t)span),
                    (int64_t)rng_below(&s.rng, (uint64_t)o.ntables));
        sim_run(&s, "random", seed);
        sim_done(&s);
    }
    print_message("simulation: %zu scenarios, %zu rows, %zu polls, %zu nacks, %zu restarts, "
                  "largest seen set %zu\n",
                  g_totals.scenarios, g_totals.rows, g_totals.polls, g_totals.nacks,
                  g_totals.restarts, g_totals.max_seen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_copy_free),
        cmocka_unit_test(test_query_time_and_limit),
        cmocka_unit_test(test_seen_count),
        cmocka_unit_test(test_plan_empty_answer),
        cmocka_unit_test(test_plan_short_answer_moves_to_last_time),
        cmocka_unit_test(test_plan_rows_before_cursor_and_seen_are_dropped),
        cmocka_unit_test(test_plan_nothing_new_keeps_cursor),
        cmocka_unit_test(test_plan_r1_full_answer_inside_a_tie),
        cmocka_unit_test(test_plan_r3_frontier_of_full_tables),
        cmocka_unit_test(test_plan_tables_need_not_be_contiguous),
        cmocka_unit_test(test_plan_unsorted_table_is_refused),
        cmocka_unit_test(test_plan_full_table_before_cursor_is_refused),
        cmocka_unit_test(test_plan_full_answer_without_progress_is_refused),
        cmocka_unit_test(test_plan_progress_inside_a_long_tie),
        cmocka_unit_test(test_plan_copies_are_counted),
        cmocka_unit_test(test_plan_seen_is_replaced_when_time_moves),
        cmocka_unit_test(test_plan_extreme_times),
        cmocka_unit_test(test_encode_layout),
        cmocka_unit_test(test_encode_decode_round_trips),
        cmocka_unit_test(test_decode_refusals),
        cmocka_unit_test(test_hash_known_values),
        cmocka_unit_test(test_hash_known_values_every_tail),
        cmocka_unit_test(test_hash_length_seed_and_every_byte),
        cmocka_unit_test(test_hash_two_lanes_equal_two_hashes),
        cmocka_unit_test(test_hash_avalanche),
        cmocka_unit_test(test_hash_no_collisions_on_structured_input),
        cmocka_unit_test(test_sim_r1),
        cmocka_unit_test(test_sim_long_tie),
        cmocka_unit_test(test_sim_r3_tables_of_different_density),
        cmocka_unit_test(test_sim_equal_times_across_tables),
        cmocka_unit_test(test_sim_batch_ends_on_time_change),
        cmocka_unit_test(test_sim_batch_size_one),
        cmocka_unit_test(test_sim_empty_and_before_start),
        cmocka_unit_test(test_sim_rows_arrive_while_polling),
        cmocka_unit_test(test_sim_copies_share_time_and_hash),
        cmocka_unit_test(test_sim_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
