/* nir.c — writes a chain of spiking layers as a NIR graph (layout in nir.h).
 * Node names: input, conv1, conv1_lif, pool1, ..., flatten, fc1, fc1_lif,
 * ..., output; edges in chain order. Every parameter is a plain dataset, as
 * the NIR Python package writes them, so h5py and nir.read see one layout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <hdf5.h>
#include "io/h5util.h"
#include "io/nir.h"

#define NIR_VERSION "1.0.6"

/* Scalar variable-length UTF-8 string dataset. */
static herr_t w_str(hid_t g, const char *name, const char *s)
{
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR), d = H5I_INVALID_HID;
    herr_t r = -1;
    if (t >= 0 && sp >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
        (d = H5Dcreate2(g, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) >= 0)
        r = H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s);
    if (r < 0) rc_h5err_note();
    if (d >= 0) H5Dclose(d);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    return r;
}

/* Dataset of rank `rank` (0 = scalar) from memory type mt, stored as ft. */
static herr_t w_arr(hid_t g, const char *name, hid_t ft, hid_t mt, int rank, const hsize_t *dims, const void *v)
{
    hid_t sp = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR), d = H5I_INVALID_HID;
    herr_t r = -1;
    if (sp >= 0 && (d = H5Dcreate2(g, name, ft, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) >= 0)
        r = H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    if (r < 0) rc_h5err_note();
    if (d >= 0) H5Dclose(d);
    if (sp >= 0) H5Sclose(sp);
    return r;
}

static herr_t w_i64(hid_t g, const char *name, int rank, const long long *v)
{
    hsize_t n = (hsize_t)rank;
    return w_arr(g, name, H5T_STD_I64LE, H5T_NATIVE_LLONG, rank ? 1 : 0, &n, v);
}

static herr_t w_f64(hid_t g, const char *name, double v)
{
    return w_arr(g, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &v);
}

/* A node group under nodes with its type. */
static hid_t node_new(hid_t nodes, const char *name, const char *type)
{
    hid_t g = H5Gcreate2(nodes, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) { rc_h5err_note(); return g; }
    if (w_str(g, "type", type) < 0) { H5Gclose(g); return -1; }
    return g;
}

/* The LIF node after layer L: five per-neuron arrays of its output shape. */
static herr_t w_lif(hid_t nodes, const char *name, const rc_nir_layer *L)
{
    hid_t g = node_new(nodes, name, "LIF");
    if (g < 0) return -1;
    hsize_t dims[3] = { (hsize_t)L->cout, (hsize_t)L->hout, (hsize_t)L->wout };
    const int rank = L->kind == RC_NIR_CONV ? 3 : 1;
    herr_t r = 0;
    const char *nm[5] = { "tau", "r", "v_leak", "v_threshold", "v_reset" };
    const double *v[5] = { L->tau, L->r, L->v_leak, L->v_th, L->v_reset };
    for (int i = 0; i < 5 && r >= 0; i++) r = w_arr(g, nm[i], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, rank, dims, v[i]);
    H5Gclose(g);
    return r;
}

static herr_t w_conv(hid_t nodes, const char *name, const rc_nir_layer *L)
{
    hid_t g = node_new(nodes, name, "Conv2d");
    if (g < 0) return -1;
    hsize_t wd[4] = { (hsize_t)L->cout, (hsize_t)L->cin, (hsize_t)L->k, (hsize_t)L->k }, bd = (hsize_t)L->cout;
    const long long one[2] = { 1, 1 }, pad[2] = { L->pad, L->pad }, ins[2] = { L->hin, L->win }, groups = 1;
    float *zero = L->b ? NULL : calloc((size_t)L->cout, sizeof *zero);
    herr_t r = (!L->b && !zero) ? -1 : 0;
    if (r >= 0) r = w_arr(g, "weight", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 4, wd, L->w);
    if (r >= 0) r = w_arr(g, "bias", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &bd, L->b ? L->b : zero);
    if (r >= 0) r = w_i64(g, "stride", 2, one);
    if (r >= 0) r = w_i64(g, "padding", 2, pad);
    if (r >= 0) r = w_i64(g, "dilation", 2, one);
    if (r >= 0) r = w_i64(g, "groups", 0, &groups);
    if (r >= 0) r = w_i64(g, "input_shape", 2, ins);
    free(zero);
    H5Gclose(g);
    return r;
}

static herr_t w_fc(hid_t nodes, const char *name, const rc_nir_layer *L)
{
    hid_t g = node_new(nodes, name, L->b ? "Affine" : "Linear");
    if (g < 0) return -1;
    hsize_t wd[2] = { (hsize_t)L->cout, (hsize_t)L->cin }, bd = (hsize_t)L->cout;
    herr_t r = w_arr(g, "weight", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, wd, L->w);
    if (r >= 0 && L->b) r = w_arr(g, "bias", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &bd, L->b);
    H5Gclose(g);
    return r;
}

static herr_t w_pool(hid_t nodes, const char *name)
{
    hid_t g = node_new(nodes, name, "AvgPool2d");
    if (g < 0) return -1;
    const long long two[2] = { 2, 2 }, zero[2] = { 0, 0 };
    herr_t r = w_i64(g, "kernel_size", 2, two);
    if (r >= 0) r = w_i64(g, "stride", 2, two);
    if (r >= 0) r = w_i64(g, "padding", 2, zero);
    H5Gclose(g);
    return r;
}

static herr_t w_shape_node(hid_t nodes, const char *name, const char *type, int rank, const int *shape)
{
    hid_t g = node_new(nodes, name, type);
    if (g < 0) return -1;
    long long s[3];
    for (int i = 0; i < rank; i++) s[i] = shape[i];
    herr_t r = w_i64(g, "shape", rank, s);
    H5Gclose(g);
    return r;
}

static herr_t w_flatten(hid_t nodes, const rc_nir_layer *L)
{
    hid_t g = node_new(nodes, "flatten", "Flatten");
    if (g < 0) return -1;
    const long long s0 = 0, e = -1, in[3] = { L->cflat, L->hflat, L->wflat };
    herr_t r = w_i64(g, "start_dim", 0, &s0);
    if (r >= 0) r = w_i64(g, "end_dim", 0, &e);
    if (r >= 0) r = w_i64(g, "input_type", 3, in);
    H5Gclose(g);
    return r;
}

static herr_t w_meta(hid_t top, const rc_nir_meta *m)
{
    hid_t g = H5Gcreate2(top, "metadata", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) { rc_h5err_note(); return -1; }
    const long long bias = m->bias;
    herr_t r = w_f64(g, "dt", m->dt);
    if (r >= 0) r = w_f64(g, "rcsim_dt_ms", m->dt_ms);
    if (r >= 0) r = w_str(g, "reset_mode", m->reset_sub ? "subtract" : "zero");
    if (r >= 0) r = w_f64(g, "rcsim_beta", m->beta);
    if (r >= 0) r = w_i64(g, "rcsim_bias", 0, &bias);
    if (r >= 0) r = w_str(g, "rcsim_layers", m->layers);
    if (r >= 0) r = w_str(g, "source", "rcsim");
    H5Gclose(g);
    return r;
}

/* Every node, then the edges between consecutive names. */
static herr_t w_graph(hid_t top, const rc_nir_net *n)
{
    enum { MAXN = 3 * RC_NIR_MAX_LAYERS + 4 };
    char names[MAXN][64];
    int nn = 0, nconv = 0, nfc = 0, npool = 0;
    hid_t nodes = H5Gcreate2(top, "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (nodes < 0) { rc_h5err_note(); return -1; }
    herr_t r = w_shape_node(nodes, "input", "Input", n->in_rank, n->in_shape);
    snprintf(names[nn++], 64, "input");
    int last_shape[3] = { n->in_shape[0], n->in_shape[1], n->in_shape[2] }, last_rank = n->in_rank;
    for (int l = 0; l < n->nl && r >= 0; l++) {
        const rc_nir_layer *L = &n->L[l];
        char nm[32], lif[48];
        if (L->kind == RC_NIR_POOL) {
            snprintf(nm, sizeof nm, "pool%d", ++npool);
            r = w_pool(nodes, nm);
            snprintf(names[nn++], 64, "%s", nm);
        } else {
            if (L->kind == RC_NIR_FC && L->flat) {
                r = w_flatten(nodes, L);
                snprintf(names[nn++], 64, "flatten");
            }
            snprintf(nm, sizeof nm, L->kind == RC_NIR_CONV ? "conv%d" : "fc%d", L->kind == RC_NIR_CONV ? ++nconv : ++nfc);
            snprintf(lif, sizeof lif, "%s_lif", nm);
            if (r >= 0) r = L->kind == RC_NIR_CONV ? w_conv(nodes, nm, L) : w_fc(nodes, nm, L);
            if (r >= 0) r = w_lif(nodes, lif, L);
            snprintf(names[nn++], 64, "%s", nm);
            snprintf(names[nn++], 64, "%s", lif);
        }
        last_rank = L->kind == RC_NIR_FC ? 1 : 3;
        last_shape[0] = L->cout; last_shape[1] = L->hout; last_shape[2] = L->wout;
    }
    if (r >= 0) r = w_shape_node(nodes, "output", "Output", last_rank, last_shape);
    snprintf(names[nn++], 64, "output");
    H5Gclose(nodes);
    if (r < 0) return r;
    const char *e[2 * MAXN];
    for (int i = 0; i + 1 < nn; i++) { e[2 * i] = names[i]; e[2 * i + 1] = names[i + 1]; }
    hsize_t dims[2] = { (hsize_t)(nn - 1), 2 };
    hid_t t = H5Tcopy(H5T_C_S1);
    r = t >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0 ? 0 : -1;
    if (r >= 0) r = w_arr(top, "edges", t, t, 2, dims, e);
    if (t >= 0) H5Tclose(t);
    return r;
}

rc_status rc_nir_write(const char *path, const rc_nir_net *n, rc_err *err)
{
    rc_h5err_reset();
    char tmp[4200], h5[512];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return rc_err_set(err, RC_ERR_IO, "%s: path too long", path);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), f = H5I_INVALID_HID;
    rc_h5_lenient_locking(fapl);
    if (fapl >= 0 && H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) >= 0)
        f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (f < 0) rc_h5err_note();
    if (fapl >= 0) H5Pclose(fapl);
    if (f < 0) return rc_err_set(err, RC_ERR_IO, "%s: cannot create NIR file: %s", tmp, rc_h5err_msg(h5, sizeof h5));
    herr_t r = w_str(f, "version", NIR_VERSION);
    hid_t top = r >= 0 ? H5Gcreate2(f, "node", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    if (top < 0) { rc_h5err_note(); r = -1; }
    if (r >= 0) r = w_str(top, "type", "NIRGraph");
    if (r >= 0) r = w_graph(top, n);
    if (r >= 0) r = w_meta(top, &n->meta);
    if (top >= 0) H5Gclose(top);
    if (rc_h5_fclose(f) < 0) r = -1;
    rc_status st = RC_OK;
    if (r < 0) st = rc_err_set(err, RC_ERR_IO, "%s: cannot write NIR file: %s", tmp, rc_h5err_msg(h5, sizeof h5));
    if (!st) {
        FILE *fp = fopen(tmp, "rb+");
        if (!fp || fsync(fileno(fp)) != 0) st = rc_err_set(err, RC_ERR_IO, "%s: cannot sync: %s", tmp, strerror(errno));
        if (fp) fclose(fp);
    }
    if (!st && rename(tmp, path) != 0)
        st = rc_err_set(err, RC_ERR_IO, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
    if (st) { unlink(tmp); return st; }
    rc_h5_sync_dir(path);
    return RC_OK;
}

void rc_nir_free(rc_nir_net *n)
{
    if (!n) return;
    for (int l = 0; l < n->nl; l++) {
        rc_nir_layer *L = &n->L[l];
        free(L->w); free(L->b); free(L->tau); free(L->r); free(L->v_leak); free(L->v_th); free(L->v_reset);
        L->w = L->b = NULL;
        L->tau = L->r = L->v_leak = L->v_th = L->v_reset = NULL;
    }
    n->nl = 0;
}
