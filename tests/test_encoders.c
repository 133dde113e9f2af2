/* test_encoders.c — event streams and the synthetic tasks against brute force. */
#include "tests/testutil.h"
#include <string.h>
#include "base/rng.h"
#include "encoders/images.h"
#include "encoders/spotting.h"
#include "encoders/twoseq.h"
#include "base/events.h"

static void test_events_csr(void **st)
{
    (void)st;
    rc_events ev = { 0 };
    assert_int_equal(rc_events_reset(&ev, 6), RC_OK);
    rc_events_push(&ev, 1, 3, 1.0f);
    rc_events_push(&ev, 1, 4, 2.0f);
    rc_events_push(&ev, 4, 0, -1.0f);
    rc_events_finish(&ev);
    const int want[7] = { 0, 0, 2, 2, 2, 3, 3 };
    for (int t = 0; t <= 6; t++) assert_int_equal(ev.off[t], want[t]);
    assert_int_equal(ev.ch[1], 4);
    assert_true(ev.val[2] == -1.0f);
    /* Reuse: an empty stream has all offsets 0. */
    rc_events_reset(&ev, 6);
    rc_events_finish(&ev);
    for (int t = 0; t <= 6; t++) assert_int_equal(ev.off[t], 0);
    rc_events_free(&ev);
}

/* Independent brute force: every window of `run` equal values. */
static void brute(const int *bits, int T, int run, int *label, int *earliest)
{
    *label = 0;
    *earliest = -1;
    for (int end = run - 1; end < T; end++) {
        int same = 1;
        for (int k = end - run + 1; k < end; k++) same &= bits[k] == bits[end];
        if (same) { *label = 1; *earliest = end; return; }
    }
}

static void test_spotting_labels(void **st)
{
    (void)st;
    rc_dataset *ds = rc_spotting_new(123, 25, 5);
    rc_events ev = { 0 };
    int npos = 0, ones = 0;
    const int N = 5000;
    for (int i = 0; i < N; i++) {
        rc_example_info info;
        assert_int_equal(ds->get(ds, RC_SPLIT_TRAIN, i, &ev, &info), RC_OK);
        int bits[25] = { 0 };
        for (int t = 0; t < 25; t++)
            for (int e = ev.off[t]; e < ev.off[t + 1]; e++) {
                assert_int_equal(ev.ch[e], 0);
                assert_true(ev.val[e] == 1.0f);
                bits[t]++;
            }
        int label, earliest;
        for (int t = 0; t < 25; t++) { assert_true(bits[t] <= 1); ones += bits[t]; }
        brute(bits, 25, 5, &label, &earliest);
        assert_int_equal(info.label, label);
        assert_int_equal(info.earliest, earliest);
        npos += label;
    }
    /* Bernoulli(0.5): about half the steps spike. */
    assert_true(fabs((double)ones / (25.0 * N) - 0.5) < 0.01);
    /* P(a run of >= 5 equal values in 25 fair flips) = 0.5496 (exact, by DP). */
    assert_true(fabs((double)npos / N - 0.5496) < 0.02);
    rc_events_free(&ev);
    rc_dataset_free(ds);
}

static void test_determinism(void **st)
{
    (void)st;
    rc_dataset *ds = rc_twoseq_new(9, 40, 0.05, 0.05, 0.25);
    rc_events a = { 0 }, b = { 0 };
    rc_example_info ia, ib;
    ds->get(ds, RC_SPLIT_VAL, 77, &a, &ia);
    ds->get(ds, RC_SPLIT_TRAIN, 5, &b, &ib); /* something else in between */
    ds->get(ds, RC_SPLIT_VAL, 77, &b, &ib);
    assert_int_equal(a.nev, b.nev);
    assert_memory_equal(a.val, b.val, (size_t)a.nev * sizeof(float));
    assert_int_equal(ia.label, ib.label);
    ds->get(ds, RC_SPLIT_TEST, 77, &b, &ib); /* another split: other data */
    assert_true(memcmp(a.val, b.val, (size_t)a.nev * sizeof(float)) != 0);
    rc_events_free(&a);
    rc_events_free(&b);
    rc_dataset_free(ds);
}

static void test_twoseq_stats(void **st)
{
    (void)st;
    rc_dataset *ds = rc_twoseq_new(4, 40, 0.05, 0.05, 0.25);
    rc_events ev = { 0 };
    const int N = 4000;
    int npos = 0;
    double signed_mean = 0, minsd = 1e9, maxsd = 0;
    for (int i = 0; i < N; i++) {
        rc_example_info info;
        ds->get(ds, RC_SPLIT_TRAIN, i, &ev, &info);
        assert_int_equal(ev.nev, 40);
        for (int t = 0; t < 40; t++) assert_int_equal(ev.off[t], t);
        double s = 0, s2 = 0;
        for (int e = 0; e < 40; e++) { s += ev.val[e]; s2 += (double)ev.val[e] * ev.val[e]; }
        double m = s / 40, sd = sqrt(s2 / 40 - m * m);
        minsd = fmin(minsd, sd);
        maxsd = fmax(maxsd, sd);
        signed_mean += info.label ? m : -m;
        npos += info.label;
    }
    signed_mean /= N;
    assert_true(fabs((double)npos / N - 0.5) < 0.03);
    /* E[m·sign] = 0.05; its standard error over N sequences is ~0.0003. */
    assert_true(fabs(signed_mean - 0.05) < 0.003);
    /* Sample σ of 40 draws stays near [0.05, 0.25]. */
    assert_true(minsd > 0.025 && minsd < 0.07);
    assert_true(maxsd > 0.2 && maxsd < 0.4);
    rc_events_free(&ev);
    rc_dataset_free(ds);
}

/* Latency code against a brute-force reference: the step is the largest t
 * with t·255 <= (255 − v)·T, i.e. ⌊(1 − v/255)·T⌋ in exact arithmetic. */
static void test_latency_steps(void **st)
{
    (void)st;
    for (int T = 1; T <= 32; T++)
        for (int v = 0; v <= 255; v++) {
            int want = -1;
            if (v > 0) {
                want = 0;
                while ((want + 1) * 255 <= (255 - v) * T) want++;
                if (want > T - 1) want = T - 1;
            }
            assert_int_equal(rc_latency_step(v, T, 0), want);
            assert_int_equal(rc_latency_step(v, T, 1), v ? want : T - 1);
        }
    /* The float trap of DESIGN.md: v = 204, T = 10 is exactly step 2. */
    assert_int_equal(rc_latency_step(204, 10, 0), 2);
    assert_int_equal(rc_latency_step(153, 10, 0), 4);
    assert_int_equal(rc_latency_step(255, 10, 0), 0);
    assert_int_equal(rc_latency_step(1, 10, 0), 9);
}

static void test_latency_events(void **st)
{
    (void)st;
    /* Two 2x3 images; the dataset takes ownership of the arrays. */
    const uint8_t img[2][6] = { { 0, 255, 204, 1, 0, 128 }, { 9, 9, 9, 9, 9, 9 } };
    uint8_t *trp = malloc(12), *trl = malloc(2), *tep = malloc(6), *tel = malloc(1);
    memcpy(trp, img, 12);
    trl[0] = 3; trl[1] = 7;
    memcpy(tep, img[0], 6);
    tel[0] = 1;
    rc_dataset *ds = rc_latency_new(1, 10, 0, 6, 10, trp, trl, 2, 1, tep, tel, 1);
    assert_int_equal(ds->size[RC_SPLIT_TRAIN], 1);
    assert_int_equal(ds->size[RC_SPLIT_VAL], 1);
    rc_events ev = { 0 };
    rc_example_info info;
    assert_int_equal(ds->get(ds, RC_SPLIT_TRAIN, 0, &ev, &info), RC_OK);
    assert_int_equal(info.label, 3);
    /* pixel 1 (255) at step 0, pixel 2 (204) at 2, pixel 5 (128) at 4, pixel 3 (1) at 9. */
    const int want_t[4] = { 0, 2, 4, 9 }, want_ch[4] = { 1, 2, 5, 3 };
    assert_int_equal(ev.nev, 4);
    for (int k = 0; k < 4; k++) {
        assert_int_equal(ev.ch[k], want_ch[k]);
        assert_true(ev.off[want_t[k]] <= k && k < ev.off[want_t[k] + 1]);
    }
    assert_int_equal(ds->get(ds, RC_SPLIT_VAL, 0, &ev, &info), RC_OK); /* the last training image */
    assert_int_equal(info.label, 7);
    assert_int_equal(ev.nev, 6);
    assert_int_equal(ev.off[9] , 0); /* v = 9: step ((246·10)/255) = 9 */
    assert_int_equal(ds->get(ds, RC_SPLIT_TEST, 0, &ev, &info), RC_OK);
    assert_int_equal(info.label, 1);
    rc_events_free(&ev);
    rc_dataset_free(ds);
}

/* Every split's events against a reference built from the pixels (step by
 * rc_latency_step, then pixel order), value 1, for random images: the
 * validation and test examples come from a cache encoded at creation, the
 * training ones are encoded on each call; both must be these events. Read
 * in a scrambled order into one reused rc_events. */
static void test_latency_all_splits(void **st)
{
    (void)st;
    const int npix = 50, ntrain = 40, nval = 15, ntest = 20;
    for (int cfg = 0; cfg < 2; cfg++) {
        const int T = cfg ? 7 : 10, zl = cfg;
        uint8_t *trp = malloc((size_t)ntrain * npix), *trl = malloc(ntrain), *tep = malloc((size_t)ntest * npix);
        uint8_t *tel = malloc(ntest);
        assert_non_null(trp); assert_non_null(trl); assert_non_null(tep); assert_non_null(tel);
        for (int i = 0; i < ntrain * npix; i++) trp[i] = rc_uniform(3, 1, (uint64_t)i, 0) < 0.6 ? 0 : (uint8_t)(rc_uniform(3, 2, (uint64_t)i, 0) * 256);
        for (int i = 0; i < ntest * npix; i++) tep[i] = rc_uniform(4, 1, (uint64_t)i, 0) < 0.6 ? 0 : (uint8_t)(rc_uniform(4, 2, (uint64_t)i, 0) * 256);
        for (int i = 0; i < ntrain; i++) trl[i] = (uint8_t)(i % 10);
        for (int i = 0; i < ntest; i++) tel[i] = (uint8_t)((i * 3) % 10);
        uint8_t *ref_tr = malloc((size_t)ntrain * npix), *ref_te = malloc((size_t)ntest * npix);
        memcpy(ref_tr, trp, (size_t)ntrain * npix);
        memcpy(ref_te, tep, (size_t)ntest * npix);
        rc_dataset *ds = rc_latency_new(5, T, zl, npix, 10, trp, trl, ntrain, nval, tep, tel, ntest);
        assert_non_null(ds);
        rc_events ev = { 0 };
        rc_example_info info;
        int checked = 0;
        for (int sp = 0; sp < 3; sp++) {
            const int64_t n = ds->size[sp];
            for (int64_t j = 0; j < n; j++) {
                const int64_t i = (j * 7 + 3) % n; /* scrambled */
                const uint8_t *img = sp == RC_SPLIT_TEST ? ref_te + i * npix
                                   : ref_tr + (sp == RC_SPLIT_VAL ? ntrain - nval + i : i) * npix;
                assert_int_equal(ds->get(ds, (rc_split)sp, i, &ev, &info), RC_OK);
                assert_int_equal(info.label, sp == RC_SPLIT_TEST ? (int)((i * 3) % 10)
                                             : (int)((sp == RC_SPLIT_VAL ? ntrain - nval + i : i) % 10));
                int k = 0;
                for (int t = 0; t < T; t++) {
                    assert_int_equal(ev.off[t], k);
                    for (int q = 0; q < npix; q++)
                        if (rc_latency_step(img[q], T, zl) == t) {
                            assert_true(k < ev.nev);
                            assert_int_equal(ev.ch[k], q);
                            assert_true(ev.val[k] == 1.0f);
                            k++;
                        }
                }
                assert_int_equal(ev.off[T], k);
                assert_int_equal(ev.nev, k);
                checked++;
            }
        }
        assert_int_equal(checked, ntrain + ntest);
        rc_events_free(&ev);
        rc_dataset_free(ds);
        free(ref_tr); free(ref_te);
    }
}

/* Rate code: each pixel spikes at each step with probability v/255; the same
 * (split, index) gives the same train, other indices or seeds other trains;
 * dark pixels never spike, v = 255 always does. */
static void test_rate_events(void **st)
{
    (void)st;
    const int T = 2000;
    const uint8_t img[2][4] = { { 0, 255, 64, 191 }, { 128, 128, 128, 128 } };
    uint8_t *trp = malloc(8), *trl = malloc(2), *tep = malloc(4), *tel = malloc(1);
    memcpy(trp, img, 8);
    trl[0] = 2; trl[1] = 5;
    memcpy(tep, img[0], 4);
    tel[0] = 4;
    rc_dataset *ds = rc_rate_new(7, T, 4, 10, trp, trl, 2, 1, tep, tel, 1);
    rc_events a = { 0 }, b = { 0 };
    rc_example_info info;
    assert_int_equal(ds->get(ds, RC_SPLIT_TRAIN, 0, &a, &info), RC_OK);
    assert_int_equal(info.label, 2);
    int cnt[4] = { 0 };
    for (int e = 0; e < a.nev; e++) cnt[a.ch[e]]++;
    assert_int_equal(cnt[0], 0);
    assert_int_equal(cnt[1], T);
    assert_true(fabs(cnt[2] / (double)T - 64 / 255.0) < 0.03);
    assert_true(fabs(cnt[3] / (double)T - 191 / 255.0) < 0.03);
    assert_int_equal(ds->get(ds, RC_SPLIT_TRAIN, 0, &b, &info), RC_OK);
    assert_int_equal(a.nev, b.nev);
    assert_memory_equal(a.ch, b.ch, (size_t)a.nev * sizeof *a.ch);
    assert_memory_equal(a.off, b.off, (size_t)(T + 1) * sizeof *a.off);
    /* The test image is the same picture, drawn from another stream. */
    assert_int_equal(ds->get(ds, RC_SPLIT_TEST, 0, &b, &info), RC_OK);
    assert_int_equal(info.label, 4);
    assert_true(a.nev != b.nev || memcmp(a.ch, b.ch, (size_t)a.nev * sizeof *a.ch) != 0);
    rc_events_free(&a);
    rc_events_free(&b);
    rc_dataset_free(ds);
}

/* The latency code's step map of a 4x4 picture (T = 255: value v spikes at
 * step 255 − v, so every distinct value has its own step); −1 = no event. */
static void step_map(const rc_events *ev, int map[16], float *val)
{
    for (int k = 0; k < 16; k++) map[k] = -1;
    for (int t = 0; t < 255; t++)
        for (int e = ev->off[t]; e < ev->off[t + 1]; e++) {
            assert_int_equal(map[ev->ch[e]], -1); /* one spike per pixel */
            map[ev->ch[e]] = t;
            *val = ev->val[e];
        }
}

/* Training augmentation: each pass of a training image is the image moved by
 * one of the (2·shift + 1)² translations (found by trying all of them), all of
 * them occur, the same pass gives the same events, validation and test are
 * untouched; drop keeps a subset at value 1/(1 − drop), about 1 − drop of it. */
static void test_latency_augment(void **st)
{
    (void)st;
    uint8_t *trp = malloc(32), *trl = malloc(2), *tep = malloc(16), *tel = malloc(1);
    for (int k = 0; k < 32; k++) trp[k] = (uint8_t)(10 + 7 * k);
    for (int k = 0; k < 16; k++) tep[k] = trp[k];
    trl[0] = 3; trl[1] = 4; tel[0] = 5;
    rc_dataset *ds = rc_latency_new(9, 255, 0, 16, 10, trp, trl, 2, 1, tep, tel, 1);
    rc_err err = { 0 };
    assert_int_equal(rc_images_set_aug(ds, 4, 4, 4, 0, &err), RC_ERR_USAGE);
    assert_int_equal(rc_images_set_aug(ds, 4, 4, 1, 1.0, &err), RC_ERR_USAGE);
    assert_int_equal(rc_images_set_aug(ds, 4, 4, 1, 0, &err), RC_OK);
    assert_true(ds->train_pass_index);
    rc_events ev = { 0 };
    rc_example_info info;
    int seen[9] = { 0 }, map[16], again[16];
    float v = 0;
    for (int u = 0; u < 200; u++) {
        assert_int_equal(ds->get(ds, RC_SPLIT_TRAIN, u, &ev, &info), RC_OK);
        assert_int_equal(info.label, 3);
        step_map(&ev, map, &v);
        assert_true(v == 1.0f);
        int hits = 0;
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                int ok = 1;
                for (int y = 0; y < 4; y++)
                    for (int x = 0; x < 4; x++) {
                        const int sy = y - dy, sx = x - dx;
                        const int want = sy >= 0 && sy < 4 && sx >= 0 && sx < 4 ? 255 - trp[sy * 4 + sx] : -1;
                        ok &= map[y * 4 + x] == want;
                    }
                if (ok) seen[(dy + 1) * 3 + dx + 1]++, hits++;
            }
        assert_int_equal(hits, 1);
        assert_int_equal(ds->get(ds, RC_SPLIT_TRAIN, u, &ev, &info), RC_OK);
        step_map(&ev, again, &v);
        assert_memory_equal(map, again, sizeof map);
    }
    for (int k = 0; k < 9; k++) assert_true(seen[k] > 5);
    assert_int_equal(ds->get(ds, RC_SPLIT_VAL, 0, &ev, &info), RC_OK);
    step_map(&ev, map, &v);
    for (int k = 0; k < 16; k++) assert_int_equal(map[k], 255 - trp[16 + k]);
    assert_int_equal(ds->get(ds, RC_SPLIT_TEST, 0, &ev, &info), RC_OK);
    step_map(&ev, map, &v);
    for (int k = 0; k < 16; k++) assert_int_equal(map[k], 255 - tep[k]);
    /* drop only */
    assert_int_equal(rc_images_set_aug(ds, 4, 4, 0, 0.25, &err), RC_OK);
    int kept = 0;
    for (int u = 0; u < 400; u++) {
        assert_int_equal(ds->get(ds, RC_SPLIT_TRAIN, u, &ev, &info), RC_OK);
        step_map(&ev, map, &v);
        for (int k = 0; k < 16; k++) {
            assert_true(map[k] == -1 || map[k] == 255 - trp[k]);
            kept += map[k] >= 0;
        }
        if (ev.nev) assert_true(v == (float)(1.0 / 0.75));
    }
    assert_true(fabs(kept / 6400.0 - 0.75) < 0.02);
    rc_events_free(&ev);
    rc_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_csr),
        cmocka_unit_test(test_spotting_labels),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_twoseq_stats),
        cmocka_unit_test(test_latency_steps),
        cmocka_unit_test(test_latency_events),
        cmocka_unit_test(test_latency_all_splits),
        cmocka_unit_test(test_rate_events),
        cmocka_unit_test(test_latency_augment),
    };
    return cmocka_run_group_tests_name("encoders", tests, NULL, NULL);
}
