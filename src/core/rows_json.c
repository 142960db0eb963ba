/* ifx — query result readers for the JSON formats (see include/ifx/rows.h): v1 /query, v3 JSON
 * and JSONL. The dispatch is in rows.c, the CSV formats in rows_csv.c, what both use in
 * rows_common.c.
 *
 * Every JSON text is validated by ifxi_json_parse before it is walked with the iterators, so the
 * readers never see half a value and never recurse: nesting is bounded by IFX_JSON_MAX_DEPTH inside
 * the validator, and nested values become their compact text instead of being descended into.
 *
 * Strings that need unescaping go to the reader's scratch buffer. Before a row is read, the
 * scratch gets room for the row's whole span in the body: unescaping and compaction only ever
 * shrink text, so nothing in the row reallocates the buffer and the pointers handed out stay
 * valid through the callback.
 *
 * One exception to validating first: a v3 JSONL line that is a flat object of plain strings,
 * numbers and literals (v3_flat_row), and a streamed v1 row that is an array of as many plain
 * scalars as its series has columns (v1_flat_row), are read in one pass, and anything else is
 * handed to the validator; the fast paths take only text the validator accepts, and give the
 * same rows (test_v3_flat_fast_path, test_v1_flat_rows).
 *
 * Why one file of this size: the three JSON answers share the value decoders (json_value,
 * json_time, json_text), and 1.x JSON is read in two forms that must give the same rows: whole
 * (ifx_rows_read: each document validated before its rows go out) and streamed (a resumable walk
 * over the values, see "Reading query answers as they arrive" in docs/architecture.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/rows_formats.h"
#include "core/scan16.h"

/* ---- JSON values ---------------------------------------------------------------------------- */

/* One compare for the bytes that are not (every byte over the space, which is all of the
 * readers' structure and data): skip_ws runs a dozen times per row. */
static bool is_ws(char ch)
{
    unsigned char u = (unsigned char)ch;
    return u <= ' ' && (u == ' ' || u == '\t' || u == '\n' || u == '\r');
}

static size_t skip_ws(const char *b, size_t len, size_t i)
{
    while (i < len && is_ws(b[i]))
        i++;
    return i;
}

static size_t offset_of(const ifx_rows_ctx *c, const char *p)
{
    return (size_t)(p - c->body);
}

/* A JSON syntax error found by ifxi_json_parse on body[base..), restated for the whole body. */
static ifx_rc json_invalid(ifx_rows_ctx *c, size_t n, size_t base, const ifx_err *e)
{
    const char *m = e->msg, *colon;
    size_t at = base + (e->offset == IFX_NO_OFFSET ? 0 : e->offset);

    if (strncmp(m, "invalid JSON at byte ", 21) == 0 && (colon = strstr(m, ": ")) != NULL)
        m = colon + 2;
    return ifxi_rows_fail(c, n, at, "invalid JSON at byte %zu: %s", c->base + at, m);
}

/* The text of string value v: zero-copy when it has no escapes, else decoded into buf (which must
 * have room reserved, so the pointer stays valid). */
static ifx_rc json_text(ifx_rows_ctx *c, const ifx_json_val *v, ifx_buf *buf, const char **p,
                        size_t *len)
{
    size_t base = buf->len;
    ifx_err e;
    ifx_rc rc;

    if (!(v->flags & IFX_JSON_F_ESCAPED)) {
        *p = v->p + 1;
        *len = v->len - 2;
        return IFX_OK;
    }
    ifx_err_clear(&e);
    rc = ifxi_json_string_decode(v, buf, &e);
    if (rc == IFX_E_INVALID)
        return ifxi_rows_fail(c, 0, offset_of(c, v->p), "%s", e.msg);
    if (rc)
        return ifxi_rows_oom(c, rc);
    *p = buf->data + base;
    *len = buf->len - base;
    return IFX_OK;
}

/* One JSON value of a row, typed by JSON: integers I64 (U64 above INT64_MAX, F64 beyond either
 * range), other numbers F64, nested arrays and objects STRING holding their compact text. */
static ifx_rc json_value(ifx_rows_ctx *c, size_t n, const ifx_column *col, const ifx_json_val *v,
                         ifx_value *out)
{
    ifx_buf *sc = &c->r->scratch;
    char shown[48];
    size_t base;
    ifx_err e;
    ifx_rc rc;

    switch (v->type) {
    case IFX_JSON_STRING:
        out->type = IFX_VAL_STRING;
        return json_text(c, v, sc, &out->v.s.p, &out->v.s.len);
    case IFX_JSON_NUMBER:
        if (!(v->flags & IFX_JSON_F_FRAC)) {
            if (ifxi_json_get_i64(v, &out->v.i, NULL) == IFX_OK) {
                out->type = IFX_VAL_I64;
                return IFX_OK;
            }
            if (!(v->flags & IFX_JSON_F_NEG) && ifxi_json_get_u64(v, &out->v.u, NULL) == IFX_OK) {
                out->type = IFX_VAL_U64;
                return IFX_OK;
            }
        }
        if (ifxi_rows_fast_double(v->p, v->len, &out->v.f)) {
            out->type = IFX_VAL_F64;
            out->text.p = v->p;
            out->text.len = v->len;
            return IFX_OK;
        }
        ifx_err_clear(&e);
        rc = ifxi_json_get_double(v, &out->v.f, &e);
        if (rc == IFX_E_NOMEM)
            return ifxi_rows_oom(c, rc);
        if (rc)
            return ifxi_rows_fail(c, n, offset_of(c, v->p), "column \"%s\": %s",
                                  ifxi_rows_excerpt(col->name, col->len, shown, sizeof shown),
                                  e.msg);
        out->type = IFX_VAL_F64;
        out->text.p = v->p;
        out->text.len = v->len;
        return IFX_OK;
    case IFX_JSON_TRUE:
    case IFX_JSON_FALSE:
        out->type = IFX_VAL_BOOL;
        out->v.b = v->type == IFX_JSON_TRUE;
        return IFX_OK;
    case IFX_JSON_NULL:
        out->type = IFX_VAL_NULL;
        return IFX_OK;
    case IFX_JSON_OBJECT:
    case IFX_JSON_ARRAY:
        base = sc->len;
        rc = ifxi_json_compact(v->p, v->len, sc, NULL);
        if (rc == IFX_E_INVALID)
            return ifxi_rows_fail(c, n, offset_of(c, v->p), "column \"%s\": invalid nested JSON",
                                  ifxi_rows_excerpt(col->name, col->len, shown, sizeof shown));
        if (rc)
            return ifxi_rows_oom(c, rc);
        out->type = IFX_VAL_STRING;
        out->v.s.p = sc->data + base;
        out->v.s.len = sc->len - base;
        return IFX_OK;
    case IFX_JSON_NONE:
        break;
    }
    return ifxi_rows_fail(c, n, offset_of(c, v->p), "column \"%s\": no value",
                          ifxi_rows_excerpt(col->name, col->len, shown, sizeof shown));
}

/* The value of a column named "time": RFC 3339 (with or without a zone) or integer nanoseconds.
 * Anything else there is refused: the cursor of the source is built on it. */
static ifx_rc json_time(ifx_rows_ctx *c, size_t n, const ifx_json_val *v, ifx_value *out)
{
    char shown[48];
    const char *p = NULL;
    size_t len = 0;
    ifx_err e;
    ifx_rc rc;

    out->type = IFX_VAL_TIME;
    switch (v->type) {
    case IFX_JSON_NULL:
        out->type = IFX_VAL_NULL;
        return IFX_OK;
    case IFX_JSON_NUMBER:
        out->text.p = NULL;
        if (ifxi_json_get_i64(v, &out->v.i, NULL) == IFX_OK)
            return IFX_OK;
        return ifxi_rows_fail(c, n, offset_of(c, v->p),
                              "\"time\" value %s is not a timestamp (integer nanoseconds expected)",
                              ifxi_rows_excerpt(v->p, v->len, shown, sizeof shown));
    case IFX_JSON_STRING:
        rc = json_text(c, v, &c->r->scratch, &p, &len);
        if (rc)
            return rc;
        ifx_err_clear(&e);
        out->text.p = p;
        out->text.len = len;
        if (ifxi_rows_parse_time(p, len, &out->v.i, &e, &c->pv->v3_minute) == IFX_OK)
            return IFX_OK;
        return ifxi_rows_fail(c, n, offset_of(c, v->p), "\"time\" value is not a timestamp: %s",
                              e.msg);
    default:
        break;
    }
    return ifxi_rows_fail(c, n, offset_of(c, v->p), "\"time\" value %s is not a timestamp",
                          ifxi_rows_excerpt(v->p, v->len, shown, sizeof shown));
}

/* One member of v3 row n (its name already in col) converted into val: "time" as a timestamp,
 * anything else by its JSON type; a string "iox::measurement" names the row's measurement. The
 * general path and the one-pass reader of flat rows both convert with it. */
static inline ifx_rc v3_member(ifx_rows_ctx *c, size_t n, ifx_row *row, const ifx_column *col,
                               const ifx_json_val *v, ifx_value *val)
{
    ifx_rc rc = ifx_rows_eq(col->name, col->len, "time") ? json_time(c, n, v, val)
                                                         : json_value(c, n, col, v, val);
    if (rc == IFX_OK && val->type == IFX_VAL_STRING &&
        ifx_rows_eq(col->name, col->len, "iox::measurement")) {
        row->measurement = val->v.s.p;
        row->measurement_len = val->v.s.len;
    }
    return rc;
}

/* ---- v3 JSONL and JSON: one object per row ------------------------------------------------- */

static ifx_rc v3_object_row(ifx_rows_ctx *c, size_t n, const ifx_json_val *obj)
{
    ifx_rows_reader *r = c->r;
    ifx_row row = {0};
    ifx_json_iter it;
    ifx_json_val k, v;
    size_t i = 0;
    ifx_rc rc;

    ifx_buf_reset(&r->scratch);
    rc = ifx_buf_reserve(&r->scratch, obj->len);
    if (rc)
        return ifxi_rows_oom(c, rc);
    ifxi_json_iter_init(&it, obj);
    while (ifxi_json_object_next(&it, &k, &v)) {
        ifx_column *col;
        ifx_value *val;

        if (i == r->cap_cols && (rc = ifxi_rows_ensure_cols(c, i + 1)) != IFX_OK)
            return rc;
        col = &r->cols[i];
        val = &r->vals[i];
        rc = json_text(c, &k, &r->scratch, &col->name, &col->len);
        if (rc || (rc = v3_member(c, n, &row, col, &v, val)))
            return rc;
        i++;
    }
    row.ncols = i;
    row.cols = r->cols;
    row.vals = r->vals;
    return ifxi_rows_deliver(c, &row);
}

/* ---- v3 JSONL: the one-pass reader of flat rows --------------------------------------------- */

/* Members a flat row may have for the one-pass reader; wider rows take the general path. */
#define FLAT_MAX 64

/* The end of the plain string whose opening quote is at b[i] (the index after its closing
 * quote), or 0 when it holds a backslash, a control byte or a byte over 0x7F (the general path
 * then decodes or checks it) or is not closed in b[0..n). b[0..lim) may be read (lim >= n): a v3
 * line is followed by the rest of the window, so its strings are scanned 16 bytes at a time to
 * their ends, and a stop found at or past n means the string is not closed in the line. The byte
 * loop is left for the last bytes of the window (it was a fifth of the v3 reader). */
static size_t flat_string(const char *b, size_t n, size_t lim, size_t i)
{
    const unsigned char *u = (const unsigned char *)b;
    bool quote;

    i++;
    while (lim - i >= 16) {
        unsigned k = ifxi_scan16_json_q(u + i, &quote);
        if (k < 16)
            return quote && i + k < n ? i + k + 1 : 0;
        i += 16;
        if (i >= n)
            return 0;
    }
    for (; i < n; i++) {
        if (u[i] == '"')
            return i + 1;
        if (u[i] < 0x20 || u[i] == '\\' || u[i] >= 0x80)
            return 0;
    }
    return 0;
}

static bool is_digit_byte(char ch)
{
    return (unsigned)(ch - '0') <= 9;
}

/* A number's value, found while the flat readers scan it, when it is the one json_value would
 * give by reading the text again: an integer of at most 18 digits (I64, as ifxi_json_get_i64
 * reads it), or a decimal without an exponent that ifxi_rows_fast_double takes (F64, by the
 * same m and division). type IFX_VAL_NULL: none, json_value reads the number. Reading every
 * number twice (scan, then convert) was a twelfth of the v3 and v1 readers' rows. */
typedef struct flat_num {
    ifx_value_type type;
    int64_t i;
    double f;
} flat_num;

/* The end of the JSON number at b[i], with its flags, as the validator reads it; 0 when it is
 * not one. *num: its value, see flat_num. */
static size_t flat_number(const char *b, size_t n, size_t i, unsigned *flags, flat_num *num)
{
    uint64_t m = 0; /* every digit, in order: it wraps past 19 digits, and is not used then */
    size_t nint, nfrac = 0, start;
    bool neg = false, exp = false;

    *flags = 0;
    num->type = IFX_VAL_NULL;
    if (b[i] == '-') {
        *flags |= IFX_JSON_F_NEG;
        neg = true;
        i++;
    }
    if (i >= n || !is_digit_byte(b[i]))
        return 0;
    start = i;
    if (b[i] == '0') {
        if (++i < n && is_digit_byte(b[i]))
            return 0;
    } else {
        while (i < n && is_digit_byte(b[i]))
            m = m * 10 + (uint64_t)(b[i++] - '0');
    }
    nint = i - start;
    if (i < n && b[i] == '.') {
        *flags |= IFX_JSON_F_FRAC;
        if (++i >= n || !is_digit_byte(b[i]))
            return 0;
        start = i;
        while (i < n && is_digit_byte(b[i]))
            m = m * 10 + (uint64_t)(b[i++] - '0');
        nfrac = i - start;
    }
    if (i < n && (b[i] | 0x20) == 'e') {
        *flags |= IFX_JSON_F_FRAC;
        exp = true;
        if (++i < n && (b[i] == '+' || b[i] == '-'))
            i++;
        if (i >= n || !is_digit_byte(b[i]))
            return 0;
        while (i < n && is_digit_byte(b[i]))
            i++;
    }
    if (exp || nint + nfrac > 19)
        return i;
    if (nfrac == 0 && nint <= 18) {
        num->type = IFX_VAL_I64;
        num->i = neg ? -(int64_t)m : (int64_t)m;
    } else if (nfrac > 0 && nfrac <= 22 && m < 1000000000000000ULL) {
        num->type = IFX_VAL_F64;
        num->f = ifxi_rows_decimal(m, (unsigned)nfrac, neg);
    }
    return i;
}

/* val from num (a number's value found by flat_number) where there is one: true; false for
 * json_value to convert v. Sets what json_value sets. */
static inline bool flat_convert(const flat_num *num, const ifx_json_val *v, ifx_value *val)
{
    switch (num->type) {
    case IFX_VAL_I64:
        val->type = IFX_VAL_I64;
        val->v.i = num->i;
        return true;
    case IFX_VAL_F64:
        val->type = IFX_VAL_F64;
        val->v.f = num->f;
        val->text.p = v->p;
        val->text.len = v->len;
        return true;
    default:
        return false;
    }
}

/* The scalar value at b[i] (i < n): *v set as the validator sets it, and the index past it; 0
 * for anything but a plain string, a number, true, false or null (or one cut by n). b[0..lim)
 * may be read (see flat_string). *num: a number's value, see flat_num. */
static size_t flat_value(const char *b, size_t n, size_t lim, size_t i, ifx_json_val *v,
                         flat_num *num)
{
    size_t end;

    v->flags = 0;
    num->type = IFX_VAL_NULL;
    v->p = b + i;
    switch (b[i]) {
    case '"':
        v->type = IFX_JSON_STRING;
        end = flat_string(b, n, lim, i);
        break;
    case 't':
        v->type = IFX_JSON_TRUE;
        end = n - i >= 4 && memcmp(b + i, "true", 4) == 0 ? i + 4 : 0;
        break;
    case 'f':
        v->type = IFX_JSON_FALSE;
        end = n - i >= 5 && memcmp(b + i, "false", 5) == 0 ? i + 5 : 0;
        break;
    case 'n':
        v->type = IFX_JSON_NULL;
        end = n - i >= 4 && memcmp(b + i, "null", 4) == 0 ? i + 4 : 0;
        break;
    default:
        v->type = IFX_JSON_NUMBER;
        end = flat_number(b, n, i, &v->flags, num);
        break;
    }
    if (end)
        v->len = end - i;
    return end;
}

/* The line b[0..n) as a flat object, read in one pass: *taken false (nothing done) unless it is
 * {"key":value,...} with optional whitespace, plain strings (see flat_string), numbers, true,
 * false and null; then the row is built from the spans as v3_object_row builds it from the
 * validator's, and handed over. The whole line is read before any value is converted, so a value
 * error comes only from a line the validator accepts, as on the general path. b[0..lim) may be
 * read: the line and the rest of the window after it. */
static ifx_rc v3_flat_row(ifx_rows_ctx *c, size_t line, const char *b, size_t n, size_t lim,
                          bool *taken)
{
    ifx_json_val keys[FLAT_MAX], vals[FLAT_MAX];
    flat_num nums[FLAT_MAX];
    size_t m = 0, i = skip_ws(b, n, 0), end;
    ifx_rows_reader *r = c->r;
    ifx_row row = {0};
    ifx_rc rc;

    *taken = false;
    if (i >= n || b[i] != '{')
        return IFX_OK;
    i = skip_ws(b, n, i + 1);
    if (i < n && b[i] == '}') {
        i++;
    } else {
        for (;;) {
            if (m == FLAT_MAX || i >= n || b[i] != '"' || !(end = flat_string(b, n, lim, i)))
                return IFX_OK;
            keys[m] = (ifx_json_val){.type = IFX_JSON_STRING, .p = b + i, .len = end - i};
            i = skip_ws(b, n, end);
            if (i >= n || b[i] != ':')
                return IFX_OK;
            i = skip_ws(b, n, i + 1);
            if (i >= n)
                return IFX_OK;
            if (!(end = flat_value(b, n, lim, i, &vals[m], &nums[m])))
                return IFX_OK;
            m++;
            i = skip_ws(b, n, end);
            if (i < n && b[i] == ',') {
                i = skip_ws(b, n, i + 1);
                continue;
            }
            if (i < n && b[i] == '}') {
                i++;
                break;
            }
            return IFX_OK;
        }
    }
    if (skip_ws(b, n, i) != n)
        return IFX_OK;
    *taken = true;
    ifx_buf_reset(&r->scratch);
    if ((rc = ifx_buf_reserve(&r->scratch, n)))
        return ifxi_rows_oom(c, rc);
    if (m > r->cap_cols && (rc = ifxi_rows_ensure_cols(c, m)) != IFX_OK)
        return rc;
    for (size_t k = 0; k < m; k++) {
        ifx_column *col = &r->cols[k];
        col->name = keys[k].p + 1;
        col->len = keys[k].len - 2;
        /* "time" is read by json_time whatever its type */
        if (nums[k].type != IFX_VAL_NULL && !ifx_rows_eq(col->name, col->len, "time") &&
            flat_convert(&nums[k], &vals[k], &r->vals[k]))
            continue;
        if ((rc = v3_member(c, line, &row, col, &vals[k], &r->vals[k])))
            return rc;
    }
    row.ncols = m;
    row.cols = r->cols;
    row.vals = r->vals;
    return ifxi_rows_deliver(c, &row);
}

ifx_rc ifxi_rows_read_v3_jsonl(ifx_rows_ctx *c)
{
    ifx_rows_priv *pv = c->pv;
    size_t pos = 0;
    ifx_rc rc;

    if (!pv->started) {
        pv->line = 0;
        pv->started = true;
    }
    while (pos < c->len) {
        const char *b = c->body + pos;
        const char *nl = memchr(b, '\n', c->len - pos);
        size_t n = nl ? (size_t)(nl - b) : c->len - pos;
        ifx_json_val obj;
        ifx_err e;

        if (!nl && c->more)
            break; /* the rest of the line is still to come */
        size_t line = ++pv->line;
        bool taken;
        if ((rc = v3_flat_row(c, line, b, n, c->len - pos, &taken)))
            return rc;
        if (!taken && skip_ws(b, n, 0) < n) {
            ifx_err_clear(&e);
            if (ifxi_json_parse(b, n, &obj, &e) != IFX_OK) {
                /* Every row the server writes ends with '\n'; without one, the body was cut. */
                if (!nl)
                    return ifxi_rows_truncated(c, line, c->len);
                return json_invalid(c, line, pos, &e);
            }
            if (obj.type != IFX_JSON_OBJECT)
                return ifxi_rows_fail(c, line, offset_of(c, obj.p),
                                      "expected a JSON object, found %s",
                                      ifxi_json_type_name(obj.type));
            rc = v3_object_row(c, line, &obj);
            if (rc)
                return rc;
        }
        pos += n + (nl != NULL);
    }
    c->consumed = pos;
    return IFX_OK;
}

ifx_rc ifxi_rows_read_v3_json(ifx_rows_ctx *c)
{
    ifx_json_val top, el;
    ifx_json_iter it;
    size_t n = 0;
    ifx_err e;
    ifx_rc rc;

    if (skip_ws(c->body, c->len, 0) == c->len)
        return ifxi_rows_fail(c, 0, c->len,
                              "the answer is empty (an empty result is []); the server may have "
                              "failed while streaming");
    ifx_err_clear(&e);
    if (ifxi_json_parse(c->body, c->len, &top, &e) != IFX_OK) {
        if (e.offset != IFX_NO_OFFSET && e.offset >= c->len)
            return ifxi_rows_truncated(c, 0, c->len);
        return json_invalid(c, 0, 0, &e);
    }
    if (top.type != IFX_JSON_ARRAY)
        return ifxi_rows_fail(c, 0, offset_of(c, top.p), "expected a JSON array of rows, found %s",
                              ifxi_json_type_name(top.type));
    ifxi_json_iter_init(&it, &top);
    while (ifxi_json_array_next(&it, &el)) {
        n++;
        if (el.type != IFX_JSON_OBJECT)
            return ifxi_rows_fail(c, n, offset_of(c, el.p), "expected a JSON object, found %s",
                                  ifxi_json_type_name(el.type));
        rc = v3_object_row(c, n, &el);
        if (rc)
            return rc;
    }
    return IFX_OK;
}

/* ---- v1 /query JSON ------------------------------------------------------------------------- */

/* A server-reported error: IFX_E_REJECTED with the server's text, kept on one line. */
static ifx_rc v1_rejected(ifx_rows_ctx *c, const ifx_json_val *v)
{
    ifx_buf *sc = &c->r->scratch;
    const char *p;
    size_t len, i;
    ifx_rc rc;

    ifx_buf_reset(sc);
    rc = ifx_buf_reserve(sc, v->len);
    if (rc)
        return ifxi_rows_oom(c, rc);
    if (v->type == IFX_JSON_STRING) {
        rc = json_text(c, v, sc, &p, &len);
        if (rc)
            return rc;
    } else {
        p = v->p;
        len = v->len;
    }
    if (len > sizeof c->err->msg - 1)
        len = sizeof c->err->msg - 1;
    ifx_err_set_at(c->err, IFX_E_REJECTED, offset_of(c, v->p), "%s", "");
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)p[i];
        c->err->msg[i] = ch < 0x20 || ch == 0x7F ? ' ' : (char)ch;
    }
    c->err->msg[len] = '\0';
    if (len == 0)
        snprintf(c->err->msg, sizeof c->err->msg, "%s: the server reported an empty error",
                 c->what);
    return IFX_E_REJECTED;
}

static size_t count_elements(const ifx_json_val *v)
{
    ifx_json_iter it;
    ifx_json_val k, e;
    size_t n = 0;

    ifxi_json_iter_init(&it, v);
    if (v->type == IFX_JSON_OBJECT) {
        while (ifxi_json_object_next(&it, &k, &e))
            n++;
    } else {
        while (ifxi_json_array_next(&it, &e))
            n++;
    }
    return n;
}

/* A series' header: checks its shape, and sets the reader's columns, the tags' values and the
 * measurement (in keep, for the whole series) into pv->v1. *has_values is false for a series
 * without rows. values is read from s; only its type matters here. */
static ifx_rc v1_series_head(ifx_rows_ctx *c, const ifx_json_val *s, int64_t index,
                             bool *has_values)
{
    ifx_rows_reader *r = c->r;
    ifx_buf *keep = &c->pv->keep;
    ifx_json_val name = {0}, tags = {0}, columns = {0}, values = {0}, k, v;
    ifx_json_iter it;
    ifx_row row = {0};
    size_t ncolumns, ntags, i;
    long time_col = -1;
    char shown[48];
    ifx_rc rc;

    ifxi_json_iter_init(&it, s);
    while (ifxi_json_object_next(&it, &k, &v)) {
        if (ifxi_json_string_eq(&k, "name"))
            name = v;
        else if (ifxi_json_string_eq(&k, "tags"))
            tags = v;
        else if (ifxi_json_string_eq(&k, "columns"))
            columns = v;
        else if (ifxi_json_string_eq(&k, "values"))
            values = v;
    }
    *has_values = false;
    if (values.type == IFX_JSON_NONE || values.type == IFX_JSON_NULL)
        return IFX_OK;
    if (values.type != IFX_JSON_ARRAY)
        return ifxi_rows_fail(c, 0, offset_of(c, values.p),
                              "\"values\" of a series is %s, not an array",
                              ifxi_json_type_name(values.type));
    if (columns.type != IFX_JSON_ARRAY)
        return ifxi_rows_fail(c, 0, columns.p ? offset_of(c, columns.p) : offset_of(c, s->p),
                              "a series with \"values\" has no \"columns\" array");
    if (name.type != IFX_JSON_NONE && name.type != IFX_JSON_NULL && name.type != IFX_JSON_STRING)
        return ifxi_rows_fail(c, 0, offset_of(c, name.p), "the series \"name\" is %s, not a string",
                              ifxi_json_type_name(name.type));
    if (tags.type != IFX_JSON_NONE && tags.type != IFX_JSON_NULL && tags.type != IFX_JSON_OBJECT)
        return ifxi_rows_fail(c, 0, offset_of(c, tags.p),
                              "the series \"tags\" are %s, not an object",
                              ifxi_json_type_name(tags.type));

    ncolumns = count_elements(&columns);
    ntags = tags.type == IFX_JSON_OBJECT ? count_elements(&tags) : 0;
    rc = ifxi_rows_ensure_cols(c, ncolumns + ntags);
    if (rc)
        return rc;
    /* Names, tags and the measurement live in keep for the whole series. */
    ifx_buf_reset(keep);
    rc = ifx_buf_reserve(keep, name.len + tags.len + columns.len);
    if (rc)
        return ifxi_rows_oom(c, rc);
    if (name.type == IFX_JSON_STRING) {
        rc = json_text(c, &name, keep, &row.measurement, &row.measurement_len);
        if (rc)
            return rc;
    }
    ifxi_json_iter_init(&it, &columns);
    for (i = 0; ifxi_json_array_next(&it, &v); i++) {
        ifx_column *col = &r->cols[i];
        if (v.type != IFX_JSON_STRING)
            return ifxi_rows_fail(c, 0, offset_of(c, v.p), "a column name is %s, not a string",
                                  ifxi_json_type_name(v.type));
        rc = json_text(c, &v, keep, &col->name, &col->len);
        if (rc)
            return rc;
        if (time_col < 0 && ifx_rows_eq(col->name, col->len, "time"))
            time_col = (long)i;
    }
    if (ntags) {
        ifxi_json_iter_init(&it, &tags);
        for (i = ncolumns; ifxi_json_object_next(&it, &k, &v); i++) {
            ifx_column *col = &r->cols[i];
            ifx_value *val = &r->vals[i];
            rc = json_text(c, &k, keep, &col->name, &col->len);
            if (rc)
                return rc;
            /* Tag values cannot be empty in InfluxDB: "" is how a series without the tag, or a
             * null tag on v3, is rendered. */
            val->type = IFX_VAL_NULL;
            if (v.type == IFX_JSON_STRING) {
                val->type = IFX_VAL_STRING;
                rc = json_text(c, &v, keep, &val->v.s.p, &val->v.s.len);
                if (rc)
                    return rc;
                if (val->v.s.len == 0)
                    val->type = IFX_VAL_NULL;
            } else if (v.type != IFX_JSON_NULL) {
                return ifxi_rows_fail(c, 0, offset_of(c, v.p), "tag \"%s\" is %s, not a string",
                                      ifxi_rows_excerpt(col->name, col->len, shown, sizeof shown),
                                      ifxi_json_type_name(v.type));
            }
        }
    }

    row.ncols = ncolumns + ntags;
    row.cols = r->cols;
    row.vals = r->vals;
    row.table = index;
    c->pv->v1_row = row;
    c->pv->v1_ncolumns = ncolumns;
    c->pv->v1_time_col = time_col;
    *has_values = true;
    return IFX_OK;
}

/* Value k of a v1 row converted: the time column as a timestamp, the others by JSON type. */
static ifx_rc v1_cell(ifx_rows_ctx *c, size_t k, const ifx_json_val *v)
{
    ifx_rows_reader *r = c->r;
    return (long)k == c->pv->v1_time_col ? json_time(c, 0, v, &r->vals[k])
                                         : json_value(c, 0, &r->cols[k], v, &r->vals[k]);
}

/* Hands over the v1 row whose values v1_cell converted. */
static ifx_rc v1_deliver(ifx_rows_ctx *c)
{
    c->pv->v1_row.cols = c->r->cols;
    c->pv->v1_row.vals = c->r->vals;
    return ifxi_rows_deliver(c, &c->pv->v1_row);
}

/* One row of "values" of the series whose head was read last. */
static ifx_rc v1_series_row(ifx_rows_ctx *c, const ifx_json_val *rowv)
{
    ifx_rows_reader *r = c->r;
    const size_t ncolumns = c->pv->v1_ncolumns;
    ifx_json_iter it;
    ifx_json_val v;
    size_t i;
    ifx_rc rc;

    if (rowv->type != IFX_JSON_ARRAY)
        return ifxi_rows_fail(c, 0, offset_of(c, rowv->p),
                              "a row of \"values\" is %s, not an array",
                              ifxi_json_type_name(rowv->type));
    ifx_buf_reset(&r->scratch);
    rc = ifx_buf_reserve(&r->scratch, rowv->len);
    if (rc)
        return ifxi_rows_oom(c, rc);
    ifxi_json_iter_init(&it, rowv);
    for (i = 0; ifxi_json_array_next(&it, &v); i++) {
        if (i == ncolumns)
            return ifxi_rows_fail(c, 0, offset_of(c, v.p),
                                  "a row has more values than the %zu \"columns\"", ncolumns);
        if ((rc = v1_cell(c, i, &v)))
            return rc;
    }
    if (i != ncolumns)
        return ifxi_rows_fail(c, 0, offset_of(c, rowv->p),
                              "a row has %zu values, but \"columns\" names %zu", i, ncolumns);
    return v1_deliver(c);
}

/* A row of "values" at body[i] ('[') read in one pass, as v3_flat_row reads a line: *taken
 * false (nothing done) unless it is an array of as many plain scalars (see flat_value) as the
 * series has columns, whole in the window; then the row is converted as v1_series_row converts
 * the validator's, handed over, and *end is past its ']'. Anything else (a nested value, an
 * escape, a count that does not match, a row the window cuts) takes the general path, which
 * words the errors. */
static ifx_rc v1_flat_row(ifx_rows_ctx *c, size_t i, size_t *end, bool *taken)
{
    const char *b = c->body;
    const size_t n = c->len, ncolumns = c->pv->v1_ncolumns;
    ifx_json_val vals[FLAT_MAX];
    flat_num nums[FLAT_MAX];
    ifx_rows_reader *r = c->r;
    size_t m = 0, at, start = i;
    ifx_rc rc;

    *taken = false;
    if (ncolumns > FLAT_MAX || ncolumns == 0)
        return IFX_OK;
    i = skip_ws(b, n, i + 1);
    for (;;) {
        if (m == ncolumns || i >= n || !(at = flat_value(b, n, n, i, &vals[m], &nums[m])))
            return IFX_OK;
        m++;
        i = skip_ws(b, n, at);
        if (i < n && b[i] == ',') {
            i = skip_ws(b, n, i + 1);
            continue;
        }
        if (i < n && b[i] == ']' && m == ncolumns)
            break;
        return IFX_OK;
    }
    *taken = true;
    *end = i + 1;
    ifx_buf_reset(&r->scratch);
    if ((rc = ifx_buf_reserve(&r->scratch, *end - start)))
        return ifxi_rows_oom(c, rc);
    for (size_t k = 0; k < m; k++) {
        /* the time column is read by json_time whatever its type */
        if ((long)k != c->pv->v1_time_col && flat_convert(&nums[k], &vals[k], &r->vals[k]))
            continue;
        if ((rc = v1_cell(c, k, &vals[k])))
            return rc;
    }
    return v1_deliver(c);
}

static ifx_rc v1_series(ifx_rows_ctx *c, const ifx_json_val *s, int64_t index)
{
    ifx_json_val k, v, values = {0};
    ifx_json_iter it;
    bool has_values;
    ifx_rc rc;

    if ((rc = v1_series_head(c, s, index, &has_values)) || !has_values)
        return rc;
    ifxi_json_iter_init(&it, s);
    while (ifxi_json_object_next(&it, &k, &v))
        if (ifxi_json_string_eq(&k, "values"))
            values = v;
    ifxi_json_iter_init(&it, &values);
    while (ifxi_json_array_next(&it, &v))
        if ((rc = v1_series_row(c, &v)))
            return rc;
    return IFX_OK;
}

static ifx_rc v1_document(ifx_rows_ctx *c, const ifx_json_val *doc, int64_t *series)
{
    ifx_json_val results = {0}, error = {0}, k, v, res, s;
    ifx_json_iter it, rit, sit;
    ifx_rc rc;

    if (doc->type != IFX_JSON_OBJECT)
        return ifxi_rows_fail(c, 0, offset_of(c, doc->p), "expected a JSON object, found %s",
                              ifxi_json_type_name(doc->type));
    ifxi_json_iter_init(&it, doc);
    while (ifxi_json_object_next(&it, &k, &v)) {
        if (ifxi_json_string_eq(&k, "results"))
            results = v;
        else if (ifxi_json_string_eq(&k, "error"))
            error = v;
    }
    if (error.type != IFX_JSON_NONE && error.type != IFX_JSON_NULL)
        return v1_rejected(c, &error);
    if (results.type != IFX_JSON_ARRAY)
        return ifxi_rows_fail(c, 0, results.p ? offset_of(c, results.p) : offset_of(c, doc->p),
                              "expected a \"results\" array");
    ifxi_json_iter_init(&rit, &results);
    while (ifxi_json_array_next(&rit, &res)) {
        ifx_json_val rs = {0}, rerr = {0};
        if (res.type != IFX_JSON_OBJECT)
            return ifxi_rows_fail(c, 0, offset_of(c, res.p), "a result is %s, not an object",
                                  ifxi_json_type_name(res.type));
        ifxi_json_iter_init(&it, &res);
        while (ifxi_json_object_next(&it, &k, &v)) {
            if (ifxi_json_string_eq(&k, "series"))
                rs = v;
            else if (ifxi_json_string_eq(&k, "error"))
                rerr = v;
        }
        /* A failed statement: whatever series it may carry are not to be trusted. */
        if (rerr.type != IFX_JSON_NONE && rerr.type != IFX_JSON_NULL)
            return v1_rejected(c, &rerr);
        if (rs.type == IFX_JSON_NONE || rs.type == IFX_JSON_NULL)
            continue;
        if (rs.type != IFX_JSON_ARRAY)
            return ifxi_rows_fail(c, 0, offset_of(c, rs.p), "\"series\" is %s, not an array",
                                  ifxi_json_type_name(rs.type));
        ifxi_json_iter_init(&sit, &rs);
        while (ifxi_json_array_next(&sit, &s)) {
            if (s.type != IFX_JSON_OBJECT)
                return ifxi_rows_fail(c, 0, offset_of(c, s.p), "a series is %s, not an object",
                                      ifxi_json_type_name(s.type));
            rc = v1_series(c, &s, (*series)++);
            if (rc)
                return rc;
        }
    }
    return IFX_OK;
}

/* ---- v1 streaming: value by value ---------------------------------------------------------- */

/* Where the streaming v1 reader stands: the level it is in, and within it whether a value, a
 * ',' or the end comes next. A series' head (the keys before "values", "columns" among them) is
 * read at once, pinned until "values" starts, and then its rows one by one; a series without
 * that shape is read whole. Keys after "values" are skipped. */
enum { L_TOP, L_DOC, L_RESULTS, L_RESULT, L_SERIES, L_VALUES, L_SERIES_TAIL };
enum { P_FIRST, P_NEXT, P_AFTER_COMMA }; /* after the opening bracket, after a value, after ',' */

/* Just past the JSON value that starts at b[i] (not validated: ifxi_json_parse does that).
 * false when the window ends first: a scalar at the very end of the last window ends there. */
static bool value_end(const char *b, size_t len, size_t i, bool more, size_t *end)
{
    size_t depth = 0;

    if (b[i] != '[' && b[i] != '{' && b[i] != '"') {
        while (i < len && b[i] != ',' && b[i] != ']' && b[i] != '}' && !is_ws(b[i]))
            i++;
        if (i == len && more)
            return false;
        *end = i;
        return true;
    }
    while (i < len) {
        char ch = b[i];
        if (ch == '"') {
            for (i++;; i++) {
                const char *q = memchr(b + i, '"', len - i);
                if (!q)
                    return false;
                /* a quote after an odd number of backslashes is escaped */
                size_t qi = (size_t)(q - b), bs = 0;
                while (qi - bs > i && b[qi - bs - 1] == '\\')
                    bs++;
                i = qi;
                if (bs % 2 == 0)
                    break;
            }
            i++;
            if (depth == 0) {
                *end = i;
                return true;
            }
            continue;
        }
        if (ch == '[' || ch == '{')
            depth++;
        else if ((ch == ']' || ch == '}') && --depth == 0) {
            *end = i + 1;
            return true;
        }
        i++;
    }
    return false;
}

static ifx_rc v1_syntax(ifx_rows_ctx *c, size_t at, const char *what)
{
    return ifxi_rows_fail(c, 0, at, "invalid JSON at byte %zu: %s", c->base + at, what);
}

/* The complete value at b[i]: validated into *v, *end just past it. IFX_E_AGAIN-like: returns
 * 1 when the window ends first. */
static int v1_value(ifx_rows_ctx *c, size_t i, ifx_json_val *v, size_t *end, ifx_rc *rc)
{
    ifx_err e;

    if (!value_end(c->body, c->len, i, c->more, end))
        return 1;
    ifx_err_clear(&e);
    if (ifxi_json_parse(c->body + i, *end - i, v, &e) != IFX_OK) {
        *rc = json_invalid(c, 0, i, &e);
        return -1;
    }
    return 0;
}

/* A key at b[i] ('"'), its ':' and the first byte of its value: *key (validated), *val_at. */
static int v1_key(ifx_rows_ctx *c, size_t i, ifx_json_val *key, size_t *val_at, ifx_rc *rc)
{
    size_t end;
    int k = v1_value(c, i, key, &end, rc);
    if (k)
        return k;
    end = skip_ws(c->body, c->len, end);
    if (end == c->len)
        return 1;
    if (c->body[end] != ':') {
        *rc = v1_syntax(c, end, "expected ':' after an object key");
        return -1;
    }
    end = skip_ws(c->body, c->len, end + 1);
    if (end == c->len)
        return 1;
    *val_at = end;
    return 0;
}

/* A series whose rows do not fit the window: its keys up to "values": [ are read now (the
 * head), copied and closed as "...[]}" so that v1_series_head reads them as it reads a whole
 * series. 1: the window ends first; 2: the series has no such "values" (read it whole). */
static int v1_stream_head(ifx_rows_ctx *c, size_t at, size_t *rows_at, ifx_rc *rc)
{
    ifx_rows_priv *pv = c->pv;
    size_t i = at + 1, val_at = 0, end = 0;
    bool columns = false;
    ifx_json_val k, v;

    for (;;) {
        i = skip_ws(c->body, c->len, i);
        if (i == c->len)
            return 1;
        if (c->body[i] != '"')
            return 2; /* '}' or bad text: whole, where the validator words it */
        int r = v1_key(c, i, &k, &val_at, rc);
        if (r)
            return r;
        if (ifxi_json_string_eq(&k, "values")) {
            if (c->body[val_at] != '[' || !columns)
                return 2;
            break;
        }
        if (ifxi_json_string_eq(&k, "columns"))
            columns = true;
        if ((r = v1_value(c, val_at, &v, &end, rc)))
            return r;
        i = skip_ws(c->body, c->len, end);
        if (i == c->len)
            return 1;
        if (c->body[i] == ',')
            i++;
        else
            return 2;
    }
    ifx_buf_reset(&pv->v1_head);
    if (ifx_buf_append(&pv->v1_head, c->body + at, val_at + 1 - at) ||
        ifx_buf_append(&pv->v1_head, "]}", 2)) {
        *rc = ifxi_rows_oom(c, IFX_E_NOMEM);
        return -1;
    }
    /* read the head as if the body were the copy, at the series' place in the answer */
    const char *body = c->body;
    size_t len = c->len, base = c->base;
    ifx_json_val s;
    ifx_err e;
    bool has_values;
    c->body = pv->v1_head.data;
    c->len = pv->v1_head.len;
    c->base = base + at;
    ifx_err_clear(&e);
    if (ifxi_json_parse(c->body, c->len, &s, &e) != IFX_OK)
        *rc = json_invalid(c, 0, 0, &e);
    else
        *rc = v1_series_head(c, &s, pv->v1_series, &has_values);
    if (*rc)
        return -1; /* the error's offset is in the copy: c->base stays */
    c->body = body, c->len = len, c->base = base;
    pv->v1_series++;
    *rows_at = val_at + 1;
    return 0;
}

/* The window ends inside a value: wait for more, or, at the end of the answer, it was cut. */
static ifx_rc v1_again(ifx_rows_ctx *c)
{
    return c->more ? IFX_OK : ifxi_rows_truncated(c, 0, c->len);
}

/* The v1 reader of ifx_rows_stream. Each step reads one whole token or value and then updates
 * the state, so that a step the window cuts short leaves the state as it was, and consumed at
 * the step's start. */
static ifx_rc v1_stream(ifx_rows_ctx *c)
{
    ifx_rows_priv *pv = c->pv;
    const char *b = c->body;
    size_t i = 0, end = 0, val_at = 0;
    ifx_json_val v, k;
    ifx_rc rc = IFX_OK;
    int r;

    if (!pv->started) {
        pv->started = true;
        pv->v1_level = L_TOP;
        pv->v1_phase = P_FIRST;
        pv->v1_series = 0;
        pv->v1_saw_doc = false;
    }
    for (;;) {
        c->consumed = i;
        i = skip_ws(b, c->len, i);
        if (i == c->len) {
            if (c->more)
                return IFX_OK;
            if (pv->v1_level != L_TOP)
                return ifxi_rows_truncated(c, 0, c->len);
            if (!pv->v1_saw_doc)
                return ifxi_rows_fail(c, 0, c->len,
                                      "the answer is empty; the server may have failed while "
                                      "streaming");
            c->consumed = c->len;
            return IFX_OK;
        }
        char ch = b[i];
        int level = pv->v1_level, phase = pv->v1_phase;
        bool object = level == L_DOC || level == L_RESULT || level == L_SERIES_TAIL;
        char close = object ? '}' : ']';

        if (level == L_TOP) {
            if (ch != '{') {
                /* the validator's wording, as for a whole document */
                if (!value_end(b, c->len, i, c->more, &end))
                    return v1_again(c);
                if ((r = v1_value(c, i, &v, &end, &rc)) != 0)
                    return r > 0 ? v1_again(c) : rc;
                return ifxi_rows_fail(c, 0, i, "expected a JSON object, found %s",
                                      ifxi_json_type_name(v.type));
            }
            pv->v1_saw_doc = true;
            pv->v1_saw_results = false;
            pv->v1_doc_at = c->base + i;
            pv->v1_level = L_DOC, pv->v1_phase = P_FIRST;
            i++;
            continue;
        }
        /* the end of the level, or the ',' between two of its values */
        if (phase != P_AFTER_COMMA && ch == close) {
            i++;
            pv->v1_phase = P_NEXT;
            switch (level) {
            case L_DOC:
                if (!pv->v1_saw_results) {
                    c->base = 0; /* the document may have started in an earlier window */
                    return ifxi_rows_fail(c, 0, pv->v1_doc_at, "expected a \"results\" array");
                }
                pv->v1_level = L_TOP, pv->v1_phase = P_FIRST;
                break;
            case L_RESULTS:
                pv->v1_level = L_DOC;
                break;
            case L_RESULT:
                pv->v1_level = L_RESULTS;
                break;
            case L_SERIES:
                pv->v1_level = L_RESULT;
                break;
            case L_VALUES:
                pv->v1_level = L_SERIES_TAIL;
                break;
            case L_SERIES_TAIL:
                pv->v1_level = L_SERIES;
                break;
            }
            continue;
        }
        if (phase == P_NEXT) {
            if (ch != ',')
                return v1_syntax(c, i,
                                 object ? "expected ',' or '}' after an object member"
                                        : "expected ',' or ']' after an array element");
            i++;
            pv->v1_phase = P_AFTER_COMMA;
            continue;
        }
        if (object) {
            if (ch != '"')
                return v1_syntax(c, i, "expected a string for an object key");
            if ((r = v1_key(c, i, &k, &val_at, &rc)) != 0)
                return r > 0 ? v1_again(c) : rc;
            if (level == L_DOC && ifxi_json_string_eq(&k, "results") && b[val_at] == '[') {
                pv->v1_saw_results = true;
                pv->v1_level = L_RESULTS, pv->v1_phase = P_FIRST;
                i = val_at + 1;
                continue;
            }
            if (level == L_RESULT && ifxi_json_string_eq(&k, "series") && b[val_at] == '[') {
                pv->v1_level = L_SERIES, pv->v1_phase = P_FIRST;
                i = val_at + 1;
                continue;
            }
            if ((r = v1_value(c, val_at, &v, &end, &rc)) != 0)
                return r > 0 ? v1_again(c) : rc;
            bool error = ifxi_json_string_eq(&k, "error");
            if (level != L_SERIES_TAIL && error && v.type != IFX_JSON_NULL)
                return v1_rejected(c, &v);
            if (level == L_DOC && ifxi_json_string_eq(&k, "results")) {
                pv->v1_saw_results = true;
                return ifxi_rows_fail(c, 0, val_at, "expected a \"results\" array");
            }
            if (level == L_RESULT && ifxi_json_string_eq(&k, "series") && v.type != IFX_JSON_NULL)
                return ifxi_rows_fail(c, 0, val_at, "\"series\" is %s, not an array",
                                      ifxi_json_type_name(v.type));
            i = end;
            pv->v1_phase = P_NEXT;
            continue;
        }
        /* an element of an array */
        switch (level) {
        case L_RESULTS:
            if (ch == '{') {
                pv->v1_level = L_RESULT, pv->v1_phase = P_FIRST;
                i++;
                continue;
            }
            if ((r = v1_value(c, i, &v, &end, &rc)) != 0)
                return r > 0 ? v1_again(c) : rc;
            return ifxi_rows_fail(c, 0, i, "a result is %s, not an object",
                                  ifxi_json_type_name(v.type));
        case L_SERIES:
            if (ch == '{') {
                /* The head path whenever the series has one, wherever the window ends, so that
                 * how the answer is chunked never changes what is read. */
                size_t rows_at = 0;
                r = v1_stream_head(c, i, &rows_at, &rc);
                if (r == 1)
                    return v1_again(c);
                if (r < 0)
                    return rc;
                if (r == 0) {
                    pv->v1_level = L_VALUES, pv->v1_phase = P_FIRST;
                    i = rows_at;
                    continue;
                }
                /* no "values" array after "columns": read it whole, as a whole read does */
                if ((r = v1_value(c, i, &v, &end, &rc)) != 0)
                    return r > 0 ? v1_again(c) : rc;
                if ((rc = v1_series(c, &v, pv->v1_series++)))
                    return rc;
                i = end;
                pv->v1_phase = P_NEXT;
                continue;
            }
            if ((r = v1_value(c, i, &v, &end, &rc)) != 0)
                return r > 0 ? v1_again(c) : rc;
            return ifxi_rows_fail(c, 0, i, "a series is %s, not an object",
                                  ifxi_json_type_name(v.type));
        case L_VALUES: {
            bool taken;
            if (ch == '[') {
                if ((rc = v1_flat_row(c, i, &end, &taken)))
                    return rc;
                if (taken) {
                    i = end;
                    pv->v1_phase = P_NEXT;
                    continue;
                }
            }
            if ((r = v1_value(c, i, &v, &end, &rc)) != 0)
                return r > 0 ? v1_again(c) : rc;
            if ((rc = v1_series_row(c, &v)))
                return rc;
            i = end;
            pv->v1_phase = P_NEXT;
            continue;
        }
        default:
            return v1_syntax(c, i, "unexpected text");
        }
    }
}

/* One or more JSON documents (chunked=true writes one per chunk, each followed by '\n'). A
 * compact document is its line. Otherwise (pretty=true) a document ends where the validator, run
 * on the rest of the body, finds trailing text, and that prefix is validated again on its own. */
ifx_rc ifxi_rows_read_v1_json(ifx_rows_ctx *c)
{
    if (c->stream)
        return v1_stream(c);
    size_t pos = skip_ws(c->body, c->len, 0), end;
    int64_t series = 0;
    ifx_rc rc;

    if (pos == c->len)
        return ifxi_rows_fail(c, 0, c->len,
                              "the answer is empty; the server may have failed while streaming");
    while (pos < c->len) {
        ifx_json_val doc;
        ifx_err e, e2;

        const char *nl = memchr(c->body + pos, '\n', c->len - pos);

        ifx_err_clear(&e);
        /* A compact document is one line (JSON strings hold no raw line ends): try that first. */
        if (nl &&
            ifxi_json_parse(c->body + pos, (size_t)(nl - (c->body + pos)), &doc, NULL) == IFX_OK) {
            end = (size_t)(nl - c->body);
        } else if (ifxi_json_parse(c->body + pos, c->len - pos, &doc, &e) == IFX_OK) {
            end = c->len;
        } else if (e.offset != IFX_NO_OFFSET && e.offset > 0 && e.offset < c->len - pos &&
                   ifxi_json_parse(c->body + pos, e.offset, &doc, &e2) == IFX_OK) {
            end = pos + e.offset;
        } else if (e.offset != IFX_NO_OFFSET && e.offset >= c->len - pos) {
            return ifxi_rows_truncated(c, 0, c->len);
        } else {
            return json_invalid(c, 0, pos, &e);
        }
        rc = v1_document(c, &doc, &series);
        if (rc)
            return rc;
        pos = skip_ws(c->body, c->len, end);
    }
    return IFX_OK;
}
