/* The source out of memory: the k-th allocation of a run (ifx_source_run on the host's thread:
 * the query and its streamed reader, the rows, the cursor's plan, the payloads, the batch) fails,
 * for every k from 1 until a run makes no more. A run polls as the plugin's does; when it returns
 * an error, the host opens the source again from the state of its last acknowledged batch.
 * Whatever failed, every row is delivered exactly once, in time order: nothing lost, nothing
 * twice (the cursor moves only with an acknowledged batch). With persist, every allocation from
 * the k-th on fails for a while (the run is stopped after 60 ms), then memory comes back.
 *
 * The data set has three rows at each time and batches of 5, so ties cross batch edges. Against
 * the v3 test server (SQL, JSONL answers), the v2 server (Flux, annotated CSV; the stand-in, or
 * the real InfluxDB 2.7 when registered as test_source_oom_real_v2) and a real InfluxDB 1.x
 * (InfluxQL, JSON). Allocation failures are injected on the host's thread only
 * (support/alloc_fail.h), and not inside the host's own send callback. The same one level up:
 * the Iggy source plugin, whose polling thread (libcurl included) has every allocation fail in
 * turn (test_plugin_each_allocation). Plain build only. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dlfcn.h>
#include <stdatomic.h>

#include "alloc_fail.h"
#include "iggy/iggy_abi.h"
#include "postcard_host.h"
#include "fixture.h"
#include "ifx/client.h"
#include "ifx/config.h"
#include "ifx/source.h"
#include "v2server.h"

#define TOKEN   V2_TOKEN
#define ROWS    12
#define PER_T   3 /* rows at each time */
#define BATCH   5
#define MAX_K   5000
#define T0      1704067200000000000LL
#define ATTEMPT 40 /* runs of one k before the test gives up */

static fixture v3, v2, v1;
static bool real_v2;

static const char *const SQL = "SELECT * FROM m WHERE time > '$cursor' ORDER BY time LIMIT $limit";
static const char *const FLUX =
    "from(bucket: \"events\") |> range(start: time(v: \"$cursor\")) |> filter(fn: (r) => "
    "r._measurement == \"m\") |> group() |> sort(columns: [\"_time\"]) |> limit(n: $limit)";

typedef enum { V3, V2, V1 } target;
static const char *const names[] = {"v3", "v2", "v1"};

/* ---- the data set ------------------------------------------------------------------------ */

static void write_rows(target t)
{
    char json[512], lp[4096];
    size_t len = 0;
    ifx_config cfg;
    ifx_client *c;
    ifx_write_result res;
    ifx_err e;
    for (int i = 0; i < ROWS; i++)
        len +=
            (size_t)snprintf(lp + len, sizeof lp - len, "%sm,k=k%d v=%di %lld", i ? "\n" : "",
                             i % PER_T, i, (long long)(T0 + (long long)(i / PER_T) * 1000000000LL));
    if (t == V3)
        snprintf(json, sizeof json,
                 "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"oom\","
                 "\"token\":\"" TOKEN "\"}",
                 v3.port);
    else if (t == V2)
        snprintf(json, sizeof json,
                 "{\"version\":\"v2\",\"url\":\"http://127.0.0.1:%d\",\"org\":\"" V2_ORG
                 "\",\"bucket\":\"" V2_BUCKET "\",\"token\":\"" TOKEN "\"}",
                 v2.port);
    else
        snprintf(json, sizeof json,
                 "{\"version\":\"v1\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"oom\"}", v1.port);
    if (ifx_config_parse_json(&cfg, IFX_ROLE_SINK, json, strlen(json), NULL, &e))
        fail_msg("writer config: %s", e.msg);
    if (ifx_client_new(cfg.version, &cfg.http, &c, &e))
        fail_msg("writer client: %s", e.msg);
    if (t == V1) {
        ifx_buf body;
        ifx_result_format fmt;
        ifx_buf_init(&body, 1 << 16);
        static const char q[] = "CREATE DATABASE oom";
        if (ifx_client_query(c, IFX_QUERY_DEFAULT, q, strlen(q), 0, &body, &fmt, &e))
            fail_msg("%s: %s", q, e.msg);
        ifx_buf_free(&body);
    }
    ifx_write_result_init(&res);
    if (ifx_client_write(c, lp, len, IFX_PRECISION_NS, &res, &e))
        fail_msg("write to %s: %s", names[t], e.msg);
    ifx_write_result_free(&res);
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

/* The source's configuration as JSON text: the engine's and the plugin's (the runtime passes
 * [plugin_config] as this JSON). */
static void source_json(target t, char *json, size_t cap)
{
    int port = t == V3 ? v3.port : t == V2 ? v2.port : v1.port;
    json_t *q = json_string(t == V2 ? FLUX : SQL);
    char *qtext = json_dumps(q, JSON_ENCODE_ANY);
    json_decref(q);
    snprintf(json, cap,
             "{\"version\":\"%s\",\"url\":\"http://127.0.0.1:%d\",%s\"query\":%s,"
             "\"batch_size\":%d,\"poll_interval\":\"1ms\",\"retry_delay\":\"1ms\","
             "\"retry_max_delay\":\"50ms\",\"max_open_retries\":2}",
             names[t], port,
             t == V3   ? "\"db\":\"oom\",\"token\":\"" TOKEN "\","
             : t == V2 ? "\"org\":\"" V2_ORG "\",\"token\":\"" TOKEN "\","
                       : "\"db\":\"oom\",",
             qtext, BATCH);
    free(qtext);
}

static void source_config(ifx_config *cfg, target t)
{
    char json[1024];
    ifx_err e;
    source_json(t, json, sizeof json);
    if (ifx_config_parse_json(cfg, IFX_ROLE_SOURCE, json, strlen(json), NULL, &e))
        fail_msg("source config %s: %s", json, e.msg);
}

/* ---- the host ------------------------------------------------------------------------------ */

typedef struct host {
    ifx_source *src;
    int seen[ROWS];       /* deliveries of each row (by its v) */
    long order[ROWS * 4]; /* the v of each delivery, in order */
    size_t delivered;
    uint8_t *state; /* the state bytes of the last acknowledged batch */
    size_t state_len;
} host;

/* The row a payload holds: its v (v2: _value). */
static long value_of(target t, const uint8_t *payload, size_t len)
{
    json_error_t je;
    json_t *j = json_loadb((const char *)payload, len, 0, &je);
    json_t *v = json_object_get(j, t == V2 ? "_value" : "v");
    if (!json_is_integer(v))
        fail_msg("a payload without an integer v: %.*s", (int)len, (const char *)payload);
    long r = (long)json_integer_value(v);
    json_decref(j);
    return r;
}

static target current;

/* The host's send: its own allocations are not the source's, so they do not count. */
static ifx_rc take(void *ud, const ifx_source_batch *b)
{
    host *h = ud;
    bool was = alloc_fail_pause();
    for (size_t i = 0; i < b->n; i++) {
        long v = value_of(current, b->msgs[i].payload, b->msgs[i].payload_len);
        assert_true(v >= 0 && v < ROWS);
        assert_true(h->delivered < ROWS * 4);
        h->seen[v]++;
        h->order[h->delivered++] = v;
    }
    free(h->state);
    h->state = malloc(b->state_len ? b->state_len : 1);
    assert_non_null(h->state);
    memcpy(h->state, b->state, b->state_len);
    h->state_len = b->state_len;
    ifx_source_verdict(h->src, b->seq, true);
    if (h->delivered >= ROWS)
        ifx_source_request_stop(h->src); /* all there is: the run would poll on */
    alloc_fail_resume(was);
    return IFX_OK;
}

static void quiet(void *ud, int level, const char *msg)
{
    (void)ud;
    if (getenv("IFX_TEST_VERBOSE"))
        fprintf(stderr, "[source %d] %s\n", level, msg);
}

/* Stops a run after ms milliseconds (a run that waits out its failures would not return). */
typedef struct stopper {
    ifx_source *src;
    long ms;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool done, fired;
} stopper;

static void *stop_later(void *arg)
{
    stopper *st = arg;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += st->ms / 1000;
    until.tv_nsec += (st->ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&st->mu);
    while (!st->done && pthread_cond_timedwait(&st->cond, &st->mu, &until) == 0)
        ;
    if (!st->done) {
        st->fired = true;
        ifx_source_request_stop(st->src);
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

/* One run, polling as the plugin's does (not once) until the host has every row and stops it,
 * from the host's last state; the k-th allocation fails when k > 0. With persist the run is
 * stopped after 60 ms; otherwise a run still going after 5 s fails the test (a handle left
 * broken by the failure, retried for ever, did that). true when the run has delivered every
 * row. */
static bool run_one(const ifx_config *cfg, host *h, long k, bool persist, bool *hit)
{
    ifx_source *s;
    ifx_err e;
    pthread_t th;
    stopper st = {.ms = persist ? 60 : 5000,
                  .mu = PTHREAD_MUTEX_INITIALIZER,
                  .cond = PTHREAD_COND_INITIALIZER};

    if (ifx_source_open(cfg, h->state, h->state_len, quiet, NULL, &s, &e))
        fail_msg("source open: %s", e.msg);
    h->src = st.src = s;
    pthread_create(&th, NULL, stop_later, &st);
    if (k > 0)
        alloc_fail_arm(k, persist);
    ifx_rc rc = ifx_source_run(s, take, h, false, &e);
    alloc_fail_disarm();
    if (k > 0)
        *hit = alloc_fail_hit();
    pthread_mutex_lock(&st.mu);
    st.done = true;
    pthread_cond_broadcast(&st.cond);
    pthread_mutex_unlock(&st.mu);
    pthread_join(th, NULL);
    /* One failed allocation is a failure like any other: the run gets over it, or returns. */
    if (st.fired && !persist)
        fail_msg("k=%ld: the run was still going after 5 s (a failure it does not get over)", k);
    ifx_source_close(s);
    h->src = NULL;
    if (rc != IFX_OK && getenv("IFX_TEST_VERBOSE"))
        fprintf(stderr, "  k=%ld: the run returned %d: %s\n", k, rc, e.msg);
    return h->delivered >= ROWS;
}

static long long clock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void run_target(target t, bool persist)
{
    long long t0 = clock_now_ms();
    ifx_config cfg;
    long k;
    size_t error_runs = 0;

    current = t;
    source_config(&cfg, t);
    for (k = 1; k <= MAX_K; k++) {
        host h;
        bool hit = false, done = false;
        memset(&h, 0, sizeof h);
        done = run_one(&cfg, &h, k, persist, &hit);
        for (int attempt = 0; !done && attempt < ATTEMPT; attempt++) {
            error_runs++;
            done = run_one(&cfg, &h, 0, false, &hit);
        }
        /* every row exactly once, in time order (ties in any order) */
        for (int v = 0; v < ROWS; v++)
            if (h.seen[v] != 1)
                fail_msg("%s k=%ld%s: row %d delivered %d times (%zu deliveries)", names[t], k,
                         persist ? " persist" : "", v, h.seen[v], h.delivered);
        assert_int_equal(h.delivered, ROWS);
        for (size_t i = 1; i < h.delivered; i++)
            if (h.order[i] / PER_T < h.order[i - 1] / PER_T)
                fail_msg("%s k=%ld: row %ld delivered after row %ld", names[t], k, h.order[i],
                         h.order[i - 1]);
        free(h.state);
        if (!hit)
            break;
    }
    ifx_config_free(&cfg);
    if (k > MAX_K)
        fail_msg("%s: a run still met an injected failure after %d runs", names[t], MAX_K);
    fprintf(stderr,
            "%s%s: %ld allocations failed in turn; %zu runs again from the last state, %.1f s\n",
            names[t], persist ? " (from there on, 60 ms)" : "", k - 1, error_runs,
            (double)(clock_now_ms() - t0) / 1000.0);
    assert_true(k > 10);
}

static void test_v3_each_allocation(void **state)
{
    (void)state;
    if (!real_v2)
        run_target(V3, false);
}

static void test_v3_from_each_allocation_on(void **state)
{
    (void)state;
    if (!real_v2)
        run_target(V3, true);
}

static void test_v2_each_allocation(void **state)
{
    (void)state;
    run_target(V2, false);
}

static void test_v1_each_allocation(void **state)
{
    (void)state;
    if (!real_v2)
        run_target(V1, false);
}

/* ---- the plugin: the same, one level up --------------------------------------------------- */

/* The Iggy source plugin, loaded as the runtime loads it. Its polling thread (and libcurl inside
 * it) is where the allocations fail: every thread counts (alloc_fail_arm_all) but the host's send
 * callback, which stands for the runtime. */
static iggy_source_open_fn p_open;
static iggy_source_handle_v2_fn p_handle;
static iggy_source_batch_result_fn p_result;
static iggy_source_close_fn p_close;

typedef struct plugin_host {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int seen[ROWS];
    long order[ROWS * 4];
    size_t delivered;
    bool bad; /* a batch that did not decode */
} plugin_host;

static plugin_host ph = {.mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
static atomic_size_t oom_lines; /* log lines that say "out of memory" */

static void plugin_log(uint8_t level, const uint8_t *target_ptr, size_t target_len,
                       const uint8_t *msg, size_t msg_len)
{
    bool was = alloc_fail_pause();
    (void)target_ptr;
    (void)target_len;
    char line[1024];
    snprintf(line, sizeof line, "%.*s", (int)msg_len, (const char *)msg);
    if (strstr(line, "out of memory"))
        atomic_fetch_add(&oom_lines, 1);
    if (getenv("IFX_TEST_VERBOSE"))
        fprintf(stderr, "[plugin %u] %s\n", level, line);
    alloc_fail_resume(was);
}

/* The runtime's send: decodes the batch, counts its rows and acknowledges it at once (a verdict
 * may come before the send returns). Once every row is in, the injection ends: what the plugin
 * allocates while it polls on is not part of the run. */
static int32_t plugin_send(uint32_t id, uint64_t batch_id, const uint8_t *p, size_t len)
{
    bool was = alloc_fail_pause();
    ifx_pc_produced it;
    ifx_err e;
    bool done = false;
    pthread_mutex_lock(&ph.mu);
    if (pc_host_produced_begin(&it, p, len, &e))
        ph.bad = true;
    while (!ph.bad && !done) {
        ifx_produced_view v;
        if (pc_host_produced_next(&it, &v, &done, &e)) {
            ph.bad = true;
            break;
        }
        if (done)
            break;
        long row = value_of(V3, v.payload, v.payload_len);
        if (row < 0 || row >= ROWS || ph.delivered >= ROWS * 4) {
            ph.bad = true;
            break;
        }
        ph.seen[row]++;
        ph.order[ph.delivered++] = row;
    }
    if (ph.delivered >= ROWS)
        alloc_fail_disarm();
    pthread_cond_broadcast(&ph.cond);
    pthread_mutex_unlock(&ph.mu);
    int32_t rc = p_result(id, batch_id, 0);
    alloc_fail_resume(was);
    return rc == 0 ? 0 : -1;
}

/* The k-th allocation after handle_v2 is called fails, on any of the plugin's threads, once.
 * The plugin gets over it on its own (a failed poll is retried, a batch it cannot build is
 * produced again) and delivers every row exactly once, in time order, within 5 s. */
static void test_plugin_each_allocation(void **state)
{
    char json[1024];
    long k;
    size_t handle_failed = 0;
    (void)state;
    if (real_v2)
        return;
    void *lib = dlopen(IFX_SOURCE_PLUGIN, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(lib);
    *(void **)&p_open = dlsym(lib, "iggy_source_open");
    *(void **)&p_handle = dlsym(lib, "iggy_source_handle_v2");
    *(void **)&p_result = dlsym(lib, "iggy_source_batch_result");
    *(void **)&p_close = dlsym(lib, "iggy_source_close");
    assert_true(p_open && p_handle && p_result && p_close);
    source_json(V3, json, sizeof json);
    atomic_store(&oom_lines, 0);

    for (k = 1; k <= MAX_K; k++) {
        uint32_t id = (uint32_t)(1000 + k);
        pthread_mutex_lock(&ph.mu);
        memset(ph.seen, 0, sizeof ph.seen);
        ph.delivered = 0;
        ph.bad = false;
        pthread_mutex_unlock(&ph.mu);
        assert_int_equal(p_open(id, (const uint8_t *)json, strlen(json), NULL, 0, plugin_log), 0);

        alloc_fail_arm_all(k);
        int32_t handled = p_handle(id, plugin_send);
        bool complete = false;
        if (handled == 0) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 5;
            pthread_mutex_lock(&ph.mu);
            while (ph.delivered < ROWS && !ph.bad &&
                   pthread_cond_timedwait(&ph.cond, &ph.mu, &until) == 0)
                ;
            complete = ph.delivered >= ROWS;
            pthread_mutex_unlock(&ph.mu);
        }
        alloc_fail_disarm();
        bool hit = alloc_fail_hit();
        assert_int_equal(p_close(id), 0);

        if (handled != 0) {
            /* handle_v2 could not start polling (its thread): it says so, delivers nothing */
            if (!hit)
                fail_msg("k=%ld: handle_v2 returned %d with no failed allocation", k, handled);
            assert_int_equal(ph.delivered, 0);
            handle_failed++;
            continue;
        }
        if (ph.bad)
            fail_msg("k=%ld: a batch the host could not read", k);
        if (!complete)
            fail_msg("k=%ld: %zu of %d rows after 5 s (a failure the plugin does not get over)", k,
                     ph.delivered, ROWS);
        for (int v = 0; v < ROWS; v++)
            if (ph.seen[v] != 1)
                fail_msg("plugin k=%ld: row %d delivered %d times", k, v, ph.seen[v]);
        for (size_t i = 1; i < ROWS; i++)
            if (ph.order[i] / PER_T < ph.order[i - 1] / PER_T)
                fail_msg("plugin k=%ld: row %ld delivered after row %ld", k, ph.order[i],
                         ph.order[i - 1]);
        if (!hit)
            break;
    }
    if (k > MAX_K)
        fail_msg("plugin: a run still met an injected failure after %d runs", MAX_K);
    fprintf(stderr,
            "plugin: %ld allocations failed in turn; handle_v2 refused %zu times; %zu log lines "
            "said out of memory\n",
            k - 1, handle_failed, atomic_load(&oom_lines));
    assert_true(k > 10);
    assert_true(atomic_load(&oom_lines) > 0);
    dlclose(lib);
}

static int setup(void **state)
{
    char *a1[] = {"python3", IFX_SOURCE_DIR "/tests/fixtures/influxdb1.py", "--influxd", INFLUXD,
                  NULL};
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (v2_start(&v2))
        return -1;
    v2_reset(&v2);
    write_rows(V2);
    if (real_v2)
        return 0;
    if (fixture_start_stand_in(&v3, "v3", TOKEN) || fixture_start(&v1, a1, 90))
        return -1;
    write_rows(V3);
    write_rows(V1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (!real_v2) {
        fixture_stop(&v3);
        fixture_stop(&v1);
    }
    v2_stop(&v2);
    return 0;
}

int main(void)
{
    v2_skip_if_unavailable("test_source_oom (real InfluxDB 2.7)");
    real_v2 = v2_real();
    if (getenv("IFX_TEST_FILTER")) /* one test at a time, when looking into one */
        cmocka_set_test_filter(getenv("IFX_TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v3_each_allocation),
        cmocka_unit_test(test_v3_from_each_allocation_on),
        cmocka_unit_test(test_v2_each_allocation),
        cmocka_unit_test(test_v1_each_allocation),
        cmocka_unit_test(test_plugin_each_allocation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
