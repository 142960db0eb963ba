/* The HTTP engine, the v2 and v3 transports and the writer against the project's test server
 * (tests/fixtures/influxdb_server.py, which answers as the spec says real v2 and v3 servers do):
 * detection, auth, writes checked field by field, partial writes in both v3 modes and as v2 422s,
 * the v2-compatible endpoint, gzip, retries with Retry-After (seconds and HTTP date, capped), the
 * circuit breaker opening and recovering, 413 splitting, and queries in SQL, InfluxQL and Flux.
 * Issue 10: answers over 64 KiB, refusals of the request that name no line, and line numbers
 * that do not fit the batch. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "fixture.h"
#include "write_run.h"
#include "connector/engine.h"
#include "ifx/client.h"
#include "ifx/config.h"
#include "ifx/rows.h"
#include "connector/writer.h"
#include "transport/write_gzip.h"

#define TOKEN "ifx-test-token"

static fixture v3, v2;

static ifx_client *client(ifx_config *cfg, int version, const char *extra)
{
    char json[1024];
    ifx_client *c;
    ifx_err e;
    if (version == 3)
        snprintf(json, sizeof json,
                 "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"iggy\","
                 "\"token\":\"" TOKEN "\",\"retry_delay\":\"10ms\",\"retry_max_delay\":"
                 "\"50ms\"%s%s}",
                 v3.port, extra ? "," : "", extra ? extra : "");
    else
        snprintf(json, sizeof json,
                 "{\"url\":\"http://127.0.0.1:%d\",\"org\":\"iggy\",\"bucket\":\"events\","
                 "\"token\":\"" TOKEN "\",\"retry_delay\":\"10ms\",\"retry_max_delay\":"
                 "\"50ms\"%s%s}",
                 v2.port, extra ? "," : "", extra ? extra : "");
    if (ifx_config_parse_json(cfg, IFX_ROLE_SINK, json, strlen(json), NULL, &e))
        fail_msg("config: %s", e.msg);
    if (ifx_client_new(cfg->version, &cfg->http, &c, &e))
        fail_msg("client: %s", e.msg);
    return c;
}

static ifx_rc write_text(ifx_client *c, const ifx_config *cfg, ifx_breaker *b, const char *text,
                         ifx_write_report *rep, rejects *rj, uint64_t *requests, ifx_err *e)
{
    ifx_writer stats;
    ifx_rc rc = write_run(c, cfg, b, IFX_PRECISION_NS, text, rep, rj, &stats, e);
    if (requests)
        *requests = stats.requests;
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void reset(fixture *f)
{
    json_decref(admin_call(f->port, "POST", "/__admin/reset", NULL));
}

static void fault(fixture *f, const char *json)
{
    json_decref(admin_call(f->port, "POST", "/__admin/fault", json));
}

/* The stored field of the only point at time t of measurement m, as {"type","value"}. */
static json_t *stored_field(json_t *points, const char *m, long long t, const char *field)
{
    size_t i;
    json_t *p;
    json_array_foreach(points, i, p)
    {
        if (strcmp(json_string_value(json_object_get(p, "measurement")), m) == 0 &&
            json_integer_value(json_object_get(p, "time")) == t)
            return json_object_get(json_object_get(p, "fields"), field);
    }
    return NULL;
}

static void expect_field(json_t *points, const char *m, long long t, const char *field,
                         const char *type, const char *value_json)
{
    json_t *f = stored_field(points, m, t, field);
    if (!f)
        fail_msg("%s %lld: no field %s", m, t, field);
    assert_string_equal(json_string_value(json_object_get(f, "type")), type);
    char *v = json_dumps(json_object_get(f, "value"), JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    if (strcmp(v, value_json) != 0)
        fail_msg("%s %lld %s: stored %s, want %s", m, t, field, v, value_json);
    free(v);
}

static json_t *last_requests(fixture *f)
{
    return admin_call(f->port, "GET", "/__admin/requests", NULL);
}

/* ---- v3 --------------------------------------------------------------------------------- */

static void test_v3_detect_and_health(void **state)
{
    ifx_detect_result d;
    ifx_config cfg;
    ifx_client *c;
    ifx_err e;
    char url[64];
    (void)state;
    snprintf(url, sizeof url, "http://127.0.0.1:%d", v3.port);
    assert_int_equal(
        ifx_detect(
            &(ifx_transport_options){.url = url, .token = TOKEN, .timeout_ns = 5000000000ULL}, &d,
            &e),
        IFX_OK);
    assert_int_equal(d.version, IFX_VERSION_V3);
    assert_string_equal(d.product, "InfluxDB 3 Core");
    assert_string_equal(d.build, "Core");
    assert_true(d.ping_needs_auth); /* asked first without the token */
    assert_true(d.token_checked);
    assert_true(d.token_accepted);
    assert_string_equal(d.token_endpoint, "GET /health");
    assert_int_equal(
        ifx_detect(
            &(ifx_transport_options){.url = url, .token = "wr0ng", .timeout_ns = 5000000000ULL}, &d,
            &e),
        IFX_OK);
    assert_int_equal(d.version, IFX_VERSION_V3);
    assert_string_equal(d.product, "InfluxDB 3 (authentication required)");
    assert_true(d.token_checked);
    assert_false(d.token_accepted);
    /* without the token a secured v3 answers /ping with 401: still recognisable */
    assert_int_equal(
        ifx_detect(&(ifx_transport_options){.url = url, .timeout_ns = 5000000000ULL}, &d, &e),
        IFX_OK);
    assert_int_equal(d.version, IFX_VERSION_V3);
    assert_true(d.ping_needs_auth);
    assert_false(d.token_checked);

    c = client(&cfg, 3, NULL);
    assert_int_equal(ifx_client_health(c, &e), IFX_OK);
    ifx_client_free(c);
    ifx_config_free(&cfg);
    /* a wrong token: /health is authenticated on v3 */
    char json[256];
    snprintf(json, sizeof json,
             "{\"version\":\"v3\",\"url\":\"%s\",\"db\":\"iggy\",\"token\":\"wr0ng-s3cret\"}", url);
    assert_int_equal(ifx_config_parse_json(&cfg, IFX_ROLE_SINK, json, strlen(json), NULL, &e),
                     IFX_OK);
    assert_int_equal(ifx_client_new(cfg.version, &cfg.http, &c, &e), IFX_OK);
    assert_int_equal(ifx_client_health(c, &e), IFX_E_AUTH);
    assert_int_equal(e.http_status, 401);
    assert_string_equal(e.msg, "HTTP 401 from /health: the request was not authenticated");
    ifx_write_result res;
    ifx_write_result_init(&res);
    assert_int_equal(ifx_client_write(c, "m f=1i", 6, IFX_PRECISION_NS, &res, &e), IFX_E_AUTH);
    assert_null(strstr(e.msg, "wr0ng"));
    ifx_write_result_free(&res);
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

static void test_v3_write_field_by_field(void **state)
{
    ifx_config cfg;
    ifx_client *c = client(&cfg, 3, "\"gzip_threshold\":100");
    ifx_write_report rep;
    rejects rj;
    ifx_err e;
    (void)state;
    reset(&v3);
    assert_int_equal(write_text(c, &cfg, NULL,
                                "cpu,host=a usage=64.2,n=-3i,u=42u,ok=true,s=\"x \\\"y\\\"\nz\" 5\n"
                                "cpu,host=b usage=1,n=1i,u=1u,ok=false,s=\"\" 6\n",
                                &rep, &rj, NULL, &e),
                     IFX_OK);
    assert_int_equal(rep.written, 2);
    json_t *pts = admin_call(v3.port, "GET", "/__admin/points?db=iggy", NULL);
    expect_field(pts, "cpu", 5, "usage", "float", "64.2");
    expect_field(pts, "cpu", 5, "n", "integer", "-3");
    expect_field(pts, "cpu", 5, "u", "unsigned", "42");
    expect_field(pts, "cpu", 5, "ok", "boolean", "true");
    expect_field(pts, "cpu", 5, "s", "string", "\"x \\\"y\\\"\\nz\"");
    expect_field(pts, "cpu", 6, "s", "string", "\"\"");
    json_decref(pts);
    /* the request: native endpoint, long precision name, Bearer, gzip above the threshold */
    json_t *reqs = last_requests(&v3), *last = json_array_get(reqs, json_array_size(reqs) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "path")), "/api/v3/write_lp");
    assert_string_equal(json_string_value(json_object_get(last, "query")),
                        "db=iggy&precision=nanosecond&accept_partial=true&no_sync=false");
    assert_string_equal(json_string_value(json_object_get(last, "content_encoding")), "gzip");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(last, "headers"), "authorization")),
        "Bearer ***");
    json_decref(reqs);
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

/* A body gzipped ahead (transport/write_gzip.h, the sink's consuming thread) is what goes out:
 * given the gzip of other lines than lp, the server stores those; a client that would not gzip
 * lp's length sends lp as it is. */
static void test_v3_write_gzipped_ahead(void **state)
{
    static const char lp[] = "ahead v=1i 1", other[] = "ahead v=2i 2\nahead v=3i 3";
    ifx_config cfg, cfg_plain;
    ifx_client *c = client(&cfg, 3, "\"gzip_threshold\":1"),
               *plain = client(&cfg_plain, 3, "\"gzip\":false");
    ifx_write_result res;
    ifxi_gzip g;
    ifx_err e;
    (void)state;
    reset(&v3);
    ifxi_gzip_init(&g);
    assert_int_equal(ifxi_gzip_compress(&g, other, strlen(other)), IFX_OK);
    assert_true(ifxi_client_gzips_write(c, strlen(lp)));
    assert_false(ifxi_client_gzips_write(plain, strlen(lp)));
    ifx_write_result_init(&res);
    assert_int_equal(
        ifxi_client_write_gzipped(c, lp, strlen(lp), &g.out, IFX_PRECISION_NS, &res, &e), IFX_OK);
    json_t *pts = admin_call(v3.port, "GET", "/__admin/points?db=iggy", NULL);
    assert_int_equal(json_array_size(pts), 2);
    expect_field(pts, "ahead", 2, "v", "integer", "2");
    expect_field(pts, "ahead", 3, "v", "integer", "3");
    json_decref(pts);
    json_t *reqs = last_requests(&v3), *last = json_array_get(reqs, json_array_size(reqs) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "content_encoding")), "gzip");
    json_decref(reqs);
    /* not gzipping: lp goes, the gzip body is not used */
    reset(&v3);
    assert_int_equal(
        ifxi_client_write_gzipped(plain, lp, strlen(lp), &g.out, IFX_PRECISION_NS, &res, &e),
        IFX_OK);
    pts = admin_call(v3.port, "GET", "/__admin/points?db=iggy", NULL);
    assert_int_equal(json_array_size(pts), 1);
    expect_field(pts, "ahead", 1, "v", "integer", "1");
    json_decref(pts);
    ifx_write_result_free(&res);
    ifxi_gzip_free(&g);
    ifx_client_free(c);
    ifx_client_free(plain);
    ifx_config_free(&cfg);
    ifx_config_free(&cfg_plain);
}

static void test_v3_partial_writes(void **state)
{
    ifx_config cfg;
    ifx_client *c = client(&cfg, 3, NULL);
    ifx_write_report rep;
    rejects rj;
    uint64_t requests;
    ifx_err e;
    (void)state;
    reset(&v3);
    assert_int_equal(write_text(c, &cfg, NULL, "m f=1i 1\n", &rep, &rj, NULL, &e), IFX_OK);
    /* accept_partial=true: one request, the good lines stored, the bad one named */
    assert_int_equal(
        write_text(c, &cfg, NULL, "m f=2i 2\nm f=2.5 3\nm f=4i 4\n", &rep, &rj, &requests, &e),
        IFX_OK);
    assert_int_equal(requests, 1);
    assert_int_equal(rep.written, 2);
    assert_int_equal(rep.rejected, 1);
    assert_int_equal(rj.index[0], 1);
    assert_string_equal(rj.reason[0],
                        "invalid column type for column 'f', expected iox::column_type::field::"
                        "integer, got iox::column_type::field::float");
    ifx_client_free(c);
    ifx_config_free(&cfg);

    /* accept_partial=false: nothing stored, the first bad line named; the rest is sent again */
    c = client(&cfg, 3, "\"accept_partial\":false");
    assert_int_equal(write_text(c, &cfg, NULL, "m f=5i 5\nm f=5.5 6\nm f=7i 7\nm f=\"x\" 8\n", &rep,
                                &rj, &requests, &e),
                     IFX_OK);
    assert_int_equal(rep.written, 2);
    assert_int_equal(rep.rejected, 2);
    assert_int_equal(rj.index[0], 1);
    assert_int_equal(rj.index[1], 3);
    assert_int_equal(requests, 3);
    json_t *pts = admin_call(v3.port, "GET", "/__admin/points?db=iggy", NULL);
    assert_int_equal(json_array_size(pts), 5); /* times 1, 2, 4, 5, 7 */
    expect_field(pts, "m", 7, "f", "integer", "7");
    assert_null(stored_field(pts, "m", 6, "f"));
    json_decref(pts);
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

static void test_v3_v2_compat_endpoint(void **state)
{
    ifx_config cfg;
    ifx_client *c = client(&cfg, 3, "\"write_endpoint\":\"v2_compat\"");
    ifx_write_report rep;
    rejects rj;
    ifx_err e;
    (void)state;
    reset(&v3);
    assert_int_equal(write_text(c, &cfg, NULL, "m f=1i 1\nm f=2i 2\n", &rep, &rj, NULL, &e),
                     IFX_OK);
    assert_int_equal(rep.written, 2);
    json_t *reqs = last_requests(&v3), *last = json_array_get(reqs, json_array_size(reqs) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "path")), "/api/v2/write");
    assert_string_equal(json_string_value(json_object_get(last, "query")),
                        "bucket=iggy&precision=ns");
    json_decref(reqs);
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

/* One write answered 429 with the Retry-After value given: the client's reading of it. */
static uint64_t retry_after_of(ifx_client *c, const char *value)
{
    ifx_write_result res;
    ifx_err e;
    char json[256];
    uint64_t ms;
    snprintf(json, sizeof json, "{\"count\":1,\"status\":429,\"retry_after\":\"%s\"}", value);
    fault(&v3, json);
    ifx_write_result_init(&res);
    assert_int_equal(ifx_client_write(c, "m f=1i 1", 8, IFX_PRECISION_NS, &res, &e),
                     IFX_E_TRANSIENT);
    assert_int_equal(res.status, 429);
    ms = res.retry_after_ms;
    ifx_write_result_free(&res);
    return ms;
}

/* Retry-After as the client reads it (libcurl's CURLINFO_RETRY_AFTER): seconds; an HTTP date in
 * each of its three forms, as the time until then; "now" (0, or a date gone by) as 1 ms so that
 * the retry does not wait the backoff; an unreadable or missing value as 0 (the backoff). */
static void test_v3_retry_after_forms(void **state)
{
    ifx_config cfg;
    ifx_client *c = client(&cfg, 3, NULL);
    char date[64];
    uint64_t ms;
    struct tm g;
    time_t when = time(NULL) + 30;
    (void)state;
    reset(&v3);
    gmtime_r(&when, &g);
    assert_int_equal(retry_after_of(c, "120"), 120000);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &g); /* IMF-fixdate */
    ms = retry_after_of(c, date);
    assert_true(ms >= 28000 && ms <= 30000);
    /* RFC 850, with its two-digit year */
    size_t n = strftime(date, sizeof date, "%A, %d-%b-", &g);
    snprintf(date + n, sizeof date - n, "%02d %02d:%02d:%02d GMT", g.tm_year % 100, g.tm_hour,
             g.tm_min, g.tm_sec);
    ms = retry_after_of(c, date);
    assert_true(ms >= 28000 && ms <= 30000);
    strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &g); /* asctime */
    ms = retry_after_of(c, date);
    assert_true(ms >= 28000 && ms <= 30000);
    assert_int_equal(retry_after_of(c, "0"), 1);
    assert_int_equal(retry_after_of(c, "Sun, 06 Nov 1994 08:49:37 GMT"), 1);
    assert_int_equal(retry_after_of(c, "soon"), 0);
    assert_int_equal(retry_after_of(c, "Sun, 06 Xyz 1994 08:49:37 GMT"), 0);
    fault(&v3, "{\"count\":1,\"status\":503}");
    {
        ifx_write_result res;
        ifx_err e;
        ifx_write_result_init(&res);
        assert_int_equal(ifx_client_write(c, "m f=1i 1", 8, IFX_PRECISION_NS, &res, &e),
                         IFX_E_TRANSIENT);
        assert_int_equal(res.retry_after_ms, 0);
        ifx_write_result_free(&res);
    }
    /* a large value is kept whole here; the retry policy caps it (retry_after_max) */
    assert_int_equal(retry_after_of(c, "86400"), 86400000);
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

static void test_v3_retries_and_retry_after(void **state)
{
    ifx_config cfg;
    ifx_client *c = client(&cfg, 3, "\"max_retries\":3,\"retry_after_max\":\"1s\"");
    ifx_write_report rep;
    rejects rj;
    uint64_t requests;
    ifx_err e;
    double t0;
    char json[256];
    (void)state;
    reset(&v3);
    /* two 503s asking for 1 s each: the third attempt succeeds after about 2 s */
    fault(&v3,
          "{\"count\":2,\"status\":503,\"retry_after\":\"1\",\"paths\":[\"/api/v3/write_lp\"]}");
    t0 = now_s();
    assert_int_equal(write_text(c, &cfg, NULL, "m f=1i 1\n", &rep, &rj, &requests, &e), IFX_OK);
    assert_true(now_s() - t0 >= 1.9);
    assert_int_equal(requests, 3);
    assert_int_equal(rep.written, 1);
    /* an HTTP date one to two seconds ahead */
    time_t when = time(NULL) + 2;
    struct tm g;
    gmtime_r(&when, &g);
    char date[64];
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &g);
    snprintf(json, sizeof json, "{\"count\":1,\"status\":429,\"retry_after\":\"%s\"}", date);
    fault(&v3, json);
    t0 = now_s();
    assert_int_equal(write_text(c, &cfg, NULL, "m f=2i 2\n", &rep, &rj, &requests, &e), IFX_OK);
    assert_true(now_s() - t0 >= 0.9);
    assert_true(now_s() - t0 < 3.5);
    /* an hour asked for, one second obeyed (retry_after_max) */
    fault(&v3, "{\"count\":1,\"status\":429,\"retry_after\":\"3600\"}");
    t0 = now_s();
    assert_int_equal(write_text(c, &cfg, NULL, "m f=3i 3\n", &rep, &rj, &requests, &e), IFX_OK);
    assert_true(now_s() - t0 < 2.5);
    /* attempts used up: the lines stay pending, nothing rejected */
    fault(&v3, "{\"count\":3,\"status\":500,\"body\":\"boom\"}");
    assert_int_equal(write_text(c, &cfg, NULL, "m f=4i 4\n", &rep, &rj, &requests, &e),
                     IFX_E_TRANSIENT);
    assert_int_equal(rep.written + rep.rejected, 0);
    assert_string_equal(e.msg, "HTTP 500 from /api/v3/write_lp: boom");
    /* a connection closed without an answer: sent again (by libcurl itself when the connection
     * was a reused one, else by the retry), and stored once */
    fault(&v3, "{\"count\":1,\"close\":true}");
    assert_int_equal(write_text(c, &cfg, NULL, "m f=5i 5\n", &rep, &rj, &requests, &e), IFX_OK);
    assert_int_equal(rep.written, 1);
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

static void test_v3_breaker(void **state)
{
    ifx_config cfg;
    ifx_client *c = client(&cfg, 3, "\"max_retries\":1");
    ifx_breaker b;
    ifx_write_report rep;
    rejects rj;
    uint64_t requests;
    ifx_err e;
    struct timespec pause = {0, 350 * 1000000L};
    (void)state;
    reset(&v3);
    ifx_breaker_init(&b, 2, 300 * 1000000ULL);
    fault(&v3, "{\"count\":4,\"status\":500}");
    assert_int_equal(write_text(c, &cfg, &b, "m f=1i 1\n", &rep, &rj, NULL, &e), IFX_E_TRANSIENT);
    assert_int_equal(write_text(c, &cfg, &b, "m f=1i 1\n", &rep, &rj, NULL, &e), IFX_E_TRANSIENT);
    assert_int_equal(ifx_breaker_get_state(&b), IFX_BREAKER_OPEN);
    /* open: refused without a request */
    assert_int_equal(write_text(c, &cfg, &b, "m f=1i 1\n", &rep, &rj, &requests, &e),
                     IFX_E_BREAKER_OPEN);
    assert_int_equal(requests, 0);
    /* after the cool-down one probe goes out; it fails, so the breaker opens again */
    nanosleep(&pause, NULL);
    assert_int_equal(write_text(c, &cfg, &b, "m f=1i 1\n", &rep, &rj, &requests, &e),
                     IFX_E_TRANSIENT);
    assert_int_equal(requests, 1);
    assert_int_equal(ifx_breaker_get_state(&b), IFX_BREAKER_OPEN);
    nanosleep(&pause, NULL);
    assert_int_equal(write_text(c, &cfg, &b, "m f=1i 1\n", &rep, &rj, NULL, &e), IFX_E_TRANSIENT);
    /* the server is back: the next probe closes the breaker */
    nanosleep(&pause, NULL);
    assert_int_equal(write_text(c, &cfg, &b, "m f=1i 1\n", &rep, &rj, NULL, &e), IFX_OK);
    assert_int_equal(ifx_breaker_get_state(&b), IFX_BREAKER_CLOSED);
    assert_int_equal(b.times_opened, 3);
    ifx_breaker_destroy(&b);
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

static void test_v3_413_splits(void **state)
{
    ifx_config cfg;
    ifx_client *c = client(&cfg, 3, "\"gzip\":false");
    ifx_write_report rep;
    rejects rj;
    uint64_t requests;
    ifx_buf text;
    ifx_err e;
    (void)state;
    reset(&v3);
    ifx_buf_init(&text, 1 << 22);
    /* the server's limit is 65536 bytes (--max-body): 1000 lines of ~110 bytes need splitting */
    for (int i = 0; i < 1000; i++)
        ifx_buf_printf(&text, "big s=\"%0100d\" %d\n", i, i + 1);
    assert_int_equal(write_text(c, &cfg, NULL, text.data, &rep, &rj, &requests, &e), IFX_OK);
    assert_int_equal(rep.written, 1000);
    assert_true(requests >= 3);
    json_t *pts = admin_call(v3.port, "GET", "/__admin/points?db=iggy", NULL);
    assert_int_equal(json_array_size(pts), 1000);
    json_decref(pts);
    ifx_buf_free(&text);
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

/* Delivers text with a writer and checks the delivery contract line by line: every line ends
 * written or rejected (none pending unless the call failed), and the counts add up. */
static ifx_rc write_counted(ifx_client *c, const ifx_config *cfg, const char *text,
                            ifx_write_report *rep, rejects *rj, uint64_t *requests, size_t *pending,
                            ifx_err *e)
{
    ifx_writer w;
    ifx_line_span *spans = NULL;
    size_t cap = 0, n = ifxi_writer_split_lines(text, strlen(text), &spans, &cap), counts[3] = {0};
    uint8_t *state = calloc(n ? n : 1, 1);
    memset(rj, 0, sizeof *rj);
    ifx_retry_policy retry = ifxi_engine_retry_policy(cfg);
    ifxi_writer_init(&w, c, NULL, &retry, IFX_PRECISION_NS);
    ifx_rc rc = ifxi_writer_write(&w, text, spans, n, rejects_record, rj, rep, state, e);
    for (size_t i = 0; i < n; i++)
        counts[state[i]]++;
    assert_int_equal(counts[IFX_LINE_WRITTEN], rep->written);
    assert_int_equal(counts[IFX_LINE_REJECTED], rep->rejected);
    assert_int_equal(rj->n, rep->rejected);
    assert_int_equal(n, rep->written + rep->rejected + counts[IFX_LINE_PENDING]);
    if (rc == IFX_OK)
        assert_int_equal(counts[IFX_LINE_PENDING], 0);
    *requests = w.requests;
    *pending = counts[IFX_LINE_PENDING];
    ifxi_writer_free(&w);
    free(state);
    free(spans);
    return rc;
}

/* Issue 10 (1): InfluxDB 3 lists every refused line in its answer, ~150 bytes each, so a type
 * conflict on 1000 lines answers over 64 KiB. Only the head is kept; the lines it names are
 * rejected and the rest is sent again until every line has its outcome, in a few requests. */
static void test_v3_answer_over_64k_rejects_every_line(void **state)
{
    ifx_config cfg;
    ifx_client *c = client(&cfg, 3, "\"gzip\":false");
    ifx_write_report rep;
    rejects rj;
    uint64_t requests;
    size_t pending;
    ifx_buf text;
    ifx_err e;
    (void)state;
    reset(&v3);
    ifx_buf_init(&text, 1 << 20);
    assert_int_equal(write_text(c, &cfg, NULL, "m f=1i 1\n", &rep, &rj, NULL, &e), IFX_OK);
    for (int i = 0; i < 1000; i++)
        ifx_buf_printf(&text, "m f=%d.5 %d\n", i, i + 2);
    assert_int_equal(write_counted(c, &cfg, text.data, &rep, &rj, &requests, &pending, &e), IFX_OK);
    assert_int_equal(rep.rejected, 1000);
    assert_int_equal(rep.written, 0);
    assert_true(requests < 20);
    assert_string_equal(rj.reason[0], "invalid column type for column 'f', expected iox::column_"
                                      "type::field::integer, got iox::column_type::field::float");
    for (size_t i = 0; i < 16; i++)
        assert_int_equal(rj.index[i], i); /* the first answer names lines 1..., in order */
    printf("1000 refused lines: %llu requests\n", (unsigned long long)requests);

    /* Every other line refused: the good ones are stored (once or again), the bad ones not. */
    ifx_buf_reset(&text);
    for (int i = 0; i < 2000; i++)
        ifx_buf_printf(&text, i % 2 ? "m f=%d.5 %d\n" : "m f=%di %d\n", i, 10000 + i);
    assert_int_equal(write_counted(c, &cfg, text.data, &rep, &rj, &requests, &pending, &e), IFX_OK);
    assert_int_equal(rep.rejected, 1000);
    assert_int_equal(rep.written, 1000);
    assert_true(requests < 20);
    assert_int_equal(rj.index[0], 1);
    json_t *pts = admin_call(v3.port, "GET", "/__admin/points?db=iggy", NULL);
    assert_int_equal(json_array_size(pts), 1001);
    assert_null(stored_field(pts, "m", 10001, "f"));
    expect_field(pts, "m", 11998, "f", "integer", "1998");
    json_decref(pts);
    printf("2000 lines, every other refused: %llu requests\n", (unsigned long long)requests);
    ifx_buf_free(&text);
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

/* Issue 10 (2): a 400/422 that refuses the request itself and names no line (a deleted or full
 * database, a malformed header, a 2.x "bucket not found" sent as 400) is not bad data. The
 * first and last line sent alone get the very same answer, so every line stays pending (8
 * lines, 3 requests, none rejected) and the writer says why. While it lasts the writer holds
 * at once (1 request); once the server takes writes, all are written. */
static void expect_held(ifx_writer *w, const char *text, int status, const char *server_text,
                        uint64_t want_requests)
{
    ifx_line_span *spans = NULL;
    size_t cap = 0, n = ifxi_writer_split_lines(text, strlen(text), &spans, &cap);
    uint8_t st[8] = {0};
    ifx_write_report rep;
    rejects rj = {0};
    ifx_err e;
    uint64_t before = w->requests;
    assert_int_equal(n, 8);
    assert_int_equal(ifxi_writer_write(w, text, spans, n, rejects_record, &rj, &rep, st, &e),
                     IFX_E_REJECTED);
    assert_int_equal(rep.written + rep.rejected + rj.n, 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(st[i], IFX_LINE_PENDING);
    assert_int_equal(w->requests - before, want_requests);
    assert_int_equal(e.http_status, status);
    if (!strstr(e.msg, server_text) || !strstr(e.msg, "every line is refused alike"))
        fail_msg("message: %s", e.msg);
    free(spans);
}

static void test_request_refusal_keeps_lines(void **state)
{
    static const char text[] = "m f=1i 1\nm f=2i 2\nm f=3i 3\nm f=4i 4\n"
                               "m f=5i 5\nm f=6i 6\nm f=7i 7\nm f=8i 8\n";
    static const struct {
        const char *fault;
        int status;
        const char *says;
    } v3_cases[] = {
        {"soft_deleted_database", 400,
         "HTTP 400 from /api/v3/write_lp: cannot write to soft-deleted database 'iggy' - it is "
         "marked for deletion"},
        {"database_limit", 422, "Adding a new database would exceed limit of 5 databases"},
        {"malformed_auth", 400, "Authorization header was malformed"},
    };
    ifx_config cfg;
    ifx_client *c = client(&cfg, 3, NULL);
    ifx_writer w;
    ifx_write_report rep;
    rejects rj;
    uint64_t requests;
    size_t pending;
    ifx_err e;
    char json[128];
    (void)state;
    for (size_t k = 0; k < 3; k++) {
        reset(&v3);
        snprintf(json, sizeof json, "{\"refuse\":\"%s\",\"persist\":true}", v3_cases[k].fault);
        fault(&v3, json);
        ifx_retry_policy retry = ifxi_engine_retry_policy(&cfg);
        ifxi_writer_init(&w, c, NULL, &retry, IFX_PRECISION_NS);
        expect_held(&w, text, v3_cases[k].status, v3_cases[k].says, 3);
        expect_held(&w, text, v3_cases[k].status, v3_cases[k].says, 1);
        json_decref(admin_call(v3.port, "DELETE", "/__admin/fault", NULL));
        assert_int_equal(write_counted(c, &cfg, text, &rep, &rj, &requests, &pending, &e), IFX_OK);
        assert_int_equal(rep.written, 8);
        assert_int_equal(requests, 1);
        ifxi_writer_free(&w);
    }
    ifx_client_free(c);
    ifx_config_free(&cfg);

    /* 2.x: a 400 in the {code,message} form */
    c = client(&cfg, 2, NULL);
    reset(&v2);
    fault(&v2, "{\"refuse\":\"invalid\",\"message\":\"bucket \\\"events\\\" not found\","
               "\"persist\":true}");
    ifx_retry_policy retry = ifxi_engine_retry_policy(&cfg);
    ifxi_writer_init(&w, c, NULL, &retry, IFX_PRECISION_NS);
    expect_held(&w, text, 400, "HTTP 400 from /api/v2/write: bucket \"events\" not found", 3);
    json_decref(admin_call(v2.port, "DELETE", "/__admin/fault", NULL));
    assert_int_equal(write_counted(c, &cfg, text, &rep, &rj, &requests, &pending, &e), IFX_OK);
    assert_int_equal(rep.written, 8);
    ifxi_writer_free(&w);
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

/* Still issue 10 (2): a refusal naming no line that is about the data is found and rejected
 * alone. The v2-compatible endpoint of v3 answers a type conflict with the same body for the
 * batch and for the bad line alone, so the bad line first in the batch is the hard case. */
static void test_lineless_data_refusal_rejects_one_line(void **state)
{
    ifx_config cfg;
    ifx_client *c = client(&cfg, 3, "\"write_endpoint\":\"v2_compat\"");
    ifx_write_report rep;
    rejects rj;
    uint64_t requests;
    size_t pending;
    ifx_err e;
    char text[512];
    (void)state;
    for (int bad = 0; bad < 8; bad += 3) {
        reset(&v3);
        assert_int_equal(write_text(c, &cfg, NULL, "m f=0i 100\n", &rep, &rj, NULL, &e), IFX_OK);
        size_t k = 0;
        for (int i = 0; i < 8; i++)
            k += (size_t)snprintf(text + k, sizeof text - k,
                                  i == bad ? "m f=%d.5 %d\n" : "m f=%di %d\n", i, i + 1);
        assert_int_equal(write_counted(c, &cfg, text, &rep, &rj, &requests, &pending, &e), IFX_OK);
        assert_int_equal(rep.rejected, 1);
        assert_int_equal(rep.written, 7);
        assert_int_equal(rj.index[0], (size_t)bad);
        assert_non_null(strstr(rj.reason[0], "line protocol parse failed: invalid column type"));
        printf("bad line %d of 8: %llu requests\n", bad, (unsigned long long)requests);
        assert_true(requests <= 10); /* two probes at each level that halving finds refused */
        json_t *pts = admin_call(v3.port, "GET", "/__admin/points?db=iggy", NULL);
        assert_int_equal(json_array_size(pts), 8);
        json_decref(pts);
    }
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

/* Issue 10 (3): line numbers are not trusted beyond the request. A v3 answer naming a line
 * outside the batch, or a 2.x 422 saying dropped=0, must not count the refused line written:
 * the batch is halved until the line is found, and only the lines the server stored count. */
static void test_wrong_line_numbers_not_trusted(void **state)
{
    static const char text[] = "m f=1i 1\nm f=2i 2\nm f=3.5 3\nm f=4i 4\nm f=5i 5\nm f=6i 6\n";
    ifx_config cfg;
    ifx_client *c;
    ifx_write_report rep;
    rejects rj;
    uint64_t requests;
    size_t pending;
    ifx_err e;
    (void)state;
    for (int partial = 1; partial >= 0; partial--) {
        c = client(&cfg, 3, partial ? NULL : "\"accept_partial\":false");
        reset(&v3);
        assert_int_equal(write_text(c, &cfg, NULL, "m f=0i 100\n", &rep, &rj, NULL, &e), IFX_OK);
        fault(&v3, "{\"renumber\":1000,\"persist\":true}");
        assert_int_equal(write_counted(c, &cfg, text, &rep, &rj, &requests, &pending, &e), IFX_OK);
        assert_int_equal(rep.rejected, 1);
        assert_int_equal(rep.written, 5);
        assert_int_equal(rj.index[0], 2);
        printf("%s: %llu requests, reason %s\n", partial ? "partial" : "all or nothing",
               (unsigned long long)requests, rj.reason[0]);
        assert_non_null(strstr(rj.reason[0], "invalid column type"));
        assert_true(requests <= 8);
        json_t *pts = admin_call(v3.port, "GET", "/__admin/points?db=iggy", NULL);
        assert_int_equal(json_array_size(pts), 6);
        assert_null(stored_field(pts, "m", 3, "f"));
        json_decref(pts);
        ifx_client_free(c);
        ifx_config_free(&cfg);
    }

    /* 2.x: dropped=0 for a point it did not store */
    c = client(&cfg, 2, NULL);
    reset(&v2);
    assert_int_equal(write_text(c, &cfg, NULL, "m f=0i 100\n", &rep, &rj, NULL, &e), IFX_OK);
    fault(&v2, "{\"dropped\":0,\"persist\":true}");
    assert_int_equal(write_counted(c, &cfg, text, &rep, &rj, &requests, &pending, &e), IFX_OK);
    assert_int_equal(rep.rejected, 1);
    assert_int_equal(rep.written, 5);
    assert_int_equal(rj.index[0], 2);
    assert_non_null(strstr(rj.reason[0], "field type conflict"));
    json_t *pts = admin_call(v2.port, "GET", "/__admin/points?db=events", NULL);
    assert_int_equal(json_array_size(pts), 6);
    json_decref(pts);
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

typedef struct rows {
    size_t n;
    char text[32][200];
} rows;

static ifx_rc keep_row(void *ud, const ifx_row *row, ifx_err *err)
{
    rows *r = ud;
    size_t k = 0;
    char *t = r->text[r->n < 32 ? r->n : 31];
    (void)err;
    for (size_t i = 0; i < row->ncols && k < 190; i++) {
        const ifx_value *v = &row->vals[i];
        k += (size_t)snprintf(t + k, 200 - k, "%s%.*s=", i ? " " : "", (int)row->cols[i].len,
                              row->cols[i].name);
        if (v->type == IFX_VAL_STRING)
            k += (size_t)snprintf(t + k, 200 - k, "%.*s", (int)v->v.s.len, v->v.s.p);
        else if (v->type == IFX_VAL_F64)
            k += (size_t)snprintf(t + k, 200 - k, "%g", v->v.f);
        else if (v->type == IFX_VAL_U64)
            k += (size_t)snprintf(t + k, 200 - k, "%lluu", (unsigned long long)v->v.u);
        else if (v->type == IFX_VAL_BOOL)
            k += (size_t)snprintf(t + k, 200 - k, "%s", v->v.b ? "true" : "false");
        else if (v->type == IFX_VAL_NULL)
            k += (size_t)snprintf(t + k, 200 - k, "null");
        else
            k += (size_t)snprintf(t + k, 200 - k, "%lld%s", (long long)v->v.i,
                                  v->type == IFX_VAL_TIME ? "ns" : "");
    }
    r->n++;
    return IFX_OK;
}

static ifx_rc run_query(ifx_client *c, ifx_query_lang lang, const char *q, rows *out, ifx_err *e)
{
    ifx_buf body;
    ifx_result_format fmt;
    ifx_rows_reader rd;
    ifx_rc rc;
    memset(out, 0, sizeof *out);
    ifx_buf_init(&body, 1 << 24);
    ifx_rows_reader_init(&rd);
    rc = ifx_client_query(c, lang, q, strlen(q), 0, &body, &fmt, e);
    if (rc == IFX_OK)
        rc = ifx_rows_read(&rd, fmt, body.data ? body.data : "", body.len, keep_row, out, e);
    ifx_rows_reader_free(&rd);
    ifx_buf_free(&body);
    return rc;
}

static void test_v3_queries(void **state)
{
    ifx_config cfg;
    ifx_client *c = client(&cfg, 3, NULL);
    ifx_write_report rep;
    rejects rj;
    rows r;
    ifx_err e;
    (void)state;
    reset(&v3);
    assert_int_equal(write_text(c, &cfg, NULL,
                                "cpu,host=a usage=0.5,n=1i 1000000000\n"
                                "cpu,host=b usage=1.5,n=2i 2000000000\n",
                                &rep, &rj, NULL, &e),
                     IFX_OK);
    assert_int_equal(
        run_query(c, IFX_QUERY_SQL,
                  "SELECT * FROM cpu WHERE time > '1970-01-01T00:00:01Z' ORDER BY time", &r, &e),
        IFX_OK);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.text[0], "host=b n=2 usage=1.5 time=2000000000ns");
    assert_int_equal(
        run_query(c, IFX_QUERY_INFLUXQL, "SELECT usage FROM cpu ORDER BY time", &r, &e), IFX_OK);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.text[0], "iox::measurement=cpu time=1000000000ns usage=0.5");
    /* errors: an unknown table, an unknown database */
    assert_int_equal(run_query(c, IFX_QUERY_SQL, "SELECT * FROM nope", &r, &e), IFX_E_REJECTED);
    assert_int_equal(e.http_status, 400);
    assert_non_null(strstr(e.msg, "table 'public.iox.nope' not found"));
    ifx_client_free(c);
    ifx_config_free(&cfg);
    char json[256];
    snprintf(json, sizeof json,
             "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"missing\","
             "\"token\":\"" TOKEN "\"}",
             v3.port);
    assert_int_equal(ifx_config_parse_json(&cfg, IFX_ROLE_SINK, json, strlen(json), NULL, &e),
                     IFX_OK);
    assert_int_equal(ifx_client_new(cfg.version, &cfg.http, &c, &e), IFX_OK);
    assert_int_equal(run_query(c, IFX_QUERY_SQL, "SELECT 1", &r, &e), IFX_E_REJECTED);
    assert_int_equal(e.http_status, 404);
    assert_string_equal(e.msg, "HTTP 404 from /api/v3/query_sql: query error: database not "
                               "found: missing");
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

static void test_v3_wait_healthy(void **state)
{
    ifx_config cfg;
    ifx_client *c = client(&cfg, 3, "\"max_open_retries\":3,\"open_retry_max_delay\":\"20ms\"");
    ifx_retry_policy open_retry = {.max_attempts = cfg.max_open_retries,
                                   .base_ns = cfg.retry_delay_ns,
                                   .cap_ns = cfg.open_retry_max_delay_ns};
    uint32_t attempts;
    ifx_err e;
    (void)state;
    reset(&v3);
    fault(&v3, "{\"count\":2,\"status\":503,\"paths\":[\"/health\"]}");
    assert_int_equal(ifx_client_wait_healthy(c, &open_retry, NULL, NULL, &attempts, &e), IFX_OK);
    assert_int_equal(attempts, 3);
    fault(&v3, "{\"count\":5,\"status\":503,\"body\":\"starting\",\"paths\":[\"/health\"]}");
    assert_int_equal(ifx_client_wait_healthy(c, &open_retry, NULL, NULL, &attempts, &e),
                     IFX_E_TRANSIENT);
    assert_int_equal(attempts, 3);
    assert_string_equal(e.msg, "server not healthy after 3 attempts: HTTP 503 from /health: "
                               "starting");
    json_decref(admin_call(v3.port, "DELETE", "/__admin/fault", NULL));
    ifx_client_free(c);
    ifx_config_free(&cfg);
    /* wrong credentials are not retried */
    char json[256];
    snprintf(json, sizeof json,
             "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"iggy\","
             "\"token\":\"bad\",\"max_open_retries\":5}",
             v3.port);
    assert_int_equal(ifx_config_parse_json(&cfg, IFX_ROLE_SINK, json, strlen(json), NULL, &e),
                     IFX_OK);
    assert_int_equal(ifx_client_new(cfg.version, &cfg.http, &c, &e), IFX_OK);
    open_retry.max_attempts = cfg.max_open_retries;
    assert_int_equal(ifx_client_wait_healthy(c, &open_retry, NULL, NULL, &attempts, &e),
                     IFX_E_AUTH);
    assert_int_equal(attempts, 1);
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

/* One client shared by 8 threads: every write lands, none is lost or mixed up. */
struct writer_thread {
    ifx_client *c;
    const ifx_config *cfg;
    int id;
    ifx_rc rc;
    size_t written;
};

static void *write_many(void *arg)
{
    struct writer_thread *t = arg;
    char text[4096];
    for (int i = 0; i < 25 && t->rc == IFX_OK; i++) {
        size_t k = 0;
        for (int j = 0; j < 20; j++)
            k += (size_t)snprintf(text + k, sizeof text - k, "conc,t=%d v=%di %d\n", t->id,
                                  i * 20 + j, i * 20 + j + 1);
        ifx_write_report rep;
        rejects rj;
        ifx_err e;
        t->rc = write_text(t->c, t->cfg, NULL, text, &rep, &rj, NULL, &e);
        t->written += rep.written;
    }
    return NULL;
}

static void test_v3_concurrent_writes(void **state)
{
    ifx_config cfg;
    ifx_client *c = client(&cfg, 3, "\"gzip_threshold\":200");
    pthread_t th[8];
    struct writer_thread t[8];
    (void)state;
    reset(&v3);
    for (int i = 0; i < 8; i++) {
        t[i] = (struct writer_thread){.c = c, .cfg = &cfg, .id = i};
        pthread_create(&th[i], NULL, write_many, &t[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(t[i].rc, IFX_OK);
        assert_int_equal(t[i].written, 500);
    }
    json_t *pts = admin_call(v3.port, "GET", "/__admin/points?db=iggy", NULL);
    assert_int_equal(json_array_size(pts), 8 * 500);
    json_decref(pts);
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

/* ---- v2 --------------------------------------------------------------------------------- */

static void test_v2_detect_write_query(void **state)
{
    ifx_detect_result d;
    ifx_config cfg;
    ifx_client *c;
    ifx_write_report rep;
    rejects rj;
    uint64_t requests;
    rows r;
    ifx_err e;
    char url[64];
    (void)state;
    reset(&v2);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", v2.port);
    assert_int_equal(
        ifx_detect(&(ifx_transport_options){.url = url, .timeout_ns = 5000000000ULL}, &d, &e),
        IFX_OK);
    assert_int_equal(d.version, IFX_VERSION_V2);
    assert_string_equal(d.build, "OSS");

    c = client(&cfg, 2, "\"gzip_threshold\":0");
    assert_int_equal(ifx_client_health(c, &e), IFX_OK);
    assert_int_equal(write_text(c, &cfg, NULL,
                                "cpu,host=a usage=0.5,u=7u 1000000000\n"
                                "cpu,host=b usage=1.5,u=8u 2000000000\n",
                                &rep, &rj, NULL, &e),
                     IFX_OK);
    assert_int_equal(rep.written, 2);
    json_t *pts = admin_call(v2.port, "GET", "/__admin/points?db=events", NULL);
    expect_field(pts, "cpu", 1000000000LL, "usage", "float", "0.5");
    expect_field(pts, "cpu", 2000000000LL, "u", "unsigned", "8");
    json_decref(pts);
    json_t *reqs = last_requests(&v2), *last = json_array_get(reqs, json_array_size(reqs) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "query")),
                        "org=iggy&bucket=events&precision=ns");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(last, "headers"), "authorization")),
        "Token ***");
    assert_string_equal(json_string_value(json_object_get(last, "content_encoding")), "gzip");
    json_decref(reqs);

    /* storage partial write: 422 counting one drop; halving finds the line */
    assert_int_equal(write_text(c, &cfg, NULL,
                                "cpu,host=a usage=2.5 3000000000\ncpu,host=a usage=3i "
                                "4000000000\ncpu,host=a usage=4.5 5000000000\n",
                                &rep, &rj, &requests, &e),
                     IFX_OK);
    assert_int_equal(rep.written, 2);
    assert_int_equal(rep.rejected, 1);
    assert_int_equal(rj.index[0], 1);
    assert_non_null(strstr(rj.reason[0], "field type conflict"));
    /* parse errors: all or nothing, the bad line named, the rest sent again */
    assert_int_equal(write_text(c, &cfg, NULL, "cpu,host=a usage=6.5 6\ncpu,host=a usage= 7\n",
                                &rep, &rj, &requests, &e),
                     IFX_OK);
    assert_int_equal(rep.written, 1);
    assert_int_equal(rep.rejected, 1);
    assert_int_equal(rj.index[0], 1);
    assert_int_equal(requests, 2);

    /* Flux: two series, annotated CSV */
    assert_int_equal(run_query(c, IFX_QUERY_FLUX,
                               "from(bucket: \"events\") |> range(start: 0) |> filter(fn: (r) => "
                               "r._measurement == \"cpu\" and r._field == \"u\")",
                               &r, &e),
                     IFX_OK);
    assert_int_equal(r.n, 2);
    assert_non_null(strstr(r.text[0], "_value=7u"));
    assert_non_null(strstr(r.text[0], "host=a"));
    assert_non_null(strstr(r.text[1], "_value=8u"));
    ifx_client_free(c);
    ifx_config_free(&cfg);

    /* a wrong token */
    char json[256];
    snprintf(json, sizeof json,
             "{\"url\":\"%s\",\"org\":\"iggy\",\"bucket\":\"events\",\"token\":\"n0pe\"}", url);
    assert_int_equal(ifx_config_parse_json(&cfg, IFX_ROLE_SINK, json, strlen(json), NULL, &e),
                     IFX_OK);
    assert_int_equal(ifx_client_new(cfg.version, &cfg.http, &c, &e), IFX_OK);
    assert_int_equal(write_text(c, &cfg, NULL, "m f=1i 1\n", &rep, &rj, NULL, &e), IFX_E_AUTH);
    assert_string_equal(e.msg, "HTTP 401 from /api/v2/write: unauthorized access");
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

static int setup(void **state)
{
    char *a3[] = {"python3",    IFX_SOURCE_DIR "/tests/fixtures/influxdb_server.py",
                  "--mode",     "v3",
                  "--token",    TOKEN,
                  "--max-body", "65536",
                  NULL};
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (fixture_start(&v3, a3, 30))
        return -1;
    return fixture_start_stand_in(&v2, "v2", TOKEN);
}

static int teardown(void **state)
{
    (void)state;
    fixture_stop(&v3);
    fixture_stop(&v2);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v3_detect_and_health),
        cmocka_unit_test(test_v3_write_field_by_field),
        cmocka_unit_test(test_v3_write_gzipped_ahead),
        cmocka_unit_test(test_v3_partial_writes),
        cmocka_unit_test(test_v3_v2_compat_endpoint),
        cmocka_unit_test(test_v3_retries_and_retry_after),
        cmocka_unit_test(test_v3_retry_after_forms),
        cmocka_unit_test(test_v3_breaker),
        cmocka_unit_test(test_v3_413_splits),
        cmocka_unit_test(test_v3_answer_over_64k_rejects_every_line),
        cmocka_unit_test(test_request_refusal_keeps_lines),
        cmocka_unit_test(test_lineless_data_refusal_rejects_one_line),
        cmocka_unit_test(test_wrong_line_numbers_not_trusted),
        cmocka_unit_test(test_v3_queries),
        cmocka_unit_test(test_v3_wait_healthy),
        cmocka_unit_test(test_v3_concurrent_writes),
        cmocka_unit_test(test_v2_detect_write_query),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
