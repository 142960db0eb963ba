/* ifx — base64, RFC 4648 section 4, with padding and a strict decoder (see src/core/codec.h). */
#include "core/codec.h"

#include <stdint.h>

static const char alphabet[64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Decoding table: 0..63 for the alphabet, PAD for '=', BAD for everything else. Both markers have
 * a high bit set, so one OR over a group of four tells whether the group needs a closer look. */
#define PAD 0x40
#define BAD 0x80
#define B16 BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD
/* clang-format off */
static const unsigned char dtab[256] = {
    B16, B16,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,  62, BAD, BAD, BAD,  63, /* ' '..'/' */
     52,  53,  54,  55,  56,  57,  58,  59,  60,  61, BAD, BAD, BAD, PAD, BAD, BAD, /* '0'..'?' */
    BAD,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14, /* '@'..'O' */
     15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, BAD, BAD, BAD, BAD, BAD, /* 'P'..'_' */
    BAD,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40, /* '`'..'o' */
     41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, BAD, BAD, BAD, BAD, BAD, /* 'p'..0x7F */
    B16, B16, B16, B16, B16, B16, B16, B16};
/* clang-format on */

size_t ifxi_base64_encoded_len(size_t n)
{
    size_t groups = n / 3 + (n % 3 != 0);

    /* Saturate rather than wrap: no buffer can hold SIZE_MAX bytes, so callers fail cleanly. */
    if (groups > SIZE_MAX / 4)
        return SIZE_MAX;
    return groups * 4;
}

ifx_rc ifxi_base64_encode(const void *p, size_t n, ifx_buf *out)
{
    const unsigned char *s = p;
    size_t need = ifxi_base64_encoded_len(n), i;
    ifx_rc rc;
    char *w;

    if (n == 0)
        return IFX_OK;
    rc = ifx_buf_reserve(out, need);
    if (rc)
        return rc;
    w = out->data + out->len;
    for (i = 0; n - i >= 3; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        w[0] = alphabet[v >> 18];
        w[1] = alphabet[(v >> 12) & 63];
        w[2] = alphabet[(v >> 6) & 63];
        w[3] = alphabet[v & 63];
        w += 4;
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        w[0] = alphabet[v >> 18];
        w[1] = alphabet[(v >> 12) & 63];
        w[2] = '=';
        w[3] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        w[0] = alphabet[v >> 18];
        w[1] = alphabet[(v >> 12) & 63];
        w[2] = alphabet[(v >> 6) & 63];
        w[3] = '=';
    }
    out->len += need;
    out->data[out->len] = '\0';
    return IFX_OK;
}

static ifx_rc bad_char(ifx_err *err, const unsigned char *s, size_t at)
{
    unsigned c = s[at];

    if (c > 0x20 && c < 0x7F)
        return ifx_err_set_at(err, IFX_E_INVALID, at,
                              "invalid base64 at byte %zu: character '%c' is not in the alphabet",
                              at, (int)c);
    return ifx_err_set_at(err, IFX_E_INVALID, at,
                          "invalid base64 at byte %zu: byte 0x%02X is not in the alphabet", at, c);
}

/* Explains why the group of four at s[at] failed the fast path; IFX_OK when it is a well-placed
 * padded group ("xx==" or "xxx=" ending the input). */
static ifx_rc bad_group(ifx_err *err, const unsigned char *s, size_t at, bool last)
{
    size_t k, j;

    for (k = 0; k < 4; k++) {
        unsigned v = dtab[s[at + k]];
        if (v == BAD)
            return bad_char(err, s, at + k);
        if (v != PAD)
            continue;
        if (last && (k == 3 || (k == 2 && dtab[s[at + 3]] == PAD)))
            return IFX_OK;
        /* A stray character after the '=' is the more useful thing to point at. */
        for (j = k + 1; j < 4; j++) {
            if (dtab[s[at + j]] == BAD)
                return bad_char(err, s, at + j);
        }
        if (last && k < 2 && dtab[s[at + 2]] == PAD && dtab[s[at + 3]] == PAD)
            return ifx_err_set_at(err, IFX_E_INVALID, at + k,
                                  "invalid base64 at byte %zu: too much padding (a group needs at "
                                  "least two characters before '=')",
                                  at + k);
        return ifx_err_set_at(err, IFX_E_INVALID, at + k,
                              "invalid base64 at byte %zu: '=' in the middle", at + k);
    }
    return IFX_OK;
}

/* The input length is not a multiple of 4: name a bad character in the tail first, if any. */
static ifx_rc bad_length(ifx_err *err, const unsigned char *s, size_t len)
{
    size_t full = len / 4 * 4, i;

    for (i = full; i < len; i++) {
        if (dtab[s[i]] == BAD)
            return bad_char(err, s, i);
    }
    return ifx_err_set_at(err, IFX_E_INVALID, full,
                          "invalid base64: length %zu is not a multiple of 4 (incomplete group at "
                          "byte %zu)",
                          len, full);
}

ifx_rc ifxi_base64_decode(const char *str, size_t len, ifx_buf *out, ifx_err *err)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t full = len / 4 * 4, i;
    ifx_rc rc = IFX_OK;
    unsigned char *w;

    if (len == 0)
        return IFX_OK;
    if (full == 0)
        return bad_length(err, s, len);
    rc = ifx_buf_reserve(out, full / 4 * 3);
    if (rc)
        return ifx_err_set(err, rc, "cannot hold %zu decoded base64 bytes: %s", full / 4 * 3,
                           rc == IFX_E_FULL ? "the buffer is full" : "out of memory");
    /* Decode straight into the reserved space; out->len only moves on success, and the NUL that
     * the writes overwrite is put back on failure. */
    w = (unsigned char *)out->data + out->len;
    for (i = 0; i < full; i += 4) {
        unsigned a = dtab[s[i]], b = dtab[s[i + 1]], c = dtab[s[i + 2]], d = dtab[s[i + 3]];
        if (!((a | b | c | d) & (PAD | BAD))) {
            uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | d;
            w[0] = (unsigned char)(v >> 16);
            w[1] = (unsigned char)(v >> 8);
            w[2] = (unsigned char)v;
            w += 3;
            continue;
        }
        rc = bad_group(err, s, i, i + 4 == len);
        if (rc)
            goto out;
        /* A valid padded group, so the last one: the bits below the last byte must be zero. */
        if (c == PAD) {
            if (b & 0x0F) {
                rc = ifx_err_set_at(err, IFX_E_INVALID, i + 1,
                                    "invalid base64 at byte %zu: non-zero padding bits", i + 1);
                goto out;
            }
            *w++ = (unsigned char)(a << 2 | b >> 4);
        } else {
            if (c & 0x03) {
                rc = ifx_err_set_at(err, IFX_E_INVALID, i + 2,
                                    "invalid base64 at byte %zu: non-zero padding bits", i + 2);
                goto out;
            }
            *w++ = (unsigned char)(a << 2 | b >> 4);
            *w++ = (unsigned char)(b << 4 | c >> 2);
        }
    }
    if (full != len) {
        rc = bad_length(err, s, len);
        goto out;
    }
    out->len = (size_t)(w - (unsigned char *)out->data);
out:
    out->data[out->len] = '\0';
    return rc;
}
