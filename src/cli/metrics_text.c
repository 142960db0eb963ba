/* ifx command line: the Prometheus text format (version 0.0.4) of the sink's and the source's
 * counters (see metrics.h). Pure functions on caller buffers; the HTTP server that serves them
 * is metrics.c, and neither knows the other.
 */
#include "cli/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ifx/resilience.h"

/* Writes metric lines into out until the first failure, which it keeps. */
typedef struct prom {
    ifx_buf *out;
    const char *connector; /* the connector label's value, raw */
    ifx_rc rc;
} prom;

static void put(prom *p, const char *s)
{
    if (!p->rc)
        p->rc = ifx_buf_puts(p->out, s);
}

static void put_u64(prom *p, uint64_t v)
{
    if (!p->rc)
        p->rc = ifx_buf_printf(p->out, "%llu", (unsigned long long)v);
}

/* A label value: backslash, double quote and line feed escaped as the text format requires. */
static void put_label_value(prom *p, const char *s)
{
    for (; *s && !p->rc; s++) {
        if (*s == '\\')
            put(p, "\\\\");
        else if (*s == '"')
            put(p, "\\\"");
        else if (*s == '\n')
            put(p, "\\n");
        else
            p->rc = ifx_buf_putc(p->out, *s);
    }
}

/* "name{connector="..."[,extra="value"]} " */
static void put_series(prom *p, const char *name, const char *suffix, const char *extra,
                       const char *value)
{
    put(p, name);
    put(p, suffix);
    put(p, "{connector=\"");
    put_label_value(p, p->connector);
    if (extra) {
        put(p, "\",");
        put(p, extra);
        put(p, "=\"");
        put_label_value(p, value);
    }
    put(p, "\"} ");
}

static void put_family(prom *p, const char *name, const char *type, const char *help)
{
    put(p, "# HELP ");
    put(p, name);
    put(p, " ");
    put(p, help);
    put(p, "\n# TYPE ");
    put(p, name);
    put(p, " ");
    put(p, type);
    put(p, "\n");
}

static void put_simple(prom *p, const char *name, const char *type, const char *help, uint64_t v)
{
    put_family(p, name, type, help);
    put_series(p, name, "", NULL, NULL);
    put_u64(p, v);
    put(p, "\n");
}

static void counter(prom *p, const char *name, const char *help, uint64_t v)
{
    put_simple(p, name, "counter", help, v);
}

static void gauge(prom *p, const char *name, const char *help, uint64_t v)
{
    put_simple(p, name, "gauge", help, v);
}

/* The shortest plain decimal that reads back as x: "0.0025", "1", "10" (no exponent). */
static void format_bound(double x, char *out, size_t cap)
{
    for (int decimals = 0; decimals <= 9; decimals++) {
        snprintf(out, cap, "%.*f", decimals, x);
        if (strtod(out, NULL) == x)
            return;
    }
    snprintf(out, cap, "%.17g", x);
}

/* Cumulative buckets as the format wants them, ending with le="+Inf"; _count is that last
 * bucket, so that the page is consistent even though the counters are read one at a time
 * while requests complete. _sum in seconds, exact to the microsecond. */
static void histogram(prom *p, const char *name, const char *help, const ifx_latency *l)
{
    uint64_t total = 0;
    char le[32];
    put_family(p, name, "histogram", help);
    for (size_t i = 0; i <= IFX_LATENCY_BOUNDS; i++) {
        total += l->bucket[i];
        if (i < IFX_LATENCY_BOUNDS)
            format_bound(ifx_latency_bounds[i], le, sizeof le);
        else
            snprintf(le, sizeof le, "+Inf");
        put_series(p, name, "_bucket", "le", le);
        put_u64(p, total);
        put(p, "\n");
    }
    put_series(p, name, "_sum", NULL, NULL);
    if (!p->rc)
        p->rc = ifx_buf_printf(p->out, "%llu.%06llu\n", (unsigned long long)(l->sum_us / 1000000),
                               (unsigned long long)(l->sum_us % 1000000));
    put_series(p, name, "_count", NULL, NULL);
    put_u64(p, total);
    put(p, "\n");
}

static void breaker(prom *p, ifx_breaker_state state)
{
    static const struct {
        ifx_breaker_state state;
        const char *name;
    } states[] = {{IFX_BREAKER_CLOSED, "closed"},
                  {IFX_BREAKER_OPEN, "open"},
                  {IFX_BREAKER_HALF_OPEN, "half_open"}};
    put_family(p, "ifx_circuit_breaker_state", "gauge",
               "Circuit breaker state: 1 for the current state, 0 for the others.");
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        put_series(p, "ifx_circuit_breaker_state", "", "state", states[i].name);
        put(p, states[i].state == state ? "1\n" : "0\n");
    }
}

ifx_rc cli_metrics_render_sink(const ifx_sink_stats *st, const char *connector_id, ifx_buf *out)
{
    prom p = {out, connector_id ? connector_id : "", IFX_OK};
    counter(&p, "ifx_sink_messages_received_total", "Messages given to the sink.", st->received);
    counter(&p, "ifx_sink_messages_written_total", "Messages the server stored.", st->written);
    counter(&p, "ifx_sink_messages_rejected_total", "Messages refused as invalid (dead-lettered).",
            st->rejected);
    gauge(&p, "ifx_sink_messages_pending", "Messages not written yet (transient failures).",
          st->pending);
    counter(&p, "ifx_sink_messages_spooled_total", "Messages appended to the spool.", st->spooled);
    gauge(&p, "ifx_sink_spool_records", "Spool records not yet delivered.", st->spool_records);
    counter(&p, "ifx_sink_http_requests_total", "HTTP write requests, retries included.",
            st->requests);
    counter(&p, "ifx_sink_http_retries_total", "HTTP write requests that were retries.",
            st->retried);
    counter(&p, "ifx_sink_bytes_sent_total", "Line-protocol bytes sent, before compression.",
            st->bytes_sent);
    histogram(&p, "ifx_sink_write_duration_seconds",
              "Duration of HTTP write requests, every attempt.", &st->write_latency);
    breaker(&p, st->breaker);
    return p.rc;
}

ifx_rc cli_metrics_render_source(const ifx_source_stats *st, const char *connector_id, ifx_buf *out)
{
    prom p = {out, connector_id ? connector_id : "", IFX_OK};
    counter(&p, "ifx_source_polls_total", "Queries run (polls).", st->polls);
    counter(&p, "ifx_source_query_rows_total", "Rows read from query answers.", st->rows);
    counter(&p, "ifx_source_messages_total", "Messages delivered and acknowledged.", st->messages);
    counter(&p, "ifx_source_batches_acked_total", "Batches acknowledged.", st->batches_acked);
    counter(&p, "ifx_source_batches_nacked_total", "Batches refused.", st->batches_nacked);
    counter(&p, "ifx_source_query_errors_total", "Polls that failed.", st->query_errors);
    counter(&p, "ifx_source_bytes_received_total",
            "Query answer bytes received, after decompression.", st->bytes_received);
    histogram(&p, "ifx_source_query_duration_seconds",
              "Duration of HTTP query requests, every attempt.", &st->query_latency);
    breaker(&p, st->breaker);
    return p.rc;
}

ifx_rc cli_metrics_sink_page(void *ud, ifx_buf *out)
{
    cli_metrics_sink_view *v = ud;
    ifx_sink_stats st;
    ifx_sink_get_stats(v->sink, &st);
    return cli_metrics_render_sink(&st, v->connector_id, out);
}

ifx_rc cli_metrics_source_page(void *ud, ifx_buf *out)
{
    cli_metrics_source_view *v = ud;
    ifx_source_stats st;
    ifx_source_get_stats(v->source, &st);
    return cli_metrics_render_source(&st, v->connector_id, out);
}
