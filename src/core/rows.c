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

ifx_rc ifx_rows_read(ifx_rows_reader *r, ifx_result_format fmt, const char *body, size_t len,
                     ifx_row_fn fn, void *ud, ifx_err *err)
{
    ifx_err local;
    ifx_rows_ctx c;
    ifx_rc rc;

    if (!err)
        err = &local;
    ifx_err_clear(err);
    if (!r || !fn || (!body && len))
        return ifx_err_set(err, IFX_E_USAGE, "ifx_rows_read: reader, callback and body needed");
    if (!body)
        body = "";
    if (!r->priv) {
        ifx_rows_priv *pv = calloc(1, sizeof *pv);
        if (!pv)
            return ifx_err_set(err, IFX_E_NOMEM, "ifx_rows_read: out of memory");
        ifx_buf_init(&pv->keep, IFX_ROWS_BUF_CAP);
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
    if (rc == IFX_OK)
        ifx_err_clear(err);
    return rc;
}
