/* test_nir.c — NIR export and import through the rcsim binary ($RCSIM).
 *
 * On small generated MNIST-format images (12x12, no ../shared needed) the
 * paper's SNN shape (conv-pool-conv-pool-fc-fc) is trained for a moment
 * (run A), exported with `rcsim export-nir`, and loaded by a run B with
 * model.nir and train.lr = 0 (its weights stay the file's): B's test must
 * give exactly A's results, example by example (first-spike class and step,
 * spiked flag) and spike by spike in every LIF population (traces.h5), and
 * the same summary numbers (accuracy, spike steps, synops). Three settings:
 * biases and mult reset (the paper's), no biases (Linear nodes), subtract
 * reset (from the metadata). The file is then read with h5py against the
 * NIR layout (tests/py/check_nir.py) and simulated in numpy as NIR defines
 * its nodes (tests/py/nir_forward.py: Euler LIF with the file's tau, r, dt),
 * which must give run A's answers (both skipped without h5py); broken,
 * foreign and unsupported files and configs must give one clear line and
 * the documented exit code. */
#include "tests/testutil.h"
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <hdf5.h>

static char g_dir[256];

#define LAYERS "conv4k3p1 pool2 conv4k3p1 pool2 fc16 fc10"

/* Deterministic images: 30 % of pixels at a random level below 160 and a
 * row whose position and brightness depend on the class. */
static void write_data(const char *dir)
{
    char p[600];
    uint64_t s = 12345;
    const char *names[2] = { "train", "t10k" };
    const int counts[2] = { 300, 100 };
    for (int k = 0; k < 2; k++) {
        const int n = counts[k];
        uint8_t *x = calloc((size_t)n * 144, 1), *y = calloc((size_t)n, 1);
        assert_non_null(x);
        assert_non_null(y);
        for (int i = 0; i < n; i++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            y[i] = (uint8_t)((s >> 33) % 10);
            for (int j = 0; j < 144; j++) {
                s = s * 6364136223846793005ULL + 1442695040888963407ULL;
                const uint32_t r = (uint32_t)(s >> 33);
                x[(size_t)i * 144 + j] = (r % 10) < 3 ? (uint8_t)((r >> 8) % 160) : 0;
            }
            for (int c = 2; c < 10; c++) x[(size_t)i * 144 + (y[i] + 1) * 12 + c] = (uint8_t)(100 + 10 * y[i]);
        }
        uint32_t dims[3] = { (uint32_t)n, 12, 12 };
        snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte", dir, names[k]);
        rc_test_write_idx(p, 3, dims, x, (size_t)n * 144);
        snprintf(p, sizeof p, "%s/%s-labels-idx1-ubyte", dir, names[k]);
        rc_test_write_idx(p, 1, dims, y, (size_t)n);
        free(x);
        free(y);
    }
}

static int setup(void **st)
{
    (void)st;
    if (rc_test_mkdtemp(g_dir, sizeof g_dir, "/tmp/rcsim_nir_")) return -1;
    char d[512];
    snprintf(d, sizeof d, "%s/data", g_dir);
    mkdir(d, 0755);
    write_data(d);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    return getenv("RC_TEST_KEEP") ? 0 : rc_test_rmtree(g_dir);
}


/* Runs "rcsim ARGS" (stdout dropped, stderr into buf); its exit code. */
#define run_rcsim(args, buf, cap) rc_test_rcsim_err(g_dir, buf, cap, "%s", args)

/* Config A (trained) and B (loads NIR): tmnist on the generated images. */
static void write_cfgs(const char *tag, const char *model_a, const char *lr, const char *nir)
{
    char p[512], t[2048];
    const char *common =
        "[task]\nname = tmnist\ndata_dir = %s/data\nvalidation = 50\n[encoder]\nsteps = 10\n"
        "[test]\nsize = 100\nbatch = 50\n[output]\nprogress = off\ntrace_layers = conv1,conv2,fc1,output\n";
    char head[1024];
    snprintf(head, sizeof head, common, g_dir);
    snprintf(p, sizeof p, "%s/%s_a.cfg", g_dir, tag);
    snprintf(t, sizeof t, "%s[model]\ntype = snn\nlayers = " LAYERS "\n%s\n"
             "[train]\nlr = %s\nbatch = 50\nepochs = 2\nval_every = 2\nval_size = 50\n", head, model_a, lr);
    rc_test_write_file(p, t);
    snprintf(p, sizeof p, "%s/%s_b.cfg", g_dir, tag);
    snprintf(t, sizeof t, "%s[model]\ntype = snn\nnir = %s\n"
             "[train]\nlr = 0\nbatch = 50\nexamples = 50\nval_every = 2\nval_size = 50\n", head, nir);
    rc_test_write_file(p, t);
}

/* Dataset `name` of file path as doubles (malloc'd, *n values). */
static double *read_ds(const char *path, const char *name, size_t *n)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) print_error("%s: no dataset %s\n", path, name);
    assert_true(d >= 0);
    hid_t sp = H5Dget_space(d);
    *n = (size_t)H5Sget_simple_extent_npoints(sp);
    double *v = malloc((*n ? *n : 1) * sizeof *v);
    assert_non_null(v);
    assert_true(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Sclose(sp);
    H5Dclose(d);
    H5Fclose(f);
    return v;
}

/* 1 if traces file path has the population group spikes/<pop>. */
static int has_pop(const char *path, const char *pop)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    char nm[128];
    snprintf(nm, sizeof nm, "spikes/%s", pop);
    int r = H5Lexists(f, "spikes", H5P_DEFAULT) > 0 && H5Lexists(f, nm, H5P_DEFAULT) > 0;
    H5Fclose(f);
    return r;
}

/* Dataset name equal (value by value) in runs A and B; returns its values. */
static double *same_ds(const char *a, const char *b, const char *name, size_t *n)
{
    size_t na, nb;
    double *va = read_ds(a, name, &na), *vb = read_ds(b, name, &nb);
    if (na != nb) print_error("%s: %zu values in A, %zu in B\n", name, na, nb);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++)
        if (va[i] != vb[i]) {
            print_error("%s[%zu]: A %g, B %g\n", name, i, va[i], vb[i]);
            fail();
        }
    free(vb);
    *n = na;
    return va;
}

/* summary.json's "test" block without timings. */
static char *test_block(const char *dir)
{
    char *s = rc_test_summary_numbers(dir, NULL);
    assert_non_null(s);
    char *a = strstr(s, "\"test\": {"), *b = a ? strstr(a, "\"other_inference\"") : NULL;
    assert_non_null(a);
    assert_non_null(b);
    *b = 0;
    memmove(s, a, strlen(a) + 1);
    return s;
}

/* A trains, exports; B loads the file; B's test results must be A's. */
static void round_trip(const char *tag, const char *model_a, const char *lr)
{
    char args[2048], err[4096], nir[512], ra[512], rb[512], ta[600], tb[600];
    snprintf(nir, sizeof nir, "%s/%s.nir", g_dir, tag);
    snprintf(ra, sizeof ra, "%s/%s_A", g_dir, tag);
    snprintf(rb, sizeof rb, "%s/%s_B", g_dir, tag);
    write_cfgs(tag, model_a, lr, nir);
    snprintf(args, sizeof args, "run %s/%s_a.cfg --out %s", g_dir, tag, ra);
    if (run_rcsim(args, err, sizeof err)) { print_error("%s\n", err); fail(); }
    snprintf(args, sizeof args, "export-nir %s/%s_a.cfg --model %s/model.h5 --out %s", g_dir, tag, ra, nir);
    if (run_rcsim(args, err, sizeof err)) { print_error("%s\n", err); fail(); }
    snprintf(args, sizeof args, "run %s/%s_b.cfg --out %s", g_dir, tag, rb);
    if (run_rcsim(args, err, sizeof err)) { print_error("%s\n", err); fail(); }
    snprintf(ta, sizeof ta, "%s/traces.h5", ra);
    snprintf(tb, sizeof tb, "%s/traces.h5", rb);
    size_t n;
    double *tsp = same_ds(ta, tb, "rc/t_sp", &n);
    assert_int_equal(n, 100);
    free(same_ds(ta, tb, "rc/pred", &n));
    free(same_ds(ta, tb, "rc/spiked", &n));
    const char *pops[4] = { "conv1", "conv2", "fc1", "output" };
    size_t total = 0;
    for (int p = 0; p < 4; p++) {
        char nm[128];
        const char *part[3] = { "example_ids", "node_ids", "timestamps" };
        assert_int_equal(has_pop(ta, pops[p]), has_pop(tb, pops[p]));
        if (!has_pop(ta, pops[p])) continue; /* no spike in the traced examples */
        for (int q = 0; q < 3; q++) {
            snprintf(nm, sizeof nm, "spikes/%s/%s", pops[p], part[q]);
            free(same_ds(ta, tb, nm, &n));
        }
        total += n;
    }
    assert_true(total > 100); /* hidden layers did spike */
    int distinct = 0;         /* the first spikes are not all at one step */
    for (size_t i = 1; i < 100; i++) distinct |= tsp[i] != tsp[0];
    assert_true(distinct);
    free(tsp);
    char *sa = test_block(ra), *sb = test_block(rb);
    assert_string_equal(sa, sb);
    assert_contains(sa, "synops_per_example");
    free(sa);
    free(sb);
    if (rc_test_sh("/usr/bin/python3 -c 'import h5py' 2>/dev/null") != 0) {
        print_message("python3-h5py not installed: skipped the h5py read of %s against the NIR layout\n", nir);
        return;
    }
    assert_int_equal(rc_test_sh("/usr/bin/python3 tests/py/check_nir.py %s '" LAYERS "' 1,12,12", nir), 0);
    /* The file means what rcsim computed: numpy steps NIR's LIF ODE by Euler
     * on the same latency-coded test images and must give run A's answers. */
    assert_int_equal(rc_test_sh("/usr/bin/python3 tests/py/nir_forward.py %s %s/data/t10k-images-idx3-ubyte 10 %s/traces.h5",
                                nir, g_dir, ra), 0);
}

static void test_round_trip_paper_snn(void **st)
{
    (void)st;
    round_trip("bias", "v_th = 0.3\ntau = 0.2\nbias = true\nreset = mult", "0.003");
}

static void test_round_trip_linear(void **st)
{
    (void)st;
    round_trip("nobias", "v_th = 0.2\ntau = 0.2\nbias = false", "0.01");
}

static void test_round_trip_subtract(void **st)
{
    (void)st;
    round_trip("sub", "v_th = 0.15\ntau = 0.5\nbias = false\nreset = subtract", "0.01");
}

/* A trained export to break: *nir (and run A's folder) for the error tests. */
static void make_nir(char *nir, size_t cap)
{
    char args[1024], err[4096];
    snprintf(nir, cap, "%s/err.nir", g_dir);
    if (access(nir, F_OK) == 0) return; /* made by an earlier test of the group */
    write_cfgs("err", "v_th = 0.2\ntau = 0.2\nbias = false", "0.01", nir);
    snprintf(args, sizeof args, "run %s/err_a.cfg --out %s/err_A --force", g_dir, g_dir);
    if (run_rcsim(args, err, sizeof err)) { print_error("%s\n", err); fail(); }
    snprintf(args, sizeof args, "export-nir %s/err_a.cfg --model %s/err_A/model.h5 --out %s", g_dir, g_dir, nir);
    if (run_rcsim(args, err, sizeof err)) { print_error("%s\n", err); fail(); }
}

/* One line on stderr (ends in its only newline) containing w1 and w2. */
static void one_line(const char *err, const char *w1, const char *w2)
{
    const char *nl = strchr(err, '\n');
    if (!nl || nl[1]) { print_error("expected one line, got:\n%s\n", err); fail(); }
    assert_contains(err, w1);
    if (w2) assert_contains(err, w2);
}

/* Runs config B of the error tests with model.nir = file; exit code. */
static int load(const char *file, char *err, size_t cap)
{
    char args[1024], p[600];
    snprintf(p, sizeof p, "%s/load.cfg", g_dir);
    char *t = NULL;
    snprintf(args, sizeof args, "%s/err_b.cfg", g_dir);
    t = rc_test_slurp(args, NULL);
    assert_non_null(t);
    char *at = strstr(t, "nir = ");
    assert_non_null(at);
    *at = 0;
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f, "%snir = %s\n%s", t, file, strchr(at + 1, '\n') + 1);
    fclose(f);
    free(t);
    snprintf(args, sizeof args, "run %s --out %s/load_run --force", p, g_dir);
    return run_rcsim(args, err, cap);
}

static void test_bad_files(void **st)
{
    (void)st;
    char nir[512], p[600], err[4096];
    make_nir(nir, sizeof nir);
    /* not HDF5 at all */
    snprintf(p, sizeof p, "%s/garbage.nir", g_dir);
    rc_test_write_file(p, "this is not an HDF5 file, it only has a .nir name\n");
    assert_int_equal(load(p, err, sizeof err), 1);
    one_line(err, "garbage.nir", "model.nir");
    /* missing */
    snprintf(p, sizeof p, "%s/missing.nir", g_dir);
    assert_int_equal(load(p, err, sizeof err), 1);
    one_line(err, "missing.nir", NULL);
    /* truncated */
    snprintf(p, sizeof p, "%s/trunc.nir", g_dir);
    assert_int_equal(rc_test_sh("head -c 3000 %s > %s", nir, p), 0);
    assert_int_equal(load(p, err, sizeof err), 1);
    one_line(err, "trunc.nir", NULL);
    /* foreign HDF5: a checkpoint */
    snprintf(p, sizeof p, "%s/err_A/model.h5", g_dir);
    assert_int_equal(load(p, err, sizeof err), 1);
    one_line(err, "model.h5", "not a NIR file");
    if (rc_test_sh("/usr/bin/python3 -c 'import h5py' 2>/dev/null") != 0) {
        print_message("python3-h5py not installed: skipped the unsupported-node cases (tests/py/nir_mutate.py)\n");
        return;
    }
    const struct { const char *mode; int code; const char *w1, *w2; } cases[] = {
        { "cubalif", 1, "'fc1_lif' (CubaLIF)", "no rcsim equivalent; expected LIF" },
        { "unknown", 1, "'fc1_lif' (Mystery)", "no rcsim equivalent" },
        { "li", 1, "'li' (LI)", "no rcsim equivalent" },
        { "branch", 1, "'conv1_lif'", "chain" },
        { "shape", 1, "'fc1' (Linear)", "(Nout, 36)" },
        { "tau", 1, "'conv2_lif' (LIF): tau[0]", "share one decay factor" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(p, sizeof p, "%s/%s.nir", g_dir, cases[i].mode);
        assert_int_equal(rc_test_sh("/usr/bin/python3 tests/py/nir_mutate.py %s %s %s", nir, p, cases[i].mode), 0);
        const int rc = load(p, err, sizeof err);
        if (rc != cases[i].code) print_error("%s: exit %d\n%s\n", cases[i].mode, rc, err);
        assert_int_equal(rc, cases[i].code);
        one_line(err, cases[i].w1, cases[i].w2);
    }
}

/* A file without rcsim's metadata (a foreign exporter's) is read with NIR's
 * own semantics: dt = 1e-4 s, reset to v_reset = 0; for a mult-reset net
 * that is rcsim's own, so the results are still run A's. So are they with
 * each AvgPool2d written as SumPool2d + Scale(0.25). */
static void test_foreign_defaults(void **st)
{
    (void)st;
    char nir[512], p[600], err[4096], a[600], b[600];
    make_nir(nir, sizeof nir);
    if (rc_test_sh("/usr/bin/python3 -c 'import h5py' 2>/dev/null") != 0) {
        print_message("python3-h5py not installed: skipped\n");
        return;
    }
    const char *modes[2] = { "nometa", "sumpool" };
    for (int m = 0; m < 2; m++) {
        snprintf(p, sizeof p, "%s/%s.nir", g_dir, modes[m]);
        assert_int_equal(rc_test_sh("/usr/bin/python3 tests/py/nir_mutate.py %s %s %s", nir, p, modes[m]), 0);
        if (load(p, err, sizeof err)) { print_error("%s: %s\n", modes[m], err); fail(); }
        snprintf(a, sizeof a, "%s/err_A/traces.h5", g_dir);
        snprintf(b, sizeof b, "%s/load_run/traces.h5", g_dir);
        size_t n;
        free(same_ds(a, b, "rc/t_sp", &n));
        free(same_ds(a, b, "rc/pred", &n));
        free(same_ds(a, b, "spikes/output/node_ids", &n));
    }
}

static void test_config_and_cli_errors(void **st)
{
    (void)st;
    char nir[512], p[600], args[1400], err[4096];
    snprintf(nir, sizeof nir, "%s/err.nir", g_dir);
    write_cfgs("cfg", "v_th = 0.2", "0.01", nir);
    /* model.type = nir: refused, naming the way that works */
    snprintf(args, sizeof args, "run %s/cfg_b.cfg --set model.type=nir --out %s/x", g_dir, g_dir);
    assert_int_equal(run_rcsim(args, err, sizeof err), 2);
    one_line(err, "model.type = nir", "model.type = snn and model.nir");
    /* keys the file replaces */
    snprintf(args, sizeof args, "run %s/cfg_b.cfg --set model.tau=0.3 --out %s/x", g_dir, g_dir);
    assert_int_equal(run_rcsim(args, err, sizeof err), 2);
    one_line(err, "model.tau has no effect with model.nir", NULL);
    snprintf(args, sizeof args, "run %s/cfg_b.cfg --set model.layers=fc10 --out %s/x", g_dir, g_dir);
    assert_int_equal(run_rcsim(args, err, sizeof err), 2);
    one_line(err, "model.layers has no effect with model.nir", NULL);
    /* model.nir with an LSTM */
    snprintf(p, sizeof p, "%s/lstm.cfg", g_dir);
    rc_test_write_file(p, "[task]\nname = spotting\n[model]\nhidden = 4\nnir = x.nir\n");
    snprintf(args, sizeof args, "run %s --out %s/x", p, g_dir);
    assert_int_equal(run_rcsim(args, err, sizeof err), 2);
    one_line(err, "model.nir has no effect for model.type = lstm", NULL);
    /* export-nir of an LSTM, and its usage errors */
    rc_test_write_file(p, "[task]\nname = spotting\n[model]\nhidden = 4\n");
    snprintf(args, sizeof args, "export-nir %s --model %s/none.h5 --out %s/x.nir", p, g_dir, g_dir);
    assert_int_equal(run_rcsim(args, err, sizeof err), 2);
    one_line(err, "NIR export is for spiking networks", NULL);
    snprintf(args, sizeof args, "export-nir %s --model %s/none.h5", p, g_dir);
    assert_int_equal(run_rcsim(args, err, sizeof err), 2);
    one_line(err, "missing --out", NULL);
    /* the Input does not fit the task's data (a 12x12 image net on spotting) */
    if (access(nir, F_OK) == 0) {
        rc_test_write_file(p, "[task]\nname = spotting\n[model]\ntype = snn\n");
        snprintf(args, sizeof args, "run %s --set model.nir=%s --out %s/x", p, nir, g_dir);
        assert_int_equal(run_rcsim(args, err, sizeof err), 2);
        one_line(err, "Input node's shape is [1, 12, 12]", NULL);
    }
}

/* An export that fails leaves an earlier file at --out as it was. */
static void test_export_atomic(void **st)
{
    (void)st;
    char nir[512], args[1400], err[4096];
    make_nir(nir, sizeof nir);
    size_t n0, n1;
    char *before = rc_test_slurp(nir, &n0);
    assert_non_null(before);
    snprintf(args, sizeof args, "export-nir %s/err_a.cfg --model %s/nothing/model.h5 --out %s", g_dir, g_dir, nir);
    assert_int_equal(run_rcsim(args, err, sizeof err), 1);
    one_line(err, "nothing/model.h5", NULL);
    char *after = rc_test_slurp(nir, &n1);
    assert_non_null(after);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", nir);
    assert_int_not_equal(access(tmp, F_OK), 0);
    free(before);
    free(after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_paper_snn),
        cmocka_unit_test(test_round_trip_linear),
        cmocka_unit_test(test_round_trip_subtract),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_foreign_defaults),
        cmocka_unit_test(test_config_and_cli_errors),
        cmocka_unit_test(test_export_atomic),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
