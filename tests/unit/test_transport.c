/* The version transports without a server: URLs and parameters, authentication headers,
 * precision names, query request shapes, how each server's error bodies name rejected lines, the
 * classification of every status the spec lists (influxdb-http-api.md), and the write bodies'
 * gzip (ISA-L), read back by zlib. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gunzip.h"
#include "transport/transport.h"
#include "transport/write_gzip.h"

static ifx_client_settings settings(void)
{
    ifx_client_settings s;
    memset(&s, 0, sizeof s);
    s.base_url = "http://127.0.0.1:8086";
    s.org = "my org";
    s.bucket = "events/7d";
    s.db = "iggy";
    s.accept_partial = true;
    return s;
}

static void expect_target(const ifx_transport *t, const ifx_client_settings *s, ifx_precision p,
                          const char *want)
{
    ifx_buf b;
    ifx_buf_init(&b, 4096);
    assert_int_equal(t->write_target(s, p, &b), IFX_OK);
    assert_string_equal(b.data, want);
    ifx_buf_free(&b);
}

static void test_write_targets(void **state)
{
    ifx_client_settings s = settings();
    (void)state;
    expect_target(&ifxi_transport_v1, &s, IFX_PRECISION_NS, "/write?db=iggy&precision=n");
    expect_target(&ifxi_transport_v1, &s, IFX_PRECISION_US, "/write?db=iggy&precision=u");
    s.retention_policy = "one week";
    expect_target(&ifxi_transport_v1, &s, IFX_PRECISION_MS,
                  "/write?db=iggy&rp=one%20week&precision=ms");
    expect_target(&ifxi_transport_v2, &s, IFX_PRECISION_US,
                  "/api/v2/write?org=my%20org&bucket=events%2F7d&precision=us");
    expect_target(
        &ifxi_transport_v3, &s, IFX_PRECISION_NS,
        "/api/v3/write_lp?db=iggy&precision=nanosecond&accept_partial=true&no_sync=false");
    s.accept_partial = false;
    s.no_sync = true;
    expect_target(&ifxi_transport_v3, &s, IFX_PRECISION_S,
                  "/api/v3/write_lp?db=iggy&precision=second&accept_partial=false&no_sync=true");
    s.v2_compat_write = true;
    expect_target(&ifxi_transport_v3, &s, IFX_PRECISION_US,
                  "/api/v2/write?bucket=iggy&precision=us");
    assert_string_equal(ifxi_transport_v3.precision_param(IFX_PRECISION_MS), "millisecond");
    assert_string_equal(ifxi_transport_v1.precision_param(IFX_PRECISION_US), "u");
}

static void expect_auth(const ifx_transport *t, const ifx_client_settings *s, const char *want)
{
    ifx_buf b;
    ifx_buf_init(&b, 4096);
    assert_int_equal(t->auth_header(s, &b), IFX_OK);
    assert_string_equal(b.data ? b.data : "", want);
    ifx_buf_free(&b);
}

static void test_auth_headers(void **state)
{
    ifx_client_settings s = settings();
    (void)state;
    expect_auth(&ifxi_transport_v1, &s, "");
    expect_auth(&ifxi_transport_v2, &s, "");
    expect_auth(&ifxi_transport_v3, &s, "");
    s.token = "t0k";
    expect_auth(&ifxi_transport_v2, &s, "Authorization: Token t0k");
    expect_auth(&ifxi_transport_v3, &s, "Authorization: Bearer t0k");
    expect_auth(&ifxi_transport_v1, &s, "Authorization: Token t0k");
    s.username = "admin";
    s.password = "pa:ss";
    /* base64("admin:pa:ss") */
    expect_auth(&ifxi_transport_v1, &s, "Authorization: Basic YWRtaW46cGE6c3M=");
    s.password = NULL; /* the token is the password */
    expect_auth(&ifxi_transport_v1, &s, "Authorization: Basic YWRtaW46dDBr");
}

static void query(const ifx_transport *t, const ifx_client_settings *s, ifx_query_lang lang,
                  const char *q, ifx_result_format v3fmt, ifx_query_request *out)
{
    ifx_err e;
    ifx_buf_init(&out->path_and_query, 4096);
    ifx_buf_init(&out->body, 4096);
    out->content_type = out->accept = NULL;
    if (t->query_request(s, lang, q, strlen(q), v3fmt, out, &e))
        fail_msg("query_request: %s", e.msg);
}

static void test_query_requests(void **state)
{
    ifx_client_settings s = settings();
    ifx_query_request q;
    ifx_err e;
    (void)state;

    query(&ifxi_transport_v1, &s, IFX_QUERY_INFLUXQL, "SELECT * FROM \"cpu\" WHERE time > 'x'", 0,
          &q);
    assert_string_equal(q.path_and_query.data, "/query");
    assert_string_equal(q.body.data, "db=iggy&epoch=ns&q=SELECT%20%2A%20FROM%20%22cpu%22%20WHERE"
                                     "%20time%20%3E%20%27x%27");
    assert_string_equal(q.content_type, "application/x-www-form-urlencoded");
    assert_int_equal(q.format, IFX_RESULT_V1_JSON);
    ifx_buf_free(&q.path_and_query);
    ifx_buf_free(&q.body);

    query(&ifxi_transport_v2, &s, IFX_QUERY_FLUX, "from(bucket: \"b\")\n  |> range(start: 0)", 0,
          &q);
    assert_string_equal(q.path_and_query.data, "/api/v2/query?org=my%20org");
    assert_string_equal(q.body.data,
                        "{\"query\":\"from(bucket: \\\"b\\\")\\n  |> range(start: 0)\","
                        "\"type\":\"flux\",\"dialect\":{\"header\":true,\"delimiter\":\",\","
                        "\"annotations\":[\"datatype\",\"group\",\"default\"],"
                        "\"commentPrefix\":\"#\",\"dateTimeFormat\":\"RFC3339\"}}");
    assert_string_equal(q.content_type, "application/json");
    assert_string_equal(q.accept, "application/csv");
    assert_int_equal(q.format, IFX_RESULT_V2_CSV);
    ifx_buf_free(&q.path_and_query);
    ifx_buf_free(&q.body);

    query(&ifxi_transport_v3, &s, IFX_QUERY_SQL, "SELECT 1", 0, &q);
    assert_string_equal(q.path_and_query.data, "/api/v3/query_sql");
    assert_string_equal(q.body.data, "{\"db\":\"iggy\",\"q\":\"SELECT 1\",\"format\":\"jsonl\"}");
    assert_null(q.accept); /* v3 answers 400 to an Accept of application/jsonl */
    assert_int_equal(q.format, IFX_RESULT_V3_JSONL);
    ifx_buf_free(&q.path_and_query);
    ifx_buf_free(&q.body);

    query(&ifxi_transport_v3, &s, IFX_QUERY_INFLUXQL, "SELECT * FROM cpu", IFX_RESULT_V3_CSV, &q);
    assert_string_equal(q.path_and_query.data, "/api/v3/query_influxql");
    assert_string_equal(q.body.data,
                        "{\"db\":\"iggy\",\"q\":\"SELECT * FROM cpu\",\"format\":\"csv\"}");
    assert_int_equal(q.format, IFX_RESULT_V3_CSV);
    ifx_buf_free(&q.path_and_query);
    ifx_buf_free(&q.body);

    /* a language the server does not speak is refused before anything is sent */
    ifx_buf_init(&q.path_and_query, 4096);
    ifx_buf_init(&q.body, 4096);
    assert_int_equal(ifxi_transport_v2.query_request(&s, IFX_QUERY_SQL, "x", 1, 0, &q, &e),
                     IFX_E_USAGE);
    assert_string_equal(e.msg, "InfluxDB 2.x runs Flux queries only");
    ifx_buf_free(&q.path_and_query);
    ifx_buf_free(&q.body);
}

static ifx_rc read_error(const ifx_transport *t, const ifx_client_settings *s, int status,
                         const char *body, const char *lp, ifx_write_result *res)
{
    ifx_write_result_reset(res);
    return t->read_write_error(s, status, body, strlen(body), lp, strlen(lp), res);
}

static void test_rejected_lines(void **state)
{
    ifx_client_settings s = settings();
    ifx_write_result r;
    (void)state;
    ifx_write_result_init(&r);

    /* v3, accept_partial=true: the exchange asserted by the server test write_lp_tests */
    const char *lp3 = "cpu,host=b val=2 155\ncpu,host=a val= 123\ncpu,host=b val=5 199";
    assert_int_equal(
        read_error(&ifxi_transport_v3, &s, 400,
                   "{\"error\":\"partial write of line protocol occurred\",\"data\":[{\"error_"
                   "message\":\"No fields were provided\",\"line_number\":2,\"original_line\":"
                   "\"cpu,host=a val= 123\"}]}",
                   lp3, &r),
        IFX_E_PARTIAL);
    assert_int_equal(r.nlines, 1);
    assert_int_equal(r.lines[0].line, 2);
    assert_string_equal(r.lines[0].message, "No fields were provided");

    /* v3, accept_partial=false: data is an object and nothing was written */
    s.accept_partial = false;
    assert_int_equal(read_error(&ifxi_transport_v3, &s, 400,
                                "{\"error\":\"line protocol parsing error\",\"data\":{\"error_"
                                "message\":\"No fields were provided\",\"line_number\":1,"
                                "\"original_line\":\"cpu,host=a val= 123\"}}",
                                lp3, &r),
                     IFX_E_REJECTED);
    assert_int_equal(r.nlines, 1);
    assert_int_equal(r.lines[0].line, 1);
    s.accept_partial = true;

    /* v3 422 (a limit) keeps the shape */
    assert_int_equal(read_error(&ifxi_transport_v3, &s, 422,
                                "{\"error\":\"partial write of line protocol occurred\",\"data\":"
                                "[{\"error_message\":\"Update to schema would exceed number of "
                                "columns\",\"line_number\":3,\"original_line\":\"x\"}]}",
                                lp3, &r),
                     IFX_E_PARTIAL);
    assert_int_equal(r.lines[0].line, 3);

    /* v3 plain-text errors name nothing */
    assert_int_equal(read_error(&ifxi_transport_v3, &s, 400, "incoming write was empty", "", &r),
                     IFX_OK);
    assert_int_equal(r.nlines, 0);

    /* v1: a partial write with a parse error names the line; storage drops are counted */
    const char *lp1 = "m f=1i\nm f=\nm g=2i";
    assert_int_equal(read_error(&ifxi_transport_v1, &s, 400,
                                "{\"error\":\"partial write: unable to parse 'm f=': missing "
                                "field value dropped=0\"}",
                                lp1, &r),
                     IFX_E_PARTIAL);
    assert_int_equal(r.nlines, 1);
    assert_int_equal(r.lines[0].line, 2);
    assert_string_equal(r.lines[0].message, "missing field value");
    assert_int_equal(r.unnamed_rejects, 0);
    assert_int_equal(
        read_error(&ifxi_transport_v1, &s, 400,
                   "{\"error\":\"partial write: field type conflict: input field \\\"f\\\" on "
                   "measurement \\\"m\\\" is type integer, already exists as type float "
                   "dropped=2\"}",
                   lp1, &r),
        IFX_E_PARTIAL);
    assert_int_equal(r.nlines, 0);
    assert_int_equal(r.unnamed_rejects, 2);
    /* v1: every line unparsable, nothing written */
    assert_int_equal(read_error(&ifxi_transport_v1, &s, 400,
                                "{\"error\":\"unable to parse 'm f=1i': bad\\nunable to parse "
                                "'m g=2i': worse\"}",
                                lp1, &r),
                     IFX_E_REJECTED);
    assert_int_equal(r.nlines, 2);
    assert_int_equal(r.lines[0].line, 1);
    assert_string_equal(r.lines[0].message, "bad");
    assert_int_equal(r.lines[1].line, 3);
    assert_string_equal(r.lines[1].message, "worse");
    /* v1: database not found names nothing */
    assert_int_equal(read_error(&ifxi_transport_v1, &s, 404,
                                "{\"error\":\"database not found: \\\"x\\\"\"}", lp1, &r),
                     IFX_OK);

    /* v2: storage partial write is 422 with a count only */
    assert_int_equal(read_error(&ifxi_transport_v2, &s, 422,
                                "{\"code\":\"unprocessable entity\",\"message\":\"failure writing "
                                "points to database: partial write: field type conflict dropped=1"
                                "\"}",
                                lp1, &r),
                     IFX_E_PARTIAL);
    assert_int_equal(r.unnamed_rejects, 1);
    /* v2: parsing is all or nothing */
    assert_int_equal(read_error(&ifxi_transport_v2, &s, 400,
                                "{\"code\":\"invalid\",\"message\":\"unable to parse 'm f=': "
                                "missing field value\"}",
                                lp1, &r),
                     IFX_E_REJECTED);
    assert_int_equal(r.lines[0].line, 2);
    ifx_write_result_free(&r);
}

/* A v3 answer cut at the kept size (ifx_write_result.truncated): at every cut position, exactly
 * the complete entries are named, in order, and nothing is read past the cut (each cut is its
 * own allocation, so a sanitizer build sees an over-read). Strings hold the characters that
 * steer the walk: quotes, backslashes, braces and brackets. */
static void test_cut_v3_answer(void **state)
{
    ifx_client_settings s = settings();
    ifx_write_result r;
    ifx_buf body;
    size_t entry_end[6], data_at = 0;
    (void)state;
    ifx_write_result_init(&r);
    ifx_buf_init(&body, 1 << 16);
    ifx_buf_puts(&body, "{\"error\" : \"partial write of line protocol occurred\", \"data\":[");
    data_at = body.len;
    for (int i = 0; i < 6; i++) {
        ifx_buf_printf(&body,
                       "%s{\"error_message\":\"bad \\\"}]\\\\ %d\",\"line_number\":%d,"
                       "\"original_line\":\"m,t=[{ f=\\\"x\"}",
                       i ? ", " : "", i, 10 * i + 1);
        entry_end[i] = body.len;
    }
    ifx_buf_puts(&body, "]}");
    for (size_t cut = 0; cut < body.len; cut++) {
        char *copy = malloc(cut ? cut : 1);
        memcpy(copy, body.data, cut);
        ifx_write_result_reset(&r);
        r.truncated = true;
        ifx_rc rc = ifxi_transport_v3.read_write_error(&s, 400, copy, cut, "", 0, &r);
        size_t complete = 0;
        while (complete < 6 && entry_end[complete] <= cut)
            complete++;
        assert_int_equal(rc, cut >= data_at ? IFX_E_PARTIAL : IFX_OK);
        assert_int_equal(r.nlines, complete);
        for (size_t i = 0; i < complete; i++) {
            char want[32];
            snprintf(want, sizeof want, "bad \"}]\\ %zu", i);
            assert_int_equal(r.lines[i].line, 10 * i + 1);
            assert_string_equal(r.lines[i].message, want);
        }
        free(copy);
    }
    /* accept_partial=false: one object, named once whole */
    s.accept_partial = false;
    const char *one = "{\"error\":\"line protocol parsing error\",\"data\":{\"error_message\":"
                      "\"x\",\"line_number\":4,\"original_line\":\"y\"}}";
    for (size_t cut = 0; cut < strlen(one); cut++) {
        char *copy = malloc(cut ? cut : 1);
        memcpy(copy, one, cut);
        ifx_write_result_reset(&r);
        r.truncated = true;
        ifx_rc rc = ifxi_transport_v3.read_write_error(&s, 400, copy, cut, "", 0, &r);
        assert_int_equal(rc, cut >= 47 ? IFX_E_REJECTED : IFX_OK);
        assert_int_equal(r.nlines, cut == strlen(one) - 1 ? 1 : 0);
        free(copy);
    }
    ifx_buf_free(&body);
    ifx_write_result_free(&r);
}

static void test_status_classes(void **state)
{
    static const struct {
        long status;
        ifx_rc rc;
    } cases[] = {
        {200, IFX_OK},          {204, IFX_OK},          {400, IFX_E_REJECTED},
        {401, IFX_E_AUTH},      {403, IFX_E_AUTH},      {404, IFX_E_REJECTED},
        {405, IFX_E_REJECTED},  {408, IFX_E_TRANSIENT}, {413, IFX_E_TOO_LARGE},
        {415, IFX_E_REJECTED},  {422, IFX_E_REJECTED},  {429, IFX_E_TRANSIENT},
        {499, IFX_E_REJECTED},  {500, IFX_E_TRANSIENT}, {501, IFX_E_TRANSIENT},
        {502, IFX_E_TRANSIENT}, {503, IFX_E_TRANSIENT}, {504, IFX_E_TRANSIENT},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (ifxi_http_classify_status(cases[i].status) != cases[i].rc)
            fail_msg("status %ld: got %s", cases[i].status,
                     ifx_rc_name(ifxi_http_classify_status(cases[i].status)));
}

static void test_helpers(void **state)
{
    ifx_buf b;
    (void)state;
    ifx_buf_init(&b, 4096);
    assert_int_equal(ifxi_http_url_append_escaped(&b, "a b/c?d=é~", strlen("a b/c?d=é~")), IFX_OK);
    assert_string_equal(b.data, "a%20b%2Fc%3Fd%3D%C3%A9~");
    ifx_buf_reset(&b);
    ifx_buf_puts(&b, "/x");
    ifxi_http_url_add_param(&b, "a", "1");
    ifxi_http_url_add_param(&b, "b", "&");
    assert_string_equal(b.data, "/x?a=1&b=%26");
    ifx_buf_free(&b);
    assert_int_equal(ifxi_http_find_line("a\nbb\nc", 6, "bb", 2), 2);
    assert_int_equal(ifxi_http_find_line("a\nbb\nc", 6, "c", 1), 3);
    assert_int_equal(ifxi_http_find_line("a\nbb\nc", 6, "b", 1), 0);
}

/* ifxi_gzip_compress gives a gzip member that inflates to the input, for empty, tiny, line
 * protocol, incompressible (random bytes, which deflate stores) and multi-block inputs, with one
 * compressor reused across them as the sink reuses it; line protocol shrinks. */
static void test_gzip_round_trip(void **state)
{
    (void)state;
    enum { BIG = 3 << 20 };
    char *in = malloc(BIG), *back = malloc(BIG + 1);
    assert_non_null(in);
    assert_non_null(back);
    size_t lp = 0;
    for (int i = 0; lp < BIG - 200; i++)
        lp += (size_t)snprintf(in + lp, BIG - lp, "m,host=h%d,region=eu v=%d.5,s=\"x%d\" %lld\n",
                               i % 17, i, i * 7, 1764118800000000000LL + i);
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    char *rnd = malloc(BIG);
    assert_non_null(rnd);
    for (size_t i = 0; i < BIG; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        rnd[i] = (char)x;
    }
    const struct {
        const char *p;
        size_t n;
    } cases[] = {
        {"", 0},    {"a", 1},    {in, 100}, {in, 70000}, {in, lp}, {rnd, 1}, {rnd, 65535 * 2 + 7},
        {rnd, BIG}, {in, 200000}};
    ifxi_gzip g;
    ifxi_gzip_init(&g);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(ifxi_gzip_compress(&g, cases[i].p, cases[i].n), IFX_OK);
        size_t n = 0;
        bool whole = test_gunzip(g.out.data, g.out.len, back, BIG + 1, &n);
        if (!whole || n != cases[i].n || memcmp(back, cases[i].p, cases[i].n) != 0)
            fail_msg("case %zu (%zu bytes): %s, %zu bytes", i, cases[i].n,
                     whole ? "inflated to other bytes" : "not one whole gzip member", n);
        if (cases[i].p == in && cases[i].n > 1000)
            assert_true(g.out.len < cases[i].n / 4);
    }
    ifxi_gzip_free(&g);
    free(in);
    free(back);
    free(rnd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_targets),  cmocka_unit_test(test_auth_headers),
        cmocka_unit_test(test_query_requests), cmocka_unit_test(test_rejected_lines),
        cmocka_unit_test(test_status_classes), cmocka_unit_test(test_helpers),
        cmocka_unit_test(test_cut_v3_answer),  cmocka_unit_test(test_gzip_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
