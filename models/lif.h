/* lif.h — spiking networks of leaky integrate-and-fire (LIF) layers, simulated
 * event by event and trained with surrogate gradients (STBP, Wu et al. 2018;
 * paper appendix E).
 *
 * A network is a list of layers (model.layers, e.g.
 * "conv32k3p1 pool2 conv32k3p1 pool2 fc128 fc10"): k×k convolutions (stride 1,
 * zero padding p), 2×2 average pooling and fully connected layers. Every conv
 * and fc layer is a population of LIF neurons; a pool layer has no neurons, it
 * turns each spike of the conv before it into an event of value 1/4 at the
 * pooled position (the floor of y/2, x/2; an odd last row/column is dropped,
 * as F.avg_pool2d does). The last layer is fc with one neuron per class.
 *
 * Dynamics of every LIF neuron (u_{−1} = 0, o_{−1} = 0):
 *   u_t = τ·r_{t−1} + Σ_events w·v (+ b)          pre-reset potential
 *   o_t = [u_t > V_th]                              spike
 *   r_t = u_t·(1 − o_t)   (reset = mult, STBP)      post-reset state
 *       = u_t − V_th·o_t  (reset = subtract)
 * which is STBP's u_t = τ·u_{t−1}·(1 − o_{t−1}) + W·x_t (+ b).
 * Surrogate ∂o/∂u = g(u − V_th), with a = lens (all peak at 1):
 *   rect:        1 if |x| < a, else 0       (STBP's code: lens 0.5)
 *   fastsigmoid: 1 / (1 + |x|/a)²
 *   atan:        1 / (1 + (π·x / 2a)²)
 * Its integral S(x) = ∫_{−∞}^{x} g (clamp(x + a, 0, 2a); a + x/(1 + |x|/a);
 * a + (2a/π)·atan(πx/2a)) is the smooth spike function of the `smooth` mode,
 * which exists for the finite-difference tests only.
 *
 * Event-driven simulation and when lazy decay is exact:
 *  - Conv neurons are kept in groups of Cout (one output position, channels
 *    last); a group is *touched* at step t when an input event lands in its
 *    k×k neighbourhood, when one of its neurons spiked at t−1, or, with
 *    model.bias, always. A touched group first catches up on its decay by
 *    repeated multiplication u ← τ·u, once per step missed (so the value is
 *    bit-identical to the dense recurrence's τ·r), then adds its events in
 *    event order, then checks its spikes.
 *  - An untouched neuron gets no input, so u_t = τ·r_{t−1}; it cannot spike:
 *    it did not spike at t−1 (else it would be touched), so r_{t−1} = u_{t−1}
 *    ≤ V_th, and τ < 1, V_th > 0 give τ·u_{t−1} ≤ V_th. Skipping it is exact.
 *    The rule "spiked at t−1 ⇒ touched at t" covers the subtract reset, where
 *    r = u − V_th may still be above V_th/τ. With a bias every neuron has input
 *    every step, so model.bias touches all groups (the synaptic input stays
 *    event-driven).
 *  - An fc layer is one group, touched every step (its neurons are few and any
 *    input event touches all of them).
 * Cost: Σ over input events of the fan-out (conv: k²·Cout, fc: nout), which is
 * what `synops` counts, plus the touched groups' updates.
 *
 * Backward (BPTT from the loss step down to step 0, one example at a time):
 * the pre-reset potentials of every step are replayed from the forward log
 * (touched groups' values; τ·u for the rest), then layer by layer from the
 * top, each layer over all its steps t = t_loss … 0:
 *   δr_t = τ·δu_{t+1}
 *   δu_t = δr_t·(1 − o_t − u_t·g) + g·δo_t   (mult)
 *        = δr_t·(1 − V_th·g) + g·δo_t        (subtract)      g = g(u_t − V_th)
 * (plus ∂L/∂u at the loss step for the output layer). δo_t comes from the
 * layer above: Wᵀ·δu of all its steps at once, as sgemms (fc: one, or for
 * up to 3 steps the same products without the sgemm's packing; conv: one
 * per kernel tap over a zero-padded grid), dense, because with a bias or a
 * smooth surrogate nearly every neuron has g ≠ 0. Weight gradients are outer
 * products over the input events only, as in the forward pass, and skip
 * groups whose δu is zero.
 *
 * Layouts: maps are channels last, index (y·W + x)·C + c (the input image has
 * C = 1, so its index is the pixel index). Conv weights (Cin, k, k, Cout),
 * fc weights (nin, nout): the weights an event needs are contiguous. Biases
 * (Cout) / (nout). Initialisation as PyTorch's Conv2d / Linear: weights and
 * biases U(−1/√fan_in, 1/√fan_in), keyed by PyTorch's logical index.
 *
 * Recurrent, adaptive and readout layers (fc variants, lif_recurrent.c):
 *  - rfcN: N LIF neurons with input weights W (nin, N), recurrent weights
 *    R (N, N) and decay τ_rec (model.tau_rec); the recurrent input of step t
 *    is the layer's own spikes of step t−1, delivered as events:
 *      u_t = τ_rec·r_{t−1} + Σ_events w·v + Σ_{k: o_k,t−1 ≠ 0} R_k·o_{k,t−1} (+ b)
 *    An rfc layer is one group touched every step, like fc, so lazy decay
 *    is trivially exact.
 *  - rfcNa: the same with an adaptive threshold (ALIF, Bellec et al. 2018):
 *      a_t = ρ·a_{t−1} + o_{t−1}  (a_{−1} = 0),  θ_t = V_th + β_a·a_t,
 *      o_t = [u_t > θ_t],  r_t = u_t·(1 − o_t) (mult) or u_t − θ_t·o_t (subtract)
 *    (ρ = model.alif_rho, β_a = model.alif_beta; both resets as above).
 *  - liN (last layer only): a leaky integrator u_t = τ_out·u_{t−1} + W·x_t
 *    (+ b), never reset; its potential is the logit. For RC it "spikes" when
 *    its largest potential exceeds its own threshold V_out (model.v_out, times
 *    the eval's V_th scale), the same test as an fc output layer with V_th;
 *    that spike only marks t_sp.
 * Backward through them (δu_{T+1} = 0, δa_{T+1} = 0; θ = θ_t, g = g(u_t − θ_t)):
 *   e_t  = δo_t(above) + (R·δu_{t+1})_k + δa_{t+1} + δr_t·∂r_t/∂o_t
 *   δu_t = δr_t·∂r_t/∂u_t + g·e_t                δr_t = τ_rec·δu_{t+1}
 *   δa_t = ρ·δa_{t+1} + β_a·(−g·e_t − [subtract]·o_t·δr_t)
 *   dR_kj += o_{k,t−1}·δu_{j,t};  li: δu_t = τ_out·δu_{t+1} (+ ∂L/∂u at t_loss).
 * ρ, β_a are constants. τ_rec is one constant, or with learn_tau (model.
 * learn_tau) one learned decay per rfc neuron, τ_j = σ(κ_j) = 1/(1 + e^{−κ_j}),
 * κ_j initialised to logit(τ_rec), its gradient
 *   dκ_j = σ'(κ_j)·Σ_t δu_{j,t+1}·r_{j,t}.
 *
 * Code: lif_shape.c (parser, layout, init, names, surrogates), lif_forward.c
 * (the simulator and its forward pass), lif_backward.c, lif_recurrent.c (the
 * rfc/li pieces of both); lif_impl.h is their private state; lif_testing.h
 * holds the test-only hooks. */
#ifndef RC_LIF_H
#define RC_LIF_H

#include <stddef.h>
#include <stdint.h>
#include "base/events.h"

#define RC_LIF_MAX_LAYERS 12

typedef enum { RC_LIF_CONV = 0, RC_LIF_POOL = 1, RC_LIF_FC = 2 } rc_lif_kind;
typedef enum { RC_LIF_SURR_RECT = 0, RC_LIF_SURR_FASTSIG = 1, RC_LIF_SURR_ATAN = 2 } rc_surrogate;
typedef enum { RC_RESET_MULT = 0, RC_RESET_SUB = 1 } rc_reset;

typedef struct {
    rc_lif_kind kind;
    int cin, hin, win;      /* input map (fc: cin = inputs, hin = win = 1)      */
    int cout, hout, wout;   /* output map (fc: cout = outputs, hout = wout = 1) */
    int k, pad;             /* conv kernel and zero padding                    */
    int nin, nout;          /* cin·hin·win, cout·hout·wout                     */
    size_t w, b;            /* conv/fc: offsets into the parameter block       */
    size_t nw;              /* conv/fc: number of weights                      */
    /* fc variants (kind stays RC_LIF_FC; see lif_recurrent.c): */
    int rec;                /* rfcN: recurrent weights R (nout, nout)          */
    int adapt;              /* rfcNa: adaptive threshold (ALIF)                */
    int li;                 /* liN: leaky-integrator readout, no spikes fed on */
    size_t r;               /* rec: offset of R, (from, to) = (nout, nout)     */
    size_t kt;              /* rec with learn_tau: offset of κ (nout)          */
} rc_lif_layer;

typedef struct {
    int nl;                            /* layers, pools included            */
    rc_lif_layer L[RC_LIF_MAX_LAYERS];
    float vth, tau, lens;              /* V_th, decay τ, surrogate width    */
    rc_surrogate surr;
    rc_reset reset;
    int bias;                          /* conv/fc biases (disable lazy decay) */
    int smooth;                        /* tests: o = S(u − V_th), not [·]    */
    float tau_rec;                     /* τ of rfc layers (initial, learn_tau) */
    int learn_tau;                     /* rfc: τ_j = σ(κ_j), κ learned         */
    float alif_rho, alif_beta;         /* ρ, β_a of rfcNa layers             */
    float tau_out, vout;               /* τ and V_th of an liN readout       */
} rc_lif_shape;

/* Parses a layer list ("conv32k3p1 pool2 fc128 fc10", spaces or commas) for
 * an input of cin×h×w. Returns 0, or −1 with a message in msg. */
int rc_lif_parse(rc_lif_shape *s, const char *layers, int cin, int h, int w, char *msg, size_t cap);
/* Sets the parameter offsets of every layer from `off` on; returns the end. */
size_t rc_lif_layout(rc_lif_shape *s, size_t off);
/* PyTorch-style initialisation of the parameters in P (seeded, tensor ids
 * from `tensor0` on). */
void rc_lif_init(float *P, const rc_lif_shape *s, uint64_t seed, int tensor0);
/* LIF populations: index of the last layer, neurons of layer l (0 for pools). */
int rc_lif_last(const rc_lif_shape *s);
int rc_lif_neurons(const rc_lif_shape *s, int l);
/* Short text, e.g. "conv32k3p1 pool2 fc10", into buf. */
void rc_lif_describe(const rc_lif_shape *s, char *buf, size_t cap);

/* Where weight k of layer l's weight block stands in PyTorch's layout. rcsim
 * stores conv kernels channels-last, [Cin][k][k][Cout], and fc weights
 * input-major, [in][out], with the inputs of a conv/pool map channels-last
 * ((y·W + x)·C + c); PyTorch (and NIR, and model.h5's /params) has conv
 * [Cout][Cin][k][k] and fc [out][in] with the map flattened as (c, y, x).
 * The one mapping for model.h5's named tensors and NIR export/import. */
size_t rc_lif_torch_index(const rc_lif_shape *s, int l, size_t k);

float rc_lif_surr_grad(const rc_lif_shape *s, float x);  /* g(x), x = u − V_th  */
double rc_lif_surr_int(const rc_lif_shape *s, double x); /* S(x)                */

/* ---- one example at a time, on one thread ------------------------------- */

typedef struct rc_lif_sim rc_lif_sim;

/* What the forward pass of one example gives. */
typedef struct {
    int tend;         /* last step computed (the first spike's, or T−1)        */
    int spiked, tsp;  /* first output spike: 1/0 and its step (T−1 if none)   */
    int pred;         /* class of the first spike (argmax u), else at T−1      */
    int pred_end;     /* argmax u at T−1, or −1 if stopped earlier             */
    int64_t synops;   /* synaptic events delivered                              */
} rc_lif_result;

/* Scratch for examples of up to T steps (grows as needed). NULL on failure. */
rc_lif_sim *rc_lif_sim_new(const rc_lif_shape *s, int T);
void rc_lif_sim_free(rc_lif_sim *m); /* NULL is a no-op */

/* Runs one example's events from step 0 with parameters P. vscale multiplies
 * the output layer's V_th (threshold sweeps; 1 in training). stop: halt after
 * the first output spike (RC-inference). record: keep what backward needs.
 * dense: touch every group and deliver every input (zeros included) each
 * step: the dense step-by-step pass of the same network (bench, tests).
 * uout (optional, (T, K)): the output layer's pre-reset potentials of every
 * computed step; uhid (optional, (T, neurons of the layer before the output)):
 * that layer's pre-reset potentials. */
void rc_lif_forward(rc_lif_sim *m, const float *P, const rc_events *ev, float vscale,
                    int stop, int record, int dense, float *uout, float *uhid, rc_lif_result *r);
/* The weights transposed for the backward pass (same offsets as P): conv
 * (k, k, Cout, Cin), fc (nout, nin); an rfc layer's R is copied as it is.
 * Once per parameter update. */
void rc_lif_transpose(const rc_lif_shape *s, const float *P, float *PT);
/* After a recorded forward: BPTT from step tloss (≤ tend) with dz = ∂L/∂u_out
 * at tloss (K floats); accumulates into G (same layout as P). PT is
 * rc_lif_transpose of the parameters the forward pass used. */
void rc_lif_backward(rc_lif_sim *m, const float *PT, float *G, const rc_events *ev,
                     int tloss, const float *dz);

/* LIF populations (conv and fc layers, in order) and their names in traces:
 * "conv1", "conv2", ..., "fc1", ..., and the last layer "output". */
int rc_lif_npops(const rc_lif_shape *s);
void rc_lif_pop_name(const rc_lif_shape *s, int p, char *buf, size_t cap);
/* After a forward: the spikes (neuron ids, in the order the simulation made
 * them) of population p at step t ≤ tend; returns their number. */
int rc_lif_sim_spikes(const rc_lif_sim *m, int p, int t, const int **neurons);
/* After a forward with record = 1: the pre-reset potentials of steps 0..tmax
 * (≤ tend) of every population p with U[p] != NULL, into U[p] ((tmax+1, N)
 * row-major); U has rc_lif_npops entries. The same values the backward pass
 * replays (traces.h5 membranes of named layers). */
void rc_lif_sim_potentials(rc_lif_sim *m, int tmax, float *const *U);

#endif
