/* network_cfg.c — task.name = network: the config's [population.*],
 * [projection.*], [source.*] and [record.*] instances into an rc_net_spec
 * (sim/network.h).
 *
 * Why it is separate: sim/ never reads the config; this is the only place
 * that knows the key names of the network task. Keys a model does not have
 * are errors (tau_syn_ex on iaf_psc_delta would silently do nothing);
 * unset keys take NEST's default for the chosen model. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>

#include "encoders/images.h"
#include "io/idx.h"
#include "sim/app/network_cfg.h"

/* Value of "SEC.KEY". */
static double fget(const rc_cfg *c, const char *sec, const char *key)
{
    char k[160];
    snprintf(k, sizeof k, "%s.%s", sec, key);
    return rc_cfg_get_float(c, k);
}
static long long iget(const rc_cfg *c, const char *sec, const char *key)
{
    char k[160];
    snprintf(k, sizeof k, "%s.%s", sec, key);
    return rc_cfg_get_int(c, k);
}
static const char *sget(const rc_cfg *c, const char *sec, const char *key)
{
    char k[160];
    snprintf(k, sizeof k, "%s.%s", sec, key);
    return rc_cfg_get_str(c, k);
}
static int bget(const rc_cfg *c, const char *sec, const char *key)
{
    char k[160];
    snprintf(k, sizeof k, "%s.%s", sec, key);
    return rc_cfg_get_bool(c, k);
}
static int isset(const rc_cfg *c, const char *sec, const char *key)
{
    char k[160];
    snprintf(k, sizeof k, "%s.%s", sec, key);
    return rc_cfg_is_set(c, k);
}

static int pop_index(const rc_net_spec *s, const char *name)
{
    for (int p = 0; p < s->npop; p++)
        if (!strcmp(s->pop[p].name, name)) return p;
    return -1;
}

static rc_status pop_ref(const rc_net_spec *s, const rc_cfg *c, const char *sec, const char *key, int *out,
                         const char *path, rc_err *err)
{
    *out = pop_index(s, sget(c, sec, key));
    if (*out >= 0) return RC_OK;
    return rc_err_set(err, RC_ERR_CONFIG, "%s: %s.%s = %s names no [population.*] section", path, sec, key,
                      sget(c, sec, key));
}

/* Keys of [population.*] and the models that have them (bit m = model m). */
static const struct {
    const char *key;
    unsigned models;
    size_t off;
} pop_keys[] = {
    { "C_m", 7, offsetof(rc_nrn_params, C_m) },          { "tau_m", 3, offsetof(rc_nrn_params, tau_m) },
    { "g_L", 4, offsetof(rc_nrn_params, g_L) },          { "t_ref", 7, offsetof(rc_nrn_params, t_ref) },
    { "E_L", 7, offsetof(rc_nrn_params, E_L) },          { "V_th", 7, offsetof(rc_nrn_params, V_th) },
    { "V_reset", 7, offsetof(rc_nrn_params, V_reset) },  { "I_e", 7, offsetof(rc_nrn_params, I_e) },
    { "tau_syn_ex", 6, offsetof(rc_nrn_params, tau_syn_ex) }, { "tau_syn_in", 6, offsetof(rc_nrn_params, tau_syn_in) },
    { "E_ex", 4, offsetof(rc_nrn_params, E_ex) },        { "E_in", 4, offsetof(rc_nrn_params, E_in) },
};

static rc_status read_pop(rc_net_spec *s, const rc_cfg *c, const char *sec, const char *path, rc_err *err)
{
    if (s->npop == RC_NET_MAXPOP)
        return rc_err_set(err, RC_ERR_CONFIG, "%s: more than %d populations", path, RC_NET_MAXPOP);
    rc_net_pop *P = &s->pop[s->npop];
    snprintf(P->name, sizeof P->name, "%s", strchr(sec, '.') + 1);
    const long long n = iget(c, sec, "size");
    if (n > 0x7fffffff) return rc_err_set(err, RC_ERR_CONFIG, "%s: %s.size = %lld is too large", path, sec, n);
    P->n = (int)n;
    const int m = rc_nrn_model_parse(sget(c, sec, "model"));
    rc_nrn_params_default((rc_nrn_model)m, &P->p);
    for (size_t k = 0; k < sizeof pop_keys / sizeof pop_keys[0]; k++) {
        if (!isset(c, sec, pop_keys[k].key)) continue;
        if (!(pop_keys[k].models >> m & 1))
            return rc_err_set(err, RC_ERR_CONFIG, "%s: %s.%s has no effect in model %s (remove it)", path, sec,
                              pop_keys[k].key, rc_nrn_model_name((rc_nrn_model)m));
        *(double *)((char *)&P->p + pop_keys[k].off) = fget(c, sec, pop_keys[k].key);
    }
    const int lo = isset(c, sec, "V_m_min"), hi = isset(c, sec, "V_m_max");
    if (lo != hi || (lo && isset(c, sec, "V_m")))
        return rc_err_set(err, RC_ERR_CONFIG, "%s: [%s]: give V_m, or both V_m_min and V_m_max", path, sec);
    P->p.V_init_lo = P->p.V_init_hi = isset(c, sec, "V_m") ? fget(c, sec, "V_m") : P->p.E_L;
    if (lo) {
        P->p.V_init_lo = fget(c, sec, "V_m_min");
        P->p.V_init_hi = fget(c, sec, "V_m_max");
    }
    s->npop++;
    return RC_OK;
}

/* weight or delay: prefix "weight" / "delay" (delay keys end in _ms). */
static rc_status read_dist(const rc_cfg *c, const char *sec, const char *what, const char *mean_key, rc_dist *d,
                           const char *path, rc_err *err)
{
    char k[64];
    const char *kind = (snprintf(k, sizeof k, "%s_dist", what), sget(c, sec, k));
    memset(d, 0, sizeof *d);
    d->a = fget(c, sec, mean_key);
    snprintf(k, sizeof k, "%s_min", what);
    d->lo = fget(c, sec, k);
    const int has_lo = isset(c, sec, k);
    snprintf(k, sizeof k, "%s_max", what);
    d->hi = fget(c, sec, k);
    const int has_hi = isset(c, sec, k);
    snprintf(k, sizeof k, "%s_sd", what);
    d->b = fget(c, sec, k);
    if (!strcmp(kind, "constant")) return RC_OK;
    if (!has_lo || !has_hi)
        return rc_err_set(err, RC_ERR_CONFIG, "%s: [%s] %s_dist = %s needs %s_min and %s_max", path, sec, what, kind,
                          what, what);
    if (!strcmp(kind, "uniform")) {
        d->kind = RC_DIST_UNIFORM;
        d->a = d->lo;
        d->b = d->hi;
        return RC_OK;
    }
    d->kind = RC_DIST_NORMAL;
    return RC_OK;
}

static rc_status read_proj(rc_net_spec *s, const rc_cfg *c, const char *sec, const char *path, rc_err *err)
{
    if (s->nproj == RC_NET_MAXPROJ)
        return rc_err_set(err, RC_ERR_CONFIG, "%s: more than %d projections", path, RC_NET_MAXPROJ);
    rc_net_proj *J = &s->proj[s->nproj];
    snprintf(J->name, sizeof J->name, "%s", strchr(sec, '.') + 1);
    rc_status st = pop_ref(s, c, sec, "source", &J->src, path, err);
    if (!st) st = pop_ref(s, c, sec, "target", &J->tgt, path, err);
    if (st) return st;
    static const char *const rules[] = { "fixed_indegree", "fixed_outdegree", "pairwise_bernoulli", "one_to_one",
                                         "all_to_all" };
    const char *rule = sget(c, sec, "rule");
    for (int r = 0; r < 5; r++)
        if (!strcmp(rule, rules[r])) J->rule = (rc_net_rule)r;
    /* The rule's own parameter must be given; the others must not. */
    const char *need = J->rule == RC_RULE_FIXED_INDEGREE ? "indegree" : J->rule == RC_RULE_FIXED_OUTDEGREE ? "outdegree"
                     : J->rule == RC_RULE_BERNOULLI ? "p" : NULL;
    static const char *const params[] = { "indegree", "outdegree", "p" };
    for (int q = 0; q < 3; q++) {
        const int mine = need && !strcmp(need, params[q]);
        if (mine && !isset(c, sec, params[q]))
            return rc_err_set(err, RC_ERR_CONFIG, "%s: [%s] rule = %s needs %s", path, sec, rule, params[q]);
        if (!mine && isset(c, sec, params[q]))
            return rc_err_set(err, RC_ERR_CONFIG, "%s: %s.%s has no effect with rule = %s", path, sec, params[q], rule);
    }
    const long long deg = J->rule == RC_RULE_FIXED_OUTDEGREE ? iget(c, sec, "outdegree") : iget(c, sec, "indegree");
    if (deg > 0x7fffffff) return rc_err_set(err, RC_ERR_CONFIG, "%s: [%s] degree %lld is too large", path, sec, deg);
    J->degree = (int)deg;
    J->p = fget(c, sec, "p");
    J->autapses = bget(c, sec, "autapses");
    J->multapses = bget(c, sec, "multapses");
    st = read_dist(c, sec, "weight", "weight", &J->weight, path, err);
    if (!st) st = read_dist(c, sec, "delay", "delay_ms", &J->delay, path, err);
    if (st) return st;
    s->nproj++;
    return RC_OK;
}

/* Keys of [source.*] that only some types have (bit t = type t). */
static const struct {
    const char *key;
    unsigned types;
} src_keys[] = {
    { "rate_hz", 1 },  { "start_ms", 1 },      { "stop_ms", 1 },  { "file", 2 },      { "population", 2 },
    { "data_dir", 4 }, { "split", 4 },         { "first_example", 4 }, { "encoder", 4 }, { "steps", 4 },
    { "step_ms", 4 },  { "window_ms", 4 },     { "zero", 4 },
};

/* type = images: the split's IDX pair encoded by the [source.*] keys; the
 * dataset and a copy of its labels go to files slot k. */
static rc_status read_images(rc_net_spec *s, const rc_cfg *c, const char *sec, rc_net_source *S, int k,
                             rc_netcfg_files *files, const char *path, rc_err *err)
{
    const char *dir = sget(c, sec, "data_dir");
    const int test = !strcmp(sget(c, sec, "split"), "test");
    rc_idx im = { 0 }, lab = { 0 };
    rc_status st = rc_idx_read_set(dir, test ? "t10k" : "train", 10, &im, &lab, err);
    if (st) return st;
    files->labels[k] = malloc(lab.count);
    if (!files->labels[k]) {
        rc_idx_free(&im);
        rc_idx_free(&lab);
        return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    }
    memcpy(files->labels[k], lab.data, lab.count);
    files->nlabels[k] = lab.count;
    const int T = (int)iget(c, sec, "steps"), npix = (int)(im.rows * im.cols);
    uint8_t *trp = test ? NULL : im.data, *trl = test ? NULL : lab.data, *tep = test ? im.data : NULL,
            *tel = test ? lab.data : NULL;
    const int64_t ntr = test ? 0 : im.count, nte = test ? im.count : 0;
    files->ds[k] = strcmp(sget(c, sec, "encoder"), "rate")
                       ? rc_latency_new(s->seed, T, !strcmp(sget(c, sec, "zero"), "last"), npix, 10, trp, trl, ntr, 0,
                                        tep, tel, nte)
                       : rc_rate_new(s->seed, T, npix, 10, trp, trl, ntr, 0, tep, tel, nte);
    if (!files->ds[k]) return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    S->images = files->ds[k];
    S->split = test ? RC_SPLIT_TEST : RC_SPLIT_TRAIN;
    S->example0 = iget(c, sec, "first_example");
    const double step_ms = fget(c, sec, "step_ms"), win_ms = fget(c, sec, "window_ms");
    const double every = step_ms > 0 ? step_ms / s->dt_ms : 1;
    S->step_every = (int)llround(every);
    S->window = llround(win_ms / s->dt_ms);
    if (fabs(every - S->step_every) > 1e-6 * every || S->step_every < 1)
        return rc_err_set(err, RC_ERR_CONFIG, "%s: %s.step_ms = %g is not a multiple of sim.dt_ms = %g", path, sec,
                          step_ms, s->dt_ms);
    if ((int64_t)T * S->step_every > S->window)
        return rc_err_set(err, RC_ERR_CONFIG, "%s: [%s] %d steps of %g ms do not fit window_ms = %g", path, sec, T,
                          S->step_every * s->dt_ms, win_ms);
    if (S->count == 0) S->count = npix;
    return RC_OK;
}

static rc_status read_source(rc_net_spec *s, const rc_cfg *c, const char *sec, rc_netcfg_files *files,
                             const char *path, rc_err *err)
{
    if (s->nsrc == RC_NET_MAXSRC) return rc_err_set(err, RC_ERR_CONFIG, "%s: more than %d sources", path, RC_NET_MAXSRC);
    rc_net_source *S = &s->src[s->nsrc];
    snprintf(S->name, sizeof S->name, "%s", strchr(sec, '.') + 1);
    rc_status st = pop_ref(s, c, sec, "target", &S->tgt, path, err);
    if (st) return st;
    const char *type = sget(c, sec, "type");
    const int poisson = !strcmp(type, "poisson"), images = !strcmp(type, "images");
    const unsigned bit = poisson ? 1u : images ? 4u : 2u;
    for (size_t q = 0; q < sizeof src_keys / sizeof src_keys[0]; q++)
        if (!(src_keys[q].types & bit) && isset(c, sec, src_keys[q].key))
            return rc_err_set(err, RC_ERR_CONFIG, "%s: %s.%s has no effect with type = %s", path, sec, src_keys[q].key,
                              type);
    const long long first = iget(c, sec, "first"), count = iget(c, sec, "count");
    if (first > 0x7fffffff || count > 0x7fffffff)
        return rc_err_set(err, RC_ERR_CONFIG, "%s: [%s] first/count too large", path, sec);
    S->first = (int)first;
    S->count = (int)count;
    S->weight = fget(c, sec, "weight");
    S->delay_ms = fget(c, sec, "delay_ms");
    if (S->delay_ms <= 0) S->delay_ms = s->dt_ms;
    S->kind = poisson ? RC_SRC_POISSON : images ? RC_SRC_IMAGES : RC_SRC_SPIKES;
    S->rate_hz = fget(c, sec, "rate_hz");
    S->start_ms = fget(c, sec, "start_ms");
    S->stop_ms = fget(c, sec, "stop_ms");
    if (images && (st = read_images(s, c, sec, S, s->nsrc, files, path, err))) return st;
    if (S->kind == RC_SRC_SPIKES) {
        const int k = s->nsrc;
        const char *pop = sget(c, sec, "population");
        st = rc_spikefile_read(sget(c, sec, "file"), strcmp(pop, "auto") ? pop : NULL, &files->times[k],
                               &files->ids[k], &files->n[k], err);
        if (st) return st;
        S->times_ms = files->times[k];
        S->node_ids = files->ids[k];
        S->n_events = files->n[k];
        if (S->count == 0) { /* to the end of the population, or as many as the file has nodes */
            uint64_t mx = 0;
            for (size_t i = 0; i < files->n[k]; i++) mx = files->ids[k][i] + 1 > mx ? files->ids[k][i] + 1 : mx;
            const long long room = (long long)s->pop[S->tgt].n - S->first;
            S->count = (int)((long long)mx < room && mx > 0 ? (long long)mx : room);
        }
    }
    s->nsrc++;
    return RC_OK;
}

static rc_status read_record(rc_net_spec *s, const rc_cfg *c, const char *sec, const char *path, rc_err *err)
{
    int pop;
    rc_status st = pop_ref(s, c, sec, "population", &pop, path, err);
    if (st) return st;
    const int spikes = !strcmp(sget(c, sec, "what"), "spikes");
    static const char *const only_spk[] = { "first", "count" }, *const only_vm[] = { "neurons", "every" };
    for (int q = 0; q < 2; q++) {
        if (!spikes && isset(c, sec, only_spk[q]))
            return rc_err_set(err, RC_ERR_CONFIG, "%s: %s.%s has no effect with what = V_m", path, sec, only_spk[q]);
        if (spikes && isset(c, sec, only_vm[q]))
            return rc_err_set(err, RC_ERR_CONFIG, "%s: %s.%s has no effect with what = spikes", path, sec, only_vm[q]);
    }
    if (spikes) {
        if (s->nspk == RC_NET_MAXREC) return rc_err_set(err, RC_ERR_CONFIG, "%s: too many spike recorders", path);
        rc_net_spike_rec *r = &s->spk[s->nspk++];
        r->pop = pop;
        r->first = (int)iget(c, sec, "first");
        r->count = (int)iget(c, sec, "count");
        return RC_OK;
    }
    if (s->nvm == RC_NET_MAXREC) return rc_err_set(err, RC_ERR_CONFIG, "%s: too many V_m recorders", path);
    rc_net_vm_rec *v = &s->vm[s->nvm++];
    v->pop = pop;
    v->every = (int)iget(c, sec, "every");
    long long nodes[RC_NET_MAXVM + 1];
    char k[160];
    snprintf(k, sizeof k, "%s.neurons", sec);
    const size_t n = rc_cfg_get_int_list(c, k, nodes, RC_NET_MAXVM + 1);
    if (n < 1 || n > RC_NET_MAXVM)
        return rc_err_set(err, RC_ERR_CONFIG, "%s: %s.neurons lists %zu neurons (expected 1 to %d)", path, sec, n,
                          RC_NET_MAXVM);
    v->nnodes = (int)n;
    for (size_t i = 0; i < n; i++) v->nodes[i] = nodes[i] > 0x7fffffff ? -1 : (int)nodes[i];
    return RC_OK;
}

rc_status rc_netcfg_spec(const rc_cfg *c, const char *path, rc_net_spec *s, rc_netcfg_files *files, rc_err *err)
{
    memset(s, 0, sizeof *s);
    memset(files, 0, sizeof *files);
    s->dt_ms = rc_cfg_get_float(c, "sim.dt_ms");
    s->seed = (uint64_t)rc_cfg_get_int(c, "sim.seed");
    const char *names[256];
    size_t n = rc_cfg_instances(c, "population", names, 256);
    if (n == 0) return rc_err_set(err, RC_ERR_CONFIG, "%s: task.name = network needs a [population.NAME] section", path);
    rc_status st = RC_OK;
    for (size_t i = 0; i < n && !st; i++) st = read_pop(s, c, names[i], path, err);
    n = rc_cfg_instances(c, "projection", names, 256);
    for (size_t i = 0; i < n && !st; i++) st = read_proj(s, c, names[i], path, err);
    n = rc_cfg_instances(c, "source", names, 256);
    for (size_t i = 0; i < n && !st; i++) st = read_source(s, c, names[i], files, path, err);
    n = rc_cfg_instances(c, "record", names, 256);
    for (size_t i = 0; i < n && !st; i++) st = read_record(s, c, names[i], path, err);
    return st;
}

void rc_netcfg_files_free(rc_netcfg_files *files)
{
    for (int k = 0; k < RC_NET_MAXSRC; k++) {
        free(files->times[k]);
        free(files->ids[k]);
        free(files->labels[k]);
        rc_dataset_free(files->ds[k]);
    }
    memset(files, 0, sizeof *files);
}
