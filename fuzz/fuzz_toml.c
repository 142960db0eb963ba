/* Fuzz target: the TOML reader (src/config/toml.c). Invariants: a refusal is IFX_E_INVALID with a
 * one-line "line L, column C: ..." message and an offset inside the input, and leaves the output
 * buffer as it was; an acceptance is exactly one compact JSON object that ifx's own validator
 * accepts, the same on a second run, and refused with IFX_E_FULL (buffer unchanged) under any
 * smaller cap. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "config/toml.h"
#include "fuzz_check.h"

#define CAP (1 << 24)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    ifx_buf out, again, capped, compact;
    ifx_json_val root;
    ifx_err err;
    ifx_rc rc;
    size_t n;

    ifx_buf_init(&out, CAP);
    ifx_buf_init(&again, CAP);
    ifx_buf_init(&compact, CAP);
    CHECK(ifx_buf_puts(&out, "prefix") == IFX_OK);
    ifx_err_clear(&err);
    rc = ifxi_toml_to_json(in, size, &out, &err);
    if (rc != IFX_OK) {
        CHECK(rc == IFX_E_INVALID && err.code == IFX_E_INVALID);
        CHECK(strncmp(err.msg, "line ", 5) == 0 && strstr(err.msg, ", column ") != NULL);
        CHECK(strchr(err.msg, '\n') == NULL);
        CHECK(err.offset <= size);
        CHECK(out.len == 6 && memcmp(out.data, "prefix", 7) == 0);
        goto done;
    }
    n = out.len - 6;
    CHECK(out.data[out.len] == '\0');
    /* One JSON object, already compact. */
    ifx_err_clear(&err);
    CHECK(ifxi_json_parse(out.data + 6, n, &root, &err) == IFX_OK);
    CHECK(root.type == IFX_JSON_OBJECT && root.p == out.data + 6 && root.len == n);
    CHECK(ifxi_json_compact(out.data + 6, n, &compact, &err) == IFX_OK);
    CHECK(compact.len == n && memcmp(compact.data, out.data + 6, n) == 0);
    /* Deterministic. */
    CHECK(ifxi_toml_to_json(in, size, &again, NULL) == IFX_OK);
    CHECK(again.len == n && memcmp(again.data, out.data + 6, n) == 0);
    /* Any smaller cap is refused cleanly; the exact size fits. */
    ifx_buf_init(&capped, n - 1);
    CHECK(ifxi_toml_to_json(in, size, &capped, &err) == IFX_E_FULL);
    CHECK(capped.len == 0);
    ifx_buf_free(&capped);
    ifx_buf_init(&capped, n);
    CHECK(ifxi_toml_to_json(in, size, &capped, NULL) == IFX_OK);
    CHECK(capped.len == n && memcmp(capped.data, out.data + 6, n) == 0);
    ifx_buf_free(&capped);
done:
    ifx_buf_free(&out);
    ifx_buf_free(&again);
    ifx_buf_free(&compact);
    return 0;
}
