/* ifx — what the line protocol builder (core/lp.c) shares with the code that fills its lines. */
#ifndef IFX_CORE_LP_INTERNAL_H
#define IFX_CORE_LP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* The longest decimal of a uint64_t (20 digits), with room for a sign. */
#define IFXI_LP_DECIMAL_MAX 21

/* Writes v in decimal at out (IFXI_LP_DECIMAL_MAX bytes at least, not NUL-terminated); returns
 * the length. For the hot path: snprintf costs more than the rest of a line. */
size_t ifxi_lp_format_u64(uint64_t v, char *out);

#endif
