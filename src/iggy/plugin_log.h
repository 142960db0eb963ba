/* ifx — logging through the Iggy runtime's callback, shared by both plugins (internal). */
#ifndef IFX_PLUGIN_LOG_H
#define IFX_PLUGIN_LOG_H

#include <stdint.h>

#include "ifx/config.h"
#include "iggy/iggy_abi.h"

/* Who is logging: the runtime's callback, the target shown, and "[<kind> <id>]" in each line. */
typedef struct ifx_plugin_log {
    iggy_log_callback cb;
    const char *target; /* "ifx_influxdb_sink", ... */
    const char *kind;   /* "sink" or "source" */
    uint32_t id;
    ifx_log_format format; /* log_format of the instance's config (text until it is parsed) */
} ifx_plugin_log;

/* Sends one line to the runtime: as text prefixed with "[kind id]" (the runtime shows the level
 * and time itself), or as one JSON object (ifx/log.h) with connector "kind id"; cut to fit, any
 * broken UTF-8 mended (the runtime replaces a whole non-UTF-8 message by "<invalid utf8>"), never a
 * NULL pointer (spec §4). Nothing when cb is NULL. */
void ifxi_plugin_log_line(const ifx_plugin_log *l, int level, const char *msg);

/* An ifx_log_fn for the engines, with ud an ifx_plugin_log. */
void ifxi_plugin_log_engine(void *ud, int level, const char *msg);

#endif
