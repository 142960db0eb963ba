/* The upstream Rust sink's defects (../shared/spec/upstream-rust-connector.md §6.2) as
 * regressions, plus the fault scenarios of the delivery contract: the server down at start,
 * a kill -9 of `ifx sink` with a spool. Each test states the upstream behaviour it guards
 * against. (S1 backpressure/spool, S2 poison, S5 partial writes, S6 offset_as, S8 newlines and
 * S14 timestamp sources are in test_sink.c; S9, S12, S16 in test_config.c; S11, S13 in
 * test_client_v23.c and test_resilience.c.) Issue 10's three defects are here at the sink, each
 * counting received = written + rejected + pending and reading the dead letters and the log;
 * test_client_v23.c has them at the writer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "admin.h"
#include "cli_run.h"
#include "fixture.h"
#include "ifx/config.h"
#include "ifx/resilience.h"
#include "ifx/sink.h"

#define TOKEN "ifx-test-token"

static fixture v3, v2;
static char dir[] = "/tmp/ifx-sink-defects-XXXXXX";

static void quiet_log(void *ud, int level, const char *msg)
{
    (void)ud;
    if (getenv("IFX_TEST_VERBOSE"))
        fprintf(stderr, "[sink %d] %s\n", level, msg);
}

static ifx_rc open_v3_logged(const char *extra, ifx_log_fn log, void *log_ud, ifx_sink **s,
                             ifx_err *e)
{
    char json[1024];
    ifx_config cfg;
    snprintf(json, sizeof json,
             "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"iggy\",\"retry_delay\":"
             "\"10ms\",\"retry_max_delay\":\"50ms\",\"max_open_retries\":2,\"stats_interval\":"
             "\"0s\"%s%s}",
             v3.port, extra ? "," : "", extra ? extra : "");
    if (ifx_config_parse_json(&cfg, IFX_ROLE_SINK, json, strlen(json), NULL, e))
        fail_msg("config: %s", e->msg);
    ifx_rc rc = ifx_sink_open(&cfg, log, log_ud, s, e);
    ifx_config_free(&cfg);
    return rc;
}

static ifx_rc open_v3(const char *extra, ifx_sink **s, ifx_err *e)
{
    return open_v3_logged(extra, quiet_log, NULL, s, e);
}

static ifx_sink_message msg(uint64_t offset, const char *payload, size_t len)
{
    ifx_sink_message m = {.stream = "s",
                          .stream_len = 1,
                          .topic = "t",
                          .topic_len = 1,
                          .partition = 1,
                          .offset = offset,
                          .id = {0, offset},
                          .timestamp_us = 1700000000000000ULL + offset,
                          .payload = (const uint8_t *)payload,
                          .payload_len = len};
    return m;
}

static size_t stored(fixture *f, const char *db)
{
    char path[128];
    snprintf(path, sizeof path, "/__admin/points?db=%s", db);
    json_t *p = admin_call(f->port, "GET", path, NULL);
    size_t n = json_array_size(p);
    json_decref(p);
    return n;
}

/* S3/S4: upstream's health check sends no token, so a secured v3 fails it, and a wrong token
 * passes open and then loses every write. ifx authenticates the probe: the right token opens,
 * a wrong one is refused at open. */
static void test_s3_s4_token_checked_at_open(void **state)
{
    ifx_sink *s;
    ifx_err e;
    (void)state;
    assert_int_equal(open_v3("\"token\":\"" TOKEN "\"", &s, &e), IFX_OK);
    ifx_sink_close(s);
    assert_int_equal(open_v3("\"token\":\"wrong\"", &s, &e), IFX_E_AUTH);
    assert_non_null(strstr(e.msg, "HTTP 401 from /health"));
}

struct consume_arg {
    ifx_sink *s;
    ifx_sink_message *m;
    size_t n;
    ifx_rc rc;
};

static void *consume_thread(void *p)
{
    struct consume_arg *a = p;
    ifx_err e;
    a->rc = ifx_sink_consume(a->s, a->m, a->n, &e);
    return NULL;
}

/* S3: upstream drops a batch answered 404 (unknown bucket). ifx keeps it pending: it is a
 * configuration error, not bad data; the counters say so at close. */
static void test_s3_unknown_bucket_is_not_dropped(void **state)
{
    char json[512];
    ifx_config cfg;
    ifx_sink *s;
    ifx_err e;
    pthread_t th;
    (void)state;
    snprintf(
        json, sizeof json,
        "{\"url\":\"http://127.0.0.1:%d\",\"org\":\"iggy\",\"bucket\":\"nope\",\"token\":\"" TOKEN
        "\",\"retry_delay\":\"10ms\",\"stats_interval\":\"0s\"}",
        v2.port);
    assert_int_equal(ifx_config_parse_json(&cfg, IFX_ROLE_SINK, json, strlen(json), NULL, &e),
                     IFX_OK);
    assert_int_equal(ifx_sink_open(&cfg, quiet_log, NULL, &s, &e), IFX_OK);
    ifx_config_free(&cfg);
    ifx_sink_message m[2] = {msg(1, "{}", 2), msg(2, "{}", 2)};
    struct consume_arg a = {s, m, 2, IFX_OK};
    pthread_create(&th, NULL, consume_thread, &a);
    ifx_sleep(NULL, 300000000ULL);
    ifx_sink_stats st;
    ifx_sink_get_stats(s, &st);
    assert_int_equal(st.pending, 2);
    assert_int_equal(st.rejected, 0);
    ifx_sink_request_stop(s);
    pthread_join(th, NULL);
    assert_int_not_equal(a.rc, IFX_OK);
    ifx_sink_close(s);
}

/* S10: upstream sends anything and loses the whole chunk to a 413 or a >64 KiB string. ifx
 * rejects the oversized message alone and keeps requests under max_batch_bytes. */
static void test_s10_size_guards(void **state)
{
    ifx_sink *s;
    ifx_err e;
    ifx_sink_stats st;
    (void)state;
    json_decref(admin_call(v3.port, "POST", "/__admin/reset", NULL));
    assert_int_equal(
        open_v3("\"token\":\"" TOKEN "\",\"max_batch_bytes\":4096,\"gzip\":false", &s, &e), IFX_OK);
    static char big[70000];
    big[0] = '"';
    memset(big + 1, 'x', sizeof big - 3);
    big[sizeof big - 2] = '"';
    big[sizeof big - 1] = '\0';
    static char medium[1100];
    snprintf(medium, sizeof medium, "\"%01000d\"", 7);
    ifx_sink_message m[21];
    for (int i = 0; i < 20; i++)
        m[i] = msg((uint64_t)i, medium, strlen(medium));
    m[20] = msg(20, big, strlen(big));
    assert_int_equal(ifx_sink_consume(s, m, 21, &e), IFX_OK);
    ifx_sink_get_stats(s, &st);
    assert_int_equal(st.written, 20);
    assert_int_equal(st.rejected, 1);
    assert_true(st.requests >= 5); /* 20 lines of ~1.2 KB in requests of at most 4 KiB */
    json_t *reqs = admin_call(v3.port, "GET", "/__admin/requests", NULL);
    size_t i;
    json_t *r;
    json_array_foreach(reqs, i, r)
        assert_true(json_integer_value(json_object_get(r, "body_len")) <= 4096);
    json_decref(reqs);
    assert_int_equal(stored(&v3, "iggy"), 20);
    ifx_sink_close(s);
}

/* The server down at start (every request fails, /health included): open succeeds and warns,
 * consume holds the batch, and it is written once the server answers. */
static void test_server_down_at_start(void **state)
{
    ifx_sink *s;
    ifx_err e;
    pthread_t th;
    (void)state;
    json_decref(admin_call(v3.port, "POST", "/__admin/reset", NULL));
    json_decref(admin_call(v3.port, "POST", "/__admin/fault", "{\"count\":100000,\"close\":true}"));
    /* the breaker opens while the server is down: a short cool-down keeps the test short */
    assert_int_equal(
        open_v3("\"token\":\"" TOKEN "\",\"circuit_breaker_cool_down\":\"300ms\"", &s, &e), IFX_OK);
    ifx_sink_message m[3] = {msg(1, "{}", 2), msg(2, "{}", 2), msg(3, "{}", 2)};
    struct consume_arg a = {s, m, 3, IFX_E_USAGE};
    pthread_create(&th, NULL, consume_thread, &a);
    ifx_sleep(NULL, 400000000ULL);
    assert_int_equal(stored(&v3, "iggy"), 0);
    json_decref(admin_call(v3.port, "DELETE", "/__admin/fault", NULL));
    pthread_join(th, NULL);
    assert_int_equal(a.rc, IFX_OK);
    assert_int_equal(stored(&v3, "iggy"), 3);
    ifx_sink_close(s);
}

/* The log lines of a sink, counted (ud of capture_log). */
typedef struct log_capture {
    pthread_mutex_t mu;
    const char *text; /* counted in matching */
    int errors, matching, recovered;
} log_capture;

static void capture_log(void *ud, int level, const char *text)
{
    log_capture *c = ud;
    quiet_log(NULL, level, text);
    pthread_mutex_lock(&c->mu);
    c->errors += level == IFX_LOG_ERROR;
    c->matching += level == IFX_LOG_ERROR && strstr(text, c->text) != NULL;
    c->recovered += strstr(text, "writes succeed again") != NULL;
    pthread_mutex_unlock(&c->mu);
}

/* Lines of a file (dead letters), each checked to contain want when not NULL. */
static size_t file_lines(const char *path, const char *want)
{
    FILE *f = fopen(path, "r");
    char line[8192];
    size_t n = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        if (want && !strstr(line, want))
            fail_msg("dead letter without \"%s\": %s", want, line);
        n++;
    }
    fclose(f);
    return n;
}

static void expect_counts_add_up(ifx_sink *s, ifx_sink_stats *st)
{
    ifx_sink_get_stats(s, st);
    assert_int_equal(st->received, st->written + st->rejected + st->pending);
}

/* Issue 10 (2) at the sink: a v3 database soft-deleted (400, no line named) while messages
 * come in. Upstream-style halving dead-lettered all 8; now they stay pending, one ERROR line
 * quotes the server however long it lasts, each later attempt costs one request, and all 8
 * are written once the server takes them. */
static void test_issue10_request_refusal_keeps_messages(void **state)
{
    char dl[300], extra[512];
    static log_capture lc = {.mu = PTHREAD_MUTEX_INITIALIZER,
                             .text =
                                 "cannot write to soft-deleted database 'iggy' - it is marked for "
                                 "deletion"};
    ifx_sink *s;
    ifx_sink_stats st;
    ifx_err e;
    pthread_t th;
    (void)state;
    json_decref(admin_call(v3.port, "POST", "/__admin/reset", NULL));
    snprintf(dl, sizeof dl, "%s/refused.jsonl", dir);
    snprintf(extra, sizeof extra,
             "\"token\":\"" TOKEN "\",\"dead_letter_file\":\"%s\",\"gzip\":false", dl);
    assert_int_equal(open_v3_logged(extra, capture_log, &lc, &s, &e), IFX_OK);
    json_decref(admin_call(v3.port, "POST", "/__admin/fault",
                           "{\"refuse\":\"soft_deleted_database\",\"persist\":true}"));
    ifx_sink_message m[8];
    for (int i = 0; i < 8; i++)
        m[i] = msg((uint64_t)i, "{\"v\":1}", 7);
    struct consume_arg a = {s, m, 8, IFX_E_USAGE};
    pthread_create(&th, NULL, consume_thread, &a);
    for (int i = 0; i < 100; i++) {
        ifx_sink_get_stats(s, &st);
        if (st.requests >= 6)
            break;
        ifx_sleep(NULL, 50000000ULL);
    }
    expect_counts_add_up(s, &st);
    assert_true(st.requests >= 6);
    assert_int_equal(st.received, 8);
    assert_int_equal(st.pending, 8);
    assert_int_equal(st.written + st.rejected, 0);
    assert_int_equal(file_lines(dl, NULL), 0);
    pthread_mutex_lock(&lc.mu);
    assert_int_equal(lc.errors, 1);
    assert_int_equal(lc.matching, 1);
    pthread_mutex_unlock(&lc.mu);
    /* the batch, its first and last line alone, then the batch once per attempt */
    json_t *reqs = admin_call(v3.port, "GET", "/__admin/requests", NULL);
    size_t want_len[] = {0, 0, 0, 0}, i, k = 0;
    json_t *r;
    json_array_foreach(reqs, i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "path")), "/api/v3/write_lp") != 0)
            continue; /* the health probe at open */
        if (k < 4)
            want_len[k++] = (size_t)json_integer_value(json_object_get(r, "body_len"));
        assert_int_equal(json_integer_value(json_object_get(r, "status")), 400);
    }
    assert_true(want_len[1] * 7 < want_len[0] && want_len[2] * 7 < want_len[0]);
    assert_int_equal(want_len[3], want_len[0]);
    json_decref(reqs);

    json_decref(admin_call(v3.port, "DELETE", "/__admin/fault", NULL));
    pthread_join(th, NULL);
    assert_int_equal(a.rc, IFX_OK);
    expect_counts_add_up(s, &st);
    assert_int_equal(st.written, 8);
    assert_int_equal(st.rejected + st.pending, 0);
    assert_int_equal(stored(&v3, "iggy"), 8);
    assert_int_equal(file_lines(dl, NULL), 0);
    pthread_mutex_lock(&lc.mu);
    assert_int_equal(lc.recovered, 1);
    assert_int_equal(lc.errors, 1);
    pthread_mutex_unlock(&lc.mu);
    ifx_sink_close(s);
}

struct timed_consume {
    struct consume_arg a;
    _Atomic int done;
};

static void *timed_consume_thread(void *p)
{
    struct timed_consume *t = p;
    consume_thread(&t->a);
    atomic_store(&t->done, 1);
    return NULL;
}

/* Issue 10 (1) at the sink: 1000 messages whose field type conflicts with the table. InfluxDB 3
 * answers with all 1000 lines listed, ~170 KB; that used to fail the transfer and the sink
 * retried the batch forever. Now all 1000 are dead-lettered with the server's reason, in a
 * few requests, and consume returns. */
static void test_issue10_refusal_answer_over_64k(void **state)
{
    static ifx_sink_message m[1000];
    static char payload[] = "{\"v\":1}";
    char dl[300], extra[512];
    ifx_sink *s;
    ifx_sink_stats st;
    ifx_err e;
    pthread_t th;
    (void)state;
    json_decref(admin_call(v3.port, "POST", "/__admin/reset", NULL));
    snprintf(dl, sizeof dl, "%s/conflict.jsonl", dir);
    snprintf(extra, sizeof extra,
             "\"token\":\"" TOKEN "\",\"dead_letter_file\":\"%s\",\"payload_format\":"
             "\"json_fields\",\"batch_size\":1000,\"gzip\":false",
             dl);
    assert_int_equal(open_v3(extra, &s, &e), IFX_OK);
    ifx_sink_message seed = msg(5000, "{\"v\":\"text\"}", 12);
    assert_int_equal(ifx_sink_consume(s, &seed, 1, &e), IFX_OK);
    ifx_sink_get_stats(s, &st);
    uint64_t requests_before = st.requests;
    for (int i = 0; i < 1000; i++)
        m[i] = msg((uint64_t)i, payload, strlen(payload));
    struct timed_consume t = {{s, m, 1000, IFX_E_USAGE}, 0};
    pthread_create(&th, NULL, timed_consume_thread, &t);
    for (int i = 0; i < 200 && !atomic_load(&t.done); i++)
        ifx_sleep(NULL, 50000000ULL);
    if (!atomic_load(&t.done)) {
        ifx_sink_get_stats(s, &st);
        ifx_sink_request_stop(s);
        pthread_join(th, NULL);
        fail_msg("consume still blocked after 10 s: %llu requests, %llu pending",
                 (unsigned long long)(st.requests - requests_before),
                 (unsigned long long)st.pending);
    }
    pthread_join(th, NULL);
    assert_int_equal(t.a.rc, IFX_OK);
    expect_counts_add_up(s, &st);
    assert_int_equal(st.received, 1001);
    assert_int_equal(st.written, 1);
    assert_int_equal(st.rejected, 1000);
    assert_int_equal(st.pending, 0);
    printf("1000 refused messages: %llu requests\n",
           (unsigned long long)(st.requests - requests_before));
    assert_true(st.requests - requests_before < 20);
    assert_int_equal(file_lines(dl, "\"reason\":\"invalid column type for column 'v', expected "
                                    "iox::column_type::field::string, got iox::column_type::"
                                    "field::float\""),
                     1000);
    assert_int_equal(stored(&v3, "iggy"), 1);
    ifx_sink_close(s);
}

/* Issue 10 (3) at the sink: a 2.x 422 that says dropped=0 for a point it did not store. The
 * refused message used to count as written and vanish; now it alone is dead-lettered with the
 * server's reason and the other three are written. */
static void test_issue10_wrong_drop_count(void **state)
{
    char json[768], dl[300];
    ifx_config cfg;
    ifx_sink *s;
    ifx_sink_stats st;
    ifx_err e;
    (void)state;
    json_decref(admin_call(v2.port, "POST", "/__admin/reset", NULL));
    snprintf(dl, sizeof dl, "%s/dropped.jsonl", dir);
    snprintf(json, sizeof json,
             "{\"url\":\"http://127.0.0.1:%d\",\"org\":\"iggy\",\"bucket\":\"events\","
             "\"token\":\"" TOKEN "\",\"retry_delay\":\"10ms\",\"stats_interval\":\"0s\","
             "\"payload_format\":\"json_fields\",\"dead_letter_file\":\"%s\"}",
             v2.port, dl);
    assert_int_equal(ifx_config_parse_json(&cfg, IFX_ROLE_SINK, json, strlen(json), NULL, &e),
                     IFX_OK);
    assert_int_equal(ifx_sink_open(&cfg, quiet_log, NULL, &s, &e), IFX_OK);
    ifx_config_free(&cfg);
    ifx_sink_message seed = msg(100, "{\"v\":\"text\"}", 12);
    assert_int_equal(ifx_sink_consume(s, &seed, 1, &e), IFX_OK);
    json_decref(admin_call(v2.port, "POST", "/__admin/fault", "{\"dropped\":0,\"persist\":true}"));
    ifx_sink_message m[4] = {msg(1, "{\"v\":\"a\"}", 9), msg(2, "{\"v\":\"b\"}", 9),
                             msg(3, "{\"v\":3}", 7), msg(4, "{\"v\":\"d\"}", 9)};
    assert_int_equal(ifx_sink_consume(s, m, 4, &e), IFX_OK);
    expect_counts_add_up(s, &st);
    assert_int_equal(st.received, 5);
    assert_int_equal(st.written, 4);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(st.pending, 0);
    assert_int_equal(file_lines(dl, "\"offset\":3,"), 1);
    assert_int_equal(file_lines(dl, "field type conflict: input field \\\"v\\\" on measurement "
                                    "\\\"iggy_messages\\\" is type float, already exists as type "
                                    "string dropped=0"),
                     1);
    assert_int_equal(stored(&v2, "events"), 4);
    json_decref(admin_call(v2.port, "DELETE", "/__admin/fault", NULL));
    ifx_sink_close(s);
}

static int run_ifx(const char *args, pid_t *pid_out)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "exec %s %s >%s/out.json 2>%s/err.txt", IFX_BIN, args, dir, dir);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    if (pid_out) {
        *pid_out = pid;
        return 0;
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* kill -9 of `ifx sink` while its spool holds a batch the server refused: the next start
 * delivers it, and every message is stored exactly once. */
static void test_kill9_with_spool(void **state)
{
    char cfgpath[256], input[256], args[1024], json[512];
    FILE *f;
    pid_t pid;
    (void)state;
    json_decref(admin_call(v3.port, "POST", "/__admin/reset", NULL));
    snprintf(cfgpath, sizeof cfgpath, "%s/sink.json", dir);
    snprintf(
        json, sizeof json,
        "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"iggy\",\"token\":\"" TOKEN
        "\",\"spool_dir\":\"%s/spool\",\"retry_delay\":\"10ms\",\"retry_max_delay\":\"100ms\","
        "\"stats_interval\":\"0s\"}",
        v3.port, dir);
    f = fopen(cfgpath, "w");
    fputs(json, f);
    fclose(f);
    snprintf(input, sizeof input, "%s/messages.jsonl", dir);
    f = fopen(input, "w");
    for (int i = 0; i < 300; i++)
        fprintf(f, "{\"offset\":%d,\"timestamp\":%lld,\"payload\":{\"n\":%d}}\n", i,
                1700000000000000LL + i, i);
    fclose(f);

    json_decref(admin_call(v3.port, "POST", "/__admin/fault",
                           "{\"count\":100000,\"status\":503,\"paths\":[\"/api/v3/write_lp\"]}"));
    snprintf(args, sizeof args, "sink -c %s --input %s", cfgpath, input);
    run_ifx(args, &pid);
    /* the batch is in the spool once the deliverer has tried to write it */
    bool tried = false;
    for (int i = 0; i < 200 && !tried; i++) {
        char *log = admin_text(v3.port, "GET", "/__admin/requests", NULL);
        tried = strstr(log, "/api/v3/write_lp") != NULL;
        free(log);
        if (!tried)
            ifx_sleep(NULL, 50000000ULL);
    }
    assert_true(tried);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    assert_int_equal(stored(&v3, "iggy"), 0);

    json_decref(admin_call(v3.port, "DELETE", "/__admin/fault", NULL));
    snprintf(args, sizeof args, "sink -c %s --input /dev/null", cfgpath);
    assert_int_equal(run_ifx(args, NULL), 0);
    json_t *pts = admin_call(v3.port, "GET", "/__admin/points?db=iggy", NULL);
    assert_int_equal(json_array_size(pts), 300);
    bool seen[300] = {false};
    size_t i;
    json_t *p;
    json_array_foreach(pts, i, p)
    {
        int off = atoi(json_string_value(json_object_get(json_object_get(p, "tags"), "offset")));
        assert_true(off >= 0 && off < 300 && !seen[off]);
        seen[off] = true;
    }
    json_decref(pts);
}

/* Issue 10: the dead-letter file writes the id as a decimal string (ids are u128), and `ifx sink`
 * took only numbers, so a dead-letter line could not be sent again. Now a line of the file is
 * accepted back as input as it is, and its id (here 2^128-1) reaches the server whole. */
static void test_dead_letter_line_fed_back(void **state)
{
    char cfgpath[256], input[256], dl[256], args[1024], json[512];
    FILE *f;
    (void)state;
    json_decref(admin_call(v3.port, "POST", "/__admin/reset", NULL));
    snprintf(cfgpath, sizeof cfgpath, "%s/dl-sink.json", dir);
    snprintf(dl, sizeof dl, "%s/dl-back.jsonl", dir);
    snprintf(
        json, sizeof json,
        "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"iggy\",\"token\":\"" TOKEN
        "\",\"dead_letter_file\":\"%s\",\"payload_format\":\"json_fields\","
        "\"stats_interval\":\"0s\"}",
        v3.port, dl);
    f = fopen(cfgpath, "w");
    fputs(json, f);
    fclose(f);
    snprintf(input, sizeof input, "%s/dl-in.jsonl", dir);
    f = fopen(input, "w");
    fputs("{\"offset\":5,\"id\":\"340282366920938463463374607431768211455\",\"payload\":[1,2]}\n"
          "{\"offset\":6,\"id\":7,\"payload\":{\"a\":1}}\n",
          f);
    fclose(f);
    snprintf(args, sizeof args, "sink -c %s --input %s", cfgpath, input);
    assert_int_equal(run_ifx(args, NULL), 3);
    snprintf(args, sizeof args, "%s/out.json", dir);
    char *out = test_slurp(args);
    assert_non_null(strstr(out, "{\"received\":2,\"written\":1,\"rejected\":1,\"pending\":0,"));
    free(out);
    char *line = test_slurp(dl);
    assert_non_null(
        strstr(line, "\"offset\":5,\"id\":\"340282366920938463463374607431768211455\""));
    free(line);

    /* the same file as input, with a payload_format that takes an array */
    json_decref(admin_call(v3.port, "POST", "/__admin/reset", NULL));
    snprintf(
        args, sizeof args,
        "sink -c %s --input %s --set payload_format=json --set dead_letter_file=%s/dl-again.jsonl",
        cfgpath, dl, dir);
    int st = run_ifx(args, NULL);
    snprintf(args, sizeof args, "%s/out.json", dir);
    out = test_slurp(args);
    snprintf(args, sizeof args, "%s/err.txt", dir);
    char *err = test_slurp(args);
    if (st != 0)
        fail_msg("exit %d\n%s\n%s", st, out, err);
    assert_non_null(strstr(out, "{\"received\":1,\"written\":1,\"rejected\":0,\"pending\":0,"));
    free(out);
    free(err);
    json_t *pts = admin_call(v3.port, "GET", "/__admin/points?db=iggy", NULL);
    assert_int_equal(json_array_size(pts), 1);
    json_t *p = json_array_get(pts, 0);
    json_t *fields = json_object_get(p, "fields");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(fields, "message_id"), "value")),
        "340282366920938463463374607431768211455");
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "tags"), "offset")),
                        "5");
    json_decref(pts);
}

/* Waits up to timeout_s for pid to exit; its exit status, or -2 (then it is killed) when it
 * did not. */
static int wait_exit(pid_t pid, int timeout_s)
{
    int st;
    for (int i = 0; i < timeout_s * 20; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        ifx_sleep(NULL, 50000000ULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -2;
}

/* Waits until the test server has seen a request to path (at most 10 s). */
static void wait_for_request(const char *path)
{
    for (int i = 0; i < 200; i++) {
        char *log = admin_text(v3.port, "GET", "/__admin/requests", NULL);
        bool seen = strstr(log, path) != NULL;
        free(log);
        if (seen)
            return;
        ifx_sleep(NULL, 50000000ULL);
    }
    fail_msg("no request to %s", path);
}

static void write_sink_config(const char *name, const char *extra, char *path, size_t cap)
{
    char json[1024];
    snprintf(path, cap, "%s/%s", dir, name);
    snprintf(
        json, sizeof json,
        "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"iggy\",\"token\":\"" TOKEN
        "\",\"retry_delay\":\"10ms\",\"retry_max_delay\":\"100ms\",\"stats_interval\":\"0s\""
        "%s%s}",
        v3.port, extra ? "," : "", extra ? extra : "");
    FILE *f = fopen(path, "w");
    fputs(json, f);
    fclose(f);
}

static char *slurp_in_dir(const char *name)
{
    char path[300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return test_slurp(path);
}

/* Runs `ifx args` while every write is refused with 503, sends SIGTERM once the first write
 * was tried, and checks that ifx exits 1; *out and *err get its stdout and stderr (caller
 * frees). */
static void sigterm_while_refused(const char *args, char **out, char **err)
{
    pid_t pid;
    json_decref(admin_call(v3.port, "POST", "/__admin/fault",
                           "{\"count\":100000,\"status\":503,\"paths\":[\"/api/v3/write_lp\"]}"));
    run_ifx(args, &pid);
    wait_for_request("/api/v3/write_lp");
    kill(pid, SIGTERM);
    int st = wait_exit(pid, 10);
    json_decref(admin_call(v3.port, "DELETE", "/__admin/fault", NULL));
    *out = slurp_in_dir("out.json");
    *err = slurp_in_dir("err.txt");
    if (st != 1)
        fail_msg("exit %d\n%s\n%s", st, *out, *err);
}

/* Issue 10 #3: `ifx sink` ignored SIGTERM while messages were pending (here every write is
 * answered 503) and retried until SIGKILL. It stops at once, prints the summary with the
 * pending count (received = written + rejected + pending) and exits 1. */
static void test_sigterm_while_pending(void **state)
{
    char cfgpath[256], input[256], args[1024];
    (void)state;
    json_decref(admin_call(v3.port, "POST", "/__admin/reset", NULL));
    write_sink_config("pending.json", NULL, cfgpath, sizeof cfgpath);
    snprintf(input, sizeof input, "%s/pending.jsonl", dir);
    FILE *f = fopen(input, "w");
    for (int i = 0; i < 5; i++)
        fprintf(f, "{\"offset\":%d,\"payload\":{\"n\":%d}}\n", i, i);
    fputs("{\"offset\":5,\"payload\":{\"broken\"\n", f); /* not JSON: an invalid input line */
    fputs("{\"offset\":6,\"payload_text\":\"\\u0000\"}\n", f);
    fclose(f);
    snprintf(args, sizeof args, "sink -c %s --input %s --set payload_format=json", cfgpath, input);
    char *out, *err;
    sigterm_while_refused(args, &out, &err);
    if (!strstr(out, "{\"received\":6,\"written\":0,\"rejected\":1,\"pending\":5,\"spooled\":0,"
                     "\"spool_records\":0,"))
        fail_msg("summary: %s", out);
    if (!strstr(err, "5 messages were not written before close"))
        fail_msg("stderr: %s", err);
    free(out);
    free(err);
    assert_int_equal(stored(&v3, "iggy"), 0);
}

/* The same with a spool: SIGTERM ends `ifx sink` while its spool cannot be delivered; the batch
 * stays in the spool (the summary says so, exit 1) and the next start delivers it. */
static void test_sigterm_leaves_the_spool(void **state)
{
    char cfgpath[256], input[256], args[1024], extra[400];
    (void)state;
    json_decref(admin_call(v3.port, "POST", "/__admin/reset", NULL));
    snprintf(extra, sizeof extra, "\"spool_dir\":\"%s/term-spool\"", dir);
    write_sink_config("spooled.json", extra, cfgpath, sizeof cfgpath);
    snprintf(input, sizeof input, "%s/spooled.jsonl", dir);
    FILE *f = fopen(input, "w");
    for (int i = 0; i < 5; i++)
        fprintf(f, "{\"offset\":%d,\"payload\":{\"n\":%d}}\n", i, i);
    fclose(f);
    snprintf(args, sizeof args, "sink -c %s --input %s", cfgpath, input);
    char *out, *err;
    sigterm_while_refused(args, &out, &err);
    if (!strstr(out, "{\"received\":5,\"written\":0,\"rejected\":0,\"pending\":0,\"spooled\":5,"
                     "\"spool_records\":1,"))
        fail_msg("summary: %s", out);
    if (!strstr(err, "1 batches stay in the spool for the next start"))
        fail_msg("stderr: %s", err);
    free(out);
    free(err);
    assert_int_equal(stored(&v3, "iggy"), 0);

    snprintf(args, sizeof args, "sink -c %s --input /dev/null", cfgpath);
    assert_int_equal(run_ifx(args, NULL), 0);
    assert_int_equal(stored(&v3, "iggy"), 5);
}

/* SIGINT while `ifx sink` waits for more input on a pipe that stays open: it stops at once
 * (nothing pending: what it was given is written) and exits 1, since the input was not read to
 * its end. */
static void test_sigint_while_waiting_for_input(void **state)
{
    char cfgpath[256], cmd[1024];
    int in[2];
    (void)state;
    json_decref(admin_call(v3.port, "POST", "/__admin/reset", NULL));
    write_sink_config("idle.json", NULL, cfgpath, sizeof cfgpath);
    assert_int_equal(pipe(in), 0);
    snprintf(cmd, sizeof cmd, "exec %s sink -c %s --batch 1 >%s/out.json 2>%s/err.txt", IFX_BIN,
             cfgpath, dir, dir);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        close(in[0]);
        close(in[1]);
        close(v3.stdin_fd);
        close(v2.stdin_fd);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    const char *line = "{\"offset\":1,\"payload\":{\"n\":1}}\n";
    assert_int_equal(write(in[1], line, strlen(line)), (ssize_t)strlen(line));
    for (int i = 0; i < 200 && stored(&v3, "iggy") == 0; i++)
        ifx_sleep(NULL, 50000000ULL);
    assert_int_equal(stored(&v3, "iggy"), 1);
    kill(pid, SIGINT);
    int st = wait_exit(pid, 10);
    close(in[1]);
    char *out = slurp_in_dir("out.json"), *err = slurp_in_dir("err.txt");
    if (st != 1)
        fail_msg("exit %d\n%s\n%s", st, out, err);
    if (!strstr(out, "{\"received\":1,\"written\":1,\"rejected\":0,\"pending\":0,"))
        fail_msg("summary: %s", out);
    free(out);
    free(err);
}

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!mkdtemp(dir) || fixture_start_stand_in(&v3, "v3", TOKEN))
        return -1;
    return fixture_start_stand_in(&v2, "v2", TOKEN);
}

static int teardown(void **state)
{
    (void)state;
    fixture_stop(&v3);
    fixture_stop(&v2);
    return fixture_remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s3_s4_token_checked_at_open),
        cmocka_unit_test(test_s3_unknown_bucket_is_not_dropped),
        cmocka_unit_test(test_s10_size_guards),
        cmocka_unit_test(test_server_down_at_start),
        cmocka_unit_test(test_issue10_request_refusal_keeps_messages),
        cmocka_unit_test(test_issue10_refusal_answer_over_64k),
        cmocka_unit_test(test_issue10_wrong_drop_count),
        cmocka_unit_test(test_kill9_with_spool),
        cmocka_unit_test(test_dead_letter_line_fed_back),
        cmocka_unit_test(test_sigterm_while_pending),
        cmocka_unit_test(test_sigterm_leaves_the_spool),
        cmocka_unit_test(test_sigint_while_waiting_for_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
