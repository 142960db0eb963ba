/* ifx command line: stopping a long-running command on SIGINT or SIGTERM (see cli.h). */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* SIGUSR1 only ends the watcher (sent by cli_stop_end to that thread alone). */
static void watched(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGUSR1);
}

static void *watch(void *arg)
{
    cli_stop *st = arg;
    sigset_t set;
    watched(&set);
    for (;;) {
        int sig;
        if (sigwait(&set, &sig) != 0)
            continue;
        pthread_mutex_lock(&st->lock);
        bool ending = st->ending;
        if (sig != SIGUSR1 && !atomic_load(&st->requested)) {
            atomic_store(&st->requested, true);
            /* wakes a reader blocked in poll (cli_read_line); the byte is never read */
            ssize_t w = write(st->pipe[1], "", 1);
            (void)w;
            /* under the lock, so that cli_stop_target can clear the action before its object
             * is freed without racing this call */
            if (st->fn)
                st->fn(st->ud);
        }
        pthread_mutex_unlock(&st->lock);
        if (ending)
            return NULL;
    }
}

bool cli_stop_begin(cli_stop *st, ifx_err *err)
{
    sigset_t set;
    int rc;

    memset(st, 0, sizeof *st);
    atomic_init(&st->requested, false);
    st->pipe[0] = st->pipe[1] = -1;
    if (pipe(st->pipe) != 0) {
        ifx_err_set(err, IFX_E_IO, "cannot create a pipe: %s", strerror(errno));
        return false;
    }
    for (int i = 0; i < 2; i++)
        fcntl(st->pipe[i], F_SETFD, FD_CLOEXEC);
    pthread_mutex_init(&st->lock, NULL);
    st->open = true;
    /* Blocked here, before the engines start their threads, so that every thread inherits the
     * mask and only the watcher ever takes these signals: none can land in a libcurl or spool
     * thread and kill the process with the default action. */
    watched(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if ((rc = pthread_create(&st->watcher, NULL, watch, st)) != 0) {
        ifx_err_set(err, IFX_E_NOMEM, "cannot start the signal thread: %s", strerror(rc));
        cli_stop_end(st);
        return false;
    }
    st->started = true;
    return true;
}

void cli_stop_target(cli_stop *st, void (*fn)(void *ud), void *ud)
{
    if (!st->open)
        return;
    pthread_mutex_lock(&st->lock);
    st->fn = fn;
    st->ud = ud;
    /* a signal that came before there was anything to stop still counts */
    if (fn && atomic_load(&st->requested))
        fn(ud);
    pthread_mutex_unlock(&st->lock);
}

bool cli_stop_requested(cli_stop *st)
{
    return atomic_load(&st->requested);
}

int cli_stop_fd(const cli_stop *st)
{
    return st->open ? st->pipe[0] : -1;
}

void cli_stop_end(cli_stop *st)
{
    if (st->started) {
        pthread_mutex_lock(&st->lock);
        st->ending = true;
        st->fn = NULL;
        pthread_mutex_unlock(&st->lock);
        pthread_kill(st->watcher, SIGUSR1);
        pthread_join(st->watcher, NULL);
        st->started = false;
    }
    if (st->open) {
        pthread_mutex_destroy(&st->lock);
        close(st->pipe[0]);
        close(st->pipe[1]);
        st->open = false;
    }
}
