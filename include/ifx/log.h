/* ifx — logging: the levels, the callback a host gives the engines, and one log line as text or
 * as JSON (log_format).
 *
 * The engines log free text in which the figures a reader looks for are written as key=value
 * words ("sink stats: received=10 written=9 ..."). The text format shows the line as it is; the
 * JSON format makes one object of it, with each key=value word also as a field of its own, so a
 * log pipeline can filter on them without parsing the message.
 *
 * Thread safety: reentrant, no shared state.
 */
#ifndef IFX_LOG_H
#define IFX_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ifx/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Log levels, as the Iggy runtime numbers them. */
enum {
    IFX_LOG_TRACE = 0,
    IFX_LOG_DEBUG = 1,
    IFX_LOG_INFO = 2,
    IFX_LOG_WARN = 3,
    IFX_LOG_ERROR = 4
};

/* Receives one log line (no newline). Must be thread-safe. */
typedef void (*ifx_log_fn)(void *ud, int level, const char *msg);

/* How a log line is written (the log_format key). */
typedef enum ifx_log_format {
    IFX_LOG_FORMAT_TEXT = 0, /* "text" */
    IFX_LOG_FORMAT_JSON      /* "json": one JSON object per line */
} ifx_log_format;

/* "TRACE", "DEBUG", "INFO", "WARN" or "ERROR" (IFX_LOG_* levels; anything else is "ERROR"). */
IFX_EXTERN const char *ifx_log_level_name(int level);

/* Formats one line (no newline) into out[0..cap), always NUL-terminated when cap > 0, cut to fit
 * (a JSON line is cut inside its message, never leaving the object open); returns its length.
 * connector names who logs ("sink", "sink influxdb_sink", ...). time_ns > 0 adds the time
 * (RFC 3339 UTC, milliseconds): first in a text line, as "ts" in JSON; 0 leaves it out (the Iggy
 * runtime stamps its lines itself).
 *   text: "2026-11-26T10:00:00.123Z INFO sink influxdb_sink: consumed 3 messages: written=3"
 *   json: {"ts":"2026-11-26T10:00:00.123Z","level":"INFO","connector":"sink influxdb_sink",
 *          "msg":"consumed 3 messages: written=3","written":3}
 * In JSON, a key=value word (key: a lower-case letter, then letters, digits or '_') becomes a
 * field: an integer when the value is one, otherwise a string; ts, level, connector and msg are
 * never overwritten, and a key met twice keeps its first value. Invalid UTF-8 in msg is replaced
 * by '?'. */
IFX_EXTERN size_t ifx_log_format_line(ifx_log_format format, int level, const char *connector,
                                      const char *msg, int64_t time_ns, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
