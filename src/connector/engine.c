/* ifx — pieces shared by the sink and source engines (see engine.h). */
#include "connector/engine.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "ifx/resilience.h"

void ifxi_engine_log(ifx_log_fn fn, void *ud, int level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    if (!fn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fn(ud, level, msg);
}

void ifxi_engine_warn_insecure(ifx_log_fn fn, void *ud, const ifx_config *cfg)
{
    if (cfg->http.tls_insecure_skip_verify)
        ifxi_engine_log(fn, ud, IFX_LOG_WARN,
                        "tls_insecure_skip_verify is true: the server's certificate is not "
                        "verified, so anyone on the network path can pose as the server and read "
                        "the credentials and the data; trust its CA with tls_ca_file instead");
}

bool ifxi_engine_wait_unless_stopped(pthread_mutex_t *m, pthread_cond_t *cond, const bool *stop,
                                     uint64_t ns)
{
    struct timespec until;
    bool go;
    ifx_deadline_in(&until, ns);
    pthread_mutex_lock(m);
    while (!*stop && pthread_cond_timedwait(cond, m, &until) != ETIMEDOUT)
        ;
    go = !*stop;
    pthread_mutex_unlock(m);
    return go;
}

ifx_retry_policy ifxi_engine_retry_policy(const ifx_config *cfg)
{
    ifx_retry_policy p = {.max_attempts = cfg->max_retries ? cfg->max_retries : 1,
                          .base_ns = cfg->retry_delay_ns,
                          .cap_ns = cfg->retry_max_delay_ns,
                          .retry_after_max_ns = cfg->retry_after_max_ns};
    return p;
}
