/* The HTTP engine, the v1 transport and the writer against a real InfluxDB 1.x: detection,
 * health, writes with gzip, partial writes (named and unnamed rejections), 413 splitting, an
 * unknown database, connection failures with retries, and queries read back row by row; and a
 * second 1.x with authentication on: credentials right, wrong and missing, and users that may
 * only write or only read one database. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "write_run.h"
#include "connector/engine.h"
#include "ifx/client.h"
#include "ifx/config.h"
#include "ifx/rows.h"
#include "connector/writer.h"

static fixture server, secured; /* secured: auth-enabled, admin "admin" / "ifx-admin-pw" */

static void make_config(ifx_config *cfg, const char *db, int port, const char *extra)
{
    char json[1024];
    ifx_err e;
    snprintf(json, sizeof json,
             "{\"version\":\"v1\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"%s\","
             "\"retry_delay\":\"10ms\",\"retry_max_delay\":\"50ms\"%s%s}",
             port, db, extra ? "," : "", extra ? extra : "");
    if (ifx_config_parse_json(cfg, IFX_ROLE_SINK, json, strlen(json), NULL, &e))
        fail_msg("config: %s", e.msg);
}

typedef struct collected {
    size_t n;
    char text[64][160]; /* "time|field=value" per row, for comparisons */
} collected;

static ifx_rc collect(void *ud, const ifx_row *row, ifx_err *err)
{
    collected *c = ud;
    char *t = c->text[c->n < 64 ? c->n : 63];
    size_t k = 0;
    (void)err;
    for (size_t i = 0; i < row->ncols && k < 150; i++) {
        const ifx_value *v = &row->vals[i];
        k += (size_t)snprintf(t + k, 160 - k, "%s%.*s=", i ? " " : "", (int)row->cols[i].len,
                              row->cols[i].name);
        switch (v->type) {
        case IFX_VAL_TIME:
        case IFX_VAL_I64:
            k += (size_t)snprintf(t + k, 160 - k, "%lld", (long long)v->v.i);
            break;
        case IFX_VAL_F64:
            k += (size_t)snprintf(t + k, 160 - k, "%g", v->v.f);
            break;
        case IFX_VAL_STRING:
            k += (size_t)snprintf(t + k, 160 - k, "%.*s", (int)v->v.s.len, v->v.s.p);
            break;
        case IFX_VAL_NULL:
            k += (size_t)snprintf(t + k, 160 - k, "null");
            break;
        default:
            k += (size_t)snprintf(t + k, 160 - k, "?");
        }
    }
    c->n++;
    return IFX_OK;
}

static void query_rows(ifx_client *c, const char *q, collected *out)
{
    ifx_buf body;
    ifx_result_format fmt;
    ifx_rows_reader r;
    ifx_err e;
    memset(out, 0, sizeof *out);
    ifx_buf_init(&body, 1 << 24);
    ifx_rows_reader_init(&r);
    if (ifx_client_query(c, IFX_QUERY_DEFAULT, q, strlen(q), 0, &body, &fmt, &e))
        fail_msg("query %s: %s", q, e.msg);
    if (ifx_rows_read(&r, fmt, body.data ? body.data : "", body.len, collect, out, &e))
        fail_msg("rows of %s: %s", q, e.msg);
    ifx_rows_reader_free(&r);
    ifx_buf_free(&body);
}

/* Writes text (lines joined by '\n') through a writer. */
static ifx_rc write_text(ifx_client *c, const ifx_config *cfg, const char *text,
                         ifx_write_report *rep, rejects *rj, ifx_writer *stats, ifx_err *e)
{
    return write_run(c, cfg, NULL, IFX_PRECISION_NS, text, rep, rj, stats, e);
}

static ifx_client *client_for(ifx_config *cfg, const char *db, const char *extra)
{
    ifx_client *c;
    ifx_err e;
    make_config(cfg, db, server.port, extra);
    if (ifx_client_new(cfg->version, &cfg->http, &c, &e))
        fail_msg("client: %s", e.msg);
    return c;
}

static void create_db(ifx_client *c, const char *db)
{
    char q[128];
    ifx_buf body;
    ifx_result_format fmt;
    ifx_err e;
    ifx_buf_init(&body, 1 << 20);
    snprintf(q, sizeof q, "CREATE DATABASE %s", db);
    if (ifx_client_query(c, IFX_QUERY_DEFAULT, q, strlen(q), 0, &body, &fmt, &e))
        fail_msg("%s: %s", q, e.msg);
    ifx_buf_free(&body);
}

static void test_detect_and_health(void **state)
{
    ifx_detect_result d;
    ifx_err e;
    char url[64];
    ifx_config cfg;
    (void)state;
    snprintf(url, sizeof url, "http://127.0.0.1:%d", server.port);
    assert_int_equal(
        ifx_detect(&(ifx_transport_options){.url = url, .timeout_ns = 5000000000ULL}, &d, &e),
        IFX_OK);
    assert_int_equal(d.version, IFX_VERSION_V1);
    assert_string_equal(d.product, "InfluxDB 1.x");
    assert_memory_equal(d.server_version, "1.", 2);

    /* "auto" resolves to v1 */
    char json[256];
    snprintf(json, sizeof json, "{\"version\":\"auto\",\"url\":\"%s\",\"db\":\"x\"}", url);
    assert_int_equal(ifx_config_parse_json(&cfg, IFX_ROLE_SINK, json, strlen(json), NULL, &e),
                     IFX_OK);
    assert_int_equal(ifx_detect_resolve_version(&cfg.version, &cfg.http, NULL, &e), IFX_OK);
    assert_int_equal(cfg.version, IFX_VERSION_V1);
    ifx_client *c;
    assert_int_equal(ifx_client_new(cfg.version, &cfg.http, &c, &e), IFX_OK);
    /* /ping says nothing of the database: a sink's health check proves it exists, since 1.x
     * never creates one on write. */
    assert_int_equal(ifx_client_health(c, &e), IFX_E_CONFIG);
    assert_string_equal(e.msg, "database \"x\" does not exist (key db); InfluxDB 1.x does not "
                               "create it on write: CREATE DATABASE \"x\"");
    create_db(c, "x");
    assert_int_equal(ifx_client_health(c, &e), IFX_OK);
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

static void test_write_query_and_gzip(void **state)
{
    ifx_config cfg;
    ifx_client *c = client_for(&cfg, "w1", "\"gzip_threshold\":64");
    ifx_write_report rep;
    rejects rj;
    ifx_writer st;
    collected rows;
    ifx_err e;
    (void)state;
    create_db(c, "w1");
    assert_int_equal(write_text(c, &cfg,
                                "cpu,host=a usage=1.5,n=1i 1000\n"
                                "cpu,host=b usage=2.5,n=2i 2000\n"
                                "cpu,host=a usage=3.5,n=3i 3000\n",
                                &rep, &rj, &st, &e),
                     IFX_OK);
    assert_int_equal(rep.written, 3);
    assert_int_equal(rep.rejected, 0);
    assert_int_equal(st.requests, 1);
    /* gzip is on above 64 bytes, so this 96-byte batch went compressed: 1.x decoded it. (That
     * the body really was compressed is checked against the test server's request log.) */
    query_rows(c, "SELECT usage, n FROM cpu ORDER BY time", &rows);
    assert_int_equal(rows.n, 3);
    assert_string_equal(rows.text[0], "time=1000 usage=1.5 n=1");
    assert_string_equal(rows.text[2], "time=3000 usage=3.5 n=3");
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

static void test_partial_writes(void **state)
{
    ifx_config cfg;
    ifx_client *c = client_for(&cfg, "p1", NULL);
    ifx_write_report rep;
    rejects rj;
    ifx_writer st;
    collected rows;
    ifx_err e;
    (void)state;
    create_db(c, "p1");
    assert_int_equal(write_text(c, &cfg, "m f=1i 1\n", &rep, &rj, NULL, &e), IFX_OK);

    /* A field type conflict: 1.x stores the others and only counts the drop; the writer
     * halves the batch until it finds the line. */
    assert_int_equal(write_text(c, &cfg, "m f=2i 10\nm f=3i 20\nm f=1.5 30\nm f=4i 40\nm f=5i 50\n",
                                &rep, &rj, &st, &e),
                     IFX_OK);
    assert_int_equal(rep.written, 4);
    assert_int_equal(rep.rejected, 1);
    assert_int_equal(rj.index[0], 2);
    assert_non_null(strstr(rj.reason[0], "field type conflict"));
    assert_true(st.requests > 1);

    /* A parse error: 1.x names the line, the others are stored. */
    assert_int_equal(write_text(c, &cfg, "m f=6i 60\nm f= 70\nm f=7i 80\n", &rep, &rj, &st, &e),
                     IFX_OK);
    assert_int_equal(rep.written, 2);
    assert_int_equal(rep.rejected, 1);
    assert_int_equal(rj.index[0], 1);
    assert_int_equal(st.requests, 1);

    /* Unsigned: 1.x cannot parse it. */
    assert_int_equal(write_text(c, &cfg, "u v=1u 1\n", &rep, &rj, NULL, &e), IFX_OK);
    assert_int_equal(rep.rejected, 1);
    assert_non_null(strstr(rj.reason[0], "invalid number"));

    query_rows(c, "SELECT f FROM m ORDER BY time", &rows);
    assert_int_equal(rows.n, 7);
    assert_string_equal(rows.text[0], "time=1 f=1");
    assert_string_equal(rows.text[3], "time=40 f=4");
    assert_string_equal(rows.text[6], "time=80 f=7");
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

static void test_unknown_database_is_pending(void **state)
{
    ifx_config cfg;
    ifx_client *c = client_for(&cfg, "nosuchdb", NULL);
    ifx_write_report rep;
    rejects rj;
    ifx_err e;
    (void)state;
    /* Not bad data but a configuration error: nothing is rejected, nothing written. */
    assert_int_equal(write_text(c, &cfg, "m f=1i 1\nm f=2i 2\n", &rep, &rj, NULL, &e),
                     IFX_E_REJECTED);
    assert_int_equal(rep.written + rep.rejected, 0);
    assert_int_equal(e.http_status, 404);
    /* the server's message decoded once: its JSON escapes are not its words */
    assert_string_equal(e.msg, "HTTP 404 from /write: database not found: \"nosuchdb\"");
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

static void test_unreachable_is_transient(void **state)
{
    ifx_config cfg;
    ifx_client *c;
    ifx_write_report rep;
    rejects rj;
    ifx_writer st;
    ifx_err e;
    (void)state;
    /* port 9 on loopback: nothing listens there */
    make_config(&cfg, "x", 9, "\"max_retries\":3");
    assert_int_equal(ifx_client_new(cfg.version, &cfg.http, &c, &e), IFX_OK);
    assert_int_equal(write_text(c, &cfg, "m f=1i 1\n", &rep, &rj, &st, &e), IFX_E_TRANSIENT);
    assert_int_equal(st.requests, 3);
    assert_int_equal(st.retries, 2);
    assert_non_null(strstr(e.msg, "Couldn't connect to server"));
    assert_int_equal(ifx_client_health(c, &e), IFX_E_TRANSIENT);
    ifx_client_free(c);
    ifx_config_free(&cfg);

    /* a password inside the url never reaches a message */
    const char *json = "{\"version\":\"v1\",\"url\":\"http://admin:pw-s3cret@127.0.0.1:9\","
                       "\"db\":\"x\",\"max_retries\":1}";
    assert_int_equal(ifx_config_parse_json(&cfg, IFX_ROLE_SINK, json, strlen(json), NULL, &e),
                     IFX_OK);
    assert_int_equal(ifx_client_new(cfg.version, &cfg.http, &c, &e), IFX_OK);
    assert_int_equal(ifx_client_health(c, &e), IFX_E_TRANSIENT);
    assert_null(strstr(e.msg, "pw-s3cret"));
    assert_non_null(strstr(e.msg, "GET http://admin:***@127.0.0.1:9/ping: "));
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

static void test_statement_error(void **state)
{
    ifx_config cfg;
    ifx_client *c = client_for(&cfg, "nosuchdb", NULL);
    ifx_buf body;
    ifx_result_format fmt;
    ifx_rows_reader r;
    collected rows = {0};
    ifx_err e;
    (void)state;
    ifx_buf_init(&body, 1 << 20);
    ifx_rows_reader_init(&r);
    assert_int_equal(
        ifx_client_query(c, IFX_QUERY_DEFAULT, "SELECT * FROM m", 15, 0, &body, &fmt, &e), IFX_OK);
    assert_int_equal(ifx_rows_read(&r, fmt, body.data, body.len, collect, &rows, &e),
                     IFX_E_REJECTED);
    assert_non_null(strstr(e.msg, "database not found: nosuchdb"));
    /* A syntax error is a 400 before any result */
    assert_int_equal(ifx_client_query(c, IFX_QUERY_DEFAULT, "SELEC x", 7, 0, &body, &fmt, &e),
                     IFX_E_REJECTED);
    assert_int_equal(e.http_status, 400);
    assert_non_null(strstr(e.msg, "error parsing query"));
    ifx_rows_reader_free(&r);
    ifx_buf_free(&body);
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

static int setup(void **state)
{
    /* A small body limit, so that a 413 is easy to provoke. */
    char *argv[] = {"python3",
                    IFX_SOURCE_DIR "/tests/fixtures/influxdb1.py",
                    "--influxd",
                    INFLUXD,
                    "--max-body-size",
                    "20000",
                    NULL};
    char *secured_argv[] = {"python3",   IFX_SOURCE_DIR "/tests/fixtures/influxdb1.py",
                            "--influxd", INFLUXD,
                            "--auth",    NULL};
    (void)state;
    return fixture_start(&server, argv, 90) || fixture_start(&secured, secured_argv, 90);
}

static void test_413_splits(void **state)
{
    ifx_config cfg;
    ifx_client *c = client_for(&cfg, "big", "\"gzip\":false");
    ifx_write_report rep;
    rejects rj;
    ifx_writer st;
    collected rows;
    ifx_err e;
    ifx_buf text;
    (void)state;
    create_db(c, "big");
    ifx_buf_init(&text, 1 << 22);
    /* 400 lines of ~110 bytes: 44 KB, over the 20000-byte limit; and one line alone over it */
    for (int i = 0; i < 400; i++)
        ifx_buf_printf(&text, "m s=\"%0100d\" %d\n", i, i + 1);
    ifx_buf_puts(&text, "m s=\"");
    for (int i = 0; i < 25000; i++)
        ifx_buf_putc(&text, 'x');
    ifx_buf_puts(&text, "\" 999999\n");
    assert_int_equal(write_text(c, &cfg, text.data, &rep, &rj, &st, &e), IFX_OK);
    assert_int_equal(rep.written, 400);
    assert_int_equal(rep.rejected, 1);
    assert_int_equal(rj.index[0], 400);
    assert_non_null(strstr(rj.reason[0], "HTTP 413"));
    query_rows(c, "SELECT count(s) FROM m", &rows);
    assert_int_equal(rows.n, 1);
    assert_string_equal(rows.text[0], "time=0 count=400");
    ifx_buf_free(&text);
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

static int teardown(void **state)
{
    (void)state;
    fixture_stop(&server);
    fixture_stop(&secured);
    return 0;
}

/* A client of the secured server for role, db and credentials (user NULL: none). */
static ifx_rc secured_health(ifx_role role, const char *db, const char *user, const char *pw,
                             char *msg, size_t cap)
{
    char json[512];
    ifx_config cfg;
    ifx_client *c = NULL;
    ifx_err e;
    int n = snprintf(json, sizeof json,
                     "{\"version\":\"v1\",\"url\":\"http://127.0.0.1:%d\","
                     "\"db\":\"%s\"",
                     secured.port, db);
    if (user)
        n += snprintf(json + n, sizeof json - (size_t)n, ",\"username\":\"%s\",\"password\":\"%s\"",
                      user, pw);
    if (role == IFX_ROLE_SOURCE)
        n += snprintf(json + n, sizeof json - (size_t)n,
                      ",\"query\":\"SELECT * FROM m WHERE time > '$cursor' LIMIT $limit\"");
    snprintf(json + n, sizeof json - (size_t)n, "}");
    if (ifx_config_parse_json(&cfg, role, json, strlen(json), NULL, &e) ||
        ifx_client_new(cfg.version, &cfg.http, &c, &e))
        fail_msg("secured client: %s", e.msg);
    ifx_err_clear(&e);
    ifx_rc rc = ifx_client_health(c, &e);
    snprintf(msg, cap, "%s", e.msg);
    ifx_client_free(c);
    ifx_config_free(&cfg);
    return rc;
}

/* auth-enabled = true: /ping still answers anyone, so the health check proves the credentials
 * with SHOW DATABASES, which lists only the databases the user may use. */
/* ifx_detect with credentials (issue 14.2): 1.x never authenticates /ping, so ping_needs_auth is
 * false even with auth on; SHOW DATABASES tells whether the credentials are taken. */
static void detect_with(int port, const char *token, const char *user, const char *pw,
                        ifx_detect_result *d)
{
    char url[64];
    ifx_err e;
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    ifx_transport_options o = {.url = url,
                               .token = (char *)token,
                               .username = (char *)user,
                               .password = (char *)pw,
                               .timeout_ns = 5000000000ULL};
    assert_int_equal(ifx_detect(&o, d, &e), IFX_OK);
    assert_int_equal(d->version, IFX_VERSION_V1);
    assert_false(d->ping_needs_auth);
}

static void test_detect_credentials(void **state)
{
    ifx_detect_result d;
    (void)state;
    detect_with(secured.port, NULL, NULL, NULL, &d);
    assert_false(d.token_checked);
    detect_with(secured.port, "admin:ifx-admin-pw", NULL, NULL, &d);
    assert_true(d.token_checked);
    assert_true(d.token_accepted);
    assert_string_equal(d.token_endpoint, "GET /query?q=SHOW DATABASES");
    detect_with(secured.port, "admin:wrong", NULL, NULL, &d);
    assert_true(d.token_checked);
    assert_false(d.token_accepted);
    detect_with(secured.port, NULL, "admin", "ifx-admin-pw", &d);
    assert_true(d.token_accepted);
    detect_with(secured.port, NULL, "admin", "wrong", &d);
    assert_true(d.token_checked);
    assert_false(d.token_accepted);
    /* auth off: any credentials are taken, as the writes will be */
    detect_with(server.port, "anyone:anything", NULL, NULL, &d);
    assert_true(d.token_checked);
    assert_true(d.token_accepted);
}

static void test_authentication(void **state)
{
    char msg[512];
    ifx_config cfg;
    ifx_client *admin;
    ifx_buf body;
    ifx_result_format fmt;
    ifx_err e;
    (void)state;
    char json[256];
    snprintf(json, sizeof json,
             "{\"version\":\"v1\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"a\",\"username\":"
             "\"admin\",\"password\":\"ifx-admin-pw\"}",
             secured.port);
    assert_int_equal(ifx_config_parse_json(&cfg, IFX_ROLE_SINK, json, strlen(json), NULL, &e),
                     IFX_OK);
    assert_int_equal(ifx_client_new(cfg.version, &cfg.http, &admin, &e), IFX_OK);
    ifx_buf_init(&body, 1 << 20);
    const char *setup = "CREATE DATABASE a; CREATE DATABASE b; CREATE USER w WITH PASSWORD 'wpw'; "
                        "GRANT WRITE ON a TO w; CREATE USER r WITH PASSWORD 'rpw'; GRANT READ ON "
                        "b TO r";
    assert_int_equal(
        ifx_client_query(admin, IFX_QUERY_DEFAULT, setup, strlen(setup), 0, &body, &fmt, &e),
        IFX_OK);

    assert_int_equal(secured_health(IFX_ROLE_SINK, "a", "admin", "ifx-admin-pw", msg, sizeof msg),
                     IFX_OK);
    assert_int_equal(secured_health(IFX_ROLE_SINK, "a", "admin", "wrong", msg, sizeof msg),
                     IFX_E_AUTH);
    assert_string_equal(msg, "the server refused the credentials (keys username and password): "
                             "HTTP 401 from /query: authorization failed");
    assert_int_equal(secured_health(IFX_ROLE_SINK, "a", NULL, NULL, msg, sizeof msg), IFX_E_AUTH);
    assert_string_equal(msg, "the server refused the credentials (keys username and password): "
                             "HTTP 401 from /query: unable to parse authentication credentials");
    /* w may write to a only; r may read b only */
    assert_int_equal(secured_health(IFX_ROLE_SINK, "a", "w", "wpw", msg, sizeof msg), IFX_OK);
    assert_int_equal(secured_health(IFX_ROLE_SINK, "b", "w", "wpw", msg, sizeof msg), IFX_E_CONFIG);
    assert_string_equal(msg, "database \"b\" does not exist or the user may not use it (key db); "
                             "InfluxDB 1.x does not create it on write: CREATE DATABASE \"b\"");
    assert_int_equal(secured_health(IFX_ROLE_SOURCE, "b", "r", "rpw", msg, sizeof msg), IFX_OK);
    assert_int_equal(secured_health(IFX_ROLE_SOURCE, "b", "r", "wrong", msg, sizeof msg),
                     IFX_E_AUTH);

    /* w writes to a through the writer; the admin reads it back */
    ifx_config wcfg;
    ifx_client *w;
    ifx_write_report rep;
    rejects rj;
    snprintf(json, sizeof json,
             "{\"version\":\"v1\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"a\",\"username\":"
             "\"w\",\"password\":\"wpw\"}",
             secured.port);
    assert_int_equal(ifx_config_parse_json(&wcfg, IFX_ROLE_SINK, json, strlen(json), NULL, &e),
                     IFX_OK);
    assert_int_equal(ifx_client_new(wcfg.version, &wcfg.http, &w, &e), IFX_OK);
    assert_int_equal(
        write_text(w, &wcfg, "m f=1.5 1000000000\nm f=2.5 2000000000", &rep, &rj, NULL, &e),
        IFX_OK);
    assert_int_equal(rep.written, 2);
    /* and may not read it back: a 1.x statement-level refusal is an error, not an empty answer */
    const char *sel = "SELECT f FROM m";
    assert_int_not_equal(
        ifx_client_query(w, IFX_QUERY_DEFAULT, sel, strlen(sel), 0, &body, &fmt, &e), IFX_OK);
    collected rows = {0};
    ifx_rows_reader rr;
    ifx_rows_reader_init(&rr);
    assert_int_equal(
        ifx_client_query(admin, IFX_QUERY_DEFAULT, sel, strlen(sel), 0, &body, &fmt, &e), IFX_OK);
    assert_int_equal(ifx_rows_read(&rr, fmt, body.data, body.len, collect, &rows, &e), IFX_OK);
    assert_int_equal(rows.n, 2);
    ifx_rows_reader_free(&rr);
    ifx_client_free(w);
    ifx_config_free(&wcfg);
    ifx_buf_free(&body);
    ifx_client_free(admin);
    ifx_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detect_and_health),
        cmocka_unit_test(test_write_query_and_gzip),
        cmocka_unit_test(test_partial_writes),
        cmocka_unit_test(test_unknown_database_is_pending),
        cmocka_unit_test(test_unreachable_is_transient),
        cmocka_unit_test(test_statement_error),
        cmocka_unit_test(test_413_splits),
        cmocka_unit_test(test_authentication),
        cmocka_unit_test(test_detect_credentials),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
