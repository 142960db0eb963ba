/* Test support: "the v2 server" of a test, either the project's stand-in
 * (tests/fixtures/influxdb_server.py --mode v2) or a real InfluxDB 2.7 (tests/fixtures/influxdb2.py
 * running the influxd that scripts/influxdb2 builds).
 *
 * A test binary registered twice in ctest runs against both: the second registration sets
 * IFX_INFLUXD2 to the real influxd. Both servers are set up alike: org "iggy", bucket "events",
 * the operator token TOKEN of the tests ("ifx-test-token"). */
#ifndef IFX_TEST_V2SERVER_H
#define IFX_TEST_V2SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "fixture.h"

#define V2_ORG    "iggy"
#define V2_BUCKET "events"
#define V2_TOKEN  "ifx-test-token"

/* The exit status ctest reads as "skipped" (SKIP_RETURN_CODE in tests/CMakeLists.txt). */
#define V2_SKIP 77

/* True when this run is against the real InfluxDB 2.7 (IFX_INFLUXD2 is set). */
bool v2_real(void);

/* Exits the test program with V2_SKIP after one loud line when IFX_INFLUXD2 is set but empty
 * (the real server could not be built here); returns when there is nothing to skip. */
void v2_skip_if_unavailable(const char *test_name);

/* Starts the v2 server (real or stand-in); 0 on success. A real server keeps its data
 * directory when it stops, so that v2_restart can start it again on the same data. */
int v2_start(fixture *f);

/* Stops the server and starts it again on the same port and data (a real server only). */
int v2_restart(fixture *f);

/* Stops the server for good and removes its data. */
void v2_stop(fixture *f);

/* The id of the org (real server: from the READY line; stand-in: its fixed id). */
void v2_org_id(const fixture *f, char *out, size_t cap);

/* Empties the server: every bucket but the system ones is deleted and "events" is made again
 * (real: through the API, which also forgets field types; stand-in: /__admin/reset). */
void v2_reset(const fixture *f);

/* An authenticated call to the server's API with the operator token; returns the parsed JSON
 * answer (caller json_decref; NULL for an empty body) and the status in *status (may be NULL).
 * Aborts on a transport failure. */
json_t *v2_api(const fixture *f, const char *method, const char *path, const char *body,
               long *status);

/* One request with the operator token, and Content-Type and Accept when not NULL; see
 * http_request (admin.h) for the rest. */
char *v2_request(const fixture *f, const char *method, const char *path, const char *content_type,
                 const char *accept, const char *body, long *status, size_t *len);

/* GET path (with its query string) with the operator token; returns the body (caller frees). */
char *v2_query_text(const fixture *f, const char *path);

/* Runs a Flux query (as JSON, with annotations) and returns the raw annotated CSV (caller frees;
 * NUL-terminated, but a stored string may hold NUL bytes: *len, when not NULL, is the length). */
char *v2_flux_csv(const fixture *f, const char *flux, size_t *len);

#endif
