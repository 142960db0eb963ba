/* ifx — a strict TOML 1.0 reader that yields compact JSON (see src/config/toml.h).
 *
 * Two passes. The first reads the document into a tree: TOML's redefinition rules depend on how
 * each table came to exist (named by a [header], created as the parent of one, created by a dotted
 * key, written inline), and a table may be reopened after others ([a.b] after [a.c] adds to a), so
 * nothing can be written before the whole document is read. The second pass writes the tree.
 *
 * Memory: nodes, keys and decoded strings live in an arena released in one go, so no error path
 * has to take a partial tree apart. Members are found through one hash index keyed by (parent id,
 * key) rather than one per table: most tables are small, and a table with 100k keys stays linear.
 *
 * Recursion: arrays, inline tables and the writer recurse, bounded by IFX_TOML_MAX_DEPTH: every
 * table and array carries its depth, checked when it is created.
 *
 * Why one file of this size: it is one reader (there is no C TOML library in Debian). Its parts,
 * the arena, the tree and its member index, the lexer, values, date-times and the writer, share
 * the reader's state and its error reporting, and none is used by anything else; split up they
 * would need an internal header as large as the interfaces between them.
 *
 * Messages quote keys but never values (a mistyped line may hold a token), and name the position
 * as "line L, column C" computed only when an error is reported.
 */
#include "config/toml.h"
#include "core/float.h"

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8_internal.h"
#include "core/codec.h"
#include "ifx/lp.h"

/* ---- arena ---------------------------------------------------------------------------------- */

#define ARENA_BLOCK (64 * 1024)
#define ARENA_ALIGN 16

struct arena_block {
    struct arena_block *prev;
    size_t size, used;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena {
    struct arena_block *top;
};

static void *arena_alloc(struct arena *a, size_t n)
{
    struct arena_block *b = a->top;

    if (n > SIZE_MAX / 2)
        return NULL;
    n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (n > ARENA_BLOCK / 4) {
        /* A large piece gets a block of its own, linked under the top so that the space left in
         * the current block is not wasted. */
        b = malloc(sizeof *b + n);
        if (!b)
            return NULL;
        b->size = b->used = n;
        if (a->top) {
            b->prev = a->top->prev;
            a->top->prev = b;
        } else {
            b->prev = NULL;
            a->top = b;
        }
        return b->data;
    }
    if (!b || b->size - b->used < n) {
        b = malloc(sizeof *b + ARENA_BLOCK);
        if (!b)
            return NULL;
        b->prev = a->top;
        b->size = ARENA_BLOCK;
        b->used = 0;
        a->top = b;
    }
    b->used += n;
    return b->data + b->used - n;
}

static void arena_free(struct arena *a)
{
    while (a->top) {
        struct arena_block *prev = a->top->prev;
        free(a->top);
        a->top = prev;
    }
}

/* ---- the tree ------------------------------------------------------------------------------- */

enum kind { K_PENDING, K_TABLE, K_ARRAY, K_STRING, K_INTEGER, K_FLOAT, K_BOOL, K_DATETIME };

/* How a table came to exist. A table with none of the first three was implied by a header ([a] by
 * [a.b]): a header of its own or dotted keys may still define it, once. */
#define F_HEADER 0x1u /* named by a [header] or [[header]] (the document itself counts) */
#define F_DOTTED 0x2u /* created by a dotted key: only more dotted keys may add to it */
#define F_INLINE 0x4u /* an inline table: complete when written, nothing may add to it */
#define F_AOT    0x8u /* array: an array of tables, made by [[header]] */

struct node {
    struct node *parent;       /* NULL for the document */
    struct node *next;         /* next member or element of the parent, in document order */
    struct node *first, *last; /* members of a table, elements of an array */
    const char *key;           /* member name, decoded (not NUL-terminated); NULL for elements */
    size_t key_len;
    const char *text; /* scalars: string contents, JSON literal or number, date-time source */
    size_t text_len;
    size_t pos;     /* input offset of its definition, for "first defined on line N" */
    size_t id;      /* identifies a table in the member index (a pointer would hash by address) */
    uint64_t hash;  /* of (parent's id, key), kept for growing the index */
    unsigned depth; /* as a container: nesting level, the document being 1 */
    unsigned char kind;
    unsigned char flags;
};

/* A part of the dotted key being read: decoded bytes in keybuf, and where it was written. */
struct keypart {
    size_t off, len;
    size_t pos;
};

struct toml {
    const char *in;
    size_t len;
    size_t i;     /* read position */
    size_t start; /* first byte after a byte order mark, where line 1 starts */
    struct arena arena;
    struct node **slots; /* member index: open addressing, linear probing */
    size_t nslots, nused;
    size_t next_id;
    struct node *root;
    struct node *table; /* receives key/value pairs: the table of the last header */
    ifx_buf keybuf;     /* decoded parts of the key being read */
    ifx_buf scratch;    /* a string being decoded, a float being converted */
    struct keypart parts[IFX_TOML_MAX_DEPTH];
    size_t nparts;
    ifx_err *err;
};

/* ---- messages ------------------------------------------------------------------------------- */

static void line_col(const struct toml *t, size_t at, size_t *line, size_t *col)
{
    size_t l = 1, start = t->start, c = 1;

    if (at > t->len)
        at = t->len;
    for (size_t i = start; i < at; i++) {
        if (t->in[i] == '\n') {
            l++;
            start = i + 1;
        }
    }
    /* Columns count characters: the bytes that do not continue a UTF-8 sequence. */
    for (size_t i = start; i < at; i++)
        c += ((unsigned char)t->in[i] & 0xC0) != 0x80;
    *line = l;
    *col = c;
}

static size_t line_of(const struct toml *t, size_t at)
{
    size_t line, col;
    line_col(t, at, &line, &col);
    return line;
}

static ifx_rc fail(struct toml *t, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static ifx_rc fail(struct toml *t, size_t at, const char *fmt, ...)
{
    char what[sizeof t->err->msg];
    size_t line, col;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    line_col(t, at, &line, &col);
    return ifx_err_set_at(t->err, IFX_E_INVALID, at, "line %zu, column %zu: %s", line, col, what);
}

static ifx_rc nomem(struct toml *t)
{
    return ifx_err_set(t->err, IFX_E_NOMEM, "out of memory reading TOML");
}

static int peek(const struct toml *t, size_t ahead)
{
    return t->i + ahead < t->len ? (unsigned char)t->in[t->i + ahead] : -1;
}

/* Length of the newline at i: 1 for LF, 2 for CRLF, 0 for anything else (a bare CR included). */
static size_t newline_len(const struct toml *t, size_t i)
{
    if (i < t->len && t->in[i] == '\n')
        return 1;
    if (i + 1 < t->len && t->in[i] == '\r' && t->in[i + 1] == '\n')
        return 2;
    return 0;
}

/* Names the character at `at` for "found ..." (buf holds 16 bytes). */
static const char *describe_char(const struct toml *t, size_t at, char *buf)
{
    unsigned char c;
    size_t n = 1;

    if (at >= t->len)
        return "end of input";
    if (newline_len(t, at))
        return "end of line";
    c = (unsigned char)t->in[at];
    if (c < 0x20 || c == 0x7F) {
        snprintf(buf, 16, "U+%04X", c);
    } else {
        /* The whole character; the input is valid UTF-8, so the sequence is complete. */
        if (c >= 0xF0)
            n = 4;
        else if (c >= 0xE0)
            n = 3;
        else if (c >= 0xC0)
            n = 2;
        snprintf(buf, 16, "'%.*s'", (int)n, t->in + at);
    }
    return buf;
}

static ifx_rc bare_cr(struct toml *t, size_t at)
{
    return fail(t, at, "bare carriage return (CR must be followed by LF)");
}

/* "expected X, found Y" for the character at `at`. */
static ifx_rc unexpected(struct toml *t, size_t at, const char *expected)
{
    char found[16];

    if (at < t->len && t->in[at] == '\r' && !newline_len(t, at))
        return bare_cr(t, at);
    return fail(t, at, "%s, found %s", expected, describe_char(t, at, found));
}

/* A byte that may not appear in a comment or string: a control character or a bare CR. */
static ifx_rc bad_control(struct toml *t, size_t at, const char *where)
{
    if (t->in[at] == '\r')
        return bare_cr(t, at);
    return fail(t, at, "control character U+%04X is not allowed in %s", (unsigned char)t->in[at],
                where);
}

static bool is_bare_key_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static const char *part_ptr(const struct toml *t, size_t k)
{
    return t->keybuf.data ? t->keybuf.data + t->parts[k].off : "";
}

/* Key names in messages are shown as TOML writes them: bare where possible, quoted otherwise,
 * each part cut to KEY_PART_SHOW bytes, and no more parts once KEY_NAME_SHOW bytes are shown, so
 * that a message with a name always fits in ifx_err.msg. A name buffer holds KEY_NAME_SIZE. */
#define KEY_PART_SHOW 40
#define KEY_NAME_SHOW 128
#define KEY_NAME_SIZE (KEY_NAME_SHOW + IFX_EXCERPT_SIZE(KEY_PART_SHOW) + 8)

/* Appends one part (a '.' first unless it is the first) at buf + *k. */
static void name_part(char *buf, size_t *k, const char *s, size_t len)
{
    char shown[IFX_EXCERPT_SIZE(KEY_PART_SHOW)];
    bool bare = len > 0, has_apostrophe = false;
    const char *quote;

    for (size_t i = 0; i < len; i++) {
        bare = bare && is_bare_key_char((unsigned char)s[i]);
        has_apostrophe = has_apostrophe || s[i] == '\'';
    }
    /* A literal string shows the key as it is, unless the key holds an apostrophe. */
    quote = bare ? "" : has_apostrophe ? "\"" : "'";
    ifx_excerpt(s, len, KEY_PART_SHOW, shown);
    *k += (size_t)snprintf(buf + *k, KEY_NAME_SIZE - *k, "%s%s%s%s", *k ? "." : "", quote, shown,
                           quote);
}

/* Names parts[0..n) of the key just read. */
static const char *key_name(const struct toml *t, size_t n, char *buf)
{
    size_t k = 0, p;

    buf[0] = '\0';
    for (p = 0; p < n && k < KEY_NAME_SHOW; p++)
        name_part(buf, &k, part_ptr(t, p), t->parts[p].len);
    if (p < n)
        snprintf(buf + k, KEY_NAME_SIZE - k, "...");
    return buf;
}

/* Names a table by its full path from the document root (an element of an array of tables is
 * named by its array). */
static const char *node_name(const struct node *n, char *buf)
{
    const struct node *chain[IFX_TOML_MAX_DEPTH + 1];
    size_t depth = 0, k = 0;

    for (; n && n->parent && depth < sizeof chain / sizeof *chain; n = n->parent)
        if (n->key)
            chain[depth++] = n;
    buf[0] = '\0';
    while (depth > 0 && k < KEY_NAME_SHOW) {
        depth--;
        name_part(buf, &k, chain[depth]->key, chain[depth]->key_len);
    }
    if (depth > 0)
        snprintf(buf + k, KEY_NAME_SIZE - k, "...");
    return buf;
}

static const char *kind_name(const struct node *n)
{
    switch (n->kind) {
    case K_TABLE:
        return n->flags & F_INLINE ? "an inline table" : "a table";
    case K_ARRAY:
        return n->flags & F_AOT ? "an array of tables" : "a static array";
    case K_STRING:
        return "a string";
    case K_INTEGER:
        return "an integer";
    case K_FLOAT:
        return "a float";
    case K_BOOL:
        return "a boolean";
    case K_DATETIME:
        return "a date-time";
    default:
        return "a value";
    }
}

/* ---- the member index ----------------------------------------------------------------------- */

static uint64_t member_hash(size_t parent_id, const char *key, size_t len)
{
    /* FNV-1a, seeded with the parent so that equal keys of different tables spread apart. */
    uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)parent_id * 0x9E3779B97F4A7C15ull);

    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 0x100000001b3ull;
    }
    return h ^ (h >> 29);
}

static struct node *find_member(const struct toml *t, const struct node *table, const char *key,
                                size_t len)
{
    uint64_t h = member_hash(table->id, key, len);

    if (!t->slots)
        return NULL;
    for (size_t s = (size_t)h & (t->nslots - 1); t->slots[s]; s = (s + 1) & (t->nslots - 1)) {
        const struct node *n = t->slots[s];
        if (n->hash == h && n->parent == table && n->key_len == len &&
            memcmp(n->key, key, len) == 0)
            return t->slots[s];
    }
    return NULL;
}

static ifx_rc index_member(struct toml *t, struct node *n)
{
    if ((t->nused + 1) * 2 > t->nslots) {
        size_t nslots = t->nslots ? t->nslots * 2 : 64;
        struct node **slots = calloc(nslots, sizeof *slots);
        if (!slots)
            return nomem(t);
        for (size_t s = 0; s < t->nslots; s++) {
            struct node *m = t->slots[s];
            if (!m)
                continue;
            size_t d = (size_t)m->hash & (nslots - 1);
            while (slots[d])
                d = (d + 1) & (nslots - 1);
            slots[d] = m;
        }
        free(t->slots);
        t->slots = slots;
        t->nslots = nslots;
    }
    size_t s = (size_t)n->hash & (t->nslots - 1);
    while (t->slots[s])
        s = (s + 1) & (t->nslots - 1);
    t->slots[s] = n;
    t->nused++;
    return IFX_OK;
}

static ifx_rc new_node(struct toml *t, struct node *parent, size_t pos, struct node **out)
{
    struct node *n = arena_alloc(&t->arena, sizeof *n);

    if (!n)
        return nomem(t);
    memset(n, 0, sizeof *n);
    n->pos = pos;
    n->id = t->next_id++;
    n->depth = parent ? parent->depth + 1 : 1;
    n->text = "";
    if (parent) {
        n->parent = parent;
        if (parent->last)
            parent->last->next = n;
        else
            parent->first = n;
        parent->last = n;
    }
    *out = n;
    return IFX_OK;
}

/* Makes n a table or an array, unless that nests too deep. */
static ifx_rc become_container(struct toml *t, struct node *n, enum kind kind, unsigned flags,
                               size_t at)
{
    if (n->depth > IFX_TOML_MAX_DEPTH)
        return fail(t, at, "nesting deeper than %d levels", IFX_TOML_MAX_DEPTH);
    n->kind = (unsigned char)kind;
    n->flags = (unsigned char)flags;
    return IFX_OK;
}

/* Adds the member named by key part k to table; kind K_PENDING leaves it for read_value. */
static ifx_rc new_member(struct toml *t, struct node *table, size_t k, enum kind kind,
                         unsigned flags, size_t pos, struct node **out)
{
    const struct keypart *part = &t->parts[k];
    struct node *n;
    char *key = NULL;
    ifx_rc rc;

    if (part->len) {
        key = arena_alloc(&t->arena, part->len);
        if (!key)
            return nomem(t);
        memcpy(key, part_ptr(t, k), part->len);
    }
    if ((rc = new_node(t, table, pos, &n)))
        return rc;
    n->key = key ? key : "";
    n->key_len = part->len;
    n->hash = member_hash(table->id, n->key, n->key_len);
    if (kind != K_PENDING && (rc = become_container(t, n, kind, flags, part->pos)))
        return rc;
    if ((rc = index_member(t, n)))
        return rc;
    *out = n;
    return IFX_OK;
}

static ifx_rc set_text(struct toml *t, struct node *n, enum kind kind, const char *s, size_t len)
{
    char *copy;

    n->kind = (unsigned char)kind;
    if (len == 0)
        return IFX_OK;
    copy = arena_alloc(&t->arena, len);
    if (!copy)
        return nomem(t);
    memcpy(copy, s, len);
    n->text = copy;
    n->text_len = len;
    return IFX_OK;
}

/* ---- lexical pieces ------------------------------------------------------------------------- */

static void skip_ws(struct toml *t)
{
    while (t->i < t->len && (t->in[t->i] == ' ' || t->in[t->i] == '\t'))
        t->i++;
}

/* Bytes allowed as they are in comments and strings: tab, and everything but control
 * characters (the input is already known to be valid UTF-8). */
static bool is_text_byte(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7F);
}

/* Skips a comment from '#' up to (not including) the end of its line. */
static ifx_rc skip_comment(struct toml *t)
{
    for (t->i++; t->i < t->len; t->i++) {
        unsigned char c = (unsigned char)t->in[t->i];
        if (!is_text_byte(c)) {
            if (newline_len(t, t->i))
                break;
            return bad_control(t, t->i, "a comment");
        }
    }
    return IFX_OK;
}

/* Skips whitespace, comments and newlines: what may separate array elements. */
static ifx_rc skip_blank(struct toml *t)
{
    ifx_rc rc;

    for (;;) {
        size_t nl;
        skip_ws(t);
        if (peek(t, 0) == '#' && (rc = skip_comment(t)))
            return rc;
        if (!(nl = newline_len(t, t->i)))
            return IFX_OK;
        t->i += nl;
    }
}

/* After a statement: optional whitespace and comment, then a newline or the end. */
static ifx_rc end_line(struct toml *t, const char *after)
{
    char expected[64];
    ifx_rc rc;

    skip_ws(t);
    if (peek(t, 0) == '#' && (rc = skip_comment(t)))
        return rc;
    if (t->i == t->len)
        return IFX_OK;
    if (newline_len(t, t->i)) {
        t->i += newline_len(t, t->i);
        return IFX_OK;
    }
    snprintf(expected, sizeof expected, "expected a newline after %s", after);
    return unexpected(t, t->i, expected);
}

static ifx_rc put(struct toml *t, ifx_buf *to, const void *p, size_t n)
{
    return ifx_buf_append(to, p, n) ? nomem(t) : IFX_OK;
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static size_t utf8_encode(uint32_t cp, char *out)
{
    static const unsigned char lead[] = {0, 0x00, 0xC0, 0xE0, 0xF0};
    size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;

    for (size_t k = n - 1; k > 0; k--, cp >>= 6)
        out[k] = (char)(0x80 | (cp & 0x3F));
    out[0] = (char)(lead[n] | cp);
    return n;
}

/* Reads the escape sequence at t->i (a backslash) in a basic string and appends what it means. */
static ifx_rc read_escape(struct toml *t, ifx_buf *to)
{
    static const char from[] = "btnfr\"\\", into[] = "\b\t\n\f\r\"\\";
    size_t at = t->i, digits;
    int c = peek(t, 1);
    char found[16], utf8[4];
    uint32_t cp = 0;
    const char *simple;

    if (c < 0)
        return fail(t, at, "unterminated string");
    if (c != 0 && (simple = strchr(from, c)) != NULL) {
        t->i += 2;
        return put(t, to, &into[simple - from], 1);
    }
    if (c != 'u' && c != 'U') {
        if (c > 0x20 && c < 0x7F)
            return fail(t, at, "invalid escape \\%c", c);
        return fail(t, at, "invalid escape: '\\' followed by %s", describe_char(t, at + 1, found));
    }
    digits = c == 'u' ? 4 : 8;
    for (size_t k = 0; k < digits; k++) {
        int v = hex_value(peek(t, 2 + k));
        if (v < 0)
            return fail(t, at, "invalid escape \\%c: %zu hex digits expected", c, digits);
        cp = cp << 4 | (uint32_t)v;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF)
        return fail(t, at, "invalid escape \\%c%.*s: surrogate code points are not allowed", c,
                    (int)digits, t->in + at + 2);
    if (cp > 0x10FFFF)
        return fail(t, at, "invalid escape \\%c%.*s: above U+10FFFF", c, (int)digits,
                    t->in + at + 2);
    t->i += 2 + digits;
    return put(t, to, utf8, utf8_encode(cp, utf8));
}

/* Appends the run of bytes from t->i that need no attention (stop is the string's quote). */
static ifx_rc take_plain(struct toml *t, ifx_buf *to, char stop, bool escapes)
{
    size_t run = t->i;

    while (t->i < t->len) {
        unsigned char c = (unsigned char)t->in[t->i];
        if (c == (unsigned char)stop || (escapes && c == '\\') || !is_text_byte(c))
            break;
        t->i++;
    }
    return t->i > run ? put(t, to, t->in + run, t->i - run) : IFX_OK;
}

/* Reads a one-line string ("basic" with escapes, or 'literal') at t->i; appends its contents. */
static ifx_rc read_line_string(struct toml *t, ifx_buf *to)
{
    size_t open = t->i;
    char quote = t->in[t->i];
    ifx_rc rc;

    t->i++;
    for (;;) {
        if ((rc = take_plain(t, to, quote, quote == '"')))
            return rc;
        if (t->i == t->len || newline_len(t, t->i))
            return fail(t, open, "unterminated string");
        if (t->in[t->i] == quote) {
            t->i++;
            return IFX_OK;
        }
        if (t->in[t->i] != '\\')
            return bad_control(t, t->i, "a string");
        if ((rc = read_escape(t, to)))
            return rc;
    }
}

/* Reads a multi-line string ("""basic""" or '''literal''') at t->i; appends its contents, with
 * every newline as LF. */
static ifx_rc read_multiline_string(struct toml *t, ifx_buf *to)
{
    size_t open = t->i, nl;
    char quote = t->in[t->i];
    ifx_rc rc;

    t->i += 3;
    /* A newline right after the opening delimiter is not part of the string. */
    t->i += newline_len(t, t->i);
    for (;;) {
        if ((rc = take_plain(t, to, quote, quote == '"')))
            return rc;
        if (t->i == t->len)
            return fail(t, open, "unterminated multi-line string");
        if (t->in[t->i] == quote) {
            /* Up to two quotes may stand right before the closing three. */
            size_t q = 0;
            while (t->i + q < t->len && t->in[t->i + q] == quote)
                q++;
            if (q > 5)
                return fail(t, t->i + 5,
                            "too many quotes at the end of a multi-line string (at most 2 may "
                            "precede the closing three)");
            for (size_t k = 0; k < (q < 3 ? q : q - 3); k++)
                if ((rc = put(t, to, &quote, 1)))
                    return rc;
            t->i += q;
            if (q >= 3)
                return IFX_OK;
        } else if ((nl = newline_len(t, t->i))) {
            if ((rc = put(t, to, "\n", 1)))
                return rc;
            t->i += nl;
        } else if (t->in[t->i] == '\\') {
            /* A backslash that ends a line trims it and all whitespace up to the next text. */
            size_t j = t->i + 1;
            while (j < t->len && (t->in[j] == ' ' || t->in[j] == '\t'))
                j++;
            if (!newline_len(t, j)) {
                if ((rc = read_escape(t, to)))
                    return rc;
                continue;
            }
            t->i = j;
            while (t->i < t->len) {
                if (t->in[t->i] == ' ' || t->in[t->i] == '\t')
                    t->i++;
                else if ((nl = newline_len(t, t->i)))
                    t->i += nl;
                else
                    break;
            }
        } else {
            return bad_control(t, t->i, "a string");
        }
    }
}

/* ---- keys ----------------------------------------------------------------------------------- */

/* Reads a key (simple keys joined by dots, whitespace allowed around the dots) into t->parts. */
static ifx_rc read_key(struct toml *t)
{
    ifx_rc rc;

    ifx_buf_reset(&t->keybuf);
    t->nparts = 0;
    for (;;) {
        struct keypart *part;
        int c = peek(t, 0);

        if (t->nparts == IFX_TOML_MAX_DEPTH)
            return fail(t, t->i, "nesting deeper than %d levels", IFX_TOML_MAX_DEPTH);
        part = &t->parts[t->nparts];
        part->pos = t->i;
        part->off = t->keybuf.len;
        if (c == '"' || c == '\'') {
            if (peek(t, 1) == c && peek(t, 2) == c)
                return fail(t, t->i, "a multi-line string cannot be a key");
            if ((rc = read_line_string(t, &t->keybuf)))
                return rc;
        } else if (c >= 0 && is_bare_key_char(c)) {
            size_t run = t->i;
            while (t->i < t->len && is_bare_key_char((unsigned char)t->in[t->i]))
                t->i++;
            if ((rc = put(t, &t->keybuf, t->in + run, t->i - run)))
                return rc;
        } else {
            return unexpected(t, t->i, "expected a key");
        }
        part->len = t->keybuf.len - part->off;
        t->nparts++;
        skip_ws(t);
        if (peek(t, 0) != '.')
            return IFX_OK;
        t->i++;
        skip_ws(t);
    }
}

/* The table at key part k cannot be entered: says why. */
static ifx_rc not_a_table(struct toml *t, size_t k, const struct node *n, bool dotted)
{
    char name[KEY_NAME_SIZE];
    size_t line = line_of(t, n->pos);

    key_name(t, k + 1, name);
    if (n->kind == K_TABLE && (n->flags & F_INLINE))
        return fail(t, t->parts[k].pos,
                    "inline table \"%s\" cannot be extended (defined on line %zu)", name, line);
    if (dotted && n->kind == K_TABLE)
        return fail(t, t->parts[k].pos,
                    "cannot add to table [%s] with dotted keys (it was defined by the header on "
                    "line %zu)",
                    node_name(n, name), line);
    return fail(t, t->parts[k].pos, "\"%s\" is %s (defined on line %zu), not a table", name,
                kind_name(n), line);
}

/* ---- values --------------------------------------------------------------------------------- */

static ifx_rc read_value(struct toml *t, struct node *n);

/* Reads `key = value` into table: the table of the last header, or an inline table. */
static ifx_rc read_keyval(struct toml *t, struct node *table)
{
    char name[KEY_NAME_SIZE];
    struct node *parent = table, *n;
    size_t last;
    ifx_rc rc;

    if ((rc = read_key(t)))
        return rc;
    if (peek(t, 0) != '=')
        return unexpected(t, t->i, "expected '=' after a key");
    t->i++;
    skip_ws(t);
    /* Every part but the last names a table: one made by dotted keys, or implied by a header
     * ([a] by [a.b]), never one that a header defined or that was written inline. */
    last = t->nparts - 1;
    for (size_t k = 0; k < last; k++) {
        const char *key = part_ptr(t, k);
        n = find_member(t, parent, key, t->parts[k].len);
        if (!n) {
            if ((rc = new_member(t, parent, k, K_TABLE, F_DOTTED, t->parts[k].pos, &n)))
                return rc;
        } else if (n->kind != K_TABLE || (n->flags & (F_INLINE | F_HEADER))) {
            return not_a_table(t, k, n, true);
        }
        /* A table that a header only implied is defined by the dotted key now, so no header
         * may define it later. */
        if (!(n->flags & F_DOTTED)) {
            n->flags |= F_DOTTED;
            n->pos = t->parts[k].pos;
        }
        parent = n;
    }
    n = find_member(t, parent, part_ptr(t, last), t->parts[last].len);
    if (n)
        return fail(t, t->parts[last].pos, "duplicate key \"%s\" (first defined on line %zu)",
                    key_name(t, t->nparts, name), line_of(t, n->pos));
    if ((rc = new_member(t, parent, last, K_PENDING, 0, t->parts[last].pos, &n)))
        return rc;
    return read_value(t, n);
}

static ifx_rc read_array(struct toml *t, struct node *a)
{
    ifx_rc rc;

    if ((rc = become_container(t, a, K_ARRAY, 0, t->i)))
        return rc;
    t->i++;
    for (;;) {
        struct node *elem;
        if ((rc = skip_blank(t)))
            return rc;
        if (peek(t, 0) == ']')
            break;
        if ((rc = new_node(t, a, t->i, &elem)) || (rc = read_value(t, elem)) ||
            (rc = skip_blank(t)))
            return rc;
        if (peek(t, 0) == ']')
            break;
        if (peek(t, 0) != ',')
            return unexpected(t, t->i, "expected ',' or ']' in an array");
        t->i++;
    }
    t->i++;
    return IFX_OK;
}

/* Inline tables are one line in TOML 1.0: a newline or comment inside one is refused. */
static ifx_rc inline_table_continues(struct toml *t)
{
    if (t->i == t->len)
        return fail(t, t->i, "unterminated inline table");
    if (newline_len(t, t->i))
        return fail(t, t->i, "newline inside an inline table (it must be on one line)");
    if (t->in[t->i] == '#')
        return fail(t, t->i, "comment inside an inline table (it must be on one line)");
    return IFX_OK;
}

static ifx_rc read_inline_table(struct toml *t, struct node *tab)
{
    ifx_rc rc;

    if ((rc = become_container(t, tab, K_TABLE, 0, t->i)))
        return rc;
    t->i++;
    skip_ws(t);
    if (peek(t, 0) == '}') {
        t->i++;
        tab->flags |= F_INLINE;
        return IFX_OK;
    }
    for (;;) {
        if ((rc = inline_table_continues(t)) || (rc = read_keyval(t, tab)))
            return rc;
        skip_ws(t);
        if ((rc = inline_table_continues(t)))
            return rc;
        if (t->in[t->i] == '}')
            break;
        if (t->in[t->i] != ',')
            return unexpected(t, t->i, "expected ',' or '}' in an inline table");
        size_t comma = t->i++;
        skip_ws(t);
        if (peek(t, 0) == '}')
            return fail(t, comma, "trailing comma in an inline table");
    }
    t->i++;
    /* Sealed only now: dotted keys inside it could still add to its sub-tables until here. */
    tab->flags |= F_INLINE;
    return IFX_OK;
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool is_digit_of(int c, int base)
{
    int v = hex_value(c);
    return v >= 0 && v < base;
}

/* Reads digits of base from *k with '_' allowed only between two digits; *count gets how many. */
static ifx_rc read_digits(struct toml *t, size_t *k, size_t end, int base, size_t *count)
{
    const char *s = t->in;

    *count = 0;
    while (*k < end) {
        if (is_digit_of((unsigned char)s[*k], base)) {
            ++*count;
        } else if (s[*k] == '_') {
            if (*count == 0 || *k + 1 >= end || !is_digit_of((unsigned char)s[*k + 1], base))
                return fail(t, *k, "invalid number: '_' must stand between two digits");
        } else {
            break;
        }
        ++*k;
    }
    return IFX_OK;
}

/* Adds the digits in [from, to) (skipping '_') to a magnitude; false past limit. */
static bool accumulate(const char *s, size_t from, size_t to, int base, uint64_t limit,
                       uint64_t *mag)
{
    uint64_t m = 0;

    for (size_t k = from; k < to; k++) {
        if (s[k] == '_')
            continue;
        uint64_t d = (uint64_t)hex_value((unsigned char)s[k]);
        if (m > (limit - d) / (uint64_t)base)
            return false;
        m = m * (uint64_t)base + d;
    }
    *mag = m;
    return true;
}

static ifx_rc set_integer(struct toml *t, struct node *n, bool neg, uint64_t mag)
{
    char buf[24];
    int len = snprintf(buf, sizeof buf, "%s%" PRIu64, neg && mag ? "-" : "", mag);
    return set_text(t, n, K_INTEGER, buf, (size_t)len);
}

/* 0x, 0o and 0b integers: no sign, no leading '_'; at most INT64_MAX. */
static ifx_rc read_prefixed_integer(struct toml *t, struct node *n, size_t start, size_t end)
{
    char letter = t->in[start + 1];
    int base = letter == 'x' ? 16 : letter == 'o' ? 8 : 2;
    const char *name = base == 16 ? "a hexadecimal" : base == 8 ? "an octal" : "a binary";
    size_t k = start + 2, count;
    char expected[64];
    uint64_t mag;
    ifx_rc rc;

    if ((rc = read_digits(t, &k, end, base, &count)))
        return rc;
    if (count == 0 || k != end) {
        snprintf(expected, sizeof expected, "invalid number: expected %s digit", name);
        return unexpected(t, k, expected);
    }
    if (!accumulate(t->in, start + 2, end, base, INT64_MAX, &mag))
        return fail(t, start, "integer out of range (int64)");
    return set_integer(t, n, false, mag);
}

/* Writes finite v as a JSON number that reads back as the same double and stays a float: the
 * shortest digits (ifxi_float_format_positional) with ".0" on integral values, or, where positional
 * digits would run long (JavaScript's thresholds), d.ddde-x. out holds IFX_LP_FLOAT_MAX + 8. */
static size_t format_float(double v, char *out)
{
    char pos[IFX_LP_FLOAT_MAX], sig[IFX_LP_FLOAT_MAX];
    size_t len = ifxi_float_format_positional(v, pos), nsig = 0, k = pos[0] == '-';
    const char *dot = memchr(pos, '.', len);
    int exp10;

    if (v == 0 || pos[k] != '0') {
        /* |v| >= 1 (or zero): the exponent is the count of integer digits less one. */
        exp10 = (int)((dot ? (size_t)(dot - pos) : len) - k) - 1;
        for (size_t i = k; i < len; i++)
            if (pos[i] != '.')
                sig[nsig++] = pos[i];
    } else {
        /* 0.000ddd */
        size_t i = k + 2;
        while (pos[i] == '0')
            i++;
        exp10 = -(int)(i - (k + 1));
        memcpy(sig, pos + i, len - i);
        nsig = len - i;
    }
    if (v == 0 || (exp10 > -7 && exp10 < 21)) {
        memcpy(out, pos, len);
        if (!dot) {
            memcpy(out + len, ".0", 2);
            len += 2;
        }
        out[len] = '\0';
        return len;
    }
    while (nsig > 1 && sig[nsig - 1] == '0')
        nsig--;
    len = 0;
    if (k)
        out[len++] = '-';
    out[len++] = sig[0];
    if (nsig > 1) {
        out[len++] = '.';
        memcpy(out + len, sig + 1, nsig - 1);
        len += nsig - 1;
    }
    len += (size_t)snprintf(out + len, 8, "e%d", exp10);
    return len;
}

/* Converts the validated float literal in [start, end) and stores its JSON form. */
static ifx_rc set_float(struct toml *t, struct node *n, size_t start, size_t end)
{
    const char *dp = localeconv()->decimal_point;
    char json[IFX_LP_FLOAT_MAX + 8], *stop = NULL;
    double v;
    ifx_rc rc;

    /* strtod reads the locale's decimal point, so put that in place of TOML's '.'. */
    if (!dp || !*dp)
        dp = ".";
    ifx_buf_reset(&t->scratch);
    for (size_t k = start; k < end; k++) {
        char c = t->in[k];
        if (c == '_')
            continue;
        if ((rc = c == '.' ? put(t, &t->scratch, dp, strlen(dp)) : put(t, &t->scratch, &c, 1)))
            return rc;
    }
    v = strtod(t->scratch.data, &stop);
    if (stop != t->scratch.data + t->scratch.len)
        return fail(t, start, "invalid float"); /* not reached: the grammar was checked */
    if (isinf(v))
        return fail(t, start, "float out of range (it overflows to infinity)");
    return set_text(t, n, K_FLOAT, json, format_float(v, json));
}

/* Decimal integers and floats: [+-] int [. digits] [e [+-] digits], '_' between digits. */
static ifx_rc read_number(struct toml *t, struct node *n, size_t start, size_t end)
{
    const char *s = t->in;
    size_t k = start, int_start, count;
    bool neg = false, is_float = false;
    uint64_t mag;
    ifx_rc rc;

    if (s[k] == '+' || s[k] == '-')
        neg = s[k++] == '-';
    if (k + 1 < end && s[k] == '0' && (s[k + 1] == 'x' || s[k + 1] == 'o' || s[k + 1] == 'b')) {
        if (k != start)
            return fail(t, start,
                        "invalid number: hexadecimal, octal and binary integers take no sign");
        return read_prefixed_integer(t, n, start, end);
    }
    if (k == start && (s[k] == '_' || (s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z')))
        return fail(t, start, "invalid value (a string needs quotes)");
    int_start = k;
    if ((rc = read_digits(t, &k, end, 10, &count)))
        return rc;
    if (count == 0)
        return unexpected(t, k, "invalid number: expected a digit");
    if (s[int_start] == '0' && count > 1)
        return fail(t, int_start, "invalid number: leading zeros are not allowed");
    size_t int_end = k;
    if (k < end && s[k] == '.') {
        k++;
        if ((rc = read_digits(t, &k, end, 10, &count)))
            return rc;
        if (count == 0)
            return unexpected(t, k, "invalid float: expected a digit after '.'");
        is_float = true;
    }
    if (k < end && (s[k] == 'e' || s[k] == 'E')) {
        k++;
        if (k < end && (s[k] == '+' || s[k] == '-'))
            k++;
        if ((rc = read_digits(t, &k, end, 10, &count)))
            return rc;
        if (count == 0)
            return unexpected(t, k, "invalid float: expected a digit in the exponent");
        is_float = true;
    }
    if (k != end) {
        char found[16];
        return fail(t, k, "invalid number: unexpected %s", describe_char(t, k, found));
    }
    if (is_float)
        return set_float(t, n, start, end);
    if (!accumulate(s, int_start, int_end, 10, neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX, &mag))
        return fail(t, start, "integer out of range (int64)");
    return set_integer(t, n, neg, mag);
}

/* ---- date-times (RFC 3339, as TOML restricts it) -------------------------------------------- */

static bool all_digits(const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!is_digit((unsigned char)s[k]))
            return false;
    return true;
}

static int two_digits(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* YYYY-MM-DD: 10 on success, 0 with *why set. */
static size_t scan_date(const char *s, size_t n, const char **why)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int year, month, day, dim;

    if (n < 10 || !all_digits(s, 4) || s[4] != '-' || !all_digits(s + 5, 2) || s[7] != '-' ||
        !all_digits(s + 8, 2)) {
        *why = "expected YYYY-MM-DD";
        return 0;
    }
    year = two_digits(s) * 100 + two_digits(s + 2);
    month = two_digits(s + 5);
    day = two_digits(s + 8);
    if (month < 1 || month > 12) {
        *why = "month out of range";
        return 0;
    }
    dim = days[month - 1] +
          (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 1 : 0);
    if (day < 1 || day > dim) {
        *why = "day out of range for the month";
        return 0;
    }
    return 10;
}

/* HH:MM:SS[.fraction]: its length, or 0 with *why set. A leap second (60) is allowed. */
static size_t scan_time(const char *s, size_t n, const char **why)
{
    size_t k = 8;

    if (n < 8 || !all_digits(s, 2) || s[2] != ':' || !all_digits(s + 3, 2) || s[5] != ':' ||
        !all_digits(s + 6, 2)) {
        *why = "expected HH:MM:SS";
        return 0;
    }
    if (two_digits(s) > 23 || two_digits(s + 3) > 59 || two_digits(s + 6) > 60) {
        *why = two_digits(s) > 23       ? "hour out of range"
               : two_digits(s + 3) > 59 ? "minute out of range"
                                        : "second out of range";
        return 0;
    }
    if (k < n && s[k] == '.') {
        k++;
        if (k == n || !is_digit((unsigned char)s[k])) {
            *why = "expected a digit after '.'";
            return 0;
        }
        while (k < n && is_digit((unsigned char)s[k]))
            k++;
    }
    return k;
}

/* Z or +HH:MM / -HH:MM: its length, or 0 with *why set. */
static size_t scan_offset(const char *s, size_t n, const char **why)
{
    if (n >= 1 && (s[0] == 'Z' || s[0] == 'z'))
        return 1;
    if (n >= 6 && (s[0] == '+' || s[0] == '-') && all_digits(s + 1, 2) && s[3] == ':' &&
        all_digits(s + 4, 2)) {
        if (two_digits(s + 1) > 23 || two_digits(s + 4) > 59) {
            *why = "time offset out of range";
            return 0;
        }
        return 6;
    }
    *why = "expected Z or a time offset (+HH:MM)";
    return 0;
}

/* A date-time is kept as its exact source text: it points into the input, alive until output. */
static ifx_rc read_date_time(struct toml *t, struct node *n, size_t start, size_t end)
{
    const char *s = t->in + start, *why = "expected YYYY-MM-DD, HH:MM:SS or both";
    size_t len = end - start, k = 0, m;

    if (len >= 5 && s[4] == '-') {
        if (!(k = scan_date(s, len, &why)))
            goto bad;
        if (k < len) {
            if (s[k] != 'T' && s[k] != 't' && s[k] != ' ') {
                why = "expected 'T' between date and time";
                goto bad;
            }
            k++;
            if (!(m = scan_time(s + k, len - k, &why)))
                goto bad;
            k += m;
            if (k < len) {
                if (!(m = scan_offset(s + k, len - k, &why)))
                    goto bad;
                k += m;
            }
        }
    } else if (!(k = scan_time(s, len, &why))) {
        goto bad;
    }
    if (k != len) {
        why = "unexpected text after it";
        goto bad;
    }
    n->kind = K_DATETIME;
    n->text = s;
    n->text_len = len;
    return IFX_OK;
bad:
    return fail(t, start, "invalid date-time (%s)", why);
}

static bool is_token_char(int c)
{
    return is_bare_key_char(c) || c == '+' || c == '.' || c == ':';
}

/* Booleans, numbers and date-times: one run of token characters, classified. */
static ifx_rc read_scalar(struct toml *t, struct node *n)
{
    size_t start = t->i, end = t->i, len;
    const char *s = t->in + start, *body;

    while (end < t->len && is_token_char((unsigned char)t->in[end]))
        end++;
    /* RFC 3339 lets a space separate date and time; TOML takes it when a time follows. */
    if (end - start == 10 && s[4] == '-' && end + 3 < t->len && t->in[end] == ' ' &&
        is_digit((unsigned char)t->in[end + 1]) && is_digit((unsigned char)t->in[end + 2]) &&
        t->in[end + 3] == ':') {
        end++;
        while (end < t->len && is_token_char((unsigned char)t->in[end]))
            end++;
    }
    t->i = end;
    len = end - start;
    if ((len == 4 && memcmp(s, "true", 4) == 0) || (len == 5 && memcmp(s, "false", 5) == 0)) {
        n->kind = K_BOOL;
        n->text = s;
        n->text_len = len;
        return IFX_OK;
    }
    body = s + (s[0] == '+' || s[0] == '-');
    if (end - (size_t)(body - t->in) == 3 &&
        (memcmp(body, "inf", 3) == 0 || memcmp(body, "nan", 3) == 0))
        return fail(t, start, "inf/nan cannot be represented in JSON");
    if ((len >= 3 && all_digits(s, 2) && s[2] == ':') ||
        (len >= 5 && all_digits(s, 4) && s[4] == '-'))
        return read_date_time(t, n, start, end);
    return read_number(t, n, start, end);
}

static ifx_rc read_value(struct toml *t, struct node *n)
{
    int c = peek(t, 0);
    ifx_rc rc;

    if (c == '"' || c == '\'') {
        ifx_buf_reset(&t->scratch);
        rc = peek(t, 1) == c && peek(t, 2) == c ? read_multiline_string(t, &t->scratch)
                                                : read_line_string(t, &t->scratch);
        return rc ? rc : set_text(t, n, K_STRING, t->scratch.data, t->scratch.len);
    }
    if (c == '[')
        return read_array(t, n);
    if (c == '{')
        return read_inline_table(t, n);
    if (c >= 0 && is_token_char(c))
        return read_scalar(t, n);
    return unexpected(t, t->i, "expected a value");
}

/* ---- headers and the document --------------------------------------------------------------- */

/* [a.b.c] or [[a.b.c]]: makes its table the one that receives key/value pairs. */
static ifx_rc read_header(struct toml *t)
{
    char name[KEY_NAME_SIZE];
    size_t open = t->i, last;
    bool array = peek(t, 1) == '[';
    struct node *parent = t->root, *n;
    ifx_rc rc;

    t->i += array ? 2 : 1;
    skip_ws(t);
    if ((rc = read_key(t)))
        return rc;
    if (peek(t, 0) != ']' || (array && peek(t, 1) != ']'))
        return unexpected(t, peek(t, 0) == ']' ? t->i + 1 : t->i,
                          array ? "expected ']]' to close the header"
                                : "expected ']' to close the header");
    t->i += array ? 2 : 1;
    /* Every part but the last: any table not written inline, or the last element of an array
     * of tables. Missing ones are created, and may be named by a header of their own later. */
    last = t->nparts - 1;
    for (size_t k = 0; k < last; k++) {
        n = find_member(t, parent, part_ptr(t, k), t->parts[k].len);
        if (!n) {
            if ((rc = new_member(t, parent, k, K_TABLE, 0, open, &n)))
                return rc;
        } else if (n->kind == K_ARRAY && (n->flags & F_AOT)) {
            n = n->last;
        } else if (n->kind != K_TABLE || (n->flags & F_INLINE)) {
            return not_a_table(t, k, n, false);
        }
        parent = n;
    }
    n = find_member(t, parent, part_ptr(t, last), t->parts[last].len);
    key_name(t, t->nparts, name);
    if (array) {
        if (!n) {
            if ((rc = new_member(t, parent, last, K_ARRAY, F_AOT, open, &n)))
                return rc;
        } else if (n->kind != K_ARRAY || !(n->flags & F_AOT)) {
            return fail(t, open,
                        "cannot define array of tables [[%s]]: it is already %s "
                        "(defined on line %zu)",
                        name, kind_name(n), line_of(t, n->pos));
        }
        struct node *elem;
        if ((rc = new_node(t, n, open, &elem)) ||
            (rc = become_container(t, elem, K_TABLE, F_HEADER, t->parts[last].pos)))
            return rc;
        t->table = elem;
    } else {
        if (!n) {
            if ((rc = new_member(t, parent, last, K_TABLE, F_HEADER, open, &n)))
                return rc;
        } else if (n->kind == K_TABLE && !(n->flags & (F_HEADER | F_DOTTED | F_INLINE))) {
            n->flags |= F_HEADER;
            n->pos = open;
        } else if (n->kind == K_TABLE && (n->flags & F_HEADER)) {
            return fail(t, open, "table [%s] defined twice (first defined on line %zu)", name,
                        line_of(t, n->pos));
        } else {
            bool dotted = n->kind == K_TABLE && (n->flags & F_DOTTED);
            return fail(t, open, "table [%s] defined twice (first %s%s on line %zu)", name,
                        dotted ? "by dotted keys" : "as ", dotted ? "" : kind_name(n),
                        line_of(t, n->pos));
        }
        t->table = n;
    }
    return end_line(t, "the table header");
}

static ifx_rc read_document(struct toml *t)
{
    ifx_rc rc;

    for (;;) {
        int c;
        skip_ws(t);
        if (t->i == t->len)
            return IFX_OK;
        c = peek(t, 0);
        if (c == '[') {
            if ((rc = read_header(t)))
                return rc;
            continue; /* read_header ends the line itself */
        }
        if (c != '#' && !newline_len(t, t->i) && (rc = read_keyval(t, t->table)))
            return rc;
        if ((rc = end_line(t, "the value")))
            return rc;
    }
}

/* ---- output --------------------------------------------------------------------------------- */

/* Recursion is bounded: no container is deeper than IFX_TOML_MAX_DEPTH. */
static ifx_rc write_json(const struct node *n, ifx_buf *out)
{
    ifx_rc rc = IFX_OK;

    switch (n->kind) {
    case K_TABLE:
    case K_ARRAY:
        if ((rc = ifx_buf_putc(out, n->kind == K_TABLE ? '{' : '[')))
            return rc;
        for (const struct node *m = n->first; m; m = m->next) {
            if (m != n->first && (rc = ifx_buf_putc(out, ',')))
                return rc;
            if (n->kind == K_TABLE && ((rc = ifxi_json_append_string(out, m->key, m->key_len)) ||
                                       (rc = ifx_buf_putc(out, ':'))))
                return rc;
            if ((rc = write_json(m, out)))
                return rc;
        }
        return ifx_buf_putc(out, n->kind == K_TABLE ? '}' : ']');
    case K_STRING:
    case K_DATETIME:
        return ifxi_json_append_string(out, n->text, n->text_len);
    default:
        return ifx_buf_append(out, n->text, n->text_len);
    }
}

ifx_rc ifxi_toml_to_json(const char *in, size_t len, ifx_buf *out, ifx_err *err)
{
    struct toml t;
    size_t mark, bad;
    ifx_rc rc;

    if (!out || (!in && len))
        return ifx_err_set(err, IFX_E_USAGE, "ifxi_toml_to_json: no input or no output buffer");
    if (!in)
        in = "";
    mark = out->len;
    memset(&t, 0, sizeof t);
    t.in = in;
    t.len = len;
    t.err = err;
    /* Decoded text is never longer than the input it comes from. */
    ifx_buf_init(&t.keybuf, len + 1);
    ifx_buf_init(&t.scratch, len + 16); /* + a locale's longer decimal point */
    if (!ifxi_utf8_valid(in, len, &bad)) {
        char what[96];
        ifxi_utf8_describe(in + bad, len - bad, what, sizeof what);
        rc = fail(&t, bad, "invalid UTF-8 (%s)", what);
        goto out;
    }
    /* A byte order mark is not TOML, but editors add it and the toml crate that the Iggy runtime
     * reads connector files with skips it. */
    if (len >= 3 && memcmp(in, "\xEF\xBB\xBF", 3) == 0)
        t.i = t.start = 3;
    if ((rc = new_node(&t, NULL, 0, &t.root)))
        goto out;
    t.root->kind = K_TABLE;
    t.root->flags = F_HEADER;
    t.table = t.root;
    if ((rc = read_document(&t)))
        goto out;
    rc = write_json(t.root, out);
    if (rc == IFX_E_FULL)
        ifx_err_set(err, IFX_E_FULL, "the JSON form of the TOML document exceeds %zu bytes",
                    out->cap);
    else if (rc)
        nomem(&t);
out:
    if (rc)
        ifx_buf_truncate(out, mark);
    arena_free(&t.arena);
    free(t.slots);
    ifx_buf_free(&t.keybuf);
    ifx_buf_free(&t.scratch);
    return rc;
}
