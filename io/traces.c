/* traces.c — spike reports (SONATA layout), rank-coding outcomes and traced
 * activations in one HDF5 file; the layout is documented in traces.h.
 *
 * Why it is built this way:
 *  - every dataset is chunked, deflated and extendible, and each 1-D column
 *    is appended through one fixed-size memory buffer (one chunk long), so a
 *    run over millions of examples uses the same memory as one over ten;
 *    activations are written one example (= one chunk) per call;
 *  - the file is built as PATH.tmp and renamed over PATH only after a clean
 *    close, its whole-file CRC-32 trailer (h5guard.h) and fsync, so readers
 *    never see a torn traces file under PATH;
 *  - HDF5's own error printing is switched off and its error stack is folded
 *    into our rc_err messages, which name the file and the dataset;
 *  - after any failed write the writer refuses further work and close
 *    removes PATH.tmp instead of publishing a file with holes in it.
 * Serial HDF5 is not thread-safe: one thread writes a given trace file.
 *
 * This file: the file itself, the /rc rows, activations and the appendable
 * columns; traces_spikes.c: the /spikes populations; traces_impl.h: the
 * shared state. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/h5guard.h"
#include "io/h5util.h"
#include "io/traces_impl.h"

/* ---- HDF5 error text ---------------------------------------------------- */

/* Marks the writer unusable and reports what failed where (file + object). */
rc_status rc_tr_fail(rc_traces *tr, rc_err *err, const char *what, const char *where)
{
    char h5[440];
    tr->failed = 1;
    return rc_err_set(err, RC_ERR_IO, "%s: cannot %s %s: %s", tr->tmp, what, where,
                      rc_h5err_msg(h5, sizeof h5));
}

char *rc_tr_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

herr_t rc_tr_attr_vstr(hid_t loc, const char *name, const char *s)
{
    herr_t rc = -1;
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5I_INVALID_HID, a = H5I_INVALID_HID;
    if (t < 0) return -1;
    if (H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
        (sp = H5Screate(H5S_SCALAR)) >= 0 && (a = H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT)) >= 0)
        rc = H5Awrite(a, t, &s);
    if (rc < 0) rc_h5err_note();
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    H5Tclose(t);
    return rc;
}

char *rc_tr_join(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *d = malloc(la + lb + lc + 1);
    if (!d) return NULL;
    memcpy(d, a, la);
    memcpy(d + la, b, lb);
    memcpy(d + la + lb, c, lc + 1);
    return d;
}

/* ---- appendable 1-D columns --------------------------------------------- */

void rc_tr_col_init(rc_tr_col *c)
{
    memset(c, 0, sizeof *c);
    c->dset = H5I_INVALID_HID;
}

/* Chunked (one buffer long), shuffled + deflate-4 (shuffle groups the bytes of
 * each word, which roughly halves the size of sorted timestamps and ids),
 * extendible 1-D dataset starting empty. */
static hid_t rc_tr_create_1d(hid_t loc, const char *name, hid_t ftype, hsize_t chunk)
{
    hsize_t dim = 0, maxdim = H5S_UNLIMITED;
    hid_t sp = H5Screate_simple(1, &dim, &maxdim), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = H5I_INVALID_HID;
    if (sp >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, &chunk) >= 0 && H5Pset_shuffle(dcpl) >= 0 &&
        H5Pset_deflate(dcpl, 4) >= 0)
        d = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d < 0) rc_h5err_note();
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    return d;
}

rc_status rc_tr_col_create(rc_traces *tr, rc_tr_col *c, hid_t loc, const char *prefix,
                           const char *name, hid_t ftype, hid_t mtype, size_t esize,
                           size_t chunk, rc_err *err)
{
    c->mtype = mtype;
    c->esize = esize;
    c->cap = chunk;
    if (!(c->where = rc_tr_join(prefix, "/", name))) {
        tr->failed = 1;
        return rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory", tr->tmp);
    }
    if ((c->dset = rc_tr_create_1d(loc, name, ftype, chunk)) < 0)
        return rc_tr_fail(tr, err, "create", c->where);
    return RC_OK;
}

static rc_status rc_tr_col_flush(rc_traces *tr, rc_tr_col *c, rc_err *err)
{
    if (c->n == 0) return RC_OK;
    hsize_t count = c->n, size = c->done + c->n;
    hid_t fs = H5I_INVALID_HID, ms = H5I_INVALID_HID;
    herr_t rc = -1;
    if (H5Dset_extent(c->dset, &size) >= 0 && (fs = H5Dget_space(c->dset)) >= 0 &&
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, &c->done, NULL, &count, NULL) >= 0 &&
        (ms = H5Screate_simple(1, &count, NULL)) >= 0)
        rc = H5Dwrite(c->dset, c->mtype, ms, fs, H5P_DEFAULT, c->buf);
    if (rc < 0) rc_h5err_note();
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    if (rc < 0) return rc_tr_fail(tr, err, "write", c->where);
    c->done = size;
    c->n = 0;
    return RC_OK;
}

rc_status rc_tr_col_put(rc_traces *tr, rc_tr_col *c, const void *v, rc_err *err)
{
    if (!c->buf && !(c->buf = malloc(c->cap * c->esize))) {
        tr->failed = 1;
        return rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory buffering %s", tr->tmp, c->where);
    }
    if (c->n == c->cap) {
        rc_status s = rc_tr_col_flush(tr, c, err);
        if (s != RC_OK) return s;
    }
    memcpy(c->buf + c->n * c->esize, v, c->esize);
    c->n++;
    return RC_OK;
}

static void rc_tr_col_free(rc_tr_col *c)
{
    if (c->dset >= 0) H5Dclose(c->dset);
    free(c->buf);
    free(c->where);
    rc_tr_col_init(c);
}

/* ---- teardown ----------------------------------------------------------- */

/* Closes every handle and frees tr except tr->path and tr->tmp, which the
 * caller still needs and frees; returns the H5Fclose result (where HDF5
 * writes its remaining metadata, so it can fail on a full disk). */
static herr_t rc_tr_release(rc_traces *tr)
{
    rc_tr_col *cols[] = { &tr->tsp, &tr->pred, &tr->label, &tr->spiked, &tr->exids };
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) rc_tr_col_free(cols[i]);
    for (size_t i = 0; i < tr->npops; i++) {
        rc_tr_col_free(&tr->pops[i]->ts);
        rc_tr_col_free(&tr->pops[i]->nodes);
        rc_tr_col_free(&tr->pops[i]->ex);
        rc_tr_col_free(&tr->pops[i]->vals);
        free(tr->pops[i]->name);
        free(tr->pops[i]);
    }
    for (size_t i = 0; i < tr->nlayers; i++) {
        if (tr->layers[i]->dset >= 0) H5Dclose(tr->layers[i]->dset);
        rc_tr_col_free(&tr->layers[i]->ids);
        free(tr->layers[i]->name);
        free(tr->layers[i]);
    }
    free(tr->pops);
    free(tr->layers);
    if (tr->spikes >= 0) H5Gclose(tr->spikes);
    if (tr->acts >= 0) H5Gclose(tr->acts);
    herr_t rc = tr->file >= 0 ? rc_h5_fclose(tr->file) : 0;
    free(tr);
    return rc;
}

void rc_traces_abort(rc_traces *tr)
{
    if (!tr) return;
    char *path = tr->path, *tmp = tr->tmp;
    int made = tr->file >= 0;
    rc_tr_release(tr);
    H5Eclear2(H5E_DEFAULT);
    /* Only remove the temp file if we created it (never a foreign folder). */
    if (made && tmp) unlink(tmp);
    free(path);
    free(tmp);
}

/* ---- activation layers ---------------------------------------------------- */

static rc_tr_layer *rc_tr_layer_get(rc_traces *tr, const char *name, int units, rc_err *err,
                                    rc_status *st)
{
    *st = RC_OK;
    for (size_t i = 0; i < tr->nlayers; i++)
        if (!strcmp(tr->layers[i]->name, name)) {
            if (tr->layers[i]->units != units) {
                *st = rc_err_set(err, RC_ERR_DATA,
                                 "%s: activations of layer '%s' have %d units, earlier examples had %d",
                                 tr->tmp, name, units, tr->layers[i]->units);
                return NULL;
            }
            return tr->layers[i];
        }
    if (!rc_h5_name_ok(name)) {
        *st = rc_err_set(err, RC_ERR_DATA, "%s: invalid layer name '%s' (empty or contains '/')",
                         tr->tmp, name ? name : "(null)");
        return NULL;
    }
    if (units < 1) {
        *st = rc_err_set(err, RC_ERR_DATA, "%s: layer '%s' has %d units, expected at least 1",
                         tr->tmp, name, units);
        return NULL;
    }
    rc_tr_layer **nl = realloc(tr->layers, (tr->nlayers + 1) * sizeof *nl);
    rc_tr_layer *l = calloc(1, sizeof *l);
    char *idname = rc_tr_join(name, "_example_ids", "");
    char *where = rc_tr_join("/activations/", name, "");
    if (nl) tr->layers = nl;
    if (!nl || !l || !idname || !where || !(l->name = rc_tr_strdup(name))) {
        free(l);
        free(idname);
        free(where);
        tr->failed = 1;
        *st = rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory", tr->tmp);
        return NULL;
    }
    l->units = units;
    l->dset = H5I_INVALID_HID;
    rc_tr_col_init(&l->ids);
    tr->layers[tr->nlayers++] = l;

    /* One chunk = one example's [T, units] block, so each call writes whole
     * chunks and never reads one back; NaN fill marks "not computed". */
    hsize_t dim[3] = { 0, (hsize_t)tr->T, (hsize_t)units };
    hsize_t maxdim[3] = { H5S_UNLIMITED, (hsize_t)tr->T, (hsize_t)units };
    hsize_t chunk[3] = { 1, (hsize_t)tr->T, (hsize_t)units };
    float nan = NAN;
    hid_t sp = H5Screate_simple(3, dim, maxdim), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (sp >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 3, chunk) >= 0 && H5Pset_shuffle(dcpl) >= 0 &&
        H5Pset_deflate(dcpl, 4) >= 0 && H5Pset_fill_value(dcpl, H5T_NATIVE_FLOAT, &nan) >= 0)
        l->dset = H5Dcreate2(tr->acts, name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (l->dset < 0) rc_h5err_note();
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    if (l->dset < 0) *st = rc_tr_fail(tr, err, "create", where);
    else
        *st = rc_tr_col_create(tr, &l->ids, tr->acts, "/activations", idname, H5T_STD_U64LE,
                               H5T_NATIVE_UINT64, sizeof(uint64_t), RC_TR_IDS_CHUNK, err);
    free(idname);
    free(where);
    return *st == RC_OK ? l : NULL;
}

/* ---- public API --------------------------------------------------------- */

rc_status rc_tr_refuse(const rc_traces *tr, rc_err *err)
{
    return rc_err_set(err, RC_ERR_IO, "%s: trace file not written further after an earlier error",
                      tr->tmp);
}

rc_traces *rc_traces_open(const char *path, const rc_traces_meta *meta, rc_err *err)
{
    RC_ASSERT(path && meta);
    if (meta->T < 1) {
        rc_err_set(err, RC_ERR_CONFIG, "%s: cannot write traces: T = %d, expected >= 1", path, meta->T);
        return NULL;
    }
    if (!(meta->dt_ms > 0) || !isfinite(meta->dt_ms)) {
        rc_err_set(err, RC_ERR_CONFIG, "%s: cannot write traces: dt_ms = %g, expected > 0", path,
                   meta->dt_ms);
        return NULL;
    }
    rc_h5err_reset();

    rc_traces *tr = calloc(1, sizeof *tr);
    if (!tr) {
        rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    tr->file = tr->spikes = tr->acts = H5I_INVALID_HID;
    rc_tr_col *cols[] = { &tr->tsp, &tr->pred, &tr->label, &tr->spiked, &tr->exids };
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) rc_tr_col_init(cols[i]);
    tr->T = meta->T;
    tr->dt_ms = meta->dt_ms;
    tr->path = rc_tr_strdup(path);
    tr->tmp = rc_tr_join(path, ".tmp", "");
    if (!tr->path || !tr->tmp) {
        rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory", path);
        rc_traces_abort(tr);
        return NULL;
    }

    /* 1.8 file format or later: checksummed metadata, and attributes larger
     * than 64 KiB (a long config text) go to dense storage instead of failing.
     * Strong close so H5Fclose in error paths really closes everything. */
    char h5[440];
    struct stat sb;
    const int existed = lstat(tr->tmp, &sb) == 0;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0) rc_h5_lenient_locking(fapl);
    if (fapl < 0 || H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) < 0 ||
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0 ||
        (tr->file = H5Fcreate(tr->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl)) < 0) {
        rc_err_set(err, RC_ERR_IO, "%s: cannot create trace file: %s", tr->tmp, rc_h5err_msg(h5, sizeof h5));
        if (fapl >= 0) H5Pclose(fapl);
        /* A full disk can fail the create after the empty file exists. */
        if (!existed) unlink(tr->tmp);
        rc_traces_abort(tr);
        return NULL;
    }
    H5Pclose(fapl);

    const char *mode = meta->mode ? meta->mode : "";
    uint64_t seed = meta->seed;
    int32_t T32 = meta->T;
    rc_status st = RC_OK;
    hid_t rc = H5I_INVALID_HID;
    const double example_ms = meta->T * meta->dt_ms;
    if (rc_tr_attr_vstr(tr->file, "rcsim_version", meta->version ? meta->version : "") < 0 ||
        rc_tr_attr_vstr(tr->file, "git_revision", meta->git_revision ? meta->git_revision : "") < 0 ||
        rc_tr_attr_vstr(tr->file, "config", meta->config_text ? meta->config_text : "") < 0 ||
        rc_h5_attr_num(tr->file, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &seed) < 0 ||
        rc_h5_attr_num(tr->file, "dt_ms", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &meta->dt_ms) < 0 ||
        rc_h5_attr_num(tr->file, "T", H5T_STD_I32LE, H5T_NATIVE_INT32, &T32) < 0 ||
        rc_h5_attr_num(tr->file, "example_ms", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &example_ms) < 0) {
        st = rc_tr_fail(tr, err, "write root attributes of", "/");
    } else if ((tr->spikes = H5Gcreate2(tr->file, "spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
        st = rc_tr_fail(tr, err, "create", "/spikes");
    } else if ((tr->acts = H5Gcreate2(tr->file, "activations", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
        st = rc_tr_fail(tr, err, "create", "/activations");
    } else if ((rc = H5Gcreate2(tr->file, "rc", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
        st = rc_tr_fail(tr, err, "create", "/rc");
    } else if (rc_h5_attr_num(rc, "threshold", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &meta->threshold) < 0 ||
               rc_h5_attr_num(rc, "beta", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &meta->beta) < 0 ||
               rc_h5_attr_num(rc, "delta_x", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &meta->delta_x) < 0 ||
               rc_h5_attr_num(rc, "delta_h", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &meta->delta_h) < 0 ||
               rc_tr_attr_vstr(rc, "mode", mode) < 0 ||
               rc_h5_attr_num(rc, "T", H5T_STD_I32LE, H5T_NATIVE_INT32, &T32) < 0) {
        st = rc_tr_fail(tr, err, "write attributes of", "/rc");
    } else {
        struct { rc_tr_col *c; const char *name; hid_t ft, mt; size_t es; } spec[] = {
            { &tr->tsp, "t_sp", H5T_STD_I32LE, H5T_NATIVE_INT32, sizeof(int32_t) },
            { &tr->pred, "pred", H5T_STD_I32LE, H5T_NATIVE_INT32, sizeof(int32_t) },
            { &tr->label, "label", H5T_STD_I32LE, H5T_NATIVE_INT32, sizeof(int32_t) },
            { &tr->spiked, "spiked", H5T_STD_U8LE, H5T_NATIVE_UINT8, sizeof(uint8_t) },
            { &tr->exids, "example_ids", H5T_STD_U64LE, H5T_NATIVE_UINT64, sizeof(uint64_t) },
        };
        for (size_t i = 0; i < sizeof spec / sizeof spec[0] && st == RC_OK; i++)
            st = rc_tr_col_create(tr, spec[i].c, rc, "/rc", spec[i].name, spec[i].ft, spec[i].mt,
                                  spec[i].es, RC_TR_CHUNK, err);
    }
    if (rc >= 0) H5Gclose(rc);
    /* Readers expect the output population even when nothing spiked. */
    if (st == RC_OK && !meta->no_output) rc_tr_pop_get(tr, "output", err, &st);
    if (st != RC_OK) {
        rc_traces_abort(tr);
        return NULL;
    }
    return tr;
}

rc_status rc_traces_add_example(rc_traces *tr, uint64_t example_id, int tsp, int pred, int label,
                                int spiked, rc_err *err)
{
    RC_ASSERT(tr);
    if (tr->failed) return rc_tr_refuse(tr, err);
    /* Rows are per example in id order (see traces.h); anything else is a bug
     * in the caller, not a user error. */
    RC_ASSERT(!tr->any_example || example_id >= tr->last_example);
    RC_ASSERT(tsp < INT32_MAX);
    tr->any_example = 1;
    tr->last_example = example_id;
    int32_t t1 = (int32_t)tsp + 1, p = pred, l = label;
    uint8_t s = spiked != 0;
    rc_status st;
    if ((st = rc_tr_col_put(tr, &tr->tsp, &t1, err)) != RC_OK ||
        (st = rc_tr_col_put(tr, &tr->pred, &p, err)) != RC_OK ||
        (st = rc_tr_col_put(tr, &tr->label, &l, err)) != RC_OK ||
        (st = rc_tr_col_put(tr, &tr->spiked, &s, err)) != RC_OK ||
        (st = rc_tr_col_put(tr, &tr->exids, &example_id, err)) != RC_OK)
        return st;
    return RC_OK;
}

rc_status rc_traces_add_activations(rc_traces *tr, const char *layer, uint64_t example_id,
                                    const float *act, int units, rc_err *err)
{
    RC_ASSERT(tr && act);
    if (tr->failed) return rc_tr_refuse(tr, err);
    rc_status st;
    rc_tr_layer *l = rc_tr_layer_get(tr, layer, units, err, &st);
    if (!l) return st;

    hsize_t size[3] = { l->n + 1, (hsize_t)tr->T, (hsize_t)units };
    hsize_t start[3] = { l->n, 0, 0 }, count[3] = { 1, (hsize_t)tr->T, (hsize_t)units };
    hid_t fs = H5I_INVALID_HID, ms = H5I_INVALID_HID;
    herr_t rc = -1;
    if (H5Dset_extent(l->dset, size) >= 0 && (fs = H5Dget_space(l->dset)) >= 0 &&
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
        (ms = H5Screate_simple(3, count, NULL)) >= 0)
        rc = H5Dwrite(l->dset, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, act);
    if (rc < 0) rc_h5err_note();
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    if (rc < 0) {
        char where[300];
        snprintf(where, sizeof where, "/activations/%s", layer);
        return rc_tr_fail(tr, err, "write", where);
    }
    l->n++;
    return rc_tr_col_put(tr, &l->ids, &example_id, err);
}

rc_status rc_traces_close(rc_traces *tr, rc_err *err)
{
    RC_ASSERT(tr);
    if (tr->failed) {
        rc_status st = rc_tr_refuse(tr, err);
        rc_traces_abort(tr);
        return st;
    }
    rc_status st = RC_OK;
    rc_tr_col *cols[] = { &tr->tsp, &tr->pred, &tr->label, &tr->spiked, &tr->exids };
    for (size_t i = 0; i < sizeof cols / sizeof cols[0] && st == RC_OK; i++)
        st = rc_tr_col_flush(tr, cols[i], err);
    for (size_t i = 0; i < tr->npops && st == RC_OK; i++) {
        rc_tr_pop *p = tr->pops[i];
        if ((st = rc_tr_col_flush(tr, &p->ts, err)) == RC_OK &&
            (st = rc_tr_col_flush(tr, &p->nodes, err)) == RC_OK &&
            (st = rc_tr_col_flush(tr, &p->ex, err)) == RC_OK && p->vals.dset >= 0)
            st = rc_tr_col_flush(tr, &p->vals, err);
    }
    for (size_t i = 0; i < tr->nlayers && st == RC_OK; i++)
        st = rc_tr_col_flush(tr, &tr->layers[i]->ids, err);
    if (st != RC_OK) {
        rc_traces_abort(tr);
        return st;
    }

    char *path = tr->path, *tmp = tr->tmp;
    RC_ASSERT(path && tmp); /* set by open; also tells the compiler so */
    char h5[440];
    if (rc_tr_release(tr) < 0) {
        st = rc_err_set(err, RC_ERR_IO, "%s: cannot finish trace file: %s", tmp, rc_h5err_msg(h5, sizeof h5));
        unlink(tmp);
    } else if ((st = rc_h5guard_seal(tmp, err)) != RC_OK) {
        /* The whole-file CRC-32 trailer and fsync (HDF5 does not fsync)
         * failed: the file never becomes visible under path. */
        unlink(tmp);
    } else if (rename(tmp, path) != 0) {
        st = rc_err_set(err, RC_ERR_IO, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
        unlink(tmp);
    } else if (rc_h5_sync_dir(path) != 0) {
        st = rc_err_set(err, RC_ERR_IO, "%s: written, but cannot sync its folder: %s", path, strerror(errno));
    }
    free(path);
    free(tmp);
    return st;
}
