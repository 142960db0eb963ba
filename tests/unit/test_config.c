/* Tests for the configuration (include/ifx/config.h): defaults, the upstream examples, every
 * refusal with its exact message, problem collection, and secrets kept out of every message and
 * of the normalised output. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ifx/config.h"

#define NS_MS  1000000ULL
#define NS_SEC 1000000000ULL

/* Every secret in these tests contains this marker, so that a leak is found wherever it is. */
#define SECRET_MARK "s3cr3t"

#define V2_SINK                                                                                    \
    "\"url\":\"http://localhost:8086\",\"org\":\"iggy\",\"bucket\":\"events\",\"token\":\""        \
    "s3cr3t-token\""
#define V2_SOURCE                                                                                  \
    "\"url\":\"http://localhost:8086\",\"org\":\"iggy\",\"token\":\"s3cr3t-token\",\"query\":"     \
    "\"from(bucket: \\\"b\\\") |> range(start: $cursor)\""
#define V3_SINK                                                                                    \
    "\"version\":\"v3\",\"url\":\"http://localhost:8181\",\"db\":\"iggy\",\"token\":\"s3cr3t-"     \
    "token\""
#define V3_QUERY                                                                                   \
    "\"query\":\"SELECT * FROM t WHERE time > '$cursor' ORDER BY time LIMIT $limit OFFSET "        \
    "$offset\""
#define V3_SOURCE V3_SINK "," V3_QUERY
#define V1_SINK   "\"version\":\"v1\",\"url\":\"http://localhost:8086\",\"db\":\"iggy\""
#define V1_SOURCE V1_SINK ",\"query\":\"SELECT * FROM cpu WHERE time > '$cursor'\""

/* ---- helpers --------------------------------------------------------------------------------- */

static void assert_no_secret(const char *text)
{
    if (text && strstr(text, SECRET_MARK))
        fail_msg("a secret leaked into: %s", text);
}

static void parse_ok(ifx_role role, const char *json, ifx_config *c)
{
    ifx_problems problems;
    ifx_err err;

    ifx_err_clear(&err);
    if (ifx_config_parse_json(c, role, json, strlen(json), &problems, &err) != IFX_OK)
        fail_msg("refused %s: %s", json, err.msg);
    assert_int_equal(problems.count, 0);
    assert_null(problems.items);
}

static void expect_problems_(ifx_role role, const char *json, const char *const *want, size_t n)
{
    ifx_config c, zero;
    ifx_problems problems;
    ifx_err err;
    char first[600];

    memset(&zero, 0, sizeof zero);
    ifx_err_clear(&err);
    assert_int_equal(ifx_config_parse_json(&c, role, json, strlen(json), &problems, &err),
                     IFX_E_CONFIG);
    assert_int_equal(err.code, IFX_E_CONFIG);
    for (size_t i = 0; i < problems.count; i++) {
        if (i >= n || strcmp(problems.items[i], want[i]) != 0)
            fail_msg("input %s\nproblem %zu is\n  %s\nexpected\n  %s", json, i, problems.items[i],
                     i < n ? want[i] : "(none)");
        assert_no_secret(problems.items[i]);
    }
    assert_int_equal(problems.count, n);
    if (n > 1)
        snprintf(first, sizeof first, "%s (and %zu more)", want[0], n - 1);
    else
        snprintf(first, sizeof first, "%s", want[0]);
    assert_string_equal(err.msg, first);
    assert_no_secret(err.msg);
    /* the config is left freed, and freeing it again is harmless */
    assert_memory_equal(&c, &zero, sizeof c);
    ifx_config_free(&c);
    ifx_problems_free(&problems);
    assert_int_equal(problems.count, 0);
    assert_null(problems.items);
}

#define expect_problems(role, json, ...)                                                           \
    do {                                                                                           \
        const char *const want_[] = {__VA_ARGS__};                                                 \
        expect_problems_(role, json, want_, sizeof want_ / sizeof want_[0]);                       \
    } while (0)

/* One problem, for a config whose every other key is fine. */
#define expect_problem(role, json, msg) expect_problems(role, json, msg)

static char *to_json(const ifx_config *c)
{
    char *out = NULL;
    ifx_err err;

    ifx_err_clear(&err);
    assert_int_equal(ifx_config_to_json(c, &out, &err), IFX_OK);
    assert_non_null(out);
    assert_no_secret(out);
    return out;
}

/* The defaults every version shares, for a config of the given role. */
static void assert_shared_defaults(const ifx_config *c, ifx_role role)
{
    assert_int_equal(c->role, role);
    assert_string_equal(c->measurement, "iggy_messages");
    assert_int_equal(c->precision, IFX_PRECISION_US);
    assert_int_equal(c->batch_size, 500);
    assert_true(c->include_metadata);
    assert_true(c->include_checksum);
    assert_true(c->include_origin_timestamp);
    assert_true(c->include_stream_tag);
    assert_true(c->include_topic_tag);
    assert_true(c->include_partition_tag);
    assert_int_equal(c->payload_format, IFX_PAYLOAD_JSON);
    assert_true(c->poll_interval_ns == 5 * NS_SEC);
    assert_true(c->query_window_ns == 0);
    assert_null(c->initial_offset);
    assert_int_equal(c->initial_offset_ns, 0);
    assert_null(c->payload_column);
    assert_int_equal(c->stuck_batch_cap_factor, 10);
    assert_false(c->verbose_logging);
    assert_int_equal(c->max_retries, 3);
    assert_true(c->retry_delay_ns == 1 * NS_SEC);
    assert_true(c->http.timeout_ns == (role == IFX_ROLE_SINK ? 30 : 10) * NS_SEC);
    assert_int_equal(c->max_open_retries, 10);
    assert_true(c->open_retry_max_delay_ns == 60 * NS_SEC);
    assert_true(c->retry_max_delay_ns == 5 * NS_SEC);
    assert_int_equal(c->circuit_breaker_threshold, 5);
    assert_true(c->circuit_breaker_cool_down_ns == 30 * NS_SEC);
    assert_null(c->http.retention_policy);
    assert_null(c->http.username);
    assert_null(c->http.password);
}

/* ---- defaults -------------------------------------------------------------------------------- */

static void test_init_defaults(void **state)
{
    ifx_config c;
    ifx_err err;
    (void)state;

    assert_int_equal(ifx_config_init(&c, IFX_ROLE_SINK, &err), IFX_OK);
    assert_shared_defaults(&c, IFX_ROLE_SINK);
    assert_int_equal(c.version, IFX_VERSION_V2);
    assert_string_equal(c.cursor_field, "_time");
    assert_null(c.http.url);
    assert_null(c.http.token);
    assert_null(c.http.org);
    assert_null(c.http.bucket);
    assert_null(c.http.db);
    assert_null(c.query);
    ifx_config_free(&c);
    ifx_config_free(&c);

    assert_int_equal(ifx_config_init(&c, IFX_ROLE_SOURCE, &err), IFX_OK);
    assert_shared_defaults(&c, IFX_ROLE_SOURCE);
    assert_int_equal(c.version, IFX_VERSION_V2);
    assert_string_equal(c.cursor_field, "_time");
    ifx_config_free(&c);

    ifx_err_clear(&err);
    assert_int_equal(ifx_config_init(&c, IFX_ROLE_DETECT, &err), IFX_E_USAGE);
    assert_int_equal(err.code, IFX_E_USAGE);
}

static void test_defaults_v2(void **state)
{
    ifx_config c;
    (void)state;

    parse_ok(IFX_ROLE_DETECT, "{" V2_SINK "}", &c);
    assert_shared_defaults(&c, IFX_ROLE_SINK);
    assert_int_equal(c.version, IFX_VERSION_V2);
    assert_string_equal(c.http.url, "http://localhost:8086");
    assert_string_equal(c.http.org, "iggy");
    assert_string_equal(c.http.bucket, "events");
    assert_string_equal(c.http.token, "s3cr3t-token");
    assert_null(c.http.db);
    assert_null(c.query);
    assert_string_equal(c.cursor_field, "_time");
    ifx_config_free(&c);

    parse_ok(IFX_ROLE_DETECT, "{" V2_SOURCE "}", &c);
    assert_shared_defaults(&c, IFX_ROLE_SOURCE);
    assert_int_equal(c.version, IFX_VERSION_V2);
    assert_string_equal(c.http.org, "iggy");
    assert_null(c.http.bucket);
    assert_string_equal(c.query, "from(bucket: \"b\") |> range(start: $cursor)");
    assert_string_equal(c.cursor_field, "_time");
    ifx_config_free(&c);
}

static void test_defaults_v1(void **state)
{
    ifx_config c;
    (void)state;

    parse_ok(IFX_ROLE_DETECT, "{" V1_SINK "}", &c);
    assert_shared_defaults(&c, IFX_ROLE_SINK);
    assert_int_equal(c.version, IFX_VERSION_V1);
    assert_string_equal(c.http.db, "iggy");
    assert_null(c.http.token);
    assert_null(c.http.org);
    assert_string_equal(c.cursor_field, "time");
    ifx_config_free(&c);

    parse_ok(IFX_ROLE_DETECT, "{" V1_SOURCE "}", &c);
    assert_shared_defaults(&c, IFX_ROLE_SOURCE);
    assert_int_equal(c.version, IFX_VERSION_V1);
    assert_string_equal(c.cursor_field, "time");
    ifx_config_free(&c);
}

static void test_defaults_v3(void **state)
{
    ifx_config c;
    (void)state;

    parse_ok(IFX_ROLE_DETECT, "{" V3_SINK "}", &c);
    assert_shared_defaults(&c, IFX_ROLE_SINK);
    assert_int_equal(c.version, IFX_VERSION_V3);
    assert_string_equal(c.http.db, "iggy");
    assert_string_equal(c.cursor_field, "time");
    ifx_config_free(&c);

    parse_ok(IFX_ROLE_DETECT, "{" V3_SOURCE "}", &c);
    assert_shared_defaults(&c, IFX_ROLE_SOURCE);
    assert_int_equal(c.version, IFX_VERSION_V3);
    assert_string_equal(c.cursor_field, "time");
    ifx_config_free(&c);
}

static void test_defaults_auto(void **state)
{
    ifx_config c;
    (void)state;

    /* the server decides later which keys matter: only url (and query) are required now */
    parse_ok(IFX_ROLE_DETECT, "{\"version\":\"auto\",\"url\":\"http://localhost:8086\"}", &c);
    assert_shared_defaults(&c, IFX_ROLE_SINK);
    assert_int_equal(c.version, IFX_VERSION_AUTO);
    assert_string_equal(c.cursor_field, "time");
    ifx_config_free(&c);

    parse_ok(IFX_ROLE_SOURCE, "{\"version\":\"AUTO\",\"url\":\"http://h\",\"query\":\"q\"}", &c);
    assert_shared_defaults(&c, IFX_ROLE_SOURCE);
    assert_int_equal(c.version, IFX_VERSION_AUTO);
    ifx_config_free(&c);

    /* every version's keys are accepted */
    parse_ok(IFX_ROLE_SINK,
             "{\"version\":\"auto\",\"url\":\"http://h\",\"org\":\"o\",\"bucket\":\"b\",\"db\":"
             "\"d\",\"retention_policy\":\"rp\",\"username\":\"u\",\"password\":\"s3cr3t-pw\","
             "\"token\":\"s3cr3t-token\"}",
             &c);
    assert_string_equal(c.http.org, "o");
    assert_string_equal(c.http.bucket, "b");
    assert_string_equal(c.http.db, "d");
    assert_string_equal(c.http.retention_policy, "rp");
    assert_string_equal(c.http.username, "u");
    assert_string_equal(c.http.password, "s3cr3t-pw");
    ifx_config_free(&c);
}

/* ---- upstream examples ----------------------------------------------------------------------- */

static void test_upstream_examples(void **state)
{
    ifx_config c;
    (void)state;

    parse_ok(IFX_ROLE_DETECT,
             "{\"url\":\"http://localhost:8086\",\"org\":\"iggy\",\"bucket\":\"events\",\"token\":"
             "\"t\"}",
             &c);
    assert_int_equal(c.role, IFX_ROLE_SINK);
    assert_int_equal(c.version, IFX_VERSION_V2);
    assert_string_equal(c.http.token, "t");
    ifx_config_free(&c);

    parse_ok(IFX_ROLE_SINK,
             "{\"version\":\"v3\",\"url\":\"http://localhost:8181\",\"db\":\"iggy\",\"token\":"
             "\"t\",\"measurement\":\"iggy_events\",\"precision\":\"ns\"}",
             &c);
    assert_int_equal(c.version, IFX_VERSION_V3);
    assert_string_equal(c.measurement, "iggy_events");
    assert_int_equal(c.precision, IFX_PRECISION_NS);
    ifx_config_free(&c);

    parse_ok(IFX_ROLE_DETECT,
             "{\"version\":\"v3\",\"url\":\"http://localhost:8181\",\"db\":\"iggy\",\"token\":"
             "\"t\",\"query\":\"SELECT * FROM events WHERE time > '$cursor' ORDER BY time LIMIT "
             "$limit OFFSET $offset\",\"poll_interval\":\"1s\",\"batch_size\":100}",
             &c);
    assert_int_equal(c.role, IFX_ROLE_SOURCE);
    assert_int_equal(c.version, IFX_VERSION_V3);
    assert_true(c.poll_interval_ns == NS_SEC);
    assert_int_equal(c.batch_size, 100);
    ifx_config_free(&c);

    /* compact JSON as the runtime sends it, keys sorted */
    parse_ok(IFX_ROLE_DETECT,
             "{\"db\":\"iggy\",\"token\":\"secret\",\"url\":\"http://localhost:8181\",\"version\":"
             "\"v3\"}",
             &c);
    assert_int_equal(c.role, IFX_ROLE_SINK);
    assert_int_equal(c.version, IFX_VERSION_V3);
    assert_string_equal(c.http.db, "iggy");
    assert_string_equal(c.http.token, "secret");
    assert_string_equal(c.http.url, "http://localhost:8181");
    ifx_config_free(&c);
}

static void test_null_input(void **state)
{
    (void)state;
    /* "null" (no [plugin_config] table) is {}: only the required keys are missing */
    expect_problems(IFX_ROLE_DETECT, "null", "missing key 'url' (required)",
                    "missing key 'token' (required for v2)", "missing key 'org' (required for v2)",
                    "missing key 'bucket' (required for a v2 sink)");
    expect_problems(IFX_ROLE_SOURCE, " \n null\t\r\n", "missing key 'url' (required)",
                    "missing key 'token' (required for v2)", "missing key 'org' (required for v2)",
                    "missing key 'query' (required for a source)");
    expect_problems(IFX_ROLE_SINK, "{}", "missing key 'url' (required)",
                    "missing key 'token' (required for v2)", "missing key 'org' (required for v2)",
                    "missing key 'bucket' (required for a v2 sink)");
    expect_problem(IFX_ROLE_SINK, "nul", "invalid JSON at line 1, column 3: invalid token");
    expect_problem(IFX_ROLE_SINK, "", "the configuration is empty; expected a JSON object");
    expect_problem(IFX_ROLE_SINK, "  ", "the configuration is empty; expected a JSON object");
}

static void test_not_an_object(void **state)
{
    (void)state;
    expect_problem(IFX_ROLE_SINK, "[]", "the configuration must be a JSON object, got an array");
    expect_problem(IFX_ROLE_SINK, "\"s3cr3t\"",
                   "the configuration must be a JSON object, got a string");
    expect_problem(IFX_ROLE_SINK, "3", "the configuration must be a JSON object, got a number");
    expect_problem(IFX_ROLE_SINK, "true", "the configuration must be a JSON object, got a boolean");
    expect_problem(IFX_ROLE_SINK, "{\n  \"url\": \"x\",\n}",
                   "invalid JSON at line 3, column 1: string or '}' expected");
    expect_problem(IFX_ROLE_SINK, "{\"url\":\"http://a\",\"url\":\"http://b\"}",
                   "invalid JSON at line 1, column 23: duplicate object key near '\"url\"'");
    /* jansson would quote the token it stopped at, here the start of the secret */
    expect_problem(IFX_ROLE_SINK, "{\"token\":\"s3cr3t",
                   "invalid JSON at line 1, column 16: premature end of input");
    expect_problem(IFX_ROLE_SINK, "{\"token\":\"s3cr3t\\x\"}",
                   "invalid JSON at line 1, column 18: invalid escape");
    expect_problem(IFX_ROLE_SINK, "{\"a\":1} x",
                   "invalid JSON at line 1, column 9: end of file expected");
}

static void test_length_bounded(void **state)
{
    static const char text[] = "{\"version\":\"v3\",\"url\":\"http://h\",\"db\":\"d\"}GARBAGE";
    ifx_config c;
    ifx_err err;
    (void)state;

    ifx_err_clear(&err);
    assert_int_equal(ifx_config_parse_json(&c, IFX_ROLE_SINK, text, strlen(text) - 7, NULL, &err),
                     IFX_OK);
    assert_string_equal(c.http.db, "d");
    ifx_config_free(&c);
    assert_int_equal(ifx_config_parse_json(&c, IFX_ROLE_SINK, text, strlen(text), NULL, &err),
                     IFX_E_CONFIG);
    /* without a problems list the message still counts them */
    assert_string_equal(err.msg, "invalid JSON at line 1, column 49: end of file expected");
    assert_int_equal(ifx_config_parse_json(&c, IFX_ROLE_SINK, "null", 4, NULL, &err), IFX_E_CONFIG);
    assert_string_equal(err.msg, "missing key 'url' (required) (and 3 more)");
    assert_int_equal(ifx_config_parse_json(&c, (ifx_role)7, "null", 4, NULL, &err), IFX_E_USAGE);
    assert_int_equal(ifx_config_parse_json(&c, IFX_ROLE_SINK, NULL, 4, NULL, &err), IFX_E_USAGE);
}

/* ---- version and role ------------------------------------------------------------------------ */

static void test_version(void **state)
{
    ifx_config c;
    (void)state;

    parse_ok(IFX_ROLE_SINK, "{" V2_SINK ",\"version\":null}", &c);
    assert_int_equal(c.version, IFX_VERSION_V2);
    ifx_config_free(&c);
    parse_ok(IFX_ROLE_SINK, "{" V2_SINK ",\"version\":\"V2\"}", &c);
    assert_int_equal(c.version, IFX_VERSION_V2);
    ifx_config_free(&c);
    parse_ok(IFX_ROLE_SINK, "{\"version\":\"V1\",\"url\":\"http://h\",\"db\":\"d\"}", &c);
    assert_int_equal(c.version, IFX_VERSION_V1);
    ifx_config_free(&c);

    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"version\":3}",
                   "key 'version' must be a string (\"v1\", \"v2\", \"v3\" or \"auto\"), got 3");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"version\":[\"v2\"]}",
                   "key 'version' must be a string (\"v1\", \"v2\", \"v3\" or \"auto\"), got "
                   "[\"v2\"]");
    /* an unknown version accepts every version's keys and skips the version's required keys */
    expect_problem(IFX_ROLE_SINK, "{\"version\":\"v4\",\"url\":\"http://h\",\"db\":\"d\"}",
                   "key 'version' must be \"v1\", \"v2\", \"v3\" or \"auto\", got \"v4\"");
}

static void test_role(void **state)
{
    ifx_config c;
    (void)state;

    parse_ok(IFX_ROLE_DETECT, "{" V3_SOURCE "}", &c);
    assert_int_equal(c.role, IFX_ROLE_SOURCE);
    ifx_config_free(&c);
    /* "query": null is an absent query */
    parse_ok(IFX_ROLE_DETECT, "{" V3_SINK ",\"query\":null}", &c);
    assert_int_equal(c.role, IFX_ROLE_SINK);
    ifx_config_free(&c);

    expect_problem(IFX_ROLE_SINK, "{" V3_SOURCE "}",
                   "key 'query' applies to the source, not the sink");
    expect_problems(IFX_ROLE_SOURCE,
                    "{" V3_SOURCE ",\"measurement\":\"m\",\"include_checksum\":false,"
                    "\"precision\":\"ns\",\"bucket\":\"b\"}",
                    "key 'measurement' applies to the sink, not the source",
                    "key 'include_checksum' applies to the sink, not the source",
                    "key 'precision' applies to the sink, not the source",
                    "key 'bucket' applies to the sink, not the source");
    expect_problems(IFX_ROLE_SINK,
                    "{" V3_SINK ",\"poll_interval\":\"1s\",\"cursor_field\":\"time\","
                    "\"stuck_batch_cap_factor\":0,\"payload_column\":\"v\","
                    "\"initial_offset\":\"2024-01-01T00:00:00Z\"}",
                    "key 'poll_interval' applies to the source, not the sink",
                    "key 'cursor_field' applies to the source, not the sink",
                    "key 'stuck_batch_cap_factor' applies to the source, not the sink",
                    "key 'payload_column' applies to the source, not the sink",
                    "key 'initial_offset' applies to the source, not the sink");
}

static void test_keys_of_other_versions(void **state)
{
    (void)state;
    expect_problem(IFX_ROLE_SINK, "{" V3_SINK ",\"org\":\"o\"}",
                   "key 'org' does not apply to version v3 (it is used by v2)");
    expect_problem(IFX_ROLE_SINK, "{" V3_SINK ",\"bucket\":\"b\"}",
                   "key 'bucket' does not apply to version v3 (it is used by v2)");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"db\":\"d\"}",
                   "key 'db' does not apply to version v2 (it is used by v1 and v3)");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"database\":\"d\"}",
                   "key 'database' does not apply to version v2 (it is used by v1 and v3)");
    expect_problems(IFX_ROLE_SINK,
                    "{" V3_SINK ",\"retention_policy\":\"rp\",\"username\":\"u\",\"password\":"
                    "\"s3cr3t-pw\"}",
                    "key 'retention_policy' does not apply to version v3 (it is used by v1)",
                    "key 'username' does not apply to version v3 (it is used by v1)",
                    "key 'password' does not apply to version v3 (it is used by v1)");
    expect_problem(IFX_ROLE_SINK, "{" V1_SINK ",\"org\":\"o\"}",
                   "key 'org' does not apply to version v1 (it is used by v2)");
    /* null is absent, even for a key of another version */
    ifx_config c;
    parse_ok(IFX_ROLE_SINK, "{" V3_SINK ",\"org\":null,\"bucket\":null}", &c);
    ifx_config_free(&c);
}

static void test_unknown_keys(void **state)
{
    (void)state;
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"bukcet\":\"b\"}",
                   "unknown key 'bukcet'; did you mean 'bucket'?");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"xyz\":1}", "unknown key 'xyz'");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"URL\":1}",
                   "unknown key 'URL'; did you mean 'url'?");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"databse\":1}",
                   "unknown key 'databse'; did you mean 'database'?");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"circuit_breaker_treshhold\":1}",
                   "unknown key 'circuit_breaker_treshhold'; did you mean "
                   "'circuit_breaker_threshold'?");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"include_metdata\":true}",
                   "unknown key 'include_metdata'; did you mean 'include_metadata'?");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"x\":1}", "unknown key 'x'");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"role\":\"sink\"}", "unknown key 'role'");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"timeout_ms\":100}",
                   "unknown key 'timeout_ms'; did you mean 'timeout'?");
    /* a long name is cut, and a control character cannot break the line */
    expect_problem(IFX_ROLE_SINK,
                   "{" V2_SINK ",\"a_very_long_key_name_that_goes_on_and_on_and_on_forever\\n\":1}",
                   "unknown key 'a_very_long_key_name_that_goes_on_and_on...'");
    /* null does not make an unknown key acceptable */
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"bukcet\":null}",
                   "unknown key 'bukcet'; did you mean 'bucket'?");
}

/* ---- url ------------------------------------------------------------------------------------- */

static void test_url(void **state)
{
    ifx_config c;
    (void)state;

    parse_ok(IFX_ROLE_SINK, "{\"version\":\"v3\",\"db\":\"d\",\"url\":\"http://localhost:8181/\"}",
             &c);
    assert_string_equal(c.http.url, "http://localhost:8181");
    ifx_config_free(&c);
    /* only one '/' goes, like upstream; the path stays */
    parse_ok(IFX_ROLE_SINK, "{\"version\":\"v3\",\"db\":\"d\",\"url\":\"https://h/influx//\"}", &c);
    assert_string_equal(c.http.url, "https://h/influx/");
    ifx_config_free(&c);
    parse_ok(IFX_ROLE_SINK, "{\"version\":\"v3\",\"db\":\"d\",\"url\":\"HTTPS://[::1]:8181\"}", &c);
    assert_string_equal(c.http.url, "https://[::1]:8181");
    ifx_config_free(&c);
    parse_ok(IFX_ROLE_SINK, "{\"version\":\"v3\",\"db\":\"d\",\"url\":\"http://u:s3cr3t@h:1\"}",
             &c);
    assert_string_equal(c.http.url, "http://u:s3cr3t@h:1");
    ifx_config_free(&c);

#define V3_NO_URL "\"version\":\"v3\",\"db\":\"d\""
    expect_problem(IFX_ROLE_SINK, "{" V3_NO_URL "}", "missing key 'url' (required)");
    expect_problem(IFX_ROLE_SINK, "{" V3_NO_URL ",\"url\":null}", "missing key 'url' (required)");
    expect_problem(IFX_ROLE_SINK, "{" V3_NO_URL ",\"url\":8086}",
                   "key 'url' must be a string, got 8086");
    expect_problem(IFX_ROLE_SINK, "{" V3_NO_URL ",\"url\":[\"http://u:s3cr3t@h\"]}",
                   "key 'url' must be a string, got an array");
    expect_problem(IFX_ROLE_SINK, "{" V3_NO_URL ",\"url\":\"\"}",
                   "key 'url' must start with http:// or https://, got \"\"");
    expect_problem(IFX_ROLE_SINK, "{" V3_NO_URL ",\"url\":\"localhost:8181\"}",
                   "key 'url' must start with http:// or https://, got \"localhost:8181\"");
    expect_problem(IFX_ROLE_SINK, "{" V3_NO_URL ",\"url\":\"ftp://u:s3cr3t@h/x\"}",
                   "key 'url' must start with http:// or https://, got \"ftp://u:***@h/x\"");
    expect_problem(IFX_ROLE_SINK, "{" V3_NO_URL ",\"url\":\"http://\"}",
                   "key 'url' has no host, got \"http://\"");
    expect_problem(IFX_ROLE_SINK, "{" V3_NO_URL ",\"url\":\"http://:8086/\"}",
                   "key 'url' has no host, got \"http://:8086/\"");
    expect_problem(IFX_ROLE_SINK, "{" V3_NO_URL ",\"url\":\"http://u@/\"}",
                   "key 'url' has no host, got \"http://u@/\"");
    expect_problem(IFX_ROLE_SINK, "{" V3_NO_URL ",\"url\":\"http://[::1/\"}",
                   "key 'url' has an invalid host, got \"http://[::1/\"");
    expect_problem(IFX_ROLE_SINK, "{" V3_NO_URL ",\"url\":\"http://h:0\"}",
                   "key 'url' has an invalid port, got \"http://h:0\"");
    expect_problem(IFX_ROLE_SINK, "{" V3_NO_URL ",\"url\":\"http://h:65536\"}",
                   "key 'url' has an invalid port, got \"http://h:65536\"");
    expect_problem(IFX_ROLE_SINK, "{" V3_NO_URL ",\"url\":\"http://h:\"}",
                   "key 'url' has an invalid port, got \"http://h:\"");
    expect_problem(IFX_ROLE_SINK, "{" V3_NO_URL ",\"url\":\"http://h:80a\"}",
                   "key 'url' has an invalid port, got \"http://h:80a\"");
    expect_problem(IFX_ROLE_SINK, "{" V3_NO_URL ",\"url\":\" http://h\"}",
                   "key 'url' must not contain spaces or control characters, got \" http://h\"");
    expect_problem(IFX_ROLE_SINK, "{" V3_NO_URL ",\"url\":\"http://h/\\n\"}",
                   "key 'url' must not contain spaces or control characters, got \"http://h/\\n\"");
    /* the query string is not shown: v1 servers take credentials there */
    expect_problem(IFX_ROLE_SINK, "{" V3_NO_URL ",\"url\":\"http://h/?u=a&p=s3cr3t\"}",
                   "key 'url' must not have a query string or fragment (ifx adds the parameters "
                   "itself), got \"http://h/?...\"");
    expect_problem(IFX_ROLE_SINK, "{" V3_NO_URL ",\"url\":\"http://h#top\"}",
                   "key 'url' must not have a query string or fragment (ifx adds the parameters "
                   "itself), got \"http://h#...\"");
    /* a long url is cut */
    expect_problem(IFX_ROLE_SINK,
                   "{" V3_NO_URL ",\"url\":\"http://very-long-host-name.example.com:99999/a/b/c\"}",
                   "key 'url' has an invalid port, got "
                   "\"http://very-long-host-name.example.com:9...\"");
#undef V3_NO_URL
}

/* ---- required keys and empty values ---------------------------------------------------------- */

static void test_required(void **state)
{
    ifx_config c;
    (void)state;

    expect_problem(IFX_ROLE_SINK, "{\"url\":\"http://h\",\"bucket\":\"b\",\"token\":\"s3cr3t\"}",
                   "missing key 'org' (required for v2)");
    expect_problem(IFX_ROLE_SINK, "{\"url\":\"http://h\",\"bucket\":\"b\",\"org\":\"o\"}",
                   "missing key 'token' (required for v2)");
    expect_problem(IFX_ROLE_SINK, "{\"url\":\"http://h\",\"org\":\"o\",\"token\":\"s3cr3t\"}",
                   "missing key 'bucket' (required for a v2 sink)");
    expect_problem(IFX_ROLE_SINK, "{\"version\":\"v3\",\"url\":\"http://h\"}",
                   "missing key 'db' (required for v3)");
    expect_problem(IFX_ROLE_SINK, "{\"version\":\"v1\",\"url\":\"http://h\"}",
                   "missing key 'db' (required for v1)");
    expect_problem(IFX_ROLE_SOURCE, "{" V3_SINK "}", "missing key 'query' (required for a source)");
    expect_problem(IFX_ROLE_SOURCE, "{" V3_SINK ",\"query\":null}",
                   "missing key 'query' (required for a source)");

    /* v3 without a token: servers without authentication */
    parse_ok(IFX_ROLE_SINK, "{\"version\":\"v3\",\"url\":\"http://h\",\"db\":\"d\"}", &c);
    assert_null(c.http.token);
    ifx_config_free(&c);
    /* an empty token there means none, rather than an empty Authorization header */
    parse_ok(IFX_ROLE_SINK, "{\"version\":\"v3\",\"url\":\"http://h\",\"db\":\"d\",\"token\":\"\"}",
             &c);
    assert_null(c.http.token);
    ifx_config_free(&c);
    /* the database alias */
    parse_ok(IFX_ROLE_SINK, "{\"version\":\"v3\",\"url\":\"http://h\",\"database\":\"d\"}", &c);
    assert_string_equal(c.http.db, "d");
    ifx_config_free(&c);
    /* values are kept as given (upstream sends them untrimmed) */
    parse_ok(IFX_ROLE_SINK,
             "{\"url\":\"http://h\",\"org\":\" o \",\"bucket\":\"b\",\"token\":\"s3cr3t\"}", &c);
    assert_string_equal(c.http.org, " o ");
    ifx_config_free(&c);
}

static void test_empty_values(void **state)
{
    (void)state;
    expect_problem(IFX_ROLE_SINK,
                   "{\"url\":\"http://h\",\"org\":\" \\t\",\"bucket\":\"b\",\"token\":\"s3cr3t\"}",
                   "key 'org' must not be empty");
    expect_problem(IFX_ROLE_SINK,
                   "{\"url\":\"http://h\",\"org\":\"o\",\"bucket\":\"\",\"token\":\"s3cr3t\"}",
                   "key 'bucket' must not be empty");
    expect_problem(IFX_ROLE_SINK,
                   "{\"url\":\"http://h\",\"org\":\"o\",\"bucket\":\"b\",\"token\":\" \"}",
                   "key 'token' must not be empty");
    expect_problem(IFX_ROLE_SINK, "{\"version\":\"v3\",\"url\":\"http://h\",\"db\":\"  \"}",
                   "key 'db' must not be empty");
    expect_problem(IFX_ROLE_SINK, "{\"version\":\"v1\",\"url\":\"http://h\",\"database\":\"\"}",
                   "key 'database' must not be empty");
    expect_problem(IFX_ROLE_SOURCE, "{" V3_SINK ",\"query\":\" \\n \"}",
                   "key 'query' must not be empty");
    expect_problem(IFX_ROLE_SOURCE, "{" V3_SOURCE ",\"payload_column\":\"\"}",
                   "key 'payload_column' must not be empty; leave it out to use the whole row");
}

static void test_cross_keys(void **state)
{
    ifx_config c;
    (void)state;

    expect_problem(IFX_ROLE_SINK, "{" V3_SINK ",\"database\":\"other\"}",
                   "keys 'db' and 'database' name the same setting; give only one");
    expect_problem(IFX_ROLE_SINK, "{" V1_SINK ",\"token\":\"s3cr3t-a\",\"password\":\"s3cr3t-b\"}",
                   "keys 'token' and 'password' both set the v1 password; give only one");

    /* v1: token is accepted as the password */
    parse_ok(IFX_ROLE_SINK, "{" V1_SINK ",\"username\":\"u\",\"token\":\"s3cr3t-a\"}", &c);
    assert_string_equal(c.http.username, "u");
    assert_string_equal(c.http.token, "s3cr3t-a");
    assert_null(c.http.password);
    ifx_config_free(&c);
    parse_ok(IFX_ROLE_SINK,
             "{" V1_SINK ",\"username\":\"u\",\"password\":\"s3cr3t-b\",\"retention_policy\":\"rp"
             "\"}",
             &c);
    assert_string_equal(c.http.password, "s3cr3t-b");
    assert_string_equal(c.http.retention_policy, "rp");
    assert_null(c.http.token);
    ifx_config_free(&c);
}

/* ---- types and ranges ------------------------------------------------------------------------ */

static void test_integers(void **state)
{
    ifx_config c;
    (void)state;

    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"batch_size\":\"500\"}",
                   "key 'batch_size' must be an integer from 1 to 100000, got \"500\"");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"batch_size\":0}",
                   "key 'batch_size' must be an integer from 1 to 100000, got 0");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"batch_size\":100001}",
                   "key 'batch_size' must be an integer from 1 to 100000, got 100001");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"batch_size\":-1}",
                   "key 'batch_size' must be an integer from 1 to 100000, got -1");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"batch_size\":500.0}",
                   "key 'batch_size' must be an integer from 1 to 100000, got 500.0");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"batch_size\":true}",
                   "key 'batch_size' must be an integer from 1 to 100000, got true");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"batch_size\":9223372036854775807}",
                   "key 'batch_size' must be an integer from 1 to 100000, got "
                   "9223372036854775807");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"max_retries\":0}",
                   "key 'max_retries' must be an integer from 1 to 100, got 0");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"max_retries\":101}",
                   "key 'max_retries' must be an integer from 1 to 100, got 101");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"max_open_retries\":1001}",
                   "key 'max_open_retries' must be an integer from 1 to 1000, got 1001");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"circuit_breaker_threshold\":0}",
                   "key 'circuit_breaker_threshold' must be an integer from 1 to 10000, got 0");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"circuit_breaker_threshold\":10001}",
                   "key 'circuit_breaker_threshold' must be an integer from 1 to 10000, got "
                   "10001");
    /* a long value is cut */
    expect_problem(IFX_ROLE_SINK,
                   "{" V2_SINK ",\"batch_size\":\"0123456789012345678901234567890123456789xyz\"}",
                   "key 'batch_size' must be an integer from 1 to 100000, got "
                   "\"012345678901234567890123456789012345678...");

    parse_ok(IFX_ROLE_SINK,
             "{" V2_SINK ",\"batch_size\":100000,\"max_retries\":1,\"max_open_retries\":1000,"
             "\"circuit_breaker_threshold\":10000}",
             &c);
    assert_int_equal(c.batch_size, 100000);
    assert_int_equal(c.max_retries, 1);
    assert_int_equal(c.max_open_retries, 1000);
    assert_int_equal(c.circuit_breaker_threshold, 10000);
    ifx_config_free(&c);
    parse_ok(IFX_ROLE_SINK, "{" V2_SINK ",\"batch_size\":1,\"max_retries\":100}", &c);
    assert_int_equal(c.batch_size, 1);
    assert_int_equal(c.max_retries, 100);
    ifx_config_free(&c);
}

static void test_stuck_batch_cap_factor(void **state)
{
    ifx_config c;
    (void)state;

    expect_problem(IFX_ROLE_SOURCE, "{" V3_SOURCE ",\"stuck_batch_cap_factor\":1}",
                   "key 'stuck_batch_cap_factor' must not be 1: the cap would equal batch_size, "
                   "so a batch stuck on one timestamp could never grow past it; use 0 to turn "
                   "stuck detection off, or 2 to 100");
    expect_problem(IFX_ROLE_SOURCE, "{" V3_SOURCE ",\"stuck_batch_cap_factor\":101}",
                   "key 'stuck_batch_cap_factor' must be an integer from 0 to 100, got 101");
    parse_ok(IFX_ROLE_SOURCE, "{" V3_SOURCE ",\"stuck_batch_cap_factor\":0}", &c);
    assert_int_equal(c.stuck_batch_cap_factor, 0);
    ifx_config_free(&c);
    parse_ok(IFX_ROLE_SOURCE, "{" V2_SOURCE ",\"stuck_batch_cap_factor\":2}", &c);
    assert_int_equal(c.stuck_batch_cap_factor, 2);
    ifx_config_free(&c);
    parse_ok(IFX_ROLE_SOURCE, "{" V1_SOURCE ",\"stuck_batch_cap_factor\":100}", &c);
    assert_int_equal(c.stuck_batch_cap_factor, 100);
    ifx_config_free(&c);
}

/* query_window (R13): "0s" (off, the default) or 1s to 3650 days, every version, source only. */
static void test_query_window(void **state)
{
    ifx_config c;
    (void)state;

    parse_ok(IFX_ROLE_SOURCE, "{" V3_SOURCE ",\"query_window\":\"1h\"}", &c);
    assert_true(c.query_window_ns == 3600 * NS_SEC);
    ifx_config_free(&c);
    parse_ok(IFX_ROLE_SOURCE, "{" V2_SOURCE ",\"query_window\":\"0s\"}", &c);
    assert_true(c.query_window_ns == 0);
    ifx_config_free(&c);
    parse_ok(IFX_ROLE_SOURCE, "{" V1_SOURCE ",\"query_window\":\"3650d\"}", &c);
    assert_true(c.query_window_ns == 3650ULL * 24 * 3600 * NS_SEC);
    ifx_config_free(&c);
    parse_ok(IFX_ROLE_SOURCE, "{" V1_SOURCE ",\"query_window\":\"1s\"}", &c);
    assert_true(c.query_window_ns == NS_SEC);
    ifx_config_free(&c);
    expect_problem(IFX_ROLE_SOURCE, "{" V3_SOURCE ",\"query_window\":\"500ms\"}",
                   "key 'query_window' must be \"0s\" (no upper bound) or at least 1s, got "
                   "\"500ms\"");
    expect_problem(IFX_ROLE_SOURCE, "{" V3_SOURCE ",\"query_window\":\"1ns\"}",
                   "key 'query_window' must be \"0s\" (no upper bound) or at least 1s, got "
                   "\"1ns\"");
    expect_problem(IFX_ROLE_SOURCE, "{" V3_SOURCE ",\"query_window\":\"3651d\"}",
                   "key 'query_window' must be from 0s to 87600h, got \"3651d\"");
    expect_problem(IFX_ROLE_SINK, "{" V3_SINK ",\"query_window\":\"1h\"}",
                   "key 'query_window' applies to the source, not the sink");
}

static void test_spool_max_size(void **state)
{
    static const struct {
        const char *written;
        uint64_t bytes;
        const char *shown;
    } ok[] = {{"\"10GiB\"", 10ULL << 30, "\"10GiB\""},
              {"1048576", 1ULL << 20, "\"1MiB\""},
              {"\"5MB\"", 5000000, "\"5MB\""},
              {"\"5 MB\"", 5000000, "\"5MB\""},
              {"\"1537\"", 1537, "\"1537B\""},
              {"\"2kB\"", 2000, "\"2KB\""},
              {"0", 0, "\"0\""},
              {"\"1024TiB\"", 1ULL << 50, "\"1024TiB\""},
              {"\"512B\"", 512, "\"512B\""}};
    ifx_config c;
    char json[256];
    (void)state;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        snprintf(json, sizeof json, "{" V3_SINK ",\"spool_max_size\":%s}", ok[i].written);
        parse_ok(IFX_ROLE_SINK, json, &c);
        assert_true(c.spool_max_size == ok[i].bytes);
        char *out = NULL;
        ifx_err e;
        assert_int_equal(ifx_config_to_json(&c, &out, &e), IFX_OK);
        char want[64];
        snprintf(want, sizeof want, "\"spool_max_size\": %s", ok[i].shown);
        if (!strstr(out, want))
            fail_msg("%s: shown as [%s], want [%s]", ok[i].written, out, want);
        free(out);
        ifx_config_free(&c);
    }
    static const char *const bad[] = {
        "\"1.5GB\"", "\"-1\"",  "-1",   "\"2PiB\"",    "\"12XB\"",
        "\"\"",      "\"GiB\"", "true", "\"1025TiB\"", "\"99999999999999999999\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(json, sizeof json, "{" V3_SINK ",\"spool_max_size\":%s}", bad[i]);
        char want[200];
        snprintf(want, sizeof want,
                 "key 'spool_max_size' must be a size such as \"512MiB\" or a number of bytes, "
                 "from 0 to 1024TiB, got %s",
                 bad[i]);
        expect_problem(IFX_ROLE_SINK, json, want);
    }
    expect_problem(IFX_ROLE_SOURCE, "{" V3_SOURCE ",\"spool_max_size\":\"1GiB\"}",
                   "key 'spool_max_size' applies to the sink, not the source");
}

static void test_booleans(void **state)
{
    ifx_config c;
    (void)state;

    parse_ok(IFX_ROLE_SINK,
             "{" V2_SINK ",\"include_metadata\":false,\"include_checksum\":false,"
             "\"include_origin_timestamp\":false,\"include_stream_tag\":false,"
             "\"include_topic_tag\":false,\"include_partition_tag\":false,"
             "\"verbose_logging\":true}",
             &c);
    assert_false(c.include_metadata);
    assert_false(c.include_checksum);
    assert_false(c.include_origin_timestamp);
    assert_false(c.include_stream_tag);
    assert_false(c.include_topic_tag);
    assert_false(c.include_partition_tag);
    assert_true(c.verbose_logging);
    ifx_config_free(&c);

    expect_problems(IFX_ROLE_SINK,
                    "{" V2_SINK ",\"include_metadata\":\"true\",\"verbose_logging\":1}",
                    "key 'include_metadata' must be true or false, got \"true\"",
                    "key 'verbose_logging' must be true or false, got 1");
}

static void test_durations(void **state)
{
    ifx_config c;
    (void)state;

    parse_ok(IFX_ROLE_SOURCE,
             "{" V3_SOURCE ",\"timeout\":\"1m 30s\",\"retry_delay\":\"0\",\"retry_max_delay\":"
             "\"24h\",\"open_retry_max_delay\":\"0s\",\"circuit_breaker_cool_down\":\"1ms\","
             "\"poll_interval\":\"200ms\"}",
             &c);
    assert_true(c.http.timeout_ns == 90 * NS_SEC);
    assert_true(c.retry_delay_ns == 0);
    assert_true(c.retry_max_delay_ns == 24 * 3600 * NS_SEC);
    assert_true(c.open_retry_max_delay_ns == 0);
    assert_true(c.circuit_breaker_cool_down_ns == NS_MS);
    assert_true(c.poll_interval_ns == 200 * NS_MS);
    ifx_config_free(&c);

    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"timeout\":\"30sex\"}",
                   "key 'timeout' has an invalid duration \"30sex\": unknown unit \"sex\" (ns, us, "
                   "ms, s, m, h, d or w)");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"timeout\":\"30\"}",
                   "key 'timeout' has an invalid duration \"30\": missing unit after \"30\" (ns, "
                   "us, ms, s, m, h, d or w)");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"timeout\":30}",
                   "key 'timeout' must be a duration string such as \"30s\", from 1ms to 1h, got "
                   "30");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"timeout\":\"2h\"}",
                   "key 'timeout' must be from 1ms to 1h, got \"2h\"");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"timeout\":\"0\"}",
                   "key 'timeout' must be from 1ms to 1h, got \"0\"");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"retry_delay\":\"61m\"}",
                   "key 'retry_delay' must be from 0s to 1h, got \"61m\"");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"retry_max_delay\":\"1d1ns\"}",
                   "key 'retry_max_delay' must be from 0s to 24h, got \"1d1ns\"");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"open_retry_max_delay\":\"2d\"}",
                   "key 'open_retry_max_delay' must be from 0s to 24h, got \"2d\"");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"circuit_breaker_cool_down\":\"0s\"}",
                   "key 'circuit_breaker_cool_down' must be from 1ms to 24h, got \"0s\"");
    expect_problem(IFX_ROLE_SOURCE, "{" V2_SOURCE ",\"poll_interval\":\"999us\"}",
                   "key 'poll_interval' must be from 1ms to 24h, got \"999us\"");
    expect_problem(IFX_ROLE_SOURCE, "{" V2_SOURCE ",\"poll_interval\":\"-5s\"}",
                   "key 'poll_interval' has an invalid duration \"-5s\": a duration cannot be "
                   "negative");
    expect_problem(IFX_ROLE_SOURCE, "{" V2_SOURCE ",\"poll_interval\":\"99999999999999999999s\"}",
                   "key 'poll_interval' has an invalid duration \"99999999999999999999s\": "
                   "\"99999999999999999999s\" is too large (the most is "
                   "5124095h34m33s709ms551us615ns)");
}

static void test_precision_and_payload_format(void **state)
{
    ifx_config c;
    (void)state;

    parse_ok(IFX_ROLE_SINK, "{" V2_SINK ",\"precision\":\"NS\",\"payload_format\":\"UTF8\"}", &c);
    assert_int_equal(c.precision, IFX_PRECISION_NS);
    assert_int_equal(c.payload_format, IFX_PAYLOAD_TEXT);
    ifx_config_free(&c);
    parse_ok(IFX_ROLE_SINK, "{" V2_SINK ",\"precision\":\"s\",\"payload_format\":\"Raw\"}", &c);
    assert_int_equal(c.precision, IFX_PRECISION_S);
    assert_int_equal(c.payload_format, IFX_PAYLOAD_BASE64);
    ifx_config_free(&c);
    parse_ok(IFX_ROLE_SOURCE, "{" V2_SOURCE ",\"payload_format\":\"base64\"}", &c);
    assert_int_equal(c.payload_format, IFX_PAYLOAD_BASE64);
    ifx_config_free(&c);
    parse_ok(IFX_ROLE_SOURCE, "{" V2_SOURCE ",\"payload_format\":\"text\"}", &c);
    assert_int_equal(c.payload_format, IFX_PAYLOAD_TEXT);
    ifx_config_free(&c);
    parse_ok(IFX_ROLE_SINK, "{" V2_SINK ",\"precision\":\"ms\",\"payload_format\":\"JSON\"}", &c);
    assert_int_equal(c.precision, IFX_PRECISION_MS);
    assert_int_equal(c.payload_format, IFX_PAYLOAD_JSON);
    ifx_config_free(&c);

    /* never a silent fallback to JSON (upstream S16) */
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"payload_format\":\"xml\"}",
                   "key 'payload_format' must be one of \"json\", \"text\", \"utf8\", "
                   "\"base64\", \"raw\", \"json_fields\", got \"xml\"");
    expect_problem(IFX_ROLE_SOURCE, "{" V2_SOURCE ",\"payload_format\":1}",
                   "key 'payload_format' must be one of \"json\", \"text\", \"utf8\", "
                   "\"base64\", \"raw\", \"json_fields\", got 1");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"precision\":\"u\"}",
                   "key 'precision' must be one of \"ns\", \"us\", \"ms\", \"s\", got \"u\"");
    parse_ok(IFX_ROLE_SINK, "{" V2_SINK ",\"precision\":null,\"payload_format\":null}", &c);
    assert_int_equal(c.precision, IFX_PRECISION_US);
    assert_int_equal(c.payload_format, IFX_PAYLOAD_JSON);
    ifx_config_free(&c);
}

static void test_measurement(void **state)
{
    ifx_config c;
    ifx_problems problems;
    ifx_err err;
    static const char *const bad[] = {
        "{" V2_SINK ",\"measurement\":\"\"}",
        "{" V2_SINK ",\"measurement\":\"#cpu\"}",
        "{" V2_SINK ",\"measurement\":\"a\\tb\"}",
        "{" V2_SINK ",\"measurement\":\"a\\\\\"}",
    };
    (void)state;

    parse_ok(IFX_ROLE_SINK, "{" V2_SINK ",\"measurement\":\"cpu load,x=y\"}", &c);
    assert_string_equal(c.measurement, "cpu load,x=y");
    ifx_config_free(&c);
    parse_ok(IFX_ROLE_SINK, "{" V2_SINK ",\"measurement\":null}", &c);
    assert_string_equal(c.measurement, "iggy_messages");
    ifx_config_free(&c);
    /* v3 keeps a backslash exactly when it is not the last character; 1.x and 2.x would not */
    parse_ok(IFX_ROLE_SINK, "{" V3_SINK ",\"measurement\":\"a\\\\ b\"}", &c);
    assert_string_equal(c.measurement, "a\\ b");
    ifx_config_free(&c);
    /* no server stores a measurement ending with one (v3 refuses it however it is escaped) */
    expect_problem(IFX_ROLE_SINK, "{" V3_SINK ",\"measurement\":\"a\\\\\"}",
                   "key 'measurement': measurement \"a\\\" ends with a backslash, which InfluxDB "
                   "cannot store: 3.x refuses it however it is escaped, 1.x and 2.x misread it");

    /* the refusals are the line builder's own (upstream S9: not checked until write time) */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ifx_err_clear(&err);
        assert_int_equal(
            ifx_config_parse_json(&c, IFX_ROLE_SINK, bad[i], strlen(bad[i]), &problems, &err),
            IFX_E_CONFIG);
        assert_int_equal(problems.count, 1);
        assert_true(strncmp(problems.items[0], "key 'measurement': measurement", 30) == 0);
        assert_string_equal(err.msg, problems.items[0]);
        ifx_problems_free(&problems);
    }
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"measurement\":\"#cpu\"}",
                   "key 'measurement': measurement \"#cpu\" starts with '#', which makes the line "
                   "a comment");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"measurement\":5}",
                   "key 'measurement' must be a string, got 5");
}

static void test_source_keys(void **state)
{
    ifx_config c;
    (void)state;

    parse_ok(IFX_ROLE_SOURCE,
             "{" V3_SOURCE ",\"initial_offset\":\"2024-01-01T02:00:00.5+02:00\","
             "\"cursor_field\":\"ts\",\"payload_column\":\"payload\"}",
             &c);
    /* stored in one spelling, UTC */
    assert_string_equal(c.initial_offset, "2024-01-01T00:00:00.5Z");
    assert_int_equal(c.initial_offset_ns, 1704067200500000000LL);
    assert_string_equal(c.cursor_field, "ts");
    assert_string_equal(c.payload_column, "payload");
    ifx_config_free(&c);
    parse_ok(IFX_ROLE_SOURCE, "{" V2_SOURCE ",\"initial_offset\":\"1969-12-31T23:59:59Z\"}", &c);
    assert_int_equal(c.initial_offset_ns, -1000000000LL);
    ifx_config_free(&c);

    expect_problem(IFX_ROLE_SOURCE, "{" V3_SOURCE ",\"initial_offset\":\"2024-01-01T00:00:00\"}",
                   "key 'initial_offset' has an invalid RFC 3339 timestamp "
                   "\"2024-01-01T00:00:00\": missing zone (Z or +HH:MM)");
    expect_problem(IFX_ROLE_SOURCE, "{" V3_SOURCE ",\"initial_offset\":\"2023-02-29T00:00:00Z\"}",
                   "key 'initial_offset' has an invalid RFC 3339 timestamp "
                   "\"2023-02-29T00:00:00Z\": day 29 is out of range for 2023-02");
    expect_problem(IFX_ROLE_SOURCE, "{" V3_SOURCE ",\"initial_offset\":0}",
                   "key 'initial_offset' must be an RFC 3339 timestamp string such as "
                   "\"2024-01-01T00:00:00Z\", got 0");

    expect_problem(IFX_ROLE_SOURCE, "{" V2_SOURCE ",\"cursor_field\":\"time\"}",
                   "key 'cursor_field' must not be \"time\" for v2: Flux names the timestamp "
                   "column \"_time\"");
    expect_problem(IFX_ROLE_SOURCE, "{" V3_SOURCE ",\"cursor_field\":\"_time\"}",
                   "key 'cursor_field' must not be \"_time\" for v3: SQL names the timestamp "
                   "column \"time\"");
    expect_problem(IFX_ROLE_SOURCE, "{" V1_SOURCE ",\"cursor_field\":\"_time\"}",
                   "key 'cursor_field' must not be \"_time\" for v1: InfluxQL names the "
                   "timestamp column \"time\"");
    expect_problem(IFX_ROLE_SOURCE, "{" V3_SOURCE ",\"cursor_field\":\"\"}",
                   "key 'cursor_field' must not be empty; use \"_time\" for v2 or \"time\" for v1 "
                   "and v3");
    /* auto does not know yet which spelling the server uses */
    parse_ok(IFX_ROLE_SOURCE,
             "{\"version\":\"auto\",\"url\":\"http://h\",\"query\":\"q\",\"cursor_field\":\"_time\""
             "}",
             &c);
    assert_string_equal(c.cursor_field, "_time");
    ifx_config_free(&c);
    parse_ok(IFX_ROLE_SOURCE, "{" V2_SOURCE ",\"cursor_field\":\"_time\"}", &c);
    ifx_config_free(&c);
    parse_ok(IFX_ROLE_SOURCE, "{" V3_SOURCE ",\"cursor_field\":\"time\"}", &c);
    ifx_config_free(&c);
}

/* ---- problem collection ---------------------------------------------------------------------- */

static void test_many_problems_in_order(void **state)
{
    (void)state;
    /* input order first, then the cross-key rules in table order */
    expect_problems(
        IFX_ROLE_DETECT,
        "{\"timeout\":\"5x\",\"bukcet\":\"b\",\"url\":\"ftp://h\",\"batch_size\":0,"
        "\"db\":\"d\",\"database\":\"e\",\"org\":\"\",\"include_metadata\":\"no\","
        "\"payload_format\":\"xml\",\"version\":\"v2\"}",
        "key 'timeout' has an invalid duration \"5x\": unknown unit \"x\" (ns, us, ms, "
        "s, m, h, d or w)",
        "unknown key 'bukcet'; did you mean 'bucket'?",
        "key 'url' must start with http:// or https://, got \"ftp://h\"",
        "key 'batch_size' must be an integer from 1 to 100000, got 0",
        "key 'db' does not apply to version v2 (it is used by v1 and v3)",
        "key 'database' does not apply to version v2 (it is used by v1 and v3)",
        "key 'org' must not be empty", "key 'include_metadata' must be true or false, got \"no\"",
        "key 'payload_format' must be one of \"json\", \"text\", \"utf8\", "
        "\"base64\", \"raw\", \"json_fields\", got \"xml\"",
        "keys 'db' and 'database' name the same setting; give only one",
        "missing key 'token' (required for v2)", "missing key 'bucket' (required for a v2 sink)");
    /* the version is read first, so keys before it are judged by it */
    expect_problems(IFX_ROLE_DETECT,
                    "{\"org\":\"o\",\"query\":\"q\",\"url\":\"http://h\",\"version\":\"v3\"}",
                    "key 'org' does not apply to version v3 (it is used by v2)",
                    "missing key 'db' (required for v3)");
}

/* ---- secrets --------------------------------------------------------------------------------- */

static void test_secrets_never_shown(void **state)
{
    ifx_config c;
    char *out;
    (void)state;

    /* a wrong type names only the kind of a secret's value */
    expect_problem(IFX_ROLE_SINK,
                   "{\"url\":\"http://h\",\"org\":\"o\",\"bucket\":\"b\",\"token\":12345}",
                   "key 'token' must be a string, got a number");
    expect_problem(IFX_ROLE_SINK, "{" V1_SINK ",\"password\":[\"s3cr3t\"]}",
                   "key 'password' must be a string, got an array");
    expect_problem(IFX_ROLE_SINK, "{" V1_SINK ",\"password\":{\"s3cr3t\":1}}",
                   "key 'password' must be a string, got an object");
    expect_problem(IFX_ROLE_SINK, "{" V1_SINK ",\"token\":true}",
                   "key 'token' must be a string, got a boolean");
    /* a secret in a key of another version, or next to other problems */
    expect_problems(IFX_ROLE_SINK,
                    "{\"version\":\"v2\",\"password\":\"s3cr3t-pw\",\"token\":\"s3cr3t-tk\","
                    "\"url\":\"http://u:s3cr3t@h/x/?p=s3cr3t\"}",
                    "key 'password' does not apply to version v2 (it is used by v1)",
                    "key 'url' must not have a query string or fragment (ifx adds the "
                    "parameters itself), got \"http://u:***@h/x/?...\"",
                    "missing key 'org' (required for v2)",
                    "missing key 'bucket' (required for a v2 sink)");

    /* the normalised output hides every secret: token, password and the url's password */
    parse_ok(IFX_ROLE_SINK,
             "{\"version\":\"v1\",\"url\":\"http://admin:s3cr3t-url@h:8086\",\"db\":\"d\","
             "\"username\":\"u\",\"password\":\"s3cr3t-pw\"}",
             &c);
    out = to_json(&c);
    assert_non_null(strstr(out, "\"url\": \"http://admin:***@h:8086\""));
    assert_non_null(strstr(out, "\"password\": \"***\""));
    assert_null(strstr(out, "\"token\""));
    free(out);
    ifx_config_free(&c);

    parse_ok(IFX_ROLE_SINK, "{" V2_SINK "}", &c);
    out = to_json(&c);
    assert_non_null(strstr(out, "\"token\": \"***\""));
    free(out);
    ifx_config_free(&c);
}

/* Issue 10 #5: a token with CR or LF injected HTTP headers ("abc\r\nX-Injected: yes" passed
 * validation and the server received the extra header). Control characters and surrounding
 * spaces are refused in token, username and password, naming the key, never the value. */
static void test_credentials_refuse_control_characters(void **state)
{
    ifx_config c;
    (void)state;
    static const char ctl[] = "must not contain control characters such as CR, LF or TAB (the "
                              "value is not shown)";
    static const char space[] = "must not begin or end with a space (the value is not shown)";
    char want[300];

    snprintf(want, sizeof want, "key 'token' %s", ctl);
    expect_problem(IFX_ROLE_SINK,
                   "{\"version\":\"v3\",\"url\":\"http://h\",\"db\":\"d\","
                   "\"token\":\"s3cr3t\\r\\nX-Injected: yes\"}",
                   want);
    expect_problem(IFX_ROLE_SINK,
                   "{\"url\":\"http://h\",\"org\":\"o\",\"bucket\":\"b\",\"token\":\"s3cr3t\\n\"}",
                   want);
    expect_problem(IFX_ROLE_SINK, "{" V1_SINK ",\"token\":\"s3\\tcr3t\"}", want);
    expect_problem(IFX_ROLE_SINK, "{" V1_SINK ",\"token\":\"s3cr3t\\u007f\"}", want);
    snprintf(want, sizeof want, "key 'password' %s", ctl);
    expect_problem(IFX_ROLE_SINK, "{" V1_SINK ",\"username\":\"u\",\"password\":\"s3cr3t\\r\"}",
                   want);
    snprintf(want, sizeof want, "key 'username' %s", ctl);
    expect_problem(IFX_ROLE_SOURCE,
                   "{" V1_SOURCE ",\"username\":\"s3cr3t\\nX: y\",\"password\":\"p\"}", want);

    snprintf(want, sizeof want, "key 'token' %s", space);
    expect_problem(IFX_ROLE_SINK, "{" V1_SINK ",\"token\":\" s3cr3t\"}", want);
    expect_problem(IFX_ROLE_SINK, "{" V1_SINK ",\"token\":\"s3cr3t \"}", want);
    snprintf(want, sizeof want, "key 'password' %s", space);
    expect_problem(IFX_ROLE_SINK, "{" V1_SINK ",\"password\":\"s3cr3t \"}", want);
    snprintf(want, sizeof want, "key 'username' %s", space);
    expect_problem(IFX_ROLE_SINK, "{" V1_SINK ",\"username\":\" s3cr3t\"}", want);

    /* inner spaces and any other printable text stay valid */
    parse_ok(IFX_ROLE_SINK,
             "{" V1_SINK ",\"username\":\"a user\",\"password\":\"p@ss w:rd\\u00e9\"}", &c);
    assert_string_equal(c.http.password, "p@ss w:rd\xc3\xa9");
    ifx_config_free(&c);
    /* an empty or blank token still means "no token" where one is optional */
    parse_ok(IFX_ROLE_SINK,
             "{\"version\":\"v3\",\"url\":\"http://h\",\"db\":\"d\",\"token\":\"  \"}", &c);
    assert_null(c.http.token);
    ifx_config_free(&c);
}

/* Issue 10 #6: the one function every printed URL goes through hides the userinfo password
 * (all of it, up to the last '@' of the authority) and any query or fragment. */
static void test_url_redacted(void **state)
{
    static const char *const cases[][2] = {
        {"http://admin:s3cr3t@h:8086", "http://admin:***@h:8086"},
        {"https://u:s3cr3t@h/base/", "https://u:***@h/base/"},
        {"http://u:s3cr3t@with@at@h:1/p", "http://u:***@h:1/p"},
        {"http://u:@h", "http://u:***@h"},
        {"http://user@h:8086", "http://user@h:8086"},
        {"http://h:8086/x", "http://h:8086/x"},
        {"http://h/p@q:r", "http://h/p@q:r"},
        {"http://h/write?u=admin&p=s3cr3t", "http://h/write?..."},
        {"http://u:s3cr3t@h/#s3cr3t", "http://u:***@h/#..."},
        {"http://u:s3cr3t@h?p=s3cr3t", "http://u:***@h?..."},
        {"u:s3cr3t@h", "u:***@h"},
        {"", ""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = ifx_url_redacted(cases[i][0]);
        assert_non_null(got);
        if (strcmp(got, cases[i][1]) != 0)
            fail_msg("%s: got %s, want %s", cases[i][0], got, cases[i][1]);
        free(got);
    }
}

/* ---- normalised output ----------------------------------------------------------------------- */

static void test_to_json_exact(void **state)
{
    static const char want[] = "{\n"
                               "  \"version\": \"v1\",\n"
                               "  \"role\": \"source\",\n"
                               "  \"url\": \"https://admin:***@influx.example.com:8086\",\n"
                               "  \"token\": \"***\",\n"
                               "  \"db\": \"telemetry\",\n"
                               "  \"retention_policy\": \"autogen\",\n"
                               "  \"username\": \"iggy\",\n"
                               "  \"query\": \"SELECT * FROM cpu WHERE time > '$cursor' LIMIT "
                               "$limit\",\n"
                               "  \"poll_interval\": \"1s500ms\",\n"
                               "  \"query_window\": \"0s\",\n"
                               "  \"cursor_field\": \"time\",\n"
                               "  \"initial_offset\": \"2024-03-01T11:00:00.5Z\",\n"
                               "  \"payload_column\": null,\n"
                               "  \"payload_format\": \"text\",\n"
                               "  \"batch_size\": 1000,\n"
                               "  \"stuck_batch_cap_factor\": 0,\n"
                               "  \"include_metadata\": false,\n"
                               "  \"verbose_logging\": false,\n"
                               "  \"log_format\": \"text\",\n"
                               "  \"max_retries\": 3,\n"
                               "  \"retry_delay\": \"1s\",\n"
                               "  \"retry_max_delay\": \"5s\",\n"
                               "  \"timeout\": \"1m30s\",\n"
                               "  \"max_open_retries\": 10,\n"
                               "  \"open_retry_max_delay\": \"1m\",\n"
                               "  \"circuit_breaker_threshold\": 5,\n"
                               "  \"circuit_breaker_cool_down\": \"30s\",\n"
                               "  \"timestamp_source\": \"row\",\n"
                               "  \"stats_interval\": \"1m\",\n"
                               "  \"retry_after_max\": \"1m\",\n"
                               "  \"gzip\": true,\n"
                               "  \"gzip_threshold\": 1024,\n"
                               "  \"tls_ca_file\": null,\n"
                               "  \"tls_cert_file\": null,\n"
                               "  \"tls_key_file\": null,\n"
                               "  \"tls_insecure_skip_verify\": false,\n"
                               "  \"ignore_proxy_env\": false\n"
                               "}";
    ifx_config c;
    char *out;
    (void)state;

    parse_ok(IFX_ROLE_DETECT,
             "{\"version\":\"V1\",\"url\":\"HTTPS://admin:s3cr3t-url@influx.example.com:8086/\","
             "\"database\":\"telemetry\",\"retention_policy\":\"autogen\",\"username\":\"iggy\","
             "\"token\":\"s3cr3t-pw\",\"query\":\"SELECT * FROM cpu WHERE time > '$cursor' LIMIT "
             "$limit\",\"initial_offset\":\"2024-03-01T12:00:00.5+01:00\",\"poll_interval\":"
             "\"1500ms\",\"timeout\":\"90 seconds\",\"payload_format\":\"UTF8\",\"batch_size\":"
             "1000,\"stuck_batch_cap_factor\":0,\"include_metadata\":false,\"payload_column\":"
             "null}",
             &c);
    out = to_json(&c);
    assert_string_equal(out, want);
    free(out);
    ifx_config_free(&c);
}

static void test_to_json_roles_and_versions(void **state)
{
    ifx_config c;
    char *out;
    ifx_err err;
    (void)state;

    /* a v2 sink: no db, no source keys */
    parse_ok(IFX_ROLE_SINK, "{" V2_SINK "}", &c);
    out = to_json(&c);
    assert_non_null(strstr(out, "\"version\": \"v2\",\n  \"role\": \"sink\",\n  \"url\""));
    assert_non_null(strstr(out, "\"bucket\": \"events\""));
    assert_non_null(strstr(out, "\"timeout\": \"30s\""));
    assert_null(strstr(out, "\"db\""));
    assert_null(strstr(out, "\"query\""));
    assert_null(strstr(out, "\"poll_interval\""));
    assert_null(strstr(out, "\"username\""));
    free(out);
    ifx_config_free(&c);

    /* a v3 source: no org, no sink keys */
    parse_ok(IFX_ROLE_SOURCE, "{" V3_SOURCE "}", &c);
    out = to_json(&c);
    assert_non_null(strstr(out, "\"db\": \"iggy\""));
    assert_non_null(strstr(out, "\"timeout\": \"10s\""));
    assert_null(strstr(out, "\"org\""));
    assert_null(strstr(out, "\"measurement\""));
    assert_null(strstr(out, "\"precision\""));
    assert_null(strstr(out, "\"include_checksum\""));
    free(out);
    ifx_config_free(&c);

    /* an initialised config has no url yet: shown as null */
    assert_int_equal(ifx_config_init(&c, IFX_ROLE_SINK, NULL), IFX_OK);
    out = to_json(&c);
    assert_non_null(strstr(out, "\"url\": null"));
    assert_null(strstr(out, "\"token\""));
    free(out);
    ifx_config_free(&c);

    /* a freed config has no role */
    ifx_err_clear(&err);
    assert_int_equal(ifx_config_to_json(&c, &out, &err), IFX_E_USAGE);
    assert_null(out);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(ifx_role_name(IFX_ROLE_SINK), "sink");
    assert_string_equal(ifx_role_name(IFX_ROLE_SOURCE), "source");
    assert_string_equal(ifx_payload_format_name(IFX_PAYLOAD_JSON), "json");
    assert_string_equal(ifx_payload_format_name(IFX_PAYLOAD_TEXT), "text");
    assert_string_equal(ifx_payload_format_name(IFX_PAYLOAD_BASE64), "base64");
    ifx_problems_free(NULL);
}

static void test_sink_extensions(void **state)
{
    ifx_config c;
    (void)state;
    parse_ok(IFX_ROLE_SINK,
             "{" V2_SINK ",\"payload_format\":\"json_fields\",\"tag_keys\":[\"region\"],"
             "\"field_keys\":[\"a\",\"b\"],\"timestamp_source\":\"payload\","
             "\"timestamp_field\":\"ts\",\"timestamp_unit\":\"s\",\"offset_as\":\"field\","
             "\"default_tags\":{\"env\":\"prod\",\"dc\":\"eu\"},\"max_batch_bytes\":65536,"
             "\"dead_letter_file\":\"/tmp/dl.jsonl\",\"spool_dir\":\"/tmp/spool\","
             "\"stats_interval\":\"0s\"}",
             &c);
    assert_int_equal(c.payload_format, IFX_PAYLOAD_JSON_FIELDS);
    assert_int_equal(c.tag_keys.n, 1);
    assert_string_equal(c.tag_keys.items[0], "region");
    assert_int_equal(c.field_keys.n, 2);
    assert_string_equal(c.field_keys.items[1], "b");
    assert_int_equal(c.timestamp_source, IFX_TS_PAYLOAD);
    assert_string_equal(c.timestamp_field, "ts");
    assert_int_equal(c.timestamp_unit, IFX_PRECISION_S);
    assert_int_equal(c.offset_as, IFX_OFFSET_FIELD);
    assert_int_equal(c.default_tags.n, 2);
    assert_string_equal(c.default_tags.keys[0], "env");
    assert_string_equal(c.default_tags.values[1], "eu");
    assert_int_equal(c.max_batch_bytes, 65536);
    assert_string_equal(c.spool_dir, "/tmp/spool");
    assert_int_equal(c.stats_interval_ns, 0);
    char *out = to_json(&c);
    assert_non_null(
        strstr(out, "\"default_tags\": {\n    \"env\": \"prod\",\n    \"dc\": \"eu\"\n  }"));
    assert_non_null(strstr(out, "\"tag_keys\": [\n    \"region\"\n  ]"));
    free(out);
    ifx_config_free(&c);

    /* defaults */
    parse_ok(IFX_ROLE_SINK, "{" V2_SINK "}", &c);
    assert_int_equal(c.timestamp_source, IFX_TS_IGGY);
    assert_int_equal(c.offset_as, IFX_OFFSET_TAG);
    assert_int_equal(c.max_batch_bytes, 8u << 20);
    assert_int_equal(c.stats_interval_ns, 60ull * 1000000000ull);
    assert_null(c.spool_dir);
    ifx_config_free(&c);

    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"timestamp_source\":\"payload\"}",
                   "timestamp_source \"payload\" needs the key 'timestamp_field' (the payload key "
                   "that holds the time)");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"tag_keys\":[\"a\"]}",
                   "keys 'tag_keys' and 'field_keys' need payload_format \"json_fields\"");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"tag_keys\":[\"a\",3]}",
                   "key 'tag_keys' must be an array of non-empty strings, got [\"a\",3]");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"default_tags\":{\"a\":1}}",
                   "key 'default_tags' must be an object whose values are non-empty strings, got "
                   "{\"a\":1}");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"offset_as\":\"column\"}",
                   "key 'offset_as' must be one of \"tag\", \"field\", got \"column\"");
    expect_problem(IFX_ROLE_SINK, "{" V2_SINK ",\"max_batch_bytes\":100}",
                   "key 'max_batch_bytes' must be an integer from 1024 to 67108864, got 100");
    expect_problem(IFX_ROLE_SOURCE, "{" V2_SOURCE ",\"payload_format\":\"json_fields\"}",
                   "payload_format \"json_fields\" applies to the sink; a source payload is "
                   "\"json\", \"text\" or \"raw\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_defaults),
        cmocka_unit_test(test_defaults_v2),
        cmocka_unit_test(test_defaults_v1),
        cmocka_unit_test(test_defaults_v3),
        cmocka_unit_test(test_defaults_auto),
        cmocka_unit_test(test_upstream_examples),
        cmocka_unit_test(test_null_input),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_length_bounded),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_role),
        cmocka_unit_test(test_keys_of_other_versions),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_url),
        cmocka_unit_test(test_required),
        cmocka_unit_test(test_empty_values),
        cmocka_unit_test(test_cross_keys),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_stuck_batch_cap_factor),
        cmocka_unit_test(test_query_window),
        cmocka_unit_test(test_spool_max_size),
        cmocka_unit_test(test_booleans),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_precision_and_payload_format),
        cmocka_unit_test(test_measurement),
        cmocka_unit_test(test_source_keys),
        cmocka_unit_test(test_many_problems_in_order),
        cmocka_unit_test(test_secrets_never_shown),
        cmocka_unit_test(test_url_redacted),
        cmocka_unit_test(test_credentials_refuse_control_characters),
        cmocka_unit_test(test_to_json_exact),
        cmocka_unit_test(test_to_json_roles_and_versions),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_sink_extensions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
