/* ifx health, ifx detect: is the server there, and which one is it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ifx/client.h"
#include "core/codec.h"
#include "ifx/config.h"

static const char health_usage[] =
    "usage: ifx health -c FILE [--wait]\n"
    "\n"
    "Checks that the server of a configuration answers, accepts its credentials and has its\n"
    "target: v1 /ping, then SHOW DATABASES with username/password (a sink's db must be listed);\n"
    "v2 /health, then an empty write to the bucket (a sink; it stores nothing) or a listing of\n"
    "the org's buckets (a source), with the token; v3 /health with the token. Prints one line.\n"
    "A wrong token, password, org, bucket or database is named with its key. With --wait, retries\n"
    "up to max_open_retries times (backoff up to open_retry_max_delay) while it is unreachable.\n"
    "\n" CLI_CONFIG_USAGE "\n"
    "Exit status: 0 healthy; 1 not; 2 usage error.\n";

int cmd_health(int argc, char **argv)
{
    cli_config_opts co = {0};
    bool wait = false;
    ifx_config cfg = {0};
    ifx_client *client = NULL;
    ifx_err err;
    int status = CLI_EXIT_FAILURE;

    ifx_err_clear(&err);
    cli_args it = cli_args_start(argc, argv, health_usage, &co);
    for (const char *a; (a = cli_args_next(&it)) != NULL;) {
        if (!strcmp(a, "--wait")) {
            wait = true;
        } else {
            cli_error("health: unexpected argument '%s'\n%s", a, health_usage);
            return CLI_EXIT_USAGE;
        }
    }
    if (it.help)
        return CLI_EXIT_OK;
    if ((status = cli_config_need(&co, IFX_ROLE_DETECT, &cfg, "health", health_usage)) !=
        CLI_EXIT_OK)
        goto out;
    status = CLI_EXIT_FAILURE;
    ifx_retry_policy open_retry = {.max_attempts = cfg.max_open_retries,
                                   .base_ns = cfg.retry_delay_ns,
                                   .cap_ns = cfg.open_retry_max_delay_ns};
    if (ifx_detect_resolve_version(&cfg.version, &cfg.http, NULL, &err) ||
        ifx_client_new(cfg.version, &cfg.http, &client, &err) ||
        (wait ? ifx_client_wait_healthy(client, &open_retry, NULL, NULL, NULL, &err)
              : ifx_client_health(client, &err))) {
        printf("unhealthy: %s\n", err.msg);
        goto out;
    }
    char *shown = ifx_url_redacted(cfg.http.url); /* the url may hold a password */
    printf("healthy: %s at %s\n", ifx_version_name(cfg.version), shown ? shown : "its url");
    free(shown);
    status = CLI_EXIT_OK;
out:
    ifx_client_free(client);
    ifx_config_free(&cfg);
    return status;
}

static const char detect_usage[] =
    "usage: ifx detect URL [--token T]\n"
    "\n"
    "Asks the server at URL which InfluxDB it is (/ping status, headers and body) and prints it\n"
    "as JSON: {\"version\":\"v3\",\"product\":...,\"server_version\":...,\"build\":...,\n"
    "\"ping_needs_auth\":B,\"token_accepted\":B,\"token_checked_with\":\"GET ...\"}.\n"
    "ping_needs_auth: /ping, asked without credentials, answered 401 (only a secured 3.x does;\n"
    "false does not mean writes are open: 2.x always needs a token for them). With --token, an\n"
    "endpoint that needs credentials on every secured server is asked with it (1.x: SHOW\n"
    "DATABASES, the token written USER:PASSWORD; 2.x: the bucket list; 3.x: /health) and\n"
    "token_accepted says whether it was taken; without a token both are null.\n"
    "The token can also come from the environment variable IFX_TOKEN.\n"
    "Exit status: 0 found; 1 not InfluxDB or unreachable; 2 usage error.\n";

int cmd_detect(int argc, char **argv)
{
    const char *url = NULL, *token = getenv("IFX_TOKEN");
    ifx_detect_result d;
    ifx_err err;

    ifx_err_clear(&err);
    cli_args it = cli_args_start(argc, argv, detect_usage, NULL);
    for (const char *a; (a = cli_args_next(&it)) != NULL;) {
        if (!strcmp(a, "--token") && cli_args_value(&it, &token)) {
            /* or IFX_TOKEN */
        } else if (a[0] != '-' && !url) {
            url = a;
        } else {
            cli_error("detect: unexpected argument '%s'\n%s", a, detect_usage);
            return CLI_EXIT_USAGE;
        }
    }
    if (it.help)
        return CLI_EXIT_OK;
    if (!url) {
        cli_error("detect: missing URL\n%s", detect_usage);
        return CLI_EXIT_USAGE;
    }
    ifx_transport_options opts = {.url = (char *)url,
                                  .token = token && *token ? (char *)token : NULL,
                                  .timeout_ns = 10ULL * 1000000000ULL};
    if (ifx_detect(&opts, &d, &err)) {
        cli_error("detect: %s", err.msg);
        return CLI_EXIT_FAILURE;
    }
    /* The texts come from the server: escape them. */
    ifx_buf out;
    ifx_buf_init(&out, 4096);
    ifx_buf_printf(&out, "{\"version\":\"%s\",\"product\":", ifx_version_name(d.version));
    ifxi_json_append_string(&out, d.product, strlen(d.product));
    ifx_buf_puts(&out, ",\"server_version\":");
    ifxi_json_append_string(&out, d.server_version, strlen(d.server_version));
    ifx_buf_puts(&out, ",\"build\":");
    ifxi_json_append_string(&out, d.build, strlen(d.build));
    ifx_buf_printf(&out, ",\"ping_needs_auth\":%s", d.ping_needs_auth ? "true" : "false");
    if (d.token_checked)
        ifx_buf_printf(&out, ",\"token_accepted\":%s,\"token_checked_with\":\"%s\"}",
                       d.token_accepted ? "true" : "false", d.token_endpoint);
    else
        ifx_buf_puts(&out, ",\"token_accepted\":null,\"token_checked_with\":null}");
    puts(out.data);
    ifx_buf_free(&out);
    return CLI_EXIT_OK;
}
