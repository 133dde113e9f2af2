/* test_delta.c — the delta LSTM (rc_engine_lstm_opts.delta_x, delta_h)
 * against an independent float64 reference of the same rule: the forward
 * (events where |value − last sent| ≥ Θ, gates from what was sent), the
 * events each example sends, the loss, and the straight-through gradient
 * (∂ĥ/∂h = 1; weight gradients from ĥ and x̂). The reference's backward is
 * itself checked against central differences at Θ = 0, where the rule is
 * the plain LSTM. Also: Θ → 0 gives the exact LSTM's gradients through both
 * the sparse-column and the sgemm paths; 1, 2 and 3 threads give the same
 * bits; the MAC and event counters add up by hand. */
#include "tests/testutil.h"
#include "encoders/dataset.h"
#include "models/lstm.h"
#include "models/net.h"
#include "sim/engine.h"
#include "sim/pool.h"
#include "base/rng.h"

void openblas_set_num_threads(int);

#define T_ 6
#define NIN 5
#define HH 20
#define KK 4
#define NEX 8
/* Spread spikes over the steps (checked: RC truncation is exercised). */
#define THETA 0.33

/* ---- data: slowly drifting dense inputs, so input deltas are sparse ----- */
static rc_status drift_get(const rc_dataset *ds, rc_split split, int64_t index, rc_events *ev, rc_example_info *info)
{
    (void)split;
    rc_status st = rc_events_reset(ev, ds->T);
    if (st) return st;
    for (int t = 0; t < ds->T; t++)
        for (int c = 0; c < ds->nin; c++) {
            /* A level per (example, channel) plus a small step-wise wobble;
             * one channel in five is silent at some steps. */
            const double lv = 2.0 * rc_uniform(11, 1, (uint64_t)index, (uint64_t)c) - 1.0;
            const double wob = 0.4 * (rc_uniform(11, 2, (uint64_t)index, (uint64_t)(t * 64 + c)) - 0.5);
            if (rc_uniform(11, 3, (uint64_t)index, (uint64_t)(t * 64 + c)) < 0.8)
                rc_events_push(ev, t, c, (float)(lv + wob));
        }
    rc_events_finish(ev);
    info->label = (int)(rc_rand64(11, 4, (uint64_t)index, 0) % (uint64_t)ds->nclass);
    info->earliest = -1;
    return RC_OK;
}

/* ---- float64 reference -------------------------------------------------- */
static double sig(double x) { return 1.0 / (1.0 + exp(-x)); }

typedef struct {
    double tx, th;         /* Θx, Θh (0: exact on that side)              */
    double margin;         /* smallest | |d| − Θ | over all decisions     */
    int hev, xev;          /* events sent                                 */
    double l1;             /* train.delta_l1: λ/H · Σ|h_t − h_{t−1}| added */
} ref_rule;

/* Loss of one example with its loss at step ts; if g is not NULL, adds
 * scale × the straight-through gradient into g (layout of net->params).
 * Textbook LSTM in logical order, no head (output layer only). */
static double ref_example(const rc_net *net, const double *dp, const rc_events *ev, int label, int ts,
                          double beta, ref_rule *ru, double *g, double scale)
{
    const int H = net->s.H, nin = net->s.nin, G4 = 4 * H, K = net->s.K;
    double xh[T_][NIN], hh[T_][HH], act[T_][4 * HH], cc[T_ + 1][HH], h[HH] = { 0 }, hx[T_ + 1][HH];
    double xs[NIN] = { 0 }, hs[HH] = { 0 };
    memset(cc, 0, sizeof cc);
    for (int t = 0; t <= ts; t++) {
        double x[NIN] = { 0 };
        for (int e = ev->off[t]; e < ev->off[t + 1]; e++) x[ev->ch[e]] += ev->val[e];
        for (int i = 0; i < nin; i++) {
            const double d = x[i] - xs[i];
            if (ru->tx > 0) ru->margin = fmin(ru->margin, fabs(fabs(d) - ru->tx));
            if (ru->tx == 0 || fabs(d) >= ru->tx) { xs[i] = x[i]; ru->xev += ru->tx > 0 && d != 0; }
            xh[t][i] = xs[i];
        }
        for (int j = 0; j < H; j++) {
            const double d = h[j] - hs[j];
            if (ru->th > 0 && t > 0) ru->margin = fmin(ru->margin, fabs(fabs(d) - ru->th));
            if (ru->th == 0 || fabs(d) >= ru->th) { hs[j] = h[j]; ru->hev += ru->th > 0 && t > 0; }
            hh[t][j] = hs[j];
        }
        for (int q = 0; q < 4; q++)
            for (int u = 0; u < H; u++) {
                const int r = rc_lstm_row(H, q, u);
                double s = dp[net->b_ih + r] + dp[net->b_hh + r];
                for (int j = 0; j < H; j++) s += dp[net->w_hh + (size_t)r * H + j] * hh[t][j];
                for (int i = 0; i < nin; i++) s += dp[net->w_ih + (size_t)i * G4 + r] * xh[t][i];
                act[t][q * H + u] = q == 2 ? tanh(s) : sig(s);
            }
        for (int u = 0; u < H; u++) {
            const double *a = act[t];
            cc[t + 1][u] = a[H + u] * cc[t][u] + a[u] * a[2 * H + u];
            h[u] = a[3 * H + u] * tanh(cc[t + 1][u]);
            hx[t][u] = h[u];
        }
    }
    /* The penalty on h's change, h_{−1} = 0; sg[t][u] its sign at step t. */
    double pen = 0, sg[T_ + 1][HH];
    for (int t = 0; t <= ts; t++)
        for (int u = 0; u < H; u++) {
            const double d = hx[t][u] - (t ? hx[t - 1][u] : 0);
            pen += fabs(d);
            sg[t][u] = d > 0 ? 1 : d < 0 ? -1 : 0;
        }
    pen *= ru->l1 / H;
    double z[KK], p[KK], m = -1e300, s = 0, ent = 0;
    for (int k = 0; k < K; k++) {
        z[k] = dp[net->hb[0] + k];
        for (int u = 0; u < H; u++) z[k] += dp[net->hw[0] + (size_t)k * H + u] * h[u];
        m = fmax(m, z[k]);
    }
    for (int k = 0; k < K; k++) s += exp(z[k] - m);
    for (int k = 0; k < K; k++) { p[k] = exp(z[k] - m) / s; ent -= p[k] * log(p[k]); }
    const double loss = -(z[label] - m - log(s)) - beta * ent + pen;
    if (!g) return loss;
    /* Backward: ∂L/∂z = p − y + β p (log p + H). */
    double dh[HH] = { 0 }, dc[HH] = { 0 };
    for (int k = 0; k < K; k++) {
        const double dz = scale * (p[k] - (k == label) + beta * p[k] * (log(p[k]) + ent));
        g[net->hb[0] + k] += dz;
        for (int u = 0; u < H; u++) {
            g[net->hw[0] + (size_t)k * H + u] += dz * h[u];
            dh[u] += dz * dp[net->hw[0] + (size_t)k * H + u];
        }
    }
    for (int t = ts; t >= 0; t--) {
        double dg[4 * HH], dhp[HH] = { 0 };
        for (int u = 0; u < H; u++) dh[u] += scale * ru->l1 / H * (sg[t][u] - (t < ts ? sg[t + 1][u] : 0));
        for (int u = 0; u < H; u++) {
            const double *a = act[t];
            const double i = a[u], f = a[H + u], gg = a[2 * H + u], o = a[3 * H + u], tc = tanh(cc[t + 1][u]);
            const double dct = dc[u] + dh[u] * o * (1 - tc * tc);
            dg[u] = dct * gg * i * (1 - i);
            dg[H + u] = dct * cc[t][u] * f * (1 - f);
            dg[2 * H + u] = dct * i * (1 - gg * gg);
            dg[3 * H + u] = dh[u] * tc * o * (1 - o);
            dc[u] = dct * f;
        }
        for (int q = 0; q < 4; q++)
            for (int u = 0; u < H; u++) {
                const int r = rc_lstm_row(H, q, u);
                const double d = dg[q * H + u];
                g[net->b_ih + r] += d;
                g[net->b_hh + r] += d;
                for (int j = 0; j < H; j++) {
                    g[net->w_hh + (size_t)r * H + j] += d * hh[t][j];
                    dhp[j] += d * dp[net->w_hh + (size_t)r * H + j]; /* straight through ĥ */
                }
                for (int i = 0; i < nin; i++) g[net->w_ih + (size_t)i * G4 + r] += d * xh[t][i];
            }
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
    *fx->ds = (rc_dataset){ .name = "drift", .T = T_, .nin = NIN, .nclass = KK, .get = drift_get };
    rc_net_shape s = { .nin = NIN, .H = HH, .K = KK };
    fx->net = rc_net_new(&s, 77);
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
 * float64 reference of the same rule, example by example. */
static void check_st(double tx, double th, int eos, int nt, double l1)
{
    fixture fx;
    fx_init(&fx, 2.5);
    const double beta = 0.2;
    rc_batch_opts o = { .train = 1, .stop_at_spike = !eos, .loss_at_end = eos, .beta = beta,
                        .lstm = { .threshold = THETA, .delta_x = tx, .delta_h = th, .delta_l1 = l1 } };
    rc_example_result res[NEX];
    float *ge = malloc(fx.net->nparams * sizeof *ge);
    double *gr = calloc(fx.net->nparams, sizeof *gr);
    const double L = run_batch(&fx, nt, &o, res, ge);
    double Lr = 0;
    int early = 0;
    for (int i = 0; i < NEX; i++) {
        ref_rule ru = { tx, th, 1e9, 0, 0, l1 };
        const int ts = eos ? T_ - 1 : res[i].tsp;
        early += ts < T_ - 1;
        Lr += ref_example(fx.net, fx.dp, &fx.ev[i], fx.label[i], ts, beta, &ru, gr, 1.0 / NEX);
        /* Decisions away from the threshold: float32 and float64 agree. */
        assert_true(ru.margin > 1e-4);
        if (th > 0) assert_int_equal(res[i].hevents, ru.hev);
        if (tx > 0) assert_int_equal(res[i].events, ru.xev);
        if (th > 0) assert_int_equal(res[i].hslots, (int64_t)ts * HH);
        /* each example's loss, with the penalty */
        ref_rule r2 = { tx, th, 1e9, 0, 0, l1 };
        assert_true(rc_relerr(res[i].loss, ref_example(fx.net, fx.dp, &fx.ev[i], fx.label[i], ts, beta, &r2, NULL, 0)) < 1e-4);
    }
    Lr /= NEX;
    assert_true(rc_relerr(L, Lr) < 1e-4);
    if (!eos) assert_true(early > 0);
    size_t at = 0;
    const double w = worst_rel(ge, gr, fx.net->nparams, &at);
    char name[32];
    size_t loc;
    rc_net_tensor_at(fx.net, at, name, sizeof name, &loc);
    print_message("delta_x %g delta_h %g delta_l1 %g %s threads %d: worst rel err %.2e (%s[%zu])\n", tx, th, l1,
                  eos ? "eos" : "rc", nt, w, name, loc);
    if (w > 1e-3) fail_msg("%s[%zu]: engine %.8g, reference %.8g", name, loc, ge[at], gr[at]);
    free(ge);
    free(gr);
    fx_free(&fx);
}

static void test_st_hidden_rc(void **st) { (void)st; check_st(0, 0.15, 0, 2, 0); }
static void test_st_both_rc(void **st) { (void)st; check_st(0.1, 0.15, 0, 1, 0); }
static void test_st_input_eos(void **st) { (void)st; check_st(0.1, 0, 1, 2, 0); }
static void test_st_both_eos(void **st) { (void)st; check_st(0.05, 0.3, 1, 3, 0); }
/* train.delta_l1: with the hidden deltas (RC, 3 threads: uneven tiles) and
 * on the exact LSTM (EOS, every step in the penalty). */
static void test_l1_delta_rc(void **st) { (void)st; check_st(0, 0.15, 0, 3, 0.4); }
static void test_l1_exact_eos(void **st) { (void)st; check_st(0, 0, 1, 2, 0.4); }

/* The reference's backward is right: at Θ = 0 (the plain LSTM) it equals
 * central differences of its own loss, and the engine's exact path. */
static void check_reference_fd(double l1)
{
    fixture fx;
    fx_init(&fx, 2.5);
    const double beta = 0.2;
    const size_t np = fx.net->nparams;
    double *gr = calloc(np, sizeof *gr);
    int ts[NEX];
    for (int i = 0; i < NEX; i++) {
        ts[i] = (i * 3) % T_;
        ref_rule ru = { 0, 0, 1e9, 0, 0, l1 };
        ref_example(fx.net, fx.dp, &fx.ev[i], fx.label[i], ts[i], beta, &ru, gr, 1.0 / NEX);
    }
    double worst = 0;
    for (size_t k = 0; k < np; k++) {
        const double keep = fx.dp[k], hstep = 1e-5;
        double lp = 0, lm = 0;
        fx.dp[k] = keep + hstep;
        for (int i = 0; i < NEX; i++) {
            ref_rule ru = { 0, 0, 1e9, 0, 0, l1 };
            lp += ref_example(fx.net, fx.dp, &fx.ev[i], fx.label[i], ts[i], beta, &ru, NULL, 0) / NEX;
        }
        fx.dp[k] = keep - hstep;
        for (int i = 0; i < NEX; i++) {
            ref_rule ru = { 0, 0, 1e9, 0, 0, l1 };
            lm += ref_example(fx.net, fx.dp, &fx.ev[i], fx.label[i], ts[i], beta, &ru, NULL, 0) / NEX;
        }
        fx.dp[k] = keep;
        const double fd = (lp - lm) / (2 * hstep);
        const double e = fabs(fd - gr[k]) / fmax(fabs(fd) + fabs(gr[k]), 1e-3);
        worst = fmax(worst, e);
        if (e > 1e-6) fail_msg("param %zu: reference %.10g, finite difference %.10g", k, gr[k], fd);
    }
    print_message("reference backward vs central differences (delta_l1 %g): worst rel err %.2e\n", l1, worst);
    free(gr);
    fx_free(&fx);
}

static void test_reference_fd(void **st)
{
    (void)st;
    check_reference_fd(0);
    check_reference_fd(0.4);
}

/* Θ → 0 (1e-30: every change is an event) is the plain LSTM up to rounding:
 * through the sgemm path (all units send) and, with the input side only,
 * through the input-delta path. Θ = 0 is the plain path itself. */
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
            /* Every unit-step after step 0 sent an event: the sgemm path ran. */
            if (th[c][1] > 0) assert_int_equal(r1[i].hevents, (int64_t)r1[i].tsp * HH);
            assert_true(r0[i].macs == r0[i].macs_dense);
            if (th[c][0] == 0) assert_true(r1[i].macs_dense == r0[i].macs_dense);
        }
    }
    free(g0); free(g1); free(g0d);
    fx_free(&fx);
}

/* Bit-identical gradients, results and counters for 1, 2 and 3 threads (H =
 * 20: two tiles, uneven splits), sparse hidden path. */
static void test_threads(void **st)
{
    (void)st;
    fixture fx;
    fx_init(&fx, 2.5);
    const size_t np = fx.net->nparams;
    rc_batch_opts o = { .train = 1, .stop_at_spike = 1, .beta = 0.1,
                        .lstm = { .threshold = THETA, .delta_x = 0.1, .delta_h = 0.3, .delta_l1 = 0.3 } };
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
            assert_true(r[nt - 1][i].loss == r[0][i].loss && r[nt - 1][i].macs == r[0][i].macs);
        }
    }
    for (int k = 0; k < 3; k++) free(g[k]);
    fx_free(&fx);
}

/* The counters by hand: on the sparse path each step costs the output layer,
 * 4H per input delta event and 4H per hidden event; the dense-recurrent
 * count adds 4H·H per step after step 0 instead. Traces get the events. */
static void test_counters(void **st)
{
    (void)st;
    fixture fx;
    fx_init(&fx, 2.5);
    const double th = 0.3;
    float *rec = calloc((size_t)NEX * T_ * HH, sizeof *rec);
    rc_batch_opts o = { .train = 0, .stop_at_spike = 1,
                        .lstm = { .threshold = THETA, .delta_x = 0.1, .delta_h = th, .rec_dh = rec } };
    rc_example_result res[NEX];
    float *g = malloc(fx.net->nparams * sizeof *g);
    run_batch(&fx, 2, &o, res, g);
    const double head = (double)HH * KK, G4 = 4.0 * HH;
    int64_t total = 0, slots = 0;
    for (int i = 0; i < NEX; i++) {
        const double steps = res[i].tsp + 1;
        int64_t nev = 0;
        for (int t = 0; t <= res[i].tsp; t++)
            for (int u = 0; u < HH; u++) {
                const float d = rec[((size_t)i * T_ + t) * HH + u];
                if (d != 0.0f) { nev++; assert_true(fabsf(d) >= (float)th && t > 0); }
            }
        assert_int_equal(nev, res[i].hevents);
        assert_true(res[i].macs == steps * head + G4 * (double)(res[i].events + res[i].hevents));
        assert_true(res[i].macs_dense == steps * head + G4 * (double)res[i].events + (steps - 1) * G4 * HH);
        total += nev;
        slots += res[i].hslots;
    }
    /* The sparse path ran (the sgemm would count H per row). */
    assert_true(total > 0 && 4 * total < slots);
    free(rec);
    free(g);
    fx_free(&fx);
}

/* The engine's own checks (the app refuses these first, so only here): a
 * negative or NaN threshold is a usage error that names what was expected;
 * nothing runs. (A ConvLSTM takes deltas too: tests/test_convdelta.c.) */
static void test_engine_refuses(void **st)
{
    (void)st;
    fixture fx;
    fx_init(&fx, 1.0);
    rc_err err;
    rc_pool *pool = rc_pool_new(1, RC_PLACE_SPREAD, &err);
    rc_engine *eng = rc_engine_new(fx.net, fx.ds, pool, NEX, &err);
    assert_non_null(eng);
    int64_t idx[NEX];
    for (int i = 0; i < NEX; i++) idx[i] = i;
    rc_example_result res[NEX];
    const double bad[3][2] = { { 0, -0.1 }, { -1, 0 }, { NAN, 0.1 } };
    for (int c = 0; c < 3; c++) {
        rc_batch_opts o = { .stop_at_spike = 1, .lstm = { .threshold = THETA, .delta_x = bad[c][0], .delta_h = bad[c][1] } };
        assert_int_equal(rc_engine_batch(eng, RC_SPLIT_TRAIN, idx, NEX, &o, res, NULL, &err), RC_ERR_USAGE);
        assert_non_null(strstr(err.msg, "expected finite numbers >= 0"));
    }
    /* train.delta_l1 below 0 or not finite (task_keys.c refuses it first in
     * a config; the engine checks its own options). */
    const double bad_l1[2] = { -0.1, INFINITY };
    for (int c = 0; c < 2; c++) {
        rc_batch_opts o = { .train = 1, .stop_at_spike = 1, .lstm = { .threshold = THETA, .delta_l1 = bad_l1[c] } };
        assert_int_equal(rc_engine_batch(eng, RC_SPLIT_TRAIN, idx, NEX, &o, res, NULL, &err), RC_ERR_USAGE);
        assert_non_null(strstr(err.msg, "delta_l1"));
        assert_non_null(strstr(err.msg, "expected a finite number >= 0"));
    }
    rc_engine_free(eng);
    rc_pool_free(pool);
    fx_free(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_fd),
        cmocka_unit_test(test_st_hidden_rc),
        cmocka_unit_test(test_l1_delta_rc),
        cmocka_unit_test(test_l1_exact_eos),
        cmocka_unit_test(test_st_both_rc),
        cmocka_unit_test(test_st_input_eos),
        cmocka_unit_test(test_st_both_eos),
        cmocka_unit_test(test_tiny_threshold_is_exact),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_engine_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
