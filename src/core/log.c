/* ifx — one log line, as text or as JSON (see ifx/log.h). */
#include "ifx/log.h"

#include <stdio.h>
#include <string.h>

#include "ifx/buf.h"
#include "core/codec.h"
#include "ifx/timeutil.h"

/* A log line is built whole before it is cut to the caller's size. */
#define LOG_BUILD_CAP (64u << 10)

const char *ifx_log_level_name(int level)
{
    static const char *const names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR"};
    return names[level >= IFX_LOG_TRACE && level <= IFX_LOG_ERROR ? level : IFX_LOG_ERROR];
}

/* "2026-11-26T10:00:00.123Z": the time cut to milliseconds. */
static void format_time(int64_t ns, char *out)
{
    char full[IFX_RFC3339_MAX];
    int64_t ms = ns - ns % 1000000;
    size_t n = ifx_time_format_rfc3339(ms, full);
    /* The formatter trims trailing zeros: pad the fraction back to three digits. */
    char *dot = memchr(full, '.', n);
    if (!dot) {
        snprintf(out, IFX_RFC3339_MAX, "%.*s.000Z", (int)(n - 1), full);
        return;
    }
    size_t digits = (size_t)(full + n - 1 - (dot + 1));
    snprintf(out, IFX_RFC3339_MAX, "%.*s%.*sZ", (int)(n - 1), full, (int)(3 - digits), "000");
}

static bool is_key_start(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_key_char(char c)
{
    return is_key_start(c) || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool is_integer(const char *s, size_t len)
{
    size_t i = s[0] == '-' ? 1 : 0;
    if (i == len || len - i > 18 || (s[i] == '0' && len - i > 1))
        return false;
    for (; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool reserved_key(const char *k, size_t len)
{
    static const char *const names[] = {"ts", "level", "connector", "msg"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == len && memcmp(names[i], k, len) == 0)
            return true;
    return false;
}

/* Was the key k[0..len) already given by an earlier word of msg[0..before)? */
static bool seen_before(const char *msg, size_t before, const char *k, size_t len)
{
    for (size_t i = 0; i + len < before; i++) {
        if ((i == 0 || msg[i - 1] == ' ') && memcmp(msg + i, k, len) == 0 && msg[i + len] == '=')
            return true;
    }
    return false;
}

/* Appends ,"key":value for each key=value word of msg[0..len). */
static ifx_rc append_fields(ifx_buf *b, const char *msg, size_t len)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && msg[i] == ' ')
            i++;
        size_t word = i;
        while (i < len && msg[i] != ' ')
            i++;
        const char *w = msg + word;
        size_t wlen = i - word, k = 0;
        if (wlen == 0 || !is_key_start(w[0]))
            continue;
        while (k < wlen && is_key_char(w[k]))
            k++;
        if (k == wlen || w[k] != '=' || k + 1 == wlen)
            continue;
        const char *v = w + k + 1;
        size_t vlen = wlen - k - 1;
        /* "a=1," in a list of figures: the comma is not part of the value */
        if (vlen > 1 && (v[vlen - 1] == ',' || v[vlen - 1] == ';'))
            vlen--;
        if (reserved_key(w, k) || seen_before(msg, word, w, k))
            continue;
        ifx_rc rc;
        if ((rc = ifx_buf_putc(b, ',')) || (rc = ifxi_json_append_string(b, w, k)) ||
            (rc = ifx_buf_putc(b, ':')))
            return rc;
        rc = is_integer(v, vlen) ? ifx_buf_append(b, v, vlen) : ifxi_json_append_string(b, v, vlen);
        if (rc)
            return rc;
    }
    return IFX_OK;
}

static ifx_rc build_json(ifx_buf *b, int level, const char *connector, const char *msg,
                         size_t msg_len, bool cut, const char *ts)
{
    ifx_rc rc;
    ifx_buf_reset(b);
    if (ts[0] && ((rc = ifx_buf_puts(b, "{\"ts\":\"")) || (rc = ifx_buf_puts(b, ts)) ||
                  (rc = ifx_buf_puts(b, "\","))))
        return rc;
    if (!ts[0] && (rc = ifx_buf_putc(b, '{')))
        return rc;
    if ((rc = ifx_buf_puts(b, "\"level\":\"")) ||
        (rc = ifx_buf_puts(b, ifx_log_level_name(level))) ||
        (rc = ifx_buf_puts(b, "\",\"connector\":")) ||
        (rc = ifxi_json_append_string(b, connector, strlen(connector))) ||
        (rc = ifx_buf_puts(b, ",\"msg\":")) || (rc = ifxi_json_append_string(b, msg, msg_len)))
        return rc;
    /* A cut message may end in half a word: its fields would be wrong, so leave them out. */
    if (!cut && (rc = append_fields(b, msg, msg_len)))
        return rc;
    return ifx_buf_putc(b, '}');
}

size_t ifx_log_format_line(ifx_log_format format, int level, const char *connector, const char *msg,
                           int64_t time_ns, char *out, size_t cap)
{
    char ts[IFX_RFC3339_MAX] = "";
    size_t n;

    if (cap == 0)
        return 0;
    if (!connector)
        connector = "";
    if (!msg)
        msg = "";
    if (time_ns > 0)
        format_time(time_ns, ts);
    if (format == IFX_LOG_FORMAT_TEXT) {
        int w = snprintf(out, cap, "%s%s%s %s: %s", ts, ts[0] ? " " : "", ifx_log_level_name(level),
                         connector, msg);
        n = w < 0 ? 0 : (size_t)w >= cap ? cap - 1 : (size_t)w;
    } else {
        ifx_buf b;
        size_t msg_len = strlen(msg);
        bool cut = false;
        ifx_buf_init(&b, LOG_BUILD_CAP);
        n = 0;
        for (;;) {
            ifx_rc rc = build_json(&b, level, connector, msg, msg_len, cut, ts);
            if (rc == IFX_OK && b.len < cap) {
                memcpy(out, b.data, b.len);
                n = b.len;
                break;
            }
            if (msg_len == 0)
                break; /* not even the frame fits: an empty line rather than broken JSON */
            size_t over = rc == IFX_OK ? b.len - cap + 1 : msg_len / 2 + 1;
            /* escapes can make the message longer in JSON than in text: cut a little more */
            msg_len = over + 8 >= msg_len ? 0 : msg_len - over - 8;
            while (msg_len > 0 && ((unsigned char)msg[msg_len] & 0xC0) == 0x80)
                msg_len--; /* never cut inside a UTF-8 sequence */
            cut = true;
        }
        ifx_buf_free(&b);
    }
    out[n] = '\0';
    /* Runtime and terminals want UTF-8: mend what a server's message may have brought in. */
    for (size_t k = 0, bad; !ifxi_utf8_valid(out + k, n - k, &bad); k += bad + 1)
        out[k + bad] = '?';
    return n;
}
