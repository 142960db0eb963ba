/* Line protocol builder: the encoder rules of line-protocol.md §6 through the C API. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <inttypes.h>
#include <stdio.h>

#include "core/lp_internal.h"
#include "ifx/lp.h"
#include "ifx/message.h"

#define S(x) x, strlen(x)

static void assert_msg_has(const ifx_err *e, const char *part)
{
    if (!strstr(e->msg, part))
        fail_msg("message \"%s\" does not contain \"%s\"", e->msg, part);
}

static void test_basic_line_and_batch(void **state)
{
    ifx_lp lp;
    ifx_err e;
    (void)state;
    ifx_lp_init(&lp, IFX_VERSION_V2, IFX_PRECISION_NS, 1 << 20);
    assert_int_equal(ifx_lp_begin_line(&lp, S("cpu"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_tag(&lp, S("region"), S("west"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_tag(&lp, S("host"), S("A"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_float(&lp, S("usage_system"), 64.2, &e), IFX_OK);
    assert_int_equal(ifx_lp_end_line(&lp, true, 1590488773254420000LL, &e), IFX_OK);
    assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_int(&lp, S("i"), -3, &e), IFX_OK);
    assert_int_equal(ifx_lp_add_uint(&lp, S("u"), 7, &e), IFX_OK);
    assert_int_equal(ifx_lp_add_bool(&lp, S("b"), false, &e), IFX_OK);
    assert_int_equal(ifx_lp_add_string(&lp, S("s"), S("a\"b\\c\nd"), &e), IFX_OK);
    assert_int_equal(ifx_lp_end_line(&lp, false, 0, &e), IFX_OK);
    assert_string_equal(lp.batch.data,
                        "cpu,host=A,region=west usage_system=64.2 1590488773254420000\n"
                        "m i=-3i,u=7u,b=false,s=\"a\\\"b\\\\c\nd\"\n");
    assert_int_equal(lp.lines, 2);
    ifx_lp_free(&lp);
}

static void test_precision_scaling(void **state)
{
    static const struct {
        ifx_precision p;
        int64_t ns;
        const char *want;
    } cases[] = {
        {IFX_PRECISION_NS, 1500, "m f=1i 1500\n"},
        {IFX_PRECISION_US, 1500, "m f=1i 1\n"},
        {IFX_PRECISION_MS, 2999999, "m f=1i 2\n"},
        {IFX_PRECISION_S, 1999999999, "m f=1i 1\n"},
        {IFX_PRECISION_US, -1, "m f=1i -1\n"},
        {IFX_PRECISION_S, -1000000000, "m f=1i -1\n"},
        {IFX_PRECISION_S, -1000000001, "m f=1i -2\n"},
        {IFX_PRECISION_NS, INT64_MIN, "m f=1i -9223372036854775808\n"},
    };
    ifx_err e;
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ifx_lp lp;
        ifx_lp_init(&lp, IFX_VERSION_V3, cases[i].p, 4096);
        assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
        assert_int_equal(ifx_lp_add_int(&lp, S("f"), 1, &e), IFX_OK);
        assert_int_equal(ifx_lp_end_line(&lp, true, cases[i].ns, &e), IFX_OK);
        assert_string_equal(lp.batch.data, cases[i].want);
        ifx_lp_free(&lp);
    }
}

static void test_refusals_keep_batch(void **state)
{
    ifx_lp lp;
    ifx_err e;
    (void)state;
    ifx_lp_init(&lp, IFX_VERSION_V1, IFX_PRECISION_NS, 1 << 20);
    assert_int_equal(ifx_lp_begin_line(&lp, S("ok"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_int(&lp, S("f"), 1, &e), IFX_OK);
    assert_int_equal(ifx_lp_end_line(&lp, false, 0, &e), IFX_OK);

    /* NaN and infinities */
    assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_float(&lp, S("x"), NAN, &e), IFX_E_INVALID);
    assert_msg_has(&e, "field \"x\" is NaN");
    assert_false(lp.open);
    assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_float(&lp, S("x"), -INFINITY, &e), IFX_E_INVALID);
    assert_msg_has(&e, "-Inf");

    /* unsigned on v1 */
    assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_uint(&lp, S("u"), 1, &e), IFX_E_UNSUPPORTED);
    assert_msg_has(&e, "InfluxDB 1.x cannot store");

    /* duplicates */
    assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_tag(&lp, S("a"), S("1"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_tag(&lp, S("a"), S("2"), &e), IFX_E_INVALID);
    assert_string_equal(e.msg, "duplicate tag key \"a\"");
    assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_int(&lp, S("v"), 1, &e), IFX_OK);
    assert_int_equal(ifx_lp_add_float(&lp, S("v"), 2, &e), IFX_E_INVALID);
    assert_string_equal(e.msg, "duplicate field key \"v\"");

    /* no fields; calls without an open line */
    assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_tag(&lp, S("t"), S("x"), &e), IFX_OK);
    assert_int_equal(ifx_lp_end_line(&lp, false, 0, &e), IFX_E_INVALID);
    assert_msg_has(&e, "no fields");
    assert_int_equal(ifx_lp_add_int(&lp, S("f"), 1, &e), IFX_E_USAGE);
    assert_int_equal(ifx_lp_end_line(&lp, false, 0, &e), IFX_E_USAGE);

    /* invalid UTF-8 in a tag value and in a string field */
    assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_tag(&lp, S("t"), "a\xff", 2, &e), IFX_E_INVALID);
    assert_msg_has(&e, "tag value of t is not valid UTF-8 (bad byte at offset 1)");
    assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_string(&lp, S("s"), "\xc0\x80", 2, &e), IFX_E_INVALID);
    assert_msg_has(&e, "string field \"s\" is not valid UTF-8");

    /* an aborted line leaves nothing */
    assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_int(&lp, S("f"), 1, &e), IFX_OK);
    ifx_lp_abort_line(&lp);

    assert_string_equal(lp.batch.data, "ok f=1i\n");
    assert_int_equal(lp.lines, 1);
    ifx_lp_free(&lp);
}

static void test_size_limits(void **state)
{
    ifx_lp lp;
    ifx_err e;
    char *big = malloc(IFX_LP_MAX_ELEMENT + 2);
    (void)state;
    memset(big, 'x', IFX_LP_MAX_ELEMENT + 1);
    ifx_lp_init(&lp, IFX_VERSION_V3, IFX_PRECISION_NS, 1 << 20);

    assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_string(&lp, S("s"), big, IFX_LP_MAX_ELEMENT, &e), IFX_OK);
    assert_int_equal(ifx_lp_end_line(&lp, false, 0, &e), IFX_OK);
    assert_int_equal(lp.batch.len, strlen("m s=\"\"\n") + IFX_LP_MAX_ELEMENT);

    assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_string(&lp, S("s"), big, IFX_LP_MAX_ELEMENT + 1, &e),
                     IFX_E_INVALID);
    assert_msg_has(&e, "string field \"s\" is 65537 bytes, over the limit of 65536");
    assert_int_equal(ifx_lp_begin_line(&lp, big, IFX_LP_MAX_ELEMENT + 1, &e), IFX_E_INVALID);
    assert_msg_has(&e, "is 65537 bytes");
    ifx_lp_free(&lp);

    /* 1.x/2.x: measurement + tags + field key must stay under 64 KiB */
    ifx_lp_init(&lp, IFX_VERSION_V2, IFX_PRECISION_NS, 1 << 20);
    assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_tag(&lp, S("t"), big, 40000, &e), IFX_OK);
    assert_int_equal(ifx_lp_add_tag(&lp, S("u"), big, 40000, &e), IFX_OK);
    assert_int_equal(ifx_lp_add_int(&lp, S("f"), 1, &e), IFX_OK);
    assert_int_equal(ifx_lp_end_line(&lp, false, 0, &e), IFX_E_INVALID);
    assert_msg_has(&e, "InfluxDB 2.x allows fewer than 65535");
    ifx_lp_free(&lp);
    free(big);
}

static void test_batch_full_keeps_line(void **state)
{
    ifx_lp lp;
    ifx_err e;
    (void)state;
    ifx_lp_init(&lp, IFX_VERSION_V2, IFX_PRECISION_NS, 20);
    assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_int(&lp, S("f"), 1, &e), IFX_OK);
    assert_int_equal(ifx_lp_end_line(&lp, false, 0, &e), IFX_OK); /* "m f=1i\n": 7 bytes */
    assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_int(&lp, S("f"), 2, &e), IFX_OK);
    assert_int_equal(ifx_lp_end_line(&lp, false, 0, &e), IFX_OK); /* 14 bytes */
    assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_int(&lp, S("f"), 3, &e), IFX_OK);
    assert_int_equal(ifx_lp_end_line(&lp, false, 0, &e), IFX_E_FULL);
    assert_true(lp.open);
    assert_string_equal(lp.batch.data, "m f=1i\nm f=2i\n");
    ifx_lp_clear_batch(&lp);
    assert_int_equal(ifx_lp_end_line(&lp, false, 0, &e), IFX_OK);
    assert_string_equal(lp.batch.data, "m f=3i\n");

    /* a line that can never fit is refused, not reported as full */
    assert_int_equal(ifx_lp_begin_line(&lp, S("measurement"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_string(&lp, S("s"), S("0123456789"), &e), IFX_OK);
    assert_int_equal(ifx_lp_end_line(&lp, false, 0, &e), IFX_E_INVALID);
    assert_msg_has(&e, "larger than the whole batch limit of 20 bytes");
    assert_false(lp.open);
    ifx_lp_free(&lp);
}

/* The digits written straight into the field (ifx_lp_add_uint, ifxi_lp_add_u128_string) make
 * the same line, and the same refusal under every cap, as formatting them first and adding the
 * text (the fields buffer's cap is the batch cap, so small caps take the fallback). */
static void test_direct_digits_match_text(void **state)
{
    static const uint64_t vals[][2] = {{0, 0},
                                       {0, 7},
                                       {0, 12345678},
                                       {0, UINT64_MAX},
                                       {1, 0},
                                       {0x1234567890abcdefull, 42},
                                       {UINT64_MAX, UINT64_MAX}};
    (void)state;
    for (size_t cap = 8; cap <= 96; cap++) {
        for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
            ifx_lp a, b;
            ifx_err ea, eb;
            char num[IFXI_LP_U128_DECIMAL_MAX + 2];
            size_t n;
            ifx_rc ra, rb;
            ifx_lp_init(&a, IFX_VERSION_V2, IFX_PRECISION_NS, cap);
            ifx_lp_init(&b, IFX_VERSION_V2, IFX_PRECISION_NS, cap);
            ifx_err_clear(&ea);
            ifx_err_clear(&eb);
            /* the u128 as a string field */
            ra = ifx_lp_begin_line(&a, S("m"), &ea);
            rb = ifx_lp_begin_line(&b, S("m"), &eb);
            if (!ra)
                ra = ifxi_lp_add_u128_string(&a, S("id"), vals[i][0], vals[i][1], &ea);
            n = ifxi_lp_format_u128(vals[i][0], vals[i][1], num);
            if (!rb)
                rb = ifx_lp_add_string(&b, S("id"), num, n, &eb);
            /* the low half as an unsigned field, against the signed one of the same text */
            if (vals[i][1] <= INT64_MAX) {
                if (!ra)
                    ra = ifx_lp_add_uint(&a, S("u"), vals[i][1], &ea);
                if (!rb && !(rb = ifx_lp_add_int(&b, S("u"), (int64_t)vals[i][1], &eb)))
                    b.fields.data[b.fields.len - 1] = 'u';
            }
            assert_int_equal(ra, rb);
            assert_string_equal(ea.msg, eb.msg);
            if (!ra) {
                assert_int_equal(ifx_lp_end_line(&a, false, 0, &ea),
                                 ifx_lp_end_line(&b, false, 0, &eb));
                assert_string_equal(a.batch.data ? a.batch.data : "",
                                    b.batch.data ? b.batch.data : "");
            }
            ifx_lp_free(&a);
            ifx_lp_free(&b);
        }
    }
}

/* Once the buffers have grown, building the same shape of line again allocates nothing: the
 * buffers keep their addresses. */
static void test_warm_reuse(void **state)
{
    ifx_lp lp;
    ifx_err e;
    (void)state;
    ifx_lp_init(&lp, IFX_VERSION_V3, IFX_PRECISION_US, 1 << 20);
    void *ptrs[6] = {0};
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 100; i++) {
            assert_int_equal(ifx_lp_begin_line(&lp, S("iggy_messages"), &e), IFX_OK);
            assert_int_equal(ifx_lp_add_tag(&lp, S("stream"), S("orders"), &e), IFX_OK);
            assert_int_equal(ifx_lp_add_tag(&lp, S("topic"), S("eu"), &e), IFX_OK);
            assert_int_equal(ifx_lp_add_string(&lp, S("payload_json"), S("{\"a\":1}"), &e), IFX_OK);
            assert_int_equal(ifx_lp_add_uint(&lp, S("iggy_checksum"), 99, &e), IFX_OK);
            assert_int_equal(ifx_lp_end_line(&lp, true, 1000 * i, &e), IFX_OK);
        }
        void *now[6] = {
            lp.batch.data, lp.measurement.data, lp.tagtext.data, lp.fields.data, lp.tags, lp.fkeys};
        if (round > 0)
            assert_memory_equal(ptrs, now, sizeof now);
        memcpy(ptrs, now, sizeof now);
        ifx_lp_reset(&lp);
    }
    ifx_lp_free(&lp);
}

static void test_check_measurement(void **state)
{
    ifx_err e;
    (void)state;
    assert_int_equal(ifx_lp_check_measurement(IFX_VERSION_V2, S("iggy_messages"), &e), IFX_OK);
    assert_int_equal(ifx_lp_check_measurement(IFX_VERSION_V2, S("a\tb"), &e), IFX_E_INVALID);
    assert_string_equal(e.msg, "measurement \"a\\tb\" contains a TAB, which line protocol cannot "
                               "carry in a measurement");
    assert_int_equal(ifx_lp_check_measurement(IFX_VERSION_V3, S("#x"), &e), IFX_E_INVALID);
    assert_int_equal(ifx_lp_check_measurement(IFX_VERSION_V1, S("x\\ y"), &e), IFX_E_UNSUPPORTED);
    assert_int_equal(ifx_lp_check_measurement(IFX_VERSION_V3, S("x\\ y"), &e), IFX_OK);
    assert_int_equal(ifx_lp_check_measurement(IFX_VERSION_AUTO, S(""), &e), IFX_E_INVALID);
}

/* v3 unescapes "\\" and then refuses any measurement, tag key, tag value or field key that ends
 * with a backslash (spec §6.2); 1.x/2.x misread a raw one. Refused on every target, naming the
 * element; a backslash anywhere else stays exact on v3, and a string value may end with one. */
static void test_trailing_backslash(void **state)
{
    static const ifx_version targets[] = {IFX_VERSION_V1, IFX_VERSION_V2, IFX_VERSION_V3};
    ifx_lp lp;
    ifx_err e;
    (void)state;
    for (size_t i = 0; i < 3; i++) {
        ifx_lp_init(&lp, targets[i], IFX_PRECISION_NS, 1 << 20);
        assert_int_equal(ifx_lp_begin_line(&lp, S("m\\"), &e), IFX_E_UNSUPPORTED);
        assert_string_equal(e.msg, "measurement \"m\\\" ends with a backslash, which InfluxDB "
                                   "cannot store: 3.x refuses it however it is escaped, 1.x and "
                                   "2.x misread it");
        assert_false(lp.open);

        assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
        assert_int_equal(ifx_lp_add_tag(&lp, S("k\\"), S("v"), &e), IFX_E_UNSUPPORTED);
        assert_string_equal(e.msg, "tag key \"k\\\" ends with a backslash, which InfluxDB cannot "
                                   "store: 3.x refuses it however it is escaped, 1.x and 2.x "
                                   "misread it");
        assert_false(lp.open);

        assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
        assert_int_equal(ifx_lp_add_tag(&lp, S("host"), S("a\\b\\"), &e), IFX_E_UNSUPPORTED);
        assert_string_equal(e.msg, "tag value \"a\\b\\\" of host ends with a backslash, which "
                                   "InfluxDB cannot store: 3.x refuses it however it is escaped, "
                                   "1.x and 2.x misread it");

        assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
        assert_int_equal(ifx_lp_add_int(&lp, S("f\\"), 1, &e), IFX_E_UNSUPPORTED);
        assert_msg_has(&e, "field key \"f\\\" ends with a backslash");
        assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
        assert_int_equal(ifx_lp_add_float(&lp, S("\\"), 1.5, &e), IFX_E_UNSUPPORTED);
        assert_msg_has(&e, "field key \"\\\" ends with a backslash");

        assert_int_equal(lp.batch.len, 0);
        ifx_lp_free(&lp);
    }

    /* v3: a backslash that is not last is exact, and string values are not names */
    ifx_lp_init(&lp, IFX_VERSION_V3, IFX_PRECISION_NS, 1 << 20);
    assert_int_equal(ifx_lp_begin_line(&lp, S("\\m"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_tag(&lp, S("k\\\\x"), S("\\,v"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_string(&lp, S("s"), S("ends\\"), &e), IFX_OK);
    assert_int_equal(ifx_lp_end_line(&lp, false, 0, &e), IFX_OK);
    assert_string_equal(lp.batch.data, "\\\\m,k\\\\\\\\x=\\\\\\,v s=\"ends\\\\\"\n");
    ifx_lp_free(&lp);

    assert_int_equal(ifx_lp_check_measurement(IFX_VERSION_V3, S("a\\"), &e), IFX_E_UNSUPPORTED);
    assert_msg_has(&e, "ends with a backslash");
}

/* v3's parser ends a measurement at a NUL byte (found by test_lp3_diff); keys and values may hold
 * one. */
static void test_v3_nul_in_measurement(void **state)
{
    ifx_lp lp;
    ifx_err e;
    (void)state;
    ifx_lp_init(&lp, IFX_VERSION_V3, IFX_PRECISION_NS, 1 << 20);
    assert_int_equal(ifx_lp_begin_line(&lp, "a\0b", 3, &e), IFX_E_UNSUPPORTED);
    assert_string_equal(e.msg, "measurement \"a\\x00b\" contains a NUL byte, which InfluxDB 3 "
                               "cannot store in a measurement");
    assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_tag(&lp, "k\0", 2, "\0v", 2, &e), IFX_OK);
    assert_int_equal(ifx_lp_add_string(&lp, "s\0", 2, "\0", 1, &e), IFX_OK);
    assert_int_equal(ifx_lp_end_line(&lp, false, 0, &e), IFX_OK);
    assert_memory_equal(lp.batch.data, "m,k\0=\0v s\0=\"\0\"\n", 16);
    ifx_lp_free(&lp);
}

/* What a real 1.x server does that the portable rules of spec §2 did not say (found by the
 * nasty-point round trip in test_v1_roundtrip): it unescapes \" in a measurement and a field key,
 * skips a NUL that starts a measurement or field set, and refuses times outside +-(2^63 - 2). */
static void test_v1_v2_server_findings(void **state)
{
    static const ifx_version targets[] = {IFX_VERSION_V1, IFX_VERSION_V2};
    ifx_lp lp;
    ifx_err e;
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        ifx_lp_init(&lp, targets[i], IFX_PRECISION_NS, 1 << 20);
        assert_int_equal(ifx_lp_begin_line(&lp, S("_\\\"x"), &e), IFX_E_UNSUPPORTED);
        assert_msg_has(&e, "measurement \"_\\\"x\" has a backslash before a space, ',', '=', "
                           "'\"' or '\\', which InfluxDB ");
        assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
        assert_int_equal(ifx_lp_add_int(&lp, S("\\\"k"), 1, &e), IFX_E_UNSUPPORTED);
        assert_msg_has(&e, "field key \"\\\"k\" has a backslash before");
        /* tags keep \" literally on every server */
        assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
        assert_int_equal(ifx_lp_add_tag(&lp, S("\\\"k"), S("\\\"v"), &e), IFX_OK);
        assert_int_equal(ifx_lp_add_int(&lp, "f\0", 2, 1, &e), IFX_OK); /* NUL not first: kept */
        assert_int_equal(ifx_lp_end_line(&lp, true, 9223372036854775806, &e), IFX_OK);
        assert_memory_equal(lp.batch.data, "m,\\\"k=\\\"v f\0=1i 9223372036854775806\n", 37);

        assert_int_equal(ifx_lp_begin_line(&lp, "\0m", 2, &e), IFX_E_UNSUPPORTED);
        assert_msg_has(&e, "measurement \"\\x00m\" starts with a NUL byte, which InfluxDB ");
        assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
        assert_int_equal(ifx_lp_add_int(&lp, "\0f", 2, 1, &e), IFX_E_UNSUPPORTED);
        assert_msg_has(&e, "field key \"\\x00f\" starts with a NUL byte");

        assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
        assert_int_equal(ifx_lp_add_int(&lp, S("f"), 1, &e), IFX_OK);
        assert_int_equal(ifx_lp_end_line(&lp, true, INT64_MAX, &e), IFX_E_UNSUPPORTED);
        assert_string_equal(e.msg, i == 0 ? "time 9223372036854775807 ns is outside the range "
                                            "InfluxDB 1.x stores (-9223372036854775806 to "
                                            "9223372036854775806 ns)"
                                          : "time 9223372036854775807 ns is outside the range "
                                            "InfluxDB 2.x stores (-9223372036854775806 to "
                                            "9223372036854775806 ns)");
        assert_false(lp.open);
        assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
        assert_int_equal(ifx_lp_add_int(&lp, S("f"), 1, &e), IFX_OK);
        assert_int_equal(ifx_lp_end_line(&lp, true, INT64_MIN + 1, &e), IFX_E_UNSUPPORTED);
        ifx_lp_free(&lp);
    }
    /* in seconds, the bound is the one the server checks after scaling back */
    ifx_lp_init(&lp, IFX_VERSION_V1, IFX_PRECISION_S, 1 << 20);
    assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_int(&lp, S("f"), 1, &e), IFX_OK);
    assert_int_equal(ifx_lp_end_line(&lp, true, 9223372036854775806, &e), IFX_OK);
    assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_int(&lp, S("f"), 1, &e), IFX_OK);
    assert_int_equal(ifx_lp_end_line(&lp, true, -9223372036854775806, &e), IFX_E_UNSUPPORTED);
    assert_string_equal(lp.batch.data, "m f=1i 9223372036\n");
    ifx_lp_free(&lp);
    /* v3 takes all of it */
    ifx_lp_init(&lp, IFX_VERSION_V3, IFX_PRECISION_NS, 1 << 20);
    assert_int_equal(ifx_lp_begin_line(&lp, S("_\\\"x"), &e), IFX_OK);
    assert_int_equal(ifx_lp_add_int(&lp, "\0f", 2, 1, &e), IFX_OK);
    assert_int_equal(ifx_lp_end_line(&lp, true, INT64_MIN, &e), IFX_OK);
    assert_memory_equal(lp.batch.data, "_\\\\\"x \0f=1i -9223372036854775808\n", 34);
    ifx_lp_free(&lp);
}

static void test_line_length(void **state)
{
    (void)state;
    const char *a = "m s=\"x\ny\" 5\nm f=1i\n";
    assert_int_equal(ifx_lp_line_length(a, strlen(a)), 11);
    assert_int_equal(ifx_lp_line_length(a + 12, strlen(a) - 12), 6);
    /* quotes in names and escaped quotes in strings do not open or close strings */
    const char *b = "m\\\"x,t=a\"b s=\"q\\\"\n\\\"\",g=1i\nnext f=1i";
    assert_int_equal(ifx_lp_line_length(b, strlen(b)), strlen(b) - strlen("\nnext f=1i"));
    /* no newline: the whole rest */
    assert_int_equal(ifx_lp_line_length("m f=1i", 6), 6);
    assert_int_equal(ifx_lp_line_length("", 0), 0);
}

/* Integers and times are formatted without printf and scaled without a division by a variable:
 * the same text as printf and as floor division, at every edge and on random values, and the
 * same refusals at the edges of the range 1.x/2.x store. */
static void test_numbers_and_times_exact(void **state)
{
    char got[IFXI_LP_DECIMAL_MAX + 1], want[32];
    uint64_t x = 0x2545F4914F6CDD1Dull;
    ifx_err e;
    (void)state;
    for (int i = 0; i < 200000; i++) {
        uint64_t v;
        if (i < 64 * 3) {
            uint64_t p = 1;
            for (int k = 0; k < i / 3 % 20; k++)
                p *= 10;
            v = p + (uint64_t)(i % 3) - 1; /* 10^k - 1, 10^k, 10^k + 1 */
            if (i / 3 >= 20)
                v = UINT64_MAX - (uint64_t)(i - 60);
        } else {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v = x >> (x % 64);
        }
        size_t n = ifxi_lp_format_u64(v, got);
        got[n] = '\0';
        snprintf(want, sizeof want, "%" PRIu64, v);
        assert_string_equal(got, want);
        /* 128 bits: against ifx_u128_format, with v as either half and the other varied */
        char got128[IFXI_LP_U128_DECIMAL_MAX + 1], want128[IFXI_LP_U128_DECIMAL_MAX + 1];
        uint64_t other = i % 4 == 0 ? 0 : i % 4 == 1 ? UINT64_MAX : i % 4 == 2 ? x : (uint64_t)i;
        for (int half = 0; half < 2; half++) {
            ifx_u128 u = half ? (ifx_u128){v, other} : (ifx_u128){other, v};
            n = ifxi_lp_format_u128(u.hi, u.lo, got128);
            got128[n] = '\0';
            want128[ifx_u128_format(u, want128)] = '\0';
            assert_string_equal(got128, want128);
        }
    }
    /* The eight-digit chunks (lanes split by multiplication): every value below 10^6, then a
     * stride across 10^8, alone and as the low and high chunks of longer numbers. */
    for (uint64_t v = 0; v < 100000000; v += v < 1000000 ? 1 : 997) {
        static const uint64_t highs[] = {0, 1, 99999999, 12345678ull * 100000000,
                                         1844ull * 10000000000000000ull};
        for (size_t h = 0; h < sizeof highs / sizeof *highs; h++) {
            uint64_t w = highs[h] + v;
            size_t n = ifxi_lp_format_u64(w, got);
            got[n] = '\0';
            snprintf(want, sizeof want, "%" PRIu64, w);
            assert_string_equal(got, want);
        }
    }
    /* 128-bit edges: around 10^19, 10^38, 2^64 * 10^19 (the middle chunk's limit), 2^128 - 1 */
    static const ifx_u128 edges[] = {{0x0000000000000000ull, 0x8ac7230489e80000ull},
                                     {0x0000000000000000ull, 0x8ac7230489e7ffffull},
                                     {0x0000000000000000ull, 0x8ac7230489e80001ull},
                                     {0x4b3b4ca85a86c47aull, 0x098a224000000000ull},
                                     {0x4b3b4ca85a86c47aull, 0x098a223fffffffffull},
                                     {0x4b3b4ca85a86c47aull, 0x098a224000000001ull},
                                     {0x8ac7230489e80000ull, 0x0000000000000000ull},
                                     {0x8ac7230489e7ffffull, 0xffffffffffffffffull},
                                     {0x8ac7230489e80000ull, 0x0000000000000001ull},
                                     {0xffffffffffffffffull, 0xffffffffffffffffull},
                                     {0x0000000000000001ull, 0x0000000000000000ull},
                                     {0x0000000000000000ull, 0xffffffffffffffffull},
                                     {0xe1b1e5f90f944d6eull, 0x1c9e66c000003039ull},
                                     {0x0000000000000005ull, 0x6bc75e2d63100000ull},
                                     {0x0000000000000005ull, 0x6bc75e2d630fffffull},
                                     {0x0785ee10d5da46d9ull, 0x00f436a000000000ull}};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
        char got128[IFXI_LP_U128_DECIMAL_MAX + 1], want128[IFXI_LP_U128_DECIMAL_MAX + 1];
        got128[ifxi_lp_format_u128(edges[i].hi, edges[i].lo, got128)] = '\0';
        want128[ifx_u128_format(edges[i], want128)] = '\0';
        assert_string_equal(got128, want128);
    }
    static const ifx_precision ps[] = {IFX_PRECISION_NS, IFX_PRECISION_US, IFX_PRECISION_MS,
                                       IFX_PRECISION_S};
    static const int64_t times[] = {0,
                                    1,
                                    -1,
                                    999,
                                    -999,
                                    1000,
                                    -1000,
                                    -1001,
                                    1764118800000000123,
                                    -1764118800000000123,
                                    INT64_MAX,
                                    INT64_MIN,
                                    INT64_MAX - 1,
                                    INT64_MIN + 1,
                                    INT64_MIN + 2,
                                    -INT64_MAX + 1000000000,
                                    -INT64_MAX + 999999999,
                                    INT64_MAX - 1000000000,
                                    INT64_MAX - 999999999,
                                    INT64_MAX - 854775807,
                                    INT64_MAX - 854775808,
                                    INT64_MIN + 854775807,
                                    INT64_MIN + 854775808};
    for (size_t pi = 0; pi < 4; pi++) {
        int64_t d = ifx_precision_ns(ps[pi]);
        for (size_t ti = 0; ti < sizeof times / sizeof *times; ti++) {
            for (int target = 0; target < 2; target++) {
                int64_t ns = times[ti];
                int64_t q = ns / d - (ns % d != 0 && ns < 0);
                bool refused =
                    target == 0 && (q < IFX_LP_GO_MIN_TIME_NS / d || q > IFX_LP_GO_MAX_TIME_NS / d);
                ifx_lp lp;
                ifx_lp_init(&lp, target == 0 ? IFX_VERSION_V2 : IFX_VERSION_V3, ps[pi], 4096);
                assert_int_equal(ifx_lp_begin_line(&lp, S("m"), &e), IFX_OK);
                assert_int_equal(ifx_lp_add_int(&lp, S("f"), ns, &e), IFX_OK);
                assert_int_equal(ifx_lp_end_line(&lp, true, ns, &e),
                                 refused ? IFX_E_UNSUPPORTED : IFX_OK);
                if (!refused) {
                    char line[96];
                    snprintf(line, sizeof line, "m f=%" PRId64 "i %" PRId64 "\n", ns, q);
                    assert_string_equal(lp.batch.data, line);
                }
                ifx_lp_free(&lp);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_line_and_batch),
        cmocka_unit_test(test_precision_scaling),
        cmocka_unit_test(test_refusals_keep_batch),
        cmocka_unit_test(test_size_limits),
        cmocka_unit_test(test_batch_full_keeps_line),
        cmocka_unit_test(test_warm_reuse),
        cmocka_unit_test(test_check_measurement),
        cmocka_unit_test(test_line_length),
        cmocka_unit_test(test_trailing_backslash),
        cmocka_unit_test(test_v3_nul_in_measurement),
        cmocka_unit_test(test_v1_v2_server_findings),
        cmocka_unit_test(test_numbers_and_times_exact),
        cmocka_unit_test(test_direct_digits_match_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
