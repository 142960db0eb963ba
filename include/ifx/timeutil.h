/* ifx — time values: RFC 3339 timestamps and human durations ("5s", "1m30s", "200ms").
 *
 * Timestamps are signed nanoseconds since the Unix epoch (UTC). Durations are unsigned
 * nanoseconds. All functions are pure and reentrant.
 */
#ifndef IFX_TIMEUTIL_H
#define IFX_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>
#include "ifx/export.h"
#include "ifx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d (m 1..12, d 1..31). */
IFX_EXTERN long long ifx_days_from_civil(long long y, int m, int d);

#define IFX_NS_PER_US  1000LL
#define IFX_NS_PER_MS  1000000LL
#define IFX_NS_PER_SEC 1000000000LL

/* Parses an RFC 3339 date-time with a zone ("2024-01-02T03:04:05.123456789Z", "…+02:00"; 't',
 * 'z' and a space instead of 'T' are accepted; up to 9 fraction digits). Dates outside what
 * int64 nanoseconds can hold (1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z)
 * are IFX_E_INVALID, and so is the leap second :60, which Unix time cannot represent. The message
 * reads 'invalid RFC 3339 timestamp "<value>": <reason>'. */
IFX_EXTERN ifx_rc ifx_time_parse_rfc3339(const char *s, size_t len, int64_t *ns, ifx_err *err);

/* Writes ns as "YYYY-MM-DDTHH:MM:SS[.fffffffff]Z" (fraction trimmed of trailing zeros, left out
 * when zero) into out, which must hold IFX_RFC3339_MAX bytes. Returns the length written. */
#define IFX_RFC3339_MAX 40
IFX_EXTERN size_t ifx_time_format_rfc3339(int64_t ns, char *out);

/* The wall clock (CLOCK_REALTIME) in nanoseconds since the Unix epoch: the time of messages,
 * rows and log lines. For measuring durations use ifx_now_ns (monotonic, ifx/resilience.h). */
IFX_EXTERN int64_t ifx_time_now_ns(void);

/* Parses a duration: one or more "<integer><unit>" parts, optionally separated by spaces, with
 * units ns, us, µs, ms, s, m, h, d, w and the long forms nsec, usec, msec, sec(s), second(s),
 * min(s), minute(s), hr(s), hour(s), day(s), week(s) (case-sensitive, as humantime). "0" alone
 * means zero. Anything else (no unit, a fraction, a sign), or an overflow, is IFX_E_INVALID, with
 * the message 'invalid duration "<value>": <reason naming the bad part>'. */
IFX_EXTERN ifx_rc ifx_duration_parse(const char *s, size_t len, uint64_t *ns, ifx_err *err);

/* Writes a duration in its canonical exact form into out, which must hold IFX_DURATION_MAX bytes:
 * integer parts h, m, s, ms, us, ns, largest first, each at most once, zero parts left out
 * ("30s", "1m30s", "1s500ms", "48h", "0s" for zero). Returns the length written. */
#define IFX_DURATION_MAX 64
IFX_EXTERN size_t ifx_duration_format(uint64_t ns, char *out);

#ifdef __cplusplus
}
#endif
#endif
