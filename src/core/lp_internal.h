/* ifx — what the line protocol builder (core/lp.c) shares with the code that fills its lines. */
#ifndef IFX_CORE_LP_INTERNAL_H
#define IFX_CORE_LP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ifx/error.h"
#include "ifx/lp.h"

/* The longest decimal of a uint64_t (20 digits), with room for a sign. */
#define IFXI_LP_DECIMAL_MAX 21

/* Writes v in decimal at out (IFXI_LP_DECIMAL_MAX bytes at least, not NUL-terminated); returns
 * the length. For the hot path: snprintf costs more than the rest of a line. */
size_t ifxi_lp_format_u64(uint64_t v, char *out);

/* The same for the unsigned 128-bit value hi * 2^64 + lo (the text of ifx_u128_format); out must
 * hold IFXI_LP_U128_DECIMAL_MAX bytes. */
#define IFXI_LP_U128_DECIMAL_MAX 40
size_t ifxi_lp_format_u128(uint64_t hi, uint64_t lo, char *out);

/* Adds a string field whose value is hi * 2^64 + lo in decimal: the same line as formatting it
 * with ifxi_lp_format_u128 and calling ifx_lp_add_string, with the digits written straight into
 * the field (ASCII digits need no check and no escape). */
ifx_rc ifxi_lp_add_u128_string(ifx_lp *lp, const char *key, size_t klen, uint64_t hi, uint64_t lo,
                               ifx_err *err);

/* Adds a string field whose value is the JSON text json[0..len), validated (RFC 8259, the errors
 * of ifxi_json_compact), compacted and escaped in one pass: the same line as ifxi_json_compact
 * followed by ifx_lp_add_string, without the intermediate copy. When the JSON is invalid the
 * message is prefixed with `invalid` (when not NULL). Refusals discard the open line. */
ifx_rc ifxi_lp_add_json_string(ifx_lp *lp, const char *key, size_t klen, const char *json,
                               size_t len, const char *invalid, ifx_err *err);

/* The same for UTF-8 text: validated (the errors of ifxi_utf8_check, prefixed with `invalid`) and
 * escaped in one pass; the line of ifxi_utf8_check followed by ifx_lp_add_string. */
ifx_rc ifxi_lp_add_text_string(ifx_lp *lp, const char *key, size_t klen, const char *text,
                               size_t len, const char *invalid, ifx_err *err);

/* The constant beginning of a run of lines: the measurement and the tags every line shares,
 * checked, escaped and sorted once instead of for every line (issue 13). Caller-owned: init,
 * save, reuse for any number of lines, free. Thread safety: none; one per ifx_lp. */
typedef struct ifx_lp_prefix {
    bool saved;
    ifx_buf measurement;
    ifx_buf tagtext;
    struct ifx_lp_tag *tags;
    size_t ntags, tags_alloc;
    ifx_buf text; /* the same as line text: "measurement,key=value,..." (for direct lines) */
} ifx_lp_prefix;

void ifxi_lp_prefix_init(ifx_lp_prefix *p);
void ifxi_lp_prefix_free(ifx_lp_prefix *p);

/* Saves the open line of lp, which must have tags but no fields yet, as p (copies). IFX_E_USAGE
 * when no line is open or it has fields; IFX_E_NOMEM/IFX_E_FULL; p is then not saved. */
ifx_rc ifxi_lp_prefix_save(const ifx_lp *lp, ifx_lp_prefix *p);

/* Opens a line as ifx_lp_begin_line followed by the ifx_lp_add_tag calls that built p did: same
 * state, same line, without checking or escaping anything again. A line already open is
 * discarded. */
ifx_rc ifxi_lp_begin_line_prefix(ifx_lp *lp, const ifx_lp_prefix *p, ifx_err *err);

/* Where a tag with the plain key key[0..klen) would go in p->text: *at is the offset of the ','
 * it would be written before (the end of the text when it sorts last). False when the tag could
 * not be added as ifx_lp_add_tag would add it after p: the key is not plain (it would need a
 * check or escaping), is "time", or is one of p's keys already. */
bool ifxi_lp_prefix_tag_at(const ifx_lp_prefix *p, const char *key, size_t klen, size_t *at);

/* Lines written straight into the batch, for callers that know a line's whole layout and hand
 * anything unusual to the ifx_lp_* calls (connector/mapping.c): no private buffers, no copy at
 * the end of the line. The caller gives the same bytes ifx_lp_end_line would, and takes the
 * checks it makes on itself (or hands over where they could refuse).
 *
 * ifxi_lp_direct_begin discards an open line and returns where the line goes, with room for
 * `most` bytes, or NULL when the batch cannot take that many (IFX_E_FULL or out of memory: hand
 * over, the ifx_lp_* calls give the exact answer). ifxi_lp_direct_end takes the line ending at
 * end (after its '\n') into the batch; ifxi_lp_direct_cancel drops what was written. */
char *ifxi_lp_direct_begin(ifx_lp *lp, size_t most);
void ifxi_lp_direct_end(ifx_lp *lp, char *end);
void ifxi_lp_direct_cancel(ifx_lp *lp);

/* Writes " <time>" for time_ns in lp's precision at out (IFXI_LP_DECIMAL_MAX + 1 bytes) and
 * returns its length, or 0 when lp's target cannot store that time (ifx_lp_end_line refuses
 * it). */
size_t ifxi_lp_time_text(const ifx_lp *lp, int64_t time_ns, char *out);

#endif
