/* h5guard.c — superblock validation and the whole-file CRC-32 trailer (see
 * h5guard.h). Reads with plain POSIX calls: nothing here touches libhdf5, so
 * a file refused here never reached it. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "io/h5guard.h"

static const unsigned char rc_h5_sig[8] = { 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n' };
static const char rc_h5_trailer_magic[8] = { 'R', 'C', 'S', 'I', 'M', 'C', 'R', 'C' };

/* ---- Jenkins lookup3 (hashlittle), byte-wise as in HDF5's H5checksum.c -- */

#define ROT(x, k) (((x) << (k)) ^ ((x) >> (32 - (k))))
#define MIX(a, b, c)                                                  \
    do {                                                              \
        a -= c; a ^= ROT(c, 4);  c += b;                              \
        b -= a; b ^= ROT(a, 6);  a += c;                              \
        c -= b; c ^= ROT(b, 8);  b += a;                              \
        a -= c; a ^= ROT(c, 16); c += b;                              \
        b -= a; b ^= ROT(a, 19); a += c;                              \
        c -= b; c ^= ROT(b, 4);  b += a;                              \
    } while (0)
#define FINAL(a, b, c)                                                \
    do {                                                              \
        c ^= b; c -= ROT(b, 14); a ^= c; a -= ROT(c, 11);             \
        b ^= a; b -= ROT(a, 25); c ^= b; c -= ROT(b, 16);             \
        a ^= c; a -= ROT(c, 4);  b ^= a; b -= ROT(a, 14);             \
        c ^= b; c -= ROT(b, 24);                                      \
    } while (0)

static uint32_t le32(const unsigned char *k)
{
    return (uint32_t)k[0] | (uint32_t)k[1] << 8 | (uint32_t)k[2] << 16 | (uint32_t)k[3] << 24;
}

uint32_t rc_h5_lookup3(const void *key, size_t len, uint32_t initval)
{
    const unsigned char *k = key;
    uint32_t a, b, c;
    a = b = c = 0xdeadbeefu + (uint32_t)len + initval;
    while (len > 12) {
        a += le32(k);
        b += le32(k + 4);
        c += le32(k + 8);
        MIX(a, b, c);
        len -= 12;
        k += 12;
    }
    if (len == 0) return c;
    unsigned char tail[12] = { 0 }; /* the last 1..12 bytes, zero-padded */
    memcpy(tail, k, len);
    a += le32(tail);
    b += le32(tail + 4);
    c += le32(tail + 8);
    FINAL(a, b, c);
    return c;
}

/* ---- helpers ------------------------------------------------------------ */

static uint64_t le_n(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* Reads exactly n bytes at off; 0 on success, else -1 (errno, or 0 = short). */
static int read_at(int fd, void *buf, size_t n, off_t off)
{
    unsigned char *b = buf;
    while (n) {
        ssize_t r = pread(fd, b, n, off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (r == 0) errno = 0;
            return -1;
        }
        b += r;
        n -= (size_t)r;
        off += r;
    }
    return 0;
}

/* zlib CRC-32 of the first n bytes of fd. */
static int crc_of(int fd, uint64_t n, uint32_t *out)
{
    enum { CHUNK = 1 << 16 };
    unsigned char *buf = malloc(CHUNK);
    if (!buf) return -1;
    uLong c = crc32(0L, Z_NULL, 0);
    uint64_t off = 0;
    int rc = 0;
    while (off < n) {
        size_t k = n - off > CHUNK ? CHUNK : (size_t)(n - off);
        if (read_at(fd, buf, k, (off_t)off) != 0) { rc = -1; break; }
        c = crc32(c, buf, (uInt)k);
        off += k;
    }
    free(buf);
    *out = (uint32_t)c;
    return rc;
}

/* ---- the superblock ----------------------------------------------------- */

typedef struct {
    const char *path, *what;
    uint64_t size;   /* the file's real size (without an rcsim trailer) */
    rc_h5_origin origin;
} guard_ctx;

/* Superblock at off (its signature already matched): version, sizes,
 * checksum (v2/v3), end-of-file address. */
static rc_status check_superblock(const guard_ctx *g, int fd, uint64_t off, rc_err *err)
{
    unsigned char sb[256]; /* v0/v1 with 8-byte offsets: < 100 bytes before the root entry */
    uint64_t avail = g->size - off;
    size_t n = avail < sizeof sb ? (size_t)avail : sizeof sb;
    if (n < 12 || read_at(fd, sb, n, (off_t)off) != 0)
        return rc_err_set(err, RC_ERR_DATA, "%s: not a valid %s: HDF5 superblock truncated", g->path, g->what);
    const int ver = sb[8];
    if (ver == 0 || ver == 1) {
        if (g->origin == RC_H5_OWN)
            return rc_err_set(err, RC_ERR_DATA, "%s: not a valid %s: HDF5 superblock version %d (the pre-1.8 format "
                              "without checksums), but rcsim writes version 2 or later; refused unread "
                              "(corrupt, altered or not written by rcsim)", g->path, g->what, ver);
    } else if (ver != 2 && ver != 3) {
        return rc_err_set(err, RC_ERR_DATA, "%s: not a valid %s: HDF5 superblock version %d, expected 0 to 3",
                          g->path, g->what, ver);
    }
    /* Where the sizes and the addresses are (H5Fsuper_cache.c's layout). */
    const int at_sizes = ver >= 2 ? 9 : 13, at_addr = ver >= 2 ? 12 : ver == 1 ? 28 : 24;
    const int so = sb[at_sizes], sl = sb[at_sizes + 1];
    if ((so != 2 && so != 4 && so != 8) || (sl != 2 && sl != 4 && sl != 8))
        return rc_err_set(err, RC_ERR_DATA, "%s: not a valid %s: HDF5 superblock gives %d-byte offsets and %d-byte "
                          "lengths, expected 2, 4 or 8", g->path, g->what, so, sl);
    if (ver < 2 && (sb[9] != 0 || sb[10] != 0 || sb[12] != 0))
        return rc_err_set(err, RC_ERR_DATA, "%s: not a valid %s: unknown HDF5 free-space, root-group or shared-header "
                          "version in the superblock (%d, %d, %d)", g->path, g->what, sb[9], sb[10], sb[12]);
    const size_t body = (size_t)at_addr + 4u * (size_t)so; /* up to the v2/v3 checksum */
    if (body + (ver >= 2 ? 4 : 0) > n)
        return rc_err_set(err, RC_ERR_DATA, "%s: not a valid %s: HDF5 superblock truncated", g->path, g->what);
    if (ver >= 2) {
        const uint32_t stored = le32(sb + body), have = rc_h5_lookup3(sb, body, 0);
        if (stored != have)
            return rc_err_set(err, RC_ERR_DATA, "%s: not a valid %s: HDF5 superblock checksum %08x, stored %08x "
                              "(corrupt)", g->path, g->what, (unsigned)have, (unsigned)stored);
    }
    /* base, then (v2+) extension, end of file / (v0/1) free space, end of file. */
    const uint64_t base = le_n(sb + at_addr, so), eof = le_n(sb + at_addr + 2 * so, so);
    const uint64_t undef = so == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * so)) - 1;
    /* HDF5 stores the end-of-file address as an absolute offset (the user
     * block included) and refuses size + base < eof, one user block too
     * lenient: refuse size < eof. An own file ends exactly there (HDF5
     * truncates to it on close; the trailer is already set apart). */
    if (eof == undef || base == undef || g->size < eof || base > g->size ||
        (g->origin == RC_H5_OWN && (base != 0 || g->size != eof)))
        return rc_err_set(err, RC_ERR_DATA, "%s: not a valid %s: HDF5 end-of-file address %llu (base %llu) but the "
                          "file has %llu bytes (truncated?)", g->path, g->what, (unsigned long long)eof,
                          (unsigned long long)base, (unsigned long long)g->size);
    return RC_OK;
}

/* The rcsim trailer of an own file, if there is one (*stored, and *covered =
 * the bytes before it; the whole file, *has = 0, when there is none). */
static rc_status find_trailer(const guard_ctx *g, int fd, uint64_t fsize, uint64_t *covered, uint32_t *stored,
                              int *has, rc_err *err)
{
    *covered = fsize;
    *has = 0;
    unsigned char t[RC_H5_TRAILER_SIZE];
    if (fsize < RC_H5_TRAILER_SIZE || read_at(fd, t, sizeof t, (off_t)(fsize - sizeof t)) != 0 ||
        memcmp(t, rc_h5_trailer_magic, 8) != 0)
        return RC_OK; /* written before the trailer existed */
    const uint64_t len = le_n(t + 8, 8);
    const uint32_t version = le32(t + 20);
    if (version != 1 || len != fsize - RC_H5_TRAILER_SIZE)
        return rc_err_set(err, RC_ERR_DATA, "%s: not a valid %s: its rcsim checksum trailer (version %u) covers %llu "
                          "bytes, but %llu precede it (truncated or altered)", g->path, g->what, (unsigned)version,
                          (unsigned long long)len, (unsigned long long)(fsize - RC_H5_TRAILER_SIZE));
    *stored = le32(t + 16);
    *covered = len;
    *has = 1;
    return RC_OK;
}

rc_status rc_h5guard_check(const char *path, rc_h5_origin origin, const char *what, int *crc_bad, rc_err *err)
{
    int has = 0;
    uint32_t stored = 0;
    if (crc_bad) *crc_bad = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return rc_err_set(err, errno == ENOENT ? RC_ERR_DATA : RC_ERR_IO, "%s: cannot open %s: %s", path,
                                  what, strerror(errno));
    struct stat sb;
    rc_status st = RC_OK;
    guard_ctx g = { path, what, 0, origin };
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = rc_err_set(err, RC_ERR_DATA, "%s: cannot open %s: not a regular file", path, what);
        goto out;
    }
    g.size = (uint64_t)sb.st_size;
    if (origin == RC_H5_OWN && (st = find_trailer(&g, fd, g.size, &g.size, &stored, &has, err))) goto out;
    /* The signature: at 0, or (foreign files with a user block) at 512,
     * 1024, 2048, ... as HDF5 searches. rcsim never writes a user block. */
    uint64_t off = 0;
    for (;;) {
        unsigned char s[8];
        if (off + 8 <= g.size && read_at(fd, s, 8, (off_t)off) == 0 && !memcmp(s, rc_h5_sig, 8)) break;
        off = off ? off * 2 : 512;
        if (origin == RC_H5_OWN || off + 8 > g.size) {
            st = rc_err_set(err, RC_ERR_DATA, "%s: not a valid %s: no HDF5 signature %s", path, what,
                            origin == RC_H5_OWN ? "at its start" : "at 0 or any user-block size");
            goto out;
        }
    }
    st = check_superblock(&g, fd, off, err);
    /* Last, the whole-file CRC-32: everything above holds, so a mismatch is
     * damage inside the file (the caller may want to say where). */
    uint32_t have = 0;
    if (!st && has && crc_of(fd, g.size, &have) != 0)
        st = rc_err_set(err, RC_ERR_IO, "%s: cannot read the %s: %s", path, what,
                        errno ? strerror(errno) : "file shrank while read");
    else if (!st && has && have != stored) {
        st = rc_err_set(err, RC_ERR_DATA, "%s: not a valid %s: whole-file CRC-32 %08x, stored %08x (corrupt)",
                        path, what, (unsigned)have, (unsigned)stored);
        if (crc_bad) *crc_bad = 1;
    }
out:
    close(fd);
    return st;
}

rc_status rc_h5guard_seal(const char *path, rc_err *err)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return rc_err_set(err, RC_ERR_IO, "%s: cannot reopen to checksum it: %s", path, strerror(errno));
    struct stat sb;
    uint32_t crc = 0;
    rc_status st = RC_OK;
    if (fstat(fd, &sb) != 0 || crc_of(fd, (uint64_t)sb.st_size, &crc) != 0) {
        st = rc_err_set(err, RC_ERR_IO, "%s: cannot read back to checksum it: %s", path,
                        errno ? strerror(errno) : "file shrank while read");
        goto out;
    }
    unsigned char t[RC_H5_TRAILER_SIZE];
    const uint64_t len = (uint64_t)sb.st_size;
    memcpy(t, rc_h5_trailer_magic, 8);
    for (int i = 0; i < 8; i++) t[8 + i] = (unsigned char)(len >> (8 * i));
    for (int i = 0; i < 4; i++) t[16 + i] = (unsigned char)(crc >> (8 * i)), t[20 + i] = (unsigned char)(i == 0);
    size_t done = 0;
    while (done < sizeof t) {
        ssize_t w = pwrite(fd, t + done, sizeof t - done, (off_t)(len + done));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            st = rc_err_set(err, RC_ERR_IO, "%s: cannot append its checksum: %s", path,
                            w < 0 ? strerror(errno) : "nothing written");
            goto out;
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0) st = rc_err_set(err, RC_ERR_IO, "%s: cannot flush to disk: %s", path, strerror(errno));
out:
    if (close(fd) != 0 && !st) st = rc_err_set(err, RC_ERR_IO, "%s: cannot close: %s", path, strerror(errno));
    return st;
}
