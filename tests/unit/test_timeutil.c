/* Tests for RFC 3339 timestamps and durations (include/ifx/timeutil.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ifx/timeutil.h"
#include "core/timeutil_internal.h"

/* ---- RFC 3339 -------------------------------------------------------------------------------- */

static int64_t parse_ok(const char *s)
{
    ifx_err err;
    int64_t ns = 12345;

    ifx_err_clear(&err);
    if (ifx_time_parse_rfc3339(s, strlen(s), &ns, &err) != IFX_OK)
        fail_msg("\"%s\" refused: %s", s, err.msg);
    return ns;
}

static void assert_time_refused(const char *s, const char *msg)
{
    ifx_err err;
    int64_t ns = 12345;

    ifx_err_clear(&err);
    assert_int_equal(ifx_time_parse_rfc3339(s, strlen(s), &ns, &err), IFX_E_INVALID);
    assert_int_equal(err.code, IFX_E_INVALID);
    assert_int_equal(ns, 12345); /* untouched on failure */
    if (msg)
        assert_string_equal(err.msg, msg);
}

static void assert_format(int64_t ns, const char *want)
{
    char out[IFX_RFC3339_MAX];
    size_t n = ifx_time_format_rfc3339(ns, out);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void test_rfc3339_basic(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parse_ok("1970-01-01T00:00:01Z"), 1000000000LL);
    assert_int_equal(parse_ok("2024-01-02T03:04:05Z"), 1704164645000000000LL);
    /* lower-case t and z, and a space for T */
    assert_int_equal(parse_ok("2024-01-02t03:04:05z"), 1704164645000000000LL);
    assert_int_equal(parse_ok("2024-01-02 03:04:05Z"), 1704164645000000000LL);
    assert_int_equal(parse_ok("1969-12-31T23:59:59Z"), -1000000000LL);
    assert_int_equal(parse_ok("1969-12-31T23:59:59.999999999Z"), -1);
    assert_int_equal(parse_ok("2000-03-01T00:00:00Z"), 951868800000000000LL);
}

static void test_rfc3339_offsets(void **state)
{
    (void)state;
    /* 05:04:05+02:00 is 03:04:05Z */
    assert_int_equal(parse_ok("2024-01-02T05:04:05+02:00"), 1704164645000000000LL);
    assert_int_equal(parse_ok("2024-01-02T01:04:05-02:00"), 1704164645000000000LL);
    assert_int_equal(parse_ok("2024-01-02T03:34:05+00:30"), 1704164645000000000LL);
    assert_int_equal(parse_ok("2024-01-02T03:04:05+00:00"), 1704164645000000000LL);
    assert_int_equal(parse_ok("2024-01-02T03:04:05-00:00"), 1704164645000000000LL);
    /* the offset moves the date across midnight and a year */
    assert_int_equal(parse_ok("2024-01-01T01:00:00+02:00"), parse_ok("2023-12-31T23:00:00Z"));
    assert_int_equal(parse_ok("2024-01-02T03:04:05.5+02:00"), 1704157445500000000LL);
}

static void test_rfc3339_fraction(void **state)
{
    static const struct {
        const char *s;
        int64_t ns;
    } v[] = {
        {"2024-01-02T03:04:05.1Z", 1704164645100000000LL},
        {"2024-01-02T03:04:05.12Z", 1704164645120000000LL},
        {"2024-01-02T03:04:05.123Z", 1704164645123000000LL},
        {"2024-01-02T03:04:05.1234Z", 1704164645123400000LL},
        {"2024-01-02T03:04:05.12345Z", 1704164645123450000LL},
        {"2024-01-02T03:04:05.123456Z", 1704164645123456000LL},
        {"2024-01-02T03:04:05.1234567Z", 1704164645123456700LL},
        {"2024-01-02T03:04:05.12345678Z", 1704164645123456780LL},
        {"2024-01-02T03:04:05.123456789Z", 1704164645123456789LL},
        {"2024-01-02T03:04:05.000000001Z", 1704164645000000001LL},
        {"2024-01-02T03:04:05.0Z", 1704164645000000000LL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        assert_int_equal(parse_ok(v[i].s), v[i].ns);
    assert_time_refused("2024-01-02T03:04:05.1234567890Z",
                        "invalid RFC 3339 timestamp \"2024-01-02T03:04:05.1234567890Z\": more "
                        "than 9 fraction digits");
    assert_time_refused("2024-01-02T03:04:05.Z",
                        "invalid RFC 3339 timestamp \"2024-01-02T03:04:05.Z\": expected digits "
                        "after '.'");
}

static void test_rfc3339_calendar(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2024-02-29T00:00:00Z"), 1709164800000000000LL);
    assert_int_equal(parse_ok("2000-02-29T00:00:00Z"), 951782400000000000LL);
    assert_int_equal(parse_ok("2024-12-31T23:59:59Z"), 1735689599000000000LL);
    assert_time_refused("2023-02-29T00:00:00Z",
                        "invalid RFC 3339 timestamp \"2023-02-29T00:00:00Z\": day 29 is out of "
                        "range for 2023-02");
    /* 1900 is not a leap year (divisible by 100, not by 400) */
    assert_time_refused("1900-02-29T00:00:00Z", NULL);
    assert_time_refused("2024-04-31T00:00:00Z", NULL);
    assert_time_refused("2024-01-00T00:00:00Z", NULL);
    assert_time_refused("2024-13-01T00:00:00Z",
                        "invalid RFC 3339 timestamp \"2024-13-01T00:00:00Z\": month 13 is out of "
                        "range");
    assert_time_refused("2024-00-01T00:00:00Z", NULL);
    assert_time_refused("2024-01-01T24:00:00Z",
                        "invalid RFC 3339 timestamp \"2024-01-01T24:00:00Z\": hour 24 is out of "
                        "range");
    assert_time_refused("2024-01-01T23:60:00Z",
                        "invalid RFC 3339 timestamp \"2024-01-01T23:60:00Z\": minute 60 is out "
                        "of range");
    /* the leap second is refused: Unix time cannot represent it */
    assert_time_refused("2016-12-31T23:59:60Z",
                        "invalid RFC 3339 timestamp \"2016-12-31T23:59:60Z\": second 60 is out "
                        "of range (leap seconds are not supported)");
}

static void test_rfc3339_syntax(void **state)
{
    (void)state;
    assert_time_refused("", "invalid RFC 3339 timestamp \"\": expected a date YYYY-MM-DD");
    assert_time_refused("2024-01-02T03:04:05",
                        "invalid RFC 3339 timestamp \"2024-01-02T03:04:05\": missing zone (Z or "
                        "+HH:MM)");
    assert_time_refused("2024-01-02", "invalid RFC 3339 timestamp \"2024-01-02\": expected 'T' "
                                      "and a time after the date");
    assert_time_refused("2024-1-02T03:04:05Z", NULL);
    assert_time_refused("24-01-02T03:04:05Z", NULL);
    assert_time_refused("2024-01-02T3:04:05Z", NULL);
    assert_time_refused("2024-01-02T03:04Z", NULL);
    assert_time_refused("2024-01-02T03:04:05+0200", NULL);
    assert_time_refused("2024-01-02T03:04:05+02", NULL);
    assert_time_refused("2024-01-02T03:04:05+24:00",
                        "invalid RFC 3339 timestamp \"2024-01-02T03:04:05+24:00\": zone offset "
                        "24:00 is out of range");
    assert_time_refused("2024-01-02T03:04:05ZZ",
                        "invalid RFC 3339 timestamp \"2024-01-02T03:04:05ZZ\": unexpected text "
                        "after the zone");
    assert_time_refused("2024-01-02T03:04:05Z ", NULL);
    assert_time_refused(" 2024-01-02T03:04:05Z", NULL);
    assert_time_refused("2024-01-02T03:04:05 UTC", NULL);
    assert_time_refused("1704164645", NULL);
}

static void test_rfc3339_limits(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1677-09-21T00:12:43.145224192Z"), INT64_MIN);
    assert_int_equal(parse_ok("2262-04-11T23:47:16.854775807Z"), INT64_MAX);
    /* the same instants through an offset */
    assert_int_equal(parse_ok("2262-04-12T01:47:16.854775807+02:00"), INT64_MAX);
    assert_int_equal(parse_ok("1677-09-20T23:12:43.145224192-01:00"), INT64_MIN);
    assert_time_refused("1677-09-21T00:12:43.145224191Z",
                        "invalid RFC 3339 timestamp \"1677-09-21T00:12:43.145224191Z\": outside "
                        "the range of int64 nanoseconds (1677-09-21T00:12:43.145224192Z to "
                        "2262-04-11T23:47:16.854775807Z)");
    assert_time_refused("2262-04-11T23:47:16.854775808Z", NULL);
    assert_time_refused("2262-04-11T23:47:16.854775807-00:01", NULL);
    assert_time_refused("0000-01-01T00:00:00Z", NULL);
    assert_time_refused("9999-12-31T23:59:59Z", NULL);
}

static void test_rfc3339_format(void **state)
{
    (void)state;
    assert_format(0, "1970-01-01T00:00:00Z");
    assert_format(1, "1970-01-01T00:00:00.000000001Z");
    assert_format(-1, "1969-12-31T23:59:59.999999999Z");
    assert_format(1704164645000000000LL, "2024-01-02T03:04:05Z");
    assert_format(1704164645100000000LL, "2024-01-02T03:04:05.1Z");
    assert_format(1704164645123456000LL, "2024-01-02T03:04:05.123456Z");
    assert_format(1709164800000000000LL, "2024-02-29T00:00:00Z");
    assert_format(INT64_MIN, "1677-09-21T00:12:43.145224192Z");
    assert_format(INT64_MAX, "2262-04-11T23:47:16.854775807Z");
    assert_format(-86400LL * 1000000000LL, "1969-12-31T00:00:00Z");
}

static void test_rfc3339_roundtrip(void **state)
{
    char out[IFX_RFC3339_MAX];
    (void)state;
    /* every day boundary over a few leap cycles, both sides of the epoch */
    for (int64_t day = -800; day <= 800; day += 1) {
        int64_t ns = day * 86400LL * 1000000000LL + 3723000000001LL;
        size_t n = ifx_time_format_rfc3339(ns, out);
        int64_t back = 0;
        assert_int_equal(ifx_time_parse_rfc3339(out, n, &back, NULL), IFX_OK);
        assert_int_equal(back, ns);
    }
    for (int64_t ns = INT64_MAX; ns > INT64_MAX - 1000; ns -= 7) {
        int64_t back = 0;
        size_t n = ifx_time_format_rfc3339(ns, out);
        assert_int_equal(ifx_time_parse_rfc3339(out, n, &back, NULL), IFX_OK);
        assert_int_equal(back, ns);
    }
}

/* ---- durations ------------------------------------------------------------------------------- */

static uint64_t duration_ok(const char *s)
{
    ifx_err err;
    uint64_t ns = 12345;

    ifx_err_clear(&err);
    if (ifx_duration_parse(s, strlen(s), &ns, &err) != IFX_OK)
        fail_msg("\"%s\" refused: %s", s, err.msg);
    return ns;
}

static void assert_duration_refused(const char *s, const char *msg)
{
    ifx_err err;
    uint64_t ns = 12345;

    ifx_err_clear(&err);
    assert_int_equal(ifx_duration_parse(s, strlen(s), &ns, &err), IFX_E_INVALID);
    assert_int_equal(ns, 12345);
    if (msg)
        assert_string_equal(err.msg, msg);
}

static void test_duration_parse(void **state)
{
    static const struct {
        const char *s;
        uint64_t ns;
    } v[] = {
        {"0", 0},
        {" 0 ", 0},
        {"0s", 0},
        {"5s", 5000000000ULL},
        {"200ms", 200000000ULL},
        {"1m30s", 90000000000ULL},
        {"1m 30s", 90000000000ULL},
        {"1h", 3600000000000ULL},
        {"1d", 86400000000000ULL},
        {"1w", 604800000000000ULL},
        {"1ns", 1},
        {"1us", 1000},
        {"1\xC2\xB5s", 1000},
        {"1\xCE\xBCs", 1000},
        {"1s500ms", 1500000000ULL},
        {"30sec", 30000000000ULL},
        {"2 seconds", 2000000000ULL},
        {"1 m 30 s", 90000000000ULL},
        {"1second", 1000000000ULL},
        {"3mins", 180000000000ULL},
        {"1minute 1hour", 3660000000000ULL},
        {"2hrs", 7200000000000ULL},
        {"1day 2weeks", 1296000000000000ULL},
        {"7nsec 7usec 7msec", 7007007ULL},
        {"007s", 7000000000ULL},
        {"1h1h", 7200000000000ULL},
        {"18446744073709551615ns", UINT64_MAX},
        {"5124095h34m33s709ms551us615ns", UINT64_MAX},
    };
    (void)state;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        assert_true(duration_ok(v[i].s) == v[i].ns);
}

static void test_duration_refused(void **state)
{
    (void)state;
    assert_duration_refused(
        "", "invalid duration \"\": empty; write for example \"30s\", \"1m30s\" or \"200ms\"");
    assert_duration_refused("   ", NULL);
    assert_duration_refused(
        "5", "invalid duration \"5\": missing unit after \"5\" (ns, us, ms, s, m, h, d or w)");
    assert_duration_refused(
        "5x", "invalid duration \"5x\": unknown unit \"x\" (ns, us, ms, s, m, h, d or w)");
    assert_duration_refused(
        "30sex", "invalid duration \"30sex\": unknown unit \"sex\" (ns, us, ms, s, m, h, d or w)");
    assert_duration_refused("-1s", "invalid duration \"-1s\": a duration cannot be negative");
    assert_duration_refused("99999999999999999999s",
                            "invalid duration \"99999999999999999999s\": \"99999999999999999999s\" "
                            "is too large (the most is 5124095h34m33s709ms551us615ns)");
    /* each part fits, their product or sum does not */
    assert_duration_refused("18446744073709551615s", NULL);
    assert_duration_refused("18446744073709551615ns 1ns", NULL);
    assert_duration_refused("1.5s", "invalid duration \"1.5s\": fractions are not supported "
                                    "(\"1.5s\"); combine units instead, as in \"1s500ms\"");
    assert_duration_refused("s", "invalid duration \"s\": expected a number before \"s\"");
    assert_duration_refused("00", NULL);
    assert_duration_refused("1S", NULL);
    assert_duration_refused("+1s", NULL);
    assert_duration_refused("1s,2s", NULL);
    assert_duration_refused("1y", NULL);
    assert_duration_refused("1M", NULL);
}

static void test_duration_error_offset(void **state)
{
    ifx_err err;
    uint64_t ns;
    (void)state;
    ifx_err_clear(&err);
    assert_int_equal(ifx_duration_parse("1m 30x", 6, &ns, &err), IFX_E_INVALID);
    assert_int_equal(err.offset, 5);
    /* the value is bounded by len, not by a NUL */
    assert_int_equal(ifx_duration_parse("5sXX", 2, &ns, &err), IFX_OK);
    assert_true(ns == 5000000000ULL);
}

static void assert_duration_format(uint64_t ns, const char *want)
{
    char out[IFX_DURATION_MAX];
    uint64_t back = 1;
    size_t n = ifx_duration_format(ns, out);

    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
    assert_int_equal(ifx_duration_parse(out, n, &back, NULL), IFX_OK);
    assert_true(back == ns);
}

static void test_duration_format(void **state)
{
    (void)state;
    assert_duration_format(0, "0s");
    assert_duration_format(1, "1ns");
    assert_duration_format(1000, "1us");
    assert_duration_format(200000000ULL, "200ms");
    assert_duration_format(1500000000ULL, "1s500ms");
    assert_duration_format(5000000000ULL, "5s");
    assert_duration_format(30000000000ULL, "30s");
    assert_duration_format(60000000000ULL, "1m");
    assert_duration_format(90000000000ULL, "1m30s");
    assert_duration_format(3600000000000ULL, "1h");
    assert_duration_format(86400000000000ULL, "24h");
    assert_duration_format(3723004005006ULL, "1h2m3s4ms5us6ns");
    assert_duration_format(UINT64_MAX, "5124095h34m33s709ms551us615ns");
}

/* One input through the fast path, with and without a zone, against the general parser; and
 * through the memo's path (memo kept from the inputs before), against the fast path. */
static void check_fast(const char *s, size_t len, ifxi_time_memo *memo)
{
    int64_t fast = -1, slow = -2, full = -3;
    char zoned[64];
    ifx_rc want = ifxi_time_parse_rfc3339_general(s, len, &slow, NULL);

    /* ifx_time_parse_rfc3339 (the fast path first) agrees with the general parser on every input */
    assert_int_equal(ifx_time_parse_rfc3339(s, len, &full, NULL), want);
    if (want == IFX_OK)
        assert_true(full == slow);
    for (int zone = 0; zone < 2; zone++) {
        int64_t plain = -4, memoed = -5;
        bool took = ifxi_time_parse_utc_fast(s, len, zone, &plain);
        assert_int_equal(ifxi_time_parse_utc_memo(s, len, zone, &memoed, memo), took);
        if (took)
            assert_true(memoed == plain);
    }
    if (ifxi_time_parse_utc_fast(s, len, true, &fast)) {
        assert_int_equal(want, IFX_OK);
        assert_true(fast == slow);
    }
    /* zone-less: what the general parser makes of the text with a Z */
    if (ifxi_time_parse_utc_fast(s, len, false, &fast)) {
        assert_true(len < sizeof zoned - 1);
        memcpy(zoned, s, len);
        zoned[len] = 'Z';
        assert_int_equal(ifxi_time_parse_rfc3339_general(zoned, len + 1, &slow, NULL), IFX_OK);
        assert_true(fast == slow);
    }
}

/* The fast path of the usual form gives the general parser's value wherever it takes an input,
 * and leaves every other input to it: formatted times of random instants across the whole int64
 * range (with and without their fraction and zone), then the same mutated byte by byte. */
static void test_rfc3339_fast_path(void **state)
{
    static const char alphabet[] = "0123456789-:.TtZz +9";
    uint64_t rng = 0x9E3779B97F4A7C15ULL;
    char text[IFX_RFC3339_MAX + 8];
    ifxi_time_memo memo = {0};
    size_t taken = 0;
    int64_t prev = 1767225600000000000LL;
    (void)state;

    for (int round = 0; round < 200000; round++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        int64_t ns = (int64_t)rng;
        if (round % 4 == 0)
            ns = (int64_t)(rng % 300000000000000000ULL) + 1600000000000000000LL; /* near now */
        /* near the time before: the same minute, or the same day and another hour or minute,
         * for the memo */
        if (round % 4 == 2 && prev > -9000000000000000000LL && prev < 9000000000000000000LL)
            ns = prev + (int64_t)(rng % (round % 8 == 2 ? 60000000000ULL : 86400000000000ULL));
        prev = ns;
        if (round % 8 == 1)
            ns -= ns % 1000000000LL; /* no fraction */
        size_t len = ifx_time_format_rfc3339(ns, text);
        if (round % 3 == 0)
            len--; /* v3's zone-less form */
        int64_t got = 0;
        if (ifxi_time_parse_utc_fast(text, len, round % 3 != 0, &got)) {
            assert_true(got == ns);
            taken++;
        }
        check_fast(text, len, &memo);
        /* one to three bytes changed, or the text cut */
        int changes = 1 + (int)(rng >> 60) % 3;
        for (int k = 0; k < changes; k++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            text[(rng >> 8) % len] = alphabet[(rng >> 32) % (sizeof alphabet - 1)];
        }
        check_fast(text, len, &memo);
        check_fast(text, (size_t)(rng >> 40) % (len + 1), &memo);
    }
    assert_true(taken > 50000); /* the fast path did run */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3339_basic),     cmocka_unit_test(test_rfc3339_offsets),
        cmocka_unit_test(test_rfc3339_fraction),  cmocka_unit_test(test_rfc3339_calendar),
        cmocka_unit_test(test_rfc3339_syntax),    cmocka_unit_test(test_rfc3339_limits),
        cmocka_unit_test(test_rfc3339_format),    cmocka_unit_test(test_rfc3339_roundtrip),
        cmocka_unit_test(test_rfc3339_fast_path), cmocka_unit_test(test_duration_parse),
        cmocka_unit_test(test_duration_refused),  cmocka_unit_test(test_duration_error_offset),
        cmocka_unit_test(test_duration_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
