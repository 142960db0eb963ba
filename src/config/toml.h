/* ifx — a strict TOML 1.0 reader (https://toml.io/en/v1.0.0) that yields compact JSON text.
 *
 * The configuration layer reads JSON; a TOML document (an Iggy connector file, or a config written
 * by hand) is converted to the equivalent JSON object, so both forms give the same tree.
 *
 * Mapping: tables and inline tables become objects, arrays (static and arrays of tables) arrays,
 * strings strings, booleans booleans, integers decimal integers (int64), and floats the shortest
 * decimal that reads back to the same double, always with a '.' or an exponent so they stay
 * floats ("1.0", "1e300"). The four date-time kinds become strings holding their exact source text.
 * Newlines inside multi-line strings are given as LF, whether the file uses LF or CRLF.
 *
 * Refused with IFX_E_INVALID: anything TOML 1.0 refuses (invalid UTF-8, control characters,
 * redefined keys and tables, out-of-range integers, ...), plus what JSON cannot represent (inf and
 * nan, floats that overflow to infinity), and nesting deeper than IFX_TOML_MAX_DEPTH. The message
 * is "line L, column C: <what is wrong>" (1-based; the column counts UTF-8 characters) and
 * ifx_err.offset is the byte offset of the problem. Messages quote keys but never values, so a
 * secret cannot reach them through a typo.
 *
 * Thread safety: reentrant; no shared state.
 */
#ifndef IFX_TOML_H
#define IFX_TOML_H

#include <stddef.h>
#include "ifx/buf.h"
#include "ifx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Deepest nesting of tables and arrays accepted (the document itself is level 1); deeper input
 * is refused, not recursed. */
#define IFX_TOML_MAX_DEPTH 128

/* Converts the TOML 1.0 document in[0..len) into one compact JSON object appended to out (keys in
 * document order of first definition; no whitespace). An empty document gives "{}".
 *
 * Borrows in for the call only (no NUL needed; never reads past len). On any failure out is left
 * as it was: IFX_E_INVALID for a malformed document (see above), IFX_E_FULL when the JSON does not
 * fit under out's cap, IFX_E_NOMEM when an allocation fails. Every temporary is freed before
 * returning. */
ifx_rc ifxi_toml_to_json(const char *in, size_t len, ifx_buf *out, ifx_err *err);

#ifdef __cplusplus
}
#endif
#endif
