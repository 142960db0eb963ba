/* ifx command line: the Prometheus scrape endpoint's HTTP server (see metrics.h); the text it
 * serves is rendered by metrics_text.c. */
#include "cli/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ifx/resilience.h"

/* A request head larger than this is refused (431): a scraper sends a few hundred bytes. */
#define MAX_REQUEST_HEAD 8192
/* Time a client has to send its request head, and to take the answer. */
#define CONNECTION_DEADLINE_MS 2000
/* After the answer, what the client still sends is read and dropped for at most this long, so
 * that closing does not reset the connection under an answer it has not read yet. */
#define LINGER_MS 200
/* Connections served at once. When all are taken, the one that has waited longest for its
 * request head is dropped for a newcomer: idle clients cannot starve a scraper. */
#define MAX_CONNECTIONS 32

#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CONTENT_TYPE_TEXT    "text/plain; charset=utf-8"

typedef struct listen_addr {
    struct sockaddr_storage ss;
    socklen_t len;
    char host[INET6_ADDRSTRLEN + 3]; /* as it goes into a URL: "127.0.0.1" or "[::1]" */
} listen_addr;

typedef enum conn_state { CONN_FREE, CONN_READING, CONN_WRITING, CONN_LINGERING } conn_state;

/* One client, served by the poll loop without blocking: its request head is read, the whole
 * answer composed in out and sent as the socket takes it, then the connection lingers. */
typedef struct conn {
    int fd;
    conn_state state;
    int64_t deadline; /* of the current state, in now_ms() time */
    size_t n;         /* request bytes read */
    size_t sent;      /* answer bytes sent */
    ifx_buf out;      /* the answer, head and body; reused */
    char request[MAX_REQUEST_HEAD];
} conn;

struct cli_metrics {
    int listen_fd;
    int wake[2]; /* self-pipe: once wake[1] has been written to, the thread ends */
    pthread_t thread;
    cli_metrics_render_fn render;
    void *ud;
    uint16_t port;
    char url[96];
    /* used by the server thread only, reused across scrapes */
    ifx_buf body;
    conn conns[MAX_CONNECTIONS];
};

/* ---- the listen address ---------------------------------------------------------------------- */

/* shown: the value as it goes into a message (ifx_excerpt). */
static ifx_rc bad_listen(const char *shown, ifx_err *err)
{
    return ifx_err_set(err, IFX_E_USAGE, "--metrics-listen: expected HOST:PORT, got '%s'", shown);
}

static ifx_rc parse_listen(const char *address, listen_addr *a, ifx_err *err)
{
    const char *host, *port, *colon;
    char name[INET6_ADDRSTRLEN + 1], shown[IFX_EXCERPT_SIZE(80)];
    size_t host_len;
    unsigned long port_num = 0;
    bool v6 = false;

    memset(a, 0, sizeof *a);
    if (!address)
        return ifx_err_set(err, IFX_E_USAGE, "--metrics-listen: expected HOST:PORT");
    ifx_excerpt(address, strlen(address), 80, shown);
    if (address[0] == '[') {
        const char *close = strchr(address, ']');
        if (!close || close[1] != ':')
            return bad_listen(shown, err);
        host = address + 1;
        host_len = (size_t)(close - host);
        port = close + 2;
        v6 = true;
    } else {
        colon = strrchr(address, ':');
        if (!colon)
            return bad_listen(shown, err);
        host = address;
        host_len = (size_t)(colon - address);
        port = colon + 1;
        if (memchr(host, ':', host_len)) /* an IPv6 address needs its brackets */
            return bad_listen(shown, err);
    }
    if (host_len == 0 || host_len >= sizeof name || !*port || strlen(port) > 5)
        return bad_listen(shown, err);
    for (const char *d = port; *d; d++) {
        if (*d < '0' || *d > '9')
            return bad_listen(shown, err);
        port_num = port_num * 10 + (unsigned long)(*d - '0');
    }
    if (port_num > 65535)
        return ifx_err_set(err, IFX_E_USAGE,
                           "--metrics-listen: port %lu is out of range (0 to 65535) in '%s'",
                           port_num, shown);
    memcpy(name, host, host_len);
    name[host_len] = '\0';
    if (v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;
        if (inet_pton(AF_INET6, name, &s6->sin6_addr) != 1)
            return ifx_err_set(err, IFX_E_USAGE,
                               "--metrics-listen: not an IPv6 address in brackets: '%s'", shown);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port_num);
        a->len = sizeof *s6;
        snprintf(a->host, sizeof a->host, "[%s]", name);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;
        if (strcmp(name, "localhost") == 0)
            snprintf(name, sizeof name, "127.0.0.1");
        if (inet_pton(AF_INET, name, &s4->sin_addr) != 1)
            return ifx_err_set(err, IFX_E_USAGE,
                               "--metrics-listen: HOST must be an IPv4 address, [IPv6 address] "
                               "or localhost, got '%s'",
                               shown);
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port_num);
        a->len = sizeof *s4;
        snprintf(a->host, sizeof a->host, "%s", name);
    }
    return IFX_OK;
}

ifx_rc cli_metrics_check_listen(const char *address, ifx_err *err)
{
    listen_addr a;
    return parse_listen(address, &a, err);
}

/* ---- one connection -------------------------------------------------------------------------- */

static int64_t now_ms(void)
{
    return (int64_t)(ifx_now_ns() / 1000000);
}

static bool set_flags(int fd, bool nonblocking)
{
    int fl = fcntl(fd, F_GETFL);
    int fd_fl = fcntl(fd, F_GETFD);
    return fl >= 0 && fd_fl >= 0 && fcntl(fd, F_SETFD, fd_fl | FD_CLOEXEC) == 0 &&
           (!nonblocking || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0);
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 431:
        return "Request Header Fields Too Large";
    default:
        return "Internal Server Error";
    }
}

/* After the answer, whatever the client still sends (a body) is read and dropped until it closes
 * or LINGER_MS pass, so that close() does not turn into a reset that could discard the answer on
 * its side. */
static void conn_linger(conn *c)
{
    shutdown(c->fd, SHUT_WR);
    c->state = CONN_LINGERING;
    c->deadline = now_ms() + LINGER_MS;
}

/* Composes one answer in c->out: body is m->body when status is 200, else a short text; headers
 * only for HEAD. The connection then writes it. */
static void respond(cli_metrics *m, conn *c, int status, bool head_only, const char *text)
{
    const char *type = status == 200 ? CONTENT_TYPE_METRICS : CONTENT_TYPE_TEXT;
    const char *body = status == 200 ? m->body.data : text;
    size_t len = status == 200 ? m->body.len : strlen(text);

    ifx_buf_reset(&c->out);
    c->sent = 0;
    c->state = CONN_WRITING;
    if (ifx_buf_printf(&c->out,
                       "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                       "Connection: close\r\n\r\n",
                       status, reason(status), type, len,
                       status == 405 ? "Allow: GET, HEAD\r\n" : "") ||
        (!head_only && len && ifx_buf_append(&c->out, body ? body : "", len)))
        conn_linger(c); /* cannot even say why: just close */
}

size_t cli_http_head_length(const char *buf, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (buf[i] != '\n')
            continue;
        if (buf[i + 1] == '\n')
            return i + 2;
        if (buf[i + 1] == '\r' && i + 2 < n && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

static bool token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

bool cli_http_parse_request(const char *head, size_t len, const char **method, size_t *method_len,
                            const char **path, size_t *path_len)
{
    const char *p = head, *end = head + len, *eol, *sp;

    eol = memchr(p, '\n', len);
    if (!eol)
        return false;
    const char *line_end = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
    /* method */
    for (sp = p; sp < line_end && token_char(*sp); sp++)
        ;
    if (sp == p || sp == line_end || *sp != ' ')
        return false;
    *method = p;
    *method_len = (size_t)(sp - p);
    /* target: anything visible up to the next space */
    p = sp + 1;
    for (sp = p; sp < line_end && (unsigned char)*sp > ' ' && (unsigned char)*sp < 0x7f; sp++)
        ;
    if (sp == p || sp == line_end || *sp != ' ')
        return false;
    if (*p != '/')
        return false; /* only origin-form ("/metrics"): a scraper sends nothing else */
    *path = p;
    for (*path_len = 0; p + *path_len < sp && p[*path_len] != '?' && p[*path_len] != '#';)
        (*path_len)++;
    /* version */
    p = sp + 1;
    if (line_end - p != 8 || memcmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9')
        return false;
    /* header lines: "name: value", name a token */
    for (p = eol + 1; p < end; p = eol + 1) {
        if (!(eol = memchr(p, '\n', (size_t)(end - p))))
            return false;
        line_end = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
        if (line_end == p)
            break; /* the blank line */
        for (sp = p; sp < line_end && token_char(*sp); sp++)
            ;
        if (sp == p || sp == line_end || *sp != ':')
            return false;
        for (const char *c = sp; c < line_end; c++)
            if ((unsigned char)*c < ' ' && *c != '\t')
                return false;
    }
    return true;
}

/* A complete request head is in c->request[0..head_len): answer it. */
static void answer(cli_metrics *m, conn *c, size_t head_len)
{
    const char *method, *path;
    size_t method_len, path_len;

    if (!cli_http_parse_request(c->request, head_len, &method, &method_len, &path, &path_len)) {
        respond(m, c, 400, false, "malformed request\n");
        return;
    }
    bool get = method_len == 3 && memcmp(method, "GET", 3) == 0;
    bool head = method_len == 4 && memcmp(method, "HEAD", 4) == 0;
    if (path_len != 8 || memcmp(path, "/metrics", 8) != 0) {
        respond(m, c, 404, head, "not found: the metrics are at /metrics\n");
    } else if (!get && !head) {
        respond(m, c, 405, false, "only GET and HEAD\n");
    } else {
        ifx_buf_reset(&m->body);
        ifx_rc rc = m->render(m->ud, &m->body);
        if (rc) {
            char text[128];
            snprintf(text, sizeof text, "cannot render the metrics: %s\n", ifx_rc_name(rc));
            respond(m, c, 500, head, text);
        } else {
            respond(m, c, 200, head, NULL);
        }
    }
}

static void conn_close(conn *c)
{
    close(c->fd);
    c->fd = -1;
    c->state = CONN_FREE;
}

/* Reads what the client sent; answers once the head is complete. */
static void conn_read(cli_metrics *m, conn *c)
{
    for (;;) {
        if (c->n == sizeof c->request) {
            respond(m, c, 431, false, "request head too large\n");
            return;
        }
        ssize_t got = recv(c->fd, c->request + c->n, sizeof c->request - c->n, 0);
        if (got == 0) {
            conn_close(c); /* the client went away */
            return;
        }
        if (got < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                conn_close(c);
            return;
        }
        size_t before = c->n;
        c->n += (size_t)got;
        /* the blank line may straddle two reads: look again from a little before */
        size_t from = before > 3 ? before - 3 : 0, len;
        if ((len = cli_http_head_length(c->request + from, c->n - from))) {
            answer(m, c, from + len);
            return;
        }
    }
}

/* Sends what the socket takes of the answer; lingers once all is sent. */
static void conn_write(conn *c)
{
    while (c->sent < c->out.len) {
        ssize_t k = send(c->fd, c->out.data + c->sent, c->out.len - c->sent, MSG_NOSIGNAL);
        if (k > 0) {
            c->sent += (size_t)k;
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        conn_close(c);
        return;
    }
    conn_linger(c);
}

static void conn_drain(conn *c)
{
    char sink[4096];
    for (;;) {
        ssize_t got = recv(c->fd, sink, sizeof sink, 0);
        if (got > 0)
            continue;
        if (got < 0 && errno == EINTR)
            continue;
        if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            conn_close(c);
        return;
    }
}

/* A connection whose time is up: a started request is answered 408, anything else closed. */
static void conn_expire(cli_metrics *m, conn *c, int64_t now)
{
    if (c->state == CONN_READING && c->n > 0) {
        respond(m, c, 408, false, "request timeout\n");
        c->deadline = now + LINGER_MS; /* a short grace to send it */
        conn_write(c);
        return;
    }
    conn_close(c);
}

/* A slot for a new connection: a free one, else the reading one closest to its deadline (it has
 * waited longest), which is dropped. NULL when every slot is busy answering. */
static conn *conn_slot(cli_metrics *m)
{
    conn *oldest = NULL;
    for (size_t i = 0; i < MAX_CONNECTIONS; i++) {
        conn *c = &m->conns[i];
        if (c->state == CONN_FREE)
            return c;
        if (c->state == CONN_READING && (!oldest || c->deadline < oldest->deadline))
            oldest = c;
    }
    if (oldest)
        conn_close(oldest);
    return oldest;
}

static void accept_all(cli_metrics *m)
{
    for (;;) {
        int fd = accept(m->listen_fd, NULL, NULL);
        if (fd < 0)
            return; /* EAGAIN: none left; anything else: the next poll says */
        conn *c = conn_slot(m);
        if (!c || !set_flags(fd, true)) {
            close(fd); /* every slot is busy answering: rare, and the client may retry */
            continue;
        }
        c->fd = fd;
        c->state = CONN_READING;
        c->n = 0;
        c->deadline = now_ms() + CONNECTION_DEADLINE_MS;
    }
}

/* One thread, one poll over the listening socket and every connection: no client, idle or slow,
 * holds up another, and each has CONNECTION_DEADLINE_MS to send its request and take the
 * answer. */
static void *serve(void *arg)
{
    cli_metrics *m = arg;
    struct pollfd p[2 + MAX_CONNECTIONS];
    conn *of[2 + MAX_CONNECTIONS];

    for (;;) {
        int64_t now = now_ms(), next = -1;
        nfds_t n = 0;
        bool room = false;
        for (size_t i = 0; i < MAX_CONNECTIONS; i++) {
            conn *c = &m->conns[i];
            if (c->state != CONN_FREE && c->deadline <= now)
                conn_expire(m, c, now);
            if (c->state == CONN_FREE || c->state == CONN_READING)
                room = true;
            if (c->state == CONN_FREE)
                continue;
            p[n] =
                (struct pollfd){.fd = c->fd, .events = c->state == CONN_WRITING ? POLLOUT : POLLIN};
            of[n++] = c;
            if (next < 0 || c->deadline < next)
                next = c->deadline;
        }
        size_t first_extra = n;
        p[n++] = (struct pollfd){.fd = m->wake[0], .events = POLLIN};
        if (room)
            p[n++] = (struct pollfd){.fd = m->listen_fd, .events = POLLIN};
        int timeout = next < 0 ? -1 : next - now > 0 ? (int)(next - now) : 0;
        int ready = poll(p, n, timeout);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[first_extra].revents)
            break; /* stop requested */
        for (size_t i = 0; i < first_extra; i++) {
            conn *c = of[i];
            if (!p[i].revents || c->state == CONN_FREE)
                continue;
            if (c->state == CONN_READING)
                conn_read(m, c);
            if (c->state == CONN_WRITING)
                conn_write(c);
            else if (c->state == CONN_LINGERING && (p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                conn_drain(c);
        }
        if (room && (p[first_extra + 1].revents & POLLIN))
            accept_all(m);
    }
    for (size_t i = 0; i < MAX_CONNECTIONS; i++)
        if (m->conns[i].state != CONN_FREE)
            conn_close(&m->conns[i]);
    return NULL;
}

/* ---- start and stop -------------------------------------------------------------------------- */

static void free_metrics(cli_metrics *m)
{
    if (m->listen_fd >= 0)
        close(m->listen_fd);
    if (m->wake[0] >= 0)
        close(m->wake[0]);
    if (m->wake[1] >= 0)
        close(m->wake[1]);
    ifx_buf_free(&m->body);
    for (size_t i = 0; i < MAX_CONNECTIONS; i++)
        ifx_buf_free(&m->conns[i].out);
    free(m);
}

ifx_rc cli_metrics_start(const char *address, cli_metrics_render_fn render, void *ud,
                         cli_metrics **out, ifx_err *err)
{
    cli_metrics *m = NULL;
    listen_addr a;
    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof bound;
    sigset_t all, old;
    int one = 1, e;
    ifx_rc rc;

    *out = NULL;
    if ((rc = parse_listen(address, &a, err)))
        return rc;
    if (!render)
        return ifx_err_set(err, IFX_E_USAGE, "cli_metrics_start: no render function");
    if (!(m = calloc(1, sizeof *m)))
        return ifx_err_set(err, IFX_E_NOMEM, "out of memory");
    m->listen_fd = m->wake[0] = m->wake[1] = -1;
    m->render = render;
    m->ud = ud;
    ifx_buf_init(&m->body, CLI_METRICS_MAX_BODY);
    for (size_t i = 0; i < MAX_CONNECTIONS; i++) {
        m->conns[i].fd = -1;
        ifx_buf_init(&m->conns[i].out, CLI_METRICS_MAX_BODY + 1024);
    }

    m->listen_fd = socket(a.ss.ss_family, SOCK_STREAM, 0);
    if (m->listen_fd < 0 || !set_flags(m->listen_fd, true) ||
        setsockopt(m->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(m->listen_fd, (struct sockaddr *)&a.ss, a.len) != 0 || listen(m->listen_fd, 16) != 0 ||
        getsockname(m->listen_fd, (struct sockaddr *)&bound, &bound_len) != 0) {
        rc = ifx_err_set(err, IFX_E_IO, "cannot listen on %s: %s", address, strerror(errno));
        goto out;
    }
    m->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    snprintf(m->url, sizeof m->url, "http://%s:%u/metrics", a.host, (unsigned)m->port);
    if (pipe(m->wake) != 0 || !set_flags(m->wake[0], true) || !set_flags(m->wake[1], true)) {
        rc = ifx_err_set(err, IFX_E_IO, "metrics: cannot make a pipe: %s", strerror(errno));
        goto out;
    }
    /* The command takes its signals (SIGINT, SIGTERM) on its own threads; faults stay
     * deliverable so that crashes are still reported where they happen. */
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    sigdelset(&all, SIGABRT);
    sigdelset(&all, SIGTRAP);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    e = pthread_create(&m->thread, NULL, serve, m);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        rc = ifx_err_set(err, IFX_E_IO, "metrics: cannot start a thread: %s", strerror(e));
        goto out;
    }
    *out = m;
    m = NULL;
    rc = IFX_OK;
out:
    if (m)
        free_metrics(m);
    return rc;
}

bool cli_metrics_begin(const char *cmd, const char *address, cli_metrics_render_fn render, void *ud,
                       cli_metrics **out)
{
    ifx_err err;
    *out = NULL;
    if (!address)
        return true;
    ifx_err_clear(&err);
    if (cli_metrics_start(address, render, ud, out, &err)) {
        fprintf(stderr, "ifx: %s: %s\n", cmd, err.msg);
        return false;
    }
    fprintf(stderr, "ifx: metrics on %s\n", cli_metrics_url(*out));
    return true;
}

uint16_t cli_metrics_port(const cli_metrics *m)
{
    return m ? m->port : 0;
}

const char *cli_metrics_url(const cli_metrics *m)
{
    return m ? m->url : "";
}

void cli_metrics_stop(cli_metrics *m)
{
    char byte = 1;
    if (!m)
        return;
    while (write(m->wake[1], &byte, 1) < 0 && errno == EINTR)
        ;
    pthread_join(m->thread, NULL);
    free_metrics(m);
}
