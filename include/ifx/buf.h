/* ifx — growable byte buffer with a hard cap (after curl's dynbuf).
 *
 * An ifx_buf is caller-owned: ifx_buf_init, then any appends, then ifx_buf_free. Its data is kept
 * NUL-terminated (data[len] == 0) whenever data is not NULL, so text can be used as a C string.
 * Reset keeps the memory, so a buffer reused across batches stops allocating once warm.
 *
 * Thread safety: none; one thread at a time per buffer.
 */
#ifndef IFX_BUF_H
#define IFX_BUF_H

#include <stddef.h>
#include "ifx/export.h"
#include "ifx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ifx_buf {
    char *data;   /* owned; NULL until the first append */
    size_t len;   /* bytes in use */
    size_t alloc; /* bytes allocated (always > len when data != NULL) */
    size_t cap;   /* the most len may ever reach */
} ifx_buf;

/* Sets up an empty buffer that may hold at most cap bytes. Allocates nothing. */
IFX_EXTERN void ifx_buf_init(ifx_buf *b, size_t cap);

/* Frees the memory and leaves an empty buffer with the same cap. */
IFX_EXTERN void ifx_buf_free(ifx_buf *b);

/* Empties the buffer and keeps its memory. */
IFX_EXTERN void ifx_buf_reset(ifx_buf *b);

/* Cuts the buffer back to len bytes (len <= b->len). */
IFX_EXTERN void ifx_buf_truncate(ifx_buf *b, size_t len);

/* Makes room for extra more bytes. IFX_E_FULL past the cap, IFX_E_NOMEM if malloc fails;
 * in both cases the buffer is unchanged. */
IFX_EXTERN ifx_rc ifx_buf_reserve(ifx_buf *b, size_t extra);

/* Like ifx_buf_reserve, but allocates exactly what is asked (no doubling): for a size known in
 * advance, such as a response's Content-Length, where doubling would waste up to half. */
IFX_EXTERN ifx_rc ifx_buf_reserve_exact(ifx_buf *b, size_t extra);

/* Copies n bytes from p to the end. On failure the buffer is unchanged. */
IFX_EXTERN ifx_rc ifx_buf_append(ifx_buf *b, const void *p, size_t n);

/* Appends a NUL-terminated string (without its NUL). */
IFX_EXTERN ifx_rc ifx_buf_puts(ifx_buf *b, const char *s);

/* Appends one byte. */
IFX_EXTERN ifx_rc ifx_buf_putc(ifx_buf *b, char c);

/* Appends printf-formatted text. On failure the buffer is unchanged. */
IFX_EXTERN ifx_rc ifx_buf_printf(ifx_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Hands the memory to the caller (who frees it with free()) and leaves the buffer empty. Returns
 * an allocated empty string when the buffer never held data; NULL only when that malloc fails. */
IFX_EXTERN char *ifx_buf_detach(ifx_buf *b);

#ifdef __cplusplus
}
#endif
#endif
