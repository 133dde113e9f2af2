/* test_adam.c — one Adam / AdamW step against the formula in float64
 * (PyTorch's form: p ·= 1 − lr·wd, m, v, then p −= lr/bc1 · m / (√v/√bc2 + ε)),
 * for 1 and 2 threads, with and without weight decay. */
#include "tests/testutil.h"
#include <math.h>
#include <string.h>
#include "sim/adam.h"

static void check_step(int nth, double wd, double clip)
{
    rc_err err;
    rc_pool *pool = rc_pool_new(nth, RC_PLACE_SPREAD, &err);
    const rc_net_shape s = { .nin = 3, .H = 5, .K = 4 };
    rc_net *net = rc_net_new(&s, 11);
    const size_t n = net->nparams;
    double *p0 = malloc(n * sizeof *p0), *m0 = malloc(n * sizeof *m0), *v0 = malloc(n * sizeof *v0);
    for (size_t i = 0; i < n; i++) {
        net->grads[i] = (float)(0.01 * ((double)(i % 7) - 3.0) + 1e-4);
        net->m[i] = (float)(0.001 * (double)(i % 5));
        net->v[i] = (float)(1e-6 * (double)(1 + i % 3));
        p0[i] = net->params[i];
        m0[i] = net->m[i];
        v0[i] = net->v[i];
    }
    rc_adam *a = rc_adam_new(net, pool);
    rc_adam_set_decay(a, wd);
    const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const int64_t step = 3;
    const double norm = rc_adam_step(a, lr, b1, b2, eps, clip, step);
    const double bc1 = 1 - pow(b1, step), bc2 = 1 - pow(b2, step);
    double worst = 0, moved = 0, ref_norm = 0;
    for (size_t i = 0; i < n; i++) ref_norm += (double)net->grads[i] * net->grads[i];
    ref_norm = sqrt(ref_norm);
    /* With clipping, the norm is returned and scales the step; without,
     * it is not summed (0 returned). */
    const double sc = clip > 0 && ref_norm > clip ? clip / (ref_norm + 1e-6) : 1.0;
    if (clip > 0) assert_true(fabs(norm - ref_norm) < 1e-9 * ref_norm);
    else assert_true(norm == 0.0);
    for (size_t i = 0; i < n; i++) {
        const double g = net->grads[i] * sc;
        const double m = b1 * m0[i] + (1 - b1) * g, v = b2 * v0[i] + (1 - b2) * g * g;
        const double p = p0[i] * (1 - lr * wd) - lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps);
        const double e = fabs(net->params[i] - p) / (fabs(p) + 1e-3);
        if (e > worst) worst = e;
        moved += fabs(p - p0[i]);
    }
    assert_true(moved > 0);
    assert_true(worst < 2e-6);
    rc_adam_free(a);
    free(p0); free(m0); free(v0);
    rc_net_free(net);
    rc_pool_free(pool);
}

static void test_adam(void **st)
{
    (void)st;
    check_step(1, 0, 0);
    check_step(2, 0, 0);
}

/* Clipping: the gradient norm here is about 0.26; a clip of 0.05 scales it. */
static void test_adam_clip(void **st)
{
    (void)st;
    check_step(1, 0, 0.05);
    check_step(2, 0, 0.05);
    check_step(2, 0, 100.0); /* norm below the clip: unscaled */
}

static void test_adamw(void **st)
{
    (void)st;
    check_step(1, 0.5, 0);
    check_step(2, 0.5, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adam),
        cmocka_unit_test(test_adamw),
        cmocka_unit_test(test_adam_clip),
    };
    return cmocka_run_group_tests_name("adam", tests, NULL, NULL);
}
