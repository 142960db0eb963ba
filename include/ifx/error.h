/* ifx — error reporting.
 *
 * Every fallible function returns an ifx_rc (0 = IFX_OK). Detail goes into an ifx_err that the
 * caller owns and passes in; a NULL ifx_err is allowed everywhere and means "no detail wanted".
 * There is no global error state.
 *
 * Thread safety: an ifx_err belongs to one thread at a time.
 */
#ifndef IFX_ERROR_H
#define IFX_ERROR_H

#include <stddef.h>
#include <stdint.h>
#include "ifx/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ifx_rc {
    IFX_OK = 0,
    IFX_E_INVALID,     /* the input was refused: the message names the problem */
    IFX_E_UNSUPPORTED, /* valid, but the target InfluxDB version cannot represent it */
    IFX_E_CONFIG,      /* the configuration is invalid */
    IFX_E_FULL,        /* a capped buffer would grow past its cap; nothing was written */
    IFX_E_NOMEM,       /* an allocation failed */
    IFX_E_IO,          /* a file or system call failed */
    IFX_E_USAGE,       /* a function was called out of order or with bad arguments */
    /* Outcomes of talking to a server (see ifx/client.h). */
    IFX_E_TRANSIENT,   /* worth retrying: connection error, timeout, 408, 429, 5xx */
    IFX_E_AUTH,        /* 401 or 403: the credentials are wrong or lack permission */
    IFX_E_TOO_LARGE,   /* 413: the request body is over the server's limit; split it */
    IFX_E_REJECTED,    /* the server refused the request for good (other 4xx, query errors) */
    IFX_E_PARTIAL,     /* a write stored some lines and rejected others (details per line) */
    IFX_E_BREAKER_OPEN /* not attempted: the circuit breaker is open */
} ifx_rc;

/* No known offset: ifx_err.offset holds this when the problem has no position. */
#define IFX_NO_OFFSET SIZE_MAX

typedef struct ifx_err {
    ifx_rc code;
    size_t offset;   /* byte offset of the problem in the input, or IFX_NO_OFFSET */
    int http_status; /* HTTP status of a failed request, 0 when not an HTTP error */
    char msg[512];   /* one line, no trailing newline, never contains secrets */
} ifx_err;

/* Resets err to IFX_OK with an empty message. err may be NULL. */
IFX_EXTERN void ifx_err_clear(ifx_err *err);

/* Sets err (when not NULL) and returns code, so that callers can write `return ifx_err_set(...)`.
 * The message is formatted with printf rules and cut to fit msg. */
IFX_EXTERN ifx_rc ifx_err_set(ifx_err *err, ifx_rc code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like ifx_err_set, and records the byte offset of the problem in the input. */
IFX_EXTERN ifx_rc ifx_err_set_at(ifx_err *err, ifx_rc code, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Puts "prefix: " in front of the current message of err (when not NULL). Returns err->code. */
IFX_EXTERN ifx_rc ifx_err_prefix(ifx_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Renders at most max bytes of s for an error message: TAB, CR and LF become \t, \r, \n and
 * other control bytes \xNN, so a message stays on one line; a cut never splits a UTF-8
 * sequence and is marked "...". out must hold IFX_EXCERPT_SIZE(max) bytes. Returns out. */
#define IFX_EXCERPT_SIZE(max) (4 * (max) + 4)
IFX_EXTERN const char *ifx_excerpt(const char *s, size_t len, size_t max, char *out);

/* A short, stable name for a result code ("invalid", "full", ...). Never NULL. */
IFX_EXTERN const char *ifx_rc_name(ifx_rc rc);

#ifdef __cplusplus
}
#endif
#endif
