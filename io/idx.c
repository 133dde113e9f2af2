/* idx.c — reads MNIST-style IDX files (raw or gzip) into memory, strictly.
 *
 * Why strict: a dataset file that is cut short, padded, mislabelled or a
 * damaged download must stop a run with a message saying which file and what
 * is wrong, not train quietly on zeros or garbage. So every header field is
 * checked, the data must fill exactly what the header promises (no more, no
 * less), and gzip files are always inflated to their very end so that zlib
 * verifies the CRC-32 and length in the gzip trailer.
 *
 * Gzip is detected by its magic bytes (1f 8b), not by the name: browsers often
 * save an already-decompressed MNIST download under its ".gz" name, and such a
 * file reads fine as raw IDX. Inflation uses zlib's inflate directly (not
 * gzread) so that a truncated or corrupt stream is an error we can name,
 * never a silent short read. Input is read in 1 MiB chunks and inflated
 * straight into the destination buffer (the 47 MB MNIST training images take
 * a fraction of a second). Concatenated gzip members are accepted (gzip(1)
 * does); anything else after the gzip stream is an error.
 *
 * When a header check fails in a gzip file, the rest of the stream is inflated
 * first: if the stream is corrupt, that (the root cause) is what gets
 * reported, rather than, say, a "bad magic" that corruption produced. */
#include "io/idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zlib.h>

enum {
    IDX_IN_CHUNK = 1 << 20,     /* compressed input read per fread           */
    IDX_SCRATCH = 1 << 16,      /* for counting bytes after the data          */
    IDX_MAX_SIDE = 65535,       /* rows / cols above this are not images      */
    IDX_TYPE_UBYTE = 0x08,
};
#define IDX_MAX_BYTES (UINT64_C(1) << 31) /* one array of at most 2 GiB */

/* A byte source over one open file: raw bytes or an inflated gzip stream.
 * In both modes zs.next_in / zs.avail_in hold input read but not consumed
 * yet (the raw mode only uses it for the bytes peeked to detect gzip). */
typedef struct {
    const char *path;
    FILE *f;
    int gz;              /* inflating, else raw                            */
    int z_ready;         /* inflateInit2 done: inflateEnd needed           */
    int z_done;          /* last gzip member ended exactly at end of file  */
    int in_eof;          /* fread hit end of file                          */
    z_stream zs;
    unsigned char *in;   /* in_cap bytes                                   */
    size_t in_cap;       /* IDX_IN_CHUNK, or less for a small regular file */
    unsigned long long out_total; /* bytes delivered so far (decompressed) */
} idx_src;

/* Reads more input until at least `want` unconsumed bytes are buffered or the
 * file ends. */
static rc_status src_fill(idx_src *s, size_t want, rc_err *err)
{
    RC_ASSERT(want <= s->in_cap);
    if (s->zs.avail_in >= want || s->in_eof) return RC_OK;
    if (s->zs.avail_in > 0 && s->zs.next_in != s->in)
        memmove(s->in, s->zs.next_in, s->zs.avail_in);
    s->zs.next_in = s->in;
    while (s->zs.avail_in < want && !s->in_eof) {
        size_t r = fread(s->in + s->zs.avail_in, 1, s->in_cap - s->zs.avail_in, s->f);
        s->zs.avail_in += (uInt)r;
        if (r == 0) {
            if (ferror(s->f)) return rc_err_set(err, RC_ERR_IO, "%s: read error: %s", s->path, strerror(errno));
            s->in_eof = 1;
        }
    }
    return RC_OK;
}

/* Counts the bytes left in the file (buffered and unread), for messages. */
static rc_status src_count_rest(idx_src *s, unsigned long long *n, rc_err *err)
{
    *n = s->zs.avail_in;
    s->zs.avail_in = 0;
    while (!s->in_eof) {
        size_t r = fread(s->in, 1, s->in_cap, s->f);
        *n += r;
        if (r == 0) {
            if (ferror(s->f)) return rc_err_set(err, RC_ERR_IO, "%s: read error: %s", s->path, strerror(errno));
            s->in_eof = 1;
        }
    }
    return RC_OK;
}

static rc_status src_open(idx_src *s, const char *path, rc_err *err)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    s->f = fopen(path, "rb");
    if (!s->f) return rc_err_set(err, RC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    /* fopen succeeds on a folder on Linux; say so rather than "read error". */
    struct stat st;
    const int have_st = fstat(fileno(s->f), &st) == 0;
    if (have_st && S_ISDIR(st.st_mode))
        return rc_err_set(err, RC_ERR_IO, "%s: is a folder, not a file", path);
    /* A small file needs no 1 MiB buffer (the size is a hint: reads still stop at EOF). */
    s->in_cap = IDX_IN_CHUNK;
    if (have_st && S_ISREG(st.st_mode) && st.st_size + 64 < IDX_IN_CHUNK) s->in_cap = (size_t)st.st_size + 64;
    s->in = malloc(s->in_cap);
    if (!s->in) return rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory for the read buffer", path);
    s->zs.next_in = s->in;
    rc_status st2 = src_fill(s, 2, err);
    if (st2) return st2;
    if (s->zs.avail_in >= 2 && s->in[0] == 0x1f && s->in[1] == 0x8b) {
        Bytef *next = s->zs.next_in;
        uInt avail = s->zs.avail_in;
        /* 15 + 16: 32 KiB window, gzip wrapper (header, CRC-32, length). */
        int zr = inflateInit2(&s->zs, 15 + 16);
        if (zr == Z_MEM_ERROR) return rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory for zlib", path);
        RC_ASSERT(zr == Z_OK);
        s->zs.next_in = next;
        s->zs.avail_in = avail;
        s->gz = s->z_ready = 1;
    }
    return RC_OK;
}

static void src_close(idx_src *s)
{
    if (s->z_ready) inflateEnd(&s->zs);
    if (s->f) fclose(s->f);
    free(s->in);
    memset(s, 0, sizeof *s);
}

static rc_status gz_corrupt(idx_src *s, const char *what, rc_err *err)
{
    return rc_err_set(err, RC_ERR_DATA,
                      "%s: corrupt gzip stream: %s, after %llu bytes of decompressed data "
                      "(damaged or incomplete download?)",
                      s->path, what, s->out_total);
}

/* Inflates up to n bytes into dst; *got < n only at the clean end of the
 * gzip data. */
static rc_status src_read_gz(idx_src *s, uint8_t *dst, size_t n, size_t *got, rc_err *err)
{
    size_t done = 0;
    rc_status st;
    while (done < n && !s->z_done) {
        if (s->zs.avail_in == 0) {
            if ((st = src_fill(s, 1, err))) return st;
            if (s->zs.avail_in == 0)
                return gz_corrupt(s, "the compressed data ends before the gzip end marker (file cut short?)", err);
        }
        size_t want = n - done;
        if (want > (1u << 30)) want = 1u << 30; /* avail_out is a uInt */
        s->zs.next_out = dst + done;
        s->zs.avail_out = (uInt)want;
        int zr = inflate(&s->zs, Z_NO_FLUSH);
        size_t made = want - s->zs.avail_out;
        done += made;
        s->out_total += made;
        switch (zr) {
        case Z_OK:
            break;
        case Z_BUF_ERROR: /* no progress: input used up; the loop refills it */
            RC_ASSERT(s->zs.avail_in == 0);
            break;
        case Z_STREAM_END: {
            /* The trailer checked out. Another member may follow (gzip allows
             * concatenation); anything else after the stream is an error. */
            if ((st = src_fill(s, 2, err))) return st;
            if (s->zs.avail_in == 0) {
                s->z_done = 1;
            } else if (s->zs.avail_in >= 2 && s->zs.next_in[0] == 0x1f && s->zs.next_in[1] == 0x8b) {
                int zr2 = inflateReset(&s->zs);
                RC_ASSERT(zr2 == Z_OK);
            } else {
                unsigned long long extra;
                if ((st = src_count_rest(s, &extra, err))) return st;
                return rc_err_set(err, RC_ERR_DATA, "%s: %llu bytes of garbage after the end of the gzip stream",
                                  s->path, extra);
            }
            break;
        }
        case Z_MEM_ERROR:
            return rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory in zlib", s->path);
        case Z_DATA_ERROR:
        case Z_NEED_DICT:
            /* zs.msg: e.g. "invalid distance too far back", "incorrect data
             * check" (CRC-32 mismatch), "incorrect length check". */
            if (s->zs.msg && !strcmp(s->zs.msg, "incorrect data check"))
                return gz_corrupt(s, "the CRC-32 of the data does not match the gzip trailer", err);
            if (s->zs.msg && !strcmp(s->zs.msg, "incorrect length check"))
                return gz_corrupt(s, "the data length does not match the gzip trailer", err);
            return gz_corrupt(s, s->zs.msg ? s->zs.msg : "invalid deflate data", err);
        default: /* Z_STREAM_ERROR: our z_stream is broken, a programming error */
            RC_ASSERT(!"inflate: inconsistent stream state");
        }
    }
    *got = done;
    return RC_OK;
}

/* Reads up to n bytes into dst; *got < n only at the end of the data. */
static rc_status src_read(idx_src *s, uint8_t *dst, size_t n, size_t *got, rc_err *err)
{
    if (s->gz) return src_read_gz(s, dst, n, got, err);
    size_t done = 0;
    while (done < n) {
        if (s->zs.avail_in > 0) { /* the bytes peeked by src_open */
            size_t k = s->zs.avail_in < n - done ? s->zs.avail_in : n - done;
            memcpy(dst + done, s->zs.next_in, k);
            s->zs.next_in += k;
            s->zs.avail_in -= (uInt)k;
            done += k;
            continue;
        }
        if (s->in_eof) break;
        size_t r = fread(dst + done, 1, n - done, s->f);
        done += r;
        if (r == 0) {
            if (ferror(s->f)) return rc_err_set(err, RC_ERR_IO, "%s: read error: %s", s->path, strerror(errno));
            s->in_eof = 1;
        }
    }
    s->out_total += done;
    *got = done;
    return RC_OK;
}

/* Reads to the end of the data, counting the bytes; for a gzip file this
 * also makes zlib check the trailer of the last member. */
static rc_status src_drain(idx_src *s, unsigned long long *extra, rc_err *err)
{
    uint8_t scratch[IDX_SCRATCH];
    *extra = 0;
    for (;;) {
        size_t got;
        rc_status st = src_read(s, scratch, sizeof scratch, &got, err);
        if (st) return st;
        *extra += got;
        if (got < sizeof scratch) return RC_OK;
    }
}

/* Called with a format error already in err: in a gzip file, a corrupt
 * stream is the likelier cause, so check the rest of it and report that
 * instead when it is bad. */
static rc_status src_blame(idx_src *s, rc_status st, rc_err *err)
{
    if (!s->gz) return st;
    rc_err e2;
    unsigned long long extra;
    rc_status st2 = src_drain(s, &extra, &e2);
    if (st2 == RC_OK) return st;
    if (err) memcpy(err->msg, e2.msg, sizeof err->msg);
    return st2;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *idx_type_name(unsigned t)
{
    switch (t) {
    case 0x08: return "unsigned bytes";
    case 0x09: return "signed bytes";
    case 0x0b: return "16-bit integers";
    case 0x0c: return "32-bit integers";
    case 0x0d: return "32-bit floats";
    case 0x0e: return "64-bit doubles";
    }
    return "not an IDX type";
}

/* A hint for the usual reasons a file does not start with an IDX magic. */
static const char *bad_magic_hint(const uint8_t *m, int gz)
{
    if (m[0] == 0x1f && m[1] == 0x8b) return " (gzip data inside gzip: compressed twice?)";
    int text = 1;
    for (int i = 0; i < 4; i++)
        if (m[i] < 0x20 || m[i] > 0x7e) text = 0;
    if (text) return " (looks like text: an error page saved instead of the download?)";
    return gz ? "" : " (not gzip data either)";
}

/* Reads the `total` bytes the header promises into a malloc'd *data; *got <
 * total when the data ends first. The buffer grows (doubling from 64 KiB)
 * with what actually arrives, so a header that claims 2 GiB in a 116-byte
 * file (or in a small gzip stream) is "truncated", never a 2 GiB allocation. */
static rc_status read_data(idx_src *s, uint64_t total, uint8_t **data, size_t *got, const char *what, rc_err *err)
{
    size_t cap = total < IDX_SCRATCH ? (size_t)total : IDX_SCRATCH, have = 0;
    uint8_t *buf = NULL;
    for (;;) {
        uint8_t *nb = realloc(buf, cap);
        if (!nb) {
            free(buf);
            return rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory for %zu of the %llu bytes of %s", s->path, cap,
                              (unsigned long long)total, what);
        }
        buf = nb;
        size_t n;
        rc_status st = src_read(s, buf + have, cap - have, &n, err);
        if (st) {
            free(buf);
            return st;
        }
        have += n;
        if (have < cap || cap == total) break; /* the data ended, or all of it is here */
        cap = total - cap < cap ? (size_t)total : 2 * cap;
    }
    *data = buf;
    *got = have;
    return RC_OK;
}

/* Reads one IDX file of unsigned bytes with `ndims` dimensions (3: images,
 * 1: labels). On failure *out stays empty. */
static rc_status idx_read(const char *path, unsigned ndims, rc_idx *out, rc_err *err)
{
    RC_ASSERT(ndims == 1 || ndims == 3);
    const char *what = ndims == 3 ? "images" : "labels";
    const uint32_t want_magic = (uint32_t)IDX_TYPE_UBYTE << 8 | ndims;
    idx_src s;
    rc_status st = src_open(&s, path, err);
    if (st) goto done;
    const char *dz = s.gz ? " after decompression" : "";

    /* Magic: 00 00, data type, number of dimensions. */
    uint8_t hdr[16];
    size_t got;
    if ((st = src_read(&s, hdr, 4, &got, err))) goto done;
    if (got < 4) {
        st = got == 0 ? rc_err_set(err, RC_ERR_DATA, "%s: empty file%s, expected IDX %s", path, dz, what)
                      : rc_err_set(err, RC_ERR_DATA, "%s: truncated: %zu bytes%s, too short for an IDX header",
                                   path, got, dz);
        st = src_blame(&s, st, err);
        goto done;
    }
    uint32_t magic = be32(hdr);
    if (magic >> 16 != 0) {
        st = rc_err_set(err, RC_ERR_DATA, "%s: bad magic 0x%08x, expected 0x%08x (IDX %s, unsigned bytes)%s",
                        path, magic, want_magic, what, bad_magic_hint(hdr, s.gz));
        st = src_blame(&s, st, err);
        goto done;
    }
    unsigned type = magic >> 8 & 0xff, dims = magic & 0xff;
    if (type != IDX_TYPE_UBYTE) {
        st = rc_err_set(err, RC_ERR_DATA, "%s: magic 0x%08x has data type 0x%02x (%s), expected 0x%02x (unsigned bytes)",
                        path, magic, type, idx_type_name(type), IDX_TYPE_UBYTE);
        st = src_blame(&s, st, err);
        goto done;
    }
    if (dims != ndims) {
        st = rc_err_set(err, RC_ERR_DATA, "%s: magic 0x%08x says %u dimension%s, expected %u (IDX %s: %s)%s", path,
                        magic, dims, dims == 1 ? "" : "s", ndims, what,
                        ndims == 3 ? "count, rows, cols" : "count",
                        dims == 1 ? "; is this a labels file?" : dims == 3 ? "; is this an images file?" : "");
        st = src_blame(&s, st, err);
        goto done;
    }

    /* Sizes. */
    if ((st = src_read(&s, hdr + 4, 4 * ndims, &got, err))) goto done;
    if (got < 4 * ndims) {
        st = rc_err_set(err, RC_ERR_DATA, "%s: truncated: the header needs %u bytes, found %zu%s", path,
                        4 + 4 * ndims, 4 + got, dz);
        st = src_blame(&s, st, err);
        goto done;
    }
    uint32_t count = be32(hdr + 4);
    uint32_t rows = ndims == 3 ? be32(hdr + 8) : 0, cols = ndims == 3 ? be32(hdr + 12) : 0;
    char says[96]; /* "60000 images of 28x28" / "60000 labels", for messages */
    if (ndims == 3) snprintf(says, sizeof says, "%u images of %ux%u", count, rows, cols);
    else snprintf(says, sizeof says, "%u labels", count);
    if (count == 0) {
        st = rc_err_set(err, RC_ERR_DATA, "%s: header says 0 %s (count must be at least 1)", path, what);
        st = src_blame(&s, st, err);
        goto done;
    }
    if (ndims == 3 && (rows == 0 || cols == 0 || rows > IDX_MAX_SIDE || cols > IDX_MAX_SIDE)) {
        st = rc_err_set(err, RC_ERR_DATA, "%s: header says %s, expected 1 to %d rows and columns", path, says,
                        IDX_MAX_SIDE);
        st = src_blame(&s, st, err);
        goto done;
    }
    /* No overflow: count < 2^32 and rows, cols < 2^16. */
    uint64_t total = ndims == 3 ? (uint64_t)count * rows * cols : count;
    if (total > IDX_MAX_BYTES) {
        st = rc_err_set(err, RC_ERR_DATA, "%s: header says %s (%llu bytes), more than the %llu bytes (2 GiB) accepted",
                        path, says, (unsigned long long)total, (unsigned long long)IDX_MAX_BYTES);
        st = src_blame(&s, st, err);
        goto done;
    }

    /* The data, then nothing. */
    uint8_t *data = NULL;
    if ((st = read_data(&s, total, &data, &got, what, err))) goto fail_data;
    if (got < total) {
        /* src_read stopped at the clean end of the data (for gzip: the
         * trailer was checked), so this is the IDX content itself. */
        st = rc_err_set(err, RC_ERR_DATA, "%s: truncated: expected %llu bytes of data, found %zu%s (header says %s)",
                        path, (unsigned long long)total, got, dz, says);
        goto fail_data;
    }
    unsigned long long extra;
    if ((st = src_drain(&s, &extra, err))) goto fail_data;
    if (extra > 0) {
        st = rc_err_set(err, RC_ERR_DATA, "%s: %llu unexpected bytes after the data%s (header says %s = %llu bytes)",
                        path, extra, s.gz ? " in the decompressed stream" : "", says, (unsigned long long)total);
        goto fail_data;
    }
    out->count = count;
    out->rows = rows;
    out->cols = cols;
    out->data = data;
    goto done;

fail_data:
    free(data);
done:
    src_close(&s);
    return st;
}

rc_status rc_idx_read_images(const char *path, rc_idx *out, rc_err *err)
{
    RC_ASSERT(path && out);
    *out = (rc_idx){ 0 };
    return idx_read(path, 3, out, err);
}

rc_status rc_idx_read_labels(const char *path, uint32_t max_label, rc_idx *out, rc_err *err)
{
    RC_ASSERT(path && out);
    RC_ASSERT(max_label > 0); /* 0 would refuse every label: a caller bug */
    *out = (rc_idx){ 0 };
    rc_status st = idx_read(path, 1, out, err);
    if (st) return st;
    /* Report the first bad label (the one to look at) and how many in all. */
    uint32_t first = 0, nbad = 0;
    for (uint32_t i = 0; i < out->count; i++) {
        if (out->data[i] >= max_label) {
            if (nbad++ == 0) first = i;
        }
    }
    if (nbad > 0) {
        char more[64] = "";
        if (nbad > 1) snprintf(more, sizeof more, "; %u of %u labels out of range", nbad, out->count);
        st = rc_err_set(err, RC_ERR_DATA, "%s: value %u at index %u is not a class (expected < %u)%s", path,
                        out->data[first], first, max_label, more);
        rc_idx_free(out);
    }
    return st;
}

void rc_idx_free(rc_idx *x)
{
    if (!x) return;
    free(x->data);
    *x = (rc_idx){ 0 };
}

/* Picks <dir>/<prefix>-<kind>.gz, else <dir>/<prefix>-<kind>. *path is
 * malloc'd. When only one stat fails for another reason than ENOENT, that
 * path is still chosen so the open reports the real error. */
static rc_status idx_find(const char *dir, const char *prefix, const char *kind, char **path, rc_err *err)
{
    *path = NULL;
    size_t cap = strlen(dir) + strlen(prefix) + strlen(kind) + 8;
    char *gz = malloc(cap), *raw = malloc(cap);
    if (!gz || !raw) {
        free(gz);
        free(raw);
        return rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory", dir);
    }
    snprintf(raw, cap, "%s/%s-%s", dir, prefix, kind);
    snprintf(gz, cap, "%s.gz", raw);
    struct stat st;
    if (stat(gz, &st) == 0 || errno != ENOENT) {
        free(raw);
        *path = gz;
        return RC_OK;
    }
    if (stat(raw, &st) == 0 || errno != ENOENT) {
        free(gz);
        *path = raw;
        return RC_OK;
    }
    const char *no_dir = stat(dir, &st) != 0 ? " (the folder does not exist)" : "";
    rc_status s = rc_err_set(err, RC_ERR_IO, "%s: no such file (nor %s)%s", gz, raw, no_dir);
    free(gz);
    free(raw);
    return s;
}

rc_status rc_idx_read_set(const char *dir, const char *prefix, uint32_t max_label,
                          rc_idx *images, rc_idx *labels, rc_err *err)
{
    RC_ASSERT(dir && prefix && images && labels);
    *images = (rc_idx){ 0 };
    *labels = (rc_idx){ 0 };
    if (!*dir) dir = "."; /* "dir = " in a config means here, not "/" */
    char *ipath = NULL, *lpath = NULL;
    rc_status st;
    if ((st = idx_find(dir, prefix, "images-idx3-ubyte", &ipath, err))) goto done;
    if ((st = idx_find(dir, prefix, "labels-idx1-ubyte", &lpath, err))) goto done;
    if ((st = rc_idx_read_images(ipath, images, err))) goto done;
    if ((st = rc_idx_read_labels(lpath, max_label, labels, err))) goto done;
    if (images->count != labels->count)
        st = rc_err_set(err, RC_ERR_DATA, "%s: %u images but %u labels in %s", ipath, images->count,
                        labels->count, lpath);
done:
    if (st) {
        rc_idx_free(images);
        rc_idx_free(labels);
    }
    free(ipath);
    free(lpath);
    return st;
}
