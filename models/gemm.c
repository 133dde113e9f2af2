/* gemm.c — rc_gemm (see gemm.h): register-blocked fused multiply-add chains.
 *
 * C is computed in blocks of R rows × one panel of columns (AVX-512: 12 rows
 * × 32 columns, 24 accumulators; AVX2: 6 × 16, 12 accumulators). For each p
 * the panel's B row is loaded once and each of the R rows' a(i, p) is
 * broadcast into it. Rows left over at the bottom take smaller R; columns
 * left over at the right are masked. Each accumulator lane is one element's
 * chain, in p order, so the blocking changes no bit. Column panels are the
 * outer loop: a panel of B (k × 32) is reused by every row block. */
#include <math.h>
#include "models/gemm.h"

void (*rc_gemm_hook)(int m, int n, int k);

/* The register blocks are not instrumented by AddressSanitizer: with it,
 * clang spent 90 s and 1.6 GB compiling them (every unrolled accumulator
 * access checked), and their vector loads are masked intrinsics it does not
 * check anyway. test_gemm compares them with a plain reference in every
 * build, the sanitised ones included. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_ASAN __attribute__((no_sanitize("address")))
#endif
#endif
#if !defined(NO_ASAN) && defined(__SANITIZE_ADDRESS__)
#define NO_ASAN __attribute__((no_sanitize_address))
#endif
#ifndef NO_ASAN
#define NO_ASAN
#endif

#if defined(__AVX512F__)
#include <immintrin.h>

#define RMAX 12

NO_ASAN static inline __attribute__((always_inline)) void
block512(const int R, const int NV, int k, const float *a, size_t ars, size_t aks,
         const float *b, size_t ldb, float *c, size_t ldc, __mmask16 m0, __mmask16 m1, int accumulate)
{
    __m512 acc[RMAX][2];
#pragma GCC unroll 12
    for (int r = 0; r < R; r++) {
        acc[r][0] = _mm512_setzero_ps();
        acc[r][1] = _mm512_setzero_ps();
    }
    for (int p = 0; p < k; p++) {
        const float *bp = b + (size_t)p * ldb, *ap = a + (size_t)p * aks;
        const __m512 b0 = _mm512_maskz_loadu_ps(m0, bp);
        const __m512 b1 = NV > 1 ? _mm512_maskz_loadu_ps(m1, bp + 16) : b0;
#pragma GCC unroll 12
        for (int r = 0; r < R; r++) {
            const __m512 av = _mm512_set1_ps(ap[(size_t)r * ars]);
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
            if (NV > 1) acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
        }
    }
#pragma GCC unroll 12
    for (int r = 0; r < R; r++) {
        float *cr = c + (size_t)r * ldc;
        if (accumulate) {
            _mm512_mask_storeu_ps(cr, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, cr), acc[r][0]));
            if (NV > 1)
                _mm512_mask_storeu_ps(cr + 16, m1, _mm512_add_ps(_mm512_maskz_loadu_ps(m1, cr + 16), acc[r][1]));
        } else {
            _mm512_mask_storeu_ps(cr, m0, acc[r][0]);
            if (NV > 1) _mm512_mask_storeu_ps(cr + 16, m1, acc[r][1]);
        }
    }
}

NO_ASAN static void panel(int m, int w, int k, const float *a, size_t ars, size_t aks,
                  const float *b, size_t ldb, float *c, size_t ldc, int accumulate)
{
    const __mmask16 m0 = (__mmask16)(w >= 16 ? 0xffff : (1u << w) - 1);
    const __mmask16 m1 = (__mmask16)(w >= 32 ? 0xffff : w > 16 ? (1u << (w - 16)) - 1 : 0);
    const int two = w > 16;
    for (int i = 0; i < m;) {
        const int left = m - i;
        const int R = left >= 12 ? 12 : left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
        const float *ai = a + (size_t)i * ars;
        float *ci = c + (size_t)i * ldc;
#define B512(RR) (two ? block512(RR, 2, k, ai, ars, aks, b, ldb, ci, ldc, m0, m1, accumulate) \
                      : block512(RR, 1, k, ai, ars, aks, b, ldb, ci, ldc, m0, m1, accumulate))
        switch (R) {
        case 12: B512(12); break;
        case 8: B512(8); break;
        case 4: B512(4); break;
        case 2: B512(2); break;
        default: B512(1); break;
        }
#undef B512
        i += R;
    }
}
#define PANEL 32
#define ISA "avx512"

#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#define RMAX 6

NO_ASAN static inline __attribute__((always_inline)) void
block256(const int R, const int NV, int k, const float *a, size_t ars, size_t aks,
         const float *b, size_t ldb, float *c, size_t ldc, __m256i m0, __m256i m1, int accumulate)
{
    __m256 acc[RMAX][2];
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) {
        acc[r][0] = _mm256_setzero_ps();
        acc[r][1] = _mm256_setzero_ps();
    }
    for (int p = 0; p < k; p++) {
        const float *bp = b + (size_t)p * ldb, *ap = a + (size_t)p * aks;
        const __m256 b0 = _mm256_maskload_ps(bp, m0);
        const __m256 b1 = NV > 1 ? _mm256_maskload_ps(bp + 8, m1) : b0;
#pragma GCC unroll 6
        for (int r = 0; r < R; r++) {
            const __m256 av = _mm256_broadcast_ss(ap + (size_t)r * ars);
            acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
            if (NV > 1) acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) {
        float *cr = c + (size_t)r * ldc;
        if (accumulate) {
            _mm256_maskstore_ps(cr, m0, _mm256_add_ps(_mm256_maskload_ps(cr, m0), acc[r][0]));
            if (NV > 1) _mm256_maskstore_ps(cr + 8, m1, _mm256_add_ps(_mm256_maskload_ps(cr + 8, m1), acc[r][1]));
        } else {
            _mm256_maskstore_ps(cr, m0, acc[r][0]);
            if (NV > 1) _mm256_maskstore_ps(cr + 8, m1, acc[r][1]);
        }
    }
}

static __m256i lanes(int w) /* all ones in the first w of 8 lanes */
{
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(w), idx);
}

NO_ASAN static void panel(int m, int w, int k, const float *a, size_t ars, size_t aks,
                  const float *b, size_t ldb, float *c, size_t ldc, int accumulate)
{
    const __m256i m0 = lanes(w), m1 = lanes(w - 8);
    const int two = w > 8;
    for (int i = 0; i < m;) {
        const int left = m - i;
        const int R = left >= 6 ? 6 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
        const float *ai = a + (size_t)i * ars;
        float *ci = c + (size_t)i * ldc;
#define B256(RR) (two ? block256(RR, 2, k, ai, ars, aks, b, ldb, ci, ldc, m0, m1, accumulate) \
                      : block256(RR, 1, k, ai, ars, aks, b, ldb, ci, ldc, m0, m1, accumulate))
        switch (R) {
        case 6: B256(6); break;
        case 4: B256(4); break;
        case 2: B256(2); break;
        default: B256(1); break;
        }
#undef B256
        i += R;
    }
}
#define PANEL 16
#define ISA "avx2"

#else

NO_ASAN static void panel(int m, int w, int k, const float *a, size_t ars, size_t aks,
                  const float *b, size_t ldb, float *c, size_t ldc, int accumulate)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < w; j++) {
            float s = 0.0f;
            for (int p = 0; p < k; p++) s = fmaf(a[(size_t)i * ars + (size_t)p * aks], b[(size_t)p * ldb + j], s);
            c[(size_t)i * ldc + j] = accumulate ? c[(size_t)i * ldc + j] + s : s;
        }
}
#define PANEL 16
#define ISA "scalar"

#endif

void rc_gemm(int m, int n, int k, const float *a, size_t ars, size_t aks,
             const float *b, size_t ldb, float *c, size_t ldc, int accumulate)
{
    if (rc_gemm_hook) rc_gemm_hook(m, n, k);
    if (m <= 0 || n <= 0) return;
    if (k < 0) k = 0;
    for (int j = 0; j < n; j += PANEL) {
        const int w = n - j < PANEL ? n - j : PANEL;
        panel(m, w, k, a, ars, aks, b + j, ldb, c + j, ldc, accumulate);
    }
}

#ifdef __AVX__
#include <immintrin.h>
/* One 8 × 8 block (perf: a plain loop was 4 % of the delta LSTM's
 * RC-inference, which transposes w_hh every batch). */
static void transpose8(float *dst, size_t ldd, const float *src, size_t lds)
{
    __m256 r[8], t[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + (size_t)i * lds);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4)
        for (int k = 0; k < 2; k++) {
            r[i + k] = _mm256_shuffle_ps(t[i + k], t[i + 2 + k], _MM_SHUFFLE(1, 0, 1, 0));
            r[i + 2 + k] = _mm256_shuffle_ps(t[i + k], t[i + 2 + k], _MM_SHUFFLE(3, 2, 3, 2));
        }
    /* r: 0 = cols 0|4, 2 = 1|5, 1 = 2|6, 3 = 3|7 of rows 0-3; 4-7 the same of rows 4-7 */
    static const int col[4] = { 0, 2, 1, 3 };
    for (int c = 0; c < 4; c++) {
        const __m256 a = r[col[c]], b = r[4 + col[c]];
        _mm256_storeu_ps(dst + (size_t)c * ldd, _mm256_permute2f128_ps(a, b, 0x20));
        _mm256_storeu_ps(dst + (size_t)(c + 4) * ldd, _mm256_permute2f128_ps(a, b, 0x31));
    }
}
#endif

void rc_transpose(float *dst, size_t ldd, const float *src, size_t lds, size_t rows, size_t cols)
{
    size_t i0 = 0, j0 = 0;
#ifdef __AVX__
    for (; i0 + 8 <= rows; i0 += 8)
        for (size_t j = 0; j + 8 <= cols; j += 8) transpose8(dst + j * ldd + i0, ldd, src + i0 * lds + j, lds);
    j0 = cols - cols % 8;
#endif
    for (size_t i = 0; i < rows; i++)
        for (size_t j = i < i0 ? j0 : 0; j < cols; j++) dst[j * ldd + i] = src[i * lds + j];
}

const char *rc_gemm_isa(void)
{
    return ISA;
}
