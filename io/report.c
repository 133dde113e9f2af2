/* report.c — SONATA membrane reports (report.h).
 *
 * Why it is built this way: a report is small (a few neurons sampled every k
 * steps) and written once at the end, so each dataset is one contiguous
 * H5Dwrite; the file is the traces.h5 rc_traces_close already published,
 * reopened read-write. Serial HDF5: call from one thread. */
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "io/h5util.h"
#include "io/report.h"
#include "io/traces_impl.h" /* the open file */

/* A 1-D or 2-D dataset of `mtype` elements written whole; -1 on failure. */
static int put(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims,
               const void *buf, hid_t *keep)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = sp >= 0 ? H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    int rc = d >= 0 && H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0 ? 0 : -1;
    if (rc) rc_h5err_note();
    if (sp >= 0) H5Sclose(sp);
    if (keep && !rc) *keep = d;
    else if (d >= 0) H5Dclose(d);
    return rc;
}

/* Group `name` with its parents created; -1 on failure. */
static hid_t make_group(hid_t f, const char *name)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t g = H5Gcreate2(f, name, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    if (g < 0) rc_h5err_note();
    return g;
}

rc_status rc_report_presentations(rc_traces *tr, const char *source, const double *start_ms, const int32_t *label,
                                  const uint64_t *example, size_t n, rc_err *err)
{
    char why[256], gname[300];
    const char *path = tr->path;
    const hid_t f = tr->file;
    rc_h5err_reset();
    if (!rc_h5_name_ok(source))
        return rc_err_set(err, RC_ERR_IO, "%s: bad source name '%s'", path, source ? source : "");
    snprintf(gname, sizeof gname, "/presentations/%s", source);
    hid_t g = make_group(f, gname), ts = -1;
    const hsize_t dn = n;
    int bad = g < 0 || put(g, "start_ms", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &dn, start_ms, &ts) ||
              rc_tr_attr_vstr(ts, "units", "ms") < 0 ||
              put(g, "label", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &dn, label, NULL) ||
              put(g, "example", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, &dn, example, NULL);
    if (ts >= 0) H5Dclose(ts);
    if (g >= 0) H5Gclose(g);
    if (bad) return rc_err_set(err, RC_ERR_IO, "%s: cannot write %s (%s)", path, gname, rc_h5err_msg(why, sizeof why));
    return RC_OK;
}

rc_status rc_report_write(rc_traces *tr, const char *pop, const uint64_t *node_ids, size_t n,
                          const float *data, size_t rows, double start_ms, double dt_ms, const char *units,
                          rc_err *err)
{
    char why[256];
    const char *path = tr->path;
    const hid_t f = tr->file;
    rc_h5err_reset();
    if (!rc_h5_name_ok(pop)) return rc_err_set(err, RC_ERR_IO, "%s: bad report population name '%s'", path, pop ? pop : "");
    uint64_t *elem = calloc(n ? n : 1, sizeof *elem), *ptr = malloc((n + 1) * sizeof *ptr);
    int bad = !elem || !ptr;
    for (size_t i = 0; !bad && i <= n; i++) ptr[i] = i;
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    char gname[300];
    snprintf(gname, sizeof gname, "/report/%s/mapping", pop);
    hid_t m = bad ? -1 : H5Gcreate2(f, gname, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    snprintf(gname, sizeof gname, "/report/%s", pop);
    hid_t g = m >= 0 ? H5Gopen2(f, gname, H5P_DEFAULT) : -1;
    const hsize_t dn = n, dp = n + 1, d3 = 3, dd[2] = { rows, n };
    const double tm[3] = { start_ms, start_ms + (double)rows * dt_ms, dt_ms };
    hid_t dset = -1, tset = -1;
    bad = bad || m < 0 || g < 0 || put(m, "node_ids", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, &dn, node_ids, NULL) ||
          put(m, "element_ids", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, &dn, elem, NULL) ||
          put(m, "index_pointers", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, &dp, ptr, NULL) ||
          put(m, "time", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &d3, tm, &tset) ||
          put(g, "data", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dd, data, &dset) ||
          rc_tr_attr_vstr(dset, "units", units) < 0 || rc_tr_attr_vstr(tset, "units", "ms") < 0;
    if (dset >= 0) H5Dclose(dset);
    if (tset >= 0) H5Dclose(tset);
    if (g >= 0) H5Gclose(g);
    if (m >= 0) H5Gclose(m);
    free(elem);
    free(ptr);
    if (bad)
        return rc_err_set(err, RC_ERR_IO, "%s: cannot write /report/%s (%s)", path, pop, rc_h5err_msg(why, sizeof why));
    return RC_OK;
}
