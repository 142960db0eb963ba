/* Fuzz target: the streaming readers (ifx_rows_stream). The first byte picks the format and a
 * chunking seed; the rest is an answer, read whole by ifx_rows_read and fed to a stream in chunks
 * of sizes drawn from the seed (1-byte chunks among them), each chunk in its own allocation so
 * that a read past it is caught. Both must deliver the same rows (hashed: names, types, values,
 * measurement, table) and end the same way: code, byte offset and message. v1 JSON is compared
 * with a stream fed in one chunk instead (a v1 stream may deliver rows a whole read would not). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ifx/rows.h"
#include "fuzz_check.h"

typedef struct seen {
    uint64_t hash;
    size_t rows;
} seen;

static void mix(seen *s, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        s->hash = (s->hash ^ b[i]) * 1099511628211ULL;
}

static ifx_rc on_row(void *ud, const ifx_row *row, ifx_err *err)
{
    seen *s = ud;
    (void)err;
    s->rows++;
    mix(s, &row->table, sizeof row->table);
    mix(s, &row->ncols, sizeof row->ncols);
    if (row->measurement)
        mix(s, row->measurement, row->measurement_len);
    for (size_t i = 0; i < row->ncols; i++) {
        const ifx_value *v = &row->vals[i];
        mix(s, row->cols[i].name, row->cols[i].len);
        mix(s, &v->type, sizeof v->type);
        switch (v->type) {
        case IFX_VAL_STRING:
            mix(s, v->v.s.p, v->v.s.len);
            break;
        case IFX_VAL_BOOL:
            mix(s, &v->v.b, sizeof v->v.b);
            break;
        case IFX_VAL_F64:
            mix(s, &v->v.f, sizeof v->v.f);
            if (v->text.p)
                mix(s, v->text.p, v->text.len);
            break;
        case IFX_VAL_NULL:
            break;
        default:
            mix(s, &v->v.i, sizeof v->v.i);
        }
    }
    return IFX_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const ifx_result_format fmts[] = {IFX_RESULT_V3_JSONL, IFX_RESULT_V2_CSV,
                                             IFX_RESULT_V3_CSV, IFX_RESULT_V1_JSON,
                                             IFX_RESULT_V3_JSON};
    if (size < 1)
        return 0;
    ifx_result_format fmt = fmts[data[0] % 5];
    uint64_t x = 0x9E3779B97F4A7C15ULL * (uint64_t)(data[0] / 5 + 1);
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    ifx_rows_reader r;
    ifx_err e1, e2;
    seen whole = {14695981039346656037ULL, 0}, streamed = {14695981039346656037ULL, 0};

    ifx_rows_reader_init(&r);
    ifx_rc rc1;
    if (fmt == IFX_RESULT_V1_JSON) {
        /* A v1 stream delivers rows before it has seen the whole document (rows.h): compare it
         * with the same stream fed in one chunk, which must not depend on the chunking. */
        ifx_rows_stream one;
        ifx_err_clear(&e1);
        ifx_rows_stream_init(&one, &r, fmt, 0, on_row, &whole);
        rc1 = ifx_rows_stream_feed(&one, in, len, &e1);
        if (!rc1)
            rc1 = ifx_rows_stream_end(&one, &e1);
        ifx_rows_stream_free(&one);
    } else {
        rc1 = ifx_rows_read(&r, fmt, len ? in : NULL, len, on_row, &whole, &e1);
    }

    ifx_rows_stream s;
    ifx_rc rc2 = IFX_OK;
    ifx_err_clear(&e2);
    ifx_rows_stream_init(&s, &r, fmt, 0, on_row, &streamed);
    for (size_t pos = 0; pos < len && !rc2;) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t n = (x & 3) == 0 ? 1 : 1 + (size_t)(x >> 8) % 97;
        if (n > len - pos)
            n = len - pos;
        char *chunk = malloc(n);
        CHECK(chunk != NULL);
        memcpy(chunk, in + pos, n);
        rc2 = ifx_rows_stream_feed(&s, chunk, n, &e2);
        free(chunk);
        pos += n;
    }
    if (!rc2)
        rc2 = ifx_rows_stream_end(&s, &e2);
    ifx_rows_stream_free(&s);
    ifx_rows_reader_free(&r);

    CHECK(rc1 == rc2);
    CHECK(whole.rows == streamed.rows);
    CHECK(whole.hash == streamed.hash);
    if (rc1) {
        CHECK(e1.offset == e2.offset);
        CHECK(strcmp(e1.msg, e2.msg) == 0);
    }
    return 0;
}
