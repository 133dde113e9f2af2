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

static rc_status read_source(rc_net_spec *s, const rc_cfg *c, const char *sec, rc_netcfg_files *files,
                             const char *path, rc_err *err)
{
    if (s->nsrc == RC_NET_MAXSRC) return rc_err_set(err, RC_ERR_CONFIG, "%s: more than %d sources", path, RC_NET_MAXSRC);
    rc_net_source *S = &s->src[s->nsrc];
    snprintf(S->name, sizeof S->name, "%s", strchr(sec, '.') + 1);
    rc_status st = pop_ref(s, c, sec, "target", &S->tgt, path, err);
    if (st) return st;
    const int poisson = !strcmp(sget(c, sec, "type"), "poisson");
    static const char *const only_poisson[] = { "rate_hz", "start_ms", "stop_ms" };
    static const char *const only_file[] = { "file", "population" };
    for (int q = 0; q < 3; q++)
        if (!poisson && isset(c, sec, only_poisson[q]))
            return rc_err_set(err, RC_ERR_CONFIG, "%s: %s.%s has no effect with type = spike_file", path, sec,
                              only_poisson[q]);
    for (int q = 0; q < 2; q++)
        if (poisson && isset(c, sec, only_file[q]))
            return rc_err_set(err, RC_ERR_CONFIG, "%s: %s.%s has no effect with type = poisson", path, sec, only_file[q]);
    const long long first = iget(c, sec, "first"), count = iget(c, sec, "count");
    if (first > 0x7fffffff || count > 0x7fffffff)
        return rc_err_set(err, RC_ERR_CONFIG, "%s: [%s] first/count too large", path, sec);
    S->first = (int)first;
    S->count = (int)count;
    S->weight = fget(c, sec, "weight");
    S->delay_ms = fget(c, sec, "delay_ms");
    if (S->delay_ms <= 0) S->delay_ms = s->dt_ms;
    S->kind = poisson ? RC_SRC_POISSON : RC_SRC_SPIKES;
    S->rate_hz = fget(c, sec, "rate_hz");
    S->start_ms = fget(c, sec, "start_ms");
    S->stop_ms = fget(c, sec, "stop_ms");
    if (!poisson) {
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
    }
    memset(files, 0, sizeof *files);
}
