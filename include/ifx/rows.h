/* ifx — query result readers: the answers of v1 (/query JSON), v2 (/api/v2/query annotated CSV)
 * and v3 (/api/v3/query_sql and query_influxql as JSONL, JSON or CSV) read into one row type.
 *
 * A reader walks a complete response body (the HTTP engine caps its size) and hands each row to
 * a callback, without building a tree or a row array: memory stays bounded by the body plus one
 * row. Strings in a row point into the body or into the reader's scratch buffer and are valid
 * only during the callback. See ../shared/spec/influxdb-http-api.md §2.5, §2.6, §3.4, §4.3.
 *
 * Thread safety: an ifx_rows_reader belongs to one thread at a time.
 */
#ifndef IFX_ROWS_H
#define IFX_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ifx/buf.h"
#include "ifx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ifx_value_type {
    IFX_VAL_NULL = 0,
    IFX_VAL_BOOL,
    IFX_VAL_I64,
    IFX_VAL_U64,
    IFX_VAL_F64,
    IFX_VAL_STRING,
    IFX_VAL_TIME /* nanoseconds since the epoch, UTC */
} ifx_value_type;

typedef struct ifx_value {
    ifx_value_type type;
    union {
        bool b;
        int64_t i;    /* I64, and TIME in nanoseconds */
        uint64_t u;   /* U64 */
        double f;     /* F64 (may be NaN or infinite in v2 CSV) */
        struct {
            const char *p;
            size_t len;
        } s;          /* STRING: UTF-8, not NUL-terminated */
    } v;
} ifx_value;

typedef struct ifx_column {
    const char *name; /* not NUL-terminated */
    size_t len;
} ifx_column;

/* One row. ncols names and values, in the server's column order. */
typedef struct ifx_row {
    size_t ncols;
    const ifx_column *cols;
    const ifx_value *vals;
    /* The measurement the row came from, when the format says it (v1: the series name; v3
     * InfluxQL: the iox::measurement column; v2: the _measurement column); else NULL/0. */
    const char *measurement;
    size_t measurement_len;
    /* v2: the Flux table number of the row; v1: the series index; else 0. Rows of different
     * tables may share a timestamp (several series in one query). */
    int64_t table;
} ifx_row;

/* Return IFX_OK to continue, anything else to stop: ifx_rows_read then returns that code. */
typedef ifx_rc (*ifx_row_fn)(void *ud, const ifx_row *row, ifx_err *err);

typedef enum ifx_result_format {
    IFX_RESULT_V1_JSON = 1, /* {"results":[{"series":[{"name","tags","columns","values"}]}]} */
    IFX_RESULT_V2_CSV,      /* Flux annotated CSV with #datatype (and #group, #default) */
    IFX_RESULT_V3_JSONL,    /* one object per line; absent keys are nulls */
    IFX_RESULT_V3_JSON,     /* one array of objects */
    IFX_RESULT_V3_CSV       /* header row, then rows; untyped: every non-empty cell a string */
} ifx_result_format;

typedef struct ifx_rows_reader {
    ifx_buf scratch;   /* unescaped strings of the current row */
    ifx_column *cols;  /* current header / row keys */
    ifx_value *vals;
    size_t cap_cols;
    void *priv;        /* format-specific state */
} ifx_rows_reader;

/* Sets up an empty reader. Allocates nothing until the first row. */
void ifx_rows_reader_init(ifx_rows_reader *r);
void ifx_rows_reader_free(ifx_rows_reader *r);

/* Reads every row of body[0..len) in format fmt and calls fn for each.
 * Time columns become IFX_VAL_TIME: v2 dateTime columns; in v1 and v3 the column named "time"
 * (RFC 3339 with Z, v3's ISO form without a zone read as UTC, or integer nanoseconds).
 * Errors (IFX_E_INVALID with the byte offset in err->offset and a message naming the problem):
 * malformed JSON/CSV, a truncated body (v3 streams errors by cutting the body), data rows before a
 * header, a row wider than its header, an unknown #datatype, a value that does not fit its
 * datatype. A server-reported error inside a 200 answer (v1 statement "error", the v2 in-band
 * error table) is IFX_E_REJECTED with the server's message, after the rows before it. */
ifx_rc ifx_rows_read(ifx_rows_reader *r, ifx_result_format fmt, const char *body, size_t len,
                     ifx_row_fn fn, void *ud, ifx_err *err);

/* Finds a column by name in a row; returns its index or -1. */
long ifx_row_find(const ifx_row *row, const char *name);

#ifdef __cplusplus
}
#endif
#endif
