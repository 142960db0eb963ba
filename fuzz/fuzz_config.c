/* Fuzz target: configuration parsing (JSON through jansson, then every key and cross-key rule)
 * and the normalised output. Invariants: a valid config serialises; a refused one has a message;
 * the secret placed in every input never appears in a message or in the output. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ifx/config.h"
#include "fuzz_check.h"

/* Parses {"token":"<secret>", followed by the fuzzer's bytes for role, checks the invariants
 * that do not depend on the secret, and says whether the secret shows in the output or the
 * messages. */
static bool secret_shows(const char *secret, const uint8_t *data, size_t size, int role)
{
    ifx_config cfg;
    ifx_problems problems = {0};
    ifx_err err;
    char *out = NULL;
    bool shows = false;
    /* A token key carrying the secret, then the fuzzer's bytes, inside one object. */
    char *json = malloc(size + 64);
    size_t k = 0;

    memcpy(json, "{\"token\":\"", 10);
    memcpy(json + 10, secret, 10);
    memcpy(json + 20, "\",", 2);
    k = 22;
    memcpy(json + k, data, size);
    k += size;
    if (ifx_config_parse_json(&cfg, (ifx_role)role, json, k, &problems, &err) == IFX_OK) {
        if (ifx_config_to_json(&cfg, &out, &err) != IFX_OK)
            abort();
        shows = strstr(out, secret) != NULL;
        free(out);
    } else {
        if (err.msg[0] == '\0')
            abort();
        shows = strstr(err.msg, secret) != NULL;
        for (size_t i = 0; i < problems.count; i++)
            shows = shows || strstr(problems.items[i], secret) != NULL;
    }
    ifx_problems_free(&problems);
    ifx_config_free(&cfg);
    free(json);
    return shows;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The secret depends on every byte of the input (FNV-1a, in letters). A text the fuzzer wrote
     * may be shown (an unknown key is named in its problem), and libFuzzer learns the strings the
     * target compares with; a fixed secret, or two, it soon writes into a key name. One that
     * changes with the input it cannot write: when it shows, the token's value leaked. */
    char secret[11];
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 1099511628211ULL;
    for (int i = 0; i < 10; i++, h /= 26)
        secret[i] = (char)('A' + h % 26);
    secret[10] = '\0';
    for (int role = 0; role <= 2; role++)
        if (secret_shows(secret, data, size, role))
            abort();
    return 0;
}
