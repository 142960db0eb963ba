/* ifx — the postcard wire format of the Iggy connectors runtime (see postcard.h).
 *
 * Decoders follow postcard 1.1.3 exactly where it matters to interoperate: LEB128 varints with a
 * maximum length per type and a range check on the last byte, over-long forms accepted, trailing
 * bytes ignored, Option tags 0/1 only, enum indexes checked, strings valid UTF-8. Lengths are
 * compared with what is left before anything is addressed, so no length arithmetic can wrap.
 */
#include "iggy/postcard.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8_internal.h"
#include "core/codec.h"
#include "core/le.h"
#include "core/scan16.h" /* ifxi_scan_word: eight bytes as a little-endian word */
#include "ifx/lp.h"

/* The smallest encoding of a RawMessage: seven one-byte fields. It bounds a declared count by the
 * bytes that follow, so a forged count fails before any work. */
#define RAW_MESSAGE_MIN 7

/* Stands in for a NULL input of length 0, so that no pointer arithmetic touches NULL. */
static const uint8_t no_bytes[1];

/* ---- decoding ------------------------------------------------------------------------------ */

const ifx_pc_varint_limit ifxi_pc_u32_limit = {5, 0x0F, "u32"};
const ifx_pc_varint_limit ifxi_pc_u64_limit = {10, 0x01, "u64"};

static size_t left(const ifx_pc_reader *r)
{
    return (size_t)(r->end - r->p);
}

/* Sets "<field>: <problem>" with the offset of q. */
static ifx_rc fail(ifx_pc_reader *r, const char *field, const uint8_t *q, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static ifx_rc fail(ifx_pc_reader *r, const char *field, const uint8_t *q, const char *fmt, ...)
{
    char what[384];
    va_list ap;

    if (!r->err)
        return IFX_E_INVALID;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return ifx_err_set_at(r->err, IFX_E_INVALID, ifxi_pc_offset_of(r, q), "%s: %s", field, what);
}

/* ---- varints a word at a time: every message carries about 30 varint bytes (a 19-byte id, a
 * 10-byte checksum, two 8-byte times), and a loop over them was a fifth of consume's
 * instructions. With 8 bytes to read, the end of a varint is the first byte whose top bit is
 * clear, found in one word; its 7-bit groups are joined by three shift-and-mask steps. Anything
 * unusual (too few bytes left to read whole words, too long, too large) takes the byte loop,
 * which gives every error. */

/* The 7-bit groups of the bytes of w (little-endian), joined: 56 bits. */
static inline uint64_t groups7(uint64_t w)
{
    w &= 0x7F7F7F7F7F7F7F7Full;
    w = (w & 0x007F007F007F007Full) | (w & 0x7F007F007F007F00ull) >> 1;
    w = (w & 0x00003FFF00003FFFull) | (w & 0x3FFF00003FFF0000ull) >> 2;
    return (w & 0x000000000FFFFFFFull) | (w & 0x0FFFFFFF00000000ull) >> 4;
}

/* The first n (1 to 8) bytes of w. */
static inline uint64_t first_bytes(uint64_t w, unsigned n)
{
    return n == 8 ? w : w & ((1ull << (8 * n)) - 1);
}

/* The length (1 to 8 * words) of the varint at s, whose words bytes can be read, or 0 when none
 * of them ends it; w[] receives the words. */
static inline unsigned varint_words(const uint8_t *s, unsigned words, uint64_t w[3])
{
    for (unsigned k = 0; k < words; k++) {
        uint64_t stop;
        w[k] = ifxi_scan_word(s + 8 * k);
        stop = ~w[k] & IFXI_SCAN_HIGHS;
        if (stop)
            return 8 * k + (unsigned)__builtin_ctzll(stop) / 8 + 1;
    }
    return 0;
}

/* The byte loop: the last bytes of a batch, and every error. */
static __attribute__((noinline)) ifx_rc varint_bytes(ifx_pc_reader *r, const char *field,
                                                     const ifx_pc_varint_limit *lim, uint64_t *out)
{
    const uint8_t *s = r->p;
    size_t avail = left(r);
    uint64_t v = 0;
    unsigned i;

    for (i = 0; i < lim->max; i++) {
        unsigned b;
        if (i == avail)
            return fail(r, field, s, "truncated varint at byte %zu", ifxi_pc_offset_of(r, s));
        b = s[i];
        v |= (uint64_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            if (i + 1 == lim->max && b > lim->last)
                return fail(r, field, s, "varint too large for %s at byte %zu", lim->type,
                            ifxi_pc_offset_of(r, s));
            *out = v;
            r->p = s + i + 1;
            return IFX_OK;
        }
    }
    return fail(r, field, s, "varint longer than %u bytes at byte %zu", lim->max,
                ifxi_pc_offset_of(r, s));
}

/* The usual varint without a call (ifxi_pc_messages_next reads six of them a message). */
static inline ifx_rc get_varint(ifx_pc_reader *r, const char *field, const ifx_pc_varint_limit *lim,
                                uint64_t *out)
{
    const uint8_t *s = r->p;
    size_t avail = left(r);

    if (avail && s[0] < 0x80) {
        *out = s[0];
        r->p = s + 1;
        return IFX_OK;
    }
    if (avail >= 16) {
        uint64_t w[3] = {0, 0, 0};
        unsigned n = varint_words(s, 2, w);
        if (n && (n < lim->max || (n == lim->max && s[n - 1] <= lim->last))) {
            /* lim->max is at most 10: a second word adds its first two bytes at most */
            *out = n <= 8 ? groups7(first_bytes(w[0], n))
                          : groups7(w[0]) | groups7(first_bytes(w[1], n - 8)) << 56;
            r->p = s + n;
            return IFX_OK;
        }
    }
    return varint_bytes(r, field, lim, out);
}

ifx_rc ifxi_pc_get_varint(ifx_pc_reader *r, const char *field, const ifx_pc_varint_limit *lim,
                          uint64_t *out)
{
    return get_varint(r, field, lim, out);
}

ifx_rc ifxi_pc_get_u128(ifx_pc_reader *r, const char *field, ifx_u128 *out)
{
    const uint8_t *s = r->p;
    size_t avail = left(r);
    uint64_t hi = 0, lo = 0;
    unsigned i;

    if (avail >= 24) {
        uint64_t w[3] = {0, 0, 0};
        unsigned n = varint_words(s, 3, w);
        if (n && (n < 19 || (n == 19 && s[18] <= 0x03))) {
            uint64_t c0 = groups7(first_bytes(w[0], n < 8 ? n : 8));
            uint64_t c1 = n > 8 ? groups7(first_bytes(w[1], n < 16 ? n - 8 : 8)) : 0;
            uint64_t c2 = n > 16 ? groups7(first_bytes(w[2], n - 16)) : 0;
            out->lo = c0 | c1 << 56;
            out->hi = c1 >> 8 | c2 << 48;
            r->p = s + n;
            return IFX_OK;
        }
    }

    for (i = 0; i < 19; i++) {
        unsigned shift = 7 * i;
        uint64_t g;
        if (i == avail)
            return fail(r, field, s, "truncated varint at byte %zu", ifxi_pc_offset_of(r, s));
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
                return fail(r, field, s, "varint too large for u128 at byte %zu",
                            ifxi_pc_offset_of(r, s));
            out->hi = hi;
            out->lo = lo;
            r->p = s + i + 1;
            return IFX_OK;
        }
    }
    return fail(r, field, s, "varint longer than 19 bytes at byte %zu", ifxi_pc_offset_of(r, s));
}

/* varint(len) + bytes, borrowed from the input. */
ifx_rc ifxi_pc_get_bytes(ifx_pc_reader *r, const char *field, const uint8_t **p, size_t *len)
{
    const uint8_t *s = r->p;
    uint64_t n = 0;
    size_t avail;
    ifx_rc rc = get_varint(r, field, &ifxi_pc_u64_limit, &n);

    if (rc)
        return rc;
    avail = left(r);
    if (n > avail)
        return fail(r, field, s, "length %" PRIu64 " exceeds the %zu byte%s left at byte %zu", n,
                    avail, ifxi_pc_plural(avail), ifxi_pc_offset_of(r, s));
    *p = r->p;
    *len = (size_t)n;
    r->p += n;
    return IFX_OK;
}

static ifx_rc get_string(ifx_pc_reader *r, const char *field, const char **p, size_t *len)
{
    const uint8_t *s = NULL;
    size_t n = 0, bad;
    ifx_rc rc = ifxi_pc_get_bytes(r, field, &s, &n);

    if (rc)
        return rc;
    if (!ifxi_utf8_valid(s, n, &bad)) {
        char why[128];
        ifxi_utf8_describe(s + bad, n - bad, why, sizeof why);
        return fail(r, field, s + bad, "invalid UTF-8 at byte %zu (%s)",
                    ifxi_pc_offset_of(r, s + bad), why);
    }
    *p = (const char *)s;
    *len = n;
    return IFX_OK;
}

/* An enum with unit variants: a u32 varint index below count. */
ifx_rc ifxi_pc_get_index(ifx_pc_reader *r, const char *field, const char *type, unsigned count,
                         unsigned *out)
{
    const uint8_t *s = r->p;
    uint64_t v = 0;
    ifx_rc rc = ifxi_pc_get_varint(r, field, &ifxi_pc_u32_limit, &v);

    if (rc)
        return rc;
    if (v >= count)
        return fail(r, field, s, "unknown %s index %" PRIu64 " at byte %zu (expected 0 to %u)",
                    type, v, ifxi_pc_offset_of(r, s), count - 1);
    *out = (unsigned)v;
    return IFX_OK;
}

ifx_rc ifxi_pc_get_schema(ifx_pc_reader *r, ifx_schema *out)
{
    unsigned v = 0;
    ifx_rc rc = ifxi_pc_get_index(r, "schema", "Schema", IFX_PC_SCHEMA_COUNT, &v);
    if (!rc)
        *out = (ifx_schema)v;
    return rc;
}

ifx_rc ifxi_pc_get_option(ifx_pc_reader *r, const char *field, bool *some)
{
    if (r->p == r->end)
        return fail(r, field, r->p, "missing Option tag at byte %zu", ifxi_pc_offset_of(r, r->p));
    if (*r->p > 1)
        return fail(r, field, r->p, "invalid Option tag %u at byte %zu (expected 0 or 1)", *r->p,
                    ifxi_pc_offset_of(r, r->p));
    *some = *r->p++ == 1;
    return IFX_OK;
}

/* A sequence or map count, refused when the rest cannot hold that many elements of at least
 * min_size bytes each. */
ifx_rc ifxi_pc_get_count(ifx_pc_reader *r, const char *field, const char *one, const char *many,
                         size_t min_size, uint64_t *out)
{
    const uint8_t *s = r->p;
    size_t avail;
    ifx_rc rc = ifxi_pc_get_varint(r, field, &ifxi_pc_u64_limit, out);

    if (rc)
        return rc;
    avail = left(r);
    if (*out > avail / min_size)
        return fail(r, field, s,
                    "%" PRIu64 " %s cannot fit in the %zu byte%s left at byte %zu (each takes at "
                    "least %zu)",
                    *out, *out == 1 ? one : many, avail, ifxi_pc_plural(avail),
                    ifxi_pc_offset_of(r, s), min_size);
    return IFX_OK;
}

ifx_rc ifxi_pc_decode_topic_meta(const uint8_t *p, size_t len, ifx_topic_meta *out, ifx_err *err)
{
    ifx_pc_reader r;
    ifx_rc rc;

    if (!p)
        p = no_bytes, len = 0;
    r = (ifx_pc_reader){p, p, p + len, err};
    rc = get_string(&r, "stream", &out->stream, &out->stream_len);
    if (!rc)
        rc = get_string(&r, "topic", &out->topic, &out->topic_len);
    if (rc)
        ifx_err_prefix(err, "TopicMetadata");
    return rc;
}

ifx_rc ifxi_pc_decode_messages_meta(const uint8_t *p, size_t len, ifx_messages_meta *out,
                                    ifx_err *err)
{
    ifx_pc_reader r;
    uint64_t partition = 0;
    ifx_rc rc;

    if (!p)
        p = no_bytes, len = 0;
    r = (ifx_pc_reader){p, p, p + len, err};
    rc = ifxi_pc_get_varint(&r, "partition_id", &ifxi_pc_u32_limit, &partition);
    if (!rc)
        rc = ifxi_pc_get_varint(&r, "current_offset", &ifxi_pc_u64_limit, &out->current_offset);
    if (!rc)
        rc = ifxi_pc_get_schema(&r, &out->schema);
    if (rc) {
        ifx_err_prefix(err, "MessagesMetadata");
        return rc;
    }
    out->partition_id = (uint32_t)partition;
    return IFX_OK;
}

ifx_rc ifxi_pc_batch_begin(const char *what, size_t min_size, const uint8_t *p, size_t len,
                           ifx_pc_batch_head *out, ifx_err *err)
{
    ifx_pc_reader r;
    ifx_rc rc;

    if (!p)
        p = no_bytes, len = 0;
    r = (ifx_pc_reader){p, p, p + len, err};
    out->start = p;
    out->end = p + len;
    out->count = 0;
    rc = ifxi_pc_get_schema(&r, &out->schema);
    if (!rc)
        rc = ifxi_pc_get_count(&r, "messages", "message", "messages", min_size, &out->count);
    if (rc) {
        out->first = out->end;
        out->count = 0;
        ifx_err_prefix(err, "%s", what);
        return rc;
    }
    out->first = r.p;
    return IFX_OK;
}

ifx_rc ifxi_pc_messages_begin(ifx_pc_messages *it, const uint8_t *p, size_t len, ifx_err *err)
{
    ifx_pc_batch_head h = {0}; /* its schema stays unset when the batch is refused */
    ifx_rc rc = ifxi_pc_batch_begin("RawMessages", RAW_MESSAGE_MIN, p, len, &h, err);

    it->start = h.start;
    it->p = h.first;
    it->end = h.end;
    it->schema = h.schema;
    it->count = it->remaining = h.count;
    return rc;
}

ifx_rc ifxi_pc_messages_next(ifx_pc_messages *it, ifx_raw_message *out, bool *done, ifx_err *err)
{
    ifx_pc_reader r = {it->start, it->p, it->end, err};
    ifx_rc rc;

    *done = it->remaining == 0;
    if (*done)
        return IFX_OK;
    rc = ifxi_pc_get_u128(&r, "id", &out->id);
    if (!rc)
        rc = get_varint(&r, "offset", &ifxi_pc_u64_limit, &out->offset);
    if (!rc)
        rc = get_varint(&r, "checksum", &ifxi_pc_u64_limit, &out->checksum);
    if (!rc)
        rc = get_varint(&r, "timestamp", &ifxi_pc_u64_limit, &out->timestamp);
    if (!rc)
        rc = get_varint(&r, "origin_timestamp", &ifxi_pc_u64_limit, &out->origin_timestamp);
    if (!rc)
        rc = ifxi_pc_get_bytes(&r, "headers", &out->headers, &out->headers_len);
    if (!rc)
        rc = ifxi_pc_get_bytes(&r, "payload", &out->payload, &out->payload_len);
    if (rc) {
        ifx_err_prefix(err, "RawMessage %" PRIu64, it->count - it->remaining);
        return rc;
    }
    it->p = r.p;
    it->remaining--;
    return IFX_OK;
}

void ifxi_pc_messages_stuck(const ifx_pc_messages *it, ifx_pc_stuck *out)
{
    ifx_pc_reader r = {it->start, it->p, it->end, NULL};

    memset(out, 0, sizeof *out);
    out->index = it->count - it->remaining;
    out->start = (size_t)(it->p - it->start);
    out->rest = it->p;
    out->rest_len = (size_t)(it->end - it->p);
    if (it->remaining == 0)
        return;
    /* id and offset come first: read them while they decode, without an error message */
    if (ifxi_pc_get_u128(&r, "id", &out->id) != IFX_OK)
        return;
    out->has_id = true;
    out->has_offset = ifxi_pc_get_varint(&r, "offset", &ifxi_pc_u64_limit, &out->offset) == IFX_OK;
}

/* ---- encoding ------------------------------------------------------------------------------ */

/* The bytes of v as a varint: 7 bits a byte, from the bit length. */
static size_t varint_len(uint64_t v)
{
    return v ? (size_t)(64 - __builtin_clzll(v) + 6) / 7 : 1;
}

static size_t u128_len(ifx_u128 v)
{
    size_t bits = v.hi   ? (size_t)(128 - __builtin_clzll(v.hi))
                  : v.lo ? (size_t)(64 - __builtin_clzll(v.lo))
                         : 0;
    return bits ? (bits + 6) / 7 : 1;
}

/* The low 56 bits of v as eight 7-bit groups, group k in byte k with its top bit clear: three
 * steps that each move the upper half of every lane up, 28-bit groups into 32-bit lanes, then
 * 14 into 16, then 7 into 8. */
static inline uint64_t spread7(uint64_t v)
{
    uint64_t x = (v & 0x000000000FFFFFFFULL) | (v & 0x00FFFFFFF0000000ULL) << 4;
    x = (x & 0x00003FFF00003FFFULL) | (x & 0x0FFFC0000FFFC000ULL) << 2;
    return (x & 0x007F007F007F007FULL) | (x & 0x3F803F803F803F80ULL) << 1;
}

/* Writes the n-byte varint of v at w (room checked by the caller, n from varint_len); returns
 * the end. Varints of 8 bytes or more (every message's id and timestamp) take their first 8 as
 * one word (spread7); shorter ones a byte each, each taken from v by its own shift. */
static uint8_t *raw_varint_n(uint8_t *w, uint64_t v, size_t n)
{
    size_t k = 0;

    if (n >= 8) {
        uint64_t x = spread7(v) | 0x8080808080808080ULL;
        ifx_le_put64(w, n == 8 ? x & ~(0x80ULL << 56) : x);
        k = 8;
    }
    for (; k + 1 < n; k++)
        w[k] = (uint8_t)(v >> (7 * k)) | 0x80;
    if (k < n)
        w[n - 1] = (uint8_t)(v >> (7 * (n - 1)));
    return w + n;
}

static uint8_t *raw_varint(uint8_t *w, uint64_t v)
{
    return raw_varint_n(w, v, varint_len(v));
}

/* Nine bytes of a varint holding v's low 63 bits, each marked "more follows". */
static uint8_t *raw_continued9(uint8_t *w, uint64_t v)
{
    ifx_le_put64(w, spread7(v) | 0x8080808080808080ULL);
    w[8] = (uint8_t)(v >> 56) | 0x80;
    return w + 9;
}

/* A u128 varint: its first 9 bytes hold bits 0..62, the next 9 bits 63..125 (a word of bits
 * 63..126), and a 19th the top two. */
static uint8_t *raw_u128(uint8_t *w, ifx_u128 v)
{
    size_t n = u128_len(v);
    if (n <= 9)
        return raw_varint_n(w, v.lo, n);
    w = raw_continued9(w, v.lo);
    uint64_t rest = v.lo >> 63 | v.hi << 1;
    if (n < 19)
        return raw_varint_n(w, rest, n - 9);
    w = raw_continued9(w, rest);
    *w = (uint8_t)(v.hi >> 62);
    return w + 1;
}

ifx_rc ifxi_pc_put_varint(ifx_buf *out, uint64_t v)
{
    uint8_t b[10];
    return ifx_buf_append(out, b, (size_t)(raw_varint(b, v) - b));
}

ifx_rc ifxi_pc_put_u128(ifx_buf *out, ifx_u128 v)
{
    uint8_t b[19];
    return ifx_buf_append(out, b, (size_t)(raw_u128(b, v) - b));
}

ifx_rc ifxi_pc_put_bytes(ifx_buf *out, const void *p, size_t len)
{
    size_t begin = out->len;
    ifx_rc rc = ifxi_pc_put_varint(out, len);

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
    size_t text = ifxi_base64_encoded_len(len);
    ifx_rc rc;

    if ((unsigned)kind >= IFX_PC_HEADER_KIND_COUNT)
        return IFX_E_USAGE;
    if (text == SIZE_MAX)
        return IFX_E_FULL;
    rc = ifxi_pc_put_varint(out, (uint64_t)kind);
    if (!rc)
        rc = ifxi_pc_put_varint(out, text);
    if (!rc)
        rc = ifxi_base64_encode(p, len, out);
    return rc;
}

ifx_rc ifxi_pc_put_headers(ifx_buf *out, const ifx_header_in *h, size_t n)
{
    size_t begin = out->len, i;
    ifx_rc rc = ifxi_pc_put_varint(out, n);

    for (i = 0; i < n && !rc; i++) {
        rc = put_header_field(out, h[i].key_kind, h[i].key, h[i].key_len);
        if (!rc)
            rc = put_header_field(out, h[i].value_kind, h[i].value, h[i].value_len);
    }
    if (rc)
        ifx_buf_truncate(out, begin);
    return rc;
}

static ifx_rc put_optional_u64(ifx_buf *out, bool some, uint64_t v)
{
    ifx_rc rc = put_option(out, some);
    if (!rc && some)
        rc = ifxi_pc_put_varint(out, v);
    return rc;
}

/* The encoded size of a message without headers. */
static size_t message_len(const ifx_produced_message *m)
{
    return 1 + (m->has_id ? u128_len(m->id) : 0) + 1 + 1 +
           (m->has_timestamp ? varint_len(m->timestamp) : 0) + 1 +
           (m->has_origin_timestamp ? varint_len(m->origin_timestamp) : 0) + 1 +
           varint_len(m->payload_len) + m->payload_len;
}

/* Messages without headers (what the source produces), written in place after one reservation
 * of their exact size: appending field by field, a reservation per byte, was a tenth of the
 * source's time. The bytes are those of the general path below. */
static ifx_rc encode_plain(ifx_buf *out, ifx_schema schema, const ifx_produced_message *msgs,
                           size_t n, size_t size)
{
    ifx_rc rc = ifx_buf_reserve(out, size);
    if (rc)
        return rc;
    uint8_t *w = (uint8_t *)out->data + out->len;
    w = raw_varint(w, (uint64_t)schema);
    w = raw_varint(w, n);
    for (size_t i = 0; i < n; i++) {
        const ifx_produced_message *m = &msgs[i];
        *w++ = m->has_id;
        if (m->has_id)
            w = raw_u128(w, m->id);
        *w++ = 0; /* checksum */
        *w++ = m->has_timestamp;
        if (m->has_timestamp)
            w = raw_varint(w, m->timestamp);
        *w++ = m->has_origin_timestamp;
        if (m->has_origin_timestamp)
            w = raw_varint(w, m->origin_timestamp);
        *w++ = 0; /* headers */
        w = raw_varint(w, m->payload_len);
        memcpy(w, m->payload, m->payload_len);
        w += m->payload_len;
    }
    out->len = (size_t)((char *)w - out->data);
    out->data[out->len] = '\0';
    return IFX_OK;
}

ifx_rc ifxi_pc_encode_produced(ifx_buf *out, ifx_schema schema, const ifx_produced_message *msgs,
                               size_t n, const void *state, size_t state_len)
{
    size_t begin = out->len, i, size;
    bool plain = true;
    ifx_rc rc;

    if ((unsigned)schema >= IFX_PC_SCHEMA_COUNT)
        return IFX_E_USAGE;
    size = varint_len((uint64_t)schema) + varint_len(n);
    for (i = 0; i < n; i++) {
        if (msgs[i].payload_len == 0)
            return IFX_E_USAGE;
        plain = plain && !msgs[i].headers;
        if (plain) {
            size_t m = message_len(&msgs[i]);
            size = size > SIZE_MAX - m ? SIZE_MAX : size + m;
        }
    }
    if (plain) {
        rc = encode_plain(out, schema, msgs, n, size);
        goto state;
    }
    rc = ifxi_pc_put_varint(out, (uint64_t)schema);
    if (!rc)
        rc = ifxi_pc_put_varint(out, n);
    for (i = 0; i < n && !rc; i++) {
        const ifx_produced_message *m = &msgs[i];
        rc = put_option(out, m->has_id);
        if (!rc && m->has_id)
            rc = ifxi_pc_put_u128(out, m->id);
        if (!rc)
            rc = put_option(out, false); /* checksum */
        if (!rc)
            rc = put_optional_u64(out, m->has_timestamp, m->timestamp);
        if (!rc)
            rc = put_optional_u64(out, m->has_origin_timestamp, m->origin_timestamp);
        if (!rc)
            rc = put_option(out, m->headers != NULL);
        if (!rc && m->headers)
            rc = ifxi_pc_put_headers(out, m->headers, m->nheaders);
        if (!rc)
            rc = ifxi_pc_put_bytes(out, m->payload, m->payload_len);
    }
state:
    if (!rc)
        rc = put_option(out, state != NULL);
    if (!rc && state)
        rc = ifxi_pc_put_bytes(out, state, state_len);
    if (rc)
        ifx_buf_truncate(out, begin);
    return rc;
}
