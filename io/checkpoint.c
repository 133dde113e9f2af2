/* checkpoint.c — crash-safe, self-describing model checkpoints in HDF5
 * (layout in checkpoint.h).
 *
 * Why it is built this way:
 *  - save writes PATH.tmp, closes it, fsyncs it, renames it over PATH and
 *    fsyncs the folder, so a crash or a full disk at any moment leaves either
 *    the old or the new checkpoint under PATH, never a torn one;
 *  - the file uses the HDF5 1.8+ format, whose metadata (superblock, object
 *    headers) carries checksums, and every tensor carries its own CRC-32 of
 *    the raw float bytes, which covers the raw data HDF5 does not checksum;
 *    the whole file carries a CRC-32 trailer (h5guard.h), checked with the
 *    superblock before libhdf5 opens the file (older files have none);
 *  - load trusts nothing: format string, presence, type, size and CRC of
 *    every item are checked, and each refusal names the file and the item.
 * HDF5's own error printing is switched off; its error stack is folded into
 * our messages. Serial HDF5 is not thread-safe: call from one thread. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>
#include <zlib.h>

#include "io/checkpoint.h"
#include "io/checkpoint_impl.h"
#include "io/h5guard.h"
#include "io/h5util.h"

#define RC_CKPT_FORMAT "rcsim-checkpoint-1"

/* ---- HDF5 file access --------------------------------------------------- */

/* ---- small helpers ------------------------------------------------------ */

/* CRC-32 of the raw float bytes, fed to zlib in pieces that fit its uInt. */
static uint32_t rc_ckpt_crc(const float *data, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    const unsigned char *b = (const unsigned char *)data;
    size_t len = n * sizeof(float);
    while (len > 0) {
        uInt k = len > (1u << 30) ? (1u << 30) : (uInt)len;
        c = crc32(c, b, k);
        b += k;
        len -= k;
    }
    return (uint32_t)c;
}

/* ---- save --------------------------------------------------------------- */

/* One scalar attribute of /scalars (file type ft, memory type mt). */
static rc_status rc_ckpt_write_scalar(hid_t gs, const char *tmp, const char *name, hid_t ft, hid_t mt,
                                      const void *value, rc_err *err)
{
    char h5[440];
    RC_ASSERT(value);
    if (rc_h5_attr_num(gs, name, ft, mt, value) < 0)
        return rc_err_set(err, RC_ERR_IO, "%s: cannot write scalar '%s': %s", tmp, name, rc_h5err_msg(h5, sizeof h5));
    return RC_OK;
}

/* Writes every item into the open file; on failure sets err (naming tmp and
 * the item) and returns non-OK. */
static rc_status rc_ckpt_write_all(hid_t f, const char *tmp, const rc_ckpt *ck, rc_err *err)
{
    char h5[440];
    rc_status st = RC_OK;
    hid_t gt = H5I_INVALID_HID, gs = H5I_INVALID_HID, gx = H5I_INVALID_HID;
    if (rc_h5_attr_str(f, "format", RC_CKPT_FORMAT, H5T_CSET_UTF8) < 0 ||
        (gt = H5Gcreate2(f, "tensors", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        (gs = H5Gcreate2(f, "scalars", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        (gx = H5Gcreate2(f, "strings", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
        rc_h5err_note();
        st = rc_err_set(err, RC_ERR_IO, "%s: cannot write checkpoint layout: %s", tmp,
                        rc_h5err_msg(h5, sizeof h5));
        goto out;
    }
    for (size_t i = 0; i < ck->ntensors; i++) {
        const rc_ckpt_tensor *t = &ck->tensors[i];
        RC_ASSERT(t->n == 0 || t->data);
        /* Plain contiguous float32: fast to write and read back, and floats
         * barely compress. n = 0 is a valid (empty) tensor. */
        hsize_t dim = t->n;
        uint32_t crc = rc_ckpt_crc(t->data, t->n);
        hid_t sp = H5Screate_simple(1, &dim, NULL), d = H5I_INVALID_HID;
        herr_t rc = -1;
        if (sp >= 0 && (d = H5Dcreate2(gt, t->name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT,
                                       H5P_DEFAULT)) >= 0 &&
            (t->n == 0 || H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->data) >= 0))
            rc = rc_h5_attr_num(d, "crc32", H5T_STD_U32LE, H5T_NATIVE_UINT32, &crc);
        if (rc < 0) rc_h5err_note();
        if (d >= 0) H5Dclose(d);
        if (sp >= 0) H5Sclose(sp);
        if (rc < 0) {
            st = rc_err_set(err, RC_ERR_IO, "%s: cannot write tensor '%s' (%zu floats): %s", tmp,
                            t->name, t->n, rc_h5err_msg(h5, sizeof h5));
            goto out;
        }
    }
    for (size_t i = 0; i < ck->nints && st == RC_OK; i++)
        st = rc_ckpt_write_scalar(gs, tmp, ck->ints[i].name, H5T_STD_I64LE, H5T_NATIVE_INT64,
                                  ck->ints[i].value, err);
    for (size_t i = 0; i < ck->nreals && st == RC_OK; i++)
        st = rc_ckpt_write_scalar(gs, tmp, ck->reals[i].name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                                  ck->reals[i].value, err);
    if (st) goto out;
    for (size_t i = 0; i < ck->nstrs; i++) {
        RC_ASSERT(ck->strs[i].value && *ck->strs[i].value);
        if (rc_h5_attr_str(gx, ck->strs[i].name, *ck->strs[i].value, H5T_CSET_UTF8) < 0) {
            st = rc_err_set(err, RC_ERR_IO, "%s: cannot write string '%s': %s", tmp, ck->strs[i].name,
                            rc_h5err_msg(h5, sizeof h5));
            goto out;
        }
    }
out:
    if (gx >= 0) H5Gclose(gx);
    if (gs >= 0) H5Gclose(gs);
    if (gt >= 0) H5Gclose(gt);
    return st;
}

/* Checks every item name up front, so a bad name fails before PATH.tmp exists. */
static rc_status rc_ckpt_check_names(const char *path, const rc_ckpt *ck, rc_err *err)
{
    struct { const char *kind; const char *name; } bad = { NULL, NULL };
    for (size_t i = 0; i < ck->ntensors && !bad.kind; i++)
        if (!rc_h5_name_ok(ck->tensors[i].name)) bad.kind = "tensor", bad.name = ck->tensors[i].name;
    for (size_t i = 0; i < ck->nints && !bad.kind; i++)
        if (!rc_h5_name_ok(ck->ints[i].name)) bad.kind = "scalar", bad.name = ck->ints[i].name;
    for (size_t i = 0; i < ck->nreals && !bad.kind; i++)
        if (!rc_h5_name_ok(ck->reals[i].name)) bad.kind = "scalar", bad.name = ck->reals[i].name;
    for (size_t i = 0; i < ck->nstrs && !bad.kind; i++)
        if (!rc_h5_name_ok(ck->strs[i].name)) bad.kind = "string", bad.name = ck->strs[i].name;
    if (bad.kind)
        return rc_err_set(err, RC_ERR_DATA, "%s: invalid %s name '%s' (empty or contains '/')", path,
                          bad.kind, bad.name ? bad.name : "(null)");
    return RC_OK;
}

rc_status rc_ckpt_save(const char *path, const rc_ckpt *ck, rc_err *err)
{
    return rc_ckpt_save_views(path, ck, NULL, 0, err);
}

rc_status rc_ckpt_save_views(const char *path, const rc_ckpt *ck, const rc_ckpt_view *views, size_t nviews,
                             rc_err *err)
{
    RC_ASSERT(path && ck && (views || !nviews));
    rc_status st = rc_ckpt_check_names(path, ck, err);
    if (st != RC_OK) return st;
    for (size_t i = 0; i < nviews; i++)
        if (!rc_ckpt_view_path_ok(views[i].path))
            return rc_err_set(err, RC_ERR_DATA, "%s: invalid view path '%s'", path,
                              views[i].path ? views[i].path : "(null)");
    rc_h5err_reset();

    size_t len = strlen(path);
    char *tmp = malloc(len + 5);
    if (!tmp) return rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory", path);
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp", 5);

    /* 1.8+ format: checksummed metadata and dense storage for attributes over
     * 64 KiB (a long config text). Strong close: H5Fclose closes everything. */
    char h5[440];
    struct stat sb;
    const int existed = lstat(tmp, &sb) == 0;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), f = H5I_INVALID_HID;
    if (fapl >= 0) rc_h5_lenient_locking(fapl);
    if (fapl >= 0 && H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) >= 0 &&
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0)
        f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (f < 0) rc_h5err_note();
    if (fapl >= 0) H5Pclose(fapl);
    if (f < 0) {
        /* A full disk can fail the create after the empty file exists:
         * remove what this call made, nothing that was there before. */
        st = rc_err_set(err, RC_ERR_IO, "%s: cannot create checkpoint: %s", tmp, rc_h5err_msg(h5, sizeof h5));
        if (!existed) unlink(tmp);
        free(tmp);
        return st;
    }
    st = rc_ckpt_write_all(f, tmp, ck, err);
    if (st == RC_OK) st = rc_ckpt_write_views(f, tmp, views, nviews, err);
    /* H5Fclose writes the remaining metadata, so it can fail (disk full). */
    if (rc_h5_fclose(f) < 0 && st == RC_OK)
        st = rc_err_set(err, RC_ERR_IO, "%s: cannot finish checkpoint: %s", tmp, rc_h5err_msg(h5, sizeof h5));
    /* The whole-file CRC-32 trailer, then fsync (HDF5 does not). */
    if (st == RC_OK) st = rc_h5guard_seal(tmp, err);
    if (st == RC_OK && rename(tmp, path) != 0)
        st = rc_err_set(err, RC_ERR_IO, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
    if (st != RC_OK) {
        unlink(tmp); /* PATH still holds the previous checkpoint */
        free(tmp);
        return st;
    }
    free(tmp);
    if (rc_h5_sync_dir(path) != 0)
        return rc_err_set(err, RC_ERR_IO, "%s: written, but cannot sync its folder: %s", path,
                          strerror(errno));
    return RC_OK;
}

/* ---- load --------------------------------------------------------------- */

/* Reads the scalar string attribute `name` of loc (variable- or fixed-length)
 * into a malloc'd C string. `what` names the item in messages. */
static rc_status rc_ckpt_read_str_attr(const char *path, hid_t loc, const char *name, const char *what,
                                     char **out, rc_err *err)
{
    char h5[440];
    rc_status st = RC_OK;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT), ft = H5I_INVALID_HID, sp = H5I_INVALID_HID;
    hid_t mt = H5I_INVALID_HID;
    *out = NULL;
    if (a < 0 || (ft = H5Aget_type(a)) < 0 || (sp = H5Aget_space(a)) < 0) {
        st = rc_err_set(err, RC_ERR_DATA, "%s: cannot open %s: %s", path, what, rc_h5err_msg(h5, sizeof h5));
        goto out;
    }
    if (H5Tget_class(ft) != H5T_STRING || H5Sget_simple_extent_npoints(sp) != 1) {
        st = rc_err_set(err, RC_ERR_DATA, "%s: %s is not a single string", path, what);
        goto out;
    }
    htri_t var = H5Tis_variable_str(ft);
    if (var > 0) {
        char *s = NULL;
        if ((mt = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 ||
            H5Tset_cset(mt, H5Tget_cset(ft)) < 0 || H5Aread(a, mt, &s) < 0) {
            st = rc_err_set(err, RC_ERR_DATA, "%s: cannot read %s: %s", path, what, rc_h5err_msg(h5, sizeof h5));
            goto out;
        }
        size_t n = s ? strlen(s) : 0;
        if ((*out = malloc(n + 1))) {
            if (n) memcpy(*out, s, n);
            (*out)[n] = 0;
        }
        H5free_memory(s);
    } else {
        /* Fixed length: read the raw bytes with the file's own string type
         * (strings have no byte order) and terminate them ourselves. */
        size_t n = H5Tget_size(ft);
        if (var < 0 || n == 0 || (mt = H5Tcopy(ft)) < 0) {
            st = rc_err_set(err, RC_ERR_DATA, "%s: cannot read %s: %s", path, what, rc_h5err_msg(h5, sizeof h5));
            goto out;
        }
        if ((*out = malloc(n + 1))) {
            if (H5Aread(a, mt, *out) < 0) {
                free(*out);
                *out = NULL;
                st = rc_err_set(err, RC_ERR_DATA, "%s: cannot read %s: %s", path, what,
                                rc_h5err_msg(h5, sizeof h5));
                goto out;
            }
            (*out)[n] = 0;
            if (H5Tget_strpad(ft) == H5T_STR_SPACEPAD)
                while (n > 0 && (*out)[n - 1] == ' ') (*out)[--n] = 0;
        }
    }
    if (!*out) st = rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory reading %s", path, what);
out:
    if (mt >= 0) H5Tclose(mt);
    if (sp >= 0) H5Sclose(sp);
    if (ft >= 0) H5Tclose(ft);
    if (a >= 0) H5Aclose(a);
    return st;
}

/* Opens path read-only and checks the format string. *whole_bad: the file's
 * superblock is sound but its whole-file CRC-32 is not (message in *whole):
 * it is opened anyway, only so that the caller can name the damaged item,
 * and refused by the caller in any case. */
static rc_status rc_ckpt_open(const char *path, hid_t *file, int *whole_bad, rc_err *whole, rc_err *err)
{
    *file = H5I_INVALID_HID;
    /* stat first: "no such file" reads better than HDF5's open failure. */
    struct stat sb;
    if (stat(path, &sb) != 0) {
        int e = errno;
        return rc_err_set(err, e == ENOENT ? RC_ERR_DATA : RC_ERR_IO, "%s: cannot open checkpoint: %s",
                          path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode))
        return rc_err_set(err, RC_ERR_DATA, "%s: cannot open checkpoint: not a regular file", path);
    /* Superblock, format version and whole-file checksum before libhdf5
     * reads a byte of it (h5guard.h). */
    rc_status gst = rc_h5guard_check(path, RC_H5_OWN, "checkpoint", whole_bad, whole);
    if (gst != RC_OK && !*whole_bad) {
        *err = *whole;
        return gst;
    }

    char h5[440];
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), f = H5I_INVALID_HID;
    if (fapl >= 0) rc_h5_lenient_locking(fapl);
    if (fapl >= 0 && H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0)
        f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (f < 0) rc_h5err_note();
    if (fapl >= 0) H5Pclose(fapl);
    if (f < 0)
        return rc_err_set(err, RC_ERR_DATA, "%s: not a readable HDF5 checkpoint (truncated or corrupt?): %s",
                          path, rc_h5err_msg(h5, sizeof h5));

    char *fmt = NULL;
    rc_status st = RC_OK;
    htri_t has = H5Aexists(f, "format");
    if (has < 0) {
        st = rc_err_set(err, RC_ERR_DATA, "%s: cannot read the root attributes (corrupt?): %s", path,
                        rc_h5err_msg(h5, sizeof h5));
    } else if (has == 0) {
        st = rc_err_set(err, RC_ERR_DATA, "%s: no 'format' attribute: not an rcsim checkpoint", path);
    } else {
        st = rc_ckpt_read_str_attr(path, f, "format", "attribute 'format'", &fmt, err);
        char shown[420]; /* bytes from the file: escaped, never echoed as is */
        if (st == RC_OK && strcmp(fmt, RC_CKPT_FORMAT) != 0)
            st = rc_err_set(err, RC_ERR_DATA, "%s: checkpoint format '%s', expected '%s'", path,
                            rc_h5_escape(shown, sizeof shown, fmt, 100), RC_CKPT_FORMAT);
    }
    free(fmt);
    if (st != RC_OK) {
        rc_h5_fclose(f);
        H5Eclear2(H5E_DEFAULT);
        return st;
    }
    *file = f;
    return RC_OK;
}

/* Opens group `name` of f into *g; a missing group leaves *g invalid and is
 * not an error here (its items are then reported missing by name). */
static rc_status rc_ckpt_group(const char *path, hid_t f, const char *name, hid_t *g, rc_err *err)
{
    char h5[440];
    *g = H5I_INVALID_HID;
    htri_t has = H5Lexists(f, name, H5P_DEFAULT);
    if (has == 0) return RC_OK;
    if (has < 0 || (*g = H5Gopen2(f, name, H5P_DEFAULT)) < 0)
        return rc_err_set(err, RC_ERR_DATA, "%s: cannot open group /%s (corrupt?): %s", path, name,
                          rc_h5err_msg(h5, sizeof h5));
    return RC_OK;
}

/* Is item `name` there? A failed look-up (damaged metadata) is reported as
 * such, not as a missing item. Links for tensors, attributes otherwise. */
static rc_status rc_ckpt_present(const char *path, hid_t g, const char *kind, const char *name,
                               int is_attr, rc_err *err)
{
    char h5[440];
    htri_t has = g < 0 ? 0 : is_attr ? H5Aexists(g, name) : H5Lexists(g, name, H5P_DEFAULT);
    if (has < 0)
        return rc_err_set(err, RC_ERR_DATA, "%s: cannot look up %s '%s' (corrupt?): %s", path, kind, name,
                          rc_h5err_msg(h5, sizeof h5));
    if (has == 0) return rc_err_set(err, RC_ERR_DATA, "%s: checkpoint has no %s '%s'", path, kind, name);
    return RC_OK;
}

static rc_status rc_ckpt_load_tensor(const char *path, hid_t g, rc_ckpt_tensor *t, rc_err *err)
{
    char h5[440];
    rc_status st = rc_ckpt_present(path, g, "tensor", t->name, 0, err);
    if (st != RC_OK) return st;
    hid_t d = H5Dopen2(g, t->name, H5P_DEFAULT), sp = H5I_INVALID_HID, ty = H5I_INVALID_HID;
    hid_t a = H5I_INVALID_HID, aty = H5I_INVALID_HID;
    hsize_t dim = 0;
    uint32_t stored = 0;
    if (d < 0 || (sp = H5Dget_space(d)) < 0 || (ty = H5Dget_type(d)) < 0) {
        st = rc_err_set(err, RC_ERR_DATA, "%s: cannot open tensor '%s': %s", path, t->name,
                        rc_h5err_msg(h5, sizeof h5));
        goto out;
    }
    if (H5Sget_simple_extent_ndims(sp) != 1 || H5Sget_simple_extent_dims(sp, &dim, NULL) != 1) {
        st = rc_err_set(err, RC_ERR_DATA, "%s: tensor '%s' is not 1-D", path, t->name);
        goto out;
    }
    if (H5Tget_class(ty) != H5T_FLOAT || H5Tget_size(ty) != 4) {
        st = rc_err_set(err, RC_ERR_DATA, "%s: tensor '%s' is not float32", path, t->name);
        goto out;
    }
    if (dim != (hsize_t)t->n) {
        st = rc_err_set(err, RC_ERR_DATA, "%s: tensor '%s' has %llu elements, expected %zu "
                        "(checkpoint of a different model shape?)", path, t->name,
                        (unsigned long long)dim, t->n);
        goto out;
    }
    if (H5Aexists(d, "crc32") <= 0 || (a = H5Aopen(d, "crc32", H5P_DEFAULT)) < 0 ||
        (aty = H5Aget_type(a)) < 0 || H5Tget_class(aty) != H5T_INTEGER ||
        H5Aread(a, H5T_NATIVE_UINT32, &stored) < 0) {
        st = rc_err_set(err, RC_ERR_DATA, "%s: tensor '%s' has no readable crc32 attribute", path, t->name);
        goto out;
    }
    RC_ASSERT(t->n == 0 || t->data);
    if (t->n > 0 && H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->data) < 0) {
        st = rc_err_set(err, RC_ERR_DATA, "%s: cannot read tensor '%s' (truncated or corrupt?): %s", path,
                        t->name, rc_h5err_msg(h5, sizeof h5));
        goto out;
    }
    uint32_t crc = rc_ckpt_crc(t->data, t->n);
    if (crc != stored)
        st = rc_err_set(err, RC_ERR_DATA, "%s: tensor '%s' is corrupt: CRC-32 %08x, stored %08x", path,
                        t->name, (unsigned)crc, (unsigned)stored);
out:
    if (aty >= 0) H5Tclose(aty);
    if (a >= 0) H5Aclose(a);
    if (ty >= 0) H5Tclose(ty);
    if (sp >= 0) H5Sclose(sp);
    if (d >= 0) H5Dclose(d);
    return st;
}

/* Reads scalar attribute `name` of the /scalars group into *v (memory type
 * mtype), insisting on the stored type class so an int never silently
 * becomes a real or the other way round. */
static rc_status rc_ckpt_load_scalar(const char *path, hid_t g, const char *name, H5T_class_t cls,
                                   hid_t mtype, void *v, rc_err *err)
{
    const char *kind = cls == H5T_INTEGER ? "int64" : "float64";
    rc_status st = rc_ckpt_present(path, g, "scalar", name, 1, err);
    if (st != RC_OK) return st;
    char h5[440];
    hid_t a = H5Aopen(g, name, H5P_DEFAULT), ty = H5I_INVALID_HID, sp = H5I_INVALID_HID;
    if (a < 0 || (ty = H5Aget_type(a)) < 0 || (sp = H5Aget_space(a)) < 0)
        st = rc_err_set(err, RC_ERR_DATA, "%s: cannot open scalar '%s': %s", path, name,
                        rc_h5err_msg(h5, sizeof h5));
    else if (H5Tget_class(ty) != cls || H5Sget_simple_extent_npoints(sp) != 1)
        st = rc_err_set(err, RC_ERR_DATA, "%s: scalar '%s' is not a single %s", path, name, kind);
    else if (H5Aread(a, mtype, v) < 0)
        st = rc_err_set(err, RC_ERR_DATA, "%s: cannot read scalar '%s': %s", path, name,
                        rc_h5err_msg(h5, sizeof h5));
    if (sp >= 0) H5Sclose(sp);
    if (ty >= 0) H5Tclose(ty);
    if (a >= 0) H5Aclose(a);
    return st;
}

static rc_status rc_ckpt_load_string(const char *path, hid_t g, const char *name, char **out, rc_err *err)
{
    *out = NULL;
    rc_status st = rc_ckpt_present(path, g, "string", name, 1, err);
    if (st != RC_OK) return st;
    char what[300];
    snprintf(what, sizeof what, "string '%s'", name);
    return rc_ckpt_read_str_attr(path, g, name, what, out, err);
}

rc_status rc_ckpt_load(const char *path, rc_ckpt *ck, rc_err *err)
{
    RC_ASSERT(path && ck);
    rc_h5err_reset();
    hid_t f, gt = H5I_INVALID_HID, gs = H5I_INVALID_HID, gx = H5I_INVALID_HID;
    int whole_bad = 0;
    rc_err whole;
    rc_status st = rc_ckpt_check_names(path, ck, err);
    if (st == RC_OK) st = rc_ckpt_open(path, &f, &whole_bad, &whole, err);
    if (st != RC_OK) return st;

    if (ck->ntensors) st = rc_ckpt_group(path, f, "tensors", &gt, err);
    if (st == RC_OK && ck->nints + ck->nreals) st = rc_ckpt_group(path, f, "scalars", &gs, err);
    if (st == RC_OK && ck->nstrs) st = rc_ckpt_group(path, f, "strings", &gx, err);
    for (size_t i = 0; i < ck->ntensors && st == RC_OK; i++)
        st = rc_ckpt_load_tensor(path, gt, &ck->tensors[i], err);
    for (size_t i = 0; i < ck->nints && st == RC_OK; i++) {
        RC_ASSERT(ck->ints[i].value);
        st = rc_ckpt_load_scalar(path, gs, ck->ints[i].name, H5T_INTEGER, H5T_NATIVE_INT64,
                               ck->ints[i].value, err);
    }
    for (size_t i = 0; i < ck->nreals && st == RC_OK; i++) {
        RC_ASSERT(ck->reals[i].value);
        st = rc_ckpt_load_scalar(path, gs, ck->reals[i].name, H5T_FLOAT, H5T_NATIVE_DOUBLE,
                               ck->reals[i].value, err);
    }
    /* Strings are allocated: on failure free the ones already handed out, so
     * the caller owns nothing new unless the whole load succeeded. */
    size_t got = 0;
    for (; got < ck->nstrs && st == RC_OK; got++) {
        RC_ASSERT(ck->strs[got].value);
        char *s;
        st = rc_ckpt_load_string(path, gx, ck->strs[got].name, &s, err);
        if (st != RC_OK) break;
        *ck->strs[got].value = s;
    }
    /* Every item read back intact, yet the whole file's CRC-32 is wrong:
     * refused all the same, with the whole-file message. */
    if (st == RC_OK && whole_bad) {
        *err = whole;
        st = RC_ERR_DATA;
    }
    if (st != RC_OK)
        for (size_t i = 0; i < got; i++) {
            free(*ck->strs[i].value);
            *ck->strs[i].value = NULL;
        }
    if (gx >= 0) H5Gclose(gx);
    if (gs >= 0) H5Gclose(gs);
    if (gt >= 0) H5Gclose(gt);
    rc_h5_fclose(f);
    rc_h5err_reset();
    return st;
}

rc_status rc_ckpt_read_string(const char *path, const char *name, char **out, rc_err *err)
{
    RC_ASSERT(path && name && out);
    *out = NULL;
    if (!rc_h5_name_ok(name))
        return rc_err_set(err, RC_ERR_DATA, "%s: invalid string name '%s' (empty or contains '/')", path, name);
    rc_h5err_reset();
    hid_t f, g = H5I_INVALID_HID;
    int whole_bad = 0;
    rc_err whole;
    rc_status st = rc_ckpt_open(path, &f, &whole_bad, &whole, err);
    if (st != RC_OK) return st;
    st = rc_ckpt_group(path, f, "strings", &g, err);
    if (st == RC_OK) st = rc_ckpt_load_string(path, g, name, out, err);
    if (st == RC_OK && whole_bad) {
        free(*out);
        *out = NULL;
        *err = whole;
        st = RC_ERR_DATA;
    }
    if (g >= 0) H5Gclose(g);
    rc_h5_fclose(f);
    rc_h5err_reset();
    return st;
}
