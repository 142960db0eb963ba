/* Test support: the shared encoder vectors of tests/vectors/points.jsonl. */
#ifndef IFX_TEST_VECTORS_H
#define IFX_TEST_VECTORS_H

#include <stdbool.h>
#include <stddef.h>
#include "ifx/types.h"

typedef struct vector {
    char id[16];
    char *point; /* the JSON point, exactly as in the file */
    size_t point_len;
    char *expect; /* the exact line for this version (without '\n'), or NULL when refused */
    char *refuse; /* a part of the refusal message, or NULL when accepted */
} vector;

/* Loads every vector as seen by server generation v. Aborts the test on a malformed file. */
vector *vectors_load(const char *path, ifx_version v, size_t *count);
void vectors_free(vector *vs, size_t count);

#endif
