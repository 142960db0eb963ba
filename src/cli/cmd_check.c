/* ifx check: validate a configuration and print it normalised, secrets hidden. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ifx/config.h"

static const char usage[] =
    "usage: ifx check -c FILE [--sink | --source]\n"
    "       ifx check --reference   (print every key, type, default and meaning as Markdown)\n"
    "\n"
    "Parses and validates a connector configuration (an Iggy connector file, or the table of\n"
    "plugin keys the runtime passes as [plugin_config]) and prints it normalised as JSON, with\n"
    "every default filled in and every secret shown as \"***\". The keys set by environment\n"
    "overrides and --set are listed on stderr.\n"
    "\n" CLI_CONFIG_USAGE
    "  --sink, --source     the connector kind; by default a connector file's type, else a\n"
    "                       configuration with a \"query\" key is a source, any other a sink\n"
    "\n"
    "Exit status: 0 valid; 1 invalid, with one line per problem on stderr; 2 usage error.\n";

int cmd_check(int argc, char **argv)
{
    cli_config_opts co = {0};
    ifx_role role = IFX_ROLE_DETECT;
    ifx_config cfg = {0};
    ifx_err err;
    char *json = NULL;
    int status = CLI_EXIT_FAILURE;

    ifx_err_clear(&err);
    cli_args it = cli_args_start(argc, argv, usage, &co);
    for (const char *a; (a = cli_args_next(&it)) != NULL;) {
        if (strcmp(a, "--reference") == 0) {
            char *md;
            if (ifx_config_reference_markdown(&md, &err)) {
                cli_error("check: %s", err.msg);
                return CLI_EXIT_FAILURE;
            }
            fputs(md, stdout);
            free(md);
            return CLI_EXIT_OK;
        } else if (strcmp(a, "--sink") == 0) {
            role = IFX_ROLE_SINK;
        } else if (strcmp(a, "--source") == 0) {
            role = IFX_ROLE_SOURCE;
        } else {
            cli_error("check: unexpected argument '%s'\n%s", a, usage);
            return CLI_EXIT_USAGE;
        }
    }
    if (it.help)
        return CLI_EXIT_OK;
    if (!co.path) {
        cli_error("check: missing -c FILE\n%s", usage);
        return CLI_EXIT_USAGE;
    }
    co.report = "check";
    if (!cli_load_config(&co, role, &cfg))
        goto out;
    if (co.disabled)
        fputs("ifx: check: note: enabled = false, so the runtime will not load this connector\n",
              stderr);
    if (ifx_config_to_json(&cfg, &json, &err)) {
        cli_error("check: %s", err.msg);
        goto out;
    }
    printf("%s\n", json);
    status = CLI_EXIT_OK;
out:
    free(json);
    ifx_config_free(&cfg);
    return status;
}
