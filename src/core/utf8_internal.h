/* ifx — UTF-8 helpers shared by the codecs; not part of the public API. */
#ifndef IFX_UTF8_INTERNAL_H
#define IFX_UTF8_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "ifx/buf.h"
#include "ifx/error.h"

/* Writes why the sequence at p[0] is ill-formed and its bytes ("overlong encoding: 0xE0 0x80")
 * into buf, for messages. p is where ifxi_utf8_valid said the problem is, with len > 0 bytes left.
 * Returns the length written (the text is cut to fit size, which must be > 0). */
size_t ifxi_utf8_describe(const void *p, size_t len, char *buf, size_t size);

/* Validates text[0..len) as UTF-8 (as ifxi_utf8_check, same error) and appends it as a quoted
 * line-protocol string field value: '"', the text with '"' and '\\' escaped, '"'. One pass over
 * the text. On failure out is unchanged (its bytes past len may have been written).
 * ifxi_utf8_lp_string_portable does the same with the portable scanner (core/scan16.h), for
 * tests that compare the two. */
ifx_rc ifxi_utf8_lp_string(const char *text, size_t len, ifx_buf *out, ifx_err *err);
ifx_rc ifxi_utf8_lp_string_portable(const char *text, size_t len, ifx_buf *out, ifx_err *err);

enum ifxi_utf8_problem {
    IFXI_UTF8_OK = 0,
    IFXI_UTF8_STRAY,     /* continuation byte where a character should start */
    IFXI_UTF8_OVERLONG,  /* C0, C1, E0 80..9F, F0 80..8F */
    IFXI_UTF8_SURROGATE, /* ED A0..BF */
    IFXI_UTF8_TOO_BIG,   /* F4 90..BF, F5..F7 */
    IFXI_UTF8_NEVER,     /* F8..FF start nothing in any UTF-8 */
    IFXI_UTF8_MISSING,   /* a lead byte followed by a non-continuation byte */
    IFXI_UTF8_TRUNCATED  /* the input ends inside a character */
};

/* Checks the multi-byte character starting at s[0] (s[0] >= 0x80, len >= 1). Returns its length,
 * or 0 with *why set and *seen the bytes looked at (the last one is the culprit). Every ill-formed
 * sequence is blamed on its first byte, so that everything before the reported offset is
 * well-formed. */
static inline size_t ifxi_utf8_char(const unsigned char *s, size_t len, enum ifxi_utf8_problem *why,
                                    size_t *seen)
{
    unsigned c = s[0], lo = 0x80, hi = 0xBF;
    size_t n, k;

    *seen = 1;

    if (c < 0xC0) {
        *why = IFXI_UTF8_STRAY;
        return 0;
    }
    if (c < 0xC2) {
        *why = IFXI_UTF8_OVERLONG;
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
        *why = c < 0xF8 ? IFXI_UTF8_TOO_BIG : IFXI_UTF8_NEVER;
        return 0;
    }
    /* Only the second byte has a lead-dependent range; the rest are plain continuations. */
    for (k = 1; k < n; k++) {
        if (k >= len) {
            *why = IFXI_UTF8_TRUNCATED;
            return 0;
        }
        unsigned b = s[k];
        *seen = k + 1;
        if ((b & 0xC0) != 0x80) {
            *why = IFXI_UTF8_MISSING;
            return 0;
        }
        if (k == 1 && (b < lo || b > hi)) {
            if (b < lo)
                *why = IFXI_UTF8_OVERLONG;
            else
                *why = c == 0xED ? IFXI_UTF8_SURROGATE : IFXI_UTF8_TOO_BIG;
            return 0;
        }
    }
    return n;
}

#endif
