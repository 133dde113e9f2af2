/* featcache.c — see featcache.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <hdf5.h>
#include "io/featcache.h"
#include "io/h5guard.h"
#include "io/h5util.h"

static uint32_t crc_floats(const float *d, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    const unsigned char *b = (const unsigned char *)d;
    size_t left = n * sizeof *d;
    while (left) {
        const uInt k = left > (1u << 30) ? (1u << 30) : (uInt)left;
        c = crc32(c, b, k);
        b += k;
        left -= k;
    }
    return (uint32_t)c;
}

/* The string attribute `name` of loc, malloc'd (NULL if missing or unreadable). */
static char *attr_text(hid_t loc, const char *name)
{
    char *s = NULL;
    hid_t a = H5I_INVALID_HID, t = H5I_INVALID_HID, mt = H5I_INVALID_HID;
    if (H5Aexists(loc, name) <= 0 || (a = H5Aopen(loc, name, H5P_DEFAULT)) < 0) goto out;
    if ((t = H5Aget_type(a)) < 0 || H5Tget_class(t) != H5T_STRING || H5Tis_variable_str(t) != 0) goto out;
    const size_t n = H5Tget_size(t);
    if (!n || !(s = calloc(n + 1, 1))) goto out;
    /* Read with the stored type itself: HDF5 does not convert UTF-8 <-> ASCII. */
    if ((mt = H5Tcopy(t)) < 0 || H5Aread(a, mt, s) < 0) {
        free(s);
        s = NULL;
    }
out:
    if (mt >= 0) H5Tclose(mt);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return s;
}

int rc_featcache_load(const char *path, const char *key, float *data, size_t rows, size_t cols,
                      char *why, size_t cap)
{
    rc_h5err_reset();
    if (access(path, F_OK) != 0) {
        snprintf(why, cap, "no cache file");
        return 0;
    }
    int hit = 0;
    char *k = NULL;
    /* Superblock and whole-file checksum before libhdf5 reads it (h5guard.h). */
    rc_err gerr;
    if (rc_h5guard_check(path, RC_H5_OWN, "feature cache", NULL, &gerr) != RC_OK) {
        const char *m = strstr(gerr.msg, "feature cache: ");
        snprintf(why, cap, "corrupt: %s", m ? m + 15 : gerr.msg);
        return 0;
    }
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), f = H5I_INVALID_HID, d = H5I_INVALID_HID, sp = H5I_INVALID_HID;
    if (fapl >= 0) rc_h5_lenient_locking(fapl);
    if (fapl < 0 || (f = H5Fopen(path, H5F_ACC_RDONLY, fapl)) < 0) {
        char m[512];
        snprintf(why, cap, "corrupt: cannot open as HDF5: %s", rc_h5err_msg(m, sizeof m));
        goto out;
    }
    if (!(k = attr_text(f, "key"))) {
        snprintf(why, cap, "corrupt: no readable 'key' attribute");
        goto out;
    }
    if (strcmp(k, key)) {
        snprintf(why, cap, "stale: made for other features or another file list");
        goto out;
    }
    hsize_t dims[2] = { 0, 0 };
    if ((d = H5Dopen2(f, "features", H5P_DEFAULT)) < 0 || (sp = H5Dget_space(d)) < 0 ||
        H5Sget_simple_extent_ndims(sp) != 2 || H5Sget_simple_extent_dims(sp, dims, NULL) != 2 ||
        dims[0] != rows || dims[1] != cols) {
        snprintf(why, cap, "corrupt: /features missing or not (%zu, %zu)", rows, cols);
        goto out;
    }
    uint32_t want = 0;
    hid_t a = H5I_INVALID_HID;
    if (H5Aexists(d, "crc32") <= 0 || (a = H5Aopen(d, "crc32", H5P_DEFAULT)) < 0 ||
        H5Aread(a, H5T_NATIVE_UINT32, &want) < 0) {
        if (a >= 0) H5Aclose(a);
        snprintf(why, cap, "corrupt: /features has no crc32");
        goto out;
    }
    H5Aclose(a);
    if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
        char m[512];
        snprintf(why, cap, "corrupt: cannot read /features: %s", rc_h5err_msg(m, sizeof m));
        goto out;
    }
    if (crc_floats(data, rows * cols) != want) {
        snprintf(why, cap, "corrupt: CRC-32 of /features does not match");
        goto out;
    }
    hit = 1;
out:
    free(k);
    if (sp >= 0) H5Sclose(sp);
    if (d >= 0) H5Dclose(d);
    if (f >= 0) rc_h5_fclose(f);
    if (fapl >= 0) H5Pclose(fapl);
    rc_h5err_reset();
    return hit;
}

rc_status rc_featcache_save(const char *path, const char *key, const float *data, size_t rows, size_t cols,
                            rc_err *err)
{
    rc_h5err_reset();
    char tmp[4200], m[512];
    /* Per-process temporary name: two runs filling the same cache do not clash. */
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    rc_status st = RC_OK;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), f = H5I_INVALID_HID, d = H5I_INVALID_HID, sp = H5I_INVALID_HID;
    if (fapl >= 0) rc_h5_lenient_locking(fapl);
    /* The 1.8+ format (checksummed superblock and object headers), which
     * rc_h5guard_check requires of rcsim's own files. */
    if (fapl < 0 || H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) < 0 ||
        (f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl)) < 0) {
        st = rc_err_set(err, RC_ERR_IO, "%s: cannot create: %s", tmp, rc_h5err_msg(m, sizeof m));
        goto out;
    }
    const hsize_t dims[2] = { rows, cols };
    const uint32_t crc = crc_floats(data, rows * cols);
    if ((sp = H5Screate_simple(2, dims, NULL)) < 0 ||
        (d = H5Dcreate2(f, "features", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0 ||
        rc_h5_attr_num(d, "crc32", H5T_STD_U32LE, H5T_NATIVE_UINT32, &crc) < 0 ||
        rc_h5_attr_str(f, "key", key, H5T_CSET_UTF8) < 0) {
        rc_h5err_note();
        st = rc_err_set(err, RC_ERR_IO, "%s: cannot write the feature cache: %s", tmp, rc_h5err_msg(m, sizeof m));
    }
out:
    if (sp >= 0) H5Sclose(sp);
    if (d >= 0) H5Dclose(d);
    if (f >= 0 && rc_h5_fclose(f) < 0 && !st)
        st = rc_err_set(err, RC_ERR_IO, "%s: cannot close: %s", tmp, rc_h5err_msg(m, sizeof m));
    if (fapl >= 0) H5Pclose(fapl);
    if (!st) st = rc_h5guard_seal(tmp, err); /* whole-file CRC-32, fsync */
    if (!st) {
        if (rename(tmp, path) != 0)
            st = rc_err_set(err, RC_ERR_IO, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
        else
            rc_h5_sync_dir(path);
    }
    if (st) unlink(tmp);
    rc_h5err_reset();
    return st;
}
