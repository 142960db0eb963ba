/* ifx — one configuration for every InfluxDB version, sink and source.
 *
 * Parsed from the JSON object the Iggy runtime hands a plugin as [plugin_config] (compact JSON,
 * or the 4 bytes "null" when the table is absent). Every key of the upstream Rust connectors is
 * accepted with the same meaning and default, so existing connector configurations keep working;
 * unlike upstream, a malformed value is an error naming the key and the value, an unknown key is
 * an error naming the closest valid key, and out-of-range values are refused with the range.
 *
 * Ownership: ifx_config owns every string in it; ifx_config_free releases them.
 * Thread safety: a parsed config is read-only and may be shared between threads.
 */
#ifndef IFX_CONFIG_H
#define IFX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ifx/export.h"
#include "ifx/error.h"
#include "ifx/log.h"
#include "ifx/transport_options.h"
#include "ifx/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ifx_role {
    IFX_ROLE_DETECT = 0, /* for parsing only: a source if the object has "query", else a sink */
    IFX_ROLE_SINK = 1,
    IFX_ROLE_SOURCE = 2
} ifx_role;

typedef enum ifx_payload_format {
    IFX_PAYLOAD_JSON = 0,   /* "json": the payload as one compact JSON string field */
    IFX_PAYLOAD_TEXT,       /* "text" or "utf8" */
    IFX_PAYLOAD_BASE64,     /* "base64" or "raw" */
    IFX_PAYLOAD_JSON_FIELDS /* "json_fields" (sink): a JSON object payload as typed fields */
} ifx_payload_format;

typedef enum ifx_timestamp_source {
    IFX_TS_IGGY = 0, /* sink "iggy": the server's append time (upstream) */
    IFX_TS_ORIGIN,   /* sink "origin": the producer's time */
    IFX_TS_PAYLOAD,  /* sink "payload": a field of a JSON payload (timestamp_field) */
    IFX_TS_ROW,      /* source "row": the row's time (default) */
    IFX_TS_POLL      /* source "poll": the time of the poll (upstream) */
} ifx_timestamp_source;

typedef enum ifx_offset_as {
    IFX_OFFSET_TAG = 0, /* "tag": upstream's layout, one series per message */
    IFX_OFFSET_FIELD    /* "field": an iggy_offset field; points stay unique by timestamp */
} ifx_offset_as;

/* A list of strings (owned). */
typedef struct ifx_strlist {
    char **items;
    size_t n;
} ifx_strlist;

/* Ordered key/value strings (owned). */
typedef struct ifx_strmap {
    char **keys;
    char **values;
    size_t n;
} ifx_strmap;

typedef enum ifx_query_language {
    IFX_QUERY_LANGUAGE_SQL = 0, /* "sql" */
    IFX_QUERY_LANGUAGE_INFLUXQL /* "influxql" */
} ifx_query_language;

typedef struct ifx_config {
    ifx_role role;
    ifx_version version; /* "version"; absent means v2 */

    /* connection, auth, HTTP and v3 write flags: what the transport takes (ifx_client_new).
     * The keys url, token, org, bucket, db, retention_policy, username, password, timeout, gzip,
     * gzip_threshold, tls_*, ignore_proxy_env, accept_partial, no_sync and write_endpoint store
     * here; for_write follows role. Required: url; org and token for v2, bucket for a v2 sink
     * (a v2 source names its bucket in the Flux query), db for v1 and v3 ("database" is an
     * alias). Defaults: timeout 30s for the sink, 10s for the source; gzip true, gzip_threshold
     * 1024; tls_insecure_skip_verify and ignore_proxy_env false; accept_partial true, no_sync
     * false, write_endpoint native. */
    ifx_transport_options http;

    /* sink */
    char *measurement;       /* default "iggy_messages"; validated as a line-protocol measurement */
    ifx_precision precision; /* default us */
    bool precision_given;    /* "precision" was set (file, --set or environment): `ifx write`
                                reads line protocol in ns unless it was */
    uint32_t batch_size;     /* sink and source; default 500; 1..100000 */
    bool include_metadata;   /* default true (sink and source) */
    bool include_checksum;   /* default true */
    bool include_origin_timestamp;     /* default true */
    bool include_stream_tag;           /* default true */
    bool include_topic_tag;            /* default true */
    bool include_partition_tag;        /* default true */
    ifx_payload_format payload_format; /* sink and source; default json */
    ifx_strlist tag_keys;              /* sink, json_fields: payload keys that become tags */
    ifx_strlist field_keys; /* sink, json_fields: only these payload keys become fields */
    bool json_integers;     /* sink, json_fields: integer literals as integers; default false */
    ifx_timestamp_source timestamp_source; /* sink; default iggy */
    char *timestamp_field;                 /* sink; the payload key of timestamp_source "payload" */
    ifx_precision timestamp_unit; /* sink; unit of a numeric payload timestamp; default ms */
    ifx_offset_as offset_as;      /* sink; default tag */
    ifx_strmap default_tags;      /* sink; static tags on every line */
    uint32_t max_batch_bytes;     /* sink; default 8 MiB */
    char *dead_letter_file;       /* sink; JSONL file of rejected messages; NULL: log them */
    char *spool_dir;              /* sink; durable queue of pending batches; NULL: backpressure */
    uint64_t spool_max_size;      /* sink; bytes the spool may hold; 0: no limit */
    uint64_t stats_interval_ns;   /* sink and source; default 60s; 0: only at close */

    /* source */
    char *query;                     /* required for a source */
    uint64_t poll_interval_ns;       /* default 5s */
    uint64_t query_window_ns;        /* default 0 (off); else 1s..3650d: $cursor_end = the
                                        cursor time + this */
    char *cursor_field;              /* default "_time" for v2, "time" for v1 and v3 */
    char *initial_offset;            /* RFC 3339 with zone, stored normalised to UTC ("...Z");
                                        NULL means 1970-01-01T00:00:00Z */
    int64_t initial_offset_ns;       /* parsed initial_offset (0 when NULL) */
    char *payload_column;            /* NULL when not set; "" is refused */
    uint32_t stuck_batch_cap_factor; /* default 10; 0 or 2..100 (every version) */

    /* shared */
    bool verbose_logging;                  /* default false */
    ifx_log_format log_format;             /* default text */
    uint32_t max_retries;                  /* total attempts per request; default 3; 1..100 */
    uint64_t retry_delay_ns;               /* default 1s */
    uint32_t max_open_retries;             /* default 10; 1..1000 */
    uint64_t open_retry_max_delay_ns;      /* default 60s */
    uint64_t retry_max_delay_ns;           /* default 5s */
    uint32_t circuit_breaker_threshold;    /* default 5; 1..10000 */
    uint64_t circuit_breaker_cool_down_ns; /* default 30s */
    uint64_t retry_after_max_ns;           /* default 60s; 0..24h */

    /* v3 */
    ifx_query_language query_language; /* source; default sql */
} ifx_config;

/* Every problem found while parsing, one message per line, in input order. Caller-owned. */
typedef struct ifx_problems {
    char **items;
    size_t count;
} ifx_problems;

IFX_EXTERN void ifx_problems_free(ifx_problems *p);

/* Fills c with the defaults for role (SINK or SOURCE) and version v2. Allocates only the
 * default strings; free with ifx_config_free. Every field gets its default, including those of
 * keys that do not apply to the role (a source still has measurement "iggy_messages"). */
IFX_EXTERN ifx_rc ifx_config_init(ifx_config *c, ifx_role role, ifx_err *err);

/* Parses a JSON object (or "null", meaning {}) into c, which it initialises itself: do not call
 * ifx_config_init first. role may be IFX_ROLE_DETECT. Checks every key and every cross-key rule
 * (required keys per version and role). On failure returns IFX_E_CONFIG, err->msg holds the first
 * problem (with "(and N more)" when there are several), problems (when not NULL) receives all of
 * them, and c is left freed (safe to pass to ifx_config_free again). Secret values never appear in
 * messages. *problems is overwritten, not appended to (it is empty after a success); the caller
 * frees it with ifx_problems_free. IFX_E_NOMEM and IFX_E_USAGE (bad arguments) leave it empty.
 * With version "auto", only url (and query for a source) are required here: the keys a version
 * needs can only be checked once the server has said which version it is. */
IFX_EXTERN ifx_rc ifx_config_parse_json(ifx_config *c, ifx_role role, const char *json, size_t len,
                                        ifx_problems *problems, ifx_err *err);

/* Writes the normalised configuration as a pretty JSON object into *out (caller frees with
 * free()): 2-space indent, no trailing newline, "version" and "role" first, then every key in a
 * fixed order with its effective value, durations as strings ("30s"), optional strings that are
 * not set as null, keys that do not apply to the role or version left out, and every secret
 * (token, password, and a password inside the url) replaced by "***" (left out when not set).
 * "role" is informative: it is not an input key. IFX_E_USAGE when c has no role (not parsed or
 * initialised). */
IFX_EXTERN ifx_rc ifx_config_to_json(const ifx_config *c, char **out, ifx_err *err);

/* Makes dst an independent deep copy of src (free it with ifx_config_free). */
IFX_EXTERN ifx_rc ifx_config_copy(ifx_config *dst, const ifx_config *src, ifx_err *err);

/* Releases every string of c and zeroes it. Safe on a zeroed or already-freed config. */
IFX_EXTERN void ifx_config_free(ifx_config *c);

/* Writes the reference of every configuration key as Markdown (the configuration reference
 * shipped with ifx is this text, so that it cannot drift from the code). Caller frees *out. */
IFX_EXTERN ifx_rc ifx_config_reference_markdown(char **out, ifx_err *err);

/* ---- configuration files -------------------------------------------------------------------
 *
 * A file given to ifx is one of:
 *   - an Iggy connector definition (TOML, or the same tree as JSON): top-level "type" ("sink" or
 *     "source"), "key", "enabled", "version", "name", "path", [[streams]] and [plugin_config]
 *     (the Iggy connectors runtime's connector file); the plugin keys are its [plugin_config];
 *   - a plain table of plugin keys, as TOML or as the JSON object the runtime hands a plugin.
 * A document that starts with '{' (after whitespace) is JSON, any other TOML. A document with a
 * top-level "type" or "plugin_config" is a connector definition.
 *
 * Overrides are applied to the plugin keys before they are parsed, as the runtime applies them:
 * IGGY_CONNECTORS_{SINK|SOURCE}_{KEY}_PLUGIN_CONFIG_{FIELD} (KEY the connector key upper-cased,
 * FIELD lower-cased into the top-level key), valued the runtime's way: true/false a boolean; an
 * unsigned, signed or decimal number a number; "[a,b]" an array of such values; anything else
 * a string. --set key=value values the same way, and also takes any JSON value ('"007"' for a
 * string of digits, '{"env":"prod"}' for a table). */
typedef struct ifx_config_doc {
    bool connector_file; /* a connector definition (else a plain table of plugin keys) */
    bool disabled;       /* a connector definition with enabled = false (the runtime skips it) */
    ifx_role role;       /* its "type"; IFX_ROLE_DETECT for a plain table */
    char *key;           /* its "key"; NULL for a plain table */
    char *plugin_config; /* the plugin keys as a compact JSON object (owned) */
    ifx_strlist applied; /* "url (from IGGY_CONNECTORS_SINK_X_PLUGIN_CONFIG_URL)", ... */
} ifx_config_doc;

/* Reads a configuration document (TOML or JSON; see above). Connector definitions are checked as
 * the runtime would check them (type, key, enabled, version, name, path, [[streams]]), every
 * problem to problems (may be NULL). IFX_E_CONFIG for a document that does not parse or is not a
 * valid connector definition: err->msg holds the first problem ("line L, column C: ..." for
 * TOML); IFX_E_NOMEM. On failure doc is left freed. Borrows text for the call. */
IFX_EXTERN ifx_rc ifx_config_doc_read(const char *text, size_t len, ifx_config_doc *doc,
                                      ifx_problems *problems, ifx_err *err);

/* Applies the runtime's environment overrides found in envp (a NULL-terminated "NAME=value"
 * array, like environ) to a connector definition's plugin keys; a plain table has no key, so
 * nothing applies to it. Each applied override is added to doc->applied. */
IFX_EXTERN ifx_rc ifx_config_doc_apply_env(ifx_config_doc *doc, char *const *envp, ifx_err *err);

/* Applies one "key=value" assignment (the --set option) to the top-level plugin keys.
 * IFX_E_USAGE when it has no '=' or an empty key. */
IFX_EXTERN ifx_rc ifx_config_doc_set(ifx_config_doc *doc, const char *assignment, ifx_err *err);

/* Releases everything doc owns and zeroes it. Safe on a zeroed or freed doc. */
IFX_EXTERN void ifx_config_doc_free(ifx_config_doc *doc);

/* "sink" or "source". */
IFX_EXTERN const char *ifx_role_name(ifx_role r);

/* url as it may be printed (log lines, error messages, command output): the password of its
 * userinfo replaced by "***", and a query string or fragment cut to "?..." or "#..." (1.x servers
 * also take credentials as ?u=&p=). Every URL ifx prints goes through this one function.
 * Borrows url; the caller frees the result; NULL only when malloc fails. */
IFX_EXTERN char *ifx_url_redacted(const char *url);

/* "json", "text" or "base64". */
IFX_EXTERN const char *ifx_payload_format_name(ifx_payload_format f);

#ifdef __cplusplus
}
#endif
#endif
