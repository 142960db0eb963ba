/* ifx — the sink's spool record: a chunk of lines and where each came from, as one record of
 * the spool (connector/spool.c stores records whole and checksummed; this is what is inside).
 *
 * Layout, little-endian: u32 count, then per line: u32 len + line, u32 stream len + stream,
 * u32 topic len + topic, u32 partition, u64 offset, u64 id hi, u64 id lo. Records written by
 * earlier versions have this very layout; it must not change without a version mark.
 */
#ifndef IFX_CONNECTOR_SPOOL_RECORD_H
#define IFX_CONNECTOR_SPOOL_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ifx/buf.h"
#include "ifx/message.h" /* ifx_u128 */
#include "connector/writer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where a line came from, for its dead letter. Spans point into the message or the record. */
typedef struct ifx_line_origin {
    const char *stream;
    size_t stream_len;
    const char *topic;
    size_t topic_len;
    uint32_t partition;
    uint64_t offset;
    ifx_u128 id;
    const uint8_t *payload; /* NULL when only the line is known (spooled records) */
    size_t payload_len;
} ifx_line_origin;

/* Empties rec and starts a record of n lines; add exactly n with ifxi_spool_record_add. */
ifx_rc ifxi_spool_record_begin(ifx_buf *rec, uint32_t n);

/* Appends one line (without its '\n') and its origin (the payload is not kept). */
ifx_rc ifxi_spool_record_add(ifx_buf *rec, const char *line, size_t len, const ifx_line_origin *o);

/* The number of lines the record at rec[0..len) says it holds; false when it is too short. */
bool ifxi_spool_record_count(const char *rec, size_t len, uint32_t *n);

/* Decodes the record's n lines (n from ifxi_spool_record_count) into spans (offsets into rec)
 * and origins (pointing into rec; payload NULL). Every length is checked against the record's
 * end: false when a field runs past it. Bytes after the last line are not looked at. */
bool ifxi_spool_record_decode(const char *rec, size_t len, uint32_t n, ifx_line_span *spans,
                              ifx_line_origin *origins);

#ifdef __cplusplus
}
#endif
#endif
