/* Test support: running the ifx binary (see cli_run.h). */
#include "cli_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

char *test_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 1 << 16, n = 0, k;
    char *s = malloc(cap + 1);
    while (f && (k = fread(s + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap)
            s = realloc(s, (cap *= 2) + 1);
    }
    if (f)
        fclose(f);
    s[n] = '\0';
    return s;
}

cli_result cli_run(const char *bin, const char *dir, const char *args, const char *input)
{
    char cmd[4096], in[512], out[512], err[512];
    cli_result r;
    snprintf(in, sizeof in, "%s/in", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(err, sizeof err, "%s/err", dir);
    FILE *f = fopen(in, "wb");
    fputs(input ? input : "", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s %s <%s >%s 2>%s", bin, args, in, out, err);
    int st = system(cmd);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = test_slurp(out);
    r.err = test_slurp(err);
    return r;
}

void cli_result_free(cli_result *r)
{
    free(r->out);
    free(r->err);
}
