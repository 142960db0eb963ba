/* ifx — query result readers: what every format's reader (rows_json.c, rows_csv.c) and the
 * dispatch (rows.c) share; defined in rows_common.c. Not part of the public API. */
#ifndef IFX_ROWS_COMMON_H
#define IFX_ROWS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ifx/rows.h"
#include "core/timeutil_internal.h"

/* Value types of an annotated CSV column (#datatype). */
enum ifx_rows_coltype {
    IFX_COL_STRING = 0,
    IFX_COL_LONG,
    IFX_COL_ULONG,
    IFX_COL_DOUBLE,
    IFX_COL_BOOL,
    IFX_COL_TIME
};

/* One CSV cell of the current record. */
typedef struct ifx_rows_cell {
    const char *p; /* into the body, or into the scratch buffer once the record is complete */
    size_t len;
    size_t at;  /* byte offset of the cell (its opening quote, if quoted) in the body */
    size_t off; /* offset of the unescaped text in the scratch buffer, or SIZE_MAX */
    bool quoted;
} ifx_rows_cell;

/* The longest time text the v2 reader remembers per column (RFC 3339 with 9 fraction digits and
 * an offset is 35 bytes). */
#define IFX_ROWS_TIME_MEMO 36

/* What a CSV schema block says about one column (annotated CSV: one per header column). */
typedef struct ifx_rows_colinfo {
    unsigned char type; /* enum ifx_rows_coltype */
    bool has_default;
    size_t name_off; /* offset of the name in keep, or SIZE_MAX when it points into the body */
    size_t def_off;  /* #default text in keep */
    size_t def_len;
    size_t def_at; /* byte offset of the #default cell in the answer, for messages */
    ifx_value def; /* the parsed #default value */
    /* A dateTime column's last cell and its value (v2): Flux repeats _start and _stop on every
     * row, so the parse is skipped while the text does not change. last_len 0: none. */
    unsigned char last_len;
    char last_text[IFX_ROWS_TIME_MEMO];
    int64_t last_ns;
    ifxi_time_memo minute; /* a dateTime column's last minute (_time changes every row) */
} ifx_rows_colinfo;

/* Where a CSV reader stands between two records: what the schema block read so far says. */
typedef struct ifx_rows_csv_state {
    bool have_header; /* the current block's header was read */
    bool error_table; /* ... and it starts an in-band error table (v2) */
    bool have_types;  /* #datatype seen in this block (v2) */
    bool have_defaults;
    size_t ntypes, ndefaults, defaults_line;
    size_t ncols; /* header columns (v2: without the annotation column) */
    long table_col, meas_col, time_col;
} ifx_rows_csv_state;

/* ifx_rows_reader.priv. Every array grows with the widest row or header only. */
typedef struct ifx_rows_priv {
    ifx_rows_cell *cells;
    size_t cap_cells;
    ifx_rows_colinfo *info;
    size_t cap_info;
    /* Text that outlives one row: CSV header names and #default values (until the next schema
     * block), v1 series names, column names and tags (until the next series). */
    ifx_buf keep;
    /* A reader's place between two calls on one answer (streaming, see ifx_rows_stream): the
     * line count and the CSV schema. started is false before the first call of an answer. */
    bool started;
    size_t line;
    ifx_rows_csv_state csv;
    /* v1: the series being read (its row's columns, measurement and table) */
    ifx_row v1_row;
    size_t v1_ncolumns;
    long v1_time_col;
    /* v1 streaming: where the reader stands in the document (see rows_json.c) */
    int v1_level, v1_phase;
    bool v1_saw_results, v1_saw_doc;
    size_t v1_doc_at; /* offset of the document's '{' in the answer */
    int64_t v1_series;
    ifx_buf v1_head;          /* a series' text up to its "values" array, closed: "...[]}" */
    ifxi_time_memo v3_minute; /* the minute of the last v3 "time" read (JSON, JSONL, CSV) */
} ifx_rows_priv;

/* One ifx_rows_read call. */
typedef struct ifx_rows_ctx {
    ifx_rows_reader *r;
    ifx_rows_priv *pv;
    const char *body;
    size_t len;
    ifx_row_fn fn;
    void *ud;
    ifx_err *err;     /* never NULL */
    const char *what; /* the format, for messages: "annotated CSV", "v3 JSONL", ... */
    const char *unit; /* what numbers places in messages: "line", "row" */
    /* Streaming: body is a window of the answer that starts at byte base of it. With more set,
     * more bytes follow: a reader stops before a record the window does not hold whole and sets
     * consumed to where that record starts (it reads it again, whole, on the next call). Error
     * offsets the readers set are relative to body; the caller adds base. */
    size_t base;
    bool more;
    size_t consumed;
    bool stream;  /* called by ifx_rows_stream (v1 then reads value by value) */
    bool refused; /* the row callback stopped the read: its error is its own, offsets too */
} ifx_rows_ctx;

/* Cap of the scratch and keep buffers: the body itself is capped by whoever fetched it, and no
 * row takes more scratch than its own bytes in the body. */
#define IFX_ROWS_BUF_CAP (SIZE_MAX / 4)

/* IFX_E_INVALID at byte at: "<what>, <unit> <n>: <message>" ("<what>: <message>" when n is 0). */
ifx_rc ifxi_rows_fail(ifx_rows_ctx *c, size_t n, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The body stopped in the middle of a row (v3 streams its errors that way). */
ifx_rc ifxi_rows_truncated(ifx_rows_ctx *c, size_t n, size_t at);

/* IFX_E_NOMEM or IFX_E_FULL from a buffer or an allocation, with a message. */
ifx_rc ifxi_rows_oom(ifx_rows_ctx *c, ifx_rc rc);

/* Makes room for n columns and values in the reader. */
ifx_rc ifxi_rows_ensure_cols(ifx_rows_ctx *c, size_t n);

/* Grows arr (*cap items of elem bytes) to hold at least need items: returns the new array and
 * updates *cap, or returns NULL (arr and *cap unchanged) when memory runs out. */
void *ifxi_rows_grow(void *arr, size_t *cap, size_t need, size_t elem);

/* Hands a row to the callback; a refusal keeps the callback's code, with a message. */
ifx_rc ifxi_rows_deliver(ifx_rows_ctx *c, const ifx_row *row);

/* RFC 3339 with a zone, or v3's ISO form without one, read as UTC. On failure terr holds the
 * reason from ifx_time_parse_rfc3339. memo (may be NULL): the column's last minute, see
 * ifxi_time_parse_utc_memo. */
ifx_rc ifxi_rows_parse_time(const char *p, size_t len, int64_t *ns, ifx_err *terr,
                            ifxi_time_memo *memo);

/* The double of a plain decimal (-?d+(.d+)?([eE][+-]?d+)?) of at most 15 significant digits and
 * a power of ten within 1e22 either way, exactly as strtod reads it, without strtod (its locale
 * lookup and big-number path were a tenth of the source's time); false: use strtod. */
bool ifxi_rows_fast_double(const char *p, size_t len, double *out);

/* 10^k for k <= 22, the powers of ten that are exact doubles. */
static inline double ifxi_rows_pow10(unsigned k)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    return pow10[k];
}

/* m / 10^nfrac, negated when neg, for m < 10^15 and nfrac <= 22: both exact doubles, so one
 * correctly rounded division gives the correctly rounded value (Clinger's fast path), strtod's
 * and ifxi_rows_fast_double's. */
static inline double ifxi_rows_decimal(uint64_t m, unsigned nfrac, bool neg)
{
    double d = (double)m / ifxi_rows_pow10(nfrac);
    return neg ? -d : d;
}

/* Copies at most about 40 bytes of p into out (size >= 48) for a message: control bytes become
 * '?', a cut never splits a UTF-8 sequence and is marked "...". Returns out. */
const char *ifxi_rows_excerpt(const char *p, size_t len, char *out, size_t size);

/* Whether p[0..len) is exactly the NUL-terminated lit. The length first: with a literal, strlen
 * and memcmp fold into a compare and a load or two (the readers ask it of every column of every
 * row; a byte loop was 1 % of v3 and v2). */
static inline bool ifx_rows_eq(const char *p, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(p, lit, len) == 0;
}

#endif
