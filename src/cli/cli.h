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

struct ifx_config;
/* Reads and parses the configuration at path for role; on failure prints one line per problem
 * ("<path>: <problem>") on stderr and returns false. */
bool cli_load_config(const char *path, int role, struct ifx_config *cfg);

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
