/* ifx — the sink's mapping: one Iggy message to one line-protocol line (see mapping.h). */
#include "connector/mapping.h"

#include <stdio.h>
#include <string.h>

#include "core/codec.h"
#include "core/lp_internal.h"
#include "ifx/timeutil.h"

/* What one call works with: the configuration, the caller's scratch buffers and its batch. */
typedef struct map {
    const ifx_config *cfg;
    ifx_mapping_scratch *sc;
    ifx_lp *lp;
} map;

void ifxi_mapping_scratch_init(ifx_mapping_scratch *sc)
{
    ifx_buf_init(&sc->text, (size_t)1 << 30);
    ifx_buf_init(&sc->key, 1 << 20);
    ifxi_lp_prefix_init(&sc->prefix);
    ifx_buf_init(&sc->prefix_made_of, (size_t)1 << 30);
}

void ifxi_mapping_scratch_free(ifx_mapping_scratch *sc)
{
    ifx_buf_free(&sc->text);
    ifx_buf_free(&sc->key);
    ifxi_lp_prefix_free(&sc->prefix);
    ifx_buf_free(&sc->prefix_made_of);
}

/* An unsigned metadata field. 1.x has no unsigned type: values that always fit are written as
 * integers, and the checksum (the full 64-bit range) as a decimal string, so that each field
 * keeps one type on every line. */
static ifx_rc add_u64(map *x, const char *key, uint64_t v, bool full_range, ifx_err *err)
{
    if (x->cfg->version != IFX_VERSION_V1)
        return ifx_lp_add_uint(x->lp, key, strlen(key), v, err);
    if (full_range) {
        char num[IFXI_LP_DECIMAL_MAX];
        size_t n = ifxi_lp_format_u64(v, num);
        return ifx_lp_add_string(x->lp, key, strlen(key), num, n, err);
    }
    if (v > INT64_MAX)
        return ifx_err_set(err, IFX_E_UNSUPPORTED, "%s %llu is too large for InfluxDB 1.x", key,
                           (unsigned long long)v);
    return ifx_lp_add_int(x->lp, key, strlen(key), (int64_t)v, err);
}

/* Text of a scalar JSON value for a tag: strings decoded, numbers and booleans as written,
 * arrays and objects as compact JSON. Appends to x->sc->text; *out points into it. */
static ifx_rc scalar_text(map *x, const ifx_json_val *v, const char **out, size_t *len,
                          ifx_err *err)
{
    size_t start = x->sc->text.len;
    ifx_rc rc;
    if (v->type == IFX_JSON_STRING)
        rc = ifxi_json_string_decode(v, &x->sc->text, err);
    else if (v->type == IFX_JSON_OBJECT || v->type == IFX_JSON_ARRAY)
        rc = ifxi_json_compact(v->p, v->len, &x->sc->text, err);
    else
        rc = ifx_buf_append(&x->sc->text, v->p, v->len);
    if (rc)
        return rc;
    *out = x->sc->text.data + start;
    *len = x->sc->text.len - start;
    return IFX_OK;
}

static bool in_list(const ifx_strlist *l, const char *s, size_t len)
{
    for (size_t i = 0; i < l->n; i++)
        if (strlen(l->items[i]) == len && memcmp(l->items[i], s, len) == 0)
            return true;
    return false;
}

/* Writes the members of a JSON object as fields, nested keys joined with '.'. */
static ifx_rc add_json_fields(map *x, const ifx_json_val *obj, int depth, ifx_err *err)
{
    ifx_json_iter it;
    ifx_json_val k, v;
    size_t prefix = x->sc->key.len;
    ifx_rc rc;

    ifxi_json_iter_init(&it, obj);
    while (ifxi_json_object_next(&it, &k, &v)) {
        ifx_buf_truncate(&x->sc->key, prefix);
        if (prefix && (rc = ifx_buf_putc(&x->sc->key, '.')))
            return rc;
        if ((rc = ifxi_json_string_decode(&k, &x->sc->key, err)))
            return rc;
        const char *name = x->sc->key.data;
        size_t nlen = x->sc->key.len;
        size_t top = prefix ? prefix : nlen; /* the top-level key */
        if (depth == 0) {
            if (in_list(&x->cfg->tag_keys, name, nlen))
                continue; /* written as a tag */
            if (x->cfg->timestamp_source == IFX_TS_PAYLOAD &&
                strlen(x->cfg->timestamp_field) == nlen &&
                memcmp(x->cfg->timestamp_field, name, nlen) == 0)
                continue; /* it is the point's time */
        }
        if (x->cfg->field_keys.n && !in_list(&x->cfg->field_keys, name, nlen) &&
            !in_list(&x->cfg->field_keys, name, top))
            continue;
        switch (v.type) {
        case IFX_JSON_NULL:
            rc = IFX_OK;
            break;
        case IFX_JSON_OBJECT:
            rc = depth < 32 ? add_json_fields(x, &v, depth + 1, err)
                            : ifx_err_set(err, IFX_E_INVALID, "payload nested too deeply");
            break;
        case IFX_JSON_TRUE:
        case IFX_JSON_FALSE:
            rc = ifx_lp_add_bool(x->lp, name, nlen, v.type == IFX_JSON_TRUE, err);
            break;
        case IFX_JSON_STRING:
        case IFX_JSON_ARRAY: { /* an array as its compact JSON text */
            const char *t;
            size_t tl;
            ifx_buf_reset(&x->sc->text);
            rc = scalar_text(x, &v, &t, &tl, err);
            if (!rc)
                rc = ifx_lp_add_string(x->lp, name, nlen, t, tl, err);
            break;
        }
        case IFX_JSON_NUMBER: {
            int64_t i;
            uint64_t u;
            double d;
            /* JSON does not tell 1 from 1.0: unless asked, every number is a float, so one
             * field never switches type (which InfluxDB would refuse) between messages. */
            bool whole = x->cfg->json_integers && !(v.flags & IFX_JSON_F_FRAC);
            if (whole && ifxi_json_get_i64(&v, &i, NULL) == IFX_OK)
                rc = ifx_lp_add_int(x->lp, name, nlen, i, err);
            else if (whole && x->cfg->version != IFX_VERSION_V1 &&
                     ifxi_json_get_u64(&v, &u, NULL) == IFX_OK)
                rc = ifx_lp_add_uint(x->lp, name, nlen, u, err);
            else if ((rc = ifxi_json_get_double(&v, &d, err)) == IFX_OK)
                rc = ifx_lp_add_float(x->lp, name, nlen, d, err);
            break;
        }
        default:
            rc = IFX_OK;
        }
        if (rc)
            return rc;
    }
    ifx_buf_truncate(&x->sc->key, prefix);
    return IFX_OK;
}

/* The point's time in nanoseconds, from the configured source. */
static ifx_rc point_time(const map *x, const ifx_sink_message *m, const ifx_json_val *payload,
                         int64_t *ns, ifx_err *err)
{
    uint64_t us = 0;
    switch (x->cfg->timestamp_source) {
    case IFX_TS_ORIGIN:
        us = m->origin_timestamp_us;
        break;
    case IFX_TS_PAYLOAD: {
        ifx_json_val v;
        const char *f = x->cfg->timestamp_field;
        if (!payload || payload->type != IFX_JSON_OBJECT)
            return ifx_err_set(err, IFX_E_INVALID,
                               "timestamp_source \"payload\" needs a JSON object payload");
        if (!ifxi_json_object_get(payload, f, &v))
            return ifx_err_set(err, IFX_E_INVALID, "the payload has no timestamp field '%s'", f);
        if (v.type == IFX_JSON_STRING) {
            char t[64];
            if (v.len - 2 >= sizeof t)
                return ifx_err_set(err, IFX_E_INVALID, "timestamp field '%s' is too long", f);
            memcpy(t, v.p + 1, v.len - 2);
            if (ifx_time_parse_rfc3339(t, v.len - 2, ns, err))
                return ifx_err_prefix(err, "timestamp field '%s'", f);
            return IFX_OK;
        }
        if (v.type != IFX_JSON_NUMBER)
            return ifx_err_set(err, IFX_E_INVALID,
                               "timestamp field '%s' must be a number or an RFC 3339 string", f);
        double d;
        int64_t i;
        long long unit = ifx_precision_ns(x->cfg->timestamp_unit);
        if (!(v.flags & IFX_JSON_F_FRAC) && ifxi_json_get_i64(&v, &i, NULL) == IFX_OK) {
            if (i > INT64_MAX / unit || i < INT64_MIN / unit)
                return ifx_err_set(err, IFX_E_INVALID, "timestamp field '%s' is out of range", f);
            *ns = i * unit;
            return IFX_OK;
        }
        if (ifxi_json_get_double(&v, &d, err) || d * (double)unit > 9.2e18 ||
            d * (double)unit < -9.2e18)
            return ifx_err_set(err, IFX_E_INVALID, "timestamp field '%s' is out of range", f);
        *ns = (int64_t)(d * (double)unit);
        return IFX_OK;
    }
    case IFX_TS_IGGY:
    case IFX_TS_ROW: /* source values: refused for a sink by the configuration */
    case IFX_TS_POLL:
        us = m->timestamp_us;
        break;
    }
    if (us == 0) {
        /* as upstream: a message without a time gets the wall clock */
        *ns = ifx_time_now_ns();
        return IFX_OK;
    }
    if (us > (uint64_t)INT64_MAX / 1000)
        return ifx_err_set(err, IFX_E_INVALID, "timestamp %llu us is beyond what InfluxDB stores",
                           (unsigned long long)us);
    *ns = (int64_t)us * 1000;
    /* Without the offset tag, two messages appended in the same microsecond would be the same
     * point and the second would overwrite the first: at ns precision the offset's last three
     * digits keep them apart (the time is unchanged at us precision and coarser). */
    if (x->cfg->offset_as == IFX_OFFSET_FIELD && x->cfg->precision == IFX_PRECISION_NS) {
        int64_t extra = (int64_t)(m->offset % 1000);
        if (*ns > INT64_MAX - extra) /* the last microsecond's last nanoseconds */
            return ifx_err_set(err, IFX_E_INVALID,
                               "timestamp %llu us is beyond what InfluxDB stores",
                               (unsigned long long)us);
        *ns += extra;
    }
    return IFX_OK;
}

/* Equality of short byte strings without a call for the common short case. */
static inline bool same_bytes(const char *a, const void *bv, size_t n)
{
    const char *b = bv;
    uint64_t x, y, u, v;

    if (n > 16)
        return memcmp(a, b, n) == 0;
    if (n >= 8) {
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        memcpy(&u, a + n - 8, 8);
        memcpy(&v, b + n - 8, 8);
        return x == y && u == v;
    }
    if (n >= 4) { /* two overlapping words, as for 8 to 16: no loop for the 4 to 7 of a name */
        uint32_t x4, y4, u4, v4;
        memcpy(&x4, a, 4);
        memcpy(&y4, b, 4);
        memcpy(&u4, a + n - 4, 4);
        memcpy(&v4, b + n - 4, 4);
        return x4 == y4 && u4 == v4;
    }
    return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
}

/* The bytes the prefix is made of: the target and the settings that shape it, the measurement
 * and default tags (NUL-free strings, so NUL separates them), the partition, and the stream and
 * topic. Equal bytes, equal prefix: nothing rests on a pointer staying the same. One walk either
 * writes them (out set) or compares them with what the saved prefix was made of. */
struct source_walk {
    ifx_buf *out;      /* write here, or */
    const char *saved; /* compare with saved[0..saved_len) */
    size_t saved_len, pos;
    bool same;
    ifx_rc rc;
};

static inline void piece(struct source_walk *w, const void *p, size_t n)
{
    if (w->out) {
        if (!w->rc)
            w->rc = ifx_buf_append(w->out, p, n);
        return;
    }
    if (w->same && (n > w->saved_len - w->pos || !same_bytes(w->saved + w->pos, p, n)))
        w->same = false;
    w->pos += n;
}

static void prefix_source(const map *x, const ifx_sink_message *m, struct source_walk *w)
{
    const ifx_config *c = x->cfg;
    unsigned char head[5] = {(unsigned char)x->lp->target, c->include_metadata,
                             c->include_stream_tag, c->include_topic_tag, c->include_partition_tag};
    uint64_t stream_len = m->stream_len;

    piece(w, head, sizeof head);
    piece(w, c->measurement, strlen(c->measurement) + 1);
    for (size_t i = 0; i < c->default_tags.n; i++) {
        piece(w, c->default_tags.keys[i], strlen(c->default_tags.keys[i]) + 1);
        piece(w, c->default_tags.values[i], strlen(c->default_tags.values[i]) + 1);
    }
    piece(w, &m->partition, sizeof m->partition);
    piece(w, &stream_len, sizeof stream_len);
    piece(w, m->stream, m->stream_len);
    piece(w, m->topic, m->topic_len);
}

/* Opens the line with the measurement and every tag but the offset: from the saved prefix when
 * the message comes from the same place as the last one, else built (and saved) by the same
 * calls as always, so a refusal is the same too. The offset tag, the only one that changes from
 * message to message, is added by the caller. */
static ifx_rc begin_series(map *x, const ifx_sink_message *m, ifx_err *err)
{
    const ifx_config *c = x->cfg;
    ifx_mapping_scratch *sc = x->sc;
    char num[IFXI_LP_DECIMAL_MAX];
    ifx_rc rc;

    if (sc->prefix.saved) {
        struct source_walk w = {NULL, sc->prefix_made_of.data, sc->prefix_made_of.len, 0, true, 0};
        prefix_source(x, m, &w);
        if (w.same && w.pos == w.saved_len)
            return ifxi_lp_begin_line_prefix(x->lp, &sc->prefix, err);
    }
    sc->prefix.saved = false;
    if ((rc = ifx_lp_begin_line(x->lp, c->measurement, strlen(c->measurement), err)))
        return rc;
    if (c->include_metadata) {
        if (c->include_stream_tag &&
            (rc = ifx_lp_add_tag(x->lp, "stream", 6, m->stream, m->stream_len, err)))
            return rc;
        if (c->include_topic_tag &&
            (rc = ifx_lp_add_tag(x->lp, "topic", 5, m->topic, m->topic_len, err)))
            return rc;
        if (c->include_partition_tag) {
            size_t n = ifxi_lp_format_u64(m->partition, num);
            if ((rc = ifx_lp_add_tag(x->lp, "partition", 9, num, n, err)))
                return rc;
        }
    }
    for (size_t i = 0; i < c->default_tags.n; i++)
        if ((rc =
                 ifx_lp_add_tag(x->lp, c->default_tags.keys[i], strlen(c->default_tags.keys[i]),
                                c->default_tags.values[i], strlen(c->default_tags.values[i]), err)))
            return rc;
    /* Only a prefix that could be saved whole is reused; without one, every line is built. */
    struct source_walk w = {&sc->prefix_made_of, NULL, 0, 0, true, 0};
    ifx_buf_reset(&sc->prefix_made_of);
    prefix_source(x, m, &w);
    if (w.rc || ifxi_lp_prefix_save(x->lp, &sc->prefix) != IFX_OK)
        sc->prefix.saved = false;
    sc->offset_at_ok = ifxi_lp_prefix_tag_at(&sc->prefix, "offset", 6, &sc->offset_at);
    return IFX_OK;
}

/* Appends the bytes of a constant string (its length known to the compiler). */
#define PUT(w, lit)                                                                                \
    do {                                                                                           \
        memcpy(w, lit, sizeof lit - 1);                                                            \
        (w) += sizeof lit - 1;                                                                     \
    } while (0)

/* An unsigned metadata field as add_u64 writes it, at w: false where add_u64 refuses it. */
static inline bool put_u64(char **pw, ifx_version target, uint64_t v, bool full_range)
{
    char *w = *pw;

    if (target != IFX_VERSION_V1) {
        w += ifxi_lp_format_u64(v, w);
        *w++ = 'u';
    } else if (full_range) {
        *w++ = '"';
        w += ifxi_lp_format_u64(v, w);
        *w++ = '"';
    } else {
        if (v > INT64_MAX)
            return false;
        w += ifxi_lp_format_u64(v, w);
        *w++ = 'i';
    }
    *pw = w;
    return true;
}

/* The most bytes a direct line takes besides the prefix and the payload: the offset tag, every
 * metadata field with its largest value, the payload's key and quotes, the time and the line
 * end (with room for the 16-byte stores of the formatters and the JSON pass). */
#define DIRECT_ROOM 400

/* The usual line, written straight into the batch (ifxi_lp_direct_begin): a JSON payload from a
 * place whose prefix is saved, the time from the message. It writes the bytes the ifx_lp_* calls
 * below would, and returns false, having written nothing, wherever they could refuse the line or
 * find the batch full (a limit, a time out of range, a payload its fast pass does not take):
 * the caller then takes them, which gives the exact answer. */
static bool encode_direct(map *x, const ifx_sink_message *m, int64_t *out_ns)
{
    const ifx_config *c = x->cfg;
    ifx_mapping_scratch *sc = x->sc;
    const ifx_lp_prefix *pre = &sc->prefix;
    ifx_lp *lp = x->lp;
    ifx_version target = lp->target;
    bool offset_tag = c->offset_as == IFX_OFFSET_TAG;
    char *w, *start, *payload;
    size_t compact, tlen;
    int64_t ns;

    if (c->payload_format != IFX_PAYLOAD_JSON || c->timestamp_source == IFX_TS_PAYLOAD ||
        (c->include_metadata && (!c->include_stream_tag || !c->include_topic_tag)) || !pre->saved ||
        (offset_tag && !sc->offset_at_ok) ||
        m->payload_len > (SIZE_MAX - DIRECT_ROOM) / 4 - pre->text.len)
        return false;
    struct source_walk sw = {NULL, sc->prefix_made_of.data, sc->prefix_made_of.len, 0, true, 0};
    prefix_source(x, m, &sw);
    if (!sw.same || sw.pos != sw.saved_len)
        return false;
    if (point_time(x, m, NULL, &ns, NULL))
        return false;
    if (!(start = ifxi_lp_direct_begin(lp, pre->text.len + 2 * m->payload_len + DIRECT_ROOM)))
        return false;
    w = start;
    if (offset_tag) {
        memcpy(w, pre->text.data, sc->offset_at);
        w += sc->offset_at;
        PUT(w, ",offset=");
        w += ifxi_lp_format_u64(m->offset, w);
        memcpy(w, pre->text.data + sc->offset_at, pre->text.len - sc->offset_at);
        w += pre->text.len - sc->offset_at;
    } else {
        memcpy(w, pre->text.data, pre->text.len);
        w += pre->text.len;
    }
    /* ifx_lp_end_line's limit on the series key with the longest field key (21 bytes at most:
     * iggy_origin_timestamp): near it, the checked calls decide */
    if (target != IFX_VERSION_V3 && (size_t)(w - start) + 21 >= IFX_LP_MAX_SERIES_KEY)
        goto hand_over;
    PUT(w, " message_id=\"");
    w += ifxi_lp_format_u128(m->id.hi, m->id.lo, w);
    *w++ = '"';
    if (c->include_metadata && !c->include_partition_tag) {
        PUT(w, ",iggy_partition=");
        if (!put_u64(&w, target, m->partition, false))
            goto hand_over;
    }
    if (c->include_checksum) {
        PUT(w, ",iggy_checksum=");
        if (!put_u64(&w, target, m->checksum, true))
            goto hand_over;
    }
    if (c->include_origin_timestamp) {
        PUT(w, ",iggy_origin_timestamp=");
        if (!put_u64(&w, target, m->origin_timestamp_us, false))
            goto hand_over;
    }
    if (!offset_tag) {
        PUT(w, ",iggy_offset=");
        if (!put_u64(&w, target, m->offset, false))
            goto hand_over;
    }
    PUT(w, ",payload_json=\"");
    if (!ifxi_json_lp_fast((const char *)m->payload, m->payload_len, w, &payload, &compact) ||
        compact > IFX_LP_MAX_ELEMENT)
        goto hand_over;
    w = payload;
    *w++ = '"';
    if (!(tlen = ifxi_lp_time_text(lp, ns, w)))
        goto hand_over;
    w += tlen;
    *w++ = '\n';
    ifxi_lp_direct_end(lp, w);
    *out_ns = ns;
    return true;
hand_over:
    ifxi_lp_direct_cancel(lp);
    return false;
}

ifx_rc ifxi_mapping_encode(const ifx_config *c, const ifx_sink_message *m, ifx_mapping_scratch *sc,
                           ifx_lp *lp, int64_t *out_ns, ifx_err *err)
{
    map mx = {c, sc, lp}, *x = &mx;
    char num[48];
    ifx_json_val payload = {0};
    bool parsed = false;
    int64_t ns;
    ifx_rc rc;

    if (encode_direct(x, m, out_ns))
        return IFX_OK;
    if ((rc = begin_series(x, m, err)))
        goto fail;
    if (c->offset_as == IFX_OFFSET_TAG) {
        size_t n = ifxi_lp_format_u64(m->offset, num);
        if ((rc = ifx_lp_add_tag(x->lp, "offset", 6, num, n, err)))
            goto fail;
    }

    if ((rc = ifxi_lp_add_u128_string(x->lp, "message_id", 10, m->id.hi, m->id.lo, err)))
        goto fail;
    if (c->include_metadata) {
        if (!c->include_stream_tag &&
            (rc = ifx_lp_add_string(x->lp, "iggy_stream", 11, m->stream, m->stream_len, err)))
            goto fail;
        if (!c->include_topic_tag &&
            (rc = ifx_lp_add_string(x->lp, "iggy_topic", 10, m->topic, m->topic_len, err)))
            goto fail;
        if (!c->include_partition_tag &&
            (rc = add_u64(x, "iggy_partition", m->partition, false, err)))
            goto fail;
    }
    if (c->include_checksum && (rc = add_u64(x, "iggy_checksum", m->checksum, true, err)))
        goto fail;
    if (c->include_origin_timestamp &&
        (rc = add_u64(x, "iggy_origin_timestamp", m->origin_timestamp_us, false, err)))
        goto fail;
    if (c->offset_as == IFX_OFFSET_FIELD && (rc = add_u64(x, "iggy_offset", m->offset, false, err)))
        goto fail;

    const char *p = (const char *)m->payload;
    size_t plen = m->payload_len;
    switch (c->payload_format) {
    case IFX_PAYLOAD_JSON:
        /* One pass validates, compacts and escapes the payload into the line. */
        if ((rc = ifxi_lp_add_json_string(x->lp, "payload_json", 12, p, plen,
                                          "payload is not valid JSON", err)))
            goto fail;
        break;
    case IFX_PAYLOAD_TEXT:
        if ((rc = ifxi_lp_add_text_string(x->lp, "payload_text", 12, p, plen,
                                          "payload is not valid UTF-8 text", err)))
            goto fail;
        break;
    case IFX_PAYLOAD_BASE64:
        ifx_buf_reset(&x->sc->text);
        if ((rc = ifxi_base64_encode(p, plen, &x->sc->text)) ||
            (rc = ifx_lp_add_string(x->lp, "payload_base64", 14, x->sc->text.data, x->sc->text.len,
                                    err)))
            goto fail;
        break;
    case IFX_PAYLOAD_JSON_FIELDS:
        if ((rc = ifxi_json_parse(p, plen, &payload, err))) {
            ifx_err_prefix(err, "payload is not valid JSON");
            goto fail;
        }
        parsed = true;
        if (payload.type != IFX_JSON_OBJECT) {
            rc = ifx_err_set(err, IFX_E_INVALID,
                             "payload_format \"json_fields\" needs a JSON object, got %s",
                             ifxi_json_type_name(payload.type));
            goto fail;
        }
        for (size_t i = 0; i < c->tag_keys.n; i++) {
            ifx_json_val tv;
            const char *t;
            size_t tl;
            if (!ifxi_json_object_get(&payload, c->tag_keys.items[i], &tv) ||
                tv.type == IFX_JSON_NULL)
                continue;
            ifx_buf_reset(&x->sc->text);
            if ((rc = scalar_text(x, &tv, &t, &tl, err)) ||
                (rc = ifx_lp_add_tag(x->lp, c->tag_keys.items[i], strlen(c->tag_keys.items[i]), t,
                                     tl, err)))
                goto fail;
        }
        ifx_buf_reset(&x->sc->key);
        if ((rc = add_json_fields(x, &payload, 0, err)))
            goto fail;
        break;
    }
    if (c->timestamp_source == IFX_TS_PAYLOAD && !parsed) {
        if (ifxi_json_parse(p, plen, &payload, NULL) != IFX_OK)
            payload.type = IFX_JSON_NONE;
        parsed = true;
    }
    if ((rc = point_time(x, m, parsed ? &payload : NULL, &ns, err)))
        goto fail;
    *out_ns = ns;
    return ifx_lp_end_line(x->lp, true, ns, err); /* IFX_E_FULL keeps the line open */
fail:
    ifx_lp_abort_line(x->lp);
    return rc;
}
