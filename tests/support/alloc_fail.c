/* See alloc_fail.h. */
#include "alloc_fail.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h> /* the prototypes of what is interposed */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

static _Thread_local bool armed; /* this thread's allocations count */
static atomic_long countdown;    /* the allocation that fails when it reaches 0 */
static atomic_bool injected;     /* it failed */
static atomic_bool persist;      /* every allocation after it fails too */

static atomic_bool all_threads; /* alloc_fail_arm_all: every thread counts */

static _Thread_local bool paused; /* alloc_fail_pause: not this thread, whatever is armed */

static bool fail_now(void)
{
    if (paused || (!armed && !atomic_load(&all_threads)))
        return false;
    if (atomic_load(&injected))
        return atomic_load(&persist);
    if (atomic_fetch_sub(&countdown, 1) == 1) {
        atomic_store(&injected, true);
        return true;
    }
    return false;
}

/* A failure as the C library's: NULL with errno ENOMEM (glibc's own callers assert the errno). */
static void *failed(void)
{
    errno = ENOMEM;
    return NULL;
}

void *malloc(size_t n)
{
    return fail_now() ? failed() : __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
    return fail_now() ? failed() : __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
    return fail_now() ? failed() : __libc_realloc(p, n);
}

void alloc_fail_arm(long k, bool until_disarmed)
{
    atomic_store(&persist, until_disarmed);
    atomic_store(&injected, false);
    atomic_store(&countdown, k);
    armed = true;
}

void alloc_fail_arm_all(long k)
{
    atomic_store(&persist, false);
    atomic_store(&injected, false);
    atomic_store(&countdown, k);
    atomic_store(&all_threads, true);
}

void alloc_fail_disarm(void)
{
    armed = false;
    atomic_store(&all_threads, false);
}

bool alloc_fail_hit(void)
{
    return atomic_load(&injected);
}

bool alloc_fail_pause(void)
{
    bool was = armed;
    armed = false;
    paused = true;
    return was;
}

void alloc_fail_resume(bool was)
{
    armed = was;
    paused = false;
}
