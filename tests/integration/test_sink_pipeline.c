/* The sink's pipelining (issue 13): without a spool, a consume encodes chunk N+1 while its
 * encoder's sender thread compresses and sends chunk N. What consume promises does not change:
 * it returns only when every message of its call is written, rejected or pending. Each test
 * makes a consume of several chunks (batch_size 100) meet a fault on one chunk in the middle,
 * then counts received = written + rejected + pending and reads what the server stored and the
 * dead letters. Against the v3 test server; the fault rules apply to writes only, in order, so
 * "one rule that only delays" lets the first chunk through and the next rule hits the second. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "cli_run.h"
#include "fixture.h"
#include "ifx/config.h"
#include "ifx/sink.h"
#include "sink_message.h"

#define TOKEN "ifx-test-token"
#define CHUNK 100 /* batch_size */
#define MAXN  2000

static fixture v3;
static char dir[] = "/tmp/ifx-sink-pipeline-XXXXXX";
static char payload[] = "{\"v\":1}";

static void quiet_log(void *ud, int level, const char *msg)
{
    (void)ud;
    if (getenv("IFX_TEST_VERBOSE") || level >= IFX_LOG_ERROR)
        fprintf(stderr, "[sink %d] %s\n", level, msg);
}

static ifx_sink *open_sink(const char *extra)
{
    char json[2048];
    ifx_config cfg;
    ifx_sink *s;
    ifx_err e;
    snprintf(json, sizeof json,
             "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"iggy\",\"token\":"
             "\"" TOKEN "\",\"retry_delay\":\"10ms\",\"retry_max_delay\":\"50ms\","
             "\"max_open_retries\":2,\"stats_interval\":\"0s\",\"batch_size\":%d%s%s}",
             v3.port, CHUNK, extra ? "," : "", extra ? extra : "");
    if (ifx_config_parse_json(&cfg, IFX_ROLE_SINK, json, strlen(json), NULL, &e))
        fail_msg("config: %s", e.msg);
    if (ifx_sink_open(&cfg, quiet_log, NULL, &s, &e))
        fail_msg("sink open: %s", e.msg);
    ifx_config_free(&cfg);
    return s;
}

static void reset(void)
{
    json_decref(admin_call(v3.port, "POST", "/__admin/reset", NULL));
}

/* A rule on writes only (probes and health checks pass). */
static void fault(const char *rule)
{
    char body[512];
    snprintf(body, sizeof body, "{\"paths\":[\"/api/v3/write_lp\"],%s}", rule);
    json_decref(admin_call(v3.port, "POST", "/__admin/fault", body));
}

static size_t stored(void)
{
    json_t *p = admin_call(v3.port, "GET", "/__admin/points?db=iggy", NULL);
    size_t n = json_array_size(p);
    json_decref(p);
    return n;
}

/* Whether the server stored the point of message offset (its time is the message's, in µs). */
static bool stored_offset(json_t *pts, uint64_t offset)
{
    long long t = (long long)(1764118800000000ULL + offset) * 1000;
    size_t i;
    json_t *p;
    json_array_foreach(pts, i,
                       p) if (json_integer_value(json_object_get(p, "time")) == t) return true;
    return false;
}

static size_t write_requests(void)
{
    json_t *r = admin_call(v3.port, "GET", "/__admin/requests", NULL);
    size_t i, n = 0;
    json_t *q;
    json_array_foreach(r, i, q)
    {
        const char *path = json_string_value(json_object_get(q, "path"));
        n += path && strncmp(path, "/api/v3/write_lp", 16) == 0;
    }
    json_decref(r);
    return n;
}

static ifx_sink_message m[MAXN];

static void make(size_t n, uint64_t first)
{
    for (size_t i = 0; i < n; i++)
        m[i] = test_sink_message(first + i, payload);
}

static void expect_counts(ifx_sink *s, uint64_t received, uint64_t written, uint64_t rejected,
                          uint64_t pending)
{
    ifx_sink_stats st;
    ifx_sink_get_stats(s, &st);
    assert_int_equal(st.received, received);
    assert_int_equal(st.written, written);
    assert_int_equal(st.rejected, rejected);
    assert_int_equal(st.pending, pending);
    assert_int_equal(st.received, st.written + st.rejected + st.pending);
}

/* The second of five chunks is answered 503 once: it is retried and written, and so is every
 * other chunk; consume returns OK with every message written. */
static void test_second_chunk_5xx_then_ok(void **state)
{
    ifx_err e;
    (void)state;
    reset();
    ifx_sink *s = open_sink(NULL);
    make(5 * CHUNK, 0);
    fault("\"count\":1,\"delay_ms\":1");
    fault("\"count\":1,\"status\":503");
    json_decref(admin_call(v3.port, "DELETE", "/__admin/requests", NULL));
    assert_int_equal(ifx_sink_consume(s, m, 5 * CHUNK, &e), IFX_OK);
    expect_counts(s, 5 * CHUNK, 5 * CHUNK, 0, 0);
    ifx_sink_stats st;
    ifx_sink_get_stats(s, &st);
    assert_int_equal(st.retried, 1);
    assert_int_equal(st.requests, 6);
    assert_int_equal(write_requests(), 6);
    assert_int_equal(stored(), 5 * CHUNK);
    ifx_sink_close(s);
}

/* The second chunk is a partial write naming its 2nd and 50th lines: those two messages (offsets
 * CHUNK+1 and CHUNK+49) are dead-lettered, the other 298 of three chunks stored. */
static void test_second_chunk_partial_reject(void **state)
{
    char dl[256], extra[320];
    ifx_err e;
    (void)state;
    reset();
    snprintf(dl, sizeof dl, "%s/partial.jsonl", dir);
    snprintf(extra, sizeof extra, "\"dead_letter_file\":\"%s\"", dl);
    ifx_sink *s = open_sink(extra);
    make(3 * CHUNK, 0);
    fault("\"count\":1,\"delay_ms\":1");
    fault("\"count\":1,\"partial_lines\":[2,50]");
    assert_int_equal(ifx_sink_consume(s, m, 3 * CHUNK, &e), IFX_OK);
    expect_counts(s, 3 * CHUNK, 3 * CHUNK - 2, 2, 0);
    /* the dead letters are on disk when consume returns */
    char *text = test_slurp(dl);
    char want[64];
    snprintf(want, sizeof want, "\"offset\":%d,", CHUNK + 1);
    assert_non_null(strstr(text, want));
    snprintf(want, sizeof want, "\"offset\":%d,", CHUNK + 49);
    assert_non_null(strstr(text, want));
    size_t records = 0;
    for (const char *p = text; (p = strchr(p, '\n')); p++)
        records++;
    assert_int_equal(records, 2);
    free(text);
    json_t *pts = admin_call(v3.port, "GET", "/__admin/points?db=iggy", NULL);
    assert_int_equal(json_array_size(pts), 3 * CHUNK - 2);
    assert_false(stored_offset(pts, CHUNK + 1));
    assert_false(stored_offset(pts, CHUNK + 49));
    assert_true(stored_offset(pts, CHUNK));
    assert_true(stored_offset(pts, CHUNK + 2));
    assert_true(stored_offset(pts, 3 * CHUNK - 1));
    json_decref(pts);
    ifx_sink_close(s);
}

/* A message the encoder refuses (not JSON) in the third chunk, encoded while the second is in
 * flight (its answer held back): it alone is rejected, the rest of all three chunks written. */
static void test_encoder_reject_while_chunk_in_flight(void **state)
{
    ifx_err e;
    (void)state;
    reset();
    ifx_sink *s = open_sink(NULL);
    make(3 * CHUNK, 0);
    m[2 * CHUNK + 5].payload = (const uint8_t *)"{not json";
    m[2 * CHUNK + 5].payload_len = 9;
    fault("\"count\":1,\"delay_ms\":1");
    fault("\"count\":1,\"delay_ms\":300");
    assert_int_equal(ifx_sink_consume(s, m, 3 * CHUNK, &e), IFX_OK);
    expect_counts(s, 3 * CHUNK, 3 * CHUNK - 1, 1, 0);
    assert_int_equal(stored(), 3 * CHUNK - 1);
    ifx_sink_close(s);
}

/* The answer to the last chunk is held back: consume must not return before it, so when it
 * returns the server has stored every message. */
static void test_returns_after_last_chunk_answered(void **state)
{
    ifx_err e;
    (void)state;
    reset();
    ifx_sink *s = open_sink(NULL);
    make(4 * CHUNK, 0);
    fault("\"count\":3,\"delay_ms\":1");
    fault("\"count\":1,\"delay_ms\":700");
    assert_int_equal(ifx_sink_consume(s, m, 4 * CHUNK, &e), IFX_OK);
    /* no wait here: stored already */
    assert_int_equal(stored(), 4 * CHUNK);
    expect_counts(s, 4 * CHUNK, 4 * CHUNK, 0, 0);
    ifx_sink_close(s);
}

struct consume_arg {
    ifx_sink *s;
    ifx_sink_message *m;
    size_t n;
    ifx_rc rc;
    ifx_err e;
    atomic_bool done;
};

static void *consume_thread(void *p)
{
    struct consume_arg *a = p;
    a->rc = ifx_sink_consume(a->s, a->m, a->n, &a->e);
    atomic_store(&a->done, true);
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Stop requested while the second of four chunks hangs at the server: the consume returns, the
 * first chunk is written, the second (interrupted), and the third and fourth (encoded meanwhile,
 * never sent) are pending; the server stored only the first. */
static void test_stop_during_chunk_in_flight(void **state)
{
    pthread_t th;
    ifx_sink_stats st;
    (void)state;
    reset();
    ifx_sink *s = open_sink(NULL);
    make(4 * CHUNK, 0);
    fault("\"count\":1,\"delay_ms\":1");
    fault("\"count\":1,\"hang_ms\":30000");
    struct consume_arg a = {s, m, 4 * CHUNK, IFX_OK, {0}, false};
    assert_int_equal(pthread_create(&th, NULL, consume_thread, &a), 0);
    /* until the first chunk is written and the second has been sent (it hangs) */
    for (int i = 0; i < 1000; i++) {
        ifx_sink_get_stats(s, &st);
        if (st.written == CHUNK && st.requests >= 2)
            break;
        sleep_ms(10);
    }
    assert_int_equal(st.written, CHUNK);
    sleep_ms(100);
    assert_false(atomic_load(&a.done)); /* still waiting for the hung chunk */
    ifx_sink_request_stop(s);
    pthread_join(th, NULL);
    assert_int_equal(a.rc, IFX_E_TRANSIENT);
    assert_non_null(strstr(a.e.msg, "not written"));
    expect_counts(s, 4 * CHUNK, CHUNK, 0, 3 * CHUNK);
    json_decref(admin_call(v3.port, "DELETE", "/__admin/fault", NULL));
    ifx_sink_close(s);
    assert_int_equal(stored(), CHUNK);
}

/* Two consumes at once on one sink, each of ten chunks, with a 503 on some chunk of one of them:
 * each has its own encoder and sender; every message is written once. */
static void test_two_concurrent_consumes(void **state)
{
    pthread_t th[2];
    static ifx_sink_message m2[2][10 * CHUNK];
    (void)state;
    reset();
    ifx_sink *s = open_sink(NULL);
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < 10 * CHUNK; i++)
            m2[k][i] = test_sink_message((uint64_t)k * 100000 + i, payload);
    fault("\"count\":3,\"delay_ms\":1");
    fault("\"count\":1,\"status\":503");
    struct consume_arg a[2] = {{s, m2[0], 10 * CHUNK, IFX_OK, {0}, false},
                               {s, m2[1], 10 * CHUNK, IFX_OK, {0}, false}};
    for (int k = 0; k < 2; k++)
        assert_int_equal(pthread_create(&th[k], NULL, consume_thread, &a[k]), 0);
    for (int k = 0; k < 2; k++) {
        pthread_join(th[k], NULL);
        assert_int_equal(a[k].rc, IFX_OK);
    }
    expect_counts(s, 20 * CHUNK, 20 * CHUNK, 0, 0);
    ifx_sink_stats st;
    ifx_sink_get_stats(s, &st);
    assert_int_equal(st.retried, 1);
    assert_int_equal(stored(), 20 * CHUNK);
    ifx_sink_close(s);
}

/* gzip on: the sender compresses; the server decodes and stores every chunk. */
static void test_gzip_chunks(void **state)
{
    ifx_err e;
    (void)state;
    reset();
    ifx_sink *s = open_sink("\"gzip\":true,\"gzip_threshold\":1");
    make(5 * CHUNK + 7, 0);
    assert_int_equal(ifx_sink_consume(s, m, 5 * CHUNK + 7, &e), IFX_OK);
    expect_counts(s, 5 * CHUNK + 7, 5 * CHUNK + 7, 0, 0);
    assert_int_equal(stored(), 5 * CHUNK + 7);
    ifx_sink_close(s);
}

/* While the sender is busy with a chunk (its answer held back 150 ms), the consuming thread
 * gzips the next chunk itself and the sender sends that body: every chunk after the first goes
 * out compressed by the consuming thread. Every line arrives once, as it was, in gzip requests. */
static void test_gzip_ahead_while_sender_busy(void **state)
{
    ifx_err e;
    (void)state;
    reset();
    ifx_sink *s = open_sink("\"gzip\":true,\"gzip_threshold\":1");
    make(4 * CHUNK + 3, 0);
    fault("\"count\":1,\"delay_ms\":150");
    json_decref(admin_call(v3.port, "DELETE", "/__admin/requests", NULL));
    assert_int_equal(ifx_sink_consume(s, m, 4 * CHUNK + 3, &e), IFX_OK);
    expect_counts(s, 4 * CHUNK + 3, 4 * CHUNK + 3, 0, 0);
    json_t *pts = admin_call(v3.port, "GET", "/__admin/points?db=iggy", NULL);
    assert_int_equal(json_array_size(pts), 4 * CHUNK + 3);
    for (uint64_t o = 0; o < 4 * CHUNK + 3; o++)
        assert_true(stored_offset(pts, o));
    json_decref(pts);
    json_t *r = admin_call(v3.port, "GET", "/__admin/requests", NULL);
    size_t i, writes = 0;
    json_t *q;
    json_array_foreach(r, i, q)
    {
        const char *path = json_string_value(json_object_get(q, "path"));
        if (!path || strncmp(path, "/api/v3/write_lp", 16) != 0)
            continue;
        writes++;
        assert_string_equal(json_string_value(json_object_get(q, "content_encoding")), "gzip");
    }
    json_decref(r);
    assert_int_equal(writes, 5);
    ifx_sink_close(s);
}

/* A pooled handle keeps its options and its write headers from request to request (issue 13):
 * writes on the handle that open's health probe used (the pool gives back the last handle
 * returned), with gzip and then plain, each say who they are and what they send, carry the
 * token, and are gzipped exactly when the body reaches gzip_threshold. */
static void test_headers_of_reused_handles(void **state)
{
    ifx_err e;
    (void)state;
    reset();
    ifx_sink *s = open_sink("\"gzip\":true,\"gzip_threshold\":2000");
    json_decref(admin_call(v3.port, "DELETE", "/__admin/requests", NULL));
    make(3 * CHUNK, 0);
    assert_int_equal(ifx_sink_consume(s, m, 3 * CHUNK, &e), IFX_OK); /* gzip: > 2000 bytes */
    make(2, 10000);
    assert_int_equal(ifx_sink_consume(s, m, 2, &e), IFX_OK); /* plain: 2 short lines */
    ifx_sink_close(s);
    json_t *reqs = admin_call(v3.port, "GET", "/__admin/requests", NULL);
    size_t i, writes = 0, gzipped = 0;
    json_t *q;
    json_array_foreach(reqs, i, q)
    {
        json_t *h = json_object_get(q, "headers");
        const char *path = json_string_value(json_object_get(q, "path"));
        const char *ua = json_string_value(json_object_get(h, "user-agent"));
        assert_non_null(ua);
        assert_memory_equal(ua, "ifx/", 4);
        if (!path || strcmp(path, "/api/v3/write_lp") != 0)
            continue;
        writes++;
        assert_string_equal(json_string_value(json_object_get(h, "authorization")), "Bearer ***");
        assert_string_equal(json_string_value(json_object_get(h, "content-type")),
                            "text/plain; charset=utf-8");
        assert_null(json_object_get(h, "expect"));
        const char *ce = json_string_value(json_object_get(h, "content-encoding"));
        gzipped += ce && strcmp(ce, "gzip") == 0;
    }
    json_decref(reqs);
    assert_int_equal(writes, 4);
    assert_int_equal(gzipped, 3);
    assert_int_equal(stored(), 3 * CHUNK + 2);
}

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!mkdtemp(dir))
        return -1;
    return fixture_start_stand_in(&v3, "v3", TOKEN);
}

static int teardown(void **state)
{
    (void)state;
    fixture_stop(&v3);
    return fixture_remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_second_chunk_5xx_then_ok),
        cmocka_unit_test(test_second_chunk_partial_reject),
        cmocka_unit_test(test_encoder_reject_while_chunk_in_flight),
        cmocka_unit_test(test_returns_after_last_chunk_answered),
        cmocka_unit_test(test_stop_during_chunk_in_flight),
        cmocka_unit_test(test_two_concurrent_consumes),
        cmocka_unit_test(test_gzip_chunks),
        cmocka_unit_test(test_gzip_ahead_while_sender_busy),
        cmocka_unit_test(test_headers_of_reused_handles),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
