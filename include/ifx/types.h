/* ifx — small enums shared by every layer: server generation and timestamp precision. */
#ifndef IFX_TYPES_H
#define IFX_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include "ifx/export.h"
#include "ifx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The InfluxDB generation a connector talks to. AUTO asks the server (see ifx detect). */
typedef enum ifx_version {
    IFX_VERSION_AUTO = 0,
    IFX_VERSION_V1 = 1,
    IFX_VERSION_V2 = 2,
    IFX_VERSION_V3 = 3
} ifx_version;

/* Timestamp precision of a write. Timestamps are kept in nanoseconds inside ifx and converted to
 * the precision only when a line is written. */
typedef enum ifx_precision {
    IFX_PRECISION_NS = 0,
    IFX_PRECISION_US,
    IFX_PRECISION_MS,
    IFX_PRECISION_S
} ifx_precision;

/* "v1", "v2", "v3" or "auto". Never NULL. */
IFX_EXTERN const char *ifx_version_name(ifx_version v);

/* Reads "v1", "v2", "v3" or "auto", ignoring ASCII case. IFX_E_INVALID names the allowed values. */
IFX_EXTERN ifx_rc ifx_version_parse(const char *s, size_t len, ifx_version *out, ifx_err *err);

/* The configuration spelling: "ns", "us", "ms" or "s". Never NULL. */
IFX_EXTERN const char *ifx_precision_name(ifx_precision p);

/* Reads "ns", "us", "ms" or "s", ignoring ASCII case. IFX_E_INVALID names the allowed values. */
IFX_EXTERN ifx_rc ifx_precision_parse(const char *s, size_t len, ifx_precision *out, ifx_err *err);

/* The value of the write request's precision parameter for a server generation:
 * v1 n/u/ms/s, v2 ns/us/ms/s, v3 nanosecond/microsecond/millisecond/second.
 * AUTO is answered as v2. Never NULL. */
IFX_EXTERN const char *ifx_precision_param(ifx_version v, ifx_precision p);

/* Nanoseconds in one unit of p (1, 1000, 1000000, 1000000000). */
IFX_EXTERN long long ifx_precision_ns(ifx_precision p);

#ifdef __cplusplus
}
#endif
#endif
