/* ifx — error reporting (see include/ifx/error.h). */
#include "ifx/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ifx_err_clear(ifx_err *err)
{
    if (!err)
        return;
    err->code = IFX_OK;
    err->offset = IFX_NO_OFFSET;
    err->http_status = 0;
    err->msg[0] = '\0';
}

static ifx_rc err_vset(ifx_err *err, ifx_rc code, size_t offset, const char *fmt, va_list ap)
{
    if (!err)
        return code;
    err->code = code;
    err->offset = offset;
    err->http_status = 0;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    return code;
}

ifx_rc ifx_err_set(ifx_err *err, ifx_rc code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(err, code, IFX_NO_OFFSET, fmt, ap);
    va_end(ap);
    return code;
}

ifx_rc ifx_err_set_at(ifx_err *err, ifx_rc code, size_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(err, code, offset, fmt, ap);
    va_end(ap);
    return code;
}

ifx_rc ifx_err_prefix(ifx_err *err, const char *fmt, ...)
{
    char old[sizeof err->msg];
    va_list ap;
    size_t n;

    if (!err)
        return IFX_E_USAGE;
    memcpy(old, err->msg, sizeof old);
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    /* The message is cut, never overflowed, when prefix and old text together are too long. */
    n = strlen(err->msg);
    if (n + 2 < sizeof err->msg) {
        memcpy(err->msg + n, ": ", 3);
        n += 2;
        size_t rest = strnlen(old, sizeof old - 1);
        if (rest > sizeof err->msg - 1 - n)
            rest = sizeof err->msg - 1 - n;
        memcpy(err->msg + n, old, rest);
        err->msg[n + rest] = '\0';
    }
    return err->code;
}

const char *ifx_rc_name(ifx_rc rc)
{
    switch (rc) {
    case IFX_OK:
        return "ok";
    case IFX_E_INVALID:
        return "invalid";
    case IFX_E_UNSUPPORTED:
        return "unsupported";
    case IFX_E_CONFIG:
        return "config";
    case IFX_E_FULL:
        return "full";
    case IFX_E_NOMEM:
        return "nomem";
    case IFX_E_IO:
        return "io";
    case IFX_E_USAGE:
        return "usage";
    case IFX_E_TRANSIENT:
        return "transient";
    case IFX_E_AUTH:
        return "auth";
    case IFX_E_TOO_LARGE:
        return "too-large";
    case IFX_E_REJECTED:
        return "rejected";
    case IFX_E_PARTIAL:
        return "partial";
    case IFX_E_BREAKER_OPEN:
        return "breaker-open";
    }
    return "unknown";
}

const char *ifx_excerpt(const char *s, size_t len, size_t max, char *out)
{
    size_t n = len, k = 0;
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\t' || c == '\n' || c == '\r') {
            out[k++] = '\\';
            out[k++] = c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
        } else if (c < 0x20 || c == 0x7f) {
            static const char hex[] = "0123456789abcdef";
            out[k++] = '\\';
            out[k++] = 'x';
            out[k++] = hex[c >> 4];
            out[k++] = hex[c & 15];
        } else {
            out[k++] = (char)c;
        }
    }
    if (n < len) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
    return out;
}
