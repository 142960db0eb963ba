/* The server commands of the ifx binary (detect, health, write, query) against a real
 * InfluxDB 1.x and the v3 test server: stdout, stderr and exit status as a user sees them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "admin.h"
#include "cli_run.h"
#include "fixture.h"

static fixture v1, v3;
static char dir[] = "/tmp/ifx-cli-server-XXXXXX";
static char v1cfg[256], v3cfg[256], downcfg[256];

typedef cli_result result;

static result run(const char *args, const char *input)
{
    return cli_run(IFX_BIN, dir, args, input);
}

static void done(result *r)
{
    cli_result_free(r);
}

static void has(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("[%s] does not contain [%s]", hay, needle);
}

static void write_cfg(char *path, const char *name, const char *json)
{
    snprintf(path, 256, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    fputs(json, f);
    fclose(f);
}

static void test_detect_and_health(void **state)
{
    char args[512];
    (void)state;
    snprintf(args, sizeof args, "detect http://127.0.0.1:%d", v1.port);
    result r = run(args, NULL);
    assert_int_equal(r.status, 0);
    has(r.out, "{\"version\":\"v1\",\"product\":\"InfluxDB 1.x\"");
    done(&r);
    snprintf(args, sizeof args, "detect http://127.0.0.1:%d --token ifx-test-token", v3.port);
    r = run(args, NULL);
    assert_int_equal(r.status, 0);
    has(r.out, "\"version\":\"v3\",\"product\":\"InfluxDB 3 Core\"");
    done(&r);

    snprintf(args, sizeof args, "health -c %s", v1cfg);
    r = run(args, NULL);
    assert_int_equal(r.status, 1);
    has(r.out, "unhealthy: database \"cli\" does not exist (key db); InfluxDB 1.x does not create "
               "it on write: CREATE DATABASE \"cli\"");
    done(&r);
    snprintf(args, sizeof args, "query -c %s \"CREATE DATABASE cli\"", v1cfg);
    r = run(args, NULL);
    assert_int_equal(r.status, 0);
    done(&r);
    snprintf(args, sizeof args, "health -c %s", v1cfg);
    r = run(args, NULL);
    assert_int_equal(r.status, 0);
    has(r.out, "healthy: v1 at http://127.0.0.1:");
    done(&r);
    /* Issue 10 #6: the healthy line shows the url without its password */
    snprintf(args, sizeof args, "health -c %s --set url=http://admin:s3cr3t-pw@127.0.0.1:%d", v3cfg,
             v3.port);
    r = run(args, NULL);
    assert_int_equal(r.status, 0);
    char want[128];
    snprintf(want, sizeof want, "healthy: v3 at http://admin:***@127.0.0.1:%d\n", v3.port);
    assert_string_equal(r.out, want);
    assert_null(strstr(r.err, "s3cr3t"));
    done(&r);
    /* detect's own messages name the url too: a 204 /ping without a version header */
    json_decref(admin_call(v3.port, "POST", "/__admin/fault",
                           "{\"count\":1,\"status\":204,\"paths\":[\"/ping\"]}"));
    snprintf(args, sizeof args, "detect http://admin:s3cr3t-pw@127.0.0.1:%d", v3.port);
    r = run(args, NULL);
    assert_int_equal(r.status, 1);
    snprintf(want, sizeof want,
             "ifx: detect: http://admin:***@127.0.0.1:%d/ping answered 204 without a version "
             "header; set \"version\" explicitly\n",
             v3.port);
    assert_string_equal(r.err, want);
    done(&r);
    snprintf(args, sizeof args, "health -c %s", downcfg);
    r = run(args, NULL);
    assert_int_equal(r.status, 1);
    has(r.out, "unhealthy: GET http://127.0.0.1:9/health: Failed to connect to 127.0.0.1 port 9");
    has(r.out, "Couldn't connect to server");
    done(&r);
}

static void test_write_and_query_v1(void **state)
{
    char args[512];
    (void)state;
    snprintf(args, sizeof args, "query -c %s \"CREATE DATABASE cli\"", v1cfg);
    result r = run(args, NULL);
    assert_int_equal(r.status, 0);
    done(&r);

    snprintf(args, sizeof args, "write -c %s --precision s", v1cfg);
    r = run(args, "m,host=a f=1i,s=\"x,y\" 1\n\nm,host=a f= 2\nm,host=b f=3i,s=\"q\" 3\n");
    assert_int_equal(r.status, 3);
    assert_string_equal(r.out, "{\"written\":2,\"rejected\":1,\"errors\":[{\"line\":3,\"message\":"
                               "\"missing field value\"}]}\n");
    done(&r);

    snprintf(args, sizeof args, "query -c %s --format csv \"SELECT f, s, host FROM m\"", v1cfg);
    r = run(args, NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "time,f,s,host\n"
                               "1970-01-01T00:00:01Z,1,\"x,y\",a\n"
                               "1970-01-01T00:00:03Z,3,q,b\n");
    done(&r);
    snprintf(args, sizeof args, "query -c %s \"SELECT f FROM m WHERE host = 'b'\"", v1cfg);
    r = run(args, NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "{\"time\":\"1970-01-01T00:00:03Z\",\"f\":3}\n");
    done(&r);
    snprintf(args, sizeof args, "query -c %s --format table \"SELECT f FROM m\"", v1cfg);
    r = run(args, NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "time                  f\n"
                               "-----------------------\n"
                               "1970-01-01T00:00:01Z  1\n"
                               "1970-01-01T00:00:03Z  3\n");
    done(&r);
    /* no --precision and none in the configuration: ns; a configured precision is used */
    snprintf(args, sizeof args, "write -c %s", v1cfg);
    r = run(args, "p x=1i 1700000000123456789\n");
    assert_string_equal(r.out, "{\"written\":1,\"rejected\":0,\"errors\":[]}\n");
    done(&r);
    snprintf(args, sizeof args, "write -c %s --set precision=us", v1cfg);
    r = run(args, "p x=2i 1700000000123457\n");
    assert_string_equal(r.out, "{\"written\":1,\"rejected\":0,\"errors\":[]}\n");
    done(&r);
    snprintf(args, sizeof args, "query -c %s --format csv \"SELECT x FROM p\"", v1cfg);
    r = run(args, NULL);
    assert_string_equal(r.out, "time,x\n"
                               "2023-11-14T22:13:20.123456789Z,1\n"
                               "2023-11-14T22:13:20.123457Z,2\n");
    done(&r);

    snprintf(args, sizeof args, "query -c %s \"SELEC nonsense\"", v1cfg);
    r = run(args, NULL);
    assert_int_equal(r.status, 1);
    has(r.err, "ifx: query: HTTP 400 from /query: error parsing query");
    done(&r);
}

static void test_write_and_query_v3(void **state)
{
    char args[512];
    (void)state;
    /* the configuration sets no precision: line protocol's own, ns (1000000 is 1 ms), not the
     * sink's us default */
    snprintf(args, sizeof args, "write -c %s", v3cfg);
    result r = run(args, "cpu,host=a usage=0.5 1000000\ncpu,host=b usage=1.5 2000000\n");
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "{\"written\":2,\"rejected\":0,\"errors\":[]}\n");
    done(&r);
    snprintf(args, sizeof args, "query -c %s \"SELECT host, usage, time FROM cpu ORDER BY time\"",
             v3cfg);
    r = run(args, NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out,
                        "{\"host\":\"a\",\"usage\":0.5,\"time\":\"1970-01-01T00:00:00.001Z\"}\n"
                        "{\"host\":\"b\",\"usage\":1.5,\"time\":\"1970-01-01T00:00:00.002Z\"}\n");
    done(&r);
}

static void test_write_server_down(void **state)
{
    char args[512];
    (void)state;
    snprintf(args, sizeof args, "write -c %s", downcfg);
    result r = run(args, "m f=1i 1\nm f=2i 2\n");
    assert_int_equal(r.status, 1);
    has(r.out,
        "{\"written\":0,\"rejected\":0,\"pending\":2,\"error\":\"POST http://127.0.0.1:9/api/v3/"
        "write_lp: Failed to connect");
    has(r.out, "Couldn't connect to server");
    done(&r);
}

/* ignore_proxy_env: with http_proxy pointing at a dead loopback port every request fails (the
 * environment is honoured by default); with the setting, requests go to the server directly,
 * the version "auto" probe included. */
static void test_ignore_proxy_env(void **state)
{
    char args[512], want[128];
    (void)state;
    const char *bin = "http_proxy=http://127.0.0.1:1 HTTP_PROXY= all_proxy= no_proxy= " IFX_BIN;
    snprintf(args, sizeof args, "health -c %s", v3cfg);
    result r = cli_run(bin, dir, args, NULL);
    assert_int_equal(r.status, 1);
    has(r.out, "unhealthy: GET http://127.0.0.1:");
    has(r.out, "/health: Failed to connect to 127.0.0.1 port 1");
    done(&r);

    snprintf(want, sizeof want, "healthy: v3 at http://127.0.0.1:%d\n", v3.port);
    snprintf(args, sizeof args, "health -c %s --set ignore_proxy_env=true", v3cfg);
    r = cli_run(bin, dir, args, NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, want);
    done(&r);
    snprintf(args, sizeof args, "health -c %s --set ignore_proxy_env=true --set version=auto",
             v3cfg);
    r = cli_run(bin, dir, args, NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, want);
    done(&r);
}

static int setup(void **state)
{
    char *a1[] = {"python3", IFX_SOURCE_DIR "/tests/fixtures/influxdb1.py", "--influxd", INFLUXD,
                  NULL};
    char *a3[] = {"python3", IFX_SOURCE_DIR "/tests/fixtures/influxdb_server.py",
                  "--mode",  "v3",
                  "--token", "ifx-test-token",
                  NULL};
    char json[512];
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!mkdtemp(dir) || fixture_start(&v1, a1, 90) || fixture_start(&v3, a3, 30))
        return -1;
    snprintf(json, sizeof json,
             "{\"version\":\"v1\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"cli\"}", v1.port);
    write_cfg(v1cfg, "v1.json", json);
    snprintf(json, sizeof json,
             "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"cli\","
             "\"token\":\"ifx-test-token\"}",
             v3.port);
    write_cfg(v3cfg, "v3.json", json);
    write_cfg(downcfg, "down.json",
              "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:9\",\"db\":\"x\",\"max_retries\":2,"
              "\"retry_delay\":\"10ms\"}");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fixture_stop(&v1);
    fixture_stop(&v3);
    return fixture_remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detect_and_health),  cmocka_unit_test(test_write_and_query_v1),
        cmocka_unit_test(test_write_and_query_v3), cmocka_unit_test(test_write_server_down),
        cmocka_unit_test(test_ignore_proxy_env),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
