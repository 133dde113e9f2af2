/* main.c — the rcsim command line. The only place that calls exit codes:
 * 0 success, 1 runtime failure (I/O, data, numeric), 2 bad config or usage,
 * 130 / 143 interrupted by SIGINT / SIGTERM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "io/cfg.h"
#include "sim/pool.h"
#include "sim/run.h"
#include "sim/spec.h"

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
        "  rcsim info                build options, BLAS, cores\n"
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
        "into --out DIR (default: the model's folder).\n");
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

static int cmd_info(void)
{
    printf("rcsim %s (git %s)\n", RC_VERSION, RC_GIT_REV);
    printf("cores: %d\n", rc_hw_ncores());
    printf("BLAS: %s (core %s)\n", openblas_get_config(), openblas_get_corename());
    printf("compiler: gcc %s, C11, -O2 -Wall -Wextra, no -ffast-math\n", __VERSION__);
    rc_err err = { "" };
    rc_pool *p = rc_pool_new(0, RC_PLACE_SPREAD, &err);
    if (p) {
        char buf[8192];
        rc_pool_placement(p, buf, sizeof buf);
        printf("thread placement (--threads %d):\n%s", rc_pool_nthreads(p), buf);
        rc_pool_free(p);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) { usage_main(stderr); return 2; }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) { usage_main(stdout); return 0; }
    if (!strcmp(cmd, "--version")) { printf("rcsim %s (git %s)\n", RC_VERSION, RC_GIT_REV); return 0; }
    if (!strcmp(cmd, "run")) return cmd_run(argc - 2, argv + 2, 0);
    if (!strcmp(cmd, "eval")) return cmd_run(argc - 2, argv + 2, 1);
    if (!strcmp(cmd, "info")) return cmd_info();
    fprintf(stderr, "rcsim: unknown command '%s'; expected run, eval, info (see rcsim --help)\n", cmd);
    return 2;
}
