/* ifx — unknown configuration keys: the message, and "did you mean" for a likely typo. */
#include <stdint.h>
#include <string.h>

#include "config/config_internal.h"

/* Edit distance with adjacent transpositions (optimal string alignment), ignoring ASCII case,
 * so that "bukcet" is one edit from "bucket" and "URL" none from "url". */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t rows[3][SUGGEST_MAX_LEN + 1];
    size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost =
                ifxi_config_ascii_lower(a[i - 1]) == ifxi_config_ascii_lower(b[j - 1]) ? 0 : 1;
            size_t best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (prev[j - 1] + cost < best)
                best = prev[j - 1] + cost;
            if (i > 1 && j > 1 &&
                ifxi_config_ascii_lower(a[i - 1]) == ifxi_config_ascii_lower(b[j - 2]) &&
                ifxi_config_ascii_lower(a[i - 2]) == ifxi_config_ascii_lower(b[j - 1]) &&
                prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
        }
        size_t *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

/* The known key name closest to name, when it is close enough to be a likely typo: at most two
 * edits, or a third of the length for long names, and never the whole name. */
static const char *closest_key(const char *name)
{
    size_t len = strlen(name), limit, best = SIZE_MAX;
    const char *found = NULL;

    if (len > SUGGEST_MAX_LEN)
        return NULL;
    limit = len / 3 > 2 ? len / 3 : 2;
    for (size_t i = 0; i < IFX_CFG_NKEYS; i++) {
        const char *names[2] = {ifxi_config_keys[i].name, ifxi_config_keys[i].alias};
        for (size_t j = 0; j < 2; j++) {
            size_t d;
            if (!names[j] || strlen(names[j]) > SUGGEST_MAX_LEN)
                continue;
            d = edit_distance(name, names[j]);
            if (d < best) {
                best = d;
                found = names[j];
            }
        }
    }
    return best <= limit && best < len ? found : NULL;
}

void ifxi_config_unknown_key(struct parse_ctx *p, const char *name)
{
    char shown[IFX_EXCERPT_SIZE(SHOW_MAX)];
    const char *near = closest_key(name);

    ifxi_config_show_text(name, strlen(name), shown);
    if (near)
        ifxi_config_problem(p, "unknown key '%s'; did you mean '%s'?", shown, near);
    else
        ifxi_config_problem(p, "unknown key '%s'", shown);
}
