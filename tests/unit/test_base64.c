/* Tests for base64 encoding and strict decoding (src/core/base64.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/codec.h"

/* RFC 4648, section 10. */
static const struct {
    const char *plain, *encoded;
} rfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void test_rfc4648_vectors(void **state)
{
    ifx_buf b;
    ifx_err err;
    (void)state;

    ifx_buf_init(&b, 1024);
    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        const char *p = rfc4648[i].plain, *e = rfc4648[i].encoded;

        ifx_buf_reset(&b);
        assert_int_equal(ifxi_base64_encode(p, strlen(p), &b), IFX_OK);
        assert_int_equal(b.len, strlen(e));
        assert_int_equal(ifxi_base64_encoded_len(strlen(p)), strlen(e));
        if (b.len)
            assert_string_equal(b.data, e);

        ifx_buf_reset(&b);
        ifx_err_clear(&err);
        assert_int_equal(ifxi_base64_decode(e, strlen(e), &b, &err), IFX_OK);
        assert_int_equal(b.len, strlen(p));
        if (b.len)
            assert_string_equal(b.data, p);
    }
    ifx_buf_free(&b);
}

static void test_encoded_len(void **state)
{
    (void)state;
    assert_int_equal(ifxi_base64_encoded_len(0), 0);
    assert_int_equal(ifxi_base64_encoded_len(1), 4);
    assert_int_equal(ifxi_base64_encoded_len(2), 4);
    assert_int_equal(ifxi_base64_encoded_len(3), 4);
    assert_int_equal(ifxi_base64_encoded_len(4), 8);
    assert_int_equal(ifxi_base64_encoded_len(300), 400);
    /* No wrap-around for absurd sizes: the result saturates and no buffer can take it. */
    assert_int_equal(ifxi_base64_encoded_len(SIZE_MAX), SIZE_MAX);
    assert_int_equal(ifxi_base64_encoded_len(SIZE_MAX / 4 * 3), SIZE_MAX / 4 * 4);
}

static void test_binary_round_trip(void **state)
{
    unsigned char all[256];
    ifx_buf enc, dec;
    ifx_err err;
    (void)state;

    for (size_t i = 0; i < sizeof all; i++)
        all[i] = (unsigned char)(255 - i);
    ifx_buf_init(&enc, 4096);
    ifx_buf_init(&dec, 4096);
    for (size_t n = 0; n <= sizeof all; n++) {
        ifx_buf_reset(&enc);
        ifx_buf_reset(&dec);
        assert_int_equal(ifxi_base64_encode(all, n, &enc), IFX_OK);
        assert_int_equal(enc.len, ifxi_base64_encoded_len(n));
        assert_int_equal(ifxi_base64_decode(enc.data, enc.len, &dec, &err), IFX_OK);
        assert_int_equal(dec.len, n);
        if (n)
            assert_memory_equal(dec.data, all, n);
    }
    /* The two last characters of the alphabet. */
    ifx_buf_reset(&enc);
    assert_int_equal(ifxi_base64_encode("\xFB\xFF", 2, &enc), IFX_OK);
    assert_string_equal(enc.data, "+/8=");
    ifx_buf_reset(&enc);
    assert_int_equal(ifxi_base64_encode("\xFB\xEF\xBE", 3, &enc), IFX_OK);
    assert_string_equal(enc.data, "++++");
    ifx_buf_reset(&dec);
    assert_int_equal(ifxi_base64_decode("////", 4, &dec, &err), IFX_OK);
    assert_int_equal(dec.len, 3);
    assert_memory_equal(dec.data, "\xFF\xFF\xFF", 3);
    ifx_buf_free(&enc);
    ifx_buf_free(&dec);
}

static void test_appends(void **state)
{
    ifx_buf b;
    (void)state;

    ifx_buf_init(&b, 64);
    assert_int_equal(ifx_buf_puts(&b, "x="), IFX_OK);
    assert_int_equal(ifxi_base64_encode("foo", 3, &b), IFX_OK);
    assert_string_equal(b.data, "x=Zm9v");
    assert_int_equal(ifxi_base64_decode("YmFy", 4, &b, NULL), IFX_OK);
    assert_string_equal(b.data, "x=Zm9vbar");
    assert_int_equal(b.len, 9);
    /* Empty in, nothing out, nothing touched. */
    assert_int_equal(ifxi_base64_encode("", 0, &b), IFX_OK);
    assert_int_equal(ifxi_base64_decode("", 0, &b, NULL), IFX_OK);
    assert_int_equal(b.len, 9);
    ifx_buf_free(&b);
}

static void test_full_buffer(void **state)
{
    ifx_buf b;
    ifx_err err;
    (void)state;

    ifx_buf_init(&b, 7);
    assert_int_equal(ifx_buf_puts(&b, "abc"), IFX_OK);
    assert_int_equal(ifxi_base64_encode("foo", 3, &b), IFX_OK); /* exactly 7 */
    assert_string_equal(b.data, "abcZm9v");
    assert_int_equal(ifxi_base64_encode("f", 1, &b), IFX_E_FULL);
    assert_int_equal(b.len, 7);
    assert_string_equal(b.data, "abcZm9v");

    ifx_buf_reset(&b);
    assert_int_equal(ifx_buf_puts(&b, "abcde"), IFX_OK);
    ifx_err_clear(&err);
    assert_int_equal(ifxi_base64_decode("Zm9v", 4, &b, &err), IFX_E_FULL);
    assert_int_equal(err.code, IFX_E_FULL);
    assert_non_null(strstr(err.msg, "full"));
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "abcde");
    ifx_buf_free(&b);
}

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

static void test_refusals(void **state)
{
    static const struct bad_case cases[] = {
        BAD("Zm9v*mFy", 4, "invalid base64 at byte 4: character '*' is not in the alphabet"),
        BAD("Zm9vYmF*", 7, "invalid base64 at byte 7: character '*' is not in the alphabet"),
        BAD("Zm9\n", 3, "invalid base64 at byte 3: byte 0x0A is not in the alphabet"),
        BAD("Zm9v Zm9", 4, "invalid base64 at byte 4: byte 0x20 is not in the alphabet"),
        BAD("Zm9-", 3, "invalid base64 at byte 3: character '-' is not in the alphabet"),
        BAD("Zm9_", 3, "invalid base64 at byte 3: character '_' is not in the alphabet"),
        BAD("Zm\xC3\xA9", 2, "invalid base64 at byte 2: byte 0xC3 is not in the alphabet"),
        BAD("Zm\0v", 2, "invalid base64 at byte 2: byte 0x00 is not in the alphabet"),
        BAD("Zm9vY", 4,
            "invalid base64: length 5 is not a multiple of 4 (incomplete group at byte 4)"),
        BAD("Zm9vYmE", 4,
            "invalid base64: length 7 is not a multiple of 4 (incomplete group at byte 4)"),
        BAD("Zg=", 0,
            "invalid base64: length 3 is not a multiple of 4 (incomplete group at byte 0)"),
        BAD("Z", 0, "invalid base64: length 1 is not a multiple of 4 (incomplete group at byte 0)"),
        BAD("Zm9vY*", 5, "invalid base64 at byte 5: character '*' is not in the alphabet"),
        BAD("Zm=vYmFy", 2, "invalid base64 at byte 2: '=' in the middle"),
        BAD("Zg==Zg==", 2, "invalid base64 at byte 2: '=' in the middle"),
        BAD("Zm8=Zm9v", 3, "invalid base64 at byte 3: '=' in the middle"),
        BAD("Zg=A", 2, "invalid base64 at byte 2: '=' in the middle"),
        BAD("=Zm9", 0, "invalid base64 at byte 0: '=' in the middle"),
        BAD("Zg=*", 3, "invalid base64 at byte 3: character '*' is not in the alphabet"),
        BAD("Z===", 1,
            "invalid base64 at byte 1: too much padding (a group needs at least two characters "
            "before '=')"),
        BAD("Zm9v====", 4,
            "invalid base64 at byte 4: too much padding (a group needs at least two characters "
            "before '=')"),
        BAD("Zh==", 1, "invalid base64 at byte 1: non-zero padding bits"),
        BAD("Zm9=", 2, "invalid base64 at byte 2: non-zero padding bits"),
        BAD("Zm9vYmFyZh==", 9, "invalid base64 at byte 9: non-zero padding bits"),
        BAD("Zm9vYmFyZm9=", 10, "invalid base64 at byte 10: non-zero padding bits"),
    };
    (void)state;
    ifx_buf b;

    ifx_buf_init(&b, 1024);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct bad_case *c = &cases[i];
        ifx_err err;
        ifx_rc rc;

        ifx_buf_reset(&b);
        assert_int_equal(ifx_buf_puts(&b, "keep"), IFX_OK);
        ifx_err_clear(&err);
        rc = ifxi_base64_decode(c->in, c->len, &b, &err);
        if (rc != IFX_E_INVALID || err.code != IFX_E_INVALID)
            fail_msg("case %zu: rc %d", i, (int)rc);
        if (err.offset != c->offset)
            fail_msg("case %zu: offset %zu, expected %zu", i, err.offset, c->offset);
        if (strcmp(err.msg, c->msg) != 0)
            fail_msg("case %zu: message \"%s\", expected \"%s\"", i, err.msg, c->msg);
        /* out is unchanged, terminator included, even when groups before the problem decoded. */
        if (b.len != 4 || memcmp(b.data, "keep", 5) != 0)
            fail_msg("case %zu: out changed to %zu bytes", i, b.len);
        assert_int_equal(ifxi_base64_decode(c->in, c->len, &b, NULL), IFX_E_INVALID);
    }
    ifx_buf_free(&b);
}

/* The zero-bits rule gives exactly one spelling per byte string: of the 64 characters that can end
 * "Z?==" only those with the low four bits clear decode. */
static void test_padding_bits_exhaustive(void **state)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    ifx_buf b;
    int ok2 = 0, ok1 = 0;
    (void)state;

    ifx_buf_init(&b, 64);
    for (int v = 0; v < 64; v++) {
        char g[5] = {'Z', alphabet[v], '=', '=', 0};
        char h[5] = {'Z', 'm', alphabet[v], '=', 0};
        ifx_buf_reset(&b);
        ifx_rc rc = ifxi_base64_decode(g, 4, &b, NULL);
        assert_int_equal(rc, (v & 0x0F) ? IFX_E_INVALID : IFX_OK);
        ok2 += rc == IFX_OK;
        ifx_buf_reset(&b);
        rc = ifxi_base64_decode(h, 4, &b, NULL);
        assert_int_equal(rc, (v & 0x03) ? IFX_E_INVALID : IFX_OK);
        ok1 += rc == IFX_OK;
    }
    assert_int_equal(ok2, 4);
    assert_int_equal(ok1, 16);
    ifx_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_encoded_len),
        cmocka_unit_test(test_binary_round_trip),
        cmocka_unit_test(test_appends),
        cmocka_unit_test(test_full_buffer),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_padding_bits_exhaustive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
