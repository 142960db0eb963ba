/* Fuzz target: JSON validation, compaction and navigation, with cross-checks between them, and
 * the one-pass line-protocol encoder (fast and portable scanners) against validate, compact and
 * escape done one after the other. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "fuzz_check.h"

#define CAP (1 << 24)

/* The compact form by the simplest possible means: drop whitespace outside strings. Only
 * meaningful for valid input. */
static void reference_compact(const char *in, size_t len, ifx_buf *out)
{
    bool in_str = false;

    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (in_str) {
            if (c == '\\') {
                CHECK(ifx_buf_putc(out, c) == IFX_OK);
                c = in[++i];
            } else if (c == '"') {
                in_str = false;
            }
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            continue;
        } else if (c == '"') {
            in_str = true;
        }
        CHECK(ifx_buf_putc(out, c) == IFX_OK);
    }
}

static void check_string(const ifx_json_val *s, const ifx_json_val *obj)
{
    ifx_buf dec;
    ifx_err err;
    ifx_json_val found;

    CHECK(s->type == IFX_JSON_STRING && s->len >= 2);
    CHECK(s->p[0] == '"' && s->p[s->len - 1] == '"');
    CHECK(!!(s->flags & IFX_JSON_F_ESCAPED) == (memchr(s->p, '\\', s->len) != NULL));
    ifx_buf_init(&dec, CAP);
    CHECK(ifx_buf_puts(&dec, "@") == IFX_OK);
    ifx_err_clear(&err);
    CHECK(ifxi_json_string_decode(s, &dec, &err) == IFX_OK);
    CHECK(dec.len - 1 <= s->len - 2);
    CHECK(dec.data[dec.len] == '\0');
    /* Validation guarantees text: raw bytes are UTF-8 and escapes never make lone surrogates. */
    CHECK(ifxi_utf8_valid(dec.data + 1, dec.len - 1, NULL));
    if (!memchr(dec.data + 1, '\0', dec.len - 1)) {
        CHECK(ifxi_json_string_eq(s, dec.data + 1));
        if (obj)
            CHECK(ifxi_json_object_get(obj, dec.data + 1, &found));
    } else {
        CHECK(!ifxi_json_string_eq(s, dec.data + 1));
    }
    /* One byte more or less never matches. */
    if (dec.len > 1) {
        dec.data[dec.len - 1] = '\0';
        CHECK(!ifxi_json_string_eq(s, dec.data + 1));
    }
    ifx_buf_free(&dec);
}

static void check_number(const ifx_json_val *v)
{
    int64_t i = 0;
    uint64_t u = 0;
    double d = 0;
    size_t digits = v->len - !!(v->flags & IFX_JSON_F_NEG);
    bool frac = v->flags & IFX_JSON_F_FRAC;
    ifx_rc ri = ifxi_json_get_i64(v, &i, NULL);
    ifx_rc ru = ifxi_json_get_u64(v, &u, NULL);
    ifx_rc rd = ifxi_json_get_double(v, &d, NULL);

    CHECK(v->type == IFX_JSON_NUMBER && v->len > 0);
    CHECK(!!(v->flags & IFX_JSON_F_NEG) == (v->p[0] == '-'));
    CHECK(frac ==
          (memchr(v->p, '.', v->len) || memchr(v->p, 'e', v->len) || memchr(v->p, 'E', v->len)));
    if (frac) {
        CHECK(ri == IFX_E_INVALID && ru == IFX_E_INVALID);
    } else if (digits <= 18) {
        CHECK(ri == IFX_OK);
    }
    if (ri == IFX_OK && ru == IFX_OK)
        CHECK(i >= 0 && (uint64_t)i == u);
    if (ri == IFX_OK && i < 0)
        CHECK(ru == IFX_E_INVALID);
    /* Both round the same exact integer to nearest. */
    if (ri == IFX_OK)
        CHECK(rd == IFX_OK && d == (double)i);
    if (ru == IFX_OK)
        CHECK(rd == IFX_OK && d == (double)u);
    /* JSON has no leading zeros, so 21 digits are at least 10^20, past UINT64_MAX. */
    if (!frac && digits >= 21)
        CHECK(ri == IFX_E_INVALID && ru == IFX_E_INVALID);
}

/* Rebuilds the compact text from the iterators alone, checking every value on the way. */
static void walk(const ifx_json_val *v, ifx_buf *out, int depth)
{
    ifx_json_iter it;
    ifx_json_val k, e;
    bool first = true;

    CHECK(depth <= IFX_JSON_MAX_DEPTH);
    switch (v->type) {
    case IFX_JSON_OBJECT:
        CHECK(ifx_buf_putc(out, '{') == IFX_OK);
        ifxi_json_iter_init(&it, v);
        while (ifxi_json_object_next(&it, &k, &e)) {
            CHECK(k.p > v->p && e.p + e.len < v->p + v->len);
            if (!first)
                CHECK(ifx_buf_putc(out, ',') == IFX_OK);
            first = false;
            check_string(&k, v);
            CHECK(ifx_buf_append(out, k.p, k.len) == IFX_OK);
            CHECK(ifx_buf_putc(out, ':') == IFX_OK);
            walk(&e, out, depth + 1);
        }
        CHECK(ifx_buf_putc(out, '}') == IFX_OK);
        return;
    case IFX_JSON_ARRAY:
        CHECK(ifx_buf_putc(out, '[') == IFX_OK);
        ifxi_json_iter_init(&it, v);
        while (ifxi_json_array_next(&it, &e)) {
            CHECK(e.p > v->p && e.p + e.len < v->p + v->len);
            if (!first)
                CHECK(ifx_buf_putc(out, ',') == IFX_OK);
            first = false;
            walk(&e, out, depth + 1);
        }
        CHECK(ifx_buf_putc(out, ']') == IFX_OK);
        return;
    case IFX_JSON_STRING:
        check_string(v, NULL);
        break;
    case IFX_JSON_NUMBER:
        check_number(v);
        break;
    case IFX_JSON_TRUE:
        CHECK(v->len == 4 && memcmp(v->p, "true", 4) == 0);
        break;
    case IFX_JSON_FALSE:
        CHECK(v->len == 5 && memcmp(v->p, "false", 5) == 0);
        break;
    case IFX_JSON_NULL:
        CHECK(v->len == 4 && memcmp(v->p, "null", 4) == 0);
        break;
    case IFX_JSON_NONE:
        CHECK(!"a NONE value inside valid JSON");
    }
    CHECK(ifx_buf_append(out, v->p, v->len) == IFX_OK);
}

/* The navigation functions on text that was never validated: they may return nonsense, but must
 * stay inside the span (AddressSanitizer checks that) and always make progress. */
static void walk_untrusted(const ifx_json_val *v, int depth)
{
    ifx_json_iter it;
    ifx_json_val k, e;
    ifx_buf dec;
    int64_t i;
    uint64_t u;
    double d;

    if (depth > 32)
        return;
    ifx_buf_init(&dec, CAP);
    if (v->type == IFX_JSON_OBJECT) {
        ifxi_json_object_get(v, "a", &e);
        ifxi_json_iter_init(&it, v);
        while (ifxi_json_object_next(&it, &k, &e)) {
            CHECK(k.p >= v->p && e.p + e.len <= v->p + v->len);
            walk_untrusted(&k, depth + 1);
            walk_untrusted(&e, depth + 1);
        }
    }
    if (v->type == IFX_JSON_OBJECT || v->type == IFX_JSON_ARRAY) {
        /* An array iterator over an object's text must be just as bounded. */
        ifx_json_iter it2 = {v->p + 1, v->p + v->len - 1};
        while (ifxi_json_array_next(&it2, &e)) {
            CHECK(e.p >= v->p && e.p + e.len <= v->p + v->len);
            walk_untrusted(&e, depth + 1);
        }
    } else if (v->type == IFX_JSON_STRING) {
        ifxi_json_string_eq(v, "a");
        if (ifxi_json_string_decode(v, &dec, NULL) == IFX_OK)
            CHECK(dec.len <= v->len);
        else
            CHECK(dec.len == 0);
    } else if (v->type == IFX_JSON_NUMBER) {
        ifxi_json_get_i64(v, &i, NULL);
        ifxi_json_get_u64(v, &u, NULL);
        ifxi_json_get_double(v, &d, NULL);
    }
    ifx_buf_free(&dec);
}

/* ifxi_json_compact_lp, with either scanner, is ifxi_json_compact followed by escaping '"' and
 * '\\' inside quotes: same result, same error and offset, same bytes, and an output buffer that
 * holds exactly the result is enough. */
static void check_lp(const char *in, size_t size)
{
    ifx_buf compact, want, fast, port, capped;
    ifx_err ec, ef, ep;
    size_t cf = 0, cp = 0;
    ifx_rc rc, rf, rp;

    ifx_buf_init(&compact, CAP);
    ifx_buf_init(&want, CAP);
    ifx_buf_init(&fast, CAP);
    ifx_buf_init(&port, CAP);
    ifx_err_clear(&ec);
    ifx_err_clear(&ef);
    ifx_err_clear(&ep);
    CHECK(ifx_buf_puts(&fast, "f=") == IFX_OK);
    CHECK(ifx_buf_puts(&port, "f=") == IFX_OK);
    CHECK(ifx_buf_puts(&want, "f=") == IFX_OK);
    rc = ifxi_json_compact(in, size, &compact, &ec);
    rf = ifxi_json_compact_lp(in, size, &fast, &cf, &ef);
    rp = ifxi_json_compact_lp_portable(in, size, &port, &cp, &ep);
    CHECK(rf == rc && rp == rc);
    CHECK(strcmp(ef.msg, ec.msg) == 0 && strcmp(ep.msg, ec.msg) == 0);
    CHECK(ef.offset == ec.offset && ep.offset == ec.offset);
    if (rc != IFX_OK) {
        CHECK(fast.len == 2 && port.len == 2 && fast.data[2] == '\0' && port.data[2] == '\0');
        goto out;
    }
    CHECK(ifx_buf_putc(&want, '"') == IFX_OK);
    for (size_t i = 0; i < compact.len; i++) {
        if (compact.data[i] == '"' || compact.data[i] == '\\')
            CHECK(ifx_buf_putc(&want, '\\') == IFX_OK);
        CHECK(ifx_buf_putc(&want, compact.data[i]) == IFX_OK);
    }
    CHECK(ifx_buf_putc(&want, '"') == IFX_OK);
    CHECK(cf == compact.len && cp == compact.len);
    CHECK(fast.len == want.len && memcmp(fast.data, want.data, want.len + 1) == 0);
    CHECK(port.len == want.len && memcmp(port.data, want.data, want.len + 1) == 0);
    /* Exactly enough room (the encoder measures first), then one byte less. */
    ifx_buf_init(&capped, want.len - 2);
    CHECK(ifxi_json_compact_lp(in, size, &capped, NULL, &ef) == IFX_OK);
    CHECK(capped.len == want.len - 2 && memcmp(capped.data, want.data + 2, capped.len) == 0);
    ifx_buf_free(&capped);
    ifx_buf_init(&capped, want.len - 3);
    CHECK(ifxi_json_compact_lp(in, size, &capped, NULL, &ef) == IFX_E_FULL);
    CHECK(capped.len == 0);
    ifx_buf_free(&capped);
out:
    /* The fast path alone takes exactly the valid inputs and writes the same. */
    for (int portable = 0; portable < 2; portable++) {
        ifx_buf only;
        size_t co = 0;
        ifx_buf_init(&only, CAP);
        CHECK(ifx_buf_puts(&only, "f=") == IFX_OK);
        ifx_rc ro = ifxi_json_compact_lp_fast_only(in, size, &only, &co, portable);
        if (ro != IFX_E_FULL && ro != IFX_E_NOMEM) {
            CHECK(ro == (rc == IFX_OK ? IFX_OK : IFX_E_INVALID));
            if (rc == IFX_OK)
                CHECK(co == compact.len && only.len == want.len &&
                      memcmp(only.data, want.data, want.len + 1) == 0);
            else
                CHECK(only.len == 2 && only.data[2] == '\0');
        }
        ifx_buf_free(&only);
    }
    ifx_buf_free(&compact);
    ifx_buf_free(&want);
    ifx_buf_free(&fast);
    ifx_buf_free(&port);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    ifx_buf c1, c2, ref, rebuilt, capped;
    ifx_err e1, e2, e3;
    ifx_json_val root, root2;
    ifx_rc r1, r2, r3;

    ifx_buf_init(&c1, CAP);
    ifx_buf_init(&c2, CAP);
    ifx_buf_init(&ref, CAP);
    ifx_buf_init(&rebuilt, CAP);

    CHECK(ifx_buf_puts(&c1, "prefix") == IFX_OK);
    ifx_err_clear(&e1);
    ifx_err_clear(&e2);
    ifx_err_clear(&e3);
    if (size >= 1) {
        ifx_json_val raw = {IFX_JSON_NONE, 0, in, size};
        raw.type = in[0] == '{'   ? IFX_JSON_OBJECT
                   : in[0] == '[' ? IFX_JSON_ARRAY
                   : in[0] == '"' ? IFX_JSON_STRING
                                  : IFX_JSON_NUMBER;
        walk_untrusted(&raw, 0);
    }

    check_lp(in, size);
    r1 = ifxi_json_compact(in, size, &c1, &e1);
    r2 = ifxi_json_parse(in, size, &root, &e2);
    r3 = ifxi_json_compact(in, size, NULL, &e3);
    /* One scanner: the three agree on everything. */
    CHECK(r1 == r2 && r2 == r3);
    if (r1 != IFX_OK) {
        CHECK(r1 == IFX_E_INVALID);
        CHECK(e1.offset <= size && e1.offset == e2.offset && e2.offset == e3.offset);
        CHECK(strcmp(e1.msg, e2.msg) == 0 && strcmp(e2.msg, e3.msg) == 0);
        CHECK(strncmp(e1.msg, "invalid JSON at byte ", 21) == 0);
        CHECK(c1.len == 6 && memcmp(c1.data, "prefix", 7) == 0);
        CHECK(root.type == IFX_JSON_NONE);
        goto out;
    }
    CHECK(c1.data[c1.len] == '\0');
    CHECK(c1.len - 6 <= size);

    /* Compact output is valid, and already compact. */
    CHECK(ifxi_json_compact(c1.data + 6, c1.len - 6, &c2, &e1) == IFX_OK);
    CHECK(c2.len == c1.len - 6 && memcmp(c2.data, c1.data + 6, c2.len) == 0);
    reference_compact(in, size, &ref);
    CHECK(ref.len == c2.len && memcmp(ref.data, c2.data, ref.len) == 0);

    /* The top-level value spans the input minus surrounding whitespace. */
    CHECK(root.p >= in && root.p + root.len <= in + size && root.len > 0);
    CHECK(ifxi_json_parse(root.p, root.len, &root2, &e1) == IFX_OK);
    CHECK(root2.type == root.type && root2.flags == root.flags && root2.len == root.len);

    /* Iteration sees exactly what compaction kept. */
    walk(&root, &rebuilt, 0);
    CHECK(rebuilt.len == c2.len && memcmp(rebuilt.data, c2.data, c2.len) == 0);

    /* A buffer too small for the input but big enough for its compact form still works; one byte
     * less is IFX_E_FULL with nothing written. */
    if (c2.len < size) {
        ifx_buf_init(&capped, c2.len);
        CHECK(ifxi_json_compact(in, size, &capped, &e1) == IFX_OK);
        CHECK(capped.len == c2.len && memcmp(capped.data, c2.data, c2.len) == 0);
        ifx_buf_free(&capped);
        ifx_buf_init(&capped, c2.len - 1);
        CHECK(ifxi_json_compact(in, size, &capped, &e1) == IFX_E_FULL);
        CHECK(capped.len == 0);
        ifx_buf_free(&capped);
    }
out:
    ifx_buf_free(&c1);
    ifx_buf_free(&c2);
    ifx_buf_free(&ref);
    ifx_buf_free(&rebuilt);
    return 0;
}
