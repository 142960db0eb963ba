/* ifx — query result readers: the answers of v1 (/query JSON), v2 (/api/v2/query annotated CSV)
 * and v3 (/api/v3/query_sql and query_influxql as JSONL, JSON or CSV) read into one row type.
 *
 * A reader walks a complete response body (the HTTP engine caps its size) and hands each row to
 * a callback, without building a tree or a row array: memory stays bounded by the body plus one
 * row. Strings in a row point into the body or into the reader's scratch buffer and are valid
 * only during the callback.
 *
 * Thread safety: an ifx_rows_reader belongs to one thread at a time.
 */
#ifndef IFX_ROWS_H
#define IFX_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ifx/export.h"
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
        int64_t i;  /* I64, and TIME in nanoseconds */
        uint64_t u; /* U64 */
        double f;   /* F64 (may be NaN or infinite in v2 CSV) */
        struct {
            const char *p;
            size_t len;
        } s; /* STRING: UTF-8 (but see IFX_RESULT_V2_CSV), not NUL-terminated */
    } v;
    /* F64 and TIME only: the value's text as the answer wrote it (valid as long as the row), so
     * that a consumer can pass it on without formatting the value again: the decimal of a
     * double, the RFC 3339 text a time was read from (v3's zone-less form included). p is NULL
     * when the reader has none (NaN and infinities, integer times, values built by hand). Read
     * it only for F64 and TIME. */
    struct {
        const char *p;
        size_t len;
    } text;
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
    /* v2: the Flux table number of the row (the `table` cell); v1: the series index, counted
     * from 0 across every result and chunk of the body; else 0. Rows of different tables may
     * share a timestamp (several series in one query). */
    int64_t table;
} ifx_row;

/* Return IFX_OK to continue, anything else to stop: ifx_rows_read then returns that code. */
typedef ifx_rc (*ifx_row_fn)(void *ud, const ifx_row *row, ifx_err *err);

/* The columns of a row, per format:
 * - V1_JSON: the series "columns", then one STRING column per series tag (GROUP BY), in the
 *   server's order. A tag value "" (how a series without the tag, or a null tag, is rendered;
 *   InfluxDB has no empty tag values) is NULL. JSON values are typed as for v3 JSON below, JSON
 *   null is NULL. Several documents separated by newlines (chunked=true) are read in turn;
 *   "partial" is ignored. "time" integers are taken as nanoseconds: query with epoch=ns or none.
 * - V2_CSV: every column but the annotation column 0, so `result` and `table` come first, typed
 *   by #datatype alone (string, long, unsignedLong, double with +Inf/-Inf/NaN, boolean,
 *   dateTime[:RFC3339|:RFC3339Nano]); without #datatype every cell is a STRING. An empty cell is
 *   the column's #default, else NULL. Cells are passed on byte for byte: a STRING holds
 *   whatever bytes the server stored, which 2.x does not check to be UTF-8.
 * - V3_JSONL, V3_JSON: the keys of each object, in order; v3 leaves null values out, so the set
 *   of columns can differ from row to row: look columns up by name (ifx_row_find) per row. An
 *   integer is I64, or U64 above INT64_MAX, or F64 beyond both ranges; other numbers are F64;
 *   a nested array or object is a STRING holding its compact JSON text.
 * - V3_CSV: the header names; cells are STRING (the "time" column TIME), empty cells NULL. */
typedef enum ifx_result_format {
    IFX_RESULT_V1_JSON = 1, /* {"results":[{"series":[{"name","tags","columns","values"}]}]} */
    IFX_RESULT_V2_CSV,      /* Flux annotated CSV with #datatype (and #group, #default) */
    IFX_RESULT_V3_JSONL,    /* one object per line; absent keys are nulls */
    IFX_RESULT_V3_JSON,     /* one array of objects */
    IFX_RESULT_V3_CSV       /* header row, then rows; untyped: every non-empty cell a string */
} ifx_result_format;

typedef struct ifx_rows_reader {
    ifx_buf scratch;  /* unescaped strings of the current row */
    ifx_column *cols; /* current header / row keys */
    ifx_value *vals;
    size_t cap_cols;
    void *priv; /* format-specific state */
} ifx_rows_reader;

/* Sets up an empty reader. Allocates nothing until the first row. */
IFX_EXTERN void ifx_rows_reader_init(ifx_rows_reader *r);
IFX_EXTERN void ifx_rows_reader_free(ifx_rows_reader *r);

/* Reads every row of body[0..len) in format fmt and calls fn for each. Borrows body (which
 * needs no NUL) for the call only; never reads past len.
 * Time columns become IFX_VAL_TIME: v2 dateTime columns; in v1 and v3 the column named "time"
 * (RFC 3339 with Z, v3's ISO form without a zone read as UTC, or integer nanoseconds; null is
 * NULL, anything else there is IFX_E_INVALID).
 * Errors (IFX_E_INVALID with the byte offset in err->offset and a message naming the format, the
 * line or row, and the problem): malformed JSON/CSV, a truncated body (v3 streams errors by
 * cutting the body: a last line without its line end, an unterminated JSON array, an empty v3
 * JSON or v1 body), data rows before a header, a row wider or narrower than its header, an
 * unknown #datatype, a value that does not fit its datatype. A server-reported error inside a 200
 * answer (v1 statement or top-level "error", the v2 in-band error table) is IFX_E_REJECTED with
 * the server's message (v2: plus " (reference N)"). The rows before an error have already been
 * delivered: on any error, treat the whole answer as failed. When fn stops the read, its code is
 * returned, with its message if it set one in err (never NULL for fn), else one saying so. err
 * may be NULL. */
IFX_EXTERN ifx_rc ifx_rows_read(ifx_rows_reader *r, ifx_result_format fmt, const char *body,
                                size_t len, ifx_row_fn fn, void *ud, ifx_err *err);

/* Streaming: an answer read as it arrives, in chunks split anywhere (inside a UTF-8 sequence, an
 * escape, a number, a quoted CSV cell or its CR LF). Rows are handed to fn as soon as the chunks
 * hold them whole; a stream keeps only the bytes of the record in progress (v3 JSONL and the CSV
 * formats: one line, or one CSV record; V1_JSON: one row of "values", or a series' head). V3_JSON
 * is still read whole at ifx_rows_stream_end (the stream keeps the answer until then).
 * Rows, errors and their byte offsets (counted from the start of the answer) are those
 * ifx_rows_read gives on the whole answer, with one exception: V1_JSON rows are delivered as
 * they arrive, so an answer that fails later (a syntax error, a cut, an "error" after "results")
 * may have delivered rows that ifx_rows_read, which validates each document first, would not
 * have; its syntax errors are worded differently. A stream that failed stays failed.
 *
 * Thread safety: a stream, like its reader, belongs to one thread at a time. */
typedef struct ifx_rows_stream {
    ifx_rows_reader *reader; /* borrowed */
    ifx_result_format fmt;
    ifx_row_fn fn;
    void *ud;
    ifx_buf carry;   /* bytes of the answer not read yet: the record in progress */
    size_t base;     /* offset in the answer of carry.data[0] */
    size_t total;    /* bytes fed so far (the answer read) */
    bool whole;      /* the format is read whole at the end */
    bool values;     /* v1: records end anywhere; read again once the carry has doubled */
    size_t retry_at; /* v1: the carry's length at which to read again */
    ifx_rc failed;   /* the first error, returned again by later calls */
} ifx_rows_stream;

/* Starts reading one answer in format fmt with reader r (borrowed until ifx_rows_stream_free),
 * handing each row to fn. Allocates nothing. max_record caps the bytes kept between chunks (one
 * record, or the whole answer for the whole formats); 0 means no cap but memory. */
IFX_EXTERN void ifx_rows_stream_init(ifx_rows_stream *s, ifx_rows_reader *r, ifx_result_format fmt,
                                     size_t max_record, ifx_row_fn fn, void *ud);
/* Feeds the next len bytes of the answer (borrowed for the call). Returns IFX_OK, or the error
 * (as ifx_rows_read's) that stops the answer. */
IFX_EXTERN ifx_rc ifx_rows_stream_feed(ifx_rows_stream *s, const char *p, size_t len, ifx_err *err);
/* The answer is complete: reads what is left, and reports a truncated last record. */
IFX_EXTERN ifx_rc ifx_rows_stream_end(ifx_rows_stream *s, ifx_err *err);
IFX_EXTERN void ifx_rows_stream_free(ifx_rows_stream *s);

/* Finds a column by name (NUL-terminated) in a row; returns the index of the first column with
 * that name, or -1 (also for a NULL row or name). */
IFX_EXTERN long ifx_row_find(const ifx_row *row, const char *name);

#ifdef __cplusplus
}
#endif
#endif
