/* ifx tests — the runtime's side of the postcard wire format (see postcard_host.h): what test
 * hosts, benchmarks and fuzzers need to play the Iggy connectors runtime. Built on the plugins'
 * reader (src/iggy/postcard.c), so both sides decode with one set of rules.
 */
#include "postcard_host.h"
#include "core/float.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "ifx/lp.h"

/* Stands in for a NULL input of length 0, so that no pointer arithmetic touches NULL. */
static const uint8_t no_bytes[1];

/* One HeaderField: its kind and its base64 text, not decoded. */
static ifx_rc get_header_field(ifx_pc_reader *r, bool is_key, ifx_header_kind *kind,
                               const uint8_t **text, size_t *len)
{
    unsigned k = 0;
    ifx_rc rc = ifxi_pc_get_index(r, is_key ? "key kind" : "value kind", "HeaderKind",
                                  IFX_PC_HEADER_KIND_COUNT, &k);
    if (rc)
        return rc;
    *kind = (ifx_header_kind)k;
    return ifxi_pc_get_bytes(r, is_key ? "key" : "value", text, len);
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
        return ifxi_base64_decode((const char *)text, len, out, err);
    padded = len - tail + 4;
    room = padded / 4 * 3;
    rc = ifx_buf_reserve(out, room + padded);
    if (rc)
        return ifx_err_set(err, rc, "cannot hold %zu decoded base64 bytes: %s", room,
                           rc == IFX_E_FULL ? "the buffer is full" : "out of memory");
    copy = out->data + out->len + room;
    memcpy(copy, text, len);
    memset(copy + len, '=', 4 - tail);
    return ifxi_base64_decode(copy, padded, out, err);
}

static ifx_rc decode_header_field(ifx_pc_reader *r, bool is_key, ifx_header_kind *kind, size_t *len,
                                  ifx_buf *scratch)
{
    const uint8_t *text = NULL;
    size_t text_len = 0, before = scratch->len;
    ifx_rc rc = get_header_field(r, is_key, kind, &text, &text_len);

    if (rc)
        return rc;
    rc = decode_base64(text, text_len, scratch, r->err);
    if (rc) {
        size_t at = ifxi_pc_offset_of(r, text);
        if (r->err && r->err->offset != IFX_NO_OFFSET)
            r->err->offset += at;
        ifx_err_prefix(r->err, "%s: base64 text at byte %zu", is_key ? "key" : "value", at);
        return rc;
    }
    *len = scratch->len - before;
    return IFX_OK;
}

ifx_rc pc_host_decode_headers(const uint8_t *p, size_t len, ifx_header *out, size_t max,
                              size_t *count, ifx_buf *scratch, ifx_err *err)
{
    ifx_pc_reader r;
    uint64_t n = 0, i;
    const uint8_t *base;
    size_t off;
    ifx_rc rc;

    *count = 0;
    ifx_buf_reset(scratch);
    if (len == 0)
        return IFX_OK;
    r = (ifx_pc_reader){p, p, p + len, err};
    rc = ifxi_pc_get_count(&r, "count", "entry", "entries", IFX_PC_HEADER_ENTRY_MIN, &n);
    if (rc) {
        ifx_err_prefix(err, "header map");
        return rc;
    }
    if (n > max)
        return ifx_err_set_at(err, IFX_E_INVALID, 0,
                              "header map: more than %zu header%s (%" PRIu64 ") at byte 0", max,
                              ifxi_pc_plural(max), n);
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
static ifx_rc skip_header_map(ifx_pc_reader *r, const uint8_t **map, size_t *map_len)
{
    const uint8_t *s = r->p, *text;
    uint64_t n = 0, i;
    ifx_header_kind kind;
    size_t len;
    ifx_rc rc = ifxi_pc_get_count(r, "count", "entry", "entries", IFX_PC_HEADER_ENTRY_MIN, &n);

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

ifx_rc pc_host_produced_begin(ifx_pc_produced *it, const uint8_t *p, size_t len, ifx_err *err)
{
    ifx_pc_batch_head h;
    ifx_rc rc =
        ifxi_pc_batch_begin("ProducedMessages", IFX_PC_PRODUCED_MESSAGE_MIN, p, len, &h, err);

    it->start = h.start;
    it->p = h.first;
    it->end = h.end;
    it->schema = h.schema;
    it->count = it->remaining = h.count;
    it->state_read = it->has_state = false;
    it->state = NULL;
    it->state_len = 0;
    return rc;
}

static ifx_rc get_state(ifx_pc_produced *it, ifx_err *err)
{
    ifx_pc_reader r = {it->start, it->p, it->end, err};
    ifx_rc rc = ifxi_pc_get_option(&r, "state", &it->has_state);

    if (!rc && it->has_state)
        rc = ifxi_pc_get_bytes(&r, "state", &it->state, &it->state_len);
    if (rc) {
        it->has_state = false;
        ifx_err_prefix(err, "ProducedMessages");
        return rc;
    }
    it->p = r.p;
    it->state_read = true;
    return IFX_OK;
}

ifx_rc pc_host_produced_next(ifx_pc_produced *it, ifx_produced_view *out, bool *done, ifx_err *err)
{
    ifx_pc_reader r = {it->start, it->p, it->end, err};
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
    rc = ifxi_pc_get_option(&r, "id", &out->has_id);
    if (!rc && out->has_id)
        rc = ifxi_pc_get_u128(&r, "id", &out->id);
    if (!rc)
        rc = ifxi_pc_get_option(&r, "checksum", &out->has_checksum);
    if (!rc && out->has_checksum)
        rc = ifxi_pc_get_varint(&r, "checksum", &ifxi_pc_u64_limit, &out->checksum);
    if (!rc)
        rc = ifxi_pc_get_option(&r, "timestamp", &out->has_timestamp);
    if (!rc && out->has_timestamp)
        rc = ifxi_pc_get_varint(&r, "timestamp", &ifxi_pc_u64_limit, &out->timestamp);
    if (!rc)
        rc = ifxi_pc_get_option(&r, "origin_timestamp", &out->has_origin_timestamp);
    if (!rc && out->has_origin_timestamp)
        rc = ifxi_pc_get_varint(&r, "origin_timestamp", &ifxi_pc_u64_limit, &out->origin_timestamp);
    if (!rc)
        rc = ifxi_pc_get_option(&r, "headers", &out->has_headers);
    if (!rc && out->has_headers) {
        rc = skip_header_map(&r, &out->headers, &out->headers_len);
        if (rc)
            ifx_err_prefix(err, "headers");
    }
    if (!rc)
        rc = ifxi_pc_get_bytes(&r, "payload", &out->payload, &out->payload_len);
    if (rc) {
        ifx_err_prefix(err, "ProducedMessage %" PRIu64, it->count - it->remaining);
        return rc;
    }
    it->p = r.p;
    it->remaining--;
    return IFX_OK;
}

/* ---- header values as text ------------------------------------------------------------------ */

static uint64_t le_uint(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    while (n--)
        v = v << 8 | p[n];
    return v;
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
            return ifxi_float_format_positional(strtod(s, NULL), out);
        if ((step_last_digit(s, 1, t, sizeof t) && strtof(t, NULL) == f) ||
            (step_last_digit(s, -1, t, sizeof t) && strtof(t, NULL) == f))
            return ifxi_float_format_positional(strtod(t, NULL), out);
    }
    snprintf(s, sizeof s, "%.8e", (double)f);
    return ifxi_float_format_positional(strtod(s, NULL), out);
}

static const uint8_t fixed_size[IFX_PC_HEADER_KIND_COUNT] = {
    [IFX_HDR_BOOL] = 1,    [IFX_HDR_INT8] = 1,    [IFX_HDR_INT16] = 2,    [IFX_HDR_INT32] = 4,
    [IFX_HDR_INT64] = 8,   [IFX_HDR_INT128] = 16, [IFX_HDR_UINT8] = 1,    [IFX_HDR_UINT16] = 2,
    [IFX_HDR_UINT32] = 4,  [IFX_HDR_UINT64] = 8,  [IFX_HDR_UINT128] = 16, [IFX_HDR_FLOAT32] = 4,
    [IFX_HDR_FLOAT64] = 8,
};

ifx_rc pc_host_header_value_text(const ifx_header *h, ifx_buf *out)
{
    char tmp[IFX_LP_FLOAT_MAX];
    const uint8_t *v = h->value;
    size_t n = 0, size;

    if ((unsigned)h->value_kind >= IFX_PC_HEADER_KIND_COUNT)
        return IFX_E_INVALID;
    if (h->value_kind == IFX_HDR_RAW)
        return ifxi_base64_encode(v, h->value_len, out);
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
        ifx_u128 x = {le_uint(v + 8, 8), le_uint(v, 8)};
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
        uint32_t bits = (uint32_t)le_uint(v, 4);
        float f;
        memcpy(&f, &bits, sizeof f);
        if (!isfinite(f))
            return IFX_E_INVALID;
        n = format_float32(f, tmp);
        break;
    }
    case IFX_HDR_FLOAT64: {
        uint64_t bits = le_uint(v, 8);
        double d;
        memcpy(&d, &bits, sizeof d);
        n = ifxi_float_format_positional(d, tmp);
        if (n == 0)
            return IFX_E_INVALID;
        break;
    }
    default:
        return IFX_E_INVALID;
    }
    return ifx_buf_append(out, tmp, n);
}

/* ---- encoding sink-side buffers ------------------------------------------------------------ */

ifx_rc pc_host_encode_topic_meta(ifx_buf *out, const char *stream, const char *topic)
{
    size_t begin = out->len;
    ifx_rc rc = ifxi_pc_put_bytes(out, stream, strlen(stream));

    if (!rc)
        rc = ifxi_pc_put_bytes(out, topic, strlen(topic));
    if (rc)
        ifx_buf_truncate(out, begin);
    return rc;
}

ifx_rc pc_host_encode_messages_meta(ifx_buf *out, const ifx_messages_meta *m)
{
    size_t begin = out->len;
    ifx_rc rc;

    if ((unsigned)m->schema >= IFX_PC_SCHEMA_COUNT)
        return IFX_E_USAGE;
    rc = ifxi_pc_put_varint(out, m->partition_id);
    if (!rc)
        rc = ifxi_pc_put_varint(out, m->current_offset);
    if (!rc)
        rc = ifxi_pc_put_varint(out, (uint64_t)m->schema);
    if (rc)
        ifx_buf_truncate(out, begin);
    return rc;
}

ifx_rc pc_host_encode_raw_messages(ifx_buf *out, ifx_schema schema, const ifx_raw_message *msgs,
                                   size_t n)
{
    size_t begin = out->len, i;
    ifx_rc rc;

    if ((unsigned)schema >= IFX_PC_SCHEMA_COUNT)
        return IFX_E_USAGE;
    rc = ifxi_pc_put_varint(out, (uint64_t)schema);
    if (!rc)
        rc = ifxi_pc_put_varint(out, n);
    for (i = 0; i < n && !rc; i++) {
        const ifx_raw_message *m = &msgs[i];
        rc = ifxi_pc_put_u128(out, m->id);
        if (!rc)
            rc = ifxi_pc_put_varint(out, m->offset);
        if (!rc)
            rc = ifxi_pc_put_varint(out, m->checksum);
        if (!rc)
            rc = ifxi_pc_put_varint(out, m->timestamp);
        if (!rc)
            rc = ifxi_pc_put_varint(out, m->origin_timestamp);
        if (!rc)
            rc = ifxi_pc_put_bytes(out, m->headers, m->headers_len);
        if (!rc)
            rc = ifxi_pc_put_bytes(out, m->payload, m->payload_len);
    }
    if (rc)
        ifx_buf_truncate(out, begin);
    return rc;
}
