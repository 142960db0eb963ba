/* ifx query: run a query on the configured server and print the rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/float.h"
#include "ifx/client.h"
#include "core/codec.h"
#include "ifx/config.h"
#include "ifx/lp.h"
#include "ifx/rows.h"
#include "ifx/timeutil.h"

static const char usage[] =
    "usage: ifx query -c FILE [--format jsonl|csv|table] [--lang sql|influxql|flux] QUERY\n"
    "\n"
    "Runs QUERY on the server of a configuration (v1: InfluxQL; v2: Flux; v3: SQL, or InfluxQL\n"
    "with --lang influxql or query_language) and prints the rows:\n"
    "  jsonl  one JSON object per row (the default); times as RFC 3339 strings\n"
    "  csv    a header line, then one line per row (a new header when the columns change)\n"
    "  table  aligned columns, for people\n"
    "\n" CLI_CONFIG_USAGE "\n"
    "Exit status: 0 success (also for no rows); 1 failure; 2 usage error.\n";

typedef enum { OUT_JSONL, OUT_CSV, OUT_TABLE } out_format;

/* Most rows a table keeps to align its columns; more are printed as further tables. */
#define TABLE_ROWS 1000

typedef struct printer {
    out_format format;
    ifx_buf line;
    ifx_buf header; /* the current header: names joined with '\n' */
    /* table: the cells of the pending rows, each cell NUL-terminated, row by row */
    ifx_buf cells;
    size_t nrows, ncols;
    size_t rows;
} printer;

/* Appends the text of a value: JSON when json is true, else plain. */
static void value_text(ifx_buf *b, const ifx_value *v, bool json)
{
    char tmp[IFX_LP_FLOAT_MAX];
    switch (v->type) {
    case IFX_VAL_NULL:
        if (json)
            ifx_buf_puts(b, "null");
        break;
    case IFX_VAL_BOOL:
        ifx_buf_puts(b, v->v.b ? "true" : "false");
        break;
    case IFX_VAL_I64:
        ifx_buf_printf(b, "%lld", (long long)v->v.i);
        break;
    case IFX_VAL_U64:
        ifx_buf_printf(b, "%llu", (unsigned long long)v->v.u);
        break;
    case IFX_VAL_F64:
        if (ifxi_float_format_positional(v->v.f, tmp))
            ifx_buf_puts(b, tmp);
        else /* JSON has no NaN or infinity */
            ifx_buf_puts(b, json               ? "null"
                            : v->v.f != v->v.f ? "NaN"
                            : v->v.f > 0       ? "+Inf"
                                               : "-Inf");
        break;
    case IFX_VAL_STRING:
        if (json)
            ifxi_json_append_string(b, v->v.s.p, v->v.s.len);
        else
            ifx_buf_append(b, v->v.s.p, v->v.s.len);
        break;
    case IFX_VAL_TIME:
        ifx_time_format_rfc3339(v->v.i, tmp);
        if (json)
            ifxi_json_append_string(b, tmp, strlen(tmp));
        else
            ifx_buf_puts(b, tmp);
        break;
    }
}

static void csv_cell(ifx_buf *b, const char *s, size_t len)
{
    bool quote = false;
    for (size_t i = 0; i < len; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
            quote = true;
    if (!quote) {
        ifx_buf_append(b, s, len);
        return;
    }
    ifx_buf_putc(b, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            ifx_buf_putc(b, '"');
        ifx_buf_putc(b, s[i]);
    }
    ifx_buf_putc(b, '"');
}

static void flush_table(printer *p)
{
    size_t *width = calloc(p->ncols ? p->ncols : 1, sizeof *width);
    const char *cell;
    if (!width)
        return;
    cell = p->cells.data;
    for (size_t r = 0; r < p->nrows + 1; r++)
        for (size_t c = 0; c < p->ncols; c++) {
            size_t n = strlen(cell);
            if (n > width[c])
                width[c] = n;
            cell += n + 1;
        }
    cell = p->cells.data;
    for (size_t r = 0; r < p->nrows + 1; r++) {
        for (size_t c = 0; c < p->ncols; c++) {
            size_t n = strlen(cell);
            printf("%s%s%*s", c ? "  " : "", cell, c + 1 < p->ncols ? (int)(width[c] - n) : 0, "");
            cell += n + 1;
        }
        putchar('\n');
        if (r == 0) {
            for (size_t c = 0; c < p->ncols; c++)
                for (size_t k = 0; k < width[c] + (c + 1 < p->ncols ? 2 : 0); k++)
                    putchar('-');
            putchar('\n');
        }
    }
    free(width);
    ifx_buf_reset(&p->cells);
    p->nrows = 0;
}

static ifx_rc print_row(void *ud, const ifx_row *row, ifx_err *err)
{
    printer *p = ud;
    ifx_buf *b = &p->line;
    (void)err;
    p->rows++;
    ifx_buf_reset(b);
    if (p->format == OUT_JSONL) {
        ifx_buf_putc(b, '{');
        for (size_t i = 0; i < row->ncols; i++) {
            if (i)
                ifx_buf_putc(b, ',');
            ifxi_json_append_string(b, row->cols[i].name, row->cols[i].len);
            ifx_buf_putc(b, ':');
            value_text(b, &row->vals[i], true);
        }
        ifx_buf_puts(b, "}\n");
        fwrite(b->data, 1, b->len, stdout);
        return IFX_OK;
    }
    /* csv and table: a header whenever the columns change */
    ifx_buf names;
    ifx_buf_init(&names, 1 << 20);
    for (size_t i = 0; i < row->ncols; i++) {
        ifx_buf_append(&names, row->cols[i].name, row->cols[i].len);
        ifx_buf_putc(&names, '\n');
    }
    bool changed = names.len != p->header.len ||
                   (names.len && memcmp(names.data, p->header.data, names.len) != 0);
    if (changed || (p->format == OUT_TABLE && p->nrows == TABLE_ROWS)) {
        if (p->format == OUT_TABLE && p->ncols) {
            flush_table(p);
            putchar('\n');
        }
        ifx_buf_reset(&p->header);
        ifx_buf_append(&p->header, names.data, names.len);
        p->ncols = row->ncols;
        for (size_t i = 0; i < row->ncols; i++) {
            if (p->format == OUT_CSV) {
                if (i)
                    ifx_buf_putc(b, ',');
                csv_cell(b, row->cols[i].name, row->cols[i].len);
            } else {
                ifx_buf_append(&p->cells, row->cols[i].name, row->cols[i].len);
                ifx_buf_putc(&p->cells, '\0');
            }
        }
        if (p->format == OUT_CSV)
            ifx_buf_putc(b, '\n');
    }
    ifx_buf_free(&names);
    ifx_buf cell;
    ifx_buf_init(&cell, 64u << 20);
    for (size_t i = 0; i < row->ncols; i++) {
        ifx_buf_reset(&cell);
        value_text(&cell, &row->vals[i], false);
        if (p->format == OUT_CSV) {
            if (i)
                ifx_buf_putc(b, ',');
            csv_cell(b, cell.data ? cell.data : "", cell.len);
        } else {
            for (size_t k = 0; k < cell.len; k++)
                if (cell.data[k] == '\n' || cell.data[k] == '\t')
                    cell.data[k] = ' ';
            ifx_buf_append(&p->cells, cell.data ? cell.data : "", cell.len);
            ifx_buf_putc(&p->cells, '\0');
        }
    }
    ifx_buf_free(&cell);
    if (p->format == OUT_CSV) {
        ifx_buf_putc(b, '\n');
        fwrite(b->data, 1, b->len, stdout);
    } else {
        p->nrows++;
    }
    return IFX_OK;
}

int cmd_query(int argc, char **argv)
{
    cli_config_opts co = {0};
    const char *query = NULL;
    out_format format = OUT_JSONL;
    ifx_query_lang lang = IFX_QUERY_DEFAULT;
    ifx_config cfg = {0};
    ifx_client *client = NULL;
    ifx_rows_reader reader;
    printer p = {0};
    ifx_err err;
    int status = CLI_EXIT_FAILURE;

    ifx_err_clear(&err);
    cli_args it = cli_args_start(argc, argv, usage, &co);
    for (const char *a; (a = cli_args_next(&it)) != NULL;) {
        if (!strcmp(a, "--format") && cli_args_value(&it, &a)) {
            if (!strcmp(a, "jsonl"))
                format = OUT_JSONL;
            else if (!strcmp(a, "csv"))
                format = OUT_CSV;
            else if (!strcmp(a, "table"))
                format = OUT_TABLE;
            else {
                cli_error("query: --format must be jsonl, csv or table, got '%s'", a);
                return CLI_EXIT_USAGE;
            }
        } else if (!strcmp(a, "--lang") && cli_args_value(&it, &a)) {
            if (!strcmp(a, "sql"))
                lang = IFX_QUERY_SQL;
            else if (!strcmp(a, "influxql"))
                lang = IFX_QUERY_INFLUXQL;
            else if (!strcmp(a, "flux"))
                lang = IFX_QUERY_FLUX;
            else {
                cli_error("query: --lang must be sql, influxql or flux, got '%s'", a);
                return CLI_EXIT_USAGE;
            }
        } else if (!query && (a[0] != '-' || a[1] == '\0')) {
            query = a;
        } else {
            cli_error("query: unexpected argument '%s'\n%s", a, usage);
            return CLI_EXIT_USAGE;
        }
    }
    if (it.help)
        return CLI_EXIT_OK;
    if (!co.path || !query) {
        cli_error("query: %s\n%s", co.path ? "missing QUERY" : "missing -c FILE", usage);
        return CLI_EXIT_USAGE;
    }
    if (!cli_load_config(&co, IFX_ROLE_DETECT, &cfg))
        return CLI_EXIT_FAILURE;
    if (lang == IFX_QUERY_DEFAULT && cfg.version == IFX_VERSION_V3 &&
        cfg.query_language == IFX_QUERY_LANGUAGE_INFLUXQL)
        lang = IFX_QUERY_INFLUXQL;
    ifx_rows_reader_init(&reader);
    ifx_buf_init(&p.line, 64u << 20);
    ifx_buf_init(&p.header, 1 << 20);
    ifx_buf_init(&p.cells, 256u << 20);
    p.format = format;
    if (ifx_detect_resolve_version(&cfg.version, &cfg.http, NULL, &err) ||
        ifx_client_new(cfg.version, &cfg.http, &client, &err) ||
        /* rows are printed as the answer arrives: a large answer is never held */
        ifx_client_query_rows(client, lang, query, strlen(query), 0, &reader, IFX_MAX_RESPONSE_BODY,
                              print_row, &p, NULL, &err)) {
        if (format == OUT_TABLE && p.ncols)
            flush_table(&p);
        cli_error("query: %s", err.msg);
        goto out;
    }
    if (format == OUT_TABLE && p.ncols)
        flush_table(&p);
    if (format == OUT_TABLE && p.rows == 0)
        printf("(no rows)\n");
    status = CLI_EXIT_OK;
out:
    fflush(stdout);
    ifx_rows_reader_free(&reader);
    ifx_buf_free(&p.line);
    ifx_buf_free(&p.header);
    ifx_buf_free(&p.cells);
    ifx_client_free(client);
    ifx_config_free(&cfg);
    return status;
}
