/* delta_switch.c — where the delta LSTM's hidden events should go as one
 * sgemm per tile instead of weight columns (sim/engine_lstm_delta.c,
 * RC_DELTA_DENSE_SHARE): times rc_lstm_forward_delta's recurrent update on
 * one thread for a share of (row, unit) pairs sending an event, both ways.
 *
 *   build/bench/delta_switch [H] [rows] [reps]     (default 340 256 20)
 *
 * Prints, per share: ms per step for the sparse columns and the sgemm, and
 * each path's rate in GMAC/s on the MACs it executes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/clock.h"
#include "base/rng.h"
#include "models/lstm.h"

void openblas_set_num_threads(int);

static double time_step(const rc_lstm_delta *d, float *act, float *c, float *h, const float *cp,
                        const rc_step_input *in, const float *w_ih, const float *w_hh, int n, int H, int reps)
{
    double best = 1e30;
    for (int k = 0; k < reps; k++) {
        const double t0 = rc_now_s();
        rc_lstm_forward_delta(act, c, h, NULL, cp, in, w_ih, w_hh, d, n, H, 0, rc_lstm_ntiles(H));
        const double dt = rc_now_s() - t0;
        if (dt < best) best = dt;
    }
    return best;
}

int main(int argc, char **argv)
{
    const int H = argc > 1 ? atoi(argv[1]) : 340, n = argc > 2 ? atoi(argv[2]) : 256;
    const int reps = argc > 3 ? atoi(argv[3]) : 20, G4 = 4 * H;
    openblas_set_num_threads(1);
    float *w_hh = malloc(sizeof(float) * (size_t)G4 * H), *w_hhT = malloc(sizeof(float) * (size_t)G4 * H);
    float *mem = calloc((size_t)n * G4, sizeof(float)), *act = malloc(sizeof(float) * (size_t)n * G4);
    float *dlt = calloc((size_t)n * H, sizeof(float)), *val = malloc(sizeof(float) * (size_t)n * H);
    float *c = malloc(sizeof(float) * (size_t)n * H), *h = malloc(sizeof(float) * (size_t)n * H);
    float *cp = calloc((size_t)n * H, sizeof(float)), w_ih[1] = { 0 };
    int32_t *idx = malloc(sizeof(int32_t) * (size_t)n * H);
    int *cnt = malloc(sizeof(int) * (size_t)n);
    for (size_t i = 0; i < (size_t)G4 * H; i++) w_hh[i] = (float)(rc_uniform(1, 1, i, 0) - 0.5);
    for (int k = 0; k < rc_lstm_ntiles(H); k++) { /* tile by tile (models/lstm.h) */
        const int rb = 4 * RC_LSTM_TILE * k, nr = 4 * rc_lstm_tile_w(H, k);
        for (int g = 0; g < nr; g++)
            for (int j = 0; j < H; j++) w_hhT[(size_t)rb * H + (size_t)j * nr + g] = w_hh[(size_t)(rb + g) * H + j];
    }
    /* No input events: the step is the recurrent update and the gates. */
    int *begs = calloc((size_t)n, sizeof(int)), *ends = calloc((size_t)n, sizeof(int));
    const int32_t **chs = calloc((size_t)n, sizeof *chs);
    const float **vals = calloc((size_t)n, sizeof *vals);
    rc_step_input in = { begs, ends, chs, vals, NULL, NULL, 0 };
    printf("delta LSTM recurrent update, H = %d, %d rows, 1 thread, best of %d\n", H, n, reps);
    printf("%6s %10s %10s %12s %12s\n", "share", "sparse ms", "sgemm ms", "sparse GMAC/s", "sgemm GMAC/s");
    const double shares[] = { 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.6 };
    for (size_t s = 0; s < sizeof shares / sizeof shares[0]; s++) {
        int64_t tot = 0;
        for (int r = 0; r < n; r++) {
            int k = 0;
            for (int j = 0; j < H; j++) {
                const int ev = rc_uniform(2, (uint64_t)s, (uint64_t)r, (uint64_t)j) < shares[s];
                dlt[(size_t)r * H + j] = ev ? 0.25f : 0.0f;
                if (ev) { idx[(size_t)r * H + k] = j; val[(size_t)r * H + k++] = 0.25f; }
            }
            cnt[r] = k;
            tot += k;
        }
        rc_lstm_delta sp = { mem, dlt, idx, val, cnt, 0, w_hhT, 0 }, de = sp;
        de.dense = 1;
        const double ts = time_step(&sp, act, c, h, cp, &in, w_ih, w_hh, n, H, reps);
        const double td = time_step(&de, act, c, h, cp, &in, w_ih, w_hh, n, H, reps);
        printf("%6.2f %10.3f %10.3f %12.1f %12.1f\n", shares[s], ts * 1e3, td * 1e3,
               (double)tot * G4 / ts / 1e9, (double)n * H * G4 / td / 1e9);
    }
    free(w_hh); free(w_hhT); free(mem); free(act); free(dlt); free(val); free(c); free(h); free(cp);
    free(idx); free(cnt); free(begs); free(ends); free(chs); free(vals);
    return 0;
}
