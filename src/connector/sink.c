/* ifx — the sink engine (see include/ifx/sink.h).
 *
 * The orchestration only: the encoder pool, consume (chunking, spooling or backpressure),
 * pipelining (each encoder's sender thread delivers one chunk while the consume encodes the
 * next), dead letters, delivery through the writer, the spool's deliverer thread, open, stats
 * and close. What a message becomes is connector/mapping.c, what a spool record holds is
 * connector/spool_record.c, and how a batch is retried is connector/writer.c. It stays one
 * file past ~700 lines because these parts share the sink's state, its locks and the order
 * in which close tears them down.
 */
#include "ifx/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "connector/engine.h"
#include "connector/mapping.h"
#include "connector/spool_record.h"
#include "ifx/client.h"
#include "core/codec.h"
#include "ifx/lp.h"
#include "connector/spool.h"
#include "ifx/timeutil.h"
#include "connector/writer.h"
#include "transport/write_gzip.h"

/* A chunk in flight: what the consume handed to its encoder's sender thread. The lines are in
 * the buffer the line builder filled (swapped with this one, so the consume goes on encoding the
 * next chunk into the other); the origins point into the consume's messages, which stay valid
 * because consume waits for its last chunk. */
typedef struct flight {
    ifx_buf body;
    ifx_line_span *spans;
    size_t cap_spans;
    ifx_line_origin *origins;
    size_t cap_origins;
    size_t n;
    size_t left; /* lines still pending when its delivery ended (0 unless closing) */
    ifx_buf gz;  /* the chunk's request body gzipped by the consuming thread, when gz_ready */
    bool gz_ready;
} flight;

enum { FLIGHT_IDLE, FLIGHT_QUEUED, FLIGHT_DONE };

struct ifx_sink;

/* Per-call working memory, pooled so that concurrent consumes do not share buffers and a warm
 * sink allocates nothing per message. */
typedef struct encoder {
    ifx_lp lp;
    ifx_mapping_scratch map;
    ifx_buf rec; /* a spool record */
    ifx_line_span *spans;
    size_t cap_spans;
    size_t *line_msg; /* line index -> message index */
    size_t cap_line_msg;
    uint8_t *state;
    size_t cap_state;
    ifx_line_origin *origins; /* per line of a chunk sent directly */
    size_t cap_origins;
    ifx_writer w;
    ifxi_gzip zip;   /* the consuming thread's compressor (see hand_over) */
    int64_t line_ns; /* the time of the line being encoded, kept for a retry after IFX_E_FULL */
    /* Pipelining (no spool_dir): a sender thread, started on the encoder's first chunk, delivers
     * one chunk (gzip, request, retries) while the consume encodes the next. It alone uses w and
     * state while a chunk is in flight. fl_lock guards fl_state, quit and the hand-over of fl. */
    struct ifx_sink *sink;
    pthread_t sender;
    bool has_sender, sender_failed;
    pthread_mutex_t fl_lock;
    pthread_cond_t fl_cond;
    int fl_state;
    bool quit;
    flight fl;
    struct encoder *next;
} encoder;

struct ifx_sink {
    ifx_config cfg;
    ifx_client *client;
    ifx_breaker breaker;
    ifx_log_fn log;
    void *log_ud;

    int dead_letter;        /* dead_letter_file, opened O_APPEND; -1 when not configured */
    bool dead_letter_dirty; /* records written since the last fsync; under dl_lock */
    pthread_mutex_t dl_lock;

    ifx_spool *spool;
    pthread_t deliverer;
    bool has_deliverer;
    bool has_breaker;

    pthread_mutex_t lock; /* guards closing, encoders; wake signals close and new spool data */
    pthread_cond_t wake;
    bool closing;
    int active; /* consumes in flight; close waits for them */
    encoder *free_encoders;

    _Atomic uint64_t received, written, rejected, pending, spooled;
    _Atomic uint64_t requests, retried, bytes_sent; /* summed after every write call */
    _Atomic uint64_t last_stats_ns;
    _Atomic uint64_t last_failure; /* failure_key of the delivery failure last logged, 0: none */
    _Atomic int spool_refusing;    /* the last append failed (full or a disk error): logged once */
};

/* ---- logging and dead letters ------------------------------------------------------------ */

#define slog(s, level, ...) ifxi_engine_log((s)->log, (s)->log_ud, level, __VA_ARGS__)

/* Appends one whole JSON line to the dead-letter file, under dl_lock: one write call, and on a
 * failed or short write the file is cut back to where it was, so that a reader never meets half
 * a record (and the next record does not start inside one). false with errno set on failure. */
static bool dead_letter_append(ifx_sink *s, const char *rec, size_t len)
{
    struct stat st;
    if (fstat(s->dead_letter, &st) != 0)
        return false;
    ssize_t n = write(s->dead_letter, rec, len);
    if (n == (ssize_t)len) {
        s->dead_letter_dirty = true;
        return true;
    }
    int saved = n < 0 ? errno : ENOSPC; /* a short write on a regular file: the disk is full */
    if (n > 0 && ftruncate(s->dead_letter, st.st_size) != 0)
        slog(s, IFX_LOG_ERROR, "cannot cut dead_letter_file %s back after a short write: %s",
             s->cfg.dead_letter_file, strerror(errno));
    errno = saved;
    return false;
}

/* Writes one record (a whole JSON line) under dl_lock; a failure is logged with what was being
 * rejected (what: "message 1007", "undecodable message") and why. */
static void dead_letter_write(ifx_sink *s, const char *rec, size_t len, const char *what,
                              const char *reason)
{
    pthread_mutex_lock(&s->dl_lock);
    if (!dead_letter_append(s, rec, len))
        slog(s, IFX_LOG_ERROR, "cannot write to dead_letter_file %s: %s; rejected %s: %s",
             s->cfg.dead_letter_file, strerror(errno), what, reason);
    pthread_mutex_unlock(&s->dl_lock);
}

/* Where a message's line came from (the spool record keeps all but the payload). */
static ifx_line_origin origin_of(const ifx_sink_message *m)
{
    return (ifx_line_origin){m->stream, m->stream_len, m->topic,   m->topic_len,  m->partition,
                             m->offset, m->id,         m->payload, m->payload_len};
}

/* Logs a rejected message with its origin, for when there is no dead-letter record of it (no
 * dead_letter_file, or the record could not be built); why_no_record says which. */
static void log_rejected(ifx_sink *s, int level, const ifx_line_origin *o, const char *id,
                         const char *reason, const char *why_no_record)
{
    slog(s, level, "rejected message stream=%.*s topic=%.*s partition=%u offset=%llu id=%s: %s%s",
         (int)o->stream_len, o->stream, (int)o->topic_len, o->topic, o->partition,
         (unsigned long long)o->offset, id, reason, why_no_record);
}

static void dead_letter(ifx_sink *s, const ifx_line_origin *o, const char *line, size_t line_len,
                        const char *reason)
{
    char id[48], now[IFX_RFC3339_MAX];
    ifx_buf b;
    bool ok = true; /* every append succeeded: a record missing a part is never written */

    atomic_fetch_add(&s->rejected, 1);
    ifx_u128_format(o->id, id);
    if (s->dead_letter < 0) {
        log_rejected(s, IFX_LOG_WARN, o, id, reason, "");
        return;
    }
#define PUT(call) (ok = ok && (call) == IFX_OK)
    ifx_time_format_rfc3339(ifx_time_now_ns(), now);
    ifx_buf_init(&b, (size_t)1 << 30);
    PUT(ifx_buf_printf(&b, "{\"time\":\"%s\",\"stream\":", now));
    PUT(ifxi_json_append_string(&b, o->stream, o->stream_len));
    PUT(ifx_buf_puts(&b, ",\"topic\":"));
    PUT(ifxi_json_append_string(&b, o->topic, o->topic_len));
    PUT(ifx_buf_printf(&b, ",\"partition\":%u,\"offset\":%llu,\"id\":\"%s\",\"reason\":",
                       o->partition, (unsigned long long)o->offset, id));
    PUT(ifxi_json_append_string(&b, reason, strlen(reason)));
    if (ok && o->payload) {
        /* The payload as it came: JSON when it is JSON, else text, else base64. */
        size_t before = b.len;
        ifx_rc j = ifx_buf_puts(&b, ",\"payload\":");
        if (j == IFX_OK)
            j = ifxi_json_compact((const char *)o->payload, o->payload_len, &b, NULL);
        if (j == IFX_E_NOMEM) {
            ok = false;
        } else if (j != IFX_OK) {
            ifx_buf_truncate(&b, before);
            if (ifxi_utf8_valid(o->payload, o->payload_len, NULL)) {
                PUT(ifx_buf_puts(&b, ",\"payload_text\":"));
                PUT(ifxi_json_append_string(&b, (const char *)o->payload, o->payload_len));
            } else {
                PUT(ifx_buf_puts(&b, ",\"payload_base64\":\""));
                PUT(ifxi_base64_encode(o->payload, o->payload_len, &b));
                PUT(ifx_buf_putc(&b, '"'));
            }
        }
    } else if (line) {
        PUT(ifx_buf_puts(&b, ",\"line\":"));
        PUT(ifxi_json_append_string(&b, line, line_len));
    }
    PUT(ifx_buf_puts(&b, "}\n"));
#undef PUT
    if (ok) {
        char what[64];
        snprintf(what, sizeof what, "message %s", id);
        dead_letter_write(s, b.data, b.len, what, reason);
    } else {
        /* Out of memory: the message is named in the log instead, where an operator finds its
         * offset to fetch it again from Iggy. */
        char why[300];
        snprintf(why, sizeof why, " (not in dead_letter_file %s: out of memory)",
                 s->cfg.dead_letter_file);
        log_rejected(s, IFX_LOG_ERROR, o, id, reason, why);
    }
    ifx_buf_free(&b);
}

/* Settles messages the sink cannot take for want of memory as rejected, each dead-lettered (or
 * logged) with its origin: the runtime committed their offsets when it polled them
 * (docs/delivery.md), so a message dropped here without a record would be lost without a trace.
 * Messages msgs[idx[i]] for i in [0, n), or msgs[from + i] when idx is NULL. */
static void reject_for_memory(ifx_sink *s, const ifx_sink_message *msgs, const size_t *idx,
                              size_t from, size_t n, const char *reason)
{
    for (size_t i = 0; i < n; i++) {
        ifx_line_origin o = origin_of(&msgs[idx ? idx[i] : from + i]);
        dead_letter(s, &o, NULL, 0, reason);
    }
}

/* Makes the records written so far durable. Called before anything that tells the runtime or
 * the spool that the rejected messages are done with (consume returning, a spool pop): after a
 * crash, a message is either in the file or delivered again, never neither. */
static void dead_letter_sync(ifx_sink *s)
{
    if (s->dead_letter < 0)
        return;
    pthread_mutex_lock(&s->dl_lock);
    if (s->dead_letter_dirty && fsync(s->dead_letter) == 0)
        s->dead_letter_dirty = false;
    pthread_mutex_unlock(&s->dl_lock);
}

/* ---- encoding ------------------------------------------------------------------------------ */

static encoder *encoder_take(ifx_sink *s)
{
    encoder *e;
    pthread_mutex_lock(&s->lock);
    e = s->free_encoders;
    if (e)
        s->free_encoders = e->next;
    pthread_mutex_unlock(&s->lock);
    if (e)
        return e;
    e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    ifx_lp_init(&e->lp, s->cfg.version, s->cfg.precision, s->cfg.max_batch_bytes);
    ifxi_mapping_scratch_init(&e->map);
    ifx_buf_init(&e->rec, (size_t)1 << 30);
    ifx_retry_policy retry = ifxi_engine_retry_policy(&s->cfg);
    ifxi_writer_init(&e->w, s->client, &s->breaker, &retry, s->cfg.precision);
    e->sink = s;
    pthread_mutex_init(&e->fl_lock, NULL);
    pthread_cond_init(&e->fl_cond, NULL);
    ifx_buf_init(&e->fl.body, (size_t)1 << 31);
    ifx_buf_init(&e->fl.gz, (size_t)1 << 31);
    ifxi_gzip_init(&e->zip);
    return e;
}

static void encoder_give(ifx_sink *s, encoder *e)
{
    ifx_lp_reset(&e->lp);
    pthread_mutex_lock(&s->lock);
    e->next = s->free_encoders;
    s->free_encoders = e;
    pthread_mutex_unlock(&s->lock);
}

static void encoder_free(encoder *e)
{
    if (e->has_sender) {
        /* Idle: every consume waited for its last chunk before giving the encoder back. */
        pthread_mutex_lock(&e->fl_lock);
        e->quit = true;
        pthread_cond_broadcast(&e->fl_cond);
        pthread_mutex_unlock(&e->fl_lock);
        pthread_join(e->sender, NULL);
    }
    pthread_cond_destroy(&e->fl_cond);
    pthread_mutex_destroy(&e->fl_lock);
    ifx_buf_free(&e->fl.body);
    ifx_buf_free(&e->fl.gz);
    ifxi_gzip_free(&e->zip);
    free(e->fl.spans);
    free(e->fl.origins);
    ifx_lp_free(&e->lp);
    ifxi_mapping_scratch_free(&e->map);
    ifx_buf_free(&e->rec);
    ifxi_writer_free(&e->w);
    free(e->spans);
    free(e->line_msg);
    free(e->state);
    free(e->origins);
    free(e);
}

/* The bytes of n > 0 lines that lie one after another, from the first's start to the last's end
 * (the body of a request for all of them, as the writer sends it). */
static size_t lines_extent(const ifx_line_span *spans, size_t n)
{
    return spans[n - 1].off + spans[n - 1].len - spans[0].off;
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 512;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q)
        return false;
    *p = q;
    *cap = n;
    return true;
}

/* ---- delivery ------------------------------------------------------------------------------ */

/* Sleeps up to ns unless the sink is closing; false when it is. */
static bool sink_wait(void *ud, uint64_t ns)
{
    ifx_sink *s = ud;
    return ifxi_engine_wait_unless_stopped(&s->lock, &s->wake, &s->closing, ns);
}

static bool is_closing(ifx_sink *s)
{
    pthread_mutex_lock(&s->lock);
    bool c = s->closing;
    pthread_mutex_unlock(&s->lock);
    return c;
}

typedef struct reject_ctx {
    ifx_sink *s;
    const char *body;
    const ifx_line_span *spans;
    const ifx_line_origin *origins; /* per line */
} reject_ctx;

static void on_line_rejected(void *ud, size_t index, const char *reason)
{
    reject_ctx *r = ud;
    dead_letter(r->s, &r->origins[index], r->body + r->spans[index].off, r->spans[index].len,
                reason);
}

/* What makes two delivery failures the same for the log: the result code, and for a refusal
 * (auth, or the request refused) also the server's words, since a new refusal needs its own
 * line. Transient messages vary from try to try (timings), so only their code counts. */
static uint64_t failure_key(ifx_rc rc, const ifx_err *err)
{
    uint64_t h = 1469598103934665603ULL;
    if (rc == IFX_E_AUTH || rc == IFX_E_REJECTED)
        for (const char *p = err->msg; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return (h << 8) | (uint64_t)rc;
}

/* Logs a delivery failure when it differs from the last one logged (not once per retry). */
static void note_failure(ifx_sink *s, ifx_rc rc, const ifx_err *err)
{
    uint64_t key = failure_key(rc, err);
    if (atomic_exchange(&s->last_failure, key) != key)
        slog(s, rc == IFX_E_AUTH || rc == IFX_E_REJECTED ? IFX_LOG_ERROR : IFX_LOG_WARN,
             "writes are failing (%s), keeping the messages and retrying: %s", ifx_rc_name(rc),
             err->msg);
}

static void note_recovered(ifx_sink *s)
{
    if (atomic_exchange(&s->last_failure, 0) != 0)
        slog(s, IFX_LOG_INFO, "writes succeed again");
}

/* Memory that runs out while a chunk or a spool record is being delivered (on the sender
 * thread, the spool's delivery thread, or a consume sending a chunk itself) is a failure like a
 * server's: the lines stay pending, the failure is logged once (as writes failing), and the
 * caller tries again after this pause. false when the sink is closing. */
static bool wait_for_memory(ifx_sink *s, const char *what)
{
    ifx_err oom;
    ifx_err_set(&oom, IFX_E_NOMEM, "out of memory for %s", what);
    note_failure(s, IFX_E_NOMEM, &oom);
    return sink_wait(s, 50000000ULL); /* 50 ms */
}

/* What one delivery has counted so far, so that the sink's totals are current while a consume
 * runs (the writer's own counters belong to its encoder). */
typedef struct delivery {
    ifx_sink *s;
    const ifx_writer *w;
    uint64_t requests, retries, bytes_sent; /* the writer's counters last added */
} delivery;

/* After each round of the writer: the sink's counters, and a failure logged (when new). Going
 * on after a failure unless the sink is closing. */
static bool on_round(void *ud, ifx_rc rc, const ifx_err *err, const ifx_write_report *rep)
{
    delivery *d = ud;
    ifx_sink *s = d->s;
    const ifx_writer *w = d->w;
    atomic_fetch_add(&s->written, rep->written);
    atomic_fetch_add(&s->requests, w->requests - d->requests);
    atomic_fetch_add(&s->retried, w->retries - d->retries);
    atomic_fetch_add(&s->bytes_sent, w->bytes_sent - d->bytes_sent);
    d->requests = w->requests, d->retries = w->retries, d->bytes_sent = w->bytes_sent;
    if (rc == IFX_OK)
        return true;
    note_failure(s, rc, err);
    return !is_closing(s);
}

/* Delivers lines spans[0..n) of body until each is written or rejected, or the sink closes:
 * the writer owns the retrying (ifxi_writer_settle). Returns the number of lines still pending
 * (0 unless closing). */
static size_t deliver(ifx_sink *s, encoder *e, const char *body, const ifx_line_span *spans,
                      const ifx_line_origin *origins, size_t n)
{
    reject_ctx ctx = {s, body, spans, origins};
    delivery d = {s, &e->w, e->w.requests, e->w.retries, e->w.bytes_sent};

    /* Out of memory for the lines' states: the lines stay pending while the consume holds them
     * (the writer does the same with its own allocations). */
    while (!grow((void **)&e->state, &e->cap_state, n, 1))
        if (!wait_for_memory(s, "the states of a chunk's lines"))
            return n; /* closing: they stay pending */
    memset(e->state, IFX_LINE_PENDING, n);
    e->w.sleep = sink_wait;
    e->w.sleep_ud = s;
    size_t left =
        ifxi_writer_settle(&e->w, body, spans, n, on_line_rejected, &ctx, e->state, on_round, &d);
    if (left == 0)
        note_recovered(s);
    return left;
}

static ifx_rc spool_batch(ifx_sink *s, encoder *e, const ifx_sink_message *msgs, size_t nlines,
                          ifx_err *err)
{
    ifx_buf *r = &e->rec;
    ifx_rc rc = ifxi_spool_record_begin(r, (uint32_t)nlines);
    for (size_t i = 0; i < nlines && !rc; i++) {
        ifx_line_origin o = origin_of(&msgs[e->line_msg[i]]);
        rc = ifxi_spool_record_add(r, e->lp.batch.data + e->spans[i].off, e->spans[i].len, &o);
    }
    if (rc)
        return ifx_err_set(err, rc, "cannot build a spool record");
    if ((rc = ifxi_spool_append(s->spool, r->data, r->len, err)))
        return rc;
    atomic_fetch_add(&s->spooled, nlines);
    pthread_mutex_lock(&s->lock);
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
    return IFX_OK;
}

/* ---- pipelining: the encoder's sender thread ------------------------------------------------ */

static ifx_rc not_written(ifx_err *err, size_t left)
{
    return ifx_err_set(err, IFX_E_TRANSIENT,
                       "the sink closed with %zu messages of this batch not written (no "
                       "spool_dir is configured)",
                       left);
}

/* Delivers each chunk handed over (FLIGHT_QUEUED) exactly as a consume would on its own thread
 * (deliver: retries, breaker, rejects, the stop request), then marks it FLIGHT_DONE. */
static void *sender_main(void *arg)
{
    encoder *e = arg;
    ifx_sink *s = e->sink;
    flight *f = &e->fl;

    pthread_mutex_lock(&e->fl_lock);
    for (;;) {
        while (e->fl_state != FLIGHT_QUEUED && !e->quit)
            pthread_cond_wait(&e->fl_cond, &e->fl_lock);
        if (e->fl_state != FLIGHT_QUEUED)
            break;
        pthread_mutex_unlock(&e->fl_lock);
        if (f->gz_ready) {
            /* the whole chunk's request body, gzipped by the consuming thread */
            e->w.pre_data = f->body.data + f->spans[0].off;
            e->w.pre_len = lines_extent(f->spans, f->n);
            e->w.pre_gz = &f->gz;
        }
        size_t left = deliver(s, e, f->body.data, f->spans, f->origins, f->n);
        e->w.pre_gz = NULL;
        /* counted before the consume can see the chunk done and return */
        atomic_fetch_sub(&s->pending, f->n - left);
        pthread_mutex_lock(&e->fl_lock);
        f->left = left;
        e->fl_state = FLIGHT_DONE;
        pthread_cond_broadcast(&e->fl_cond);
    }
    pthread_mutex_unlock(&e->fl_lock);
    return NULL;
}

/* Starts the encoder's sender on its first chunk; false when it cannot (the chunks are then
 * delivered on the consuming thread, as without pipelining). The thread blocks every signal, so
 * a host's SIGTERM and SIGINT reach the threads that reached them before. */
static bool sender_ready(encoder *e)
{
    if (e->has_sender || e->sender_failed)
        return e->has_sender;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    e->has_sender = pthread_create(&e->sender, NULL, sender_main, e) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    e->sender_failed = !e->has_sender;
    return e->has_sender;
}

/* Waits until the chunk in flight (if any) is delivered; its outcome as flush_chunk's. */
static ifx_rc flight_wait(encoder *e, ifx_err *err)
{
    size_t left = 0;
    pthread_mutex_lock(&e->fl_lock);
    while (e->fl_state == FLIGHT_QUEUED)
        pthread_cond_wait(&e->fl_cond, &e->fl_lock);
    if (e->fl_state == FLIGHT_DONE) {
        left = e->fl.left;
        e->fl_state = FLIGHT_IDLE;
    }
    pthread_mutex_unlock(&e->fl_lock);
    return left ? not_written(err, left) : IFX_OK;
}

/* Swaps what two buffers hold (each keeps its cap): lines change hands without a copy. */
static void swap_contents(ifx_buf *a, ifx_buf *b)
{
    ifx_buf t = *a;
    a->data = b->data, a->len = b->len, a->alloc = b->alloc;
    b->data = t.data, b->len = t.len, b->alloc = t.alloc;
}

/* Hands the n lines in e->lp to the sender, once the chunk before them is delivered (one chunk
 * in flight): the sender takes the batch's buffer and the builder gets the one the sender
 * finished with. *rc gets that chunk's outcome. false when the spans and origins cannot be
 * held (no memory): the caller then delivers the lines itself. */
static bool hand_over(ifx_sink *s, encoder *e, const ifx_sink_message *msgs, size_t n, ifx_rc *rc,
                      ifx_err *err)
{
    flight *f = &e->fl;
    size_t body_len = lines_extent(e->spans, n);
    bool gz_ready = false;

    /* With gzip on, the sender compresses and sends; when it is still busy with the previous
     * chunk, this thread would only wait for it, so it compresses this chunk itself, as the
     * request would (write_gzip.h), and the sender has only the request left to make. */
    if (ifxi_client_gzips_write(s->client, body_len)) {
        pthread_mutex_lock(&e->fl_lock);
        bool busy = e->fl_state == FLIGHT_QUEUED;
        pthread_mutex_unlock(&e->fl_lock);
        gz_ready = busy && ifxi_gzip_compress(&e->zip, e->lp.batch.data + e->spans[0].off,
                                              body_len) == IFX_OK;
    }
    *rc = flight_wait(e, err);
    if (!grow((void **)&f->spans, &f->cap_spans, n, sizeof *f->spans) ||
        !grow((void **)&f->origins, &f->cap_origins, n, sizeof *f->origins))
        return false;
    swap_contents(&f->body, &e->lp.batch); /* the batch holds just these n lines */
    if ((f->gz_ready = gz_ready))
        swap_contents(&f->gz, &e->zip.out);
    memcpy(f->spans, e->spans, n * sizeof *f->spans);
    for (size_t i = 0; i < n; i++)
        f->origins[i] = origin_of(&msgs[e->line_msg[i]]);
    f->n = n;
    f->left = 0;
    atomic_fetch_add(&s->pending, n);
    pthread_mutex_lock(&e->fl_lock);
    e->fl_state = FLIGHT_QUEUED;
    pthread_cond_broadcast(&e->fl_cond);
    pthread_mutex_unlock(&e->fl_lock);
    return true;
}

/* Sends or spools the lines in e->lp (messages msgs, line i from msgs[e->line_msg[i]]). Without
 * a spool the lines go to the encoder's sender and the result returned is the previous chunk's
 * (the caller waits for the last one with flight_wait). With a spool they are appended on this
 * thread, as before: the record is durable when consume returns, with nothing in flight. */
static ifx_rc flush_chunk(ifx_sink *s, encoder *e, const ifx_sink_message *msgs, ifx_err *err)
{
    size_t n = e->lp.lines;
    ifx_rc rc = IFX_OK;

    if (n == 0)
        return IFX_OK;

    if (s->spool) {
        rc = spool_batch(s, e, msgs, n, err);
        if (rc == IFX_OK) {
            if (atomic_exchange(&s->spool_refusing, 0))
                slog(s, IFX_LOG_INFO, "the spool takes batches again");
            goto out;
        }
        /* Said once until the spool takes a batch again, not once per batch. */
        if (!atomic_exchange(&s->spool_refusing, 1))
            slog(s, IFX_LOG_WARN,
                 "cannot spool a batch (%s); writing directly, consume waits while the "
                 "server is down",
                 err->msg);
        /* the batch is not lost: it goes the way it would without a spool */
        rc = IFX_OK;
        ifx_err_clear(err);
    } else if (sender_ready(e) && hand_over(s, e, msgs, n, &rc, err)) {
        goto out;
    }
    if (!grow((void **)&e->origins, &e->cap_origins, n, sizeof *e->origins)) {
        reject_for_memory(s, msgs, e->line_msg, 0, n, "out of memory: not sent");
        rc = ifx_err_set(err, IFX_E_NOMEM, "out of memory: %zu messages rejected", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        e->origins[i] = origin_of(&msgs[e->line_msg[i]]);
    atomic_fetch_add(&s->pending, n);
    size_t left = deliver(s, e, e->lp.batch.data, e->spans, e->origins, n);
    atomic_fetch_sub(&s->pending, n - left);
    if (left)
        rc = not_written(err, left);
out:
    ifx_lp_clear_batch(&e->lp);
    return rc;
}

static void maybe_log_stats(ifx_sink *s)
{
    uint64_t now = ifx_now_ns(), last = atomic_load(&s->last_stats_ns);
    if (s->cfg.stats_interval_ns == 0 || now - last < s->cfg.stats_interval_ns)
        return;
    if (!atomic_compare_exchange_strong(&s->last_stats_ns, &last, now))
        return;
    ifx_sink_stats st;
    char line[512];
    ifx_sink_get_stats(s, &st);
    ifx_sink_stats_line(&st, line, sizeof line);
    slog(s, IFX_LOG_INFO, "%s", line);
}

/* A call that hands messages in (consume, reject_undecodable): counted as active, so that close
 * waits for it, and its n messages counted received. false when the sink is closing. */
static bool call_begin(ifx_sink *s, size_t n)
{
    pthread_mutex_lock(&s->lock);
    bool closed = s->closing;
    if (!closed)
        s->active++;
    pthread_mutex_unlock(&s->lock);
    if (!closed)
        atomic_fetch_add(&s->received, n);
    return !closed;
}

static void call_end(ifx_sink *s)
{
    pthread_mutex_lock(&s->lock);
    s->active--;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

ifx_rc ifx_sink_consume(ifx_sink *s, const ifx_sink_message *msgs, size_t n, ifx_err *err)
{
    ifx_rc rc = IFX_OK, first = IFX_OK;
    ifx_err local, spare; /* spare: errors after the first, which err keeps */
    encoder *e;

    if (!err)
        err = &local;
    ifx_err_clear(err);
    if (!call_begin(s, n))
        return ifx_err_set(err, IFX_E_USAGE, "the sink is closed");
    if (!(e = encoder_take(s))) {
        reject_for_memory(s, msgs, NULL, 0, n, "out of memory: not taken");
        dead_letter_sync(s);
        first = ifx_err_set(err, IFX_E_NOMEM, "out of memory: %zu of %zu messages rejected", n, n);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const ifx_sink_message *m = &msgs[i];
        ifx_err why;
        if (!grow((void **)&e->line_msg, &e->cap_line_msg, e->lp.lines + 1, sizeof *e->line_msg) ||
            !grow((void **)&e->spans, &e->cap_spans, e->lp.lines + 1, sizeof *e->spans)) {
            /* The messages from i on are not taken (the lines before go out): each is
             * rejected with its origin, and the call fails. */
            reject_for_memory(s, msgs, NULL, i, n - i, "out of memory: not taken");
            rc = ifx_err_set(first ? &spare : err, IFX_E_NOMEM,
                             "out of memory: %zu of %zu messages rejected", n - i, n);
            if (!first)
                first = rc;
            break;
        }
        rc = ifxi_mapping_encode(&s->cfg, m, &e->map, &e->lp, &e->line_ns, &why);
        if (rc == IFX_E_FULL) {
            /* The batch reached max_batch_bytes: send it, then finish this line in a new one. */
            ifx_rc f = flush_chunk(s, e, msgs, first ? &spare : err);
            if (f && !first)
                first = f;
            rc = ifx_lp_end_line(&e->lp, true, e->line_ns, &why);
        }
        if (rc == IFX_OK) {
            /* The line just finished ends the batch: note where, instead of splitting the
             * batch again when it is sent. */
            size_t k = e->lp.lines - 1;
            size_t start = k ? e->spans[k - 1].off + e->spans[k - 1].len + 1 : 0;
            e->spans[k] = (ifx_line_span){start, e->lp.batch.len - start - 1};
            e->line_msg[k] = i;
        } else {
            ifx_line_origin o = origin_of(m);
            dead_letter(s, &o, NULL, 0, why.msg);
            if (rc == IFX_E_NOMEM) {
                /* rejected for want of memory, not for what it holds: the call says so */
                rc = ifx_err_set(first ? &spare : err, IFX_E_NOMEM,
                                 "out of memory: message at offset %llu rejected (%s)",
                                 (unsigned long long)m->offset, why.msg);
                if (!first)
                    first = rc;
            }
            rc = IFX_OK;
        }
        if (e->lp.lines >= s->cfg.batch_size &&
            (rc = flush_chunk(s, e, msgs, first ? &spare : err)) && !first)
            first = rc;
    }
    if ((rc = flush_chunk(s, e, msgs, first ? &spare : err)) && !first)
        first = rc;
    /* consume returns only when its last chunk is written, rejected or pending */
    if ((rc = flight_wait(e, first ? &spare : err)) && !first)
        first = rc;
    dead_letter_sync(s);
    encoder_give(s, e);
    if (s->cfg.verbose_logging) {
        /* upstream's per-consume statistics at INFO */
        ifx_sink_stats st;
        ifx_sink_get_stats(s, &st);
        slog(s, IFX_LOG_INFO,
             "consumed %zu messages: received=%llu written=%llu rejected=%llu "
             "pending=%llu spooled=%llu",
             n, (unsigned long long)st.received, (unsigned long long)st.written,
             (unsigned long long)st.rejected, (unsigned long long)st.pending,
             (unsigned long long)st.spooled);
    }
    maybe_log_stats(s);
done:
    call_end(s);
    return first;
}

/* ---- messages a host cannot decode --------------------------------------------------------- */

/* The most bytes of an undecodable message a dead letter keeps (base64 makes 4/3 of it). */
#define UNDECODABLE_KEEP ((size_t)1 << 20)

static void put_bytes(ifx_buf *b, const char *key, const uint8_t *p, size_t len)
{
    size_t keep = len < UNDECODABLE_KEEP ? len : UNDECODABLE_KEEP;
    ifx_buf_printf(b, ",\"%s_len\":%zu,\"%s_base64\":\"", key, len, key);
    ifxi_base64_encode(p, keep, b);
    ifx_buf_putc(b, '"');
    if (keep < len)
        ifx_buf_printf(b, ",\"%s_truncated\":true", key);
}

static void put_text_or_null(ifx_buf *b, const char *key, const char *p, size_t len)
{
    ifx_buf_printf(b, ",\"%s\":", key);
    if (p)
        ifxi_json_append_string(b, p, len);
    else
        ifx_buf_puts(b, "null");
}

static void put_u64_or_null(ifx_buf *b, const char *key, bool has, uint64_t v)
{
    if (has)
        ifx_buf_printf(b, ",\"%s\":%llu", key, (unsigned long long)v);
    else
        ifx_buf_printf(b, ",\"%s\":null", key);
}

static void reject_undecodable(ifx_sink *s, const ifx_sink_undecodable *u, ifx_buf *b)
{
    char id[48] = "?", now[IFX_RFC3339_MAX], index[24] = "?", offset[24] = "?";

    atomic_fetch_add(&s->rejected, 1);
    if (u->has_id)
        ifx_u128_format(u->id, id);
    if (s->dead_letter < 0) {
        if (u->has_index)
            snprintf(index, sizeof index, "%llu", (unsigned long long)u->index);
        if (u->has_offset)
            snprintf(offset, sizeof offset, "%llu", (unsigned long long)u->offset);
        slog(s, IFX_LOG_WARN,
             "rejected undecodable message stream=%.*s topic=%.*s index=%s offset=%s id=%s "
             "(%zu bytes): %s",
             u->stream ? (int)u->stream_len : 1, u->stream ? u->stream : "?",
             u->topic ? (int)u->topic_len : 1, u->topic ? u->topic : "?", index, offset, id,
             u->payload ? u->payload_len : u->raw_len, u->reason);
        return;
    }
    ifx_time_format_rfc3339(ifx_time_now_ns(), now);
    ifx_buf_reset(b);
    ifx_buf_printf(b, "{\"time\":\"%s\",\"undecodable\":true", now);
    put_text_or_null(b, "stream", u->stream, u->stream_len);
    put_text_or_null(b, "topic", u->topic, u->topic_len);
    put_u64_or_null(b, "partition", u->has_partition, u->partition);
    put_u64_or_null(b, "offset", u->has_offset, u->offset);
    put_text_or_null(b, "id", u->has_id ? id : NULL, strlen(id));
    put_u64_or_null(b, "index", u->has_index, u->index);
    ifx_buf_puts(b, ",\"reason\":");
    ifxi_json_append_string(b, u->reason, strlen(u->reason));
    if (u->payload)
        put_bytes(b, "payload", u->payload, u->payload_len);
    if (u->raw)
        put_bytes(b, "raw", u->raw, u->raw_len);
    ifx_buf_puts(b, "}\n");
    dead_letter_write(s, b->data, b->len, "undecodable message", u->reason);
}

ifx_rc ifx_sink_reject_undecodable(ifx_sink *s, const ifx_sink_undecodable *u, size_t n,
                                   ifx_err *err)
{
    ifx_err local;
    ifx_buf b;

    if (!err)
        err = &local;
    ifx_err_clear(err);
    if (!call_begin(s, n))
        return ifx_err_set(err, IFX_E_USAGE, "the sink is closed");
    ifx_buf_init(&b, (size_t)1 << 30);
    for (size_t i = 0; i < n; i++)
        reject_undecodable(s, &u[i], &b);
    ifx_buf_free(&b);
    dead_letter_sync(s);
    call_end(s);
    return IFX_OK;
}

/* ---- the spool's delivery thread ----------------------------------------------------------- */

/* The record just delivered is written or rejected, line by line: only its mark in the spool is
 * owed. Peeking again would hand out the same record and write it twice, so a failed mark (a
 * full disk: the position file cannot be replaced) is retried alone, after a growing pause from
 * retry_delay (at least 100 ms) to retry_max_delay, with one ERROR line per attempt, until it
 * succeeds or the sink closes. Closing first leaves the record in the spool: the next start
 * sends it again (at least once across restarts, as after a crash). */
static void mark_delivered(ifx_sink *s, uint32_t n)
{
    const uint64_t floor_ns = 100000000ULL;
    uint64_t wait = s->cfg.retry_delay_ns > floor_ns ? s->cfg.retry_delay_ns : floor_ns;
    uint64_t cap = s->cfg.retry_max_delay_ns > wait ? s->cfg.retry_max_delay_ns : wait;
    uint32_t failed = 0;
    ifx_err err;

    while (ifxi_spool_pop(s->spool, &err) != IFX_OK) {
        failed++;
        slog(s, IFX_LOG_ERROR,
             "cannot mark a spool record delivered (attempt %u): %s; its %u messages are "
             "written and are not sent again: retrying only the mark in %llu ms",
             failed, err.msg, n, (unsigned long long)(wait / 1000000));
        if (!sink_wait(s, wait)) {
            slog(s, IFX_LOG_WARN,
                 "closing before a delivered spool record could be marked: the next start "
                 "sends its %u messages again",
                 n);
            return;
        }
        wait = wait > cap / 2 ? cap : wait * 2;
    }
    if (failed)
        slog(s, IFX_LOG_INFO,
             "marked the spool record delivered after %u failed attempts; spool delivery "
             "goes on",
             failed);
}

static void *deliver_spool(void *arg)
{
    ifx_sink *s = arg;
    encoder *e = NULL;
    ifx_buf rec;
    ifx_line_span *spans = NULL;
    ifx_line_origin *o = NULL;
    size_t cap = 0;
    ifx_err err;

    ifx_buf_init(&rec, (size_t)1 << 31);
    /* an encoder it cannot get waits like a record (it used to end the thread without a word) */
    while (!(e = encoder_take(s)) && wait_for_memory(s, "an encoder in the spool's delivery")) {
    }
    while (e && !is_closing(s)) {
        bool empty;
        if (ifxi_spool_peek(s->spool, &rec, &empty, &err)) {
            slog(s, IFX_LOG_ERROR, "cannot read the spool: %s", err.msg);
            sink_wait(s, 1000000000ULL);
            continue;
        }
        if (empty) {
            sink_wait(s, 200000000ULL);
            continue;
        }
        uint32_t n;
        bool ok = ifxi_spool_record_count(rec.data, rec.len, &n);
        if (ok && n > cap) {
            ifx_line_span *ns = realloc(spans, n * sizeof *ns);
            ifx_line_origin *no = ns ? realloc(o, n * sizeof *no) : NULL;
            if (ns)
                spans = ns;
            if (no)
                o = no;
            if (!ns || !no) {
                wait_for_memory(s, "a spool record's lines");
                continue;
            }
            cap = n;
        }
        ok = ok && ifxi_spool_record_decode(rec.data, rec.len, n, spans, o);
        if (!ok) {
            /* The spool checks each record's checksum, so this is a bug, not a torn write: keep
             * the record rather than lose it, and say so loudly. */
            slog(s, IFX_LOG_ERROR, "a spool record cannot be read; delivery is stopped");
            sink_wait(s, 5000000000ULL);
            continue;
        }
        size_t left = deliver(s, e, rec.data, spans, o, n);
        if (left == 0) {
            /* the record's rejected lines are on disk before the record leaves the spool */
            dead_letter_sync(s);
            mark_delivered(s, n);
        }
    }
    free(spans);
    free(o);
    ifx_buf_free(&rec);
    if (e)
        encoder_give(s, e);
    return NULL;
}

/* ---- open, stats, close -------------------------------------------------------------------- */

void ifx_sink_get_stats(ifx_sink *s, ifx_sink_stats *out)
{
    memset(out, 0, sizeof *out);
    out->received = atomic_load(&s->received);
    out->written = atomic_load(&s->written);
    out->rejected = atomic_load(&s->rejected);
    out->pending = atomic_load(&s->pending);
    out->spooled = atomic_load(&s->spooled);
    if (s->spool) {
        uint64_t bytes;
        ifxi_spool_pending(s->spool, &out->spool_records, &bytes);
    }
    out->retried = atomic_load(&s->retried);
    out->requests = atomic_load(&s->requests);
    out->bytes_sent = atomic_load(&s->bytes_sent);
    out->breaker = ifx_breaker_get_state(&s->breaker);
    ifx_client_latency(s->client, IFX_REQUEST_WRITE, &out->write_latency);
}

void ifx_sink_stats_line(const ifx_sink_stats *st, char *out, size_t cap)
{
    snprintf(out, cap,
             "sink stats: received=%llu written=%llu rejected=%llu pending=%llu spooled=%llu "
             "spool_records=%llu retried=%llu requests=%llu bytes_sent=%llu breaker=%s",
             (unsigned long long)st->received, (unsigned long long)st->written,
             (unsigned long long)st->rejected, (unsigned long long)st->pending,
             (unsigned long long)st->spooled, (unsigned long long)st->spool_records,
             (unsigned long long)st->retried, (unsigned long long)st->requests,
             (unsigned long long)st->bytes_sent, ifx_breaker_state_name(st->breaker));
}

ifx_rc ifx_sink_open(const ifx_config *cfg, ifx_log_fn log, void *log_ud, ifx_sink **out,
                     ifx_err *err)
{
    ifx_sink *s;
    ifx_rc rc;

    *out = NULL;
    if (cfg->role != IFX_ROLE_SINK)
        return ifx_err_set(err, IFX_E_CONFIG, "the configuration is not a sink's");
    s = calloc(1, sizeof *s);
    if (!s)
        return ifx_err_set(err, IFX_E_NOMEM, "out of memory");
    s->log = log;
    s->log_ud = log_ud;
    s->dead_letter = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->dl_lock, NULL);
    ifx_cond_init_monotonic(&s->wake); /* waited on with deadlines */
    atomic_store(&s->last_stats_ns, ifx_now_ns());
    if ((rc = ifx_config_copy(&s->cfg, cfg, err)))
        goto fail;
    if ((rc = ifx_detect_resolve_version(&s->cfg.version, &s->cfg.http, NULL, err)))
        goto fail;
    if ((rc = ifx_client_new(s->cfg.version, &s->cfg.http, &s->client, err)))
        goto fail;
    ifx_breaker_init(&s->breaker, s->cfg.circuit_breaker_threshold,
                     s->cfg.circuit_breaker_cool_down_ns);
    s->has_breaker = true;
    /* delivery retries on its own */
    if ((rc = ifxi_engine_probe(s->client, s->log, s->log_ud, "messages wait until it is fixed",
                                "messages will wait for it", err)))
        goto fail;
    if (s->cfg.dead_letter_file) {
        /* It holds message payloads: readable by its owner only, and not inherited by children
         * the host may start. */
        s->dead_letter =
            open(s->cfg.dead_letter_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (s->dead_letter < 0) {
            rc = ifx_err_set(err, IFX_E_IO, "cannot open dead_letter_file %s: %s",
                             s->cfg.dead_letter_file, strerror(errno));
            goto fail;
        }
    }
    if (s->cfg.spool_dir) {
        ifx_spool_options opt = {.max_bytes = s->cfg.spool_max_size};
        if ((rc = ifxi_spool_open(s->cfg.spool_dir, &opt, &s->spool, err)))
            goto fail;
        if (ifxi_spool_note(s->spool))
            slog(s, IFX_LOG_WARN, "spool %s: %s", s->cfg.spool_dir, ifxi_spool_note(s->spool));
        uint64_t recs, bytes;
        ifxi_spool_pending(s->spool, &recs, &bytes);
        if (recs)
            slog(s, IFX_LOG_INFO,
                 "spool %s holds %llu batches (%llu bytes) from before; "
                 "delivering them first",
                 s->cfg.spool_dir, (unsigned long long)recs, (unsigned long long)bytes);
        if (pthread_create(&s->deliverer, NULL, deliver_spool, s) != 0) {
            rc = ifx_err_set(err, IFX_E_NOMEM, "cannot start the spool delivery thread");
            goto fail;
        }
        s->has_deliverer = true;
    }
    if (s->cfg.offset_as == IFX_OFFSET_FIELD && s->cfg.precision != IFX_PRECISION_NS)
        slog(s, IFX_LOG_WARN,
             "offset_as \"field\" with precision \"%s\": messages of one partition with the same "
             "time become one point (the last wins); use precision \"ns\" to keep them apart",
             ifx_precision_name(s->cfg.precision));
    if (s->cfg.offset_as == IFX_OFFSET_TAG &&
        (!s->cfg.include_metadata || !s->cfg.include_partition_tag || !s->cfg.include_topic_tag ||
         !s->cfg.include_stream_tag))
        slog(s, IFX_LOG_WARN,
             "stream, topic or partition is not a tag: messages of different partitions or topics "
             "with the same offset and time become one point (upstream S7); keep them as tags to "
             "keep every message");
    ifxi_engine_log_open(
        s->log, s->log_ud, &s->cfg, "sink", "measurement %s, %s", s->cfg.measurement,
        s->spool ? "spool on" : "no spool (backpressure while the server is down)");
    *out = s;
    return IFX_OK;
fail:
    ifx_sink_close(s);
    return rc;
}

void ifx_sink_request_stop(ifx_sink *s)
{
    /* a write in flight ends now; its lines stay pending */
    ifxi_engine_request_stop(&s->lock, &s->wake, &s->closing, s->client);
}

void ifx_sink_close(ifx_sink *s)
{
    ifx_sink_stats st;
    char line[512];

    if (!s)
        return;
    if (s->client)
        ifx_client_cancel(s->client);
    pthread_mutex_lock(&s->lock);
    s->closing = true;
    pthread_cond_broadcast(&s->wake);
    /* A consume may still be running (the runtime closes after a 5 s stop timeout): its waits
     * end now that closing is set; wait for it to return before freeing what it uses. */
    while (s->active > 0)
        pthread_cond_wait(&s->wake, &s->lock);
    pthread_mutex_unlock(&s->lock);
    if (s->has_deliverer)
        pthread_join(s->deliverer, NULL);
    if (s->client) {
        ifx_sink_get_stats(s, &st);
        ifx_sink_stats_line(&st, line, sizeof line);
        slog(s, IFX_LOG_INFO, "%s", line);
        if (st.pending)
            slog(s, IFX_LOG_WARN,
                 "%llu messages were not written before close and are lost: configure spool_dir "
                 "to keep them",
                 (unsigned long long)st.pending);
        if (st.spool_records)
            slog(s, IFX_LOG_INFO, "%llu batches stay in the spool for the next start",
                 (unsigned long long)st.spool_records);
    }
    /* No consume runs any more: every encoder is back in the pool. */
    while (s->free_encoders) {
        encoder *e = s->free_encoders;
        s->free_encoders = e->next;
        encoder_free(e);
    }
    if (s->spool)
        ifxi_spool_close(s->spool);
    if (s->dead_letter >= 0) {
        fsync(s->dead_letter);
        close(s->dead_letter);
    }
    ifx_client_free(s->client);
    if (s->has_breaker)
        ifx_breaker_destroy(&s->breaker);
    ifx_config_free(&s->cfg);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->dl_lock);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
