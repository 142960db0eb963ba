/* The source plugin as the Iggy connectors runtime sees it (../shared/spec/iggy-plugin-abi.md §1,
 * §3, §4, §5, §7.4, §8, §11): this host dlopens the built libiggy_connector_influxdb_source.so with
 * RTLD_LAZY | RTLD_LOCAL, binds the five symbols by name, and plays the runtime: its send callback
 * decodes each ProducedMessages buffer (a copy: the buffer is only borrowed), records the messages
 * and the state, and a forwarding thread of the host answers every accepted batch through
 * iggy_source_batch_result, in order and one at a time, from another thread than the plugin's.
 * Against the v3 test server holding a known data set it checks exactly-once delivery in time
 * order, deterministic ids, the payloads field by field, Nacks, refused sends, a restart from the
 * saved state, bad states and configurations, and close while the server fails.
 *
 * From libifx the host uses only the postcard decoder, ifx_buf and the client that writes the
 * data set; everything compared against (times, payload fields) is computed here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <dlfcn.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "abi_host.h"
#include "admin.h"
#include "fixture.h"
#include "ifx/buf.h"
#include "ifx/client.h"
#include "ifx/config.h"
#include "postcard_host.h"
#include "iggy/iggy_abi.h"

#define TOKEN   "ifx-test-token"
#define NROWS   200
#define NHOSTS  3
#define BASE_NS 1764118800000000000LL /* 2025-11-26T01:00:00Z */
#define QUERY   "SELECT * FROM cpu WHERE time > '$cursor' ORDER BY time LIMIT $limit"

static fixture v3;
static pthread_t main_thread;

/* ---- the plugin, bound as the runtime binds it --------------------------------------------- */

static void *lib;
static iggy_source_open_fn src_open;
static iggy_source_handle_v2_fn src_handle;
static iggy_source_batch_result_fn src_result;
static iggy_source_close_fn src_close;
static iggy_source_version_fn src_version;

/* ---- small helpers ------------------------------------------------------------------------ */

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static const char *source_config(void)
{
    static char json[1024];
    snprintf(
        json, sizeof json,
        "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"iggy\",\"token\":\"" TOKEN
        "\",\"query\":\"" QUERY "\",\"batch_size\":7,\"poll_interval\":\"50ms\"}",
        v3.port);
    return json;
}

/* Opens id with the JSON text (without its NUL, as the runtime hands it over) and the state
 * bytes in exact-size heap buffers, scribbled over afterwards: the plugin must have copied. */
static int32_t open_with(uint32_t id, const char *json, const uint8_t *state, size_t state_len)
{
    size_t n = strlen(json);
    uint8_t *cfg = abi_exact_copy(json, n);
    uint8_t *st = state ? abi_exact_copy(state, state_len) : NULL;
    int32_t rc = src_open(id, cfg, n, st, state_len, abi_record_log);
    memset(cfg, 0xA5, n);
    free(cfg);
    if (st) {
        memset(st, 0xA5, state_len);
        free(st);
    }
    return rc;
}

/* ---- the data set ------------------------------------------------------------------------- */

/* Row i: host h(i % 3) at the time of its group i / 3, so three rows share each timestamp. The
 * fractions cycle through none, milliseconds, microseconds and nanoseconds. */
static int64_t row_time_ns(int i)
{
    static const int64_t frac[4] = {0, 5000000, 7000, 123456789};
    int k = i / NHOSTS;
    return BASE_NS + (int64_t)k * 1000000000LL + frac[k % 4];
}

/* RFC 3339 in UTC, the fraction trimmed of trailing zeros and left out when zero. */
static void rfc3339(int64_t ns, char *out, size_t cap)
{
    time_t sec = (time_t)(ns / 1000000000LL);
    long frac = (long)(ns % 1000000000LL);
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac) {
        char f[16];
        snprintf(f, sizeof f, ".%09ld", frac);
        size_t k = strlen(f);
        while (k > 1 && f[k - 1] == '0')
            f[--k] = '\0';
        snprintf(out + n, cap - n, "%s", f);
        n += k;
    }
    snprintf(out + n, cap - n, "Z");
}

static void row_note(int i, char *out, size_t cap)
{
    snprintf(out, cap, "n\"%d \xc3\xa9", i); /* a quote and a non-ASCII letter */
}

static void write_data_set(void)
{
    ifx_buf lp;

    ifx_buf_init(&lp, 1 << 20);
    /* written in reverse order: the server, not the insertion order, must sort them */
    for (int i = NROWS - 1; i >= 0; i--) {
        ifx_buf_printf(
            &lp, "cpu,host=h%d count=%di,usage=%g,ok=%s,note=\"n\\\"%d \xc3\xa9\" %lld\n",
            i % NHOSTS, i, i / 4.0, i % 2 == 0 ? "true" : "false", i, (long long)row_time_ns(i));
    }
    lp.len--; /* no trailing newline */
    admin_write_v3(v3.port, "iggy", TOKEN, lp.data, lp.len);
    ifx_buf_free(&lp);
}

/* ---- the host: send callback and forwarding thread ---------------------------------------- */

enum { V_PENDING = 0, V_ACK, V_NACK, V_REFUSED };

typedef struct rmsg {
    bool has_id, has_ts, has_origin, has_headers, has_checksum;
    ifx_u128 id;
    uint64_t ts;
    const uint8_t *payload; /* into the batch's copy */
    size_t len;
} rmsg;

typedef struct rbatch {
    uint64_t batch_id;
    size_t ordinal; /* 1, 2, ...: the order batches reached the host */
    int schema;
    rmsg *m;
    size_t n;
    bool has_state;
    const uint8_t *state; /* into copy */
    size_t state_len;
    uint8_t *copy; /* the host's copy of the borrowed buffer */
    int verdict;
    int32_t verdict_rc; /* what batch_result answered */
} rbatch;

#define MAX_SET 8

typedef struct session {
    uint32_t id;
    bool active;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    rbatch *b;
    size_t n, cap;
    size_t next;                      /* the next batch the forwarding thread judges */
    size_t acks;                      /* batches acknowledged */
    size_t acked;                     /* messages in them */
    size_t nack[MAX_SET], n_nack;     /* ordinals answered with Nack */
    size_t refuse[MAX_SET], n_refuse; /* ordinals whose send returns -1 */
    size_t hold_after;                /* stop judging after this many Acks (0: never) */
    bool bogus;                       /* send stray verdicts around every real one */
    int32_t bogus_rc;                 /* the first non-zero answer to a stray verdict */
    bool stop;
    pthread_t forwarder;
    atomic_int violations; /* in callbacks: no cmocka there */
    char violation[256];
} session;

static pthread_mutex_t sessions_lock = PTHREAD_MUTEX_INITIALIZER;
static session *sessions[4];

static void violate(session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void violate(session *s, const char *fmt, ...)
{
    if (atomic_fetch_add(&s->violations, 1) == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->violation, sizeof s->violation, fmt, ap);
        va_end(ap);
    }
}

static bool in_set(const size_t *set, size_t n, size_t v)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == v)
            return true;
    return false;
}

static session *session_of(uint32_t id)
{
    session *s = NULL;
    pthread_mutex_lock(&sessions_lock);
    for (size_t i = 0; i < 4 && !s; i++)
        if (sessions[i] && sessions[i]->id == id)
            s = sessions[i];
    pthread_mutex_unlock(&sessions_lock);
    return s;
}

/* The runtime's handle_produced_messages: decode synchronously, queue, answer 0 (or -1). */
static int32_t host_send(uint32_t plugin_id, uint64_t batch_id, const uint8_t *p, size_t len)
{
    session *s = session_of(plugin_id);
    ifx_pc_produced it;
    ifx_err e;
    bool done = false;

    if (!s)
        return -1;
    if (pthread_equal(pthread_self(), main_thread))
        violate(s, "the send callback ran on the thread that called handle_v2");
    if (!s->active)
        violate(s, "a batch was sent after close returned");
    rbatch b = {.batch_id = batch_id, .copy = abi_exact_copy(p, len)};
    if (pc_host_produced_begin(&it, b.copy, len, &e)) {
        violate(s, "batch %llu: %s", (unsigned long long)batch_id, e.msg);
        free(b.copy);
        return -1;
    }
    b.schema = (int)it.schema;
    b.m = calloc(it.count ? (size_t)it.count : 1, sizeof *b.m);
    while (!done) {
        ifx_produced_view v;
        if (pc_host_produced_next(&it, &v, &done, &e)) {
            violate(s, "batch %llu: %s", (unsigned long long)batch_id, e.msg);
            free(b.copy);
            free(b.m);
            return -1;
        }
        if (done)
            break;
        b.m[b.n++] = (rmsg){.has_id = v.has_id,
                            .id = v.id,
                            .has_ts = v.has_timestamp,
                            .ts = v.timestamp,
                            .has_origin = v.has_origin_timestamp,
                            .has_headers = v.has_headers,
                            .has_checksum = v.has_checksum,
                            .payload = v.payload,
                            .len = v.payload_len};
    }
    if (it.p != it.end)
        violate(s, "batch %llu: %zu trailing bytes", (unsigned long long)batch_id,
                (size_t)(it.end - it.p));
    b.has_state = it.has_state;
    b.state = it.state;
    b.state_len = it.state_len;

    pthread_mutex_lock(&s->lock);
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->b = realloc(s->b, s->cap * sizeof *s->b);
    }
    b.ordinal = s->n + 1;
    bool refuse = in_set(s->refuse, s->n_refuse, b.ordinal);
    if (refuse)
        b.verdict = V_REFUSED;
    s->b[s->n++] = b;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return refuse ? -1 : 0;
}

/* The runtime's forwarding loop: batches in order, one verdict at a time, from its own thread. */
static void *forwarder(void *p)
{
    session *s = p;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->stop && (s->next >= s->n || (s->b[s->next].verdict == V_PENDING &&
                                                s->hold_after && s->acks >= s->hold_after)))
            pthread_cond_wait(&s->cond, &s->lock);
        if (s->stop)
            break;
        rbatch *b = &s->b[s->next];
        if (b->verdict == V_REFUSED) { /* no batch_result for a refused send (§3.2) */
            s->next++;
            continue;
        }
        size_t idx = s->next;
        uint64_t batch_id = b->batch_id;
        int verdict = in_set(s->nack, s->n_nack, b->ordinal) ? V_NACK : V_ACK;
        bool bogus = s->bogus;
        pthread_mutex_unlock(&s->lock);
        if (bogus) {
            int32_t r1 = src_result(s->id, batch_id + 1000, 1);
            int32_t r2 = src_result(s->id, 0, 1);
            if ((r1 || r2) && !s->bogus_rc)
                s->bogus_rc = r1 ? r1 : r2;
        }
        int32_t rc = src_result(s->id, batch_id, verdict == V_ACK ? 0 : 1);
        if (bogus) /* a late duplicate with the other verdict must change nothing */
            (void)src_result(s->id, batch_id, verdict == V_ACK ? 1 : 0);
        pthread_mutex_lock(&s->lock);
        b = &s->b[idx];
        b->verdict = verdict;
        b->verdict_rc = rc;
        if (verdict == V_ACK) {
            s->acks++;
            s->acked += b->n;
        }
        s->next++;
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static session *session_new(uint32_t id)
{
    session *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->id = id;
    s->active = true;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    pthread_mutex_lock(&sessions_lock);
    size_t i = 0;
    while (i < 4 && sessions[i])
        i++;
    assert_true(i < 4);
    sessions[i] = s;
    pthread_mutex_unlock(&sessions_lock);
    return s;
}

/* Registers the queue, calls handle_v2 (which must return at once) and starts forwarding. */
static void session_start(session *s)
{
    assert_int_equal(pthread_create(&s->forwarder, NULL, forwarder, s), 0);
    double t0 = abi_now_s();
    assert_int_equal(src_handle(s->id, host_send), 0);
    double took = abi_now_s() - t0;
    if (took > 0.5)
        fail_msg("handle_v2 took %.2f s: it runs on the runtime's blocking pool", took);
}

/* Waits until at least `messages` messages were acknowledged (or the forwarder holds). */
static bool session_wait(session *s, size_t messages, size_t acks_held, double timeout_s)
{
    double until = abi_now_s() + timeout_s;
    bool ok;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        ok = acks_held ? s->acks >= acks_held && s->n > s->next : s->acked >= messages;
        if (ok || abi_now_s() > until)
            break;
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += 20000000L;
        if (t.tv_nsec >= 1000000000L) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cond, &s->lock, &t);
    }
    pthread_mutex_unlock(&s->lock);
    return ok;
}

/* Closes the plugin id as the runtime stops a connector (close first), then the forwarder. */
static double session_close(session *s)
{
    double t0 = abi_now_s();
    assert_int_equal(src_close(s->id), 0);
    double took = abi_now_s() - t0;
    pthread_mutex_lock(&s->lock);
    s->active = false;
    s->stop = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->forwarder, NULL);
    if (atomic_load(&s->violations))
        fail_msg("host-side violation: %s", s->violation);
    return took;
}

static void session_free(session *s)
{
    pthread_mutex_lock(&sessions_lock);
    for (size_t i = 0; i < 4; i++)
        if (sessions[i] == s)
            sessions[i] = NULL;
    pthread_mutex_unlock(&sessions_lock);
    for (size_t i = 0; i < s->n; i++) {
        free(s->b[i].copy);
        free(s->b[i].m);
    }
    free(s->b);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}

/* ---- checking what arrived ---------------------------------------------------------------- */

/* The row a payload describes (by host and time), after checking every field; fails otherwise. */
static int row_of(const rmsg *m)
{
    json_error_t jerr;
    json_t *o = json_loadb((const char *)m->payload, m->len, 0, &jerr);
    if (!o || !json_is_object(o))
        fail_msg("payload is not a JSON object: %.*s", (int)m->len, (const char *)m->payload);
    const char *host = json_string_value(json_object_get(o, "host"));
    const char *t = json_string_value(json_object_get(o, "time"));
    if (!host || !t)
        fail_msg("payload lacks host or time: %.*s", (int)m->len, (const char *)m->payload);
    int row = -1;
    for (int i = 0; i < NROWS && row < 0; i++) {
        char want[48], h[8];
        rfc3339(row_time_ns(i), want, sizeof want);
        snprintf(h, sizeof h, "h%d", i % NHOSTS);
        if (strcmp(want, t) == 0 && strcmp(h, host) == 0)
            row = i;
    }
    if (row < 0)
        fail_msg("payload names no row of the data set: %.*s", (int)m->len,
                 (const char *)m->payload);
    char note[64];
    row_note(row, note, sizeof note);
    json_t *count = json_object_get(o, "count"), *usage = json_object_get(o, "usage"),
           *ok = json_object_get(o, "ok");
    if (json_object_size(o) != 6 || !json_is_integer(count) || json_integer_value(count) != row ||
        !json_is_number(usage) || json_number_value(usage) != row / 4.0 || !json_is_boolean(ok) ||
        json_is_true(ok) != (row % 2 == 0) || !json_string_value(json_object_get(o, "note")) ||
        strcmp(json_string_value(json_object_get(o, "note")), note) != 0)
        fail_msg("row %d: payload %.*s", row, (int)m->len, (const char *)m->payload);
    json_decref(o);
    /* the message timestamp is the row's time (timestamp_source "row") in microseconds */
    if (!m->has_ts || m->ts != (uint64_t)(row_time_ns(row) / 1000))
        fail_msg("row %d: message timestamp %llu", row, (unsigned long long)m->ts);
    if (!m->has_id || (m->id.hi == 0 && m->id.lo == 0))
        fail_msg("row %d: no message id", row);
    if (m->has_headers || m->has_origin || m->has_checksum)
        fail_msg("row %d: headers, checksum or origin timestamp set", row);
    return row;
}

static void check_batch_shape(const rbatch *b)
{
    if (b->schema != IFX_SCHEMA_JSON)
        fail_msg("batch %llu: schema %d, want Json", (unsigned long long)b->batch_id, b->schema);
    if (!b->has_state || b->state_len == 0)
        fail_msg("batch %llu: state None or empty", (unsigned long long)b->batch_id);
    if (b->n == 0 || b->n > 7)
        fail_msg("batch %llu: %zu messages (batch_size 7)", (unsigned long long)b->batch_id, b->n);
}

typedef struct delivery {
    int times[NROWS];   /* acknowledged deliveries per row */
    ifx_u128 id[NROWS]; /* the id each row came with */
    int64_t last_ns;    /* time of the last acknowledged row, in order */
    size_t acked_msgs, batches, nacked, refused;
} delivery;

/* Walks a session's batches in order: shapes, payloads, ids, time order of the acked ones. */
static void collect(const session *s, delivery *d)
{
    uint64_t prev_batch = 0;
    for (size_t i = 0; i < s->n; i++) {
        const rbatch *b = &s->b[i];
        check_batch_shape(b);
        if (b->batch_id == 0 || (prev_batch && b->batch_id <= prev_batch))
            fail_msg("batch ids not fresh: %llu after %llu", (unsigned long long)b->batch_id,
                     (unsigned long long)prev_batch);
        prev_batch = b->batch_id;
        d->batches++;
        for (size_t k = 0; k < b->n; k++) {
            int row = row_of(&b->m[k]);
            /* a row that comes again carries the same id */
            if ((d->id[row].hi || d->id[row].lo) &&
                (d->id[row].hi != b->m[k].id.hi || d->id[row].lo != b->m[k].id.lo))
                fail_msg("row %d came with two ids", row);
            d->id[row] = b->m[k].id;
            if (b->verdict != V_ACK)
                continue;
            d->times[row]++;
            d->acked_msgs++;
            if (row_time_ns(row) < d->last_ns)
                fail_msg("row %d delivered after a later row", row);
            d->last_ns = row_time_ns(row);
        }
        if (b->verdict == V_NACK)
            d->nacked++;
        if (b->verdict == V_REFUSED)
            d->refused++;
        if (b->verdict == V_ACK && b->verdict_rc != 0)
            fail_msg("batch_result answered %d for a live id", b->verdict_rc);
    }
}

static void expect_exactly_once(const delivery *d)
{
    for (int i = 0; i < NROWS; i++)
        if (d->times[i] != 1)
            fail_msg("row %d was acknowledged %d times", i, d->times[i]);
    assert_int_equal(d->acked_msgs, NROWS);
    /* ids tell rows apart */
    for (int i = 0; i < NROWS; i++)
        for (int j = i + 1; j < NROWS; j++)
            if (d->id[i].hi == d->id[j].hi && d->id[i].lo == d->id[j].lo)
                fail_msg("rows %d and %d share an id", i, j);
}

/* One full run against the data set: open without state, everything acknowledged unless the
 * session's policy says otherwise. */
static void run_all(session *s, delivery *d)
{
    size_t mark = abi_log_mark();
    assert_int_equal(open_with(s->id, source_config(), NULL, 0), 0);
    session_start(s);
    if (!session_wait(s, NROWS, 0, 60)) {
        abi_dump_log(mark);
        fail_msg("only %zu of %d rows acknowledged", s->acked, NROWS);
    }
    sleep_ms(400); /* several poll intervals: nothing more may come */
    session_close(s);
    memset(d, 0, sizeof *d);
    d->last_ns = INT64_MIN;
    collect(s, d);
}

/* ---- loading ------------------------------------------------------------------------------ */

static const char *const source_symbols[] = {"iggy_source_open", "iggy_source_handle_v2",
                                             "iggy_source_batch_result", "iggy_source_close",
                                             "iggy_source_version"};

static void test_load_and_version(void **state)
{
    (void)state;
    /* dlopen2 on Unix: RTLD_LOCAL | RTLD_LAZY, every symbol bound by name (§1.2) */
    assert_non_null(src_open);
    assert_non_null(src_handle);
    assert_non_null(src_result);
    assert_non_null(src_close);
    assert_non_null(src_version);
    /* libifx is linked in whole but must not leak into the host's namespace */
    assert_null(dlsym(lib, "ifx_source_open"));
    assert_null(dlsym(lib, "ifxi_pc_encode_produced"));
    assert_null(dlsym(lib, "ifxi_cursor_decode"));
    assert_null(dlsym(lib, "iggy_sink_open"));
    abi_exports l;
    abi_exports_of(IFX_SOURCE_PLUGIN, source_symbols, 5, &l);
    if (l.iggy != 5 || l.other != 0)
        fail_msg("the plugin exports %d of the 5 source symbols and %d others (%d ifx_*):%s",
                 l.iggy, l.other, l.ifx, l.others);
    abi_check_reload_and_version(lib, IFX_SOURCE_PLUGIN, src_version);
}

/* ---- (a) every row exactly once, in time order, same ids every run ------------------------ */

static void test_deliver_all(void **state)
{
    static delivery d1, d2;
    (void)state;

    session *s = session_new(abi_new_id());
    run_all(s, &d1);
    expect_exactly_once(&d1);
    assert_int_equal(d1.nacked, 0);
    assert_int_equal(d1.refused, 0);

    /* payloads byte for byte: the row's columns as the server returns them, time in RFC 3339 */
    static const int exact[] = {0, 5, 199};
    for (size_t e = 0; e < 3; e++) {
        int i = exact[e];
        char want[256], t[48], note[64], usage[32];
        rfc3339(row_time_ns(i), t, sizeof t);
        row_note(i, note, sizeof note);
        /* usage is a float column: a whole value keeps its ".0" (0.0, not 0) */
        snprintf(usage, sizeof usage, "%g%s", i / 4.0, i % 4 == 0 ? ".0" : "");
        snprintf(want, sizeof want,
                 "{\"host\":\"h%d\",\"count\":%d,\"note\":\"n\\\"%d \xc3\xa9\",\"ok\":%s,"
                 "\"usage\":%s,\"time\":\"%s\"}",
                 i % NHOSTS, i, i, i % 2 == 0 ? "true" : "false", usage, t);
        bool found = false;
        for (size_t b = 0; b < s->n && !found; b++)
            for (size_t k = 0; k < s->b[b].n && !found; k++)
                if (s->b[b].verdict == V_ACK && row_of(&s->b[b].m[k]) == i) {
                    found = true;
                    const rmsg *m = &s->b[b].m[k];
                    if (m->len != strlen(want) || memcmp(m->payload, want, m->len) != 0)
                        fail_msg("row %d payload\n  got  %.*s\n  want %s", i, (int)m->len,
                                 (const char *)m->payload, want);
                }
        assert_true(found);
    }
    session_free(s);

    /* a second run from nothing: the same rows carry the same ids */
    s = session_new(abi_new_id());
    run_all(s, &d2);
    expect_exactly_once(&d2);
    for (int i = 0; i < NROWS; i++)
        if (d1.id[i].hi != d2.id[i].hi || d1.id[i].lo != d2.id[i].lo)
            fail_msg("row %d: a different id in the second run", i);
    session_free(s);
}

/* ---- (b) Nack of batches 2 and 5 ----------------------------------------------------------- */

static void test_nack_redelivers(void **state)
{
    static delivery d;
    (void)state;
    session *s = session_new(abi_new_id());
    s->nack[0] = 2;
    s->nack[1] = 5;
    s->n_nack = 2;
    run_all(s, &d);
    expect_exactly_once(&d);
    assert_int_equal(d.nacked, 2);
    /* every row of a nacked batch came again, later, in an acknowledged batch */
    for (size_t b = 0; b < s->n; b++) {
        if (s->b[b].verdict != V_NACK)
            continue;
        for (size_t k = 0; k < s->b[b].n; k++) {
            int row = row_of(&s->b[b].m[k]);
            bool again = false;
            for (size_t c = b + 1; c < s->n && !again; c++)
                for (size_t j = 0; j < s->b[c].n && !again; j++)
                    again = s->b[c].verdict == V_ACK && row_of(&s->b[c].m[j]) == row;
            if (!again)
                fail_msg("row %d of nacked batch %llu never came again", row,
                         (unsigned long long)s->b[b].batch_id);
        }
    }
    /* the batch right after a Nack starts where the nacked one did */
    for (size_t b = 0; b + 1 < s->n; b++)
        if (s->b[b].verdict == V_NACK)
            assert_int_equal(row_of(&s->b[b].m[0]), row_of(&s->b[b + 1].m[0]));
    session_free(s);
}

/* ---- (c) restart from the last acknowledged state ----------------------------------------- */

static void test_restart_from_state(void **state)
{
    static delivery d1, d2;
    (void)state;
    size_t mark = abi_log_mark();

    session *s1 = session_new(abi_new_id());
    s1->hold_after = 5; /* five Acks, then the sixth batch waits for its verdict */
    assert_int_equal(open_with(s1->id, source_config(), NULL, 0), 0);
    session_start(s1);
    if (!session_wait(s1, 0, 5, 30)) {
        abi_dump_log(mark);
        fail_msg("five batches were not acknowledged");
    }
    double took = session_close(s1); /* with a batch still awaiting its verdict */
    if (took >= 2.0)
        fail_msg("close took %.2f s with a verdict pending", took);
    /* the verdict for the held batch arrives after close, as queued batches do (§3.3) */
    assert_int_not_equal(src_result(s1->id, s1->b[5].batch_id, 0), 0);

    memset(&d1, 0, sizeof d1);
    d1.last_ns = INT64_MIN;
    collect(s1, &d1);
    assert_int_equal(d1.acked_msgs, s1->acked);
    /* the state the runtime saved: the last acknowledged batch's (§8.2) */
    const rbatch *last = NULL;
    for (size_t b = 0; b < s1->n; b++)
        if (s1->b[b].verdict == V_ACK)
            last = &s1->b[b];
    assert_non_null(last);

    session *s2 = session_new(abi_new_id());
    assert_int_equal(open_with(s2->id, source_config(), last->state, last->state_len), 0);
    session_start(s2);
    if (!session_wait(s2, NROWS - s1->acked, 0, 60)) {
        abi_dump_log(mark);
        fail_msg("after the restart only %zu of %zu rows came", s2->acked, NROWS - s1->acked);
    }
    sleep_ms(400);
    session_close(s2);
    memset(&d2, 0, sizeof d2);
    d2.last_ns = INT64_MIN;
    collect(s2, &d2);
    for (int i = 0; i < NROWS; i++) {
        if (d1.times[i] + d2.times[i] != 1)
            fail_msg("row %d: acknowledged %d times before the restart and %d after", i,
                     d1.times[i], d2.times[i]);
    }
    assert_int_equal(d1.acked_msgs + d2.acked_msgs, NROWS);
    assert_true(d2.last_ns >= d1.last_ns);
    /* the first row after the restart is not earlier than the last one acknowledged before */
    for (size_t b = 0; b < s2->n; b++) {
        if (s2->b[b].verdict == V_ACK) {
            assert_true(row_time_ns(row_of(&s2->b[b].m[0])) >= d1.last_ns);
            break;
        }
    }
    session_free(s1);
    session_free(s2);
}

/* ---- (d) bad state, bad configuration ----------------------------------------------------- */

static void test_bad_state_and_config(void **state)
{
    static const char garbage[] = "definitely not a cursor";
    static const uint8_t truncated[] = {'I', 'F', 'X', 'C', 1, 0, 0};
    static const uint8_t wrong_version[] = {'I', 'F', 'X', 'C', 9, 0, 0, 0, 0,
                                            0,   0,   0,   0,   0, 0, 0, 0};
    static const uint8_t msgpack[] = {
        0x82, 0xa6, 'c',  'u', 'r', 's', 'o', 'r',
        0xa1, 'x',  0xa4, 'r', 'o', 'w', 's', 0x00}; /* a Rust plugin's MessagePack */
    struct {
        const uint8_t *p;
        size_t n;
    } bad[] = {{(const uint8_t *)garbage, sizeof garbage - 1},
               {truncated, sizeof truncated},
               {wrong_version, sizeof wrong_version},
               {msgpack, sizeof msgpack}};
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t id = abi_new_id();
        size_t mark = abi_log_mark();
        assert_int_not_equal(open_with(id, source_config(), bad[i].p, bad[i].n), 0);
        if (!abi_log_has(mark, 4, "state", NULL)) {
            abi_dump_log(mark);
            fail_msg("unreadable state %zu refused without an error line naming it", i);
        }
        /* nothing was registered */
        assert_int_not_equal(src_handle(id, host_send), 0);
        assert_int_not_equal(src_close(id), 0);
    }

    /* the literal null the runtime sends for a missing [plugin_config]: a source needs a query */
    uint32_t id = abi_new_id();
    size_t mark = abi_log_mark();
    uint8_t *null_cfg = abi_exact_copy("null", 4);
    assert_int_not_equal(src_open(id, null_cfg, 4, NULL, 0, abi_record_log), 0);
    free(null_cfg);
    if (!abi_log_has(mark, 4, "query", NULL)) {
        abi_dump_log(mark);
        fail_msg("a null configuration was refused without naming the missing query");
    }
    assert_int_not_equal(src_close(id), 0);

    /* not JSON; a query without $cursor; an unknown key */
    const char *configs[] = {"{\"version\":", NULL, NULL};
    char nocursor[512], unknown[600];
    snprintf(
        nocursor, sizeof nocursor,
        "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"iggy\",\"token\":\"" TOKEN
        "\",\"query\":\"SELECT * FROM cpu LIMIT $limit\"}",
        v3.port);
    snprintf(unknown, sizeof unknown, "%.*s,\"poll_intervall\":\"1s\"}",
             (int)strlen(source_config()) - 1, source_config());
    configs[1] = nocursor;
    configs[2] = unknown;
    for (size_t i = 0; i < 3; i++) {
        id = abi_new_id();
        mark = abi_log_mark();
        assert_int_not_equal(open_with(id, configs[i], NULL, 0), 0);
        if (!abi_log_has(mark, 4, "", NULL))
            fail_msg("configuration %zu refused without a log line", i);
        assert_int_not_equal(src_close(id), 0);
    }
    assert_true(abi_log_has(mark, 4, "poll_interval", NULL));

    /* an empty state with a pointer is no state (§8.2); NULL with a length too */
    id = abi_new_id();
    assert_int_equal(open_with(id, source_config(), (const uint8_t *)"", 0), 0);
    assert_int_equal(src_close(id), 0);
    id = abi_new_id();
    const char *cfg = source_config();
    assert_int_equal(src_open(id, (const uint8_t *)cfg, strlen(cfg), NULL, 5, abi_record_log), 0);
    assert_int_equal(src_close(id), 0);
}

/* ---- (e) close while the server fails ----------------------------------------------------- */

static void test_close_while_failing(void **state)
{
    (void)state;
    int threads_before = abi_count_threads();
    session *s = session_new(abi_new_id());
    assert_int_equal(open_with(s->id, source_config(), NULL, 0), 0);
    json_decref(admin_call(v3.port, "DELETE", "/__admin/requests", NULL));
    json_decref(admin_call(v3.port, "POST", "/__admin/fault",
                           "{\"count\":1000000,\"status\":503,\"paths\":[\"/api/v3/query_sql\"]}"));
    size_t mark = abi_log_mark();
    session_start(s);
    sleep_ms(1500);
    int threads_running = abi_count_threads();
    double took = session_close(s);
    json_decref(admin_call(v3.port, "DELETE", "/__admin/fault", NULL));
    if (took >= 2.0)
        fail_msg("close took %.2f s while queries failed", took);
    assert_int_equal(s->n, 0); /* nothing to deliver */
    /* it did poll, and said so once rather than per poll */
    json_t *reqs = admin_call(v3.port, "GET", "/__admin/requests", NULL), *r;
    size_t i, queries = 0;
    json_array_foreach(reqs, i, r)
    {
        const char *path = json_string_value(json_object_get(r, "path"));
        if (path && strstr(path, "query_sql"))
            queries++;
    }
    json_decref(reqs);
    assert_true(queries >= 1);
    if (!abi_log_has(mark, 3, "503", NULL) && !abi_log_has(mark, 3, "failing", NULL)) {
        abi_dump_log(mark);
        fail_msg("failing queries were not logged");
    }
    assert_true(threads_running > threads_before); /* the poller was there */
    int threads_after = abi_wait_threads(threads_before);
    assert_int_equal(threads_after, threads_before);
    session_free(s);
}

/* ---- (f) verdicts for unknown batches and closed ids; lifecycle errors -------------------- */

static void test_stray_verdicts_and_lifecycle(void **state)
{
    static delivery d;
    (void)state;

    /* never opened */
    assert_int_not_equal(src_result(999999, 1, 0), 0);
    assert_int_not_equal(src_handle(999999, host_send), 0);
    assert_int_not_equal(src_close(999999), 0);

    /* stray and duplicate verdicts around every real one change nothing */
    session *s = session_new(abi_new_id());
    s->bogus = true;
    run_all(s, &d);
    expect_exactly_once(&d);
    assert_int_equal(s->bogus_rc, 0); /* a live id answers 0, and ignores them */

    /* after close: the id is gone for every call */
    assert_int_not_equal(src_result(s->id, s->b[s->n - 1].batch_id, 0), 0);
    assert_int_not_equal(src_result(s->id, 12345, 1), 0);
    assert_int_not_equal(src_handle(s->id, host_send), 0);
    assert_int_not_equal(src_close(s->id), 0);
    session_free(s);

    /* a second open of a live id is refused and leaves the first alone; handle_v2 twice too */
    s = session_new(abi_new_id());
    assert_int_equal(open_with(s->id, source_config(), NULL, 0), 0);
    size_t mark = abi_log_mark();
    assert_int_not_equal(open_with(s->id, source_config(), NULL, 0), 0);
    assert_true(abi_log_has(mark, 4, "already open", NULL));
    session_start(s);
    assert_int_not_equal(src_handle(s->id, host_send), 0);
    assert_true(session_wait(s, NROWS, 0, 60));
    sleep_ms(300);
    session_close(s);
    memset(&d, 0, sizeof d);
    d.last_ns = INT64_MIN;
    collect(s, &d);
    expect_exactly_once(&d);
    session_free(s);

    /* opened, never handled: close frees it */
    uint32_t id = abi_new_id();
    assert_int_equal(open_with(id, source_config(), NULL, 0), 0);
    assert_int_equal(src_close(id), 0);
    assert_int_not_equal(src_close(id), 0);
}

/* ---- (g) the runtime refuses sends (-1) ----------------------------------------------------- */

static void test_refused_sends(void **state)
{
    static delivery d;
    (void)state;
    size_t mark = abi_log_mark();
    session *s = session_new(abi_new_id());
    s->refuse[0] = 3;
    s->refuse[1] = 4;
    s->refuse[2] = 9;
    s->n_refuse = 3;
    double t0 = abi_now_s();
    run_all(s, &d);
    double took = abi_now_s() - t0;
    expect_exactly_once(&d);
    assert_int_equal(d.refused, 3);
    /* a refusal is a Nack at once, not a 30 s wait for a verdict that never comes */
    if (took > 20)
        fail_msg("the run took %.1f s", took);
    /* each refused batch's rows came again right after it */
    for (size_t b = 0; b + 1 < s->n; b++)
        if (s->b[b].verdict == V_REFUSED)
            assert_int_equal(row_of(&s->b[b].m[0]), row_of(&s->b[b + 1].m[0]));
    if (!abi_log_has(mark, 3, "refused", NULL)) {
        abi_dump_log(mark);
        fail_msg("a refused send was not logged");
    }
    session_free(s);
}

/* ---- (h) two instances of one loaded library at once --------------------------------------- */

static void test_two_instances(void **state)
{
    static delivery da, db;
    (void)state;
    session *a = session_new(abi_new_id()), *b = session_new(abi_new_id());
    b->nack[0] = 1;
    b->n_nack = 1;
    assert_int_equal(open_with(a->id, source_config(), NULL, 0), 0);
    assert_int_equal(open_with(b->id, source_config(), NULL, 0), 0);
    session_start(a);
    session_start(b);
    assert_true(session_wait(a, NROWS, 0, 60));
    assert_true(session_wait(b, NROWS, 0, 60));
    sleep_ms(300);
    session_close(a);
    session_close(b);
    memset(&da, 0, sizeof da);
    memset(&db, 0, sizeof db);
    da.last_ns = db.last_ns = INT64_MIN;
    collect(a, &da);
    collect(b, &db);
    expect_exactly_once(&da);
    expect_exactly_once(&db);
    for (int i = 0; i < NROWS; i++)
        assert_memory_equal(&da.id[i], &db.id[i], sizeof da.id[i]);
    session_free(a);
    session_free(b);
}

/* ---- (i) more rows at one timestamp than a batch holds ------------------------------------ */

#define BURST       25 /* rows sharing one timestamp: more than three batches of 7 */
#define BURST_AFTER 4  /* then one row per later timestamp */
#define BURST_NS    (BASE_NS + 7200LL * 1000000000LL)

static void write_burst(void)
{
    ifx_buf lp;

    ifx_buf_init(&lp, 1 << 20);
    for (int i = 0; i < BURST + BURST_AFTER; i++)
        ifx_buf_printf(&lp, "burst,host=b%02d v=%di %lld\n", i, i,
                       (long long)(BURST_NS + (i < BURST ? 0 : (i - BURST + 1) * 1000LL)));
    lp.len--;
    admin_write_v3(v3.port, "iggy", TOKEN, lp.data, lp.len);
    ifx_buf_free(&lp);
}

static const char *burst_config(void)
{
    static char json[1024];
    snprintf(
        json, sizeof json,
        "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"iggy\",\"token\":\"" TOKEN
        "\",\"query\":\"SELECT * FROM burst WHERE time > '$cursor' ORDER BY time LIMIT "
        "$limit\",\"batch_size\":7,\"poll_interval\":\"50ms\"}",
        v3.port);
    return json;
}

/* The burst row a payload names, checked against what was written. */
static int burst_row(const rmsg *m)
{
    json_t *o = json_loadb((const char *)m->payload, m->len, 0, NULL);
    const char *host = o ? json_string_value(json_object_get(o, "host")) : NULL;
    int row = -1;
    if (host && sscanf(host, "b%d", &row) == 1 && row >= 0 && row < BURST + BURST_AFTER &&
        json_integer_value(json_object_get(o, "v")) == row) {
        int64_t t = BURST_NS + (row < BURST ? 0 : (row - BURST + 1) * 1000LL);
        if (!m->has_ts || m->ts != (uint64_t)(t / 1000))
            row = -1;
    } else {
        row = -1;
    }
    json_decref(o);
    if (row < 0)
        fail_msg("not a burst row: %.*s", (int)m->len, (const char *)m->payload);
    return row;
}

static void count_burst(const session *s, int *times)
{
    for (size_t b = 0; b < s->n; b++) {
        check_batch_shape(&s->b[b]);
        for (size_t k = 0; k < s->b[b].n; k++) {
            int row = burst_row(&s->b[b].m[k]);
            if (s->b[b].verdict == V_ACK)
                times[row]++;
        }
    }
}

static void test_burst_at_one_timestamp(void **state)
{
    int times[BURST + BURST_AFTER] = {0};
    (void)state;
    write_burst();

    /* a Nack inside the burst, then a restart in the middle of it */
    session *s1 = session_new(abi_new_id());
    s1->nack[0] = 2;
    s1->n_nack = 1;
    s1->hold_after = 2; /* Acks for batches 1 and 3, then hold */
    assert_int_equal(open_with(s1->id, burst_config(), NULL, 0), 0);
    session_start(s1);
    assert_true(session_wait(s1, 0, 2, 30));
    session_close(s1);
    count_burst(s1, times);
    const rbatch *last = NULL;
    for (size_t b = 0; b < s1->n; b++)
        if (s1->b[b].verdict == V_ACK)
            last = &s1->b[b];
    assert_non_null(last);
    assert_int_equal(s1->acked, 14); /* both inside the burst */

    session *s2 = session_new(abi_new_id());
    assert_int_equal(open_with(s2->id, burst_config(), last->state, last->state_len), 0);
    session_start(s2);
    if (!session_wait(s2, BURST + BURST_AFTER - 14, 0, 30))
        fail_msg("after the restart %zu of %d burst rows came", s2->acked,
                 BURST + BURST_AFTER - 14);
    sleep_ms(400);
    session_close(s2);
    count_burst(s2, times);
    for (int i = 0; i < BURST + BURST_AFTER; i++)
        if (times[i] != 1)
            fail_msg("burst row %d acknowledged %d times", i, times[i]);
    assert_int_equal(s1->acked + s2->acked, BURST + BURST_AFTER);
    session_free(s1);
    session_free(s2);
}

/* ---- the log as a whole ------------------------------------------------------------------- */

static void test_log_contract(void **state)
{
    (void)state;
    abi_check_log_contract(TOKEN);
}

/* ---- setup -------------------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    main_thread = pthread_self();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* a missing symbol fails the whole load, as in the runtime */
    void **const slots[] = {(void **)&src_open, (void **)&src_handle, (void **)&src_result,
                            (void **)&src_close, (void **)&src_version};
    lib = abi_load(IFX_SOURCE_PLUGIN, source_symbols, slots, 5, "source");
    if (!lib)
        return -1;
    if (fixture_start_stand_in(&v3, "v3", TOKEN))
        return -1;
    write_data_set();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fixture_stop(&v3);
    /* the runtime never unloads a plugin while it runs; nor does this host */
    abi_log_free();
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_and_version),
        cmocka_unit_test(test_deliver_all),
        cmocka_unit_test(test_nack_redelivers),
        cmocka_unit_test(test_restart_from_state),
        cmocka_unit_test(test_bad_state_and_config),
        cmocka_unit_test(test_close_while_failing),
        cmocka_unit_test(test_stray_verdicts_and_lifecycle),
        cmocka_unit_test(test_refused_sends),
        cmocka_unit_test(test_two_instances),
        cmocka_unit_test(test_burst_at_one_timestamp),
        cmocka_unit_test(test_log_contract),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
