/* Benchmarks only: counts malloc/calloc/realloc calls and the bytes of heap in use, by replacing
 * the allocator's entry points in the benchmark executable (glibc sends its own internal calls
 * and those of dlopen'ed libraries to them too) and forwarding to glibc's allocator.
 *
 * This is the benchmarks' one piece of global state; the library has none. In sanitizer builds,
 * whose runtime owns malloc, nothing is replaced and every figure reads 0
 * (alloc_track_available() says so). */
#ifndef IFX_BENCH_ALLOC_TRACK_H
#define IFX_BENCH_ALLOC_TRACK_H

#include <stdbool.h>
#include <stddef.h>

/* False in sanitizer builds: the figures are not measured. */
bool alloc_track_available(void);

/* Counts allocation calls from now on (or stops counting them), on every thread of the process
 * (a library's own threads, such as the sink's sender, are part of its cost) except those that
 * called alloc_track_exclude_thread. */
void alloc_track_count_calls(bool on);

/* This thread's allocation calls are never counted: the benchmarks' HTTP server threads call it,
 * so that the stand-in server does not add to the figure of the client it serves. */
void alloc_track_exclude_thread(void);

/* Allocation calls counted so far. */
unsigned long long alloc_track_calls(void);

/* Bytes of heap in use now (usable sizes of live blocks, every thread). */
size_t alloc_track_live(void);

/* Most bytes in use since the last alloc_track_reset_peak (or the start). */
size_t alloc_track_peak(void);

/* Starts a new peak from what is in use now. */
void alloc_track_reset_peak(void);

#endif
