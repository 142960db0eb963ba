/* ifx — shortest round-trip decimal for doubles.
 *
 * A float is written positionally (`0.25`, `3`, like Go's strconv.FormatFloat(f, 'f', -1, 64)),
 * unless the exponent form (`1e+300`, `2.5e-7`) is strictly shorter. Both forms were checked to
 * read back to the same bits on every server generation: a real InfluxDB 1.8 and 2.7 and InfluxDB
 * 3's parser crate (tests/integration/test_float_servers.c). The exponent always carries its sign
 * and no leading zeros; the mantissa never has a trailing point or a point without a digit after
 * it, which InfluxDB 3 refuses (line-protocol.md R23).
 *
 * The digits come from printf's correctly rounded %e: a double is exactly representable by any
 * 17 significant digits, and every decimal of at most 15 significant digits maps back to itself
 * (DBL_DIG) for normal numbers, so if the value round-trips at 15 digits, trimming trailing zeros
 * of that form gives the shortest. Otherwise 16, then 17 digits. At 16 digits the correctly rounded
 * candidate may miss while a neighbour one unit away still reads back (the rounding interval is
 * asymmetric at powers of two), so both neighbours are tried before falling back to 17.
 */
#include "core/float.h"

#include "ifx/lp.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Significant digits (no sign, no point) and the decimal exponent of the first digit. */
typedef struct {
    char d[24];
    int n;
    int exp10;
} digits;

/* Splits printf's "%.*e" output ("-d.ddde+XX", any decimal-point character) into digits. */
static void split_e(const char *s, digits *out)
{
    out->n = 0;
    if (*s == '-')
        s++;
    for (; *s && *s != 'e' && *s != 'E'; s++) {
        if (*s >= '0' && *s <= '9' && out->n < (int)sizeof out->d)
            out->d[out->n++] = *s;
    }
    out->exp10 = (*s) ? atoi(s + 1) : 0;
}

/* Writes digits as "d.ddde<exp>" in the C locale's own spelling for strtod. */
static double read_back(const digits *g, bool neg)
{
    char tmp[48];
    int k = 0;
    if (neg)
        tmp[k++] = '-';
    for (int i = 0; i < g->n; i++)
        tmp[k++] = g->d[i];
    snprintf(tmp + k, sizeof tmp - (size_t)k, "e%d", g->exp10 - (g->n - 1));
    return strtod(tmp, NULL);
}

/* Adds delta (+1 or -1) to the last digit, carrying; false when the result leaves n digits. */
static bool step_last(digits *g, int delta)
{
    int i = g->n - 1;
    if (delta > 0) {
        while (i >= 0 && g->d[i] == '9')
            g->d[i--] = '0';
        if (i < 0)
            return false;
        g->d[i]++;
    } else {
        while (i >= 0 && g->d[i] == '0')
            g->d[i--] = '9';
        if (i < 0 || (i == 0 && g->d[0] == '1' && g->n > 1))
            return false; /* would lose the leading digit */
        g->d[i]--;
    }
    return true;
}

static bool shortest_digits(double v, digits *out)
{
    char s[48];
    double a = fabs(v);

    /* Subnormals carry fewer than 15 significant digits, so the DBL_DIG shortcut does not hold
     * for them: search from one digit up. */
    for (int prec = a < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        snprintf(s, sizeof s, "%.*e", prec - 1, a);
        split_e(s, out);
        if (read_back(out, false) == a)
            goto trim;
        if (prec >= 16 || a < DBL_MIN) {
            for (int delta = -1; delta <= 1; delta += 2) {
                digits alt = *out;
                if (step_last(&alt, delta) && read_back(&alt, false) == a) {
                    *out = alt;
                    goto trim;
                }
            }
        }
    }
    return false; /* not reached for finite doubles */
trim:
    while (out->n > 1 && out->d[out->n - 1] == '0')
        out->n--;
    return true;
}

/* Length of the positional form of g, without the sign. */
static size_t positional_length(const digits *g)
{
    if (g->exp10 < 0)
        return (size_t)(2 - g->exp10 - 1 + g->n); /* 0.000ddd */
    if (g->exp10 + 1 >= g->n)
        return (size_t)g->exp10 + 1; /* ddd000 */
    return (size_t)g->n + 1;         /* dd.ddd */
}

/* The exponent of the form d.ddde<sign><x>: the first digit's exponent. */
static size_t exponent_digits(int e)
{
    size_t n = 1;
    for (e = e < 0 ? -e : e; e >= 10; e /= 10)
        n++;
    return n;
}

static size_t exponent_length(const digits *g)
{
    return (size_t)g->n + (g->n > 1) + 2 + exponent_digits(g->exp10);
}

static size_t write_positional(const digits *g, char *out)
{
    size_t k = 0;
    if (g->exp10 < 0) {
        out[k++] = '0';
        out[k++] = '.';
        for (int i = -1; i > g->exp10; i--)
            out[k++] = '0';
        memcpy(out + k, g->d, (size_t)g->n);
        k += (size_t)g->n;
    } else if (g->exp10 + 1 >= g->n) {
        /* an integral value, written without ".0" (every server reads it as a float) */
        memcpy(out + k, g->d, (size_t)g->n);
        k += (size_t)g->n;
        for (int i = g->n; i <= g->exp10; i++)
            out[k++] = '0';
    } else {
        size_t intlen = (size_t)g->exp10 + 1;
        memcpy(out + k, g->d, intlen);
        k += intlen;
        out[k++] = '.';
        memcpy(out + k, g->d + intlen, (size_t)g->n - intlen);
        k += (size_t)g->n - intlen;
    }
    return k;
}

static size_t write_exponent(const digits *g, char *out)
{
    size_t k = 0;
    out[k++] = g->d[0];
    if (g->n > 1) {
        out[k++] = '.';
        memcpy(out + k, g->d + 1, (size_t)g->n - 1);
        k += (size_t)g->n - 1;
    }
    out[k++] = 'e';
    out[k++] = g->exp10 < 0 ? '-' : '+';
    size_t nd = exponent_digits(g->exp10);
    for (int e = g->exp10 < 0 ? -g->exp10 : g->exp10, i = (int)nd - 1; i >= 0; i--, e /= 10)
        out[k + (size_t)i] = (char)('0' + e % 10);
    return k + nd;
}

/* Both public forms: the shortest text, or always positional. */
static size_t format(double v, bool allow_exponent, char *out)
{
    digits g;
    size_t k = 0;

    if (!isfinite(v))
        return 0;
    if (v == 0) {
        /* -0 reads back as -0 on every server; keep the sign like Go does. */
        if (signbit(v))
            out[k++] = '-';
        out[k++] = '0';
        out[k] = '\0';
        return k;
    }
    if (!shortest_digits(v, &g))
        return 0;
    if (v < 0)
        out[k++] = '-';
    if (allow_exponent && exponent_length(&g) < positional_length(&g))
        k += write_exponent(&g, out + k);
    else
        k += write_positional(&g, out + k);
    out[k] = '\0';
    return k;
}

size_t ifx_lp_format_float(double v, char *out)
{
    return format(v, true, out);
}

size_t ifxi_float_format_positional(double v, char *out)
{
    return format(v, false, out);
}
