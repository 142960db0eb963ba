/* Version and precision names, and the per-version precision parameter (line-protocol.md §4). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "ifx/types.h"

static void test_precision_param_per_version(void **state)
{
    (void)state;
    static const char *const want[4][4] = {
        /* ns, us, ms, s */
        {"ns", "us", "ms", "s"},                                /* auto: as v2 */
        {"n", "u", "ms", "s"},                                  /* v1 */
        {"ns", "us", "ms", "s"},                                /* v2 */
        {"nanosecond", "microsecond", "millisecond", "second"}, /* v3 */
    };
    for (int v = 0; v < 4; v++)
        for (int p = 0; p < 4; p++)
            assert_string_equal(ifx_precision_param((ifx_version)v, (ifx_precision)p), want[v][p]);
}

static void test_parse(void **state)
{
    ifx_version v;
    ifx_precision p;
    ifx_err e;
    (void)state;
    assert_int_equal(ifx_version_parse("V3", 2, &v, &e), IFX_OK);
    assert_int_equal(v, IFX_VERSION_V3);
    assert_int_equal(ifx_version_parse("auto", 4, &v, &e), IFX_OK);
    assert_int_equal(v, IFX_VERSION_AUTO);
    assert_int_equal(ifx_version_parse("v4", 2, &v, &e), IFX_E_INVALID);
    assert_string_equal(
        e.msg, "unknown InfluxDB version \"v4\"; expected \"v1\", \"v2\", \"v3\" or \"auto\"");
    assert_int_equal(ifx_version_parse("v", 1, &v, &e), IFX_E_INVALID);
    assert_int_equal(ifx_version_parse("v22", 3, &v, &e), IFX_E_INVALID);
    assert_int_equal(ifx_precision_parse("MS", 2, &p, &e), IFX_OK);
    assert_int_equal(p, IFX_PRECISION_MS);
    assert_int_equal(ifx_precision_parse("u", 1, &p, &e), IFX_E_INVALID);
    assert_string_equal(e.msg, "unknown precision \"u\"; expected \"ns\", \"us\", \"ms\" or \"s\"");
    assert_int_equal(ifx_precision_ns(IFX_PRECISION_S), 1000000000LL);
    assert_string_equal(ifx_version_name(IFX_VERSION_V1), "v1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precision_param_per_version),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
