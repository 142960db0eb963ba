/* Float formatting: shortest round-trip decimal without an exponent (line-protocol.md §3). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ifx/lp.h"

static void expect_format(double v, const char *want)
{
    char out[IFX_LP_FLOAT_MAX];
    size_t n = ifx_lp_format_float(v, out);
    assert_int_equal(n, strlen(want));
    assert_string_equal(out, want);
}

static void test_spec_vectors(void **state)
{
    (void)state;
    expect_format(64.2, "64.2");                   /* V01 */
    expect_format(3.0, "3");                       /* V17 */
    expect_format(1e21, "1000000000000000000000"); /* V19 */
    expect_format(0.1, "0.1");
    expect_format(0.1 + 0.2, "0.30000000000000004");
    expect_format(1e-7, "0.0000001");
    expect_format(-1.5e-7, "-0.00000015");
    expect_format(100, "100");
    expect_format(1.0 / 3.0, "0.3333333333333333");
    expect_format(2.0 / 3.0, "0.6666666666666666");
    expect_format(123456.789, "123456.789");
    expect_format(9007199254740992.0, "9007199254740992");
    expect_format(1.2345678901234568e17, "123456789012345680");
    expect_format(0.0, "0");
    expect_format(-0.0, "-0");
    expect_format(-1.0, "-1");
    expect_format(5e-324, "0."
                          "000000000000000000000000000000000000000000000000000000000000000000000"
                          "000000000000000000000000000000000000000000000000000000000000000000000"
                          "000000000000000000000000000000000000000000000000000000000000000000000"
                          "000000000000000000000000000000000000000000000000000000000000000000000"
                          "000000000000000000000000000000000000000000000005");
}

static void test_max_is_positional(void **state)
{
    char out[IFX_LP_FLOAT_MAX];
    (void)state;
    size_t n = ifx_lp_format_float(DBL_MAX, out);
    assert_int_equal(n, 309);
    assert_memory_equal(out, "17976931348623157", 17);
    assert_null(strchr(out, 'e'));
    assert_true(strtod(out, NULL) == DBL_MAX);
}

static void test_refuses_non_finite(void **state)
{
    char out[IFX_LP_FLOAT_MAX] = "untouched";
    (void)state;
    assert_int_equal(ifx_lp_format_float(NAN, out), 0);
    assert_int_equal(ifx_lp_format_float(INFINITY, out), 0);
    assert_int_equal(ifx_lp_format_float(-INFINITY, out), 0);
    assert_string_equal(out, "untouched");
}

/* The fewest significant digits any %e rendering needs to read back as v. */
static int brute_shortest(double v)
{
    char s[64];
    for (int p = 1; p <= 17; p++) {
        snprintf(s, sizeof s, "%.*e", p - 1, v);
        if (strtod(s, NULL) == v)
            return p;
    }
    return 17;
}

static int significant_digits(const char *s)
{
    int n = 0, first = -1, last = -1;
    for (int i = 0; s[i]; i++) {
        if (s[i] >= '1' && s[i] <= '9') {
            if (first < 0)
                first = n;
            last = n;
        }
        if (s[i] >= '0' && s[i] <= '9')
            n++;
    }
    return first < 0 ? 1 : last - first + 1;
}

/* Random bit patterns over the whole double range: every one reads back exactly and is never
 * longer than the shortest %e form. */
static void test_random_round_trip(void **state)
{
    uint64_t x = 0x9E3779B97F4A7C15ull;
    char out[IFX_LP_FLOAT_MAX];
    (void)state;
    for (int i = 0; i < 200000; i++) {
        double v;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(&v, &x, sizeof v);
        if (!isfinite(v))
            continue;
        size_t n = ifx_lp_format_float(v, out);
        assert_true(n > 0);
        assert_null(strchr(out, 'e'));
        double back = strtod(out, NULL);
        if (memcmp(&back, &v, sizeof v) != 0)
            fail_msg("%.17g formatted as %s reads back as %.17g", v, out, back);
        if (significant_digits(out) > brute_shortest(v))
            fail_msg("%.17g formatted as %s: longer than %d digits", v, out, brute_shortest(v));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_vectors),
        cmocka_unit_test(test_max_is_positional),
        cmocka_unit_test(test_refuses_non_finite),
        cmocka_unit_test(test_random_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
