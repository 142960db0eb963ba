/* ifx — exactly-once row tracking for a polling source (see src/connector/cursor.h).
 *
 * The plan works on two scratch arrays built per answer: the rows grouped by table (to check the
 * time order and find the full tables) and the rows the cursor may deliver, sorted by (time, hash)
 * so that copies of one value are counted together and the hashes at the new cursor time come out
 * sorted. Everything is O(n log n) in the rows of the answer plus O(nseen).
 */
#include "connector/cursor.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/le.h"
#include "ifx/timeutil.h"

#define CURSOR_MAGIC      "IFXC"
#define CURSOR_VERSION    1
#define CURSOR_HEADER_LEN 17 /* magic 4 + version 1 + time 8 + count 4 */

void ifxi_cursor_init(ifx_cursor *c, int64_t start_ns)
{
    c->time_ns = start_ns;
    c->seen = NULL;
    c->nseen = 0;
    c->cap = 0;
}

void ifxi_cursor_free(ifx_cursor *c)
{
    free(c->seen);
    c->seen = NULL;
    c->nseen = 0;
    c->cap = 0;
}

ifx_rc ifxi_cursor_copy(ifx_cursor *dst, const ifx_cursor *src)
{
    uint64_t *seen = NULL;

    if (dst == src)
        return IFX_OK;
    if (src->nseen) {
        seen = malloc(src->nseen * sizeof *seen);
        if (!seen)
            return IFX_E_NOMEM;
        memcpy(seen, src->seen, src->nseen * sizeof *seen);
    }
    free(dst->seen);
    dst->time_ns = src->time_ns;
    dst->seen = seen;
    dst->nseen = src->nseen;
    dst->cap = src->nseen;
    return IFX_OK;
}

int64_t ifxi_cursor_query_time(const ifx_cursor *c)
{
    return c->time_ns == INT64_MIN ? INT64_MIN : c->time_ns - 1;
}

uint64_t ifxi_cursor_query_limit(const ifx_cursor *c, uint32_t batch_size)
{
    uint64_t seen = (uint64_t)c->nseen;
    return seen > UINT64_MAX - batch_size ? UINT64_MAX : seen + batch_size;
}

/* ---- planning --------------------------------------------------------------------------------
 */

typedef struct table_ref {
    int64_t table;
    size_t idx;
} table_ref;

typedef struct candidate {
    int64_t time_ns;
    uint64_t hash;
    size_t idx;
} candidate;

static int cmp_table_ref(const void *pa, const void *pb)
{
    const table_ref *a = pa, *b = pb;
    if (a->table != b->table)
        return a->table < b->table ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int cmp_candidate(const void *pa, const void *pb)
{
    const candidate *a = pa, *b = pb;
    if (a->time_ns != b->time_ns)
        return a->time_ns < b->time_ns ? -1 : 1;
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Sorts by cmp (a total order: the index breaks ties), skipping the sort when the array is
 * sorted already, which an answer in time order from one table is: the sort was a twentieth of
 * the source's time for nothing. */
static void sort_unless_sorted(void *base, size_t n, size_t size,
                               int (*cmp)(const void *, const void *))
{
    const char *p = base;
    for (size_t i = 1; i < n; i++)
        if (cmp(p + (i - 1) * size, p + i * size) > 0) {
            qsort(base, n, size, cmp);
            return;
        }
}

/* How many copies of hash the sorted array holds (binary search for both ends). */
static size_t count_hash(const uint64_t *v, size_t n, uint64_t hash)
{
    size_t lo = 0, hi = n, first;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < hash)
            lo = mid + 1;
        else
            hi = mid;
    }
    first = lo;
    hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] <= hash)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - first;
}

size_t ifxi_cursor_seen_count(const ifx_cursor *c, uint64_t hash)
{
    return count_hash(c->seen, c->nseen, hash);
}

/* *next becomes a copy of c; when even that fails, c's time with nothing seen, and the caller
 * reports IFX_E_NOMEM. */
static ifx_rc stay(const ifx_cursor *c, ifx_cursor *next)
{
    ifxi_cursor_init(next, c->time_ns);
    return ifxi_cursor_copy(next, c);
}

/* A refused answer: nothing is delivered and the cursor stays, so the same rows come again once
 * the cause is fixed. */
static ifx_rc refuse(const ifx_cursor *c, bool *emit, size_t n, ifx_cursor *next, bool *full)
{
    if (n)
        memset(emit, 0, n * sizeof *emit);
    *full = false;
    return stay(c, next);
}

ifx_rc ifxi_cursor_plan(const ifx_cursor *c, const ifx_cursor_row *rows, size_t n, uint64_t limit,
                        bool *emit, ifx_cursor *next, bool *full, ifx_err *err)
{
    const int64_t T = c->time_ns;
    table_ref *by_table = NULL;
    candidate *cand = NULL;
    uint64_t *at_next = NULL; /* hashes emitted at the new cursor time, sorted */
    size_t ncand = 0, nat_next = 0, nemit = 0, nbefore = 0;
    bool any_full = false;
    int64_t frontier = INT64_MAX, new_time = T;
    int64_t full_table = 0;
    ifx_rc rc = IFX_OK;

    ifxi_cursor_init(next, T);
    *full = false;
    if (n)
        memset(emit, 0, n * sizeof *emit);
    if (n == 0)
        return stay(c, next) ? ifx_err_set(err, IFX_E_NOMEM, "out of memory") : IFX_OK;

    by_table = malloc(n * sizeof *by_table);
    cand = malloc(n * sizeof *cand);
    at_next = malloc(n * sizeof *at_next);
    if (!by_table || !cand || !at_next) {
        rc = ifx_err_set(err, IFX_E_NOMEM, "out of memory");
        goto out;
    }

    /* Tables: each must be in time order; a table with `limit` rows may have more after them. */
    for (size_t i = 0; i < n; i++) {
        by_table[i].table = rows[i].table;
        by_table[i].idx = i;
        if (rows[i].time_ns < T)
            nbefore++;
    }
    sort_unless_sorted(by_table, n, sizeof *by_table, cmp_table_ref);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && by_table[j].table == by_table[i].table) {
            const ifx_cursor_row *prev = &rows[by_table[j - 1].idx], *cur = &rows[by_table[j].idx];
            if (cur->time_ns < prev->time_ns) {
                char a[IFX_RFC3339_MAX], b[IFX_RFC3339_MAX];
                ifx_time_format_rfc3339(prev->time_ns, a);
                ifx_time_format_rfc3339(cur->time_ns, b);
                rc = ifx_err_set(err, IFX_E_INVALID,
                                 "result table %" PRId64 " is not in ascending time order (%s "
                                 "comes after %s); add ORDER BY time (SQL, InfluxQL) or |> "
                                 "sort(columns: [\"_time\"]) (Flux) to the query",
                                 cur->table, b, a);
                goto out;
            }
            j++;
        }
        if ((uint64_t)(j - i) >= limit) {
            int64_t last = rows[by_table[j - 1].idx].time_ns;
            if (!any_full || last < frontier) {
                frontier = last;
                full_table = by_table[i].table;
            }
            any_full = true;
        }
        i = j;
    }
    if (any_full && frontier < T) {
        char a[IFX_RFC3339_MAX], b[IFX_RFC3339_MAX];
        ifx_time_format_rfc3339(frontier, a);
        ifx_time_format_rfc3339(T, b);
        rc = ifx_err_set(err, IFX_E_INVALID,
                         "the query returned rows before the cursor; check that it filters on "
                         "$cursor (result table %" PRId64 " came back full, ending at %s, "
                         "before the cursor %s)",
                         full_table, a, b);
        goto out;
    }

    /* The rows the cursor may deliver: from T on, and no later than the frontier (a full table
     * may have more rows at its last time, but none before it). */
    for (size_t i = 0; i < n; i++) {
        int64_t t = rows[i].time_ns;
        if (t < T || (any_full && t > frontier))
            continue;
        cand[ncand].time_ns = t;
        cand[ncand].hash = rows[i].hash;
        cand[ncand].idx = i;
        ncand++;
        if (t > new_time)
            new_time = t;
    }
    if (any_full)
        new_time = frontier; /* >= T, checked above */
    sort_unless_sorted(cand, ncand, sizeof *cand, cmp_candidate);

    /* Copies of one (time, hash) are the same value: deliver as many as the answer holds beyond
     * those already delivered (only rows at T can have been). */
    for (size_t i = 0; i < ncand;) {
        size_t j = i + 1, m, k, e;
        while (j < ncand && cand[j].time_ns == cand[i].time_ns && cand[j].hash == cand[i].hash)
            j++;
        m = j - i;
        k = cand[i].time_ns == T ? count_hash(c->seen, c->nseen, cand[i].hash) : 0;
        e = m > k ? m - k : 0;
        for (size_t x = 0; x < e; x++) {
            emit[cand[i + x].idx] = true;
            if (cand[i].time_ns == new_time)
                at_next[nat_next++] = cand[i].hash;
        }
        nemit += e;
        i = j;
    }

    if (any_full && nemit == 0 && new_time == T) {
        /* Nothing new although more rows wait: querying again would return the same rows. */
        char b[IFX_RFC3339_MAX];
        ifx_time_format_rfc3339(T, b);
        if (nbefore)
            rc = ifx_err_set(err, IFX_E_INVALID,
                             "the query returned rows before the cursor; check that it filters "
                             "on $cursor (%zu rows before %s took up the limit of %" PRIu64 ")",
                             nbefore, b, limit);
        else
            rc = ifx_err_set(err, IFX_E_INVALID,
                             "no progress: result table %" PRId64 " came back full (limit %" PRIu64
                             ") with only rows already delivered at %s; the limit must exceed "
                             "the %zu rows delivered at that time",
                             full_table, limit, b, c->nseen);
        goto out;
    }

    /* The new seen set: every row at the new time that is delivered once this answer is. */
    if (new_time == T) {
        size_t total = c->nseen + nat_next, a = 0, b = 0, o = 0;
        if (total == 0)
            goto done;
        next->seen = malloc(total * sizeof *next->seen);
        if (!next->seen) {
            rc = ifx_err_set(err, IFX_E_NOMEM, "out of memory");
            goto out;
        }
        while (a < c->nseen || b < nat_next) {
            if (b == nat_next || (a < c->nseen && c->seen[a] <= at_next[b]))
                next->seen[o++] = c->seen[a++];
            else
                next->seen[o++] = at_next[b++];
        }
        next->nseen = next->cap = total;
    } else if (nat_next) {
        next->seen = at_next; /* already sorted: candidates are ordered by (time, hash) */
        next->nseen = next->cap = nat_next;
        at_next = NULL;
    }
done:
    next->time_ns = new_time;
    *full = any_full;

out:
    if (rc) {
        ifxi_cursor_free(next);
        if (refuse(c, emit, n, next, full))
            rc = ifx_err_set(err, IFX_E_NOMEM, "out of memory");
    }
    free(by_table);
    free(cand);
    free(at_next);
    return rc;
}

/* ---- persisted form ---------------------------------------------------------------------------
 */

ifx_rc ifxi_cursor_encode(const ifx_cursor *c, ifx_buf *out)
{
    uint8_t head[CURSOR_HEADER_LEN];
    ifx_rc rc;

    if ((uint64_t)c->nseen > UINT32_MAX || c->nseen > (SIZE_MAX - CURSOR_HEADER_LEN) / 8)
        return IFX_E_FULL;
    if ((rc = ifx_buf_reserve(out, CURSOR_HEADER_LEN + c->nseen * 8)))
        return rc;
    memcpy(head, CURSOR_MAGIC, 4);
    head[4] = CURSOR_VERSION;
    ifx_le_put64(head + 5, (uint64_t)c->time_ns);
    ifx_le_put32(head + 13, (uint32_t)c->nseen);
    ifx_buf_append(out, head, sizeof head); /* cannot fail: reserved */
    for (size_t i = 0; i < c->nseen; i++) {
        uint8_t h[8];
        ifx_le_put64(h, c->seen[i]);
        ifx_buf_append(out, h, sizeof h);
    }
    return IFX_OK;
}

ifx_rc ifxi_cursor_decode(const uint8_t *p, size_t len, ifx_cursor *out, ifx_err *err)
{
    uint64_t count;
    size_t body;

    ifxi_cursor_init(out, 0);
    if (len < 4) {
        if (len == 0 || memcmp(p, CURSOR_MAGIC, len) == 0)
            return ifx_err_set_at(err, IFX_E_INVALID, len, "cursor state: truncated at byte %zu",
                                  len);
        return ifx_err_set_at(err, IFX_E_INVALID, 0, "cursor state: unknown magic");
    }
    if (memcmp(p, CURSOR_MAGIC, 4) != 0)
        return ifx_err_set_at(err, IFX_E_INVALID, 0, "cursor state: unknown magic");
    if (len < 5)
        return ifx_err_set_at(err, IFX_E_INVALID, len, "cursor state: truncated at byte %zu", len);
    if (p[4] != CURSOR_VERSION)
        return ifx_err_set_at(err, IFX_E_INVALID, 4, "cursor state: version %u is not supported",
                              (unsigned)p[4]);
    if (len < CURSOR_HEADER_LEN)
        return ifx_err_set_at(err, IFX_E_INVALID, len, "cursor state: truncated at byte %zu", len);
    count = ifx_le_get32(p + 13);
    body = len - CURSOR_HEADER_LEN;
    if (body / 8 < count)
        return ifx_err_set_at(err, IFX_E_INVALID, len, "cursor state: truncated at byte %zu", len);
    if (body > count * 8)
        return ifx_err_set_at(err, IFX_E_INVALID, CURSOR_HEADER_LEN + (size_t)count * 8,
                              "cursor state: %zu trailing bytes", body - (size_t)count * 8);
    for (size_t k = 1; k < count; k++) {
        const uint8_t *q = p + CURSOR_HEADER_LEN + 8 * k;
        if (ifx_le_get64(q) < ifx_le_get64(q - 8))
            return ifx_err_set_at(err, IFX_E_INVALID, CURSOR_HEADER_LEN + 8 * k,
                                  "cursor state: hashes not sorted at entry %zu", k);
    }
    if (count) {
        out->seen = malloc((size_t)count * sizeof *out->seen);
        if (!out->seen)
            return ifx_err_set(err, IFX_E_NOMEM, "out of memory");
        for (size_t k = 0; k < count; k++)
            out->seen[k] = ifx_le_get64(p + CURSOR_HEADER_LEN + 8 * k);
    }
    out->time_ns = (int64_t)ifx_le_get64(p + 5);
    out->nseen = out->cap = (size_t)count;
    return IFX_OK;
}
