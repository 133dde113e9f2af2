/* test_metrics.c — the rank-coding metrics on hand-computed cases, and the
 * early-stopping rule. */
#include "tests/testutil.h"
#include <math.h>
#include "sim/metrics.h"

/* One result: label, spiked, 0-based tsp, first-spike class, class at T−1
 * (−1: stopped early), loss, events, MACs. */
static rc_example_result res(int label, int spiked, int tsp, int pred, int pred_end, float loss,
                             int64_t events, double macs)
{
    rc_example_result r = rc_example_result_empty(10);
    r.label = label;
    r.spiked = spiked;
    r.tsp = tsp;
    r.pred = pred;
    r.pred_end = pred_end;
    r.loss = loss;
    r.events = events;
    r.macs = macs;
    return r;
}

/* The metrics of n results of T = 10 examples. */
static rc_metrics metrics_of(const rc_example_result *r, int n, int spotting)
{
    rc_metrics_acc a;
    rc_metrics_init(&a, 10, spotting);
    rc_metrics_add(&a, r, n);
    rc_metrics m;
    rc_metrics_finish(&a, &m);
    return m;
}

/* Five examples of T = 10, by hand:
 *   label spiked tsp pred pred_end
 *     0     1     0    0     0      right, step 1
 *     0     1     2    1     1      wrong, step 3; wrong at the end
 *     1     1     1    1     1      right, step 2
 *     2     0     9    2     2      no spike: answer at T−1 (step 10), right
 *     0     1     4    0     1      right, step 5; wrong at the end
 * accuracy 4/5; mean spike step (1+3+2+10+5)/5 = 4.2; no spike 1/5;
 * accuracy at end 3/5; majority class 0: 3/5. Sorted steps 1 2 3 5 10: the
 * q-quantile is the (⌊q·n⌋+1)-th smallest: p10 → 1st = 1, p50 → 3rd = 3,
 * p90 → 5th = 10. */
static void test_hand_case(void **st)
{
    (void)st;
    rc_example_result r[5] = {
        res(0, 1, 0, 0, 0, 0.5f, 10, 100), res(0, 1, 2, 1, 1, 1.5f, 20, 300),
        res(1, 1, 1, 1, 1, 0.25f, 30, 200), res(2, 0, 9, 2, 2, 2.0f, 40, 1000),
        res(0, 1, 4, 0, 1, 0.75f, 50, 500),
    };
    rc_metrics_acc a;
    rc_metrics_init(&a, 10, 0);
    rc_metrics_add(&a, r, 2);      /* in two parts: adding is associative */
    rc_metrics_add(&a, r + 2, 3);
    rc_metrics m;
    rc_metrics_finish(&a, &m);
    assert_int_equal(m.n, 5);
    assert_true(m.accuracy == 0.8);
    assert_true(fabs(m.mean_spike_step - 4.2) < 1e-12);
    assert_true(fabs(m.mean_spike_fraction - 0.42) < 1e-12);
    assert_true(m.no_spike_fraction == 0.2);
    assert_int_equal(m.has_end, 1);
    assert_true(m.accuracy_at_end == 0.6);
    assert_true(m.majority_fraction == 0.6);
    assert_true(m.tsp_p10 == 1 && m.tsp_p50 == 3 && m.tsp_p90 == 10);
    assert_true(fabs(m.mean_loss - 1.0) < 1e-12);
    assert_true(m.events_per_example == 30);
    assert_true(m.macs_per_example == 420);
    assert_int_equal(m.has_earliest, 0);
    /* Per class and confusion [label][pred]. */
    assert_int_equal(a.cls_n[0], 3);
    assert_int_equal(a.cls_correct[0], 2);
    assert_true(a.cls_sum_tsp[0] == 1 + 3 + 5);
    assert_int_equal(a.cls_n[2], 1);
    assert_true(a.cls_sum_tsp[2] == 10);
    assert_int_equal(a.confusion[0][0], 2);
    assert_int_equal(a.confusion[0][1], 1);
    assert_int_equal(a.confusion[1][1], 1);
    assert_int_equal(a.confusion[2][2], 1);
    assert_int_equal(a.confusion[1][0], 0);
}

/* RC-inference stops examples at their first spike, so their class at T−1 is
 * unknown: accuracy at end is only reported when every example has one. */
static void test_end_needs_full_length(void **st)
{
    (void)st;
    rc_example_result r[2] = { res(0, 1, 0, 0, -1, 0, 0, 0), res(1, 0, 9, 1, 1, 0, 0, 0) };
    rc_metrics m = metrics_of(r, 2, 0);
    assert_int_equal(m.has_end, 0);
    assert_true(m.accuracy_at_end == 0);
    assert_true(m.accuracy == 1);
    /* Nothing added: all zero, no division by zero. */
    m = metrics_of(r, 0, 0);
    assert_int_equal(m.n, 0);
    assert_true(m.accuracy == 0 && m.mean_spike_step == 0);
}

/* Spotting: positives (label 1) answered positive exactly at the earliest
 * possible step, and positive answers before any run completed. */
static void test_spotting(void **st)
{
    (void)st;
    rc_example_result r[4] = {
        res(1, 1, 5, 1, -1, 0, 0, 0), /* positive, answered at earliest 5: earliest   */
        res(1, 1, 7, 1, -1, 0, 0, 0), /* positive, answered late                      */
        res(1, 1, 3, 1, -1, 0, 0, 0), /* positive, answered before its run: early FP  */
        res(0, 1, 2, 1, -1, 0, 0, 0), /* negative (no run), answered positive: FP     */
    };
    r[0].earliest = 5;
    r[1].earliest = 5;
    r[2].earliest = 5;
    r[3].earliest = -1;
    rc_metrics m = metrics_of(r, 4, 1);
    assert_int_equal(m.has_earliest, 1);
    assert_true(fabs(m.earliest_fraction - 1.0 / 3.0) < 1e-12);
    assert_true(m.early_false_positive_fraction == 0.5);
    assert_true(m.accuracy == 0.75);
}

/* Early stopping: only once the kept model reached the majority fraction,
 * and only when validation accuracy falls strictly below it. */
static void test_stop_below_majority(void **st)
{
    (void)st;
    assert_int_equal(rc_stop_below_majority(1, 0.9, 0.5, 0.6), 1);
    assert_int_equal(rc_stop_below_majority(1, 0.6, 0.59, 0.6), 1);  /* kept exactly at it */
    assert_int_equal(rc_stop_below_majority(1, 0.9, 0.6, 0.6), 0);   /* not below          */
    assert_int_equal(rc_stop_below_majority(1, 0.5, 0.4, 0.6), 0);   /* never above        */
    assert_int_equal(rc_stop_below_majority(0, 0.9, 0.4, 0.6), 0);   /* nothing kept yet   */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_case),
        cmocka_unit_test(test_end_needs_full_length),
        cmocka_unit_test(test_spotting),
        cmocka_unit_test(test_stop_below_majority),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
