/* Benchmarks: one machine-readable line per figure, for scripts/bench's table.
 *
 *     table: <figure> | <value> | <unit> | <ceiling value> | <ceiling: what was measured>
 *
 * A ceiling is measured in the same run on the same bytes (memcpy of the line protocol for the
 * encoder, one memchr pass over the answer for the readers), so the ratio value / ceiling says
 * how far a figure is from what the machine allows, whatever the machine. 0 and "-": none. */
#ifndef IFX_BENCH_TABLE_H
#define IFX_BENCH_TABLE_H

#include <stdio.h>

static inline void bench_table(const char *figure, double value, const char *unit, double ceiling,
                               const char *ceiling_what)
{
    printf("table: %s | %.6g | %s | %.6g | %s\n", figure, value, unit, ceiling, ceiling_what);
}

#endif
