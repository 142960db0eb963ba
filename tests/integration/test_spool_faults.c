/* The sink's spool under faults that a test server alone cannot make, checked as the user sees
 * them: the messages counted (received = written + rejected + pending), the points the server
 * stored, the write requests it got, and the log lines.
 *
 * - A full disk while the spool delivers: a record is written, but its mark (the position file)
 *   cannot be replaced. Nothing may be sent again, the mark is retried with backoff and one
 *   ERROR line per attempt, and once space is freed the position moves on. The spool lives on a
 *   real small filesystem that fills up: a tmpfs mounted for the test (the test runs as root), or
 *   a loop-mounted ext4 image when tmpfs is refused; the test skips, saying so on stderr, only
 *   when neither can be mounted. It unmounts in its teardown, which also runs on failure.
 * - A hung server (the test server's hang fault: requests read, never answered) while consume
 *   spools: consume returns within milliseconds with the batch on disk, whatever the deliverer
 *   is waiting for (a request, the breaker), and after the server recovers every message is
 *   written exactly once.
 *
 * IFX_TEST_VERBOSE=1 shows the sink's log. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "fixture.h"
#include "ifx/config.h"
#include "ifx/resilience.h"
#include "ifx/sink.h"
#include "connector/spool.h"

#define TOKEN "ifx-test-token"
#define WRITE "/api/v3/write_lp"

static fixture v3;
static char dir[] = "/tmp/ifx-spool-faults-XXXXXX";
static ifx_sink *current; /* the test's sink, closed by the teardown when the test fails */

/* ---- what the sink logs --------------------------------------------------------------------- */

typedef struct logbook {
    pthread_mutex_t mu;
    unsigned errors, marks_failed, marks_recovered, enospc;
} logbook;

static logbook book = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void on_log(void *ud, int level, const char *msg)
{
    (void)ud;
    if (getenv("IFX_TEST_VERBOSE") || level >= IFX_LOG_ERROR)
        fprintf(stderr, "[sink %d] %s\n", level, msg);
    pthread_mutex_lock(&book.mu);
    if (level >= IFX_LOG_ERROR) {
        book.errors++;
        book.marks_failed += strstr(msg, "cannot mark a spool record delivered") != NULL;
        book.enospc += strstr(msg, "No space left on device") != NULL;
    }
    if (level == IFX_LOG_INFO && strstr(msg, "marked the spool record delivered after"))
        book.marks_recovered++;
    pthread_mutex_unlock(&book.mu);
}

static logbook book_read(void)
{
    logbook b;
    pthread_mutex_lock(&book.mu);
    b = book;
    pthread_mutex_unlock(&book.mu);
    return b;
}

static void book_reset(void)
{
    pthread_mutex_lock(&book.mu);
    book.errors = book.marks_failed = book.marks_recovered = book.enospc = 0;
    pthread_mutex_unlock(&book.mu);
}

/* ---- the sink and its messages -------------------------------------------------------------- */

static ifx_sink *open_sink(const char *spool_dir, const char *extra)
{
    char json[1024];
    ifx_config cfg;
    ifx_sink *s;
    ifx_err e;
    snprintf(json, sizeof json,
             "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"iggy\",\"token\":"
             "\"" TOKEN "\",\"max_open_retries\":1,\"stats_interval\":\"0s\",\"spool_dir\":\"%s\","
             "%s}",
             v3.port, spool_dir, extra);
    if (ifx_config_parse_json(&cfg, IFX_ROLE_SINK, json, strlen(json), NULL, &e))
        fail_msg("config %s: %s", json, e.msg);
    if (ifx_sink_open(&cfg, on_log, NULL, &s, &e))
        fail_msg("sink open: %s", e.msg);
    ifx_config_free(&cfg);
    current = s;
    return s;
}

static void close_sink(ifx_sink *s)
{
    current = NULL;
    ifx_sink_close(s);
}

static ifx_sink_message msg(uint64_t offset)
{
    static const char payload[] = "{\"v\":1}";
    ifx_sink_message m = {.stream = "orders",
                          .stream_len = 6,
                          .topic = "eu",
                          .topic_len = 2,
                          .partition = 1,
                          .offset = offset,
                          .id = {0, 5000 + offset},
                          .timestamp_us = 1764118800000000ULL + offset * 1000,
                          .origin_timestamp_us = 1764118800000000ULL + offset * 1000,
                          .payload = (const uint8_t *)payload,
                          .payload_len = sizeof payload - 1};
    return m;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Consumes msgs[0..n) and returns how long consume took, in seconds; it must succeed. */
static double timed_consume(ifx_sink *s, const ifx_sink_message *msgs, size_t n)
{
    ifx_err e;
    double t0 = now_s();
    ifx_rc rc = ifx_sink_consume(s, msgs, n, &e);
    double took = now_s() - t0;
    if (rc)
        fail_msg("consume: %s", e.msg);
    return took;
}

static void expect_counters_add_up(ifx_sink *s)
{
    ifx_sink_stats st;
    ifx_sink_get_stats(s, &st);
    if (st.received != st.written + st.rejected + st.pending + 0)
        fail_msg("received %llu != written %llu + rejected %llu + pending %llu",
                 (unsigned long long)st.received, (unsigned long long)st.written,
                 (unsigned long long)st.rejected, (unsigned long long)st.pending);
}

/* Waits (at most timeout_s) until the spool is empty and written reaches want. */
static void wait_delivered(ifx_sink *s, uint64_t want, double timeout_s)
{
    ifx_sink_stats st;
    double until = now_s() + timeout_s;
    do {
        ifx_sink_get_stats(s, &st);
        if (st.spool_records == 0 && st.written >= want)
            return;
        ifx_sleep(NULL, 20000000ULL);
    } while (now_s() < until);
    fail_msg("not delivered within %.0f s: written %llu of %llu, %llu spool records left",
             timeout_s, (unsigned long long)st.written, (unsigned long long)want,
             (unsigned long long)st.spool_records);
}

/* ---- what the server saw -------------------------------------------------------------------- */

static size_t stored_points(void)
{
    json_t *p = admin_call(v3.port, "GET", "/__admin/points?db=iggy", NULL);
    size_t n = json_array_size(p);
    json_decref(p);
    return n;
}

/* Write requests received; *lines_stored gets the lines of those answered 204 (stored). */
static size_t write_requests(size_t *lines_stored)
{
    json_t *reqs = admin_call(v3.port, "GET", "/__admin/requests?body=1", NULL), *r;
    size_t i, n = 0, lines = 0;
    json_array_foreach(reqs, i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "path")), WRITE) != 0)
            continue;
        n++;
        if (json_integer_value(json_object_get(r, "status")) != 204)
            continue;
        const char *body = json_string_value(json_object_get(r, "body"));
        for (const char *p = body; p && *p; p++)
            lines += *p == '\n' || (p[1] == '\0' && *p != '\n');
    }
    json_decref(reqs);
    if (lines_stored)
        *lines_stored = lines;
    return n;
}

/* ---- a small filesystem that can be filled --------------------------------------------------- */

static struct small_fs {
    char dir[256], image[256];
    const char *kind;
    bool mounted;
} fs;

/* Mounts a filesystem of about kib KiB at <dir>/small: tmpfs, else a loop-mounted ext4 image. */
static bool small_fs_mount(size_t kib)
{
    char opt[64], cmd[2048];
    snprintf(fs.dir, sizeof fs.dir, "%s/small", dir);
    snprintf(fs.image, sizeof fs.image, "%s/small.img", dir);
    if (mkdir(fs.dir, 0700) != 0 && errno != EEXIST)
        fail_msg("mkdir %s: %s", fs.dir, strerror(errno));
    snprintf(opt, sizeof opt, "size=%zuk,mode=0700", kib);
    if (mount("ifx-test-tmpfs", fs.dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opt) == 0) {
        fs.kind = "tmpfs";
        fs.mounted = true;
        return true;
    }
    fprintf(stderr, "test_spool_faults: cannot mount a tmpfs (%s); trying a loop-mounted image\n",
            strerror(errno));
    /* ext4 needs a little more room for its own metadata; no reserved blocks */
    snprintf(cmd, sizeof cmd,
             "truncate -s %zuK '%s' && mkfs.ext4 -q -F -m 0 '%s' >/dev/null 2>&1 && "
             "mount -o loop '%s' '%s' 2>/dev/null",
             kib + 1024, fs.image, fs.image, fs.image, fs.dir);
    if (system(cmd) == 0) {
        fs.kind = "loop-mounted ext4";
        fs.mounted = true;
        return true;
    }
    return false;
}

static void small_fs_unmount(void)
{
    if (fs.mounted && umount2(fs.dir, 0) != 0 && umount2(fs.dir, MNT_DETACH) != 0)
        fprintf(stderr, "test_spool_faults: cannot unmount %s: %s\n", fs.dir, strerror(errno));
    fs.mounted = false;
    if (fs.dir[0])
        rmdir(fs.dir);
    if (fs.image[0])
        unlink(fs.image);
}

/* Writes path until the filesystem refuses with ENOSPC; returns the bytes written. */
static size_t fill_disk(const char *path)
{
    static char block[4096];
    size_t total = 0;
    ssize_t k;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        fail_msg("open %s: %s", path, strerror(errno));
    while ((k = write(fd, block, sizeof block)) > 0)
        total += (size_t)k;
    while ((k = write(fd, block, 1)) > 0)
        total += (size_t)k;
    if (errno != ENOSPC)
        fail_msg("filling %s stopped with %s, not ENOSPC", path, strerror(errno));
    fsync(fd);
    close(fd);
    return total;
}

/* After each test, also a failed one: its sink closed, the faults cleared, the filesystem
 * unmounted. */
static int teardown_test(void **state)
{
    (void)state;
    if (current)
        close_sink(current);
    json_decref(admin_call(v3.port, "DELETE", "/__admin/fault", NULL));
    small_fs_unmount();
    return 0;
}

/* The position file's offset ("... segment=<hex> offset=<n> crc=..."). */
static unsigned long long position_offset(const char *spool)
{
    char path[512], text[256] = "";
    snprintf(path, sizeof path, "%s/position", spool);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot read %s: %s", path, strerror(errno));
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *o = strstr(text, "offset=");
    if (!o)
        fail_msg("%s holds no offset: %s", path, text);
    return strtoull(o + 7, NULL, 10);
}

/* ---- issue 10 #8: a full disk while a delivered record is marked ----------------------------- */

static void test_full_disk_while_marking_delivered(void **state)
{
    enum { N = 20 };
    char spool[300], filler[300];
    ifx_sink_message m[N + 5];
    ifx_sink_stats st;
    size_t lines;
    (void)state;
    if (!small_fs_mount(256)) {
        fprintf(stderr, "test_spool_faults: SKIPPED test_full_disk_while_marking_delivered: "
                        "neither a tmpfs nor a loop-mounted image can be mounted here (not root, "
                        "or no loop devices)\n");
        skip();
    }
    fprintf(stderr, "full disk on a %s of 256 KiB at %s\n", fs.kind, fs.dir);
    snprintf(spool, sizeof spool, "%s/spool", fs.dir);
    snprintf(filler, sizeof filler, "%s/filler", fs.dir);
    for (int i = 0; i < N + 5; i++)
        m[i] = msg((uint64_t)(100 + i));
    json_decref(admin_call(v3.port, "POST", "/__admin/reset", NULL));
    book_reset();
    /* the first write is held long enough to fill the disk behind the deliverer's back */
    json_decref(admin_call(v3.port, "POST", "/__admin/fault",
                           "{\"count\":1,\"delay_ms\":700,\"paths\":[\"" WRITE "\"]}"));
    ifx_sink *s = open_sink(spool, "\"retry_delay\":\"50ms\",\"retry_max_delay\":\"400ms\"");
    timed_consume(s, m, N);
    double t0 = now_s();
    ifx_sink_get_stats(s, &st);
    assert_int_equal(st.spooled, N);
    size_t filled = fill_disk(filler);
    fprintf(stderr, "filled the disk with %zu bytes\n", filled);

    /* the write lands, its mark fails for as long as the disk stays full */
    double left = t0 + 2.7 - now_s();
    if (left > 0)
        ifx_sleep(NULL, (uint64_t)(left * 1e9));
    logbook b = book_read();
    ifx_sink_get_stats(s, &st);
    fprintf(stderr, "disk full for %.1f s: %u ERROR lines, %zu write requests\n", now_s() - t0,
            b.errors, write_requests(NULL));
    assert_int_equal(write_requests(&lines), 1); /* sent once, never again */
    assert_int_equal(lines, N);
    assert_int_equal(stored_points(), N);
    assert_int_equal(st.written, N);
    assert_int_equal(st.spool_records, 1); /* not marked yet */
    expect_counters_add_up(s);
    /* one ERROR line per backoff step (100, 200, 400, 400 ... ms over about 2 s), each naming
     * the cause, and nothing else at ERROR */
    if (b.marks_failed < 2 || b.marks_failed > 12)
        fail_msg("%u 'cannot mark' ERROR lines in 2 s, want 2 to 12", b.marks_failed);
    assert_int_equal(b.errors, b.marks_failed);
    assert_int_equal(b.enospc, b.marks_failed);
    assert_int_equal(b.marks_recovered, 0);
    unsigned long long before = position_offset(spool);

    /* space again: the position moves on, and nothing more is sent for that record */
    assert_int_equal(unlink(filler), 0);
    wait_delivered(s, N, 3);
    b = book_read();
    assert_int_equal(b.marks_recovered, 1);
    unsigned long long after = position_offset(spool);
    if (after <= before)
        fail_msg("the position stayed at offset %llu", after);
    assert_int_equal(write_requests(NULL), 1);
    assert_int_equal(stored_points(), N);

    /* and delivery goes on */
    timed_consume(s, m + N, 5);
    wait_delivered(s, N + 5, 5);
    assert_int_equal(write_requests(&lines), 2);
    assert_int_equal(lines, N + 5);
    assert_int_equal(stored_points(), N + 5);
    expect_counters_add_up(s);
    close_sink(s);

    /* nothing is left for the next start to send again */
    ifx_spool *sp;
    ifx_err e;
    uint64_t recs = 1;
    if (ifxi_spool_open(spool, NULL, &sp, &e))
        fail_msg("reopen the spool: %s", e.msg);
    ifxi_spool_pending(sp, &recs, NULL);
    ifxi_spool_close(sp);
    assert_int_equal(recs, 0);
}

/* ---- consume never waits on the deliverer, the server or the breaker ------------------------- */

typedef struct consume_arg {
    ifx_sink *s;
    const ifx_sink_message *m;
    size_t n;
    double took;
} consume_arg;

static void *consume_thread(void *p)
{
    consume_arg *a = p;
    ifx_err e;
    double t0 = now_s();
    if (ifx_sink_consume(a->s, a->m, a->n, &e) != IFX_OK)
        a->took = -1;
    else
        a->took = now_s() - t0;
    return NULL;
}

static void test_consume_does_not_block_while_server_hangs(void **state)
{
    enum { B = 10, BATCHES = 5 };
    char spool[300], seg[400];
    ifx_sink_message m[B * BATCHES];
    ifx_sink_stats st;
    struct stat sb;
    size_t lines;
    double took;
    (void)state;
    snprintf(spool, sizeof spool, "%s/hang-spool", dir);
    for (int i = 0; i < B * BATCHES; i++)
        m[i] = msg((uint64_t)(1000 + i));
    json_decref(admin_call(v3.port, "POST", "/__admin/reset", NULL));
    book_reset();
    ifx_sink *s =
        open_sink(spool, "\"timeout\":\"1s\",\"retry_delay\":\"50ms\",\"retry_max_delay\":"
                         "\"200ms\",\"max_retries\":2,\"circuit_breaker_threshold\":2,"
                         "\"circuit_breaker_cool_down\":\"700ms\"");
    json_decref(admin_call(v3.port, "POST", "/__admin/fault",
                           "{\"count\":100000,\"hang_ms\":60000,\"paths\":[\"" WRITE "\"]}"));

    took = timed_consume(s, m, B);
    fprintf(stderr, "consume while the server hangs: %.1f ms (deliverer idle)\n", took * 1e3);
    assert_true(took < 0.5);
    /* the deliverer is inside a request the server holds */
    for (int i = 0; i < 100 && write_requests(NULL) == 0; i++)
        ifx_sleep(NULL, 20000000ULL);
    assert_true(write_requests(NULL) >= 1);
    took = timed_consume(s, m + B, B);
    fprintf(stderr, "consume while the deliverer waits on a hung request: %.1f ms\n", took * 1e3);
    assert_true(took < 0.5);
    ifx_sink_get_stats(s, &st);
    assert_int_equal(st.spooled, 2 * B);
    assert_int_equal(st.spool_records, 2);
    assert_int_equal(st.written, 0);
    snprintf(seg, sizeof seg, "%s/0000000000000001.spool", spool);
    assert_int_equal(stat(seg, &sb), 0);
    assert_true(sb.st_size > 0); /* the batches are on disk */

    /* the breaker opens after the timeouts: consume does not wait on it either */
    for (int i = 0; i < 300; i++) {
        ifx_sink_get_stats(s, &st);
        if (st.breaker == IFX_BREAKER_OPEN)
            break;
        ifx_sleep(NULL, 20000000ULL);
    }
    assert_int_equal(st.breaker, IFX_BREAKER_OPEN);
    took = timed_consume(s, m + 2 * B, B);
    fprintf(stderr, "consume with the breaker open: %.1f ms\n", took * 1e3);
    assert_true(took < 0.5);

    /* two consumes at once (two topics), still not waiting */
    pthread_t th[2];
    consume_arg a[2] = {{s, m + 3 * B, B, 0}, {s, m + 4 * B, B, 0}};
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, consume_thread, &a[i]);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        fprintf(stderr, "concurrent consume %d: %.1f ms\n", i, a[i].took * 1e3);
        assert_true(a[i].took >= 0 && a[i].took < 0.5);
    }
    ifx_sink_get_stats(s, &st);
    assert_int_equal(st.spooled, B * BATCHES);
    assert_int_equal(st.spool_records, BATCHES);
    assert_int_equal(stored_points(), 0);

    /* the server recovers: everything is written, exactly once */
    json_decref(admin_call(v3.port, "DELETE", "/__admin/fault", NULL));
    wait_delivered(s, B * BATCHES, 15);
    ifx_sink_get_stats(s, &st);
    assert_int_equal(st.written, B * BATCHES);
    expect_counters_add_up(s);
    size_t reqs = write_requests(&lines);
    fprintf(stderr, "after recovery: %zu write requests, %zu lines stored\n", reqs, lines);
    assert_int_equal(lines, B * BATCHES);
    assert_int_equal(stored_points(), B * BATCHES);
    close_sink(s);
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
    small_fs_unmount();
    return fixture_remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_full_disk_while_marking_delivered, teardown_test),
        cmocka_unit_test_teardown(test_consume_does_not_block_while_server_hangs, teardown_test),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
