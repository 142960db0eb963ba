/* ifx (internal) — the plugins' side of the postcard wire format of the Iggy connectors runtime:
 * decoding what the runtime hands a sink, and encoding what a source hands back. The runtime's side
 * (encoding sink batches, decoding ProducedMessages and header maps), which only test hosts,
 * benchmarks and fuzzers need, is tests/support/postcard_host.c, built on the reader below.
 *
 * Decoding never allocates and never reads past the input; strings and byte vectors in decoded
 * values point into the input (borrowed for as long as the input lives). Every malformed input is
 * IFX_E_INVALID with the byte offset and what was expected, in the form "<where>: <field>:
 * <problem> at byte N" (for example "RawMessage 3: offset: truncated varint at byte 57"; messages
 * and header entries are counted from 0, offsets from the start of the buffer given). Like postcard
 * itself, decoders accept over-long varints within the maximum length (5 bytes for u32, 10 for u64
 * and lengths, 19 for u128, the last byte holding only the top bits) and ignore trailing bytes
 * after a value. A declared count that the remaining bytes cannot hold, even with the smallest
 * encoding of each element, is refused before anything is decoded.
 *
 * Thread safety: all functions are reentrant.
 */
#ifndef IFX_IGGY_POSTCARD_H
#define IFX_IGGY_POSTCARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ifx/buf.h"
#include "ifx/error.h"
#include "ifx/message.h"

/* HeaderKind, by postcard variant index (not the runtime's as_code()). */
typedef enum ifx_header_kind {
    IFX_HDR_RAW = 0,
    IFX_HDR_STRING = 1,
    IFX_HDR_BOOL = 2,
    IFX_HDR_INT8 = 3,
    IFX_HDR_INT16 = 4,
    IFX_HDR_INT32 = 5,
    IFX_HDR_INT64 = 6,
    IFX_HDR_INT128 = 7,
    IFX_HDR_UINT8 = 8,
    IFX_HDR_UINT16 = 9,
    IFX_HDR_UINT32 = 10,
    IFX_HDR_UINT64 = 11,
    IFX_HDR_UINT128 = 12,
    IFX_HDR_FLOAT32 = 13,
    IFX_HDR_FLOAT64 = 14
} ifx_header_kind;

#define IFX_PC_SCHEMA_COUNT      6
#define IFX_PC_HEADER_KIND_COUNT 15

/* The smallest encodings of a ProducedMessage (five None tags and an empty payload) and of a
 * header entry (two kinds and two empty texts). They bound a declared count by the bytes that
 * follow, so a forged count fails before any work. */
#define IFX_PC_PRODUCED_MESSAGE_MIN 6
#define IFX_PC_HEADER_ENTRY_MIN     4

typedef struct ifx_topic_meta {
    const char *stream;
    size_t stream_len;
    const char *topic;
    size_t topic_len;
} ifx_topic_meta;

typedef struct ifx_messages_meta {
    uint32_t partition_id;
    uint64_t current_offset;
    ifx_schema schema;
} ifx_messages_meta;

/* One RawMessage. headers is the nested postcard map, still encoded (empty when none). */
typedef struct ifx_raw_message {
    ifx_u128 id;
    uint64_t offset;
    uint64_t checksum;
    uint64_t timestamp;        /* µs since the epoch, server append time */
    uint64_t origin_timestamp; /* µs since the epoch, producer time */
    const uint8_t *headers;
    size_t headers_len;
    const uint8_t *payload;
    size_t payload_len;
} ifx_raw_message;

ifx_rc ifxi_pc_decode_topic_meta(const uint8_t *p, size_t len, ifx_topic_meta *out, ifx_err *err);
ifx_rc ifxi_pc_decode_messages_meta(const uint8_t *p, size_t len, ifx_messages_meta *out,
                                    ifx_err *err);

/* Iterates the messages of a RawMessages buffer without allocating. */
typedef struct ifx_pc_messages {
    const uint8_t *start, *p, *end;
    ifx_schema schema;
    uint64_t count;     /* as declared by the buffer */
    uint64_t remaining; /* not yet returned */
} ifx_pc_messages;

/* Reads the schema and the message count; borrows p. An unknown schema index is IFX_E_INVALID. */
ifx_rc ifxi_pc_messages_begin(ifx_pc_messages *it, const uint8_t *p, size_t len, ifx_err *err);
/* Decodes the next message into *out: IFX_OK, or IFX_E_INVALID (offset relative to the whole
 * buffer). *done is set true, and nothing decoded, when every message has been returned. After an
 * error the iterator stays on the bad message (and fails again if called). */
ifx_rc ifxi_pc_messages_next(ifx_pc_messages *it, ifx_raw_message *out, bool *done, ifx_err *err);

/* What can still be read of the message an iterator is stuck on after ifxi_pc_messages_next
 * failed: its index, where its bytes start, and its id and offset when they decode (they are its
 * first fields; a message broken in a later field still has them). A broken message hides where
 * the ones after it start (postcard has no per-message length), so rest runs to the end of the
 * buffer. Borrowed from the iterator's input; never fails. */
typedef struct ifx_pc_stuck {
    uint64_t index; /* counted from 0 */
    size_t start;   /* offset of its first byte in the buffer */
    const uint8_t *rest;
    size_t rest_len; /* from its first byte to the end of the buffer */
    bool has_id;
    ifx_u128 id;
    bool has_offset;
    uint64_t offset;
} ifx_pc_stuck;

void ifxi_pc_messages_stuck(const ifx_pc_messages *it, ifx_pc_stuck *out);

/* ---- encoding ---------------------------------------------------------------------------- */

/* Encoders write canonical (shortest) varints, as the runtime does. On any failure (IFX_E_FULL,
 * IFX_E_NOMEM, IFX_E_USAGE for an unknown schema or header kind) out is left unchanged. */

ifx_rc ifxi_pc_put_varint(ifx_buf *out, uint64_t v);
ifx_rc ifxi_pc_put_u128(ifx_buf *out, ifx_u128 v);
ifx_rc ifxi_pc_put_bytes(ifx_buf *out, const void *p, size_t len); /* varint(len) + bytes */

/* A header entry to encode: raw key and value bytes (base64-encoded on the wire). */
typedef struct ifx_header_in {
    ifx_header_kind key_kind;
    const void *key;
    size_t key_len;
    ifx_header_kind value_kind;
    const void *value;
    size_t value_len;
} ifx_header_in;

/* Appends a header map: varint(count) + entries, in the order given. */
ifx_rc ifxi_pc_put_headers(ifx_buf *out, const ifx_header_in *h, size_t n);

/* A message a source produces. has_* false means None. */
typedef struct ifx_produced_message {
    bool has_id;
    ifx_u128 id;
    bool has_timestamp;
    uint64_t timestamp;
    bool has_origin_timestamp;
    uint64_t origin_timestamp;
    const ifx_header_in *headers; /* NULL: None */
    size_t nheaders;
    const void *payload; /* non-empty: the runtime NACKs the whole batch otherwise */
    size_t payload_len;
} ifx_produced_message;

/* Appends ProducedMessages{schema, messages, state}; state NULL means None. checksum is always
 * None (the runtime ignores it). An empty payload is IFX_E_USAGE. */
ifx_rc ifxi_pc_encode_produced(ifx_buf *out, ifx_schema schema, const ifx_produced_message *msgs,
                               size_t n, const void *state, size_t state_len);

/* ---- the reader, shared with the runtime's side (tests/support/postcard_host.c) ---------------
 */

typedef struct ifx_pc_reader {
    const uint8_t *start; /* offsets in messages count from here */
    const uint8_t *p, *end;
    ifx_err *err;
} ifx_pc_reader;

/* The limits of an unsigned varint: at most max bytes, the last of which may hold at most last
 * (the bits left over at the top of the type). */
typedef struct ifx_pc_varint_limit {
    unsigned max;
    unsigned last;
    const char *type;
} ifx_pc_varint_limit;

extern const ifx_pc_varint_limit ifxi_pc_u32_limit;
extern const ifx_pc_varint_limit ifxi_pc_u64_limit;

static inline size_t ifxi_pc_offset_of(const ifx_pc_reader *r, const uint8_t *q)
{
    return (size_t)(q - r->start);
}

static inline const char *ifxi_pc_plural(uint64_t n)
{
    return n == 1 ? "" : "s";
}

/* The head of a batch of messages (RawMessages or ProducedMessages): its schema and message
 * count, and where its messages start. */
typedef struct ifx_pc_batch_head {
    const uint8_t *start, *first, *end;
    ifx_schema schema;
    uint64_t count;
} ifx_pc_batch_head;

/* Reads the head of a batch in p[0..len) (borrowed), each message taking at least min_size
 * bytes. On failure the error is prefixed with what, count is 0 and first is the end. */
ifx_rc ifxi_pc_batch_begin(const char *what, size_t min_size, const uint8_t *p, size_t len,
                           ifx_pc_batch_head *out, ifx_err *err);

/* Each reads one value at r->p and moves past it; on failure r->p stays and r->err says
 * "<field>: <problem> at byte N". */
ifx_rc ifxi_pc_get_varint(ifx_pc_reader *r, const char *field, const ifx_pc_varint_limit *lim,
                          uint64_t *out);
ifx_rc ifxi_pc_get_u128(ifx_pc_reader *r, const char *field, ifx_u128 *out);
/* varint(len) + bytes, borrowed from the input. */
ifx_rc ifxi_pc_get_bytes(ifx_pc_reader *r, const char *field, const uint8_t **p, size_t *len);
/* An enum with unit variants: a u32 varint index below count. */
ifx_rc ifxi_pc_get_index(ifx_pc_reader *r, const char *field, const char *type, unsigned count,
                         unsigned *out);
ifx_rc ifxi_pc_get_schema(ifx_pc_reader *r, ifx_schema *out);
ifx_rc ifxi_pc_get_option(ifx_pc_reader *r, const char *field, bool *some);
/* A sequence or map count, refused when the rest cannot hold that many elements of at least
 * min_size bytes each. */
ifx_rc ifxi_pc_get_count(ifx_pc_reader *r, const char *field, const char *one, const char *many,
                         size_t min_size, uint64_t *out);

#endif
