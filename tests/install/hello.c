/* Built against an installed libifx with pkg-config: encodes one point and prints the line. */
#include <stdio.h>

#include <ifx/lp.h>

int main(void)
{
    ifx_lp lp;
    ifx_err err;
    ifx_lp_init(&lp, IFX_VERSION_V3, IFX_PRECISION_NS, 1 << 16);
    if (ifx_lp_begin_line(&lp, "cpu", 3, &err) || ifx_lp_add_tag(&lp, "host", 4, "a", 1, &err) ||
        ifx_lp_add_float(&lp, "usage", 5, 64.2, &err) || ifx_lp_end_line(&lp, true, 1, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    fputs(lp.batch.data, stdout);
    ifx_lp_free(&lp);
    return 0;
}
