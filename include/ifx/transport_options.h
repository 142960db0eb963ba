/* ifx — what a client needs to reach one InfluxDB server: where, as whom, over what.
 *
 * The transport takes this struct and nothing else of the configuration, so that it can be used
 * (and tested) without one. ifx_config embeds it as its member `http`: the configuration keys of
 * the same names store into it, and a parsed configuration hands &cfg.http to ifx_client_new.
 * A program without a configuration fills one itself (zero it first: every field's zero is "not
 * set" or "off").
 *
 * Ownership: the struct does not free anything. Inside an ifx_config the strings belong to the
 * config (ifx_config_free); elsewhere to whoever filled it. ifx_client_new copies what it keeps.
 */
#ifndef IFX_TRANSPORT_OPTIONS_H
#define IFX_TRANSPORT_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ifx_write_endpoint {
    IFX_WRITE_ENDPOINT_NATIVE = 0, /* "native": v3 /api/v3/write_lp */
    IFX_WRITE_ENDPOINT_V2_COMPAT   /* "v2_compat": v3 /api/v2/write */
} ifx_write_endpoint;

typedef struct ifx_transport_options {
    /* connection: all versions */
    char *url;   /* required; http or https, no trailing '/' */
    char *token; /* secret; v2: required; v3: optional (servers without auth); v1: the password */
    /* v2 */
    char *org;    /* required for v2 */
    char *bucket; /* the bucket written to (v2 sink); NULL for a v2 source */
    /* v1 and v3 */
    char *db;               /* the database (v1, v3) */
    char *retention_policy; /* v1 only, optional */
    char *username;         /* v1 only, optional */
    char *password;         /* v1 only, optional, secret */

    /* HTTP */
    uint64_t timeout_ns;           /* whole request; 0: no limit */
    bool gzip;                     /* compress request bodies of gzip_threshold bytes or more */
    uint32_t gzip_threshold;       /* bytes */
    char *tls_ca_file;             /* optional */
    char *tls_cert_file;           /* optional */
    char *tls_key_file;            /* optional */
    bool tls_insecure_skip_verify; /* do not verify the server's certificate */
    bool ignore_proxy_env;         /* false: http_proxy, https_proxy, ... are honoured */

    /* v3 writes */
    bool accept_partial;               /* store the good lines of a batch with bad ones */
    bool no_sync;                      /* answer before the write-ahead log is synced */
    ifx_write_endpoint write_endpoint; /* native /api/v3/write_lp or /api/v2/write */

    /* The client writes (a sink): its access check proves write permission on the target; false
     * (a source) proves that it can read. A configuration sets it from its role. */
    bool for_write;
} ifx_transport_options;

#ifdef __cplusplus
}
#endif
#endif
