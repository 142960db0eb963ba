/* Test support: seeded random points with nasty names and values, for differential tests of the
 * line protocol builder against real parsers and servers (tests/integration/test_lp3_diff.c for
 * InfluxDB 3's parser, test_v1_roundtrip.c for a real 1.x; meant for a 2.7 round trip too).
 *
 * A point is generated from (seed, index) alone, so one failing point is reproduced by its index
 * without generating the others. Names and values mix every character line protocol escapes
 * (space, comma, equals, quote, backslash, in every position including the last), TAB/CR/LF,
 * other control characters, NUL, '#' first, non-ASCII text, empty strings, long strings near the
 * 64 KiB limit, NaN and infinities, INT64_MIN/MAX, UINT64_MAX, -0, subnormals, and timestamps at
 * the ends of the signed 64-bit range. Some are points no server can store; nasty_problems
 * says which and why, from the spec's rules (line-protocol.md §2-§6), independently of libifx.
 */
#ifndef IFX_TEST_NASTY_POINTS_H
#define IFX_TEST_NASTY_POINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ifx/lp.h"

typedef struct nasty_rng {
    uint64_t s;
} nasty_rng;

/* The generator of point `index` of the run `seed`. */
void nasty_rng_init(nasty_rng *r, uint64_t seed, uint64_t index);
uint64_t nasty_rng_next(nasty_rng *r);

typedef struct nasty_text {
    char *p; /* NUL-terminated for convenience; may hold NUL bytes, so use len */
    size_t len;
} nasty_text;

typedef enum { NASTY_FLOAT, NASTY_INT, NASTY_UINT, NASTY_BOOL, NASTY_STRING } nasty_type;

typedef struct nasty_field {
    nasty_text key;
    nasty_type type;
    double f;
    int64_t i;
    uint64_t u;
    bool b;
    nasty_text s;
} nasty_field;

typedef struct nasty_tag {
    nasty_text key, value; /* an empty value: the encoder leaves the tag out */
} nasty_tag;

typedef struct nasty_point {
    uint64_t seed, index;
    nasty_text measurement;
    nasty_tag *tags;
    size_t ntags;
    nasty_field *fields;
    size_t nfields;
    bool has_time;
    int64_t time_ns;
} nasty_point;

/* Fills p with point `index` of run `seed`. Caller frees with nasty_point_free. */
void nasty_point_generate(nasty_point *p, uint64_t seed, uint64_t index);
void nasty_point_free(nasty_point *p);

/* Builds p's line with lp (begin_line, add_tag, add_*, end_line at nanosecond time). On a
 * refusal, returns it with err set; lp's batch is then unchanged. */
ifx_rc nasty_point_encode(const nasty_point *p, ifx_lp *lp, ifx_err *err);

/* Prints p in full, one element per line, every byte visible (C escapes, floats with their bit
 * pattern), so a failure can be read and turned into a unit test. */
void nasty_point_print(FILE *out, const nasty_point *p);

/* Prints s as a C string literal body (escapes for '"', '\\', control bytes and non-UTF-8). */
void nasty_print_text(FILE *out, const char *s, size_t len);

/* Why a point cannot be stored exactly on a target: the classes of refusal. Each is one bit.
 * "parser" classes are ones InfluxDB 3's parser itself cannot read back (checked by
 * test_lp3_diff with a line written without ifx's checks); "server" classes parse but the
 * server refuses or alters them after parsing (§5, §2 length limits, 1.x's types and time
 * range); "policy" classes are refusals the spec makes for portability, not forced by the
 * target's parser. */
enum {
    NASTY_P_EMPTY_NAME = 1u << 0,         /* parser: empty measurement, tag key or field key */
    NASTY_P_HASH_FIRST = 1u << 1,         /* parser: measurement starting with '#' is a comment */
    NASTY_P_TAB_LF = 1u << 2,             /* parser: TAB or LF in a name or tag value ends it */
    NASTY_P_CR = 1u << 3,                 /* policy: CR in a name or tag value (§2: all targets) */
    NASTY_P_TRAILING_BACKSLASH = 1u << 4, /* parser: a name or tag value ending with '\' */
    NASTY_P_PORTABLE_BACKSLASH = 1u << 5, /* v1/v2: '\' before '\' ',' '=' ' ' (§2), or before
                                             '"' in a measurement or field key (1.x unescapes
                                             it there) */
    NASTY_P_NONFINITE = 1u << 6,          /* parser: NaN, +Inf, -Inf */
    NASTY_P_NO_FIELDS = 1u << 7,          /* parser: a line needs a field */
    NASTY_P_RESERVED_TIME = 1u << 8,      /* server: tag or field key "time" (§5) */
    NASTY_P_DUPLICATE_KEY = 1u << 9,      /* server: a key twice (§5) */
    NASTY_P_TOO_LONG = 1u << 10,          /* server: an element over 64 KiB (§2) */
    NASTY_P_SERIES_KEY = 1u << 11,        /* v1/v2 server: series key + field key >= 65535 */
    NASTY_P_UNSIGNED_V1 = 1u << 12,       /* v1 server: no unsigned fields (§3) */
    NASTY_P_INVALID_UTF8 = 1u << 13,      /* parser: line protocol is UTF-8 */
    NASTY_P_DROPPED_TAG_KEY = 1u << 14,   /* policy: a bad key on a tag left out (empty value) */
    NASTY_P_NUL_NAME = 1u << 15,          /* v3 parser: a NUL byte ends a measurement; 1.x/2.x: skip
                                             a NUL that starts a measurement or (first) field key */
    NASTY_P_TIME_RANGE = 1u << 16,        /* v1/v2 server: time outside +-(2^63-2) ns (R21) */
    NASTY_P_COUNT = 17
};

/* The classes of refusal that apply to p on target (0: every server stores it exactly). */
unsigned nasty_problems(const nasty_point *p, ifx_version target);

/* A short name of one class bit, and the parts of ifx's refusal message that name it (NULL
 * terminated). */
const char *nasty_problem_name(unsigned bit);
const char *const *nasty_problem_messages(unsigned bit);

/* Whether ifx's refusal message msg names one of the classes in problems. */
bool nasty_message_names_problem(unsigned problems, const char *msg);

#endif
