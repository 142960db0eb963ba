/* ifx — message ids and schemas (see ifx/message.h). */
#include "ifx/message.h"

#include <stdbool.h>

static const char *const schema_names[] = {"json", "raw", "text", "proto", "flatbuffer", "avro"};

const char *ifx_schema_name(ifx_schema s)
{
    if ((unsigned)s < sizeof schema_names / sizeof schema_names[0])
        return schema_names[s];
    return "unknown";
}

ifx_rc ifx_u128_parse(const char *s, size_t len, ifx_u128 *out)
{
    /* v = v * 10 + digit on four 32-bit limbs (least significant first): each step fits in 64
     * bits, and a carry out of the top limb is an overflow. */
    uint32_t limb[4] = {0, 0, 0, 0};

    if (len == 0)
        return IFX_E_INVALID;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return IFX_E_INVALID;
        uint64_t carry = (uint64_t)(s[i] - '0');
        for (size_t k = 0; k < 4; k++) {
            uint64_t cur = (uint64_t)limb[k] * 10u + carry;
            limb[k] = (uint32_t)cur;
            carry = cur >> 32;
        }
        if (carry)
            return IFX_E_INVALID;
    }
    out->hi = (uint64_t)limb[3] << 32 | limb[2];
    out->lo = (uint64_t)limb[1] << 32 | limb[0];
    return IFX_OK;
}

size_t ifx_u128_format(ifx_u128 v, char *out)
{
    /* Long division of four 32-bit limbs (most significant first) by 10^9: each step fits in
     * 64 bits, and yields nine digits, least significant chunk first. */
    uint32_t limb[4] = {(uint32_t)(v.hi >> 32), (uint32_t)v.hi, (uint32_t)(v.lo >> 32),
                        (uint32_t)v.lo};
    char rev[40];
    size_t n = 0, i;
    bool more;

    do {
        uint64_t rem = 0;
        more = false;
        for (i = 0; i < 4; i++) {
            uint64_t cur = rem << 32 | limb[i];
            limb[i] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
            more |= limb[i] != 0;
        }
        /* Inner chunks keep their leading zeros; the most significant one does not. */
        for (i = 0; i < 9 && (more || rem); i++) {
            rev[n++] = (char)('0' + rem % 10);
            rem /= 10;
        }
    } while (more);
    if (n == 0)
        rev[n++] = '0';
    for (i = 0; i < n; i++)
        out[i] = rev[n - 1 - i];
    out[n] = '\0';
    return n;
}
