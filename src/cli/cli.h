/* ifx command line: shared helpers of the subcommands. */
#ifndef IFX_CLI_H
#define IFX_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "ifx/buf.h"
#include "ifx/error.h"

/* Exit codes shared by every command. */
#define CLI_EXIT_OK      0
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE   2

/* Largest configuration file read (bytes). */
#define CLI_MAX_CONFIG (4u << 20)
/* Longest input line of a JSONL stream (bytes). */
#define CLI_MAX_LINE (16u << 20)

/* Reads the whole file at path ("-" for stdin) into out, up to cap bytes. */
ifx_rc cli_read_file(const char *path, size_t cap, ifx_buf *out, ifx_err *err);

/* Reads one line (without its '\n') into line, which it resets first. Returns IFX_OK with *eof
 * false for a line, *eof true at the end of input, IFX_E_FULL for a line over line->cap (the rest
 * of that line is skipped), IFX_E_IO on a read error. */
ifx_rc cli_read_line(FILE *in, ifx_buf *line, bool *eof, ifx_err *err);

/* Opens path for reading ("-" or NULL means stdin). */
FILE *cli_open_input(const char *path, ifx_err *err);

/* Most --set options taken by one command. */
#define CLI_MAX_SETS 64

/* Where a command's configuration comes from: -c FILE and --set key=value. */
typedef struct cli_config_opts {
    const char *path;
    const char *sets[CLI_MAX_SETS];
    size_t nsets;
    bool bad;            /* too many --set: reported by cli_load_config */
    const char *report;  /* a command name: list the overridden keys on stderr under it */
    char connector[160]; /* after loading: "sink", or "sink <key>" for a connector file */
    bool disabled;       /* after loading: a connector file with enabled = false */
} cli_config_opts;

/* Takes -c/--config FILE or --set key=value at argv[*i] (advancing *i past the value) and
 * returns true, or returns false when argv[*i] is neither. */
bool cli_config_arg(int argc, char **argv, int *i, cli_config_opts *o);

/* The usage lines of -c and --set, shared by every command that reads a configuration. */
#define CLI_CONFIG_USAGE                                                                           \
    "  -c, --config FILE    the configuration: an Iggy connector file (TOML, its "                 \
    "[plugin_config]\n"                                                                            \
    "                       is used) or a table of plugin keys as TOML or JSON ('-': stdin)\n"     \
    "  --set KEY=VALUE      set a plugin key after reading the file and the runtime's\n"           \
    "                       IGGY_CONNECTORS_<KIND>_<KEY>_PLUGIN_CONFIG_<FIELD> variables\n"        \
    "                       (repeatable; VALUE as JSON, else true/false, a number, [a,b], text)\n"

struct ifx_config;
/* Reads the configuration of o for role (an ifx_role): the file, then the environment overrides
 * (connector files), then the --set options; parses and checks it. On failure prints one line
 * per problem ("<path>: <problem>") on stderr and returns false. With o->report set, prints each
 * overridden key on stderr ("ifx: <report>: key (from origin)"). */
bool cli_load_config(cli_config_opts *o, int role, struct ifx_config *cfg);

/* The log of a command: lines at min_level or above go to stderr, stamped with the time, in the
 * configuration's log_format, naming the connector (cli_config_opts.connector). */
typedef struct cli_log {
    int min_level;
    int format; /* an ifx_log_format */
    const char *connector;
} cli_log;

/* An ifx_log_fn with ud a cli_log. */
void cli_log_line(void *ud, int level, const char *msg);

/* Prints "ifx: <msg>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* True when arg is -h or --help. */
bool cli_is_help(const char *arg);

int cmd_check(int argc, char **argv);
int cmd_encode(int argc, char **argv);
int cmd_health(int argc, char **argv);
int cmd_detect(int argc, char **argv);
int cmd_write(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_sink(int argc, char **argv);
int cmd_source(int argc, char **argv);

#endif
