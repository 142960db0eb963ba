/* Fuzz target: the query result readers. Every input is read in all five formats, twice (a fresh
 * reader, then one reused across formats); the callback checks each row, and the two reads must
 * agree on everything they delivered and on how they ended. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "ifx/rows.h"
#include "fuzz_check.h"

typedef struct seen {
    const char *in;
    size_t size;
    ifx_result_format fmt;
    int rows;
    int stop_at; /* refuse this row (1-based) with IFX_E_IO; 0 = never */
    uint64_t hash;
    int64_t last_table;
} seen;

static void mix(seen *s, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i;

    for (i = 0; i < n; i++)
        s->hash = (s->hash ^ b[i]) * 1099511628211ULL;
}

static bool is_json_format(ifx_result_format fmt)
{
    return fmt == IFX_RESULT_V1_JSON || fmt == IFX_RESULT_V3_JSON || fmt == IFX_RESULT_V3_JSONL;
}

/* Whether the decoded CSV text p matches the input at in: each quote as a doubled quote (a
 * quote only occurs in a quoted cell), and in annotated CSV (v2) each LF as LF or CR LF. */
static bool csv_matches_at(const char *in, size_t in_len, const char *p, size_t len, bool crlf)
{
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '"') {
            if (j + 2 > in_len || in[j] != '"' || in[j + 1] != '"')
                return false;
            j += 2;
        } else if (p[i] == '\n' && crlf && j + 2 <= in_len && in[j] == '\r' && in[j + 1] == '\n') {
            j += 2;
        } else {
            if (j >= in_len || in[j] != p[i])
                return false;
            j++;
        }
    }
    return true;
}

/* A CSV string is a cell of the input, as the reader decodes cells. */
static bool csv_text_in_input(const seen *s, const char *p, size_t len)
{
    bool crlf = s->fmt == IFX_RESULT_V2_CSV;
    if (len == 0 || len > 512)
        return true; /* empty, or too long to check cheaply */
    for (size_t i = 0; i < s->size; i++)
        if (csv_matches_at((const char *)s->in + i, s->size - i, p, len, crlf))
            return true;
    return false;
}

static void check_text(seen *s, const char *p, size_t len)
{
    CHECK(p != NULL || len == 0);
    CHECK(len <= s->size * 4 + 16);
    if (len)
        mix(s, p, len); /* reads every byte: AddressSanitizer checks the span */
    if (is_json_format(s->fmt)) {
        CHECK(ifxi_utf8_valid(p, len, NULL));
    } else {
        CHECK(csv_text_in_input(s, p, len));
    }
}

static ifx_rc on_row(void *ud, const ifx_row *row, ifx_err *err)
{
    seen *s = ud;
    size_t i;

    CHECK(err != NULL);
    s->rows++;
    CHECK(row != NULL);
    if (row->ncols) {
        CHECK(row->cols != NULL && row->vals != NULL);
    }
    CHECK(row->ncols <= s->size + 1);
    mix(s, &row->ncols, sizeof row->ncols);
    mix(s, &row->table, sizeof row->table);
    if (row->measurement)
        check_text(s, row->measurement, row->measurement_len);
    else
        CHECK(row->measurement_len == 0);
    /* v1 numbers its series in order. */
    if (s->fmt == IFX_RESULT_V1_JSON) {
        CHECK(row->table >= s->last_table);
        s->last_table = row->table;
    }
    if (s->fmt == IFX_RESULT_V3_JSON || s->fmt == IFX_RESULT_V3_JSONL ||
        s->fmt == IFX_RESULT_V3_CSV)
        CHECK(row->table == 0);
    for (i = 0; i < row->ncols; i++) {
        const ifx_value *v = &row->vals[i];
        check_text(s, row->cols[i].name, row->cols[i].len);
        mix(s, &v->type, sizeof v->type);
        switch (v->type) {
        case IFX_VAL_NULL:
            break;
        case IFX_VAL_BOOL:
            CHECK(v->v.b == true || v->v.b == false);
            mix(s, &v->v.b, sizeof v->v.b);
            break;
        case IFX_VAL_I64:
        case IFX_VAL_TIME:
            mix(s, &v->v.i, sizeof v->v.i);
            break;
        case IFX_VAL_U64:
            /* JSON gives U64 only above INT64_MAX; annotated CSV by #datatype. */
            if (is_json_format(s->fmt))
                CHECK(v->v.u > (uint64_t)INT64_MAX);
            mix(s, &v->v.u, sizeof v->v.u);
            break;
        case IFX_VAL_F64:
            mix(s, &v->v.f, sizeof v->v.f);
            break;
        case IFX_VAL_STRING:
            check_text(s, v->v.s.p, v->v.s.len);
            break;
        default:
            CHECK(!"unknown value type");
        }
        if (s->fmt == IFX_RESULT_V3_CSV)
            CHECK(v->type == IFX_VAL_NULL || v->type == IFX_VAL_STRING || v->type == IFX_VAL_TIME);
    }
    if (s->rows == s->stop_at) {
        ifx_err_set(err, IFX_E_IO, "stopped at row %d", s->rows);
        return IFX_E_IO;
    }
    return IFX_OK;
}

static ifx_rc read_one(ifx_rows_reader *r, ifx_result_format fmt, const char *in, size_t size,
                       int stop_at, seen *s, ifx_err *err)
{
    ifx_rc rc;

    memset(s, 0, sizeof *s);
    s->in = in;
    s->size = size;
    s->fmt = fmt;
    s->stop_at = stop_at;
    s->hash = 14695981039346656037ULL;
    ifx_err_clear(err);
    rc = ifx_rows_read(r, fmt, in, size, on_row, s, err);
    CHECK(err->code == rc);
    if (rc == IFX_OK) {
        CHECK(err->msg[0] == '\0');
        CHECK(stop_at == 0 || s->rows < stop_at);
    } else {
        CHECK(err->msg[0] != '\0');
        CHECK(strchr(err->msg, '\n') == NULL && strchr(err->msg, '\r') == NULL);
        CHECK(err->offset == IFX_NO_OFFSET || err->offset <= size);
        if (rc == IFX_E_IO)
            CHECK(s->rows == stop_at);
        else
            CHECK(rc == IFX_E_INVALID || rc == IFX_E_REJECTED);
        if (rc == IFX_E_REJECTED)
            CHECK(fmt == IFX_RESULT_V1_JSON || fmt == IFX_RESULT_V2_CSV);
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const ifx_result_format fmts[] = {IFX_RESULT_V1_JSON, IFX_RESULT_V2_CSV,
                                             IFX_RESULT_V3_JSONL, IFX_RESULT_V3_JSON,
                                             IFX_RESULT_V3_CSV};
    const char *in = (const char *)data;
    ifx_rows_reader shared;
    int stop_at = size ? data[size - 1] % 8 : 0;
    size_t f;

    ifx_rows_reader_init(&shared);
    for (f = 0; f < sizeof fmts / sizeof fmts[0]; f++) {
        ifx_rows_reader fresh;
        ifx_err e1, e2;
        seen s1, s2;
        ifx_rc r1, r2;

        ifx_rows_reader_init(&fresh);
        r1 = read_one(&fresh, fmts[f], in, size, 0, &s1, &e1);
        ifx_rows_reader_free(&fresh);
        r2 = read_one(&shared, fmts[f], in, size, 0, &s2, &e2);
        /* Reuse changes nothing. */
        CHECK(r1 == r2 && s1.rows == s2.rows && s1.hash == s2.hash);
        CHECK(e1.offset == e2.offset && strcmp(e1.msg, e2.msg) == 0);
        /* Stopping early delivers a prefix of the same rows. */
        if (stop_at && stop_at <= s1.rows) {
            r2 = read_one(&shared, fmts[f], in, size, stop_at, &s2, &e2);
            CHECK(r2 == IFX_E_IO && s2.rows == stop_at);
            CHECK(strncmp(e2.msg, "stopped at row ", 15) == 0);
        }
    }
    ifx_rows_reader_free(&shared);
    return 0;
}
