/* See gunzip.h. */
#include "gunzip.h"

#include <stdint.h>
#include <zlib.h>

bool test_gunzip(const void *p, size_t n, char *out, size_t cap, size_t *out_len)
{
    z_stream z = {.next_in = (Bytef *)(uintptr_t)p,
                  .avail_in = (uInt)n,
                  .next_out = (Bytef *)out,
                  .avail_out = (uInt)cap};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) /* 16: a gzip header and trailer */
        return false;
    bool ok = inflate(&z, Z_FINISH) == Z_STREAM_END && z.avail_in == 0;
    *out_len = z.total_out;
    inflateEnd(&z);
    return ok;
}
