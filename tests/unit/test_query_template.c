/* The source's query template, without a server: which placeholders count (comments and string
 * literals, upstream R17), what ifxi_query_template_check demands with and without query_window,
 * the relative-start warning (upstream R4) and GROUP BY outside quotes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "connector/query_template.h"
#include "ifx/config.h"

static void expect_placeholders(const char *q, bool want_cursor, bool want_end)
{
    bool cursor = !want_cursor, end = !want_end;
    ifxi_query_template_placeholders(q, &cursor, &end);
    if (cursor != want_cursor || end != want_end)
        fail_msg("%s: $cursor %d, $cursor_end %d", q, cursor, end);
}

static void test_placeholders(void **state)
{
    (void)state;
    expect_placeholders("SELECT * FROM m WHERE time > '$cursor' LIMIT $limit", true, false);
    expect_placeholders("WHERE time > $cursor AND time < \"$cursor_end\"", true, true);
    expect_placeholders("WHERE time < '$cursor_end'", false, true); /* the longer name wins */
    expect_placeholders("WHERE time > $cursorx OR $cursor_", false, false);
    expect_placeholders("SELECT 1 -- $cursor\nFROM m", false, false);
    expect_placeholders("SELECT 1 // $cursor", false, false);
    expect_placeholders("SELECT /* $cursor */ 1", false, false);
    expect_placeholders("SELECT /* $cursor", false, false);
    /* R17: "//" and "--" inside a string literal start no comment */
    expect_placeholders("from(host: \"http://h--x\") |> range(start: time(v: \"$cursor\"))", true,
                        false);
    expect_placeholders("WHERE a = 'it''s -- here' AND time > '$cursor'", true, false);
    expect_placeholders("WHERE a = 'x\\' -- y' AND time > '$cursor'", true, false);
    expect_placeholders("", false, false);
}

static void check_template(const char *query, uint64_t window_ns, ifx_version version,
                           const char *fragment)
{
    ifx_config cfg;
    ifx_err err;
    memset(&cfg, 0, sizeof cfg);
    cfg.query = (char *)query;
    cfg.query_window_ns = window_ns;
    cfg.version = version;
    ifx_err_clear(&err);
    ifx_rc rc = ifxi_query_template_check(&cfg, &err);
    if (!fragment) {
        if (rc != IFX_OK)
            fail_msg("%s: %s", query, err.msg);
        return;
    }
    assert_int_equal(rc, IFX_E_CONFIG);
    if (!strstr(err.msg, fragment))
        fail_msg("%s: \"%s\" lacks \"%s\"", query, err.msg, fragment);
}

static void test_check(void **state)
{
    const uint64_t hour = 3600ULL * 1000000000ULL;
    (void)state;
    check_template("WHERE time > '$cursor'", 0, IFX_VERSION_V3, NULL);
    check_template("WHERE time > '$cursor' AND time < '$cursor_end'", hour, IFX_VERSION_V3, NULL);
    check_template("WHERE time > '2024-01-01'", 0, IFX_VERSION_V3,
                   "must use the $cursor placeholder outside comments");
    check_template("WHERE time > 0 -- '$cursor'", 0, IFX_VERSION_V1,
                   "must use the $cursor placeholder outside comments");
    check_template("WHERE time > '$cursor'", hour, IFX_VERSION_V3,
                   "add AND time < '$cursor_end' to the WHERE clause");
    check_template("range(start: time(v: \"$cursor\"))", hour, IFX_VERSION_V2,
                   "add stop: time(v: \"$cursor_end\") to range()");
    check_template("WHERE time > '$cursor'", hour, IFX_VERSION_AUTO,
                   "(Flux: stop: time(v: \"$cursor_end\") in range())");
    check_template("WHERE time > '$cursor' AND time < '$cursor_end'", 0, IFX_VERSION_V1,
                   "uses $cursor_end but query_window is \"0s\"");
}

static void test_relative_start(void **state)
{
    (void)state;
    assert_string_equal(
        ifxi_query_template_relative_start("from(bucket: \"b\") |> range(start: -1h)"),
        "range(start: -...)");
    assert_string_equal(ifxi_query_template_relative_start("x |> RANGE( start : - 5m)"),
                        "range(start: -...)");
    assert_string_equal(ifxi_query_template_relative_start("WHERE time > NOW() - 1h"), "now()");
    assert_null(ifxi_query_template_relative_start("range(start: time(v: \"$cursor\"))"));
    assert_null(
        ifxi_query_template_relative_start("WHERE note != 'now()' AND a = \"range(start: -1h)\""));
    assert_null(ifxi_query_template_relative_start("SELECT mynow() FROM m"));
    assert_null(ifxi_query_template_relative_start("x |> myrange(start: -1h)"));
}

static void test_group_by(void **state)
{
    (void)state;
    assert_true(ifxi_query_template_has_group_by("SELECT * FROM m GROUP BY *"));
    assert_true(ifxi_query_template_has_group_by("select * from m group\n  by tag"));
    assert_false(ifxi_query_template_has_group_by("SELECT * FROM m WHERE a = 'group by'"));
    assert_false(ifxi_query_template_has_group_by("SELECT mygroup by FROM m"));
    assert_false(ifxi_query_template_has_group_by("SELECT * FROM m GROUP BYE"));
    assert_false(ifxi_query_template_has_group_by("SELECT * FROM m GROUPBY x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_placeholders),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_relative_start),
        cmocka_unit_test(test_group_by),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
