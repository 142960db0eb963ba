/* ifx_client_query_rows against a stand-in server in this process that streams its answers
 * (tests/integration): an answer far larger than the old 256 MiB cap is read with bounded heap
 * (IFX_STREAM_TEST_MIB sets its size, 300 by default), a parse error in the middle of an answer
 * stops the transfer with the byte offset counted from the answer's start, and a cancel from
 * inside the transfer stops it. Heap in use is read with mallinfo2 (glibc). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ifx/client.h"

typedef struct server {
    int fd, port;
    pthread_t thread;
    const char *head; /* what each line of the answer is */
    size_t lines;     /* then this many lines */
    const char *line; /* of this text */
    const char *tail; /* then this */
} server;

static bool send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        p += w, n -= (size_t)w;
    }
    return true;
}

static void *serve(void *ud)
{
    server *s = ud;
    int c = accept(s->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    /* read the request head and its body, whatever it asks */
    char req[65536];
    size_t got = 0;
    for (;;) {
        ssize_t n = recv(c, req + got, sizeof req - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
        req[got] = '\0';
        char *end = strstr(req, "\r\n\r\n");
        const char *cl = NULL;
        for (char *q = req; q < req + got && !cl; q++)
            if (strncasecmp(q, "content-length:", 15) == 0)
                cl = q;
        if (end && (!cl || got >= (size_t)(end + 4 - req) + (size_t)atol(cl + 15)))
            break;
    }
    static const char hdr[] = "HTTP/1.1 200 OK\r\nContent-Type: application/jsonl\r\n"
                              "Connection: close\r\n\r\n";
    bool ok = send_all(c, hdr, sizeof hdr - 1) && send_all(c, s->head, strlen(s->head));
    /* lines in blocks of 64 KiB, so that a send is not a line */
    char block[65536];
    size_t ll = strlen(s->line), per = sizeof block / ll, left = s->lines;
    for (size_t i = 0; i < per; i++)
        memcpy(block + i * ll, s->line, ll);
    while (ok && left) {
        size_t k = left < per ? left : per;
        ok = send_all(c, block, k * ll);
        left -= k;
    }
    if (ok)
        send_all(c, s->tail, strlen(s->tail));
    close(c);
    return NULL;
}

static void server_start(server *s)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->fd >= 0);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->fd, 4), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(server *s)
{
    shutdown(s->fd, SHUT_RDWR);
    pthread_join(s->thread, NULL);
    close(s->fd);
}

static ifx_client *client_for(const server *s)
{
    char url[64];
    ifx_transport_options o;
    ifx_client *c = NULL;
    ifx_err err;
    memset(&o, 0, sizeof o);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s->port);
    o.url = url;
    o.db = "db";
    o.ignore_proxy_env = true;
    o.timeout_ns = 600ULL * 1000000000ULL;
    assert_int_equal(ifx_client_new(IFX_VERSION_V3, &o, &c, &err), IFX_OK);
    return c;
}

typedef struct counter {
    size_t rows;
    size_t heap0, heap_peak;
    ifx_client *cancel_at_row; /* cancels the transfer at row 1000 */
} counter;

static size_t heap_now(void)
{
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

static ifx_rc count_rows(void *ud, const ifx_row *row, ifx_err *err)
{
    counter *k = ud;
    (void)err;
    if (row->ncols != 3)
        return ifx_err_set(err, IFX_E_INVALID, "a row has %zu columns", row->ncols);
    if (++k->rows % 4096 == 0) {
        size_t h = heap_now();
        if (h > k->heap_peak)
            k->heap_peak = h;
    }
    if (k->cancel_at_row && k->rows == 1000)
        ifx_client_cancel(k->cancel_at_row);
    return IFX_OK;
}

#define LINE "{\"host\":\"server-01\",\"usage\":12.5,\"time\":\"2026-01-01T00:00:00.123456789\"}\n"

static void test_large_answer_bounded_heap(void **state)
{
    const char *env = getenv("IFX_STREAM_TEST_MIB");
    size_t mib = env && *env ? (size_t)atol(env) : 300;
    server s = {.head = "", .line = LINE, .tail = ""};
    counter k = {0};
    ifx_rows_reader r;
    ifx_err err;
    uint64_t bytes = 0;
    (void)state;

    s.lines = (mib << 20) / (sizeof LINE - 1) + 1;
    server_start(&s);
    ifx_client *c = client_for(&s);
    ifx_rows_reader_init(&r);
    k.heap0 = k.heap_peak = heap_now();
    ifx_rc rc = ifx_client_query_rows(c, IFX_QUERY_SQL, "SELECT 1", 8, 0, &r, 1 << 20, count_rows,
                                      &k, &bytes, &err);
    if (rc)
        print_error("%s\n", err.msg);
    assert_int_equal(rc, IFX_OK);
    assert_int_equal(k.rows, s.lines);
    assert_int_equal(bytes, s.lines * (sizeof LINE - 1));
    /* the answer is never held: what the transfer adds is a record and libcurl's buffers */
    size_t grew = k.heap_peak > k.heap0 ? k.heap_peak - k.heap0 : 0;
    fprintf(stderr, "  %zu MiB answer, %zu rows: heap grew by at most %zu bytes while reading\n",
            (size_t)(bytes >> 20), k.rows, grew);
    assert_true(grew < ((size_t)4 << 20));
    ifx_rows_reader_free(&r);
    ifx_client_free(c);
    server_stop(&s);
}

static void test_error_mid_answer(void **state)
{
    server s = {.head = "", .line = LINE, .lines = 100000, .tail = "{\"host\":\"x\",oops}\n"};
    counter k = {0};
    ifx_rows_reader r;
    ifx_err err;
    uint64_t bytes = 0;
    (void)state;

    server_start(&s);
    ifx_client *c = client_for(&s);
    ifx_rows_reader_init(&r);
    ifx_rc rc = ifx_client_query_rows(c, IFX_QUERY_SQL, "SELECT 1", 8, 0, &r, 0, count_rows, &k,
                                      &bytes, &err);
    assert_int_equal(rc, IFX_E_INVALID);
    assert_int_equal(k.rows, 100000);
    size_t at = 100000 * (sizeof LINE - 1) + 12;
    assert_int_equal(err.offset, at);
    char want[96];
    snprintf(want, sizeof want, "v3 JSONL, line 100001: invalid JSON at byte %zu:", at);
    if (!strstr(err.msg, want))
        print_error("%s\n", err.msg);
    assert_non_null(strstr(err.msg, want));
    ifx_rows_reader_free(&r);
    ifx_client_free(c);
    server_stop(&s);
}

static void test_cancel_mid_answer(void **state)
{
    server s = {.head = "", .line = LINE, .lines = 10000000, .tail = ""};
    counter k = {0};
    ifx_rows_reader r;
    ifx_err err;
    (void)state;

    server_start(&s);
    ifx_client *c = client_for(&s);
    k.cancel_at_row = c;
    ifx_rows_reader_init(&r);
    ifx_rc rc = ifx_client_query_rows(c, IFX_QUERY_SQL, "SELECT 1", 8, 0, &r, 0, count_rows, &k,
                                      NULL, &err);
    assert_int_equal(rc, IFX_E_TRANSIENT);
    assert_true(k.rows >= 1000 && k.rows < 10000000);
    ifx_rows_reader_free(&r);
    ifx_client_free(c);
    server_stop(&s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_large_answer_bounded_heap),
        cmocka_unit_test(test_error_mid_answer),
        cmocka_unit_test(test_cancel_mid_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
