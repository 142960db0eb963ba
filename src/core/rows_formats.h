/* ifx — query result readers: one entry point per format, which rows.c dispatches to. Each reads
 * the whole body of c and hands every row to c->fn. Not part of the public API. */
#ifndef IFX_ROWS_FORMATS_H
#define IFX_ROWS_FORMATS_H

#include "core/rows_common.h"

/* rows_json.c */
ifx_rc ifxi_rows_read_v1_json(ifx_rows_ctx *c);
ifx_rc ifxi_rows_read_v3_jsonl(ifx_rows_ctx *c);
ifx_rc ifxi_rows_read_v3_json(ifx_rows_ctx *c);

/* rows_csv.c */
ifx_rc ifxi_rows_read_v2_csv(ifx_rows_ctx *c);
ifx_rc ifxi_rows_read_v3_csv(ifx_rows_ctx *c);

#endif
