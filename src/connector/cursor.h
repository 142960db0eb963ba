/* ifx — exactly-once row tracking for a polling source (the source's cursor).
 *
 * The cursor is a time T and the identities (64-bit hashes) of the rows at exactly T that
 * were already delivered. Every row with a time before T was delivered. A query asks for rows from
 * T - 1 ns on (so that a template written with '>' and one written with '>=' both return the rows
 * at T), sorted by time, with a limit of batch_size plus the number of rows already seen at T, so
 * that a full answer always holds new rows even when more rows share T than any batch holds.
 * Rows before T, and rows at T already seen, are dropped on the client: nothing depends on the
 * order of rows that share a timestamp (servers do not keep one; upstream defect R19).
 *
 * Rows with the same time and hash are copies of one value (say two hosts reporting the same
 * number, merged into one series by an InfluxQL query without GROUP BY *). They are counted, not
 * collapsed: seen holds one entry per delivered copy, an answer with m copies of a hash seen k
 * times delivers m - k more, and the limit counts the copies too, so a full answer still brings
 * new rows. (Collapsing them would lose the copies, and a full answer made only of copies would
 * make no progress at all.)
 *
 * Several result tables (Flux tables, InfluxQL series) each obey the limit separately (R3): a
 * table that came back full may have more rows after its last one, so no row later than the
 * earliest last time of a full table is emitted; it will come again in the next answer.
 *
 * A template written with '>=' also returns the rows at T - 1 ns, which count against the limit;
 * should batch_size or more of them share that one nanosecond, a full answer could hold nothing
 * new, and ifxi_cursor_plan refuses it rather than loop (write '>' to avoid this).
 *
 * Thread safety: none; a cursor belongs to one source.
 */
#ifndef IFX_CURSOR_H
#define IFX_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ifx/buf.h"
#include "ifx/error.h"
#include "core/le.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ifx_cursor {
    int64_t time_ns; /* T: every row before T was delivered */
    uint64_t *seen;  /* hashes of the rows at exactly T already delivered, sorted; a hash
                        appears once per delivered copy (see above) */
    size_t nseen, cap;
} ifx_cursor;

/* Starts at start_ns (initial_offset): nothing delivered yet. */
void ifxi_cursor_init(ifx_cursor *c, int64_t start_ns);
void ifxi_cursor_free(ifx_cursor *c);
/* dst becomes an independent copy (dst must be initialised or freed). */
ifx_rc ifxi_cursor_copy(ifx_cursor *dst, const ifx_cursor *src);

/* The time to put in the query for $cursor: T - 1 ns (INT64_MIN stays INT64_MIN). */
int64_t ifxi_cursor_query_time(const ifx_cursor *c);

/* The $limit of the next query: batch_size + rows already seen at T. */
uint64_t ifxi_cursor_query_limit(const ifx_cursor *c, uint32_t batch_size);

/* How many copies of the row hash the cursor has delivered at its time T (O(log nseen): seen is
 * sorted). Borrows c. */
size_t ifxi_cursor_seen_count(const ifx_cursor *c, uint64_t hash);

/* A row of an answer as the cursor sees it. */
typedef struct ifx_cursor_row {
    int64_t time_ns;
    uint64_t hash; /* identity of the row (see ifx_row_hash) */
    int64_t table; /* result table / series the row belongs to */
} ifx_cursor_row;

/* Decides which rows of an answer (rows[0..n), in the server's order) to deliver: emit[i] is set
 * for each. *next receives the cursor to commit once those rows are acknowledged (initialised by
 * the call, on failure too; free it with ifxi_cursor_free). *full is true when some table came
 * back with `limit` rows (or more): more rows may be waiting, so query again at once. Borrows
 * c and rows. Rows sharing a time and hash are counted as copies (see above). On any failure
 * nothing is emitted, *next is a copy of c and *full is false. IFX_E_INVALID when:
 *   - a table's rows are not in ascending time order (the message names the table and the two
 *     times, and says to add ORDER BY time / |> sort(columns: ["_time"]));
 *   - a full answer can make no progress: a full table ends before T ("the query returned rows
 *     before the cursor; check that it filters on $cursor"), or it holds nothing new because rows
 *     before T or a limit below ifxi_cursor_query_limit took up its rows. */
ifx_rc ifxi_cursor_plan(const ifx_cursor *c, const ifx_cursor_row *rows, size_t n, uint64_t limit,
                        bool *emit, ifx_cursor *next, bool *full, ifx_err *err);

/* The persisted form (the runtime's state bytes), version 1, little-endian:
 *   "IFXC" | u8 version=1 | i64 T | u32 count | count x u64 hash (ascending; repeats allowed)
 * ifxi_cursor_encode appends it to out (IFX_E_FULL past its cap or beyond 2^32 - 1 hashes; out is
 * then unchanged). ifxi_cursor_decode refuses any other magic or version, a short or overlong
 * buffer, and unsorted hashes, naming the problem and setting err->offset ("cursor state: unknown
 * magic", "... version 2 is not supported", "... truncated at byte N", "... hashes not sorted at
 * entry K", "... N trailing bytes"): a silent reset would deliver everything again. *out is
 * initialised by the call; on failure it is empty and owns nothing. */
ifx_rc ifxi_cursor_encode(const ifx_cursor *c, ifx_buf *out);
ifx_rc ifxi_cursor_decode(const uint8_t *p, size_t len, ifx_cursor *out, ifx_err *err);

/* A 64-bit hash with good avalanche, for row identities (not cryptographic). The value depends
 * only on the bytes, len and seed, never on the machine (it is persisted): do not change it.
 * Inline: the source hashes every column name and value of every row (with two seeds, in one
 * pass: ifxi_cursor_hash64x2), mostly a few bytes each, and the calls cost as much as the
 * hashing. */
/* ---- identity hash ----------------------------------------------------------------------------
 *
 * Words of 8 bytes, read little-endian so that the value is the same on every machine (it is
 * persisted in the cursor state), each scrambled by a multiply-xorshift before it is folded into
 * the state, the tail padded with zeros (the length, folded in at the start, keeps "a" and "a\0"
 * apart), and a full-avalanche finalizer. Every step is a bijection of its 64-bit input.
 */

#define HASH_GOLDEN 0x9E3779B97F4A7C15ULL /* 2^64 / golden ratio */
#define HASH_MUL_A  0xD6E8FEB86659FD93ULL
#define HASH_MUL_B  0xA0761D6478BD642FULL
#define HASH_ADD    0x5851F42D4C957F2DULL

static inline uint64_t rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static inline uint64_t scramble_word(uint64_t w)
{
    w *= HASH_MUL_A;
    w ^= w >> 32;
    w *= HASH_MUL_B;
    w ^= w >> 29;
    return w;
}

/* Folds a word, already scrambled, into the state. */
static inline uint64_t fold_scrambled(uint64_t h, uint64_t sw)
{
    return rotl64(h ^ sw, 27) * HASH_GOLDEN + HASH_ADD;
}

static inline uint64_t fold(uint64_t h, uint64_t w)
{
    return fold_scrambled(h, scramble_word(w));
}

static inline uint64_t finalize(uint64_t h)
{
    h ^= h >> 30;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBULL;
    h ^= h >> 31;
    return h;
}

/* The last 1..7 bytes, little-endian and zero-extended, gathered in a register: most keys hashed
 * are shorter than 8 bytes. Two overlapping loads (4..7 bytes) or three single bytes (1..3)
 * instead of a loop over the bytes, which was a twentieth of the row identity; a byte read twice
 * lands on the same bits, so the OR is the same word. */
static inline uint64_t tail_word(const uint8_t *b, size_t len)
{
    if (len >= 4)
        return (uint64_t)ifx_le_get32(b) | (uint64_t)ifx_le_get32(b + len - 4) << (8 * (len - 4));
    return (uint64_t)b[0] | (uint64_t)b[len >> 1] << (8 * (len >> 1)) |
           (uint64_t)b[len - 1] << (8 * (len - 1));
}

static inline uint64_t ifxi_cursor_hash64(const void *p, size_t len, uint64_t seed)
{
    const uint8_t *b = p;
    uint64_t h = scramble_word(seed ^ HASH_ADD) ^ ((uint64_t)len * HASH_GOLDEN);

    while (len >= 8) {
        h = fold(h, ifx_le_get64(b));
        b += 8;
        len -= 8;
    }
    if (len)
        h = fold(h, tail_word(b, len));
    return finalize(h);
}

/* ifxi_cursor_hash64 of the same bytes with two seeds at once, *h1 and *h2 (replaced by the two
 * hashes): each word is read and scrambled once for both (the row identity is two hashes). */
static inline void ifxi_cursor_hash64x2(const void *p, size_t len, uint64_t *h1, uint64_t *h2)
{
    const uint8_t *b = p;
    uint64_t a = scramble_word(*h1 ^ HASH_ADD) ^ ((uint64_t)len * HASH_GOLDEN);
    uint64_t c = scramble_word(*h2 ^ HASH_ADD) ^ ((uint64_t)len * HASH_GOLDEN);
    uint64_t w;

    while (len >= 8) {
        w = scramble_word(ifx_le_get64(b));
        a = fold_scrambled(a, w);
        c = fold_scrambled(c, w);
        b += 8;
        len -= 8;
    }
    if (len) {
        w = scramble_word(tail_word(b, len));
        a = fold_scrambled(a, w);
        c = fold_scrambled(c, w);
    }
    *h1 = finalize(a);
    *h2 = finalize(c);
}

#ifdef __cplusplus
}
#endif
#endif
