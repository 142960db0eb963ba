/* ifx — a durable on-disk queue of records (the sink's spool, ../shared/DESIGN.md delivery
 * contract: pending messages survive a restart when spool_dir is set).
 *
 * Records are opaque byte strings, delivered in the order appended. ifxi_spool_append returns
 * only when the record is on disk (written and fsync'ed, the directory too when a file was
 * created). ifxi_spool_peek returns the oldest record not yet popped; ifxi_spool_pop marks it
 * delivered, durably, so that after a crash at most the record being delivered is seen again,
 * never one already popped and never a partial one. A torn record at the end of a file (a crash
 * during append) is detected by its length and checksum and dropped at open; that record was
 * never acknowledged to the caller.
 *
 * Layout: segment files "<16 hex digits>.spool" (a new one after max_segment_bytes), each a
 * sequence of records [magic u32][length u32][crc32 u32][bytes]; and "position", holding the
 * segment number and byte offset of the oldest undelivered record, replaced atomically (write,
 * fsync, rename, fsync directory). Segments wholly delivered are deleted.
 * Integers are little-endian; the magic is "IFXR"; the crc32 (IEEE) covers the length field and
 * the bytes, so a damaged length is caught like damaged bytes. A record is at most 1 GiB.
 * "position" is one line of text with its own crc32, so a damaged one is recognised as such.
 *
 * Recovery at open, and what it never does: a record that fails its checks at the very end of
 * the newest segment is a torn append (or a damaged last record) and is cut away; the same
 * anywhere else (valid records after it, or an older segment) is IFX_E_IO naming the file and the
 * offset, never skipped. A missing or damaged "position" restarts delivery from the oldest segment
 * (at least once: records may be delivered again, none is lost). What recovery did is reported by
 * ifxi_spool_note.
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
    /* refuse appends (IFX_E_FULL) beyond this many undelivered bytes; 0: no limit */
    uint64_t max_bytes;
    uint64_t max_segment_bytes; /* start a new segment file after this size; 0: 64 MiB */
    bool no_fsync;              /* tests and benchmarks only: skip fsync */
} ifx_spool_options;

/* Opens (creating it, mode 0700, when missing) the spool in dir, recovers after a crash, and takes
 * the lock. Copies dir and opt (opt may be NULL: the defaults). IFX_E_IO with the path and errno
 * text when the directory cannot be used, when it is locked by another process ("in use"), or
 * when a record other than the last one is damaged (file and offset). *out is closed with
 * ifxi_spool_close. */
ifx_rc ifxi_spool_open(const char *dir, const ifx_spool_options *opt, ifx_spool **out,
                       ifx_err *err);

/* Closes the files and releases the lock. Undelivered records stay for the next open. s may be
 * NULL. */
void ifxi_spool_close(ifx_spool *s);

/* What the last open's recovery did, one line ("dropped a torn record ...", "position missing
 * ..."), or NULL when it found the spool as it was left. Owned by s, valid until close. */
const char *ifxi_spool_note(ifx_spool *s);

/* Appends one record durably; copies rec. IFX_E_FULL when max_bytes would be exceeded,
 * IFX_E_INVALID over 1 GiB, IFX_E_IO when the disk refuses (then the record is not spooled). */
ifx_rc ifxi_spool_append(ifx_spool *s, const void *rec, size_t len, ifx_err *err);

/* Copies the oldest undelivered record into rec (reset first; IFX_E_FULL when it is over rec's
 * cap). *empty true when there is none. Peeking again without a pop gives the same record. */
ifx_rc ifxi_spool_peek(ifx_spool *s, ifx_buf *rec, bool *empty, ifx_err *err);

/* Marks the record last returned by ifxi_spool_peek as delivered, durably. IFX_E_USAGE when no
 * record was peeked since the last pop. IFX_E_IO when the new position cannot be made durable (a
 * full disk: ENOSPC); nothing changed then, the record stays peeked, and pop may simply be called
 * again. A deliverer must retry the pop, not peek again: a peek hands out the same record, which
 * would deliver it twice. */
ifx_rc ifxi_spool_pop(ifx_spool *s, ifx_err *err);

/* Undelivered records and their bytes (the records' own bytes, without the 12-byte headers; the
 * measure max_bytes limits). */
void ifxi_spool_pending(ifx_spool *s, uint64_t *records, uint64_t *bytes);

#ifdef __cplusplus
}
#endif
#endif
