/* HTTPS through the HTTP engine against the project's test server on loopback: verification on
 * by default, tls_ca_file, a wrong CA, tls_insecure_skip_verify, mutual TLS with tls_cert_file
 * and tls_key_file, and unreadable TLS files. Certificates come from tests/fixtures/make_certs.sh
 * (openssl) in a fresh temporary directory; two v3 servers are started: one HTTPS only, one that
 * also requires a client certificate. Trust failures must be IFX_E_AUTH ("TLS: " and libcurl's
 * own words), never retried as transient, and no message may carry the token. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "ifx/buf.h"
#include "ifx/client.h"
#include "ifx/config.h"

#define TOKEN "tls-s3cret-token"

extern char **environ;

static char dir[64];
static fixture tls, mtls;

/* The path of a file make_certs.sh wrote. */
static const char *cert(const char *name)
{
    static char path[4][128];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", dir, name);
    return p;
}

/* Parses a v3 sink config for https://127.0.0.1:port with the extra keys, and creates the
 * client. */
static ifx_client *client(ifx_config *cfg, int port, const char *extra)
{
    char json[1024];
    ifx_client *c;
    ifx_err e;
    snprintf(json, sizeof json,
             "{\"version\":\"v3\",\"url\":\"https://127.0.0.1:%d\",\"db\":\"iggy\","
             "\"token\":\"" TOKEN "\",\"timeout\":\"10s\"%s%s}",
             port, extra ? "," : "", extra ? extra : "");
    if (ifx_config_parse_json(cfg, IFX_ROLE_SINK, json, strlen(json), NULL, &e))
        fail_msg("config: %s", e.msg);
    if (ifx_client_new(cfg->version, &cfg->http, &c, &e))
        fail_msg("client: %s", e.msg);
    return c;
}

/* A config key naming one of the certificate files: "key":"dir/name". */
static const char *file_key(char *out, size_t size, const char *key, const char *name)
{
    snprintf(out, size, "\"%s\":\"%s\"", key, cert(name));
    return out;
}

/* Any result but IFX_OK, for expect_both. */
#define ANY_FAILURE ((ifx_rc)-1)

/* Runs health then a one-line write with the config's extra keys; both must give want. The
 * messages are printed (they are what a user would read) and checked for the token. */
static void expect_both(int port, const char *extra, ifx_rc want, const char *label,
                        ifx_err *health_err, ifx_err *write_err)
{
    ifx_config cfg;
    ifx_client *c = client(&cfg, port, extra);
    ifx_write_result res;
    ifx_rc rc;

    ifx_write_result_init(&res);
    rc = ifx_client_health(c, health_err);
    print_message("%s: health -> %s: %s\n", label, ifx_rc_name(rc), rc ? health_err->msg : "");
    if (want == ANY_FAILURE)
        assert_int_not_equal(rc, IFX_OK);
    else
        assert_int_equal(rc, want);
    rc = ifx_client_write(c, "tls,case=x f=1i 1", 17, IFX_PRECISION_NS, &res, write_err);
    print_message("%s: write  -> %s: %s\n", label, ifx_rc_name(rc), rc ? write_err->msg : "");
    if (want == ANY_FAILURE)
        assert_int_not_equal(rc, IFX_OK);
    else
        assert_int_equal(rc, want);
    if (want != IFX_OK) {
        assert_null(strstr(health_err->msg, TOKEN));
        assert_null(strstr(write_err->msg, TOKEN));
        assert_int_equal(health_err->http_status, 0);
        assert_int_equal(res.status, 0);
    }
    ifx_write_result_free(&res);
    ifx_client_free(c);
    ifx_config_free(&cfg);
}

static void expect_tls_auth_error(const ifx_err *e, const char *libcurl_words)
{
    assert_int_equal(e->code, IFX_E_AUTH);
    if (!strstr(e->msg, "TLS: ") || !strstr(e->msg, libcurl_words))
        fail_msg("want \"TLS: ...%s...\", got: %s", libcurl_words, e->msg);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    return ifx_buf_append(ud, p, size * n) ? 0 : size * n;
}

/* GET /__admin/points?db=iggy over HTTPS, trusting ca.pem; the parsed answer (json_decref). */
static json_t *points_over_https(int port)
{
    char url[128];
    ifx_buf reply;
    CURL *h = curl_easy_init();
    CURLcode cc;
    json_t *j;

    assert_non_null(h);
    ifx_buf_init(&reply, 16u << 20);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/__admin/points?db=iggy", port);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CAINFO, cert("ca.pem"));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    cc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    if (cc != CURLE_OK)
        fail_msg("GET %s: %s", url, curl_easy_strerror(cc));
    j = json_loadb(reply.data, reply.len, 0, NULL);
    ifx_buf_free(&reply);
    assert_non_null(j);
    return j;
}

static size_t count_measurement(json_t *points, const char *m)
{
    size_t i, n = 0;
    json_t *p;
    json_array_foreach(points, i, p)
    {
        if (strcmp(json_string_value(json_object_get(p, "measurement")), m) == 0)
            n++;
    }
    return n;
}

/* ---- tests ------------------------------------------------------------------------------ */

/* (a) No tls_ca_file: the system's CAs do not know the test CA, and verification is on. */
static void test_default_verification_refuses_unknown_ca(void **state)
{
    ifx_err h, w;
    (void)state;
    expect_both(tls.port, NULL, IFX_E_AUTH, "(a) default", &h, &w);
    expect_tls_auth_error(&h, "SSL certificate problem");
    expect_tls_auth_error(&w, "SSL certificate problem");
}

/* (b) tls_ca_file = the test CA: health works and the write is stored. */
static void test_ca_file_trusts_server(void **state)
{
    char extra[256];
    ifx_err h, w;
    (void)state;
    expect_both(tls.port, file_key(extra, sizeof extra, "tls_ca_file", "ca.pem"), IFX_OK,
                "(b) tls_ca_file", &h, &w);
    /* the first write that reached this server: (a) and (c) never got through */
    json_t *pts = points_over_https(tls.port);
    assert_int_equal(count_measurement(pts, "tls"), 1);
    json_decref(pts);
}

/* (c) A CA that did not sign the server's certificate. */
static void test_wrong_ca_refused(void **state)
{
    char extra[256];
    ifx_err h, w;
    (void)state;
    expect_both(tls.port, file_key(extra, sizeof extra, "tls_ca_file", "other-ca.pem"), IFX_E_AUTH,
                "(c) wrong CA", &h, &w);
    expect_tls_auth_error(&h, "SSL certificate problem");
    expect_tls_auth_error(&w, "SSL certificate problem");
}

/* (d) tls_insecure_skip_verify without a CA: the unknown issuer is accepted. */
static void test_insecure_skip_verify(void **state)
{
    ifx_err h, w;
    (void)state;
    expect_both(tls.port, "\"tls_insecure_skip_verify\":true", IFX_OK, "(d) insecure", &h, &w);
}

/* (e) A server that requires a client certificate: refused without one, served with one. */
static void test_mutual_tls(void **state)
{
    char extra[768], ca[256], crt[256], key[256];
    ifx_err h, w;
    (void)state;
    file_key(ca, sizeof ca, "tls_ca_file", "ca.pem");
    expect_both(mtls.port, ca, ANY_FAILURE, "(e) mTLS, no client cert", &h, &w);
    /* Whatever libcurl reports, the reader must learn that the server wanted a certificate. */
    assert_non_null(strstr(h.msg, "certificate required"));
    assert_non_null(strstr(w.msg, "certificate required"));

    snprintf(extra, sizeof extra, "%s,%s,%s", ca,
             file_key(crt, sizeof crt, "tls_cert_file", "client.pem"),
             file_key(key, sizeof key, "tls_key_file", "client.key"));
    expect_both(mtls.port, extra, IFX_OK, "(e) mTLS, client cert", &h, &w);

    /* signed by the right CA but only for serverAuth: the server refuses it as a client's */
    snprintf(extra, sizeof extra, "%s,%s,%s", ca,
             file_key(crt, sizeof crt, "tls_cert_file", "server.pem"),
             file_key(key, sizeof key, "tls_key_file", "server.key"));
    expect_both(mtls.port, extra, ANY_FAILURE, "(e) mTLS, cert without clientAuth", &h, &w);
    assert_non_null(strstr(h.msg, "unsupported certificate"));
    assert_non_null(strstr(w.msg, "unsupported certificate"));
}

/* (f) TLS files that cannot be read: a configuration problem, reported as such, not retried. */
static void test_missing_files(void **state)
{
    char extra[768], ca[256], crt[256], key[256];
    ifx_err h, w;
    (void)state;
    expect_both(tls.port, file_key(extra, sizeof extra, "tls_ca_file", "no-such-ca.pem"),
                IFX_E_AUTH, "(f) missing tls_ca_file", &h, &w);
    expect_tls_auth_error(&h, cert("no-such-ca.pem"));
    expect_tls_auth_error(&w, cert("no-such-ca.pem"));

    snprintf(extra, sizeof extra, "%s,%s,%s", file_key(ca, sizeof ca, "tls_ca_file", "ca.pem"),
             file_key(crt, sizeof crt, "tls_cert_file", "no-such-client.pem"),
             file_key(key, sizeof key, "tls_key_file", "client.key"));
    expect_both(mtls.port, extra, IFX_E_AUTH, "(f) missing tls_cert_file", &h, &w);
    expect_tls_auth_error(&h, cert("no-such-client.pem"));
    expect_tls_auth_error(&w, cert("no-such-client.pem"));
}

/* ---- setup ------------------------------------------------------------------------------ */

static int make_certs(void)
{
    char *argv[] = {"bash", IFX_SOURCE_DIR "/tests/fixtures/make_certs.sh", dir, NULL};
    pid_t pid;
    int status;
    if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ))
        return -1;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "make_certs.sh %s failed\n", dir);
        return -1;
    }
    return 0;
}

static int start_server(fixture *f, const char *client_ca)
{
    char server_pem[128], server_key[128], ca_pem[128];
    snprintf(server_pem, sizeof server_pem, "%s", cert("server.pem"));
    snprintf(server_key, sizeof server_key, "%s", cert("server.key"));
    snprintf(ca_pem, sizeof ca_pem, "%s", cert("ca.pem"));
    char *argv[] = {"python3",
                    IFX_SOURCE_DIR "/tests/fixtures/influxdb_server.py",
                    "--mode",
                    "v3",
                    "--token",
                    TOKEN,
                    "--tls-cert",
                    server_pem,
                    "--tls-key",
                    server_key,
                    client_ca ? "--tls-client-ca" : NULL,
                    ca_pem,
                    NULL};
    if (fixture_start(f, argv, 30))
        return -1;
    if (!strstr(f->ready_line, " tls=1")) {
        fprintf(stderr, "not a TLS server: %s\n", f->ready_line);
        return -1;
    }
    return 0;
}

static void remove_certs(void)
{
    static const char *const names[] = {"ca.pem",     "ca.key",     "server.pem",   "server.key",
                                        "client.pem", "client.key", "other-ca.pem", "other-ca.key"};
    if (!dir[0])
        return;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unlink(cert(names[i]));
    if (rmdir(dir))
        fprintf(stderr, "test_tls: could not remove %s\n", dir);
    dir[0] = '\0';
}

/* Also after a failed setup, when cmocka does not call teardown. */
static void stop_all(void)
{
    fixture_stop(&tls);
    fixture_stop(&mtls);
    remove_certs();
    curl_global_cleanup();
}

static int setup(void **state)
{
    const char *tmp = getenv("TMPDIR");
    (void)state;
    snprintf(dir, sizeof dir, "%s/ifx-tls-XXXXXX", tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        dir[0] = '\0';
        return -1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (make_certs() || start_server(&tls, NULL) || start_server(&mtls, "ca.pem")) {
        stop_all();
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    stop_all();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_verification_refuses_unknown_ca),
        cmocka_unit_test(test_ca_file_trusts_server),
        cmocka_unit_test(test_wrong_ca_refused),
        cmocka_unit_test(test_insecure_skip_verify),
        cmocka_unit_test(test_mutual_tls),
        cmocka_unit_test(test_missing_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
