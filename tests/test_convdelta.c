/* test_convdelta.c — the delta ConvLSTM (rc_engine_lstm_opts.delta_x,
 * delta_h with a ConvLSTM net) against an independent float64 reference of
 * the same rule: per example and hidden map element (channel, y, x), an
 * event where |h_{t−1} − ĥ| ≥ Θh (input channels: |x_t − x̂| ≥ Θx), and
 * gates from what was sent, a = b + conv(x̂, W_x) + conv(ĥ, W_h) by a direct
 * six-loop convolution (no gate memory, no scatter, no im2col: what the
 * engine's memory of events adds up to). Checked: the events each example
 * sends, the loss, and every gradient of the straight-through rule (∂ĥ/∂h =
 * 1; weight gradients from ĥ and x̂), RC and EOS, each side alone and both,
 * 1–3 threads; the reference's backward against central differences at
 * Θ = 0 (the plain ConvLSTM); Θ = 1e-30 against the exact path; 1, 2, 3
 * threads bit for bit; the event and MAC counters by hand, including which
 * rows took the sgemm path. Then the app: a tiny temporal-MNIST ConvLSTM run
 * with model.delta_h (summary.json, metrics.csv, traces.h5's hidden events
 * with their channel,y,x shape) and rcsim eval --delta-h. */
#include "tests/testutil.h"
#include "tests/h5testutil.h"
#include <hdf5.h>
#include "encoders/dataset.h"
#include "models/convlstm.h"
#include "models/net.h"
#include "sim/engine.h"
#include "sim/pool.h"
#include "base/rng.h"

void openblas_set_num_threads(int);

#define T_ 5
#define CIN 2
#define CC 5           /* two channel tiles (4 + 1): uneven thread splits */
#define HW 5
#define KS 3
#define PP (HW * HW)
#define NIN (CIN * PP)
#define HH (CC * PP)
#define NK 3
#define NEX 6
#define THETA 0.4
/* The engine's sgemm share for a row's hidden events (sim/engine_convlstm_delta.c):
 * ceil(0.25 · 125) = 32 events. */
#define DENSE_MIN 32

static const rc_convlstm_shape SHAPE = { .C = CC, .Cin = CIN, .Hh = HW, .Ww = HW, .k = KS };

/* ---- data: slowly drifting real-valued maps, so input deltas are sparse -- */
static rc_status drift_get(const rc_dataset *ds, rc_split split, int64_t index, rc_events *ev, rc_example_info *info)
{
    (void)split;
    rc_status st = rc_events_reset(ev, ds->T);
    if (st) return st;
    for (int t = 0; t < ds->T; t++)
        for (int c = 0; c < ds->nin; c++) {
            const double lv = 2.0 * rc_uniform(12, 1, (uint64_t)index, (uint64_t)c) - 1.0;
            const double wob = 0.4 * (rc_uniform(12, 2, (uint64_t)index, (uint64_t)(t * 64 + c)) - 0.5);
            if (rc_uniform(12, 3, (uint64_t)index, (uint64_t)(t * 64 + c)) < 0.8)
                rc_events_push(ev, t, c, (float)(lv + wob));
        }
    rc_events_finish(ev);
    info->label = (int)(rc_rand64(12, 4, (uint64_t)index, 0) % (uint64_t)ds->nclass);
    info->earliest = -1;
    return RC_OK;
}

/* ---- float64 reference -------------------------------------------------- */
static double sig(double x) { return 1.0 / (1.0 + exp(-x)); }

/* out (Cout, P) += conv(in (Cn, P), w (Cout, Cn, k, k)), same zero padding. */
static void ref_conv(double *out, const double *in, const double *w, int Cout, int Cn)
{
    const int pad = KS / 2;
    for (int o = 0; o < Cout; o++)
        for (int y = 0; y < HW; y++)
            for (int x = 0; x < HW; x++)
                for (int ci = 0; ci < Cn; ci++)
                    for (int kr = 0; kr < KS; kr++)
                        for (int kc = 0; kc < KS; kc++) {
                            const int yy = y + kr - pad, xx = x + kc - pad;
                            if (yy < 0 || yy >= HW || xx < 0 || xx >= HW) continue;
                            out[o * PP + y * HW + x] += w[((o * Cn + ci) * KS + kr) * KS + kc] * in[ci * PP + yy * HW + xx];
                        }
}

/* The transpose of ref_conv: dw += dout ⋆ in; din (if not NULL) += the
 * transposed convolution of dout with w. */
static void ref_conv_back(double *din, double *dw, const double *dout, const double *in, const double *w, int Cout, int Cn)
{
    const int pad = KS / 2;
    for (int o = 0; o < Cout; o++)
        for (int y = 0; y < HW; y++)
            for (int x = 0; x < HW; x++) {
                const double d = dout[o * PP + y * HW + x];
                for (int ci = 0; ci < Cn; ci++)
                    for (int kr = 0; kr < KS; kr++)
                        for (int kc = 0; kc < KS; kc++) {
                            const int yy = y + kr - pad, xx = x + kc - pad;
                            if (yy < 0 || yy >= HW || xx < 0 || xx >= HW) continue;
                            const int wi = ((o * Cn + ci) * KS + kr) * KS + kc, ii = ci * PP + yy * HW + xx;
                            dw[wi] += d * in[ii];
                            if (din) din[ii] += d * w[wi];
                        }
            }
}

typedef struct {
    double tx, th;         /* Θx, Θh (0: exact on that side)              */
    double margin;         /* smallest | |d| − Θ | over all decisions     */
    int hev, xev;          /* events sent                                 */
    int hstep[T_];         /* hidden events at each step                  */
} ref_rule;

/* Loss of one example with its loss at step ts; if g is not NULL, adds
 * scale × the straight-through gradient into g (layout of net->params). */
static double ref_example(const rc_net *net, const double *dp, const rc_events *ev, int label, int ts,
                          double beta, ref_rule *ru, double *g, double scale)
{
    static double xh[T_][NIN], hh[T_][HH], act[T_][4 * HH], cc[T_ + 1][HH];
    double h[HH] = { 0 }, xs[NIN] = { 0 }, hs[HH] = { 0 };
    const double *wx = dp + net->w_ih, *wh = dp + net->w_hh, *b = dp + net->b_ih;
    memset(cc, 0, sizeof cc);
    for (int t = 0; t <= ts; t++) {
        double x[NIN] = { 0 };
        for (int e = ev->off[t]; e < ev->off[t + 1]; e++) x[ev->ch[e]] += ev->val[e];
        for (int i = 0; i < NIN; i++) {
            const double d = x[i] - xs[i];
            if (ru->tx > 0) ru->margin = fmin(ru->margin, fabs(fabs(d) - ru->tx));
            if (ru->tx == 0 || fabs(d) >= ru->tx) { xs[i] = x[i]; ru->xev += ru->tx > 0 && d != 0; }
            xh[t][i] = xs[i];
        }
        ru->hstep[t] = 0;
        for (int j = 0; j < HH; j++) {
            const double d = h[j] - hs[j];
            if (ru->th > 0 && t > 0) ru->margin = fmin(ru->margin, fabs(fabs(d) - ru->th));
            if (ru->th == 0 || fabs(d) >= ru->th) {
                hs[j] = h[j];
                ru->hev += ru->th > 0 && t > 0;
                ru->hstep[t] += ru->th > 0 && t > 0;
            }
            hh[t][j] = hs[j];
        }
        double *a = act[t];
        for (int o = 0; o < 4 * CC; o++)
            for (int p = 0; p < PP; p++) a[o * PP + p] = b[o];
        ref_conv(a, xh[t], wx, 4 * CC, CIN);
        ref_conv(a, hh[t], wh, 4 * CC, CC);
        for (int u = 0; u < HH; u++) { /* u = ch·P + p; gate g of it at g·HH + u */
            a[u] = sig(a[u]);
            a[HH + u] = sig(a[HH + u]);
            a[2 * HH + u] = tanh(a[2 * HH + u]);
            a[3 * HH + u] = sig(a[3 * HH + u]);
            cc[t + 1][u] = a[HH + u] * cc[t][u] + a[u] * a[2 * HH + u];
            h[u] = a[3 * HH + u] * tanh(cc[t + 1][u]);
        }
    }
    double z[NK], p[NK], m = -1e300, s = 0, ent = 0;
    for (int k = 0; k < NK; k++) {
        z[k] = dp[net->hb[0] + k];
        for (int u = 0; u < HH; u++) z[k] += dp[net->hw[0] + (size_t)k * HH + u] * h[u];
        m = fmax(m, z[k]);
    }
    for (int k = 0; k < NK; k++) s += exp(z[k] - m);
    for (int k = 0; k < NK; k++) { p[k] = exp(z[k] - m) / s; ent -= p[k] * log(p[k]); }
    const double loss = -(z[label] - m - log(s)) - beta * ent;
    if (!g) return loss;
    double dh[HH] = { 0 }, dc[HH] = { 0 };
    for (int k = 0; k < NK; k++) {
        const double dz = scale * (p[k] - (k == label) + beta * p[k] * (log(p[k]) + ent));
        g[net->hb[0] + k] += dz;
        for (int u = 0; u < HH; u++) {
            g[net->hw[0] + (size_t)k * HH + u] += dz * h[u];
            dh[u] += dz * dp[net->hw[0] + (size_t)k * HH + u];
        }
    }
    for (int t = ts; t >= 0; t--) {
        double dg[4 * HH], dhp[HH] = { 0 };
        const double *a = act[t];
        for (int u = 0; u < HH; u++) {
            const double i = a[u], f = a[HH + u], gg = a[2 * HH + u], o = a[3 * HH + u], tc = tanh(cc[t + 1][u]);
            const double dct = dc[u] + dh[u] * o * (1 - tc * tc);
            dg[u] = dct * gg * i * (1 - i);
            dg[HH + u] = dct * cc[t][u] * f * (1 - f);
            dg[2 * HH + u] = dct * i * (1 - gg * gg);
            dg[3 * HH + u] = dh[u] * tc * o * (1 - o);
            dc[u] = dct * f;
        }
        for (int o = 0; o < 4 * CC; o++)
            for (int q = 0; q < PP; q++) g[net->b_ih + o] += dg[o * PP + q];
        ref_conv_back(dhp, g + net->w_hh, dg, hh[t], wh, 4 * CC, CC); /* straight through ĥ */
        ref_conv_back(NULL, g + net->w_ih, dg, xh[t], wx, 4 * CC, CIN);
        memcpy(dh, dhp, sizeof dh);
    }
    return loss;
}

/* ---- fixture ------------------------------------------------------------ */
#include "tests/deltafix.h"

static void fx_init(fixture *fx, double wscale)
{
    openblas_set_num_threads(1);
    fx->ds = calloc(1, sizeof *fx->ds);
    *fx->ds = (rc_dataset){ .name = "drift", .T = T_, .nin = NIN, .nclass = NK, .get = drift_get };
    rc_net_shape s = { .core = RC_CORE_CONVLSTM, .conv = SHAPE, .nin = NIN, .H = HH, .K = NK };
    fx->net = rc_net_new(&s, 91);
    for (size_t i = 0; i < fx->net->nparams; i++) fx->net->params[i] *= (float)wscale;
    fx->dp = malloc(fx->net->nparams * sizeof *fx->dp);
    for (size_t i = 0; i < fx->net->nparams; i++) fx->dp[i] = fx->net->params[i];
    for (int i = 0; i < NEX; i++) {
        memset(&fx->ev[i], 0, sizeof fx->ev[i]);
        rc_example_info info;
        assert_int_equal(drift_get(fx->ds, RC_SPLIT_TRAIN, i, &fx->ev[i], &info), RC_OK);
        fx->label[i] = info.label;
    }
}

/* The engine's delta forward and straight-through gradient equal the
 * float64 reference, example by example. */
static void check_st(double tx, double th, int eos, int nt)
{
    fixture fx;
    fx_init(&fx, 2.5);
    const double beta = 0.2;
    rc_batch_opts o = { .train = 1, .stop_at_spike = !eos, .loss_at_end = eos, .beta = beta,
                        .lstm = { .threshold = THETA, .delta_x = tx, .delta_h = th } };
    rc_example_result res[NEX];
    float *ge = malloc(fx.net->nparams * sizeof *ge);
    double *gr = calloc(fx.net->nparams, sizeof *gr);
    const double L = run_batch(&fx, nt, &o, res, ge);
    double Lr = 0;
    int early = 0, sparse = 0, dense = 0;
    for (int i = 0; i < NEX; i++) {
        ref_rule ru = { tx, th, 1e9, 0, 0, { 0 } };
        const int ts = eos ? T_ - 1 : res[i].tsp;
        early += ts < T_ - 1;
        Lr += ref_example(fx.net, fx.dp, &fx.ev[i], fx.label[i], ts, beta, &ru, gr, 1.0 / NEX);
        /* Decisions away from the threshold (10× what float32 rounding moves h
         * by over these steps): float32 and float64 agree. */
        if (ru.margin <= 1e-5) fail_msg("example %d: a decision within %g of the threshold", i, ru.margin);
        if (th > 0) assert_int_equal(res[i].hevents, ru.hev);
        if (tx > 0) assert_int_equal(res[i].events, ru.xev);
        if (th > 0) assert_int_equal(res[i].hslots, (int64_t)ts * HH);
        for (int t = 1; t <= ts; t++) {
            dense += ru.hstep[t] >= DENSE_MIN;
            sparse += ru.hstep[t] > 0 && ru.hstep[t] < DENSE_MIN;
        }
    }
    Lr /= NEX;
    if (rc_relerr(L, Lr) >= 1e-4) fail_msg("loss: engine %.8g, reference %.8g", L, Lr);
    if (!eos) assert_true(early > 0);
    /* Both paths of the hidden events ran. */
    if (th > 0) assert_true(dense > 0 && sparse > 0);
    size_t at = 0;
    const double w = worst_rel(ge, gr, fx.net->nparams, &at);
    char name[32];
    size_t loc;
    rc_net_tensor_at(fx.net, at, name, sizeof name, &loc);
    print_message("delta_x %g delta_h %g %s threads %d: rows dense %d sparse %d, worst rel err %.2e (%s[%zu])\n", tx,
                  th, eos ? "eos" : "rc", nt, dense, sparse, w, name, loc);
    if (w > 1e-3) fail_msg("%s[%zu]: engine %.8g, reference %.8g", name, loc, ge[at], gr[at]);
    free(ge);
    free(gr);
    fx_free(&fx);
}

static void test_st_hidden_rc(void **st) { (void)st; check_st(0, 0.1, 0, 2); }
static void test_st_both_rc(void **st) { (void)st; check_st(0.1, 0.1, 0, 1); }
static void test_st_input_eos(void **st) { (void)st; check_st(0.1, 0, 1, 2); }
static void test_st_both_eos(void **st) { (void)st; check_st(0.05, 0.08, 1, 3); }
static void test_st_hidden_eos(void **st) { (void)st; check_st(0, 0.1, 1, 1); }
static void test_st_input_rc(void **st) { (void)st; check_st(0.25, 0, 0, 3); }

/* The reference's backward is right: at Θ = 0 (the plain ConvLSTM) it
 * equals central differences of its own loss. */
static void test_reference_fd(void **st)
{
    (void)st;
    fixture fx;
    fx_init(&fx, 2.5);
    const double beta = 0.2;
    const size_t np = fx.net->nparams;
    double *gr = calloc(np, sizeof *gr);
    int ts[NEX];
    for (int i = 0; i < NEX; i++) {
        ts[i] = (i * 3) % T_;
        ref_rule ru = { 0, 0, 1e9, 0, 0, { 0 } };
        ref_example(fx.net, fx.dp, &fx.ev[i], fx.label[i], ts[i], beta, &ru, gr, 1.0 / NEX);
    }
    double worst = 0;
    for (size_t k = 0; k < np; k++) {
        const double keep = fx.dp[k], hstep = 1e-5;
        double lp = 0, lm = 0;
        for (int sgn = 0; sgn < 2; sgn++) {
            fx.dp[k] = keep + (sgn ? -hstep : hstep);
            for (int i = 0; i < NEX; i++) {
                ref_rule ru = { 0, 0, 1e9, 0, 0, { 0 } };
                const double l = ref_example(fx.net, fx.dp, &fx.ev[i], fx.label[i], ts[i], beta, &ru, NULL, 0) / NEX;
                if (sgn) lm += l; else lp += l;
            }
        }
        fx.dp[k] = keep;
        const double fd = (lp - lm) / (2 * hstep);
        const double e = fabs(fd - gr[k]) / fmax(fabs(fd) + fabs(gr[k]), 1e-3);
        worst = fmax(worst, e);
        if (e > 1e-6) fail_msg("param %zu: reference %.10g, finite difference %.10g", k, gr[k], fd);
    }
    print_message("reference backward vs central differences (%zu parameters): worst rel err %.2e\n", np, worst);
    free(gr);
    fx_free(&fx);
}

/* Θ → 0 (1e-30: every change is an event) is the exact ConvLSTM up to
 * rounding: the hidden side through the sgemm path (all units send), the
 * input side through the input-delta path. Θ = 0 is the plain path itself. */
static void test_tiny_threshold_is_exact(void **st)
{
    (void)st;
    fixture fx;
    fx_init(&fx, 2.5);
    const size_t np = fx.net->nparams;
    rc_batch_opts o = { .train = 1, .stop_at_spike = 1, .beta = 0.1, .lstm.threshold = THETA };
    rc_example_result r0[NEX], r1[NEX];
    float *g0 = malloc(np * sizeof *g0), *g1 = malloc(np * sizeof *g1);
    double *g0d = malloc(np * sizeof *g0d);
    run_batch(&fx, 2, &o, r0, g0);
    for (size_t i = 0; i < np; i++) g0d[i] = g0[i];
    const double th[3][2] = { { 1e-30, 1e-30 }, { 0, 1e-30 }, { 1e-30, 0 } };
    for (int c = 0; c < 3; c++) {
        o.lstm.delta_x = th[c][0];
        o.lstm.delta_h = th[c][1];
        run_batch(&fx, 2, &o, r1, g1);
        size_t at = 0;
        const double w = worst_rel(g1, g0d, np, &at);
        char nm[32];
        size_t loc;
        rc_net_tensor_at(fx.net, at, nm, sizeof nm, &loc);
        print_message("delta_x %g delta_h %g vs exact: worst rel err %.2e (%s[%zu] %g vs %g)\n", th[c][0], th[c][1], w,
                      nm, loc, g1[at], g0[at]);
        assert_true(w < 1e-4);
        for (int i = 0; i < NEX; i++) {
            assert_int_equal(r1[i].tsp, r0[i].tsp);
            assert_true(fabsf(r1[i].loss - r0[i].loss) <= 1e-5f * fabsf(r0[i].loss) + 1e-6f);
            assert_true(r0[i].macs == r0[i].macs_dense);
            if (th[c][1] > 0) {
                /* Every unit-step after step 0 sent: the sgemm path, counted whole. */
                assert_int_equal(r1[i].hevents, (int64_t)r1[i].tsp * HH);
                if (th[c][0] == 0) assert_true(r1[i].macs == r1[i].macs_dense && r1[i].macs == r0[i].macs);
            }
        }
    }
    free(g0); free(g1); free(g0d);
    fx_free(&fx);
}

/* Bit-identical gradients, results and counters for 1, 2 and 3 threads (two
 * channel tiles and 6 rows: uneven splits of both), both sides. */
static void test_threads(void **st)
{
    (void)st;
    fixture fx;
    fx_init(&fx, 2.5);
    const size_t np = fx.net->nparams;
    rc_batch_opts o = { .train = 1, .stop_at_spike = 1, .beta = 0.1,
                        .lstm = { .threshold = THETA, .delta_x = 0.1, .delta_h = 0.1 } };
    rc_example_result r[3][NEX];
    float *g[3];
    for (int nt = 1; nt <= 3; nt++) {
        g[nt - 1] = malloc(np * sizeof(float));
        run_batch(&fx, nt, &o, r[nt - 1], g[nt - 1]);
    }
    for (int nt = 2; nt <= 3; nt++) {
        assert_memory_equal(g[0], g[nt - 1], np * sizeof(float));
        for (int i = 0; i < NEX; i++) {
            assert_int_equal(r[nt - 1][i].tsp, r[0][i].tsp);
            assert_int_equal(r[nt - 1][i].hevents, r[0][i].hevents);
            assert_int_equal(r[nt - 1][i].events, r[0][i].events);
            assert_true(r[nt - 1][i].loss == r[0][i].loss && r[nt - 1][i].macs == r[0][i].macs);
        }
    }
    for (int k = 0; k < 3; k++) free(g[k]);
    fx_free(&fx);
}

/* The counters by hand. Per computed step: the output layer, 4C·k² per
 * input (delta) event and, for the hidden events, 4C·k² each on a row that
 * added them one by one, or 4C·k²·H (the whole recurrent conv) on a row
 * with ≥ DENSE_MIN of them. The dense-recurrent count has 4C·k²·H per step
 * after step 0 instead. rec_dh holds each event's change (≥ Θh). */
static void test_counters(void **st)
{
    (void)st;
    fixture fx;
    fx_init(&fx, 2.5);
    const double th = 0.1;
    float *rec = calloc((size_t)NEX * T_ * HH, sizeof *rec);
    rc_batch_opts o = { .train = 0, .stop_at_spike = 1,
                        .lstm = { .threshold = THETA, .delta_x = 0.1, .delta_h = th, .rec_dh = rec } };
    rc_example_result res[NEX];
    float *g = malloc(fx.net->nparams * sizeof *g);
    run_batch(&fx, 2, &o, res, g);
    const double head = (double)HH * NK, ev = 4.0 * CC * KS * KS;
    int ndense = 0, nsparse = 0;
    for (int i = 0; i < NEX; i++) {
        const double steps = res[i].tsp + 1;
        int64_t nev = 0;
        double hmacs = 0;
        for (int t = 0; t <= res[i].tsp; t++) {
            int cnt = 0;
            for (int u = 0; u < HH; u++) {
                const float d = rec[((size_t)i * T_ + t) * HH + u];
                if (d != 0.0f) { cnt++; assert_true(fabsf(d) >= (float)th && t > 0); }
            }
            nev += cnt;
            hmacs += ev * (cnt >= DENSE_MIN ? HH : cnt);
            ndense += cnt >= DENSE_MIN;
            nsparse += cnt > 0 && cnt < DENSE_MIN;
        }
        assert_int_equal(nev, res[i].hevents);
        assert_int_equal(res[i].hslots, (int64_t)res[i].tsp * HH);
        if (res[i].macs != steps * head + ev * (double)res[i].events + hmacs)
            fail_msg("example %d: macs %.1f, by hand %.1f", i, res[i].macs, steps * head + ev * (double)res[i].events + hmacs);
        assert_true(res[i].macs_dense == steps * head + ev * (double)res[i].events + (steps - 1) * ev * HH);
    }
    print_message("rows with hidden events: %d by sgemm, %d one by one\n", ndense, nsparse);
    assert_true(ndense > 0 && nsparse > 0);
    free(rec);
    free(g);
    fx_free(&fx);
}

/* ---- the app: a tiny temporal-MNIST ConvLSTM with model.delta_h --------- */

static char g_dir[256];

static int app_setup(void **st)
{
    (void)st;
    return rc_test_mkdtemp(g_dir, sizeof g_dir, "/tmp/rcsim_convdelta_");
}

static int app_teardown(void **st)
{
    (void)st;
    return rc_test_rmtree(g_dir);
}

static double json_num(const char *s, const char *key)
{
    char k[96];
    snprintf(k, sizeof k, "\"%s\": ", key);
    const char *p = strstr(s, k);
    if (!p) fail_msg("no %s in summary.json", key);
    return strtod(p + strlen(k), NULL);
}

/* A run with delta_h (1 and 2 threads give the same numbers): summary.json's
 * delta keys and hidden events, metrics.csv's column, traces.h5's
 * hidden_events (shape channel,y,x; node = channel·784 + y·28 + x; as many
 * as the summary says for the traced examples, each ≥ Θh, steps in [1, t_sp)),
 * and eval's delta sweep (Θh 0: the dense recurrent count, no events). */
static void test_app_run(void **st)
{
    (void)st;
    char dir[300], cfg[400], text[1024], err[8192], p[600];
    snprintf(dir, sizeof dir, "%s/mn", g_dir);
    rc_test_write_tiny_mnist(dir, 120, 32);
    snprintf(cfg, sizeof cfg, "%s/cd.cfg", g_dir);
    char ids[200] = "0";
    for (int i = 1; i < 32; i++) snprintf(ids + strlen(ids), sizeof ids - strlen(ids), ",%d", i);
    snprintf(text, sizeof text,
             "[task]\nname = tmnist\ndata_dir = %s\nvalidation = 20\n[encoder]\nsteps = 6\n"
             "[model]\ntype = convlstm\nchannels = 2\nkernel = 3\ndelta_h = 0.02\n"
             "[train]\nlr = 0.01\nthreshold = 0.6\nbatch = 20\nepochs = 1\nval_every = 2\nval_size = 20\n"
             "[test]\nsize = 32\n[output]\nprogress = off\ntrace_examples = %s\n", dir, ids);
    rc_test_write_file(cfg, text);
    for (int nt = 1; nt <= 2; nt++) {
        int rc = rc_test_rcsim_err(g_dir, err, sizeof err, "run '%s' --out '%s/r%d' --threads %d", cfg, g_dir, nt, nt);
        if (rc) fail_msg("convlstm delta run (%d threads) failed (%d): %s", nt, rc, err);
    }
    char r1[400], r2[400];
    snprintf(r1, sizeof r1, "%s/r1", g_dir);
    snprintf(r2, sizeof r2, "%s/r2", g_dir);
    char *a = rc_test_summary_numbers(r1, NULL), *b = rc_test_summary_numbers(r2, "\"threads\"");
    assert_non_null(a);
    assert_non_null(b);
    char *a2 = rc_test_summary_numbers(r1, "\"threads\"");
    assert_string_equal(a2, b);
    free(a2);
    free(b);
    assert_contains(a, "\"model\": \"convlstm\"");
    assert_contains(a, "\"delta_x\": 0,\n  \"delta_h\": 0.02,");
    const char *test = strstr(a, "\"test\": {");
    assert_non_null(test);
    const double hev = json_num(test, "hidden_events_per_example"), hpu = json_num(test, "hidden_events_per_unit_step");
    const double macs = json_num(test, "macs_per_example"), dense = json_num(test, "macs_dense_recurrent_per_example");
    print_message("convlstm delta run: %g hidden events per example (%g per unit-step), MACs %g of %g\n", hev, hpu,
                  macs, dense);
    assert_true(hev > 0 && hpu > 0 && hpu < 1 && macs < dense);
    free(a);
    /* metrics.csv: the validation hidden-event rate after `best`. */
    snprintf(p, sizeof p, "%s/r1/metrics.csv", g_dir);
    char *m = rc_test_slurp(p, NULL);
    assert_non_null(m);
    assert_contains(m, ",best,val_hidden_events_per_unit_step\n");
    free(m);
    /* traces.h5: every test example traced. */
    snprintf(p, sizeof p, "%s/r1/traces.h5", g_dir);
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    char *dims = rc_test_str_attr(f, "/spikes/hidden_events", "dims");
    assert_string_equal(dims, "channel,y,x");
    free(dims);
    size_t n = 0, nx;
    double *ts = rc_test_read_all(f, "/spikes/hidden_events/timestamps", H5T_NATIVE_DOUBLE, sizeof(double), &n);
    uint64_t *id = rc_test_read_all(f, "/spikes/hidden_events/node_ids", H5T_NATIVE_UINT64, sizeof(uint64_t), &nx);
    uint64_t *ex = rc_test_read_all(f, "/spikes/hidden_events/example_ids", H5T_NATIVE_UINT64, sizeof(uint64_t), &nx);
    float *val = rc_test_read_all(f, "/spikes/hidden_events/values", H5T_NATIVE_FLOAT, sizeof(float), &nx);
    int32_t *tsp = rc_test_read_all(f, "/rc/t_sp", H5T_NATIVE_INT32, sizeof(int32_t), &nx);
    H5Fclose(f);
    assert_int_equal(nx, 32);
    for (size_t i = 0; i < n; i++) {
        const double step = ts[i] - (double)ex[i] * 6;
        assert_true(ex[i] < 32 && id[i] < 2 * 784 && fabsf(val[i]) >= 0.02f);
        assert_true(step >= 1 && step <= tsp[ex[i]] - 1);
    }
    if (fabs(hev * 32 - (double)n) > 1e-6 * (1 + hev * 32))
        fail_msg("traces.h5 has %zu hidden events, summary.json says %g per example × 32", n, hev);
    free(ts), free(id), free(ex), free(val), free(tsp);
    /* eval: 2 delta_h × 1 threshold. */
    int rc = rc_test_rcsim_err(g_dir, err, sizeof err, "eval '%s' --model '%s/r1/model.h5' --thresholds 0.6 --delta-h 0,0.05",
                               cfg, g_dir);
    if (rc) fail_msg("eval failed (%d): %s", rc, err);
    snprintf(p, sizeof p, "%s/r1/eval/tradeoff.csv", g_dir);
    char *t = rc_test_slurp(p, NULL);
    assert_non_null(t);
    char *l1 = strchr(t, '\n') + 1, *l2 = strchr(l1, '\n') + 1;
    double c1[15], c2[15];
    for (int k = 0; k < 15; k++) {
        const char *q1 = l1, *q2 = l2;
        for (int j = 0; j < k; j++) { q1 = strchr(q1, ',') + 1; q2 = strchr(q2, ',') + 1; }
        c1[k] = strtod(q1, NULL);
        c2[k] = strtod(q2, NULL);
    }
    assert_true(c1[11] == 0 && c1[12] == 0 && fabs(c1[9] - c1[14]) < 0.05); /* exact: no events, dense cost */
    assert_true(c2[11] == 0.05 && c2[12] > 0 && c2[9] < c2[14]);
    free(t);
}

int main(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_fd),
        cmocka_unit_test(test_st_hidden_rc),
        cmocka_unit_test(test_st_both_rc),
        cmocka_unit_test(test_st_input_eos),
        cmocka_unit_test(test_st_both_eos),
        cmocka_unit_test(test_st_hidden_eos),
        cmocka_unit_test(test_st_input_rc),
        cmocka_unit_test(test_tiny_threshold_is_exact),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_app_run),
    };
    return cmocka_run_group_tests_name("convdelta", tests, app_setup, app_teardown);
}
