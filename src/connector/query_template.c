/* ifx — the source's query template: rendering the placeholders, and the checks made on it at
 * open (see connector/query_template.h). Every scan here walks the template once, tracking
 * quotes (and, for the placeholders, comments) so that a placeholder or keyword inside a string
 * literal or a comment is recognised for what it is (upstream R17).
 */
#include "connector/query_template.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "ifx/source.h"
#include "ifx/timeutil.h"

static bool ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Is "$name" at t[i] a placeholder (not followed by an identifier character)? */
static bool placeholder_at(const char *t, size_t i, const char *name)
{
    size_t n = strlen(name);
    return t[i] == '$' && strncmp(t + i + 1, name, n) == 0 && !ident_char(t[i + 1 + n]);
}

ifx_rc ifx_source_render_query(const char *tmpl, int64_t cursor_ns, int64_t cursor_end_ns,
                               uint64_t limit, ifx_buf *out, ifx_err *err)
{
    char when[IFX_RFC3339_MAX], until[IFX_RFC3339_MAX];
    ifx_rc rc = IFX_OK;

    ifx_buf_reset(out);
    ifx_time_format_rfc3339(cursor_ns, when);
    ifx_time_format_rfc3339(cursor_end_ns, until);
    for (size_t i = 0; tmpl[i] && !rc; i++) {
        /* The values are ours (timestamps, digits): nothing a row holds reaches the text.
         * $cursor_end is tried first, although "$cursor" followed by '_' is no placeholder
         * either: the longer name must win whatever the order. */
        if (placeholder_at(tmpl, i, "cursor_end")) {
            rc = ifx_buf_puts(out, until);
            i += 10;
        } else if (placeholder_at(tmpl, i, "cursor")) {
            rc = ifx_buf_puts(out, when);
            i += 6;
        } else if (placeholder_at(tmpl, i, "limit")) {
            rc = ifx_buf_printf(out, "%llu", (unsigned long long)limit);
            i += 5;
        } else if (placeholder_at(tmpl, i, "offset")) {
            rc = ifx_buf_putc(out, '0'); /* ifx never pages with OFFSET (upstream R19) */
            i += 6;
        } else {
            rc = ifx_buf_putc(out, tmpl[i]);
        }
    }
    if (rc)
        return ifx_err_set(err, rc,
                           rc == IFX_E_NOMEM ? "out of memory rendering the query"
                                             : "the rendered query is too large");
    return IFX_OK;
}

/* Whether the template uses $name outside comments (inside quotes counts: '$cursor' is the usual
 * way to write it). Quotes are tracked before comments, so a "//" or "--" inside a string literal
 * (a URL in Flux) starts no comment (upstream R17). */
bool ifxi_query_template_uses(const char *q, const char *name)
{
    bool in_line = false, in_block = false;
    char quote = 0;

    for (size_t i = 0; q[i]; i++) {
        if (in_line) {
            in_line = q[i] != '\n';
        } else if (in_block) {
            if (q[i] == '*' && q[i + 1] == '/')
                in_block = false, i++;
        } else if (quote) {
            if (q[i] == '\\' && q[i + 1])
                i++;
            else if (q[i] == quote)
                quote = 0;
            else if (placeholder_at(q, i, name))
                return true;
        } else if ((q[i] == '-' && q[i + 1] == '-') || (q[i] == '/' && q[i + 1] == '/')) {
            in_line = true;
        } else if (q[i] == '/' && q[i + 1] == '*') {
            in_block = true, i++;
        } else if (q[i] == '\'' || q[i] == '"') {
            quote = q[i];
        } else if (placeholder_at(q, i, name)) {
            return true;
        }
    }
    return false;
}

void ifxi_query_template_placeholders(const char *q, bool *cursor, bool *cursor_end)
{
    *cursor = ifxi_query_template_uses(q, "cursor");
    *cursor_end = ifxi_query_template_uses(q, "cursor_end");
}

/* $cursor must appear outside comments: without it every poll returns the same rows. With
 * query_window set, $cursor_end must too (else the window bounds nothing), and without it
 * $cursor_end would bound the query at the cursor itself. */
ifx_rc ifxi_query_template_check(const ifx_config *cfg, ifx_err *err)
{
    bool cursor, cursor_end;

    ifxi_query_template_placeholders(cfg->query, &cursor, &cursor_end);
    if (!cursor)
        return ifx_err_set(err, IFX_E_CONFIG,
                           "key 'query' must use the $cursor placeholder outside comments, e.g. "
                           "WHERE time > '$cursor' ORDER BY time LIMIT $limit: without it every "
                           "poll returns the same rows");
    if (cfg->query_window_ns && !cursor_end) {
        const char *fix =
            cfg->version == IFX_VERSION_V2 ? "add stop: time(v: \"$cursor_end\") to range()"
            : cfg->version == IFX_VERSION_AUTO
                ? "add AND time < '$cursor_end' (Flux: stop: time(v: \"$cursor_end\") in range())"
                : "add AND time < '$cursor_end' to the WHERE clause";
        return ifx_err_set(err, IFX_E_CONFIG,
                           "query_window is set but key 'query' has no upper time bound: %s, or "
                           "set query_window to \"0s\"",
                           fix);
    }
    if (!cfg->query_window_ns && cursor_end)
        return ifx_err_set(err, IFX_E_CONFIG,
                           "key 'query' uses $cursor_end but query_window is \"0s\" (no window): "
                           "set query_window (e.g. \"1h\"), or remove $cursor_end");
    return IFX_OK;
}

/* Steps a scan of a template by one character: true when q[*i] is text outside quotes (not a
 * quote character either), where keywords may start. Skips escaped characters in quotes. */
static bool outside_quotes(const char *q, size_t *i, char *quote)
{
    if (*quote) {
        if (q[*i] == '\\' && q[*i + 1])
            ++*i;
        else if (q[*i] == *quote)
            *quote = 0;
        return false;
    }
    if (q[*i] == '\'' || q[*i] == '"') {
        *quote = q[*i];
        return false;
    }
    return true;
}

/* Is q[i..] the word w (ASCII case ignored), not inside a longer identifier on its left? */
static bool word_at(const char *q, size_t i, const char *w)
{
    return strncasecmp(q + i, w, strlen(w)) == 0 && (i == 0 || !ident_char(q[i - 1]));
}

static const char *skip_space(const char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

/* Where the template starts reading relative to the wall clock instead of at $cursor (upstream
 * R4: the shipped range(start: -1h)): a Flux range(start: -<duration>) or an SQL/InfluxQL now()
 * outside quotes. NULL when there is none; else the text shown in the warning. */
const char *ifxi_query_template_relative_start(const char *q)
{
    char quote = 0;
    for (size_t i = 0; q[i]; i++) {
        if (!outside_quotes(q, &i, &quote))
            continue;
        if (word_at(q, i, "range(")) {
            const char *p = skip_space(q + i + 6);
            if (strncmp(p, "start", 5) == 0 && *(p = skip_space(p + 5)) == ':' &&
                *skip_space(p + 1) == '-')
                return "range(start: -...)";
        } else if (word_at(q, i, "now()")) {
            return "now()";
        }
    }
    return NULL;
}

/* True when the template has GROUP BY outside quotes (ASCII case ignored). */
bool ifxi_query_template_has_group_by(const char *q)
{
    char quote = 0;
    for (size_t i = 0; q[i]; i++) {
        if (!outside_quotes(q, &i, &quote) || !word_at(q, i, "group"))
            continue;
        const char *p = skip_space(q + i + 5);
        if (p > q + i + 5 && strncasecmp(p, "by", 2) == 0 && !ident_char(p[2]))
            return true;
    }
    return false;
}
