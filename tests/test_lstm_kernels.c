/* test_lstm_kernels.c — rc_lstm_backward_weights' input-event gradient, which
 * groups the events by channel and keeps each tile's sums in registers,
 * against the plain loop it replaced (one event at a time, rows in order):
 * bit for bit, since grouping must not change any sum's order. Full tiles
 * and a partial last tile, repeated channels within a row, rows without
 * events, a weight gradient that already holds values, and the ungrouped
 * loop that runs when a row has a dense input. The biases'
 * gradient is checked against float64 sums, the recurrent weights' (rc_gemm)
 * against a float64 product, and leaving out the rows whose h_{t−1} is 0
 * must not change a bit of it. */
#include "tests/testutil.h"
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "models/lstm.h"

static float frand(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(*s >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
}

/* The reference: the plain loop the grouped one replaced, tile by tile, rows
 * and events in order, adding each event's outer product into dwi. */
static void plain_loop(float *dwi, const float *dgate, const rc_step_input *in, int H, int N)
{
    const int G4 = 4 * H;
    for (int k = 0; k < rc_lstm_ntiles(H); k++) {
        const int rb = 4 * RC_LSTM_TILE * k, nr = 4 * rc_lstm_tile_w(H, k);
        for (int r = 0; r < N; r++)
            for (int e = in->beg[r]; e < in->end[r]; e++) {
                const float v = in->val[r][e], *d = dgate + (size_t)r * G4 + rb;
                float *wc = dwi + (size_t)in->ch[r][e] * G4 + rb;
                for (int j = 0; j < nr; j++) wc[j] += v * d[j];
            }
    }
}

static void check(int H, int nin, int N)
{
    const int G4 = 4 * H, nt = rc_lstm_ntiles(H);
    uint64_t s = 12345u + (uint64_t)H;
    float *dgate = malloc((size_t)N * G4 * sizeof *dgate), *hp = malloc((size_t)N * H * sizeof *hp);
    for (int i = 0; i < N * G4; i++) dgate[i] = frand(&s);
    for (int i = 0; i < N * H; i++) hp[i] = frand(&s);
    /* Events: row r has r % 5 events (none for r % 5 == 0), channels drawn
     * with repeats; each row's arrays are its own. */
    int *beg = calloc((size_t)N, sizeof *beg), *end = calloc((size_t)N, sizeof *end);
    int32_t **chr = calloc((size_t)N, sizeof *chr);
    float **valr = calloc((size_t)N, sizeof *valr);
    for (int r = 0; r < N; r++) {
        const int ne = r % 5;
        beg[r] = 1; /* events start past index 0: beg is honoured */
        end[r] = 1 + ne;
        chr[r] = malloc((size_t)(ne + 1) * sizeof **chr);
        valr[r] = malloc((size_t)(ne + 1) * sizeof **valr);
        chr[r][0] = -7; /* never read */
        for (int e = 1; e <= ne; e++) {
            chr[r][e] = (int32_t)((uint32_t)(frand(&s) * 1e6f + 2e6f) % (uint32_t)nin);
            valr[r][e] = frand(&s);
        }
        if (ne >= 2) chr[r][2] = chr[r][1]; /* a channel twice in one row */
    }
    const rc_step_input in = { beg, end, (const int32_t *const *)chr, (const float *const *)valr, NULL, NULL, nin };
    const size_t nw = (size_t)nin * G4;
    float *dwi = malloc(nw * sizeof *dwi), *ref = malloc(nw * sizeof *ref);
    float *dwh = calloc((size_t)G4 * H, sizeof *dwh), *dbi = calloc((size_t)G4, sizeof *dbi);
    float *dbh = calloc((size_t)G4, sizeof *dbh);
    for (size_t i = 0; i < nw; i++) dwi[i] = ref[i] = 0.25f * frand(&s);
    plain_loop(ref, dgate, &in, H, N);
    /* Two calls over split tile ranges, as two threads would make them. */
    rc_lstm_backward_weights(dwi, dwh, dbi, dbh, dgate, hp, &in, N, 0, H, 0, nt / 2);
    rc_lstm_backward_weights(dwi, dwh, dbi, dbh, dgate, hp, &in, N, 0, H, nt / 2, nt);
    assert_memory_equal(dwi, ref, nw * sizeof *dwi);
    /* With a dense row the events are not grouped: the one-at-a-time loop
     * (row 0 has no events; its dense input is zero, so its sgemm adds +0
     * and the events must again give the reference's bits). */
    float *x = calloc((size_t)N * nin, sizeof *x), *dwi2 = malloc(nw * sizeof *dwi2);
    unsigned char *xrow = calloc((size_t)N, 1);
    xrow[0] = 1;
    const rc_step_input inx = { beg, end, (const int32_t *const *)chr, (const float *const *)valr, x, xrow, nin };
    memcpy(dwi2, dwi, nw * sizeof *dwi2);
    memcpy(ref, dwi, nw * sizeof *ref);
    plain_loop(ref, dgate, &in, H, N);
    float *scratch = calloc((size_t)G4 * H, sizeof *scratch), *sb = calloc(2 * (size_t)G4, sizeof *sb);
    rc_lstm_backward_weights(dwi2, scratch, sb, sb + G4, dgate, hp, &inx, N, 0, H, 0, nt);
    assert_memory_equal(dwi2, ref, nw * sizeof *dwi2);
    free(x), free(dwi2), free(xrow), free(scratch), free(sb);
    double worst = 0;
    for (int j = 0; j < G4; j++) {
        double b = 0;
        for (int r = 0; r < N; r++) b += dgate[(size_t)r * G4 + j];
        worst = fmax(worst, fmax(fabs(dbi[j] - b), fabs(dbh[j] - b)));
        for (int u = 0; u < H; u += 7) {
            double w = 0;
            for (int r = 0; r < N; r++) w += (double)dgate[(size_t)r * G4 + j] * hp[(size_t)r * H + u];
            worst = fmax(worst, fabs(dwh[(size_t)j * H + u] - w) / (1 + fabs(w)));
        }
    }
    assert_true(worst < 1e-4);
    /* Rows whose h_{t−1} is 0 (step 0) left out of ∂W_h: the same bits. */
    const int n0 = N / 4;
    memset(hp, 0, (size_t)n0 * H * sizeof *hp);
    float *dwh0 = calloc((size_t)G4 * H, sizeof *dwh0), *dwh1 = calloc((size_t)G4 * H, sizeof *dwh1);
    rc_lstm_backward_weights(dwi, dwh0, dbi, dbh, dgate, hp, &in, N, 0, H, 0, nt);
    rc_lstm_backward_weights(dwi, dwh1, dbi, dbh, dgate, hp, &in, N, n0, H, 0, nt);
    assert_memory_equal(dwh0, dwh1, (size_t)G4 * H * sizeof *dwh0);
    free(dwh0), free(dwh1);
    for (int r = 0; r < N; r++) free(chr[r]), free(valr[r]);
    free(chr), free(valr), free(beg), free(end);
    free(dgate), free(hp), free(dwi), free(ref), free(dwh), free(dbi), free(dbh);
}

static void test_full_tiles(void **st) { (void)st; check(64, 28, 300); }
static void test_partial_tile(void **st) { (void)st; check(40, 9, 77); }
static void test_one_channel(void **st) { (void)st; check(20, 1, 50); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_tiles),
        cmocka_unit_test(test_partial_tile),
        cmocka_unit_test(test_one_channel),
    };
    return cmocka_run_group_tests_name("lstm_kernels", tests, NULL, NULL);
}
