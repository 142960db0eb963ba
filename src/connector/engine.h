/* ifx — small pieces shared by the sink and source engines (internal header). */
#ifndef IFX_ENGINE_H
#define IFX_ENGINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "ifx/client.h"
#include "ifx/config.h"
#include "ifx/log.h"
#include "ifx/resilience.h"

/* Formats one log line and hands it to fn (nothing when fn is NULL). */
void ifxi_engine_log(ifx_log_fn fn, void *ud, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The one probe both engines make at open: the runtime opens connectors one after another, so
 * open must not wait on an unreachable server. IFX_E_AUTH (wrong credentials, fatal) as
 * ifx_client_health left it in err; otherwise IFX_OK, after logging a refused target (ERROR,
 * "...; <refused_then>") or an unreachable server (WARN, "...; <unreachable_then>"), since both
 * engines retry on their own. */
ifx_rc ifxi_engine_probe(ifx_client *client, ifx_log_fn fn, void *ud, const char *refused_then,
                         const char *unreachable_then, ifx_err *err);

/* The last lines of both engines' open: the WARN lines about settings that weaken security (for
 * now tls_insecure_skip_verify), so that they are never on unnoticed, then
 * "InfluxDB <kind> open: <version> at <url, password redacted>, <what fmt says>". */
void ifxi_engine_log_open(ifx_log_fn fn, void *ud, const ifx_config *cfg, const char *kind,
                          const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Asks an engine to stop: sets *stop under m and wakes cond's waiters
 * (ifxi_engine_wait_unless_stopped), then cancels a request of client in flight, which ends now
 * instead of at its timeout. client may be NULL. */
void ifxi_engine_request_stop(pthread_mutex_t *m, pthread_cond_t *cond, bool *stop,
                              ifx_client *client);

/* The retry policy of cfg's settings (max_retries, retry_delay, retry_max_delay,
 * retry_after_max), for ifxi_writer_init. */
ifx_retry_policy ifxi_engine_retry_policy(const ifx_config *cfg);

/* Waits up to ns on cond (taking and releasing m) unless *stop is or becomes true; returns
 * !*stop. cond must come from ifx_cond_init_monotonic. The engines' interruptible sleep: close
 * sets *stop and broadcasts cond. */
bool ifxi_engine_wait_unless_stopped(pthread_mutex_t *m, pthread_cond_t *cond, const bool *stop,
                                     uint64_t ns);

#endif
