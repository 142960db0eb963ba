/* Test support: plain HTTP calls to a test server's /__admin endpoints (libcurl). */
#ifndef IFX_TEST_ADMIN_H
#define IFX_TEST_ADMIN_H

#include <jansson.h>

/* Sends method path with an optional JSON body to 127.0.0.1:port; returns the parsed JSON answer
 * (caller json_decref; NULL for an empty body) and aborts the test on a transport failure. */
json_t *admin_call(int port, const char *method, const char *path, const char *body);

/* The same call, returning the raw answer text (caller frees). For answers jansson cannot read,
 * such as unsigned integers above 2^63. */
char *admin_text(int port, const char *method, const char *path, const char *body);

#endif
