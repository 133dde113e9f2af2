/* net.h — the recurrent network rcsim trains: an LSTM layer followed by a head
 * of dense layers (ReLU) and an output layer (1 sigmoid or K softmax units).
 *
 * Parameters, gradients and the two Adam moments are each one allocation of
 * nparams floats with the same layout; named views are offsets into it:
 *   LSTM:     w_ih (nin, 4H)  w_hh (4H, H)  b_ih (4H)  b_hh (4H) — models/lstm.h
 *   ConvLSTM: w_ih = w_x (4C, Cin, k, k), w_hh = w_h (4C, C, k, k), b_ih = b (4C),
 *             b_hh empty — models/convlstm.h
 *   for each head layer l: W_l (out_l, in_l), b_l (out_l); the last is the output.
 *   SNN:      every conv/fc LIF layer's weights and bias (models/lif.h); no
 *             LSTM tensors and no head.
 * Initialisation follows PyTorch: LSTM weights and biases U(−1/√H, 1/√H);
 * Linear weights and biases U(−1/√fan_in, 1/√fan_in). Each value is drawn from
 * the counter-based RNG keyed by (seed, tensor, PyTorch's logical index), so
 * the initial model does not depend on the tiled memory layout. */
#ifndef RC_NET_H
#define RC_NET_H

#include <stddef.h>
#include <stdint.h>
#include "models/convlstm.h"
#include "models/lif.h"

#define RC_NET_MAX_HEAD 4

typedef enum { RC_CORE_LSTM = 0, RC_CORE_CONVLSTM = 1, RC_CORE_LIF = 2 } rc_core;

typedef struct {
    rc_core core;                  /* recurrent layer type                   */
    rc_convlstm_shape conv;        /* RC_CORE_CONVLSTM: C, Cin, Hh, Ww, k     */
    int nin;                       /* input channels                         */
    int H;                         /* state units per example: LSTM hidden
                                      units, or C·Hh·Ww for the ConvLSTM     */
    int nhead;                     /* hidden dense layers in the head (ReLU) */
    int head[RC_NET_MAX_HEAD];     /* their widths                           */
    int K;                         /* output units: 1 = sigmoid, >1 = softmax */
    rc_lif_shape snn;              /* RC_CORE_LIF: the LIF layers (models/lif.h);
                                      the whole network, no head (nhead = 0);
                                      H = neurons of the layer before the
                                      output, K = output neurons             */
} rc_net_shape;

typedef struct {
    rc_net_shape s;
    size_t nparams;
    float *params, *grads, *m, *v;     /* (nparams) each                       */
    size_t w_ih, w_hh, b_ih, b_hh;     /* offsets of the LSTM tensors          */
    int nlayers;                       /* head layers incl. output = nhead + 1 */
    size_t hw[RC_NET_MAX_HEAD + 1];    /* offsets of head weights              */
    size_t hb[RC_NET_MAX_HEAD + 1];    /* offsets of head biases               */
    int hin[RC_NET_MAX_HEAD + 1];      /* head layer input widths              */
    int hout[RC_NET_MAX_HEAD + 1];     /* head layer output widths             */
} rc_net;

/* Allocates and initialises (seeded). Returns NULL on allocation failure. */
rc_net *rc_net_new(const rc_net_shape *s, uint64_t seed);
void rc_net_free(rc_net *net);  /* NULL is a no-op */
void rc_net_zero_grad(rc_net *net);
/* Widest head layer (scratch sizing). */
int rc_net_head_width(const rc_net *net);

/* Names the tensor that holds parameter `index` (an offset into params,
 * grads, m or v) into buf ("w_ih", "w_hh", "b_ih", "head1.W", "output.b",
 * SNN "conv1.w", "fc2.b", "output.w"; "?" past the end) and sets *local to
 * the index within that tensor (in its stored layout). For messages. */
void rc_net_tensor_at(const rc_net *net, size_t index, char *buf, size_t cap, size_t *local);

/* First non-finite value of data (n floats), or SIZE_MAX when all are finite. */
size_t rc_net_first_nonfinite(const float *data, size_t n);

/* Multiply-accumulates of one forward step of one example (one row):
 * rc_net_step_macs counts what rcsim executes for a row with `events` input
 * events (h_zero: h_{t−1} = 0, whose recurrent product the LSTM and the
 * ConvLSTM skip; an LSTM step that takes the dense input sgemm executes
 * nin·4H input products, so its caller passes events = nin), rc_net_dense_step_macs what a dense pass
 * over all nin inputs costs. Both include the recurrent layer and the head;
 * the ConvLSTM's input scatter counts its full k×k window per event. */
double rc_net_step_macs(const rc_net *net, int64_t events, int h_zero);
double rc_net_dense_step_macs(const rc_net *net);

/* Head forward for one example from the recurrent layer's output h (H): writes the logits
 * z (K) and, if acts is not NULL, each hidden head layer's ReLU output into
 * acts (sum of head widths). The engine runs rc_net_head_forward_rows
 * instead; this one-row form is the reference it must equal bit for bit
 * (tests/test_dense.c), i.e. the arithmetic every earlier result used. */
void rc_net_head_forward(const rc_net *net, const float *h, float *z, float *acts);
/* The same for nrows examples at once (row r: h + r·hstride, z + r·K,
 * acts + r·astride; acts may be NULL only without hidden head layers),
 * bit-identical to rc_net_head_forward row by row. ht holds the head's
 * weights transposed by rc_net_head_transpose (rc_net_head_t_floats
 * floats), refreshed whenever the parameters change. */
size_t rc_net_head_t_floats(const rc_net *net);
void rc_net_head_transpose(const rc_net *net, float *ht);
void rc_net_head_forward_rows(const rc_net *net, const float *ht, const float *h, size_t hstride, int nrows,
                              float *z, float *acts, size_t astride);
/* Head backward for one example: given dz, accumulates head grads into
 * net->grads and writes dh (H). acts from rc_net_head_forward; scratch has
 * 2·rc_net_head_width floats. */
void rc_net_head_backward(rc_net *net, const float *h, const float *acts,
                          const float *dz, float *dh, float *scratch);

/* ---- named, shaped views of the parameters (model.h5's /params) ---------
 * Every parameter tensor of the model by name, shape and layout, for users:
 * always PyTorch's layout (nn.LSTM, nn.Conv2d, nn.Linear), whatever order
 * the flat vector stores the numbers in (tiled LSTM rows, channels-last
 * conv kernels, input-major fc weights). rc_net_view_gather copies one
 * tensor out of a flat vector (params, kept_params, ...) into that layout.
 *   LSTM:     lstm/w_ih [4H, I], lstm/w_hh [4H, H], lstm/b_ih [4H],
 *             lstm/b_hh [4H]; rows gate-major, gate order i,f,g,o
 *   ConvLSTM: convlstm/w_x [4C, Cin, k, k], convlstm/w_h [4C, C, k, k],
 *             convlstm/b [4C]; rows gate-major, gate order i,f,g,o
 *   head:     head1/weight [out, in], head1/bias [out], ..., output/weight
 *             [K, in], output/bias [K]
 *   SNN:      snn/convN/weight [Cout, Cin, k, k], snn/convN/bias [Cout],
 *             snn/fcN/weight [out, in], snn/fcN/bias [out], the last layer
 *             snn/output/...; an fc layer after a conv/pool map reads the
 *             map flattened in PyTorch's order (c, y, x).
 * Views with ndim 0 carry attributes only (name "" = the /params group). */
#define RC_NET_MAX_VIEWS (4 * RC_LIF_MAX_LAYERS + 2 * (RC_NET_MAX_HEAD + 1) + 8)
#define RC_NET_VIEW_MAX_ATTRS 16

typedef struct {
    const char *key;
    const char *s;   /* string value, or NULL for the number d */
    double d;
    int integer;     /* d is an integer (padding, stride)       */
} rc_net_view_attr;

typedef struct {
    char name[48];                 /* path under /params, '/'-separated     */
    int ndim;                      /* 0: attributes only                    */
    int shape[4];
    size_t offset, n;              /* the numbers' range in the flat vector */
    const char *layout;            /* the axes, in words                    */
    const char *stored;            /* the flat vector's order, in words     */
    rc_net_view_attr attrs[RC_NET_VIEW_MAX_ATTRS];
    int nattrs;
    int kind, layer;               /* for rc_net_view_gather                */
} rc_net_view;

/* Fills v (cap entries, RC_NET_MAX_VIEWS is always enough) and returns the
 * number of views. */
int rc_net_param_views(const rc_net *net, rc_net_view *v, int cap);
/* Copies view v of the flat vector `flat` (nparams floats) into out
 * (v->n floats) in the view's layout. */
void rc_net_view_gather(const rc_net *net, const rc_net_view *v, const float *flat, float *out);

#endif
