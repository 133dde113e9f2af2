/* main.c — the rcsim command line. The only place that calls exit codes:
 * 0 success, 1 runtime failure (I/O, data, numeric), 2 bad config or usage,
 * 130 / 143 interrupted by SIGINT / SIGTERM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/escape.h"
#include "io/cfg.h"
#include "sim/comm.h"
#include "sim/plan.h"
#include "sim/topo.h"
#include "sim/pool.h"
#include "sim/app/app.h"
#include "sim/app/network_cfg.h"
#include "sim/app/nir_app.h"
#include "sim/app/spec.h"
#include "sim/engine.h"

char *openblas_get_config(void);
char *openblas_get_corename(void);

static void usage_main(FILE *f)
{
    fprintf(f,
        "rcsim %s — rank-coding simulator and trainer for recurrent and spiking networks\n\n"
        "usage:\n"
        "  rcsim run CFG [options]   train and test the network described by CFG\n"
        "  rcsim eval [CFG] --model DIR/model.h5 [--thresholds LIST] [--delta-h LIST] [options]\n"
        "                            test a trained model at several thresholds (into DIR/eval;\n"
        "                            without CFG, the config stored in model.h5)\n"
        "  rcsim info [CFG] [--threads N] [--placement P] [--topology DESC] [--check]\n"
        "                            build options, BLAS, hwloc topology, thread placement,\n"
        "                            the partition plan of CFG's layers over the threads,\n"
        "                            and (--check) where each partition's pages landed\n"
        "  rcsim export-nir CFG --model DIR/model.h5 --out net.nir\n"
        "                            write a spiking (snn) model as a NIR graph; load one\n"
        "                            with model.type = snn, model.nir = FILE\n"
        "  rcsim --help | --version\n\n"
        "`rcsim run --help` lists the run options and every config key.\n", RC_VERSION);
}

static void usage_run(FILE *f)
{
    fprintf(f,
        "usage: rcsim run CFG [--set section.key=value]... [--out DIR] [--seed N] [--threads N] [--resume DIR] [--force]\n\n"
        "  CFG                       INI config file ([section] / key = value / # comments)\n"
        "  --set section.key=value   override one config key (repeatable, applied in order)\n"
        "  --out DIR                 run folder (output.dir); gets summary.json, metrics.csv\n"
        "  --seed N                  seed of data and initial weights (sim.seed)\n"
        "  --threads N               worker threads, 0 = one per idle core (sim.threads)\n"
        "  --resume DIR              continue the run whose checkpoint is DIR/model.h5 (same\n"
        "                            config; train.examples may be raised); writes into DIR\n"
        "                            unless --out is given\n"
        "  --force                   the run folder holds an earlier run's outputs: remove them\n"
        "                            (without it such a folder is refused, exit 2)\n"
        "  -h, --help                this text\n\n"
        "SIGINT/SIGTERM finish the current batch, write DIR/model.h5 and exit 130/143.\n"
        "One process per run folder (DIR/.rcsim.lock): a second one exits 2.\n"
        "Exit status: 0 ok, 1 runtime error, 2 bad config or usage, 130/143 interrupted.\n\n"
        "Config keys (type, range, default):\n");
    rc_cfg_print_help(rc_spec, rc_nspec, f);
}

static void usage_eval(FILE *f)
{
    fprintf(f,
        "usage: rcsim eval [CFG] --model DIR/model.h5 [--thresholds 0.5,0.7,0.9,0.95,0.99]\n"
        "                  [--delta-x LIST] [--delta-h LIST] [--no-end]\n"
        "                  [--set section.key=value]... [--out OUTDIR] [--threads N]\n\n"
        "Loads the kept model of a checkpoint written by `rcsim run` with the same\n"
        "config (CFG; without it, the config stored in model.h5, with --set applied),\n"
        "tests it with RC-inference at each threshold and writes\n"
        "  tradeoff.csv  threshold, accuracy, mean_spike_step, mean_spike_fraction,\n"
        "                no_spike_fraction, accuracy_at_end, examples_per_s,\n"
        "                mean_spike_ms, events_per_example, macs_per_example,\n"
        "                delta_x, delta_h, hidden_events_per_example,\n"
        "                hidden_events_per_unit_step, macs_dense_recurrent_per_example\n"
        "  traces.h5     spike report of the test set at train.threshold\n"
        "into --out OUTDIR (default: DIR/eval, so the run's own traces.h5 is kept).\n"
        "--delta-x, --delta-h (model.type = lstm or convlstm): up to 64 comma-separated delta\n"
        "thresholds >= 0 each (0 = exact), in place of model.delta_x / delta_h; every\n"
        "combination with the thresholds is tested (one row each, and one\n"
        "full-length pass per delta pair for accuracy_at_end). traces.h5 is at the\n"
        "configured model.delta_x and delta_h.\n"
        "--no-end skips those full-length passes (a ConvLSTM's cost most of a sweep):\n"
        "tradeoff.csv's accuracy_at_end is then empty.\n"
        "For model.type = snn the thresholds scale the output layer's V_th (an liN\n"
        "readout's model.v_out; any values in (0, 1000], default\n"
        "0.5,0.75,1,1.25,1.5,2,3) and tradeoff.csv has synops_per_example in place\n"
        "of the columns after mean_spike_ms.\n");
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

/* A config path that names no file is a usage error (exit 2), with the
 * folder a relative path was looked for in. */
static int cfg_exists(const char *cmd, const char *path)
{
    if (access(path, F_OK) == 0) return 1;
    char e[256], cwd[4096] = "";
    if (path[0] != '/' && !getcwd(cwd, sizeof cwd)) cwd[0] = 0;
    fprintf(stderr, "rcsim %s: %s: no such config file%s%s%s; usage: rcsim %s CFG [options]\n", cmd,
            rc_escape(e, sizeof e, path, strlen(path)), cwd[0] ? " (looked for in the current directory " : "", cwd,
            cwd[0] ? ")" : "", cmd);
    return 0;
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
        else if (!eval && !strcmp(s, "--force")) a.force = 1;
        else if (!eval && !strcmp(s, "--resume")) { if (!need_arg(i, argc, s)) goto out; a.resume = argv[++i]; }
        else if (eval && !strcmp(s, "--model")) { if (!need_arg(i, argc, s)) goto out; a.model = argv[++i]; }
        else if (eval && !strcmp(s, "--thresholds")) { if (!need_arg(i, argc, s)) goto out; a.thresholds = argv[++i]; }
        else if (eval && !strcmp(s, "--delta-x")) { if (!need_arg(i, argc, s)) goto out; a.delta_x = argv[++i]; }
        else if (eval && !strcmp(s, "--delta-h")) { if (!need_arg(i, argc, s)) goto out; a.delta_h = argv[++i]; }
        else if (eval && !strcmp(s, "--no-end")) a.no_end = 1;
        else if (s[0] == '-' && s[1]) {
            char e[256];
            fprintf(stderr, "rcsim %s: unknown option '%s'; see rcsim %s --help\n", g_cmd,
                    rc_escape(e, sizeof e, s, strlen(s)), g_cmd);
            goto out;
        } else if (!a.cfg_path) a.cfg_path = s;
        else {
            char e[256], c[256];
            fprintf(stderr, "rcsim %s: unexpected argument '%s' (config already given: %s)\n", g_cmd,
                    rc_escape(e, sizeof e, s, strlen(s)), rc_escape(c, sizeof c, a.cfg_path, strlen(a.cfg_path)));
            goto out;
        }
    }
    if (eval && !a.model) {
        fprintf(stderr, "rcsim eval: missing --model DIR/model.h5; see rcsim eval --help\n");
        goto out;
    }
    if (!a.cfg_path && eval) { /* the config stored in the checkpoint */
        a.cfg_path = a.model;
        a.cfg_stored = 1;
    } else if (!a.cfg_path) {
        fprintf(stderr, "rcsim %s: missing config file; usage: rcsim %s CFG [options]\n", g_cmd, g_cmd);
        goto out;
    } else if (!cfg_exists(g_cmd, a.cfg_path)) goto out;
    rc_err err = { "" };
    rc_status st = eval ? rc_eval(&a, &err) : rc_run(&a, &err);
    if (st == RC_OK) rc = 0;
    else {
        /* Several MPI ranks: an empty message is a rank stopped by another's
         * failure, and errors every rank meets alike are said by rank 0. */
        const int same_everywhere = st == RC_ERR_CONFIG || st == RC_ERR_USAGE || st == RC_ERR_NUMERIC ||
                                    st == RC_ERR_INTERRUPTED;
        if (rc_comm_size() == 1 || (err.msg[0] && (rc_comm_rank() == 0 || !same_everywhere)))
            fprintf(stderr, "rcsim: %s\n", err.msg[0] ? err.msg : rc_status_str(st));
        if (st == RC_ERR_CONFIG || st == RC_ERR_USAGE) rc = 2;
        else if (st == RC_ERR_INTERRUPTED) rc = rc_run_signal() == 15 ? 143 : 130;
        else rc = 1;
    }
out:
    free(sets);
    return rc;
}

/* Build facts from the compiler's own macros, so they cannot drift from
 * the Makefile. */
static void info_build(void)
{
    printf("build: gcc %s, C11", __VERSION__);
#if defined(__OPTIMIZE__)
    printf(", optimised");
#else
    printf(", not optimised (-O0)");
#endif
#if defined(__FAST_MATH__)
    printf(", -ffast-math (unsupported!)");
#else
    printf(", no -ffast-math");
#endif
#if defined(__AVX512F__)
    printf(", AVX-512");
#elif defined(__AVX2__)
    printf(", AVX2");
#elif defined(__SSE2__)
    printf(", SSE2");
#endif
#if defined(__FMA__)
    printf(" + FMA");
#endif
#if defined(__SANITIZE_ADDRESS__)
    printf(", AddressSanitizer");
#endif
#if defined(NDEBUG)
    printf(", NDEBUG (RC_ASSERT stays on)");
#endif
    printf("; Makefile: -O2 -march=native -Wall -Wextra (OPT=, ARCH= override)\n");
}

static int info_usage_err(const char *what)
{
    fprintf(stderr, "rcsim info: %s; usage: rcsim info [CFG] [--threads N] [--placement spread|compact] "
                    "[--topology DESC] [--check]\n", what);
    return 2;
}

typedef struct {
    const char *cfg_path, *threads, *place, *topo;  /* NULL: not given */
    int check;
} info_args;

/* The command line of `rcsim info`: -1 to go on, else the exit status. */
static int info_parse(int argc, char **argv, info_args *o)
{
    char msg[512];
    memset(o, 0, sizeof *o);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: rcsim info [CFG] [--threads N] [--placement spread|compact] [--topology DESC] [--check]\n\n"
                   "  prints the version, BLAS, build flags, the hwloc topology (packages, NUMA nodes\n"
                   "  with memory, cores, PUs), the thread placement and, with CFG, the partition plan\n"
                   "  of CFG's layers over the threads (neurons and estimated cost per thread,\n"
                   "  imbalance max/mean). Options override CFG's sim.* keys:\n"
                   "  --threads N          worker threads, 0 = one per idle core (sim.threads)\n"
                   "  --placement P        spread | compact (sim.placement)\n"
                   "  --topology DESC      host | synthetic:<hwloc synthetic description> |\n"
                   "                       xml:<file> (sim.topology): plan for another machine\n"
                   "  --check              (with CFG, host only) build the run's engine and report on\n"
                   "                       which NUMA node each thread's partition pages landed;\n"
                   "                       exit 1 if any is on the wrong node\n");
            return 0;
        } else if (!strcmp(a, "--threads") || !strcmp(a, "--placement") || !strcmp(a, "--topology")) {
            if (i + 1 >= argc) {
                snprintf(msg, sizeof msg, "%s needs a value", a);
                return info_usage_err(msg);
            }
            const char **dst = a[2] == 't' && a[3] == 'h' ? &o->threads : a[2] == 'p' ? &o->place : &o->topo;
            *dst = argv[++i];
        } else if (!strcmp(a, "--check")) o->check = 1;
        else if (a[0] != '-' && !o->cfg_path) o->cfg_path = a;
        else {
            snprintf(msg, sizeof msg, "unexpected argument '%s'", a);
            return info_usage_err(msg);
        }
    }
    return -1;
}

/* CFG (if given) with the options applied through the config's own checks
 * (ranges, enum values), and the topology it describes; -1 to go on, else
 * the exit status (the error printed). */
static int info_config(const info_args *o, rc_cfg *cfg, rc_topo **topo)
{
    rc_err err = { "" };
    rc_status st = RC_OK;
    if (o->cfg_path) {
        st = rc_cfg_load_file(cfg, o->cfg_path, &err);
        if (!st) st = rc_cfg_check_required(cfg, &err);
    }
    if (!st && o->threads) st = rc_app_cfg_flag(cfg, "--threads", o->threads, &err);
    if (!st && o->place) st = rc_app_cfg_flag(cfg, "--placement", o->place, &err);
    if (!st && o->topo) st = rc_app_cfg_flag(cfg, "--topology", o->topo, &err);
    int from_cfg = 0; /* a bad sim.topology in CFG: name the file too */
    if (!st) {
        st = rc_topo_new(topo, rc_cfg_get_str(cfg, "sim.topology"), o->topo ? "--topology" : "sim.topology", &err);
        from_cfg = st && o->cfg_path && !o->topo;
    }
    if (st) {
        fprintf(stderr, "rcsim: %s%s%s\n", from_cfg ? o->cfg_path : "", from_cfg ? ": " : "", err.msg);
        return st == RC_ERR_CONFIG || st == RC_ERR_USAGE ? 2 : 1;
    }
    if (o->check && (!o->cfg_path || !rc_topo_is_host(*topo)))
        return info_usage_err(!o->cfg_path ? "--check needs a config (CFG) to build"
                                           : "--check verifies this machine only; a planned topology has no pages to check");
    return -1;
}

/* Where the nth threads run (pl: their planned places): the real pool's
 * bindings on this machine, the plan on another. */
static void info_placement(const rc_topo *topo, int nth, rc_placement place, const rc_thread_place *pl)
{
    const char *pname = place == RC_PLACE_SPREAD ? "spread" : "compact";
    if (rc_topo_is_host(topo)) {
        /* The real pool: its lines say whether each thread did get bound. */
        rc_err err = { "" };
        rc_pool *p = rc_pool_new(nth, place, &err);
        if (p) {
            char buf[16384];
            rc_pool_placement(p, buf, sizeof buf);
            printf("thread placement (%d thread%s, %s):\n%s", nth, nth > 1 ? "s" : "", pname, buf);
            rc_pool_free(p);
        } else
            printf("thread placement: cannot create the pool: %s\n", err.msg);
        const char *why = NULL;
        if (rc_topo_can_membind(topo, &why))
            printf("memory: each thread's partition is bound to its NUMA node (hwloc membind, migrating touched pages)\n");
        else
            printf("memory: not bound (%s)\n", why);
    } else {
        printf("thread placement (%d thread%s, %s; planned, nothing is bound):\n", nth, nth > 1 ? "s" : "", pname);
        for (int i = 0; i < nth; i++)
            printf("thread %d -> core %d (PU %d, NUMA %d, package %d)%s\n", i, pl[i].core, pl[i].pu, pl[i].numa,
                   pl[i].package, pl[i].shared ? " [shares its PU: more threads than PUs]" : "");
    }
}

/* The partition plan of the network shape CFG describes over its data set
 * (rc_app_shape, as a run builds it); exit status 0, or 1/2 with the error
 * printed. */
static int info_plan(const rc_cfg *cfg, const char *cfg_path, const rc_topo *topo, int nth, rc_placement place,
                     const rc_thread_place *pl)
{
    rc_err err = { "" };
    rc_dataset *ds = NULL;
    rc_net_shape shape;
    char desc[256];
    rc_status st = rc_app_data_new(cfg, cfg_path, &ds, &err);
    if (!st) st = rc_app_shape(cfg, cfg_path, ds, &shape, desc, sizeof desc, NULL, &err);
    rc_dataset_free(ds);
    if (st) {
        fprintf(stderr, "rcsim: %s\n", err.msg);
        return st == RC_ERR_CONFIG || st == RC_ERR_USAGE ? 2 : 1;
    }
    if (shape.core == RC_CORE_LIF) {
        printf("\npartition plan of %s (SNN %s) on %d thread%s:\n"
               "  whole examples per thread: chunks of %d examples taken from an atomic counter\n"
               "  (examples stop at different steps); per-chunk gradients added in chunk order,\n"
               "  split by parameter across the threads; not bound to NUMA nodes yet\n",
               cfg_path, rc_cfg_get_str(cfg, "model.layers"), nth, nth > 1 ? "s" : "", RC_ENGINE_LIF_CHUNK);
        printf("  model: %s\n", desc);
        return 0;
    }
    rc_plan *plan = rc_plan_new(&shape, (int)rc_cfg_get_int(cfg, "train.batch"), nth, pl, &err);
    if (!plan) {
        fprintf(stderr, "rcsim: %s\n", err.msg);
        return 1;
    }
    printf("\npartition plan of %s on %d thread%s (%s, train.batch %lld):\n", cfg_path, nth, nth > 1 ? "s" : "",
           place == RC_PLACE_SPREAD ? "spread" : "compact", rc_cfg_get_int(cfg, "train.batch"));
    printf("  model: %s\n", desc);
    rc_plan_print(plan, stdout);
    /* Locality: every owned partition lives on its thread's node. */
    int nn = rc_topo_nnuma(topo), nonlocal = 0;
    printf("  per NUMA node:");
    for (int k = 0; k < nn; k++) {
        int t = 0;
        long long neur = 0;
        const rc_layer_plan *L = &plan->layer[plan->tiles_layer];
        for (int i = 0; i < nth; i++)
            if (pl[i].numa == k) { t++; neur += L->neurons[i]; }
        printf("%s node %d: %d thread%s, %lld %s", k ? ";" : "", k, t, t == 1 ? "" : "s", neur, L->neuron);
    }
    for (int i = 0; i < nth; i++) nonlocal += pl[i].numa < 0;
    printf("\n  locality: %s\n", nonlocal ? "some threads have no NUMA node (their memory is not bound)"
                               : shape.core == RC_CORE_CONVLSTM
                                   ? "each thread's im2col scratch is bound to its own NUMA node; the ConvLSTM "
                                     "weights, read by every thread, are interleaved over the threads' nodes"
                                   : "each thread's w_hh rows, gradients and Adam moments are bound to its own "
                                     "NUMA node; shared tensors are interleaved over the threads' nodes");
    printf("  thread 0 also runs the head's backward and the spike decisions (serial, in row order)\n");
    if (nth > 1)
        printf("  evaluation (validation, test, rcsim eval): whole test.batch batches (%lld examples) per thread, each\n"
               "  thread on its own one-thread engine, no barrier between threads (engine team), where there are at\n"
               "  least 2 batches per thread and the %d engines fit in a quarter of the memory; else as training\n",
               rc_cfg_get_int(cfg, "test.batch"), nth);
    rc_plan_free(plan);
    return 0;
}

/* --check: builds the run's engine (nth threads, the same placement) and
 * reports where its pages landed; exit status 0, or 1 on a mismatch. */
static int info_check(const info_args *o, int nth, rc_placement place)
{
    char tbuf[32], s1[600], s2[600];
    snprintf(tbuf, sizeof tbuf, "%d", nth);
    const char *sets[2];
    int nset = 0;
    snprintf(s1, sizeof s1, "sim.placement=%s", place == RC_PLACE_SPREAD ? "spread" : "compact");
    sets[nset++] = s1;
    if (o->topo) { snprintf(s2, sizeof s2, "sim.topology=%s", o->topo); sets[nset++] = s2; }
    rc_run_args a = { .cfg_path = o->cfg_path, .sets = sets, .nset = nset, .threads = tbuf, .quiet = 1 };
    int bad = 0;
    rc_err err = { "" };
    printf("\nNUMA check (%s, building the run's engine):\n", o->cfg_path);
    fflush(stdout);
    rc_status st = rc_run_numa_check(&a, &bad, &err);
    if (st) {
        fprintf(stderr, "rcsim: %s\n", err.msg);
        return st == RC_ERR_CONFIG || st == RC_ERR_USAGE ? 2 : 1;
    }
    return bad > 0;
}

static int cmd_info(int argc, char **argv)
{
    info_args o;
    int rc = info_parse(argc, argv, &o);
    if (rc >= 0) return rc;
    rc_cfg *cfg = rc_cfg_new(rc_spec, rc_nspec);
    if (!cfg) return 1;
    rc_topo *topo = NULL;
    rc_thread_place *pl = NULL;
    if (o.cfg_path && !cfg_exists("info", o.cfg_path)) { rc = 2; goto out; }
    if ((rc = info_config(&o, cfg, &topo)) >= 0) goto out;
    rc = 0;
    const rc_placement place = rc_app_placement(cfg);
    int nth = (int)rc_cfg_get_int(cfg, "sim.threads");
    if (nth == 0) nth = rc_topo_ncores(topo);
    printf("rcsim %s (git %s)\n", RC_VERSION, RC_GIT_REV);
    printf("BLAS: %s (core %s)\n", openblas_get_config(), openblas_get_corename());
    info_build();
    rc_topo_print(topo, stdout);
    rc_err err = { "" };
    pl = calloc((size_t)nth, sizeof *pl);
    if (!pl || rc_topo_place(topo, nth, place, pl, &err) != RC_OK) {
        fprintf(stderr, "rcsim: out of memory planning %d threads\n", nth);
        rc = 1;
        goto out;
    }
    info_placement(topo, nth, place, pl);
    if (o.cfg_path && !strcmp(rc_cfg_get_str(cfg, "task.name"), "network")) rc = rc_netinfo(cfg, o.cfg_path, topo, nth, place, pl);
    else if (o.cfg_path) rc = info_plan(cfg, o.cfg_path, topo, nth, place, pl);
    if (!rc && o.check) rc = info_check(&o, nth, place);
out:
    free(pl);
    rc_topo_free(topo);
    rc_cfg_free(cfg);
    return rc;
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) { usage_main(stderr); return 2; }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) { usage_main(stdout); return 0; }
    if (!strcmp(cmd, "--version")) { printf("rcsim %s (git %s)\n", RC_VERSION, RC_GIT_REV); return 0; }
    if (!strcmp(cmd, "run")) return cmd_run(argc - 2, argv + 2, 0);
    if (!strcmp(cmd, "eval")) return cmd_run(argc - 2, argv + 2, 1);
    if (!strcmp(cmd, "info")) return cmd_info(argc - 2, argv + 2);
    if (!strcmp(cmd, "export-nir")) return rc_export_nir_main(argc - 2, argv + 2);
    char e[256];
    fprintf(stderr, "rcsim: unknown command '%s'; expected run, eval, info, export-nir (see rcsim --help)\n",
            rc_escape(e, sizeof e, cmd, strlen(cmd)));
    return 2;
}

int main(int argc, char **argv)
{
    rc_err err = {0};
    if (rc_comm_init(&argc, &argv, &err) != RC_OK) {
        fprintf(stderr, "rcsim: %s\n", err.msg);
        return 1;
    }
    int rc = dispatch(argc, argv);
    rc_comm_finalize();
    return rc;
}
