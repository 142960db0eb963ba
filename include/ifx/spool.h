/* ifx — a durable on-disk queue of records (the sink's spool, ../shared/DESIGN.md delivery
 * contract: pending messages survive a restart when spool_dir is set).
 *
 * Records are opaque byte strings, delivered in the order appended. ifx_spool_append returns
 * only when the record is on disk (written and fsync'ed, the directory too when a file was
 * created). ifx_spool_peek returns the oldest record not yet popped; ifx_spool_pop marks it
 * delivered, durably, so that after a crash at most the record being delivered is seen again,
 * never one already popped and never a partial one. A torn record at the end of a file (a crash
 * during append) is detected by its length and checksum and dropped at open; that record was
 * never acknowledged to the caller.
 *
 * Layout: segment files "<16 hex digits>.spool" (a new one after max_segment_bytes), each a
 * sequence of records [magic u32][length u32][crc32 u32][bytes]; and "position", holding the
 * segment number and byte offset of the oldest undelivered record, replaced atomically (write,
 * fsync, rename, fsync directory). Segments wholly delivered are deleted.
 *
 * Thread safety: an ifx_spool may be used from several threads at once (appenders and one
 * deliverer); it has its own mutex. One process per directory (an flock on "lock" enforces it).
 */
#ifndef IFX_SPOOL_H
#define IFX_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ifx/buf.h"
#include "ifx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ifx_spool ifx_spool;

typedef struct ifx_spool_options {
    uint64_t max_bytes;         /* refuse appends (IFX_E_FULL) beyond this many undelivered bytes; 0: no limit */
    uint64_t max_segment_bytes; /* start a new segment file after this size; 0: 64 MiB */
    bool no_fsync;              /* tests and benchmarks only: skip fsync */
} ifx_spool_options;

/* Opens (creating it when missing) the spool in dir, recovers after a crash, and takes the lock.
 * IFX_E_IO with the path and errno text when the directory cannot be used or is locked by another
 * process. */
ifx_rc ifx_spool_open(const char *dir, const ifx_spool_options *opt, ifx_spool **out,
                      ifx_err *err);

/* Closes the files and releases the lock. Undelivered records stay for the next open. */
void ifx_spool_close(ifx_spool *s);

/* Appends one record durably. IFX_E_FULL when max_bytes would be exceeded. */
ifx_rc ifx_spool_append(ifx_spool *s, const void *rec, size_t len, ifx_err *err);

/* Copies the oldest undelivered record into rec (reset first). *empty true when there is none. */
ifx_rc ifx_spool_peek(ifx_spool *s, ifx_buf *rec, bool *empty, ifx_err *err);

/* Marks the record last returned by ifx_spool_peek as delivered, durably. */
ifx_rc ifx_spool_pop(ifx_spool *s, ifx_err *err);

/* Undelivered records and their bytes. */
void ifx_spool_pending(ifx_spool *s, uint64_t *records, uint64_t *bytes);

#ifdef __cplusplus
}
#endif
#endif
