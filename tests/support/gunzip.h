/* Test and benchmark support: a gzip body read back by zlib, an implementation apart from the
 * library's compressor (ISA-L), so that what ifx sends is checked by another reader. */
#ifndef IFX_TEST_GUNZIP_H
#define IFX_TEST_GUNZIP_H

#include <stdbool.h>
#include <stddef.h>

/* Inflates the whole gzip member p[0..n) into out[0..cap); *out_len gets the bytes written.
 * false when p is not exactly one whole gzip member, or it does not fit in cap. */
bool test_gunzip(const void *p, size_t n, char *out, size_t cap, size_t *out_len);

#endif
