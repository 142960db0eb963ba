/* bench/http_server — a tiny in-process HTTP/1.1 server for the benchmarks (see http_server.h).
 *
 * Connection threads are joinable and kept in a fixed table: a finished one is joined when its
 * slot is needed again or at stop, so nothing touches the server after it is freed and a client
 * that opens a connection per run (a fresh source each time) never runs out of slots.
 */
#include "http_server.h"
#include "alloc_track.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS        16
#define MAX_HEADER       16384
#define DEFAULT_MAX_BODY (16u << 20)
#define STOP_GRACE_S     10

typedef struct conn_slot {
    bench_http_server *srv;
    pthread_t thread;
    int fd;
    bool used; /* a thread was started and not joined yet */
    bool done; /* the thread has finished with the socket (fd closed) */
} conn_slot;

struct bench_http_server {
    bench_http_config cfg;
    int listen_fd;
    int port;
    pthread_t acceptor;
    pthread_mutex_t lock;
    pthread_cond_t ended; /* a connection finished */
    conn_slot slots[MAX_CONNS];
    int live; /* slots used and not done */
    _Atomic unsigned long long connections, refused, requests, completed, bad_requests;
    _Atomic unsigned long long body_bytes_in, body_bytes_out;
    _Atomic unsigned long long cpu_ns;
};

/* ---- sending -------------------------------------------------------------------------------- */

static bool send_iov(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t k = sendmsg(fd, &m, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        for (size_t left = (size_t)k; left && n > 0;) {
            size_t take = left < iov->iov_len ? left : iov->iov_len;
            iov->iov_base = (char *)iov->iov_base + take;
            iov->iov_len -= take;
            left -= take;
            if (iov->iov_len == 0)
                iov++, n--;
        }
        while (n > 0 && iov->iov_len == 0) /* empty pieces left over */
            iov++, n--;
    }
    return true;
}

static const char *reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 413:
        return "Request Entity Too Large";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

/* Status line and headers, then the body, in one sendmsg when the socket takes it. */
static bool send_response(int fd, const bench_http_response *r, bool head_only, size_t *body_sent)
{
    char head[2048];
    int status = r->status ? r->status : 200;
    bool has_length = !(status < 200 || status == 204 || status == 304);
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\n", status, reason(status));
    if (r->content_type && n > 0 && (size_t)n < sizeof head)
        n += snprintf(head + n, sizeof head - (size_t)n, "Content-Type: %s\r\n", r->content_type);
    if (has_length && n > 0 && (size_t)n < sizeof head)
        n += snprintf(head + n, sizeof head - (size_t)n, "Content-Length: %zu\r\n", r->body_len);
    if (r->extra_headers && n > 0 && (size_t)n < sizeof head)
        n += snprintf(head + n, sizeof head - (size_t)n, "%s", r->extra_headers);
    if (n > 0 && (size_t)n < sizeof head)
        n += snprintf(head + n, sizeof head - (size_t)n, "\r\n");
    if (n <= 0 || (size_t)n >= sizeof head)
        return false; /* headers too long for this server: a bug in the benchmark */
    struct iovec iov[2] = {{head, (size_t)n}, {(void *)r->body, r->body_len}};
    *body_sent = has_length && !head_only ? r->body_len : 0;
    return send_iov(fd, iov, *body_sent ? 2 : 1);
}

/* ---- reading -------------------------------------------------------------------------------- */

const char *bench_http_header(const bench_http_request *req, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = req->headers; *p && *p != '\r';) {
        const char *eol = strstr(p, "\r\n");
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            return v;
        }
        if (!eol)
            break;
        p = eol + 2;
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

/* Splits "METHOD SP target SP version CRLF" in place; false when it is not a request line. */
static bool split_request_line(char *buf, char **method, char **target, char **headers)
{
    char *eol = strstr(buf, "\r\n");
    char *sp1 = memchr(buf, ' ', eol ? (size_t)(eol - buf) : 0);
    char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
    if (!sp2 || sp1 == buf || sp2 == sp1 + 1)
        return false;
    *sp1 = '\0';
    *sp2 = '\0';
    *method = buf;
    *target = sp1 + 1;
    *headers = eol + 2;
    return true;
}

static unsigned long long thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

static void *serve_conn(void *arg)
{
    conn_slot *slot = arg;
    unsigned long long cpu_counted = 0; /* this thread's CPU time already in s->cpu_ns */
    bench_http_server *s = slot->srv;
    const bench_http_config *cfg = &s->cfg;
    int fd = slot->fd;
    size_t max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
    alloc_track_exclude_thread(); /* before its first allocation */
    /* One buffer per connection, never one per request. */
    char *buf = malloc(MAX_HEADER + max_body);
    void *conn_state = NULL;
    size_t have = 0;

    while (buf) {
        /* headers */
        char *end = NULL;
        while (!(end = header_end(buf, have))) {
            if (have == MAX_HEADER) {
                atomic_fetch_add(&s->bad_requests, 1);
                goto out;
            }
            ssize_t k = recv(fd, buf + have, MAX_HEADER - have, 0);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                goto out; /* the client closed the connection: the usual end */
            have += (size_t)k;
        }
        size_t head_len = (size_t)(end - buf) + 4;
        bench_http_request req = {.conn_state = &conn_state};
        char *method, *target, *headers;
        buf[head_len - 2] = '\0'; /* the header block as a string, ending in one CRLF */
        if (!split_request_line(buf, &method, &target, &headers)) {
            atomic_fetch_add(&s->bad_requests, 1);
            goto out;
        }
        req.method = method;
        req.target = target;
        req.headers = headers;
        const char *cl = bench_http_header(&req, "Content-Length");
        const char *te = bench_http_header(&req, "Transfer-Encoding");
        const char *ex = bench_http_header(&req, "Expect");
        const char *co = bench_http_header(&req, "Connection");
        bool expect = ex && strncasecmp(ex, "100-continue", 12) == 0;
        bool close_after = co && strncasecmp(co, "close", 5) == 0;
        size_t body_len = cl ? strtoull(cl, NULL, 10) : 0;
        if (body_len > max_body || (te && strncasecmp(te, "identity", 8) != 0)) {
            atomic_fetch_add(&s->bad_requests, 1);
            goto out;
        }
        if (expect && body_len > have - head_len) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            struct iovec iov = {(void *)cont, sizeof cont - 1};
            if (!send_iov(fd, &iov, 1))
                goto out;
        }
        /* body */
        while (have < head_len + body_len) {
            ssize_t k = recv(fd, buf + have, head_len + body_len - have, 0);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                goto out;
            have += (size_t)k;
        }
        req.body = buf + head_len;
        req.body_len = body_len;
        /* before the answer: once the client has it, a wait for completed == requests sees this */
        atomic_fetch_add(&s->requests, 1);
        atomic_fetch_add(&s->body_bytes_in, body_len);
        bench_http_response res = {0};
        cfg->handle(cfg->ud, &req, &res);
        size_t sent = 0;
        if (!send_response(fd, &res, strcmp(method, "HEAD") == 0, &sent))
            goto out;
        atomic_fetch_add(&s->body_bytes_out, sent);
        /* after the answer, while the client goes on */
        if (cfg->after)
            cfg->after(cfg->ud, &req, &res);
        unsigned long long cpu = thread_cpu_ns();
        atomic_fetch_add(&s->cpu_ns, cpu - cpu_counted);
        cpu_counted = cpu;
        atomic_fetch_add(&s->completed, 1);
        if (close_after)
            goto out;
        /* keep what belongs to the next request (pipelining is not used, but be exact) */
        size_t used = head_len + body_len;
        memmove(buf, buf + used, have - used);
        have -= used;
    }
out:
    if (cfg->conn_end && conn_state)
        cfg->conn_end(cfg->ud, conn_state);
    free(buf);
    pthread_mutex_lock(&s->lock);
    close(fd); /* under the lock: stop never shuts down a number reused by a new socket */
    slot->fd = -1;
    slot->done = true;
    s->live--;
    pthread_cond_broadcast(&s->ended);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ---- accepting ------------------------------------------------------------------------------ */

/* A free slot (joining a finished thread to free one), or NULL. Called with the lock held;
 * joining there is quick, since a done thread has nothing left to do but return. */
static conn_slot *free_slot_locked(bench_http_server *s)
{
    for (int i = 0; i < MAX_CONNS; i++) {
        conn_slot *c = &s->slots[i];
        if (c->used && c->done) {
            pthread_join(c->thread, NULL);
            c->used = false;
        }
        if (!c->used)
            return c;
    }
    return NULL;
}

static void *accept_loop(void *arg)
{
    bench_http_server *s = arg;
    alloc_track_exclude_thread();
    for (;;) {
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL; /* the listening socket was shut down */
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_mutex_lock(&s->lock);
        conn_slot *c = free_slot_locked(s);
        bool started = false;
        if (c) {
            *c = (conn_slot){.srv = s, .fd = fd, .used = true};
            started = pthread_create(&c->thread, NULL, serve_conn, c) == 0;
            if (started)
                s->live++;
            else
                c->used = false;
        }
        pthread_mutex_unlock(&s->lock);
        if (started) {
            atomic_fetch_add(&s->connections, 1);
        } else {
            atomic_fetch_add(&s->refused, 1);
            close(fd);
        }
    }
}

bench_http_server *bench_http_start(const bench_http_config *cfg)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t alen = sizeof a;
    bench_http_server *s;
    int e;

    if (!cfg || !cfg->handle) {
        errno = EINVAL;
        return NULL;
    }
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = *cfg;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->ended, NULL);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(s->listen_fd, 16) != 0 ||
        getsockname(s->listen_fd, (struct sockaddr *)&a, &alen) != 0)
        goto fail;
    s->port = ntohs(a.sin_port);
    if ((e = pthread_create(&s->acceptor, NULL, accept_loop, s)) != 0) {
        errno = e;
        goto fail;
    }
    return s;
fail:
    e = errno;
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    pthread_cond_destroy(&s->ended);
    pthread_mutex_destroy(&s->lock);
    free(s);
    errno = e;
    return NULL;
}

int bench_http_port(const bench_http_server *s)
{
    return s->port;
}

void bench_http_counters_get(bench_http_server *s, bench_http_counters *out)
{
    out->connections = atomic_load(&s->connections);
    out->refused = atomic_load(&s->refused);
    out->requests = atomic_load(&s->requests);
    out->completed = atomic_load(&s->completed);
    out->bad_requests = atomic_load(&s->bad_requests);
    out->body_bytes_in = atomic_load(&s->body_bytes_in);
    out->body_bytes_out = atomic_load(&s->body_bytes_out);
    out->cpu_ns = atomic_load(&s->cpu_ns);
}

void bench_http_stop(bench_http_server *s)
{
    struct timespec until;

    if (!s)
        return;
    shutdown(s->listen_fd, SHUT_RDWR);
    pthread_join(s->acceptor, NULL);
    close(s->listen_fd);
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += STOP_GRACE_S;
    pthread_mutex_lock(&s->lock);
    while (s->live > 0 && pthread_cond_timedwait(&s->ended, &s->lock, &until) != ETIMEDOUT)
        ;
    /* A client that keeps a connection open past the grace period: end it from this side. */
    for (int i = 0; i < MAX_CONNS; i++)
        if (s->slots[i].used && !s->slots[i].done)
            shutdown(s->slots[i].fd, SHUT_RDWR);
    pthread_mutex_unlock(&s->lock);
    for (int i = 0; i < MAX_CONNS; i++)
        if (s->slots[i].used)
            pthread_join(s->slots[i].thread, NULL);
    pthread_cond_destroy(&s->ended);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
