/* ifx — which InfluxDB is this? (ifx_detect and version "auto"; see include/ifx/client.h)
 *
 * /ping tells the generations apart: 1.x and 2.x answer 204 with X-Influxdb-Version (and 2.x
 * X-Influxdb-Build: OSS); 3.x answers 200 with a JSON body naming the product, or 401 when it is
 * secured and no token was given, since only 3.x authenticates /ping (the spec's HTTP API notes,
 * §2.7, §3.5, §4.4). With credentials, an endpoint that needs them tells whether they are taken. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ifx/config.h" /* ifx_url_redacted */
#include "transport/transport.h"

/* A throwaway client of version v with opts' connection settings (TLS, proxy, timeout) and the
 * given credentials. */
static ifx_rc probe_client(ifx_version v, const ifx_transport_options *opts, const char *token,
                           const char *username, const char *password, ifx_client **c, ifx_err *err)
{
    ifx_transport_options conn = {.url = opts->url,
                                  .token = (char *)token,
                                  .username = (char *)username,
                                  .password = (char *)password,
                                  .timeout_ns = opts->timeout_ns,
                                  .tls_ca_file = opts->tls_ca_file,
                                  .tls_cert_file = opts->tls_cert_file,
                                  .tls_key_file = opts->tls_key_file,
                                  .tls_insecure_skip_verify = opts->tls_insecure_skip_verify,
                                  .ignore_proxy_env = opts->ignore_proxy_env};
    return ifx_client_new(v, &conn, c, err);
}

/* The generation, product and version from /ping's answer r (body in body). */
static ifx_rc identify(const char *url, const ifx_http_reply *r, const ifx_buf *body,
                       ifx_detect_result *out, ifx_err *err)
{
    snprintf(out->server_version, sizeof out->server_version, "%s", r->version);
    snprintf(out->build, sizeof out->build, "%s", r->build);
    if (r->status == 401) {
        /* Only 3.x authenticates /ping. */
        out->version = IFX_VERSION_V3;
        snprintf(out->product, sizeof out->product, "InfluxDB 3 (authentication required)");
    } else if (r->status == 200 && body->len && strstr(body->data, "\"product_name\"")) {
        char name[64] = "InfluxDB 3";
        const char *p = strstr(body->data, "\"product_name\"");
        p = strchr(p + 14, '"');
        if (p) {
            const char *e = strchr(p + 1, '"');
            if (e && (size_t)(e - p - 1) < sizeof name)
                snprintf(name, sizeof name, "%.*s", (int)(e - p - 1), p + 1);
        }
        out->version = IFX_VERSION_V3;
        snprintf(out->product, sizeof out->product, "%s", name);
        if (!out->server_version[0]) {
            const char *v = strstr(body->data, "\"version\"");
            const char *q = v ? strchr(v + 9, '"') : NULL;
            const char *e = q ? strchr(q + 1, '"') : NULL;
            if (e)
                snprintf(out->server_version, sizeof out->server_version, "%.*s", (int)(e - q - 1),
                         q + 1);
        }
    } else if (r->status == 204) {
        /* 1.x and 2.x both answer 204; the version header tells them apart ("1.8.10",
         * "v2.7.12", "2.7.11"). 2.x builds also send X-Influxdb-Build: OSS. */
        const char *v =
            out->server_version[0] == 'v' ? out->server_version + 1 : out->server_version;
        if (v[0] == '1') {
            out->version = IFX_VERSION_V1;
            snprintf(out->product, sizeof out->product, "InfluxDB 1.x");
        } else if (v[0] >= '2' && v[0] <= '9') {
            out->version = v[0] == '2' ? IFX_VERSION_V2 : IFX_VERSION_V3;
            snprintf(out->product, sizeof out->product, "InfluxDB %c.x%s%s", v[0],
                     out->build[0] ? " " : "", out->build);
        } else {
            char *shown = ifx_url_redacted(url);
            ifx_rc rc = ifx_err_set(err, IFX_E_REJECTED,
                                    "%s/ping answered 204 without a version header; set "
                                    "\"version\" explicitly",
                                    shown ? shown : "the server");
            free(shown);
            return rc;
        }
    } else {
        ifx_rc rc = ifxi_http_status_error("/ping", r->status, body,
                                           ifxi_http_classify_status(r->status), err);
        if (rc == IFX_OK) {
            char *shown = ifx_url_redacted(url);
            rc = ifx_err_set(err, IFX_E_REJECTED,
                             "%s/ping answered %ld, which no InfluxDB sends; is this InfluxDB?",
                             shown ? shown : "the server", r->status);
            free(shown);
        }
        return rc;
    }
    return IFX_OK;
}

/* With credentials: asks an endpoint of out->version that needs them on every secured server.
 * A server without auth accepts anything, which is what it will do with the sink's writes too.
 * A check that gets no clear yes or no (no answer, a 5xx) leaves token_checked false: detection
 * itself has succeeded. */
static void check_credentials(const ifx_transport_options *opts, ifx_detect_result *out)
{
    static const char *const endpoint[] = {
        [IFX_VERSION_V1] = "/query?q=SHOW%20DATABASES",
        [IFX_VERSION_V2] = "/api/v2/buckets?limit=1",
        [IFX_VERSION_V3] = "/health",
    };
    const char *token = opts->token, *user = opts->username, *password = opts->password;
    char userbuf[256];
    ifx_client *c = NULL;
    ifx_buf body;
    ifx_http_reply r = {.body = &body};
    ifx_err err;

    if (out->version == IFX_VERSION_V1 && !user && token && strchr(token, ':')) {
        /* 1.x has users, not tokens: `ifx detect --token USER:PASSWORD` */
        size_t n = (size_t)(strchr(token, ':') - token);
        if (n >= sizeof userbuf)
            return;
        memcpy(userbuf, token, n);
        userbuf[n] = '\0';
        user = userbuf;
        password = token + n + 1;
        token = NULL;
    }
    if (out->version == IFX_VERSION_V1 ? !(user || password || token) : !token)
        return;
    ifx_buf_init(&body, IFX_MAX_ERROR_BODY);
    if (probe_client(out->version, opts, token, user, password, &c, &err) == IFX_OK &&
        ifxi_http_get(c, endpoint[out->version], true, &r, &err) == IFX_OK &&
        ((r.status >= 200 && r.status < 300) || r.status == 401 || r.status == 403)) {
        out->token_checked = true;
        out->token_accepted = r.status < 300;
        snprintf(out->token_endpoint, sizeof out->token_endpoint, "GET %s",
                 out->version == IFX_VERSION_V1 ? "/query?q=SHOW DATABASES"
                                                : endpoint[out->version]);
    }
    ifx_client_free(c);
    ifx_buf_free(&body);
}

ifx_rc ifx_detect(const ifx_transport_options *opts, ifx_detect_result *out, ifx_err *err)
{
    /* /ping without credentials first, so that ping_needs_auth means what it says. A secured
     * 3.x answers that 401; it names itself only to its token (v3's transport sends "Bearer
     * <token>"), so /ping is asked again with it. 1.x and 2.x do not authenticate /ping. */
    const char *token = opts->token ? opts->token : opts->password;
    ifx_client *c = NULL;
    ifx_buf body;
    ifx_http_reply r = {.body = &body};
    ifx_rc rc;

    memset(out, 0, sizeof *out);
    ifx_buf_init(&body, IFX_MAX_ERROR_BODY);
    if ((rc = probe_client(IFX_VERSION_V3, opts, token, NULL, NULL, &c, err)) ||
        (rc = ifxi_http_get(c, "/ping", false, &r, err)))
        goto out;
    if (r.status == 401) {
        out->ping_needs_auth = true;
        if (token) {
            ifx_buf_reset(&body);
            if ((rc = ifxi_http_get(c, "/ping", true, &r, err)))
                goto out;
        }
    }
    if ((rc = identify(opts->url, &r, &body, out, err)))
        goto out;
    check_credentials(opts, out);
out:
    ifx_client_free(c);
    ifx_buf_free(&body);
    return rc;
}

ifx_rc ifx_detect_resolve_version(ifx_version *version, const ifx_transport_options *opts,
                                  ifx_detect_result *found, ifx_err *err)
{
    ifx_detect_result d;
    ifx_rc rc;

    if (*version != IFX_VERSION_AUTO)
        return IFX_OK;
    if ((rc = ifx_detect(opts, &d, err)))
        return ifx_err_prefix(err, "version \"auto\": cannot tell which InfluxDB this is");
    if (found)
        *found = d;
    if ((d.version == IFX_VERSION_V1 || d.version == IFX_VERSION_V3) && !opts->db)
        return ifx_err_set(err, IFX_E_CONFIG, "the server is %s, which needs the key 'db'",
                           d.product);
    if (d.version == IFX_VERSION_V2 &&
        (!opts->org || (opts->for_write && !opts->bucket) || !opts->token))
        return ifx_err_set(err, IFX_E_CONFIG,
                           "the server is %s, which needs the keys 'org', "
                           "'token'%s",
                           d.product, opts->for_write ? " and 'bucket'" : "");
    *version = d.version;
    return IFX_OK;
}
