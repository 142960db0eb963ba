/* ifx — version and precision names (see include/ifx/types.h). */
#include "ifx/types.h"

#include <strings.h>

static bool name_is(const char *s, size_t len, const char *name)
{
    size_t i;
    for (i = 0; i < len; i++) {
        if (name[i] == '\0')
            return false;
        char a = s[i], b = name[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return false;
    }
    return name[len] == '\0';
}

const char *ifx_version_name(ifx_version v)
{
    switch (v) {
    case IFX_VERSION_V1:
        return "v1";
    case IFX_VERSION_V2:
        return "v2";
    case IFX_VERSION_V3:
        return "v3";
    case IFX_VERSION_AUTO:
        break;
    }
    return "auto";
}

ifx_rc ifx_version_parse(const char *s, size_t len, ifx_version *out, ifx_err *err)
{
    static const ifx_version all[] = {IFX_VERSION_V1, IFX_VERSION_V2, IFX_VERSION_V3,
                                      IFX_VERSION_AUTO};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (name_is(s, len, ifx_version_name(all[i]))) {
            *out = all[i];
            return IFX_OK;
        }
    }
    return ifx_err_set(err, IFX_E_INVALID,
                       "unknown InfluxDB version \"%.*s\"; expected \"v1\", \"v2\", \"v3\" or "
                       "\"auto\"",
                       (int)(len > 64 ? 64 : len), s);
}

const char *ifx_precision_name(ifx_precision p)
{
    switch (p) {
    case IFX_PRECISION_US:
        return "us";
    case IFX_PRECISION_MS:
        return "ms";
    case IFX_PRECISION_S:
        return "s";
    case IFX_PRECISION_NS:
        break;
    }
    return "ns";
}

ifx_rc ifx_precision_parse(const char *s, size_t len, ifx_precision *out, ifx_err *err)
{
    static const ifx_precision all[] = {IFX_PRECISION_NS, IFX_PRECISION_US, IFX_PRECISION_MS,
                                        IFX_PRECISION_S};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (name_is(s, len, ifx_precision_name(all[i]))) {
            *out = all[i];
            return IFX_OK;
        }
    }
    return ifx_err_set(err, IFX_E_INVALID,
                       "unknown precision \"%.*s\"; expected \"ns\", \"us\", \"ms\" or \"s\"",
                       (int)(len > 64 ? 64 : len), s);
}

const char *ifx_precision_param(ifx_version v, ifx_precision p)
{
    /* line-protocol.md §4: 1.x reads "us" as nanoseconds, 2.x answers 400 to "u", and v3's long
     * names are the only ones its docs promise. */
    static const char *const v1[] = {"n", "u", "ms", "s"};
    static const char *const v2[] = {"ns", "us", "ms", "s"};
    static const char *const v3[] = {"nanosecond", "microsecond", "millisecond", "second"};
    unsigned i = (unsigned)p < 4 ? (unsigned)p : 0;
    switch (v) {
    case IFX_VERSION_V1:
        return v1[i];
    case IFX_VERSION_V3:
        return v3[i];
    case IFX_VERSION_V2:
    case IFX_VERSION_AUTO:
        break;
    }
    return v2[i];
}

long long ifx_precision_ns(ifx_precision p)
{
    switch (p) {
    case IFX_PRECISION_US:
        return 1000LL;
    case IFX_PRECISION_MS:
        return 1000000LL;
    case IFX_PRECISION_S:
        return 1000000000LL;
    case IFX_PRECISION_NS:
        break;
    }
    return 1;
}
