/* ifx — the sink engine: Iggy messages into InfluxDB, with the delivery contract below. Hosts
 * (the Iggy plugin, `ifx sink`) decode their input into ifx_sink_message values and call
 * ifx_sink_consume.
 *
 * Every message ends as exactly one of:
 *  - written: stored by the server;
 *  - rejected: refused by the encoder (invalid JSON, non-UTF-8 text, a TAB in a tag, a value over
 *    64 KiB, ...) or by the server for that line; it goes to dead_letter_file (JSONL, with its
 *    coordinates, the reason, and the payload or line) or to a WARN log line, and its neighbours
 *    carry on. A message the consume cannot take (encode, or hold for delivery) for want of
 *    memory is rejected too, with the reason "out of memory: ..." (an ERROR log line names it
 *    when even its dead-letter record cannot be built), and consume returns IFX_E_NOMEM; one
 *    that delivery has taken waits instead, as for a server outage (docs/delivery.md);
 *  - pending: not yet written because the server is unavailable. Without spool_dir, consume keeps
 *    retrying (backpressure: it returns only when the batch is settled or the sink closes); with
 *    spool_dir, the batch is appended durably to the spool and delivered in order by a background
 *    thread, also after a restart.
 * Counters add up: received = written + rejected + pending (+ spooled batches not yet delivered).
 *
 * Thread safety: ifx_sink_consume may run concurrently on one sink; ifx_sink_close may be called
 * while a consume runs (it interrupts waits; the consume then returns IFX_E_BREAKER_OPEN or the
 * last failure, with its undelivered messages counted as pending).
 */
#ifndef IFX_SINK_H
#define IFX_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ifx/export.h"
#include "ifx/client.h"
#include "ifx/config.h"
#include "ifx/error.h"
#include "ifx/log.h"
#include "ifx/message.h"
#include "ifx/resilience.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A message as the sink sees it. Everything is borrowed for the duration of the call. */
typedef struct ifx_sink_message {
    const char *stream;
    size_t stream_len;
    const char *topic;
    size_t topic_len;
    uint32_t partition;
    uint64_t offset;
    ifx_u128 id;
    uint64_t checksum;
    uint64_t timestamp_us;        /* Iggy append time */
    uint64_t origin_timestamp_us; /* producer time */
    const uint8_t *payload;
    size_t payload_len;
} ifx_sink_message;

typedef struct ifx_sink_stats {
    uint64_t received;      /* messages given to consume */
    uint64_t written;       /* stored by the server */
    uint64_t rejected;      /* refused (dead-lettered) */
    uint64_t pending;       /* not written yet (in a blocked consume, or left at close) */
    uint64_t spooled;       /* messages appended to the spool */
    uint64_t spool_records; /* spool records not yet delivered */
    uint64_t retried;       /* HTTP retries */
    uint64_t requests;      /* HTTP write requests */
    uint64_t bytes_sent;    /* line-protocol bytes sent (before gzip) */
    ifx_breaker_state breaker;
    ifx_latency write_latency; /* write requests, every attempt */
} ifx_sink_stats;

typedef struct ifx_sink ifx_sink;

/* Opens a sink for cfg (role sink): resolves version "auto", probes the server's health with
 * retries (an unreachable server is logged and retried later, not fatal: the sink starts in
 * backpressure; wrong credentials are fatal), opens the dead-letter file and the spool, and
 * starts the spool's delivery thread. Copies what it needs from cfg. log may be NULL. */
IFX_EXTERN ifx_rc ifx_sink_open(const ifx_config *cfg, ifx_log_fn log, void *log_ud, ifx_sink **out,
                                ifx_err *err);

/* Encodes and delivers n messages (see the top of this file). IFX_OK when every message is
 * written, rejected, or safely spooled. */
IFX_EXTERN ifx_rc ifx_sink_consume(ifx_sink *s, const ifx_sink_message *msgs, size_t n,
                                   ifx_err *err);

/* A message a host was given but cannot decode (a broken postcard frame, or batch metadata that
 * does not decode), with whatever is known of it. Borrowed for the duration of the call. */
typedef struct ifx_sink_undecodable {
    const char *reason; /* why it cannot be decoded (required) */
    const char *stream; /* NULL: unknown */
    size_t stream_len;
    const char *topic; /* NULL: unknown */
    size_t topic_len;
    bool has_partition;
    uint32_t partition;
    bool has_offset;
    uint64_t offset;
    bool has_id;
    ifx_u128 id;
    bool has_index;
    uint64_t index;         /* its position in the batch the host received, from 0 */
    const uint8_t *payload; /* its payload, when its own frame decoded; else NULL */
    size_t payload_len;
    const uint8_t *raw; /* the undecodable bytes as received; NULL when not kept */
    size_t raw_len;
} ifx_sink_undecodable;

/* Settles n messages that cannot be decoded as rejected: each counts as received and rejected,
 * and goes to dead_letter_file as one JSON line ({"time", "undecodable":true, "stream", "topic",
 * "partition", "offset", "id", "index" (null when unknown), "reason", and "payload_len" with
 * "payload_base64" or "raw_len" with "raw_base64" when given; at most 1 MiB of bytes is kept,
 * "..._truncated":true then says so}), or to a WARN line when there is none. Thread-safe like
 * ifx_sink_consume. IFX_E_USAGE when the sink is closed (nothing counted). */
IFX_EXTERN ifx_rc ifx_sink_reject_undecodable(ifx_sink *s, const ifx_sink_undecodable *u, size_t n,
                                              ifx_err *err);

IFX_EXTERN void ifx_sink_get_stats(ifx_sink *s, ifx_sink_stats *out);

/* Formats the counters as one log line. */
IFX_EXTERN void ifx_sink_stats_line(const ifx_sink_stats *st, char *out, size_t cap);

/* Asks the sink to stop without waiting: blocked consumes and the spool thread wake up and
 * return soon. For hosts that must release their own references before ifx_sink_close. */
IFX_EXTERN void ifx_sink_request_stop(ifx_sink *s);

/* Stops the sink: interrupts waits, joins the delivery thread and the sender threads, logs the
 * counters and what is left pending, frees everything. NULL is ignored. */
IFX_EXTERN void ifx_sink_close(ifx_sink *s);

#ifdef __cplusplus
}
#endif
#endif
