/* The sink plugin as the Iggy connectors runtime sees it (../shared/spec/iggy-plugin-abi.md §1,
 * §2, §4, §5, §7, §10, §11): this host dlopens the built libiggy_connector_influxdb_sink.so with
 * RTLD_LAZY | RTLD_LOCAL, binds the four symbols by name, hands it configuration and postcard
 * batches in exact-size heap buffers (so that a sanitizer build catches any read past them), and
 * checks what reached the server, field by field: the v3 and v2 test servers and a real InfluxDB
 * 1.x. It also plays the runtime's harder moments: concurrent consumes for one id, several ids on
 * one loaded library, close twice or while a consume is blocked, empty and malformed batches.
 *
 * Only the postcard encoders and ifx_buf come from libifx; everything the test compares against
 * (u128 decimals, compact JSON, the exported symbol table) is computed here independently. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "abi_host.h"
#include "admin.h"
#include "fixture.h"
#include "ifx/buf.h"
#include "postcard_host.h"
#include "iggy/iggy_abi.h"

#define TOKEN       "ifx-abi-secret-token"
#define V2_ORG      "iggy"
#define V2_BUCKET   "events"
#define BASE_TS_US  1764118800000000ULL
#define MEASUREMENT "iggy_messages"

static fixture v3, v2, v1;

/* ---- the plugin, bound as the runtime binds it --------------------------------------------- */

static void *lib;
static iggy_sink_open_fn sink_open;
static iggy_sink_consume_fn sink_consume;
static iggy_sink_close_fn sink_close;
static iggy_sink_version_fn sink_version;

/* ---- calls through the bound symbols, with exact-size buffers ------------------------------- */

/* Opens id with the JSON text, handed over without its NUL as the runtime does. */
static int32_t open_json(uint32_t id, const char *json)
{
    size_t n = strlen(json);
    uint8_t *cfg = abi_exact_copy(json, n);
    int32_t rc = sink_open(id, cfg, n, abi_record_log);
    memset(cfg, 0xA5, n); /* the plugin must have copied what it keeps */
    free(cfg);
    return rc;
}

static int32_t consume_raw(uint32_t id, const ifx_buf *tm, const ifx_buf *mm, const ifx_buf *raw)
{
    uint8_t *a = abi_exact_copy(tm->data, tm->len), *b = abi_exact_copy(mm->data, mm->len),
            *c = abi_exact_copy(raw->data, raw->len);
    int32_t rc = sink_consume(id, a, tm->len, b, mm->len, c, raw->len);
    memset(c, 0xA5, raw->len);
    free(a);
    free(b);
    free(c);
    return rc;
}

/* ---- test messages ------------------------------------------------------------------------ */

typedef struct tmsg {
    ifx_u128 id;
    uint64_t offset, checksum, ts_us, origin_us;
    uint8_t headers[512]; /* the nested postcard header map, or empty */
    size_t headers_len;
    char payload[600];
    size_t payload_len;
    char expect[600]; /* the compact JSON the server must hold */
    bool poison;      /* invalid JSON: rejected alone, never stored */
} tmsg;

static void u128_decimal(ifx_u128 v, char *out)
{
    unsigned __int128 x = (unsigned __int128)v.hi << 64 | v.lo;
    char tmp[48];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(x % 10));
        x /= 10;
    } while (x);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

static void put_header_map(tmsg *m, uint64_t k)
{
    uint32_t n42 = 42 + (uint32_t)k;
    uint8_t raw_key = 0xFF, yes = 1;
    uint8_t big[16];
    double f = 0.5 + (double)k;
    char trace[32];
    int tl = snprintf(trace, sizeof trace, "trace-%llu", (unsigned long long)k);
    for (int i = 0; i < 16; i++)
        big[i] = (uint8_t)(0xF0 + i);
    /* sorted as the runtime sorts them: by (kind code, bytes) */
    ifx_header_in h[5] = {
        {IFX_HDR_RAW, &raw_key, 1, IFX_HDR_BOOL, &yes, 1},
        {IFX_HDR_STRING, "f", 1, IFX_HDR_FLOAT64, &f, 8},
        {IFX_HDR_STRING, "n", 1, IFX_HDR_UINT32, &n42, 4},
        {IFX_HDR_STRING, "trace", 5, IFX_HDR_STRING, trace, (size_t)tl},
        {IFX_HDR_STRING, "u128", 4, IFX_HDR_UINT128, big, 16},
    };
    ifx_buf b;
    ifx_buf_init(&b, sizeof m->headers);
    assert_int_equal(ifxi_pc_put_headers(&b, h, 5), IFX_OK);
    memcpy(m->headers, b.data, b.len);
    m->headers_len = b.len;
    ifx_buf_free(&b);
}

/* A deterministic message: ids above 2^64 and near the u128 maximum, checksums over the full
 * u64 range, header maps on some, JSON payloads with whitespace to compact. */
static void make_msg(tmsg *m, uint64_t offset, uint64_t salt, bool poison)
{
    uint64_t k = offset + salt;
    memset(m, 0, sizeof *m);
    m->offset = offset;
    switch (k % 4) {
    case 0:
        m->id = (ifx_u128){0x0190ABCDEF012345ULL + k, 0x8000000000000001ULL * (k + 1)};
        break;
    case 1:
        m->id = (ifx_u128){0, 1000 + k};
        break;
    case 2:
        m->id = (ifx_u128){UINT64_MAX, UINT64_MAX - k};
        break;
    default:
        m->id = (ifx_u128){1 + k, 0};
        break;
    }
    m->checksum = k % 7 == 3 ? UINT64_MAX : k % 7 == 5 ? 0 : 0x9E3779B97F4A7C15ULL * (k + 1);
    m->ts_us = BASE_TS_US + offset * 1000 + salt % 1000;
    m->origin_us = m->ts_us - 12345 - k;
    if (k % 3 == 0)
        put_header_map(m, k);
    m->poison = poison;
    if (poison) {
        snprintf(m->payload, sizeof m->payload, "{\"broken\": %llu,", (unsigned long long)k);
    } else {
        switch (k % 5) {
        case 0:
            snprintf(m->payload, sizeof m->payload,
                     "{ \"order\" : %llu , \"items\" : [ 1, 2 , 3 ],\n \"who\" : \"Zo\xc3\xab "
                     "\\\"Z\\\" O'Neil\", \"nested\" : { \"ok\" : true, \"none\" : null } }",
                     (unsigned long long)k);
            snprintf(m->expect, sizeof m->expect,
                     "{\"order\":%llu,\"items\":[1,2,3],\"who\":\"Zo\xc3\xab \\\"Z\\\" "
                     "O'Neil\",\"nested\":{\"ok\":true,\"none\":null}}",
                     (unsigned long long)k);
            break;
        case 1:
            snprintf(m->payload, sizeof m->payload, "[ %llu , \"line\\nbreak\\ttab\" ]\n",
                     (unsigned long long)k);
            snprintf(m->expect, sizeof m->expect, "[%llu,\"line\\nbreak\\ttab\"]",
                     (unsigned long long)k);
            break;
        case 2:
            snprintf(m->payload, sizeof m->payload, "  %llu  ", (unsigned long long)k);
            snprintf(m->expect, sizeof m->expect, "%llu", (unsigned long long)k);
            break;
        case 3:
            snprintf(m->payload, sizeof m->payload,
                     "{\"deep\":{\"a\":{\"b\":{\"c\":[{\"d\":\"%llu\"}]}}},\"big\":"
                     "123456789012345678901234567890,\"neg\":-1.5e-3}",
                     (unsigned long long)k);
            snprintf(m->expect, sizeof m->expect, "%s", m->payload);
            break;
        default:
            snprintf(m->payload, sizeof m->payload,
                     "{\"k\":\"%llu\", \"s\":\"comma, space = equals\", \"u\":\"\xe6\x97\xa5\"}",
                     (unsigned long long)k);
            snprintf(m->expect, sizeof m->expect,
                     "{\"k\":\"%llu\",\"s\":\"comma, space = equals\",\"u\":\"\xe6\x97\xa5\"}",
                     (unsigned long long)k);
            break;
        }
    }
    m->payload_len = strlen(m->payload);
}

/* Encodes and consumes one batch as the runtime would hand it over. */
static int32_t consume_batch(uint32_t id, const char *stream, const char *topic, uint32_t partition,
                             const tmsg *msgs, size_t n)
{
    ifx_buf tm, mm, raw;
    ifx_raw_message *rm = calloc(n ? n : 1, sizeof *rm);
    assert_non_null(rm);
    ifx_buf_init(&tm, 1 << 16);
    ifx_buf_init(&mm, 64);
    ifx_buf_init(&raw, 64u << 20);
    for (size_t i = 0; i < n; i++)
        rm[i] = (ifx_raw_message){.id = msgs[i].id,
                                  .offset = msgs[i].offset,
                                  .checksum = msgs[i].checksum,
                                  .timestamp = msgs[i].ts_us,
                                  .origin_timestamp = msgs[i].origin_us,
                                  .headers = msgs[i].headers,
                                  .headers_len = msgs[i].headers_len,
                                  .payload = (const uint8_t *)msgs[i].payload,
                                  .payload_len = msgs[i].payload_len};
    ifx_messages_meta meta = {partition, n ? msgs[n - 1].offset + 5 : 0, IFX_SCHEMA_JSON};
    assert_int_equal(pc_host_encode_topic_meta(&tm, stream, topic), IFX_OK);
    assert_int_equal(pc_host_encode_messages_meta(&mm, &meta), IFX_OK);
    assert_int_equal(pc_host_encode_raw_messages(&raw, IFX_SCHEMA_JSON, rm, n), IFX_OK);
    int32_t rc = consume_raw(id, &tm, &mm, &raw);
    ifx_buf_free(&tm);
    ifx_buf_free(&mm);
    ifx_buf_free(&raw);
    free(rm);
    return rc;
}

/* ---- what the servers hold ---------------------------------------------------------------- */

/* The v2/v3 test server's points, with every unsigned value turned into a decimal string first
 * (jansson reads integers only up to 2^63 - 1; checksums use the full u64 range). */
static json_t *server_points(int port, const char *db)
{
    static const char key[] = "\"type\":\"unsigned\",\"value\":";
    char path[256];
    snprintf(path, sizeof path, "/__admin/points?db=%s", db);
    char *text = admin_text(port, "GET", path, NULL);
    size_t len = strlen(text), count = 0;
    for (const char *p = strstr(text, key); p; p = strstr(p + 1, key))
        count++;
    char *q = malloc(len + 2 * count + 1), *o = q;
    const char *p = text;
    assert_non_null(q);
    for (const char *hit; (hit = strstr(p, key));) {
        hit += sizeof key - 1;
        memcpy(o, p, (size_t)(hit - p));
        o += hit - p;
        *o++ = '"';
        while (*hit >= '0' && *hit <= '9')
            *o++ = *hit++;
        *o++ = '"';
        p = hit;
    }
    strcpy(o, p);
    json_error_t jerr;
    json_t *j = json_loads(q, 0, &jerr);
    if (!j)
        fail_msg("points of %s are not JSON: %s", db, jerr.text);
    free(text);
    free(q);
    assert_true(json_is_array(j));
    return j;
}

static const char *tag_of(json_t *p, const char *k)
{
    return json_string_value(json_object_get(json_object_get(p, "tags"), k));
}

static json_t *find_point(json_t *pts, const char *topic, uint64_t offset)
{
    char off[24];
    size_t i;
    json_t *p;
    snprintf(off, sizeof off, "%llu", (unsigned long long)offset);
    json_array_foreach(pts, i, p)
    {
        const char *t = tag_of(p, "topic"), *o = tag_of(p, "offset");
        if (t && o && strcmp(t, topic) == 0 && strcmp(o, off) == 0)
            return p;
    }
    return NULL;
}

static void expect_field(json_t *p, const char *k, const char *type, const char *value)
{
    json_t *f = json_object_get(json_object_get(p, "fields"), k);
    if (!f)
        fail_msg("offset %s: no field %s", tag_of(p, "offset"), k);
    const char *ty = json_string_value(json_object_get(f, "type"));
    const char *v = json_string_value(json_object_get(f, "value"));
    if (!ty || strcmp(ty, type) != 0)
        fail_msg("offset %s: field %s has type %s, want %s", tag_of(p, "offset"), k, ty ? ty : "?",
                 type);
    if (!v || strcmp(v, value) != 0)
        fail_msg("offset %s: field %s = %s, want %s", tag_of(p, "offset"), k, v ? v : "(null)",
                 value);
}

/* One stored point against the message it came from: every tag, every field, the time. */
static void check_point(json_t *p, const char *measurement, const char *stream, const char *topic,
                        uint32_t partition, const tmsg *m, bool with_checksum)
{
    char num[48];
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(p, "measurement")), measurement);
    json_t *tags = json_object_get(p, "tags");
    assert_int_equal(json_object_size(tags), 4);
    assert_string_equal(tag_of(p, "stream"), stream);
    assert_string_equal(tag_of(p, "topic"), topic);
    snprintf(num, sizeof num, "%u", partition);
    assert_string_equal(tag_of(p, "partition"), num);
    snprintf(num, sizeof num, "%llu", (unsigned long long)m->offset);
    assert_string_equal(tag_of(p, "offset"), num);
    assert_int_equal(json_object_size(json_object_get(p, "fields")), with_checksum ? 4 : 3);
    u128_decimal(m->id, num);
    expect_field(p, "message_id", "string", num);
    if (with_checksum) {
        snprintf(num, sizeof num, "%llu", (unsigned long long)m->checksum);
        expect_field(p, "iggy_checksum", "unsigned", num);
    }
    snprintf(num, sizeof num, "%llu", (unsigned long long)m->origin_us);
    expect_field(p, "iggy_origin_timestamp", "unsigned", num);
    expect_field(p, "payload_json", "string", m->expect);
    assert_true(json_is_integer(json_object_get(p, "time")));
    assert_int_equal((long long)json_integer_value(json_object_get(p, "time")),
                     (long long)(m->ts_us * 1000));
}

static void reset_server(int port)
{
    json_decref(admin_call(port, "POST", "/__admin/reset", NULL));
}

/* Lines the server received in successful write requests (the store would hide a duplicate:
 * the same series and time overwrite each other). */
static size_t lines_written(int port)
{
    json_t *reqs = admin_call(port, "GET", "/__admin/requests?body=1", NULL), *r;
    size_t i, lines = 0;
    json_array_foreach(reqs, i, r)
    {
        const char *path = json_string_value(json_object_get(r, "path"));
        json_int_t status = json_integer_value(json_object_get(r, "status"));
        const char *body = json_string_value(json_object_get(r, "body"));
        if (!path || !body || !strstr(path, "write") || status < 200 || status > 299)
            continue;
        for (const char *s = body; *s;) {
            const char *e = strchr(s, '\n');
            size_t n = e ? (size_t)(e - s) : strlen(s);
            if (n)
                lines++;
            s += n + (e ? 1 : 0);
        }
    }
    json_decref(reqs);
    return lines;
}

static char *v3_config(const char *db, const char *extra)
{
    static _Thread_local char json[1024];
    snprintf(json, sizeof json,
             "{\"version\":\"v3\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"%s\",\"token\":\"" TOKEN
             "\",\"retry_delay\":\"10ms\",\"retry_max_delay\":\"50ms\",\"max_open_retries\":2,"
             "\"stats_interval\":\"0s\"%s%s}",
             v3.port, db, extra ? "," : "", extra ? extra : "");
    return json;
}

/* ---- loading ------------------------------------------------------------------------------ */

static const char *const sink_symbols[] = {"iggy_sink_open", "iggy_sink_consume", "iggy_sink_close",
                                           "iggy_sink_version"};

static void test_load_and_version(void **state)
{
    (void)state;
    /* dlopen2 on Unix: RTLD_LOCAL | RTLD_LAZY, every symbol bound by name (§1.2) */
    assert_non_null(sink_open);
    assert_non_null(sink_consume);
    assert_non_null(sink_close);
    assert_non_null(sink_version);
    /* libifx is linked in whole but must not leak into the host's namespace */
    assert_null(dlsym(lib, "ifx_lp_begin_line"));
    assert_null(dlsym(lib, "ifx_sink_consume"));
    assert_null(dlsym(lib, "ifxi_pc_messages_begin"));
    abi_exports l;
    abi_exports_of(IFX_SINK_PLUGIN, sink_symbols, 4, &l);
    if (l.iggy != 4 || l.other != 0)
        fail_msg("the plugin exports %d of the 4 sink symbols and %d others:%s", l.iggy, l.other,
                 l.others);
    /* the same file opened again is the same handle: one load per path (§1.2) */
    abi_check_reload_and_version(lib, IFX_SINK_PLUGIN, sink_version);
}

/* ---- (a) (b): the test servers ------------------------------------------------------------ */

#define NBATCH 3
#define PER    12

/* Three batches on two partitions: headers, big ids, one poison message in the second. */
static void run_layout_case(int port, const char *config, const char *db)
{
    static tmsg m[NBATCH][PER];
    const uint32_t partitions[NBATCH] = {1, 7, 4294967295u};
    const uint64_t poison_offset = 1 * 100 + 5;
    uint32_t id = abi_new_id();
    size_t mark = abi_log_mark();

    reset_server(port);
    assert_int_equal(open_json(id, config), 0);
    assert_true(abi_log_has(mark, 2, "InfluxDB sink open", NULL));
    for (int b = 0; b < NBATCH; b++) {
        for (int i = 0; i < PER; i++) {
            uint64_t off = (uint64_t)b * 100 + (uint64_t)i;
            make_msg(&m[b][i], off, 0, off == poison_offset);
        }
        assert_int_equal(consume_batch(id, "orders", "eu-west", partitions[b], m[b], PER), 0);
    }
    /* the poison message was refused alone, and said so */
    char want[64];
    snprintf(want, sizeof want, "offset=%llu", (unsigned long long)poison_offset);
    if (!abi_log_has(mark, 3, want, "not valid JSON")) {
        abi_dump_log(mark);
        fail_msg("the poison message was not reported through the log callback");
    }
    assert_int_equal(sink_close(id), 0);

    json_t *pts = server_points(port, db);
    assert_int_equal(json_array_size(pts), NBATCH * PER - 1);
    for (int b = 0; b < NBATCH; b++)
        for (int i = 0; i < PER; i++) {
            json_t *p = find_point(pts, "eu-west", m[b][i].offset);
            if (m[b][i].poison)
                assert_null(p);
            else
                check_point(p, MEASUREMENT, "orders", "eu-west", partitions[b], &m[b][i], true);
        }
    json_decref(pts);
    assert_int_equal(lines_written(port), NBATCH * PER - 1);
}

static void test_v3_server(void **state)
{
    (void)state;
    run_layout_case(v3.port, v3_config("abi", NULL), "abi");
}

static void test_v2_server(void **state)
{
    char config[1024];
    (void)state;
    snprintf(config, sizeof config,
             "{\"version\":\"v2\",\"url\":\"http://127.0.0.1:%d\",\"org\":\"" V2_ORG
             "\",\"bucket\":\"" V2_BUCKET "\",\"token\":\"" TOKEN
             "\",\"retry_delay\":\"10ms\",\"retry_max_delay\":\"50ms\",\"max_open_retries\":2,"
             "\"stats_interval\":\"0s\"}",
             v2.port);
    run_layout_case(v2.port, config, V2_BUCKET);
}

/* ---- (c): a real InfluxDB 1.x ------------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    return ifx_buf_append(ud, p, size * n) ? 0 : size * n;
}

static json_t *v1_query(const char *method, const char *query_string)
{
    char url[1024];
    ifx_buf reply;
    long status = 0;
    CURL *c = curl_easy_init();
    assert_non_null(c);
    ifx_buf_init(&reply, 64u << 20);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/query?%s", v1.port, query_string);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (strcmp(method, "POST") == 0)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    assert_int_equal(status, 200);
    json_error_t jerr;
    json_t *j = json_loadb(reply.data ? reply.data : "", reply.len, 0, &jerr);
    if (!j)
        fail_msg("1.x answer is not JSON: %s", jerr.text);
    ifx_buf_free(&reply);
    return j;
}

/* results[0].series[0] of a 1.x answer; NULL when there is none. */
static json_t *v1_series(json_t *answer)
{
    json_t *r0 = json_array_get(json_object_get(answer, "results"), 0);
    if (json_object_get(r0, "error"))
        fail_msg("1.x query error: %s", json_string_value(json_object_get(r0, "error")));
    return json_array_get(json_object_get(r0, "series"), 0);
}

static int column(json_t *series, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(series, "columns"), i,
                       c) if (strcmp(json_string_value(c), name) == 0) return (int)i;
    fail_msg("no column %s", name);
    return -1;
}

/* A two-column SHOW answer (key, type) as "k:type,k:type" or "k,k" in the server's order. */
static void show_keys(const char *q, char *out, size_t cap)
{
    json_t *a = v1_query("GET", q), *s = v1_series(a), *row;
    size_t i, n = 0;
    out[0] = '\0';
    assert_non_null(s);
    json_array_foreach(json_object_get(s, "values"), i, row)
    {
        const char *k = json_string_value(json_array_get(row, 0));
        const char *t = json_string_value(json_array_get(row, 1));
        n += (size_t)snprintf(out + n, cap - n, "%s%s%s%s", n ? "," : "", k, t ? ":" : "",
                              t ? t : "");
    }
    json_decref(a);
}

static void test_real_influxdb1(void **state)
{
    static tmsg m[2][PER];
    char config[512], keys[512];
    uint32_t id = abi_new_id();
    size_t mark = abi_log_mark();
    (void)state;

    json_decref(v1_query("POST", "q=CREATE%20DATABASE%20abi"));
    snprintf(config, sizeof config,
             "{\"version\":\"v1\",\"url\":\"http://127.0.0.1:%d\",\"db\":\"abi\","
             "\"retry_delay\":\"10ms\",\"stats_interval\":\"0s\"}",
             v1.port);
    assert_int_equal(open_json(id, config), 0);
    for (int b = 0; b < 2; b++) {
        for (int i = 0; i < PER; i++) {
            uint64_t off = (uint64_t)b * 100 + (uint64_t)i;
            make_msg(&m[b][i], off, 3, off == 7);
        }
        assert_int_equal(consume_batch(id, "orders", "eu-west", 2 + (uint32_t)b, m[b], PER), 0);
    }
    assert_true(abi_log_has(mark, 3, "offset=7", "not valid JSON"));
    assert_int_equal(sink_close(id), 0);

    /* which keys are tags and which fields, with the field types 1.x stored */
    show_keys("db=abi&q=SHOW%20TAG%20KEYS%20FROM%20" MEASUREMENT, keys, sizeof keys);
    assert_string_equal(keys, "offset,partition,stream,topic");
    show_keys("db=abi&q=SHOW%20FIELD%20KEYS%20FROM%20" MEASUREMENT, keys, sizeof keys);
    assert_string_equal(keys, "iggy_checksum:string,iggy_origin_timestamp:integer,"
                              "message_id:string,payload_json:string");

    json_t *a = v1_query("GET", "db=abi&epoch=ns&q=SELECT%20*%20FROM%20" MEASUREMENT);
    json_t *s = v1_series(a), *values = json_object_get(s, "values");
    assert_non_null(s);
    assert_string_equal(json_string_value(json_object_get(s, "name")), MEASUREMENT);
    assert_int_equal(json_array_size(json_object_get(s, "columns")), 9);
    assert_int_equal(json_array_size(values), 2 * PER - 1);
    int c_time = column(s, "time"), c_sum = column(s, "iggy_checksum"),
        c_ots = column(s, "iggy_origin_timestamp"), c_id = column(s, "message_id"),
        c_off = column(s, "offset"), c_part = column(s, "partition"),
        c_pay = column(s, "payload_json"), c_stream = column(s, "stream"),
        c_topic = column(s, "topic");
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < PER; i++) {
            const tmsg *x = &m[b][i];
            char num[48];
            json_t *row = NULL, *r;
            size_t k;
            snprintf(num, sizeof num, "%llu", (unsigned long long)x->offset);
            json_array_foreach(values, k, r) if (strcmp(json_string_value(json_array_get(r, c_off)),
                                                        num) == 0) row = r;
            if (x->poison) {
                assert_null(row);
                continue;
            }
            assert_non_null(row);
            assert_int_equal((long long)json_integer_value(json_array_get(row, c_time)),
                             (long long)(x->ts_us * 1000));
            snprintf(num, sizeof num, "%llu", (unsigned long long)x->checksum);
            assert_string_equal(json_string_value(json_array_get(row, c_sum)), num);
            assert_true(json_is_integer(json_array_get(row, c_ots)));
            assert_int_equal((long long)json_integer_value(json_array_get(row, c_ots)),
                             (long long)x->origin_us);
            u128_decimal(x->id, num);
            assert_string_equal(json_string_value(json_array_get(row, c_id)), num);
            snprintf(num, sizeof num, "%u", 2 + (unsigned)b);
            assert_string_equal(json_string_value(json_array_get(row, c_part)), num);
            assert_string_equal(json_string_value(json_array_get(row, c_pay)), x->expect);
            assert_string_equal(json_string_value(json_array_get(row, c_stream)), "orders");
            assert_string_equal(json_string_value(json_array_get(row, c_topic)), "eu-west");
        }
    json_decref(a);
}

/* ---- (d): concurrent consumes for one id -------------------------------------------------- */

#define CONC_THREADS 4
#define CONC_BATCHES 50
#define CONC_PER     20

struct conc_arg {
    uint32_t id;
    int index;
    int failures;
};

static void *conc_thread(void *p)
{
    struct conc_arg *a = p;
    tmsg *m = calloc(CONC_PER, sizeof *m);
    char topic[32];
    snprintf(topic, sizeof topic, "topic-%d", a->index);
    for (int b = 0; b < CONC_BATCHES && m; b++) {
        for (int i = 0; i < CONC_PER; i++)
            make_msg(&m[i], (uint64_t)(b * CONC_PER + i), (uint64_t)a->index, false);
        if (consume_batch(a->id, "conc", topic, (uint32_t)a->index, m, CONC_PER) != 0)
            a->failures++;
    }
    if (!m)
        a->failures++;
    free(m);
    return NULL;
}

static void test_concurrent_consume(void **state)
{
    pthread_t th[CONC_THREADS];
    struct conc_arg args[CONC_THREADS];
    uint32_t id = abi_new_id();
    const size_t total = CONC_THREADS * CONC_BATCHES * CONC_PER;
    (void)state;

    reset_server(v3.port);
    assert_int_equal(open_json(id, v3_config("conc", NULL)), 0);
    for (int t = 0; t < CONC_THREADS; t++) {
        args[t] = (struct conc_arg){id, t, 0};
        assert_int_equal(pthread_create(&th[t], NULL, conc_thread, &args[t]), 0);
    }
    for (int t = 0; t < CONC_THREADS; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(args[t].failures, 0);
    }
    assert_int_equal(sink_close(id), 0);

    json_t *pts = server_points(v3.port, "conc"), *p;
    static unsigned char seen[CONC_THREADS][CONC_BATCHES * CONC_PER];
    size_t i;
    memset(seen, 0, sizeof seen);
    assert_int_equal(json_array_size(pts), total);
    json_array_foreach(pts, i, p)
    {
        const char *topic = tag_of(p, "topic"), *off = tag_of(p, "offset");
        assert_non_null(topic);
        assert_non_null(off);
        int t = atoi(topic + strlen("topic-"));
        long o = atol(off);
        assert_true(t >= 0 && t < CONC_THREADS && o >= 0 && o < CONC_BATCHES * CONC_PER);
        assert_int_equal(seen[t][o]++, 0);
        tmsg m;
        make_msg(&m, (uint64_t)o, (uint64_t)t, false);
        check_point(p, MEASUREMENT, "conc", topic, (uint32_t)t, &m, true);
    }
    json_decref(pts);
    /* exactly once on the wire too, not only in the store */
    assert_int_equal(lines_written(v3.port), total);
}

/* ---- (e): two ids on one loaded library --------------------------------------------------- */

static void test_two_instances(void **state)
{
    static tmsg ma[4][5], mb[4][5];
    uint32_t a = abi_new_id(), b = abi_new_id();
    (void)state;

    reset_server(v3.port);
    assert_int_equal(open_json(a, v3_config("alpha", NULL)), 0);
    assert_int_equal(open_json(b, v3_config("beta", "\"measurement\":\"beta_m\","
                                                    "\"include_checksum\":false")),
                     0);
    for (int k = 0; k < 4; k++) {
        for (int i = 0; i < 5; i++) {
            make_msg(&ma[k][i], (uint64_t)(k * 5 + i), 11, false);
            make_msg(&mb[k][i], (uint64_t)(k * 5 + i), 22, false);
        }
        assert_int_equal(consume_batch(a, "sa", "ta", 1, ma[k], 5), 0);
        assert_int_equal(consume_batch(b, "sb", "tb", 2, mb[k], 5), 0);
    }
    assert_int_equal(sink_close(a), 0);
    /* b lives on after a is closed */
    tmsg last;
    make_msg(&last, 99, 22, false);
    assert_int_equal(consume_batch(b, "sb", "tb", 2, &last, 1), 0);
    assert_int_equal(sink_close(b), 0);

    json_t *pa = server_points(v3.port, "alpha"), *pb = server_points(v3.port, "beta");
    assert_int_equal(json_array_size(pa), 20);
    assert_int_equal(json_array_size(pb), 21);
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 5; i++) {
            check_point(find_point(pa, "ta", ma[k][i].offset), MEASUREMENT, "sa", "ta", 1,
                        &ma[k][i], true);
            check_point(find_point(pb, "tb", mb[k][i].offset), "beta_m", "sb", "tb", 2, &mb[k][i],
                        false);
        }
    check_point(find_point(pb, "tb", 99), "beta_m", "sb", "tb", 2, &last, false);
    json_decref(pa);
    json_decref(pb);
}

/* ---- (f): the lifecycle's odd calls -------------------------------------------------------- */

static void test_lifecycle_errors(void **state)
{
    tmsg m;
    uint32_t id = abi_new_id();
    size_t mark;
    (void)state;

    reset_server(v3.port);
    make_msg(&m, 1, 0, false);
    assert_int_equal(open_json(id, v3_config("life", NULL)), 0);
    /* a second open of a live id: -1, and the live instance is untouched */
    mark = abi_log_mark();
    assert_int_equal(open_json(id, v3_config("other", NULL)), -1);
    assert_true(abi_log_has(mark, 4, "already open", NULL));
    assert_int_equal(consume_batch(id, "s", "t", 0, &m, 1), 0);
    /* close twice: the second finds nothing */
    assert_int_equal(sink_close(id), 0);
    assert_int_not_equal(sink_close(id), 0);
    /* consume on a closed id */
    assert_int_not_equal(consume_batch(id, "s", "t", 0, &m, 1), 0);
    /* an id never opened */
    assert_int_not_equal(sink_close(987654321u), 0);
    assert_int_not_equal(consume_batch(987654322u, "s", "t", 0, &m, 1), 0);

    json_t *pts = server_points(v3.port, "life");
    assert_int_equal(json_array_size(pts), 1);
    json_decref(pts);
    json_t *other = server_points(v3.port, "other");
    assert_int_equal(json_array_size(other), 0);
    json_decref(other);

    /* invalid configurations: non-zero, the problem logged, and the id stays unusable */
    uint32_t bad = abi_new_id();
    mark = abi_log_mark();
    assert_int_not_equal(open_json(bad, "{\"version\":\"v9\"}"), 0);
    if (!abi_log_has(mark, 4, "version", NULL)) {
        abi_dump_log(mark);
        fail_msg("a bad version was not logged");
    }
    assert_int_not_equal(consume_batch(bad, "s", "t", 0, &m, 1), 0);
    assert_int_not_equal(sink_close(bad), 0); /* close after a failed open (§2.3) */

    /* the literal null: the empty configuration, which lacks the url */
    bad = abi_new_id();
    mark = abi_log_mark();
    assert_int_not_equal(open_json(bad, "null"), 0);
    if (!abi_log_has(mark, 4, "url", NULL)) {
        abi_dump_log(mark);
        fail_msg("a missing url was not logged");
    }
    assert_int_not_equal(sink_close(bad), 0);

    /* not JSON at all, and an empty configuration */
    bad = abi_new_id();
    mark = abi_log_mark();
    assert_int_not_equal(open_json(bad, "{\"version\":\"v3\",\"url\":"), 0);
    assert_true(abi_log_has(mark, 4, "JSON", NULL));
    bad = abi_new_id();
    mark = abi_log_mark();
    assert_int_not_equal(sink_open(bad, (const uint8_t *)"{}", 0, abi_record_log), 0);
    assert_true(abi_log_has(mark, 4, "empty", NULL));

    /* after all of that the library still serves a new id */
    id = abi_new_id();
    assert_int_equal(open_json(id, v3_config("life", NULL)), 0);
    make_msg(&m, 2, 0, false);
    assert_int_equal(consume_batch(id, "s", "t", 0, &m, 1), 0);
    assert_int_equal(sink_close(id), 0);
    pts = server_points(v3.port, "life");
    assert_int_equal(json_array_size(pts), 2);
    json_decref(pts);
}

/* ---- (g): close while a consume is blocked --------------------------------------------------- */

struct blocked_arg {
    uint32_t id;
    int32_t rc;
    atomic_bool returned;
};

static void *blocked_consume(void *p)
{
    struct blocked_arg *a = p;
    tmsg m[3];
    for (int i = 0; i < 3; i++)
        make_msg(&m[i], (uint64_t)(500 + i), 0, false);
    a->rc = consume_batch(a->id, "s", "t", 0, m, 3);
    atomic_store(&a->returned, true);
    return NULL;
}

static void test_close_while_blocked(void **state)
{
    struct blocked_arg a = {abi_new_id(), 0, false};
    pthread_t th;
    (void)state;

    reset_server(v3.port);
    int threads_before = abi_count_threads();
    assert_int_equal(open_json(a.id, v3_config("blocked", NULL)), 0);
    json_decref(
        admin_call(v3.port, "POST", "/__admin/fault", "{\"count\":1000000,\"status\":503}"));
    size_t mark = abi_log_mark();
    assert_int_equal(pthread_create(&th, NULL, blocked_consume, &a), 0);
    struct timespec pause = {0, 600000000L};
    nanosleep(&pause, NULL);
    assert_false(atomic_load(&a.returned)); /* held by backpressure, as documented */

    double t0 = abi_now_s();
    assert_int_equal(sink_close(a.id), 0);
    double took = abi_now_s() - t0;
    pthread_join(th, NULL);
    json_decref(admin_call(v3.port, "DELETE", "/__admin/fault", NULL));
    if (took >= 2.0)
        fail_msg("close took %.2f s while a consume was blocked", took);
    assert_int_not_equal(a.rc, 0);
    if (!abi_log_has(mark, 3, "not written before close", NULL)) {
        abi_dump_log(mark);
        fail_msg("the loss at close was not logged");
    }
    /* every plugin thread for the id is gone once close returned (§1.2) */
    int threads_after = abi_wait_threads(threads_before);
    assert_int_equal(threads_after, threads_before);
    assert_int_not_equal(consume_batch(a.id, "s", "t", 0, NULL, 0), 0);
}

/* ---- (h): an empty batch ------------------------------------------------------------------ */

static void test_empty_batch(void **state)
{
    uint32_t id = abi_new_id();
    (void)state;
    reset_server(v3.port);
    assert_int_equal(open_json(id, v3_config("empty", NULL)), 0);
    assert_int_equal(consume_batch(id, "s", "t", 0, NULL, 0), 0);
    assert_int_equal(sink_close(id), 0);
    json_t *pts = server_points(v3.port, "empty");
    assert_int_equal(json_array_size(pts), 0);
    json_decref(pts);
    assert_int_equal(lines_written(v3.port), 0);
}

/* ---- (i): malformed batches --------------------------------------------------------------- */

/* What decodes is delivered, what does not is dead-lettered with what is known (see
 * iggy_sink_consume in src/iggy/sink_plugin.c): every message handed over ends written (lines the
 * server stored) or rejected (a line in the dead-letter file), nothing pending, and consume
 * returns 0 once all are settled. */

/* Standard base64 decoding, written here so that the plugin's own encoder is not trusted. */
static size_t unbase64(const char *in, uint8_t *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t acc = 0;
    size_t n = 0;
    int bits = 0;
    for (; *in && *in != '='; in++) {
        const char *c = strchr(abc, *in);
        assert_non_null(c);
        acc = acc << 6 | (uint32_t)(c - abc);
        if ((bits += 6) >= 8) {
            bits -= 8;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return n;
}

/* The dead-letter file's lines from line `from` on (counted from 0), as JSON objects. */
static json_t *dead_letters(const char *path, size_t from)
{
    json_t *all = json_array();
    char *line = NULL;
    size_t cap = 0, k = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return all;
    while (getline(&line, &cap, f) > 0) {
        if (k++ < from)
            continue;
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        if (!json_is_object(j))
            fail_msg("dead letter %zu is not a JSON object: %s", k - 1, line);
        json_array_append_new(all, j);
    }
    free(line);
    fclose(f);
    return all;
}

static size_t count_lines(const char *path)
{
    json_t *a = dead_letters(path, 0);
    size_t n = json_array_size(a);
    json_decref(a);
    return n;
}

static json_int_t int_of(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v))
        fail_msg("dead letter: %s is not an integer", k);
    return json_integer_value(v);
}

/* A dead letter of an undecodable message: its index, and its id and offset (NULL: unknown). */
static void expect_undecodable(json_t *d, uint64_t index, const tmsg *m, const char *reason,
                               const char *stream)
{
    char id[48];
    assert_true(json_is_true(json_object_get(d, "undecodable")));
    assert_int_equal(int_of(d, "index"), (json_int_t)index);
    const char *r = json_string_value(json_object_get(d, "reason"));
    if (!r || !strstr(r, reason))
        fail_msg("dead letter %llu: reason '%s', want one with '%s'", (unsigned long long)index,
                 r ? r : "(none)", reason);
    if (stream)
        assert_string_equal(json_string_value(json_object_get(d, "stream")), stream);
    else
        assert_true(json_is_null(json_object_get(d, "stream")));
    if (m) {
        u128_decimal(m->id, id);
        assert_string_equal(json_string_value(json_object_get(d, "id")), id);
        assert_int_equal(int_of(d, "offset"), (json_int_t)m->offset);
    } else {
        assert_true(json_is_null(json_object_get(d, "id")));
        assert_true(json_is_null(json_object_get(d, "offset")));
    }
}

/* Checks the bytes a dead letter kept under key ("raw" or "payload") against want. */
static void expect_bytes(json_t *d, const char *key, const void *want, size_t len)
{
    char k[32];
    snprintf(k, sizeof k, "%s_len", key);
    assert_int_equal(int_of(d, k), (json_int_t)len);
    snprintf(k, sizeof k, "%s_base64", key);
    const char *b64 = json_string_value(json_object_get(d, k));
    assert_non_null(b64);
    uint8_t *got = malloc(strlen(b64) + 1);
    assert_int_equal(unbase64(b64, got), len);
    assert_memory_equal(got, want, len);
    free(got);
}

static void raw_messages(ifx_buf *out, const tmsg *m, size_t n)
{
    ifx_raw_message rm[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++)
        rm[i] = (ifx_raw_message){
            m[i].id,         m[i].offset,  m[i].checksum,    m[i].ts_us,
            m[i].origin_us,  m[i].headers, m[i].headers_len, (const uint8_t *)m[i].payload,
            m[i].payload_len};
    ifx_buf_reset(out);
    assert_int_equal(pc_host_encode_raw_messages(out, IFX_SCHEMA_JSON, rm, n), IFX_OK);
}

/* One consume of a malformed batch: returns 0, logs an ERROR naming the decoding problem, and
 * every message ends written or dead-lettered: want_written lines at the server, want_dead new
 * dead letters (returned, caller json_decref). */
static json_t *consume_malformed(uint32_t id, const ifx_buf *tm, const ifx_buf *mm,
                                 const ifx_buf *raw, const char *dl, size_t want_written,
                                 size_t want_dead)
{
    size_t mark = abi_log_mark(), lines = lines_written(v3.port), dead = count_lines(dl);
    assert_int_equal(consume_raw(id, tm, mm, raw), 0);
    if (!abi_log_has(mark, 4, "cannot", NULL)) {
        abi_dump_log(mark);
        fail_msg("a malformed batch (%zu bytes) was handled without an ERROR line", raw->len);
    }
    size_t written = lines_written(v3.port) - lines;
    json_t *d = dead_letters(dl, dead);
    if (written != want_written || json_array_size(d) != want_dead) {
        abi_dump_log(mark);
        fail_msg("a %zu-byte batch: %zu lines written (want %zu), %zu dead letters (want %zu)",
                 raw->len, written, want_written, json_array_size(d), want_dead);
    }
    return d;
}

static void test_malformed_batches(void **state)
{
    tmsg m[5];
    ifx_buf tm, mm, raw, cut, prefix;
    char dir[] = "/tmp/ifx-abi-malformed-XXXXXX", dl[64], extra[128];
    uint32_t id = abi_new_id();
    size_t ends[3];
    json_t *d;
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(dl, sizeof dl, "%s/dead.jsonl", dir);
    snprintf(extra, sizeof extra, "\"dead_letter_file\":\"%s\"", dl);
    reset_server(v3.port);
    assert_int_equal(open_json(id, v3_config("malformed", extra)), 0);
    ifx_buf_init(&tm, 1024);
    ifx_buf_init(&mm, 64);
    ifx_buf_init(&raw, 1 << 20);
    ifx_buf_init(&cut, 1 << 20);
    ifx_buf_init(&prefix, 1 << 20);
    for (int i = 0; i < 5; i++)
        make_msg(&m[i], (uint64_t)(10 + i), 0, false);
    ifx_messages_meta meta = {0, 14, IFX_SCHEMA_JSON};
    assert_int_equal(pc_host_encode_topic_meta(&tm, "s", "t"), IFX_OK);
    assert_int_equal(pc_host_encode_messages_meta(&mm, &meta), IFX_OK);
    /* where each of the first three messages ends (a count below 128 is one byte) */
    for (size_t j = 0; j < 3; j++) {
        raw_messages(&prefix, m, j + 1);
        ends[j] = prefix.len;
    }
    raw_messages(&raw, m, 3);

    /* Truncated at every length (coarsely above 40 bytes): the whole messages before the cut
     * are written, the cut one is dead-lettered with its bytes to the end, the rest by index.
     * Below 2 + 3 x 7 bytes the header itself cannot be read (three messages cannot fit): the
     * batch is one dead letter holding every byte. */
    for (size_t len = raw.len - 1;; len = len > 40 ? len - 37 : len - 1) {
        size_t whole = 0;
        while (whole < 3 && ends[whole] <= len)
            whole++;
        bool header = len >= 2 + 3 * 7;
        ifx_buf_reset(&cut);
        assert_int_equal(ifx_buf_append(&cut, raw.data, len), IFX_OK);
        d = consume_malformed(id, &tm, &mm, &cut, dl, header ? whole : 0, header ? 3 - whole : 1);
        if (!header) {
            expect_bytes(json_array_get(d, 0), "raw", raw.data, len);
            assert_true(json_is_null(json_object_get(json_array_get(d, 0), "index")));
        } else {
            size_t start = whole ? ends[whole - 1] : 2;
            json_t *first = json_array_get(d, 0);
            assert_int_equal(int_of(first, "index"), (json_int_t)whole);
            expect_bytes(first, "raw", raw.data + start, len - start);
            assert_string_equal(json_string_value(json_object_get(first, "stream")), "s");
            assert_int_equal(int_of(first, "partition"), 0);
            for (size_t k = 1; k < 3 - whole; k++)
                expect_undecodable(json_array_get(d, k), whole + k, NULL, "cannot be found", "s");
        }
        json_decref(d);
        if (len == 0)
            break;
    }

    /* A frame broken in the middle of a batch of five: message 2's headers length is a varint
     * of 11 bytes (at most 10 for a length). Messages 0 and 1 are written; message 2 is
     * dead-lettered with its id and offset (read before the break) and its bytes to the end;
     * 3 and 4 cannot be found and are dead-lettered by their index. */
    reset_server(v3.port);
    raw_messages(&raw, m, 2);
    raw.data[1] = 5; /* the count: five */
    size_t start2 = raw.len;
    ifxi_pc_put_u128(&raw, m[2].id);
    ifxi_pc_put_varint(&raw, m[2].offset);
    ifxi_pc_put_varint(&raw, m[2].checksum);
    ifxi_pc_put_varint(&raw, m[2].ts_us);
    ifxi_pc_put_varint(&raw, m[2].origin_us);
    ifx_buf_append(&raw, "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 11);
    raw_messages(&prefix, m + 3, 2);
    ifx_buf_append(&raw, prefix.data + 2, prefix.len - 2);
    d = consume_malformed(id, &tm, &mm, &raw, dl, 2, 3);
    expect_undecodable(json_array_get(d, 0), 2, &m[2], "headers", "s");
    expect_undecodable(json_array_get(d, 0), 2, &m[2], "cannot decode message 2 of 5", "s");
    expect_bytes(json_array_get(d, 0), "raw", raw.data + start2, raw.len - start2);
    expect_undecodable(json_array_get(d, 1), 3, NULL, "follows message 2", "s");
    expect_undecodable(json_array_get(d, 2), 4, NULL, "follows message 2", "s");
    json_decref(d);
    json_t *pts = server_points(v3.port, "malformed");
    assert_int_equal(json_array_size(pts), 2);
    for (int i = 0; i < 2; i++)
        check_point(find_point(pts, "t", m[i].offset), MEASUREMENT, "s", "t", 0, &m[i], true);
    json_decref(pts);

    /* A payload that fails its schema in a sound frame is an ordinary rejection: its neighbours
     * are written, it alone is dead-lettered by the encoder (not as undecodable). */
    tmsg poison[3];
    for (int i = 0; i < 3; i++)
        make_msg(&poison[i], (uint64_t)(20 + i), 0, i == 1);
    raw_messages(&raw, poison, 3);
    size_t lines = lines_written(v3.port), dead = count_lines(dl);
    assert_int_equal(consume_raw(id, &tm, &mm, &raw), 0);
    assert_int_equal(lines_written(v3.port) - lines, 2);
    d = dead_letters(dl, dead);
    assert_int_equal(json_array_size(d), 1);
    assert_null(json_object_get(json_array_get(d, 0), "undecodable"));
    assert_int_equal(int_of(json_array_get(d, 0), "offset"), 21);
    json_decref(d);

    /* Metadata that does not decode around a sound batch: stream, topic or partition (tags of
     * every point) are unknown, so every message is dead-lettered with its payload. */
    raw_messages(&raw, m, 3);
    ifx_buf_reset(&cut);
    ifx_buf_append(&cut, tm.data, 1);
    d = consume_malformed(id, &cut, &mm, &raw, dl, 0, 3);
    for (size_t k = 0; k < 3; k++) {
        expect_undecodable(json_array_get(d, k), k, &m[k], "TopicMetadata", NULL);
        expect_bytes(json_array_get(d, k), "payload", m[k].payload, m[k].payload_len);
        assert_int_equal(int_of(json_array_get(d, k), "partition"), 0);
    }
    json_decref(d);
    ifx_buf_reset(&cut);
    ifx_buf_append(&cut, "\x80", 1);
    d = consume_malformed(id, &tm, &cut, &raw, dl, 0, 3);
    expect_undecodable(json_array_get(d, 0), 0, &m[0], "MessagesMetadata", "s");
    assert_true(json_is_null(json_object_get(json_array_get(d, 0), "partition")));
    json_decref(d);
    /* invalid UTF-8 in the stream name */
    ifx_buf_reset(&cut);
    ifx_buf_append(&cut, "\x02\xC3\x28\x01t", 5);
    d = consume_malformed(id, &cut, &mm, &raw, dl, 0, 3);
    expect_undecodable(json_array_get(d, 2), 2, &m[2], "invalid UTF-8", NULL);
    json_decref(d);

    /* A header that cannot be read: a count no buffer of this size can hold, an unknown schema
     * index. No message can be found: one dead letter with the bytes. */
    static const uint8_t huge_count[] = {0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x01, 0x02};
    static const uint8_t bad_schema[] = {0x09, 0x00};
    ifx_buf_reset(&cut);
    ifx_buf_append(&cut, huge_count, sizeof huge_count);
    d = consume_malformed(id, &tm, &mm, &cut, dl, 0, 1);
    expect_bytes(json_array_get(d, 0), "raw", huge_count, sizeof huge_count);
    json_decref(d);
    ifx_buf_reset(&cut);
    ifx_buf_append(&cut, bad_schema, sizeof bad_schema);
    d = consume_malformed(id, &tm, &mm, &cut, dl, 0, 1);
    expect_bytes(json_array_get(d, 0), "raw", bad_schema, sizeof bad_schema);
    const char *r = json_string_value(json_object_get(json_array_get(d, 0), "reason"));
    assert_non_null(strstr(r, "schema"));
    json_decref(d);

    /* the instance still works */
    reset_server(v3.port);
    raw_messages(&raw, m, 3);
    assert_int_equal(consume_raw(id, &tm, &mm, &raw), 0);
    assert_int_equal(sink_close(id), 0);
    pts = server_points(v3.port, "malformed");
    assert_int_equal(json_array_size(pts), 3);
    for (int i = 0; i < 3; i++)
        check_point(find_point(pts, "t", m[i].offset), MEASUREMENT, "s", "t", 0, &m[i], true);
    json_decref(pts);
    ifx_buf_free(&tm);
    ifx_buf_free(&mm);
    ifx_buf_free(&raw);
    ifx_buf_free(&cut);
    ifx_buf_free(&prefix);
    unlink(dl);
    rmdir(dir);
}

/* log_format "json": every line of the instance is one JSON object naming it, and the figures of a
 * line are fields of their own. */
static void test_json_log_lines(void **state)
{
    tmsg m[3];
    uint32_t id = abi_new_id();
    size_t mark = abi_log_mark();
    char who[64];
    (void)state;
    reset_server(v3.port);
    assert_int_equal(open_json(id, v3_config("abi", "\"log_format\":\"json\"")), 0);
    for (int i = 0; i < 3; i++)
        make_msg(&m[i], (uint64_t)(900 + i), 0, i == 1);
    assert_int_equal(consume_batch(id, "orders", "eu-west", 0, m, 3), 0);
    assert_int_equal(sink_close(id), 0);
    snprintf(who, sizeof who, "\"connector\":\"sink %u\"", id);
    if (!abi_log_has(mark, 3, "{\"level\":\"WARN\"", who) ||
        !abi_log_has(mark, 3, "\"offset\":901", "not valid JSON") ||
        !abi_log_has(mark, 2, "\"written\":2", who)) {
        abi_dump_log(mark);
        fail_msg("the JSON log lines are not as expected");
    }
    /* no text line from this instance */
    snprintf(who, sizeof who, "[sink %u]", id);
    assert_false(abi_log_has(mark, 0, who, NULL));
    assert_int_equal(lines_written(v3.port), 2);
}

/* ---- the log as a whole ------------------------------------------------------------------- */

static void test_log_contract(void **state)
{
    (void)state;
    abi_check_log_contract(TOKEN);
}

/* ---- setup -------------------------------------------------------------------------------- */

static int setup(void **state)
{
    char *a2[] = {"python3",  IFX_SOURCE_DIR "/tests/fixtures/influxdb_server.py",
                  "--mode",   "v2",
                  "--token",  TOKEN,
                  "--org",    V2_ORG,
                  "--bucket", V2_BUCKET,
                  NULL};
    char *a1[] = {"python3", IFX_SOURCE_DIR "/tests/fixtures/influxdb1.py", "--influxd", INFLUXD,
                  NULL};
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* a missing symbol fails the whole load, as in the runtime */
    void **const slots[] = {(void **)&sink_open, (void **)&sink_consume, (void **)&sink_close,
                            (void **)&sink_version};
    lib = abi_load(IFX_SINK_PLUGIN, sink_symbols, slots, 4, "sink");
    if (!lib)
        return -1;
    if (fixture_start_stand_in(&v3, "v3", TOKEN) || fixture_start(&v2, a2, 30))
        return -1;
    return fixture_start(&v1, a1, 90);
}

static int teardown(void **state)
{
    (void)state;
    fixture_stop(&v3);
    fixture_stop(&v2);
    fixture_stop(&v1);
    /* the runtime never unloads a plugin while it runs; nor does this host */
    abi_log_free();
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_and_version),   cmocka_unit_test(test_v3_server),
        cmocka_unit_test(test_v2_server),          cmocka_unit_test(test_real_influxdb1),
        cmocka_unit_test(test_concurrent_consume), cmocka_unit_test(test_two_instances),
        cmocka_unit_test(test_lifecycle_errors),   cmocka_unit_test(test_close_while_blocked),
        cmocka_unit_test(test_empty_batch),        cmocka_unit_test(test_malformed_batches),
        cmocka_unit_test(test_json_log_lines),     cmocka_unit_test(test_log_contract),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
