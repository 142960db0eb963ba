/* Differential test of the streaming readers (ifx_rows_stream, src/core/rows.c): every answer of
 * the corpus below is read whole by ifx_rows_read, then fed to a stream split in two at every byte
 * position, in 1-byte chunks, and in random chunk sizes; every way must give the same rows (each
 * rendered as text: names, types, values, measurement, table) and the same outcome (code, byte
 * offset and message). The corpus holds what chunking can break: UTF-8 sequences, JSON escapes,
 * numbers, quoted CSV cells with "" and CR LF, blank lines between schema blocks, the v2 in-band
 * error table, truncated answers and errors in the middle of an answer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ifx/rows.h"
#include "core/rows_common.h"

typedef struct outcome {
    ifx_buf rows;
    ifx_rc rc;
    size_t offset;
    char msg[sizeof(((ifx_err *)0)->msg)];
} outcome;

static void put_bytes(ifx_buf *b, const char *p, size_t n)
{
    assert_int_equal(ifx_buf_append(b, p, n), IFX_OK);
}

static void put_num(ifx_buf *b, const char *fmt, uint64_t v)
{
    char tmp[64];
    int n = snprintf(tmp, sizeof tmp, fmt, v);
    put_bytes(b, tmp, (size_t)n);
}

static ifx_rc render(void *ud, const ifx_row *row, ifx_err *err)
{
    ifx_buf *b = ud;
    (void)err;
    put_num(b, "#%" PRIu64, (uint64_t)row->table);
    if (row->measurement) {
        put_bytes(b, " m=", 3);
        put_bytes(b, row->measurement, row->measurement_len);
    }
    for (size_t i = 0; i < row->ncols; i++) {
        const ifx_value *v = &row->vals[i];
        put_bytes(b, " ", 1);
        put_bytes(b, row->cols[i].name, row->cols[i].len);
        put_num(b, "=%" PRIu64 ":", (uint64_t)v->type);
        switch (v->type) {
        case IFX_VAL_STRING:
            put_num(b, "%" PRIu64 ":", (uint64_t)v->v.s.len);
            put_bytes(b, v->v.s.p, v->v.s.len);
            break;
        case IFX_VAL_BOOL:
            put_num(b, "%" PRIu64, (uint64_t)v->v.b);
            break;
        case IFX_VAL_F64: {
            uint64_t bits;
            memcpy(&bits, &v->v.f, sizeof bits);
            put_num(b, "%" PRIx64, bits);
            break;
        }
        case IFX_VAL_NULL:
            break;
        default:
            put_num(b, "%" PRIu64, v->v.u);
        }
    }
    put_bytes(b, "\n", 1);
    return IFX_OK;
}

static void outcome_init(outcome *o)
{
    ifx_buf_init(&o->rows, (size_t)1 << 26);
    o->rc = IFX_OK;
    o->offset = IFX_NO_OFFSET;
    o->msg[0] = '\0';
}

static void outcome_set(outcome *o, ifx_rc rc, const ifx_err *e)
{
    o->rc = rc;
    if (rc) {
        o->offset = e->offset;
        memcpy(o->msg, e->msg, sizeof o->msg);
    }
}

static void read_whole(ifx_result_format fmt, const char *body, size_t len, outcome *o)
{
    ifx_rows_reader r;
    ifx_err e;
    ifx_rows_reader_init(&r);
    ifx_err_clear(&e);
    outcome_set(o, ifx_rows_read(&r, fmt, body, len, render, &o->rows, &e), &e);
    ifx_rows_reader_free(&r);
}

/* Feeds body in chunks of the sizes next_size gives. */
static void read_stream(ifx_rows_reader *r, ifx_result_format fmt, const char *body, size_t len,
                        size_t (*next_size)(void *st, size_t left), void *st, outcome *o)
{
    ifx_rows_stream s;
    ifx_err e;
    ifx_rc rc = IFX_OK;
    size_t pos = 0;

    ifx_err_clear(&e);
    ifx_rows_stream_init(&s, r, fmt, 0, render, &o->rows);
    while (pos < len && !rc) {
        size_t n = next_size(st, len - pos);
        /* a chunk of its own buffer, so a read past it is caught by the sanitizers */
        char *chunk = malloc(n);
        assert_non_null(chunk);
        memcpy(chunk, body + pos, n);
        rc = ifx_rows_stream_feed(&s, chunk, n, &e);
        free(chunk);
        pos += n;
    }
    if (!rc)
        rc = ifx_rows_stream_end(&s, &e);
    outcome_set(o, rc, &e);
    ifx_rows_stream_free(&s);
}

static void assert_same(const outcome *want, const outcome *got, const char *how, size_t at)
{
    if (want->rc != got->rc || want->offset != got->offset || strcmp(want->msg, got->msg) != 0 ||
        want->rows.len != got->rows.len ||
        (want->rows.len && memcmp(want->rows.data, got->rows.data, want->rows.len) != 0)) {
        print_error("%s (%zu): whole rc=%d at %zu \"%s\", %zu row bytes; streamed rc=%d at %zu "
                    "\"%s\", %zu row bytes\n",
                    how, at, (int)want->rc, want->offset, want->msg, want->rows.len, (int)got->rc,
                    got->offset, got->msg, got->rows.len);
        fail();
    }
}

typedef struct split_state {
    size_t first; /* the first chunk's size, then the rest in one */
    bool done;
} split_state;

static size_t split_size(void *st, size_t left)
{
    split_state *s = st;
    size_t n = s->done ? left : (s->first < left ? s->first : left);
    s->done = true;
    return n ? n : left;
}

static size_t one_byte(void *st, size_t left)
{
    (void)st, (void)left;
    return 1;
}

static size_t random_size(void *st, size_t left)
{
    uint64_t *x = st;
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    size_t n = 1 + (size_t)(*x % 64);
    return n < left ? n : left;
}

static void check_answer(ifx_result_format fmt, const char *body, size_t len)
{
    outcome want, got;
    ifx_rows_reader r; /* one reader for every stream: a reader is reused across answers */

    outcome_init(&want);
    read_whole(fmt, body, len, &want);
    ifx_rows_reader_init(&r);
    for (size_t cut = 0; cut <= len; cut++) {
        split_state st = {cut, false};
        outcome_init(&got);
        read_stream(&r, fmt, body, len, split_size, &st, &got);
        assert_same(&want, &got, "split at", cut);
        ifx_buf_free(&got.rows);
    }
    outcome_init(&got);
    read_stream(&r, fmt, body, len, one_byte, NULL, &got);
    assert_same(&want, &got, "1-byte chunks", 1);
    ifx_buf_free(&got.rows);
    for (uint64_t seed = 1; seed <= 20; seed++) {
        uint64_t x = seed * 0x9E3779B97F4A7C15ULL;
        outcome_init(&got);
        read_stream(&r, fmt, body, len, random_size, &x, &got);
        assert_same(&want, &got, "random chunks, seed", (size_t)seed);
        ifx_buf_free(&got.rows);
    }
    ifx_rows_reader_free(&r);
    ifx_buf_free(&want.rows);
}

#define CHECK(fmt, lit) check_answer(fmt, lit, sizeof lit - 1)

static void test_v3_jsonl(void **state)
{
    (void)state;
    CHECK(IFX_RESULT_V3_JSONL, "");
    CHECK(IFX_RESULT_V3_JSONL, "{\"host\":\"a\",\"v\":1,\"time\":\"2026-01-01T00:00:00.5\"}\n"
                               "{\"host\":\"caf\xc3\xa9 \\u00e9\\\"\\\\\",\"v\":-12.5e3,"
                               "\"big\":18446744073709551615,\"time\":\"2026-01-01T00:00:01\"}\n"
                               "\n"
                               "{\"iox::measurement\":\"cpu\",\"n\":{\"a\":[1, 2]},\"b\":true,"
                               "\"time\":1767225600000000001}\n");
    /* truncated: the last line has no line end */
    CHECK(IFX_RESULT_V3_JSONL, "{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\"}\n{\"v\":2,\"ti");
    CHECK(IFX_RESULT_V3_JSONL, "{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\"}\n{\"v\":2}");
    /* invalid JSON in the middle, and a line that is no object */
    CHECK(IFX_RESULT_V3_JSONL, "{\"v\":1}\n{\"v\":tru}\n{\"v\":3}\n");
    CHECK(IFX_RESULT_V3_JSONL, "{\"v\":1}\n[1]\n");
    CHECK(IFX_RESULT_V3_JSONL, "{\"v\":1}\r\n{\"time\":\"yesterday\"}\n");
    CHECK(IFX_RESULT_V3_JSONL, "{\"s\":\"\\ud83d\\ude00\xf0\x9f\x98\x80\"}\n{\"s\":\"\\ud83d\"}\n");
}

static void test_v2_csv(void **state)
{
    (void)state;
    CHECK(IFX_RESULT_V2_CSV, "");
    CHECK(IFX_RESULT_V2_CSV,
          "#datatype,string,long,dateTime:RFC3339,string,double,boolean,unsignedLong\r\n"
          "#group,false,false,false,true,false,false,false\r\n"
          "#default,_result,,,,,,\r\n"
          ",result,table,_time,_measurement,v,ok,u\r\n"
          ",,0,2026-01-01T00:00:00Z,cpu,1.5,true,18446744073709551615\r\n"
          ",,0,2026-01-01T00:00:01.123456789Z,\"c\"\"p,u\",-Inf,false,\r\n"
          ",,1,2026-01-01T00:00:02Z,\"multi\r\nline \xc3\xa9\",NaN,,7\r\n"
          "\r\n"
          "#datatype,string,long,string\r\n"
          "#group,false,false,false\r\n"
          "#default,r2,,dflt\r\n"
          ",result,table,\"na\"\"me\"\r\n"
          ",,5,\r\n"
          ",,6,x\r\ny\r\n"
          "\r\n");
    /* no #datatype: every cell a string; a header for each block */
    CHECK(IFX_RESULT_V2_CSV, ",result,table,a\r\n,r,0,\"x\"\r\n\r\n,result,table,b\r\n,r,1,y\r\n");
    /* the in-band error table */
    CHECK(IFX_RESULT_V2_CSV, "#datatype,string,string\r\n#group,true,true\r\n#default,,\r\n"
                             ",error,reference\r\n,\"failed to \"\"read\"\"\r\nmore\",897\r\n");
    CHECK(IFX_RESULT_V2_CSV, ",error,reference\r\n");
    /* errors: truncated inside a quoted cell, a bad cell, a row wider than the header, a quote
     * inside an unquoted cell, an unknown type */
    CHECK(IFX_RESULT_V2_CSV, "#datatype,string,long,long\r\n,result,table,v\r\n,,0,1\r\n,,0,\"2");
    CHECK(IFX_RESULT_V2_CSV, "#datatype,string,long,long\r\n,result,table,v\r\n,,0,1\r\n,,0,2");
    CHECK(IFX_RESULT_V2_CSV, "#datatype,string,long,long\r\n,result,table,v\r\n,,0,x\r\n");
    CHECK(IFX_RESULT_V2_CSV, ",result,table,v\r\n,,0,1,2\r\n,,0,3\r\n");
    CHECK(IFX_RESULT_V2_CSV, ",result,table,v\r\n,,0,a\"b\r\n");
    CHECK(IFX_RESULT_V2_CSV, ",result,table,v\r\n,,0,\"a\"b\r\n");
    CHECK(IFX_RESULT_V2_CSV, "#datatype,string,long,decimal\r\n,result,table,v\r\n");
    /* a #default that is no value of its type, named once the header is read (found by the
     * fuzzer: the offset of a cell of an earlier window) */
    CHECK(IFX_RESULT_V2_CSV, "#datatype,string,long,double\r\n#default,_result,,x\r\n"
                             ",result,table,v\r\n,,0,1\r\n");
    CHECK(IFX_RESULT_V2_CSV, ",result,table,v\r\n,,0,a\rb\r\n,,0,c\r");
}

static void test_v3_csv(void **state)
{
    (void)state;
    CHECK(IFX_RESULT_V3_CSV, "");
    CHECK(IFX_RESULT_V3_CSV, "host,v,time\n\"a,\"\"b\"\"\",1.5,2026-01-01T00:00:00\n"
                             ",,2026-01-01T00:00:01.5\n\"x\ny\",\xc3\xa9,2026-01-01T00:00:02\n");
    CHECK(IFX_RESULT_V3_CSV, "host,time\na,2026-01-01T00:00:00\nb,never\n");
    CHECK(IFX_RESULT_V3_CSV, "host,time\na,2026-01-01T00:00:00\nb");
    CHECK(IFX_RESULT_V3_CSV, "host,time\na,b,c\n");
}

static void test_v1_json(void **state)
{
    (void)state;
    CHECK(IFX_RESULT_V1_JSON, "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"cpu\","
                              "\"tags\":{\"host\":\"a\"},\"columns\":[\"time\",\"v\"],\"values\":"
                              "[[1767225600000000000,1.5],[1767225600000000001,null]]}]}]}\n");
    /* two series, several results, strings with brackets and escaped quotes, nested values */
    CHECK(
        IFX_RESULT_V1_JSON,
        "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"c\\\"pu\",\"tags\":{\"h\":\"\","
        "\"r\":\"x]\"},\"columns\":[\"time\",\"s\",\"n\"],\"values\":[[1,\"a]\\\\\",[1,{\"b\":2}]],"
        "[2,\"caf\xc3\xa9\\u00e9\",-12.5e3],[3,true,18446744073709551615]],\"partial\":true},"
        "{\"name\":\"mem\",\"columns\":[\"time\",\"v\"],\"values\":[[4,\"2018-01-01\"]]}]},"
        "{\"statement_id\":1},{\"statement_id\":2,\"series\":[{\"name\":\"d\",\"columns\":["
        "\"time\"],"
        "\"values\":[[\"2018-01-01T00:00:00Z\"]]}]}]}\n"
        "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\"],"
        "\"values\":[[5],[6]]}]}]}\n");
    /* pretty documents; a series without values; values before columns */
    CHECK(IFX_RESULT_V1_JSON,
          "{\n  \"results\": [\n    {\n      \"statement_id\": 0\n    }\n  ]\n}\n"
          "{\n  \"results\": [{\"series\": [{\"name\": \"m\", \"columns\": "
          "[\"time\"],\n  \"values\": [[\"2018-01-01T00:00:00Z\"] , [ 7 ] ]}]}]\n}\n");
    CHECK(IFX_RESULT_V1_JSON, "{\"results\":[{\"series\":[{\"name\":\"m\",\"columns\":[\"a\"]},"
                              "{\"values\":[[1],[2]],\"columns\":[\"a\"],\"name\":\"late\"}]}]}");
    /* server errors, shape errors, an empty answer, a cut answer */
    CHECK(IFX_RESULT_V1_JSON, "");
    CHECK(IFX_RESULT_V1_JSON, " \n ");
    CHECK(IFX_RESULT_V1_JSON, "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"c");
    CHECK(IFX_RESULT_V1_JSON, "{\"results\":[{\"statement_id\":0,\"error\":\"boom\"}]}\n");
    CHECK(IFX_RESULT_V1_JSON, "{\"error\":\"missing required parameter \\\"q\\\"\"}");
    CHECK(IFX_RESULT_V1_JSON,
          "{\"results\":[{\"series\":[{\"columns\":[\"time\"],\"values\":[[1]]}]}]}"
          "\n{\"results\":[{\"statement_id\":0,\"error\":\"max-row-limit\"}]}\n");
    CHECK(IFX_RESULT_V1_JSON, "[]");
    CHECK(IFX_RESULT_V1_JSON, "{}");
    CHECK(IFX_RESULT_V1_JSON, "{\"results\":[{\"series\":[{\"columns\":[\"time\",\"v\"],"
                              "\"values\":[[1,2],[1]]}]}]}");
    CHECK(IFX_RESULT_V1_JSON, "{\"results\":[{\"series\":[{\"columns\":[\"time\"],"
                              "\"values\":[[1],[\"noon\"]]}]}]}");
    CHECK(IFX_RESULT_V1_JSON, "{\"results\":[{\"series\":[{\"columns\":[1],\"values\":[]}]}]}");
    CHECK(IFX_RESULT_V1_JSON, "{\"results\":[{\"series\":[{\"columns\":[\"a\"],\"tags\":{\"t\":1},"
                              "\"values\":[[1]]}]}]}");
    CHECK(IFX_RESULT_V1_JSON,
          "{\"results\":[{\"series\":[{\"columns\":[\"a\"],\"values\":[1]}]}]}");
    CHECK(IFX_RESULT_V1_JSON, "{\"results\":[{\"series\":{}}]}");
    CHECK(IFX_RESULT_V1_JSON, "{\"results\":[{\"series\":[1]}]}");
    CHECK(IFX_RESULT_V1_JSON, "{\"results\":[1]}");
    CHECK(IFX_RESULT_V1_JSON, "{\"results\":[{\"error\":{\"code\":5}}]}");
    CHECK(IFX_RESULT_V1_JSON, "{\"results\":[{\"error\":null,\"series\":null}],\"error\":null}");
}

/* v1 answers that fail after rows: a stream delivers rows as they come, a whole read validates
 * each document first; the outcome is the same failure, and the whole read's rows come first. */
static void check_v1_late_failure(const char *body, size_t len)
{
    outcome want, got;
    ifx_rows_reader r;
    ifx_rows_reader_init(&r);
    outcome_init(&want);
    read_whole(IFX_RESULT_V1_JSON, body, len, &want);
    assert_int_not_equal(want.rc, IFX_OK);
    for (size_t cut = 0; cut <= len; cut++) {
        split_state st = {cut, false};
        outcome_init(&got);
        read_stream(&r, IFX_RESULT_V1_JSON, body, len, split_size, &st, &got);
        assert_int_equal(got.rc, want.rc);
        assert_true(got.rows.len >= want.rows.len);
        assert_memory_equal(got.rows.data ? got.rows.data : "",
                            want.rows.data ? want.rows.data : "", want.rows.len);
        ifx_buf_free(&got.rows);
    }
    ifx_buf_free(&want.rows);
    ifx_rows_reader_free(&r);
}

/* v1 rows are read in one pass where they are flat arrays of plain scalars, and by the
 * validator otherwise: random series mixing both kinds of rows (escapes, UTF-8, nesting,
 * whitespace, counts that do not match the columns) give the whole read's rows however the
 * answer is cut. */
static void test_v1_flat_rows(void **state)
{
    static const char *const vals[] = {"1",
                                       "-2",
                                       "3.5",
                                       "1e3",
                                       "\"a\"",
                                       "\"\"",
                                       "\"x]y,z\"",
                                       "true",
                                       "false",
                                       "null",
                                       "\"a\\\"b\"",
                                       "\"caf\xc3\xa9\"",
                                       "[1,2]",
                                       "{\"k\":1}",
                                       " 4 ",
                                       "18446744073709551616",
                                       "\"a longer string than sixteen\"",
                                       "-0.25"};
    uint64_t x = 0xD1B54A32D192ED03ULL;
    char doc[8192];
    (void)state;

    for (int round = 0; round < 30; round++) {
        size_t k = 0;
        int ncols = 1 + (int)(round % 4);
        k += (size_t)snprintf(doc + k, sizeof doc - k,
                              "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"m\","
                              "\"columns\":[\"time\"");
        for (int c = 1; c < ncols; c++)
            k += (size_t)snprintf(doc + k, sizeof doc - k, ",\"c%d\"", c);
        k += (size_t)snprintf(doc + k, sizeof doc - k, "],\"values\":[");
        for (int row = 0; row < 20; row++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            /* mostly the right count, sometimes one more or one less (an error, ending the
             * answer there: the rest is still compared) */
            int n = ncols + (x % 41 == 0 ? 1 : 0) - (x % 43 == 0 ? 1 : 0);
            k += (size_t)snprintf(doc + k, sizeof doc - k, "%s[%s%d", row ? "," : "",
                                  x % 7 == 0 ? " " : "", 1000 + row);
            for (int c = 1; c < n; c++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                k += (size_t)snprintf(doc + k, sizeof doc - k, ",%s",
                                      vals[x % (sizeof vals / sizeof vals[0])]);
            }
            k += (size_t)snprintf(doc + k, sizeof doc - k, "%s]", x % 5 == 0 ? "\t" : "");
        }
        k += (size_t)snprintf(doc + k, sizeof doc - k, "]}]}]}\n");
        assert_true(k < sizeof doc);
        check_answer(IFX_RESULT_V1_JSON, doc, k);
    }
}

/* v2 records are read by plain_record where they hold no quote and lie in whole 16-byte blocks
 * of the window, and by csv_record's loop otherwise. A stream fed byte by byte ends its window
 * at each record's line end, so its records go to the loop (but for a last cell of 14 bytes or
 * more); read whole, most go to plain_record. Random answers mixing long and short cells,
 * empty ones (defaults), quoted cells with commas, "" and CR LF, lone CRs, LF and CR LF line
 * ends, and the errors (a quote in an unquoted cell, a record wider than its header) give the
 * same rows and outcome either way. */
static void test_v2_csv_plain_records(void **state)
{
    static const char *const cells[] = {"",
                                        "x",
                                        "1",
                                        "-42",
                                        "3.25",
                                        "cpu",
                                        "a cell longer than sixteen bytes",
                                        "server-01.example.com",
                                        "a\rb",
                                        "lone CR\r inside a long cell",
                                        "\"quoted, with a comma\"",
                                        "\"a \"\"quote\"\"\"",
                                        "\"multi\r\nline\"",
                                        "\"\"",
                                        "2026-01-01T00:00:00.123456789Z",
                                        "a\"b",
                                        "caf\xc3\xa9"};
    uint64_t x = 0x2545F4914F6CDD1DULL;
    char doc[16384];
    (void)state;

    for (int round = 0; round < 24; round++) {
        size_t k = 0;
        int ncols = 2 + round % 5;
        const char *eol = round % 3 == 2 ? "\n" : "\r\n";
        if (round % 2) { /* annotations: a default for the last column */
            k += (size_t)snprintf(doc + k, sizeof doc - k, "#datatype,string,long");
            for (int c = 2; c < ncols; c++)
                k += (size_t)snprintf(doc + k, sizeof doc - k, ",string");
            k += (size_t)snprintf(doc + k, sizeof doc - k, "%s#default,_result,", eol);
            for (int c = 2; c < ncols; c++)
                k += (size_t)snprintf(doc + k, sizeof doc - k, ",%s", c + 1 == ncols ? "dflt" : "");
            k += (size_t)snprintf(doc + k, sizeof doc - k, "%s", eol);
        }
        k += (size_t)snprintf(doc + k, sizeof doc - k, ",result,table");
        for (int c = 2; c < ncols; c++)
            k += (size_t)snprintf(doc + k, sizeof doc - k, ",c%d", c);
        k += (size_t)snprintf(doc + k, sizeof doc - k, "%s", eol);
        for (int row = 0; row < 24; row++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            /* now and then one cell too many (an error that ends the answer) */
            int n = ncols + (x % 97 == 0 ? 1 : 0);
            k += (size_t)snprintf(doc + k, sizeof doc - k, ",,%d", row % 3);
            for (int c = 2; c < n; c++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                /* the rarer cells (quotes, CRs, errors) one time in four */
                size_t pick = x % 4 ? (x >> 8) % 8 : (x >> 8) % (sizeof cells / sizeof cells[0]);
                k += (size_t)snprintf(doc + k, sizeof doc - k, ",%s", cells[pick]);
            }
            k += (size_t)snprintf(doc + k, sizeof doc - k, "%s", eol);
        }
        assert_true(k < sizeof doc);
        check_answer(IFX_RESULT_V2_CSV, doc, k);
    }
}

static void test_v1_late_failures(void **state)
{
    (void)state;
#define LATE(lit) check_v1_late_failure(lit, sizeof lit - 1)
    LATE("{\"results\":[{\"series\":[{\"columns\":[\"time\"],\"values\":[[1],[2]]}]}]} x");
    LATE("{\"results\":[{\"series\":[{\"columns\":[\"time\"],\"values\":[[1],[2],[3");
    LATE("{\"results\":[{\"series\":[{\"columns\":[\"time\"],\"values\":[[1],[2]]}]}],"
         "\"error\":\"late\"}");
    LATE("{\"results\":[{\"series\":[{\"columns\":[\"time\"],\"values\":[[1],[2]]}]}]");
#undef LATE
}

static void test_whole_formats(void **state)
{
    (void)state;
    CHECK(IFX_RESULT_V3_JSON, "[{\"a\":1,\"time\":\"2026-01-01T00:00:00\"},{\"a\":\"\\u00e9\"}]");
    CHECK(IFX_RESULT_V3_JSON, "[{\"a\":1},");
}

/* A row refused by the callback stops the stream, which stays stopped. */
static ifx_rc refuse_second(void *ud, const ifx_row *row, ifx_err *err)
{
    int *n = ud;
    (void)row;
    if (++*n == 2)
        return ifx_err_set(err, IFX_E_FULL, "enough");
    return IFX_OK;
}

static ifx_rc refuse_second_at(void *ud, const ifx_row *row, ifx_err *err)
{
    int *n = ud;
    (void)row;
    if (++*n == 2)
        return ifx_err_set_at(err, IFX_E_FULL, 5, "enough");
    return IFX_OK;
}

static void test_callback_stops(void **state)
{
    static const char body[] = "{\"v\":1}\n{\"v\":2}\n{\"v\":3}\n";
    ifx_rows_reader r;
    ifx_rows_stream s;
    ifx_err e;
    int n = 0;
    (void)state;

    ifx_rows_reader_init(&r);
    ifx_rows_stream_init(&s, &r, IFX_RESULT_V3_JSONL, 0, refuse_second, &n);
    assert_int_equal(ifx_rows_stream_feed(&s, body, 10, &e), IFX_OK);
    assert_int_equal(ifx_rows_stream_feed(&s, body + 10, sizeof body - 11, &e), IFX_E_FULL);
    assert_string_equal(e.msg, "enough");
    assert_int_equal(ifx_rows_stream_end(&s, &e), IFX_E_FULL);
    assert_int_equal(n, 2);
    ifx_rows_stream_free(&s);

    /* the callback's own offset is passed on as it set it, as by a whole read */
    n = 0;
    ifx_rows_stream_init(&s, &r, IFX_RESULT_V3_JSONL, 0, refuse_second_at, &n);
    assert_int_equal(ifx_rows_stream_feed(&s, body, 10, &e), IFX_OK);
    assert_int_equal(ifx_rows_stream_feed(&s, body + 10, sizeof body - 11, &e), IFX_E_FULL);
    assert_int_equal(e.offset, 5);
    ifx_rows_stream_free(&s);
    n = 0;
    assert_int_equal(
        ifx_rows_read(&r, IFX_RESULT_V3_JSONL, body, sizeof body - 1, refuse_second_at, &n, &e),
        IFX_E_FULL);
    assert_int_equal(e.offset, 5);
    ifx_rows_reader_free(&r);
}

/* The bytes kept between chunks are one record, whatever the answer's size; a record over the
 * cap is an error at the answer's offset, not a truncation. */
static ifx_rc count_row(void *ud, const ifx_row *row, ifx_err *err)
{
    (void)row, (void)err;
    (*(size_t *)ud)++;
    return IFX_OK;
}

static void test_bounded_carry(void **state)
{
    static const char line[] =
        "{\"host\":\"server-01\",\"v\":1.25,\"time\":\"2026-01-01T00:00:00\"}\n";
    ifx_rows_reader r;
    ifx_rows_stream s;
    ifx_err e;
    size_t rows = 0, maxcarry = 0;
    char chunk[4096 + 7];
    (void)state;

    ifx_rows_reader_init(&r);
    ifx_rows_stream_init(&s, &r, IFX_RESULT_V3_JSONL, 256, count_row, &rows);
    size_t k = 0, fed = 0;
    while (fed < ((size_t)64 << 20)) {
        for (size_t i = 0; i < sizeof chunk; i++, k = (k + 1) % (sizeof line - 1))
            chunk[i] = line[k];
        assert_int_equal(ifx_rows_stream_feed(&s, chunk, sizeof chunk, &e), IFX_OK);
        fed += sizeof chunk;
        if (s.carry.alloc > maxcarry)
            maxcarry = s.carry.alloc;
    }
    assert_int_equal(rows, fed / (sizeof line - 1));
    assert_true(maxcarry <= 4096 + 256);
    ifx_rows_stream_free(&s);

    /* a line longer than the cap */
    ifx_rows_stream_init(&s, &r, IFX_RESULT_V3_JSONL, 16, count_row, &rows);
    assert_int_equal(ifx_rows_stream_feed(&s, "{\"v\":1}\n{\"a\":", 13, &e), IFX_OK);
    assert_int_equal(ifx_rows_stream_feed(&s, "\"0123456789\"}\n", 14, &e), IFX_E_FULL);
    assert_int_equal(e.offset, 8); /* where the record starts */
    ifx_rows_stream_free(&s);
    ifx_rows_reader_free(&r);
}

/* The readers' fast path for doubles gives strtod's value, bit for bit, or declines. */
static void test_fast_double(void **state)
{
    static const char *const cases[] = {
        "0", "-0", "-0.0", "1.5", "12.34", "1e22", "1e23", "123456789012345", "1234567890123456",
        "0.1", "-7.25e-3", "9007199254740993", "1E5", "1e+5", "00.5", "1.", ".5", "-", "1e",
        "1e-22", "1e-23", "4.9406564584124654e-324",
        /* digits past 19, whose sum would wrap to a small m */
        "18446744073709551616", "1844674407370955161.6", "-0.18446744073709551617",
        "0.0000000000000000000001", "000000000000000000001.5"};
    char text[64];
    uint64_t x = 0x243F6A8885A308D3ULL;
    size_t taken = 0;
    (void)state;

    for (int n = -(int)(sizeof cases / sizeof cases[0]); n < 300000; n++) {
        if (n < 0) {
            snprintf(text, sizeof text, "%s", cases[n + (int)(sizeof cases / sizeof cases[0])]);
        } else {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int digits = 1 + (int)(x % 17), point = (int)((x >> 8) % 18), k = 0;
            if ((x >> 20) & 1)
                text[k++] = '-';
            uint64_t y = x >> 24;
            for (int j = 0; j < digits; j++, y = y * 6364136223846793005ULL + 1)
                text[k++] = (char)('0' + (y >> 40) % 10);
            if (point > 0 && point < digits) {
                memmove(text + k - point + 1, text + k - point, (size_t)point);
                text[k - point] = '.';
                k++;
            }
            if ((x >> 30) % 3 == 0)
                k += snprintf(text + k, sizeof text - (size_t)k, "e%d", (int)((x >> 32) % 61) - 30);
            text[k] = '\0';
        }
        double fast, slow = strtod(text, NULL);
        if (ifxi_rows_fast_double(text, strlen(text), &fast)) {
            taken++;
            if (memcmp(&fast, &slow, sizeof fast) != 0) {
                print_error("%s: fast %.17g, strtod %.17g\n", text, fast, slow);
                fail();
            }
        }
    }
    assert_true(taken > 100000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v3_jsonl),         cmocka_unit_test(test_v2_csv),
        cmocka_unit_test(test_v3_csv),           cmocka_unit_test(test_v1_json),
        cmocka_unit_test(test_v1_flat_rows),     cmocka_unit_test(test_v2_csv_plain_records),
        cmocka_unit_test(test_v1_late_failures), cmocka_unit_test(test_whole_formats),
        cmocka_unit_test(test_callback_stops),   cmocka_unit_test(test_bounded_carry),
        cmocka_unit_test(test_fast_double),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
