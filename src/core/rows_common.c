/* ifx — query result readers: what every format's reader uses (messages with byte offsets,
 * growing the reader's arrays, handing a row to the callback, time and excerpts). Depends on
 * nothing of the readers themselves; rows_json.c and rows_csv.c build on it, rows.c dispatches.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ifx/timeutil.h"
#include "core/timeutil_internal.h"
#include "core/rows_common.h"

ifx_rc ifxi_rows_fail(ifx_rows_ctx *c, size_t n, size_t at, const char *fmt, ...)
{
    char what[448];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (n)
        return ifx_err_set_at(c->err, IFX_E_INVALID, at, "%s, %s %zu: %s", c->what, c->unit, n,
                              what);
    return ifx_err_set_at(c->err, IFX_E_INVALID, at, "%s: %s", c->what, what);
}

ifx_rc ifxi_rows_truncated(ifx_rows_ctx *c, size_t n, size_t at)
{
    return ifxi_rows_fail(c, n, at,
                          "the answer ended in the middle of a row; the server may have failed "
                          "while streaming");
}

ifx_rc ifxi_rows_oom(ifx_rows_ctx *c, ifx_rc rc)
{
    if (rc == IFX_E_FULL)
        return ifx_err_set(c->err, rc, "%s: a row does not fit in the reader's buffer", c->what);
    return ifx_err_set(c->err, IFX_E_NOMEM, "%s: out of memory", c->what);
}

void *ifxi_rows_grow(void *arr, size_t *cap, size_t need, size_t elem)
{
    size_t n = *cap ? *cap : 16;
    void *p;

    if (need <= *cap)
        return arr;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    if (n > SIZE_MAX / elem)
        return NULL;
    p = realloc(arr, n * elem);
    if (p)
        *cap = n;
    return p;
}

ifx_rc ifxi_rows_ensure_cols(ifx_rows_ctx *c, size_t n)
{
    ifx_rows_reader *r = c->r;
    size_t cap_c = r->cap_cols, cap_v = r->cap_cols;
    void *p;

    if (n <= r->cap_cols)
        return IFX_OK;
    /* Each array keeps whatever it got: a failure leaves cap_cols at the smaller of the two. */
    p = ifxi_rows_grow(r->cols, &cap_c, n, sizeof *r->cols);
    if (!p)
        return ifxi_rows_oom(c, IFX_E_NOMEM);
    r->cols = p;
    p = ifxi_rows_grow(r->vals, &cap_v, n, sizeof *r->vals);
    if (!p)
        return ifxi_rows_oom(c, IFX_E_NOMEM);
    r->vals = p;
    r->cap_cols = cap_c < cap_v ? cap_c : cap_v;
    return IFX_OK;
}

ifx_rc ifxi_rows_deliver(ifx_rows_ctx *c, const ifx_row *row)
{
    ifx_rc rc = c->fn(c->ud, row, c->err);

    if (rc == IFX_OK)
        return IFX_OK;
    c->refused = true;
    if (c->err->msg[0] == '\0')
        ifx_err_set(c->err, rc, "%s: the row callback stopped the read (%s)", c->what,
                    ifx_rc_name(rc));
    c->err->code = rc;
    return rc;
}

ifx_rc ifxi_rows_parse_time(const char *p, size_t len, int64_t *ns, ifx_err *terr,
                            ifxi_time_memo *memo)
{
    char zoned[48];
    bool offset;

    /* v3 renders its zone-less Timestamp(ns) as "1970-01-01T00:00:00.000000123": UTC. A zone-less
     * form ends in a digit, and so does a "+HH:MM" offset; anything else is parsed as it is. The
     * check comes first because a refused parse costs a formatted message. */
    if (ifxi_time_parse_utc_memo(p, len, false, ns, memo) ||
        ifxi_time_parse_utc_memo(p, len, true, ns, memo))
        return IFX_OK;
    /* The fast path refused p with and without a Z: only the general parser is left. */
    offset = len >= 6 && (p[len - 6] == '+' || p[len - 6] == '-') && p[len - 3] == ':';
    if (len == 0 || len >= sizeof zoned || (unsigned)(p[len - 1] - '0') > 9 || offset)
        return ifxi_time_parse_rfc3339_general(p, len, ns, terr);
    memcpy(zoned, p, len);
    zoned[len] = 'Z';
    if (ifxi_time_parse_rfc3339_general(zoned, len + 1, ns, NULL) == IFX_OK)
        return IFX_OK;
    /* Refused: say so about the text as the server sent it. */
    return ifxi_time_parse_rfc3339_general(p, len, ns, terr);
}

const char *ifxi_rows_excerpt(const char *p, size_t len, char *out, size_t size)
{
    size_t n = len, k;

    if (n > 40) {
        n = 37;
        while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
            n--;
    }
    if (n + 4 > size)
        n = size - 4;
    for (k = 0; k < n; k++) {
        unsigned char ch = (unsigned char)p[k];
        out[k] = (ch < 0x20 || ch == 0x7F) ? '?' : (char)ch;
    }
    if (n < len) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
    return out;
}

bool ifxi_rows_fast_double(const char *p, size_t len, double *out)
{
    uint64_t m = 0;
    size_t i = 0, start;
    int exp10 = 0;
    bool neg = false;

    /* The digits are gathered without counting the significant ones as they come: at most 19 of
     * them cannot overflow m, and then m < 10^15 says there are at most 15 significant ones
     * (leading zeros add nothing to m). A check per digit was half of this function. */
    if (len && p[0] == '-')
        neg = true, i++;
    if (i == len || (unsigned)(p[i] - '0') > 9)
        return false;
    start = i;
    for (; i < len && (unsigned)(p[i] - '0') <= 9; i++)
        m = m * 10 + (uint64_t)(p[i] - '0');
    size_t ndigits = i - start;
    if (i < len && p[i] == '.') {
        start = ++i;
        for (; i < len && (unsigned)(p[i] - '0') <= 9; i++)
            m = m * 10 + (uint64_t)(p[i] - '0');
        if (i == start)
            return false;
        ndigits += i - start;
        exp10 = -(int)(i - start);
    }
    if (ndigits > 19 || m >= 1000000000000000ULL)
        return false;
    if (i < len && (p[i] == 'e' || p[i] == 'E')) {
        bool eneg = false;
        int e = 0;
        if (++i < len && (p[i] == '+' || p[i] == '-'))
            eneg = p[i++] == '-';
        start = i;
        for (; i < len && (unsigned)(p[i] - '0') <= 9; i++) {
            if (e > 1000)
                return false;
            e = e * 10 + (p[i] - '0');
        }
        if (i == start)
            return false;
        exp10 += eneg ? -e : e;
    }
    if (i != len || exp10 < -22 || exp10 > 22)
        return false;
    /* m < 10^15 < 2^53 and 10^|exp10| <= 10^22 are exact doubles: one correctly rounded
     * operation gives the correctly rounded value (Clinger's fast path), as strtod does. */
    if (exp10 <= 0) {
        *out = ifxi_rows_decimal(m, (unsigned)-exp10, neg);
    } else {
        double d = (double)m * ifxi_rows_pow10((unsigned)exp10);
        *out = neg ? -d : d;
    }
    return true;
}
