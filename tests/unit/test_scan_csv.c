/* Tests for the CSV reader's 16-byte scanner (src/core/scan16_csv.h): the fast one (SSE2 on
 * x86-64) and the portable one must both find the first ',', '"', CR or LF of a block, as a byte
 * loop does: every byte value at every position over a background of every other byte value,
 * two stops in one block, and random blocks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/scan16_csv.h"

static unsigned naive(const unsigned char *p)
{
    for (unsigned i = 0; i < 16; i++)
        if (p[i] == ',' || p[i] == '"' || p[i] == '\r' || p[i] == '\n')
            return i;
    return 16;
}

static unsigned naive_mask(const unsigned char *p)
{
    unsigned m = 0;
    for (unsigned i = 0; i < 16; i++)
        if (p[i] == ',' || p[i] == '"' || p[i] == '\r' || p[i] == '\n')
            m |= 1u << i;
    return m;
}

static void check(const unsigned char *block)
{
    unsigned want = naive(block), mask = naive_mask(block);
    assert_int_equal(ifxi_scan16_csv(block), want);
    assert_int_equal(ifxi_scan16_csv_portable(block), want);
    assert_int_equal(ifxi_scan16_csv_mask(block), mask);
    assert_int_equal(ifxi_scan16_csv_mask_portable(block), mask);
}

static void test_every_byte_everywhere(void **state)
{
    unsigned char buf[17];
    (void)state;

    for (unsigned bg = 0; bg < 256; bg++) {
        for (unsigned v = 0; v < 256; v++) {
            for (unsigned at = 0; at < 16; at++) {
                memset(buf, (int)bg, sizeof buf);
                buf[at] = (unsigned char)v;
                check(buf + (at & 1)); /* both alignments */
                check(buf);
            }
        }
    }
}

static void test_two_stops_and_random(void **state)
{
    static const unsigned char stops[] = {',', '"', '\r', '\n'};
    unsigned char buf[16];
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    (void)state;

    /* a stop right after another (borrows in the word version must not move the first) */
    for (unsigned a = 0; a < 16; a++)
        for (unsigned b = 0; b < 16; b++)
            for (unsigned s = 0; s < 16; s++) {
                memset(buf, 'x', sizeof buf);
                buf[a] = stops[s % 4];
                buf[b] = stops[s / 4];
                check(buf);
                buf[a] = (unsigned char)(stops[s % 4] + 1); /* the byte above a stop */
                check(buf);
                buf[a] = (unsigned char)(stops[s % 4] - 1); /* and below */
                check(buf);
            }
    for (int round = 0; round < 1000000; round++) {
        for (unsigned i = 0; i < 16; i++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            /* mostly bytes near the stops */
            buf[i] = (rng & 3) ? (unsigned char)(stops[(rng >> 8) & 3] + (int)((rng >> 16) % 3) - 1)
                               : (unsigned char)(rng >> 24);
        }
        check(buf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_byte_everywhere),
        cmocka_unit_test(test_two_stops_and_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
