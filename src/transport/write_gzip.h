/* ifx — a write body gzipped ahead of the request (transport, for the sink's pipelining).
 *
 * A client with gzip on compresses a write's body when the request is made, on the thread that
 * makes it. The sink's sender thread makes every request of an encoder, so with gzip on it
 * compresses every chunk while the consuming thread, done encoding the next one, waits for it.
 * ifxi_gzip_compress lets that thread compress its chunk itself, exactly as the request would
 * (same level, same threshold), and ifxi_client_write_gzipped sends such a body. */
#ifndef IFX_TRANSPORT_WRITE_GZIP_H
#define IFX_TRANSPORT_WRITE_GZIP_H

#include <stdbool.h>
#include <stddef.h>
#include "ifx/buf.h"
#include "ifx/client.h"

struct ifxi_deflater;

/* A compressor (its state and working memory, a few hundred KB) and its output, made on first
 * use. */
typedef struct ifxi_gzip {
    struct ifxi_deflater *z;
    ifx_buf out;
} ifxi_gzip;

void ifxi_gzip_init(ifxi_gzip *g);
void ifxi_gzip_free(ifxi_gzip *g);

/* Compresses data[0..len) into g->out (replacing it) at the level the client writes with.
 * IFX_OK; IFX_E_NOMEM; IFX_E_INVALID when igzip cannot (an input over 2 GiB, or an output past
 * its bound): the body then goes as it is. */
ifx_rc ifxi_gzip_compress(ifxi_gzip *g, const char *data, size_t len);

/* Whether c sends a write body of len bytes gzipped (gzip on and len >= gzip_threshold). */
bool ifxi_client_gzips_write(const ifx_client *c, size_t len);

/* ifx_client_write, with gz the gzip of lp[0..len) made by ifxi_gzip_compress: sent as the
 * body when the client gzips a body of len bytes; otherwise, or with gz NULL, lp is sent as
 * ifx_client_write sends it. */
ifx_rc ifxi_client_write_gzipped(ifx_client *c, const char *lp, size_t len, const ifx_buf *gz,
                                 ifx_precision precision, ifx_write_result *res, ifx_err *err);

#endif
