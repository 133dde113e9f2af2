/* testutil.h — shared helpers for the cmocka suite. */
#ifndef RC_TESTUTIL_H
#define RC_TESTUTIL_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Path of the rcsim binary under test (env RCSIM, default ./rcsim). */
static inline const char *rc_test_bin(void)
{
    const char *b = getenv("RCSIM");
    return b && *b ? b : "./rcsim";
}

/* Relative error with a floor, for finite-difference checks. */
static inline double rc_relerr(double a, double b)
{
    double d = fabs(a - b), s = fabs(a) + fabs(b);
    return s < 1e-8 ? d : 2.0 * d / s;
}

/* Fresh private folder for a test group: dir (cap bytes) gets prefix plus
 * mkdtemp's six random characters, e.g. prefix "/tmp/rcsim_cli_". 0 or -1. */
static inline int rc_test_mkdtemp(char *dir, size_t cap, const char *prefix)
{
    int n = snprintf(dir, cap, "%sXXXXXX", prefix);
    if (n < 0 || (size_t)n >= cap) return -1;
    return mkdtemp(dir) ? 0 : -1;
}

static inline int rc_test_rmtree_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

/* rm -rf DIR, without a shell: contents first, links not followed. 0 or -1. */
static inline int rc_test_rmtree(const char *dir)
{
    return nftw(dir, rc_test_rmtree_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}
/* Fails the test unless hay contains needle, printing both. */
/* Runs a printf-formatted shell command; its exit status, or -1 if it did
 * not exit normally. */
static inline int rc_test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int rc_test_sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* The whole file, NUL-terminated (malloc'd), its length in *len (optional);
 * NULL if it cannot be opened or fully read. */
static inline char *rc_test_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) { free(s); s = NULL; }
    if (s) s[n] = 0;
    fclose(f);
    if (s && len) *len = (size_t)n;
    return s;
}

/* Runs "rcsim ARGS" (a shell fragment; stdout dropped) with stderr into
 * DIR/stderr.txt, copied into out (cap bytes); returns the exit code. */
static inline int rc_test_rcsim_err(const char *dir, char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline int rc_test_rcsim_err(const char *dir, char *out, size_t cap, const char *fmt, ...)
{
    char args[4096], path[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(path, sizeof path, "%s/stderr.txt", dir);
    const int rc = rc_test_sh("%s %s >/dev/null 2>'%s'", rc_test_bin(), args, path);
    char *s = rc_test_slurp(path, NULL);
    snprintf(out, cap, "%s", s ? s : "");
    free(s);
    return rc;
}

/* Writes text to path (a config, a list file); fails the test if it cannot. */
static inline void rc_test_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Writes an IDX file (unsigned-byte data): magic, big-endian sizes, data. */
static inline void rc_test_write_idx(const char *path, int dims, const uint32_t *size, const uint8_t *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint8_t hdr[4] = { 0, 0, 8, (uint8_t)dims };
    fwrite(hdr, 1, 4, f);
    for (int d = 0; d < dims; d++) {
        uint8_t b[4] = { (uint8_t)(size[d] >> 24), (uint8_t)(size[d] >> 16), (uint8_t)(size[d] >> 8), (uint8_t)size[d] };
        fwrite(b, 1, 4, f);
    }
    fwrite(data, 1, n, f);
    fclose(f);
}

/* 1 if path exists. */
static inline int rc_test_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* A generated 3-class temporal-MNIST folder in dir (created): class = which
 * third of the image is bright; ntr training and the first nte of them as
 * test images, in the four IDX files rcsim reads. */
static inline void rc_test_write_tiny_mnist(const char *dir, uint32_t ntr, uint32_t nte)
{
    mkdir(dir, 0777);
    uint8_t *img = calloc((size_t)ntr * 784, 1), *lab = calloc(ntr, 1);
    assert_true(img && lab && nte <= ntr);
    for (uint32_t i = 0; i < ntr; i++) {
        lab[i] = (uint8_t)(i % 3);
        for (int r = 0; r < 28; r++)
            for (int c = 0; c < 28; c++)
                if (c / 10 == lab[i] && (r + c + (int)i) % 3) img[(size_t)i * 784 + r * 28 + c] = (uint8_t)(100 + (r * 5 + i) % 156);
    }
    uint32_t si[3] = { ntr, 28, 28 }, sl[1] = { ntr };
    char p[600];
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte", dir); rc_test_write_idx(p, 3, si, img, (size_t)ntr * 784);
    snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte", dir); rc_test_write_idx(p, 1, sl, lab, ntr);
    si[0] = sl[0] = nte;
    snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte", dir); rc_test_write_idx(p, 3, si, img, (size_t)nte * 784);
    snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte", dir); rc_test_write_idx(p, 1, sl, lab, nte);
    free(img);
    free(lab);
}

/* DIR/summary.json without the lines that may differ between runs of the
 * same numbers (timings, folders, resume and progress flags) and, if extra
 * is not NULL, lines containing extra. malloc'd; NULL if unreadable. */
static inline char *rc_test_summary_numbers(const char *dir, const char *extra)
{
    char p[600];
    snprintf(p, sizeof p, "%s/summary.json", dir);
    char *s = rc_test_slurp(p, NULL);
    if (!s) return NULL;
    char *out = calloc(1, strlen(s) + 1), *line = strtok(s, "\n");
    for (; out && line; line = strtok(NULL, "\n"))
        if (!strstr(line, "_per_s") && !strstr(line, "wall_s") && !strstr(line, "\"dir\"") &&
            !strstr(line, "\"resumed\"") && !strstr(line, "\"progress\"") && !(extra && strstr(line, extra)))
            strcat(strcat(out, line), "\n");
    free(s);
    return out;
}

#define assert_contains(hay, needle)                                               \
    do {                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                   \
        if (!strstr(h_, n_)) {                                                     \
            print_error("expected \"%s\"\n     in \"%s\"\n", n_, h_);              \
            fail();                                                                \
        }                                                                          \
    } while (0)

/* Runs fn in a child process: true if it died of SIGABRT (an RC_ASSERT). */
static inline int aborts(void (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *null = freopen("/dev/null", "w", stderr);
        (void)null;
        fn();
        _exit(0);
    }
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    return WIFSIGNALED(ws) && WTERMSIG(ws) == SIGABRT;
}
#endif
