/* Round trip through a real InfluxDB 1.x: every vector that v1 accepts is encoded by ifx,
 * written with /write?precision=n into a database of its own, read back with InfluxQL, and
 * compared value by value and type by type with the original JSON point. */
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

#include "fixture.h"
#include "ifx/codec.h"
#include "ifx/point.h"
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
    assert_int_equal(ifx_json_string_decode(s, &b, NULL), IFX_OK);
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
        ifx_json_iter_init(&it, v);
        assert_true(ifx_json_object_next(&it, &tk, &tv));
        want_type = ifx_json_string_eq(&tk, "int") ? "integer" : "float";
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
        assert_int_equal(ifx_json_get_i64(&tv, &i, NULL), IFX_OK);
        if (!json_is_integer(stored) || json_integer_value(stored) != i)
            fail_msg("%s: field %s stored as %lld, want %lld", id, key,
                     (long long)json_integer_value(stored), (long long)i);
    } else {
        double d;
        assert_int_equal(ifx_json_get_double(&tv, &d, NULL), IFX_OK);
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

    assert_int_equal(ifx_json_parse(x->point, x->point_len, &point, NULL), IFX_OK);
    assert_true(ifx_json_object_get(&point, "measurement", &meas));

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
    if (ifx_json_object_get(&point, "fields", &fields)) {
        ifx_json_iter_init(&it, &fields);
        while (ifx_json_object_next(&it, &k, &v)) {
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
    if (ifx_json_object_get(&point, "tags", &tags) && tags.type == IFX_JSON_OBJECT) {
        ifx_json_iter_init(&it, &tags);
        while (ifx_json_object_next(&it, &k, &v)) {
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

    if (ifx_json_object_get(&point, "time", &time)) {
        int64_t t;
        assert_int_equal(ifx_json_get_i64(&time, &t, NULL), IFX_OK);
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
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
