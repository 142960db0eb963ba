/* ifx — one configuration for every InfluxDB version (see include/ifx/config.h).
 *
 * Every key is described once, in the table `keys` below: its type, where it lives in ifx_config,
 * which connector and which InfluxDB versions it applies to, its range and default, and a
 * one-line description. Parsing, range checks, defaults and the normalised output are generic
 * code driven by that table, so adding a key means adding one row (plus a check function when
 * its value needs more than a type and a range).
 */
#include "ifx/config.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/problems.h"
#include "ifx/buf.h"
#include "ifx/lp.h"
#include "ifx/timeutil.h"

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

static const struct enum_name payload_formats[] = {{"json", IFX_PAYLOAD_JSON},
                                                   {"text", IFX_PAYLOAD_TEXT},
                                                   {"utf8", IFX_PAYLOAD_TEXT},
                                                   {"base64", IFX_PAYLOAD_BASE64},
                                                   {"raw", IFX_PAYLOAD_BASE64},
                                                   {"json_fields", IFX_PAYLOAD_JSON_FIELDS},
                                                   {NULL, 0}};
static const struct enum_name timestamp_sources[] = {
    {"iggy", IFX_TS_IGGY}, {"origin", IFX_TS_ORIGIN}, {"payload", IFX_TS_PAYLOAD},
    {"row", IFX_TS_ROW},   {"poll", IFX_TS_POLL},     {NULL, 0}};
static const struct enum_name offset_as_names[] = {
    {"tag", IFX_OFFSET_TAG}, {"field", IFX_OFFSET_FIELD}, {NULL, 0}};
static const struct enum_name write_endpoints[] = {
    {"native", IFX_WRITE_ENDPOINT_NATIVE}, {"v2_compat", IFX_WRITE_ENDPOINT_V2_COMPAT}, {NULL, 0}};
static const struct enum_name log_formats[] = {
    {"text", IFX_LOG_FORMAT_TEXT}, {"json", IFX_LOG_FORMAT_JSON}, {NULL, 0}};
static const struct enum_name query_languages[] = {
    {"sql", IFX_QUERY_LANGUAGE_SQL}, {"influxql", IFX_QUERY_LANGUAGE_INFLUXQL}, {NULL, 0}};

#define OFF(field) offsetof(ifx_config, field)
#define MS         1000000ULL
#define SEC        1000000000ULL
#define HOUR       (3600ULL * SEC)

static void format_size(uint64_t v, char *out, size_t cap);
static void check_url(struct parse_ctx *p, const struct key_desc *k, const char *written);
static void check_token(struct parse_ctx *p, const struct key_desc *k, const char *written);
static void check_credential(struct parse_ctx *p, const struct key_desc *k, const char *written);
static void check_not_blank(struct parse_ctx *p, const struct key_desc *k, const char *written);
static void check_measurement(struct parse_ctx *p, const struct key_desc *k, const char *written);
static void check_cursor_field(struct parse_ctx *p, const struct key_desc *k, const char *written);
static void check_payload_column(struct parse_ctx *p, const struct key_desc *k,
                                 const char *written);
static void check_stuck_cap(struct parse_ctx *p, const struct key_desc *k, const char *written);
static void check_query_window(struct parse_ctx *p, const struct key_desc *k, const char *written);

/* The order of this table is the order of ifx_config_to_json and of the documentation. */
static const struct key_desc keys[] = {
    {.name = "version",
     .type = KT_VERSION,
     .offset = OFF(version),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .def = "v2",
     .doc = "InfluxDB generation: \"v1\", \"v2\", \"v3\", or \"auto\" to ask the server"},
    {.name = "url",
     .type = KT_STRING,
     .offset = OFF(http.url),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .required = V_ALL,
     .check = check_url,
     .doc = "base URL of the server, http:// or https://, without query string"},
    {.name = "token",
     .type = KT_SECRET,
     .offset = OFF(http.token),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .required = V_2,
     .check = check_token,
     .doc = "API token (v2, v3); for v1, the password"},
    {.name = "org",
     .type = KT_STRING,
     .offset = OFF(http.org),
     .roles = FOR_BOTH,
     .versions = V_2 | V_AUTO,
     .required = V_2,
     .check = check_not_blank,
     .doc = "organization name or ID"},
    {.name = "bucket",
     .type = KT_STRING,
     .offset = OFF(http.bucket),
     .roles = FOR_SINK,
     .versions = V_2 | V_AUTO,
     .required = V_2,
     .check = check_not_blank,
     .doc = "bucket written to (a source names its bucket in the Flux query)"},
    {.name = "db",
     .alias = "database",
     .type = KT_STRING,
     .offset = OFF(http.db),
     .roles = FOR_BOTH,
     .versions = V_1 | V_3 | V_AUTO,
     .required = V_1 | V_3,
     .check = check_not_blank,
     .doc = "database name"},
    {.name = "retention_policy",
     .type = KT_STRING,
     .offset = OFF(http.retention_policy),
     .roles = FOR_BOTH,
     .versions = V_1 | V_AUTO,
     .doc = "retention policy; the database's default when not set"},
    {.name = "username",
     .type = KT_STRING,
     .offset = OFF(http.username),
     .roles = FOR_BOTH,
     .versions = V_1 | V_AUTO,
     .check = check_credential,
     .doc = "user name for basic authentication"},
    {.name = "password",
     .type = KT_SECRET,
     .offset = OFF(http.password),
     .roles = FOR_BOTH,
     .versions = V_1 | V_AUTO,
     .check = check_credential,
     .doc = "password for basic authentication"},
    {.name = "measurement",
     .type = KT_STRING,
     .offset = OFF(measurement),
     .roles = FOR_SINK,
     .versions = V_ALL,
     .def = "iggy_messages",
     .check = check_measurement,
     .doc = "measurement of every line written"},
    {.name = "precision",
     .type = KT_PRECISION,
     .offset = OFF(precision),
     .roles = FOR_SINK,
     .versions = V_ALL,
     .def = "us",
     .doc = "timestamp precision of the lines written: \"ns\", \"us\", \"ms\" or \"s\""},
    {.name = "query",
     .type = KT_STRING,
     .offset = OFF(query),
     .roles = FOR_SOURCE,
     .versions = V_ALL,
     .required = V_ALL,
     .check = check_not_blank,
     .doc = "query template (InfluxQL, Flux or SQL) with the $cursor placeholder"},
    {.name = "poll_interval",
     .type = KT_DURATION,
     .offset = OFF(poll_interval_ns),
     .roles = FOR_SOURCE,
     .versions = V_ALL,
     .min = MS,
     .max = 24 * HOUR,
     .def = "5s",
     .doc = "pause after an answer that was not full (a full answer, or a finished query_window, "
            "is followed by the next query at once)"},
    {.name = "query_window",
     .type = KT_DURATION,
     .offset = OFF(query_window_ns),
     .roles = FOR_SOURCE,
     .versions = V_ALL,
     .min = 0,
     .max = 3650 * 24 * HOUR,
     .def = "0s",
     .check = check_query_window,
     .doc = "upper time bound of each query, \"0s\" (none, as upstream) or at least 1s: "
            "$cursor_end is the cursor time plus this, and the query must read only the rows "
            "before it (AND time < '$cursor_end', or range(stop: time(v: \"$cursor_end\"))); "
            "once a window's end has passed and its rows are delivered, the next window is read "
            "at once"},
    {.name = "cursor_field",
     .type = KT_STRING,
     .offset = OFF(cursor_field),
     .roles = FOR_SOURCE,
     .versions = V_ALL,
     .def = "_time",
     .def_rule = DEF_V2_ELSE_ALT,
     .def_alt = "time",
     .check = check_cursor_field,
     .doc = "column holding the timestamp that the cursor tracks"},
    {.name = "initial_offset",
     .type = KT_RFC3339,
     .offset = OFF(initial_offset),
     .aux_offset = OFF(initial_offset_ns),
     .roles = FOR_SOURCE,
     .versions = V_ALL,
     .doc = "first cursor value, RFC 3339 with a zone; the Unix epoch when not set"},
    {.name = "payload_column",
     .type = KT_STRING,
     .offset = OFF(payload_column),
     .roles = FOR_SOURCE,
     .versions = V_ALL,
     .check = check_payload_column,
     .doc = "column that becomes the message payload; the whole row when not set"},
    {.name = "payload_format",
     .type = KT_ENUM,
     .enums = payload_formats,
     .offset = OFF(payload_format),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .def = "json",
     .doc = "payload encoding: \"json\", \"text\" (or \"utf8\"), \"base64\" (or \"raw\")"},
    {.name = "batch_size",
     .type = KT_U32,
     .offset = OFF(batch_size),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .min = 1,
     .max = 100000,
     .def = "500",
     .doc = "sink: most lines per write; source: rows per query ($limit)"},
    {.name = "stuck_batch_cap_factor",
     .type = KT_U32,
     .offset = OFF(stuck_batch_cap_factor),
     .roles = FOR_SOURCE,
     .versions = V_ALL,
     .min = 0,
     .max = 100,
     .def = "10",
     .check = check_stuck_cap,
     .doc = "accepted so that upstream v3 configurations load; it has no effect: ifx never "
            "pages ties with OFFSET, its cursor remembers the rows already delivered at the last "
            "time instead"},
    {.name = "include_metadata",
     .type = KT_BOOL,
     .offset = OFF(include_metadata),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .def = "true",
     .doc = "sink: write stream, topic and partition; source: keep every column of a row"},
    {.name = "include_checksum",
     .type = KT_BOOL,
     .offset = OFF(include_checksum),
     .roles = FOR_SINK,
     .versions = V_ALL,
     .def = "true",
     .doc = "write the message checksum as the field iggy_checksum"},
    {.name = "include_origin_timestamp",
     .type = KT_BOOL,
     .offset = OFF(include_origin_timestamp),
     .roles = FOR_SINK,
     .versions = V_ALL,
     .def = "true",
     .doc = "write the origin timestamp as the field iggy_origin_timestamp"},
    {.name = "include_stream_tag",
     .type = KT_BOOL,
     .offset = OFF(include_stream_tag),
     .roles = FOR_SINK,
     .versions = V_ALL,
     .def = "true",
     .doc = "stream name as the tag stream (else the field iggy_stream)"},
    {.name = "include_topic_tag",
     .type = KT_BOOL,
     .offset = OFF(include_topic_tag),
     .roles = FOR_SINK,
     .versions = V_ALL,
     .def = "true",
     .doc = "topic name as the tag topic (else the field iggy_topic)"},
    {.name = "include_partition_tag",
     .type = KT_BOOL,
     .offset = OFF(include_partition_tag),
     .roles = FOR_SINK,
     .versions = V_ALL,
     .def = "true",
     .doc = "partition as the tag partition (else the field iggy_partition)"},
    {.name = "verbose_logging",
     .type = KT_BOOL,
     .offset = OFF(verbose_logging),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .def = "false",
     .doc = "sink: log the counters after every consume at INFO (the source logs its state "
            "changes either way)"},
    {.name = "log_format",
     .type = KT_ENUM,
     .enums = log_formats,
     .offset = OFF(log_format),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .def = "text",
     .doc = "log lines as \"text\" (level, connector, message with key=value fields) or as "
            "\"json\" (one object per line: ts, level, connector, msg and each key=value field)"},
    {.name = "max_retries",
     .type = KT_U32,
     .offset = OFF(max_retries),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .min = 1,
     .max = 100,
     .def = "3",
     .doc = "attempts per request, the first included"},
    {.name = "retry_delay",
     .type = KT_DURATION,
     .offset = OFF(retry_delay_ns),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .min = 0,
     .max = HOUR,
     .def = "1s",
     .doc = "base of the exponential backoff between attempts"},
    {.name = "retry_max_delay",
     .type = KT_DURATION,
     .offset = OFF(retry_max_delay_ns),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .min = 0,
     .max = 24 * HOUR,
     .def = "5s",
     .doc = "longest pause between attempts"},
    {.name = "timeout",
     .type = KT_DURATION,
     .offset = OFF(http.timeout_ns),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .min = MS,
     .max = HOUR,
     .def = "30s",
     .def_rule = DEF_SOURCE_ALT,
     .def_alt = "10s",
     .doc = "time limit of one HTTP attempt"},
    {.name = "max_open_retries",
     .type = KT_U32,
     .offset = OFF(max_open_retries),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .min = 1,
     .max = 1000,
     .def = "10",
     .doc = "health probes of `ifx health --wait`; the plugins probe once at open (wrong "
            "credentials fail it) and then retry while running, so the runtime's start-up never "
            "waits on an unreachable server"},
    {.name = "open_retry_max_delay",
     .type = KT_DURATION,
     .offset = OFF(open_retry_max_delay_ns),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .min = 0,
     .max = 24 * HOUR,
     .def = "60s",
     .doc = "longest pause between the probes of `ifx health --wait`"},
    {.name = "circuit_breaker_threshold",
     .type = KT_U32,
     .offset = OFF(circuit_breaker_threshold),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .min = 1,
     .max = 10000,
     .def = "5",
     .doc = "consecutive failures that open the circuit breaker"},
    {.name = "circuit_breaker_cool_down",
     .type = KT_DURATION,
     .offset = OFF(circuit_breaker_cool_down_ns),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .min = MS,
     .max = 24 * HOUR,
     .def = "30s",
     .doc = "how long the open breaker refuses requests"},
    {.name = "tag_keys",
     .type = KT_STRING_LIST,
     .offset = OFF(tag_keys),
     .roles = FOR_SINK,
     .versions = V_ALL,
     .doc = "payload_format \"json_fields\": top-level payload keys written as tags"},
    {.name = "field_keys",
     .type = KT_STRING_LIST,
     .offset = OFF(field_keys),
     .roles = FOR_SINK,
     .versions = V_ALL,
     .doc =
         "payload_format \"json_fields\": only these payload keys become fields (all when unset)"},
    {.name = "json_integers",
     .type = KT_BOOL,
     .offset = OFF(json_integers),
     .roles = FOR_SINK,
     .versions = V_ALL,
     .def = "false",
     .doc = "payload_format \"json_fields\": write integer literals as integers; by default every "
            "JSON number is a float, so that 1 and 1.5 in one field never clash"},
    {.name = "timestamp_source",
     .type = KT_ENUM,
     .enums = timestamp_sources,
     .offset = OFF(timestamp_source),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .def = "iggy",
     .def_rule = DEF_SOURCE_ALT,
     .def_alt = "row",
     .doc = "sink: the point's time, \"iggy\" (append time), \"origin\" (producer time) or "
            "\"payload\"; source: the message's time, \"row\" (the row's) or \"poll\""},
    {.name = "timestamp_field",
     .type = KT_STRING,
     .offset = OFF(timestamp_field),
     .roles = FOR_SINK,
     .versions = V_ALL,
     .check = check_not_blank,
     .doc = "timestamp_source \"payload\": the top-level JSON key holding the time"},
    {.name = "timestamp_unit",
     .type = KT_PRECISION,
     .offset = OFF(timestamp_unit),
     .roles = FOR_SINK,
     .versions = V_ALL,
     .def = "ms",
     .doc = "unit of a numeric payload time: \"ns\", \"us\", \"ms\" or \"s\" (RFC 3339 strings "
            "are read as such)"},
    {.name = "offset_as",
     .type = KT_ENUM,
     .enums = offset_as_names,
     .offset = OFF(offset_as),
     .roles = FOR_SINK,
     .versions = V_ALL,
     .def = "tag",
     .doc = "the Iggy offset as a \"tag\" (upstream, one series per message) or a \"field\""},
    {.name = "default_tags",
     .type = KT_STRING_MAP,
     .offset = OFF(default_tags),
     .roles = FOR_SINK,
     .versions = V_ALL,
     .doc = "static tags added to every line, as an object of strings"},
    {.name = "max_batch_bytes",
     .type = KT_U32,
     .offset = OFF(max_batch_bytes),
     .roles = FOR_SINK,
     .versions = V_ALL,
     .min = 1024,
     .max = 64u << 20,
     .def = "8388608",
     .doc = "largest request body in bytes (InfluxDB 3 refuses more than 10 MiB by default)"},
    {.name = "dead_letter_file",
     .type = KT_STRING,
     .offset = OFF(dead_letter_file),
     .roles = FOR_SINK,
     .versions = V_ALL,
     .check = check_not_blank,
     .doc = "JSONL file that receives every rejected message with its reason; a log line each "
            "when unset"},
    {.name = "spool_dir",
     .type = KT_STRING,
     .offset = OFF(spool_dir),
     .roles = FOR_SINK,
     .versions = V_ALL,
     .check = check_not_blank,
     .doc = "directory of a durable queue that keeps pending batches across restarts; without "
            "it, consume waits while the server is down"},
    {.name = "spool_max_size",
     .type = KT_SIZE,
     .offset = OFF(spool_max_size),
     .roles = FOR_SINK,
     .versions = V_ALL,
     .min = 0,
     .max = 1ULL << 50,
     .def = "0",
     .doc = "most bytes of pending batches the spool holds (\"0\": no limit); when it is full, "
            "consume writes directly and waits while the server is down (backpressure), as "
            "without a spool"},
    {.name = "stats_interval",
     .type = KT_DURATION,
     .offset = OFF(stats_interval_ns),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .min = 0,
     .max = 24 * HOUR,
     .def = "60s",
     .doc = "how often the counters are logged; \"0s\": only at close"},
    {.name = "retry_after_max",
     .type = KT_DURATION,
     .offset = OFF(retry_after_max_ns),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .min = 0,
     .max = 24 * HOUR,
     .def = "60s",
     .doc = "the longest Retry-After (seconds or HTTP date) a retry waits for"},
    {.name = "gzip",
     .type = KT_BOOL,
     .offset = OFF(http.gzip),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .def = "true",
     .doc = "compress request bodies with gzip (Content-Encoding: gzip)"},
    {.name = "gzip_threshold",
     .type = KT_U32,
     .offset = OFF(http.gzip_threshold),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .min = 0,
     .max = 64u << 20,
     .def = "1024",
     .doc = "smallest request body, in bytes, that is compressed"},
    {.name = "accept_partial",
     .type = KT_BOOL,
     .offset = OFF(http.accept_partial),
     .roles = FOR_SINK,
     .versions = V_3 | V_AUTO,
     .def = "true",
     .doc = "v3: store the valid lines of a batch when others are rejected"},
    {.name = "no_sync",
     .type = KT_BOOL,
     .offset = OFF(http.no_sync),
     .roles = FOR_SINK,
     .versions = V_3 | V_AUTO,
     .def = "false",
     .doc = "v3: answer before the write-ahead log is flushed (faster, may lose data on a crash)"},
    {.name = "write_endpoint",
     .type = KT_ENUM,
     .enums = write_endpoints,
     .offset = OFF(http.write_endpoint),
     .roles = FOR_SINK,
     .versions = V_3 | V_AUTO,
     .def = "native",
     .doc = "v3: \"native\" (/api/v3/write_lp) or \"v2_compat\" (/api/v2/write, all or nothing)"},
    {.name = "query_language",
     .type = KT_ENUM,
     .enums = query_languages,
     .offset = OFF(query_language),
     .roles = FOR_SOURCE,
     .versions = V_3 | V_AUTO,
     .def = "sql",
     .doc = "v3: the language of the query: \"sql\" or \"influxql\""},
    {.name = "tls_ca_file",
     .type = KT_STRING,
     .offset = OFF(http.tls_ca_file),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .doc = "PEM file of the certificate authorities to trust instead of the system's"},
    {.name = "tls_cert_file",
     .type = KT_STRING,
     .offset = OFF(http.tls_cert_file),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .doc = "PEM client certificate, for mutual TLS"},
    {.name = "tls_key_file",
     .type = KT_STRING,
     .offset = OFF(http.tls_key_file),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .doc = "PEM private key of the client certificate"},
    {.name = "tls_insecure_skip_verify",
     .type = KT_BOOL,
     .offset = OFF(http.tls_insecure_skip_verify),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .def = "false",
     .doc = "do not verify the server's certificate (testing only)"},
    {.name = "ignore_proxy_env",
     .type = KT_BOOL,
     .offset = OFF(http.ignore_proxy_env),
     .roles = FOR_BOTH,
     .versions = V_ALL,
     .def = "false",
     .doc = "connect to InfluxDB directly, ignoring the proxy environment variables "
            "(http_proxy, https_proxy, all_proxy, no_proxy) that are otherwise honoured"},
};

#define NKEYS (sizeof keys / sizeof keys[0])

struct parse_ctx {
    ifx_config *c;
    ifx_problems found;
    bool nomem;
    bool version_known; /* false after an invalid "version": version rules are then skipped */
    bool given[NKEYS];  /* a non-null value appeared under the key's name */
    bool alias_given[NKEYS];
};

/* ---- small helpers --------------------------------------------------------------------------- */

static char **str_slot(ifx_config *c, const struct key_desc *k)
{
    return (char **)(void *)((char *)c + k->offset);
}

static char *const *str_slot_c(const ifx_config *c, const struct key_desc *k)
{
    return (char *const *)(const void *)((const char *)c + k->offset);
}

#define SLOT(type, c, k)   ((type *)(void *)((char *)(c) + (k)->offset))
#define SLOT_C(type, c, k) ((const type *)(const void *)((const char *)(c) + (k)->offset))

static bool is_secret(const struct key_desc *k)
{
    return k->type == KT_SECRET;
}

static void free_string(char **slot, bool secret)
{
    if (*slot && secret)
        explicit_bzero(*slot, strlen(*slot)); /* leave no copy of a secret in freed memory */
    free(*slot);
    *slot = NULL;
}

static void strlist_free(ifx_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

static void strmap_free(ifx_strmap *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->keys[i]);
        free(m->values[i]);
    }
    free(m->keys);
    free(m->values);
    m->keys = m->values = NULL;
    m->n = 0;
}

static char ascii_lower(char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

static bool name_is_ci(const char *s, size_t len, const char *name)
{
    size_t i;
    for (i = 0; i < len; i++) {
        if (name[i] == '\0' || ascii_lower(s[i]) != name[i])
            return false;
    }
    return name[len] == '\0';
}

static void show_text(const char *s, size_t len, char *out)
{
    ifx_excerpt(s, len, SHOW_MAX, out);
}

static const char *json_kind(const json_t *v)
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
static void show_value(const json_t *v, bool secret, char *out)
{
    char *text = secret ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

    if (!text) {
        snprintf(out, IFX_EXCERPT_SIZE(SHOW_MAX), "%s", json_kind(v));
        return;
    }
    show_text(text, strlen(text), out);
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
static void show_url(const char *url, char *out)
{
    char *safe = ifx_url_redacted(url), text[IFX_EXCERPT_SIZE(SHOW_MAX)];
    size_t n;

    if (!safe) {
        snprintf(out, SHOW_BUF, "a string");
        return;
    }
    /* the excerpt cuts long urls: keep the "?..." marker visible after it */
    n = strcspn(safe, "?#");
    show_text(safe, n, text);
    snprintf(out, SHOW_BUF, "\"%s%s\"", text, safe + n);
    free(safe);
}

/* ---- problems -------------------------------------------------------------------------------- */

static void problem(struct parse_ctx *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

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

static void problem(struct parse_ctx *p, const char *fmt, ...)
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

/* ---- names ----------------------------------------------------------------------------------- */

const char *ifx_role_name(ifx_role r)
{
    return r == IFX_ROLE_SOURCE ? "source" : "sink";
}

const char *ifx_payload_format_name(ifx_payload_format f)
{
    switch (f) {
    case IFX_PAYLOAD_TEXT:
        return "text";
    case IFX_PAYLOAD_BASE64:
        return "base64";
    case IFX_PAYLOAD_JSON_FIELDS:
        return "json_fields";
    case IFX_PAYLOAD_JSON:
        break;
    }
    return "json";
}

/* "v2", "v1 and v3", "v1, v2 and v3": the versions of a mask, "auto" left out. */
static void version_list(unsigned mask, char *out, size_t size)
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
        format_size(k->min, lo, sizeof lo);
        format_size(k->max, hi, sizeof hi);
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

static void refuse_value(struct parse_ctx *p, const struct key_desc *k, const char *written,
                         const json_t *v)
{
    char want[256], got[SHOW_BUF];
    /* An array or object given as the url may hold the url itself, password and all. */
    bool hide = is_secret(k) || (k->check == check_url && (json_is_array(v) || json_is_object(v)));

    expectation(k, want, sizeof want);
    show_value(v, hide, got);
    problem(p, "key '%s' must be %s, got %s", written, want, got);
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
static void format_size(uint64_t v, char *out, size_t cap)
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
        free_string(str_slot(c, k), is_secret(k));
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
        free_string(str_slot(c, k), false);
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
static ifx_rc set_defaults(ifx_config *c, ifx_role role, ifx_version version)
{
    for (size_t i = 0; i < NKEYS; i++) {
        const char *def = default_text(&keys[i], role, version);
        ifx_rc rc;
        if (!def || keys[i].type == KT_VERSION)
            continue;
        rc = store_text(c, &keys[i], def, strlen(def), NULL);
        if (rc)
            return rc;
    }
    c->role = role;
    c->http.for_write = role == IFX_ROLE_SINK;
    c->version = version;
    return IFX_OK;
}

/* Checks the JSON type and range of v and stores it; any refusal becomes a problem. */
static void store_json(struct parse_ctx *p, const struct key_desc *k, const char *written,
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
        strlist_free(l);
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
        strmap_free(m);
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
                problem(p, "key '%s' has an %s", written, why.msg);
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
                show_value(v, false, got);
                problem(p, "key '%s' must be from %s to %s, got %s", written, lo, hi, got);
                return;
            }
        }
        break;
    }
    if (k->check)
        k->check(p, k, written);
    return;
wrong:
    refuse_value(p, k, written, v);
    return;
bad_version:
    show_value(v, false, got);
    problem(p, "key '%s' must be \"v1\", \"v2\", \"v3\" or \"auto\", got %s", written, got);
}

/* ---- checks beyond type and range ------------------------------------------------------------ */

static bool is_blank(const char *s)
{
    for (; *s; s++) {
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return false;
    }
    return true;
}

static void check_not_blank(struct parse_ctx *p, const struct key_desc *k, const char *written)
{
    if (is_blank(*str_slot(p->c, k)))
        problem(p, "key '%s' must not be empty", written);
}

/* Credentials end up in an HTTP header (Authorization) or in a Basic pair. A CR or LF would end
 * that header early and send the rest of the value as headers of its own (header injection);
 * other control characters and whitespace around the value are copy-paste accidents that the
 * server would only answer with 401. Refused here, naming the key and never showing the value. */
static void check_credential(struct parse_ctx *p, const struct key_desc *k, const char *written)
{
    const char *v = *str_slot(p->c, k);
    size_t len = strlen(v);

    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch < 0x20 || ch == 0x7F) {
            problem(p,
                    "key '%s' must not contain control characters such as CR, LF or TAB (the "
                    "value is not shown)",
                    written);
            return;
        }
    }
    if (len && (v[0] == ' ' || v[len - 1] == ' '))
        problem(p, "key '%s' must not begin or end with a space (the value is not shown)", written);
}

static void check_token(struct parse_ctx *p, const struct key_desc *k, const char *written)
{
    char **slot = str_slot(p->c, k);

    if (!is_blank(*slot)) {
        check_credential(p, k, written);
        return;
    }
    if (p->c->version == IFX_VERSION_V2) {
        problem(p, "key '%s' must not be empty", written);
        return;
    }
    /* Elsewhere the token is optional, and an empty one would only send a malformed
     * Authorization header: it means "no token". */
    free_string(slot, true);
}

static bool is_digits(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

static void check_url(struct parse_ctx *p, const struct key_desc *k, const char *written)
{
    char *url = *str_slot(p->c, k), shown[SHOW_BUF];
    size_t len = strlen(url), scheme, i;
    const char *auth, *end, *host, *port = NULL;

    show_url(url, shown);
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)url[i];
        if (ch <= 0x20 || ch == 0x7F) {
            problem(p, "key '%s' must not contain spaces or control characters, got %s", written,
                    shown);
            return;
        }
    }
    if (strncasecmp(url, "http://", 7) == 0) {
        scheme = 7;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        scheme = 8;
    } else {
        problem(p, "key '%s' must start with http:// or https://, got %s", written, shown);
        return;
    }
    /* The transports add their own query parameters (org, bucket, db, precision). */
    if (strpbrk(url, "?#")) {
        problem(p,
                "key '%s' must not have a query string or fragment (ifx adds the parameters "
                "itself), got %s",
                written, shown);
        return;
    }
    auth = url + scheme;
    end = auth + strcspn(auth, "/");
    host = auth;
    for (const char *q = auth; q < end; q++) {
        if (*q == '@')
            host = q + 1;
    }
    if (host < end && *host == '[') {
        const char *close = memchr(host, ']', (size_t)(end - host));
        if (!close || close == host + 1) {
            problem(p, "key '%s' has an invalid host, got %s", written, shown);
            return;
        }
        if (close + 1 < end) {
            if (close[1] != ':') {
                problem(p, "key '%s' has an invalid host, got %s", written, shown);
                return;
            }
            port = close + 2;
        }
    } else {
        const char *colon = memchr(host, ':', (size_t)(end - host));
        if ((colon ? colon : end) == host) {
            problem(p, "key '%s' has no host, got %s", written, shown);
            return;
        }
        if (colon)
            port = colon + 1;
    }
    if (port && (!is_digits(port, (size_t)(end - port)) || end - port > 5 || atoi(port) < 1 ||
                 atoi(port) > 65535)) {
        problem(p, "key '%s' has an invalid port, got %s", written, shown);
        return;
    }
    /* One spelling for the scheme, as curl and the server logs show it. */
    for (i = 0; i < scheme - 3; i++)
        url[i] = ascii_lower(url[i]);
    /* Like upstream's base_url: one trailing '/' goes, so that paths can be appended. */
    if (len > scheme && url[len - 1] == '/')
        url[len - 1] = '\0';
}

static void check_measurement(struct parse_ctx *p, const struct key_desc *k, const char *written)
{
    const char *m = *str_slot(p->c, k);
    ifx_err why;

    /* Upstream wrote any measurement and failed every line at write time (S9): check it now,
     * with the same rules the line builder applies. */
    ifx_err_clear(&why);
    if (ifx_lp_check_measurement(p->c->version, m, strlen(m), &why))
        problem(p, "key '%s': %s", written, why.msg);
}

static void check_cursor_field(struct parse_ctx *p, const struct key_desc *k, const char *written)
{
    const char *f = *str_slot(p->c, k);
    ifx_version v = p->c->version;

    if (is_blank(f)) {
        problem(p, "key '%s' must not be empty; use \"_time\" for v2 or \"time\" for v1 and v3",
                written);
        return;
    }
    if (!p->version_known)
        return;
    /* Flux tables name the timestamp column "_time"; InfluxQL and SQL results name it "time".
     * The other spelling would never match and the cursor would never advance. */
    if (v == IFX_VERSION_V2 && strcmp(f, "time") == 0)
        problem(p,
                "key '%s' must not be \"time\" for v2: Flux names the timestamp column \"_time\"",
                written);
    else if ((v == IFX_VERSION_V1 || v == IFX_VERSION_V3) && strcmp(f, "_time") == 0)
        problem(p, "key '%s' must not be \"_time\" for %s: %s names the timestamp column \"time\"",
                written, ifx_version_name(v), v == IFX_VERSION_V1 ? "InfluxQL" : "SQL");
}

static void check_payload_column(struct parse_ctx *p, const struct key_desc *k, const char *written)
{
    /* Upstream took "" as a column name and then failed every row (R15). */
    if (**str_slot(p->c, k) == '\0')
        problem(p, "key '%s' must not be empty; leave it out to use the whole row", written);
}

static void check_stuck_cap(struct parse_ctx *p, const struct key_desc *k, const char *written)
{
    if (*SLOT(uint32_t, p->c, k) == 1)
        problem(p,
                "key '%s' must not be 1: the cap would equal batch_size, so a batch stuck on one "
                "timestamp could never grow past it; use 0 to turn stuck detection off, or 2 to "
                "100",
                written);
}

/* An empty window that ended in the past moves the cursor by the window less 1 ns: a window of
 * a few nanoseconds would crawl through history one query at a time. */
static void check_query_window(struct parse_ctx *p, const struct key_desc *k, const char *written)
{
    uint64_t ns = *SLOT(uint64_t, p->c, k);
    char got[IFX_DURATION_MAX];
    if (ns != 0 && ns < SEC) {
        ifx_duration_format(ns, got);
        problem(p, "key '%s' must be \"0s\" (no upper bound) or at least 1s, got \"%s\"", written,
                got);
    }
}

/* ---- parsing --------------------------------------------------------------------------------- */

static const struct key_desc *find_key(const char *name, bool *by_alias)
{
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcmp(keys[i].name, name) == 0) {
            *by_alias = false;
            return &keys[i];
        }
        if (keys[i].alias && strcmp(keys[i].alias, name) == 0) {
            *by_alias = true;
            return &keys[i];
        }
    }
    return NULL;
}

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
            size_t cost = ascii_lower(a[i - 1]) == ascii_lower(b[j - 1]) ? 0 : 1;
            size_t best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (prev[j - 1] + cost < best)
                best = prev[j - 1] + cost;
            if (i > 1 && j > 1 && ascii_lower(a[i - 1]) == ascii_lower(b[j - 2]) &&
                ascii_lower(a[i - 2]) == ascii_lower(b[j - 1]) && prev2[j - 2] + 1 < best)
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
    for (size_t i = 0; i < NKEYS; i++) {
        const char *names[2] = {keys[i].name, keys[i].alias};
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

static void unknown_key(struct parse_ctx *p, const char *name)
{
    char shown[IFX_EXCERPT_SIZE(SHOW_MAX)];
    const char *near = closest_key(name);

    show_text(name, strlen(name), shown);
    if (near)
        problem(p, "unknown key '%s'; did you mean '%s'?", shown, near);
    else
        problem(p, "unknown key '%s'", shown);
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
        unknown_key(p, name);
        return;
    }
    /* JSON null stands for an absent key (TOML has no null, but generated configs do). */
    if (json_is_null(v))
        return;
    idx = (size_t)(k - keys);
    if (by_alias)
        p->alias_given[idx] = true;
    else
        p->given[idx] = true;
    if (!(k->roles & (1u << role))) {
        problem(p, "key '%s' applies to the %s, not the %s", name,
                ifx_role_name(role == IFX_ROLE_SINK ? IFX_ROLE_SOURCE : IFX_ROLE_SINK),
                ifx_role_name(role));
        return;
    }
    if (!(k->versions & (1u << version))) {
        char used[32];
        version_list(k->versions, used, sizeof used);
        problem(p, "key '%s' does not apply to version %s (it is used by %s)", name,
                ifx_version_name(version), used);
        return;
    }
    if (k->type == KT_VERSION) {
        /* Already read by peek_version; only report a bad value here, in input order. */
        if (!json_is_string(v))
            refuse_value(p, k, name, v);
        else if (!p->version_known)
            store_json(p, k, name, v);
        return;
    }
    store_json(p, k, name, v);
}

static void check_required(struct parse_ctx *p)
{
    ifx_role role = p->c->role;
    ifx_version version = p->c->version;

    for (size_t i = 0; i < NKEYS; i++) {
        const struct key_desc *k = &keys[i];
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
            version_list(k->required & (1u << version), vers, sizeof vers);
            if (role_word)
                snprintf(why, sizeof why, "required for a %s %s", vers, role_word);
            else
                snprintf(why, sizeof why, "required for %s", vers);
        }
        problem(p, "missing key '%s' (%s)", k->name, why);
    }
}

static void check_cross_keys(struct parse_ctx *p)
{
    for (size_t i = 0; i < NKEYS; i++) {
        if (p->given[i] && p->alias_given[i])
            problem(p, "keys '%s' and '%s' name the same setting; give only one", keys[i].name,
                    keys[i].alias);
    }
    if (p->c->version == IFX_VERSION_V1 && p->c->http.token && p->c->http.password)
        problem(p, "keys 'token' and 'password' both set the v1 password; give only one");
    if (p->c->role == IFX_ROLE_SOURCE && p->c->payload_format == IFX_PAYLOAD_JSON_FIELDS)
        problem(p, "payload_format \"json_fields\" applies to the sink; a source payload is "
                   "\"json\", \"text\" or \"raw\"");
    if (p->c->role == IFX_ROLE_SINK && p->c->payload_format != IFX_PAYLOAD_JSON_FIELDS &&
        (p->c->tag_keys.n || p->c->field_keys.n))
        problem(p, "keys 'tag_keys' and 'field_keys' need payload_format \"json_fields\"");
    if (p->c->role == IFX_ROLE_SINK &&
        (p->c->timestamp_source == IFX_TS_ROW || p->c->timestamp_source == IFX_TS_POLL))
        problem(p, "timestamp_source for a sink is \"iggy\", \"origin\" or \"payload\"");
    if (p->c->role == IFX_ROLE_SOURCE && p->c->timestamp_source != IFX_TS_ROW &&
        p->c->timestamp_source != IFX_TS_POLL)
        problem(p, "timestamp_source for a source is \"row\" or \"poll\"");
    if (p->c->role == IFX_ROLE_SINK && p->c->timestamp_source == IFX_TS_PAYLOAD &&
        !p->c->timestamp_field)
        problem(p, "timestamp_source \"payload\" needs the key 'timestamp_field' (the payload "
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
        problem(p, "the configuration is empty; expected a JSON object");
        return NULL;
    }
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root) {
        ifxi_config_tidy_json_error(&jerr);
        problem(p, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        problem(p, "the configuration must be a JSON object, got %s", json_kind(root));
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
    rc = set_defaults(c, role, IFX_VERSION_V2);
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
    if (set_defaults(c, role, version)) {
        p.nomem = true;
        goto out;
    }
    /* jansson keeps object keys in input order, so problems come out in that order. */
    json_object_foreach(root, name, v) check_key(&p, name, v);
    check_cross_keys(&p);

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
        if (k->check == check_url) {
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
        format_size(*SLOT_C(uint64_t, c, k), text, sizeof text);
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
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key_desc *k = &keys[i];
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

void ifx_config_free(ifx_config *c)
{
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key_desc *k = &keys[i];
        if (k->type == KT_STRING || k->type == KT_SECRET || k->type == KT_RFC3339)
            free_string(str_slot(c, k), is_secret(k));
        else if (k->type == KT_STRING_LIST)
            strlist_free(SLOT(ifx_strlist, c, k));
        else if (k->type == KT_STRING_MAP)
            strmap_free(SLOT(ifx_strmap, c, k));
    }
    memset(c, 0, sizeof *c);
}

ifx_rc ifx_config_copy(ifx_config *dst, const ifx_config *src, ifx_err *err)
{
    *dst = *src; /* scalars; every owned pointer is replaced below */
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key_desc *k = &keys[i];
        if (k->type == KT_STRING || k->type == KT_SECRET || k->type == KT_RFC3339) {
            char **slot = str_slot(dst, k);
            if (*slot && !(*slot = strdup(*slot)))
                goto nomem;
        } else if (k->type == KT_STRING_LIST) {
            ifx_strlist *l = SLOT(ifx_strlist, dst, k);
            const ifx_strlist *from = SLOT_C(ifx_strlist, src, k);
            l->items = NULL;
            l->n = 0;
            if (from->n && !(l->items = calloc(from->n, sizeof *l->items)))
                goto nomem;
            for (; l->n < from->n; l->n++)
                if (!(l->items[l->n] = strdup(from->items[l->n])))
                    goto nomem;
        } else if (k->type == KT_STRING_MAP) {
            ifx_strmap *m = SLOT(ifx_strmap, dst, k);
            const ifx_strmap *from = SLOT_C(ifx_strmap, src, k);
            m->keys = m->values = NULL;
            m->n = 0;
            if (from->n && (!(m->keys = calloc(from->n, sizeof *m->keys)) ||
                            !(m->values = calloc(from->n, sizeof *m->values))))
                goto nomem;
            for (; m->n < from->n; m->n++) {
                m->keys[m->n] = strdup(from->keys[m->n]);
                m->values[m->n] = strdup(from->values[m->n]);
                if (!m->keys[m->n] || !m->values[m->n]) {
                    m->n++;
                    goto nomem;
                }
            }
        }
    }
    return IFX_OK;
nomem:
    /* Pointers not yet replaced still belong to src: clear them before freeing dst. */
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key_desc *k = &keys[i];
        if (k->type == KT_STRING || k->type == KT_SECRET || k->type == KT_RFC3339) {
            if (*str_slot(dst, k) == *str_slot_c(src, k))
                *str_slot(dst, k) = NULL;
        } else if (k->type == KT_STRING_LIST) {
            if (SLOT(ifx_strlist, dst, k)->items == SLOT_C(ifx_strlist, src, k)->items)
                memset(SLOT(ifx_strlist, dst, k), 0, sizeof(ifx_strlist));
        } else if (k->type == KT_STRING_MAP) {
            if (SLOT(ifx_strmap, dst, k)->keys == SLOT_C(ifx_strmap, src, k)->keys)
                memset(SLOT(ifx_strmap, dst, k), 0, sizeof(ifx_strmap));
        }
    }
    ifx_config_free(dst);
    return ifx_err_set(err, IFX_E_NOMEM, "out of memory copying the configuration");
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
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key_desc *k = &keys[i];
        const char *for_ = k->roles == FOR_BOTH   ? "sink, source"
                           : k->roles == FOR_SINK ? "sink"
                                                  : "source";
        if ((k->versions & (V_1 | V_2 | V_3)) == (V_1 | V_2 | V_3))
            snprintf(vers, sizeof vers, "all");
        else
            version_list(k->versions, vers, sizeof vers);
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
            format_size(k->min, lo, sizeof lo);
            format_size(k->max, hi, sizeof hi);
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
            version_list(k->required, vers, sizeof vers);
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
