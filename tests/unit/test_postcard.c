/* Tests for the postcard wire format (src/iggy/postcard.c): every worked example of
 * spec/iggy-plugin-abi.md §7.6 in both directions, decoder leniency, and refusals with their exact
 * messages and offsets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "postcard_host.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- §7.6 examples ------------------------------------------------------------------------- */

static const uint8_t topic_st[] = {0x01, 0x73, 0x01, 0x74};
static const uint8_t meta_json[] = {0x01, 0x05, 0x00};
static const uint8_t meta_flatbuffer[] = {0x01, 0xAC, 0x02, 0x04};
static const uint8_t raw_hi[] = {0x01, 0x01, 0x01, 0x02, 0x03, 0x04, 0x05, 0x00, 0x02, 0x68, 0x69};
static const uint8_t map_kv[] = {0x01, 0x01, 0x04, 0x61, 0x77, 0x3D, 0x3D,
                                 0x01, 0x04, 0x64, 0x67, 0x3D, 0x3D};
static const uint8_t raw_json_kv[] = {0x00, 0x01, 0x01, 0x02, 0x03, 0x04, 0x05, 0x0D,
                                      0x01, 0x01, 0x04, 0x61, 0x77, 0x3D, 0x3D, 0x01,
                                      0x04, 0x64, 0x67, 0x3D, 0x3D, 0x02, 0x7B, 0x7D};
static const uint8_t map_two[] = {0x02, 0x00, 0x04, 0x2F, 0x77, 0x3D, 0x3D, 0x02, 0x04, 0x41,
                                  0x51, 0x3D, 0x3D, 0x01, 0x04, 0x62, 0x67, 0x3D, 0x3D, 0x0A,
                                  0x08, 0x4B, 0x67, 0x41, 0x41, 0x41, 0x41, 0x3D, 0x3D};
/* The realistic RawMessage (43 bytes), here after RawMessages' schema Raw and count 1. */
static const uint8_t raw_realistic[] = {
    0x01, 0x01,                                                 /* schema, count */
    0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, /* id (18 bytes) */
    0xC0, 0x83, 0x80, 0x80, 0x80, 0x80, 0x90, 0x03,             /* */
    0xE8, 0x07,                                                 /* offset */
    0xEF, 0xFD, 0xB6, 0xF5, 0x0D,                               /* checksum */
    0x80, 0xE0, 0xD2, 0xBC, 0x9C, 0x85, 0x8F, 0x03,             /* timestamp */
    0x80, 0xE0, 0xD2, 0xBC, 0x9C, 0x85, 0x8F, 0x03,             /* origin_timestamp */
    0x00, 0x00};                                                /* headers, payload */
static const ifx_u128 realistic_id = {0x0190000000007000u, 0x8000000000000001u};
static const uint8_t produced_json[] = {0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
                                        0x7B, 0x7D, 0x01, 0x03, 0x01, 0x02, 0x03};
static const uint8_t produced_raw[] = {0x01, 0x01, 0x01, 0x07, 0x00, 0x01, 0x01, 0x00, 0x01,
                                       0x01, 0x01, 0x04, 0x61, 0x77, 0x3D, 0x3D, 0x01, 0x04,
                                       0x64, 0x67, 0x3D, 0x3D, 0x01, 0x78, 0x00};
static const uint8_t produced_heartbeat[] = {0x01, 0x00, 0x00};

static void assert_bytes(const ifx_buf *b, const uint8_t *want, size_t n)
{
    assert_int_equal(b->len, n);
    assert_memory_equal(b->data, want, n);
}

static void assert_span(const void *p, size_t len, const char *want)
{
    assert_int_equal(len, strlen(want));
    if (len)
        assert_memory_equal(p, want, len);
}

static void test_topic_meta(void **state)
{
    ifx_topic_meta m;
    ifx_err err;
    ifx_buf b;
    (void)state;

    ifx_err_clear(&err);
    assert_int_equal(ifxi_pc_decode_topic_meta(topic_st, sizeof topic_st, &m, &err), IFX_OK);
    assert_span(m.stream, m.stream_len, "s");
    assert_span(m.topic, m.topic_len, "t");
    assert_ptr_equal(m.stream, topic_st + 1); /* borrowed from the input */

    ifx_buf_init(&b, 1024);
    assert_int_equal(pc_host_encode_topic_meta(&b, "s", "t"), IFX_OK);
    assert_bytes(&b, topic_st, sizeof topic_st);

    /* UTF-8 survives, and an empty string is a zero length. */
    ifx_buf_reset(&b);
    assert_int_equal(pc_host_encode_topic_meta(&b, "str\xC3\xA9\x61m", ""), IFX_OK);
    assert_int_equal(ifxi_pc_decode_topic_meta((uint8_t *)b.data, b.len, &m, &err), IFX_OK);
    assert_span(m.stream, m.stream_len, "str\xC3\xA9\x61m");
    assert_int_equal(m.topic_len, 0);
    ifx_buf_free(&b);
}

static void test_messages_meta(void **state)
{
    ifx_messages_meta m;
    ifx_err err;
    ifx_buf b;
    (void)state;

    ifx_buf_init(&b, 1024);
    ifx_err_clear(&err);
    assert_int_equal(ifxi_pc_decode_messages_meta(meta_json, sizeof meta_json, &m, &err), IFX_OK);
    assert_int_equal(m.partition_id, 1);
    assert_int_equal(m.current_offset, 5);
    assert_int_equal(m.schema, IFX_SCHEMA_JSON);
    assert_int_equal(pc_host_encode_messages_meta(&b, &m), IFX_OK);
    assert_bytes(&b, meta_json, sizeof meta_json);

    assert_int_equal(
        ifxi_pc_decode_messages_meta(meta_flatbuffer, sizeof meta_flatbuffer, &m, &err), IFX_OK);
    assert_int_equal(m.partition_id, 1);
    assert_int_equal(m.current_offset, 300);
    assert_int_equal(m.schema, IFX_SCHEMA_FLATBUFFER);
    ifx_buf_reset(&b);
    assert_int_equal(pc_host_encode_messages_meta(&b, &m), IFX_OK);
    assert_bytes(&b, meta_flatbuffer, sizeof meta_flatbuffer);
    ifx_buf_free(&b);
}

/* Decodes every message of a RawMessages buffer, which must hold exactly n. */
static void decode_all(const uint8_t *p, size_t len, ifx_schema schema, ifx_raw_message *out,
                       size_t n)
{
    ifx_pc_messages it;
    ifx_err err;
    bool done;

    ifx_err_clear(&err);
    assert_int_equal(ifxi_pc_messages_begin(&it, p, len, &err), IFX_OK);
    assert_int_equal(it.schema, schema);
    assert_int_equal(it.count, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ifxi_pc_messages_next(&it, &out[i], &done, &err), IFX_OK);
        assert_false(done);
    }
    assert_int_equal(ifxi_pc_messages_next(&it, &out[0] + 0, &done, &err), IFX_OK);
    assert_true(done);
    /* Once done, always done. */
    assert_int_equal(ifxi_pc_messages_next(&it, &out[0], &done, &err), IFX_OK);
    assert_true(done);
}

static void test_raw_messages_small(void **state)
{
    ifx_raw_message m, again;
    ifx_buf b;
    (void)state;

    decode_all(raw_hi, sizeof raw_hi, IFX_SCHEMA_RAW, &m, 1);
    assert_true(m.id.hi == 0 && m.id.lo == 1);
    assert_int_equal(m.offset, 2);
    assert_int_equal(m.checksum, 3);
    assert_int_equal(m.timestamp, 4);
    assert_int_equal(m.origin_timestamp, 5);
    assert_int_equal(m.headers_len, 0);
    assert_span(m.payload, m.payload_len, "hi");
    assert_ptr_equal(m.payload, raw_hi + 9);

    ifx_buf_init(&b, 1024);
    assert_int_equal(pc_host_encode_raw_messages(&b, IFX_SCHEMA_RAW, &m, 1), IFX_OK);
    assert_bytes(&b, raw_hi, sizeof raw_hi);
    decode_all((uint8_t *)b.data, b.len, IFX_SCHEMA_RAW, &again, 1);
    ifx_buf_free(&b);
}

static void test_header_map_one(void **state)
{
    ifx_header h[4];
    size_t n = 99;
    ifx_buf scratch, b, text;
    ifx_err err;
    const ifx_header_in in = {IFX_HDR_STRING, "k", 1, IFX_HDR_STRING, "v", 1};
    (void)state;

    ifx_buf_init(&scratch, 1024);
    ifx_buf_init(&b, 1024);
    ifx_buf_init(&text, 1024);
    ifx_err_clear(&err);
    assert_int_equal(pc_host_decode_headers(map_kv, sizeof map_kv, h, LEN(h), &n, &scratch, &err),
                     IFX_OK);
    assert_int_equal(n, 1);
    assert_int_equal(h[0].key_kind, IFX_HDR_STRING);
    assert_span(h[0].key, h[0].key_len, "k");
    assert_int_equal(h[0].value_kind, IFX_HDR_STRING);
    assert_span(h[0].value, h[0].value_len, "v");
    assert_int_equal(pc_host_header_value_text(&h[0], &text), IFX_OK);
    assert_string_equal(text.data, "v");

    assert_int_equal(ifxi_pc_put_headers(&b, &in, 1), IFX_OK);
    assert_bytes(&b, map_kv, sizeof map_kv);

    /* An empty input, or a zero count, is an empty map. */
    assert_int_equal(pc_host_decode_headers(NULL, 0, NULL, 0, &n, &scratch, &err), IFX_OK);
    assert_int_equal(n, 0);
    assert_int_equal(pc_host_decode_headers((const uint8_t *)"\0", 1, NULL, 0, &n, &scratch, &err),
                     IFX_OK);
    assert_int_equal(n, 0);
    ifx_buf_reset(&b);
    assert_int_equal(ifxi_pc_put_headers(&b, NULL, 0), IFX_OK);
    assert_bytes(&b, (const uint8_t *)"\0", 1);

    ifx_buf_free(&scratch);
    ifx_buf_free(&b);
    ifx_buf_free(&text);
}

static void test_raw_messages_with_headers(void **state)
{
    ifx_raw_message m;
    ifx_header h[2];
    size_t n;
    ifx_buf scratch, b;
    ifx_err err;
    (void)state;

    decode_all(raw_json_kv, sizeof raw_json_kv, IFX_SCHEMA_JSON, &m, 1);
    assert_true(m.id.hi == 0 && m.id.lo == 1);
    assert_int_equal(m.offset, 2);
    assert_int_equal(m.origin_timestamp, 5);
    assert_int_equal(m.headers_len, 13);
    assert_memory_equal(m.headers, map_kv, 13);
    assert_span(m.payload, m.payload_len, "{}");

    ifx_buf_init(&scratch, 1024);
    ifx_err_clear(&err);
    assert_int_equal(pc_host_decode_headers(m.headers, m.headers_len, h, 2, &n, &scratch, &err),
                     IFX_OK);
    assert_int_equal(n, 1);
    assert_span(h[0].key, h[0].key_len, "k");
    assert_span(h[0].value, h[0].value_len, "v");

    ifx_buf_init(&b, 1024);
    assert_int_equal(pc_host_encode_raw_messages(&b, IFX_SCHEMA_JSON, &m, 1), IFX_OK);
    assert_bytes(&b, raw_json_kv, sizeof raw_json_kv);
    ifx_buf_free(&b);
    ifx_buf_free(&scratch);
}

static void test_header_map_two(void **state)
{
    static const uint8_t ff = 0xFF, yes = 1, answer[4] = {42, 0, 0, 0};
    const ifx_header_in in[2] = {{IFX_HDR_RAW, &ff, 1, IFX_HDR_BOOL, &yes, 1},
                                 {IFX_HDR_STRING, "n", 1, IFX_HDR_UINT32, answer, 4}};
    ifx_header h[2];
    size_t n;
    ifx_buf scratch, b, text;
    ifx_err err;
    (void)state;

    ifx_buf_init(&scratch, 1024);
    ifx_buf_init(&b, 1024);
    ifx_buf_init(&text, 1024);
    ifx_err_clear(&err);
    assert_int_equal(pc_host_decode_headers(map_two, sizeof map_two, h, 2, &n, &scratch, &err),
                     IFX_OK);
    assert_int_equal(n, 2);
    assert_int_equal(h[0].key_kind, IFX_HDR_RAW);
    assert_int_equal(h[0].key_len, 1);
    assert_int_equal(h[0].key[0], 0xFF);
    assert_int_equal(h[0].value_kind, IFX_HDR_BOOL);
    assert_int_equal(h[0].value_len, 1);
    assert_int_equal(h[0].value[0], 1);
    assert_int_equal(h[1].key_kind, IFX_HDR_STRING);
    assert_span(h[1].key, h[1].key_len, "n");
    assert_int_equal(h[1].value_kind, IFX_HDR_UINT32);
    assert_int_equal(h[1].value_len, 4);
    assert_memory_equal(h[1].value, answer, 4);

    assert_int_equal(pc_host_header_value_text(&h[0], &text), IFX_OK);
    assert_string_equal(text.data, "true");
    ifx_buf_reset(&text);
    assert_int_equal(pc_host_header_value_text(&h[1], &text), IFX_OK);
    assert_string_equal(text.data, "42");
    /* A key renders through a copy with the key as value. */
    ifx_header key = h[0];
    key.value_kind = key.key_kind;
    key.value = key.key;
    key.value_len = key.key_len;
    ifx_buf_reset(&text);
    assert_int_equal(pc_host_header_value_text(&key, &text), IFX_OK);
    assert_string_equal(text.data, "/w==");

    assert_int_equal(ifxi_pc_put_headers(&b, in, 2), IFX_OK);
    assert_bytes(&b, map_two, sizeof map_two);

    /* Entries stay valid however scratch grows: a scratch that starts unallocated. */
    ifx_buf_free(&scratch);
    assert_int_equal(pc_host_decode_headers(map_two, sizeof map_two, h, 2, &n, &scratch, &err),
                     IFX_OK);
    assert_int_equal(h[1].value[0], 42);
    assert_int_equal(h[0].key[0], 0xFF);

    ifx_buf_free(&scratch);
    ifx_buf_free(&b);
    ifx_buf_free(&text);
}

static void test_realistic_message(void **state)
{
    ifx_raw_message m;
    ifx_buf b;
    char dec[40];
    (void)state;

    decode_all(raw_realistic, sizeof raw_realistic, IFX_SCHEMA_RAW, &m, 1);
    assert_true(m.id.hi == realistic_id.hi);
    assert_true(m.id.lo == realistic_id.lo);
    assert_int_equal(m.offset, 1000);
    assert_int_equal(m.checksum, 0xDEADBEEFu);
    assert_int_equal(m.timestamp, 1755000000000000u);
    assert_int_equal(m.origin_timestamp, 1755000000000000u);
    assert_int_equal(m.headers_len, 0);
    assert_int_equal(m.payload_len, 0);
    assert_int_equal(ifx_u128_format(m.id, dec), 37);
    assert_string_equal(dec, "2076918743414459965681651968806748161");

    ifx_buf_init(&b, 1024);
    assert_int_equal(pc_host_encode_raw_messages(&b, IFX_SCHEMA_RAW, &m, 1), IFX_OK);
    assert_bytes(&b, raw_realistic, sizeof raw_realistic);
    assert_int_equal(b.len - 2, 43);
    ifx_buf_reset(&b);
    assert_int_equal(ifxi_pc_put_u128(&b, realistic_id), IFX_OK);
    assert_bytes(&b, raw_realistic + 2, 18);
    ifx_buf_free(&b);
}

static void test_max_varints(void **state)
{
    static const uint8_t u32max[] = {0xFF, 0xFF, 0xFF, 0xFF, 0x0F};
    static const uint8_t u64max[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    static const uint8_t u128max[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                      0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x03};
    /* MessagesMetadata{u32::MAX, u64::MAX, Avro} */
    static const uint8_t meta[] = {0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0xFF, 0xFF, 0xFF,
                                   0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x05};
    /* RawMessages{Text, [{id: u128::MAX, the rest u64::MAX and empty}]} */
    uint8_t raw[2 + 19 + 4 * 10 + 2];
    ifx_messages_meta mm;
    ifx_raw_message m;
    ifx_buf b;
    ifx_err err;
    char dec[40];
    (void)state;

    ifx_buf_init(&b, 1024);
    assert_int_equal(ifxi_pc_put_varint(&b, UINT32_MAX), IFX_OK);
    assert_bytes(&b, u32max, sizeof u32max);
    ifx_buf_reset(&b);
    assert_int_equal(ifxi_pc_put_varint(&b, UINT64_MAX), IFX_OK);
    assert_bytes(&b, u64max, sizeof u64max);
    ifx_buf_reset(&b);
    assert_int_equal(ifxi_pc_put_u128(&b, (ifx_u128){UINT64_MAX, UINT64_MAX}), IFX_OK);
    assert_bytes(&b, u128max, sizeof u128max);
    ifx_buf_reset(&b);
    assert_int_equal(ifxi_pc_put_varint(&b, 0), IFX_OK);
    assert_int_equal(ifxi_pc_put_varint(&b, 127), IFX_OK);
    assert_int_equal(ifxi_pc_put_varint(&b, 128), IFX_OK);
    assert_int_equal(ifxi_pc_put_u128(&b, (ifx_u128){0, 0}), IFX_OK);
    assert_int_equal(ifxi_pc_put_u128(&b, (ifx_u128){1, 0}), IFX_OK); /* 2^64 */
    assert_bytes(
        &b, (const uint8_t *)"\x00\x7F\x80\x01\x00\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02", 15);

    ifx_err_clear(&err);
    assert_int_equal(ifxi_pc_decode_messages_meta(meta, sizeof meta, &mm, &err), IFX_OK);
    assert_int_equal(mm.partition_id, UINT32_MAX);
    assert_true(mm.current_offset == UINT64_MAX);
    assert_int_equal(mm.schema, IFX_SCHEMA_AVRO);
    ifx_buf_reset(&b);
    assert_int_equal(pc_host_encode_messages_meta(&b, &mm), IFX_OK);
    assert_bytes(&b, meta, sizeof meta);

    raw[0] = 0x02;
    raw[1] = 0x01;
    memcpy(raw + 2, u128max, 19);
    for (int i = 0; i < 4; i++)
        memcpy(raw + 21 + 10 * i, u64max, 10);
    raw[61] = raw[62] = 0;
    decode_all(raw, sizeof raw, IFX_SCHEMA_TEXT, &m, 1);
    assert_true(m.id.hi == UINT64_MAX && m.id.lo == UINT64_MAX);
    assert_true(m.offset == UINT64_MAX && m.checksum == UINT64_MAX);
    assert_true(m.timestamp == UINT64_MAX && m.origin_timestamp == UINT64_MAX);
    ifx_buf_reset(&b);
    assert_int_equal(pc_host_encode_raw_messages(&b, IFX_SCHEMA_TEXT, &m, 1), IFX_OK);
    assert_bytes(&b, raw, sizeof raw);
    assert_int_equal(ifx_u128_format(m.id, dec), 39);
    assert_string_equal(dec, "340282366920938463463374607431768211455");
    ifx_buf_free(&b);
}

/* Decodes a ProducedMessages buffer that must hold exactly n messages. */
static void decode_produced(const uint8_t *p, size_t len, ifx_schema schema, ifx_produced_view *out,
                            size_t n, ifx_pc_produced *it)
{
    ifx_err err;
    bool done;

    ifx_err_clear(&err);
    assert_int_equal(pc_host_produced_begin(it, p, len, &err), IFX_OK);
    assert_int_equal(it->schema, schema);
    assert_int_equal(it->count, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(pc_host_produced_next(it, &out[i], &done, &err), IFX_OK);
        assert_false(done);
    }
    assert_int_equal(pc_host_produced_next(it, NULL, &done, &err), IFX_OK);
    assert_true(done);
    assert_true(it->state_read);
    assert_int_equal(pc_host_produced_next(it, NULL, &done, &err), IFX_OK);
    assert_true(done);
}

static void test_produced_examples(void **state)
{
    static const uint8_t st[] = {1, 2, 3};
    const ifx_header_in kv = {IFX_HDR_STRING, "k", 1, IFX_HDR_STRING, "v", 1};
    ifx_produced_message pm;
    ifx_produced_view v;
    ifx_pc_produced it;
    ifx_header h[1];
    size_t n;
    ifx_buf b, scratch;
    ifx_err err;
    (void)state;

    ifx_buf_init(&b, 1024);
    ifx_buf_init(&scratch, 1024);

    /* {Json, [{None x5, "{}"}], Some([1,2,3])} */
    memset(&pm, 0, sizeof pm);
    pm.payload = "{}";
    pm.payload_len = 2;
    assert_int_equal(ifxi_pc_encode_produced(&b, IFX_SCHEMA_JSON, &pm, 1, st, 3), IFX_OK);
    assert_bytes(&b, produced_json, sizeof produced_json);
    decode_produced(produced_json, sizeof produced_json, IFX_SCHEMA_JSON, &v, 1, &it);
    assert_false(v.has_id || v.has_checksum || v.has_timestamp || v.has_origin_timestamp ||
                 v.has_headers);
    assert_span(v.payload, v.payload_len, "{}");
    assert_true(it.has_state);
    assert_int_equal(it.state_len, 3);
    assert_memory_equal(it.state, st, 3);

    /* {Raw, [{Some(7), None, Some(1), None, Some({k: v}), "x"}], None} */
    memset(&pm, 0, sizeof pm);
    pm.has_id = true;
    pm.id = (ifx_u128){0, 7};
    pm.has_timestamp = true;
    pm.timestamp = 1;
    pm.headers = &kv;
    pm.nheaders = 1;
    pm.payload = "x";
    pm.payload_len = 1;
    ifx_buf_reset(&b);
    assert_int_equal(ifxi_pc_encode_produced(&b, IFX_SCHEMA_RAW, &pm, 1, NULL, 0), IFX_OK);
    assert_bytes(&b, produced_raw, sizeof produced_raw);
    decode_produced(produced_raw, sizeof produced_raw, IFX_SCHEMA_RAW, &v, 1, &it);
    assert_true(v.has_id && v.id.hi == 0 && v.id.lo == 7);
    assert_false(v.has_checksum);
    assert_true(v.has_timestamp && v.timestamp == 1);
    assert_false(v.has_origin_timestamp);
    assert_true(v.has_headers);
    assert_int_equal(v.headers_len, sizeof map_kv);
    assert_memory_equal(v.headers, map_kv, sizeof map_kv);
    assert_span(v.payload, v.payload_len, "x");
    assert_false(it.has_state);
    ifx_err_clear(&err);
    assert_int_equal(pc_host_decode_headers(v.headers, v.headers_len, h, 1, &n, &scratch, &err),
                     IFX_OK);
    assert_int_equal(n, 1);
    assert_span(h[0].value, h[0].value_len, "v");

    /* The empty heartbeat. */
    ifx_buf_reset(&b);
    assert_int_equal(ifxi_pc_encode_produced(&b, IFX_SCHEMA_RAW, NULL, 0, NULL, 0), IFX_OK);
    assert_bytes(&b, produced_heartbeat, sizeof produced_heartbeat);
    decode_produced(produced_heartbeat, sizeof produced_heartbeat, IFX_SCHEMA_RAW, &v, 0, &it);
    assert_false(it.has_state);

    /* Some(empty) is not None: an empty header map and an empty state. */
    memset(&pm, 0, sizeof pm);
    pm.headers = &kv;
    pm.nheaders = 0;
    pm.payload = "x";
    pm.payload_len = 1;
    ifx_buf_reset(&b);
    assert_int_equal(ifxi_pc_encode_produced(&b, IFX_SCHEMA_TEXT, &pm, 1, "", 0), IFX_OK);
    assert_bytes(&b, (const uint8_t *)"\x02\x01\x00\x00\x00\x00\x01\x00\x01x\x01\x00", 12);
    decode_produced((uint8_t *)b.data, b.len, IFX_SCHEMA_TEXT, &v, 1, &it);
    assert_true(v.has_headers && v.headers_len == 1);
    assert_true(it.has_state && it.state_len == 0);

    /* A checksum is decoded (the runtime ignores it). */
    static const uint8_t with_checksum[] = {0x00, 0x01, 0x00, 0x01, 0xAC, 0x02, 0x00,
                                            0x01, 0x09, 0x00, 0x01, 0x61, 0x00};
    decode_produced(with_checksum, sizeof with_checksum, IFX_SCHEMA_JSON, &v, 1, &it);
    assert_true(v.has_checksum && v.checksum == 300);
    assert_true(v.has_origin_timestamp && v.origin_timestamp == 9);

    ifx_buf_free(&b);
    ifx_buf_free(&scratch);
}

/* ---- leniency ---------------------------------------------------------------------------- */

static void test_leniency(void **state)
{
    static const uint8_t topic_trailing[] = {0x01, 0x73, 0x01, 0x74, 0xFF, 0x00, 0xC3};
    /* partition_id 1 as 81 80 80 80 00 (5 bytes, the u32 maximum) and as 81 00. */
    static const uint8_t meta_long[] = {0x81, 0x80, 0x80, 0x80, 0x00, 0x05, 0x00};
    static const uint8_t meta_long2[] = {0x81, 0x00, 0x85, 0x80, 0x80, 0x80, 0x80,
                                         0x80, 0x80, 0x80, 0x80, 0x00, 0x80, 0x00};
    /* id 1 in 19 bytes, offset 2 in 10, then 3, 4, 5, no headers, "hi"; then junk. */
    static const uint8_t raw_long[] = {0x01, 0x01, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                       0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                       0x00, 0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                       0x00, 0x03, 0x04, 0x05, 0x00, 0x02, 0x68, 0x69, 0xDE, 0xAD};
    /* {String "k" -> String "v"} with unpadded texts "aw" and "dg", then trailing bytes. */
    static const uint8_t map_unpadded[] = {0x01, 0x01, 0x02, 0x61, 0x77, 0x01,
                                           0x02, 0x64, 0x67, 0x07, 0x07};
    /* {String "fo" -> Raw "foob"}: unpadded 3-character "Zm8" and 6-character "Zm9vYg". */
    static const uint8_t map_unpadded3[] = {0x01, 0x01, 0x03, 0x5A, 0x6D, 0x38, 0x00,
                                            0x06, 0x5A, 0x6D, 0x39, 0x76, 0x59, 0x67};
    ifx_topic_meta tm;
    ifx_messages_meta mm;
    ifx_raw_message m;
    ifx_header h[1];
    size_t n;
    ifx_buf scratch;
    ifx_err err;
    (void)state;

    ifx_err_clear(&err);
    assert_int_equal(ifxi_pc_decode_topic_meta(topic_trailing, sizeof topic_trailing, &tm, &err),
                     IFX_OK);
    assert_span(tm.stream, tm.stream_len, "s");
    assert_span(tm.topic, tm.topic_len, "t");

    assert_int_equal(ifxi_pc_decode_messages_meta(meta_long, sizeof meta_long, &mm, &err), IFX_OK);
    assert_int_equal(mm.partition_id, 1);
    assert_int_equal(mm.current_offset, 5);
    assert_int_equal(ifxi_pc_decode_messages_meta(meta_long2, sizeof meta_long2, &mm, &err),
                     IFX_OK);
    assert_int_equal(mm.partition_id, 1);
    assert_int_equal(mm.current_offset, 5);
    assert_int_equal(mm.schema, IFX_SCHEMA_JSON);

    decode_all(raw_long, sizeof raw_long, IFX_SCHEMA_RAW, &m, 1);
    assert_true(m.id.hi == 0 && m.id.lo == 1);
    assert_int_equal(m.offset, 2);
    assert_int_equal(m.origin_timestamp, 5);
    assert_span(m.payload, m.payload_len, "hi");
    /* The trailing bytes of the 11-byte example are ignored as well. */
    uint8_t raw_trailing[sizeof raw_hi + 3];
    memcpy(raw_trailing, raw_hi, sizeof raw_hi);
    memcpy(raw_trailing + sizeof raw_hi, "\xFF\xFF\xFF", 3);
    decode_all(raw_trailing, sizeof raw_trailing, IFX_SCHEMA_RAW, &m, 1);
    assert_span(m.payload, m.payload_len, "hi");

    ifx_buf_init(&scratch, 1024);
    assert_int_equal(
        pc_host_decode_headers(map_unpadded, sizeof map_unpadded, h, 1, &n, &scratch, &err),
        IFX_OK);
    assert_int_equal(n, 1);
    assert_span(h[0].key, h[0].key_len, "k");
    assert_span(h[0].value, h[0].value_len, "v");
    assert_int_equal(
        pc_host_decode_headers(map_unpadded3, sizeof map_unpadded3, h, 1, &n, &scratch, &err),
        IFX_OK);
    assert_int_equal(n, 1);
    assert_span(h[0].key, h[0].key_len, "fo");
    assert_int_equal(h[0].value_kind, IFX_HDR_RAW);
    assert_span(h[0].value, h[0].value_len, "foob");

    /* An unpadded text is padded in scratch's spare room: 2 decoded bytes, then room for 6 more
     * and the 8-character copy. One byte less is IFX_E_FULL. */
    ifx_buf tight;
    ifx_buf_init(&tight, 16);
    assert_int_equal(
        pc_host_decode_headers(map_unpadded3, sizeof map_unpadded3, h, 1, &n, &tight, &err),
        IFX_OK);
    assert_span(h[0].value, h[0].value_len, "foob");
    ifx_buf_free(&tight);
    ifx_buf_init(&tight, 15);
    assert_int_equal(
        pc_host_decode_headers(map_unpadded3, sizeof map_unpadded3, h, 1, &n, &tight, &err),
        IFX_E_FULL);
    assert_int_equal(n, 0);
    assert_int_equal(err.code, IFX_E_FULL);
    ifx_buf_free(&tight);
    ifx_buf_free(&scratch);
}

/* ---- refusals ------------------------------------------------------------------------------ */

static void check_err(const ifx_err *err, ifx_rc rc, const char *msg, size_t offset)
{
    if (rc != IFX_E_INVALID || err->code != IFX_E_INVALID)
        fail_msg("rc %d (%s), expected invalid \"%s\"", rc, err->msg, msg);
    if (strcmp(err->msg, msg) != 0)
        fail_msg("message \"%s\", expected \"%s\"", err->msg, msg);
    if (err->offset != offset)
        fail_msg("\"%s\": offset %zu, expected %zu", msg, err->offset, offset);
}

/* Decodes a RawMessages buffer to the end; it must fail with msg at offset. */
static void expect_raw_error(const uint8_t *p, size_t len, const char *msg, size_t offset)
{
    ifx_pc_messages it;
    ifx_raw_message m;
    ifx_err err;
    bool done = false;
    ifx_rc rc;

    ifx_err_clear(&err);
    rc = ifxi_pc_messages_begin(&it, p, len, &err);
    while (rc == IFX_OK) {
        rc = ifxi_pc_messages_next(&it, &m, &done, &err);
        if (rc == IFX_OK && done)
            fail_msg("decoded; expected \"%s\"", msg);
    }
    check_err(&err, rc, msg, offset);
    /* Without an ifx_err, the same answer. */
    rc = ifxi_pc_messages_begin(&it, p, len, NULL);
    while (rc == IFX_OK && !done)
        rc = ifxi_pc_messages_next(&it, &m, &done, NULL);
    assert_int_equal(rc, IFX_E_INVALID);
}

static void test_truncated_raw_messages(void **state)
{
    char want[256];
    (void)state;

    for (size_t len = 0; len < sizeof raw_json_kv; len++) {
        size_t off;
        if (len == 0) {
            snprintf(want, sizeof want, "RawMessages: schema: truncated varint at byte 0");
            off = 0;
        } else if (len == 1) {
            snprintf(want, sizeof want, "RawMessages: messages: truncated varint at byte 1");
            off = 1;
        } else if (len < 9) {
            snprintf(want, sizeof want,
                     "RawMessages: messages: 1 message cannot fit in the %zu byte%s left at byte 1 "
                     "(each takes at least 7)",
                     len - 2, len - 2 == 1 ? "" : "s");
            off = 1;
        } else if (len < 21) {
            snprintf(want, sizeof want,
                     "RawMessage 0: headers: length 13 exceeds the %zu byte%s left at byte 7",
                     len - 8, len - 8 == 1 ? "" : "s");
            off = 7;
        } else if (len == 21) {
            snprintf(want, sizeof want, "RawMessage 0: payload: truncated varint at byte 21");
            off = 21;
        } else {
            snprintf(want, sizeof want,
                     "RawMessage 0: payload: length 2 exceeds the %zu byte%s left at byte 21",
                     len - 22, len - 22 == 1 ? "" : "s");
            off = 21;
        }
        expect_raw_error(raw_json_kv, len, want, off);
    }

    /* The realistic message: every field's truncation. */
    static const struct {
        size_t from, to; /* truncated lengths that end inside this field */
        const char *field;
    } fields[] = {{9, 20, "id"},         {20, 22, "offset"},           {22, 27, "checksum"},
                  {27, 35, "timestamp"}, {35, 43, "origin_timestamp"}, {43, 44, "headers"},
                  {44, 45, "payload"}};
    for (size_t f = 0; f < LEN(fields); f++) {
        for (size_t len = fields[f].from; len < fields[f].to; len++) {
            snprintf(want, sizeof want, "RawMessage 0: %s: truncated varint at byte %zu",
                     fields[f].field, fields[f].from < 20 ? (size_t)2 : fields[f].from);
            expect_raw_error(raw_realistic, len, want, fields[f].from < 20 ? 2 : fields[f].from);
        }
    }

    /* The second of two messages: its index and whole-buffer offsets. */
    uint8_t two[2 + 9 + 9];
    memcpy(two, raw_hi, sizeof raw_hi);
    two[1] = 2;
    memcpy(two + sizeof raw_hi, raw_hi + 2, 9);
    ifx_raw_message both[2];
    decode_all(two, sizeof two, IFX_SCHEMA_RAW, both, 2);
    assert_int_equal(both[1].offset, 2);
    expect_raw_error(two, 16, "RawMessage 1: headers: truncated varint at byte 16", 16);
    expect_raw_error(two, 17, "RawMessage 1: payload: truncated varint at byte 17", 17);
    expect_raw_error(two, 19, "RawMessage 1: payload: length 2 exceeds the 1 byte left at byte 17",
                     17);
}

typedef ifx_rc (*decode_fn)(const uint8_t *p, size_t len, ifx_err *err);

static ifx_rc decode_topic(const uint8_t *p, size_t len, ifx_err *err)
{
    ifx_topic_meta m;
    return ifxi_pc_decode_topic_meta(p, len, &m, err);
}

static ifx_rc decode_meta(const uint8_t *p, size_t len, ifx_err *err)
{
    ifx_messages_meta m;
    return ifxi_pc_decode_messages_meta(p, len, &m, err);
}

static ifx_rc decode_raw(const uint8_t *p, size_t len, ifx_err *err)
{
    ifx_pc_messages it;
    ifx_raw_message m;
    bool done = false;
    ifx_rc rc = ifxi_pc_messages_begin(&it, p, len, err);
    while (!rc && !done)
        rc = ifxi_pc_messages_next(&it, &m, &done, err);
    return rc;
}

static ifx_rc decode_map(const uint8_t *p, size_t len, ifx_err *err)
{
    ifx_header h[2];
    size_t n;
    ifx_buf scratch;
    ifx_rc rc;

    ifx_buf_init(&scratch, 1024);
    rc = pc_host_decode_headers(p, len, h, LEN(h), &n, &scratch, err);
    if (rc)
        assert_int_equal(n, 0);
    ifx_buf_free(&scratch);
    return rc;
}

static ifx_rc decode_produced_all(const uint8_t *p, size_t len, ifx_err *err)
{
    ifx_pc_produced it;
    ifx_produced_view v;
    bool done = false;
    ifx_rc rc = pc_host_produced_begin(&it, p, len, err);
    while (!rc && !done)
        rc = pc_host_produced_next(&it, &v, &done, err);
    return rc;
}

#define B(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

static const struct refusal {
    decode_fn decode;
    const uint8_t *in;
    size_t len;
    const char *msg;
    size_t offset;
} refusals[] = {
    /* UTF-8 and lengths */
    {decode_topic, B(0x02, 0xC3, 0x28, 0x01, 0x74),
     "TopicMetadata: stream: invalid UTF-8 at byte 1 (missing continuation byte: 0xC3 0x28)", 1},
    {decode_topic, B(0x01, 0x73, 0x03, 0x61, 0xED, 0xA0, 0x80),
     "TopicMetadata: topic: invalid UTF-8 at byte 4 (UTF-16 surrogate U+D800..U+DFFF: 0xED "
     "0xA0)",
     4},
    {decode_topic, B(0x05, 0x73),
     "TopicMetadata: stream: length 5 exceeds the 1 byte left at byte 0", 0},
    {decode_topic, B(0x01, 0x73, 0x02, 0x74),
     "TopicMetadata: topic: length 2 exceeds the 1 byte left at byte 2", 2},
    {decode_topic, B(0x01, 0x73), "TopicMetadata: topic: truncated varint at byte 2", 2},
    {decode_topic, B(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x73),
     "TopicMetadata: stream: length 18446744073709551615 exceeds the 1 byte left at byte 0", 0},
    /* varint limits */
    {decode_meta, B(0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x05, 0x00),
     "MessagesMetadata: partition_id: varint longer than 5 bytes at byte 0", 0},
    {decode_meta, B(0xFF, 0xFF, 0xFF, 0xFF, 0x10, 0x05, 0x00),
     "MessagesMetadata: partition_id: varint too large for u32 at byte 0", 0},
    {decode_meta, B(0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00),
     "MessagesMetadata: current_offset: varint longer than 10 bytes at byte 1", 1},
    {decode_meta, B(0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0x00),
     "MessagesMetadata: current_offset: varint too large for u64 at byte 1", 1},
    {decode_meta, B(0x01, 0x05, 0x06),
     "MessagesMetadata: schema: unknown Schema index 6 at byte 2 (expected 0 to 5)", 2},
    {decode_meta, B(0x01, 0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F),
     "MessagesMetadata: schema: unknown Schema index 4294967295 at byte 2 (expected 0 to 5)", 2},
    {decode_meta, B(0x01, 0x05), "MessagesMetadata: schema: truncated varint at byte 2", 2},
    {decode_meta, B(0x01, 0x85), "MessagesMetadata: current_offset: truncated varint at byte 1", 1},
    {decode_raw,
     B(0x01, 0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
       0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x02, 0x03, 0x04, 0x05, 0x00, 0x00),
     "RawMessage 0: id: varint longer than 19 bytes at byte 2", 2},
    {decode_raw,
     B(0x01, 0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
       0x80, 0x80, 0x80, 0x80, 0x80, 0x04, 0x02, 0x03, 0x04, 0x05, 0x00, 0x00),
     "RawMessage 0: id: varint too large for u128 at byte 2", 2},
    /* schema and counts */
    {decode_raw, B(0x06, 0x00),
     "RawMessages: schema: unknown Schema index 6 at byte 0 (expected 0 to 5)", 0},
    {decode_raw, B(0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x01, 0x02),
     "RawMessages: messages: 4294967295 messages cannot fit in the 2 bytes left at byte 1 (each "
     "takes at least 7)",
     1},
    {decode_raw, B(0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01),
     "RawMessages: messages: 18446744073709551615 messages cannot fit in the 0 bytes left at byte "
     "1 (each takes at least 7)",
     1},
    {decode_raw, B(0x01, 0x02, 0x01, 0x02, 0x03, 0x04, 0x05, 0x00, 0x02, 0x68, 0x69, 0x00),
     "RawMessages: messages: 2 messages cannot fit in the 10 bytes left at byte 1 (each takes at "
     "least 7)",
     1},
    {decode_raw,
     B(0x01, 0x02, 0x01, 0x02, 0x03, 0x04, 0x05, 0x00, 0x02, 0x68, 0x69, 0x80, 0x80, 0x80, 0x80,
       0x80),
     "RawMessage 1: id: truncated varint at byte 11", 11},
    /* header maps */
    {decode_map, B(0x01, 0x0F, 0x04, 0x61, 0x77, 0x3D, 0x3D, 0x01, 0x04, 0x64, 0x67, 0x3D, 0x3D),
     "header 0: key kind: unknown HeaderKind index 15 at byte 1 (expected 0 to 14)", 1},
    {decode_map,
     B(0x01, 0x01, 0x04, 0x61, 0x77, 0x3D, 0x3D, 0x8F, 0x00, 0x04, 0x64, 0x67, 0x3D, 0x3D),
     "header 0: value kind: unknown HeaderKind index 15 at byte 7 (expected 0 to 14)", 7},
    {decode_map, B(0x01, 0x01, 0x04, 0x61, 0x77, 0x3D, 0x3D, 0x01, 0x04, 0x64, 0x21, 0x3D, 0x3D),
     "header 0: value: base64 text at byte 9: invalid base64 at byte 1: character '!' is not in "
     "the alphabet",
     10},
    {decode_map, B(0x01, 0x01, 0x02, 0x61, 0x78, 0x01, 0x02, 0x64, 0x67),
     "header 0: key: base64 text at byte 3: invalid base64 at byte 1: non-zero padding bits", 4},
    {decode_map, B(0x01, 0x01, 0x03, 0x61, 0x77, 0x3D, 0x01, 0x02, 0x64, 0x67),
     "header 0: key: base64 text at byte 3: invalid base64: length 3 is not a multiple of 4 "
     "(incomplete group at byte 0)",
     3},
    {decode_map, B(0x01, 0x01, 0x05, 0x5A, 0x6D, 0x39, 0x76, 0x59, 0x01, 0x02, 0x64, 0x67),
     "header 0: key: base64 text at byte 3: invalid base64: length 5 is not a multiple of 4 "
     "(incomplete group at byte 4)",
     7},
    {decode_map, B(0x01, 0x01, 0x03, 0x5A, 0x6D, 0x00, 0x01, 0x02, 0x64, 0x67),
     "header 0: key: base64 text at byte 3: invalid base64 at byte 2: byte 0x00 is not in the "
     "alphabet",
     5},
    {decode_map, B(0x01, 0x01, 0x04, 0x61, 0x77),
     "header 0: key: length 4 exceeds the 2 bytes left at byte 2", 2},
    {decode_map, B(0x02, 0x01, 0x04, 0x61, 0x77, 0x3D, 0x3D, 0x01, 0x00, 0x01, 0x00, 0x01),
     "header 1: value: truncated varint at byte 12", 12},
    {decode_map, B(0xFF, 0xFF, 0xFF, 0xFF, 0x0F),
     "header map: count: 4294967295 entries cannot fit in the 0 bytes left at byte 0 (each takes "
     "at least 4)",
     0},
    {decode_map, B(0x01, 0x01, 0x00, 0x01),
     "header map: count: 1 entry cannot fit in the 3 bytes left at byte 0 (each takes at least 4)",
     0},
    {decode_map, B(0x03, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00),
     "header map: more than 2 headers (3) at byte 0", 0},
    /* Option tags */
    {decode_produced_all, B(0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x7B, 0x7D, 0x00),
     "ProducedMessage 0: id: invalid Option tag 2 at byte 2 (expected 0 or 1)", 2},
    {decode_produced_all, B(0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0xFF, 0x02, 0x7B, 0x7D, 0x00),
     "ProducedMessage 0: headers: invalid Option tag 255 at byte 6 (expected 0 or 1)", 6},
    {decode_produced_all, B(0x01, 0x00, 0x02),
     "ProducedMessages: state: invalid Option tag 2 at byte 2 (expected 0 or 1)", 2},
    {decode_produced_all, B(0x01, 0x00), "ProducedMessages: state: missing Option tag at byte 2",
     2},
    {decode_produced_all, B(0x01, 0x00, 0x01, 0x03, 0x01),
     "ProducedMessages: state: length 3 exceeds the 1 byte left at byte 3", 3},
    {decode_produced_all, B(0x07, 0x00, 0x00),
     "ProducedMessages: schema: unknown Schema index 7 at byte 0 (expected 0 to 5)", 0},
    {decode_produced_all, B(0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00),
     "ProducedMessages: messages: 1 message cannot fit in the 5 bytes left at byte 1 (each takes "
     "at least 6)",
     1},
    {decode_produced_all,
     B(0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x0F, 0x00, 0x00, 0x00, 0x01, 0x78, 0x00),
     "ProducedMessage 0: headers: header 0: key kind: unknown HeaderKind index 15 at byte 8 "
     "(expected 0 to 14)",
     8},
    {decode_produced_all,
     B(0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x09, 0x00, 0x00, 0x00, 0x01, 0x78, 0x00),
     "ProducedMessage 0: headers: count: 9 entries cannot fit in the 6 bytes left at byte 7 (each "
     "takes at least 4)",
     7},
    {decode_produced_all, B(0x01, 0x01, 0x01, 0x81, 0x00, 0x00, 0x00, 0x00, 0x00),
     "ProducedMessage 0: payload: truncated varint at byte 9", 9},
    {decode_produced_all, B(0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00),
     "ProducedMessages: state: missing Option tag at byte 8", 8},
};

static void test_refusals(void **state)
{
    (void)state;
    for (size_t i = 0; i < LEN(refusals); i++) {
        const struct refusal *c = &refusals[i];
        ifx_err err;
        ifx_rc rc;

        ifx_err_clear(&err);
        rc = c->decode(c->in, c->len, &err);
        if (rc != IFX_E_INVALID || strcmp(err.msg, c->msg) != 0 || err.offset != c->offset)
            fail_msg("case %zu: rc %d, offset %zu, \"%s\"; expected offset %zu, \"%s\"", i, rc,
                     err.offset, err.msg, c->offset, c->msg);
        assert_int_equal(c->decode(c->in, c->len, NULL), IFX_E_INVALID);
        /* Every prefix of a refused input is refused too (nothing reads past the end). */
        for (size_t len = 0; len < c->len; len++) {
            if (c->decode == decode_map && len == 0)
                continue; /* an empty header map is valid */
            assert_int_equal(c->decode(c->in, len, NULL), IFX_E_INVALID);
        }
    }
}

static void test_iterator_states(void **state)
{
    ifx_pc_messages it;
    ifx_raw_message m;
    ifx_err err;
    bool done = true;
    (void)state;

    /* After an error the iterator stays on the bad message. */
    ifx_err_clear(&err);
    assert_int_equal(ifxi_pc_messages_begin(&it, raw_json_kv, 12, &err), IFX_OK);
    assert_int_equal(ifxi_pc_messages_next(&it, &m, &done, &err), IFX_E_INVALID);
    assert_false(done);
    assert_int_equal(it.remaining, 1);
    assert_int_equal(ifxi_pc_messages_next(&it, &m, &done, &err), IFX_E_INVALID);
    assert_int_equal(err.offset, 7);
    /* What is left of it: id 1 and offset 2 decode, its bytes run from 2 to the end. */
    ifx_pc_stuck st;
    ifxi_pc_messages_stuck(&it, &st);
    assert_int_equal(st.index, 0);
    assert_int_equal(st.start, 2);
    assert_ptr_equal(st.rest, raw_json_kv + 2);
    assert_int_equal(st.rest_len, 10);
    assert_true(st.has_id && st.id.hi == 0 && st.id.lo == 1);
    assert_true(st.has_offset);
    assert_int_equal(st.offset, 2);
    /* Broken inside the id: neither is known. */
    static const uint8_t broken_id[] = {0x00, 0x02, 0x01, 0x02, 0x03, 0x04, 0x05, 0x00,
                                        0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    assert_int_equal(ifxi_pc_messages_begin(&it, broken_id, sizeof broken_id, &err), IFX_OK);
    assert_int_equal(ifxi_pc_messages_next(&it, &m, &done, &err), IFX_OK);
    assert_int_equal(ifxi_pc_messages_next(&it, &m, &done, &err), IFX_E_INVALID);
    ifxi_pc_messages_stuck(&it, &st);
    assert_int_equal(st.index, 1);
    assert_int_equal(st.start, 9);
    assert_int_equal(st.rest_len, 7);
    assert_false(st.has_id);
    assert_false(st.has_offset);
    /* Broken in the offset: the id is known. */
    static const uint8_t broken_offset[] = {0x00, 0x01, 0x07, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80};
    assert_int_equal(ifxi_pc_messages_begin(&it, broken_offset, sizeof broken_offset, &err),
                     IFX_OK);
    assert_int_equal(ifxi_pc_messages_next(&it, &m, &done, &err), IFX_E_INVALID);
    ifxi_pc_messages_stuck(&it, &st);
    assert_true(st.has_id && st.id.lo == 7);
    assert_false(st.has_offset);

    /* A failed begin leaves an iterator that yields nothing. */
    assert_int_equal(ifxi_pc_messages_begin(&it, NULL, 0, &err), IFX_E_INVALID);
    assert_int_equal(ifxi_pc_messages_next(&it, &m, &done, &err), IFX_OK);
    assert_true(done);

    /* Zero messages. */
    assert_int_equal(ifxi_pc_messages_begin(&it, (const uint8_t *)"\x03\x00", 2, &err), IFX_OK);
    assert_int_equal(it.schema, IFX_SCHEMA_PROTO);
    assert_int_equal(ifxi_pc_messages_next(&it, &m, &done, &err), IFX_OK);
    assert_true(done);
}

/* ---- header values as text ----------------------------------------------------------------- */

static void test_header_value_text(void **state)
{
    static const struct {
        ifx_header_kind kind;
        const char *bytes;
        size_t len;
        const char *text; /* NULL: refused */
    } cases[] = {
        {IFX_HDR_STRING, "caf\xC3\xA9", 5, "caf\xC3\xA9"},
        {IFX_HDR_STRING, "", 0, ""},
        {IFX_HDR_RAW, "\xFF", 1, "/w=="},
        {IFX_HDR_RAW, "", 0, ""},
        {IFX_HDR_BOOL, "\x00", 1, "false"},
        {IFX_HDR_BOOL, "\x01", 1, "true"},
        {IFX_HDR_BOOL, "\x02", 1, NULL},
        {IFX_HDR_BOOL, "\x01\x00", 2, NULL},
        {IFX_HDR_BOOL, "", 0, NULL},
        {IFX_HDR_INT8, "\xFF", 1, "-1"},
        {IFX_HDR_INT8, "\x80", 1, "-128"},
        {IFX_HDR_INT8, "\x7F", 1, "127"},
        {IFX_HDR_INT16, "\x00\x80", 2, "-32768"},
        {IFX_HDR_INT16, "\x39\x30", 2, "12345"},
        {IFX_HDR_INT32, "\xFE\xFF\xFF\xFF", 4, "-2"},
        {IFX_HDR_INT32, "\x2A\x00\x00", 3, NULL},
        {IFX_HDR_INT64, "\x00\x00\x00\x00\x00\x00\x00\x80", 8, "-9223372036854775808"},
        {IFX_HDR_INT64, "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F", 8, "9223372036854775807"},
        {IFX_HDR_INT128, "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 16,
         "-1"},
        {IFX_HDR_INT128, "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80", 16,
         "-170141183460469231731687303715884105728"},
        {IFX_HDR_INT128, "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xFF", 16,
         "-1329227995784915872903807060280344576"},
        {IFX_HDR_INT128, "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F", 16,
         "170141183460469231731687303715884105727"},
        {IFX_HDR_INT128, "\x00", 1, NULL},
        {IFX_HDR_UINT8, "\xFF", 1, "255"},
        {IFX_HDR_UINT16, "\xFF\xFF", 2, "65535"},
        {IFX_HDR_UINT32, "\x2A\x00\x00\x00", 4, "42"},
        {IFX_HDR_UINT64, "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 8, "18446744073709551615"},
        {IFX_HDR_UINT64, "\x01", 1, NULL},
        {IFX_HDR_UINT128, "\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00", 16,
         "18446744073709551616"},
        {IFX_HDR_UINT128, "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 16,
         "340282366920938463463374607431768211455"},
        {IFX_HDR_FLOAT32, "\xCD\xCC\x8C\x3F", 4, "1.1"},
        {IFX_HDR_FLOAT32, "\xCD\xCC\xCC\x3D", 4, "0.1"},
        {IFX_HDR_FLOAT32, "\x00\x00\x80\x4B", 4, "16777216"},
        {IFX_HDR_FLOAT32, "\x00\x00\xC0\xBF", 4, "-1.5"},
        {IFX_HDR_FLOAT32, "\xFF\xFF\x7F\x7F", 4, "340282350000000000000000000000000000000"},
        {IFX_HDR_FLOAT32, "\x01\x00\x00\x00", 4, "0.000000000000000000000000000000000000000000001"},
        /* Powers of two where the correctly rounded 8-digit decimal misses and a neighbour works.
         */
        {IFX_HDR_FLOAT32, "\x00\x00\x00\x6B", 4, "154742510000000000000000000"},
        {IFX_HDR_FLOAT32, "\x00\x00\x80\x6C", 4, "1237940100000000000000000000"},
        {IFX_HDR_FLOAT32, "\x00\x00\x80\x0F", 4, "0.000000000000000000000000000012621775"},
        {IFX_HDR_FLOAT32, "\x00\x00\x00\x80", 4, "-0"},
        {IFX_HDR_FLOAT32, "\x00\x00\x80\x7F", 4, NULL}, /* +inf */
        {IFX_HDR_FLOAT32, "\x00\x00\xC0\x7F", 4, NULL}, /* NaN */
        {IFX_HDR_FLOAT32, "\x00\x00\x80", 3, NULL},
        {IFX_HDR_FLOAT64, "\x9A\x99\x99\x99\x99\x99\xB9\x3F", 8, "0.1"},
        {IFX_HDR_FLOAT64, "\x00\x00\x00\x00\x00\x00\x59\x40", 8, "100"},
        {IFX_HDR_FLOAT64, "\x00\x00\x00\x00\x00\x00\xF8\x7F", 8, NULL}, /* NaN */
        {IFX_HDR_FLOAT64, "\x00\x00\x00\x00\x00\x00\xF0\xFF", 8, NULL}, /* -inf */
        {IFX_HDR_FLOAT64, "\x00\x00\x00\x00", 4, NULL},
        {(ifx_header_kind)15, "x", 1, NULL},
    };
    ifx_buf out;
    (void)state;

    ifx_buf_init(&out, 1024);
    for (size_t i = 0; i < LEN(cases); i++) {
        ifx_header h = {IFX_HDR_STRING, (const uint8_t *)"key",          3,
                        cases[i].kind,  (const uint8_t *)cases[i].bytes, cases[i].len};
        ifx_rc rc;

        ifx_buf_reset(&out);
        assert_int_equal(ifx_buf_puts(&out, "x="), IFX_OK);
        rc = pc_host_header_value_text(&h, &out);
        if (!cases[i].text) {
            if (rc != IFX_E_INVALID || strcmp(out.data, "x=") != 0)
                fail_msg("case %zu: rc %d, \"%s\", expected a refusal", i, rc, out.data);
            continue;
        }
        if (rc != IFX_OK || out.len != 2 + strlen(cases[i].text) ||
            memcmp(out.data + 2, cases[i].text, out.len - 2) != 0)
            fail_msg("case %zu: rc %d, \"%s\", expected \"%s\"", i, rc, out.data + 2,
                     cases[i].text);
    }

    /* A full buffer is reported and leaves out unchanged. */
    ifx_buf small;
    ifx_header h = {IFX_HDR_STRING,
                    (const uint8_t *)"k",
                    1,
                    IFX_HDR_UINT64,
                    (const uint8_t *)"\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF",
                    8};
    ifx_buf_init(&small, 8);
    assert_int_equal(ifx_buf_puts(&small, "x="), IFX_OK);
    assert_int_equal(pc_host_header_value_text(&h, &small), IFX_E_FULL);
    assert_int_equal(small.len, 2);
    ifx_buf_free(&small);
    ifx_buf_free(&out);
}

static void test_u128_format(void **state)
{
    static const struct {
        uint64_t hi, lo;
        const char *text;
    } cases[] = {
        {0, 0, "0"},
        {0, 1, "1"},
        {0, 999999999, "999999999"},
        {0, 1000000000, "1000000000"},
        {0, 10000000000000000000u, "10000000000000000000"},
        {0, UINT64_MAX, "18446744073709551615"},
        {1, 0, "18446744073709551616"},
        /* 10^38 = 0x4B3B4CA85A86C47A098A224000000000 */
        {0x4B3B4CA85A86C47Au, 0x098A224000000000u, "100000000000000000000000000000000000000"},
        {0x4B3B4CA85A86C47Au, 0x098A223FFFFFFFFFu, "99999999999999999999999999999999999999"},
        {UINT64_MAX, UINT64_MAX, "340282366920938463463374607431768211455"},
    };
    char out[40];
    (void)state;

    for (size_t i = 0; i < LEN(cases); i++) {
        memset(out, 'x', sizeof out);
        size_t n = ifx_u128_format((ifx_u128){cases[i].hi, cases[i].lo}, out);
        assert_int_equal(n, strlen(cases[i].text));
        assert_string_equal(out, cases[i].text);
        /* and back: ifx_u128_parse is its inverse */
        ifx_u128 back = {7, 7};
        assert_int_equal(ifx_u128_parse(out, n, &back), IFX_OK);
        assert_true(back.hi == cases[i].hi && back.lo == cases[i].lo);
    }
    ifx_u128 v = {0, 0};
    assert_int_equal(ifx_u128_parse("00042", 5, &v), IFX_OK);
    assert_true(v.hi == 0 && v.lo == 42);
    static const char *const refused[] = {"",
                                          "-1",
                                          "+1",
                                          " 1",
                                          "1 ",
                                          "12a",
                                          "1.0",
                                          "340282366920938463463374607431768211456",
                                          "999999999999999999999999999999999999999"};
    for (size_t i = 0; i < LEN(refused); i++)
        assert_int_equal(ifx_u128_parse(refused[i], strlen(refused[i]), &v), IFX_E_INVALID);
}

/* ---- encoders ------------------------------------------------------------------------------ */

static void test_encoder_failures(void **state)
{
    ifx_raw_message m = {{0, 1}, 2, 3, 4, 5, NULL, 0, (const uint8_t *)"hi", 2};
    ifx_produced_message pm;
    ifx_messages_meta mm = {1, 5, (ifx_schema)6};
    ifx_header_in bad = {(ifx_header_kind)15, "k", 1, IFX_HDR_STRING, "v", 1};
    ifx_buf b;
    (void)state;

    /* Too small for the whole RawMessages: nothing of it stays. */
    ifx_buf_init(&b, 12);
    assert_int_equal(ifx_buf_puts(&b, "abc"), IFX_OK);
    assert_int_equal(pc_host_encode_raw_messages(&b, IFX_SCHEMA_RAW, &m, 1), IFX_E_FULL);
    assert_int_equal(b.len, 3);
    assert_string_equal(b.data, "abc");
    assert_int_equal(
        ifxi_pc_put_headers(
            &b, (ifx_header_in[]){{IFX_HDR_STRING, "kk", 2, IFX_HDR_STRING, "vv", 2}}, 1),
        IFX_E_FULL);
    assert_int_equal(b.len, 3);
    assert_int_equal(ifxi_pc_put_bytes(&b, "0123456789", 10), IFX_E_FULL);
    assert_int_equal(b.len, 3);
    ifx_buf_free(&b);

    ifx_buf_init(&b, 1024);
    assert_int_equal(pc_host_encode_raw_messages(&b, (ifx_schema)6, &m, 1), IFX_E_USAGE);
    assert_int_equal(pc_host_encode_messages_meta(&b, &mm), IFX_E_USAGE);
    assert_int_equal(ifxi_pc_put_headers(&b, &bad, 1), IFX_E_USAGE);
    memset(&pm, 0, sizeof pm);
    pm.payload = "";
    assert_int_equal(ifxi_pc_encode_produced(&b, IFX_SCHEMA_RAW, &pm, 1, NULL, 0), IFX_E_USAGE);
    pm.payload = "x";
    pm.payload_len = 1;
    pm.headers = &bad;
    pm.nheaders = 1;
    assert_int_equal(ifxi_pc_encode_produced(&b, IFX_SCHEMA_RAW, &pm, 1, NULL, 0), IFX_E_USAGE);
    assert_int_equal(b.len, 0);
    ifx_buf_free(&b);
}

/* Many messages with varied field sizes survive encode then decode. */
static void test_round_trip(void **state)
{
    enum { N = 300 };
    static ifx_raw_message in[N], out;
    static uint8_t payload[N];
    uint64_t x = 0x9E3779B97F4A7C15u;
    ifx_pc_messages it;
    ifx_buf b;
    ifx_err err;
    bool done;
    (void)state;

    for (size_t i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        payload[i] = (uint8_t)x;
        in[i].id = (ifx_u128){x >> (i % 64), x << (i % 64)};
        in[i].offset = x >> (i % 64);
        in[i].checksum = x;
        in[i].timestamp = i;
        in[i].origin_timestamp = UINT64_MAX - i;
        in[i].headers = payload;
        in[i].headers_len = i % 5;
        in[i].payload = payload;
        in[i].payload_len = i;
    }
    ifx_buf_init(&b, 1 << 20);
    assert_int_equal(pc_host_encode_raw_messages(&b, IFX_SCHEMA_AVRO, in, N), IFX_OK);
    ifx_err_clear(&err);
    assert_int_equal(ifxi_pc_messages_begin(&it, (uint8_t *)b.data, b.len, &err), IFX_OK);
    assert_int_equal(it.schema, IFX_SCHEMA_AVRO);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(ifxi_pc_messages_next(&it, &out, &done, &err), IFX_OK);
        assert_false(done);
        assert_true(out.id.hi == in[i].id.hi && out.id.lo == in[i].id.lo);
        assert_true(out.offset == in[i].offset && out.checksum == in[i].checksum);
        assert_true(out.timestamp == in[i].timestamp);
        assert_true(out.origin_timestamp == in[i].origin_timestamp);
        assert_int_equal(out.headers_len, in[i].headers_len);
        assert_int_equal(out.payload_len, in[i].payload_len);
        if (out.payload_len)
            assert_memory_equal(out.payload, payload, out.payload_len);
    }
    assert_int_equal(ifxi_pc_messages_next(&it, &out, &done, &err), IFX_OK);
    assert_true(done);
    assert_ptr_equal(it.p, it.end);
    ifx_buf_free(&b);
}

static void test_schema_names(void **state)
{
    (void)state;
    assert_string_equal(ifx_schema_name(IFX_SCHEMA_JSON), "json");
    assert_string_equal(ifx_schema_name(IFX_SCHEMA_RAW), "raw");
    assert_string_equal(ifx_schema_name(IFX_SCHEMA_TEXT), "text");
    assert_string_equal(ifx_schema_name(IFX_SCHEMA_PROTO), "proto");
    assert_string_equal(ifx_schema_name(IFX_SCHEMA_FLATBUFFER), "flatbuffer");
    assert_string_equal(ifx_schema_name(IFX_SCHEMA_AVRO), "avro");
    assert_string_equal(ifx_schema_name((ifx_schema)6), "unknown");
}

/* Decodes the varint at b[0..n) (a u32, a u64 or a u128 by kind) from a buffer that ends with it
 * (the byte loop: fewer than 16 bytes left) and from one with 24 more bytes after it (whole words
 * read at once); the value, the bytes taken and any error must be the same. */
static void same_both_ways(const uint8_t *b, size_t n, int kind)
{
    uint8_t exact[32], padded[64];
    ifx_err e1, e2;
    ifx_rc r1, r2;
    ifx_u128 x1 = {0, 0}, x2 = {0, 0};

    assert_true(n <= sizeof exact);
    memcpy(exact, b, n);
    memcpy(padded, b, n);
    memset(padded + n, 0xA5, 24); /* top bits set: they would continue a varint read too far */
    ifx_pc_reader a = {exact, exact, exact + n, &e1}, c = {padded, padded, padded + n + 24, &e2};
    ifx_err_clear(&e1);
    ifx_err_clear(&e2);
    if (kind == 128) {
        r1 = ifxi_pc_get_u128(&a, "v", &x1);
        r2 = ifxi_pc_get_u128(&c, "v", &x2);
    } else {
        const ifx_pc_varint_limit *lim = kind == 32 ? &ifxi_pc_u32_limit : &ifxi_pc_u64_limit;
        r1 = ifxi_pc_get_varint(&a, "v", lim, &x1.lo);
        r2 = ifxi_pc_get_varint(&c, "v", lim, &x2.lo);
    }
    assert_int_equal(r1, r2);
    assert_true(x1.hi == x2.hi && x1.lo == x2.lo);
    assert_int_equal(a.p - exact, c.p - padded);
    if (r1) {
        /* the exact buffer may run out where the padded one goes on: compare only where the
         * varint ended within its bytes */
        if (strstr(e1.msg, "truncated") == NULL)
            assert_string_equal(e1.msg, e2.msg);
    }
}

/* Varints read a word at a time give the values, lengths and refusals of the byte loop: every
 * length of every type, over-long forms, the largest values and one past them, random values. */
static void test_varint_words(void **state)
{
    uint64_t x = 0x9E3779B97F4A7C15ull;
    uint8_t b[32];
    (void)state;
    for (int round = 0; round < 20000; round++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        unsigned n = 1 + (unsigned)(x % 21);
        /* n - 1 continuation bytes, then a last byte: random groups, or the edges */
        for (unsigned i = 0; i < n; i++)
            b[i] = (uint8_t)((x >> (i % 8 * 8)) ^ (uint64_t)i * 0x3D);
        for (unsigned i = 0; i + 1 < n; i++)
            b[i] |= 0x80;
        b[n - 1] &= 0x7F;
        switch (round % 5) {
        case 0:
            b[n - 1] = 0x00; /* over-long */
            break;
        case 1:
            b[n - 1] = 0x01;
            break;
        case 2:
            b[n - 1] = (uint8_t)(0x02 + round % 3); /* 0x02 to 0x04: around u64 and u128 limits */
            break;
        case 3:
            b[n - 1] = (uint8_t)(0x0F + round % 2); /* around the u32 limit */
            break;
        default:
            break;
        }
        same_both_ways(b, n, 32);
        same_both_ways(b, n, 64);
        same_both_ways(b, n, 128);
        /* without a last byte: too long, or truncated */
        b[n - 1] |= 0x80;
        same_both_ways(b, n, 64);
        same_both_ways(b, n, 128);
    }
    /* the encoder's own output of edge values, round-tripped both ways */
    static const uint64_t edges[] = {0,
                                     1,
                                     127,
                                     128,
                                     16383,
                                     16384,
                                     UINT32_MAX,
                                     (uint64_t)UINT32_MAX + 1,
                                     (1ull << 56) - 1,
                                     1ull << 56,
                                     (1ull << 63) - 1,
                                     UINT64_MAX};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++)
        for (size_t j = 0; j < sizeof edges / sizeof *edges; j++) {
            ifx_buf out;
            ifx_buf_init(&out, 64);
            assert_int_equal(ifxi_pc_put_u128(&out, (ifx_u128){edges[i], edges[j]}), IFX_OK);
            same_both_ways((const uint8_t *)out.data, out.len, 128);
            ifx_buf_reset(&out);
            assert_int_equal(ifxi_pc_put_varint(&out, edges[j]), IFX_OK);
            same_both_ways((const uint8_t *)out.data, out.len, 64);
            same_both_ways((const uint8_t *)out.data, out.len, 32);
            ifx_buf_free(&out);
        }
}

/* The test's own varint writers, byte loops independent of the library's: the oracle for the
 * ProducedMessages encoder below. */
static void ref_varint(ifx_buf *b, uint64_t v)
{
    while (v >= 0x80) {
        assert_int_equal(ifx_buf_putc(b, (char)(uint8_t)(v | 0x80)), IFX_OK);
        v >>= 7;
    }
    assert_int_equal(ifx_buf_putc(b, (char)(uint8_t)v), IFX_OK);
}

static void ref_u128(ifx_buf *b, ifx_u128 v)
{
    uint64_t hi = v.hi, lo = v.lo;
    while (hi || lo >= 0x80) {
        assert_int_equal(ifx_buf_putc(b, (char)(uint8_t)(lo | 0x80)), IFX_OK);
        lo = lo >> 7 | hi << 57;
        hi >>= 7;
    }
    assert_int_equal(ifx_buf_putc(b, (char)(uint8_t)lo), IFX_OK);
}

static void ref_bytes(ifx_buf *b, const void *p, size_t n)
{
    ref_varint(b, n);
    assert_int_equal(ifx_buf_append(b, p, n), IFX_OK);
}

/* Varints written a word at a time (the first 8 bytes of a long one as one word, spread7) give
 * the byte loops' bytes: random values of every bit length, u64 and u128, and all ones below
 * each bit. */
static void test_varint_words_written(void **state)
{
    uint64_t x = 0xD1B54A32D192ED03ull;
    ifx_buf got, want;
    (void)state;
    ifx_buf_init(&got, 1 << 16);
    ifx_buf_init(&want, 1 << 16);
    for (int round = 0; round < 20000; round++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        unsigned bits = (unsigned)(round % 129);
        uint64_t lo = round % 2 ? x : UINT64_MAX;
        uint64_t hi = round % 2 ? x * 0x9E3779B97F4A7C15ull : UINT64_MAX;
        /* keep the low `bits` bits */
        if (bits < 64)
            lo &= bits ? UINT64_MAX >> (64 - bits) : 0, hi = 0;
        else if (bits < 128)
            hi &= bits > 64 ? UINT64_MAX >> (128 - bits) : 0;
        ifx_buf_reset(&got);
        ifx_buf_reset(&want);
        assert_int_equal(ifxi_pc_put_u128(&got, (ifx_u128){.hi = hi, .lo = lo}), IFX_OK);
        ref_u128(&want, (ifx_u128){.hi = hi, .lo = lo});
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.data, want.data, want.len);
        ifx_buf_reset(&got);
        ifx_buf_reset(&want);
        assert_int_equal(ifxi_pc_put_varint(&got, lo), IFX_OK);
        ref_varint(&want, lo);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.data, want.data, want.len);
    }
    ifx_buf_free(&got);
    ifx_buf_free(&want);
}

/* ProducedMessages without headers are written after one reservation of their exact size, with
 * varints from their bit lengths: the bytes are those of the field-by-field writers, for ids and
 * timestamps of every bit length (2^k - 1 and 2^k), present or absent, and payload lengths
 * around the varint steps. */
static void test_produced_plain_varints(void **state)
{
    static uint8_t payload[20000];
    static const size_t lens[] = {1, 127, 128, 129, 300, 16383, 16384, 20000};
    ifx_produced_message m[3];
    ifx_buf got, want;
    (void)state;

    memset(payload, 'p', sizeof payload);
    ifx_buf_init(&got, 1 << 20);
    ifx_buf_init(&want, 1 << 20);
    for (unsigned k = 0; k <= 128; k++) {
        for (unsigned form = 0; form < 2; form++) {
            ifx_u128 id = {0, 0};
            /* 2^k - 1 (form 0) or 2^k (form 1, k < 128) */
            if (form == 0) {
                id.lo = k >= 64 ? UINT64_MAX : (k ? (UINT64_MAX >> (64 - k)) : 0);
                id.hi = k > 64 ? UINT64_MAX >> (128 - k) : 0;
            } else if (k < 128) {
                if (k < 64)
                    id.lo = 1ull << k;
                else
                    id.hi = 1ull << (k - 64);
            }
            uint64_t ts = k < 64 ? (form ? 1ull << k : (1ull << k) - 1) : UINT64_MAX - k;
            for (unsigned i = 0; i < 3; i++)
                m[i] = (ifx_produced_message){.has_id = (k + i) % 3 != 0,
                                              .id = id,
                                              .has_timestamp = i != 1,
                                              .timestamp = ts >> i,
                                              .has_origin_timestamp = i == 2,
                                              .origin_timestamp = ts ^ id.lo,
                                              .payload = payload,
                                              .payload_len = lens[(k + i + form) % 8]};
            ifx_buf_reset(&got);
            ifx_buf_reset(&want);
            assert_int_equal(ifxi_pc_encode_produced(&got, IFX_SCHEMA_JSON, m, 3, "st", 2), IFX_OK);
            ref_varint(&want, IFX_SCHEMA_JSON);
            ref_varint(&want, 3);
            for (unsigned i = 0; i < 3; i++) {
                assert_int_equal(ifx_buf_putc(&want, m[i].has_id), IFX_OK);
                if (m[i].has_id)
                    ref_u128(&want, m[i].id);
                assert_int_equal(ifx_buf_putc(&want, 0), IFX_OK);
                assert_int_equal(ifx_buf_putc(&want, m[i].has_timestamp), IFX_OK);
                if (m[i].has_timestamp)
                    ref_varint(&want, m[i].timestamp);
                assert_int_equal(ifx_buf_putc(&want, m[i].has_origin_timestamp), IFX_OK);
                if (m[i].has_origin_timestamp)
                    ref_varint(&want, m[i].origin_timestamp);
                assert_int_equal(ifx_buf_putc(&want, 0), IFX_OK);
                ref_bytes(&want, m[i].payload, m[i].payload_len);
            }
            assert_int_equal(ifx_buf_putc(&want, 1), IFX_OK);
            ref_bytes(&want, "st", 2);
            assert_int_equal(got.len, want.len);
            assert_memory_equal(got.data, want.data, got.len);
        }
    }
    /* the exact size is what is reserved: a cap one byte short is FULL, the buffer unchanged */
    ifx_buf small;
    ifx_buf_init(&small, want.len - 1);
    assert_int_equal(ifxi_pc_encode_produced(&small, IFX_SCHEMA_JSON, m, 3, "st", 2), IFX_E_FULL);
    assert_int_equal(small.len, 0);
    ifx_buf_free(&small);
    ifx_buf_init(&small, want.len);
    assert_int_equal(ifxi_pc_encode_produced(&small, IFX_SCHEMA_JSON, m, 3, "st", 2), IFX_OK);
    assert_int_equal(small.len, want.len);
    ifx_buf_free(&small);
    /* random ids and timestamps (most ids take all 19 bytes) */
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    for (int round = 0; round < 20000; round++) {
        uint64_t r[3];
        for (int i = 0; i < 3; i++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            r[i] = rng >> (rng & 63);
        }
        ifx_produced_message one = {.has_id = true,
                                    .id = {r[0], r[1]},
                                    .has_timestamp = true,
                                    .timestamp = r[2],
                                    .payload = payload,
                                    .payload_len = 1 + (size_t)(r[2] % 200)};
        ifx_buf_reset(&got);
        ifx_buf_reset(&want);
        assert_int_equal(ifxi_pc_encode_produced(&got, IFX_SCHEMA_RAW, &one, 1, NULL, 0), IFX_OK);
        ref_varint(&want, IFX_SCHEMA_RAW);
        ref_varint(&want, 1);
        assert_int_equal(ifx_buf_putc(&want, 1), IFX_OK);
        ref_u128(&want, one.id);
        assert_int_equal(ifx_buf_append(&want, "\0\1", 2), IFX_OK);
        ref_varint(&want, one.timestamp);
        assert_int_equal(ifx_buf_append(&want, "\0\0", 2), IFX_OK);
        ref_bytes(&want, one.payload, one.payload_len);
        assert_int_equal(ifx_buf_putc(&want, 0), IFX_OK);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.data, want.data, got.len);
    }
    ifx_buf_free(&got);
    ifx_buf_free(&want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic_meta),
        cmocka_unit_test(test_messages_meta),
        cmocka_unit_test(test_raw_messages_small),
        cmocka_unit_test(test_header_map_one),
        cmocka_unit_test(test_raw_messages_with_headers),
        cmocka_unit_test(test_header_map_two),
        cmocka_unit_test(test_realistic_message),
        cmocka_unit_test(test_max_varints),
        cmocka_unit_test(test_produced_examples),
        cmocka_unit_test(test_produced_plain_varints),
        cmocka_unit_test(test_leniency),
        cmocka_unit_test(test_truncated_raw_messages),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_iterator_states),
        cmocka_unit_test(test_header_value_text),
        cmocka_unit_test(test_u128_format),
        cmocka_unit_test(test_encoder_failures),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_schema_names),
        cmocka_unit_test(test_varint_words),
        cmocka_unit_test(test_varint_words_written),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
