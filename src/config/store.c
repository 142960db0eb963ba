/* ifx — storing configuration values: text and JSON values checked against their key's type and
 * range and stored at the key's place in ifx_config, the defaults, and the message for a refused
 * value.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "ifx/timeutil.h"

static bool name_is_ci(const char *s, size_t len, const char *name)
{
    size_t i;
    for (i = 0; i < len; i++) {
        if (name[i] == '\0' || ifxi_config_ascii_lower(s[i]) != name[i])
            return false;
    }
    return name[len] == '\0';
}

/* What a value of key k must be, for "key 'x' must be <this>, got y". */
static void expectation(const struct key_desc *k, char *out, size_t size)
{
    char lo[IFX_DURATION_MAX], hi[IFX_DURATION_MAX];

    switch (k->type) {
    case KT_VERSION:
        snprintf(out, size, "a string (\"v1\", \"v2\", \"v3\" or \"auto\")");
        return;
    case KT_STRING:
    case KT_SECRET:
        snprintf(out, size, "a string");
        return;
    case KT_BOOL:
        snprintf(out, size, "true or false");
        return;
    case KT_U32:
        snprintf(out, size, "an integer from %llu to %llu", (unsigned long long)k->min,
                 (unsigned long long)k->max);
        return;
    case KT_SIZE:
        ifxi_config_format_size(k->min, lo, sizeof lo);
        ifxi_config_format_size(k->max, hi, sizeof hi);
        snprintf(out, size, "a size such as \"512MiB\" or a number of bytes, from %s to %s", lo,
                 hi);
        return;
    case KT_DURATION:
        ifx_duration_format(k->min, lo);
        ifx_duration_format(k->max, hi);
        snprintf(out, size, "a duration string such as \"30s\", from %s to %s", lo, hi);
        return;
    case KT_PRECISION:
        snprintf(out, size, "one of \"ns\", \"us\", \"ms\", \"s\"");
        return;
    case KT_ENUM: {
        size_t n = (size_t)snprintf(out, size, "one of");
        for (const struct enum_name *e = k->enums; e->name && n < size; e++)
            n +=
                (size_t)snprintf(out + n, size - n, "%s \"%s\"", e == k->enums ? "" : ",", e->name);
        return;
    }
    case KT_RFC3339:
        snprintf(out, size, "an RFC 3339 timestamp string such as \"2024-01-01T00:00:00Z\"");
        return;
    case KT_STRING_LIST:
        snprintf(out, size, "an array of non-empty strings");
        return;
    case KT_STRING_MAP:
        snprintf(out, size, "an object whose values are non-empty strings");
        return;
    }
}

void ifxi_config_refuse_value(struct parse_ctx *p, const struct key_desc *k, const char *written,
                              const json_t *v)
{
    char want[256], got[SHOW_BUF];
    /* An array or object given as the url may hold the url itself, password and all. */
    bool hide = is_secret(k) ||
                (k->check == ifxi_config_check_url && (json_is_array(v) || json_is_object(v)));

    expectation(k, want, sizeof want);
    ifxi_config_show_value(v, hide, got);
    ifxi_config_problem(p, "key '%s' must be %s, got %s", written, want, got);
}

/* ---- storing values -------------------------------------------------------------------------- */

/* Parses text as a value of k's type and stores it. Used for defaults and for JSON strings.
 * IFX_E_INVALID: the text is not a value of that type (why says how, when not NULL). */
static const struct size_unit {
    const char *name;
    uint64_t bytes;
} size_units[] = {{"TiB", 1ULL << 40},      {"GiB", 1ULL << 30},
                  {"MiB", 1ULL << 20},      {"KiB", 1ULL << 10},
                  {"TB", 1000000000000ULL}, {"GB", 1000000000ULL},
                  {"MB", 1000000ULL},       {"KB", 1000ULL},
                  {"kB", 1000ULL},          {"B", 1}};

/* "1024", "512MiB", "10GB": digits, then optionally a unit of size_units. */
static bool parse_size(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0, mul = 1;
    size_t i = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(s[i++] - '0');
    }
    if (i == 0)
        return false;
    while (i < len && s[i] == ' ')
        i++;
    if (i < len) {
        const struct size_unit *u = NULL;
        for (size_t k = 0; k < sizeof size_units / sizeof size_units[0] && !u; k++)
            if (strlen(size_units[k].name) == len - i &&
                memcmp(size_units[k].name, s + i, len - i) == 0)
                u = &size_units[k];
        if (!u)
            return false;
        mul = u->bytes;
    }
    if (mul > 1 && v > UINT64_MAX / mul)
        return false;
    *out = v * mul;
    return true;
}

/* The largest unit that divides v exactly, binary first: "512MiB", "5MB", "1537B", "0". */
void ifxi_config_format_size(uint64_t v, char *out, size_t cap)
{
    for (size_t k = 0; k < 8; k++)
        if (v && v % size_units[k].bytes == 0) {
            snprintf(out, cap, "%llu%s", (unsigned long long)(v / size_units[k].bytes),
                     size_units[k].name);
            return;
        }
    snprintf(out, cap, v ? "%lluB" : "%llu", (unsigned long long)v);
}

static ifx_rc store_text(ifx_config *c, const struct key_desc *k, const char *s, size_t len,
                         ifx_err *why)
{
    char *copy;
    uint64_t d;
    int64_t t;
    char norm[IFX_RFC3339_MAX];

    switch (k->type) {
    case KT_STRING_LIST:
    case KT_STRING_MAP:
        return IFX_E_INVALID; /* never given as text; store_json reads them */
    case KT_VERSION:
        return ifx_version_parse(s, len, SLOT(ifx_version, c, k), why);
    case KT_STRING:
    case KT_SECRET:
        copy = strndup(s, len);
        if (!copy)
            return IFX_E_NOMEM;
        ifxi_config_free_string(str_slot(c, k), is_secret(k));
        *str_slot(c, k) = copy;
        return IFX_OK;
    case KT_BOOL:
        if (len == 4 && memcmp(s, "true", 4) == 0)
            *SLOT(bool, c, k) = true;
        else if (len == 5 && memcmp(s, "false", 5) == 0)
            *SLOT(bool, c, k) = false;
        else
            return IFX_E_INVALID;
        return IFX_OK;
    case KT_U32: {
        uint64_t v = 0;
        if (len == 0 || len > 10)
            return IFX_E_INVALID;
        for (size_t i = 0; i < len; i++) {
            if (s[i] < '0' || s[i] > '9')
                return IFX_E_INVALID;
            v = v * 10 + (uint64_t)(s[i] - '0');
        }
        if (v > UINT32_MAX)
            return IFX_E_INVALID;
        *SLOT(uint32_t, c, k) = (uint32_t)v;
        return IFX_OK;
    }
    case KT_SIZE:
        if (!parse_size(s, len, &d) || d < k->min || d > k->max)
            return IFX_E_INVALID;
        *SLOT(uint64_t, c, k) = d;
        return IFX_OK;
    case KT_DURATION:
        if (ifx_duration_parse(s, len, &d, why))
            return IFX_E_INVALID;
        *SLOT(uint64_t, c, k) = d;
        return IFX_OK;
    case KT_PRECISION:
        return ifx_precision_parse(s, len, SLOT(ifx_precision, c, k), why);
    case KT_ENUM:
        for (const struct enum_name *e = k->enums; e->name; e++) {
            if (name_is_ci(s, len, e->name)) {
                *SLOT(int, c, k) = e->value;
                return IFX_OK;
            }
        }
        return IFX_E_INVALID;
    case KT_RFC3339:
        if (ifx_time_parse_rfc3339(s, len, &t, why))
            return IFX_E_INVALID;
        /* Stored in one spelling (UTC, "Z") so that the cursor compares and substitutes the
         * same way whatever zone the user wrote. */
        ifx_time_format_rfc3339(t, norm);
        copy = strdup(norm);
        if (!copy)
            return IFX_E_NOMEM;
        ifxi_config_free_string(str_slot(c, k), false);
        *str_slot(c, k) = copy;
        *(int64_t *)(void *)((char *)c + k->aux_offset) = t;
        return IFX_OK;
    }
    return IFX_E_USAGE;
}

static const char *default_text(const struct key_desc *k, ifx_role role, ifx_version version)
{
    switch (k->def_rule) {
    case DEF_SOURCE_ALT:
        return role == IFX_ROLE_SOURCE ? k->def_alt : k->def;
    case DEF_V2_ELSE_ALT:
        return version == IFX_VERSION_V2 ? k->def : k->def_alt;
    case DEF_SAME:
        break;
    }
    return k->def;
}

/* Every key gets its default, whether or not it applies to the role, so that no field of a
 * parsed config is ever left unset. */
ifx_rc ifxi_config_set_defaults(ifx_config *c, ifx_role role, ifx_version version)
{
    for (size_t i = 0; i < IFX_CFG_NKEYS; i++) {
        const char *def = default_text(&ifxi_config_keys[i], role, version);
        ifx_rc rc;
        if (!def || ifxi_config_keys[i].type == KT_VERSION)
            continue;
        rc = store_text(c, &ifxi_config_keys[i], def, strlen(def), NULL);
        if (rc)
            return rc;
    }
    c->role = role;
    c->version = version;
    c->http.for_write = role == IFX_ROLE_SINK; /* the access check proves write access */
    return IFX_OK;
}

/* Checks the JSON type and range of v and stores it; any refusal becomes a problem. */
void ifxi_config_store_json(struct parse_ctx *p, const struct key_desc *k, const char *written,
                            const json_t *v)
{
    ifx_err why;
    ifx_rc rc;
    char got[SHOW_BUF], lo[IFX_DURATION_MAX], hi[IFX_DURATION_MAX];

    ifx_err_clear(&why);
    switch (k->type) {
    case KT_BOOL:
        if (!json_is_boolean(v))
            goto wrong;
        *SLOT(bool, p->c, k) = json_is_true(v);
        break;
    case KT_STRING_LIST: {
        ifx_strlist *l = SLOT(ifx_strlist, p->c, k);
        size_t i;
        json_t *item;
        if (!json_is_array(v))
            goto wrong;
        json_array_foreach(v, i,
                           item) if (!json_is_string(item) || !json_string_length(item)) goto wrong;
        ifxi_config_strlist_free(l);
        l->items = calloc(json_array_size(v) + 1, sizeof *l->items);
        if (!l->items) {
            p->nomem = true;
            return;
        }
        json_array_foreach(v, i, item)
        {
            if (!(l->items[l->n] = strdup(json_string_value(item)))) {
                p->nomem = true;
                return;
            }
            l->n++;
        }
        break;
    }
    case KT_STRING_MAP: {
        ifx_strmap *m = SLOT(ifx_strmap, p->c, k);
        const char *key;
        json_t *val;
        if (!json_is_object(v))
            goto wrong;
        json_object_foreach((json_t *)v, key, val) if (!json_is_string(val) ||
                                                       !json_string_length(val) ||
                                                       !*key) goto wrong;
        ifxi_config_strmap_free(m);
        m->keys = calloc(json_object_size(v) + 1, sizeof *m->keys);
        m->values = calloc(json_object_size(v) + 1, sizeof *m->values);
        if (!m->keys || !m->values) {
            p->nomem = true;
            return;
        }
        json_object_foreach((json_t *)v, key, val)
        {
            m->keys[m->n] = strdup(key);
            m->values[m->n] = strdup(json_string_value(val));
            m->n++;
            if (!m->keys[m->n - 1] || !m->values[m->n - 1]) {
                p->nomem = true;
                return;
            }
        }
        break;
    }
    case KT_U32:
        if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)k->min ||
            json_integer_value(v) > (json_int_t)k->max)
            goto wrong;
        *SLOT(uint32_t, p->c, k) = (uint32_t)json_integer_value(v);
        break;
    case KT_SIZE:
        if (json_is_integer(v)) {
            if (json_integer_value(v) < (json_int_t)k->min ||
                (uint64_t)json_integer_value(v) > k->max)
                goto wrong;
            *SLOT(uint64_t, p->c, k) = (uint64_t)json_integer_value(v);
        } else if (!json_is_string(v) || store_text(p->c, k, json_string_value(v),
                                                    json_string_length(v), &why) != IFX_OK) {
            goto wrong;
        }
        break;
    default:
        if (!json_is_string(v))
            goto wrong;
        rc = store_text(p->c, k, json_string_value(v), json_string_length(v), &why);
        if (rc == IFX_E_NOMEM) {
            p->nomem = true;
            return;
        }
        if (rc) {
            /* The sub-parsers' messages quote the value; repeat them only for keys whose
             * value they explain better than the list of allowed values would. */
            if (k->type == KT_DURATION || k->type == KT_RFC3339)
                ifxi_config_problem(p, "key '%s' has an %s", written, why.msg);
            else if (k->type == KT_VERSION)
                goto bad_version;
            else
                goto wrong;
            return;
        }
        if (k->type == KT_DURATION) {
            uint64_t d = *SLOT(uint64_t, p->c, k);
            if (d < k->min || d > k->max) {
                ifx_duration_format(k->min, lo);
                ifx_duration_format(k->max, hi);
                ifxi_config_show_value(v, false, got);
                ifxi_config_problem(p, "key '%s' must be from %s to %s, got %s", written, lo, hi,
                                    got);
                return;
            }
        }
        break;
    }
    if (k->check)
        k->check(p, k, written);
    return;
wrong:
    ifxi_config_refuse_value(p, k, written, v);
    return;
bad_version:
    ifxi_config_show_value(v, false, got);
    ifxi_config_problem(p, "key '%s' must be \"v1\", \"v2\", \"v3\" or \"auto\", got %s", written,
                        got);
}
