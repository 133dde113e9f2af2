/* gemm.h — a small matrix product whose every element is computed the same
 * way whatever the shape of the call, for the LSTM's recurrent products.
 *
 *   C (m × n) = A (m × k) · B (k × n)          accumulate = 0
 *   C (m × n) += A (m × k) · B (k × n)         accumulate = 1
 *
 * Each element of A·B is one chain of fused multiply-adds over p = 0 … k−1
 * in that order, starting from +0; the chain's result is then stored, or
 * added to C in one rounding. Nothing depends on m, n, the blocking, the
 * instruction set (AVX-512, AVX2+FMA or scalar fmaf give the same bits) or
 * on how a product is split into calls: the threads can split it however
 * they like and results stay identical for any thread count. OpenBLAS's
 * sgemm gives no such promise (its kernel's arithmetic for an element
 * depends on where the element falls in the call's column panels), which
 * is why rcsim once issued one sgemm per 16-unit tile, repacking the shared
 * operand for every tile.
 *
 * No packing: A is read in place through strides (element (i, p) at
 * a[i·ars + p·aks]: row-major A has ars = lda, aks = 1; Aᵀ of a row-major
 * matrix has ars = 1, aks = lda) and B is row-major (element (p, j) at
 * b[p·ldb + j]). C is row-major with leading dimension ldc. */
#ifndef RC_GEMM_H
#define RC_GEMM_H

#include <stddef.h>

void rc_gemm(int m, int n, int k, const float *a, size_t ars, size_t aks,
             const float *b, size_t ldb, float *c, size_t ldc, int accumulate);

/* Called with (m, n, k) by every rc_gemm when set (bench/floors counts the
 * multiply-adds with it); NULL (the default) costs one test per call. */
extern void (*rc_gemm_hook)(int m, int n, int k);

/* dst (cols × rows, leading dimension ldd) = src (rows × cols, leading
 * dimension lds) transposed: dst[j·ldd + i] = src[i·lds + j]. A copy, so the
 * values are the same however it runs (8 × 8 blocks through registers where
 * the CPU has AVX, the edges element by element). */
void rc_transpose(float *dst, size_t ldd, const float *src, size_t lds, size_t rows, size_t cols);

/* The instruction set rc_gemm was built for: "avx512", "avx2" or "scalar". */
const char *rc_gemm_isa(void);

#endif
