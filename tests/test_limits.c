/* test_limits.c — issue 18, the binary against configs that ask for too much
 * or run into NaN: sizes are config errors (exit 2, the key and a memory
 * estimate, before any training), train.adam_eps = 0 is refused, a checkpoint
 * holding NaN is refused by eval and resume, `--resume` of a finished run
 * keeps validation.majority_fraction, and a long --out path keeps the reason
 * and exit 2. Runs the binary named by $RCSIM (default ./rcsim). */
#include "tests/testutil.h"
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sim/adam.h"
#include "sim/app/app.h"

static char g_dir[256];

static int setup(void **st)
{
    (void)st;
    return rc_test_mkdtemp(g_dir, sizeof g_dir, "/tmp/rcsim_limits_");
}

static int teardown(void **st)
{
    (void)st;
    return rc_test_rmtree(g_dir);
}

static const char *GOOD =
    "[task]\nname = spotting\n\n"
    "[model]\nhidden = 8\n\n"
    "[train]\nlr = 0.003\nbatch = 32\nexamples = 128\nval_every = 2\nval_size = 64\n\n"
    "[test]\nsize = 64\nbatch = 64\n\n"
    "[output]\nprogress = off\ntraces = false\n";

static void write_cfg(const char *name, const char *text, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Runs "rcsim ARGS" with stdout dropped; stderr into buf; the exit code. */
static int run(const char *args, char *buf, size_t cap)
{
    char cmd[8192], out[512];
    snprintf(out, sizeof out, "%s/stderr.txt", g_dir);
    snprintf(cmd, sizeof cmd, "%s %s >/dev/null 2>'%s'", rc_test_bin(), args, out);
    int rc = system(cmd);
    FILE *f = fopen(out, "r");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = 0;
    if (f) fclose(f);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
}

static int exists(const char *dir, const char *name)
{
    char p[1024];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &sb) == 0;
}

/* A huge conv layer: a config error naming model.layers (was an int overflow
 * tripping an assertion, exit 134). test.size = 1e9: refused before training
 * with the estimate (was "out of memory" after training). */
static void test_sizes(void **st)
{
    (void)st;
    char cfg[512], args[2048], err[8192], out[600];
    write_cfg("good.cfg", GOOD, cfg, sizeof cfg);
    snprintf(out, sizeof out, "%s/o_conv", g_dir);
    snprintf(args, sizeof args, "run '%s' --out '%s' --set task.name=tmnist --set task.data_dir=%s --set model.type=snn --set model.hidden=0 "
             "--set 'model.layers=conv1000000k1000000p999999 fc10'", cfg, out, g_dir);
    /* no MNIST here: the layer check must come first, or the data error; never an abort */
    int rc = run(args, err, sizeof err);
    assert_int_not_equal(rc, 134);
    snprintf(args, sizeof args, "run '%s' --out '%s' --set model.type=snn --set model.hidden=0 --set 'model.layers=fc1000000 fc1000000 fc1000000 fc2'",
             cfg, out);
    rc = run(args, err, sizeof err);
    if (rc != 2) print_error("%s", err);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(err, "model.layers"));
    assert_non_null(strstr(err, "GiB"));
    snprintf(out, sizeof out, "%s/o_test", g_dir);
    snprintf(args, sizeof args, "run '%s' --out '%s' --set test.size=1000000000 --set output.traces=true", cfg, out);
    rc = run(args, err, sizeof err);
    if (rc != 2) print_error("%s", err);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(err, "test.size = 1000000000 needs about"));
    assert_non_null(strstr(err, "GiB of memory here"));
    assert_false(exists(out, "metrics.csv")); /* before training */
}

/* The conv overflow itself, on a 28x28 image input (rc_lif_parse). */
static void test_lif_overflow(void **st)
{
    (void)st;
    rc_lif_shape s;
    char msg[512];
    assert_int_equal(rc_lif_parse(&s, "conv1000000k1000000p999999 fc10", 1, 28, 28, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "more than the 268435456 a layer may have"));
    assert_int_equal(rc_lif_parse(&s, "conv1000k999p998 fc10", 1, 28, 28, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "neurons"));
    assert_int_equal(rc_lif_parse(&s, "conv32k3p1 pool2 fc10", 1, 28, 28, msg, sizeof msg), 0);
    assert_int_equal(s.L[0].nout, 32 * 28 * 28);
}

static void test_adam_eps_zero(void **st)
{
    (void)st;
    char cfg[512], args[2048], err[8192];
    write_cfg("good.cfg", GOOD, cfg, sizeof cfg);
    snprintf(args, sizeof args, "run '%s' --out '%s/o_eps' --set train.adam_eps=0", cfg, g_dir);
    assert_int_equal(run(args, err, sizeof err), 2);
    assert_non_null(strstr(err, "train.adam_eps = 0 is out of range"));
}

/* A model.h5 holding a NaN (written through the library, CRC and all, as the
 * old code did after adam_eps = 0) is refused by eval and by resume. */
static void test_nan_checkpoint(void **st)
{
    (void)st;
    char cfg[512], args[2048], err[8192], dir[600];
    write_cfg("good.cfg", GOOD, cfg, sizeof cfg);
    snprintf(dir, sizeof dir, "%s/o_nan", g_dir);
    snprintf(args, sizeof args, "run '%s' --out '%s'", cfg, dir);
    assert_int_equal(run(args, err, sizeof err), 0);
    rc_app_setup S;
    rc_err e = { "" };
    rc_run_args a = { .cfg_path = cfg, .out = dir, .quiet = 1 };
    assert_int_equal(rc_app_setup_build(&S, &a, &e), RC_OK);
    rc_app_state ts = { 0 };
    S.best[5] = NAN;
    assert_int_equal(rc_app_state_save(&S, &ts, S.best, S.best, dir, &e), RC_OK);
    char path[700];
    snprintf(path, sizeof path, "%s/model.h5", dir);
    float *kept = malloc(S.net->nparams * sizeof *kept);
    assert_int_equal(rc_app_state_load(&S, &ts, kept, path, 0, &e), RC_ERR_DATA);
    assert_non_null(strstr(e.msg, "tensor best_params holds a non-finite value (nan) at index 5, in w_ih [5]"));
    free(kept);
    rc_app_setup_free(&S);
    snprintf(args, sizeof args, "eval '%s' --model '%s/model.h5'", cfg, dir);
    assert_int_equal(run(args, err, sizeof err), 1);
    assert_non_null(strstr(err, "non-finite value"));
}

/* --resume of a finished run: the same majority fraction as the run itself. */
static double majority_of(const char *summary)
{
    FILE *f = fopen(summary, "r");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    const char *p = strstr(buf, "\"majority_fraction\": ");
    assert_non_null(p);
    return atof(p + strlen("\"majority_fraction\": "));
}

/* NaN injection: a non-finite gradient skips the update and is reported with
 * its index; a parameter that turns non-finite is reported too. */
static void test_nan_injection(void **st)
{
    (void)st;
    rc_net_shape s = { .nin = 3, .H = 16, .K = 2 };
    rc_net *net = rc_net_new(&s, 7);
    rc_err err;
    rc_pool *pool = rc_pool_new(2, RC_PLACE_SPREAD, &err);
    assert_non_null(net);
    assert_non_null(pool);
    rc_adam *a = rc_adam_new(net, pool);
    assert_non_null(a);
    for (size_t i = 0; i < net->nparams; i++) net->grads[i] = 1e-3f * (float)(i % 7);
    size_t bad = (size_t)-1;
    rc_adam_step(a, 1e-3, 0.9, 0.999, 1e-8, 0, 1);
    assert_int_equal(rc_adam_fault(a, &bad), 0);
    /* 1: a NaN gradient: no parameter moves. */
    float *before = malloc(net->nparams * sizeof *before);
    assert_non_null(before);
    memcpy(before, net->params, net->nparams * sizeof *before);
    const size_t k = net->nparams / 3;
    net->grads[k] = NAN;
    assert_true(isinf(rc_adam_step(a, 1e-3, 0.9, 0.999, 1e-8, 0, 2)));
    assert_int_equal(rc_adam_fault(a, &bad), 1);
    assert_int_equal(bad, k);
    assert_memory_equal(before, net->params, net->nparams * sizeof *before);
    /* The same with clipping (the norm is summed then) and an infinity on
     * the second thread's half. */
    net->grads[k] = 0.0f;
    net->grads[net->nparams - 2] = -INFINITY;
    assert_false(isfinite(rc_adam_step(a, 1e-3, 0.9, 0.999, 1e-8, 1.0, 2)));
    assert_int_equal(rc_adam_fault(a, &bad), 1);
    assert_int_equal(bad, net->nparams - 2);
    assert_memory_equal(before, net->params, net->nparams * sizeof *before);
    net->grads[net->nparams - 2] = 0.0f;
    net->grads[k] = NAN;
    rc_adam_step(a, 1e-3, 0.9, 0.999, 1e-8, 0, 2);
    assert_int_equal(rc_adam_fault(a, &bad), 1);
    assert_memory_equal(before, net->params, net->nparams * sizeof *before);
    /* 2: a parameter that is (and stays) infinite after the update. */
    net->grads[k] = 0.0f;
    net->params[k + 5] = INFINITY;
    rc_adam_step(a, 1e-3, 0.9, 0.999, 1e-8, 0, 3);
    assert_int_equal(rc_adam_fault(a, &bad), 2);
    assert_int_equal(bad, k + 5);
    free(before);
    rc_adam_free(a);
    rc_pool_free(pool);
    rc_net_free(net);
}

static void test_resume_majority(void **st)
{
    (void)st;
    char cfg[512], args[2048], err[8192], dir[600], sum[700];
    write_cfg("good.cfg", GOOD, cfg, sizeof cfg);
    snprintf(dir, sizeof dir, "%s/o_res", g_dir);
    snprintf(args, sizeof args, "run '%s' --out '%s'", cfg, dir);
    assert_int_equal(run(args, err, sizeof err), 0);
    snprintf(sum, sizeof sum, "%s/summary.json", dir);
    const double m0 = majority_of(sum);
    assert_true(m0 > 0.3 && m0 <= 1);
    snprintf(args, sizeof args, "run '%s' --resume '%s'", cfg, dir);
    assert_int_equal(run(args, err, sizeof err), 0);
    assert_true(fabs(majority_of(sum) - m0) < 1e-9);
}

/* A long --out path and a config error: the reason is not cut off, exit 2;
 * a --set value with an escape sequence is echoed escaped. */
static void test_long_path_message(void **st)
{
    (void)st;
    char cfg[512], args[8192], err[16384], dir[4096];
    write_cfg("good.cfg", GOOD, cfg, sizeof cfg);
    int o = snprintf(dir, sizeof dir, "%s/", g_dir);
    for (int k = 0; k < 12; k++) o += snprintf(dir + o, sizeof dir - (size_t)o, "%0250d/", k);
    snprintf(args, sizeof args, "run '%s' --out '%s' --set train.adam_eps=0", cfg, dir);
    assert_int_equal(run(args, err, sizeof err), 2);
    assert_non_null(strstr(err, "is out of range"));
    snprintf(args, sizeof args, "run '%s' --out '%s' --set \"$(printf 'train.batch=1\\033[2J')\"", cfg, dir);
    assert_int_equal(run(args, err, sizeof err), 2);
    assert_null(strchr(err, '\033'));
    assert_non_null(strstr(err, "\\x1b[2J"));
    /* one line */
    assert_true(strchr(err, '\n') == err + strlen(err) - 1);
}

/* rcsim run /dev/zero: one line, exit 2, bounded memory. */
static void test_dev_zero(void **st)
{
    (void)st;
    char err[8192];
    assert_int_equal(run("run /dev/zero", err, sizeof err), 2);
    assert_non_null(strstr(err, "/dev/zero: larger than 1048576 bytes"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lif_overflow),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_adam_eps_zero),
        cmocka_unit_test(test_nan_checkpoint),
        cmocka_unit_test(test_nan_injection),
        cmocka_unit_test(test_resume_majority),
        cmocka_unit_test(test_long_path_message),
        cmocka_unit_test(test_dev_zero),
    };
    return cmocka_run_group_tests_name("limits", tests, setup, teardown);
}
