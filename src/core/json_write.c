/* ifx — writing JSON strings (see ifxi_json_append_string in src/core/codec.h). */
#include "core/codec.h"

/* Bytes an escaped byte takes: 1 plain, 2 for \" \\ \n \r \t, 6 for other controls. */
static size_t escaped_width(unsigned char c)
{
    if (c >= 0x20)
        return c == '"' || c == '\\' ? 2 : 1;
    return c == '\n' || c == '\r' || c == '\t' ? 2 : 6;
}

ifx_rc ifxi_json_append_string(ifx_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t need = 2;
    ifx_rc rc;

    /* Exact size first, so a buffer near its cap fails cleanly and the loop needs no checks. */
    for (size_t i = 0; i < len; i++)
        need += escaped_width((unsigned char)s[i]);
    if ((rc = ifx_buf_reserve(out, need)))
        return rc;
    char *w = out->data + out->len;
    *w++ = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (escaped_width(c) == 1) {
            *w++ = (char)c;
            continue;
        }
        *w++ = '\\';
        switch (c) {
        case '"':
        case '\\':
            *w++ = (char)c;
            break;
        case '\n':
            *w++ = 'n';
            break;
        case '\r':
            *w++ = 'r';
            break;
        case '\t':
            *w++ = 't';
            break;
        default:
            *w++ = 'u';
            *w++ = '0';
            *w++ = '0';
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        }
    }
    *w++ = '"';
    out->len = (size_t)(w - out->data);
    out->data[out->len] = '\0';
    return IFX_OK;
}
