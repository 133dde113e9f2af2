/* checkpoint_views.c — the /params group of a checkpoint: named, shaped
 * float32 copies of the parameters with their attributes, for users (layout
 * in checkpoint.h; the loader never reads them). Called by rc_ckpt_save_views
 * inside the open PATH.tmp, so they share its atomic rename and CRC trailer. */
#include <stdint.h>
#include <string.h>
#include <hdf5.h>
#include "io/checkpoint_impl.h"
#include "io/h5util.h"

int rc_ckpt_view_path_ok(const char *path)
{
    if (!path) return 0;
    if (!*path) return 1; /* /params itself */
    for (const char *p = path;;) {
        size_t n = strcspn(p, "/");
        if (n == 0 || n > 200) return 0;
        if (!p[n]) return 1;
        p += n + 1;
    }
}

static herr_t write_attrs(hid_t loc, const rc_ckpt_view *v)
{
    for (size_t i = 0; i < v->nattrs; i++) {
        const rc_ckpt_attr *a = &v->attrs[i];
        const int64_t i = (int64_t)a->d;
        herr_t rc = a->s        ? rc_h5_attr_str(loc, a->key, a->s, H5T_CSET_UTF8)
                    : a->integer ? rc_h5_attr_num(loc, a->key, H5T_STD_I64LE, H5T_NATIVE_INT64, &i)
                                 : rc_h5_attr_num(loc, a->key, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &a->d);
        if (rc < 0) return rc;
    }
    return 0;
}

/* Opens group path under g (creating it and its parents), or g itself for "". */
static hid_t open_group(hid_t g, const char *path)
{
    if (!*path) return H5Gopen2(g, ".", H5P_DEFAULT);
    htri_t has = H5Lexists(g, path, H5P_DEFAULT);
    if (has > 0) return H5Gopen2(g, path, H5P_DEFAULT);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    if (lcpl < 0) return H5I_INVALID_HID;
    hid_t r = H5I_INVALID_HID;
    if (H5Pset_create_intermediate_group(lcpl, 1) >= 0) r = H5Gcreate2(g, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    return r;
}

static herr_t write_view(hid_t g, const rc_ckpt_view *v)
{
    if (v->ndim == 0) {
        hid_t sub = open_group(g, v->path);
        if (sub < 0) return -1;
        herr_t rc = write_attrs(sub, v);
        H5Gclose(sub);
        return rc;
    }
    hsize_t dims[4];
    size_t n = 1;
    for (int i = 0; i < v->ndim; i++) {
        dims[i] = v->shape[i];
        n *= (size_t)v->shape[i];
    }
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE), sp = H5Screate_simple(v->ndim, dims, NULL), d = H5I_INVALID_HID;
    herr_t rc = -1;
    if (lcpl >= 0 && sp >= 0 && H5Pset_create_intermediate_group(lcpl, 1) >= 0 &&
        (d = H5Dcreate2(g, v->path, H5T_IEEE_F32LE, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
        (n == 0 || H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v->data) >= 0))
        rc = write_attrs(d, v);
    if (d >= 0) H5Dclose(d);
    if (sp >= 0) H5Sclose(sp);
    if (lcpl >= 0) H5Pclose(lcpl);
    return rc;
}

rc_status rc_ckpt_write_views(hid_t f, const char *tmp, const rc_ckpt_view *views, size_t nviews, rc_err *err)
{
    if (!nviews) return RC_OK;
    char h5[440];
    hid_t g = H5Gcreate2(f, "params", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    rc_status st = RC_OK;
    if (g < 0) {
        rc_h5err_note();
        return rc_err_set(err, RC_ERR_IO, "%s: cannot create /params: %s", tmp, rc_h5err_msg(h5, sizeof h5));
    }
    for (size_t i = 0; i < nviews && !st; i++) {
        RC_ASSERT(views[i].ndim >= 0 && views[i].ndim <= 4 && (views[i].ndim == 0 || views[i].data));
        if (write_view(g, &views[i]) < 0) {
            rc_h5err_note();
            st = rc_err_set(err, RC_ERR_IO, "%s: cannot write /params/%s: %s", tmp, views[i].path,
                            rc_h5err_msg(h5, sizeof h5));
        }
    }
    H5Gclose(g);
    return st;
}
