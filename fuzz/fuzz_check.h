/* What every fuzz target shares: libFuzzer's entry point and CHECK, which aborts (so libFuzzer
 * keeps the input) when a property the target asserts does not hold. */
#ifndef IFX_FUZZ_CHECK_H
#define IFX_FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
