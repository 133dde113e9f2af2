/* test_macs.c — the LSTM engine's executed-MAC counter (rc_example_result.macs,
 * summed into test.macs_per_example) against what really runs.
 *
 * This binary defines cblas_sgemm itself: every sgemm the engine issues
 * (linked from librcsim.a) lands here, adds M·N·K to a counter and goes on to
 * OpenBLAS's (dlsym RTLD_NEXT); the recurrent products run in rc_gemm
 * (models/gemm.h), whose calls reach the same counter through rc_gemm_hook.
 * So the count is of products executed, not of products planned. The head is plain C (no sgemm), input events are
 * scattered in plain C, so on a forward pass:
 *   sgemm MACs = Σ over rows of step t > 0: 4H·H   (recurrent; h_{−1} = 0 at t = 0)
 *              + Σ over rows of dense-input steps: nin·4H
 * and the counter must be that plus the events' 4H each (event-driven steps)
 * and the head's MACs per row.
 *
 * Fails on main 2bde1b8: the t = 0 recurrent product ran (sgemm count
 * rows·4H·H), and dense-input steps were counted at 4H per event. */
#include "tests/testutil.h"
#include <cblas.h>
#include <dlfcn.h>
#include <stdatomic.h>
#include "encoders/dataset.h"
#include "models/gemm.h"
#include "models/net.h"
#include "sim/engine.h"
#include "sim/pool.h"
#include "base/rng.h"

void openblas_set_num_threads(int);

static _Atomic unsigned long long g_sgemm_macs;
static _Atomic unsigned long long g_sgemm_calls;

static void count_gemm(int M, int N, int K)
{
    atomic_fetch_add(&g_sgemm_macs, (unsigned long long)M * (unsigned long long)N * (unsigned long long)K);
    atomic_fetch_add(&g_sgemm_calls, 1);
}

typedef void (*sgemm_fn)(const enum CBLAS_ORDER, const enum CBLAS_TRANSPOSE, const enum CBLAS_TRANSPOSE,
                         const blasint, const blasint, const blasint, const float, const float *, const blasint,
                         const float *, const blasint, const float, float *, const blasint);

void cblas_sgemm(const enum CBLAS_ORDER o, const enum CBLAS_TRANSPOSE ta, const enum CBLAS_TRANSPOSE tb,
                 const blasint M, const blasint N, const blasint K, const float alpha, const float *A,
                 const blasint lda, const float *B, const blasint ldb, const float beta, float *C,
                 const blasint ldc)
{
    static _Atomic(sgemm_fn) real;
    sgemm_fn f = atomic_load(&real);
    if (!f) {
        f = (sgemm_fn)dlsym(RTLD_NEXT, "cblas_sgemm");
        if (!f) abort();
        atomic_store(&real, f);
    }
    atomic_fetch_add(&g_sgemm_macs, (unsigned long long)M * (unsigned long long)N * (unsigned long long)K);
    atomic_fetch_add(&g_sgemm_calls, 1);
    f(o, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* Data: event density p per (step, channel), values in [−1, 1). */
static double g_density;

static rc_status tab_get(const rc_dataset *ds, rc_split split, int64_t index, rc_events *ev,
                         rc_example_info *info)
{
    (void)split;
    rc_status st = rc_events_reset(ev, ds->T);
    if (st) return st;
    for (int t = 0; t < ds->T; t++)
        for (int c = 0; c < ds->nin; c++)
            if (rc_uniform(9, 1, (uint64_t)index, (uint64_t)(t * 1024 + c)) < g_density)
                rc_events_push(ev, t, c, (float)(2.0 * rc_uniform(9, 2, (uint64_t)index, (uint64_t)(t * 1024 + c)) - 1.0));
    rc_events_finish(ev);
    info->label = (int)(rc_rand64(9, 3, (uint64_t)index, 0) % (uint64_t)ds->nclass);
    info->earliest = -1;
    return RC_OK;
}

typedef struct {
    double macs;        /* Σ res.macs */
    double events;      /* Σ res.events */
    int64_t rows;       /* Σ_t n_t */
    unsigned long long sgemm_macs, sgemm_calls;
} run_out;

/* One inference batch of n examples, LSTM-H with nin inputs, T steps, full
 * length (no stop at spike), on nth threads. */
static run_out run_batch(int H, int nin, int T, int n, int nth, double density, rc_net **netp)
{
    openblas_set_num_threads(1);
    g_density = density;
    rc_dataset ds = { .name = "table", .T = T, .nin = nin, .nclass = 3, .get = tab_get };
    rc_net_shape s = { .nin = nin, .H = H, .nhead = 1, .head = { 5 }, .K = 3 };
    rc_net *net = rc_net_new(&s, 7);
    rc_err err;
    rc_pool *pool = rc_pool_new(nth, RC_PLACE_SPREAD, &err);
    assert_non_null(pool);
    rc_engine *eng = rc_engine_new(net, &ds, pool, n, &err);
    assert_non_null(eng);
    int64_t idx[64];
    rc_example_result res[64];
    for (int i = 0; i < n; i++) idx[i] = i;
    rc_batch_opts o = { .train = 0, .stop_at_spike = 0, .loss_at_end = 1, .lstm.threshold = 1.0 };
    run_out r = { 0 };
    atomic_store(&g_sgemm_macs, 0);
    atomic_store(&g_sgemm_calls, 0);
    rc_gemm_hook = count_gemm;
    assert_int_equal(rc_engine_batch(eng, RC_SPLIT_TEST, idx, n, &o, res, &r.rows, &err), RC_OK);
    r.sgemm_macs = atomic_load(&g_sgemm_macs);
    r.sgemm_calls = atomic_load(&g_sgemm_calls);
    for (int i = 0; i < n; i++) {
        r.macs += res[i].macs;
        r.events += (double)res[i].events;
    }
    rc_engine_free(eng);
    rc_pool_free(pool);
    if (netp) *netp = net;
    else rc_net_free(net);
    return r;
}

static double head_macs(const rc_net *net)
{
    double m = 0;
    for (int l = 0; l < net->nlayers; l++) m += (double)net->hin[l] * net->hout[l];
    return m;
}

/* Event-driven inputs (nin < 32): no sgemm at step 0, and the counter is
 * the hand formula (rows − n)·4H·H + events·4H + rows·head. */
static void test_lstm_skips_h0_product(void **state)
{
    (void)state;
    const int H = 40, nin = 5, T = 7, n = 9;
    for (int nth = 1; nth <= 2; nth++) {
        rc_net *net;
        run_out r = run_batch(H, nin, T, n, nth, 0.4, &net);
        assert_int_equal(r.rows, (int64_t)n * T);
        const double rec = (double)(r.rows - n) * 4.0 * H * H;
        print_message("threads %d: sgemm MACs %llu (%llu calls), recurrent rows after step 0: %lld, hand %.0f\n",
                      nth, r.sgemm_macs, r.sgemm_calls, (long long)(r.rows - n), rec);
        assert_true((double)r.sgemm_macs == rec);
        const double want = rec + r.events * 4.0 * H + (double)r.rows * head_macs(net);
        print_message("threads %d: counted MACs %.0f, hand formula %.0f\n", nth, r.macs, want);
        assert_true(r.macs == want);
        rc_net_free(net);
    }
}

/* Dense inputs (nin ≥ 32, ≥ 1/4 of the channels carry an event at every
 * step): every step takes the input sgemm, so the counter (less the head)
 * must equal the sgemm count exactly. */
static void test_lstm_dense_input_macs(void **state)
{
    (void)state;
    const int H = 24, nin = 40, T = 6, n = 5;
    for (int nth = 1; nth <= 2; nth++) {
        rc_net *net;
        run_out r = run_batch(H, nin, T, n, nth, 0.6, &net);
        const double counted = r.macs - (double)r.rows * head_macs(net);
        const double want = (double)(r.rows - n) * 4.0 * H * H + (double)r.rows * nin * 4.0 * H;
        print_message("threads %d: counted MACs less head %.0f, sgemm MACs %llu, hand %.0f (events %.0f)\n",
                      nth, counted, r.sgemm_macs, want, r.events);
        assert_true(r.events < (double)r.rows * nin); /* the dense path multiplies zeros too */
        assert_true(counted == (double)r.sgemm_macs);
        assert_true((double)r.sgemm_macs == want);
        rc_net_free(net);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lstm_skips_h0_product),
        cmocka_unit_test(test_lstm_dense_input_macs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
