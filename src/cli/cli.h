/* ifx command line: shared helpers of the subcommands. */
#ifndef IFX_CLI_H
#define IFX_CLI_H

#include <pthread.h>
#include <stdatomic.h>
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

/* A JSONL input read line by line straight from its descriptor, so that a wait for more input
 * can be cut short by a stop (poll on the input and on wake_fd). Caller-owned; one thread. */
typedef struct cli_input {
    int fd;
    bool owned;  /* opened by cli_input_open: closed by cli_input_close */
    int wake_fd; /* -1, or a descriptor (cli_stop_fd) whose readability ends the input */
    bool eof;
    size_t pos, len;
    char buf[65536];
} cli_input;

/* Opens path for reading ("-" or NULL means stdin). */
ifx_rc cli_input_open(cli_input *in, const char *path, int wake_fd, ifx_err *err);
void cli_input_close(cli_input *in);

/* Reads one line (without its '\n') into line, which it resets first. Returns IFX_OK with *eof
 * false for a line, *eof true at the end of input or once wake_fd is readable, IFX_E_FULL for a
 * line over line->cap (the rest of that line is skipped), IFX_E_IO on a read error. */
ifx_rc cli_read_line(cli_input *in, ifx_buf *line, bool *eof, ifx_err *err);

/* Opens path for reading ("-" or NULL means stdin). */
FILE *cli_open_input(const char *path, ifx_err *err);

/* Stopping a long-running command (ifx sink, ifx source) on SIGINT or SIGTERM, one mechanism
 * for both. cli_stop_begin blocks the two signals in the calling thread before the engines start
 * theirs (they inherit the mask) and starts a watcher thread that takes them with sigwait, so
 * that stopping (mutexes, conditions, curl cancels) runs in an ordinary thread, never in a
 * signal handler. The first signal marks the stop, makes cli_stop_fd readable and runs the
 * target action. */
typedef struct cli_stop {
    pthread_t watcher;
    pthread_mutex_t lock; /* guards fn, ud, ending; the action runs under it */
    void (*fn)(void *ud);
    void *ud;
    int pipe[2];
    _Atomic bool requested;
    bool open;    /* the pipe and the lock exist */
    bool started; /* the watcher runs */
    bool ending;
} cli_stop;

bool cli_stop_begin(cli_stop *st, ifx_err *err);

/* Sets the action run on the stop signal (NULL: none), at once when the signal already came.
 * Clear it before freeing what ud points to: this waits for an action in progress. */
void cli_stop_target(cli_stop *st, void (*fn)(void *ud), void *ud);

/* True once SIGINT or SIGTERM arrived. */
bool cli_stop_requested(cli_stop *st);

/* A descriptor that becomes readable on the stop, for cli_input's wake_fd. */
int cli_stop_fd(const cli_stop *st);

/* Ends the watcher and releases everything; the signals stay blocked. Safe on a zeroed
 * cli_stop and after a failed cli_stop_begin. */
void cli_stop_end(cli_stop *st);

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

/* After a command's arguments: its -c FILE is required. Loads it (cli_load_config) and returns
 * CLI_EXIT_OK; without -c prints "<cmd>: missing -c FILE" and the usage and returns
 * CLI_EXIT_USAGE; returns CLI_EXIT_FAILURE when the configuration is refused. */
int cli_config_need(cli_config_opts *o, int role, struct ifx_config *cfg, const char *cmd,
                    const char *usage);

/* The log of a command: lines at min_level or above go to stderr, stamped with the time, in the
 * configuration's log_format, naming the connector (cli_config_opts.connector). */
typedef struct cli_log {
    int min_level;
    int format; /* an ifx_log_format */
    const char *connector;
} cli_log;

/* An ifx_log_fn with ud a cli_log. */
void cli_log_line(void *ud, int level, const char *msg);

/* Walks a command's arguments, taking the ones every command shares, so that a command's loop
 * reads only its own options:
 *
 *     cli_args it = cli_args_start(argc, argv, usage, &co);   (co NULL: no configuration)
 *     for (const char *a; (a = cli_args_next(&it)) != NULL;)
 *         if (!strcmp(a, "--format") && cli_args_value(&it, &a)) ...
 *     if (it.help)
 *         return CLI_EXIT_OK;
 *
 * cli_args_next takes -h/--help (prints usage, sets help, returns NULL) and, with co, -c FILE
 * and --set KEY=VALUE; it returns the next other argument, or NULL at the end. */
typedef struct cli_args {
    int argc;
    char **argv;
    int i; /* the argument last returned */
    const char *usage;
    cli_config_opts *co;
    bool help;
} cli_args;

cli_args cli_args_start(int argc, char **argv, const char *usage, cli_config_opts *co);
const char *cli_args_next(cli_args *it);
/* The value after the option last returned, into *value (consumed); false when none follows,
 * which leaves the option to be reported as unexpected. */
bool cli_args_value(cli_args *it, const char **value);

/* The end of the argument loops of ifx sink and ifx source, the commands that run an engine:
 * takes --verbose (lg->min_level DEBUG) or --metrics-listen HOST:PORT (checked, into
 * *metrics_listen), the argument it last returned, consuming a value; returns CLI_EXIT_OK. For a
 * bad address, or any other argument ("<cmd>: unexpected argument '...'" and the usage), prints the
 * error on stderr and returns CLI_EXIT_USAGE. */
int cli_engine_arg(cli_args *it, const char *cmd, cli_log *lg, const char **metrics_listen);

/* cli_config_need for ifx sink and ifx source, which then point their log at the configuration
 * (its log_format, and the connector it names). */
int cli_engine_config(cli_config_opts *o, int role, struct ifx_config *cfg, const char *cmd,
                      const char *usage, cli_log *lg);

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
