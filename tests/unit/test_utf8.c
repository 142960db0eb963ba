/* Tests for the strict UTF-8 validator (src/core/utf8.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/codec.h"

struct good_case {
    const char *name;
    const char *s;
    size_t len;
};

#define GOOD(name, lit)                                                                            \
    {                                                                                              \
        name, lit, sizeof lit - 1                                                                  \
    }

static void test_valid_boundaries(void **state)
{
    static const struct good_case cases[] = {
        GOOD("empty", ""),
        GOOD("U+0000", "\x00"),
        GOOD("U+007F", "\x7F"),
        GOOD("U+0080", "\xC2\x80"),
        GOOD("U+07FF", "\xDF\xBF"),
        GOOD("U+0800", "\xE0\xA0\x80"),
        GOOD("U+0FFF", "\xE0\xBF\xBF"),
        GOOD("U+1000", "\xE1\x80\x80"),
        GOOD("U+D7FF, just below the surrogates", "\xED\x9F\xBF"),
        GOOD("U+E000, just above the surrogates", "\xEE\x80\x80"),
        GOOD("U+FFFD", "\xEF\xBF\xBD"),
        GOOD("U+FFFF", "\xEF\xBF\xBF"),
        GOOD("U+10000", "\xF0\x90\x80\x80"),
        GOOD("U+3FFFF", "\xF0\xBF\xBF\xBF"),
        GOOD("U+40000", "\xF1\x80\x80\x80"),
        GOOD("U+FFFFF", "\xF3\xBF\xBF\xBF"),
        GOOD("U+100000", "\xF4\x80\x80\x80"),
        GOOD("U+10FFFF", "\xF4\x8F\xBF\xBF"),
        GOOD("mixed text", "h\xC3\xA9llo w\xC3\xB6rld \xE2\x9C\x93 \xF0\x9F\x98\x80!"),
        GOOD("long ASCII",
             "The quick brown fox jumps over the lazy dog, twice: The quick brown fox"),
        GOOD("ASCII runs between characters",
             "abcdefghijklmnop\xC3\xA9qrstuvwxyzabcdefgh\xE2\x82\xAC"
             "0123456789abcdef\xF0\x9F\x98\x80"),
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct good_case *c = &cases[i];
        size_t bad = 12345;
        ifx_err err;

        ifx_err_clear(&err);
        if (!ifxi_utf8_valid(c->s, c->len, &bad))
            fail_msg("%s: refused at byte %zu", c->name, bad);
        if (!ifxi_utf8_valid(c->s, c->len, NULL))
            fail_msg("%s: refused without bad_offset", c->name);
        if (ifxi_utf8_check(c->s, c->len, &err) != IFX_OK)
            fail_msg("%s: %s", c->name, err.msg);
        assert_int_equal(err.code, IFX_OK);
    }
}

struct bad_case {
    const char *name;
    const char *s;
    size_t len;
    size_t offset;
    const char *msg;
};

#define BAD(name, lit, off, msg)                                                                   \
    {                                                                                              \
        name, lit, sizeof lit - 1, off, msg                                                        \
    }

static void test_refusals(void **state)
{
    static const struct bad_case cases[] = {
        BAD("stray continuation", "\x80", 0,
            "invalid UTF-8 at byte 0 (unexpected continuation byte: 0x80)"),
        BAD("stray continuation after ASCII", "ab\xBF", 2,
            "invalid UTF-8 at byte 2 (unexpected continuation byte: 0xBF)"),
        BAD("one continuation too many", "\xC3\xA9\xA9", 2,
            "invalid UTF-8 at byte 2 (unexpected continuation byte: 0xA9)"),
        BAD("overlong C0", "\xC0\x80", 0, "invalid UTF-8 at byte 0 (overlong encoding: 0xC0)"),
        BAD("overlong C1", "x\xC1\xBF", 1, "invalid UTF-8 at byte 1 (overlong encoding: 0xC1)"),
        BAD("overlong E0 80", "\xE0\x80\x80", 0,
            "invalid UTF-8 at byte 0 (overlong encoding: 0xE0 0x80)"),
        BAD("overlong E0 9F", "\xE0\x9F\xBF", 0,
            "invalid UTF-8 at byte 0 (overlong encoding: 0xE0 0x9F)"),
        BAD("overlong F0 80", "\xF0\x80\x80\x80", 0,
            "invalid UTF-8 at byte 0 (overlong encoding: 0xF0 0x80)"),
        BAD("overlong F0 8F", "\xF0\x8F\xBF\xBF", 0,
            "invalid UTF-8 at byte 0 (overlong encoding: 0xF0 0x8F)"),
        BAD("surrogate U+D800", "\xED\xA0\x80", 0,
            "invalid UTF-8 at byte 0 (UTF-16 surrogate U+D800..U+DFFF: 0xED 0xA0)"),
        BAD("surrogate U+DFFF", "ok\xED\xBF\xBF", 2,
            "invalid UTF-8 at byte 2 (UTF-16 surrogate U+D800..U+DFFF: 0xED 0xBF)"),
        BAD("U+110000 (F4 90)", "\xF4\x90\x80\x80", 0,
            "invalid UTF-8 at byte 0 (code point above U+10FFFF: 0xF4 0x90)"),
        BAD("F4 BF", "\xF4\xBF\xBF\xBF", 0,
            "invalid UTF-8 at byte 0 (code point above U+10FFFF: 0xF4 0xBF)"),
        BAD("F5", "\xF5\x80\x80\x80", 0,
            "invalid UTF-8 at byte 0 (code point above U+10FFFF: 0xF5)"),
        BAD("F7", "\xF7\xBF\xBF\xBF", 0,
            "invalid UTF-8 at byte 0 (code point above U+10FFFF: 0xF7)"),
        BAD("F8", "\xF8\x88\x80\x80\x80", 0,
            "invalid UTF-8 at byte 0 (byte never used in UTF-8: 0xF8)"),
        BAD("FE", "\xFE", 0, "invalid UTF-8 at byte 0 (byte never used in UTF-8: 0xFE)"),
        BAD("FF", "abc\xFF", 3, "invalid UTF-8 at byte 3 (byte never used in UTF-8: 0xFF)"),
        BAD("2-byte truncated at end", "abc\xC3", 3,
            "invalid UTF-8 at byte 3 (truncated sequence at end of input: 0xC3)"),
        BAD("3-byte truncated at end", "\xE2\x82", 0,
            "invalid UTF-8 at byte 0 (truncated sequence at end of input: 0xE2 0x82)"),
        BAD("4-byte truncated at end", "\xF0\x9F\x98", 0,
            "invalid UTF-8 at byte 0 (truncated sequence at end of input: 0xF0 0x9F 0x98)"),
        BAD("missing second byte",
            "\xC3"
            "A",
            0, "invalid UTF-8 at byte 0 (missing continuation byte: 0xC3 0x41)"),
        BAD("missing third byte",
            "\xE2\x82"
            "A",
            0, "invalid UTF-8 at byte 0 (missing continuation byte: 0xE2 0x82 0x41)"),
        BAD("missing fourth byte", "\xF0\x9F\x98\xC3\xA9", 0,
            "invalid UTF-8 at byte 0 (missing continuation byte: 0xF0 0x9F 0x98 0xC3)"),
        BAD("lead byte followed by a lead byte", "\xC3\xC3\xA9", 0,
            "invalid UTF-8 at byte 0 (missing continuation byte: 0xC3 0xC3)"),
        BAD("after a long ASCII run", "0123456789abcdefghij\xC0\xAF", 20,
            "invalid UTF-8 at byte 20 (overlong encoding: 0xC0)"),
        BAD("after good multi-byte characters", "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xED\xA0\x80",
            9, "invalid UTF-8 at byte 9 (UTF-16 surrogate U+D800..U+DFFF: 0xED 0xA0)"),
        BAD("first problem wins", "abcdefgh\x80\xC0\xFF", 8,
            "invalid UTF-8 at byte 8 (unexpected continuation byte: 0x80)"),
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct bad_case *c = &cases[i];
        size_t bad = 12345;
        ifx_err err;
        ifx_rc rc;

        if (ifxi_utf8_valid(c->s, c->len, &bad))
            fail_msg("%s: accepted", c->name);
        if (bad != c->offset)
            fail_msg("%s: bad_offset %zu, expected %zu", c->name, bad, c->offset);
        if (ifxi_utf8_valid(c->s, c->len, NULL))
            fail_msg("%s: accepted without bad_offset", c->name);
        ifx_err_clear(&err);
        rc = ifxi_utf8_check(c->s, c->len, &err);
        if (rc != IFX_E_INVALID || err.code != IFX_E_INVALID)
            fail_msg("%s: rc %d, err.code %d", c->name, (int)rc, (int)err.code);
        if (err.offset != c->offset)
            fail_msg("%s: err.offset %zu, expected %zu", c->name, err.offset, c->offset);
        if (strcmp(err.msg, c->msg) != 0)
            fail_msg("%s: message \"%s\", expected \"%s\"", c->name, err.msg, c->msg);
        assert_int_equal(ifxi_utf8_check(c->s, c->len, NULL), IFX_E_INVALID);
    }
}

/* The word-at-a-time fast path must find a bad byte at every position within and across words,
 * and never look past len. */
static void test_every_position(void **state)
{
    char buf[41];
    (void)state;
    for (size_t len = 1; len < sizeof buf; len++) {
        for (size_t at = 0; at < len; at++) {
            size_t bad = 12345;
            memset(buf, 'a', sizeof buf);
            buf[at] = (char)0xFF;
            if (ifxi_utf8_valid(buf, len, &bad))
                fail_msg("len %zu: 0xFF at %zu accepted", len, at);
            if (bad != at)
                fail_msg("len %zu: 0xFF at %zu reported at %zu", len, at, bad);
            /* A valid 2-byte character at the same place is fine, unless it is cut by len. */
            memset(buf, 'a', sizeof buf);
            buf[at] = (char)0xC3;
            buf[at + 1] = (char)0xA9;
            bool ok = ifxi_utf8_valid(buf, len, &bad);
            if (at + 1 < len && !ok)
                fail_msg("len %zu: U+00E9 at %zu refused at %zu", len, at, bad);
            if (at + 1 == len && (ok || bad != at))
                fail_msg("len %zu: U+00E9 cut at %zu: ok=%d bad=%zu", len, at, ok, bad);
        }
    }
    /* Bytes past len are never looked at: a bad byte just past the end does not count. */
    memset(buf, 'a', sizeof buf);
    buf[16] = (char)0x80;
    assert_true(ifxi_utf8_valid(buf, 16, NULL));
    assert_false(ifxi_utf8_valid(buf, 17, NULL));
}

/* Every 2- and 3-byte sequence, checked against the code point it would encode. */
static void test_exhaustive_short_sequences(void **state)
{
    unsigned char s[3];
    (void)state;
    for (unsigned a = 0x80; a <= 0xFF; a++) {
        for (unsigned b = 0; b <= 0xFF; b++) {
            s[0] = (unsigned char)a;
            s[1] = (unsigned char)b;
            bool want = a >= 0xC2 && a <= 0xDF && b >= 0x80 && b <= 0xBF;
            if (ifxi_utf8_valid(s, 2, NULL) != want)
                fail_msg("%02X %02X: expected %s", a, b, want ? "valid" : "invalid");
        }
    }
    for (unsigned a = 0xE0; a <= 0xEF; a++) {
        for (unsigned b = 0x80; b <= 0xBF; b++) {
            for (unsigned c = 0; c <= 0xFF; c++) {
                s[0] = (unsigned char)a;
                s[1] = (unsigned char)b;
                s[2] = (unsigned char)c;
                unsigned cp = (a & 0x0F) << 12 | (b & 0x3F) << 6 | (c & 0x3F);
                bool want = c >= 0x80 && c <= 0xBF && cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF);
                if (ifxi_utf8_valid(s, 3, NULL) != want)
                    fail_msg("%02X %02X %02X: expected %s", a, b, c, want ? "valid" : "invalid");
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_boundaries),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_every_position),
        cmocka_unit_test(test_exhaustive_short_sequences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
