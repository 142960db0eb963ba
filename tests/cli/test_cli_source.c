/* `ifx source` as a user runs it, against the v3 test server: the exact JSONL it prints, the
 * --state file that makes a second run go on where the first stopped (nothing printed twice),
 * and rows written afterwards (one of them at the time the cursor stopped at) printed exactly
 * once by the next run. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "admin.h"
#include "cli_run.h"
#include "fixture.h"
#include "ifx/client.h"
#include "ifx/config.h"

#define TOKEN "ifx-test-token"

static fixture v3;
static char dir[] = "/tmp/ifx-cli-source-XXXXXX";
static char cfgpath[256];

typedef cli_result result;
#define slurp test_slurp

static result run(const char *args)
{
    return cli_run(IFX_BIN, dir, args, NULL);
}

static void done(result *r)
{
    cli_result_free(r);
}

static void write_lp(const char *lp)
{
    admin_write_v3(v3.port, "cli", TOKEN, lp, strlen(lp));
}

/* Replaces the value of every "id" with ID, keeping the ids (in order) in ids[]. */
static char *mask_ids(const char *out, char ids[][48], size_t max, size_t *n)
{
    char *m = malloc(strlen(out) + 1), *w = m;
    const char *p = out;
    *n = 0;
    while (*p) {
        const char *q = strstr(p, "{\"id\":\"");
        if (!q) {
            strcpy(w, p);
            return m;
        }
        q += 7;
        memcpy(w, p, (size_t)(q - p));
        w += q - p;
        const char *end = strchr(q, '"');
        assert_non_null(end);
        assert_true(end - q > 0 && end - q < 48);
        for (const char *d = q; d < end; d++)
            assert_true(*d >= '0' && *d <= '9'); /* a u128 in decimal */
        if (*n < max) {
            memcpy(ids[*n], q, (size_t)(end - q));
            ids[*n][end - q] = '\0';
        }
        (*n)++;
        memcpy(w, "ID", 2);
        w += 2;
        p = end;
    }
    *w = '\0';
    return m;
}

#define LINE(ts, payload)                                                                          \
    "{\"id\":\"ID\",\"timestamp\":" ts ",\"schema\":\"json\",\"payload\":" payload "}\n"

static const char *const first3 =
    LINE("1704067201000000", "{\"host\":\"a\",\"note\":\"x y\",\"v\":1,"
                             "\"time\":\"2024-01-01T00:00:01Z\"}")
        LINE("1704067201000000", "{\"host\":\"b\",\"note\":\"x y\",\"v\":2,"
                                 "\"time\":\"2024-01-01T00:00:01Z\"}")
            LINE("1704067202500000", "{\"host\":\"a\",\"note\":\"z\",\"v\":3,"
                                     "\"time\":\"2024-01-01T00:00:02.5Z\"}");
static const char *const next2 =
    LINE("1704067202500000", "{\"host\":\"b\",\"note\":\"late\",\"v\":4,"
                             "\"time\":\"2024-01-01T00:00:02.5Z\"}")
        LINE("1704067203000000", "{\"host\":\"c\",\"note\":\"new\",\"v\":5,"
                                 "\"time\":\"2024-01-01T00:00:03Z\"}");

static void expect_output(const char *out, const char *want, char ids[][48], size_t max, size_t *n)
{
    char *masked = mask_ids(out, ids, max, n);
    if (strcmp(masked, want) != 0)
        fail_msg("ifx source printed\n%s\nwant\n%s", masked, want);
    free(masked);
}

static void test_source_once_with_state(void **state)
{
    char args[1024], ids[8][48], again[8][48], all[16][48];
    size_t n;
    (void)state;
    write_lp("m,host=a note=\"x y\",v=1i 1704067201000000000\n"
             "m,host=b note=\"x y\",v=2i 1704067201000000000\n"
             "m,host=a note=\"z\",v=3i 1704067202500000000");

    snprintf(args, sizeof args, "source -c %s --once --state %s/state", cfgpath, dir);
    result r = run(args);
    if (r.status != 0)
        fail_msg("exit %d: %s", r.status, r.err);
    expect_output(r.out, first3, ids, 8, &n);
    assert_int_equal(n, 3);
    assert_true(strcmp(ids[0], ids[1]) != 0 && strcmp(ids[1], ids[2]) != 0 &&
                strcmp(ids[0], ids[2]) != 0);
    done(&r);

    /* the same state: nothing new */
    r = run(args);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "");
    done(&r);

    /* two more points, one at the time the cursor stopped at */
    write_lp("m,host=b note=\"late\",v=4i 1704067202500000000\n"
             "m,host=c note=\"new\",v=5i 1704067203000000000");
    r = run(args);
    assert_int_equal(r.status, 0);
    expect_output(r.out, next2, again, 8, &n);
    assert_int_equal(n, 2);
    done(&r);
    r = run(args);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "");
    done(&r);

    /* from scratch (a new state file): all five, with the ids printed before */
    snprintf(args, sizeof args, "source -c %s --once --state %s/state2", cfgpath, dir);
    r = run(args);
    assert_int_equal(r.status, 0);
    char want[4096];
    snprintf(want, sizeof want, "%s%s", first3, next2);
    /* the late row sorts with its time: the fresh run sees it between rows 3 and 5 */
    char *masked = mask_ids(r.out, all, 16, &n);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(all[i], ids[i]);
    bool late = false, fresh = false;
    for (size_t i = 3; i < 5; i++) {
        late |= strcmp(all[i], again[0]) == 0;
        fresh |= strcmp(all[i], again[1]) == 0;
    }
    assert_true(late && fresh);
    /* same lines as the two runs together, up to the order of the tie at 2.5 s */
    char *p = want;
    for (int i = 0; i < 5; i++) {
        char *nl = strchr(p, '\n');
        *nl = '\0';
        if (!strstr(masked, p))
            fail_msg("the fresh run lacks\n%s\nin\n%s", p, masked);
        p = nl + 1;
    }
    free(masked);
    done(&r);

    /* a state file that is not a cursor is refused, and left alone */
    char junk[300];
    snprintf(junk, sizeof junk, "%s/junk", dir);
    FILE *f = fopen(junk, "wb");
    fputs("not a cursor", f);
    fclose(f);
    snprintf(args, sizeof args, "source -c %s --once --state %s", cfgpath, junk);
    r = run(args);
    assert_int_equal(r.status, 1);
    assert_string_equal(r.out, "");
    if (!strstr(r.err, "state"))
        fail_msg("stderr does not name the state: %s", r.err);
    done(&r);
    char *kept = slurp(junk);
    assert_string_equal(kept, "not a cursor");
    free(kept);
}

/* --once ends with the error when the query itself is wrong, instead of retrying forever. */
static void test_once_stops_on_a_bad_query(void **state)
{
    char bad[300], args[400];
    (void)state;
    write_lp("m,host=a v=1i 1000000000\n");
    snprintf(bad, sizeof bad, "%s/bad.json", dir);
    FILE *f = fopen(bad, "wb");
    fprintf(f,
            "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"cli\","
            "\"token\":\"" TOKEN "\",\"query\":\"SELEC * FROM m WHERE time > '$cursor'\","
            "\"poll_interval\":\"50ms\"}\n",
            v3.port);
    fclose(f);
    snprintf(args, sizeof args, "source -c %s --once", bad);
    result r = run(args);
    assert_int_equal(r.status, 1);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "ifx: source: HTTP 400 from /api/v3/query_sql"));
    done(&r);
}

/* Issue 10 #6: the open line shows the url without its password; and
 * tls_insecure_skip_verify = true is said at WARN. */
static void test_open_line_hides_password_and_warns_insecure(void **state)
{
    char args[1024], want[256];
    (void)state;
    snprintf(args, sizeof args,
             "source -c %s --once --set url=http://admin:s3cr3t-pw@127.0.0.1:%d --set "
             "tls_insecure_skip_verify=true",
             cfgpath, v3.port);
    result r = run(args);
    if (r.status != 0)
        fail_msg("exit %d: %s", r.status, r.err);
    snprintf(want, sizeof want,
             "INFO source: InfluxDB source open: v3 at http://admin:***@127.0.0.1:%d, ", v3.port);
    if (!strstr(r.err, want))
        fail_msg("no [%s] in\n%s", want, r.err);
    if (!strstr(r.err, "WARN source: tls_insecure_skip_verify is true: the server's certificate "
                       "is not verified"))
        fail_msg("no TLS warning in\n%s", r.err);
    assert_null(strstr(r.err, "s3cr3t"));
    assert_null(strstr(r.out, "s3cr3t"));
    done(&r);
}

/* Issue 10 #4: with a --state file that cannot be saved, `ifx source` printed the same rows
 * again and again, silently. A state file in a missing directory is refused before anything is
 * printed, with the file and the reason. */
static void test_state_in_missing_directory(void **state)
{
    char args[1024], want[1024];
    (void)state;
    snprintf(args, sizeof args, "source -c %s --once --state %s/missing/state", cfgpath, dir);
    result r = run(args);
    assert_int_equal(r.status, 1);
    assert_string_equal(r.out, "");
    snprintf(want, sizeof want,
             "ifx: source: cannot save the state to %s/missing/state: cannot create "
             "%s/missing/state.tmp: No such file or directory\n",
             dir, dir);
    assert_string_equal(r.err, want);
    done(&r);
}

/* Reads fd to its end into a new string. */
static char *read_all(int fd)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    ssize_t k;
    while ((k = read(fd, buf + n, cap - n)) > 0) {
        n += (size_t)k;
        if (n == cap)
            buf = realloc(buf, (cap *= 2) + 1);
    }
    buf[n] = '\0';
    return buf;
}

/* The state becomes unsavable after the rows are printed (the file size limit makes its write
 * fail; stdout and stderr are pipes, which the limit does not touch): `ifx source` ends with
 * the error and exit 1, and each row is printed once. */
static void test_state_save_fails_after_printing(void **state)
{
    char statepath[300];
    int out[2], err[2];
    (void)state;
    write_lp("m,host=s v=1i 1800000000000000000\nm,host=s v=2i 1800000001000000000");
    snprintf(statepath, sizeof statepath, "%s/limited-state", dir);
    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(err), 0);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit none = {0, 0};
        signal(SIGXFSZ, SIG_IGN); /* write(2) fails with EFBIG instead */
        setrlimit(RLIMIT_FSIZE, &none);
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(out[0]);
        close(out[1]);
        close(err[0]);
        close(err[1]);
        close(v3.stdin_fd);
        execl(IFX_BIN, "ifx", "source", "-c", cfgpath, "--state", statepath,
              "--set=initial_offset=2027-01-01T00:00:00Z", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    /* both are small: read them whole once the process has closed them */
    char *o = read_all(out[0]);
    char *e = read_all(err[0]);
    close(out[0]);
    close(err[0]);
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 1)
        fail_msg("status %d\n%s\n%s", st, o, e);
    /* batch_size 2: the two rows, once */
    size_t n = 0;
    for (const char *p = o; (p = strchr(p, '\n')); p++)
        n++;
    if (n != 2 || !strstr(o, "\"v\":1") || !strstr(o, "\"v\":2"))
        fail_msg("printed:\n%s", o);
    char want[1024];
    snprintf(want, sizeof want,
             "ifx: source: cannot save the state to %s: cannot write %s.tmp: File too large (the "
             "2 rows just printed are not recorded in it: they come again at the next start)\n",
             statepath, statepath);
    if (!strstr(e, want))
        fail_msg("stderr lacks\n%s\nin\n%s", want, e);
    free(o);
    free(e);
}

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!mkdtemp(dir) || fixture_start_stand_in(&v3, "v3", TOKEN))
        return -1;
    snprintf(cfgpath, sizeof cfgpath, "%s/source.json", dir);
    FILE *f = fopen(cfgpath, "wb");
    if (!f)
        return -1;
    fprintf(f,
            "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"cli\","
            "\"token\":\"" TOKEN "\",\"query\":\"SELECT * FROM m WHERE time > '$cursor' "
            "ORDER BY time LIMIT $limit\",\"batch_size\":2,\"poll_interval\":\"50ms\"}\n",
            v3.port);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fixture_stop(&v3);
    return fixture_remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source_once_with_state),
        cmocka_unit_test(test_once_stops_on_a_bad_query),
        cmocka_unit_test(test_open_line_hides_password_and_warns_insecure),
        cmocka_unit_test(test_state_in_missing_directory),
        cmocka_unit_test(test_state_save_fails_after_printing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
