/* Fuzz target: the source's saved cursor state (the runtime's state bytes, or the file of
 * `ifx source --state`), which comes from disk and may be damaged. A state that decodes must
 * encode back to the very same bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connector/cursor.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ifx_cursor c;
    ifx_err err;
    ifx_buf out;

    ifx_err_clear(&err);
    if (ifxi_cursor_decode(data, size, &c, &err) != IFX_OK) {
        CHECK(c.nseen == 0 && c.seen == NULL);
        CHECK(err.msg[0] != '\0');
        return 0;
    }
    for (size_t i = 1; i < c.nseen; i++)
        CHECK(c.seen[i - 1] <= c.seen[i]);
    ifx_buf_init(&out, size + 64);
    CHECK(ifxi_cursor_encode(&c, &out) == IFX_OK);
    CHECK(out.len == size && memcmp(out.data, data, size) == 0);
    ifx_buf_free(&out);
    ifxi_cursor_free(&c);
    return 0;
}
