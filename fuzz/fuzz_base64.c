/* Fuzz target: strict base64 decoding, and encode/decode round trips. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "fuzz_check.h"

#define KEEP "keep"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    ifx_buf dec, enc, back;
    ifx_err err;
    ifx_rc rc;

    ifx_buf_init(&dec, 1 << 24);
    ifx_buf_init(&enc, 1 << 24);
    ifx_buf_init(&back, 1 << 24);

    /* Decoding the input as base64: strictness means one spelling per byte string, so whatever
     * decodes re-encodes to exactly the input. */
    CHECK(ifx_buf_puts(&dec, KEEP) == IFX_OK);
    ifx_err_clear(&err);
    rc = ifxi_base64_decode(text, size, &dec, &err);
    if (rc == IFX_OK) {
        CHECK(size % 4 == 0);
        CHECK(dec.len - 4 ==
              size / 4 * 3 - (size && data[size - 1] == '=') - (size && data[size - 2] == '='));
        CHECK(ifxi_base64_encode(dec.data + 4, dec.len - 4, &enc) == IFX_OK);
        CHECK(enc.len == size);
        CHECK(size == 0 || memcmp(enc.data, data, size) == 0);
    } else {
        CHECK(rc == IFX_E_INVALID && err.code == IFX_E_INVALID);
        CHECK(err.offset < size);
        CHECK(strncmp(err.msg, "invalid base64", 14) == 0);
        CHECK(dec.len == 4 && memcmp(dec.data, KEEP, 5) == 0);
        CHECK(ifxi_base64_decode(text, size, &dec, NULL) == IFX_E_INVALID);
    }

    /* Encoding the input as bytes, then decoding it back. */
    ifx_buf_reset(&enc);
    CHECK(ifxi_base64_encode(data, size, &enc) == IFX_OK);
    CHECK(enc.len == ifxi_base64_encoded_len(size));
    ifx_err_clear(&err);
    CHECK(ifxi_base64_decode(enc.data, enc.len, &back, &err) == IFX_OK);
    CHECK(back.len == size);
    CHECK(size == 0 || memcmp(back.data, data, size) == 0);

    ifx_buf_free(&dec);
    ifx_buf_free(&enc);
    ifx_buf_free(&back);
    return 0;
}
