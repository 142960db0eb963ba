/* Round trip through a real InfluxDB 1.x: every vector that v1 accepts is encoded by ifx,
 * written with /write?precision=n into a database of its own, read back with InfluxQL, and
 * compared value by value and type by type with the original JSON point.
 *
 * Then the same for a seeded random sample of nasty points (tests/support/nasty_points.h):
 * IFX_V1_SEED (default below) and IFX_V1_COUNT (default 100 points stored, a few seconds) choose
 * it; points are generated until that many were stored (most nasty names hold a backslash that
 * 1.x and 3.x read differently, which v1 refuses). The seed is printed, and a failure prints the
 * point in full. Each point ifx refuses for v1 must fall in one of the documented classes of
 * refusal, named by its message. A longer run:
 *
 *     IFX_V1_SEED=$(od -An -N8 -tu8 /dev/urandom) IFX_V1_COUNT=5000 build/tests/test_v1_roundtrip
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <inttypes.h>
#include <math.h>

#include "fixture.h"
#include "core/codec.h"
#include "ifx/point.h"
#include "nasty_points.h"
#include "vectors.h"

static fixture server;

typedef struct {
    long status;
    ifx_buf body;
} reply;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    return ifx_buf_append(&r->body, p, size * n) ? 0 : size * n;
}

/* POSTs body to path (with its query string) on the test server. */
static void http_post(const char *path, const char *body, size_t len, reply *r)
{
    char url[4096];
    CURL *c = curl_easy_init();
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", server.port, path);
    ifx_buf_init(&r->body, 16 << 20);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK)
        fail_msg("POST %s: %s", path, curl_easy_strerror(cc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_cleanup(c);
}

/* Runs an InfluxQL statement and returns the parsed JSON answer (caller json_decref). */
static json_t *influxql(const char *db, const char *q)
{
    char path[512];
    reply r;
    CURL *c = curl_easy_init();
    char *eq = curl_easy_escape(c, q, 0);
    char *body = malloc(strlen(eq) + 3);
    sprintf(body, "q=%s", eq);
    snprintf(path, sizeof path, "/query?epoch=ns&db=%s", db);
    http_post(path, body, strlen(body), &r);
    curl_free(eq);
    curl_easy_cleanup(c);
    free(body);
    if (r.status != 200)
        fail_msg("query %s: HTTP %ld %s", q, r.status, r.body.data);
    json_error_t je;
    json_t *j = json_loadb(r.body.data, r.body.len, 0, &je);
    if (!j)
        fail_msg("query answer is not JSON: %s", je.text);
    ifx_buf_free(&r.body);
    return j;
}

static json_t *first_series(json_t *answer)
{
    json_t *res = json_array_get(json_object_get(answer, "results"), 0);
    if (json_object_get(res, "error"))
        fail_msg("statement error: %s", json_string_value(json_object_get(res, "error")));
    return json_array_get(json_object_get(res, "series"), 0);
}

static int column_of(json_t *series, const char *name)
{
    json_t *cols = json_object_get(series, "columns");
    for (size_t i = 0; i < json_array_size(cols); i++)
        if (strcmp(json_string_value(json_array_get(cols, i)), name) == 0)
            return (int)i;
    return -1;
}

static char *decoded(const ifx_json_val *s)
{
    ifx_buf b;
    ifx_buf_init(&b, 1 << 20);
    assert_int_equal(ifxi_json_string_decode(s, &b, NULL), IFX_OK);
    return ifx_buf_detach(&b);
}

/* The InfluxQL type name a field of the JSON point must have, and checks the stored value. */
static void check_field(const char *id, const char *key, const ifx_json_val *v, json_t *stored,
                        const char *stored_type)
{
    const char *want_type;
    ifx_json_val tv = *v, tk;
    if (v->type == IFX_JSON_OBJECT) { /* {"int": n} / {"float": n} */
        ifx_json_iter it;
        ifxi_json_iter_init(&it, v);
        assert_true(ifxi_json_object_next(&it, &tk, &tv));
        want_type = ifxi_json_string_eq(&tk, "int") ? "integer" : "float";
    } else if (v->type == IFX_JSON_STRING) {
        want_type = "string";
    } else if (v->type == IFX_JSON_TRUE || v->type == IFX_JSON_FALSE) {
        want_type = "boolean";
    } else {
        want_type = (v->flags & IFX_JSON_F_FRAC) ? "float" : "integer";
    }
    if (strcmp(want_type, stored_type) != 0)
        fail_msg("%s: field %s stored as %s, want %s", id, key, stored_type, want_type);
    if (strcmp(want_type, "string") == 0) {
        char *s = decoded(&tv);
        if (!json_is_string(stored) || strcmp(json_string_value(stored), s) != 0)
            fail_msg("%s: field %s stored as [%s], want [%s]", id, key, json_string_value(stored),
                     s);
        free(s);
    } else if (strcmp(want_type, "boolean") == 0) {
        assert_true(json_is_boolean(stored));
        assert_int_equal(json_is_true(stored), tv.type == IFX_JSON_TRUE);
    } else if (strcmp(want_type, "integer") == 0) {
        int64_t i;
        assert_int_equal(ifxi_json_get_i64(&tv, &i, NULL), IFX_OK);
        if (!json_is_integer(stored) || json_integer_value(stored) != i)
            fail_msg("%s: field %s stored as %lld, want %lld", id, key,
                     (long long)json_integer_value(stored), (long long)i);
    } else {
        double d;
        assert_int_equal(ifxi_json_get_double(&tv, &d, NULL), IFX_OK);
        if (json_number_value(stored) != d)
            fail_msg("%s: field %s stored as %.17g, want %.17g", id, key, json_number_value(stored),
                     d);
    }
}

static void verify_vector(const vector *x, const char *db)
{
    ifx_json_val point, meas, tags, fields, time, k, v;
    ifx_json_iter it;
    char q[256];

    assert_int_equal(ifxi_json_parse(x->point, x->point_len, &point, NULL), IFX_OK);
    assert_true(ifxi_json_object_get(&point, "measurement", &meas));

    json_t *ans = influxql(db, "SELECT * FROM /.*/");
    json_t *series = first_series(ans);
    if (!series)
        fail_msg("%s: nothing stored", x->id);
    char *name = decoded(&meas);
    if (strcmp(json_string_value(json_object_get(series, "name")), name) != 0)
        fail_msg("%s: measurement stored as [%s], want [%s]", x->id,
                 json_string_value(json_object_get(series, "name")), name);
    json_t *values = json_object_get(series, "values");
    assert_int_equal(json_array_size(values), 1);
    json_t *row = json_array_get(values, 0);

    /* field types, as the server knows them */
    json_t *fk = influxql(db, "SHOW FIELD KEYS");
    json_t *fkseries = first_series(fk);
    json_t *fkvalues = json_object_get(fkseries, "values");

    size_t nfields = 0;
    if (ifxi_json_object_get(&point, "fields", &fields)) {
        ifxi_json_iter_init(&it, &fields);
        while (ifxi_json_object_next(&it, &k, &v)) {
            if (v.type == IFX_JSON_NULL)
                continue;
            char *key = decoded(&k);
            const char *type = NULL;
            for (size_t i = 0; i < json_array_size(fkvalues); i++) {
                json_t *pair = json_array_get(fkvalues, i);
                if (strcmp(json_string_value(json_array_get(pair, 0)), key) == 0)
                    type = json_string_value(json_array_get(pair, 1));
            }
            if (!type)
                fail_msg("%s: field [%s] not stored", x->id, key);
            int col = column_of(series, key);
            assert_true(col >= 0);
            check_field(x->id, key, &v, json_array_get(row, (size_t)col), type);
            nfields++;
            free(key);
        }
    }
    assert_int_equal(json_array_size(fkvalues), nfields);

    size_t ntags = 0;
    if (ifxi_json_object_get(&point, "tags", &tags) && tags.type == IFX_JSON_OBJECT) {
        ifxi_json_iter_init(&it, &tags);
        while (ifxi_json_object_next(&it, &k, &v)) {
            if (v.type == IFX_JSON_NULL || (v.type == IFX_JSON_STRING && v.len == 2))
                continue; /* left out by the encoder */
            char *key = decoded(&k);
            char *want = v.type == IFX_JSON_STRING ? decoded(&v) : strndup(v.p, v.len);
            int col = column_of(series, key);
            if (col < 0)
                fail_msg("%s: tag [%s] not stored", x->id, key);
            const char *got = json_string_value(json_array_get(row, (size_t)col));
            if (!got || strcmp(got, want) != 0)
                fail_msg("%s: tag %s stored as [%s], want [%s]", x->id, key, got, want);
            ntags++;
            free(key);
            free(want);
        }
    }
    /* time + every field + every tag, nothing else */
    assert_int_equal(json_array_size(json_object_get(series, "columns")), 1 + nfields + ntags);

    if (ifxi_json_object_get(&point, "time", &time)) {
        int64_t t;
        assert_int_equal(ifxi_json_get_i64(&time, &t, NULL), IFX_OK);
        json_t *stored = json_array_get(row, 0);
        if (json_integer_value(stored) != t)
            fail_msg("%s: time stored as %lld, want %lld", x->id,
                     (long long)json_integer_value(stored), (long long)t);
    }
    snprintf(q, sizeof q, "DROP DATABASE %s", db);
    json_decref(influxql(db, q));
    json_decref(fk);
    json_decref(ans);
    free(name);
}

static void test_vectors_round_trip(void **state)
{
    size_t count, written = 0;
    vector *vs = vectors_load(IFX_SOURCE_DIR "/tests/vectors/points.jsonl", IFX_VERSION_V1, &count);
    ifx_lp lp;
    ifx_buf scratch;
    ifx_err e;
    (void)state;

    ifx_lp_init(&lp, IFX_VERSION_V1, IFX_PRECISION_NS, 1 << 20);
    ifx_buf_init(&scratch, 1 << 20);
    for (size_t i = 0; i < count; i++) {
        const vector *x = &vs[i];
        char db[64], path[160], q[128];
        reply r;
        if (!x->expect)
            continue;
        ifx_lp_reset(&lp);
        assert_int_equal(ifx_point_encode_json(&lp, x->point, x->point_len, &scratch, &e), IFX_OK);
        snprintf(db, sizeof db, "ifx_%s", x->id);
        snprintf(q, sizeof q, "CREATE DATABASE %s", db);
        json_decref(influxql(db, q));
        snprintf(path, sizeof path, "/write?db=%s&precision=%s", db,
                 ifx_precision_param(IFX_VERSION_V1, IFX_PRECISION_NS));
        http_post(path, lp.batch.data, lp.batch.len, &r);
        if (r.status != 204)
            fail_msg("%s: write of [%s] answered %ld: %s", x->id, lp.batch.data, r.status,
                     r.body.data);
        ifx_buf_free(&r.body);
        verify_vector(x, db);
        written++;
    }
    print_message("%zu vectors stored and read back from InfluxDB 1.x\n", written);
    assert_true(written >= 25);
    ifx_lp_free(&lp);
    ifx_buf_free(&scratch);
    vectors_free(vs, count);
}

/* ---- nasty points ------------------------------------------------------------------------- */

#define NASTY_DEFAULT_SEED  0x5EED1A57C0FFEE01ull
#define NASTY_DEFAULT_COUNT 100

/* The answer to one InfluxQL statement, read with ifx's JSON scanner so that numbers keep their
 * exact text (a float such as 1e20 is printed by 1.x as an integer too large for most JSON
 * libraries). */
typedef struct answer {
    char *text;
    size_t len;
    ifx_json_val series; /* results[0].series[0], or type IFX_JSON_NONE when there is none */
} answer;

static void answer_free(answer *a)
{
    free(a->text);
}

static void query_raw(const char *db, const char *q, answer *a)
{
    char path[512];
    reply r;
    ifx_json_val root, results, res, series, err;
    ifx_json_iter it;
    CURL *c = curl_easy_init();
    char *eq = curl_easy_escape(c, q, 0);
    char *body = malloc(strlen(eq) + 3);
    sprintf(body, "q=%s", eq);
    snprintf(path, sizeof path, "/query?epoch=ns&db=%s", db);
    http_post(path, body, strlen(body), &r);
    curl_free(eq);
    curl_easy_cleanup(c);
    free(body);
    if (r.status != 200)
        fail_msg("query %s: HTTP %ld %s", q, r.status, r.body.data);
    a->len = r.body.len;
    a->text = ifx_buf_detach(&r.body);
    a->series.type = IFX_JSON_NONE;
    assert_int_equal(ifxi_json_parse(a->text, a->len, &root, NULL), IFX_OK);
    assert_true(ifxi_json_object_get(&root, "results", &results));
    ifxi_json_iter_init(&it, &results);
    assert_true(ifxi_json_array_next(&it, &res));
    if (ifxi_json_object_get(&res, "error", &err))
        fail_msg("query %s: %.*s", q, (int)err.len, err.p);
    if (ifxi_json_object_get(&res, "series", &series)) {
        ifxi_json_iter_init(&it, &series);
        if (!ifxi_json_array_next(&it, &a->series))
            a->series.type = IFX_JSON_NONE;
    }
}

/* The values rows of a series, and its first row's cells, in order. */
static size_t series_rows(const answer *a, ifx_json_val *rows, size_t max)
{
    ifx_json_val values;
    ifx_json_iter it;
    size_t n = 0;
    if (a->series.type != IFX_JSON_OBJECT || !ifxi_json_object_get(&a->series, "values", &values))
        return 0;
    ifxi_json_iter_init(&it, &values);
    while (n < max && ifxi_json_array_next(&it, &rows[n]))
        n++;
    return n;
}

static size_t row_cells(const ifx_json_val *row, ifx_json_val *cells, size_t max)
{
    ifx_json_iter it;
    size_t n = 0;
    ifxi_json_iter_init(&it, row);
    while (n < max && ifxi_json_array_next(&it, &cells[n]))
        n++;
    return n;
}

static bool json_text_is(const ifx_json_val *v, const char *s, size_t len)
{
    ifx_buf b;
    bool same;
    if (v->type != IFX_JSON_STRING)
        return false;
    ifx_buf_init(&b, 1 << 20);
    assert_int_equal(ifxi_json_string_decode(v, &b, NULL), IFX_OK);
    same = b.len == len && (len == 0 || memcmp(b.data, s, len) == 0);
    ifx_buf_free(&b);
    return same;
}

static const nasty_point *current;

static void nasty_fail(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nv1 nasty: FAILED: %s\n", msg);
    nasty_point_print(stderr, current);
    fprintf(stderr, "reproduce: IFX_V1_SEED=0x%" PRIx64 " build/tests/test_v1_roundtrip\n",
            current->seed);
    fail_msg("%s (point %" PRIu64 ")", msg, current->index);
}

/* Reads the point back from db and compares it with p, element by element. */
static void verify_nasty(const nasty_point *p, const char *db)
{
    answer a;
    ifx_json_val rows[64], cells[64];
    size_t n, ntags = 0;

    /* measurement */
    query_raw(db, "SHOW MEASUREMENTS", &a);
    n = series_rows(&a, rows, 64);
    if (n != 1 || row_cells(&rows[0], cells, 64) != 1 ||
        !json_text_is(&cells[0], p->measurement.p, p->measurement.len))
        nasty_fail("measurement stored as %.*s", (int)a.len, a.text);
    answer_free(&a);

    /* tags: every key and value, nothing else */
    query_raw(db, "SHOW TAG VALUES WITH KEY =~ /.*/", &a);
    n = series_rows(&a, rows, 64);
    for (size_t i = 0; i < p->ntags; i++) {
        const nasty_tag *t = &p->tags[i];
        bool found = false;
        if (!t->value.len)
            continue;
        ntags++;
        for (size_t k = 0; k < n && !found; k++)
            found = row_cells(&rows[k], cells, 64) == 2 &&
                    json_text_is(&cells[0], t->key.p, t->key.len) &&
                    json_text_is(&cells[1], t->value.p, t->value.len);
        if (!found)
            nasty_fail("tag %zu not stored as sent; the server has %.*s", i, (int)a.len, a.text);
    }
    if (n != ntags)
        nasty_fail("%zu tags stored, %zu sent: %.*s", n, ntags, (int)a.len, a.text);
    answer_free(&a);

    /* field types */
    query_raw(db, "SHOW FIELD KEYS", &a);
    n = series_rows(&a, rows, 64);
    if (n != p->nfields)
        nasty_fail("%zu fields stored, %zu sent: %.*s", n, p->nfields, (int)a.len, a.text);
    for (size_t i = 0; i < p->nfields; i++) {
        const nasty_field *f = &p->fields[i];
        static const char *const types[] = {"float", "integer", "unsigned", "boolean", "string"};
        bool found = false;
        for (size_t k = 0; k < n && !found; k++)
            found = row_cells(&rows[k], cells, 64) == 2 &&
                    json_text_is(&cells[0], f->key.p, f->key.len) &&
                    json_text_is(&cells[1], types[f->type], strlen(types[f->type]));
        if (!found)
            nasty_fail("field %zu not stored with type %s: %.*s", i, types[f->type], (int)a.len,
                       a.text);
    }
    answer_free(&a);

    /* field values and the time */
    query_raw(db, "SELECT *::field FROM /.*/", &a);
    if (series_rows(&a, rows, 64) != 1)
        nasty_fail("not one row: %.*s", (int)a.len, a.text);
    {
        ifx_json_val cols, colv[64];
        ifx_json_iter it;
        size_t ncols = 0, ncells = row_cells(&rows[0], cells, 64);
        int64_t t;
        assert_true(ifxi_json_object_get(&a.series, "columns", &cols));
        ifxi_json_iter_init(&it, &cols);
        while (ncols < 64 && ifxi_json_array_next(&it, &colv[ncols]))
            ncols++;
        if (ncols != ncells || ncols != 1 + p->nfields)
            nasty_fail("%zu columns for %zu fields: %.*s", ncols, p->nfields, (int)a.len, a.text);
        assert_int_equal(ifxi_json_get_i64(&cells[0], &t, NULL), IFX_OK);
        if (p->has_time && t != p->time_ns)
            nasty_fail("time stored as %" PRId64, t);
        for (size_t i = 0; i < p->nfields; i++) {
            const nasty_field *f = &p->fields[i];
            const ifx_json_val *v = NULL;
            for (size_t k = 1; k < ncols && !v; k++)
                if (json_text_is(&colv[k], f->key.p, f->key.len))
                    v = &cells[k];
            if (!v)
                nasty_fail("field %zu has no column: %.*s", i, (int)a.len, a.text);
            bool same = false;
            switch (f->type) {
            case NASTY_FLOAT: {
                double d;
                same =
                    ifxi_json_get_double(v, &d, NULL) == IFX_OK && memcmp(&d, &f->f, sizeof d) == 0;
                break;
            }
            case NASTY_INT: {
                int64_t i64;
                same = ifxi_json_get_i64(v, &i64, NULL) == IFX_OK && i64 == f->i;
                break;
            }
            case NASTY_UINT: {
                uint64_t u64;
                same = ifxi_json_get_u64(v, &u64, NULL) == IFX_OK && u64 == f->u;
                break;
            }
            case NASTY_BOOL:
                same = v->type == (f->b ? IFX_JSON_TRUE : IFX_JSON_FALSE);
                break;
            case NASTY_STRING:
                same = json_text_is(v, f->s.p, f->s.len);
                break;
            }
            if (!same)
                nasty_fail("field %zu stored as %.*s", i, (int)(v->len < 200 ? v->len : 200), v->p);
        }
    }
    answer_free(&a);
}

static void test_nasty_points_round_trip(void **state)
{
    const char *s = getenv("IFX_V1_SEED"), *c = getenv("IFX_V1_COUNT");
    uint64_t seed = s && *s ? strtoull(s, NULL, 0) : NASTY_DEFAULT_SEED;
    size_t count = c && *c ? (size_t)strtoull(c, NULL, 0) : NASTY_DEFAULT_COUNT;
    size_t written = 0, refused = 0, seen[NASTY_P_COUNT] = {0};
    ifx_lp lp;
    ifx_err e;
    (void)state;

    print_message("v1 nasty: seed 0x%" PRIx64 ", %zu points to store (IFX_V1_SEED, IFX_V1_COUNT)\n",
                  seed, count);
    ifx_lp_init(&lp, IFX_VERSION_V1, IFX_PRECISION_NS, 16 << 20);
    for (size_t i = 0; written < count && i < 50 * count; i++) {
        nasty_point p;
        unsigned problems;
        char db[64], path[160], q[128];
        reply r;

        nasty_point_generate(&p, seed, i);
        current = &p;
        problems = nasty_problems(&p, IFX_VERSION_V1);
        ifx_lp_reset(&lp);
        if (nasty_point_encode(&p, &lp, &e) != IFX_OK) {
            if (!problems)
                nasty_fail("ifx refused a point 1.x stores: %s", e.msg);
            if (!nasty_message_names_problem(problems, e.msg))
                nasty_fail("the refusal names none of the point's problems: %s", e.msg);
            for (unsigned b = 0; b < NASTY_P_COUNT; b++)
                seen[b] += (problems >> b) & 1;
            refused++;
            nasty_point_free(&p);
            continue;
        }
        if (problems)
            nasty_fail("ifx accepted a point the spec says 1.x cannot store (%s): %s",
                       nasty_problem_name(problems & -problems), lp.batch.data);
        snprintf(db, sizeof db, "ifx_nasty_%zu", i);
        snprintf(q, sizeof q, "CREATE DATABASE %s", db);
        json_decref(influxql(db, q));
        snprintf(path, sizeof path, "/write?db=%s&precision=%s", db,
                 ifx_precision_param(IFX_VERSION_V1, IFX_PRECISION_NS));
        http_post(path, lp.batch.data, lp.batch.len, &r);
        if (r.status != 204)
            nasty_fail("the write answered %ld: %s", r.status, r.body.data);
        ifx_buf_free(&r.body);
        verify_nasty(&p, db);
        snprintf(q, sizeof q, "DROP DATABASE %s", db);
        json_decref(influxql(db, q));
        written++;
        nasty_point_free(&p);
    }
    print_message("v1 nasty: %zu points stored and read back exactly, %zu refused by ifx\n",
                  written, refused);
    for (unsigned b = 0; b < NASTY_P_COUNT; b++)
        if (seen[b])
            print_message("v1 nasty:   %-40s %6zu\n", nasty_problem_name(1u << b), seen[b]);
    assert_int_equal(written, count);
    ifx_lp_free(&lp);
}

/* The server itself confirms why ifx refuses: 1.x cannot store unsigned fields. */
static void test_server_refuses_unsigned(void **state)
{
    reply r;
    (void)state;
    json_decref(influxql("ifx_u", "CREATE DATABASE ifx_u"));
    http_post("/write?db=ifx_u", "m u=1u", 6, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body.data, "invalid number"));
    ifx_buf_free(&r.body);
}

static int setup(void **state)
{
    char *argv[] = {"python3", IFX_SOURCE_DIR "/tests/fixtures/influxdb1.py", "--influxd", INFLUXD,
                    NULL};
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return fixture_start(&server, argv, 90);
}

static int teardown(void **state)
{
    (void)state;
    fixture_stop(&server);
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_round_trip),
        cmocka_unit_test(test_server_refuses_unsigned),
        cmocka_unit_test(test_nasty_points_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
