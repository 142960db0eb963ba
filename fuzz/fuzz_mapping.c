/* Fuzz target: the sink's mapping (src/connector/mapping.h), one message at a time.
 * The first input byte picks a configuration (version, payload_format, json_integers, tag_keys,
 * field_keys, timestamp_source, offset_as, metadata as tags or fields); the next two the
 * message's timestamps; the rest is the payload, and its first bytes the stream name.
 * Invariants: an accepted message gives exactly one line that ends in '\n', is valid UTF-8 and
 * is one line to a reader of the batch (ifx_lp_line_length), the same line the sink sends or
 * spools; a refusal leaves the batch empty and closed and says why (its dead letter's reason).
 * A second scratch and batch kept across inputs (so the saved line prefix is reused whenever
 * consecutive inputs share configuration and place) give the same line or the same refusal. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "connector/mapping.h"
#include "core/codec.h"
#include "fuzz_check.h"

#define NCONFIGS 8

static const char *const config_json[NCONFIGS] = {
    "\"version\":\"v3\",\"db\":\"d\"",
    "\"version\":\"v1\",\"db\":\"d\",\"payload_format\":\"json_fields\",\"json_integers\":true,"
    "\"tag_keys\":[\"t\",\"o\"],\"offset_as\":\"field\"",
    "\"version\":\"v2\",\"bucket\":\"b\",\"org\":\"o\",\"payload_format\":\"json_fields\","
    "\"json_integers\":true,\"field_keys\":[\"a\",\"o\"],\"timestamp_source\":\"payload\","
    "\"timestamp_field\":\"ts\",\"timestamp_unit\":\"ms\"",
    "\"version\":\"v3\",\"db\":\"d\",\"payload_format\":\"text\",\"include_stream_tag\":false,"
    "\"include_topic_tag\":false,\"include_partition_tag\":false",
    "\"version\":\"v3\",\"db\":\"d\",\"payload_format\":\"base64\",\"include_metadata\":false,"
    "\"default_tags\":{\"env\":\"x y\"}",
    "\"version\":\"v1\",\"db\":\"d\",\"timestamp_source\":\"payload\",\"timestamp_field\":\"ts\","
    "\"precision\":\"ns\",\"offset_as\":\"field\"",
    "\"version\":\"v3\",\"db\":\"d\",\"payload_format\":\"json_fields\",\"tag_keys\":[\"ts\"],"
    "\"timestamp_source\":\"origin\",\"measurement\":\"m m\"",
    "\"version\":\"v2\",\"bucket\":\"b\",\"org\":\"o\",\"payload_format\":\"json_fields\","
    "\"timestamp_source\":\"payload\",\"timestamp_field\":\"ts\",\"timestamp_unit\":\"ns\"",
};

static ifx_config configs[NCONFIGS];
static bool ready;
static ifx_mapping_scratch kept_sc;
static ifx_lp kept_lp[NCONFIGS];

static void setup(void)
{
    for (size_t i = 0; i < NCONFIGS; i++) {
        char json[1024];
        ifx_err err;
        int n = snprintf(json, sizeof json, "{\"url\":\"http://127.0.0.1:1\",\"token\":\"t\",%s}",
                         config_json[i]);
        CHECK(ifx_config_parse_json(&configs[i], IFX_ROLE_SINK, json, (size_t)n, NULL, &err) ==
              IFX_OK);
    }
    ifxi_mapping_scratch_init(&kept_sc);
    for (size_t i = 0; i < NCONFIGS; i++)
        ifx_lp_init(&kept_lp[i], configs[i].version, configs[i].precision,
                    configs[i].max_batch_bytes);
    ready = true;
}

/* The line up to its timestamp: a message without a time takes the wall clock. */
static size_t without_time(const char *line, size_t len)
{
    while (len > 0 && line[len - 1] != ' ')
        len--;
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready)
        setup();
    if (size < 3)
        return 0;
    const ifx_config *cfg = &configs[data[0] % NCONFIGS];
    const uint8_t *payload = data + 3;
    size_t plen = size - 3, slen = plen < (size_t)(data[1] & 7) ? plen : (size_t)(data[1] & 7);
    ifx_sink_message m = {.stream = (const char *)payload,
                          .stream_len = slen,
                          .topic = "t",
                          .topic_len = 1,
                          .partition = data[2],
                          .offset = (uint64_t)data[1] << 56 | data[2],
                          .id = {data[1], data[2]},
                          .checksum = UINT64_MAX - data[2],
                          /* 0 takes the wall clock; a large one is refused */
                          .timestamp_us = data[1] & 8 ? 0 : (uint64_t)data[2] << (data[1] >> 2),
                          .origin_timestamp_us = (uint64_t)data[1] << 55,
                          .payload = payload,
                          .payload_len = plen};
    ifx_mapping_scratch sc;
    ifx_lp lp;
    ifx_err err;
    int64_t ns = 0;

    ifxi_mapping_scratch_init(&sc);
    ifx_lp_init(&lp, cfg->version, cfg->precision, cfg->max_batch_bytes);
    ifx_rc rc = ifxi_mapping_encode(cfg, &m, &sc, &lp, &ns, &err);
    CHECK(rc != IFX_E_FULL); /* one line never fills an empty batch of max_batch_bytes */
    if (rc == IFX_OK) {
        CHECK(lp.lines == 1 && !lp.open);
        CHECK(lp.batch.len > 0 && lp.batch.data[lp.batch.len - 1] == '\n');
        CHECK(ifxi_utf8_valid(lp.batch.data, lp.batch.len, NULL));
        CHECK(ifx_lp_line_length(lp.batch.data, lp.batch.len) == lp.batch.len - 1);
    } else {
        CHECK(lp.lines == 0 && lp.batch.len == 0 && !lp.open);
        CHECK(err.msg[0] != '\0');
    }

    ifx_lp *kl = &kept_lp[data[0] % NCONFIGS];
    ifx_err kerr;
    int64_t kns = 0;
    ifx_lp_clear_batch(kl);
    ifx_rc krc = ifxi_mapping_encode(cfg, &m, &kept_sc, kl, &kns, &kerr);
    CHECK(krc == rc);
    if (rc == IFX_OK) {
        size_t n = without_time(lp.batch.data, lp.batch.len);
        CHECK(kl->batch.len >= n && memcmp(kl->batch.data, lp.batch.data, n) == 0);
        if (kns == ns)
            CHECK(kl->batch.len == lp.batch.len);
    } else {
        CHECK(strcmp(kerr.msg, err.msg) == 0);
    }
    ifx_lp_free(&lp);
    ifxi_mapping_scratch_free(&sc);
    return 0;
}
