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
