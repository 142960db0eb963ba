/* ifx — the source's query template (internal header): which placeholders it uses, whether they
 * make a query the cursor can drive, and patterns that defeat the cursor. The rendering itself is
 * ifx_source_render_query (ifx/source.h), defined in query_template.c too.
 */
#ifndef IFX_CONNECTOR_QUERY_TEMPLATE_H
#define IFX_CONNECTOR_QUERY_TEMPLATE_H

#include <stdbool.h>

#include "ifx/config.h"
#include "ifx/error.h"

/* Whether the template q uses $name (e.g. "limit") outside comments (inside quotes counts:
 * '$cursor' is the usual way to write it). Quotes are tracked before comments, so a "//" or
 * "--" inside a string literal (a URL in Flux) starts no comment (upstream R17). */
bool ifxi_query_template_uses(const char *q, const char *name);

/* Which of $cursor and $cursor_end q uses outside comments (ifxi_query_template_uses). */
void ifxi_query_template_placeholders(const char *q, bool *cursor, bool *cursor_end);

/* IFX_E_CONFIG, with the fix in the message, unless cfg->query uses $cursor outside comments,
 * and $cursor_end exactly when query_window is set. */
ifx_rc ifxi_query_template_check(const ifx_config *cfg, ifx_err *err);

/* Where q starts reading relative to the wall clock instead of at $cursor (upstream R4): a Flux
 * range(start: -<duration>) or an SQL/InfluxQL now() outside quotes. NULL when there is none;
 * else the text shown in the warning (static). */
const char *ifxi_query_template_relative_start(const char *q);

/* True when q has GROUP BY outside quotes (ASCII case ignored). */
bool ifxi_query_template_has_group_by(const char *q);

#endif
