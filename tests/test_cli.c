/* test_cli.c — the rcsim binary end to end: every kind of config or command
 * line error gives one FILE:LINE message and exit code 2 with nothing written;
 * a tiny run writes summary.json and metrics.csv; --threads 1 and 2 give
 * identical numbers. Runs the binary named by $RCSIM (default ./rcsim). */
#include "tests/testutil.h"
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <hdf5.h>

static char g_dir[256];

static int setup(void **st)
{
    (void)st;
    return rc_test_mkdtemp(g_dir, sizeof g_dir, "/tmp/rcsim_cli_");
}

static int teardown(void **st)
{
    (void)st;
    return rc_test_rmtree(g_dir);
}


/* Runs "rcsim ARGS", returns the exit code; stderr (and stdout, if
 * with_stdout; else it is dropped) goes to *buf. */
static int run_rcsim_to(const char *args, int with_stdout, char *buf, size_t cap)
{
    char cmd[4096], path[512];
    snprintf(path, sizeof path, "%s/output.txt", g_dir);
    if (with_stdout) snprintf(cmd, sizeof cmd, "%s %s >'%s' 2>&1", rc_test_bin(), args, path);
    else snprintf(cmd, sizeof cmd, "%s %s >/dev/null 2>'%s'", rc_test_bin(), args, path);
    int rc = system(cmd);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = 0;
    if (f) fclose(f);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Runs "rcsim ARGS", returns the exit code; stderr goes to *errbuf. */
static int run_rcsim(const char *args, char *errbuf, size_t cap)
{
    return run_rcsim_to(args, 0, errbuf, cap);
}

static const char *GOOD =
    "# tiny spotting run\n"
    "[task]\nname = spotting\n\n"
    "[model]\nhidden = 16\n\n"
    "[train]\nlr = 0.003\nbatch = 64\nexamples = 1024\nval_every = 8\nval_size = 128\n\n"
    "[test]\nsize = 256\nbatch = 100\n\n"
    "[output]\nprogress = off\n";

typedef struct { const char *name, *text, *set, *want1, *want2; } bad_case;

static void test_config_errors(void **st)
{
    (void)st;
    const bad_case cases[] = {
        { "unknown_section", "[task]\nname = spotting\n[trian]\nbatch = 3\n", NULL, ":3:", "trian" },
        { "unknown_key", "[task]\nname = spotting\n[model]\nhidden = 8\n[train]\nbatchsize = 3\n", NULL, ":6:", "batchsize" },
        { "malformed_int", "[task]\nname = spotting\n[model]\nhidden = 12x\n", NULL, ":4:", "12x" },
        { "out_of_range", "[task]\nname = spotting\n[model]\nhidden = 8\n[train]\nthreshold = 1.5\n", NULL, ":6:", "1.5" },
        { "bad_enum", "[task]\nname = spotting\n[model]\nhidden = 8\n[train]\nmode = rcx\n", NULL, ":6:", "rcx" },
        { "no_equals", "[task]\nname = spotting\nwhat is this\n", NULL, ":3:", "what is this" },
        { "missing_required", "[task]\nname = spotting\n", NULL, "model.hidden", "missing" },
        { "bad_set", "[task]\nname = spotting\n[model]\nhidden = 8\n", "--set train.batch=abc", "--set", "abc" },
        { "unknown_set", "[task]\nname = spotting\n[model]\nhidden = 8\n", "--set train.bogus=1", "--set", "bogus" },
        { "bad_seed", "[task]\nname = spotting\n[model]\nhidden = 8\n", "--seed -4", "--seed", "-4" },
        { "bad_option", "[task]\nname = spotting\n[model]\nhidden = 8\n", "--frobnicate", "unknown option", "frobnicate" },
        { "sigma_order", "[task]\nname = twoseq\nsigma_min = 0.3\nsigma_max = 0.1\n[model]\nhidden = 8\n", NULL, "sigma_min", "sigma_max" },
        /* Keys the task never reads (sim/app/task_keys.c). */
        { "net_train_key", "[task]\nname = network\n[population.E]\nsize = 4\n", "--set train.lr=0.1", "train.lr", "no effect" },
        { "train_time_ms", "[task]\nname = spotting\n[model]\nhidden = 8\n[sim]\ntime_ms = 5\n", NULL, "sim.time_ms", "no effect" },
        { "train_instance", "[task]\nname = spotting\n[model]\nhidden = 8\n[population.E]\nsize = 4\n", NULL, "[population.E]", "no effect" },
        /* Training augmentation is tmnist's; weight decay is a factor of lr. */
        { "shift_spotting", "[task]\nname = spotting\n[model]\nhidden = 8\n[encoder]\nshift = 1\n", NULL, "encoder.shift", "no effect" },
        { "drop_range", "[task]\nname = spotting\n[model]\nhidden = 8\n", "--set encoder.drop=0.95", "encoder.drop", "0.95" },
        { "decay_range", "[task]\nname = spotting\n[model]\nhidden = 8\n[train]\nweight_decay = 2\n", NULL, ":6:", "weight_decay" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bad_case *c = &cases[i];
        char cfg[512], out[512], args[2048], err[4096];
        snprintf(cfg, sizeof cfg, "%s/%s.cfg", g_dir, c->name);
        snprintf(out, sizeof out, "%s/out_%s", g_dir, c->name);
        rc_test_write_file(cfg, c->text);
        snprintf(args, sizeof args, "run '%s' --out '%s' %s", cfg, out, c->set ? c->set : "");
        int rc = run_rcsim(args, err, sizeof err);
        if (rc != 2 || !strstr(err, c->want1) || !strstr(err, c->want2))
            fail_msg("case %s: exit %d, stderr: %s", c->name, rc, err);
        /* File errors name the file. */
        if (!c->set && strcmp(c->name, "sigma_order") && !strstr(err, cfg))
            fail_msg("case %s: message does not name %s: %s", c->name, cfg, err);
        /* One line. */
        char *nl = strchr(err, '\n');
        assert_true(nl && nl[1] == 0);
        struct stat sb;
        if (stat(out, &sb) == 0) fail_msg("case %s: wrote %s despite the error", c->name, out);
    }
    char err[4096];
    /* A missing config file is a usage error (issue 16: was exit 1). */
    assert_int_equal(run_rcsim("run /nonexistent/x.cfg", err, sizeof err), 2);
    assert_non_null(strstr(err, "/nonexistent/x.cfg"));
    assert_int_equal(run_rcsim("frob", err, sizeof err), 2);
    /* Arguments are echoed escaped, on one line. */
    const char *ctl[] = { "\"$(printf 'fr\\no')\"", "run \"$(printf -- '--x\\ty')\"", "run a.cfg \"$(printf 'b\\nc')\"" };
    const char *want[] = { "'fr\\no'", "'--x\\ty'", "'b\\nc'" };
    for (int i = 0; i < 3; i++) {
        assert_int_equal(run_rcsim(ctl[i], err, sizeof err), 2);
        if (!strstr(err, want[i])) fail_msg("%s: expected %s in: %s", ctl[i], want[i], err);
        assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);
    }
    assert_int_equal(run_rcsim("run", err, sizeof err), 2);
    assert_int_equal(run_rcsim("run --help", err, sizeof err), 0);
    assert_int_equal(run_rcsim("--help", err, sizeof err), 0);
}

/* summary.json with the lines that may differ between runs removed. */
static char *load_summary_numbers(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *out = calloc(1, 1 << 20), line[4096];
    while (fgets(line, sizeof line, f))
        if (!strstr(line, "_per_s") && !strstr(line, "wall_s") && !strstr(line, "\"threads\"") &&
            !strstr(line, "\"dir\""))
            strcat(out, line);
    fclose(f);
    return out;
}

static void test_run_and_thread_invariance(void **st)
{
    (void)st;
    char cfg[512], args[2048], err[8192], p1[600], p2[600];
    snprintf(cfg, sizeof cfg, "%s/tiny.cfg", g_dir);
    rc_test_write_file(cfg, GOOD);
    snprintf(args, sizeof args, "run '%s' --out '%s/t1' --threads 1 --seed 3", cfg, g_dir);
    int rc = run_rcsim(args, err, sizeof err);
    if (rc != 0) fail_msg("run with 1 thread failed (%d): %s", rc, err);
    snprintf(args, sizeof args, "run '%s' --out '%s/t2' --threads 2 --set sim.seed=3", cfg, g_dir);
    rc = run_rcsim(args, err, sizeof err);
    if (rc != 0) fail_msg("run with 2 threads failed (%d): %s", rc, err);
    snprintf(p1, sizeof p1, "%s/t1/summary.json", g_dir);
    snprintf(p2, sizeof p2, "%s/t2/summary.json", g_dir);
    char *a = load_summary_numbers(p1), *b = load_summary_numbers(p2);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(strstr(a, "\"accuracy\""));
    assert_non_null(strstr(a, "\"earliest_fraction\""));
    assert_non_null(strstr(a, "\"config\""));
    assert_string_equal(a, b);
    free(a);
    free(b);
    /* metrics.csv: header + 1024/64 = 16 batches / 8 = 2 validation rows. */
    snprintf(p1, sizeof p1, "%s/t1/metrics.csv", g_dir);
    FILE *f = fopen(p1, "r");
    assert_non_null(f);
    int lines = 0;
    char line[4096];
    while (fgets(line, sizeof line, f)) lines++;
    fclose(f);
    assert_int_equal(lines, 3);
}

/* A tiny temporal-MNIST run on generated IDX files (class = which third of
 * the image is bright): the whole tmnist path, 1 vs 2 threads identical, and
 * a truncated image file refused with its name, exit 1, nothing written. */
/* metrics.csv's train_loss column (the 5th), one value per line: what
 * training computed, without the wall times. */
static char *train_losses(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *out = calloc(1, 1 << 16), line[4096];
    while (fgets(line, sizeof line, f)) {
        char *c = line;
        for (int k = 0; k < 4 && c; k++) c = strchr(c, ',') ? strchr(c, ',') + 1 : NULL;
        if (c && strlen(out) + 32 < (1 << 16)) strncat(out, c, strcspn(c, ",") + 1);
    }
    fclose(f);
    return out;
}

/* Runs cfg with 1 and then 2 threads into g_dir/TAG1 and TAG2 (extra: more
 * flags) and checks that both summaries give the same numbers; returns
 * them (free it). */
static char *same_for_1_and_2_threads(const char *cfg, const char *tag, const char *extra)
{
    char args[2048], err[8192], p1[700], p2[700];
    for (int nt = 1; nt <= 2; nt++) {
        snprintf(args, sizeof args, "run '%s' --out '%s/%s%d' --threads %d %s", cfg, g_dir, tag, nt, nt, extra);
        int rc = run_rcsim(args, err, sizeof err);
        if (rc != 0) fail_msg("%s run with %d threads failed (%d): %s", tag, nt, rc, err);
    }
    snprintf(p1, sizeof p1, "%s/%s1/summary.json", g_dir, tag);
    snprintf(p2, sizeof p2, "%s/%s2/summary.json", g_dir, tag);
    char *a = load_summary_numbers(p1), *b = load_summary_numbers(p2);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    free(b);
    return a;
}

static void test_tmnist_tiny(void **st)
{
    (void)st;
    char dir[512], p[600];
    snprintf(dir, sizeof dir, "%s/mn", g_dir);
    rc_test_write_tiny_mnist(dir, 240, 60);
    char cfg[600], text[1024], args[2048], err[8192], p1[700], p2[700];
    snprintf(cfg, sizeof cfg, "%s/tm.cfg", g_dir);
    snprintf(text, sizeof text,
             "[task]\nname = tmnist\ndata_dir = %s\nvalidation = 40\n[model]\nhidden = 10\n"
             "[train]\nlr = 0.01\nbeta = 0.1\nbatch = 20\nepochs = 3\nval_every = 5\nval_size = 40\n"
             "[test]\nsize = 100000\nbatch = 7\n[output]\nprogress = off\n", dir);
    rc_test_write_file(cfg, text);
    /* test.batch 7: validation (40) and test (60) have at least two batches
     * per thread, so the 2-thread runs evaluate with the engine team
     * (sim/engine_team.h), the 1-thread runs with the engine. */
    char *a = same_for_1_and_2_threads(cfg, "tm", "");
    /* test.size is clamped to the 60 test images; 3 epochs of 200 images. */
    assert_non_null(strstr(a, "\"examples\": 60,"));
    assert_non_null(strstr(a, "\"examples\": 600,"));
    free(a);
    /* Training augmentation, end to end: 1 and 2 threads identical, and the
     * training differs from the plain run's. */
    a = same_for_1_and_2_threads(cfg, "au", "--set encoder.shift=2 --set encoder.drop=0.1");
    snprintf(p1, sizeof p1, "%s/tm1/metrics.csv", g_dir);
    snprintf(p2, sizeof p2, "%s/au1/metrics.csv", g_dir);
    char *ma = train_losses(p1), *mb = train_losses(p2);
    assert_true(strlen(ma) > 20);
    assert_true(strcmp(ma, mb) != 0);
    free(mb);
    /* Weight decay alone changes the training too. */
    snprintf(args, sizeof args, "run '%s' --out '%s/wd' --threads 1 --set train.weight_decay=0.05", cfg, g_dir);
    if (run_rcsim(args, err, sizeof err) != 0) fail_msg("weight-decay run failed: %s", err);
    snprintf(p2, sizeof p2, "%s/wd/metrics.csv", g_dir);
    mb = train_losses(p2);
    assert_true(strcmp(ma, mb) != 0);
    free(ma);
    free(mb);
    free(a);
    /* The same through a ConvLSTM (2 channels, 3x3): 1 and 2 threads identical. */
    a = same_for_1_and_2_threads(cfg, "cv", "--set model.type=convlstm --set model.hidden=0 "
                                 "--set model.channels=5 --set model.kernel=3 --set train.epochs=1");
    assert_non_null(strstr(a, "\"model\": \"convlstm\""));
    free(a);
    /* The same through a small LIF SNN (RC; rate code): 1 and 2 threads
     * identical, SynOps reported; eval sweeps the output V_th; a bad layer
     * list is a config error. */
    a = same_for_1_and_2_threads(cfg, "sn", "--set model.type=snn --set model.hidden=0 "
                 "--set 'model.layers=conv4k3p1 pool2 fc16 fc10' --set model.bias=true --set encoder.type=rate "
                 "--set train.epochs=1 --set output.trace_layers=conv1,fc1,output");
    assert_non_null(strstr(a, "\"model\": \"snn\""));
    assert_non_null(strstr(a, "\"synops_per_example\": "));
    free(a);
    int rc0;
    /* The hidden populations' spikes are in traces.h5. */
    snprintf(p, sizeof p, "%s/sn1/traces.h5", g_dir);
    {
        hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
        assert_true(f >= 0);
        const char *pops[3] = { "/spikes/conv1/node_ids", "/spikes/fc1/node_ids", "/spikes/output/node_ids" };
        for (int i = 0; i < 3; i++) {
            hid_t d = H5Dopen2(f, pops[i], H5P_DEFAULT);
            assert_true(d >= 0);
            hid_t sp = H5Dget_space(d);
            hssize_t n = H5Sget_simple_extent_npoints(sp);
            if (i == 0) assert_true(n > 60); /* more than one spike per test example */
            H5Sclose(sp);
            H5Dclose(d);
        }
        H5Fclose(f);
    }
    snprintf(args, sizeof args, "run '%s' --out '%s/sn_bad' --set model.type=snn --set model.hidden=0 --set 'model.layers=conv4k3p1 pool2 fc16 fc10' "
             "--set output.trace_layers=conv2", cfg, g_dir);
    rc0 = run_rcsim(args, err, sizeof err);
    if (rc0 != 2 || !strstr(err, "conv1, fc1, output")) fail_msg("bad trace_layers: exit %d: %s", rc0, err);
    snprintf(args, sizeof args, "eval '%s' --model '%s/sn1/model.h5' --thresholds 0.5,1,2 --set model.type=snn --set model.hidden=0 "
             "--set 'model.layers=conv4k3p1 pool2 fc16 fc10' --set model.bias=true --set encoder.type=rate "
             "--set train.epochs=1 --set output.trace_layers=conv1,fc1,output", cfg, g_dir);
    rc0 = run_rcsim(args, err, sizeof err);
    if (rc0 != 0) fail_msg("snn eval failed (%d): %s", rc0, err);
    snprintf(p, sizeof p, "%s/sn1/eval/tradeoff.csv", g_dir); /* eval's default folder: DIR/eval */
    {
        FILE *f = fopen(p, "r");
        assert_non_null(f);
        char line[512];
        assert_non_null(fgets(line, sizeof line, f));
        assert_contains(line, ",synops_per_example");
        int rows = 0;
        while (fgets(line, sizeof line, f)) rows++;
        assert_int_equal(rows, 3);
        fclose(f);
    }
    snprintf(args, sizeof args, "run '%s' --out '%s/sn_bad' --set model.type=snn --set model.hidden=0 --set 'model.layers=conv4k3 fc9'", cfg, g_dir);
    rc0 = run_rcsim(args, err, sizeof err);
    if (rc0 != 2 || !strstr(err, "model.layers") || !strstr(err, "fc10")) fail_msg("bad snn layers: exit %d: %s", rc0, err);
    /* A recurrent adaptive SNN with a leaky-integrator readout runs end to
     * end (its recurrent weights named in model.h5, its population traced);
     * its keys without such a layer are config errors. */
    snprintf(args, sizeof args, "run '%s' --out '%s/rsn' --threads 2 --set model.type=snn --set model.hidden=0 --set 'model.layers=rfc16a li10' "
             "--set model.bias=true --set model.tau_rec=0.8 --set model.alif_rho=0.9 --set model.alif_beta=0.3 "
             "--set model.tau_out=0.8 --set model.v_out=1 --set model.learn_tau=true --set train.epochs=1 "
             "--set output.trace_layers=rfc1,output",
             cfg, g_dir);
    rc0 = run_rcsim(args, err, sizeof err);
    if (rc0 != 0) fail_msg("rsnn run failed (%d): %s", rc0, err);
    snprintf(p, sizeof p, "%s/rsn/model.h5", g_dir);
    {
        hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
        assert_true(f >= 0);
        hid_t d = H5Dopen2(f, "/params/snn/rfc1/recurrent_weight", H5P_DEFAULT);
        assert_true(d >= 0);
        hid_t sp = H5Dget_space(d);
        assert_int_equal(H5Sget_simple_extent_npoints(sp), 256);
        H5Sclose(sp);
        H5Dclose(d);
        d = H5Dopen2(f, "/params/snn/rfc1/tau_logit", H5P_DEFAULT);
        assert_true(d >= 0);
        H5Dclose(d);
        H5Fclose(f);
    }
    /* NIR has no rfc/li mapping yet: export-nir refuses, writes nothing. */
    snprintf(args, sizeof args, "export-nir '%s' --model '%s/rsn/model.h5' --out '%s/rsn.nir' --set model.type=snn "
             "--set model.hidden=0 --set 'model.layers=rfc16a li10' --set model.bias=true --set model.tau_rec=0.8 --set model.alif_rho=0.9 "
             "--set model.alif_beta=0.3 --set model.tau_out=0.8 --set model.v_out=1 --set model.learn_tau=true "
             "--set train.epochs=1 --set output.trace_layers=rfc1,output", cfg, g_dir, g_dir);
    rc0 = run_rcsim(args, err, sizeof err);
    snprintf(p, sizeof p, "%s/rsn.nir", g_dir);
    if (rc0 != 2 || !strstr(err, "layer 1 (rfc16a) is recurrent") || access(p, F_OK) == 0)
        fail_msg("export-nir of an rfc model: exit %d: %s", rc0, err);
    const char *noeffect[][2] = { { "rfc16 li10", "model.alif_rho=0.9" }, { "fc16 li10", "model.tau_rec=0.8" },
                                  { "rfc16a fc10", "model.v_out=2" }, { "rfc16a fc10", "model.tau_out=0.5" },
                                  { "rfc16 li10", "model.tau=0.3" }, { "fc16 li10", "model.learn_tau=true" } };
    for (int i = 0; i < 6; i++) {
        snprintf(args, sizeof args, "run '%s' --out '%s/sn_bad' --set model.type=snn --set model.hidden=0 --set 'model.layers=%s' --set %s",
                 cfg, g_dir, noeffect[i][0], noeffect[i][1]);
        rc0 = run_rcsim(args, err, sizeof err);
        char key[32];
        snprintf(key, sizeof key, "%.*s", (int)(strchr(noeffect[i][1], '=') - noeffect[i][1]), noeffect[i][1]);
        if (rc0 != 2 || !strstr(err, key) || !strstr(err, "no effect")) fail_msg("%s with %s: exit %d: %s", key, noeffect[i][0], rc0, err);
    }
    /* `rcsim info` describes the shape a run builds from this config and its
     * data (784 inputs, 10 classes), as it does for a spotting config. */
    {
        static char out[1 << 16];
        snprintf(args, sizeof args, "info '%s' --threads 2", cfg);
        rc0 = run_rcsim_to(args, 1, out, sizeof out);
        if (rc0 != 0 || !strstr(out, "model: lstm nin=784 hidden=10 head= outputs=10"))
            fail_msg("info on tmnist: exit %d: %s", rc0, out);
        snprintf(p, sizeof p, "%s/good.cfg", g_dir);
        rc_test_write_file(p, GOOD);
        snprintf(args, sizeof args, "info '%s' --threads 2", p);
        rc0 = run_rcsim_to(args, 1, out, sizeof out);
        if (rc0 != 0 || !strstr(out, "model: lstm nin=1 hidden=16 head= outputs=1\n  LSTM 16 units"))
            fail_msg("info on spotting: exit %d: %s", rc0, out);
    }
    /* Truncate the test images: refused, named, nothing written. */
    snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte", dir);
    assert_int_equal(truncate(p, 16 + 784 * 10), 0);
    snprintf(args, sizeof args, "run '%s' --out '%s/tm_bad'", cfg, g_dir);
    int rc = run_rcsim(args, err, sizeof err);
    if (rc != 1 || !strstr(err, "t10k-images-idx3-ubyte") || !strstr(err, "truncated"))
        fail_msg("truncated IDX: exit %d: %s", rc, err);
    snprintf(p, sizeof p, "%s/tm_bad", g_dir);
    struct stat sb;
    assert_int_not_equal(stat(p, &sb), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_run_and_thread_invariance),
        cmocka_unit_test(test_tmnist_tiny),
    };
    return cmocka_run_group_tests_name("cli", tests, setup, teardown);
}
