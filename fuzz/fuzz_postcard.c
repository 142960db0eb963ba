/* Fuzz target: the postcard decoders (TopicMetadata, MessagesMetadata, RawMessages with their
 * nested header maps, a bare header map, ProducedMessages), header value rendering, and
 * decode -> encode -> decode round trips. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "postcard_host.h"
#include "fuzz_check.h"

#define MAX_HEADERS 64

/* A span returned by a decoder lies inside the input. */
#define CHECK_SPAN(p, len, base, size)                                                             \
    CHECK((len) == 0 ||                                                                            \
          ((const uint8_t *)(p) >= (base) && (size_t)((const uint8_t *)(p) - (base)) <= (size) &&  \
           (len) <= (size) - (size_t)((const uint8_t *)(p) - (base))))

static void check_refusal(ifx_rc rc, const ifx_err *err, size_t size)
{
    CHECK(rc == IFX_E_INVALID);
    CHECK(err->code == IFX_E_INVALID);
    CHECK(err->msg[0] != '\0');
    CHECK(err->offset <= size);
}

/* Renders every key and value; a refusal is only for a fixed-size kind or a non-finite float. */
static void render_headers(const ifx_header *h, size_t n, ifx_buf *text)
{
    for (size_t i = 0; i < n; i++) {
        ifx_header key = h[i];
        size_t before = text->len;
        ifx_rc rc = pc_host_header_value_text(&h[i], text);
        CHECK(rc == IFX_OK || rc == IFX_E_INVALID);
        if (rc)
            CHECK(text->len == before && h[i].value_kind > IFX_HDR_STRING);
        if (rc == IFX_OK && h[i].value_kind == IFX_HDR_STRING)
            CHECK(text->len - before == h[i].value_len);
        key.value_kind = key.key_kind;
        key.value = key.key;
        key.value_len = key.key_len;
        rc = pc_host_header_value_text(&key, text);
        CHECK(rc == IFX_OK || rc == IFX_E_INVALID);
    }
    ifx_buf_reset(text);
}

/* Decodes a header map, renders it, re-encodes it and decodes that again. */
static void header_map(const uint8_t *p, size_t len, size_t base_size, ifx_buf *scratch,
                       ifx_buf *text)
{
    ifx_header h[MAX_HEADERS], h2[MAX_HEADERS];
    ifx_header_in in[MAX_HEADERS];
    size_t n = 0, n2 = 0;
    ifx_buf enc, scratch2;
    ifx_err err;
    ifx_rc rc;

    ifx_err_clear(&err);
    rc = pc_host_decode_headers(p, len, h, MAX_HEADERS, &n, scratch, &err);
    CHECK(pc_host_decode_headers(p, len, h2, MAX_HEADERS, &n2, scratch, NULL) == rc);
    if (rc) {
        check_refusal(rc, &err, base_size);
        CHECK(n == 0 && n2 == 0);
        return;
    }
    /* The second decode reused scratch: decode again so that h points at live bytes. */
    CHECK(pc_host_decode_headers(p, len, h, MAX_HEADERS, &n, scratch, NULL) == IFX_OK);
    CHECK(n <= MAX_HEADERS && n <= len / 4);
    render_headers(h, n, text);

    for (size_t i = 0; i < n; i++) {
        CHECK(h[i].key_len == 0 ||
              ((const char *)h[i].key >= scratch->data &&
               (const char *)h[i].key + h[i].key_len <= scratch->data + scratch->len));
        in[i] = (ifx_header_in){h[i].key_kind,   h[i].key,   h[i].key_len,
                                h[i].value_kind, h[i].value, h[i].value_len};
    }
    ifx_buf_init(&enc, 1 << 24);
    ifx_buf_init(&scratch2, 1 << 24);
    CHECK(ifxi_pc_put_headers(&enc, in, n) == IFX_OK);
    /* Canonical varints; per field up to two padding characters and one more length byte. */
    CHECK(enc.len <= len + 1 + 6 * n); /* + 1: an empty input becomes "00" */
    CHECK(pc_host_decode_headers((const uint8_t *)enc.data, enc.len, h2, MAX_HEADERS, &n2,
                                 &scratch2, NULL) == IFX_OK);
    CHECK(n2 == n);
    for (size_t i = 0; i < n; i++) {
        CHECK(h2[i].key_kind == h[i].key_kind && h2[i].value_kind == h[i].value_kind);
        CHECK(h2[i].key_len == h[i].key_len && h2[i].value_len == h[i].value_len);
        CHECK(h[i].key_len == 0 || memcmp(h2[i].key, h[i].key, h[i].key_len) == 0);
        CHECK(h[i].value_len == 0 || memcmp(h2[i].value, h[i].value, h[i].value_len) == 0);
    }
    ifx_buf_free(&enc);
    ifx_buf_free(&scratch2);
}

static void topic_meta(const uint8_t *data, size_t size)
{
    ifx_topic_meta m, m2;
    ifx_err err;
    ifx_rc rc;

    ifx_err_clear(&err);
    rc = ifxi_pc_decode_topic_meta(data, size, &m, &err);
    CHECK(ifxi_pc_decode_topic_meta(data, size, &m2, NULL) == rc);
    if (rc) {
        check_refusal(rc, &err, size);
        return;
    }
    CHECK_SPAN(m.stream, m.stream_len, data, size);
    CHECK_SPAN(m.topic, m.topic_len, data, size);
    CHECK(ifxi_utf8_valid(m.stream, m.stream_len, NULL));
    CHECK(ifxi_utf8_valid(m.topic, m.topic_len, NULL));
}

static void messages_meta(const uint8_t *data, size_t size)
{
    ifx_messages_meta m, m2;
    ifx_buf enc;
    ifx_err err;
    ifx_rc rc;

    ifx_err_clear(&err);
    rc = ifxi_pc_decode_messages_meta(data, size, &m, &err);
    if (rc) {
        check_refusal(rc, &err, size);
        return;
    }
    CHECK((unsigned)m.schema <= IFX_SCHEMA_AVRO);
    ifx_buf_init(&enc, 64);
    CHECK(pc_host_encode_messages_meta(&enc, &m) == IFX_OK);
    CHECK(enc.len <= size);
    CHECK(ifxi_pc_decode_messages_meta((const uint8_t *)enc.data, enc.len, &m2, NULL) == IFX_OK);
    CHECK(m2.partition_id == m.partition_id && m2.current_offset == m.current_offset &&
          m2.schema == m.schema);
    ifx_buf_free(&enc);
}

static bool same_message(const ifx_raw_message *a, const ifx_raw_message *b)
{
    return a->id.hi == b->id.hi && a->id.lo == b->id.lo && a->offset == b->offset &&
           a->checksum == b->checksum && a->timestamp == b->timestamp &&
           a->origin_timestamp == b->origin_timestamp && a->headers_len == b->headers_len &&
           a->payload_len == b->payload_len &&
           (a->headers_len == 0 || memcmp(a->headers, b->headers, a->headers_len) == 0) &&
           (a->payload_len == 0 || memcmp(a->payload, b->payload, a->payload_len) == 0);
}

static void raw_messages(const uint8_t *data, size_t size, ifx_buf *scratch, ifx_buf *text)
{
    ifx_pc_messages it;
    ifx_raw_message *msgs = NULL, again;
    size_t n = 0;
    ifx_buf enc;
    ifx_err err;
    bool done = false;
    char dec[40];
    ifx_rc rc;

    ifx_err_clear(&err);
    rc = ifxi_pc_messages_begin(&it, data, size, &err);
    if (rc) {
        check_refusal(rc, &err, size);
        return;
    }
    /* The declared count is bounded by the input: at least 7 bytes a message. */
    CHECK(it.count <= size / 7);
    msgs = malloc((size_t)(it.count ? it.count : 1) * sizeof *msgs);
    CHECK(msgs);
    while (!done) {
        rc = ifxi_pc_messages_next(&it, &msgs[n], &done, &err);
        if (rc) {
            check_refusal(rc, &err, size);
            CHECK(strncmp(err.msg, "RawMessage ", 11) == 0);
            break;
        }
        if (done)
            break;
        const ifx_raw_message *m = &msgs[n++];
        CHECK_SPAN(m->headers, m->headers_len, data, size);
        CHECK_SPAN(m->payload, m->payload_len, data, size);
        size_t k = ifx_u128_format(m->id, dec);
        CHECK(k >= 1 && k <= 39 && strlen(dec) == k && (k == 1 || dec[0] != '0'));
        header_map(m->headers, m->headers_len, m->headers_len, scratch, text);
    }
    CHECK(n + it.remaining == it.count);

    /* Whatever decoded re-encodes canonically and decodes to the same fields. */
    ifx_buf_init(&enc, 1 << 26);
    CHECK(pc_host_encode_raw_messages(&enc, it.schema, msgs, n) == IFX_OK);
    if (rc == IFX_OK)
        CHECK(enc.len <= (size_t)(it.p - it.start));
    CHECK(ifxi_pc_messages_begin(&it, (const uint8_t *)enc.data, enc.len, NULL) == IFX_OK);
    CHECK(it.count == n);
    for (size_t i = 0; i < n; i++) {
        CHECK(ifxi_pc_messages_next(&it, &again, &done, NULL) == IFX_OK && !done);
        CHECK(same_message(&again, &msgs[i]));
    }
    CHECK(ifxi_pc_messages_next(&it, &again, &done, NULL) == IFX_OK && done);
    CHECK(it.p == it.end);
    ifx_buf_free(&enc);
    free(msgs);
}

static void produced(const uint8_t *data, size_t size, ifx_buf *scratch, ifx_buf *text)
{
    ifx_pc_produced it;
    ifx_produced_view v;
    ifx_err err;
    bool done = false;
    ifx_rc rc;

    ifx_err_clear(&err);
    rc = pc_host_produced_begin(&it, data, size, &err);
    if (rc) {
        check_refusal(rc, &err, size);
        return;
    }
    CHECK(it.count <= size / 6);
    while (!done) {
        rc = pc_host_produced_next(&it, &v, &done, &err);
        if (rc) {
            check_refusal(rc, &err, size);
            return;
        }
        if (done)
            break;
        CHECK_SPAN(v.payload, v.payload_len, data, size);
        if (v.has_headers) {
            CHECK(v.headers_len >= 1);
            CHECK_SPAN(v.headers, v.headers_len, data, size);
            header_map(v.headers, v.headers_len, v.headers_len, scratch, text);
        }
    }
    CHECK(it.state_read);
    if (it.has_state)
        CHECK_SPAN(it.state, it.state_len, data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ifx_buf scratch, text;

    ifx_buf_init(&scratch, 1 << 24);
    ifx_buf_init(&text, 1 << 24);
    topic_meta(data, size);
    messages_meta(data, size);
    raw_messages(data, size, &scratch, &text);
    header_map(data, size, size, &scratch, &text);
    produced(data, size, &scratch, &text);
    ifx_buf_free(&scratch);
    ifx_buf_free(&text);
    return 0;
}
