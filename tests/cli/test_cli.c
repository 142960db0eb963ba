/* The ifx command as a user runs it: the real binary, its stdout, stderr and exit status. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cli_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef cli_result run_result;
#define slurp test_slurp

static char tmpdir[] = "/tmp/ifx-cli-XXXXXX";

/* Runs "ifx ARGS" with stdin_text on its standard input. */
static run_result run(const char *args, const char *stdin_text)
{
    return cli_run(IFX_BIN, tmpdir, args, stdin_text);
}

static void done(run_result *r)
{
    cli_result_free(r);
}

static void write_file(const char *name, const char *text, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

static void assert_has(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("[%s] does not contain [%s]", hay, needle);
}

static void test_help_and_version(void **state)
{
    (void)state;
    run_result r = run("--help", NULL);
    assert_int_equal(r.status, 0);
    assert_has(r.out, "usage: ifx COMMAND");
    assert_has(r.out, "encode");
    done(&r);
    r = run("", NULL);
    assert_int_equal(r.status, 2);
    assert_has(r.err, "usage: ifx COMMAND");
    done(&r);
    r = run("frobnicate", NULL);
    assert_int_equal(r.status, 2);
    assert_string_equal(r.err, "ifx: unknown command 'frobnicate'; run 'ifx --help'\n");
    done(&r);
    r = run("version", NULL);
    assert_int_equal(r.status, 0);
    assert_has(r.out, "ifx 0.");
    done(&r);
    r = run("encode --help", NULL);
    assert_int_equal(r.status, 0);
    assert_has(r.out, "usage: ifx encode");
    done(&r);
    r = run("help check", NULL);
    assert_int_equal(r.status, 0);
    assert_has(r.out, "usage: ifx check");
    done(&r);
}

static void test_encode_good_and_refused(void **state)
{
    (void)state;
    run_result r = run(
        "encode",
        "{\"measurement\":\"cpu\",\"tags\":{\"host\":\"a\"},\"fields\":{\"u\":1.5},\"time\":1}\n"
        "\n"
        "{\"measurement\":\"cpu\",\"fields\":{\"time\":1}}\n"
        "{\"measurement\":\"m\",\"fields\":{\"s\":\"x\\ny\"}}\n"
        "not json\n");
    assert_int_equal(r.status, 1);
    assert_string_equal(r.out, "cpu,host=a u=1.5 1\nm s=\"x\ny\"\n");
    assert_string_equal(r.err,
                        "line 3: field key \"time\" is reserved by InfluxDB\n"
                        "line 5: invalid JSON at byte 1: invalid literal, expected 'null'\n");
    done(&r);
}

static void test_encode_versions_and_precision(void **state)
{
    char path[256];
    (void)state;
    write_file("points.jsonl",
               "{\"measurement\":\"m\",\"fields\":{\"n\":{\"uint\":5}},\"time\":1500000000}\n"
               "{\"measurement\":\"a\\\\b\",\"fields\":{\"f\":1}}\n",
               path, sizeof path);
    char args[400];
    snprintf(args, sizeof args, "encode --version v3 --precision s %s", path);
    run_result r = run(args, NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "m n=5u 1\na\\\\b f=1i\n");
    assert_string_equal(r.err, "");
    done(&r);
    snprintf(args, sizeof args, "encode --version v1 %s", path);
    r = run(args, NULL);
    assert_int_equal(r.status, 1);
    assert_string_equal(r.out, "a\\b f=1i\n");
    assert_has(r.err, "line 1: field \"n\" is unsigned, which InfluxDB 1.x cannot store");
    done(&r);
    r = run("encode --version v4", NULL);
    assert_int_equal(r.status, 2);
    assert_has(r.err, "--version must be v1, v2 or v3, got 'v4'");
    done(&r);
    r = run("encode /nonexistent/points.jsonl", NULL);
    assert_int_equal(r.status, 1);
    assert_has(r.err, "cannot open /nonexistent/points.jsonl: No such file or directory");
    done(&r);
}

static void test_check(void **state)
{
    char path[256], args[400];
    (void)state;
    write_file("v2.json",
               "{\"url\":\"http://localhost:8086/\",\"org\":\"iggy\",\"bucket\":\"events\","
               "\"token\":\"s3cr3t-t0ken\"}",
               path, sizeof path);
    snprintf(args, sizeof args, "check -c %s", path);
    run_result r = run(args, NULL);
    assert_int_equal(r.status, 0);
    assert_has(r.out, "\"version\": \"v2\"");
    assert_has(r.out, "\"url\": \"http://localhost:8086\"");
    assert_has(r.out, "\"token\": \"***\"");
    assert_has(r.out, "\"timeout\": \"30s\"");
    assert_null(strstr(r.out, "s3cr3t"));
    done(&r);

    write_file("bad.json",
               "{\"url\":\"http://localhost:8086\",\"org\":\"iggy\",\"bukcet\":\"events\","
               "\"token\":\"s3cr3t-t0ken\",\"timeout\":\"30x\"}",
               path, sizeof path);
    snprintf(args, sizeof args, "check -c %s", path);
    r = run(args, NULL);
    assert_int_equal(r.status, 1);
    assert_string_equal(r.out, "");
    assert_has(r.err, "unknown key 'bukcet'; did you mean 'bucket'?");
    assert_has(r.err, "key 'timeout'");
    assert_has(r.err, "\"30x\"");
    assert_null(strstr(r.err, "s3cr3t"));
    /* one line per problem, each naming the file */
    int lines = 0;
    for (char *p = r.err; (p = strchr(p, '\n')); p++)
        lines++;
    assert_true(lines >= 3); /* bukcet, timeout, missing bucket */
    assert_int_equal(strncmp(r.err, path, strlen(path)), 0);
    done(&r);

    r = run("check", NULL);
    assert_int_equal(r.status, 2);
    assert_has(r.err, "missing -c FILE");
    done(&r);
}

/* Issue 10 #5: `token = "abc\r\nX-Injected: yes"` passed `ifx check` and injected a header into
 * every request. It is refused with the key named and nothing of the value shown, also when it
 * comes from --set. */
static void test_check_refuses_header_injection(void **state)
{
    char path[256], args[400];
    (void)state;
    write_file("inject.toml",
               "version = \"v3\"\nurl = \"http://localhost:8181\"\ndb = \"iggy\"\n"
               "token = \"s3cr3t\\r\\nX-Injected: yes\"\n",
               path, sizeof path);
    snprintf(args, sizeof args, "check -c %s", path);
    run_result r = run(args, NULL);
    assert_int_equal(r.status, 1);
    assert_string_equal(r.out, "");
    char want[512];
    snprintf(want, sizeof want,
             "%s: key 'token' must not contain control characters such as CR, LF or TAB (the "
             "value is not shown)\n",
             path);
    assert_string_equal(r.err, want);
    done(&r);

    write_file("v1.toml",
               "version = \"v1\"\nurl = \"http://localhost:8086\"\ndb = \"iggy\"\n"
               "username = \"u\"\n",
               path, sizeof path);
    snprintf(args, sizeof args, "check -c %s --set 'password=s3cr3t\nX-Injected: yes'", path);
    r = run(args, NULL);
    assert_int_equal(r.status, 1);
    assert_has(r.err, "key 'password' must not contain control characters");
    assert_null(strstr(r.err, "s3cr3t"));
    assert_null(strstr(r.err, "Injected"));
    done(&r);
    snprintf(args, sizeof args, "check -c %s --set 'password= s3cr3t'", path);
    r = run(args, NULL);
    assert_int_equal(r.status, 1);
    assert_has(r.err, "key 'password' must not begin or end with a space (the value is not shown)");
    assert_null(strstr(r.err, "s3cr3t"));
    done(&r);
}

/* The connector files of the ABI spec (§6.2), as Iggy users have them. */
static const char sink_toml[] =
    "type = \"sink\"\n"
    "key = \"influxdb_sink\"\n"
    "enabled = true\n"
    "version = 0\n"
    "name = \"InfluxDB sink\"\n"
    "path = \"/usr/local/lib/libiggy_connector_influxdb_sink\"   # \".so\" is appended\n"
    "\n"
    "[[streams]]\n"
    "stream = \"example_stream\"\n"
    "topics = [\"example_topic\", \"other_topic\"]\n"
    "schema = \"json\"\n"
    "batch_length = 100\n"
    "poll_interval = \"5ms\"\n"
    "consumer_group = \"influxdb_sink_group\"\n"
    "\n"
    "[plugin_config]\n"
    "version = \"v3\"\n"
    "url = \"http://localhost:8181\"\n"
    "db = \"iggy\"\n"
    "token = \"s3cr3t-t0ken\"\n"
    "batch_size = 1_000\n"
    "default_tags = { env = \"prod\", 'region' = \"eu\" }\n";

static const char source_toml[] =
    "type = \"source\"\n"
    "key = \"influxdb_source\"\n"
    "enabled = true\n"
    "version = 0\n"
    "name = \"InfluxDB source\"\n"
    "path = \"/usr/local/lib/libiggy_connector_influxdb_source.so\"\n"
    "[[streams]]\n"
    "stream = \"example_stream\"\n"
    "topic = \"example_topic\"\n"
    "schema = \"json\"\n"
    "[plugin_config]\n"
    "version = \"v3\"\n"
    "url = \"http://localhost:8181\"\n"
    "db = \"iggy\"\n"
    "query = \"\"\"\n"
    "SELECT * FROM cpu WHERE time > '$cursor' ORDER BY time LIMIT $limit\"\"\"\n";

static run_result check_file(const char *name, const char *text, const char *more)
{
    char path[256], args[600];
    write_file(name, text, path, sizeof path);
    snprintf(args, sizeof args, "check -c %s %s", path, more ? more : "");
    return run(args, NULL);
}

/* A connector file, a plain TOML table and the JSON the runtime hands the plugin give one tree. */
static void test_connector_files(void **state)
{
    (void)state;
    run_result a = check_file("sink.toml", sink_toml, NULL);
    assert_int_equal(a.status, 0);
    assert_string_equal(a.err, "");
    assert_has(a.out, "\"role\": \"sink\"");
    assert_has(a.out, "\"version\": \"v3\"");
    assert_has(a.out, "\"db\": \"iggy\"");
    assert_has(a.out, "\"batch_size\": 1000");
    assert_has(a.out, "\"env\": \"prod\"");
    assert_has(a.out, "\"token\": \"***\"");
    assert_null(strstr(a.out, "s3cr3t"));
    run_result b = check_file("plain.toml",
                              "version = \"v3\"\nurl = \"http://localhost:8181\"\ndb = \"iggy\"\n"
                              "token = \"s3cr3t-t0ken\"\nbatch_size = 1000\n"
                              "[default_tags]\nenv = \"prod\"\nregion = \"eu\"\n",
                              NULL);
    run_result c = check_file(
        "plain.json",
        "{\"batch_size\":1000,\"db\":\"iggy\",\"default_tags\":{\"env\":\"prod\",\"region\":\"eu\"}"
        ","
        "\"token\":\"s3cr3t-t0ken\",\"url\":\"http://localhost:8181\",\"version\":\"v3\"}",
        NULL);
    /* the connector file as JSON, as the runtime's HTTP provider could serve it */
    run_result d = check_file(
        "conn.json",
        "{\"type\":\"sink\",\"key\":\"influxdb_sink\",\"enabled\":true,\"version\":0,"
        "\"name\":\"n\",\"path\":\"p\",\"streams\":[{\"stream\":\"s\",\"topics\":[\"t\"],"
        "\"schema\":\"json\"}],\"plugin_config\":{\"version\":\"v3\",\"url\":"
        "\"http://localhost:8181\",\"db\":\"iggy\",\"token\":\"s3cr3t-t0ken\",\"batch_size\":1000,"
        "\"default_tags\":{\"env\":\"prod\",\"region\":\"eu\"}}}",
        NULL);
    assert_int_equal(b.status, 0);
    assert_int_equal(c.status, 0);
    assert_int_equal(d.status, 0);
    assert_string_equal(a.out, b.out);
    assert_string_equal(a.out, c.out);
    assert_string_equal(a.out, d.out);
    done(&a), done(&b), done(&c), done(&d);

    /* enabled = false: valid, and said */
    char off[sizeof sink_toml + 8];
    snprintf(off, sizeof off, "%s", sink_toml);
    memcpy(strstr(off, "enabled = true"), "enabled=false ", 14);
    a = check_file("off.toml", off, NULL);
    assert_int_equal(a.status, 0);
    assert_string_equal(a.err,
                        "ifx: check: note: enabled = false, so the runtime will not load this "
                        "connector\n");
    done(&a);

    /* a source file is a source without --source */
    a = check_file("source.toml", source_toml, NULL);
    assert_int_equal(a.status, 0);
    assert_has(a.out, "\"role\": \"source\"");
    assert_has(a.out, "\"query\": \"SELECT * FROM cpu WHERE time > '$cursor' ORDER BY time LIMIT "
                      "$limit\"");
    done(&a);
    /* ... and a sink command refuses it */
    char path[256], args[400];
    write_file("source.toml", source_toml, path, sizeof path);
    snprintf(args, sizeof args, "sink -c %s", path);
    a = run(args, "");
    assert_int_equal(a.status, 1);
    assert_has(a.err, "this is a source connector file; this command runs a sink");
    done(&a);
}

static void test_config_file_errors(void **state)
{
    (void)state;
    /* TOML errors name the line and column */
    run_result r =
        check_file("bad.toml", "version = \"v3\"\nurl = \"http://x\ndb = \"iggy\"\n", NULL);
    assert_int_equal(r.status, 1);
    assert_has(r.err, "bad.toml: line 2, column 7: ");
    assert_has(r.err, "unterminated string");
    done(&r);
    r = check_file("dup.toml", "url = \"http://a\"\ndb = \"x\"\nurl = \"http://b\"\n", NULL);
    assert_int_equal(r.status, 1);
    assert_has(r.err, "dup.toml: line 3, column 1: ");
    assert_has(r.err, "url");
    done(&r);
    /* a connector file the runtime would refuse: every problem, one line each */
    r = check_file("conn.toml",
                   "type = \"sinks\"\nkey = \"\"\nenabled = \"yes\"\n[[streams]]\nstream = \"s\"\n"
                   "schema = \"xml\"\n[plugin_config]\nurl = \"http://a\"\n",
                   NULL);
    assert_int_equal(r.status, 1);
    assert_has(r.err, "conn.toml: connector file: 'type' must be \"sink\" or \"source\"");
    assert_has(r.err, "conn.toml: connector file: 'key' must not be empty");
    assert_has(r.err, "conn.toml: connector file: 'enabled' must be true or false, got a string");
    assert_has(r.err, "conn.toml: connector file: 'path' is missing");
    assert_has(r.err, "conn.toml: connector file: 'version' is missing");
    done(&r);
    r = check_file("streams.toml",
                   "type = \"sink\"\nkey = \"k\"\nenabled = true\nversion = 1\nname = \"n\"\n"
                   "path = \"p\"\n[[streams]]\nstream = \"s\"\nschema = \"xml\"\n"
                   "[plugin_config]\nurl = \"http://a\"\n",
                   NULL);
    assert_int_equal(r.status, 1);
    assert_has(r.err, "[[streams]] entry 1 needs 'topics'");
    assert_has(r.err, "[[streams]] entry 1: unknown schema \"xml\"");
    done(&r);
    /* --set without a value */
    r = check_file("sink.toml", sink_toml, "--set batch_size");
    assert_int_equal(r.status, 1);
    assert_has(r.err, "--set expects key=value, got 'batch_size'");
    done(&r);
}

/* The runtime's environment overrides, then --set; ifx check lists what they changed. */
static void test_overrides(void **state)
{
    (void)state;
    setenv("IGGY_CONNECTORS_SINK_INFLUXDB_SINK_PLUGIN_CONFIG_BATCH_SIZE", "42", 1);
    setenv("IGGY_CONNECTORS_SINK_INFLUXDB_SINK_PLUGIN_CONFIG_PAYLOAD_FORMAT", "json_fields", 1);
    setenv("IGGY_CONNECTORS_SINK_INFLUXDB_SINK_PLUGIN_CONFIG_TAG_KEYS", "[host, dc]", 1);
    setenv("IGGY_CONNECTORS_SINK_INFLUXDB_SINK_PLUGIN_CONFIG_TOKEN", "env-s3cr3t", 1);
    setenv("IGGY_CONNECTORS_SINK_INFLUXDB_SINK_PLUGIN_CONFIG_GZIP", "false", 1);
    /* other connectors and the other kind are not ours */
    setenv("IGGY_CONNECTORS_SINK_OTHER_PLUGIN_CONFIG_DB", "nope", 1);
    setenv("IGGY_CONNECTORS_SOURCE_INFLUXDB_SINK_PLUGIN_CONFIG_DB", "nope", 1);
    run_result r = check_file("sink.toml", sink_toml, NULL);
    assert_int_equal(r.status, 0);
    assert_has(r.out, "\"batch_size\": 42");
    assert_has(r.out, "\"payload_format\": \"json_fields\"");
    assert_has(r.out, "\"tag_keys\": [\n    \"host\",\n    \"dc\"\n  ]");
    assert_has(r.out, "\"gzip\": false");
    assert_has(r.out, "\"db\": \"iggy\"");
    assert_null(strstr(r.out, "s3cr3t"));
    assert_null(strstr(r.err, "s3cr3t"));
    assert_has(r.err, "ifx: check: batch_size (from "
                      "IGGY_CONNECTORS_SINK_INFLUXDB_SINK_PLUGIN_CONFIG_BATCH_SIZE)");
    assert_has(r.err, "ifx: check: token (from ");
    done(&r);
    /* --set comes last, and takes JSON values too */
    r = check_file("sink.toml", sink_toml,
                   "--set batch_size=7 --set 'measurement=\"m 1\"' --set "
                   "'default_tags={\"team\":\"data\"}' --set=gzip_threshold=2048");
    assert_int_equal(r.status, 0);
    assert_has(r.out, "\"batch_size\": 7");
    assert_has(r.out, "\"measurement\": \"m 1\"");
    assert_has(r.out, "\"team\": \"data\"");
    assert_null(strstr(r.out, "\"env\": \"prod\""));
    assert_has(r.out, "\"gzip_threshold\": 2048");
    assert_has(r.err, "ifx: check: batch_size (from --set)");
    done(&r);
    /* a plain table has no connector key: the runtime's variables cannot name it */
    r = check_file("plain.json", "{\"version\":\"v3\",\"url\":\"http://a\",\"db\":\"iggy\"}", NULL);
    assert_int_equal(r.status, 0);
    assert_has(r.out, "\"batch_size\": 500");
    assert_string_equal(r.err, "");
    done(&r);
    /* a value the config refuses is reported as from the configuration */
    setenv("IGGY_CONNECTORS_SINK_INFLUXDB_SINK_PLUGIN_CONFIG_BATCH_SIZE", "lots", 1);
    r = check_file("sink.toml", sink_toml, NULL);
    assert_int_equal(r.status, 1);
    assert_has(r.err, "batch_size");
    assert_has(r.err, "\"lots\"");
    done(&r);
    unsetenv("IGGY_CONNECTORS_SINK_INFLUXDB_SINK_PLUGIN_CONFIG_BATCH_SIZE");
    unsetenv("IGGY_CONNECTORS_SINK_INFLUXDB_SINK_PLUGIN_CONFIG_PAYLOAD_FORMAT");
    unsetenv("IGGY_CONNECTORS_SINK_INFLUXDB_SINK_PLUGIN_CONFIG_TAG_KEYS");
    unsetenv("IGGY_CONNECTORS_SINK_INFLUXDB_SINK_PLUGIN_CONFIG_TOKEN");
    unsetenv("IGGY_CONNECTORS_SINK_INFLUXDB_SINK_PLUGIN_CONFIG_GZIP");
    unsetenv("IGGY_CONNECTORS_SINK_OTHER_PLUGIN_CONFIG_DB");
    unsetenv("IGGY_CONNECTORS_SOURCE_INFLUXDB_SINK_PLUGIN_CONFIG_DB");
}

/* Log lines name the connector of a connector file; log_format "json" makes each an object. */
static void test_log_lines(void **state)
{
    char path[256], args[700];
    (void)state;
    write_file("sink.toml", sink_toml, path, sizeof path);
    /* nothing listens on port 1: the sink says so when it opens, then has nothing to send */
    snprintf(args, sizeof args,
             "sink -c %s --set url=http://127.0.0.1:1 --set log_format=json --set "
             "max_open_retries=1",
             path);
    run_result r = run(args, "");
    assert_int_equal(r.status, 0);
    char *line = strstr(r.err, "{\"ts\":\"");
    assert_non_null(line);
    assert_has(line,
               "\",\"level\":\"WARN\",\"connector\":\"sink influxdb_sink\",\"msg\":\"InfluxDB "
               "is not reachable yet");
    for (char *p = r.err; *p; p = strchr(p, '\n') + 1) {
        if (strncmp(p, "{\"ts\":", 6) != 0 && strncmp(p, "ifx: ", 5) != 0)
            fail_msg("a log line is neither JSON nor an ifx message: %s", p);
        if (!strchr(p, '\n'))
            break;
    }
    done(&r);
    snprintf(args, sizeof args, "sink -c %s --set url=http://127.0.0.1:1 --set max_open_retries=1",
             path);
    r = run(args, "");
    assert_int_equal(r.status, 0);
    assert_has(r.err, "Z WARN sink influxdb_sink: InfluxDB is not reachable yet");
    done(&r);
}

/* Issue 10 #6: a password in the url was printed in the sink's open line and in its errors. Every
 * line ifx prints shows the url with "***" for the password. */
static void test_url_password_never_printed(void **state)
{
    char path[256], args[700];
    (void)state;
    write_file("sink.toml", sink_toml, path, sizeof path);
    snprintf(args, sizeof args,
             "sink -c %s --set url=http://admin:s3cr3t-pw@127.0.0.1:1 --set max_open_retries=1",
             path);
    run_result r = run(args, "");
    assert_int_equal(r.status, 0);
    assert_has(r.err, "InfluxDB is not reachable yet (GET http://admin:***@127.0.0.1:1/health: ");
    assert_has(r.err,
               "INFO sink influxdb_sink: InfluxDB sink open: v3 at http://admin:***@127.0.0.1:1,");
    assert_null(strstr(r.err, "s3cr3t"));
    assert_null(strstr(r.out, "s3cr3t"));
    done(&r);

    r = run("detect http://admin:s3cr3t-pw@127.0.0.1:1", NULL);
    assert_int_equal(r.status, 1);
    assert_has(r.err, "ifx: detect: GET http://admin:***@127.0.0.1:1/ping: ");
    assert_null(strstr(r.err, "s3cr3t"));
    done(&r);

    snprintf(args, sizeof args, "health -c %s --set url=http://admin:s3cr3t-pw@127.0.0.1:1", path);
    r = run(args, NULL);
    assert_int_equal(r.status, 1);
    assert_has(r.out, "unhealthy: GET http://admin:***@127.0.0.1:1/health: ");
    assert_null(strstr(r.out, "s3cr3t"));
    assert_null(strstr(r.err, "s3cr3t"));
    done(&r);
}

/* tls_insecure_skip_verify = true is never on unnoticed: the sink says so at WARN when it opens. */
static void test_insecure_tls_warned(void **state)
{
    char path[256], args[700];
    (void)state;
    write_file("sink.toml", sink_toml, path, sizeof path);
    snprintf(args, sizeof args,
             "sink -c %s --set url=https://127.0.0.1:1 --set tls_insecure_skip_verify=true", path);
    run_result r = run(args, "");
    assert_int_equal(r.status, 0);
    assert_has(r.err, "Z WARN sink influxdb_sink: tls_insecure_skip_verify is true: the server's "
                      "certificate is not verified, so anyone on the network path can pose as "
                      "the server and read the credentials and the data; trust its CA with "
                      "tls_ca_file instead\n");
    done(&r);
    snprintf(args, sizeof args, "sink -c %s --set url=https://127.0.0.1:1", path);
    r = run(args, "");
    assert_int_equal(r.status, 0);
    assert_null(strstr(r.err, "tls_insecure_skip_verify"));
    done(&r);
}

/* The connector files of examples/connectors (shown in the README) stay valid. */
static void test_example_connector_files(void **state)
{
    static const char *const files[][2] = {{"influxdb_sink_v3.toml", "sink"},
                                           {"influxdb_source_v3.toml", "source"},
                                           {"influxdb_sink_v2.toml", "sink"},
                                           {"influxdb_source_v2.toml", "source"}};
    (void)state;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char args[512], want[64];
        snprintf(args, sizeof args, "check -c %s/examples/connectors/%s", IFX_SOURCE_DIR,
                 files[i][0]);
        run_result r = run(args, NULL);
        if (r.status != 0)
            fail_msg("%s: %s", files[i][0], r.err);
        snprintf(want, sizeof want, "\"role\": \"%s\"", files[i][1]);
        assert_has(r.out, want);
        assert_has(r.out,
                   strstr(files[i][0], "v3") ? "\"version\": \"v3\"" : "\"version\": \"v2\"");
        done(&r);
    }
}

/* docs/configuration.md is generated from the key table: it must match the code. */
static void test_reference_matches_docs(void **state)
{
    (void)state;
    run_result r = run("check --reference", NULL);
    assert_int_equal(r.status, 0);
    char *doc = slurp(IFX_SOURCE_DIR "/docs/configuration.md");
    if (strcmp(r.out, doc) != 0)
        fail_msg("docs/configuration.md is out of date: regenerate it with "
                 "'build/ifx check --reference > docs/configuration.md'");
    assert_non_null(strstr(doc, "| `spool_dir` | sink |"));
    free(doc);
    done(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_encode_good_and_refused),
        cmocka_unit_test(test_encode_versions_and_precision),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_check_refuses_header_injection),
        cmocka_unit_test(test_connector_files),
        cmocka_unit_test(test_config_file_errors),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_log_lines),
        cmocka_unit_test(test_url_password_never_printed),
        cmocka_unit_test(test_insecure_tls_warned),
        cmocka_unit_test(test_example_connector_files),
        cmocka_unit_test(test_reference_matches_docs),
    };
    if (!mkdtemp(tmpdir))
        return 1;
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        return 1;
    return rc;
}
