/* Tests for the JSON validator, compactor and navigation (src/core/json.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"

#define S(lit) lit, sizeof lit - 1

/* ---- compact: accepted input ------------------------------------------------------------------
 */

static void expect_compact(const char *in, size_t len, const char *want)
{
    ifx_buf b;
    ifx_err err;

    ifx_buf_init(&b, 1 << 20);
    ifx_err_clear(&err);
    if (ifxi_json_compact(in, len, &b, &err) != IFX_OK)
        fail_msg("refused %.*s: %s", (int)len, in, err.msg);
    if (b.len != strlen(want) || memcmp(b.data, want, b.len + 1) != 0)
        fail_msg("compact of %.*s is \"%s\", expected \"%s\"", (int)len, in, b.data, want);
    /* Validation alone agrees. */
    assert_int_equal(ifxi_json_compact(in, len, NULL, &err), IFX_OK);
    ifx_buf_free(&b);
}

static void test_compact_scalars(void **state)
{
    (void)state;
    expect_compact(S("0"), "0");
    expect_compact(S("-0"), "-0");
    expect_compact(S(" 42 "), "42");
    expect_compact(S("\t\r\n 1.5e-3\n"), "1.5e-3");
    expect_compact(S("1E+2"), "1E+2");
    expect_compact(S("0e0"), "0e0");
    expect_compact(S("-0.0"), "-0.0");
    expect_compact(S("true"), "true");
    expect_compact(S(" false"), "false");
    expect_compact(S("null "), "null");
    expect_compact(S("\"\""), "\"\"");
    expect_compact(S("\" spaces  stay \""), "\" spaces  stay \"");
    expect_compact(S("{}"), "{}");
    expect_compact(S("{ \n }"), "{}");
    expect_compact(S("[ ]"), "[]");
    expect_compact(S("[[],{},[{}]]"), "[[],{},[{}]]");
}

static void test_compact_pretty_document(void **state)
{
    static const char pretty[] =
        "{\n"
        "  \"measurement\" : \"cpu load\",\n"
        "  \"tags\": { \"host\": \"a b\", \"dc\" :\t\"eu-1\" },\n"
        "  \"values\": [ 1, -2.5e+10, 12345678901234567890, 0.0001 ],\n"
        "  \"ok\": true, \"none\": null, \"f\": false,\n"
        "  \"s\": \"q \\\"x\\\" \\\\ \\u00e9 \\uD83D\\uDE00 caf\xC3\xA9\",\n"
        "  \"nested\": [ [ [ ] ], { \"a\": { \"b\": [ ] } } ]\r\n"
        "}\n";
    static const char want[] =
        "{\"measurement\":\"cpu load\",\"tags\":{\"host\":\"a b\",\"dc\":\"eu-1\"},"
        "\"values\":[1,-2.5e+10,12345678901234567890,0.0001],\"ok\":true,\"none\":null,"
        "\"f\":false,\"s\":\"q \\\"x\\\" \\\\ \\u00e9 \\uD83D\\uDE00 caf\xC3\xA9\","
        "\"nested\":[[[]],{\"a\":{\"b\":[]}}]}";
    (void)state;
    expect_compact(S(pretty), want);
    /* Compacting compact text changes nothing. */
    expect_compact(S(want), want);
}

static void test_compact_big_integers_exact(void **state)
{
    (void)state;
    expect_compact(S("[ 9223372036854775807, 9223372036854775808, 18446744073709551615,\n"
                     "  18446744073709551616, -9223372036854775809,\n"
                     "  123456789012345678901234567890123456789 ]"),
                   "[9223372036854775807,9223372036854775808,18446744073709551615,"
                   "18446744073709551616,-9223372036854775809,"
                   "123456789012345678901234567890123456789]");
    expect_compact(S("{\"id\": 1234567890123456789, \"big\": 12345678901234567890}"),
                   "{\"id\":1234567890123456789,\"big\":12345678901234567890}");
}

static void test_compact_appends(void **state)
{
    ifx_buf b;
    ifx_err err;
    (void)state;

    ifx_buf_init(&b, 1024);
    assert_int_equal(ifx_buf_puts(&b, "payload="), IFX_OK);
    assert_int_equal(ifxi_json_compact(S(" [1, 2] "), &b, &err), IFX_OK);
    assert_string_equal(b.data, "payload=[1,2]");
    assert_int_equal(b.len, 13);
    assert_int_equal(ifxi_json_compact(S("{ }"), &b, &err), IFX_OK);
    assert_string_equal(b.data, "payload=[1,2]{}");
    ifx_buf_free(&b);
}

/* A capped buffer that cannot take the input, but can take its compact form. */
static void test_compact_capped_buffer(void **state)
{
    static const char in[] = "[ 1 ,   2 ,   3 ]"; /* 17 bytes, 7 compact */
    ifx_buf b;
    ifx_err err;
    (void)state;

    ifx_buf_init(&b, 10);
    assert_int_equal(ifx_buf_puts(&b, "ab"), IFX_OK);
    ifx_err_clear(&err);
    assert_int_equal(ifxi_json_compact(S(in), &b, &err), IFX_OK);
    assert_string_equal(b.data, "ab[1,2,3]");
    assert_int_equal(b.len, 9);
    /* More than the cap allows even when compact. */
    ifx_err_clear(&err);
    assert_int_equal(ifxi_json_compact(S(" [ 1 , 2 ] "), &b, &err), IFX_E_FULL);
    assert_int_equal(err.code, IFX_E_FULL);
    assert_non_null(strstr(err.msg, "full"));
    assert_string_equal(b.data, "ab[1,2,3]");
    assert_int_equal(b.len, 9);
    /* Invalid input is reported as such even when it would not fit either. */
    ifx_err_clear(&err);
    assert_int_equal(ifxi_json_compact(S(" [ 1 , 2 , ] "), &b, &err), IFX_E_INVALID);
    assert_int_equal(err.offset, 11);
    assert_int_equal(b.len, 9);
    ifx_buf_free(&b);
}

/* ---- compact: refused input --------------------------------------------------------------------
 */

struct bad_case {
    const char *in;
    size_t len;
    size_t offset;
    const char *msg;
};

#define BAD(lit, off, msg)                                                                         \
    {                                                                                              \
        lit, sizeof lit - 1, off, msg                                                              \
    }

static void check_refusal(size_t i, const char *in, size_t len, size_t offset, const char *msg)
{
    ifx_buf b;
    ifx_err err;
    ifx_json_val v = {IFX_JSON_STRING, 7, "x", 1};
    ifx_rc rc;

    ifx_buf_init(&b, 1 << 20);
    assert_int_equal(ifx_buf_puts(&b, "keep"), IFX_OK);
    ifx_err_clear(&err);
    rc = ifxi_json_compact(in, len, &b, &err);
    if (rc != IFX_E_INVALID || err.code != IFX_E_INVALID)
        fail_msg("case %zu: rc %d for %.*s", i, (int)rc, (int)len, in);
    if (err.offset != offset)
        fail_msg("case %zu: offset %zu, expected %zu (%s)", i, err.offset, offset, err.msg);
    if (msg && strcmp(err.msg, msg) != 0)
        fail_msg("case %zu: message \"%s\", expected \"%s\"", i, err.msg, msg);
    /* out is unchanged, terminator included, however much was compacted before the problem. */
    if (b.len != 4 || memcmp(b.data, "keep", 5) != 0)
        fail_msg("case %zu: out changed to %zu bytes", i, b.len);
    ifx_buf_free(&b);

    assert_int_equal(ifxi_json_compact(in, len, NULL, NULL), IFX_E_INVALID);
    ifx_err_clear(&err);
    assert_int_equal(ifxi_json_parse(in, len, &v, &err), IFX_E_INVALID);
    assert_int_equal(err.offset, offset);
    assert_int_equal(v.type, IFX_JSON_NONE);
    assert_null(v.p);
    assert_int_equal(v.len, 0);
}

static void test_refusals(void **state)
{
    static const struct bad_case cases[] = {
        BAD("", 0, "invalid JSON at byte 0: empty input, expected a value"),
        BAD(" \n\t ", 4, "invalid JSON at byte 4: empty input, expected a value"),
        BAD("{\"a\":1 \"b\":2}", 7,
            "invalid JSON at byte 7: expected ',' or '}' after an object member, found '\"'"),
        BAD("{\"a\":1", 6,
            "invalid JSON at byte 6: expected ',' or '}' after an object member, found end of "
            "input"),
        BAD("{\"a\":1,}", 7, "invalid JSON at byte 7: expected a string key after ',', found '}'"),
        BAD("{1:2}", 1, "invalid JSON at byte 1: expected a string key or '}', found '1'"),
        BAD("{'a':2}", 1, "invalid JSON at byte 1: expected a string key or '}', found '''"),
        BAD("{\"a\" 1}", 5, "invalid JSON at byte 5: expected ':' after an object key, found '1'"),
        BAD("{\"a\":}", 5, "invalid JSON at byte 5: expected a value, found '}'"),
        BAD("[1,]", 3, "invalid JSON at byte 3: expected a value, found ']'"),
        BAD("[,1]", 1, "invalid JSON at byte 1: expected a value, found ','"),
        BAD("[1 2]", 3,
            "invalid JSON at byte 3: expected ',' or ']' after an array element, found '2'"),
        BAD("[1", 2,
            "invalid JSON at byte 2: expected ',' or ']' after an array element, found end of "
            "input"),
        BAD("[1}", 2,
            "invalid JSON at byte 2: expected ',' or ']' after an array element, found '}'"),
        BAD("{\"a\":1]", 6,
            "invalid JSON at byte 6: expected ',' or '}' after an object member, found ']'"),
        BAD("01", 1, "invalid JSON at byte 1: leading zeros are not allowed in a number"),
        BAD("[-00]", 3, "invalid JSON at byte 3: leading zeros are not allowed in a number"),
        BAD("-", 1, "invalid JSON at byte 1: expected a digit after '-', found end of input"),
        BAD("- 1", 1, "invalid JSON at byte 1: expected a digit after '-', found ' '"),
        BAD("+1", 0, "invalid JSON at byte 0: expected a value, found '+'"),
        BAD(".5", 0, "invalid JSON at byte 0: expected a value, found '.'"),
        BAD("1.", 2,
            "invalid JSON at byte 2: expected a digit after the decimal point, found end of input"),
        BAD("1.e5", 2,
            "invalid JSON at byte 2: expected a digit after the decimal point, found 'e'"),
        BAD("1e", 2,
            "invalid JSON at byte 2: expected a digit in the exponent, found end of input"),
        BAD("1e+", 3,
            "invalid JSON at byte 3: expected a digit in the exponent, found end of input"),
        BAD("[1E-x]", 4, "invalid JSON at byte 4: expected a digit in the exponent, found 'x'"),
        BAD("0x10", 1,
            "invalid JSON at byte 1: expected end of input after the JSON value, found 'x'"),
        BAD("NaN", 0, "invalid JSON at byte 0: expected a value, found 'N'"),
        BAD("Infinity", 0, "invalid JSON at byte 0: expected a value, found 'I'"),
        BAD("-Infinity", 1, "invalid JSON at byte 1: expected a digit after '-', found 'I'"),
        BAD("tru", 3, "invalid JSON at byte 3: invalid literal, expected 'true'"),
        BAD("[trUe]", 3, "invalid JSON at byte 3: invalid literal, expected 'true'"),
        BAD("nul", 3, "invalid JSON at byte 3: invalid literal, expected 'null'"),
        BAD("fals", 4, "invalid JSON at byte 4: invalid literal, expected 'false'"),
        BAD("None", 0, "invalid JSON at byte 0: expected a value, found 'N'"),
        BAD("falsey", 5,
            "invalid JSON at byte 5: expected end of input after the JSON value, found 'y'"),
        BAD("1 2", 2,
            "invalid JSON at byte 2: expected end of input after the JSON value, found '2'"),
        BAD("[1,2]]", 5,
            "invalid JSON at byte 5: expected end of input after the JSON value, found ']'"),
        BAD("{} {}", 3,
            "invalid JSON at byte 3: expected end of input after the JSON value, found '{'"),
        BAD("1\0", 1,
            "invalid JSON at byte 1: expected end of input after the JSON value, found byte "
            "0x00"),
        BAD("\xEF\xBB\xBF{}", 0, "invalid JSON at byte 0: expected a value, found byte 0xEF"),
        BAD("[1,\f2]", 3, "invalid JSON at byte 3: expected a value, found byte 0x0C"),
        BAD("\"abc", 4,
            "invalid JSON at byte 4: expected '\"' to end the string that starts at byte 0, "
            "found end of input"),
        BAD("[\"a\", \"b", 8,
            "invalid JSON at byte 8: expected '\"' to end the string that starts at byte 6, "
            "found end of input"),
        BAD("\"a\x01\"", 2,
            "invalid JSON at byte 2: control character 0x01 in a string (it must be escaped)"),
        BAD("\"a\tb\"", 2,
            "invalid JSON at byte 2: control character 0x09 in a string (it must be escaped)"),
        BAD("\"line\nbreak\"", 5,
            "invalid JSON at byte 5: control character 0x0A in a string (it must be escaped)"),
        BAD("\"\\x\"", 2,
            "invalid JSON at byte 2: expected one of \" \\ / b f n r t u after '\\' (invalid "
            "escape), found 'x'"),
        BAD("\"\\'\"", 2,
            "invalid JSON at byte 2: expected one of \" \\ / b f n r t u after '\\' (invalid "
            "escape), found '''"),
        BAD("\"\\", 2,
            "invalid JSON at byte 2: expected an escape character after '\\', found end of "
            "input"),
        BAD("\"\\u12G4\"", 5,
            "invalid JSON at byte 5: expected 4 hex digits after '\\u', found 'G'"),
        BAD("\"\\u12", 5,
            "invalid JSON at byte 5: expected 4 hex digits after '\\u', found end of input"),
        BAD("\"\\uD800\"", 1,
            "invalid JSON at byte 1: high surrogate \\uD800 is not followed by a \\u low "
            "surrogate"),
        BAD("\"\\uDBFFx\"", 1,
            "invalid JSON at byte 1: high surrogate \\uDBFF is not followed by a \\u low "
            "surrogate"),
        BAD("\"\\uD800\\u0041\"", 1,
            "invalid JSON at byte 1: high surrogate \\uD800 is not followed by a \\u low "
            "surrogate"),
        BAD("\"\\uD800\\uD800\"", 1,
            "invalid JSON at byte 1: high surrogate \\uD800 is not followed by a \\u low "
            "surrogate"),
        BAD("\"\\uD800\\n\"", 1,
            "invalid JSON at byte 1: high surrogate \\uD800 is not followed by a \\u low "
            "surrogate"),
        BAD("\"\\uD800\\uDC0", 12,
            "invalid JSON at byte 12: expected 4 hex digits after '\\u', found end of input"),
        BAD("\"\\uDC00\"", 1,
            "invalid JSON at byte 1: lone low surrogate \\uDC00 (it must follow a high "
            "surrogate)"),
        BAD("\"ok \\uDFFF\"", 4,
            "invalid JSON at byte 4: lone low surrogate \\uDFFF (it must follow a high "
            "surrogate)"),
        BAD("\"\xC3\"", 1,
            "invalid JSON at byte 1: invalid UTF-8 in a string (missing continuation byte: "
            "0xC3 0x22)"),
        BAD("{\"k\xC0\xAF\":1}", 3,
            "invalid JSON at byte 3: invalid UTF-8 in a string (overlong encoding: 0xC0)"),
        BAD("[\"caf\xC3\xA9 \xED\xA0\x80\"]", 8,
            "invalid JSON at byte 8: invalid UTF-8 in a string (UTF-16 surrogate "
            "U+D800..U+DFFF: 0xED 0xA0)"),
        BAD("\"\xF4\x90\x80\x80\"", 1,
            "invalid JSON at byte 1: invalid UTF-8 in a string (code point above U+10FFFF: 0xF4 "
            "0x90)"),
        BAD("\"\xE2\x82", 1,
            "invalid JSON at byte 1: invalid UTF-8 in a string (truncated sequence at end of "
            "input: 0xE2 0x82)"),
        BAD("\"a\\n\x80\"", 4,
            "invalid JSON at byte 4: invalid UTF-8 in a string (unexpected continuation byte: "
            "0x80)"),
        BAD("\xC3\xA9", 0, "invalid JSON at byte 0: expected a value, found byte 0xC3"),
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_refusal(i, cases[i].in, cases[i].len, cases[i].offset, cases[i].msg);
}

/* An error late in a long pretty document, after several spans went out. */
static void test_refusal_after_output(void **state)
{
    static const char in[] = "{ \"a\": [ 1, 2, 3 ],\n  \"b\": { \"c\": \"d\" },\n  \"e\": tru }";
    (void)state;
    check_refusal(0, S(in), 51, "invalid JSON at byte 51: invalid literal, expected 'true'");
}

/* Strings are scanned eight bytes at a time: put each kind of special byte at every position of
 * strings of many lengths, so that every place in a word and every tail length is exercised. */
static void test_string_scan_every_position(void **state)
{
    char in[64];
    ifx_err err;
    ifx_json_val v, e;
    ifx_json_iter it;
    (void)state;

    for (size_t n = 1; n <= 40; n++) {
        for (size_t at = 0; at < n; at++) {
            /* ["aaa?aaa"] with the special byte at 2 + at. */
            size_t len = n + 4;
            memset(in, 'a', sizeof in);
            in[0] = '[';
            in[1] = '"';
            in[n + 2] = '"';
            in[n + 3] = ']';

            in[2 + at] = 0x01;
            ifx_err_clear(&err);
            if (ifxi_json_compact(in, len, NULL, &err) != IFX_E_INVALID || err.offset != 2 + at)
                fail_msg("n %zu: control at %zu: offset %zu", n, at, err.offset);

            in[2 + at] = (char)0x80;
            ifx_err_clear(&err);
            if (ifxi_json_compact(in, len, NULL, &err) != IFX_E_INVALID || err.offset != 2 + at ||
                !strstr(err.msg, "invalid UTF-8"))
                fail_msg("n %zu: 0x80 at %zu: offset %zu %s", n, at, err.offset, err.msg);

            /* A quote ends the string early: the rest is garbage after the element. */
            in[2 + at] = '"';
            ifx_err_clear(&err);
            if (ifxi_json_compact(in, len, NULL, &err) != IFX_E_INVALID || err.offset != 3 + at)
                fail_msg("n %zu: quote at %zu: offset %zu", n, at, err.offset);

            /* Valid specials: an escape, or a two-byte character. */
            if (at + 1 < n) {
                in[2 + at] = '\\';
                in[3 + at] = '/';
                assert_int_equal(ifxi_json_parse(in, len, &v, &err), IFX_OK);
                ifxi_json_iter_init(&it, &v);
                assert_true(ifxi_json_array_next(&it, &e));
                assert_int_equal(e.len, n + 2);
                assert_int_equal(e.flags, IFX_JSON_F_ESCAPED);
                assert_false(ifxi_json_array_next(&it, &e));

                in[2 + at] = (char)0xC3;
                in[3 + at] = (char)0xA9;
                assert_int_equal(ifxi_json_parse(in, len, &v, &err), IFX_OK);
                ifxi_json_iter_init(&it, &v);
                assert_true(ifxi_json_array_next(&it, &e));
                assert_int_equal(e.len, n + 2);
                assert_int_equal(e.flags, 0);
            }
        }
    }
}

/* ---- nesting ------------------------------------------------------------------------------------
 */

static char *nest(size_t depth, const char *open, const char *inner, const char *close)
{
    size_t lo = strlen(open), li = strlen(inner), lc = strlen(close);
    char *s = malloc(depth * (lo + lc) + li + 1), *p = s;

    assert_non_null(s);
    for (size_t i = 0; i < depth; i++, p += lo)
        memcpy(p, open, lo);
    memcpy(p, inner, li);
    p += li;
    for (size_t i = 0; i < depth; i++, p += lc)
        memcpy(p, close, lc);
    *p = '\0';
    return s;
}

static void test_depth_cap(void **state)
{
    char *s;
    ifx_err err;
    ifx_json_val v;
    char msg[128];
    (void)state;

    /* Exactly the cap: accepted, both ways of nesting. */
    s = nest(IFX_JSON_MAX_DEPTH, "[", "1", "]");
    assert_int_equal(ifxi_json_compact(s, strlen(s), NULL, &err), IFX_OK);
    assert_int_equal(ifxi_json_parse(s, strlen(s), &v, &err), IFX_OK);
    assert_int_equal(v.type, IFX_JSON_ARRAY);
    assert_int_equal(v.len, strlen(s));
    free(s);
    s = nest(IFX_JSON_MAX_DEPTH, "{\"k\": ", "[]", "}");
    assert_int_equal(ifxi_json_compact(s, strlen(s), NULL, &err), IFX_E_INVALID); /* 257 */
    assert_int_equal(err.offset, 6 * IFX_JSON_MAX_DEPTH);
    free(s);
    s = nest(IFX_JSON_MAX_DEPTH - 1, "{\"k\": ", "[]", "}");
    assert_int_equal(ifxi_json_compact(s, strlen(s), NULL, &err), IFX_OK);
    free(s);

    /* One past it: refused at the bracket that goes too deep, not by running out of stack. */
    s = nest(IFX_JSON_MAX_DEPTH + 1, "[", "", "]");
    ifx_err_clear(&err);
    assert_int_equal(ifxi_json_compact(s, strlen(s), NULL, &err), IFX_E_INVALID);
    assert_int_equal(err.offset, IFX_JSON_MAX_DEPTH);
    snprintf(msg, sizeof msg, "invalid JSON at byte %d: nesting deeper than %d levels",
             IFX_JSON_MAX_DEPTH, IFX_JSON_MAX_DEPTH);
    assert_string_equal(err.msg, msg);
    free(s);

    /* Alternating containers: the stack must remember which is which on the way out. */
    s = nest(IFX_JSON_MAX_DEPTH / 2, "[{\"a\":", "0", "}]");
    assert_int_equal(ifxi_json_compact(s, strlen(s), NULL, &err), IFX_OK);
    free(s);
    s = nest(IFX_JSON_MAX_DEPTH / 2, "[{\"a\":", "0", "]}");
    ifx_err_clear(&err);
    assert_int_equal(ifxi_json_compact(s, strlen(s), NULL, &err), IFX_E_INVALID);
    assert_int_equal(err.offset, 6 * (IFX_JSON_MAX_DEPTH / 2) + 1);
    free(s);

    /* Very deep input is refused quickly, without recursion. */
    s = nest(1000000, "[", "", "]");
    assert_int_equal(ifxi_json_compact(s, strlen(s), NULL, &err), IFX_E_INVALID);
    assert_int_equal(err.offset, IFX_JSON_MAX_DEPTH);
    free(s);
}

/* ---- parse and navigation ----------------------------------------------------------------------
 */

static void expect_val(const ifx_json_val *v, ifx_json_type type, unsigned flags, const char *text)
{
    if (v->type != type)
        fail_msg("type %s, expected %s for %s", ifxi_json_type_name(v->type),
                 ifxi_json_type_name(type), text);
    if (v->flags != flags)
        fail_msg("flags %u, expected %u for %s", v->flags, flags, text);
    if (v->len != strlen(text) || memcmp(v->p, text, v->len) != 0)
        fail_msg("span \"%.*s\", expected \"%s\"", (int)v->len, v->p, text);
}

static void test_parse_top_level(void **state)
{
    ifx_json_val v;
    ifx_err err;
    static const char obj[] = "  {\"a\": 1}\n";
    (void)state;

    assert_int_equal(ifxi_json_parse(S(obj), &v, &err), IFX_OK);
    expect_val(&v, IFX_JSON_OBJECT, 0, "{\"a\": 1}");
    assert_ptr_equal(v.p, obj + 2);
    assert_int_equal(ifxi_json_parse(S(" [ ] "), &v, &err), IFX_OK);
    expect_val(&v, IFX_JSON_ARRAY, 0, "[ ]");
    assert_int_equal(ifxi_json_parse(S("\"plain\""), &v, &err), IFX_OK);
    expect_val(&v, IFX_JSON_STRING, 0, "\"plain\"");
    assert_int_equal(ifxi_json_parse(S(" \"a\\nb\" "), &v, &err), IFX_OK);
    expect_val(&v, IFX_JSON_STRING, IFX_JSON_F_ESCAPED, "\"a\\nb\"");
    assert_int_equal(ifxi_json_parse(S("12"), &v, &err), IFX_OK);
    expect_val(&v, IFX_JSON_NUMBER, 0, "12");
    assert_int_equal(ifxi_json_parse(S("-12"), &v, &err), IFX_OK);
    expect_val(&v, IFX_JSON_NUMBER, IFX_JSON_F_NEG, "-12");
    assert_int_equal(ifxi_json_parse(S("-1.5e3"), &v, &err), IFX_OK);
    expect_val(&v, IFX_JSON_NUMBER, IFX_JSON_F_NEG | IFX_JSON_F_FRAC, "-1.5e3");
    assert_int_equal(ifxi_json_parse(S("1e3"), &v, &err), IFX_OK);
    expect_val(&v, IFX_JSON_NUMBER, IFX_JSON_F_FRAC, "1e3");
    assert_int_equal(ifxi_json_parse(S("true"), &v, &err), IFX_OK);
    expect_val(&v, IFX_JSON_TRUE, 0, "true");
    assert_int_equal(ifxi_json_parse(S("false\t"), &v, &err), IFX_OK);
    expect_val(&v, IFX_JSON_FALSE, 0, "false");
    assert_int_equal(ifxi_json_parse(S("\nnull"), &v, &err), IFX_OK);
    expect_val(&v, IFX_JSON_NULL, 0, "null");
    /* A container's flags do not leak from the scalars inside it. */
    assert_int_equal(ifxi_json_parse(S("[\"\\n\", -1.5]"), &v, &err), IFX_OK);
    expect_val(&v, IFX_JSON_ARRAY, 0, "[\"\\n\", -1.5]");
}

static const char doc[] =
    "{\n"
    "  \"a\": {\"b\": [1, {\"c\": \"d\"}, [2, 3], \"x]}\\\"[{\"], \"e\": \"f\"},\n"
    "  \"empty_a\": [ ], \"empty_o\" : { },\n"
    "  \"k\\u0065y\": -7.25e1,\n"
    "  \"lits\": [true,false , null ]\n"
    "}";

static void test_iterate_nested(void **state)
{
    ifx_json_val root, k, v, a, b, e;
    ifx_json_iter it, ia, ib;
    ifx_err err;
    (void)state;

    assert_int_equal(ifxi_json_parse(S(doc), &root, &err), IFX_OK);
    ifxi_json_iter_init(&it, &root);

    assert_true(ifxi_json_object_next(&it, &k, &a));
    expect_val(&k, IFX_JSON_STRING, 0, "\"a\"");
    expect_val(&a, IFX_JSON_OBJECT, 0,
               "{\"b\": [1, {\"c\": \"d\"}, [2, 3], \"x]}\\\"[{\"], \"e\": \"f\"}");
    ifxi_json_iter_init(&ia, &a);
    assert_true(ifxi_json_object_next(&ia, &k, &b));
    expect_val(&k, IFX_JSON_STRING, 0, "\"b\"");
    expect_val(&b, IFX_JSON_ARRAY, 0, "[1, {\"c\": \"d\"}, [2, 3], \"x]}\\\"[{\"]");
    ifxi_json_iter_init(&ib, &b);
    assert_true(ifxi_json_array_next(&ib, &e));
    expect_val(&e, IFX_JSON_NUMBER, 0, "1");
    assert_true(ifxi_json_array_next(&ib, &e));
    expect_val(&e, IFX_JSON_OBJECT, 0, "{\"c\": \"d\"}");
    assert_true(ifxi_json_array_next(&ib, &e));
    expect_val(&e, IFX_JSON_ARRAY, 0, "[2, 3]");
    assert_true(ifxi_json_array_next(&ib, &e));
    expect_val(&e, IFX_JSON_STRING, IFX_JSON_F_ESCAPED, "\"x]}\\\"[{\"");
    assert_false(ifxi_json_array_next(&ib, &e));
    assert_false(ifxi_json_array_next(&ib, &e)); /* stays at the end */
    assert_true(ifxi_json_object_next(&ia, &k, &v));
    expect_val(&k, IFX_JSON_STRING, 0, "\"e\"");
    expect_val(&v, IFX_JSON_STRING, 0, "\"f\"");
    assert_false(ifxi_json_object_next(&ia, &k, &v));

    assert_true(ifxi_json_object_next(&it, &k, &v));
    expect_val(&k, IFX_JSON_STRING, 0, "\"empty_a\"");
    expect_val(&v, IFX_JSON_ARRAY, 0, "[ ]");
    ifxi_json_iter_init(&ia, &v);
    assert_false(ifxi_json_array_next(&ia, &e));
    assert_true(ifxi_json_object_next(&it, &k, &v));
    expect_val(&k, IFX_JSON_STRING, 0, "\"empty_o\"");
    expect_val(&v, IFX_JSON_OBJECT, 0, "{ }");
    ifxi_json_iter_init(&ia, &v);
    assert_false(ifxi_json_object_next(&ia, &k, &e));

    assert_true(ifxi_json_object_next(&it, &k, &v));
    expect_val(&k, IFX_JSON_STRING, IFX_JSON_F_ESCAPED, "\"k\\u0065y\"");
    assert_true(ifxi_json_string_eq(&k, "key"));
    expect_val(&v, IFX_JSON_NUMBER, IFX_JSON_F_NEG | IFX_JSON_F_FRAC, "-7.25e1");

    assert_true(ifxi_json_object_next(&it, &k, &v));
    expect_val(&k, IFX_JSON_STRING, 0, "\"lits\"");
    ifxi_json_iter_init(&ia, &v);
    assert_true(ifxi_json_array_next(&ia, &e));
    expect_val(&e, IFX_JSON_TRUE, 0, "true");
    assert_true(ifxi_json_array_next(&ia, &e));
    expect_val(&e, IFX_JSON_FALSE, 0, "false");
    assert_true(ifxi_json_array_next(&ia, &e));
    expect_val(&e, IFX_JSON_NULL, 0, "null");
    assert_false(ifxi_json_array_next(&ia, &e));

    assert_false(ifxi_json_object_next(&it, &k, &v));
}

static void test_iterate_non_containers(void **state)
{
    ifx_json_val v, e, k;
    ifx_json_iter it;
    ifx_err err;
    (void)state;

    assert_int_equal(ifxi_json_parse(S("\"[1,2]\""), &v, &err), IFX_OK);
    ifxi_json_iter_init(&it, &v);
    assert_false(ifxi_json_array_next(&it, &e));
    assert_false(ifxi_json_object_next(&it, &k, &e));
    assert_int_equal(ifxi_json_parse(S("42"), &v, &err), IFX_OK);
    ifxi_json_iter_init(&it, &v);
    assert_false(ifxi_json_array_next(&it, &e));
    /* A NONE value, as left by a failed parse. */
    assert_int_equal(ifxi_json_parse(S("["), &v, &err), IFX_E_INVALID);
    ifxi_json_iter_init(&it, &v);
    assert_false(ifxi_json_array_next(&it, &e));
    assert_false(ifxi_json_object_get(&v, "a", &e));
}

/* Iterators trust their input but must stay inside it: feed them text that was never validated,
 * each in a heap block of exactly its size so that AddressSanitizer sees any overread. */
static void test_iterate_untrusted_stays_in_bounds(void **state)
{
    static const char *texts[] = {
        "[1, \"abc", "[\"\\", "{\"a\"",       "{\"a\":", "{\"a\": [1, {\"b\": \"\\\"}",
        "[tr",       "[-",    "{\"a\" 1}",    "[[[[",    "{",
        "[",         "[,,,]", "{\"\\u\": \"",
    };
    (void)state;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        size_t n = strlen(texts[i]);
        char *p = malloc(n);
        ifx_json_val c, k, v, out;
        ifx_json_iter it;
        int steps = 0;

        assert_non_null(p);
        memcpy(p, texts[i], n);
        c.type = p[0] == '{' ? IFX_JSON_OBJECT : IFX_JSON_ARRAY;
        c.flags = 0;
        c.p = p;
        c.len = n;
        ifxi_json_iter_init(&it, &c);
        while (ifxi_json_array_next(&it, &v) && steps < 100) {
            assert_true(v.p >= p && v.p + v.len <= p + n);
            steps++;
        }
        ifxi_json_iter_init(&it, &c);
        while (ifxi_json_object_next(&it, &k, &v) && steps < 200) {
            assert_true(v.p >= p && v.p + v.len <= p + n);
            steps++;
        }
        assert_true(steps < 100);
        ifxi_json_object_get(&c, "a", &out);
        free(p);
    }
}

static void test_object_get(void **state)
{
    ifx_json_val root, v, a;
    ifx_err err;
    (void)state;

    assert_int_equal(ifxi_json_parse(S(doc), &root, &err), IFX_OK);
    assert_true(ifxi_json_object_get(&root, "lits", &v));
    expect_val(&v, IFX_JSON_ARRAY, 0, "[true,false , null ]");
    assert_true(ifxi_json_object_get(&root, "key", &v)); /* the key is "k\u0065y" */
    expect_val(&v, IFX_JSON_NUMBER, IFX_JSON_F_NEG | IFX_JSON_F_FRAC, "-7.25e1");
    assert_true(ifxi_json_object_get(&root, "a", &a));
    assert_true(ifxi_json_object_get(&a, "e", &v));
    expect_val(&v, IFX_JSON_STRING, 0, "\"f\"");
    assert_false(ifxi_json_object_get(&root, "e", &v)); /* not at this level */
    assert_false(ifxi_json_object_get(&root, "", &v));
    assert_false(ifxi_json_object_get(&root, "lit", &v));
    assert_false(ifxi_json_object_get(&root, "litss", &v));

    /* The first of duplicate names wins; an array is not an object. */
    assert_int_equal(ifxi_json_parse(S("{\"d\":1,\"d\":2,\"\":3}"), &root, &err), IFX_OK);
    assert_true(ifxi_json_object_get(&root, "d", &v));
    expect_val(&v, IFX_JSON_NUMBER, 0, "1");
    assert_true(ifxi_json_object_get(&root, "", &v));
    expect_val(&v, IFX_JSON_NUMBER, 0, "3");
    assert_int_equal(ifxi_json_parse(S("[\"d\", 1]"), &root, &err), IFX_OK);
    assert_false(ifxi_json_object_get(&root, "d", &v));
}

/* ---- strings -----------------------------------------------------------------------------------
 */

static ifx_json_val str_val(const char *json, unsigned flags)
{
    ifx_json_val v = {IFX_JSON_STRING, flags, json, strlen(json)};
    return v;
}

static void test_string_eq(void **state)
{
    ifx_json_val v;
    (void)state;

    v = str_val("\"abc\"", 0);
    assert_true(ifxi_json_string_eq(&v, "abc"));
    assert_false(ifxi_json_string_eq(&v, "ab"));
    assert_false(ifxi_json_string_eq(&v, "abcd"));
    assert_false(ifxi_json_string_eq(&v, "abC"));
    assert_false(ifxi_json_string_eq(&v, ""));
    v = str_val("\"\"", 0);
    assert_true(ifxi_json_string_eq(&v, ""));
    assert_false(ifxi_json_string_eq(&v, "a"));
    v = str_val("\"caf\xC3\xA9\"", 0);
    assert_true(ifxi_json_string_eq(&v, "caf\xC3\xA9"));

    v = str_val("\"caf\\u00e9\"", IFX_JSON_F_ESCAPED);
    assert_true(ifxi_json_string_eq(&v, "caf\xC3\xA9"));
    assert_false(ifxi_json_string_eq(&v, "caf"));
    assert_false(ifxi_json_string_eq(&v, "caf\xC3"));
    assert_false(ifxi_json_string_eq(&v, "caf\xC3\xA9!"));
    assert_false(ifxi_json_string_eq(&v, "caf\\u00e9"));
    v = str_val("\"a\\nb\\\"\\\\\\/\"", IFX_JSON_F_ESCAPED);
    assert_true(ifxi_json_string_eq(&v, "a\nb\"\\/"));
    v = str_val("\"\\uD83D\\uDE00\"", IFX_JSON_F_ESCAPED);
    assert_true(ifxi_json_string_eq(&v, "\xF0\x9F\x98\x80"));
    /* \u0000 is a real NUL, which no C string contains. */
    v = str_val("\"a\\u0000\"", IFX_JSON_F_ESCAPED);
    assert_false(ifxi_json_string_eq(&v, "a"));
    /* A broken escape never matches. */
    v = str_val("\"\\uDC00\"", IFX_JSON_F_ESCAPED);
    assert_false(ifxi_json_string_eq(&v, "\xED\xB0\x80"));
    /* Not a string. */
    v.type = IFX_JSON_NUMBER;
    assert_false(ifxi_json_string_eq(&v, "x"));
}

static void expect_decode(const char *json, const char *want, size_t want_len)
{
    ifx_json_val v;
    ifx_buf b;
    ifx_err err;

    ifx_err_clear(&err);
    if (ifxi_json_parse(json, strlen(json), &v, &err) != IFX_OK)
        fail_msg("%s: %s", json, err.msg);
    ifx_buf_init(&b, 1024);
    assert_int_equal(ifx_buf_puts(&b, ">"), IFX_OK);
    if (ifxi_json_string_decode(&v, &b, &err) != IFX_OK)
        fail_msg("%s: %s", json, err.msg);
    if (b.len != want_len + 1 || memcmp(b.data + 1, want, want_len) != 0 || b.data[b.len])
        fail_msg("decode of %s: %zu bytes \"%s\"", json, b.len - 1, b.data + 1);
    assert_true(ifxi_json_string_eq(&v, want) == (strlen(want) == want_len));
    ifx_buf_free(&b);
}

#define DECODE(json, lit) expect_decode(json, lit, sizeof lit - 1)

static void test_string_decode(void **state)
{
    (void)state;
    DECODE("\"\"", "");
    DECODE("\"plain\"", "plain");
    DECODE("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", "\" \\ / \b \f \n \r \t");
    DECODE("\"\\u0041\\u00e9\\u00E9\"", "A\xC3\xA9\xC3\xA9");
    DECODE("\"\\u007F\\u0080\\u07FF\\u0800\"", "\x7F\xC2\x80\xDF\xBF\xE0\xA0\x80");
    DECODE("\"\\u20AC\\uFFFF\"", "\xE2\x82\xAC\xEF\xBF\xBF");
    DECODE("\"\\uD83D\\uDE00\"", "\xF0\x9F\x98\x80");
    DECODE("\"\\uD800\\uDC00\"", "\xF0\x90\x80\x80");
    DECODE("\"\\uDBFF\\uDFFF\"", "\xF4\x8F\xBF\xBF");
    DECODE("\"x\\u0000y\"", "x\0y");
    DECODE("\"raw caf\xC3\xA9 \xF0\x9F\x98\x80 and \\u00e9\"",
           "raw caf\xC3\xA9 \xF0\x9F\x98\x80 and \xC3\xA9");
    DECODE("\"ends with escape\\n\"", "ends with escape\n");
    DECODE("\"\\\\\\\\\"", "\\\\");
}

static void test_string_decode_refusals(void **state)
{
    static const struct {
        const char *json;
        size_t offset;
        const char *msg;
    } cases[] = {
        {"\"\\uDC00\"", 1, "invalid JSON string at byte 1: lone low surrogate"},
        {"\"ab\\uD800\"", 3,
         "invalid JSON string at byte 3: high surrogate not followed by a low surrogate"},
        {"\"\\uD800\\u0041\"", 1,
         "invalid JSON string at byte 1: high surrogate not followed by a low surrogate"},
        {"\"\\q\"", 1, "invalid JSON string at byte 1: invalid escape"},
        {"\"\\u12\"", 1, "invalid JSON string at byte 1: expected 4 hex digits after '\\u'"},
        {"\"a\\\"", 2, "invalid JSON string at byte 2: '\\' at the end of the string"},
    };
    ifx_buf b;
    (void)state;

    ifx_buf_init(&b, 1024);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ifx_json_val v = str_val(cases[i].json, IFX_JSON_F_ESCAPED);
        ifx_err err;

        ifx_buf_reset(&b);
        assert_int_equal(ifx_buf_puts(&b, "keep"), IFX_OK);
        ifx_err_clear(&err);
        assert_int_equal(ifxi_json_string_decode(&v, &b, &err), IFX_E_INVALID);
        if (err.offset != cases[i].offset || strcmp(err.msg, cases[i].msg) != 0)
            fail_msg("case %zu: offset %zu, message \"%s\"", i, err.offset, err.msg);
        assert_int_equal(b.len, 4);
        assert_memory_equal(b.data, "keep", 5);
    }
    {
        ifx_json_val v = {IFX_JSON_NUMBER, 0, "12", 2};
        ifx_err err;
        assert_int_equal(ifxi_json_string_decode(&v, &b, &err), IFX_E_INVALID);
        assert_string_equal(err.msg, "expected a string, found 12");
    }
    ifx_buf_free(&b);
}

/* ---- numbers -----------------------------------------------------------------------------------
 */

static ifx_json_val num(const char *text)
{
    ifx_json_val v;
    ifx_err err;

    if (ifxi_json_parse(text, strlen(text), &v, &err) != IFX_OK)
        fail_msg("%s: %s", text, err.msg);
    return v;
}

static void test_get_i64(void **state)
{
    static const struct {
        const char *text;
        int64_t want;
    } ok[] = {
        {"0", 0},
        {"-0", 0},
        {"7", 7},
        {"-7", -7},
        {"1234567890123456789", 1234567890123456789},
        {"9223372036854775807", INT64_MAX},
        {"-9223372036854775807", -INT64_MAX},
        {"-9223372036854775808", INT64_MIN},
    };
    static const struct {
        const char *text;
        const char *msg;
    } bad[] = {
        {"9223372036854775808", "number 9223372036854775808 is out of the signed 64-bit range"},
        {"-9223372036854775809", "number -9223372036854775809 is out of the signed 64-bit range"},
        {"18446744073709551616", "number 18446744073709551616 is out of the signed 64-bit range"},
        {"123456789012345678901234567890123456789012345678901234567890",
         "number 1234567890123456789012345678901234567... is out of the signed 64-bit range"},
        {"1.0", "number 1.0 is not an integer"},
        {"1e3", "number 1e3 is not an integer"},
        {"-0.5", "number -0.5 is not an integer"},
        {"\"12\"", "expected an integer, found \"12\""},
        {"true", "expected an integer, found true"},
        {"[1,\n2]", "expected an integer, found [1, 2]"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ifx_json_val v = num(ok[i].text);
        int64_t got = 42;
        ifx_err err;
        if (ifxi_json_get_i64(&v, &got, &err) != IFX_OK)
            fail_msg("%s: %s", ok[i].text, err.msg);
        if (got != ok[i].want)
            fail_msg("%s: got %lld", ok[i].text, (long long)got);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ifx_json_val v = num(bad[i].text);
        int64_t got = 42;
        ifx_err err;
        ifx_err_clear(&err);
        assert_int_equal(ifxi_json_get_i64(&v, &got, &err), IFX_E_INVALID);
        assert_int_equal(err.code, IFX_E_INVALID);
        if (strcmp(err.msg, bad[i].msg) != 0)
            fail_msg("%s: message \"%s\", expected \"%s\"", bad[i].text, err.msg, bad[i].msg);
        assert_int_equal(got, 42);
    }
}

static void test_get_u64(void **state)
{
    static const struct {
        const char *text;
        uint64_t want;
    } ok[] = {
        {"0", 0},
        {"-0", 0},
        {"9223372036854775808", (uint64_t)INT64_MAX + 1},
        {"10000000000000000000", 10000000000000000000u},
        {"18446744073709551614", UINT64_MAX - 1},
        {"18446744073709551615", UINT64_MAX},
    };
    static const struct {
        const char *text;
        const char *msg;
    } bad[] = {
        {"18446744073709551616", "number 18446744073709551616 is out of the unsigned 64-bit range"},
        {"18446744073709551620", "number 18446744073709551620 is out of the unsigned 64-bit range"},
        {"99999999999999999999", "number 99999999999999999999 is out of the unsigned 64-bit range"},
        {"184467440737095516150",
         "number 184467440737095516150 is out of the unsigned 64-bit range"},
        {"-1", "number -1 is negative, outside the unsigned 64-bit range"},
        {"-18446744073709551615",
         "number -18446744073709551615 is negative, outside the unsigned 64-bit range"},
        {"1.5", "number 1.5 is not an integer"},
        {"1E2", "number 1E2 is not an integer"},
        {"null", "expected an integer, found null"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ifx_json_val v = num(ok[i].text);
        uint64_t got = 42;
        ifx_err err;
        if (ifxi_json_get_u64(&v, &got, &err) != IFX_OK)
            fail_msg("%s: %s", ok[i].text, err.msg);
        if (got != ok[i].want)
            fail_msg("%s: got %llu", ok[i].text, (unsigned long long)got);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ifx_json_val v = num(bad[i].text);
        uint64_t got = 42;
        ifx_err err;
        ifx_err_clear(&err);
        assert_int_equal(ifxi_json_get_u64(&v, &got, &err), IFX_E_INVALID);
        if (strcmp(err.msg, bad[i].msg) != 0)
            fail_msg("%s: message \"%s\", expected \"%s\"", bad[i].text, err.msg, bad[i].msg);
        assert_int_equal(got, 42);
    }
}

static void test_get_double(void **state)
{
    static const struct {
        const char *text;
        double want;
    } ok[] = {
        {"0", 0.0},
        {"1.5", 1.5},
        {"-2.5e-3", -2.5e-3},
        {"1E+2", 100.0},
        {"12345678901234567890", 12345678901234567890.0},
        {"1.7976931348623157e308", 1.7976931348623157e308},
        {"4.9406564584124654e-324", 4.9406564584124654e-324},
        {"1e-400", 0.0}, /* underflow rounds to zero, which is the nearest double */
        /* Longer than the stack buffer. */
        {"1.00000000000000000000000000000000000000000000000000000000000000000000000000000001", 1.0},
        {"0.000000000000000000000000000000000000000000000000000000000000000000000000000125",
         1.25e-76},
    };
    static const struct {
        const char *text;
        const char *msg;
    } bad[] = {
        {"1e400", "number 1e400 is out of the double range"},
        {"-1e400", "number -1e400 is out of the double range"},
        {"\"1.5\"", "expected a number, found \"1.5\""},
        {"{}", "expected a number, found {}"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ifx_json_val v = num(ok[i].text);
        double got = 42;
        ifx_err err;
        if (ifxi_json_get_double(&v, &got, &err) != IFX_OK)
            fail_msg("%s: %s", ok[i].text, err.msg);
        if (got != ok[i].want)
            fail_msg("%s: got %.17g", ok[i].text, got);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ifx_json_val v = num(bad[i].text);
        double got = 42;
        ifx_err err;
        ifx_err_clear(&err);
        assert_int_equal(ifxi_json_get_double(&v, &got, &err), IFX_E_INVALID);
        if (strcmp(err.msg, bad[i].msg) != 0)
            fail_msg("%s: message \"%s\", expected \"%s\"", bad[i].text, err.msg, bad[i].msg);
        assert_true(got == 42);
    }
    /* A NUMBER value that is not JSON text must not reach strtod's extensions. */
    {
        ifx_json_val v = {IFX_JSON_NUMBER, 0, "nan", 3};
        double got = 42;
        assert_int_equal(ifxi_json_get_double(&v, &got, NULL), IFX_E_INVALID);
        v.p = "0x10";
        v.len = 4;
        assert_int_equal(ifxi_json_get_double(&v, &got, NULL), IFX_E_INVALID);
        assert_true(got == 42);
    }
}

/* strtod follows LC_NUMERIC; JSON's decimal point is always '.'. */
static void test_get_double_locale(void **state)
{
    static const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8"};
    const char *set = NULL;
    ifx_json_val v = num("1.5");
    double got = 0;
    (void)state;

    for (size_t i = 0; i < sizeof names / sizeof names[0] && !set; i++)
        set = setlocale(LC_NUMERIC, names[i]);
    if (!set)
        skip();
    assert_int_equal(ifxi_json_get_double(&v, &got, NULL), IFX_OK);
    setlocale(LC_NUMERIC, "C");
    assert_true(got == 1.5);
}

static void test_type_names(void **state)
{
    (void)state;
    assert_string_equal(ifxi_json_type_name(IFX_JSON_NONE), "none");
    assert_string_equal(ifxi_json_type_name(IFX_JSON_OBJECT), "object");
    assert_string_equal(ifxi_json_type_name(IFX_JSON_ARRAY), "array");
    assert_string_equal(ifxi_json_type_name(IFX_JSON_STRING), "string");
    assert_string_equal(ifxi_json_type_name(IFX_JSON_NUMBER), "number");
    assert_string_equal(ifxi_json_type_name(IFX_JSON_TRUE), "true");
    assert_string_equal(ifxi_json_type_name(IFX_JSON_FALSE), "false");
    assert_string_equal(ifxi_json_type_name(IFX_JSON_NULL), "null");
    assert_string_equal(ifxi_json_type_name((ifx_json_type)99), "none");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compact_scalars),
        cmocka_unit_test(test_compact_pretty_document),
        cmocka_unit_test(test_compact_big_integers_exact),
        cmocka_unit_test(test_compact_appends),
        cmocka_unit_test(test_compact_capped_buffer),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_refusal_after_output),
        cmocka_unit_test(test_string_scan_every_position),
        cmocka_unit_test(test_depth_cap),
        cmocka_unit_test(test_parse_top_level),
        cmocka_unit_test(test_iterate_nested),
        cmocka_unit_test(test_iterate_non_containers),
        cmocka_unit_test(test_iterate_untrusted_stays_in_bounds),
        cmocka_unit_test(test_object_get),
        cmocka_unit_test(test_string_eq),
        cmocka_unit_test(test_string_decode),
        cmocka_unit_test(test_string_decode_refusals),
        cmocka_unit_test(test_get_i64),
        cmocka_unit_test(test_get_u64),
        cmocka_unit_test(test_get_double),
        cmocka_unit_test(test_get_double_locale),
        cmocka_unit_test(test_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
