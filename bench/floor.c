/* floor.c — how far the LSTM training step is from the machine's product rate.
 *
 * 1. Measures sgemm and rc_gemm (models/gemm.h, which runs the LSTM's
 *    recurrent products) throughput (GMAC/s) on a large square product, with
 *    1 thread and with N threads calling it concurrently (OpenBLAS serial
 *    inside each); the faster is the best a dense LSTM step could do here.
 * 2. Times full-length training batches (EOS: every step computed) of an
 *    LSTM-H on a T-step, 1-input task with batch B, for 1 and N threads of
 *    the rcsim pool, and reports the multiply-accumulates actually needed
 *    (3 · 4H·H per row-step after step 0, where h_{−1} = 0 and none of the
 *    three products runs: forward, ∂h and ∂W) per second, as a fraction of
 *    the faster measured rate.
 * Prints the OpenBLAS core in use (OPENBLAS_CORETYPE can force it).
 *
 *   build/bench/floor [H] [B] [T] [threads]      (defaults 125 128 25 2)  */
#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "base/clock.h"
#include "encoders/twoseq.h"
#include "models/gemm.h"
#include "models/net.h"
#include "sim/engine.h"
#include "sim/pool.h"

void openblas_set_num_threads(int);
char *openblas_get_corename(void);

enum { SZ = 512, REPS = 40 };
static void *gemm_worker(void *arg)
{
    const int rc = arg != NULL;
    float *a = calloc(SZ * SZ, 4), *b = calloc(SZ * SZ, 4), *c = calloc(SZ * SZ, 4);
    for (int i = 0; i < SZ * SZ; i++) { a[i] = 1e-3f * (float)(i % 97); b[i] = 1e-3f * (float)(i % 89); }
    for (int r = 0; r < REPS; r++) {
        if (rc) rc_gemm(SZ, SZ, SZ, a, SZ, 1, b, SZ, c, SZ, 0);
        else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, SZ, SZ, SZ, 1, a, SZ, b, SZ, 0, c, SZ);
    }
    free(a); free(b); free(c);
    return NULL;
}

static double gemm_rate(int nt, int rc)
{
    pthread_t th[64];
    double t0 = rc_now_s();
    for (int i = 0; i < nt; i++) pthread_create(&th[i], NULL, gemm_worker, rc ? (void *)1 : NULL);
    for (int i = 0; i < nt; i++) pthread_join(th[i], NULL);
    return (double)nt * REPS * SZ * SZ * SZ / (rc_now_s() - t0) / 1e9;
}

int main(int argc, char **argv)
{
    const int H = argc > 1 ? atoi(argv[1]) : 125, B = argc > 2 ? atoi(argv[2]) : 128;
    const int T = argc > 3 ? atoi(argv[3]) : 25, NT = argc > 4 ? atoi(argv[4]) : 2;
    openblas_set_num_threads(1);
    printf("OpenBLAS core: %s\n", openblas_get_corename());
    gemm_rate(1, 0); /* warm up */
    const double s1 = gemm_rate(1, 0), sn = gemm_rate(NT, 0), r1 = gemm_rate(1, 1), rn = gemm_rate(NT, 1);
    printf("sgemm %dx%dx%d: %.1f GMAC/s on 1 thread, %.1f GMAC/s on %d threads\n", SZ, SZ, SZ, s1, sn, NT);
    printf("rc_gemm (%s) %dx%dx%d: %.1f GMAC/s on 1 thread, %.1f GMAC/s on %d threads\n", rc_gemm_isa(), SZ, SZ,
           SZ, r1, rn, NT);
    const double g1 = s1 > r1 ? s1 : r1, gn = sn > rn ? sn : rn;
    rc_dataset *ds = rc_twoseq_new(1, T, 0.05, 0.05, 0.25);
    rc_net_shape s = { .nin = 1, .H = H, .K = 1 };
    for (int nt = 1; nt <= NT; nt += NT - 1 > 0 ? NT - 1 : 1) {
        rc_err err;
        rc_pool *pool = rc_pool_new(nt, RC_PLACE_SPREAD, &err);
        rc_net *net = rc_net_new(&s, 1);
        rc_engine *eng = rc_engine_new(net, ds, pool, B, &err);
        int64_t *idx = malloc((size_t)B * sizeof *idx);
        rc_example_result *res = malloc((size_t)B * sizeof *res);
        rc_batch_opts o = { .train = 1, .stop_at_spike = 0, .loss_at_end = 1, .lstm.threshold = 1.0 };
        int nb = 0;
        double t0 = 0;
        for (int b = 0; b < 60; b++) {
            if (b == 10) t0 = rc_now_s(); /* warm-up batches */
            for (int i = 0; i < B; i++) idx[i] = (int64_t)b * B + i;
            rc_net_zero_grad(net);
            rc_engine_batch(eng, RC_SPLIT_TRAIN, idx, B, &o, res, NULL, &err);
            rc_engine_adam(eng, 1e-4, 0.9, 0.999, 1e-8, 0, b + 1);
            if (b >= 10) nb++;
        }
        const double dt = rc_now_s() - t0;
        const double macs = 3.0 * 4.0 * H * (double)H * (T - 1) * B * nb;
        const double floor_rate = nt == 1 ? g1 : gn;
        printf("LSTM-%d B=%d T=%d training, %d thread%s: %.0f examples/s, %.1f GMAC/s = %.0f%% of the floor (%.0f examples/s)\n",
               H, B, T, nt, nt > 1 ? "s" : "", B * nb / dt, macs / dt / 1e9,
               100.0 * macs / dt / 1e9 / floor_rate, floor_rate * 1e9 / (3.0 * 4.0 * H * (double)H * (T - 1)));
        free(idx); free(res);
        rc_engine_free(eng); rc_net_free(net); rc_pool_free(pool);
        if (NT == 1) break;
    }
    rc_dataset_free(ds);
    return 0;
}
