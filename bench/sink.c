/* bench_sink — end-to-end throughput of the Iggy sink plugin: postcard batches handed to the
 * real libiggy_connector_influxdb_sink.so (dlopen'ed as the connectors runtime does) until the
 * server has answered every write.
 *
 * The server is a small HTTP/1.1 sink inside this program (a listening thread on 127.0.0.1 and a
 * thread per connection) that answers GET with 200 and every write with 204 No Content,
 * keep-alive, and counts the lines and bytes it received, after answering, so that it costs the
 * client as little as possible. The Python test server is far slower than the connector.
 *
 * Configuration: v3, default sink options, batch_size 500. Each run sends batches of 1000
 * messages with ~200-byte JSON payloads, once with gzip on and once with it off, and prints
 * messages/s and payload MB/s (time spent inside iggy_sink_consume only; encoding the postcard
 * batches is not counted), requests and wire bytes, allocations per message in steady state
 * (malloc/calloc/realloc calls on the consuming thread, counted by interposing them in this
 * executable: a dlopen'ed library binds to the executable's malloc first), and peak RSS.
 * It checks that the server received exactly the lines sent, and nothing else.
 *
 * Usage: bench_sink [batches per run] (default 500). Plugin path: IFX_SINK_PLUGIN, or argv[2].
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <libdeflate.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ifx/buf.h"
#include "ifx/postcard.h"
#include "iggy/iggy_abi.h"

#define PER_BATCH 1000
#define WARMUP    5
#define VARIANTS  64

/* ---- allocation counting (not in sanitizer builds, whose runtime owns malloc) -------------- */

#if defined(__SANITIZE_ADDRESS__)
#define IFX_BENCH_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IFX_BENCH_SANITIZED 1
#endif
#endif

/* Counted only on a thread that asks for it (the consuming one), so the server threads of this
 * benchmark do not add to the figure. */
static _Thread_local bool count_allocs;
static unsigned long long alloc_calls; /* written by the counting thread only */

#ifndef IFX_BENCH_SANITIZED
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

void *malloc(size_t n)
{
    if (count_allocs)
        alloc_calls++;
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
    if (count_allocs)
        alloc_calls++;
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
    if (count_allocs)
        alloc_calls++;
    return __libc_realloc(p, n);
}
void free(void *p)
{
    __libc_free(p);
}
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the HTTP sink server ------------------------------------------------------------------ */

#define MAX_CONNS  16
#define MAX_HEADER 16384
#define MAX_BODY   (16u << 20)

typedef struct server {
    int listen_fd;
    int port;
    pthread_t acceptor;
    pthread_mutex_t lock;
    pthread_t conns[MAX_CONNS];
    int nconns;
    _Atomic unsigned long long received, counted; /* requests read in full, and counted */
    _Atomic unsigned long long writes, other_requests, lines, wire_bytes, raw_bytes, bad_bodies;
} server;

typedef struct conn {
    server *srv;
    int fd;
} conn;

static bool send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

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

/* Case-insensitive header lookup in the raw header block; the value's start or NULL. */
static const char *header(const char *head, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n"))
        if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
            const char *v = p + 3 + n;
            while (*v == ' ')
                v++;
            return v;
        }
    return NULL;
}

/* The end of the header block (its CRLF CRLF) in the first n bytes, or NULL. */
static char *header_end(char *p, size_t n)
{
    for (size_t i = 3; i < n; i++)
        if (p[i] == '\n' && p[i - 1] == '\r' && p[i - 2] == '\n' && p[i - 3] == '\r')
            return p + i - 3;
    return NULL;
}

static void *serve_conn(void *arg)
{
    conn c = *(conn *)arg;
    server *s = c.srv;
    /* Buffers are allocated once per connection, never per request. */
    char *buf = malloc(MAX_HEADER + MAX_BODY), *plain = malloc(MAX_BODY);
    struct libdeflate_decompressor *inflater = libdeflate_alloc_decompressor();
    size_t have = 0;
    free(arg);

    while (buf && plain && inflater) {
        /* headers */
        char *end = NULL;
        while (!(end = header_end(buf, have))) {
            if (have == MAX_HEADER)
                goto out;
            ssize_t k = recv(c.fd, buf + have, MAX_HEADER - have, 0);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                goto out;
            have += (size_t)k;
        }
        size_t head_len = (size_t)(end - buf) + 4;
        char saved = buf[head_len - 2];
        buf[head_len - 2] = '\0'; /* the header block as a string, ending in one CRLF */
        const char *cl = header(buf, "Content-Length");
        const char *ce = header(buf, "Content-Encoding");
        const char *ex = header(buf, "Expect");
        bool is_get = strncmp(buf, "GET ", 4) == 0;
        bool gzip = ce && strncasecmp(ce, "gzip", 4) == 0;
        bool expect = ex && strncasecmp(ex, "100-continue", 12) == 0;
        size_t body_len = cl ? strtoull(cl, NULL, 10) : 0;
        buf[head_len - 2] = saved;
        if (body_len > MAX_BODY)
            goto out;
        if (expect && !send_all(c.fd, "HTTP/1.1 100 Continue\r\n\r\n", 25))
            goto out;
        /* body */
        while (have < head_len + body_len) {
            ssize_t k = recv(c.fd, buf + have, head_len + body_len - have, 0);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                goto out;
            have += (size_t)k;
        }
        /* before the answer: once the client has it, the wait at the end of a run sees this */
        atomic_fetch_add(&s->received, 1);
        static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                 "Content-Length: 2\r\n\r\nOK";
        static const char no_content[] = "HTTP/1.1 204 No Content\r\n\r\n";
        if (is_get ? !send_all(c.fd, ok, sizeof ok - 1)
                   : !send_all(c.fd, no_content, sizeof no_content - 1))
            goto out;
        /* counted after the answer, while the client builds its next batch */
        const char *body = buf + head_len;
        if (is_get) {
            atomic_fetch_add(&s->other_requests, 1);
        } else {
            size_t n = body_len;
            if (gzip) {
                size_t out_len = 0;
                if (libdeflate_gzip_decompress(inflater, body, body_len, plain, MAX_BODY,
                                               &out_len) != LIBDEFLATE_SUCCESS) {
                    atomic_fetch_add(&s->bad_bodies, 1);
                    out_len = 0;
                }
                body = plain;
                n = out_len;
            }
            atomic_fetch_add(&s->wire_bytes, body_len);
            atomic_fetch_add(&s->raw_bytes, n);
            atomic_fetch_add(&s->lines, count_lines(body, n));
            atomic_fetch_add(&s->writes, 1);
        }
        atomic_fetch_add(&s->counted, 1);
        /* keep what belongs to the next request (pipelining is not used, but be exact) */
        size_t used = head_len + body_len;
        memmove(buf, buf + used, have - used);
        have -= used;
    }
out:
    close(c.fd);
    libdeflate_free_decompressor(inflater);
    free(buf);
    free(plain);
    return NULL;
}

static void *accept_loop(void *arg)
{
    server *s = arg;
    for (;;) {
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL; /* the listening socket was shut down */
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn *c = malloc(sizeof *c);
        pthread_mutex_lock(&s->lock);
        bool room = c && s->nconns < MAX_CONNS;
        if (room) {
            *c = (conn){s, fd};
            room = pthread_create(&s->conns[s->nconns], NULL, serve_conn, c) == 0;
            if (room)
                s->nconns++;
        }
        pthread_mutex_unlock(&s->lock);
        if (!room) {
            close(fd);
            free(c);
        }
    }
}

static int server_start(server *s)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t alen = sizeof a;
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(s->listen_fd, 16) != 0 ||
        getsockname(s->listen_fd, (struct sockaddr *)&a, &alen) != 0)
        return -1;
    s->port = ntohs(a.sin_port);
    return pthread_create(&s->acceptor, NULL, accept_loop, s) == 0 ? 0 : -1;
}

/* Stops accepting and waits for every connection to end (the client closes them). */
static void server_stop(server *s)
{
    shutdown(s->listen_fd, SHUT_RDWR);
    pthread_join(s->acceptor, NULL);
    close(s->listen_fd);
    for (int i = 0; i < s->nconns; i++)
        pthread_join(s->conns[i], NULL);
    pthread_mutex_destroy(&s->lock);
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

static char payloads[VARIANTS][512];
static size_t payload_lens[VARIANTS];

static void make_payloads(void)
{
    /* Pretty-ish JSON of about 200 bytes, as a producer would send it. */
    for (int i = 0; i < VARIANTS; i++) {
        int n = snprintf(payloads[i], sizeof payloads[i],
                         "{\"order_id\": %d, \"customer\": \"c-%05d\", \"items\": [{\"sku\": "
                         "\"A-%03d\", \"qty\": %d}, {\"sku\": \"B-7\", \"qty\": 1}], \"total\": "
                         "%d.%02d, \"currency\": \"EUR\", \"paid\": true, \"note\": \"leave at "
                         "door \\\"B\\\"\", \"ts\": \"2026-11-26T01:00:%02dZ\"}",
                         100000 + i * 7919, i * 31, i, 1 + i % 5, 10 + i, i % 100, i % 60);
        payload_lens[i] = (size_t)n;
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
        size_t v = (size_t)(off % VARIANTS);
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
    if (ifx_pc_encode_topic_meta(&bb->tm, "orders", "eu-west") ||
        ifx_pc_encode_messages_meta(&bb->mm, &meta) ||
        ifx_pc_encode_raw_messages(&bb->raw, IFX_SCHEMA_JSON, bb->msgs, PER_BATCH)) {
        fprintf(stderr, "bench_sink: cannot encode a batch\n");
        exit(1);
    }
    return payload;
}

typedef struct run_result {
    double secs;
    unsigned long long messages, payload_bytes, allocs, requests, wire_bytes, lp_bytes;
} run_result;

/* One pass: open a new id, warm up, time `batches` batches, close, check the server's count. */
static int run(server *s, uint32_t id, bool gzip, long batches, batch_bufs *bb, run_result *r)
{
    char cfg[512];
    int n = snprintf(cfg, sizeof cfg,
                     "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"bench\","
                     "\"token\":\"bench-token\",\"batch_size\":500,\"gzip\":%s}",
                     s->port, gzip ? "true" : "false");
    uint8_t *exact = malloc((size_t)n); /* not NUL-terminated, as the runtime passes it */
    unsigned long long lines0 = atomic_load(&s->lines), writes0 = atomic_load(&s->writes),
                       wire0 = atomic_load(&s->wire_bytes), raw0 = atomic_load(&s->raw_bytes);

    memset(r, 0, sizeof *r);
    memcpy(exact, cfg, (size_t)n);
    if (sink_open(id, exact, (size_t)n, on_log) != 0) {
        fprintf(stderr, "bench_sink: open failed\n");
        return -1;
    }
    free(exact);
    for (long b = 0; b < WARMUP + batches; b++) {
        size_t payload = encode_batch(bb, (uint64_t)b);
        bool timed = b >= WARMUP;
        unsigned long long a0 = alloc_calls;
        count_allocs = true;
        double t0 = now_s();
        int32_t rc =
            sink_consume(id, (const uint8_t *)bb->tm.data, bb->tm.len, (const uint8_t *)bb->mm.data,
                         bb->mm.len, (const uint8_t *)bb->raw.data, bb->raw.len);
        double t1 = now_s();
        count_allocs = false;
        if (rc != 0) {
            fprintf(stderr, "bench_sink: consume returned %d\n", rc);
            return -1;
        }
        if (timed) {
            r->secs += t1 - t0;
            r->messages += PER_BATCH;
            r->payload_bytes += payload;
            r->allocs += alloc_calls - a0;
        }
    }
    if (sink_close(id) != 0) {
        fprintf(stderr, "bench_sink: close failed\n");
        return -1;
    }
    /* The server counts after answering: wait until it has counted every request it read. */
    for (int i = 0; i < 500; i++) {
        if (atomic_load(&s->counted) == atomic_load(&s->received))
            break;
        struct timespec t = {0, 10000000L};
        nanosleep(&t, NULL);
    }
    unsigned long long lines = atomic_load(&s->lines) - lines0;
    unsigned long long expect = (unsigned long long)(WARMUP + batches) * PER_BATCH;
    r->requests = atomic_load(&s->writes) - writes0;
    r->wire_bytes = atomic_load(&s->wire_bytes) - wire0;
    r->lp_bytes = atomic_load(&s->raw_bytes) - raw0;
    if (lines != expect || atomic_load(&s->bad_bodies)) {
        fprintf(stderr,
                "bench_sink: the server received %llu lines, expected %llu (%llu bad bodies)\n",
                lines, expect, (unsigned long long)atomic_load(&s->bad_bodies));
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
#ifdef IFX_BENCH_SANITIZED
    printf("allocations n/a (sanitizer build)\n");
#else
    printf("%.3f allocations/message\n", (double)r->allocs / (double)r->messages);
#endif
}

int main(int argc, char **argv)
{
    long batches = argc > 1 ? atol(argv[1]) : 500;
    const char *path = argc > 2 ? argv[2] : IFX_SINK_PLUGIN;
    server srv;
    static batch_bufs bb;
    run_result gz, plain;

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
    if (server_start(&srv) != 0) {
        fprintf(stderr, "bench_sink: cannot start the HTTP sink server: %s\n", strerror(errno));
        return 1;
    }
    make_payloads();
    ifx_buf_init(&bb.tm, 1 << 10);
    ifx_buf_init(&bb.mm, 1 << 6);
    ifx_buf_init(&bb.raw, 64u << 20);

    printf("bench_sink: %s (%s)\n", path, sink_version());
    printf("  v3 to a local 204 server, batch_size 500, %ld batches of %d messages per run "
           "(+%d warm-up), ~%zu-byte JSON payloads\n",
           batches, PER_BATCH, WARMUP, payload_lens[0]);
    if (run(&srv, 1, true, batches, &bb, &gz) || run(&srv, 2, false, batches, &bb, &plain))
        return 1;
    server_stop(&srv);
    print_run("gzip on", &gz);
    print_run("gzip off", &plain);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("  peak RSS  %.1f MiB (the whole process: plugin, server threads and batches)\n",
           (double)ru.ru_maxrss / 1024.0);
    printf("  server    received exactly %llu lines in %llu writes (+%llu other requests)\n",
           (unsigned long long)atomic_load(&srv.lines),
           (unsigned long long)atomic_load(&srv.writes),
           (unsigned long long)atomic_load(&srv.other_requests));
    ifx_buf_free(&bb.tm);
    ifx_buf_free(&bb.mm);
    ifx_buf_free(&bb.raw);
    return 0;
}
