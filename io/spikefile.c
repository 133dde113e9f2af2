/* spikefile.c — SONATA spike reader (spikefile.h).
 *
 * Why it is built this way: the whole population is read in two H5Dread
 * calls converting to native double / uint64 (HDF5 converts float32 or
 * int64 files too); HDF5's error printing is folded into rc_err through
 * io/h5util as in the writers. Serial HDF5: call from one thread. */
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "io/h5guard.h"
#include "io/h5util.h"
#include "io/spikefile.h"

typedef struct {
    int n;
    char name[256];
} only_group;

/* Counts the groups under /spikes that hold spikes (an empty population, as
 * a traces.h5 of a network run has in /spikes/output, does not count). */
static herr_t find_one(hid_t g, const char *name, const H5L_info_t *info, void *arg)
{
    (void)info;
    only_group *o = arg;
    char path[300];
    snprintf(path, sizeof path, "%s/timestamps", name);
    hssize_t len = 0;
    if (H5Lexists(g, name, H5P_DEFAULT) > 0 && H5Lexists(g, path, H5P_DEFAULT) > 0) {
        hid_t d = H5Dopen2(g, path, H5P_DEFAULT);
        hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
        len = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : 0;
        if (sp >= 0) H5Sclose(sp);
        if (d >= 0) H5Dclose(d);
    }
    if (len > 0 && o->n++ == 0) snprintf(o->name, sizeof o->name, "%s", name);
    return 0;
}

/* Reads dataset `name` of group g as mtype into a new array of *n elements. */
static rc_status read_col(hid_t g, const char *name, hid_t mtype, size_t esize, void **out, size_t *n,
                          const char *path, const char *pop, rc_err *err)
{
    char why[256];
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    if (d < 0) {
        rc_h5err_note();
        return rc_err_set(err, RC_ERR_DATA, "%s: no dataset /spikes/%s/%s (%s)", path, pop, name,
                          rc_h5err_msg(why, sizeof why));
    }
    hid_t sp = H5Dget_space(d);
    hssize_t len = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    rc_status st = RC_OK;
    *out = NULL;
    *n = len > 0 ? (size_t)len : 0;
    if (len < 0) st = rc_err_set(err, RC_ERR_DATA, "%s: /spikes/%s/%s: cannot read its size", path, pop, name);
    else if (len > 0 && !(*out = malloc((size_t)len * esize)))
        st = rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory for %lld spikes", path, (long long)len);
    else if (len > 0 && H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0) {
        rc_h5err_note();
        st = rc_err_set(err, RC_ERR_DATA, "%s: cannot read /spikes/%s/%s (%s)", path, pop, name,
                        rc_h5err_msg(why, sizeof why));
    }
    if (st) {
        free(*out);
        *out = NULL;
    }
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(d);
    return st;
}

rc_status rc_spikefile_read(const char *path, const char *pop, double **times, uint64_t **ids, size_t *n,
                            rc_err *err)
{
    *times = NULL;
    *ids = NULL;
    *n = 0;
    hid_t f;
    rc_status st = rc_h5_open_foreign(path, "spike file", &f, err);
    if (st) return st;
    hid_t sg = H5Gopen2(f, "/spikes", H5P_DEFAULT), g = H5I_INVALID_HID;
    only_group o = { 0, "" };
    if (sg < 0) st = rc_err_set(err, RC_ERR_DATA, "%s: no /spikes group (not a SONATA spike file)", path);
    else if (!pop) {
        H5Literate(sg, H5_INDEX_NAME, H5_ITER_INC, NULL, find_one, &o);
        if (o.n != 1)
            st = rc_err_set(err, RC_ERR_DATA, "%s: /spikes holds %d populations with spikes; name one (source "
                            "population key)", path, o.n);
        pop = o.name;
    }
    if (!st && (g = H5Gopen2(sg, pop, H5P_DEFAULT)) < 0)
        st = rc_err_set(err, RC_ERR_DATA, "%s: no population /spikes/%s", path, pop);
    size_t nt = 0, ni = 0;
    if (!st) st = read_col(g, "timestamps", H5T_NATIVE_DOUBLE, sizeof(double), (void **)times, &nt, path, pop, err);
    if (!st) st = read_col(g, "node_ids", H5T_NATIVE_UINT64, sizeof(uint64_t), (void **)ids, &ni, path, pop, err);
    if (!st && nt != ni)
        st = rc_err_set(err, RC_ERR_DATA, "%s: /spikes/%s has %zu timestamps but %zu node_ids", path, pop, nt, ni);
    if (st) {
        free(*times);
        free(*ids);
        *times = NULL;
        *ids = NULL;
    } else {
        *n = nt;
    }
    if (g >= 0) H5Gclose(g);
    if (sg >= 0) H5Gclose(sg);
    H5Fclose(f);
    return st;
}
