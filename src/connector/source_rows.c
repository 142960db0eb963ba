/* ifx — the source's rows to messages: a row's identity (the hash the cursor and the message id
 * use) and its payload, both from the data columns only (see connector/source_rows.h).
 */
#include "connector/source_rows.h"
#include "core/float.h"

#include <string.h>

#include "core/codec.h"
#include "core/scan16.h"
#include "core/timeutil_internal.h"
#include "connector/cursor.h"
#include "ifx/lp.h"
#include "ifx/timeutil.h"

/* Columns that describe the query rather than the data. Checked on every column of every row:
 * compare the length first, then the bytes (no strlen). */
static bool bookkeeping(const ifx_column *c)
{
    if (c->len == 5)
        return memcmp(c->name, "table", 5) == 0 || memcmp(c->name, "_stop", 5) == 0;
    if (c->len == 6)
        return memcmp(c->name, "result", 6) == 0 || memcmp(c->name, "_start", 6) == 0;
    return false;
}

#define NAMED(c, lit) ((c)->len == sizeof(lit) - 1 && memcmp((c)->name, lit, sizeof(lit) - 1) == 0)

/* Decimal digits of v, written backwards from end; returns where they start. */
static char *digits_back(uint64_t v, char *end)
{
    do
        *--end = (char)('0' + v % 10);
    while (v /= 10);
    return end;
}

/* The answer's own text of a double, when it already is what ifxi_float_format_positional
 * writes for the value: -?(0|[1-9][0-9]*)(.[0-9]+)? with at most 15 significant digits, not
 * zero, and no smaller than 1e-20 (normal numbers). Every decimal of at most 15 significant
 * digits reads back to itself through a double (DBL_DIG), so its digits, trailing zeros of the
 * fraction trimmed, are the shortest that read back, written positionally. Formatting the
 * double again (printf and strtod, a quarter of the source's time) is skipped. Returns the
 * length of the text to write (the point dropped with an empty fraction), or 0 to format;
 * *point says whether that text has a point. */
static size_t float_text(const char *p, size_t len, bool *point)
{
    size_t i = 0, int_start, sig, frac, end;

    *point = false;
    if (!p || len == 0 || len > 40)
        return 0;
    if (p[i] == '-')
        i++;
    int_start = i;
    while (i < len && (unsigned)(p[i] - '0') <= 9)
        i++;
    if (i == int_start || (p[int_start] == '0' && i - int_start > 1))
        return 0;
    /* no leading zeros: the integer digits are all significant, or the integer part is 0 */
    bool int_zero = p[int_start] == '0';
    sig = int_zero ? 0 : i - int_start;
    if (i == len)
        return int_zero || sig > 15 ? 0 : len;
    if (p[i] != '.' || i + 1 == len)
        return 0;
    frac = ++i;
    while (i < len && (unsigned)(p[i] - '0') <= 9)
        i++;
    if (i != len)
        return 0;
    end = len;
    while (end > frac && p[end - 1] == '0')
        end--;
    if (int_zero) {
        size_t k = frac;
        while (k < end && p[k] == '0')
            k++;
        if (k == end || k - frac > 19) /* zero, or below 1e-20 */
            return 0;
        sig = end - k;
    } else {
        sig += end - frac;
    }
    if (sig > 15)
        return 0;
    if (end == frac)
        return frac - 1; /* no fraction left: drop the point */
    *point = true;
    return end;
}

/* Bit 7 of each byte of w that JSON escapes ('"', '\\', a control byte), exact as to whether
 * there is one (scan16.h: a borrow can only flag bytes above a true one). */
static inline uint64_t escaped_bytes(uint64_t w)
{
    return ifxi_scan_eq(w, '"') | ifxi_scan_eq(w, '\\') | ifxi_scan_lt(w, 0x20);
}

#ifdef IFXI_SCAN16_SSE2
/* 0xFF in each byte of v that JSON escapes: '"', '\\', or at most 0x1F (unsigned: bytes over 0x7F
 * go into a string as they are). */
static inline __m128i escaped16(__m128i v, __m128i quote, __m128i bslash, __m128i ctl)
{
    return _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                        _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v));
}
#endif

/* True when p[0..n) holds nothing JSON escapes: it goes into a string as it is. Eight bytes at a
 * time, the last word overlapping the one before (every name and string value of every row
 * passes here; byte by byte it was a third of the payload writer). Whether a byte is flagged
 * does not depend on the order of the bytes in the word. */
static inline bool plain(const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;

#ifdef IFXI_SCAN16_SSE2
    /* Over 8 bytes, 16 at a time in SSE2 lanes (the last block overlapping the one before, and
     * 9 to 15 bytes as two overlapping halves): most names and many values are 9 to 16 bytes,
     * two words of three SWAR tests each before. */
    if (n > 8) {
        const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                      ctl = _mm_set1_epi8(0x1F);
        __m128i m = _mm_setzero_si128(), v;
        size_t i = 0;
        for (; i + 16 < n; i += 16) {
            v = _mm_loadu_si128((const __m128i *)(const void *)(u + i));
            m = _mm_or_si128(m, escaped16(v, quote, bslash, ctl));
        }
        if (n >= 16)
            v = _mm_loadu_si128((const __m128i *)(const void *)(u + n - 16));
        else
            v = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(const void *)u),
                                   _mm_loadl_epi64((const __m128i *)(const void *)(u + n - 8)));
        m = _mm_or_si128(m, escaped16(v, quote, bslash, ctl));
        return _mm_movemask_epi8(m) == 0;
    }
#endif
    if (n >= 8) {
        uint64_t m = 0;
        for (size_t i = 0; i + 8 < n; i += 8)
            m |= escaped_bytes(ifxi_scan_word(u + i));
        return (m | escaped_bytes(ifxi_scan_word(u + n - 8))) == 0;
    }
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, u, 4);
        memcpy(&b, u + n - 4, 4);
        return escaped_bytes((uint64_t)a | (uint64_t)b << 32) == 0;
    }
    for (size_t i = 0; i < n; i++)
        if (u[i] < 0x20 || u[i] == '"' || u[i] == '\\')
            return false;
    return true;
}

/* A value's JSON text when it needs neither escaping nor formatting a double: p[0..n), quoted
 * when quote, ".0" after it when point (a float stays a float: 2.0, not 2, which a consumer would
 * read as an integer). That is every value but a string with bytes to escape and a double
 * without its own short text (see float_text). */
typedef struct simple_text {
    const char *p;
    size_t n;
    bool quote, point, zone; /* zone: a Z after the text, inside the quotes */
} simple_text;

/* The length of a time's own text without its zone, when the text is what
 * ifx_time_format_rfc3339 writes for the value less its Z: YYYY-MM-DDTHH:MM:SS, then a fraction
 * without trailing zeros if any, then Z or nothing (v3's zone-less form); 0 otherwise. The
 * reader parsed the value from this text, so its fields are valid and are the value's; the
 * forms that format differently (a lower-case t or z, a space, an offset, a fraction with
 * trailing zeros) are refused here. Formatting every time again was a twentieth of the source's
 * instructions. */
static size_t time_text(const char *p, size_t len)
{
    if (!p || len < 19)
        return 0;
    if (p[len - 1] == 'Z')
        len--;
    if (len != 19 && (len < 21 || len > 29))
        return 0;
    if (p[10] != 'T' || p[13] != ':' || p[16] != ':')
        return 0;
    uint64_t digits;
    if (len > 19 &&
        (p[len - 1] == '0' || !ifxi_time_fraction((const unsigned char *)p, len, &digits)))
        return 0; /* a fraction of 1 to 9 digits without trailing zeros, or none */
    return len;
}

#define SIMPLE_TMP (IFX_RFC3339_MAX > 24 ? IFX_RFC3339_MAX : 24)

/* Fills *t (tmp holds the digits or the time) and returns true, or returns false for a value
 * that needs the general writer (json_value). Inlined into its callers with put_simple: as a
 * call, its prologue and the simple_text it filled in memory cost a sixth of what it did. */
static inline __attribute__((always_inline)) bool simple_value(const ifx_value *v,
                                                               char tmp[SIMPLE_TMP], simple_text *t)
{
    char *end = tmp + SIMPLE_TMP;

    t->quote = t->point = t->zone = false;
    switch (v->type) {
    case IFX_VAL_NULL:
        t->p = "null", t->n = 4;
        return true;
    case IFX_VAL_BOOL:
        t->p = v->v.b ? "true" : "false", t->n = v->v.b ? 4 : 5;
        return true;
    case IFX_VAL_I64: {
        char *q = digits_back(v->v.i < 0 ? (uint64_t)0 - (uint64_t)v->v.i : (uint64_t)v->v.i, end);
        if (v->v.i < 0)
            *--q = '-';
        t->p = q, t->n = (size_t)(end - q);
        return true;
    }
    case IFX_VAL_U64:
        t->p = digits_back(v->v.u, end);
        t->n = (size_t)(end - t->p);
        return true;
    case IFX_VAL_F64: {
        bool has_point;
        if (!(t->n = float_text(v->text.p, v->text.len, &has_point)))
            return false;
        t->p = v->text.p;
        t->point = !has_point;
        return true;
    }
    case IFX_VAL_STRING:
        if (!plain(v->v.s.p, v->v.s.len))
            return false;
        t->p = v->v.s.p, t->n = v->v.s.len, t->quote = true;
        return true;
    case IFX_VAL_TIME:
        t->quote = true;
        if ((t->n = time_text(v->text.p, v->text.len))) {
            t->p = v->text.p, t->zone = true;
            return true;
        }
        t->n = ifx_time_format_rfc3339(v->v.i, tmp);
        t->p = tmp;
        return true;
    }
    return false;
}

/* The bytes put_simple writes for t. */
static size_t simple_len(const simple_text *t)
{
    return t->n + (t->quote ? 2 : 0) + (t->point ? 2 : 0) + (t->zone ? 1 : 0);
}

/* Writes t at w (simple_len bytes); returns the end. */
static inline __attribute__((always_inline)) char *put_simple(char *w, const simple_text *t)
{
    if (t->quote)
        *w++ = '"';
    ifxi_copy(w, t->p, t->n), w += t->n;
    if (t->zone)
        *w++ = 'Z';
    if (t->quote)
        *w++ = '"';
    if (t->point)
        *w++ = '.', *w++ = '0';
    return w;
}

static ifx_rc json_value(ifx_buf *b, const ifx_value *v)
{
    char tmp[IFX_LP_FLOAT_MAX + 2 > SIMPLE_TMP ? IFX_LP_FLOAT_MAX + 2 : SIMPLE_TMP];
    simple_text t;
    size_t n;
    ifx_rc rc;

    if (simple_value(v, tmp, &t)) {
        if ((rc = ifx_buf_reserve(b, simple_len(&t))))
            return rc;
        b->len = (size_t)(put_simple(b->data + b->len, &t) - b->data);
        b->data[b->len] = '\0';
        return IFX_OK;
    }
    if (v->type == IFX_VAL_STRING)
        return ifxi_json_append_string(b, v->v.s.p, v->v.s.len);
    /* A double without a short text of its own. JSON has no NaN or infinity. */
    if (!(n = ifxi_float_format_positional(v->v.f, tmp)))
        return ifx_buf_puts(b, "null");
    if (!memchr(tmp, '.', n))
        memcpy(tmp + n, ".0", 3), n += 2;
    return ifx_buf_append(b, tmp, n);
}

/* Feeds a value into both lanes of the identity hash: type and bytes, so that 1 and "1"
 * differ. */
static void hash_value(const ifx_value *v, uint64_t *h1, uint64_t *h2)
{
    uint8_t t = (uint8_t)v->type;
    ifxi_cursor_hash64x2(&t, 1, h1, h2);
    switch (v->type) {
    case IFX_VAL_STRING:
        ifxi_cursor_hash64x2(v->v.s.p, v->v.s.len, h1, h2);
        return;
    case IFX_VAL_BOOL:
        ifxi_cursor_hash64x2(&v->v.b, sizeof v->v.b, h1, h2);
        return;
    case IFX_VAL_F64:
        ifxi_cursor_hash64x2(&v->v.f, sizeof v->v.f, h1, h2);
        return;
    case IFX_VAL_NULL:
        return;
    default:
        ifxi_cursor_hash64x2(&v->v.i, sizeof v->v.i, h1, h2);
        return;
    }
}

void ifxi_source_rows_identity(const ifx_row *row, uint64_t *h1_out, uint64_t *h2_out)
{
    uint64_t h1 = 0x243F6A8885A308D3ULL, h2 = 0x13198A2E03707344ULL;
    if (row->measurement)
        ifxi_cursor_hash64x2(row->measurement, row->measurement_len, &h1, &h2);
    for (size_t i = 0; i < row->ncols; i++) {
        if (bookkeeping(&row->cols[i]))
            continue;
        ifxi_cursor_hash64x2(row->cols[i].name, row->cols[i].len, &h1, &h2);
        hash_value(&row->vals[i], &h1, &h2);
    }
    *h1_out = h1;
    *h2_out = h2;
}

/* Room for n more bytes: the common case (the arena has room ahead, see keep_row) without a
 * call. */
static inline ifx_rc room(ifx_buf *b, size_t n)
{
    return n < b->alloc - b->len ? IFX_OK : ifx_buf_reserve(b, n);
}

/* Appends one byte: ifx_buf_putc's append is a call and a reservation for the braces of every
 * payload. */
static inline ifx_rc put_byte(ifx_buf *b, char ch)
{
    ifx_rc rc = room(b, 1);
    if (rc)
        return rc;
    b->data[b->len++] = ch;
    b->data[b->len] = '\0';
    return IFX_OK;
}

/* One member of the payload object, ("," unless first) "name":value. The common member (a name
 * without escapes and a simple value) is written with one reservation; the rest by the general
 * writers. */
static ifx_rc member(ifx_buf *out, const ifx_column *col, const ifx_value *v, bool first)
{
    char tmp[SIMPLE_TMP];
    simple_text t;
    ifx_rc rc;

    if (plain(col->name, col->len) && simple_value(v, tmp, &t)) {
        /* ,"name": and the value */
        if ((rc = room(out, (first ? 0 : 1) + col->len + 3 + simple_len(&t))))
            return rc;
        char *w = out->data + out->len;
        if (!first)
            *w++ = ',';
        *w++ = '"';
        ifxi_copy(w, col->name, col->len), w += col->len;
        *w++ = '"', *w++ = ':';
        w = put_simple(w, &t);
        *w = '\0';
        out->len = (size_t)(w - out->data);
        return IFX_OK;
    }
    if ((!first && (rc = ifx_buf_putc(out, ','))) ||
        (rc = ifxi_json_append_string(out, col->name, col->len)) || (rc = ifx_buf_putc(out, ':')))
        return rc;
    return json_value(out, v);
}

ifx_rc ifxi_source_rows_payload(const ifx_config *c, const ifx_row *row, ifx_buf *out, ifx_err *err)
{
    size_t start = out->len;
    ifx_rc rc;

    if (c->payload_column) {
        long pc = ifx_row_find(row, c->payload_column);
        if (pc < 0)
            return ifx_err_set(err, IFX_E_INVALID, "a row has no column '%s' (payload_column)",
                               c->payload_column);
        const ifx_value *v = &row->vals[pc];
        switch (c->payload_format) {
        case IFX_PAYLOAD_TEXT:
            rc = v->type == IFX_VAL_STRING ? ifx_buf_append(out, v->v.s.p, v->v.s.len)
                                           : json_value(out, v);
            break;
        case IFX_PAYLOAD_BASE64:
            if (v->type != IFX_VAL_STRING)
                return ifx_err_set(err, IFX_E_INVALID,
                                   "payload_column '%s' must hold base64 text for payload_format "
                                   "\"raw\"",
                                   c->payload_column);
            if ((rc = ifxi_base64_decode(v->v.s.p, v->v.s.len, out, err)))
                return ifx_err_prefix(err, "payload_column '%s'", c->payload_column);
            break;
        default: /* json: a string column holds JSON text, any other value is its JSON */
            if (v->type == IFX_VAL_STRING) {
                if ((rc = ifxi_json_compact(v->v.s.p, v->v.s.len, out, err)))
                    return ifx_err_prefix(err, "payload_column '%s' is not JSON",
                                          c->payload_column);
            } else {
                rc = json_value(out, v);
            }
        }
    } else {
        bool first = true;
        rc = put_byte(out, '{');
        for (size_t i = 0; i < row->ncols && !rc; i++) {
            const ifx_column *col = &row->cols[i];
            /* result, table, _start and _stop describe the query, not the row (_stop is the
             * query's "now"): a re-delivered row must carry the same payload */
            if (bookkeeping(col))
                continue;
            if (!c->include_metadata && NAMED(col, "iox::measurement"))
                continue;
            if ((rc = member(out, col, &row->vals[i], first)))
                break;
            first = false;
        }
        if (!rc)
            rc = put_byte(out, '}');
    }
    if (rc)
        return ifx_err_set(err, rc,
                           rc == IFX_E_NOMEM ? "out of memory writing a row's payload"
                                             : "a row is too large");
    if (out->len == start)
        return ifx_err_set(err, IFX_E_INVALID,
                           "payload_column '%s' is empty in a row; Iggy refuses empty payloads",
                           c->payload_column);
    return IFX_OK;
}
