/* ifx encode: JSONL points in, line protocol out. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ifx/lp.h"
#include "ifx/point.h"

static const char usage[] =
    "usage: ifx encode [--version v1|v2|v3] [--precision ns|us|ms|s] [FILE|-]\n"
    "\n"
    "Reads one JSON point per line and prints one line protocol line per point:\n"
    "  {\"measurement\":\"cpu\",\"tags\":{\"host\":\"a\"},\"fields\":{\"usage\":64.2},"
    "\"time\":1590488773254420000}\n"
    "Field values: a string, true/false, an integer (becomes NNNi), a number with a fraction or\n"
    "exponent (a float), or {\"int\":n}, {\"uint\":n}, {\"float\":n} to force a type. \"time\" is\n"
    "optional, in nanoseconds. Blank input lines are skipped.\n"
    "\n"
    "  --version V     target server generation (default v2): v1 refuses unsigned fields;\n"
    "                  v1/v2 refuse backslash sequences that v3 reads differently; v3 escapes\n"
    "                  a backslash as \\\\\n"
    "  --precision P   unit of the written timestamps (default ns)\n"
    "\n"
    "A refused point prints nothing on stdout and 'line N: <reason>' on stderr.\n"
    "Exit status: 0 every point encoded; 1 some point refused or input unreadable; 2 usage.\n";

int cmd_encode(int argc, char **argv)
{
    const char *path = NULL;
    ifx_version version = IFX_VERSION_V2;
    ifx_precision precision = IFX_PRECISION_NS;
    ifx_buf line, scratch;
    ifx_lp lp;
    ifx_err err;
    cli_input in;
    unsigned long lineno = 0;
    bool eof = false;
    int status = CLI_EXIT_OK;

    ifx_err_clear(&err);
    cli_args it = cli_args_start(argc, argv, usage, NULL);
    for (const char *a; (a = cli_args_next(&it)) != NULL;) {
        if (strcmp(a, "--version") == 0 && cli_args_value(&it, &a)) {
            if (ifx_version_parse(a, strlen(a), &version, &err) || version == IFX_VERSION_AUTO) {
                cli_error("encode: --version must be v1, v2 or v3, got '%s'", a);
                return CLI_EXIT_USAGE;
            }
        } else if (strcmp(a, "--precision") == 0 && cli_args_value(&it, &a)) {
            if (ifx_precision_parse(a, strlen(a), &precision, &err)) {
                cli_error("encode: --precision: %s", err.msg);
                return CLI_EXIT_USAGE;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            cli_error("encode: unexpected option '%s'\n%s", a, usage);
            return CLI_EXIT_USAGE;
        } else if (!path) {
            path = a;
        } else {
            cli_error("encode: more than one input file given\n%s", usage);
            return CLI_EXIT_USAGE;
        }
    }
    if (it.help)
        return CLI_EXIT_OK;
    if (cli_input_open(&in, path, -1, &err)) {
        cli_error("encode: %s", err.msg);
        return CLI_EXIT_FAILURE;
    }
    ifx_buf_init(&line, CLI_MAX_LINE);
    ifx_buf_init(&scratch, CLI_MAX_LINE);
    /* One point at a time: a line can be as large as an input line plus its escapes. */
    ifx_lp_init(&lp, version, precision, 2 * (size_t)CLI_MAX_LINE);
    for (;;) {
        ifx_rc rc = cli_read_line(&in, &line, &eof, &err);
        if (eof)
            break;
        lineno++;
        if (rc == IFX_OK) {
            const char *p = line.data ? line.data : "";
            size_t n = line.len;
            while (n && (p[0] == ' ' || p[0] == '\t' || p[0] == '\r')) {
                p++;
                n--;
            }
            if (n == 0)
                continue;
            rc = ifx_point_encode_json(&lp, p, n, &scratch, &err);
        }
        if (rc == IFX_E_IO) {
            cli_error("encode: %s", err.msg);
            status = CLI_EXIT_FAILURE;
            break;
        }
        if (rc) {
            fprintf(stderr, "line %lu: %s\n", lineno, err.msg);
            status = CLI_EXIT_FAILURE;
            continue;
        }
        fwrite(lp.batch.data, 1, lp.batch.len, stdout);
        ifx_lp_clear_batch(&lp);
    }
    if (fflush(stdout) != 0) {
        cli_error("encode: cannot write the output");
        status = CLI_EXIT_FAILURE;
    }
    cli_input_close(&in);
    ifx_lp_free(&lp);
    ifx_buf_free(&line);
    ifx_buf_free(&scratch);
    return status;
}
