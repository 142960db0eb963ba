/* ifx — InfluxDB line protocol builder: measurement, tags, fields and a timestamp per line,
 * escaped for the target server generation.
 *
 * An ifx_lp assembles a batch of lines for one target server generation:
 *
 *     ifx_lp lp;
 *     ifx_lp_init(&lp, IFX_VERSION_V2, IFX_PRECISION_NS, 8 << 20);
 *     ifx_lp_begin_line(&lp, "cpu", 3, &err);
 *     ifx_lp_add_tag(&lp, "host", 4, "a", 1, &err);
 *     ifx_lp_add_float(&lp, "usage", 5, 64.2, &err);
 *     ifx_lp_end_line(&lp, true, 1590488773254420000, &err);
 *     ... send lp.batch.data / lp.batch.len, then ifx_lp_reset(&lp) ...
 *     ifx_lp_free(&lp);
 *
 * Rules, per target:
 *  - v1 and v2 (portable mode): a backslash is never escaped; a name or tag value in which a
 *    backslash precedes '\', ',', '=' or a space is refused (IFX_E_UNSUPPORTED), because
 *    1.x/2.x and 3.x would read it differently.
 *  - v3 (native mode): a backslash is written as "\\", which v3 reads back exactly.
 *  - Every target refuses a name or tag value that ends with a backslash (IFX_E_UNSUPPORTED):
 *    v3 refuses it however it is escaped, 1.x/2.x misread it.
 *  - v3 refuses a NUL byte in a measurement (its parser ends the measurement there).
 *  - v1 refuses unsigned fields (1.x cannot store them).
 *  - v1 and v2 refuse a time outside +-(2^63 - 2) ns, which 1.x/2.x cannot store.
 * Tags are sorted by key (bytewise) and tags with an empty value are left out. Fields keep their
 * order. Every refusal is IFX_E_INVALID or IFX_E_UNSUPPORTED with a message naming the element.
 *
 * A failed begin/add call discards the open line; the batch keeps every line finished before.
 * Strings are copied when added: the caller's memory is borrowed only for the call.
 * Once warm (buffers grown to the largest line and batch seen), building allocates nothing.
 *
 * Thread safety: none; one ifx_lp per thread.
 */
#ifndef IFX_LP_H
#define IFX_LP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ifx/export.h"
#include "ifx/buf.h"
#include "ifx/error.h"
#include "ifx/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest measurement, key, tag value or string value (bytes) any server accepts. */
#define IFX_LP_MAX_ELEMENT 65536
/* 1.x/2.x: measurement + tags + field key, as written, must stay below this many bytes. */
#define IFX_LP_MAX_SERIES_KEY 65535
/* 1.x/2.x: the timestamps they store, in nanoseconds (v3 takes any signed 64-bit value). */
#define IFX_LP_GO_MIN_TIME_NS (-INT64_MAX + 1)
#define IFX_LP_GO_MAX_TIME_NS (INT64_MAX - 1)

struct ifx_lp_tag;
struct ifx_lp_key;

typedef struct ifx_lp {
    ifx_version target;      /* V1, V2 or V3 */
    ifx_precision precision; /* unit of the timestamps written */
    ifx_buf batch;           /* finished lines, each ending in '\n' */
    size_t lines;            /* number of lines in batch */

    /* the open line (private) */
    bool open;
    ifx_buf measurement; /* escaped */
    ifx_buf tagtext;     /* escaped keys and values of the tags, back to back */
    ifx_buf fields;      /* ",key=value" for each field, escaped */
    struct ifx_lp_tag *tags;
    size_t ntags, tags_alloc;
    struct ifx_lp_key *fkeys; /* where each field key lies in fields, for duplicate checks */
    size_t nfields, fkeys_alloc;
} ifx_lp;

/* Sets up a builder for target (V1, V2 or V3; AUTO is treated as V2) whose batch holds at most
 * batch_cap bytes. Allocates nothing. */
IFX_EXTERN void ifx_lp_init(ifx_lp *lp, ifx_version target, ifx_precision precision,
                            size_t batch_cap);

/* Frees everything the builder holds. */
IFX_EXTERN void ifx_lp_free(ifx_lp *lp);

/* Empties the batch (and discards an open line), keeping memory for reuse. */
IFX_EXTERN void ifx_lp_reset(ifx_lp *lp);

/* Opens a line. The measurement must be non-empty, not start with '#', hold no TAB/CR/LF, be
 * valid UTF-8 and at most IFX_LP_MAX_ELEMENT bytes. A line already open is discarded. */
IFX_EXTERN ifx_rc ifx_lp_begin_line(ifx_lp *lp, const char *name, size_t len, ifx_err *err);

/* Adds a tag. An empty value leaves the tag out (IFX_OK). Refuses an empty key, the key "time",
 * a duplicate key, TAB/CR/LF, invalid UTF-8 and oversized keys or values. */
IFX_EXTERN ifx_rc ifx_lp_add_tag(ifx_lp *lp, const char *key, size_t klen, const char *val,
                                 size_t vlen, ifx_err *err);

/* Adds a field. Keys follow the tag-key rules; "time" and duplicates are refused. */
IFX_EXTERN ifx_rc ifx_lp_add_float(ifx_lp *lp, const char *key, size_t klen, double v,
                                   ifx_err *err);
IFX_EXTERN ifx_rc ifx_lp_add_int(ifx_lp *lp, const char *key, size_t klen, int64_t v, ifx_err *err);
IFX_EXTERN ifx_rc ifx_lp_add_uint(ifx_lp *lp, const char *key, size_t klen, uint64_t v,
                                  ifx_err *err);
IFX_EXTERN ifx_rc ifx_lp_add_bool(ifx_lp *lp, const char *key, size_t klen, bool v, ifx_err *err);
/* A string value may hold any valid UTF-8, raw newlines included; at most IFX_LP_MAX_ELEMENT. */
IFX_EXTERN ifx_rc ifx_lp_add_string(ifx_lp *lp, const char *key, size_t klen, const char *v,
                                    size_t vlen, ifx_err *err);

/* Finishes the open line and appends it to the batch. With has_time, time_ns (nanoseconds) is
 * converted to the builder's precision (rounding toward negative infinity) and written; v1 and
 * v2 refuse a time outside IFX_LP_GO_MIN_TIME_NS..IFX_LP_GO_MAX_TIME_NS (IFX_E_UNSUPPORTED).
 * IFX_E_FULL: the line does not fit in the batch's remaining room; the line stays open, so the
 * caller can send the batch, call ifx_lp_clear_batch, and call ifx_lp_end_line again.
 * A line larger than the whole batch cap is refused with IFX_E_INVALID and discarded. */
IFX_EXTERN ifx_rc ifx_lp_end_line(ifx_lp *lp, bool has_time, int64_t time_ns, ifx_err *err);

/* Discards the open line, if any. */
IFX_EXTERN void ifx_lp_abort_line(ifx_lp *lp);

/* Empties the batch but keeps an open line (for the IFX_E_FULL flow above). */
IFX_EXTERN void ifx_lp_clear_batch(ifx_lp *lp);

/* Checks a measurement name for target without building anything (used to validate
 * configuration at open time). Same rules and messages as ifx_lp_begin_line. */
IFX_EXTERN ifx_rc ifx_lp_check_measurement(ifx_version target, const char *name, size_t len,
                                           ifx_err *err);

/* Length of the line-protocol line at p (without its terminating '\n'): a line feed inside a
 * quoted string field belongs to the line, as every server reads it. For splitting batches and
 * input files into lines. */
IFX_EXTERN size_t ifx_lp_line_length(const char *p, size_t len);

/* Formats a finite double as the shortest text that reads back to the same value: positional
 * ("3", "64.2", "0.001"), or with an exponent where that is strictly shorter ("1e+21", "1e-7",
 * "-2.5e-300"); every InfluxDB generation reads both forms. out must hold IFX_LP_FLOAT_MAX bytes
 * (the most it writes is 25). Returns the length, or 0 for NaN and infinities (nothing written). */
#define IFX_LP_FLOAT_MAX 400
IFX_EXTERN size_t ifx_lp_format_float(double v, char *out);

#ifdef __cplusplus
}
#endif
#endif
