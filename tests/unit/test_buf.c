/* ifx_buf: growth, the hard cap, NUL termination, reuse without allocation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ifx/buf.h"
#include "ifx/error.h"

static void test_append_and_terminate(void **state)
{
    ifx_buf b;
    (void)state;
    ifx_buf_init(&b, 1024);
    assert_null(b.data);
    assert_int_equal(ifx_buf_puts(&b, "abc"), IFX_OK);
    assert_int_equal(ifx_buf_putc(&b, 'd'), IFX_OK);
    assert_int_equal(ifx_buf_printf(&b, "-%d-", 42), IFX_OK);
    assert_int_equal(b.len, 8);
    assert_string_equal(b.data, "abcd-42-");
    ifx_buf_truncate(&b, 2);
    assert_string_equal(b.data, "ab");
    ifx_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.cap, 1024);
}

static void test_cap_is_hard(void **state)
{
    ifx_buf b;
    (void)state;
    ifx_buf_init(&b, 5);
    assert_int_equal(ifx_buf_append(&b, "12345", 5), IFX_OK);
    assert_int_equal(ifx_buf_putc(&b, '6'), IFX_E_FULL);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "12345");
    assert_int_equal(ifx_buf_printf(&b, "%s", "x"), IFX_E_FULL);
    assert_string_equal(b.data, "12345");
    assert_int_equal(ifx_buf_reserve(&b, SIZE_MAX), IFX_E_FULL);
    assert_true(b.alloc <= 6);
    ifx_buf_free(&b);
}

static void test_reset_keeps_memory(void **state)
{
    ifx_buf b;
    (void)state;
    ifx_buf_init(&b, 1 << 20);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(ifx_buf_puts(&b, "0123456789"), IFX_OK);
    char *mem = b.data;
    size_t alloc = b.alloc;
    ifx_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    for (int i = 0; i < 1000; i++)
        assert_int_equal(ifx_buf_puts(&b, "0123456789"), IFX_OK);
    assert_ptr_equal(b.data, mem);
    assert_int_equal(b.alloc, alloc);
    ifx_buf_free(&b);
}

static void test_reserve_exact(void **state)
{
    ifx_buf b;
    (void)state;
    ifx_buf_init(&b, 1000);
    assert_int_equal(ifx_buf_puts(&b, "abc"), IFX_OK);
    assert_int_equal(ifx_buf_reserve_exact(&b, 500), IFX_OK);
    assert_int_equal(b.alloc, 3 + 500 + 1); /* exactly, no doubling */
    assert_string_equal(b.data, "abc");
    char *before = b.data;
    for (int i = 0; i < 500; i++)
        assert_int_equal(ifx_buf_putc(&b, 'x'), IFX_OK);
    assert_ptr_equal(b.data, before);                        /* filled without moving */
    assert_int_equal(ifx_buf_reserve_exact(&b, 10), IFX_OK); /* grows again when needed */
    assert_int_equal(b.alloc, 503 + 10 + 1);
    assert_int_equal(ifx_buf_reserve_exact(&b, 498), IFX_E_FULL); /* the cap still holds */
    ifx_buf_free(&b);
    ifx_buf_init(&b, 10);
    assert_int_equal(ifx_buf_reserve_exact(&b, 4), IFX_OK); /* from empty */
    assert_string_equal(b.data, "");
    ifx_buf_free(&b);
}

static void test_detach(void **state)
{
    ifx_buf b;
    (void)state;
    ifx_buf_init(&b, 100);
    char *empty = ifx_buf_detach(&b);
    assert_string_equal(empty, "");
    free(empty);
    ifx_buf_puts(&b, "hello");
    char *s = ifx_buf_detach(&b);
    assert_string_equal(s, "hello");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(s);
}

static void test_err_helpers(void **state)
{
    ifx_err e;
    (void)state;
    ifx_err_clear(&e);
    assert_int_equal(e.code, IFX_OK);
    assert_int_equal(ifx_err_set_at(&e, IFX_E_INVALID, 7, "bad %s", "thing"), IFX_E_INVALID);
    assert_int_equal(e.offset, 7);
    assert_string_equal(e.msg, "bad thing");
    assert_int_equal(ifx_err_prefix(&e, "line %d", 3), IFX_E_INVALID);
    assert_string_equal(e.msg, "line 3: bad thing");
    assert_int_equal(ifx_err_set(NULL, IFX_E_IO, "ignored"), IFX_E_IO);
    assert_string_equal(ifx_rc_name(IFX_E_FULL), "full");
    char longtext[600];
    memset(longtext, 'x', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    ifx_err_set(&e, IFX_E_INVALID, "%s", longtext);
    assert_int_equal(strlen(e.msg), sizeof e.msg - 1);
    ifx_err_prefix(&e, "p");
    assert_int_equal(strlen(e.msg), sizeof e.msg - 1);
    assert_memory_equal(e.msg, "p: xxx", 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_terminate), cmocka_unit_test(test_cap_is_hard),
        cmocka_unit_test(test_reset_keeps_memory),   cmocka_unit_test(test_detach),
        cmocka_unit_test(test_err_helpers),          cmocka_unit_test(test_reserve_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
