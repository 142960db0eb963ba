/* ifx command line: input helpers. */
#include "cli/cli.h"

#include "cli/metrics.h"

#include "ifx/config.h"
#include "ifx/log.h"
#include "ifx/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

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

ifx_rc cli_input_open(cli_input *in, const char *path, int wake_fd, ifx_err *err)
{
    in->fd = 0;
    in->owned = false;
    in->wake_fd = wake_fd;
    in->eof = false;
    in->pos = in->len = 0;
    if (!path || strcmp(path, "-") == 0)
        return IFX_OK;
    in->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (in->fd < 0)
        return ifx_err_set(err, IFX_E_IO, "cannot open %s: %s", path, strerror(errno));
    in->owned = true;
    return IFX_OK;
}

void cli_input_close(cli_input *in)
{
    if (in->owned && in->fd >= 0)
        close(in->fd);
    in->fd = -1;
    in->owned = false;
}

/* Refills the buffer. IFX_OK with in->len > 0, or in->eof set (the end, or the stop). */
static ifx_rc fill(cli_input *in, ifx_err *err)
{
    for (;;) {
        if (in->wake_fd >= 0) {
            struct pollfd p[2] = {{.fd = in->fd, .events = POLLIN},
                                  {.fd = in->wake_fd, .events = POLLIN}};
            if (poll(p, 2, -1) < 0) {
                if (errno == EINTR)
                    continue;
                return ifx_err_set(err, IFX_E_IO, "read error: %s", strerror(errno));
            }
            if (p[1].revents) {
                in->eof = true; /* stopped: what is not read yet stays unread */
                return IFX_OK;
            }
        }
        ssize_t n = read(in->fd, in->buf, sizeof in->buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return ifx_err_set(err, IFX_E_IO, "read error: %s", strerror(errno));
        in->pos = 0;
        in->len = (size_t)n;
        in->eof = n == 0;
        return IFX_OK;
    }
}

ifx_rc cli_read_line(cli_input *in, ifx_buf *line, bool *eof, ifx_err *err)
{
    bool too_long = false, any = false;

    ifx_buf_reset(line);
    *eof = false;
    for (;;) {
        if (in->pos == in->len) {
            if (in->eof)
                break;
            if (fill(in, err)) {
                in->eof = true; /* reported once; the next call ends the input */
                return IFX_E_IO;
            }
            continue;
        }
        const char *start = in->buf + in->pos;
        const char *nl = memchr(start, '\n', in->len - in->pos);
        size_t take = nl ? (size_t)(nl - start) : in->len - in->pos;
        any = true;
        if (!too_long && ifx_buf_append(line, start, take))
            too_long = true;
        in->pos += take + (nl ? 1 : 0);
        if (nl)
            break;
    }
    *eof = !any;
    if (too_long)
        return ifx_err_set(err, IFX_E_FULL, "line longer than %zu bytes", line->cap);
    return IFX_OK;
}

void cli_log_line(void *ud, int level, const char *msg)
{
    const cli_log *l = ud;
    char line[2048];
    if (level < l->min_level)
        return;
    ifx_log_format_line((ifx_log_format)l->format, level, l->connector, msg, ifx_time_now_ns(),
                        line, sizeof line);
    /* one write per line, so that lines of several threads do not interleave */
    fprintf(stderr, "%s\n", line);
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

bool cli_config_arg(int argc, char **argv, int *i, cli_config_opts *o)
{
    const char *a = argv[*i];
    if ((!strcmp(a, "-c") || !strcmp(a, "--config")) && *i + 1 < argc) {
        o->path = argv[++*i];
        return true;
    }
    const char *set = !strcmp(a, "--set") && *i + 1 < argc ? argv[++*i]
                      : !strncmp(a, "--set=", 6)           ? a + 6
                                                           : NULL;
    if (!set)
        return false;
    if (o->nsets < CLI_MAX_SETS)
        o->sets[o->nsets++] = set;
    else
        o->bad = true;
    return true;
}

cli_args cli_args_start(int argc, char **argv, const char *usage, cli_config_opts *co)
{
    return (cli_args){.argc = argc, .argv = argv, .i = 0, .usage = usage, .co = co};
}

const char *cli_args_next(cli_args *it)
{
    while (++it->i < it->argc) {
        const char *a = it->argv[it->i];
        if (cli_is_help(a)) {
            fputs(it->usage, stdout);
            it->help = true;
            return NULL;
        }
        if (!it->co || !cli_config_arg(it->argc, it->argv, &it->i, it->co))
            return a;
    }
    return NULL;
}

bool cli_args_value(cli_args *it, const char **value)
{
    if (it->i + 1 >= it->argc)
        return false;
    *value = it->argv[++it->i];
    return true;
}

int cli_engine_arg(cli_args *it, const char *cmd, cli_log *lg, const char **metrics_listen)
{
    const char *a = it->argv[it->i];
    ifx_err err;
    if (!strcmp(a, "--verbose")) {
        lg->min_level = IFX_LOG_DEBUG;
    } else if (!strcmp(a, "--metrics-listen") && cli_args_value(it, metrics_listen)) {
        if (cli_metrics_check_listen(*metrics_listen, &err)) {
            cli_error("%s: %s", cmd, err.msg);
            return CLI_EXIT_USAGE;
        }
    } else {
        cli_error("%s: unexpected argument '%s'\n%s", cmd, a, it->usage);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

static void print_problems(const char *path, const ifx_problems *problems, const ifx_err *err)
{
    if (problems->count == 0)
        fprintf(stderr, "%s: %s\n", path, err->msg);
    for (size_t i = 0; i < problems->count; i++)
        fprintf(stderr, "%s: %s\n", path, problems->items[i]);
}

bool cli_load_config(cli_config_opts *o, int role, ifx_config *cfg)
{
    extern char **environ;
    ifx_buf text;
    ifx_problems problems = {0};
    ifx_config_doc doc = {0};
    ifx_err err;
    bool ok = false;

    ifx_err_clear(&err);
    if (o->bad) {
        cli_error("at most %d --set options", CLI_MAX_SETS);
        return false;
    }
    if (cli_read_file(o->path, CLI_MAX_CONFIG, &text, &err)) {
        cli_error("%s", err.msg);
        return false;
    }
    if (ifx_config_doc_read(text.data ? text.data : "", text.len, &doc, &problems, &err)) {
        print_problems(o->path, &problems, &err);
        goto out;
    }
    if (doc.role != IFX_ROLE_DETECT && role != IFX_ROLE_DETECT && (int)doc.role != role) {
        fprintf(stderr, "%s: this is a %s connector file; this command runs a %s\n", o->path,
                ifx_role_name(doc.role), ifx_role_name((ifx_role)role));
        goto out;
    }
    if (doc.role != IFX_ROLE_DETECT)
        role = (int)doc.role;
    if (ifx_config_doc_apply_env(&doc, environ, &err)) {
        cli_error("%s", err.msg);
        goto out;
    }
    for (size_t i = 0; i < o->nsets; i++) {
        if (ifx_config_doc_set(&doc, o->sets[i], &err)) {
            cli_error("%s", err.msg);
            goto out;
        }
    }
    if (ifx_config_parse_json(cfg, (ifx_role)role, doc.plugin_config, strlen(doc.plugin_config),
                              &problems, &err)) {
        print_problems(o->path, &problems, &err);
        goto out;
    }
    o->disabled = doc.disabled;
    snprintf(o->connector, sizeof o->connector, "%s%s%.120s", ifx_role_name(cfg->role),
             doc.key ? " " : "", doc.key ? doc.key : "");
    for (size_t i = 0; o->report && i < doc.applied.n; i++)
        fprintf(stderr, "ifx: %s: %s\n", o->report, doc.applied.items[i]);
    ok = true;
out:
    ifx_problems_free(&problems);
    ifx_config_doc_free(&doc);
    ifx_buf_free(&text);
    return ok;
}

int cli_config_need(cli_config_opts *o, int role, ifx_config *cfg, const char *cmd,
                    const char *usage)
{
    if (!o->path) {
        cli_error("%s: missing -c FILE\n%s", cmd, usage);
        return CLI_EXIT_USAGE;
    }
    return cli_load_config(o, role, cfg) ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

int cli_engine_config(cli_config_opts *o, int role, struct ifx_config *cfg, const char *cmd,
                      const char *usage, cli_log *lg)
{
    int status = cli_config_need(o, role, cfg, cmd, usage);
    if (status != CLI_EXIT_OK)
        return status;
    lg->format = (int)cfg->log_format;
    lg->connector = o->connector;
    return CLI_EXIT_OK;
}
