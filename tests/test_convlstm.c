/* test_convlstm.c — the ConvLSTM kernels (models/convlstm.h) against an
 * independent float64 ConvLSTM (dense frames built from the events, direct
 * six-loop convolution):
 *  1. forward activations, c and h over several steps;
 *  2. the event-scatter input convolution against the dense convolution;
 *  3. ∂W_x, ∂W_h, ∂b, ∂h0 and ∂c0 from BPTT with the kernels against central
 *     finite differences of the reference loss L = Σ_t Σ w_t ⊙ h_t;
 *  4. bit-identical results when the channel tiles are split over 1, 2 or 3
 *     simulated threads (run in turn, barrier order honoured, each with its
 *     own NaN-filled, differently aligned scratch). */
#include "tests/testutil.h"
#include <string.h>
#include "models/convlstm.h"
#include "base/rng.h"

void openblas_set_num_threads(int);

/* ---- random numbers: counter-based, one counter per draw ---------------- */
typedef struct { uint64_t seed, ctr; } urng;
static double urand(urng *g) { return rc_uniform(g->seed, 77, 0, g->ctr++); }
static double usym(urng *g) { return 2.0 * urand(g) - 1.0; }

/* ---- events: per example a CSR list over steps, as the engine keeps them --- */
typedef struct {
    int n, T, N;          /* examples, steps, rows N = T·n (row t·n + r)     */
    int32_t **ech;        /* (n) per-example channel arrays                  */
    float **evl;          /* (n) per-example value arrays                    */
    int *beg, *end;       /* (N) event range of each row                     */
    const int32_t **ch;   /* (N) row → its example's channel array           */
    const float **val;    /* (N)                                             */
} evset;

static void evset_make(evset *E, const rc_convlstm_shape *s, int n, int T, int maxev, urng *g)
{
    const int nch = s->Cin * s->Hh * s->Ww;
    E->n = n;
    E->T = T;
    E->N = n * T;
    E->ech = calloc((size_t)n, sizeof *E->ech);
    E->evl = calloc((size_t)n, sizeof *E->evl);
    E->beg = calloc((size_t)E->N, sizeof *E->beg);
    E->end = calloc((size_t)E->N, sizeof *E->end);
    E->ch = calloc((size_t)E->N, sizeof *E->ch);
    E->val = calloc((size_t)E->N, sizeof *E->val);
    for (int r = 0; r < n; r++) {
        E->ech[r] = malloc((size_t)(T * (maxev + 3)) * sizeof(int32_t));
        E->evl[r] = malloc((size_t)(T * (maxev + 3)) * sizeof(float));
        int m = 0;
        for (int t = 0; t < T; t++) {
            const int R = t * n + r;
            E->beg[R] = m;
            int cnt = (int)(urand(g) * (maxev + 1));
            for (int e = 0; e < cnt; e++) {
                E->ech[r][m] = (int32_t)(urand(g) * nch);
                E->evl[r][m++] = (float)usym(g);
            }
            if (r == 0 && t == 0) {
                /* Corners and a repeated channel. */
                E->ech[r][m] = 0;
                E->evl[r][m++] = 0.75f;
                E->ech[r][m] = nch - 1;
                E->evl[r][m++] = -0.5f;
                E->ech[r][m] = 0;
                E->evl[r][m++] = 0.25f;
            }
            E->end[R] = m;
            E->ch[R] = E->ech[r];
            E->val[R] = E->evl[r];
        }
    }
}

static void evset_free(evset *E)
{
    for (int r = 0; r < E->n; r++) {
        free(E->ech[r]);
        free(E->evl[r]);
    }
    free(E->ech); free(E->evl); free(E->beg); free(E->end); free(E->ch); free(E->val);
}

static rc_step_input step_in(const evset *E, int t)
{
    const size_t o = (size_t)t * E->n;
    return (rc_step_input){ .beg = E->beg + o, .end = E->end + o, .ch = E->ch + o, .val = E->val + o };
}

/* Dense frame (Cin, Hh, Ww) of row R's events, in double. */
static void dense_frame(double *x, const evset *E, int R, int nch)
{
    memset(x, 0, (size_t)nch * sizeof *x);
    for (int e = E->beg[R]; e < E->end[R]; e++) x[E->ch[R][e]] += E->val[R][e];
}

/* ---- float64 reference --------------------------------------------------- */
static double sig(double x) { return 1.0 / (1.0 + exp(-x)); }

/* out (Cout, Hh, Ww) += direct convolution of in (Cn, Hh, Ww) with w
 * (Cout, Cn, k, k), same zero padding. */
static void ref_conv(double *out, const double *in, const double *w, int Cout, int Cn,
                     const rc_convlstm_shape *s)
{
    const int Hh = s->Hh, Ww = s->Ww, k = s->k, pad = k / 2;
    for (int o = 0; o < Cout; o++)
        for (int y = 0; y < Hh; y++)
            for (int x = 0; x < Ww; x++) {
                double acc = 0;
                for (int ci = 0; ci < Cn; ci++)
                    for (int kr = 0; kr < k; kr++)
                        for (int kc = 0; kc < k; kc++) {
                            const int yy = y + kr - pad, xx = x + kc - pad;
                            if (yy < 0 || yy >= Hh || xx < 0 || xx >= Ww) continue;
                            acc += w[(((size_t)o * Cn + ci) * k + kr) * k + kc] * in[((size_t)ci * Hh + yy) * Ww + xx];
                        }
                out[((size_t)o * Hh + y) * Ww + x] += acc;
            }
}

/* One step of one example: a (4C, P) activations, c, h (C, P) from hp, cp. */
static void ref_step(double *a, double *c, double *h, const double *x, const double *hp,
                     const double *cp, const double *wx, const double *wh, const double *b,
                     const rc_convlstm_shape *s)
{
    const int C = s->C, P = s->Hh * s->Ww;
    for (int o = 0; o < 4 * C; o++)
        for (int p = 0; p < P; p++) a[(size_t)o * P + p] = b[o];
    ref_conv(a, x, wx, 4 * C, s->Cin, s);
    ref_conv(a, hp, wh, 4 * C, C, s);
    for (int ch = 0; ch < C; ch++)
        for (int p = 0; p < P; p++) {
            double *ai = a + (size_t)ch * P + p, *af = ai + (size_t)C * P, *ag = af + (size_t)C * P,
                   *ao = ag + (size_t)C * P;
            *ai = sig(*ai);
            *af = sig(*af);
            *ag = tanh(*ag);
            *ao = sig(*ao);
            const size_t q = (size_t)ch * P + p;
            c[q] = *af * cp[q] + *ai * *ag;
            h[q] = *ao * tanh(c[q]);
        }
}

/* A problem: shape, parameters, initial state, events and loss weights. */
typedef struct {
    rc_convlstm_shape s;
    int n, T, P, CP, G;   /* G = 4·C·P */
    float *wx, *wh, *b;   /* parameters                                   */
    float *h0, *c0;       /* (n, C, P) initial state                       */
    float *wl;            /* (T, n, C, P) loss weights                     */
    evset E;
} problem;

static void problem_make(problem *pr, rc_convlstm_shape s, int n, int T, uint64_t seed)
{
    memset(pr, 0, sizeof *pr);
    pr->s = s;
    pr->n = n;
    pr->T = T;
    pr->P = s.Hh * s.Ww;
    pr->CP = s.C * pr->P;
    pr->G = 4 * pr->CP;
    pr->wx = malloc(rc_convlstm_nwx(&s) * sizeof(float));
    pr->wh = malloc(rc_convlstm_nwh(&s) * sizeof(float));
    pr->b = malloc(rc_convlstm_nb(&s) * sizeof(float));
    rc_convlstm_init(pr->wx, pr->wh, pr->b, &s, seed, 64);
    /* Larger than the init scale so the gates leave their linear range. */
    for (size_t i = 0; i < rc_convlstm_nwx(&s); i++) pr->wx[i] *= 3.0f;
    for (size_t i = 0; i < rc_convlstm_nwh(&s); i++) pr->wh[i] *= 3.0f;
    for (size_t i = 0; i < rc_convlstm_nb(&s); i++) pr->b[i] *= 3.0f;
    urng g = { seed, 0 };
    const size_t ns = (size_t)n * pr->CP;
    pr->h0 = malloc(ns * sizeof(float));
    pr->c0 = malloc(ns * sizeof(float));
    pr->wl = malloc((size_t)T * ns * sizeof(float));
    for (size_t i = 0; i < ns; i++) {
        pr->h0[i] = (float)(0.8 * usym(&g));
        pr->c0[i] = (float)(1.5 * usym(&g));
    }
    /* Row 0 starts from h = 0, as every row does at t = 0 in the engine: its
     * first step takes the kernels' zero-h shortcut (no conv(h), no ∂W_h). */
    for (int i = 0; i < pr->CP; i++) pr->h0[i] = 0.0f;
    for (size_t i = 0; i < (size_t)T * ns; i++) pr->wl[i] = (float)usym(&g);
    evset_make(&pr->E, &s, n, T, 6, &g);
}

static void problem_free(problem *pr)
{
    free(pr->wx); free(pr->wh); free(pr->b); free(pr->h0); free(pr->c0); free(pr->wl);
    evset_free(&pr->E);
}

/* Double copies of the parameters and state, perturbed by the FD loop. */
typedef struct { double *wx, *wh, *b, *h0, *c0; size_t nx, nh, nb, ns; } dparams;

static double *dcopy(const float *f, size_t m)
{
    double *d = malloc((m ? m : 1) * sizeof *d);
    for (size_t i = 0; i < m; i++) d[i] = f[i];
    return d;
}

static dparams dparams_make(const problem *pr)
{
    dparams d;
    d.nx = rc_convlstm_nwx(&pr->s);
    d.nh = rc_convlstm_nwh(&pr->s);
    d.nb = rc_convlstm_nb(&pr->s);
    d.ns = (size_t)pr->n * pr->CP;
    d.wx = dcopy(pr->wx, d.nx);
    d.wh = dcopy(pr->wh, d.nh);
    d.b = dcopy(pr->b, d.nb);
    d.h0 = dcopy(pr->h0, d.ns);
    d.c0 = dcopy(pr->c0, d.ns);
    return d;
}

static void dparams_free(dparams *d) { free(d->wx); free(d->wh); free(d->b); free(d->h0); free(d->c0); }

/* Runs example r through all steps in double. Returns Σ_t w_t·h_t; if the
 * outputs are given, stores a (T, 4C, P), c and h (T, C, P). */
static double ref_example(const problem *pr, const dparams *d, int r, double *A, double *Cc, double *Hh)
{
    const rc_convlstm_shape *s = &pr->s;
    const int CP = pr->CP, nch = s->Cin * pr->P;
    double *x = malloc((size_t)nch * sizeof *x), *a = malloc((size_t)pr->G * sizeof *a);
    double *hp = malloc((size_t)CP * sizeof *hp), *cp = malloc((size_t)CP * sizeof *cp);
    double *h = malloc((size_t)CP * sizeof *h), *c = malloc((size_t)CP * sizeof *c);
    memcpy(hp, d->h0 + (size_t)r * CP, (size_t)CP * sizeof *hp);
    memcpy(cp, d->c0 + (size_t)r * CP, (size_t)CP * sizeof *cp);
    double L = 0;
    for (int t = 0; t < pr->T; t++) {
        dense_frame(x, &pr->E, t * pr->n + r, nch);
        ref_step(a, c, h, x, hp, cp, d->wx, d->wh, d->b, s);
        const float *w = pr->wl + ((size_t)t * pr->n + r) * CP;
        for (int q = 0; q < CP; q++) L += w[q] * h[q];
        if (A) memcpy(A + (size_t)t * pr->G, a, (size_t)pr->G * sizeof *a);
        if (Cc) memcpy(Cc + (size_t)t * CP, c, (size_t)CP * sizeof *c);
        if (Hh) memcpy(Hh + (size_t)t * CP, h, (size_t)CP * sizeof *h);
        memcpy(hp, h, (size_t)CP * sizeof *h);
        memcpy(cp, c, (size_t)CP * sizeof *c);
    }
    free(x); free(a); free(hp); free(cp); free(h); free(c);
    return L;
}

static double ref_loss(const problem *pr, const dparams *d)
{
    double L = 0;
    for (int r = 0; r < pr->n; r++) L += ref_example(pr, d, r, NULL, NULL, NULL);
    return L;
}

/* ---- the kernels, BPTT, with the tiles split over nparts "threads" ------- */
typedef struct {
    float *act, *c, *h, *hp, *cp; /* (T·n, ·) caches, row t·n + r             */
    float *dgate;                 /* (T·n, 4C, P)                             */
    float *dh0, *dc0;             /* (n, C, P)                                */
    float *dwx, *dwh, *db;
} result;

static float *nanbuf(size_t m)
{
    float *p = malloc((m ? m : 1) * sizeof(float));
    for (size_t i = 0; i < m; i++) p[i] = NAN;
    return p;
}

static void result_free(result *R)
{
    free(R->act); free(R->c); free(R->h); free(R->hp); free(R->cp); free(R->dgate);
    free(R->dh0); free(R->dc0); free(R->dwx); free(R->dwh); free(R->db);
}

/* Same split as rc_partition (sim/pool.c). */
static void part(int m, int ith, int nth, int *lo, int *hi)
{
    const int base = m / nth, rem = m % nth;
    *lo = ith * base + (ith < rem ? ith : rem);
    *hi = *lo + base + (ith < rem ? 1 : 0);
}

static void run_kernels(const problem *pr, int nparts, int backward, result *R)
{
    const rc_convlstm_shape *s = &pr->s;
    const int n = pr->n, T = pr->T, CP = pr->CP, G = pr->G, nt = rc_convlstm_ntiles(s->C);
    const size_t ns = (size_t)n * CP, N = (size_t)T * n;
    const size_t nsc = rc_convlstm_scratch_floats(s);
    float *scr[8], *sbase[8];
    for (int p = 0; p < nparts; p++) {
        sbase[p] = nanbuf(nsc + 8);
        scr[p] = sbase[p] + p; /* a different alignment per "thread" */
    }
    R->act = nanbuf(N * G);
    R->c = nanbuf(N * CP);
    R->h = nanbuf(N * CP);
    R->hp = nanbuf(N * CP);
    R->cp = nanbuf(N * CP);
    memcpy(R->hp, pr->h0, ns * sizeof(float));
    memcpy(R->cp, pr->c0, ns * sizeof(float));
    for (int t = 0; t < T; t++) {
        const rc_step_input in = step_in(&pr->E, t);
        const size_t o = (size_t)t * ns;
        for (int p = 0; p < nparts; p++) {
            int r0, r1;
            part(n, p, nparts, &r0, &r1);
            rc_convlstm_forward(R->act + (size_t)t * n * G, R->c + o, R->h + o, R->hp + o, R->cp + o,
                                &in, pr->wx, pr->wh, pr->b, r0, r1, s, scr[p]);
        }
        /* barrier */
        if (t + 1 < T) {
            memcpy(R->hp + o + ns, R->h + o, ns * sizeof(float));
            memcpy(R->cp + o + ns, R->c + o, ns * sizeof(float));
        }
    }
    R->dgate = R->dh0 = R->dc0 = R->dwx = R->dwh = R->db = NULL;
    if (backward) {
        R->dgate = nanbuf(N * G);
        float *dh = nanbuf(ns), *dcn = nanbuf(ns), *dhp = nanbuf(ns), *dcp = nanbuf(ns);
        R->dwx = calloc(rc_convlstm_nwx(s), sizeof(float));
        R->dwh = calloc(rc_convlstm_nwh(s), sizeof(float));
        R->db = calloc(rc_convlstm_nb(s), sizeof(float));
        for (int t = T - 1; t >= 0; t--) {
            const size_t o = (size_t)t * ns;
            for (size_t i = 0; i < ns; i++) {
                dh[i] = pr->wl[o + i] + (t < T - 1 ? dhp[i] : 0.0f);
                dcn[i] = t < T - 1 ? dcp[i] : 0.0f;
            }
            for (int p = 0; p < nparts; p++) {
                int k0, k1;
                part(nt, p, nparts, &k0, &k1);
                rc_convlstm_backward_gates(R->dgate + (size_t)t * n * G, dcp, dh, dcn,
                                           R->act + (size_t)t * n * G, R->c + o, R->cp + o,
                                           n, s, k0, k1);
            }
            /* barrier */
            for (int p = 0; p < nparts; p++) {
                int r0, r1;
                part(n, p, nparts, &r0, &r1);
                rc_convlstm_backward_dh(dhp, R->dgate + (size_t)t * n * G, pr->wh, r0, r1, s, scr[p]);
            }
        }
        R->dh0 = dhp;
        R->dc0 = dcp;
        free(dh);
        free(dcn);
        const rc_step_input all = step_in(&pr->E, 0);
        for (int p = 0; p < nparts; p++) {
            int k0, k1;
            part(nt, p, nparts, &k0, &k1);
            rc_convlstm_backward_wx(R->dwx, R->db, R->dgate, &all, (int)N, s, k0, k1);
        }
        /* ∂W_h as the engine sums it: fixed chunks of rows, each into its own
         * buffer (chunks dealt to the "threads"), added in chunk order. */
        const size_t CH = RC_CONVLSTM_WH_CHUNK, nch = (N + CH - 1) / CH, nwh = rc_convlstm_nwh(s);
        float *parts = calloc(nch * nwh, sizeof(float));
        for (int p = 0; p < nparts; p++) {
            int c0, c1;
            part((int)nch, p, nparts, &c0, &c1);
            for (int c = c0; c < c1; c++) {
                const size_t ra = (size_t)c * CH, rb = ra + CH < N ? ra + CH : N;
                rc_convlstm_backward_wh_rows(parts + (size_t)c * nwh, R->dgate, R->hp, (int)ra,
                                             (int)rb, s, scr[p]);
            }
        }
        for (size_t c = 0; c < nch; c++)
            for (size_t j = 0; j < nwh; j++) R->dwh[j] += parts[c * nwh + j];
        free(parts);
    }
    for (int p = 0; p < nparts; p++) free(sbase[p]);
}

/* ---- 1. forward against the reference ------------------------------------ */
static void check_forward(rc_convlstm_shape s, int n, int T)
{
    problem pr;
    problem_make(&pr, s, n, T, 11 + (uint64_t)s.k * 7 + (uint64_t)s.C);
    result R;
    run_kernels(&pr, 1, 0, &R);
    dparams d = dparams_make(&pr);
    double *A = malloc((size_t)T * pr.G * sizeof *A), *Cc = malloc((size_t)T * pr.CP * sizeof *Cc),
           *Hh = malloc((size_t)T * pr.CP * sizeof *Hh);
    double worst = 0, hmax = 0;
    for (int r = 0; r < n; r++) {
        ref_example(&pr, &d, r, A, Cc, Hh);
        for (int t = 0; t < T; t++) {
            const size_t row = (size_t)t * n + r;
            for (int q = 0; q < pr.G; q++) {
                const double e = fabs(R.act[row * pr.G + q] - A[(size_t)t * pr.G + q]);
                if (!(e <= 1e-5)) fail_msg("act t=%d r=%d q=%d: %.9g vs %.9g", t, r, q,
                                           R.act[row * pr.G + q], A[(size_t)t * pr.G + q]);
                worst = fmax(worst, e);
            }
            for (int q = 0; q < pr.CP; q++) {
                const double ec = fabs(R.c[row * pr.CP + q] - Cc[(size_t)t * pr.CP + q]);
                const double eh = fabs(R.h[row * pr.CP + q] - Hh[(size_t)t * pr.CP + q]);
                if (!(ec <= 1e-5 && eh <= 1e-5))
                    fail_msg("c/h t=%d r=%d q=%d: c %.9g vs %.9g, h %.9g vs %.9g", t, r, q,
                             R.c[row * pr.CP + q], Cc[(size_t)t * pr.CP + q],
                             R.h[row * pr.CP + q], Hh[(size_t)t * pr.CP + q]);
                worst = fmax(worst, fmax(ec, eh));
                hmax = fmax(hmax, fabs(Hh[(size_t)t * pr.CP + q]));
            }
        }
    }
    assert_true(hmax > 0.3); /* the state is not trivially small */
    print_message("forward C=%d Cin=%d %dx%d k=%d n=%d T=%d: max abs err %.2e (max |h| %.2f)\n",
                  s.C, s.Cin, s.Hh, s.Ww, s.k, n, T, worst, hmax);
    free(A); free(Cc); free(Hh);
    dparams_free(&d);
    result_free(&R);
    problem_free(&pr);
}

static void test_forward(void **state)
{
    (void)state;
    check_forward((rc_convlstm_shape){ .C = 3, .Cin = 2, .Hh = 7, .Ww = 6, .k = 3 }, 3, 4);
    check_forward((rc_convlstm_shape){ .C = 3, .Cin = 2, .Hh = 7, .Ww = 6, .k = 5 }, 3, 4);
    check_forward((rc_convlstm_shape){ .C = 6, .Cin = 1, .Hh = 5, .Ww = 8, .k = 5 }, 2, 3);
    check_forward((rc_convlstm_shape){ .C = 5, .Cin = 3, .Hh = 3, .Ww = 2, .k = 7 }, 2, 3);
}

/* ---- 2. event scatter = dense convolution -------------------------------- */
static void check_scatter(rc_convlstm_shape s, int o0, int o1, uint64_t seed)
{
    urng g = { seed, 0 };
    const int P = s.Hh * s.Ww, nch = s.Cin * P, m = o1 - o0;
    float *wx = malloc(rc_convlstm_nwx(&s) * sizeof(float)), *wh = malloc(rc_convlstm_nwh(&s) * sizeof(float));
    float *b = malloc(rc_convlstm_nb(&s) * sizeof(float));
    rc_convlstm_init(wx, wh, b, &s, seed, 64);
    enum { NEV = 40 };
    int32_t ch[NEV];
    float val[NEV];
    for (int e = 0; e < NEV; e++) {
        ch[e] = (int32_t)(urand(&g) * nch);
        val[e] = (float)usym(&g);
    }
    ch[1] = ch[0]; /* repeated channel */
    ch[2] = 0;
    ch[3] = nch - 1;
    ch[4] = s.Ww - 1; /* top-right corner */
    float *out = malloc((size_t)m * P * sizeof(float));
    double *ref = malloc((size_t)4 * s.C * P * sizeof(double)), *x = calloc((size_t)nch, sizeof(double));
    for (int i = 0; i < m * P; i++) out[i] = (float)usym(&g);
    for (int o = 0; o < 4 * s.C; o++)
        for (int p = 0; p < P; p++) ref[(size_t)o * P + p] = o >= o0 && o < o1 ? out[(size_t)(o - o0) * P + p] : 0;
    for (int e = 0; e < NEV; e++) x[ch[e]] += val[e];
    double *dw = dcopy(wx, rc_convlstm_nwx(&s));
    ref_conv(ref, x, dw, 4 * s.C, s.Cin, &s);
    rc_convlstm_input_conv(out, ch, val, NEV, wx, &s, o0, o1);
    double worst = 0;
    for (int o = o0; o < o1; o++)
        for (int p = 0; p < P; p++) {
            const double a = out[(size_t)(o - o0) * P + p], r = ref[(size_t)o * P + p];
            const double e = fabs(a - r) / fmax(1.0, fabs(r));
            if (!(e <= 1e-6)) fail_msg("row %d pos %d: scatter %.9g, dense %.9g", o, p, a, r);
            worst = fmax(worst, e);
        }
    print_message("scatter C=%d Cin=%d %dx%d k=%d rows [%d,%d): max err %.2e\n",
                  s.C, s.Cin, s.Hh, s.Ww, s.k, o0, o1, worst);
    free(wx); free(wh); free(b); free(out); free(ref); free(x); free(dw);
}

static void test_scatter(void **state)
{
    (void)state;
    check_scatter((rc_convlstm_shape){ .C = 3, .Cin = 2, .Hh = 7, .Ww = 6, .k = 3 }, 0, 12, 1);
    check_scatter((rc_convlstm_shape){ .C = 3, .Cin = 2, .Hh = 7, .Ww = 6, .k = 5 }, 0, 12, 2);
    check_scatter((rc_convlstm_shape){ .C = 5, .Cin = 2, .Hh = 6, .Ww = 9, .k = 5 }, 7, 13, 3);
    check_scatter((rc_convlstm_shape){ .C = 2, .Cin = 1, .Hh = 3, .Ww = 2, .k = 7 }, 0, 8, 4);
    check_scatter((rc_convlstm_shape){ .C = 2, .Cin = 1, .Hh = 28, .Ww = 28, .k = 5 }, 2, 6, 5);
}

/* ---- 3. gradients against finite differences ----------------------------- */
static double fd_check(const char *name, double *x, size_t m, const float *an, const problem *pr,
                       const dparams *d, int example_of_state)
{
    const double h = 1e-5;
    double worst = 0;
    for (size_t i = 0; i < m; i++) {
        const double keep = x[i];
        double lp, lm;
        if (example_of_state) {
            /* A state entry only moves its own example's loss. */
            const int r = (int)(i / (size_t)pr->CP);
            x[i] = keep + h;
            lp = ref_example(pr, d, r, NULL, NULL, NULL);
            x[i] = keep - h;
            lm = ref_example(pr, d, r, NULL, NULL, NULL);
        } else {
            x[i] = keep + h;
            lp = ref_loss(pr, d);
            x[i] = keep - h;
            lm = ref_loss(pr, d);
        }
        x[i] = keep;
        const double fd = (lp - lm) / (2 * h), a = an[i];
        const double e = fabs(fd - a) / fmax(fabs(fd) + fabs(a), 1e-3);
        if (!(e < 1e-3)) fail_msg("%s[%zu]: analytic %.8g, finite difference %.8g (rel err %.2g)", name, i, a, fd, e);
        worst = fmax(worst, e);
    }
    return worst;
}

static void check_grads(rc_convlstm_shape s, int n, int T, int nparts)
{
    problem pr;
    problem_make(&pr, s, n, T, 101 + (uint64_t)s.k + (uint64_t)s.C * 3);
    result R;
    run_kernels(&pr, nparts, 1, &R);
    dparams d = dparams_make(&pr);
    /* The kernels' loss equals the reference loss. */
    double Lk = 0;
    for (size_t i = 0; i < (size_t)T * n * pr.CP; i++) Lk += (double)pr.wl[i] * R.h[i];
    const double Lr = ref_loss(&pr, &d);
    assert_true(rc_relerr(Lk, Lr) < 1e-5);
    double w = 0, gmax = 0;
    w = fmax(w, fd_check("dW_x", d.wx, d.nx, R.dwx, &pr, &d, 0));
    w = fmax(w, fd_check("dW_h", d.wh, d.nh, R.dwh, &pr, &d, 0));
    w = fmax(w, fd_check("db", d.b, d.nb, R.db, &pr, &d, 0));
    w = fmax(w, fd_check("dh0", d.h0, d.ns, R.dh0, &pr, &d, 1));
    w = fmax(w, fd_check("dc0", d.c0, d.ns, R.dc0, &pr, &d, 1));
    for (size_t i = 0; i < d.nh; i++) gmax = fmax(gmax, fabs(R.dwh[i]));
    assert_true(gmax > 1e-2);
    print_message("grads C=%d Cin=%d %dx%d k=%d n=%d T=%d parts=%d: worst rel err %.2e over %zu values\n",
                  s.C, s.Cin, s.Hh, s.Ww, s.k, n, T, nparts, w, d.nx + d.nh + d.nb + 2 * d.ns);
    dparams_free(&d);
    result_free(&R);
    problem_free(&pr);
}

static void test_grads(void **state)
{
    (void)state;
    check_grads((rc_convlstm_shape){ .C = 3, .Cin = 2, .Hh = 7, .Ww = 6, .k = 3 }, 3, 3, 1);
    check_grads((rc_convlstm_shape){ .C = 3, .Cin = 1, .Hh = 6, .Ww = 5, .k = 5 }, 2, 2, 1);
    check_grads((rc_convlstm_shape){ .C = 5, .Cin = 1, .Hh = 6, .Ww = 5, .k = 3 }, 2, 3, 2);
}

/* ---- 4. partition invariance --------------------------------------------- */
static void same(const char *what, const float *a, const float *b, size_t m, int nparts)
{
    if (memcmp(a, b, m * sizeof(float)) != 0) {
        size_t i = 0;
        while (i < m && memcmp(a + i, b + i, sizeof(float)) == 0) i++;
        fail_msg("%s differs with %d parts at %zu: %.9g vs %.9g", what, nparts, i, a[i], b[i]);
    }
}

static void test_partition(void **state)
{
    (void)state;
    const rc_convlstm_shape s = { .C = 10, .Cin = 2, .Hh = 8, .Ww = 7, .k = 5 }; /* tiles 4, 4, 2 */
    const int n = 3, T = 3;
    problem pr;
    problem_make(&pr, s, n, T, 555);
    result R1;
    run_kernels(&pr, 1, 1, &R1);
    const size_t N = (size_t)T * n, ns = (size_t)n * pr.CP;
    for (int np = 2; np <= 3; np++) {
        result R;
        run_kernels(&pr, np, 1, &R);
        same("act", R1.act, R.act, N * pr.G, np);
        same("c", R1.c, R.c, N * pr.CP, np);
        same("h", R1.h, R.h, N * pr.CP, np);
        same("dgate", R1.dgate, R.dgate, N * pr.G, np);
        same("dh0", R1.dh0, R.dh0, ns, np);
        same("dc0", R1.dc0, R.dc0, ns, np);
        same("dW_x", R1.dwx, R.dwx, rc_convlstm_nwx(&s), np);
        same("dW_h", R1.dwh, R.dwh, rc_convlstm_nwh(&s), np);
        same("db", R1.db, R.db, rc_convlstm_nb(&s), np);
        result_free(&R);
    }
    /* Nothing was left unwritten (NaN-filled outputs). */
    for (size_t i = 0; i < N * pr.G; i++) assert_false(isnan(R1.act[i]) || isnan(R1.dgate[i]));
    for (size_t i = 0; i < ns; i++) assert_false(isnan(R1.dh0[i]) || isnan(R1.dc0[i]));
    print_message("partition: 1, 2 and 3 parts bit-identical (C=%d, %d tiles)\n", s.C, rc_convlstm_ntiles(s.C));
    result_free(&R1);
    problem_free(&pr);
}

/* ---- init ----------------------------------------------------------------- */
static void test_init(void **state)
{
    (void)state;
    const rc_convlstm_shape s = { .C = 4, .Cin = 1, .Hh = 5, .Ww = 5, .k = 5 };
    const double bound = 1.0 / sqrt(5.0 * 25.0);
    float wx[400], wh[1600], b[16], wx2[400], wh2[1600], b2[16];
    rc_convlstm_init(wx, wh, b, &s, 9, 64);
    rc_convlstm_init(wx2, wh2, b2, &s, 9, 64);
    assert_memory_equal(wx, wx2, sizeof wx);
    assert_memory_equal(wh, wh2, sizeof wh);
    double mx = 0;
    for (int i = 0; i < 400; i++) mx = fmax(mx, fabs(wx[i]));
    for (int i = 0; i < 1600; i++) mx = fmax(mx, fabs(wh[i]));
    for (int i = 0; i < 16; i++) mx = fmax(mx, fabs(b[i]));
    assert_true(mx <= bound && mx > 0.9 * bound);
    assert_true(wx[0] == (float)((2.0 * rc_uniform(9, RC_STREAM_INIT, 64, 0) - 1.0) * bound));
    assert_true(wh[7] == (float)((2.0 * rc_uniform(9, RC_STREAM_INIT, 65, 7) - 1.0) * bound));
    rc_convlstm_init(wx2, wh2, b2, &s, 10, 64);
    assert_true(memcmp(wh, wh2, sizeof wh) != 0);
}

int main(void)
{
    openblas_set_num_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_scatter),
        cmocka_unit_test(test_forward),
        cmocka_unit_test(test_grads),
        cmocka_unit_test(test_partition),
    };
    return cmocka_run_group_tests_name("convlstm", tests, NULL, NULL);
}
