/* plan.c — cost-weighted partitions and the per-thread plan (see plan.h). */
#include "sim/plan.h"

#include <stdlib.h>
#include <string.h>
#include "models/convlstm.h"
#include "models/lstm.h"
#include "sim/pool.h" /* rc_partition */

/* Can n items be cut into at most nth contiguous parts of weight <= L? */
static int fits(const uint64_t *w, size_t n, int nth, uint64_t L)
{
    int parts = 1;
    uint64_t cur = 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] > L) return 0;
        if (cur + w[i] > L) {
            if (++parts > nth) return 0;
            cur = w[i];
        } else
            cur += w[i];
    }
    return 1;
}

void rc_partition_weighted(const uint64_t *w, size_t n, int nth, size_t *bounds)
{
    RC_ASSERT(nth >= 1 && (n == 0 || w));
    uint64_t *P = malloc((n + 1) * sizeof *P);      /* prefix sums */
    size_t *minstart = malloc(((size_t)nth + 1) * sizeof *minstart);
    RC_ASSERT(P && minstart);
    P[0] = 0;
    uint64_t maxw = 0;
    for (size_t i = 0; i < n; i++) {
        P[i + 1] = P[i] + w[i];
        maxw = w[i] > maxw ? w[i] : maxw;
    }
    const uint64_t total = P[n];
    /* Smallest feasible bound L*: at least the heaviest item and the mean. */
    uint64_t lo = (total + (uint64_t)nth - 1) / (uint64_t)nth, hi = total;
    if (lo < maxw) lo = maxw;
    if (hi < lo) hi = lo;
    while (lo < hi) {
        const uint64_t mid = lo + (hi - lo) / 2;
        if (fits(w, n, nth, mid)) hi = mid;
        else lo = mid + 1;
    }
    const uint64_t L = lo;
    /* minstart[k]: the smallest s such that [s, n) fits in k parts of <= L
     * (greedy from the end, which is optimal for this). */
    minstart[0] = n;
    for (int k = 1; k <= nth; k++) {
        size_t s = minstart[k - 1];
        while (s > 0 && P[minstart[k - 1]] - P[s - 1] <= L) s--;
        minstart[k] = s;
    }
    bounds[0] = 0;
    for (int i = 0; i + 1 < nth; i++) {
        const size_t b = bounds[i];
        /* Feasible ends: this part <= L, and the rest fits in the parts left.
         * The optimum guarantees a non-empty range [e_lo, e_hi]. */
        size_t e_lo = minstart[nth - i - 1] > b ? minstart[nth - i - 1] : b, e_hi = b;
        while (e_hi < n && P[e_hi + 1] - P[b] <= L) e_hi++;
        RC_ASSERT(e_lo <= e_hi);
        /* Nearest to the ideal prefix (i+1)·total/nth, compared exactly. */
        const unsigned __int128 target = (unsigned __int128)(i + 1) * total;
        size_t best = e_lo;
        unsigned __int128 bestd = 0;
        for (size_t e = e_lo; e <= e_hi; e++) {
            const unsigned __int128 v = (unsigned __int128)P[e] * (unsigned)nth;
            const unsigned __int128 d = v > target ? v - target : target - v;
            if (e == e_lo || d < bestd) {
                best = e;
                bestd = d;
            }
        }
        bounds[i + 1] = best;
    }
    bounds[nth] = n;
    free(P);
    free(minstart);
}

void rc_plan_free(rc_plan *p)
{
    if (!p) return;
    for (int l = 0; l < p->nlayers; l++) {
        free(p->layer[l].bounds);
        free(p->layer[l].neurons);
        free(p->layer[l].cost);
    }
    free(p->place);
    free(p->own_lo);
    free(p->own_hi);
    free(p);
}

/* Adds a layer; bounds from the weighted partitioner, or, with equal = 1,
 * from rc_partition (what the engine uses for per-step row splits). */
static int add_layer(rc_plan *p, const char *name, const char *item, const char *neuron, const uint64_t *w,
                     size_t n, const long long *neurons, double cost_per_weight, int equal)
{
    if (p->nlayers >= RC_PLAN_MAX_LAYERS) return -1;
    rc_layer_plan *L = &p->layer[p->nlayers];
    memset(L, 0, sizeof *L);
    snprintf(L->name, sizeof L->name, "%s", name);
    snprintf(L->item, sizeof L->item, "%s", item);
    snprintf(L->neuron, sizeof L->neuron, "%s", neuron);
    L->nitems = n;
    L->bounds = malloc(((size_t)p->nth + 1) * sizeof *L->bounds);
    L->neurons = calloc((size_t)p->nth, sizeof *L->neurons);
    L->cost = calloc((size_t)p->nth, sizeof *L->cost);
    if (!L->bounds || !L->neurons || !L->cost) {
        free(L->bounds);
        free(L->neurons);
        free(L->cost);
        return -1;
    }
    if (equal) {
        for (int i = 0; i < p->nth; i++) rc_partition(n, i, p->nth, &L->bounds[i], &L->bounds[i + 1]);
    } else
        rc_partition_weighted(w, n, p->nth, L->bounds);
    double maxc = 0, sum = 0;
    for (int i = 0; i < p->nth; i++) {
        for (size_t k = L->bounds[i]; k < L->bounds[i + 1]; k++) {
            L->neurons[i] += neurons ? neurons[k] : 1;
            L->cost[i] += (double)w[k] * cost_per_weight;
        }
        maxc = L->cost[i] > maxc ? L->cost[i] : maxc;
        sum += L->cost[i];
    }
    L->imbalance = sum > 0 ? maxc / (sum / p->nth) : 1.0;
    return p->nlayers++;
}

int rc_plan_add_layer(rc_plan *p, const char *name, const char *item, const char *neuron,
                      const uint64_t *w, size_t n, const long long *neurons, double cost_per_weight)
{
    return add_layer(p, name, item, neuron, w, n, neurons, cost_per_weight, 0);
}

rc_plan *rc_plan_new(const rc_net_shape *s, int batch, int nth, const rc_thread_place *place, rc_err *err)
{
    RC_ASSERT(nth >= 1 && batch >= 1);
    rc_plan *p = calloc(1, sizeof *p);
    uint64_t *w = NULL;
    long long *nn = NULL;
    if (!p) goto nomem;
    p->nth = nth;
    p->tiles_layer = -1;
    p->own_lo = calloc((size_t)nth, sizeof *p->own_lo);
    p->own_hi = calloc((size_t)nth, sizeof *p->own_hi);
    if (!p->own_lo || !p->own_hi) goto nomem;
    if (place) {
        if (!(p->place = malloc((size_t)nth * sizeof *p->place))) goto nomem;
        memcpy(p->place, place, (size_t)nth * sizeof *p->place);
    }
    char name[96];
    if (s->core == RC_CORE_CONVLSTM) {
        const rc_convlstm_shape *cs = &s->conv;
        const double P = (double)cs->Hh * cs->Ww, KK = (double)cs->k * cs->k;
        /* Rows (examples): forward conv(h), ∂h and ∂W_h, each 4C·C·KK·P MAC
         * per row-step; every row costs the same, and the engine splits each
         * step's active rows with rc_partition (shown here for a full batch). */
        const int ntiles = rc_convlstm_ntiles(cs->C);
        const size_t nmax = (size_t)batch > (size_t)ntiles ? (size_t)batch : (size_t)ntiles;
        if (!(w = malloc(nmax * sizeof *w)) || !(nn = malloc(nmax * sizeof *nn))) goto nomem;
        for (int r = 0; r < batch; r++) w[r] = 1;
        snprintf(name, sizeof name, "ConvLSTM C=%d k=%d %dx%d: rows of the batch (forward, dh, dW_h)", cs->C,
                 cs->k, cs->Hh, cs->Ww);
        if (add_layer(p, name, "row", "examples", w, (size_t)batch, NULL, 3.0 * 4.0 * cs->C * cs->C * KK * P, 1) < 0)
            goto nomem;
        /* Channel tiles: elementwise gate backward and ∂W_x, cost ∝ channels. */
        for (int k = 0; k < ntiles; k++) {
            w[k] = (uint64_t)rc_convlstm_tile_w(cs->C, k);
            nn[k] = (long long)w[k];
        }
        snprintf(name, sizeof name, "ConvLSTM C=%d: channel tiles of %d (gate backward, dW_x)", cs->C,
                 RC_CONVLSTM_TILE);
        if ((p->tiles_layer = rc_plan_add_layer(p, name, "tile", "channels", w, (size_t)ntiles, nn,
                                                4.0 * 4.0 * P)) < 0)
            goto nomem;
    } else {
        const int H = s->H, ntiles = rc_lstm_ntiles(H);
        if (!(w = malloc((size_t)ntiles * sizeof *w)) || !(nn = malloc((size_t)ntiles * sizeof *nn))) goto nomem;
        for (int k = 0; k < ntiles; k++) {
            w[k] = (uint64_t)rc_lstm_tile_w(H, k);
            nn[k] = (long long)w[k];
        }
        /* Per unit and row-step: 4H MAC forward, 4H for ∂h, 4H for ∂W_hh. */
        snprintf(name, sizeof name, "LSTM %d units: tiles of %d (forward, backward, dW)", H, RC_LSTM_TILE);
        if ((p->tiles_layer = rc_plan_add_layer(p, name, "tile", "units", w, (size_t)ntiles, nn, 12.0 * H)) < 0)
            goto nomem;
        const rc_layer_plan *L = &p->layer[p->tiles_layer];
        for (int i = 0; i < nth; i++) {
            const size_t u0 = L->bounds[i] * RC_LSTM_TILE < (size_t)H ? L->bounds[i] * RC_LSTM_TILE : (size_t)H;
            const size_t u1 = L->bounds[i + 1] * RC_LSTM_TILE < (size_t)H ? L->bounds[i + 1] * RC_LSTM_TILE
                                                                          : (size_t)H;
            p->own_lo[i] = 4 * u0 * (size_t)H;
            p->own_hi[i] = 4 * u1 * (size_t)H;
        }
    }
    /* HOOK(LIF, issue 5): a LIF layer adds itself here with
     * rc_plan_add_layer(p, name, "neuron", "neurons", w, n, NULL, c), where
     * w[k] is neuron k's expected event load (fan-in × input rate per step)
     * and c the cost of one event; the partition then balances events. */
    free(w);
    free(nn);
    return p;
nomem:
    free(w);
    free(nn);
    rc_plan_free(p);
    rc_err_set(err, RC_ERR_NOMEM, "plan: out of memory planning %d threads", nth);
    return NULL;
}

static void human(double v, char *buf, size_t cap)
{
    if (v >= 1e9) snprintf(buf, cap, "%.2fG", v / 1e9);
    else if (v >= 1e6) snprintf(buf, cap, "%.2fM", v / 1e6);
    else if (v >= 1e3) snprintf(buf, cap, "%.1fk", v / 1e3);
    else snprintf(buf, cap, "%.0f", v);
}

void rc_plan_print(const rc_plan *p, FILE *f)
{
    for (int l = 0; l < p->nlayers; l++) {
        const rc_layer_plan *L = &p->layer[l];
        fprintf(f, "  %s, %zu %ss:\n", L->name, L->nitems, L->item);
        for (int i = 0; i < p->nth; i++) {
            char c[32];
            human(L->cost[i], c, sizeof c);
            fprintf(f, "    thread %d", i);
            if (p->place) fprintf(f, " (core %d, NUMA %d)", p->place[i].core, p->place[i].numa);
            /* Row layers: the thread's rows of a full batch; unit tiles: one example. */
            fprintf(f, ": %ss [%zu, %zu), %lld %s, %s MAC per %s (training)", L->item, L->bounds[i],
                    L->bounds[i + 1], L->neurons[i], L->neuron, c,
                    strcmp(L->item, "row") == 0 ? "step of the batch" : "example-step");
            if (l == p->tiles_layer && p->own_hi[i] > p->own_lo[i]) {
                const double kib = (double)(p->own_hi[i] - p->own_lo[i]) * sizeof(float) / 1024.0;
                fprintf(f, "; owns %.0f KiB of w_hh (x4: params, grads, Adam m, v)", kib);
                if (p->place && p->place[i].numa >= 0) fprintf(f, " on NUMA %d", p->place[i].numa);
            }
            fputc('\n', f);
        }
        fprintf(f, "    imbalance max/mean: %.3f\n", L->imbalance);
    }
}
