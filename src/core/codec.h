/* ifx — payload codecs: JSON (validate, compact, navigate), UTF-8 validation, base64.
 *
 * All functions take untrusted bytes with an explicit length (no NUL needed), never read past it,
 * and report the byte offset of the first problem in ifx_err.offset. None keeps a pointer to its
 * input after returning, except the ifx_json_val spans, which point into the caller's input.
 *
 * Thread safety: all functions are reentrant; they share no state.
 */
#ifndef IFX_CODEC_H
#define IFX_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ifx/buf.h"
#include "ifx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- UTF-8 ---------------------------------------------------------------------------------- */

/* True when p[0..len) is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF). On false, *bad_offset (when not NULL) is the offset of the first bad byte: the
 * first byte of the first ill-formed or truncated sequence, so p[0..*bad_offset) is well-formed.
 * On true, *bad_offset is not written. */
bool ifxi_utf8_valid(const void *p, size_t len, size_t *bad_offset);

/* The same check with an error: IFX_E_INVALID "invalid UTF-8 at byte N (<reason>: <bytes>)",
 * offset set. */
ifx_rc ifxi_utf8_check(const void *p, size_t len, ifx_err *err);

/* ---- base64 (RFC 4648 standard alphabet, with padding) ------------------------------------- */

/* Length of the encoding of n bytes (a multiple of 4); SIZE_MAX when that would overflow. */
size_t ifxi_base64_encoded_len(size_t n);

/* Appends the base64 encoding of p[0..n) to out. IFX_E_FULL/IFX_E_NOMEM leave out unchanged. */
ifx_rc ifxi_base64_encode(const void *p, size_t n, ifx_buf *out);

/* Strict decode appended to out: the length must be a multiple of 4, padding only at the end,
 * unused bits zero, no whitespace. IFX_E_INVALID names the offending offset (the first problem in
 * reading order; for a bad length, the start of the incomplete last group); out is unchanged.
 * IFX_E_FULL/IFX_E_NOMEM leave out unchanged too. */
ifx_rc ifxi_base64_decode(const char *s, size_t len, ifx_buf *out, ifx_err *err);

/* ---- JSON (RFC 8259) ------------------------------------------------------------------------ */

/* Deepest nesting of arrays and objects accepted; deeper input is refused, not recursed. */
#define IFX_JSON_MAX_DEPTH 256

typedef enum ifx_json_type {
    IFX_JSON_NONE = 0,
    IFX_JSON_OBJECT,
    IFX_JSON_ARRAY,
    IFX_JSON_STRING,
    IFX_JSON_NUMBER,
    IFX_JSON_TRUE,
    IFX_JSON_FALSE,
    IFX_JSON_NULL
} ifx_json_type;

/* Flags of an ifx_json_val. */
#define IFX_JSON_F_ESCAPED 0x1u /* string: contains at least one backslash escape */
#define IFX_JSON_F_FRAC    0x2u /* number: has a fraction or an exponent */
#define IFX_JSON_F_NEG     0x4u /* number: starts with '-' */

/* A value inside a validated JSON text. p/len span its exact bytes in the input: a string's span
 * includes its quotes, a container's its brackets. Borrowed: valid while the input is. */
typedef struct ifx_json_val {
    ifx_json_type type;
    unsigned flags;
    const char *p;
    size_t len;
} ifx_json_val;

/* Checks that in[0..len) is exactly one JSON value, optionally surrounded by whitespace, and
 * appends its compact form (no insignificant whitespace) to out. Strings and numbers are copied
 * byte for byte, so integers of any length stay exact. One pass, no tree. On IFX_E_INVALID the
 * message says what was expected and ifx_err.offset is the byte offset; out is left unchanged.
 * IFX_E_FULL only when the compact form itself does not fit under out's cap (out unchanged).
 * out may be NULL to validate only. A byte order mark is refused, like any other stray byte. */
ifx_rc ifxi_json_compact(const char *in, size_t len, ifx_buf *out, ifx_err *err);

/* Validates in[0..len) like ifxi_json_compact (same errors) and appends its compact form as a
 * quoted line-protocol string field value: '"', the compact JSON with every '"' and '\\'
 * backslash-escaped, '"'. One pass: validating, compacting and escaping read each byte once.
 * *compact_len (when not NULL) receives the length of the compact form, before escaping.
 * On failure out is unchanged (bytes past its length may have been written).
 * ifxi_json_compact_lp_portable does the same with the portable scanner (core/scan16.h), for
 * tests that compare the two. */
ifx_rc ifxi_json_compact_lp(const char *in, size_t len, ifx_buf *out, size_t *compact_len,
                            ifx_err *err);
ifx_rc ifxi_json_compact_lp_portable(const char *in, size_t len, ifx_buf *out, size_t *compact_len,
                                     ifx_err *err);

/* The fast path of ifxi_json_compact_lp alone, with the SSE2 (portable false) or the portable
 * scanner, for the tests that hold it to the full scanner: IFX_OK with the same output, or
 * IFX_E_INVALID (no message, out unchanged) where it hands over, which must be only for invalid
 * input; IFX_E_NOMEM or IFX_E_FULL when out cannot take 2 * len + 18 bytes more. */
ifx_rc ifxi_json_compact_lp_fast_only(const char *in, size_t len, ifx_buf *out, size_t *compact_len,
                                      bool portable);

/* The same fast path on raw memory, for a caller that writes a line in place: the escaped compact
 * form of in[0..len) (without the surrounding quotes) at w, which must have room for
 * 2 * len + 16 bytes. True with *wend after it and *compact_len the length of the compact form;
 * false where it hands over (len 0, invalid input, or input it does not take), and the caller
 * then takes ifxi_json_compact_lp, which gives the answer and the error. */
bool ifxi_json_lp_fast(const char *in, size_t len, char *w, char **wend, size_t *compact_len);

/* Validates in[0..len) like ifxi_json_compact and describes the single top-level value in *out
 * (its span excludes the surrounding whitespace). On error *out is set to type IFX_JSON_NONE. */
ifx_rc ifxi_json_parse(const char *in, size_t len, ifx_json_val *out, ifx_err *err);

/* Iteration over a validated object or array (from ifxi_json_parse or a previous iteration).
 * Iterating a value of another type yields nothing. The iterators trust that the text is valid
 * JSON (on other text they stop early or yield odd spans) but never read outside the span. */
typedef struct ifx_json_iter {
    const char *p;
    const char *end;
} ifx_json_iter;

void ifxi_json_iter_init(ifx_json_iter *it, const ifx_json_val *container);

/* Next member of an object: true with *key (a string) and *value set, false at the end. */
bool ifxi_json_object_next(ifx_json_iter *it, ifx_json_val *key, ifx_json_val *value);

/* Next element of an array: true with *value set, false at the end. */
bool ifxi_json_array_next(ifx_json_iter *it, ifx_json_val *value);

/* Finds the first member named key (compared after unescaping) in an object. */
bool ifxi_json_object_get(const ifx_json_val *obj, const char *key, ifx_json_val *value);

/* True when the string value s decodes exactly to the NUL-terminated text lit. */
bool ifxi_json_string_eq(const ifx_json_val *s, const char *lit);

/* Appends the decoded (unescaped, UTF-8) contents of string value s to out, without quotes.
 * \u escapes with surrogate pairs become UTF-8; a lone surrogate is IFX_E_INVALID (possible only
 * for a value that was not validated), with ifx_err.offset relative to s->p; out is then unchanged.
 * \u0000 decodes to a NUL byte. */
ifx_rc ifxi_json_string_decode(const ifx_json_val *s, ifx_buf *out, ifx_err *err);

/* Number conversions. IFX_E_INVALID (with the literal in the message) when the value is not a
 * number, has a fraction or exponent (integers only), or lies outside the target range. "-0" is
 * zero, so get_u64 accepts it. *out is written only on success. */
ifx_rc ifxi_json_get_i64(const ifx_json_val *v, int64_t *out, ifx_err *err);
ifx_rc ifxi_json_get_u64(const ifx_json_val *v, uint64_t *out, ifx_err *err);
/* Any number, as the nearest double whatever the C locale; IFX_E_INVALID when it overflows to
 * infinity (underflow gives zero or a subnormal, the nearest double). */
ifx_rc ifxi_json_get_double(const ifx_json_val *v, double *out, ifx_err *err);

/* Appends s[0..len) as a quoted JSON string ('"', '\\' and control bytes escaped; other bytes,
 * UTF-8 included, copied as they are). On failure out is unchanged. */
ifx_rc ifxi_json_append_string(ifx_buf *out, const char *s, size_t len);

/* "object", "array", "string", "number", "true", "false", "null" ("none" for NONE). */
const char *ifxi_json_type_name(ifx_json_type t);

#ifdef __cplusplus
}
#endif
#endif
