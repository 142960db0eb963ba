/* ifx — the postcard wire format of the Iggy connectors runtime (../shared/spec/iggy-plugin-abi.md
 * §7): decoding what the runtime hands a sink, encoding what a source hands back, and encoding
 * sink batches (for test hosts and benchmarks that play the runtime).
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
#ifndef IFX_POSTCARD_H
#define IFX_POSTCARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ifx/buf.h"
#include "ifx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Schema (§7.2), by postcard variant index. */
typedef enum ifx_schema {
    IFX_SCHEMA_JSON = 0,
    IFX_SCHEMA_RAW = 1,
    IFX_SCHEMA_TEXT = 2,
    IFX_SCHEMA_PROTO = 3,
    IFX_SCHEMA_FLATBUFFER = 4,
    IFX_SCHEMA_AVRO = 5
} ifx_schema;

/* "json", "raw", "text", "proto", "flatbuffer", "avro", or "unknown". */
const char *ifx_schema_name(ifx_schema s);

/* HeaderKind (§7.2), by postcard variant index (not as_code()). */
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

/* An unsigned 128-bit value as two halves (Iggy message ids). */
typedef struct ifx_u128 {
    uint64_t hi, lo;
} ifx_u128;

/* Writes v in decimal into out (at least 40 bytes), NUL-terminated; returns the length. */
size_t ifx_u128_format(ifx_u128 v, char *out);

/* Reads the decimal digits s[0..len) (no sign, no spaces; leading zeros allowed) as a u128, the
 * inverse of ifx_u128_format. IFX_E_INVALID for anything else, or above 2^128-1. */
ifx_rc ifx_u128_parse(const char *s, size_t len, ifx_u128 *out);

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

/* One RawMessage (§7.3). headers is the nested postcard map, still encoded (empty when none). */
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

ifx_rc ifx_pc_decode_topic_meta(const uint8_t *p, size_t len, ifx_topic_meta *out, ifx_err *err);
ifx_rc ifx_pc_decode_messages_meta(const uint8_t *p, size_t len, ifx_messages_meta *out,
                                   ifx_err *err);

/* Iterates the messages of a RawMessages buffer without allocating. */
typedef struct ifx_pc_messages {
    const uint8_t *start, *p, *end;
    ifx_schema schema;
    uint64_t count;     /* as declared by the buffer */
    uint64_t remaining; /* not yet returned */
} ifx_pc_messages;

/* Reads the schema and the message count; borrows p. An unknown schema index is IFX_E_INVALID. */
ifx_rc ifx_pc_messages_begin(ifx_pc_messages *it, const uint8_t *p, size_t len, ifx_err *err);
/* Decodes the next message into *out: IFX_OK, or IFX_E_INVALID (offset relative to the whole
 * buffer). *done is set true, and nothing decoded, when every message has been returned. After an
 * error the iterator stays on the bad message (and fails again if called). */
ifx_rc ifx_pc_messages_next(ifx_pc_messages *it, ifx_raw_message *out, bool *done, ifx_err *err);

/* What can still be read of the message an iterator is stuck on after ifx_pc_messages_next
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

void ifx_pc_messages_stuck(const ifx_pc_messages *it, ifx_pc_stuck *out);

/* One user header: kind and raw bytes of key and value (base64 already decoded). */
typedef struct ifx_header {
    ifx_header_kind key_kind;
    const uint8_t *key; /* points into the caller's scratch buffer */
    size_t key_len;
    ifx_header_kind value_kind;
    const uint8_t *value; /* points into the caller's scratch buffer */
    size_t value_len;
} ifx_header;

/* Decodes a header map (the nested bytes of RawMessage.headers, or an inline map) into at most
 * max entries of out, with the decoded key and value bytes stored in scratch (reset first; the
 * entries point into it, so do not append to scratch while using them). Base64 with or without
 * padding is accepted, as the runtime does (an unpadded text is padded in scratch's spare room, so
 * scratch needs room for it). *count gets the number of entries (0 on error). An empty input is
 * an empty map; trailing bytes after the last entry are ignored. More than max entries is
 * IFX_E_INVALID ("more than N headers"); IFX_E_FULL/IFX_E_NOMEM when scratch cannot hold the
 * decoded bytes. Error offsets count from p. */
ifx_rc ifx_pc_decode_headers(const uint8_t *p, size_t len, ifx_header *out, size_t max,
                             size_t *count, ifx_buf *scratch, ifx_err *err);

/* Appends a header value as text, for a line-protocol tag or field: String as is; integers
 * (128-bit included) in decimal from little-endian bytes; floats as the shortest decimal that
 * reads back to the same float32 or float64, without an exponent; Bool as true/false; Raw as
 * padded base64. IFX_E_INVALID (out unchanged) when a fixed-size kind has the wrong number of
 * bytes, a Bool byte is not 0 or 1, a float is NaN or infinite (line protocol has no spelling for
 * them), or the kind is unknown. To render a key, pass a copy of h with value set to the key. */
ifx_rc ifx_header_value_text(const ifx_header *h, ifx_buf *out);

/* ---- encoding ---------------------------------------------------------------------------- */

/* Encoders write canonical (shortest) varints, as the runtime does. On any failure (IFX_E_FULL,
 * IFX_E_NOMEM, IFX_E_USAGE for an unknown schema or header kind) out is left unchanged. */

ifx_rc ifx_pc_put_varint(ifx_buf *out, uint64_t v);
ifx_rc ifx_pc_put_u128(ifx_buf *out, ifx_u128 v);
ifx_rc ifx_pc_put_bytes(ifx_buf *out, const void *p, size_t len); /* varint(len) + bytes */

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
ifx_rc ifx_pc_put_headers(ifx_buf *out, const ifx_header_in *h, size_t n);

/* Encoding of sink-side buffers, as the runtime produces them (for test hosts). */
ifx_rc ifx_pc_encode_topic_meta(ifx_buf *out, const char *stream, const char *topic);
ifx_rc ifx_pc_encode_messages_meta(ifx_buf *out, const ifx_messages_meta *m);
/* Appends RawMessages{schema, messages}: each message's headers field must already be the nested
 * encoded map (or empty). */
ifx_rc ifx_pc_encode_raw_messages(ifx_buf *out, ifx_schema schema, const ifx_raw_message *msgs,
                                  size_t n);

/* A message a source produces (§7.4). has_* false means None. */
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
ifx_rc ifx_pc_encode_produced(ifx_buf *out, ifx_schema schema, const ifx_produced_message *msgs,
                              size_t n, const void *state, size_t state_len);

/* ---- decoding source-side buffers (for test hosts that play the runtime) --------------------- */

/* One ProducedMessage as decoded (§7.4); has_* false means None. Borrowed from the input. */
typedef struct ifx_produced_view {
    bool has_id;
    ifx_u128 id;
    bool has_checksum;
    uint64_t checksum;
    bool has_timestamp;
    uint64_t timestamp;
    bool has_origin_timestamp;
    uint64_t origin_timestamp;
    bool has_headers;
    const uint8_t *headers; /* the inline map's bytes, for ifx_pc_decode_headers */
    size_t headers_len;
    const uint8_t *payload; /* may be empty: valid postcard, though the runtime NACKs it */
    size_t payload_len;
} ifx_produced_view;

/* Iterates a ProducedMessages buffer without allocating. */
typedef struct ifx_pc_produced {
    const uint8_t *start, *p, *end;
    ifx_schema schema;
    uint64_t count;     /* as declared by the buffer */
    uint64_t remaining; /* not yet returned */
    /* Set once next has reported done: the trailing Option<ConnectorState>. */
    bool state_read;
    bool has_state;
    const uint8_t *state;
    size_t state_len;
} ifx_pc_produced;

/* Reads the schema and the message count; borrows p. */
ifx_rc ifx_pc_produced_begin(ifx_pc_produced *it, const uint8_t *p, size_t len, ifx_err *err);
/* Decodes the next message into *out, like ifx_pc_messages_next. The inline header map's structure
 * (count, kinds, lengths) is checked here, its base64 by ifx_pc_decode_headers. After the last
 * message, decodes the state into it->has_state/state/state_len and sets *done. */
ifx_rc ifx_pc_produced_next(ifx_pc_produced *it, ifx_produced_view *out, bool *done, ifx_err *err);

#ifdef __cplusplus
}
#endif
#endif
