/* main.c — the rcsim command line. The only place that calls exit codes:
 * 0 success, 1 runtime failure (I/O, data, numeric), 2 bad config or usage,
 * 130 / 143 interrupted by SIGINT / SIGTERM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "io/cfg.h"
#include "models/lstm.h"
#include "sim/pool.h"
#include "sim/run.h"
#include "sim/spec.h"
#include "sim/snn_engine.h"

char *openblas_get_config(void);
char *openblas_get_corename(void);

static void usage_main(FILE *f)
{
    fprintf(f,
        "rcsim %s — rank-coding simulator and trainer for recurrent and spiking networks\n\n"
        "usage:\n"
        "  rcsim run CFG [options]   train and test the network described by CFG\n"
        "  rcsim eval CFG --model DIR/model.h5 [--thresholds LIST] [options]\n"
        "                            test a trained model at several thresholds\n"
        "  rcsim info [CFG] [--threads N]\n"
        "                            build options, BLAS, cores, thread placement, and\n"
        "                            the partition plan of CFG's layers over the threads\n"
        "  rcsim --help | --version\n\n"
        "`rcsim run --help` lists the run options and every config key.\n", RC_VERSION);
}

static void usage_run(FILE *f)
{
    fprintf(f,
        "usage: rcsim run CFG [--set section.key=value]... [--out DIR] [--seed N] [--threads N] [--resume DIR]\n\n"
        "  CFG                       INI config file ([section] / key = value / # comments)\n"
        "  --set section.key=value   override one config key (repeatable, applied in order)\n"
        "  --out DIR                 run folder (output.dir); gets summary.json, metrics.csv\n"
        "  --seed N                  seed of data and initial weights (sim.seed)\n"
        "  --threads N               worker threads, 0 = one per core (sim.threads)\n"
        "  --resume DIR              continue the run whose checkpoint is DIR/model.h5 (same\n"
        "                            config; train.examples may be raised); writes into DIR\n"
        "                            unless --out is given\n"
        "  -h, --help                this text\n\n"
        "SIGINT/SIGTERM finish the current batch, write DIR/model.h5 and exit 130/143.\n"
        "Exit status: 0 ok, 1 runtime error, 2 bad config or usage, 130/143 interrupted.\n\n"
        "Config keys (type, range, default):\n");
    rc_cfg_print_help(rc_spec, rc_nspec, f);
}

static void usage_eval(FILE *f)
{
    fprintf(f,
        "usage: rcsim eval CFG --model DIR/model.h5 [--thresholds 0.5,0.7,0.9,0.95,0.99]\n"
        "                  [--set section.key=value]... [--out DIR] [--threads N]\n\n"
        "Loads the kept model of a checkpoint written by `rcsim run` with the same\n"
        "config, tests it with RC-inference at each threshold and writes\n"
        "  tradeoff.csv  threshold, accuracy, mean_spike_step, mean_spike_fraction,\n"
        "                no_spike_fraction, accuracy_at_end, examples_per_s\n"
        "  traces.h5     spike report of the test set at train.threshold\n"
        "into --out DIR (default: the model's folder).\n"
        "For model.type = snn the thresholds scale the output layer's V_th (any\n"
        "values in (0, 1000], default 0.5,0.75,1,1.25,1.5,2,3) and tradeoff.csv\n"
        "adds synops_per_example.\n");
}

static const char *g_cmd = "run";

static int need_arg(int i, int argc, const char *flag)
{
    if (i + 1 >= argc) {
        fprintf(stderr, "rcsim %s: %s needs a value; see rcsim %s --help\n", g_cmd, flag, g_cmd);
        return 0;
    }
    return 1;
}

static int cmd_run(int argc, char **argv, int eval)
{
    g_cmd = eval ? "eval" : "run";
    rc_run_args a = { 0 };
    const char **sets = calloc((size_t)argc, sizeof *sets);
    if (!sets) return 1;
    a.sets = sets;
    int rc = 2;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) { if (eval) usage_eval(stdout); else usage_run(stdout); rc = 0; goto out; }
        else if (!strcmp(s, "--set")) { if (!need_arg(i, argc, s)) goto out; sets[a.nset++] = argv[++i]; }
        else if (!strncmp(s, "--set=", 6)) sets[a.nset++] = s + 6;
        else if (!strcmp(s, "--out")) { if (!need_arg(i, argc, s)) goto out; a.out = argv[++i]; }
        else if (!strcmp(s, "--seed")) { if (!need_arg(i, argc, s)) goto out; a.seed = argv[++i]; }
        else if (!strcmp(s, "--threads")) { if (!need_arg(i, argc, s)) goto out; a.threads = argv[++i]; }
        else if (!eval && !strcmp(s, "--resume")) { if (!need_arg(i, argc, s)) goto out; a.resume = argv[++i]; }
        else if (eval && !strcmp(s, "--model")) { if (!need_arg(i, argc, s)) goto out; a.model = argv[++i]; }
        else if (eval && !strcmp(s, "--thresholds")) { if (!need_arg(i, argc, s)) goto out; a.thresholds = argv[++i]; }
        else if (s[0] == '-' && s[1]) {
            fprintf(stderr, "rcsim %s: unknown option '%s'; see rcsim %s --help\n", g_cmd, s, g_cmd);
            goto out;
        } else if (!a.cfg_path) a.cfg_path = s;
        else {
            fprintf(stderr, "rcsim %s: unexpected argument '%s' (config already given: %s)\n", g_cmd, s, a.cfg_path);
            goto out;
        }
    }
    if (!a.cfg_path) {
        fprintf(stderr, "rcsim %s: missing config file; usage: rcsim %s CFG [options]\n", g_cmd, g_cmd);
        goto out;
    }
    if (eval && !a.model) {
        fprintf(stderr, "rcsim eval: missing --model DIR/model.h5; see rcsim eval --help\n");
        goto out;
    }
    rc_err err = { "" };
    rc_status st = eval ? rc_eval(&a, &err) : rc_run(&a, &err);
    if (st == RC_OK) rc = 0;
    else {
        fprintf(stderr, "rcsim: %s\n", err.msg[0] ? err.msg : rc_status_str(st));
        if (st == RC_ERR_CONFIG || st == RC_ERR_USAGE) rc = 2;
        else if (st == RC_ERR_INTERRUPTED) rc = rc_run_signal() == 15 ? 143 : 130;
        else rc = 1;
    }
out:
    free(sets);
    return rc;
}

/* The partition plan of a config's LSTM over nthreads: contiguous tile
 * ranges, units and recurrent multiply-accumulates per thread and row-step. */
static int info_plan(const char *cfg_path, int nthreads)
{
    rc_cfg *cfg = rc_cfg_new(rc_spec, rc_nspec);
    rc_err err = { "" };
    if (!cfg) return 1;
    rc_status st = rc_cfg_load_file(cfg, cfg_path, &err);
    if (!st) st = rc_cfg_check_required(cfg, &err);
    if (st) {
        fprintf(stderr, "rcsim: %s\n", err.msg);
        rc_cfg_free(cfg);
        return st == RC_ERR_CONFIG ? 2 : 1;
    }
    if (!strcmp(rc_cfg_get_str(cfg, "model.type"), "snn")) {
        printf("\npartition plan of %s (SNN %s) on %d thread%s:\n"
               "  whole examples per thread: chunks of %d examples taken from an atomic counter\n"
               "  (examples stop at different steps); per-chunk gradients added in chunk order,\n"
               "  split by parameter across the threads\n",
               cfg_path, rc_cfg_get_str(cfg, "model.layers"), nthreads, nthreads > 1 ? "s" : "", RC_SNN_CHUNK);
        rc_cfg_free(cfg);
        return 0;
    }
    const int H = (int)rc_cfg_get_int(cfg, "model.hidden");
    const int ntiles = (H + RC_LSTM_TILE - 1) / RC_LSTM_TILE;
    printf("\npartition plan of %s (LSTM %d units = %d tiles of %d) on %d thread%s:\n",
           cfg_path, H, ntiles, RC_LSTM_TILE, nthreads, nthreads > 1 ? "s" : "");
    double maxc = 0, sum = 0;
    for (int i = 0; i < nthreads; i++) {
        size_t k0, k1;
        rc_partition((size_t)ntiles, i, nthreads, &k0, &k1);
        int u0 = (int)k0 * RC_LSTM_TILE, u1 = (int)k1 * RC_LSTM_TILE;
        if (u1 > H) u1 = H;
        if (u0 > H) u0 = H;
        double cost = 4.0 * (u1 - u0) * H; /* recurrent MACs per row-step, forward */
        printf("  thread %d: tiles [%zu, %zu), units [%d, %d), %.0f MAC per row-step%s\n", i, k0, k1, u0, u1,
               cost, i == 0 ? " (+ head, spike decisions)" : "");
        maxc = cost > maxc ? cost : maxc;
        sum += cost;
    }
    printf("  imbalance max/mean: %.3f\n", sum > 0 ? maxc / (sum / nthreads) : 1.0);
    rc_cfg_free(cfg);
    return 0;
}

static int cmd_info(int argc, char **argv)
{
    const char *cfg_path = NULL;
    int nthreads = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) nthreads = atoi(argv[++i]);
        else if (argv[i][0] != '-' && !cfg_path) cfg_path = argv[i];
        else {
            fprintf(stderr, "rcsim info: unexpected argument '%s'; usage: rcsim info [CFG] [--threads N]\n", argv[i]);
            return 2;
        }
    }
    printf("rcsim %s (git %s)\n", RC_VERSION, RC_GIT_REV);
    printf("cores: %d\n", rc_hw_ncores());
    printf("BLAS: %s (core %s)\n", openblas_get_config(), openblas_get_corename());
    printf("compiler: gcc %s, C11, -O2 -Wall -Wextra, no -ffast-math\n", __VERSION__);
    rc_err err = { "" };
    rc_pool *p = rc_pool_new(nthreads, RC_PLACE_SPREAD, &err);
    if (p) {
        char buf[8192];
        rc_pool_placement(p, buf, sizeof buf);
        printf("thread placement (--threads %d):\n%s", rc_pool_nthreads(p), buf);
        if (!nthreads) nthreads = rc_pool_nthreads(p);
        rc_pool_free(p);
    }
    if (nthreads < 1) nthreads = 1;
    return cfg_path ? info_plan(cfg_path, nthreads) : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) { usage_main(stderr); return 2; }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) { usage_main(stdout); return 0; }
    if (!strcmp(cmd, "--version")) { printf("rcsim %s (git %s)\n", RC_VERSION, RC_GIT_REV); return 0; }
    if (!strcmp(cmd, "run")) return cmd_run(argc - 2, argv + 2, 0);
    if (!strcmp(cmd, "eval")) return cmd_run(argc - 2, argv + 2, 1);
    if (!strcmp(cmd, "info")) return cmd_info(argc - 2, argv + 2);
    fprintf(stderr, "rcsim: unknown command '%s'; expected run, eval, info (see rcsim --help)\n", cmd);
    return 2;
}
