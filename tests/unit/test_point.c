/* JSON points to line protocol, checked against every vector of tests/vectors/points.jsonl for
 * each server generation (the spec's V-vectors, further encoder cases, and refusals). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ifx/point.h"
#include "vectors.h"

static void run_version(ifx_version v)
{
    size_t count;
    vector *vs = vectors_load(IFX_SOURCE_DIR "/tests/vectors/points.jsonl", v, &count);
    ifx_lp lp;
    ifx_buf scratch;
    ifx_err e;
    char want[4096];

    assert_true(count >= 40);
    ifx_lp_init(&lp, v, IFX_PRECISION_NS, 1 << 20);
    ifx_buf_init(&scratch, 1 << 20);
    /* A line before the vectors shows that refusals never touch what the batch already holds. */
    const char *pre = "{\"measurement\":\"pre\",\"fields\":{\"f\":1}}";
    assert_int_equal(ifx_point_encode_json(&lp, pre, strlen(pre), &scratch, &e), IFX_OK);
    for (size_t i = 0; i < count; i++) {
        const vector *x = &vs[i];
        size_t before = lp.batch.len;
        ifx_rc rc = ifx_point_encode_json(&lp, x->point, x->point_len, &scratch, &e);
        if (x->expect) {
            if (rc != IFX_OK)
                fail_msg("%s (%s): refused: %s", x->id, ifx_version_name(v), e.msg);
            snprintf(want, sizeof want, "%s\n", x->expect);
            if (strcmp(lp.batch.data + before, want) != 0)
                fail_msg("%s (%s): got [%s] want [%s]", x->id, ifx_version_name(v),
                         lp.batch.data + before, want);
        } else {
            if (rc == IFX_OK)
                fail_msg("%s (%s): accepted as [%s], expected a refusal containing \"%s\"", x->id,
                         ifx_version_name(v), lp.batch.data + before, x->refuse);
            if (!strstr(e.msg, x->refuse))
                fail_msg("%s (%s): message [%s] lacks \"%s\"", x->id, ifx_version_name(v), e.msg,
                         x->refuse);
            assert_int_equal(lp.batch.len, before);
            assert_false(lp.open);
        }
    }
    assert_memory_equal(lp.batch.data, "pre f=1i\n", 9);
    ifx_lp_free(&lp);
    ifx_buf_free(&scratch);
    vectors_free(vs, count);
}

static void test_vectors_v1(void **state)
{
    (void)state;
    run_version(IFX_VERSION_V1);
}

static void test_vectors_v2(void **state)
{
    (void)state;
    run_version(IFX_VERSION_V2);
}

static void test_vectors_v3(void **state)
{
    (void)state;
    run_version(IFX_VERSION_V3);
}

static void test_malformed_json(void **state)
{
    ifx_lp lp;
    ifx_buf scratch;
    ifx_err e;
    (void)state;
    ifx_lp_init(&lp, IFX_VERSION_V2, IFX_PRECISION_NS, 1 << 20);
    ifx_buf_init(&scratch, 1 << 20);
    assert_int_equal(ifx_point_encode_json(&lp, "{\"measurement\":\"m\",", 19, &scratch, &e),
                     IFX_E_INVALID);
    assert_non_null(strstr(e.msg, "invalid JSON at byte"));
    assert_int_equal(ifx_point_encode_json(&lp, "[1]", 3, &scratch, &e), IFX_E_INVALID);
    assert_string_equal(e.msg, "a point must be a JSON object, got array");
    assert_int_equal(lp.batch.len, 0);
    ifx_lp_free(&lp);
    ifx_buf_free(&scratch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_v1),
        cmocka_unit_test(test_vectors_v2),
        cmocka_unit_test(test_vectors_v3),
        cmocka_unit_test(test_malformed_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
