/* ifx command line: input helpers. */
#include "cli/cli.h"

#include "ifx/config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

FILE *cli_open_input(const char *path, ifx_err *err)
{
    FILE *f;
    if (!path || strcmp(path, "-") == 0)
        return stdin;
    f = fopen(path, "rb");
    if (!f)
        ifx_err_set(err, IFX_E_IO, "cannot open %s: %s", path, strerror(errno));
    return f;
}

ifx_rc cli_read_file(const char *path, size_t cap, ifx_buf *out, ifx_err *err)
{
    char chunk[65536];
    size_t n;
    ifx_rc rc = IFX_OK;
    FILE *f = cli_open_input(path, err);

    if (!f)
        return IFX_E_IO;
    ifx_buf_init(out, cap);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (ifx_buf_append(out, chunk, n)) {
            rc = ifx_err_set(err, IFX_E_FULL, "%s is larger than %zu bytes", path, cap);
            goto out;
        }
    }
    if (ferror(f))
        rc = ifx_err_set(err, IFX_E_IO, "cannot read %s: %s", path, strerror(errno));
out:
    if (f != stdin)
        fclose(f);
    if (rc)
        ifx_buf_free(out);
    return rc;
}

ifx_rc cli_read_line(FILE *in, ifx_buf *line, bool *eof, ifx_err *err)
{
    int c;
    bool too_long = false, any = false;

    ifx_buf_reset(line);
    while ((c = getc_unlocked(in)) != EOF) {
        any = true;
        if (c == '\n')
            break;
        if (!too_long && ifx_buf_putc(line, (char)c))
            too_long = true;
    }
    if (c == EOF && ferror(in))
        return ifx_err_set(err, IFX_E_IO, "read error: %s", strerror(errno));
    *eof = !any;
    if (too_long)
        return ifx_err_set(err, IFX_E_FULL, "line longer than %zu bytes", line->cap);
    return IFX_OK;
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("ifx: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

bool cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

bool cli_load_config(const char *path, int role, ifx_config *cfg)
{
    ifx_buf text;
    ifx_problems problems = {0};
    ifx_err err;
    bool ok;

    ifx_err_clear(&err);
    if (cli_read_file(path, CLI_MAX_CONFIG, &text, &err)) {
        cli_error("%s", err.msg);
        return false;
    }
    ok = ifx_config_parse_json(cfg, (ifx_role)role, text.data ? text.data : "", text.len, &problems,
                               &err) == IFX_OK;
    if (!ok) {
        if (problems.count == 0)
            fprintf(stderr, "%s: %s\n", path, err.msg);
        for (size_t i = 0; i < problems.count; i++)
            fprintf(stderr, "%s: %s\n", path, problems.items[i]);
    }
    ifx_problems_free(&problems);
    ifx_buf_free(&text);
    return ok;
}
