/* test_idx.c — io/idx: MNIST-style IDX files, raw and gzip.
 *
 * The reader is the gate between downloaded datasets and training, so the
 * tests check both sides: files written here with known pixel patterns read
 * back exactly (raw, gzip, gzip under a plain name, plain under a .gz name,
 * concatenated gzip members, data larger than the reader's 1 MiB chunks), and
 * every way a file can be wrong gives RC_ERR_DATA or RC_ERR_IO with a message
 * naming the file and the numbers involved — bad magic, wrong type, wrong
 * dimension count, absurd sizes, truncation (raw, inside gzip, and of the gzip
 * stream itself), any single flipped byte of a gzip body, trailing bytes,
 * labels out of range, image/label count mismatch and missing files.
 * When ../shared/data/mnist exists, the real MNIST sets are read, timed and
 * checked against their known label histograms and an independent gzread.
 * Files go to a mkdtemp folder removed at teardown. Run from the repo root. */
#include "tests/testutil.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "io/idx.h"


static char g_dir[256];

static const char *path_in(const char *name)
{
    static char buf[4][512]; /* a few live at once in one assert */
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

/* ---- writing test files ------------------------------------------------- */

typedef struct {
    uint8_t *p;
    size_t n;
} bytes;

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* An IDX file image: magic, ndims sizes, then ndata bytes of data. */
static bytes idx_bytes(uint32_t magic, int ndims, const uint32_t *dims, const uint8_t *data, size_t ndata)
{
    bytes b = { malloc(4 + 4 * (size_t)ndims + ndata + 1), 4 + 4 * (size_t)ndims + ndata };
    assert_non_null(b.p);
    put32(b.p, magic);
    for (int i = 0; i < ndims; i++) put32(b.p + 4 + 4 * i, dims[i]);
    if (ndata) memcpy(b.p + 4 + 4 * ndims, data, ndata);
    return b;
}

/* Pixel patterns: a smooth one that tells rows from columns and images apart,
 * and a pseudo-random one that barely compresses (to exceed 1 MiB of .gz). */
static uint8_t pix(uint32_t i, uint32_t r, uint32_t c) { return (uint8_t)(i * 31 + r * 7 + c * 3 + (r * c) % 5); }

static uint8_t *pattern_images(uint32_t n, uint32_t rows, uint32_t cols, int random)
{
    uint8_t *d = malloc((size_t)n * rows * cols);
    assert_non_null(d);
    uint32_t x = 2463534242u;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t r = 0; r < rows; r++)
            for (uint32_t c = 0; c < cols; c++) {
                x ^= x << 13, x ^= x >> 17, x ^= x << 5;
                d[((size_t)i * rows + r) * cols + c] = random ? (uint8_t)(x >> 24) : pix(i, r, c);
            }
    return d;
}

static bytes images_file(uint32_t n, uint32_t rows, uint32_t cols, const uint8_t *data)
{
    uint32_t dims[3] = { n, rows, cols };
    return idx_bytes(0x00000803, 3, dims, data, (size_t)n * rows * cols);
}

static bytes labels_file(uint32_t n, const uint8_t *data)
{
    return idx_bytes(0x00000801, 1, &n, data, n);
}

static void write_raw(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void write_gz(const char *path, const void *p, size_t n)
{
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    if (n) assert_int_equal(gzwrite(g, p, (unsigned)n), (int)n);
    assert_int_equal(gzclose(g), Z_OK);
}

static bytes slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    bytes b = { malloc((size_t)n + 1), (size_t)n };
    assert_non_null(b.p);
    assert_int_equal(fread(b.p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return b;
}

static void append_raw(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "ab");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* Reads `path` as images expecting failure with status `want`; returns the
 * message, checked to name the file. */
static const char *images_fail(const char *path, rc_status want)
{
    static rc_err err;
    rc_idx x = { 7, 7, 7, (uint8_t *)&x }; /* garbage: the reader must clear it */
    err.msg[0] = 0;
    rc_status st = rc_idx_read_images(path, &x, &err);
    if (st != want) print_error("%s: status %s, expected %s: %s\n", path, rc_status_str(st), rc_status_str(want), err.msg);
    assert_int_equal(st, want);
    assert_null(x.data);
    assert_int_equal(x.count, 0);
    assert_contains(err.msg, path);
    return err.msg;
}

static const char *labels_fail(const char *path, uint32_t max_label, rc_status want)
{
    static rc_err err;
    rc_idx x = { 7, 7, 7, (uint8_t *)&x };
    err.msg[0] = 0;
    rc_status st = rc_idx_read_labels(path, max_label, &x, &err);
    if (st != want) print_error("%s: status %s, expected %s: %s\n", path, rc_status_str(st), rc_status_str(want), err.msg);
    assert_int_equal(st, want);
    assert_null(x.data);
    assert_contains(err.msg, path);
    return err.msg;
}

static void check_images(const rc_idx *x, uint32_t n, uint32_t rows, uint32_t cols, const uint8_t *want)
{
    assert_int_equal(x->count, n);
    assert_int_equal(x->rows, rows);
    assert_int_equal(x->cols, cols);
    assert_non_null(x->data);
    assert_memory_equal(x->data, want, (size_t)n * rows * cols);
}

/* ---- reading good files ------------------------------------------------- */

static void test_images_raw_and_gz(void **state)
{
    (void)state;
    enum { N = 4, R = 5, C = 7 }; /* not square: a rows/cols swap shows */
    uint8_t *d = pattern_images(N, R, C, 0);
    bytes f = images_file(N, R, C, d);
    write_raw(path_in("small-images"), f.p, f.n);
    write_gz(path_in("small-images.gz"), f.p, f.n);
    /* Detection is by magic bytes: gzip under a plain name, and raw under a
     * .gz name (a browser that decompressed the download but kept its name). */
    write_gz(path_in("gz-without-suffix"), f.p, f.n);
    write_raw(path_in("raw-with-suffix.gz"), f.p, f.n);
    const char *names[] = { "small-images", "small-images.gz", "gz-without-suffix", "raw-with-suffix.gz" };
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
        rc_idx x;
        rc_err err = { "" };
        assert_int_equal(rc_idx_read_images(path_in(names[k]), &x, &err), RC_OK);
        check_images(&x, N, R, C, d);
        assert_int_equal(x.data[(2 * R + 3) * C + 6], pix(2, 3, 6)); /* image 2, row 3, col 6 */
        rc_idx_free(&x);
        assert_null(x.data);
        rc_idx_free(&x); /* twice is fine: freeing clears */
    }
    free(f.p);
    free(d);
}

/* 2000 random 28x28 images: 1.5 MB that gzip cannot shrink, so both the raw
 * reads and the compressed input cross the reader's 1 MiB chunks. */
static void test_big_random(void **state)
{
    (void)state;
    enum { N = 2000, R = 28, C = 28 };
    uint8_t *d = pattern_images(N, R, C, 1);
    bytes f = images_file(N, R, C, d);
    write_raw(path_in("big"), f.p, f.n);
    write_gz(path_in("big.gz"), f.p, f.n);
    struct stat st;
    assert_int_equal(stat(path_in("big.gz"), &st), 0);
    assert_true(st.st_size > (1 << 20));
    const char *names[] = { "big", "big.gz" };
    for (int k = 0; k < 2; k++) {
        rc_idx x;
        rc_err err = { "" };
        assert_int_equal(rc_idx_read_images(path_in(names[k]), &x, &err), RC_OK);
        check_images(&x, N, R, C, d);
        rc_idx_free(&x);
    }
    free(f.p);
    free(d);
}

static void test_labels(void **state)
{
    (void)state;
    uint8_t lab[300];
    for (int i = 0; i < 300; i++) lab[i] = (uint8_t)((i * 7) % 10);
    bytes f = labels_file(300, lab);
    write_raw(path_in("labels"), f.p, f.n);
    write_gz(path_in("labels.gz"), f.p, f.n);
    const char *names[] = { "labels", "labels.gz" };
    for (int k = 0; k < 2; k++) {
        rc_idx x;
        rc_err err = { "" };
        assert_int_equal(rc_idx_read_labels(path_in(names[k]), 10, &x, &err), RC_OK);
        assert_int_equal(x.count, 300);
        assert_int_equal(x.rows, 0);
        assert_int_equal(x.cols, 0);
        assert_memory_equal(x.data, lab, 300);
        rc_idx_free(&x);
    }
    /* The largest valid label is max_label - 1. */
    uint8_t top[2] = { 0, 9 };
    bytes g = labels_file(2, top);
    write_raw(path_in("labels-top"), g.p, g.n);
    rc_idx x;
    rc_err err = { "" };
    assert_int_equal(rc_idx_read_labels(path_in("labels-top"), 10, &x, &err), RC_OK);
    assert_int_equal(x.data[1], 9);
    rc_idx_free(&x);
    free(f.p);
    free(g.p);
}

/* gzip allows concatenated members (cat a.gz b.gz); gzip -d reads them as one. */
static void test_gzip_members(void **state)
{
    (void)state;
    uint8_t *d = pattern_images(3, 4, 4, 0);
    bytes f = images_file(3, 4, 4, d);
    write_gz(path_in("part1.gz"), f.p, 10);
    write_gz(path_in("part2.gz"), f.p + 10, f.n - 10);
    bytes a = slurp(path_in("part1.gz")), b = slurp(path_in("part2.gz"));
    write_raw(path_in("members.gz"), a.p, a.n);
    append_raw(path_in("members.gz"), b.p, b.n);
    rc_idx x;
    rc_err err = { "" };
    assert_int_equal(rc_idx_read_images(path_in("members.gz"), &x, &err), RC_OK);
    check_images(&x, 3, 4, 4, d);
    rc_idx_free(&x);
    free(a.p);
    free(b.p);
    free(f.p);
    free(d);
}

/* ---- header errors ------------------------------------------------------ */

static void test_bad_magic(void **state)
{
    (void)state;
    uint8_t d[4] = { 1, 2, 3, 4 };
    uint32_t dims[3] = { 1, 2, 2 };
    bytes f = idx_bytes(0x12345678, 3, dims, d, 4);
    write_raw(path_in("x.idx"), f.p, f.n);
    const char *m = images_fail(path_in("x.idx"), RC_ERR_DATA);
    assert_contains(m, "bad magic 0x12345678, expected 0x00000803 (IDX images, unsigned bytes)");
    write_gz(path_in("x.idx.gz"), f.p, f.n);
    m = labels_fail(path_in("x.idx.gz"), 10, RC_ERR_DATA);
    assert_contains(m, "bad magic 0x12345678, expected 0x00000801 (IDX labels");
    /* An HTML error page saved in place of the download. */
    const char html[] = "<!DOCTYPE html><html>Not Found</html>\n";
    write_raw(path_in("page.gz"), html, sizeof html - 1);
    m = images_fail(path_in("page.gz"), RC_ERR_DATA);
    assert_contains(m, "bad magic 0x3c21444f");
    assert_contains(m, "looks like text");
    /* Empty and too short for a magic. */
    write_raw(path_in("empty"), "", 0);
    assert_contains(images_fail(path_in("empty"), RC_ERR_DATA), "empty file");
    write_gz(path_in("empty.gz"), "", 0);
    assert_contains(images_fail(path_in("empty.gz"), RC_ERR_DATA), "empty file after decompression");
    write_raw(path_in("three"), "\0\0\x08", 3);
    assert_contains(images_fail(path_in("three"), RC_ERR_DATA), "truncated: 3 bytes");
    free(f.p);
}

static void test_wrong_type_and_dims(void **state)
{
    (void)state;
    uint8_t d[16] = { 0 };
    uint32_t dims[3] = { 1, 2, 2 };
    bytes f = idx_bytes(0x00000d03, 3, dims, d, 16); /* floats */
    write_raw(path_in("floats"), f.p, f.n);
    const char *m = images_fail(path_in("floats"), RC_ERR_DATA);
    assert_contains(m, "magic 0x00000d03 has data type 0x0d (32-bit floats), expected 0x08");
    free(f.p);

    /* A labels file given as images, and the other way round. */
    uint8_t lab[3] = { 1, 2, 3 };
    bytes l = labels_file(3, lab);
    write_gz(path_in("lab.gz"), l.p, l.n);
    m = images_fail(path_in("lab.gz"), RC_ERR_DATA);
    assert_contains(m, "magic 0x00000801 says 1 dimension, expected 3");
    assert_contains(m, "labels file?");
    bytes im = images_file(1, 2, 2, d);
    write_raw(path_in("img"), im.p, im.n);
    m = labels_fail(path_in("img"), 10, RC_ERR_DATA);
    assert_contains(m, "magic 0x00000803 says 3 dimensions, expected 1");
    /* Two dimensions: neither. */
    uint32_t d2[2] = { 2, 2 };
    bytes two = idx_bytes(0x00000802, 2, d2, d, 4);
    write_raw(path_in("two"), two.p, two.n);
    assert_contains(images_fail(path_in("two"), RC_ERR_DATA), "says 2 dimensions, expected 3");
    free(l.p);
    free(im.p);
    free(two.p);
}

static void test_bad_sizes(void **state)
{
    (void)state;
    struct {
        uint32_t n, r, c;
        const char *want;
    } cases[] = {
        { 0, 28, 28, "header says 0 images" },
        { 5, 0, 28, "header says 5 images of 0x28, expected 1 to 65535 rows and columns" },
        { 5, 28, 0, "5 images of 28x0" },
        { 1, 70000, 1, "1 images of 70000x1, expected 1 to 65535" },
        { 40000, 300, 300, "40000 images of 300x300 (3600000000 bytes), more than the 2147483648 bytes" },
        { 4294967295u, 65535, 65535, "4294967295 images of 65535x65535" },
    };
    uint8_t d[4] = { 0 };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        uint32_t dims[3] = { cases[k].n, cases[k].r, cases[k].c };
        bytes f = idx_bytes(0x00000803, 3, dims, d, 4);
        write_raw(path_in("sizes"), f.p, f.n);
        assert_contains(images_fail(path_in("sizes"), RC_ERR_DATA), cases[k].want);
        write_gz(path_in("sizes.gz"), f.p, f.n);
        assert_contains(images_fail(path_in("sizes.gz"), RC_ERR_DATA), cases[k].want);
        free(f.p);
    }
    uint32_t zero = 0;
    bytes l = idx_bytes(0x00000801, 1, &zero, d, 0);
    write_raw(path_in("nolabels"), l.p, l.n);
    assert_contains(labels_fail(path_in("nolabels"), 10, RC_ERR_DATA), "header says 0 labels");
    free(l.p);
}

/* ---- data length errors ------------------------------------------------- */

static void test_truncated(void **state)
{
    (void)state;
    uint8_t *d = pattern_images(4, 5, 7, 0);
    bytes f = images_file(4, 5, 7, d); /* 16 + 140 bytes */
    write_raw(path_in("cut"), f.p, f.n - 1);
    const char *m = images_fail(path_in("cut"), RC_ERR_DATA);
    assert_contains(m, "truncated: expected 140 bytes of data, found 139");
    assert_contains(m, "header says 4 images of 5x7");
    /* The same inside a well-formed gzip stream. */
    write_gz(path_in("cut.gz"), f.p, f.n - 40);
    m = images_fail(path_in("cut.gz"), RC_ERR_DATA);
    assert_contains(m, "truncated: expected 140 bytes of data, found 100 after decompression");
    /* Cut inside the sizes, and right after the magic. */
    write_raw(path_in("cut-hdr"), f.p, 10);
    assert_contains(images_fail(path_in("cut-hdr"), RC_ERR_DATA), "truncated: the header needs 16 bytes, found 10");
    write_raw(path_in("cut-magic"), f.p, 4);
    assert_contains(images_fail(path_in("cut-magic"), RC_ERR_DATA), "the header needs 16 bytes, found 4");
    /* No data at all. */
    write_raw(path_in("hdr-only"), f.p, 16);
    assert_contains(images_fail(path_in("hdr-only"), RC_ERR_DATA), "expected 140 bytes of data, found 0");
    /* Labels. */
    uint8_t lab[50] = { 0 };
    bytes l = labels_file(50, lab);
    write_gz(path_in("labcut.gz"), l.p, l.n - 8);
    m = labels_fail(path_in("labcut.gz"), 10, RC_ERR_DATA);
    assert_contains(m, "expected 50 bytes of data, found 42");
    assert_contains(m, "header says 50 labels");
    free(l.p);
    free(f.p);
    free(d);
}

/* A header claiming ~2 GiB over 100 bytes of data, read with the address
 * space capped 512 MiB above what the process has: "truncated" (raw and gzip),
 * never "out of memory". Runs in a child so the cap does not outlive it;
 * skipped under ASan, whose shadow memory needs terabytes of address space. */
#if defined(__SANITIZE_ADDRESS__)
#define RC_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RC_TEST_ASAN 1
#endif
#endif
static void test_huge_claim_small_file(void **state)
{
    (void)state;
#ifdef RC_TEST_ASAN
    skip();
#else
    const uint32_t dims[3] = { 2739000, 28, 28 }; /* 2147376000 bytes, under the 2 GiB cap */
    uint8_t body[100] = { 0 };
    bytes f = idx_bytes(0x00000803, 3, dims, body, sizeof body);
    assert_int_equal(f.n, 116);
    write_raw(path_in("claim"), f.p, f.n);
    write_gz(path_in("claim.gz"), f.p, f.n);
    free(f.p);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        long pages = 0, page = sysconf(_SC_PAGESIZE);
        FILE *sm = fopen("/proc/self/statm", "r");
        if (!sm || fscanf(sm, "%ld", &pages) != 1) _exit(3);
        fclose(sm);
        struct rlimit rl = { (rlim_t)pages * page + (512u << 20), (rlim_t)pages * page + (512u << 20) };
        if (setrlimit(RLIMIT_AS, &rl)) _exit(3);
        int bad = 0;
        for (int gz = 0; gz < 2; gz++) {
            rc_idx x;
            rc_err err = { "" };
            rc_status st = rc_idx_read_images(path_in(gz ? "claim.gz" : "claim"), &x, &err);
            if (st != RC_ERR_DATA || !strstr(err.msg, "truncated: expected 2147376000 bytes of data, found 100")) {
                fprintf(stderr, "%s: %s: %s\n", gz ? "gzip" : "raw", rc_status_str(st), err.msg);
                bad = 1;
            }
        }
        _exit(bad);
    }
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(WIFEXITED(ws));
    assert_int_equal(WEXITSTATUS(ws), 0);
#endif
}

static void test_trailing(void **state)
{
    (void)state;
    uint8_t *d = pattern_images(4, 5, 7, 0);
    bytes f = images_file(4, 5, 7, d);
    f.p[f.n] = 0; /* idx_bytes left room for one more byte */
    write_raw(path_in("long"), f.p, f.n + 1);
    append_raw(path_in("long"), "ab", 2);
    const char *m = images_fail(path_in("long"), RC_ERR_DATA);
    assert_contains(m, "3 unexpected bytes after the data");
    assert_contains(m, "4 images of 5x7 = 140 bytes");
    write_gz(path_in("long.gz"), f.p, f.n + 1);
    assert_contains(images_fail(path_in("long.gz"), RC_ERR_DATA), "1 unexpected bytes after the data in the decompressed stream");
    /* Bytes after the gzip stream itself (zero padding, a partial download
     * appended to a complete one...). */
    write_gz(path_in("pad.gz"), f.p, f.n);
    append_raw(path_in("pad.gz"), "\0\0\0\0\0", 5);
    assert_contains(images_fail(path_in("pad.gz"), RC_ERR_DATA), "5 bytes of garbage after the end of the gzip stream");
    write_gz(path_in("pad1.gz"), f.p, f.n);
    append_raw(path_in("pad1.gz"), "\x1f", 1);
    assert_contains(images_fail(path_in("pad1.gz"), RC_ERR_DATA), "1 bytes of garbage after the end of the gzip stream");
    free(f.p);
    free(d);
}

/* ---- damaged gzip streams ----------------------------------------------- */

static void test_gzip_cut(void **state)
{
    (void)state;
    uint8_t *d = pattern_images(200, 28, 28, 1);
    bytes f = images_file(200, 28, 28, d);
    write_gz(path_in("whole.gz"), f.p, f.n);
    bytes z = slurp(path_in("whole.gz"));
    /* Cut in the header, the body, and each byte of the 8-byte trailer
     * (CRC-32, length): the data may all be there, the file is still bad. */
    size_t cuts[] = { 5, 11, z.n / 3, z.n / 2, z.n - 9, z.n - 8, z.n - 7, z.n - 4, z.n - 1 };
    for (size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
        write_raw(path_in("cutz.gz"), z.p, cuts[k]);
        const char *m = images_fail(path_in("cutz.gz"), RC_ERR_DATA);
        assert_contains(m, "corrupt gzip stream");
        if (cuts[k] > 10) assert_contains(m, "file cut short?");
    }
    free(z.p);
    free(f.p);
    free(d);
}

/* Flipping any byte after the 10-byte gzip header (whose mtime and OS bytes
 * nothing checks) must be caught: by inflate or by the CRC-32 / length in the
 * trailer, which the reader reaches even when the IDX data looks complete.
 * If the flip garbles the IDX header, the gzip error is still what is shown.
 * The pixels are random 6-bit values: Huffman-coded (not stored) by deflate,
 * yet without the repeats that let a changed match distance copy the very
 * same bytes (then the file decompresses correctly and nothing is wrong). */
static void test_gzip_flipped_byte(void **state)
{
    (void)state;
    uint8_t *d = pattern_images(100, 28, 28, 1);
    for (size_t i = 0; i < 100 * 28 * 28; i++) d[i] &= 63;
    bytes f = images_file(100, 28, 28, d);
    write_gz(path_in("ok.gz"), f.p, f.n);
    bytes z = slurp(path_in("ok.gz"));
    int checked = 0;
    for (size_t pos = 10; pos < z.n; pos += (pos < 40 || pos + 12 > z.n) ? 1 : 61) {
        for (int bit = 0; bit < 8; bit += 3) {
            z.p[pos] ^= (uint8_t)(1u << bit);
            write_raw(path_in("flip.gz"), z.p, z.n);
            z.p[pos] ^= (uint8_t)(1u << bit);
            static rc_err err;
            rc_idx x;
            rc_status st = rc_idx_read_images(path_in("flip.gz"), &x, &err);
            if (st != RC_ERR_DATA || !strstr(err.msg, "gzip")) {
                print_error("flip of bit %d at byte %zu of %zu: %s: %s\n", bit, pos, z.n, rc_status_str(st),
                            err.msg);
                fail();
            }
            assert_null(x.data);
            checked++;
        }
    }
    assert_true(checked > 100);
    printf("gzip of %zu bytes: %d bit flips all caught\n", z.n, checked);
    /* The message says what zlib found, e.g. a CRC mismatch for a flipped
     * CRC byte. */
    z.p[z.n - 6] ^= 1;
    write_raw(path_in("flip.gz"), z.p, z.n);
    const char *m = images_fail(path_in("flip.gz"), RC_ERR_DATA);
    assert_contains(m, "corrupt gzip stream: the CRC-32 of the data does not match the gzip trailer");
    assert_contains(m, "after 78416 bytes of decompressed data");
    z.p[z.n - 6] ^= 1;
    z.p[z.n - 2] ^= 1; /* ISIZE, the length mod 2^32 */
    write_raw(path_in("flip.gz"), z.p, z.n);
    m = images_fail(path_in("flip.gz"), RC_ERR_DATA);
    assert_contains(m, "corrupt gzip stream: the data length does not match the gzip trailer");

    /* A damaged stream is named as the cause even when the IDX header it
     * yields is already wrong (here: really wrong, the trailer damaged). */
    f.p[1] = 0x77; /* magic 0x00770803 */
    write_gz(path_in("both.gz"), f.p, f.n);
    bytes w = slurp(path_in("both.gz"));
    assert_contains(images_fail(path_in("both.gz"), RC_ERR_DATA), "bad magic 0x00770803");
    w.p[w.n - 7] ^= 0x40;
    write_raw(path_in("both.gz"), w.p, w.n);
    assert_contains(images_fail(path_in("both.gz"), RC_ERR_DATA), "corrupt gzip stream: the CRC-32");
    free(w.p);
    free(z.p);
    free(f.p);
    free(d);
}

/* ---- labels ------------------------------------------------------------- */

static void test_label_range(void **state)
{
    (void)state;
    uint8_t lab[8] = { 0, 1, 9, 3, 4, 12, 5, 200 };
    bytes f = labels_file(8, lab);
    write_raw(path_in("labels"), f.p, f.n);
    const char *m = labels_fail(path_in("labels"), 10, RC_ERR_DATA);
    assert_contains(m, "labels: value 12 at index 5 is not a class (expected < 10); 2 of 8 labels out of range");
    m = labels_fail(path_in("labels"), 5, RC_ERR_DATA);
    assert_contains(m, "value 9 at index 2 is not a class (expected < 5)");
    /* The bound itself is out. */
    uint8_t edge[3] = { 0, 9, 10 };
    bytes e = labels_file(3, edge);
    write_gz(path_in("labels-edge.gz"), e.p, e.n);
    assert_contains(labels_fail(path_in("labels-edge.gz"), 10, RC_ERR_DATA), "value 10 at index 2 is not a class");
    free(e.p);
    rc_idx x;
    rc_err err = { "" };
    assert_int_equal(rc_idx_read_labels(path_in("labels"), 256, &x, &err), RC_OK);
    assert_memory_equal(x.data, lab, 8);
    rc_idx_free(&x);
    free(f.p);
}

/* ---- sets and missing files --------------------------------------------- */

static void make_folder(const char *name)
{
    assert_int_equal(mkdir(path_in(name), 0777), 0);
}

static void test_read_set(void **state)
{
    (void)state;
    make_folder("set");
    uint8_t *d = pattern_images(6, 3, 2, 0);
    uint8_t lab[6] = { 3, 1, 4, 1, 5, 9 };
    bytes im = images_file(6, 3, 2, d), lb = labels_file(6, lab);
    /* Mixed: gzip images, raw labels. */
    write_gz(path_in("set/train-images-idx3-ubyte.gz"), im.p, im.n);
    write_raw(path_in("set/train-labels-idx1-ubyte"), lb.p, lb.n);
    /* A stale raw images file with another count: the .gz must win. */
    bytes stale = images_file(5, 3, 2, d);
    write_raw(path_in("set/train-images-idx3-ubyte"), stale.p, stale.n);
    rc_idx x, y;
    rc_err err = { "" };
    assert_int_equal(rc_idx_read_set(path_in("set"), "train", 10, &x, &y, &err), RC_OK);
    check_images(&x, 6, 3, 2, d);
    assert_int_equal(y.count, 6);
    assert_memory_equal(y.data, lab, 6);
    rc_idx_free(&x);
    rc_idx_free(&y);

    /* Count mismatch: both files named, both counts given. */
    write_raw(path_in("set/t10k-images-idx3-ubyte"), stale.p, stale.n);
    write_gz(path_in("set/t10k-labels-idx1-ubyte.gz"), lb.p, lb.n);
    rc_idx g1 = { 1, 1, 1, (uint8_t *)&x }, g2 = g1;
    assert_int_equal(rc_idx_read_set(path_in("set"), "t10k", 10, &g1, &g2, &err), RC_ERR_DATA);
    assert_contains(err.msg, "set/t10k-images-idx3-ubyte: 5 images but 6 labels in ");
    assert_contains(err.msg, "set/t10k-labels-idx1-ubyte.gz");
    assert_null(g1.data);
    assert_null(g2.data);

    /* A bad label inside a set names the labels file. */
    assert_int_equal(rc_idx_read_set(path_in("set"), "train", 5, &x, &y, &err), RC_ERR_DATA);
    assert_contains(err.msg, "set/train-labels-idx1-ubyte: value 5 at index 4");
    assert_null(x.data);

    /* Missing labels, missing prefix, missing folder. */
    assert_int_equal(rc_idx_read_set(path_in("set"), "valid", 10, &x, &y, &err), RC_ERR_IO);
    assert_contains(err.msg, path_in("set/valid-images-idx3-ubyte.gz"));
    assert_contains(err.msg, "no such file (nor ");
    assert_contains(err.msg, path_in("set/valid-images-idx3-ubyte)"));
    make_folder("set2");
    write_raw(path_in("set2/train-images-idx3-ubyte"), im.p, im.n);
    assert_int_equal(rc_idx_read_set(path_in("set2"), "train", 10, &x, &y, &err), RC_ERR_IO);
    assert_contains(err.msg, path_in("set2/train-labels-idx1-ubyte.gz"));
    assert_null(x.data);
    assert_int_equal(rc_idx_read_set(path_in("nowhere"), "train", 10, &x, &y, &err), RC_ERR_IO);
    assert_contains(err.msg, path_in("nowhere/train-images-idx3-ubyte.gz"));
    assert_contains(err.msg, "the folder does not exist");
    free(im.p);
    free(lb.p);
    free(stale.p);
    free(d);
}

static void test_missing_file(void **state)
{
    (void)state;
    const char *m = images_fail(path_in("no-such-file.gz"), RC_ERR_IO);
    assert_contains(m, "cannot open: No such file or directory");
    m = labels_fail(path_in("no-such-labels"), 10, RC_ERR_IO);
    assert_contains(m, "cannot open");
    make_folder("a-folder");
    assert_contains(images_fail(path_in("a-folder"), RC_ERR_IO), "is a folder, not a file");
}

/* ---- the real MNIST ----------------------------------------------------- */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* What an independent reader (zlib's gzread) makes of the file must be
 * exactly header + data as rc_idx holds them. */
static void check_with_gzread(const char *path, const rc_idx *x, int images)
{
    size_t hdr = images ? 16 : 8, n = (size_t)x->count * (images ? (size_t)x->rows * x->cols : 1);
    uint8_t *buf = malloc(hdr + n + 1);
    assert_non_null(buf);
    gzFile g = gzopen(path, "rb");
    assert_non_null(g);
    gzbuffer(g, 1 << 20);
    size_t got = 0;
    int r;
    while ((r = gzread(g, buf + got, (unsigned)(hdr + n + 1 - got))) > 0) got += (size_t)r;
    assert_int_equal(r, 0);
    gzclose(g);
    assert_int_equal(got, hdr + n);
    assert_int_equal(buf[2], 0x08);
    assert_int_equal(buf[3], images ? 3 : 1);
    assert_memory_equal(buf + hdr, x->data, n);
    free(buf);
}

static void test_mnist(void **state)
{
    (void)state;
    const char *dir = "../shared/data/mnist";
    if (access("../shared/data/mnist/train-labels-idx1-ubyte.gz", R_OK) != 0) {
        printf("MNIST not found: skipped\n");
        skip();
    }
    static const uint32_t hist_train[10] = { 5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949 };
    static const uint32_t hist_t10k[10] = { 980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009 };
    static const uint8_t first_train[10] = { 5, 0, 4, 1, 9, 2, 1, 3, 1, 4 };
    static const uint8_t first_t10k[10] = { 7, 2, 1, 0, 4, 1, 4, 9, 5, 9 };
    struct {
        const char *prefix;
        uint32_t n;
        const uint32_t *hist;
        const uint8_t *first;
    } sets[] = { { "train", 60000, hist_train, first_train }, { "t10k", 10000, hist_t10k, first_t10k } };
    for (int k = 0; k < 2; k++) {
        rc_idx im, lb;
        rc_err err = { "" };
        double t0 = now_s();
        rc_status st = rc_idx_read_set(dir, sets[k].prefix, 10, &im, &lb, &err);
        double t = now_s() - t0;
        if (st) print_error("%s\n", err.msg);
        assert_int_equal(st, RC_OK);
        printf("MNIST %s: %u images of %ux%u read in %.3f s\n", sets[k].prefix, im.count, im.rows, im.cols, t);
        assert_int_equal(im.count, sets[k].n);
        assert_int_equal(lb.count, sets[k].n);
        assert_int_equal(im.rows, 28);
        assert_int_equal(im.cols, 28);
        uint32_t h[10] = { 0 };
        for (uint32_t i = 0; i < lb.count; i++) h[lb.data[i]]++;
        for (int c = 0; c < 10; c++) assert_int_equal(h[c], sets[k].hist[c]);
        assert_memory_equal(lb.data, sets[k].first, 10);
        /* Pixels: a digit is dark ink on a blank border. */
        uint8_t mx = 0;
        for (size_t i = 0; i < (size_t)im.count * 784; i++) mx = im.data[i] > mx ? im.data[i] : mx;
        assert_int_equal(mx, 255);
        assert_int_equal(im.data[0], 0);
        char p[256];
        snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte.gz", dir, sets[k].prefix);
        check_with_gzread(p, &im, 1);
        snprintf(p, sizeof p, "%s/%s-labels-idx1-ubyte.gz", dir, sets[k].prefix);
        check_with_gzread(p, &lb, 0);
        rc_idx_free(&im);
        rc_idx_free(&lb);
    }
}

/* ---- fixtures ----------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    strcpy(g_dir, "/tmp/rcsim_idx_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_images_raw_and_gz),
        cmocka_unit_test(test_big_random),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_gzip_members),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_wrong_type_and_dims),
        cmocka_unit_test(test_bad_sizes),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_huge_claim_small_file),
        cmocka_unit_test(test_trailing),
        cmocka_unit_test(test_gzip_cut),
        cmocka_unit_test(test_gzip_flipped_byte),
        cmocka_unit_test(test_label_range),
        cmocka_unit_test(test_read_set),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_mnist),
    };
    return cmocka_run_group_tests_name("idx", tests, setup, teardown);
}
