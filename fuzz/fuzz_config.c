/* Fuzz target: configuration parsing (JSON through jansson, then every key and cross-key rule)
 * and the normalised output. Invariants: a valid config serialises; a refused one has a message;
 * the secret placed in every input never appears in a message or in the output. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ifx/config.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char secret[] = "Zq9SECRETx";
    ifx_config cfg;
    ifx_problems problems = {0};
    ifx_err err;
    char *out = NULL;
    /* The fuzzer's bytes, then a token key carrying a known secret, inside one object. */
    size_t n = size + 64;
    char *json = malloc(n);
    int k = 0;
    memcpy(json, "{\"token\":\"Zq9SECRETx\",", 21);
    k = 21;
    memcpy(json + k, data, size);
    k += (int)size;

    for (int role = 0; role <= 2; role++) {
        if (ifx_config_parse_json(&cfg, (ifx_role)role, json, (size_t)k, &problems, &err) ==
            IFX_OK) {
            if (ifx_config_to_json(&cfg, &out, &err) != IFX_OK)
                abort();
            if (strstr(out, secret))
                abort();
            free(out);
            out = NULL;
        } else {
            if (err.msg[0] == '\0' || strstr(err.msg, secret))
                abort();
            for (size_t i = 0; i < problems.count; i++)
                if (strstr(problems.items[i], secret))
                    abort();
        }
        ifx_problems_free(&problems);
        ifx_config_free(&cfg);
    }
    free(json);
    return 0;
}
