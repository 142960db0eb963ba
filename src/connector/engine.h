/* ifx — small pieces shared by the sink and source engines (internal header). */
#ifndef IFX_ENGINE_H
#define IFX_ENGINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "ifx/config.h"
#include "ifx/log.h"
#include "ifx/resilience.h"

/* Formats one log line and hands it to fn (nothing when fn is NULL). */
void ifxi_engine_log(ifx_log_fn fn, void *ud, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The WARN lines both engines log at open about settings that weaken security (for now
 * tls_insecure_skip_verify), so that they are never on unnoticed. */
void ifxi_engine_warn_insecure(ifx_log_fn fn, void *ud, const ifx_config *cfg);

/* The retry policy of cfg's settings (max_retries, retry_delay, retry_max_delay,
 * retry_after_max), for ifxi_writer_init. */
ifx_retry_policy ifxi_engine_retry_policy(const ifx_config *cfg);

/* Waits up to ns on cond (taking and releasing m) unless *stop is or becomes true; returns
 * !*stop. cond must come from ifx_cond_init_monotonic. The engines' interruptible sleep: close
 * sets *stop and broadcasts cond. */
bool ifxi_engine_wait_unless_stopped(pthread_mutex_t *m, pthread_cond_t *cond, const bool *stop,
                                     uint64_t ns);

#endif
