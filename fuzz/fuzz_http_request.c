/* Fuzz target: the request head reader of the metrics endpoint (src/cli/metrics.c), which reads
 * whatever a client on the network sends. The input is copied into a buffer of its exact size, so
 * that ASan sees any read past it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/metrics.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    const char *method, *path;
    size_t method_len, path_len;

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    size_t head = cli_http_head_length(buf, size);
    CHECK(head <= size);
    if (head) {
        /* a complete head ends with its blank line */
        CHECK(buf[head - 1] == '\n');
        if (cli_http_parse_request(buf, head, &method, &method_len, &path, &path_len)) {
            CHECK(method >= buf && method + method_len <= buf + head && method_len > 0);
            CHECK(path >= buf && path + path_len <= buf + head && path[0] == '/');
            CHECK(memchr(path, '?', path_len) == NULL);
        }
    }
    /* any prefix, complete or not, is read without going past its end */
    (void)cli_http_parse_request(buf, size, &method, &method_len, &path, &path_len);
    free(buf);
    return 0;
}
