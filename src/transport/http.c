/* ifx — the HTTP engine (libcurl) behind every version transport (see include/ifx/client.h).
 *
 * Connection reuse: each pooled curl handle keeps its own keep-alive connections, and a request
 * borrows one handle for its duration, so concurrent callers never share a handle and sequential
 * callers reuse warm connections. The pool is the only state shared between threads.
 *
 * Why one file of this size: it is the one HTTP engine every version file uses (so the version
 * files stay about 100 lines each): the handle pool, request and response handling, error
 * mapping and the helpers the version files share, around one libcurl handle's life.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <isa-l/igzip_lib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ifx/lp.h"
#include "ifx/resilience.h"
#include "ifx_build_version.h"
#include "ifx/config.h" /* ifx_url_redacted */
#include "transport/transport.h"
#include "transport/write_gzip.h"

#define POOL_MAX 8

/* A pooled handle. What is the same for every request of the client (timeouts, the progress
 * callback, TLS, proxy, user agent) is set once, when the handle is made (conn_setup), not after
 * a curl_easy_reset per request: libcurl copies every string option, so re-setting them cost
 * allocations on every request. The URL is set again only when it changes, and the write path's
 * header lists are built once per handle (they hold the Authorization header: wiped when freed).
 * So a request that changes another option on a pooled handle must set it back before it gives
 * the handle back. */
typedef struct conn {
    CURL *curl;
    char errbuf[CURL_ERROR_SIZE];
    ifxi_gzip zip;         /* this handle's gzip bodies */
    const ifx_buf *pre_gz; /* the next write's body, gzipped ahead (write_gzip.h); NULL */
    ifx_buf url;           /* the URL being built */
    ifx_buf url_set;       /* the URL the handle holds */
    ifx_buf auth;
    ifx_buf wtarget;                 /* the write path and query, for wtarget_precision */
    int wtarget_precision;           /* -1: none built */
    struct curl_slist *write_hdr[2]; /* the write's headers: plain, gzip; NULL until built */
} conn;

struct ifx_client {
    const ifx_transport *t;
    ifx_client_settings s;
    char *shown_url; /* base_url with a password in it replaced by ***, for messages */
    bool gzip;
    size_t gzip_threshold;
    long timeout_ms, connect_timeout_ms;
    char *tls_ca_file, *tls_cert_file, *tls_key_file;
    bool tls_insecure;
    bool direct; /* ignore_proxy_env */
    char user_agent[48];

    _Atomic int cancelled;

    /* Request latency per kind (see ifx_client_latency). */
    struct {
        _Atomic uint64_t count, sum_us, bucket[IFX_LATENCY_BOUNDS + 1];
    } latency[IFX_REQUEST_KINDS];

    pthread_mutex_t lock;
    conn *idle[POOL_MAX];
    size_t nidle;
};

/* What a request brings back. */
typedef struct response {
    long status;
    ifx_buf *body;
    bool keep_head; /* over the cap: keep the first cap bytes and read the rest unkept */
    bool truncated;
    size_t dropped; /* bytes read and not kept (keep_head) */
    uint64_t retry_after_ms;
    bool retry_after_number; /* a Retry-After header came with a number (not a date) */
    char version[64];        /* X-Influxdb-Version */
    char build[32];          /* X-Influxdb-Build */

    /* A query answer read as it arrives (ifx_client_query_rows), or NULL. */
    struct query_stream *stream;
} response;

/* A query answer handed to a rows stream as it arrives (ifx_client_query_rows). A 2xx answer
 * goes to the reader chunk by chunk; any other goes to the response body (capped) for the error. */
typedef struct query_stream {
    CURL *h;
    ifx_rows_stream rows;
    ifx_err err; /* the reader's error, or the row callback's */
    ifx_rc rc;
    long status; /* 0 until the first chunk */
} query_stream;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void init_curl(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- helpers shared by the version files ------------------------------------------------- */

ifx_rc ifxi_http_url_append_escaped(ifx_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    ifx_rc rc = ifx_buf_reserve(out, 3 * len);
    if (rc)
        return rc;
    char *w = out->data + out->len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            *w++ = (char)c;
        } else {
            *w++ = '%';
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        }
    }
    out->len = (size_t)(w - out->data);
    out->data[out->len] = '\0';
    return IFX_OK;
}

ifx_rc ifxi_http_query_unbuilt(ifx_err *err, ifx_rc rc)
{
    return ifx_err_set(err, rc,
                       rc == IFX_E_NOMEM ? "out of memory building the query request"
                                         : "query too large to send");
}

ifx_rc ifxi_http_url_add_param(ifx_buf *out, const char *name, const char *value)
{
    ifx_rc rc;
    bool first = !out->data || !memchr(out->data, '?', out->len);
    if ((rc = ifx_buf_putc(out, first ? '?' : '&')) || (rc = ifx_buf_puts(out, name)) ||
        (rc = ifx_buf_putc(out, '=')))
        return rc;
    return ifxi_http_url_append_escaped(out, value ? value : "", value ? strlen(value) : 0);
}

void ifx_write_result_init(ifx_write_result *r)
{
    memset(r, 0, sizeof *r);
    ifx_buf_init(&r->body, IFX_MAX_ERROR_BODY);
}

void ifx_write_result_reset(ifx_write_result *r)
{
    for (size_t i = 0; i < r->nlines; i++)
        free(r->lines[i].message);
    r->nlines = 0;
    r->status = 0;
    r->unnamed_rejects = 0;
    r->truncated = false;
    r->retry_after_ms = 0;
    ifx_buf_reset(&r->body);
}

void ifx_write_result_free(ifx_write_result *r)
{
    ifx_write_result_reset(r);
    free(r->lines);
    r->lines = NULL;
    r->cap_lines = 0;
    ifx_buf_free(&r->body);
}

ifx_rc ifxi_http_write_result_add_line(ifx_write_result *res, size_t line, const char *msg,
                                       size_t msg_len)
{
    if (res->nlines == res->cap_lines) {
        size_t n = res->cap_lines ? res->cap_lines * 2 : 8;
        ifx_line_error *p = realloc(res->lines, n * sizeof *p);
        if (!p)
            return IFX_E_NOMEM;
        res->lines = p;
        res->cap_lines = n;
    }
    char *m = malloc(msg_len + 1);
    if (!m)
        return IFX_E_NOMEM;
    memcpy(m, msg, msg_len);
    m[msg_len] = '\0';
    res->lines[res->nlines].line = line;
    res->lines[res->nlines].message = m;
    res->nlines++;
    return IFX_OK;
}

size_t ifxi_http_find_line(const char *lp, size_t lp_len, const char *text, size_t text_len)
{
    size_t line = 1, pos = 0;
    while (pos < lp_len) {
        size_t n = ifx_lp_line_length(lp + pos, lp_len - pos);
        if (n == text_len && memcmp(lp + pos, text, text_len) == 0)
            return line;
        line++;
        pos += n + 1;
    }
    return 0;
}

size_t ifxi_http_read_go_parse_errors(const char *msg, size_t len, const char *lp, size_t lp_len,
                                      ifx_write_result *res)
{
    static const char tag[] = "unable to parse '";
    const char *p = msg, *end = msg + len;
    size_t named = 0;

    while ((p = strstr(p, tag)) && p < end) {
        const char *line = p + sizeof tag - 1;
        /* The quoted line ends at the "': " before the reason; a line may itself hold "'". */
        const char *q = strstr(line, "': ");
        if (!q)
            break;
        const char *reason = q + 3;
        const char *reason_end = strchr(reason, '\n');
        if (!reason_end)
            reason_end = end;
        size_t n = ifxi_http_find_line(lp, lp_len, line, (size_t)(q - line));
        if (n) {
            /* " dropped=N" closes a partial write message, not the reason. */
            const char *d = strstr(reason, " dropped=");
            size_t rlen = (size_t)(reason_end - reason);
            if (d && d < reason_end)
                rlen = (size_t)(d - reason);
            ifxi_http_write_result_add_line(res, n, reason, rlen);
            named++;
        }
        p = reason;
    }
    return named;
}

/* ---- client --------------------------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

ifx_rc ifx_client_new(ifx_version version, const ifx_transport_options *o, ifx_client **out,
                      ifx_err *err)
{
    ifx_client *c;

    *out = NULL;
    pthread_once(&curl_once, init_curl);
    if (curl_init_rc != CURLE_OK)
        return ifx_err_set(err, IFX_E_IO, "libcurl failed to initialise: %s",
                           curl_easy_strerror(curl_init_rc));
    c = calloc(1, sizeof *c);
    if (!c)
        return ifx_err_set(err, IFX_E_NOMEM, "out of memory");
    switch (version) {
    case IFX_VERSION_V1:
        c->t = &ifxi_transport_v1;
        break;
    case IFX_VERSION_V2:
        c->t = &ifxi_transport_v2;
        break;
    case IFX_VERSION_V3:
        c->t = &ifxi_transport_v3;
        break;
    case IFX_VERSION_AUTO:
        free(c);
        return ifx_err_set(err, IFX_E_USAGE,
                           "version \"auto\" must be resolved with ifx_detect before a client "
                           "is made");
    }
    c->s.base_url = dup_or_null(o->url);
    c->shown_url = o->url ? ifx_url_redacted(o->url) : NULL;
    c->s.org = dup_or_null(o->org);
    c->s.bucket = dup_or_null(o->bucket);
    c->s.db = dup_or_null(o->db);
    c->s.retention_policy = dup_or_null(o->retention_policy);
    c->s.username = dup_or_null(o->username);
    c->s.password = dup_or_null(o->password);
    c->s.token = dup_or_null(o->token);
    c->s.accept_partial = o->accept_partial;
    c->s.no_sync = o->no_sync;
    c->s.v2_compat_write = o->write_endpoint == IFX_WRITE_ENDPOINT_V2_COMPAT;
    c->s.for_write = o->for_write;
    c->gzip = o->gzip;
    c->gzip_threshold = o->gzip_threshold;
    c->timeout_ms = (long)(o->timeout_ns / 1000000ULL);
    if (c->timeout_ms < 1)
        c->timeout_ms = 1;
    c->connect_timeout_ms = c->timeout_ms < 10000 ? c->timeout_ms : 10000;
    c->tls_ca_file = dup_or_null(o->tls_ca_file);
    c->tls_cert_file = dup_or_null(o->tls_cert_file);
    c->tls_key_file = dup_or_null(o->tls_key_file);
    c->tls_insecure = o->tls_insecure_skip_verify;
    c->direct = o->ignore_proxy_env;
    snprintf(c->user_agent, sizeof c->user_agent, "ifx/%s", IFX_VERSION_STRING);
    pthread_mutex_init(&c->lock, NULL);
    if (!c->s.base_url || !c->shown_url) {
        ifx_client_free(c);
        return ifx_err_set(err, IFX_E_CONFIG, "no url configured");
    }
    *out = c;
    return IFX_OK;
}

/* Frees a header list, clearing the Authorization line (the token) first. */
static void free_headers(struct curl_slist *hdr)
{
    for (struct curl_slist *s = hdr; s; s = s->next)
        if (strncmp(s->data, "Authorization:", 14) == 0)
            memset(s->data, 0, strlen(s->data));
    curl_slist_free_all(hdr);
}

static void conn_free(conn *k)
{
    if (!k)
        return;
    curl_easy_cleanup(k->curl);
    free_headers(k->write_hdr[0]);
    free_headers(k->write_hdr[1]);
    ifx_buf_free(&k->url_set);
    ifx_buf_free(&k->wtarget);
    ifxi_gzip_free(&k->zip);
    ifx_buf_free(&k->url);
    if (k->auth.data)
        memset(k->auth.data, 0, k->auth.alloc);
    ifx_buf_free(&k->auth);
    free(k);
}

void ifx_client_free(ifx_client *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nidle; i++)
        conn_free(c->idle[i]);
    pthread_mutex_destroy(&c->lock);
    wipe_free(c->s.base_url); /* it may hold a password */
    free(c->shown_url);
    free(c->s.org);
    free(c->s.bucket);
    free(c->s.db);
    free(c->s.retention_policy);
    free(c->s.username);
    wipe_free(c->s.password);
    wipe_free(c->s.token);
    free(c->tls_ca_file);
    free(c->tls_cert_file);
    free(c->tls_key_file);
    free(c);
}

void ifx_client_cancel(ifx_client *c)
{
    atomic_store(&c->cancelled, 1);
}

/* libcurl's progress callback: a non-zero return aborts the transfer. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    ifx_client *c = ud;
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return atomic_load(&c->cancelled) ? 1 : 0;
}

ifx_version ifx_client_version(const ifx_client *c)
{
    return c->t->version;
}

/* The options every request of c shares, set once per handle. The user agent is a line of the
 * header lists (build_headers): set as CURLOPT_USERAGENT, libcurl formats its header anew for
 * every request. Each must take: a TLS file or the proxy override that failed (libcurl copies
 * strings, so out of memory can fail them) would leave a handle that quietly does otherwise.
 * IFX_OK, or the error naming the option. */
static ifx_rc conn_setup(ifx_client *c, conn *k, ifx_err *err)
{
    CURL *h = k->curl;
    CURLcode cc = CURLE_OK;
    const char *what = NULL;
#define SET(opt, val)                                                                              \
    (cc == CURLE_OK && ((cc = curl_easy_setopt(h, opt, val)) == CURLE_OK || (what = #opt, false)))
    SET(CURLOPT_ERRORBUFFER, k->errbuf);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_TIMEOUT_MS, c->timeout_ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, c);
    if (c->tls_ca_file)
        SET(CURLOPT_CAINFO, c->tls_ca_file);
    if (c->tls_cert_file)
        SET(CURLOPT_SSLCERT, c->tls_cert_file);
    if (c->tls_key_file)
        SET(CURLOPT_SSLKEY, c->tls_key_file);
    if (c->tls_insecure) {
        SET(CURLOPT_SSL_VERIFYPEER, 0L);
        SET(CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (c->direct)
        SET(CURLOPT_PROXY, ""); /* "" also overrides the environment */
#undef SET
    if (cc == CURLE_OK)
        return IFX_OK;
    return ifx_err_set(err, cc == CURLE_OUT_OF_MEMORY ? IFX_E_NOMEM : IFX_E_CONFIG,
                       "cannot set up an HTTP handle: %s: %s", what, curl_easy_strerror(cc));
}

static conn *conn_take(ifx_client *c, ifx_err *err)
{
    conn *k = NULL;
    pthread_mutex_lock(&c->lock);
    if (c->nidle)
        k = c->idle[--c->nidle];
    pthread_mutex_unlock(&c->lock);
    if (k)
        return k;
    k = calloc(1, sizeof *k);
    if (!k || !(k->curl = curl_easy_init())) {
        free(k);
        ifx_err_set(err, IFX_E_NOMEM, "cannot create an HTTP handle");
        return NULL;
    }
    ifxi_gzip_init(&k->zip);
    ifx_buf_init(&k->url, 1 << 20);
    ifx_buf_init(&k->url_set, 1 << 20);
    ifx_buf_init(&k->auth, 1 << 16);
    ifx_buf_init(&k->wtarget, 64 * 1024);
    k->wtarget_precision = -1;
    if (conn_setup(c, k, err)) {
        conn_free(k);
        return NULL;
    }
    return k;
}

static void conn_give(ifx_client *c, conn *k)
{
    pthread_mutex_lock(&c->lock);
    if (c->nidle < POOL_MAX) {
        c->idle[c->nidle++] = k;
        k = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    conn_free(k);
}

static size_t on_stream(response *r, char *p, size_t len)
{
    query_stream *q = r->stream;
    if (!q->status)
        curl_easy_getinfo(q->h, CURLINFO_RESPONSE_CODE, &q->status);
    if (q->status < 200 || q->status >= 300) {
        /* an error answer: its head is enough for the message */
        size_t room = r->body->cap - r->body->len, keep = room < len ? room : len;
        if (keep)
            (void)ifx_buf_append(r->body, p, keep);
        r->dropped += len - keep;
        return r->dropped > IFX_MAX_RESPONSE_BODY ? 0 : len;
    }
    if ((q->rc = ifx_rows_stream_feed(&q->rows, p, len, &q->err)))
        return 0; /* stops the transfer */
    return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    response *r = ud;
    size_t len = size * n;
    if (r->stream)
        return on_stream(r, p, len);
    if (ifx_buf_append(r->body, p, len) == IFX_OK)
        return len;
    r->truncated = true;
    if (!r->keep_head)
        return 0; /* stops the transfer: the answer is over its cap */
    /* A write's error answer: its head names the first refused lines, which is enough to make
     * progress, so the rest is read and dropped rather than failing the whole answer (which
     * would leave the batch with no outcome at all). A server that never stops is cut off. */
    size_t room = r->body->cap - r->body->len, keep = room < len ? room : len;
    if (keep)
        (void)ifx_buf_append(r->body, p, keep);
    r->dropped += len - keep;
    return r->dropped > IFX_MAX_RESPONSE_BODY ? 0 : len;
}

static void copy_header_value(const char *v, size_t len, char *out, size_t cap)
{
    while (len && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
        len--;
    if (len >= cap)
        len = cap - 1;
    memcpy(out, v, len);
    out[len] = '\0';
}

/* Retry-After in milliseconds from libcurl's reading of it (CURLINFO_RETRY_AFTER): seconds, or
 * an HTTP date (IMF-fixdate, RFC 850 or asctime) as the seconds until then, negative once it has
 * passed. Its 0 stands for "absent or unreadable" as well as for "0", which the header itself
 * tells apart (number). "Now" (0, or a date gone by) is kept as 1 ms, so that the retry does not
 * fall back to the backoff delay; the caller caps the value (retry_after_max). */
static uint64_t retry_after_from_curl(CURL *h, bool number)
{
    curl_off_t secs = 0;
    if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &secs) != CURLE_OK)
        return 0;
    if (secs > 0)
        return (uint64_t)secs > UINT64_MAX / 1000 ? UINT64_MAX : (uint64_t)secs * 1000;
    return secs < 0 || number ? 1 : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    response *r = ud;
    size_t len = size * n;
    const char *colon = memchr(p, ':', len);
    char value[128];

    if (!colon)
        return len;
    size_t nlen = (size_t)(colon - p);
    const char *v = colon + 1;
    size_t vlen = len - nlen - 1;
    if (nlen == 11 && strncasecmp(p, "Retry-After", 11) == 0) {
        /* libcurl reads the value (retry_after_from_curl); this only tells its "0" apart. */
        copy_header_value(v, vlen, value, sizeof value);
        r->retry_after_number = value[0] >= '0' && value[0] <= '9';
    } else if (nlen == 18 && strncasecmp(p, "X-Influxdb-Version", 18) == 0) {
        copy_header_value(v, vlen, r->version, sizeof r->version);
    } else if (nlen == 16 && strncasecmp(p, "X-Influxdb-Build", 16) == 0) {
        copy_header_value(v, vlen, r->build, sizeof r->build);
    } else if (nlen == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
        /* A large answer is read into one buffer: size it once instead of doubling it (which
         * at its peak holds the old and the new copy, and leaves up to half unused). Too large
         * for the cap: leave it, on_body stops the transfer. */
        char *end;
        copy_header_value(v, vlen, value, sizeof value);
        unsigned long long announced = strtoull(value, &end, 10);
        if (end != value && *end == '\0' && announced > 0 &&
            announced <= r->body->cap - r->body->len)
            (void)ifx_buf_reserve_exact(r->body, (size_t)announced);
    }
    return len;
}

/* The server's message from an error body: the "error" or "message" key of a JSON body (v3 error
 * bodies carry no Content-Type, so JSON is tried first), else the text itself; one line, cut. */
/* The server's own words from an error body: the "error" (1.x, 3.x) or "message" (2.x) string
 * of a JSON body, decoded (its JSON escapes are not the server's text), else the body as text.
 * Line breaks become spaces so that the message stays on one line. */
static void server_message(const char *body, size_t len, char *out, size_t cap)
{
    size_t k = 0;
    const char *m = body;
    size_t mlen = len;
    json_t *j = len && body[0] == '{' ? json_loadb(body, len, 0, NULL) : NULL;
    json_t *text = json_object_get(j, "error");

    if (!json_is_string(text))
        text = json_object_get(j, "message");
    if (json_is_string(text)) {
        m = json_string_value(text);
        mlen = json_string_length(text);
    }
    for (size_t i = 0; i < mlen && k + 1 < cap; i++)
        out[k++] = (m[i] == '\n' || m[i] == '\r') ? ' ' : m[i];
    while (k > 0 && out[k - 1] == ' ') /* a text body's final line break */
        k--;
    out[k] = '\0';
    json_decref(j);
}

/* Where the path ends in a "path?query" string, for messages without parameters. */
static int path_len(const char *pq)
{
    const char *q = strchr(pq, '?');
    return q ? (int)(q - pq) : (int)strlen(pq);
}

/* A TLS failure that retrying cannot fix. Certificate problems on our side have their own codes;
 * a server refusing our client certificate arrives as a handshake or receive error whose text
 * carries the TLS alert (TLS 1.2: CURLE_SSL_CONNECT_ERROR; 1.3: CURLE_RECV_ERROR), so those
 * codes count only with a certificate alert in the text: they also cover real network trouble. */
static bool tls_refusal(CURLcode cc, const char *why)
{
    static const char *const alerts[] = {
        "alert certificate required", "alert bad certificate", "alert unsupported certificate",
        "alert certificate unknown",  "alert unknown ca",      "alert certificate expired",
        "alert certificate revoked",  "alert access denied",
    };
    if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
        cc == CURLE_SSL_CERTPROBLEM || cc == CURLE_SSL_ISSUER_ERROR ||
        cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH)
        return true;
    if (cc != CURLE_SSL_CONNECT_ERROR && cc != CURLE_RECV_ERROR && cc != CURLE_SEND_ERROR)
        return false;
    for (size_t i = 0; i < sizeof alerts / sizeof alerts[0]; i++)
        if (strstr(why, alerts[i]))
            return true;
    return false;
}

const double ifx_latency_bounds[IFX_LATENCY_BOUNDS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                       0.1,   0.25,   0.5,   1.0,  2.5,   10.0};

static void record_latency(ifx_client *c, ifx_request_kind kind, uint64_t us)
{
    size_t i = 0;
    while (i < IFX_LATENCY_BOUNDS && (double)us > ifx_latency_bounds[i] * 1e6)
        i++;
    atomic_fetch_add_explicit(&c->latency[kind].bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->latency[kind].sum_us, us, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->latency[kind].count, 1, memory_order_relaxed);
}

void ifx_client_latency(const ifx_client *c, ifx_request_kind kind, ifx_latency *out)
{
    memset(out, 0, sizeof *out);
    if (!c || (unsigned)kind >= IFX_REQUEST_KINDS)
        return;
    /* The const is the caller's view: the counters are atomics, read without changing them. */
    ifx_client *m = (ifx_client *)c;
    out->count = atomic_load_explicit(&m->latency[kind].count, memory_order_relaxed);
    out->sum_us = atomic_load_explicit(&m->latency[kind].sum_us, memory_order_relaxed);
    for (size_t i = 0; i <= IFX_LATENCY_BOUNDS; i++)
        out->bucket[i] = atomic_load_explicit(&m->latency[kind].bucket[i], memory_order_relaxed);
}

/* The request headers: user agent, content type, accept, no 100-continue, auth, and gzip. NULL
 * when out of memory; caller frees with free_headers. */
static struct curl_slist *build_headers(ifx_client *c, conn *k, const char *content_type,
                                        const char *accept, bool send_auth, bool gzip)
{
    struct curl_slist *hdr = NULL, *t;
    char line[160];
    bool ok = true;

#define ADD(text) (ok = ok && (t = curl_slist_append(hdr, (text))) != NULL && (hdr = t, true))
    if (gzip)
        ADD("Content-Encoding: gzip");
    if (content_type) {
        snprintf(line, sizeof line, "Content-Type: %s", content_type);
        ADD(line);
    }
    if (accept) {
        snprintf(line, sizeof line, "Accept: %s", accept);
        ADD(line);
    } else {
        ADD("Accept:"); /* removes curl's default */
    }
    ADD("Expect:"); /* no 100-continue round trip */
    snprintf(line, sizeof line, "User-Agent: %s", c->user_agent);
    ADD(line);
    if (send_auth) {
        ifx_buf_reset(&k->auth);
        ok = ok && c->t->auth_header(&c->s, &k->auth) == IFX_OK;
        if (k->auth.len)
            ADD(k->auth.data);
        if (k->auth.data)
            memset(k->auth.data, 0, k->auth.alloc);
        k->auth.len = 0;
    }
#undef ADD
    if (!ok) {
        free_headers(hdr);
        return NULL;
    }
    return hdr;
}

/* Performs one request. path_and_query is appended to the base URL. body may be NULL (GET). A
 * write (kind IFX_REQUEST_WRITE) uses the handle's header lists, built on its first write. */
static ifx_rc perform(ifx_client *c, conn *k, ifx_request_kind kind, const char *method,
                      const char *path_and_query, const char *body, size_t body_len,
                      const char *content_type, const char *accept, bool send_auth, bool allow_gzip,
                      response *r, ifx_err *err)
{
    uint64_t started_us;
    struct curl_slist *hdr = NULL, **cached = NULL;
    bool gzipped = false;
    CURLcode cc;
    ifx_rc rc = IFX_OK;
    CURL *h = k->curl;

    if (atomic_load(&c->cancelled))
        return ifx_err_set(err, IFX_E_TRANSIENT, "%s %.*s: cancelled (shutting down)", method,
                           path_len(path_and_query), path_and_query);
    ifx_buf_reset(&k->url);
    if ((rc = ifx_buf_puts(&k->url, c->s.base_url)) || (rc = ifx_buf_puts(&k->url, path_and_query)))
        return ifx_err_set(err, rc == IFX_E_NOMEM ? IFX_E_NOMEM : IFX_E_INVALID,
                           rc == IFX_E_NOMEM ? "out of memory building the request URL"
                                             : "request URL too long");
    if (k->url_set.len != k->url.len || memcmp(k->url_set.data, k->url.data, k->url.len) != 0) {
        /* libcurl copies the URL: set it only when it changes. What url_set holds is what the
         * handle holds, so a copy that failed leaves it empty (set again next time), not
         * naming a URL the handle lacks. */
        ifx_buf_reset(&k->url_set);
        if (ifx_buf_append(&k->url_set, k->url.data, k->url.len))
            return ifx_err_set(err, IFX_E_NOMEM, "out of memory building the request URL");
        if ((cc = curl_easy_setopt(h, CURLOPT_URL, k->url_set.data)) != CURLE_OK) {
            ifx_buf_reset(&k->url_set);
            return ifx_err_set(err, cc == CURLE_OUT_OF_MEMORY ? IFX_E_NOMEM : IFX_E_INVALID,
                               "cannot set the request URL: %s", curl_easy_strerror(cc));
        }
    }
    k->errbuf[0] = '\0';
    /* The callbacks too (they allocate nothing): a request elsewhere in this file may have set
     * its own on the pooled handle. */
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    /* The method, set every time: the handle keeps the last request's. */
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (body) {
        if (allow_gzip && ifxi_client_gzips_write(c, body_len)) {
            if (k->pre_gz) {
                /* compressed ahead by the caller, as below */
                body = k->pre_gz->data;
                body_len = k->pre_gz->len;
                gzipped = true;
            } else if ((rc = ifxi_gzip_compress(&k->zip, body, body_len)) == IFX_OK) {
                body = k->zip.out.data;
                body_len = k->zip.out.len;
                gzipped = true;
            } else if (rc == IFX_E_NOMEM) {
                return ifx_err_set(err, IFX_E_NOMEM, "out of memory compressing a request");
            }
            rc = IFX_OK;
        }
        curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    if (kind == IFX_REQUEST_WRITE) {
        cached = &k->write_hdr[gzipped];
        if (!*cached)
            *cached = build_headers(c, k, content_type, accept, send_auth, gzipped);
        hdr = *cached;
    } else {
        hdr = build_headers(c, k, content_type, accept, send_auth, gzipped);
    }
    if (!hdr)
        return ifx_err_set(err, IFX_E_NOMEM, "cannot build the request headers");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);

    started_us = ifx_now_ns() / 1000;
    cc = curl_easy_perform(h);
    record_latency(c, kind, ifx_now_ns() / 1000 - started_us);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    r->retry_after_ms = retry_after_from_curl(h, r->retry_after_number);
    if (cc == CURLE_WRITE_ERROR && r->keep_head && r->truncated && r->status > 0)
        cc = CURLE_OK; /* cut off while dropping an endless body: the status and head are in */
    /* The handle must not point at a list or a response about to go away. */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, NULL);
    if (!cached)
        free_headers(hdr); /* it held the token: cleared before it is freed */
    if (cc != CURLE_OK) {
        const char *why = k->errbuf[0] ? k->errbuf : curl_easy_strerror(cc);
        if (r->truncated)
            /* Asking again gets the same answer: not transient. */
            rc = ifx_err_set(err, IFX_E_REJECTED,
                             "%s %.*s: the answer is larger than %zu bytes; ask for fewer rows",
                             method, path_len(path_and_query), path_and_query, r->body->cap);
        else if (tls_refusal(cc, why))
            /* The server could not be trusted, or it refused our certificate, or ours was
             * unusable: retrying will not help, fixing tls_ca_file / tls_cert_file /
             * tls_key_file will. */
            rc = ifx_err_set(err, IFX_E_AUTH, "%s %s%.*s: TLS: %s", method, c->shown_url,
                             path_len(path_and_query), path_and_query, why);
        else
            rc = ifx_err_set(err, IFX_E_TRANSIENT, "%s %s%.*s: %s", method, c->shown_url,
                             path_len(path_and_query), path_and_query, why);
        r->status = 0;
    }
    return rc;
}

/* The class of an HTTP status, for everything the version file did not explain. */
ifx_rc ifxi_http_classify_status(long status)
{
    if (status >= 200 && status < 300)
        return IFX_OK;
    if (status == 408 || status == 429 || status >= 500)
        return IFX_E_TRANSIENT;
    if (status == 401 || status == 403)
        return IFX_E_AUTH;
    if (status == 413)
        return IFX_E_TOO_LARGE;
    return IFX_E_REJECTED;
}

ifx_rc ifxi_http_status_error(const char *pq, long status, const ifx_buf *body, ifx_rc rc,
                              ifx_err *err)
{
    char msg[300];
    server_message(body->data ? body->data : "", body->len, msg, sizeof msg);
    ifx_err_set(err, rc, "HTTP %ld from %.*s: %s", status, path_len(pq), pq,
                msg[0] ? msg : "(no message)");
    if (err)
        err->http_status = (int)status;
    return rc;
}

/* ISA-L's igzip at level 1, one shot. On line protocol it keeps the same share of the bytes as
 * libdeflate's level 1 (0.050 of the bench's batches, 0.297 against 0.292 of high-entropy ones)
 * at 3-4 times its speed (650 against 225 MB/s on high-entropy batches, 3.6 against 0.85 GB/s on
 * the bench's; docs/performance.md), and compressing is most of what gzip costs the sink. */
struct ifxi_deflater {
    struct isal_zstream s;
    uint8_t level_buf[ISAL_DEF_LVL1_DEFAULT];
};

void ifxi_gzip_init(ifxi_gzip *g)
{
    g->z = NULL;
    ifx_buf_init(&g->out, (size_t)1 << 31);
}

void ifxi_gzip_free(ifxi_gzip *g)
{
    free(g->z);
    g->z = NULL;
    ifx_buf_free(&g->out);
}

ifx_rc ifxi_gzip_compress(ifxi_gzip *g, const char *data, size_t len)
{
    /* At worst deflate stores the input: 5 bytes of block header per 65 535 bytes, the gzip
     * header and trailer (18), and room for one Huffman header the encoder may try first. */
    if (len > UINT32_MAX / 2)
        return IFX_E_INVALID; /* igzip counts in 32 bits; past a body's cap anyway */
    size_t bound = len + 5 * (len / 65535 + 1) + 18 + ISAL_DEF_MAX_HDR_SIZE;
    if (!g->z && !(g->z = malloc(sizeof *g->z)))
        return IFX_E_NOMEM;
    ifx_buf_reset(&g->out);
    if (ifx_buf_reserve(&g->out, bound))
        return IFX_E_NOMEM;
    struct isal_zstream *s = &g->z->s;
    isal_deflate_stateless_init(s);
    s->level = 1;
    s->level_buf = g->z->level_buf;
    s->level_buf_size = sizeof g->z->level_buf;
    s->gzip_flag = IGZIP_GZIP;
    s->end_of_stream = 1;
    s->flush = NO_FLUSH;
    s->next_in = (uint8_t *)(uintptr_t)data;
    s->avail_in = (uint32_t)len;
    s->next_out = (uint8_t *)g->out.data;
    s->avail_out = (uint32_t)bound;
    if (isal_deflate_stateless(s) != COMP_OK || s->avail_in != 0)
        return IFX_E_INVALID;
    g->out.len = s->total_out;
    return IFX_OK;
}

bool ifxi_client_gzips_write(const ifx_client *c, size_t len)
{
    return c->gzip && len >= c->gzip_threshold;
}

static ifx_rc client_write(ifx_client *c, const char *lp, size_t len, const ifx_buf *pre_gz,
                           ifx_precision precision, ifx_write_result *res, ifx_err *err);

ifx_rc ifx_client_write(ifx_client *c, const char *lp, size_t len, ifx_precision precision,
                        ifx_write_result *res, ifx_err *err)
{
    return client_write(c, lp, len, NULL, precision, res, err);
}

ifx_rc ifxi_client_write_gzipped(ifx_client *c, const char *lp, size_t len, const ifx_buf *gz,
                                 ifx_precision precision, ifx_write_result *res, ifx_err *err)
{
    return client_write(c, lp, len, gz, precision, res, err);
}

static ifx_rc client_write(ifx_client *c, const char *lp, size_t len, const ifx_buf *pre_gz,
                           ifx_precision precision, ifx_write_result *res, ifx_err *err)
{
    const char *target;
    response r = {0};
    conn *k;
    ifx_rc rc;

    ifx_write_result_reset(res);
    if (!(k = conn_take(c, err)))
        return IFX_E_NOMEM;
    if (k->wtarget_precision != (int)precision) {
        /* built once per handle and precision */
        ifx_buf_reset(&k->wtarget);
        k->wtarget_precision = -1;
        if ((rc = c->t->write_target(&c->s, precision, &k->wtarget))) {
            conn_give(c, k);
            return ifx_err_set(err, rc, "cannot build the write URL");
        }
        k->wtarget_precision = (int)precision;
    }
    /* the handle goes back to the pool at the end: target is its buffer */
    target = k->wtarget.data;
    r.body = &res->body;
    r.keep_head = true;
    k->pre_gz = pre_gz;
    rc = perform(c, k, IFX_REQUEST_WRITE, "POST", target, lp, len, "text/plain; charset=utf-8",
                 NULL, true, true, &r, err);
    k->pre_gz = NULL;
    res->status = (int)r.status;
    res->retry_after_ms = r.retry_after_ms;
    res->truncated = r.truncated;
    if (rc)
        goto out;
    if (r.status >= 200 && r.status < 300 && r.status != 207)
        goto out;
    /* The version file reads what its server says about individual lines. */
    rc = c->t->read_write_error(&c->s, (int)r.status, res->body.data ? res->body.data : "",
                                res->body.len, lp, len, res);
    if (rc == IFX_OK)
        rc = ifxi_http_classify_status(r.status);
    if (rc == IFX_OK) /* a 207 that named nothing */
        goto out;
    ifxi_http_status_error(target, r.status, &res->body, rc, err);
    if (rc == IFX_E_PARTIAL && err && res->nlines) {
        size_t rejected = res->nlines + res->unnamed_rejects;
        char first[200] = "";
        if (res->nlines)
            snprintf(first, sizeof first, " (line %zu: %s)", res->lines[0].line,
                     res->lines[0].message);
        ifx_err_set(err, IFX_E_PARTIAL,
                    "HTTP %ld from %.*s: partial write, %s%zu line%s rejected%s%s", r.status,
                    path_len(target), target, res->truncated ? "at least " : "", rejected,
                    rejected == 1 ? "" : "s", first,
                    res->truncated ? "; the answer was longer than the part read" : "");
        err->http_status = (int)r.status;
    }
out:
    conn_give(c, k);
    return rc;
}

/* Sets up q (freed by query_free) and builds the query's request for the version. */
static ifx_rc query_prepare(ifx_client *c, ifx_query_lang lang, const char *query, size_t len,
                            ifx_result_format v3_format, ifx_query_request *q, ifx_err *err)
{
    ifx_buf_init(&q->path_and_query, 64 * 1024);
    ifx_buf_init(&q->body, 64u << 20);
    q->content_type = NULL;
    q->accept = NULL;
    if (lang == IFX_QUERY_DEFAULT)
        lang = c->t->default_lang;
    return c->t->query_request(&c->s, lang, query, len, v3_format, q, err);
}

static void query_free(ifx_query_request *q)
{
    ifx_buf_free(&q->path_and_query);
    ifx_buf_free(&q->body);
}

/* Sends a prepared query on a pooled handle; the answer goes where r says (r->stream, when set,
 * learns the handle for the status). */
static ifx_rc query_send(ifx_client *c, const ifx_query_request *q, response *r, ifx_err *err)
{
    conn *k = conn_take(c, err);
    if (!k)
        return IFX_E_NOMEM;
    if (r->stream)
        r->stream->h = k->curl;
    /* Query bodies are small, and 1.x does not decode a gzip form body. */
    ifx_rc rc = perform(c, k, IFX_REQUEST_QUERY, "POST", q->path_and_query.data,
                        q->body.data ? q->body.data : "", q->body.len, q->content_type, q->accept,
                        true, false, r, err);
    conn_give(c, k);
    return rc;
}

ifx_rc ifx_client_query(ifx_client *c, ifx_query_lang lang, const char *query, size_t len,
                        ifx_result_format v3_format, ifx_buf *body, ifx_result_format *fmt,
                        ifx_err *err)
{
    ifx_query_request q;
    response r = {0};
    ifx_rc rc;

    ifx_buf_reset(body);
    r.body = body;
    if ((rc = query_prepare(c, lang, query, len, v3_format, &q, err)) ||
        (rc = query_send(c, &q, &r, err)))
        goto out;
    *fmt = q.format;
    if ((rc = ifxi_http_classify_status(r.status)))
        ifxi_http_status_error(q.path_and_query.data, r.status, body, rc, err);
out:
    query_free(&q);
    return rc;
}

ifx_rc ifx_client_query_rows(ifx_client *c, ifx_query_lang lang, const char *query, size_t len,
                             ifx_result_format v3_format, ifx_rows_reader *reader,
                             size_t max_record, ifx_row_fn fn, void *ud, uint64_t *bytes,
                             ifx_err *err)
{
    ifx_query_request q;
    query_stream qs = {0};
    response r = {0};
    ifx_buf errbody;
    ifx_err herr;
    ifx_rc rc;

    if (bytes)
        *bytes = 0;
    ifx_err_clear(&herr);
    ifx_buf_init(&errbody, 64 * 1024);
    if ((rc = query_prepare(c, lang, query, len, v3_format, &q, err)))
        goto out;
    ifx_rows_stream_init(&qs.rows, reader, q.format, max_record, fn, ud);
    r.body = &errbody;
    r.stream = &qs;
    rc = query_send(c, &q, &r, &herr);
    if (bytes)
        *bytes = qs.rows.total; /* the 2xx answer's bytes fed to the reader */
    if (qs.rc) {
        /* the reader or the callback stopped the transfer: theirs is the error */
        rc = qs.rc;
        if (err)
            *err = qs.err;
    } else if (rc) {
        if (err)
            *err = herr;
    } else if ((rc = ifxi_http_classify_status(r.status))) {
        ifxi_http_status_error(q.path_and_query.data, r.status, &errbody, rc, err);
    } else {
        rc = ifx_rows_stream_end(&qs.rows, err);
    }
    ifx_rows_stream_free(&qs.rows);
out:
    ifx_buf_free(&errbody);
    query_free(&q);
    return rc;
}

static ifx_rc probe(ifx_client *c, const char *method, const char *path, const char *body,
                    size_t len, const char *content_type, bool send_auth, ifx_http_reply *reply,
                    ifx_err *err)
{
    response r = {0};
    conn *k = conn_take(c, err);
    ifx_rc rc;

    if (!k)
        return IFX_E_NOMEM;
    r.body = reply->body;
    rc = perform(c, k, IFX_REQUEST_PROBE, method, path, body, len, content_type, NULL, send_auth,
                 false, &r, err);
    conn_give(c, k);
    reply->status = r.status;
    memcpy(reply->version, r.version, sizeof reply->version);
    memcpy(reply->build, r.build, sizeof reply->build);
    return rc;
}

ifx_rc ifxi_http_get(ifx_client *c, const char *path, bool send_auth, ifx_http_reply *reply,
                     ifx_err *err)
{
    return probe(c, "GET", path, NULL, 0, NULL, send_auth, reply, err);
}

ifx_rc ifxi_http_probe(ifx_client *c, const char *method, const char *path, const char *body,
                       size_t len, const char *content_type, ifx_http_reply *reply, ifx_err *err)
{
    return probe(c, method, path, body, len, content_type, true, reply, err);
}

ifx_rc ifx_client_health(ifx_client *c, ifx_err *err)
{
    ifx_buf body;
    ifx_http_reply r = {.body = &body};
    ifx_rc rc;

    ifx_buf_init(&body, IFX_MAX_ERROR_BODY);
    rc = ifxi_http_get(c, c->t->health_path, c->t->health_sends_auth, &r, err);
    if (rc == IFX_OK && (rc = ifxi_http_classify_status(r.status)))
        ifxi_http_status_error(c->t->health_path, r.status, &body, rc, err);
    ifx_buf_free(&body);
    /* 1.x /ping and 2.x /health answer without looking at credentials: a server that is up says
     * nothing yet about the token or the target. */
    if (rc == IFX_OK && c->t->check_access)
        rc = c->t->check_access(c, &c->s, err);
    return rc;
}

ifx_rc ifx_client_wait_healthy(ifx_client *c, const ifx_retry_policy *p, ifx_sleep_fn sleep,
                               void *sleep_ud, uint32_t *attempts, ifx_err *err)
{
    uint32_t max_attempts = p->max_attempts ? p->max_attempts : 1;
    uint64_t rng = ifx_now_ns() | 1;
    ifx_rc rc;
    uint32_t n = 0;

    for (;;) {
        n++;
        rc = ifx_client_health(c, err);
        if (rc != IFX_E_TRANSIENT || n >= max_attempts)
            break;
        if (!(sleep ? sleep : ifx_sleep)(sleep_ud, ifx_backoff_ns(p, n, &rng)))
            break;
    }
    if (attempts)
        *attempts = n;
    if (rc == IFX_E_TRANSIENT && n > 1)
        ifx_err_prefix(err, "server not healthy after %u attempts", n);
    return rc;
}
