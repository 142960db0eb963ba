/* ifx — query result readers (see include/ifx/rows.h): the reader's life cycle, ifx_row_find and
 * the dispatch to the format readers (JSON formats in rows_json.c, CSV formats in rows_csv.c,
 * what they share in rows_common.c). Dependencies run one way: rows.c -> the formats -> common.
 */
#include "ifx/rows.h"

#include <stdlib.h>
#include <string.h>

#include "core/rows_formats.h"

void ifx_rows_reader_init(ifx_rows_reader *r)
{
    ifx_buf_init(&r->scratch, IFX_ROWS_BUF_CAP);
    r->cols = NULL;
    r->vals = NULL;
    r->cap_cols = 0;
    r->priv = NULL;
}

void ifx_rows_reader_free(ifx_rows_reader *r)
{
    ifx_rows_priv *pv = r->priv;

    ifx_buf_free(&r->scratch);
    free(r->cols);
    free(r->vals);
    if (pv) {
        free(pv->cells);
        free(pv->info);
        ifx_buf_free(&pv->keep);
        ifx_buf_free(&pv->v1_head);
        free(pv);
    }
    r->cols = NULL;
    r->vals = NULL;
    r->cap_cols = 0;
    r->priv = NULL;
}

long ifx_row_find(const ifx_row *row, const char *name)
{
    size_t i, n;

    if (!row || !name)
        return -1;
    n = strlen(name);
    for (i = 0; i < row->ncols; i++) {
        if (row->cols[i].len == n && memcmp(row->cols[i].name, name, n) == 0)
            return (long)i;
    }
    return -1;
}

/* ---- dispatch ------------------------------------------------------------------------------- */

/* Runs the reader of fmt on body[0..len), a window of the answer at offset base of it. */
static ifx_rc read_window(ifx_rows_reader *r, ifx_result_format fmt, const char *body, size_t len,
                          size_t base, bool more, bool stream, size_t *consumed, ifx_row_fn fn,
                          void *ud, ifx_err *err)
{
    ifx_rows_ctx c;
    ifx_rc rc;

    if (!r->priv) {
        ifx_rows_priv *pv = calloc(1, sizeof *pv);
        if (!pv)
            return ifx_err_set(err, IFX_E_NOMEM, "ifx_rows_read: out of memory");
        ifx_buf_init(&pv->keep, IFX_ROWS_BUF_CAP);
        ifx_buf_init(&pv->v1_head, IFX_ROWS_BUF_CAP);
        r->priv = pv;
    }
    c.r = r;
    c.pv = r->priv;
    c.body = body;
    c.len = len;
    c.fn = fn;
    c.ud = ud;
    c.err = err;
    c.unit = "line";
    c.base = base;
    c.more = more;
    c.stream = stream;
    c.consumed = len;
    c.refused = false;
    switch (fmt) {
    case IFX_RESULT_V1_JSON:
        c.what = "v1 JSON";
        rc = ifxi_rows_read_v1_json(&c);
        break;
    case IFX_RESULT_V2_CSV:
        c.what = "annotated CSV";
        rc = ifxi_rows_read_v2_csv(&c);
        break;
    case IFX_RESULT_V3_JSONL:
        c.what = "v3 JSONL";
        rc = ifxi_rows_read_v3_jsonl(&c);
        break;
    case IFX_RESULT_V3_JSON:
        c.what = "v3 JSON";
        c.unit = "row";
        rc = ifxi_rows_read_v3_json(&c);
        break;
    case IFX_RESULT_V3_CSV:
        c.what = "v3 CSV";
        rc = ifxi_rows_read_v3_csv(&c);
        break;
    default:
        return ifx_err_set(err, IFX_E_USAGE, "ifx_rows_read: unknown result format %d", (int)fmt);
    }
    if (rc == IFX_OK) {
        ifx_err_clear(err);
        *consumed = c.consumed;
    } else if (err->offset != IFX_NO_OFFSET && !c.refused) {
        err->offset += c.base; /* a reader may have read a copy of its own (v1: a series head) */
    }
    return rc;
}

ifx_rc ifx_rows_read(ifx_rows_reader *r, ifx_result_format fmt, const char *body, size_t len,
                     ifx_row_fn fn, void *ud, ifx_err *err)
{
    ifx_err local;
    size_t consumed;

    if (!err)
        err = &local;
    ifx_err_clear(err);
    if (!r || !fn || (!body && len))
        return ifx_err_set(err, IFX_E_USAGE, "ifx_rows_read: reader, callback and body needed");
    if (!body)
        body = "";
    if (r->priv)
        ((ifx_rows_priv *)r->priv)->started = false;
    return read_window(r, fmt, body, len, 0, false, false, &consumed, fn, ud, err);
}

/* ---- streaming ------------------------------------------------------------------------------ */

void ifx_rows_stream_init(ifx_rows_stream *s, ifx_rows_reader *r, ifx_result_format fmt,
                          size_t max_record, ifx_row_fn fn, void *ud)
{
    memset(s, 0, sizeof *s);
    s->reader = r;
    s->fmt = fmt;
    s->fn = fn;
    s->ud = ud;
    s->whole = fmt == IFX_RESULT_V3_JSON;
    s->values = fmt == IFX_RESULT_V1_JSON;
    ifx_buf_init(&s->carry, max_record ? max_record : IFX_ROWS_BUF_CAP);
    if (r->priv)
        ((ifx_rows_priv *)r->priv)->started = false;
}

void ifx_rows_stream_free(ifx_rows_stream *s)
{
    ifx_buf_free(&s->carry);
}

/* Reads the records carry holds whole and keeps the rest (more: bytes follow). */
static ifx_rc stream_step(ifx_rows_stream *s, bool more, ifx_err *err)
{
    size_t consumed = 0;
    ifx_rc rc = read_window(s->reader, s->fmt, s->carry.data ? s->carry.data : "", s->carry.len,
                            s->base, more, true, &consumed, s->fn, s->ud, err);
    if (rc)
        return s->failed = rc;
    if (consumed) {
        memmove(s->carry.data, s->carry.data + consumed, s->carry.len - consumed);
        s->carry.len -= consumed;
        s->base += consumed;
    }
    return IFX_OK;
}

static ifx_rc carry_append(ifx_rows_stream *s, const char *p, size_t len, ifx_err *err)
{
    ifx_rc rc = ifx_buf_append(&s->carry, p, len);
    if (rc) {
        ifx_err_set_at(err, rc, s->base, /* where the record starts */
                       "%s longer than %zu bytes, the reader's cap",
                       s->whole ? "an answer" : "a record of the answer", s->carry.cap);
        return s->failed = rc;
    }
    return IFX_OK;
}

ifx_rc ifx_rows_stream_feed(ifx_rows_stream *s, const char *p, size_t len, ifx_err *err)
{
    ifx_err local;
    ifx_rc rc;

    if (!err)
        err = &local;
    if (s->failed)
        return ifx_err_set(err, s->failed, "the answer already failed");
    s->total += len;
    if (s->whole)
        return carry_append(s, p, len, err);
    if (s->values && s->carry.len) {
        /* v1: a value ends anywhere, not at a line end; try again once the carry has doubled
         * (a long value fed in small chunks is then scanned a bounded number of times) */
        if ((rc = carry_append(s, p, len, err)))
            return rc;
        if (s->carry.len < s->retry_at)
            return IFX_OK;
        if ((rc = stream_step(s, true, err)))
            return rc;
        s->retry_at = 2 * s->carry.len;
        return IFX_OK;
    }
    /* A record ends at a line end. The record in progress is completed line by line: without a
     * line end in the new bytes nothing new is whole, and a long record fed byte by byte is not
     * scanned again for every byte. */
    while (len && s->carry.len) {
        const char *nl = memchr(p, '\n', len);
        size_t n = nl ? (size_t)(nl - p) + 1 : len;
        if ((rc = carry_append(s, p, n, err)))
            return rc;
        p += n, len -= n;
        if (nl && (rc = stream_step(s, true, err)))
            return rc;
    }
    if (!len)
        return IFX_OK;
    /* Nothing carried: the records the chunk holds whole are read in place, the rest kept. */
    size_t consumed = 0;
    rc = read_window(s->reader, s->fmt, p, len, s->base, true, true, &consumed, s->fn, s->ud, err);
    if (rc)
        return s->failed = rc;
    s->base += consumed;
    s->retry_at = 2 * (len - consumed);
    return carry_append(s, p + consumed, len - consumed, err);
}

ifx_rc ifx_rows_stream_end(ifx_rows_stream *s, ifx_err *err)
{
    ifx_err local;

    if (!err)
        err = &local;
    if (s->failed)
        return ifx_err_set(err, s->failed, "the answer already failed");
    ifx_err_clear(err);
    return stream_step(s, false, err);
}
