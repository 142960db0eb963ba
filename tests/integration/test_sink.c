/* The sink engine end to end: messages in, points on the server out, checked field by field;
 * every message written, rejected (dead letter) or pending, never dropped. Against the v3 test
 * server (fault injection) and a real InfluxDB 1.x. Includes the upstream defects S2 (a poison
 * message fails its neighbours), S5 (partial writes), S8 (lossy newlines), S1 (loss while the
 * server is down) as regressions. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "cli_run.h"
#include "fixture.h"
#include "ifx/config.h"
#include "ifx/resilience.h"
#include "ifx/sink.h"
#include "sink_message.h"

#define TOKEN "ifx-test-token"

static fixture v3, v1;
static char dir[] = "/tmp/ifx-sink-test-XXXXXX";

static void quiet_log(void *ud, int level, const char *msg)
{
    (void)ud;
    if (getenv("IFX_TEST_VERBOSE") || level >= IFX_LOG_ERROR)
        fprintf(stderr, "[sink %d] %s\n", level, msg);
}

static void config(ifx_config *cfg, const char *extra)
{
    char json[2048];
    ifx_err e;
    snprintf(
        json, sizeof json,
        "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"iggy\",\"token\":\"" TOKEN
        "\",\"retry_delay\":\"10ms\",\"retry_max_delay\":\"50ms\",\"max_open_retries\":2,"
        "\"stats_interval\":\"0s\"%s%s}",
        v3.port, extra ? "," : "", extra ? extra : "");
    if (ifx_config_parse_json(cfg, IFX_ROLE_SINK, json, strlen(json), NULL, &e))
        fail_msg("config: %s", e.msg);
}

static ifx_sink *open_sink(const char *extra)
{
    ifx_config cfg;
    ifx_sink *s;
    ifx_err e;
    config(&cfg, extra);
    if (ifx_sink_open(&cfg, quiet_log, NULL, &s, &e))
        fail_msg("sink open: %s", e.msg);
    ifx_config_free(&cfg);
    return s;
}

static ifx_sink_message msg(uint64_t offset, const char *payload)
{
    return test_sink_message(offset, payload);
}

static void reset(void)
{
    json_decref(admin_call(v3.port, "POST", "/__admin/reset", NULL));
}

static json_t *points(void)
{
    return admin_call(v3.port, "GET", "/__admin/points?db=iggy", NULL);
}

static json_t *point_at(json_t *pts, long long t)
{
    size_t i;
    json_t *p;
    json_array_foreach(pts, i, p) if (json_integer_value(json_object_get(p, "time")) == t) return p;
    return NULL;
}

static const char *tag(json_t *p, const char *k)
{
    return json_string_value(json_object_get(json_object_get(p, "tags"), k));
}

static json_t *field(json_t *p, const char *k)
{
    return json_object_get(json_object_get(p, "fields"), k);
}

static void expect_field(json_t *p, const char *k, const char *type, const char *value_json)
{
    json_t *f = field(p, k);
    if (!f)
        fail_msg("no field %s", k);
    assert_string_equal(json_string_value(json_object_get(f, "type")), type);
    char *v = json_dumps(json_object_get(f, "value"), JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    if (strcmp(v, value_json) != 0)
        fail_msg("field %s: %s, want %s", k, v, value_json);
    free(v);
}

#define slurp test_slurp

/* The upstream line layout: same tags, fields and time as the Rust sink for the default
 * configuration (stored-equivalent: tag order does not matter to the server). */
static void test_upstream_layout(void **state)
{
    ifx_sink *s = open_sink(NULL);
    ifx_sink_message m[2] = {
        msg(7, "{ \"a\": 1, \"b\": [true, null], \"n\": 12345678901234567890 }"),
        msg(8, "{\"a\":2}")};
    ifx_sink_stats st;
    ifx_err e;
    (void)state;
    reset();
    assert_int_equal(ifx_sink_consume(s, m, 2, &e), IFX_OK);
    ifx_sink_get_stats(s, &st);
    assert_int_equal(st.received, 2);
    assert_int_equal(st.written, 2);
    assert_int_equal(st.rejected, 0);
    json_t *pts = points(), *p = point_at(pts, (1764118800000000LL + 7) * 1000);
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(p, "measurement")), "iggy_messages");
    assert_string_equal(tag(p, "stream"), "orders");
    assert_string_equal(tag(p, "topic"), "eu");
    assert_string_equal(tag(p, "partition"), "3");
    assert_string_equal(tag(p, "offset"), "7");
    expect_field(p, "message_id", "string", "\"1007\"");
    expect_field(p, "iggy_checksum", "unsigned", "9141386507638288912");
    expect_field(p, "iggy_origin_timestamp", "unsigned", "1764118700000007");
    /* compact JSON, the 20-digit integer exact */
    expect_field(p, "payload_json", "string",
                 "\"{\\\"a\\\":1,\\\"b\\\":[true,null],\\\"n\\\":12345678901234567890}\"");
    assert_int_equal(json_object_size(json_object_get(p, "fields")), 4);
    json_decref(pts);
    /* the full unsigned range survives */
    ifx_sink_message big = msg(9, "{}");
    big.checksum = UINT64_MAX;
    assert_int_equal(ifx_sink_consume(s, &big, 1, &e), IFX_OK);
    char *raw = admin_text(v3.port, "GET", "/__admin/points?db=iggy", NULL);
    assert_non_null(strstr(raw, "\"iggy_checksum\":{\"type\":\"unsigned\",\"value\":"
                                "18446744073709551615}"));
    free(raw);
    ifx_sink_close(s);
}

/* Upstream's own sink tests that apply (spec §5.1): metadata as fields when the tags are off,
 * include_metadata off, the wall clock for a zero timestamp, chunking by batch_size, the
 * content type. */
static void test_upstream_cases(void **state)
{
    ifx_sink_message m[5];
    ifx_err e;
    (void)state;
    reset();
    ifx_sink *s = open_sink("\"include_stream_tag\":false,\"include_topic_tag\":false,"
                            "\"include_partition_tag\":false,\"batch_size\":2");
    for (int i = 0; i < 5; i++)
        m[i] = msg((uint64_t)(50 + i), "{}");
    json_decref(admin_call(v3.port, "DELETE", "/__admin/requests", NULL));
    assert_int_equal(ifx_sink_consume(s, m, 5, &e), IFX_OK);
    json_t *reqs = admin_call(v3.port, "GET", "/__admin/requests", NULL);
    assert_int_equal(json_array_size(reqs), 3); /* 5 messages, batch_size 2 */
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(reqs, 0), "headers"), "content-type")),
                        "text/plain; charset=utf-8");
    json_decref(reqs);
    json_t *pts = points(), *p = point_at(pts, (1764118800000000LL + 50) * 1000);
    assert_null(tag(p, "stream"));
    assert_null(tag(p, "topic"));
    assert_null(tag(p, "partition"));
    assert_string_equal(tag(p, "offset"), "50");
    expect_field(p, "iggy_stream", "string", "\"orders\"");
    expect_field(p, "iggy_topic", "string", "\"eu\"");
    expect_field(p, "iggy_partition", "unsigned", "3");
    json_decref(pts);
    ifx_sink_close(s);

    reset();
    s = open_sink("\"include_metadata\":false");
    ifx_sink_message z = msg(60, "{}");
    z.timestamp_us = 0; /* no time: the wall clock, as upstream */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    assert_int_equal(ifx_sink_consume(s, &z, 1, &e), IFX_OK);
    pts = points();
    p = json_array_get(pts, 0);
    assert_null(tag(p, "stream"));
    assert_null(field(p, "iggy_stream"));
    assert_string_equal(tag(p, "offset"), "60");
    long long t = json_integer_value(json_object_get(p, "time"));
    long long wall = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
    assert_true(t > wall - 5000000000LL && t < wall + 5000000000LL);
    json_decref(pts);
    ifx_sink_close(s);
}

/* offset_as "field" at ns precision: two messages of one partition appended in the same
 * microsecond stay two points. */
static void test_offset_field_keeps_points_apart(void **state)
{
    ifx_err e;
    (void)state;
    reset();
    ifx_sink *s = open_sink("\"offset_as\":\"field\",\"precision\":\"ns\"");
    ifx_sink_message m[2] = {msg(1001, "{}"), msg(1002, "{}")};
    m[1].timestamp_us = m[0].timestamp_us;
    assert_int_equal(ifx_sink_consume(s, m, 2, &e), IFX_OK);
    json_t *pts = points();
    assert_int_equal(json_array_size(pts), 2);
    long long t = (long long)m[0].timestamp_us * 1000;
    assert_non_null(point_at(pts, t + 1));
    assert_non_null(point_at(pts, t + 2));
    json_decref(pts);
    ifx_sink_close(s);
}

/* S2: one bad message is rejected alone; S8: a newline in a text payload survives. */
static void test_poison_and_text(void **state)
{
    char dl[300], extra[400];
    (void)state;
    reset();
    snprintf(dl, sizeof dl, "%s/dead.jsonl", dir);
    snprintf(extra, sizeof extra, "\"dead_letter_file\":\"%s\"", dl);
    ifx_sink *s = open_sink(extra);
    ifx_sink_message m[3] = {msg(1, "{\"ok\":1}"), msg(2, "{\"broken\":"), msg(3, "{\"ok\":3}")};
    ifx_sink_stats st;
    ifx_err e;
    assert_int_equal(ifx_sink_consume(s, m, 3, &e), IFX_OK);
    /* a TAB in the stream name cannot be a tag value: that message alone is rejected */
    ifx_sink_message t = msg(4, "{}");
    t.stream = "bad\tstream";
    t.stream_len = 10;
    assert_int_equal(ifx_sink_consume(s, &t, 1, &e), IFX_OK);
    ifx_sink_get_stats(s, &st);
    assert_int_equal(st.written, 2);
    assert_int_equal(st.rejected, 2);
    ifx_sink_close(s);
    char *text = slurp(dl);
    assert_non_null(strstr(text, "\"stream\":\"orders\",\"topic\":\"eu\",\"partition\":3,"
                                 "\"offset\":2,\"id\":\"1002\",\"reason\":\"payload is not valid "
                                 "JSON: invalid JSON at byte 10"));
    assert_non_null(strstr(text, "\"payload_text\":\"{\\\"broken\\\":\"}"));
    assert_non_null(strstr(text, "\"offset\":4"));
    assert_non_null(strstr(text, "contains a TAB"));
    free(text);
    json_t *pts = points();
    assert_int_equal(json_array_size(pts), 2);
    json_decref(pts);

    reset();
    s = open_sink("\"payload_format\":\"text\"");
    ifx_sink_message x = msg(5, "line one\nline \"two\"\\");
    assert_int_equal(ifx_sink_consume(s, &x, 1, &e), IFX_OK);
    pts = points();
    expect_field(json_array_get(pts, 0), "payload_text", "string",
                 "\"line one\\nline \\\"two\\\"\\\\\"");
    json_decref(pts);
    ifx_sink_close(s);
}

/* Log lines at ERROR and above, kept for a test to read. */
static char error_log[4096];

static void keep_errors(void *ud, int level, const char *msg)
{
    (void)ud;
    quiet_log(NULL, level, msg);
    if (level >= IFX_LOG_ERROR)
        snprintf(error_log + strlen(error_log), sizeof error_log - strlen(error_log), "%s\n", msg);
}

/* The sink's descriptor of path, found through /proc/self/fd; -1 when none. */
static int open_fd_of(const char *path)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int found = -1;
    while (d && (e = readdir(d)) && found < 0) {
        char link[300], target[512];
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n > 0) {
            target[n] = '\0';
            if (strcmp(target, path) == 0)
                found = atoi(e->d_name);
        }
    }
    if (d)
        closedir(d);
    return found;
}

/* Issue 10 #7: the dead-letter file holds payloads, so it is created 0600 (whatever the umask)
 * and close-on-exec; and a record is written whole or not at all: a write that runs out of room
 * (here the file size limit, which makes write(2) short) is cut back, the error is logged, and
 * the next record starts on a line of its own. */
static void test_dead_letter_file_private_and_whole(void **state)
{
    char dl[300], extra[400];
    ifx_config cfg;
    ifx_sink *s;
    ifx_sink_stats st;
    ifx_err e;
    struct stat sb;
    (void)state;
    snprintf(dl, sizeof dl, "%s/private-dead.jsonl", dir);
    snprintf(extra, sizeof extra, "\"dead_letter_file\":\"%s\"", dl);
    mode_t old_umask = umask(022);
    config(&cfg, extra);
    error_log[0] = '\0';
    assert_int_equal(ifx_sink_open(&cfg, keep_errors, NULL, &s, &e), IFX_OK);
    ifx_config_free(&cfg);
    umask(old_umask);
    assert_int_equal(stat(dl, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    int fd = open_fd_of(dl);
    assert_true(fd >= 0);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);

    ifx_sink_message bad = msg(1, "{\"broken\":");
    assert_int_equal(ifx_sink_consume(s, &bad, 1, &e), IFX_OK);
    assert_int_equal(stat(dl, &sb), 0);
    off_t one = sb.st_size;
    assert_true(one > 0);

    /* room for 40 more bytes only: the next record's write stops short */
    static char big[2100];
    memset(big, 'x', sizeof big - 1);
    big[0] = '{';
    struct rlimit was, small;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &was), 0);
    small = was;
    small.rlim_cur = (rlim_t)one + 40;
    void (*old_xfsz)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    ifx_sink_message cut = msg(2, big);
    ifx_rc rc = ifx_sink_consume(s, &cut, 1, &e);
    setrlimit(RLIMIT_FSIZE, &was);
    signal(SIGXFSZ, old_xfsz);
    assert_int_equal(rc, IFX_OK);
    assert_int_equal(stat(dl, &sb), 0);
    assert_int_equal(sb.st_size, one);
    if (!strstr(error_log, "cannot write to dead_letter_file ") ||
        !strstr(error_log, "; rejected message 1002: payload is not valid JSON"))
        fail_msg("no error logged for the lost record: %s", error_log);

    ifx_sink_message after = msg(3, "{\"broken\":3");
    assert_int_equal(ifx_sink_consume(s, &after, 1, &e), IFX_OK);
    ifx_sink_get_stats(s, &st);
    assert_int_equal(st.rejected, 3);
    ifx_sink_close(s);

    /* two whole JSON lines: offsets 1 and 3 */
    char *text = slurp(dl);
    char *nl = strchr(text, '\n');
    assert_non_null(nl);
    json_error_t je;
    json_t *a = json_loadb(text, (size_t)(nl - text), 0, &je);
    json_t *b = json_loads(nl + 1, 0, &je);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(json_integer_value(json_object_get(a, "offset")), 1);
    assert_int_equal(json_integer_value(json_object_get(b, "offset")), 3);
    assert_int_equal(text[strlen(text) - 1], '\n');
    json_decref(a);
    json_decref(b);
    free(text);
}

static void test_json_fields_and_options(void **state)
{
    ifx_sink_stats st;
    ifx_err e;
    (void)state;
    reset();
    ifx_sink *s = open_sink(
        "\"payload_format\":\"json_fields\",\"tag_keys\":[\"region\"],\"timestamp_source\":"
        "\"payload\",\"timestamp_field\":\"ts\",\"timestamp_unit\":\"s\",\"offset_as\":\"field\","
        "\"default_tags\":{\"env\":\"test\"},\"include_checksum\":false,"
        "\"include_origin_timestamp\":false,\"measurement\":\"orders\"");
    ifx_sink_message m[3] = {
        msg(1,
            "{\"ts\":1700000000,\"region\":\"eu\",\"total\":9.5,\"qty\":2,\"paid\":true,"
            "\"customer\":{\"id\":\"c-1\",\"tier\":{\"level\":3}},\"items\":[1,2],\"note\":null}"),
        msg(2, "{\"ts\":\"2023-11-14T22:13:21Z\",\"total\":1}"), msg(3, "[1,2,3]")};
    assert_int_equal(ifx_sink_consume(s, m, 3, &e), IFX_OK);
    ifx_sink_get_stats(s, &st);
    assert_int_equal(st.written, 2);
    assert_int_equal(st.rejected, 1); /* an array cannot become fields */
    json_t *pts = points(), *p = point_at(pts, 1700000000LL * 1000000000LL);
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(p, "measurement")), "orders");
    assert_string_equal(tag(p, "region"), "eu");
    assert_string_equal(tag(p, "env"), "test");
    assert_null(tag(p, "offset"));
    expect_field(p, "total", "float", "9.5");
    expect_field(p, "qty", "float", "2.0");
    expect_field(p, "paid", "boolean", "true");
    expect_field(p, "customer.id", "string", "\"c-1\"");
    expect_field(p, "customer.tier.level", "float", "3.0");
    expect_field(p, "items", "string", "\"[1,2]\"");
    expect_field(p, "iggy_offset", "unsigned", "1");
    assert_null(field(p, "ts"));
    assert_null(field(p, "note"));
    assert_null(field(p, "iggy_checksum"));
    assert_non_null(point_at(pts, 1700000001LL * 1000000000LL));
    json_decref(pts);
    ifx_sink_close(s);
}

/* S5: the server rejects two lines of a batch; the others are stored, only those two are
 * dead-lettered. */
static void test_server_partial_write(void **state)
{
    char dl[300], extra[400];
    ifx_sink_message m[5];
    ifx_sink_stats st;
    ifx_err e;
    (void)state;
    reset();
    snprintf(dl, sizeof dl, "%s/partial.jsonl", dir);
    snprintf(extra, sizeof extra, "\"dead_letter_file\":\"%s\"", dl);
    ifx_sink *s = open_sink(extra);
    for (int i = 0; i < 5; i++)
        m[i] = msg((uint64_t)(100 + i), "{\"v\":1}");
    json_decref(admin_call(v3.port, "POST", "/__admin/fault", "{\"partial_lines\":[2,4]}"));
    assert_int_equal(ifx_sink_consume(s, m, 5, &e), IFX_OK);
    ifx_sink_get_stats(s, &st);
    assert_int_equal(st.written, 3);
    assert_int_equal(st.rejected, 2);
    ifx_sink_close(s);
    char *text = slurp(dl);
    assert_non_null(strstr(text, "\"offset\":101,"));
    assert_non_null(strstr(text, "\"offset\":103,"));
    assert_null(strstr(text, "\"offset\":102,"));
    assert_non_null(strstr(text, "forced rejection"));
    free(text);
    json_t *pts = points();
    assert_int_equal(json_array_size(pts), 3);
    json_decref(pts);
}

/* S1: while the server fails, consume holds on (backpressure) and then writes everything. */
static void test_backpressure_until_server_recovers(void **state)
{
    ifx_sink_message m[20];
    ifx_sink_stats st;
    ifx_err e;
    (void)state;
    reset();
    ifx_sink *s = open_sink("\"max_retries\":2,\"circuit_breaker_threshold\":2,"
                            "\"circuit_breaker_cool_down\":\"100ms\"");
    for (int i = 0; i < 20; i++)
        m[i] = msg((uint64_t)(200 + i), "{\"v\":2}");
    json_decref(admin_call(v3.port, "POST", "/__admin/fault",
                           "{\"count\":8,\"status\":503,\"paths\":[\"/api/v3/write_lp\"]}"));
    assert_int_equal(ifx_sink_consume(s, m, 20, &e), IFX_OK);
    ifx_sink_get_stats(s, &st);
    assert_int_equal(st.written, 20);
    assert_int_equal(st.pending, 0);
    assert_true(st.retried > 0);
    /* 8 refused requests and at least one that stored the batch, each timed once */
    assert_true(st.requests >= 9);
    assert_int_equal(st.write_latency.count, st.requests);
    uint64_t in_buckets = 0;
    for (size_t i = 0; i <= IFX_LATENCY_BOUNDS; i++)
        in_buckets += st.write_latency.bucket[i];
    assert_int_equal(in_buckets, st.requests);
    json_t *pts = points();
    assert_int_equal(json_array_size(pts), 20);
    json_decref(pts);
    ifx_sink_close(s);
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

static void *close_thread(void *p)
{
    ifx_sink_close(p);
    return NULL;
}

/* Closing while a consume waits on a dead server: the consume returns, the loss is counted and
 * said, and nothing hangs. */
static void test_close_during_backpressure(void **state)
{
    ifx_sink_message m[3];
    pthread_t th;
    (void)state;
    reset();
    ifx_sink *s = open_sink(NULL);
    for (int i = 0; i < 3; i++)
        m[i] = msg((uint64_t)(300 + i), "{}");
    json_decref(admin_call(v3.port, "POST", "/__admin/fault", "{\"count\":100000,\"status\":500}"));
    struct consume_arg a = {s, m, 3, IFX_OK};
    pthread_create(&th, NULL, consume_thread, &a);
    struct timespec t = {0, 300000000L};
    nanosleep(&t, NULL);
    ifx_sink_stats st;
    ifx_sink_get_stats(s, &st);
    assert_int_equal(st.pending, 3);
    /* the host's close: as the runtime does after its stop timeout */
    double t0 = (double)ifx_now_ns() / 1e9;
    pthread_t closer;
    pthread_create(&closer, NULL, close_thread, s);
    pthread_join(th, NULL);
    pthread_join(closer, NULL);
    assert_true((double)ifx_now_ns() / 1e9 - t0 < 2.0);
    assert_int_equal(a.rc, IFX_E_TRANSIENT);
    json_decref(admin_call(v3.port, "DELETE", "/__admin/fault", NULL));
}

/* With a spool, consume returns at once while the server is down; the batch is delivered in
 * the background, also by the next sink after a restart. */
static void test_spool_and_restart(void **state)
{
    char extra[400];
    ifx_sink_message m[10];
    ifx_sink_stats st;
    ifx_err e;
    (void)state;
    reset();
    snprintf(extra, sizeof extra, "\"spool_dir\":\"%s/spool\"", dir);
    for (int i = 0; i < 10; i++)
        m[i] = msg((uint64_t)(400 + i), "{\"s\":1}");
    json_decref(admin_call(v3.port, "POST", "/__admin/fault", "{\"count\":100000,\"status\":503}"));
    ifx_sink *s = open_sink(extra);
    assert_int_equal(ifx_sink_consume(s, m, 5, &e), IFX_OK);
    ifx_sink_get_stats(s, &st);
    assert_int_equal(st.spooled, 5);
    assert_int_equal(st.written, 0);
    ifx_sink_close(s); /* the batch stays in the spool */

    json_decref(admin_call(v3.port, "DELETE", "/__admin/fault", NULL));
    s = open_sink(extra);
    assert_int_equal(ifx_sink_consume(s, m + 5, 5, &e), IFX_OK);
    for (int i = 0; i < 200; i++) {
        ifx_sink_get_stats(s, &st);
        if (st.spool_records == 0)
            break;
        ifx_sleep(NULL, 20000000ULL);
    }
    ifx_sink_get_stats(s, &st);
    assert_int_equal(st.spool_records, 0);
    assert_int_equal(st.written, 10);
    ifx_sink_close(s);
    json_t *pts = points();
    assert_int_equal(json_array_size(pts), 10);
    json_decref(pts);
}

/* Counts the log lines that contain a text (ud: struct count_log). */
struct count_log {
    const char *text;
    _Atomic int n;
};

static void counting_log(void *ud, int level, const char *msg)
{
    struct count_log *c = ud;
    quiet_log(NULL, level, msg);
    if (strstr(msg, c->text))
        atomic_fetch_add(&c->n, 1);
}

/* spool_max_size: a full spool takes no more batches; consume then writes directly and waits
 * while the server is down (backpressure), says so once, and nothing is lost or doubled. */
static void test_spool_limit(void **state)
{
    char extra[400];
    ifx_sink_message m[15];
    ifx_sink_stats st;
    ifx_config cfg;
    ifx_sink *s;
    ifx_err e;
    pthread_t th;
    struct count_log full = {"cannot spool a batch", 0};
    (void)state;
    reset();
    /* one 5-message record is about 1.3 KiB: the limit takes one, not two */
    snprintf(extra, sizeof extra,
             "\"spool_dir\":\"%s/spool-limit\",\"spool_max_size\":\"2KiB\",\"batch_size\":5", dir);
    for (int i = 0; i < 15; i++)
        m[i] = msg((uint64_t)(500 + i), "{\"s\":1}");
    json_decref(admin_call(v3.port, "POST", "/__admin/fault", "{\"count\":100000,\"status\":503}"));
    config(&cfg, extra);
    if (ifx_sink_open(&cfg, counting_log, &full, &s, &e))
        fail_msg("sink open: %s", e.msg);
    ifx_config_free(&cfg);
    assert_int_equal(ifx_sink_consume(s, m, 5, &e), IFX_OK); /* spooled at once */
    ifx_sink_get_stats(s, &st);
    assert_int_equal(st.spooled, 5);
    assert_int_equal(st.spool_records, 1);
    /* the next two batches find the spool full: consume holds them */
    struct consume_arg a = {s, m + 5, 10, IFX_E_INVALID};
    pthread_create(&th, NULL, consume_thread, &a);
    for (int i = 0; i < 100; i++) {
        ifx_sink_get_stats(s, &st);
        if (st.pending == 5)
            break;
        ifx_sleep(NULL, 20000000ULL);
    }
    assert_int_equal(st.pending, 5); /* one batch of the consume in flight, written directly */
    assert_int_equal(st.spooled, 5);
    assert_int_equal(st.written, 0);
    json_decref(admin_call(v3.port, "DELETE", "/__admin/fault", NULL));
    pthread_join(th, NULL);
    assert_int_equal(a.rc, IFX_OK);
    for (int i = 0; i < 200; i++) {
        ifx_sink_get_stats(s, &st);
        if (st.spool_records == 0 && st.written == 15)
            break;
        ifx_sleep(NULL, 20000000ULL);
    }
    assert_int_equal(st.written, 15);
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.spool_records, 0);
    ifx_sink_close(s);
    /* said when it started, not for every batch after */
    assert_int_equal(atomic_load(&full.n), 1);
    json_t *pts = points();
    assert_int_equal(json_array_size(pts), 15);
    json_decref(pts);
}

/* A real InfluxDB 1.x: unsigned metadata become integers, the checksum a decimal string. */
static void test_real_v1(void **state)
{
    char json[512];
    ifx_config cfg;
    ifx_sink *s;
    ifx_err e;
    (void)state;
    /* create the database with a plain HTTP call */
    CURL *c = curl_easy_init();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/query?q=CREATE%%20DATABASE%%20sink", v1.port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fwrite);
    FILE *devnull = fopen("/dev/null", "w");
    curl_easy_setopt(c, CURLOPT_WRITEDATA, devnull);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_cleanup(c);
    fclose(devnull);
    snprintf(json, sizeof json,
             "{\"version\":\"v1\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"sink\","
             "\"include_partition_tag\":false,\"stats_interval\":\"0s\"}",
             v1.port);
    assert_int_equal(ifx_config_parse_json(&cfg, IFX_ROLE_SINK, json, strlen(json), NULL, &e),
                     IFX_OK);
    assert_int_equal(ifx_sink_open(&cfg, quiet_log, NULL, &s, &e), IFX_OK);
    ifx_sink_message m[2] = {msg(1, "{\"x\":\"a\\nb\"}"), msg(2, "{\"x\":2}")};
    ifx_sink_stats st;
    assert_int_equal(ifx_sink_consume(s, m, 2, &e), IFX_OK);
    ifx_sink_get_stats(s, &st);
    assert_int_equal(st.written, 2);
    ifx_sink_close(s);
    ifx_config_free(&cfg);

    c = curl_easy_init();
    snprintf(url, sizeof url,
             "http://127.0.0.1:%d/query?db=sink&epoch=ns&q=SELECT%%20*%%20FROM%%20iggy_messages",
             v1.port);
    char *answer = NULL;
    size_t alen = 0;
    FILE *mem = open_memstream(&answer, &alen);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fwrite);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, mem);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_cleanup(c);
    fclose(mem);
    /* columns are sorted by name in 1.x */
    assert_non_null(strstr(answer, "\"columns\":[\"time\",\"iggy_checksum\",\"iggy_origin_timestamp"
                                   "\",\"iggy_partition\",\"message_id\",\"offset\",\"payload_json"
                                   "\",\"stream\",\"topic\"]"));
    assert_non_null(strstr(answer, "[1764118800000001000,\"9141386507638288912\","
                                   "1764118700000001,3,\"1001\",\"1\",\"{\\\"x\\\":\\\"a\\\\nb\\\"}"
                                   "\",\"orders\",\"eu\"]"));
    free(answer);
}

static int setup(void **state)
{
    char *a1[] = {"python3", IFX_SOURCE_DIR "/tests/fixtures/influxdb1.py", "--influxd", INFLUXD,
                  NULL};
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!mkdtemp(dir) || fixture_start_stand_in(&v3, "v3", TOKEN))
        return -1;
    return fixture_start(&v1, a1, 90);
}

static int teardown(void **state)
{
    (void)state;
    fixture_stop(&v3);
    fixture_stop(&v1);
    return fixture_remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upstream_layout),
        cmocka_unit_test(test_upstream_cases),
        cmocka_unit_test(test_offset_field_keeps_points_apart),
        cmocka_unit_test(test_poison_and_text),
        cmocka_unit_test(test_dead_letter_file_private_and_whole),
        cmocka_unit_test(test_json_fields_and_options),
        cmocka_unit_test(test_server_partial_write),
        cmocka_unit_test(test_backpressure_until_server_recovers),
        cmocka_unit_test(test_close_during_backpressure),
        cmocka_unit_test(test_spool_and_restart),
        cmocka_unit_test(test_spool_limit),
        cmocka_unit_test(test_real_v1),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
