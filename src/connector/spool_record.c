/* ifx — the sink's spool record format (see spool_record.h). */
#include "connector/spool_record.h"

#include "core/le.h"

static ifx_rc put_u32(ifx_buf *b, uint32_t v)
{
    uint8_t x[4];
    ifx_le_put32(x, v);
    return ifx_buf_append(b, x, sizeof x);
}

static ifx_rc put_u64(ifx_buf *b, uint64_t v)
{
    uint8_t x[8];
    ifx_le_put64(x, v);
    return ifx_buf_append(b, x, sizeof x);
}

static ifx_rc put_str(ifx_buf *b, const void *p, size_t len)
{
    ifx_rc rc = put_u32(b, (uint32_t)len);
    return rc ? rc : ifx_buf_append(b, p, len);
}

ifx_rc ifxi_spool_record_begin(ifx_buf *rec, uint32_t n)
{
    ifx_buf_reset(rec);
    return put_u32(rec, n);
}

ifx_rc ifxi_spool_record_add(ifx_buf *rec, const char *line, size_t len, const ifx_line_origin *o)
{
    ifx_rc rc;
    if ((rc = put_str(rec, line, len)) || (rc = put_str(rec, o->stream, o->stream_len)) ||
        (rc = put_str(rec, o->topic, o->topic_len)) || (rc = put_u32(rec, o->partition)) ||
        (rc = put_u64(rec, o->offset)) || (rc = put_u64(rec, o->id.hi)))
        return rc;
    return put_u64(rec, o->id.lo);
}

static bool get_u32(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
    if (end - *p < 4)
        return false;
    *v = ifx_le_get32(*p);
    *p += 4;
    return true;
}

static bool get_u64(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    if (end - *p < 8)
        return false;
    *v = ifx_le_get64(*p);
    *p += 8;
    return true;
}

static bool get_str(const uint8_t **p, const uint8_t *end, const char **s, size_t *len)
{
    uint32_t n;
    if (!get_u32(p, end, &n) || (size_t)(end - *p) < n)
        return false;
    *s = (const char *)*p;
    *len = n;
    *p += n;
    return true;
}

bool ifxi_spool_record_count(const char *rec, size_t len, uint32_t *n)
{
    const uint8_t *p = (const uint8_t *)rec;
    return get_u32(&p, p + len, n);
}

bool ifxi_spool_record_decode(const char *rec, size_t len, uint32_t n, ifx_line_span *spans,
                              ifx_line_origin *o)
{
    const uint8_t *p, *end = (const uint8_t *)rec + len;
    if (len < 4)
        return false;
    p = (const uint8_t *)rec + 4; /* past the count */
    for (uint32_t i = 0; i < n; i++) {
        const char *line;
        size_t line_len;
        if (!get_str(&p, end, &line, &line_len) ||
            !get_str(&p, end, &o[i].stream, &o[i].stream_len) ||
            !get_str(&p, end, &o[i].topic, &o[i].topic_len) || !get_u32(&p, end, &o[i].partition) ||
            !get_u64(&p, end, &o[i].offset) || !get_u64(&p, end, &o[i].id.hi) ||
            !get_u64(&p, end, &o[i].id.lo))
            return false;
        spans[i].off = (size_t)(line - rec);
        spans[i].len = line_len;
        o[i].payload = NULL;
        o[i].payload_len = 0;
    }
    return true;
}
