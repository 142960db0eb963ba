/* ifx — what the line protocol builder (core/lp.c) shares with the code that fills its lines. */
#ifndef IFX_CORE_LP_INTERNAL_H
#define IFX_CORE_LP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ifx/error.h"
#include "ifx/lp.h"

/* The longest decimal of a uint64_t (20 digits), with room for a sign. */
#define IFXI_LP_DECIMAL_MAX 21

/* Writes v in decimal at out (IFXI_LP_DECIMAL_MAX bytes at least, not NUL-terminated); returns
 * the length. For the hot path: snprintf costs more than the rest of a line. */
size_t ifxi_lp_format_u64(uint64_t v, char *out);

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

#endif
