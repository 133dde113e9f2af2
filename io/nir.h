/* nir.h — the Neuromorphic Intermediate Representation (NIR, HDF5) of a
 * feed-forward chain of spiking layers: writer (nir.c) and reader
 * (nir_read.c).
 *
 * What and why: NIR is how snnTorch, Norse, Lava, Sinabs and Rockpool hand
 * networks to each other. This module knows the file layout only; what a
 * chain means for rcsim's LIF layers (and the τ/β convention) is in
 * sim/app/nir_*.c, since io/ may not include models/.
 *
 * The layout (facts from neuromorphs/NIR nir/serialization.py):
 *   /version                     string dataset
 *   /node/type                   "NIRGraph"
 *   /node/nodes/<name>/type      string dataset: Input, Conv2d, LIF, ...
 *   /node/nodes/<name>/<param>   one dataset per parameter
 *   /node/edges                  (E, 2) strings: (source, target) node names
 *   /node/metadata/<key>         optional datasets
 * Node parameters written here (shapes without a batch dimension):
 *   Input   shape [C, H, W] or [N]
 *   Conv2d  weight (Cout, Cin, k, k), bias (Cout), stride (2), padding (2),
 *           dilation (2), groups, input_shape (2) = (H, W)
 *   LIF     tau, r, v_leak, v_threshold, v_reset: float64 arrays of the
 *           layer's output shape ([C, H, W] or [N]), one value per neuron
 *   AvgPool2d  kernel_size (2), stride (2), padding (2)
 *   Flatten start_dim 0, end_dim −1, input_type [C, H, W]
 *   Affine  weight (Nout, Nin), bias (Nout); Linear: weight only
 *   Output  shape [N]
 * Strings are variable-length UTF-8 (as h5py writes them); the reader also
 * takes fixed-length ones. */
#ifndef RC_NIR_H
#define RC_NIR_H

#include <stddef.h>
#include "base/status.h"

#define RC_NIR_MAX_LAYERS 16

typedef enum { RC_NIR_CONV = 0, RC_NIR_POOL = 1, RC_NIR_FC = 2 } rc_nir_kind;

/* One layer of the chain: a Conv2d or Affine/Linear with the LIF after it,
 * or a 2x2 average pool. Layouts are NIR's (channels first). */
typedef struct {
    rc_nir_kind kind;
    char name[64];          /* the Conv2d / Affine / pool node's name          */
    char lif[64];           /* the LIF node's name (conv, fc)                  */
    int cin, hin, win;      /* input map (fc: cin = inputs, hin = win = 1)     */
    int cout, hout, wout;   /* output map (fc: hout = wout = 1)                */
    int k, pad;             /* conv: kernel, zero padding (stride 1)            */
    int flat;               /* fc: a Flatten of [C, H, W] = (cflat, hflat, wflat) is before it */
    int cflat, hflat, wflat;
    float *w;               /* conv (cout, cin, k, k), fc (cout, cin)          */
    float *b;               /* (cout); NULL for Linear                          */
    double *tau, *r, *v_leak, *v_th, *v_reset; /* (cout·hout·wout), C,H,W order */
} rc_nir_layer;

/* What rcsim writes into /node/metadata (and reads back when present). */
typedef struct {
    int has_dt;       double dt;      /* "dt": seconds, the dt τ was computed with */
    int has_dt_ms;    double dt_ms;   /* "rcsim_dt_ms": rcsim's sim.dt_ms            */
    int has_reset;    int reset_sub;  /* "reset_mode": "zero" (0) or "subtract" (1)  */
    int has_beta;     double beta;    /* "rcsim_beta": rcsim's decay factor (exact)  */
    int has_bias;     int bias;       /* "rcsim_bias": model.bias                    */
    char layers[256];                 /* "rcsim_layers" (informative)                */
} rc_nir_meta;

typedef struct {
    int in_rank;            /* 1 or 3                                          */
    int in_shape[3];        /* [N] or [C, H, W]                                 */
    int nl;
    rc_nir_layer L[RC_NIR_MAX_LAYERS];
    rc_nir_meta meta;
} rc_nir_net;

/* Writes n to path atomically (path.tmp, fsync, rename, fsync the folder):
 * an earlier file at path survives any failure. RC_ERR_IO naming the file. */
rc_status rc_nir_write(const char *path, const rc_nir_net *n, rc_err *err);

/* Reads a NIR file whose graph is a chain Input → (Conv2d → LIF [→ AvgPool2d
 * | SumPool2d → Scale(0.25)])* → [Flatten] → (Affine|Linear → LIF)+ →
 * Output into n (arrays malloc'd: rc_nir_free). RC_ERR_DATA with one line
 * naming the file and the node for anything else (unknown or unsupported
 * node types, a graph that is not a chain, shapes that do not fit); the
 * file is checked by h5guard before libhdf5 opens it. */
rc_status rc_nir_read(const char *path, rc_nir_net *n, rc_err *err);
void rc_nir_free(rc_nir_net *n);

#endif
