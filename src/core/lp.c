/* ifx — line protocol builder (see include/ifx/lp.h and ../shared/spec/line-protocol.md §6).
 *
 * A line is assembled in private buffers (measurement, tags, fields) and copied into the batch
 * only when it is complete and valid, so a refused element never leaves half a line behind and
 * tags can be sorted whatever order they were added in.
 *
 * Why one file of this size: the encoder's fast paths (plain names and tag values copied after one
 * 16-byte scan, begin_field's usual case, integers and message ids written in place, the saved
 * line prefix) sit beside the checked paths they hand everything unusual to, and must give the
 * same bytes and the same refusals; they share the element rules, the escaping and the private
 * buffers of the open line. The integer formatters are here because the line is where integers
 * are written on the hot path.
 */
#include "ifx/lp.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/lp_internal.h"
#include "core/scan16.h"
#include "core/utf8_internal.h"
#include "ifx/message.h"

struct ifx_lp_tag {
    size_t koff, klen; /* escaped key in tagtext */
    size_t voff, vlen; /* escaped value in tagtext */
};

struct ifx_lp_key {
    size_t off, len; /* escaped field key in fields */
};

/* Which element is being escaped: decides the characters that need a backslash. */
typedef enum { EL_MEASUREMENT, EL_TAG_KEY, EL_TAG_VALUE, EL_FIELD_KEY } element;

static const char *element_name(element el)
{
    switch (el) {
    case EL_MEASUREMENT:
        return "measurement";
    case EL_TAG_KEY:
        return "tag key";
    case EL_TAG_VALUE:
        return "tag value";
    case EL_FIELD_KEY:
        break;
    }
    return "field key";
}

/* How much of a name or value an error message shows. */
#define SHOWN      48
#define SHOWN_SIZE IFX_EXCERPT_SIZE(SHOWN)

static const char *shown(const char *s, size_t len, char out[SHOWN_SIZE])
{
    return ifx_excerpt(s, len, SHOWN, out);
}

/* The number of decimal digits of v >= 10: from the bit length (log10(2) ~ 1233 / 4096), then
 * one comparison, instead of a loop whose exit the branch predictor cannot guess. */
static inline size_t decimal_digits(uint64_t v)
{
    static const uint64_t pow10[20] = {1ull,
                                       10ull,
                                       100ull,
                                       1000ull,
                                       10000ull,
                                       100000ull,
                                       1000000ull,
                                       10000000ull,
                                       100000000ull,
                                       1000000000ull,
                                       10000000000ull,
                                       100000000000ull,
                                       1000000000000ull,
                                       10000000000000ull,
                                       100000000000000ull,
                                       1000000000000000ull,
                                       10000000000000000ull,
                                       100000000000000000ull,
                                       1000000000000000000ull,
                                       10000000000000000000ull};
    unsigned t = (unsigned)(64 - __builtin_clzll(v)) * 1233u >> 12;
    return t + 1 - (v < pow10[t]);
}

/* Exactly eight digits of v < 10^8, leading zeros included, as the little-endian word of their
 * ASCII: the number is split into halves, quarters and digits in parallel lanes of one 64-bit
 * word, each division by a constant done as a multiplication and a shift that is exact below the
 * lane's bound (n * 10486 >> 20 is n / 100 for n < 10^4, n * 103 >> 10 is n / 10 for n < 100).
 * No table, no loop, no branch. */
static inline uint64_t eight_digits(uint32_t v)
{
    uint64_t x = (uint64_t)(v / 10000) | (uint64_t)(v % 10000) << 32; /* two lanes < 10^4 */
    uint64_t h = (x * 10486 >> 20) & 0x0000007F0000007Full;
    x = h | (x - h * 100) << 16; /* four lanes < 100 */
    h = (x * 103 >> 10) & 0x000F000F000F000Full;
    x = h | (x - h * 10) << 8; /* eight lanes < 10 */
    return x + 0x3030303030303030ull;
}

/* Stores the word of eight_digits(v) at p (8 bytes) keeping its last n digits (1 <= n <= 8)
 * first: p[0..n) is v in n digits, p[n..8) is overwritten by the caller's next digits. */
static inline void put_last(char *p, uint32_t v, size_t n)
{
    uint64_t w = eight_digits(v) >> (8 * (8 - n));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    memcpy(p, &w, 8);
}

/* The vector digits need SSE2 and 64-bit words (x86-64); 32-bit x86 and every other machine use
 * the word lanes. */
#if defined(IFXI_SCAN16_SSE2) && defined(__x86_64__) && defined(__SIZEOF_INT128__)
#define LP_DIGITS_SSE2 1
#endif

#ifndef LP_DIGITS_SSE2
static inline void put8(char *p, uint32_t v)
{
    put_last(p, v, 8);
}
#else
/* Exactly sixteen digits of v < 10^16, leading zeros included, as the bytes of one vector: four
 * groups of four digits split by scalar multiplications, then the digits of all four groups at
 * once in 16-bit lanes. g / 1000, g / 100 and g / 10 are one multiplication each, keeping the
 * high half (exact for g < 10^4, checked for every g), and a digit is the difference of two
 * quotients: g / 100 - 10 * (g / 1000) and so on. Half the instructions of two eight_digits,
 * and shorter chains. */
static inline __m128i sixteen_digits(uint64_t v)
{
    uint32_t hi = (uint32_t)(v / 100000000), lo = (uint32_t)(v - (uint64_t)hi * 100000000);
    uint32_t a = hi / 10000, b = hi - a * 10000, c = lo / 10000, d = lo - c * 10000;
    __m128i g = _mm_setr_epi16((short)a, (short)b, (short)c, (short)d, 0, 0, 0, 0);
    __m128i ten = _mm_set1_epi16(10);
    __m128i q1000 = _mm_srli_epi16(_mm_mulhi_epu16(g, _mm_set1_epi16(8389)), 7);
    __m128i q100 = _mm_srli_epi16(_mm_mulhi_epu16(g, _mm_set1_epi16(5243)), 3);
    __m128i q10 = _mm_mulhi_epu16(g, _mm_set1_epi16(6554));
    __m128i d1 = _mm_sub_epi16(q100, _mm_mullo_epi16(q1000, ten));
    __m128i d2 = _mm_sub_epi16(q10, _mm_mullo_epi16(q100, ten));
    __m128i d3 = _mm_sub_epi16(g, _mm_mullo_epi16(q10, ten));
    __m128i x01 = _mm_unpacklo_epi16(q1000, d1); /* the first two digits of each group */
    __m128i x23 = _mm_unpacklo_epi16(d2, d3);    /* the last two */
    __m128i ab = _mm_unpacklo_epi32(x01, x23), cd = _mm_unpackhi_epi32(x01, x23);
    return _mm_add_epi8(_mm_packus_epi16(ab, cd), _mm_set1_epi8('0'));
}

static inline void put16(char *p, uint64_t v)
{
    _mm_storeu_si128((__m128i *)(void *)p, sixteen_digits(v));
}
#endif

/* The digits go out in chunks, the first chunk as long as needed, each a word or vector store;
 * out needs max(n, 16) bytes, which IFXI_LP_DECIMAL_MAX covers. */
size_t ifxi_lp_format_u64(uint64_t v, char *out)
{
    size_t n;

    if (v < 10) {
        out[0] = (char)('0' + v);
        return 1;
    }
    n = decimal_digits(v);
    if (n <= 8) {
        put_last(out, (uint32_t)v, n);
#ifdef LP_DIGITS_SSE2
    } else if (n <= 16) {
        /* sixteen digits, less their 16 - n leading zeros: one 128-bit shift of the two words */
        __m128i x = sixteen_digits(v);
        unsigned __int128 all =
            (unsigned __int128)(uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(x, x)) << 64 |
            (uint64_t)_mm_cvtsi128_si64(x);
        uint64_t w0, w1;
        all >>= 8 * (16 - n);
        w0 = (uint64_t)all;
        w1 = (uint64_t)(all >> 64);
        memcpy(out, &w0, 8);
        memcpy(out + 8, &w1, 8);
    } else {
        uint64_t top = v / 10000000000000000ull;
        put_last(out, (uint32_t)top, n - 16);
        put16(out + n - 16, v - top * 10000000000000000ull);
    }
#else
    } else if (n <= 16) {
        uint64_t hi = v / 100000000;
        put_last(out, (uint32_t)hi, n - 8);
        put8(out + n - 8, (uint32_t)(v - hi * 100000000));
    } else {
        uint64_t top = v / 10000000000000000ull, rest = v - top * 10000000000000000ull;
        uint64_t hi = rest / 100000000;
        put_last(out, (uint32_t)top, n - 16);
        put8(out + n - 16, (uint32_t)hi);
        put8(out + n - 8, (uint32_t)(rest - hi * 100000000));
    }
#endif
    return n;
}

/* Exactly 19 digits of v < 10^19, leading zeros included. */
static inline void put19(char *p, uint64_t v)
{
    uint64_t top = v / 10000000000000000ull, rest = v - top * 10000000000000000ull;
    put_last(p, (uint32_t)top, 3);
#ifdef LP_DIGITS_SSE2
    put16(p + 3, rest);
#else
    uint64_t hi = rest / 100000000;
    put8(p + 3, (uint32_t)hi);
    put8(p + 11, (uint32_t)(rest - hi * 100000000));
#endif
}

size_t ifxi_lp_format_u128(uint64_t hi, uint64_t lo, char *out)
{
#ifdef __SIZEOF_INT128__
    const uint64_t e19 = 10000000000000000000ull;
    unsigned __int128 v = (unsigned __int128)hi << 64 | lo, q;
    size_t n;

    if (!hi)
        return ifxi_lp_format_u64(lo, out);
    /* Two or three chunks of 19 digits: one or two 128-bit divisions instead of one per digit. */
    q = v / e19;
    if (q >> 64) {
        uint64_t top = (uint64_t)(q / e19); /* at most 3 */
        out[0] = (char)('0' + top);
        put19(out + 1, (uint64_t)(q % e19));
        n = 20;
    } else {
        n = ifxi_lp_format_u64((uint64_t)q, out);
    }
    put19(out + n, (uint64_t)(v % e19));
    return n + 19;
#else
    ifx_u128 v = {hi, lo};
    return ifx_u128_format(v, out);
#endif
}

static size_t format_i64(int64_t v, char *out)
{
    if (v < 0) {
        out[0] = '-';
        return 1 + ifxi_lp_format_u64((uint64_t)0 - (uint64_t)v, out + 1);
    }
    return ifxi_lp_format_u64((uint64_t)v, out);
}

/* memcmp for the short keys of a line, which mostly differ in their first bytes: inline, no call
 * unless the first eight agree. */
static inline int bytes_cmp(const char *a, const char *b, size_t n)
{
    size_t i = 0;

    for (; i < n && i < 8; i++)
        if (a[i] != b[i])
            return (unsigned char)a[i] < (unsigned char)b[i] ? -1 : 1;
    return i < n ? memcmp(a + i, b + i, n - i) : 0;
}

/* ifx_buf_reserve and ifx_buf_append (same results), with the common case, room already there,
 * decided here without a call: a line makes a dozen of them. */
static inline ifx_rc reserve(ifx_buf *b, size_t extra)
{
    if (extra <= b->cap && b->len <= b->cap - extra && b->alloc - b->len > extra && b->data)
        return IFX_OK;
    return ifx_buf_reserve(b, extra);
}

static inline ifx_rc append(ifx_buf *b, const char *p, size_t n)
{
    ifx_rc rc = reserve(b, n);
    if (rc)
        return rc;
    ifxi_copy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return IFX_OK;
}

static ifx_rc buf_fail(ifx_rc rc, ifx_err *err)
{
    if (rc == IFX_E_NOMEM)
        return ifx_err_set(err, rc, "out of memory while building a line");
    return ifx_err_set(err, rc, "line protocol buffer limit reached");
}

static inline unsigned name_tail(const unsigned char *p, size_t n)
{
    IFXI_SCAN_TAIL(ifxi_scan_name_word, p, n);
}

/* True when s[0..len) is not empty, within the size limit, and holds none of the bytes a name or
 * tag value is checked or escaped for: control bytes, '\\', ',', ' ', '=' and bytes >= 0x80.
 * Such an element passes check_element for every target and kind (a measurement's leading '#'
 * aside) and is written unchanged. That is the common case, so it costs one 16-byte scan instead
 * of a check and an escaping pass. */
static inline bool plain(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    if (len == 0 || len > IFX_LP_MAX_ELEMENT)
        return false;
    for (; len - i >= 16; i += 16)
        if (ifxi_scan16_name(p + i) < 16)
            return false;
    return i == len || name_tail(p + i, len - i) == len - i;
}

/* Checks the rules every name and tag value shares (line-protocol.md §2): length, UTF-8,
 * TAB/CR/LF, and in portable mode the backslash sequences that v3 and 1.x/2.x read differently.
 * `owner` (the tag key a value belongs to, or NULL) is rendered only when there is an error. */
static ifx_rc check_element(ifx_version target, element el, const char *s, size_t len,
                            const char *owner_key, size_t owner_len, ifx_err *err)
{
    char a[SHOWN_SIZE], b[SHOWN_SIZE];
    size_t bad;
#define OWNER (owner_key ? " of " : ""), (owner_key ? shown(owner_key, owner_len, b) : "")

    if (len == 0)
        return ifx_err_set(err, IFX_E_INVALID, "%s must not be empty", element_name(el));
    if (len > IFX_LP_MAX_ELEMENT)
        return ifx_err_set(err, IFX_E_INVALID, "%s \"%s\" is %zu bytes, over the limit of %d",
                           element_name(el), shown(s, len, a), len, IFX_LP_MAX_ELEMENT);
    if (!ifxi_utf8_valid(s, len, &bad))
        return ifx_err_set(err, IFX_E_INVALID, "%s%s%s is not valid UTF-8 (bad byte at offset %zu)",
                           element_name(el), OWNER, bad);
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\t' || c == '\r' || c == '\n')
            return ifx_err_set(err, IFX_E_INVALID,
                               "%s \"%s\"%s%s contains a %s, which line protocol cannot carry in "
                               "a %s",
                               element_name(el), shown(s, len, a), OWNER,
                               c == '\t'   ? "TAB"
                               : c == '\r' ? "carriage return"
                                           : "line feed",
                               element_name(el));
        /* 1.x/2.x unescape a measurement and a field key with the line-protocol escape table,
         * which also holds '"' (a real 1.x stores the key \"a as "a); v3 keeps \" as is. */
        if (c == '\\' && target != IFX_VERSION_V3 && i + 1 < len) {
            char next = s[i + 1];
            if (next == '\\' || next == ',' || next == '=' || next == ' ' ||
                (next == '"' && el != EL_TAG_KEY && el != EL_TAG_VALUE))
                return ifx_err_set(
                    err, IFX_E_UNSUPPORTED,
                    "%s \"%s\"%s%s has a backslash before %s, which InfluxDB %s and 3.x read "
                    "differently; such a value can only be written to v3",
                    element_name(el), shown(s, len, a), OWNER,
                    el == EL_TAG_KEY || el == EL_TAG_VALUE ? "a space, ',', '=' or '\\'"
                                                           : "a space, ',', '=', '\"' or '\\'",
                    target == IFX_VERSION_V1 ? "1.x" : "2.x");
        }
    }
    /* No server can hold a trailing backslash (§2, §6.2): v3 unescapes "\\" and then refuses
     * the element ("Measurements, tag keys and values, and field keys may not end with a
     * backslash"); 1.x/2.x read a raw one as escaping the separator that follows. */
    if (s[len - 1] == '\\')
        return ifx_err_set(err, IFX_E_UNSUPPORTED,
                           "%s \"%s\"%s%s ends with a backslash, which InfluxDB cannot store: 3.x "
                           "refuses it however it is escaped, 1.x and 2.x misread it",
                           element_name(el), shown(s, len, a), OWNER);
    /* v3's parser ends a measurement at a NUL byte (keys and values may hold one), so the rest
     * of the line would be misread or refused. */
    if (el == EL_MEASUREMENT && target == IFX_VERSION_V3 && memchr(s, '\0', len))
        return ifx_err_set(err, IFX_E_UNSUPPORTED,
                           "measurement \"%s\" contains a NUL byte, which InfluxDB 3 cannot store "
                           "in a measurement",
                           shown(s, len, a));
    /* 1.x/2.x skip NUL bytes where a line or its field set begins (a real 1.x stores the
     * measurement \0m as m), so a measurement or field key must not start with one. */
    if (target != IFX_VERSION_V3 && s[0] == '\0' && (el == EL_MEASUREMENT || el == EL_FIELD_KEY))
        return ifx_err_set(
            err, IFX_E_UNSUPPORTED, "%s \"%s\" starts with a NUL byte, which InfluxDB %s skips",
            element_name(el), shown(s, len, a), target == IFX_VERSION_V1 ? "1.x" : "2.x");
    if (el == EL_MEASUREMENT && s[0] == '#')
        return ifx_err_set(err, IFX_E_INVALID,
                           "measurement \"%s\" starts with '#', which makes the line a comment",
                           shown(s, len, a));
#undef OWNER
    return IFX_OK;
}

/* Appends s escaped for element el. Room for the worst case (every byte escaped) is reserved
 * first, so the loop writes straight into the buffer; unescaped runs are copied whole. */
static bool needs_escape(element el, ifx_version target, char c)
{
    return c == ',' || c == ' ' || (c == '=' && el != EL_MEASUREMENT) ||
           (c == '\\' && target == IFX_VERSION_V3);
}

/* Reserves room for len bytes plus their escapes: the worst case (2 * len) when the cap allows,
 * else the exact count, so that a buffer near its cap is not reported full too early. */
static ifx_rc reserve_escaped(ifx_buf *out, const char *s, size_t len, element el,
                              ifx_version target, bool in_string)
{
    size_t extra = 0;
    ifx_rc rc = ifx_buf_reserve(out, 2 * len + 2);
    if (rc != IFX_E_FULL)
        return rc;
    for (size_t i = 0; i < len; i++)
        extra += in_string ? (s[i] == '"' || s[i] == '\\') : needs_escape(el, target, s[i]);
    return ifx_buf_reserve(out, len + extra + 2);
}

static ifx_rc append_escaped(ifx_buf *out, ifx_version target, element el, const char *s,
                             size_t len)
{
    ifx_rc rc = reserve_escaped(out, s, len, el, target, false);
    char *w;
    size_t run = 0;

    if (rc)
        return rc;
    w = out->data + out->len;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!needs_escape(el, target, c))
            continue;
        memcpy(w, s + run, i - run);
        w += i - run;
        *w++ = '\\';
        *w++ = c;
        run = i + 1;
    }
    memcpy(w, s + run, len - run);
    w += len - run;
    out->len = (size_t)(w - out->data);
    out->data[out->len] = '\0';
    return IFX_OK;
}

void ifx_lp_init(ifx_lp *lp, ifx_version target, ifx_precision precision, size_t batch_cap)
{
    memset(lp, 0, sizeof *lp);
    lp->target = target == IFX_VERSION_AUTO ? IFX_VERSION_V2 : target;
    lp->precision = precision;
    ifx_buf_init(&lp->batch, batch_cap);
    /* A line can never be larger than the batch, so the same cap bounds each part of it. */
    ifx_buf_init(&lp->measurement, batch_cap);
    ifx_buf_init(&lp->tagtext, batch_cap);
    ifx_buf_init(&lp->fields, batch_cap);
}

void ifx_lp_free(ifx_lp *lp)
{
    ifx_buf_free(&lp->batch);
    ifx_buf_free(&lp->measurement);
    ifx_buf_free(&lp->tagtext);
    ifx_buf_free(&lp->fields);
    free(lp->tags);
    free(lp->fkeys);
    lp->tags = NULL;
    lp->fkeys = NULL;
    lp->ntags = lp->tags_alloc = lp->nfields = lp->fkeys_alloc = 0;
    lp->lines = 0;
    lp->open = false;
}

/* ifx_buf_reset, without a call: every line resets four buffers twice. */
static inline void reset(ifx_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void ifx_lp_abort_line(ifx_lp *lp)
{
    lp->open = false;
    reset(&lp->measurement);
    reset(&lp->tagtext);
    reset(&lp->fields);
    lp->ntags = 0;
    lp->nfields = 0;
}

void ifx_lp_clear_batch(ifx_lp *lp)
{
    ifx_buf_reset(&lp->batch);
    lp->lines = 0;
}

void ifx_lp_reset(ifx_lp *lp)
{
    ifx_lp_abort_line(lp);
    ifx_lp_clear_batch(lp);
}

ifx_rc ifx_lp_check_measurement(ifx_version target, const char *name, size_t len, ifx_err *err)
{
    return check_element(target == IFX_VERSION_AUTO ? IFX_VERSION_V2 : target, EL_MEASUREMENT, name,
                         len, NULL, 0, err);
}

ifx_rc ifx_lp_begin_line(ifx_lp *lp, const char *name, size_t len, ifx_err *err)
{
    ifx_rc rc;
    ifx_lp_abort_line(lp);
    if (plain(name, len) && name[0] != '#') {
        rc = append(&lp->measurement, name, len);
    } else {
        rc = check_element(lp->target, EL_MEASUREMENT, name, len, NULL, 0, err);
        if (rc)
            return rc;
        rc = append_escaped(&lp->measurement, lp->target, EL_MEASUREMENT, name, len);
    }
    if (rc) {
        ifx_lp_abort_line(lp);
        return buf_fail(rc, err);
    }
    lp->open = true;
    return IFX_OK;
}

void ifxi_lp_prefix_init(ifx_lp_prefix *p)
{
    memset(p, 0, sizeof *p);
    ifx_buf_init(&p->measurement, (size_t)1 << 30);
    ifx_buf_init(&p->tagtext, (size_t)1 << 30);
    ifx_buf_init(&p->text, (size_t)1 << 30);
}

void ifxi_lp_prefix_free(ifx_lp_prefix *p)
{
    ifx_buf_free(&p->measurement);
    ifx_buf_free(&p->tagtext);
    ifx_buf_free(&p->text);
    free(p->tags);
    p->tags = NULL;
    p->ntags = p->tags_alloc = 0;
    p->saved = false;
}

/* Copies n tags into *to (growing it, with its capacity in *alloc). */
static ifx_rc copy_tags(struct ifx_lp_tag **to, size_t *alloc, const struct ifx_lp_tag *from,
                        size_t n)
{
    if (n > *alloc) {
        size_t want = n < 16 ? 16 : n;
        struct ifx_lp_tag *p = realloc(*to, want * sizeof *p);
        if (!p)
            return IFX_E_NOMEM;
        *to = p;
        *alloc = want;
    }
    if (n)
        memcpy(*to, from, n * sizeof *from);
    return IFX_OK;
}

ifx_rc ifxi_lp_prefix_save(const ifx_lp *lp, ifx_lp_prefix *p)
{
    ifx_rc rc;

    p->saved = false;
    if (!lp->open || lp->nfields)
        return IFX_E_USAGE;
    reset(&p->measurement);
    reset(&p->tagtext);
    if ((rc = append(&p->measurement, lp->measurement.data, lp->measurement.len)) ||
        (rc = append(&p->tagtext, lp->tagtext.data ? lp->tagtext.data : "", lp->tagtext.len)) ||
        (rc = copy_tags(&p->tags, &p->tags_alloc, lp->tags, lp->ntags)))
        return rc;
    p->ntags = lp->ntags;
    /* The text ifx_lp_end_line writes before the fields. */
    reset(&p->text);
    if ((rc = append(&p->text, lp->measurement.data, lp->measurement.len)))
        return rc;
    for (size_t i = 0; i < lp->ntags; i++) {
        const struct ifx_lp_tag *t = &lp->tags[i];
        if ((rc = append(&p->text, ",", 1)) ||
            (rc = append(&p->text, lp->tagtext.data + t->koff, t->klen)) ||
            (rc = append(&p->text, "=", 1)) ||
            (rc = append(&p->text, lp->tagtext.data + t->voff, t->vlen)))
            return rc;
    }
    p->saved = true;
    return IFX_OK;
}

/* Where a tag whose escaped key is key[0..klen) goes among tags[0..ntags) (sorted by escaped
 * key bytes, their keys in text), and in *dup whether one of them has that key already. */
static size_t tag_slot(const struct ifx_lp_tag *tags, size_t ntags, const char *text,
                       const char *key, size_t klen, bool *dup)
{
    *dup = false;
    for (size_t i = 0; i < ntags; i++) {
        const struct ifx_lp_tag *o = &tags[i];
        size_t n = o->klen < klen ? o->klen : klen;
        int c = bytes_cmp(text + o->koff, key, n);
        if (c == 0 && o->klen == klen) {
            *dup = true;
            return i;
        }
        if (c > 0 || (c == 0 && o->klen > klen))
            return i;
    }
    return ntags;
}

bool ifxi_lp_prefix_tag_at(const ifx_lp_prefix *p, const char *key, size_t klen, size_t *at)
{
    size_t pos = p->measurement.len, slot;
    bool dup;

    if (!p->saved || !plain(key, klen) || (klen == 4 && memcmp(key, "time", 4) == 0))
        return false;
    /* where ifx_lp_add_tag would insert it among the saved tags */
    slot = tag_slot(p->tags, p->ntags, p->tagtext.data, key, klen, &dup);
    if (dup)
        return false;
    for (size_t i = 0; i < slot; i++)
        pos += 2 + p->tags[i].klen + p->tags[i].vlen;
    *at = pos;
    return true;
}

ifx_rc ifxi_lp_begin_line_prefix(ifx_lp *lp, const ifx_lp_prefix *p, ifx_err *err)
{
    ifx_rc rc;

    ifx_lp_abort_line(lp);
    if (!p->saved)
        return ifx_err_set(err, IFX_E_USAGE, "the line prefix was not saved");
    if ((rc = append(&lp->measurement, p->measurement.data, p->measurement.len)) ||
        (rc = append(&lp->tagtext, p->tagtext.data ? p->tagtext.data : "", p->tagtext.len)) ||
        (rc = copy_tags(&lp->tags, &lp->tags_alloc, p->tags, p->ntags))) {
        ifx_lp_abort_line(lp);
        return buf_fail(rc, err);
    }
    lp->ntags = p->ntags;
    lp->open = true;
    return IFX_OK;
}

static ifx_rc need_open(ifx_lp *lp, ifx_err *err)
{
    if (!lp->open)
        return ifx_err_set(err, IFX_E_USAGE, "no line is open: call ifx_lp_begin_line first");
    return IFX_OK;
}

/* Discards the open line and passes rc through: every refusal ends the line. */
static ifx_rc fail_line(ifx_lp *lp, ifx_rc rc)
{
    ifx_lp_abort_line(lp);
    return rc;
}

/* A NUL-terminated copy of a key for messages; keys longer than the buffer are cut. */
static const char *key_text(const char *k, size_t klen, char out[SHOWN_SIZE])
{
    return shown(k, klen, out);
}

ifx_rc ifx_lp_add_tag(ifx_lp *lp, const char *key, size_t klen, const char *val, size_t vlen,
                      ifx_err *err)
{
    char a[SHOWN_SIZE];
    struct ifx_lp_tag t;
    size_t start, pos;
    ifx_rc rc;

    if ((rc = need_open(lp, err)))
        return rc;
    start = lp->tagtext.len;
    if (plain(key, klen) && plain(val, vlen)) {
        /* Nothing to check or escape: key and value go in with one reservation. */
        if (klen == 4 && memcmp(key, "time", 4) == 0)
            return fail_line(
                lp, ifx_err_set(err, IFX_E_INVALID, "tag key \"time\" is reserved by InfluxDB"));
        if ((rc = reserve(&lp->tagtext, klen + vlen)))
            return fail_line(lp, buf_fail(rc, err));
        ifxi_copy(lp->tagtext.data + start, key, klen);
        ifxi_copy(lp->tagtext.data + start + klen, val, vlen);
        lp->tagtext.len = start + klen + vlen;
        lp->tagtext.data[lp->tagtext.len] = '\0';
        t.koff = start;
        t.klen = klen;
        t.voff = start + klen;
        t.vlen = vlen;
    } else {
        if ((rc = check_element(lp->target, EL_TAG_KEY, key, klen, NULL, 0, err)))
            return fail_line(lp, rc);
        if (klen == 4 && memcmp(key, "time", 4) == 0)
            return fail_line(
                lp, ifx_err_set(err, IFX_E_INVALID, "tag key \"time\" is reserved by InfluxDB"));
        if (vlen == 0)
            return IFX_OK; /* every server refuses an empty tag value; clients leave it out */
        if ((rc = check_element(lp->target, EL_TAG_VALUE, val, vlen, key, klen, err)))
            return fail_line(lp, rc);
        if ((rc = append_escaped(&lp->tagtext, lp->target, EL_TAG_KEY, key, klen)))
            return fail_line(lp, buf_fail(rc, err));
        t.koff = start;
        t.klen = lp->tagtext.len - start;
        t.voff = lp->tagtext.len;
        if ((rc = append_escaped(&lp->tagtext, lp->target, EL_TAG_VALUE, val, vlen)))
            return fail_line(lp, buf_fail(rc, err));
        t.vlen = lp->tagtext.len - t.voff;
    }

    /* Insertion keeps the tags sorted by escaped key bytes and finds duplicates on the way. */
    bool dup;
    pos = tag_slot(lp->tags, lp->ntags, lp->tagtext.data, lp->tagtext.data + t.koff, t.klen, &dup);
    if (dup)
        return fail_line(lp, ifx_err_set(err, IFX_E_INVALID, "duplicate tag key \"%s\"",
                                         key_text(key, klen, a)));
    if (lp->ntags == lp->tags_alloc) {
        size_t n = lp->tags_alloc ? lp->tags_alloc * 2 : 16;
        struct ifx_lp_tag *p = realloc(lp->tags, n * sizeof *p);
        if (!p)
            return fail_line(lp, buf_fail(IFX_E_NOMEM, err));
        lp->tags = p;
        lp->tags_alloc = n;
    }
    for (size_t i = lp->ntags; i > pos; i--)
        lp->tags[i] = lp->tags[i - 1];
    lp->tags[pos] = t;
    lp->ntags++;
    return IFX_OK;
}

/* Checks and records a field key, then appends ",<escaped key>=" to the field text. The key is
 * recorded where it lies in the field text, so it is written once. */
static ifx_rc begin_field_checked(ifx_lp *lp, const char *key, size_t klen, ifx_err *err)
{
    char a[SHOWN_SIZE];
    struct ifx_lp_key k;
    ifx_buf *f = &lp->fields;
    size_t start = f->len;
    bool is_plain;
    ifx_rc rc;

    if ((rc = need_open(lp, err)))
        return rc;
    is_plain = plain(key, klen);
    if (!is_plain && (rc = check_element(lp->target, EL_FIELD_KEY, key, klen, NULL, 0, err)))
        return fail_line(lp, rc);
    if (klen == 4 && memcmp(key, "time", 4) == 0)
        return fail_line(
            lp, ifx_err_set(err, IFX_E_INVALID, "field key \"time\" is reserved by InfluxDB"));
    /* ",key=" and room for a number after it, with one reservation when the key is plain */
    if ((rc = reserve(f, klen + 2 + 32)) && (rc = reserve(f, (is_plain ? klen : 0) + 2)))
        return fail_line(lp, buf_fail(rc, err));
    f->data[start] = ',';
    f->len = start + 1;
    if (is_plain) {
        ifxi_copy(f->data + start + 1, key, klen);
        f->len += klen;
    } else if ((rc = append_escaped(f, lp->target, EL_FIELD_KEY, key, klen))) {
        return fail_line(lp, buf_fail(rc, err));
    }
    k.off = start + 1;
    k.len = f->len - k.off;
    for (size_t i = 0; i < lp->nfields; i++) {
        if (lp->fkeys[i].len == k.len &&
            bytes_cmp(f->data + lp->fkeys[i].off, f->data + k.off, k.len) == 0)
            return fail_line(lp, ifx_err_set(err, IFX_E_INVALID, "duplicate field key \"%s\"",
                                             key_text(key, klen, a)));
    }
    if (lp->nfields == lp->fkeys_alloc) {
        size_t n = lp->fkeys_alloc ? lp->fkeys_alloc * 2 : 16;
        struct ifx_lp_key *p = realloc(lp->fkeys, n * sizeof *p);
        if (!p)
            return fail_line(lp, buf_fail(IFX_E_NOMEM, err));
        lp->fkeys = p;
        lp->fkeys_alloc = n;
    }
    lp->fkeys[lp->nfields++] = k;
    if ((rc = reserve(f, 1)))
        return fail_line(lp, buf_fail(rc, err));
    f->data[f->len++] = '=';
    f->data[f->len] = '\0';
    return IFX_OK;
}

/* begin_field_checked for the usual key: plain, not "time", not a duplicate, with room for it
 * and a number after it and a free slot in fkeys. Everything else (and every refusal) takes the
 * checked path, so the lines and the errors are the same; this one keeps the buffer's fields in
 * locals, as char stores would otherwise make the compiler reload them after each byte. */
static inline ifx_rc begin_field(ifx_lp *lp, const char *key, size_t klen, ifx_err *err)
{
    ifx_buf *f = &lp->fields;
    size_t start = f->len, nf = lp->nfields;
    const struct ifx_lp_key *keys = lp->fkeys;
    char *d;

    if (!lp->open || nf == lp->fkeys_alloc || !plain(key, klen) ||
        (klen == 4 && memcmp(key, "time", 4) == 0) || reserve(f, klen + 2 + 32) != IFX_OK)
        return begin_field_checked(lp, key, klen, err);
    d = f->data;
    for (size_t i = 0; i < nf; i++)
        if (keys[i].len == klen && bytes_cmp(d + keys[i].off, key, klen) == 0)
            return begin_field_checked(lp, key, klen, err);
    d += start;
    d[0] = ',';
    ifxi_copy(d + 1, key, klen);
    d[klen + 1] = '=';
    d[klen + 2] = '\0';
    lp->fkeys[nf].off = start + 1;
    lp->fkeys[nf].len = klen;
    lp->nfields = nf + 1;
    f->len = start + klen + 2;
    return IFX_OK;
}

static ifx_rc field_text(ifx_lp *lp, const char *text, size_t n, ifx_err *err)
{
    ifx_rc rc = append(&lp->fields, text, n);
    return rc ? fail_line(lp, buf_fail(rc, err)) : IFX_OK;
}

ifx_rc ifx_lp_add_float(ifx_lp *lp, const char *key, size_t klen, double v, ifx_err *err)
{
    char num[IFX_LP_FLOAT_MAX], a[SHOWN_SIZE];
    size_t n = ifx_lp_format_float(v, num);
    ifx_rc rc;

    if (n == 0) {
        if ((rc = need_open(lp, err)))
            return rc;
        return fail_line(lp, ifx_err_set(err, IFX_E_INVALID,
                                         "field \"%s\" is %s, which line protocol cannot carry",
                                         key_text(key, klen, a),
                                         v != v ? "NaN" : (v > 0 ? "+Inf" : "-Inf")));
    }
    if ((rc = begin_field(lp, key, klen, err)))
        return rc;
    return field_text(lp, num, n, err);
}

ifx_rc ifx_lp_add_int(ifx_lp *lp, const char *key, size_t klen, int64_t v, ifx_err *err)
{
    char num[32];
    size_t n = format_i64(v, num);
    ifx_rc rc = begin_field(lp, key, klen, err);
    num[n++] = 'i';
    return rc ? rc : field_text(lp, num, n, err);
}

ifx_rc ifx_lp_add_uint(ifx_lp *lp, const char *key, size_t klen, uint64_t v, ifx_err *err)
{
    char num[32], a[SHOWN_SIZE];
    size_t n;
    ifx_rc rc;

    if (lp->target == IFX_VERSION_V1) {
        if ((rc = need_open(lp, err)))
            return rc;
        return fail_line(lp, ifx_err_set(err, IFX_E_UNSUPPORTED,
                                         "field \"%s\" is unsigned, which InfluxDB 1.x cannot "
                                         "store; send it as an integer or a float",
                                         key_text(key, klen, a)));
    }
    if ((rc = begin_field(lp, key, klen, err)))
        return rc;
    /* Straight into the field when there is room (begin_field usually left it), else as text. */
    if (reserve(&lp->fields, IFXI_LP_DECIMAL_MAX + 1) == IFX_OK) {
        ifx_buf *f = &lp->fields;
        f->len += ifxi_lp_format_u64(v, f->data + f->len);
        f->data[f->len++] = 'u';
        f->data[f->len] = '\0';
        return IFX_OK;
    }
    n = ifxi_lp_format_u64(v, num);
    num[n++] = 'u';
    return field_text(lp, num, n, err);
}

ifx_rc ifxi_lp_add_u128_string(ifx_lp *lp, const char *key, size_t klen, uint64_t hi, uint64_t lo,
                               ifx_err *err)
{
    char num[IFXI_LP_U128_DECIMAL_MAX + 2];
    size_t n;
    ifx_rc rc;

    if ((rc = need_open(lp, err)) || (rc = begin_field(lp, key, klen, err)))
        return rc;
    if (reserve(&lp->fields, IFXI_LP_U128_DECIMAL_MAX + 2) == IFX_OK) {
        ifx_buf *f = &lp->fields;
        char *w = f->data + f->len;
        *w = '"';
        n = ifxi_lp_format_u128(hi, lo, w + 1);
        w[n + 1] = '"';
        f->len += n + 2;
        f->data[f->len] = '\0';
        return IFX_OK;
    }
    num[0] = '"';
    n = ifxi_lp_format_u128(hi, lo, num + 1);
    num[n + 1] = '"';
    return field_text(lp, num, n + 2, err);
}

ifx_rc ifx_lp_add_bool(ifx_lp *lp, const char *key, size_t klen, bool v, ifx_err *err)
{
    ifx_rc rc = begin_field(lp, key, klen, err);
    return rc ? rc : field_text(lp, v ? "true" : "false", v ? 4 : 5, err);
}

ifx_rc ifx_lp_add_string(ifx_lp *lp, const char *key, size_t klen, const char *v, size_t vlen,
                         ifx_err *err)
{
    char a[SHOWN_SIZE];
    size_t bad;
    ifx_err verr;
    ifx_rc rc;

    if ((rc = need_open(lp, err)))
        return rc;
    if (vlen > IFX_LP_MAX_ELEMENT)
        return fail_line(lp, ifx_err_set(err, IFX_E_INVALID,
                                         "string field \"%s\" is %zu bytes, over the limit of %d",
                                         key_text(key, klen, a), vlen, IFX_LP_MAX_ELEMENT));
    if ((rc = begin_field(lp, key, klen, err))) {
        /* The value's UTF-8 is checked before the key (the order of the messages). */
        if (rc != IFX_E_NOMEM && rc != IFX_E_FULL && !ifxi_utf8_valid(v, vlen, &bad))
            goto bad_utf8;
        return rc;
    }
    /* Validated and escaped in one pass; inside quotes only '"' and '\\' need escaping, and a raw
     * LF is stored as is (spec V11). */
    ifx_err_clear(&verr);
    rc = ifxi_utf8_lp_string(v, vlen, &lp->fields, &verr);
    if (rc == IFX_E_INVALID) {
        bad = verr.offset;
        goto bad_utf8;
    }
    if (rc)
        return fail_line(lp, buf_fail(rc, err));
    return IFX_OK;
bad_utf8:
    return fail_line(lp, ifx_err_set(err, IFX_E_INVALID,
                                     "string field \"%s\" is not valid UTF-8 (bad byte at "
                                     "offset %zu)",
                                     key_text(key, klen, a), bad));
}

/* A key refused by begin_field when the value itself is invalid too: the value's problem is the
 * one reported, as when the value is checked first (ifx_lp_add_string's order). */
static ifx_rc value_first(ifx_rc key_rc, ifx_rc value_rc, const ifx_err *value_err,
                          const char *invalid, ifx_err *err)
{
    if (value_rc != IFX_E_INVALID || key_rc == IFX_E_NOMEM || key_rc == IFX_E_FULL)
        return key_rc;
    if (err)
        *err = *value_err;
    if (invalid)
        ifx_err_prefix(err, "%s", invalid);
    return value_rc;
}

ifx_rc ifxi_lp_add_json_string(ifx_lp *lp, const char *key, size_t klen, const char *json,
                               size_t len, const char *invalid, ifx_err *err)
{
    char a[SHOWN_SIZE];
    size_t compact = 0;
    ifx_rc rc;

    if ((rc = need_open(lp, err)))
        return rc;
    if ((rc = begin_field(lp, key, klen, err))) {
        ifx_err verr;
        ifx_err_clear(&verr);
        return value_first(rc, ifxi_json_compact(json, len, NULL, &verr), &verr, invalid, err);
    }
    /* Validated, compacted and escaped in one pass, straight into the field text. */
    rc = ifxi_json_compact_lp(json, len, &lp->fields, &compact, err);
    if (rc == IFX_E_INVALID && invalid)
        ifx_err_prefix(err, "%s", invalid);
    if (rc)
        return fail_line(lp, rc == IFX_E_INVALID ? rc : buf_fail(rc, err));
    if (compact > IFX_LP_MAX_ELEMENT)
        return fail_line(lp, ifx_err_set(err, IFX_E_INVALID,
                                         "string field \"%s\" is %zu bytes, over the limit of %d",
                                         key_text(key, klen, a), compact, IFX_LP_MAX_ELEMENT));
    return IFX_OK;
}

ifx_rc ifxi_lp_add_text_string(ifx_lp *lp, const char *key, size_t klen, const char *text,
                               size_t len, const char *invalid, ifx_err *err)
{
    char a[SHOWN_SIZE];
    ifx_rc rc;

    if ((rc = need_open(lp, err)))
        return rc;
    if (len > IFX_LP_MAX_ELEMENT) {
        if (ifxi_utf8_check(text, len, err)) {
            if (invalid)
                ifx_err_prefix(err, "%s", invalid);
            return fail_line(lp, IFX_E_INVALID);
        }
        return fail_line(lp, ifx_err_set(err, IFX_E_INVALID,
                                         "string field \"%s\" is %zu bytes, over the limit of %d",
                                         key_text(key, klen, a), len, IFX_LP_MAX_ELEMENT));
    }
    if ((rc = begin_field(lp, key, klen, err))) {
        ifx_err verr;
        ifx_err_clear(&verr);
        return value_first(rc, ifxi_utf8_check(text, len, &verr), &verr, invalid, err);
    }
    rc = ifxi_utf8_lp_string(text, len, &lp->fields, err);
    if (rc == IFX_E_INVALID && invalid)
        ifx_err_prefix(err, "%s", invalid);
    if (rc)
        return fail_line(lp, rc == IFX_E_INVALID ? rc : buf_fail(rc, err));
    return IFX_OK;
}

/* Floor division, so that a negative time keeps its order after scaling (-1 ns is -1 us). */
static inline int64_t floor_div(int64_t ns, int64_t d)
{
    int64_t q = ns / d;
    if (ns % d != 0 && ns < 0)
        q--;
    return q;
}

/* One case per precision, so that each division is by a constant (a multiplication), not the
 * 40-cycle division by a variable that every line used to pay several times. */
static int64_t scale_time(int64_t ns, ifx_precision p)
{
    switch (p) {
    case IFX_PRECISION_US:
        return floor_div(ns, 1000);
    case IFX_PRECISION_MS:
        return floor_div(ns, 1000000);
    case IFX_PRECISION_S:
        return floor_div(ns, 1000000000);
    case IFX_PRECISION_NS:
        break;
    }
    return ns;
}

/* Whether lp's target stores time_ns once scaled to t: 1.x/2.x scale the timestamp back to
 * nanoseconds and refuse it outside +-(2^63 - 2) ("time outside range", spec R21); v3 takes the
 * whole signed 64-bit range. Only a time within 10^9 ns of either end can be out of range in some
 * precision. */
static inline bool time_storable(const ifx_lp *lp, int64_t time_ns, int64_t t)
{
    return lp->target == IFX_VERSION_V3 ||
           (time_ns >= IFX_LP_GO_MIN_TIME_NS + 1000000000 &&
            time_ns <= IFX_LP_GO_MAX_TIME_NS - 1000000000) ||
           (t >= IFX_LP_GO_MIN_TIME_NS / ifx_precision_ns(lp->precision) &&
            t <= IFX_LP_GO_MAX_TIME_NS / ifx_precision_ns(lp->precision));
}

size_t ifxi_lp_time_text(const ifx_lp *lp, int64_t time_ns, char *out)
{
    int64_t t = scale_time(time_ns, lp->precision);
    if (!time_storable(lp, time_ns, t))
        return 0;
    out[0] = ' ';
    return 1 + format_i64(t, out + 1);
}

char *ifxi_lp_direct_begin(ifx_lp *lp, size_t most)
{
    if (lp->open)
        ifx_lp_abort_line(lp);
    if (reserve(&lp->batch, most) != IFX_OK)
        return NULL;
    return lp->batch.data + lp->batch.len;
}

void ifxi_lp_direct_end(ifx_lp *lp, char *end)
{
    *end = '\0';
    lp->batch.len = (size_t)(end - lp->batch.data);
    lp->lines++;
}

void ifxi_lp_direct_cancel(ifx_lp *lp)
{
    lp->batch.data[lp->batch.len] = '\0';
}

ifx_rc ifx_lp_end_line(ifx_lp *lp, bool has_time, int64_t time_ns, ifx_err *err)
{
    char ts[32];
    size_t tslen = 0, series = 0, maxkey = 0, total;
    ifx_buf *b = &lp->batch;
    ifx_rc rc;

    if ((rc = need_open(lp, err)))
        return rc;
    if (lp->nfields == 0)
        return fail_line(lp, ifx_err_set(err, IFX_E_INVALID,
                                         "the point has no fields; a line needs at least one"));
    if (has_time) {
        int64_t t = scale_time(time_ns, lp->precision);
        if (!time_storable(lp, time_ns, t))
            return fail_line(lp, ifx_err_set(err, IFX_E_UNSUPPORTED,
                                             "time %" PRId64 " ns is outside the range InfluxDB "
                                             "%s stores (%" PRId64 " to %" PRId64 " ns)",
                                             time_ns, lp->target == IFX_VERSION_V1 ? "1.x" : "2.x",
                                             IFX_LP_GO_MIN_TIME_NS, IFX_LP_GO_MAX_TIME_NS));
        ts[0] = ' ';
        tslen = 1 + format_i64(t, ts + 1);
    }

    series = lp->measurement.len;
    for (size_t i = 0; i < lp->ntags; i++)
        series += 2 + lp->tags[i].klen + lp->tags[i].vlen;
    if (lp->target != IFX_VERSION_V3) {
        for (size_t i = 0; i < lp->nfields; i++)
            if (lp->fkeys[i].len > maxkey)
                maxkey = lp->fkeys[i].len;
        if (series + maxkey >= IFX_LP_MAX_SERIES_KEY)
            return fail_line(lp, ifx_err_set(err, IFX_E_INVALID,
                                             "measurement, tags and field key take %zu bytes; "
                                             "InfluxDB %s allows fewer than %d",
                                             series + maxkey,
                                             lp->target == IFX_VERSION_V1 ? "1.x" : "2.x",
                                             IFX_LP_MAX_SERIES_KEY));
    }
    /* series + ' ' + fields (its leading ',' becomes the space) + timestamp + '\n' */
    total = series + lp->fields.len + tslen + 1;
    if (total > b->cap)
        return fail_line(lp, ifx_err_set(err, IFX_E_INVALID,
                                         "the line is %zu bytes, larger than the whole batch "
                                         "limit of %zu bytes",
                                         total, b->cap));
    if ((rc = reserve(b, total))) {
        if (rc == IFX_E_FULL)
            return ifx_err_set(err, IFX_E_FULL,
                               "the batch is full (%zu of %zu bytes); send it and retry the line",
                               b->len, b->cap);
        return buf_fail(rc, err);
    }
    /* Room is reserved: the line is written straight into the batch. */
    char *w = b->data + b->len;
    ifxi_copy(w, lp->measurement.data, lp->measurement.len);
    w += lp->measurement.len;
    for (size_t i = 0; i < lp->ntags; i++) {
        const struct ifx_lp_tag *t = &lp->tags[i];
        *w++ = ',';
        ifxi_copy(w, lp->tagtext.data + t->koff, t->klen);
        w += t->klen;
        *w++ = '=';
        ifxi_copy(w, lp->tagtext.data + t->voff, t->vlen);
        w += t->vlen;
    }
    *w++ = ' ';
    memcpy(w, lp->fields.data + 1, lp->fields.len - 1);
    w += lp->fields.len - 1;
    ifxi_copy(w, ts, tslen);
    w += tslen;
    *w++ = '\n';
    *w = '\0';
    b->len = (size_t)(w - b->data);
    lp->lines++;
    ifx_lp_abort_line(lp);
    return IFX_OK;
}

size_t ifx_lp_line_length(const char *p, size_t len)
{
    /* 0: measurement and tags, 1: fields, 2: timestamp. Only inside a field's quoted string is
     * a line feed part of the line. */
    int section = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '\n')
            return i;
        if (c == '\\') {
            i++;
        } else if (c == ' ' && section < 2) {
            section++;
            while (i + 1 < len && p[i + 1] == ' ')
                i++;
        } else if (c == '"' && section == 1 && i > 0 && p[i - 1] == '=') {
            in_string = true;
        }
    }
    return len;
}
