/* Test support: run the ifx binary as a user does, and read files whole. */
#ifndef IFX_TEST_CLI_RUN_H
#define IFX_TEST_CLI_RUN_H

typedef struct cli_result {
    int status; /* exit status, -1 when killed */
    char *out;  /* stdout (caller frees with cli_result_free) */
    char *err;  /* stderr */
} cli_result;

/* The whole file at path as a NUL-terminated string ("" when it cannot be read). Caller frees. */
char *test_slurp(const char *path);

/* Runs "bin args" through the shell with input (NULL: nothing) on its standard input, using
 * files in dir for the streams. */
cli_result cli_run(const char *bin, const char *dir, const char *args, const char *input);

void cli_result_free(cli_result *r);

#endif
