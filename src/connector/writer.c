/* ifx — batch delivery with retries, splitting and per-line rejection (see writer.h). */
#include "connector/writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ifx/lp.h"
#include "transport/write_gzip.h"

void ifxi_writer_init(ifx_writer *w, ifx_client *client, ifx_breaker *breaker,
                      const ifx_retry_policy *policy, ifx_precision precision)
{
    memset(w, 0, sizeof *w);
    w->client = client;
    w->breaker = breaker;
    w->policy = *policy;
    if (w->policy.max_attempts == 0)
        w->policy.max_attempts = 1;
    w->precision = precision;
    w->rng = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)w;
    ifx_write_result_init(&w->res);
    ifx_buf_init(&w->body, (size_t)1 << 31);
    ifx_buf_init(&w->refusal, IFX_MAX_ERROR_BODY);
}

void ifxi_writer_free(ifx_writer *w)
{
    ifx_write_result_free(&w->res);
    ifx_buf_free(&w->body);
    ifx_buf_free(&w->refusal);
    free(w->idx);
}

size_t ifxi_writer_split_lines(const char *body, size_t len, ifx_line_span **spans, size_t *cap)
{
    size_t n = 0, pos = 0;
    while (pos < len) {
        size_t l = ifx_lp_line_length(body + pos, len - pos);
        size_t start = pos;
        pos += l + 1;
        while (l && body[start + l - 1] == '\r')
            l--; /* a CRLF file: every server refuses CR, so it is not part of the line */
        bool blank = true;
        for (size_t i = 0; i < l && blank; i++)
            blank = body[start + i] == ' ' || body[start + i] == '\t';
        if (blank)
            continue;
        if (n == *cap) {
            size_t c = *cap ? *cap * 2 : 256;
            ifx_line_span *p = realloc(*spans, c * sizeof *p);
            if (!p)
                break;
            *spans = p;
            *cap = c;
        }
        (*spans)[n].off = start;
        (*spans)[n].len = l;
        n++;
    }
    return n;
}

static bool pause_for(ifx_writer *w, uint64_t ns)
{
    return w->sleep ? w->sleep(w->sleep_ud, ns) : ifx_sleep(NULL, ns);
}

/* The state of one delivery: the batch, the callback and the running report. */
typedef struct job {
    ifx_writer *w;
    const char *body;
    const ifx_line_span *spans;
    ifx_reject_fn on_reject;
    void *ud;
    ifx_write_report *rep;
    uint8_t *state;
    /* Set while one line is sent alone to compare its answer with its batch's (tell_apart). */
    bool probing, probe_refused_alike;
} job;

static void reject(job *j, size_t index, const char *reason)
{
    j->rep->rejected++;
    if (j->state)
        j->state[index] = IFX_LINE_REJECTED;
    if (j->on_reject)
        j->on_reject(j->ud, index, reason);
}

static void mark_written(job *j, const size_t *idx, size_t n)
{
    j->rep->written += n;
    if (j->state)
        for (size_t i = 0; i < n; i++)
            j->state[idx[i]] = IFX_LINE_WRITTEN;
}

/* The request body for lines idx[0..n): the lines joined by '\n'. When they already lie one
 * after the other in the batch, each followed by its '\n', that is a slice of the batch and is
 * sent in place; otherwise they are copied into w->body. */
static ifx_rc request_body(job *j, const size_t *idx, size_t n, const char **data, size_t *len,
                           ifx_err *err)
{
    const ifx_line_span *first = &j->spans[idx[0]], *last = first;
    bool contiguous = true;
    ifx_rc rc;

    for (size_t i = 1; i < n && contiguous; i++) {
        const ifx_line_span *s = &j->spans[idx[i]];
        contiguous = s->off == last->off + last->len + 1 && j->body[s->off - 1] == '\n';
        last = s;
    }
    if (contiguous) {
        *data = j->body + first->off;
        *len = last->off + last->len - first->off;
        return IFX_OK;
    }
    ifx_buf *b = &j->w->body;
    ifx_buf_reset(b);
    for (size_t i = 0; i < n; i++) {
        const ifx_line_span *s = &j->spans[idx[i]];
        if ((rc = ifx_buf_append(b, j->body + s->off, s->len)) ||
            (i + 1 < n && (rc = ifx_buf_putc(b, '\n'))))
            return ifx_err_set(err, rc, "out of memory building a request");
    }
    *data = b->data;
    *len = b->len;
    return IFX_OK;
}

/* One request with retries for transient failures. The lines are idx[0..n) of the batch. */
static ifx_rc send_with_retries(job *j, const size_t *idx, size_t n, ifx_err *err)
{
    ifx_writer *w = j->w;
    const char *data = NULL;
    size_t len = 0;
    ifx_rc rc;

    if ((rc = request_body(j, idx, n, &data, &len, err)))
        return rc;
    for (uint32_t attempt = 1;; attempt++) {
        uint64_t now = ifx_now_ns(), wait = 0;
        if (w->breaker && (rc = ifx_breaker_allow(w->breaker, now, &wait)))
            return ifx_err_set(err, rc, "circuit breaker open; next attempt in %llu ms",
                               (unsigned long long)(wait / 1000000ULL));
        w->requests++;
        w->bytes_sent += len;
        /* the body gzipped ahead only for the request that sends exactly it */
        rc = ifxi_client_write_gzipped(w->client, data, len,
                                       data == w->pre_data && len == w->pre_len ? w->pre_gz : NULL,
                                       w->precision, &w->res, err);
        if (rc == IFX_OK)
            w->refusal_held = false; /* the server takes writes again */
        if (w->breaker) {
            if (ifx_rc_counts_as_failure(rc))
                ifx_breaker_failure(w->breaker, ifx_now_ns());
            else
                ifx_breaker_success(w->breaker);
        }
        if (rc != IFX_E_TRANSIENT || attempt >= w->policy.max_attempts)
            return rc;
        w->retries++;
        if (!pause_for(w, ifx_retry_delay_ns(&w->policy, attempt, w->res.retry_after_ms, &w->rng)))
            return rc;
    }
}

static ifx_rc deliver(job *j, size_t *idx, size_t n, ifx_err *err);

/* Sends the two halves of idx[0..n) separately. */
static ifx_rc halves(job *j, size_t *idx, size_t n, ifx_err *err)
{
    size_t h = n / 2;
    ifx_rc rc = deliver(j, idx, h, err);
    if (rc)
        return rc;
    return deliver(j, idx + h, n - h, err);
}

/* What the line numbers of an answer said about the request just sent. */
typedef struct named {
    size_t placed; /* lines of the request rejected by their number */
    size_t stray;  /* numbers outside the request, or repeated: refusals that cannot be placed */
} named;

/* Rejects the lines of idx[0..*n) named in w->res and compacts idx to the others (*n becomes
 * how many remain). Line numbers are 1-based positions in the request just sent; a number is
 * never trusted beyond that, so a wrong one cannot reject or pass a line it does not fit. */
static named reject_named(job *j, size_t *idx, size_t *n)
{
    ifx_write_result *r = &j->w->res;
    bool *hit = calloc(*n ? *n : 1, sizeof *hit);
    named nm = {0, 0};
    size_t k = 0;
    if (!hit)
        return nm; /* nothing placed: the caller halves, which needs no memory per line */
    for (size_t i = 0; i < r->nlines; i++) {
        size_t line = r->lines[i].line;
        if (line >= 1 && line <= *n && !hit[line - 1]) {
            hit[line - 1] = true;
            reject(j, idx[line - 1], r->lines[i].message);
            nm.placed++;
        } else {
            nm.stray++;
        }
    }
    for (size_t i = 0; i < *n; i++)
        if (!hit[i])
            idx[k++] = idx[i];
    free(hit);
    *n = k;
    return nm;
}

/* The reason to give a line refused alone: the server's own words for it when the answer named
 * a line (even by a wrong number: only one line was sent), else the summary of the answer. */
static const char *single_reason(const ifx_writer *w, const ifx_err *err)
{
    return w->res.nlines ? w->res.lines[0].message : err->msg;
}

/* Whether the answer in w->res is the refusal saved in w->refusal: the same status and the
 * same body, byte for byte (a refusal of the request does not depend on the lines sent). */
static bool refused_alike(const ifx_writer *w)
{
    return w->res.status == w->refusal_status && w->res.body.len == w->refusal.len &&
           (w->refusal.len == 0 || memcmp(w->res.body.data, w->refusal.data, w->refusal.len) == 0);
}

/* The lines stay pending: the server refuses the request itself. */
static ifx_rc hold(const ifx_writer *w, ifx_err *err)
{
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", err->msg);
    ifx_err_set(err, IFX_E_REJECTED,
                "%s (every line is refused alike, so the request is refused, not the data: no "
                "line is rejected)",
                msg);
    err->http_status = w->res.status;
    return IFX_E_REJECTED;
}

/* A 400 or 422 that places no line, for n > 1 lines: is the request refused (a deleted or
 * unknown database, a limit, a malformed header; no line is at fault and the lines must stay
 * pending until an operator acts) or some line the server did not name (found by halving)?
 * The first and the last line are sent alone. If both get the very answer the batch got, the
 * request is refused. Otherwise a line alone was answered differently, which only the data
 * explains: a line refused alike is rejected, and the rest goes on. Two probes, not one: a
 * batch whose only bad line is sent alone first gets the batch's answer too. */
static ifx_rc tell_apart(job *j, size_t *idx, size_t n, ifx_err *err)
{
    ifx_writer *w = j->w;
    size_t alone[2] = {0, n - 1}, rejected_before = j->rep->rejected;
    char reason[sizeof err->msg];
    bool alike[2] = {false, false};
    ifx_rc rc = IFX_OK;

    w->refusal_status = w->res.status;
    ifx_buf_reset(&w->refusal);
    if (w->res.body.len && ifx_buf_append(&w->refusal, w->res.body.data, w->res.body.len))
        w->refusal_status = 0; /* cannot compare: every probe then differs, so halving runs */
    w->refusal_held = false;
    snprintf(reason, sizeof reason, "%s", single_reason(w, err));
    for (size_t k = 0; k < 2; k++) {
        j->probing = true;
        j->probe_refused_alike = false;
        rc = deliver(j, idx + alone[k], 1, err);
        j->probing = false;
        alike[k] = j->probe_refused_alike;
        if (!alike[k])
            break;
    }
    if (alike[0] && alike[1]) {
        w->refusal_held = true;
        return hold(w, err);
    }
    if (rc)
        return rc; /* a probe failed for another reason (transient, auth): all stay pending */
    if (!alike[0]) {
        /* The first line settled alone. Written: the trouble is in the rest, so halve it;
         * rejected: that may have been all of it, so send the rest whole. */
        if (n - 1 == 1 || j->rep->rejected > rejected_before)
            return deliver(j, idx + 1, n - 1, err);
        return halves(j, idx + 1, n - 1, err);
    }
    reject(j, idx[0], reason);
    return deliver(j, idx + 1, n - 2, err);
}

static ifx_rc deliver(job *j, size_t *idx, size_t n, ifx_err *err)
{
    ifx_writer *w = j->w;
    ifx_rc rc;

    while (n > 0) {
        rc = send_with_retries(j, idx, n, err);
        if (rc == IFX_OK) {
            mark_written(j, idx, n);
            return IFX_OK;
        }
        if (rc == IFX_E_TOO_LARGE) {
            if (n == 1) {
                reject(j, idx[0],
                       "the line alone is larger than the server accepts in one "
                       "request (HTTP 413)");
                return IFX_OK;
            }
            return halves(j, idx, n, err);
        }
        if (rc == IFX_E_PARTIAL) {
            size_t unnamed = w->res.unnamed_rejects;
            bool cut = w->res.truncated;
            char reason[sizeof err->msg];
            snprintf(reason, sizeof reason, "%s", n == 1 ? single_reason(w, err) : err->msg);
            named nm = reject_named(j, idx, &n);
            if (cut && nm.placed > 0)
                /* Only the head of the answer was read: lines it did not name may have been
                 * refused too. Send them again (a line stored twice is one point). */
                continue;
            /* Refusals this answer does not place: only counted (1.x, 2.x storage drops),
             * numbered outside the request, or none at all in an answer that says some line
             * was refused (dropped=0 and no name). A line is counted written only when the
             * answer accounts for every refusal it reports. */
            size_t unplaced = unnamed + nm.stray;
            if (unplaced == 0 && (nm.placed == 0 || cut))
                unplaced = 1;
            if (n == 0)
                return IFX_OK;
            if (unplaced == 0) {
                mark_written(j, idx, n); /* the server stored every line it did not name */
                return IFX_OK;
            }
            if (n == 1 || (nm.stray == 0 && unplaced >= n)) {
                for (size_t i = 0; i < n; i++)
                    reject(j, idx[i], reason);
                return IFX_OK;
            }
            /* Some of these were stored and some dropped, and the server did not say which:
             * halve until each answer is clean or names one line. */
            return halves(j, idx, n, err);
        }
        if (rc == IFX_E_REJECTED && w->res.nlines > 0) {
            /* Nothing was stored; the named lines are why. Send the rest again. */
            if (reject_named(j, idx, &n).placed > 0)
                continue;
            /* Every number lies outside the request: as if the answer named no line. */
        }
        if (rc == IFX_E_REJECTED && (w->res.status == 400 || w->res.status == 422)) {
            /* The request was refused and no line of it named. */
            if (w->refusal_held && refused_alike(w))
                return hold(w, err); /* as before: no need to probe again */
            if (j->probing && refused_alike(w)) {
                j->probe_refused_alike = true;
                return rc; /* the line stays pending; tell_apart decides */
            }
            if (n == 1) {
                reject(j, idx[0], single_reason(w, err));
                return IFX_OK;
            }
            return tell_apart(j, idx, n, err);
        }
        return rc; /* transient, auth, breaker open, or a refusal no line explains */
    }
    return IFX_OK;
}

ifx_rc ifxi_writer_write(ifx_writer *w, const char *body, const ifx_line_span *spans, size_t n,
                         ifx_reject_fn on_reject, void *ud, ifx_write_report *rep,
                         uint8_t *line_state, ifx_err *err)
{
    job j = {w, body, spans, on_reject, ud, rep, line_state, false, false};
    ifx_err local;
    size_t pending = 0;

    if (!err)
        err = &local; /* the server's message is needed: it becomes a rejected line's reason */
    rep->written = rep->rejected = 0;
    if (n > w->cap_idx) {
        /* kept between calls: a warm writer allocates nothing per batch */
        size_t *p = realloc(w->idx, n * sizeof *p);
        if (!p)
            return ifx_err_set(err, IFX_E_NOMEM, "out of memory");
        w->idx = p;
        w->cap_idx = n;
    }
    for (size_t i = 0; i < n; i++)
        if (!line_state || line_state[i] == IFX_LINE_PENDING)
            w->idx[pending++] = i;
    if (pending == 0)
        return IFX_OK;
    return deliver(&j, w->idx, pending, err);
}

static size_t count_pending(const uint8_t *state, size_t n)
{
    size_t pending = 0;
    for (size_t i = 0; i < n; i++)
        pending += state[i] == IFX_LINE_PENDING;
    return pending;
}

size_t ifxi_writer_settle(ifx_writer *w, const char *body, const ifx_line_span *spans, size_t n,
                          ifx_reject_fn on_reject, void *ud, uint8_t *line_state,
                          ifx_round_fn on_round, void *round_ud)
{
    const uint64_t round_floor_ns = 50000000ULL;
    ifx_write_report rep;
    ifx_err err;
    uint32_t round = 0;

    while (count_pending(line_state, n) > 0) {
        /* The first time every line is sent, later only those still pending. */
        ifx_err_clear(&err);
        ifx_rc rc = ifxi_writer_write(w, body, spans, n, on_reject, ud, &rep, line_state, &err);
        bool go_on = on_round(round_ud, rc, &err, &rep);
        if (rc == IFX_OK)
            continue;
        if (!go_on)
            break;
        uint64_t wait = ifx_backoff_ns(&w->policy, ++round, &w->rng);
        if (!pause_for(w, wait > round_floor_ns ? wait : round_floor_ns))
            break;
    }
    return count_pending(line_state, n);
}
