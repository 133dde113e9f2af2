/* test_events.c — task.name = events: labelled event data sets from HDF5
 * (io/h5events, encoders/events). Every file is written here with the HDF5
 * C API (no python): hand-made examples whose binned streams are computed
 * by hand (step and channel of each event, boundaries, the last step,
 * events past T, duplicates summed or saturated), the same events in the
 * flat layout, broken files (channel out of range, times/units of different
 * lengths, a missing dataset, a text file, negative times and labels), and
 * a synthetic 4-class set with class-dependent channel/time patterns that
 * an LSTM and an SNN learn through the binary in a few seconds. */
#include "tests/testutil.h"
#include <hdf5.h>
#include "encoders/events.h"
#include "io/h5events.h"
#include "base/rng.h"

static char g_dir[256];

static int setup(void **st)
{
    (void)st;
    return rc_test_mkdtemp(g_dir, sizeof g_dir, "/tmp/rcsim_events_");
}

static int teardown(void **st)
{
    (void)st;
    if (getenv("KEEP")) return 0;
    return rc_test_rmtree(g_dir);
}

/* ---- writing test files ------------------------------------------------- */

typedef struct {
    int n;                 /* examples                                        */
    const double *t[8];    /* times (s) of each example                        */
    const int *u[8];       /* units                                            */
    size_t nt[8], nu[8];   /* their lengths (nu may differ: a broken file)     */
    long labels[8];
    int nlabels;           /* labels written (normally n)                      */
    const char *keys;      /* comma-separated class names, NULL = no /extra/keys */
    int no_units;          /* leave /spikes/units out                          */
    int vlen_keys;         /* keys as variable-length strings (else fixed 16)  */
    hid_t time_type;       /* file type of the times (0 = float32)             */
} shd_spec;

static void write_labels_keys(hid_t f, const shd_spec *s)
{
    hsize_t nl = (hsize_t)s->nlabels;
    hid_t sp = H5Screate_simple(1, &nl, NULL);
    hid_t d = H5Dcreate2(f, "/labels", H5T_STD_U16LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dwrite(d, H5T_NATIVE_LONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, s->labels) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
    if (!s->keys) return;
    char buf[512], *names[16];
    snprintf(buf, sizeof buf, "%s", s->keys);
    hsize_t nk = 0;
    for (char *p = strtok(buf, ","); p; p = strtok(NULL, ",")) names[nk++] = p;
    hid_t g = H5Gcreate2(f, "/extra", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (s->vlen_keys) { /* as h5py writes a list of str */
        hid_t vt = H5Tcopy(H5T_C_S1);
        H5Tset_size(vt, H5T_VARIABLE);
        H5Tset_cset(vt, H5T_CSET_UTF8);
        sp = H5Screate_simple(1, &nk, NULL);
        d = H5Dcreate2(g, "keys", vt, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        assert_true(H5Dwrite(d, vt, H5S_ALL, H5S_ALL, H5P_DEFAULT, names) >= 0);
        H5Dclose(d);
        H5Sclose(sp);
        H5Tclose(vt);
        H5Gclose(g);
        return;
    }
    /* Fixed-length strings, as h5py writes a numpy bytes array. */
    char fixed[16][16] = { { 0 } };
    for (hsize_t i = 0; i < nk; i++) snprintf(fixed[i], 16, "%s", names[i]);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 16);
    H5Tset_strpad(st, H5T_STR_NULLPAD);
    sp = H5Screate_simple(1, &nk, NULL);
    d = H5Dcreate2(g, "keys", st, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(H5Dwrite(d, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, fixed) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
    H5Tclose(st);
    H5Gclose(g);
}

static void write_shd(const char *path, const shd_spec *s)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t g = H5Gcreate2(f, "/spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t n = (hsize_t)s->n;
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hvl_t vt[8], vu[8];
    for (int i = 0; i < s->n; i++) {
        vt[i] = (hvl_t){ s->nt[i], (void *)s->t[i] };
        vu[i] = (hvl_t){ s->nu[i], (void *)s->u[i] };
    }
    hid_t ft = H5Tvlen_create(s->time_type ? s->time_type : H5T_IEEE_F32LE), mt = H5Tvlen_create(H5T_NATIVE_DOUBLE);
    hid_t d = H5Dcreate2(g, "times", ft, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, vt) >= 0);
    H5Dclose(d);
    H5Tclose(ft);
    H5Tclose(mt);
    if (!s->no_units) {
        ft = H5Tvlen_create(H5T_STD_U16LE);
        mt = H5Tvlen_create(H5T_NATIVE_INT);
        d = H5Dcreate2(g, "units", ft, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        assert_true(H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, vu) >= 0);
        H5Dclose(d);
        H5Tclose(ft);
        H5Tclose(mt);
    }
    H5Sclose(sp);
    H5Gclose(g);
    write_labels_keys(f, s);
    H5Fclose(f);
}

static void write_1d(hid_t g, const char *name, hid_t ftype, hid_t mtype, const void *v, hsize_t n)
{
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hid_t d = H5Dcreate2(g, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0);
    if (n) assert_true(H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
}

/* The events of s in the flat layout, listed backwards (example order and
 * order within an example reversed), with nx example indices written. */
static void write_flat(const char *path, const shd_spec *s, int drop_example_entries)
{
    double t[256];
    int u[256];
    long x[256];
    size_t e = 0;
    for (int i = s->n - 1; i >= 0; i--)
        for (size_t k = s->nt[i]; k-- > 0; e++) {
            t[e] = s->t[i][k];
            u[e] = s->u[i][k];
            x[e] = i;
        }
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(f, "/events", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    write_1d(g, "times", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, t, e);
    write_1d(g, "units", H5T_STD_I32LE, H5T_NATIVE_INT, u, e);
    write_1d(g, "example", H5T_STD_I64LE, H5T_NATIVE_LONG, x, e - (size_t)drop_example_entries);
    H5Gclose(g);
    write_labels_keys(f, s);
    H5Fclose(f);
}

/* ---- the hand-made examples --------------------------------------------- */

/* dt = 10 ms, T = 5 steps ([0, 50) ms), 8 channels.
 * Example 0 (label 2):
 *   0.000 s ch 3, 0.0099 s ch 3  -> step 0, channel 3, two events
 *   0.010 s ch 3                 -> step 1 (on the boundary: the later step)
 *   0.012 s ch 5, 0.011 s ch 2   -> step 1, sorted by channel: 2, 5
 *   0.049 s ch 7                 -> step 4 (the last step)
 *   0.050 s ch 1, 0.200 s ch 0   -> steps 5 and 20: dropped with T = 5
 * Example 1 (label 0): no events.
 * Example 2 (label 1): 0.03 s ch 0 -> step 3 (0.03·1000/10 = 2.9999999999999996
 *   in double: snapped to the boundary).
 * Binned, sum:      step 0: (3, 2)  step 1: (2, 1) (3, 1) (5, 1)  step 4: (7, 1)
 * Binned, saturate: step 0: (3, 1)  ... the rest as sum. */
static const double T0[] = { 0.000, 0.0099, 0.010, 0.012, 0.011, 0.049, 0.050, 0.200 };
static const int U0[] = { 3, 3, 3, 5, 2, 7, 1, 0 };
static const double T2[] = { 0.03 };
static const int U2[] = { 0 };

static shd_spec hand_spec(void)
{
    shd_spec s = { .n = 3, .t = { T0, NULL, T2 }, .u = { U0, NULL, U2 }, .nt = { 8, 0, 1 }, .nu = { 8, 0, 1 },
                   .labels = { 2, 0, 1 }, .nlabels = 3, .keys = "zero,one,two" };
    return s;
}

static void paths(char *tr, char *te, size_t cap, const char *tag)
{
    snprintf(tr, cap, "%s/%s_train.h5", g_dir, tag);
    snprintf(te, cap, "%s/%s_test.h5", g_dir, tag);
}

static rc_evdata_opts hand_opts(const char *tr, const char *te)
{
    return (rc_evdata_opts){ .train_file = tr, .test_file = te, .channels = 8, .steps = 5, .dt_ms = 10,
                             .saturate = 0, .nval = 1 };
}

static void check_stream(const rc_events *ev, int T, const int *off, const int *ch, const float *val)
{
    assert_int_equal(ev->T, T);
    for (int t = 0; t <= T; t++) assert_int_equal(ev->off[t], off[t]);
    for (int e = 0; e < off[T]; e++) {
        assert_int_equal(ev->ch[e], ch[e]);
        assert_true(ev->val[e] == val[e]);
    }
}

static void test_step(void **st)
{
    (void)st;
    assert_int_equal(rc_evdata_step(0.0, 10), 0);
    assert_int_equal(rc_evdata_step(0.0099, 10), 0);
    assert_int_equal(rc_evdata_step(0.010, 10), 1);
    assert_int_equal(rc_evdata_step((double)0.01f, 10), 1);   /* 0.0099999998: on the boundary as written */
    assert_int_equal(rc_evdata_step(0.03, 10), 3);            /* 2.9999999999999996 in double */
    assert_int_equal(rc_evdata_step(0.0199, 10), 1);
    assert_int_equal(rc_evdata_step(0.0005, 1), 0);
    assert_int_equal(rc_evdata_step(1.4, 1), 1400);
    assert_int_equal(rc_evdata_step((double)1.4f, 1), 1400); /* 1.39999998 */
    assert_int_equal(rc_evdata_step(1.3995, 1), 1399);
    assert_int_equal(rc_evdata_step(-1e-9, 10), -1);
    assert_int_equal(rc_evdata_step(NAN, 10), -1);
    assert_int_equal(rc_evdata_step(INFINITY, 10), -1);
    assert_true(rc_evdata_step(1e30, 1) == INT64_MAX);
}

static void test_shd_binning(void **st)
{
    (void)st;
    char tr[512], te[512];
    paths(tr, te, sizeof tr, "hand");
    shd_spec s = hand_spec();
    write_shd(tr, &s);
    write_shd(te, &s);
    rc_evdata_opts o = hand_opts(tr, te);
    rc_dataset *ds = NULL;
    rc_err err;
    int64_t dropped = -1;
    assert_int_equal(rc_evdata_new(&o, 1, &ds, &dropped, &err), RC_OK);
    assert_int_equal(ds->T, 5);
    assert_int_equal(ds->nin, 8);
    assert_int_equal(ds->nclass, 3);
    assert_int_equal(dropped, 4); /* two per file */
    assert_int_equal(ds->size[RC_SPLIT_TRAIN], 2);
    assert_int_equal(ds->size[RC_SPLIT_VAL], 1);
    assert_int_equal(ds->size[RC_SPLIT_TEST], 3);
    assert_non_null(ds->class_names);
    assert_string_equal(ds->class_names[2], "two");
    rc_events ev = { 0 };
    rc_example_info info;
    const int off0[] = { 0, 1, 4, 4, 4, 5 }, ch0[] = { 3, 2, 3, 5, 7 };
    const float sum0[] = { 2, 1, 1, 1, 1 }, sat0[] = { 1, 1, 1, 1, 1 };
    assert_int_equal(ds->get(ds, RC_SPLIT_TRAIN, 0, &ev, &info), RC_OK);
    assert_int_equal(info.label, 2);
    check_stream(&ev, 5, off0, ch0, sum0);
    assert_int_equal(ds->get(ds, RC_SPLIT_TEST, 0, &ev, &info), RC_OK);
    check_stream(&ev, 5, off0, ch0, sum0);
    const int off1[] = { 0, 0, 0, 0, 0, 0 };
    assert_int_equal(ds->get(ds, RC_SPLIT_TRAIN, 1, &ev, &info), RC_OK);
    assert_int_equal(info.label, 0);
    check_stream(&ev, 5, off1, NULL, NULL);
    /* Validation = the last training example. */
    const int off2[] = { 0, 0, 0, 0, 1, 1 }, ch2[] = { 0 };
    const float v2[] = { 1 };
    assert_int_equal(ds->get(ds, RC_SPLIT_VAL, 0, &ev, &info), RC_OK);
    assert_int_equal(info.label, 1);
    check_stream(&ev, 5, off2, ch2, v2);
    rc_dataset_free(ds);
    /* Saturate: the two events of step 0, channel 3 give one of value 1. */
    o.saturate = 1;
    assert_int_equal(rc_evdata_new(&o, 1, &ds, NULL, &err), RC_OK);
    assert_int_equal(ds->get(ds, RC_SPLIT_TRAIN, 0, &ev, &info), RC_OK);
    check_stream(&ev, 5, off0, ch0, sat0);
    rc_dataset_free(ds);
    /* steps = 0: T reaches the last event (0.2 s = step 20), nothing dropped;
     * nval = -1: a tenth of 3 examples, at least 1. */
    o.saturate = 0;
    o.steps = 0;
    o.nval = -1;
    assert_int_equal(rc_evdata_new(&o, 1, &ds, &dropped, &err), RC_OK);
    assert_int_equal(ds->T, 21);
    assert_int_equal(dropped, 0);
    assert_int_equal(ds->size[RC_SPLIT_VAL], 1);
    assert_int_equal(ds->get(ds, RC_SPLIT_TRAIN, 0, &ev, &info), RC_OK);
    assert_int_equal(ev.nev, 7);
    assert_int_equal(ev.off[5], 5);
    assert_int_equal(ev.off[6], 6); /* 0.050 s ch 1 */
    assert_int_equal(ev.ch[5], 1);
    assert_int_equal(ev.off[20], 6);
    assert_int_equal(ev.off[21], 7); /* 0.200 s ch 0 */
    assert_int_equal(ev.ch[6], 0);
    rc_dataset_free(ds);
    /* Times stored as IEEE half floats (h5py's float16) are binned as
     * stored: 0.0099 is 0.0099030 (step 0), 0.010 is 0.0100021 (1), 0.049 is
     * 0.0490112 (4), 0.050 is 0.0499878 (4: kept, T = 5), 0.2 is 0.1999512
     * (19: dropped), 0.03 is 0.0299988 (2, not 3). */
    hid_t f16 = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(f16, 15, 10, 5, 0, 10);
    H5Tset_size(f16, 2);
    H5Tset_ebias(f16, 15);
    s.time_type = f16;
    write_shd(tr, &s);
    H5Tclose(f16);
    o.steps = 5;
    o.rows = o.cols = 0;
    assert_int_equal(rc_evdata_new(&o, 1, &ds, &dropped, &err), RC_OK);
    assert_int_equal(dropped, 1 + 2); /* the float32 test file drops two */
    const int off16[] = { 0, 1, 4, 4, 4, 6 }, ch16[] = { 3, 2, 3, 5, 1, 7 };
    const float sum16[] = { 2, 1, 1, 1, 1, 1 };
    assert_int_equal(ds->get(ds, RC_SPLIT_TRAIN, 0, &ev, &info), RC_OK);
    check_stream(&ev, 5, off16, ch16, sum16);
    const int off2h[] = { 0, 0, 0, 1, 1, 1 };
    assert_int_equal(ds->get(ds, RC_SPLIT_VAL, 0, &ev, &info), RC_OK);
    check_stream(&ev, 5, off2h, ch2, v2);
    rc_dataset_free(ds);
    o.steps = 0;
    /* A layout for conv models. */
    o.rows = 2;
    o.cols = 4;
    assert_int_equal(rc_evdata_new(&o, 1, &ds, NULL, &err), RC_OK);
    assert_int_equal(ds->rows, 2);
    assert_int_equal(ds->cols, 4);
    rc_dataset_free(ds);
    o.cols = 3;
    assert_int_equal(rc_evdata_new(&o, 1, &ds, NULL, &err), RC_ERR_CONFIG);
    assert_contains(err.msg, "task.shape = 2,3 has 6 positions, expected task.channels = 8");
    rc_events_free(&ev);
}

/* The flat layout, events listed backwards, bins to the same streams; a
 * float16-free check that the stored time type does not matter (float64). */
static void test_flat_layout(void **st)
{
    (void)st;
    char tr[512], te[512], str[512], ste[512];
    paths(tr, te, sizeof tr, "flat");
    paths(str, ste, sizeof str, "flatref");
    shd_spec s = hand_spec();
    s.vlen_keys = 1;
    s.keys = "null,eins,zwei";
    write_flat(tr, &s, 0);
    write_flat(te, &s, 0);
    s.keys = "zero,one,two";
    s.vlen_keys = 0;
    write_shd(str, &s);
    write_shd(ste, &s);
    rc_evdata_opts o = hand_opts(tr, te), r = hand_opts(str, ste);
    rc_dataset *ds = NULL, *ref = NULL;
    rc_err err;
    assert_int_equal(rc_evdata_new(&o, 1, &ds, NULL, &err), RC_OK);
    assert_int_equal(rc_evdata_new(&r, 1, &ref, NULL, &err), RC_OK);
    rc_events a = { 0 }, b = { 0 };
    rc_example_info ia, ib;
    for (int sp = 0; sp < 3; sp++)
        for (int64_t i = 0; i < ref->size[sp]; i++) {
            assert_int_equal(ds->get(ds, (rc_split)sp, i, &a, &ia), RC_OK);
            assert_int_equal(ref->get(ref, (rc_split)sp, i, &b, &ib), RC_OK);
            assert_int_equal(ia.label, ib.label);
            assert_int_equal(a.nev, b.nev);
            assert_memory_equal(a.off, b.off, 6 * sizeof *a.off);
            if (a.nev) {
                assert_memory_equal(a.ch, b.ch, (size_t)a.nev * sizeof *a.ch);
                assert_memory_equal(a.val, b.val, (size_t)a.nev * sizeof *a.val);
            }
        }
    assert_string_equal(ds->class_names[0], "null");
    assert_string_equal(ds->class_names[2], "zwei");
    rc_events_free(&a);
    rc_events_free(&b);
    rc_dataset_free(ds);
    rc_dataset_free(ref);
    /* Flat arrays of different lengths. */
    write_flat(tr, &s, 1);
    assert_int_equal(rc_evdata_new(&o, 1, &ds, NULL, &err), RC_ERR_DATA);
    assert_contains(err.msg, tr);
    assert_contains(err.msg, "/events/times has 9 events, /events/units 9, /events/example 8; expected the same number");
}

/* Expects rc_evdata_new on (tr, te) to fail with st and a message holding
 * each of the needles. */
static void expect_error(const rc_evdata_opts *o, rc_status want, const char *n1, const char *n2)
{
    rc_dataset *ds = NULL;
    rc_err err = { "" };
    assert_int_equal(rc_evdata_new(o, 1, &ds, NULL, &err), want);
    assert_null(ds);
    assert_contains(err.msg, n1);
    if (n2) assert_contains(err.msg, n2);
    assert_null(strchr(err.msg, '\n'));
}

static void test_errors(void **st)
{
    (void)st;
    char tr[512], te[512], msg[700];
    paths(tr, te, sizeof tr, "bad");
    shd_spec good = hand_spec();
    write_shd(te, &good);
    rc_evdata_opts o = hand_opts(tr, te);
    /* Channel out of range: example 2's only event on channel 8 of 8. */
    shd_spec s = hand_spec();
    const int U2bad[] = { 8 };
    s.u[2] = U2bad;
    write_shd(tr, &s);
    snprintf(msg, sizeof msg, "%s: example 2, event 0: channel 8, expected a channel in [0, 8) (task.channels = 8)", tr);
    expect_error(&o, RC_ERR_DATA, msg, NULL);
    /* Example 0 has 8 times but 7 units. */
    s = hand_spec();
    s.nu[0] = 7;
    write_shd(tr, &s);
    snprintf(msg, sizeof msg, "%s: example 0 has 8 times in /spikes/times but 7 units in /spikes/units", tr);
    expect_error(&o, RC_ERR_DATA, msg, NULL);
    /* /spikes/units missing. */
    s = hand_spec();
    s.no_units = 1;
    write_shd(tr, &s);
    snprintf(msg, sizeof msg, "%s: no dataset /spikes/units; expected the SHD layout", tr);
    expect_error(&o, RC_ERR_DATA, msg, NULL);
    /* Fewer labels than examples. */
    s = hand_spec();
    s.nlabels = 2;
    write_shd(tr, &s);
    expect_error(&o, RC_ERR_DATA, tr, "/spikes/times has 3 examples, /spikes/units 3, /labels 2; expected the same number");
    /* A negative time and a negative label. */
    s = hand_spec();
    const double T2neg[] = { -0.001 };
    s.t[2] = T2neg;
    write_shd(tr, &s);
    expect_error(&o, RC_ERR_DATA, tr, "example 2, event 0: time -0.001, expected a finite time >= 0 (seconds)");
    s = hand_spec();
    write_shd(tr, &s);
    hid_t f = H5Fopen(tr, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(f, "/labels", H5P_DEFAULT);
    const long lab[3] = { 1, -3, 0 };
    write_1d(f, "/labels", H5T_STD_I32LE, H5T_NATIVE_LONG, lab, 3);
    H5Fclose(f);
    expect_error(&o, RC_ERR_DATA, tr, "example 1: label -3, expected a class index in [0, 100000)");
    /* Times that are not variable-length arrays. */
    f = H5Fcreate(tr, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(f, "/spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    write_1d(g, "times", H5T_IEEE_F32LE, H5T_NATIVE_DOUBLE, T0, 3);
    H5Gclose(g);
    write_1d(f, "/labels", H5T_STD_I32LE, H5T_NATIVE_LONG, lab, 3);
    H5Fclose(f);
    expect_error(&o, RC_ERR_DATA, tr, "/spikes/times holds floats, expected variable-length arrays of times");
    /* Neither layout. */
    f = H5Fcreate(tr, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    write_1d(f, "/labels", H5T_STD_I32LE, H5T_NATIVE_LONG, lab, 3);
    H5Fclose(f);
    expect_error(&o, RC_ERR_DATA, tr, "no /spikes group and no /events group; expected the SHD layout");
    /* Not an HDF5 file, and no file. */
    FILE *t = fopen(tr, "w");
    assert_non_null(t);
    fputs("times,units,label\n0.1,3,2\n", t);
    fclose(t);
    expect_error(&o, RC_ERR_DATA, tr, "event data file");
    snprintf(msg, sizeof msg, "%s/missing.h5", g_dir);
    o.train_file = msg;
    rc_dataset *ds = NULL;
    rc_err err;
    assert_true(rc_evdata_new(&o, 1, &ds, NULL, &err) != RC_OK);
    assert_contains(err.msg, msg);
    /* Options: validation as large as the file; one class only; T past the limit. */
    write_shd(tr, &good);
    o = hand_opts(tr, te);
    o.nval = 3;
    expect_error(&o, RC_ERR_CONFIG, "task.validation = 3 must be smaller than the 3 training examples in", tr);
    o = hand_opts(tr, te);
    o.steps = 0;
    o.dt_ms = 0.01; /* 0.2 s = step 20000 */
    expect_error(&o, RC_ERR_CONFIG, "is at step 20000 of 0.01 ms, more than the 4096 steps accepted", NULL);
}

/* tools/make_shd.py's files (both layouts, float16 times) load as written:
 * its sizes, classes and names. Skipped without python3-h5py: the other
 * tests need no python. */
static void test_make_shd(void **st)
{
    (void)st;
    if (rc_test_sh("/usr/bin/python3 -c 'import h5py' 2>/dev/null") != 0) {
        print_message("python3-h5py not installed: skipped tools/make_shd.py\n");
        skip();
    }
    const char *layout[2] = { "shd", "flat" };
    for (int l = 0; l < 2; l++) {
        char tr[512], te[512];
        paths(tr, te, sizeof tr, layout[l]);
        assert_int_equal(rc_test_sh("/usr/bin/python3 tools/make_shd.py %s %s --train 30 --test 12 --classes 3 "
                                    "--channels 16 --duration 0.5 --layout %s --time-dtype %s", tr, te, layout[l],
                                    l ? "float16" : "float32"), 0);
        rc_evdata_opts o = { .train_file = tr, .test_file = te, .channels = 16, .dt_ms = 10, .nval = -1 };
        rc_dataset *ds = NULL;
        rc_err err;
        assert_int_equal(rc_evdata_new(&o, 1, &ds, NULL, &err), RC_OK);
        assert_int_equal(ds->nclass, 3);
        assert_int_equal(ds->size[RC_SPLIT_TRAIN], 27);
        assert_int_equal(ds->size[RC_SPLIT_VAL], 3);
        assert_int_equal(ds->size[RC_SPLIT_TEST], 12);
        assert_true(ds->T >= 45 && ds->T <= 50); /* events in [0, 0.5) s */
        assert_string_equal(ds->class_names[1], "class 1");
        rc_events ev = { 0 };
        rc_example_info info;
        int64_t total = 0;
        for (int64_t i = 0; i < 12; i++) {
            assert_int_equal(ds->get(ds, RC_SPLIT_TEST, i, &ev, &info), RC_OK);
            assert_true(info.label >= 0 && info.label < 3);
            total += ev.nev;
        }
        assert_true(total > 12 * 20); /* about 96 ridge and 24 background spikes each, some merged */
        rc_events_free(&ev);
        rc_dataset_free(ds);
    }
}

/* ---- through the binary ------------------------------------------------- */

/* A 4-class set of 32 channels: class c fires a ridge of channels
 * 8c + j/2 at times (j + 1)·20 ms + c·5 ms, j = 0..9, each with chance 0.7,
 * plus 6 random background events; times stored as float32. */
static void write_synthetic(const char *path, int n, uint64_t stream)
{
    static double tt[64][40];
    static int uu[64][40];
    shd_spec s = { .n = 0 };
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t g = H5Gcreate2(f, "/spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t hn = (hsize_t)n;
    hid_t sp = H5Screate_simple(1, &hn, NULL);
    hid_t ft = H5Tvlen_create(H5T_IEEE_F32LE), mt = H5Tvlen_create(H5T_NATIVE_DOUBLE);
    hid_t fu = H5Tvlen_create(H5T_STD_U16LE), mu = H5Tvlen_create(H5T_NATIVE_INT);
    hid_t dt = H5Dcreate2(g, "times", ft, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t du = H5Dcreate2(g, "units", fu, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    long *labels = malloc((size_t)n * sizeof *labels);
    for (int i = 0; i < n; i++) {
        const int c = (int)(rc_rand64(7, stream, (uint64_t)i, 0) % 4), slot = i % 64;
        size_t k = 0;
        for (int j = 0; j < 10; j++)
            if (rc_uniform(7, stream, (uint64_t)i, 1 + (uint64_t)j) < 0.7) {
                tt[slot][k] = (j + 1) * 0.020 + c * 0.005;
                uu[slot][k++] = 8 * c + j / 2;
            }
        for (int j = 0; j < 6; j++, k++) {
            tt[slot][k] = 0.25 * rc_uniform(7, stream, (uint64_t)i, 20 + (uint64_t)j);
            uu[slot][k] = (int)(32 * rc_uniform(7, stream, (uint64_t)i, 40 + (uint64_t)j));
        }
        labels[i] = c;
        hvl_t vt = { k, tt[slot] }, vu = { k, uu[slot] };
        hsize_t one = 1, at = (hsize_t)i;
        hid_t ms = H5Screate_simple(1, &one, NULL);
        H5Sselect_hyperslab(sp, H5S_SELECT_SET, &at, NULL, &one, NULL);
        assert_true(H5Dwrite(dt, mt, ms, sp, H5P_DEFAULT, &vt) >= 0);
        assert_true(H5Dwrite(du, mu, ms, sp, H5P_DEFAULT, &vu) >= 0);
        H5Sclose(ms);
    }
    H5Sselect_all(sp);
    H5Dclose(dt); H5Dclose(du);
    H5Tclose(ft); H5Tclose(mt); H5Tclose(fu); H5Tclose(mu);
    H5Sclose(sp);
    H5Gclose(g);
    write_1d(f, "/labels", H5T_STD_U8LE, H5T_NATIVE_LONG, labels, hn);
    free(labels);
    (void)s;
    H5Fclose(f);
}

/* test.accuracy_at_end from DIR/summary.json. */
static double summary_acc_end(const char *dir)
{
    char p[800];
    snprintf(p, sizeof p, "%s/summary.json", dir);
    char *s = rc_test_slurp(p, NULL);
    assert_non_null(s);
    const char *a = strstr(s, "\"test\": {");
    assert_non_null(a);
    const char *b = strstr(a, "\"accuracy_at_end\": ");
    assert_non_null(b);
    const double v = atof(b + strlen("\"accuracy_at_end\": "));
    free(s);
    return v;
}

static void write_cfg(const char *path, const char *tr, const char *te, const char *model)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "[task]\nname = events\ntrain_file = %s\ntest_file = %s\nchannels = 32\nvalidation = 40\n"
               "[encoder]\nmerge = saturate\n%s\n[train]\nmode = eos\nbatch = 16\nepochs = 4\nval_every = 10\n"
               "[test]\nbatch = 50\n[sim]\ndt_ms = 10\n[output]\nprogress = off\n",
            tr, te, model);
    fclose(f);
}

static void test_cli_train(void **st)
{
    (void)st;
    char tr[512], te[512], cfg[600], out[600], errf[600];
    paths(tr, te, sizeof tr, "syn");
    write_synthetic(tr, 400, 1);
    write_synthetic(te, 200, 2);
    snprintf(cfg, sizeof cfg, "%s/lstm.cfg", g_dir);
    write_cfg(cfg, tr, te, "[model]\nhidden = 24\n[train]\nlr = 0.01");
    snprintf(out, sizeof out, "%s/run_lstm", g_dir);
    assert_int_equal(rc_test_sh("%s run %s --out %s --threads 1 2>/dev/null", rc_test_bin(), cfg, out), 0);
    const double acc_lstm = summary_acc_end(out);
    print_message("events LSTM: test accuracy at end %.3f (chance 0.25)\n", acc_lstm);
    assert_true(acc_lstm >= 0.6);
    char p[800];
    snprintf(p, sizeof p, "%s/summary.json", out);
    char *s = rc_test_slurp(p, NULL);
    assert_non_null(s);
    assert_contains(s, "\"task\": \"events\"");
    free(s);
    /* Any thread count gives the same numbers. */
    char out2[700];
    snprintf(out2, sizeof out2, "%s/run_lstm2", g_dir);
    assert_int_equal(rc_test_sh("%s run %s --out %s --threads 2 2>/dev/null", rc_test_bin(), cfg, out2), 0);
    char *n1 = rc_test_summary_numbers(out, "threads"), *n2 = rc_test_summary_numbers(out2, "threads");
    assert_non_null(n1);
    assert_non_null(n2);
    assert_string_equal(n1, n2);
    free(n1);
    free(n2);
    /* eval of the trained model reads the same files. */
    assert_int_equal(rc_test_sh("%s eval %s --model %s/model.h5 --out %s/ev 2>/dev/null", rc_test_bin(), cfg, out, out), 0);
    /* The bin width is the input: eval with another sim.dt_ms is refused. */
    snprintf(errf, sizeof errf, "%s/err.txt", g_dir);
    assert_int_equal(rc_test_sh("%s eval %s --model %s/model.h5 --out %s/ev2 --set sim.dt_ms=20 2>%s", rc_test_bin(), cfg,
                                out, out, errf), 1);
    s = rc_test_slurp(errf, NULL);
    assert_contains(s, "it has sim.dt_ms = 10 (the events' bin width), this config has 20");
    free(s);
    /* A recurrence-free SNN. */
    snprintf(cfg, sizeof cfg, "%s/snn.cfg", g_dir);
    write_cfg(cfg, tr, te, "[model]\ntype = snn\nlayers = fc64 fc4\ntau = 0.8\n[train]\nlr = 0.003");
    snprintf(out, sizeof out, "%s/run_snn", g_dir);
    assert_int_equal(rc_test_sh("%s run %s --out %s --threads 1 2>/dev/null", rc_test_bin(), cfg, out), 0);
    const double acc_snn = summary_acc_end(out);
    print_message("events SNN: test accuracy at end %.3f (chance 0.25)\n", acc_snn);
    assert_true(acc_snn >= 0.6);
    /* ConvLSTM and a conv SNN on the channels laid out as 4 x 8 (traces on:
     * an SNN ending conv pool2 fc once overflowed the activation buffer). */
    snprintf(out2, sizeof out2, "%s/run_conv", g_dir);
    char ccfg[600];
    snprintf(ccfg, sizeof ccfg, "%s/conv.cfg", g_dir);
    write_cfg(ccfg, tr, te, "[model]\ntype = convlstm\nchannels = 2\nkernel = 3\n[train]\nlr = 0.01");
    assert_int_equal(rc_test_sh("%s run %s --out %s --threads 1 --set task.shape=4,8 --set train.epochs=1 2>/dev/null",
                                rc_test_bin(), ccfg, out2), 0);
    snprintf(out2, sizeof out2, "%s/run_convsnn", g_dir);
    assert_int_equal(rc_test_sh("%s run %s --out %s --threads 1 --set task.shape=4,8 --set 'model.layers=conv4k3p1 pool2 fc4' "
                                "--set train.epochs=1 2>/dev/null", rc_test_bin(), cfg, out2), 0);
    snprintf(p, sizeof p, "%s/summary.json", out2);
    s = rc_test_slurp(p, NULL);
    assert_non_null(s);
    assert_contains(s, "\"shape\": [4, 8]");
    free(s);
    /* Config errors exit 2 with one line naming the key. */
    snprintf(errf, sizeof errf, "%s/err.txt", g_dir);
    assert_int_equal(rc_test_sh("%s run %s/lstm.cfg --out %s/x --set task.shape=4,8 2>%s",
                                rc_test_bin(), g_dir, g_dir, errf), 2);
    s = rc_test_slurp(errf, NULL);
    assert_contains(s, "task.shape has no effect with model.type = lstm");
    free(s);
    assert_int_equal(rc_test_sh("%s run %s --out %s/x --set task.shape=4,8 2>%s", rc_test_bin(), cfg, g_dir, errf), 2);
    s = rc_test_slurp(errf, NULL);
    assert_contains(s, "task.shape has no effect with model.layers = fc64 fc4 (no conv layer");
    free(s);
    assert_int_equal(rc_test_sh("%s run configs/spotting.cfg --out %s/x --set task.channels=4 2>%s", rc_test_bin(), g_dir,
                                errf), 2);
    s = rc_test_slurp(errf, NULL);
    assert_contains(s, "task.channels has no effect for task.name = spotting; expected it only with task.name = events");
    free(s);
    assert_int_equal(rc_test_sh("%s run %s --out %s/x --set encoder.steps=10 2>%s", rc_test_bin(), cfg, g_dir, errf), 2);
    s = rc_test_slurp(errf, NULL);
    assert_contains(s, "encoder.steps has no effect for task.name = events");
    free(s);
    assert_int_equal(rc_test_sh("%s run %s --out %s/x --set task.channels=0 2>%s", rc_test_bin(), cfg, g_dir, errf), 2);
    s = rc_test_slurp(errf, NULL);
    assert_contains(s, "missing required key task.channels");
    free(s);
    /* A missing file is named with the folder a relative path is read from. */
    assert_int_equal(rc_test_sh("%s run %s --out %s/x --set task.test_file=nonexistent/shd_test.h5 2>%s", rc_test_bin(), cfg,
                                g_dir, errf), 2);
    s = rc_test_slurp(errf, NULL);
    char cwd[1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    char want[1200];
    snprintf(want, sizeof want, "task.test_file = nonexistent/shd_test.h5: no such file (relative to %s)", cwd);
    assert_contains(s, want);
    free(s);
    /* A data error exits 1, naming the file, the example and the channel. */
    assert_int_equal(rc_test_sh("%s run %s --out %s/x --set task.channels=20 2>%s", rc_test_bin(), cfg, g_dir, errf), 1);
    s = rc_test_slurp(errf, NULL);
    assert_contains(s, tr);
    assert_contains(s, "expected a channel in [0, 20) (task.channels = 20)");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step),
        cmocka_unit_test(test_shd_binning),
        cmocka_unit_test(test_flat_layout),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_make_shd),
        cmocka_unit_test(test_cli_train),
    };
    return cmocka_run_group_tests_name("events", tests, setup, teardown);
}
