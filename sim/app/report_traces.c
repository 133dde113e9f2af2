/* report_traces.c — traces.h5 of a run or an eval: the RC outcome of every
 * test example and its first output spike (from the kept results), an SNN's
 * traced LIF populations (one more spike pass), the activations of the
 * output.trace_examples and, for a delta LSTM or ConvLSTM, their hidden events (one more
 * engine pass over those examples, not timed). The file's layout is
 * io/traces.h's. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "io/traces.h"
#include "models/lif.h"
#include "sim/app/app.h"

/* Population p of an SNN: its layer (pools skipped). */
static const rc_lif_layer *pop_layer(const rc_lif_shape *sn, int p)
{
    for (int l = 0, q = 0; l < sn->nl; l++)
        if (sn->L[l].kind != RC_LIF_POOL && q++ == p) return &sn->L[l];
    return NULL;
}

/* A comma-separated list of LIF population names (key) as bits into *bits;
 * an unknown name is a config error listing the model's populations. */
static rc_status pop_bits(const rc_lif_shape *sn, const char *key, const char *list, const char *cfg_path,
                          uint32_t *bits, rc_err *err)
{
    const int npops = rc_lif_npops(sn);
    *bits = 0;
    if (!strcmp(list, "none")) return RC_OK;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        const char *q = p;
        while (len && *q == ' ') { q++; len--; }
        while (len && q[len - 1] == ' ') len--;
        int found = -1;
        char names[512] = "", nm[32];
        for (int k = 0; k < npops; k++) {
            rc_lif_pop_name(sn, k, nm, sizeof nm);
            if (strlen(nm) == len && !strncmp(q, nm, len)) found = k;
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? ", " : "", nm);
        }
        if (found < 0)
            return rc_err_set(err, RC_ERR_CONFIG, "%s: %s names '%.*s', expected LIF layers of this model: %s",
                              cfg_path, key, (int)len, q, names);
        if (found < 32) *bits |= 1u << found;
        p += strcspn(p, ",");
        if (*p) p++;
    }
    return RC_OK;
}

rc_status rc_app_trace_keys(const rc_cfg *cfg, const char *cfg_path, const rc_lif_shape *sn, rc_err *err)
{
    static const char *const keys[] = { "output.trace_layers", "output.trace_examples", "output.trace_after_spike",
                                        "output.trace_all_output_spikes", "output.trace_membrane" };
    if (!rc_cfg_get_bool(cfg, "output.traces"))
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (rc_cfg_is_set(cfg, keys[i]))
                return rc_err_set(err, RC_ERR_CONFIG, "%s: %s has no effect with output.traces = false; expected "
                                  "output.traces = true, or no %s", cfg_path, keys[i], keys[i]);
    for (size_t i = 3; i < 5 && !sn; i++)
        if (rc_cfg_is_set(cfg, keys[i]))
            return rc_err_set(err, RC_ERR_CONFIG, "%s: %s has no effect for model.type = %s (no LIF layers: the "
                              "output's only spike is its answer); expected it only with model.type = snn",
                              cfg_path, keys[i], rc_cfg_get_str(cfg, "model.type"));
    uint32_t bits;
    return sn ? pop_bits(sn, "output.trace_membrane", rc_cfg_get_str(cfg, "output.trace_membrane"), cfg_path, &bits,
                         err)
              : RC_OK;
}

static rc_traces *traces_open(const rc_app_setup *S, const char *dir, rc_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/traces.h5", dir);
    char *ini = rc_cfg_to_ini(S->cfg);
    rc_traces_meta meta = { RC_VERSION, RC_GIT_REV, ini ? ini : "", S->seed, S->theta, S->beta,
                            S->eos ? "eos" : "rc", S->T, rc_cfg_get_float(S->cfg, "sim.dt_ms"), 0,
                            S->delta_x, S->delta_h };
    rc_traces *tr = rc_traces_open(path, &meta, err);
    free(ini);
    return tr;
}

/* A delta LSTM or ConvLSTM (model.delta_h > 0) writes the hidden events of
 * its traced examples: population hidden_events, one node per hidden unit
 * (ConvLSTM: per channel and position, node = channel·Hh·Ww + y·Ww + x, the
 * layout of h). */
static int hidden_events(const rc_app_setup *S)
{
    return S->net->s.core != RC_CORE_LIF && S->delta_h > 0;
}

/* Size, shape and node-id mapping of every population in the file: the
 * output (LSTM: the classes, a single sigmoid's two answers; a delta LSTM's
 * hidden_events, with its values column even if no event is written) and,
 * for an SNN, the traced LIF layers (conv: y, x, channel; fc: unit). */
static rc_status describe_pops(const rc_app_setup *S, rc_traces *tr, uint32_t pops, rc_err *err)
{
    if (S->net->s.core != RC_CORE_LIF) {
        const int K = S->net->s.K;
        const rc_convlstm_shape *cs = &S->net->s.conv;
        const rc_traces_pop_shape o = { 1, { K == 1 ? 2 : K }, "class" },
                                  h = S->net->s.core == RC_CORE_CONVLSTM
                                          ? (rc_traces_pop_shape){ 3, { cs->C, cs->Hh, cs->Ww }, "channel,y,x" }
                                          : (rc_traces_pop_shape){ 1, { S->net->s.H }, "unit" };
        rc_status st = rc_traces_describe(tr, "output", &o, err);
        if (!st && hidden_events(S)) st = rc_traces_describe(tr, "hidden_events", &h, err);
        if (!st && hidden_events(S)) st = rc_traces_add_events(tr, "hidden_events", 0, NULL, NULL, NULL, 0, err);
        return st;
    }
    const rc_lif_shape *sn = &S->net->s.snn;
    const int np = rc_lif_npops(sn);
    rc_status st = RC_OK;
    for (int p = 0; p < np && !st; p++) {
        if (p != np - 1 && !(p < 32 && (pops >> p) & 1u)) continue;
        const rc_lif_layer *L = pop_layer(sn, p);
        char name[32];
        rc_lif_pop_name(sn, p, name, sizeof name);
        rc_traces_pop_shape sh = { 1, { L->nout }, p == np - 1 ? "class" : "unit" };
        if (L->kind == RC_LIF_CONV) sh = (rc_traces_pop_shape){ 3, { L->hout, L->wout, L->cout }, "y,x,channel" };
        st = rc_traces_describe(tr, name, &sh, err);
    }
    return st;
}

/* output.trace_examples: ascending, without repeats (the traces file is
 * ordered by example id), only ids a finite test set has; at most 256. */
static size_t traced_ids(const rc_app_setup *S, long long *ids)
{
    size_t n = rc_cfg_get_int_list(S->cfg, "output.trace_examples", ids, 256);
    if (n > 256) n = 256;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && ids[j] < ids[j - 1]; j--) {
            long long t = ids[j]; ids[j] = ids[j - 1]; ids[j - 1] = t;
        }
    size_t u = 0;
    const int64_t avail = S->ds->size[RC_SPLIT_TEST]; /* finite test sets: ids beyond it do not exist */
    for (size_t i = 0; i < n; i++)
        if ((!u || ids[i] != ids[u - 1]) && (avail < 0 || ids[i] < avail)) ids[u++] = ids[i];
    return u;
}

/* The hidden events of example id, dh (T, H): Δ where a unit sent one, 0
 * elsewhere; in time order, units ascending within a step. steps, units,
 * vals: (T*H) scratch. */
static rc_status add_hidden_events(rc_traces *tr, int64_t id, const float *dh, int T, int H, int *steps,
                                   uint64_t *units, float *vals, rc_err *err)
{
    size_t n = 0;
    for (int t = 0; t < T; t++)
        for (int u = 0; u < H; u++) {
            const float v = dh[(size_t)t * H + u];
            if (v == 0) continue;
            steps[n] = t;
            units[n] = (uint64_t)u;
            vals[n++] = v;
        }
    return rc_traces_add_events(tr, "hidden_events", (uint64_t)id, steps, units, vals, n, err);
}

/* Activations of the traced test examples: LSTM h and output probabilities at
 * every step until the first spike (or every step, with trace_after_spike),
 * and a delta LSTM's hidden events over the same steps. */
static rc_status trace_activations(rc_app_setup *S, rc_traces *tr, rc_err *err)
{
    long long ids[256];
    const size_t n = traced_ids(S, ids);
    const int after = rc_cfg_get_bool(S->cfg, "output.trace_after_spike"), hev = hidden_events(S);
    const int H = S->net->s.H, K = S->net->s.K, T = S->T;
    const size_t th = (size_t)T * H;
    rc_status st = RC_OK;
    for (size_t i0 = 0; i0 < n && !st; i0 += (size_t)S->tbatch) {
        int m = (int)(n - i0 < (size_t)S->tbatch ? n - i0 : (size_t)S->tbatch);
        for (int j = 0; j < m; j++) S->idx[j] = ids[i0 + (size_t)j];
        size_t nh = (size_t)m * th, np = (size_t)m * T * K;
        float *rh = malloc(nh * sizeof *rh), *rp = malloc(np * sizeof *rp);
        float *dh = hev ? calloc(nh, sizeof *dh) : NULL, *vals = hev ? malloc(th * sizeof *vals) : NULL;
        int *steps = hev ? malloc(th * sizeof *steps) : NULL;
        uint64_t *units = hev ? malloc(th * sizeof *units) : NULL;
        if (!rh || !rp || (hev && (!dh || !vals || !steps || !units)))
            st = rc_err_set(err, RC_ERR_NOMEM, "out of memory");
        for (size_t k = 0; k < nh && !st; k++) rh[k] = NAN;
        for (size_t k = 0; k < np && !st; k++) rp[k] = NAN;
        rc_batch_opts o = { .train = 0, .stop_at_spike = !after, .rec_h = rh, .rec_p = rp,
                            .lstm = { .threshold = S->theta, .delta_x = S->delta_x, .delta_h = S->delta_h, .rec_dh = dh } };
        if (!st) st = rc_engine_batch(S->eng, RC_SPLIT_TEST, S->idx, m, &o, S->res, NULL, err);
        for (int j = 0; j < m && !st; j++) {
            st = rc_traces_add_activations(tr, S->net->s.core == RC_CORE_LIF ? "hidden" : "lstm", (uint64_t)S->idx[j],
                                           rh + (size_t)j * th, H, err);
            if (!st) st = rc_traces_add_activations(tr, "output", (uint64_t)S->idx[j], rp + (size_t)j * T * K, K, err);
            if (!st && hev) st = add_hidden_events(tr, S->idx[j], dh + (size_t)j * th, T, H, steps, units, vals, err);
        }
        free(rh);
        free(rp);
        free(dh);
        free(vals);
        free(steps);
        free(units);
    }
    return st;
}

static void no_spikes(void *ud, int pop, int t, const int *neurons, int n)
{
    (void)ud; (void)pop; (void)t; (void)neurons; (void)n;
}

/* SNN, output.trace_membrane: the pre-reset potentials of the named layers
 * for the traced test examples, as /activations/<layer>_membrane (T, neurons),
 * until the first output spike (NaN after) or, with trace_after_spike, to T. */
static rc_status trace_membranes(rc_app_setup *S, rc_traces *tr, rc_err *err)
{
    const rc_lif_shape *sn = &S->net->s.snn;
    uint32_t bits;
    rc_status st = pop_bits(sn, "output.trace_membrane", rc_cfg_get_str(S->cfg, "output.trace_membrane"), "", &bits, err);
    if (st || !bits) return st;
    long long ids[256];
    const size_t n = traced_ids(S, ids);
    const int np = rc_lif_npops(sn), T = S->T;
    float *U[RC_LIF_MAX_LAYERS] = { 0 };
    for (int p = 0; p < np && !st; p++)
        if ((bits >> p) & 1u && !(U[p] = malloc((size_t)T * (size_t)pop_layer(sn, p)->nout * sizeof(float))))
            st = rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    const rc_batch_opts o = { .stop_at_spike = !rc_cfg_get_bool(S->cfg, "output.trace_after_spike"),
                              .lif = { .vth_scale = 1, .rec_u = U } };
    for (size_t i = 0; i < n && !st; i++) {
        for (int p = 0; p < np; p++)
            if (U[p]) for (size_t k = 0; k < (size_t)T * (size_t)pop_layer(sn, p)->nout; k++) U[p][k] = NAN;
        st = rc_engine_spikes(S->eng, RC_SPLIT_TEST, ids[i], &o, no_spikes, NULL, err);
        for (int p = 0; p < np && !st; p++) {
            if (!U[p]) continue;
            char name[48];
            rc_lif_pop_name(sn, p, name, 32);
            strcat(name, "_membrane");
            st = rc_traces_add_activations(tr, name, (uint64_t)ids[i], U[p], pop_layer(sn, p)->nout, err);
        }
    }
    for (int p = 0; p < np; p++) free(U[p]);
    return st;
}

/* SNN: the spikes of one example's traced populations. Hidden populations
 * are written until the first output spike (its step included; every step
 * for a full example); the output population, when this pass writes it, at
 * every step computed. */
typedef struct {
    const rc_app_setup *S;
    rc_traces *tr;
    uint64_t id;
    int *steps;
    uint64_t *nodes;
    uint32_t pops;      /* populations written (bits)              */
    int out, full;      /* output population; 1: no cut at the answer */
    int first_out;      /* step of the first output spike, −1 yet    */
    rc_status st;
    rc_err *err;
} spike_sink;

static void spike_sink_fn(void *ud, int pop, int t, const int *neurons, int n)
{
    spike_sink *k = ud;
    if (pop == k->out && k->first_out < 0) k->first_out = t;
    if (k->st || !(pop < 32 && (k->pops >> pop) & 1u)) return;
    if (pop != k->out && !k->full && k->first_out >= 0 && k->first_out < t) return;
    for (int i = 0; i < n; i++) {
        k->steps[i] = t;
        k->nodes[i] = (uint64_t)neurons[i];
    }
    char name[32];
    rc_lif_pop_name(&k->S->net->s.snn, pop, name, sizeof name);
    k->st = rc_traces_add_spikes(k->tr, name, k->id, k->steps, k->nodes, (size_t)n, k->err);
}

/* The output's first spike from the kept results (node: the class; for a
 * single sigmoid 1 = positive, 0 = negative). */
static rc_status first_spike(rc_traces *tr, const rc_example_result *r, int64_t i, rc_err *err)
{
    if (!r->spiked) return RC_OK;
    const uint64_t node = (uint64_t)r->pred;
    return rc_traces_add_spikes(tr, "output", (uint64_t)i, &r->tsp, &node, 1, err);
}

/* The SNN spike pass, one more engine pass on this thread (not timed), with
 * the output population: every example stops at its answer, except that with
 * trace_all_output_spikes every example and with trace_after_spike the
 * traced examples run to T, their output spikes all written (else the kept
 * first spike) and, for the traced ones, the hidden spikes of every step. */
static rc_status trace_spikes(rc_app_setup *S, rc_traces *tr, const rc_example_result *res, int64_t n, rc_err *err)
{
    const rc_lif_shape *sn = &S->net->s.snn;
    const int after = rc_cfg_get_bool(S->cfg, "output.trace_after_spike");
    const int all = rc_cfg_get_bool(S->cfg, "output.trace_all_output_spikes");
    long long ids[256];
    const size_t nid = after ? traced_ids(S, ids) : 0;
    int maxn = 1;
    for (int l = 0; l < sn->nl; l++)
        if (rc_lif_neurons(sn, l) > maxn) maxn = rc_lif_neurons(sn, l);
    spike_sink k = { S, tr, 0, malloc((size_t)maxn * sizeof(int)), malloc((size_t)maxn * sizeof(uint64_t)), 0,
                     rc_lif_npops(sn) - 1, 0, -1, RC_OK, err };
    rc_status st = RC_OK;
    if (!k.steps || !k.nodes) st = rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    size_t next = 0;
    for (int64_t i = 0; i < n && !st; i++) {
        while (next < nid && ids[next] < i) next++;
        const int traced = next < nid && ids[next] == i;
        k.id = (uint64_t)i;
        k.full = traced;
        k.first_out = -1;
        k.pops = S->trace_pops | (all || traced ? 1u << k.out : 0);
        if (!(all || traced)) st = first_spike(tr, &res[i], i, err);
        if (st || !(all || traced || S->trace_pops)) continue; /* nothing more of this example */
        const rc_batch_opts so = { .stop_at_spike = !(all || traced), .lif.vth_scale = 1 };
        if (!st) st = rc_engine_spikes(S->eng, RC_SPLIT_TEST, i, &so, spike_sink_fn, &k, err);
        if (!st) st = k.st;
    }
    free(k.steps);
    free(k.nodes);
    return st;
}

rc_status rc_app_traces_write(rc_app_setup *S, const char *dir, const rc_example_result *res, int64_t n,
                              rc_err *err)
{
    rc_traces *tr = traces_open(S, dir, err);
    if (!tr) return RC_ERR_IO;
    const int snn = S->net->s.core == RC_CORE_LIF;
    const int pass = snn && (S->trace_pops || rc_cfg_get_bool(S->cfg, "output.trace_all_output_spikes") ||
                             rc_cfg_get_bool(S->cfg, "output.trace_after_spike"));
    rc_status st = describe_pops(S, tr, S->trace_pops, err);
    for (int64_t i = 0; i < n && !st; i++) {
        const rc_example_result *r = &res[i];
        st = rc_traces_add_example(tr, (uint64_t)i, r->tsp, r->pred, r->label, r->spiked, err);
        if (!st && !pass) st = first_spike(tr, r, i, err);
    }
    if (!st && pass) st = trace_spikes(S, tr, res, n, err);
    if (!st) st = trace_activations(S, tr, err);
    if (!st && snn) st = trace_membranes(S, tr, err);
    if (st) {
        rc_traces_abort(tr);
        return st;
    }
    return rc_traces_close(tr, err);
}
