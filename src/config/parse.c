/* ifx — reading a configuration (see include/ifx/config.h): the JSON object, key by key in input
 * order, against the key table; the rules between keys; the problems list.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "config/problems.h"

/* ---- problems -------------------------------------------------------------------------------- */

bool ifxi_config_problems_addv(ifx_problems *list, const char *fmt, va_list ap)
{
    va_list again;
    char *msg, **items;
    int n;

    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0 || !(msg = malloc((size_t)n + 1))) {
        va_end(again);
        return false;
    }
    vsnprintf(msg, (size_t)n + 1, fmt, again);
    va_end(again);
    items = realloc(list->items, (list->count + 1) * sizeof *items);
    if (!items) {
        free(msg);
        return false;
    }
    items[list->count++] = msg;
    list->items = items;
    return true;
}

void ifxi_config_tidy_json_error(json_error_t *jerr)
{
    char *near = strstr(jerr->text, " near ");
    if (near && json_error_code(jerr) != json_error_duplicate_key)
        *near = '\0';
}

void ifxi_config_problem(struct parse_ctx *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (!ifxi_config_problems_addv(&p->found, fmt, ap))
        p->nomem = true;
    va_end(ap);
}

void ifx_problems_free(ifx_problems *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->count; i++)
        free(p->items[i]);
    free(p->items);
    p->items = NULL;
    p->count = 0;
}

/* ---- parsing --------------------------------------------------------------------------------- */

static const struct key_desc *find_key(const char *name, bool *by_alias)
{
    for (size_t i = 0; i < IFX_CFG_NKEYS; i++) {
        if (strcmp(ifxi_config_keys[i].name, name) == 0) {
            *by_alias = false;
            return &ifxi_config_keys[i];
        }
        if (ifxi_config_keys[i].alias && strcmp(ifxi_config_keys[i].alias, name) == 0) {
            *by_alias = true;
            return &ifxi_config_keys[i];
        }
    }
    return NULL;
}

/* Reads "version" ahead of the other keys, silently: which keys apply and some defaults depend
 * on it. Its problems are reported in input order by the main pass. */
static ifx_version peek_version(const json_t *root, bool *known)
{
    const json_t *v = json_object_get(root, "version");
    ifx_version version = IFX_VERSION_V2;

    *known = true;
    if (!v || json_is_null(v))
        return IFX_VERSION_V2;
    if (json_is_string(v) &&
        ifx_version_parse(json_string_value(v), json_string_length(v), &version, NULL) == IFX_OK)
        return version;
    /* Unknown: accept every version's keys rather than pile up follow-on problems. */
    *known = false;
    return IFX_VERSION_AUTO;
}

static void check_key(struct parse_ctx *p, const char *name, const json_t *v)
{
    bool by_alias = false;
    const struct key_desc *k = find_key(name, &by_alias);
    size_t idx;
    ifx_role role = p->c->role;
    ifx_version version = p->c->version;

    if (!k) {
        ifxi_config_unknown_key(p, name);
        return;
    }
    /* JSON null stands for an absent key (TOML has no null, but generated configs do). */
    if (json_is_null(v))
        return;
    idx = (size_t)(k - ifxi_config_keys);
    if (by_alias)
        p->alias_given[idx] = true;
    else
        p->given[idx] = true;
    if (!(k->roles & (1u << role))) {
        ifxi_config_problem(p, "key '%s' applies to the %s, not the %s", name,
                            ifx_role_name(role == IFX_ROLE_SINK ? IFX_ROLE_SOURCE : IFX_ROLE_SINK),
                            ifx_role_name(role));
        return;
    }
    if (!(k->versions & (1u << version))) {
        char used[32];
        ifxi_config_version_list(k->versions, used, sizeof used);
        ifxi_config_problem(p, "key '%s' does not apply to version %s (it is used by %s)", name,
                            ifx_version_name(version), used);
        return;
    }
    if (k->type == KT_VERSION) {
        /* Already read by peek_version; only report a bad value here, in input order. */
        if (!json_is_string(v))
            ifxi_config_refuse_value(p, k, name, v);
        else if (!p->version_known)
            ifxi_config_store_json(p, k, name, v);
        return;
    }
    ifxi_config_store_json(p, k, name, v);
}

static void check_required(struct parse_ctx *p)
{
    ifx_role role = p->c->role;
    ifx_version version = p->c->version;

    for (size_t i = 0; i < IFX_CFG_NKEYS; i++) {
        const struct key_desc *k = &ifxi_config_keys[i];
        const char *role_word = k->roles != FOR_BOTH ? ifx_role_name(role) : NULL;
        char vers[32], why[64];

        if (!(k->roles & (1u << role)) || !(k->required & (1u << version)) || p->given[i] ||
            p->alias_given[i])
            continue;
        if (k->required != V_ALL && !p->version_known)
            continue;
        if (k->required == V_ALL) {
            if (role_word)
                snprintf(why, sizeof why, "required for a %s", role_word);
            else
                snprintf(why, sizeof why, "required");
        } else {
            ifxi_config_version_list(k->required & (1u << version), vers, sizeof vers);
            if (role_word)
                snprintf(why, sizeof why, "required for a %s %s", vers, role_word);
            else
                snprintf(why, sizeof why, "required for %s", vers);
        }
        ifxi_config_problem(p, "missing key '%s' (%s)", k->name, why);
    }
}

static void check_cross_keys(struct parse_ctx *p)
{
    for (size_t i = 0; i < IFX_CFG_NKEYS; i++) {
        if (p->given[i] && p->alias_given[i])
            ifxi_config_problem(p, "keys '%s' and '%s' name the same setting; give only one",
                                ifxi_config_keys[i].name, ifxi_config_keys[i].alias);
    }
    if (p->c->version == IFX_VERSION_V1 && p->c->http.token && p->c->http.password)
        ifxi_config_problem(p,
                            "keys 'token' and 'password' both set the v1 password; give only one");
    if (p->c->role == IFX_ROLE_SOURCE && p->c->payload_format == IFX_PAYLOAD_JSON_FIELDS)
        ifxi_config_problem(
            p, "payload_format \"json_fields\" applies to the sink; a source payload is "
               "\"json\", \"text\" or \"raw\"");
    if (p->c->role == IFX_ROLE_SINK && p->c->payload_format != IFX_PAYLOAD_JSON_FIELDS &&
        (p->c->tag_keys.n || p->c->field_keys.n))
        ifxi_config_problem(p,
                            "keys 'tag_keys' and 'field_keys' need payload_format \"json_fields\"");
    if (p->c->role == IFX_ROLE_SINK &&
        (p->c->timestamp_source == IFX_TS_ROW || p->c->timestamp_source == IFX_TS_POLL))
        ifxi_config_problem(p,
                            "timestamp_source for a sink is \"iggy\", \"origin\" or \"payload\"");
    if (p->c->role == IFX_ROLE_SOURCE && p->c->timestamp_source != IFX_TS_ROW &&
        p->c->timestamp_source != IFX_TS_POLL)
        ifxi_config_problem(p, "timestamp_source for a source is \"row\" or \"poll\"");
    if (p->c->role == IFX_ROLE_SINK && p->c->timestamp_source == IFX_TS_PAYLOAD &&
        !p->c->timestamp_field)
        ifxi_config_problem(
            p, "timestamp_source \"payload\" needs the key 'timestamp_field' (the payload "
               "key that holds the time)");
    check_required(p);
}

static bool is_json_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Loads the input as a JSON object; "null" (what the runtime sends without a [plugin_config]
 * table) is the empty object. NULL with a problem recorded when it is not an object. */
static json_t *load_object(struct parse_ctx *p, const char *json, size_t len)
{
    size_t a = 0, b = len;
    json_error_t jerr;
    json_t *root;

    while (a < b && is_json_space(json[a]))
        a++;
    while (b > a && is_json_space(json[b - 1]))
        b--;
    if (b - a == 4 && memcmp(json + a, "null", 4) == 0)
        return json_object();
    if (a == b) {
        ifxi_config_problem(p, "the configuration is empty; expected a JSON object");
        return NULL;
    }
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root) {
        ifxi_config_tidy_json_error(&jerr);
        ifxi_config_problem(p, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column,
                            jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        ifxi_config_problem(p, "the configuration must be a JSON object, got %s",
                            ifxi_config_json_kind(root));
        json_decref(root);
        return NULL;
    }
    return root;
}

ifx_rc ifx_config_init(ifx_config *c, ifx_role role, ifx_err *err)
{
    ifx_rc rc;

    memset(c, 0, sizeof *c);
    if (role != IFX_ROLE_SINK && role != IFX_ROLE_SOURCE)
        return ifx_err_set(err, IFX_E_USAGE, "ifx_config_init needs IFX_ROLE_SINK or SOURCE");
    rc = ifxi_config_set_defaults(c, role, IFX_VERSION_V2);
    if (rc) {
        ifx_config_free(c);
        return ifx_err_set(err, rc, "out of memory");
    }
    return IFX_OK;
}

ifx_rc ifx_config_parse_json(ifx_config *c, ifx_role role, const char *json, size_t len,
                             ifx_problems *problems, ifx_err *err)
{
    struct parse_ctx p;
    json_t *root = NULL;
    const char *name;
    json_t *v;
    ifx_version version;
    ifx_rc rc = IFX_OK;

    memset(c, 0, sizeof *c);
    memset(&p, 0, sizeof p);
    p.c = c;
    if (problems) {
        problems->items = NULL;
        problems->count = 0;
    }
    if ((role != IFX_ROLE_DETECT && role != IFX_ROLE_SINK && role != IFX_ROLE_SOURCE) ||
        (!json && len))
        return ifx_err_set(err, IFX_E_USAGE, "ifx_config_parse_json: bad arguments");

    root = load_object(&p, json ? json : "", len);
    if (!root)
        goto out;
    if (role == IFX_ROLE_DETECT) {
        const json_t *q = json_object_get(root, "query");
        role = q && !json_is_null(q) ? IFX_ROLE_SOURCE : IFX_ROLE_SINK;
    }
    version = peek_version(root, &p.version_known);
    if (ifxi_config_set_defaults(c, role, version)) {
        p.nomem = true;
        goto out;
    }
    /* jansson keeps object keys in input order, so problems come out in that order. */
    json_object_foreach(root, name, v) check_key(&p, name, v);
    check_cross_keys(&p);
    for (size_t i = 0; i < IFX_CFG_NKEYS; i++)
        if (ifxi_config_keys[i].offset == offsetof(ifx_config, precision))
            c->precision_given = p.given[i] || p.alias_given[i];

out:
    json_decref(root);
    if (p.nomem) {
        rc = ifx_err_set(err, IFX_E_NOMEM, "out of memory while reading the configuration");
    } else if (p.found.count) {
        if (p.found.count > 1)
            rc = ifx_err_set(err, IFX_E_CONFIG, "%s (and %zu more)", p.found.items[0],
                             p.found.count - 1);
        else
            rc = ifx_err_set(err, IFX_E_CONFIG, "%s", p.found.items[0]);
    }
    if (rc) {
        ifx_config_free(c);
        if (problems && !p.nomem) {
            *problems = p.found;
            p.found.items = NULL;
            p.found.count = 0;
        }
    }
    ifx_problems_free(&p.found);
    return rc;
}
