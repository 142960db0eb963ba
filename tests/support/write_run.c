/* Test support: a batch through ifx's writer (see write_run.h). */
#include "write_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connector/engine.h"

void rejects_record(void *ud, size_t index, const char *reason)
{
    rejects *r = ud;
    if (r->n < 16) {
        r->index[r->n] = index;
        snprintf(r->reason[r->n], sizeof r->reason[0], "%s", reason);
    }
    r->n++;
}

ifx_rc write_run(ifx_client *c, const ifx_config *cfg, ifx_breaker *b, ifx_precision p,
                 const char *text, ifx_write_report *rep, rejects *rj, ifx_writer *stats,
                 ifx_err *e)
{
    ifx_writer w;
    ifx_line_span *spans = NULL;
    size_t cap = 0, n = ifxi_writer_split_lines(text, strlen(text), &spans, &cap);
    memset(rj, 0, sizeof *rj);
    ifx_retry_policy retry = ifxi_engine_retry_policy(cfg);
    ifxi_writer_init(&w, c, b, &retry, p);
    ifx_rc rc = ifxi_writer_write(&w, text, spans, n, rejects_record, rj, rep, NULL, e);
    if (stats) {
        stats->requests = w.requests;
        stats->retries = w.retries;
        stats->bytes_sent = w.bytes_sent;
    }
    ifxi_writer_free(&w);
    free(spans);
    return rc;
}
