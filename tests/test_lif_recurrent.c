/* test_lif_recurrent.c — the recurrent (rfcN), adaptive (rfcNa) and
 * leaky-integrator readout (liN) layers of models/lif.h:
 *  - parser, layout and names: accepted and refused layer lists, R after the
 *    bias, population names;
 *  - a hand-computed two-neuron case: the recurrent event arrives one step
 *    late, the adaptive threshold rises after a spike, li never resets;
 *  - the event-driven forward equals the dense step-by-step reference of
 *    tests/lif_reference.h (identical spikes, potentials within 1e-5), both
 *    resets, with and without bias, after a conv and pool too, and the
 *    simulator's dense mode;
 *  - the surrogate backward through the recurrence, the adaptation and the
 *    readout equals central differences in float64 of the smooth network
 *    (o = S(u − θ)), three surrogates, both resets, every parameter (R too);
 *  - engine batches (RC and EOS training, RC-inference) on flat per-step
 *    feature input are bit-identical for 1, 2 and 3 threads. */
#include "tests/testutil.h"
#include "encoders/dataset.h"
#include "models/dense.h"
#include "models/lif.h"
#include "models/lif_testing.h"
#include "tests/lif_reference.h"
#include "models/net.h"
#include "sim/engine.h"
#include "sim/pool.h"
#include "base/rng.h"

void openblas_set_num_threads(int);

/* Random events on nin channels over T steps; density d; binary or real
 * (real values in [−0.5, 1.5): the feature input of speech is signed). */
static void rand_events(rc_events *ev, int T, int nin, double d, int binary, uint64_t key)
{
    assert_int_equal(rc_events_reset(ev, T), RC_OK);
    for (int t = 0; t < T; t++)
        for (int c = 0; c < nin; c++)
            if (rc_uniform(11, key, (uint64_t)t, (uint64_t)c) < d)
                rc_events_push(ev, t, c, binary ? 1.0f : (float)(2.0 * rc_uniform(12, key, (uint64_t)t, (uint64_t)c) - 0.5));
    rc_events_finish(ev);
}

/* Layers over nin flat inputs, or over a 1×h×w image when h > 0. */
static void make_shape_hw(rc_lif_shape *s, const char *layers, int nin, int h, int w, int reset, int bias, int surr)
{
    memset(s, 0, sizeof *s);
    char msg[256];
    if (rc_lif_parse(s, layers, h > 0 ? 1 : nin, h > 0 ? h : 1, h > 0 ? w : 1, msg, sizeof msg)) {
        print_error("%s: %s\n", layers, msg);
        fail();
    }
    s->vth = 0.5f;
    s->tau = 0.2f;
    s->lens = 0.5f;
    s->reset = reset;
    s->bias = bias;
    s->surr = surr;
    s->tau_rec = 0.8f;
    s->alif_rho = 0.9f;
    s->alif_beta = 0.4f;
    s->tau_out = 0.7f;
    s->vout = 0.6f;
}

static void make_shape(rc_lif_shape *s, const char *layers, int nin, int reset, int bias, int surr)
{
    make_shape_hw(s, layers, nin, 0, 0, reset, bias, surr);
}

static float *make_params(rc_lif_shape *s, double gain, uint64_t seed, size_t *np)
{
    const size_t n = rc_lif_layout(s, 0);
    float *P = calloc(n, sizeof *P);
    rc_lif_init(P, s, seed, 64);
    for (size_t i = 0; i < n; i++) P[i] = (float)(P[i] * gain);
    /* learned τ: every neuron its own, in (0.5, 0.95) */
    for (int l = 0; l < s->nl; l++)
        if (s->L[l].rec && s->learn_tau)
            for (int j = 0; j < s->L[l].cout; j++)
                P[s->L[l].kt + j] = (float)(0.1 + 2.8 * rc_uniform(seed, 77, (uint64_t)l, (uint64_t)j));
    if (np) *np = n;
    return P;
}

static int total_neurons(const rc_lif_shape *s)
{
    int t = 0;
    for (int l = 0; l < s->nl; l++) t += rc_lif_neurons(s, l);
    return t;
}

/* ---- parser ------------------------------------------------------------------ */

static void test_parse(void **st)
{
    (void)st;
    rc_lif_shape s;
    memset(&s, 0, sizeof s);
    char msg[256], d[128];
    assert_int_equal(rc_lif_parse(&s, "fc7 rfc16a rfc5 li3", 40, 1, 1, msg, sizeof msg), 0);
    assert_int_equal(s.nl, 4);
    assert_true(!s.L[0].rec && !s.L[0].li);
    assert_true(s.L[1].rec && s.L[1].adapt && !s.L[1].li && s.L[1].nin == 7 && s.L[1].nout == 16);
    assert_true(s.L[2].rec && !s.L[2].adapt);
    assert_true(s.L[3].li && !s.L[3].rec);
    const size_t n = rc_lif_layout(&s, 10);
    assert_int_equal(s.L[1].r, s.L[1].b + 16);
    assert_int_equal(s.L[2].w, s.L[1].r + 256);
    assert_int_equal(s.L[2].r, s.L[2].b + 5);
    assert_int_equal(n, 10 + (40 * 7 + 7) + (7 * 16 + 16 + 256) + (16 * 5 + 5 + 25) + (5 * 3 + 3));
    rc_lif_describe(&s, d, sizeof d);
    assert_string_equal(d, "fc7 rfc16a rfc5 li3");
    const char *names[] = { "fc1", "rfc1", "rfc2", "output" };
    for (int p = 0; p < 4; p++) {
        rc_lif_pop_name(&s, p, d, sizeof d);
        assert_string_equal(d, names[p]);
    }
    /* R's initialisation: U(−1/√N, 1/√N), not all equal */
    float *P = calloc(n, sizeof *P);
    rc_lif_init(P, &s, 3, 0);
    double mx = 0, sum = 0;
    for (size_t i = 0; i < 256; i++) { mx = fmax(mx, fabs(P[s.L[1].r + i])); sum += fabs(P[s.L[1].r + i]); }
    assert_true(mx <= 0.25 && mx > 0.2 && sum / 256 > 0.08);
    free(P);
    const char *bad[] = { "rfc4", "li3 fc3", "rfc4b li3", "rfca li3", "lif3", "rfc0 fc3", "fc4 li3a" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msg[0] = 0;
        assert_int_equal(rc_lif_parse(&s, bad[i], 40, 1, 1, msg, sizeof msg), -1);
        assert_true(strlen(msg) > 10);
    }
    assert_int_equal(rc_lif_parse(&s, "li3 fc3", 40, 1, 1, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "last layer"));
}

/* ---- a hand-computed case ------------------------------------------------------ */

/* One input channel into rfc2a (input weights 1, 0.2; R = [[0, 0.7], [0, 0]]:
 * neuron 0 excites neuron 1) and an li1 readout of neuron 1 (weight 1).
 * Input 1 at step 0 only; V_th 0.5, τ_rec 0.8, ρ 0.9, β 0.4, τ_out 0.7,
 * V_out 0.6, mult. */
static void test_hand(void **st)
{
    (void)st;
    rc_lif_shape s;
    make_shape(&s, "rfc2a li1", 1, RC_RESET_MULT, 0, RC_LIF_SURR_RECT);
    size_t np;
    float *P = make_params(&s, 0.0, 1, &np);
    const rc_lif_layer *L0 = &s.L[0], *L1 = &s.L[1];
    P[L0->w + 0] = 1.0f; P[L0->w + 1] = 0.2f;
    P[L0->r + 0 * 2 + 1] = 0.7f; /* from 0 to 1 */
    P[L1->w + 1] = 1.0f;         /* neuron 1 → readout */
    rc_events ev = { 0 };
    assert_int_equal(rc_events_reset(&ev, 4), RC_OK);
    rc_events_push(&ev, 0, 0, 1.0f);
    rc_events_finish(&ev);
    rc_lif_sim *m = rc_lif_sim_new(&s, 4);
    float uout[4];
    rc_lif_result r;
    rc_lif_forward(m, P, &ev, 2.0f, 0, 1, 0, uout, NULL, &r);
    float U[4 * 3];
    uint8_t O[4 * 3];
    rc_lif_sim_state(m, 3, U, O);
    /* step 0: u = (1, 0.2), neuron 0 spikes (θ = 0.5), reset to 0 */
    assert_true(U[0] == 1.0f && U[1] == 0.2f && O[0] == 1 && O[1] == 0);
    /* step 1: a_1 = 1 → θ = 0.9; u_0 = 0; u_1 = 0.8·0.2 + 0.7 = 0.86 > 0.5 spikes */
    assert_true(U[3] == 0.0f && fabsf(U[4] - 0.86f) < 1e-6f && O[3] == 0 && O[4] == 1);
    /* readout: u = 0 at step 0 (neuron 1 silent), 1 at step 1 (its spike),
     * then 0.7, 0.49 (no reset; V_out·scale = 0.6·2 is not reached) */
    assert_true(uout[0] == 0.0f && uout[1] == 1.0f && fabsf(uout[2] - 0.7f) < 1e-7f && fabsf(uout[3] - 0.49f) < 1e-7f);
    assert_int_equal(r.spiked, 0);
    /* step 2: neuron 1 has a_2 = 0.9·0 + 1 → θ = 0.9; u_1 = 0 (mult reset) */
    assert_true(U[7] == 0.0f && O[7] == 0);
    /* synops: the input event × 2; the readout gets neuron 0's spike (step 0) and
     * neuron 1's (step 1), 1 each; R delivers those two spikes a step later, 2 each */
    assert_int_equal(r.synops, 2 + 1 + 1 + 2 + 2);
    /* with scale 1.5 the readout crosses 0.9 at step 1: its "spike" */
    rc_lif_forward(m, P, &ev, 1.5f, 1, 0, 0, uout, NULL, &r);
    assert_true(r.spiked && r.tsp == 1 && r.tend == 1);
    rc_events_free(&ev);
    free(P);
    rc_lif_sim_free(m);
}

/* ---- event-driven vs dense reference ------------------------------------------- */

/* The reference sums each current in double and rounds once; the simulator
 * adds in float, event by event. With τ_rec = 0.8 and the subtract reset a
 * rounding difference lives for many steps (τ = 0.2 forgets it at once), so
 * potentials may differ by a few float ulps more than test_lif.c's 1e-6. */
#define TOL 1e-5f

static void check_event_vs_dense(const char *layers, int nin, int h, int w, int reset, int bias, int learn)
{
    rc_lif_shape s;
    make_shape_hw(&s, layers, nin, h, w, reset, bias, RC_LIF_SURR_RECT);
    s.learn_tau = learn;
    float *P = make_params(&s, 2.5, 5, NULL);
    const int T = 10, tot = total_neurons(&s);
    rc_lif_sim *m = rc_lif_sim_new(&s, T);
    assert_non_null(m);
    float *U = malloc((size_t)T * tot * sizeof *U), *Ur = malloc((size_t)T * tot * sizeof *Ur);
    uint8_t *O = malloc((size_t)T * tot), *Or = malloc((size_t)T * tot);
    rc_events ev = { 0 };
    int64_t spikes = 0;
    for (int ex = 0; ex < 6; ex++) {
        rand_events(&ev, T, nin, 0.3, ex % 2, (uint64_t)ex + 1);
        rc_lif_result r;
        rc_lif_forward(m, P, &ev, 1.0f, 0, 1, 0, NULL, NULL, &r);
        assert_int_equal(r.tend, T - 1);
        rc_lif_sim_state(m, T - 1, U, O);
        rc_lif_reference(&s, P, &ev, T, 1.0f, Ur, Or);
        for (size_t i = 0; i < (size_t)T * tot; i++) {
            if (O[i] != Or[i] || fabsf(U[i] - Ur[i]) > TOL * (1.0f + fabsf(Ur[i]))) {
                print_error("%s reset %d bias %d example %d: neuron-step %zu: event u=%.9g o=%d, dense u=%.9g o=%d\n",
                            layers, reset, bias, ex, i, U[i], O[i], Ur[i], Or[i]);
                fail();
            }
            spikes += O[i];
        }
        rc_lif_result rd;
        rc_lif_forward(m, P, &ev, 1.0f, 0, 1, 1, NULL, NULL, &rd);
        rc_lif_sim_state(m, T - 1, U, O);
        for (size_t i = 0; i < (size_t)T * tot; i++) {
            assert_int_equal(O[i], Or[i]);
            assert_true(fabsf(U[i] - Ur[i]) <= TOL * (1.0f + fabsf(Ur[i])));
        }
        assert_true(rd.synops >= r.synops);
    }
    /* the comparison saw spikes, and not everything spiked */
    assert_true(spikes > 50 && spikes < (int64_t)6 * T * tot * 3 / 4);
    rc_events_free(&ev);
    free(U); free(Ur); free(O); free(Or); free(P);
    rc_lif_sim_free(m);
}

static void test_event_vs_dense(void **st)
{
    (void)st;
    for (int reset = 0; reset < 2; reset++)
        for (int bias = 0; bias < 2; bias++) {
            for (int learn = 0; learn < 2; learn++) { /* model.learn_tau */
                check_event_vs_dense("rfc12 fc3", 20, 0, 0, reset, bias, learn);
                check_event_vs_dense("rfc12a li3", 20, 0, 0, reset, bias, learn);
                check_event_vs_dense("fc10 rfc9a rfc7 fc4", 16, 0, 0, reset, bias, learn);
            }
            /* after a conv and a pool (pooled events of value 1/4), odd map */
            check_event_vs_dense("conv3k3p1 pool2 rfc10a li3", 49, 7, 7, reset, bias, 0);
        }
}

/* ---- float64 smooth reference and finite differences ------------------------------ */

/* The smooth float64 network (o = S(u − θ)), with rfc, rfcNa and li neurons;
 * z gets the output potentials at step tl. */
typedef struct {
    const rc_lif_shape *s;
    const double *P;
    double *r, *a, *prev, *z;
    int t, tl;
} smooth_ref;

static double smooth_neuron(void *ctx, int l, int j, int base, double I)
{
    smooth_ref *c = ctx;
    const rc_lif_shape *s = c->s;
    const rc_lif_layer *L = &s->L[l];
    double th = s->vth;
    if (L->adapt) {
        /* prev still holds o_{t−1} of this layer: lif_ref_step_rec copies a
         * layer's outputs only after all its neurons */
        c->a[base + j] = s->alif_rho * c->a[base + j] + c->prev[base + j];
        th = s->vth + s->alif_beta * c->a[base + j];
    }
    const double tau = L->rec && s->learn_tau ? 1.0 / (1.0 + exp(-c->P[L->kt + j])) : (double)lif_ref_tau(s, NULL, l, j);
    const double u = tau * c->r[base + j] + I;
    if (l == s->nl - 1 && c->t == c->tl) c->z[j] = u;
    if (L->li) { c->r[base + j] = u; return 0; }
    const double o = rc_lif_surr_int(s, u - th);
    c->r[base + j] = s->reset == RC_RESET_MULT ? u * (1 - o) : u - th * o;
    return o;
}

static double ref_loss(const rc_lif_shape *s, const double *P, const rc_events *ev, int tl, int label, double beta)
{
    int width, tot;
    lif_ref_sizes(s, &width, &tot);
    double *x = malloc((size_t)width * sizeof *x), *y = malloc((size_t)width * sizeof *y);
    double *r = calloc((size_t)tot, sizeof *r), *a = calloc((size_t)tot, sizeof *a);
    double *prev = calloc((size_t)tot, sizeof *prev), z[16];
    if (!x || !y || !r || !a || !prev || s->L[s->nl - 1].nout > 16) abort();
    smooth_ref c = { s, P, r, a, prev, z, 0, tl };
    for (int t = 0; t <= tl; t++) {
        c.t = t;
        lif_ref_input(s, ev, t, x);
        lif_ref_step_rec(s, P, x, y, prev, smooth_neuron, &c);
    }
    const int K = s->L[s->nl - 1].nout;
    double mx = z[0], sum = 0, H = 0;
    for (int k = 1; k < K; k++) mx = z[k] > mx ? z[k] : mx;
    for (int k = 0; k < K; k++) sum += exp(z[k] - mx);
    for (int k = 0; k < K; k++) {
        const double p = exp(z[k] - mx) / sum;
        H -= p * log(p);
    }
    free(x);
    free(y);
    free(r);
    free(a);
    free(prev);
    return -(z[label] - mx - log(sum)) - beta * H;
}

/* Returns the number of parameters whose gradient is off; *gmax the largest
 * |finite difference|, *nR the recurrent weights and *nK the learned-τ
 * logits κ with a gradient above 1e-4. */
static int check_fd(const char *layers, int h, int surr, int reset, int bias, int learn, int *checked, double *gmax,
                    int *nR, int *nK)
{
    rc_lif_shape s;
    make_shape_hw(&s, layers, 12, h, h, reset, bias, surr);
    s.learn_tau = learn;
    const int nin = s.L[0].nin;
    s.smooth = 1;
    size_t np;
    float *P = make_params(&s, 1.5, 21 + (uint64_t)surr, &np);
    const int T = 7, tl = 5, label = 1, K = s.L[s.nl - 1].nout;
    const double beta = 0.3;
    rc_events ev = { 0 };
    rand_events(&ev, T, nin, 0.4, 0, 31);
    rc_lif_sim *m = rc_lif_sim_new(&s, T);
    float *uout = calloc((size_t)T * K, sizeof *uout), dz[16];
    float *G = calloc(np, sizeof *G), *PT = calloc(np, sizeof *PT);
    rc_lif_result r;
    rc_lif_forward(m, P, &ev, 1.0f, 0, 1, 0, uout, NULL, &r);
    rc_output_loss(dz, uout + (size_t)tl * K, K, label, beta, 1.0);
    rc_lif_transpose(&s, P, PT);
    rc_lif_backward(m, PT, G, &ev, tl, dz);
    double *dp = malloc(np * sizeof *dp);
    for (size_t i = 0; i < np; i++) dp[i] = P[i];
    int bad = 0;
    for (size_t i = 0; i < np; i++) {
        int is_bias = 0, is_r = 0, is_k = 0;
        for (int l = 0; l < s.nl; l++) {
            const rc_lif_layer *L = &s.L[l];
            if (L->kind != RC_LIF_POOL && i >= L->b && i < L->b + (size_t)L->cout) is_bias = 1;
            if (L->rec && i >= L->r && i < L->r + (size_t)L->cout * L->cout) is_r = 1;
            if (L->rec && learn && i >= L->kt && i < L->kt + (size_t)L->cout) is_k = 1;
        }
        if (is_bias && !bias) { assert_true(G[i] == 0.0f); continue; }
        const double h = 1e-6, keep = dp[i];
        dp[i] = keep + h;
        const double lp = ref_loss(&s, dp, &ev, tl, label, beta);
        dp[i] = keep - h;
        const double lm = ref_loss(&s, dp, &ev, tl, label, beta);
        dp[i] = keep;
        const double fd = (lp - lm) / (2 * h);
        (*checked)++;
        *gmax = fabs(fd) > *gmax ? fabs(fd) : *gmax;
        if (is_r && fabs(fd) > 1e-4) (*nR)++;
        if (is_k && fabs(fd) > 1e-4) (*nK)++;
        if (fabs(fd - G[i]) > 2e-3 * (fabs(fd) + 1e-2)) {
            if (bad < 5) print_error("%s surr %d reset %d bias %d: param %zu: backward %.7g, finite differences %.7g\n",
                                     layers, surr, reset, bias, i, (double)G[i], fd);
            bad++;
        }
    }
    rc_events_free(&ev);
    free(uout); free(G); free(PT); free(dp); free(P);
    rc_lif_sim_free(m);
    return bad;
}

static void test_surrogate_fd(void **st)
{
    (void)st;
    const char *nets[] = { "rfc6 fc3", "rfc6a li3", "fc5 rfc6a rfc4 li3", "conv2k3p1 pool2 rfc5a li3" };
    const int side[] = { 0, 0, 0, 5 }; /* the conv net: a 5×5 image (the pool drops a row and a column) */
    for (int n = 0; n < 4; n++)
        for (int surr = 0; surr < 3; surr++)
            for (int reset = 0; reset < 2; reset++) {
                int checked = 0, nR = 0, nK = 0;
                double gmax = 0;
                const int learn = (n + reset) % 2 || n == 2; /* model.learn_tau */
                const int bad = check_fd(nets[n], side[n], surr, reset, (n + surr) % 2, learn, &checked, &gmax, &nR, &nK);
                if (learn) assert_true(nK >= (surr == RC_LIF_SURR_RECT ? 1 : 3)); /* the learned τ get gradient */
                /* rect's integral has kinks at |x| = lens: a difference across one is not a derivative */
                if (surr == RC_LIF_SURR_RECT) assert_true(bad <= checked / 100);
                else assert_int_equal(bad, 0);
                assert_true(gmax > 1e-3);
                /* the recurrent weights do get gradient (rect's is zero outside
                 * |u − θ| < a: in the small conv net only a few R get one) */
                assert_true(nR > (surr == RC_LIF_SURR_RECT ? 0 : 5));
            }
}

/* ---- engine: thread invariance on flat feature input --------------------------------- */

static rc_status feat_get(const rc_dataset *ds, rc_split split, int64_t index, rc_events *ev, rc_example_info *info)
{
    const uint64_t key = (uint64_t)index * 3 + (uint64_t)split + 100;
    rand_events(ev, ds->T, ds->nin, 1.0, 0, key); /* every feature every step, as speech */
    info->label = (int)(rc_rand64(3, 4, key, 0) % (uint64_t)ds->nclass);
    info->earliest = -1;
    return RC_OK;
}

static void run_engine(int nthreads, int train, int eos, float *grads, rc_example_result *res, size_t *np)
{
    rc_dataset ds = { .name = "feat", .T = 12, .nin = 20, .nclass = 4, .size = { -1, -1, -1 }, .get = feat_get };
    rc_net_shape sh = { .core = RC_CORE_LIF, .nin = 20, .K = 4 };
    make_shape(&sh.snn, "rfc16a rfc8 li4", 20, RC_RESET_SUB, 1, RC_LIF_SURR_FASTSIG);
    sh.snn.learn_tau = 1;
    sh.H = 8;
    rc_net *net = rc_net_new(&sh, 3);
    assert_non_null(net);
    for (size_t i = 0; i < net->nparams; i++) net->params[i] *= 2.0f;
    rc_err err;
    rc_pool *pool = rc_pool_new(nthreads, RC_PLACE_SPREAD, &err);
    rc_engine *eng = rc_engine_new(net, &ds, pool, 40, &err);
    assert_non_null(eng);
    int64_t idx[40];
    for (int i = 0; i < 40; i++) idx[i] = i * 7;
    rc_batch_opts o = { .train = train, .stop_at_spike = !eos, .loss_at_end = eos, .beta = 0.2 };
    rc_net_zero_grad(net);
    int64_t rows = 0;
    assert_int_equal(rc_engine_batch(eng, RC_SPLIT_TRAIN, idx, 37, &o, res, &rows, &err), RC_OK);
    memcpy(grads, net->grads, net->nparams * sizeof *grads);
    *np = net->nparams;
    rc_engine_free(eng);
    rc_pool_free(pool);
    rc_net_free(net);
}

static void test_threads(void **st)
{
    (void)st;
    openblas_set_num_threads(1);
    for (int mode = 0; mode < 3; mode++) {
        const int train = mode < 2, eos = mode == 1;
        float *g1 = malloc(20000 * sizeof *g1), *g2 = malloc(20000 * sizeof *g2);
        rc_example_result r1[40], r2[40];
        size_t np1, np2;
        run_engine(1, train, eos, g1, r1, &np1);
        assert_true(np1 <= 20000);
        int nspk = 0, nz = 0, tmin = 99;
        for (int i = 0; i < 37; i++) { nspk += r1[i].spiked; tmin = r1[i].tsp < tmin ? r1[i].tsp : tmin; }
        for (size_t i = 0; i < np1; i++) nz += g1[i] != 0.0f;
        assert_true(nspk > 0);
        if (train) assert_true(nz > 300);
        for (int th = 2; th <= 3; th++) {
            run_engine(th, train, eos, g2, r2, &np2);
            assert_int_equal(np1, np2);
            assert_memory_equal(g1, g2, np1 * sizeof *g1);
            for (int i = 0; i < 37; i++) {
                assert_int_equal(r1[i].spiked, r2[i].spiked);
                assert_int_equal(r1[i].tsp, r2[i].tsp);
                assert_int_equal(r1[i].pred, r2[i].pred);
                assert_int_equal(r1[i].pred_end, r2[i].pred_end);
                assert_int_equal(r1[i].synops, r2[i].synops);
                assert_memory_equal(&r1[i].loss, &r2[i].loss, sizeof r1[i].loss);
            }
        }
        free(g1);
        free(g2);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_hand),
        cmocka_unit_test(test_event_vs_dense),
        cmocka_unit_test(test_surrogate_fd),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests_name("lif_recurrent", tests, NULL, NULL);
}
