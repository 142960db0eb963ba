/* ifx — durable on-disk record queue (see src/connector/spool.h).
 *
 * Invariants the recovery at open relies on:
 * - Appends are serialised, write and fdatasync together under the mutex, so every record on
 *   disk is complete and durable before the next one starts. A record that fails its checks can
 *   therefore only legitimately sit at the very end of the newest segment (a crash during that
 *   append); anywhere else it is damage, and open refuses to skip it.
 * - A new segment is created (and the directory fsync'ed) before anything refers to it, and a
 *   segment is deleted only after a position past it is durable. So the position always names an
 *   existing segment and the segments from it to the newest are numbered without gaps.
 * Only counters and positions live in memory; records are read back from disk when peeked.
 *
 * Why one file of this size: the record format, the position file, the segments, recovery at
 * open and append/peek/pop keep the invariants above together, under one mutex; about a third
 * is recovery, which must know every other part's on-disk form.
 */
#include "connector/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <isa-l/crc.h>

#include "core/le.h"

#define SPOOL_MAGIC           0x52584649u /* "IFXR" read as a little-endian u32 */
#define SPOOL_HEADER          12u
#define SPOOL_MAX_RECORD      ((uint64_t)1 << 30)
#define SPOOL_DEFAULT_SEGMENT ((uint64_t)64 << 20)
#define SPOOL_NAME_SIZE       32 /* "<16 hex>.spool" and its NUL, with room */
#define SPOOL_SCAN_CHUNK      65536
#define POSITION_FILE         "position"
#define POSITION_TMP          "position.tmp"
#define LOCK_FILE             "lock"

struct ifx_spool {
    pthread_mutex_t lock;
    char *dir; /* for messages only: every file is reached through dir_fd */
    int dir_fd;
    int lock_fd;
    uint64_t max_bytes;
    uint64_t max_segment_bytes;
    bool no_fsync;

    uint64_t read_seg, read_off; /* the oldest undelivered record */
    int read_fd;                 /* read_seg opened for reading, -1 until needed */
    bool peeked;                 /* a record was peeked and not yet popped */
    uint32_t peeked_len;

    uint64_t write_seg, write_size; /* the newest segment, appended to through write_fd */
    int write_fd;
    bool write_broken; /* a failed append could not be cut back: refuse appends until reopened */

    uint64_t pending_records, pending_bytes;
    char note[512];
};

/* ---- small helpers ----------------------------------------------------------------------------
 */

/* The CRC-32 of zip and gzip (reflected polynomial 0xEDB88320, pre- and post-inverted), which the
 * on-disk format names. zlib's convention, so that calls chain over pieces of a record. */
static uint32_t crc_update(uint32_t crc, const void *p, size_t n)
{
    return crc32_gzip_refl(crc, p, n);
}

static void segment_name(uint64_t seg, char *out)
{
    snprintf(out, SPOOL_NAME_SIZE, "%016" PRIx64 ".spool", seg);
}

/* Exactly 16 lowercase hex digits and ".spool": anything else in the directory is not ours. */
static bool parse_segment_name(const char *name, uint64_t *seg)
{
    uint64_t v = 0;
    if (strlen(name) != 22 || strcmp(name + 16, ".spool") != 0)
        return false;
    for (int i = 0; i < 16; i++) {
        char c = name[i];
        if (c >= '0' && c <= '9')
            v = v << 4 | (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v << 4 | (uint64_t)(c - 'a' + 10);
        else
            return false;
    }
    *seg = v;
    return true;
}

/* strerror is not thread-safe and appenders run on several threads. */
static const char *errno_text(int e, char *buf, size_t n)
{
    if (strerror_r(e, buf, n) != 0)
        snprintf(buf, n, "errno %d", e);
    return buf;
}

static ifx_rc io_error(const ifx_spool *s, ifx_err *err, const char *name, const char *what, int e)
{
    char eb[128];
    if (strcmp(name, ".") == 0)
        return ifx_err_set(err, IFX_E_IO, "spool %s: %s: %s", s->dir, what,
                           errno_text(e, eb, sizeof eb));
    return ifx_err_set(err, IFX_E_IO, "spool %s/%s: %s: %s", s->dir, name, what,
                       errno_text(e, eb, sizeof eb));
}

static void note_add(ifx_spool *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_add(ifx_spool *s, const char *fmt, ...)
{
    size_t n = strlen(s->note);
    va_list ap;
    if (n && n + 2 < sizeof s->note) {
        memcpy(s->note + n, "; ", 3);
        n += 2;
    }
    va_start(ap, fmt);
    vsnprintf(s->note + n, sizeof s->note - n, fmt, ap);
    va_end(ap);
}

static int sync_fd(const ifx_spool *s, int fd)
{
    return s->no_fsync ? 0 : fdatasync(fd);
}

/* A created, renamed or deleted name is durable only once its directory is fsync'ed. */
static int sync_dir(const ifx_spool *s)
{
    return s->no_fsync ? 0 : fsync(s->dir_fd);
}

/* Reads n bytes at off. A short read is EIO: under the lock nobody else shortens our files. */
static int pread_full(int fd, void *p, size_t n, uint64_t off)
{
    char *b = p;
    while (n) {
        ssize_t k = pread(fd, b, n, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            if (k == 0)
                errno = EIO;
            return -1;
        }
        b += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

static int write_full(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n) {
        ssize_t k = write(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

static int file_size(int fd, uint64_t *size)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -1;
    *size = (uint64_t)st.st_size;
    return 0;
}

/* ---- the position file ------------------------------------------------------------------------
 */

/* One line of text, so an operator can read it; the crc makes a damaged one recognisable. */
static size_t position_format(uint64_t seg, uint64_t off, char *out, size_t n)
{
    int k =
        snprintf(out, n, "ifx-spool-position 1 segment=%016" PRIx64 " offset=%" PRIu64, seg, off);
    uint32_t crc = crc_update(0, out, (size_t)k);
    k += snprintf(out + k, n - (size_t)k, " crc=%08" PRIx32 "\n", crc);
    return (size_t)k;
}

typedef enum { POSITION_OK, POSITION_MISSING, POSITION_DAMAGED } position_state;

static ifx_rc position_read(ifx_spool *s, position_state *state, uint64_t *seg, uint64_t *off,
                            ifx_err *err)
{
    char text[160], expect[160];
    size_t len = 0;
    uint32_t crc;
    ifx_rc rc = IFX_OK;
    int fd = openat(s->dir_fd, POSITION_FILE, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        if (errno == ENOENT) {
            *state = POSITION_MISSING;
            return IFX_OK;
        }
        return io_error(s, err, POSITION_FILE, "cannot open", errno);
    }
    while (len < sizeof text - 1) {
        ssize_t k = read(fd, text + len, sizeof text - 1 - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = io_error(s, err, POSITION_FILE, "cannot read", errno);
            goto out;
        }
        if (k == 0)
            break;
        len += (size_t)k;
    }
    text[len] = '\0';
    /* Parsed, then written out again and compared byte for byte: one test covers the format,
     * the crc, stray bytes and a NUL inside. */
    *state = POSITION_DAMAGED;
    if (sscanf(text,
               "ifx-spool-position 1 segment=%16" SCNx64 " offset=%20" SCNu64 " crc=%8" SCNx32, seg,
               off, &crc) == 3 &&
        position_format(*seg, *off, expect, sizeof expect) == len && memcmp(expect, text, len) == 0)
        *state = POSITION_OK;
out:
    close(fd);
    return rc;
}

/* Write a temporary file, make it durable, rename it over the old one, make the rename durable:
 * a crash leaves either the old position or the new one, never a mix. */
static ifx_rc position_write(ifx_spool *s, uint64_t seg, uint64_t off, ifx_err *err)
{
    char text[160];
    size_t len = position_format(seg, off, text, sizeof text);
    ifx_rc rc = IFX_OK;
    int fd = openat(s->dir_fd, POSITION_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0)
        return io_error(s, err, POSITION_TMP, "cannot create", errno);
    if (write_full(fd, text, len) != 0) {
        rc = io_error(s, err, POSITION_TMP, "cannot write", errno);
        goto out;
    }
    if (sync_fd(s, fd) != 0) {
        rc = io_error(s, err, POSITION_TMP, "cannot fsync", errno);
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = io_error(s, err, POSITION_TMP, "cannot close", errno);
        goto out;
    }
    fd = -1;
    if (renameat(s->dir_fd, POSITION_TMP, s->dir_fd, POSITION_FILE) != 0) {
        rc = io_error(s, err, POSITION_FILE, "cannot rename " POSITION_TMP " to it", errno);
        goto out;
    }
    if (sync_dir(s) != 0)
        rc = io_error(s, err, ".", "cannot fsync the directory", errno);
out:
    if (fd >= 0)
        close(fd);
    if (rc)
        unlinkat(s->dir_fd, POSITION_TMP, 0);
    return rc;
}

/* ---- records ----------------------------------------------------------------------------------
 */

/* Checks the record at off in a file of size end without reading it whole (records reach 1 GiB).
 * Returns 1 and *len when it is valid, 0 and *why when not, -1 with errno when reading failed. */
static int record_check(int fd, uint64_t off, uint64_t end, unsigned char *chunk, uint32_t *len,
                        const char **why)
{
    unsigned char h[SPOOL_HEADER];
    uint32_t n, crc;

    if (end - off < SPOOL_HEADER) {
        *why = "incomplete header";
        return 0;
    }
    if (pread_full(fd, h, SPOOL_HEADER, off) != 0)
        return -1;
    if (ifx_le_get32(h) != SPOOL_MAGIC) {
        *why = "bad magic";
        return 0;
    }
    n = ifx_le_get32(h + 4);
    if (n > SPOOL_MAX_RECORD) {
        *why = "length over 1 GiB";
        return 0;
    }
    if (n > end - off - SPOOL_HEADER) {
        *why = "incomplete data";
        return 0;
    }
    crc = crc_update(0, h + 4, 4);
    for (uint32_t done = 0; done < n;) {
        uint32_t k = n - done < SPOOL_SCAN_CHUNK ? n - done : SPOOL_SCAN_CHUNK;
        if (pread_full(fd, chunk, k, off + SPOOL_HEADER + done) != 0)
            return -1;
        crc = crc_update(crc, chunk, k);
        done += k;
    }
    if (crc != ifx_le_get32(h + 8)) {
        *why = "checksum mismatch";
        return 0;
    }
    *len = n;
    return 1;
}

/* Whether a valid record starts anywhere after the bad one at bad_off: what tells damage in the
 * middle (refused) from a torn append at the end (cut away). Every byte offset is tried, since a
 * damaged length says nothing about where the next record starts. Returns 1, 0, or -1 (errno). */
static int valid_record_after(int fd, uint64_t bad_off, uint64_t end, unsigned char *window,
                              unsigned char *chunk)
{
    uint64_t pos = bad_off + 1;
    while (pos + SPOOL_HEADER <= end) {
        size_t n = end - pos < SPOOL_SCAN_CHUNK ? (size_t)(end - pos) : SPOOL_SCAN_CHUNK;
        if (pread_full(fd, window, n, pos) != 0)
            return -1;
        for (size_t i = 0; i + 4 <= n; i++) {
            uint32_t len;
            const char *why;
            int r;
            if (ifx_le_get32(window + i) != SPOOL_MAGIC)
                continue;
            r = record_check(fd, pos + i, end, chunk, &len, &why);
            if (r != 0)
                return r;
        }
        /* Windows overlap by 3 bytes so that a magic split between two is still seen. */
        if (n < SPOOL_SCAN_CHUNK)
            break;
        pos += n - 3;
    }
    return 0;
}

/* ---- segments ---------------------------------------------------------------------------------
 */

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static ifx_rc list_segments(ifx_spool *s, uint64_t **out, size_t *count, ifx_err *err)
{
    uint64_t *segs = NULL, seg;
    size_t n = 0, cap = 0;
    struct dirent *de;
    ifx_rc rc = IFX_OK;
    DIR *d;
    int fd = dup(s->dir_fd);

    if (fd < 0)
        return io_error(s, err, ".", "cannot list", errno);
    d = fdopendir(fd);
    if (!d) {
        close(fd);
        return io_error(s, err, ".", "cannot list", errno);
    }
    rewinddir(d);
    for (;;) {
        errno = 0;
        de = readdir(d);
        if (!de) {
            if (errno)
                rc = io_error(s, err, ".", "cannot list", errno);
            break;
        }
        if (!parse_segment_name(de->d_name, &seg))
            continue;
        if (n == cap) {
            size_t c = cap ? cap * 2 : 16;
            uint64_t *p = realloc(segs, c * sizeof *p);
            if (!p) {
                rc = ifx_err_set(err, IFX_E_NOMEM, "spool %s: out of memory", s->dir);
                break;
            }
            segs = p;
            cap = c;
        }
        segs[n++] = seg;
    }
    closedir(d);
    if (rc) {
        free(segs);
        return rc;
    }
    if (n)
        qsort(segs, n, sizeof *segs, compare_u64);
    *out = segs;
    *count = n;
    return IFX_OK;
}

/* The next segment is created, and its name made durable, before any record or position refers
 * to it. */
static ifx_rc segment_create(ifx_spool *s, uint64_t seg, int *out, ifx_err *err)
{
    char name[SPOOL_NAME_SIZE];
    int fd;

    segment_name(seg, name);
    fd = openat(s->dir_fd, name, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return io_error(s, err, name, "cannot create", errno);
    if (sync_dir(s) != 0) {
        ifx_rc rc = io_error(s, err, ".", "cannot fsync the directory", errno);
        close(fd);
        unlinkat(s->dir_fd, name, 0);
        return rc;
    }
    *out = fd;
    return IFX_OK;
}

static ifx_rc read_fd_open(ifx_spool *s, ifx_err *err)
{
    char name[SPOOL_NAME_SIZE];
    if (s->read_fd >= 0)
        return IFX_OK;
    segment_name(s->read_seg, name);
    s->read_fd = openat(s->dir_fd, name, O_RDONLY | O_CLOEXEC);
    if (s->read_fd < 0)
        return io_error(s, err, name, "cannot open", errno);
    return IFX_OK;
}

/* Where the records of the read segment end: the newest one is still growing, and only the
 * mutex holder appends, so write_size is exact; older ones no longer change. */
static ifx_rc read_end(ifx_spool *s, uint64_t *end, ifx_err *err)
{
    char name[SPOOL_NAME_SIZE];
    ifx_rc rc;

    if (s->read_seg == s->write_seg) {
        *end = s->write_size;
        return IFX_OK;
    }
    rc = read_fd_open(s, err);
    if (rc)
        return rc;
    if (file_size(s->read_fd, end) != 0) {
        segment_name(s->read_seg, name);
        return io_error(s, err, name, "cannot stat", errno);
    }
    return IFX_OK;
}

/* Leaves a wholly delivered segment (never the newest). The new position is durable before the
 * file goes, so a crash in between leaves an old file that the next open deletes, never a
 * position naming a deleted file. */
static ifx_rc leave_segment(ifx_spool *s, ifx_err *err)
{
    char name[SPOOL_NAME_SIZE];
    uint64_t old = s->read_seg;
    ifx_rc rc = position_write(s, old + 1, 0, err);

    if (rc)
        return rc;
    if (s->read_fd >= 0)
        close(s->read_fd);
    s->read_fd = -1;
    s->read_seg = old + 1;
    s->read_off = 0;
    segment_name(old, name);
    /* A failed unlink is harmless: the position is past the file, and the next open deletes it. */
    unlinkat(s->dir_fd, name, 0);
    return IFX_OK;
}

/* ---- open and recovery ------------------------------------------------------------------------
 */

static ifx_rc fsync_parent(const char *dir, ifx_err *err)
{
    size_t n = strlen(dir);
    char *parent = malloc(n + 2);
    ifx_rc rc = IFX_OK;
    char eb[128];
    int fd;

    if (!parent)
        return ifx_err_set(err, IFX_E_NOMEM, "spool %s: out of memory", dir);
    memcpy(parent, dir, n + 1);
    while (n > 1 && parent[n - 1] == '/')
        parent[--n] = '\0';
    while (n > 0 && parent[n - 1] != '/')
        n--;
    while (n > 1 && parent[n - 1] == '/')
        n--;
    if (n == 0)
        strcpy(parent, ".");
    else
        parent[n] = '\0';
    fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        rc = ifx_err_set(err, IFX_E_IO, "spool %s: cannot fsync its parent directory %s: %s", dir,
                         parent, errno_text(errno, eb, sizeof eb));
    if (fd >= 0)
        close(fd);
    free(parent);
    return rc;
}

static ifx_rc open_dir_and_lock(ifx_spool *s, ifx_err *err)
{
    char eb[128];

    if (mkdir(s->dir, 0700) == 0) {
        /* The new directory's own name must survive a crash too. */
        if (!s->no_fsync) {
            ifx_rc rc = fsync_parent(s->dir, err);
            if (rc)
                return rc;
        }
    } else if (errno != EEXIST) {
        return ifx_err_set(err, IFX_E_IO, "spool %s: cannot create the directory: %s", s->dir,
                           errno_text(errno, eb, sizeof eb));
    }
    s->dir_fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dir_fd < 0)
        return ifx_err_set(err, IFX_E_IO, "spool %s: cannot open the directory: %s", s->dir,
                           errno_text(errno, eb, sizeof eb));
    s->lock_fd = openat(s->dir_fd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0)
        return io_error(s, err, LOCK_FILE, "cannot open", errno);
    /* flock belongs to the open file description, so a second open in this same process
     * conflicts too: two ifx_spool on one directory would corrupt each other. */
    while (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR)
            continue;
        if (errno == EWOULDBLOCK || errno == EAGAIN)
            return ifx_err_set(err, IFX_E_IO,
                               "spool %s is in use by another process (or another open of it)",
                               s->dir);
        return io_error(s, err, LOCK_FILE, "cannot lock", errno);
    }
    return IFX_OK;
}

/* Validates every record from (seg, off) to the end of one segment, counting them. A bad record
 * at the end of the newest segment is cut away; anywhere else it is refused. */
static ifx_rc scan_segment(ifx_spool *s, int fd, uint64_t seg, uint64_t off, bool newest,
                           unsigned char *window, unsigned char *chunk, uint64_t *end_out,
                           ifx_err *err)
{
    char name[SPOOL_NAME_SIZE];
    uint64_t end = 0;
    uint32_t len;
    const char *why = "";
    int r;

    segment_name(seg, name);
    if (file_size(fd, &end) != 0)
        return io_error(s, err, name, "cannot stat", errno);
    if (off > end)
        return ifx_err_set(err, IFX_E_IO,
                           "spool %s/%s: the position (offset %" PRIu64
                           ") is past the end of the file (%" PRIu64 " bytes)",
                           s->dir, name, off, end);
    while (off < end) {
        r = record_check(fd, off, end, chunk, &len, &why);
        if (r < 0)
            return io_error(s, err, name, "cannot read", errno);
        if (r == 1) {
            s->pending_records++;
            s->pending_bytes += len;
            off += SPOOL_HEADER + len;
            continue;
        }
        if (!newest)
            return ifx_err_set_at(err, IFX_E_IO, (size_t)off,
                                  "spool %s/%s: damaged record at offset %" PRIu64
                                  " (%s) in a segment that is not the newest; not skipping it",
                                  s->dir, name, off, why);
        r = valid_record_after(fd, off, end, window, chunk);
        if (r < 0)
            return io_error(s, err, name, "cannot read", errno);
        if (r == 1)
            return ifx_err_set_at(err, IFX_E_IO, (size_t)off,
                                  "spool %s/%s: damaged record at offset %" PRIu64
                                  " (%s) with valid records after it; not skipping it",
                                  s->dir, name, off, why);
        /* Nothing valid follows: the append in progress at a crash, never acknowledged (appends
         * return only after fdatasync), or damage to the last record. Either way the bytes cannot
         * be delivered, and leaving them would put every later append behind garbage. */
        if (ftruncate(fd, (off_t)off) != 0)
            return io_error(s, err, name, "cannot truncate", errno);
        if (sync_fd(s, fd) != 0)
            return io_error(s, err, name, "cannot fsync", errno);
        note_add(s,
                 "dropped an incomplete or damaged record at the end of %s/%s: %" PRIu64
                 " bytes at offset %" PRIu64 " (%s)",
                 s->dir, name, end - off, off, why);
        end = off;
    }
    *end_out = end;
    return IFX_OK;
}

/* Decides where delivery resumes, deletes what was delivered, checks what is left. */
static ifx_rc recover(ifx_spool *s, ifx_err *err)
{
    uint64_t *segs = NULL, pos_seg = 0, pos_off = 0, start_seg, start_off, end = 0;
    unsigned char *scratch = NULL;
    char name[SPOOL_NAME_SIZE], pname[SPOOL_NAME_SIZE];
    position_state state = POSITION_MISSING;
    bool persist = false;
    size_t n = 0, first;
    ifx_rc rc;

    /* A temporary position left by a crash was never renamed: the old position stands. */
    unlinkat(s->dir_fd, POSITION_TMP, 0);
    rc = list_segments(s, &segs, &n, err);
    if (rc)
        goto out;
    rc = position_read(s, &state, &pos_seg, &pos_off, err);
    if (rc)
        goto out;

    if (n == 0) {
        /* A new spool, or one whose files were all removed: there is nothing to deliver. */
        start_seg = state == POSITION_OK ? pos_seg : 1;
        if (state == POSITION_OK && pos_off != 0)
            note_add(s,
                     "every segment file was missing (the position named offset %" PRIu64
                     " of segment %016" PRIx64 "); starting empty",
                     pos_off, pos_seg);
        if (state == POSITION_DAMAGED)
            note_add(s,
                     "position file %s/" POSITION_FILE " was damaged and no segment is left;"
                     " starting empty",
                     s->dir);
        rc = segment_create(s, start_seg, &s->write_fd, err);
        if (rc)
            goto out;
        s->read_seg = s->write_seg = start_seg;
        if (state != POSITION_OK || pos_off != 0)
            rc = position_write(s, start_seg, 0, err);
        goto out;
    }

    if (state == POSITION_OK) {
        start_seg = pos_seg;
        start_off = pos_off;
        segment_name(pos_seg, pname);
        if (pos_seg < segs[0] || pos_seg > segs[n - 1]) {
            segment_name(segs[0], name);
            rc = ifx_err_set(err, IFX_E_IO,
                             "spool %s: the position names segment %s, which is missing (the "
                             "segments left are %s to %016" PRIx64 ".spool)",
                             s->dir, pname, name, segs[n - 1]);
            goto out;
        }
    } else {
        /* Delivering again from the oldest record left is the at-least-once choice: some records
         * may be sent twice, none is lost. Guessing a later point could lose some. */
        start_seg = segs[0];
        start_off = 0;
        segment_name(start_seg, name);
        note_add(s,
                 "position file %s/" POSITION_FILE " was %s; delivering again from the start "
                 "of %s",
                 s->dir, state == POSITION_MISSING ? "missing" : "damaged", name);
        persist = true;
    }

    /* Segments before the position were delivered; one may be left by a crash before its
     * deletion. */
    for (first = 0; first < n && segs[first] < start_seg; first++) {
        segment_name(segs[first], name);
        if (unlinkat(s->dir_fd, name, 0) != 0 && errno != ENOENT) {
            rc = io_error(s, err, name, "cannot delete (already delivered)", errno);
            goto out;
        }
    }
    for (size_t i = first + 1; i < n; i++) {
        if (segs[i] != segs[i - 1] + 1) {
            segment_name(segs[i - 1] + 1, name);
            rc = ifx_err_set(err, IFX_E_IO,
                             "spool %s/%s: segment missing, its undelivered records are lost; "
                             "not skipping it",
                             s->dir, name);
            goto out;
        }
    }

    scratch = malloc(2 * SPOOL_SCAN_CHUNK);
    if (!scratch) {
        rc = ifx_err_set(err, IFX_E_NOMEM, "spool %s: out of memory", s->dir);
        goto out;
    }
    for (size_t i = first; i < n; i++) {
        bool newest = i == n - 1;
        int fd;
        segment_name(segs[i], name);
        fd = openat(s->dir_fd, name, (newest ? O_RDWR | O_APPEND : O_RDONLY) | O_CLOEXEC);
        if (fd < 0) {
            rc = io_error(s, err, name, "cannot open", errno);
            goto out;
        }
        rc = scan_segment(s, fd, segs[i], segs[i] == start_seg ? start_off : 0, newest, scratch,
                          scratch + SPOOL_SCAN_CHUNK, &end, err);
        if (rc || !newest) {
            close(fd);
            if (rc)
                goto out;
            continue;
        }
        s->write_fd = fd;
        s->write_seg = segs[i];
        s->write_size = end;
    }
    s->read_seg = start_seg;
    s->read_off = start_off;
    if (persist)
        rc = position_write(s, start_seg, start_off, err);
out:
    free(scratch);
    free(segs);
    return rc;
}

ifx_rc ifxi_spool_open(const char *dir, const ifx_spool_options *opt, ifx_spool **out, ifx_err *err)
{
    ifx_spool *s;
    ifx_rc rc;

    *out = NULL;
    if (!dir || !*dir)
        return ifx_err_set(err, IFX_E_USAGE, "spool: no directory given");
    s = calloc(1, sizeof *s);
    if (!s)
        return ifx_err_set(err, IFX_E_NOMEM, "spool %s: out of memory", dir);
    s->dir_fd = s->lock_fd = s->read_fd = s->write_fd = -1;
    s->dir = strdup(dir);
    if (!s->dir || pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s->dir);
        free(s);
        return ifx_err_set(err, IFX_E_NOMEM, "spool %s: out of memory", dir);
    }
    if (opt) {
        s->max_bytes = opt->max_bytes;
        s->max_segment_bytes = opt->max_segment_bytes;
        s->no_fsync = opt->no_fsync;
    }
    if (!s->max_segment_bytes)
        s->max_segment_bytes = SPOOL_DEFAULT_SEGMENT;

    rc = open_dir_and_lock(s, err);
    if (rc)
        goto out;
    rc = recover(s, err);
out:
    if (rc) {
        ifxi_spool_close(s);
        return rc;
    }
    *out = s;
    return IFX_OK;
}

void ifxi_spool_close(ifx_spool *s)
{
    if (!s)
        return;
    if (s->read_fd >= 0)
        close(s->read_fd);
    if (s->write_fd >= 0)
        close(s->write_fd);
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* releases the flock */
    if (s->dir_fd >= 0)
        close(s->dir_fd);
    pthread_mutex_destroy(&s->lock);
    free(s->dir);
    free(s);
}

const char *ifxi_spool_note(ifx_spool *s)
{
    /* Written only during open, so no lock is needed to read it. */
    return s->note[0] ? s->note : NULL;
}

/* ---- append, peek, pop ------------------------------------------------------------------------
 */

static int writev_full(int fd, struct iovec *iov, int cnt)
{
    while (cnt > 0) {
        ssize_t k = writev(fd, iov, cnt);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        while (cnt > 0 && (size_t)k >= iov->iov_len) {
            k -= (ssize_t)iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + k;
            iov->iov_len -= (size_t)k;
        }
    }
    return 0;
}

ifx_rc ifxi_spool_append(ifx_spool *s, const void *rec, size_t len, ifx_err *err)
{
    unsigned char h[SPOOL_HEADER];
    char name[SPOOL_NAME_SIZE];
    struct iovec iov[2];
    uint64_t reclen;
    ifx_rc rc = IFX_OK;
    int e;

    if (len > SPOOL_MAX_RECORD)
        return ifx_err_set(err, IFX_E_INVALID,
                           "spool %s: a record of %zu bytes is over the 1 GiB limit", s->dir, len);
    reclen = SPOOL_HEADER + (uint64_t)len;
    ifx_le_put32(h, SPOOL_MAGIC);
    ifx_le_put32(h + 4, (uint32_t)len);
    ifx_le_put32(h + 8, crc_update(crc_update(0, h + 4, 4), rec, len));

    pthread_mutex_lock(&s->lock);
    if (s->write_broken) {
        rc = ifx_err_set(err, IFX_E_IO,
                         "spool %s: an earlier failed append could not be undone; reopen the "
                         "spool to recover",
                         s->dir);
        goto out;
    }
    if (s->max_bytes && (len > s->max_bytes || s->pending_bytes > s->max_bytes - len)) {
        rc = ifx_err_set(err, IFX_E_FULL,
                         "spool %s is full: %" PRIu64 " bytes pending, a %zu-byte record would "
                         "pass the limit of %" PRIu64,
                         s->dir, s->pending_bytes, len, s->max_bytes);
        goto out;
    }
    /* A record bigger than a segment still goes into an empty one: never an endless roll. */
    if (s->write_size > 0 && s->write_size + reclen > s->max_segment_bytes) {
        int fd;
        rc = segment_create(s, s->write_seg + 1, &fd, err);
        if (rc)
            goto out;
        close(s->write_fd);
        s->write_fd = fd;
        s->write_seg++;
        s->write_size = 0;
    }
    /* One writev: header and bytes land together unless the write is cut short (a crash, a full
     * disk), which the length and crc then reveal. */
    iov[0].iov_base = h;
    iov[0].iov_len = SPOOL_HEADER;
    iov[1].iov_base = (void *)rec;
    iov[1].iov_len = len;
    segment_name(s->write_seg, name);
    if (writev_full(s->write_fd, iov, len ? 2 : 1) != 0) {
        e = errno;
        rc = io_error(s, err, name, "cannot append", e);
        goto undo;
    }
    if (sync_fd(s, s->write_fd) != 0) {
        e = errno;
        rc = io_error(s, err, name, "cannot fdatasync", e);
        goto undo;
    }
    s->write_size += reclen;
    s->pending_records++;
    s->pending_bytes += len;
    goto out;
undo:
    /* The caller is told the record is not in the spool, so it must not be: cut the partial (or
     * unsynced) record. If even that fails, later records would sit behind garbage: stop. */
    if (ftruncate(s->write_fd, (off_t)s->write_size) != 0)
        s->write_broken = true;
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

ifx_rc ifxi_spool_peek(ifx_spool *s, ifx_buf *rec, bool *empty, ifx_err *err)
{
    unsigned char h[SPOOL_HEADER];
    char name[SPOOL_NAME_SIZE];
    const char *why = NULL;
    uint64_t end = 0;
    uint32_t len = 0;
    ifx_rc rc;

    ifx_buf_reset(rec);
    *empty = false;
    pthread_mutex_lock(&s->lock);
    /* Only a successful peek hands a record out: a pop after a failed one is refused. */
    s->peeked = false;
    for (;;) {
        rc = read_end(s, &end, err);
        if (rc)
            goto out;
        if (s->read_off < end)
            break;
        if (s->read_seg == s->write_seg) {
            *empty = true;
            goto out;
        }
        rc = leave_segment(s, err);
        if (rc)
            goto out;
    }
    rc = read_fd_open(s, err);
    if (rc)
        goto out;
    segment_name(s->read_seg, name);
    if (end - s->read_off < SPOOL_HEADER) {
        why = "incomplete header";
        goto damaged;
    }
    if (pread_full(s->read_fd, h, SPOOL_HEADER, s->read_off) != 0) {
        rc = io_error(s, err, name, "cannot read", errno);
        goto out;
    }
    len = ifx_le_get32(h + 4);
    if (ifx_le_get32(h) != SPOOL_MAGIC) {
        why = "bad magic";
        goto damaged;
    }
    if (len > SPOOL_MAX_RECORD || len > end - s->read_off - SPOOL_HEADER) {
        why = "bad length";
        goto damaged;
    }
    if (ifx_buf_reserve(rec, len) != IFX_OK) {
        rc = ifx_err_set(err, IFX_E_FULL,
                         "spool %s/%s: the record at offset %" PRIu64 " (%" PRIu32
                         " bytes) does not fit the buffer (cap %zu)",
                         s->dir, name, s->read_off, len, rec->cap);
        goto out;
    }
    if (pread_full(s->read_fd, rec->data, len, s->read_off + SPOOL_HEADER) != 0) {
        rc = io_error(s, err, name, "cannot read", errno);
        goto out;
    }
    rec->len = len;
    rec->data[len] = '\0';
    if (crc_update(crc_update(0, h + 4, 4), rec->data, len) != ifx_le_get32(h + 8)) {
        why = "checksum mismatch";
        goto damaged;
    }
    s->peeked = true;
    s->peeked_len = len;
    goto out;
damaged:
    /* Checked at open; damaged since, by something outside this process. */
    ifx_buf_reset(rec);
    rc = ifx_err_set_at(err, IFX_E_IO, (size_t)s->read_off,
                        "spool %s/%s: damaged record at offset %" PRIu64 " (%s)", s->dir, name,
                        s->read_off, why);
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

ifx_rc ifxi_spool_pop(ifx_spool *s, ifx_err *err)
{
    uint64_t next_off, end = 0;
    bool leaves;
    ifx_rc rc;

    pthread_mutex_lock(&s->lock);
    if (!s->peeked) {
        rc = ifx_err_set(err, IFX_E_USAGE, "spool %s: pop without a peeked record", s->dir);
        goto out;
    }
    next_off = s->read_off + SPOOL_HEADER + s->peeked_len;
    rc = read_end(s, &end, err);
    if (rc)
        goto out;
    /* The last record of an older segment: one position write moves to the next segment. */
    leaves = s->read_seg != s->write_seg && next_off >= end;
    if (leaves) {
        rc = leave_segment(s, err);
    } else {
        rc = position_write(s, s->read_seg, next_off, err);
        if (!rc)
            s->read_off = next_off;
    }
    if (rc)
        goto out;
    s->peeked = false;
    s->pending_records--;
    s->pending_bytes -= s->peeked_len;
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

void ifxi_spool_pending(ifx_spool *s, uint64_t *records, uint64_t *bytes)
{
    pthread_mutex_lock(&s->lock);
    if (records)
        *records = s->pending_records;
    if (bytes)
        *bytes = s->pending_bytes;
    pthread_mutex_unlock(&s->lock);
}
