/* ifx — pieces shared by the sink and source engines (see engine.h). */
#include "connector/engine.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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

ifx_rc ifxi_engine_probe(ifx_client *client, ifx_log_fn fn, void *ud, const char *refused_then,
                         const char *unreachable_then, ifx_err *err)
{
    ifx_rc rc = ifx_client_health(client, err);
    if (rc == IFX_E_AUTH)
        return rc; /* wrong credentials: nothing will ever be written or read */
    if (rc == IFX_E_CONFIG || rc == IFX_E_REJECTED) /* fixable while running: a bucket made */
        ifxi_engine_log(fn, ud, IFX_LOG_ERROR, "InfluxDB refuses the target: %s; %s", err->msg,
                        refused_then);
    else if (rc)
        ifxi_engine_log(fn, ud, IFX_LOG_WARN, "InfluxDB is not reachable yet (%s); %s", err->msg,
                        unreachable_then);
    return IFX_OK;
}

void ifxi_engine_log_open(ifx_log_fn fn, void *ud, const ifx_config *cfg, const char *kind,
                          const char *fmt, ...)
{
    char what[1024]; /* as long as the whole line: it is cut where it was before */
    va_list ap;
    if (cfg->http.tls_insecure_skip_verify)
        ifxi_engine_log(fn, ud, IFX_LOG_WARN,
                        "tls_insecure_skip_verify is true: the server's certificate is not "
                        "verified, so anyone on the network path can pose as the server and read "
                        "the credentials and the data; trust its CA with tls_ca_file instead");
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    char *shown = ifx_url_redacted(cfg->http.url); /* the url may hold a password */
    ifxi_engine_log(fn, ud, IFX_LOG_INFO, "InfluxDB %s open: %s at %s, %s", kind,
                    ifx_version_name(cfg->version), shown ? shown : "the configured url", what);
    free(shown);
}

void ifxi_engine_request_stop(pthread_mutex_t *m, pthread_cond_t *cond, bool *stop,
                              ifx_client *client)
{
    pthread_mutex_lock(m);
    *stop = true;
    pthread_cond_broadcast(cond);
    pthread_mutex_unlock(m);
    if (client)
        ifx_client_cancel(client);
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
