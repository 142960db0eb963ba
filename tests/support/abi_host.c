/* Test support: the ABI hosts' shared part (see abi_host.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "abi_host.h"

#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- the plugin, bound as the runtime binds it --------------------------------------------- */

void *abi_load(const char *path, const char *const *names, void **const *slots, size_t n,
               const char *kind)
{
    void *lib = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
        return NULL;
    }
    bool missing = false;
    for (size_t i = 0; i < n; i++)
        *slots[i] = dlsym(lib, names[i]);
    for (size_t i = 0; i < n; i++)
        missing = missing || !*slots[i];
    if (missing) {
        fprintf(stderr, "the plugin lacks a %s symbol\n", kind);
        return NULL;
    }
    return lib;
}

/* The defined, global dynamic symbols of an ELF64 shared object: what `nm -D --defined-only`
 * lists. Calls seen(name) for each. */
static void exported_symbols(const char *path, void (*seen)(const char *name, void *ud), void *ud)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    const uint8_t *img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    assert_true(img != MAP_FAILED);
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
    assert_memory_equal(eh->e_ident, ELFMAG, SELFMAG);
    assert_int_equal(eh->e_ident[EI_CLASS], ELFCLASS64);
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(img + eh->e_shoff);
    bool found = false;
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_DYNSYM)
            continue;
        found = true;
        const Elf64_Sym *sym = (const Elf64_Sym *)(img + sh[i].sh_offset);
        const char *names = (const char *)(img + sh[sh[i].sh_link].sh_offset);
        size_t n = sh[i].sh_size / sizeof *sym;
        for (size_t k = 1; k < n; k++) {
            int bind = ELF64_ST_BIND(sym[k].st_info);
            if (sym[k].st_shndx == SHN_UNDEF || (bind != STB_GLOBAL && bind != STB_WEAK))
                continue;
            seen(names + sym[k].st_name, ud);
        }
    }
    assert_true(found);
    munmap((void *)img, (size_t)st.st_size);
    close(fd);
}

struct export_sort {
    const char *const *want;
    size_t n_want;
    abi_exports *l;
};

static void on_export(const char *name, void *ud)
{
    struct export_sort *x = ud;
    abi_exports *l = x->l;
    for (size_t i = 0; i < x->n_want; i++) {
        if (strcmp(name, x->want[i]) == 0) {
            l->iggy++;
            return;
        }
    }
    if (strncmp(name, "ifx_", 4) == 0)
        l->ifx++;
    l->other++;
    size_t n = strlen(l->others);
    snprintf(l->others + n, sizeof l->others - n, " %s", name);
}

void abi_exports_of(const char *path, const char *const *want, size_t n_want, abi_exports *l)
{
    struct export_sort x = {want, n_want, l};
    memset(l, 0, sizeof *l);
    exported_symbols(path, on_export, &x);
}

void abi_check_reload_and_version(void *lib, const char *path, const char *(*version)(void))
{
    void *again = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
    assert_ptr_equal(again, lib);
    dlclose(again);

    const char *v = version();
    assert_non_null(v);
    assert_non_null(strstr(v, "ifx"));
    assert_ptr_equal(version(), v); /* static */
}

static atomic_uint next_id = 1;

uint32_t abi_new_id(void)
{
    return atomic_fetch_add(&next_id, 1);
}

/* ---- the runtime's log callback: records every line and checks the contract of §4 --------- */

typedef struct log_line {
    int level;
    char target[64];
    char msg[1400];
} log_line;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static log_line *log_lines;
static size_t log_count, log_cap;
static atomic_int log_violations; /* NULL pointers, empty target, invalid UTF-8 */

static bool utf8_ok(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        size_t k;
        if (c < 0x80)
            k = 0;
        else if ((c & 0xE0) == 0xC0)
            k = 1;
        else if ((c & 0xF0) == 0xE0)
            k = 2;
        else if ((c & 0xF8) == 0xF0)
            k = 3;
        else
            return false;
        if (k && i + k >= n)
            return false;
        for (size_t j = 1; j <= k; j++)
            if ((p[i + j] & 0xC0) != 0x80)
                return false;
        i += k + 1;
    }
    return true;
}

void abi_record_log(uint8_t level, const uint8_t *target, size_t target_len, const uint8_t *msg,
                    size_t msg_len)
{
    if (!target || !msg || target_len == 0 || !utf8_ok(target, target_len) ||
        !utf8_ok(msg, msg_len)) {
        atomic_fetch_add(&log_violations, 1);
        if (!target || !msg)
            return;
    }
    pthread_mutex_lock(&log_lock);
    if (log_count == log_cap) {
        size_t cap = log_cap ? log_cap * 2 : 256;
        log_line *p = realloc(log_lines, cap * sizeof *p);
        if (!p) {
            pthread_mutex_unlock(&log_lock);
            return;
        }
        log_lines = p;
        log_cap = cap;
    }
    log_line *l = &log_lines[log_count++];
    l->level = level;
    snprintf(l->target, sizeof l->target, "%.*s", (int)target_len, (const char *)target);
    snprintf(l->msg, sizeof l->msg, "%.*s", (int)msg_len, (const char *)msg);
    pthread_mutex_unlock(&log_lock);
    if (getenv("IFX_TEST_VERBOSE"))
        fprintf(stderr, "[%u %.*s] %.*s\n", level, (int)target_len, (const char *)target,
                (int)msg_len, (const char *)msg);
}

size_t abi_log_mark(void)
{
    pthread_mutex_lock(&log_lock);
    size_t n = log_count;
    pthread_mutex_unlock(&log_lock);
    return n;
}

bool abi_log_has(size_t mark, int level, const char *a, const char *b)
{
    bool found = false;
    pthread_mutex_lock(&log_lock);
    for (size_t i = mark; i < log_count && !found; i++)
        found = log_lines[i].level >= level && strstr(log_lines[i].msg, a) &&
                (!b || strstr(log_lines[i].msg, b));
    pthread_mutex_unlock(&log_lock);
    return found;
}

void abi_dump_log(size_t mark)
{
    pthread_mutex_lock(&log_lock);
    for (size_t i = mark; i < log_count; i++)
        fprintf(stderr, "  log[%d %s] %s\n", log_lines[i].level, log_lines[i].target,
                log_lines[i].msg);
    pthread_mutex_unlock(&log_lock);
}

void abi_check_log_contract(const char *token)
{
    assert_int_equal(atomic_load(&log_violations), 0);
    assert_true(abi_log_mark() > 0);
    pthread_mutex_lock(&log_lock);
    for (size_t i = 0; i < log_count; i++) {
        if (strstr(log_lines[i].msg, token))
            fail_msg("a log line shows the token: %s", log_lines[i].msg);
        assert_true(log_lines[i].target[0] != '\0');
        assert_true(log_lines[i].level >= 0 && log_lines[i].level <= 4);
    }
    pthread_mutex_unlock(&log_lock);
}

void abi_log_free(void)
{
    free(log_lines);
}

/* ---- small helpers ------------------------------------------------------------------------ */

void *abi_exact_copy(const void *p, size_t n)
{
    void *q = malloc(n ? n : 1);
    assert_non_null(q);
    if (n)
        memcpy(q, p, n);
    return q;
}

double abi_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int abi_count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

int abi_wait_threads(int want)
{
    int n = abi_count_threads();
    for (int i = 0; i < 50 && n != want; i++) {
        struct timespec t = {0, 20000000L};
        nanosleep(&t, NULL);
        n = abi_count_threads();
    }
    return n;
}
