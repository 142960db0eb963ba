/* Test support for the ABI hosts (tests/abi): what a C host shares when it plays the Iggy
 * connectors runtime against a built plugin (../shared/spec/iggy-plugin-abi.md §1, §2, §3, §4):
 * the plugin loaded and bound by name, its exported symbol table, ids from one counter, the log
 * callback that records every line and checks the contract of §4, and a few small helpers. */
#ifndef IFX_TEST_ABI_HOST_H
#define IFX_TEST_ABI_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the plugin, bound as the runtime binds it ---------------------------------------------- */

/* dlopens path with RTLD_LAZY | RTLD_LOCAL and binds the n symbols names[i] into *slots[i]; a
 * missing symbol fails the whole load, as in the runtime ("the plugin lacks a <kind> symbol").
 * Returns the handle, or NULL after a line on stderr. */
void *abi_load(const char *path, const char *const *names, void **const *slots, size_t n,
               const char *kind);

/* The defined, global dynamic symbols of the ELF64 shared object at path, sorted against want:
 * how many are in want, how many are ifx_*, and every other one (counted and listed). */
typedef struct abi_exports {
    int iggy, ifx, other;
    char others[512];
} abi_exports;

void abi_exports_of(const char *path, const char *const *want, size_t n_want, abi_exports *l);

/* The same path opened again is the same handle (one load per path, §1.2), and version() is a
 * static string that names ifx. */
void abi_check_reload_and_version(void *lib, const char *path, const char *(*version)(void));

/* The runtime allocates ids from one counter and never reuses them (§2.2, §3.3). */
uint32_t abi_new_id(void);

/* ---- the runtime's log callback: records every line and checks the contract of §4 --------- */

/* The iggy_log_callback handed to every open. Counts NULL pointers, empty targets and invalid
 * UTF-8 as violations; echoes each line to stderr when IFX_TEST_VERBOSE is set. */
void abi_record_log(uint8_t level, const uint8_t *target, size_t target_len, const uint8_t *msg,
                    size_t msg_len);

/* The number of lines recorded so far: a mark for abi_log_has and abi_dump_log. */
size_t abi_log_mark(void);

/* True when a line recorded since mark, at level or above, contains a (and b unless NULL). */
bool abi_log_has(size_t mark, int level, const char *a, const char *b);

/* Prints the lines recorded since mark to stderr. */
void abi_dump_log(size_t mark);

/* The log as a whole: no violation, some lines, none showing token, every target non-empty and
 * every level in 0..4. */
void abi_check_log_contract(const char *token);

/* Frees the recorded lines (at teardown). */
void abi_log_free(void);

/* ---- small helpers ------------------------------------------------------------------------ */

/* A heap copy of exactly n bytes (one byte allocated for n == 0), so a sanitizer catches any
 * read past it. */
void *abi_exact_copy(const void *p, size_t n);

/* CLOCK_MONOTONIC in seconds. */
double abi_now_s(void);

/* The threads of this process (/proc/self/task). */
int abi_count_threads(void);

/* Polls abi_count_threads every 20 ms, at most 50 times, until it equals want; returns the last
 * count. */
int abi_wait_threads(int want);

#endif
