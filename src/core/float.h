/* ifx — float text for places other than line protocol (see float.c). */
#ifndef IFX_CORE_FLOAT_H
#define IFX_CORE_FLOAT_H

#include <stddef.h>

/* The shortest digits that read back to v, always written positionally ("0.0001", 1e21 as
 * "1000000000000000000000"): for the source's JSON payloads, `ifx query` tables and the TOML
 * reader's JSON, whose consumers have always had this form; line protocol takes the shorter
 * exponent form (ifx_lp_format_float). out holds IFX_LP_FLOAT_MAX bytes; 0 for NaN and
 * infinities. */
size_t ifxi_float_format_positional(double v, char *out);

#endif
