/* test_gemm.c — rc_gemm (models/gemm.h) against its definition, bit for
 * bit: each element is fmaf(a(i,p), b(p,j), s) over p in order from +0, then
 * stored or added to C once. Shapes cover full and partial row blocks and
 * column panels, k = 0 and 1, strided A (row-major and transposed) and
 * leading dimensions wider than the matrix; splitting one product into calls
 * over row and column ranges must give the same bits (what lets threads split
 * the LSTM's products any way they like); the result is also within float
 * rounding of a float64 product. */
#include "tests/testutil.h"
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "models/gemm.h"

static float frand(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(*s >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
}

static void reference(int m, int n, int k, const float *a, size_t ars, size_t aks, const float *b, size_t ldb,
                      float *c, size_t ldc, int acc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float s = 0.0f;
            for (int p = 0; p < k; p++) s = fmaf(a[(size_t)i * ars + (size_t)p * aks], b[(size_t)p * ldb + j], s);
            float *ce = c + (size_t)i * ldc + j;
            *ce = acc ? *ce + s : s;
        }
}

/* One shape: A (m × k) stored row-major (trans = 0, lda = k + 3) or as the
 * transpose of a (k × m) row-major matrix (trans = 1, lda = m + 5). */
static void check(int m, int n, int k, int trans, int acc)
{
    uint64_t s = (uint64_t)(m * 1000003 + n * 1009 + k * 7 + trans * 2 + acc);
    const size_t lda = trans ? (size_t)m + 5 : (size_t)k + 3, ldb = (size_t)n + 2, ldc = (size_t)n + 4;
    const size_t na = (trans ? (size_t)k : (size_t)m) * lda + 1, nb = (size_t)k * ldb + 1, nc = (size_t)m * ldc;
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b);
    float *c = malloc(nc * sizeof *c), *r = malloc(nc * sizeof *r), *c2 = malloc(nc * sizeof *c2);
    for (size_t i = 0; i < na; i++) a[i] = frand(&s);
    for (size_t i = 0; i < nb; i++) b[i] = frand(&s);
    for (size_t i = 0; i < nc; i++) c[i] = r[i] = c2[i] = frand(&s);
    const size_t ars = trans ? 1 : lda, aks = trans ? lda : 1;
    rc_gemm(m, n, k, a, ars, aks, b, ldb, c, ldc, acc);
    reference(m, n, k, a, ars, aks, b, ldb, r, ldc, acc);
    assert_memory_equal(c, r, nc * sizeof *c);
    /* The same product as calls over a 3 × 3 grid of uneven ranges. */
    const int mi[4] = { 0, m / 3, m - m / 5, m }, nj[4] = { 0, n / 4, n / 2 + 1 < n ? n / 2 + 1 : n, n };
    for (int x = 0; x < 3; x++)
        for (int y = 0; y < 3; y++)
            if (mi[x + 1] > mi[x] && nj[y + 1] > nj[y])
                rc_gemm(mi[x + 1] - mi[x], nj[y + 1] - nj[y], k, a + (size_t)mi[x] * ars, ars, aks,
                        b + nj[y], ldb, c2 + (size_t)mi[x] * ldc + nj[y], ldc, acc);
    assert_memory_equal(c2, r, nc * sizeof *c2);
    /* Within rounding of the float64 product (stored products only). */
    for (int i = 0; i < m && !acc; i++)
        for (int j = 0; j < n; j += 3) {
            double d = 0, mag = 0;
            for (int p = 0; p < k; p++) {
                const double t = (double)a[(size_t)i * ars + (size_t)p * aks] * b[(size_t)p * ldb + j];
                d += t;
                mag += fabs(t);
            }
            assert_true(fabs(c[(size_t)i * ldc + j] - d) <= 1e-6 * (mag + 1));
        }
    free(a), free(b), free(c), free(r), free(c2);
}

static void test_shapes(void **st)
{
    (void)st;
    const int ms[] = { 1, 2, 3, 5, 11, 12, 13, 25, 40 };
    const int ns[] = { 1, 7, 16, 17, 31, 32, 33, 64, 70 };
    const int ks[] = { 0, 1, 9, 340 };
    for (size_t x = 0; x < sizeof ms / sizeof *ms; x++)
        for (size_t y = 0; y < sizeof ns / sizeof *ns; y++)
            for (size_t z = 0; z < sizeof ks / sizeof *ks; z++)
                for (int t = 0; t < 2; t++) check(ms[x], ns[y], ks[z], t, (int)(x + y + z) % 2);
}

/* The LSTM's three shapes at H = 340 (forward, ∂h, ∂W_h). */
static void test_lstm_shapes(void **st)
{
    (void)st;
    check(37, 704, 340, 0, 0);
    check(29, 176, 1360, 0, 0);
    check(704, 340, 301, 1, 1);
}

static int hook_calls;
static long long hook_macs;
static void hook(int m, int n, int k) { hook_calls++, hook_macs += (long long)m * n * k; }

static void test_hook(void **st)
{
    (void)st;
    float a[6] = { 1, 2, 3, 4, 5, 6 }, b[6] = { 1, 0, 0, 1, 1, 1 }, c[4];
    rc_gemm_hook = hook;
    rc_gemm(2, 2, 3, a, 3, 1, b, 2, c, 2, 0);
    rc_gemm_hook = NULL;
    assert_int_equal(hook_calls, 1);
    assert_int_equal(hook_macs, 12);
    /* [1 2 3; 4 5 6] × [1 0; 0 1; 1 1] by hand. */
    assert_true(c[0] == 4 && c[1] == 5 && c[2] == 10 && c[3] == 11);
    assert_non_null(strstr("avx512 avx2 scalar", rc_gemm_isa()));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_lstm_shapes),
        cmocka_unit_test(test_hook),
    };
    return cmocka_run_group_tests_name("gemm", tests, NULL, NULL);
}
