/* ifx — the CSV reader's 16-byte scanner: where an unquoted run of a record stops (',', '"',
 * CR or LF), on the primitives of scan16.h. SSE2 on x86-64, NEON on AArch64, the portable
 * word-at-a-time version elsewhere (or with IFX_SCAN_PORTABLE); it is always compiled too, so that
 * tests/unit/test_scan_csv.c can compare them.
 */
#ifndef IFX_CORE_SCAN16_CSV_H
#define IFX_CORE_SCAN16_CSV_H

#include "core/scan16.h"

static inline uint64_t ifxi_scan_csv_word(uint64_t w)
{
    return ifxi_scan_eq(w, ',') | ifxi_scan_eq(w, '"') | ifxi_scan_eq(w, '\r') |
           ifxi_scan_eq(w, '\n');
}

/* The index of the first ',', '"', CR or LF in p[0..16), 16 when there is none. */
static inline unsigned ifxi_scan16_csv_portable(const unsigned char *p)
{
    IFXI_SCAN_SWAR16(p, ifxi_scan_csv_word);
}

/* Bit 7 of each byte of w equal to c, exact for every byte (ifxi_scan_eq is exact only for the
 * lowest): a byte's low 7 bits plus 0x7F reach bit 7 unless they are all zero, without a carry
 * into the next byte. */
static inline uint64_t ifxi_scan_eq_every(uint64_t w, unsigned char c)
{
    uint64_t x = w ^ (IFXI_SCAN_ONES * c);
    return ~(((x & ~IFXI_SCAN_HIGHS) + ~IFXI_SCAN_HIGHS) | x) & IFXI_SCAN_HIGHS;
}

/* Bit 7 of each byte of w flagged, as one bit per byte (byte k to bit k): each flag, moved to
 * bit 0 of its byte, is carried by the multiplier's byte 7 - k to bit 56 + k, and nothing else
 * reaches bits 56 to 63. */
static inline unsigned ifxi_scan_byte_bits(uint64_t highs)
{
    return (unsigned)(((highs >> 7) * 0x0102040810204080ULL) >> 56);
}

static inline unsigned ifxi_scan_csv_bits(uint64_t w)
{
    return ifxi_scan_byte_bits(ifxi_scan_eq_every(w, ',') | ifxi_scan_eq_every(w, '"') |
                               ifxi_scan_eq_every(w, '\r') | ifxi_scan_eq_every(w, '\n'));
}

/* Every CSV stop byte of p[0..16) as bit k for byte k, not only the first: a record's cells are
 * found by walking the bits of its blocks, one scan per 16 bytes instead of one per cell. */
static inline unsigned ifxi_scan16_csv_mask_portable(const unsigned char *p)
{
    return ifxi_scan_csv_bits(ifxi_scan_word(p)) | ifxi_scan_csv_bits(ifxi_scan_word(p + 8)) << 8;
}

#ifdef IFXI_SCAN16_SSE2
static inline unsigned ifxi_scan16_csv_mask(const unsigned char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i m = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(',')), _mm_cmpeq_epi8(v, _mm_set1_epi8('"'))),
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')),
                     _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))));
    return (unsigned)_mm_movemask_epi8(m);
}

static inline unsigned ifxi_scan16_csv(const unsigned char *p)
{
    return ifxi_scan_first(ifxi_scan16_csv_mask(p));
}
#elif defined(IFXI_SCAN16_NEON)
static inline unsigned ifxi_scan16_csv(const unsigned char *p)
{
    uint8x16_t v = vld1q_u8(p);
    uint8x16_t m = vorrq_u8(vorrq_u8(vceqq_u8(v, vdupq_n_u8(',')), vceqq_u8(v, vdupq_n_u8('"'))),
                            vorrq_u8(vceqq_u8(v, vdupq_n_u8('\r')), vceqq_u8(v, vdupq_n_u8('\n'))));
    return ifxi_scan_first_neon(m);
}

/* NEON has no byte movemask to make the bits from (see ifxi_scan_first_neon): the word version */
#define ifxi_scan16_csv_mask ifxi_scan16_csv_mask_portable
#else
#define ifxi_scan16_csv      ifxi_scan16_csv_portable
#define ifxi_scan16_csv_mask ifxi_scan16_csv_mask_portable
#endif

#endif
