/* ifx — the plugins' id -> instance table (see plugin_table.h). */
#include "iggy/plugin_table.h"

#include <stdio.h>
#include <stdlib.h>

#include "ifx/log.h"

static ifx_plugin_entry *find_locked(ifx_plugin_table *t, uint32_t id)
{
    ifx_plugin_entry *e;
    for (e = t->head; e && e->id != id; e = e->next)
        ;
    return e;
}

/* True when id is open. */
static bool table_has(ifx_plugin_table *t, uint32_t id)
{
    pthread_mutex_lock(&t->lock);
    bool has = find_locked(t, id) != NULL;
    pthread_mutex_unlock(&t->lock);
    return has;
}

/* Adds e unless its id is already there (another open won a race): false then. */
static bool table_insert(ifx_plugin_table *t, ifx_plugin_entry *e)
{
    pthread_mutex_lock(&t->lock);
    bool free_id = find_locked(t, e->id) == NULL;
    if (free_id) {
        e->next = t->head;
        t->head = e;
    }
    pthread_mutex_unlock(&t->lock);
    return free_id;
}

ifx_plugin_entry *ifxi_plugin_table_acquire(ifx_plugin_table *t, uint32_t id)
{
    pthread_mutex_lock(&t->lock);
    ifx_plugin_entry *e = find_locked(t, id);
    if (e)
        e->refs++;
    pthread_mutex_unlock(&t->lock);
    return e;
}

void ifxi_plugin_table_release(ifx_plugin_table *t, ifx_plugin_entry *e)
{
    pthread_mutex_lock(&t->lock);
    e->refs--;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
}

ifx_plugin_entry *ifxi_plugin_table_remove(ifx_plugin_table *t, uint32_t id)
{
    ifx_plugin_entry **pp, *e = NULL;
    pthread_mutex_lock(&t->lock);
    for (pp = &t->head; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            e = *pp;
            *pp = e->next;
            break;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return e;
}

void ifxi_plugin_table_wait_unused(ifx_plugin_table *t, ifx_plugin_entry *e)
{
    pthread_mutex_lock(&t->lock);
    while (e->refs > 0)
        pthread_cond_wait(&t->cond, &t->lock);
    pthread_mutex_unlock(&t->lock);
}

/* Parses the configuration bytes the runtime passes to open (NULL is "null") for role into
 * *cfg, logging every problem through l. false on failure (nothing to free then). */
static bool parse_config(const ifx_plugin_log *l, ifx_role role, const uint8_t *p, size_t len,
                         ifx_config *cfg)
{
    ifx_problems problems = {0};
    ifx_err err;
    if (ifx_config_parse_json(cfg, role, p ? (const char *)p : "null", p ? len : 4, &problems,
                              &err) == IFX_OK)
        return true;
    for (size_t i = 0; i < problems.count; i++) {
        char line[700];
        snprintf(line, sizeof line, "configuration: %s", problems.items[i]);
        ifxi_plugin_log_line(l, IFX_LOG_ERROR, line);
    }
    if (!problems.count)
        ifxi_plugin_log_line(l, IFX_LOG_ERROR, err.msg);
    ifx_problems_free(&problems);
    return false;
}

void *ifxi_plugin_table_open_begin(ifx_plugin_table *t, ifx_plugin_log *l, ifx_role role,
                                   const uint8_t *p, size_t len, size_t size, ifx_config *cfg)
{
    ifx_plugin_entry *e;
    if (table_has(t, l->id)) {
        ifxi_plugin_log_line(l, IFX_LOG_ERROR, "open: this id is already open");
        return NULL;
    }
    if (!parse_config(l, role, p, len, cfg))
        return NULL;
    e = calloc(1, size);
    if (!e) {
        ifx_config_free(cfg);
        ifxi_plugin_log_line(l, IFX_LOG_ERROR, "open: out of memory");
        return NULL;
    }
    e->id = l->id;
    l->format = cfg->log_format;
    return e;
}

void ifxi_plugin_table_open_failed(const ifx_plugin_log *l, const char *why)
{
    char line[700];
    snprintf(line, sizeof line, "open failed: %s", why);
    ifxi_plugin_log_line(l, IFX_LOG_ERROR, line);
}

bool ifxi_plugin_table_open_end(ifx_plugin_table *t, const ifx_plugin_log *l, ifx_plugin_entry *e)
{
    if (table_insert(t, e))
        return true;
    ifxi_plugin_log_line(l, IFX_LOG_ERROR, "open: this id is already open");
    return false;
}
