/* Test support: run a fixture process (a test server) that prints "READY port=N ..." once it
 * listens, and stop it again. The fixture's stdin is a pipe held by the test, so the fixture
 * also stops by itself if the test dies. */
#ifndef IFX_TEST_FIXTURE_H
#define IFX_TEST_FIXTURE_H

#include <sys/types.h>

typedef struct fixture {
    pid_t pid;
    int stdin_fd;
    int port;
    char ready_line[512];
} fixture;

/* Starts argv[0] with argv and waits (at most timeout_s) for its READY line. 0 on success. */
int fixture_start(fixture *f, char *const argv[], int timeout_s);

/* Starts the project's stand-in server (tests/fixtures/influxdb_server.py) playing mode ("v2" or
 * "v3") with token, as fixture_start with 30 s to get ready. 0 on success. */
int fixture_start_stand_in(fixture *f, const char *mode, const char *token);

/* Removes a test's temporary directory and everything in it. 0 on success. */
int fixture_remove_dir(const char *dir);

/* Sends SIGTERM, closes its stdin and waits for it to exit. */
void fixture_stop(fixture *f);

#endif
