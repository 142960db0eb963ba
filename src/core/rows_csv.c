/* ifx — query result readers for the CSV formats (see include/ifx/rows.h): Flux annotated CSV
 * (v2, spec §3.4) and v3's plain CSV (spec §2.5), on one RFC 4180 record scanner.
 *
 * The scanner is zero-copy: a cell points into the body unless it is quoted and holds "" escapes,
 * in which case its unescaped text goes to the scratch buffer (reset per record). Header names and
 * #default values outlive their record, so the ones that are not in the body are copied to keep.
 *
 * Annotated CSV is read by position, never by content (upstream defect R7): a schema block starts
 * at the top of the body or after an empty line, its rows whose first cell starts with '#' are
 * annotations, its first other row is the header, and every later row is data. Data cells are
 * typed by #datatype alone (upstream defect R8): a string column holding "true" or "007" stays a
 * string. Bytes are passed through as the server sent them; a v2 string can hold invalid UTF-8 if
 * the stored data does.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/scan16_csv.h"
#include "ifx/timeutil.h"
#include "core/rows_formats.h"

/* ---- the RFC 4180 record scanner ------------------------------------------------------------ */

/* Bytes that end or disturb an unquoted run. */
static const unsigned char csv_stop[256] = {[','] = 1, ['\n'] = 1, ['\r'] = 1, ['"'] = 1};

static size_t count_newlines(const char *p, size_t n)
{
    const char *end = p + n;
    size_t count = 0;

    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        count++;
        p++;
    }
    return count;
}

/* The record at *pos when it is plain, read with less bookkeeping than csv_record's loop (a
 * Flux answer's data records nearly all are; the loop was an eighth of the v2 source): no quote
 * before its line end, and every block it spans whole inside the window. Each 16-byte block is
 * scanned once for all its stops (ifxi_scan16_csv_mask), whose bits are then walked, instead of
 * one scan per cell. The cells and *pos are csv_record's; the caller counts the line end.
 * Returns false, with nothing done, for anything else (a quote, the window's last bytes, more
 * cells than pv->cells holds yet): csv_record then reads the record, and words the errors.
 * test_v2_csv_plain_records holds the two to the same rows. */
static bool plain_record(ifx_rows_ctx *c, size_t *pos, size_t *ncells)
{
    ifx_rows_priv *pv = c->pv;
    const unsigned char *b = (const unsigned char *)c->body;
    const size_t len = c->len;
    size_t block = *pos, start = block, n = 0;
    unsigned stops;

    if (len - block < 16)
        return false;
    stops = ifxi_scan16_csv_mask(b + block);
    for (;;) {
        while (!stops) {
            block += 16;
            if (len - block < 16)
                return false;
            stops = ifxi_scan16_csv_mask(b + block);
        }
        size_t i = block + (unsigned)__builtin_ctz(stops);
        stops &= stops - 1;
        unsigned char ch = b[i];
        if (ch == '"' || (ch == '\r' && i + 1 == len))
            return false;
        if (ch == '\r' && b[i + 1] != '\n')
            continue; /* a CR that does not end the line is data */
        if (n == pv->cap_cells)
            return false;
        ifx_rows_cell *cell = &pv->cells[n++];
        cell->p = c->body + start;
        cell->len = i - start;
        cell->at = start;
        cell->off = SIZE_MAX;
        cell->quoted = false;
        if (ch == ',') {
            start = i + 1;
            continue;
        }
        *pos = i + (ch == '\r' ? 2 : 1);
        *ncells = n;
        return true;
    }
}

/* Reads the record at *pos into c->pv->cells (*ncells of them). *line counts the line ends
 * consumed, those inside quoted cells included. *ended is false when the body stopped before the
 * record's line end, which a server never does: the body was cut.
 *
 * crlf_is_lf: a CR LF inside a quoted cell stands for one LF. 2.x writes its CSV with Go's
 * encoding/csv in CRLF mode, which turns every LF in a cell into CR LF (and drops every CR, which
 * nothing can bring back), so a stored "a\nb" arrives as "a\r\nb". */
static ifx_rc csv_record(ifx_rows_ctx *c, size_t *pos, size_t *line, size_t *ncells, bool *ended,
                         bool crlf_is_lf)
{
    ifx_rows_priv *pv = c->pv;
    ifx_buf *sc = &c->r->scratch;
    const char *b = c->body;
    const size_t len = c->len, first_line = *line;
    size_t i = *pos, n = 0, k;
    ifx_rc rc;

    ifx_buf_reset(sc);
    if (plain_record(c, pos, ncells)) {
        (*line)++;
        *ended = true;
        return IFX_OK;
    }
    *ended = false;
    for (;;) {
        ifx_rows_cell *cell;

        if (n == pv->cap_cells) {
            void *p = ifxi_rows_grow(pv->cells, &pv->cap_cells, n + 1, sizeof *pv->cells);
            if (!p)
                return ifxi_rows_oom(c, IFX_E_NOMEM);
            pv->cells = p;
        }
        cell = &pv->cells[n++];
        cell->at = i;
        cell->off = SIZE_MAX;
        cell->quoted = false;
        if (i < len && b[i] == '"') {
            size_t start = ++i, seg = i;

            cell->quoted = true;
            for (;;) {
                const char *q = memchr(b + i, '"', len - i);
                size_t qi;

                if (!q && c->more)
                    return IFX_OK; /* not ended: the rest of the record is still to come */
                if (!q)
                    return ifxi_rows_fail(c, first_line, len,
                                          "the answer ended inside a quoted cell; the server may "
                                          "have failed while streaming");
                qi = (size_t)(q - b);
                *line += count_newlines(b + i, qi - i);
                for (const char *cr; crlf_is_lf && (cr = memchr(b + i, '\r', qi - i)) != NULL;) {
                    size_t ci = (size_t)(cr - b);
                    i = ci + 1;
                    if (i >= qi || b[i] != '\n')
                        continue;
                    /* the cell is copied from here on: up to the CR, then on from the LF */
                    if (cell->off == SIZE_MAX)
                        cell->off = sc->len;
                    rc = ifx_buf_append(sc, b + seg, ci - seg);
                    if (rc)
                        return ifxi_rows_oom(c, rc);
                    seg = i;
                }
                if (qi + 1 < len && b[qi + 1] == '"') {
                    /* "" is one quote: copy up to and including the first of the pair. */
                    if (cell->off == SIZE_MAX)
                        cell->off = sc->len;
                    rc = ifx_buf_append(sc, b + seg, qi + 1 - seg);
                    if (rc)
                        return ifxi_rows_oom(c, rc);
                    seg = i = qi + 2;
                    continue;
                }
                if (cell->off != SIZE_MAX) {
                    rc = ifx_buf_append(sc, b + seg, qi - seg);
                    if (rc)
                        return ifxi_rows_oom(c, rc);
                    cell->len = sc->len - cell->off;
                } else {
                    cell->p = b + start;
                    cell->len = qi - start;
                }
                i = qi + 1;
                break;
            }
            if (i < len && b[i] == ',') {
                i++;
                continue;
            }
            if (i < len && b[i] != '\n' && (b[i] != '\r' || (i + 1 < len && b[i + 1] != '\n')))
                return ifxi_rows_fail(c, first_line, i,
                                      "expected ',' or a line end after the closing quote of a "
                                      "cell");
        } else {
            size_t start = i;

            while (i < len) {
                /* 16 bytes at a time while they last, then byte by byte */
                if (len - i >= 16) {
                    unsigned run = ifxi_scan16_csv((const unsigned char *)b + i);
                    i += run;
                    if (run == 16)
                        continue;
                } else if (!csv_stop[(unsigned char)b[i]]) {
                    i++;
                    continue;
                }
                unsigned char ch = (unsigned char)b[i];
                if (ch == '"')
                    return ifxi_rows_fail(c, first_line, i,
                                          "a quote inside an unquoted cell (RFC 4180 wants the "
                                          "cell quoted and the quote doubled)");
                /* A CR that does not end the line is data. */
                if (ch == '\r' && i + 1 < len && b[i + 1] != '\n') {
                    i++;
                    continue;
                }
                break;
            }
            cell->p = b + start;
            cell->len = i - start;
            if (i < len && b[i] == ',') {
                i++;
                continue;
            }
        }
        if (i < len && b[i] == '\r')
            i++;
        if (i < len && b[i] == '\n') {
            i++;
            (*line)++;
            *ended = true;
        }
        break;
    }
    /* The scratch buffer is complete: unescaped cells can point into it now. */
    for (k = 0; k < n; k++) {
        if (pv->cells[k].off != SIZE_MAX)
            pv->cells[k].p = sc->data + pv->cells[k].off;
    }
    *pos = i;
    *ncells = n;
    return IFX_OK;
}

/* The next whole record at *pos, as csv_record (the line counted in c->pv->line). *wait is true
 * when the body stops inside it but more is coming: the stream resumes at the record's start
 * (c->consumed) and reads it again, whole, with the bytes that follow. A body that ends inside a
 * record was cut. */
static ifx_rc whole_record(ifx_rows_ctx *c, size_t *pos, size_t *ncells, bool crlf_is_lf,
                           bool *wait)
{
    ifx_rows_priv *pv = c->pv;
    size_t rec_line = pv->line, rec_pos = *pos;
    bool ended;
    ifx_rc rc = csv_record(c, pos, &pv->line, ncells, &ended, crlf_is_lf);

    *wait = false;
    if (rc || ended)
        return rc;
    if (!c->more)
        return ifxi_rows_truncated(c, rec_line, c->len);
    pv->line = rec_line;
    c->consumed = rec_pos;
    *wait = true;
    return IFX_OK;
}

static bool is_blank_line(const ifx_rows_cell *cells, size_t n)
{
    return n == 1 && cells[0].len == 0 && !cells[0].quoted;
}

/* Makes room for n column descriptions. */
static ifx_rc ensure_info(ifx_rows_ctx *c, size_t n)
{
    ifx_rows_priv *pv = c->pv;
    void *p;

    if (n <= pv->cap_info)
        return IFX_OK;
    p = ifxi_rows_grow(pv->info, &pv->cap_info, n, sizeof *pv->info);
    if (!p)
        return ifxi_rows_oom(c, IFX_E_NOMEM);
    pv->info = p;
    return IFX_OK;
}

/* Sets the reader's column names from cells[first .. first+count): copied to keep (the body may
 * be a streaming window that moves on before the block ends), then pointed to once keep stops
 * growing. */
static ifx_rc header_names(ifx_rows_ctx *c, size_t first, size_t count)
{
    ifx_rows_priv *pv = c->pv;
    ifx_rows_reader *r = c->r;
    size_t k;
    ifx_rc rc;

    rc = ifxi_rows_ensure_cols(c, count);
    if (!rc)
        rc = ensure_info(c, count);
    if (rc)
        return rc;
    for (k = 0; k < count; k++) {
        const ifx_rows_cell *cell = &pv->cells[first + k];
        r->cols[k].len = cell->len;
        pv->info[k].name_off = pv->keep.len;
        rc = ifx_buf_append(&pv->keep, cell->p, cell->len);
        if (rc)
            return ifxi_rows_oom(c, rc);
    }
    for (k = 0; k < count; k++)
        r->cols[k].name = pv->keep.data + pv->info[k].name_off;
    return IFX_OK;
}

static long find_column(const ifx_rows_ctx *c, size_t ncols, const char *name)
{
    size_t k;

    for (k = 0; k < ncols; k++) {
        if (ifx_rows_eq(c->r->cols[k].name, c->r->cols[k].len, name))
            return (long)k;
    }
    return -1;
}

/* ---- annotated CSV (v2) --------------------------------------------------------------------- */

static const struct {
    const char *name;
    unsigned char type;
} datatypes[] = {
    {"string", IFX_COL_STRING},
    {"long", IFX_COL_LONG},
    {"unsignedLong", IFX_COL_ULONG},
    {"double", IFX_COL_DOUBLE},
    {"boolean", IFX_COL_BOOL},
    {"dateTime:RFC3339", IFX_COL_TIME},
    {"dateTime:RFC3339Nano", IFX_COL_TIME},
    /* The annotated CSV specification's dateTime without a format means RFC3339. */
    {"dateTime", IFX_COL_TIME},
};

static const char *const type_names[] = {
    [IFX_COL_STRING] = "string", [IFX_COL_LONG] = "long",    [IFX_COL_ULONG] = "unsignedLong",
    [IFX_COL_DOUBLE] = "double", [IFX_COL_BOOL] = "boolean", [IFX_COL_TIME] = "dateTime",
};

typedef ifx_rows_csv_state v2_state;

static void v2_new_block(ifx_rows_ctx *c, v2_state *st)
{
    memset(st, 0, sizeof *st);
    st->table_col = st->meas_col = -1;
    ifx_buf_reset(&c->pv->keep);
}

/* Decimal integers as Go's strconv writes them (a '+' and leading zeros are accepted). */
static bool parse_u64(const char *p, size_t len, uint64_t *out)
{
    uint64_t m = 0;
    size_t i;

    if (len == 0)
        return false;
    for (i = 0; i < len; i++) {
        unsigned d = (unsigned)((unsigned char)p[i] - '0');
        if (d > 9 || m > (UINT64_MAX - d) / 10)
            return false;
        m = m * 10 + d;
    }
    *out = m;
    return true;
}

static bool parse_i64(const char *p, size_t len, int64_t *out)
{
    bool neg = len > 0 && p[0] == '-';
    uint64_t m;

    if (len > 0 && (p[0] == '-' || p[0] == '+')) {
        p++;
        len--;
    }
    if (!parse_u64(p, len, &m) || m > (uint64_t)INT64_MAX + neg)
        return false;
    if (!neg)
        *out = (int64_t)m;
    else if (m == (uint64_t)INT64_MAX + 1)
        *out = INT64_MIN;
    else
        *out = -(int64_t)m;
    return true;
}

/* Converts a non-empty cell to its column type: IFX_OK, IFX_E_INVALID (why may hold a reason) or
 * IFX_E_NOMEM. minute (may be NULL): a dateTime column's memo (ifxi_time_parse_utc_memo). */
static ifx_rc v2_convert(unsigned type, const char *p, size_t len, ifx_value *out, ifx_err *why,
                         ifxi_time_memo *minute)
{
    ifx_json_val num;
    ifx_rc rc;

    switch (type) {
    case IFX_COL_STRING:
        out->type = IFX_VAL_STRING;
        out->v.s.p = p;
        out->v.s.len = len;
        return IFX_OK;
    case IFX_COL_LONG:
        out->type = IFX_VAL_I64;
        return parse_i64(p, len, &out->v.i) ? IFX_OK : IFX_E_INVALID;
    case IFX_COL_ULONG:
        out->type = IFX_VAL_U64;
        return parse_u64(p, len, &out->v.u) ? IFX_OK : IFX_E_INVALID;
    case IFX_COL_DOUBLE:
        out->type = IFX_VAL_F64;
        out->text.p = NULL;
        /* Go's FormatFloat(v, 'f', -1, 64) writes these three by name. */
        if (ifx_rows_eq(p, len, "+Inf") || ifx_rows_eq(p, len, "Inf")) {
            out->v.f = INFINITY;
            return IFX_OK;
        }
        if (ifx_rows_eq(p, len, "-Inf")) {
            out->v.f = -INFINITY;
            return IFX_OK;
        }
        if (ifx_rows_eq(p, len, "NaN")) {
            out->v.f = NAN;
            return IFX_OK;
        }
        out->text.p = p;
        out->text.len = len;
        if (ifxi_rows_fast_double(p, len, &out->v.f))
            return IFX_OK;
        num.type = IFX_JSON_NUMBER;
        num.flags = 0;
        num.p = p;
        num.len = len;
        rc = ifxi_json_get_double(&num, &out->v.f, why);
        out->text.p = p;
        out->text.len = len;
        if (rc == IFX_E_INVALID && !strstr(why->msg, "out of the double range"))
            why->msg[0] = '\0';
        return rc;
    case IFX_COL_BOOL:
        out->type = IFX_VAL_BOOL;
        if (ifx_rows_eq(p, len, "true"))
            out->v.b = true;
        else if (ifx_rows_eq(p, len, "false"))
            out->v.b = false;
        else
            return IFX_E_INVALID;
        return IFX_OK;
    case IFX_COL_TIME:
        out->type = IFX_VAL_TIME;
        out->text.p = p;
        out->text.len = len;
        if (ifxi_time_parse_utc_memo(p, len, true, &out->v.i, minute))
            return IFX_OK;
        return ifxi_time_parse_rfc3339_general(p, len, &out->v.i, why); /* fast path tried */
    default:
        return IFX_E_INVALID;
    }
}

static ifx_rc v2_annotation(ifx_rows_ctx *c, v2_state *st, size_t line, size_t n)
{
    ifx_rows_priv *pv = c->pv;
    const ifx_rows_cell *name = &pv->cells[0];
    char shown[48];
    size_t k, t;
    ifx_rc rc;

    /* Annotations after a header begin the next block, even without the empty line. */
    if (st->have_header)
        v2_new_block(c, st);
    if (ifx_rows_eq(name->p, name->len, "#datatype")) {
        rc = ensure_info(c, n - 1);
        if (rc)
            return rc;
        for (k = 1; k < n; k++) {
            const ifx_rows_cell *cell = &pv->cells[k];
            for (t = 0; t < sizeof datatypes / sizeof datatypes[0]; t++) {
                if (ifx_rows_eq(cell->p, cell->len, datatypes[t].name))
                    break;
            }
            if (t == sizeof datatypes / sizeof datatypes[0])
                return ifxi_rows_fail(c, line, cell->at, "unknown #datatype \"%s\" of column %zu",
                                      ifxi_rows_excerpt(cell->p, cell->len, shown, sizeof shown),
                                      k);
            pv->info[k - 1].type = datatypes[t].type;
        }
        st->have_types = true;
        st->ntypes = n - 1;
    } else if (ifx_rows_eq(name->p, name->len, "#default")) {
        rc = ensure_info(c, n - 1);
        if (rc)
            return rc;
        for (k = 1; k < n; k++) {
            const ifx_rows_cell *cell = &pv->cells[k];
            ifx_rows_colinfo *inf = &pv->info[k - 1];
            inf->def_off = pv->keep.len;
            inf->def_len = cell->len;
            inf->def_at = c->base + cell->at; /* in the answer: a stream's window moves on */
            rc = ifx_buf_append(&pv->keep, cell->p, cell->len);
            if (rc)
                return ifxi_rows_oom(c, rc);
        }
        st->have_defaults = true;
        st->ndefaults = n - 1;
        st->defaults_line = line;
    }
    /* #group says nothing a reader needs, and other '#' rows are comments. */
    return IFX_OK;
}

static ifx_rc v2_header(ifx_rows_ctx *c, v2_state *st, size_t line, size_t n)
{
    ifx_rows_priv *pv = c->pv;
    const ifx_rows_cell *cells = pv->cells;
    char shown[48], cname[48];
    size_t k;
    ifx_rc rc;

    if (n >= 2 && ifx_rows_eq(cells[1].p, cells[1].len, "error")) {
        st->have_header = true;
        st->error_table = true;
        return IFX_OK;
    }
    /* Flux always writes result and table first; anything else is a row where a header belongs. */
    if (n < 3 || !ifx_rows_eq(cells[1].p, cells[1].len, "result") ||
        !ifx_rows_eq(cells[2].p, cells[2].len, "table"))
        return ifxi_rows_fail(c, line, cells[0].at,
                              "a data row before any header (a header starts with ,result,table "
                              "or ,error)");
    st->ncols = n - 1;
    if (st->have_types && st->ntypes != st->ncols)
        return ifxi_rows_fail(c, line, cells[0].at,
                              "the header has %zu columns but #datatype gives %zu", st->ncols,
                              st->ntypes);
    if (st->have_defaults && st->ndefaults != st->ncols)
        return ifxi_rows_fail(c, line, cells[0].at,
                              "the header has %zu columns but #default gives %zu", st->ncols,
                              st->ndefaults);
    rc = header_names(c, 1, st->ncols);
    if (rc)
        return rc;
    for (k = 0; k < st->ncols; k++) {
        ifx_rows_colinfo *inf = &pv->info[k];
        ifx_err why;

        if (!st->have_types)
            inf->type = IFX_COL_STRING;
        inf->last_len = 0;
        inf->minute.set = false;
        inf->has_default = st->have_defaults && inf->def_len > 0;
        if (!inf->has_default)
            continue;
        /* keep no longer grows in this block, so defaults may point into it. */
        ifx_err_clear(&why);
        rc = v2_convert(inf->type, pv->keep.data + inf->def_off, inf->def_len, &inf->def, &why,
                        NULL);
        if (rc == IFX_E_NOMEM)
            return ifxi_rows_oom(c, rc);
        if (rc) {
            c->base = 0; /* def_at is counted from the start of the answer */
            return ifxi_rows_fail(
                c, st->defaults_line, inf->def_at,
                "#default \"%s\" of column \"%s\" is not a %s%s%s",
                ifxi_rows_excerpt(pv->keep.data + inf->def_off, inf->def_len, shown, sizeof shown),
                ifxi_rows_excerpt(c->r->cols[k].name, c->r->cols[k].len, cname, sizeof cname),
                type_names[inf->type], why.msg[0] ? ": " : "", why.msg);
        }
    }
    st->table_col = find_column(c, st->ncols, "table");
    st->meas_col = find_column(c, st->ncols, "_measurement");
    st->have_header = true;
    return IFX_OK;
}

/* The in-band error table's row: IFX_E_REJECTED with the server's message, on one line. */
static ifx_rc v2_rejected(ifx_rows_ctx *c, size_t n)
{
    const ifx_rows_cell *cells = c->pv->cells;
    char text[400], ref[48];
    size_t len = 0, k;

    if (n >= 2) {
        len = cells[1].len < sizeof text - 1 ? cells[1].len : sizeof text - 1;
        for (k = 0; k < len; k++) {
            unsigned char ch = (unsigned char)cells[1].p[k];
            text[k] = ch < 0x20 || ch == 0x7F ? ' ' : (char)ch;
        }
    }
    text[len] = '\0';
    ref[0] = '\0';
    if (n >= 3 && cells[2].len)
        ifxi_rows_excerpt(cells[2].p, cells[2].len, ref, sizeof ref);
    if (len == 0)
        return ifx_err_set_at(c->err, IFX_E_REJECTED, cells[0].at,
                              "%s: the server reported an error without a message%s%s%s", c->what,
                              ref[0] ? " (reference " : "", ref, ref[0] ? ")" : "");
    return ifx_err_set_at(c->err, IFX_E_REJECTED, n >= 2 ? cells[1].at : cells[0].at, "%s%s%s%s",
                          text, ref[0] ? " (reference " : "", ref, ref[0] ? ")" : "");
}

static ifx_rc v2_data(ifx_rows_ctx *c, v2_state *st, size_t line, size_t n)
{
    ifx_rows_priv *pv = c->pv;
    ifx_rows_reader *r = c->r;
    ifx_row row = {0};
    size_t k;
    ifx_rc rc;

    if (st->error_table)
        return v2_rejected(c, n);
    if (n - 1 != st->ncols)
        return ifxi_rows_fail(c, line, pv->cells[0].at, "the row has %zu cells, the header %zu",
                              n - 1, st->ncols);
    for (k = 0; k < st->ncols; k++) {
        const ifx_rows_cell *cell = &pv->cells[k + 1];
        ifx_rows_colinfo *inf = &pv->info[k];
        ifx_value *val = &r->vals[k];
        char shown[48], cname[48];
        ifx_err why;

        if (cell->len == 0) {
            if (inf->has_default)
                *val = inf->def;
            else
                val->type = IFX_VAL_NULL;
            continue;
        }
        if (inf->type == IFX_COL_TIME && cell->len == inf->last_len &&
            memcmp(cell->p, inf->last_text, cell->len) == 0) {
            /* the same text as the row before: the same instant */
            val->type = IFX_VAL_TIME;
            val->v.i = inf->last_ns;
            val->text.p = cell->p;
            val->text.len = cell->len;
            continue;
        }
        why.msg[0] = '\0';
        rc = v2_convert(inf->type, cell->p, cell->len, val, &why, &inf->minute);
        if (rc == IFX_E_NOMEM)
            return ifxi_rows_oom(c, rc);
        if (rc == IFX_OK && inf->type == IFX_COL_TIME && cell->len < IFX_ROWS_TIME_MEMO) {
            memcpy(inf->last_text, cell->p, cell->len);
            inf->last_len = (unsigned char)cell->len;
            inf->last_ns = val->v.i;
        }
        if (rc)
            return ifxi_rows_fail(
                c, line, cell->at, "cell \"%s\" of column \"%s\" is not a %s%s%s",
                ifxi_rows_excerpt(cell->p, cell->len, shown, sizeof shown),
                ifxi_rows_excerpt(r->cols[k].name, r->cols[k].len, cname, sizeof cname),
                type_names[inf->type], why.msg[0] ? ": " : "", why.msg);
    }
    row.ncols = st->ncols;
    row.cols = r->cols;
    row.vals = r->vals;
    if (st->table_col >= 0) {
        const ifx_value *t = &r->vals[st->table_col];
        if (t->type == IFX_VAL_I64)
            row.table = t->v.i;
        else if (t->type == IFX_VAL_STRING && !parse_i64(t->v.s.p, t->v.s.len, &row.table))
            row.table = 0;
    }
    if (st->meas_col >= 0 && r->vals[st->meas_col].type == IFX_VAL_STRING) {
        row.measurement = r->vals[st->meas_col].v.s.p;
        row.measurement_len = r->vals[st->meas_col].v.s.len;
    }
    return ifxi_rows_deliver(c, &row);
}

ifx_rc ifxi_rows_read_v2_csv(ifx_rows_ctx *c)
{
    ifx_rows_priv *pv = c->pv;
    v2_state *st = &pv->csv;
    size_t pos = 0, n;
    bool wait;
    ifx_rc rc;

    if (!pv->started) {
        v2_new_block(c, st);
        pv->line = 1;
        pv->started = true;
    }
    while (pos < c->len) {
        size_t rec_line = pv->line;
        const ifx_rows_cell *first;
        char shown[48];

        if ((rc = whole_record(c, &pos, &n, true, &wait)) || wait)
            return rc;
        first = &c->pv->cells[0];
        if (is_blank_line(c->pv->cells, n)) {
            /* The end of a schema block or of a result: the next row needs a new header. */
            v2_new_block(c, st);
            continue;
        }
        if (first->len > 0 && first->p[0] == '#')
            rc = v2_annotation(c, st, rec_line, n);
        else if (first->len > 0)
            return ifxi_rows_fail(c, rec_line, first->at,
                                  "the first cell must be empty or an annotation, found \"%s\"",
                                  ifxi_rows_excerpt(first->p, first->len, shown, sizeof shown));
        else if (!st->have_header)
            rc = v2_header(c, st, rec_line, n);
        else
            rc = v2_data(c, st, rec_line, n);
        if (rc)
            return rc;
    }
    c->consumed = pos;
    if (c->more)
        return IFX_OK;
    if (st->error_table)
        return ifx_err_set_at(c->err, IFX_E_REJECTED, c->len,
                              "%s: the server started an error table without a message", c->what);
    return IFX_OK;
}

/* ---- v3 CSV --------------------------------------------------------------------------------- */

ifx_rc ifxi_rows_read_v3_csv(ifx_rows_ctx *c)
{
    ifx_rows_reader *r = c->r;
    ifx_rows_priv *pv = c->pv;
    ifx_rows_csv_state *st = &pv->csv;
    size_t pos = 0, n, k;
    bool wait;
    ifx_row row = {0};
    ifx_rc rc;

    if (!pv->started) {
        memset(st, 0, sizeof *st);
        st->time_col = -1;
        ifx_buf_reset(&pv->keep);
        pv->line = 1;
        pv->started = true;
    }
    while (pos < c->len) {
        size_t rec_line = pv->line;
        const ifx_rows_cell *cells;

        if ((rc = whole_record(c, &pos, &n, false, &wait)) || wait)
            return rc;
        cells = c->pv->cells;
        /* arrow-csv never writes an empty line (a lone null cell is written ""). */
        if (is_blank_line(cells, n))
            continue;
        if (!st->have_header) {
            rc = header_names(c, 0, n);
            if (rc)
                return rc;
            st->ncols = n;
            st->time_col = find_column(c, st->ncols, "time");
            st->have_header = true;
            continue;
        }
        if (n != st->ncols)
            return ifxi_rows_fail(c, rec_line, cells[0].at, "the row has %zu cells, the header %zu",
                                  n, st->ncols);
        for (k = 0; k < st->ncols; k++) {
            ifx_value *val = &r->vals[k];
            char shown[48];
            ifx_err why;

            if (cells[k].len == 0) {
                val->type = IFX_VAL_NULL;
            } else if ((long)k == st->time_col) {
                val->type = IFX_VAL_TIME;
                val->text.p = cells[k].p;
                val->text.len = cells[k].len;
                ifx_err_clear(&why);
                if (ifxi_rows_parse_time(cells[k].p, cells[k].len, &val->v.i, &why,
                                         &pv->v3_minute) != IFX_OK)
                    return ifxi_rows_fail(
                        c, rec_line, cells[k].at,
                        "cell \"%s\" of column \"time\" is not a timestamp: %s",
                        ifxi_rows_excerpt(cells[k].p, cells[k].len, shown, sizeof shown), why.msg);
            } else {
                val->type = IFX_VAL_STRING;
                val->v.s.p = cells[k].p;
                val->v.s.len = cells[k].len;
            }
        }
        row.ncols = st->ncols;
        row.cols = r->cols;
        row.vals = r->vals;
        rc = ifxi_rows_deliver(c, &row);
        if (rc)
            return rc;
    }
    c->consumed = pos;
    return IFX_OK;
}
