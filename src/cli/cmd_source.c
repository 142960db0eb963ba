/* ifx source: the source engine writing JSONL messages to stdout instead of to Iggy. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/metrics.h"
#include "core/codec.h"
#include "ifx/config.h"
#include "ifx/source.h"

static const char usage[] =
    "usage: ifx source -c FILE [--set KEY=VALUE]... [--once] [--state FILE]\n"
    "                  [--metrics-listen HOST:PORT] [--verbose]\n"
    "\n"
    "Runs the source engine of the Iggy plugin and prints one JSON message per line on stdout:\n"
    "  {\"id\":\"<u128>\",\"timestamp\":<us>,\"schema\":\"json\",\"payload\":<the row>}\n"
    "(a text payload is a JSON string; a raw one is \"payload_base64\").\n"
    "\n" CLI_CONFIG_USAGE
    "  --state FILE         read the cursor from FILE at start, and save it there after each\n"
    "                       batch has been written to stdout and flushed: a restart goes on\n"
    "                       where it stopped\n"
    "  --once               stop after the first answer that is not full (no more rows for now)\n"
    "  --verbose            log at DEBUG instead of INFO (logs go to stderr)\n" CLI_METRICS_USAGE
    "\n"
    "Exit status: 0 stopped normally (--once, SIGINT or SIGTERM); 1 failure; 2 usage error.\n";

static void stop_source(void *src)
{
    ifx_source_request_stop(src);
}

typedef struct host {
    ifx_source *src;
    const char *state_path;
    ifx_buf line;
    ifx_err err;
} host;

/* Replaces path atomically with state (write a temp file, fsync, rename, fsync the directory).
 * The error names the state file and the reason. */
static ifx_rc save_state(const char *path, const uint8_t *state, size_t len, ifx_err *err)
{
    char tmp[4096];
    int fd;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return ifx_err_set(err, IFX_E_IO, "cannot save the state to %s: cannot create %s: %s", path,
                           tmp, strerror(errno));
    ssize_t n = write(fd, state, len);
    if (n != (ssize_t)len || fsync(fd) != 0) {
        int e = n >= 0 && n != (ssize_t)len ? ENOSPC : errno;
        close(fd);
        unlink(tmp);
        return ifx_err_set(err, IFX_E_IO, "cannot save the state to %s: cannot write %s: %s", path,
                           tmp, strerror(e));
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return ifx_err_set(err, IFX_E_IO, "cannot save the state to %s: %s", path, strerror(e));
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    fd = open(slash ? (dir[0] ? dir : "/") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    return IFX_OK;
}

/* Whether the state can be saved at all (its directory exists and is writable), asked before
 * the first row is printed rather than after. */
static ifx_rc check_state_writable(const char *path, ifx_err *err)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return ifx_err_set(err, IFX_E_IO, "cannot save the state to %s: cannot create %s: %s", path,
                           tmp, strerror(errno));
    close(fd);
    unlink(tmp);
    return IFX_OK;
}

static ifx_rc send_batch(void *ud, const ifx_source_batch *b)
{
    host *h = ud;
    char id[48];
    for (size_t i = 0; i < b->n; i++) {
        const ifx_source_message *m = &b->msgs[i];
        ifx_buf_reset(&h->line);
        ifx_u128_format(m->id, id);
        ifx_buf_printf(&h->line, "{\"id\":\"%s\",\"timestamp\":%llu,\"schema\":\"%s\",", id,
                       (unsigned long long)m->timestamp_us, ifx_schema_name(b->schema));
        if (b->schema == IFX_SCHEMA_JSON) {
            ifx_buf_puts(&h->line, "\"payload\":");
            ifx_buf_append(&h->line, m->payload, m->payload_len);
        } else if (b->schema == IFX_SCHEMA_TEXT) {
            ifx_buf_puts(&h->line, "\"payload\":");
            ifxi_json_append_string(&h->line, (const char *)m->payload, m->payload_len);
        } else {
            ifx_buf_puts(&h->line, "\"payload_base64\":\"");
            ifxi_base64_encode(m->payload, m->payload_len, &h->line);
            ifx_buf_putc(&h->line, '"');
        }
        ifx_buf_puts(&h->line, "}\n");
        if (fwrite(h->line.data, 1, h->line.len, stdout) != h->line.len) {
            ifx_err_set(&h->err, IFX_E_IO, "cannot write to stdout: %s", strerror(errno));
            goto failed;
        }
    }
    /* The cursor moves only once the rows are really out. */
    if (fflush(stdout) != 0) {
        ifx_err_set(&h->err, IFX_E_IO, "cannot write to stdout: %s", strerror(errno));
        goto failed;
    }
    if (h->state_path && save_state(h->state_path, b->state, b->state_len, &h->err)) {
        size_t l = strlen(h->err.msg);
        snprintf(h->err.msg + l, sizeof h->err.msg - l,
                 " (the %zu rows just printed are not recorded in it: they come again at the "
                 "next start)",
                 b->n);
        goto failed;
    }
    ifx_source_verdict(h->src, b->seq, true);
    return IFX_OK;
failed:
    /* A refused batch would be sent again, and the same rows printed again and again: stop
     * instead, and let the command end with the error. */
    ifx_source_request_stop(h->src);
    return IFX_E_IO;
}

int cmd_source(int argc, char **argv)
{
    cli_config_opts co = {0};
    const char *state_path = NULL;
    bool once = false;
    cli_log lg = {IFX_LOG_INFO, IFX_LOG_FORMAT_TEXT, "source"};
    ifx_config cfg = {0};
    ifx_buf state;
    host h = {0};
    ifx_err err;
    int status = CLI_EXIT_FAILURE;
    const char *metrics_listen = NULL;
    cli_metrics *metrics = NULL;
    cli_metrics_source_view metrics_view = {0}; /* filled once the engine is open */
    cli_stop stop = {0};

    ifx_err_clear(&err);
    ifx_err_clear(&h.err);
    cli_args it = cli_args_start(argc, argv, usage, &co);
    for (const char *a; (a = cli_args_next(&it)) != NULL;) {
        if (!strcmp(a, "--state") && cli_args_value(&it, &state_path)) {
            /* where the cursor is kept */
        } else if (!strcmp(a, "--once")) {
            once = true;
        } else if (cli_engine_arg(&it, "source", &lg, &metrics_listen) != CLI_EXIT_OK) {
            return CLI_EXIT_USAGE;
        }
    }
    if (it.help)
        return CLI_EXIT_OK;
    if ((status = cli_engine_config(&co, IFX_ROLE_SOURCE, &cfg, "source", usage, &lg)) !=
        CLI_EXIT_OK)
        return status;
    status = CLI_EXIT_FAILURE;
    ifx_buf_init(&state, 1u << 30);
    if (state_path && access(state_path, F_OK) == 0 &&
        cli_read_file(state_path, 1u << 30, &state, &err)) {
        cli_error("source: %s", err.msg);
        goto out;
    }
    if (state_path && check_state_writable(state_path, &err)) {
        cli_error("source: %s", err.msg);
        goto out;
    }
    /* before ifx_source_open, whose threads must inherit the blocked signals */
    if (!cli_stop_begin(&stop, &err)) {
        cli_error("source: %s", err.msg);
        goto out;
    }
    if (ifx_source_open(&cfg, (const uint8_t *)state.data, state.len, cli_log_line, &lg, &h.src,
                        &err)) {
        cli_error("source: %s", err.msg);
        goto out;
    }
    metrics_view = (cli_metrics_source_view){.source = h.src, .connector_id = co.connector};
    if (!cli_metrics_begin("source", metrics_listen, cli_metrics_source_page, &metrics_view,
                           &metrics))
        goto out;
    h.state_path = state_path;
    ifx_buf_init(&h.line, 1u << 30);
    cli_stop_target(&stop, stop_source, h.src);
    ifx_rc rc = ifx_source_run(h.src, send_batch, &h, once, &err);
    if (h.err.code) {
        /* what stopped the run, rather than its consequences */
        cli_error("source: %s", h.err.msg);
        goto out;
    }
    if (rc) {
        cli_error("source: %s", err.msg);
        goto out;
    }
    status = CLI_EXIT_OK;
out:
    cli_metrics_stop(metrics);
    cli_stop_target(&stop, NULL, NULL);
    cli_stop_end(&stop);
    ifx_source_close(h.src);
    ifx_buf_free(&h.line);
    ifx_buf_free(&state);
    ifx_config_free(&cfg);
    return status;
}
