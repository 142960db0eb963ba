/* ifx — JSON (RFC 8259): a one-pass validator and compactor, and navigation over validated text
 * (see src/core/codec.h).
 *
 * Why one file of this size: it is the hot-path scanner (jansson builds a tree per message and
 * cannot give spans or integers beyond int64). The validator, the navigation and the string and
 * number decoders are one grammar, read the same way in every part; they share its character
 * classes and its error messages, and nothing outside uses them separately. */
#include "core/codec.h"
#include "core/scan16.h"
#include "core/utf8_internal.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the scanner ---------------------------------------------------------------------------- */

/* Bytes that end a run of plain string content: '"', '\\' and the control characters, which must
 * be escaped. */
/* clang-format off */
static const unsigned char str_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00: control characters */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20: '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x50: '\\' */
    /* 0x60 and up: 0 */
};
/* clang-format on */

#define ONE_BITS  0x0101010101010101ull
#define HIGH_BITS 0x8080808080808080ull

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Bit 7 set in each byte of w that is '"', '\\' or below 0x20: the classic "has a zero byte" test
 * on w ^ c, and "has a byte below n" on w. Borrows can flag bytes above the first stop too, but
 * never one below it, so the lowest set bit is exact. */
static inline uint64_t stop_mask(uint64_t w)
{
    uint64_t q = w ^ (ONE_BITS * '"'), b = w ^ (ONE_BITS * '\\');

    return (((q - ONE_BITS) & ~q) | ((b - ONE_BITS) & ~b) | ((w - ONE_BITS * 0x20) & ~w)) &
           HIGH_BITS;
}
#endif

/* How many of the n bytes at p come before the first string stop byte. The bytes passed are ORed
 * into *seen, so that (*seen & 0x80) tells whether any was part of a multi-byte character. */
static inline size_t plain_len(const unsigned char *p, size_t n, uint64_t *seen)
{
    size_t i = 0;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* Eight at a time: most string content is long runs of plain bytes. */
    for (; n - i >= 8; i += 8) {
        uint64_t w, m;
        memcpy(&w, p + i, 8);
        m = stop_mask(w);
        if (m) {
            unsigned k = (unsigned)__builtin_ctzll(m) / 8;
            *seen |= w & ((1ull << (8 * k)) - 1);
            return i + k;
        }
        *seen |= w;
    }
#endif
    for (; i < n && !str_stop[p[i]]; i++)
        *seen |= p[i];
    return i;
}

struct scan {
    const unsigned char *in;
    size_t len;
    char *w;           /* where compact output goes; NULL when only validating */
    char *wend;        /* the end of the memory at w (it may be written past the output) */
    size_t copied;     /* input before this offset is accounted for in the output */
    size_t outlen;     /* bytes of compact output so far */
    size_t escapes;    /* backslashes added for line protocol (in outlen) */
    bool lp;           /* escape '"' and '\\' for a line-protocol string field */
    bool portable;     /* use the portable scanner (for tests comparing the two) */
    unsigned flags;    /* flags of the last string or number scanned */
    size_t start, end; /* span of the top-level value */
    ifx_err *err;
};

static void scan_init(struct scan *s, const char *in, size_t len, ifx_err *err)
{
    s->in = (const unsigned char *)in;
    s->len = len;
    s->w = NULL;
    s->wend = NULL;
    s->copied = 0;
    s->outlen = 0;
    s->escapes = 0;
    s->lp = false;
    s->portable = false;
    s->flags = 0;
    s->start = 0;
    s->end = 0;
    s->err = err;
}

static inline bool is_ws(unsigned c)
{
    return c <= ' ' && (c == ' ' || c == '\n' || c == '\r' || c == '\t');
}

/* Moves the significant bytes in[copied..upto) to the output. */
static inline void emit(struct scan *s, size_t upto)
{
    size_t n = upto - s->copied;

    if (s->w) {
        const unsigned char *from = s->in + s->copied;
        /* Most spans between two whitespace runs or two quotes are short: one fixed-size copy
         * (the bytes after the span are overwritten later) costs less than a call to memcpy. */
        if (n <= 16 && s->len - s->copied >= 16 && (size_t)(s->wend - s->w) >= 16)
            memcpy(s->w, from, 16);
        else
            ifxi_copy(s->w, from, n);
        s->w += n;
    }
    s->outlen += n;
}

/* Line-protocol mode: a backslash goes out before in[i] ('"' or '\\'), which goes out with the
 * next span. */
static inline void escape_at(struct scan *s, size_t i)
{
    emit(s, i);
    s->copied = i;
    if (s->w)
        *s->w++ = '\\';
    s->outlen++;
    s->escapes++;
}

/* Skips whitespace at i. Whitespace between tokens is all that compaction drops, so this is also
 * where the span of significant bytes before it goes out, in one copy. */
static inline size_t skip_ws(struct scan *s, size_t i)
{
    size_t j = i;

    while (j < s->len && is_ws(s->in[j]))
        j++;
    if (j != i) {
        emit(s, i);
        s->copied = j;
    }
    return j;
}

static void describe_at(const struct scan *s, size_t i, char *buf, size_t size)
{
    unsigned c;

    if (i >= s->len) {
        snprintf(buf, size, "end of input");
        return;
    }
    c = s->in[i];
    if (c >= 0x20 && c < 0x7F)
        snprintf(buf, size, "'%c'", (int)c);
    else
        snprintf(buf, size, "byte 0x%02X", c);
}

static ifx_rc fail(struct scan *s, size_t i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), cold));

static ifx_rc fail(struct scan *s, size_t i, const char *fmt, ...)
{
    char what[300];
    va_list ap;

    if (!s->err)
        return IFX_E_INVALID;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return ifx_err_set_at(s->err, IFX_E_INVALID, i, "invalid JSON at byte %zu: %s", i, what);
}

/* "expected <what>, found <the byte at i>". */
static __attribute__((noinline, cold)) ifx_rc expected(struct scan *s, size_t i, const char *what)
{
    char found[24];

    if (!s->err)
        return IFX_E_INVALID;
    describe_at(s, i, found, sizeof found);
    return fail(s, i, "expected %s, found %s", what, found);
}

/* The string scanners' refusals, out of line: their message buffers would otherwise enlarge the
 * stack frame of every string scanned. */
static __attribute__((noinline, cold)) ifx_rc utf8_fail(struct scan *s, size_t i)
{
    char what[80];

    ifxi_utf8_describe(s->in + i, s->len - i, what, sizeof what);
    return fail(s, i, "invalid UTF-8 in a string (%s)", what);
}

static __attribute__((noinline, cold)) ifx_rc unterminated(struct scan *s, size_t i, size_t start)
{
    return fail(s, i, "expected '\"' to end the string that starts at byte %zu, found end of input",
                start);
}

static inline int hex_digit(unsigned c)
{
    if (c - '0' < 10)
        return (int)(c - '0');
    c |= 0x20;
    if (c - 'a' < 6)
        return (int)(c - 'a' + 10);
    return -1;
}

/* The four hex digits at p[0..avail), or -1 with *bad the index of the first missing one. */
static long hex4(const unsigned char *p, size_t avail, size_t *bad)
{
    long v = 0;
    size_t k;

    for (k = 0; k < 4; k++) {
        int d = k < avail ? hex_digit(p[k]) : -1;
        if (d < 0) {
            *bad = k;
            return -1;
        }
        v = v << 4 | d;
    }
    return v;
}

/* The escape at in[*pi] == '\\'. */
static ifx_rc scan_escape(struct scan *s, size_t *pi)
{
    const unsigned char *in = s->in;
    size_t i = *pi, bad = 0;
    long hi, lo;

    if (i + 1 >= s->len)
        return expected(s, i + 1, "an escape character after '\\'");
    switch (in[i + 1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        *pi = i + 2;
        return IFX_OK;
    case 'u':
        break;
    default:
        return expected(s, i + 1, "one of \" \\ / b f n r t u after '\\' (invalid escape)");
    }
    hi = hex4(in + i + 2, s->len - (i + 2), &bad);
    if (hi < 0)
        return expected(s, i + 2 + bad, "4 hex digits after '\\u'");
    if (hi >= 0xDC00 && hi <= 0xDFFF)
        return fail(s, i, "lone low surrogate \\u%04lX (it must follow a high surrogate)", hi);
    if (hi < 0xD800 || hi > 0xDBFF) {
        *pi = i + 6;
        return IFX_OK;
    }
    /* A high surrogate only means something as the first half of a pair. */
    i += 6;
    if (i + 1 < s->len && in[i] == '\\' && in[i + 1] == 'u') {
        lo = hex4(in + i + 2, s->len - (i + 2), &bad);
        if (lo < 0)
            return expected(s, i + 2 + bad, "4 hex digits after '\\u'");
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
            *pi = i + 6;
            return IFX_OK;
        }
    }
    return fail(s, i - 6, "high surrogate \\u%04lX is not followed by a \\u low surrogate", hi);
}

static inline unsigned json_tail(const unsigned char *p, size_t n)
{
    IFXI_SCAN_TAIL(ifxi_scan_json_word, p, n);
}

/* The string at in[*pi] == '"' when writing line protocol: the same checks and errors as
 * scan_string_with, but the string goes out as it is scanned. Each block of 16 bytes is loaded
 * once, stored whole, and the output moves on by the plain bytes it holds; the state lives in
 * locals until the end. */
static inline __attribute__((always_inline)) ifx_rc lp_string_with(struct scan *s, size_t *pi,
                                                                   bool portable)
{
    const unsigned char *in = s->in;
    const size_t len = s->len;
    size_t i = *pi + 1, escapes = 2;
    unsigned flags = 0;
    char *w, *w0;
    ifx_rc rc;

    emit(s, *pi);
    w0 = w = s->w;
    *w++ = '\\';
    *w++ = '"';
    for (;;) {
        unsigned c, k;

        if (len - i >= 16 && s->wend - w >= 16) {
            k = portable ? ifxi_scan16_json_portable(in + i) : ifxi_scan16_json(in + i);
            memcpy(w, in + i, 16);
        } else {
            size_t n = len - i < 16 ? len - i : 16;
            k = json_tail(in + i, n);
            ifxi_copy(w, in + i, k);
        }
        w += k;
        i += k;
        if (k == 16)
            continue;
        if (i >= len)
            return unterminated(s, i, *pi);
        c = in[i];
        if (c == '"')
            break;
        if (c == '\\') {
            size_t at = i;
            flags |= IFX_JSON_F_ESCAPED;
            rc = scan_escape(s, &i);
            if (rc)
                return rc;
            /* \" and \\ hold two bytes to escape, a surrogate pair two backslashes. */
            for (; at < i; at++) {
                if (in[at] == '"' || in[at] == '\\') {
                    *w++ = '\\';
                    escapes++;
                }
                *w++ = (char)in[at];
            }
            continue;
        }
        if (c >= 0x80) {
            enum ifxi_utf8_problem why;
            size_t seen, n = ifxi_utf8_char(in + i, len - i, &why, &seen);
            if (!n)
                return utf8_fail(s, i);
            ifxi_copy(w, in + i, n);
            w += n;
            i += n;
            continue;
        }
        return fail(s, i, "control character 0x%02X in a string (it must be escaped)", c);
    }
    *w++ = '\\';
    *w++ = '"';
    s->w = w;
    s->outlen += (size_t)(w - w0);
    s->escapes += escapes;
    s->copied = i + 1;
    *pi = i + 1;
    s->flags = flags;
    return IFX_OK;
}

/* The string at in[*pi] == '"'; leaves *pi after the closing quote. Plain bytes are skipped 16 at
 * a time; the scanner stops only at '"', '\\', a control byte, or a byte >= 0x80, whose UTF-8
 * character is checked there. So text is read once, however it ends up being copied. */
static inline __attribute__((always_inline)) ifx_rc scan_string_with(struct scan *s, size_t *pi,
                                                                     bool portable)
{
    const unsigned char *in = s->in;
    const size_t len = s->len;
    size_t i = *pi + 1;
    unsigned flags = 0;
    ifx_rc rc;

    if (s->lp && s->w)
        return lp_string_with(s, pi, portable);
    if (s->lp)
        escape_at(s, *pi);
    for (;;) {
        unsigned c, k;

        while (len - i >= 16) {
            k = portable ? ifxi_scan16_json_portable(in + i) : ifxi_scan16_json(in + i);
            i += k;
            if (k < 16)
                goto stop;
        }
        i += json_tail(in + i, len - i);
    stop:
        if (i >= len)
            return unterminated(s, i, *pi);
        c = in[i];
        if (c == '"')
            break;
        if (c == '\\') {
            size_t at = i;
            flags |= IFX_JSON_F_ESCAPED;
            rc = scan_escape(s, &i);
            if (rc)
                return rc;
            /* \" and \\ hold two bytes to escape, a surrogate pair two backslashes. */
            for (; s->lp && at < i; at++)
                if (in[at] == '"' || in[at] == '\\')
                    escape_at(s, at);
            continue;
        }
        if (c >= 0x80) {
            enum ifxi_utf8_problem why;
            size_t seen, n = ifxi_utf8_char(in + i, len - i, &why, &seen);
            if (!n)
                return utf8_fail(s, i);
            i += n;
            continue;
        }
        return fail(s, i, "control character 0x%02X in a string (it must be escaped)", c);
    }
    if (s->lp)
        escape_at(s, i);
    *pi = i + 1;
    s->flags = flags;
    return IFX_OK;
}

static inline __attribute__((always_inline)) ifx_rc scan_string_fast(struct scan *s, size_t *pi)
{
    return scan_string_with(s, pi, false);
}

static ifx_rc scan_string_portable(struct scan *s, size_t *pi)
{
    return scan_string_with(s, pi, true);
}

static inline ifx_rc scan_string(struct scan *s, size_t *pi)
{
    return s->portable ? scan_string_portable(s, pi) : scan_string_fast(s, pi);
}

static inline bool is_digit(unsigned c)
{
    return c - '0' < 10;
}

/* The number at in[*pi], which is '-' or a digit. */
static ifx_rc scan_number(struct scan *s, size_t *pi)
{
    const unsigned char *in = s->in;
    const size_t len = s->len;
    size_t i = *pi;
    unsigned flags = 0;

    if (in[i] == '-') {
        flags |= IFX_JSON_F_NEG;
        i++;
        if (i >= len || !is_digit(in[i]))
            return expected(s, i, "a digit after '-'");
    }
    if (in[i] == '0') {
        i++;
        if (i < len && is_digit(in[i]))
            return fail(s, i, "leading zeros are not allowed in a number");
    } else {
        while (i < len && is_digit(in[i]))
            i++;
    }
    if (i < len && in[i] == '.') {
        flags |= IFX_JSON_F_FRAC;
        i++;
        if (i >= len || !is_digit(in[i]))
            return expected(s, i, "a digit after the decimal point");
        while (i < len && is_digit(in[i]))
            i++;
    }
    if (i < len && (in[i] | 0x20) == 'e') {
        flags |= IFX_JSON_F_FRAC;
        i++;
        if (i < len && (in[i] == '+' || in[i] == '-'))
            i++;
        if (i >= len || !is_digit(in[i]))
            return expected(s, i, "a digit in the exponent");
        while (i < len && is_digit(in[i]))
            i++;
    }
    *pi = i;
    s->flags = flags;
    return IFX_OK;
}

static ifx_rc scan_literal(struct scan *s, size_t *pi, const char *lit, size_t n)
{
    size_t i = *pi, k;

    if (s->len - i >= n && memcmp(s->in + i, lit, n) == 0) {
        *pi = i + n;
        return IFX_OK;
    }
    for (k = 0; i + k < s->len && s->in[i + k] == (unsigned char)lit[k]; k++)
        ;
    return fail(s, i + k, "invalid literal, expected '%s'", lit);
}

/* Validates the whole input, tracking the compact output (written when s->w is set). Nesting is
 * an explicit stack of one bit per level, 1 for an object, so depth costs no C stack. */
static ifx_rc scan_json(struct scan *s)
{
    const unsigned char *in = s->in;
    const size_t len = s->len;
    unsigned char objbits[IFX_JSON_MAX_DEPTH / 8];
    size_t depth = 0, i;
    bool in_obj = false;
    const char *key_what;
    ifx_rc rc;

    i = skip_ws(s, 0);
    if (i == len)
        return fail(s, i, "empty input, expected a value");
    s->start = i;
value:
    if (i >= len)
        return expected(s, i, "a value");
    switch (in[i]) {
    case '{':
    case '[':
        if (depth == IFX_JSON_MAX_DEPTH)
            return fail(s, i, "nesting deeper than %d levels", IFX_JSON_MAX_DEPTH);
        in_obj = in[i] == '{';
        if (in_obj)
            objbits[depth / 8] |= (unsigned char)(1u << depth % 8);
        else
            objbits[depth / 8] &= (unsigned char)~(1u << depth % 8);
        depth++;
        i = skip_ws(s, i + 1);
        if (i < len && in[i] == (in_obj ? '}' : ']')) {
            i++;
            goto close;
        }
        if (!in_obj)
            goto value;
        key_what = "a string key or '}'";
        goto key;
    case '"':
        rc = scan_string(s, &i);
        break;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        rc = scan_number(s, &i);
        break;
    case 't':
        rc = scan_literal(s, &i, "true", 4);
        break;
    case 'f':
        rc = scan_literal(s, &i, "false", 5);
        break;
    case 'n':
        rc = scan_literal(s, &i, "null", 4);
        break;
    default:
        return expected(s, i, "a value");
    }
    if (rc)
        return rc;
after:
    if (depth == 0)
        goto done;
    i = skip_ws(s, i);
    if (in_obj) {
        if (i < len && in[i] == ',') {
            i = skip_ws(s, i + 1);
            key_what = "a string key after ','";
            goto key;
        }
        if (i < len && in[i] == '}') {
            i++;
            goto close;
        }
        return expected(s, i, "',' or '}' after an object member");
    }
    if (i < len && in[i] == ',') {
        i = skip_ws(s, i + 1);
        goto value;
    }
    if (i < len && in[i] == ']') {
        i++;
        goto close;
    }
    return expected(s, i, "',' or ']' after an array element");
close:
    depth--;
    if (depth)
        in_obj = objbits[(depth - 1) / 8] >> (depth - 1) % 8 & 1;
    goto after;
key:
    if (i >= len || in[i] != '"')
        return expected(s, i, key_what);
    rc = scan_string(s, &i);
    if (rc)
        return rc;
    i = skip_ws(s, i);
    if (i >= len || in[i] != ':')
        return expected(s, i, "':' after an object key");
    i = skip_ws(s, i + 1);
    goto value;
done:
    s->end = i;
    i = skip_ws(s, i);
    if (i != len)
        return expected(s, i, "end of input after the JSON value");
    if (s->copied < s->end)
        emit(s, s->end);
    return IFX_OK;
}

/* ---- the line-protocol fast path ------------------------------------------------------------
 * The sink's hot loop: a valid payload, validated, compacted and escaped into a string field in
 * one pass, with the position and the output in registers and every token written as it is read
 * (a 16-byte store, the output moving on by the token's length). It knows no error message: on
 * anything it does not accept it hands over, and the caller runs scan_json from the start, which
 * gives every error and its byte offset. So it must accept exactly the valid inputs, and write
 * what scan_json writes for them (tests/unit/test_scan.c, fuzz/fuzz_json.c).
 *
 * Room: the output never grows faster than 2 bytes per input byte consumed, and each 16-byte
 * store starts at a token that begins inside the input, so 2 * len + 16 bytes after the start
 * cover every write. */

/* Whitespace at in[i] (i < len, in[i] <= ' '): one space, the usual case, without a loop. */
static inline size_t fast_ws(const unsigned char *in, size_t len, size_t i, bool portable)
{
    if (in[i] == ' ' && i + 1 < len && in[i + 1] > ' ')
        return i + 1;
    while (len - i >= 16) {
        unsigned k = portable ? ifxi_scan16_nonws_portable(in + i) : ifxi_scan16_nonws(in + i);
        i += k;
        if (k < 16)
            return i;
    }
    while (i < len && is_ws(in[i]))
        i++;
    return i;
}

/* The string at in[i] == '"', written as \"...\" with its '"' and '\\' escaped; returns the index
 * after the closing quote, or 0 to hand over. */
static inline __attribute__((always_inline)) size_t fast_string(const unsigned char *in, size_t len,
                                                                size_t i, char **pw,
                                                                size_t *escapes, bool portable)
{
    char *w = *pw;
    size_t esc = 2;

    w[0] = '\\';
    w[1] = '"';
    w += 2;
    i++;
    for (;;) {
        unsigned c, k;
        bool quote;

        if (len - i >= 16) {
            k = portable ? ifxi_scan16_json_q_portable(in + i, &quote)
                         : ifxi_scan16_json_q(in + i, &quote);
            memcpy(w, in + i, 16);
            w += k;
            i += k;
            if (quote)
                break;
            if (k == 16)
                continue;
        } else {
            k = json_tail(in + i, len - i);
            ifxi_copy(w, in + i, k);
            w += k;
            i += k;
            if (i >= len)
                return 0;
        }
        c = in[i];
        if (c == '"')
            break;
        if (c == '\\') {
            unsigned d;
            size_t bad;
            long hi, lo;

            if (len - i < 2)
                return 0;
            d = in[i + 1];
            if (d == '"' || d == '\\') {
                w[0] = '\\';
                w[1] = '\\';
                w[2] = '\\';
                w[3] = (char)d;
                w += 4;
                esc += 2;
                i += 2;
                continue;
            }
            if (d == '/' || d == 'b' || d == 'f' || d == 'n' || d == 'r' || d == 't') {
                w[0] = '\\';
                w[1] = '\\';
                w[2] = (char)d;
                w += 3;
                esc++;
                i += 2;
                continue;
            }
            if (d != 'u' || (hi = hex4(in + i + 2, len - (i + 2), &bad)) < 0 ||
                (hi >= 0xDC00 && hi <= 0xDFFF))
                return 0;
            if (hi >= 0xD800 && hi <= 0xDBFF) {
                /* a high surrogate: only the first half of a pair */
                if (len - i < 12 || in[i + 6] != '\\' || in[i + 7] != 'u' ||
                    (lo = hex4(in + i + 8, 4, &bad)) < 0 || lo < 0xDC00 || lo > 0xDFFF)
                    return 0;
                *w++ = '\\';
                memcpy(w, in + i, 6);
                w += 6;
                i += 6;
                esc++;
            }
            *w++ = '\\';
            memcpy(w, in + i, 6);
            w += 6;
            i += 6;
            esc++;
            continue;
        }
        if (c >= 0x80) {
            enum ifxi_utf8_problem why;
            size_t seen, n = ifxi_utf8_char(in + i, len - i, &why, &seen);
            if (!n)
                return 0;
            ifxi_copy(w, in + i, n);
            w += n;
            i += n;
            continue;
        }
        return 0; /* a control byte */
    }
    w[0] = '\\';
    w[1] = '"';
    *pw = w + 2;
    *escapes += esc;
    return i + 1;
}

/* The number at in[i] ('-' or a digit), copied; returns the index after it, or 0 to hand over. */
static inline size_t fast_number(const unsigned char *in, size_t len, size_t i, char **pw)
{
    size_t start = i, n;

    if (in[i] == '-' && (++i >= len || !is_digit(in[i])))
        return 0;
    if (in[i] == '0') {
        if (++i < len && is_digit(in[i]))
            return 0;
    } else {
        while (++i < len && is_digit(in[i]))
            ;
    }
    if (i < len && in[i] == '.') {
        if (++i >= len || !is_digit(in[i]))
            return 0;
        while (++i < len && is_digit(in[i]))
            ;
    }
    if (i < len && (in[i] | 0x20) == 'e') {
        if (++i < len && (in[i] == '+' || in[i] == '-'))
            i++;
        if (i >= len || !is_digit(in[i]))
            return 0;
        while (++i < len && is_digit(in[i]))
            ;
    }
    n = i - start;
    if (n <= 16 && len - start >= 16)
        memcpy(*pw, in + start, 16);
    else
        memcpy(*pw, in + start, n);
    *pw += n;
    return i;
}

/* true, false or null at in[i]: its length, or 0. */
static inline size_t fast_literal(const unsigned char *in, size_t len, size_t i)
{
    uint32_t word, want;

    if (in[i] == 'f') { /* "alse" after the 'f' */
        if (len - i < 5)
            return 0;
        memcpy(&word, in + i + 1, 4);
        memcpy(&want, "alse", 4);
        return word == want ? 5 : 0;
    }
    if (len - i < 4)
        return 0;
    memcpy(&word, in + i, 4);
    memcpy(&want, in[i] == 't' ? "true" : "null", 4);
    return word == want ? 4 : 0;
}

#define FAST_WS()                                                                                  \
    do {                                                                                           \
        if (i < len && in[i] <= ' ')                                                               \
            i = fast_ws(in, len, i, portable);                                                     \
    } while (0)

/* Writes the escaped compact form of in[0..len) at w; true with *wend after it and *escapes the
 * backslashes added, or false to hand over to scan_json. */
static inline __attribute__((always_inline)) bool lp_fast_with(const unsigned char *in, size_t len,
                                                               char *w, char **wend,
                                                               size_t *escapes, bool portable)
{
    unsigned char outer[IFX_JSON_MAX_DEPTH]; /* the closer of each enclosing container */
    unsigned char close = 0;                 /* the closer of the current one */
    size_t depth = 0, i = 0, esc = 0, n;
    unsigned c;

    FAST_WS();
value:
    if (i >= len)
        return false;
    c = in[i];
    if (c == '"') {
        if (!(i = fast_string(in, len, i, &w, &esc, portable)))
            return false;
        goto after;
    }
    if (c == '{' || c == '[') {
        if (depth == IFX_JSON_MAX_DEPTH)
            return false;
        outer[depth++] = close;
        close = (unsigned char)(c + 2); /* '}' and ']' */
        *w++ = (char)c;
        i++;
        FAST_WS();
        if (i < len && in[i] == close) {
            *w++ = (char)close;
            i++;
            goto closed;
        }
        if (c == '[')
            goto value;
        goto key;
    }
    if (is_digit(c) || c == '-') {
        if (!(i = fast_number(in, len, i, &w)))
            return false;
        goto after;
    }
    if ((c == 't' || c == 'f' || c == 'n') && (n = fast_literal(in, len, i))) {
        ifxi_copy(w, in + i, n);
        w += n;
        i += n;
        goto after;
    }
    return false;
closed:
    close = outer[--depth];
after:
    if (!depth)
        goto done;
    FAST_WS();
    if (i >= len)
        return false;
    c = in[i];
    if (c == ',') {
        *w++ = ',';
        i++;
        FAST_WS();
        if (close == '}')
            goto key;
        goto value;
    }
    if (c == close) {
        *w++ = (char)c;
        i++;
        goto closed;
    }
    return false;
key:
    if (i >= len || in[i] != '"' || !(i = fast_string(in, len, i, &w, &esc, portable)))
        return false;
    FAST_WS();
    if (i >= len || in[i] != ':')
        return false;
    *w++ = ':';
    i++;
    FAST_WS();
    goto value;
done:
    FAST_WS();
    if (i != len)
        return false;
    *wend = w;
    *escapes = esc;
    return true;
}

static bool lp_fast(const unsigned char *in, size_t len, char *w, char **wend, size_t *escapes)
{
    return lp_fast_with(in, len, w, wend, escapes, false);
}

static bool lp_fast_portable(const unsigned char *in, size_t len, char *w, char **wend,
                             size_t *escapes)
{
    return lp_fast_with(in, len, w, wend, escapes, true);
}

bool ifxi_json_lp_fast(const char *in, size_t len, char *w, char **wend, size_t *compact_len)
{
    size_t escapes;

    if (!len || !lp_fast((const unsigned char *)in, len, w, wend, &escapes))
        return false;
    *compact_len = (size_t)(*wend - w) - escapes;
    return true;
}

/* The type of the value that starts with a given byte (0, IFX_JSON_NONE, for none). */
static const unsigned char type_of[256] = {
    ['{'] = IFX_JSON_OBJECT, ['['] = IFX_JSON_ARRAY,  ['"'] = IFX_JSON_STRING,
    ['t'] = IFX_JSON_TRUE,   ['f'] = IFX_JSON_FALSE,  ['n'] = IFX_JSON_NULL,
    ['-'] = IFX_JSON_NUMBER, ['0'] = IFX_JSON_NUMBER, ['1'] = IFX_JSON_NUMBER,
    ['2'] = IFX_JSON_NUMBER, ['3'] = IFX_JSON_NUMBER, ['4'] = IFX_JSON_NUMBER,
    ['5'] = IFX_JSON_NUMBER, ['6'] = IFX_JSON_NUMBER, ['7'] = IFX_JSON_NUMBER,
    ['8'] = IFX_JSON_NUMBER, ['9'] = IFX_JSON_NUMBER,
};

ifx_rc ifxi_json_compact(const char *in, size_t len, ifx_buf *out, ifx_err *err)
{
    struct scan s;
    size_t base;
    ifx_rc rc;

    scan_init(&s, in, len, err);
    if (!out || len == 0)
        return scan_json(&s);
    base = out->len;
    /* The compact form is never longer than the input, so one reservation covers every write. */
    rc = ifx_buf_reserve(out, len);
    if (rc == IFX_E_FULL) {
        /* It may still fit once the whitespace is gone: measure it first. */
        rc = scan_json(&s);
        if (rc)
            return rc;
        rc = ifx_buf_reserve(out, s.outlen);
        scan_init(&s, in, len, err);
    }
    if (rc)
        return ifx_err_set(err, rc, "cannot hold the compact JSON: %s",
                           rc == IFX_E_FULL ? "the buffer is full" : "out of memory");
    s.w = out->data + base;
    s.wend = out->data + out->alloc;
    rc = scan_json(&s);
    if (rc) {
        /* Nothing past len counts, but the writes covered the terminating NUL. */
        out->data[base] = '\0';
        return rc;
    }
    out->len = base + s.outlen;
    out->data[out->len] = '\0';
    return IFX_OK;
}

/* ifxi_json_compact_lp and its portable twin (see codec.h). */
static ifx_rc compact_lp(const char *in, size_t len, ifx_buf *out, size_t *compact_len,
                         bool portable, ifx_err *err)
{
    struct scan s;
    size_t base = out->len;
    ifx_rc rc;

    scan_init(&s, in, len, err);
    s.lp = true;
    s.portable = portable;
    /* Escaping at most doubles the compact form, which is never longer than the input; 16 bytes
     * more let the scanner copy short spans in one fixed-size move. */
    rc = len <= (SIZE_MAX - 32) / 2 ? ifx_buf_reserve(out, 2 * len + 2 + 16) : IFX_E_FULL;
    if (rc == IFX_E_FULL) {
        /* It may still fit: measure it first. */
        rc = scan_json(&s);
        if (rc)
            return rc;
        rc = ifx_buf_reserve(out, s.outlen + 2);
        scan_init(&s, in, len, err);
        s.lp = true;
        s.portable = portable;
    }
    if (rc)
        return ifx_err_set(err, rc, "cannot hold the escaped JSON: %s",
                           rc == IFX_E_FULL ? "the buffer is full" : "out of memory");
    s.w = out->data + base;
    s.wend = out->data + out->alloc;
    *s.w++ = '"';
    if (len && (size_t)(s.wend - s.w) / 2 > len + 8) {
        char *end;
        size_t escapes;
        if (portable ? lp_fast_portable(s.in, len, s.w, &end, &escapes)
                     : lp_fast(s.in, len, s.w, &end, &escapes)) {
            if (compact_len)
                *compact_len = (size_t)(end - s.w) - escapes;
            *end++ = '"';
            *end = '\0';
            out->len = (size_t)(end - out->data);
            return IFX_OK;
        }
    }
    rc = scan_json(&s);
    if (rc) {
        out->data[base] = '\0';
        return rc;
    }
    *s.w++ = '"';
    out->len = (size_t)(s.w - out->data);
    out->data[out->len] = '\0';
    if (compact_len)
        *compact_len = s.outlen - s.escapes;
    return IFX_OK;
}

ifx_rc ifxi_json_compact_lp(const char *in, size_t len, ifx_buf *out, size_t *compact_len,
                            ifx_err *err)
{
    return compact_lp(in, len, out, compact_len, false, err);
}

ifx_rc ifxi_json_compact_lp_portable(const char *in, size_t len, ifx_buf *out, size_t *compact_len,
                                     ifx_err *err)
{
    return compact_lp(in, len, out, compact_len, true, err);
}

ifx_rc ifxi_json_compact_lp_fast_only(const char *in, size_t len, ifx_buf *out, size_t *compact_len,
                                      bool portable)
{
    const unsigned char *p = (const unsigned char *)in;
    char *w, *end;
    size_t escapes;
    ifx_rc rc = len <= (SIZE_MAX - 32) / 2 ? ifx_buf_reserve(out, 2 * len + 18) : IFX_E_FULL;

    if (rc)
        return rc;
    w = out->data + out->len;
    *w++ = '"';
    if (!len || !(portable ? lp_fast_portable(p, len, w, &end, &escapes)
                           : lp_fast(p, len, w, &end, &escapes))) {
        out->data[out->len] = '\0';
        return IFX_E_INVALID;
    }
    if (compact_len)
        *compact_len = (size_t)(end - w) - escapes;
    *end++ = '"';
    *end = '\0';
    out->len = (size_t)(end - out->data);
    return IFX_OK;
}

ifx_rc ifxi_json_parse(const char *in, size_t len, ifx_json_val *out, ifx_err *err)
{
    struct scan s;
    ifx_rc rc;

    scan_init(&s, in, len, err);
    rc = scan_json(&s);
    if (rc) {
        out->type = IFX_JSON_NONE;
        out->flags = 0;
        out->p = NULL;
        out->len = 0;
        return rc;
    }
    out->type = (ifx_json_type)type_of[s.in[s.start]];
    out->flags = out->type == IFX_JSON_STRING || out->type == IFX_JSON_NUMBER ? s.flags : 0;
    out->p = in + s.start;
    out->len = s.end - s.start;
    return IFX_OK;
}

/* ---- navigation over validated text ----------------------------------------------------------
 * These trust that the text is JSON (a parse succeeded), so they skip values by counting brackets
 * outside strings; on anything else they stop early, but they never read at or past end. */

static const char *skip_ws_p(const char *p, const char *end)
{
    while (p < end && is_ws((unsigned char)*p))
        p++;
    return p;
}

/* p is at the opening quote; returns the byte after the closing one. */
static const char *skip_string(const char *p, const char *end, unsigned *flags)
{
    uint64_t seen = 0;

    for (p++; p < end; p++) {
        p += plain_len((const unsigned char *)p, (size_t)(end - p), &seen);
        if (p >= end)
            break;
        if (*p == '"')
            return p + 1;
        if (*p == '\\') {
            *flags |= IFX_JSON_F_ESCAPED;
            if (end - p < 2)
                break;
            p++;
        }
    }
    return end;
}

static const char *skip_container(const char *p, const char *end)
{
    size_t depth = 0;
    unsigned flags = 0;

    while (p < end) {
        switch (*p) {
        case '"':
            p = skip_string(p, end, &flags);
            continue;
        case '{':
        case '[':
            depth++;
            break;
        case '}':
        case ']':
            if (--depth == 0)
                return p + 1;
            break;
        }
        p++;
    }
    return end;
}

/* Bytes that may appear in a number: 1, or 1 | IFX_JSON_F_FRAC for those of a fraction or an
 * exponent. */
/* clang-format off */
static const unsigned char num_char[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['-'] = 1, ['+'] = 1,
    ['.'] = 1 | IFX_JSON_F_FRAC, ['e'] = 1 | IFX_JSON_F_FRAC, ['E'] = 1 | IFX_JSON_F_FRAC,
};
/* clang-format on */

/* Describes the value at p in *v and returns the byte after it, or NULL when there is none. */
static const char *skip_value(const char *p, const char *end, ifx_json_val *v)
{
    const char *q = p;

    v->type = IFX_JSON_NONE;
    v->flags = 0;
    v->p = p;
    v->len = 0;
    if (p >= end)
        return NULL;
    v->type = (ifx_json_type)type_of[(unsigned char)*p];
    switch (v->type) {
    case IFX_JSON_NONE:
        return NULL;
    case IFX_JSON_OBJECT:
    case IFX_JSON_ARRAY:
        q = skip_container(p, end);
        break;
    case IFX_JSON_STRING:
        q = skip_string(p, end, &v->flags);
        break;
    case IFX_JSON_NUMBER: {
        unsigned seen = 0, k;
        while (q < end && (k = num_char[(unsigned char)*q]) != 0) {
            seen |= k;
            q++;
        }
        v->flags = (*p == '-' ? IFX_JSON_F_NEG : 0) | (seen & IFX_JSON_F_FRAC);
        break;
    }
    case IFX_JSON_TRUE:
    case IFX_JSON_NULL:
        q = end - p < 4 ? end : p + 4;
        break;
    case IFX_JSON_FALSE:
        q = end - p < 5 ? end : p + 5;
        break;
    }
    v->len = (size_t)(q - p);
    return q;
}

void ifxi_json_iter_init(ifx_json_iter *it, const ifx_json_val *container)
{
    const ifx_json_val *c = container;

    it->p = NULL;
    it->end = NULL;
    if (!c || !c->p || c->len < 2)
        return;
    if ((c->type == IFX_JSON_OBJECT && c->p[0] == '{') ||
        (c->type == IFX_JSON_ARRAY && c->p[0] == '[')) {
        it->p = c->p + 1;
        it->end = c->p + c->len - 1; /* the closing bracket */
    }
}

/* Moves past whitespace and the comma before the next member or element. */
static const char *iter_start(const ifx_json_iter *it)
{
    const char *p = skip_ws_p(it->p, it->end);

    if (p < it->end && *p == ',')
        p = skip_ws_p(p + 1, it->end);
    return p;
}

bool ifxi_json_object_next(ifx_json_iter *it, ifx_json_val *key, ifx_json_val *value)
{
    const char *p, *end = it->end;

    if (!it->p)
        return false;
    p = iter_start(it);
    if (p >= end || *p != '"')
        goto out;
    p = skip_value(p, end, key);
    p = skip_ws_p(p, end);
    if (p >= end || *p != ':')
        goto out;
    p = skip_value(skip_ws_p(p + 1, end), end, value);
    if (!p)
        goto out;
    it->p = p;
    return true;
out:
    it->p = end;
    return false;
}

bool ifxi_json_array_next(ifx_json_iter *it, ifx_json_val *value)
{
    const char *p;

    if (!it->p)
        return false;
    p = skip_value(iter_start(it), it->end, value);
    if (!p) {
        it->p = it->end;
        return false;
    }
    it->p = p;
    return true;
}

bool ifxi_json_object_get(const ifx_json_val *obj, const char *key, ifx_json_val *value)
{
    ifx_json_iter it;
    ifx_json_val k, v;

    ifxi_json_iter_init(&it, obj);
    while (ifxi_json_object_next(&it, &k, &v)) {
        if (ifxi_json_string_eq(&k, key)) {
            *value = v;
            return true;
        }
    }
    return false;
}

/* ---- strings ----------------------------------------------------------------------------------
 */

/* The value's text for a message: at most about 40 bytes, cut on a character boundary, control
 * characters (from a pretty-printed container) shown as spaces so the message stays one line. */
static const char *excerpt(const ifx_json_val *v, char *buf, size_t size)
{
    size_t n, k;

    if (!v || !v->p)
        return "(nothing)";
    n = v->len;
    if (n > 40) {
        n = 37;
        while (n > 0 && ((unsigned char)v->p[n] & 0xC0) == 0x80)
            n--;
    }
    if (n + 4 > size)
        n = size - 4;
    for (k = 0; k < n; k++)
        buf[k] = (unsigned char)v->p[k] < 0x20 ? ' ' : v->p[k];
    if (n < v->len) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

static bool is_string(const ifx_json_val *s)
{
    return s && s->type == IFX_JSON_STRING && s->p && s->len >= 2 && s->p[0] == '"' &&
           s->p[s->len - 1] == '"';
}

static size_t put_utf8(unsigned long cp, unsigned char *u8)
{
    if (cp < 0x80) {
        u8[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        u8[0] = (unsigned char)(0xC0 | cp >> 6);
        u8[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        u8[0] = (unsigned char)(0xE0 | cp >> 12);
        u8[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        u8[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    u8[0] = (unsigned char)(0xF0 | cp >> 18);
    u8[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    u8[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    u8[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes the escape at *pp (a backslash before end) into UTF-8 in u8 and moves *pp past it.
 * Returns the bytes written, or 0 with *why set and *pp unmoved. */
static size_t unescape(const char **pp, const char *end, unsigned char *u8, const char **why)
{
    const unsigned char *p = (const unsigned char *)*pp;
    size_t avail = (size_t)(end - *pp), bad = 0;
    long cp, lo;

    if (avail < 2) {
        *why = "'\\' at the end of the string";
        return 0;
    }
    switch (p[1]) {
    case '"':
    case '\\':
    case '/':
        u8[0] = p[1];
        break;
    case 'b':
        u8[0] = '\b';
        break;
    case 'f':
        u8[0] = '\f';
        break;
    case 'n':
        u8[0] = '\n';
        break;
    case 'r':
        u8[0] = '\r';
        break;
    case 't':
        u8[0] = '\t';
        break;
    case 'u':
        cp = hex4(p + 2, avail - 2, &bad);
        if (cp < 0) {
            *why = "expected 4 hex digits after '\\u'";
            return 0;
        }
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            *why = "lone low surrogate";
            return 0;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            lo = avail >= 12 && p[6] == '\\' && p[7] == 'u' ? hex4(p + 8, 4, &bad) : -1;
            if (lo < 0xDC00 || lo > 0xDFFF) {
                *why = "high surrogate not followed by a low surrogate";
                return 0;
            }
            *pp += 12;
            return put_utf8(
                0x10000 + ((unsigned long)(cp - 0xD800) << 10) + (unsigned long)(lo - 0xDC00), u8);
        }
        *pp += 6;
        return put_utf8((unsigned long)cp, u8);
    default:
        *why = "invalid escape";
        return 0;
    }
    *pp += 2;
    return 1;
}

bool ifxi_json_string_eq(const ifx_json_val *s, const char *lit)
{
    const char *p, *end, *why;
    unsigned char u8[4];
    size_t n, k;

    if (!is_string(s))
        return false;
    p = s->p + 1;
    end = s->p + s->len - 1;
    n = (size_t)(end - p);
    /* Without escapes the raw bytes are the text; strnlen keeps memcmp inside lit. */
    if (!(s->flags & IFX_JSON_F_ESCAPED))
        return strnlen(lit, n + 1) == n && memcmp(lit, p, n) == 0;
    while (p < end) {
        if (*p != '\\') {
            if (*lit == '\0' || *lit != *p)
                return false;
            lit++;
            p++;
            continue;
        }
        n = unescape(&p, end, u8, &why);
        if (!n)
            return false;
        for (k = 0; k < n; k++, lit++) {
            if (*lit == '\0' || (unsigned char)*lit != u8[k])
                return false;
        }
    }
    return *lit == '\0';
}

ifx_rc ifxi_json_string_decode(const ifx_json_val *s, ifx_buf *out, ifx_err *err)
{
    const char *p, *end, *why;
    size_t base = out->len;
    unsigned char *w;
    ifx_rc rc;

    if (!is_string(s)) {
        char lit[48];
        return ifx_err_set(err, IFX_E_INVALID, "expected a string, found %s",
                           excerpt(s, lit, sizeof lit));
    }
    p = s->p + 1;
    end = s->p + s->len - 1;
    if (p == end)
        return IFX_OK;
    /* Every escape decodes to fewer bytes than it takes, so the raw length is enough. */
    rc = ifx_buf_reserve(out, (size_t)(end - p));
    if (rc)
        return ifx_err_set(err, rc, "cannot hold a decoded JSON string: %s",
                           rc == IFX_E_FULL ? "the buffer is full" : "out of memory");
    w = (unsigned char *)out->data + base;
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        size_t n = (size_t)((bs ? bs : end) - p);

        memcpy(w, p, n);
        w += n;
        p += n;
        if (!bs)
            break;
        n = unescape(&p, end, w, &why);
        if (!n) {
            out->data[base] = '\0';
            return ifx_err_set_at(err, IFX_E_INVALID, (size_t)(p - s->p),
                                  "invalid JSON string at byte %zu: %s", (size_t)(p - s->p), why);
        }
        w += n;
    }
    out->len = (size_t)(w - (unsigned char *)out->data);
    out->data[out->len] = '\0';
    return IFX_OK;
}

/* ---- numbers ------------------------------------------------------------------------------------
 */

enum int_status { INT_OK, INT_NOT_NUMBER, INT_NOT_INTEGER, INT_TOO_BIG };

/* Reads an integer literal exactly, digit by digit: its sign and magnitude. */
static enum int_status read_int(const ifx_json_val *v, bool *neg, uint64_t *mag)
{
    const char *p, *end;
    uint64_t m = 0;
    bool big = false;

    if (!v || v->type != IFX_JSON_NUMBER || !v->p || v->len == 0)
        return INT_NOT_NUMBER;
    if (v->flags & IFX_JSON_F_FRAC)
        return INT_NOT_INTEGER;
    p = v->p;
    end = p + v->len;
    *neg = *p == '-';
    if (*neg)
        p++;
    if (p == end)
        return INT_NOT_NUMBER;
    for (; p < end; p++) {
        unsigned d = (unsigned char)*p - (unsigned)'0';
        if (d > 9)
            return *p == '.' || *p == 'e' || *p == 'E' ? INT_NOT_INTEGER : INT_NOT_NUMBER;
        /* Keep reading after an overflow: a later '.' makes it "not an integer" instead. */
        if (m > (UINT64_MAX - d) / 10)
            big = true;
        else
            m = m * 10 + d;
    }
    *mag = m;
    return big ? INT_TOO_BIG : INT_OK;
}

static ifx_rc int_refused(const ifx_json_val *v, enum int_status st, const char *range,
                          ifx_err *err)
{
    char lit[48];

    excerpt(v, lit, sizeof lit);
    switch (st) {
    case INT_NOT_NUMBER:
        return ifx_err_set(err, IFX_E_INVALID, "expected an integer, found %s", lit);
    case INT_NOT_INTEGER:
        return ifx_err_set(err, IFX_E_INVALID, "number %s is not an integer", lit);
    case INT_TOO_BIG:
    case INT_OK:
        break;
    }
    return ifx_err_set(err, IFX_E_INVALID, "number %s is out of the %s range", lit, range);
}

ifx_rc ifxi_json_get_i64(const ifx_json_val *v, int64_t *out, ifx_err *err)
{
    enum int_status st;
    uint64_t mag = 0;
    bool neg = false;

    st = read_int(v, &neg, &mag);
    if (st == INT_OK && mag > (uint64_t)INT64_MAX + neg)
        st = INT_TOO_BIG;
    if (st != INT_OK)
        return int_refused(v, st, "signed 64-bit", err);
    if (!neg)
        *out = (int64_t)mag;
    else if (mag == (uint64_t)INT64_MAX + 1)
        *out = INT64_MIN;
    else
        *out = -(int64_t)mag;
    return IFX_OK;
}

ifx_rc ifxi_json_get_u64(const ifx_json_val *v, uint64_t *out, ifx_err *err)
{
    enum int_status st;
    uint64_t mag = 0;
    bool neg = false;

    st = read_int(v, &neg, &mag);
    if (st != INT_OK)
        return int_refused(v, st, "unsigned 64-bit", err);
    /* "-0" is zero, and zero is in range. */
    if (neg && mag != 0) {
        char lit[48];
        return ifx_err_set(err, IFX_E_INVALID,
                           "number %s is negative, outside the unsigned 64-bit range",
                           excerpt(v, lit, sizeof lit));
    }
    *out = mag;
    return IFX_OK;
}

ifx_rc ifxi_json_get_double(const ifx_json_val *v, double *out, ifx_err *err)
{
    char small[64], lit[48], *buf = small, *stop = NULL;
    const char *dp;
    size_t dplen, need, i, n = 0;
    ifx_rc rc = IFX_OK;
    double d;

    if (!v || v->type != IFX_JSON_NUMBER || !v->p || v->len == 0)
        return ifx_err_set(err, IFX_E_INVALID, "expected a number, found %s",
                           excerpt(v, lit, sizeof lit));
    /* strtod reads the locale's decimal point, so put that in place of JSON's '.'. */
    dp = localeconv()->decimal_point;
    if (!dp || !*dp)
        dp = ".";
    dplen = strlen(dp);
    need = v->len + dplen + 1;
    if (need > sizeof small) {
        buf = malloc(need);
        if (!buf)
            return ifx_err_set(err, IFX_E_NOMEM, "out of memory converting a number");
    }
    for (i = 0; i < v->len; i++) {
        char c = v->p[i];
        /* Only JSON number characters, so strtod cannot take "inf", "nan" or hex. */
        if (c == '.') {
            memcpy(buf + n, dp, dplen);
            n += dplen;
        } else if (is_digit((unsigned char)c) || c == '-' || c == '+' || c == 'e' || c == 'E') {
            buf[n++] = c;
        } else {
            break;
        }
    }
    buf[n] = '\0';
    d = i == v->len ? strtod(buf, &stop) : 0;
    if (i != v->len || stop != buf + n)
        rc = ifx_err_set(err, IFX_E_INVALID, "%s is not a number", excerpt(v, lit, sizeof lit));
    else if (isinf(d))
        rc = ifx_err_set(err, IFX_E_INVALID, "number %s is out of the double range",
                         excerpt(v, lit, sizeof lit));
    else
        *out = d;
    if (buf != small)
        free(buf);
    return rc;
}

const char *ifxi_json_type_name(ifx_json_type t)
{
    switch (t) {
    case IFX_JSON_NONE:
        break;
    case IFX_JSON_OBJECT:
        return "object";
    case IFX_JSON_ARRAY:
        return "array";
    case IFX_JSON_STRING:
        return "string";
    case IFX_JSON_NUMBER:
        return "number";
    case IFX_JSON_TRUE:
        return "true";
    case IFX_JSON_FALSE:
        return "false";
    case IFX_JSON_NULL:
        return "null";
    }
    return "none";
}
