/* ifx — RFC 3339 timestamps and human durations (see include/ifx/timeutil.h).
 *
 * The calendar arithmetic is done here (days from a civil date and back, proleptic Gregorian)
 * rather than with timegm/strptime: those depend on the C library, the locale and TZ, and cannot
 * express the whole int64-nanosecond range everywhere.
 */
#include "ifx/timeutil.h"
#include "core/timeutil_internal.h"
#include "core/le.h"
#include "core/scan16.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Values quoted in messages are cut to this many bytes. */
#define QUOTE_MAX 48

#define SECS_PER_DAY 86400LL

/* int64 nanoseconds hold seconds from INT64_MIN / 1e9 (rounded down) to INT64_MAX / 1e9, with
 * a partial second at each end. */
#define MIN_SECS      (-9223372037LL)
#define MIN_SECS_FRAC 145224192LL
#define MAX_SECS      9223372036LL
#define MAX_SECS_FRAC 854775807LL

static void quote_text(const char *s, size_t len, char *out)
{
    ifx_excerpt(s, len, QUOTE_MAX, out);
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static bool is_leap(long long y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(long long y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date. Counting years from March makes the leap
 * day the last day of its year, so every month before it has a fixed length and the day of the
 * year is a linear formula; eras of 400 years repeat exactly. */
long long ifx_days_from_civil(long long y, int m, int d)
{
    long long era, yoe, doy, doe;

    if (m <= 2)
        y -= 1;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;                                   /* 0..399 */
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365, from March 1 */
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0..146096 */
    return era * 146097 + doe - 719468; /* 719468: days from 0000-03-01 to 1970-01-01 */
}

/* The inverse of ifx_days_from_civil. */
static void civil_from_days(long long z, long long *y, int *m, int *d)
{
    long long era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;                                      /* 0..146096 */
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* 0..365 */
    mp = (5 * doy + 2) / 153;                                    /* 0..11, from March */
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

/* Reads exactly n digits at s[*pos]. */
static bool read_digits(const char *s, size_t len, size_t *pos, int n, int *out)
{
    int v = 0;

    if (len - *pos < (size_t)n)
        return false;
    for (int i = 0; i < n; i++) {
        char ch = s[*pos + (size_t)i];
        if (!is_digit(ch))
            return false;
        v = v * 10 + (ch - '0');
    }
    *pos += (size_t)n;
    *out = v;
    return true;
}

static bool read_char(const char *s, size_t len, size_t *pos, char want)
{
    if (*pos >= len || s[*pos] != want)
        return false;
    (*pos)++;
    return true;
}

/* Every refusal names the whole value first, as "invalid <kind> \"<s>\": ", then what is
 * wrong with it. */
static ifx_rc refuse(ifx_err *err, size_t at, const char *kind, const char *s, size_t len,
                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static ifx_rc refuse(ifx_err *err, size_t at, const char *kind, const char *s, size_t len,
                     const char *fmt, ...)
{
    char shown[IFX_EXCERPT_SIZE(QUOTE_MAX)], detail[256];
    va_list ap;

    quote_text(s, len, shown);
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return ifx_err_set_at(err, IFX_E_INVALID, at, "invalid %s \"%s\": %s", kind, shown, detail);
}

#define time_refuse(err, at, s, len, ...)     refuse(err, at, "RFC 3339 timestamp", s, len, __VA_ARGS__)
#define duration_refuse(err, at, s, len, ...) refuse(err, at, "duration", s, len, __VA_ARGS__)

/* The value of the eight ASCII digits of w, the first in its lowest byte: pairs of digits joined
 * in 16-bit lanes, then pairs of pairs in 32-bit lanes, then the two halves (no lane carries
 * into the next: 99 and 9 999 fit). Three steps instead of eight multiply-adds in a chain. */
static inline uint32_t digits8(uint64_t w)
{
    w -= 0x3030303030303030ULL;
    w = (w * 10 + (w >> 8)) & 0x00FF00FF00FF00FFULL;
    w = (w * 100 + (w >> 16)) & 0x0000FFFF0000FFFFULL;
    return (uint32_t)((w & 0xFFFFFFFFULL) * 10000 + (w >> 32));
}

/* The digit in byte i of w (a word of digits). */
#define DIGIT(w, i) ((int)(((w) >> (8 * (i))) & 0x0F))

/* The head "YYYY-MM-DDTHH:MM" of the usual form, in the words a and b: the nanoseconds from the
 * epoch to that minute, or false. */
static inline bool utc_head(uint64_t a, uint64_t b, int64_t *minute_ns)
{
    if (ifxi_scan_nondigits(a, 0x00FFFF00FFFFFFFFULL) |
            ifxi_scan_nondigits(b, 0xFFFF00FFFF00FFFFULL) ||
        (a & 0xFF0000FF00000000ULL) != 0x2D00002D00000000ULL ||
        (b & 0x0000FF0000FF0000ULL) != 0x00003A0000540000ULL)
        return false;
    int year = DIGIT(a, 0) * 1000 + DIGIT(a, 1) * 100 + DIGIT(a, 2) * 10 + DIGIT(a, 3);
    int month = DIGIT(a, 5) * 10 + DIGIT(a, 6), day = DIGIT(b, 0) * 10 + DIGIT(b, 1);
    int hour = DIGIT(b, 3) * 10 + DIGIT(b, 4), min = DIGIT(b, 6) * 10 + DIGIT(b, 7);
    /* 1678 to 2261: far enough from the int64 limits that secs * 1e9 + frac cannot overflow,
     * and equals the general path's value on both sides of 1970, without its range checks */
    if (year < 1678 || year > 2261 || month < 1 || month > 12 || day < 1 ||
        day > days_in_month(year, month) || hour > 23 || min > 59)
        return false;
    long long secs =
        ifx_days_from_civil(year, month, day) * SECS_PER_DAY + hour * 3600LL + min * 60LL;
    *minute_ns = (int64_t)(secs * IFX_NS_PER_SEC);
    return true;
}

/* ":SS" and the optional fraction after the head of u[0..len) (len without the zone): the
 * nanoseconds into the minute, or false. */
static inline bool utc_tail(const unsigned char *u, size_t len, int64_t *into_ns)
{
    static const int32_t scale[10] = {1000000000, 100000000, 10000000, 1000000, 100000,
                                      10000,      1000,      100,      10,      1};
    uint32_t frac = 0;

    if (u[16] != ':' || (unsigned)(u[17] - '0') > 9 || (unsigned)(u[18] - '0') > 9)
        return false;
    int sec = (u[17] - '0') * 10 + (u[18] - '0');
    if (sec > 59)
        return false;
    if (len > 19) {
        /* the fraction's last 8 digits (or all of them) as one word, then a ninth digit */
        size_t f = len - 20;
        uint64_t w;
        if (!ifxi_time_fraction(u, len, &w))
            return false;
        frac = digits8(w);
        if (f == 9)
            frac += (uint32_t)(u[20] - '0') * 100000000u;
        frac *= (uint32_t)scale[f];
    }
    *into_ns = sec * IFX_NS_PER_SEC + (int64_t)frac;
    return true;
}

bool ifxi_time_parse_utc_memo(const char *s, size_t len, bool zone, int64_t *ns,
                              ifxi_time_memo *memo)
{
    const unsigned char *u = (const unsigned char *)s;
    int64_t minute_ns, into_ns;

    if (zone) {
        if (len < 20 || u[len - 1] != 'Z')
            return false;
        len--;
    }
    if (len < 19 || len == 20 || len > 29)
        return false;
    /* "YYYY-MM-" and "DDTHH:MM" as words, then ":SS" and the fraction */
    uint64_t a = ifx_le_get64(u), b = ifx_le_get64(u + 8);
    if (memo && memo->set && a == memo->a && b == memo->b) {
        minute_ns = memo->minute_ns;
    } else {
        if (!utc_head(a, b, &minute_ns))
            return false;
        if (memo)
            *memo = (ifxi_time_memo){.a = a, .b = b, .minute_ns = minute_ns, .set = true};
    }
    if (!utc_tail(u, len, &into_ns))
        return false;
    *ns = minute_ns + into_ns;
    return true;
}

bool ifxi_time_parse_utc_fast(const char *s, size_t len, bool zone, int64_t *ns)
{
    return ifxi_time_parse_utc_memo(s, len, zone, ns, NULL);
}

ifx_rc ifx_time_parse_rfc3339(const char *s, size_t len, int64_t *ns, ifx_err *err)
{
    /* Answers hold millions of times, nearly all in the form the fast path reads. */
    if (ifxi_time_parse_utc_fast(s, len, true, ns))
        return IFX_OK;
    return ifxi_time_parse_rfc3339_general(s, len, ns, err);
}

ifx_rc ifxi_time_parse_rfc3339_general(const char *s, size_t len, int64_t *ns, ifx_err *err)
{
    size_t pos = 0;
    int year = 0, month = 0, day = 0, hour = 0, min = 0, sec = 0, off_h = 0, off_m = 0,
        off_sign = 0;
    long long frac = 0, secs;

    if (!read_digits(s, len, &pos, 4, &year) || !read_char(s, len, &pos, '-') ||
        !read_digits(s, len, &pos, 2, &month) || !read_char(s, len, &pos, '-') ||
        !read_digits(s, len, &pos, 2, &day))
        return time_refuse(err, pos, s, len, "expected a date YYYY-MM-DD");
    if (month < 1 || month > 12)
        return time_refuse(err, 5, s, len, "month %02d is out of range", month);
    if (day < 1 || day > days_in_month(year, month))
        return time_refuse(err, 8, s, len, "day %02d is out of range for %04d-%02d", day, year,
                           month);
    if (pos >= len || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' '))
        return time_refuse(err, pos, s, len, "expected 'T' and a time after the date");
    pos++;
    if (!read_digits(s, len, &pos, 2, &hour) || !read_char(s, len, &pos, ':') ||
        !read_digits(s, len, &pos, 2, &min) || !read_char(s, len, &pos, ':') ||
        !read_digits(s, len, &pos, 2, &sec))
        return time_refuse(err, pos, s, len, "expected a time HH:MM:SS");
    if (hour > 23)
        return time_refuse(err, pos - 8, s, len, "hour %02d is out of range", hour);
    if (min > 59)
        return time_refuse(err, pos - 5, s, len, "minute %02d is out of range", min);
    /* RFC 3339 allows second 60 for a leap second, but Unix time has no slot for it: folding it
     * into the next second would make two instants equal and reorder cursor values, so it is
     * refused rather than guessed. */
    if (sec > 59)
        return time_refuse(err, pos - 2, s, len,
                           "second %02d is out of range (leap seconds are not supported)", sec);
    if (pos < len && s[pos] == '.') {
        size_t start = ++pos;
        while (pos < len && is_digit(s[pos])) {
            if (pos - start == 9)
                return time_refuse(err, pos, s, len, "more than 9 fraction digits");
            frac = frac * 10 + (s[pos] - '0');
            pos++;
        }
        if (pos == start)
            return time_refuse(err, pos, s, len, "expected digits after '.'");
        for (size_t k = pos - start; k < 9; k++)
            frac *= 10;
    }
    if (pos >= len)
        return time_refuse(err, pos, s, len, "missing zone (Z or +HH:MM)");
    if (s[pos] == 'Z' || s[pos] == 'z') {
        pos++;
    } else if (s[pos] == '+' || s[pos] == '-') {
        off_sign = s[pos] == '+' ? 1 : -1;
        pos++;
        if (!read_digits(s, len, &pos, 2, &off_h) || !read_char(s, len, &pos, ':') ||
            !read_digits(s, len, &pos, 2, &off_m))
            return time_refuse(err, pos, s, len, "expected a zone offset +HH:MM");
        if (off_h > 23 || off_m > 59)
            return time_refuse(err, pos - 5, s, len, "zone offset %02d:%02d is out of range", off_h,
                               off_m);
    } else {
        return time_refuse(err, pos, s, len, "missing zone (Z or +HH:MM)");
    }
    if (pos != len)
        return time_refuse(err, pos, s, len, "unexpected text after the zone");

    secs = ifx_days_from_civil(year, month, day) * SECS_PER_DAY + hour * 3600LL + min * 60LL + sec -
           off_sign * (off_h * 3600LL + off_m * 60LL);
    if (secs < MIN_SECS || (secs == MIN_SECS && frac < MIN_SECS_FRAC) || secs > MAX_SECS ||
        (secs == MAX_SECS && frac > MAX_SECS_FRAC))
        return time_refuse(err, 0, s, len,
                           "outside the range of int64 nanoseconds "
                           "(1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z)");
    /* Near the lower limit secs * 1e9 alone would overflow; adding the fraction first keeps
     * every intermediate value in range. */
    if (secs < 0)
        *ns = (int64_t)((secs + 1) * IFX_NS_PER_SEC + (frac - IFX_NS_PER_SEC));
    else
        *ns = (int64_t)(secs * IFX_NS_PER_SEC + frac);
    return IFX_OK;
}

/* Writes v as exactly width decimal digits, zero-padded. */
static void put_digits(char *out, unsigned long long v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        out[i] = (char)('0' + v % 10);
}

size_t ifx_time_format_rfc3339(int64_t ns, char *out)
{
    long long secs = ns / IFX_NS_PER_SEC, frac = ns % IFX_NS_PER_SEC, days, rem, y;
    int m, d, n;

    if (frac < 0) {
        frac += IFX_NS_PER_SEC;
        secs -= 1;
    }
    days = secs / SECS_PER_DAY;
    rem = secs % SECS_PER_DAY;
    if (rem < 0) {
        rem += SECS_PER_DAY;
        days -= 1;
    }
    civil_from_days(days, &y, &m, &d);
    /* Digits by hand: snprintf was a fifth of the source's time (every time column of every
     * row). int64 nanoseconds span the years 1677 to 2262, so the year has four digits. */
    put_digits(out, (unsigned long long)y, 4);
    out[4] = '-';
    put_digits(out + 5, (unsigned long long)m, 2);
    out[7] = '-';
    put_digits(out + 8, (unsigned long long)d, 2);
    out[10] = 'T';
    put_digits(out + 11, (unsigned long long)(rem / 3600), 2);
    out[13] = ':';
    put_digits(out + 14, (unsigned long long)(rem / 60 % 60), 2);
    out[16] = ':';
    put_digits(out + 17, (unsigned long long)(rem % 60), 2);
    n = 19;
    if (frac) {
        int digits = 9;
        while (frac % 10 == 0) {
            frac /= 10;
            digits--;
        }
        out[n++] = '.';
        put_digits(out + n, (unsigned long long)frac, digits);
        n += digits;
    }
    out[n++] = 'Z';
    out[n] = '\0';
    return (size_t)n;
}

/* ---- durations ------------------------------------------------------------------------------- */

struct duration_unit {
    const char *name;
    uint64_t ns;
};

static const struct duration_unit duration_units[] = {
    {"ns", 1},
    {"nsec", 1},
    {"us", 1000},
    {"\xC2\xB5s", 1000}, /* U+00B5 MICRO SIGN */
    {"\xCE\xBCs", 1000}, /* U+03BC GREEK SMALL LETTER MU, which keyboards often produce */
    {"usec", 1000},
    {"ms", 1000000},
    {"msec", 1000000},
    {"s", 1000000000ULL},
    {"sec", 1000000000ULL},
    {"secs", 1000000000ULL},
    {"second", 1000000000ULL},
    {"seconds", 1000000000ULL},
    {"m", 60000000000ULL},
    {"min", 60000000000ULL},
    {"mins", 60000000000ULL},
    {"minute", 60000000000ULL},
    {"minutes", 60000000000ULL},
    {"h", 3600000000000ULL},
    {"hr", 3600000000000ULL},
    {"hrs", 3600000000000ULL},
    {"hour", 3600000000000ULL},
    {"hours", 3600000000000ULL},
    {"d", 86400000000000ULL},
    {"day", 86400000000000ULL},
    {"days", 86400000000000ULL},
    {"w", 604800000000000ULL},
    {"week", 604800000000000ULL},
    {"weeks", 604800000000000ULL},
};

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* A unit runs until a digit, a space or the end, so "5x1s" reports the unit "x". */
static bool is_unit_byte(char ch)
{
    return !is_digit(ch) && !is_space(ch) && ch != '\0';
}

static uint64_t duration_unit_ns(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof duration_units / sizeof duration_units[0]; i++) {
        const char *u = duration_units[i].name;
        if (strlen(u) == len && memcmp(u, name, len) == 0)
            return duration_units[i].ns;
    }
    return 0;
}

ifx_rc ifx_duration_parse(const char *s, size_t len, uint64_t *ns, ifx_err *err)
{
    char part[IFX_EXCERPT_SIZE(QUOTE_MAX)];
    size_t pos = 0;
    uint64_t total = 0;

    while (pos < len && is_space(s[pos]))
        pos++;
    if (pos == len)
        return duration_refuse(err, pos, s, len,
                               "empty; write for example \"30s\", \"1m30s\" or \"200ms\"");
    /* A bare zero is the one value whose unit does not matter. */
    if (s[pos] == '0') {
        size_t end = pos + 1;
        while (end < len && is_space(s[end]))
            end++;
        if (end == len) {
            *ns = 0;
            return IFX_OK;
        }
    }
    while (pos < len) {
        size_t num_start = pos, num_end, unit_start, end;
        uint64_t v = 0, mul;

        if (s[pos] == '-')
            return duration_refuse(err, pos, s, len, "a duration cannot be negative");
        while (pos < len && is_digit(s[pos])) {
            unsigned digit = (unsigned)(s[pos] - '0');
            if (v > (UINT64_MAX - digit) / 10)
                goto too_large;
            v = v * 10 + digit;
            pos++;
        }
        if (pos == num_start) {
            for (end = pos; end < len && is_unit_byte(s[end]); end++)
                ;
            quote_text(s + pos, end - pos, part);
            return duration_refuse(err, pos, s, len, "expected a number before \"%s\"", part);
        }
        if (pos < len && (s[pos] == '.' || s[pos] == ',')) {
            for (end = pos; end < len && !is_space(s[end]); end++)
                ;
            quote_text(s + num_start, end - num_start, part);
            return duration_refuse(err, pos, s, len,
                                   "fractions are not supported (\"%s\"); combine units "
                                   "instead, as in \"1s500ms\"",
                                   part);
        }
        num_end = pos;
        /* "2 seconds" reads naturally, so a space may come between number and unit. */
        while (pos < len && is_space(s[pos]))
            pos++;
        unit_start = pos;
        while (pos < len && is_unit_byte(s[pos]))
            pos++;
        if (pos == unit_start) {
            quote_text(s + num_start, num_end - num_start, part);
            return duration_refuse(err, pos, s, len,
                                   "missing unit after \"%s\" (ns, us, ms, s, m, h, d or w)", part);
        }
        mul = duration_unit_ns(s + unit_start, pos - unit_start);
        if (!mul) {
            quote_text(s + unit_start, pos - unit_start, part);
            return duration_refuse(err, unit_start, s, len,
                                   "unknown unit \"%s\" (ns, us, ms, s, m, h, d or w)", part);
        }
        if (v > UINT64_MAX / mul || total > UINT64_MAX - v * mul)
            goto too_large;
        total += v * mul;
        while (pos < len && is_space(s[pos]))
            pos++;
        continue;

    too_large:
        for (end = num_start; end < len && !is_space(s[end]); end++)
            ;
        quote_text(s + num_start, end - num_start, part);
        return duration_refuse(err, num_start, s, len,
                               "\"%s\" is too large (the most is 5124095h34m33s709ms551us615ns)",
                               part);
    }
    *ns = total;
    return IFX_OK;
}

size_t ifx_duration_format(uint64_t ns, char *out)
{
    static const struct {
        const char *name;
        uint64_t ns;
    } parts[] = {{"h", 3600000000000ULL}, {"m", 60000000000ULL}, {"s", 1000000000ULL},
                 {"ms", 1000000ULL},      {"us", 1000ULL},       {"ns", 1ULL}};
    size_t n = 0;

    if (ns == 0) {
        memcpy(out, "0s", 3);
        return 2;
    }
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        uint64_t q = ns / parts[i].ns;
        if (q) {
            n += (size_t)snprintf(out + n, IFX_DURATION_MAX - n, "%llu%s", (unsigned long long)q,
                                  parts[i].name);
            ns -= q * parts[i].ns;
        }
    }
    return n;
}

int64_t ifx_time_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
