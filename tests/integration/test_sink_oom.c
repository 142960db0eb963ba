/* The sink out of memory: the k-th allocation a consume makes on its own thread fails, for every
 * k from 1 until a consume makes no more, so that each allocation of the consume path (a cold
 * encoder, its buffers and tables, the line builder, the handover to the sender, the spool
 * record, the synchronous fallback's request, a dead-letter record) fails once in some run.
 *
 * Whatever fails, no message is lost without a trace: the counters add up (received = written +
 * rejected + pending, nothing pending with the server up), and each message is exactly one of:
 * stored by the server, a record in the dead-letter file, or an ERROR line naming its offset
 * (when even its dead-letter record could not be built). A consume that fails says "out of
 * memory". Against the v3 test server, without and with a spool.
 *
 * Two modes: one allocation fails and the next ones succeed (each recovery path), or every
 * allocation from the k-th on fails until consume returns (memory stays short: the fallbacks fail
 * too). Allocation failures are injected on the consuming thread only (support/alloc_fail.h):
 * the sender and spool threads and the test server are left alone. Plain build only. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "abi_host.h"
#include "alloc_fail.h"
#include "admin.h"
#include "cli_run.h"
#include "fixture.h"
#include "ifx/config.h"
#include "ifx/buf.h"
#include "ifx/sink.h"
#include "iggy/iggy_abi.h"
#include "postcard_host.h"
#include "sink_message.h"

#define TOKEN "ifx-test-token"
#define N     35 /* messages per consume: four chunks of batch_size 10 */
#define BAD   7  /* the offset whose payload is not JSON: rejected by the encoder in every run */
#define MAX_K 2000

/* ---- the log, kept without allocating ------------------------------------------------------ */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char logbuf[1 << 16];
static size_t loglen;

static void keep_log(void *ud, int level, const char *msg)
{
    (void)ud;
    if (level < IFX_LOG_WARN)
        return;
    pthread_mutex_lock(&log_lock);
    int w = snprintf(logbuf + loglen, sizeof logbuf - loglen, "%d %s\n", level, msg);
    if (w > 0 && (size_t)w < sizeof logbuf - loglen)
        loglen += (size_t)w;
    pthread_mutex_unlock(&log_lock);
}

/* ---- the server and the messages ----------------------------------------------------------- */

static fixture v3;
static char dir[] = "/tmp/ifx-sink-oom-XXXXXX";
static const char good[] = "{\"v\":1,\"s\":\"text\"}";
static const char bad[] = "{\"v\":";
static ifx_sink_message m[N];

static ifx_sink *open_sink(const char *dl, const char *spool)
{
    char json[2048], extra[600] = "";
    ifx_config cfg;
    ifx_sink *s;
    ifx_err e;
    if (spool)
        snprintf(extra, sizeof extra, ",\"spool_dir\":\"%s\"", spool);
    snprintf(json, sizeof json,
             "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"iggy\",\"token\":"
             "\"" TOKEN "\",\"retry_delay\":\"10ms\",\"retry_max_delay\":\"50ms\","
             "\"max_open_retries\":2,\"stats_interval\":\"0s\",\"batch_size\":10,"
             "\"dead_letter_file\":\"%s\"%s}",
             v3.port, dl, extra);
    if (ifx_config_parse_json(&cfg, IFX_ROLE_SINK, json, strlen(json), NULL, &e))
        fail_msg("config: %s", e.msg);
    if (ifx_sink_open(&cfg, keep_log, NULL, &s, &e))
        fail_msg("sink open: %s", e.msg);
    ifx_config_free(&cfg);
    return s;
}

static bool stored_offset(json_t *pts, uint64_t offset)
{
    long long t = (long long)(1764118800000000ULL + offset) * 1000;
    size_t i;
    json_t *p;
    json_array_foreach(pts, i,
                       p) if (json_integer_value(json_object_get(p, "time")) == t) return true;
    return false;
}

/* How many times text names offset o the way a dead-letter record ("offset":o,) or a rejected
 * message's log line (offset=o id=) does. */
static size_t count_named(const char *text, const char *fmt, uint64_t o)
{
    char want[64];
    size_t n = 0;
    snprintf(want, sizeof want, fmt, (unsigned long long)o);
    for (const char *p = text; (p = strstr(p, want)); p++)
        n++;
    return n;
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (const char *p = text; (p = strchr(p, '\n')); p++)
        n++;
    return n;
}

/* Waits until the spool has handed every record to the server (or 10 s pass). */
static void wait_settled(ifx_sink *s)
{
    ifx_sink_stats st;
    for (int i = 0; i < 1000; i++) {
        ifx_sink_get_stats(s, &st);
        if (st.spool_records == 0 && st.written + st.rejected + st.pending == st.received)
            return;
        usleep(10000);
    }
}

/* What a run left: the server's points, the dead-letter file, the log. */
typedef struct outcome {
    json_t *pts;
    char *records, *log;
} outcome;

static void outcome_read(outcome *o, const char *dl)
{
    o->pts = admin_call(v3.port, "GET", "/__admin/points?db=iggy", NULL);
    o->records = test_slurp(dl);
    if (!o->records)
        o->records = strdup("");
    pthread_mutex_lock(&log_lock);
    o->log = strdup(logbuf);
    pthread_mutex_unlock(&log_lock);
}

static void outcome_free(outcome *o)
{
    json_decref(o->pts);
    free(o->records);
    free(o->log);
}

/* Each message is exactly one of: stored, dead-lettered, named in an ERROR line (the bad one
 * never stored). Returns how many were named in the log only. */
static size_t check_each_once(const char *label, long k, const outcome *o)
{
    size_t in_log = 0;
    for (uint64_t off = 0; off < N; off++) {
        size_t st_o = stored_offset(o->pts, off),
               dl_o = count_named(o->records, "\"offset\":%llu,", off),
               log_o = count_named(o->log, "offset=%llu id=", off);
        if (st_o + dl_o + log_o != 1 || (off == BAD && st_o))
            fail_msg("%s k=%ld: offset %llu stored %zu, dead-lettered %zu, logged %zu\n"
                     "records:\n%s\nlog:\n%s",
                     label, k, (unsigned long long)off, st_o, dl_o, log_o, o->records, o->log);
        in_log += log_o;
    }
    return in_log;
}

static void log_clear(void)
{
    pthread_mutex_lock(&log_lock);
    loglen = 0;
    logbuf[0] = '\0';
    pthread_mutex_unlock(&log_lock);
}

/* Runs k = 1, 2, ... until a consume meets no failure; checks every run. */
typedef enum { ONE_FAILURE, FROM_THERE_ON, ANY_THREAD } oom_mode;

static void run_all(const char *label, bool with_spool, oom_mode mode)
{
    size_t failed_calls = 0, taken_away = 0,
           logged_only = 0; /* taken_away: messages rejected for memory */
    long k;

    for (size_t i = 0; i < N; i++)
        m[i] = test_sink_message(i, i == BAD ? bad : good);

    for (k = 1; k <= MAX_K; k++) {
        char dl[256], spool[256];
        ifx_err e;

        json_decref(admin_call(v3.port, "POST", "/__admin/reset", NULL));
        snprintf(dl, sizeof dl, "%s/%s-%ld.jsonl", dir, label, k);
        snprintf(spool, sizeof spool, "%s/%s-spool-%ld", dir, label, k);
        ifx_sink *s = open_sink(dl, with_spool ? spool : NULL);
        log_clear();

        if (mode == ANY_THREAD)
            alloc_fail_arm_all(k);
        else
            alloc_fail_arm(k, mode == FROM_THERE_ON);
        ifx_rc rc = ifx_sink_consume(s, m, N, &e);
        /* Any thread: the spool's delivery thread sends after consume returns, so its
         * allocations stay armed until the spool has settled. */
        if (with_spool && mode == ANY_THREAD)
            wait_settled(s);
        alloc_fail_disarm();
        bool hit = alloc_fail_hit();
        if (with_spool)
            wait_settled(s);

        ifx_sink_stats st;
        ifx_sink_get_stats(s, &st);
        outcome out;
        outcome_read(&out, dl);

        if (rc != IFX_OK) {
            if (!hit || rc != IFX_E_NOMEM || !strstr(e.msg, "out of memory"))
                fail_msg("%s k=%ld: consume returned %d (%s), injected %d", label, k, rc, e.msg,
                         hit);
            failed_calls++;
        }
        /* the counters add up, and nothing waits: the server is up */
        if (st.received != N || st.written + st.rejected + st.pending != N || st.pending != 0)
            fail_msg("%s k=%ld: received %llu written %llu rejected %llu pending %llu (spooled "
                     "%llu, spool records %llu)\nlog:\n%s",
                     label, k, (unsigned long long)st.received, (unsigned long long)st.written,
                     (unsigned long long)st.rejected, (unsigned long long)st.pending,
                     (unsigned long long)st.spooled, (unsigned long long)st.spool_records, out.log);
        size_t in_log = check_each_once(label, k, &out);
        assert_int_equal(json_array_size(out.pts), st.written);
        assert_int_equal(count_lines(out.records) + in_log, st.rejected);
        taken_away += st.rejected - 1; /* all but the bad one */
        logged_only += in_log;
        outcome_free(&out);
        ifx_sink_close(s);
        if (!hit) {
            /* past the last allocation: the whole call went through */
            assert_int_equal(rc, IFX_OK);
            assert_int_equal(st.written, N - 1);
            break;
        }
    }
    if (k > MAX_K)
        fail_msg("%s: a consume still met an injected failure after %d runs", label, MAX_K);
    fprintf(stderr,
            "%s: %ld allocations failed in turn; %zu consumes returned out of memory, %zu "
            "rejected messages for it, %zu messages named only in the log\n",
            label, k - 1, failed_calls, taken_away, logged_only);
    /* the injection reached the paths it is for */
    assert_true(k > 5);
    assert_true(failed_calls > 0);
    assert_true(taken_away > 0);
}

/* One allocation fails, the next ones succeed. */
static void test_oom_each_allocation(void **state)
{
    (void)state;
    run_all("direct", false, ONE_FAILURE);
}

static void test_oom_each_allocation_spool(void **state)
{
    (void)state;
    run_all("spool", true, ONE_FAILURE);
}

/* From the k-th allocation on, every one fails until consume returns: the fallbacks (a chunk
 * sent on the consuming thread when it cannot be handed over, a batch written directly when the
 * spool cannot take it) fail too, and so do the dead-letter records. */
static void test_oom_from_each_allocation_on(void **state)
{
    (void)state;
    run_all("direct-persistent", false, FROM_THERE_ON);
}

static void test_oom_from_each_allocation_on_spool(void **state)
{
    (void)state;
    run_all("spool-persistent", true, FROM_THERE_ON);
}

/* The k-th allocation of any thread fails: the sender thread's too (its request, the writer's
 * narrowing, libcurl inside it), which the consuming thread waits for. The consume still settles
 * every message while the server is up. */
static void test_oom_any_thread(void **state)
{
    (void)state;
    run_all("any-thread", false, ANY_THREAD);
}

/* The same with a spool: the k-th allocation of any thread fails, the spool's delivery thread's
 * included (reading a record, its tables, the requests, marking it delivered), until the spool
 * is empty. Each record still reaches the server once: a failed allocation there is a failure
 * like a server's, retried, never a lost or repeated record. */
static void test_oom_any_thread_spool(void **state)
{
    (void)state;
    run_all("any-thread-spool", true, ANY_THREAD);
}

/* ---- the plugin: the same, one level up -------------------------------------------------- */

static iggy_sink_open_fn plugin_open;
static iggy_sink_consume_fn plugin_consume;
static iggy_sink_close_fn plugin_close;

/* The runtime's log callback: kept like the engine's log, and not counted (a host's own
 * allocations are not the plugin's). */
static void plugin_log(uint8_t level, const uint8_t *target, size_t target_len, const uint8_t *msg,
                       size_t msg_len)
{
    bool was = alloc_fail_pause();
    (void)target;
    (void)target_len;
    char line[2048];
    snprintf(line, sizeof line, "%.*s", (int)msg_len, (const char *)msg);
    keep_log(NULL, level, line); /* the runtime's levels are ifx's (iggy_abi.h) */
    alloc_fail_resume(was);
}

/* The plugin loses no message either: each allocation of iggy_sink_consume fails in turn. A
 * batch the plugin cannot take at all is named in one ERROR line ("the batch of 35 messages ...
 * is not taken"; nothing of it is written or dead-lettered); otherwise each message is stored,
 * dead-lettered or logged exactly once, and a consume that fails logs why. */
static void test_plugin_oom_each_allocation(void **state)
{
    const char *names[] = {"iggy_sink_open", "iggy_sink_consume", "iggy_sink_close"};
    void **slots[] = {(void **)&plugin_open, (void **)&plugin_consume, (void **)&plugin_close};
    ifx_buf tm, mm, raw;
    ifx_raw_message rm[N];
    size_t whole_batch = 0, failed_calls = 0;
    long k;
    (void)state;

    void *lib = abi_load(IFX_SINK_PLUGIN, names, slots, 3, "sink");
    assert_non_null(lib);
    for (size_t i = 0; i < N; i++) {
        const char *p = i == BAD ? bad : good;
        rm[i] = (ifx_raw_message){.id = {0, 1000 + i},
                                  .offset = i,
                                  .checksum = 1,
                                  .timestamp = 1764118800000000ULL + i,
                                  .origin_timestamp = 1764118700000000ULL + i,
                                  .payload = (const uint8_t *)p,
                                  .payload_len = strlen(p)};
    }
    ifx_messages_meta meta = {3, N + 5, IFX_SCHEMA_JSON};
    ifx_buf_init(&tm, 1 << 16);
    ifx_buf_init(&mm, 64);
    ifx_buf_init(&raw, 1 << 20);
    assert_int_equal(pc_host_encode_topic_meta(&tm, "orders", "eu"), IFX_OK);
    assert_int_equal(pc_host_encode_messages_meta(&mm, &meta), IFX_OK);
    assert_int_equal(pc_host_encode_raw_messages(&raw, IFX_SCHEMA_JSON, rm, N), IFX_OK);

    for (k = 1; k <= MAX_K; k++) {
        char dl[256], json[1024];
        uint32_t id = abi_new_id();

        json_decref(admin_call(v3.port, "POST", "/__admin/reset", NULL));
        snprintf(dl, sizeof dl, "%s/plugin-%ld.jsonl", dir, k);
        snprintf(json, sizeof json,
                 "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"iggy\",\"token\":"
                 "\"" TOKEN "\",\"retry_delay\":\"10ms\",\"stats_interval\":\"0s\","
                 "\"batch_size\":10,\"dead_letter_file\":\"%s\"}",
                 v3.port, dl);
        assert_int_equal(plugin_open(id, (const uint8_t *)json, strlen(json), plugin_log), 0);
        log_clear();

        alloc_fail_arm(k, false);
        int32_t rc = plugin_consume(id, (const uint8_t *)tm.data, tm.len, (const uint8_t *)mm.data,
                                    mm.len, (const uint8_t *)raw.data, raw.len);
        alloc_fail_disarm();
        bool hit = alloc_fail_hit();
        assert_int_equal(plugin_close(id), 0);

        outcome out;
        outcome_read(&out, dl);
        bool not_taken =
            strstr(out.log, "consume: out of memory: the batch of 35 messages "
                            "(stream orders, topic eu, partition 3) is not taken") != NULL;
        if (rc != 0) {
            failed_calls++;
            if (!hit || !strstr(out.log, "consume: "))
                fail_msg("plugin k=%ld: consume returned %d without a reason\n%s", k, rc, out.log);
        }
        if (not_taken) {
            whole_batch++;
            assert_int_not_equal(rc, 0);
            assert_int_equal(json_array_size(out.pts), 0);
            assert_string_equal(out.records, "");
        } else {
            check_each_once("plugin", k, &out);
        }
        outcome_free(&out);
        if (!hit) {
            assert_int_equal(rc, 0);
            break;
        }
    }
    if (k > MAX_K)
        fail_msg("plugin: a consume still met an injected failure after %d runs", MAX_K);
    fprintf(stderr,
            "plugin: %ld allocations failed in turn; %zu consumes returned an error, %zu batches "
            "not taken at all\n",
            k - 1, failed_calls, whole_batch);
    assert_true(whole_batch > 0);
    assert_true(failed_calls > whole_batch);
    ifx_buf_free(&tm);
    ifx_buf_free(&mm);
    ifx_buf_free(&raw);
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
        cmocka_unit_test(test_oom_each_allocation),
        cmocka_unit_test(test_oom_each_allocation_spool),
        cmocka_unit_test(test_oom_from_each_allocation_on),
        cmocka_unit_test(test_oom_from_each_allocation_on_spool),
        cmocka_unit_test(test_oom_any_thread),
        cmocka_unit_test(test_oom_any_thread_spool),
        cmocka_unit_test(test_plugin_oom_each_allocation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
