/* Test support: plain HTTP calls to a test server's /__admin endpoints (libcurl). */
#ifndef IFX_TEST_ADMIN_H
#define IFX_TEST_ADMIN_H

#include <jansson.h>

/* Sends method path (with its query string) to 127.0.0.1:port with the given header lines
 * (NULL-terminated, may be NULL) and an optional body; returns the answer's body (caller frees;
 * NUL-terminated, *len its length when len is not NULL) and its status in *status (may be NULL).
 * Aborts the test on a transport failure. */
char *http_request(int port, const char *method, const char *path, const char *const *headers,
                   const char *body, long *status, size_t *len);

/* Sends method path with an optional JSON body to 127.0.0.1:port; returns the parsed JSON answer
 * (caller json_decref; NULL for an empty body) and aborts the test on a transport failure. */
json_t *admin_call(int port, const char *method, const char *path, const char *body);

/* The same call, returning the raw answer text (caller frees). For answers jansson cannot read,
 * such as unsigned integers above 2^63. */
char *admin_text(int port, const char *method, const char *path, const char *body);

/* Writes line protocol (nanosecond times) to database db of the v3 test server at port with
 * token, through ifx's own client; fails the test when the write does not succeed whole. */
void admin_write_v3(int port, const char *db, const char *token, const char *lp, size_t len);

#endif
