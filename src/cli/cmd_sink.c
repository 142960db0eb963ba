/* ifx sink: the sink engine on a JSONL stream of messages instead of the Iggy runtime. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/metrics.h"
#include "core/codec.h"
#include "ifx/config.h"
#include "ifx/resilience.h"
#include "ifx/sink.h"

static const char usage[] =
    "usage: ifx sink -c FILE [--set KEY=VALUE]... [--input FILE|-] [--batch N]\n"
    "                [--metrics-listen HOST:PORT] [--verbose]\n"
    "\n"
    "Runs the sink engine of the Iggy plugin on messages read as JSONL, one per line:\n"
    "  {\"stream\":\"s\",\"topic\":\"t\",\"partition\":0,\"offset\":7,\"id\":7,\n"
    "   \"timestamp\":<us>,\"origin_timestamp\":<us>,\"checksum\":0,\"payload\":<any JSON>}\n"
    "Every key is optional. The payload is \"payload\" (its compact JSON text), \"payload_text\"\n"
    "(a string's UTF-8 bytes) or \"payload_base64\" (raw bytes). Missing: stream and topic "
    "\"cli\",\n"
    "partition 0, offset and id the line number from 0, timestamps the wall clock. The id is a\n"
    "number or a string of decimal digits (a u128), so that the lines of dead_letter_file can\n"
    "be fed back in (their \"time\" and \"reason\" are ignored).\n"
    "With spool_dir in the configuration, pending messages survive a crash and are delivered at\n"
    "the next start; a rejected message goes to dead_letter_file. Progress goes to stderr when it\n"
    "is a terminal; a JSON summary of the counters to stdout at the end.\n"
    "\n" CLI_CONFIG_USAGE "  --input FILE         messages (default: stdin)\n"
    "  --batch N            messages per consume call, like the runtime's batch_length\n"
    "                       (default 1000)\n"
    "  --verbose            log at DEBUG instead of INFO\n" CLI_METRICS_USAGE "\n"
    "Exit status: 0 all written; 3 some rejected; 1 some not written (or a failure); 2 usage.\n";

static void stop_sink(void *sink)
{
    /* wakes a consume that retries against a server that is down or refuses the writes; what
     * it holds is counted as pending (or stays in the spool) */
    ifx_sink_request_stop(sink);
}

/* A batch of messages whose strings and payloads live in one arena. */
typedef struct batch {
    ifx_sink_message *msgs;
    size_t n, cap;
    ifx_buf arena;
    /* arena offsets, turned into pointers when the batch is complete */
    size_t *stream_off, *topic_off, *payload_off;
} batch;

static ifx_rc put_text(batch *b, const ifx_json_val *v, size_t *off, size_t *len, ifx_err *err)
{
    size_t start = b->arena.len;
    ifx_rc rc = ifxi_json_string_decode(v, &b->arena, err);
    *off = start;
    *len = b->arena.len - start;
    return rc;
}

static ifx_rc parse_message(batch *b, const char *line, size_t len, uint64_t lineno, ifx_err *err)
{
    ifx_json_val root, k, v;
    ifx_json_iter it;
    ifx_sink_message *m;
    size_t i;
    ifx_rc rc;
    bool have_offset = false, have_id = false, have_payload = false, have_line = false;

    if ((rc = ifxi_json_parse(line, len, &root, err)))
        return rc;
    if (root.type != IFX_JSON_OBJECT)
        return ifx_err_set(err, IFX_E_INVALID, "a message must be a JSON object");
    if (b->n == b->cap) {
        size_t c = b->cap ? b->cap * 2 : 1024;
        void *p1 = realloc(b->msgs, c * sizeof *b->msgs);
        if (p1)
            b->msgs = p1;
        void *p2 = realloc(b->stream_off, c * sizeof(size_t));
        if (p2)
            b->stream_off = p2;
        void *p3 = realloc(b->topic_off, c * sizeof(size_t));
        if (p3)
            b->topic_off = p3;
        void *p4 = realloc(b->payload_off, c * sizeof(size_t));
        if (p4)
            b->payload_off = p4;
        if (!p1 || !p2 || !p3 || !p4)
            return ifx_err_set(err, IFX_E_NOMEM, "out of memory");
        b->cap = c;
    }
    i = b->n;
    m = &b->msgs[i];
    memset(m, 0, sizeof *m);
    b->stream_off[i] = b->topic_off[i] = b->payload_off[i] = SIZE_MAX;
    ifxi_json_iter_init(&it, &root);
    while (ifxi_json_object_next(&it, &k, &v)) {
        uint64_t u;
        if (ifxi_json_string_eq(&k, "stream") || ifxi_json_string_eq(&k, "topic")) {
            bool st = ifxi_json_string_eq(&k, "stream");
            if (v.type != IFX_JSON_STRING)
                return ifx_err_set(err, IFX_E_INVALID, "\"%s\" must be a string",
                                   st ? "stream" : "topic");
            if ((rc = put_text(b, &v, st ? &b->stream_off[i] : &b->topic_off[i],
                               st ? &m->stream_len : &m->topic_len, err)))
                return rc;
        } else if (ifxi_json_string_eq(&k, "payload")) {
            b->payload_off[i] = b->arena.len;
            if ((rc = ifxi_json_compact(v.p, v.len, &b->arena, err)))
                return rc;
            m->payload_len = b->arena.len - b->payload_off[i];
            have_payload = true;
        } else if (ifxi_json_string_eq(&k, "payload_text")) {
            if (v.type != IFX_JSON_STRING)
                return ifx_err_set(err, IFX_E_INVALID, "\"payload_text\" must be a string");
            if ((rc = put_text(b, &v, &b->payload_off[i], &m->payload_len, err)))
                return rc;
            have_payload = true;
        } else if (ifxi_json_string_eq(&k, "payload_base64")) {
            if (v.type != IFX_JSON_STRING)
                return ifx_err_set(err, IFX_E_INVALID, "\"payload_base64\" must be a string");
            b->payload_off[i] = b->arena.len;
            if ((rc = ifxi_base64_decode(v.p + 1, v.len - 2, &b->arena, err)))
                return ifx_err_prefix(err, "\"payload_base64\"");
            m->payload_len = b->arena.len - b->payload_off[i];
            have_payload = true;
        } else if (ifxi_json_string_eq(&k, "headers")) {
            continue; /* accepted; the sink does not write headers yet */
        } else if (ifxi_json_string_eq(&k, "time") || ifxi_json_string_eq(&k, "reason")) {
            continue; /* a dead-letter record's own notes: when and why it was rejected */
        } else if (ifxi_json_string_eq(&k, "line")) {
            have_line = true; /* a dead-letter record of a spooled line: see below */
        } else {
            const char *name = ifxi_json_string_eq(&k, "partition")          ? "partition"
                               : ifxi_json_string_eq(&k, "offset")           ? "offset"
                               : ifxi_json_string_eq(&k, "id")               ? "id"
                               : ifxi_json_string_eq(&k, "timestamp")        ? "timestamp"
                               : ifxi_json_string_eq(&k, "origin_timestamp") ? "origin_timestamp"
                               : ifxi_json_string_eq(&k, "checksum")         ? "checksum"
                                                                             : NULL;
            if (!name)
                return ifx_err_set(err, IFX_E_INVALID, "unknown key %.*s in a message",
                                   (int)(k.len > 40 ? 40 : k.len), k.p);
            if (!strcmp(name, "id") && v.type == IFX_JSON_STRING) {
                /* Ids are u128 and JSON numbers do not hold them: the dead-letter file (and
                 * `ifx source`) write them as decimal strings, and a dead-letter line must be
                 * accepted back as input. */
                if (v.len < 2 || ifx_u128_parse(v.p + 1, v.len - 2, &m->id))
                    return ifx_err_set(err, IFX_E_INVALID,
                                       "\"id\" must be a number or a string of decimal digits "
                                       "up to 2^128-1");
                have_id = true;
                continue;
            }
            if (ifxi_json_get_u64(&v, &u, err))
                return ifx_err_prefix(err, "\"%s\"", name);
            if (!strcmp(name, "partition")) {
                if (u > UINT32_MAX)
                    return ifx_err_set(err, IFX_E_INVALID, "\"partition\" is over 2^32-1");
                m->partition = (uint32_t)u;
            } else if (!strcmp(name, "offset")) {
                m->offset = u;
                have_offset = true;
            } else if (!strcmp(name, "id")) {
                m->id = (ifx_u128){0, u};
                have_id = true;
            } else if (!strcmp(name, "timestamp")) {
                m->timestamp_us = u;
            } else if (!strcmp(name, "origin_timestamp")) {
                m->origin_timestamp_us = u;
            } else {
                m->checksum = u;
            }
        }
    }
    if (!have_payload && have_line)
        return ifx_err_set(err, IFX_E_INVALID,
                           "this dead-letter record holds a line-protocol \"line\", not a "
                           "payload: send it with `ifx write`");
    if (!have_payload)
        return ifx_err_set(err, IFX_E_INVALID, "the message has no payload");
    if (!have_offset)
        m->offset = lineno - 1;
    if (!have_id)
        m->id.lo = m->offset;
    b->n++;
    return IFX_OK;
}

static void resolve(batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        ifx_sink_message *m = &b->msgs[i];
        if (b->stream_off[i] == SIZE_MAX) {
            m->stream = "cli";
            m->stream_len = 3;
        } else {
            m->stream = b->arena.data + b->stream_off[i];
        }
        if (b->topic_off[i] == SIZE_MAX) {
            m->topic = "cli";
            m->topic_len = 3;
        } else {
            m->topic = b->arena.data + b->topic_off[i];
        }
        m->payload = (const uint8_t *)(b->arena.data ? b->arena.data + b->payload_off[i] : "");
    }
}

int cmd_sink(int argc, char **argv)
{
    cli_config_opts co = {0};
    const char *input = NULL;
    size_t batch_len = 1000;
    ifx_config cfg = {0};
    ifx_sink *sink = NULL;
    cli_log lg = {IFX_LOG_INFO, IFX_LOG_FORMAT_TEXT, "sink"};
    const char *metrics_listen = NULL;
    cli_metrics *metrics = NULL;
    cli_metrics_sink_view metrics_view = {0}; /* filled once the engine is open */
    batch b = {0};
    ifx_buf line;
    ifx_err err;
    cli_input in = {.fd = -1};
    cli_stop stop = {0};
    uint64_t lineno = 0, bad_input = 0;
    bool eof = false, tty = isatty(2);
    int status = CLI_EXIT_FAILURE;
    ifx_rc failed = IFX_OK;
    uint64_t last_progress = 0;

    ifx_err_clear(&err);
    cli_args it = cli_args_start(argc, argv, usage, &co);
    for (const char *a; (a = cli_args_next(&it)) != NULL;) {
        if (!strcmp(a, "--input") && cli_args_value(&it, &input)) {
            /* the file to read instead of stdin */
        } else if (!strcmp(a, "--batch") && cli_args_value(&it, &a)) {
            long v = atol(a);
            if (v < 1 || v > 1000000) {
                cli_error("sink: --batch must be from 1 to 1000000");
                return CLI_EXIT_USAGE;
            }
            batch_len = (size_t)v;
        } else if (cli_engine_arg(&it, "sink", &lg, &metrics_listen) != CLI_EXIT_OK) {
            return CLI_EXIT_USAGE;
        }
    }
    if (it.help)
        return CLI_EXIT_OK;
    if ((status = cli_engine_config(&co, IFX_ROLE_SINK, &cfg, "sink", usage, &lg)) != CLI_EXIT_OK)
        return status;
    status = CLI_EXIT_FAILURE;
    /* before ifx_sink_open, whose threads must inherit the blocked signals */
    if (!cli_stop_begin(&stop, &err) || cli_input_open(&in, input, cli_stop_fd(&stop), &err)) {
        cli_error("sink: %s", err.msg);
        goto out;
    }
    if (ifx_sink_open(&cfg, cli_log_line, &lg, &sink, &err)) {
        cli_error("sink: %s", err.msg);
        goto out;
    }
    cli_stop_target(&stop, stop_sink, sink);
    metrics_view = (cli_metrics_sink_view){.sink = sink, .connector_id = co.connector};
    if (!cli_metrics_begin("sink", metrics_listen, cli_metrics_sink_page, &metrics_view, &metrics))
        goto out;
    ifx_buf_init(&line, CLI_MAX_LINE);
    ifx_buf_init(&b.arena, (size_t)1 << 31);
    while (!eof && !cli_stop_requested(&stop)) {
        ifx_rc rc = cli_read_line(&in, &line, &eof, &err);
        if (!eof) {
            lineno++;
            if (rc == IFX_OK && line.len) {
                const char *p = line.data;
                size_t n = line.len;
                while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
                    n--;
                if (n)
                    rc = parse_message(&b, p, n, lineno, &err);
            }
            if (rc) {
                fprintf(stderr, "ifx: sink: input line %llu: %s\n", (unsigned long long)lineno,
                        err.msg);
                bad_input++;
            }
        }
        /* once stopped, the sink refuses batches: the lines read since the last one stay
         * unread (not received) */
        if (b.n && (b.n >= batch_len || eof) && !cli_stop_requested(&stop)) {
            resolve(&b);
            if (ifx_sink_consume(sink, b.msgs, b.n, &err) && !failed) {
                failed = err.code;
                cli_error("sink: %s", err.msg);
            }
            b.n = 0;
            ifx_buf_reset(&b.arena);
        }
        if (tty && ifx_now_ns() - last_progress > 1000000000ULL) {
            ifx_sink_stats st;
            ifx_sink_get_stats(sink, &st);
            fprintf(stderr, "\rifx: sink: received %llu, written %llu, rejected %llu, spooled %llu",
                    (unsigned long long)st.received, (unsigned long long)st.written,
                    (unsigned long long)st.rejected, (unsigned long long)st.spooled);
            last_progress = ifx_now_ns();
        }
    }
    if (tty)
        fputc('\n', stderr);
    ifx_buf_free(&line);
    /* Give the spool's delivery thread the time to finish what it has, unless interrupted. */
    if (cfg.spool_dir) {
        ifx_sink_stats st;
        for (;;) {
            ifx_sink_get_stats(sink, &st);
            if (st.spool_records == 0 || cli_stop_requested(&stop))
                break;
            ifx_sleep(NULL, 20000000ULL);
        }
    }
    ifx_sink_stats st;
    ifx_sink_get_stats(sink, &st);
    cli_metrics_stop(metrics);
    metrics = NULL;
    cli_stop_target(&stop, NULL, NULL);
    ifx_sink_close(sink);
    sink = NULL;
    printf("{\"received\":%llu,\"written\":%llu,\"rejected\":%llu,\"pending\":%llu,"
           "\"spooled\":%llu,\"spool_records\":%llu,\"requests\":%llu,\"retried\":%llu,"
           "\"invalid_input_lines\":%llu}\n",
           (unsigned long long)st.received, (unsigned long long)st.written,
           (unsigned long long)st.rejected, (unsigned long long)st.pending,
           (unsigned long long)st.spooled, (unsigned long long)st.spool_records,
           (unsigned long long)st.requests, (unsigned long long)st.retried,
           (unsigned long long)bad_input);
    if (failed || st.pending || st.spool_records || cli_stop_requested(&stop))
        status = CLI_EXIT_FAILURE;
    else if (st.rejected || bad_input)
        status = 3;
    else
        status = CLI_EXIT_OK;
out:
    cli_metrics_stop(metrics);
    cli_stop_target(&stop, NULL, NULL);
    ifx_sink_close(sink);
    cli_stop_end(&stop);
    cli_input_close(&in);
    free(b.msgs);
    free(b.stream_off);
    free(b.topic_off);
    free(b.payload_off);
    ifx_buf_free(&b.arena);
    ifx_config_free(&cfg);
    return status;
}
