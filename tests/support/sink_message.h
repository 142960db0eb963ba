/* The message the sink tests map and send: stream "orders", topic "eu", partition 3, id
 * 1000 + offset, a checksum past 2^62, and times that tell the Iggy time (timestamp_us) from the
 * producer's (origin_timestamp_us). Shared by the mapping's unit tests and the sink's end-to-end
 * tests, so that both speak of the same lines. */
#ifndef IFX_TEST_SINK_MESSAGE_H
#define IFX_TEST_SINK_MESSAGE_H

#include <stdint.h>
#include <string.h>

#include "ifx/sink.h"

static inline ifx_sink_message test_sink_message(uint64_t offset, const char *payload)
{
    ifx_sink_message m = {.stream = "orders",
                          .stream_len = 6,
                          .topic = "eu",
                          .topic_len = 2,
                          .partition = 3,
                          .offset = offset,
                          .id = {0, 1000 + offset},
                          .checksum = 0x7EDCBA9876543210ULL, /* jansson reads up to 2^63 */
                          .timestamp_us = 1764118800000000ULL + offset,
                          .origin_timestamp_us = 1764118700000000ULL + offset,
                          .payload = (const uint8_t *)payload,
                          .payload_len = strlen(payload)};
    return m;
}

#endif
