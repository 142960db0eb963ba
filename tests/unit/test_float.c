/* Float formatting: the shortest round-trip text, positional or with an exponent when shorter. */
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
    expect_format(64.2, "64.2");  /* V01 */
    expect_format(3.0, "3");      /* V17 */
    expect_format(1e21, "1e+21"); /* V19, issue 14: the exponent form is shorter */
    expect_format(0.1, "0.1");
    expect_format(0.1 + 0.2, "0.30000000000000004");
    expect_format(1e-7, "1e-7");
    expect_format(-1.5e-7, "-1.5e-7");
    expect_format(100, "100");
    expect_format(1000, "1000"); /* "1e+3" is as long: positional wins ties */
    expect_format(10000, "1e+4");
    expect_format(0.01, "0.01"); /* "1e-2" is as long */
    expect_format(0.001, "1e-3");
    expect_format(0.0001, "1e-4");
    expect_format(1.0 / 3.0, "0.3333333333333333");
    expect_format(2.0 / 3.0, "0.6666666666666666");
    expect_format(123456.789, "123456.789");
    expect_format(9007199254740992.0, "9007199254740992");
    expect_format(1.2345678901234568e17, "123456789012345680");
    expect_format(123456789012345680000.0, "123456789012345680000"); /* 21 < 22 */
    expect_format(1.2345678901234568e21, "1234567890123456800000");  /* a tie */
    expect_format(1.2345678901234568e22, "1.2345678901234568e+22");
    expect_format(0.0, "0");
    expect_format(-0.0, "-0");
    expect_format(-1.0, "-1");
    expect_format(1e300, "1e+300");
    expect_format(-2.5e-300, "-2.5e-300");
    expect_format(5e-324, "5e-324");
    expect_format(2.2250738585072014e-308, "2.2250738585072014e-308");
}

static void test_extremes_use_the_exponent(void **state)
{
    (void)state;
    expect_format(DBL_MAX, "1.7976931348623157e+308");
    expect_format(-DBL_MAX, "-1.7976931348623157e+308");
    expect_format(DBL_MIN, "2.2250738585072014e-308");
    expect_format(-5e-324, "-5e-324");
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
        if (s[i] == 'e')
            break;
        if (s[i] >= '0' && s[i] <= '9')
            n++;
    }
    return first < 0 ? 1 : last - first + 1;
}

/* The shortest exponent form of v: printf's %e with the fewest digits that read back, its
 * exponent without leading zeros ("1.5e-07" -> "1.5e-7"). */
static size_t shortest_exponent_form(double v, char *out, size_t cap)
{
    char s[64];
    snprintf(s, sizeof s, "%.*e", brute_shortest(v) - 1, v);
    char *e = strchr(s, 'e');
    int x = atoi(e + 1);
    *e = '\0';
    return (size_t)snprintf(out, cap, "%se%c%d", s, x < 0 ? '-' : '+', x < 0 ? -x : x);
}

/* Random bit patterns over the whole double range: every one reads back exactly, has no more
 * significant digits than needed, and is never longer than the shortest exponent form, which it
 * is exactly when it uses an exponent. */
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
        char ex[64];
        size_t en = shortest_exponent_form(v, ex, sizeof ex);
        if (n > en)
            fail_msg("%.17g formatted as %s: longer than %s", v, out, ex);
        if (strchr(out, 'e') && strcmp(out, ex) != 0)
            fail_msg("%.17g formatted as %s, not as %s", v, out, ex);
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
        cmocka_unit_test(test_extremes_use_the_exponent),
        cmocka_unit_test(test_refuses_non_finite),
        cmocka_unit_test(test_random_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
