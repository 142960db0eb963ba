/* The durable spool: order, segments, reopen, every torn tail, damage refused, a missing or
 * damaged position, a real kill -9, the byte limit, the lock, and concurrent appenders. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "ifx/buf.h"
#include "ifx/error.h"
#include "connector/spool.h"

#define REC_MAX 128

/* ---- helpers ----------------------------------------------------------------------------------
 */

static char *make_dir(void)
{
    char tmpl[] = "/tmp/ifx-spool-test-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char *d = strdup(tmpl);
    assert_non_null(d);
    return d;
}

static void remove_dir(char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[512];
    assert_non_null(d);
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (unlink(p) != 0) {
            struct stat st;
            if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
                remove_dir(strdup(p));
        }
    }
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
    free(dir);
}

static void seg_path(char *out, size_t n, const char *dir, uint64_t seg)
{
    snprintf(out, n, "%s/%016" PRIx64 ".spool", dir, seg);
}

/* Oldest and newest segment numbers; returns how many segment files there are. */
static int segments(const char *dir, uint64_t *oldest, uint64_t *newest)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    assert_non_null(d);
    *oldest = UINT64_MAX;
    *newest = 0;
    while ((de = readdir(d))) {
        uint64_t v;
        char tail[16];
        if (strlen(de->d_name) != 22 || sscanf(de->d_name, "%16" SCNx64 "%15s", &v, tail) != 2 ||
            strcmp(tail, ".spool") != 0)
            continue;
        n++;
        if (v < *oldest)
            *oldest = v;
        if (v > *newest)
            *newest = v;
    }
    closedir(d);
    return n;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void write_all(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

/* Record id: "r<id>:" and a filler whose length and letters depend on id, so a record read at
 * the wrong place or cut short never passes for another. */
static size_t make_record(unsigned id, char *buf)
{
    int k = snprintf(buf, REC_MAX, "r%u:", id);
    size_t len = (size_t)k + (id * 37u) % 61u;
    for (size_t j = (size_t)k; j < len; j++)
        buf[j] = (char)('a' + (id + j) % 26);
    return len;
}

static void append_id(ifx_spool *s, unsigned id)
{
    char rec[REC_MAX];
    ifx_err err;
    size_t n = make_record(id, rec);
    ifx_rc rc = ifxi_spool_append(s, rec, n, &err);
    if (rc)
        fail_msg("append %u: %s", id, err.msg);
}

static void expect_id(ifx_spool *s, ifx_buf *b, unsigned id, bool pop)
{
    char rec[REC_MAX];
    bool empty = true;
    ifx_err err;
    size_t n = make_record(id, rec);
    ifx_rc rc = ifxi_spool_peek(s, b, &empty, &err);
    if (rc)
        fail_msg("peek %u: %s", id, err.msg);
    assert_false(empty);
    if (b->len != n || memcmp(b->data, rec, n) != 0)
        fail_msg("expected record %u, got %.*s", id, (int)b->len, b->data);
    if (pop && ifxi_spool_pop(s, &err) != IFX_OK)
        fail_msg("pop %u: %s", id, err.msg);
}

static void expect_empty(ifx_spool *s, ifx_buf *b)
{
    bool empty = false;
    assert_int_equal(ifxi_spool_peek(s, b, &empty, NULL), IFX_OK);
    assert_true(empty);
    assert_int_equal(b->len, 0);
}

static uint64_t bytes_of(unsigned from, unsigned to)
{
    char rec[REC_MAX];
    uint64_t n = 0;
    for (unsigned i = from; i < to; i++)
        n += make_record(i, rec);
    return n;
}

static void expect_pending(ifx_spool *s, uint64_t records, uint64_t bytes)
{
    uint64_t r, b;
    ifxi_spool_pending(s, &r, &b);
    assert_int_equal(r, records);
    assert_int_equal(b, bytes);
}

static ifx_spool *open_ok(const char *dir, const ifx_spool_options *opt)
{
    ifx_spool *s = NULL;
    ifx_err err;
    if (ifxi_spool_open(dir, opt, &s, &err) != IFX_OK)
        fail_msg("open %s: %s", dir, err.msg);
    return s;
}

/* Every file of a spool directory but the lock, to put the same state back between cases. */
typedef struct {
    char name[256];
    char *data;
    size_t len;
} snap_file;

typedef struct {
    snap_file f[64];
    int n;
} snapshot;

static void snap_take(const char *dir, snapshot *snap)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[512];
    snap->n = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "lock") == 0)
            continue;
        assert_true(snap->n < 64);
        snap_file *f = &snap->f[snap->n++];
        snprintf(f->name, sizeof f->name, "%s", de->d_name);
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        f->data = read_all(p, &f->len);
    }
    closedir(d);
}

static void snap_restore(const char *dir, const snapshot *snap)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[512];
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "lock") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        assert_int_equal(unlink(p), 0);
    }
    closedir(d);
    for (int i = 0; i < snap->n; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, snap->f[i].name);
        write_all(p, snap->f[i].data, snap->f[i].len);
    }
}

static void snap_free(snapshot *snap)
{
    for (int i = 0; i < snap->n; i++)
        free(snap->f[i].data);
    snap->n = 0;
}

/* ---- tests ------------------------------------------------------------------------------------
 */

/* The on-disk format is what the header says, checked against an independent crc32. */
static void test_format(void **state)
{
    char *dir = make_dir(), p[512];
    ifx_spool_options opt = {0};
    ifx_buf b;
    size_t len;
    (void)state;
    ifx_buf_init(&b, 1 << 20);

    ifx_spool *s = open_ok(dir, &opt);
    assert_null(ifxi_spool_note(s));
    assert_int_equal(ifxi_spool_append(s, "hello", 5, NULL), IFX_OK);
    assert_int_equal(ifxi_spool_append(s, "", 0, NULL), IFX_OK); /* empty records are records */
    seg_path(p, sizeof p, dir, 1);
    char *seg = read_all(p, &len);
    assert_int_equal(len, 12 + 5 + 12);
    assert_memory_equal(seg, "IFXR\x05\0\0\0", 8);
    uint32_t crc = (uint32_t)crc32(0, (const Bytef *)seg + 4, 4);
    crc = (uint32_t)crc32(crc, (const Bytef *)"hello", 5);
    unsigned char *c = (unsigned char *)seg + 8;
    assert_int_equal(c[0] | c[1] << 8 | c[2] << 16 | (uint32_t)c[3] << 24, crc);
    assert_memory_equal(seg + 17, "IFXR\0\0\0\0", 8);
    free(seg);

    bool empty;
    assert_int_equal(ifxi_spool_peek(s, &b, &empty, NULL), IFX_OK);
    assert_string_equal(b.data, "hello");
    assert_int_equal(ifxi_spool_pop(s, NULL), IFX_OK);
    assert_int_equal(ifxi_spool_peek(s, &b, &empty, NULL), IFX_OK);
    assert_false(empty);
    assert_int_equal(b.len, 0);
    assert_int_equal(ifxi_spool_pop(s, NULL), IFX_OK);
    expect_empty(s, &b);

    /* The position is one readable line with its crc. */
    snprintf(p, sizeof p, "%s/position", dir);
    char *pos = read_all(p, &len);
    const char *line = "ifx-spool-position 1 segment=0000000000000001 offset=29";
    char want[128];
    snprintf(want, sizeof want, "%s crc=%08x\n", line,
             (unsigned)crc32(0, (const Bytef *)line, (uInt)strlen(line)));
    assert_int_equal(len, strlen(want));
    assert_memory_equal(pos, want, len);
    free(pos);

    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    ifxi_spool_close(s);
    ifx_buf_free(&b);
    remove_dir(dir);
}

/* A spool written before the CRC-32 moved to libdeflate, then ISA-L (tests/vectors/spool-v1)
 * still reads, record by record; and the same records written now come out byte for byte the
 * same, so the on-disk format did not change. */
static void test_old_files_read(void **state)
{
    static const char *const files[] = {"0000000000000001.spool", "0000000000000002.spool",
                                        "0000000000000003.spool", "0000000000000004.spool",
                                        "position"};
    static const struct {
        const char *data;
        size_t len;
    } recs[] = {
        {"first record", 12},
        {"", 0},
        {"weather,loc=home temp=21.5 1700000000000000000", 46},
        {"fourth \xff\0 binary", 16},
        {"fifth", 5},
        {"sixth: the last one", 19},
    };
    char *old = make_dir(), *fresh = make_dir(), from[512], to[512];
    ifx_spool_options opt = {.max_segment_bytes = 64};
    ifx_buf b;
    bool empty;
    size_t len, len2;
    (void)state;
    ifx_buf_init(&b, 1 << 20);

    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(from, sizeof from, "%s/tests/vectors/spool-v1/%s", IFX_SOURCE_DIR, files[i]);
        snprintf(to, sizeof to, "%s/%s", old, files[i]);
        char *p = read_all(from, &len);
        write_all(to, p, len);
        free(p);
    }
    ifx_spool *s = open_ok(old, &opt);
    assert_null(ifxi_spool_note(s)); /* nothing to recover: every check passed */
    expect_pending(s, 5, 0 + 46 + 16 + 5 + 19);
    for (size_t i = 1; i < sizeof recs / sizeof *recs; i++) {
        assert_int_equal(ifxi_spool_peek(s, &b, &empty, NULL), IFX_OK);
        assert_false(empty);
        assert_int_equal(b.len, recs[i].len);
        assert_memory_equal(b.data, recs[i].data, recs[i].len);
        assert_int_equal(ifxi_spool_pop(s, NULL), IFX_OK);
    }
    expect_empty(s, &b);
    ifxi_spool_close(s);

    s = open_ok(fresh, &opt);
    for (size_t i = 0; i < sizeof recs / sizeof *recs; i++)
        assert_int_equal(ifxi_spool_append(s, recs[i].data, recs[i].len, NULL), IFX_OK);
    assert_int_equal(ifxi_spool_peek(s, &b, &empty, NULL), IFX_OK);
    assert_int_equal(ifxi_spool_pop(s, NULL), IFX_OK);
    ifxi_spool_close(s);
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(from, sizeof from, "%s/tests/vectors/spool-v1/%s", IFX_SOURCE_DIR, files[i]);
        snprintf(to, sizeof to, "%s/%s", fresh, files[i]);
        char *want = read_all(from, &len), *got = read_all(to, &len2);
        assert_int_equal(len2, len);
        assert_memory_equal(got, want, len);
        free(want);
        free(got);
    }

    ifx_buf_free(&b);
    remove_dir(old);
    remove_dir(fresh);
}

/* Order across many segments, exact counters, delivered segments deleted. */
static void test_order_and_segments(void **state)
{
    char *dir = make_dir();
    ifx_spool_options opt = {.max_segment_bytes = 256, .no_fsync = true};
    uint64_t oldest, newest;
    ifx_buf b;
    (void)state;
    ifx_buf_init(&b, 1 << 20);

    ifx_spool *s = open_ok(dir, &opt);
    expect_pending(s, 0, 0);
    expect_empty(s, &b);
    for (unsigned i = 0; i < 300; i++) {
        append_id(s, i);
        expect_pending(s, i + 1, bytes_of(0, i + 1));
    }
    assert_true(segments(dir, &oldest, &newest) > 20);
    for (unsigned i = 0; i < 150; i++) {
        expect_id(s, &b, i, true);
        expect_pending(s, 300 - i - 1, bytes_of(i + 1, 300));
    }
    /* Appends and deliveries interleave. */
    for (unsigned i = 300; i < 400; i++) {
        append_id(s, i);
        expect_id(s, &b, i - 150, true);
    }
    for (unsigned i = 250; i < 400; i++)
        expect_id(s, &b, i, true);
    expect_pending(s, 0, 0);
    expect_empty(s, &b);
    /* Only the segment being written is left. */
    assert_int_equal(segments(dir, &oldest, &newest), 1);

    /* A record bigger than a segment goes into one of its own. */
    char big[1000];
    memset(big, 'x', sizeof big);
    assert_int_equal(ifxi_spool_append(s, big, sizeof big, NULL), IFX_OK);
    append_id(s, 7);
    bool empty;
    assert_int_equal(ifxi_spool_peek(s, &b, &empty, NULL), IFX_OK);
    assert_int_equal(b.len, sizeof big);
    assert_int_equal(ifxi_spool_pop(s, NULL), IFX_OK);
    expect_id(s, &b, 7, true);
    expect_empty(s, &b);
    ifxi_spool_close(s);
    ifx_buf_free(&b);
    remove_dir(dir);
}

/* Close and reopen keep what was not popped; a peek without pop is seen again. */
static void test_reopen(void **state)
{
    char *dir = make_dir();
    ifx_spool_options opt = {.max_segment_bytes = 200};
    ifx_buf b;
    (void)state;
    ifx_buf_init(&b, 1 << 20);

    ifx_spool *s = open_ok(dir, &opt);
    for (unsigned i = 0; i < 20; i++)
        append_id(s, i);
    /* Popping the last record of a segment deletes the file at once. */
    char p[512], rec[REC_MAX];
    seg_path(p, sizeof p, dir, 1);
    uint64_t size = file_size(p), off = 0;
    unsigned in_first = 0;
    while (off < size)
        off += 12 + make_record(in_first++, rec);
    assert_true(in_first < 7);
    for (unsigned i = 0; i < in_first; i++) {
        assert_int_equal(access(p, F_OK), 0);
        expect_id(s, &b, i, true);
    }
    assert_int_equal(access(p, F_OK), -1);
    for (unsigned i = in_first; i < 7; i++)
        expect_id(s, &b, i, true);
    expect_id(s, &b, 7, false);
    expect_id(s, &b, 7, false); /* peeking again: the same record */
    ifxi_spool_close(s);

    s = open_ok(dir, &opt);
    assert_null(ifxi_spool_note(s));
    expect_pending(s, 13, bytes_of(7, 20));
    expect_id(s, &b, 7, true);
    ifxi_spool_close(s);

    s = open_ok(dir, &opt);
    expect_pending(s, 12, bytes_of(8, 20));
    append_id(s, 20);
    for (unsigned i = 8; i <= 20; i++)
        expect_id(s, &b, i, true);
    expect_empty(s, &b);
    ifxi_spool_close(s);

    s = open_ok(dir, &opt);
    assert_null(ifxi_spool_note(s));
    expect_pending(s, 0, 0);
    expect_empty(s, &b);
    ifxi_spool_close(s);
    ifx_buf_free(&b);
    remove_dir(dir);
}

/* A crash after a position moved past a segment but before the file was deleted. */
static void test_delivered_segment_left_behind(void **state)
{
    char *dir = make_dir(), p[512];
    ifx_spool_options opt = {.max_segment_bytes = 200, .no_fsync = true};
    uint64_t oldest, newest, oldest2;
    ifx_buf b;
    size_t len;
    (void)state;
    ifx_buf_init(&b, 1 << 20);

    ifx_spool *s = open_ok(dir, &opt);
    for (unsigned i = 0; i < 20; i++)
        append_id(s, i);
    segments(dir, &oldest, &newest);
    seg_path(p, sizeof p, dir, oldest);
    char *first = read_all(p, &len);
    for (unsigned i = 0; i < 10; i++)
        expect_id(s, &b, i, true);
    ifxi_spool_close(s);
    assert_int_equal(access(p, F_OK), -1);
    write_all(p, first, len);
    free(first);

    s = open_ok(dir, &opt);
    assert_null(ifxi_spool_note(s)); /* nothing was lost or repeated */
    assert_int_equal(access(p, F_OK), -1);
    segments(dir, &oldest2, &newest);
    assert_true(oldest2 > oldest);
    expect_pending(s, 10, bytes_of(10, 20));
    for (unsigned i = 10; i < 20; i++)
        expect_id(s, &b, i, true);
    ifxi_spool_close(s);
    ifx_buf_free(&b);
    remove_dir(dir);
}

/* An append the disk cuts short (here a file size limit: a short writev, then EFBIG) leaves no
 * trace: the next append is read right after the last good record. */
static void test_failed_append_is_undone(void **state)
{
    char *dir = make_dir(), p[512], big[300];
    ifx_spool_options opt = {.no_fsync = true};
    struct rlimit old, lim;
    ifx_err err;
    ifx_buf b;
    (void)state;
    ifx_buf_init(&b, 1 << 20);
    memset(big, 'z', sizeof big);

    ifx_spool *s = open_ok(dir, &opt);
    for (unsigned i = 0; i < 5; i++)
        append_id(s, i);
    seg_path(p, sizeof p, dir, 1);
    uint64_t size = file_size(p);

    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = (rlim_t)size + 100;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    ifx_rc rc = ifxi_spool_append(s, big, sizeof big, &err);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);
    assert_int_equal(rc, IFX_E_IO);
    assert_non_null(strstr(err.msg, "0000000000000001.spool: cannot append"));
    assert_int_equal(file_size(p), size);
    expect_pending(s, 5, bytes_of(0, 5));

    append_id(s, 5);
    for (unsigned i = 0; i < 6; i++)
        expect_id(s, &b, i, true);
    expect_empty(s, &b);
    ifxi_spool_close(s);
    s = open_ok(dir, &opt);
    assert_null(ifxi_spool_note(s));
    ifxi_spool_close(s);
    ifx_buf_free(&b);
    remove_dir(dir);
}

/* A crash during the last append, cut at every byte of that record: only it is dropped. */
static void test_torn_tail_every_offset(void **state)
{
    char *dir = make_dir(), p[512];
    ifx_spool_options opt = {.max_segment_bytes = 200, .no_fsync = true};
    uint64_t oldest, newest;
    snapshot snap;
    char rec[REC_MAX];
    ifx_buf b;
    (void)state;
    ifx_buf_init(&b, 1 << 20);

    ifx_spool *s = open_ok(dir, &opt);
    for (unsigned i = 0; i < 12; i++)
        append_id(s, i);
    expect_id(s, &b, 0, true); /* a position exists, to be kept */
    ifxi_spool_close(s);
    assert_true(segments(dir, &oldest, &newest) > 2);
    seg_path(p, sizeof p, dir, newest);
    size_t full = (size_t)file_size(p);
    size_t last = 12 + make_record(11, rec);
    assert_true(full > last); /* the record before it is in the same segment */
    size_t start = full - last;
    snap_take(dir, &snap);

    for (size_t k = 0; k < last; k++) {
        snap_restore(dir, &snap);
        assert_int_equal(truncate(p, (off_t)(start + k)), 0);
        s = open_ok(dir, &opt);
        const char *note = ifxi_spool_note(s);
        if (k == 0) {
            assert_null(note); /* nothing torn: the record never reached the file */
        } else {
            assert_non_null(note);
            char want[128];
            snprintf(want, sizeof want, "%016" PRIx64 ".spool: %zu bytes at offset %zu", newest, k,
                     start);
            if (!strstr(note, "dropped") || !strstr(note, want))
                fail_msg("k=%zu: note \"%s\" lacks \"%s\"", k, note, want);
        }
        assert_int_equal(file_size(p), start);
        expect_pending(s, 10, bytes_of(1, 11));
        /* The next append lands right after the last good record. */
        append_id(s, 100);
        for (unsigned i = 1; i < 11; i++)
            expect_id(s, &b, i, true);
        expect_id(s, &b, 100, true);
        expect_empty(s, &b);
        ifxi_spool_close(s);
    }
    snap_free(&snap);
    ifx_buf_free(&b);
    remove_dir(dir);
}

static void expect_open_fails(const char *dir, const ifx_spool_options *opt, const char *has1,
                              const char *has2, size_t offset)
{
    ifx_spool *s = NULL;
    ifx_err err;
    ifx_err_clear(&err);
    ifx_rc rc = ifxi_spool_open(dir, opt, &s, &err);
    if (rc != IFX_E_IO)
        fail_msg("open gave %s (%s), expected io", ifx_rc_name(rc), err.msg);
    assert_null(s);
    if (!strstr(err.msg, has1) || (has2 && !strstr(err.msg, has2)))
        fail_msg("\"%s\" lacks \"%s\" / \"%s\"", err.msg, has1, has2 ? has2 : "");
    assert_int_equal(err.offset, offset);
}

static size_t last_record_offset(const char *path)
{
    size_t len, off = 0, last = 0;
    char *d = read_all(path, &len);
    while (off < len) {
        const unsigned char *h = (const unsigned char *)d + off + 4;
        last = off;
        off += 12 + (h[0] | h[1] << 8 | h[2] << 16 | (size_t)h[3] << 24);
    }
    free(d);
    return last;
}

static void flip(const char *path, uint64_t off)
{
    size_t len;
    char *d = read_all(path, &len);
    assert_true(off < len);
    d[off] ^= 0x20;
    write_all(path, d, len);
    free(d);
}

/* Damage anywhere but the last record is refused, naming the file and the offset. */
static void test_damage_is_refused(void **state)
{
    char *dir = make_dir(), p[512], name[64], want[128];
    ifx_spool_options opt = {.max_segment_bytes = 300, .no_fsync = true};
    uint64_t oldest, newest;
    snapshot snap;
    char rec[REC_MAX];
    ifx_buf b;
    (void)state;
    ifx_buf_init(&b, 1 << 20);

    ifx_spool *s = open_ok(dir, &opt);
    for (unsigned i = 0; i < 30; i++)
        append_id(s, i);
    ifxi_spool_close(s);
    assert_true(segments(dir, &oldest, &newest) > 3);
    snap_take(dir, &snap);

    /* The newest segment: its first record is followed by valid ones. */
    seg_path(p, sizeof p, dir, newest);
    snprintf(name, sizeof name, "%016" PRIx64 ".spool", newest);
    assert_true(last_record_offset(p) > 0);
    flip(p, 12); /* in the bytes */
    expect_open_fails(dir, &opt, name, "damaged record at offset 0 (checksum mismatch)", 0);
    snap_restore(dir, &snap);
    flip(p, 5); /* in the length: where the next record starts is unknown */
    expect_open_fails(dir, &opt, name, "at offset 0", 0);
    snap_restore(dir, &snap);
    flip(p, 1); /* in the magic */
    expect_open_fails(dir, &opt, name, "at offset 0 (bad magic)", 0);

    /* A middle record of a middle segment. */
    snap_restore(dir, &snap);
    uint64_t mid = oldest + 1;
    seg_path(p, sizeof p, dir, mid);
    snprintf(name, sizeof name, "%016" PRIx64 ".spool", mid);
    size_t len;
    char *seg = read_all(p, &len);
    unsigned id = (unsigned)atoi(seg + 13); /* "r<id>:" of its first record */
    size_t second = 12 + make_record(id, rec);
    free(seg);
    flip(p, second + 14);
    snprintf(want, sizeof want, "at offset %zu", second);
    expect_open_fails(dir, &opt, name, want, second);

    /* The last record of a segment that is not the newest: it was acknowledged, not torn. */
    snap_restore(dir, &snap);
    size_t lastoff = last_record_offset(p);
    flip(p, file_size(p) - 1);
    snprintf(want, sizeof want, "at offset %zu", lastoff);
    expect_open_fails(dir, &opt, want, "not the newest", lastoff);
    snap_restore(dir, &snap);

    /* The position names a segment that is gone. */
    const char *line = "ifx-spool-position 1 segment=00000000000000ff offset=0";
    snprintf(rec, sizeof rec, "%s crc=%08x\n", line,
             (unsigned)crc32(0, (const Bytef *)line, (uInt)strlen(line)));
    snprintf(p, sizeof p, "%s/position", dir);
    write_all(p, rec, strlen(rec));
    expect_open_fails(dir, &opt, "00000000000000ff.spool", "missing", IFX_NO_OFFSET);

    /* A gap in the segments. */
    snap_restore(dir, &snap);
    seg_path(p, sizeof p, dir, oldest + 2);
    assert_int_equal(unlink(p), 0);
    snprintf(name, sizeof name, "%016" PRIx64 ".spool", oldest + 2);
    expect_open_fails(dir, &opt, name, "missing", IFX_NO_OFFSET);

    /* Nothing of the above changed the files: put back, everything is there. */
    snap_restore(dir, &snap);
    s = open_ok(dir, &opt);
    assert_null(ifxi_spool_note(s));
    for (unsigned i = 0; i < 30; i++)
        expect_id(s, &b, i, true);

    /* Damage done while the spool is open is caught when the record is read. */
    append_id(s, 30);
    append_id(s, 31);
    seg_path(p, sizeof p, dir, newest);
    size_t at = last_record_offset(p);
    expect_id(s, &b, 30, true);
    expect_id(s, &b, 31, false); /* peeked, then found damaged by a second peek */
    flip(p, at + 13);
    ifx_err err;
    bool empty;
    assert_int_equal(ifxi_spool_peek(s, &b, &empty, &err), IFX_E_IO);
    snprintf(want, sizeof want, "damaged record at offset %zu (checksum mismatch)", at);
    assert_non_null(strstr(err.msg, want));
    assert_int_equal(b.len, 0);
    assert_int_equal(ifxi_spool_pop(s, NULL), IFX_E_USAGE); /* nothing was handed out */
    ifxi_spool_close(s);
    snap_free(&snap);
    ifx_buf_free(&b);
    remove_dir(dir);
}

/* A missing or damaged position: delivery starts again at the oldest segment (at least once). */
static void test_position_lost(void **state)
{
    char *dir = make_dir(), p[512], first[REC_MAX];
    ifx_spool_options opt = {.max_segment_bytes = 200, .no_fsync = true};
    uint64_t oldest, newest;
    snapshot snap;
    ifx_buf b;
    (void)state;
    ifx_buf_init(&b, 1 << 20);

    ifx_spool *s = open_ok(dir, &opt);
    for (unsigned i = 0; i < 20; i++)
        append_id(s, i);
    for (unsigned i = 0; i < 9; i++)
        expect_id(s, &b, i, true);
    ifxi_spool_close(s);
    segments(dir, &oldest, &newest);
    seg_path(p, sizeof p, dir, oldest);
    size_t len;
    char *seg = read_all(p, &len);
    unsigned from = (unsigned)atoi(seg + 13);
    free(seg);
    assert_true(from <= 9 && from > 0); /* earlier segments are gone, and it holds delivered ones */
    snap_take(dir, &snap);
    snprintf(p, sizeof p, "%s/position", dir);

    for (int damaged = 0; damaged < 3; damaged++) {
        snap_restore(dir, &snap);
        if (damaged == 0) {
            assert_int_equal(unlink(p), 0);
        } else if (damaged == 1) {
            write_all(p, "garbage", 7);
        } else { /* a valid-looking line whose crc does not match */
            char *pos = read_all(p, &len);
            pos[strlen("ifx-spool-position 1 segment=000000000000000")] ^= 1;
            write_all(p, pos, len);
            free(pos);
        }
        s = open_ok(dir, &opt);
        const char *note = ifxi_spool_note(s);
        assert_non_null(note);
        assert_non_null(strstr(note, damaged ? "damaged" : "missing"));
        snprintf(first, sizeof first, "delivering again from the start of %016" PRIx64 ".spool",
                 oldest);
        assert_non_null(strstr(note, first));
        expect_pending(s, 20 - from, bytes_of(from, 20));
        ifxi_spool_close(s);
        /* The recovered position was made durable at open: the next open is clean. */
        s = open_ok(dir, &opt);
        assert_null(ifxi_spool_note(s));
        for (unsigned i = from; i < 20; i++)
            expect_id(s, &b, i, true);
        expect_empty(s, &b);
        ifxi_spool_close(s);
    }
    snap_free(&snap);
    ifx_buf_free(&b);
    remove_dir(dir);
}

/* A child appends with fsync and reports each acknowledged record; it is killed with SIGKILL. */
static void test_kill_9(void **state)
{
    char *dir = make_dir();
    ifx_spool_options opt = {.max_segment_bytes = 16384};
    int fds[2];
    (void)state;
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ifx_spool *s;
        close(fds[0]);
        if (ifxi_spool_open(dir, &opt, &s, NULL) != IFX_OK)
            _exit(2);
        static char rec[8192];
        for (uint32_t i = 0;; i++) {
            /* Sizes up to 8 KiB, so that a kill can land inside a write of several pages. */
            size_t n = 8 + (i * 2654435761u) % 8184;
            memcpy(rec, &i, 4);
            for (size_t j = 4; j < n; j++)
                rec[j] = (char)(i + j);
            if (ifxi_spool_append(s, rec, n, NULL) != IFX_OK)
                _exit(3);
            if (write(fds[1], &i, 4) != 4)
                _exit(4);
        }
    }
    close(fds[1]);
    uint32_t acked = 0, v;
    while (read(fds[0], &v, 4) == 4) {
        assert_int_equal(v, acked);
        acked++;
        if (acked == 300)
            kill(pid, SIGKILL);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    close(fds[0]);
    assert_true(acked >= 300);

    ifx_spool *s = open_ok(dir, &opt);
    ifx_buf b;
    uint64_t records;
    ifx_buf_init(&b, 1 << 20);
    ifxi_spool_pending(s, &records, NULL);
    /* Every acknowledged record, and at most the one in flight. */
    assert_true(records == acked || records == acked + 1);
    for (uint32_t i = 0; i < records; i++) {
        bool empty;
        uint32_t id;
        assert_int_equal(ifxi_spool_peek(s, &b, &empty, NULL), IFX_OK);
        assert_false(empty);
        size_t n = 8 + (i * 2654435761u) % 8184;
        assert_int_equal(b.len, n);
        memcpy(&id, b.data, 4);
        assert_int_equal(id, i);
        for (size_t j = 4; j < n; j++)
            assert_int_equal((unsigned char)b.data[j], (unsigned char)(i + j));
        assert_int_equal(ifxi_spool_pop(s, NULL), IFX_OK);
    }
    expect_empty(s, &b);
    ifxi_spool_close(s);
    ifx_buf_free(&b);
    remove_dir(dir);
}

static void test_limits(void **state)
{
    char *dir = make_dir(), rec[100];
    ifx_spool_options opt = {.max_bytes = 1000, .no_fsync = true};
    ifx_err err;
    ifx_buf b;
    (void)state;
    ifx_buf_init(&b, 1 << 20);
    memset(rec, 'q', sizeof rec);

    ifx_spool *s = open_ok(dir, &opt);
    for (int i = 0; i < 10; i++)
        assert_int_equal(ifxi_spool_append(s, rec, sizeof rec, &err), IFX_OK);
    assert_int_equal(ifxi_spool_append(s, rec, sizeof rec, &err), IFX_E_FULL);
    assert_non_null(strstr(err.msg, "full"));
    assert_int_equal(ifxi_spool_append(s, rec, 1, &err), IFX_E_FULL);
    assert_int_equal(ifxi_spool_append(s, "", 0, &err), IFX_OK); /* 0 bytes fit */
    expect_pending(s, 11, 1000);

    bool empty;
    assert_int_equal(ifxi_spool_peek(s, &b, &empty, NULL), IFX_OK);
    assert_int_equal(ifxi_spool_pop(s, NULL), IFX_OK);
    assert_int_equal(ifxi_spool_append(s, rec, sizeof rec, &err), IFX_OK);
    assert_int_equal(ifxi_spool_append(s, rec, 1, &err), IFX_E_FULL);

    /* Over 1 GiB: refused before the bytes are touched. */
    assert_int_equal(ifxi_spool_append(s, rec, ((size_t)1 << 30) + 1, &err), IFX_E_INVALID);
    assert_non_null(strstr(err.msg, "1 GiB"));

    /* Misuse and a buffer too small. */
    assert_int_equal(ifxi_spool_pop(s, &err), IFX_E_USAGE);
    ifx_buf small;
    ifx_buf_init(&small, 10);
    assert_int_equal(ifxi_spool_peek(s, &small, &empty, &err), IFX_E_FULL);
    assert_non_null(strstr(err.msg, "cap 10"));
    assert_int_equal(ifxi_spool_pop(s, &err), IFX_E_USAGE); /* the failed peek peeked nothing */
    ifx_buf_free(&small);
    expect_pending(s, 11, 1000);
    ifxi_spool_close(s);
    ifx_buf_free(&b);
    remove_dir(dir);
}

static void test_lock_and_directory(void **state)
{
    char *dir = make_dir(), sub[512];
    ifx_spool_options opt = {.no_fsync = false};
    ifx_err err;
    (void)state;

    /* The directory is created, private. */
    snprintf(sub, sizeof sub, "%s/spool/", dir);
    ifx_spool *s = open_ok(sub, &opt);
    struct stat st;
    assert_int_equal(stat(sub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    ifx_spool *t = NULL;
    assert_int_equal(ifxi_spool_open(sub, &opt, &t, &err), IFX_E_IO);
    assert_null(t);
    assert_non_null(strstr(err.msg, "in use"));
    assert_non_null(strstr(err.msg, sub));
    ifxi_spool_close(s);
    t = open_ok(sub, NULL);
    ifxi_spool_close(t);

    /* A directory that cannot be created names itself. */
    snprintf(sub, sizeof sub, "%s/no/such/parent", dir);
    assert_int_equal(ifxi_spool_open(sub, &opt, &t, &err), IFX_E_IO);
    assert_non_null(strstr(err.msg, sub));
    remove_dir(dir);
}

#define THREADS     4
#define PER_THREAD  1500
#define SEQ_RECORDS (THREADS * PER_THREAD)

typedef struct {
    ifx_spool *s;
    unsigned tid;
} appender_arg;

static void *appender(void *p)
{
    appender_arg *a = p;
    char rec[64];
    for (unsigned i = 0; i < PER_THREAD; i++) {
        int n = snprintf(rec, sizeof rec, "%u %u %*s", a->tid, i, (int)(i % 30), "");
        if (ifxi_spool_append(a->s, rec, (size_t)n, NULL) != IFX_OK)
            return (void *)1;
    }
    return NULL;
}

/* Four appenders and one deliverer: each record once, each thread's order kept. */
static void test_concurrency(void **state)
{
    char *dir = make_dir();
    ifx_spool_options opt = {.max_segment_bytes = 4096, .no_fsync = true};
    pthread_t th[THREADS];
    appender_arg args[THREADS];
    unsigned next[THREADS] = {0};
    ifx_buf b;
    (void)state;
    ifx_buf_init(&b, 1 << 20);

    ifx_spool *s = open_ok(dir, &opt);
    for (unsigned t = 0; t < THREADS; t++) {
        args[t].s = s;
        args[t].tid = t;
        assert_int_equal(pthread_create(&th[t], NULL, appender, &args[t]), 0);
    }
    for (unsigned got = 0; got < SEQ_RECORDS;) {
        bool empty;
        ifx_err err;
        if (ifxi_spool_peek(s, &b, &empty, &err) != IFX_OK)
            fail_msg("peek: %s", err.msg);
        if (empty) {
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
            continue;
        }
        unsigned t, i;
        assert_int_equal(sscanf(b.data, "%u %u", &t, &i), 2);
        assert_true(t < THREADS);
        assert_int_equal(i, next[t]);
        next[t]++;
        assert_int_equal(ifxi_spool_pop(s, NULL), IFX_OK);
        got++;
    }
    for (unsigned t = 0; t < THREADS; t++) {
        void *r;
        assert_int_equal(pthread_join(th[t], &r), 0);
        assert_null(r);
        assert_int_equal(next[t], PER_THREAD);
    }
    expect_empty(s, &b);
    expect_pending(s, 0, 0);
    ifxi_spool_close(s);
    ifx_buf_free(&b);
    remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_old_files_read),
        cmocka_unit_test(test_order_and_segments),
        cmocka_unit_test(test_reopen),
        cmocka_unit_test(test_delivered_segment_left_behind),
        cmocka_unit_test(test_failed_append_is_undone),
        cmocka_unit_test(test_torn_tail_every_offset),
        cmocka_unit_test(test_damage_is_refused),
        cmocka_unit_test(test_position_lost),
        cmocka_unit_test(test_kill_9),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_lock_and_directory),
        cmocka_unit_test(test_concurrency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
