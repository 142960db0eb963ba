/* ifx — the sink's mapping: one Iggy message to one line-protocol line.
 *
 * A pure function of the configuration and the message: no I/O, no locks, no sink state. The
 * only thing it reads from outside is the wall clock, for a message that carries no time (as
 * upstream does). The sink engine calls it per message; the unit tests and the fuzz target call
 * it without a server.
 */
#ifndef IFX_CONNECTOR_MAPPING_H
#define IFX_CONNECTOR_MAPPING_H

#include <stdint.h>

#include "core/lp_internal.h"
#include "ifx/buf.h"
#include "ifx/config.h"
#include "ifx/lp.h"
#include "ifx/sink.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Working memory the mapping reuses between messages, so that a warm caller allocates nothing
 * per message. Owned by the caller; one per thread. */
typedef struct ifx_mapping_scratch {
    ifx_buf text; /* decoded strings, numbers */
    ifx_buf key;  /* flattened json_fields key */
    /* The measurement and the tags that depend only on the configuration and the message's
     * stream, topic and partition, built once for a run of messages from the same place (every
     * message of a consume call): */
    ifx_lp_prefix prefix;
    ifx_buf prefix_made_of; /* what it was built from (see mapping.c, prefix_source) */
    /* where the offset tag goes in prefix.text, when it can be written there (offset_at_ok) */
    size_t offset_at;
    bool offset_at_ok;
} ifx_mapping_scratch;

void ifxi_mapping_scratch_init(ifx_mapping_scratch *sc);
void ifxi_mapping_scratch_free(ifx_mapping_scratch *sc);

/* Appends message m to lp as one line, laid out as cfg says (measurement, metadata tags or
 * fields, offset_as, default_tags, message_id, the payload by payload_format, the time by
 * timestamp_source). *ns receives the line's time in nanoseconds.
 *
 * IFX_OK: the line is in lp's batch. IFX_E_FULL: the line is complete but would take the batch
 * past its cap; it stays open in lp, and the caller empties the batch and finishes it with
 * ifx_lp_end_line(lp, true, *ns, ...). Any other code refuses the message: the line is
 * discarded and err says why (the reason a dead letter gets). */
ifx_rc ifxi_mapping_encode(const ifx_config *cfg, const ifx_sink_message *m,
                           ifx_mapping_scratch *sc, ifx_lp *lp, int64_t *ns, ifx_err *err);

#ifdef __cplusplus
}
#endif
#endif
