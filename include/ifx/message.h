/* ifx — the message types the engines share with their hosts: Iggy's 128-bit message ids and the
 * schema a stream's payloads are declared in.
 *
 * Thread safety: all functions are reentrant.
 */
#ifndef IFX_MESSAGE_H
#define IFX_MESSAGE_H

#include <stddef.h>
#include <stdint.h>
#include "ifx/export.h"
#include "ifx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The schema of a message's payload, numbered as the Iggy connectors runtime numbers it (the
 * index of the variant on its wire). */
typedef enum ifx_schema {
    IFX_SCHEMA_JSON = 0,
    IFX_SCHEMA_RAW = 1,
    IFX_SCHEMA_TEXT = 2,
    IFX_SCHEMA_PROTO = 3,
    IFX_SCHEMA_FLATBUFFER = 4,
    IFX_SCHEMA_AVRO = 5
} ifx_schema;

/* "json", "raw", "text", "proto", "flatbuffer", "avro", or "unknown". */
IFX_EXTERN const char *ifx_schema_name(ifx_schema s);

/* An unsigned 128-bit value as two halves (Iggy message ids). */
typedef struct ifx_u128 {
    uint64_t hi, lo;
} ifx_u128;

/* Writes v in decimal into out (at least 40 bytes), NUL-terminated; returns the length. */
IFX_EXTERN size_t ifx_u128_format(ifx_u128 v, char *out);

/* Reads the decimal digits s[0..len) (no sign, no spaces; leading zeros allowed) as a u128, the
 * inverse of ifx_u128_format. IFX_E_INVALID for anything else, or above 2^128-1. */
IFX_EXTERN ifx_rc ifx_u128_parse(const char *s, size_t len, ifx_u128 *out);

#ifdef __cplusplus
}
#endif
#endif
