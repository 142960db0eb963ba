/* ifx — the source's rows to messages (internal header). Both functions see only the data
 * columns: result, table, _start and _stop describe the query, not the row (_stop is the query's
 * "now"), so a row read again by a later poll has the same identity and the same payload.
 */
#ifndef IFX_CONNECTOR_SOURCE_ROWS_H
#define IFX_CONNECTOR_SOURCE_ROWS_H

#include <stdint.h>

#include "ifx/buf.h"
#include "ifx/config.h"
#include "ifx/error.h"
#include "ifx/rows.h"

/* Two independent 64-bit hashes of the row's measurement and every data column (name, type and
 * value, so 1 and "1" differ): h1 is the cursor's row hash, h1 and h2 together the message id. */
void ifxi_source_rows_identity(const ifx_row *row, uint64_t *h1, uint64_t *h2);

/* Appends the row's message payload to out, as c says (payload_column and payload_format, or
 * a JSON object of the data columns). IFX_E_INVALID with a message naming the column when the
 * row cannot give one (missing column, bad base64 or JSON, an empty payload); the error code of
 * out with "a row is too large" when out is full. out may hold partial bytes after a failure. */
ifx_rc ifxi_source_rows_payload(const ifx_config *c, const ifx_row *row, ifx_buf *out,
                                ifx_err *err);

#endif
