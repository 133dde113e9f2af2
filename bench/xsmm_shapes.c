/* xsmm_shapes.c — libxsmm (Debian libxsmm-dev, JIT small GEMMs) against
 * rc_gemm (models/gemm.h) on the LSTM-340's product shapes (those of
 * bench/gemm_shapes.c), one thread, GMAC/s (each timed for 0.5 s); and
 * whether libxsmm's C has rc_gemm's bits (every element one fma chain over k
 * from +0), which rcsim needs so that results do not depend on the thread
 * count. Two ways to call libxsmm:
 *   whole   one kernel for the whole product
 *   tiles   one kernel per 64 columns of C (rcsim's 16-unit gate tiles × 4)
 * libxsmm is column-major; a row-major C = A·B is the column-major
 * Cᵀ = Bᵀ·Aᵀ, so B is its first operand. The ∂W_h shape (A stored
 * transposed) needs its transposed-operand flag.
 *
 *   make build/bench/xsmm_shapes && build/bench/xsmm_shapes
 * (the make rule installs libxsmm-dev when it is missing; rcsim itself does
 * not link libxsmm). */
#include <libxsmm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/clock.h"
#include "models/gemm.h"
#include "bench/lstm_shapes.h"

typedef struct {
    int M, N, K, trans;
    size_t lda, ldb;
    float *a, *b, *c;
} prod;

static void prod_init(prod *p, int M, int N, int K, int trans)
{
    *p = (prod){ .M = M, .N = N, .K = K, .trans = trans };
    p->lda = trans ? (size_t)M + 8 : (size_t)K + 4;
    p->ldb = (size_t)N + 4;
    const size_t na = (trans ? (size_t)K : (size_t)M) * p->lda;
    p->a = malloc(na * sizeof *p->a);
    p->b = malloc((size_t)K * p->ldb * sizeof *p->b);
    p->c = malloc((size_t)M * N * sizeof *p->c);
    for (size_t i = 0; i < na; i++) p->a[i] = 0.37f * (float)((i * 2654435761u) % 1000) / 1000.0f - 0.18f;
    for (size_t i = 0; i < (size_t)K * p->ldb; i++)
        p->b[i] = 0.29f * (float)((i * 40503u + 7) % 1000) / 1000.0f - 0.14f;
}

static void prod_free(prod *p)
{
    free(p->a), free(p->b), free(p->c);
}

static void run_rc(prod *p)
{
    rc_gemm(p->M, p->N, p->K, p->a, p->trans ? 1 : p->lda, p->trans ? p->lda : 1, p->b, p->ldb, p->c, (size_t)p->N, 0);
}

/* libxsmm kernels for columns [0, w) (w = N: whole), NULL if it has none. */
static libxsmm_smmfunction kernel(const prod *p, int w)
{
    const float alpha = 1.0f, beta = 0.0f;
    const libxsmm_blasint lda = (libxsmm_blasint)p->ldb, ldb = (libxsmm_blasint)p->lda, ldc = p->N;
    /* Column-major: C' (w × M) = B' (w × K, ld ldb) · A' (K × M, ld lda);
     * the transposed case stores A' as (M × K): TRANS_B. */
    const int flags = p->trans ? LIBXSMM_GEMM_FLAG_TRANS_B : LIBXSMM_GEMM_FLAG_NONE;
    return libxsmm_smmdispatch(w, p->M, p->K, &lda, &ldb, &ldc, &alpha, &beta, &flags, NULL);
}

static void run_xsmm(prod *p, libxsmm_smmfunction f, int w)
{
    for (int j0 = 0; j0 < p->N; j0 += w) f(p->b + j0, p->a, p->c + j0);
}

/* GMAC/s over 0.5 s; xsmm: kernel f on tiles of w columns, else rc_gemm. */
static double rate(prod *p, libxsmm_smmfunction f, int w)
{
    long reps = 0;
    double t = 0;
    const double t0 = rc_now_s();
    do {
        if (f) run_xsmm(p, f, w);
        else run_rc(p);
        reps++;
        t = rc_now_s() - t0;
    } while (t < 0.5);
    return (double)p->M * p->N * p->K * (double)reps / t / 1e9;
}

/* Elements of libxsmm's C whose bits differ from rc_gemm's. */
static size_t differ(prod *p, libxsmm_smmfunction f, int w)
{
    const size_t n = (size_t)p->M * p->N;
    float *ref = malloc(n * sizeof *ref);
    run_rc(p);
    memcpy(ref, p->c, n * sizeof *ref);
    memset(p->c, 0xff, n * sizeof *p->c);
    run_xsmm(p, f, w);
    size_t d = 0;
    for (size_t i = 0; i < n; i++) d += memcmp(&ref[i], &p->c[i], sizeof *ref) != 0;
    free(ref);
    return d;
}

int main(void)
{
    libxsmm_init();
    printf("one thread; rc_gemm %s; libxsmm %s, target %s\n\n", rc_gemm_isa(), LIBXSMM_VERSION,
           libxsmm_get_target_arch());
    printf("| shape | rc_gemm GMAC/s | libxsmm whole GMAC/s (bits differing) | libxsmm 64-column tiles GMAC/s (bits differing) |\n");
    printf("|---|---|---|---|\n");
    for (size_t i = 0; i < N_LSTM_SHAPES; i++) {
        prod p;
        prod_init(&p, lstm_shapes[i].M, lstm_shapes[i].N, lstm_shapes[i].K, lstm_shapes[i].trans);
        printf("| %s | %.1f |", lstm_shapes[i].name, rate(&p, NULL, 0));
        const int widths[2] = { lstm_shapes[i].N, 64 };
        for (int k = 0; k < 2; k++) {
            const int w = widths[k];
            libxsmm_smmfunction f = lstm_shapes[i].N % w ? NULL : kernel(&p, w);
            if (!f) printf(" no kernel |");
            else {
                const size_t d = differ(&p, f, w);
                printf(" %.1f (%zu of %zu) |", rate(&p, f, w), d, (size_t)p.M * p.N);
            }
        }
        printf("\n");
        prod_free(&p);
    }
    libxsmm_finalize();
    return 0;
}
