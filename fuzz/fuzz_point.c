/* Fuzz target: JSON points through the line-protocol encoder for every target version.
 * Invariants: an accepted point gives one line that ends in '\n' and is valid UTF-8 (v3 refuses a
 * whole request otherwise); a refusal leaves the batch empty and says why. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "ifx/point.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const ifx_version versions[] = {IFX_VERSION_V1, IFX_VERSION_V2, IFX_VERSION_V3};
    for (size_t v = 0; v < 3; v++) {
        ifx_lp lp;
        ifx_buf scratch;
        ifx_err err;
        ifx_lp_init(&lp, versions[v], (ifx_precision)(size % 4), 1u << 20);
        ifx_buf_init(&scratch, 1u << 20);
        ifx_rc rc = ifx_point_encode_json(&lp, (const char *)data, size, &scratch, &err);
        if (rc == IFX_OK) {
            if (lp.lines != 1 || lp.batch.len == 0 || lp.batch.data[lp.batch.len - 1] != '\n')
                abort();
            if (!ifxi_utf8_valid(lp.batch.data, lp.batch.len, NULL))
                abort();
        } else {
            if (lp.batch.len != 0 || lp.open)
                abort();
            if (err.msg[0] == '\0')
                abort();
        }
        ifx_lp_free(&lp);
        ifx_buf_free(&scratch);
    }
    return 0;
}
