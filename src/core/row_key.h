/* ifx — a column name looked up in row after row (internal): ifx_row_find's answer without its
 * strlen and a memcmp call per column of the same length. The source looks up its cursor_field
 * in every row of every answer; the lookup was 2 % of the v2 source. */
#ifndef IFX_CORE_ROW_KEY_H
#define IFX_CORE_ROW_KEY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ifx/rows.h"

/* A name ready to be compared with columns: its length, and for a name of 4 to 8 bytes its first
 * and last 4 bytes (overlapping below 8), which a column of that length is compared with as two
 * loads; other lengths are compared with memcmp. Borrows name, which must outlive the key. */
typedef struct ifxi_row_key {
    const char *name;
    size_t len;
    uint32_t head, tail;
} ifxi_row_key;

static inline void ifxi_row_key_init(ifxi_row_key *k, const char *name)
{
    k->name = name;
    k->len = name ? strlen(name) : 0;
    k->head = k->tail = 0;
    if (k->len >= 4 && k->len <= 8) {
        memcpy(&k->head, name, 4);
        memcpy(&k->tail, name + k->len - 4, 4);
    }
}

/* ifx_row_find(row, k->name): the index of the first column named k->name, or -1. */
static inline long ifxi_row_find_key(const ifx_row *row, const ifxi_row_key *k)
{
    if (!row || !k->name)
        return -1;
    for (size_t i = 0; i < row->ncols; i++) {
        const ifx_column *c = &row->cols[i];
        if (c->len != k->len)
            continue;
        if (k->len >= 4 && k->len <= 8) {
            uint32_t head, tail;
            memcpy(&head, c->name, 4);
            memcpy(&tail, c->name + k->len - 4, 4);
            if (head == k->head && tail == k->tail)
                return (long)i;
        } else if (memcmp(c->name, k->name, k->len) == 0) {
            return (long)i;
        }
    }
    return -1;
}

#endif
