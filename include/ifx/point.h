/* ifx — a point written as JSON, the input format of `ifx encode`:
 *
 *   {"measurement": "cpu", "tags": {"host": "a"}, "fields": {"usage": 64.2}, "time":
 * 1590488773254420000}
 *
 * Field values: a JSON string is a string field, true/false a boolean, an integer literal an
 * integer (signed 64-bit), a number with a fraction or exponent a float; {"int": n}, {"uint": n}
 * and {"float": n} force a type. A null field or tag is left out. Tag values are strings (a
 * number or boolean is taken by its JSON text). "time" is optional, in nanoseconds.
 */
#ifndef IFX_POINT_H
#define IFX_POINT_H

#include <stddef.h>
#include "ifx/export.h"
#include "ifx/buf.h"
#include "ifx/error.h"
#include "ifx/lp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parses one JSON point from json[0..len) and appends its line to lp's batch. scratch is a
 * caller-owned buffer reused for decoded strings (no allocation once warm). On any refusal the
 * batch is unchanged and err names the problem. IFX_E_FULL: as ifx_lp_end_line. */
IFX_EXTERN ifx_rc ifx_point_encode_json(ifx_lp *lp, const char *json, size_t len, ifx_buf *scratch,
                                        ifx_err *err);

#ifdef __cplusplus
}
#endif
#endif
