/* Tests for the source's payloads (src/connector/source_rows.c): a double the answer wrote as a
 * short decimal is passed on as its text, and that text is what formatting the double gives. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connector/cursor.h"
#include "connector/source_rows.h"
#include "core/codec.h"
#include "core/rows_common.h"
#include "ifx/timeutil.h"

/* The payload of a row with one F64 column, with or without the answer's text. */
static void payload(const char *text, bool with_text, ifx_buf *out)
{
    ifx_config cfg;
    ifx_column col = {"v", 1};
    ifx_value val = {.type = IFX_VAL_F64};
    ifx_row row = {.ncols = 1, .cols = &col, .vals = &val};
    ifx_err err;

    memset(&cfg, 0, sizeof cfg);
    val.v.f = strtod(text, NULL);
    if (with_text) {
        val.text.p = text;
        val.text.len = strlen(text);
    }
    ifx_buf_reset(out);
    assert_int_equal(ifxi_source_rows_payload(&cfg, &row, out, &err), IFX_OK);
}

static void assert_same_payload(const char *text)
{
    ifx_buf a, b;
    ifx_buf_init(&a, 4096);
    ifx_buf_init(&b, 4096);
    payload(text, true, &a);
    payload(text, false, &b);
    if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
        print_error("%s: from the text %.*s, formatted %.*s\n", text, (int)a.len, a.data,
                    (int)b.len, b.data);
        fail();
    }
    ifx_buf_free(&a);
    ifx_buf_free(&b);
}

static void test_float_text(void **state)
{
    static const char *const cases[] = {
        "0.5",
        "-0.5",
        "12.34",
        "12.340",
        "100.0",
        "100",
        "0.0",
        "-0.0",
        "0",
        "0.001",
        "1e-7",
        "1.5e3",
        "+1.5",
        "01.5",
        ".5",
        "5.",
        "1.0000",
        "-7.25",
        "3.14159265358979",
        "0.30000000000000004",
        "123456789012345.5",
        "12345678901234.5",
        "0.00000000000000000001",
        "0.000000000000000000001",
        "9007199254740993.0",
    };
    char text[64];
    uint64_t x = 88172645463325252ULL;
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_same_payload(cases[i]);
    /* random decimals of 1 to 17 digits, the point anywhere, trailing zeros sometimes */
    for (int n = 0; n < 200000; n++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int digits = 1 + (int)(x % 17), point = (int)((x >> 8) % (uint64_t)(digits + 3)), k = 0;
        if ((x >> 20) & 1)
            text[k++] = '-';
        uint64_t y = x;
        char d[24];
        for (int j = 0; j < digits; j++, y = y * 6364136223846793005ULL + 1442695040888963407ULL)
            d[j] = (char)('0' + (y >> 33) % 10);
        if ((x >> 24) & 1)
            d[digits - 1] = '0';
        if (point >= digits) { /* 0.000ddd */
            text[k++] = '0';
            text[k++] = '.';
            for (int j = 0; j < point - digits; j++)
                text[k++] = '0';
            memcpy(text + k, d, (size_t)digits), k += digits;
        } else {
            int start = 0;
            while (start < digits - point - 1 && d[start] == '0')
                start++;
            memcpy(text + k, d + start, (size_t)(digits - point - start)),
                k += digits - point - start;
            if (point) {
                text[k++] = '.';
                memcpy(text + k, d + digits - point, (size_t)point), k += point;
            }
        }
        text[k] = '\0';
        assert_same_payload(text);
    }
}

/* Every kind of member, plain and escaped, as the payload object writes it. */
static void test_payload_members(void **state)
{
    ifx_config cfg;
    ifx_column cols[] = {{"s", 1}, {"q\"n", 3},  {"e", 1}, {"n", 1},   {"b", 1},
                         {"f", 1}, {"g", 1},     {"h", 1}, {"i", 1},   {"u", 1},
                         {"t", 1}, {"table", 5}, {"z", 1}, {"nan", 3}, {"big", 3}};
    ifx_value vals[15] = {
        {.type = IFX_VAL_STRING, .v.s = {"caf\xc3\xa9", 5}},
        {.type = IFX_VAL_STRING, .v.s = {"x", 1}},
        {.type = IFX_VAL_STRING, .v.s = {"a\"b\n", 4}},
        {.type = IFX_VAL_NULL},
        {.type = IFX_VAL_BOOL, .v.b = false},
        {.type = IFX_VAL_F64, .v.f = 2.5, .text = {"2.50", 4}},
        {.type = IFX_VAL_F64, .v.f = 100, .text = {"100", 3}},
        {.type = IFX_VAL_F64, .v.f = 1e-7},
        {.type = IFX_VAL_I64, .v.i = INT64_MIN},
        {.type = IFX_VAL_U64, .v.u = UINT64_MAX},
        {.type = IFX_VAL_TIME, .v.i = 1767225600123456789LL},
        {.type = IFX_VAL_I64, .v.i = 3},
        {.type = IFX_VAL_I64, .v.i = 0},
        {.type = IFX_VAL_F64, .v.f = NAN},
        {.type = IFX_VAL_F64, .v.f = 1e300, .text = {"1e300", 5}},
    };
    ifx_row row = {.ncols = 15, .cols = cols, .vals = vals};
    ifx_buf out;
    ifx_err err;
    (void)state;

    memset(&cfg, 0, sizeof cfg);
    ifx_buf_init(&out, 4096);
    assert_int_equal(ifxi_source_rows_payload(&cfg, &row, &out, &err), IFX_OK);
    char want[1024];
    int k = snprintf(want, sizeof want, "%s",
                     "{\"s\":\"caf\xc3\xa9\",\"q\\\"n\":\"x\",\"e\":\"a\\\"b\\n\",\"n\":null,"
                     "\"b\":false,\"f\":2.5,\"g\":100.0,\"h\":0.0000001,"
                     "\"i\":-9223372036854775808,\"u\":18446744073709551615,"
                     "\"t\":\"2026-01-01T00:00:00.123456789Z\",\"z\":0,\"nan\":null,\"big\":1");
    for (int z = 0; z < 300; z++)
        want[k++] = '0'; /* 1e300 positionally: its text has an exponent, so it is formatted */
    snprintf(want + k, sizeof want - (size_t)k, ".0}");
    assert_string_equal(out.data, want);
    ifx_buf_free(&out);
}

/* Names and string values go into the payload as they are when nothing in them needs escaping,
 * found eight bytes at a time: every byte value at every position of every length up to 40, in
 * the name and in the value, gives the bytes of the general JSON string writer. */
static void test_payload_plain_strings(void **state)
{
    static const unsigned char probes[] = {'"',  '\\', 0x00, 0x01, 0x1f, 0x20, 0x21, 0x5b,
                                           0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff, 'a'};
    ifx_config cfg;
    ifx_buf out, want;
    ifx_err err;
    char text[41];
    (void)state;

    memset(&cfg, 0, sizeof cfg);
    ifx_buf_init(&out, 4096);
    ifx_buf_init(&want, 4096);
    for (size_t len = 0; len <= 40; len++) {
        for (size_t at = 0; at < (len ? len : 1); at++) {
            for (size_t k = 0; k < sizeof probes; k++) {
                for (size_t i = 0; i < len; i++)
                    text[i] = (char)('a' + i % 26);
                if (len)
                    text[at] = (char)probes[k];
                for (int where = 0; where < 2; where++) {
                    /* the probe in the value, then in the name (a name is never empty) */
                    ifx_column col = {where ? text : "v", where ? len : 1};
                    ifx_value val = {.type = IFX_VAL_STRING,
                                     .v.s = {where ? "x" : text, where ? 1 : len}};
                    ifx_row row = {.ncols = 1, .cols = &col, .vals = &val};
                    if (where && len == 0)
                        continue;
                    ifx_buf_reset(&out);
                    ifx_buf_reset(&want);
                    assert_int_equal(ifxi_source_rows_payload(&cfg, &row, &out, &err), IFX_OK);
                    assert_int_equal(ifx_buf_putc(&want, '{'), IFX_OK);
                    assert_int_equal(ifxi_json_append_string(&want, col.name, col.len), IFX_OK);
                    assert_int_equal(ifx_buf_putc(&want, ':'), IFX_OK);
                    assert_int_equal(ifxi_json_append_string(&want, val.v.s.p, val.v.s.len),
                                     IFX_OK);
                    assert_int_equal(ifx_buf_putc(&want, '}'), IFX_OK);
                    if (out.len != want.len || memcmp(out.data, want.data, out.len) != 0) {
                        print_error("len %zu, byte 0x%02x at %zu in the %s: %.*s, want %.*s\n", len,
                                    probes[k], at, where ? "name" : "value", (int)out.len, out.data,
                                    (int)want.len, want.data);
                        fail();
                    }
                }
            }
        }
    }
    ifx_buf_free(&out);
    ifx_buf_free(&want);
}

/* A time is passed on as the text it was read from when that text is what formatting the value
 * gives: random instants written in every form a reader accepts (Z or z, zone-less, an offset,
 * a space for T, the fraction padded with zeros or all zeros), read back as a reader does; the
 * payload with the text equals the payload formatted from the value alone. */
static void test_payload_time_text(void **state)
{
    ifx_config cfg;
    ifx_buf a, b;
    ifx_err err;
    uint64_t rng = 0x2545F4914F6CDD1DULL;
    char text[IFX_RFC3339_MAX + 16];
    size_t passed = 0;
    (void)state;

    memset(&cfg, 0, sizeof cfg);
    ifx_buf_init(&a, 4096);
    ifx_buf_init(&b, 4096);
    for (int round = 0; round < 100000; round++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        int64_t ns = (int64_t)rng;
        if (round % 5 == 0)
            ns -= ns % 1000000000LL;
        else if (round % 5 == 1)
            ns -= ns % 1000;
        size_t len = ifx_time_format_rfc3339(ns, text);
        switch (round % 7) {
        case 1: /* zone-less */
            len--;
            break;
        case 2:
            text[len - 1] = 'z';
            break;
        case 3: /* an offset of zero */
            memcpy(text + len - 1, "+00:00", 6), len += 5;
            break;
        case 4:
            text[10] = ' ';
            break;
        case 5: /* zeros after the fraction (or an all-zero one) while there is room */
            if (len == 20)
                memcpy(text + 19, ".000Z", 5), len = 24;
            else if (len < 30)
                memcpy(text + len - 1, "0Z", 2), len++;
            break;
        default:
            break;
        }
        ifx_column col = {"t", 1};
        ifx_value val = {.type = IFX_VAL_TIME, .text = {text, len}};
        ifx_row row = {.ncols = 1, .cols = &col, .vals = &val};
        ifx_err_clear(&err);
        if (ifxi_rows_parse_time(text, len, &val.v.i, &err, NULL) != IFX_OK)
            continue; /* outside the int64 range once offset */
        ifx_buf_reset(&a);
        ifx_buf_reset(&b);
        assert_int_equal(ifxi_source_rows_payload(&cfg, &row, &a, &err), IFX_OK);
        val.text.p = NULL;
        assert_int_equal(ifxi_source_rows_payload(&cfg, &row, &b, &err), IFX_OK);
        if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
            print_error("%.*s: %s, formatted %s\n", (int)len, text, a.data, b.data);
            fail();
        }
        passed++;
    }
    assert_true(passed > 90000);
    ifx_buf_free(&a);
    ifx_buf_free(&b);
}

/* A row's identity is persisted (cursor states hold its hashes, message ids derive from it): the
 * values of a row with every kind of value, the bookkeeping columns skipped, never change. */
static void test_identity_pinned(void **state)
{
    ifx_column cols[] = {{"_time", 5},  {"table", 5}, {"host", 4},   {"temp", 4},
                         {"n", 1},      {"u", 1},     {"ok", 2},     {"none", 4},
                         {"_start", 6}, {"when", 4},  {"result", 6}, {"_stop", 5}};
    ifx_value vals[12] = {{.type = IFX_VAL_TIME, .v.i = 1704067200000000000},
                          {.type = IFX_VAL_I64, .v.i = 3},
                          {.type = IFX_VAL_STRING, .v.s = {"server-01", 9}},
                          {.type = IFX_VAL_F64, .v.f = 21.5},
                          {.type = IFX_VAL_I64, .v.i = -7},
                          {.type = IFX_VAL_U64, .v.i = 42},
                          {.type = IFX_VAL_BOOL, .v.b = true},
                          {.type = IFX_VAL_NULL},
                          {.type = IFX_VAL_TIME, .v.i = 0},
                          {.type = IFX_VAL_TIME, .v.i = 1},
                          {.type = IFX_VAL_STRING, .v.s = {"_result", 7}},
                          {.type = IFX_VAL_TIME, .v.i = 2}};
    ifx_row row = {
        .measurement = "cpu", .measurement_len = 3, .ncols = 12, .cols = cols, .vals = vals};
    uint64_t h1, h2;
    (void)state;
    ifxi_source_rows_identity(&row, &h1, &h2);
    assert_true(h1 == 0x6E65EC6914C83DF1ULL);
    assert_true(h2 == 0x21EB0AEC7C0F7553ULL);
    /* the bookkeeping columns do not count */
    row.ncols = 10;
    uint64_t k1, k2;
    ifxi_source_rows_identity(&row, &k1, &k2);
    vals[1].v.i = 4;
    vals[8].v.i = 9;
    uint64_t j1, j2;
    ifxi_source_rows_identity(&row, &j1, &j2);
    assert_true(j1 == k1 && j2 == k2);
    /* a value does */
    vals[3].v.f = 21.25;
    ifxi_source_rows_identity(&row, &j1, &j2);
    assert_true(j1 != k1 && j2 != k2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_text),
        cmocka_unit_test(test_payload_members),
        cmocka_unit_test(test_payload_plain_strings),
        cmocka_unit_test(test_payload_time_text),
        cmocka_unit_test(test_identity_pinned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
