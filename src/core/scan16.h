/* ifx — finding the few bytes that need work, 16 at a time.
 *
 * The encoder's hot loops (JSON strings, text payloads, line-protocol names) copy long runs of
 * plain bytes and stop only at a handful of byte values. These helpers return the index of the
 * first such byte in a block of 16, or 16 when there is none:
 *  - json: '"', '\\', a control byte (< 0x20) or a byte >= 0x80 (the start of a UTF-8 check);
 *  - text: '"', '\\' or a byte >= 0x80;
 *  - name: a byte < 0x20, '\\', ',', ' ', '=' or a byte >= 0x80 (what a line-protocol name or tag
 *    value must be checked or escaped for);
 *  - nonws: the first byte that is not JSON whitespace (the JSON scanner's indentation runs).
 *
 * Implementations of each: SSE2 on x86-64 (always there), NEON on AArch64 (always there), and a
 * portable one that reads two 64-bit words (SWAR), which every other machine uses. Defining
 * IFX_SCAN_PORTABLE at compile time makes the portable one the default everywhere (CMake:
 * -DIFX_SCAN_PORTABLE=ON; the ThreadSanitizer build of scripts/test uses it). The portable one is
 * always compiled, so that one test binary compares it with the default
 * (tests/unit/test_scan.c; scripts/test runs it for AArch64 too, under qemu-user).
 */
#ifndef IFX_CORE_SCAN16_H
#define IFX_CORE_SCAN16_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if !defined(IFX_SCAN_PORTABLE) && defined(__SSE2__)
#include <emmintrin.h>
#define IFXI_SCAN16_SSE2 1
#elif !defined(IFX_SCAN_PORTABLE) && defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#define IFXI_SCAN16_NEON 1
#endif

#define IFXI_SCAN_ONES  0x0101010101010101ull
#define IFXI_SCAN_HIGHS 0x8080808080808080ull

/* Eight bytes as a little-endian word, so that the lowest set bit is the first byte in memory. */
static inline uint64_t ifxi_scan_word(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

/* Bit 7 of each byte of w equal to c. Borrows can flag bytes above the first match too, but
 * never one below it, so the lowest set bit is exact (and that is all the callers use). */
static inline uint64_t ifxi_scan_eq(uint64_t w, unsigned char c)
{
    uint64_t x = w ^ (IFXI_SCAN_ONES * c);
    return (x - IFXI_SCAN_ONES) & ~x & IFXI_SCAN_HIGHS;
}

/* Bit 7 of each byte of w below n (n <= 0x80), exact for the lowest as above. */
static inline uint64_t ifxi_scan_lt(uint64_t w, unsigned char n)
{
    return (w - IFXI_SCAN_ONES * n) & ~w & IFXI_SCAN_HIGHS;
}

/* Bytes of w at the positions of mask that are not ASCII digits: 0 when every one is (an any-test,
 * not a mask of them). A byte is a digit when its high nibble is 3 and adding 6 leaves it 3 (no
 * carry leaves a byte whose high nibble is 3, so the bytes do not disturb each other where the
 * first test passes). */
static inline uint64_t ifxi_scan_nondigits(uint64_t w, uint64_t mask)
{
    const uint64_t highs = 0xF0F0F0F0F0F0F0F0ULL & mask, threes = 0x3030303030303030ULL & mask;
    return ((w & highs) ^ threes) | (((w + (0x0606060606060606ULL & mask)) & highs) ^ threes);
}

static inline uint64_t ifxi_scan_json_word(uint64_t w)
{
    return ifxi_scan_eq(w, '"') | ifxi_scan_eq(w, '\\') | ifxi_scan_lt(w, 0x20) |
           (w & IFXI_SCAN_HIGHS);
}

static inline uint64_t ifxi_scan_text_word(uint64_t w)
{
    return ifxi_scan_eq(w, '"') | ifxi_scan_eq(w, '\\') | (w & IFXI_SCAN_HIGHS);
}

static inline uint64_t ifxi_scan_name_word(uint64_t w)
{
    return ifxi_scan_lt(w, 0x20) | ifxi_scan_eq(w, '\\') | ifxi_scan_eq(w, ',') |
           ifxi_scan_eq(w, ' ') | ifxi_scan_eq(w, '=') | (w & IFXI_SCAN_HIGHS);
}

#define IFXI_SCAN_SWAR16(p, word_fn)                                                               \
    do {                                                                                           \
        uint64_t m_ = word_fn(ifxi_scan_word(p));                                                  \
        if (m_)                                                                                    \
            return (unsigned)__builtin_ctzll(m_) / 8;                                              \
        m_ = word_fn(ifxi_scan_word((p) + 8));                                                     \
        if (m_)                                                                                    \
            return 8 + (unsigned)__builtin_ctzll(m_) / 8;                                          \
        return 16;                                                                                 \
    } while (0)

static inline unsigned ifxi_scan16_json_portable(const unsigned char *p)
{
    IFXI_SCAN_SWAR16(p, ifxi_scan_json_word);
}

static inline unsigned ifxi_scan16_text_portable(const unsigned char *p)
{
    IFXI_SCAN_SWAR16(p, ifxi_scan_text_word);
}

static inline unsigned ifxi_scan16_name_portable(const unsigned char *p)
{
    IFXI_SCAN_SWAR16(p, ifxi_scan_name_word);
}

/* Bit 7 of each byte of w that is not zero: exact for every byte (no borrow crosses bytes). */
static inline uint64_t ifxi_scan_nonzero(uint64_t w)
{
    return (((w & ~IFXI_SCAN_HIGHS) + ~IFXI_SCAN_HIGHS) | w) & IFXI_SCAN_HIGHS;
}

/* Bit 7 of each byte of w that is not JSON whitespace (' ', '\n', '\r', '\t'). */
static inline uint64_t ifxi_scan_nonws_word(uint64_t w)
{
    return ifxi_scan_nonzero(w ^ (IFXI_SCAN_ONES * ' ')) &
           ifxi_scan_nonzero(w ^ (IFXI_SCAN_ONES * '\n')) &
           ifxi_scan_nonzero(w ^ (IFXI_SCAN_ONES * '\r')) &
           ifxi_scan_nonzero(w ^ (IFXI_SCAN_ONES * '\t'));
}

/* The index of the first byte that is not JSON whitespace, 16 when all are (pretty-printed
 * payloads indent by runs of spaces). */
static inline unsigned ifxi_scan16_nonws_portable(const unsigned char *p)
{
    IFXI_SCAN_SWAR16(p, ifxi_scan_nonws_word);
}

/* ifxi_scan16_json, and in *quote whether the byte found is '"' (false when none is): the end of
 * a short string is told from the masks, without loading the byte again. The lowest json bit is
 * exact and '"' is a json stop, so no '"' bit below it is set and the one at it is exact. */
static inline unsigned ifxi_scan16_json_q_portable(const unsigned char *p, bool *quote)
{
    for (unsigned half = 0; half < 16; half += 8) {
        uint64_t w = ifxi_scan_word(p + half), m = ifxi_scan_json_word(w);
        if (m) {
            *quote = (m & (0 - m) & ifxi_scan_eq(w, '"')) != 0;
            return half + (unsigned)__builtin_ctzll(m) / 8;
        }
    }
    *quote = false;
    return 16;
}

#ifdef IFXI_SCAN16_SSE2
static inline unsigned ifxi_scan_first(unsigned bits)
{
    return bits ? (unsigned)__builtin_ctz(bits) : 16;
}

/* 0xFF in each byte of v where a JSON scan stops: '"', '\\', below 0x20, or 0x80 and above (a
 * signed compare: those bytes are negative, so "below 0x20" takes them too). */
static inline __m128i ifxi_scan_json_stops_sse2(__m128i v)
{
    return _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
        _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
}

static inline unsigned ifxi_scan16_json(const unsigned char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    return ifxi_scan_first((unsigned)_mm_movemask_epi8(ifxi_scan_json_stops_sse2(v)));
}

static inline unsigned ifxi_scan16_text(const unsigned char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i m =
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
    return ifxi_scan_first((unsigned)(_mm_movemask_epi8(m) | _mm_movemask_epi8(v)));
}

static inline unsigned ifxi_scan16_name(const unsigned char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i m = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(',')), _mm_cmpeq_epi8(v, _mm_set1_epi8(' '))),
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('=')),
                     _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
    m = _mm_or_si128(m, _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
    return ifxi_scan_first((unsigned)_mm_movemask_epi8(m));
}

static inline unsigned ifxi_scan16_nonws(const unsigned char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i m = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))),
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')),
                     _mm_cmpeq_epi8(v, _mm_set1_epi8('\t'))));
    return ifxi_scan_first(~(unsigned)_mm_movemask_epi8(m) & 0xFFFFu);
}

static inline unsigned ifxi_scan16_json_q(const unsigned char *p, bool *quote)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    unsigned bits = (unsigned)_mm_movemask_epi8(ifxi_scan_json_stops_sse2(v));
    unsigned quotes = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
    *quote = (bits & (0u - bits) & quotes) != 0;
    return ifxi_scan_first(bits);
}
#elif defined(IFXI_SCAN16_NEON)
/* NEON has no byte movemask: narrowing each 16-bit lane by a right shift of 4 keeps four bits
 * of every byte of a 0x00/0xFF mask, so the first set byte is the lowest set nibble. */
static inline unsigned ifxi_scan_first_neon(uint8x16_t m)
{
    uint64_t bits = vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(m), 4)), 0);
    return bits ? (unsigned)__builtin_ctzll(bits) / 4 : 16;
}

/* Bytes below 0x20 or at 0x80 and above: a signed compare takes both, as in the SSE2 version. */
static inline uint8x16_t ifxi_scan_ctl_or_high_neon(uint8x16_t v)
{
    return vcltq_s8(vreinterpretq_s8_u8(v), vdupq_n_s8(0x20));
}

/* 0xFF in each byte of v where a JSON scan stops, as ifxi_scan_json_stops_sse2. */
static inline uint8x16_t ifxi_scan_json_stops_neon(uint8x16_t v)
{
    return vorrq_u8(vorrq_u8(vceqq_u8(v, vdupq_n_u8('"')), vceqq_u8(v, vdupq_n_u8('\\'))),
                    ifxi_scan_ctl_or_high_neon(v));
}

static inline unsigned ifxi_scan16_json(const unsigned char *p)
{
    return ifxi_scan_first_neon(ifxi_scan_json_stops_neon(vld1q_u8(p)));
}

static inline unsigned ifxi_scan16_text(const unsigned char *p)
{
    uint8x16_t v = vld1q_u8(p);
    uint8x16_t m = vorrq_u8(vorrq_u8(vceqq_u8(v, vdupq_n_u8('"')), vceqq_u8(v, vdupq_n_u8('\\'))),
                            vcgeq_u8(v, vdupq_n_u8(0x80)));
    return ifxi_scan_first_neon(m);
}

static inline unsigned ifxi_scan16_name(const unsigned char *p)
{
    uint8x16_t v = vld1q_u8(p);
    uint8x16_t m = vorrq_u8(vorrq_u8(vceqq_u8(v, vdupq_n_u8(',')), vceqq_u8(v, vdupq_n_u8(' '))),
                            vorrq_u8(vceqq_u8(v, vdupq_n_u8('=')), vceqq_u8(v, vdupq_n_u8('\\'))));
    return ifxi_scan_first_neon(vorrq_u8(m, ifxi_scan_ctl_or_high_neon(v)));
}

static inline unsigned ifxi_scan16_nonws(const unsigned char *p)
{
    uint8x16_t v = vld1q_u8(p);
    uint8x16_t m = vorrq_u8(vorrq_u8(vceqq_u8(v, vdupq_n_u8(' ')), vceqq_u8(v, vdupq_n_u8('\n'))),
                            vorrq_u8(vceqq_u8(v, vdupq_n_u8('\r')), vceqq_u8(v, vdupq_n_u8('\t'))));
    return ifxi_scan_first_neon(vmvnq_u8(m));
}

static inline unsigned ifxi_scan16_json_q(const unsigned char *p, bool *quote)
{
    unsigned i = ifxi_scan16_json(p);
    *quote = i < 16 && p[i] == '"';
    return i;
}
#else
#define ifxi_scan16_json   ifxi_scan16_json_portable
#define ifxi_scan16_text   ifxi_scan16_text_portable
#define ifxi_scan16_name   ifxi_scan16_name_portable
#define ifxi_scan16_nonws  ifxi_scan16_nonws_portable
#define ifxi_scan16_json_q ifxi_scan16_json_q_portable
#endif

/* Copies n bytes like memcpy, without a call for the short copies the encoder makes by the
 * dozen per line (names, tag values, numbers): two overlapping moves of 8 or 4 bytes, or three
 * single bytes. Reads and writes exactly [0, n). */
static inline void ifxi_copy(void *to, const void *from, size_t n)
{
    unsigned char *d = to;
    const unsigned char *s = from;

    if (n > 16) {
        memcpy(d, s, n);
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n) {
        unsigned char a = s[0], b = s[n / 2], c = s[n - 1];
        d[0] = a;
        d[n / 2] = b;
        d[n - 1] = c;
    }
}

/* Bytes p[0..n) (n < 8) as a little-endian word, the bytes above n set to 'a', which never stops.
 * Overlapping loads instead of a loop or a call to memcpy. */
static inline uint64_t ifxi_scan_short_word(const unsigned char *p, size_t n)
{
    uint64_t w;

    if (n >= 4) {
        uint32_t a =
            (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        const unsigned char *q = p + n - 4;
        uint32_t b =
            (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
        w = (uint64_t)a | (uint64_t)b << (8 * (n - 4));
    } else if (n) {
        w = (uint64_t)p[0] | (uint64_t)p[n / 2] << (8 * (n / 2)) |
            (uint64_t)p[n - 1] << (8 * (n - 1));
    } else {
        return IFXI_SCAN_ONES * 'a';
    }
    return w | (IFXI_SCAN_ONES * 'a') << (8 * n);
}

/* The same for the last n < 16 bytes of an input, without reading past them: two overlapping
 * words when n >= 8 (a stop found in the second is the first, since the overlap had none), else
 * one padded word. Returns n when none of them stops. The same code serves both
 * implementations: the tail is short, and the word test is exact for the first stop. */
#define IFXI_SCAN_TAIL(word_fn, p, n)                                                              \
    do {                                                                                           \
        uint64_t m_;                                                                               \
        if ((n) >= 8) {                                                                            \
            m_ = word_fn(ifxi_scan_word(p));                                                       \
            if (m_)                                                                                \
                return (unsigned)__builtin_ctzll(m_) / 8;                                          \
            m_ = word_fn(ifxi_scan_word((p) + (n)-8));                                             \
            if (m_)                                                                                \
                return (unsigned)((n)-8) + (unsigned)__builtin_ctzll(m_) / 8;                      \
            return (unsigned)(n);                                                                  \
        }                                                                                          \
        m_ = word_fn(ifxi_scan_short_word(p, n));                                                  \
        return m_ ? (unsigned)__builtin_ctzll(m_) / 8 : (unsigned)(n);                             \
    } while (0)

#endif
