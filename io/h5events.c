/* h5events.c — labelled event data sets from HDF5 (h5events.h).
 *
 * Why it is built this way: SHD-layout files hold one variable-length array
 * per example; reading them 256 examples at a time through a hyperslab, with
 * HDF5 converting any stored float/integer base type to double / int64 in
 * the vlen memory type, keeps memory bounded by the largest block (the real
 * SHD training file has 8156 examples, about 10^4 events each). The flat
 * layout is read whole and grouped by example with a counting sort (stable:
 * file order is kept within an example). Every dataset's kind (rank, type
 * class, length) is checked before it is read, so a wrong file gives one
 * line naming the file and dataset instead of HDF5's error stack.
 * Serial HDF5: call from one thread. */
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "io/h5events.h"
#include "io/h5guard.h"
#include "io/h5util.h"

#define BLOCK 256

static const char *LAYOUTS =
    "expected the SHD layout (/spikes/times, /spikes/units, /labels) or the flat layout "
    "(/events/times, /events/units, /events/example, /labels)";

static const char *class_name(H5T_class_t c)
{
    switch (c) {
    case H5T_INTEGER: return "integers";
    case H5T_FLOAT: return "floats";
    case H5T_STRING: return "strings";
    case H5T_VLEN: return "variable-length arrays";
    case H5T_COMPOUND: return "compound records";
    default: return "another HDF5 type";
    }
}

/* Opens the 1-D dataset `name` and checks that its type class (vlen = 0)
 * or, for vlen = 1, a variable-length array's base class is c1 or c2. *len =
 * its length. On failure the message says what was expected (`what`). */
static rc_status open_1d(hid_t f, const char *path, const char *name, int vlen, H5T_class_t c1,
                         H5T_class_t c2, const char *what, hid_t *d, int64_t *len, rc_err *err)
{
    *d = H5I_INVALID_HID;
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0 || H5Oexists_by_name(f, name, H5P_DEFAULT) <= 0)
        return rc_err_set(err, RC_ERR_DATA, "%s: no dataset %s; %s", path, name, LAYOUTS);
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    if (ds < 0) return rc_err_set(err, RC_ERR_DATA, "%s: %s is not a dataset; %s", path, name, LAYOUTS);
    hid_t sp = H5Dget_space(ds), ty = H5Dget_type(ds);
    const int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    hsize_t dim = 0;
    if (rank == 1) H5Sget_simple_extent_dims(sp, &dim, NULL);
    const H5T_class_t c = ty >= 0 ? H5Tget_class(ty) : H5T_NO_CLASS;
    H5T_class_t b = H5T_NO_CLASS;
    if (c == H5T_VLEN) {
        hid_t sup = H5Tget_super(ty);
        b = sup >= 0 ? H5Tget_class(sup) : H5T_NO_CLASS;
        if (sup >= 0) H5Tclose(sup);
    }
    rc_status st = RC_OK;
    if (rank != 1)
        st = rc_err_set(err, RC_ERR_DATA, "%s: %s has %d dimensions, expected 1 (%s)", path, name, rank, what);
    else if (vlen ? c != H5T_VLEN || (b != c1 && b != c2) : c != c1 && c != c2)
        st = rc_err_set(err, RC_ERR_DATA, "%s: %s holds %s%s%s, expected %s", path, name, class_name(c),
                        c == H5T_VLEN ? " of " : "", c == H5T_VLEN ? class_name(b) : "", what);
    if (sp >= 0) H5Sclose(sp);
    if (ty >= 0) H5Tclose(ty);
    if (st) {
        H5Dclose(ds);
        return st;
    }
    *d = ds;
    *len = (int64_t)dim;
    return RC_OK;
}

/* The whole 1-D dataset `name` as mtype (esize bytes each) into a new array. */
static rc_status read_all(hid_t f, const char *path, const char *name, H5T_class_t c1, H5T_class_t c2,
                          const char *what, hid_t mtype, size_t esize, void **out, int64_t *len, rc_err *err)
{
    hid_t d;
    char why[256];
    rc_status st = open_1d(f, path, name, 0, c1, c2, what, &d, len, err);
    *out = NULL;
    if (st) return st;
    if (!(*out = malloc((size_t)(*len > 0 ? *len : 1) * esize)))
        st = rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory for %lld values of %s", path, (long long)*len, name);
    else if (*len > 0 && H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0) {
        rc_h5err_note();
        st = rc_err_set(err, RC_ERR_DATA, "%s: cannot read %s (%s)", path, name, rc_h5err_msg(why, sizeof why));
    }
    H5Dclose(d);
    if (st) {
        free(*out);
        *out = NULL;
    }
    return st;
}

/* /extra/keys, if present: class names as strings, variable-length or
 * fixed-length (HDF5 1.10 converts neither into the other). */
static rc_status read_keys(hid_t f, const char *path, rc_h5ev_file *o, rc_err *err)
{
    if (H5Lexists(f, "/extra", H5P_DEFAULT) <= 0 || H5Lexists(f, "/extra/keys", H5P_DEFAULT) <= 0) return RC_OK;
    hid_t d;
    int64_t n;
    rc_status st = open_1d(f, path, "/extra/keys", 0, H5T_STRING, H5T_STRING, "class names (strings)", &d, &n, err);
    if (st) return st;
    hid_t ft = H5Dget_type(d), mt = H5Tcopy(H5T_C_S1);
    const int var = H5Tis_variable_str(ft) > 0;
    const size_t w = var ? sizeof(char *) : H5Tget_size(ft) + 1; /* room for a NUL */
    H5Tset_size(mt, var ? H5T_VARIABLE : w);
    H5Tset_strpad(mt, H5T_STR_NULLTERM);
    H5Tset_cset(mt, H5Tget_cset(ft));
    char *raw = calloc((size_t)(n > 0 ? n : 1), w);
    o->keys = calloc((size_t)(n > 0 ? n : 1), sizeof *o->keys);
    char why[256];
    if (!raw || !o->keys) st = rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory for /extra/keys", path);
    else if (n > 0 && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0) {
        rc_h5err_note();
        st = rc_err_set(err, RC_ERR_DATA, "%s: cannot read /extra/keys (%s)", path, rc_h5err_msg(why, sizeof why));
    } else {
        o->nkeys = (int)n;
        for (int64_t i = 0; i < n; i++) {
            const char *k = var ? ((char **)raw)[i] : raw + (size_t)i * w;
            if (!(o->keys[i] = strdup(k ? k : "")))
                st = rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory for /extra/keys", path);
        }
        if (var && n > 0) {
            hid_t sp = H5Dget_space(d);
            H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, raw);
            H5Sclose(sp);
        }
    }
    free(raw);
    H5Tclose(mt);
    H5Tclose(ft);
    H5Dclose(d);
    return st;
}

/* SHD layout: /spikes/times and /spikes/units, BLOCK examples at a time. */
static rc_status read_shd(hid_t f, const char *path, rc_h5ev_file *o, rc_h5ev_fn fn, void *user, rc_err *err)
{
    hid_t dt = H5I_INVALID_HID, du = H5I_INVALID_HID;
    int64_t nt = 0, nu = 0;
    rc_status st = open_1d(f, path, "/spikes/times", 1, H5T_FLOAT, H5T_INTEGER,
                           "variable-length arrays of times in seconds, one per example", &dt, &nt, err);
    if (!st) st = open_1d(f, path, "/spikes/units", 1, H5T_INTEGER, H5T_INTEGER,
                          "variable-length arrays of channel indices (integers), one per example", &du, &nu, err);
    if (!st && (nt != o->n || nu != o->n))
        st = rc_err_set(err, RC_ERR_DATA, "%s: /spikes/times has %lld examples, /spikes/units %lld, /labels %lld; "
                        "expected the same number", path, (long long)nt, (long long)nu, (long long)o->n);
    hid_t mt = H5Tvlen_create(H5T_NATIVE_DOUBLE), mu = H5Tvlen_create(H5T_NATIVE_INT64);
    hid_t fst = dt >= 0 ? H5Dget_space(dt) : -1, fsu = du >= 0 ? H5Dget_space(du) : -1;
    hvl_t *bt = calloc(BLOCK, sizeof *bt), *bu = calloc(BLOCK, sizeof *bu);
    char why[256];
    if (!st && (!bt || !bu)) st = rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory", path);
    for (int64_t i0 = 0; !st && i0 < o->n; i0 += BLOCK) {
        const hsize_t start = (hsize_t)i0, cnt = (hsize_t)(o->n - i0 < BLOCK ? o->n - i0 : BLOCK);
        hid_t ms = H5Screate_simple(1, &cnt, NULL);
        H5Sselect_hyperslab(fst, H5S_SELECT_SET, &start, NULL, &cnt, NULL);
        H5Sselect_hyperslab(fsu, H5S_SELECT_SET, &start, NULL, &cnt, NULL);
        const herr_t r1 = H5Dread(dt, mt, ms, fst, H5P_DEFAULT, bt);
        if (r1 < 0) rc_h5err_note();
        const herr_t r2 = r1 < 0 ? -1 : H5Dread(du, mu, ms, fsu, H5P_DEFAULT, bu);
        if (r1 >= 0 && r2 < 0) rc_h5err_note();
        if (r1 < 0 || r2 < 0)
            st = rc_err_set(err, RC_ERR_DATA, "%s: cannot read %s of examples %lld..%lld (%s)", path,
                            r1 < 0 ? "/spikes/times" : "/spikes/units", (long long)i0,
                            (long long)(i0 + (int64_t)cnt - 1), rc_h5err_msg(why, sizeof why));
        for (hsize_t k = 0; !st && k < cnt; k++) {
            const int64_t ex = i0 + (int64_t)k;
            if (bt[k].len != bu[k].len)
                st = rc_err_set(err, RC_ERR_DATA, "%s: example %lld has %zu times in /spikes/times but %zu units in "
                                "/spikes/units, expected as many", path, (long long)ex, bt[k].len, bu[k].len);
            else st = fn(user, ex, bt[k].p, bu[k].p, bt[k].len, err);
        }
        if (r1 >= 0) H5Dvlen_reclaim(mt, ms, H5P_DEFAULT, bt);
        if (r2 >= 0) H5Dvlen_reclaim(mu, ms, H5P_DEFAULT, bu);
        memset(bt, 0, BLOCK * sizeof *bt);
        memset(bu, 0, BLOCK * sizeof *bu);
        H5Sclose(ms);
    }
    free(bt);
    free(bu);
    if (fst >= 0) H5Sclose(fst);
    if (fsu >= 0) H5Sclose(fsu);
    H5Tclose(mt);
    H5Tclose(mu);
    if (dt >= 0) H5Dclose(dt);
    if (du >= 0) H5Dclose(du);
    return st;
}

/* Flat layout: three E-long arrays, grouped by /events/example. */
static rc_status read_flat(hid_t f, const char *path, rc_h5ev_file *o, rc_h5ev_fn fn, void *user, rc_err *err)
{
    double *t = NULL, *ts = NULL;
    int64_t *u = NULL, *x = NULL, *us = NULL, *off = NULL, nt = 0, nu = 0, nx = 0;
    rc_status st = read_all(f, path, "/events/times", H5T_FLOAT, H5T_INTEGER, "times in seconds",
                            H5T_NATIVE_DOUBLE, sizeof *t, (void **)&t, &nt, err);
    if (!st) st = read_all(f, path, "/events/units", H5T_INTEGER, H5T_INTEGER, "channel indices (integers)",
                           H5T_NATIVE_INT64, sizeof *u, (void **)&u, &nu, err);
    if (!st) st = read_all(f, path, "/events/example", H5T_INTEGER, H5T_INTEGER, "example indices (integers)",
                           H5T_NATIVE_INT64, sizeof *x, (void **)&x, &nx, err);
    if (!st && (nt != nu || nt != nx))
        st = rc_err_set(err, RC_ERR_DATA, "%s: /events/times has %lld events, /events/units %lld, /events/example "
                        "%lld; expected the same number", path, (long long)nt, (long long)nu, (long long)nx);
    if (!st) {
        off = calloc((size_t)o->n + 2, sizeof *off);
        ts = malloc((size_t)(nt > 0 ? nt : 1) * sizeof *ts);
        us = malloc((size_t)(nt > 0 ? nt : 1) * sizeof *us);
        if (!off || !ts || !us) st = rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory for %lld events", path, (long long)nt);
    }
    for (int64_t e = 0; !st && e < nt; e++) {
        if (x[e] < 0 || x[e] >= o->n)
            st = rc_err_set(err, RC_ERR_DATA, "%s: /events/example[%lld] = %lld, expected an example index in [0, %lld) "
                            "(/labels has %lld)", path, (long long)e, (long long)x[e], (long long)o->n, (long long)o->n);
        else off[x[e] + 2]++;
    }
    if (!st) {
        for (int64_t i = 0; i < o->n; i++) off[i + 2] += off[i + 1];
        for (int64_t e = 0; e < nt; e++) { /* stable: file order within an example */
            const int64_t at = off[x[e] + 1]++;
            ts[at] = t[e];
            us[at] = u[e];
        }
    }
    for (int64_t i = 0; !st && i < o->n; i++)
        st = fn(user, i, ts + off[i], us + off[i], (size_t)(off[i + 1] - off[i]), err);
    free(t); free(u); free(x); free(ts); free(us); free(off);
    return st;
}

void rc_h5ev_file_free(rc_h5ev_file *f)
{
    if (!f) return;
    free(f->labels);
    for (int i = 0; f->keys && i < f->nkeys; i++) free(f->keys[i]);
    free(f->keys);
    memset(f, 0, sizeof *f);
}

rc_status rc_h5ev_read(const char *path, rc_h5ev_file *o, rc_h5ev_fn fn, void *user, rc_err *err)
{
    memset(o, 0, sizeof *o);
    hid_t f;
    rc_status st = rc_h5_open_foreign(path, "event data file", &f, err);
    if (st) return st;
    if (H5Lexists(f, "/spikes", H5P_DEFAULT) > 0) o->layout = RC_H5EV_SHD;
    else if (H5Lexists(f, "/events", H5P_DEFAULT) > 0) o->layout = RC_H5EV_FLAT;
    else st = rc_err_set(err, RC_ERR_DATA, "%s: no /spikes group and no /events group; %s", path, LAYOUTS);
    if (!st) st = read_all(f, path, "/labels", H5T_INTEGER, H5T_INTEGER, "one integer class label per example",
                           H5T_NATIVE_INT64, sizeof *o->labels, (void **)&o->labels, &o->n, err);
    if (!st) st = read_keys(f, path, o, err);
    if (!st) st = o->layout == RC_H5EV_SHD ? read_shd(f, path, o, fn, user, err) : read_flat(f, path, o, fn, user, err);
    rc_h5_fclose(f);
    if (st) rc_h5ev_file_free(o);
    return st;
}
