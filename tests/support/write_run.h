/* Test support: writing a batch of line protocol through ifx's writer and collecting what it
 * rejected, as the writer tests against the stand-in, the real 1.x and the real 2.7 all do. */
#ifndef IFX_TEST_WRITE_RUN_H
#define IFX_TEST_WRITE_RUN_H

#include <stddef.h>

#include "connector/writer.h"
#include "ifx/client.h"
#include "ifx/config.h"

/* The lines a write rejected: the first 16 indices and reasons, and how many there were. */
typedef struct rejects {
    size_t n;
    size_t index[16];
    char reason[16][512];
} rejects;

/* An ifx_reject_fn that records into a rejects (ud). */
void rejects_record(void *ud, size_t index, const char *reason);

/* Writes text (lines joined by '\n') through a writer on client c with cfg's retry settings and
 * breaker b (may be NULL), in precision p. rj is emptied first. stats, when not NULL, receives
 * the writer's counters (requests, retries, bytes_sent). */
ifx_rc write_run(ifx_client *c, const ifx_config *cfg, ifx_breaker *b, ifx_precision p,
                 const char *text, ifx_write_report *rep, rejects *rj, ifx_writer *stats,
                 ifx_err *e);

#endif
