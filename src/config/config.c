/* ifx — one configuration for every InfluxDB version (see include/ifx/config.h).
 *
 * Every key is described once, in the key table (keys.c): its type, where it lives in ifx_config,
 * which connector and which InfluxDB versions it applies to, its range and default, and a
 * one-line description. Parsing, range checks, defaults and the normalised output are generic
 * code driven by that table, so adding a key means adding one row (plus a check function when
 * its value needs more than a type and a range).
 *
 * The rest is split by job: parse.c reads a configuration, store.c stores values and defaults,
 * validate.c checks what needs more than a type and a range, suggest.c handles unknown keys,
 * show.c writes values, the normalised JSON and the reference. This file holds the names, and
 * freeing and copying a configuration.
 */
#include "ifx/config.h"

#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

void ifxi_config_free_string(char **slot, bool secret)
{
    if (*slot && secret)
        explicit_bzero(*slot, strlen(*slot)); /* leave no copy of a secret in freed memory */
    free(*slot);
    *slot = NULL;
}

void ifxi_config_strlist_free(ifx_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void ifxi_config_strmap_free(ifx_strmap *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->keys[i]);
        free(m->values[i]);
    }
    free(m->keys);
    free(m->values);
    m->keys = m->values = NULL;
    m->n = 0;
}

/* ---- names ----------------------------------------------------------------------------------- */

const char *ifx_role_name(ifx_role r)
{
    return r == IFX_ROLE_SOURCE ? "source" : "sink";
}

const char *ifx_payload_format_name(ifx_payload_format f)
{
    switch (f) {
    case IFX_PAYLOAD_TEXT:
        return "text";
    case IFX_PAYLOAD_BASE64:
        return "base64";
    case IFX_PAYLOAD_JSON_FIELDS:
        return "json_fields";
    case IFX_PAYLOAD_JSON:
        break;
    }
    return "json";
}

void ifx_config_free(ifx_config *c)
{
    for (size_t i = 0; i < IFX_CFG_NKEYS; i++) {
        const struct key_desc *k = &ifxi_config_keys[i];
        if (k->type == KT_STRING || k->type == KT_SECRET || k->type == KT_RFC3339)
            ifxi_config_free_string(str_slot(c, k), is_secret(k));
        else if (k->type == KT_STRING_LIST)
            ifxi_config_strlist_free(SLOT(ifx_strlist, c, k));
        else if (k->type == KT_STRING_MAP)
            ifxi_config_strmap_free(SLOT(ifx_strmap, c, k));
    }
    memset(c, 0, sizeof *c);
}

ifx_rc ifx_config_copy(ifx_config *dst, const ifx_config *src, ifx_err *err)
{
    *dst = *src; /* scalars; every owned pointer is replaced below */
    for (size_t i = 0; i < IFX_CFG_NKEYS; i++) {
        const struct key_desc *k = &ifxi_config_keys[i];
        if (k->type == KT_STRING || k->type == KT_SECRET || k->type == KT_RFC3339) {
            char **slot = str_slot(dst, k);
            if (*slot && !(*slot = strdup(*slot)))
                goto nomem;
        } else if (k->type == KT_STRING_LIST) {
            ifx_strlist *l = SLOT(ifx_strlist, dst, k);
            const ifx_strlist *from = SLOT_C(ifx_strlist, src, k);
            l->items = NULL;
            l->n = 0;
            if (from->n && !(l->items = calloc(from->n, sizeof *l->items)))
                goto nomem;
            for (; l->n < from->n; l->n++)
                if (!(l->items[l->n] = strdup(from->items[l->n])))
                    goto nomem;
        } else if (k->type == KT_STRING_MAP) {
            ifx_strmap *m = SLOT(ifx_strmap, dst, k);
            const ifx_strmap *from = SLOT_C(ifx_strmap, src, k);
            m->keys = m->values = NULL;
            m->n = 0;
            if (from->n && (!(m->keys = calloc(from->n, sizeof *m->keys)) ||
                            !(m->values = calloc(from->n, sizeof *m->values))))
                goto nomem;
            for (; m->n < from->n; m->n++) {
                m->keys[m->n] = strdup(from->keys[m->n]);
                m->values[m->n] = strdup(from->values[m->n]);
                if (!m->keys[m->n] || !m->values[m->n]) {
                    m->n++;
                    goto nomem;
                }
            }
        }
    }
    return IFX_OK;
nomem:
    /* Pointers not yet replaced still belong to src: clear them before freeing dst. */
    for (size_t i = 0; i < IFX_CFG_NKEYS; i++) {
        const struct key_desc *k = &ifxi_config_keys[i];
        if (k->type == KT_STRING || k->type == KT_SECRET || k->type == KT_RFC3339) {
            if (*str_slot(dst, k) == *str_slot_c(src, k))
                *str_slot(dst, k) = NULL;
        } else if (k->type == KT_STRING_LIST) {
            if (SLOT(ifx_strlist, dst, k)->items == SLOT_C(ifx_strlist, src, k)->items)
                memset(SLOT(ifx_strlist, dst, k), 0, sizeof(ifx_strlist));
        } else if (k->type == KT_STRING_MAP) {
            if (SLOT(ifx_strmap, dst, k)->keys == SLOT_C(ifx_strmap, src, k)->keys)
                memset(SLOT(ifx_strmap, dst, k), 0, sizeof(ifx_strmap));
        }
    }
    ifx_config_free(dst);
    return ifx_err_set(err, IFX_E_NOMEM, "out of memory copying the configuration");
}
