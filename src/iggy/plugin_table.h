/* ifx — the id -> instance table both plugins need (internal).
 *
 * The runtime names instances by id only, calls into one id from several threads, and may close
 * an id while a call for it runs, twice, or after a failed open (spec §2.3, §3.4). Each plugin
 * keeps one table (the only global mutable state the interface forces); an instance embeds an
 * ifx_plugin_entry as its FIRST member, and calls hold a reference while they use it, so close
 * frees nothing in use.
 */
#ifndef IFX_PLUGIN_TABLE_H
#define IFX_PLUGIN_TABLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ifx/config.h"
#include "iggy/plugin_log.h"

typedef struct ifx_plugin_entry {
    uint32_t id;
    int refs; /* calls using the instance */
    struct ifx_plugin_entry *next;
} ifx_plugin_entry;

typedef struct ifx_plugin_table {
    pthread_mutex_t lock; /* guards the list, refs, and what a plugin keeps beside them */
    pthread_cond_t cond;  /* signalled when a reference is released */
    ifx_plugin_entry *head;
} ifx_plugin_table;

#define IFX_PLUGIN_TABLE_INIT                                                                      \
    {                                                                                              \
        PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL                                  \
    }

/* Looks id up and takes a reference; NULL when unknown or closed. */
ifx_plugin_entry *ifxi_plugin_table_acquire(ifx_plugin_table *t, uint32_t id);
void ifxi_plugin_table_release(ifx_plugin_table *t, ifx_plugin_entry *e);

/* Takes id out of the table (later calls find nothing); NULL when it was not there. */
ifx_plugin_entry *ifxi_plugin_table_remove(ifx_plugin_table *t, uint32_t id);

/* Waits until no call holds a reference to e (taken out of the table before). */
void ifxi_plugin_table_wait_unused(ifx_plugin_table *t, ifx_plugin_entry *e);

/* The start of both plugins' open: refuses an id already open, parses the configuration bytes
 * (NULL is "null"; every problem logged) into *cfg, and allocates a zeroed instance of size bytes
 * whose first member is its ifx_plugin_entry, with the id set; sets l->format to the
 * configuration's log_format. NULL on failure, logged through l, with nothing to free; else the
 * caller frees *cfg and the instance. */
void *ifxi_plugin_table_open_begin(ifx_plugin_table *t, ifx_plugin_log *l, ifx_role role,
                                   const uint8_t *p, size_t len, size_t size, ifx_config *cfg);

/* Logs "open failed: <why>" through l, for an engine that did not open. */
void ifxi_plugin_table_open_failed(const ifx_plugin_log *l, const char *why);

/* The end of both plugins' open: adds e to t, or, when another open of its id won the race
 * while this one probed the server, logs that the id is already open and returns false (the
 * caller frees its instance). */
bool ifxi_plugin_table_open_end(ifx_plugin_table *t, const ifx_plugin_log *l, ifx_plugin_entry *e);

#endif
