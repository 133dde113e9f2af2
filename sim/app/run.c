/* run.c — `rcsim run`: the experiment driver.
 *
 * Order of events, chosen so that bad input never leaves files behind:
 *   1. read the config, apply --set/--seed/--threads/--out, validate all
 *      (RC_ERR_CONFIG, nothing written yet);
 *   2. build data, network, thread pool, engine;
 *   3. create the run folder; train, validating every val_every batches
 *      (one metrics.csv row each) and keeping the best model;
 *   4. test the kept model with RC-inference (timed) and a full-length pass;
 *   5. write summary.json atomically.
 * Numbers are identical for any thread count: data, init and every reduction
 * are fixed-order (see engine.c, models/lstm.h). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "base/clock.h"
#include "encoders/dataset.h"
#include "io/cfg.h"
#include "io/checkpoint.h"
#include "io/fsutil.h"
#include "io/idx.h"
#include "io/traces.h"
#include "base/strbuf.h"
#include "models/net.h"
#include "sim/engine.h"
#include "sim/metrics.h"
#include "sim/pool.h"
#include "sim/topo.h"
#include "base/rng.h"
#include "sim/app/network_cfg.h"
#include "sim/app/run.h"
#include "sim/app/spec.h"

void openblas_set_num_threads(int);

/* ---- progress ----------------------------------------------------------- */

typedef struct {
    int mode;            /* 0 off, 1 line (terminal), 2 log lines */
    double every, last, t0;
    int drawn;
} progress;

static void progress_init(progress *p, const char *how, double every)
{
    memset(p, 0, sizeof *p);
    p->every = every;
    if (!strcmp(how, "off")) p->mode = 0;
    else if (!strcmp(how, "line")) p->mode = 1;
    else if (!strcmp(how, "log")) p->mode = 2;
    else p->mode = isatty(2) ? 1 : 2;
    p->t0 = p->last = rc_now_s();
}

static void fmt_eta(char *buf, size_t cap, double s)
{
    if (!(s >= 0) || s > 1e7) snprintf(buf, cap, "?");
    else if (s >= 3600) snprintf(buf, cap, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else snprintf(buf, cap, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
}

static void progress_show(progress *p, int64_t done, int64_t total, double ex_s,
                          double loss, double val_acc, double tsp, int force)
{
    if (!p->mode) return;
    double t = rc_now_s();
    if (!force && t - p->last < (p->mode == 1 ? 0.2 : p->every)) return;
    p->last = t;
    char eta[32];
    fmt_eta(eta, sizeof eta, ex_s > 0 ? (double)(total - done) / ex_s : -1);
    char line[256];
    snprintf(line, sizeof line,
             "train %lld/%lld (%.0f%%)  %.0f ex/s  loss %.4f  val acc %.4f  mean t_sp %.2f  ETA %s",
             (long long)done, (long long)total, 100.0 * (double)done / (double)total, ex_s,
             loss, val_acc, tsp, eta);
    if (p->mode == 1) {
        fprintf(stderr, "\r%-110s", line);
        p->drawn = 1;
    } else {
        fprintf(stderr, "[%7.1fs] %s\n", t - p->t0, line);
    }
    fflush(stderr);
}

static void progress_end(progress *p)
{
    if (p->mode == 1 && p->drawn) fprintf(stderr, "\n");
    p->drawn = 0;
}

/* ---- evaluation --------------------------------------------------------- */

typedef struct {
    rc_engine *eng;
    const rc_dataset *ds;
    int batch;
    double threshold;
    int spotting;
    rc_example_result *res;   /* (batch) */
    int64_t *idx;             /* (batch) */
    rc_example_result *keep;  /* optional (count): every example's result, kept
                                 for traces.h5 so no second pass is needed     */
    rc_metrics_acc *acc_out;  /* optional: the accumulator (per-class counts)  */
    double vscale;            /* SNN: output V_th multiplier (0 = 1)          */
    int64_t synops;           /* SNN: synaptic events of the last evaluate()  */
} evaluator;

/* Runs `count` examples of a split with RC-inference (stop_at_spike = 1) or a
 * full-length pass; fills m and returns the steps computed. */
static rc_status evaluate(evaluator *ev, rc_split split, int64_t count, int stop,
                          rc_metrics *m, int64_t *rows, double *secs, rc_err *err)
{
    rc_metrics_acc acc;
    rc_metrics_init(&acc, ev->ds->T, ev->spotting);
    rc_batch_opts o = { .train = 0, .stop_at_spike = stop, .loss_at_end = 0,
                        .threshold = ev->threshold, .beta = 0, .vth_scale = ev->vscale };
    int64_t total_rows = 0;
    ev->synops = 0;
    double t0 = rc_now_s();
    for (int64_t i = 0; i < count; i += ev->batch) {
        int n = (int)(count - i < ev->batch ? count - i : ev->batch);
        for (int j = 0; j < n; j++) ev->idx[j] = i + j;
        int64_t r = 0;
        rc_status st = rc_engine_batch(ev->eng, split, ev->idx, n, &o, ev->res, &r, err);
        if (st) return st;
        total_rows += r;
        rc_metrics_add(&acc, ev->res, n);
        for (int j = 0; j < n; j++) ev->synops += ev->res[j].synops;
        if (ev->keep) memcpy(ev->keep + i, ev->res, (size_t)n * sizeof *ev->res);
    }
    if (secs) *secs = rc_now_s() - t0;
    if (rows) *rows = total_rows;
    rc_metrics_finish(&acc, m);
    if (ev->acc_out) *ev->acc_out = acc;
    return RC_OK;
}

/* ---- summary.json ------------------------------------------------------- */

static void json_metrics(rc_strbuf *b, const rc_metrics *m, const char *ind, double dt_ms)
{
    rc_sb_printf(b, "%s\"examples\": %lld,\n", ind, (long long)m->n);
    rc_sb_printf(b, "%s\"accuracy\": ", ind); rc_sb_json_num(b, m->accuracy);
    rc_sb_printf(b, ",\n%s\"mean_spike_step\": ", ind); rc_sb_json_num(b, m->mean_spike_step);
    rc_sb_printf(b, ",\n%s\"mean_spike_ms\": ", ind); rc_sb_json_num(b, m->mean_spike_step * dt_ms);
    rc_sb_printf(b, ",\n%s\"mean_spike_fraction\": ", ind); rc_sb_json_num(b, m->mean_spike_fraction);
    rc_sb_printf(b, ",\n%s\"no_spike_fraction\": ", ind); rc_sb_json_num(b, m->no_spike_fraction);
    rc_sb_printf(b, ",\n%s\"spike_step_p10\": ", ind); rc_sb_json_num(b, m->tsp_p10);
    rc_sb_printf(b, ",\n%s\"spike_step_p50\": ", ind); rc_sb_json_num(b, m->tsp_p50);
    rc_sb_printf(b, ",\n%s\"spike_step_p90\": ", ind); rc_sb_json_num(b, m->tsp_p90);
    if (m->has_end) {
        rc_sb_printf(b, ",\n%s\"accuracy_at_end\": ", ind);
        rc_sb_json_num(b, m->accuracy_at_end);
    }
    if (m->has_earliest) {
        rc_sb_printf(b, ",\n%s\"earliest_fraction\": ", ind); rc_sb_json_num(b, m->earliest_fraction);
        rc_sb_printf(b, ",\n%s\"early_false_positive_fraction\": ", ind);
        rc_sb_json_num(b, m->early_false_positive_fraction);
    }
}

/* Per-class RC-inference accuracy and spike time, and the confusion matrix
 * (rows: true class, columns: the class of the first spike; without a
 * spike, the class at the last step), for tasks with more than two classes. */
static void json_classes(rc_strbuf *b, const rc_metrics_acc *a, const rc_dataset *ds, double dt_ms)
{
    const int K = ds->nclass < RC_METRICS_MAX_CLASS ? ds->nclass : RC_METRICS_MAX_CLASS;
    if (K <= 2) return;
    rc_sb_printf(b, ",\n    \"per_class\": [");
    for (int c = 0; c < K; c++) {
        char dflt[16];
        snprintf(dflt, sizeof dflt, "%d", c);
        const double n = (double)a->cls_n[c];
        rc_sb_printf(b, "%s\n      { \"class\": ", c ? "," : "");
        rc_sb_json_str(b, ds->class_names ? ds->class_names[c] : dflt);
        rc_sb_printf(b, ", \"examples\": %lld, \"accuracy\": ", (long long)a->cls_n[c]);
        rc_sb_json_num(b, n > 0 ? (double)a->cls_correct[c] / n : 0);
        rc_sb_printf(b, ", \"mean_spike_step\": "); rc_sb_json_num(b, n > 0 ? a->cls_sum_tsp[c] / n : 0);
        rc_sb_printf(b, ", \"mean_spike_ms\": "); rc_sb_json_num(b, n > 0 ? a->cls_sum_tsp[c] / n * dt_ms : 0);
        rc_sb_printf(b, " }");
    }
    rc_sb_printf(b, "\n    ],\n    \"confusion\": {\n      \"classes\": [");
    for (int c = 0; c < K; c++) {
        char dflt[16];
        snprintf(dflt, sizeof dflt, "%d", c);
        rc_sb_printf(b, "%s", c ? ", " : "");
        rc_sb_json_str(b, ds->class_names ? ds->class_names[c] : dflt);
    }
    rc_sb_printf(b, "],\n      \"rows_true_columns_predicted\": [");
    for (int r = 0; r < K; r++) {
        rc_sb_printf(b, "%s\n        [", r ? "," : "");
        for (int c = 0; c < K; c++) rc_sb_printf(b, "%s%lld", c ? ", " : "", (long long)a->confusion[r][c]);
        rc_sb_printf(b, "]");
    }
    rc_sb_printf(b, "\n      ]\n    }");
}

/* ---- SIGINT / SIGTERM: finish the batch, then stop cleanly -------------- */

static volatile sig_atomic_t g_signal;
static void on_signal(int sig) { g_signal = sig; }

/* ---- the run ------------------------------------------------------------ */

static rc_status configure(rc_cfg *cfg, const rc_run_args *a, rc_err *err)
{
    rc_status st = rc_cfg_load_file(cfg, a->cfg_path, err);
    if (st) return st;
    for (int i = 0; i < a->nset; i++)
        if ((st = rc_cfg_set(cfg, a->sets[i], err))) return st;
    char buf[4200];
    if (a->seed) {
        snprintf(buf, sizeof buf, "sim.seed=%s", a->seed);
        if ((st = rc_cfg_set(cfg, buf, err))) return rc_err_set(err, st, "--seed %s: expected a non-negative integer", a->seed);
    }
    if (a->threads) {
        snprintf(buf, sizeof buf, "sim.threads=%s", a->threads);
        if ((st = rc_cfg_set(cfg, buf, err))) return rc_err_set(err, st, "--threads %s: expected an integer in [0, 4096]", a->threads);
    }
    if (a->model) {
        /* eval: the model's own folder is the default output folder. */
        if (!a->out) {
            const char *slash = strrchr(a->model, '/');
            if (slash) snprintf(buf, sizeof buf, "output.dir=%.*s", (int)(slash - a->model), a->model);
            else snprintf(buf, sizeof buf, "output.dir=.");
            if ((st = rc_cfg_set(cfg, buf, err))) return st;
        }
    }
    if (a->out) {
        snprintf(buf, sizeof buf, "output.dir=%s", a->out);
        if ((st = rc_cfg_set(cfg, buf, err))) return st;
    }
    if ((st = rc_cfg_check_required(cfg, err))) return st;
    if (rc_cfg_get_float(cfg, "task.sigma_min") > rc_cfg_get_float(cfg, "task.sigma_max"))
        return rc_err_set(err, RC_ERR_CONFIG, "%s: task.sigma_min = %g is larger than task.sigma_max = %g, expected sigma_min <= sigma_max",
                          a->cfg_path, rc_cfg_get_float(cfg, "task.sigma_min"), rc_cfg_get_float(cfg, "task.sigma_max"));
    /* Spiking populations this model has (an SNN's are checked against its
     * layers once they are parsed, in snn_shape). */
    const char *tl = rc_cfg_get_str(cfg, "output.trace_layers");
    for (const char *p = tl; *p && strcmp(rc_cfg_get_str(cfg, "model.type"), "snn");) {
        size_t len = strcspn(p, ",");
        const char *q = p;
        while (len && *q == ' ') { q++; len--; }
        while (len && q[len - 1] == ' ') len--;
        if (!(len == 6 && !strncmp(q, "output", 6)))
            return rc_err_set(err, RC_ERR_CONFIG, "%s: output.trace_layers names '%.*s', expected spiking populations of this model: output",
                              a->cfg_path, (int)len, q);
        p += strcspn(p, ",");
        if (*p) p++;
    }
    const int conv = !strcmp(rc_cfg_get_str(cfg, "model.type"), "convlstm");
    const int snn = !strcmp(rc_cfg_get_str(cfg, "model.type"), "snn");
    if (!conv && !snn && rc_cfg_get_int(cfg, "model.hidden") < 1)
        return rc_err_set(err, RC_ERR_CONFIG, "%s: missing required key model.hidden (LSTM hidden units, >= 1)", a->cfg_path);
    if (conv && strcmp(rc_cfg_get_str(cfg, "task.name"), "tmnist"))
        return rc_err_set(err, RC_ERR_CONFIG, "%s: model.type = convlstm needs image input (task.name = tmnist), found task.name = %s",
                          a->cfg_path, rc_cfg_get_str(cfg, "task.name"));
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

/* ---- everything a run or an eval builds from a config ------------------- */

typedef struct {
    rc_cfg *cfg;
    rc_dataset *ds;
    rc_net *net;
    rc_pool *pool;
    rc_engine *eng;
    rc_example_result *res;
    int64_t *idx;
    float *best;                 /* (nparams) the kept model                  */
    const char *task;
    uint64_t seed;
    int T, spotting, eos, batch, tbatch;
    double theta, beta;
    char shape[256];             /* model shape, stored in checkpoints        */
    uint32_t trace_pops;         /* SNN: hidden LIF populations traced (bits) */
} rc_setup;

static void setup_free(rc_setup *S)
{
    free(S->best);
    free(S->res);
    free(S->idx);
    rc_engine_free(S->eng);
    rc_pool_free(S->pool);
    rc_net_free(S->net);
    rc_dataset_free(S->ds);
    rc_cfg_free(S->cfg);
    memset(S, 0, sizeof *S);
}

static int is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The speech data set from the [task] and [encoder] keys. */
static rc_status speech_build(rc_setup *S, const char *cfg_path, rc_err *err)
{
    const rc_cfg *cfg = S->cfg;
    const char *dir = rc_cfg_get_str(cfg, "task.data_dir");
    const char *nd = rc_cfg_get_str(cfg, "task.noise_dir");
    const char *cd = rc_cfg_get_str(cfg, "task.cache_dir");
    const int silence = rc_cfg_get_bool(cfg, "task.silence");
    char noise[4200] = "";
    if (!is_dir(dir))
        return rc_err_set(err, RC_ERR_CONFIG, "%s: task.data_dir = %s is not a folder, expected a Speech Commands folder "
                                              "(<word>/*.wav, validation_list.txt, testing_list.txt)", cfg_path, dir);
    if (!strcmp(nd, "auto")) {
        snprintf(noise, sizeof noise, "%s/_background_noise_", dir);
        if (!is_dir(noise)) noise[0] = 0;
    } else if (strcmp(nd, "none")) {
        if (nd[0] == '/') snprintf(noise, sizeof noise, "%s", nd);
        else snprintf(noise, sizeof noise, "%s/%s", dir, nd);
        if (!is_dir(noise))
            return rc_err_set(err, RC_ERR_CONFIG, "%s: task.noise_dir = %s: %s is not a folder, expected WAV noise clips (or auto, none)",
                              cfg_path, nd, noise);
        char *a1 = realpath(noise, NULL), *a2 = NULL;
        char sil[4200];
        snprintf(sil, sizeof sil, "%s/_silence_", dir);
        a2 = realpath(sil, NULL);
        const int same = a1 && a2 && !strcmp(a1, a2);
        free(a1);
        free(a2);
        if (silence && same)
            return rc_err_set(err, RC_ERR_CONFIG, "%s: task.noise_dir = %s is the _silence_ class's folder while task.silence = true; "
                                                  "expected another noise folder (or none)", cfg_path, nd);
    }
    if (rc_cfg_get_float(cfg, "encoder.fmin_hz") >= rc_cfg_get_float(cfg, "encoder.fmax_hz"))
        return rc_err_set(err, RC_ERR_CONFIG, "%s: encoder.fmin_hz = %g is not below encoder.fmax_hz = %g", cfg_path,
                          rc_cfg_get_float(cfg, "encoder.fmin_hz"), rc_cfg_get_float(cfg, "encoder.fmax_hz"));
    rc_speech_opts o = {
        .data_dir = dir, .keywords = rc_cfg_get_str(cfg, "task.keywords"), .silence = silence,
        .silence_clips = rc_cfg_get_int(cfg, "task.silence_clips"),
        .cache_dir = strcmp(cd, "none") ? cd : NULL, .noise_dir = noise[0] ? noise : NULL,
        .time_shift_ms = rc_cfg_get_float(cfg, "task.time_shift_ms"),
        .noise_prob = rc_cfg_get_float(cfg, "task.noise_prob"), .noise_volume = rc_cfg_get_float(cfg, "task.noise_volume"),
        .bands = (int)rc_cfg_get_int(cfg, "encoder.mel_bands"), .context = (int)rc_cfg_get_int(cfg, "encoder.context"),
        .fmin = rc_cfg_get_float(cfg, "encoder.fmin_hz"), .fmax = rc_cfg_get_float(cfg, "encoder.fmax_hz"),
        .quiet = !strcmp(rc_cfg_get_str(cfg, "output.progress"), "off"),
    };
    rc_status st = rc_speech_new(&o, S->seed, &S->ds, err);
    if (st == RC_ERR_CONFIG) {
        char m[sizeof err->msg];
        snprintf(m, sizeof m, "%s", err->msg);
        return rc_err_set(err, st, "%s: %s", cfg_path, m);
    }
    return st;
}

/* model.type = snn: the LIF layers from model.layers over the data set's
 * input (an image for conv layers), their parameters, and the shape string
 * checkpoints compare. Config errors name the key. */
static rc_status snn_shape(rc_setup *S, rc_net_shape *shape, const rc_run_args *a, rc_err *err)
{
    const rc_cfg *cfg = S->cfg;
    const rc_dataset *ds = S->ds;
    rc_lif_shape *sn = &shape->snn;
    char msg[512];
    const int img = ds->rows > 0 && ds->cols > 0;
    if (rc_lif_parse(sn, rc_cfg_get_str(cfg, "model.layers"), img ? 1 : ds->nin, img ? ds->rows : 1,
                     img ? ds->cols : 1, msg, sizeof msg))
        return rc_err_set(err, RC_ERR_CONFIG, "%s: model.layers = %s: %s", a->cfg_path,
                          rc_cfg_get_str(cfg, "model.layers"), msg);
    const rc_lif_layer *out = &sn->L[sn->nl - 1];
    if (out->cout != ds->nclass)
        return rc_err_set(err, RC_ERR_CONFIG, "%s: model.layers ends with fc%d, expected fc%d (one output neuron per class of task %s)",
                          a->cfg_path, out->cout, ds->nclass, ds->name);
    sn->vth = (float)rc_cfg_get_float(cfg, "model.v_th");
    sn->tau = (float)rc_cfg_get_float(cfg, "model.tau");
    sn->lens = (float)rc_cfg_get_float(cfg, "model.lens");
    const char *sg = rc_cfg_get_str(cfg, "model.surrogate");
    sn->surr = !strcmp(sg, "fastsigmoid") ? RC_LIF_SURR_FASTSIG : !strcmp(sg, "atan") ? RC_LIF_SURR_ATAN : RC_LIF_SURR_RECT;
    sn->reset = !strcmp(rc_cfg_get_str(cfg, "model.reset"), "subtract") ? RC_RESET_SUB : RC_RESET_MULT;
    sn->bias = rc_cfg_get_bool(cfg, "model.bias");
    /* output.trace_layers: "output" (first spikes) and hidden populations. */
    const char *tl = rc_cfg_get_str(cfg, "output.trace_layers");
    const int npops = rc_lif_npops(sn);
    for (const char *p = tl; *p;) {
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
            return rc_err_set(err, RC_ERR_CONFIG, "%s: output.trace_layers names '%.*s', expected spiking populations of this model: %s",
                              a->cfg_path, (int)len, q, names);
        if (found < npops - 1 && found < 32) S->trace_pops |= 1u << found;
        p += strcspn(p, ",");
        if (*p) p++;
    }
    shape->core = RC_CORE_LIF;
    shape->K = ds->nclass;
    shape->nhead = 0;
    shape->H = sn->nl >= 2 ? rc_lif_neurons(sn, sn->nl - 2) : ds->nclass;
    if (shape->H == 0) shape->H = ds->nclass; /* a pool before the output cannot happen (fc after pool is the rule) */
    char desc[160];
    rc_lif_describe(sn, desc, sizeof desc);
    snprintf(S->shape, sizeof S->shape, "snn %s in=%dx%dx%d", desc, sn->L[0].cin, sn->L[0].hin, sn->L[0].win);
    return RC_OK;
}

static rc_status setup_build(rc_setup *S, const rc_run_args *a, rc_err *err)
{
    rc_status st;
    memset(S, 0, sizeof *S);
    S->cfg = rc_cfg_new(rc_spec, rc_nspec);
    if (!S->cfg) return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    if ((st = configure(S->cfg, a, err))) return st;
    rc_cfg *cfg = S->cfg;
    S->seed = (uint64_t)rc_cfg_get_int(cfg, "sim.seed");
    S->task = rc_cfg_get_str(cfg, "task.name");
    int T = (int)rc_cfg_get_int(cfg, "task.steps");
    S->spotting = !strcmp(S->task, "spotting");
    if (!strcmp(S->task, "tmnist")) {
        rc_idx tri = { 0 }, trl = { 0 }, tei = { 0 }, tel = { 0 };
        const char *dir = rc_cfg_get_str(cfg, "task.data_dir");
        if ((st = rc_idx_read_set(dir, "train", 10, &tri, &trl, err)) ||
            (st = rc_idx_read_set(dir, "t10k", 10, &tei, &tel, err))) {
            rc_idx_free(&tri); rc_idx_free(&trl); rc_idx_free(&tei); rc_idx_free(&tel);
            return st;
        }
        const int64_t nval = rc_cfg_get_int(cfg, "task.validation");
        if (nval >= (int64_t)tri.count || tri.rows != tei.rows || tri.cols != tei.cols) {
            rc_status e2 = rc_err_set(err, RC_ERR_CONFIG, "%s: task.validation = %lld must be smaller than the %u training images in %s (and train/test image sizes must agree)",
                                      a->cfg_path, (long long)nval, tri.count, dir);
            rc_idx_free(&tri); rc_idx_free(&trl); rc_idx_free(&tei); rc_idx_free(&tel);
            return e2;
        }
        if (!strcmp(rc_cfg_get_str(cfg, "encoder.type"), "rate"))
            S->ds = rc_rate_new(S->seed, (int)rc_cfg_get_int(cfg, "encoder.steps"), (int)(tri.rows * tri.cols), 10,
                                tri.data, trl.data, tri.count, nval, tei.data, tel.data, tei.count);
        else
            S->ds = rc_latency_new(S->seed, (int)rc_cfg_get_int(cfg, "encoder.steps"),
                                   !strcmp(rc_cfg_get_str(cfg, "encoder.zero"), "last"),
                                   (int)(tri.rows * tri.cols), 10, tri.data, trl.data, tri.count, nval,
                                   tei.data, tel.data, tei.count);
        if (S->ds) {
            S->ds->rows = (int)tri.rows;
            S->ds->cols = (int)tri.cols;
        }
    } else if (!strcmp(S->task, "speech")) {
        if ((st = speech_build(S, a->cfg_path, err))) return st;
    } else if (S->spotting)
        S->ds = rc_spotting_new(S->seed, T ? T : 25, (int)rc_cfg_get_int(cfg, "task.run_length"));
    else
        S->ds = rc_twoseq_new(S->seed, T ? T : 40, rc_cfg_get_float(cfg, "task.mean"),
                              rc_cfg_get_float(cfg, "task.sigma_min"), rc_cfg_get_float(cfg, "task.sigma_max"));
    if (!S->ds) return rc_err_set(err, RC_ERR_NOMEM, "out of memory creating the data set");
    S->T = S->ds->T;
    rc_net_shape shape = { .nin = S->ds->nin, .H = (int)rc_cfg_get_int(cfg, "model.hidden"),
                           .K = S->ds->nclass == 2 ? 1 : S->ds->nclass };
    long long head[RC_NET_MAX_HEAD];
    shape.nhead = (int)rc_cfg_get_int_list(cfg, "model.head", head, RC_NET_MAX_HEAD);
    int off;
    if (!strcmp(rc_cfg_get_str(cfg, "model.type"), "snn")) {
        if ((st = snn_shape(S, &shape, a, err))) return st;
        off = (int)strlen(S->shape);
    } else if (!strcmp(rc_cfg_get_str(cfg, "model.type"), "convlstm")) {
        shape.core = RC_CORE_CONVLSTM;
        shape.conv = (rc_convlstm_shape){ .C = (int)rc_cfg_get_int(cfg, "model.channels"), .Cin = 1,
                                          .Hh = S->ds->rows, .Ww = S->ds->cols,
                                          .k = (int)rc_cfg_get_int(cfg, "model.kernel") };
        shape.H = shape.conv.C * shape.conv.Hh * shape.conv.Ww;
        off = snprintf(S->shape, sizeof S->shape, "convlstm C=%d k=%d map=%dx%d head=", shape.conv.C,
                       shape.conv.k, shape.conv.Hh, shape.conv.Ww);
    } else {
        off = snprintf(S->shape, sizeof S->shape, "lstm nin=%d hidden=%d head=", shape.nin, shape.H);
    }
    for (int l = 0; l < shape.nhead; l++) {
        shape.head[l] = (int)head[l];
        off += snprintf(S->shape + off, sizeof S->shape - (size_t)off, "%s%d", l ? "," : "", shape.head[l]);
    }
    if (shape.core != RC_CORE_LIF)
        snprintf(S->shape + off, sizeof S->shape - (size_t)off, " outputs=%d", shape.K);
    S->net = rc_net_new(&shape, S->seed);
    if (!S->net) return rc_err_set(err, RC_ERR_NOMEM, "out of memory creating the network");
    /* Our threads are the only busy pool: the BLAS runs serially inside them. */
    openblas_set_num_threads(1);
    S->pool = rc_pool_new((int)rc_cfg_get_int(cfg, "sim.threads"),
                          strcmp(rc_cfg_get_str(cfg, "sim.placement"), "compact") ? RC_PLACE_SPREAD : RC_PLACE_COMPACT, err);
    if (!S->pool) return RC_ERR_NOMEM;
    S->batch = (int)rc_cfg_get_int(cfg, "train.batch");
    S->tbatch = (int)rc_cfg_get_int(cfg, "test.batch");
    const int maxb = S->batch > S->tbatch ? S->batch : S->tbatch;
    S->eng = rc_engine_new(S->net, S->ds, S->pool, maxb, err);
    if (!S->eng) return RC_ERR_NOMEM;
    S->best = malloc(S->net->nparams * sizeof *S->best);
    S->res = calloc((size_t)maxb, sizeof *S->res);
    S->idx = calloc((size_t)maxb, sizeof *S->idx);
    if (!S->best || !S->res || !S->idx) return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    memcpy(S->best, S->net->params, S->net->nparams * sizeof *S->best);
    S->eos = !strcmp(rc_cfg_get_str(cfg, "train.mode"), "eos");
    S->theta = rc_cfg_get_float(cfg, "train.threshold");
    S->beta = rc_cfg_get_float(cfg, "train.beta");
    return RC_OK;
}

/* The config as INI text without the keys that may change between a run and
 * its resume or eval (length of training, output, threads). Two configs with
 * equal fingerprints train the same model (a resume to another length is
 * checked separately: see ckpt_load). */
static char *config_fingerprint(const char *ini)
{
    static const char *skip[] = { "train.examples", "train.epochs", "output.", "test.", "sim.threads", "sim.placement",
                                  "sim.topology", "sim.dt_ms", "task.cache_dir", NULL };
    size_t n = strlen(ini);
    char *out = malloc(n + 1), sec[128] = "";
    if (!out) return NULL;
    size_t o = 0;
    const char *p = ini;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)(len < 1023 ? len : 1023), p);
        int keep = 1;
        if (line[0] == '[') {
            snprintf(sec, sizeof sec, "%.*s", (int)strcspn(line + 1, "]"), line + 1);
        } else if (line[0] && line[0] != '#') {
            char full[300];
            snprintf(full, sizeof full, "%s.%.*s", sec, (int)strcspn(line, " ="), line);
            for (int i = 0; skip[i]; i++)
                if (!strncmp(full, skip[i], strlen(skip[i]))) keep = 0;
        }
        if (keep) {
            memcpy(out + o, p, len);
            o += len;
            out[o++] = '\n';
        }
        p += len + (e ? 1 : 0);
    }
    out[o] = 0;
    return out;
}

/* ---- training state and checkpoints ------------------------------------- */

typedef struct {
    int64_t batch;            /* training batches done                      */
    int64_t trained;          /* training examples done                     */
    int64_t train_rows;       /* LSTM row-steps computed in training        */
    int64_t best_batch;
    int64_t tacc_n, tacc_correct;
    double tacc_sum_tsp, tacc_sum_loss;
    double best_score, train_time;
    rc_metrics best_val;
    int64_t bv_has_end, bv_has_earliest;  /* best_val's flags, as int64 for the file */
} train_state;

#define CK_REALS(X)                                                                  \
    X(tacc_sum_tsp, st->tacc_sum_tsp) X(tacc_sum_loss, st->tacc_sum_loss)            \
    X(best_score, st->best_score) X(train_time, st->train_time)                      \
    X(bv_accuracy, st->best_val.accuracy) X(bv_mean_spike_step, st->best_val.mean_spike_step) \
    X(bv_mean_spike_fraction, st->best_val.mean_spike_fraction)                      \
    X(bv_no_spike_fraction, st->best_val.no_spike_fraction)                          \
    X(bv_accuracy_at_end, st->best_val.accuracy_at_end)                              \
    X(bv_p10, st->best_val.tsp_p10) X(bv_p50, st->best_val.tsp_p50) X(bv_p90, st->best_val.tsp_p90) \
    X(bv_earliest, st->best_val.earliest_fraction)                                   \
    X(bv_early_fp, st->best_val.early_false_positive_fraction) X(bv_loss, st->best_val.mean_loss)

/* Builds the list of checkpoint items over S's buffers and st's fields. */
static void ckpt_items(rc_setup *S, train_state *st, float *kept, char **strs,
                       rc_ckpt_tensor *tens, rc_ckpt_int *ci, rc_ckpt_real *cr, rc_ckpt_str *cs, rc_ckpt *ck)
{
    rc_net *net = S->net;
    tens[0] = (rc_ckpt_tensor){ "params", net->params, net->nparams };
    tens[1] = (rc_ckpt_tensor){ "adam_m", net->m, net->nparams };
    tens[2] = (rc_ckpt_tensor){ "adam_v", net->v, net->nparams };
    tens[3] = (rc_ckpt_tensor){ "best_params", S->best, net->nparams };
    tens[4] = (rc_ckpt_tensor){ "kept_params", kept, net->nparams };
    /* Tasks that normalise their inputs (speech) keep the statistics with the
     * model: eval and resume feed it exactly as in training. */
    const size_t ntens = S->ds->nnorm ? 6 : 5;
    if (S->ds->nnorm) tens[5] = (rc_ckpt_tensor){ "feature_norm", S->ds->norm, S->ds->nnorm };
    int64_t *iv[] = { &st->batch, &st->trained, &st->train_rows, &st->best_batch, &st->tacc_n,
                      &st->tacc_correct, &st->best_val.n, &st->bv_has_end, &st->bv_has_earliest, NULL };
    static const char *in[] = { "batch", "trained", "train_rows", "best_batch", "tacc_n", "tacc_correct",
                                "best_val_n", "best_val_has_end", "best_val_has_earliest" };
    size_t ni = 0;
    for (; iv[ni]; ni++) ci[ni] = (rc_ckpt_int){ in[ni], iv[ni] };
    size_t nr = 0;
#define X(name, field) cr[nr++] = (rc_ckpt_real){ #name, &(field) };
    CK_REALS(X)
#undef X
    cs[0] = (rc_ckpt_str){ "config", &strs[0] };
    cs[1] = (rc_ckpt_str){ "model_shape", &strs[1] };
    *ck = (rc_ckpt){ tens, ntens, ci, ni, cr, nr, cs, 2 };
}

static rc_status ckpt_save(rc_setup *S, train_state *st, float *kept, const char *dir, rc_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/model.h5", dir);
    rc_ckpt_tensor tens[6];
    rc_ckpt_int ci[16];
    rc_ckpt_real cr[32];
    rc_ckpt_str cs[2];
    char *strs[2] = { rc_cfg_to_ini(S->cfg), S->shape };
    rc_ckpt ck;
    if (!strs[0]) return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    st->bv_has_end = st->best_val.has_end;
    st->bv_has_earliest = st->best_val.has_earliest;
    ckpt_items(S, st, kept, strs, tens, ci, cr, cs, &ck);
    rc_status s = rc_ckpt_save(path, &ck, err);
    free(strs[0]);
    return s;
}

/* Training examples in total: train.epochs passes over a finite training
 * set, else train.examples. */
static int64_t train_total(const rc_cfg *cfg, int64_t ntrain)
{
    const double epochs = rc_cfg_get_float(cfg, "train.epochs");
    return ntrain > 0 && epochs > 0 ? (int64_t)(epochs * (double)ntrain + 0.5) : rc_cfg_get_int(cfg, "train.examples");
}

/* Loads PATH into S and st after checking that it was made by the same model
 * shape and an equivalent config. resume: the run continues training, so
 * its length may change only where the schedule does not depend on it. */
static rc_status ckpt_load(rc_setup *S, train_state *st, float *kept, const char *path, int resume, rc_err *err)
{
    rc_ckpt_tensor tens[6];
    rc_ckpt_int ci[16];
    rc_ckpt_real cr[32];
    rc_ckpt_str cs[2];
    char *strs[2] = { NULL, NULL };
    rc_ckpt ck;
    char *shape = NULL, *cfgtext = NULL, *mine = NULL, *fa = NULL, *fb = NULL;
    rc_cfg *then = NULL;
    rc_status s;
    /* Shape and config first, so a mismatched checkpoint is refused before any
     * buffer is touched. */
    if ((s = rc_ckpt_read_string(path, "model_shape", &shape, err))) goto out;
    if (strcmp(shape, S->shape)) {
        s = rc_err_set(err, RC_ERR_DATA, "%s: checkpoint is of another model (%s), the config describes %s",
                       path, shape, S->shape);
        goto out;
    }
    if ((s = rc_ckpt_read_string(path, "config", &cfgtext, err))) goto out;
    /* Read the stored config through today's schema, so keys added since it
     * was written take their defaults on both sides instead of differing. */
    {
        then = rc_cfg_new(rc_spec, rc_nspec);
        rc_err e2;
        if (!then || rc_cfg_load_string(then, path, cfgtext, &e2)) {
            s = then ? rc_err_set(err, RC_ERR_DATA, "%s: its stored config does not parse: %s", path, e2.msg)
                     : rc_err_set(err, RC_ERR_NOMEM, "out of memory");
            goto out;
        }
        free(cfgtext);
        cfgtext = rc_cfg_to_ini(then);
        if (!cfgtext) { s = rc_err_set(err, RC_ERR_NOMEM, "out of memory"); goto out; }
    }
    mine = rc_cfg_to_ini(S->cfg);
    fa = config_fingerprint(cfgtext);
    fb = config_fingerprint(mine ? mine : "");
    if (!fa || !fb) { s = rc_err_set(err, RC_ERR_NOMEM, "out of memory"); goto out; }
    if (strcmp(fa, fb)) {
        /* Name the first differing line. */
        const char *p = fa, *q = fb;
        while (*p && *p == *q) { p++; q++; }
        while (p > fa && p[-1] != '\n') { p--; q--; }
        s = rc_err_set(err, RC_ERR_DATA, "%s: checkpoint was trained with another config: it has '%.*s', this config has '%.*s'",
                       path, (int)strcspn(p, "\n"), p, (int)strcspn(q, "\n"), q);
        goto out;
    }
    /* A learning-rate decay point or a selection start given as a fraction of
     * the run moves when the run's length does, so the part already trained
     * would not be the start of the longer (or shorter) run. */
    if (resume) {
        const int64_t ntrain = S->ds->size[RC_SPLIT_TRAIN];
        const long long was = (long long)train_total(then, ntrain), now = (long long)train_total(S->cfg, ntrain);
        const double decay_at = rc_cfg_get_float(S->cfg, "train.lr_decay_at");
        const double sel_after = rc_cfg_get_float(S->cfg, "train.select_after");
        if (was != now && (decay_at < 1 || sel_after > 0)) {
            s = rc_err_set(err, RC_ERR_DATA,
                           "%s: checkpoint is of a run of %lld training examples, this config asks for %lld; with "
                           "train.lr_decay_at = %g and train.select_after = %g the schedule depends on the run's "
                           "length, so it can only be resumed to the same train.epochs/train.examples",
                           path, was, now, decay_at, sel_after);
            goto out;
        }
    }
    ckpt_items(S, st, kept, strs, tens, ci, cr, cs, &ck);
    s = rc_ckpt_load(path, &ck, err);
    st->best_val.has_end = (int)st->bv_has_end;
    st->best_val.has_earliest = (int)st->bv_has_earliest;
    free(strs[0]);
    free(strs[1]);
out:
    rc_cfg_free(then);
    free(shape);
    free(cfgtext);
    free(mine);
    free(fa);
    free(fb);
    return s;
}

/* ---- traces ------------------------------------------------------------- */

static rc_traces *traces_open(rc_setup *S, const char *dir, rc_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/traces.h5", dir);
    char *ini = rc_cfg_to_ini(S->cfg);
    rc_traces_meta meta = { RC_VERSION, RC_GIT_REV, ini ? ini : "", S->seed, S->theta, S->beta,
                            S->eos ? "eos" : "rc", S->T, rc_cfg_get_float(S->cfg, "sim.dt_ms") };
    rc_traces *tr = rc_traces_open(path, &meta, err);
    free(ini);
    return tr;
}

/* Activations of the traced test examples: LSTM h and output probabilities at
 * every step until the first spike (or every step, with trace_after_spike). */
static rc_status trace_activations(rc_setup *S, rc_traces *tr, rc_err *err)
{
    long long ids[256];
    size_t n = rc_cfg_get_int_list(S->cfg, "output.trace_examples", ids, 256);
    if (n > 256) n = 256;
    /* Ascending, without repeats: the traces file is ordered by example id. */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && ids[j] < ids[j - 1]; j--) {
            long long t = ids[j]; ids[j] = ids[j - 1]; ids[j - 1] = t;
        }
    size_t u = 0;
    const int64_t avail = S->ds->size[RC_SPLIT_TEST]; /* finite test sets: ids beyond it do not exist */
    for (size_t i = 0; i < n; i++)
        if ((!u || ids[i] != ids[u - 1]) && (avail < 0 || ids[i] < avail)) ids[u++] = ids[i];
    n = u;
    const int after = rc_cfg_get_bool(S->cfg, "output.trace_after_spike");
    const int H = S->net->s.H, K = S->net->s.K, T = S->T;
    rc_status st = RC_OK;
    for (size_t i0 = 0; i0 < n && !st; i0 += (size_t)S->tbatch) {
        int m = (int)(n - i0 < (size_t)S->tbatch ? n - i0 : (size_t)S->tbatch);
        for (int j = 0; j < m; j++) S->idx[j] = ids[i0 + (size_t)j];
        size_t nh = (size_t)m * T * H, np = (size_t)m * T * K;
        float *rh = malloc(nh * sizeof *rh), *rp = malloc(np * sizeof *rp);
        if (!rh || !rp) { free(rh); free(rp); return rc_err_set(err, RC_ERR_NOMEM, "out of memory"); }
        for (size_t k = 0; k < nh; k++) rh[k] = NAN;
        for (size_t k = 0; k < np; k++) rp[k] = NAN;
        rc_batch_opts o = { .train = 0, .stop_at_spike = !after, .threshold = S->theta, .rec_h = rh, .rec_p = rp };
        st = rc_engine_batch(S->eng, RC_SPLIT_TEST, S->idx, m, &o, S->res, NULL, err);
        for (int j = 0; j < m && !st; j++) {
            st = rc_traces_add_activations(tr, S->net->s.core == RC_CORE_LIF ? "hidden" : "lstm", (uint64_t)S->idx[j],
                                           rh + (size_t)j * T * H, H, err);
            if (!st) st = rc_traces_add_activations(tr, "output", (uint64_t)S->idx[j], rp + (size_t)j * T * K, K, err);
        }
        free(rh);
        free(rp);
    }
    return st;
}

/* SNN: every spike of the traced hidden populations of one example. */
typedef struct {
    rc_setup *S;
    rc_traces *tr;
    uint64_t id;
    int *steps;
    uint64_t *nodes;
    rc_status st;
    rc_err *err;
} spike_sink;

static void spike_sink_fn(void *ud, int pop, int t, const int *neurons, int n)
{
    spike_sink *k = ud;
    if (k->st || !(pop < 32 && (k->S->trace_pops >> pop) & 1u)) return;
    for (int i = 0; i < n; i++) {
        k->steps[i] = t;
        k->nodes[i] = (uint64_t)neurons[i];
    }
    char name[32];
    rc_lif_pop_name(&k->S->net->s.snn, pop, name, sizeof name);
    k->st = rc_traces_add_spikes(k->tr, name, k->id, k->steps, k->nodes, (size_t)n, k->err);
}

/* traces.h5 from the kept RC-inference results of test examples 0..n-1
 * (example i has id i), plus the traced examples' activations. Output node
 * of a spike: the softmax class, or for a single sigmoid 1 = positive spike,
 * 0 = negative spike. */
static rc_status write_traces(rc_setup *S, const char *dir, const rc_example_result *res, int64_t n,
                              rc_err *err)
{
    rc_traces *tr = traces_open(S, dir, err);
    if (!tr) return RC_ERR_IO;
    rc_status st = RC_OK;
    for (int64_t i = 0; i < n && !st; i++) {
        const rc_example_result *r = &res[i];
        st = rc_traces_add_example(tr, (uint64_t)i, r->tsp, r->pred, r->label, r->spiked, err);
        if (!st && r->spiked) {
            const uint64_t node = (uint64_t)r->pred;
            st = rc_traces_add_spikes(tr, "output", (uint64_t)i, &r->tsp, &node, 1, err);
        }
    }
    if (!st && S->trace_pops) {
        /* Hidden LIF populations: every spike until each example's answer,
         * one more RC-inference pass on this thread (not timed). */
        int maxn = 1;
        for (int l = 0; l < S->net->s.snn.nl; l++)
            if (rc_lif_neurons(&S->net->s.snn, l) > maxn) maxn = rc_lif_neurons(&S->net->s.snn, l);
        spike_sink k = { S, tr, 0, malloc((size_t)maxn * sizeof(int)), malloc((size_t)maxn * sizeof(uint64_t)), RC_OK, err };
        if (!k.steps || !k.nodes) st = rc_err_set(err, RC_ERR_NOMEM, "out of memory");
        for (int64_t i = 0; i < n && !st; i++) {
            k.id = (uint64_t)i;
            st = rc_engine_snn_spikes(S->eng, RC_SPLIT_TEST, i, 1.0, 1, spike_sink_fn, &k, err);
            if (!st) st = k.st;
        }
        free(k.steps);
        free(k.nodes);
    }
    if (!st) st = trace_activations(S, tr, err);
    if (st) {
        rc_traces_abort(tr);
        return st;
    }
    return rc_traces_close(tr, err);
}

/* ---- the run ------------------------------------------------------------ */

/* Keeps the rows of metrics.csv up to batch `upto` (a resumed run rewrites
 * what came after its checkpoint). */
static rc_status metrics_truncate(const char *path, int64_t upto, int64_t every, rc_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) return rc_err_set(err, RC_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    rc_strbuf b = { 0 };
    char line[4096];
    int first = 1;
    while (fgets(line, sizeof line, f)) {
        const long long bt = atoll(line);
        if (first || (bt <= upto && bt % every == 0)) rc_sb_printf(&b, "%s", line);
        first = 0;
    }
    fclose(f);
    rc_status s = b.oom ? rc_err_set(err, RC_ERR_NOMEM, "out of memory")
                        : rc_write_atomic(path, b.s ? b.s : "", b.len, err);
    rc_sb_free(&b);
    return s;
}

rc_status rc_run(const rc_run_args *a, rc_err *err)
{
    int net_task; /* task.name = network runs in sim/app/network_run.c */
    rc_status net_st = rc_netrun(a, &net_task, err);
    if (net_task || net_st) return net_st;
    rc_setup S;
    rc_status st = setup_build(&S, a, err);
    FILE *mf = NULL;
    char *cfg_json = NULL;
    rc_strbuf sb = { 0 };
    char path[4200];
    train_state ts = { 0 };
    float *kept_ck = NULL;
    int64_t *perm = NULL;
    rc_example_result *test_res = NULL;
    rc_metrics_acc *test_acc = NULL;
    ts.best_score = -1;
    if (st) goto done;
    rc_cfg *cfg = S.cfg;
    rc_net *net = S.net;
    const int T = S.T, batch = S.batch;
    const double t_start = rc_now_s();
    const double dt_ms = rc_cfg_get_float(cfg, "sim.dt_ms");

    if (a->resume) {
        char ck[4200];
        snprintf(ck, sizeof ck, "%s/model.h5", a->resume);
        kept_ck = malloc(net->nparams * sizeof *kept_ck);
        if (!kept_ck) { st = rc_err_set(err, RC_ERR_NOMEM, "out of memory"); goto done; }
        st = ckpt_load(&S, &ts, kept_ck, ck, 1, err);
        free(kept_ck);
        kept_ck = NULL;
        if (st) goto done;
    }
    const char *outdir = rc_cfg_get_str(cfg, "output.dir");
    if (a->resume && !a->out) outdir = a->resume;
    if ((st = rc_mkdir_p(outdir, err))) goto done;
    snprintf(path, sizeof path, "%s/metrics.csv", outdir);
    if (a->resume) {
        if ((st = metrics_truncate(path, ts.batch, rc_cfg_get_int(cfg, "train.val_every"), err))) goto done;
        mf = fopen(path, "a");
    } else {
        mf = fopen(path, "w");
        if (mf)
            fprintf(mf, "batch,examples,wall_s,lr,train_loss,train_accuracy,train_mean_spike_step,"
                        "train_steps_fraction,val_accuracy,val_mean_spike_step,val_no_spike_fraction,"
                        "val_accuracy_at_end,val_spike_step_p10,val_spike_step_p50,val_spike_step_p90,best\n");
    }
    if (!mf) { st = rc_err_set(err, RC_ERR_IO, "%s: cannot write: %s", path, strerror(errno)); goto done; }

    /* ---- training ---- */
    const double lr0 = rc_cfg_get_float(cfg, "train.lr");
    const double clip = rc_cfg_get_float(cfg, "train.clip");
    const double b1 = rc_cfg_get_float(cfg, "train.adam_beta1"), b2 = rc_cfg_get_float(cfg, "train.adam_beta2");
    const double aeps = rc_cfg_get_float(cfg, "train.adam_eps");
    const int64_t ntrain = S.ds->size[RC_SPLIT_TRAIN]; /* -1: generator */
    const int64_t total = train_total(cfg, ntrain);
    const int64_t nbatches = (total + batch - 1) / batch;
    const int64_t val_every = rc_cfg_get_int(cfg, "train.val_every");
    int64_t val_size = rc_cfg_get_int(cfg, "train.val_size");
    if (S.ds->size[RC_SPLIT_VAL] > 0 && val_size > S.ds->size[RC_SPLIT_VAL]) val_size = S.ds->size[RC_SPLIT_VAL];
    /* Finite training sets are visited in a new order each epoch: a
     * Fisher-Yates shuffle driven by the counter-based RNG (seed, epoch). */
    int64_t perm_epoch = -1;
    if (ntrain > 0 && !(perm = malloc((size_t)ntrain * sizeof *perm))) {
        st = rc_err_set(err, RC_ERR_NOMEM, "out of memory");
        goto done;
    }
    const double decay_at = rc_cfg_get_float(cfg, "train.lr_decay_at"), decay = rc_cfg_get_float(cfg, "train.lr_decay");
    const char *sel = rc_cfg_get_str(cfg, "train.select");
    const int select_end = !strcmp(sel, "end") || (!strcmp(sel, "auto") && S.eos);
    const int select_last = !strcmp(sel, "last");
    const double select_after = rc_cfg_get_float(cfg, "train.select_after");
    const double select_budget = rc_cfg_get_float(cfg, "train.select_max_spike_step");
    const int64_t ck_every = rc_cfg_get_int(cfg, "output.checkpoint_every");
    rc_batch_opts to = { .train = 1, .stop_at_spike = !S.eos, .loss_at_end = S.eos,
                         .threshold = S.theta, .beta = S.beta, .vth_scale = 1 };
    evaluator ev = { S.eng, S.ds, S.tbatch, S.theta, S.spotting, S.res, S.idx, NULL, NULL, 1, 0 };
    int64_t *idx = S.idx;
    rc_example_result *res = S.res;

    progress pr;
    progress_init(&pr, rc_cfg_get_str(cfg, "output.progress"), rc_cfg_get_float(cfg, "output.log_every_s"));
    g_signal = 0;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    /* One validation point: metrics.csv row, best-model bookkeeping. A macro
     * because it updates a dozen locals of this function. */
#define VALIDATE(b, lr)                                                                         \
    do {                                                                                        \
        rc_metrics vm;                                                                          \
        if ((st = evaluate(&ev, RC_SPLIT_VAL, val_size, !select_end, &vm, NULL, NULL, err))) goto done; \
        const double score = select_end ? vm.accuracy_at_end : vm.accuracy;                     \
        const int in_budget = select_budget <= 0 || vm.mean_spike_step <= select_budget;        \
        const int eligible = ((double)((b) + 1) >= select_after * (double)nbatches && in_budget) \
                             || ((b) + 1 == nbatches && ts.best_batch == 0);                    \
        const int is_best = eligible && (select_last || score > ts.best_score);                  \
        if (is_best) {                                                                          \
            ts.best_score = score;                                                              \
            ts.best_batch = (b) + 1;                                                            \
            ts.best_val = vm;                                                                   \
            memcpy(S.best, net->params, net->nparams * sizeof *S.best);                         \
        }                                                                                       \
        rc_metrics tm;                                                                          \
        rc_metrics_finish(&tacc, &tm);                                                          \
        fprintf(mf, "%lld,%lld,%.3f,%g,%.6f,%.6f,%.4f,%.6f,%.6f,%.4f,%.6f,", (long long)((b) + 1), \
                (long long)ts.trained, rc_now_s() - t_start, (lr), tm.mean_loss, tm.accuracy,      \
                tm.mean_spike_step, (double)ts.train_rows / ((double)ts.trained * T), vm.accuracy, \
                vm.mean_spike_step, vm.no_spike_fraction);                                      \
        if (vm.has_end) fprintf(mf, "%.6f", vm.accuracy_at_end);                                \
        fprintf(mf, ",%g,%g,%g,%d\n", vm.tsp_p10, vm.tsp_p50, vm.tsp_p90, is_best);            \
        fflush(mf);                                                                             \
        val_majority = vm.majority_fraction;                                                    \
        /* Early stopping (paper B.4): RC accuracy fell below the majority-class                \
         * fraction after the kept model had been above it. */                                  \
        if (stop_majority && rc_stop_below_majority(ts.best_batch > 0, ts.best_val.accuracy,    \
                                                    vm.accuracy, vm.majority_fraction))         \
            early_stop = 1;                                                                     \
        rc_metrics_init(&tacc, T, S.spotting);                                                  \
        last_val = vm.accuracy;                                                                 \
        last_tsp = vm.mean_spike_step;                                                          \
    } while (0)

    double last_val = 0, last_tsp = 0, run_loss = 0, val_majority = 0;
    const int stop_majority = rc_cfg_get_bool(cfg, "train.stop_below_majority");
    int early_stop = 0;
    int64_t run_n = 0;
    rc_metrics_acc tacc;
    rc_metrics_init(&tacc, T, S.spotting);
    tacc.n = ts.tacc_n;
    tacc.correct = ts.tacc_correct;
    tacc.sum_tsp = ts.tacc_sum_tsp;
    tacc.sum_loss = ts.tacc_sum_loss;
    for (int64_t b = ts.batch; b < nbatches && !g_signal && !early_stop; b++) {
        const double lr = (double)b >= decay_at * (double)nbatches ? lr0 * decay : lr0;
        int n = batch;
        if ((b + 1) * batch > total) n = (int)(total - b * batch);
        for (int j = 0; j < n; j++) {
            int64_t g = b * batch + j;
            if (perm) {
                const int64_t ep = g / ntrain;
                if (ep != perm_epoch) {
                    for (int64_t i = 0; i < ntrain; i++) perm[i] = i;
                    for (int64_t i = ntrain - 1; i > 0; i--) {
                        int64_t k = (int64_t)(rc_rand64(S.seed, RC_STREAM_SHUFFLE, (uint64_t)ep, (uint64_t)i) % (uint64_t)(i + 1));
                        int64_t t = perm[i]; perm[i] = perm[k]; perm[k] = t;
                    }
                    perm_epoch = ep;
                }
                /* Tasks with augmentation also get the pass (train_pass_index). */
                g = perm[g % ntrain] + (S.ds->train_pass_index ? ep * ntrain : 0);
            }
            idx[j] = g;
        }
        double t0 = rc_now_s();
        rc_net_zero_grad(net);
        int64_t rows = 0;
        if ((st = rc_engine_batch(S.eng, RC_SPLIT_TRAIN, idx, n, &to, res, &rows, err))) goto done;
        rc_engine_adam(S.eng, lr, b1, b2, aeps, clip, b + 1);
        ts.train_time += rc_now_s() - t0;
        ts.train_rows += rows;
        ts.trained += n;
        ts.batch = b + 1;
        rc_metrics_add(&tacc, res, n);
        for (int j = 0; j < n; j++) {
            if (!isfinite(res[j].loss)) {
                st = rc_err_set(err, RC_ERR_NUMERIC, "training diverged at batch %lld (loss %g); lower train.lr or set train.clip",
                                (long long)b, (double)res[j].loss);
                goto done;
            }
            run_loss += res[j].loss;
        }
        run_n += n;
        if ((b + 1) % val_every == 0) {
            VALIDATE(b, lr);
        }
        ts.tacc_n = tacc.n;
        ts.tacc_correct = tacc.correct;
        ts.tacc_sum_tsp = tacc.sum_tsp;
        ts.tacc_sum_loss = tacc.sum_loss;
        if (ck_every > 0 && (b + 1) % ck_every == 0 && b + 1 < nbatches)
            if ((st = ckpt_save(&S, &ts, S.best, outdir, err))) goto done;
        progress_show(&pr, ts.trained, nbatches * (int64_t)batch, ts.trained / (ts.train_time > 0 ? ts.train_time : 1),
                      run_n ? run_loss / run_n : 0, last_val, last_tsp, 0);
        if (run_n >= 20 * batch) { run_loss = 0; run_n = 0; }
    }
    progress_end(&pr);
    /* The checkpoint holds the state to resume from: as of the last batch,
     * without the extra validation below, which a longer run would not have
     * made here. The model this run tests is stored beside it ("kept"). */
    train_state ts_ck = ts;
    kept_ck = malloc(net->nparams * sizeof *kept_ck);
    if (!kept_ck) { st = rc_err_set(err, RC_ERR_NOMEM, "out of memory"); goto done; }
    memcpy(kept_ck, S.best, net->nparams * sizeof *kept_ck);
    if (!g_signal && ts.batch == nbatches && nbatches % val_every != 0) {
        const int64_t b = nbatches - 1;
        const double lr = (double)b >= decay_at * (double)nbatches ? lr0 * decay : lr0;
        VALIDATE(b, lr);
    }
#undef VALIDATE
    /* The final state (or the state at the interruption) is always saved. */
    {
        float *best_now = S.best;
        S.best = kept_ck;           /* resume state's best model            */
        kept_ck = best_now;         /* ... and the model tested below       */
        st = ckpt_save(&S, &ts_ck, kept_ck, outdir, err);
        best_now = S.best;
        S.best = kept_ck;
        kept_ck = best_now;
        if (st) goto done;
    }
    if (g_signal) {
        st = rc_err_set(err, RC_ERR_INTERRUPTED,
                        "interrupted by signal %d after %lld training batches; checkpoint %s/model.h5 "
                        "(continue with: rcsim run %s --resume %s)",
                        (int)g_signal, (long long)ts.batch, outdir, a->cfg_path, outdir);
        goto done;
    }

    /* ---- test the kept model ---- */
    memcpy(net->params, S.best, net->nparams * sizeof *S.best);
    int64_t test_size = rc_cfg_get_int(cfg, "test.size");
    if (S.ds->size[RC_SPLIT_TEST] > 0 && test_size > S.ds->size[RC_SPLIT_TEST]) test_size = S.ds->size[RC_SPLIT_TEST];
    rc_metrics rcm, endm;
    int64_t rc_rows = 0, end_rows = 0;
    double rc_secs = 0, end_secs = 0;
    /* The timed RC pass keeps every result; traces.h5 is written from them
     * afterwards, so its compression is not timed and no pass is repeated. */
    const int want_traces = rc_cfg_get_bool(cfg, "output.traces");
    if (want_traces && !(test_res = malloc((size_t)test_size * sizeof *test_res))) {
        st = rc_err_set(err, RC_ERR_NOMEM, "out of memory");
        goto done;
    }
    ev.keep = test_res;
    if (!(test_acc = malloc(sizeof *test_acc))) { st = rc_err_set(err, RC_ERR_NOMEM, "out of memory"); goto done; }
    ev.acc_out = test_acc;
    if ((st = evaluate(&ev, RC_SPLIT_TEST, test_size, 1, &rcm, &rc_rows, &rc_secs, err))) goto done;
    const int64_t rc_synops = ev.synops;
    ev.keep = NULL;
    ev.acc_out = NULL;
    if ((st = evaluate(&ev, RC_SPLIT_TEST, test_size, 0, &endm, &end_rows, &end_secs, err))) goto done;
    const int64_t end_synops = ev.synops;
    const int snn = net->s.core == RC_CORE_LIF;
    if (want_traces && (st = write_traces(&S, outdir, test_res, test_size, err))) goto done;

    /* ---- summary.json ---- */
    cfg_json = rc_cfg_to_json(cfg, 2);
    const double wall = rc_now_s() - t_start;
    rc_sb_printf(&sb, "{\n  \"rcsim_version\": \"%s\",\n  \"git_revision\": \"%s\",\n", RC_VERSION, RC_GIT_REV);
    rc_sb_printf(&sb, "  \"task\": "); rc_sb_json_str(&sb, S.task);
    rc_sb_printf(&sb, ",\n  \"model\": \"%s\",\n  \"model_shape\": \"%s\",\n  \"hidden\": %d,\n  \"parameters\": %zu,\n",
                 rc_cfg_get_str(cfg, "model.type"), S.shape, net->s.H, net->nparams);
    rc_sb_printf(&sb, "  \"mode\": \"%s\",\n  \"threshold\": ", S.eos ? "eos" : "rc");
    rc_sb_json_num(&sb, S.theta);
    rc_sb_printf(&sb, ",\n  \"beta\": "); rc_sb_json_num(&sb, S.beta);
    rc_sb_printf(&sb, ",\n  \"seed\": %llu,\n  \"threads\": %d,\n  \"steps\": %d,\n", (unsigned long long)S.seed,
                 rc_pool_nthreads(S.pool), T);
    rc_sb_printf(&sb, "  \"resumed\": %s,\n", a->resume ? "true" : "false");
    rc_sb_printf(&sb, "  \"train\": {\n    \"examples\": %lld,\n    \"batches\": %lld,\n", (long long)ts.trained,
                 (long long)ts.batch);
    rc_sb_printf(&sb, "    \"examples_per_s\": "); rc_sb_json_num(&sb, ts.trained / (ts.train_time > 0 ? ts.train_time : 1));
    rc_sb_printf(&sb, ",\n    \"wall_s\": "); rc_sb_json_num(&sb, ts.train_time);
    rc_sb_printf(&sb, ",\n    \"steps_computed_fraction\": ");
    rc_sb_json_num(&sb, ts.trained ? (double)ts.train_rows / ((double)ts.trained * T) : 0);
    rc_sb_printf(&sb, ",\n    \"early_stopped\": %s", early_stop ? "true" : "false");
    rc_sb_printf(&sb, ",\n    \"selected_by\": \"%s\",\n    \"selected_batch\": %lld\n  },\n",
                 select_last ? "last" : select_end ? "validation accuracy_at_end" : "validation accuracy (RC-inference)",
                 (long long)ts.best_batch);
    rc_sb_printf(&sb, "  \"validation\": {\n");
    json_metrics(&sb, &ts.best_val, "    ", dt_ms);
    rc_sb_printf(&sb, ",\n    \"majority_fraction\": "); rc_sb_json_num(&sb, val_majority);
    rc_sb_printf(&sb, "\n  },\n  \"test\": {\n    \"inference\": \"rc\",\n");
    rcm.has_end = 1;
    rcm.accuracy_at_end = endm.accuracy_at_end;
    json_metrics(&sb, &rcm, "    ", dt_ms);
    rc_sb_printf(&sb, ",\n    \"steps_computed_fraction\": ");
    rc_sb_json_num(&sb, (double)rc_rows / ((double)test_size * T));
    rc_sb_printf(&sb, ",\n    \"examples_per_s\": "); rc_sb_json_num(&sb, test_size / (rc_secs > 0 ? rc_secs : 1e-9));
    if (!snn) {
        const double dense = (double)T * rc_net_dense_step_macs(S.net);
        rc_sb_printf(&sb, ",\n    \"events_per_example\": "); rc_sb_json_num(&sb, rcm.events_per_example);
        rc_sb_printf(&sb, ",\n    \"macs_per_example\": "); rc_sb_json_num(&sb, rcm.macs_per_example);
        rc_sb_printf(&sb, ",\n    \"macs_dense_full\": "); rc_sb_json_num(&sb, dense);
        rc_sb_printf(&sb, ",\n    \"macs_fraction_of_dense\": "); rc_sb_json_num(&sb, rcm.macs_per_example / dense);
    } else {
        /* The SNN engine counts synaptic events, not input events or MACs. */
        rc_sb_printf(&sb, ",\n    \"synops_per_example\": ");
        rc_sb_json_num(&sb, (double)rc_synops / (double)test_size);
    }
    rc_sb_printf(&sb, ",\n    \"eos_inference\": {\n      \"accuracy\": ");
    rc_sb_json_num(&sb, endm.accuracy_at_end);
    if (snn) {
        rc_sb_printf(&sb, ",\n      \"synops_per_example\": ");
        rc_sb_json_num(&sb, (double)end_synops / (double)test_size);
    }
    rc_sb_printf(&sb, ",\n      \"steps_computed_fraction\": 1,\n      \"examples_per_s\": ");
    rc_sb_json_num(&sb, test_size / (end_secs > 0 ? end_secs : 1e-9));
    rc_sb_printf(&sb, "\n    }");
    json_classes(&sb, test_acc, S.ds, dt_ms);
    rc_sb_printf(&sb, "\n  },\n");
    rc_sb_printf(&sb, "  \"other_inference\": \"%s\",\n",
                 S.eos ? "EOS-trained model under RC-inference: see test.accuracy, test.mean_spike_step"
                       : "RC-trained model under EOS-inference: see test.accuracy_at_end");
    rc_sb_printf(&sb, "  \"wall_s\": "); rc_sb_json_num(&sb, wall);
    rc_sb_printf(&sb, ",\n  \"config\": %s\n}\n", cfg_json ? cfg_json : "{}");
    if (sb.oom) { st = rc_err_set(err, RC_ERR_NOMEM, "out of memory writing summary"); goto done; }
    snprintf(path, sizeof path, "%s/summary.json", outdir);
    if ((st = rc_write_atomic(path, sb.s, sb.len, err))) goto done;
    if (!a->quiet)
        fprintf(stderr, "rcsim: %s %s: test accuracy %.4f at mean spike step %.2f/%d (no spike %.4f), "
                        "accuracy at end %.4f; %s/summary.json\n",
                S.task, S.eos ? "eos" : "rc", rcm.accuracy, rcm.mean_spike_step, T, rcm.no_spike_fraction,
                endm.accuracy_at_end, outdir);

done:
    free(perm);
    free(test_res);
    free(test_acc);
    if (mf) fclose(mf);
    rc_sb_free(&sb);
    free(cfg_json);
    free(kept_ck);
    setup_free(&S);
    return st;
}

/* ---- eval --------------------------------------------------------------- */

rc_status rc_eval(const rc_run_args *a, rc_err *err)
{
    rc_setup S;
    rc_status st = setup_build(&S, a, err);
    train_state ts = { 0 };
    rc_strbuf sb = { 0 };
    rc_example_result *keep = NULL;
    float *kept = NULL;
    double th[64];
    size_t nth = 0;
    if (st) goto done;
    /* Thresholds: parse before anything is read or written. */
    /* An SNN answers with its first output spike: its sweep scales the output
     * layer's V_th instead of θ. */
    const int snn = S.net->s.core == RC_CORE_LIF;
    const char *list = a->thresholds ? a->thresholds
                                     : snn ? "0.5,0.75,1,1.25,1.5,2,3" : "0.5,0.6,0.7,0.8,0.9,0.95,0.99";
    for (const char *p = list; *p;) {
        char *end;
        double v = strtod(p, &end);
        const int ok = snn ? (v > 0 && v <= 1000) : (v >= 0.5 && v <= 1.0);
        if (end == p || !ok || nth == 64 || (*end && *end != ',')) {
            st = rc_err_set(err, RC_ERR_USAGE, snn ? "--thresholds %s: expected up to 64 comma-separated output V_th scales in (0, 1000] (model.type = snn)"
                                                  : "--thresholds %s: expected up to 64 comma-separated numbers in [0.5, 1]", list);
            goto done;
        }
        th[nth++] = v;
        p = *end ? end + 1 : end;
    }
    kept = malloc(S.net->nparams * sizeof *kept);
    if (!kept) { st = rc_err_set(err, RC_ERR_NOMEM, "out of memory"); goto done; }
    if ((st = ckpt_load(&S, &ts, kept, a->model, 0, err))) goto done;
    memcpy(S.net->params, kept, S.net->nparams * sizeof *kept);
    const char *outdir = rc_cfg_get_str(S.cfg, "output.dir");
    if ((st = rc_mkdir_p(outdir, err))) goto done;
    int64_t test_size = rc_cfg_get_int(S.cfg, "test.size");
    if (S.ds->size[RC_SPLIT_TEST] > 0 && test_size > S.ds->size[RC_SPLIT_TEST]) test_size = S.ds->size[RC_SPLIT_TEST];
    evaluator ev = { S.eng, S.ds, S.tbatch, S.theta, S.spotting, S.res, S.idx, NULL, NULL, 1, 0 };
    rc_metrics endm, m;
    if (!(keep = malloc((size_t)test_size * sizeof *keep))) { st = rc_err_set(err, RC_ERR_NOMEM, "out of memory"); goto done; }
    if ((st = evaluate(&ev, RC_SPLIT_TEST, test_size, 0, &endm, NULL, NULL, err))) goto done;
    int kept_theta = 0; /* keep holds the results at train.threshold */
    const double dt_ms = rc_cfg_get_float(S.cfg, "sim.dt_ms");
    rc_sb_printf(&sb, "threshold,accuracy,mean_spike_step,mean_spike_fraction,no_spike_fraction,accuracy_at_end,examples_per_s,mean_spike_ms%s\n",
                 snn ? ",synops_per_example" : ",events_per_example,macs_per_example");
    for (size_t i = 0; i < nth; i++) {
        if (snn) ev.vscale = th[i];
        else ev.threshold = th[i];
        ev.keep = th[i] == (snn ? 1.0 : S.theta) ? keep : NULL;
        kept_theta |= ev.keep != NULL;
        double secs = 0;
        if ((st = evaluate(&ev, RC_SPLIT_TEST, test_size, 1, &m, NULL, &secs, err))) goto done;
        rc_sb_printf(&sb, "%g,%.6f,%.4f,%.6f,%.6f,%.6f,%.1f,%.2f", th[i], m.accuracy, m.mean_spike_step,
                     m.mean_spike_fraction, m.no_spike_fraction, endm.accuracy_at_end, test_size / (secs > 0 ? secs : 1e-9),
                     m.mean_spike_step * dt_ms);
        if (snn) rc_sb_printf(&sb, ",%.1f", (double)ev.synops / (double)test_size);
        else rc_sb_printf(&sb, ",%.3f,%.1f", m.events_per_example, m.macs_per_example);
        rc_sb_printf(&sb, "\n");
        if (!a->quiet)
            fprintf(stderr, "rcsim eval: %s %g: accuracy %.4f at mean spike step %.2f/%d (no spike %.4f)\n",
                    snn ? "output V_th scale" : "threshold", th[i], m.accuracy, m.mean_spike_step, S.T, m.no_spike_fraction);
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/tradeoff.csv", outdir);
    if (sb.oom) { st = rc_err_set(err, RC_ERR_NOMEM, "out of memory"); goto done; }
    if ((st = rc_write_atomic(path, sb.s, sb.len, err))) goto done;
    if (!kept_theta) { /* train.threshold was not in the sweep: one pass at it */
        ev.threshold = S.theta;
        ev.vscale = 1;
        ev.keep = keep;
        if ((st = evaluate(&ev, RC_SPLIT_TEST, test_size, 1, &m, NULL, NULL, err))) goto done;
    }
    if ((st = write_traces(&S, outdir, keep, test_size, err))) goto done;
    if (!a->quiet) fprintf(stderr, "rcsim eval: wrote %s and %s/traces.h5\n", path, outdir);
done:
    free(keep);
    rc_sb_free(&sb);
    free(kept);
    setup_free(&S);
    return st;
}

rc_status rc_run_numa_check(const rc_run_args *a, int *mismatches, rc_err *err)
{
    rc_setup S;
    rc_status st = setup_build(&S, a, err);
    if (!st) *mismatches = rc_engine_numa_check(S.eng, stdout);
    setup_free(&S);
    return st;
}

int rc_run_signal(void) { return (int)g_signal; }
