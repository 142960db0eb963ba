/* ifx — configuration checks beyond type and range, one per kind of value (urls, credentials,
 * names, windows), named by the key table and run after the value is stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "ifx/lp.h"
#include "ifx/timeutil.h"

/* ---- checks beyond type and range ------------------------------------------------------------ */

static bool is_blank(const char *s)
{
    for (; *s; s++) {
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return false;
    }
    return true;
}

void ifxi_config_check_not_blank(struct parse_ctx *p, const struct key_desc *k, const char *written)
{
    if (is_blank(*str_slot(p->c, k)))
        ifxi_config_problem(p, "key '%s' must not be empty", written);
}

/* Credentials end up in an HTTP header (Authorization) or in a Basic pair. A CR or LF would end
 * that header early and send the rest of the value as headers of its own (header injection);
 * other control characters and whitespace around the value are copy-paste accidents that the
 * server would only answer with 401. Refused here, naming the key and never showing the value. */
void ifxi_config_check_credential(struct parse_ctx *p, const struct key_desc *k,
                                  const char *written)
{
    const char *v = *str_slot(p->c, k);
    size_t len = strlen(v);

    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch < 0x20 || ch == 0x7F) {
            ifxi_config_problem(
                p,
                "key '%s' must not contain control characters such as CR, LF or TAB (the "
                "value is not shown)",
                written);
            return;
        }
    }
    if (len && (v[0] == ' ' || v[len - 1] == ' '))
        ifxi_config_problem(
            p, "key '%s' must not begin or end with a space (the value is not shown)", written);
}

void ifxi_config_check_token(struct parse_ctx *p, const struct key_desc *k, const char *written)
{
    char **slot = str_slot(p->c, k);

    if (!is_blank(*slot)) {
        ifxi_config_check_credential(p, k, written);
        return;
    }
    if (p->c->version == IFX_VERSION_V2) {
        ifxi_config_problem(p, "key '%s' must not be empty", written);
        return;
    }
    /* Elsewhere the token is optional, and an empty one would only send a malformed
     * Authorization header: it means "no token". */
    ifxi_config_free_string(slot, true);
}

static bool is_digits(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

void ifxi_config_check_url(struct parse_ctx *p, const struct key_desc *k, const char *written)
{
    char *url = *str_slot(p->c, k), shown[SHOW_BUF];
    size_t len = strlen(url), scheme, i;
    const char *auth, *end, *host, *port = NULL;

    ifxi_config_show_url(url, shown);
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)url[i];
        if (ch <= 0x20 || ch == 0x7F) {
            ifxi_config_problem(p, "key '%s' must not contain spaces or control characters, got %s",
                                written, shown);
            return;
        }
    }
    if (strncasecmp(url, "http://", 7) == 0) {
        scheme = 7;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        scheme = 8;
    } else {
        ifxi_config_problem(p, "key '%s' must start with http:// or https://, got %s", written,
                            shown);
        return;
    }
    /* The transports add their own query parameters (org, bucket, db, precision). */
    if (strpbrk(url, "?#")) {
        ifxi_config_problem(
            p,
            "key '%s' must not have a query string or fragment (ifx adds the parameters "
            "itself), got %s",
            written, shown);
        return;
    }
    auth = url + scheme;
    end = auth + strcspn(auth, "/");
    host = auth;
    for (const char *q = auth; q < end; q++) {
        if (*q == '@')
            host = q + 1;
    }
    if (host < end && *host == '[') {
        const char *close = memchr(host, ']', (size_t)(end - host));
        if (!close || close == host + 1) {
            ifxi_config_problem(p, "key '%s' has an invalid host, got %s", written, shown);
            return;
        }
        if (close + 1 < end) {
            if (close[1] != ':') {
                ifxi_config_problem(p, "key '%s' has an invalid host, got %s", written, shown);
                return;
            }
            port = close + 2;
        }
    } else {
        const char *colon = memchr(host, ':', (size_t)(end - host));
        if ((colon ? colon : end) == host) {
            ifxi_config_problem(p, "key '%s' has no host, got %s", written, shown);
            return;
        }
        if (colon)
            port = colon + 1;
    }
    if (port && (!is_digits(port, (size_t)(end - port)) || end - port > 5 || atoi(port) < 1 ||
                 atoi(port) > 65535)) {
        ifxi_config_problem(p, "key '%s' has an invalid port, got %s", written, shown);
        return;
    }
    /* One spelling for the scheme, as curl and the server logs show it. */
    for (i = 0; i < scheme - 3; i++)
        url[i] = ifxi_config_ascii_lower(url[i]);
    /* Like upstream's base_url: one trailing '/' goes, so that paths can be appended. */
    if (len > scheme && url[len - 1] == '/')
        url[len - 1] = '\0';
}

void ifxi_config_check_measurement(struct parse_ctx *p, const struct key_desc *k,
                                   const char *written)
{
    const char *m = *str_slot(p->c, k);
    ifx_err why;

    /* Upstream wrote any measurement and failed every line at write time (S9): check it now,
     * with the same rules the line builder applies. */
    ifx_err_clear(&why);
    if (ifx_lp_check_measurement(p->c->version, m, strlen(m), &why))
        ifxi_config_problem(p, "key '%s': %s", written, why.msg);
}

void ifxi_config_check_cursor_field(struct parse_ctx *p, const struct key_desc *k,
                                    const char *written)
{
    const char *f = *str_slot(p->c, k);
    ifx_version v = p->c->version;

    if (is_blank(f)) {
        ifxi_config_problem(
            p, "key '%s' must not be empty; use \"_time\" for v2 or \"time\" for v1 and v3",
            written);
        return;
    }
    if (!p->version_known)
        return;
    /* Flux tables name the timestamp column "_time"; InfluxQL and SQL results name it "time".
     * The other spelling would never match and the cursor would never advance. */
    if (v == IFX_VERSION_V2 && strcmp(f, "time") == 0)
        ifxi_config_problem(
            p, "key '%s' must not be \"time\" for v2: Flux names the timestamp column \"_time\"",
            written);
    else if ((v == IFX_VERSION_V1 || v == IFX_VERSION_V3) && strcmp(f, "_time") == 0)
        ifxi_config_problem(
            p, "key '%s' must not be \"_time\" for %s: %s names the timestamp column \"time\"",
            written, ifx_version_name(v), v == IFX_VERSION_V1 ? "InfluxQL" : "SQL");
}

void ifxi_config_check_payload_column(struct parse_ctx *p, const struct key_desc *k,
                                      const char *written)
{
    /* Upstream took "" as a column name and then failed every row (R15). */
    if (**str_slot(p->c, k) == '\0')
        ifxi_config_problem(p, "key '%s' must not be empty; leave it out to use the whole row",
                            written);
}

void ifxi_config_check_stuck_cap(struct parse_ctx *p, const struct key_desc *k, const char *written)
{
    if (*SLOT(uint32_t, p->c, k) == 1)
        ifxi_config_problem(
            p,
            "key '%s' must not be 1: the cap would equal batch_size, so a batch stuck on one "
            "timestamp could never grow past it; use 0 to turn stuck detection off, or 2 to "
            "100",
            written);
}

/* An empty window that ended in the past moves the cursor by the window less 1 ns: a window of
 * a few nanoseconds would crawl through history one query at a time. */
void ifxi_config_check_query_window(struct parse_ctx *p, const struct key_desc *k,
                                    const char *written)
{
    uint64_t ns = *SLOT(uint64_t, p->c, k);
    char got[IFX_DURATION_MAX];
    if (ns != 0 && ns < SEC) {
        ifx_duration_format(ns, got);
        ifxi_config_problem(
            p, "key '%s' must be \"0s\" (no upper bound) or at least 1s, got \"%s\"", written, got);
    }
}
