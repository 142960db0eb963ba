/* ifx — what config.c and document.c share to report problems (internal header). */
#ifndef IFX_CONFIG_PROBLEMS_H
#define IFX_CONFIG_PROBLEMS_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>

#include "ifx/config.h"

/* Appends one formatted problem to list. false when memory ran out (the problem is lost). */
bool ifxi_config_problems_addv(ifx_problems *list, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* jansson ends a parse message with " near '<token>'", and the token can be part of a secret
 * (an unterminated token string, say): cut it, except for a duplicate key, where it is the key. */
void ifxi_config_tidy_json_error(json_error_t *jerr);

#endif
