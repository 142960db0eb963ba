/* ifx — what the files of the configuration module share (internal header): the key table's
 * types and the table itself (keys.c), the parse context, and the helpers one file defines for
 * the others. Files: keys.c (the table), parse.c (reading, problems), store.c (values, defaults),
 * validate.c (checks beyond type and range), suggest.c (unknown keys), show.c (messages, JSON
 * output, redaction, the reference), config.c (names, free, copy).
 */
#ifndef IFX_CONFIG_INTERNAL_H
#define IFX_CONFIG_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ifx/config.h"
#include "ifx/lp.h"

/* Values and key names quoted in messages are cut to about this many bytes. */
#define SHOW_MAX 40
/* Room for a shown value: SHOW_MAX bytes, "...", quotes, a cut query marker and the NUL. */
#define SHOW_BUF (IFX_EXCERPT_SIZE(SHOW_MAX) + 16)

/* Unknown keys longer than this get no suggestion (and the distance table stays small). */
#define SUGGEST_MAX_LEN 64

enum key_type {
    KT_VERSION,     /* "v1", "v2", "v3" or "auto" */
    KT_STRING,      /* char * */
    KT_SECRET,      /* char *, never shown */
    KT_BOOL,        /* bool */
    KT_U32,         /* uint32_t within min..max */
    KT_DURATION,    /* uint64_t nanoseconds within min..max, written as "30s" */
    KT_SIZE,        /* uint64_t bytes within min..max: an integer, or a string "512MiB", "1GB" */
    KT_PRECISION,   /* ifx_precision */
    KT_ENUM,        /* an enum, named by the key's enums table */
    KT_STRING_LIST, /* ifx_strlist: a JSON array of strings */
    KT_STRING_MAP,  /* ifx_strmap: a JSON object of strings */
    KT_RFC3339      /* char * (normalised to UTC) plus int64_t nanoseconds at aux_offset */
};

/* Masks of the roles and versions a key applies to. */
#define FOR_SINK   (1u << IFX_ROLE_SINK)
#define FOR_SOURCE (1u << IFX_ROLE_SOURCE)
#define FOR_BOTH   (FOR_SINK | FOR_SOURCE)
#define V_1        (1u << IFX_VERSION_V1)
#define V_2        (1u << IFX_VERSION_V2)
#define V_3        (1u << IFX_VERSION_V3)
#define V_AUTO     (1u << IFX_VERSION_AUTO)
/* "auto" accepts the keys of every version: the server decides which ones are used. */
#define V_ALL (V_1 | V_2 | V_3 | V_AUTO)

/* Defaults that are not the same everywhere. */
enum default_rule {
    DEF_SAME,        /* def everywhere */
    DEF_SOURCE_ALT,  /* def for the sink, def_alt for the source */
    DEF_V2_ELSE_ALT, /* def for v2, def_alt for every other version */
};

struct parse_ctx;
struct key_desc;

/* Further checks of a value already stored in the config. `written` is the key name as it
 * appears in the input (an alias stays an alias in messages). */
typedef void (*check_fn)(struct parse_ctx *p, const struct key_desc *k, const char *written);

/* A name of an enum value. Several names may give one value; the first is the canonical one. */
struct enum_name {
    const char *name;
    int value;
};

struct key_desc {
    const char *name;
    const char *alias; /* a second accepted name, or NULL */
    enum key_type type;
    size_t offset;     /* of the value in ifx_config */
    size_t aux_offset; /* KT_RFC3339: of the parsed nanoseconds */
    unsigned roles;    /* FOR_* */
    unsigned versions; /* V_*: where the key may appear */
    unsigned required; /* V_*: where the key must appear (for the roles it applies to) */
    uint64_t min, max; /* KT_U32, KT_DURATION and KT_SIZE */
    const char *def;   /* the default as the user would write it, or NULL (none) */
    enum default_rule def_rule;
    const char *def_alt;
    check_fn check;
    const struct enum_name *enums; /* KT_ENUM: names, ending with {NULL, 0} */
    const char *doc;               /* one line for docs/configuration.md */
};

/* Durations in the table and the checks are nanoseconds. */
#define MS   1000000ULL
#define SEC  1000000000ULL
#define HOUR (3600ULL * SEC)

/* The key table, in the order of ifx_config_to_json and of the documentation (keys.c). Its rows
 * are counted here so that the parse context can size its arrays; keys.c checks the count. */
#define IFX_CFG_NKEYS 61
extern const struct key_desc ifxi_config_keys[];

struct parse_ctx {
    ifx_config *c;
    ifx_problems found;
    bool nomem;
    bool version_known; /* false after an invalid "version": version rules are then skipped */
    bool given[IFX_CFG_NKEYS]; /* a non-null value appeared under the key's name */
    bool alias_given[IFX_CFG_NKEYS];
};

/* Where key k's value lives in c. */
static inline char **str_slot(ifx_config *c, const struct key_desc *k)
{
    return (char **)(void *)((char *)c + k->offset);
}

static inline char *const *str_slot_c(const ifx_config *c, const struct key_desc *k)
{
    return (char *const *)(const void *)((const char *)c + k->offset);
}

#define SLOT(type, c, k)   ((type *)(void *)((char *)(c) + (k)->offset))
#define SLOT_C(type, c, k) ((const type *)(const void *)((const char *)(c) + (k)->offset))

static inline bool is_secret(const struct key_desc *k)
{
    return k->type == KT_SECRET;
}

static inline char ifxi_config_ascii_lower(char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/* ---- parse.c */

/* Records one problem; a failed allocation sets p->nomem instead. */
void ifxi_config_problem(struct parse_ctx *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- store.c */

/* Every key gets its default, whether or not it applies to the role, so that no field of a
 * parsed config is ever left unset. */
ifx_rc ifxi_config_set_defaults(ifx_config *c, ifx_role role, ifx_version version);
/* Checks the JSON type and range of v and stores it; any refusal becomes a problem. */
void ifxi_config_store_json(struct parse_ctx *p, const struct key_desc *k, const char *written,
                            const json_t *v);
/* The problem "key 'x' must be <what k takes>, got <v>". */
void ifxi_config_refuse_value(struct parse_ctx *p, const struct key_desc *k, const char *written,
                              const json_t *v);
/* The largest unit that divides v exactly, binary first: "512MiB", "5MB", "1537B", "0". */
void ifxi_config_format_size(uint64_t v, char *out, size_t cap);

/* ---- validate.c: the table's check functions */

void ifxi_config_check_url(struct parse_ctx *p, const struct key_desc *k, const char *written);
void ifxi_config_check_token(struct parse_ctx *p, const struct key_desc *k, const char *written);
void ifxi_config_check_credential(struct parse_ctx *p, const struct key_desc *k,
                                  const char *written);
void ifxi_config_check_not_blank(struct parse_ctx *p, const struct key_desc *k,
                                 const char *written);
void ifxi_config_check_measurement(struct parse_ctx *p, const struct key_desc *k,
                                   const char *written);
void ifxi_config_check_cursor_field(struct parse_ctx *p, const struct key_desc *k,
                                    const char *written);
void ifxi_config_check_payload_column(struct parse_ctx *p, const struct key_desc *k,
                                      const char *written);
void ifxi_config_check_stuck_cap(struct parse_ctx *p, const struct key_desc *k,
                                 const char *written);
void ifxi_config_check_query_window(struct parse_ctx *p, const struct key_desc *k,
                                    const char *written);

/* ---- suggest.c */

/* The problem "unknown key 'x'", with "did you mean 'y'?" when a known key is close. */
void ifxi_config_unknown_key(struct parse_ctx *p, const char *name);

/* ---- show.c */

/* s cut to SHOW_MAX bytes for a message; out holds IFX_EXCERPT_SIZE(SHOW_MAX) bytes. */
void ifxi_config_show_text(const char *s, size_t len, char *out);
/* "an object", "a string", ...: what a JSON value is, for messages. */
const char *ifxi_config_json_kind(const json_t *v);
/* How a value appears after "got": its JSON text, cut to SHOW_MAX bytes, or only its kind for a
 * secret. out holds IFX_EXCERPT_SIZE(SHOW_MAX) bytes. */
void ifxi_config_show_value(const json_t *v, bool secret, char *out);
/* Like ifxi_config_show_value for a url string (out holds SHOW_BUF bytes), redacted. */
void ifxi_config_show_url(const char *url, char *out);
/* "v2", "v1 and v3", "v1, v2 and v3": the versions of a mask, "auto" left out. */
void ifxi_config_version_list(unsigned mask, char *out, size_t size);

/* ---- config.c */

/* Frees a string slot (wiping a secret first) and sets it to NULL. */
void ifxi_config_free_string(char **slot, bool secret);
void ifxi_config_strlist_free(ifx_strlist *l);
void ifxi_config_strmap_free(ifx_strmap *m);

#endif
