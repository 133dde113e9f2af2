/* test_engine_team.c — whole batches per thread (sim/engine_team.h) give the
 * same results, bit for bit, as one engine running the same batches in
 * order: LSTM, delta LSTM, ConvLSTM and LIF, RC-inference and full-length,
 * on 2 and 3 threads, from example 0 and from an offset. A failing example
 * is reported as the lowest failing batch's error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "base/rng.h"
#include "sim/engine_team.h"

void openblas_set_num_threads(int);

enum { T_ = 8, SIDE = 8, NPIX = SIDE * SIDE, NCLASS = 4, BATCH = 7, COUNT = 61, MAXEX = 200 };

/* Examples whose loading fails (−1: none). */
static int64_t fail_a = -1, fail_b = -1;

/* Random events, about a fifth of the pixels per step, values in [0.2, 1.2);
 * the label a function of the index. */
static rc_status img_get(const rc_dataset *ds, rc_split split, int64_t index, rc_events *ev, rc_example_info *info)
{
    (void)ds;
    if (index == fail_a || index == fail_b) return RC_ERR_IO;
    rc_status st = rc_events_reset(ev, T_);
    if (st) return st;
    const uint64_t key = (uint64_t)index * 3 + (uint64_t)split;
    for (int t = 0; t < T_; t++)
        for (int c = 0; c < NPIX; c++)
            if (rc_uniform(21, key, (uint64_t)t, (uint64_t)c) < 0.2)
                rc_events_push(ev, t, c, (float)(0.2 + rc_uniform(22, key, (uint64_t)t, (uint64_t)c)));
    rc_events_finish(ev);
    info->label = (int)(index % NCLASS);
    info->earliest = -1;
    return RC_OK;
}

static rc_dataset dataset(void)
{
    return (rc_dataset){ .name = "img", .T = T_, .nin = NPIX, .nclass = NCLASS, .rows = SIDE, .cols = SIDE,
                         .size = { MAXEX, MAXEX, MAXEX }, .get = img_get };
}

typedef enum { M_LSTM, M_CONVLSTM, M_LIF } model;

static rc_net *make_net(model m)
{
    rc_net_shape s = { .nin = NPIX, .K = NCLASS };
    float gain = 3.0f;
    if (m == M_LSTM) {
        s.core = RC_CORE_LSTM;
        s.H = 24;
    } else if (m == M_CONVLSTM) {
        s.core = RC_CORE_CONVLSTM;
        s.conv = (rc_convlstm_shape){ .C = 4, .Cin = 1, .Hh = SIDE, .Ww = SIDE, .k = 3 };
        s.H = 4 * NPIX;
        gain = 5.0f;
    } else {
        char msg[256];
        s.core = RC_CORE_LIF;
        assert_int_equal(rc_lif_parse(&s.snn, "fc16 fc4", 1, SIDE, SIDE, msg, sizeof msg), 0);
        s.snn.vth = 0.5f;
        s.snn.tau = 0.2f;
        s.snn.lens = 0.5f;
        s.snn.reset = RC_RESET_MULT;
        s.snn.surr = RC_LIF_SURR_RECT;
        s.H = 16;
        gain = 2.0f;
    }
    rc_net *net = rc_net_new(&s, 5);
    assert_non_null(net);
    for (size_t i = 0; i < net->nparams; i++) net->params[i] *= gain;
    return net;
}

static void same_result(const rc_example_result *a, const rc_example_result *b, int64_t i)
{
    const int same = a->label == b->label && a->earliest == b->earliest && a->spiked == b->spiked &&
                     a->tsp == b->tsp && a->pred == b->pred && a->pred_end == b->pred_end &&
                     !memcmp(&a->loss, &b->loss, sizeof a->loss) && a->events == b->events &&
                     a->hevents == b->hevents && a->hslots == b->hslots &&
                     !memcmp(&a->macs, &b->macs, sizeof a->macs) &&
                     !memcmp(&a->macs_dense, &b->macs_dense, sizeof a->macs_dense) && a->synops == b->synops;
    if (!same)
        fail_msg("example %lld: team tsp %d pred %d events %lld macs %.17g, engine tsp %d pred %d events %lld macs %.17g",
                 (long long)i, a->tsp, a->pred, (long long)a->events, a->macs, b->tsp, b->pred, (long long)b->events,
                 b->macs);
}

/* One engine on one thread over the batches of [first, first+count), in order. */
static int64_t reference(rc_net *net, const rc_dataset *ds, int64_t first, int64_t count, const rc_batch_opts *o,
                         rc_example_result *res)
{
    rc_err err;
    rc_pool *pool = rc_pool_new(1, RC_PLACE_SPREAD, &err);
    assert_non_null(pool);
    rc_engine *eng = rc_engine_new(net, ds, pool, BATCH, &err);
    assert_non_null(eng);
    int64_t rows = 0, idx[BATCH];
    for (int64_t i = 0; i < count; i += BATCH) {
        const int n = (int)(count - i < BATCH ? count - i : BATCH);
        for (int j = 0; j < n; j++) idx[j] = first + i + j;
        int64_t r = 0;
        assert_int_equal(rc_engine_batch(eng, RC_SPLIT_TEST, idx, n, o, res + i, &r, &err), RC_OK);
        rows += r;
    }
    rc_engine_free(eng);
    rc_pool_free(pool);
    return rows;
}

static void check_model(model m, const rc_batch_opts *o)
{
    openblas_set_num_threads(1);
    rc_dataset ds = dataset();
    rc_net *net = make_net(m);
    static rc_example_result ref[COUNT], got[COUNT];
    for (int nth = 2; nth <= 3; nth++)
        for (int64_t first = 0; first <= 5; first += 5) {
            const int64_t want_rows = reference(net, &ds, first, COUNT, o, ref);
            /* The comparison can tell models apart: answers at several steps. */
            int early = 0, late = 0;
            for (int i = 0; i < COUNT; i++) {
                if (ref[i].tsp < T_ - 1) early++;
                else late++;
            }
            if (o->stop_at_spike && !(early > 0 && late > 0)) fail_msg("early %d late %d", early, late);
            rc_err err;
            rc_pool *pool = rc_pool_new(nth, RC_PLACE_SPREAD, &err);
            assert_non_null(pool);
            rc_engine_team *t = rc_engine_team_new(net, &ds, pool, BATCH, &err);
            assert_non_null(t);
            assert_int_equal(rc_engine_team_size(t), nth);
            memset(got, 0xff, sizeof got);
            int64_t rows = -1;
            assert_int_equal(rc_engine_team_run(t, RC_SPLIT_TEST, first, COUNT, o, got, &rows, &err), RC_OK);
            assert_int_equal(rows, want_rows);
            for (int64_t i = 0; i < COUNT; i++) same_result(&got[i], &ref[i], i);
            /* A second run on the same team (engines reused). */
            assert_int_equal(rc_engine_team_run(t, RC_SPLIT_TEST, first, COUNT, o, got, &rows, &err), RC_OK);
            for (int64_t i = 0; i < COUNT; i++) same_result(&got[i], &ref[i], i);
            rc_engine_team_free(t);
            rc_pool_free(pool);
        }
    rc_net_free(net);
}

static void test_lstm(void **st)
{
    (void)st;
    rc_batch_opts o = { .stop_at_spike = 1, .lstm.threshold = 0.6 };
    check_model(M_LSTM, &o);
    o.stop_at_spike = 0;
    check_model(M_LSTM, &o);
}

static void test_delta_lstm(void **st)
{
    (void)st;
    rc_batch_opts o = { .stop_at_spike = 1, .lstm = { .threshold = 0.6, .delta_x = 0.3, .delta_h = 0.05 } };
    check_model(M_LSTM, &o);
}

static void test_convlstm(void **st)
{
    (void)st;
    rc_batch_opts o = { .stop_at_spike = 1, .lstm.threshold = 0.6 };
    check_model(M_CONVLSTM, &o);
    o.lstm.delta_h = 0.05;
    check_model(M_CONVLSTM, &o);
}

static void test_lif(void **st)
{
    (void)st;
    rc_batch_opts o = { .stop_at_spike = 1, .lif.vth_scale = 1 };
    check_model(M_LIF, &o);
}

/* Two failing examples (batches 2 and 3, taken at about the same time): the run fails with the error of
 * batch 2, the lowest, whichever thread met which first. */
static void test_failure(void **st)
{
    (void)st;
    rc_dataset ds = dataset();
    rc_net *net = make_net(M_LSTM);
    rc_err err;
    rc_pool *pool = rc_pool_new(3, RC_PLACE_SPREAD, &err);
    rc_engine_team *t = rc_engine_team_new(net, &ds, pool, BATCH, &err);
    assert_non_null(t);
    static rc_example_result got[COUNT];
    rc_batch_opts o = { .stop_at_spike = 1, .lstm.threshold = 0.6 };
    fail_a = 3 * BATCH + 3;
    fail_b = 2 * BATCH + 1;
    for (int rep = 0; rep < 20; rep++) {
        err.msg[0] = 0;
        assert_int_equal(rc_engine_team_run(t, RC_SPLIT_TEST, 0, COUNT, &o, got, NULL, &err), RC_ERR_IO);
        char want[64];
        snprintf(want, sizeof want, "loading example %d:", 2 * BATCH + 1);
        if (!strstr(err.msg, want)) fail_msg("expected \"%s\" in \"%s\"", want, err.msg);
    }
    fail_a = fail_b = -1;
    assert_int_equal(rc_engine_team_run(t, RC_SPLIT_TEST, 0, COUNT, &o, got, NULL, &err), RC_OK);
    rc_engine_team_free(t);
    rc_pool_free(pool);
    rc_net_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lstm),
        cmocka_unit_test(test_delta_lstm),
        cmocka_unit_test(test_convlstm),
        cmocka_unit_test(test_lif),
        cmocka_unit_test(test_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
