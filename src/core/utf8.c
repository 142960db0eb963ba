/* ifx — strict UTF-8 validation (see src/core/codec.h). */
#include "core/codec.h"
#include "core/scan16.h"
#include "core/utf8_internal.h"

#include <stdio.h>
#include <string.h>

#define HIGH_BITS 0x8080808080808080ull

/* Returns len when s is well-formed, else the offset of the first ill-formed sequence. */
static size_t utf8_scan(const unsigned char *s, size_t len, enum ifxi_utf8_problem *why)
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
        size_t seen, n = ifxi_utf8_char(s + i, len - i, why, &seen);
        if (!n)
            return i;
        i += n;
    }
    *why = IFXI_UTF8_OK;
    return len;
}

static const char *problem_text(enum ifxi_utf8_problem why)
{
    switch (why) {
    case IFXI_UTF8_OK:
        break;
    case IFXI_UTF8_STRAY:
        return "unexpected continuation byte";
    case IFXI_UTF8_OVERLONG:
        return "overlong encoding";
    case IFXI_UTF8_SURROGATE:
        return "UTF-16 surrogate U+D800..U+DFFF";
    case IFXI_UTF8_TOO_BIG:
        return "code point above U+10FFFF";
    case IFXI_UTF8_NEVER:
        return "byte never used in UTF-8";
    case IFXI_UTF8_MISSING:
        return "missing continuation byte";
    case IFXI_UTF8_TRUNCATED:
        return "truncated sequence at end of input";
    }
    return "valid";
}

bool ifxi_utf8_valid(const void *p, size_t len, size_t *bad_offset)
{
    enum ifxi_utf8_problem why;
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
    enum ifxi_utf8_problem why = IFXI_UTF8_OK;
    size_t seen = 0, n, k;

    if (len && s[0] >= 0x80)
        ifxi_utf8_char(s, len, &why, &seen);
    n = (size_t)snprintf(buf, size, "%s", problem_text(why));
    /* The bytes themselves, since a reader cannot see them in most terminals. */
    for (k = 0; k < seen && n < size; k++)
        n += (size_t)snprintf(buf + n, size - n, "%s0x%02X", k ? " " : ": ", s[k]);
    return n < size ? n : size - 1;
}

ifx_rc ifxi_utf8_check(const void *p, size_t len, ifx_err *err)
{
    const unsigned char *s = p;
    enum ifxi_utf8_problem why;
    size_t off = len ? utf8_scan(s, len, &why) : 0;
    char what[80];

    if (off == len)
        return IFX_OK;
    ifxi_utf8_describe(s + off, len - off, what, sizeof what);
    return ifx_err_set_at(err, IFX_E_INVALID, off, "invalid UTF-8 at byte %zu (%s)", off, what);
}

static inline unsigned text_tail(const unsigned char *p, size_t n)
{
    IFXI_SCAN_TAIL(ifxi_scan_text_word, p, n);
}

/* One pass: each block of 16 plain bytes is stored whole and the output moves on by the plain
 * bytes it holds, so the bytes that need nothing are never handled one at a time. */
static inline __attribute__((always_inline)) ifx_rc
lp_string(const char *text, size_t len, ifx_buf *out, bool portable, ifx_err *err)
{
    const unsigned char *in = (const unsigned char *)text;
    size_t i = 0, escapes = 0, base = out->len;
    char *w, *wend;
    ifx_rc rc;

    rc = len <= (SIZE_MAX - 32) / 2 ? ifx_buf_reserve(out, 2 * len + 2 + 16) : IFX_E_FULL;
    if (rc == IFX_E_FULL) {
        for (size_t k = 0; k < len; k++)
            escapes += in[k] == '"' || in[k] == '\\';
        rc = ifx_buf_reserve(out, len + escapes + 2);
    }
    if (rc) {
        /* An invalid text is reported as such, whether or not it would have fit. */
        if (ifxi_utf8_check(text, len, err))
            return IFX_E_INVALID;
        return ifx_err_set(err, rc, "cannot hold the escaped text: %s",
                           rc == IFX_E_FULL ? "the buffer is full" : "out of memory");
    }
    w = out->data + base;
    wend = out->data + out->alloc;
    *w++ = '"';
    while (i < len) {
        unsigned c, k;

        if (len - i >= 16 && wend - w >= 16) {
            k = portable ? ifxi_scan16_text_portable(in + i) : ifxi_scan16_text(in + i);
            memcpy(w, in + i, 16);
        } else {
            k = text_tail(in + i, len - i < 16 ? len - i : 16);
            ifxi_copy(w, in + i, k);
        }
        w += k;
        i += k;
        if (k == 16 || i >= len)
            continue;
        c = in[i];
        if (c == '"' || c == '\\') {
            *w++ = '\\';
            *w++ = (char)c;
            i++;
            continue;
        }
        enum ifxi_utf8_problem why;
        size_t seen, n = ifxi_utf8_char(in + i, len - i, &why, &seen);
        if (!n) {
            char what[80];
            out->data[base] = '\0';
            ifxi_utf8_describe(in + i, len - i, what, sizeof what);
            return ifx_err_set_at(err, IFX_E_INVALID, i, "invalid UTF-8 at byte %zu (%s)", i, what);
        }
        ifxi_copy(w, in + i, n);
        w += n;
        i += n;
    }
    *w++ = '"';
    out->len = (size_t)(w - out->data);
    out->data[out->len] = '\0';
    return IFX_OK;
}

ifx_rc ifxi_utf8_lp_string(const char *text, size_t len, ifx_buf *out, ifx_err *err)
{
    return lp_string(text, len, out, false, err);
}

ifx_rc ifxi_utf8_lp_string_portable(const char *text, size_t len, ifx_buf *out, ifx_err *err)
{
    return lp_string(text, len, out, true, err);
}
