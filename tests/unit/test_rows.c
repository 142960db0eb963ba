/* Tests for the query result readers (src/core/rows.c, rows_csv.c), with the answers of spec
 * influxdb-http-api.md §2.5, §2.6, §3.4 and §4.3. Each row is rendered as one text line so that a
 * whole answer is checked at once:
 *   #<table> [m=<measurement>] <column>=<type>:<value> ...
 * with types b (bool), i (I64), u (U64), f (F64), s (string, quoted), t (time, as RFC 3339), and
 * "null". */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/row_key.h"
#include "ifx/rows.h"
#include "ifx/timeutil.h"

#define S(lit) lit, sizeof lit - 1

/* ---- the collecting callback ---------------------------------------------------------------- */

typedef struct collect {
    ifx_buf out;
    int rows;
    int stop_at; /* refuse the stop_at-th row (1-based); 0 = never */
    ifx_rc stop_rc;
    const char *stop_msg; /* the callback's own message, or NULL for none */
} collect;

static void put(ifx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(ifx_buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    assert_int_equal(ifx_buf_puts(b, tmp), IFX_OK);
}

static void render_value(ifx_buf *b, const ifx_value *v)
{
    char ts[IFX_RFC3339_MAX];

    switch (v->type) {
    case IFX_VAL_NULL:
        put(b, "null");
        break;
    case IFX_VAL_BOOL:
        put(b, "b:%s", v->v.b ? "true" : "false");
        break;
    case IFX_VAL_I64:
        put(b, "i:%" PRId64, v->v.i);
        break;
    case IFX_VAL_U64:
        put(b, "u:%" PRIu64, v->v.u);
        break;
    case IFX_VAL_F64:
        if (isnan(v->v.f))
            put(b, "f:NaN");
        else if (isinf(v->v.f))
            put(b, "f:%sInf", v->v.f > 0 ? "+" : "-");
        else
            put(b, "f:%.15g", v->v.f);
        break;
    case IFX_VAL_STRING:
        assert_non_null(v->v.s.p);
        put(b, "s:\"");
        assert_int_equal(ifx_buf_append(b, v->v.s.p, v->v.s.len), IFX_OK);
        put(b, "\"");
        break;
    case IFX_VAL_TIME:
        ifx_time_format_rfc3339(v->v.i, ts);
        put(b, "t:%s", ts);
        break;
    default:
        fail_msg("bad value type %d", (int)v->type);
    }
}

static ifx_rc on_row(void *ud, const ifx_row *row, ifx_err *err)
{
    collect *c = ud;
    size_t i;

    c->rows++;
    if (row->ncols) {
        assert_non_null(row->cols);
        assert_non_null(row->vals);
    }
    put(&c->out, "#%" PRId64, row->table);
    if (row->measurement)
        put(&c->out, " m=%.*s", (int)row->measurement_len, row->measurement);
    else
        assert_int_equal(row->measurement_len, 0);
    for (i = 0; i < row->ncols; i++) {
        put(&c->out, " %.*s=", (int)row->cols[i].len, row->cols[i].name);
        render_value(&c->out, &row->vals[i]);
    }
    put(&c->out, "\n");
    if (c->stop_at == c->rows) {
        if (c->stop_msg)
            ifx_err_set(err, c->stop_rc, "%s", c->stop_msg);
        return c->stop_rc;
    }
    return IFX_OK;
}

static void collect_init(collect *c)
{
    memset(c, 0, sizeof *c);
    ifx_buf_init(&c->out, 1 << 22);
    assert_int_equal(ifx_buf_puts(&c->out, ""), IFX_OK);
}

/* Reads a copy of body held in a buffer of exactly len bytes, so that AddressSanitizer catches
 * any read past the end. */
static ifx_rc run_reader(ifx_rows_reader *r, ifx_result_format fmt, const char *body, size_t len,
                         collect *c, ifx_err *err)
{
    char *copy = malloc(len ? len : 1);
    ifx_rc rc;

    assert_non_null(copy);
    memcpy(copy, body, len);
    rc = ifx_rows_read(r, fmt, copy, len, on_row, c, err);
    free(copy);
    return rc;
}

static ifx_rc run(ifx_result_format fmt, const char *body, size_t len, collect *c, ifx_err *err)
{
    ifx_rows_reader r;
    ifx_rc rc;

    ifx_rows_reader_init(&r);
    rc = run_reader(&r, fmt, body, len, c, err);
    ifx_rows_reader_free(&r);
    return rc;
}

static void expect_rows(ifx_result_format fmt, const char *body, size_t len, const char *want)
{
    collect c;
    ifx_err err;
    ifx_rc rc;

    collect_init(&c);
    rc = run(fmt, body, len, &c, &err);
    if (rc != IFX_OK)
        fail_msg("refused (%s): %s\nbody: %.*s", ifx_rc_name(rc), err.msg, (int)len, body);
    assert_int_equal(err.code, IFX_OK);
    assert_string_equal(c.out.data, want);
    ifx_buf_free(&c.out);
}

/* The read fails with code (message msg when not NULL, offset at unless IFX_NO_OFFSET is wanted
 * as "any"), after delivering exactly the rows rendered in rows. */
static void expect_error(ifx_result_format fmt, const char *body, size_t len, ifx_rc code,
                         const char *msg, size_t at, const char *rows)
{
    collect c;
    ifx_err err;
    ifx_rc rc;

    collect_init(&c);
    rc = run(fmt, body, len, &c, &err);
    if (rc != code)
        fail_msg("expected %s, got %s: %s\nbody: %.*s", ifx_rc_name(code), ifx_rc_name(rc), err.msg,
                 (int)len, body);
    assert_int_equal(err.code, code);
    assert_true(err.msg[0] != '\0');
    assert_null(strchr(err.msg, '\n'));
    if (msg)
        assert_string_equal(err.msg, msg);
    if (at != IFX_NO_OFFSET && err.offset != at)
        fail_msg("offset %zu, expected %zu: %s", err.offset, at, err.msg);
    assert_string_equal(c.out.data, rows ? rows : "");
    ifx_buf_free(&c.out);
}

#define ANY IFX_NO_OFFSET

/* ---- v2: Flux annotated CSV ----------------------------------------------------------------- */

/* spec §3.4, "Complete example", byte for byte. */
static const char flux_example[] =
    "#group,false,false,true,true,false,false,true,true,true\r\n"
    "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,"
    "string,string\r\n"
    "#default,_result,,,,,,,,\r\n"
    ",result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n"
    ",,0,2022-12-31T05:41:24Z,2023-01-31T05:41:24.001Z,2023-01-01T00:52:00Z,15.43,mem,m,A\r\n"
    ",,1,2022-12-31T05:41:24Z,2023-01-31T05:41:24.001Z,2023-01-01T00:52:00Z,59.25,mem,m,B\r\n"
    "\r\n"
    "#group,false,false,true,true,false,false,true,true\r\n"
    "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,long,string,"
    "string\r\n"
    "#default,_result,,,,,,,\r\n"
    ",result,table,_start,_stop,_time,_value,_field,_measurement\r\n"
    ",,2,2022-12-31T05:41:24Z,2023-01-31T05:41:24.001Z,2023-01-01T00:52:00Z,7,count,m\r\n"
    "\r\n";

#define EX_TIMES                                                                                   \
    " _start=t:2022-12-31T05:41:24Z _stop=t:2023-01-31T05:41:24.001Z"                              \
    " _time=t:2023-01-01T00:52:00Z"

static const char flux_example_rows[] =
    "#0 m=m result=s:\"_result\" table=i:0" EX_TIMES
    " _value=f:15.43 _field=s:\"mem\" _measurement=s:\"m\" host=s:\"A\"\n"
    "#1 m=m result=s:\"_result\" table=i:1" EX_TIMES
    " _value=f:59.25 _field=s:\"mem\" _measurement=s:\"m\" host=s:\"B\"\n"
    "#2 m=m result=s:\"_result\" table=i:2" EX_TIMES
    " _value=i:7 _field=s:\"count\" _measurement=s:\"m\"\n";

static void test_v2_spec_example(void **state)
{
    collect c;
    ifx_err err;
    ifx_rows_reader r;

    (void)state;
    expect_rows(IFX_RESULT_V2_CSV, S(flux_example), flux_example_rows);

    /* Exact values, beyond the rendering. */
    ifx_rows_reader_init(&r);
    collect_init(&c);
    assert_int_equal(run_reader(&r, IFX_RESULT_V2_CSV, S(flux_example), &c, &err), IFX_OK);
    assert_int_equal(c.rows, 3);
    ifx_rows_reader_free(&r);
    ifx_buf_free(&c.out);
}

/* The v2 reader remembers a dateTime column's last text and value (Flux repeats _start and _stop
 * on every row): a changed text is parsed again, and a new schema block forgets it, whatever the
 * column's new type. */
static void test_v2_time_memo(void **state)
{
    (void)state;
    expect_rows(IFX_RESULT_V2_CSV,
                S("#datatype,string,long,dateTime:RFC3339\r\n"
                  "#group,false,false,false\r\n"
                  "#default,_result,,\r\n"
                  ",result,table,_time\r\n"
                  ",,0,2026-01-01T00:00:00Z\r\n"
                  ",,0,2026-01-01T00:00:00Z\r\n"
                  ",,0,2026-01-01T00:00:00.5Z\r\n"
                  ",,0,2026-01-01T00:00:00Z\r\n"
                  "\r\n"
                  "#datatype,string,long,string\r\n"
                  "#group,false,false,false\r\n"
                  "#default,_result,,\r\n"
                  ",result,table,_time\r\n"
                  ",,1,2026-01-01T00:00:00Z\r\n"
                  "\r\n"
                  "#datatype,string,long,dateTime:RFC3339\r\n"
                  "#group,false,false,false\r\n"
                  "#default,_result,,\r\n"
                  ",result,table,_time\r\n"
                  ",,2,2026-01-01T00:00:00Z\r\n"
                  "\r\n"),
                "#0 result=s:\"_result\" table=i:0 _time=t:2026-01-01T00:00:00Z\n"
                "#0 result=s:\"_result\" table=i:0 _time=t:2026-01-01T00:00:00Z\n"
                "#0 result=s:\"_result\" table=i:0 _time=t:2026-01-01T00:00:00.5Z\n"
                "#0 result=s:\"_result\" table=i:0 _time=t:2026-01-01T00:00:00Z\n"
                "#1 result=s:\"_result\" table=i:1 _time=s:\"2026-01-01T00:00:00Z\"\n"
                "#2 result=s:\"_result\" table=i:2 _time=t:2026-01-01T00:00:00Z\n");
}

static void test_v2_annotation_order(void **state)
{
    (void)state;
    /* #datatype, #group and #default in any order; the reader only needs their positions. */
    expect_rows(IFX_RESULT_V2_CSV,
                S("#default,_result,,,,,,,,\r\n"
                  "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,"
                  "double,string,string,string\r\n"
                  "#group,false,false,true,true,false,false,true,true,true\r\n"
                  ",result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n"
                  ",,0,2022-12-31T05:41:24Z,2023-01-31T05:41:24.001Z,2023-01-01T00:52:00Z,15.43,"
                  "mem,m,A\r\n"
                  "\r\n"),
                "#0 m=m result=s:\"_result\" table=i:0" EX_TIMES
                " _value=f:15.43 _field=s:\"mem\" _measurement=s:\"m\" host=s:\"A\"\n");
    /* Only #datatype: the result name is in every data row. LF line ends are read too. */
    expect_rows(IFX_RESULT_V2_CSV,
                S("#datatype,string,long,double\n"
                  ",result,table,_value\n"
                  ",_result,0,1.5\n"
                  ",_result,0,\n"),
                "#0 result=s:\"_result\" table=i:0 _value=f:1.5\n"
                "#0 result=s:\"_result\" table=i:0 _value=null\n");
    /* No annotations at all: every cell is a string, the table number is still read. */
    expect_rows(
        IFX_RESULT_V2_CSV,
        S(",result,table,_value,_measurement\r\n"
          ",_result,3,1.5,cpu\r\n"
          ",_result,,,\r\n"),
        "#3 m=cpu result=s:\"_result\" table=s:\"3\" _value=s:\"1.5\" _measurement=s:\"cpu\"\n"
        "#0 result=s:\"_result\" table=null _value=null _measurement=null\n");
}

static void test_v2_types(void **state)
{
    (void)state;
    expect_rows(IFX_RESULT_V2_CSV,
                S("#datatype,string,long,long,long,unsignedLong,unsignedLong,double,boolean,"
                  "boolean,dateTime:RFC3339Nano,dateTime\r\n"
                  ",result,table,min,max,u0,umax,d,t,f,nano,plain\r\n"
                  ",,0,-9223372036854775808,9223372036854775807,0,18446744073709551615,-0.5,true,"
                  "false,2024-01-02T03:04:05.123456789Z,1970-01-01T00:00:00Z\r\n"),
                "#0 result=null table=i:0 min=i:-9223372036854775808 max=i:9223372036854775807"
                " u0=u:0 umax=u:18446744073709551615 d=f:-0.5 t=b:true f=b:false"
                " nano=t:2024-01-02T03:04:05.123456789Z plain=t:1970-01-01T00:00:00Z\n");
    /* Doubles as Go prints them: positional, plus +Inf, -Inf and NaN. */
    expect_rows(IFX_RESULT_V2_CSV,
                S("#datatype,string,long,double\r\n"
                  ",result,table,_value\r\n"
                  ",,0,+Inf\r\n"
                  ",,0,-Inf\r\n"
                  ",,0,NaN\r\n"
                  ",,0,123456789.125\r\n"
                  ",,0,0.000001\r\n"
                  ",,0,1e3\r\n"),
                "#0 result=null table=i:0 _value=f:+Inf\n"
                "#0 result=null table=i:0 _value=f:-Inf\n"
                "#0 result=null table=i:0 _value=f:NaN\n"
                "#0 result=null table=i:0 _value=f:123456789.125\n"
                "#0 result=null table=i:0 _value=f:1e-06\n"
                "#0 result=null table=i:0 _value=f:1000\n");
}

static void test_v2_exact_values(void **state)
{
    static const char body[] = "#datatype,string,long,unsignedLong,dateTime:RFC3339\r\n"
                               ",result,table,u,_time\r\n"
                               ",,5,18446744073709551615,1970-01-01T00:00:00.000000123Z\r\n";
    ifx_rows_reader r;
    ifx_err err;
    collect c;

    (void)state;
    ifx_rows_reader_init(&r);
    collect_init(&c);
    assert_int_equal(run_reader(&r, IFX_RESULT_V2_CSV, S(body), &c, &err), IFX_OK);
    assert_int_equal(c.rows, 1);
    ifx_buf_free(&c.out);
    /* The values of the last row are still in the reader's arrays. */
    assert_int_equal(r.vals[2].type, IFX_VAL_U64);
    assert_true(r.vals[2].v.u == UINT64_MAX);
    assert_int_equal(r.vals[3].type, IFX_VAL_TIME);
    assert_int_equal(r.vals[3].v.i, 123);
    ifx_rows_reader_free(&r);
}

static void test_v2_r7_cells_named_like_headers(void **state)
{
    (void)state;
    /* Upstream took any row holding "_time", "_start" or "_stop" for a header (R7). */
    expect_rows(
        IFX_RESULT_V2_CSV,
        S("#datatype,string,long,string,string,string\r\n"
          ",result,table,_field,_value,host\r\n"
          ",,0,_time,_start,_stop\r\n"
          ",,0,result,table,_value\r\n"
          ",,0,a,b,c\r\n"),
        "#0 result=null table=i:0 _field=s:\"_time\" _value=s:\"_start\" host=s:\"_stop\"\n"
        "#0 result=null table=i:0 _field=s:\"result\" _value=s:\"table\" host=s:\"_value\"\n"
        "#0 result=null table=i:0 _field=s:\"a\" _value=s:\"b\" host=s:\"c\"\n");
}

static void test_v2_r8_strings_stay_strings(void **state)
{
    (void)state;
    /* Upstream coerced these by their look, ignoring #datatype (R8). */
    expect_rows(IFX_RESULT_V2_CSV,
                S("#datatype,string,long,string,string,string,string,string\r\n"
                  ",result,table,a,b,c,d,e\r\n"
                  ",,0,true,007,1e3,-5,18446744073709551616\r\n"),
                "#0 result=null table=i:0 a=s:\"true\" b=s:\"007\" c=s:\"1e3\" d=s:\"-5\""
                " e=s:\"18446744073709551616\"\n");
}

static void test_v2_defaults(void **state)
{
    (void)state;
    expect_rows(IFX_RESULT_V2_CSV,
                S("#datatype,string,long,double,boolean,string,dateTime:RFC3339\r\n"
                  "#default,_result,7,2.5,true,x,2020-01-01T00:00:00Z\r\n"
                  ",result,table,d,b,s,t\r\n"
                  ",,,,,,\r\n"
                  ",mine,1,0.5,false,y,2021-01-01T00:00:00Z\r\n"
                  ",\"\",,\"\",,,\r\n"),
                "#7 result=s:\"_result\" table=i:7 d=f:2.5 b=b:true s=s:\"x\""
                " t=t:2020-01-01T00:00:00Z\n"
                "#1 result=s:\"mine\" table=i:1 d=f:0.5 b=b:false s=s:\"y\""
                " t=t:2021-01-01T00:00:00Z\n"
                "#7 result=s:\"_result\" table=i:7 d=f:2.5 b=b:true s=s:\"x\""
                " t=t:2020-01-01T00:00:00Z\n");
    /* A #default that does not fit its column. */
    expect_error(IFX_RESULT_V2_CSV,
                 S("#datatype,string,long,double\r\n"
                   "#default,_result,,abc\r\n"
                   ",result,table,_value\r\n"),
                 IFX_E_INVALID,
                 "annotated CSV, line 2: #default \"abc\" of column \"_value\" is not a double", 48,
                 NULL);
}

static void test_v2_quoting(void **state)
{
    (void)state;
    /* RFC 4180: commas, doubled quotes and CRLF inside quoted cells; a quoted header name. A CR LF
     * inside a cell is how 2.x's Go CSV writer (CRLF mode) writes an LF of the stored string, so it
     * reads as one LF; a lone CR is kept (that writer never sends one: it drops them). */
    expect_rows(IFX_RESULT_V2_CSV,
                S("#datatype,string,long,string,string\r\n"
                  ",result,table,\"a,\"\"b\"\"\",plain\r\n"
                  ",,0,\"x,y\",\"say \"\"hi\"\"\r\nbye\"\r\n"
                  ",,0,\"\",\"\"\"\"\r\n"
                  ",,0,\"just quoted\",\"\r\n\"\r\n"
                  ",,0,\"a\rb\",\"\r\n\r\n\"\"x\r\n\"\r\n"),
                "#0 result=null table=i:0 a,\"b\"=s:\"x,y\" plain=s:\"say \"hi\"\nbye\"\n"
                "#0 result=null table=i:0 a,\"b\"=null plain=s:\"\"\"\n"
                "#0 result=null table=i:0 a,\"b\"=s:\"just quoted\" plain=s:\"\n\"\n"
                "#0 result=null table=i:0 a,\"b\"=s:\"a\rb\" plain=s:\"\n\n\"x\n\"\n");
    /* Line numbers count the line ends inside quoted cells. */
    expect_error(IFX_RESULT_V2_CSV,
                 S("#datatype,string,long,string,long\r\n"
                   ",result,table,s,n\r\n"
                   ",,0,\"a\r\nb\r\nc\",1\r\n"
                   ",,0,x,one\r\n"),
                 IFX_E_INVALID, "annotated CSV, line 6: cell \"one\" of column \"n\" is not a long",
                 77, "#0 result=null table=i:0 s=s:\"a\nb\nc\" n=i:1\n");
    /* A quote in an unquoted cell, and text after a closing quote. */
    expect_error(IFX_RESULT_V2_CSV,
                 S("#datatype,string,long,string\r\n"
                   ",result,table,s\r\n"
                   ",,0,a\"b\r\n"),
                 IFX_E_INVALID,
                 "annotated CSV, line 3: a quote inside an unquoted cell (RFC 4180 wants the cell "
                 "quoted and the quote doubled)",
                 52, NULL);
    expect_error(IFX_RESULT_V2_CSV,
                 S("#datatype,string,long,string\r\n"
                   ",result,table,s\r\n"
                   ",,0,\"a\"b\r\n"),
                 IFX_E_INVALID,
                 "annotated CSV, line 3: expected ',' or a line end after the closing quote of a "
                 "cell",
                 54, NULL);
}

static void test_v2_error_table(void **state)
{
    (void)state;
    /* spec §3.4, in-band error after output began. */
    expect_error(IFX_RESULT_V2_CSV,
                 S("#datatype,string,long,double\r\n"
                   "#group,false,false,false\r\n"
                   "#default,_result,,\r\n"
                   ",result,table,_value\r\n"
                   ",,0,1\r\n"
                   "\r\n"
                   "#datatype,string,string\r\n"
                   "#group,true,true\r\n"
                   "#default,,\r\n"
                   ",error,reference\r\n"
                   ",\"panic: runtime error, index out of range\",897\r\n"),
                 IFX_E_REJECTED, "panic: runtime error, index out of range (reference 897)", 181,
                 "#0 result=s:\"_result\" table=i:0 _value=f:1\n");
    /* An error before any output: no blank line first; no reference. */
    expect_error(IFX_RESULT_V2_CSV,
                 S("#datatype,string,string\r\n"
                   "#group,true,true\r\n"
                   "#default,,\r\n"
                   ",error,reference\r\n"
                   ",failed to initialize execute state: bucket not found,\r\n"),
                 IFX_E_REJECTED, "failed to initialize execute state: bucket not found", ANY, NULL);
    /* Without annotations, and with a message over several lines. */
    expect_error(IFX_RESULT_V2_CSV, S(",error,reference\r\n,\"line one\nline two\",\r\n"),
                 IFX_E_REJECTED, "line one line two", ANY, NULL);
    /* An error table cut before its message is still an error. */
    expect_error(IFX_RESULT_V2_CSV, S(",error,reference\r\n"), IFX_E_REJECTED,
                 "annotated CSV: the server started an error table without a message", 18, NULL);
}

static void test_v2_results_and_blocks(void **state)
{
    (void)state;
    /* Two results (two yields): a blank line ends each, and table numbers restart at 0. An
     * annotation row right after data also starts a new block. */
    expect_rows(IFX_RESULT_V2_CSV,
                S("#datatype,string,long,long\r\n"
                  "#default,first,,\r\n"
                  ",result,table,_value\r\n"
                  ",,0,1\r\n"
                  ",,1,2\r\n"
                  "\r\n"
                  "\r\n"
                  "#datatype,string,long,string\r\n"
                  "#default,second,,\r\n"
                  ",result,table,_measurement\r\n"
                  ",,0,cpu\r\n"
                  "#datatype,string,long,boolean\r\n"
                  ",result,table,b\r\n"
                  ",third,4,true\r\n"
                  "\r\n"),
                "#0 result=s:\"first\" table=i:0 _value=i:1\n"
                "#1 result=s:\"first\" table=i:1 _value=i:2\n"
                "#0 m=cpu result=s:\"second\" table=i:0 _measurement=s:\"cpu\"\n"
                "#4 result=s:\"third\" table=i:4 b=b:true\n");
}

static void test_v2_empty(void **state)
{
    (void)state;
    expect_rows(IFX_RESULT_V2_CSV, S(""), "");
    expect_rows(IFX_RESULT_V2_CSV, S("\r\n"), "");
    expect_rows(IFX_RESULT_V2_CSV, S("\r\n\r\n"), "");
    /* An empty table: annotations and header only. */
    expect_rows(IFX_RESULT_V2_CSV,
                S("#datatype,string,long,double\r\n"
                  "#default,_result,0,\r\n"
                  ",result,table,_value\r\n"
                  "\r\n"),
                "");
}

static void test_v2_refused(void **state)
{
    (void)state;
    /* The brief's example message. */
    expect_error(IFX_RESULT_V2_CSV,
                 S("#datatype,string,long,double\r\n"
                   "#group,false,false,false\r\n"
                   "#default,_result,,\r\n"
                   ",result,table,_value\r\n"
                   ",,0,1\r\n"
                   ",,0,2\r\n"
                   ",,0,abc\r\n"),
                 IFX_E_INVALID,
                 "annotated CSV, line 7: cell \"abc\" of column \"_value\" is not a double", 116,
                 "#0 result=s:\"_result\" table=i:0 _value=f:1\n"
                 "#0 result=s:\"_result\" table=i:0 _value=f:2\n");
    expect_error(
        IFX_RESULT_V2_CSV,
        S("#datatype,string,long,double\r\n,result,table,_value\r\n,,0,1e999\r\n"), IFX_E_INVALID,
        "annotated CSV, line 3: cell \"1e999\" of column \"_value\" is not a double: number "
        "1e999 is out of the double range",
        56, NULL);
    expect_error(IFX_RESULT_V2_CSV,
                 S("#datatype,string,long,unsignedLong\r\n,result,table,u\r\n"
                   ",,0,18446744073709551616\r\n"),
                 IFX_E_INVALID,
                 "annotated CSV, line 3: cell \"18446744073709551616\" of column \"u\" is not a "
                 "unsignedLong",
                 ANY, NULL);
    expect_error(IFX_RESULT_V2_CSV,
                 S("#datatype,string,long,unsignedLong\r\n,result,table,u\r\n,,0,-1\r\n"),
                 IFX_E_INVALID, NULL, ANY, NULL);
    expect_error(IFX_RESULT_V2_CSV,
                 S("#datatype,string,long,long\r\n,result,table,n\r\n,,0,9223372036854775808\r\n"),
                 IFX_E_INVALID, NULL, ANY, NULL);
    expect_error(IFX_RESULT_V2_CSV,
                 S("#datatype,string,long,long\r\n,result,table,n\r\n,,0,1.0\r\n"), IFX_E_INVALID,
                 NULL, ANY, NULL);
    expect_error(IFX_RESULT_V2_CSV,
                 S("#datatype,string,long,boolean\r\n,result,table,b\r\n,,0,TRUE\r\n"),
                 IFX_E_INVALID,
                 "annotated CSV, line 3: cell \"TRUE\" of column \"b\" is not a boolean", 52, NULL);
    expect_error(IFX_RESULT_V2_CSV,
                 S("#datatype,string,long,boolean\r\n,result,table,b\r\n,,0,1\r\n"), IFX_E_INVALID,
                 NULL, ANY, NULL);
    expect_error(
        IFX_RESULT_V2_CSV,
        S("#datatype,string,long,dateTime:RFC3339\r\n,result,table,_time\r\n"
          ",,0,2023-01-01\r\n"),
        IFX_E_INVALID,
        "annotated CSV, line 3: cell \"2023-01-01\" of column \"_time\" is not a dateTime: "
        "invalid RFC 3339 timestamp \"2023-01-01\": expected 'T' and a time after the date",
        65, NULL);
    /* An unknown #datatype. */
    expect_error(IFX_RESULT_V2_CSV, S("#datatype,string,long,duration\r\n,result,table,d\r\n"),
                 IFX_E_INVALID, "annotated CSV, line 1: unknown #datatype \"duration\" of column 3",
                 22, NULL);
    /* Data rows before any header. */
    expect_error(IFX_RESULT_V2_CSV, S(",,0,2022-12-31T05:41:24Z,1.5\r\n"), IFX_E_INVALID,
                 "annotated CSV, line 1: a data row before any header (a header starts with "
                 ",result,table or ,error)",
                 0, NULL);
    expect_error(IFX_RESULT_V2_CSV, S("#datatype,string,long,double\r\n,,0,1.5\r\n"), IFX_E_INVALID,
                 "annotated CSV, line 2: a data row before any header (a header starts with "
                 ",result,table or ,error)",
                 30, NULL);
    /* After a blank line, the previous header no longer applies. */
    expect_error(IFX_RESULT_V2_CSV,
                 S("#datatype,string,long,double\r\n,result,table,v\r\n,,0,1\r\n\r\n,,1,2\r\n"),
                 IFX_E_INVALID, NULL, 56, "#0 result=null table=i:0 v=f:1\n");
    /* Rows wider or narrower than the header. */
    expect_error(
        IFX_RESULT_V2_CSV, S("#datatype,string,long,double\r\n,result,table,v\r\n,,0,1,extra\r\n"),
        IFX_E_INVALID, "annotated CSV, line 3: the row has 4 cells, the header 3", 47, NULL);
    expect_error(IFX_RESULT_V2_CSV, S("#datatype,string,long,double\r\n,result,table,v\r\n,,0\r\n"),
                 IFX_E_INVALID, "annotated CSV, line 3: the row has 2 cells, the header 3", 47,
                 NULL);
    /* Annotations that do not match the header. */
    expect_error(IFX_RESULT_V2_CSV, S("#datatype,string,long\r\n,result,table,v\r\n"),
                 IFX_E_INVALID,
                 "annotated CSV, line 2: the header has 3 columns but #datatype gives 2", 23, NULL);
    /* The annotation column must be empty outside annotations. */
    expect_error(
        IFX_RESULT_V2_CSV, S("x,result,table\r\n"), IFX_E_INVALID,
        "annotated CSV, line 1: the first cell must be empty or an annotation, found \"x\"", 0,
        NULL);
}

static void test_v2_truncated(void **state)
{
    static const char trunc_msg[] = "the answer ended in the middle of a row; the server may have "
                                    "failed while streaming";
    char want[256];

    (void)state;
    snprintf(want, sizeof want, "annotated CSV, line 3: %s", trunc_msg);
    expect_error(IFX_RESULT_V2_CSV, S("#datatype,string,long,double\r\n,result,table,v\r\n,,0,1.5"),
                 IFX_E_INVALID, want, 54, NULL);
    /* Cut between CR and LF. */
    expect_error(IFX_RESULT_V2_CSV,
                 S("#datatype,string,long,double\r\n,result,table,v\r\n,,0,1.5\r"), IFX_E_INVALID,
                 want, 55, NULL);
    expect_error(IFX_RESULT_V2_CSV,
                 S("#datatype,string,long,string\r\n,result,table,v\r\n,,0,\"abc"), IFX_E_INVALID,
                 "annotated CSV, line 3: the answer ended inside a quoted cell; the server may "
                 "have failed while streaming",
                 55, NULL);
}

/* ---- v3: JSONL, JSON, CSV ------------------------------------------------------------------- */

static void test_v3_spec_outputs(void **state)
{
    (void)state;
    /* spec §2.5, exact outputs asserted by the server's tests. */
    expect_rows(IFX_RESULT_V3_JSON,
                S("[{\"host\":\"a\",\"time\":\"1970-01-01T00:00:00.000000123\",\"val\":1}]"),
                "#0 host=s:\"a\" time=t:1970-01-01T00:00:00.000000123Z val=i:1\n");
    expect_rows(IFX_RESULT_V3_CSV, S("host,time,val\na,1970-01-01T00:00:00.000000123,1\n"),
                "#0 host=s:\"a\" time=t:1970-01-01T00:00:00.000000123Z val=s:\"1\"\n");
    expect_rows(IFX_RESULT_V3_JSONL,
                S("{\"iox::measurement\":\"cpu\",\"time\":\"2065-01-07T17:28:51\",\"host\":\"a\","
                  "\"region\":\"us-east\",\"usage\":0.9}\n"
                  "{\"iox::measurement\":\"cpu\",\"time\":\"2065-01-07T17:28:52.5\",\"host\":\"b\","
                  "\"region\":\"us-east\",\"usage\":2.0}\n"),
                "#0 m=cpu iox::measurement=s:\"cpu\" time=t:2065-01-07T17:28:51Z host=s:\"a\""
                " region=s:\"us-east\" usage=f:0.9\n"
                "#0 m=cpu iox::measurement=s:\"cpu\" time=t:2065-01-07T17:28:52.5Z host=s:\"b\""
                " region=s:\"us-east\" usage=f:2\n");
}

static void test_v3_exact_time(void **state)
{
    static const char body[] = "{\"time\":\"2065-01-07T17:28:51\",\"big\":18446744073709551615}\n";
    ifx_rows_reader r;
    ifx_err err;
    collect c;

    (void)state;
    ifx_rows_reader_init(&r);
    collect_init(&c);
    assert_int_equal(run_reader(&r, IFX_RESULT_V3_JSONL, S(body), &c, &err), IFX_OK);
    assert_int_equal(r.vals[0].type, IFX_VAL_TIME);
    assert_int_equal(r.vals[0].v.i, 2998574931000000000LL);
    assert_int_equal(r.vals[1].type, IFX_VAL_U64);
    assert_true(r.vals[1].v.u == UINT64_MAX);
    ifx_buf_free(&c.out);
    ifx_rows_reader_free(&r);
}

static void test_v3_absent_keys_and_types(void **state)
{
    (void)state;
    /* Nulls are absent keys: each row has only the columns it carries, in its own order. */
    expect_rows(IFX_RESULT_V3_JSONL,
                S("{\"host\":\"a\",\"time\":\"2024-02-21T00:00:05\",\"usage\":1}\n"
                  "{\"time\":\"2024-02-21T00:00:06\"}\n"
                  "{\"usage\":2.5,\"host\":\"b\"}\n"),
                "#0 host=s:\"a\" time=t:2024-02-21T00:00:05Z usage=i:1\n"
                "#0 time=t:2024-02-21T00:00:06Z\n"
                "#0 usage=f:2.5 host=s:\"b\"\n");
    expect_rows(IFX_RESULT_V3_JSONL,
                S("{\"i\":-9223372036854775808,\"u\":9223372036854775808,"
                  "\"big\":18446744073709551616,\"neg\":-9223372036854775809,\"f\":2.0,"
                  "\"e\":1e3,\"t\":true,\"n\":false,\"z\":null}\n"),
                "#0 i=i:-9223372036854775808 u=u:9223372036854775808 big=f:1.84467440737096e+19"
                " neg=f:-9.22337203685478e+18 f=f:2 e=f:1000 t=b:true n=b:false z=null\n");
    /* Nested values become their compact JSON text; escapes are decoded, in keys too. */
    expect_rows(
        IFX_RESULT_V3_JSONL,
        S("{\"o\": {\"a\": [1, 2, {\"b\" : null}]}, \"arr\":[ ], \"s\":\"x\\\"y\\u00e9\\n\","
          "\"k\\u0065y\":\"v\"}\n"),
        "#0 o=s:\"{\"a\":[1,2,{\"b\":null}]}\" arr=s:\"[]\" s=s:\"x\"y\xc3\xa9\n\""
        " key=s:\"v\"\n");
    /* The time column accepts RFC 3339 with a zone, integer nanoseconds and null. */
    expect_rows(IFX_RESULT_V3_JSONL,
                S("{\"time\":\"2024-01-02T03:04:05Z\"}\n{\"time\":1500}\n{\"time\":null}\n"
                  "{\"time\":\"2024-01-02T05:04:05+02:00\"}\n"),
                "#0 time=t:2024-01-02T03:04:05Z\n#0 time=t:1970-01-01T00:00:00.0000015Z\n"
                "#0 time=null\n#0 time=t:2024-01-02T03:04:05Z\n");
}

static void test_v3_jsonl_lines(void **state)
{
    (void)state;
    /* Empty result: empty body. Blank lines and CRLF are tolerated; so is a complete last line
     * without its '\n'. */
    expect_rows(IFX_RESULT_V3_JSONL, S(""), "");
    expect_rows(IFX_RESULT_V3_JSONL, S("\n\r\n  \n"), "");
    expect_rows(IFX_RESULT_V3_JSONL, S("{\"a\":1}\r\n\r\n{\"a\":2}"), "#0 a=i:1\n#0 a=i:2\n");
    expect_rows(IFX_RESULT_V3_JSONL, S("{}\n"), "#0\n");
}

static void test_v3_jsonl_refused(void **state)
{
    (void)state;
    /* A body cut mid-row: the rows before are delivered, then the error. */
    expect_error(IFX_RESULT_V3_JSONL, S("{\"a\":1}\n{\"a\":2}\n{\"a\":"), IFX_E_INVALID,
                 "v3 JSONL, line 3: the answer ended in the middle of a row; the server may have "
                 "failed while streaming",
                 21, "#0 a=i:1\n#0 a=i:2\n");
    expect_error(IFX_RESULT_V3_JSONL, S("{\"a\":\"tex"), IFX_E_INVALID, NULL, 9, NULL);
    /* A malformed line that is not the last. */
    expect_error(IFX_RESULT_V3_JSONL, S("{\"a\":1}\n{\"a\":}\n{\"a\":3}\n"), IFX_E_INVALID,
                 "v3 JSONL, line 2: invalid JSON at byte 13: expected a value, found '}'", 13,
                 "#0 a=i:1\n");
    expect_error(IFX_RESULT_V3_JSONL, S("[1]\n"), IFX_E_INVALID,
                 "v3 JSONL, line 1: expected a JSON object, found array", 0, NULL);
    expect_error(IFX_RESULT_V3_JSONL, S("{\"time\":\"yesterday\"}\n"), IFX_E_INVALID,
                 "v3 JSONL, line 1: \"time\" value is not a timestamp: invalid RFC 3339 timestamp "
                 "\"yesterday\": expected a date YYYY-MM-DD",
                 8, NULL);
    expect_error(IFX_RESULT_V3_JSONL, S("{\"time\":true}\n"), IFX_E_INVALID,
                 "v3 JSONL, line 1: \"time\" value true is not a timestamp", 8, NULL);
    expect_error(IFX_RESULT_V3_JSONL, S("{\"time\":1.5}\n"), IFX_E_INVALID, NULL, 8, NULL);
    expect_error(IFX_RESULT_V3_JSONL, S("{\"x\":1e999}\n"), IFX_E_INVALID,
                 "v3 JSONL, line 1: column \"x\": number 1e999 is out of the double range", 5,
                 NULL);
}

static void test_v3_json(void **state)
{
    static const char trunc[] = "v3 JSON: the answer ended in the middle of a row; the server may "
                                "have failed while streaming";

    (void)state;
    expect_rows(IFX_RESULT_V3_JSON, S("[]"), "");
    expect_rows(IFX_RESULT_V3_JSON, S(" [ ]\n"), "");
    expect_rows(IFX_RESULT_V3_JSON, S("[{\"a\":1},\n{\"b\":\"x\"}]"), "#0 a=i:1\n#0 b=s:\"x\"\n");
    /* An empty body is not an empty result: the server writes at least []. */
    expect_error(IFX_RESULT_V3_JSON, S(""), IFX_E_INVALID,
                 "v3 JSON: the answer is empty (an empty result is []); the server may have failed "
                 "while streaming",
                 0, NULL);
    /* Unterminated arrays. */
    expect_error(IFX_RESULT_V3_JSON, S("[{\"a\":1},"), IFX_E_INVALID, trunc, 9, NULL);
    expect_error(IFX_RESULT_V3_JSON, S("[{\"a\":1}"), IFX_E_INVALID, trunc, 8, NULL);
    expect_error(IFX_RESULT_V3_JSON, S("[{\"a\":1},{\"b"), IFX_E_INVALID, trunc, 12, NULL);
    expect_error(IFX_RESULT_V3_JSON, S("["), IFX_E_INVALID, trunc, 1, NULL);
    /* Malformed or misshapen. */
    expect_error(IFX_RESULT_V3_JSON, S("[{\"a\":1}]]"), IFX_E_INVALID,
                 "v3 JSON: invalid JSON at byte 9: expected end of input after the JSON value, "
                 "found ']'",
                 9, NULL);
    expect_error(IFX_RESULT_V3_JSON, S("{\"a\":1}"), IFX_E_INVALID,
                 "v3 JSON: expected a JSON array of rows, found object", 0, NULL);
    expect_error(IFX_RESULT_V3_JSON, S("[{\"a\":1},2]"), IFX_E_INVALID,
                 "v3 JSON, row 2: expected a JSON object, found number", 9, "#0 a=i:1\n");
    expect_error(IFX_RESULT_V3_JSON, S("[{\"a\":1},{\"time\":\"x\"}]"), IFX_E_INVALID, NULL, 17,
                 "#0 a=i:1\n");
}

static void test_v3_csv(void **state)
{
    (void)state;
    expect_rows(IFX_RESULT_V3_CSV, S(""), "");
    expect_rows(IFX_RESULT_V3_CSV, S("host,time,val\n"), "");
    /* Empty cells are nulls; quoted cells keep commas, quotes and line ends. */
    expect_rows(IFX_RESULT_V3_CSV,
                S("host,time,val,note\n"
                  "a,2024-02-21T00:00:05,,\n"
                  ",,2,\"x, \"\"y\"\"\nz\"\n"),
                "#0 host=s:\"a\" time=t:2024-02-21T00:00:05Z val=null note=null\n"
                "#0 host=null time=null val=s:\"2\" note=s:\"x, \"y\"\nz\"\n");
    /* A single column: a null is written "", never as an empty line. */
    expect_rows(IFX_RESULT_V3_CSV, S("v\n1\n\"\"\n"), "#0 v=s:\"1\"\n#0 v=null\n");
    /* Strings stay strings: v3 CSV carries no types. */
    expect_rows(IFX_RESULT_V3_CSV, S("a,b\ntrue,007\n"), "#0 a=s:\"true\" b=s:\"007\"\n");
    expect_error(IFX_RESULT_V3_CSV, S("host,time,val\na,1970-01-01T00:00:00.000000123,1"),
                 IFX_E_INVALID,
                 "v3 CSV, line 2: the answer ended in the middle of a row; the server may have "
                 "failed while streaming",
                 47, NULL);
    expect_error(IFX_RESULT_V3_CSV, S("host,time\na,b,c\n"), IFX_E_INVALID,
                 "v3 CSV, line 2: the row has 3 cells, the header 2", 10, NULL);
    expect_error(IFX_RESULT_V3_CSV, S("host,time\na,soon\n"), IFX_E_INVALID,
                 "v3 CSV, line 2: cell \"soon\" of column \"time\" is not a timestamp: invalid RFC "
                 "3339 timestamp \"soon\": expected a date YYYY-MM-DD",
                 12, NULL);
}

/* ---- v1: /query JSON ------------------------------------------------------------------------ */

static void test_v1_spec_examples(void **state)
{
    (void)state;
    /* spec §2.6 (v3's v1 API, test api_v1_query_json_format). */
    expect_rows(IFX_RESULT_V1_JSON,
                S("{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":"
                  "[\"time\",\"host\",\"usage\"],\"values\":[[\"2065-01-07T17:28:51Z\",\"a\","
                  "0.9]]}]}]}"),
                "#0 m=cpu time=t:2065-01-07T17:28:51Z host=s:\"a\" usage=f:0.9\n");
    /* spec §4.3, GROUP BY: the tags follow the columns. */
    expect_rows(IFX_RESULT_V1_JSON,
                S("{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"tags\":"
                  "{\"host\":\"a\"},\"columns\":[\"time\",\"value\"],\"values\":[[\"2018-01-01T00:"
                  "00:00Z\",1.5]]}]}]}"),
                "#0 m=cpu time=t:2018-01-01T00:00:00Z value=f:1.5 host=s:\"a\"\n");
    /* Empty result. */
    expect_rows(IFX_RESULT_V1_JSON, S("{\"results\":[{\"statement_id\":0}]}"), "");
    expect_rows(IFX_RESULT_V1_JSON, S("{\"results\":[]}\n"), "");
}

static void test_v1_series_tags_nulls(void **state)
{
    (void)state;
    /* Several series (the table number is the series index across results), epoch=ns integer
     * times, JSON nulls, "" tags (a series without the tag) as nulls, "partial" ignored. */
    expect_rows(IFX_RESULT_V1_JSON,
                S("{\"results\":[{\"statement_id\":0,\"series\":["
                  "{\"name\":\"cpu\",\"tags\":{\"host\":\"a\",\"dc\":\"\"},\"columns\":[\"time\","
                  "\"usage\",\"ok\"],\"values\":[[1000,0.5,true],[2000,null,false]]},"
                  "{\"name\":\"cpu\",\"tags\":{\"host\":\"b\",\"dc\":\"x\"},\"columns\":[\"time\","
                  "\"usage\",\"ok\"],\"values\":[[3000,7,null]],\"partial\":true}]},"
                  "{\"statement_id\":1,\"series\":[{\"name\":\"mem\",\"columns\":[\"time\","
                  "\"free\"],\"values\":[[null,18446744073709551615]]}]}]}"),
                "#0 m=cpu time=t:1970-01-01T00:00:00.000001Z usage=f:0.5 ok=b:true host=s:\"a\""
                " dc=null\n"
                "#0 m=cpu time=t:1970-01-01T00:00:00.000002Z usage=null ok=b:false host=s:\"a\""
                " dc=null\n"
                "#1 m=cpu time=t:1970-01-01T00:00:00.000003Z usage=i:7 ok=null host=s:\"b\""
                " dc=s:\"x\"\n"
                "#2 m=mem time=null free=u:18446744073709551615\n");
    /* A series without values, one without a name, escaped names. */
    expect_rows(IFX_RESULT_V1_JSON,
                S("{\"results\":[{\"series\":[{\"name\":\"empty\",\"columns\":[\"time\"]},"
                  "{\"columns\":[\"n\\u0061me\",\"v\"],\"tags\":{\"t\\\"g\":\"v\\u00e9\"},"
                  "\"values\":[[\"x\",[1,{\"a\":2}]]]}]}]}"),
                "#1 name=s:\"x\" v=s:\"[1,{\"a\":2}]\" t\"g=s:\"v\xc3\xa9\"\n");
}

static void test_v1_statement_errors(void **state)
{
    (void)state;
    expect_error(IFX_RESULT_V1_JSON,
                 S("{\"results\":[{\"statement_id\":0,\"error\":\"database not found: x\"}]}"),
                 IFX_E_REJECTED, "database not found: x", 38, NULL);
    /* spec §2.6, test api_v1_query_sql_not_found. */
    expect_error(IFX_RESULT_V1_JSON,
                 S("{\"results\":[{\"statement_id\":0,\"error\":\"Cannot retrieve database: "
                   "External error: database not found: foo\"}]}"),
                 IFX_E_REJECTED,
                 "Cannot retrieve database: External error: database not found: foo", ANY, NULL);
    /* The rows of earlier statements come first. */
    expect_error(IFX_RESULT_V1_JSON,
                 S("{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":"
                   "[\"time\",\"v\"],\"values\":[[1,1]]}]},{\"statement_id\":1,\"error\":"
                   "\"error parsing query: \\nfound EOF\"}]}"),
                 IFX_E_REJECTED, "error parsing query:  found EOF", ANY,
                 "#0 m=cpu time=t:1970-01-01T00:00:00.000000001Z v=i:1\n");
    /* A request error body, should one reach the reader. */
    expect_error(IFX_RESULT_V1_JSON, S("{\"error\":\"missing required parameter \\\"q\\\"\"}"),
                 IFX_E_REJECTED, "missing required parameter \"q\"", 9, NULL);
}

static void test_v1_chunked(void **state)
{
    (void)state;
    /* chunked=true: one JSON document per chunk, each followed by '\n'. */
    expect_rows(
        IFX_RESULT_V1_JSON,
        S("{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":"
          "[\"time\",\"v\"],\"values\":[[1,1],[2,2]],\"partial\":true}],\"partial\":true}]}\n"
          "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":"
          "[\"time\",\"v\"],\"values\":[[3,3]]}]}]}\n"),
        "#0 m=cpu time=t:1970-01-01T00:00:00.000000001Z v=i:1\n"
        "#0 m=cpu time=t:1970-01-01T00:00:00.000000002Z v=i:2\n"
        "#1 m=cpu time=t:1970-01-01T00:00:00.000000003Z v=i:3\n");
    /* pretty=true documents span lines. */
    expect_rows(IFX_RESULT_V1_JSON,
                S("{\n  \"results\": [\n    {\n      \"statement_id\": 0\n    }\n  ]\n}\n"
                  "{\n  \"results\": [{\"series\": [{\"name\": \"m\", \"columns\": [\"time\"],\n"
                  "  \"values\": [[\"2018-01-01T00:00:00Z\"]]}]}]\n}\n"),
                "#0 m=m time=t:2018-01-01T00:00:00Z\n");
    /* A chunk cut short: the complete chunks are delivered, then the error. */
    expect_error(IFX_RESULT_V1_JSON,
                 S("{\"results\":[{\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\"],"
                   "\"values\":[[1]]}]}]}\n"
                   "{\"results\":[{\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\"],"
                   "\"values\":[[2],"),
                 IFX_E_INVALID,
                 "v1 JSON: the answer ended in the middle of a row; the server may have failed "
                 "while streaming",
                 146, "#0 m=cpu time=t:1970-01-01T00:00:00.000000001Z\n");
    /* A statement error in a later chunk. */
    expect_error(IFX_RESULT_V1_JSON,
                 S("{\"results\":[{\"series\":[{\"columns\":[\"time\"],\"values\":[[1]]}]}]}\n"
                   "{\"results\":[{\"statement_id\":0,\"error\":\"max-row-limit reached\"}]}\n"),
                 IFX_E_REJECTED, "max-row-limit reached", ANY,
                 "#0 time=t:1970-01-01T00:00:00.000000001Z\n");
}

static void test_v1_refused(void **state)
{
    (void)state;
    expect_error(IFX_RESULT_V1_JSON, S(""), IFX_E_INVALID,
                 "v1 JSON: the answer is empty; the server may have failed while streaming", 0,
                 NULL);
    expect_error(IFX_RESULT_V1_JSON, S("[]"), IFX_E_INVALID,
                 "v1 JSON: expected a JSON object, found array", 0, NULL);
    expect_error(IFX_RESULT_V1_JSON, S("{}"), IFX_E_INVALID,
                 "v1 JSON: expected a \"results\" array", 0, NULL);
    expect_error(
        IFX_RESULT_V1_JSON,
        S("{\"results\":[{\"series\":[{\"columns\":[\"time\",\"v\"],\"values\":[[1]]}]}]}"),
        IFX_E_INVALID, "v1 JSON: a row has 1 values, but \"columns\" names 2", 57, NULL);
    expect_error(IFX_RESULT_V1_JSON,
                 S("{\"results\":[{\"series\":[{\"columns\":[\"v\"],\"values\":[[1,2]]}]}]}"),
                 IFX_E_INVALID, "v1 JSON: a row has more values than the 1 \"columns\"", 53, NULL);
    expect_error(IFX_RESULT_V1_JSON, S("{\"results\":[{\"series\":[{\"values\":[[1,2]]}]}]}"),
                 IFX_E_INVALID, "v1 JSON: a series with \"values\" has no \"columns\" array", 23,
                 NULL);
    expect_error(
        IFX_RESULT_V1_JSON,
        S("{\"results\":[{\"series\":[{\"columns\":[\"time\"],\"values\":[[\"noon\"]]}]}]}"),
        IFX_E_INVALID,
        "v1 JSON: \"time\" value is not a timestamp: invalid RFC 3339 timestamp \"noon\": "
        "expected a date YYYY-MM-DD",
        54, NULL);
    expect_error(IFX_RESULT_V1_JSON,
                 S("{\"results\":[{\"series\":[{\"columns\":[1],\"values\":[]}]}]}"), IFX_E_INVALID,
                 "v1 JSON: a column name is number, not a string", 35, NULL);
    expect_error(IFX_RESULT_V1_JSON,
                 S("{\"results\":[{\"series\":[{\"columns\":[\"a\"],\"tags\":{\"t\":1},"
                   "\"values\":[]}]}]}"),
                 IFX_E_INVALID, "v1 JSON: tag \"t\" is number, not a string", 52, NULL);
    expect_error(IFX_RESULT_V1_JSON, S("{\"results\":[{\"series\":[]}]} x"), IFX_E_INVALID,
                 "v1 JSON: invalid JSON at byte 28: expected a value, found 'x'", 28, NULL);
}

static void test_edges(void **state)
{
    (void)state;
    /* A bare CR inside an unquoted cell is data; a negative long; an untyped table cell that is
     * not a number leaves the table at 0. */
    expect_rows(IFX_RESULT_V2_CSV,
                S("#datatype,string,long,string,long\r\n,result,table,s,n\r\n,,0,a\rb,-5\r\n"),
                "#0 result=null table=i:0 s=s:\"a\rb\" n=i:-5\n");
    expect_rows(IFX_RESULT_V2_CSV, S(",result,table\r\n,r,x\r\n"),
                "#0 result=s:\"r\" table=s:\"x\"\n");
    /* Long values are cut in messages, on a character boundary. */
    expect_error(IFX_RESULT_V2_CSV,
                 S("#datatype,string,long,double\r\n,result,table,v\r\n"
                   ",,0,\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
                   "\xa9\xc3\xa9\xc3\xa9\r\n"),
                 IFX_E_INVALID,
                 "annotated CSV, line 3: cell \"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                 "\xc3\xa9\xc3\xa9...\" of column \"v\" is not a double",
                 51, NULL);
    expect_error(IFX_RESULT_V2_CSV, S("#default,_result,\r\n,result,table,v\r\n"), IFX_E_INVALID,
                 "annotated CSV, line 2: the header has 3 columns but #default gives 2", 19, NULL);
    expect_error(IFX_RESULT_V2_CSV, S(",error,reference\r\n,,42\r\n"), IFX_E_REJECTED,
                 "annotated CSV: the server reported an error without a message (reference 42)", 18,
                 NULL);
    /* v3 CSV skips blank lines. */
    expect_rows(IFX_RESULT_V3_CSV, S("\na\n\n1\n\n"), "#0 a=s:\"1\"\n");
    /* A zone-less time that is no timestamp is reported as the server wrote it. */
    expect_error(IFX_RESULT_V3_JSONL, S("{\"time\":\"2024-13-01T00:00:00\"}\n"), IFX_E_INVALID,
                 "v3 JSONL, line 1: \"time\" value is not a timestamp: invalid RFC 3339 timestamp "
                 "\"2024-13-01T00:00:00\": month 13 is out of range",
                 8, NULL);
    expect_rows(IFX_RESULT_V3_JSONL, S("{\"time\":\"2024-01-01T19:00:00-05:00\"}\n"),
                "#0 time=t:2024-01-02T00:00:00Z\n");
    /* v1 shapes that are refused. */
    expect_error(IFX_RESULT_V1_JSON,
                 S("{\"results\":[{\"series\":[{\"columns\":[],\"values\":{}}]}]}"), IFX_E_INVALID,
                 "v1 JSON: \"values\" of a series is object, not an array", 46, NULL);
    expect_error(IFX_RESULT_V1_JSON,
                 S("{\"results\":[{\"series\":[{\"name\":1,\"columns\":[],\"values\":[]}]}]}"),
                 IFX_E_INVALID, "v1 JSON: the series \"name\" is number, not a string", 31, NULL);
    expect_error(IFX_RESULT_V1_JSON,
                 S("{\"results\":[{\"series\":[{\"tags\":[],\"columns\":[],\"values\":[]}]}]}"),
                 IFX_E_INVALID, "v1 JSON: the series \"tags\" are array, not an object", 31, NULL);
    expect_error(IFX_RESULT_V1_JSON,
                 S("{\"results\":[{\"series\":[{\"columns\":[\"a\"],\"values\":[1]}]}]}"),
                 IFX_E_INVALID, "v1 JSON: a row of \"values\" is number, not an array", 50, NULL);
    expect_error(IFX_RESULT_V1_JSON, S("{\"results\":[{\"series\":{}}]}"), IFX_E_INVALID,
                 "v1 JSON: \"series\" is object, not an array", 22, NULL);
    expect_error(IFX_RESULT_V1_JSON, S("{\"results\":[{\"series\":[1]}]}"), IFX_E_INVALID,
                 "v1 JSON: a series is number, not an object", 23, NULL);
    expect_error(IFX_RESULT_V1_JSON, S("{\"results\":[1]}"), IFX_E_INVALID,
                 "v1 JSON: a result is number, not an object", 12, NULL);
    expect_error(IFX_RESULT_V1_JSON, S("{\"results\":[{\"error\":{\"code\":5}}]}"), IFX_E_REJECTED,
                 "{\"code\":5}", 21, NULL);
    expect_error(IFX_RESULT_V1_JSON, S("{\"results\":[{\"error\":\"\"}]}"), IFX_E_REJECTED,
                 "v1 JSON: the server reported an empty error", 21, NULL);
    /* A null "error" is no error. */
    expect_rows(IFX_RESULT_V1_JSON,
                S("{\"results\":[{\"error\":null,\"series\":null}],\"error\":null}"), "");
}

/* ---- the callback, reuse, lookup ------------------------------------------------------------ */

static void test_callback_stops(void **state)
{
    static const struct {
        ifx_result_format fmt;
        const char *body;
    } cases[] = {
        {IFX_RESULT_V1_JSON, "{\"results\":[{\"series\":[{\"columns\":[\"v\"],\"values\":"
                             "[[1],[2],[3]]}]}]}"},
        {IFX_RESULT_V2_CSV, "#datatype,string,long,long\r\n,result,table,v\r\n,,0,1\r\n,,0,2\r\n"
                            ",,0,3\r\n"},
        {IFX_RESULT_V3_JSONL, "{\"v\":1}\n{\"v\":2}\n{\"v\":3}\n"},
        {IFX_RESULT_V3_JSON, "[{\"v\":1},{\"v\":2},{\"v\":3}]"},
        {IFX_RESULT_V3_CSV, "v\n1\n2\n3\n"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        collect c;
        ifx_err err;

        /* Without a message of its own: the reader writes one. */
        collect_init(&c);
        c.stop_at = 2;
        c.stop_rc = IFX_E_FULL;
        assert_int_equal(run(cases[i].fmt, cases[i].body, strlen(cases[i].body), &c, &err),
                         IFX_E_FULL);
        assert_int_equal(c.rows, 2);
        assert_int_equal(err.code, IFX_E_FULL);
        assert_non_null(strstr(err.msg, "the row callback stopped the read (full)"));
        ifx_buf_free(&c.out);

        /* With one: it is kept. */
        collect_init(&c);
        c.stop_at = 1;
        c.stop_rc = IFX_E_IO;
        c.stop_msg = "disk on fire";
        assert_int_equal(run(cases[i].fmt, cases[i].body, strlen(cases[i].body), &c, &err),
                         IFX_E_IO);
        assert_int_equal(c.rows, 1);
        assert_int_equal(err.code, IFX_E_IO);
        assert_string_equal(err.msg, "disk on fire");
        ifx_buf_free(&c.out);

        /* A NULL ifx_err is allowed. */
        collect_init(&c);
        c.stop_at = 3;
        c.stop_rc = IFX_E_USAGE;
        assert_int_equal(run(cases[i].fmt, cases[i].body, strlen(cases[i].body), &c, NULL),
                         IFX_E_USAGE);
        ifx_buf_free(&c.out);
    }
}

static void test_reader_reuse_and_growth(void **state)
{
    ifx_rows_reader r;
    ifx_buf body, want;
    ifx_err err;
    collect c;
    int i;

    (void)state;
    /* One reader across formats; rows wide enough and escaped enough to grow every buffer while a
     * row is being read (the pointers handed out must survive that). */
    ifx_rows_reader_init(&r);
    ifx_buf_init(&body, 1 << 22);
    ifx_buf_init(&want, 1 << 22);
    assert_int_equal(ifx_buf_puts(&body, "{"), IFX_OK);
    assert_int_equal(ifx_buf_puts(&want, "#0"), IFX_OK);
    for (i = 0; i < 300; i++) {
        put(&body, "%s\"k\\u00%02x%d\":\"v\\\"%d\\\"\"", i ? "," : "", 0x41 + i % 26, i, i);
        put(&want, " k%c%d=s:\"v\"%d\"\"", 'A' + i % 26, i, i);
    }
    put(&body, "}\n");
    put(&want, "\n");
    for (i = 0; i < 3; i++) {
        collect_init(&c);
        assert_int_equal(run_reader(&r, IFX_RESULT_V3_JSONL, body.data, body.len, &c, &err),
                         IFX_OK);
        assert_string_equal(c.out.data, want.data);
        ifx_buf_free(&c.out);

        collect_init(&c);
        assert_int_equal(run_reader(&r, IFX_RESULT_V2_CSV, S(flux_example), &c, &err), IFX_OK);
        assert_string_equal(c.out.data, flux_example_rows);
        ifx_buf_free(&c.out);
    }
    /* The same wide row as v3 CSV with quoted, escaped cells. */
    ifx_buf_reset(&body);
    ifx_buf_reset(&want);
    for (i = 0; i < 300; i++)
        put(&body, "%s\"c\"\"%d\"", i ? "," : "", i);
    put(&body, "\n");
    assert_int_equal(ifx_buf_puts(&want, "#0"), IFX_OK);
    for (i = 0; i < 300; i++) {
        put(&body, "%s\"x\"\"%d\"", i ? "," : "", i);
        put(&want, " c\"%d=s:\"x\"%d\"", i, i);
    }
    put(&body, "\n");
    put(&want, "\n");
    collect_init(&c);
    assert_int_equal(run_reader(&r, IFX_RESULT_V3_CSV, body.data, body.len, &c, &err), IFX_OK);
    assert_string_equal(c.out.data, want.data);
    ifx_buf_free(&c.out);
    ifx_buf_free(&body);
    ifx_buf_free(&want);
    ifx_rows_reader_free(&r);
    ifx_rows_reader_free(&r); /* freeing twice is harmless */
}

static ifx_rc check_find(void *ud, const ifx_row *row, ifx_err *err)
{
    (void)ud;
    (void)err;
    assert_int_equal(ifx_row_find(row, "result"), 0);
    assert_int_equal(ifx_row_find(row, "_value"), 5);
    assert_int_equal(ifx_row_find(row, "host"), 8);
    assert_int_equal(ifx_row_find(row, "hos"), -1);
    assert_int_equal(ifx_row_find(row, "hosts"), -1);
    assert_int_equal(ifx_row_find(row, ""), -1);
    assert_int_equal(ifx_row_find(row, NULL), -1);
    assert_int_equal(ifx_row_find(NULL, "host"), -1);
    return IFX_OK;
}

static void test_row_find(void **state)
{
    static const char body[] =
        "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,"
        "string,string\r\n"
        ",result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n"
        ",,0,2022-12-31T05:41:24Z,2023-01-31T05:41:24.001Z,2023-01-01T00:52:00Z,15.43,mem,m,A\r\n";
    ifx_rows_reader r;
    ifx_err err;

    (void)state;
    ifx_rows_reader_init(&r);
    assert_int_equal(ifx_rows_read(&r, IFX_RESULT_V2_CSV, S(body), check_find, NULL, &err), IFX_OK);
    ifx_rows_reader_free(&r);
}

static void test_usage(void **state)
{
    ifx_rows_reader r;
    ifx_err err;
    collect c;

    (void)state;
    ifx_rows_reader_init(&r);
    collect_init(&c);
    assert_int_equal(ifx_rows_read(&r, (ifx_result_format)99, S("x"), on_row, &c, &err),
                     IFX_E_USAGE);
    assert_true(err.msg[0] != '\0');
    assert_int_equal(ifx_rows_read(&r, IFX_RESULT_V3_JSONL, NULL, 3, on_row, &c, &err),
                     IFX_E_USAGE);
    assert_int_equal(ifx_rows_read(&r, IFX_RESULT_V3_JSONL, S("{}"), NULL, &c, &err), IFX_E_USAGE);
    /* A NULL body of length 0 is an empty body. */
    assert_int_equal(ifx_rows_read(&r, IFX_RESULT_V3_JSONL, NULL, 0, on_row, &c, &err), IFX_OK);
    assert_int_equal(c.rows, 0);
    ifx_buf_free(&c.out);
    ifx_rows_reader_free(&r);
}

/* ---- v3 JSONL: the one-pass reader of flat rows against the validator --------------------------
 */

/* Renders a row with everything a consumer may read: names, types, exact values, texts. */
static ifx_rc on_row_exact(void *ud, const ifx_row *row, ifx_err *err)
{
    ifx_buf *b = ud;
    (void)err;
    put(b, "#%" PRId64 " m=", row->table);
    if (row->measurement)
        assert_int_equal(ifx_buf_append(b, row->measurement, row->measurement_len), IFX_OK);
    for (size_t i = 0; i < row->ncols; i++) {
        const ifx_value *v = &row->vals[i];
        uint64_t bits;
        put(b, " [");
        assert_int_equal(ifx_buf_append(b, row->cols[i].name, row->cols[i].len), IFX_OK);
        put(b, "]=%d:", (int)v->type);
        switch (v->type) {
        case IFX_VAL_STRING:
            assert_int_equal(ifx_buf_append(b, v->v.s.p, v->v.s.len), IFX_OK);
            break;
        case IFX_VAL_F64:
        case IFX_VAL_TIME: /* both carry their text */
            memcpy(&bits, &v->v.f, sizeof bits);
            put(b, "%016" PRIx64 " text=", v->type == IFX_VAL_TIME ? (uint64_t)v->v.i : bits);
            if (v->text.p)
                assert_int_equal(ifx_buf_append(b, v->text.p, v->text.len), IFX_OK);
            else
                put(b, "(none)");
            break;
        case IFX_VAL_BOOL:
            put(b, "%d", v->v.b);
            break;
        case IFX_VAL_NULL:
            break;
        default:
            put(b, "%" PRIu64, v->v.u);
        }
    }
    put(b, "\n");
    return IFX_OK;
}

static uint64_t flat_rng = 0x243F6A8885A308D3ULL;

static size_t flat_rnd(size_t n)
{
    flat_rng ^= flat_rng << 13, flat_rng ^= flat_rng >> 7, flat_rng ^= flat_rng << 17;
    return (size_t)(flat_rng >> 11) % n;
}

/* A random JSONL line, mostly a flat object of the kinds the one-pass reader takes, sometimes
 * with what it hands over (escapes, UTF-8, nesting, whitespace, odd numbers). */
static void flat_line(ifx_buf *b)
{
    static const char *const keys[] = {"host", "time",     "iox::measurement", "usage_system",
                                       "v",    "a\\\"b",   "caf\xc3\xa9",      "k\\u00e9",
                                       "",     "processes"};
    static const char *const vals[] = {"\"server-01\"",
                                       "\"a much longer string value over sixteen bytes\"",
                                       "\"\"",
                                       "\"with \\\"escapes\\\"\"",
                                       "\"caf\xc3\xa9\"",
                                       "\"\\u00e9\"",
                                       "0",
                                       "-0",
                                       "123",
                                       "-45",
                                       "-0.5",
                                       "0.1",
                                       "123456789012345678",
                                       "-123456789012345678",
                                       "1234567890123456789",
                                       "1234567890.12345",
                                       "12345678901234.56789",
                                       "0.0000000000000000000001",
                                       "9223372036854775807",
                                       "9223372036854775808",
                                       "18446744073709551616",
                                       "1.5",
                                       "-2.25e3",
                                       "1E+2",
                                       "0.000001",
                                       "12.340",
                                       "01",
                                       "1.",
                                       "-",
                                       "1e",
                                       "true",
                                       "false",
                                       "null",
                                       "tru",
                                       "nul",
                                       "{\"x\":1}",
                                       "[1,2]",
                                       "\"2026-01-01T00:00:00.123\"",
                                       "\"2026-01-01T00:00:00Z\"",
                                       "\"2026-01-01T00:00:00.120Z\"",
                                       "\"2026-13-01T00:00:00Z\"",
                                       "1767225600000000000",
                                       "\"cpu\"",
                                       "1.7976931348623157e309",
                                       "\"tab\there\""};
    const char *ws[] = {"", "", "", " ", "\t", " \r"};
    size_t members = flat_rnd(6);

    put(b, "%s{", ws[flat_rnd(6)]);
    for (size_t m = 0; m < members; m++) {
        if (m)
            put(b, "%s,%s", ws[flat_rnd(6)], ws[flat_rnd(6)]);
        put(b, "\"%s\"%s:%s%s", keys[flat_rnd(sizeof keys / sizeof *keys)], ws[flat_rnd(6)],
            ws[flat_rnd(6)], vals[flat_rnd(sizeof vals / sizeof *vals)]);
    }
    put(b, "%s}%s", ws[flat_rnd(6)], ws[flat_rnd(6)]);
}

/* Every line that the JSONL reader (one pass where it can) accepts is valid JSON, and gives the
 * rows the validator's path gives for it (read as a v3 JSON array of that one line): names,
 * types, exact values and texts. Random lines, then the same with bytes changed, removed or
 * inserted. */
static void test_v3_flat_fast_path(void **state)
{
    static const char alphabet[] = "{}[]\":,.-+eE0129 \\tfnul\x80\xc3";
    ifx_rows_reader r;
    ifx_buf line, doc, a, b;
    size_t taken = 0;
    (void)state;

    ifx_rows_reader_init(&r);
    ifx_buf_init(&line, 1 << 16);
    ifx_buf_init(&doc, 1 << 16);
    ifx_buf_init(&a, 1 << 20);
    ifx_buf_init(&b, 1 << 20);
    for (int round = 0; round < 60000; round++) {
        ifx_buf_reset(&line);
        flat_line(&line);
        int changes = round % 3 == 0 ? 0 : 1 + (int)flat_rnd(3);
        for (int k = 0; k < changes && line.len; k++) {
            size_t at = flat_rnd(line.len);
            switch (flat_rnd(3)) {
            case 0:
                line.data[at] = alphabet[flat_rnd(sizeof alphabet - 1)];
                break;
            case 1:
                memmove(line.data + at, line.data + at + 1, line.len - at - 1);
                line.len--;
                break;
            default:
                if (line.len + 1 < line.cap) {
                    memmove(line.data + at + 1, line.data + at, line.len - at);
                    line.data[at] = alphabet[flat_rnd(sizeof alphabet - 1)];
                    line.len++;
                }
            }
            line.data[line.len] = '\0';
        }
        if (memchr(line.data, '\n', line.len))
            continue;
        ifx_buf_reset(&a);
        ifx_buf_reset(&b);
        ifx_buf_reset(&doc);
        assert_int_equal(ifx_buf_append(&doc, line.data, line.len), IFX_OK);
        assert_int_equal(ifx_buf_putc(&doc, '\n'), IFX_OK);
        ifx_rc rc =
            ifx_rows_read(&r, IFX_RESULT_V3_JSONL, doc.data, doc.len, on_row_exact, &a, NULL);
        if (rc != IFX_OK)
            continue;
        size_t blank = 0;
        while (blank < line.len && strchr(" \t\r", line.data[blank]))
            blank++;
        if (blank == line.len)
            continue;
        ifx_json_val top;
        if (ifxi_json_parse(line.data, line.len, &top, NULL) != IFX_OK) {
            print_error("accepted invalid JSON: %s\n", line.data);
            fail();
        }
        ifx_buf_reset(&doc);
        put(&doc, "[");
        assert_int_equal(ifx_buf_append(&doc, line.data, line.len), IFX_OK);
        put(&doc, "]");
        assert_int_equal(
            ifx_rows_read(&r, IFX_RESULT_V3_JSON, doc.data, doc.len, on_row_exact, &b, NULL),
            IFX_OK);
        if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
            print_error("%s\n one pass: %s validator: %s\n", line.data, a.data, b.data);
            fail();
        }
        taken++;
    }
    assert_true(taken > 5000);
    ifx_buf_free(&line);
    ifx_buf_free(&doc);
    ifx_buf_free(&a);
    ifx_buf_free(&b);
    ifx_rows_reader_free(&r);
}

/* ifxi_row_find_key gives ifx_row_find's answer: random rows of names of 0 to 12 bytes that
 * share their length, first or last bytes with the name looked up, duplicates, and names not
 * NUL-terminated (the columns point into a longer text). */
static void test_row_find_key(void **state)
{
    static const char *const names[] = {
        "",       "t",        "ti",       "tim",         "time",        "timf",
        "uime",   "_time",    "_stop",    "table",       "_timex",      "_xxxxe",
        "_start", "_measure", "_measurf", "aeasurement", "measurement", "time_ns"};
    static const char *const wanted[] = {"time", "_time", "_start",  "_measure", "measurement",
                                         "t",    "",      "time_ns", "tim"};
    const size_t nnames = sizeof names / sizeof names[0];
    uint64_t x = 0x6A09E667F3BCC908ULL;
    char text[16 * 32];
    ifx_column cols[16];
    ifx_value vals[16];
    (void)state;

    for (int round = 0; round < 20000; round++) {
        ifx_row row = {0};
        size_t at = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        row.ncols = (size_t)(x % 12);
        for (size_t k = 0; k < row.ncols; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            const char *nm = names[x % nnames];
            size_t len = strlen(nm);
            memcpy(text + at, nm, len);
            memcpy(text + at + len, "zzzzzzzz", 8); /* what follows the name is no NUL */
            cols[k].name = text + at;
            cols[k].len = len;
            at += len + 8;
        }
        row.cols = cols;
        row.vals = vals;
        ifxi_row_key key;
        ifxi_row_key_init(&key, wanted[round % (sizeof wanted / sizeof wanted[0])]);
        assert_int_equal(ifxi_row_find_key(&row, &key), ifx_row_find(&row, key.name));
    }
    ifxi_row_key key;
    ifxi_row_key_init(&key, NULL);
    assert_int_equal(ifxi_row_find_key(NULL, &key), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v2_spec_example),
        cmocka_unit_test(test_v2_annotation_order),
        cmocka_unit_test(test_v2_types),
        cmocka_unit_test(test_v2_exact_values),
        cmocka_unit_test(test_v2_r7_cells_named_like_headers),
        cmocka_unit_test(test_v2_r8_strings_stay_strings),
        cmocka_unit_test(test_v2_defaults),
        cmocka_unit_test(test_v2_quoting),
        cmocka_unit_test(test_v2_error_table),
        cmocka_unit_test(test_v2_results_and_blocks),
        cmocka_unit_test(test_v2_empty),
        cmocka_unit_test(test_v2_refused),
        cmocka_unit_test(test_v2_truncated),
        cmocka_unit_test(test_v3_spec_outputs),
        cmocka_unit_test(test_v3_exact_time),
        cmocka_unit_test(test_v3_absent_keys_and_types),
        cmocka_unit_test(test_v3_jsonl_lines),
        cmocka_unit_test(test_v3_jsonl_refused),
        cmocka_unit_test(test_v3_json),
        cmocka_unit_test(test_v3_csv),
        cmocka_unit_test(test_v1_spec_examples),
        cmocka_unit_test(test_v1_series_tags_nulls),
        cmocka_unit_test(test_v1_statement_errors),
        cmocka_unit_test(test_v1_chunked),
        cmocka_unit_test(test_v1_refused),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_reader_reuse_and_growth),
        cmocka_unit_test(test_row_find),
        cmocka_unit_test(test_v3_flat_fast_path),
        cmocka_unit_test(test_row_find_key),
        cmocka_unit_test(test_v2_time_memo),
        cmocka_unit_test(test_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
