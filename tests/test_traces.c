/* test_traces.c — io/traces: SONATA spike reports, rank-coding rows and
 * activations, read back exactly with the HDF5 C API and, when h5py is
 * installed, by tests/h5check.py as a third-party reader would.
 *
 * Trace files are what users analyse runs with, so the layout is a contract:
 * the tests check every dataset's dtype, shape, chunking and compression, the
 * `sorting` enum (names and values), `units`, the root and /rc attributes and
 * every number, with more than 100k spikes so that buffered appends cross
 * chunk boundaries. They also check that an aborted or failed writer never
 * leaves anything under PATH. Files go to a mkdtemp folder removed at
 * teardown. Run from the repository root (tests/h5check.py is found there). */
#include "tests/testutil.h"
#include "tests/h5testutil.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hdf5.h>

#include "io/traces.h"


static char g_dir[256];

static void path_in(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", g_dir, name);
}


/* ---- the synthetic run ------------------------------------------------- */

enum { T = 50, NEX = 3000, NLIF = 64, NTRACED = 3 };
static const double DT = 0.1; /* not a binary fraction: exactness still holds */
static const int TRACED[NTRACED] = { 7, 1500, 2999 };
static const char CONFIG[] = "[task]\nname = spotting\n[train]\nthreshold = 0.95 ; \"θ\"\n";

static uint64_t ex_id(int i) { return 2 * (uint64_t)i + 5; } /* ids need not be dense */
static int tsp_of(int i) { return (i * 7) % T; }
static int pred_of(int i) { return i % 10; }
static int label_of(int i) { return (i * 3) % 10; }
static int spiked_of(int i) { return i % 3 != 0; }

static uint32_t mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

static float act_of(int i, int t, int u)
{
    return t > tsp_of(i) ? NAN : (float)i + 0.001f * (float)t - 0.5f * (float)u;
}

/* Expected content of one population, in file (time) order. */
typedef struct {
    const char *name;
    size_t n, cap;
    uint64_t *ex, *node;
    int *step;
} pop_exp;

static void pop_push(pop_exp *p, uint64_t ex, int step, uint64_t node)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 1024;
        p->ex = realloc(p->ex, p->cap * sizeof *p->ex);
        p->node = realloc(p->node, p->cap * sizeof *p->node);
        p->step = realloc(p->step, p->cap * sizeof *p->step);
        assert_true(p->ex && p->node && p->step);
    }
    p->ex[p->n] = ex;
    p->step[p->n] = step;
    p->node[p->n] = node;
    p->n++;
}

static void pop_free(pop_exp *p)
{
    free(p->ex);
    free(p->node);
    free(p->step);
}

static const rc_traces_meta META = {
    .version = "0.3.1", .git_revision = "fd43f0f", .config_text = CONFIG,
    .seed = 12345678901234567ull, .threshold = 0.95, .beta = 0.875, .mode = "rc",
    .T = T, .dt_ms = DT,
};

static void ok(rc_status st, const rc_err *err)
{
    if (st != RC_OK) print_error("%s\n", err->msg);
    assert_int_equal(st, RC_OK);
}

/* Writes the full run to path; fills the expectations. */
static void write_run(const char *path, pop_exp pops[3])
{
    rc_err err = { "" };
    rc_traces *tr = rc_traces_open(path, &META, &err);
    if (!tr) print_error("%s\n", err.msg);
    assert_non_null(tr);
    pops[0] = (pop_exp){ .name = "output" };
    pops[1] = (pop_exp){ .name = "lif1" };
    pops[2] = (pop_exp){ .name = "lif2" };
    int steps[T * NLIF];
    uint64_t nodes[T * NLIF];
    float act[T * 16];
    for (int i = 0; i < NEX; i++) {
        uint64_t id = ex_id(i);
        ok(rc_traces_add_example(tr, id, tsp_of(i), pred_of(i), label_of(i), spiked_of(i), &err), &err);

        /* output: the rank-coding spike, and sometimes a second, later one. */
        size_t n = 0;
        if (spiked_of(i)) {
            steps[n] = tsp_of(i), nodes[n++] = (uint64_t)pred_of(i);
            if (i % 7 == 0 && tsp_of(i) + 1 < T) steps[n] = tsp_of(i) + 1, nodes[n++] = 9 - (uint64_t)pred_of(i);
        }
        for (size_t k = 0; k < n; k++) pop_push(&pops[0], id, steps[k], nodes[k]);
        ok(rc_traces_add_spikes(tr, "output", id, steps, nodes, n, &err), &err);

        /* lif1: ~42 spikes per example; every third example hands them over
         * grouped by neuron, which the writer must put in time order. */
        n = 0;
        for (int s = 0; s < T; s++)
            for (int u = 0; u < NLIF; u++)
                if (mix((uint32_t)i * 1000003u + (uint32_t)s * 131u + (uint32_t)u) % 1000 < 13) {
                    pop_push(&pops[1], id, s, (uint64_t)u);
                    n++;
                }
        if (i % 3 == 1) {
            size_t k = 0;
            for (int u = 0; u < NLIF; u++)
                for (size_t j = pops[1].n - n; j < pops[1].n; j++)
                    if (pops[1].node[j] == (uint64_t)u) steps[k] = pops[1].step[j], nodes[k++] = (uint64_t)u;
            assert_int_equal(k, n);
        } else {
            for (size_t k = 0; k < n; k++)
                steps[k] = pops[1].step[pops[1].n - n + k], nodes[k] = pops[1].node[pops[1].n - n + k];
        }
        ok(rc_traces_add_spikes(tr, "lif1", id, steps, nodes, n, &err), &err);

        /* lif2: created late (example 100), node ids beyond 32 bits. */
        if (i >= 100 && i < 200) {
            steps[0] = steps[1] = i % T;
            nodes[0] = 1000000000000ull + (uint64_t)i;
            nodes[1] = 1000000000001ull + (uint64_t)i;
            pop_push(&pops[2], id, steps[0], nodes[0]);
            pop_push(&pops[2], id, steps[1], nodes[1]);
            ok(rc_traces_add_spikes(tr, "lif2", id, steps, nodes, 2, &err), &err);
        }

        for (int k = 0; k < NTRACED; k++)
            if (TRACED[k] == i) {
                for (int t = 0; t < T; t++)
                    for (int u = 0; u < 16; u++) act[t * 16 + u] = act_of(i, t, u);
                ok(rc_traces_add_activations(tr, "lstm", id, act, 16, &err), &err);
                for (int t = 0; t < T; t++)
                    for (int u = 0; u < 4; u++) act[t * 4 + u] = act_of(i, t, u) * 2.0f;
                ok(rc_traces_add_activations(tr, "dense", id, act, 4, &err), &err);
            }
    }
    /* A caller error that writes nothing leaves the writer usable. */
    assert_int_equal(rc_traces_add_activations(tr, "lstm", ex_id(NEX), act, 17, &err), RC_ERR_DATA);
    assert_contains(err.msg, path);
    assert_contains(err.msg, "'lstm' have 17 units, earlier examples had 16");
    assert_int_equal(rc_traces_add_spikes(tr, "a/b", ex_id(NEX), steps, nodes, 1, &err), RC_ERR_DATA);
    assert_contains(err.msg, "'a/b'");
    ok(rc_traces_close(tr, &err), &err);
    assert_true(pops[1].n > 100000); /* crosses the 64k-element chunks */
}

/* ---- reading back with the C API ---------------------------------------- */

/* Reads a whole 1-D dataset after checking its type and length, and checks
 * that it is chunked (chunk = `chunk`), deflate-4 compressed and extendible. */
static void *read_col(hid_t f, const char *name, hid_t native, size_t esize, size_t n, hsize_t chunk)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) print_error("missing dataset %s\n", name);
    assert_true(d >= 0);
    hid_t t = H5Dget_type(d);
    if (H5Tequal(t, native) <= 0) print_error("%s: wrong type\n", name);
    assert_true(H5Tequal(t, native) > 0);
    H5Tclose(t);
    hid_t sp = H5Dget_space(d);
    hsize_t dim = 0, maxdim = 0;
    assert_int_equal(H5Sget_simple_extent_ndims(sp), 1);
    H5Sget_simple_extent_dims(sp, &dim, &maxdim);
    H5Sclose(sp);
    if (dim != n) print_error("%s: %llu elements, expected %zu\n", name, (unsigned long long)dim, n);
    assert_int_equal(dim, n);
    assert_true(maxdim == H5S_UNLIMITED);
    hid_t dcpl = H5Dget_create_plist(d);
    assert_int_equal(H5Pget_layout(dcpl), H5D_CHUNKED);
    hsize_t ch = 0;
    assert_int_equal(H5Pget_chunk(dcpl, 1, &ch), 1);
    assert_int_equal(ch, chunk);
    unsigned flags = 0, cd[4] = { 0 };
    size_t ncd = 4;
    assert_true(H5Pget_filter_by_id2(dcpl, H5Z_FILTER_DEFLATE, &flags, &ncd, cd, 0, NULL, NULL) >= 0);
    assert_int_equal(cd[0], 4);
    H5Pclose(dcpl);
    void *buf = malloc(n ? n * esize : 1);
    assert_non_null(buf);
    if (n) assert_true(H5Dread(d, native, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Dclose(d);
    return buf;
}


static void read_num_attr(hid_t loc, const char *obj, const char *name, hid_t native, void *v)
{
    hid_t a = H5Aopen_by_name(loc, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) print_error("missing attribute %s of %s\n", name, obj);
    assert_true(a >= 0);
    hid_t t = H5Aget_type(a);
    assert_true(H5Tequal(t, native) > 0);
    H5Tclose(t);
    assert_true(H5Aread(a, native, v) >= 0);
    H5Aclose(a);
}

static void check_population(hid_t f, const pop_exp *p)
{
    char g[128], name[160];
    snprintf(g, sizeof g, "/spikes/%s", p->name);

    /* sorting: enum over uint8 {none=0, by_id=1, by_time=2} = by_time. */
    hid_t a = H5Aopen_by_name(f, g, "sorting", H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0);
    hid_t t = H5Aget_type(a);
    assert_int_equal(H5Tget_class(t), H5T_ENUM);
    hid_t super = H5Tget_super(t);
    assert_true(H5Tequal(super, H5T_NATIVE_UINT8) > 0);
    H5Tclose(super);
    assert_int_equal(H5Tget_nmembers(t), 3);
    static const char *names[] = { "none", "by_id", "by_time" };
    for (unsigned k = 0; k < 3; k++) {
        char *mn = H5Tget_member_name(t, k);
        uint8_t mv = 99;
        assert_true(H5Tget_member_value(t, k, &mv) >= 0);
        assert_string_equal(mn, names[k]);
        assert_int_equal(mv, k);
        H5free_memory(mn);
    }
    uint8_t v = 99;
    assert_true(H5Aread(a, t, &v) >= 0);
    assert_int_equal(v, 2);
    char vname[16] = "";
    assert_true(H5Tenum_nameof(t, &v, vname, sizeof vname) >= 0);
    assert_string_equal(vname, "by_time");
    H5Tclose(t);
    H5Aclose(a);

    snprintf(name, sizeof name, "%s/timestamps", g);
    char *units = rc_test_str_attr(f, name, "units");
    assert_string_equal(units, "ms");
    free(units);
    double *ts = read_col(f, name, H5T_NATIVE_DOUBLE, 8, p->n, 65536);
    snprintf(name, sizeof name, "%s/node_ids", g);
    uint64_t *nodes = read_col(f, name, H5T_NATIVE_UINT64, 8, p->n, 65536);
    snprintf(name, sizeof name, "%s/example_ids", g);
    uint64_t *ex = read_col(f, name, H5T_NATIVE_UINT64, 8, p->n, 65536);
    for (size_t i = 0; i < p->n; i++) {
        double want = (double)(p->ex[i] * T + (uint64_t)p->step[i]) * DT;
        if (ts[i] != want || nodes[i] != p->node[i] || ex[i] != p->ex[i])
            print_error("%s spike %zu: (%.17g, %llu, %llu), expected (%.17g, %llu, %llu)\n", p->name, i, ts[i],
                        (unsigned long long)nodes[i], (unsigned long long)ex[i], want,
                        (unsigned long long)p->node[i], (unsigned long long)p->ex[i]);
        assert_true(ts[i] == want);
        assert_true(nodes[i] == p->node[i]);
        assert_true(ex[i] == p->ex[i]);
        if (i) assert_true(ts[i] >= ts[i - 1]);
    }
    free(ts);
    free(nodes);
    free(ex);
}

static void check_activations(hid_t f, const char *layer, int units, float scale)
{
    char name[128];
    snprintf(name, sizeof name, "/activations/%s", layer);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t t = H5Dget_type(d);
    assert_true(H5Tequal(t, H5T_NATIVE_FLOAT) > 0);
    H5Tclose(t);
    hid_t sp = H5Dget_space(d);
    hsize_t dim[3], maxdim[3];
    assert_int_equal(H5Sget_simple_extent_ndims(sp), 3);
    H5Sget_simple_extent_dims(sp, dim, maxdim);
    H5Sclose(sp);
    assert_int_equal(dim[0], NTRACED);
    assert_int_equal(dim[1], T);
    assert_int_equal(dim[2], units);
    assert_true(maxdim[0] == H5S_UNLIMITED);
    hid_t dcpl = H5Dget_create_plist(d);
    hsize_t ch[3];
    assert_int_equal(H5Pget_chunk(dcpl, 3, ch), 3);
    assert_int_equal(ch[0], 1); /* one example per chunk */
    assert_int_equal(ch[1], T);
    assert_int_equal(ch[2], units);
    assert_true(H5Pget_filter_by_id2(dcpl, H5Z_FILTER_DEFLATE, NULL, NULL, NULL, 0, NULL, NULL) >= 0);
    H5Pclose(dcpl);
    size_t n = (size_t)NTRACED * T * (size_t)units;
    float *got = malloc(n * sizeof *got), *want = malloc(n * sizeof *want);
    assert_true(got && want);
    assert_true(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, got) >= 0);
    H5Dclose(d);
    size_t nan = 0;
    for (int k = 0; k < NTRACED; k++)
        for (int s = 0; s < T; s++)
            for (int u = 0; u < units; u++) {
                float v = act_of(TRACED[k], s, u) * scale;
                want[((size_t)k * T + (size_t)s) * (size_t)units + (size_t)u] = v;
                nan += isnan(v) != 0;
            }
    assert_true(nan > 0); /* the NaN-for-not-computed case is exercised */
    assert_memory_equal(got, want, n * sizeof *got); /* NaN bits included */
    free(got);
    free(want);
    snprintf(name, sizeof name, "/activations/%s_example_ids", layer);
    uint64_t *ids = read_col(f, name, H5T_NATIVE_UINT64, 8, NTRACED, 1024);
    for (int k = 0; k < NTRACED; k++) assert_true(ids[k] == ex_id(TRACED[k]));
    free(ids);
}

static void check_root_and_rc(hid_t f, size_t nex)
{
    char *s = rc_test_str_attr(f, "/", "rcsim_version");
    assert_string_equal(s, META.version);
    free(s);
    s = rc_test_str_attr(f, "/", "git_revision");
    assert_string_equal(s, META.git_revision);
    free(s);
    s = rc_test_str_attr(f, "/", "config");
    assert_string_equal(s, CONFIG);
    free(s);
    uint64_t seed = 0;
    double dt = 0, th = 0, beta = 0;
    int32_t t32 = 0;
    read_num_attr(f, "/", "seed", H5T_NATIVE_UINT64, &seed);
    assert_true(seed == META.seed);
    read_num_attr(f, "/", "dt_ms", H5T_NATIVE_DOUBLE, &dt);
    assert_true(dt == DT);
    read_num_attr(f, "/rc", "threshold", H5T_NATIVE_DOUBLE, &th);
    assert_true(th == META.threshold);
    read_num_attr(f, "/rc", "beta", H5T_NATIVE_DOUBLE, &beta);
    assert_true(beta == META.beta);
    read_num_attr(f, "/rc", "T", H5T_NATIVE_INT32, &t32);
    assert_int_equal(t32, T);
    s = rc_test_str_attr(f, "/rc", "mode");
    assert_string_equal(s, "rc");
    free(s);

    int32_t *tsp = read_col(f, "/rc/t_sp", H5T_NATIVE_INT32, 4, nex, 65536);
    int32_t *pred = read_col(f, "/rc/pred", H5T_NATIVE_INT32, 4, nex, 65536);
    int32_t *label = read_col(f, "/rc/label", H5T_NATIVE_INT32, 4, nex, 65536);
    uint8_t *spiked = read_col(f, "/rc/spiked", H5T_NATIVE_UINT8, 1, nex, 65536);
    uint64_t *ids = read_col(f, "/rc/example_ids", H5T_NATIVE_UINT64, 8, nex, 65536);
    for (size_t i = 0; i < nex; i++) {
        int ii = (int)i;
        assert_int_equal(tsp[i], tsp_of(ii) + 1); /* stored 1-based */
        assert_int_equal(pred[i], pred_of(ii));
        assert_int_equal(label[i], label_of(ii));
        assert_int_equal(spiked[i], spiked_of(ii));
        assert_true(ids[i] == ex_id(ii));
    }
    free(tsp);
    free(pred);
    free(label);
    free(spiked);
    free(ids);
}

/* ---- expectations for h5check.py --------------------------------------- */

static void json_pop(FILE *f, const pop_exp *p, int last)
{
    unsigned long long ns = 0, es = 0, ss = 0;
    for (size_t i = 0; i < p->n; i++) ns += p->node[i], es += p->ex[i], ss += (unsigned long long)p->step[i];
    fprintf(f, "  \"%s\": {\"n\": %zu, \"node_ids_sum\": %llu, \"example_ids_sum\": %llu, \"steps_sum\": %llu",
            p->name, p->n, ns, es, ss);
    if (p->n)
        fprintf(f, ", \"first\": [%llu, %d, %llu], \"last\": [%llu, %d, %llu]", (unsigned long long)p->ex[0],
                p->step[0], (unsigned long long)p->node[0], (unsigned long long)p->ex[p->n - 1],
                p->step[p->n - 1], (unsigned long long)p->node[p->n - 1]);
    fprintf(f, "}%s\n", last ? "" : ",");
}

static void json_layer(FILE *f, const char *layer, int units, float scale, int last)
{
    fprintf(f, "  \"%s\": {\"shape\": [%d, %d, %d], \"example_ids\": [", layer, NTRACED, T, units);
    size_t nan = 0;
    for (int k = 0; k < NTRACED; k++) {
        fprintf(f, "%s%llu", k ? ", " : "", (unsigned long long)ex_id(TRACED[k]));
        for (int s = 0; s < T; s++)
            for (int u = 0; u < units; u++) nan += isnan(act_of(TRACED[k], s, u)) != 0;
    }
    fprintf(f, "], \"nan_count\": %zu, \"probes\": [", nan);
    int probes[][3] = { { 0, 0, 0 }, { 0, T - 1, units - 1 }, { 1, 0, 1 }, { 1, 1, 0 }, { 2, 43, 2 }, { 2, 44, 3 } };
    for (size_t j = 0; j < sizeof probes / sizeof probes[0]; j++) {
        float v = act_of(TRACED[probes[j][0]], probes[j][1], probes[j][2]) * scale;
        fprintf(f, "%s[%d, %d, %d, ", j ? ", " : "", probes[j][0], probes[j][1], probes[j][2]);
        if (isnan(v)) fprintf(f, "null]");
        else fprintf(f, "%.9g]", (double)v);
    }
    fprintf(f, "]}%s\n", last ? "" : ",");
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fprintf(f, "\\%c", *s);
        else if (*s == '\n') fputs("\\n", f);
        else fputc(*s, f);
    }
    fputc('"', f);
}

/* nex examples written (all, or none); pops may be NULL for an empty run. */
static void write_expected(const char *json, const pop_exp *pops, size_t npops, size_t nex, int with_acts)
{
    FILE *f = fopen(json, "w");
    assert_non_null(f);
    fprintf(f, "{\"T\": %d, \"dt_ms\": %.17g, \"seed\": %llu, \"threshold\": %.17g, \"beta\": %.17g,\n", T, DT,
            (unsigned long long)META.seed, META.threshold, META.beta);
    fprintf(f, "\"version\": \"%s\", \"git_revision\": \"%s\", \"mode\": \"%s\", \"config\": ", META.version,
            META.git_revision, META.mode);
    json_string(f, CONFIG);
    fprintf(f, ",\n\"populations\": {\n");
    if (npops == 0) fprintf(f, "  \"output\": {\"n\": 0, \"node_ids_sum\": 0, \"example_ids_sum\": 0, \"steps_sum\": 0}\n");
    for (size_t k = 0; k < npops; k++) json_pop(f, &pops[k], k + 1 == npops);
    long long sums[5] = { 0 };
    for (size_t i = 0; i < nex; i++) {
        int ii = (int)i;
        sums[0] += tsp_of(ii) + 1, sums[1] += pred_of(ii), sums[2] += label_of(ii);
        sums[3] += spiked_of(ii), sums[4] += (long long)ex_id(ii);
    }
    fprintf(f, "},\n\"examples\": {\"n\": %zu, \"sums\": {\"t_sp\": %lld, \"pred\": %lld, \"label\": %lld, "
            "\"spiked\": %lld, \"example_ids\": %lld}", nex, sums[0], sums[1], sums[2], sums[3], sums[4]);
    if (nex) {
        int a = 0, b = (int)nex - 1;
        fprintf(f, ", \"first\": [%d, %d, %d, %d, %llu], \"last\": [%d, %d, %d, %d, %llu]", tsp_of(a) + 1,
                pred_of(a), label_of(a), spiked_of(a), (unsigned long long)ex_id(a), tsp_of(b) + 1, pred_of(b),
                label_of(b), spiked_of(b), (unsigned long long)ex_id(b));
    }
    fprintf(f, "},\n\"activations\": {\n");
    if (with_acts) {
        json_layer(f, "lstm", 16, 1.0f, 0);
        json_layer(f, "dense", 4, 2.0f, 1);
    }
    fprintf(f, "}}\n");
    assert_int_equal(fclose(f), 0);
}

static int have_h5py(void)
{
    return system("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") == 0;
}

/* Runs h5check.py; its diagnostics go to stderr, which the test shows. */
static void run_h5check(const char *h5, const char *json)
{
    assert_true(rc_test_exists("tests/h5check.py")); /* run from the repository root */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/h5check.py '%s' '%s' >/dev/null", h5, json);
    fflush(NULL);
    int rc = system(cmd);
    if (rc != 0) print_error("%s: exit status %d\n", cmd, rc);
    assert_int_equal(rc, 0);
}

/* ---- tests ------------------------------------------------------------- */

static void test_full_run(void **state)
{
    (void)state;
    char path[512], tmp[520];
    path_in(path, sizeof path, "traces.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    pop_exp pops[3];
    write_run(path, pops);
    assert_true(rc_test_exists(path));
    assert_false(rc_test_exists(tmp));

    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    H5G_info_t gi;
    hid_t g = H5Gopen2(f, "/spikes", H5P_DEFAULT);
    assert_true(H5Gget_info(g, &gi) >= 0);
    H5Gclose(g);
    assert_int_equal(gi.nlinks, 3);
    for (int k = 0; k < 3; k++) check_population(f, &pops[k]);
    check_root_and_rc(f, NEX);
    check_activations(f, "lstm", 16, 1.0f);
    check_activations(f, "dense", 4, 2.0f);
    H5Fclose(f);

    char json[512];
    path_in(json, sizeof json, "traces.json");
    write_expected(json, pops, 3, NEX, 1);
    for (int k = 0; k < 3; k++) pop_free(&pops[k]);
}

/* The same file through h5py (skipped where h5py is not installed). */
static void test_h5py_reads_it(void **state)
{
    (void)state;
    if (!have_h5py()) {
        print_message("h5py not installed: skipped python read-back\n");
        skip();
    }
    char path[512], json[512];
    path_in(path, sizeof path, "traces.h5");
    path_in(json, sizeof json, "traces.json");
    if (!rc_test_exists(path) || !rc_test_exists(json)) { /* test_full_run did not get that far */
        pop_exp pops[3];
        write_run(path, pops);
        write_expected(json, pops, 3, NEX, 1);
        for (int k = 0; k < 3; k++) pop_free(&pops[k]);
    }
    run_h5check(path, json);

    /* The checker must be able to fail: a wrong expectation is reported. */
    char bad[512];
    path_in(bad, sizeof bad, "wrong.json");
    FILE *in = fopen(json, "r"), *out = fopen(bad, "w");
    assert_true(in && out);
    char line[4096];
    while (fgets(line, sizeof line, in)) {
        char *p = strstr(line, "\"dt_ms\": 0.1");
        if (p) memcpy(p, "\"dt_ms\": 0.2", 12);
        fputs(line, out);
    }
    fclose(in);
    fclose(out);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/h5check.py '%s' '%s' 2>/dev/null >/dev/null", path, bad);
    assert_int_not_equal(system(cmd), 0);
}

/* No spikes and no examples: /spikes/output still exists, empty, with its
 * attributes, because readers expect that population. */
static void test_empty_run(void **state)
{
    (void)state;
    char path[512], json[512];
    path_in(path, sizeof path, "empty.h5");
    path_in(json, sizeof json, "empty.json");
    rc_err err = { "" };
    rc_traces *tr = rc_traces_open(path, &META, &err);
    assert_non_null(tr);
    ok(rc_traces_close(tr, &err), &err);

    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    pop_exp out = { .name = "output" };
    check_population(f, &out);
    check_root_and_rc(f, 0);
    assert_true(H5Lexists(f, "/activations", H5P_DEFAULT) > 0);
    H5G_info_t gi;
    hid_t g = H5Gopen2(f, "/activations", H5P_DEFAULT);
    H5Gget_info(g, &gi);
    H5Gclose(g);
    assert_int_equal(gi.nlinks, 0);
    H5Fclose(f);

    if (have_h5py()) {
        write_expected(json, NULL, 0, 0, 0);
        run_h5check(path, json);
    }
}

/* An aborted writer leaves neither PATH nor PATH.tmp, even after data was
 * flushed to disk; a stale PATH.tmp from a crashed run does not matter. */
static void test_abort(void **state)
{
    (void)state;
    char path[512], tmp[520];
    path_in(path, sizeof path, "aborted.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *stale = fopen(tmp, "w");
    assert_non_null(stale);
    fputs("half a file from a crashed run", stale);
    fclose(stale);

    rc_err err = { "" };
    rc_traces *tr = rc_traces_open(path, &META, &err);
    assert_non_null(tr);
    int steps[1000];
    uint64_t nodes[1000];
    for (int k = 0; k < 1000; k++) steps[k] = k * T / 1000, nodes[k] = (uint64_t)k;
    for (int i = 0; i < 200; i++) { /* 200k spikes: several chunks flushed */
        ok(rc_traces_add_example(tr, (uint64_t)i, 3, 1, 1, 1, &err), &err);
        ok(rc_traces_add_spikes(tr, "lif1", (uint64_t)i, steps, nodes, 1000, &err), &err);
    }
    assert_true(rc_test_exists(tmp));
    assert_false(rc_test_exists(path));
    rc_traces_abort(tr);
    assert_false(rc_test_exists(tmp));
    assert_false(rc_test_exists(path));
    rc_traces_abort(NULL); /* no-op */
}

static void test_errors(void **state)
{
    (void)state;
    char path[512], nodir[512], tmp[520];
    path_in(path, sizeof path, "busy");
    path_in(nodir, sizeof nodir, "no/such/folder/traces.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    rc_err err = { "" };

    assert_null(rc_traces_open(nodir, &META, &err));
    assert_contains(err.msg, nodir);
    assert_false(rc_test_exists(nodir));

    rc_traces_meta bad = META;
    bad.T = 0;
    assert_null(rc_traces_open(path, &bad, &err));
    assert_contains(err.msg, path);
    assert_contains(err.msg, "T = 0");
    bad = META;
    bad.dt_ms = -1;
    assert_null(rc_traces_open(path, &bad, &err));
    assert_contains(err.msg, "dt_ms");
    assert_false(rc_test_exists(tmp));

    /* PATH is a non-empty folder: the final rename fails, the error names
     * both, and PATH.tmp does not stay behind. */
    char inner[600];
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(inner, sizeof inner, "%s/keep", path);
    FILE *k = fopen(inner, "w");
    assert_non_null(k);
    fclose(k);
    rc_traces *tr = rc_traces_open(path, &META, &err);
    assert_non_null(tr);
    int s = 1;
    uint64_t node = 7;
    ok(rc_traces_add_spikes(tr, "output", 0, &s, &node, 1, &err), &err);
    assert_int_equal(rc_traces_close(tr, &err), RC_ERR_IO);
    assert_contains(err.msg, tmp);
    assert_contains(err.msg, "rename");
    assert_false(rc_test_exists(tmp));
    assert_true(rc_test_exists(inner));
}

/* Out-of-order input is a caller bug: RC_ASSERT aborts (checked in a child). */

static rc_traces *g_tr; /* the writer the child processes use */

static void spikes_in_order(void)
{
    int s[2] = { 3, 4 };
    uint64_t n[2] = { 1, 2 };
    rc_err err;
    rc_traces_add_spikes(g_tr, "lif1", 11, s, n, 1, &err);
    rc_traces_add_spikes(g_tr, "lif1", 11, s + 1, n + 1, 1, &err);
}
static void spikes_earlier_example(void)
{
    int s = 0;
    uint64_t n = 1;
    rc_err err;
    rc_traces_add_spikes(g_tr, "lif1", 9, &s, &n, 1, &err);
}
static void spikes_earlier_step(void)
{
    int s = 1;
    uint64_t n = 1;
    rc_err err;
    rc_traces_add_spikes(g_tr, "lif1", 10, &s, &n, 1, &err);
}
static void example_earlier(void)
{
    rc_err err;
    rc_traces_add_example(g_tr, 4, 0, 0, 0, 0, &err);
}
static void step_out_of_range(void)
{
    int s = T;
    uint64_t n = 1;
    rc_err err;
    rc_traces_add_spikes(g_tr, "lif1", 12, &s, &n, 1, &err);
}

static void test_order_asserts(void **state)
{
    (void)state;
    char path[512];
    path_in(path, sizeof path, "order.h5");
    rc_err err = { "" };
    g_tr = rc_traces_open(path, &META, &err);
    assert_non_null(g_tr);
    int s = 2;
    uint64_t n = 5;
    ok(rc_traces_add_example(g_tr, 5, 0, 0, 0, 0, &err), &err);
    ok(rc_traces_add_spikes(g_tr, "lif1", 10, &s, &n, 1, &err), &err);
    assert_false(aborts(spikes_in_order)); /* the harness can tell */
    assert_true(aborts(spikes_earlier_example));
    assert_true(aborts(spikes_earlier_step));
    assert_true(aborts(example_earlier));
    assert_true(aborts(step_out_of_range));
    rc_traces_abort(g_tr);
    g_tr = NULL;
}

/* ---- fixtures ----------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    return rc_test_mkdtemp(g_dir, sizeof g_dir, "/tmp/rcsim_traces_");
}

static int teardown(void **state)
{
    (void)state;
    return rc_test_rmtree(g_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_run),
        cmocka_unit_test(test_h5py_reads_it),
        cmocka_unit_test(test_empty_run),
        cmocka_unit_test(test_abort),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_order_asserts),
    };
    return cmocka_run_group_tests_name("traces", tests, setup, teardown);
}
