/* ifx — libiggy_connector_influxdb_source.so: the source engine behind the Iggy connectors
 * runtime's C interface (../shared/spec/iggy-plugin-abi.md §3, §4, §5, §7.4, §8, §11).
 *
 * handle_v2 runs on one of the runtime's blocking-pool threads and must return at once, so each
 * instance polls on a thread of its own; the verdicts arrive through batch_result on other
 * threads, and close may come while a verdict or a send is in flight, twice, or for an id whose
 * open failed. So the one piece of global state here is the id -> instance table the interface
 * forces, guarded by a mutex, with a reference count per instance so that close frees nothing a
 * batch_result or handle_v2 still uses, and close joins the polling thread (no plugin thread may
 * outlive close, §1.2).
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "ifx/config.h"
#include "iggy/postcard.h"
#include "ifx/source.h"
#include "iggy/iggy_abi.h"
#include "iggy/plugin_log.h"
#include "iggy/plugin_table.h"
#include "ifx_build_version.h"

#define EXPORT __attribute__((visibility("default")))

/* Largest ProducedMessages buffer: the engine's row arena (2 GiB) plus the framing. */
#define MAX_BATCH_BYTES ((size_t)5 << 29)

typedef struct instance {
    ifx_plugin_entry entry; /* first: the table hands it back as an instance */
    ifx_source *src;
    ifx_plugin_log lu; /* the engine's log context */

    /* set by handle_v2 under table.lock; read by close once no call uses the instance */
    bool started;
    pthread_t thread;
    iggy_send_callback send;

    /* used only by the polling thread */
    ifx_buf out;
    ifx_produced_message *pm;
    size_t cap_pm;
    bool refused; /* the last send was refused (logged once per streak) */
} instance;

static ifx_plugin_table table = IFX_PLUGIN_TABLE_INIT;

static const char target[] = "ifx_influxdb_source";

static instance *acquire(uint32_t id)
{
    return (instance *)ifxi_plugin_table_acquire(&table, id);
}

static void release(instance *it)
{
    ifxi_plugin_table_release(&table, &it->entry);
}

static void free_instance(instance *it)
{
    ifx_source_close(it->src);
    ifx_buf_free(&it->out);
    free(it->pm);
    free(it);
}

/* ---- producing ------------------------------------------------------------------------------ */

/* The engine's send: one ProducedMessages buffer, handed to the runtime and reused next time
 * (the runtime decodes it before the callback returns, §3.2). */
static ifx_rc send_batch(void *ud, const ifx_source_batch *b)
{
    instance *it = ud;
    char line[300];
    ifx_rc rc;

    if (b->n > it->cap_pm) {
        ifx_produced_message *p = realloc(it->pm, b->n * sizeof *p);
        if (!p) {
            ifxi_plugin_log_line(&it->lu, IFX_LOG_ERROR, "out of memory for a batch");
            return IFX_E_NOMEM;
        }
        it->pm = p;
        it->cap_pm = b->n;
    }
    for (size_t i = 0; i < b->n; i++)
        it->pm[i] = (ifx_produced_message){.has_id = true,
                                           .id = b->msgs[i].id,
                                           .has_timestamp = true,
                                           .timestamp = b->msgs[i].timestamp_us,
                                           .payload = b->msgs[i].payload,
                                           .payload_len = b->msgs[i].payload_len};
    ifx_buf_reset(&it->out);
    /* The state is Some on every batch: the runtime saves it only once the batch is in Iggy. */
    if ((rc = ifxi_pc_encode_produced(&it->out, b->schema, it->pm, b->n, b->state,
                                      b->state ? b->state_len : 0))) {
        snprintf(line, sizeof line, "batch %llu of %zu messages cannot be encoded (%s)",
                 (unsigned long long)b->seq, b->n, ifx_rc_name(rc));
        ifxi_plugin_log_line(&it->lu, IFX_LOG_ERROR, line);
        return rc;
    }
    if (it->send(it->entry.id, b->seq, (const uint8_t *)it->out.data, it->out.len) != 0) {
        /* No batch_result will come for it (§3.2): the engine takes it as a Nack and produces
         * the same rows again after a backoff. */
        if (!it->refused) {
            snprintf(line, sizeof line,
                     "the runtime refused batch %llu (connector stopping or queue closed); "
                     "its rows will be produced again",
                     (unsigned long long)b->seq);
            ifxi_plugin_log_line(&it->lu, IFX_LOG_WARN, line);
        }
        it->refused = true;
        return IFX_E_TRANSIENT;
    }
    if (it->refused)
        ifxi_plugin_log_line(&it->lu, IFX_LOG_INFO, "the runtime accepts batches again");
    it->refused = false;
    return IFX_OK;
}

static void *run_source(void *p)
{
    instance *it = p;
    ifx_err err;
    ifx_err_clear(&err);
    ifx_rc rc = ifx_source_run(it->src, send_batch, it, false, &err);
    if (rc) {
        char line[700];
        snprintf(line, sizeof line, "polling stopped: %s", err.msg);
        ifxi_plugin_log_line(&it->lu, IFX_LOG_ERROR, line);
    }
    return NULL;
}

/* ---- the exported interface ------------------------------------------------------------------ */

EXPORT const char *iggy_source_version(void)
{
    return "ifx-influxdb-source " IFX_VERSION_STRING;
}

EXPORT int32_t iggy_source_open(uint32_t id, const uint8_t *config_ptr, size_t config_len,
                                const uint8_t *state_ptr, size_t state_len,
                                iggy_log_callback log_callback)
{
    ifx_plugin_log lu = {log_callback, target, "source", id, IFX_LOG_FORMAT_TEXT};
    ifx_config cfg;
    ifx_err err;
    instance *it = ifxi_plugin_table_open_begin(&table, &lu, IFX_ROLE_SOURCE, config_ptr,
                                                config_len, sizeof *it, &cfg);

    if (!it)
        return -1;
    it->lu = lu;
    ifx_buf_init(&it->out, MAX_BATCH_BYTES);
    /* NULL/0 is "no state" (§3.1), and an empty state equals none (§8.2). The engine decodes the
     * bytes before returning, so borrowing them for the call is enough. */
    if (ifx_source_open(&cfg, state_ptr && state_len ? state_ptr : NULL, state_ptr ? state_len : 0,
                        ifxi_plugin_log_engine, &it->lu, &it->src, &err)) {
        ifxi_plugin_table_open_failed(&lu, err.msg);
        ifx_config_free(&cfg);
        free_instance(it);
        return 1;
    }
    ifx_config_free(&cfg);
    if (!ifxi_plugin_table_open_end(&table, &lu, &it->entry)) {
        free_instance(it);
        return -1;
    }
    return 0;
}

EXPORT int32_t iggy_source_handle_v2(uint32_t id, iggy_send_callback callback)
{
    instance *it = acquire(id);
    sigset_t all, old;
    int32_t result = -1;
    int e;

    if (!it)
        return -1;
    if (!callback) {
        ifxi_plugin_log_line(&it->lu, IFX_LOG_ERROR, "handle: no send callback");
        goto out;
    }
    /* The runtime's signals are for the runtime's threads: the poller inherits a full mask. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_mutex_lock(&table.lock);
    if (it->started) { /* handle_v2 again for a producing id */
        e = -1;
    } else {
        it->send = callback;
        e = pthread_create(&it->thread, NULL, run_source, it);
        it->started = e == 0;
    }
    pthread_mutex_unlock(&table.lock);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e) {
        ifxi_plugin_log_line(&it->lu, IFX_LOG_ERROR,
                             e < 0 ? "handle: already producing" : "handle: cannot start a thread");
        goto out;
    }
    result = 0;
out:
    release(it);
    return result;
}

EXPORT int32_t iggy_source_batch_result(uint32_t plugin_id, uint64_t batch_id, uint8_t result)
{
    instance *it = acquire(plugin_id);
    if (!it)
        return -1; /* unknown or closed: the runtime ignores it while stopping (§3.3) */
    /* 0 is Ack, 1 Nack, and nothing else is sent; anything but Ack delivers the rows again.
     * A verdict for a batch other than the one in flight is ignored by the engine. */
    ifx_source_verdict(it->src, batch_id, result == 0);
    release(it);
    return 0;
}

EXPORT int32_t iggy_source_close(uint32_t id)
{
    instance *it = (instance *)ifxi_plugin_table_remove(&table, id);
    if (!it)
        return -1; /* unknown, never opened, or already closed */
    ifx_source_request_stop(it->src);
    ifxi_plugin_table_wait_unused(&table, &it->entry);
    pthread_mutex_lock(&table.lock);
    bool started = it->started;
    pthread_mutex_unlock(&table.lock);
    /* No plugin thread outlives close (§1.2): a send in flight returns, a verdict wait ends at
     * the stop request, and an unacknowledged batch simply leaves the cursor where it was. */
    if (started)
        pthread_join(it->thread, NULL);

    /* the engine logs its counters as it closes (free_instance) */
    free_instance(it);
    return 0;
}
