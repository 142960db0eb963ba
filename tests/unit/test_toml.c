/* Tests for the TOML 1.0 reader (src/config/toml.c).
 *
 * The corpus in tests/toml: every valid/NAME.toml must give exactly valid/NAME.json (one line of
 * compact JSON, which jansson and ifx's own validator must also accept), and every
 * invalid/NAME.toml must be refused with exactly the message in invalid/NAME.err. Then the
 * contract around the corpus: out untouched on failure, caps, offsets, bounds, limits, size. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "config/toml.h"

#define S(lit) lit, sizeof lit - 1

#define CORPUS_DIR IFX_SOURCE_DIR "/tests/toml"

/* ---- helpers -------------------------------------------------------------------------------- */

/* Reads a whole file; NULL when it does not exist. Caller frees. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ifx_buf b;
    char chunk[65536];
    size_t n;

    if (!f)
        return NULL;
    ifx_buf_init(&b, (size_t)1 << 30);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        assert_int_equal(ifx_buf_append(&b, chunk, n), IFX_OK);
    fclose(f);
    *len = b.len;
    return ifx_buf_detach(&b);
}

/* The expectation files hold one line; the final newline is not part of it. */
static char *slurp_line(const char *path)
{
    size_t len = 0;
    char *s = slurp(path, &len);

    if (!s)
        fail_msg("missing %s", path);
    if (len > 0 && s[len - 1] == '\n')
        s[--len] = '\0';
    if (memchr(s, '\n', len))
        fail_msg("%s holds more than one line", path);
    return s;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The NAME of every NAME.toml in dir, sorted; the count in *n. */
static char **toml_names(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;

    if (!d)
        fail_msg("cannot open %s", dir);
    *n = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".toml") != 0)
            continue;
        names = realloc(names, (*n + 1) * sizeof *names);
        assert_non_null(names);
        names[*n] = strndup(e->d_name, len - 5);
        (*n)++;
    }
    closedir(d);
    qsort(names, *n, sizeof *names, compare_names);
    return names;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Every expectation file has its document (a stray one would be a test that never runs). */
static void expect_no_orphans(const char *dir, const char *ext)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];
    size_t extlen = strlen(ext);

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        FILE *f;
        if (len <= extlen || strcmp(e->d_name + len - extlen, ext) != 0)
            continue;
        snprintf(path, sizeof path, "%s/%.*s.toml", dir, (int)(len - extlen), e->d_name);
        f = fopen(path, "rb");
        if (!f)
            fail_msg("%s/%s has no .toml document", dir, e->d_name);
        fclose(f);
    }
    closedir(d);
}

/* Converts in[0..len) into a fresh buffer: IFX_OK with the JSON in *json (caller frees). */
static ifx_rc convert(const char *in, size_t len, char **json, ifx_err *err)
{
    ifx_buf out;
    ifx_rc rc;

    ifx_buf_init(&out, (size_t)1 << 28);
    ifx_err_clear(err);
    rc = ifxi_toml_to_json(in, len, &out, err);
    *json = rc ? NULL : ifx_buf_detach(&out);
    ifx_buf_free(&out);
    return rc;
}

/* The output is JSON for jansson (\u0000 allowed: TOML strings may hold it) and for ifx. */
static void expect_parses_as_json(const char *json, const char *what)
{
    json_error_t jerr;
    json_t *root = json_loads(json, JSON_ALLOW_NUL, &jerr);
    ifx_err err;

    if (!root)
        fail_msg("%s: jansson refuses %s: %s", what, json, jerr.text);
    assert_true(json_is_object(root));
    json_decref(root);
    ifx_err_clear(&err);
    if (ifxi_json_compact(json, strlen(json), NULL, &err) != IFX_OK)
        fail_msg("%s: ifxi_json_compact refuses %s: %s", what, json, err.msg);
}

static void expect_json(const char *in, size_t len, const char *want)
{
    char *json = NULL;
    ifx_err err;

    if (convert(in, len, &json, &err) != IFX_OK)
        fail_msg("refused %.*s: %s", (int)len, in, err.msg);
    if (strcmp(json, want) != 0)
        fail_msg("%.*s gives %s, expected %s", (int)len, in, json, want);
    expect_parses_as_json(json, "inline document");
    free(json);
}

static void expect_error(const char *in, size_t len, const char *want, size_t offset)
{
    char *json = NULL;
    ifx_err err;
    ifx_rc rc = convert(in, len, &json, &err);

    if (rc != IFX_E_INVALID)
        fail_msg("%.*s: rc %d (%s), expected IFX_E_INVALID", (int)len, in, rc, rc ? err.msg : json);
    if (strcmp(err.msg, want) != 0)
        fail_msg("%.*s: message \"%s\", expected \"%s\"", (int)len, in, err.msg, want);
    assert_int_equal(err.code, IFX_E_INVALID);
    assert_int_equal(err.offset, offset);
}

/* ---- the corpus ----------------------------------------------------------------------------- */

static void test_corpus_valid(void **state)
{
    const char *dir = CORPUS_DIR "/valid";
    char path[4096];
    size_t n;
    char **names = toml_names(dir, &n);
    (void)state;

    assert_true(n >= 35);
    expect_no_orphans(dir, ".json");
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        char *in, *want, *json = NULL;
        ifx_err err;

        snprintf(path, sizeof path, "%s/%s.toml", dir, names[i]);
        in = slurp(path, &len);
        assert_non_null(in);
        snprintf(path, sizeof path, "%s/%s.json", dir, names[i]);
        want = slurp_line(path);
        if (convert(in, len, &json, &err) != IFX_OK)
            fail_msg("valid/%s.toml refused: %s", names[i], err.msg);
        if (strcmp(json, want) != 0)
            fail_msg("valid/%s.toml gives\n  %s\nexpected\n  %s", names[i], json, want);
        expect_parses_as_json(json, names[i]);
        free(json);
        free(want);
        free(in);
    }
    print_message("%zu valid documents\n", n);
    free_names(names, n);
}

static void test_corpus_invalid(void **state)
{
    const char *dir = CORPUS_DIR "/invalid";
    static const char prefix[] = "[\"kept\"]";
    char path[4096];
    size_t n;
    char **names = toml_names(dir, &n);
    (void)state;

    assert_true(n >= 35);
    expect_no_orphans(dir, ".err");
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        char *in, *want;
        ifx_buf out;
        ifx_err err;
        ifx_rc rc;

        snprintf(path, sizeof path, "%s/%s.toml", dir, names[i]);
        in = slurp(path, &len);
        assert_non_null(in);
        snprintf(path, sizeof path, "%s/%s.err", dir, names[i]);
        want = slurp_line(path);
        /* Refused whatever the buffer holds, and the buffer is left exactly as it was. */
        ifx_buf_init(&out, 1 << 20);
        assert_int_equal(ifx_buf_puts(&out, prefix), IFX_OK);
        ifx_err_clear(&err);
        rc = ifxi_toml_to_json(in, len, &out, &err);
        if (rc != IFX_E_INVALID)
            fail_msg("invalid/%s.toml: rc %d, expected IFX_E_INVALID (%s)", names[i], rc,
                     rc ? err.msg : out.data);
        if (strcmp(err.msg, want) != 0)
            fail_msg("invalid/%s.toml: message\n  %s\nexpected\n  %s", names[i], err.msg, want);
        assert_true(err.offset <= len);
        assert_int_equal(out.len, sizeof prefix - 1);
        assert_string_equal(out.data, prefix);
        ifx_buf_free(&out);
        free(want);
        free(in);
    }
    print_message("%zu invalid documents\n", n);
    free_names(names, n);
}

/* ---- the contract around it ----------------------------------------------------------------- */

static void test_appends_to_buffer(void **state)
{
    ifx_buf out;
    ifx_err err;
    (void)state;

    ifx_buf_init(&out, 1024);
    assert_int_equal(ifx_buf_puts(&out, "x="), IFX_OK);
    assert_int_equal(ifxi_toml_to_json(S("a = 1\n"), &out, &err), IFX_OK);
    assert_string_equal(out.data, "x={\"a\":1}");
    /* A NULL ifx_err is allowed; an empty document is an empty object. */
    assert_int_equal(ifxi_toml_to_json("", 0, &out, NULL), IFX_OK);
    assert_string_equal(out.data, "x={\"a\":1}{}");
    assert_int_equal(ifxi_toml_to_json(NULL, 0, &out, NULL), IFX_OK);
    assert_string_equal(out.data, "x={\"a\":1}{}{}");
    ifx_buf_free(&out);
}

static void test_out_unchanged_on_failure(void **state)
{
    /* A failure late in the document, after much would already have been written. */
    static const char doc[] = "a = 1\nb = [1, 2, 3]\n[t]\nc = \"x\"\n[t]\n";
    ifx_buf out;
    ifx_err err;
    (void)state;

    ifx_buf_init(&out, 1024);
    assert_int_equal(ifx_buf_puts(&out, "before"), IFX_OK);
    assert_int_equal(ifxi_toml_to_json(S(doc), &out, &err), IFX_E_INVALID);
    assert_string_equal(err.msg, "line 5, column 1: table [t] defined twice (first defined on "
                                 "line 3)");
    assert_int_equal(out.len, 6);
    assert_string_equal(out.data, "before");
    /* Also with no ifx_err to fill. */
    assert_int_equal(ifxi_toml_to_json(S(doc), &out, NULL), IFX_E_INVALID);
    assert_string_equal(out.data, "before");
    ifx_buf_free(&out);
}

static void test_full_with_small_cap(void **state)
{
    static const char doc[] = "name = \"a long enough value\"\n[t]\nlist = [1, 2, 3]\n";
    static const char want[] = "{\"name\":\"a long enough value\",\"t\":{\"list\":[1,2,3]}}";
    ifx_buf out;
    ifx_err err;
    (void)state;

    /* Every cap below the size fails cleanly, leaving the buffer as it was. */
    for (size_t cap = 2; cap < sizeof want - 1 + 2; cap++) {
        ifx_buf_init(&out, cap);
        assert_int_equal(ifx_buf_puts(&out, "p:"), IFX_OK);
        ifx_err_clear(&err);
        assert_int_equal(ifxi_toml_to_json(S(doc), &out, &err), IFX_E_FULL);
        assert_int_equal(err.code, IFX_E_FULL);
        assert_non_null(strstr(err.msg, "exceeds"));
        assert_string_equal(out.data, "p:");
        ifx_buf_free(&out);
    }
    /* Exactly the size fits. */
    ifx_buf_init(&out, sizeof want - 1 + 2);
    assert_int_equal(ifx_buf_puts(&out, "p:"), IFX_OK);
    assert_int_equal(ifxi_toml_to_json(S(doc), &out, &err), IFX_OK);
    assert_string_equal(out.data + 2, want);
    ifx_buf_free(&out);
    /* An invalid document is invalid whatever the cap. */
    ifx_buf_init(&out, 1);
    assert_int_equal(ifxi_toml_to_json(S("a = 1\na = 2\n"), &out, &err), IFX_E_INVALID);
    ifx_buf_free(&out);
}

static void test_usage(void **state)
{
    ifx_buf out;
    ifx_err err;
    (void)state;

    ifx_buf_init(&out, 64);
    assert_int_equal(ifxi_toml_to_json(NULL, 3, &out, &err), IFX_E_USAGE);
    assert_int_equal(ifxi_toml_to_json("a=1", 3, NULL, &err), IFX_E_USAGE);
    assert_int_equal(out.len, 0);
    ifx_buf_free(&out);
}

static void test_offsets_and_columns(void **state)
{
    (void)state;
    /* The offset is the byte of the problem; the column counts characters, not bytes. */
    expect_error(S("a = 1\nb = \"\\q\"\n"), "line 2, column 6: invalid escape \\q", 11);
    expect_error(S("\"\xC3\xA9\xC3\xA9\" = \"\xE2\x9C\x93\\q\"\n"),
                 "line 1, column 10: invalid escape \\q", 13);
    expect_error(S("k = 1\r\nk = 2\r\n"),
                 "line 2, column 1: duplicate key \"k\" (first defined on line 1)", 7);
    /* A byte order mark is skipped, and does not count as a column. */
    expect_error(S("\xEF\xBB\xBF"
                   "a = ?\n"),
                 "line 1, column 5: expected a value, found '?'", 7);
    /* Only the part after the last newline counts for the column. */
    expect_error(S("a = [\n  1,\n  2 3]\n"),
                 "line 3, column 5: expected ',' or ']' in an array, found '3'", 15);
    /* Reading stops at len: what follows is never looked at. */
    expect_json("a = 1\nb = \"unterminated", 6, "{\"a\":1}");
    expect_error("a = \"abc\"", 7, "line 1, column 5: unterminated string", 4);
}

static void test_nul_byte(void **state)
{
    (void)state;
    expect_error(S("a = 1\n\0"), "line 2, column 1: expected a key, found U+0000", 6);
    expect_error(S("a = \"x\0y\"\n"),
                 "line 1, column 7: control character U+0000 is not allowed in a string", 6);
    expect_error(S("# x\0\n"),
                 "line 1, column 4: control character U+0000 is not allowed in a comment", 3);
    /* As an escape it is a character like any other. */
    expect_json(S("a = \"x\\u0000y\"\n"), "{\"a\":\"x\\u0000y\"}");
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    expect_error(S("a = \"\xFF\"\n"),
                 "line 1, column 6: invalid UTF-8 (byte never used in UTF-8: 0xFF)", 5);
    expect_error(S("# ok\n\xE2\x82\n"),
                 "line 2, column 1: invalid UTF-8 (missing continuation byte: 0xE2 0x82 0x0A)", 5);
    expect_error(S("a = \"\xE2\x82"),
                 "line 1, column 6: invalid UTF-8 (truncated sequence at end of input: 0xE2 0x82)",
                 5);
    expect_error(S("a = '\xED\xA0\x80'\n"),
                 "line 1, column 6: invalid UTF-8 (UTF-16 surrogate U+D800..U+DFFF: 0xED 0xA0)", 5);
    expect_error(S("# \xC0\xAF\n"), "line 1, column 3: invalid UTF-8 (overlong encoding: 0xC0)", 2);
    /* A lone surrogate cannot come in through an escape either. */
    expect_error(S("a = \"\\uDFFF\"\n"),
                 "line 1, column 6: invalid escape \\uDFFF: surrogate code points are not allowed",
                 5);
}

/* n arrays nested under key a: "a = [[...]]". */
static char *nested_arrays(size_t n, size_t *len)
{
    char *s = malloc(2 * n + 8);
    size_t k = 0;

    memcpy(s, "a = ", 4);
    k = 4;
    memset(s + k, '[', n);
    k += n;
    memset(s + k, ']', n);
    k += n;
    s[k++] = '\n';
    s[k] = '\0';
    *len = k;
    return s;
}

static void test_depth_limit(void **state)
{
    size_t len;
    char *doc, *json = NULL;
    ifx_err err;
    (void)state;

    /* The document is level 1, so a root key holds IFX_TOML_MAX_DEPTH - 1 nested arrays. */
    doc = nested_arrays(IFX_TOML_MAX_DEPTH - 1, &len);
    assert_int_equal(convert(doc, len, &json, &err), IFX_OK);
    expect_parses_as_json(json, "deepest arrays");
    free(json);
    free(doc);
    doc = nested_arrays(IFX_TOML_MAX_DEPTH, &len);
    assert_int_equal(convert(doc, len, &json, &err), IFX_E_INVALID);
    assert_string_equal(err.msg, "line 1, column 132: nesting deeper than 128 levels");
    free(doc);
    /* Far deeper is refused the same way, without recursing into it. */
    doc = nested_arrays(1000000, &len);
    assert_int_equal(convert(doc, len, &json, &err), IFX_E_INVALID);
    assert_int_equal(err.offset, 4 + IFX_TOML_MAX_DEPTH - 1);
    free(doc);

    /* Tables count too, however they are made: headers, dotted keys, inline tables. */
    ifx_buf b;
    ifx_buf_init(&b, 1 << 20);
    assert_int_equal(ifx_buf_puts(&b, "[k"), IFX_OK);
    for (int i = 1; i < IFX_TOML_MAX_DEPTH - 1; i++)
        assert_int_equal(ifx_buf_puts(&b, ".k"), IFX_OK);
    assert_int_equal(ifx_buf_puts(&b, "]\nx = 1\n"), IFX_OK);
    assert_int_equal(convert(b.data, b.len, &json, &err), IFX_OK);
    expect_parses_as_json(json, "deepest header");
    free(json);
    ifx_buf_reset(&b);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(ifx_buf_puts(&b, "k."), IFX_OK);
    assert_int_equal(ifx_buf_puts(&b, "k = 1\n"), IFX_OK);
    assert_int_equal(convert(b.data, b.len, &json, &err), IFX_E_INVALID);
    assert_non_null(strstr(err.msg, "nesting deeper than 128 levels"));
    ifx_buf_reset(&b);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(ifx_buf_puts(&b, "{a="), IFX_OK);
    assert_int_equal(convert(b.data, b.len, &json, &err), IFX_E_INVALID);
    assert_non_null(strstr(err.msg, "expected a key"));
    ifx_buf_reset(&b);
    assert_int_equal(ifx_buf_puts(&b, "a="), IFX_OK);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(ifx_buf_puts(&b, "{b="), IFX_OK);
    assert_int_equal(convert(b.data, b.len, &json, &err), IFX_E_INVALID);
    assert_non_null(strstr(err.msg, "nesting deeper than 128 levels"));
    ifx_buf_free(&b);
}

static void test_int64_boundaries(void **state)
{
    (void)state;
    expect_json(S("max = 9223372036854775807\nmin = -9223372036854775808\n"),
                "{\"max\":9223372036854775807,\"min\":-9223372036854775808}");
    expect_json(S("a = 9_223_372_036_854_775_807\nb = -9_223_372_036_854_775_808\n"),
                "{\"a\":9223372036854775807,\"b\":-9223372036854775808}");
    expect_json(S("h = 0x7fff_ffff_ffff_ffff\no = 0o777777777777777777777\n"),
                "{\"h\":9223372036854775807,\"o\":9223372036854775807}");
    expect_error(S("a = 9223372036854775808\n"), "line 1, column 5: integer out of range (int64)",
                 4);
    expect_error(S("a = -9223372036854775809\n"), "line 1, column 5: integer out of range (int64)",
                 4);
    expect_error(S("a = +9223372036854775808\n"), "line 1, column 5: integer out of range (int64)",
                 4);
    expect_error(S("a = 18446744073709551616\n"), "line 1, column 5: integer out of range (int64)",
                 4);
    expect_error(S("a = 0x8000000000000000\n"), "line 1, column 5: integer out of range (int64)",
                 4);
    expect_error(S("a = 0b1000000000000000000000000000000000000000000000000000000000000000\n"),
                 "line 1, column 5: integer out of range (int64)", 4);
    /* Every JSON reader that takes int64 reads them back exactly. */
    json_t *root =
        json_loads("{\"max\":9223372036854775807,\"min\":-9223372036854775808}", 0, NULL);
    assert_non_null(root);
    assert_true(json_integer_value(json_object_get(root, "max")) == INT64_MAX);
    assert_true(json_integer_value(json_object_get(root, "min")) == INT64_MIN);
    json_decref(root);
}

static void test_floats(void **state)
{
    (void)state;
    /* Floats stay floats, and read back to the same double. */
    expect_json(
        S("a = 1.0\nb = 1e3\nc = -0.0\nd = 1e300\ne = 2.5e-10\nf = 123456789012.5\n"),
        "{\"a\":1.0,\"b\":1000.0,\"c\":-0.0,\"d\":1e300,\"e\":2.5e-10,\"f\":123456789012.5}");
    expect_error(S("a = +inf\n"), "line 1, column 5: inf/nan cannot be represented in JSON", 4);
    expect_error(S("a = [1.0, nan]\n"), "line 1, column 11: inf/nan cannot be represented in JSON",
                 10);
    expect_error(S("a = -1e309\n"),
                 "line 1, column 5: float out of range (it overflows to infinity)", 4);
    /* Underflow is not an error: the nearest double. */
    expect_json(S("a = 1e-400\n"), "{\"a\":0.0}");
}

static void test_float_locale(void **state)
{
    static const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8"};
    const char *set = NULL;
    (void)state;

    for (size_t i = 0; i < sizeof names / sizeof names[0] && !set; i++)
        set = setlocale(LC_NUMERIC, names[i]);
    if (!set)
        skip();
    expect_json(S("a = 1.5\nb = 2.25e3\n"), "{\"a\":1.5,\"b\":2250.0}");
    setlocale(LC_NUMERIC, "C");
}

static void test_secrets_stay_out_of_messages(void **state)
{
    static const char *docs[] = {
        "token = s3cr3tvalue\n",           "token = \"s3cr3tvalue\n",
        "token = 's3cr3tvalue\n",          "token = s3cr3tvalue_99\n",
        "token = 1s3cr3tvalue\n",          "token = \"s3cr3tvalue\" junk\n",
        "token = 2024-01-01s3cr3tvalue\n",
    };
    (void)state;

    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        char *json = NULL;
        ifx_err err;
        assert_int_equal(convert(docs[i], strlen(docs[i]), &json, &err), IFX_E_INVALID);
        if (strstr(err.msg, "cr3t"))
            fail_msg("%s: the message shows the value: %s", docs[i], err.msg);
    }
}

/* About 1 MB of realistic configuration: many tables, arrays of tables, strings and numbers. */
static void test_one_megabyte(void **state)
{
    ifx_buf doc;
    char *json = NULL;
    ifx_err err;
    json_t *root;
    size_t tables = 0;
    (void)state;

    ifx_buf_init(&doc, 2 << 20);
    assert_int_equal(ifx_buf_puts(&doc, "title = \"big\"\n"), IFX_OK);
    while (doc.len < (1 << 20)) {
        assert_int_equal(ifx_buf_printf(&doc,
                                        "[server_%zu]\n"
                                        "host = \"10.0.%zu.%zu\" # comment\n"
                                        "port = %zu\nweight = %zu.5\ntags = [\"a\", \"b\", 'c']\n"
                                        "limits = { cpu = 2, mem = \"4GiB\" }\n"
                                        "[[server_%zu.route]]\npath = \"/v%zu\"\n",
                                        tables, tables / 256 % 256, tables % 256, 8000 + tables,
                                        tables, tables, tables),
                         IFX_OK);
        tables++;
    }
    assert_int_equal(convert(doc.data, doc.len, &json, &err), IFX_OK);
    root = json_loads(json, 0, NULL);
    assert_non_null(root);
    assert_int_equal(json_object_size(root), tables + 1);
    json_t *last = json_object_get(root, "server_0");
    assert_non_null(last);
    assert_int_equal(json_integer_value(json_object_get(last, "port")), 8000);
    assert_true(json_real_value(json_object_get(last, "weight")) == 0.5);
    json_decref(root);
    free(json);

    /* One table with a great many keys, and one long string. */
    ifx_buf_reset(&doc);
    for (size_t i = 0; i < 60000; i++)
        assert_int_equal(ifx_buf_printf(&doc, "key_%zu = %zu\n", i, i), IFX_OK);
    assert_int_equal(ifx_buf_puts(&doc, "long = \""), IFX_OK);
    while (doc.len < (2 << 20) - 16)
        assert_int_equal(ifx_buf_putc(&doc, 'x'), IFX_OK);
    assert_int_equal(ifx_buf_puts(&doc, "\"\n"), IFX_OK);
    assert_int_equal(convert(doc.data, doc.len, &json, &err), IFX_OK);
    root = json_loads(json, 0, NULL);
    assert_non_null(root);
    assert_int_equal(json_object_size(root), 60001);
    json_decref(root);
    free(json);
    ifx_buf_free(&doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_valid),
        cmocka_unit_test(test_corpus_invalid),
        cmocka_unit_test(test_appends_to_buffer),
        cmocka_unit_test(test_out_unchanged_on_failure),
        cmocka_unit_test(test_full_with_small_cap),
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_offsets_and_columns),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_int64_boundaries),
        cmocka_unit_test(test_floats),
        cmocka_unit_test(test_float_locale),
        cmocka_unit_test(test_secrets_stay_out_of_messages),
        cmocka_unit_test(test_one_megabyte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
