/* Differential test: ifx's v3 line protocol, read back by InfluxDB 3's own parser.
 *
 * Seeded random points with nasty names and values (tests/support/nasty_points.h) are encoded by
 * the line protocol builder for v3. Every emitted line goes, as one write body, through
 * ifx-lp3-parse (tests/lp3: the `influxdb-line-protocol` crate InfluxDB 3 parses with), and each
 * line must decode to exactly the point that went in: measurement, tags, every field with its
 * type and value (floats bit for bit), and the timestamp.
 *
 * Every point ifx refuses must be one the spec says no server stores, in one of the classes of
 * nasty_problems (its message must name that class). The parser confirms the refusal: the point
 * is written without ifx's checks (v3-native escaping, NaN as `NaN`, like InfluxDB's own
 * LineProtocolBuilder) and must then fail to decode to the point, unless one of its classes is a
 * server-side check that happens after parsing (§5: duplicate keys, key "time", 64 KiB) or a
 * portability rule of the spec (CR in a name, a bad key on a tag left out for its empty value).
 * The run ends with a table of the refusal classes seen.
 *
 * Reproducible: IFX_LP3_SEED (default below) and IFX_LP3_COUNT (default 20000 points, a second
 * or two) choose the run; the seed is printed first, and a failure prints the point in full.
 * IFX_LP3_KEEP_GOING=1 goes on after a failure and reports them all.
 * A longer, fuzz-style run, e.g. a million points with a fresh seed:
 *
 *     IFX_LP3_SEED=$(od -An -N8 -tu8 /dev/urandom) IFX_LP3_COUNT=1000000 build/tests/test_lp3_diff
 *
 * Without cargo (the helper is not built) the test says so and is reported as skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ifx/lp.h"
#include "nasty_points.h"

#define DEFAULT_SEED  0x1F3C5E7DA9B24680ull
#define DEFAULT_COUNT 20000
#define SKIP_CODE     77

static uint64_t seed;
static size_t count;
static bool keep_going; /* IFX_LP3_KEEP_GOING=1: report every failing point (the first 20 in
                           full), then fail */
static size_t failures;

/* ---- the helper ------------------------------------------------------------------------------ */

typedef struct answers {
    json_t **v;
    size_t n;
} answers;

/* Runs ifx-lp3-parse (with --framed when framed) on input and returns its JSON answers. */
static answers run_helper(const char *input, size_t len, bool framed)
{
    char in_path[] = "/tmp/ifx-lp3-in-XXXXXX", cmd[4096];
    int fd = mkstemp(in_path);
    answers a = {NULL, 0};
    size_t cap = 0, blen = 0, bcap = 1 << 20;
    char *buf = malloc(bcap);
    FILE *p;

    if (fd < 0 || !buf)
        fail_msg("cannot make a temporary file");
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, input + off, len - off);
        if (w <= 0)
            fail_msg("cannot write %s", in_path);
        off += (size_t)w;
    }
    close(fd);
    snprintf(cmd, sizeof cmd, "'%s' %s < '%s'", LP3_PARSE, framed ? "--framed" : "", in_path);
    p = popen(cmd, "r");
    if (!p)
        fail_msg("cannot run %s", cmd);
    for (;;) {
        size_t got;
        if (blen == bcap) {
            bcap *= 2;
            buf = realloc(buf, bcap);
            assert_non_null(buf);
        }
        got = fread(buf + blen, 1, bcap - blen, p);
        if (got == 0)
            break;
        blen += got;
    }
    int status = pclose(p);
    unlink(in_path);
    if (status != 0)
        fail_msg("%s exited with status %d", cmd, status);
    for (size_t start = 0; start < blen;) {
        char *nl = memchr(buf + start, '\n', blen - start);
        size_t end = nl ? (size_t)(nl - buf) : blen;
        json_error_t je;
        json_t *j = json_loadb(buf + start, end - start, JSON_ALLOW_NUL, &je);
        if (!j)
            fail_msg("the helper printed something that is not JSON (%s): %.*s", je.text,
                     (int)(end - start), buf + start);
        if (a.n == cap) {
            cap = cap ? cap * 2 : 1024;
            a.v = realloc(a.v, cap * sizeof *a.v);
            assert_non_null(a.v);
        }
        a.v[a.n++] = j;
        start = end + 1;
    }
    free(buf);
    return a;
}

static void answers_free(answers *a)
{
    for (size_t i = 0; i < a->n; i++)
        json_decref(a->v[i]);
    free(a->v);
}

/* ---- comparing a decoded line with its point ------------------------------------------------ */

static bool str_is(json_t *j, const nasty_text *t)
{
    return json_is_string(j) && json_string_length(j) == t->len &&
           memcmp(json_string_value(j), t->p, t->len) == 0;
}

static int text_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen > blen) - (alen < blen);
}

static int cmp_tag_json(const void *x, const void *y)
{
    json_t *a = json_array_get(*(json_t *const *)x, 0), *b = json_array_get(*(json_t *const *)y, 0);
    return text_cmp(json_string_value(a), json_string_length(a), json_string_value(b),
                    json_string_length(b));
}

static int cmp_tag_point(const void *x, const void *y)
{
    const nasty_tag *a = *(const nasty_tag *const *)x, *b = *(const nasty_tag *const *)y;
    return text_cmp(a->key.p, a->key.len, b->key.p, b->key.len);
}

/* Whether the parser's answer `got` is exactly point p; why not in `why`. */
static bool decodes_to(const nasty_point *p, json_t *got, char *why, size_t whysz)
{
    json_t *tags = json_object_get(got, "tags"), *fields = json_object_get(got, "fields");
    json_t *ts = json_object_get(got, "timestamp");
    const nasty_tag *want_tags[8];
    json_t *got_tags[8];
    size_t nwant = 0;
    char num[32];

    if (json_object_get(got, "error")) {
        snprintf(why, whysz, "the parser refused it: %s",
                 json_string_value(json_object_get(got, "error")));
        return false;
    }
    if (json_object_get(got, "ignored")) {
        snprintf(why, whysz, "the parser ignored the line (blank or comment)");
        return false;
    }
    if (!str_is(json_object_get(got, "measurement"), &p->measurement)) {
        snprintf(why, whysz, "measurement decoded as \"%s\"",
                 json_string_value(json_object_get(got, "measurement")));
        return false;
    }
    for (size_t i = 0; i < p->ntags; i++)
        if (p->tags[i].value.len)
            want_tags[nwant++] = &p->tags[i];
    if (json_array_size(tags) != nwant || nwant > 8) {
        snprintf(why, whysz, "%zu tags decoded, %zu expected", json_array_size(tags), nwant);
        return false;
    }
    /* Tag order carries no meaning to the server: compare them sorted by key. */
    for (size_t i = 0; i < nwant; i++)
        got_tags[i] = json_array_get(tags, i);
    qsort(got_tags, nwant, sizeof got_tags[0], cmp_tag_json);
    qsort(want_tags, nwant, sizeof want_tags[0], cmp_tag_point);
    for (size_t i = 0; i < nwant; i++) {
        if (!str_is(json_array_get(got_tags[i], 0), &want_tags[i]->key) ||
            !str_is(json_array_get(got_tags[i], 1), &want_tags[i]->value)) {
            snprintf(why, whysz, "tag %zu decoded as \"%s\"=\"%s\"", i,
                     json_string_value(json_array_get(got_tags[i], 0)),
                     json_string_value(json_array_get(got_tags[i], 1)));
            return false;
        }
    }
    if (json_array_size(fields) != p->nfields) {
        snprintf(why, whysz, "%zu fields decoded, %zu expected", json_array_size(fields),
                 p->nfields);
        return false;
    }
    for (size_t i = 0; i < p->nfields; i++) {
        const nasty_field *f = &p->fields[i];
        json_t *g = json_array_get(fields, i);
        const char *type = json_string_value(json_array_get(g, 1));
        json_t *val = json_array_get(g, 2);
        static const char *const names[] = {"float", "integer", "unsigned", "boolean", "string"};
        bool same = false;

        if (!str_is(json_array_get(g, 0), &f->key)) {
            snprintf(why, whysz, "field %zu key decoded as \"%s\"", i,
                     json_string_value(json_array_get(g, 0)));
            return false;
        }
        if (!type || strcmp(type, names[f->type]) != 0) {
            snprintf(why, whysz, "field %zu decoded as a %s, not a %s", i, type, names[f->type]);
            return false;
        }
        switch (f->type) {
        case NASTY_FLOAT: {
            uint64_t bits;
            memcpy(&bits, &f->f, sizeof bits);
            snprintf(num, sizeof num, "%016" PRIx64, bits);
            same = json_is_string(val) && strcmp(json_string_value(val), num) == 0;
            break;
        }
        case NASTY_INT:
            snprintf(num, sizeof num, "%" PRId64, f->i);
            same = json_is_string(val) && strcmp(json_string_value(val), num) == 0;
            break;
        case NASTY_UINT:
            snprintf(num, sizeof num, "%" PRIu64, f->u);
            same = json_is_string(val) && strcmp(json_string_value(val), num) == 0;
            break;
        case NASTY_BOOL:
            same = json_is_boolean(val) && json_is_true(val) == f->b;
            break;
        case NASTY_STRING:
            same = str_is(val, &f->s);
            break;
        }
        if (!same) {
            snprintf(
                why, whysz, "field %zu value decoded as %s%s%s", i,
                json_is_string(val) ? json_string_value(val) : json_dumps(val, JSON_ENCODE_ANY),
                f->type == NASTY_FLOAT ? ", want bits " : "", f->type == NASTY_FLOAT ? num : "");
            return false;
        }
    }
    if (!p->has_time) {
        if (!json_is_null(ts)) {
            snprintf(why, whysz, "timestamp %s decoded, none sent", json_string_value(ts));
            return false;
        }
    } else {
        snprintf(num, sizeof num, "%" PRId64, p->time_ns);
        if (!json_is_string(ts) || strcmp(json_string_value(ts), num) != 0) {
            snprintf(why, whysz, "timestamp decoded as %s, want %s",
                     json_is_string(ts) ? json_string_value(ts) : "none", num);
            return false;
        }
    }
    return true;
}

/* ---- a line written without ifx's checks --------------------------------------------------- */

/* v3-native escaping (§6.2) applied blindly, as InfluxDB's LineProtocolBuilder does. */
static void raw_escaped(ifx_buf *b, const nasty_text *t, const char *special)
{
    for (size_t i = 0; i < t->len; i++) {
        if (t->p[i] == '\\' || (t->p[i] && strchr(special, t->p[i])))
            ifx_buf_putc(b, '\\');
        ifx_buf_putc(b, t->p[i]);
    }
}

static void raw_line(ifx_buf *b, const nasty_point *p)
{
    char num[64];
    raw_escaped(b, &p->measurement, ", ");
    for (size_t i = 0; i < p->ntags; i++) {
        if (!p->tags[i].value.len)
            continue;
        ifx_buf_putc(b, ',');
        raw_escaped(b, &p->tags[i].key, ",= ");
        ifx_buf_putc(b, '=');
        raw_escaped(b, &p->tags[i].value, ",= ");
    }
    for (size_t i = 0; i < p->nfields; i++) {
        const nasty_field *f = &p->fields[i];
        ifx_buf_putc(b, i ? ',' : ' ');
        raw_escaped(b, &f->key, ",= ");
        ifx_buf_putc(b, '=');
        switch (f->type) {
        case NASTY_FLOAT:
            if (isnan(f->f))
                snprintf(num, sizeof num, "NaN");
            else if (isinf(f->f))
                snprintf(num, sizeof num, f->f > 0 ? "inf" : "-inf");
            else
                snprintf(num, sizeof num, "%.17g", f->f);
            break;
        case NASTY_INT:
            snprintf(num, sizeof num, "%" PRId64 "i", f->i);
            break;
        case NASTY_UINT:
            snprintf(num, sizeof num, "%" PRIu64 "u", f->u);
            break;
        case NASTY_BOOL:
            snprintf(num, sizeof num, "%s", f->b ? "true" : "false");
            break;
        case NASTY_STRING:
            ifx_buf_putc(b, '"');
            for (size_t k = 0; k < f->s.len; k++) {
                if (f->s.p[k] == '"' || f->s.p[k] == '\\')
                    ifx_buf_putc(b, '\\');
                ifx_buf_putc(b, f->s.p[k]);
            }
            ifx_buf_putc(b, '"');
            num[0] = '\0';
            break;
        }
        ifx_buf_append(b, num, strlen(num));
    }
    if (p->has_time) {
        snprintf(num, sizeof num, " %" PRId64, p->time_ns);
        ifx_buf_append(b, num, strlen(num));
    }
}

/* ---- the test -------------------------------------------------------------------------------- */

/* Classes a parser check alone decides: a refusal with only these must be confirmed by the
 * parser failing to read the unchecked line back. */
#define PARSER_CLASSES                                                                             \
    (NASTY_P_EMPTY_NAME | NASTY_P_HASH_FIRST | NASTY_P_TAB_LF | NASTY_P_TRAILING_BACKSLASH |       \
     NASTY_P_NONFINITE | NASTY_P_NO_FIELDS | NASTY_P_INVALID_UTF8 | NASTY_P_NUL_NAME)

static void failed_point(const nasty_point *p, const char *what, const char *detail,
                         const char *line, size_t line_len)
{
    if (++failures > 20 && keep_going)
        return;
    fprintf(stderr, "\nlp3: FAILED: %s\n  %s\n", what, detail);
    if (line) {
        fputs("  line: \"", stderr);
        nasty_print_text(stderr, line, line_len);
        fputs("\"\n", stderr);
    }
    nasty_point_print(stderr, p);
    fprintf(stderr, "reproduce: IFX_LP3_SEED=0x%" PRIx64 " IFX_LP3_COUNT=%zu %s\n", seed, count,
            "build/tests/test_lp3_diff");
    if (!keep_going)
        fail_msg("%s (point %" PRIu64 ")", what, p->index);
}

static void test_v3_parser_reads_back_every_line(void **state)
{
    nasty_point *pts = calloc(count, sizeof *pts);
    size_t *line_start = calloc(count + 1, sizeof *line_start);
    size_t *accepted = calloc(count, sizeof *accepted), *refused = calloc(count, sizeof *refused);
    size_t nacc = 0, nref = 0, held_by_parser = 0;
    size_t seen[NASTY_P_COUNT] = {0}, held[NASTY_P_COUNT] = {0};
    ifx_lp lp;
    ifx_buf raw, one;
    ifx_err e;
    char why[512];
    struct timespec t0, t1;
    (void)state;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    ifx_lp_init(&lp, IFX_VERSION_V3, IFX_PRECISION_NS, (size_t)1 << 31);
    ifx_buf_init(&raw, (size_t)1 << 31);
    ifx_buf_init(&one, (size_t)1 << 24);
    for (size_t i = 0; i < count; i++) {
        nasty_point *p = &pts[i];
        size_t before = lp.batch.len;
        unsigned problems;
        nasty_point_generate(p, seed, i);
        problems = nasty_problems(p, IFX_VERSION_V3);
        if (nasty_point_encode(p, &lp, &e) == IFX_OK) {
            if (problems) {
                snprintf(why, sizeof why, "the spec says it cannot be stored (first class: %s)",
                         nasty_problem_name(problems & -problems));
                failed_point(p, "ifx accepted a point no server stores", why,
                             lp.batch.data + before, lp.batch.len - before - 1);
            }
            line_start[nacc] = before;
            accepted[nacc++] = i;
            continue;
        }
        if (!problems)
            failed_point(p, "ifx refused a point every server stores", e.msg, NULL, 0);
        if (!nasty_message_names_problem(problems, e.msg))
            failed_point(p, "ifx's refusal names none of the point's problems", e.msg, NULL, 0);
        for (unsigned b = 0; b < NASTY_P_COUNT; b++)
            seen[b] += (problems >> b) & 1;
        /* the same point written without checks, as one framed record */
        ifx_buf_reset(&one);
        raw_line(&one, p);
        char head[32];
        snprintf(head, sizeof head, "%zu\n", one.len);
        ifx_buf_append(&raw, head, strlen(head));
        ifx_buf_append(&raw, one.data, one.len);
        refused[nref++] = i;
    }
    line_start[nacc] = lp.batch.len;

    /* every accepted point: its line, in one batch as the server gets it */
    answers a = run_helper(lp.batch.data, lp.batch.len, false);
    if (a.n != nacc)
        fail_msg("%zu lines sent, the parser saw %zu", nacc, a.n);
    for (size_t k = 0; k < nacc; k++) {
        const nasty_point *p = &pts[accepted[k]];
        if (!decodes_to(p, a.v[k], why, sizeof why))
            failed_point(p, "InfluxDB 3's parser does not read back ifx's line", why,
                         lp.batch.data + line_start[k], line_start[k + 1] - line_start[k] - 1);
    }
    answers_free(&a);

    /* every refused point: the unchecked line must fail, unless a server-side or policy class
     * explains the refusal */
    a = run_helper(raw.data, raw.len, true);
    if (a.n != nref)
        fail_msg("%zu refused points sent, the parser answered %zu", nref, a.n);
    for (size_t k = 0; k < nref; k++) {
        const nasty_point *p = &pts[refused[k]];
        unsigned problems = nasty_problems(p, IFX_VERSION_V3);
        if (!decodes_to(p, a.v[k], why, sizeof why))
            continue;
        held_by_parser++;
        for (unsigned b = 0; b < NASTY_P_COUNT; b++)
            held[b] += (problems >> b) & 1;
        if (!(problems & ~(unsigned)PARSER_CLASSES)) {
            ifx_buf_reset(&one);
            raw_line(&one, p);
            failed_point(p, "ifx refused a point InfluxDB 3's parser reads back exactly",
                         "its classes are all parser classes", one.data, one.len);
        }
    }
    answers_free(&a);
    clock_gettime(CLOCK_MONOTONIC, &t1);

    print_message("lp3: %zu points, %zu lines read back exactly, %zu refused (%zu of them "
                  "parseable without ifx's checks, refused for a server-side or policy class), "
                  "%.1f s\n",
                  count, nacc, nref, held_by_parser,
                  (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    print_message("lp3: refusal classes (points; of them parseable without ifx's checks):\n");
    for (unsigned b = 0; b < NASTY_P_COUNT; b++)
        if (seen[b])
            print_message("lp3:   %-40s %6zu  %6zu\n", nasty_problem_name(1u << b), seen[b],
                          held[b]);
    if (failures)
        fail_msg("%zu failing points", failures);
    assert_true(nacc > count / 4);
    assert_true(nref > 0);

    for (size_t i = 0; i < count; i++)
        nasty_point_free(&pts[i]);
    free(pts);
    free(line_start);
    free(accepted);
    free(refused);
    ifx_lp_free(&lp);
    ifx_buf_free(&raw);
    ifx_buf_free(&one);
}

int main(void)
{
    const char *s = getenv("IFX_LP3_SEED"), *c = getenv("IFX_LP3_COUNT");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v3_parser_reads_back_every_line),
    };

    if (LP3_PARSE[0] == '\0' || access(LP3_PARSE, X_OK) != 0) {
        printf("SKIPPED: test_lp3_diff needs ifx-lp3-parse, which cargo builds (%s); install Rust "
               "(cargo) and re-run cmake\n",
               LP3_PARSE[0] ? LP3_PARSE : "cargo was not found");
        return SKIP_CODE;
    }
    seed = s && *s ? strtoull(s, NULL, 0) : DEFAULT_SEED;
    count = c && *c ? (size_t)strtoull(c, NULL, 0) : DEFAULT_COUNT;
    keep_going = getenv("IFX_LP3_KEEP_GOING") && *getenv("IFX_LP3_KEEP_GOING") == '1';
    printf("lp3: seed 0x%" PRIx64 ", %zu points (IFX_LP3_SEED, IFX_LP3_COUNT)\n", seed, count);
    fflush(stdout);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
