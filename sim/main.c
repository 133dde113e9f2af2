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

int rc_run_signal(void);
char *openblas_get_config(void);
char *openblas_get_corename(void);

static void usage_main(FILE *f)
{
    fprintf(f,
        "rcsim %s — rank-coding simulator and trainer for recurrent and spiking networks\n\n"
        "usage:\n"
        "  rcsim run CFG [options]   train and test the network described by CFG\n"
        "  rcsim info                build options, BLAS, cores\n"
        "  rcsim --help | --version\n\n"
        "`rcsim run --help` lists the run options and every config key.\n", RC_VERSION);
}

static void usage_run(FILE *f)
{
    fprintf(f,
        "usage: rcsim run CFG [--set section.key=value]... [--out DIR] [--seed N] [--threads N]\n\n"
        "  CFG                       INI config file ([section] / key = value / # comments)\n"
        "  --set section.key=value   override one config key (repeatable, applied in order)\n"
        "  --out DIR                 run folder (output.dir); gets summary.json, metrics.csv\n"
        "  --seed N                  seed of data and initial weights (sim.seed)\n"
        "  --threads N               worker threads, 0 = one per core (sim.threads)\n"
        "  -h, --help                this text\n\n"
        "Exit status: 0 ok, 1 runtime error, 2 bad config or usage, 130/143 interrupted.\n\n"
        "Config keys (type, range, default):\n");
    rc_cfg_print_help(rc_spec, rc_nspec, f);
}

static int need_arg(int i, int argc, const char *flag)
{
    if (i + 1 >= argc) {
        fprintf(stderr, "rcsim run: %s needs a value; see rcsim run --help\n", flag);
        return 0;
    }
    return 1;
}

static int cmd_run(int argc, char **argv)
{
    rc_run_args a = { 0 };
    const char **sets = calloc((size_t)argc, sizeof *sets);
    if (!sets) return 1;
    a.sets = sets;
    int rc = 2;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) { usage_run(stdout); rc = 0; goto out; }
        else if (!strcmp(s, "--set")) { if (!need_arg(i, argc, s)) goto out; sets[a.nset++] = argv[++i]; }
        else if (!strncmp(s, "--set=", 6)) sets[a.nset++] = s + 6;
        else if (!strcmp(s, "--out")) { if (!need_arg(i, argc, s)) goto out; a.out = argv[++i]; }
        else if (!strcmp(s, "--seed")) { if (!need_arg(i, argc, s)) goto out; a.seed = argv[++i]; }
        else if (!strcmp(s, "--threads")) { if (!need_arg(i, argc, s)) goto out; a.threads = argv[++i]; }
        else if (s[0] == '-' && s[1]) {
            fprintf(stderr, "rcsim run: unknown option '%s'; see rcsim run --help\n", s);
            goto out;
        } else if (!a.cfg_path) a.cfg_path = s;
        else {
            fprintf(stderr, "rcsim run: unexpected argument '%s' (config already given: %s)\n", s, a.cfg_path);
            goto out;
        }
    }
    if (!a.cfg_path) {
        fprintf(stderr, "rcsim run: missing config file; usage: rcsim run CFG [options]\n");
        goto out;
    }
    rc_err err = { "" };
    rc_status st = rc_run(&a, &err);
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
    if (!strcmp(cmd, "run")) return cmd_run(argc - 2, argv + 2);
    if (!strcmp(cmd, "info")) return cmd_info();
    fprintf(stderr, "rcsim: unknown command '%s'; expected run, info (see rcsim --help)\n", cmd);
    return 2;
}
