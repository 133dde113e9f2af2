/* test_dense.c — the head's dense layers several rows at a time
 * (rc_dense_forward_rows, rc_net_head_forward_rows): every output must be
 * the same bits as the one-row kernel's, which the trained results depend
 * on, and the value a float64 sum gives to float rounding. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "models/dense.h"
#include "models/net.h"
#include "base/rng.h"

static void fill(float *x, size_t n, uint64_t seed, double scale)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)((rc_uniform(seed, 1, i, 0) * 2 - 1) * scale);
}

/* Rows × outputs: bit-identical to rc_dense_forward, and within float
 * rounding of the float64 sum b + Σ w·x. Shapes around the 16-lane block
 * and the 4-row group: nout 1, 10, 16, 17, 40; nrows 1..9. */
static void test_rows_equal_single(void **st)
{
    (void)st;
    const int nins[] = { 1, 7, 340 }, nouts[] = { 1, 10, 16, 17, 40 };
    for (size_t a = 0; a < sizeof nins / sizeof *nins; a++)
        for (size_t c = 0; c < sizeof nouts / sizeof *nouts; c++) {
            const int nin = nins[a], nout = nouts[c], npad = rc_dense_pad(nout);
            float *W = malloc((size_t)nout * nin * sizeof *W), *b = malloc((size_t)nout * sizeof *b);
            float *wt = malloc((size_t)nin * npad * sizeof *wt);
            float *x = malloc((size_t)9 * nin * sizeof *x), *y1 = malloc((size_t)9 * nout * sizeof *y1);
            float *y2 = malloc((size_t)9 * nout * sizeof *y2);
            assert_non_null(W); assert_non_null(b); assert_non_null(wt); assert_non_null(x);
            assert_non_null(y1); assert_non_null(y2);
            fill(W, (size_t)nout * nin, 11 + a + 7 * c, 0.3);
            fill(b, (size_t)nout, 99 + c, 0.5);
            fill(x, (size_t)9 * nin, 5 + a, 1.0);
            rc_dense_transpose(wt, W, nin, nout);
            for (int o = 0; o < nout; o++)
                for (int i = 0; i < nin; i++) assert_true(wt[(size_t)i * npad + o] == W[(size_t)o * nin + i]);
            for (int nrows = 1; nrows <= 9; nrows++) {
                const float *in[9];
                float *out[9];
                /* Rows in reverse order in memory: the kernel follows the pointers. */
                for (int r = 0; r < nrows; r++) {
                    in[r] = x + (size_t)(8 - r) * nin;
                    out[r] = y2 + (size_t)r * nout;
                }
                memset(y2, 0xff, (size_t)9 * nout * sizeof *y2);
                rc_dense_forward_rows(out, in, nrows, wt, b, nin, nout);
                for (int r = 0; r < nrows; r++) {
                    rc_dense_forward(y1 + (size_t)r * nout, in[r], W, b, nin, nout);
                    for (int o = 0; o < nout; o++) {
                        const float got = y2[(size_t)r * nout + o], want = y1[(size_t)r * nout + o];
                        if (memcmp(&got, &want, sizeof got))
                            fail_msg("nin %d nout %d nrows %d row %d out %d: %.9g, one-row kernel %.9g", nin, nout,
                                     nrows, r, o, (double)got, (double)want);
                        double s = b[o];
                        for (int i = 0; i < nin; i++) s += (double)W[(size_t)o * nin + i] * in[r][i];
                        assert_true(fabs(got - s) <= 1e-5 * (1 + nin * 0.3));
                    }
                }
                /* Rows past nrows are not written. */
                for (size_t k = (size_t)nrows * nout; k < (size_t)9 * nout; k++) assert_true(isnan(y2[k]));
            }
            free(W); free(b); free(wt); free(x); free(y1); free(y2);
        }
}

/* A head with two hidden ReLU layers: logits and activations of 70 rows
 * (two 64-row chunks) equal rc_net_head_forward's row by row, bits. */
static void test_head_rows(void **st)
{
    (void)st;
    rc_net_shape s = { .nin = 3, .H = 45, .nhead = 2, .head = { 20, 9 }, .K = 10 };
    rc_net *net = rc_net_new(&s, 7);
    assert_non_null(net);
    /* Biases non-zero so that ReLU cuts some units. */
    for (int l = 0; l < net->nlayers; l++) fill(net->params + net->hb[l], (size_t)net->hout[l], 3 + l, 0.2);
    const int n = 70, hsum = 1 + 20 + 9, K = 10, H = 45;
    float *h = malloc((size_t)n * H * sizeof *h), *ht = malloc(rc_net_head_t_floats(net) * sizeof *ht);
    float *z1 = calloc((size_t)n * K, sizeof *z1), *z2 = calloc((size_t)n * K, sizeof *z2);
    float *a1 = calloc((size_t)n * hsum, sizeof *a1), *a2 = calloc((size_t)n * hsum, sizeof *a2);
    assert_non_null(h); assert_non_null(ht); assert_non_null(z1); assert_non_null(z2);
    assert_non_null(a1); assert_non_null(a2);
    fill(h, (size_t)n * H, 21, 1.0);
    rc_net_head_transpose(net, ht);
    rc_net_head_forward_rows(net, ht, h, (size_t)H, n, z2, a2, (size_t)hsum);
    int cut = 0;
    for (int r = 0; r < n; r++) {
        rc_net_head_forward(net, h + (size_t)r * H, z1 + (size_t)r * K, a1 + (size_t)r * hsum);
        for (int j = 0; j < 29; j++) cut += a1[(size_t)r * hsum + j] == 0.0f;
    }
    assert_true(cut > 0);
    assert_memory_equal(z1, z2, (size_t)n * K * sizeof *z1);
    assert_memory_equal(a1, a2, (size_t)n * hsum * sizeof *a1);
    free(h); free(ht); free(z1); free(z2); free(a1); free(a2);
    rc_net_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_equal_single),
        cmocka_unit_test(test_head_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
