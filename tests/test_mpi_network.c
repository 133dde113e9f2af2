/* test_mpi_network.c — network simulation over MPI ranks (sim/network_mpi.c):
 * `rcsim run` of a small mixed network (delta and conductance neurons,
 * random delays and weights, fixed in/out-degree and Bernoulli rules, Poisson
 * drive, random V_0) gives the same traces.h5 (every spike and V_m sample,
 * bit for bit) and the same summary numbers for ranks × threads = 1×1, 1×2,
 * 2×1, 3×1 and 2×2; rank 0 alone writes; a failure of rank 0 alone and a
 * killed rank end the job instead of hanging it.
 *
 * The runs go through mpirun (OpenMPI: --oversubscribe --allow-run-as-root,
 * as root in CI, no hostfile; mpi_yield_when_idle so that ranks waiting in a
 * collective give the core back on this 2-core machine). Without mpirun the
 * tests are skipped with a message. */
#include "tests/testutil.h"

#include <hdf5.h>

static char g_dir[256];
static const char *MPIRUN =
    "env OMPI_MCA_mpi_yield_when_idle=1 ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\" "
    "mpirun --oversubscribe --allow-run-as-root";

static const char *mix_cfg =
    "[task]\nname = network\n[sim]\ndt_ms = 0.1\ntime_ms = 120\nseed = 7\nthreads = 1\n"
    "[population.E]\nsize = 2000\nmodel = iaf_psc_delta\nC_m = 1\ntau_m = 20\nt_ref = 2\nE_L = 0\nV_th = 20\n"
    "V_reset = 10\nV_m_min = 0\nV_m_max = 20\n"
    "[population.I]\nsize = 500\nmodel = iaf_psc_delta\nC_m = 1\ntau_m = 20\nt_ref = 2\nE_L = 0\nV_th = 20\n"
    "V_reset = 10\nV_m_min = 0\nV_m_max = 20\n"
    "[population.O]\nsize = 301\nmodel = iaf_cond_exp\nV_m_min = -70\nV_m_max = -55\n"
    "[projection.EE]\nsource = E\ntarget = E\nrule = fixed_indegree\nindegree = 200\nweight = 0.2\n"
    "delay_ms = 1.5\ndelay_dist = uniform\ndelay_min = 0.5\ndelay_max = 2.5\n"
    "[projection.EI]\nsource = E\ntarget = I\nrule = fixed_indegree\nindegree = 200\nweight = 0.2\ndelay_ms = 1.5\n"
    "[projection.IE]\nsource = I\ntarget = E\nrule = pairwise_bernoulli\np = 0.1\nweight = -1.0\n"
    "weight_dist = normal\nweight_sd = 0.3\nweight_min = -2\nweight_max = -0.01\ndelay_ms = 0.8\n"
    "[projection.II]\nsource = I\ntarget = I\nrule = fixed_outdegree\noutdegree = 50\nweight = -1.0\ndelay_ms = 0.7\n"
    "[projection.EO]\nsource = E\ntarget = O\nrule = pairwise_bernoulli\np = 0.05\nweight = 3\ndelay_ms = 1\n"
    "[projection.OI]\nsource = O\ntarget = I\nrule = fixed_indegree\nindegree = 10\nweight = 0.3\ndelay_ms = 2\n"
    "[source.noise_E]\ntype = poisson\ntarget = E\nrate_hz = 10000\nweight = 0.2\n"
    "[source.noise_I]\ntype = poisson\ntarget = I\nrate_hz = 10000\nweight = 0.2\n"
    "[source.noise_O]\ntype = poisson\ntarget = O\nrate_hz = 2000\nweight = 2\n"
    "[record.sE]\npopulation = E\nwhat = spikes\n[record.sI]\npopulation = I\nwhat = spikes\n"
    "[record.sO]\npopulation = O\nwhat = spikes\n"
    "[record.vE]\npopulation = E\nwhat = V_m\nneurons = 0,1,2,3,1999\nevery = 3\n"
    "[record.vO]\npopulation = O\nwhat = V_m\nneurons = 0,5,300\nevery = 2\n"
    "[output]\nprogress = off\n";

static int have_mpirun(void)
{
    if (rc_test_sh("command -v mpirun >/dev/null 2>&1") == 0) return 1;
    print_message("mpirun not found (apt-get install openmpi-bin): skipping the MPI network tests\n");
    return 0;
}

static int setup(void **state)
{
    (void)state;
    if (rc_test_mkdtemp(g_dir, sizeof g_dir, "/tmp/rcsim_mpinet_")) return -1;
    char p[400];
    snprintf(p, sizeof p, "%s/mix.cfg", g_dir);
    FILE *f = fopen(p, "w");
    if (!f) return -1;
    fputs(mix_cfg, f);
    return fclose(f);
}

static int teardown(void **state)
{
    (void)state;
    return rc_test_rmtree(g_dir);
}

/* The raw bytes of dataset name in traces.h5 of run dir (malloc'd). */
static unsigned char *read_ds(const char *dir, const char *name, size_t *bytes)
{
    char p[400];
    snprintf(p, sizeof p, "%s/traces.h5", dir);
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t t = H5Dget_type(d), sp = H5Dget_space(d);
    const hssize_t n = H5Sget_simple_extent_npoints(sp);
    *bytes = (size_t)n * H5Tget_size(t);
    unsigned char *buf = malloc(*bytes + 1);
    assert_non_null(buf);
    assert_true(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Sclose(sp);
    H5Tclose(t);
    H5Dclose(d);
    H5Fclose(f);
    return buf;
}

/* The value of "key": in summary.json of dir, as text (static buffer). */
static const char *summary_field(const char *dir, const char *key)
{
    static char v[64];
    char p[400];
    snprintf(p, sizeof p, "%s/summary.json", dir);
    char *s = rc_test_slurp(p, NULL);
    assert_non_null(s);
    const char *at = strstr(s, key);
    assert_non_null(at);
    at += strlen(key);
    size_t n = strcspn(at, ",}\n");
    snprintf(v, sizeof v, "%.*s", (int)(n < 63 ? n : 63), at);
    free(s);
    return v;
}

/* Runs the mixed network as ranks × threads into g_dir/r<ranks>t<threads>;
 * stdout to that name + ".out". ranks 0: plain, without mpirun. */
static void run_split(int ranks, int threads, char *dir, size_t cap)
{
    snprintf(dir, cap, "%s/r%dt%d", g_dir, ranks, threads);
    char launch[400] = "";
    if (ranks) snprintf(launch, sizeof launch, "%s -np %d", MPIRUN, ranks);
    const int rc = rc_test_sh("timeout 120 %s %s run %s/mix.cfg --threads %d --out %s > %s.out 2> %s.err", launch,
                              rc_test_bin(), g_dir, threads, dir, dir, dir);
    if (rc) rc_test_sh("cat %s.err", dir);
    assert_int_equal(rc, 0);
}

static const char *const datasets[] = { "/spikes/E/timestamps", "/spikes/E/node_ids", "/spikes/I/timestamps",
                                        "/spikes/I/node_ids",   "/spikes/O/timestamps", "/spikes/O/node_ids",
                                        "/report/E/data",       "/report/O/data" };

/* Every spike, V_m sample and summary number of 1×2, 2×1, 3×1, 2×2 equals
 * 1×1's. The V_m samples catch an input summed in another order at once
 * (delivering the ranks' spikes in rank order instead of merged by id fails
 * here on /report/E/data); spikes follow once a difference reaches a
 * threshold. */
static void test_splits_identical(void **state)
{
    (void)state;
    char ref[400], dir[400];
    run_split(0, 1, ref, sizeof ref);
    const double rate = atof(summary_field(ref, "\"E\": {\"size\": 2000, \"model\": \"iaf_psc_delta\", \"spikes\": "));
    const double cv = atof(summary_field(ref, "\"cv_isi\": "));
    print_message("1x1: %.0f E spikes, CV %.3f\n", rate, cv);
    assert_true(rate > 5000 && cv > 0.2); /* active and irregular */
    char *ref_sum = rc_test_summary_numbers(ref, "\"threads\"");
    char ref_syn[64];
    snprintf(ref_syn, sizeof ref_syn, "%s", summary_field(ref, "\"synapses\": "));
    const int splits[][2] = { { 0, 2 }, { 2, 1 }, { 3, 1 }, { 2, 2 } };
    const int mpi = have_mpirun();
    for (size_t k = 0; k < sizeof splits / sizeof *splits; k++) {
        if (splits[k][0] && !mpi) continue;
        run_split(splits[k][0], splits[k][1], dir, sizeof dir);
        for (size_t d = 0; d < sizeof datasets / sizeof *datasets; d++) {
            size_t na, nb;
            unsigned char *a = read_ds(ref, datasets[d], &na), *b = read_ds(dir, datasets[d], &nb);
            if (na != nb || memcmp(a, b, na))
                print_error("%d ranks x %d threads: %s differs (%zu / %zu bytes)\n", splits[k][0] ? splits[k][0] : 1,
                            splits[k][1], datasets[d], na, nb);
            assert_int_equal(na, nb);
            assert_memory_equal(a, b, na);
            free(a);
            free(b);
        }
        char *sum = rc_test_summary_numbers(dir, "\"threads\"");
        assert_string_equal(sum, ref_sum);
        free(sum);
        assert_string_equal(summary_field(dir, "\"synapses\": "), ref_syn);
    }
    free(ref_sum);
    if (!mpi) skip();
}

/* 2 ranks: summary.json says so, it is printed once, and the output folder
 * holds rank 0's two files only. */
static void test_rank0_writes(void **state)
{
    (void)state;
    if (!have_mpirun()) skip();
    char dir[400], p[500];
    run_split(2, 1, dir, sizeof dir);
    assert_string_equal(summary_field(dir, "\"ranks\": "), "2");
    snprintf(p, sizeof p, "%s.out", dir);
    char *out = rc_test_slurp(p, NULL);
    assert_non_null(out);
    const char *a = strstr(out, "\"task\": \"network\"");
    assert_non_null(a);
    assert_null(strstr(a + 1, "\"task\": \"network\"")); /* printed once */
    free(out);
    assert_int_equal(rc_test_sh("test \"$(ls -A %s | tr '\\n' ' ')\" = 'summary.json traces.h5 '", dir), 0);
}

/* Rank 0 cannot create the output folder (a file is in the way): every rank
 * stops with an error, none waits in a collective. */
static void test_rank0_fails_alone(void **state)
{
    (void)state;
    if (!have_mpirun()) skip();
    const int rc = rc_test_sh("touch %s/file && timeout 60 %s -np 2 %s run %s/mix.cfg --out %s/file/out > %s/f.out "
                              "2>&1",
                              g_dir, MPIRUN, rc_test_bin(), g_dir, g_dir, g_dir);
    rc_test_sh("cat %s/f.out", g_dir);
    assert_true(rc != 0 && rc != 124);
    assert_int_equal(rc_test_sh("grep -q 'another rank failed' %s/f.out", g_dir), 0);
}

/* A rank killed (SIGKILL) mid-run: mpirun ends the other and exits non-zero
 * with its one-line reason, instead of the job waiting for ever. */
static void test_killed_rank(void **state)
{
    (void)state;
    if (!have_mpirun()) skip();
    const int rc = rc_test_sh(
        "D=%s; (timeout 120 %s -np 2 %s run $D/mix.cfg --set sim.time_ms=1000000 --out $D/kill > $D/kill.log 2>&1; "
        "echo $? > $D/kill.rc) & S=$!; R=; "
        "for i in $(seq 150); do sleep 0.2; T=$(pgrep -P $S); [ -n \"$T\" ] || continue; "
        "  M=$(pgrep -P $T); [ -n \"$M\" ] || continue; R=$(pgrep -P $M | tail -1); [ -n \"$R\" ] && break; done; "
        "sleep 2; [ -n \"$R\" ] && kill -9 $R; wait $S; cat $D/kill.log; "
        "test \"$(cat $D/kill.rc)\" != 124 && test \"$(cat $D/kill.rc)\" != 0 && "
        "grep -q 'exited on signal 9' $D/kill.log",
        g_dir, MPIRUN, rc_test_bin());
    assert_int_equal(rc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_splits_identical),
        cmocka_unit_test(test_rank0_writes),
        cmocka_unit_test(test_rank0_fails_alone),
        cmocka_unit_test(test_killed_rank),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
