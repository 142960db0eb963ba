/* bench_sink — end-to-end throughput of the Iggy sink plugin: postcard batches handed to the
 * real libiggy_connector_influxdb_sink.so (dlopen'ed as the connectors runtime does) until the
 * server has answered every write.
 *
 * The server is the benchmarks' small HTTP/1.1 server (http_server.h: a listening thread on
 * 127.0.0.1 and a thread per connection, keep-alive) answering GET with 200 and every write with
 * 204 No Content; it counts the lines and bytes it received after answering, so that it costs the
 * client as little as possible, and keeps gzip bodies to inflate after the run (a real server
 * inflates on its own cores; this one shares the plugin's). The Python test server is far slower
 * than the connector.
 *
 * Configuration: v3, default sink options, batch_size 500. Each run sends batches of 1000
 * messages with ~200-byte JSON payloads, once with gzip on and once with it off, then the same
 * with high-entropy payloads (random words and numbers: gzip's hard case), and prints
 * messages/s and payload MB/s (time spent inside iggy_sink_consume only; encoding the postcard
 * batches is not counted), requests and wire bytes, allocations per message in steady state
 * (malloc/calloc/realloc calls during consume on every thread but the server's: the consuming
 * thread and the plugin's sender threads; counted by interposing them in this executable: a
 * dlopen'ed library binds to the executable's malloc first), peak RSS, and CPU time per message
 * three ways: the consuming thread inside consume (encoding), the plugin's other threads (the
 * sender: gzip, libcurl, the writer; the process's CPU less the main thread's and the
 * server's), and the server's connection threads.
 * It checks that the server received exactly the lines sent, and nothing else.
 *
 * Usage: bench_sink [batches per run] (default 500). Plugin path: IFX_SINK_PLUGIN, or argv[2].
 */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include "alloc_track.h"
#include "gunzip.h"
#include "table.h"
#include "http_server.h"
#include "ifx/buf.h"
#include "postcard_host.h"
#include "iggy/iggy_abi.h"

#define PER_BATCH    1000
#define MAX_BODY     (16u << 20) /* the largest write body taken, and inflated */
#define WARMUP       5
#define VARIANTS     64
#define HIGH_ENTROPY 4096

/* CPU time of the calling thread: inside consume, the encoder (the sender thread compresses and
 * sends), apart from the server's threads on the same cores. */
static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double process_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the HTTP sink server ------------------------------------------------------------------ */

/* What the server received: the lines of every write, counted after the answer (http_server.h).
 * A gzip body is kept as it came and inflated after the run (inflate_kept): a real server
 * inflates on its own cores, and here the server shares the plugin's two, where inflating every
 * body while the plugin runs would charge the plugin's gzip figure with the server's work. */
typedef struct kept_body {
    char *p;
    size_t n;
} kept_body;

typedef struct sink_counts {
    _Atomic unsigned long long writes, other_requests, lines, wire_bytes, raw_bytes, bad_bodies;
    pthread_mutex_t lock; /* guards kept */
    kept_body *kept;
    size_t nkept, cap_kept;
} sink_counts;

static size_t count_lines(const char *p, size_t n)
{
    size_t lines = 0;
    for (size_t i = 0; i < n;) {
        const char *e = memchr(p + i, '\n', n - i);
        size_t end = e ? (size_t)(e - p) : n;
        if (end > i)
            lines++;
        i = end + 1;
    }
    return lines;
}

static void sink_answer(void *ud, const bench_http_request *req, bench_http_response *res)
{
    (void)ud;
    if (strcmp(req->method, "GET") == 0) {
        *res = (bench_http_response){
            .status = 200, .content_type = "text/plain", .body = "OK", .body_len = 2};
    } else {
        res->status = 204;
    }
}

/* Counted after the answer, while the client builds its next batch. */
static void sink_count(void *ud, const bench_http_request *req, const bench_http_response *res)
{
    sink_counts *k = ud;
    const char *ce = bench_http_header(req, "Content-Encoding");
    const char *body = req->body;
    size_t n = req->body_len;
    (void)res;

    if (strcmp(req->method, "GET") == 0) {
        atomic_fetch_add(&k->other_requests, 1);
        return;
    }
    atomic_fetch_add(&k->wire_bytes, req->body_len);
    atomic_fetch_add(&k->writes, 1);
    if (ce && strncasecmp(ce, "gzip", 4) == 0) {
        char *copy = malloc(n ? n : 1);
        pthread_mutex_lock(&k->lock);
        if (copy && k->nkept == k->cap_kept) {
            size_t cap = k->cap_kept ? 2 * k->cap_kept : 1024;
            kept_body *more = realloc(k->kept, cap * sizeof *more);
            if (more) {
                k->kept = more;
                k->cap_kept = cap;
            }
        }
        if (copy && k->nkept < k->cap_kept) {
            memcpy(copy, body, n);
            k->kept[k->nkept++] = (kept_body){copy, n};
        } else {
            free(copy);
            atomic_fetch_add(&k->bad_bodies, 1);
        }
        pthread_mutex_unlock(&k->lock);
        return;
    }
    atomic_fetch_add(&k->raw_bytes, n);
    atomic_fetch_add(&k->lines, count_lines(body, n));
}

/* Inflates the gzip bodies kept since the last call and counts their lines. */
static void inflate_kept(sink_counts *k)
{
    char *plain = malloc(MAX_BODY);
    pthread_mutex_lock(&k->lock);
    for (size_t i = 0; i < k->nkept; i++) {
        size_t out_len = 0;
        if (!plain || !test_gunzip(k->kept[i].p, k->kept[i].n, plain, MAX_BODY, &out_len))
            atomic_fetch_add(&k->bad_bodies, 1);
        else {
            atomic_fetch_add(&k->raw_bytes, out_len);
            atomic_fetch_add(&k->lines, count_lines(plain, out_len));
        }
        free(k->kept[i].p);
    }
    k->nkept = 0;
    pthread_mutex_unlock(&k->lock);
    free(plain);
}

/* ---- the runtime's side ------------------------------------------------------------------- */

static iggy_sink_open_fn sink_open;
static iggy_sink_consume_fn sink_consume;
static iggy_sink_close_fn sink_close;
static iggy_sink_version_fn sink_version;
static bool verbose;

static void on_log(uint8_t level, const uint8_t *target, size_t target_len, const uint8_t *msg,
                   size_t msg_len)
{
    if (verbose || level >= 3)
        fprintf(stderr, "  [%u %.*s] %.*s\n", level, (int)target_len, (const char *)target,
                (int)msg_len, (const char *)msg);
}

static char payloads[HIGH_ENTROPY][512];
static size_t payload_lens[HIGH_ENTROPY];
static size_t n_payloads;

static uint64_t next_random(uint64_t *x)
{
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17; /* xorshift64 */
    return *x;
}

static void random_word(uint64_t *x, char *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        w[i] = (char)('a' + next_random(x) % 26);
    w[n] = '\0';
}

/* Pretty-ish JSON of about 200 bytes, as a producer would send it. The usual set is VARIANTS
 * payloads that differ in a few digits, which deflate squeezes to 0.05 of the line protocol.
 * The high-entropy set (gzip's hard case) is HIGH_ENTROPY payloads of the same layout whose
 * numbers and words are random, more payloads than a 32 KB deflate window holds: about 0.3. */
static void make_payloads(bool high_entropy)
{
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    n_payloads = high_entropy ? HIGH_ENTROPY : VARIANTS;
    for (size_t v = 0; v < n_payloads; v++) {
        int i = (int)v, n;
        if (!high_entropy) {
            n = snprintf(payloads[v], sizeof payloads[v],
                         "{\"order_id\": %d, \"customer\": \"c-%05d\", \"items\": [{\"sku\": "
                         "\"A-%03d\", \"qty\": %d}, {\"sku\": \"B-7\", \"qty\": 1}], \"total\": "
                         "%d.%02d, \"currency\": \"EUR\", \"paid\": true, \"note\": \"leave at "
                         "door \\\"B\\\"\", \"ts\": \"2026-11-26T01:00:%02dZ\"}",
                         100000 + i * 7919, i * 31, i, 1 + i % 5, 10 + i, i % 100, i % 60);
        } else {
            char cust[12], sku[8], w1[10], w2[8], w3[9];
            random_word(&x, cust, 10), random_word(&x, sku, 6);
            random_word(&x, w1, 8), random_word(&x, w2, 6), random_word(&x, w3, 7);
            n = snprintf(payloads[v], sizeof payloads[v],
                         "{\"order_id\": %u, \"customer\": \"%s-%05u\", \"items\": [{\"sku\": "
                         "\"%s\", \"qty\": %u}, {\"sku\": \"B-%u\", \"qty\": %u}], \"total\": "
                         "%u.%02u, \"currency\": \"EUR\", \"paid\": %s, \"note\": \"%s %s %s\", "
                         "\"ts\": \"2026-11-%02uT%02u:%02u:%02u.%06uZ\"}",
                         (unsigned)(next_random(&x) % 1000000000), cust,
                         (unsigned)(next_random(&x) % 100000), sku,
                         (unsigned)(next_random(&x) % 9 + 1), (unsigned)(next_random(&x) % 1000),
                         (unsigned)(next_random(&x) % 9 + 1), (unsigned)(next_random(&x) % 10000),
                         (unsigned)(next_random(&x) % 100), next_random(&x) % 2 ? "true" : "false",
                         w1, w2, w3, (unsigned)(next_random(&x) % 28 + 1),
                         (unsigned)(next_random(&x) % 24), (unsigned)(next_random(&x) % 60),
                         (unsigned)(next_random(&x) % 60), (unsigned)(next_random(&x) % 1000000));
        }
        payload_lens[v] = (size_t)n;
    }
}

typedef struct batch_bufs {
    ifx_buf tm, mm, raw;
    ifx_raw_message msgs[PER_BATCH];
} batch_bufs;

/* Encodes batch number b as the runtime would (outside the timed part); returns payload bytes. */
static size_t encode_batch(batch_bufs *bb, uint64_t b)
{
    size_t payload = 0;
    ifx_buf_reset(&bb->tm);
    ifx_buf_reset(&bb->mm);
    ifx_buf_reset(&bb->raw);
    for (size_t i = 0; i < PER_BATCH; i++) {
        uint64_t off = b * PER_BATCH + i;
        size_t v = (size_t)(off % n_payloads);
        bb->msgs[i] = (ifx_raw_message){
            .id = {0x0190ABCDEF012345ULL, off + 1},
            .offset = off,
            .checksum = 0x9E3779B97F4A7C15ULL ^ off,
            .timestamp = 1764118800000000ULL + off,
            .origin_timestamp = 1764118799000000ULL + off,
            .payload = (const uint8_t *)payloads[v],
            .payload_len = payload_lens[v],
        };
        payload += payload_lens[v];
    }
    ifx_messages_meta meta = {3, (b + 1) * PER_BATCH - 1, IFX_SCHEMA_JSON};
    if (pc_host_encode_topic_meta(&bb->tm, "orders", "eu-west") ||
        pc_host_encode_messages_meta(&bb->mm, &meta) ||
        pc_host_encode_raw_messages(&bb->raw, IFX_SCHEMA_JSON, bb->msgs, PER_BATCH)) {
        fprintf(stderr, "bench_sink: cannot encode a batch\n");
        exit(1);
    }
    return payload;
}

typedef struct run_result {
    double secs, cpu_secs; /* wall time inside consume, and its thread's CPU time */
    double sender_cpu_secs, server_cpu_secs; /* see the top of this file */
    unsigned long long messages, payload_bytes, allocs, requests, wire_bytes, lp_bytes;
} run_result;

/* One pass: open a new id, warm up, time `batches` batches, close, check the server's count. */
static int run(bench_http_server *srv, sink_counts *k, uint32_t id, bool gzip, long batches,
               batch_bufs *bb, run_result *r)
{
    char cfg[512];
    int n = snprintf(cfg, sizeof cfg,
                     "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"bench\","
                     "\"token\":\"bench-token\",\"batch_size\":500,\"gzip\":%s}",
                     bench_http_port(srv), gzip ? "true" : "false");
    uint8_t *exact = malloc((size_t)n); /* not NUL-terminated, as the runtime passes it */
    unsigned long long lines0 = atomic_load(&k->lines), writes0 = atomic_load(&k->writes),
                       wire0 = atomic_load(&k->wire_bytes), raw0 = atomic_load(&k->raw_bytes);
    bench_http_counters hc;
    double proc0 = 0, main0 = 0, proc1 = 0, main1 = 0;
    unsigned long long server0 = 0;

    memset(r, 0, sizeof *r);
    memcpy(exact, cfg, (size_t)n);
    if (sink_open(id, exact, (size_t)n, on_log) != 0) {
        fprintf(stderr, "bench_sink: open failed\n");
        return -1;
    }
    free(exact);
    for (long b = 0; b < WARMUP + batches; b++) {
        if (b == WARMUP) {
            bench_http_counters_get(srv, &hc);
            server0 = hc.cpu_ns;
            proc0 = process_cpu_s();
            main0 = thread_cpu_s();
        }
        size_t payload = encode_batch(bb, (uint64_t)b);
        bool timed = b >= WARMUP;
        unsigned long long a0 = alloc_track_calls();
        alloc_track_count_calls(true);
        double t0 = now_s(), cpu0 = thread_cpu_s();
        int32_t rc =
            sink_consume(id, (const uint8_t *)bb->tm.data, bb->tm.len, (const uint8_t *)bb->mm.data,
                         bb->mm.len, (const uint8_t *)bb->raw.data, bb->raw.len);
        double t1 = now_s(), cpu1 = thread_cpu_s();
        alloc_track_count_calls(false);
        if (rc != 0) {
            fprintf(stderr, "bench_sink: consume returned %d\n", rc);
            return -1;
        }
        if (timed) {
            r->secs += t1 - t0;
            r->cpu_secs += cpu1 - cpu0;
            r->messages += PER_BATCH;
            r->payload_bytes += payload;
            r->allocs += alloc_track_calls() - a0;
        }
    }
    proc1 = process_cpu_s();
    main1 = thread_cpu_s();
    if (sink_close(id) != 0) {
        fprintf(stderr, "bench_sink: close failed\n");
        return -1;
    }
    /* The server counts after answering: wait until it has counted every request it read. */
    for (int i = 0; i < 500; i++) {
        bench_http_counters_get(srv, &hc);
        if (hc.completed == hc.requests)
            break;
        struct timespec t = {0, 10000000L};
        nanosleep(&t, NULL);
    }
    inflate_kept(k);
    unsigned long long lines = atomic_load(&k->lines) - lines0;
    unsigned long long expect = (unsigned long long)(WARMUP + batches) * PER_BATCH;
    r->requests = atomic_load(&k->writes) - writes0;
    r->wire_bytes = atomic_load(&k->wire_bytes) - wire0;
    r->lp_bytes = atomic_load(&k->raw_bytes) - raw0;
    bench_http_counters_get(srv, &hc);
    r->server_cpu_secs = (double)(hc.cpu_ns - server0) / 1e9;
    r->sender_cpu_secs = (proc1 - proc0) - (main1 - main0) - r->server_cpu_secs;
    if (r->sender_cpu_secs < 0)
        r->sender_cpu_secs = 0;
    if (lines != expect || atomic_load(&k->bad_bodies) || hc.bad_requests) {
        fprintf(stderr,
                "bench_sink: the server received %llu lines, expected %llu (%llu bad bodies, "
                "%llu bad requests)\n",
                lines, expect, (unsigned long long)atomic_load(&k->bad_bodies), hc.bad_requests);
        return -1;
    }
    return 0;
}

static void print_run(const char *name, const run_result *r)
{
    printf("  %-9s %9.0f messages/s  %6.1f MB/s payload  %5llu requests  %6.1f MB on the wire "
           "(%.2f of the line protocol)  ",
           name, (double)r->messages / r->secs, (double)r->payload_bytes / r->secs / 1e6,
           r->requests, (double)r->wire_bytes / 1e6,
           r->lp_bytes ? (double)r->wire_bytes / (double)r->lp_bytes : 0.0);
    if (!alloc_track_available())
        printf("allocations n/a (sanitizer build)\n");
    else
        printf("%.3f allocations/message\n", (double)r->allocs / (double)r->messages);
}

int main(int argc, char **argv)
{
    long batches = argc > 1 ? atol(argv[1]) : 500;
    const char *path = argc > 2 ? argv[2] : IFX_SINK_PLUGIN;
    static sink_counts counts = {.lock = PTHREAD_MUTEX_INITIALIZER};
    bench_http_config hcfg = {
        .handle = sink_answer, .after = sink_count, .ud = &counts, .max_body = MAX_BODY};
    bench_http_server *srv;
    static batch_bufs bb;
    run_result gz, plain, gz_he, plain_he; /* _he: the high-entropy payloads */

    verbose = getenv("IFX_BENCH_VERBOSE") != NULL;
    if (batches < 1)
        batches = 1;
    void *lib = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "bench_sink: dlopen %s: %s\n", path, dlerror());
        return 1;
    }
    *(void **)&sink_open = dlsym(lib, "iggy_sink_open");
    *(void **)&sink_consume = dlsym(lib, "iggy_sink_consume");
    *(void **)&sink_close = dlsym(lib, "iggy_sink_close");
    *(void **)&sink_version = dlsym(lib, "iggy_sink_version");
    if (!sink_open || !sink_consume || !sink_close || !sink_version) {
        fprintf(stderr, "bench_sink: %s lacks a sink symbol\n", path);
        return 1;
    }
    if (!(srv = bench_http_start(&hcfg))) {
        fprintf(stderr, "bench_sink: cannot start the HTTP sink server: %s\n", strerror(errno));
        return 1;
    }
    make_payloads(false);
    ifx_buf_init(&bb.tm, 1 << 10);
    ifx_buf_init(&bb.mm, 1 << 6);
    ifx_buf_init(&bb.raw, 64u << 20);

    printf("bench_sink: %s (%s)\n", path, sink_version());
    printf("  v3 to a local 204 server, batch_size 500, %ld batches of %d messages per run "
           "(+%d warm-up), ~%zu-byte JSON payloads\n",
           batches, PER_BATCH, WARMUP, payload_lens[0]);
    if (run(srv, &counts, 1, true, batches, &bb, &gz) ||
        run(srv, &counts, 2, false, batches, &bb, &plain))
        return 1;
    make_payloads(true);
    if (run(srv, &counts, 3, true, batches, &bb, &gz_he) ||
        run(srv, &counts, 4, false, batches, &bb, &plain_he))
        return 1;
    bench_http_stop(srv);
    print_run("gzip on", &gz);
    print_run("gzip off", &plain);
    printf("  high-entropy payloads (%d different ones, random words and numbers):\n",
           HIGH_ENTROPY);
    print_run("gzip on", &gz_he);
    print_run("gzip off", &plain_he);
    printf(
        "  inside consume, CPU of the consuming thread: %.2f us/message gzip off, %.2f gzip on\n",
        plain.cpu_secs / (double)plain.messages * 1e6, gz.cpu_secs / (double)gz.messages * 1e6);
    printf("  the plugin's sender threads (gzip, libcurl, writer): %.2f us/message gzip off, %.2f "
           "gzip on\n",
           plain.sender_cpu_secs / (double)plain.messages * 1e6,
           gz.sender_cpu_secs / (double)gz.messages * 1e6);
    printf("  the server's threads: %.2f us/message gzip off, %.2f gzip on\n",
           plain.server_cpu_secs / (double)plain.messages * 1e6,
           gz.server_cpu_secs / (double)gz.messages * 1e6);
    bench_table("sink: gzip off", (double)plain.messages / plain.secs, "msg/s", 0, "-");
    bench_table("sink: consume CPU, gzip off", plain.cpu_secs / (double)plain.messages * 1e6,
                "us/msg", 0, "-");
    bench_table("sink: sender threads' CPU, gzip off",
                plain.sender_cpu_secs / (double)plain.messages * 1e6, "us/msg", 0, "-");
    bench_table("sink: server's CPU, gzip off",
                plain.server_cpu_secs / (double)plain.messages * 1e6, "us/msg", 0, "-");
    bench_table("sink: gzip on / gzip off",
                ((double)gz.messages / gz.secs) / ((double)plain.messages / plain.secs), "ratio", 0,
                "-");
    bench_table("sink: gzip on / off, high-entropy payloads",
                ((double)gz_he.messages / gz_he.secs) / ((double)plain_he.messages / plain_he.secs),
                "ratio", 0, "-");
    bench_table("sink: gzip on, high-entropy: wire / line protocol",
                (double)gz_he.wire_bytes / (double)gz_he.lp_bytes, "ratio", 0, "-");
    if (alloc_track_available())
        bench_table("sink: allocations", (double)plain.allocs / (double)plain.messages,
                    "per message", 0, "-");
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("  peak RSS  %.1f MiB (the whole process: plugin, server threads and batches)\n",
           (double)ru.ru_maxrss / 1024.0);
    printf("  server    received exactly %llu lines in %llu writes (+%llu other requests)\n",
           (unsigned long long)atomic_load(&counts.lines),
           (unsigned long long)atomic_load(&counts.writes),
           (unsigned long long)atomic_load(&counts.other_requests));
    ifx_buf_free(&bb.tm);
    ifx_buf_free(&bb.mm);
    ifx_buf_free(&bb.raw);
    return 0;
}
