/* test_traces_snn.c — what traces.h5 holds for a spiking network:
 *  - the engine's single-example pass (rc_engine_spikes) run to T gives the
 *    spikes and the pre-reset potentials of every LIF layer that the dense
 *    reference (tests/lif_reference.h) computes, and stopped at the answer a
 *    prefix of them; the layer before the output equals the batch path's
 *    rec_h bit for bit;
 *  - end to end through the binary (a tiny temporal-MNIST SNN on generated
 *    IDX files): population size/shape/dims/node_id_mapping and root T,
 *    dt_ms, example_ms attributes with their types; trace_after_spike keeps
 *    the traced examples' spikes after t_sp, and up to t_sp they are those of
 *    a run without it; trace_all_output_spikes writes every output spike;
 *    trace_membrane of fc1 equals /activations/hidden; bad or ineffective
 *    trace keys are config errors naming the key;
 *  - tests/py/test_rcplot.py (h5py reads the strings as str; rcplot.py). */
#include "tests/testutil.h"
#include "tests/h5testutil.h"
#include <sys/stat.h>
#include <hdf5.h>
#include "base/rng.h"
#include "encoders/dataset.h"
#include "io/traces.h"
#include "models/lif.h"
#include "models/net.h"
#include "sim/engine.h"
#include "sim/pool.h"
#include "tests/lif_reference.h"

void openblas_set_num_threads(int);

static char g_dir[256];

static int setup(void **st)
{
    (void)st;
    return rc_test_mkdtemp(g_dir, sizeof g_dir, "/tmp/rcsim_trsnn_");
}

static int teardown(void **st)
{
    (void)st;
    return rc_test_rmtree(g_dir);
}

/* ---- engine: rc_engine_spikes against the dense reference -------------- */

static rc_status img_get(const rc_dataset *ds, rc_split split, int64_t index, rc_events *ev, rc_example_info *info)
{
    const uint64_t key = (uint64_t)index * 3 + (uint64_t)split + 100;
    assert_int_equal(rc_events_reset(ev, ds->T), RC_OK);
    for (int t = 0; t < ds->T; t++)
        for (int c = 0; c < ds->nin; c++)
            if (rc_uniform(11, key, (uint64_t)t, (uint64_t)c) < 0.12) rc_events_push(ev, t, c, 1.0f);
    rc_events_finish(ev);
    info->label = (int)(rc_rand64(3, 4, key, 0) % (uint64_t)ds->nclass);
    info->earliest = -1;
    return RC_OK;
}

typedef struct { int tot, T; const int *base; uint8_t *O; int calls; } spike_grid;

static void grid_fn(void *ud, int pop, int t, const int *neurons, int n)
{
    spike_grid *g = ud;
    for (int i = 0; i < n; i++) g->O[(size_t)t * g->tot + g->base[pop] + neurons[i]] = 1;
    g->calls++;
}

static void test_engine_vs_reference(void **st)
{
    (void)st;
    openblas_set_num_threads(1);
    const int T = 8;
    rc_dataset ds = { .name = "img", .T = T, .nin = 64, .nclass = 4, .rows = 8, .cols = 8,
                      .size = { -1, -1, -1 }, .get = img_get };
    rc_net_shape sh = { .core = RC_CORE_LIF, .nin = 64, .K = 4 };
    char msg[256];
    assert_int_equal(rc_lif_parse(&sh.snn, "conv4k3p1 pool2 conv4k3p1 pool2 fc8 fc4", 1, 8, 8, msg, sizeof msg), 0);
    sh.snn.vth = 0.5f;
    sh.snn.tau = 0.2f;
    sh.snn.lens = 0.5f;
    sh.H = 8;
    rc_net *net = rc_net_new(&sh, 3);
    assert_non_null(net);
    for (size_t i = 0; i < net->nparams; i++) net->params[i] *= 3.0f;
    rc_err err;
    rc_pool *pool = rc_pool_new(1, RC_PLACE_SPREAD, &err);
    rc_engine *eng = rc_engine_new(net, &ds, pool, 4, &err);
    assert_non_null(eng);
    const rc_lif_shape *s = &net->s.snn;
    const int np = rc_lif_npops(s);
    assert_int_equal(np, 4);
    int base[RC_LIF_MAX_LAYERS], nn[RC_LIF_MAX_LAYERS], tot = 0;
    for (int l = 0, p = 0; l < s->nl; l++)
        if (s->L[l].kind != RC_LIF_POOL) { base[p] = tot; nn[p] = s->L[l].nout; tot += nn[p]; p++; }
    float *U[RC_LIF_MAX_LAYERS] = { 0 }, *Ur = malloc((size_t)T * tot * sizeof *Ur);
    uint8_t *O = malloc((size_t)T * tot), *O1 = malloc((size_t)T * tot), *Or = malloc((size_t)T * tot);
    for (int p = 0; p < np; p++) U[p] = malloc((size_t)T * nn[p] * sizeof *U[p]);
    float *rh = malloc((size_t)T * 8 * sizeof *rh);
    int later = 0, spikes = 0;
    for (int64_t ex = 0; ex < 12; ex++) {
        /* To T: every step's spikes and potentials are the reference's. */
        for (int p = 0; p < np; p++)
            for (size_t k = 0; k < (size_t)T * nn[p]; k++) U[p][k] = NAN;
        memset(O, 0, (size_t)T * tot);
        spike_grid g = { tot, T, base, O, 0 };
        rc_batch_opts o = { .stop_at_spike = 0, .lif = { .vth_scale = 1, .rec_u = U } };
        assert_int_equal(rc_engine_spikes(eng, RC_SPLIT_TEST, ex, &o, grid_fn, &g, &err), RC_OK);
        rc_events ev = { 0 };
        rc_example_info info;
        img_get(&ds, RC_SPLIT_TEST, ex, &ev, &info);
        rc_lif_reference(s, net->params, &ev, T, 1.0f, Ur, Or);
        rc_events_free(&ev);
        for (int t = 0; t < T; t++)
            for (int p = 0; p < np; p++)
                for (int j = 0; j < nn[p]; j++) {
                    const size_t i = (size_t)t * tot + base[p] + j;
                    const float u = U[p][(size_t)t * nn[p] + j];
                    if (O[i] != Or[i] || !(fabsf(u - Ur[i]) <= 1e-6f * (1.0f + fabsf(Ur[i])))) {
                        print_error("example %lld step %d pop %d neuron %d: engine u=%.9g o=%d, reference u=%.9g o=%d\n",
                                    (long long)ex, t, p, j, u, O[i], Ur[i], Or[i]);
                        fail();
                    }
                    spikes += O[i];
                }
        /* The layer before the output: the batch path's rec_h, bit for bit. */
        for (size_t k = 0; k < (size_t)T * 8; k++) rh[k] = NAN;
        rc_example_result res;
        rc_batch_opts ob = { .stop_at_spike = 0, .rec_h = rh, .lif.vth_scale = 1 };
        assert_int_equal(rc_engine_batch(eng, RC_SPLIT_TEST, &ex, 1, &ob, &res, NULL, &err), RC_OK);
        assert_memory_equal(rh, U[np - 2], (size_t)T * 8 * sizeof *rh);
        /* Stopped at the answer: a prefix of the same, NaN after it. */
        int tsp = -1;
        for (int t = 0; t < T && tsp < 0; t++)
            for (int j = 0; j < nn[np - 1]; j++)
                if (O[(size_t)t * tot + base[np - 1] + j]) tsp = t;
        for (int p = 0; p < np; p++)
            for (size_t k = 0; k < (size_t)T * nn[p]; k++) U[p][k] = NAN;
        memset(O1, 0, (size_t)T * tot);
        spike_grid g1 = { tot, T, base, O1, 0 };
        o.stop_at_spike = 1;
        assert_int_equal(rc_engine_spikes(eng, RC_SPLIT_TEST, ex, &o, grid_fn, &g1, &err), RC_OK);
        const int tend = tsp < 0 ? T - 1 : tsp;
        assert_memory_equal(O1, O, (size_t)(tend + 1) * tot);
        for (size_t i = (size_t)(tend + 1) * tot; i < (size_t)T * tot; i++) assert_int_equal(O1[i], 0);
        for (int p = 0; p < np; p++)
            for (int t = 0; t < T; t++)
                for (int j = 0; j < nn[p]; j++) {
                    const float u = U[p][(size_t)t * nn[p] + j], want = Ur[(size_t)t * tot + base[p] + j];
                    if (t <= tend) assert_true(fabsf(u - want) <= 1e-6f * (1.0f + fabsf(want)));
                    else assert_true(isnan(u));
                }
        for (size_t i = (size_t)(tend + 1) * tot; i < (size_t)T * tot; i++) later += O[i];
    }
    assert_true(spikes > 100);
    assert_true(later > 0); /* the full runs had spikes the stopped ones did not */
    for (int p = 0; p < np; p++) free(U[p]);
    free(Ur); free(O); free(O1); free(Or); free(rh);
    rc_engine_free(eng);
    rc_pool_free(pool);
    rc_net_free(net);
}

/* ---- end to end through the binary ---------------------------------------- */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Generated IDX files of a 3-class temporal MNIST (which third is bright). */
static void write_mnist(const char *dir)
{
    rc_test_write_tiny_mnist(dir, 240, 30);
}

/* rcsim ARGS with stderr into err; the exit code. */
#define rcsim(err, cap, ...) rc_test_rcsim_err(g_dir, err, cap, __VA_ARGS__)


/* A numeric attribute of n elements: checks its file type's class, size and
 * sign, reads it as int64 or double. */
static void num_attr(hid_t loc, const char *obj, const char *name, H5T_class_t cls, size_t size, int is_signed,
                     size_t n, void *out)
{
    hid_t a = H5Aopen_by_name(loc, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) print_error("missing attribute %s of %s\n", name, obj);
    assert_true(a >= 0);
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    assert_int_equal(H5Tget_class(t), cls);
    assert_int_equal(H5Tget_size(t), size);
    if (cls == H5T_INTEGER) assert_int_equal(H5Tget_sign(t), is_signed ? H5T_SGN_2 : H5T_SGN_NONE);
    assert_int_equal(H5Sget_simple_extent_npoints(sp), (hssize_t)n);
    assert_true(H5Aread(a, cls == H5T_FLOAT ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64, out) >= 0);
    H5Sclose(sp);
    H5Tclose(t);
    H5Aclose(a);
}

/* The spikes of one population: 0-based step, node, example per spike. */
typedef struct { size_t n; int *step; uint64_t *node, *ex; } spikes;

static spikes read_spikes(hid_t f, const char *pop, int T, double dt)
{
    char p[200];
    spikes s;
    size_t n2, n3;
    snprintf(p, sizeof p, "/spikes/%s/timestamps", pop);
    double *ts = rc_test_read_all(f, p, H5T_NATIVE_DOUBLE, sizeof(double), &s.n);
    snprintf(p, sizeof p, "/spikes/%s/node_ids", pop);
    s.node = rc_test_read_all(f, p, H5T_NATIVE_UINT64, sizeof(uint64_t), &n2);
    snprintf(p, sizeof p, "/spikes/%s/example_ids", pop);
    s.ex = rc_test_read_all(f, p, H5T_NATIVE_UINT64, sizeof(uint64_t), &n3);
    assert_int_equal(n2, s.n);
    assert_int_equal(n3, s.n);
    s.step = malloc((s.n ? s.n : 1) * sizeof *s.step);
    for (size_t i = 0; i < s.n; i++) {
        s.step[i] = (int)llround(ts[i] / dt - (double)s.ex[i] * T);
        assert_true(s.step[i] >= 0 && s.step[i] < T);
    }
    free(ts);
    return s;
}

static void free_spikes(spikes *s) { free(s->step); free(s->node); free(s->ex); }

/* Spikes of example ex up to step tmax (inclusive) of a and b are the same,
 * in the same order. */
static void same_spikes(const spikes *a, const spikes *b, uint64_t ex, int tmax, const char *what)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < a->n && !(a->ex[i] == ex && a->step[i] <= tmax)) i++;
        while (j < b->n && !(b->ex[j] == ex && b->step[j] <= tmax)) j++;
        if (i == a->n || j == b->n) break;
        if (a->step[i] != b->step[j] || a->node[i] != b->node[j]) {
            print_error("%s: example %llu: spike (%d, %llu) against (%d, %llu)\n", what, (unsigned long long)ex,
                        a->step[i], (unsigned long long)a->node[i], b->step[j], (unsigned long long)b->node[j]);
            fail();
        }
        i++;
        j++;
    }
    if (i != a->n || j != b->n) {
        print_error("%s: example %llu: spike counts differ up to step %d\n", what, (unsigned long long)ex, tmax);
        fail();
    }
}

static void check_pop_attrs(hid_t f, const char *pop, int rank, const int64_t *shape, const char *dims,
                            const char *mapping)
{
    char g[100];
    snprintf(g, sizeof g, "/spikes/%s", pop);
    int64_t size = 0, sh[4] = { 0 };
    num_attr(f, g, "size", H5T_INTEGER, 8, 0, 1, &size);
    num_attr(f, g, "shape", H5T_INTEGER, 8, 1, (size_t)rank, sh);
    int64_t want = 1;
    for (int i = 0; i < rank; i++) {
        assert_int_equal(sh[i], shape[i]);
        want *= shape[i];
    }
    assert_int_equal(size, want);
    char *s = rc_test_str_attr(f, g, "dims");
    assert_string_equal(s, dims);
    free(s);
    s = rc_test_str_attr(f, g, "node_id_mapping");
    assert_string_equal(s, mapping);
    free(s);
}

/* The writer alone: rc_traces_describe's attributes (a second description of
 * the same population is ignored), root T and example_ms. */
static void test_describe(void **st)
{
    (void)st;
    char path[400];
    snprintf(path, sizeof path, "%s/desc.h5", g_dir);
    rc_traces_meta meta = { "v", "g", "[x]\n", 7, 1, 0, "rc", 25, 0.5, 0, 0, 0 };
    rc_err err;
    rc_traces *tr = rc_traces_open(path, &meta, &err);
    assert_non_null(tr);
    const rc_traces_pop_shape c = { 3, { 14, 12, 32 }, "y,x,channel" }, o = { 1, { 10 }, "class" },
                              other = { 1, { 99 }, "unit" }, v = { 2, { 3, 5 }, "row,col" };
    assert_int_equal(rc_traces_describe(tr, "conv1", &c, &err), RC_OK);
    assert_int_equal(rc_traces_describe(tr, "output", &o, &err), RC_OK);
    assert_int_equal(rc_traces_describe(tr, "output", &other, &err), RC_OK);
    assert_int_equal(rc_traces_describe(tr, "grid", &v, &err), RC_OK);
    const int steps[2] = { 3, 4 };
    const uint64_t nodes[2] = { 5375, 0 };
    assert_int_equal(rc_traces_add_spikes(tr, "conv1", 2, steps, nodes, 2, &err), RC_OK);
    assert_int_equal(rc_traces_close(tr, &err), RC_OK);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    check_pop_attrs(f, "conv1", 3, c.shape, "y,x,channel", "node_id = (y*12 + x)*32 + channel");
    check_pop_attrs(f, "output", 1, o.shape, "class", "node_id = class");
    check_pop_attrs(f, "grid", 2, v.shape, "row,col", "node_id = row*5 + col");
    int64_t T = 0;
    double ms = 0;
    num_attr(f, "/", "T", H5T_INTEGER, 4, 1, 1, &T);
    num_attr(f, "/", "example_ms", H5T_FLOAT, 8, 1, 1, &ms);
    assert_int_equal(T, 25);
    assert_true(ms == 12.5);
    H5Fclose(f);
}

static const char *SNN_CFG =
    "[task]\nname = tmnist\ndata_dir = %s\nvalidation = 30\n"
    "[model]\ntype = snn\nlayers = conv4k3p1 pool2 fc16 fc10\nbias = true\nv_th = 0.7\n"
    "[encoder]\ntype = rate\n"
    "[train]\nlr = 0.01\nbatch = 20\nepochs = 1\nval_every = 5\nval_size = 30\n"
    "[test]\nsize = 100000\n[output]\nprogress = off\n";

static void test_run_traces(void **st)
{
    (void)st;
    char dir[400], cfg[400], text[2048], err[8192], p[600];
    snprintf(dir, sizeof dir, "%s/mn", g_dir);
    write_mnist(dir);
    snprintf(cfg, sizeof cfg, "%s/snn.cfg", g_dir);
    snprintf(text, sizeof text, SNN_CFG, dir);
    write_text(cfg, text);
    /* A: everything on; B: the same model, defaults but all hidden layers. */
    int rc = rcsim(err, sizeof err, "run '%s' --out '%s/A' --set output.trace_layers=conv1,fc1,output "
                   "--set output.trace_after_spike=true --set output.trace_all_output_spikes=true "
                   "--set output.trace_membrane=conv1,fc1,output --set output.trace_examples=5,2,4", cfg, g_dir);
    if (rc) fail_msg("run A failed (%d): %s", rc, err);
    rc = rcsim(err, sizeof err, "run '%s' --out '%s/B' --set output.trace_layers=conv1,fc1,output", cfg, g_dir);
    if (rc) fail_msg("run B failed (%d): %s", rc, err);

    snprintf(p, sizeof p, "%s/A/traces.h5", g_dir);
    hid_t fa = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    snprintf(p, sizeof p, "%s/B/traces.h5", g_dir);
    hid_t fb = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(fa >= 0 && fb >= 0);
    int64_t T = 0;
    double dt = 0, ex_ms = 0;
    num_attr(fa, "/", "T", H5T_INTEGER, 4, 1, 1, &T);
    num_attr(fa, "/", "dt_ms", H5T_FLOAT, 8, 1, 1, &dt);
    num_attr(fa, "/", "example_ms", H5T_FLOAT, 8, 1, 1, &ex_ms);
    assert_int_equal(T, 10); /* tmnist: 10 steps of 1 ms */
    assert_true(dt == 1.0 && ex_ms == 10.0);
    char *s = rc_test_str_attr(fa, "/", "config");
    assert_non_null(strstr(s, "trace_membrane"));
    free(s);
    s = rc_test_str_attr(fa, "/spikes/output/timestamps", "units");
    assert_string_equal(s, "ms");
    free(s);
    check_pop_attrs(fa, "conv1", 3, (const int64_t[]){ 28, 28, 4 }, "y,x,channel", "node_id = (y*28 + x)*4 + channel");
    check_pop_attrs(fa, "fc1", 1, (const int64_t[]){ 16 }, "unit", "node_id = unit");
    check_pop_attrs(fa, "output", 1, (const int64_t[]){ 10 }, "class", "node_id = class");

    size_t n;
    int32_t *tsp = rc_test_read_all(fb, "/rc/t_sp", H5T_NATIVE_INT32, 4, &n);
    uint8_t *spiked = rc_test_read_all(fb, "/rc/spiked", H5T_NATIVE_UINT8, 1, &n);
    assert_int_equal(n, 30);
    const char *pops[3] = { "conv1", "fc1", "output" };
    spikes A[3], B[3];
    for (int k = 0; k < 3; k++) {
        A[k] = read_spikes(fa, pops[k], (int)T, dt);
        B[k] = read_spikes(fb, pops[k], (int)T, dt);
    }
    /* B: the output has exactly each example's first spike. */
    size_t nspiked = 0;
    for (size_t i = 0; i < n; i++) nspiked += spiked[i];
    assert_int_equal(B[2].n, nspiked);
    int late_hidden = 0, late_out = 0, multi_out = 0;
    for (uint64_t ex = 0; ex < n; ex++) {
        const int traced = ex == 2 || ex == 4 || ex == 5, t1 = tsp[ex] - 1; /* t_sp is 1-based */
        for (int k = 0; k < 2; k++) {
            /* Hidden spikes to t_sp are B's; after it only for traced examples. */
            same_spikes(&A[k], &B[k], ex, t1, pops[k]);
            for (size_t i = 0; i < A[k].n; i++)
                if (A[k].ex[i] == ex && A[k].step[i] > t1) {
                    assert_true(traced);
                    late_hidden++;
                }
        }
        /* All output spikes: the first one is B's; more of them in A. */
        size_t first = SIZE_MAX, cnt = 0;
        for (size_t i = 0; i < A[2].n; i++)
            if (A[2].ex[i] == ex) {
                if (first == SIZE_MAX) first = i;
                cnt++;
                late_out += A[2].step[i] > t1;
            }
        if (spiked[ex]) {
            assert_true(first != SIZE_MAX);
            assert_int_equal(A[2].step[first], t1);
        }
        multi_out += cnt > 1;
    }
    assert_true(late_hidden > 0);
    assert_true(late_out > 0);
    assert_true(multi_out > 0);
    for (int k = 0; k < 3; k++) { free_spikes(&A[k]); free_spikes(&B[k]); }

    /* Membranes: fc1's equals the layer-before-output path bit for bit;
     * every named layer is there for the 3 traced examples, all T steps. */
    size_t nh, nm, nc, no, ni;
    float *hid = rc_test_read_all(fa, "/activations/hidden", H5T_NATIVE_FLOAT, 4, &nh);
    float *mem = rc_test_read_all(fa, "/activations/fc1_membrane", H5T_NATIVE_FLOAT, 4, &nm);
    float *conv = rc_test_read_all(fa, "/activations/conv1_membrane", H5T_NATIVE_FLOAT, 4, &nc);
    float *outm = rc_test_read_all(fa, "/activations/output_membrane", H5T_NATIVE_FLOAT, 4, &no);
    uint64_t *ids = rc_test_read_all(fa, "/activations/conv1_membrane_example_ids", H5T_NATIVE_UINT64, 8, &ni);
    assert_int_equal(nh, 3 * 10 * 16);
    assert_int_equal(nm, nh);
    assert_memory_equal(hid, mem, nh * sizeof *hid);
    assert_int_equal(nc, 3 * 10 * 3136);
    assert_int_equal(no, 3 * 10 * 10);
    assert_int_equal(ni, 3);
    assert_true(ids[0] == 2 && ids[1] == 4 && ids[2] == 5);
    for (size_t i = 0; i < nc; i++) assert_true(isfinite(conv[i]));
    free(hid); free(mem); free(conv); free(outm); free(ids); free(tsp); free(spiked);
    H5Fclose(fa);
    H5Fclose(fb);
}

static void test_key_errors(void **st)
{
    (void)st;
    char cfg[400], lcfg[400], text[2048], err[8192], dir[400];
    snprintf(dir, sizeof dir, "%s/mn", g_dir);
    write_mnist(dir);
    snprintf(cfg, sizeof cfg, "%s/snn.cfg", g_dir);
    snprintf(text, sizeof text, SNN_CFG, dir);
    write_text(cfg, text);
    int rc = rcsim(err, sizeof err, "run '%s' --out '%s/E' --set output.trace_membrane=conv1,conv2", cfg, g_dir);
    if (rc != 2 || !strstr(err, "output.trace_membrane") || !strstr(err, "'conv2'") || !strstr(err, "conv1, fc1, output"))
        fail_msg("unknown membrane layer: exit %d: %s", rc, err);
    rc = rcsim(err, sizeof err, "run '%s' --out '%s/E' --set output.traces=false --set output.trace_all_output_spikes=true",
               cfg, g_dir);
    if (rc != 2 || !strstr(err, "output.trace_all_output_spikes") || !strstr(err, "output.traces = false"))
        fail_msg("trace key without traces: exit %d: %s", rc, err);
    snprintf(lcfg, sizeof lcfg, "%s/lstm.cfg", g_dir);
    write_text(lcfg, "[task]\nname = spotting\n[model]\nhidden = 8\n[train]\nexamples = 64\n[output]\nprogress = off\n");
    const char *snn_only[2] = { "trace_all_output_spikes=true", "trace_membrane=output" };
    for (int i = 0; i < 2; i++) {
        rc = rcsim(err, sizeof err, "run '%s' --out '%s/E' --set output.%s", lcfg, g_dir, snn_only[i]);
        if (rc != 2 || !strstr(err, "has no effect for model.type = lstm") || !strstr(err, "model.type = snn"))
            fail_msg("SNN-only key %s on an LSTM: exit %d: %s", snn_only[i], rc, err);
    }
    struct stat sb;
    char p[600];
    snprintf(p, sizeof p, "%s/E", g_dir);
    assert_int_not_equal(stat(p, &sb), 0); /* nothing written */
}

/* tests/py/test_rcplot.py: h5py reads traces.h5's strings as str, and
 * every tools/rcplot.py mode runs headless on tiny run folders (skipped
 * where /usr/bin/python3 has no h5py or matplotlib: the script exits 77). */
static void test_python_rcplot(void **st)
{
    (void)st;
    const int rc = rc_test_sh("MPLBACKEND=Agg RCSIM='%s' /usr/bin/python3 tests/py/test_rcplot.py >'%s/py.txt' 2>&1",
                              rc_test_bin(), g_dir);
    char p[400];
    snprintf(p, sizeof p, "%s/py.txt", g_dir);
    char *out = rc_test_slurp(p, NULL);
    if (rc == 77) {
        print_message("%s", out ? out : "test_rcplot.py skipped\n");
        free(out);
        skip();
    }
    if (rc != 0) fail_msg("tests/py/test_rcplot.py exited %d:\n%s", rc, out ? out : "");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_engine_vs_reference),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_run_traces),
        cmocka_unit_test(test_key_errors),
        cmocka_unit_test(test_python_rcplot),
    };
    return cmocka_run_group_tests_name("traces_snn", tests, setup, teardown);
}
