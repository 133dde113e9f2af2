/* setup.c — from a config to what a run, an eval or `rcsim info` works on:
 * the checks that need no data, the data set, the network shape (one
 * function for run, eval and info, so they cannot disagree), the network,
 * the pinned thread pool and the engine. Nothing here trains or writes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "encoders/events.h"
#include "encoders/images.h"
#include "encoders/speech.h"
#include "encoders/spotting.h"
#include "encoders/twoseq.h"
#include "io/checkpoint.h"
#include "io/fsutil.h"
#include "io/idx.h"
#include "sim/comm.h"
#include "sim/topo.h"
#include "sim/app/app.h"
#include "sim/app/nir_app.h"
#include "sim/app/spec.h"

void openblas_set_num_threads(int);

/* ---- command-line flags and config checks -------------------------------- */

static const struct {
    const char *flag, *key, *expect; /* expect: NULL = keep the config's message */
} g_flags[] = {
    { "--seed", "sim.seed", "a non-negative integer" },
    { "--threads", "sim.threads", "an integer in [0, 4096]" },
    { "--placement", "sim.placement", "spread or compact" },
    { "--topology", "sim.topology", NULL },
    { "--out", "output.dir", NULL },
};

rc_status rc_app_cfg_flag(rc_cfg *cfg, const char *flag, const char *value, rc_err *err)
{
    for (size_t i = 0; i < sizeof g_flags / sizeof *g_flags; i++) {
        if (strcmp(flag, g_flags[i].flag)) continue;
        char buf[4200];
        snprintf(buf, sizeof buf, "%s=%s", g_flags[i].key, value);
        rc_status st = rc_cfg_set(cfg, buf, err);
        if (st && g_flags[i].expect) return rc_err_set(err, st, "%s %s: expected %s", flag, value, g_flags[i].expect);
        return st;
    }
    RC_ASSERT(!"rc_app_cfg_flag: unknown flag");
    return RC_ERR_USAGE;
}

/* output.trace_layers: each name must be a spiking population of the model:
 * an SNN's (sn) or, for the LSTM cores (sn = NULL), only "output". *bits
 * gets the hidden populations named (bit k = population k). */
static rc_status trace_layers(const rc_cfg *cfg, const char *cfg_path, const rc_lif_shape *sn, uint32_t *bits,
                              rc_err *err)
{
    const int npops = sn ? rc_lif_npops(sn) : 1;
    *bits = 0;
    for (const char *p = rc_cfg_get_str(cfg, "output.trace_layers"); *p;) {
        size_t len = strcspn(p, ",");
        const char *q = p;
        while (len && *q == ' ') { q++; len--; }
        while (len && q[len - 1] == ' ') len--;
        int found = -1;
        char names[512] = "", nm[32] = "output";
        for (int k = 0; k < npops; k++) {
            if (sn) rc_lif_pop_name(sn, k, nm, sizeof nm);
            if (strlen(nm) == len && !strncmp(q, nm, len)) found = k;
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? ", " : "", nm);
        }
        if (found < 0)
            return rc_err_set(err, RC_ERR_CONFIG, "%s: output.trace_layers names '%.*s', expected spiking populations of this model: %s",
                              cfg_path, (int)len, q, names);
        if (found < npops - 1 && found < 32) *bits |= 1u << found;
        p += strcspn(p, ",");
        if (*p) p++;
    }
    return rc_app_trace_keys(cfg, cfg_path, sn, err); /* the other output.trace_* keys */
}

/* eval without CFG: the config text stored in the checkpoint a->cfg_path. */
static rc_status load_stored_config(rc_cfg *cfg, const char *path, rc_err *err)
{
    char *text = NULL;
    rc_status st = rc_ckpt_read_string(path, "config", &text, err);
    if (st) return st;
    rc_err e2 = { "" };
    if (rc_cfg_load_string(cfg, path, text, &e2))
        st = rc_err_set(err, RC_ERR_DATA, "%s: its stored config does not parse: %s", path, e2.msg);
    else
        st = rc_cfg_forget_defaults(cfg, err); /* every key is stored; the chosen ones differ from the defaults */
    free(text);
    return st;
}

rc_status rc_app_apply_args(rc_cfg *cfg, const rc_run_args *a, rc_err *err)
{
    rc_status st = a->cfg_stored ? load_stored_config(cfg, a->cfg_path, err) : rc_cfg_load_file(cfg, a->cfg_path, err);
    if (st) return st;
    for (int i = 0; i < a->nset; i++)
        if ((st = rc_cfg_set(cfg, a->sets[i], err))) return st;
    if (a->seed && (st = rc_app_cfg_flag(cfg, "--seed", a->seed, err))) return st;
    if (a->threads && (st = rc_app_cfg_flag(cfg, "--threads", a->threads, err))) return st;
    if (a->model && !a->out) {
        /* eval: DIR/eval beside the model (never the run's own traces.h5). */
        char dir[4200];
        const char *slash = strrchr(a->model, '/');
        if (slash) snprintf(dir, sizeof dir, "%.*s/eval", (int)(slash - a->model), a->model);
        else snprintf(dir, sizeof dir, "eval");
        if ((st = rc_app_cfg_flag(cfg, "--out", dir, err))) return st;
    }
    if (a->out && (st = rc_app_cfg_flag(cfg, "--out", a->out, err))) return st;
    if ((st = rc_cfg_check_required(cfg, err))) return st;
    /* A stored config lists every key (set or not): it was checked by its run. */
    return a->cfg_stored ? RC_OK : rc_app_check_task_keys(cfg, a->cfg_path, err);
}

/* model.type = snn over an input that is not an image (what: the task's
 * input): a first conv layer is the error, named before any data is read. */
static rc_status snn_needs_image(const char *cfg_path, const char *layers, const char *what, rc_err *err)
{
    const char *p = layers + strspn(layers, " ,");
    const int len = (int)strcspn(p, " ,");
    if (strncmp(p, "conv", 4)) return RC_OK;
    return rc_err_set(err, RC_ERR_CONFIG, "%s: model.layers = %s: the first layer '%.*s' is a conv layer and needs an "
                      "image input (task.name = tmnist, or events with task.shape), but %s; expected fc layers only (e.g. model.layers = fc128 fcK, "
                      "K the number of classes)", cfg_path, layers, len, p, what);
}

static rc_status generator_epochs(const char *cfg_path, const char *task, rc_err *err)
{
    return rc_err_set(err, RC_ERR_CONFIG, "%s: train.epochs has no effect with task.name = %s (a generator: every "
                      "example is new, there are no epochs); expected train.examples instead", cfg_path, task);
}

/* rcsim run: the run's length is train.epochs (> 0, finite data sets) or
 * train.examples, never both. */
static rc_status run_length_keys(const rc_cfg *cfg, const char *cfg_path, rc_err *err)
{
    const double ep = rc_cfg_get_float(cfg, "train.epochs");
    const char *task = rc_cfg_get_str(cfg, "task.name");
    if (ep > 0 && (!strcmp(task, "spotting") || !strcmp(task, "twoseq")))
        return generator_epochs(cfg_path, task, err);
    if (rc_cfg_is_set(cfg, "train.examples") && ep > 0)
        return rc_err_set(err, RC_ERR_CONFIG, "%s: train.examples = %lld has no effect with train.epochs = %g (> 0 sets "
                          "the run's length); expected one of them: drop train.examples, or set train.epochs = 0 to "
                          "train on train.examples examples", cfg_path, rc_cfg_get_int(cfg, "train.examples"), ep);
    return RC_OK;
}

rc_status rc_app_configure(rc_cfg *cfg, const rc_run_args *a, rc_err *err)
{
    rc_status st = rc_app_apply_args(cfg, a, err);
    if (st) return st;
    if (!a->model && (st = run_length_keys(cfg, a->cfg_path, err))) return st;
    if (rc_cfg_get_float(cfg, "task.sigma_min") > rc_cfg_get_float(cfg, "task.sigma_max"))
        return rc_err_set(err, RC_ERR_CONFIG, "%s: task.sigma_min = %g is larger than task.sigma_max = %g, expected sigma_min <= sigma_max",
                          a->cfg_path, rc_cfg_get_float(cfg, "task.sigma_min"), rc_cfg_get_float(cfg, "task.sigma_max"));
    if ((st = rc_app_nir_check_keys(cfg, a->cfg_path, err))) return st;
    const int conv = !strcmp(rc_cfg_get_str(cfg, "model.type"), "convlstm");
    const int snn = !strcmp(rc_cfg_get_str(cfg, "model.type"), "snn");
    /* An SNN's populations are checked once its layers are parsed (rc_app_shape). */
    uint32_t bits;
    if (!snn && (st = trace_layers(cfg, a->cfg_path, NULL, &bits, err))) return st;
    const char *task = rc_cfg_get_str(cfg, "task.name");
    if (snn && !strcmp(rc_cfg_get_str(cfg, "model.nir"), "none") &&  /* a NIR file's input is checked when it is read */
        (!strcmp(task, "spotting") || !strcmp(task, "twoseq") || !strcmp(task, "speech"))) {
        char what[96];
        snprintf(what, sizeof what, "task.name = %s gives a vector per step", task);
        if ((st = snn_needs_image(a->cfg_path, rc_cfg_get_str(cfg, "model.layers"), what, err))) return st;
    }
    if (!conv && !snn && rc_cfg_get_int(cfg, "model.hidden") < 1)
        return rc_err_set(err, RC_ERR_CONFIG, "%s: missing required key model.hidden (LSTM hidden units, >= 1)", a->cfg_path);
    const int events_img = !strcmp(rc_cfg_get_str(cfg, "task.name"), "events") && rc_cfg_is_set(cfg, "task.shape");
    if (conv && strcmp(rc_cfg_get_str(cfg, "task.name"), "tmnist") && !events_img)
        return rc_err_set(err, RC_ERR_CONFIG, "%s: model.type = convlstm needs image input (task.name = tmnist, or "
                          "events with task.shape), found task.name = %s", a->cfg_path, rc_cfg_get_str(cfg, "task.name"));
    if (conv && rc_cfg_get_int(cfg, "model.kernel") % 2 == 0)
        return rc_err_set(err, RC_ERR_CONFIG, "%s: model.kernel = %lld, expected an odd size (same padding)",
                          a->cfg_path, rc_cfg_get_int(cfg, "model.kernel"));
    /* sim.topology plans for other machines (rcsim info); a run always runs
     * here, but a bad value is still a config error. */
    const char *topo_desc = rc_cfg_get_str(cfg, "sim.topology");
    if (strcmp(topo_desc, "host")) {
        rc_topo *topo = NULL;
        rc_err terr = { "" };
        if ((st = rc_topo_new(&topo, topo_desc, "sim.topology", &terr)))
            return rc_err_set(err, st, "%s: %s", a->cfg_path, terr.msg);
        if (!rc_topo_is_host(topo))
            fprintf(stderr, "rcsim: note: sim.topology = %s is for planning (rcsim info); this %s runs on this machine\n",
                    topo_desc, a->model ? "eval" : "run");
        rc_topo_free(topo);
    }
    long long head[RC_NET_MAX_HEAD + 1];
    size_t nh = rc_cfg_get_int_list(cfg, "model.head", head, RC_NET_MAX_HEAD + 1);
    if (nh > RC_NET_MAX_HEAD)
        return rc_err_set(err, RC_ERR_CONFIG, "%s: model.head has %zu layers, expected at most %d",
                          a->cfg_path, nh, RC_NET_MAX_HEAD);
    return RC_OK;
}

/* ---- the network shape -------------------------------------------------- */

/* model.type = snn: the LIF layers from model.layers over the data set's
 * input (an image for conv layers) and the traced populations. */
static rc_status snn_shape(const rc_cfg *cfg, const char *cfg_path, const rc_dataset *ds, rc_net_shape *shape,
                           char *desc, size_t cap, uint32_t *trace_pops, rc_err *err)
{
    rc_lif_shape *sn = &shape->snn;
    char msg[512];
    const int img = ds->rows > 0 && ds->cols > 0;
    const int nir = strcmp(rc_cfg_get_str(cfg, "model.nir"), "none") != 0; /* V_th, tau, reset, bias and layers from the file */
    if (!img && !nir) {
        snprintf(msg, sizeof msg, "task %s gives %d inputs per step, not an image", ds->name, ds->nin);
        rc_status st = snn_needs_image(cfg_path, rc_cfg_get_str(cfg, "model.layers"), msg, err);
        if (st) return st;
    }
    if (nir) {
        rc_status st = rc_app_nir_load(cfg, cfg_path, img ? 1 : ds->nin, img ? ds->rows : 1, img ? ds->cols : 1, sn, NULL, err);
        if (st) return st;
    } else if (rc_lif_parse(sn, rc_cfg_get_str(cfg, "model.layers"), img ? 1 : ds->nin, img ? ds->rows : 1,
                            img ? ds->cols : 1, msg, sizeof msg))
        return rc_err_set(err, RC_ERR_CONFIG, "%s: model.layers = %s: %s", cfg_path,
                          rc_cfg_get_str(cfg, "model.layers"), msg);
    const rc_lif_layer *out = &sn->L[sn->nl - 1];
    if (out->cout != ds->nclass)
        return rc_err_set(err, RC_ERR_CONFIG, "%s: %s ends with fc%d, expected fc%d (one output neuron per class of task %s)",
                          cfg_path, nir ? "the network of model.nir" : "model.layers", out->cout, ds->nclass, ds->name);
    if (!nir) {
        sn->vth = (float)rc_cfg_get_float(cfg, "model.v_th");
        sn->tau = (float)rc_cfg_get_float(cfg, "model.tau");
        sn->reset = !strcmp(rc_cfg_get_str(cfg, "model.reset"), "subtract") ? RC_RESET_SUB : RC_RESET_MULT;
        sn->bias = rc_cfg_get_bool(cfg, "model.bias");
    }
    sn->lens = (float)rc_cfg_get_float(cfg, "model.lens");
    const char *sg = rc_cfg_get_str(cfg, "model.surrogate");
    sn->surr = !strcmp(sg, "fastsigmoid") ? RC_LIF_SURR_FASTSIG : !strcmp(sg, "atan") ? RC_LIF_SURR_ATAN : RC_LIF_SURR_RECT;
    rc_status st = rc_app_snn_keys(cfg, cfg_path, sn, err);
    if (st) return st;
    uint32_t bits;
    st = trace_layers(cfg, cfg_path, sn, &bits, err);
    if (st) return st;
    if (trace_pops) *trace_pops = bits;
    shape->core = RC_CORE_LIF;
    shape->K = ds->nclass;
    shape->nhead = 0;
    /* H: the population before the output, whose potentials traces.h5
     * records (rc_lif_forward's uhid): the last layer before it that is not
     * a pool (conv pool2 fcK has the conv's neurons there, not 0). */
    int lh = sn->nl - 2;
    while (lh >= 0 && sn->L[lh].kind == RC_LIF_POOL) lh--;
    shape->H = lh >= 0 ? rc_lif_neurons(sn, lh) : ds->nclass;
    char ld[160];
    rc_lif_describe(sn, ld, sizeof ld);
    snprintf(desc, cap, "snn %s in=%dx%dx%d", ld, sn->L[0].cin, sn->L[0].hin, sn->L[0].win);
    return RC_OK;
}

rc_status rc_app_shape(const rc_cfg *cfg, const char *cfg_path, const rc_dataset *ds, rc_net_shape *shape,
                       char *desc, size_t cap, uint32_t *trace_pops, rc_err *err)
{
    *shape = (rc_net_shape){ .nin = ds->nin, .H = (int)rc_cfg_get_int(cfg, "model.hidden"),
                             .K = ds->nclass == 2 ? 1 : ds->nclass };
    if (trace_pops) *trace_pops = 0;
    long long head[RC_NET_MAX_HEAD];
    shape->nhead = (int)rc_cfg_get_int_list(cfg, "model.head", head, RC_NET_MAX_HEAD);
    int off;
    if (!strcmp(rc_cfg_get_str(cfg, "model.type"), "snn")) {
        rc_status st = snn_shape(cfg, cfg_path, ds, shape, desc, cap, trace_pops, err);
        if (st) return st;
        off = (int)strlen(desc);
    } else if (!strcmp(rc_cfg_get_str(cfg, "model.type"), "convlstm")) {
        shape->core = RC_CORE_CONVLSTM;
        shape->conv = (rc_convlstm_shape){ .C = (int)rc_cfg_get_int(cfg, "model.channels"), .Cin = 1,
                                           .Hh = ds->rows, .Ww = ds->cols, .k = (int)rc_cfg_get_int(cfg, "model.kernel") };
        const long long H64 = (long long)shape->conv.C * shape->conv.Hh * shape->conv.Ww;
        if (H64 > (1LL << 28))
            return rc_err_set(err, RC_ERR_CONFIG, "%s: model.channels = %d on %dx%d maps is %lld state units, more "
                              "than the %lld accepted; expected fewer channels", cfg_path, shape->conv.C,
                              shape->conv.Hh, shape->conv.Ww, H64, 1LL << 28);
        shape->H = (int)H64;
        off = snprintf(desc, cap, "convlstm C=%d k=%d map=%dx%d head=", shape->conv.C, shape->conv.k,
                       shape->conv.Hh, shape->conv.Ww);
    } else {
        off = snprintf(desc, cap, "lstm nin=%d hidden=%d head=", shape->nin, shape->H);
    }
    for (int l = 0; l < shape->nhead; l++) {
        shape->head[l] = (int)head[l];
        off += snprintf(desc + off, cap - (size_t)off, "%s%d", l ? "," : "", shape->head[l]);
    }
    if (shape->core != RC_CORE_LIF) snprintf(desc + off, cap - (size_t)off, " outputs=%d", shape->K);
    return RC_OK;
}

/* ---- memory ------------------------------------------------------------- */

/* Parameters of a shape (as rc_net_new lays them out) and state units per
 * example per step, in 64-bit without allocating anything. */
static void shape_sizes(const rc_net_shape *s, double *nparams, double *units)
{
    double n = 0, u = 0;
    if (s->core == RC_CORE_LIF) {
        for (int l = 0; l < s->snn.nl; l++) {
            const rc_lif_layer *L = &s->snn.L[l];
            u += L->nout;
            if (L->kind == RC_LIF_CONV) n += (double)L->cin * L->k * L->k * L->cout + L->cout;
            else if (L->kind == RC_LIF_FC) n += (double)L->nin * L->cout + L->cout + (L->rec ? (double)L->cout * L->cout : 0) +
                                                 (L->rec && s->snn.learn_tau ? L->cout : 0);
        }
    } else {
        u = s->H;
        if (s->core == RC_CORE_CONVLSTM)
            n = (double)rc_convlstm_nwx(&s->conv) + (double)rc_convlstm_nwh(&s->conv) + (double)rc_convlstm_nb(&s->conv);
        else n = (double)s->nin * 4.0 * s->H + 4.0 * s->H * s->H + 8.0 * s->H;
        double in = s->H;
        for (int l = 0; l <= s->nhead; l++) {
            double out = l < s->nhead ? s->head[l] : s->K;
            n += in * out + out;
            in = out;
        }
    }
    *nparams = n;
    *units = u;
}

/* What a run needs at the least, against the memory of this machine, before
 * anything big is allocated: parameters, gradients, both Adam moments and the
 * kept best copy (5 x 4 bytes each); the per-step states of a batch (at least
 * 8 bytes per unit, step and example); the per-example results of the test
 * set kept for traces.h5 (or by eval). A config that cannot fit is a config
 * error naming the key that asks for the most, with the estimate. */
static rc_status check_memory(const rc_cfg *cfg, const char *cfg_path, const rc_net_shape *sh, const rc_dataset *ds,
                              int eval, rc_err *err)
{
    const double GiB = 1024.0 * 1024.0 * 1024.0;
    double nparams, units;
    shape_sizes(sh, &nparams, &units);
    const long long b = rc_cfg_get_int(cfg, "train.batch"), tb = rc_cfg_get_int(cfg, "test.batch");
    const double maxb = (double)(b > tb ? b : tb);
    long long ntest = rc_cfg_get_int(cfg, "test.size");
    if (ds->size[RC_SPLIT_TEST] > 0 && ntest > ds->size[RC_SPLIT_TEST]) ntest = ds->size[RC_SPLIT_TEST];
    const double need_p = nparams * 4.0 * 5.0, need_a = maxb * ds->T * units * 8.0;
    const double need_t = eval || rc_cfg_get_bool(cfg, "output.traces") ? (double)ntest * sizeof(rc_example_result) : 0;
    const double need = need_p + need_a + need_t;
    const long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    const double have = pages > 0 && psz > 0 ? (double)pages * (double)psz : 0;
    if (have <= 0 || need <= have) return RC_OK;
    const char *key, *why, *fix;
    double part;
    if (need_t >= need_p && need_t >= need_a) {
        key = "test.size", part = need_t, why = "per-example test results", fix = "a smaller test.size (or output.traces = false)";
    } else if (need_a >= need_p) {
        key = b >= tb ? "train.batch" : "test.batch", part = need_a, why = "per-step states of a batch";
        fix = "a smaller batch or model";
    } else {
        key = sh->core == RC_CORE_LIF ? "model.layers" : sh->core == RC_CORE_CONVLSTM ? "model.channels" : "model.hidden";
        part = need_p, why = "parameters, gradients and Adam moments", fix = "a smaller model";
    }
    char val[64];
    if (!strcmp(key, "model.layers")) snprintf(val, sizeof val, "(%.4g parameters)", nparams);
    else snprintf(val, sizeof val, "= %lld", rc_cfg_get_int(cfg, key));
    return rc_err_set(err, RC_ERR_CONFIG, "%s: %s %s needs about %.1f GiB for the %s, %.1f GiB in all, more than the "
                      "%.1f GiB of memory here; expected %s", cfg_path, key, val, part / GiB, why, need / GiB,
                      have / GiB, fix);
}

rc_placement rc_app_placement(const rc_cfg *cfg)
{
    return strcmp(rc_cfg_get_str(cfg, "sim.placement"), "compact") ? RC_PLACE_SPREAD : RC_PLACE_COMPACT;
}

/* An engine team holds per engine a batch's per-step states once a
 * full-length pass has touched them (as check_memory, tb·T·units·8 bytes). */
rc_engine_team *rc_app_team(const rc_app_setup *S, rc_pool *pool)
{
    const int nth = rc_pool_nthreads(pool);
    double nparams, units;
    shape_sizes(&S->net->s, &nparams, &units);
    const double need = (double)nth * S->tbatch * S->T * units * 8.0;
    const long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    const double have = pages > 0 && psz > 0 ? (double)pages * (double)psz : 0;
    rc_err ignored;
    return nth > 1 && (have <= 0 || need <= have / 4) ? rc_engine_team_new(S->net, S->ds, pool, S->tbatch, &ignored)
                                                      : NULL;
}

/* ---- the whole setup ---------------------------------------------------- */

void rc_app_setup_free(rc_app_setup *S)
{
    free(S->best);
    free(S->res);
    free(S->idx);
    rc_engine_team_free(S->team);
    rc_engine_free(S->eng);
    rc_pool_free(S->pool);
    rc_net_free(S->net);
    rc_dataset_free(S->ds);
    rc_cfg_free(S->cfg);
    memset(S, 0, sizeof *S);
}

rc_status rc_app_setup_build(rc_app_setup *S, const rc_run_args *a, rc_err *err)
{
    rc_status st;
    memset(S, 0, sizeof *S);
    S->cfg = rc_cfg_new(rc_spec, rc_nspec);
    if (!S->cfg) return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    if ((st = rc_app_configure(S->cfg, a, err))) return st;
    const rc_cfg *cfg = S->cfg;
    S->seed = (uint64_t)rc_cfg_get_int(cfg, "sim.seed");
    S->task = rc_cfg_get_str(cfg, "task.name");
    S->spotting = !strcmp(S->task, "spotting");
    if ((st = rc_app_data_new(cfg, a->cfg_path, &S->ds, err))) return st;
    if (!a->model && rc_cfg_get_float(cfg, "train.epochs") > 0 && S->ds->size[RC_SPLIT_TRAIN] <= 0)
        return generator_epochs(a->cfg_path, S->task, err);
    S->T = S->ds->T;
    rc_net_shape shape;
    if ((st = rc_app_shape(cfg, a->cfg_path, S->ds, &shape, S->shape, sizeof S->shape, &S->trace_pops, err)))
        return st;
    if ((st = check_memory(cfg, a->cfg_path, &shape, S->ds, a->model != NULL, err))) return st;
    S->net = rc_net_new(&shape, S->seed);
    if (!S->net) return rc_err_set(err, RC_ERR_NOMEM, "out of memory creating the network");
    if (shape.core == RC_CORE_LIF && strcmp(rc_cfg_get_str(cfg, "model.nir"), "none")) { /* weights from the NIR file */
        const int img = S->ds->rows > 0 && S->ds->cols > 0;
        rc_lif_shape sn;
        if ((st = rc_app_nir_load(cfg, a->cfg_path, img ? 1 : S->ds->nin, img ? S->ds->rows : 1, img ? S->ds->cols : 1,
                                  &sn, S->net->params, err)))
            return st;
    }
    /* Our threads are the only busy pool: the BLAS runs serially inside them. */
    openblas_set_num_threads(1);
    /* eval only evaluates (engine team, no barrier between threads): every
     * core, busy or not; a run trains, whose threads meet at every step:
     * one thread per idle core. */
    S->pool = (a->model ? rc_pool_new_every_core : rc_pool_new)((int)rc_cfg_get_int(cfg, "sim.threads"),
                                                                 rc_app_placement(cfg), err);
    if (!S->pool) return RC_ERR_NOMEM;
    /* The warning's advice (fewer threads) is for training; eval's threads
     * do not wait for each other. */
    if (!a->model) rc_app_load_warning(S->pool);
    S->batch = (int)rc_cfg_get_int(cfg, "train.batch");
    S->tbatch = (int)rc_cfg_get_int(cfg, "test.batch");
    const int maxb = S->batch > S->tbatch ? S->batch : S->tbatch;
    S->eng = rc_engine_new(S->net, S->ds, S->pool, maxb, err);
    if (!S->eng) return RC_ERR_NOMEM;
    S->team = rc_app_team(S, S->pool);
    S->best = malloc(S->net->nparams * sizeof *S->best);
    S->res = calloc((size_t)maxb, sizeof *S->res);
    S->idx = calloc((size_t)maxb, sizeof *S->idx);
    if (!S->best || !S->res || !S->idx) return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    memcpy(S->best, S->net->params, S->net->nparams * sizeof *S->best);
    S->eos = !strcmp(rc_cfg_get_str(cfg, "train.mode"), "eos");
    S->theta = rc_cfg_get_float(cfg, "train.threshold");
    S->beta = rc_cfg_get_float(cfg, "train.beta");
    /* Only the LSTM reads them (task_keys.c refuses them set elsewhere). */
    S->delta_x = rc_cfg_get_float(cfg, "model.delta_x");
    S->delta_h = rc_cfg_get_float(cfg, "model.delta_h");
    S->delta_l1 = rc_cfg_get_float(cfg, "train.delta_l1");
    return RC_OK;
}

int64_t rc_app_split_count(const rc_app_setup *S, rc_split split, int64_t want)
{
    const int64_t have = S->ds->size[split];
    return have > 0 && want > have ? have : want;
}

rc_status rc_run_numa_check(const rc_run_args *a, int *mismatches, rc_err *err)
{
    rc_app_setup S;
    rc_status st = rc_app_setup_build(&S, a, err);
    if (!st) *mismatches = rc_engine_numa_check(S.eng, stdout);
    rc_app_setup_free(&S);
    return st;
}

void rc_app_load_warning(const rc_pool *pool)
{
    char warn[320];
    /* At a terminal, or asked for (RCSIM_LOAD_WARNING=1): scripts that read
     * stderr get only what they expect. Rank 0 only. */
    const char *lw = getenv("RCSIM_LOAD_WARNING");
    if (rc_comm_rank() == 0 && (lw ? !strcmp(lw, "1") : isatty(STDERR_FILENO)) &&
        rc_pool_load_warning(pool, NULL, warn, sizeof warn))
        fprintf(stderr, "%s\n", warn);
}
