/* convdelta_switch.c — where the delta ConvLSTM's hidden events of a row
 * should go as im2col + one sgemm instead of k×k tap columns
 * (sim/engine_convlstm_delta.c, RC_CONVLSTM_DELTA_DENSE_SHARE): times
 * rc_convlstm_forward_delta on one thread for a share of a row's hidden
 * units sending an event, both ways (no input events, so the step is the
 * recurrent update, the transposes into gate order and the gates).
 *
 *   build/bench/convdelta_switch [C] [rows] [reps] [k]   (default 20 16 5 5)
 *
 * Prints, per share: ms per step for the sparse taps and the sgemm, and
 * each path's rate in GMAC/s on the recurrent MACs it executes (taps
 * outside the map counted, as the engine's counter does). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/clock.h"
#include "base/rng.h"
#include "models/convlstm.h"

void openblas_set_num_threads(int);

static double time_step(const rc_convlstm_delta *d, float *act, float *c, float *h, const float *cp,
                        const rc_step_input *in, const float *w_x, const float *w_h, int n,
                        const rc_convlstm_shape *s, float *scratch, int reps)
{
    double best = 1e30;
    for (int k = 0; k < reps; k++) {
        const double t0 = rc_now_s();
        rc_convlstm_forward_delta(act, c, h, NULL, cp, in, w_x, w_h, d, 0, n, s, scratch);
        const double dt = rc_now_s() - t0;
        if (dt < best) best = dt;
    }
    return best;
}

int main(int argc, char **argv)
{
    const int C = argc > 1 ? atoi(argv[1]) : 20, n = argc > 2 ? atoi(argv[2]) : 16;
    const int reps = argc > 3 ? atoi(argv[3]) : 5, k = argc > 4 ? atoi(argv[4]) : 5;
    const rc_convlstm_shape s = { .C = C, .Cin = 1, .Hh = 28, .Ww = 28, .k = k };
    const int P = s.Hh * s.Ww, G = 4 * C, CP = C * P, KK = k * k;
    openblas_set_num_threads(1);
    float *w_h = malloc(sizeof(float) * (size_t)G * C * KK), *w_hT = malloc(sizeof(float) * (size_t)G * C * KK);
    float *w_x = calloc((size_t)G * KK, sizeof(float)), *b = calloc((size_t)G, sizeof(float));
    float *mem = calloc((size_t)n * P * G, sizeof(float)), *act = malloc(sizeof(float) * (size_t)n * 4 * CP);
    float *dlt = calloc((size_t)n * CP, sizeof(float)), *c = malloc(sizeof(float) * (size_t)n * CP);
    float *h = malloc(sizeof(float) * (size_t)n * CP), *cp = calloc((size_t)n * CP, sizeof(float));
    float *scratch = malloc(sizeof(float) * rc_convlstm_scratch_floats(&s));
    int *slot = malloc(sizeof(int) * (size_t)n);
    unsigned char *dense = calloc((size_t)n, 1);
    for (size_t i = 0; i < (size_t)G * C * KK; i++) w_h[i] = (float)(rc_uniform(1, 1, i, 0) - 0.5) * 0.1f;
    rc_convlstm_transpose(w_hT, w_h, C, 0, C * KK, &s);
    for (int r = 0; r < n; r++) slot[r] = r;
    int *begs = calloc((size_t)n, sizeof(int)), *ends = calloc((size_t)n, sizeof(int));
    const int32_t **chs = calloc((size_t)n, sizeof *chs);
    const float **vals = calloc((size_t)n, sizeof *vals);
    rc_step_input in = { begs, ends, chs, vals, NULL, NULL, 0 };
    printf("delta ConvLSTM recurrent update, C = %d, 28x28, k = %d, %d rows, 1 thread, best of %d\n", C, k, n, reps);
    printf("%6s %10s %10s %12s %12s\n", "share", "sparse ms", "sgemm ms", "sparse GMAC/s", "sgemm GMAC/s");
    const double shares[] = { 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.6 };
    for (size_t si = 0; si < sizeof shares / sizeof shares[0]; si++) {
        int64_t tot = 0;
        for (int r = 0; r < n; r++)
            for (int u = 0; u < CP; u++) {
                const int ev = rc_uniform(2, (uint64_t)si, (uint64_t)r, (uint64_t)u) < shares[si];
                dlt[(size_t)r * CP + u] = ev ? 0.25f : 0.0f;
                tot += ev;
            }
        rc_convlstm_delta sp = { .mem = mem, .slot = slot, .init = 1, .b = b, .dlt = dlt, .w_hT = w_hT,
                                 .dense_min = CP + 1, .dense = dense }, de = sp;
        de.dense_min = 1;
        const double ts = time_step(&sp, act, c, h, cp, &in, w_x, w_h, n, &s, scratch, reps);
        const double td = time_step(&de, act, c, h, cp, &in, w_x, w_h, n, &s, scratch, reps);
        printf("%6.2f %10.3f %10.3f %12.1f %12.1f\n", shares[si], ts * 1e3, td * 1e3,
               (double)tot * G * KK / ts / 1e9, (double)n * CP * G * KK / td / 1e9);
    }
    free(w_h); free(w_hT); free(w_x); free(b); free(mem); free(act); free(dlt); free(c); free(h); free(cp);
    free(scratch); free(slot); free(dense); free(begs); free(ends); free(chs); free(vals);
    return 0;
}
