/* test_mpi_train.c — data-parallel training over MPI ranks through the
 * binary (mpirun --oversubscribe --allow-run-as-root): at a fixed
 * train.shards, summary.json numbers and every model.h5 tensor are
 * identical for 1 (no mpirun), 2 and 3 ranks, for an LSTM (spotting), a
 * ConvLSTM and an SNN (temporal MNIST on generated IDX files); a checkpoint
 * written by 2 ranks resumes on 3 and equals a straight run; more ranks than
 * shards is one config error line; SIGTERM to one rank stops all after the
 * same batch (exit 143, one line); a rank killed with SIGKILL ends the job
 * non-zero (no hang: the run is under `timeout`) and the last checkpoint
 * still loads (rcsim eval). Skipped when mpirun is not installed. */
#include "tests/testutil.h"
#include <hdf5.h>
#include "io/checkpoint.h"
#include <sys/stat.h>

static char g_dir[256], g_bin[4096];
static int g_have_mpi;

static int setup(void **st)
{
    (void)st;
    g_have_mpi = system("command -v mpirun >/dev/null 2>&1") == 0;
    if (rc_test_mkdtemp(g_dir, sizeof g_dir, "/tmp/rcsim_mpitrain_")) return -1;
    if (!realpath(rc_test_bin(), g_bin)) return -1;
    /* Generated temporal-MNIST data: class = which third of the image is bright. */
    char dir[512], p[600];
    snprintf(dir, sizeof dir, "%s/mn", g_dir);
    rc_test_write_tiny_mnist(dir, 96, 96);
    FILE *f;
    snprintf(p, sizeof p, "%s/sp.cfg", g_dir);
    if (!(f = fopen(p, "w"))) return -1;
    fprintf(f, "[task]\nname = spotting\n[model]\nhidden = 12\n"
               "[train]\nlr = 0.01\nbatch = 24\nexamples = 288\nval_every = 4\nval_size = 60\nshards = 6\n"
               "[test]\nsize = 90\nbatch = 32\n[output]\nprogress = off\ncheckpoint_every = 3\n");
    fclose(f);
    snprintf(p, sizeof p, "%s/tm.cfg", g_dir);
    if (!(f = fopen(p, "w"))) return -1;
    fprintf(f, "[task]\nname = tmnist\ndata_dir = %s\nvalidation = 24\n[model]\nhidden = 10\n"
               "[train]\nlr = 0.01\nbeta = 0.1\nbatch = 18\nepochs = 1\nval_every = 2\nval_size = 24\nshards = 6\n"
               "[test]\nsize = 40\nbatch = 16\n[output]\nprogress = off\n", dir);
    fclose(f);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    return rc_test_rmtree(g_dir);
}

/* rcsim ARGS on P ranks (P = 1: the binary alone, no mpirun) under a 120 s
 * timeout; stderr to g_dir/err.txt. The exit status (124: it hung). */
static int run_p(int P, const char *args)
{
    if (P == 1) return rc_test_sh("timeout 120 %s %s 2>%s/err.txt", g_bin, args, g_dir);
    return rc_test_sh("ASAN_OPTIONS=detect_leaks=0 timeout 120 mpirun --oversubscribe --allow-run-as-root -np %d "
                      "%s %s >/dev/null 2>%s/err.txt", P, g_bin, args, g_dir);
}

static char *err_text(void)
{
    char p[600];
    snprintf(p, sizeof p, "%s/err.txt", g_dir);
    char *s = rc_test_slurp(p, NULL);
    return s ? s : strdup("");
}

/* Dataset tensors/<name> of dir/model.h5 as floats (malloc'd), its length in *n. */
static float *read_tensor(const char *dir, const char *name, size_t *n)
{
    char p[600], d[128];
    snprintf(p, sizeof p, "%s/model.h5", dir);
    snprintf(d, sizeof d, "tensors/%s", name);
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return NULL;
    hid_t ds = H5Dopen2(f, d, H5P_DEFAULT);
    float *v = NULL;
    if (ds >= 0) {
        hid_t sp = H5Dget_space(ds);
        *n = (size_t)H5Sget_simple_extent_npoints(sp);
        v = malloc(*n * sizeof *v + 1);
        if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) { free(v); v = NULL; }
        H5Sclose(sp);
        H5Dclose(ds);
    }
    H5Fclose(f);
    return v;
}

/* Every tensor of a/model.h5 and b/model.h5 bit-identical, and the
 * summary.json numbers (timings aside) equal. */
static void assert_same_run(const char *a, const char *b)
{
    static const char *const names[] = { "params", "adam_m", "adam_v", "best_params", "kept_params" };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        size_t na = 0, nb = 0;
        float *x = read_tensor(a, names[k], &na), *y = read_tensor(b, names[k], &nb);
        if (!x || !y) fail_msg("cannot read tensors/%s of %s or %s", names[k], a, b);
        assert_int_equal(na, nb);
        if (memcmp(x, y, na * sizeof *x)) fail_msg("tensors/%s differ between %s and %s", names[k], a, b);
        free(x);
        free(y);
    }
    char *sa = rc_test_summary_numbers(a, NULL), *sb = rc_test_summary_numbers(b, NULL);
    assert_non_null(sa);
    assert_non_null(sb);
    assert_string_equal(sa, sb);
    free(sa);
    free(sb);
}

/* The config's run on 1, 2 and 3 ranks (1 thread each); all equal. */
static void equal_over_ranks(const char *cfg, const char *tag, const char *extra)
{
    if (!g_have_mpi) skip();
    char args[4096], d[3][600];
    for (int P = 1; P <= 3; P++) {
        snprintf(d[P - 1], sizeof d[P - 1], "%s/%s%d", g_dir, tag, P);
        snprintf(args, sizeof args, "run %s/%s --out %s --threads 1 %s", g_dir, cfg, d[P - 1], extra);
        int rc = run_p(P, args);
        if (rc) {
            char *e = err_text();
            fail_msg("%s on %d ranks: exit %d: %s", tag, P, rc, e);
        }
    }
    assert_same_run(d[0], d[1]);
    assert_same_run(d[0], d[2]);
    /* The shards matter: one shard is the whole-batch sum, other bits. */
    snprintf(args, sizeof args, "run %s/%s --out %s/%s_s1 --threads 1 --set train.shards=1 %s", g_dir, cfg, g_dir, tag, extra);
    assert_int_equal(run_p(1, args), 0);
    size_t n1, n6;
    char s1[700];
    snprintf(s1, sizeof s1, "%s/%s_s1", g_dir, tag);
    float *x = read_tensor(s1, "params", &n1), *y = read_tensor(d[0], "params", &n6);
    assert_non_null(x);
    assert_non_null(y);
    assert_int_equal(n1, n6);
    assert_true(memcmp(x, y, n1 * sizeof *x) != 0);
    free(x);
    free(y);
}

static void test_lstm_equal(void **st) { (void)st; equal_over_ranks("sp.cfg", "lstm", ""); }

static void test_convlstm_equal(void **st)
{
    (void)st;
    equal_over_ranks("tm.cfg", "conv", "--set model.type=convlstm --set model.hidden=0 --set model.channels=3 --set model.kernel=3");
}

static void test_snn_equal(void **st)
{
    (void)st;
    equal_over_ranks("tm.cfg", "snn", "--set model.type=snn --set model.hidden=0 --set 'model.layers=conv4k3p1 pool2 fc16 fc10' "
                     "--set encoder.type=rate");
}

/* 6 batches on 2 ranks, resumed to 12 on 3 ranks: equal to 12 straight on 1. */
static void test_resume_other_ranks(void **st)
{
    (void)st;
    if (!g_have_mpi) skip();
    char args[2048], a[600], b[600];
    snprintf(a, sizeof a, "%s/rs_part", g_dir);
    snprintf(b, sizeof b, "%s/rs_straight", g_dir);
    snprintf(args, sizeof args, "run %s/sp.cfg --out %s --threads 1 --set train.examples=144", g_dir, a);
    assert_int_equal(run_p(2, args), 0);
    snprintf(args, sizeof args, "run %s/sp.cfg --resume %s --threads 1", g_dir, a);
    assert_int_equal(run_p(3, args), 0);
    snprintf(args, sizeof args, "run %s/sp.cfg --out %s --threads 1", g_dir, b);
    assert_int_equal(run_p(1, args), 0);
    assert_same_run(a, b);
}

/* More ranks than shards: exit 2 and one line saying what to set. */
static void test_more_ranks_than_shards(void **st)
{
    (void)st;
    if (!g_have_mpi) skip();
    char args[2048];
    snprintf(args, sizeof args, "run %s/sp.cfg --out %s/toomany --set train.shards=2", g_dir, g_dir);
    int rc = run_p(3, args);
    assert_int_not_equal(rc, 0);
    char *e = err_text();
    assert_contains(e, "train.shards = 2");
    assert_contains(e, "set train.shards >= 3");
    assert_true(strstr(e, "rcsim:") == strstr(e, "rcsim: ") && strstr(strstr(e, "rcsim:") + 1, "rcsim:") == NULL);
    free(e);
    struct stat sb;
    char p[700];
    snprintf(p, sizeof p, "%s/toomany", g_dir);
    assert_int_not_equal(stat(p, &sb), 0); /* nothing written */
}

/* SIGKILL to rank 1 once the first checkpoint exists: the job ends
 * non-zero (no hang; mpirun names the killed rank) and the checkpoint
 * loads (rcsim eval). */
static void test_killed_rank(void **st)
{
    (void)st;
    if (!g_have_mpi) skip();
    char out[600];
    snprintf(out, sizeof out, "%s/killed", g_dir);
    int rc = rc_test_sh(
        "cd %s && (ASAN_OPTIONS=detect_leaks=0 timeout 120 mpirun --oversubscribe --allow-run-as-root -np 2 %s run "
        "sp.cfg --out %s --threads 1 --set train.examples=100000000 --set output.checkpoint_every=2 "
        ">/dev/null 2>err.txt; echo $? > rc.txt) & "
        "for i in $(seq 600); do [ -f %s/model.h5 ] && break; sleep 0.1; done; "
        "pid=$(pgrep -f '^%s run sp.cfg --out %s ' | sed -n 2p); kill -9 $pid; wait; exit $(cat %s/rc.txt)",
        g_dir, g_bin, out, out, g_bin, out, g_dir);
    char *e = err_text();
    if (rc == 0 || rc == 124) {
        print_error("killed rank: exit %d (0: not killed, 124: hung): %s\n", rc, e);
        free(e);
        fail();
    }
    assert_contains(e, "signal 9");
    free(e);
    char args[2048];
    snprintf(args, sizeof args, "eval %s/sp.cfg --model %s/model.h5 --out %s/killed_eval --threads 1", g_dir, out, g_dir);
    rc = run_p(1, args);
    if (rc) {
        e = err_text();
        fail_msg("eval of the killed run's checkpoint: exit %d: %s", rc, e);
    }
}

/* SIGTERM to rank 1 alone: every rank stops after the same batch, exit
 * 143, one line from rcsim, and rank 0's checkpoint is of that batch and
 * loads. */
static void test_sigterm_one_rank(void **st)
{
    (void)st;
    if (!g_have_mpi) skip();
    char out[600];
    snprintf(out, sizeof out, "%s/termed", g_dir);
    int rc = rc_test_sh(
        "cd %s && (ASAN_OPTIONS=detect_leaks=0 timeout 120 mpirun --oversubscribe --allow-run-as-root -np 2 %s run "
        "sp.cfg --out %s --threads 1 --set train.examples=100000000 --set output.checkpoint_every=2 "
        ">/dev/null 2>err.txt; echo $? > rc.txt) & "
        "for i in $(seq 600); do [ -f %s/model.h5 ] && break; sleep 0.1; done; "
        "pid=$(pgrep -f '^%s run sp.cfg --out %s ' | sed -n 2p); kill -TERM $pid; wait; exit $(cat %s/rc.txt)",
        g_dir, g_bin, out, out, g_bin, out, g_dir);
    char *e = err_text();
    if (rc != 143) {
        print_error("SIGTERM to one rank: exit %d, expected 143: %s\n", rc, e);
        free(e);
        fail();
    }
    const char *l = strstr(e, "rcsim: interrupted by signal 15 after ");
    assert_non_null(l);
    assert_null(strstr(l + 1, "rcsim:")); /* said once */
    /* The checkpoint is the state after the batch every rank stopped at
     * (not an earlier periodic one). */
    long long said = atoll(l + strlen("rcsim: interrupted by signal 15 after "));
    int64_t batch = -1;
    rc_ckpt_int ci = { "batch", &batch };
    rc_ckpt ck = { .ints = &ci, .nints = 1 };
    rc_err err = { "" };
    char ckp[700];
    snprintf(ckp, sizeof ckp, "%s/model.h5", out);
    if (rc_ckpt_load(ckp, &ck, &err)) fail_msg("%s", err.msg);
    assert_int_equal(batch, said);
    free(e);
    char args[2048];
    snprintf(args, sizeof args, "eval %s/sp.cfg --model %s/model.h5 --out %s/termed_eval --threads 1", g_dir, out, g_dir);
    assert_int_equal(run_p(1, args), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lstm_equal),
        cmocka_unit_test(test_convlstm_equal),
        cmocka_unit_test(test_snn_equal),
        cmocka_unit_test(test_resume_other_ranks),
        cmocka_unit_test(test_more_ranks_than_shards),
        cmocka_unit_test(test_killed_rank),
        cmocka_unit_test(test_sigterm_one_rank),
    };
    return cmocka_run_group_tests_name("mpi_train", tests, setup, teardown);
}
