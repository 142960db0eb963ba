/* ifx write: line protocol in, stored through the configured server, a JSON summary out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "connector/engine.h"
#include "ifx/client.h"
#include "core/codec.h"
#include "ifx/config.h"
#include "connector/writer.h"

static const char usage[] =
    "usage: ifx write -c FILE [--precision ns|us|ms|s] [INPUT|-]\n"
    "\n"
    "Writes line protocol (one point per line; a line feed inside a quoted string field stays in\n"
    "its line) to the server of a sink configuration, in batches of batch_size lines, with the\n"
    "configuration's retries, gzip and timeouts. Timestamps are in --precision; without it, in\n"
    "the configuration's precision if the configuration sets one, else in nanoseconds (line\n"
    "protocol's own default; the sink's default, us, applies to `ifx sink` only). Prints a summary "
    "on stdout:\n"
    "  {\"written\":N,\"rejected\":M,\"errors\":[{\"line\":K,\"message\":\"...\"}]}\n"
    "where K is the line of INPUT. Lines the server rejects are reported and the rest is\n"
    "written; on a failure that stops the run, \"pending\" counts the lines not written and\n"
    "\"error\" says why.\n"
    "\n" CLI_CONFIG_USAGE "\n"
    "Exit status: 0 all written; 3 some lines rejected; 1 failure; 2 usage error.\n";

/* Largest input read (bytes). */
#define MAX_INPUT (1u << 30)
/* Largest request body: below the 10 MiB default limit of InfluxDB 3. */
#define MAX_BATCH_BYTES (8u << 20)

typedef struct run {
    const size_t *input_line; /* physical input line of each span */
    size_t base;              /* index of the batch's first span */
    ifx_buf errors;           /* JSON array items */
    size_t nerrors;
} run;

static void on_reject(void *ud, size_t index, const char *reason)
{
    run *r = ud;
    if (r->nerrors++)
        ifx_buf_putc(&r->errors, ',');
    ifx_buf_printf(&r->errors, "{\"line\":%zu,\"message\":", r->input_line[r->base + index]);
    ifxi_json_append_string(&r->errors, reason, strlen(reason));
    ifx_buf_putc(&r->errors, '}');
}

int cmd_write(int argc, char **argv)
{
    cli_config_opts co = {0};
    const char *input = NULL;
    ifx_config cfg = {0};
    ifx_client *client = NULL;
    ifx_breaker breaker;
    ifx_writer w;
    ifx_buf text = {0};
    ifx_line_span *spans = NULL;
    size_t nspans = 0, cap = 0, *lines = NULL, written = 0, rejected = 0, done = 0;
    ifx_precision precision;
    bool have_precision = false, have_writer = false;
    run r = {0};
    ifx_err err;
    ifx_rc rc = IFX_OK;
    int status = CLI_EXIT_FAILURE;

    ifx_err_clear(&err);
    cli_args it = cli_args_start(argc, argv, usage, &co);
    for (const char *a; (a = cli_args_next(&it)) != NULL;) {
        if (!strcmp(a, "--precision") && cli_args_value(&it, &a)) {
            if (ifx_precision_parse(a, strlen(a), &precision, &err)) {
                cli_error("write: --precision: %s", err.msg);
                return CLI_EXIT_USAGE;
            }
            have_precision = true;
        } else if ((a[0] != '-' || !strcmp(a, "-")) && !input) {
            input = a;
        } else {
            cli_error("write: unexpected argument '%s'\n%s", a, usage);
            return CLI_EXIT_USAGE;
        }
    }
    if (it.help)
        return CLI_EXIT_OK;
    if ((status = cli_config_need(&co, IFX_ROLE_SINK, &cfg, "write", usage)) != CLI_EXIT_OK)
        return status;
    status = CLI_EXIT_FAILURE;
    /* Raw line protocol is in ns unless said otherwise (the influx CLI agrees); the sink's us
     * default exists for upstream sink configurations, which never feed ifx write. */
    if (!have_precision)
        precision = cfg.precision_given ? cfg.precision : IFX_PRECISION_NS;
    if (cli_read_file(input ? input : "-", MAX_INPUT, &text, &err)) {
        cli_error("write: %s", err.msg);
        goto out;
    }
    nspans = ifxi_writer_split_lines(text.data ? text.data : "", text.len, &spans, &cap);
    lines = malloc((nspans ? nspans : 1) * sizeof *lines);
    if (!lines) {
        cli_error("write: out of memory");
        goto out;
    }
    for (size_t i = 0, pos = 0, line = 1; i < nspans; i++) {
        for (; pos < spans[i].off; pos++)
            line += text.data[pos] == '\n';
        lines[i] = line;
    }
    if ((rc = ifx_detect_resolve_version(&cfg.version, &cfg.http, NULL, &err)) ||
        (rc = ifx_client_new(cfg.version, &cfg.http, &client, &err))) {
        cli_error("write: %s", err.msg);
        goto out;
    }
    ifx_breaker_init(&breaker, cfg.circuit_breaker_threshold, cfg.circuit_breaker_cool_down_ns);
    ifx_retry_policy retry = ifxi_engine_retry_policy(&cfg);
    ifxi_writer_init(&w, client, &breaker, &retry, precision);
    have_writer = true;
    ifx_buf_init(&r.errors, 64u << 20);
    r.input_line = lines;

    while (done < nspans) {
        /* The next batch: at most batch_size lines and MAX_BATCH_BYTES bytes. */
        size_t n = 0, bytes = 0;
        while (done + n < nspans && n < cfg.batch_size &&
               (n == 0 || bytes + spans[done + n].len + 1 <= MAX_BATCH_BYTES))
            bytes += spans[done + n++].len + 1;
        ifx_write_report rep;
        r.base = done;
        rc = ifxi_writer_write(&w, text.data, spans + done, n, on_reject, &r, &rep, NULL, &err);
        written += rep.written;
        rejected += rep.rejected;
        if (rc)
            break;
        done += n;
    }
    printf("{\"written\":%zu,\"rejected\":%zu,", written, rejected);
    if (rc) {
        printf("\"pending\":%zu,\"error\":", nspans - written - rejected);
        ifx_buf msg;
        ifx_buf_init(&msg, 4096);
        ifxi_json_append_string(&msg, err.msg, strlen(err.msg));
        printf("%s,", msg.data);
        ifx_buf_free(&msg);
    }
    printf("\"errors\":[%s]}\n", r.errors.data ? r.errors.data : "");
    status = rc ? CLI_EXIT_FAILURE : rejected ? 3 : CLI_EXIT_OK;
out:
    if (have_writer) {
        ifxi_writer_free(&w);
        ifx_breaker_destroy(&breaker);
    }
    ifx_client_free(client);
    ifx_buf_free(&r.errors);
    ifx_buf_free(&text);
    free(spans);
    free(lines);
    ifx_config_free(&cfg);
    return status;
}
