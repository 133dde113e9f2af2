/* gemm_shapes.c — rc_gemm (models/gemm.h) against OpenBLAS's cblas_sgemm on
 * the LSTM-340's product shapes, one thread, GMAC/s (each timed for 0.5 s):
 *   forward   rows × 704 × 340    one thread's tiles of the recurrent product
 *   ∂h        rows × 176 × 1360   its units of dgate × w_hh
 *   ∂W_h      704 × 340 × rows    dgateᵀ × h over a batch's cached rows
 * plus 512³. Which OpenBLAS kernel runs is printed; compare a forced one
 * with `env -u OPENBLAS_CORETYPE build/bench/gemm_shapes`.
 *
 *   make build/bench/gemm_shapes && build/bench/gemm_shapes */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include "base/clock.h"
#include "models/gemm.h"
#include "bench/lstm_shapes.h"

void openblas_set_num_threads(int);
char *openblas_get_corename(void);

/* GMAC/s of C (M × N) = A (M × K) B (K × N); A row-major, or (trans) stored
 * as a row-major (K × M). rc: rc_gemm, else cblas_sgemm. */
static double rate(int rc, int M, int N, int K, int trans)
{
    const size_t lda = trans ? (size_t)M + 8 : (size_t)K + 4, ldb = (size_t)N + 4;
    const size_t na = (trans ? (size_t)K : (size_t)M) * lda;
    float *a = malloc(na * sizeof *a), *b = malloc((size_t)K * ldb * sizeof *b);
    float *c = malloc((size_t)M * N * sizeof *c);
    for (size_t i = 0; i < na; i++) a[i] = 0.01f * (float)(i % 7);
    for (size_t i = 0; i < (size_t)K * ldb; i++) b[i] = 0.01f * (float)(i % 5);
    long reps = 0;
    double t = 0;
    const double t0 = rc_now_s();
    do {
        if (rc)
            rc_gemm(M, N, K, a, trans ? 1 : lda, trans ? lda : 1, b, ldb, c, (size_t)N, 0);
        else
            cblas_sgemm(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a,
                        (int)lda, b, (int)ldb, 0.0f, c, N);
        reps++;
        t = rc_now_s() - t0;
    } while (t < 0.5);
    free(a), free(b), free(c);
    return (double)M * N * K * (double)reps / t / 1e9;
}

int main(void)
{
    openblas_set_num_threads(1);
    printf("one thread; rc_gemm %s, OpenBLAS core %s\n\n", rc_gemm_isa(), openblas_get_corename());
    printf("| shape | rc_gemm GMAC/s | sgemm GMAC/s |\n|---|---|---|\n");
    for (size_t i = 0; i < N_LSTM_SHAPES; i++) {
        const int M = lstm_shapes[i].M, N = lstm_shapes[i].N, K = lstm_shapes[i].K, tr = lstm_shapes[i].trans;
        printf("| %s | %.1f | %.1f |\n", lstm_shapes[i].name, rate(1, M, N, K, tr), rate(0, M, N, K, tr));
    }
    return 0;
}
