/* test_rough.c — the rough edges a new user hit (issue 16, section 4), each
 * through the binary ($RCSIM, default ./rcsim): exit codes and the words of
 * the message. Generated data only (spotting, twoseq, a tiny SNN); nothing
 * from ../shared. Run from the repository root (make test does): the make
 * and bench checks use ./Makefile and bench/compare_snn_ann.sh. */
#include "tests/testutil.h"
#include <sys/stat.h>

static char g_dir[256];

static int setup(void **st)
{
    (void)st;
    return rc_test_mkdtemp(g_dir, sizeof g_dir, "/tmp/rcsim_rough_");
}

static int teardown(void **st)
{
    (void)st;
    return rc_test_rmtree(g_dir);
}


/* Runs "rcsim ARGS" (a shell fragment); stderr into out (cap); exit code. */
#define rcsim_err(out, cap, ...) rc_test_rcsim_err(g_dir, out, cap, __VA_ARGS__)


/* A tiny spotting LSTM run: 2 batches of 32. */
static const char *TINY =
    "[task]\nname = spotting\n[model]\nhidden = 8\n"
    "[train]\nbatch = 32\nexamples = 64\nval_every = 1\nval_size = 32\n"
    "[test]\nsize = 64\n[output]\nprogress = off\n";

/* The same without model.hidden, as an SNN of fc layers. */
static const char *TINY_SNN =
    "[task]\nname = spotting\n[model]\ntype = snn\nlayers = fc8 fc2\n"
    "[train]\nbatch = 32\nexamples = 64\nval_every = 1\nval_size = 32\n"
    "[test]\nsize = 64\n[output]\nprogress = off\n";

typedef struct { const char *name, *text, *set, *want1, *want2; } bad_case;

/* 1. A key without effect in the chosen configuration: exit 2, the key and
 * why in one line, nothing written. */
static void test_no_effect_keys(void **st)
{
    (void)st;
    const char *tm = "[task]\nname = tmnist\ndata_dir = /nonexistent\n[model]\nhidden = 8\n[train]\nepochs = 2\n";
    const char *tm_conv = "[task]\nname = tmnist\ndata_dir = /nonexistent\n[model]\ntype = convlstm\n";
    const bad_case cases[] = {
        { "hidden_snn", TINY, "--set model.type=snn --set model.layers='fc8 fc2'", "model.hidden has no effect",
          "model.type = snn" },
        { "channels_lstm", TINY, "--set model.channels=5", "model.channels has no effect", "model.type = lstm" },
        { "kernel_snn", TINY_SNN, "--set model.kernel=3", "model.kernel has no effect", "model.type = snn" },
        { "vth_lstm", TINY, "--set model.v_th=1", "model.v_th has no effect", "model.type = lstm" },
        { "layers_convlstm", tm_conv, "--set model.layers=fc10",
          "model.layers has no effect", "model.type = convlstm" },
        { "head_snn", TINY_SNN, "--set model.head=4", "model.head has no effect", "model.type = snn" },
        { "threshold_snn", TINY_SNN, "--set train.threshold=0.9", "train.threshold has no effect", "model.type = snn" },
        { "keywords_spotting", TINY, "--set task.keywords=yes", "task.keywords has no effect", "task.name = spotting" },
        { "run_length_twoseq", TINY, "--set task.name=twoseq --set task.run_length=4", "task.run_length has no effect",
          "task.name = twoseq" },
        { "steps_tmnist", tm, "--set task.steps=5", "task.steps has no effect", "task.name = tmnist" },
        { "encoder_spotting", TINY, "--set encoder.steps=5", "encoder.steps has no effect", "task.name = spotting" },
        { "mel_tmnist", tm, "--set encoder.mel_bands=10", "encoder.mel_bands has no effect", "task.name = tmnist" },
        { "zero_rate", tm, "--set encoder.type=rate --set encoder.zero=last", "encoder.zero has no effect",
          "encoder.type = rate" },
        /* Keys another key switches off. */
        { "silence_clips", TINY, "--set task.name=speech --set task.silence_clips=3", "task.silence_clips has no effect",
          "task.silence = false" },
        { "noise_none", TINY, "--set task.name=speech --set task.noise_dir=none --set task.noise_prob=0.5",
          "task.noise_prob has no effect", "task.noise_dir = none" },
        { "trace_no_traces", TINY, "--set output.traces=false --set output.trace_examples=1,2",
          "output.trace_examples has no effect", "output.traces = false" },
        { "log_every_off", TINY, "--set output.log_every_s=5", "output.log_every_s has no effect",
          "output.progress = off" },
        /* Both lengths of a run: the error says which to drop. */
        { "examples_epochs", tm, "--set train.examples=10", "train.examples", "drop train.examples" },
        { "epochs_generator", TINY, "--set train.epochs=1", "train.epochs has no effect", "task.name = spotting" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bad_case *c = &cases[i];
        char cfg[512], out[512], err[4096];
        snprintf(cfg, sizeof cfg, "%s/%s.cfg", g_dir, c->name);
        snprintf(out, sizeof out, "%s/out_%s", g_dir, c->name);
        rc_test_write_file(cfg, c->text);
        int rc = rcsim_err(err, sizeof err, "run '%s' --out '%s' %s", cfg, out, c->set);
        if (rc != 2 || !strstr(err, c->want1) || !strstr(err, c->want2) || !strstr(err, cfg))
            fail_msg("case %s: exit %d, stderr: %s", c->name, rc, err);
        char *nl = strchr(err, '\n');
        assert_true(nl && nl[1] == 0);
        if (rc_test_exists(out)) fail_msg("case %s: wrote %s despite the error", c->name, out);
    }
    /* The keys of the chosen configuration are fine: the tiny SNN runs. */
    char cfg[512], err[4096];
    snprintf(cfg, sizeof cfg, "%s/snn_ok.cfg", g_dir);
    rc_test_write_file(cfg, TINY_SNN);
    assert_int_equal(rcsim_err(err, sizeof err, "run '%s' --out '%s/snn_ok' --set model.v_th=0.4", cfg, g_dir), 0);
}

/* 2. A config file that does not exist is a usage error: exit 2, for run,
 * eval and info alike, naming the folder a relative path was looked in. */
static void test_missing_config(void **st)
{
    (void)st;
    char err[4096], cwd[1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(rcsim_err(err, sizeof err, "run no_such_rough.cfg --out '%s/m1'", g_dir), 2);
    assert_contains(err, "no_such_rough.cfg: no such config file");
    assert_contains(err, cwd);
    assert_false(rc_test_exists("no_such_rough.cfg"));
    assert_int_equal(rcsim_err(err, sizeof err, "run /nonexistent/x.cfg"), 2);
    assert_contains(err, "/nonexistent/x.cfg: no such config file");
    assert_int_equal(rcsim_err(err, sizeof err, "eval /nonexistent/x.cfg --model '%s/none/model.h5'", g_dir), 2);
    assert_contains(err, "no such config file");
    assert_int_equal(rcsim_err(err, sizeof err, "info /nonexistent/x.cfg"), 2);
    assert_contains(err, "no such config file");
}

/* 3. Data folders: a relative one says where it was looked for, a missing
 * Fashion-MNIST suggests `make data`, and an empty speech folder is reported
 * for itself, not for its noise folder. */
static void test_data_paths(void **st)
{
    (void)st;
    char cfg[512], err[8192], cwd[1024], dir[600];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(cfg, sizeof cfg, "%s/tm.cfg", g_dir);
    rc_test_write_file(cfg, "[task]\nname = tmnist\ndata_dir = no_such_mnist_rough\n[model]\nhidden = 8\n");
    assert_int_equal(rcsim_err(err, sizeof err, "run '%s' --out '%s/d1'", cfg, g_dir), 1);
    assert_contains(err, "task.data_dir = no_such_mnist_rough");
    assert_contains(err, "resolved against the current directory");
    assert_contains(err, cwd);
    assert_null(strstr(err, "make data"));
    assert_int_equal(rcsim_err(err, sizeof err, "run '%s' --out '%s/d2' --set task.data_dir=%s/fashion-mnist", cfg, g_dir,
                               g_dir), 1);
    assert_contains(err, "make data");
    assert_contains(err, "dataset-fashion-mnist");
    assert_null(strstr(err, "resolved against")); /* an absolute path */
    assert_false(rc_test_exists("no_such_mnist_rough"));
    /* An empty speech folder with a (missing) noise folder: the data first. */
    snprintf(dir, sizeof dir, "%s/empty_speech", g_dir);
    assert_int_equal(mkdir(dir, 0777), 0);
    snprintf(cfg, sizeof cfg, "%s/sp.cfg", g_dir);
    rc_test_write_file(cfg, "[task]\nname = speech\nnoise_dir = noise\ncache_dir = none\n[model]\nhidden = 8\n");
    assert_int_equal(rcsim_err(err, sizeof err, "run '%s' --out '%s/d3' --set task.data_dir=%s", cfg, g_dir, dir), 2);
    assert_contains(err, "validation_list.txt");
    assert_contains(err, dir);
    assert_null(strstr(err, "noise"));
    snprintf(dir, sizeof dir, "%s/d3", g_dir);
    assert_false(rc_test_exists(dir));
}

/* 4 and 5. An SNN of conv layers on a task without images: the message is
 * about the first layer being a conv, and for speech it comes before any
 * data is read (here the folder does not even exist). */
static void test_snn_needs_image(void **st)
{
    (void)st;
    char cfg[512], err[4096];
    snprintf(cfg, sizeof cfg, "%s/snn_conv.cfg", g_dir);
    rc_test_write_file(cfg, "[task]\nname = spotting\n[model]\ntype = snn\n[output]\nprogress = off\n");
    assert_int_equal(rcsim_err(err, sizeof err, "run '%s' --out '%s/s1'", cfg, g_dir), 2);
    assert_contains(err, "first layer 'conv32k3p1' is a conv layer and needs an image input");
    assert_contains(err, "task.name = spotting");
    assert_null(strstr(err, "not after fc"));
    assert_int_equal(rcsim_err(err, sizeof err, "run '%s' --out '%s/s2' --set task.name=speech "
                               "--set task.data_dir=%s/no_speech --set task.cache_dir=%s/cache", cfg, g_dir, g_dir, g_dir), 2);
    assert_contains(err, "first layer 'conv32k3p1' is a conv layer");
    assert_contains(err, "task.name = speech");
    assert_null(strstr(err, "no_speech"));
    char p[600];
    snprintf(p, sizeof p, "%s/cache", g_dir);
    assert_false(rc_test_exists(p));
}

/* 6. rcsim eval without --out writes into DIR/eval and leaves the run's
 * traces.h5 as it was; without CFG it uses the config stored in model.h5
 * and gives the same tradeoff.csv as with it. */
static void test_eval_defaults(void **st)
{
    (void)st;
    char cfg[512], err[8192], p[600], q[600];
    snprintf(cfg, sizeof cfg, "%s/ev.cfg", g_dir);
    rc_test_write_file(cfg, TINY);
    assert_int_equal(rcsim_err(err, sizeof err, "run '%s' --out '%s/evrun'", cfg, g_dir), 0);
    snprintf(p, sizeof p, "%s/evrun/traces.h5", g_dir);
    size_t n0 = 0, n1 = 0;
    char *before = rc_test_slurp(p, &n0);
    assert_non_null(before);
    int rc = rcsim_err(err, sizeof err, "eval --model '%s/evrun/model.h5' --thresholds 0.7,0.95", g_dir);
    if (rc != 0) fail_msg("eval without CFG: exit %d: %s", rc, err);
    char *after = rc_test_slurp(p, &n1);
    assert_non_null(after);
    assert_true(n0 == n1 && memcmp(before, after, n0) == 0);
    free(before);
    free(after);
    snprintf(p, sizeof p, "%s/evrun/eval/traces.h5", g_dir);
    assert_true(rc_test_exists(p));
    snprintf(p, sizeof p, "%s/evrun/eval/tradeoff.csv", g_dir);
    snprintf(q, sizeof q, "%s/evrun/tradeoff.csv", g_dir);
    assert_false(rc_test_exists(q));
    rc = rcsim_err(err, sizeof err, "eval '%s' --model '%s/evrun/model.h5' --thresholds 0.7,0.95 --out '%s/ev_cfg'", cfg,
                   g_dir, g_dir);
    if (rc != 0) fail_msg("eval with CFG: exit %d: %s", rc, err);
    snprintf(q, sizeof q, "%s/ev_cfg/tradeoff.csv", g_dir);
    /* Same rows but for examples_per_s (column 7). */
    assert_int_equal(rc_test_sh("cut -d, -f1-6,8- '%s' > '%s/t1' && cut -d, -f1-6,8- '%s' > '%s/t2' && "
                                "cmp -s '%s/t1' '%s/t2' && [ $(wc -l < '%s/t1') -eq 3 ]", p, g_dir, q, g_dir, g_dir, g_dir,
                                g_dir), 0);
    /* --help says so. */
    snprintf(p, sizeof p, "%s/help.txt", g_dir);
    assert_int_equal(rc_test_sh("%s --help > '%s' 2>&1", rc_test_bin(), p), 0);
    char *h = rc_test_slurp(p, NULL);
    assert_non_null(h);
    assert_contains(h, "rcsim eval [CFG] --model");
    assert_contains(h, "DIR/eval");
    free(h);
}

/* 7. The progress line shows a dash before the first validation point;
 * summary.json says when the kept model is the last one because no point
 * met select_max_spike_step; metrics.csv has val_accuracy_at_end only where
 * it is filled (validation to the last step, train.select = end). */
static void test_progress_and_reports(void **st)
{
    (void)st;
    char cfg[512], err[8192], p[600];
    snprintf(cfg, sizeof cfg, "%s/pr.cfg", g_dir);
    rc_test_write_file(cfg, TINY);
    /* 2 batches, one validation point (after the last): the lines before it have no value. */
    int rc = rcsim_err(err, sizeof err, "run '%s' --out '%s/pr' --set output.progress=log --set train.val_every=1000 "
                       "--set train.select_max_spike_step=0.5", cfg, g_dir);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    assert_contains(err, "val acc \xe2\x80\x94  mean t_sp \xe2\x80\x94");
    assert_null(strstr(err, "val acc 0.0000"));
    snprintf(p, sizeof p, "%s/pr/summary.json", g_dir);
    char *s = rc_test_slurp(p, NULL);
    assert_non_null(s);
    assert_contains(s, "\"selected_by\": \"last model (no validation point met select_max_spike_step)\"");
    free(s);
    /* metrics.csv of an RC run (validation stops at the first spike): no column. */
    snprintf(p, sizeof p, "%s/pr/metrics.csv", g_dir);
    s = rc_test_slurp(p, NULL);
    assert_non_null(s);
    assert_null(strstr(s, "val_accuracy_at_end"));
    assert_null(strstr(s, ",,"));
    free(s);
    /* A slow-regime floor no point meets: the last model (batch 8 of 8; the
     * best-accuracy point would be kept without the floor), and why. */
    assert_int_equal(rcsim_err(err, sizeof err, "run '%s' --out '%s/pr_floor' --set train.examples=256 "
                               "--set train.select_min_spike_step=1e8", cfg, g_dir), 0);
    snprintf(p, sizeof p, "%s/pr_floor/summary.json", g_dir);
    s = rc_test_slurp(p, NULL);
    assert_non_null(s);
    assert_contains(s, "\"selected_by\": \"last model (no validation point met select_min_spike_step)\"");
    assert_contains(s, "\"selected_batch\": 8\n");
    free(s);
    /* A floor above the budget: one error line, nothing written. */
    assert_int_equal(rcsim_err(err, sizeof err, "run '%s' --out '%s/pr_bad' --set train.select_min_spike_step=3 "
                               "--set train.select_max_spike_step=2", cfg, g_dir), 2);
    assert_contains(err, "train.select_min_spike_step = 3 exceeds train.select_max_spike_step = 2");
    assert_contains(err, cfg);
    snprintf(p, sizeof p, "%s/pr_bad", g_dir);
    assert_false(rc_test_exists(p));
    /* Within budget: the usual words. */
    assert_int_equal(rcsim_err(err, sizeof err, "run '%s' --out '%s/pr2'", cfg, g_dir), 0);
    snprintf(p, sizeof p, "%s/pr2/summary.json", g_dir);
    s = rc_test_slurp(p, NULL);
    assert_non_null(s);
    assert_contains(s, "\"selected_by\": \"validation accuracy (RC-inference)\"");
    free(s);
    /* EOS (train.select auto = end): the column is there and filled in every row. */
    assert_int_equal(rcsim_err(err, sizeof err, "run '%s' --out '%s/pr3' --set train.mode=eos", cfg, g_dir), 0);
    snprintf(p, sizeof p, "%s/pr3/metrics.csv", g_dir);
    s = rc_test_slurp(p, NULL);
    assert_non_null(s);
    assert_contains(s, "val_no_spike_fraction,val_accuracy_at_end,val_spike_step_p10");
    assert_null(strstr(s, ",,"));
    int rows = 0;
    for (char *c = s; *c; c++) rows += *c == '\n';
    assert_int_equal(rows, 3); /* header + 2 validation points */
    free(s);
}

/* 8. make run and make test build with -j (one job per CPU). */
static void test_make_parallel(void **st)
{
    (void)st;
    if (!rc_test_exists("Makefile") || rc_test_sh("command -v make >/dev/null") != 0) {
        print_message("make -j check skipped: no ./Makefile (run from the repository root) or no make\n");
        skip();
    }
    /* make -n runs the lines that call $(MAKE): here the build step, itself dry. */
    assert_int_equal(rc_test_sh("env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u JOBS make -n --no-print-directory run JOBS=3 2>/dev/null | "
                                "grep -Eq -- '-j ?3( |$)'"), 0);
    assert_int_equal(rc_test_sh("env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u JOBS make -n --no-print-directory run 2>/dev/null | "
                                "grep -Eq -- \"-j ?$(nproc)( |\\$)\""), 0);
    /* make test: not dry-run here (its fuzz-check line calls $(MAKE) and would
     * fuzz); its recipe builds with the same -j$(JOBS) step. */
    assert_int_equal(rc_test_sh("awk '/^test:/ {f = 1; next} f && /^\\t/ {print} f && !/^\\t/ {f = 0}' Makefile | "
                                "grep -q -- '$(MAKE) .*-j$(JOBS) all $(TEST_BIN)'"), 0);
}

/* 9. bench/compare_snn_ann.sh over any configs: one row each, MACs and
 * SynOps in their own columns (runs two tiny configs, not the study). */
static void test_compare_script(void **st)
{
    (void)st;
    if (!rc_test_exists("bench/compare_snn_ann.sh") || rc_test_sh("[ -x /usr/bin/python3 ]") != 0) {
        print_message("compare_snn_ann check skipped: run from the repository root, with /usr/bin/python3\n");
        skip();
    }
    char a[512], b[512], p[600];
    snprintf(a, sizeof a, "%s/lstm_tiny.cfg", g_dir);
    snprintf(b, sizeof b, "%s/snn_tiny.cfg", g_dir);
    rc_test_write_file(a, TINY);
    rc_test_write_file(b, TINY_SNN);
    assert_int_equal(rc_test_sh("bash -n bench/compare_snn_ann.sh"), 0);
    assert_int_equal(rc_test_sh("RCSIM=%s sh bench/compare_snn_ann.sh - '%s/cmp' 1 '%s' '%s' >'%s/cmp.txt' 2>&1",
                                rc_test_bin(), g_dir, a, b, g_dir), 0);
    snprintf(p, sizeof p, "%s/cmp/compare_snn_ann.md", g_dir);
    char *s = rc_test_slurp(p, NULL);
    assert_non_null(s);
    assert_contains(s, "| MACs per example (RC-inference) | SynOps per example (RC-inference) |");
    /* LSTM: a MACs number, no SynOps; SNN: the other way round. */
    char *l = strstr(s, "| lstm_tiny | LSTM-8 | RC |"), *n = strstr(s, "| snn_tiny | LIF SNN | RC |");
    assert_non_null(l);
    assert_non_null(n);
    assert_true(l < n);
    char row[512];
    snprintf(row, sizeof row, "%.*s", (int)strcspn(l, "\n"), l);
    assert_non_null(strstr(row, " M | - |"));
    snprintf(row, sizeof row, "%.*s", (int)strcspn(n, "\n"), n);
    assert_non_null(strstr(row, " | - | "));
    assert_null(strstr(row, " M | - |"));
    free(s);
    /* A config that does not exist: exit 2 before anything runs. */
    assert_int_equal(rc_test_sh("RCSIM=%s sh bench/compare_snn_ann.sh - '%s/cmp2' 1 '%s/none.cfg' >/dev/null 2>&1",
                                rc_test_bin(), g_dir, g_dir), 2);
    snprintf(p, sizeof p, "%s/cmp2", g_dir);
    assert_false(rc_test_exists(p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_effect_keys),
        cmocka_unit_test(test_missing_config),
        cmocka_unit_test(test_data_paths),
        cmocka_unit_test(test_snn_needs_image),
        cmocka_unit_test(test_eval_defaults),
        cmocka_unit_test(test_progress_and_reports),
        cmocka_unit_test(test_make_parallel),
        cmocka_unit_test(test_compare_script),
    };
    return cmocka_run_group_tests_name("rough", tests, setup, teardown);
}
