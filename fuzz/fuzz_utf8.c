/* Fuzz target: the fast UTF-8 validator against a plain byte-by-byte decoder, and the one-pass
 * line-protocol text encoder (fast and portable scanners) against validating, then escaping. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/utf8_internal.h"
#include "fuzz_check.h"

/* RFC 3629 read literally: decode each sequence to its code point, then refuse what is too long
 * for its value, a surrogate or past U+10FFFF. Problems are blamed on the sequence's first byte. */
static bool reference_valid(const uint8_t *s, size_t n, size_t *bad)
{
    size_t i = 0;

    while (i < n) {
        uint32_t c = s[i], cp, min;
        size_t len, k;

        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
            min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
            min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            goto bad;
        }
        if (n - i < len)
            goto bad;
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                goto bad;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            goto bad;
        i += len;
    }
    return true;
bad:
    *bad = i;
    return false;
}

/* ifxi_utf8_lp_string, with either scanner, is ifxi_utf8_check followed by escaping '"' and '\\'.
 */
static void check_lp(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    ifx_buf want, fast, port;
    ifx_err ec, ef, ep;
    ifx_rc rc, rf, rp;

    ifx_buf_init(&want, 1 << 24);
    ifx_buf_init(&fast, 1 << 24);
    ifx_buf_init(&port, 1 << 24);
    ifx_err_clear(&ec);
    ifx_err_clear(&ef);
    ifx_err_clear(&ep);
    rc = ifxi_utf8_check(in, size, &ec);
    rf = ifxi_utf8_lp_string(in, size, &fast, &ef);
    rp = ifxi_utf8_lp_string_portable(in, size, &port, &ep);
    CHECK(rf == rc && rp == rc);
    CHECK(strcmp(ef.msg, ec.msg) == 0 && strcmp(ep.msg, ec.msg) == 0);
    CHECK(ef.offset == ec.offset && ep.offset == ec.offset);
    if (rc == IFX_OK) {
        CHECK(ifx_buf_putc(&want, '"') == IFX_OK);
        for (size_t i = 0; i < size; i++) {
            if (in[i] == '"' || in[i] == '\\')
                CHECK(ifx_buf_putc(&want, '\\') == IFX_OK);
            CHECK(ifx_buf_putc(&want, in[i]) == IFX_OK);
        }
        CHECK(ifx_buf_putc(&want, '"') == IFX_OK);
        CHECK(fast.len == want.len && memcmp(fast.data, want.data, want.len) == 0);
        CHECK(port.len == want.len && memcmp(port.data, want.data, want.len) == 0);
    } else {
        CHECK(fast.len == 0 && port.len == 0);
    }
    ifx_buf_free(&want);
    ifx_buf_free(&fast);
    ifx_buf_free(&port);
}

static void check_one(const uint8_t *data, size_t size)
{
    size_t bad = SIZE_MAX, ref_bad = SIZE_MAX;
    bool ok = ifxi_utf8_valid(data, size, &bad);
    bool ref = reference_valid(data, size, &ref_bad);
    ifx_err err;
    char prefix[64];

    CHECK(ok == ref);
    CHECK(ifxi_utf8_valid(data, size, NULL) == ok);
    ifx_err_clear(&err);
    if (ok) {
        CHECK(ifxi_utf8_check(data, size, &err) == IFX_OK);
        return;
    }
    CHECK(bad == ref_bad);
    CHECK(bad < size);
    /* Everything before the reported byte is well-formed. */
    CHECK(ifxi_utf8_valid(data, bad, NULL));
    CHECK(ifxi_utf8_check(data, size, &err) == IFX_E_INVALID);
    CHECK(err.code == IFX_E_INVALID && err.offset == bad);
    snprintf(prefix, sizeof prefix, "invalid UTF-8 at byte %zu (", bad);
    CHECK(strncmp(err.msg, prefix, strlen(prefix)) == 0);
    CHECK(err.msg[strlen(err.msg) - 1] == ')');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_one(data, size);
    check_lp(data, size);
    /* Another alignment for the word-at-a-time loop. */
    if (size > 1) {
        check_one(data + 1, size - 1);
        check_lp(data + 1, size - 1);
    }
    return 0;
}
