/* test_grad.c — gradients of the LSTM + head + loss against central finite
 * differences of an independent float64 reference, for RC (loss at each
 * example's own t_sp) and EOS training; the RC-vs-cut-EOS identity; the
 * entropy term; and bit-identical gradients for 1, 2 and 3 threads. */
#include "tests/testutil.h"
#include <string.h>
#include "encoders/dataset.h"
#include "models/dense.h"
#include "models/lstm.h"
#include "models/net.h"
#include "sim/engine.h"
#include "sim/pool.h"
#include "base/rng.h"

void openblas_set_num_threads(int);

/* ---- a fixed random data set: real-valued sparse events ------------------ */
typedef struct { int nex; int cut; } tab_priv;

static rc_status tab_get(const rc_dataset *ds, rc_split split, int64_t index,
                         rc_events *ev, rc_example_info *info)
{
    (void)split;
    const tab_priv *p = ds->priv;
    rc_status st = rc_events_reset(ev, ds->T);
    if (st) return st;
    for (int t = 0; t < ds->T; t++)
        for (int c = 0; c < ds->nin; c++) {
            /* ~40 % of (step, channel) carry an event: silent inputs are skipped. */
            if (rc_uniform(7, 1, (uint64_t)index, (uint64_t)(t * 64 + c)) < 0.4)
                rc_events_push(ev, t, c, (float)(2.0 * rc_uniform(7, 2, (uint64_t)index, (uint64_t)(t * 64 + c)) - 1.0));
        }
    rc_events_finish(ev);
    info->label = (int)(rc_rand64(7, 3, (uint64_t)index, 0) % (uint64_t)ds->nclass);
    info->earliest = -1;
    (void)p;
    return RC_OK;
}

static rc_dataset *tab_new(int T, int nin, int nclass)
{
    rc_dataset *ds = calloc(1, sizeof *ds);
    ds->name = "table";
    ds->T = T;
    ds->nin = nin;
    ds->nclass = nclass;
    ds->get = tab_get;
    ds->priv = NULL;
    return ds;
}

/* ---- float64 reference -------------------------------------------------- */
static double sig(double x) { return 1.0 / (1.0 + exp(-x)); }

/* Loss of one example with its loss at step ts, parameters from dp (double
 * copy of net->params, same layout). Straight textbook LSTM, logical order. */
static double ref_loss(const rc_net *net, const double *dp, const rc_events *ev, int label,
                       int ts, double beta, double *probs_at_ts)
{
    const int H = net->s.H, nin = net->s.nin, G4 = 4 * H;
    double h[64] = { 0 }, c[64] = { 0 }, a[256];
    for (int t = 0; t <= ts; t++) {
        for (int g = 0; g < 4; g++)
            for (int u = 0; u < H; u++) {
                int r = rc_lstm_row(H, g, u);
                double s = dp[net->b_ih + r] + dp[net->b_hh + r];
                for (int j = 0; j < H; j++) s += dp[net->w_hh + (size_t)r * H + j] * h[j];
                for (int e = ev->off[t]; e < ev->off[t + 1]; e++)
                    s += dp[net->w_ih + (size_t)ev->ch[e] * G4 + r] * ev->val[e];
                a[g * H + u] = s;
            }
        for (int u = 0; u < H; u++) {
            double i = sig(a[u]), f = sig(a[H + u]), g = tanh(a[2 * H + u]), o = sig(a[3 * H + u]);
            c[u] = f * c[u] + i * g;
            h[u] = o * tanh(c[u]);
        }
    }
    (void)nin;
    double x[64], y[64];
    int w = H;
    memcpy(x, h, sizeof h);
    for (int l = 0; l < net->nlayers; l++) {
        for (int o = 0; o < net->hout[l]; o++) {
            double s = dp[net->hb[l] + o];
            for (int i = 0; i < net->hin[l]; i++) s += dp[net->hw[l] + (size_t)o * net->hin[l] + i] * x[i];
            y[o] = (l < net->nlayers - 1 && s < 0) ? 0 : s;
        }
        w = net->hout[l];
        memcpy(x, y, sizeof y);
    }
    const int K = net->s.K;
    RC_ASSERT(w == K);
    if (K == 1) {
        double p = sig(x[0]);
        if (probs_at_ts) probs_at_ts[0] = p;
        double Hn = -(p * log(p) + (1 - p) * log(1 - p));
        return -(label ? log(p) : log(1 - p)) - beta * Hn;
    }
    double m = x[0], s = 0, Hn = 0;
    for (int k = 1; k < K; k++) m = x[k] > m ? x[k] : m;
    for (int k = 0; k < K; k++) s += exp(x[k] - m);
    for (int k = 0; k < K; k++) {
        double p = exp(x[k] - m) / s;
        if (probs_at_ts) probs_at_ts[k] = p;
        Hn -= p * log(p);
    }
    return -(x[label] - m - log(s)) - beta * Hn;
}

typedef struct {
    rc_net *net;
    rc_dataset *ds;
    rc_events ev[16];
    int label[16];
} fixture;

static double batch_ref_loss(fixture *fx, const double *dp, const rc_example_result *res, int n,
                             int at_end, double beta)
{
    double L = 0;
    for (int i = 0; i < n; i++)
        L += ref_loss(fx->net, dp, &fx->ev[i], fx->label[i], at_end ? fx->ds->T - 1 : res[i].tsp, beta, NULL);
    return L / n;
}

/* Runs one training batch, checks every gradient against central differences. */
static void check_grads_nin(int K, int nhead, int eos, double beta, int nthreads, int nin)
{
    openblas_set_num_threads(1);
    const int T = 6, H = 20, n = 8;
    rc_dataset *ds = tab_new(T, nin, K == 1 ? 2 : K);
    rc_net_shape s = { .nin = nin, .H = H, .nhead = nhead, .head = { 7 }, .K = K };
    rc_net *net = rc_net_new(&s, 42);
    /* Larger weights than init so that outputs move and spikes happen. */
    for (size_t i = 0; i < net->nparams; i++) net->params[i] *= 3.0f;
    rc_err err;
    rc_pool *pool = rc_pool_new(nthreads, RC_PLACE_SPREAD, &err);
    assert_non_null(pool);
    rc_engine *eng = rc_engine_new(net, ds, pool, n, &err);
    assert_non_null(eng);
    fixture fx = { .net = net, .ds = ds };
    int64_t idx[16];
    for (int i = 0; i < n; i++) {
        idx[i] = i;
        rc_example_info info;
        ds->get(ds, RC_SPLIT_TRAIN, i, &fx.ev[i], &info);
        fx.label[i] = info.label;
    }
    /* θ at the median of the step-1 maximum probability: spikes are spread. */
    double *dp = malloc(net->nparams * sizeof *dp);
    for (size_t i = 0; i < net->nparams; i++) dp[i] = net->params[i];
    double pm[16];
    for (int i = 0; i < n; i++) {
        double pr[16];
        ref_loss(net, dp, &fx.ev[i], fx.label[i], 1, 0, pr);
        pm[i] = K == 1 ? fmax(pr[0], 1 - pr[0]) : pr[0];
        for (int k = 1; k < K; k++) pm[i] = fmax(pm[i], pr[k]);
    }
    double sorted[16];
    memcpy(sorted, pm, sizeof pm);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (sorted[j] < sorted[i]) { double tt = sorted[i]; sorted[i] = sorted[j]; sorted[j] = tt; }
    double theta = sorted[n / 2] + 1e-4;
    if (K == 1 && theta < 0.5) theta = 0.5;
    rc_batch_opts o = { .train = 1, .stop_at_spike = !eos, .loss_at_end = eos, .beta = beta, .lstm.threshold = theta };
    rc_example_result res[16];
    rc_net_zero_grad(net);
    assert_int_equal(rc_engine_batch(eng, RC_SPLIT_TRAIN, idx, n, &o, res, NULL, &err), RC_OK);
    if (!eos) {
        int early = 0, late = 0;
        for (int i = 0; i < n; i++) { early += res[i].tsp < T - 1; late += res[i].tsp > 0; }
        assert_true(early > 0 && late > 0); /* RC truncation is really exercised */
    }
    /* Engine loss equals the reference loss. */
    double Leng = 0;
    for (int i = 0; i < n; i++) Leng += res[i].loss;
    Leng /= n;
    double Lref = batch_ref_loss(&fx, dp, res, n, eos, beta);
    assert_true(rc_relerr(Leng, Lref) < 1e-4);
    /* Every parameter: central difference in float64. */
    const double h = 1e-5;
    double worst = 0;
    for (size_t i = 0; i < net->nparams; i++) {
        double keep = dp[i];
        dp[i] = keep + h;
        double lp = batch_ref_loss(&fx, dp, res, n, eos, beta);
        dp[i] = keep - h;
        double lm = batch_ref_loss(&fx, dp, res, n, eos, beta);
        dp[i] = keep;
        double fd = (lp - lm) / (2 * h);
        double an = net->grads[i];
        double e = fabs(fd - an) / fmax(fabs(fd) + fabs(an), 1e-3);
        if (e > worst) worst = e;
        if (e > 1e-3)
            fail_msg("param %zu: analytic %.8g, finite difference %.8g (rel err %.2g)", i, an, fd, e);
    }
    print_message("K=%d head=%d %s beta=%.2f threads=%d nin=%d%s: worst rel err %.2e over %zu params\n",
                  K, nhead, eos ? "eos" : "rc", beta, nthreads, nin,
                  nin >= 32 ? " (dense input path)" : "", worst, net->nparams);
    for (int i = 0; i < n; i++) rc_events_free(&fx.ev[i]);
    free(dp);
    rc_engine_free(eng);
    rc_pool_free(pool);
    rc_net_free(net);
    rc_dataset_free(ds);
}

static void check_grads(int K, int nhead, int eos, double beta, int nthreads)
{
    check_grads_nin(K, nhead, eos, beta, nthreads, 3);
}

/* 40 inputs with ~40 % carrying an event per step: the engine takes the
 * dense-input sgemm path (rc_step_input.x) in forward and ∂W_ih. */
static void test_grad_dense_input_rc(void **st) { (void)st; check_grads_nin(4, 0, 0, 0.2, 2, 40); }
static void test_grad_dense_input_eos(void **st) { (void)st; check_grads_nin(3, 1, 1, 0.0, 1, 40); }

static void test_grad_softmax_rc(void **st) { (void)st; check_grads(4, 0, 0, 0.0, 1); }
static void test_grad_softmax_rc_beta(void **st) { (void)st; check_grads(4, 1, 0, 0.3, 2); }
static void test_grad_softmax_eos(void **st) { (void)st; check_grads(4, 1, 1, 0.2, 1); }
static void test_grad_sigmoid_rc(void **st) { (void)st; check_grads(1, 0, 0, 0.0, 2); }
static void test_grad_sigmoid_eos_beta(void **st) { (void)st; check_grads(1, 0, 1, 0.165, 1); }

/* The entropy-regularised output loss against finite differences. */
static void test_entropy_grad(void **st)
{
    (void)st;
    for (int K = 1; K <= 5; K += 4)
        for (int trial = 0; trial < 20; trial++) {
            float z[8], dz[8];
            for (int k = 0; k < K; k++) z[k] = (float)(4 * rc_uniform(3, 9, (uint64_t)trial, (uint64_t)k) - 2);
            const int y = trial % (K == 1 ? 2 : K);
            const double beta = 0.1 * (trial % 7) - 0.2;
            rc_output_loss(dz, z, K, y, beta, 1.0);
            for (int k = 0; k < K; k++) {
                /* FD on a double copy of the same formula through float logits. */
                const double h = 1e-3;
                float zp[8], zm[8], tmp[8];
                memcpy(zp, z, sizeof z);
                memcpy(zm, z, sizeof z);
                zp[k] += (float)h;
                zm[k] -= (float)h;
                const double hp = (double)zp[k] - z[k], hm = z[k] - (double)zm[k];
                double lp = rc_output_loss(tmp, zp, K, y, beta, 1.0);
                double lm = rc_output_loss(tmp, zm, K, y, beta, 1.0);
                double fd = (lp - lm) / (hp + hm);
                assert_true(rc_relerr(fd, dz[k]) < 1e-3 || fabs(fd - dz[k]) < 1e-5);
            }
        }
    /* Hand-computed: sigmoid at z = 0, y = 1, β = 0.5: p = ½, CE = log 2,
     * H = log 2, dL/dz = p − y + β·p(1−p)·z = −½. */
    float z0 = 0.0f, d0;
    double L = rc_output_loss(&d0, &z0, 1, 1, 0.5, 1.0);
    assert_true(fabs(L - 0.5 * log(2.0)) < 1e-12);
    assert_true(fabs(d0 + 0.5f) < 1e-7);
}

/* RC gradient of an example that spikes at s equals the EOS gradient of the
 * same example cut to s+1 steps (any core: LSTM or ConvLSTM). */
static void check_rc_equals_cut_eos(const rc_net_shape *s, int T, uint64_t seed, int nsearch)
{
    openblas_set_num_threads(1);
    const int K = s->K;
    rc_err err;
    rc_pool *pool = rc_pool_new(2, RC_PLACE_SPREAD, &err);
    rc_dataset *ds = tab_new(T, s->nin, K == 1 ? 2 : K);
    rc_net *net = rc_net_new(s, seed);
    for (size_t i = 0; i < net->nparams; i++) net->params[i] *= 3.0f;
    rc_engine *eng = rc_engine_new(net, ds, pool, 1, &err);
    assert_non_null(eng);
    /* Find an example and θ such that it spikes strictly inside the sequence. */
    rc_example_result res;
    int64_t idx = -1;
    double theta = 0;
    for (int64_t i = 0; i < nsearch && idx < 0; i++)
        for (double th = 0.4; th < 0.95; th += 0.05) {
            rc_batch_opts o = { .train = 0, .stop_at_spike = 1, .lstm.threshold = th };
            rc_engine_batch(eng, RC_SPLIT_TRAIN, &i, 1, &o, &res, NULL, &err);
            if (res.spiked && res.tsp >= 2 && res.tsp < T - 1) { idx = i; theta = th; break; }
        }
    assert_true(idx >= 0);
    rc_batch_opts orc = { .train = 1, .stop_at_spike = 1, .beta = 0.2, .lstm.threshold = theta };
    rc_net_zero_grad(net);
    rc_engine_batch(eng, RC_SPLIT_TRAIN, &idx, 1, &orc, &res, NULL, &err);
    float *g_rc = malloc(net->nparams * sizeof(float));
    memcpy(g_rc, net->grads, net->nparams * sizeof(float));
    /* Same data, sequences cut to t_sp + 1 steps, trained EOS. */
    rc_dataset *cut = tab_new(res.tsp + 1, s->nin, K == 1 ? 2 : K);
    rc_engine *eng2 = rc_engine_new(net, cut, pool, 1, &err);
    rc_batch_opts oeos = { .train = 1, .stop_at_spike = 0, .loss_at_end = 1, .beta = 0.2, .lstm.threshold = 1.0 };
    rc_net_zero_grad(net);
    rc_example_result r2;
    rc_engine_batch(eng2, RC_SPLIT_TRAIN, &idx, 1, &oeos, &r2, NULL, &err);
    assert_true(fabs(r2.loss - res.loss) < 1e-6);
    double maxd = 0, maxg = 0;
    for (size_t i = 0; i < net->nparams; i++) {
        maxd = fmax(maxd, fabs((double)g_rc[i] - net->grads[i]));
        maxg = fmax(maxg, fabs(g_rc[i]));
    }
    assert_true(maxg > 1e-4);
    assert_true(maxd <= 1e-6 * maxg);
    free(g_rc);
    rc_engine_free(eng2);
    rc_engine_free(eng);
    rc_dataset_free(cut);
    rc_dataset_free(ds);
    rc_net_free(net);
    rc_pool_free(pool);
}

/* Gradients, one Adam step and per-example results are bit-identical for 1,
 * 2 and 3 threads (the tile counts below give uneven splits). */
static void check_thread_invariance(const rc_net_shape *s, int T, int n, int64_t first, float scale,
                                    double theta, double clip, uint64_t seed)
{
    openblas_set_num_threads(1);
    RC_ASSERT(n <= 32);
    rc_dataset *ds = tab_new(T, s->nin, s->K == 1 ? 2 : s->K);
    float *ref = NULL;
    rc_example_result rref[32];
    for (int nt = 1; nt <= 3; nt++) {
        rc_err err;
        rc_pool *pool = rc_pool_new(nt, RC_PLACE_SPREAD, &err);
        rc_net *net = rc_net_new(s, seed);
        for (size_t i = 0; i < net->nparams; i++) net->params[i] *= scale;
        rc_engine *eng = rc_engine_new(net, ds, pool, n, &err);
        assert_non_null(eng);
        int64_t idx[32];
        for (int i = 0; i < n; i++) idx[i] = first + i;
        rc_batch_opts o = { .train = 1, .stop_at_spike = 1, .beta = 0.1, .lstm.threshold = theta };
        rc_example_result res[32];
        rc_net_zero_grad(net);
        assert_int_equal(rc_engine_batch(eng, RC_SPLIT_TRAIN, idx, n, &o, res, NULL, &err), RC_OK);
        double gn = 0;
        for (size_t i = 0; i < net->nparams; i++) gn += fabs(net->grads[i]);
        assert_true(gn > 0);
        rc_engine_adam(eng, 1e-3, 0.9, 0.999, 1e-8, clip, 1);
        if (!ref) {
            ref = malloc(2 * net->nparams * sizeof(float));
            memcpy(ref, net->grads, net->nparams * sizeof(float));
            memcpy(ref + net->nparams, net->params, net->nparams * sizeof(float));
            memcpy(rref, res, (size_t)n * sizeof *res);
        } else {
            assert_memory_equal(ref, net->grads, net->nparams * sizeof(float));
            assert_memory_equal(ref + net->nparams, net->params, net->nparams * sizeof(float));
            for (int i = 0; i < n; i++) {
                assert_int_equal(res[i].tsp, rref[i].tsp);
                assert_int_equal(res[i].pred, rref[i].pred);
                assert_true(res[i].loss == rref[i].loss);
            }
        }
        rc_engine_free(eng);
        rc_net_free(net);
        rc_pool_free(pool);
    }
    free(ref);
    rc_dataset_free(ds);
}

static void test_rc_equals_cut_eos(void **st)
{
    (void)st;
    rc_net_shape s = { .nin = 2, .H = 18, .K = 3 };
    check_rc_equals_cut_eos(&s, 8, 5, 50);
}

static void test_thread_invariance(void **st)
{
    (void)st;
    rc_net_shape s = { .nin = 5, .H = 70, .nhead = 1, .head = { 9 }, .K = 4 }; /* 5 tiles */
    check_thread_invariance(&s, 10, 32, 100, 2.0f, 0.5, 0.5, 11);
    rc_net_shape sd = { .nin = 48, .H = 70, .K = 4 }; /* dense input path */
    check_thread_invariance(&sd, 10, 32, 100, 1.0f, 0.5, 0.5, 12);
}

/* ConvLSTM through the engine (the kernels themselves are checked against
 * finite differences in tests/test_convlstm.c): 5 channels = tiles of 4 + 1. */
static rc_net_shape conv_shape(int K)
{
    rc_net_shape s = { .core = RC_CORE_CONVLSTM, .conv = { .C = 5, .Cin = 1, .Hh = 6, .Ww = 5, .k = 3 },
                       .nin = 30, .H = 5 * 30, .nhead = 0, .K = K };
    return s;
}

static void test_conv_thread_invariance(void **st)
{
    (void)st;
    rc_net_shape s = conv_shape(4);
    check_thread_invariance(&s, 6, 12, 50, 3.0f, 0.4, 0, 13);
}

static void test_conv_rc_equals_cut_eos(void **st)
{
    (void)st;
    rc_net_shape s = conv_shape(3);
    check_rc_equals_cut_eos(&s, 7, 21, 60);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entropy_grad),
        cmocka_unit_test(test_grad_softmax_rc),
        cmocka_unit_test(test_grad_dense_input_rc),
        cmocka_unit_test(test_grad_dense_input_eos),
        cmocka_unit_test(test_grad_softmax_rc_beta),
        cmocka_unit_test(test_grad_softmax_eos),
        cmocka_unit_test(test_grad_sigmoid_rc),
        cmocka_unit_test(test_grad_sigmoid_eos_beta),
        cmocka_unit_test(test_rc_equals_cut_eos),
        cmocka_unit_test(test_thread_invariance),
        cmocka_unit_test(test_conv_thread_invariance),
        cmocka_unit_test(test_conv_rc_equals_cut_eos),
    };
    return cmocka_run_group_tests_name("gradients", tests, NULL, NULL);
}
