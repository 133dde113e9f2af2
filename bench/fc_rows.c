/* fc_rows.c — does the SNN's few-row fc product (rc_lif_fc_below_rows,
 * models/lif_testing.h) give the bits of the linked BLAS's sgemm? It runs in
 * place of the sgemm where rc_lif_fc_hand(rows, nin) says so, and must leave
 * SNN results what the sgemm made them. Shapes: the SNN config's fc layers
 * and others, 1 to 6 rows, random operands with a third of dI zero.
 *
 *   make build/bench/fc_rows && build/bench/fc_rows
 *
 * Prints one line per shape and row count, and exits 1 if a case the kernel
 * serves differs from the sgemm anywhere. (The others are printed for
 * information: OpenBLAS's kernels stop matching a plain chain from 4 rows
 * on, and the autodetected Cooperlake kernel also for nin not a multiple of
 * 16; `env -u OPENBLAS_CORETYPE build/bench/fc_rows` shows it.) */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/rng.h"
#include "models/lif_testing.h"

void openblas_set_num_threads(int);

int main(void)
{
    openblas_set_num_threads(1);
    static const int shapes[][2] = { { 128, 1568 }, { 10, 128 }, { 128, 784 }, { 64, 100 }, { 300, 500 }, { 257, 33 } };
    const int maxrows = 6;
    int bad = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        const int K = shapes[s][0], N = shapes[s][1];
        float *A = malloc(sizeof(float) * (size_t)maxrows * K), *B = malloc(sizeof(float) * (size_t)K * N);
        float *C1 = malloc(sizeof(float) * (size_t)maxrows * N), *C2 = malloc(sizeof(float) * (size_t)maxrows * N);
        if (!A || !B || !C1 || !C2) return 2;
        for (int i = 0; i < maxrows * K; i++)
            A[i] = rc_uniform(1, s, (uint64_t)i, 0) < 1.0 / 3 ? 0.0f : (float)(rc_uniform(2, s, (uint64_t)i, 0) - 0.5);
        for (int i = 0; i < K * N; i++) B[i] = (float)(rc_uniform(3, s, (uint64_t)i, 0) - 0.5);
        for (int nt = 1; nt <= maxrows; nt++) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nt, N, K, 1.0f, A, K, B, N, 0.0f, C1, N);
            rc_lif_fc_below_rows(nt, K, N, A, B, C2);
            int diff = 0;
            for (int i = 0; i < nt * N; i++) diff += memcmp(&C1[i], &C2[i], sizeof *C1) != 0;
            const int served = rc_lif_fc_hand(nt, N);
            printf("nout %3d nin %4d rows %d: %5d of %5d outputs differ%s\n", K, N, nt, diff, nt * N,
                   served ? "" : " (the sgemm runs here)");
            if (diff && served) bad = 1;
        }
        free(A); free(B); free(C1); free(C2);
    }
    printf("%s\n", bad ? "MISMATCH where the kernel replaces the sgemm" : "ok: identical wherever the kernel replaces the sgemm");
    return bad;
}
