/* Test support: loads tests/vectors/points.jsonl (see vectors.h). */
#include "vectors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"

static void die(const char *what, size_t line)
{
    fprintf(stderr, "vectors: line %zu: %s\n", line, what);
    abort();
}

static char *decode(const ifx_json_val *s)
{
    ifx_buf b;
    ifx_buf_init(&b, 1 << 20);
    if (ifxi_json_string_decode(s, &b, NULL))
        abort();
    return ifx_buf_detach(&b);
}

vector *vectors_load(const char *path, ifx_version v, size_t *count)
{
    FILE *f = fopen(path, "rb");
    char *line = NULL;
    size_t cap = 0, n = 0, lineno = 0;
    ssize_t len;
    vector *vs = NULL;
    char key_expect[16], key_refuse[16];

    if (!f)
        die("cannot open", 0);
    snprintf(key_expect, sizeof key_expect, "expect_%s", ifx_version_name(v));
    snprintf(key_refuse, sizeof key_refuse, "refuse_%s", ifx_version_name(v));
    while ((len = getline(&line, &cap, f)) > 0) {
        ifx_json_val root, id, point, val;
        vector *x;
        lineno++;
        if (ifxi_json_parse(line, (size_t)len, &root, NULL))
            die("not JSON", lineno);
        if (!ifxi_json_object_get(&root, "id", &id) ||
            !ifxi_json_object_get(&root, "point", &point))
            die("no id or point", lineno);
        vs = realloc(vs, (n + 1) * sizeof *vs);
        x = &vs[n++];
        memset(x, 0, sizeof *x);
        snprintf(x->id, sizeof x->id, "%.*s", (int)id.len - 2, id.p + 1);
        x->point = malloc(point.len + 1);
        memcpy(x->point, point.p, point.len);
        x->point[point.len] = '\0';
        x->point_len = point.len;
        if (ifxi_json_object_get(&root, key_expect, &val))
            x->expect = decode(&val);
        else if (ifxi_json_object_get(&root, key_refuse, &val))
            x->refuse = decode(&val);
        else if (ifxi_json_object_get(&root, "refuse", &val))
            x->refuse = decode(&val);
        else if (ifxi_json_object_get(&root, "expect", &val))
            x->expect = decode(&val);
        else
            die("neither expect nor refuse", lineno);
    }
    free(line);
    fclose(f);
    *count = n;
    return vs;
}

void vectors_free(vector *vs, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(vs[i].point);
        free(vs[i].expect);
        free(vs[i].refuse);
    }
    free(vs);
}
