/* ifx — libiggy_connector_influxdb_sink.so: the sink engine behind the Iggy connectors runtime's
 * C interface (../shared/spec/iggy-plugin-abi.md §2, §4, §7, §11).
 *
 * The runtime identifies instances by id only, calls consume concurrently for one id, and may
 * call close while a consume runs, twice, or for an id whose open failed. So the one piece of
 * global state here is the id -> instance table the interface forces, guarded by a mutex, with a
 * reference count per instance so that close frees nothing a consume still uses.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "ifx/config.h"
#include "iggy/postcard.h"
#include "ifx/sink.h"
#include "iggy/iggy_abi.h"
#include "iggy/plugin_log.h"
#include "iggy/plugin_table.h"
#include "ifx_build_version.h"

#define EXPORT __attribute__((visibility("default")))

/* A batch's message table, kept between consumes (see instance.spare). */
typedef struct msg_table {
    size_t cap;
    ifx_sink_message m[];
} msg_table;

/* Tables of up to this many messages (~5 MiB) are kept for the next consume; a larger one, from an
 * unusual batch, is given back. */
#define KEEP_TABLE_MAX ((size_t)1 << 16)

typedef struct instance {
    ifx_plugin_entry entry; /* first: the table hands it back as an instance */
    ifx_sink *sink;
    ifx_plugin_log lu; /* the runtime's log callback for this id */
    /* The last consume's message table, taken by the next one: a steady stream of batches then
     * allocates nothing here. Consumes of one id may run at once: each takes the table or makes
     * its own, and the last to finish keeps its own. */
    _Atomic(msg_table *) spare;
} instance;

static ifx_plugin_table table = IFX_PLUGIN_TABLE_INIT;

static const char target[] = "ifx_influxdb_sink";

static instance *acquire(uint32_t id)
{
    return (instance *)ifxi_plugin_table_acquire(&table, id);
}

static void release(instance *it)
{
    ifxi_plugin_table_release(&table, &it->entry);
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
    instance *it = ifxi_plugin_table_open_begin(&table, &lu, IFX_ROLE_SINK, config_ptr, config_len,
                                                sizeof *it, &cfg);

    if (!it)
        return -1;
    it->lu = lu;
    if (ifx_sink_open(&cfg, ifxi_plugin_log_engine, &it->lu, &it->sink, &err)) {
        ifxi_plugin_table_open_failed(&lu, err.msg);
        ifx_config_free(&cfg);
        free(it);
        return 1;
    }
    ifx_config_free(&cfg);
    if (!ifxi_plugin_table_open_end(&table, &lu, &it->entry)) {
        ifx_sink_close(it->sink);
        free(it);
        return -1;
    }
    return 0;
}

/* What decodes is delivered; what does not is dead-lettered with what is known of it, never
 * dropped (the runtime ignores the return value and has already committed the offsets, ABI §10).
 * Postcard has no per-message length, which decides what "what decodes" can mean:
 *  - a message whose frame decodes is delivered, also when its payload is not valid for its
 *    schema or payload_format: the encoder rejects it alone, as for any message;
 *  - a message whose frame is broken (a truncated or over-long varint, a length past the end) is
 *    dead-lettered with its index, id and offset when they still decode, and its bytes from where
 *    it starts to the end of the buffer. The messages after it cannot be found (where they start is
 *    unknown): each is dead-lettered by its index, pointing at the broken one. Those before it are
 *    delivered;
 *  - when TopicMetadata or MessagesMetadata does not decode, stream, topic or partition (tags of
 *    every point) are unknown: every message is dead-lettered, with its payload when its frame
 *    decodes;
 *  - when the RawMessages header (schema, count) does not decode, no message can be found or
 *    counted: the batch is dead-lettered as one message with its bytes.
 * 0 once every message is written, spooled or dead-lettered; 1 when the sink could not settle the
 * decoded ones; -1 for an unknown id or no memory. */
/* Room for one more element in *p (cap *cap, n used), doubling from 64. */
static bool room_for_one(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 64;
    void *q = realloc(*p, c * size);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

static int32_t settle_undecodable(instance *it, ifx_sink_undecodable *u, size_t n)
{
    ifx_err err;
    if (n == 0)
        return 0;
    if (ifx_sink_reject_undecodable(it->sink, u, n, &err) == IFX_OK)
        return 0;
    char line[700];
    snprintf(line, sizeof line, "consume: cannot dead-letter %zu undecodable messages: %s", n,
             err.msg);
    ifxi_plugin_log_line(&it->lu, IFX_LOG_ERROR, line);
    return 1;
}

EXPORT int32_t iggy_sink_consume(uint32_t id, const uint8_t *topic_meta_ptr, size_t topic_meta_len,
                                 const uint8_t *messages_meta_ptr, size_t messages_meta_len,
                                 const uint8_t *messages_ptr, size_t messages_len)
{
    ifx_topic_meta tm = {0};
    ifx_messages_meta mm = {0};
    ifx_pc_messages iter;
    ifx_sink_message *msgs = NULL;
    msg_table *tab = NULL;
    ifx_sink_undecodable *bad = NULL;
    char meta_why[700] = "", frame_why[700] = "", after_why[800] = "", line[2048];
    bool has_topic, has_partition;
    char meta_reason[800] = "";
    size_t n = 0, nbad = 0, cap = 0, cap_bad = 0;
    ifx_err err;
    int32_t result = -1;
    instance *it = acquire(id);

    if (!it)
        return -1;
    has_topic = ifxi_pc_decode_topic_meta(topic_meta_ptr, topic_meta_len, &tm, &err) == IFX_OK;
    if (!has_topic) {
        tm = (ifx_topic_meta){0};
        snprintf(meta_why, sizeof meta_why, "%s", err.msg);
    }
    has_partition =
        ifxi_pc_decode_messages_meta(messages_meta_ptr, messages_meta_len, &mm, &err) == IFX_OK;
    if (!has_partition) {
        size_t k = strlen(meta_why);
        snprintf(meta_why + k, sizeof meta_why - k, "%s%s", k ? "; " : "", err.msg);
    }
    ifx_sink_undecodable known = {.stream = tm.stream,
                                  .stream_len = tm.stream_len,
                                  .topic = tm.topic,
                                  .topic_len = tm.topic_len,
                                  .has_partition = has_partition,
                                  .partition = mm.partition_id};
    if (ifxi_pc_messages_begin(&iter, messages_ptr, messages_len, &err)) {
        snprintf(line, sizeof line,
                 "consume: cannot decode the batch (%zu bytes): %s%s%s; no message in it can be "
                 "found, it is dead-lettered as one",
                 messages_len, err.msg, meta_why[0] ? "; " : "", meta_why);
        ifxi_plugin_log_line(&it->lu, IFX_LOG_ERROR, line);
        ifx_sink_undecodable u = known;
        u.reason = line + strlen("consume: ");
        u.raw = messages_ptr ? messages_ptr : (const uint8_t *)"";
        u.raw_len = messages_ptr ? messages_len : 0;
        result = settle_undecodable(it, &u, 1);
        goto out;
    }
    if (iter.count == 0) {
        result = 0;
        goto out;
    }
    if (meta_why[0])
        snprintf(meta_reason, sizeof meta_reason,
                 "the batch's metadata cannot be decoded (stream, topic or partition unknown): %s",
                 meta_why);
    if (has_topic && has_partition) {
        /* One table for the whole batch, the count bounded by the bytes (postcard.h): the last
         * consume's when it is large enough. */
        tab = atomic_exchange(&it->spare, NULL);
        if (!tab || tab->cap < (size_t)iter.count) {
            free(tab);
            tab = malloc(sizeof *tab + (size_t)iter.count * sizeof *msgs);
            if (!tab)
                goto oom;
            tab->cap = (size_t)iter.count;
        }
        msgs = tab->m;
        cap = tab->cap;
    }
    for (;;) {
        ifx_raw_message rm;
        bool done;
        if (ifxi_pc_messages_next(&iter, &rm, &done, &err)) {
            ifx_pc_stuck st;
            ifxi_pc_messages_stuck(&iter, &st);
            snprintf(frame_why, sizeof frame_why, "cannot decode message %llu of %llu: %s",
                     (unsigned long long)st.index, (unsigned long long)iter.count, err.msg);
            snprintf(after_why, sizeof after_why,
                     "cannot be found: it follows message %llu, whose framing is broken (%s), "
                     "so where it starts is unknown",
                     (unsigned long long)st.index, err.msg);
            /* one for it and one for each after it: the count is bounded by the bytes */
            size_t need = nbad + (size_t)(iter.count - st.index);
            ifx_sink_undecodable *more = realloc(bad, need * sizeof *bad);
            if (!more)
                goto oom;
            bad = more;
            bad[nbad] = known;
            bad[nbad].reason = frame_why;
            bad[nbad].has_index = true;
            bad[nbad].index = st.index;
            bad[nbad].has_id = st.has_id;
            bad[nbad].id = st.id;
            bad[nbad].has_offset = st.has_offset;
            bad[nbad].offset = st.offset;
            bad[nbad].raw = st.rest;
            bad[nbad].raw_len = st.rest_len;
            nbad++;
            for (uint64_t k = st.index + 1; k < iter.count; k++) {
                bad[nbad] = known;
                bad[nbad].reason = after_why;
                bad[nbad].has_index = true;
                bad[nbad].index = k;
                nbad++;
            }
            snprintf(line, sizeof line,
                     "consume: %s; it and the %llu after it are dead-lettered, the %zu before it "
                     "are delivered",
                     frame_why, (unsigned long long)(iter.count - st.index - 1),
                     has_topic && has_partition ? n : (size_t)0);
            ifxi_plugin_log_line(&it->lu, IFX_LOG_ERROR, line);
            break;
        }
        if (done)
            break;
        if (!has_topic || !has_partition) {
            /* the frame is fine, but the point's stream, topic or partition is unknown */
            if (!room_for_one((void **)&bad, &cap_bad, nbad, sizeof *bad))
                goto oom;
            bad[nbad] = known;
            bad[nbad].reason = meta_reason;
            bad[nbad].has_index = true;
            bad[nbad].index = iter.count - iter.remaining - 1;
            bad[nbad].has_id = bad[nbad].has_offset = true;
            bad[nbad].id = rm.id;
            bad[nbad].offset = rm.offset;
            bad[nbad].payload = rm.payload ? rm.payload : (const uint8_t *)"";
            bad[nbad].payload_len = rm.payload_len;
            nbad++;
            continue;
        }
        if (n == cap) /* cannot happen: the iterator ends after iter.count messages */
            break;
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
    if (!has_topic || !has_partition) {
        snprintf(line, sizeof line,
                 "consume: the batch's metadata cannot be decoded (%s): its %llu messages are "
                 "dead-lettered (stream, topic or partition unknown)",
                 meta_why, (unsigned long long)iter.count);
        ifxi_plugin_log_line(&it->lu, IFX_LOG_ERROR, line);
    }
    /* 0 only once every message is written, rejected or spooled (§9: the return value is
     * ignored today, but upstream plans to honour it). */
    result = 0;
    if (n && ifx_sink_consume(it->sink, msgs, n, &err) != IFX_OK) {
        /* the runtime ignores the result: the log is where the reason shows */
        snprintf(line, sizeof line, "consume: %s", err.msg);
        ifxi_plugin_log_line(&it->lu, IFX_LOG_ERROR, line);
        result = 1;
    }
    if (settle_undecodable(it, bad, nbad) != 0)
        result = 1;
    goto out;
oom:
    /* The runtime has committed these offsets: say which batch was not taken. */
    snprintf(line, sizeof line,
             "consume: out of memory: the batch of %llu messages (stream %.*s, topic %.*s, "
             "partition %u) is not taken; none of it is written or dead-lettered",
             (unsigned long long)iter.count, (int)tm.stream_len, tm.stream ? tm.stream : "?",
             (int)tm.topic_len, tm.topic ? tm.topic : "?", (unsigned)mm.partition_id);
    ifxi_plugin_log_line(&it->lu, IFX_LOG_ERROR, line);
out:
    if (tab && tab->cap <= KEEP_TABLE_MAX)
        tab = atomic_exchange(&it->spare, tab);
    free(tab);
    free(bad);
    release(it);
    return result;
}

EXPORT int32_t iggy_sink_close(uint32_t id)
{
    instance *it = (instance *)ifxi_plugin_table_remove(&table, id);
    if (!it)
        return -1; /* unknown, never opened, or already closed */
    ifx_sink_request_stop(it->sink);
    ifxi_plugin_table_wait_unused(&table, &it->entry);
    ifx_sink_close(it->sink);
    free(atomic_load(&it->spare));
    free(it);
    return 0;
}
