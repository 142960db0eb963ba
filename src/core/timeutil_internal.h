/* ifx — time parsing shared inside the library (not part of the public API). */
#ifndef IFX_CORE_TIMEUTIL_INTERNAL_H
#define IFX_CORE_TIMEUTIL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ifx/error.h"
#include "core/le.h"
#include "core/scan16.h" /* ifxi_scan_nondigits */

/* The form nearly every answer writes its times in, read without the general parser's
 * bookkeeping: "YYYY-MM-DDTHH:MM:SS" with an optional fraction of 1 to 9 digits, then "Z" when
 * zone is true, or nothing when it is false (v3's zone-less UTC), for the years 1678 to 2261.
 * Returns true with *ns set exactly as ifx_time_parse_rfc3339 would set it (for zone false: as
 * it would for the same text with "Z" added); false, *ns untouched, for anything else, which
 * the caller hands to the general parser (it accepts more, and words the refusals). */
bool ifxi_time_parse_utc_fast(const char *s, size_t len, bool zone, int64_t *ns);

/* Whether u[19..len) (len 21 to 29) is '.' and 1 to 9 ASCII digits, the fraction of the usual
 * form: its last 8 bytes checked as one word (the bytes before the fraction's masked out), then a
 * ninth digit. *digits: that word with the masked bytes read as '0', the fraction's last 8 digits
 * for a parser to take the value from. */
static inline bool ifxi_time_fraction(const unsigned char *u, size_t len, uint64_t *digits)
{
    size_t f = len - 20, k = f < 8 ? f : 8;
    uint64_t keep = ~0ULL << (8 * (8 - k)), w = ifx_le_get64(u + len - 8);
    *digits = (w & keep) | (0x3030303030303030ULL & ~keep);
    return u[19] == '.' && !ifxi_scan_nondigits(w, keep) && (f < 9 || (unsigned)(u[20] - '0') <= 9);
}

/* The minute of the last time ifxi_time_parse_utc_memo read: its first 16 bytes
 * ("YYYY-MM-DDTHH:MM", little-endian words) and their instant. A reader keeps one per time column
 * (zeroed to start): an answer's times share their minute for thousands of rows, and reading and
 * checking the date and converting it was most of the fast path. The caller owns it; it is a
 * cache of a pure function, so it never goes stale. */
typedef struct ifxi_time_memo {
    uint64_t a, b;
    int64_t minute_ns;
    bool set;
} ifxi_time_memo;

/* ifxi_time_parse_utc_fast, the same answer and value for every input, taking the minute from
 * *memo when the text starts with its 16 bytes, and remembering the minute of a text that does
 * not. memo may be NULL. */
bool ifxi_time_parse_utc_memo(const char *s, size_t len, bool zone, int64_t *ns,
                              ifxi_time_memo *memo);

/* ifx_time_parse_rfc3339 without the fast path above: the reference the tests hold it to, and
 * what a caller that has tried the fast path already calls. */
ifx_rc ifxi_time_parse_rfc3339_general(const char *s, size_t len, int64_t *ns, ifx_err *err);

#endif
