/* Test support: allocation failures injected on one thread. Linking alloc_fail.c into a test
 * executable interposes malloc, calloc and realloc (the library, and a dlopen'ed plugin, bind to
 * the executable's first); while a thread is armed, its k-th allocation fails, and with persist
 * every one after it too. Other threads (a server, the engines' own threads) are left alone.
 *
 * The sanitizer runtimes interpose the allocator themselves, so a test using this runs in the
 * plain build only (tests/CMakeLists.txt). */
#ifndef IFX_TEST_ALLOC_FAIL_H
#define IFX_TEST_ALLOC_FAIL_H

#include <stdbool.h>

/* Arms the calling thread: its k-th allocation from now fails (k >= 1); with persist, every
 * allocation after it fails too, until alloc_fail_disarm. */
void alloc_fail_arm(long k, bool persist);

/* Arms every thread of the process at once (the engines' own threads too): the k-th allocation
 * made by any of them from now fails, once. alloc_fail_disarm ends it. */
void alloc_fail_arm_all(long k);

/* Disarms the calling thread (and the process, after alloc_fail_arm_all). */
void alloc_fail_disarm(void);

/* Whether an allocation has failed since the last alloc_fail_arm. */
bool alloc_fail_hit(void);

/* For a callback the armed code calls (a log, a host's send): its own allocations are not the
 * code's under test, also after alloc_fail_arm_all. pause returns whether the thread was armed;
 * resume takes that back. Not nested. */
bool alloc_fail_pause(void);
void alloc_fail_resume(bool was);

#endif
