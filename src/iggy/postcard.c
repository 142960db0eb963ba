/* ifx — the postcard wire format of the Iggy connectors runtime (see include/ifx/postcard.h and
 * spec/iggy-plugin-abi.md §7).
 *
 * Decoders follow postcard 1.1.3 exactly where it matters to interoperate: LEB128 varints with a
 * maximum length per type and a range check on the last byte, over-long forms accepted, trailing
 * bytes ignored, Option tags 0/1 only, enum indexes checked, strings valid UTF-8. Lengths are
 * compared with what is left before anything is addressed, so no length arithmetic can wrap.
 */
#include "ifx/postcard.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/le.h"
#include "core/utf8_internal.h"
#include "ifx/codec.h"
#include "ifx/lp.h"

#define SCHEMA_COUNT      6
#define HEADER_KIND_COUNT 15

/* The smallest encodings of one element: a RawMessage of seven one-byte fields, a ProducedMessage
 * of five None tags and an empty payload, a header entry of two kinds and two empty texts. They
 * bound a declared count by the bytes that follow, so a forged count fails before any work. */
#define RAW_MESSAGE_MIN      7
#define PRODUCED_MESSAGE_MIN 6
#define HEADER_ENTRY_MIN     4

static const char *const schema_names[SCHEMA_COUNT] = {"json",  "raw",        "text",
                                                       "proto", "flatbuffer", "avro"};

/* Stands in for a NULL input of length 0, so that no pointer arithmetic touches NULL. */
static const uint8_t no_bytes[1];

const char *ifx_schema_name(ifx_schema s)
{
    if ((unsigned)s < SCHEMA_COUNT)
        return schema_names[s];
    return "unknown";
}

ifx_rc ifx_u128_parse(const char *s, size_t len, ifx_u128 *out)
{
    /* v = v * 10 + digit on four 32-bit limbs (least significant first): each step fits in 64
     * bits, and a carry out of the top limb is an overflow. */
    uint32_t limb[4] = {0, 0, 0, 0};

    if (len == 0)
        return IFX_E_INVALID;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return IFX_E_INVALID;
        uint64_t carry = (uint64_t)(s[i] - '0');
        for (size_t k = 0; k < 4; k++) {
            uint64_t cur = (uint64_t)limb[k] * 10u + carry;
            limb[k] = (uint32_t)cur;
            carry = cur >> 32;
        }
        if (carry)
            return IFX_E_INVALID;
    }
    out->hi = (uint64_t)limb[3] << 32 | limb[2];
    out->lo = (uint64_t)limb[1] << 32 | limb[0];
    return IFX_OK;
}

size_t ifx_u128_format(ifx_u128 v, char *out)
{
    /* Long division of four 32-bit limbs (most significant first) by 10^9: each step fits in
     * 64 bits, and yields nine digits, least significant chunk first. */
    uint32_t limb[4] = {(uint32_t)(v.hi >> 32), (uint32_t)v.hi, (uint32_t)(v.lo >> 32),
                        (uint32_t)v.lo};
    char rev[40];
    size_t n = 0, i;
    bool more;

    do {
        uint64_t rem = 0;
        more = false;
        for (i = 0; i < 4; i++) {
            uint64_t cur = rem << 32 | limb[i];
            limb[i] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
            more |= limb[i] != 0;
        }
        /* Inner chunks keep their leading zeros; the most significant one does not. */
        for (i = 0; i < 9 && (more || rem); i++) {
            rev[n++] = (char)('0' + rem % 10);
            rem /= 10;
        }
    } while (more);
    if (n == 0)
        rev[n++] = '0';
    for (i = 0; i < n; i++)
        out[i] = rev[n - 1 - i];
    out[n] = '\0';
    return n;
}

/* ---- decoding ------------------------------------------------------------------------------ */

typedef struct reader {
    const uint8_t *start; /* offsets in messages count from here */
    const uint8_t *p, *end;
    ifx_err *err;
} reader;

/* The limits of an unsigned varint: at most max bytes, the last of which may hold at most last
 * (the bits left over at the top of the type). */
typedef struct varint_limit {
    unsigned max;
    unsigned last;
    const char *type;
} varint_limit;

static const varint_limit u32_limit = {5, 0x0F, "u32"};
static const varint_limit u64_limit = {10, 0x01, "u64"};

static size_t offset_of(const reader *r, const uint8_t *q)
{
    return (size_t)(q - r->start);
}

static size_t left(const reader *r)
{
    return (size_t)(r->end - r->p);
}

static const char *plural(uint64_t n)
{
    return n == 1 ? "" : "s";
}

/* Sets "<field>: <problem>" with the offset of q. */
static ifx_rc fail(reader *r, const char *field, const uint8_t *q, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static ifx_rc fail(reader *r, const char *field, const uint8_t *q, const char *fmt, ...)
{
    char what[384];
    va_list ap;

    if (!r->err)
        return IFX_E_INVALID;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return ifx_err_set_at(r->err, IFX_E_INVALID, offset_of(r, q), "%s: %s", field, what);
}

static ifx_rc get_varint(reader *r, const char *field, const varint_limit *lim, uint64_t *out)
{
    const uint8_t *s = r->p;
    size_t avail = left(r);
    uint64_t v = 0;
    unsigned i;

    if (avail && s[0] < 0x80) {
        *out = s[0];
        r->p = s + 1;
        return IFX_OK;
    }
    for (i = 0; i < lim->max; i++) {
        unsigned b;
        if (i == avail)
            return fail(r, field, s, "truncated varint at byte %zu", offset_of(r, s));
        b = s[i];
        v |= (uint64_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            if (i + 1 == lim->max && b > lim->last)
                return fail(r, field, s, "varint too large for %s at byte %zu", lim->type,
                            offset_of(r, s));
            *out = v;
            r->p = s + i + 1;
            return IFX_OK;
        }
    }
    return fail(r, field, s, "varint longer than %u bytes at byte %zu", lim->max, offset_of(r, s));
}

static ifx_rc get_u128(reader *r, const char *field, ifx_u128 *out)
{
    const uint8_t *s = r->p;
    size_t avail = left(r);
    uint64_t hi = 0, lo = 0;
    unsigned i;

    for (i = 0; i < 19; i++) {
        unsigned shift = 7 * i;
        uint64_t g;
        if (i == avail)
            return fail(r, field, s, "truncated varint at byte %zu", offset_of(r, s));
        g = s[i] & 0x7F;
        if (shift < 64) {
            lo |= g << shift;
            if (shift > 57) /* the group straddles the halves */
                hi |= g >> (64 - shift);
        } else {
            hi |= g << (shift - 64);
        }
        if (!(s[i] & 0x80)) {
            if (i == 18 && s[i] > 0x03)
                return fail(r, field, s, "varint too large for u128 at byte %zu", offset_of(r, s));
            out->hi = hi;
            out->lo = lo;
            r->p = s + i + 1;
            return IFX_OK;
        }
    }
    return fail(r, field, s, "varint longer than 19 bytes at byte %zu", offset_of(r, s));
}

/* varint(len) + bytes, borrowed from the input. */
static ifx_rc get_bytes(reader *r, const char *field, const uint8_t **p, size_t *len)
{
    const uint8_t *s = r->p;
    uint64_t n = 0;
    size_t avail;
    ifx_rc rc = get_varint(r, field, &u64_limit, &n);

    if (rc)
        return rc;
    avail = left(r);
    if (n > avail)
        return fail(r, field, s, "length %" PRIu64 " exceeds the %zu byte%s left at byte %zu", n,
                    avail, plural(avail), offset_of(r, s));
    *p = r->p;
    *len = (size_t)n;
    r->p += n;
    return IFX_OK;
}

static ifx_rc get_string(reader *r, const char *field, const char **p, size_t *len)
{
    const uint8_t *s = NULL;
    size_t n = 0, bad;
    ifx_rc rc = get_bytes(r, field, &s, &n);

    if (rc)
        return rc;
    if (!ifx_utf8_valid(s, n, &bad)) {
        char why[128];
        ifx_utf8_describe(s + bad, n - bad, why, sizeof why);
        return fail(r, field, s + bad, "invalid UTF-8 at byte %zu (%s)", offset_of(r, s + bad),
                    why);
    }
    *p = (const char *)s;
    *len = n;
    return IFX_OK;
}

/* An enum with unit variants: a u32 varint index below count. */
static ifx_rc get_index(reader *r, const char *field, const char *type, unsigned count,
                        unsigned *out)
{
    const uint8_t *s = r->p;
    uint64_t v = 0;
    ifx_rc rc = get_varint(r, field, &u32_limit, &v);

    if (rc)
        return rc;
    if (v >= count)
        return fail(r, field, s, "unknown %s index %" PRIu64 " at byte %zu (expected 0 to %u)",
                    type, v, offset_of(r, s), count - 1);
    *out = (unsigned)v;
    return IFX_OK;
}

static ifx_rc get_schema(reader *r, ifx_schema *out)
{
    unsigned v = 0;
    ifx_rc rc = get_index(r, "schema", "Schema", SCHEMA_COUNT, &v);
    if (!rc)
        *out = (ifx_schema)v;
    return rc;
}

static ifx_rc get_option(reader *r, const char *field, bool *some)
{
    if (r->p == r->end)
        return fail(r, field, r->p, "missing Option tag at byte %zu", offset_of(r, r->p));
    if (*r->p > 1)
        return fail(r, field, r->p, "invalid Option tag %u at byte %zu (expected 0 or 1)", *r->p,
                    offset_of(r, r->p));
    *some = *r->p++ == 1;
    return IFX_OK;
}

/* A sequence or map count, refused when the rest cannot hold that many elements of at least
 * min_size bytes each. */
static ifx_rc get_count(reader *r, const char *field, const char *one, const char *many,
                        size_t min_size, uint64_t *out)
{
    const uint8_t *s = r->p;
    size_t avail;
    ifx_rc rc = get_varint(r, field, &u64_limit, out);

    if (rc)
        return rc;
    avail = left(r);
    if (*out > avail / min_size)
        return fail(r, field, s,
                    "%" PRIu64 " %s cannot fit in the %zu byte%s left at byte %zu (each takes at "
                    "least %zu)",
                    *out, *out == 1 ? one : many, avail, plural(avail), offset_of(r, s), min_size);
    return IFX_OK;
}

ifx_rc ifx_pc_decode_topic_meta(const uint8_t *p, size_t len, ifx_topic_meta *out, ifx_err *err)
{
    reader r;
    ifx_rc rc;

    if (!p)
        p = no_bytes, len = 0;
    r = (reader){p, p, p + len, err};
    rc = get_string(&r, "stream", &out->stream, &out->stream_len);
    if (!rc)
        rc = get_string(&r, "topic", &out->topic, &out->topic_len);
    if (rc)
        ifx_err_prefix(err, "TopicMetadata");
    return rc;
}

ifx_rc ifx_pc_decode_messages_meta(const uint8_t *p, size_t len, ifx_messages_meta *out,
                                   ifx_err *err)
{
    reader r;
    uint64_t partition = 0;
    ifx_rc rc;

    if (!p)
        p = no_bytes, len = 0;
    r = (reader){p, p, p + len, err};
    rc = get_varint(&r, "partition_id", &u32_limit, &partition);
    if (!rc)
        rc = get_varint(&r, "current_offset", &u64_limit, &out->current_offset);
    if (!rc)
        rc = get_schema(&r, &out->schema);
    if (rc) {
        ifx_err_prefix(err, "MessagesMetadata");
        return rc;
    }
    out->partition_id = (uint32_t)partition;
    return IFX_OK;
}

ifx_rc ifx_pc_messages_begin(ifx_pc_messages *it, const uint8_t *p, size_t len, ifx_err *err)
{
    reader r;
    ifx_rc rc;

    if (!p)
        p = no_bytes, len = 0;
    r = (reader){p, p, p + len, err};
    it->start = p;
    it->end = p + len;
    it->count = it->remaining = 0;
    rc = get_schema(&r, &it->schema);
    if (!rc)
        rc = get_count(&r, "messages", "message", "messages", RAW_MESSAGE_MIN, &it->count);
    if (rc) {
        it->p = it->end;
        it->count = 0;
        ifx_err_prefix(err, "RawMessages");
        return rc;
    }
    it->p = r.p;
    it->remaining = it->count;
    return IFX_OK;
}

ifx_rc ifx_pc_messages_next(ifx_pc_messages *it, ifx_raw_message *out, bool *done, ifx_err *err)
{
    reader r = {it->start, it->p, it->end, err};
    ifx_rc rc;

    *done = it->remaining == 0;
    if (*done)
        return IFX_OK;
    rc = get_u128(&r, "id", &out->id);
    if (!rc)
        rc = get_varint(&r, "offset", &u64_limit, &out->offset);
    if (!rc)
        rc = get_varint(&r, "checksum", &u64_limit, &out->checksum);
    if (!rc)
        rc = get_varint(&r, "timestamp", &u64_limit, &out->timestamp);
    if (!rc)
        rc = get_varint(&r, "origin_timestamp", &u64_limit, &out->origin_timestamp);
    if (!rc)
        rc = get_bytes(&r, "headers", &out->headers, &out->headers_len);
    if (!rc)
        rc = get_bytes(&r, "payload", &out->payload, &out->payload_len);
    if (rc) {
        ifx_err_prefix(err, "RawMessage %" PRIu64, it->count - it->remaining);
        return rc;
    }
    it->p = r.p;
    it->remaining--;
    return IFX_OK;
}

void ifx_pc_messages_stuck(const ifx_pc_messages *it, ifx_pc_stuck *out)
{
    reader r = {it->start, it->p, it->end, NULL};

    memset(out, 0, sizeof *out);
    out->index = it->count - it->remaining;
    out->start = (size_t)(it->p - it->start);
    out->rest = it->p;
    out->rest_len = (size_t)(it->end - it->p);
    if (it->remaining == 0)
        return;
    /* id and offset come first: read them while they decode, without an error message */
    if (get_u128(&r, "id", &out->id) != IFX_OK)
        return;
    out->has_id = true;
    out->has_offset = get_varint(&r, "offset", &u64_limit, &out->offset) == IFX_OK;
}

/* One HeaderField: its kind and its base64 text, not decoded. */
static ifx_rc get_header_field(reader *r, bool is_key, ifx_header_kind *kind, const uint8_t **text,
                               size_t *len)
{
    unsigned k = 0;
    ifx_rc rc =
        get_index(r, is_key ? "key kind" : "value kind", "HeaderKind", HEADER_KIND_COUNT, &k);
    if (rc)
        return rc;
    *kind = (ifx_header_kind)k;
    return get_bytes(r, is_key ? "key" : "value", text, len);
}

/* Decodes base64 text, padded or not, appending to out. The runtime accepts both; the strict
 * decoder takes only padded text, so an unpadded one is padded in a copy put in out's own spare
 * room, past the bytes the decoder writes (it reserves no more than was reserved here, so out
 * does not move under the copy). Offsets in errors are those of the original text. */
static ifx_rc decode_base64(const uint8_t *text, size_t len, ifx_buf *out, ifx_err *err)
{
    size_t tail = len % 4, padded, room;
    char *copy;
    ifx_rc rc;

    if (tail < 2 || memchr(text, '=', len))
        return ifx_base64_decode((const char *)text, len, out, err);
    padded = len - tail + 4;
    room = padded / 4 * 3;
    rc = ifx_buf_reserve(out, room + padded);
    if (rc)
        return ifx_err_set(err, rc, "cannot hold %zu decoded base64 bytes: %s", room,
                           rc == IFX_E_FULL ? "the buffer is full" : "out of memory");
    copy = out->data + out->len + room;
    memcpy(copy, text, len);
    memset(copy + len, '=', 4 - tail);
    return ifx_base64_decode(copy, padded, out, err);
}

static ifx_rc decode_header_field(reader *r, bool is_key, ifx_header_kind *kind, size_t *len,
                                  ifx_buf *scratch)
{
    const uint8_t *text = NULL;
    size_t text_len = 0, before = scratch->len;
    ifx_rc rc = get_header_field(r, is_key, kind, &text, &text_len);

    if (rc)
        return rc;
    rc = decode_base64(text, text_len, scratch, r->err);
    if (rc) {
        size_t at = offset_of(r, text);
        if (r->err && r->err->offset != IFX_NO_OFFSET)
            r->err->offset += at;
        ifx_err_prefix(r->err, "%s: base64 text at byte %zu", is_key ? "key" : "value", at);
        return rc;
    }
    *len = scratch->len - before;
    return IFX_OK;
}

ifx_rc ifx_pc_decode_headers(const uint8_t *p, size_t len, ifx_header *out, size_t max,
                             size_t *count, ifx_buf *scratch, ifx_err *err)
{
    reader r;
    uint64_t n = 0, i;
    const uint8_t *base;
    size_t off;
    ifx_rc rc;

    *count = 0;
    ifx_buf_reset(scratch);
    if (len == 0)
        return IFX_OK;
    r = (reader){p, p, p + len, err};
    rc = get_count(&r, "count", "entry", "entries", HEADER_ENTRY_MIN, &n);
    if (rc) {
        ifx_err_prefix(err, "header map");
        return rc;
    }
    if (n > max)
        return ifx_err_set_at(err, IFX_E_INVALID, 0,
                              "header map: more than %zu header%s (%" PRIu64 ") at byte 0", max,
                              plural(max), n);
    /* Decoded bytes are appended key, value, key, value...; scratch may move as it grows, so the
     * pointers are set from the lengths once everything is in. */
    for (i = 0; i < n; i++) {
        rc = decode_header_field(&r, true, &out[i].key_kind, &out[i].key_len, scratch);
        if (!rc)
            rc = decode_header_field(&r, false, &out[i].value_kind, &out[i].value_len, scratch);
        if (rc) {
            ifx_err_prefix(err, "header %" PRIu64, i);
            ifx_buf_reset(scratch);
            return rc;
        }
    }
    base = scratch->data ? (const uint8_t *)scratch->data : no_bytes;
    for (off = 0, i = 0; i < n; i++) {
        out[i].key = base + off;
        off += out[i].key_len;
        out[i].value = base + off;
        off += out[i].value_len;
    }
    *count = (size_t)n;
    return IFX_OK;
}

/* Checks an inline header map's structure and returns its span. */
static ifx_rc skip_header_map(reader *r, const uint8_t **map, size_t *map_len)
{
    const uint8_t *s = r->p, *text;
    uint64_t n = 0, i;
    ifx_header_kind kind;
    size_t len;
    ifx_rc rc = get_count(r, "count", "entry", "entries", HEADER_ENTRY_MIN, &n);

    if (rc)
        return rc;
    for (i = 0; i < n; i++) {
        rc = get_header_field(r, true, &kind, &text, &len);
        if (!rc)
            rc = get_header_field(r, false, &kind, &text, &len);
        if (rc) {
            ifx_err_prefix(r->err, "header %" PRIu64, i);
            return rc;
        }
    }
    *map = s;
    *map_len = (size_t)(r->p - s);
    return IFX_OK;
}

ifx_rc ifx_pc_produced_begin(ifx_pc_produced *it, const uint8_t *p, size_t len, ifx_err *err)
{
    reader r;
    ifx_rc rc;

    if (!p)
        p = no_bytes, len = 0;
    r = (reader){p, p, p + len, err};
    it->start = p;
    it->end = p + len;
    it->count = it->remaining = 0;
    it->state_read = it->has_state = false;
    it->state = NULL;
    it->state_len = 0;
    rc = get_schema(&r, &it->schema);
    if (!rc)
        rc = get_count(&r, "messages", "message", "messages", PRODUCED_MESSAGE_MIN, &it->count);
    if (rc) {
        it->p = it->end;
        it->count = 0;
        ifx_err_prefix(err, "ProducedMessages");
        return rc;
    }
    it->p = r.p;
    it->remaining = it->count;
    return IFX_OK;
}

static ifx_rc get_state(ifx_pc_produced *it, ifx_err *err)
{
    reader r = {it->start, it->p, it->end, err};
    ifx_rc rc = get_option(&r, "state", &it->has_state);

    if (!rc && it->has_state)
        rc = get_bytes(&r, "state", &it->state, &it->state_len);
    if (rc) {
        it->has_state = false;
        ifx_err_prefix(err, "ProducedMessages");
        return rc;
    }
    it->p = r.p;
    it->state_read = true;
    return IFX_OK;
}

ifx_rc ifx_pc_produced_next(ifx_pc_produced *it, ifx_produced_view *out, bool *done, ifx_err *err)
{
    reader r = {it->start, it->p, it->end, err};
    ifx_rc rc;

    *done = false;
    if (it->remaining == 0) {
        if (!it->state_read) {
            rc = get_state(it, err);
            if (rc)
                return rc;
        }
        *done = true;
        return IFX_OK;
    }
    memset(out, 0, sizeof *out);
    rc = get_option(&r, "id", &out->has_id);
    if (!rc && out->has_id)
        rc = get_u128(&r, "id", &out->id);
    if (!rc)
        rc = get_option(&r, "checksum", &out->has_checksum);
    if (!rc && out->has_checksum)
        rc = get_varint(&r, "checksum", &u64_limit, &out->checksum);
    if (!rc)
        rc = get_option(&r, "timestamp", &out->has_timestamp);
    if (!rc && out->has_timestamp)
        rc = get_varint(&r, "timestamp", &u64_limit, &out->timestamp);
    if (!rc)
        rc = get_option(&r, "origin_timestamp", &out->has_origin_timestamp);
    if (!rc && out->has_origin_timestamp)
        rc = get_varint(&r, "origin_timestamp", &u64_limit, &out->origin_timestamp);
    if (!rc)
        rc = get_option(&r, "headers", &out->has_headers);
    if (!rc && out->has_headers) {
        rc = skip_header_map(&r, &out->headers, &out->headers_len);
        if (rc)
            ifx_err_prefix(err, "headers");
    }
    if (!rc)
        rc = get_bytes(&r, "payload", &out->payload, &out->payload_len);
    if (rc) {
        ifx_err_prefix(err, "ProducedMessage %" PRIu64, it->count - it->remaining);
        return rc;
    }
    it->p = r.p;
    it->remaining--;
    return IFX_OK;
}

/* ---- header values as text ------------------------------------------------------------------ */

/* n is 1, 2, 4 or 8 */
static uint64_t le_uint(const uint8_t *p, size_t n)
{
    switch (n) {
    case 1:
        return p[0];
    case 2:
        return (uint64_t)p[0] | (uint64_t)p[1] << 8;
    case 4:
        return ifx_le_get32(p);
    default:
        return ifx_le_get64(p);
    }
}

/* Sign-extends the n-byte two's complement value v and writes it in decimal. */
static size_t format_int(uint64_t v, size_t n, char *out)
{
    if (n < 8 && (v >> (8 * n - 1)) & 1)
        v |= ~(uint64_t)0 << (8 * n);
    if (v >> 63)
        return (size_t)snprintf(out, 24, "-%" PRIu64, ~v + 1);
    return (size_t)snprintf(out, 24, "%" PRIu64, v);
}

/* Copies the "%e" text s to t with its last digit moved by delta (+1 or -1), carrying; false when
 * that would change the number of digits (a carry out of the first, or a leading zero). */
static bool step_last_digit(const char *s, int delta, char *t, size_t size)
{
    size_t len = strlen(s), first, i;
    const char *e = strchr(s, 'e');

    if (!e || len >= size)
        return false;
    memcpy(t, s, len + 1);
    first = s[0] == '-';
    i = (size_t)(e - s);
    while (i-- > first) {
        if (t[i] < '0' || t[i] > '9')
            continue; /* the decimal point, whatever the locale spells it */
        if (delta > 0 && t[i] == '9') {
            t[i] = '0';
            continue;
        }
        if (delta < 0 && t[i] == '0') {
            t[i] = '9';
            continue;
        }
        t[i] = (char)(t[i] + delta);
        return !(i == first && t[i] == '0');
    }
    return false;
}

/* The shortest decimal that reads back to the same float32: at most 9 significant digits do
 * (FLT_DECIMAL_DIG), and the double nearest to that decimal prints as it positionally. At a power
 * of two the interval below is half as wide, so the correctly rounded decimal may miss while a
 * neighbour one unit away reads back: both are tried before adding a digit. */
static size_t format_float32(float f, char *out)
{
    char s[48], t[48];
    int digits;

    for (digits = 1; digits < 9; digits++) {
        snprintf(s, sizeof s, "%.*e", digits - 1, (double)f);
        if (strtof(s, NULL) == f)
            return ifx_lp_format_float(strtod(s, NULL), out);
        if ((step_last_digit(s, 1, t, sizeof t) && strtof(t, NULL) == f) ||
            (step_last_digit(s, -1, t, sizeof t) && strtof(t, NULL) == f))
            return ifx_lp_format_float(strtod(t, NULL), out);
    }
    snprintf(s, sizeof s, "%.8e", (double)f);
    return ifx_lp_format_float(strtod(s, NULL), out);
}

static const uint8_t fixed_size[HEADER_KIND_COUNT] = {
    [IFX_HDR_BOOL] = 1,    [IFX_HDR_INT8] = 1,    [IFX_HDR_INT16] = 2,    [IFX_HDR_INT32] = 4,
    [IFX_HDR_INT64] = 8,   [IFX_HDR_INT128] = 16, [IFX_HDR_UINT8] = 1,    [IFX_HDR_UINT16] = 2,
    [IFX_HDR_UINT32] = 4,  [IFX_HDR_UINT64] = 8,  [IFX_HDR_UINT128] = 16, [IFX_HDR_FLOAT32] = 4,
    [IFX_HDR_FLOAT64] = 8,
};

ifx_rc ifx_header_value_text(const ifx_header *h, ifx_buf *out)
{
    char tmp[IFX_LP_FLOAT_MAX];
    const uint8_t *v = h->value;
    size_t n = 0, size;

    if ((unsigned)h->value_kind >= HEADER_KIND_COUNT)
        return IFX_E_INVALID;
    if (h->value_kind == IFX_HDR_RAW)
        return ifx_base64_encode(v, h->value_len, out);
    if (h->value_kind == IFX_HDR_STRING)
        return ifx_buf_append(out, v, h->value_len);
    size = fixed_size[h->value_kind];
    if (h->value_len != size)
        return IFX_E_INVALID;
    switch (h->value_kind) {
    case IFX_HDR_BOOL:
        if (v[0] > 1)
            return IFX_E_INVALID;
        return ifx_buf_puts(out, v[0] ? "true" : "false");
    case IFX_HDR_INT8:
    case IFX_HDR_INT16:
    case IFX_HDR_INT32:
    case IFX_HDR_INT64:
        n = format_int(le_uint(v, size), size, tmp);
        break;
    case IFX_HDR_UINT8:
    case IFX_HDR_UINT16:
    case IFX_HDR_UINT32:
    case IFX_HDR_UINT64:
        n = (size_t)snprintf(tmp, sizeof tmp, "%" PRIu64, le_uint(v, size));
        break;
    case IFX_HDR_INT128:
    case IFX_HDR_UINT128: {
        ifx_u128 x = {ifx_le_get64(v + 8), ifx_le_get64(v)};
        if (h->value_kind == IFX_HDR_INT128 && x.hi >> 63) {
            /* Two's complement negation of both halves. */
            x.lo = ~x.lo + 1;
            x.hi = ~x.hi + (x.lo == 0);
            tmp[0] = '-';
            n = 1 + ifx_u128_format(x, tmp + 1);
        } else {
            n = ifx_u128_format(x, tmp);
        }
        break;
    }
    case IFX_HDR_FLOAT32: {
        uint32_t bits = ifx_le_get32(v);
        float f;
        memcpy(&f, &bits, sizeof f);
        if (!isfinite(f))
            return IFX_E_INVALID;
        n = format_float32(f, tmp);
        break;
    }
    case IFX_HDR_FLOAT64: {
        uint64_t bits = ifx_le_get64(v);
        double d;
        memcpy(&d, &bits, sizeof d);
        n = ifx_lp_format_float(d, tmp);
        if (n == 0)
            return IFX_E_INVALID;
        break;
    }
    default:
        return IFX_E_INVALID;
    }
    return ifx_buf_append(out, tmp, n);
}

/* ---- encoding ------------------------------------------------------------------------------ */

ifx_rc ifx_pc_put_varint(ifx_buf *out, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;

    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    return ifx_buf_append(out, b, n);
}

ifx_rc ifx_pc_put_u128(ifx_buf *out, ifx_u128 v)
{
    uint8_t b[19];
    uint64_t hi = v.hi, lo = v.lo;
    size_t n = 0;

    while (hi || lo >= 0x80) {
        b[n++] = (uint8_t)(lo | 0x80);
        lo = lo >> 7 | hi << 57;
        hi >>= 7;
    }
    b[n++] = (uint8_t)lo;
    return ifx_buf_append(out, b, n);
}

ifx_rc ifx_pc_put_bytes(ifx_buf *out, const void *p, size_t len)
{
    size_t begin = out->len;
    ifx_rc rc = ifx_pc_put_varint(out, len);

    if (!rc)
        rc = ifx_buf_append(out, p, len);
    if (rc)
        ifx_buf_truncate(out, begin);
    return rc;
}

static ifx_rc put_option(ifx_buf *out, bool some)
{
    return ifx_buf_putc(out, some ? 1 : 0);
}

static ifx_rc put_header_field(ifx_buf *out, ifx_header_kind kind, const void *p, size_t len)
{
    size_t text = ifx_base64_encoded_len(len);
    ifx_rc rc;

    if ((unsigned)kind >= HEADER_KIND_COUNT)
        return IFX_E_USAGE;
    if (text == SIZE_MAX)
        return IFX_E_FULL;
    rc = ifx_pc_put_varint(out, (uint64_t)kind);
    if (!rc)
        rc = ifx_pc_put_varint(out, text);
    if (!rc)
        rc = ifx_base64_encode(p, len, out);
    return rc;
}

ifx_rc ifx_pc_put_headers(ifx_buf *out, const ifx_header_in *h, size_t n)
{
    size_t begin = out->len, i;
    ifx_rc rc = ifx_pc_put_varint(out, n);

    for (i = 0; i < n && !rc; i++) {
        rc = put_header_field(out, h[i].key_kind, h[i].key, h[i].key_len);
        if (!rc)
            rc = put_header_field(out, h[i].value_kind, h[i].value, h[i].value_len);
    }
    if (rc)
        ifx_buf_truncate(out, begin);
    return rc;
}

ifx_rc ifx_pc_encode_topic_meta(ifx_buf *out, const char *stream, const char *topic)
{
    size_t begin = out->len;
    ifx_rc rc = ifx_pc_put_bytes(out, stream, strlen(stream));

    if (!rc)
        rc = ifx_pc_put_bytes(out, topic, strlen(topic));
    if (rc)
        ifx_buf_truncate(out, begin);
    return rc;
}

ifx_rc ifx_pc_encode_messages_meta(ifx_buf *out, const ifx_messages_meta *m)
{
    size_t begin = out->len;
    ifx_rc rc;

    if ((unsigned)m->schema >= SCHEMA_COUNT)
        return IFX_E_USAGE;
    rc = ifx_pc_put_varint(out, m->partition_id);
    if (!rc)
        rc = ifx_pc_put_varint(out, m->current_offset);
    if (!rc)
        rc = ifx_pc_put_varint(out, (uint64_t)m->schema);
    if (rc)
        ifx_buf_truncate(out, begin);
    return rc;
}

ifx_rc ifx_pc_encode_raw_messages(ifx_buf *out, ifx_schema schema, const ifx_raw_message *msgs,
                                  size_t n)
{
    size_t begin = out->len, i;
    ifx_rc rc;

    if ((unsigned)schema >= SCHEMA_COUNT)
        return IFX_E_USAGE;
    rc = ifx_pc_put_varint(out, (uint64_t)schema);
    if (!rc)
        rc = ifx_pc_put_varint(out, n);
    for (i = 0; i < n && !rc; i++) {
        const ifx_raw_message *m = &msgs[i];
        rc = ifx_pc_put_u128(out, m->id);
        if (!rc)
            rc = ifx_pc_put_varint(out, m->offset);
        if (!rc)
            rc = ifx_pc_put_varint(out, m->checksum);
        if (!rc)
            rc = ifx_pc_put_varint(out, m->timestamp);
        if (!rc)
            rc = ifx_pc_put_varint(out, m->origin_timestamp);
        if (!rc)
            rc = ifx_pc_put_bytes(out, m->headers, m->headers_len);
        if (!rc)
            rc = ifx_pc_put_bytes(out, m->payload, m->payload_len);
    }
    if (rc)
        ifx_buf_truncate(out, begin);
    return rc;
}

static ifx_rc put_optional_u64(ifx_buf *out, bool some, uint64_t v)
{
    ifx_rc rc = put_option(out, some);
    if (!rc && some)
        rc = ifx_pc_put_varint(out, v);
    return rc;
}

ifx_rc ifx_pc_encode_produced(ifx_buf *out, ifx_schema schema, const ifx_produced_message *msgs,
                              size_t n, const void *state, size_t state_len)
{
    size_t begin = out->len, i;
    ifx_rc rc;

    if ((unsigned)schema >= SCHEMA_COUNT)
        return IFX_E_USAGE;
    for (i = 0; i < n; i++) {
        if (msgs[i].payload_len == 0)
            return IFX_E_USAGE;
    }
    rc = ifx_pc_put_varint(out, (uint64_t)schema);
    if (!rc)
        rc = ifx_pc_put_varint(out, n);
    for (i = 0; i < n && !rc; i++) {
        const ifx_produced_message *m = &msgs[i];
        rc = put_option(out, m->has_id);
        if (!rc && m->has_id)
            rc = ifx_pc_put_u128(out, m->id);
        if (!rc)
            rc = put_option(out, false); /* checksum */
        if (!rc)
            rc = put_optional_u64(out, m->has_timestamp, m->timestamp);
        if (!rc)
            rc = put_optional_u64(out, m->has_origin_timestamp, m->origin_timestamp);
        if (!rc)
            rc = put_option(out, m->headers != NULL);
        if (!rc && m->headers)
            rc = ifx_pc_put_headers(out, m->headers, m->nheaders);
        if (!rc)
            rc = ifx_pc_put_bytes(out, m->payload, m->payload_len);
    }
    if (!rc)
        rc = put_option(out, state != NULL);
    if (!rc && state)
        rc = ifx_pc_put_bytes(out, state, state_len);
    if (rc)
        ifx_buf_truncate(out, begin);
    return rc;
}
