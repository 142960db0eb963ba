/* Test support: seeded random nasty points (see nasty_points.h). */
#include "nasty_points.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: small, fast, and every seed gives a full-period, well-mixed stream. */
uint64_t nasty_rng_next(nasty_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void nasty_rng_init(nasty_rng *r, uint64_t seed, uint64_t index)
{
    r->s = seed;
    r->s = nasty_rng_next(r) ^ (index * 0xD1B54A32D192ED03ull);
    (void)nasty_rng_next(r);
}

/* 0 .. n-1 */
static size_t pick(nasty_rng *r, size_t n)
{
    return (size_t)(nasty_rng_next(r) % n);
}

/* true with probability per_mille / 1000 */
static bool chance(nasty_rng *r, unsigned per_mille)
{
    return pick(r, 1000) < per_mille;
}

/* ---- text ------------------------------------------------------------------------------------ */

typedef struct sb {
    char *p;
    size_t len, cap;
} sb;

static void sb_add(sb *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p)
            abort();
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sb *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static nasty_text sb_done(sb *b)
{
    nasty_text t;
    if (!b->p)
        sb_add(b, "", 0);
    t.p = b->p;
    t.len = b->len;
    return t;
}

static nasty_text text_of(const char *s, size_t n)
{
    sb b = {0};
    sb_add(&b, s, n);
    return sb_done(&b);
}

/* Pieces that every name may hold: the characters line protocol escapes, backslashes next to
 * them, and text that is not ASCII. */
static const char *const nasty_pieces[] = {
    " ",      ",",      "=",      "\"",      "\\",     "\\ ",  "\\,",
    "\\=",    "\\\\",   "\\\"",   "'",       "#",      "{",    "}",
    "\\n",    "=\"",    ", ",     "  ",      "é",      "温度", "😀",
    "Zürich", "\u2028", "\u00a0", "e\u0301", "\ufeff", "°C",   "*",
    "/",      ":",      ".",      "-",       "_",      "a\\b", "C:\\dir\\file",
    "\\#",
};
static const char *const plain_words[] = {"cpu", "host", "region", "usage", "value", "m",   "t",
                                          "f",   "a",    "b",      "x1",    "TIME",  "Time"};

/* A name or tag value: plain, or a mix of nasty pieces; rarely something no server stores. */
static nasty_text gen_name(nasty_rng *r, bool measurement)
{
    sb b = {0};
    size_t n;

    if (chance(r, 12))
        return sb_done(&b); /* empty */
    if (chance(r, 450)) {
        sb_str(&b, plain_words[pick(r, sizeof plain_words / sizeof plain_words[0])]);
        if (chance(r, 700)) {
            char d = (char)('0' + pick(r, 10));
            sb_add(&b, &d, 1);
        }
    } else {
        n = 1 + pick(r, 6);
        for (size_t i = 0; i < n; i++) {
            if (chance(r, 300))
                sb_str(&b, plain_words[pick(r, sizeof plain_words / sizeof plain_words[0])]);
            else
                sb_str(&b, nasty_pieces[pick(r, sizeof nasty_pieces / sizeof nasty_pieces[0])]);
        }
    }
    if (measurement && chance(r, 25)) {
        sb tmp = {0};
        sb_str(&tmp, "#");
        sb_add(&tmp, b.p, b.len);
        free(b.p);
        b = tmp;
    }
    if (chance(r, 25)) { /* a control byte somewhere */
        static const char ctl[] = {'\t', '\n', '\r', '\0', 0x01, 0x0b, 0x1f, 0x7f};
        char c = ctl[pick(r, sizeof ctl)];
        size_t at = pick(r, b.len + 1);
        sb tmp = {0};
        sb_add(&tmp, b.p ? b.p : "", at);
        sb_add(&tmp, &c, 1);
        sb_add(&tmp, b.p ? b.p + at : "", b.len - at);
        free(b.p);
        b = tmp;
    }
    if (b.len && b.p[b.len - 1] == '\\' && chance(r, 700))
        sb_str(&b, "z"); /* keep most backslashes inside: a last one is refused everywhere */
    if (chance(r, 15))
        sb_str(&b, "\\"); /* a trailing backslash */
    if (chance(r, 3))
        sb_add(&b, chance(r, 500) ? "\xff" : "\xc3", 1); /* not UTF-8 */
    if (chance(r, 2)) {
        /* near the 64 KiB element limit: just under, at, or just over */
        size_t want = IFX_LP_MAX_ELEMENT - 1 + pick(r, 3);
        while (b.len < want)
            sb_add(&b, "k", 1);
        b.len = want;
        b.p[want] = '\0';
    }
    return sb_done(&b);
}

static nasty_text gen_string_value(nasty_rng *r)
{
    sb b = {0};
    size_t n;

    if (chance(r, 80))
        return sb_done(&b);
    n = 1 + pick(r, 8);
    for (size_t i = 0; i < n; i++) {
        switch (pick(r, 6)) {
        case 0:
            sb_str(&b, plain_words[pick(r, sizeof plain_words / sizeof plain_words[0])]);
            break;
        case 1: {
            static const char ctl[] = {'\t', '\n', '\r', '\0', 0x01, 0x7f};
            sb_add(&b, &ctl[pick(r, sizeof ctl)], 1);
            break;
        }
        default:
            sb_str(&b, nasty_pieces[pick(r, sizeof nasty_pieces / sizeof nasty_pieces[0])]);
        }
    }
    if (chance(r, 60))
        sb_str(&b, "\\");
    if (chance(r, 15)) { /* long */
        size_t want = 1000 + pick(r, 8000);
        while (b.len < want)
            sb_str(&b, "long \\\" text, = ");
    }
    if (chance(r, 3)) { /* near the limit */
        size_t want = IFX_LP_MAX_ELEMENT - 1 + pick(r, 3);
        while (b.len < want)
            sb_add(&b, "s", 1);
        b.len = want;
        b.p[want] = '\0';
    }
    if (chance(r, 2))
        sb_add(&b, "\xc3", 1);
    return sb_done(&b);
}

static double gen_float(nasty_rng *r)
{
    static const double special[] = {0.0, -0.0, 1.0, -1.0, 3.0, 0.1, 64.2, 1e21, 1e-7, 123456.789,
                                     DBL_MAX, -DBL_MAX, DBL_MIN, 4.9406564584124654e-324,
                                     -4.9406564584124654e-324, 9007199254740993.0,
                                     9223372036854775808.0, 18446744073709551616.0,
                                     1.7976931348623157e308, 2.2250738585072009e-308,
                                     /* issue 14: written with an exponent (shorter) */
                                     1e300, -2.5e-300, 1e-4, 1e4, 1.5e22};
    uint64_t bits;
    double d;

    if (chance(r, 20))
        return pick(r, 3) == 0 ? NAN : (pick(r, 2) ? INFINITY : -INFINITY);
    switch (pick(r, 4)) {
    case 0:
        return special[pick(r, sizeof special / sizeof special[0])];
    case 1: /* any finite bit pattern */
        do {
            bits = nasty_rng_next(r);
            memcpy(&d, &bits, sizeof d);
        } while (!isfinite(d));
        return d;
    case 2:
        return (double)(int64_t)nasty_rng_next(r) / (double)(1 + pick(r, 1000000));
    default:
        return ldexp((double)(nasty_rng_next(r) >> 11), (int)pick(r, 200) - 150) *
               (pick(r, 2) ? 1 : -1);
    }
}

static int64_t gen_i64(nasty_rng *r)
{
    static const int64_t special[] = {INT64_MIN, INT64_MIN + 1,   INT64_MAX, INT64_MAX - 1, 0, -1,
                                      1,         9007199254740993};
    if (chance(r, 400))
        return special[pick(r, sizeof special / sizeof special[0])];
    if (chance(r, 500))
        return (int64_t)pick(r, 2000) - 1000;
    return (int64_t)nasty_rng_next(r);
}

static uint64_t gen_u64(nasty_rng *r)
{
    static const uint64_t special[] = {
        0, 1, UINT64_MAX, UINT64_MAX - 1, (uint64_t)INT64_MAX, (uint64_t)INT64_MAX + 1};
    if (chance(r, 400))
        return special[pick(r, sizeof special / sizeof special[0])];
    return nasty_rng_next(r) >> pick(r, 64);
}

static int64_t gen_time(nasty_rng *r)
{
    static const int64_t special[] = {INT64_MIN,
                                      INT64_MIN + 1,
                                      INT64_MIN + 2,
                                      INT64_MAX,
                                      INT64_MAX - 1,
                                      INT64_MAX - 2,
                                      -9223372036854775806,
                                      9223372036854775806,
                                      0,
                                      -1,
                                      1,
                                      1590488773254420000};
    if (chance(r, 300))
        return special[pick(r, sizeof special / sizeof special[0])];
    if (chance(r, 500))
        return 1700000000000000000 + (int64_t)pick(r, 1000000000000000);
    return (int64_t)nasty_rng_next(r);
}

static nasty_text copy_text(const nasty_text *t)
{
    return text_of(t->p, t->len);
}

void nasty_point_generate(nasty_point *p, uint64_t seed, uint64_t index)
{
    nasty_rng r;
    size_t nf;

    memset(p, 0, sizeof *p);
    p->seed = seed;
    p->index = index;
    nasty_rng_init(&r, seed, index);
    p->measurement = gen_name(&r, true);

    p->ntags = pick(&r, 5);
    p->tags = calloc(p->ntags + 1, sizeof *p->tags);
    for (size_t i = 0; i < p->ntags; i++) {
        nasty_tag *t = &p->tags[i];
        if (i > 0 && chance(&r, 15))
            t->key = copy_text(&p->tags[pick(&r, i)].key);
        else if (chance(&r, 6))
            t->key = text_of("time", 4);
        else
            t->key = gen_name(&r, false);
        t->value = chance(&r, 50) ? text_of("", 0) : gen_name(&r, false);
    }

    nf = chance(&r, 8) ? 0 : 1 + pick(&r, 5);
    p->nfields = nf;
    p->fields = calloc(nf + 1, sizeof *p->fields);
    for (size_t i = 0; i < nf; i++) {
        nasty_field *f = &p->fields[i];
        if (i > 0 && chance(&r, 15))
            f->key = copy_text(&p->fields[pick(&r, i)].key);
        else if (chance(&r, 6))
            f->key = text_of("time", 4);
        else if (p->ntags && chance(&r, 30)) /* the same name as a tag: separate namespaces */
            f->key = copy_text(&p->tags[pick(&r, p->ntags)].key);
        else
            f->key = gen_name(&r, false);
        switch (pick(&r, 8)) {
        case 0:
        case 1:
            f->type = NASTY_FLOAT;
            f->f = gen_float(&r);
            break;
        case 2:
            f->type = NASTY_INT;
            f->i = gen_i64(&r);
            break;
        case 3:
            f->type = NASTY_UINT;
            f->u = gen_u64(&r);
            break;
        case 4:
            f->type = NASTY_BOOL;
            f->b = pick(&r, 2);
            break;
        default:
            f->type = NASTY_STRING;
            f->s = gen_string_value(&r);
        }
        if (f->type != NASTY_STRING)
            f->s = text_of("", 0);
    }
    p->has_time = !chance(&r, 150);
    if (p->has_time)
        p->time_ns = gen_time(&r);
}

void nasty_point_free(nasty_point *p)
{
    free(p->measurement.p);
    for (size_t i = 0; i < p->ntags; i++) {
        free(p->tags[i].key.p);
        free(p->tags[i].value.p);
    }
    for (size_t i = 0; i < p->nfields; i++) {
        free(p->fields[i].key.p);
        free(p->fields[i].s.p);
    }
    free(p->tags);
    free(p->fields);
    memset(p, 0, sizeof *p);
}

ifx_rc nasty_point_encode(const nasty_point *p, ifx_lp *lp, ifx_err *err)
{
    ifx_rc rc;
    if ((rc = ifx_lp_begin_line(lp, p->measurement.p, p->measurement.len, err)))
        return rc;
    for (size_t i = 0; i < p->ntags; i++) {
        const nasty_tag *t = &p->tags[i];
        if ((rc = ifx_lp_add_tag(lp, t->key.p, t->key.len, t->value.p, t->value.len, err)))
            return rc;
    }
    for (size_t i = 0; i < p->nfields; i++) {
        const nasty_field *f = &p->fields[i];
        switch (f->type) {
        case NASTY_FLOAT:
            rc = ifx_lp_add_float(lp, f->key.p, f->key.len, f->f, err);
            break;
        case NASTY_INT:
            rc = ifx_lp_add_int(lp, f->key.p, f->key.len, f->i, err);
            break;
        case NASTY_UINT:
            rc = ifx_lp_add_uint(lp, f->key.p, f->key.len, f->u, err);
            break;
        case NASTY_BOOL:
            rc = ifx_lp_add_bool(lp, f->key.p, f->key.len, f->b, err);
            break;
        case NASTY_STRING:
            rc = ifx_lp_add_string(lp, f->key.p, f->key.len, f->s.p, f->s.len, err);
            break;
        }
        if (rc)
            return rc;
    }
    return ifx_lp_end_line(lp, p->has_time, p->time_ns, err);
}

/* ---- printing -------------------------------------------------------------------------------- */

void nasty_print_text(FILE *out, const char *s, size_t len)
{
    /* long runs of one byte (the 64 KiB cases) are shown as a count */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        size_t run = 1;
        while (i + run < len && s[i + run] == s[i])
            run++;
        if (run > 16) {
            fprintf(out, "\" <%zu x '", run);
            nasty_print_text(out, s + i, 1);
            fprintf(out, "'> \"");
            i += run - 1;
            continue;
        }
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\r')
            fputs("\\r", out);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\x%02x\"\"", c); /* "" ends the hex escape in C */
        else if (c >= 0x80) {
            /* non-ASCII: print valid UTF-8 sequences as they are, other bytes as \x */
            size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
            bool ok = n && i + n <= len;
            for (size_t k = 1; ok && k < n; k++)
                ok = ((unsigned char)s[i + k] & 0xC0) == 0x80;
            if (ok) {
                fwrite(s + i, 1, n, out);
                i += n - 1;
            } else {
                fprintf(out, "\\x%02x\"\"", c);
            }
        } else
            fputc(c, out);
    }
}

static void print_quoted(FILE *out, const nasty_text *t)
{
    fputc('"', out);
    nasty_print_text(out, t->p, t->len);
    fprintf(out, "\" (%zu bytes)", t->len);
}

void nasty_point_print(FILE *out, const nasty_point *p)
{
    fprintf(out, "point %" PRIu64 " of seed 0x%" PRIx64 ":\n  measurement ", p->index, p->seed);
    print_quoted(out, &p->measurement);
    fputc('\n', out);
    for (size_t i = 0; i < p->ntags; i++) {
        fputs("  tag ", out);
        print_quoted(out, &p->tags[i].key);
        fputs(" = ", out);
        print_quoted(out, &p->tags[i].value);
        fputc('\n', out);
    }
    for (size_t i = 0; i < p->nfields; i++) {
        const nasty_field *f = &p->fields[i];
        uint64_t bits;
        fputs("  field ", out);
        print_quoted(out, &f->key);
        switch (f->type) {
        case NASTY_FLOAT:
            memcpy(&bits, &f->f, sizeof bits);
            fprintf(out, " float %.17g (bits 0x%016" PRIx64 ")", f->f, bits);
            break;
        case NASTY_INT:
            fprintf(out, " integer %" PRId64, f->i);
            break;
        case NASTY_UINT:
            fprintf(out, " unsigned %" PRIu64, f->u);
            break;
        case NASTY_BOOL:
            fprintf(out, " boolean %s", f->b ? "true" : "false");
            break;
        case NASTY_STRING:
            fputs(" string ", out);
            print_quoted(out, &f->s);
            break;
        }
        fputc('\n', out);
    }
    if (p->has_time)
        fprintf(out, "  time %" PRId64 " ns\n", p->time_ns);
    else
        fputs("  no time\n", out);
}

/* ---- the oracle: which points no server can store, from the spec -------------------------- */

static bool utf8_ok(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        unsigned c = u[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            n = 2, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
            n = 3, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            n = 4, cp = c & 0x07;
        else
            return false;
        if (i + n > len)
            return false;
        for (size_t k = 1; k < n; k++) {
            if ((u[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (u[i + k] & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n;
    }
    return true;
}

static bool text_eq(const nasty_text *a, const nasty_text *b)
{
    return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

static bool is_time(const nasty_text *t)
{
    return t->len == 4 && memcmp(t->p, "time", 4) == 0;
}

/* Problems of one measurement, key or tag value (§2, §6.1, §6.2). */
static unsigned element_problems(const nasty_text *t, ifx_version target, bool measurement,
                                 bool field_key)
{
    unsigned m = 0;
    if (t->len == 0)
        return NASTY_P_EMPTY_NAME;
    if (t->len > IFX_LP_MAX_ELEMENT)
        m |= NASTY_P_TOO_LONG;
    if (!utf8_ok(t->p, t->len))
        m |= NASTY_P_INVALID_UTF8;
    for (size_t i = 0; i < t->len; i++) {
        char c = t->p[i];
        if (c == '\t' || c == '\n')
            m |= NASTY_P_TAB_LF;
        else if (c == '\r')
            m |= NASTY_P_CR;
        if (c == '\\' && target != IFX_VERSION_V3 && i + 1 < t->len) {
            char n = t->p[i + 1];
            /* 1.x/2.x also unescape \" in a measurement and a field key (test_v1_roundtrip) */
            if (n == '\\' || n == ',' || n == '=' || n == ' ' ||
                (n == '"' && (field_key || measurement)))
                m |= NASTY_P_PORTABLE_BACKSLASH;
        }
    }
    if (t->p[t->len - 1] == '\\')
        m |= NASTY_P_TRAILING_BACKSLASH;
    if (measurement && t->p[0] == '#')
        m |= NASTY_P_HASH_FIRST;
    if (measurement && target == IFX_VERSION_V3 && memchr(t->p, '\0', t->len))
        m |= NASTY_P_NUL_NAME;
    if ((measurement || field_key) && target != IFX_VERSION_V3 && t->p[0] == '\0')
        m |= NASTY_P_NUL_NAME;
    return m;
}

/* Length of t once escaped for 1.x/2.x (portable mode). */
static size_t escaped_len(const nasty_text *t, bool measurement)
{
    size_t n = t->len;
    for (size_t i = 0; i < t->len; i++)
        n += t->p[i] == ',' || t->p[i] == ' ' || (t->p[i] == '=' && !measurement);
    return n;
}

unsigned nasty_problems(const nasty_point *p, ifx_version target)
{
    unsigned m = element_problems(&p->measurement, target, true, false);
    size_t series = escaped_len(&p->measurement, true), maxkey = 0;

    for (size_t i = 0; i < p->ntags; i++) {
        const nasty_tag *t = &p->tags[i];
        unsigned k = element_problems(&t->key, target, false, false);
        if (is_time(&t->key))
            k |= NASTY_P_RESERVED_TIME;
        if (t->value.len == 0) {
            /* the tag is left out, but its key is checked before the value is seen */
            if (k)
                m |= NASTY_P_DROPPED_TAG_KEY;
            continue;
        }
        m |= k | element_problems(&t->value, target, false, false);
        for (size_t j = 0; j < i; j++)
            if (p->tags[j].value.len && text_eq(&p->tags[j].key, &t->key))
                m |= NASTY_P_DUPLICATE_KEY;
        series += 2 + escaped_len(&t->key, false) + escaped_len(&t->value, false);
    }
    if (p->nfields == 0)
        m |= NASTY_P_NO_FIELDS;
    for (size_t i = 0; i < p->nfields; i++) {
        const nasty_field *f = &p->fields[i];
        size_t kl = escaped_len(&f->key, false);
        m |= element_problems(&f->key, target, false, true);
        if (is_time(&f->key))
            m |= NASTY_P_RESERVED_TIME;
        for (size_t j = 0; j < i; j++)
            if (text_eq(&p->fields[j].key, &f->key))
                m |= NASTY_P_DUPLICATE_KEY;
        if (kl > maxkey)
            maxkey = kl;
        if (f->type == NASTY_FLOAT && !isfinite(f->f))
            m |= NASTY_P_NONFINITE;
        if (f->type == NASTY_UINT && target == IFX_VERSION_V1)
            m |= NASTY_P_UNSIGNED_V1;
        if (f->type == NASTY_STRING) {
            if (f->s.len > IFX_LP_MAX_ELEMENT)
                m |= NASTY_P_TOO_LONG;
            if (!utf8_ok(f->s.p, f->s.len))
                m |= NASTY_P_INVALID_UTF8;
        }
    }
    if (target != IFX_VERSION_V3 && p->has_time &&
        (p->time_ns < -9223372036854775806 || p->time_ns > 9223372036854775806))
        m |= NASTY_P_TIME_RANGE;
    if (target != IFX_VERSION_V3 && series + maxkey >= IFX_LP_MAX_SERIES_KEY)
        m |= NASTY_P_SERIES_KEY;
    return m;
}

static const struct {
    unsigned bit;
    const char *name;
    const char *msgs[4];
} classes[] = {
    {NASTY_P_EMPTY_NAME, "empty name", {"must not be empty"}},
    {NASTY_P_HASH_FIRST, "measurement starts with '#'", {"starts with '#'"}},
    {NASTY_P_TAB_LF, "TAB or LF in a name", {"contains a TAB", "contains a line feed"}},
    {NASTY_P_CR, "CR in a name", {"contains a carriage return"}},
    {NASTY_P_TRAILING_BACKSLASH, "name ends with a backslash", {"ends with a backslash"}},
    {NASTY_P_PORTABLE_BACKSLASH,
     "backslash 1.x and 3.x read differently",
     {"has a backslash before"}},
    {NASTY_P_NONFINITE, "NaN or infinity", {" is NaN,", "Inf, which line protocol cannot carry"}},
    {NASTY_P_NO_FIELDS, "no fields", {"no fields"}},
    {NASTY_P_RESERVED_TIME, "key \"time\"", {"\"time\" is reserved"}},
    {NASTY_P_DUPLICATE_KEY, "duplicate key", {"duplicate tag key", "duplicate field key"}},
    {NASTY_P_TOO_LONG, "element over 64 KiB", {"over the limit of 65536"}},
    {NASTY_P_SERIES_KEY, "series key too long for 1.x/2.x", {"allows fewer than 65535"}},
    {NASTY_P_UNSIGNED_V1, "unsigned on 1.x", {"is unsigned, which InfluxDB 1.x cannot"}},
    {NASTY_P_INVALID_UTF8, "not UTF-8", {"is not valid UTF-8"}},
    {NASTY_P_DROPPED_TAG_KEY,
     "bad key on a tag with an empty value",
     {"tag key", "\"time\" is reserved"}},
    {NASTY_P_NUL_NAME, "NUL the server drops or stops at", {"NUL byte"}},
    {NASTY_P_TIME_RANGE, "time outside 1.x/2.x range", {"is outside the range InfluxDB"}},
};

const char *nasty_problem_name(unsigned bit)
{
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (classes[i].bit == bit)
            return classes[i].name;
    return "?";
}

const char *const *nasty_problem_messages(unsigned bit)
{
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (classes[i].bit == bit)
            return classes[i].msgs;
    return NULL;
}

bool nasty_message_names_problem(unsigned problems, const char *msg)
{
    for (unsigned bit = 1; bit < (1u << NASTY_P_COUNT); bit <<= 1) {
        const char *const *m = nasty_problem_messages(bit);
        if (!(problems & bit) || !m)
            continue;
        for (; *m; m++)
            if (strstr(msg, *m))
                return true;
    }
    return false;
}
