/* deltafix.h — the fixture and helpers test_delta.c and test_convdelta.c
 * share: NEX examples of the includer's data set, one training batch of
 * them on nt threads, and the worst relative error against a float64
 * reference. Include after defining NEX (and the includes of rc_dataset,
 * rc_net, rc_engine and rc_pool). */
#ifndef RC_TEST_DELTAFIX_H
#define RC_TEST_DELTAFIX_H

typedef struct {
    rc_dataset *ds;
    rc_net *net;
    rc_events ev[NEX];
    int label[NEX];
    double *dp;
} fixture;

static void fx_free(fixture *fx)
{
    for (int i = 0; i < NEX; i++) rc_events_free(&fx->ev[i]);
    free(fx->dp);
    rc_net_free(fx->net);
    free(fx->ds);
}

/* One training batch of all NEX examples on nt threads: results, gradients
 * (into grads, nparams floats) and the loss. */
static double run_batch(fixture *fx, int nt, const rc_batch_opts *o, rc_example_result *res, float *grads)
{
    rc_err err;
    rc_pool *pool = rc_pool_new(nt, RC_PLACE_SPREAD, &err);
    assert_non_null(pool);
    rc_engine *eng = rc_engine_new(fx->net, fx->ds, pool, NEX, &err);
    assert_non_null(eng);
    int64_t idx[NEX];
    for (int i = 0; i < NEX; i++) idx[i] = i;
    rc_net_zero_grad(fx->net);
    if (rc_engine_batch(eng, RC_SPLIT_TRAIN, idx, NEX, o, res, NULL, &err)) fail_msg("%s", err.msg);
    double L = 0;
    for (int i = 0; i < NEX; i++) L += res[i].loss;
    memcpy(grads, fx->net->grads, fx->net->nparams * sizeof *grads);
    rc_engine_free(eng);
    rc_pool_free(pool);
    return L / NEX;
}

static double worst_rel(const float *a, const double *b, size_t n, size_t *at)
{
    double w = 0;
    for (size_t i = 0; i < n; i++) {
        const double e = fabs(a[i] - b[i]) / fmax(fabs(a[i]) + fabs(b[i]), 1e-3);
        if (e > w) { w = e; *at = i; }
    }
    return w;
}

#endif
