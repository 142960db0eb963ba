/* ifx — UTF-8 helpers shared by the codecs; not part of the public API. */
#ifndef IFX_UTF8_INTERNAL_H
#define IFX_UTF8_INTERNAL_H

#include <stddef.h>

/* Writes why the sequence at p[0] is ill-formed and its bytes ("overlong encoding: 0xE0 0x80")
 * into buf, for messages. p is where ifxi_utf8_valid said the problem is, with len > 0 bytes left.
 * Returns the length written (the text is cut to fit size, which must be > 0). */
size_t ifxi_utf8_describe(const void *p, size_t len, char *buf, size_t size);

#endif
