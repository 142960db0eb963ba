/* `ifx sink --metrics-listen` and `ifx source --metrics-listen`: the Prometheus endpoint read by a
 * test while the command runs, against the v3 test server. The sink keeps reading its stdin
 * (held open by the test) and the source polls until SIGTERM, so the counters are read "after
 * the run" of the messages and compared with what the test server saw. Also: the exact text of
 * the renderers, the HTTP answers of the endpoint (200, HEAD, 404, 405, 400, 408, 431, 500),
 * and the errors for bad --metrics-listen values (exit 2) and a port already in use (exit 1). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "cli/metrics.h"
#include "cli_run.h"
#include "fixture.h"
#include "ifx/client.h"
#include "ifx/config.h"
#include "ifx/resilience.h"

#define TOKEN "ifx-test-token"

static fixture v3;
static char dir[] = "/tmp/ifx-cli-metrics-XXXXXX";
static char sink_cfg[256], source_cfg[256];

/* ---- HTTP by hand ------------------------------------------------------------------------------
 */

typedef struct http_answer {
    int status;
    char *raw;        /* the whole answer, NUL-terminated (caller frees with answer_free) */
    const char *body; /* into raw, after the blank line */
    size_t body_len;
} http_answer;

/* Sends request as is to 127.0.0.1:port and reads the answer until the server closes. */
static http_answer http_raw(int port, const char *request)
{
    http_answer a = {0};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {.tv_sec = 10};
    size_t cap = 1 << 16, n = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        fail_msg("connect to the metrics port %d: %s", port, strerror(errno));
    assert_int_equal(send(fd, request, strlen(request), MSG_NOSIGNAL), (ssize_t)strlen(request));
    a.raw = malloc(cap + 1);
    for (;;) {
        ssize_t k = recv(fd, a.raw + n, cap - n, 0);
        if (k <= 0)
            break;
        n += (size_t)k;
        if (n == cap)
            a.raw = realloc(a.raw, (cap *= 2) + 1);
    }
    close(fd);
    a.raw[n] = '\0';
    if (sscanf(a.raw, "HTTP/1.1 %d ", &a.status) != 1)
        fail_msg("not an HTTP answer: [%s]", a.raw);
    char *blank = strstr(a.raw, "\r\n\r\n");
    assert_non_null(blank);
    a.body = blank + 4;
    a.body_len = n - (size_t)(a.body - a.raw);
    return a;
}

static http_answer http_get(int port, const char *method, const char *target)
{
    char req[512];
    snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: test\r\n\r\n",
             method, target, port);
    return http_raw(port, req);
}

static void answer_free(http_answer *a)
{
    free(a->raw);
}

/* The value of header name ("" when absent); points into a static buffer. */
static const char *header(const http_answer *a, const char *name)
{
    static char value[256];
    char key[128];
    snprintf(key, sizeof key, "\r\n%s: ", name);
    const char *p = strstr(a->raw, key);
    value[0] = '\0';
    if (p && p < a->body) {
        p += strlen(key);
        size_t n = strcspn(p, "\r");
        snprintf(value, sizeof value, "%.*s", (int)n, p);
    }
    return value;
}

/* GET /metrics: the page (caller frees). */
static char *scrape(int port)
{
    http_answer a = http_get(port, "GET", "/metrics");
    if (a.status != 200)
        fail_msg("GET /metrics: %d\n%s", a.status, a.raw);
    char *page = strdup(a.body);
    answer_free(&a);
    return page;
}

/* The value of the sample whose name and labels are series exactly, or -1 when absent. */
static double sample(const char *page, const char *series)
{
    size_t n = strlen(series);
    for (const char *line = page; *line;) {
        if (strncmp(line, series, n) == 0 && line[n] == ' ')
            return strtod(line + n + 1, NULL);
        const char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    return -1;
}

/* Fails with the page when the sample is not want. */
static void expect_sample(const char *page, const char *series, double want)
{
    double got = sample(page, series);
    if (got != want)
        fail_msg("%s is %g, want %g, in\n%s", series, got, want, page);
}

#define SINK(name)                sample(page, name "{connector=\"sink\"}")
#define SOURCE(name)              sample(page, name "{connector=\"source\"}")
#define EXPECT_SINK(name, want)   expect_sample(page, name "{connector=\"sink\"}", want)
#define EXPECT_SOURCE(name, want) expect_sample(page, name "{connector=\"source\"}", want)

/* Checks a histogram: HELP and TYPE, buckets cumulative in increasing le, the last le="+Inf"
 * and equal to _count; returns _count. */
static double check_histogram(const char *page, const char *name, const char *connector)
{
    char key[256];
    double prev = 0, prev_le = -1, count;
    int buckets = 0;
    snprintf(key, sizeof key, "# TYPE %s histogram\n", name);
    assert_non_null(strstr(page, key));
    snprintf(key, sizeof key, "%s_bucket{connector=\"%s\",le=\"", name, connector);
    for (const char *p = strstr(page, key); p; p = strstr(p + 1, key)) {
        const char *le = p + strlen(key);
        double bound = strncmp(le, "+Inf\"", 5) == 0 ? 1e300 : strtod(le, NULL);
        const char *v = strchr(le, ' ');
        double value = strtod(v + 1, NULL);
        assert_true(bound > prev_le);
        assert_true(value >= prev);
        prev_le = bound;
        prev = value;
        buckets++;
    }
    assert_int_equal(buckets, IFX_LATENCY_BOUNDS + 1);
    assert_true(prev_le == 1e300); /* the last one is +Inf */
    snprintf(key, sizeof key, "%s_count{connector=\"%s\"}", name, connector);
    count = sample(page, key);
    assert_true(count == prev);
    snprintf(key, sizeof key, "%s_sum{connector=\"%s\"}", name, connector);
    double sum = sample(page, key);
    assert_true(count == 0 ? sum == 0 : sum > 0);
    return count;
}

/* ---- running ifx with its stdin held by the test ----------------------------------------------
 */

typedef struct proc {
    pid_t pid;
    int in_fd;
    char out_path[300], err_path[300];
    int metrics_port;
} proc;

static void proc_start(proc *p, const char *name, const char *const args[])
{
    int in[2];
    char *argv[32];
    size_t n = 0;
    argv[n++] = "ifx";
    for (; args[n - 1] && n < 31; n++)
        argv[n] = (char *)args[n - 1];
    argv[n] = NULL;
    snprintf(p->out_path, sizeof p->out_path, "%s/%s.out", dir, name);
    snprintf(p->err_path, sizeof p->err_path, "%s/%s.err", dir, name);
    assert_int_equal(pipe(in), 0);
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        int out = open(p->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(p->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(in[0], 0);
        dup2(out, 1);
        dup2(err, 2);
        close(in[0]);
        close(in[1]);
        close(out);
        close(err);
        close(v3.stdin_fd); /* the fixture stops when the test goes, not when ifx does */
        execv(IFX_BIN, argv);
        _exit(127);
    }
    close(in[0]);
    p->in_fd = in[1];
    p->metrics_port = 0;
}

/* Waits for "ifx: metrics on http://127.0.0.1:PORT/metrics" on its stderr. */
static void proc_wait_metrics(proc *p)
{
    static const char prefix[] = "ifx: metrics on http://127.0.0.1:";
    for (int i = 0; i < 600; i++) {
        char *err = test_slurp(p->err_path);
        const char *m = strstr(err, prefix);
        if (m)
            p->metrics_port = atoi(m + strlen(prefix));
        if (!m && waitpid(p->pid, NULL, WNOHANG) == p->pid)
            fail_msg("ifx ended before serving metrics:\n%s", err);
        free(err);
        if (p->metrics_port > 0)
            return;
        ifx_sleep(NULL, 50000000ULL);
    }
    fail_msg("ifx did not print its metrics URL");
}

static void proc_write(proc *p, const char *text)
{
    size_t n = strlen(text);
    assert_int_equal(write(p->in_fd, text, n), (ssize_t)n);
}

/* Closes its stdin (when sig is 0) or sends sig, and returns the exit status. */
static int proc_finish(proc *p, int sig)
{
    int st;
    if (p->in_fd >= 0)
        close(p->in_fd);
    p->in_fd = -1;
    if (sig)
        kill(p->pid, sig);
    for (int i = 0; i < 600; i++) {
        if (waitpid(p->pid, &st, WNOHANG) == p->pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        ifx_sleep(NULL, 50000000ULL);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &st, 0);
    fail_msg("ifx did not end");
    return -1;
}

/* Scrapes until cond(page) holds (at most 30 s); returns the page (caller frees). */
static char *scrape_until(int port, bool (*cond)(const char *page))
{
    for (int i = 0; i < 600; i++) {
        char *page = scrape(port);
        if (cond(page))
            return page;
        free(page);
        ifx_sleep(NULL, 50000000ULL);
    }
    char *page = scrape(port);
    fail_msg("the metrics never got there:\n%s", page);
    return page;
}

/* Requests the test server logged for path. */
static size_t server_requests(const char *path)
{
    json_t *log = admin_call(v3.port, "GET", "/__admin/requests", NULL), *r;
    size_t i, n = 0;
    json_array_foreach(log, i, r) n +=
        strcmp(json_string_value(json_object_get(r, "path")), path) == 0;
    json_decref(log);
    return n;
}

static void reset(void)
{
    json_decref(admin_call(v3.port, "POST", "/__admin/reset", NULL));
}

/* ---- the renderers, exactly -------------------------------------------------------------------
 */

static void test_render_sink_exact(void **state)
{
    ifx_sink_stats st = {.received = 11,
                         .written = 9,
                         .rejected = 1,
                         .pending = 1,
                         .spooled = 4,
                         .spool_records = 2,
                         .retried = 3,
                         .requests = 7,
                         .bytes_sent = 1234,
                         .breaker = IFX_BREAKER_OPEN,
                         .write_latency = {.count = 7,
                                           .sum_us = 2500001,
                                           .bucket = {1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1}}};
    ifx_buf out;
    (void)state;
    ifx_buf_init(&out, 1 << 20);
    assert_int_equal(cli_metrics_render_sink(&st, "a\"b\\c\nd", &out), IFX_OK);
#define L        "{connector=\"a\\\"b\\\\c\\nd\""
#define B(le, v) "ifx_sink_write_duration_seconds_bucket" L ",le=\"" le "\"} " #v "\n"
    static const char want[] =
        "# HELP ifx_sink_messages_received_total Messages given to the sink.\n"
        "# TYPE ifx_sink_messages_received_total counter\n"
        "ifx_sink_messages_received_total" L "} 11\n"
        "# HELP ifx_sink_messages_written_total Messages the server stored.\n"
        "# TYPE ifx_sink_messages_written_total counter\n"
        "ifx_sink_messages_written_total" L "} 9\n"
        "# HELP ifx_sink_messages_rejected_total Messages refused as invalid (dead-lettered).\n"
        "# TYPE ifx_sink_messages_rejected_total counter\n"
        "ifx_sink_messages_rejected_total" L "} 1\n"
        "# HELP ifx_sink_messages_pending Messages not written yet (transient failures).\n"
        "# TYPE ifx_sink_messages_pending gauge\n"
        "ifx_sink_messages_pending" L "} 1\n"
        "# HELP ifx_sink_messages_spooled_total Messages appended to the spool.\n"
        "# TYPE ifx_sink_messages_spooled_total counter\n"
        "ifx_sink_messages_spooled_total" L "} 4\n"
        "# HELP ifx_sink_spool_records Spool records not yet delivered.\n"
        "# TYPE ifx_sink_spool_records gauge\n"
        "ifx_sink_spool_records" L "} 2\n"
        "# HELP ifx_sink_http_requests_total HTTP write requests, retries included.\n"
        "# TYPE ifx_sink_http_requests_total counter\n"
        "ifx_sink_http_requests_total" L "} 7\n"
        "# HELP ifx_sink_http_retries_total HTTP write requests that were retries.\n"
        "# TYPE ifx_sink_http_retries_total counter\n"
        "ifx_sink_http_retries_total" L "} 3\n"
        "# HELP ifx_sink_bytes_sent_total Line-protocol bytes sent, before compression.\n"
        "# TYPE ifx_sink_bytes_sent_total counter\n"
        "ifx_sink_bytes_sent_total" L "} 1234\n"
        "# HELP ifx_sink_write_duration_seconds Duration of HTTP write requests, every attempt.\n"
        "# TYPE ifx_sink_write_duration_seconds histogram\n" B("0.001", 1) B("0.0025", 1)
            B("0.005", 3) B("0.01", 3) B("0.025", 3) B("0.05", 3) B("0.1", 3) B("0.25", 3)
                B("0.5", 3) B("1", 3) B("2.5", 3) B("10", 6)
                    B("+Inf", 7) "ifx_sink_write_duration_seconds_sum" L "} 2.500001\n"
                                 "ifx_sink_write_duration_seconds_count" L "} 7\n"
                                 "# HELP ifx_circuit_breaker_state Circuit breaker state: 1 for "
                                 "the current state, 0 for "
                                 "the others.\n"
                                 "# TYPE ifx_circuit_breaker_state gauge\n"
                                 "ifx_circuit_breaker_state" L ",state=\"closed\"} 0\n"
                                 "ifx_circuit_breaker_state" L ",state=\"open\"} 1\n"
                                 "ifx_circuit_breaker_state" L ",state=\"half_open\"} 0\n";
#undef B
#undef L
    assert_string_equal(out.data, want);

    /* a page over the cap is an error, not a silently short page */
    ifx_buf small;
    ifx_buf_init(&small, 100);
    assert_int_equal(cli_metrics_render_sink(&st, "x", &small), IFX_E_FULL);
    ifx_buf_free(&small);
    ifx_buf_free(&out);
}

static void test_render_source_exact(void **state)
{
    ifx_source_stats st = {.polls = 3,
                           .rows = 10,
                           .messages = 8,
                           .batches_acked = 2,
                           .batches_nacked = 1,
                           .query_errors = 4,
                           .bytes_received = 999,
                           .breaker = IFX_BREAKER_HALF_OPEN,
                           .query_latency = {.count = 3, .sum_us = 42, .bucket = {3}}};
    ifx_buf out;
    (void)state;
    ifx_buf_init(&out, 1 << 20);
    assert_int_equal(cli_metrics_render_source(&st, "src-1", &out), IFX_OK);
#define L        "{connector=\"src-1\""
#define B(le, v) "ifx_source_query_duration_seconds_bucket" L ",le=\"" le "\"} " #v "\n"
    static const char want[] =
        "# HELP ifx_source_polls_total Queries run (polls).\n"
        "# TYPE ifx_source_polls_total counter\n"
        "ifx_source_polls_total" L "} 3\n"
        "# HELP ifx_source_query_rows_total Rows read from query answers.\n"
        "# TYPE ifx_source_query_rows_total counter\n"
        "ifx_source_query_rows_total" L "} 10\n"
        "# HELP ifx_source_messages_total Messages delivered and acknowledged.\n"
        "# TYPE ifx_source_messages_total counter\n"
        "ifx_source_messages_total" L "} 8\n"
        "# HELP ifx_source_batches_acked_total Batches acknowledged.\n"
        "# TYPE ifx_source_batches_acked_total counter\n"
        "ifx_source_batches_acked_total" L "} 2\n"
        "# HELP ifx_source_batches_nacked_total Batches refused.\n"
        "# TYPE ifx_source_batches_nacked_total counter\n"
        "ifx_source_batches_nacked_total" L "} 1\n"
        "# HELP ifx_source_query_errors_total Polls that failed.\n"
        "# TYPE ifx_source_query_errors_total counter\n"
        "ifx_source_query_errors_total" L "} 4\n"
        "# HELP ifx_source_bytes_received_total Query answer bytes received, after "
        "decompression.\n"
        "# TYPE ifx_source_bytes_received_total counter\n"
        "ifx_source_bytes_received_total" L "} 999\n"
        "# HELP ifx_source_query_duration_seconds Duration of HTTP query requests, every "
        "attempt.\n"
        "# TYPE ifx_source_query_duration_seconds histogram\n" B("0.001", 3) B("0.0025", 3)
            B("0.005", 3) B("0.01", 3) B("0.025", 3) B("0.05", 3) B("0.1", 3) B("0.25", 3)
                B("0.5", 3) B("1", 3) B("2.5", 3) B("10", 3)
                    B("+Inf", 3) "ifx_source_query_duration_seconds_sum" L "} 0.000042\n"
                                 "ifx_source_query_duration_seconds_count" L "} 3\n"
                                 "# HELP ifx_circuit_breaker_state Circuit breaker state: 1 for "
                                 "the current state, 0 for "
                                 "the others.\n"
                                 "# TYPE ifx_circuit_breaker_state gauge\n"
                                 "ifx_circuit_breaker_state" L ",state=\"closed\"} 0\n"
                                 "ifx_circuit_breaker_state" L ",state=\"open\"} 0\n"
                                 "ifx_circuit_breaker_state" L ",state=\"half_open\"} 1\n";
#undef B
#undef L
    assert_string_equal(out.data, want);
    ifx_buf_free(&out);
}

/* ---- the server on its own, with a render callback of the test's -------------------------------
 */

typedef struct fake_page {
    int calls;
    ifx_rc fail;
} fake_page;

static ifx_rc render_fake(void *ud, ifx_buf *out)
{
    fake_page *f = ud;
    f->calls++;
    if (f->fail)
        return f->fail;
    return ifx_buf_printf(out, "# TYPE x counter\nx %d\n", f->calls);
}

static void test_server_answers(void **state)
{
    fake_page f = {0};
    cli_metrics *m;
    ifx_err e;
    char url[64];
    (void)state;
    if (cli_metrics_start("127.0.0.1:0", render_fake, &f, &m, &e))
        fail_msg("start: %s", e.msg);
    int port = cli_metrics_port(m);
    assert_true(port > 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    assert_string_equal(cli_metrics_url(m), url);

    http_answer a = http_get(port, "GET", "/metrics");
    assert_int_equal(a.status, 200);
    assert_string_equal(header(&a, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    assert_string_equal(header(&a, "Content-Length"), "21");
    assert_string_equal(header(&a, "Connection"), "close");
    assert_string_equal(a.body, "# TYPE x counter\nx 1\n");
    answer_free(&a);

    /* the query string is ignored; HEAD has the headers of GET and no body */
    a = http_get(port, "GET", "/metrics?name[]=x&y=1");
    assert_int_equal(a.status, 200);
    assert_string_equal(a.body, "# TYPE x counter\nx 2\n");
    answer_free(&a);
    a = http_get(port, "HEAD", "/metrics");
    assert_int_equal(a.status, 200);
    assert_string_equal(header(&a, "Content-Length"), "21");
    assert_int_equal(a.body_len, 0);
    answer_free(&a);

    a = http_get(port, "GET", "/other");
    assert_int_equal(a.status, 404);
    answer_free(&a);
    a = http_get(port, "GET", "/metrics/");
    assert_int_equal(a.status, 404);
    answer_free(&a);
    a = http_raw(port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    assert_int_equal(a.status, 405);
    assert_string_equal(header(&a, "Allow"), "GET, HEAD");
    answer_free(&a);
    a = http_raw(port, "GARBAGE\r\n\r\n");
    assert_int_equal(a.status, 400);
    answer_free(&a);
    a = http_raw(port, "GET /metrics HTTP/2.0\r\n\r\n");
    assert_int_equal(a.status, 400);
    answer_free(&a);
    a = http_raw(port, "GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n");
    assert_int_equal(a.status, 400);
    answer_free(&a);
    a = http_raw(port, "GET http://127.0.0.1/metrics HTTP/1.1\r\n\r\n");
    assert_int_equal(a.status, 400);
    answer_free(&a);
    /* bare LF line ends are accepted */
    a = http_raw(port, "GET /metrics HTTP/1.0\nHost: x\n\n");
    assert_int_equal(a.status, 200);
    answer_free(&a);

    /* a request head over 8 KiB */
    char *big = malloc(10000);
    snprintf(big, 10000, "GET /metrics HTTP/1.1\r\nX-Big: %09000d\r\n\r\n", 0);
    a = http_raw(port, big);
    assert_int_equal(a.status, 431);
    answer_free(&a);
    free(big);

    /* a client that never finishes its request is answered 408 after the deadline */
    a = http_raw(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n");
    assert_int_equal(a.status, 408);
    answer_free(&a);

    /* a render failure is a 500, and the server goes on */
    f.fail = IFX_E_FULL;
    a = http_get(port, "GET", "/metrics");
    assert_int_equal(a.status, 500);
    answer_free(&a);
    f.fail = IFX_OK;
    a = http_get(port, "GET", "/metrics");
    assert_int_equal(a.status, 200);
    answer_free(&a);

    /* stop does not wait for a silent client */
    int idle = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(idle, (struct sockaddr *)&sa, sizeof sa), 0);
    cli_metrics_stop(m);
    close(idle);
    cli_metrics_stop(NULL);

    /* the port is free again: SO_REUSEADDR lets a new server take it at once */
    char again[64];
    snprintf(again, sizeof again, "127.0.0.1:%d", port);
    if (cli_metrics_start(again, render_fake, &f, &m, &e))
        fail_msg("restart: %s", e.msg);
    assert_int_equal(cli_metrics_port(m), port);
    cli_metrics_stop(m);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A connection to the metrics port that sends what (may be "") and then nothing more. */
static int idle_connection(int port, const char *what)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        fail_msg("connect: %s", strerror(errno));
    if (*what)
        assert_int_equal(send(fd, what, strlen(what), MSG_NOSIGNAL), (ssize_t)strlen(what));
    return fd;
}

typedef struct scraper {
    int port, rounds, ok;
    double slowest;
} scraper;

static void *scrape_thread(void *p)
{
    scraper *s = p;
    for (int i = 0; i < s->rounds; i++) {
        double t0 = mono_s();
        http_answer a = http_get(s->port, "GET", "/metrics");
        double took = mono_s() - t0;
        s->ok += a.status == 200 && strncmp(a.body, "# TYPE x counter\n", 17) == 0;
        if (took > s->slowest)
            s->slowest = took;
        answer_free(&a);
    }
    return NULL;
}

/* Idle connections (open, silent or with half a request) do not hold up a scrape: each client is
 * served by one poll loop, not one after another with a 2 s deadline each. And several scrapers
 * at once all get their page. Timings are printed; the bound asserted (1 s) is half of one
 * connection's deadline, which the old one-at-a-time server needed per idle client. */
static void test_idle_and_concurrent_clients(void **state)
{
    fake_page f = {0};
    cli_metrics *m;
    ifx_err e;
    int idle[40];
    (void)state;
    if (cli_metrics_start("127.0.0.1:0", render_fake, &f, &m, &e))
        fail_msg("start: %s", e.msg);
    int port = cli_metrics_port(m);

    /* three idle clients, then a scrape */
    idle[0] = idle_connection(port, "");
    idle[1] = idle_connection(port, "");
    idle[2] = idle_connection(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n");
    ifx_sleep(NULL, 50000000ULL); /* accepted by now */
    double t0 = mono_s();
    http_answer a = http_get(port, "GET", "/metrics");
    double took = mono_s() - t0;
    fprintf(stderr, "scrape behind 3 idle connections: %.1f ms\n", took * 1e3);
    assert_int_equal(a.status, 200);
    answer_free(&a);
    assert_true(took < 1.0);

    /* eight scrapers at once, twenty scrapes each, with the idle ones still open */
    pthread_t th[8];
    scraper sc[8];
    for (int i = 0; i < 8; i++) {
        sc[i] = (scraper){port, 20, 0, 0};
        pthread_create(&th[i], NULL, scrape_thread, &sc[i]);
    }
    double slowest = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(sc[i].ok, 20);
        if (sc[i].slowest > slowest)
            slowest = sc[i].slowest;
    }
    fprintf(stderr, "8 concurrent scrapers x 20: all answered, slowest %.1f ms\n", slowest * 1e3);
    assert_true(slowest < 1.0);
    for (int i = 0; i < 3; i++)
        close(idle[i]);

    /* more idle clients than connection slots: the oldest idle one makes room for a scraper */
    for (int i = 0; i < 40; i++)
        idle[i] = idle_connection(port, "");
    ifx_sleep(NULL, 50000000ULL);
    t0 = mono_s();
    a = http_get(port, "GET", "/metrics");
    took = mono_s() - t0;
    fprintf(stderr, "scrape behind 40 idle connections: %.1f ms\n", took * 1e3);
    assert_int_equal(a.status, 200);
    answer_free(&a);
    assert_true(took < 1.0);
    for (int i = 0; i < 40; i++)
        close(idle[i]);
    cli_metrics_stop(m);
}

static void test_listen_syntax(void **state)
{
    static const char *const good[] = {"127.0.0.1:0",    "localhost:9464", "[::1]:9464",
                                       "0.0.0.0:65535",  "[::]:0",         "10.1.2.3:80",
                                       "127.0.0.1:00080"};
    static const char *const bad[] = {
        "abc",          ":9464",           "127.0.0.1:",    "127.0.0.1",       "127.0.0.1:65536",
        "127.0.0.1:-1", "::1:9464",        "[::1]9464",     "[::1:9464",       "[1.2.3.4]:80",
        "1.2.3:80",     "host.example:80", "127.0.0.1:1e3", "127.0.0.1:123456"};
    ifx_err e;
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (cli_metrics_check_listen(good[i], &e))
            fail_msg("%s refused: %s", good[i], e.msg);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (cli_metrics_check_listen(bad[i], &e) != IFX_E_USAGE)
            fail_msg("%s accepted", bad[i]);
        assert_non_null(strstr(e.msg, "--metrics-listen: "));
    }
    assert_int_equal(cli_metrics_check_listen("abc", &e), IFX_E_USAGE);
    assert_string_equal(e.msg, "--metrics-listen: expected HOST:PORT, got 'abc'");
    assert_int_equal(cli_metrics_check_listen("127.0.0.1:99999", &e), IFX_E_USAGE);
    assert_string_equal(e.msg, "--metrics-listen: port 99999 is out of range (0 to 65535) in "
                               "'127.0.0.1:99999'");
}

/* ---- ifx sink ----------------------------------------------------------------------------------
 */

static bool sink_done(const char *page)
{
    return SINK("ifx_sink_messages_written_total") == 10 &&
           SINK("ifx_sink_messages_rejected_total") == 1;
}

/* 10 good messages and one that is not JSON, one consume call each: every counter exact, the
 * requests the same as the server saw, the histogram counting each of them. */
static void test_sink_metrics(void **state)
{
    const char *args[] = {"sink",        "-c", sink_cfg, "--batch", "1", "--metrics-listen",
                          "127.0.0.1:0", NULL};
    proc p;
    char line[256];
    (void)state;
    reset();
    proc_start(&p, "sink", args);
    proc_wait_metrics(&p);

    /* before any message: zeros, and a closed breaker */
    char *page = scrape(p.metrics_port);
    EXPECT_SINK("ifx_sink_messages_received_total", 0);
    assert_true(check_histogram(page, "ifx_sink_write_duration_seconds", "sink") == 0);
    free(page);

    for (int i = 0; i < 11; i++) {
        if (i == 5)
            snprintf(line, sizeof line, "{\"offset\":%d,\"payload_text\":\"{\\\"broken\\\":\"}\n",
                     i);
        else
            snprintf(line, sizeof line,
                     "{\"offset\":%d,\"timestamp\":%lld,\"payload\":{\"n\":%d}}\n", i,
                     1700000000000000LL + i, i);
        proc_write(&p, line);
    }
    page = scrape_until(p.metrics_port, sink_done);
    size_t writes = server_requests("/api/v3/write_lp");
    assert_int_equal(writes, 10);
    EXPECT_SINK("ifx_sink_messages_received_total", 11);
    EXPECT_SINK("ifx_sink_messages_written_total", 10);
    EXPECT_SINK("ifx_sink_messages_rejected_total", 1);
    EXPECT_SINK("ifx_sink_messages_pending", 0);
    EXPECT_SINK("ifx_sink_messages_spooled_total", 0);
    EXPECT_SINK("ifx_sink_spool_records", 0);
    EXPECT_SINK("ifx_sink_http_requests_total", (double)writes);
    EXPECT_SINK("ifx_sink_http_retries_total", 0);
    assert_true(SINK("ifx_sink_bytes_sent_total") > 0);
    assert_true(check_histogram(page, "ifx_sink_write_duration_seconds", "sink") == (double)writes);
    assert_true(sample(page, "ifx_circuit_breaker_state{connector=\"sink\",state=\"closed\"}") ==
                1);
    assert_true(sample(page, "ifx_circuit_breaker_state{connector=\"sink\",state=\"open\"}") == 0);
    assert_true(sample(page, "ifx_circuit_breaker_state{connector=\"sink\",state=\"half_open\"}") ==
                0);
    static const char *const families[] = {"# TYPE ifx_sink_messages_received_total counter\n",
                                           "# TYPE ifx_sink_messages_written_total counter\n",
                                           "# TYPE ifx_sink_messages_rejected_total counter\n",
                                           "# TYPE ifx_sink_messages_pending gauge\n",
                                           "# TYPE ifx_sink_messages_spooled_total counter\n",
                                           "# TYPE ifx_sink_spool_records gauge\n",
                                           "# TYPE ifx_sink_http_requests_total counter\n",
                                           "# TYPE ifx_sink_http_retries_total counter\n",
                                           "# TYPE ifx_sink_bytes_sent_total counter\n",
                                           "# TYPE ifx_circuit_breaker_state gauge\n"};
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (!strstr(page, families[i]))
            fail_msg("no %s in\n%s", families[i], page);
    free(page);

    /* the HTTP answer itself, from the real command */
    http_answer a = http_get(p.metrics_port, "GET", "/metrics");
    assert_int_equal(a.status, 200);
    assert_string_equal(header(&a, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    assert_int_equal(strtoul(header(&a, "Content-Length"), NULL, 10), a.body_len);
    answer_free(&a);
    a = http_get(p.metrics_port, "GET", "/other");
    assert_int_equal(a.status, 404);
    answer_free(&a);

    /* end of input: the run ends with exit status 3 (one rejected) and the same summary */
    assert_int_equal(proc_finish(&p, 0), 3);
    char *out = test_slurp(p.out_path);
    assert_non_null(strstr(out, "{\"received\":11,\"written\":10,\"rejected\":1,\"pending\":0,"));
    free(out);
}

static bool sink_three(const char *page)
{
    return SINK("ifx_sink_messages_written_total") == 3;
}

/* The first write answered 503: one retry, counted, and the histogram counts both attempts. */
static void test_sink_metrics_retry(void **state)
{
    const char *args[] = {"sink",        "-c", sink_cfg, "--batch", "1", "--metrics-listen",
                          "127.0.0.1:0", NULL};
    proc p;
    (void)state;
    reset();
    json_decref(admin_call(v3.port, "POST", "/__admin/fault",
                           "{\"count\":1,\"status\":503,\"paths\":[\"/api/v3/write_lp\"]}"));
    proc_start(&p, "sink-retry", args);
    proc_wait_metrics(&p);
    proc_write(&p, "{\"offset\":1,\"payload\":{\"n\":1}}\n"
                   "{\"offset\":2,\"payload\":{\"n\":2}}\n"
                   "{\"offset\":3,\"payload\":{\"n\":3}}\n");
    char *page = scrape_until(p.metrics_port, sink_three);
    size_t writes = server_requests("/api/v3/write_lp");
    assert_int_equal(writes, 4);
    assert_true(SINK("ifx_sink_http_retries_total") >= 1);
    EXPECT_SINK("ifx_sink_http_retries_total", (double)(writes - 3));
    EXPECT_SINK("ifx_sink_http_requests_total", (double)writes);
    EXPECT_SINK("ifx_sink_messages_rejected_total", 0);
    assert_true(check_histogram(page, "ifx_sink_write_duration_seconds", "sink") == (double)writes);
    assert_true(sample(page, "ifx_circuit_breaker_state{connector=\"sink\",state=\"closed\"}") ==
                1);
    free(page);
    assert_int_equal(proc_finish(&p, 0), 0);
}

/* ---- ifx source --------------------------------------------------------------------------------
 */

static void write_lp(const char *lp)
{
    admin_write_v3(v3.port, "msrc", TOKEN, lp, strlen(lp));
}

static bool source_done(const char *page)
{
    return SOURCE("ifx_source_messages_total") == 10;
}

/* Ten rows in batches of 4: polls, rows, messages and acks exact; every query timed; the poll
 * interval (10 s) keeps the counters still while the test reads them; SIGTERM ends it with 0. */
static void test_source_metrics(void **state)
{
    const char *args[] = {"source", "-c", source_cfg, "--metrics-listen", "localhost:0", NULL};
    char lp[1024];
    size_t n = 0;
    proc p;
    (void)state;
    reset();
    for (int i = 0; i < 10; i++)
        n += (size_t)snprintf(lp + n, sizeof lp - n, "m,host=h%d v=%di %lld\n", i, i,
                              1704067200000000000LL + i * 1000000000LL);
    write_lp(lp);
    json_decref(admin_call(v3.port, "DELETE", "/__admin/requests", NULL));

    proc_start(&p, "source", args);
    proc_wait_metrics(&p);
    char *page = scrape_until(p.metrics_port, source_done);
    size_t queries = server_requests("/api/v3/query_sql");
    double polls = SOURCE("ifx_source_polls_total");
    assert_true(polls >= 3); /* 4 + 4 + 2 rows */
    assert_true(polls == (double)queries);
    /* The rows read include, after the first poll, those at the time the cursor stopped at,
     * read again so that ties are not lost (here one row each time: the times differ). */
    double rows = SOURCE("ifx_source_query_rows_total");
    if (rows < 10 || rows > 10 + polls - 1)
        fail_msg("ifx_source_query_rows_total is %g after %g polls", rows, polls);
    EXPECT_SOURCE("ifx_source_messages_total", 10);
    EXPECT_SOURCE("ifx_source_batches_acked_total", 3);
    EXPECT_SOURCE("ifx_source_batches_nacked_total", 0);
    EXPECT_SOURCE("ifx_source_query_errors_total", 0);
    assert_true(SOURCE("ifx_source_bytes_received_total") > 0);
    assert_true(check_histogram(page, "ifx_source_query_duration_seconds", "source") == polls);
    assert_true(sample(page, "ifx_circuit_breaker_state{connector=\"source\",state=\"closed\"}") ==
                1);
    assert_true(sample(page, "ifx_circuit_breaker_state{connector=\"source\",state=\"open\"}") ==
                0);
    free(page);

    assert_int_equal(proc_finish(&p, SIGTERM), 0);
    char *out = test_slurp(p.out_path);
    size_t lines = 0;
    for (const char *c = out; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 10);
    free(out);
}

/* ---- bad values --------------------------------------------------------------------------------
 */

static void test_bad_listen(void **state)
{
    char args[512];
    (void)state;
    /* syntax: a usage error (2), found before anything is opened */
    snprintf(args, sizeof args, "sink -c %s --metrics-listen abc", sink_cfg);
    cli_result r = cli_run(IFX_BIN, dir, args, "");
    assert_int_equal(r.status, 2);
    assert_string_equal(r.err, "ifx: sink: --metrics-listen: expected HOST:PORT, got 'abc'\n");
    cli_result_free(&r);
    snprintf(args, sizeof args, "source -c %s --metrics-listen 127.0.0.1:99999", source_cfg);
    r = cli_run(IFX_BIN, dir, args, "");
    assert_int_equal(r.status, 2);
    assert_string_equal(r.err, "ifx: source: --metrics-listen: port 99999 is out of range (0 to "
                               "65535) in '127.0.0.1:99999'\n");
    cli_result_free(&r);
    snprintf(args, sizeof args, "sink -c %s --metrics-listen", sink_cfg);
    r = cli_run(IFX_BIN, dir, args, "");
    assert_int_equal(r.status, 2);
    cli_result_free(&r);

    /* a port another socket listens on: a failure (1), named */
    int busy = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof sa;
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(bind(busy, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(busy, 1), 0);
    assert_int_equal(getsockname(busy, (struct sockaddr *)&sa, &len), 0);
    char want[128];
    snprintf(want, sizeof want, "ifx: sink: cannot listen on 127.0.0.1:%d: Address already in use",
             ntohs(sa.sin_port));
    snprintf(args, sizeof args, "sink -c %s --metrics-listen 127.0.0.1:%d", sink_cfg,
             ntohs(sa.sin_port));
    r = cli_run(IFX_BIN, dir, args, "");
    assert_int_equal(r.status, 1);
    if (!strstr(r.err, want))
        fail_msg("stderr lacks [%s]:\n%s", want, r.err);
    cli_result_free(&r);
    snprintf(want, sizeof want,
             "ifx: source: cannot listen on 127.0.0.1:%d: Address already in use",
             ntohs(sa.sin_port));
    snprintf(args, sizeof args, "source -c %s --once --metrics-listen 127.0.0.1:%d", source_cfg,
             ntohs(sa.sin_port));
    r = cli_run(IFX_BIN, dir, args, "");
    assert_int_equal(r.status, 1);
    if (!strstr(r.err, want))
        fail_msg("stderr lacks [%s]:\n%s", want, r.err);
    cli_result_free(&r);
    close(busy);
}

static int setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!mkdtemp(dir) || fixture_start_stand_in(&v3, "v3", TOKEN))
        return -1;
    snprintf(sink_cfg, sizeof sink_cfg, "%s/sink.json", dir);
    FILE *f = fopen(sink_cfg, "wb");
    if (!f)
        return -1;
    fprintf(f,
            "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"msink\","
            "\"token\":\"" TOKEN "\",\"retry_delay\":\"10ms\",\"retry_max_delay\":\"50ms\","
            "\"stats_interval\":\"0s\"}\n",
            v3.port);
    fclose(f);
    snprintf(source_cfg, sizeof source_cfg, "%s/source.json", dir);
    f = fopen(source_cfg, "wb");
    if (!f)
        return -1;
    fprintf(f,
            "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"msrc\","
            "\"token\":\"" TOKEN "\",\"query\":\"SELECT * FROM m WHERE time > '$cursor' "
            "ORDER BY time LIMIT $limit\",\"batch_size\":4,\"poll_interval\":\"10s\"}\n",
            v3.port);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fixture_stop(&v3);
    curl_global_cleanup();
    return fixture_remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_sink_exact),
        cmocka_unit_test(test_render_source_exact),
        cmocka_unit_test(test_listen_syntax),
        cmocka_unit_test(test_server_answers),
        cmocka_unit_test(test_idle_and_concurrent_clients),
        cmocka_unit_test(test_sink_metrics),
        cmocka_unit_test(test_sink_metrics_retry),
        cmocka_unit_test(test_source_metrics),
        cmocka_unit_test(test_bad_listen),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
