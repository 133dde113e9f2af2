/* test_network.c — the point-neuron network simulator (sim/network.h,
 * models/neuron.h): neuron dynamics against closed forms and a fine-step
 * reference, exact delays across slice boundaries, connectivity rules,
 * Poisson statistics, identical results for 1, 2 and 3 threads, and the
 * SONATA output of `rcsim run` read back (C reader and h5py). */
#include "tests/testutil.h"

#include <hdf5.h>

#include "encoders/images.h"
#include "io/h5guard.h"
#include "io/spikefile.h"
#include "sim/network_impl.h"

static rc_pool *g_pool[4];

static int setup(void **state)
{
    (void)state;
    rc_err err;
    for (int t = 1; t <= 3; t++)
        if (!(g_pool[t] = rc_pool_new(t, RC_PLACE_SPREAD, &err))) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int t = 1; t <= 3; t++) rc_pool_free(g_pool[t]);
    return 0;
}

/* A spec with one population of n neurons of `model` (NEST defaults). */
static int add_pop(rc_net_spec *s, const char *name, int n, rc_nrn_model model)
{
    rc_net_pop *p = &s->pop[s->npop];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->n = n;
    rc_nrn_params_default(model, &p->p);
    return s->npop++;
}

static void add_vm(rc_net_spec *s, int pop, int nnodes)
{
    rc_net_vm_rec *v = &s->vm[s->nvm++];
    v->pop = pop;
    v->every = 1;
    v->nnodes = nnodes;
    for (int i = 0; i < nnodes; i++) v->nodes[i] = i;
}

static rc_net_proj *add_proj(rc_net_spec *s, int src, int tgt, rc_net_rule rule, double w, double d_ms)
{
    rc_net_proj *j = &s->proj[s->nproj++];
    snprintf(j->name, sizeof j->name, "p%d", s->nproj);
    j->src = src;
    j->tgt = tgt;
    j->rule = rule;
    j->autapses = j->multapses = 1;
    j->weight.a = w;
    j->delay.a = d_ms;
    return j;
}

static rc_network *build(const rc_net_spec *s, int nth)
{
    rc_network *net = NULL;
    rc_err err;
    rc_status st = rc_network_new(&net, s, g_pool[nth], &err);
    if (st) print_error("%s\n", err.msg);
    assert_int_equal(st, RC_OK);
    return net;
}

static void run(rc_network *net, int64_t steps)
{
    rc_err err;
    rc_status st = rc_network_run(net, steps, NULL, NULL, &err);
    if (st) print_error("%s\n", err.msg);
    assert_int_equal(st, RC_OK);
}

/* ---- single neurons ----------------------------------------------------- */

/* iaf_psc_delta under I_e: V(t) = E_L + (τ/C)·I_e·(1 − e^(−t/τ)) up to the
 * first spike, which comes in the first step where that reaches V_th; then
 * V_reset for t_ref. */
static void test_constant_current(void **state)
{
    (void)state;
    rc_net_spec s = { .dt_ms = 0.1, .seed = 1 };
    const int p = add_pop(&s, "A", 1, RC_IAF_PSC_DELTA);
    s.pop[p].p.I_e = 400.0; /* R·I = 10/250·400 = 16 mV > 15 mV to threshold */
    add_vm(&s, p, 1);
    rc_network *net = build(&s, 1);
    run(net, 400);
    int64_t rows;
    const float *v = rc_network_vm(net, 0, &rows);
    assert_int_equal(rows, 400);
    const double tau = 10, R = tau / 250.0, EL = -70;
    int spike = -1;
    for (int k = 0; k < 400 && spike < 0; k++) {
        const double ref = EL + R * 400.0 * (1 - exp(-(k + 1) * 0.1 / tau));
        if (ref >= -55.0) {
            spike = k;
            break;
        }
        if (fabs(v[k] - ref) > 2e-4) print_error("step %d: V %.6f, closed form %.6f\n", k, v[k], ref);
        assert_true(fabs(v[k] - ref) <= 2e-4);
    }
    assert_true(spike > 0);
    assert_float_equal(v[spike], -70.0, 1e-6);          /* reset in the spike step */
    for (int k = spike; k <= spike + 20; k++) assert_float_equal(v[k], -70.0, 1e-6); /* 20 refractory steps */
    assert_true(v[spike + 21] > -70.0f + 1e-3f);
    int32_t *st;
    uint64_t *ids;
    size_t n;
    rc_err err;
    s.nspk = 0;
    assert_int_equal(rc_network_spikes(net, 0, &st, &ids, &n, &err), RC_OK); /* not recorded: none */
    assert_int_equal(n, 0);
    rc_net_popstat ps;
    rc_network_popstat(net, 0, &ps);
    assert_int_equal(ps.spikes, 1); /* the next one would come 27.7 ms after t_ref */
    rc_network_free(net);
}

/* A spike source driving population pop's neuron 0 with one spike at t_ms. */
static void add_spike_src(rc_net_spec *s, int pop, const double *t_ms, const uint64_t *ids, size_t n, double w)
{
    rc_net_source *src = &s->src[s->nsrc++];
    snprintf(src->name, sizeof src->name, "in%d", s->nsrc);
    src->kind = RC_SRC_SPIKES;
    src->tgt = pop;
    src->count = 1;
    src->weight = w;
    src->delay_ms = 0.1;
    src->times_ms = t_ms;
    src->node_ids = ids;
    src->n_events = n;
}

/* iaf_psc_exp: one input spike of w pA gives V − E_L = w·τm·τs/(C(τm − τs))·
 * (e^(−t/τm) − e^(−t/τs)) (τs = τm: w·t/C·e^(−t/τ)), t from the end of the
 * arrival step. */
static void psp_case(double tau_s)
{
    static const double t1[] = { 1.0 };
    static const uint64_t id0[] = { 0 };
    rc_net_spec s = { .dt_ms = 0.1, .seed = 1 };
    const int p = add_pop(&s, "A", 1, RC_IAF_PSC_EXP);
    s.pop[p].p.tau_syn_ex = tau_s;
    add_vm(&s, p, 1);
    add_spike_src(&s, p, t1, id0, 1, 100.0);
    rc_network *net = build(&s, 1);
    run(net, 600);
    int64_t rows;
    const float *v = rc_network_vm(net, 0, &rows);
    const double C = 250, tm = 10, w = 100;
    const int arrive = 10; /* emitted in step 9 (ending at 1.0 ms), delay 1 step */
    for (int k = 0; k <= arrive; k++) assert_float_equal(v[k], -70.0, 1e-6);
    double peak = 0;
    for (int k = arrive + 1; k < 600; k++) {
        const double t = (k - arrive) * 0.1;
        const double ref = tau_s == tm ? w * t / C * exp(-t / tm)
                                       : w * tm * tau_s / (C * (tm - tau_s)) * (exp(-t / tm) - exp(-t / tau_s));
        peak = ref > peak ? ref : peak;
        if (fabs(v[k] + 70.0 - ref) > 1e-4 + 1e-4 * fabs(ref))
            print_error("tau_s %g step %d: V-E_L %.6f, analytic %.6f\n", tau_s, k, v[k] + 70.0, ref);
        assert_true(fabs(v[k] + 70.0 - ref) <= 1e-4 + 1e-4 * fabs(ref));
    }
    assert_true(peak > 0.1);
    rc_network_free(net);
}

static void test_psc_exp_psp(void **state)
{
    (void)state;
    psp_case(2.0);
    psp_case(10.0); /* τs = τm: the singular propagator */
}

/* iaf_cond_exp: C dV/dt = −g_L(V−E_L) − g_e(V−E_e) − g_i(V−E_i) + I_e with
 * exponentially decaying g, by RK4 at h/1000 in double. */
static double cond_rhs(const rc_nrn_params *p, double V, double ge, double gi)
{
    return (-p->g_L * (V - p->E_L) - ge * (V - p->E_ex) - gi * (V - p->E_in) + p->I_e) / p->C_m;
}

static void test_cond_exp_reference(void **state)
{
    (void)state;
    static const double t_in[] = { 1.0, 3.0, 3.5, 8.0, 12.0 };
    static const uint64_t id0[] = { 0, 0, 0, 0, 0 };
    rc_net_spec s = { .dt_ms = 0.1, .seed = 1 };
    const int p = add_pop(&s, "A", 1, RC_IAF_COND_EXP);
    rc_nrn_params *q = &s.pop[p].p;
    q->tau_syn_ex = 5;
    q->tau_syn_in = 10;
    q->V_th = 0; /* subthreshold throughout */
    q->I_e = 100;
    add_vm(&s, p, 1);
    add_spike_src(&s, p, t_in, id0, 3, 10.0);      /* excitatory, nS */
    add_spike_src(&s, p, t_in + 3, id0 + 3, 2, -20.0); /* inhibitory */
    rc_network *net = build(&s, 1);
    const int steps = 300;
    run(net, steps);
    int64_t rows;
    const float *v = rc_network_vm(net, 0, &rows);
    /* Reference: conductances jump at the end of the arrival step (round(t/h)). */
    const int sub = 1000;
    const double h = 0.1 / sub;
    double V = q->E_L, ge = 0, gi = 0, maxerr = 0;
    for (int k = 0; k < steps; k++) {
        for (int j = 0; j < sub; j++) {
            const double de = exp(-h / 2 / q->tau_syn_ex), di = exp(-h / 2 / q->tau_syn_in);
            const double k1 = cond_rhs(q, V, ge, gi);
            const double k2 = cond_rhs(q, V + h / 2 * k1, ge * de, gi * di);
            const double k3 = cond_rhs(q, V + h / 2 * k2, ge * de, gi * di);
            const double k4 = cond_rhs(q, V + h * k3, ge * de * de, gi * di * di);
            V += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
            ge *= de * de;
            gi *= di * di;
        }
        for (int e = 0; e < 5; e++)
            if (lround(t_in[e] / 0.1) == k) {
                if (e < 3) ge += 10.0;
                else gi += 20.0;
            }
        const double d = fabs(v[k] - V);
        maxerr = d > maxerr ? d : maxerr;
    }
    print_message("cond_exp: max |V - RK4 reference| = %.2e mV\n", maxerr);
    assert_true(maxerr < 2e-3);
    double moved = 0;
    for (int k = 0; k < steps; k++) moved = fmax(moved, fabs(v[k] - q->E_L));
    assert_true(moved > 1.0); /* the input did move V */
    rc_network_free(net);
}

/* ---- delays ------------------------------------------------------------- */

/* A spikes at chosen steps (driven by a spike source of weight > θ); B_d
 * receives it with delay d = 2..7 steps (d_min = 2, so slices are 2 steps
 * long and the spike steps fall on both phases); B_d's V (no leak, delta
 * synapses) counts the arrivals and must step up exactly at s + d. */
static void test_delays(void **state)
{
    (void)state;
    static const double t_a[] = { 1.0, 2.5, 4.1, 4.2 }; /* A spikes in steps 10, 25, 41, 42 */
    static const uint64_t ida[] = { 0, 0, 0, 0 };
    const int a_steps[] = { 10, 25, 41, 42 };
    for (int nth = 1; nth <= 3; nth += 2) {
        rc_net_spec s = { .dt_ms = 0.1, .seed = 3 };
        const int A = add_pop(&s, "A", 1, RC_IAF_PSC_DELTA);
        s.pop[A].p.t_ref = 0;
        int B[6];
        for (int d = 2; d <= 7; d++) {
            char nm[16];
            snprintf(nm, sizeof nm, "B%d", d);
            B[d - 2] = add_pop(&s, nm, 1, RC_IAF_PSC_DELTA);
            s.pop[B[d - 2]].p.tau_m = 1e12;
            s.pop[B[d - 2]].p.V_th = 1e6;
            add_proj(&s, A, B[d - 2], RC_RULE_ALL_TO_ALL, 1.0, d * 0.1);
            add_vm(&s, B[d - 2], 1);
        }
        add_spike_src(&s, A, t_a, ida, 4, 100.0); /* source delay 1 step: arrival = emission step */
        s.nspk = 1;
        s.spk[0].pop = A;
        rc_network *net = build(&s, nth);
        assert_int_equal(rc_network_dmin(net), 2);
        assert_int_equal(rc_network_dmax(net), 7);
        run(net, 33); /* two runs: an odd split must not matter */
        run(net, 67);
        int32_t *st;
        uint64_t *ids;
        size_t n;
        rc_err err;
        assert_int_equal(rc_network_spikes(net, A, &st, &ids, &n, &err), RC_OK);
        assert_int_equal(n, 4);
        for (int i = 0; i < 4; i++) assert_int_equal(st[i], a_steps[i]);
        free(st);
        free(ids);
        for (int d = 2; d <= 7; d++) {
            int64_t rows;
            const float *v = rc_network_vm(net, d - 2, &rows);
            assert_int_equal(rows, 100);
            for (int k = 0; k < 100; k++) {
                int want = 0;
                for (int i = 0; i < 4; i++) want += a_steps[i] + d <= k;
                if (fabsf(v[k] - (-70.0f + (float)want)) > 1e-4f)
                    print_error("threads %d delay %d step %d: V %.4f, expected %d arrivals\n", nth, d, k, v[k], want);
                assert_true(fabsf(v[k] - (-70.0f + (float)want)) <= 1e-4f);
            }
        }
        rc_network_free(net);
    }
}

/* ---- connectivity ------------------------------------------------------- */

/* Per target (population index) counts of synapses of projection j and of
 * autapses / repeated sources, gathered from every thread's CSR. */
static void census(const rc_network *net, int j, int nt, int *count, int *self, int *dup)
{
    const rc_net_proj *p = &net->spec.proj[j];
    const int ns = net->spec.pop[p->src].n;
    memset(count, 0, (size_t)nt * sizeof *count);
    *self = *dup = 0;
    uint8_t *seen = calloc((size_t)ns * (size_t)nt, 1);
    assert_non_null(seen);
    for (int u = 0; u < net->nth; u++) {
        const rc_nproj *q = &net->thr[u].proj[j];
        for (int si = 0; si < ns; si++)
            for (uint64_t x = q->row[si]; x < q->row[si + 1]; x++) {
                const int ti = (int)(q->tgt[x] * (uint32_t)net->nth + (uint32_t)u - net->off[p->tgt]);
                assert_true(ti >= 0 && ti < nt);
                count[ti]++;
                *self += p->src == p->tgt && si == ti;
                *dup += seen[(size_t)si * (size_t)nt + (size_t)ti]++ > 0;
            }
    }
    free(seen);
}

static void test_rules(void **state)
{
    (void)state;
    enum { N = 200 };
    int count[N], self, dup;
    for (int nth = 1; nth <= 2; nth++) {
        rc_net_spec s = { .dt_ms = 0.1, .seed = 5 };
        const int P = add_pop(&s, "P", N, RC_IAF_PSC_DELTA), Q = add_pop(&s, "Q", N, RC_IAF_PSC_DELTA);
        rc_net_proj *j0 = add_proj(&s, P, P, RC_RULE_FIXED_INDEGREE, 1, 1); /* no autapses, no multapses */
        j0->degree = 150;
        j0->autapses = j0->multapses = 0;
        add_proj(&s, P, P, RC_RULE_FIXED_INDEGREE, 1, 1)->degree = 150; /* both allowed */
        add_proj(&s, P, Q, RC_RULE_BERNOULLI, 1, 1)->p = 0.1;
        add_proj(&s, P, Q, RC_RULE_ONE_TO_ONE, 1, 1);
        rc_net_proj *j4 = add_proj(&s, P, P, RC_RULE_ALL_TO_ALL, 1, 1);
        j4->autapses = 0;
        rc_net_proj *j5 = add_proj(&s, P, Q, RC_RULE_FIXED_OUTDEGREE, 1, 1);
        j5->degree = 30;
        j5->multapses = 0;
        rc_network *net = build(&s, nth);
        census(net, 0, N, count, &self, &dup);
        for (int i = 0; i < N; i++) assert_int_equal(count[i], 150);
        assert_int_equal(self, 0);
        assert_int_equal(dup, 0);
        census(net, 1, N, count, &self, &dup);
        for (int i = 0; i < N; i++) assert_int_equal(count[i], 150);
        assert_true(self > 0 && dup > 0); /* 150 of 200 with replacement: both happen */
        census(net, 2, N, count, &self, &dup);
        long tot = 0;
        for (int i = 0; i < N; i++) tot += count[i];
        const double mean = N * N * 0.1, sd = sqrt(N * N * 0.1 * 0.9);
        print_message("bernoulli: %ld synapses, expected %.0f +- %.0f\n", tot, mean, sd);
        assert_true(fabs((double)tot - mean) < 5 * sd);
        assert_int_equal(dup, 0);
        const long tb = tot;
        census(net, 3, N, count, &self, &dup);
        for (int i = 0; i < N; i++) assert_int_equal(count[i], 1);
        census(net, 4, N, count, &self, &dup);
        for (int i = 0; i < N; i++) assert_int_equal(count[i], N - 1);
        assert_int_equal(self, 0);
        census(net, 5, N, count, &self, &dup);
        tot = 0;
        for (int i = 0; i < N; i++) tot += count[i];
        assert_int_equal(tot, 30 * N);
        assert_int_equal(dup, 0);
        rc_net_info in;
        rc_network_info(net, &in);
        assert_int_equal(in.synapses, (uint64_t)(2 * 150 * N + tb + N + N * (N - 1) + tot));
        rc_network_free(net);
    }
}

/* ---- Poisson ------------------------------------------------------------ */

/* 1000 neurons that neither leak nor fire count their Poisson input: over
 * n active steps each count is Poisson(λn), independent across neurons. */
static void test_poisson(void **state)
{
    (void)state;
    enum { N = 1000, STEPS = 2002 };
    rc_net_spec s = { .dt_ms = 0.1, .seed = 9 };
    const int P = add_pop(&s, "P", N, RC_IAF_PSC_DELTA);
    s.pop[P].p.tau_m = 1e12;
    s.pop[P].p.V_th = 1e9;
    s.pop[P].p.E_L = 0;
    s.pop[P].p.V_reset = 0;
    s.pop[P].p.V_init_lo = s.pop[P].p.V_init_hi = 0;
    rc_net_source *src = &s.src[s.nsrc++];
    snprintf(src->name, sizeof src->name, "noise");
    src->kind = RC_SRC_POISSON;
    src->tgt = P;
    src->rate_hz = 5000; /* λ = 0.5 per step */
    src->weight = 1;
    src->delay_ms = 0.1;
    rc_network *net = build(&s, 2);
    run(net, STEPS);
    double sum = 0, sq = 0;
    for (int u = 0; u < 2; u++)
        for (int i = 0; i < net->thr[u].nloc; i++) {
            const double c = net->thr[u].V[i];
            sum += c;
            sq += c * c;
        }
    const double lam = 0.5 * (STEPS - 2); /* emitted from step 1, arriving from step 2 */
    const double mean = sum / N, var = sq / N - mean * mean, fano = var / mean;
    print_message("poisson: mean %.2f (expected %.0f), Fano %.3f\n", mean, lam, fano);
    assert_true(fabs(mean - lam) < 5 * sqrt(lam / N));
    assert_true(fabs(fano - 1) < 5 * sqrt(2.0 / (N - 1)));
    rc_network_free(net);
    /* The sampler alone, at λ = 2 (Brunel's): mean and Fano over 10^6 draws. */
    rc_npois tab;
    rc_err err;
    assert_int_equal(rc_npois_init(&tab, 2.0, "t", &err), RC_OK);
    double m = 0, m2 = 0;
    const int n = 1000000;
    for (int i = 0; i < n; i++) {
        const int c = rc_npois_draw(&tab, rc_net_word(12345, (uint64_t)i));
        m += c;
        m2 += (double)c * c;
    }
    m /= n;
    const double v = m2 / n - m * m;
    assert_true(fabs(m - 2) < 5 * sqrt(2.0 / n));
    assert_true(fabs(v / m - 1) < 0.01);
    free(tab.thr);
}

/* ---- thread-count invariance -------------------------------------------- */

/* A small recurrent E/I network (psc_exp E, cond_exp I, random weights and
 * delays, Poisson drive): spikes and V traces identical for 1, 2, 3 threads. */
static void small_net(rc_net_spec *s)
{
    memset(s, 0, sizeof *s);
    s->dt_ms = 0.1;
    s->seed = 42;
    const int E = add_pop(s, "E", 400, RC_IAF_PSC_EXP), I = add_pop(s, "I", 101, RC_IAF_COND_EXP);
    s->pop[E].p.V_init_lo = -70;
    s->pop[E].p.V_init_hi = -56;
    rc_net_proj *j = add_proj(s, E, E, RC_RULE_FIXED_INDEGREE, 60, 1.5);
    j->degree = 40;
    j->weight.kind = RC_DIST_NORMAL;
    j->weight.b = 20;
    j->weight.lo = 0;
    j->weight.hi = 200;
    j = add_proj(s, E, I, RC_RULE_BERNOULLI, 3, 0.5);
    j->p = 0.1;
    j->delay.kind = RC_DIST_UNIFORM;
    j->delay.a = 0.3;
    j->delay.b = 2.0;
    add_proj(s, I, E, RC_RULE_FIXED_INDEGREE, -150, 0.8)->degree = 10;
    add_proj(s, I, I, RC_RULE_BERNOULLI, -5, 0.8)->p = 0.2;
    for (int p = 0; p < 2; p++) {
        rc_net_source *src = &s->src[s->nsrc++];
        snprintf(src->name, sizeof src->name, "noise%d", p);
        src->kind = RC_SRC_POISSON;
        src->tgt = p;
        src->rate_hz = p ? 3000 : 8000;
        src->weight = p ? 2 : 90;
        src->delay_ms = 0.1;
    }
    for (int p = 0; p < 2; p++) {
        s->spk[s->nspk++].pop = p;
        add_vm(s, p, 3);
    }
}

static void test_threads_identical(void **state)
{
    (void)state;
    rc_net_spec s;
    small_net(&s);
    int32_t *st[4][2];
    uint64_t *ids[4][2];
    size_t n[4][2];
    float *vm[4][2];
    rc_err err;
    for (int nth = 1; nth <= 3; nth++) {
        rc_network *net = build(&s, nth);
        run(net, 1000);
        for (int p = 0; p < 2; p++) {
            assert_int_equal(rc_network_spikes(net, p, &st[nth][p], &ids[nth][p], &n[nth][p], &err), RC_OK);
            int64_t rows;
            const float *v = rc_network_vm(net, p, &rows);
            vm[nth][p] = malloc((size_t)rows * 3 * sizeof(float));
            memcpy(vm[nth][p], v, (size_t)rows * 3 * sizeof(float));
        }
        rc_net_popstat ps;
        rc_network_popstat(net, 0, &ps);
        if (nth == 1) print_message("small net: E %.1f Hz, %zu E / %zu I spikes\n", ps.rate_hz, n[1][0], n[1][1]);
        rc_network_free(net);
    }
    assert_true(n[1][0] > 100 && n[1][1] > 100); /* the network is active */
    for (int nth = 2; nth <= 3; nth++)
        for (int p = 0; p < 2; p++) {
            assert_int_equal(n[nth][p], n[1][p]);
            assert_memory_equal(st[nth][p], st[1][p], n[1][p] * sizeof(int32_t));
            assert_memory_equal(ids[nth][p], ids[1][p], n[1][p] * sizeof(uint64_t));
            assert_memory_equal(vm[nth][p], vm[1][p], 1000 * 3 * sizeof(float));
        }
    for (int nth = 1; nth <= 3; nth++)
        for (int p = 0; p < 2; p++) free(st[nth][p]), free(ids[nth][p]), free(vm[nth][p]);
}

/* ---- rcsim run: SONATA output ------------------------------------------- */

static const char *small_cfg =
    "[task]\nname = network\n[sim]\ndt_ms = 0.1\ntime_ms = 100\nthreads = 2\n"
    "[population.E]\nsize = 300\nmodel = iaf_psc_delta\nC_m = 1\ntau_m = 20\nE_L = 0\nV_th = 20\nV_reset = 0\n"
    "V_m_min = 0\nV_m_max = 20\n"
    "[projection.EE]\nsource = E\ntarget = E\nrule = fixed_indegree\nindegree = 30\nweight = 0.2\ndelay_ms = 1\n"
    "[source.noise]\ntarget = E\nrate_hz = 12000\nweight = 0.2\n"
    "[record.s]\npopulation = E\nwhat = spikes\n"
    "[record.v]\npopulation = E\nwhat = V_m\nneurons = 3,7\nevery = 5\n";

static void test_run_outputs(void **state)
{
    (void)state;
    char dir[256], path[512], cmd[2048];
    assert_int_equal(rc_test_mkdtemp(dir, sizeof dir, "/tmp/rcsim_net_"), 0);
    snprintf(path, sizeof path, "%s/net.cfg", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(small_cfg, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s run %s --out %s/out --set output.progress=off > %s/stdout 2>&1", rc_test_bin(), path,
             dir, dir);
    assert_int_equal(rc_test_sh("%s", cmd), 0);
    /* A key the model does not have is an error. */
    snprintf(cmd, sizeof cmd, "%s run %s --out %s/out2 --set population.E.tau_syn_ex=2 2> %s/err >/dev/null",
             rc_test_bin(), path, dir, dir);
    assert_int_equal(rc_test_sh("%s", cmd), 2);
    /* The spikes read back with the C reader: sorted by time, ids in range. */
    snprintf(path, sizeof path, "%s/out/traces.h5", dir);
    double *t;
    uint64_t *ids;
    size_t n;
    rc_err err;
    /* Published whole: the membrane report went in before the checksum
     * trailer was written, so the whole-file CRC matches. */
    int crc_bad = -1;
    assert_int_equal(rc_h5guard_check(path, RC_H5_OWN, "traces", &crc_bad, &err), RC_OK);
    assert_int_equal(crc_bad, 0);
    FILE *tf = fopen(path, "rb");
    char tail[8] = "";
    assert_non_null(tf);
    assert_int_equal(fseek(tf, -24, SEEK_END), 0);
    assert_int_equal(fread(tail, 1, 8, tf), 8);
    fclose(tf);
    assert_memory_equal(tail, "RCSIMCRC", 8); /* the trailer is there, not overwritten */
    rc_status rs = rc_spikefile_read(path, NULL, &t, &ids, &n, &err);
    if (rs) print_error("%s\n", err.msg);
    assert_int_equal(rs, RC_OK);
    assert_true(n > 100);
    for (size_t i = 0; i < n; i++) {
        assert_true(ids[i] < 300);
        assert_true(t[i] > 0 && t[i] <= 100.0 + 1e-9);
        if (i) assert_true(t[i] >= t[i - 1]);
    }
    free(t);
    free(ids);
    /* Only the recorded populations under /spikes: no empty "output" group
     * (the training traces' reader convention) in a network's file. */
    hid_t h5 = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(h5 >= 0);
    hid_t sg = H5Gopen2(h5, "/spikes", H5P_DEFAULT);
    assert_true(sg >= 0);
    H5G_info_t gi;
    assert_true(H5Gget_info(sg, &gi) >= 0);
    assert_int_equal(gi.nlinks, 1);
    assert_true(H5Lexists(sg, "E", H5P_DEFAULT) > 0);
    assert_int_equal(H5Lexists(sg, "output", H5P_DEFAULT), 0);
    H5Gclose(sg);
    H5Fclose(h5);
    /* h5py, as a user opens it: the SONATA layout of spikes and the report. */
    if (rc_test_sh("%s", "/usr/bin/python3 -c 'import h5py' 2>/dev/null") != 0) {
        print_message("h5py not installed: skipping the h5py read-back\n");
    } else {
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 -c \"import h5py, numpy as np, json\n"
                 "f = h5py.File('%s', 'r')\n"
                 "s = f['spikes/E']; ts = s['timestamps'][:]; ids = s['node_ids'][:]\n"
                 "assert ts.dtype == np.float64 and ids.dtype == np.uint64 and len(ts) == len(ids) > 100\n"
                 "assert (np.diff(ts) >= 0).all() and ids.max() < 300\n"
                 "r = f['report/E']; d = r['data']; m = r['mapping']\n"
                 "assert d.shape == (200, 2) and d.dtype == np.float32, d.shape\n"
                 "assert list(m['node_ids'][:]) == [3, 7] and list(m['element_ids'][:]) == [0, 0]\n"
                 "assert np.allclose(m['time'][:], [0.5, 100.5, 0.5])\n"
                 "u = d.attrs['units']; u = u.decode() if isinstance(u, bytes) else u\n"
                 "assert u == 'mV' and (d[:] <= 20).all() and (d[:] >= -5).all()\n"
                 "j = json.load(open('%s/out/summary.json'))\n"
                 "assert j['populations']['E']['spikes'] == len(ts)\n"
                 "assert j['network']['synapses'] == 300 * 30\n"
                 "print('h5py OK')\"",
                 path, dir);
        assert_int_equal(rc_test_sh("%s", cmd), 0);
    }
    assert_int_equal(rc_test_rmtree(dir), 0);
}

/* ---- images source -------------------------------------------------------- */

/* Reads the n values of a 1-D dataset (path in the file) as mtype. */
static void read_pres(const char *path, const char *name, hid_t mtype, void *buf, size_t n)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t sp = H5Dget_space(d);
    hsize_t dim = 0;
    H5Sget_simple_extent_dims(sp, &dim, NULL);
    assert_int_equal(dim, n);
    assert_true(H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Sclose(sp);
    H5Dclose(d);
    H5Fclose(f);
}

enum { IM_N = 3, IM_PIX = 16, IM_T = 10, IM_EVERY = 2, IM_WIN = 50, IM_DELAY = 10, IM_FIRST = 2, IM_STEPS = 330 };

/* `rcsim run` with an images source (3 test images of 4x4, latency or rate
 * code, 10 encoder steps of 0.2 ms in 5 ms windows starting at example 1,
 * delay 1 ms, onto neurons 2..17 of a 20-neuron psc_delta population whose
 * every input spike fires it): the recorded spikes are exactly the
 * encoder's events, shifted by window start + delay, for 1, 2 and 3
 * threads; /presentations holds the window starts, examples and labels. */
static void images_case(const char *encoder)
{
    char dir[256], path[512], cmd[2048];
    assert_int_equal(rc_test_mkdtemp(dir, sizeof dir, "/tmp/rcsim_netimg_"), 0);
    uint8_t pix[IM_N * IM_PIX], lab[IM_N] = { 7, 3, 9 };
    for (int i = 0; i < IM_N * IM_PIX; i++) pix[i] = (uint8_t)(i % 5 == 0 ? 0 : i % 7 == 0 ? 255 : (i * 37) % 256);
    const uint32_t si[3] = { IM_N, 4, 4 }, sl[1] = { IM_N };
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte", dir);
    rc_test_write_idx(path, 3, si, pix, sizeof pix);
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte", dir);
    rc_test_write_idx(path, 1, sl, lab, sizeof lab);
    snprintf(path, sizeof path, "%s/net.cfg", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "[task]\nname = network\n[sim]\ndt_ms = 0.1\ntime_ms = 33\nseed = 5\n"
            "[population.T]\nsize = 20\nmodel = iaf_psc_delta\nC_m = 1\ntau_m = 20\nE_L = 0\nV_th = 20\n"
            "V_reset = 0\nt_ref = 0\n"
            "[source.mnist]\ntype = images\ntarget = T\nfirst = %d\nweight = 25\ndelay_ms = 1\ndata_dir = %s\n"
            "split = test\nfirst_example = 1\nencoder = %s\nsteps = %d\nstep_ms = 0.2\nwindow_ms = 5\n"
            "[record.s]\npopulation = T\nwhat = spikes\n",
            IM_FIRST, dir, encoder, IM_T);
    fclose(f);
    /* The expected spikes, (time, id) in time-then-id order. */
    const int rate = !strcmp(encoder, "rate");
    uint8_t *p1 = malloc(sizeof pix), *l1 = malloc(sizeof lab);
    memcpy(p1, pix, sizeof pix);
    memcpy(l1, lab, sizeof lab);
    rc_dataset *ds = rate ? rc_rate_new(5, IM_T, IM_PIX, 10, NULL, NULL, 0, 0, p1, l1, IM_N)
                          : rc_latency_new(5, IM_T, 0, IM_PIX, 10, NULL, NULL, 0, 0, p1, l1, IM_N);
    assert_non_null(ds);
    rc_events ev = { 0 };
    double et[7 * IM_T * IM_PIX];
    uint64_t eid[7 * IM_T * IM_PIX];
    size_t ne = 0;
    for (int w = 0; w < 7; w++) {
        const int ex = (1 + w) % IM_N;
        rc_example_info info;
        assert_int_equal(ds->get(ds, RC_SPLIT_TEST, ex, &ev, &info), RC_OK);
        assert_int_equal(info.label, lab[ex]);
        for (int k = 0; k < IM_T; k++) {
            const int arrive = w * IM_WIN + k * IM_EVERY + IM_DELAY;
            for (int c = 0; c < IM_PIX; c++) {
                int hit = 0;
                for (int e = ev.off[k]; e < ev.off[k + 1]; e++) hit |= ev.ch[e] == c;
                /* The latency code by its definition, not by the encoder. */
                if (!rate) assert_int_equal(hit, pix[ex * IM_PIX + c] > 0 && (255 - pix[ex * IM_PIX + c]) * IM_T / 255 == k);
                if (hit && arrive < IM_STEPS) et[ne] = (arrive + 1) * 0.1, eid[ne++] = (uint64_t)(IM_FIRST + c);
            }
        }
    }
    rc_events_free(&ev);
    rc_dataset_free(ds);
    assert_true(ne > 40);
    for (int nth = 1; nth <= 3; nth++) {
        snprintf(cmd, sizeof cmd, "%s run %s --out %s/out%d --set sim.threads=%d --set output.progress=off "
                 ">/dev/null 2>%s/err",
                 rc_test_bin(), path, dir, nth, nth, dir);
        assert_int_equal(rc_test_sh("%s", cmd), 0);
        char tr[600];
        snprintf(tr, sizeof tr, "%s/out%d/traces.h5", dir, nth);
        double *t;
        uint64_t *ids;
        size_t n;
        rc_err err;
        rc_status rs = rc_spikefile_read(tr, "T", &t, &ids, &n, &err);
        if (rs) print_error("%s\n", err.msg);
        assert_int_equal(rs, RC_OK);
        assert_int_equal(n, ne);
        for (size_t i = 0; i < n; i++) {
            if (fabs(t[i] - et[i]) > 1e-9 || ids[i] != eid[i])
                print_error("spike %zu: (%g, %llu), expected (%g, %llu)\n", i, t[i], (unsigned long long)ids[i], et[i],
                            (unsigned long long)eid[i]);
            assert_true(fabs(t[i] - et[i]) <= 1e-9);
            assert_int_equal(ids[i], eid[i]);
        }
        free(t);
        free(ids);
        double t0[7];
        int32_t pl[7];
        uint64_t pe[7];
        read_pres(tr, "/presentations/mnist/start_ms", H5T_NATIVE_DOUBLE, t0, 7);
        read_pres(tr, "/presentations/mnist/label", H5T_NATIVE_INT32, pl, 7);
        read_pres(tr, "/presentations/mnist/example", H5T_NATIVE_UINT64, pe, 7);
        for (int w = 0; w < 7; w++) {
            assert_true(fabs(t0[w] - 5.0 * w) < 1e-9);
            assert_int_equal(pe[w], (uint64_t)((1 + w) % IM_N));
            assert_int_equal(pl[w], lab[(1 + w) % IM_N]);
        }
    }
    /* A window too short for the encoder steps is a config error. */
    snprintf(cmd, sizeof cmd, "%s run %s --out %s/bad --set source.mnist.window_ms=1 >/dev/null 2>%s/err",
             rc_test_bin(), path, dir, dir);
    assert_int_equal(rc_test_sh("%s", cmd), 2);
    assert_int_equal(rc_test_rmtree(dir), 0);
}

static void test_images_latency(void **state)
{
    (void)state;
    images_case("latency");
}

static void test_images_rate(void **state)
{
    (void)state;
    images_case("rate");
}

/* ---- rcsim info: the partition plan ------------------------------------- */

/* `rcsim info net.cfg --threads 3` on E (10) + I (5): neurons are dealt
 * round-robin over all 15 ids, so thread 0 gets E 0,3,6,9 and I 12; threads
 * 1 and 2 get 3 E and 2 I each; synapses = indegrees summed over the thread's
 * targets (E: 3 + 2, I: 3). Also on a synthetic two-node machine. */
static void test_info_plan(void **state)
{
    (void)state;
    char dir[256], path[512], cmd[2048];
    assert_int_equal(rc_test_mkdtemp(dir, sizeof dir, "/tmp/rcsim_netinfo_"), 0);
    snprintf(path, sizeof path, "%s/net.cfg", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("[task]\nname = network\n[sim]\ndt_ms = 0.1\n"
          "[population.E]\nsize = 10\n[population.I]\nsize = 5\n"
          "[projection.EA]\nsource = E\ntarget = E\nrule = fixed_indegree\nindegree = 3\nweight = 1\n"
          "[projection.EI]\nsource = E\ntarget = I\nrule = fixed_indegree\nindegree = 3\nweight = 1\n"
          "[projection.IE]\nsource = I\ntarget = E\nrule = fixed_indegree\nindegree = 2\nweight = -1\n",
          f);
    fclose(f);
    static const char *const topo[2] = { "", "--topology 'synthetic:numa:2 core:2 pu:1'" };
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd, "%s info %s --threads 3 %s > %s/out 2>&1", rc_test_bin(), path, topo[k], dir);
        assert_int_equal(rc_test_sh("%s", cmd), 0);
        snprintf(cmd, sizeof cmd, "%s/out", dir);
        f = fopen(cmd, "r");
        assert_non_null(f);
        char line[512];
        int seen = 0, in_table = 0, nodes = 0;
        const int want_e[3] = { 4, 3, 3 }, want_i[3] = { 1, 2, 2 };
        while (fgets(line, sizeof line, f)) {
            if (strstr(line, "network plan of")) in_table = 1;
            int u, node, e, i;
            size_t n;
            unsigned long long syn;
            if (in_table && sscanf(line, " %d %d %zu (E %d, I %d) %llu", &u, &node, &n, &e, &i, &syn) == 6) {
                assert_true(u >= 0 && u < 3);
                assert_int_equal(e, want_e[u]);
                assert_int_equal(i, want_i[u]);
                assert_int_equal(n, (size_t)(e + i));
                assert_int_equal(syn, (unsigned long long)(e * 5 + i * 3));
                seen |= 1 << u;
            }
            nodes += in_table && !strncmp(line, "  node ", 7);
        }
        fclose(f);
        assert_int_equal(seen, 7);
        assert_int_equal(nodes, k ? 2 : nodes > 0 ? nodes : -1);
    }
    assert_int_equal(rc_test_rmtree(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant_current), cmocka_unit_test(test_psc_exp_psp),
        cmocka_unit_test(test_cond_exp_reference), cmocka_unit_test(test_delays),
        cmocka_unit_test(test_rules), cmocka_unit_test(test_poisson),
        cmocka_unit_test(test_threads_identical), cmocka_unit_test(test_run_outputs),
        cmocka_unit_test(test_images_latency), cmocka_unit_test(test_images_rate),
        cmocka_unit_test(test_info_plan),
    };
    return cmocka_run_group_tests_name("network", tests, setup, teardown);
}
