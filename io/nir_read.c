/* nir_read.c — reads a NIR file whose graph is a chain of conv / pool / fc
 * spiking layers (nir.h) and refuses, with one line naming the node,
 * everything else: node types rcsim has no equivalent for, graphs that
 * branch or merge, parameters whose shapes do not fit the chain. The file
 * goes through h5guard before libhdf5 reads it, as every HDF5 input does. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hdf5.h>
#include "io/h5guard.h"
#include "io/h5util.h"
#include "io/nir.h"

#define MAXNODES 128

typedef struct {
    const char *path;
    rc_err *err;
    hid_t nodes;
    int nn;
    char name[MAXNODES][64];
    char type[MAXNODES][32];
} rd;

/* A string dataset (scalar; variable or fixed length) into buf. −1 if
 * missing or not a string. */
static int rd_str(hid_t g, const char *name, char *buf, size_t cap)
{
    buf[0] = 0;
    if (H5Lexists(g, name, H5P_DEFAULT) <= 0) return -1;
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT), ft = d >= 0 ? H5Dget_type(d) : -1, sp = d >= 0 ? H5Dget_space(d) : -1;
    int ok = -1;
    if (ft >= 0 && H5Tget_class(ft) == H5T_STRING && sp >= 0 && H5Sget_simple_extent_npoints(sp) == 1) {
        if (H5Tis_variable_str(ft) > 0) {
            hid_t mt = H5Tcopy(H5T_C_S1);
            char *s = NULL;
            H5Tset_size(mt, H5T_VARIABLE);
            H5Tset_cset(mt, H5Tget_cset(ft));
            if (H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s) >= 0 && s) {
                snprintf(buf, cap, "%s", s);
                ok = 0;
            }
            if (s) H5free_memory(s);
            H5Tclose(mt);
        } else {
            size_t n = H5Tget_size(ft);
            char *s = calloc(n + 1, 1);
            hid_t mt = H5Tcopy(ft);
            if (s && mt >= 0 && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) >= 0) {
                snprintf(buf, cap, "%.*s", (int)n, s);
                ok = 0;
            }
            if (mt >= 0) H5Tclose(mt);
            free(s);
        }
    }
    if (sp >= 0) H5Sclose(sp);
    if (ft >= 0) H5Tclose(ft);
    if (d >= 0) H5Dclose(d);
    return ok;
}

/* Rank and dims (up to 4) of a numeric dataset; −1 if missing, not numeric
 * or of rank > 4. */
static int rd_dims(hid_t g, const char *name, int *rank, long long *dims)
{
    if (H5Lexists(g, name, H5P_DEFAULT) <= 0) return -1;
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT), ft = d >= 0 ? H5Dget_type(d) : -1, sp = d >= 0 ? H5Dget_space(d) : -1;
    int ok = -1;
    H5T_class_t c = ft >= 0 ? H5Tget_class(ft) : H5T_NO_CLASS;
    if ((c == H5T_FLOAT || c == H5T_INTEGER) && sp >= 0) {
        hsize_t h[8];
        int r = H5Sget_simple_extent_ndims(sp);
        if (r >= 0 && r <= 4 && H5Sget_simple_extent_dims(sp, h, NULL) == r) {
            *rank = r;
            for (int i = 0; i < r; i++) dims[i] = (long long)h[i];
            ok = 0;
        }
    }
    if (sp >= 0) H5Sclose(sp);
    if (ft >= 0) H5Tclose(ft);
    if (d >= 0) H5Dclose(d);
    return ok;
}

static long long count_of(int rank, const long long *dims)
{
    long long n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    return n;
}

/* The whole numeric dataset converted to memory type mt into out (n
 * elements, the exact count required). */
static int rd_num(hid_t g, const char *name, hid_t mt, void *out, long long n)
{
    int rank;
    long long dims[4];
    if (rd_dims(g, name, &rank, dims) || count_of(rank, dims) != n) return -1;
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    int ok = d >= 0 && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0 ? 0 : -1;
    if (d >= 0) H5Dclose(d);
    return ok;
}

/* A pair parameter (stride, padding, ...): a scalar or two integers. */
static int rd_pair(hid_t g, const char *name, long long v[2])
{
    int rank;
    long long dims[4];
    if (rd_dims(g, name, &rank, dims)) return -1;
    long long n = count_of(rank, dims);
    if (n == 1) { if (rd_num(g, name, H5T_NATIVE_LLONG, v, 1)) return -1; v[1] = v[0]; return 0; }
    return n == 2 ? rd_num(g, name, H5T_NATIVE_LLONG, v, 2) : -1;
}

static rc_status bad(rd *R, int i, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static rc_status bad(rd *R, int i, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return rc_err_set(R->err, RC_ERR_DATA, "%s: node '%s' (%s): %s", R->path, R->name[i], R->type[i], what);
}

static herr_t list_cb(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    (void)g; (void)info;
    rd *R = data;
    if (R->nn == MAXNODES) return 1;
    snprintf(R->name[R->nn++], 64, "%s", name);
    return 0;
}

static int find(const rd *R, const char *name)
{
    for (int i = 0; i < R->nn; i++)
        if (!strcmp(R->name[i], name)) return i;
    return -1;
}

/* The edges as a successor per node (succ[i] = −1: none); refuses nodes
 * with two successors or predecessors and names edges to unknown nodes. */
static rc_status rd_edges(rd *R, hid_t top, int *succ)
{
    int pred[MAXNODES];
    for (int i = 0; i < R->nn; i++) succ[i] = pred[i] = -1;
    hid_t d = H5Lexists(top, "edges", H5P_DEFAULT) > 0 ? H5Dopen2(top, "edges", H5P_DEFAULT) : -1;
    if (d < 0) return rc_err_set(R->err, RC_ERR_DATA, "%s: /node/edges is missing; expected (E, 2) node-name pairs", R->path);
    hid_t ft = H5Dget_type(d), sp = H5Dget_space(d);
    hsize_t dims[2] = { 0, 0 };
    const int ok = H5Tget_class(ft) == H5T_STRING && H5Sget_simple_extent_ndims(sp) == 2 &&
                   H5Sget_simple_extent_dims(sp, dims, NULL) == 2 && dims[1] == 2 && dims[0] <= 4 * MAXNODES;
    const int var = ok && H5Tis_variable_str(ft) > 0;
    const size_t fl = ok && !var ? H5Tget_size(ft) : 0, ne = (size_t)dims[0] * 2;
    char **vs = var ? calloc(ne + 1, sizeof *vs) : NULL, *fs = ok && !var ? calloc(ne * fl + 1, 1) : NULL;
    hid_t mt = H5Tcopy(var ? H5T_C_S1 : ft);
    if (var) { H5Tset_size(mt, H5T_VARIABLE); H5Tset_cset(mt, H5Tget_cset(ft)); }
    int rok = ok && (var ? vs != NULL : fs != NULL) && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, var ? (void *)vs : (void *)fs) >= 0;
    rc_status st = RC_OK;
    if (!rok)
        st = rc_err_set(R->err, RC_ERR_DATA, "%s: /node/edges: expected an (E, 2) dataset of node-name strings", R->path);
    for (size_t e = 0; e < (size_t)dims[0] && !st; e++) {
        char a[64], b[64];
        if (var) { snprintf(a, sizeof a, "%s", vs[2 * e] ? vs[2 * e] : ""); snprintf(b, sizeof b, "%s", vs[2 * e + 1] ? vs[2 * e + 1] : ""); }
        else { snprintf(a, sizeof a, "%.*s", (int)fl, fs + 2 * e * fl); snprintf(b, sizeof b, "%.*s", (int)fl, fs + (2 * e + 1) * fl); }
        const int ia = find(R, a), ib = find(R, b);
        if (ia < 0 || ib < 0)
            st = rc_err_set(R->err, RC_ERR_DATA, "%s: edge %zu ('%s' -> '%s') names a node that /node/nodes does not have",
                            R->path, e, a, b);
        else if (succ[ia] >= 0)
            st = bad(R, ia, "has two outgoing edges (to '%s' and '%s'); rcsim reads a chain of layers only",
                     R->name[succ[ia]], b);
        else if (pred[ib] >= 0)
            st = bad(R, ib, "has two incoming edges (from '%s' and '%s'); rcsim reads a chain of layers only",
                     R->name[pred[ib]], a);
        else { succ[ia] = ib; pred[ib] = ia; }
    }
    if (var && rok) H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, vs);
    free(vs);
    free(fs);
    H5Tclose(mt);
    H5Sclose(sp);
    H5Tclose(ft);
    H5Dclose(d);
    return st;
}

/* ---- the chain ------------------------------------------------------------ */

/* Walking state: the current tensor's shape and the layer awaiting its LIF. */
typedef struct {
    int rank;            /* 1 or 3 */
    long long s[3];      /* [N] or [C, H, W] */
    int need_lif;        /* index of the conv/fc layer without its LIF, or −1 */
    int flat;            /* a Flatten of flat_s is pending for the next fc */
    long long flat_s[3];
} walk;

static rc_nir_layer *layer_new(rd *R, int i, rc_nir_net *n)
{
    if (n->nl == RC_NIR_MAX_LAYERS) {
        bad(R, i, "more than %d layers", RC_NIR_MAX_LAYERS);
        return NULL;
    }
    rc_nir_layer *L = &n->L[n->nl++];
    memset(L, 0, sizeof *L);
    snprintf(L->name, sizeof L->name, "%s", R->name[i]);
    return L;
}

static rc_status rd_input(rd *R, int i, hid_t g, rc_nir_net *n, walk *W)
{
    int rank;
    long long d[4], v[3];
    if (rd_dims(g, "shape", &rank, d) || rank != 1 || d[0] < 1 || d[0] > 3 || rd_num(g, "shape", H5T_NATIVE_LLONG, v, d[0]))
        return bad(R, i, "expected 'shape' with 1 to 3 integers ([N], [H, W] or [C, H, W])");
    if (d[0] == 2) { v[2] = v[1]; v[1] = v[0]; v[0] = 1; d[0] = 3; }
    for (int k = 0; k < d[0]; k++)
        if (v[k] < 1 || v[k] > (1 << 24)) return bad(R, i, "shape entry %lld is out of range", v[k]);
    n->in_rank = W->rank = (int)d[0];
    for (int k = 0; k < 3; k++) n->in_shape[k] = (int)(W->s[k] = k < d[0] ? v[k] : 1);
    return RC_OK;
}

static rc_status rd_conv(rd *R, int i, hid_t g, rc_nir_net *n, walk *W)
{
    int rank;
    long long d[4], st[2], dl[2], pd[2] = { 0, 0 }, ins[2], grp = 1;
    if (W->rank != 3) return bad(R, i, "a conv needs a [C, H, W] input; here the input is flat (%lld values)", W->s[0]);
    if (rd_dims(g, "weight", &rank, d) || rank != 4)
        return bad(R, i, "expected 'weight' of shape (Cout, Cin, k, k)");
    if (d[1] != W->s[0] || d[2] != d[3])
        return bad(R, i, "weight is (%lld, %lld, %lld, %lld); expected Cin = %lld input channels and a square kernel",
                   d[0], d[1], d[2], d[3], W->s[0]);
    if (rd_pair(g, "stride", st) || st[0] != 1 || st[1] != 1) return bad(R, i, "expected stride 1 (rcsim's convs have stride 1)");
    if (H5Lexists(g, "dilation", H5P_DEFAULT) > 0 && (rd_pair(g, "dilation", dl) || dl[0] != 1 || dl[1] != 1))
        return bad(R, i, "expected dilation 1");
    if (H5Lexists(g, "groups", H5P_DEFAULT) > 0 && (rd_num(g, "groups", H5T_NATIVE_LLONG, &grp, 1) || grp != 1))
        return bad(R, i, "expected groups = 1");
    char ps[16];
    if (!rd_str(g, "padding", ps, sizeof ps)) {
        if (!strcmp(ps, "same") && d[2] % 2) pd[0] = pd[1] = d[2] / 2;
        else if (strcmp(ps, "valid")) return bad(R, i, "padding '%s': expected an integer, 'valid' or 'same' with an odd kernel", ps);
    } else if (rd_pair(g, "padding", pd) || pd[0] != pd[1] || pd[0] < 0 || pd[0] >= d[2])
        return bad(R, i, "expected equal padding on both axes, below the kernel size %lld", d[2]);
    if (H5Lexists(g, "input_shape", H5P_DEFAULT) > 0 &&
        (rd_pair(g, "input_shape", ins) || ins[0] != W->s[1] || ins[1] != W->s[2]))
        return bad(R, i, "input_shape does not match the %lldx%lld map that reaches it", W->s[1], W->s[2]);
    rc_nir_layer *L = layer_new(R, i, n);
    if (!L) return RC_ERR_DATA;
    L->kind = RC_NIR_CONV;
    L->cin = (int)d[1]; L->hin = (int)W->s[1]; L->win = (int)W->s[2];
    L->cout = (int)d[0]; L->k = (int)d[2]; L->pad = (int)pd[0];
    L->hout = L->hin + 2 * L->pad - L->k + 1; L->wout = L->win + 2 * L->pad - L->k + 1;
    if (L->cout < 1 || L->hout < 1 || L->wout < 1) return bad(R, i, "the output map is empty");
    const long long nw = count_of(4, d);
    if (!(L->w = malloc((size_t)nw * sizeof *L->w)) || !(L->b = calloc((size_t)L->cout, sizeof *L->b)))
        return rc_err_set(R->err, RC_ERR_NOMEM, "%s: out of memory", R->path);
    if (rd_num(g, "weight", H5T_NATIVE_FLOAT, L->w, nw)) return bad(R, i, "cannot read 'weight'");
    if (H5Lexists(g, "bias", H5P_DEFAULT) > 0 && rd_num(g, "bias", H5T_NATIVE_FLOAT, L->b, L->cout))
        return bad(R, i, "expected 'bias' of %d values", L->cout);
    W->s[0] = L->cout; W->s[1] = L->hout; W->s[2] = L->wout;
    W->need_lif = n->nl - 1;
    return RC_OK;
}

static rc_status rd_fc(rd *R, int i, hid_t g, rc_nir_net *n, walk *W, int affine)
{
    int rank;
    long long d[4];
    if (W->rank != 1) return bad(R, i, "its input is a %lldx%lldx%lld map; expected a Flatten before it", W->s[0], W->s[1], W->s[2]);
    if (rd_dims(g, "weight", &rank, d) || rank != 2)
        return bad(R, i, "expected 'weight' of shape (Nout, %lld)", W->s[0]);
    if (d[1] != W->s[0] || d[0] < 1)
        return bad(R, i, "weight is (%lld, %lld); expected (Nout, %lld): the layer before it has %lld outputs", d[0], d[1],
                   W->s[0], W->s[0]);
    rc_nir_layer *L = layer_new(R, i, n);
    if (!L) return RC_ERR_DATA;
    L->kind = RC_NIR_FC;
    L->cin = (int)d[1]; L->hin = L->win = 1;
    L->cout = (int)d[0]; L->hout = L->wout = 1;
    L->flat = W->flat;
    L->cflat = (int)W->flat_s[0]; L->hflat = (int)W->flat_s[1]; L->wflat = (int)W->flat_s[2];
    W->flat = 0;
    if (!(L->w = malloc((size_t)(d[0] * d[1]) * sizeof *L->w)) || (affine && !(L->b = malloc((size_t)d[0] * sizeof *L->b))))
        return rc_err_set(R->err, RC_ERR_NOMEM, "%s: out of memory", R->path);
    if (rd_num(g, "weight", H5T_NATIVE_FLOAT, L->w, d[0] * d[1])) return bad(R, i, "cannot read 'weight'");
    if (affine && rd_num(g, "bias", H5T_NATIVE_FLOAT, L->b, d[0])) return bad(R, i, "expected 'bias' of %lld values", d[0]);
    W->s[0] = d[0];
    W->need_lif = n->nl - 1;
    return RC_OK;
}

/* One per-neuron LIF parameter: n values, or one broadcast to all. */
static int rd_neuron(hid_t g, const char *name, double **out, long long n, double dflt)
{
    int rank;
    long long d[4];
    if (!(*out = malloc((size_t)n * sizeof **out))) return -1;
    if (H5Lexists(g, name, H5P_DEFAULT) <= 0) {
        if (dflt != dflt) return -1; /* NaN: required */
        for (long long k = 0; k < n; k++) (*out)[k] = dflt;
        return 0;
    }
    if (rd_dims(g, name, &rank, d)) return -1;
    const long long c = count_of(rank, d);
    if (c == n) return rd_num(g, name, H5T_NATIVE_DOUBLE, *out, n);
    if (c != 1 || rd_num(g, name, H5T_NATIVE_DOUBLE, *out, 1)) return -1;
    for (long long k = 1; k < n; k++) (*out)[k] = (*out)[0];
    return 0;
}

static rc_status rd_lif(rd *R, int i, hid_t g, rc_nir_net *n, walk *W)
{
    if (W->need_lif < 0) return bad(R, i, "a LIF must follow a Conv2d, Affine or Linear node (rcsim's layers are conv or fc + LIF)");
    rc_nir_layer *L = &n->L[W->need_lif];
    snprintf(L->lif, sizeof L->lif, "%s", R->name[i]);
    const long long N = (long long)L->cout * L->hout * L->wout;
    const char *nm[5] = { "tau", "r", "v_leak", "v_threshold", "v_reset" };
    double **v[5] = { &L->tau, &L->r, &L->v_leak, &L->v_th, &L->v_reset };
    for (int k = 0; k < 5; k++)
        if (rd_neuron(g, nm[k], v[k], N, k == 4 ? 0.0 : (double)NAN))
            return bad(R, i, "expected '%s' with %lld values (one per neuron of '%s') or one", nm[k], N, L->name);
    W->need_lif = -1;
    return RC_OK;
}

/* AvgPool2d, or SumPool2d followed by a Scale of 0.25 (*skip = 1). */
static rc_status rd_pool(rd *R, int i, hid_t g, rc_nir_net *n, walk *W, int sum, int next, int *skip)
{
    long long k[2], s[2], p[2] = { 0, 0 };
    if (n->nl == 0 || n->L[n->nl - 1].kind != RC_NIR_CONV || W->need_lif >= 0)
        return bad(R, i, "a pool must follow a conv layer's LIF");
    if (rd_pair(g, "kernel_size", k) || k[0] != 2 || k[1] != 2) return bad(R, i, "expected kernel_size 2 (rcsim pools 2x2)");
    if (H5Lexists(g, "stride", H5P_DEFAULT) > 0 && (rd_pair(g, "stride", s) || s[0] != 2 || s[1] != 2))
        return bad(R, i, "expected stride 2");
    if (H5Lexists(g, "padding", H5P_DEFAULT) > 0 && (rd_pair(g, "padding", p) || p[0] || p[1]))
        return bad(R, i, "expected padding 0");
    if (sum) {
        const long long C = W->s[0];
        int rank;
        long long d[4];
        hid_t h = next >= 0 && !strcmp(R->type[next], "Scale") ? H5Gopen2(R->nodes, R->name[next], H5P_DEFAULT) : -1;
        int ok = h >= 0 && !rd_dims(h, "scale", &rank, d);
        long long c = ok ? count_of(rank, d) : 0;
        double *v = ok && c > 0 && c <= C * W->s[1] * W->s[2] ? malloc((size_t)c * sizeof *v) : NULL;
        ok = v && !rd_num(h, "scale", H5T_NATIVE_DOUBLE, v, c);
        for (long long q = 0; ok && q < c; q++) ok = v[q] == 0.25;
        free(v);
        if (h >= 0) H5Gclose(h);
        if (!ok) return bad(R, i, "a SumPool2d must be followed by a Scale of 0.25 (together rcsim's 2x2 average pool)");
        *skip = 1;
    }
    rc_nir_layer *L = layer_new(R, i, n);
    if (!L) return RC_ERR_DATA;
    L->kind = RC_NIR_POOL;
    L->cin = L->cout = (int)W->s[0];
    L->hin = (int)W->s[1]; L->win = (int)W->s[2];
    L->hout = L->hin / 2; L->wout = L->win / 2;
    if (L->hout < 1 || L->wout < 1) return bad(R, i, "the %dx%d map is too small to pool", L->hin, L->win);
    W->s[1] = L->hout; W->s[2] = L->wout;
    return RC_OK;
}

static rc_status rd_flatten(rd *R, int i, hid_t g, walk *W)
{
    long long s0 = 0, e = -1;
    if (W->rank != 3) return bad(R, i, "the input is already flat");
    if ((H5Lexists(g, "start_dim", H5P_DEFAULT) > 0 && rd_num(g, "start_dim", H5T_NATIVE_LLONG, &s0, 1)) ||
        (H5Lexists(g, "end_dim", H5P_DEFAULT) > 0 && rd_num(g, "end_dim", H5T_NATIVE_LLONG, &e, 1)) ||
        s0 != 0 || (e != -1 && e != 2))
        return bad(R, i, "start_dim %lld, end_dim %lld: expected 0 and -1 (all of [C, H, W], no batch dimension)", s0, e);
    W->flat = 1;
    memcpy(W->flat_s, W->s, sizeof W->s);
    W->rank = 1;
    W->s[0] = W->s[0] * W->s[1] * W->s[2];
    W->s[1] = W->s[2] = 1;
    return RC_OK;
}

static rc_status rd_node(rd *R, int i, int next, rc_nir_net *n, walk *W, int *skip)
{
    const char *t = R->type[i];
    hid_t g = H5Gopen2(R->nodes, R->name[i], H5P_DEFAULT);
    if (g < 0) return bad(R, i, "cannot open the node's group");
    rc_status st;
    static const char *const known[] = { "Conv2d", "AvgPool2d", "SumPool2d", "Flatten", "Affine", "Linear", NULL };
    int kn = 0;
    for (int k = 0; known[k]; k++) kn |= !strcmp(t, known[k]);
    if (W->need_lif >= 0 && kn)
        st = bad(R, i, "follows '%s' directly; expected a LIF node between (rcsim's conv and fc layers are LIF populations)",
                 n->L[W->need_lif].name);
    else if (!strcmp(t, "Conv2d")) st = rd_conv(R, i, g, n, W);
    else if (!strcmp(t, "LIF")) st = rd_lif(R, i, g, n, W);
    else if (!strcmp(t, "AvgPool2d") || !strcmp(t, "SumPool2d")) st = rd_pool(R, i, g, n, W, t[0] == 'S', next, skip);
    else if (!strcmp(t, "Flatten")) st = rd_flatten(R, i, g, W);
    else if (!strcmp(t, "Affine") || !strcmp(t, "Linear")) st = rd_fc(R, i, g, n, W, t[0] == 'A');
    else if (!strcmp(t, "CubaLIF"))
        st = bad(R, i, "a current-based LIF (synaptic current with tau_syn) has no rcsim equivalent; expected LIF");
    else
        st = bad(R, i, "this node type has no rcsim equivalent; expected Input, Conv2d, LIF, AvgPool2d, SumPool2d + Scale, "
                 "Flatten, Affine, Linear or Output");
    H5Gclose(g);
    return st;
}

static void rd_meta(hid_t top, rc_nir_meta *m)
{
    memset(m, 0, sizeof *m);
    if (H5Lexists(top, "metadata", H5P_DEFAULT) <= 0) return;
    hid_t g = H5Gopen2(top, "metadata", H5P_DEFAULT);
    if (g < 0) return;
    long long b;
    char s[32];
    m->has_dt = !rd_num(g, "dt", H5T_NATIVE_DOUBLE, &m->dt, 1) && m->dt > 0;
    m->has_dt_ms = !rd_num(g, "rcsim_dt_ms", H5T_NATIVE_DOUBLE, &m->dt_ms, 1);
    m->has_beta = !rd_num(g, "rcsim_beta", H5T_NATIVE_DOUBLE, &m->beta, 1);
    if ((m->has_bias = !rd_num(g, "rcsim_bias", H5T_NATIVE_LLONG, &b, 1))) m->bias = b != 0;
    if (!rd_str(g, "reset_mode", s, sizeof s)) {
        m->has_reset = !strcmp(s, "subtract") || !strcmp(s, "zero");
        m->reset_sub = !strcmp(s, "subtract");
    }
    rd_str(g, "rcsim_layers", m->layers, sizeof m->layers);
    H5Gclose(g);
}

/* Types of every node, the chain from the one Input, then the layers. */
static rc_status rd_graph(rd *R, hid_t top, rc_nir_net *n)
{
    if (H5Literate(R->nodes, H5_INDEX_NAME, H5_ITER_INC, NULL, list_cb, R) != 0)
        return rc_err_set(R->err, RC_ERR_DATA, "%s: more than %d nodes in /node/nodes", R->path, MAXNODES);
    int in = -1, succ[MAXNODES];
    for (int i = 0; i < R->nn; i++) {
        hid_t g = H5Gopen2(R->nodes, R->name[i], H5P_DEFAULT);
        int ok = g >= 0 && !rd_str(g, "type", R->type[i], sizeof R->type[i]);
        if (g >= 0) H5Gclose(g);
        if (!ok) return rc_err_set(R->err, RC_ERR_DATA, "%s: node '%s' has no 'type' string", R->path, R->name[i]);
        if (!strcmp(R->type[i], "Input")) {
            if (in >= 0) return bad(R, i, "a second Input (the first is '%s'); rcsim reads one input", R->name[in]);
            in = i;
        }
    }
    if (in < 0) return rc_err_set(R->err, RC_ERR_DATA, "%s: no node of type Input in /node/nodes", R->path);
    rc_status st = rd_edges(R, top, succ);
    if (st) return st;
    walk W = { .need_lif = -1 };
    int visited = 0, i = in, out = -1;
    for (int steps = 0; i >= 0 && steps <= R->nn; steps++) {
        visited++;
        int skip = 0;
        if (i == in) {
            hid_t g = H5Gopen2(R->nodes, R->name[i], H5P_DEFAULT);
            st = g >= 0 ? rd_input(R, i, g, n, &W) : bad(R, i, "cannot open the node's group");
            if (g >= 0) H5Gclose(g);
        }
        else if (!strcmp(R->type[i], "Output")) {
            out = i;
            if (W.need_lif >= 0)
                return bad(R, i, "follows '%s' directly; expected a LIF node between", n->L[W.need_lif].name);
            break;
        }
        else if (!strcmp(R->type[i], "Input")) st = bad(R, i, "a second Input");
        else st = rd_node(R, i, succ[i], n, &W, &skip);
        if (st) return st;
        if (skip) { i = succ[i]; visited++; }
        if (succ[i] < 0) return bad(R, i, "has no outgoing edge; expected the chain to end at an Output node");
        i = succ[i];
    }
    if (out < 0) return rc_err_set(R->err, RC_ERR_DATA, "%s: the chain from '%s' does not reach an Output node", R->path, R->name[in]);
    if (succ[out] >= 0) return bad(R, out, "has an outgoing edge to '%s'; expected it last", R->name[succ[out]]);
    if (visited != R->nn)
        for (int k = 0; k < R->nn; k++) {
            int on = 0;
            for (int j = in; j >= 0 && !on; j = j == out ? -1 : succ[j]) on = j == k;
            if (!on) return bad(R, k, "is not on the chain from '%s' to '%s'; rcsim reads a chain of layers only",
                                R->name[in], R->name[out]);
        }
    int rank;
    long long d[4], v[3];
    hid_t og = H5Gopen2(R->nodes, R->name[out], H5P_DEFAULT);
    if (og >= 0 && !rd_dims(og, "shape", &rank, d) && rank == 1 && d[0] >= 1 && d[0] <= 3 &&
        !rd_num(og, "shape", H5T_NATIVE_LLONG, v, d[0]) && count_of((int)d[0], v) != count_of(W.rank, W.s)) {
        H5Gclose(og);
        return bad(R, out, "shape has %lld values; the layer before it has %lld", count_of((int)d[0], v), count_of(W.rank, W.s));
    }
    if (og >= 0) H5Gclose(og);
    if (n->nl == 0 || n->L[n->nl - 1].kind != RC_NIR_FC)
        return bad(R, out, "expected an Affine or Linear layer with its LIF before the Output (one output neuron per class)");
    rd_meta(top, &n->meta);
    return RC_OK;
}

rc_status rc_nir_read(const char *path, rc_nir_net *n, rc_err *err)
{
    memset(n, 0, sizeof *n);
    hid_t f;
    rc_status st = rc_h5_open_foreign(path, "NIR file", &f, err);
    if (st) return st;
    rd *R = calloc(1, sizeof *R);
    if (!R) { rc_h5_fclose(f); return rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory", path); }
    R->path = path;
    R->err = err;
    char t[32];
    hid_t top = H5Lexists(f, "node", H5P_DEFAULT) > 0 ? H5Gopen2(f, "node", H5P_DEFAULT) : -1;
    if (top < 0 || H5Lexists(top, "nodes", H5P_DEFAULT) <= 0)
        st = rc_err_set(err, RC_ERR_DATA, "%s: no /node/nodes group: not a NIR file (expected the layout of nir.write)", path);
    else if (!rd_str(top, "type", t, sizeof t) && strcmp(t, "NIRGraph"))
        st = rc_err_set(err, RC_ERR_DATA, "%s: /node/type is '%s'; expected NIRGraph", path, t);
    else {
        R->nodes = H5Gopen2(top, "nodes", H5P_DEFAULT);
        st = R->nodes < 0 ? rc_err_set(err, RC_ERR_DATA, "%s: cannot open /node/nodes", path) : rd_graph(R, top, n);
        if (R->nodes >= 0) H5Gclose(R->nodes);
    }
    if (top >= 0) H5Gclose(top);
    free(R);
    rc_h5_fclose(f);
    if (st) rc_nir_free(n);
    return st;
}
