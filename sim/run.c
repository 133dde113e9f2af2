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
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "encoders/dataset.h"
#include "io/cfg.h"
#include "io/fsutil.h"
#include "io/strbuf.h"
#include "models/net.h"
#include "sim/engine.h"
#include "sim/metrics.h"
#include "sim/pool.h"
#include "sim/run.h"
#include "sim/spec.h"

void openblas_set_num_threads(int);

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

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
    p->t0 = p->last = now_s();
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
    double t = now_s();
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
} evaluator;

/* Runs `count` examples of a split with RC-inference (stop_at_spike = 1) or a
 * full-length pass; fills m and returns the steps computed. */
static rc_status evaluate(evaluator *ev, rc_split split, int64_t count, int stop,
                          rc_metrics *m, int64_t *rows, double *secs, rc_err *err)
{
    rc_metrics_acc acc;
    rc_metrics_init(&acc, ev->ds->T, ev->spotting);
    rc_batch_opts o = { .train = 0, .stop_at_spike = stop, .loss_at_end = 0,
                        .threshold = ev->threshold, .beta = 0 };
    int64_t total_rows = 0;
    double t0 = now_s();
    for (int64_t i = 0; i < count; i += ev->batch) {
        int n = (int)(count - i < ev->batch ? count - i : ev->batch);
        for (int j = 0; j < n; j++) ev->idx[j] = i + j;
        int64_t r = 0;
        rc_status st = rc_engine_batch(ev->eng, split, ev->idx, n, &o, ev->res, &r, err);
        if (st) return st;
        total_rows += r;
        rc_metrics_add(&acc, ev->res, n);
    }
    if (secs) *secs = now_s() - t0;
    if (rows) *rows = total_rows;
    rc_metrics_finish(&acc, m);
    return RC_OK;
}

/* ---- summary.json ------------------------------------------------------- */

static void json_metrics(rc_strbuf *b, const rc_metrics *m, const char *ind)
{
    rc_sb_printf(b, "%s\"examples\": %lld,\n", ind, (long long)m->n);
    rc_sb_printf(b, "%s\"accuracy\": ", ind); rc_sb_json_num(b, m->accuracy);
    rc_sb_printf(b, ",\n%s\"mean_spike_step\": ", ind); rc_sb_json_num(b, m->mean_spike_step);
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
    if (a->out) {
        snprintf(buf, sizeof buf, "output.dir=%s", a->out);
        if ((st = rc_cfg_set(cfg, buf, err))) return st;
    }
    if ((st = rc_cfg_check_required(cfg, err))) return st;
    if (rc_cfg_get_float(cfg, "task.sigma_min") > rc_cfg_get_float(cfg, "task.sigma_max"))
        return rc_err_set(err, RC_ERR_CONFIG, "%s: task.sigma_min = %g is larger than task.sigma_max = %g, expected sigma_min <= sigma_max",
                          a->cfg_path, rc_cfg_get_float(cfg, "task.sigma_min"), rc_cfg_get_float(cfg, "task.sigma_max"));
    long long head[RC_NET_MAX_HEAD + 1];
    size_t nh = rc_cfg_get_int_list(cfg, "model.head", head, RC_NET_MAX_HEAD + 1);
    if (nh > RC_NET_MAX_HEAD)
        return rc_err_set(err, RC_ERR_CONFIG, "%s: model.head has %zu layers, expected at most %d",
                          a->cfg_path, nh, RC_NET_MAX_HEAD);
    return RC_OK;
}

rc_status rc_run(const rc_run_args *a, rc_err *err)
{
    rc_status st = RC_OK;
    rc_cfg *cfg = rc_cfg_new(rc_spec, rc_nspec);
    rc_dataset *ds = NULL;
    rc_net *net = NULL;
    rc_pool *pool = NULL;
    rc_engine *eng = NULL;
    float *best = NULL;
    rc_example_result *res = NULL;
    int64_t *idx = NULL;
    FILE *mf = NULL;
    char *cfg_json = NULL;
    rc_strbuf sb = { 0 };
    char path[4200];
    if (!cfg) return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    if ((st = configure(cfg, a, err))) goto done;

    const double t_start = now_s();
    const uint64_t seed = (uint64_t)rc_cfg_get_int(cfg, "sim.seed");
    const char *task = rc_cfg_get_str(cfg, "task.name");
    int T = (int)rc_cfg_get_int(cfg, "task.steps");
    const int spotting = !strcmp(task, "spotting");
    if (spotting) {
        ds = rc_spotting_new(seed, T ? T : 25, (int)rc_cfg_get_int(cfg, "task.run_length"));
    } else {
        ds = rc_twoseq_new(seed, T ? T : 40, rc_cfg_get_float(cfg, "task.mean"),
                           rc_cfg_get_float(cfg, "task.sigma_min"), rc_cfg_get_float(cfg, "task.sigma_max"));
    }
    if (!ds) { st = rc_err_set(err, RC_ERR_NOMEM, "out of memory creating the data set"); goto done; }
    T = ds->T;

    rc_net_shape shape = { .nin = ds->nin, .H = (int)rc_cfg_get_int(cfg, "model.hidden"),
                           .K = ds->nclass == 2 ? 1 : ds->nclass };
    long long head[RC_NET_MAX_HEAD];
    shape.nhead = (int)rc_cfg_get_int_list(cfg, "model.head", head, RC_NET_MAX_HEAD);
    for (int l = 0; l < shape.nhead; l++) shape.head[l] = (int)head[l];
    net = rc_net_new(&shape, seed);
    if (!net) { st = rc_err_set(err, RC_ERR_NOMEM, "out of memory creating the network"); goto done; }

    /* Our threads are the only busy pool: the BLAS runs serially inside them. */
    openblas_set_num_threads(1);
    const int nthreads = (int)rc_cfg_get_int(cfg, "sim.threads");
    pool = rc_pool_new(nthreads, strcmp(rc_cfg_get_str(cfg, "sim.placement"), "compact") ? RC_PLACE_SPREAD : RC_PLACE_COMPACT, err);
    if (!pool) { st = RC_ERR_NOMEM; goto done; }

    const int batch = (int)rc_cfg_get_int(cfg, "train.batch");
    const int tbatch = (int)rc_cfg_get_int(cfg, "test.batch");
    const int maxb = batch > tbatch ? batch : tbatch;
    eng = rc_engine_new(net, ds, pool, maxb, err);
    if (!eng) { st = RC_ERR_NOMEM; goto done; }
    best = malloc(net->nparams * sizeof *best);
    res = calloc((size_t)maxb, sizeof *res);
    idx = calloc((size_t)maxb, sizeof *idx);
    if (!best || !res || !idx) { st = rc_err_set(err, RC_ERR_NOMEM, "out of memory"); goto done; }

    const char *outdir = rc_cfg_get_str(cfg, "output.dir");
    if ((st = rc_mkdir_p(outdir, err))) goto done;
    snprintf(path, sizeof path, "%s/metrics.csv", outdir);
    mf = fopen(path, "w");
    if (!mf) { st = rc_err_set(err, RC_ERR_IO, "%s: cannot create", path); goto done; }
    fprintf(mf, "batch,examples,wall_s,lr,train_loss,train_accuracy,train_mean_spike_step,"
                "train_steps_fraction,val_accuracy,val_mean_spike_step,val_no_spike_fraction,"
                "val_accuracy_at_end,val_spike_step_p10,val_spike_step_p50,val_spike_step_p90,best\n");

    /* ---- training ---- */
    const int eos = !strcmp(rc_cfg_get_str(cfg, "train.mode"), "eos");
    const double theta = rc_cfg_get_float(cfg, "train.threshold");
    const double beta = rc_cfg_get_float(cfg, "train.beta");
    const double lr0 = rc_cfg_get_float(cfg, "train.lr");
    const double clip = rc_cfg_get_float(cfg, "train.clip");
    const double b1 = rc_cfg_get_float(cfg, "train.adam_beta1"), b2 = rc_cfg_get_float(cfg, "train.adam_beta2");
    const double aeps = rc_cfg_get_float(cfg, "train.adam_eps");
    const int64_t total = rc_cfg_get_int(cfg, "train.examples");
    const int64_t nbatches = (total + batch - 1) / batch;
    const int64_t val_every = rc_cfg_get_int(cfg, "train.val_every");
    const int64_t val_size = rc_cfg_get_int(cfg, "train.val_size");
    const double decay_at = rc_cfg_get_float(cfg, "train.lr_decay_at"), decay = rc_cfg_get_float(cfg, "train.lr_decay");
    const char *sel = rc_cfg_get_str(cfg, "train.select");
    int select_end = !strcmp(sel, "end") || (!strcmp(sel, "auto") && eos);
    int select_last = !strcmp(sel, "last");
    const double select_after = rc_cfg_get_float(cfg, "train.select_after");
    rc_batch_opts to = { .train = 1, .stop_at_spike = !eos, .loss_at_end = eos,
                         .threshold = theta, .beta = beta };
    evaluator ev = { eng, ds, tbatch, theta, spotting, res, idx };

    progress pr;
    progress_init(&pr, rc_cfg_get_str(cfg, "output.progress"), rc_cfg_get_float(cfg, "output.log_every_s"));
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    double train_time = 0, best_score = -1, last_val = 0, last_tsp = 0;
    int64_t best_batch = 0, train_rows = 0, trained = 0;
    rc_metrics best_val = { 0 };
    rc_metrics_acc tacc;
    rc_metrics_init(&tacc, T, spotting);
    double run_loss = 0;
    int64_t run_n = 0;
    memcpy(best, net->params, net->nparams * sizeof *best);
    for (int64_t b = 0; b < nbatches && !g_signal; b++) {
        const double lr = (double)b >= decay_at * (double)nbatches ? lr0 * decay : lr0;
        int n = batch;
        if ((b + 1) * batch > total) n = (int)(total - b * batch);
        for (int j = 0; j < n; j++) idx[j] = b * batch + j;
        double t0 = now_s();
        rc_net_zero_grad(net);
        int64_t rows = 0;
        if ((st = rc_engine_batch(eng, RC_SPLIT_TRAIN, idx, n, &to, res, &rows, err))) goto done;
        rc_engine_adam(eng, lr, b1, b2, aeps, clip, b + 1);
        train_time += now_s() - t0;
        train_rows += rows;
        trained += n;
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
        if ((b + 1) % val_every == 0 || b + 1 == nbatches) {
            rc_metrics vm;
            if ((st = evaluate(&ev, RC_SPLIT_VAL, val_size, !select_end, &vm, NULL, NULL, err))) goto done;
            const double score = select_end ? vm.accuracy_at_end : vm.accuracy;
            const int eligible = (double)(b + 1) >= select_after * (double)nbatches || b + 1 == nbatches;
            const int is_best = eligible && (select_last || score > best_score);
            if (is_best) {
                best_score = score;
                best_batch = b + 1;
                best_val = vm;
                memcpy(best, net->params, net->nparams * sizeof *best);
            }
            rc_metrics tm;
            rc_metrics_finish(&tacc, &tm);
            fprintf(mf, "%lld,%lld,%.3f,%g,%.6f,%.6f,%.4f,%.6f,%.6f,%.4f,%.6f,", (long long)(b + 1),
                    (long long)trained, now_s() - t_start, lr, tm.mean_loss, tm.accuracy,
                    tm.mean_spike_step, (double)train_rows / ((double)trained * T), vm.accuracy,
                    vm.mean_spike_step, vm.no_spike_fraction);
            if (vm.has_end) fprintf(mf, "%.6f", vm.accuracy_at_end);
            fprintf(mf, ",%g,%g,%g,%d\n", vm.tsp_p10, vm.tsp_p50, vm.tsp_p90, is_best);
            fflush(mf);
            rc_metrics_init(&tacc, T, spotting);
            last_val = vm.accuracy;
            last_tsp = vm.mean_spike_step;
        }
        progress_show(&pr, trained, nbatches * (int64_t)batch, trained / (train_time > 0 ? train_time : 1),
                      run_n ? run_loss / run_n : 0, last_val, last_tsp, 0);
        if (run_n >= 20 * batch) { run_loss = 0; run_n = 0; }
    }
    progress_end(&pr);
    const int interrupted = g_signal != 0;
    if (interrupted)
        fprintf(stderr, "rcsim: interrupted after %lld training examples; testing the best model so far\n",
                (long long)trained);

    /* ---- test the kept model ---- */
    memcpy(net->params, best, net->nparams * sizeof *best);
    const int64_t test_size = rc_cfg_get_int(cfg, "test.size");
    rc_metrics rcm, endm;
    int64_t rc_rows = 0, end_rows = 0;
    double rc_secs = 0, end_secs = 0;
    if ((st = evaluate(&ev, RC_SPLIT_TEST, test_size, 1, &rcm, &rc_rows, &rc_secs, err))) goto done;
    if ((st = evaluate(&ev, RC_SPLIT_TEST, test_size, 0, &endm, &end_rows, &end_secs, err))) goto done;

    /* ---- summary.json ---- */
    cfg_json = rc_cfg_to_json(cfg, 2);
    const double wall = now_s() - t_start;
    rc_sb_printf(&sb, "{\n  \"rcsim_version\": \"%s\",\n  \"git_revision\": \"%s\",\n", RC_VERSION, RC_GIT_REV);
    rc_sb_printf(&sb, "  \"task\": "); rc_sb_json_str(&sb, task);
    rc_sb_printf(&sb, ",\n  \"model\": \"lstm\",\n  \"hidden\": %d,\n  \"parameters\": %zu,\n", shape.H, net->nparams);
    rc_sb_printf(&sb, "  \"mode\": \"%s\",\n  \"threshold\": ", eos ? "eos" : "rc");
    rc_sb_json_num(&sb, theta);
    rc_sb_printf(&sb, ",\n  \"beta\": "); rc_sb_json_num(&sb, beta);
    rc_sb_printf(&sb, ",\n  \"seed\": %llu,\n  \"threads\": %d,\n  \"steps\": %d,\n", (unsigned long long)seed,
                 rc_pool_nthreads(pool), T);
    rc_sb_printf(&sb, "  \"interrupted\": %s,\n", interrupted ? "true" : "false");
    rc_sb_printf(&sb, "  \"train\": {\n    \"examples\": %lld,\n    \"batches\": %lld,\n", (long long)trained,
                 (long long)((trained + batch - 1) / batch));
    rc_sb_printf(&sb, "    \"examples_per_s\": "); rc_sb_json_num(&sb, trained / (train_time > 0 ? train_time : 1));
    rc_sb_printf(&sb, ",\n    \"wall_s\": "); rc_sb_json_num(&sb, train_time);
    rc_sb_printf(&sb, ",\n    \"steps_computed_fraction\": ");
    rc_sb_json_num(&sb, trained ? (double)train_rows / ((double)trained * T) : 0);
    rc_sb_printf(&sb, ",\n    \"selected_by\": \"%s\",\n    \"selected_batch\": %lld\n  },\n",
                 select_last ? "last" : select_end ? "validation accuracy_at_end" : "validation accuracy (RC-inference)",
                 (long long)best_batch);
    rc_sb_printf(&sb, "  \"validation\": {\n");
    json_metrics(&sb, &best_val, "    ");
    rc_sb_printf(&sb, "\n  },\n  \"test\": {\n    \"inference\": \"rc\",\n");
    rcm.has_end = 1;
    rcm.accuracy_at_end = endm.accuracy_at_end;
    json_metrics(&sb, &rcm, "    ");
    rc_sb_printf(&sb, ",\n    \"steps_computed_fraction\": ");
    rc_sb_json_num(&sb, (double)rc_rows / ((double)test_size * T));
    rc_sb_printf(&sb, ",\n    \"examples_per_s\": "); rc_sb_json_num(&sb, test_size / (rc_secs > 0 ? rc_secs : 1e-9));
    rc_sb_printf(&sb, ",\n    \"eos_inference\": {\n      \"accuracy\": ");
    rc_sb_json_num(&sb, endm.accuracy_at_end);
    rc_sb_printf(&sb, ",\n      \"steps_computed_fraction\": 1,\n      \"examples_per_s\": ");
    rc_sb_json_num(&sb, test_size / (end_secs > 0 ? end_secs : 1e-9));
    rc_sb_printf(&sb, "\n    }\n  },\n");
    rc_sb_printf(&sb, "  \"other_inference\": \"%s\",\n",
                 eos ? "EOS-trained model under RC-inference: see test.accuracy, test.mean_spike_step"
                     : "RC-trained model under EOS-inference: see test.accuracy_at_end");
    rc_sb_printf(&sb, "  \"wall_s\": "); rc_sb_json_num(&sb, wall);
    rc_sb_printf(&sb, ",\n  \"config\": %s\n}\n", cfg_json ? cfg_json : "{}");
    if (sb.oom) { st = rc_err_set(err, RC_ERR_NOMEM, "out of memory writing summary"); goto done; }
    snprintf(path, sizeof path, "%s/summary.json", outdir);
    if ((st = rc_write_atomic(path, sb.s, sb.len, err))) goto done;
    if (!a->quiet)
        fprintf(stderr, "rcsim: %s %s: test accuracy %.4f at mean spike step %.2f/%d (no spike %.4f), "
                        "accuracy at end %.4f; %s/summary.json\n",
                task, eos ? "eos" : "rc", rcm.accuracy, rcm.mean_spike_step, T, rcm.no_spike_fraction,
                endm.accuracy_at_end, outdir);
    if (interrupted) st = rc_err_set(err, RC_ERR_INTERRUPTED, "interrupted by signal %d", (int)g_signal);

done:
    if (mf) fclose(mf);
    rc_sb_free(&sb);
    free(cfg_json);
    free(best);
    free(res);
    free(idx);
    rc_engine_free(eng);
    rc_pool_free(pool);
    rc_net_free(net);
    rc_dataset_free(ds);
    rc_cfg_free(cfg);
    return st;
}

int rc_run_signal(void) { return (int)g_signal; }
