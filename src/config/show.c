/* ifx — configuration output: values as messages show them (cut, secrets hidden, urls redacted),
 * the normalised JSON of ifx_config_to_json, and the Markdown reference of `ifx check --reference`.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "ifx/buf.h"
#include "ifx/lp.h"
#include "ifx/timeutil.h"

void ifxi_config_show_text(const char *s, size_t len, char *out)
{
    ifx_excerpt(s, len, SHOW_MAX, out);
}

const char *ifxi_config_json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        break;
    }
    return "null";
}

/* How a value appears after "got": its JSON text, cut to SHOW_MAX bytes, or only its kind for a
 * secret. out holds IFX_EXCERPT_SIZE(SHOW_MAX) bytes. */
void ifxi_config_show_value(const json_t *v, bool secret, char *out)
{
    char *text = secret ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

    if (!text) {
        snprintf(out, IFX_EXCERPT_SIZE(SHOW_MAX), "%s", ifxi_config_json_kind(v));
        return;
    }
    ifxi_config_show_text(text, strlen(text), out);
    free(text);
}

char *ifx_url_redacted(const char *url)
{
    const char *auth = strstr(url, "://"), *end, *at = NULL, *colon = NULL;
    size_t len = strlen(url), cut;
    ifx_buf out;

    auth = auth ? auth + 3 : url;
    end = auth + strcspn(auth, "/?#");
    /* The last '@' ends the userinfo: a password with an unescaped '@' stays hidden whole. */
    for (const char *q = auth; q < end; q++) {
        if (*q == '@')
            at = q;
    }
    if (at)
        colon = memchr(auth, ':', (size_t)(at - auth));
    cut = strcspn(end, "?#") + (size_t)(end - url);
    ifx_buf_init(&out, len + 8);
    ifx_rc rc = colon ? ifx_buf_printf(&out, "%.*s:***%.*s", (int)(colon - url), url,
                                       (int)(url + cut - at), at)
                      : ifx_buf_append(&out, url, cut);
    if (rc == IFX_OK && url[cut])
        rc = ifx_buf_puts(&out, url[cut] == '?' ? "?..." : "#...");
    if (rc) {
        ifx_buf_free(&out);
        return NULL;
    }
    return ifx_buf_detach(&out);
}

/* Like show_value for a url string (out holds SHOW_BUF bytes), as ifx_url_redacted shows it. */
void ifxi_config_show_url(const char *url, char *out)
{
    char *safe = ifx_url_redacted(url), text[IFX_EXCERPT_SIZE(SHOW_MAX)];
    size_t n;

    if (!safe) {
        snprintf(out, SHOW_BUF, "a string");
        return;
    }
    /* the excerpt cuts long urls: keep the "?..." marker visible after it */
    n = strcspn(safe, "?#");
    ifxi_config_show_text(safe, n, text);
    snprintf(out, SHOW_BUF, "\"%s%s\"", text, safe + n);
    free(safe);
}

/* "v2", "v1 and v3", "v1, v2 and v3": the versions of a mask, "auto" left out. */
void ifxi_config_version_list(unsigned mask, char *out, size_t size)
{
    static const ifx_version order[] = {IFX_VERSION_V1, IFX_VERSION_V2, IFX_VERSION_V3};
    const char *names[3];
    size_t n = 0;

    for (size_t i = 0; i < 3; i++) {
        if (mask & (1u << order[i]))
            names[n++] = ifx_version_name(order[i]);
    }
    if (n == 1)
        snprintf(out, size, "%s", names[0]);
    else if (n == 2)
        snprintf(out, size, "%s and %s", names[0], names[1]);
    else if (n == 3)
        snprintf(out, size, "%s, %s and %s", names[0], names[1], names[2]);
    else
        snprintf(out, size, "no version");
}

/* ---- output ---------------------------------------------------------------------------------- */

/* The value of k in the output, or NULL to leave the key out (an unset secret). *nomem is set
 * when an allocation failed. */
static json_t *value_json(const ifx_config *c, const struct key_desc *k, bool *nomem)
{
    char text[IFX_DURATION_MAX > IFX_RFC3339_MAX ? IFX_DURATION_MAX : IFX_RFC3339_MAX];
    const char *s;
    json_t *out;

    switch (k->type) {
    case KT_STRING_LIST: {
        const ifx_strlist *l = SLOT_C(ifx_strlist, c, k);
        out = json_array();
        for (size_t i = 0; out && i < l->n; i++)
            json_array_append_new(out, json_string(l->items[i]));
        return out;
    }
    case KT_STRING_MAP: {
        const ifx_strmap *m = SLOT_C(ifx_strmap, c, k);
        out = json_object();
        for (size_t i = 0; out && i < m->n; i++)
            json_object_set_new(out, m->keys[i], json_string(m->values[i]));
        return out;
    }
    case KT_VERSION:
        return json_string(ifx_version_name(c->version));
    case KT_SECRET:
        return *str_slot_c(c, k) ? json_string("***") : NULL;
    case KT_STRING:
    case KT_RFC3339:
        s = *str_slot_c(c, k);
        if (!s)
            return json_null();
        if (k->check == ifxi_config_check_url) {
            char *safe = ifx_url_redacted(s);
            if (!safe) {
                *nomem = true;
                return NULL;
            }
            out = json_string(safe);
            free(safe);
            return out;
        }
        return json_string(s);
    case KT_BOOL:
        return json_boolean(*SLOT_C(bool, c, k));
    case KT_U32:
        return json_integer(*SLOT_C(uint32_t, c, k));
    case KT_SIZE:
        ifxi_config_format_size(*SLOT_C(uint64_t, c, k), text, sizeof text);
        return json_string(text);
    case KT_DURATION:
        ifx_duration_format(*SLOT_C(uint64_t, c, k), text);
        return json_string(text);
    case KT_PRECISION:
        return json_string(ifx_precision_name(*SLOT_C(ifx_precision, c, k)));
    case KT_ENUM:
        for (const struct enum_name *e = k->enums; e->name; e++)
            if (e->value == *SLOT_C(int, c, k))
                return json_string(e->name);
        return NULL;
    }
    return NULL;
}

ifx_rc ifx_config_to_json(const ifx_config *c, char **out, ifx_err *err)
{
    json_t *root = NULL;
    ifx_rc rc = IFX_OK;
    bool nomem = false;

    *out = NULL;
    if (c->role != IFX_ROLE_SINK && c->role != IFX_ROLE_SOURCE)
        return ifx_err_set(err, IFX_E_USAGE, "ifx_config_to_json: the config has no role");
    root = json_object();
    if (!root || json_object_set_new(root, "version", json_string(ifx_version_name(c->version))) ||
        json_object_set_new(root, "role", json_string(ifx_role_name(c->role))))
        goto nomem;
    for (size_t i = 0; i < IFX_CFG_NKEYS; i++) {
        const struct key_desc *k = &ifxi_config_keys[i];
        json_t *v;
        if (k->type == KT_VERSION || !(k->roles & (1u << c->role)) ||
            !(k->versions & (1u << c->version)))
            continue;
        v = value_json(c, k, &nomem);
        if (nomem)
            goto nomem;
        if (v && json_object_set_new(root, k->name, v))
            goto nomem;
    }
    *out = json_dumps(root, JSON_INDENT(2));
    if (!*out)
        goto nomem;
    goto out;
nomem:
    rc = ifx_err_set(err, IFX_E_NOMEM, "out of memory while writing the configuration");
out:
    json_decref(root);
    return rc;
}

static const char *type_words(const struct key_desc *k)
{
    switch (k->type) {
    case KT_VERSION:
        return "string: v1, v2, v3, auto";
    case KT_STRING:
        return "string";
    case KT_SECRET:
        return "string (secret)";
    case KT_BOOL:
        return "boolean";
    case KT_U32:
        return "integer";
    case KT_SIZE:
        return "size";
    case KT_DURATION:
        return "duration";
    case KT_PRECISION:
        return "string: ns, us, ms, s";
    case KT_ENUM:
        return "string";
    case KT_STRING_LIST:
        return "array of strings";
    case KT_STRING_MAP:
        return "object of strings";
    case KT_RFC3339:
        return "RFC 3339 time";
    }
    return "";
}

ifx_rc ifx_config_reference_markdown(char **out, ifx_err *err)
{
    ifx_buf b;
    char vers[64], lo[IFX_DURATION_MAX], hi[IFX_DURATION_MAX];

    ifx_buf_init(&b, 1 << 20);
    ifx_buf_puts(&b, "# Configuration reference\n\n"
                     "Every key of the JSON object the Iggy runtime passes as `[plugin_config]` "
                     "(and that `ifx` commands read with `-c`). Generated from the key table in "
                     "`src/config/config.c` by `ifx check --reference`; a test fails when this "
                     "file and the code differ.\n\n"
                     "| key | for | versions | type | default | meaning |\n"
                     "| --- | --- | --- | --- | --- | --- |\n");
    for (size_t i = 0; i < IFX_CFG_NKEYS; i++) {
        const struct key_desc *k = &ifxi_config_keys[i];
        const char *for_ = k->roles == FOR_BOTH   ? "sink, source"
                           : k->roles == FOR_SINK ? "sink"
                                                  : "source";
        if ((k->versions & (V_1 | V_2 | V_3)) == (V_1 | V_2 | V_3))
            snprintf(vers, sizeof vers, "all");
        else
            ifxi_config_version_list(k->versions, vers, sizeof vers);
        ifx_buf_printf(&b, "| `%s`%s%s%s | %s | %s | %s", k->name, k->alias ? " (or `" : "",
                       k->alias ? k->alias : "", k->alias ? "`)" : "", for_, vers, type_words(k));
        if (k->type == KT_ENUM) {
            ifx_buf_puts(&b, ":");
            for (const struct enum_name *e = k->enums; e->name; e++)
                ifx_buf_printf(&b, "%s %s", e == k->enums ? "" : ",", e->name);
        } else if (k->type == KT_U32) {
            ifx_buf_printf(&b, ", %llu to %llu", (unsigned long long)k->min,
                           (unsigned long long)k->max);
        } else if (k->type == KT_SIZE) {
            ifxi_config_format_size(k->min, lo, sizeof lo);
            ifxi_config_format_size(k->max, hi, sizeof hi);
            ifx_buf_printf(&b, ", %s to %s", lo, hi);
        } else if (k->type == KT_DURATION) {
            ifx_duration_format(k->min, lo);
            ifx_duration_format(k->max, hi);
            ifx_buf_printf(&b, ", %s to %s", lo, hi);
        }
        ifx_buf_puts(&b, " | ");
        if (k->required)
            ifx_buf_puts(&b, k->required == V_ALL ? "required" : "required for ");
        if (k->required && k->required != V_ALL) {
            ifxi_config_version_list(k->required, vers, sizeof vers);
            ifx_buf_puts(&b, vers);
        } else if (!k->required && k->def) {
            switch (k->def_rule) {
            case DEF_SOURCE_ALT:
                ifx_buf_printf(&b, "`%s` (sink), `%s` (source)", k->def, k->def_alt);
                break;
            case DEF_V2_ELSE_ALT:
                ifx_buf_printf(&b, "`%s` (v2), `%s` (v1, v3)", k->def, k->def_alt);
                break;
            case DEF_SAME:
                ifx_buf_printf(&b, "`%s`", k->def);
            }
        } else if (!k->required) {
            ifx_buf_puts(&b, "none");
        }
        ifx_buf_printf(&b, " | %s |\n", k->doc ? k->doc : "");
    }
    ifx_buf_puts(&b,
                 "\nDurations are written like `\"500ms\"`, `\"30s\"`, `\"1m30s\"` (units ns, us, "
                 "ms, s, m, h, d, w). Unknown keys, keys of another version or role, bad "
                 "values and out-of-range numbers are refused with the key named; every "
                 "problem is listed at once. Secrets (`token`, `password`, a password in "
                 "`url`) never appear in any output.\n");
    if (b.len == 0 || !b.data) {
        ifx_buf_free(&b);
        return ifx_err_set(err, IFX_E_NOMEM, "out of memory");
    }
    *out = ifx_buf_detach(&b);
    return IFX_OK;
}
