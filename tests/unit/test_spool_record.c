/* The sink's spool record (src/connector/spool_record.h): the exact bytes of a record (records
 * on disk from earlier versions must still read), a round trip, and records cut short or with
 * lengths past their end, which must be refused without reading beyond them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "connector/spool_record.h"

static const ifx_line_origin origins[2] = {
    {"s",
     1,
     "tp",
     2,
     3,
     0x0102030405060708ULL,
     {0x1112131415161718ULL, 0x2122232425262728ULL},
     (const uint8_t *)"payload",
     7},
    {"", 0, "t", 1, 0xA0B0C0D0u, 0, {0, 1}, NULL, 0},
};
static const char *const lines[2] = {"m f=1", "m,t=x g=2i 5"};

/* The two-line record, built by hand from the layout in spool_record.h. */
/* clang-format off */
static const uint8_t want[] = {
    2, 0, 0, 0,                                                     /* count */
    5, 0, 0, 0, 'm', ' ', 'f', '=', '1',                            /* line */
    1, 0, 0, 0, 's',                                                /* stream */
    2, 0, 0, 0, 't', 'p',                                           /* topic */
    3, 0, 0, 0,                                                     /* partition */
    8, 7, 6, 5, 4, 3, 2, 1,                                         /* offset */
    0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,                 /* id hi */
    0x28, 0x27, 0x26, 0x25, 0x24, 0x23, 0x22, 0x21,                 /* id lo */
    12, 0, 0, 0, 'm', ',', 't', '=', 'x', ' ', 'g', '=', '2', 'i', ' ', '5', /* line */
    0, 0, 0, 0,                                                     /* empty stream */
    1, 0, 0, 0, 't',                                                /* topic */
    0xD0, 0xC0, 0xB0, 0xA0,                                         /* partition */
    0, 0, 0, 0, 0, 0, 0, 0,                                         /* offset */
    0, 0, 0, 0, 0, 0, 0, 0,                                         /* id hi */
    1, 0, 0, 0, 0, 0, 0, 0,                                         /* id lo */
};
/* clang-format on */

static void build(ifx_buf *b)
{
    ifx_buf_init(b, 1 << 20);
    assert_int_equal(ifxi_spool_record_begin(b, 2), IFX_OK);
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(ifxi_spool_record_add(b, lines[i], strlen(lines[i]), &origins[i]), IFX_OK);
}

static void test_layout(void **state)
{
    ifx_buf b;
    (void)state;
    build(&b);
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    /* begin empties the buffer: a record is built in place again */
    assert_int_equal(ifxi_spool_record_begin(&b, 0), IFX_OK);
    assert_int_equal(b.len, 4);
    ifx_buf_free(&b);
}

static void test_round_trip(void **state)
{
    ifx_line_span spans[2];
    ifx_line_origin o[2];
    uint32_t n;
    (void)state;
    const char *rec = (const char *)want;
    assert_true(ifxi_spool_record_count(rec, sizeof want, &n));
    assert_int_equal(n, 2);
    assert_true(ifxi_spool_record_decode(rec, sizeof want, n, spans, o));
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(spans[i].len, strlen(lines[i]));
        assert_memory_equal(rec + spans[i].off, lines[i], spans[i].len);
        assert_int_equal(o[i].stream_len, origins[i].stream_len);
        assert_memory_equal(o[i].stream, origins[i].stream, o[i].stream_len);
        assert_int_equal(o[i].topic_len, origins[i].topic_len);
        assert_memory_equal(o[i].topic, origins[i].topic, o[i].topic_len);
        assert_int_equal(o[i].partition, origins[i].partition);
        assert_int_equal(o[i].offset, origins[i].offset);
        assert_int_equal(o[i].id.hi, origins[i].id.hi);
        assert_int_equal(o[i].id.lo, origins[i].id.lo);
        assert_null(o[i].payload); /* the payload is not kept */
        assert_int_equal(o[i].payload_len, 0);
    }
}

/* Every prefix of the record is refused, each from its own heap copy so that a read past the
 * end shows under the sanitizers; bytes after the last line are not looked at. */
static void test_truncated(void **state)
{
    ifx_line_span spans[2];
    ifx_line_origin o[2];
    uint32_t n;
    (void)state;
    for (size_t len = 0; len < sizeof want; len++) {
        char *cut = malloc(len ? len : 1);
        memcpy(cut, want, len);
        if (len < 4)
            assert_false(ifxi_spool_record_count(cut, len, &n));
        assert_false(ifxi_spool_record_decode(cut, len, 2, spans, o));
        free(cut);
    }
    char longer[sizeof want + 3];
    memcpy(longer, want, sizeof want);
    memset(longer + sizeof want, 0xEE, 3);
    assert_true(ifxi_spool_record_decode(longer, sizeof longer, 2, spans, o));
}

/* A length field that points past the end (a huge count, a huge line length) is refused. */
static void test_malformed(void **state)
{
    ifx_line_span spans[2];
    ifx_line_origin o[2];
    uint8_t bad[sizeof want];
    uint32_t n;
    (void)state;
    memcpy(bad, want, sizeof want);
    bad[4] = 0xFF, bad[5] = 0xFF, bad[6] = 0xFF, bad[7] = 0xFF; /* the first line's length */
    assert_false(ifxi_spool_record_decode((const char *)bad, sizeof bad, 2, spans, o));
    memcpy(bad, want, sizeof want);
    bad[13] = 0xFE; /* the first stream's length */
    assert_false(ifxi_spool_record_decode((const char *)bad, sizeof bad, 2, spans, o));
    memcpy(bad, want, sizeof want);
    bad[0] = 3; /* one line more than there is */
    assert_true(ifxi_spool_record_count((const char *)bad, sizeof bad, &n));
    assert_int_equal(n, 3);
    ifx_line_span s3[3];
    ifx_line_origin o3[3];
    assert_false(ifxi_spool_record_decode((const char *)bad, sizeof bad, n, s3, o3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
