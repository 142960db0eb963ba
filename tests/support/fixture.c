/* Test support: fixture processes (see fixture.h). */
#include "fixture.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int fixture_start(fixture *f, char *const argv[], int timeout_s)
{
    int in[2], out[2];
    size_t got = 0;
    time_t deadline = time(NULL) + timeout_s;

    memset(f, 0, sizeof *f);
    f->pid = -1;
    if (pipe(in) || pipe(out))
        return -1;
    f->pid = fork();
    if (f->pid < 0)
        return -1;
    if (f->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    f->stdin_fd = in[1];
    while (got < sizeof f->ready_line - 1) {
        struct pollfd p = {.fd = out[0], .events = POLLIN};
        int left = (int)(deadline - time(NULL));
        if (left <= 0 || poll(&p, 1, left * 1000) <= 0)
            break;
        ssize_t n = read(out[0], f->ready_line + got, 1);
        if (n <= 0)
            break;
        if (f->ready_line[got] == '\n')
            break;
        got += (size_t)n;
    }
    f->ready_line[got] = '\0';
    close(out[0]);
    if (strncmp(f->ready_line, "READY ", 6) != 0) {
        fprintf(stderr, "fixture %s did not start: [%s]\n", argv[0], f->ready_line);
        fixture_stop(f);
        return -1;
    }
    const char *p = strstr(f->ready_line, "port=");
    f->port = p ? atoi(p + 5) : 0;
    return f->port > 0 ? 0 : -1;
}

void fixture_stop(fixture *f)
{
    if (f->pid > 0) {
        kill(f->pid, SIGTERM);
        if (f->stdin_fd > 0)
            close(f->stdin_fd);
        while (waitpid(f->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    f->pid = -1;
    f->stdin_fd = -1;
}

int fixture_start_stand_in(fixture *f, const char *mode, const char *token)
{
    char *argv[] = {"python3", IFX_SOURCE_DIR "/tests/fixtures/influxdb_server.py",
                    "--mode",  (char *)mode,
                    "--token", (char *)token,
                    NULL};
    return fixture_start(f, argv, 30);
}

int fixture_remove_dir(const char *dir)
{
    char cmd[4200];
    if (snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir) >= (int)sizeof cmd || strchr(dir, '\''))
        return -1;
    return system(cmd) == 0 ? 0 : -1;
}
