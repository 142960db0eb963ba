/* The sink's mapping (src/connector/mapping.h) without a server: the exact line each message
 * becomes for each layout option, and each refusal's exact reason. The lines are the ones the
 * sink's integration tests (test_sink.c, test_abi_sink) find stored on a server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "connector/mapping.h"
#include "ifx/config.h"
#include "sink_message.h"

/* A sink configuration: the v3 defaults of test_sink.c plus extra JSON members. */
static void config(ifx_config *cfg, const char *version, const char *extra)
{
    char json[2048];
    ifx_err e;
    snprintf(json, sizeof json,
             "{\"version\":\"%s\",\"url\":\"http://127.0.0.1:1\",%s,"
             "\"token\":\"t\"%s%s}",
             version,
             strcmp(version, "v2") == 0 ? "\"bucket\":\"b\",\"org\":\"o\"" : "\"db\":\"iggy\"",
             extra ? "," : "", extra ? extra : "");
    if (ifx_config_parse_json(cfg, IFX_ROLE_SINK, json, strlen(json), NULL, &e))
        fail_msg("config: %s", e.msg);
}

static ifx_sink_message msg(uint64_t offset, const char *payload)
{
    return test_sink_message(offset, payload);
}

/* Maps m with cfg into a fresh batch; the batch's text (the line and its '\n') goes to out.
 * Returns the mapping's result; on a refusal out holds the reason. */
static ifx_rc map_one(const ifx_config *cfg, const ifx_sink_message *m, char *out, size_t cap,
                      int64_t *ns)
{
    ifx_mapping_scratch sc;
    ifx_lp lp;
    ifx_err e;
    int64_t t = 0;
    ifxi_mapping_scratch_init(&sc);
    ifx_lp_init(&lp, cfg->version, cfg->precision, cfg->max_batch_bytes);
    ifx_rc rc = ifxi_mapping_encode(cfg, m, &sc, &lp, &t, &e);
    if (rc == IFX_OK) {
        assert_int_equal(lp.lines, 1);
        snprintf(out, cap, "%.*s", (int)lp.batch.len, lp.batch.data);
    } else {
        assert_int_equal(lp.lines, 0);
        assert_int_equal(lp.batch.len, 0); /* a refused line leaves nothing behind */
        snprintf(out, cap, "%s", e.msg);
    }
    if (ns)
        *ns = t;
    ifx_lp_free(&lp);
    ifxi_mapping_scratch_free(&sc);
    return rc;
}

/* Maps payload (at offset) with a configuration and checks the line or refusal exactly. */
static void expect(const char *version, const char *extra, const ifx_sink_message *m, ifx_rc want,
                   const char *text)
{
    ifx_config cfg;
    char out[4096];
    config(&cfg, version, extra);
    ifx_rc rc = map_one(&cfg, m, out, sizeof out, NULL);
    if (rc != want || strcmp(out, text) != 0)
        fail_msg("%s {%s}:\n got  %s (%s)\n want %s (%s)", version, extra ? extra : "", out,
                 ifx_rc_name(rc), text, ifx_rc_name(want));
    ifx_config_free(&cfg);
}

static void expect_line(const char *version, const char *extra, uint64_t offset,
                        const char *payload, const char *line)
{
    ifx_sink_message m = msg(offset, payload);
    expect(version, extra, &m, IFX_OK, line);
}

static void expect_refusal(const char *version, const char *extra, uint64_t offset,
                           const char *payload, ifx_rc rc, const char *reason)
{
    ifx_sink_message m = msg(offset, payload);
    expect(version, extra, &m, rc, reason);
}

/* The upstream layout (test_sink.c test_upstream_layout): stream, topic, partition and offset
 * as tags; message_id, checksum and origin timestamp as fields; the payload as compact JSON, a
 * 20-digit integer exact; the Iggy time (in us, the default precision). */
static void test_upstream_layout(void **state)
{
    (void)state;
    expect_line(
        "v3", NULL, 7, "{ \"a\": 1, \"b\": [true, null], \"n\": 12345678901234567890 }",
        "iggy_messages,offset=7,partition=3,stream=orders,topic=eu message_id=\"1007\","
        "iggy_checksum=9141386507638288912u,iggy_origin_timestamp=1764118700000007u,"
        "payload_json=\"{\\\"a\\\":1,\\\"b\\\":[true,null],\\\"n\\\":12345678901234567890}\" "
        "1764118800000007\n");
    expect_line("v2", NULL, 8, "{\"a\":2}",
                "iggy_messages,offset=8,partition=3,stream=orders,topic=eu message_id=\"1008\","
                "iggy_checksum=9141386507638288912u,iggy_origin_timestamp=1764118700000008u,"
                "payload_json=\"{\\\"a\\\":2}\" 1764118800000008\n");
    /* the full unsigned range survives */
    ifx_sink_message big = msg(9, "{}");
    big.checksum = UINT64_MAX;
    expect("v3", NULL, &big, IFX_OK,
           "iggy_messages,offset=9,partition=3,stream=orders,topic=eu message_id=\"1009\","
           "iggy_checksum=18446744073709551615u,iggy_origin_timestamp=1764118700000009u,"
           "payload_json=\"{}\" 1764118800000009\n");
}

/* 1.x has no unsigned type: the checksum as a decimal string, the rest as integers
 * (test_sink.c test_real_v1). */
static void test_v1_metadata(void **state)
{
    (void)state;
    expect_line("v1", "\"include_partition_tag\":false", 1, "{\"x\":\"a\\nb\"}",
                "iggy_messages,offset=1,stream=orders,topic=eu message_id=\"1001\","
                "iggy_partition=3i,iggy_checksum=\"9141386507638288912\",iggy_origin_timestamp="
                "1764118700000001i,"
                "payload_json=\"{\\\"x\\\":\\\"a\\\\nb\\\"}\" 1764118800000001\n");
    ifx_sink_message m = msg(2, "{}");
    m.origin_timestamp_us = (uint64_t)INT64_MAX + 1;
    expect("v1", NULL, &m, IFX_E_UNSUPPORTED,
           "iggy_origin_timestamp 9223372036854775808 is too large for InfluxDB 1.x");
}

/* Metadata as fields when the tags are off; include_metadata off (test_upstream_cases). */
static void test_metadata_options(void **state)
{
    (void)state;
    expect_line("v3",
                "\"include_stream_tag\":false,\"include_topic_tag\":false,"
                "\"include_partition_tag\":false",
                50, "{}",
                "iggy_messages,offset=50 message_id=\"1050\",iggy_stream=\"orders\","
                "iggy_topic=\"eu\",iggy_partition=3u,iggy_checksum=9141386507638288912u,"
                "iggy_origin_timestamp=1764118700000050u,payload_json=\"{}\" "
                "1764118800000050\n");
    expect_line("v3", "\"include_metadata\":false", 60, "{}",
                "iggy_messages,offset=60 message_id=\"1060\",iggy_checksum=9141386507638288912u,"
                "iggy_origin_timestamp=1764118700000060u,payload_json=\"{}\" "
                "1764118800000060\n");
    expect_line("v3", "\"include_checksum\":false,\"include_origin_timestamp\":false", 61, "{}",
                "iggy_messages,offset=61,partition=3,stream=orders,topic=eu message_id=\"1061\","
                "payload_json=\"{}\" 1764118800000061\n");
    expect_line("v3", "\"default_tags\":{\"env\":\"test\",\"dc\":\"a b\"}", 62, "{}",
                "iggy_messages,dc=a\\ b,env=test,offset=62,partition=3,stream=orders,"
                "topic=eu message_id=\"1062\",iggy_checksum=9141386507638288912u,"
                "iggy_origin_timestamp=1764118700000062u,payload_json=\"{}\" "
                "1764118800000062\n");
    expect_line("v3", "\"measurement\":\"orders\"", 63, "{}",
                "orders,offset=63,partition=3,stream=orders,topic=eu message_id=\"1063\","
                "iggy_checksum=9141386507638288912u,iggy_origin_timestamp=1764118700000063u,"
                "payload_json=\"{}\" 1764118800000063\n");
}

/* A message without a time gets the wall clock, as upstream. */
static void test_wall_clock(void **state)
{
    ifx_config cfg;
    char out[1024];
    int64_t ns;
    struct timespec now;
    (void)state;
    config(&cfg, "v3", "\"include_metadata\":false");
    ifx_sink_message z = msg(60, "{}");
    z.timestamp_us = 0;
    clock_gettime(CLOCK_REALTIME, &now);
    assert_int_equal(map_one(&cfg, &z, out, sizeof out, &ns), IFX_OK);
    long long wall = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
    assert_true(ns > wall - 5000000000LL && ns < wall + 5000000000LL);
    ifx_config_free(&cfg);
}

/* offset_as: a tag (the default) or a field; as a field at ns precision the offset's
 * last three digits keep messages of one microsecond apart (test_offset_field_keeps_points_apart).
 */
static void test_offset_as(void **state)
{
    (void)state;
    expect_line("v3", "\"offset_as\":\"field\",\"precision\":\"ns\"", 1001, "{}",
                "iggy_messages,partition=3,stream=orders,topic=eu message_id=\"2001\","
                "iggy_checksum=9141386507638288912u,iggy_origin_timestamp=1764118700001001u,"
                "iggy_offset=1001u,payload_json=\"{}\" 1764118800001001001\n");
    expect_line("v3", "\"offset_as\":\"field\",\"precision\":\"us\"", 1002, "{}",
                "iggy_messages,partition=3,stream=orders,topic=eu message_id=\"2002\","
                "iggy_checksum=9141386507638288912u,iggy_origin_timestamp=1764118700001002u,"
                "iggy_offset=1002u,payload_json=\"{}\" 1764118800001002\n");
    ifx_sink_message m = msg(4, "{}");
    m.offset = (uint64_t)INT64_MAX + 1;
    expect("v1", "\"offset_as\":\"field\"", &m, IFX_E_UNSUPPORTED,
           "iggy_offset 9223372036854775808 is too large for InfluxDB 1.x");
}

/* payload_format text and base64; refusals of bad JSON and bad text (test_poison_and_text). */
static void test_payload_formats(void **state)
{
    (void)state;
    expect_line("v3", "\"payload_format\":\"text\"", 5, "line one\nline \"two\"\\",
                "iggy_messages,offset=5,partition=3,stream=orders,topic=eu message_id=\"1005\","
                "iggy_checksum=9141386507638288912u,iggy_origin_timestamp=1764118700000005u,"
                "payload_text=\"line one\nline \\\"two\\\"\\\\\" 1764118800000005\n");
    expect_line("v3", "\"payload_format\":\"base64\"", 6, "\x01\x02\xff",
                "iggy_messages,offset=6,partition=3,stream=orders,topic=eu message_id=\"1006\","
                "iggy_checksum=9141386507638288912u,iggy_origin_timestamp=1764118700000006u,"
                "payload_base64=\"AQL/\" 1764118800000006\n");
    expect_refusal("v3", NULL, 2, "{\"broken\":", IFX_E_INVALID,
                   "payload is not valid JSON: invalid JSON at byte 10: expected "
                   "a value, found end of input");
    expect_refusal("v3", "\"payload_format\":\"text\"", 3, "bad \xff", IFX_E_INVALID,
                   "payload is not valid UTF-8 text: invalid UTF-8 at byte 4 (byte "
                   "never used in UTF-8: 0xFF)");
    ifx_sink_message t = msg(4, "{}");
    t.stream = "bad\tstream";
    t.stream_len = 10;
    expect("v3", NULL, &t, IFX_E_INVALID,
           "tag value \"bad\\tstream\" of stream contains a TAB, which line "
           "protocol cannot carry in a tag value");
}

/* json_fields with tag_keys, timestamp_source payload, offset_as field, default_tags
 * (test_json_fields_and_options). */
#define JSON_FIELDS                                                                                \
    "\"payload_format\":\"json_fields\",\"tag_keys\":[\"region\"],"                                \
    "\"timestamp_source\":"                                                                        \
    "\"payload\",\"timestamp_field\":\"ts\",\"timestamp_unit\":\"s\","                             \
    "\"offset_as\":\"field\","                                                                     \
    "\"default_tags\":{\"env\":\"test\"},\"include_checksum\":false,"                              \
    "\"include_origin_timestamp\":false,\"measurement\":\"orders\""

static void test_json_fields(void **state)
{
    (void)state;
    expect_line("v3", JSON_FIELDS, 1,
                "{\"ts\":1700000000,\"region\":\"eu\",\"total\":9.5,\"qty\":2,\"paid\":true,"
                "\"customer\":{\"id\":\"c-1\",\"tier\":{\"level\":3}},\"items\":[1,"
                "2],\"note\":null}",
                "orders,env=test,partition=3,region=eu,stream=orders,topic=eu "
                "message_id=\"1001\",iggy_offset=1u,total=9.5,qty=2,paid=true,"
                "customer.id=\"c-1\",customer.tier.level=3,items=\"[1,2]\" 1700000000000000\n");
    expect_line("v3", JSON_FIELDS, 2, "{\"ts\":\"2023-11-14T22:13:21Z\",\"total\":1}",
                "orders,env=test,partition=3,stream=orders,topic=eu message_id=\"1002\","
                "iggy_offset=2u,total=1 1700000001000000\n");
    expect_refusal("v3", JSON_FIELDS, 3, "[1,2,3]", IFX_E_INVALID,
                   "payload_format \"json_fields\" needs a JSON object, got array");
    expect_refusal("v3", JSON_FIELDS, 4, "{\"total\":", IFX_E_INVALID,
                   "payload is not valid JSON: invalid JSON at byte 9: expected "
                   "a value, found end of input");
    /* a tag from a number, an object, a boolean; a missing or null tag key is left out */
    expect_line("v3",
                "\"payload_format\":\"json_fields\",\"tag_keys\":[\"a\",\"b\",\"c\",\"d\",\"e\"],"
                "\"include_metadata\":false,\"include_checksum\":false,"
                "\"include_origin_timestamp\":false",
                5, "{\"a\":1.5,\"b\":{\"x\":[1, 2]},\"c\":true,\"d\":null,\"v\":1}",
                "iggy_messages,a=1.5,b={\"x\":[1\\,2]},c=true,offset=5 message_id=\"1005\","
                "v=1 1764118800000005\n");
}

/* json_integers: whole numbers as integers, beyond int64 as unsigned (not on 1.x). */
static void test_json_integers(void **state)
{
    (void)state;
    expect_line("v3",
                "\"payload_format\":\"json_fields\",\"json_integers\":true,"
                "\"include_metadata\":false,\"include_checksum\":false,"
                "\"include_origin_timestamp\":false",
                1, "{\"i\":-2,\"u\":18446744073709551615,\"f\":2.0,\"e\":1e3}",
                "iggy_messages,offset=1 message_id=\"1001\",i=-2i,u=18446744073709551615u,"
                "f=2,e=1000 1764118800000001\n");
    expect_line("v1",
                "\"payload_format\":\"json_fields\",\"json_integers\":true,"
                "\"include_metadata\":false,\"include_checksum\":false,"
                "\"include_origin_timestamp\":false",
                1, "{\"i\":-2,\"u\":18446744073709551615}",
                "iggy_messages,offset=1 message_id=\"1001\",i=-2i,u=18446744073709552000 "
                "1764118800000001\n");
}

/* field_keys keeps only the named fields. As the mapping stands, a named top-level object keeps
 * its own members but not deeper ones, and a nested name ("o.x") is never reached because its
 * top-level key is not named: pinned here so that a change to it is a deliberate one. */
static void test_field_keys(void **state)
{
    (void)state;
    expect_line("v3",
                "\"payload_format\":\"json_fields\",\"field_keys\":[\"a\",\"o\"],"
                "\"include_metadata\":false,\"include_checksum\":false,"
                "\"include_origin_timestamp\":false",
                1, "{\"a\":1,\"b\":2,\"o\":{\"x\":1,\"y\":{\"z\":2}}}",
                "iggy_messages,offset=1 message_id=\"1001\",a=1,o.x=1 1764118800000001\n");
    expect_line("v3",
                "\"payload_format\":\"json_fields\",\"field_keys\":[\"o.x\"],"
                "\"include_metadata\":false,\"include_checksum\":false,"
                "\"include_origin_timestamp\":false",
                1, "{\"a\":1,\"o\":{\"x\":1,\"y\":2}}",
                "iggy_messages,offset=1 message_id=\"1001\" 1764118800000001\n");
}

/* timestamp_source and its refusals, each with its exact reason. */
#define TS_PAYLOAD "\"timestamp_source\":\"payload\",\"timestamp_field\":\"ts\","
static void test_timestamps(void **state)
{
    (void)state;
    expect_line("v3", "\"timestamp_source\":\"origin\",\"include_metadata\":false", 1, "{}",
                "iggy_messages,offset=1 message_id=\"1001\",iggy_checksum=9141386507638288912u,"
                "iggy_origin_timestamp=1764118700000001u,payload_json=\"{}\" "
                "1764118700000001\n");
    expect_line(
        "v3", TS_PAYLOAD "\"timestamp_unit\":\"ms\",\"include_metadata\":false", 2,
        "{\"ts\":1700000000123}",
        "iggy_messages,offset=2 message_id=\"1002\",iggy_checksum=9141386507638288912u,"
        "iggy_origin_timestamp=1764118700000002u,payload_json=\"{\\\"ts\\\":1700000000123}\" "
        "1700000000123000\n");
    expect_line(
        "v3", TS_PAYLOAD "\"timestamp_unit\":\"s\",\"include_metadata\":false", 3,
        "{\"ts\":1700000000.5}",
        "iggy_messages,offset=3 message_id=\"1003\",iggy_checksum=9141386507638288912u,"
        "iggy_origin_timestamp=1764118700000003u,payload_json=\"{\\\"ts\\\":1700000000.5}\" "
        "1700000000500000\n");
    expect_refusal("v3", TS_PAYLOAD "\"payload_format\":\"text\"", 4, "plain", IFX_E_INVALID,
                   "timestamp_source \"payload\" needs a JSON object payload");
    expect_refusal("v3", TS_PAYLOAD "\"timestamp_unit\":\"s\"", 5, "{\"x\":1}", IFX_E_INVALID,
                   "the payload has no timestamp field 'ts'");
    expect_refusal("v3", TS_PAYLOAD "\"timestamp_unit\":\"s\"", 6, "{\"ts\":true}", IFX_E_INVALID,
                   "timestamp field 'ts' must be a number or an RFC 3339 string");
    expect_refusal("v3", TS_PAYLOAD "\"timestamp_unit\":\"s\"", 7, "{\"ts\":\"yesterday\"}",
                   IFX_E_INVALID,
                   "timestamp field 'ts': invalid RFC 3339 timestamp \"yesterday\": "
                   "expected a date YYYY-MM-DD");
    expect_refusal("v3", TS_PAYLOAD "\"timestamp_unit\":\"s\"", 8,
                   "{\"ts\":\"2023-11-14T22:13:21.000000000000000000000000000000000000000000000000"
                   "0000Z\"}",
                   IFX_E_INVALID, "timestamp field 'ts' is too long");
    expect_refusal("v3", TS_PAYLOAD "\"timestamp_unit\":\"s\"", 9, "{\"ts\":9300000000000}",
                   IFX_E_INVALID, "timestamp field 'ts' is out of range");
    expect_refusal("v3", TS_PAYLOAD "\"timestamp_unit\":\"s\"", 10, "{\"ts\":9.3e15}",
                   IFX_E_INVALID, "timestamp field 'ts' is out of range");
    ifx_sink_message m = msg(11, "{}");
    m.timestamp_us = (uint64_t)INT64_MAX;
    expect("v3", NULL, &m, IFX_E_INVALID,
           "timestamp 9223372036854775807 us is beyond what InfluxDB stores");
}

/* n objects nested in each other, the innermost {"a":1}. */
static void nest(char *p, size_t cap, int n)
{
    size_t k = 0;
    assert_true((size_t)n * 6 + 2 < cap);
    for (int i = 0; i < n; i++)
        k += (size_t)snprintf(p + k, cap - k, "{\"a\":");
    p[k++] = '1';
    for (int i = 0; i < n; i++)
        p[k++] = '}';
    p[k] = 0;
}

/* json_fields follows 33 objects deep (the payload and 32 levels within), and refuses more. */
static void test_nesting(void **state)
{
    ifx_config cfg;
    char p[512], out[1024];
    (void)state;
    nest(p, sizeof p, 34);
    expect_refusal("v3", "\"payload_format\":\"json_fields\"", 1, p, IFX_E_INVALID,
                   "payload nested too deeply");
    nest(p, sizeof p, 33);
    config(&cfg, "v3", "\"payload_format\":\"json_fields\"");
    ifx_sink_message m = msg(1, p);
    assert_int_equal(map_one(&cfg, &m, out, sizeof out, NULL), IFX_OK);
    ifx_config_free(&cfg);
}

/* A line past the batch's cap: IFX_E_FULL, the line stays open with its time, and finishes in
 * the emptied batch (the sink's flow). */
static void test_full_batch(void **state)
{
    ifx_config cfg;
    ifx_mapping_scratch sc;
    ifx_lp lp;
    ifx_err e;
    int64_t ns = 0;
    (void)state;
    config(&cfg, "v3", NULL);
    ifxi_mapping_scratch_init(&sc);
    ifx_lp_init(&lp, cfg.version, cfg.precision, 300);
    ifx_sink_message m = msg(1, "{\"a\":\"0123456789012345678901234567890123456789\"}");
    assert_int_equal(ifxi_mapping_encode(&cfg, &m, &sc, &lp, &ns, &e), IFX_OK);
    size_t first = lp.batch.len;
    m = msg(2, "{\"a\":\"0123456789012345678901234567890123456789\"}");
    assert_int_equal(ifxi_mapping_encode(&cfg, &m, &sc, &lp, &ns, &e), IFX_E_FULL);
    assert_int_equal(lp.lines, 1);
    assert_int_equal(lp.batch.len, first);
    assert_int_equal(ns, (int64_t)m.timestamp_us * 1000);
    ifx_lp_clear_batch(&lp);
    assert_int_equal(ifx_lp_end_line(&lp, true, ns, &e), IFX_OK);
    assert_int_equal(lp.lines, 1);
    assert_true(lp.batch.len > 23 && memcmp(lp.batch.data, "iggy_messages,offset=2,", 23) == 0);
    ifx_lp_free(&lp);
    ifxi_mapping_scratch_free(&sc);
    ifx_config_free(&cfg);
}

/* One scratch and one batch kept across messages from changing places and configurations (the
 * mapping reuses the line's measurement and tags while they stay the same): every line, and
 * every refusal, is the one a fresh scratch gives. The configuration is re-read into the same
 * memory between runs, so a stale prefix cannot hide behind an unchanged pointer. */
static void test_prefix_reuse(void **state)
{
    static const char *const extras[] = {
        NULL,
        "\"measurement\":\"other\"",
        "\"default_tags\":{\"region\":\"eu\",\"a b\":\"c,d\"}",
        "\"include_stream_tag\":false",
        "\"offset_as\":\"field\"",
        "\"include_metadata\":false,\"default_tags\":{\"x\":\"y\"}",
    };
    static const char *const streams[] = {"orders", "orders2", "order", "a b", "bad\ttab", ""};
    static const char *const topics[] = {"eu", "eu-west", "e", ""};
    static const char *const versions[] = {"v2", "v3", "v1"};
    ifx_mapping_scratch sc;
    ifx_lp lp;
    ifx_err e;
    int64_t ns;
    char want[4096], got[4096];
    (void)state;
    ifxi_mapping_scratch_init(&sc);
    for (size_t round = 0; round < 3 * 6; round++) {
        ifx_config cfg;
        config(&cfg, versions[round / 6], extras[round % 6]);
        ifx_lp_init(&lp, cfg.version, cfg.precision, cfg.max_batch_bytes);
        for (uint64_t k = 0; k < 60; k++) {
            ifx_sink_message m = msg(k, "{\"a\": 1}");
            /* runs of the same place, with changes of one part at a time; a run goes on across
             * a change of configuration */
            uint64_t g = round * 60 + k;
            m.stream = streams[(g / 7) % 6];
            m.stream_len = strlen(m.stream);
            m.topic = topics[((g + 2) / 5) % 4];
            m.topic_len = strlen(m.topic);
            m.partition = (uint32_t)(g / 11 % 3);
            ifx_rc want_rc = map_one(&cfg, &m, want, sizeof want, NULL);
            ifx_lp_clear_batch(&lp);
            ifx_err_clear(&e);
            ifx_rc rc = ifxi_mapping_encode(&cfg, &m, &sc, &lp, &ns, &e);
            if (rc == IFX_OK)
                snprintf(got, sizeof got, "%.*s", (int)lp.batch.len, lp.batch.data);
            else
                snprintf(got, sizeof got, "%s", e.msg);
            if (rc != want_rc || strcmp(got, want) != 0)
                fail_msg("round %zu message %llu:\n got  %s\n want %s", round,
                         (unsigned long long)k, got, want);
        }
        ifx_lp_free(&lp);
        ifx_config_free(&cfg);
    }
    ifxi_mapping_scratch_free(&sc);
}

/* The usual line is written straight into the batch once its place's prefix is saved (mapping.c,
 * encode_direct), and handed to the checked calls wherever they could refuse it or find the
 * batch full. Every line and every refusal with a warm scratch is the one a fresh scratch (the
 * checked calls) gives, for each target, precision and layout option, and for the messages at
 * the edges: limits of the metadata types, times at the ends of what a server stores, payloads
 * invalid, over the element limit, nested past what the fast pass takes. */
static void test_direct_lines(void **state)
{
    static const char *const configs[][2] = {
        {"v2", NULL},
        {"v3", NULL},
        {"v1", NULL},
        {"v2", "\"precision\":\"s\""},
        {"v1", "\"precision\":\"ms\""},
        {"v3", "\"precision\":\"ns\""},
        {"v2", "\"precision\":\"ns\""},
        {"v2", "\"offset_as\":\"field\""},
        {"v1", "\"offset_as\":\"field\",\"precision\":\"ns\""},
        {"v2", "\"default_tags\":{\"a\":\"1\",\"z z\":\"x,y\"}"},
        {"v2", "\"default_tags\":{\"offset\":\"x\"}"},
        {"v3", "\"default_tags\":{\"offset0\":\"x\",\"offse\":\"y\",\"p\":\"q\"}"},
        {"v3", "\"include_checksum\":false,\"include_origin_timestamp\":false"},
        {"v2", "\"include_metadata\":false"},
        {"v2", "\"include_partition_tag\":false"},
        {"v1", "\"include_partition_tag\":false"},
        {"v2", "\"include_stream_tag\":false"},
        {"v3", "\"measurement\":\"m e,a\""},
        {"v1", "\"timestamp_source\":\"origin\""},
        {"v2", "\"payload_format\":\"text\""},
    };
    static char deep[300], big[70010], spaced[70010];
    static const char *const payloads[] = {
        "{\"a\": 1}",
        "{\"n\": \"x\\\"y\\\\z\", \"u\": \"\\u00e9\\ud83d\\ude00\\n\", \"\xc3\xa9\": [1, -2.5e3, "
        "true, null, {}], \"t\": false}",
        "\"just a string\"",
        "{\"a\":}",
        "",
        "   ",
        "{\"a\": \"\x01\"}",
        "{\"a\": \"\xff\"}",
        deep,
        big,
        spaced,
    };
    const uint64_t edge = UINT64_MAX, signed_max = INT64_MAX;
    ifx_mapping_scratch sc;
    ifx_lp lp;
    ifx_err e;
    char want[4096], got[4096];
    (void)state;
    memset(deep, '[', sizeof deep - 1);
    /* a string over the element limit, and a payload that is under it only once compacted */
    memset(big, 'x', sizeof big - 1);
    big[0] = '"';
    big[sizeof big - 2] = '"';
    memset(spaced, ' ', sizeof spaced - 1);
    memcpy(spaced + 100, "{\"a\":1}", 7);
    for (size_t ci = 0; ci < sizeof configs / sizeof configs[0]; ci++) {
        ifx_config cfg;
        config(&cfg, configs[ci][0], configs[ci][1]);
        ifxi_mapping_scratch_init(&sc);
        ifx_lp_init(&lp, cfg.version, cfg.precision, cfg.max_batch_bytes);
        for (size_t k = 0; k < 6 * (sizeof payloads / sizeof payloads[0]); k++) {
            ifx_sink_message m = msg(k, payloads[k % (sizeof payloads / sizeof payloads[0])]);
            switch (k / (sizeof payloads / sizeof payloads[0])) {
            case 1:
                m.offset = edge;
                m.id.hi = edge;
                m.id.lo = edge;
                m.checksum = edge;
                m.origin_timestamp_us = edge;
                break;
            case 2:
                m.origin_timestamp_us = signed_max;
                m.partition = UINT32_MAX;
                break;
            case 3: /* the last microsecond, with the offset's nanoseconds (ns precision):
                     * 806 the last nanosecond 1.x/2.x store, 807 (2^63 - 1) one past it, 808 past
                     * int64 */
                m.timestamp_us = m.origin_timestamp_us = (uint64_t)INT64_MAX / 1000;
                m.offset = 806 + k % 3;
                break;
            case 4: /* past what any server stores */
                m.timestamp_us = m.origin_timestamp_us = (uint64_t)INT64_MAX / 1000 + 1;
                break;
            case 5:
                m.offset = 1000000000000;
                m.id.hi = 1;
                break;
            default:
                break;
            }
            int64_t want_ns = 0, ns = 0;
            ifx_rc want_rc = map_one(&cfg, &m, want, sizeof want, &want_ns);
            /* warm: the same place's prefix saved by a message before */
            ifx_sink_message warm = msg(1, "{}");
            ifx_lp_clear_batch(&lp);
            ifxi_mapping_encode(&cfg, &warm, &sc, &lp, &ns, &e);
            ifx_lp_clear_batch(&lp);
            ifx_err_clear(&e);
            ifx_rc rc = ifxi_mapping_encode(&cfg, &m, &sc, &lp, &ns, &e);
            if (rc == IFX_OK) {
                assert_int_equal(lp.lines, 1);
                assert_int_equal(lp.batch.data[lp.batch.len], '\0');
                snprintf(got, sizeof got, "%.*s", (int)lp.batch.len, lp.batch.data);
                assert_int_equal(ns, want_ns);
            } else {
                assert_int_equal(lp.lines, 0);
                assert_int_equal(lp.batch.len, 0);
                assert_true(!lp.batch.data || lp.batch.data[0] == '\0');
                snprintf(got, sizeof got, "%s", e.msg);
            }
            if (rc != want_rc || strcmp(got, want) != 0)
                fail_msg("%s {%s} message %zu:\n got  %s (%s)\n want %s (%s)", configs[ci][0],
                         configs[ci][1] ? configs[ci][1] : "", k, got, ifx_rc_name(rc), want,
                         ifx_rc_name(want_rc));
        }
        ifx_lp_free(&lp);
        ifxi_mapping_scratch_free(&sc);
        ifx_config_free(&cfg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upstream_layout),  cmocka_unit_test(test_v1_metadata),
        cmocka_unit_test(test_metadata_options), cmocka_unit_test(test_wall_clock),
        cmocka_unit_test(test_offset_as),        cmocka_unit_test(test_payload_formats),
        cmocka_unit_test(test_json_fields),      cmocka_unit_test(test_json_integers),
        cmocka_unit_test(test_field_keys),       cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_nesting),          cmocka_unit_test(test_full_batch),
        cmocka_unit_test(test_prefix_reuse),     cmocka_unit_test(test_direct_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
