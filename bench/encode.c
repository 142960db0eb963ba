/* bench_encode — how fast ifx turns typical Iggy messages into a line-protocol batch.
 *
 * Each message goes through the sink's own mapping (ifxi_mapping_encode) with the upstream
 * layout the sink writes by default, for InfluxDB 2: measurement iggy_messages; tags stream,
 * topic, partition, offset; fields message_id, iggy_checksum, iggy_origin_timestamp and
 * payload_json (a ~200-byte JSON object, validated, compacted and escaped in one pass);
 * timestamp in microseconds. Batches of 500 lines are built, then reset, like the sink does.
 *
 * Prints messages per second, MB/s of payload in and of line protocol out, allocations per
 * message after warm-up (malloc/calloc/realloc calls counted by interposing them in this
 * executable), and peak RSS. Usage: bench_encode [messages] (default 2000000).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "alloc_track.h"
#include "table.h"
#include "core/codec.h"
#include "connector/mapping.h"
#include "ifx/config.h"
#include "ifx/lp.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define BATCH    500
#define VARIANTS 64

int main(int argc, char **argv)
{
    alloc_track_count_calls(true); /* one thread: count every call */
    long total = argc > 1 ? atol(argv[1]) : 2000000;
    static char payloads[VARIANTS][512];
    size_t plen[VARIANTS], payload_bytes = 0, lp_bytes = 0;
    ifx_lp lp;
    ifx_err err;
    unsigned long long allocs_before = 0;
    double t0 = 0;
    long warm = BATCH * 4;

    /* Pretty-ish JSON payloads of about 200 bytes, as a producer would send them. */
    for (int i = 0; i < VARIANTS; i++) {
        int n = snprintf(payloads[i], sizeof payloads[i],
                         "{\"order_id\": %d, \"customer\": \"c-%05d\", \"items\": [{\"sku\": "
                         "\"A-%03d\", \"qty\": %d}, {\"sku\": \"B-7\", \"qty\": 1}], \"total\": "
                         "%d.%02d, \"currency\": \"EUR\", \"paid\": true, \"note\": \"leave at "
                         "door \\\"B\\\"\", \"ts\": \"2026-11-26T01:00:%02dZ\"}",
                         100000 + i * 7919, i * 31, i, 1 + i % 5, 10 + i, i % 100, i % 60);
        plen[i] = (size_t)n;
    }
    static const char config_json[] = "{\"version\":\"v2\",\"url\":\"http://127.0.0.1:1\","
                                      "\"bucket\":\"b\",\"org\":\"o\",\"token\":\"t\"}";
    ifx_config cfg;
    ifx_mapping_scratch sc;
    if (ifx_config_parse_json(&cfg, IFX_ROLE_SINK, config_json, sizeof config_json - 1, NULL, &err))
        goto fail;
    ifx_lp_init(&lp, cfg.version, cfg.precision, 8u << 20);
    ifxi_mapping_scratch_init(&sc);

    for (long m = 0; m < total + warm; m++) {
        const char *p = payloads[m % VARIANTS];
        size_t n = plen[m % VARIANTS];
        int64_t ns;
        ifx_sink_message msg = {.stream = "orders",
                                .stream_len = 6,
                                .topic = "eu-west",
                                .topic_len = 7,
                                .partition = 3,
                                .offset = (uint64_t)m,
                                .id = {0x1234567890abcdefull, (uint64_t)m},
                                .checksum = 0x9e3779b97f4a7c15ull ^ (uint64_t)m,
                                .timestamp_us = 1764118800000000ull + (uint64_t)m,
                                .origin_timestamp_us = 1764118800000000ull + (uint64_t)m,
                                .payload = (const uint8_t *)p,
                                .payload_len = n};
        if (m == warm) {
            allocs_before = alloc_track_calls();
            t0 = now_s();
        }
        if (ifxi_mapping_encode(&cfg, &msg, &sc, &lp, &ns, &err))
            goto fail;
        if (m >= warm)
            payload_bytes += n;
        if (lp.lines == BATCH) {
            if (m >= warm)
                lp_bytes += lp.batch.len;
            ifx_lp_clear_batch(&lp);
        }
    }
    double secs = now_s() - t0;
    unsigned long long allocs = alloc_track_calls() - allocs_before;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("bench_encode: %ld messages, batches of %d, v2 line layout of the upstream sink\n",
           total, BATCH);
    printf("  throughput        %.0f messages/s\n", (double)total / secs);
    printf("  payload in        %.1f MB/s (%.0f bytes/message)\n",
           (double)payload_bytes / secs / 1e6, (double)payload_bytes / (double)total);
    printf("  line protocol out %.1f MB/s\n", (double)lp_bytes / secs / 1e6);
    printf("  allocations       %.4f per message (%llu in the timed phase)\n",
           (double)allocs / (double)total, allocs);
    printf("  peak RSS          %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);

    /* The ceiling: memcpy of the same number of line-protocol bytes, a batch at a time. */
    size_t batches = (size_t)total / BATCH ? (size_t)total / BATCH : 1;
    size_t batch_len = lp_bytes / batches ? lp_bytes / batches : 1;
    char *from = malloc(batch_len), *to = malloc(batch_len);
    if (!from || !to)
        return 1;
    memset(from, 'x', batch_len);
    double c0 = now_s();
    for (size_t copied = 0; copied < lp_bytes; copied += batch_len) {
        memcpy(to, from, batch_len);
        __asm__ __volatile__("" : : "r"(to) : "memory"); /* keep the copy */
    }
    double copy_secs = now_s() - c0;
    double ceiling = copy_secs > 0 ? (double)lp_bytes / copy_secs / 1e6 : 0;
    free(from);
    free(to);
    bench_table("encode: line protocol out", (double)lp_bytes / secs / 1e6, "MB/s", ceiling,
                "memcpy of the same bytes, MB/s");
    bench_table("encode: messages", (double)total / secs, "msg/s", 0, "-");
    bench_table("encode: allocations", (double)allocs / (double)total, "per message", 0, "-");
    ifx_lp_free(&lp);
    ifxi_mapping_scratch_free(&sc);
    ifx_config_free(&cfg);
    return 0;
fail:
    fprintf(stderr, "bench_encode: %s\n", err.msg);
    return 1;
}
