/* Tests for the 16-byte scanners (src/core/scan16.h) and the one-pass encoders built on them:
 * the fast path (SSE2 on x86-64) and the portable one must agree byte for byte, error for error,
 * and both must equal the old composition (validate and compact, then escape). Inputs: every byte
 * value at every position of a block and across block boundaries, every alignment, lengths
 * 0..140, random JSON, and random mutations of it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/scan16.h"
#include "core/utf8_internal.h"

/* ---- a small deterministic generator -------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static size_t rnd_below(size_t n)
{
    return n ? rnd() % n : 0;
}

/* ---- the block scanners --------------------------------------------------------------------- */

static unsigned naive(const unsigned char *p, int kind)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned c = p[i];
        bool stop = false;
        switch (kind) {
        case 0: /* json */
            stop = c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
            break;
        case 1: /* text */
            stop = c == '"' || c == '\\' || c >= 0x80;
            break;
        default: /* name */
            stop = c < 0x20 || c == '\\' || c == ',' || c == ' ' || c == '=' || c >= 0x80;
        }
        if (stop)
            return i;
    }
    return 16;
}

static unsigned naive_nonws(const unsigned char *p)
{
    for (unsigned i = 0; i < 16; i++)
        if (p[i] != ' ' && p[i] != '\n' && p[i] != '\r' && p[i] != '\t')
            return i;
    return 16;
}

static void check_block(const unsigned char *b)
{
    unsigned want = naive(b, 0);
    bool q = true, qp = true;

    /* the JSON scan that also tells a closing quote, and the whitespace skip */
    assert_int_equal(ifxi_scan16_json_q(b, &q), want);
    assert_int_equal(ifxi_scan16_json_q_portable(b, &qp), want);
    assert_true(q == (want < 16 && b[want] == '"'));
    assert_true(qp == q);
    assert_int_equal(ifxi_scan16_nonws(b), naive_nonws(b));
    assert_int_equal(ifxi_scan16_nonws_portable(b), naive_nonws(b));
    assert_int_equal(ifxi_scan16_json(b), naive(b, 0));
    assert_int_equal(ifxi_scan16_json_portable(b), naive(b, 0));
    assert_int_equal(ifxi_scan16_text(b), naive(b, 1));
    assert_int_equal(ifxi_scan16_text_portable(b), naive(b, 1));
    assert_int_equal(ifxi_scan16_name(b), naive(b, 2));
    assert_int_equal(ifxi_scan16_name_portable(b), naive(b, 2));
}

static void test_blocks_every_byte_every_position(void **state)
{
    unsigned char b[16];
    (void)state;
    for (unsigned v = 0; v < 256; v++) {
        for (unsigned pos = 0; pos < 16; pos++) {
            memset(b, 'x', sizeof b);
            b[pos] = (unsigned char)v;
            check_block(b);
            /* a second stop later in the block: borrows must not move the first */
            for (unsigned later = pos + 1; later < 16; later++) {
                memset(b, 'x', sizeof b);
                b[pos] = (unsigned char)v;
                b[later] = (unsigned char)(v ^ 0x80);
                check_block(b);
            }
            /* bytes just above the stops around it (0x20, '#', ']') */
            memset(b, 0x21, sizeof b);
            b[pos] = (unsigned char)v;
            check_block(b);
            /* whitespace runs (the JSON skip) with the byte after them */
            memset(b, ' ', sizeof b);
            b[pos] = (unsigned char)v;
            check_block(b);
            for (unsigned k = 0; k < pos; k++)
                b[k] = "\t\n\r "[k % 4];
            check_block(b);
        }
    }
}

static void test_blocks_random(void **state)
{
    static const unsigned char edgy[] = {0x00, 0x01, 0x1F, 0x20, 0x21, '"',  '#',  ',',  '-',  '\t',
                                         '\n', '\r', '<',  '=',  '>',  '[',  '\\', ']',  0x7F, 0x80,
                                         0x81, 0xBF, 0xC0, 0xDF, 0xE0, 0xEF, 0xF0, 0xFF, 'a'};
    unsigned char b[16];
    (void)state;
    for (int n = 0; n < 200000; n++) {
        for (int i = 0; i < 16; i++)
            b[i] = (rnd() & 1) ? (unsigned char)rnd() : edgy[rnd_below(sizeof edgy)];
        check_block(b);
    }
}

static unsigned tail_json(const unsigned char *p, size_t n)
{
    IFXI_SCAN_TAIL(ifxi_scan_json_word, p, n);
}

static unsigned tail_text(const unsigned char *p, size_t n)
{
    IFXI_SCAN_TAIL(ifxi_scan_text_word, p, n);
}

static unsigned tail_name(const unsigned char *p, size_t n)
{
    IFXI_SCAN_TAIL(ifxi_scan_name_word, p, n);
}

/* The tails read exactly n bytes (the input ends at its allocation) and agree with the blocks. */
static void test_tails(void **state)
{
    unsigned char b[16];
    (void)state;
    for (size_t n = 0; n <= 16; n++) {
        for (unsigned v = 0; v < 256; v++) {
            for (size_t pos = 0; pos < 16; pos++) {
                unsigned char *mem = malloc(n ? n : 1);
                assert_non_null(mem);
                memset(b, 'x', sizeof b);
                b[pos] = (unsigned char)v;
                if (n)
                    memcpy(mem, b, n);
                for (int kind = 0; kind < 3; kind++) {
                    unsigned want = naive(b, kind);
                    unsigned got = kind == 0   ? tail_json(mem, n)
                                   : kind == 1 ? tail_text(mem, n)
                                               : tail_name(mem, n);
                    assert_int_equal(got, want < n ? want : n);
                }
                free(mem);
            }
        }
    }
}

/* ---- JSON: one pass against the old composition --------------------------------------------- */

/* The old path: validate and compact, then escape '"' and '\' inside quotes. */
static ifx_rc reference_json(const char *in, size_t len, ifx_buf *out, size_t *clen, ifx_err *err)
{
    ifx_buf c;
    ifx_rc rc;

    ifx_buf_init(&c, (size_t)1 << 30);
    rc = ifxi_json_compact(in, len, &c, err);
    if (rc == IFX_OK) {
        *clen = c.len;
        assert_int_equal(ifx_buf_putc(out, '"'), IFX_OK);
        for (size_t i = 0; i < c.len; i++) {
            if (c.data[i] == '"' || c.data[i] == '\\')
                assert_int_equal(ifx_buf_putc(out, '\\'), IFX_OK);
            assert_int_equal(ifx_buf_putc(out, c.data[i]), IFX_OK);
        }
        assert_int_equal(ifx_buf_putc(out, '"'), IFX_OK);
    }
    ifx_buf_free(&c);
    return rc;
}

/* Runs the fast and the portable encoder on in[0..len) placed at every given alignment, at the
 * very end of its allocation (so that a read past it is caught under ASan), after a prefix already
 * in the output, and compares them with the reference. Returns the result. */
static ifx_rc compare_json(const char *text, size_t len, size_t alignments)
{
    ifx_buf ref, fast, port;
    ifx_err eref, efast, eport;
    size_t cref = 0, cfast = 0, cport = 0;
    ifx_rc rref;

    ifx_buf_init(&ref, (size_t)1 << 30);
    ifx_err_clear(&eref);
    assert_int_equal(ifx_buf_puts(&ref, "p="), IFX_OK);
    rref = reference_json(text, len, &ref, &cref, &eref);
    for (size_t off = 0; off < alignments; off++) {
        char *mem = malloc(len + off + 1);
        assert_non_null(mem);
        char *in = mem + off;
        memcpy(in, text, len);
        /* A cap that fits only the exact output makes the encoder measure first. */
        size_t cap = (off % 3 == 2 && rref == IFX_OK) ? ref.len : (size_t)1 << 30;
        ifx_buf_init(&fast, cap);
        ifx_buf_init(&port, cap);
        assert_int_equal(ifx_buf_puts(&fast, "p="), IFX_OK);
        assert_int_equal(ifx_buf_puts(&port, "p="), IFX_OK);
        ifx_err_clear(&efast);
        ifx_err_clear(&eport);
        ifx_rc rfast = ifxi_json_compact_lp(in, len, &fast, &cfast, &efast);
        ifx_rc rport = ifxi_json_compact_lp_portable(in, len, &port, &cport, &eport);
        assert_int_equal(rfast, rref);
        assert_int_equal(rport, rref);
        assert_string_equal(efast.msg, eref.msg);
        assert_string_equal(eport.msg, eref.msg);
        assert_true(efast.offset == eref.offset && eport.offset == eref.offset);
        /* On failure the output is unchanged; on success it is the reference's. */
        assert_int_equal(fast.len, rref == IFX_OK ? ref.len : 2);
        assert_int_equal(port.len, fast.len);
        assert_memory_equal(fast.data, ref.data, fast.len);
        assert_memory_equal(port.data, ref.data, port.len);
        assert_int_equal(fast.data[fast.len], '\0');
        if (rref == IFX_OK)
            assert_true(cfast == cref && cport == cref);
        /* The fast path alone: it takes every valid input, writes the same, and hands over
         * every invalid one. */
        for (int portable = 0; portable < 2; portable++) {
            ifx_buf only;
            size_t conly = 0;
            ifx_buf_init(&only, (size_t)1 << 30);
            assert_int_equal(ifx_buf_puts(&only, "p="), IFX_OK);
            ifx_rc ronly = ifxi_json_compact_lp_fast_only(in, len, &only, &conly, portable);
            assert_int_equal(ronly, rref == IFX_OK ? IFX_OK : IFX_E_INVALID);
            assert_int_equal(only.len, rref == IFX_OK ? ref.len : 2);
            assert_memory_equal(only.data, ref.data, only.len + 1);
            if (rref == IFX_OK)
                assert_true(conly == cref);
            ifx_buf_free(&only);
        }
        ifx_buf_free(&fast);
        ifx_buf_free(&port);
        free(mem);
    }
    ifx_buf_free(&ref);
    return rref;
}

static void test_json_every_byte_at_block_boundaries(void **state)
{
    char s[128];
    (void)state;
    /* {"k":"aaa…<v>…aaa"} with the byte v at every position of a 40-byte string, so that it falls
     * at every offset of a block, just before and just after block boundaries. */
    for (unsigned v = 0; v < 256; v++) {
        for (size_t pos = 0; pos < 40; pos++) {
            size_t n = 0;
            memcpy(s, "{\"k\":\"", 6);
            n = 6;
            for (size_t i = 0; i < 40; i++)
                s[n++] = i == pos ? (char)v : 'a';
            memcpy(s + n, "\"}", 2);
            n += 2;
            compare_json(s, n, pos % 4 == 0 ? 16 : 2);
            /* the same byte after a backslash, and the string cut there */
            if (pos > 0) {
                s[6 + pos - 1] = '\\';
                compare_json(s, n, 2);
                compare_json(s, 6 + pos + 1, 2);
            }
        }
    }
}

static const char *const json_pieces[] = {"{",
                                          "}",
                                          "[",
                                          "]",
                                          ",",
                                          ":",
                                          " ",
                                          "\n",
                                          "\t",
                                          "\r",
                                          "  \n    ",
                                          "\"",
                                          "\\",
                                          "\\\"",
                                          "\\\\",
                                          "\\/",
                                          "\\n",
                                          "\\u00e9",
                                          "\\u20AC",
                                          "\\ud83d\\ude00",
                                          "\\ud83d",
                                          "\\udc00",
                                          "\\u12",
                                          "\\x",
                                          "\"k\"",
                                          "\"key\": ",
                                          "\"v\"",
                                          "0",
                                          "-1",
                                          "12345678901234567890123",
                                          "-0.5e+3",
                                          "1.",
                                          "01",
                                          "true",
                                          "false",
                                          "null",
                                          "nul",
                                          "\xC3\xA9",
                                          "\xE2\x82\xAC",
                                          "\xF0\x9F\x98\x80",
                                          "\xC3",
                                          "\xE0\x80\x80",
                                          "\xED\xA0\x80",
                                          "\xF4\x90\x80\x80",
                                          "\xFF",
                                          "\x01",
                                          "\x7F",
                                          "\x1F",
                                          "aaaaaaaaaaaaaaa",
                                          "aaaaaaaaaaaaaaaa",
                                          "aaaaaaaaaaaaaaaaa",
                                          "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                                          ",\"x\":[1,2,{\"y\":\"z\"}]"};

/* A random JSON value, mostly valid, built from the grammar. */
static void gen_value(ifx_buf *b, int depth)
{
    static const char *const strs[] = {"",
                                       "a",
                                       "\\\"q\\\"",
                                       "\\\\",
                                       "\xC3\xA9t\xC3\xA9",
                                       "tab\\t",
                                       "\\u0041",
                                       "\\ud83d\\ude00",
                                       "\xF0\x9F\x98\x80",
                                       "0123456789abcdef",
                                       "0123456789abcdefg",
                                       "\"",
                                       "\\"};
    switch (depth > 4 ? rnd_below(4) : rnd_below(6)) {
    case 0:
        ifx_buf_puts(b, "\"");
        ifx_buf_puts(b, strs[rnd_below(sizeof strs / sizeof *strs - 2)]);
        for (size_t i = rnd_below(40); i > 0; i--)
            ifx_buf_putc(b, (char)('a' + rnd_below(26)));
        ifx_buf_puts(b, "\"");
        break;
    case 1:
        ifx_buf_printf(b, "%d", (int)(rnd() % 2000000000u) - 1000000000);
        break;
    case 2:
        ifx_buf_puts(b, rnd_below(2) ? "true" : "null");
        break;
    case 3:
        ifx_buf_printf(b, "%d.%de%d", (int)rnd_below(1000), (int)rnd_below(100),
                       (int)rnd_below(30) - 15);
        break;
    case 4:
    case 5: {
        bool obj = rnd_below(2);
        size_t n = rnd_below(5);
        ifx_buf_puts(b, obj ? "{" : "[");
        for (size_t i = 0; i < n; i++) {
            if (i)
                ifx_buf_puts(b, rnd_below(2) ? ", " : ",");
            if (rnd_below(3) == 0)
                ifx_buf_puts(b, "\n  ");
            if (obj) {
                ifx_buf_puts(b, "\"");
                ifx_buf_puts(b, strs[rnd_below(sizeof strs / sizeof *strs - 2)]);
                ifx_buf_puts(b, rnd_below(2) ? "\": " : "\":");
            }
            gen_value(b, depth + 1);
        }
        ifx_buf_puts(b, obj ? "}" : "]");
        break;
    }
    }
}

/* Nesting at and around the limit, arrays and objects, with and without whitespace: the fast
 * path hands the refusal over at the same depth. */
static void test_json_depth_limit(void **state)
{
    static char s[4 * (IFX_JSON_MAX_DEPTH + 4) + 8];
    (void)state;
    for (size_t depth = IFX_JSON_MAX_DEPTH - 2; depth <= IFX_JSON_MAX_DEPTH + 2; depth++) {
        for (int kind = 0; kind < 3; kind++) {
            size_t n = 0;
            for (size_t d = 0; d < depth; d++) {
                if (kind == 1 && d % 2)
                    n += (size_t)sprintf(s + n, "{\"k\":");
                else
                    s[n++] = '[';
                if (kind == 2)
                    s[n++] = ' ';
            }
            s[n++] = '1';
            for (size_t d = depth; d-- > 0;)
                s[n++] = kind == 1 && d % 2 ? '}' : ']';
            ifx_rc want = depth <= IFX_JSON_MAX_DEPTH ? IFX_OK : IFX_E_INVALID;
            assert_int_equal(compare_json(s, n, 2), want);
        }
    }
}

static void test_json_random(void **state)
{
    ifx_buf b;
    size_t valid = 0, total = 0;
    (void)state;
    ifx_buf_init(&b, 1 << 20);
    for (int n = 0; n < 20000; n++) {
        ifx_buf_reset(&b);
        if (rnd_below(3) == 0) {
            /* a soup of tokens: mostly invalid, every error path */
            for (size_t i = rnd_below(20); i > 0; i--)
                ifx_buf_puts(&b, json_pieces[rnd_below(sizeof json_pieces / sizeof *json_pieces)]);
        } else {
            gen_value(&b, 0);
            /* a few mutations: a random byte, a cut, a random piece */
            switch (rnd_below(6)) {
            case 0:
                if (b.len)
                    b.data[rnd_below(b.len)] = (char)rnd();
                break;
            case 1:
                ifx_buf_truncate(&b, rnd_below(b.len + 1));
                break;
            case 2: {
                size_t at = rnd_below(b.len + 1);
                const char *p = json_pieces[rnd_below(sizeof json_pieces / sizeof *json_pieces)];
                char tail[4096];
                size_t tl = b.len - at < sizeof tail ? b.len - at : sizeof tail - 1;
                memcpy(tail, b.data + at, tl);
                ifx_buf_truncate(&b, at);
                ifx_buf_puts(&b, p);
                ifx_buf_append(&b, tail, tl);
                break;
            }
            default:
                break;
            }
        }
        total++;
        if (compare_json(b.data ? b.data : "", b.len, n % 16 == 0 ? 16 : 1) == IFX_OK)
            valid++;
    }
    /* Both kinds were exercised in earnest. */
    assert_true(valid > total / 5 && valid < total - total / 5);
    ifx_buf_free(&b);
}

static void test_json_lengths(void **state)
{
    char s[200];
    (void)state;
    /* strings of every length 0..140, with and without escapes and multi-byte characters */
    for (size_t len = 0; len <= 140; len++) {
        for (int kind = 0; kind < 4; kind++) {
            size_t n = 0;
            s[n++] = '"';
            for (size_t i = 0; i < len; i++) {
                char c = (char)('a' + i % 26);
                if (kind == 1 && i % 7 == 3)
                    c = '/';
                s[n++] = c;
            }
            if (kind == 2 && len >= 2) {
                s[n - 2] = '\xC3';
                s[n - 1] = '\xA9';
            }
            if (kind == 3 && len >= 2) {
                s[n - 2] = '\\';
                s[n - 1] = '"';
            }
            s[n++] = '"';
            compare_json(s, n, 16);
            compare_json(s, n - 1, 2); /* unterminated */
        }
    }
}

/* ---- text ------------------------------------------------------------------------------------ */

static ifx_rc compare_text(const char *text, size_t len, size_t alignments)
{
    ifx_buf ref, fast, port;
    ifx_err eref, efast, eport;
    ifx_rc rref;

    ifx_buf_init(&ref, (size_t)1 << 30);
    ifx_err_clear(&eref);
    assert_int_equal(ifx_buf_puts(&ref, "p="), IFX_OK);
    rref = ifxi_utf8_check(text, len, &eref);
    if (rref == IFX_OK) {
        ifx_buf_putc(&ref, '"');
        for (size_t i = 0; i < len; i++) {
            if (text[i] == '"' || text[i] == '\\')
                ifx_buf_putc(&ref, '\\');
            ifx_buf_putc(&ref, text[i]);
        }
        ifx_buf_putc(&ref, '"');
    }
    for (size_t off = 0; off < alignments; off++) {
        char *mem = malloc(len + off + 1);
        assert_non_null(mem);
        char *in = mem + off;
        memcpy(in, text, len);
        size_t cap = (off % 3 == 2 && rref == IFX_OK) ? ref.len : (size_t)1 << 30;
        ifx_buf_init(&fast, cap);
        ifx_buf_init(&port, cap);
        assert_int_equal(ifx_buf_puts(&fast, "p="), IFX_OK);
        assert_int_equal(ifx_buf_puts(&port, "p="), IFX_OK);
        ifx_err_clear(&efast);
        ifx_err_clear(&eport);
        assert_int_equal(ifxi_utf8_lp_string(in, len, &fast, &efast), rref);
        assert_int_equal(ifxi_utf8_lp_string_portable(in, len, &port, &eport), rref);
        assert_string_equal(efast.msg, eref.msg);
        assert_string_equal(eport.msg, eref.msg);
        assert_true(efast.offset == eref.offset && eport.offset == eref.offset);
        assert_int_equal(fast.len, rref == IFX_OK ? ref.len : 2);
        assert_int_equal(port.len, fast.len);
        assert_memory_equal(fast.data, ref.data, fast.len);
        assert_memory_equal(port.data, ref.data, port.len);
        assert_int_equal(fast.data[fast.len], '\0');
        ifx_buf_free(&fast);
        ifx_buf_free(&port);
        free(mem);
    }
    ifx_buf_free(&ref);
    return rref;
}

static void test_text_every_byte_every_position(void **state)
{
    char s[64];
    (void)state;
    for (unsigned v = 0; v < 256; v++) {
        for (size_t pos = 0; pos < 40; pos++) {
            memset(s, 'a', 40);
            s[pos] = (char)v;
            compare_text(s, 40, pos % 4 == 0 ? 16 : 2);
            compare_text(s, pos + 1, 1); /* ends with it */
            /* a lead byte with its continuation cut by the next 16-byte block */
            if (pos + 2 < 40) {
                s[pos + 1] = (char)0xA9;
                compare_text(s, 40, 1);
            }
        }
    }
}

static void test_text_random(void **state)
{
    static const char *const pieces[] = {"\"",
                                         "\\",
                                         "a",
                                         "bcdefgh",
                                         "\n",
                                         "\xC3\xA9",
                                         "\xE2\x82\xAC",
                                         "\xF0\x9F\x98\x80",
                                         "\xC3",
                                         "\xED\xA0\x80",
                                         "\xF4\x90\x80\x80",
                                         "\xC0\x80",
                                         "\x80",
                                         "\xFF",
                                         "0123456789abcdef"};
    char s[600];
    (void)state;
    for (int n = 0; n < 30000; n++) {
        size_t len = 0;
        if (rnd_below(4) == 0) {
            len = rnd_below(141);
            for (size_t i = 0; i < len; i++)
                s[i] = (char)rnd();
        } else {
            for (size_t i = rnd_below(30); i > 0; i--) {
                const char *p = pieces[rnd_below(sizeof pieces / sizeof *pieces)];
                /* mostly valid pieces, so that errors come late as well as early */
                if (rnd_below(8) != 0 && (p[0] & 0x80) && strlen(p) < 2)
                    p = "x";
                size_t pl = strlen(p);
                memcpy(s + len, p, pl);
                len += pl;
            }
        }
        compare_text(s, len, n % 8 == 0 ? 16 : 1);
    }
}

/* The block scanners in use are the machine's own: SSE2 on x86-64, NEON on AArch64 (the tests
 * above then compare them with the portable ones), unless IFX_SCAN_PORTABLE asks for those. */
static void test_scanner_in_use(void **state)
{
    (void)state;
#if defined(IFX_SCAN_PORTABLE)
    print_message("block scanners: portable (IFX_SCAN_PORTABLE)\n");
#elif defined(__x86_64__)
#ifndef IFXI_SCAN16_SSE2
    fail_msg("x86-64 without the SSE2 block scanners");
#endif
    print_message("block scanners: SSE2\n");
#elif defined(__aarch64__)
#ifndef IFXI_SCAN16_NEON
    fail_msg("AArch64 without the NEON block scanners");
#endif
    print_message("block scanners: NEON\n");
#else
    print_message("block scanners: portable\n");
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scanner_in_use),
        cmocka_unit_test(test_blocks_every_byte_every_position),
        cmocka_unit_test(test_blocks_random),
        cmocka_unit_test(test_tails),
        cmocka_unit_test(test_json_every_byte_at_block_boundaries),
        cmocka_unit_test(test_json_lengths),
        cmocka_unit_test(test_json_depth_limit),
        cmocka_unit_test(test_json_random),
        cmocka_unit_test(test_text_every_byte_every_position),
        cmocka_unit_test(test_text_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
