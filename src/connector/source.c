/* ifx — the source engine (see include/ifx/source.h). */
#include "ifx/source.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "connector/engine.h"
#include "connector/query_template.h"
#include "connector/source_rows.h"
#include "ifx/client.h"
#include "core/codec.h"
#include "core/row_key.h"
#include "connector/cursor.h"
#include "ifx/lp.h"
#include "ifx/resilience.h"
#include "ifx/rows.h"
#include "ifx/timeutil.h"

/* How long a batch may wait for its verdict before it counts as a Nack (the SDK's default). */
#define VERDICT_TIMEOUT_NS (30ULL * 1000000000ULL)
/* Buffers larger than this are given back once they are no longer needed (upstream R20: a
 * source that once read a large answer should not hold it while it waits for the next). */
#define RELEASE_BYTES ((size_t)8 << 20)

/* Room the payload arena keeps ahead of the next payload (see keep_row). */
#define ARENA_HEADROOM ((size_t)64 << 10)

/* One row of an answer, as kept between reading and sending. */
typedef struct kept_row {
    size_t payload_off, payload_len;
    ifx_u128 id;
    uint64_t timestamp_us;
} kept_row;

struct ifx_source {
    ifx_config cfg;
    ifx_client *client;
    ifx_breaker breaker;
    bool has_breaker;
    ifx_log_fn log;
    void *log_ud;
    ifx_query_lang lang;

    ifx_cursor cursor; /* committed */
    ifx_rows_reader reader;
    ifx_buf query, arena, state;
    kept_row *kept;
    ifx_cursor_row *crow;
    size_t nrows, cap_rows;
    ifx_source_message *msgs;
    bool *emit;
    size_t cap_msgs;
    ifx_err row_err;         /* the first problem met while reading rows */
    ifxi_row_key cursor_key; /* cfg.cursor_field, looked up in every row */

    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    uint64_t seq, verdict_seq;
    int verdict; /* -1 none yet, 0 nack, 1 ack */

    ifx_rc last_failure; /* logged once per change */
    uint64_t last_stats_ns;
    ifx_source_stats stats;
};

#define slog(s, level, ...) ifxi_engine_log((s)->log, (s)->log_ud, level, __VA_ARGS__)

/* The counters are read from other threads (ifx_source_get_stats): update them under the lock. */
#define count(s, field, n)                                                                         \
    do {                                                                                           \
        pthread_mutex_lock(&(s)->lock);                                                            \
        (s)->stats.field += (n);                                                                   \
        pthread_mutex_unlock(&(s)->lock);                                                          \
    } while (0)

/* ---- rows to messages ----------------------------------------------------------------------- */

/* id 0 means "assign one" to the runtime: a row's id never is. */
static void nonzero_id(ifx_u128 *id)
{
    if (id->hi == 0 && id->lo == 0)
        id->lo = 1;
}

static ifx_rc keep_row(void *ud, const ifx_row *row, ifx_err *err)
{
    ifx_source *s = ud;
    const ifx_config *c = &s->cfg;
    long tcol = ifxi_row_find_key(row, &s->cursor_key);
    int64_t t;
    ifx_rc rc;

    if (tcol < 0)
        return ifx_err_set(err, IFX_E_INVALID,
                           "a row has no column '%s' (cursor_field); the query must return it",
                           c->cursor_field);
    const ifx_value *tv = &row->vals[tcol];
    if (tv->type == IFX_VAL_TIME)
        t = tv->v.i;
    else if (tv->type == IFX_VAL_STRING) {
        if (ifx_time_parse_rfc3339(tv->v.s.p, tv->v.s.len, &t, err))
            return ifx_err_prefix(err, "column '%s'", c->cursor_field);
    } else
        return ifx_err_set(err, IFX_E_INVALID, "column '%s' (cursor_field) is not a time",
                           c->cursor_field);
    if (s->nrows == s->cap_rows) {
        /* by half, not double: with the arena, the batch's heap (see ARENA_HEADROOM) */
        size_t n = s->cap_rows ? s->cap_rows + s->cap_rows / 2 : 1024;
        kept_row *k = realloc(s->kept, n * sizeof *k);
        if (k)
            s->kept = k;
        ifx_cursor_row *cr = realloc(s->crow, n * sizeof *cr);
        if (cr)
            s->crow = cr;
        if (!k || !cr)
            return ifx_err_set(err, IFX_E_NOMEM, "out of memory");
        s->cap_rows = n;
    }
    kept_row *k = &s->kept[s->nrows];
    ifx_cursor_row *cr = &s->crow[s->nrows];

    /* identity: the measurement and every data column, names included */
    uint64_t h1, h2;
    ifxi_source_rows_identity(row, &h1, &h2);
    cr->time_ns = t;
    cr->hash = h1;
    cr->table = row->table;
    if (s->lang == IFX_QUERY_INFLUXQL && s->cfg.version == IFX_VERSION_V3 && row->measurement)
        /* v3 InfluxQL limits each measurement separately and lists them one after the other,
         * as Flux does its tables (upstream R3); the v3 reader numbers no tables, so the
         * measurement does. */
        cr->table = (int64_t)(ifxi_cursor_hash64(row->measurement, row->measurement_len, 0) >> 1);
    k->id.hi = h2;
    k->id.lo = h1;
    nonzero_id(&k->id);
    if (c->timestamp_source == IFX_TS_POLL) {
        k->timestamp_us = (uint64_t)ifx_time_now_ns() / 1000;
    } else {
        k->timestamp_us = t > 0 ? (uint64_t)(t / 1000) : 0;
    }

    /* The arena is most of the batch's heap: grown by half rather than doubled, it leaves at
     * most a third unused instead of a half (payloads under ARENA_HEADROOM never make it
     * double; a larger one may). */
    if (s->arena.alloc - s->arena.len < ARENA_HEADROOM &&
        ifx_buf_reserve_exact(&s->arena, s->arena.alloc / 2 > ARENA_HEADROOM ? s->arena.alloc / 2
                                                                             : ARENA_HEADROOM))
        return ifx_err_set(err, IFX_E_NOMEM, "out of memory");
    k->payload_off = s->arena.len;
    if ((rc = ifxi_source_rows_payload(c, row, &s->arena, err)))
        return rc;
    k->payload_len = s->arena.len - k->payload_off;
    s->nrows++;
    return IFX_OK;
}

/* "Not there yet" answers: an empty database or a table not written yet is no rows, not an
 * error storm (upstream R14). */
static bool not_found_yet(const ifx_err *e)
{
    return (e->http_status == 404 || e->http_status == 400 || e->http_status == 0) &&
           (strstr(e->msg, "database not found") || strstr(e->msg, "table '") ||
            strstr(e->msg, "not found: table") || strstr(e->msg, "measurement not found"));
}

/* ---- the loop ------------------------------------------------------------------------------- */

static bool wait_or_stop(ifx_source *s, uint64_t ns)
{
    return ifxi_engine_wait_unless_stopped(&s->lock, &s->wake, &s->stopping, ns);
}

static void note(ifx_source *s, ifx_rc rc, const char *msg)
{
    if (rc == s->last_failure)
        return;
    s->last_failure = rc;
    if (rc)
        slog(s, IFX_LOG_WARN, "queries are failing (%s); retrying: %s", ifx_rc_name(rc), msg);
    else
        slog(s, IFX_LOG_INFO, "queries succeed again");
}

static void log_stats(ifx_source *s)
{
    ifx_source_stats st;
    ifx_source_get_stats(s, &st);
    slog(s, IFX_LOG_INFO,
         "source stats: polls=%llu rows=%llu messages=%llu batches_acked=%llu "
         "batches_nacked=%llu query_errors=%llu bytes_received=%llu breaker=%s",
         (unsigned long long)st.polls, (unsigned long long)st.rows, (unsigned long long)st.messages,
         (unsigned long long)st.batches_acked, (unsigned long long)st.batches_nacked,
         (unsigned long long)st.query_errors, (unsigned long long)st.bytes_received,
         ifx_breaker_state_name(st.breaker));
}

/* $cursor_end: the cursor time T (not the T - 1 ns of $cursor) plus query_window, at most
 * INT64_MAX. A query reads [T - 1 ns, T + window): the window is never empty, and a row at
 * exactly T + window is the next window's. */
static int64_t window_end(const ifx_source *s)
{
    int64_t t = s->cursor.time_ns;
    int64_t w =
        s->cfg.query_window_ns > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)s->cfg.query_window_ns;
    return t > INT64_MAX - w ? INT64_MAX : t + w;
}

/* Before sleeping: rows of a large answer are delivered and will not be read again. */
static void release_idle_buffers(ifx_source *s)
{
    if (s->arena.alloc <= RELEASE_BYTES &&
        s->cap_rows * (sizeof *s->kept + sizeof *s->crow) <= RELEASE_BYTES)
        return;
    ifx_buf_free(&s->arena);
    free(s->kept), free(s->crow), free(s->msgs), free(s->emit);
    s->kept = NULL, s->crow = NULL, s->msgs = NULL, s->emit = NULL;
    s->cap_rows = s->cap_msgs = 0;
    s->nrows = 0;
}

/* An emitted row, for numbering copies. */
typedef struct copy_key {
    int64_t time_ns;
    uint64_t hash;
    size_t msg; /* index in s->msgs */
} copy_key;

static int copy_key_order(const void *a, const void *b)
{
    const copy_key *x = a, *y = b;
    if (x->time_ns != y->time_ns)
        return x->time_ns < y->time_ns ? -1 : 1;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return x->msg < y->msg ? -1 : x->msg > y->msg;
}

/* Identical rows (same time and identity, e.g. an InfluxQL query without GROUP BY * over series
 * that agree) are delivered once each, as the cursor counts them; they must not share an id, or
 * Iggy's de-duplication would keep one. The k-th copy at a time (counting those delivered
 * before, at the cursor's time) gets the row's id mixed with k; the first keeps the plain id.
 * Copies cannot be told apart, so the numbering is the same whenever they are delivered again. */
static ifx_rc number_copies(ifx_source *s, size_t n, ifx_err *err)
{
    /* The common case has no two rows at one time, and nothing already seen there: done. */
    bool maybe = false;
    int64_t prev = 0;
    for (size_t i = 0, j = 0; i < s->nrows && !maybe; i++) {
        if (!s->emit[i])
            continue;
        maybe = (j++ > 0 && s->crow[i].time_ns == prev) ||
                (s->crow[i].time_ns == s->cursor.time_ns && s->cursor.nseen > 0);
        prev = s->crow[i].time_ns;
    }
    if (!maybe)
        return IFX_OK;
    copy_key *keys = malloc(n * sizeof *keys);
    if (!keys)
        return ifx_err_set(err, IFX_E_NOMEM, "out of memory");
    for (size_t i = 0, j = 0; i < s->nrows; i++)
        if (s->emit[i])
            keys[j] = (copy_key){s->crow[i].time_ns, s->crow[i].hash, j}, j++;
    qsort(keys, n, sizeof *keys, copy_key_order);
    for (size_t g = 0; g < n;) {
        size_t end = g + 1;
        while (end < n && keys[end].time_ns == keys[g].time_ns && keys[end].hash == keys[g].hash)
            end++;
        size_t first = keys[g].time_ns == s->cursor.time_ns
                           ? ifxi_cursor_seen_count(&s->cursor, keys[g].hash)
                           : 0;
        for (size_t k = g; k < end; k++) {
            uint64_t copy = first + (k - g);
            if (copy == 0)
                continue;
            ifx_u128 *id = &s->msgs[keys[k].msg].id;
            id->hi = ifxi_cursor_hash64(&copy, sizeof copy, id->hi);
            id->lo = ifxi_cursor_hash64(&copy, sizeof copy, id->lo);
            nonzero_id(id);
        }
        g = end;
    }
    free(keys);
    return IFX_OK;
}

/* One query. On success: *n_emit messages staged in s->msgs, *next the cursor to commit; *full
 * when more rows may be waiting in the window, *window_done when the answer finished a window
 * whose end has passed (see below): in both cases the next query should run at once. */
static ifx_rc poll_once(ifx_source *s, size_t *n_emit, ifx_cursor *next, bool *full,
                        bool *window_done, ifx_err *err)
{
    uint64_t limit = ifxi_cursor_query_limit(&s->cursor, s->cfg.batch_size);
    int64_t end = window_end(s);
    ifx_rc rc;

    *n_emit = 0;
    *full = *window_done = false;
    ifxi_cursor_init(next, s->cursor.time_ns);
    if ((rc = ifx_source_render_query(s->cfg.query, ifxi_cursor_query_time(&s->cursor), end, limit,
                                      &s->query, err)))
        return rc;
    count(s, polls, 1);
    s->nrows = 0;
    ifx_buf_reset(&s->arena);
    /* Rows are read as the answer arrives: only the record in progress is kept (a line, a CSV
     * record, a v1 row or series head), never the answer. */
    uint64_t got = 0;
    rc = ifx_client_query_rows(s->client, s->lang, s->query.data, s->query.len, 0, &s->reader,
                               IFX_MAX_RESPONSE_BODY, keep_row, s, &got, err);
    count(s, bytes_received, got);
    if (rc && not_found_yet(err)) {
        /* nothing to read yet: the cursor stays, window or not (rows written later may be
         * older than the window's end) */
        ifxi_cursor_free(next);
        return ifxi_cursor_copy(next, &s->cursor);
    }
    if (rc)
        return rc;
    count(s, rows, s->nrows);
    if (s->nrows > s->cap_msgs) {
        ifx_source_message *m = realloc(s->msgs, s->nrows * sizeof *m);
        if (m)
            s->msgs = m;
        bool *e = realloc(s->emit, s->nrows * sizeof *e);
        if (e)
            s->emit = e;
        if (!m || !e)
            return ifx_err_set(err, IFX_E_NOMEM, "out of memory");
        s->cap_msgs = s->nrows;
    }
    ifxi_cursor_free(next);
    if ((rc = ifxi_cursor_plan(&s->cursor, s->crow, s->nrows, limit, s->emit, next, full, err)))
        return rc;
    /* R13: a short answer held every row of [T - 1 ns, end) (no table was cut by the limit, the
     * answer is in time order), and every row from T on is emitted now. Once end is in the
     * past, the window is done: move to end - 1 ns with no rows seen there, the weakest claim
     * that skips it. A row at end - 1 ns was emitted and put the cursor there already, with its
     * hash; keep that. Either way the next window starts after this one: query it at once. A
     * window that reaches into the future stays (rows may still arrive). */
    if (!*full && s->cfg.query_window_ns && end != INT64_MAX && end <= ifx_time_now_ns()) {
        *window_done = true;
        if (next->time_ns < end - 1) {
            ifxi_cursor_free(next);
            ifxi_cursor_init(next, end - 1);
        }
    }
    for (size_t i = 0; i < s->nrows; i++) {
        if (!s->emit[i])
            continue;
        s->msgs[*n_emit] =
            (ifx_source_message){.id = s->kept[i].id,
                                 .timestamp_us = s->kept[i].timestamp_us,
                                 .payload = (const uint8_t *)s->arena.data + s->kept[i].payload_off,
                                 .payload_len = s->kept[i].payload_len};
        (*n_emit)++;
    }
    return number_copies(s, *n_emit, err);
}

void ifx_source_verdict(ifx_source *s, uint64_t seq, bool ack)
{
    pthread_mutex_lock(&s->lock);
    if (seq == s->seq && s->verdict < 0) {
        s->verdict = ack ? 1 : 0;
        pthread_cond_broadcast(&s->wake);
    }
    pthread_mutex_unlock(&s->lock);
}

void ifx_source_request_stop(ifx_source *s)
{
    ifxi_engine_request_stop(&s->lock, &s->wake, &s->stopping, s->client);
}

/* Sends the staged batch and waits for its verdict. true when acknowledged. */
static bool deliver(ifx_source *s, size_t n, const ifx_cursor *next, ifx_source_send_fn send,
                    void *ud)
{
    ifx_source_batch b;
    struct timespec until;

    ifx_buf_reset(&s->state);
    ifx_rc rc = ifxi_cursor_encode(next, &s->state);
    if (rc) {
        slog(s, IFX_LOG_ERROR,
             "cannot encode the cursor state (%zu rows at one time): %s; the "
             "batch is not sent",
             next->nseen, rc == IFX_E_NOMEM ? "out of memory" : "too many rows at one time");
        return false;
    }
    pthread_mutex_lock(&s->lock);
    b.seq = ++s->seq;
    s->verdict = -1;
    pthread_mutex_unlock(&s->lock);
    b.msgs = s->msgs;
    b.n = n;
    b.schema = !s->cfg.payload_column                        ? IFX_SCHEMA_JSON
               : s->cfg.payload_format == IFX_PAYLOAD_TEXT   ? IFX_SCHEMA_TEXT
               : s->cfg.payload_format == IFX_PAYLOAD_BASE64 ? IFX_SCHEMA_RAW
                                                             : IFX_SCHEMA_JSON;
    b.state = (const uint8_t *)s->state.data;
    b.state_len = s->state.len;
    if (send(ud, &b) != IFX_OK)
        return false;
    ifx_deadline_in(&until, VERDICT_TIMEOUT_NS);
    pthread_mutex_lock(&s->lock);
    while (s->verdict < 0 && !s->stopping &&
           pthread_cond_timedwait(&s->wake, &s->lock, &until) != ETIMEDOUT)
        ;
    bool ack = s->verdict == 1;
    if (s->verdict < 0)
        s->seq++; /* a late verdict for this batch is ignored */
    pthread_mutex_unlock(&s->lock);
    return ack;
}

ifx_rc ifx_source_run(ifx_source *s, ifx_source_send_fn send, void *ud, bool once, ifx_err *err)
{
    ifx_retry_policy policy = {
        .max_attempts = 1,
        .base_ns = s->cfg.retry_delay_ns ? s->cfg.retry_delay_ns : 100000000ULL,
        .cap_ns = s->cfg.poll_interval_ns > s->cfg.retry_max_delay_ns ? s->cfg.poll_interval_ns
                                                                      : s->cfg.retry_max_delay_ns};
    uint64_t rng = ifx_now_ns() | 1;
    uint32_t failures = 0, nacks = 0;
    ifx_err local;

    if (!err)
        err = &local;
    for (;;) {
        uint64_t wait = 0;
        pthread_mutex_lock(&s->lock);
        bool stop = s->stopping;
        pthread_mutex_unlock(&s->lock);
        if (stop)
            return IFX_OK;
        if (ifx_breaker_allow(&s->breaker, ifx_now_ns(), &wait)) {
            wait_or_stop(s, wait);
            continue;
        }
        size_t n;
        bool full, window_done;
        ifx_cursor next;
        if (s->cfg.stats_interval_ns &&
            ifx_now_ns() - s->last_stats_ns >= s->cfg.stats_interval_ns) {
            log_stats(s);
            s->last_stats_ns = ifx_now_ns();
        }
        ifx_err_clear(err);
        ifx_rc rc = poll_once(s, &n, &next, &full, &window_done, err);
        if (ifx_rc_counts_as_failure(rc))
            ifx_breaker_failure(&s->breaker, ifx_now_ns());
        else
            ifx_breaker_success(&s->breaker);
        if (rc) {
            ifxi_cursor_free(&next);
            count(s, query_errors, 1);
            note(s, rc, err->msg);
            if (once && rc != IFX_E_TRANSIENT)
                return rc; /* a bad query or bad rows will not mend themselves */
            failures++;
            /* transient: back off; permanent (a bad query, auth): retry at the poll interval */
            uint64_t d = rc == IFX_E_TRANSIENT ? ifx_backoff_ns(&policy, failures, &rng)
                                               : s->cfg.poll_interval_ns;
            if (!wait_or_stop(s, d < 10000000ULL ? 10000000ULL : d))
                return IFX_OK;
            continue;
        }
        failures = 0;
        note(s, IFX_OK, "");
        bool acked = true;
        if (n > 0) {
            acked = deliver(s, n, &next, send, ud);
            if (acked) {
                count(s, messages, n);
                count(s, batches_acked, 1);
            } else {
                count(s, batches_nacked, 1);
            }
        }
        if (acked) {
            ifxi_cursor_free(&s->cursor);
            s->cursor = next; /* commit */
            nacks = 0;
        } else {
            ifxi_cursor_free(&next);
            /* the same rows come again: back off 100 ms x 2^(n-1), at most 5 s (the SDK's) */
            uint64_t d = 100000000ULL << (nacks < 6 ? nacks : 6);
            nacks++;
            if (!wait_or_stop(s, d > 5000000000ULL ? 5000000000ULL : d))
                return IFX_OK;
            continue;
        }
        if (full || window_done)
            continue; /* catch up: more rows are waiting (upstream R12 slept here), or the
                         next window may hold some */
        if (once)
            return IFX_OK;
        release_idle_buffers(s);
        if (!wait_or_stop(s, s->cfg.poll_interval_ns))
            return IFX_OK;
    }
}

void ifx_source_get_stats(ifx_source *s, ifx_source_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->lock);
    out->breaker = s->has_breaker ? ifx_breaker_get_state(&s->breaker) : IFX_BREAKER_CLOSED;
    ifx_client_latency(s->client, IFX_REQUEST_QUERY, &out->query_latency);
}

ifx_rc ifx_source_open(const ifx_config *cfg, const uint8_t *state, size_t state_len,
                       ifx_log_fn log, void *log_ud, ifx_source **out, ifx_err *err)
{
    ifx_source *s;
    ifx_rc rc;

    *out = NULL;
    if (cfg->role != IFX_ROLE_SOURCE)
        return ifx_err_set(err, IFX_E_CONFIG, "the configuration is not a source's");
    if ((rc = ifxi_query_template_check(cfg, err)))
        return rc;
    s = calloc(1, sizeof *s);
    if (!s)
        return ifx_err_set(err, IFX_E_NOMEM, "out of memory");
    s->log = log;
    s->log_ud = log_ud;
    s->last_stats_ns = ifx_now_ns();
    pthread_mutex_init(&s->lock, NULL);
    ifx_cond_init_monotonic(&s->wake); /* waited on with deadlines */
    ifx_rows_reader_init(&s->reader);
    ifx_buf_init(&s->query, 16u << 20);
    ifx_buf_init(&s->arena, (size_t)1 << 31);
    ifx_buf_init(&s->state, (size_t)1 << 30);
    ifxi_cursor_init(&s->cursor, cfg->initial_offset_ns);
    if ((rc = ifx_config_copy(&s->cfg, cfg, err)))
        goto fail;
    ifxi_row_key_init(&s->cursor_key, s->cfg.cursor_field);
    if (state && state_len) {
        ifx_cursor restored;
        if ((rc = ifxi_cursor_decode(state, state_len, &restored, err))) {
            ifx_err_prefix(err, "the saved state cannot be read, and starting over would "
                                "deliver every row again; remove the state file to do that");
            rc = IFX_E_CONFIG;
            goto fail;
        }
        ifxi_cursor_free(&s->cursor);
        s->cursor = restored;
    }
    if ((rc = ifx_detect_resolve_version(&s->cfg.version, &s->cfg.http, NULL, err)) ||
        (rc = ifx_client_new(s->cfg.version, &s->cfg.http, &s->client, err)))
        goto fail;
    s->lang = s->cfg.version == IFX_VERSION_V1                       ? IFX_QUERY_INFLUXQL
              : s->cfg.version == IFX_VERSION_V2                     ? IFX_QUERY_FLUX
              : s->cfg.query_language == IFX_QUERY_LANGUAGE_INFLUXQL ? IFX_QUERY_INFLUXQL
                                                                     : IFX_QUERY_SQL;
    if (s->cfg.version == IFX_VERSION_V3 && s->lang == IFX_QUERY_INFLUXQL &&
        ifxi_query_template_has_group_by(s->cfg.query)) {
        /* v3 answers InfluxQL in JSONL without saying where one series ends and the next
         * begins, and LIMIT applies per series: the cursor could skip rows. */
        rc = ifx_err_set(err, IFX_E_CONFIG,
                         "key 'query': GROUP BY is not supported for InfluxQL on InfluxDB 3 (the "
                         "answer does not mark its series, and LIMIT applies per series); remove "
                         "it, or use SQL (query_language \"sql\")");
        goto fail;
    }
    ifx_breaker_init(&s->breaker, s->cfg.circuit_breaker_threshold,
                     s->cfg.circuit_breaker_cool_down_ns);
    s->has_breaker = true;
    /* polling retries on its own */
    if ((rc = ifxi_engine_probe(s->client, s->log, s->log_ud, "polling waits until it is fixed",
                                "polling will wait for it", err)))
        goto fail;
    const char *relative = ifxi_query_template_relative_start(s->cfg.query);
    if (relative)
        slog(s, IFX_LOG_WARN,
             "key 'query' reads from a time relative to now (%s): after downtime, rows older "
             "than that are never read and initial_offset has no effect; bound it by the cursor "
             "instead (range(start: time(v: \"$cursor\")), or time > '$cursor')",
             relative);
    if (!ifxi_query_template_uses(s->cfg.query, "limit"))
        slog(s, IFX_LOG_WARN,
             "key 'query' does not use $limit: each answer becomes one batch however many rows it "
             "holds (all held in memory until the runtime acknowledges them), and a fixed LIMIT "
             "below batch_size plus the rows already seen at the cursor's time skips rows; add "
             "LIMIT $limit (Flux: |> limit(n: $limit))");
    char when[IFX_RFC3339_MAX];
    ifx_time_format_rfc3339(s->cursor.time_ns, when);
    ifxi_engine_log_open(s->log, s->log_ud, &s->cfg, "source",
                         "from %s (%zu rows already seen there)", when, s->cursor.nseen);
    *out = s;
    return IFX_OK;
fail:
    ifx_source_close(s);
    return rc;
}

void ifx_source_close(ifx_source *s)
{
    if (!s)
        return;
    if (s->client)
        log_stats(s);
    ifx_client_free(s->client);
    if (s->has_breaker)
        ifx_breaker_destroy(&s->breaker);
    ifxi_cursor_free(&s->cursor);
    ifx_rows_reader_free(&s->reader);
    ifx_buf_free(&s->query);
    ifx_buf_free(&s->arena);
    ifx_buf_free(&s->state);
    free(s->kept);
    free(s->crow);
    free(s->msgs);
    free(s->emit);
    ifx_config_free(&s->cfg);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
