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

#ifdef IFXI_SCAN16_SSE2
static inline unsigned ifxi_scan16_csv(const unsigned char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i m = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(',')), _mm_cmpeq_epi8(v, _mm_set1_epi8('"'))),
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')),
                     _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))));
    return ifxi_scan_first((unsigned)_mm_movemask_epi8(m));
}
#elif defined(IFXI_SCAN16_NEON)
static inline unsigned ifxi_scan16_csv(const unsigned char *p)
{
    uint8x16_t v = vld1q_u8(p);
    uint8x16_t m = vorrq_u8(vorrq_u8(vceqq_u8(v, vdupq_n_u8(',')), vceqq_u8(v, vdupq_n_u8('"'))),
                            vorrq_u8(vceqq_u8(v, vdupq_n_u8('\r')), vceqq_u8(v, vdupq_n_u8('\n'))));
    return ifxi_scan_first_neon(m);
}
#else
#define ifxi_scan16_csv ifxi_scan16_csv_portable
#endif

#endif
