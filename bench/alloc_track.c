/* Benchmarks only: allocation counting (see alloc_track.h). */
#include "alloc_track.h"

#include <malloc.h>
#include <stdatomic.h>

#if defined(__SANITIZE_ADDRESS__)
#define IFX_BENCH_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IFX_BENCH_SANITIZED 1
#endif
#endif

static _Atomic bool count_calls;    /* on every thread but the excluded ones */
static _Thread_local bool excluded; /* this thread's calls are never counted */
static _Atomic unsigned long long calls;
static _Atomic long long live; /* can dip below what is really used: see free() */
static _Atomic long long peak;

static bool counted(void)
{
    return !excluded && atomic_load_explicit(&count_calls, memory_order_relaxed);
}

#ifndef IFX_BENCH_SANITIZED
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static void note_alloc(void *p)
{
    if (!p)
        return;
    long long now =
        atomic_fetch_add_explicit(&live, (long long)malloc_usable_size(p), memory_order_relaxed) +
        (long long)malloc_usable_size(p);
    long long top = atomic_load_explicit(&peak, memory_order_relaxed);
    while (now > top && !atomic_compare_exchange_weak_explicit(
                            &peak, &top, now, memory_order_relaxed, memory_order_relaxed))
        ;
}

static void note_free(void *p)
{
    /* Blocks from aligned allocations (not replaced here) are subtracted without having been
     * added; they are rare and small in these benchmarks. */
    if (p)
        atomic_fetch_sub_explicit(&live, (long long)malloc_usable_size(p), memory_order_relaxed);
}

void *malloc(size_t n)
{
    if (counted())
        atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    void *p = __libc_malloc(n);
    note_alloc(p);
    return p;
}

void *calloc(size_t a, size_t b)
{
    if (counted())
        atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    void *p = __libc_calloc(a, b);
    note_alloc(p);
    return p;
}

void *realloc(void *p, size_t n)
{
    if (counted())
        atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    /* For the peak, a moving realloc briefly holds both blocks; counting the old one out
     * first makes the figure a little low rather than a little high. */
    note_free(p);
    void *q = __libc_realloc(p, n);
    if (q)
        note_alloc(q);
    else if (p && n)
        note_alloc(p); /* failed: the old block lives on */
    return q;
}

void free(void *p)
{
    note_free(p);
    __libc_free(p);
}

bool alloc_track_available(void)
{
    return true;
}
#else
bool alloc_track_available(void)
{
    return false;
}
#endif

void alloc_track_count_calls(bool on)
{
    atomic_store(&count_calls, on);
}

void alloc_track_exclude_thread(void)
{
    excluded = true;
}

unsigned long long alloc_track_calls(void)
{
    return atomic_load(&calls);
}

size_t alloc_track_live(void)
{
    long long v = atomic_load(&live);
    return v > 0 ? (size_t)v : 0;
}

size_t alloc_track_peak(void)
{
    long long v = atomic_load(&peak);
    return v > 0 ? (size_t)v : 0;
}

void alloc_track_reset_peak(void)
{
    atomic_store(&peak, atomic_load(&live));
}
