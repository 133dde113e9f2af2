/* test_delta_app.c — the delta LSTM's config keys, eval flags and outputs
 * (issue 15; the engine computes the events, these tests check what the app
 * makes of them):
 *  - model.delta_x / model.delta_h: a negative value, or a non-zero value
 *    with model.type = snn, is one config line naming the key
 *    and what is expected, exit 2, nothing written; 0 is accepted with any
 *    model.type (it means "exact", as model.hidden = 0 means "no LSTM");
 *  - rcsim eval --delta-x / --delta-h: bad lists and an SNN model
 *    are one usage line, exit 2, nothing written; a grid of thresholds ×
 *    delta_x × delta_h gives one tradeoff.csv row per combination, in the
 *    documented order and header; without the flags the configured deltas;
 *  - summary.json: delta_x, delta_h at the top level and the hidden-event
 *    and dense-recurrent MAC keys in "test" (LSTM; not for an SNN);
 *    metrics.csv's val_hidden_events_per_unit_step column (delta_h > 0);
 *  - traces.h5: rc_traces_add_events read back exactly (time order, values
 *    moved with their events, an event population without events still has
 *    its values column, mixing spikes and events aborts); a delta LSTM run
 *    writes /spikes/hidden_events (size H, dims unit, values) whose events
 *    are consistent with the summary (their total over all test examples
 *    traced = hidden_events_per_example × examples, steps in [1, t_sp),
 *    |value| ≥ delta_h) and /rc attributes delta_x, delta_h; eval's
 *    traces.h5 is at the configured threshold and deltas (the run's
 *    outcomes and events), and its tradeoff.csv row there is summary.json's
 *    test. The event checks have something to check once the engine sends
 *    events (until then every count is 0);
 *  - tests/py/test_rcplot_delta.py: rcplot's hidden-event raster and
 *    MACs-vs-accuracy plot on synthetic files. */
#include "tests/testutil.h"
#include "tests/h5testutil.h"
#include <sys/stat.h>
#include <hdf5.h>
#include "io/traces.h"

static char g_dir[256];

static int setup(void **st)
{
    (void)st;
    return rc_test_mkdtemp(g_dir, sizeof g_dir, "/tmp/rcsim_delta_");
}

static int teardown(void **st)
{
    (void)st;
    return rc_test_rmtree(g_dir);
}


/* A tiny LSTM spotting run: `examples` training examples (16384: enough to
 * answer before the last step), 64 test examples, all traced. */
static const char *LSTM_CFG =
    "[task]\nname = spotting\n[model]\nhidden = 8\n%s"
    "[train]\nlr = 0.01\nexamples = %d\nbatch = 64\nval_every = 64\nval_size = 64\n"
    "[test]\nsize = 64\n[output]\nprogress = off\ntrace_examples = %s\n";

static void write_cfg(const char *name, const char *model_extra, int examples, char *path, size_t cap)
{
    char text[2048], ids[400] = "0";
    for (int i = 1; i < 64; i++) snprintf(ids + strlen(ids), sizeof ids - strlen(ids), ",%d", i);
    snprintf(text, sizeof text, LSTM_CFG, model_extra, examples, ids);
    snprintf(path, cap, "%s/%s", g_dir, name);
    rc_test_write_file(path, text);
}

/* One line, exit 2, every wanted piece in it, nothing in out. */
static void expect_refused(int rc, const char *err, const char *const *want, const char *out, const char *what)
{
    if (rc != 2) fail_msg("%s: exit %d, expected 2: %s", what, rc, err);
    for (int i = 0; want[i]; i++)
        if (!strstr(err, want[i])) fail_msg("%s: expected '%s' in: %s", what, want[i], err);
    const char *nl = strchr(err, '\n');
    if (!nl || nl[1]) fail_msg("%s: not one line: %s", what, err);
    if (rc_test_exists(out)) fail_msg("%s: wrote %s despite the error", what, out);
}

static void test_config_errors(void **st)
{
    (void)st;
    char cfg[600], neg[600], out[600], err[4096];
    write_cfg("c.cfg", "", 128, cfg, sizeof cfg);
    write_cfg("neg.cfg", "delta_x = -0.25\n", 128, neg, sizeof neg);
    snprintf(out, sizeof out, "%s/bad", g_dir);
    struct { const char *cfg, *args, *want[4]; } cases[] = {
        { neg, "", { neg, ":5:", "model.delta_x = -0.25 is out of range, expected a number >= 0", NULL } },
        { cfg, "--set model.delta_h=-1e-9", { "--set model.delta_h=-1e-9", "model.delta_h", ">= 0", NULL } },
        { cfg, "--set model.delta_h=abc", { "model.delta_h", "is not a number", NULL } },
        { cfg, "--set model.delta_h=0.1 --set model.type=snn --set model.hidden=0 --set 'model.layers=fc4 fc2'",
          { "model.delta_h has no effect with model.type = snn", "model.type = lstm", NULL } },
        { cfg, "--set model.delta_x=0.5 --set model.type=snn --set model.hidden=0 --set 'model.layers=fc4 fc2'",
          { "model.delta_x has no effect with model.type = snn", "model.type = lstm or convlstm", NULL } },
        { cfg, "--set train.delta_l1=0.1 --set model.type=convlstm --set model.hidden=0",
          { "train.delta_l1 has no effect with model.type = convlstm", "model.type = lstm", NULL } },
        { cfg, "--set train.delta_l1=-0.1", { "train.delta_l1", ">= 0", NULL } },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = rc_test_rcsim_err(g_dir, err, sizeof err, "run '%s' --out '%s' %s", cases[i].cfg, out, cases[i].args);
        expect_refused(rc, err, cases[i].want, out, cases[i].args[0] ? cases[i].args : "negative delta_x");
    }
    /* 0 means "exact": accepted with another model.type (the run goes on to
     * the next problem: spotting has no SNN layers to fit, fc4 fc1). */
    int rc = rc_test_rcsim_err(g_dir, err, sizeof err, "run '%s' --out '%s' --set model.delta_h=0 --set model.delta_x=0 "
                               "--set model.type=snn --set model.hidden=0 --set 'model.layers=fc4 fc1'", cfg, out);
    if (rc != 2 || strstr(err, "model.delta") || !strstr(err, "model.layers")) fail_msg("delta 0 with snn: exit %d: %s", rc, err);
}

/* --delta-x / --delta-h errors: parsed before the checkpoint is read, so a
 * model file that does not exist shows they come first. */
static void test_eval_flag_errors(void **st)
{
    (void)st;
    char cfg[600], snn[600], out[600], err[4096], many[1024] = "0";
    write_cfg("e.cfg", "", 128, cfg, sizeof cfg);
    snprintf(snn, sizeof snn, "%s/snn.cfg", g_dir);
    rc_test_write_file(snn, "[task]\nname = spotting\n[model]\ntype = snn\nlayers = fc4 fc2\n[output]\nprogress = off\n");
    snprintf(out, sizeof out, "%s/ebad", g_dir);
    for (int i = 1; i < 65; i++) snprintf(many + strlen(many), sizeof many - strlen(many), ",%d", i);
    struct { const char *cfg, *args, *want[3]; } cases[] = {
        { cfg, "--delta-h -0.1", { "--delta-h -0.1: expected up to 64 comma-separated numbers >= 0", NULL } },
        { cfg, "--delta-h 0,,0.1", { "--delta-h 0,,0.1", "numbers >= 0", NULL } },
        { cfg, "--delta-h 0.1x", { "--delta-h 0.1x", "numbers >= 0", NULL } },
        { cfg, "--delta-h nan", { "--delta-h nan", "numbers >= 0", NULL } },
        { cfg, "--delta-x inf", { "--delta-x inf", "numbers >= 0", NULL } },
        { cfg, "--delta-x ''", { "--delta-x", "numbers >= 0", NULL } },
        { cfg, many, { "up to 64", NULL } },
        { cfg, "--thresholds 0.9 --delta-h", { "--delta-h needs a value", NULL } },
        { snn, "--delta-h 0.1", { "--delta-h: model.type = snn has no delta thresholds", "model.type = lstm", NULL } },
        { snn, "--delta-x 0", { "--delta-x: model.type = snn", NULL } },
    };
    char m[1200];
    snprintf(m, sizeof m, "--delta-x %s", many);
    cases[6].args = m;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = rc_test_rcsim_err(g_dir, err, sizeof err, "eval '%s' --model '%s/none/model.h5' --out '%s' %s",
                                   cases[i].cfg, g_dir, out, cases[i].args);
        expect_refused(rc, err, cases[i].want, out, cases[i].args);
    }
}

/* The lines of path (at most cap), NUL-terminated in place; the count. */
static int read_lines(const char *path, char **text, char **lines, int cap)
{
    *text = rc_test_slurp(path, NULL);
    assert_non_null(*text);
    int n = 0;
    for (char *l = strtok(*text, "\n"); l && n < cap; l = strtok(NULL, "\n")) lines[n++] = l;
    return n;
}

/* Field k (0-based) of a CSV line as a number. */
static double csv_field(const char *line, int k)
{
    const char *p = line;
    for (int i = 0; i < k; i++) {
        p = strchr(p, ',');
        assert_non_null(p);
        p++;
    }
    return strtod(p, NULL);
}

static const char *TRADEOFF_HEAD =
    "threshold,accuracy,mean_spike_step,mean_spike_fraction,no_spike_fraction,accuracy_at_end,examples_per_s,"
    "mean_spike_ms,events_per_example,macs_per_example,delta_x,delta_h,hidden_events_per_example,"
    "hidden_events_per_unit_step,macs_dense_recurrent_per_example";

/* The delta run: twoseq (T = 40), which a delta LSTM learns in 8192
 * examples and answers early at θ = 0.8, so the threshold matters to what
 * eval keeps; 64 test examples, all traced. */
static const char *D_CFG =
    "[task]\nname = twoseq\n[model]\nhidden = 8\ndelta_h = 0.1\n"
    "[train]\nlr = 0.01\nthreshold = 0.8\nexamples = 8192\nbatch = 64\nval_every = 32\nval_size = 64\n"
    "[test]\nsize = 64\n[output]\nprogress = off\ntrace_examples = %s\n";
enum { D_T = 40 };

/* A delta_h = 0.1 run: summary.json's keys, metrics.csv's column; eval's
 * grid and default sweep. */
static void test_run_and_eval(void **st)
{
    (void)st;
    char cfg[600], err[8192], p[700], text0[1024], ids[400] = "0";
    for (int i = 1; i < 64; i++) snprintf(ids + strlen(ids), sizeof ids - strlen(ids), ",%d", i);
    snprintf(text0, sizeof text0, D_CFG, ids);
    snprintf(cfg, sizeof cfg, "%s/d.cfg", g_dir);
    rc_test_write_file(cfg, text0);
    int rc = rc_test_rcsim_err(g_dir, err, sizeof err, "run '%s' --out '%s/d' --threads 2", cfg, g_dir);
    if (rc) fail_msg("delta run failed (%d): %s", rc, err);
    snprintf(p, sizeof p, "%s/d/summary.json", g_dir);
    char *s = rc_test_slurp(p, NULL);
    assert_non_null(s);
    assert_contains(s, "\"beta\": 0,\n  \"delta_x\": 0,\n  \"delta_h\": 0.1,\n  \"seed\"");
    const char *test = strstr(s, "\"test\": {\n    \"inference\"");
    assert_non_null(test);
    const char *keys[] = { "\"macs_fraction_of_dense\": ", "\n    \"hidden_events_per_example\": ",
                           "\n    \"hidden_events_per_unit_step\": ", "\n    \"macs_dense_recurrent_per_example\": " };
    for (int i = 0; i < 4; i++) {
        const char *k = strstr(test, keys[i]);
        if (!k || k > strstr(test, "\"eos_inference\"")) fail_msg("summary test object lacks %s:\n%s", keys[i], test);
    }
    /* The model answers before the last step, so θ matters to what is kept. */
    const char *msp = strstr(test, "\"mean_spike_step\": ");
    assert_true(strtod(msp + strlen("\"mean_spike_step\": "), NULL) < D_T - 1);
    free(s);
    /* metrics.csv: the validation hidden-event rate after `best`. */
    char *text, *lines[8];
    snprintf(p, sizeof p, "%s/d/metrics.csv", g_dir);
    int n = read_lines(p, &text, lines, 8);
    assert_int_equal(n, 1 + 4); /* 128 batches, validated every 32 */
    const char *best = strstr(lines[0], ",best,val_hidden_events_per_unit_step");
    if (!best || best[strlen(",best,val_hidden_events_per_unit_step")]) fail_msg("metrics.csv header: %s", lines[0]);
    for (int i = 1; i < n; i++) {
        int commas = 0, hc = 0;
        for (const char *c = lines[i]; *c; c++) commas += *c == ',';
        for (const char *c = lines[0]; *c; c++) hc += *c == ',';
        assert_int_equal(commas, hc);
        const double r = csv_field(lines[i], hc);
        assert_true(r >= 0 && r <= 1);
    }
    /* Training runs with the deltas in its forward pass: the same config
     * without them trains other numbers from the first rows on. */
    char *text0b, *lines0[8];
    rc = rc_test_rcsim_err(g_dir, err, sizeof err, "run '%s' --out '%s/d0' --threads 2 --set model.delta_h=0", cfg, g_dir);
    if (rc) fail_msg("exact run failed (%d): %s", rc, err);
    snprintf(p, sizeof p, "%s/d0/metrics.csv", g_dir);
    assert_int_equal(read_lines(p, &text0b, lines0, 8), 5);
    if (csv_field(lines0[1], 4) == csv_field(lines[1], 4))
        fail_msg("train_loss after 32 batches is the same with and without delta_h: %s | %s", lines0[1], lines[1]);
    free(text0b);
    free(text);
    /* eval: 2 thresholds × 2 delta_x × 3 delta_h rows, delta_x outer. */
    rc = rc_test_rcsim_err(g_dir, err, sizeof err, "eval '%s' --model '%s/d/model.h5' --thresholds 0.8,0.95 "
                           "--delta-h 0,0.1,0.2 --delta-x 0,0.25", cfg, g_dir);
    if (rc) fail_msg("eval with deltas failed (%d): %s", rc, err);
    snprintf(p, sizeof p, "%s/d/eval/tradeoff.csv", g_dir);
    char *lines2[20];
    n = read_lines(p, &text, lines2, 20);
    assert_string_equal(lines2[0], TRADEOFF_HEAD);
    assert_int_equal(n, 1 + 12);
    /* Row 3 (θ = 0.8 = train.threshold, delta_x 0, delta_h 0.1) is what the
     * run tested: the same numbers as summary.json's test object. */
    snprintf(p, sizeof p, "%s/d/summary.json", g_dir);
    s = rc_test_slurp(p, NULL);
    test = strstr(s, "\"test\": {\n    \"inference\"");
    const char *tk[] = { "accuracy", "mean_spike_step", "macs_per_example", "hidden_events_per_example" };
    const int col[] = { 1, 2, 9, 12 };
    for (int i = 0; i < 4; i++) {
        char key[64];
        snprintf(key, sizeof key, "\n    \"%s\": ", tk[i]);
        const char *k = strstr(test, key);
        assert_non_null(k);
        const double want = strtod(k + strlen(key), NULL), got = csv_field(lines2[3], col[i]);
        if (fabs(got - want) > 1e-3 * (1 + fabs(want))) fail_msg("tradeoff row 3 %s = %g, summary %g", tk[i], got, want);
    }
    free(s);
    const double dx[2] = { 0, 0.25 }, dh[3] = { 0, 0.1, 0.2 }, th[2] = { 0.8, 0.95 };
    for (int r = 0; r < 12; r++) {
        const char *l = lines2[1 + r];
        assert_true(csv_field(l, 0) == th[r % 2]);
        assert_true(csv_field(l, 10) == dx[r / 6]);
        assert_true(csv_field(l, 11) == dh[(r / 2) % 3]);
        const double hev = csv_field(l, 12), hpu = csv_field(l, 13), macs = csv_field(l, 9), dense = csv_field(l, 14);
        assert_true(hpu >= 0 && hpu <= 1);
        if (dh[(r / 2) % 3] == 0) { /* exact: no hidden events, the dense recurrent cost */
            assert_true(hev == 0 && hpu == 0);
            if (fabs(macs - dense) > 0.05) fail_msg("row %d: macs %g, dense-recurrent macs %g", r, macs, dense);
        } else { /* events, and no more than the dense recurrent product costs */
            assert_true(hev > 0 && hpu > 0);
            if (macs > dense + 0.05) fail_msg("row %d: macs %g > dense-recurrent macs %g", r, macs, dense);
        }
    }
    free(text);
    /* Without --delta-*: the configured deltas, one row per threshold. */
    rc = rc_test_rcsim_err(g_dir, err, sizeof err, "eval '%s' --model '%s/d/model.h5' --out '%s/d/e2' --thresholds 0.7,0.8,0.9",
                           cfg, g_dir, g_dir);
    if (rc) fail_msg("eval failed (%d): %s", rc, err);
    snprintf(p, sizeof p, "%s/d/e2/tradeoff.csv", g_dir);
    n = read_lines(p, &text, lines2, 20);
    assert_string_equal(lines2[0], TRADEOFF_HEAD);
    assert_int_equal(n, 4);
    for (int r = 1; r < 4; r++) {
        assert_true(csv_field(lines2[r], 10) == 0);
        assert_true(csv_field(lines2[r], 11) == 0.1);
    }
    /* --no-end: the same rows, with accuracy_at_end (field 5) empty and
     * no full-length pass; every other field but examples_per_s (6) equal. */
    rc = rc_test_rcsim_err(g_dir, err, sizeof err, "eval '%s' --model '%s/d/model.h5' --out '%s/d/e4' --thresholds 0.7,0.8,0.9 "
                           "--no-end", cfg, g_dir, g_dir);
    if (rc) fail_msg("eval --no-end failed (%d): %s", rc, err);
    snprintf(p, sizeof p, "%s/d/e4/tradeoff.csv", g_dir);
    char *text4, *lines4[20];
    assert_int_equal(read_lines(p, &text4, lines4, 20), 4);
    assert_string_equal(lines4[0], TRADEOFF_HEAD);
    for (int r = 1; r < 4; r++) {
        const char *a = lines2[r], *b = lines4[r];
        for (int f = 0; f < 15; f++) {
            const size_t la = strcspn(a, ","), lb = strcspn(b, ",");
            if (f == 5) {
                if (lb != 0 || la == 0) fail_msg("row %d accuracy_at_end: '%.*s' (--no-end) against '%.*s'", r, (int)lb, b, (int)la, a);
            } else if (f != 6 && (la != lb || memcmp(a, b, la))) {
                fail_msg("row %d field %d: '%.*s' (--no-end) against '%.*s'", r, f, (int)lb, b, (int)la, a);
            }
            a += la + (a[la] == ','), b += lb + (b[lb] == ',');
        }
    }
    free(text4);
    free(text);
    /* A sweep without the configured point: traces.h5 from a pass of its own. */
    rc = rc_test_rcsim_err(g_dir, err, sizeof err, "eval '%s' --model '%s/d/model.h5' --out '%s/d/e3' --thresholds 0.95 "
                           "--delta-h 0.2", cfg, g_dir, g_dir);
    if (rc) fail_msg("eval failed (%d): %s", rc, err);
}

/* A plain LSTM and an SNN: no metrics.csv column, no delta keys for the SNN,
 * and an SNN's tradeoff.csv as it was. */
static void test_without_deltas(void **st)
{
    (void)st;
    char cfg[600], err[8192], p[700];
    write_cfg("p.cfg", "", 128, cfg, sizeof cfg);
    int rc = rc_test_rcsim_err(g_dir, err, sizeof err, "run '%s' --out '%s/p'", cfg, g_dir);
    if (rc) fail_msg("plain run failed (%d): %s", rc, err);
    char *text, *lines[4];
    snprintf(p, sizeof p, "%s/p/metrics.csv", g_dir);
    read_lines(p, &text, lines, 4);
    assert_non_null(strstr(lines[0], ",best"));
    assert_int_equal(strstr(lines[0], ",best")[5], 0);
    free(text);
    snprintf(p, sizeof p, "%s/p/summary.json", g_dir);
    char *s = rc_test_slurp(p, NULL);
    assert_contains(s, "\"delta_x\": 0,\n  \"delta_h\": 0,");
    assert_contains(s, "\"hidden_events_per_example\": 0,");
    free(s);
    snprintf(p, sizeof p, "%s/snn.cfg", g_dir);
    rc_test_write_file(p, "[task]\nname = spotting\n[model]\ntype = snn\nlayers = fc4 fc2\n[train]\nexamples = 128\n"
                          "batch = 64\nval_every = 2\nval_size = 64\n[test]\nsize = 64\n[output]\nprogress = off\n");
    rc = rc_test_rcsim_err(g_dir, err, sizeof err, "run '%s' --out '%s/s'", p, g_dir);
    if (rc) fail_msg("snn run failed (%d): %s", rc, err);
    rc = rc_test_rcsim_err(g_dir, err, sizeof err, "eval '%s' --model '%s/s/model.h5' --thresholds 1,2", p, g_dir);
    if (rc) fail_msg("snn eval failed (%d): %s", rc, err);
    snprintf(p, sizeof p, "%s/s/summary.json", g_dir);
    s = rc_test_slurp(p, NULL);
    assert_non_null(s);
    assert_contains(s, "\n  \"beta\": 0,\n  \"seed\""); /* top level: no delta_x, delta_h */
    assert_null(strstr(s, "hidden_events"));
    free(s);
    snprintf(p, sizeof p, "%s/s/eval/tradeoff.csv", g_dir);
    read_lines(p, &text, lines, 4);
    assert_string_equal(lines[0], "threshold,accuracy,mean_spike_step,mean_spike_fraction,no_spike_fraction,"
                                  "accuracy_at_end,examples_per_s,mean_spike_ms,synops_per_example");
    free(text);
}

/* ---- traces.h5 ------------------------------------------------------------ */

static double num_attr(hid_t f, const char *obj, const char *name)
{
    double v = -1;
    hid_t a = H5Aopen_by_name(f, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) fail_msg("no attribute %s of %s", name, obj);
    assert_true(H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0);
    H5Aclose(a);
    return v;
}

static const rc_traces_meta EV_META = { .version = "v", .git_revision = "g", .config_text = "[x]\n", .seed = 3,
                                        .threshold = 0.9, .mode = "rc", .T = 10, .dt_ms = 0.5,
                                        .delta_x = 0.125, .delta_h = 0.25 };

/* Events written unsorted within an example come back in time order with
 * their values; example ids and timestamps as for spikes. */
static void test_traces_events_io(void **st)
{
    (void)st;
    char path[600];
    snprintf(path, sizeof path, "%s/ev.h5", g_dir);
    rc_err err = { "" };
    rc_traces *tr = rc_traces_open(path, &EV_META, &err);
    assert_non_null(tr);
    assert_int_equal(rc_traces_add_events(tr, "hidden_events", 0, NULL, NULL, NULL, 0, &err), RC_OK);
    assert_int_equal(rc_traces_add_events(tr, "quiet", 0, NULL, NULL, NULL, 0, &err), RC_OK);
    const int s1[4] = { 3, 1, 3, 2 };
    const uint64_t u1[4] = { 4, 0, 1, 2 };
    const float v1[4] = { 0.5f, -0.25f, 1.5f, -2.0f };
    assert_int_equal(rc_traces_add_events(tr, "hidden_events", 2, s1, u1, v1, 4, &err), RC_OK);
    const int s2[2] = { 9, 1 };
    const uint64_t u2[2] = { 7, 3 };
    const float v2[2] = { 0.75f, 0.125f };
    assert_int_equal(rc_traces_add_events(tr, "hidden_events", 5, s2, u2, v2, 2, &err), RC_OK);
    assert_int_equal(rc_traces_close(tr, &err), RC_OK);

    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    size_t n[4];
    double *ts = rc_test_read_all(f, "/spikes/hidden_events/timestamps", H5T_NATIVE_DOUBLE, sizeof(double), &n[0]);
    uint64_t *id = rc_test_read_all(f, "/spikes/hidden_events/node_ids", H5T_NATIVE_UINT64, sizeof(uint64_t), &n[1]);
    uint64_t *ex = rc_test_read_all(f, "/spikes/hidden_events/example_ids", H5T_NATIVE_UINT64, sizeof(uint64_t), &n[2]);
    float *val = rc_test_read_all(f, "/spikes/hidden_events/values", H5T_NATIVE_FLOAT, sizeof(float), &n[3]);
    for (int i = 0; i < 4; i++) assert_int_equal(n[i], 6);
    /* Stable time order: step 1 (unit 0), 2 (2), 3 (4, then 1); then example 5. */
    const double wts[6] = { 21 * 0.5, 22 * 0.5, 23 * 0.5, 23 * 0.5, 51 * 0.5, 59 * 0.5 };
    const uint64_t wid[6] = { 0, 2, 4, 1, 3, 7 }, wex[6] = { 2, 2, 2, 2, 5, 5 };
    const float wv[6] = { -0.25f, -2.0f, 0.5f, 1.5f, 0.125f, 0.75f };
    for (int i = 0; i < 6; i++) {
        assert_true(ts[i] == wts[i]);
        assert_int_equal(id[i], wid[i]);
        assert_int_equal(ex[i], wex[i]);
        assert_true(val[i] == wv[i]);
    }
    free(ts), free(id), free(ex), free(val);
    /* An event population without events still has its values column. */
    float *q = rc_test_read_all(f, "/spikes/quiet/values", H5T_NATIVE_FLOAT, sizeof(float), &n[0]);
    assert_int_equal(n[0], 0);
    free(q);
    hid_t d = H5Dopen2(f, "/spikes/quiet/values", H5P_DEFAULT);
    hid_t t = H5Dget_type(d);
    assert_true(H5Tequal(t, H5T_IEEE_F32LE) > 0);
    H5Tclose(t);
    H5Dclose(d);
    assert_true(num_attr(f, "/rc", "delta_x") == 0.125);
    assert_true(num_attr(f, "/rc", "delta_h") == 0.25);
    assert_int_equal(H5Lexists(f, "/spikes/output/values", H5P_DEFAULT), 0); /* spikes have none */
    H5Fclose(f);
}

static char g_mix[600];
static void mix_spikes_into_events(void)
{
    rc_err err;
    rc_traces *tr = rc_traces_open(g_mix, &EV_META, &err);
    const int s = 1;
    const uint64_t u = 0;
    const float v = 1;
    rc_traces_add_events(tr, "h", 0, &s, &u, &v, 1, &err);
    rc_traces_add_spikes(tr, "h", 1, &s, &u, 1, &err);
}
static void mix_events_into_spikes(void)
{
    rc_err err;
    rc_traces *tr = rc_traces_open(g_mix, &EV_META, &err);
    const int s = 1;
    const uint64_t u = 0;
    const float v = 1;
    rc_traces_add_spikes(tr, "h", 0, &s, &u, 1, &err);
    rc_traces_add_events(tr, "h", 1, &s, &u, &v, 1, &err);
}

/* A population holds spikes or events, never both (a caller bug). */
static void test_traces_no_mixing(void **st)
{
    (void)st;
    snprintf(g_mix, sizeof g_mix, "%s/mix.h5", g_dir);
    assert_true(aborts(mix_spikes_into_events));
    assert_true(aborts(mix_events_into_spikes));
}

/* The delta run's traces.h5 (every test example traced, until its spike). */
static void test_run_traces(void **st)
{
    (void)st;
    char p[700];
    snprintf(p, sizeof p, "%s/d/traces.h5", g_dir);
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) fail_msg("%s missing (test_run_and_eval runs first)", p);
    assert_true(num_attr(f, "/rc", "delta_h") == 0.1);
    assert_true(num_attr(f, "/rc", "delta_x") == 0);
    assert_true(num_attr(f, "/spikes/hidden_events", "size") == 8);
    char *dims = rc_test_str_attr(f, "/spikes/hidden_events", "dims");
    assert_string_equal(dims, "unit");
    free(dims);
    size_t n[4], nex;
    double *ts = rc_test_read_all(f, "/spikes/hidden_events/timestamps", H5T_NATIVE_DOUBLE, sizeof(double), &n[0]);
    uint64_t *id = rc_test_read_all(f, "/spikes/hidden_events/node_ids", H5T_NATIVE_UINT64, sizeof(uint64_t), &n[1]);
    uint64_t *ex = rc_test_read_all(f, "/spikes/hidden_events/example_ids", H5T_NATIVE_UINT64, sizeof(uint64_t), &n[2]);
    float *val = rc_test_read_all(f, "/spikes/hidden_events/values", H5T_NATIVE_FLOAT, sizeof(float), &n[3]);
    int32_t *tsp = rc_test_read_all(f, "/rc/t_sp", H5T_NATIVE_INT32, sizeof(int32_t), &nex);
    assert_int_equal(nex, 64);
    for (int i = 1; i < 4; i++) assert_int_equal(n[i], n[0]);
    /* Steps 1 .. t_sp − 1 (0-based; t_sp stored 1-based): no event at step 0
     * (nothing was sent before it), none after the answer. */
    for (size_t i = 0; i < n[0]; i++) {
        assert_true(ex[i] < 64 && id[i] < 8);
        const double step = ts[i] - (double)ex[i] * D_T;
        assert_true(step >= 1 && step <= tsp[ex[i]] - 1);
        assert_true(fabsf(val[i]) >= 0.1f);
    }
    free(ts), free(id), free(ex), free(val), free(tsp);
    H5Fclose(f);
    /* All 64 test examples are traced: their events are the summary's. */
    snprintf(p, sizeof p, "%s/d/summary.json", g_dir);
    char *s = rc_test_slurp(p, NULL);
    const char *k = strstr(strstr(s, "\"test\": {"), "\"hidden_events_per_example\": ");
    assert_non_null(k);
    const double per = strtod(k + strlen("\"hidden_events_per_example\": "), NULL);
    if (fabs(per * 64 - (double)n[0]) > 1e-6 * (1 + per * 64))
        fail_msg("traces.h5 has %zu hidden events, summary.json says %g per example × 64", n[0], per);
    print_message("delta run: %zu hidden events in traces.h5 for 64 examples (summary: %g per example)\n", n[0], per);
    free(s);
    /* eval's traces.h5 is at train.threshold and the configured deltas
     * (not at the sweep's last point, nor at a sweep without them): the
     * run's outcomes and events. */
    size_t m[6];
    hid_t g[3];
    char q[3][700];
    snprintf(q[0], sizeof q[0], "%s/d/traces.h5", g_dir);
    snprintf(q[1], sizeof q[1], "%s/d/eval/traces.h5", g_dir);
    snprintf(q[2], sizeof q[2], "%s/d/e3/traces.h5", g_dir);
    void *col[3][3];
    for (int k = 0; k < 3; k++) {
        g[k] = H5Fopen(q[k], H5F_ACC_RDONLY, H5P_DEFAULT);
        assert_true(g[k] >= 0);
        col[k][0] = rc_test_read_all(g[k], "/rc/t_sp", H5T_NATIVE_INT32, sizeof(int32_t), &m[2 * k]);
        col[k][1] = rc_test_read_all(g[k], "/rc/pred", H5T_NATIVE_INT32, sizeof(int32_t), &m[2 * k]);
        col[k][2] = rc_test_read_all(g[k], "/spikes/hidden_events/values", H5T_NATIVE_FLOAT, sizeof(float), &m[2 * k + 1]);
        H5Fclose(g[k]);
    }
    for (int k = 1; k < 3; k++) {
        assert_int_equal(m[0], m[2 * k]);
        assert_int_equal(m[1], m[2 * k + 1]);
        assert_memory_equal(col[0][0], col[k][0], m[0] * sizeof(int32_t));
        assert_memory_equal(col[0][1], col[k][1], m[0] * sizeof(int32_t));
        if (m[1]) assert_memory_equal(col[0][2], col[k][2], m[1] * sizeof(float));
    }
    for (int k = 0; k < 3; k++)
        for (int c = 0; c < 3; c++) free(col[k][c]);
    /* A run without delta_h has no hidden_events population. */
    snprintf(p, sizeof p, "%s/p/traces.h5", g_dir);
    f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    assert_int_equal(H5Lexists(f, "/spikes/hidden_events", H5P_DEFAULT), 0);
    H5Fclose(f);
}

/* tests/py/test_rcplot_delta.py (skipped without h5py or matplotlib: 77). */
static void test_python_rcplot_delta(void **st)
{
    (void)st;
    const int rc = rc_test_sh("MPLBACKEND=Agg /usr/bin/python3 tests/py/test_rcplot_delta.py >'%s/py.txt' 2>&1", g_dir);
    char p[400];
    snprintf(p, sizeof p, "%s/py.txt", g_dir);
    char *out = rc_test_slurp(p, NULL);
    if (rc == 77) {
        print_message("%s", out ? out : "test_rcplot_delta.py skipped\n");
        free(out);
        skip();
    }
    if (rc != 0) fail_msg("tests/py/test_rcplot_delta.py exited %d:\n%s", rc, out ? out : "");
    free(out);
}

int main(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_eval_flag_errors),
        cmocka_unit_test(test_run_and_eval),
        cmocka_unit_test(test_without_deltas),
        cmocka_unit_test(test_traces_events_io),
        cmocka_unit_test(test_traces_no_mixing),
        cmocka_unit_test(test_run_traces),
        cmocka_unit_test(test_python_rcplot_delta),
    };
    return cmocka_run_group_tests_name("delta_app", tests, setup, teardown);
}
