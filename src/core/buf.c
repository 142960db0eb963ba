/* ifx — capped growable buffer (see include/ifx/buf.h). */
#include "ifx/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IFX_BUF_MIN_ALLOC 64

void ifx_buf_init(ifx_buf *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
}

void ifx_buf_free(ifx_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
}

void ifx_buf_reset(ifx_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void ifx_buf_truncate(ifx_buf *b, size_t len)
{
    if (len < b->len) {
        b->len = len;
        b->data[len] = '\0';
    }
}

/* Makes the allocation n bytes (n > b->alloc). */
static ifx_rc grow_to(ifx_buf *b, size_t n)
{
    char *p = realloc(b->data, n);
    if (!p)
        return IFX_E_NOMEM;
    if (!b->data)
        p[0] = '\0';
    b->data = p;
    b->alloc = n;
    return IFX_OK;
}

ifx_rc ifx_buf_reserve(ifx_buf *b, size_t extra)
{
    size_t need, n;

    if (extra > b->cap || b->len > b->cap - extra)
        return IFX_E_FULL;
    need = b->len + extra + 1; /* + NUL */
    if (need <= b->alloc)
        return IFX_OK;
    n = b->alloc ? b->alloc : IFX_BUF_MIN_ALLOC;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    /* Never allocate much beyond what the cap allows. */
    if (n > b->cap + 1 && need <= b->cap + 1)
        n = b->cap + 1;
    return grow_to(b, n);
}

ifx_rc ifx_buf_reserve_exact(ifx_buf *b, size_t extra)
{
    if (extra > b->cap || b->len > b->cap - extra)
        return IFX_E_FULL;
    size_t need = b->len + extra + 1; /* + NUL */
    return need <= b->alloc ? IFX_OK : grow_to(b, need);
}

ifx_rc ifx_buf_append(ifx_buf *b, const void *p, size_t n)
{
    ifx_rc rc = ifx_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return IFX_OK;
}

ifx_rc ifx_buf_puts(ifx_buf *b, const char *s)
{
    return ifx_buf_append(b, s, strlen(s));
}

ifx_rc ifx_buf_putc(ifx_buf *b, char c)
{
    return ifx_buf_append(b, &c, 1);
}

ifx_rc ifx_buf_printf(ifx_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    int n;
    ifx_rc rc;

    va_start(ap, fmt);
    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return IFX_E_USAGE;
    }
    rc = ifx_buf_reserve(b, (size_t)n);
    if (rc) {
        va_end(ap2);
        return rc;
    }
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)n;
    return IFX_OK;
}

char *ifx_buf_detach(ifx_buf *b)
{
    char *p = b->data;
    if (!p) {
        p = malloc(1);
        if (p)
            p[0] = '\0';
    }
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    return p;
}
