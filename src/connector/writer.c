/* ifx — batch delivery with retries, splitting and per-line rejection (see ifx/writer.h). */
#include "ifx/writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ifx/lp.h"

void ifx_writer_init(ifx_writer *w, ifx_client *client, ifx_breaker *breaker, const ifx_config *cfg,
                     ifx_precision precision)
{
    memset(w, 0, sizeof *w);
    w->client = client;
    w->breaker = breaker;
    w->policy.max_attempts = cfg->max_retries ? cfg->max_retries : 1;
    w->policy.base_ns = cfg->retry_delay_ns;
    w->policy.cap_ns = cfg->retry_max_delay_ns;
    w->policy.retry_after_max_ns = cfg->retry_after_max_ns;
    w->precision = precision;
    w->rng = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)w;
    ifx_write_result_init(&w->res);
    ifx_buf_init(&w->body, (size_t)1 << 31);
}

void ifx_writer_free(ifx_writer *w)
{
    ifx_write_result_free(&w->res);
    ifx_buf_free(&w->body);
}

size_t ifx_split_lines(const char *body, size_t len, ifx_line_span **spans, size_t *cap)
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

/* One request with retries for transient failures. The lines are idx[0..n) of the batch. */
static ifx_rc send_with_retries(job *j, const size_t *idx, size_t n, ifx_err *err)
{
    ifx_writer *w = j->w;
    ifx_buf *b = &w->body;
    ifx_rc rc;

    ifx_buf_reset(b);
    for (size_t i = 0; i < n; i++) {
        const ifx_line_span *s = &j->spans[idx[i]];
        if ((rc = ifx_buf_append(b, j->body + s->off, s->len)) ||
            (i + 1 < n && (rc = ifx_buf_putc(b, '\n'))))
            return ifx_err_set(err, rc, "out of memory building a request");
    }
    for (uint32_t attempt = 1;; attempt++) {
        uint64_t now = ifx_now_ns(), wait = 0;
        if (w->breaker && (rc = ifx_breaker_allow(w->breaker, now, &wait)))
            return ifx_err_set(err, rc, "circuit breaker open; next attempt in %llu ms",
                               (unsigned long long)(wait / 1000000ULL));
        w->requests++;
        w->bytes_sent += b->len;
        rc = ifx_client_write(w->client, b->data, b->len, w->precision, &w->res, err);
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

/* Rejects the lines of idx named in w->res and compacts idx to the others; returns how many
 * remain. Line numbers are 1-based positions in the request just sent. */
static size_t reject_named(job *j, size_t *idx, size_t n)
{
    ifx_write_result *r = &j->w->res;
    bool *named = calloc(n ? n : 1, sizeof *named);
    size_t k = 0;
    if (!named)
        return n;
    for (size_t i = 0; i < r->nlines; i++) {
        size_t line = r->lines[i].line;
        if (line >= 1 && line <= n && !named[line - 1]) {
            named[line - 1] = true;
            reject(j, idx[line - 1], r->lines[i].message);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!named[i])
            idx[k++] = idx[i];
    free(named);
    return k;
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
            size_t unnamed = w->res.unnamed_rejects, before = n;
            bool cut = w->res.truncated;
            char reason[sizeof err->msg];
            snprintf(reason, sizeof reason, "%s", err ? err->msg : "partial write");
            n = reject_named(j, idx, n);
            if (cut && n < before)
                /* Only the head of the answer was read: lines it did not name may have been
                 * refused too. Send them again (a line stored twice is one point). */
                continue;
            if (unnamed == 0) {
                mark_written(j, idx, n); /* the server stored every line it did not name */
                return IFX_OK;
            }
            if (n == 0)
                return IFX_OK;
            if (unnamed >= n || n == 1) {
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
            n = reject_named(j, idx, n);
            continue;
        }
        if (rc == IFX_E_REJECTED && (w->res.status == 400 || w->res.status == 422)) {
            /* The content was refused without a line number: find the line by halving. */
            if (n == 1) {
                reject(j, idx[0], err ? err->msg : "rejected");
                return IFX_OK;
            }
            return halves(j, idx, n, err);
        }
        return rc; /* transient, auth, breaker open, or a refusal no line explains */
    }
    return IFX_OK;
}

ifx_rc ifx_writer_write(ifx_writer *w, const char *body, const ifx_line_span *spans, size_t n,
                        ifx_reject_fn on_reject, void *ud, ifx_write_report *rep,
                        uint8_t *line_state, ifx_err *err)
{
    job j = {w, body, spans, on_reject, ud, rep, line_state};
    size_t *idx;
    ifx_rc rc;

    rep->written = rep->rejected = 0;
    if (n == 0)
        return IFX_OK;
    idx = malloc(n * sizeof *idx);
    if (!idx)
        return ifx_err_set(err, IFX_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    rc = deliver(&j, idx, n, err);
    free(idx);
    return rc;
}
