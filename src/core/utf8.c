/* ifx — strict UTF-8 validation (see src/core/codec.h). */
#include "core/codec.h"
#include "core/utf8_internal.h"

#include <stdio.h>
#include <string.h>

#define HIGH_BITS 0x8080808080808080ull

enum utf8_problem {
    UTF8_OK = 0,
    UTF8_STRAY,     /* continuation byte where a character should start */
    UTF8_OVERLONG,  /* C0, C1, E0 80..9F, F0 80..8F */
    UTF8_SURROGATE, /* ED A0..BF */
    UTF8_TOO_BIG,   /* F4 90..BF, F5..F7 */
    UTF8_NEVER,     /* F8..FF start nothing in any UTF-8 */
    UTF8_MISSING,   /* a lead byte followed by a non-continuation byte */
    UTF8_TRUNCATED  /* the input ends inside a character */
};

/* Checks the multi-byte character starting at s[0] (s[0] >= 0x80, len >= 1). Returns its length,
 * or 0 with *why set and *seen the bytes looked at (the last one is the culprit). Every ill-formed
 * sequence is blamed on its first byte, so that everything before the reported offset is
 * well-formed. */
static size_t utf8_char(const unsigned char *s, size_t len, enum utf8_problem *why, size_t *seen)
{
    unsigned c = s[0], lo = 0x80, hi = 0xBF;
    size_t n, k;

    *seen = 1;

    if (c < 0xC0) {
        *why = UTF8_STRAY;
        return 0;
    }
    if (c < 0xC2) {
        *why = UTF8_OVERLONG;
        return 0;
    }
    if (c < 0xE0) {
        n = 2;
    } else if (c < 0xF0) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c < 0xF5) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        *why = c < 0xF8 ? UTF8_TOO_BIG : UTF8_NEVER;
        return 0;
    }
    /* Only the second byte has a lead-dependent range; the rest are plain continuations. */
    for (k = 1; k < n; k++) {
        if (k >= len) {
            *why = UTF8_TRUNCATED;
            return 0;
        }
        unsigned b = s[k];
        *seen = k + 1;
        if ((b & 0xC0) != 0x80) {
            *why = UTF8_MISSING;
            return 0;
        }
        if (k == 1 && (b < lo || b > hi)) {
            if (b < lo)
                *why = UTF8_OVERLONG;
            else
                *why = c == 0xED ? UTF8_SURROGATE : UTF8_TOO_BIG;
            return 0;
        }
    }
    return n;
}

/* Returns len when s is well-formed, else the offset of the first ill-formed sequence. */
static size_t utf8_scan(const unsigned char *s, size_t len, enum utf8_problem *why)
{
    size_t i = 0;

    while (i < len) {
        /* Text is mostly ASCII: skip it a word at a time. */
        while (len - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & HIGH_BITS)
                break;
            i += 8;
        }
        while (i < len && s[i] < 0x80)
            i++;
        if (i == len)
            break;
        size_t seen, n = utf8_char(s + i, len - i, why, &seen);
        if (!n)
            return i;
        i += n;
    }
    *why = UTF8_OK;
    return len;
}

static const char *problem_text(enum utf8_problem why)
{
    switch (why) {
    case UTF8_OK:
        break;
    case UTF8_STRAY:
        return "unexpected continuation byte";
    case UTF8_OVERLONG:
        return "overlong encoding";
    case UTF8_SURROGATE:
        return "UTF-16 surrogate U+D800..U+DFFF";
    case UTF8_TOO_BIG:
        return "code point above U+10FFFF";
    case UTF8_NEVER:
        return "byte never used in UTF-8";
    case UTF8_MISSING:
        return "missing continuation byte";
    case UTF8_TRUNCATED:
        return "truncated sequence at end of input";
    }
    return "valid";
}

bool ifxi_utf8_valid(const void *p, size_t len, size_t *bad_offset)
{
    enum utf8_problem why;
    size_t off = len ? utf8_scan(p, len, &why) : 0;

    if (off == len)
        return true;
    if (bad_offset)
        *bad_offset = off;
    return false;
}

size_t ifxi_utf8_describe(const void *p, size_t len, char *buf, size_t size)
{
    const unsigned char *s = p;
    enum utf8_problem why = UTF8_OK;
    size_t seen = 0, n, k;

    if (len && s[0] >= 0x80)
        utf8_char(s, len, &why, &seen);
    n = (size_t)snprintf(buf, size, "%s", problem_text(why));
    /* The bytes themselves, since a reader cannot see them in most terminals. */
    for (k = 0; k < seen && n < size; k++)
        n += (size_t)snprintf(buf + n, size - n, "%s0x%02X", k ? " " : ": ", s[k]);
    return n < size ? n : size - 1;
}

ifx_rc ifxi_utf8_check(const void *p, size_t len, ifx_err *err)
{
    const unsigned char *s = p;
    enum utf8_problem why;
    size_t off = len ? utf8_scan(s, len, &why) : 0;
    char what[80];

    if (off == len)
        return IFX_OK;
    ifxi_utf8_describe(s + off, len - off, what, sizeof what);
    return ifx_err_set_at(err, IFX_E_INVALID, off, "invalid UTF-8 at byte %zu (%s)", off, what);
}
