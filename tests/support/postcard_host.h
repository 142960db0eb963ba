/* ifx tests — the runtime's side of the postcard wire format: encoding the buffers the Iggy
 * connectors runtime hands a sink, and decoding what a source hands back (ProducedMessages) and
 * header maps. For test hosts, benchmarks and fuzzers that play the runtime; the plugins' side is
 * src/iggy/postcard.h, whose rules (errors, limits) apply here too.
 *
 * Thread safety: all functions are reentrant.
 */
#ifndef IFX_TESTS_POSTCARD_HOST_H
#define IFX_TESTS_POSTCARD_HOST_H

#include "iggy/postcard.h"

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
ifx_rc pc_host_decode_headers(const uint8_t *p, size_t len, ifx_header *out, size_t max,
                              size_t *count, ifx_buf *scratch, ifx_err *err);

/* Appends a header value as text, for a line-protocol tag or field: String as is; integers
 * (128-bit included) in decimal from little-endian bytes; floats as the shortest decimal that
 * reads back to the same float32 or float64, without an exponent; Bool as true/false; Raw as
 * padded base64. IFX_E_INVALID (out unchanged) when a fixed-size kind has the wrong number of
 * bytes, a Bool byte is not 0 or 1, a float is NaN or infinite (line protocol has no spelling for
 * them), or the kind is unknown. To render a key, pass a copy of h with value set to the key. */
ifx_rc pc_host_header_value_text(const ifx_header *h, ifx_buf *out);

/* Encoding of sink-side buffers, as the runtime produces them (for test hosts). */
ifx_rc pc_host_encode_topic_meta(ifx_buf *out, const char *stream, const char *topic);
ifx_rc pc_host_encode_messages_meta(ifx_buf *out, const ifx_messages_meta *m);
/* Appends RawMessages{schema, messages}: each message's headers field must already be the nested
 * encoded map (or empty). */
ifx_rc pc_host_encode_raw_messages(ifx_buf *out, ifx_schema schema, const ifx_raw_message *msgs,
                                   size_t n);

/* ---- decoding source-side buffers (for test hosts that play the runtime) --------------------- */

/* One ProducedMessage as decoded; has_* false means None. Borrowed from the input. */
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
    const uint8_t *headers; /* the inline map's bytes, for pc_host_decode_headers */
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
ifx_rc pc_host_produced_begin(ifx_pc_produced *it, const uint8_t *p, size_t len, ifx_err *err);
/* Decodes the next message into *out, like ifxi_pc_messages_next. The inline header map's structure
 * (count, kinds, lengths) is checked here, its base64 by pc_host_decode_headers. After the last
 * message, decodes the state into it->has_state/state/state_len and sets *done. */
ifx_rc pc_host_produced_next(ifx_pc_produced *it, ifx_produced_view *out, bool *done, ifx_err *err);

#endif
