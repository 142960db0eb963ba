/* ifx — libiggy_connector_influxdb_sink.so: the sink engine behind the Iggy connectors runtime's
 * C interface (../shared/spec/iggy-plugin-abi.md §2, §4, §7, §11).
 *
 * The runtime identifies instances by id only, calls consume concurrently for one id, and may
 * call close while a consume runs, twice, or for an id whose open failed. So the one piece of
 * global state here is the id -> instance table the interface forces, guarded by a mutex, with a
 * reference count per instance so that close frees nothing a consume still uses.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ifx/codec.h"
#include "ifx/config.h"
#include "ifx/postcard.h"
#include "ifx/sink.h"
#include "iggy/iggy_abi.h"
#include "iggy/plugin_log.h"
#include "iggy/plugin_table.h"
#include "ifx_build_version.h"

#define EXPORT __attribute__((visibility("default")))

typedef struct instance {
    ifx_plugin_entry entry; /* first: the table hands it back as an instance */
    ifx_sink *sink;
    ifx_plugin_log lu; /* the runtime's log callback for this id */
} instance;

static ifx_plugin_table table = IFX_PLUGIN_TABLE_INIT;

static const char target[] = "ifx_influxdb_sink";

static instance *acquire(uint32_t id)
{
    return (instance *)ifx_plugin_table_acquire(&table, id);
}

static void release(instance *it)
{
    ifx_plugin_table_release(&table, &it->entry);
}

EXPORT const char *iggy_sink_version(void)
{
    return "ifx-influxdb-sink " IFX_VERSION_STRING;
}

EXPORT int32_t iggy_sink_open(uint32_t id, const uint8_t *config_ptr, size_t config_len,
                              iggy_log_callback log_callback)
{
    ifx_plugin_log lu = {log_callback, target, "sink", id, IFX_LOG_FORMAT_TEXT};
    ifx_config cfg;
    ifx_err err;
    instance *it;

    if (ifx_plugin_table_has(&table, id)) {
        ifx_plugin_log_line(&lu, IFX_LOG_ERROR, "open: this id is already open");
        return -1;
    }
    if (!ifx_plugin_parse_config(&lu, IFX_ROLE_SINK, config_ptr, config_len, &cfg))
        return -1;
    it = calloc(1, sizeof *it);
    if (!it) {
        ifx_config_free(&cfg);
        return -1;
    }
    it->entry.id = id;
    lu.format = cfg.log_format;
    it->lu = lu;
    if (ifx_sink_open(&cfg, ifx_plugin_engine_log, &it->lu, &it->sink, &err)) {
        char line[700];
        snprintf(line, sizeof line, "open failed: %s", err.msg);
        ifx_plugin_log_line(&lu, IFX_LOG_ERROR, line);
        ifx_config_free(&cfg);
        free(it);
        return 1;
    }
    ifx_config_free(&cfg);
    if (!ifx_plugin_table_insert(&table, &it->entry)) {
        /* another open of this id won the race while this one probed the server */
        ifx_plugin_log_line(&lu, IFX_LOG_ERROR, "open: this id is already open");
        ifx_sink_close(it->sink);
        free(it);
        return -1;
    }
    return 0;
}

EXPORT int32_t iggy_sink_consume(uint32_t id, const uint8_t *topic_meta_ptr, size_t topic_meta_len,
                                 const uint8_t *messages_meta_ptr, size_t messages_meta_len,
                                 const uint8_t *messages_ptr, size_t messages_len)
{
    ifx_topic_meta tm;
    ifx_messages_meta mm;
    ifx_pc_messages iter;
    ifx_sink_message *msgs = NULL;
    ifx_err err;
    int32_t result = -1;
    instance *it = acquire(id);

    if (!it)
        return -1;
    if (ifx_pc_decode_topic_meta(topic_meta_ptr, topic_meta_len, &tm, &err) ||
        ifx_pc_decode_messages_meta(messages_meta_ptr, messages_meta_len, &mm, &err) ||
        ifx_pc_messages_begin(&iter, messages_ptr, messages_len, &err)) {
        char line[700];
        snprintf(line, sizeof line, "consume: cannot decode the batch: %s", err.msg);
        ifx_plugin_log_line(&it->lu, IFX_LOG_ERROR, line);
        goto out;
    }
    if (iter.count == 0) {
        result = 0;
        goto out;
    }
    /* The declared count is checked against the bytes as messages are decoded. */
    size_t cap = iter.count < 65536 ? (size_t)iter.count : 65536, n = 0;
    msgs = malloc(cap * sizeof *msgs);
    if (!msgs)
        goto out;
    for (;;) {
        ifx_raw_message rm;
        bool done;
        if (ifx_pc_messages_next(&iter, &rm, &done, &err)) {
            char line[700];
            snprintf(line, sizeof line, "consume: cannot decode message %zu: %s", n, err.msg);
            ifx_plugin_log_line(&it->lu, IFX_LOG_ERROR, line);
            goto out;
        }
        if (done)
            break;
        if (n == cap) {
            ifx_sink_message *p = realloc(msgs, 2 * cap * sizeof *p);
            if (!p)
                goto out;
            msgs = p;
            cap *= 2;
        }
        msgs[n++] = (ifx_sink_message){.stream = tm.stream,
                                       .stream_len = tm.stream_len,
                                       .topic = tm.topic,
                                       .topic_len = tm.topic_len,
                                       .partition = mm.partition_id,
                                       .offset = rm.offset,
                                       .id = rm.id,
                                       .checksum = rm.checksum,
                                       .timestamp_us = rm.timestamp,
                                       .origin_timestamp_us = rm.origin_timestamp,
                                       .payload = rm.payload,
                                       .payload_len = rm.payload_len};
    }
    /* 0 only once every message is written, rejected or spooled (§9: the return value is
     * ignored today, but upstream plans to honour it). */
    result = ifx_sink_consume(it->sink, msgs, n, &err) == IFX_OK ? 0 : 1;
out:
    free(msgs);
    release(it);
    return result;
}

EXPORT int32_t iggy_sink_close(uint32_t id)
{
    instance *it = (instance *)ifx_plugin_table_remove(&table, id);
    if (!it)
        return -1; /* unknown, never opened, or already closed */
    ifx_sink_request_stop(it->sink);
    ifx_plugin_table_wait_unused(&table, &it->entry);
    ifx_sink_close(it->sink);
    free(it);
    return 0;
}
