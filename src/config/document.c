/* ifx — configuration files: connector definitions, plain tables, and overrides (ifx/config.h).
 *
 * The document is turned into a jansson tree (TOML through ifxi_toml_to_json, so both forms give
 * the same tree), the plugin keys are taken out of it, overrides are set on them, and the result
 * goes to ifx_config_parse_json as the compact JSON the runtime would hand the plugin. */
#include "ifx/config.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/problems.h"
#include "config/toml.h"

/* Largest configuration document, as JSON (a connector file is a few KiB). */
#define DOC_JSON_CAP (16u << 20)

/* ---- problems ------------------------------------------------------------------------------ */

typedef struct doc_ctx {
    ifx_problems found;
    bool nomem;
} doc_ctx;

static void problem(doc_ctx *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(doc_ctx *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (!ifxi_config_problems_addv(&d->found, fmt, ap))
        d->nomem = true;
    va_end(ap);
}

/* ---- reading the document ------------------------------------------------------------------ */

static bool starts_as_json(const char *text, size_t len)
{
    size_t i = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        i = 3; /* a UTF-8 byte order mark, as some editors write */
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        i++;
    return i < len && text[i] == '{';
}

/* The document as a tree: JSON as it is, TOML converted. NULL with a problem recorded. */
static json_t *load_tree(doc_ctx *d, const char *text, size_t len, ifx_rc *rc, ifx_err *err)
{
    json_error_t jerr;
    json_t *root;

    if (starts_as_json(text, len)) {
        root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root) {
            ifxi_config_tidy_json_error(&jerr);
            problem(d, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        }
        return root;
    }
    ifx_buf json;
    ifx_err terr;
    ifx_err_clear(&terr);
    ifx_buf_init(&json, DOC_JSON_CAP);
    *rc = ifxi_toml_to_json(text, len, &json, &terr);
    if (*rc == IFX_E_NOMEM) {
        ifx_buf_free(&json);
        ifx_err_set(err, IFX_E_NOMEM, "out of memory reading the configuration");
        return NULL;
    }
    if (*rc) {
        problem(d, "%s", *rc == IFX_E_FULL ? "the configuration is too large" : terr.msg);
        ifx_buf_free(&json);
        *rc = IFX_OK; /* a problem, reported as IFX_E_CONFIG by the caller */
        return NULL;
    }
    root = json_loadb(json.data, json.len, 0, &jerr);
    if (!root)
        problem(d, "the TOML document could not be read back (%s)", jerr.text);
    ifx_buf_free(&json);
    return root;
}

static const char *kind_of(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "a table";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a float";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        break;
    }
    return "null";
}

static void need_string(doc_ctx *d, const json_t *root, const char *name, bool non_empty)
{
    const json_t *v = json_object_get(root, name);
    if (!v)
        problem(d, "connector file: '%s' is missing", name);
    else if (!json_is_string(v))
        problem(d, "connector file: '%s' must be a string, got %s", name, kind_of(v));
    else if (non_empty && json_string_length(v) == 0)
        problem(d, "connector file: '%s' must not be empty", name);
}

static bool is_string_list(const json_t *v)
{
    size_t i;
    const json_t *e;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return false;
    json_array_foreach(v, i, e) if (!json_is_string(e)) return false;
    return true;
}

/* [[streams]]: what the runtime needs of each entry (spec §6.2). */
static void check_streams(doc_ctx *d, const json_t *root, ifx_role role)
{
    static const char *const schemas[] = {"json", "raw", "text", "proto", "flat_buffer", "avro"};
    const json_t *streams = json_object_get(root, "streams"), *st;
    size_t i;

    if (!streams) {
        problem(d, "connector file: [[streams]] is missing (the runtime needs at least one)");
        return;
    }
    if (!json_is_array(streams) || json_array_size(streams) == 0) {
        problem(d, "connector file: 'streams' must be a non-empty array of tables ([[streams]])");
        return;
    }
    json_array_foreach(streams, i, st)
    {
        if (!json_is_object(st)) {
            problem(d, "connector file: [[streams]] entry %zu must be a table", i + 1);
            continue;
        }
        const json_t *stream = json_object_get(st, "stream"),
                     *schema = json_object_get(st, "schema");
        if (!json_is_string(stream) || json_string_length(stream) == 0)
            problem(d, "connector file: [[streams]] entry %zu needs 'stream' (a stream name)",
                    i + 1);
        if (role == IFX_ROLE_SINK && !is_string_list(json_object_get(st, "topics")))
            problem(d,
                    "connector file: [[streams]] entry %zu needs 'topics', a list of topic names "
                    "(a sink reads one or more topics)",
                    i + 1);
        if (role == IFX_ROLE_SOURCE) {
            const json_t *topic = json_object_get(st, "topic");
            if (!json_is_string(topic) || json_string_length(topic) == 0)
                problem(d,
                        "connector file: [[streams]] entry %zu needs 'topic', one topic name (a "
                        "source writes to one topic)",
                        i + 1);
        }
        if (!json_is_string(schema)) {
            problem(d,
                    "connector file: [[streams]] entry %zu needs 'schema' (json, raw, text, ...)",
                    i + 1);
        } else {
            bool known = false;
            for (size_t k = 0; k < sizeof schemas / sizeof schemas[0]; k++)
                known |= strcmp(json_string_value(schema), schemas[k]) == 0;
            if (!known)
                problem(d,
                        "connector file: [[streams]] entry %zu: unknown schema \"%.40s\" (json, "
                        "raw, text, proto, flat_buffer or avro)",
                        i + 1, json_string_value(schema));
        }
    }
}

/* Checks a connector definition as the runtime reads it; sets doc's role and key. */
static void check_connector_file(doc_ctx *d, const json_t *root, ifx_config_doc *doc)
{
    const json_t *type = json_object_get(root, "type"), *v;

    if (!type) {
        problem(d, "connector file: 'type' is missing (\"sink\" or \"source\")");
    } else if (json_is_string(type) && strcmp(json_string_value(type), "sink") == 0) {
        doc->role = IFX_ROLE_SINK;
    } else if (json_is_string(type) && strcmp(json_string_value(type), "source") == 0) {
        doc->role = IFX_ROLE_SOURCE;
    } else {
        problem(d, "connector file: 'type' must be \"sink\" or \"source\"");
    }
    need_string(d, root, "key", true);
    need_string(d, root, "name", false);
    need_string(d, root, "path", true);
    if (!(v = json_object_get(root, "enabled")))
        problem(d, "connector file: 'enabled' is missing (true or false)");
    else if (!json_is_boolean(v))
        problem(d, "connector file: 'enabled' must be true or false, got %s", kind_of(v));
    else
        doc->disabled = json_is_false(v);
    if (!(v = json_object_get(root, "version")))
        problem(d, "connector file: 'version' is missing (the version of this file, 0 or more)");
    else if (!json_is_integer(v) || json_integer_value(v) < 0)
        problem(d, "connector file: 'version' must be an integer of 0 or more, got %s",
                json_is_integer(v) ? "a negative one" : kind_of(v));
    if (doc->role != IFX_ROLE_DETECT)
        check_streams(d, root, doc->role);
    v = json_object_get(root, "key");
    if (json_is_string(v) && !(doc->key = strdup(json_string_value(v))))
        d->nomem = true;
    v = json_object_get(root, "plugin_config");
    if (v && !json_is_object(v))
        problem(d, "connector file: [plugin_config] must be a table, got %s", kind_of(v));
}

static void strlist_clear(ifx_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void ifx_config_doc_free(ifx_config_doc *doc)
{
    if (!doc)
        return;
    free(doc->key);
    if (doc->plugin_config) {
        /* it may hold a token: do not leave it in freed memory */
        memset(doc->plugin_config, 0, strlen(doc->plugin_config));
        free(doc->plugin_config);
    }
    strlist_clear(&doc->applied);
    memset(doc, 0, sizeof *doc);
}

static ifx_rc set_plugin_config(ifx_config_doc *doc, const json_t *obj, ifx_err *err)
{
    char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text)
        return ifx_err_set(err, IFX_E_NOMEM, "out of memory");
    if (doc->plugin_config) {
        memset(doc->plugin_config, 0, strlen(doc->plugin_config));
        free(doc->plugin_config);
    }
    doc->plugin_config = text;
    return IFX_OK;
}

ifx_rc ifx_config_doc_read(const char *text, size_t len, ifx_config_doc *doc,
                           ifx_problems *problems, ifx_err *err)
{
    doc_ctx d = {{0}, false};
    ifx_rc rc = IFX_OK;
    json_t *root;

    memset(doc, 0, sizeof *doc);
    if (problems)
        memset(problems, 0, sizeof *problems);
    root = load_tree(&d, text ? text : "", text ? len : 0, &rc, err);
    if (rc)
        goto out;
    if (root && !json_is_object(root)) {
        problem(&d, "the configuration must be a table (a JSON object), got %s", kind_of(root));
    } else if (root) {
        const json_t *plugin = root;
        if (json_object_get(root, "type") || json_object_get(root, "plugin_config")) {
            doc->connector_file = true;
            check_connector_file(&d, root, doc);
            plugin = json_object_get(root, "plugin_config");
        }
        json_t *empty = NULL;
        if (!plugin || !json_is_object(plugin))
            plugin = empty = json_object(); /* no [plugin_config]: the runtime sends null, {} */
        if (plugin && (rc = set_plugin_config(doc, plugin, err)))
            d.nomem = true;
        json_decref(empty);
    }
    if (d.nomem) {
        rc = ifx_err_set(err, IFX_E_NOMEM, "out of memory reading the configuration");
    } else if (d.found.count) {
        rc = ifx_err_set(err, IFX_E_CONFIG, "%s%s", d.found.items[0],
                         d.found.count > 1 ? " (and more)" : "");
    }
out:
    json_decref(root);
    if (rc) {
        ifx_config_doc_free(doc);
        if (problems && rc == IFX_E_CONFIG) {
            *problems = d.found;
            d.found = (ifx_problems){0};
        }
    }
    ifx_problems_free(&d.found);
    return rc;
}

/* ---- overrides ----------------------------------------------------------------------------- */

/* A scalar valued the runtime's way: true/false, then u64, i64, f64, else a string. */
static json_t *runtime_scalar(const char *s, size_t len)
{
    char buf[64];
    char *end;

    if (len == 4 && memcmp(s, "true", 4) == 0)
        return json_true();
    if (len == 5 && memcmp(s, "false", 5) == 0)
        return json_false();
    if (len > 0 && len < sizeof buf && !isspace((unsigned char)s[0])) {
        memcpy(buf, s, len);
        buf[len] = '\0';
        errno = 0;
        long long i = strtoll(buf, &end, 10);
        if (*end == '\0' && errno == 0 &&
            (isdigit((unsigned char)buf[0]) || buf[0] == '-' || buf[0] == '+'))
            return json_integer(i);
        /* a number, but not inf or nan, which JSON cannot hold (they stay strings) */
        bool numeric = strspn(buf, "0123456789+-.eE") == len && strpbrk(buf, "0123456789");
        errno = 0;
        double f = strtod(buf, &end);
        if (numeric && *end == '\0' && errno == 0)
            return json_real(f);
    }
    return json_stringn(s, len);
}

/* "[a,b]" → an array of scalars; anything else → a scalar. */
static json_t *runtime_value(const char *s)
{
    size_t len = strlen(s);
    if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
        json_t *arr = json_array();
        const char *p = s + 1, *end = s + len - 1;
        if (!arr)
            return NULL;
        while (p < end) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            const char *e = comma ? comma : end, *a = p;
            while (a < e && isspace((unsigned char)*a))
                a++;
            const char *b = e;
            while (b > a && isspace((unsigned char)b[-1]))
                b--;
            if (b > a || comma) {
                json_t *item = runtime_scalar(a, (size_t)(b - a));
                if (!item || json_array_append_new(arr, item)) {
                    json_decref(arr);
                    return NULL;
                }
            }
            p = comma ? comma + 1 : end;
        }
        return arr;
    }
    return runtime_scalar(s, len);
}

static ifx_rc note_applied(ifx_config_doc *doc, const char *key, const char *origin, ifx_err *err)
{
    char line[320];
    char **items = realloc(doc->applied.items, (doc->applied.n + 1) * sizeof *items);
    if (!items)
        return ifx_err_set(err, IFX_E_NOMEM, "out of memory");
    doc->applied.items = items;
    snprintf(line, sizeof line, "%s (from %s)", key, origin);
    if (!(items[doc->applied.n] = strdup(line)))
        return ifx_err_set(err, IFX_E_NOMEM, "out of memory");
    doc->applied.n++;
    return IFX_OK;
}

/* Sets key to value (stolen) in the plugin keys. */
static ifx_rc set_key(ifx_config_doc *doc, const char *key, json_t *value, const char *origin,
                      ifx_err *err)
{
    json_error_t jerr;
    json_t *obj;
    ifx_rc rc;

    if (!value)
        return ifx_err_set(err, IFX_E_NOMEM, "out of memory");
    obj = json_loads(doc->plugin_config ? doc->plugin_config : "{}", 0, &jerr);
    if (!obj || json_object_set_new(obj, key, value)) {
        if (!obj)
            json_decref(value);
        json_decref(obj);
        return ifx_err_set(err, IFX_E_NOMEM, "out of memory");
    }
    rc = set_plugin_config(doc, obj, err);
    json_decref(obj);
    return rc ? rc : note_applied(doc, key, origin, err);
}

ifx_rc ifx_config_doc_apply_env(ifx_config_doc *doc, char *const *envp, ifx_err *err)
{
    char prefix[256];
    size_t plen;

    if (!doc->connector_file || !doc->key || doc->role == IFX_ROLE_DETECT || !envp)
        return IFX_OK;
    plen = (size_t)snprintf(prefix, sizeof prefix, "IGGY_CONNECTORS_%s_",
                            doc->role == IFX_ROLE_SINK ? "SINK" : "SOURCE");
    for (const char *k = doc->key; *k && plen < sizeof prefix - 1; k++)
        prefix[plen++] = (char)toupper((unsigned char)*k);
    if (plen + 15 >= sizeof prefix)
        return IFX_OK; /* a key this long cannot be matched by any variable we could build */
    memcpy(prefix + plen, "_PLUGIN_CONFIG_", 16);
    plen += 15;
    for (char *const *e = envp; *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || (size_t)(eq - *e) <= plen || strncmp(*e, prefix, plen) != 0)
            continue;
        char field[128], origin[320];
        size_t flen = (size_t)(eq - *e) - plen;
        if (flen >= sizeof field)
            continue;
        for (size_t i = 0; i < flen; i++)
            field[i] = (char)tolower((unsigned char)(*e)[plen + i]);
        field[flen] = '\0';
        snprintf(origin, sizeof origin, "%.*s", (int)(eq - *e), *e);
        ifx_rc rc = set_key(doc, field, runtime_value(eq + 1), origin, err);
        if (rc)
            return rc;
    }
    return IFX_OK;
}

ifx_rc ifx_config_doc_set(ifx_config_doc *doc, const char *assignment, ifx_err *err)
{
    const char *eq = strchr(assignment, '=');
    char key[128];
    json_t *value;
    json_error_t jerr;

    if (!eq || eq == assignment)
        return ifx_err_set(err, IFX_E_USAGE, "--set expects key=value, got '%.60s'", assignment);
    if ((size_t)(eq - assignment) >= sizeof key)
        return ifx_err_set(err, IFX_E_USAGE, "--set: the key is too long");
    memcpy(key, assignment, (size_t)(eq - assignment));
    key[eq - assignment] = '\0';
    /* a JSON value first ('"007"', '{"a":"b"}'), then the runtime's way */
    value = json_loads(eq + 1, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!value || json_is_null(value)) {
        json_decref(value);
        value = runtime_value(eq + 1);
    }
    return set_key(doc, key, value, "--set", err);
}
