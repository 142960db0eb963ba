/* Log lines as text and as JSON (ifx/log.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <string.h>

#include "ifx/log.h"
#include "ifx/sink.h"

/* 2026-11-26T10:00:00.123456789Z */
#define T_NS 1795687200123456789LL

static void test_text_line(void **state)
{
    char out[256];
    (void)state;
    size_t n = ifx_log_format_line(IFX_LOG_FORMAT_TEXT, IFX_LOG_WARN, "sink influxdb_sink",
                                   "server refuses writes: HTTP 503", T_NS, out, sizeof out);
    assert_string_equal(out,
                        "2026-11-26T10:00:00.123Z WARN sink influxdb_sink: server refuses writes: "
                        "HTTP 503");
    assert_int_equal(n, strlen(out));
    ifx_log_format_line(IFX_LOG_FORMAT_TEXT, IFX_LOG_INFO, "source", "up", 0, out, sizeof out);
    assert_string_equal(out, "INFO source: up");
    /* whole seconds still get three fraction digits */
    ifx_log_format_line(IFX_LOG_FORMAT_TEXT, 99, "x", "m", 1795687200000000000LL, out, sizeof out);
    assert_string_equal(out, "2026-11-26T10:00:00.000Z ERROR x: m");
}

static void test_json_line_has_fields(void **state)
{
    char out[512];
    json_error_t je;
    (void)state;
    ifx_log_format_line(IFX_LOG_FORMAT_JSON, IFX_LOG_INFO, "sink s1",
                        "sink stats: received=10 written=9 rejected=1, breaker=closed "
                        "level=x ts=y written=5 Bad=1 a= =3 n=-4 big=123456789012345678901 z=007",
                        T_NS, out, sizeof out);
    json_t *o = json_loads(out, 0, &je);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "ts")), "2026-11-26T10:00:00.123Z");
    assert_string_equal(json_string_value(json_object_get(o, "level")), "INFO");
    assert_string_equal(json_string_value(json_object_get(o, "connector")), "sink s1");
    assert_non_null(strstr(json_string_value(json_object_get(o, "msg")), "received=10"));
    assert_int_equal(json_integer_value(json_object_get(o, "received")), 10);
    assert_int_equal(json_integer_value(json_object_get(o, "written")), 9);  /* first one wins */
    assert_int_equal(json_integer_value(json_object_get(o, "rejected")), 1); /* comma dropped */
    assert_int_equal(json_integer_value(json_object_get(o, "n")), -4);
    assert_string_equal(json_string_value(json_object_get(o, "breaker")), "closed");
    /* too long for an exact integer, or with a leading zero: kept as text */
    assert_string_equal(json_string_value(json_object_get(o, "big")), "123456789012345678901");
    assert_string_equal(json_string_value(json_object_get(o, "z")), "007");
    assert_null(json_object_get(o, "Bad"));
    assert_null(json_object_get(o, "a"));
    assert_int_equal(json_object_size(o), 4 + 7);
    json_decref(o);
}

static void test_json_escapes_and_mends_utf8(void **state)
{
    char out[256];
    json_error_t je;
    (void)state;
    ifx_log_format_line(IFX_LOG_FORMAT_JSON, IFX_LOG_ERROR, "source \"q\"",
                        "bad row \"x\"\n\x01 \xff\xfe end", 0, out, sizeof out);
    json_t *o = json_loads(out, 0, &je);
    assert_non_null(o);
    assert_null(json_object_get(o, "ts"));
    assert_string_equal(json_string_value(json_object_get(o, "connector")), "source \"q\"");
    assert_string_equal(json_string_value(json_object_get(o, "msg")), "bad row \"x\"\n\x01 ?? end");
    json_decref(o);
}

static void test_json_cut_stays_an_object(void **state)
{
    char big[4000], out[300];
    json_error_t je;
    (void)state;
    for (size_t i = 0; i < sizeof big - 1; i++)
        big[i] = i % 10 == 9 ? ' ' : (i % 7 == 0 ? '"' : 'a');
    big[sizeof big - 1] = '\0';
    memcpy(big, "count=5 ", 8);
    size_t n =
        ifx_log_format_line(IFX_LOG_FORMAT_JSON, IFX_LOG_INFO, "sink", big, T_NS, out, sizeof out);
    assert_true(n < sizeof out);
    assert_int_equal(n, strlen(out));
    json_t *o = json_loads(out, 0, &je);
    assert_non_null(o);
    assert_null(json_object_get(o, "count")); /* a cut message gives no fields */
    json_decref(o);
    /* text lines are simply cut */
    n = ifx_log_format_line(IFX_LOG_FORMAT_TEXT, IFX_LOG_INFO, "sink", big, 0, out, 50);
    assert_int_equal(n, 49);
    assert_int_equal(strlen(out), 49);
    /* a buffer too small for the frame gives an empty line, not broken JSON */
    n = ifx_log_format_line(IFX_LOG_FORMAT_JSON, IFX_LOG_INFO, "sink", "hello", 0, out, 10);
    assert_int_equal(n, 0);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_line),
        cmocka_unit_test(test_json_line_has_fields),
        cmocka_unit_test(test_json_escapes_and_mends_utf8),
        cmocka_unit_test(test_json_cut_stays_an_object),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
