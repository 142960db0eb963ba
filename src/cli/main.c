/* ifx — command line entry point: dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ifx_build_version.h"

static const char usage[] =
    "usage: ifx COMMAND [OPTIONS]\n"
    "\n"
    "Move data between Apache Iggy streams and InfluxDB v1, v2 and v3.\n"
    "\n"
    "Commands:\n"
    "  check    validate a connector configuration and print it normalised\n"
    "  encode   turn JSONL points into InfluxDB line protocol\n"
    "  sink     run the sink engine on a JSONL stream of messages\n"
    "  source   run the source engine, printing JSONL messages\n"
    "  write    write line protocol to the configured server\n"
    "  query    run a query on the configured server and print the rows\n"
    "  health   check that the configured server answers and accepts the credentials\n"
    "  detect   ask a server which InfluxDB it is\n"
    "  version  print the ifx version\n"
    "  help     print this help, or a command's help: ifx help COMMAND\n"
    "\n"
    "Run 'ifx COMMAND --help' for the options of a command.\n";

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
    {"check", cmd_check},   {"encode", cmd_encode}, {"write", cmd_write}, {"query", cmd_query},
    {"health", cmd_health}, {"detect", cmd_detect}, {"sink", cmd_sink},   {"source", cmd_source},
};

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    const struct command *cmd;

    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    if (cli_is_help(argv[1])) {
        fputs(usage, stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("ifx %s\n", IFX_VERSION_STRING);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "help") == 0) {
        if (argc < 3) {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        }
        cmd = find_command(argv[2]);
        if (!cmd) {
            cli_error("unknown command '%s'; run 'ifx --help'", argv[2]);
            return CLI_EXIT_USAGE;
        }
        char *help_argv[] = {argv[2], "--help", NULL};
        return cmd->run(2, help_argv);
    }
    cmd = find_command(argv[1]);
    if (!cmd) {
        cli_error("unknown command '%s'; run 'ifx --help'", argv[1]);
        return CLI_EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}
