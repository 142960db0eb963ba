/* ifx — logging through the Iggy runtime's callback (see plugin_log.h). */
#include "iggy/plugin_log.h"

#include <stdio.h>
#include <string.h>

#include "core/codec.h"
#include "ifx/log.h"

void ifxi_plugin_log_line(const ifx_plugin_log *l, int level, const char *msg)
{
    char line[1200];
    int n;
    if (!l->cb)
        return;
    if (l->format == IFX_LOG_FORMAT_JSON) {
        char who[48];
        snprintf(who, sizeof who, "%s %u", l->kind, l->id);
        n = (int)ifx_log_format_line(IFX_LOG_FORMAT_JSON, level, who, msg, 0, line, sizeof line);
    } else {
        n = snprintf(line, sizeof line, "[%s %u] %s", l->kind, l->id, msg);
        if (n < 0)
            return;
        if ((size_t)n >= sizeof line)
            n = sizeof line - 1;
        for (size_t k = 0, bad; !ifxi_utf8_valid(line + k, (size_t)n - k, &bad); k += bad + 1)
            line[k + bad] = '?';
    }
    l->cb((uint8_t)level, (const uint8_t *)l->target, strlen(l->target), (const uint8_t *)line,
          (size_t)n);
}

void ifxi_plugin_log_engine(void *ud, int level, const char *msg)
{
    ifxi_plugin_log_line(ud, level, msg);
}
