/* scaling.c — one point of the scaling benchmark (bench/scaling.sh runs the
 * sweeps): times full-length training steps of one model on N pinned threads
 * and prints one CSV row.
 *
 * A step is one training batch: forward over all T time steps (EOS, so the
 * work does not depend on when examples would spike), BPTT, one Adam update.
 * Inputs are a synthetic event stream on a 28x28 grid (784 channels, the
 * temporal-MNIST input size): each (step, channel) is active with
 * probability --active, drawn by geometric skips from a counter-based RNG so
 * the generator costs O(events), not O(channels x steps), and the same index
 * always gives the same events.
 *
 *   build/bench/scaling --model lstm|convlstm|lif --units N --threads P
 *                       [--batch B] [--steps T] [--active F] [--batches N]
 *                       [--warmup W] [--placement spread|compact] [--header]
 *   build/bench/scaling --cores        (prints the number of cores hwloc sees)
 *
 * --units is LSTM hidden units or ConvLSTM channels. Columns:
 *   model, units, threads, placement, batch, steps, input_active, batches,
 *   ms_per_step, examples_per_s, events_per_s, gmac_per_s, blas_core
 * events_per_s counts input events consumed per second; gmac_per_s the
 * recurrent multiply-accumulates of forward, dh and dW (3 products).
 *
 * `--model lif`: a LIF layer of N neurons (fc N -> fc 10, models/lif.h) under
 * the same input events; gmac_per_s is 0 (its work is synaptic events). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "base/clock.h"
#include "encoders/dataset.h"
#include "models/net.h"
#include "sim/engine.h"
#include "sim/pool.h"
#include "base/rng.h"

void openblas_set_num_threads(int);
char *openblas_get_corename(void);

#define SIDE 28
#define NIN (SIDE * SIDE)

typedef struct { double active; } sparse_priv;

static rc_status sparse_get(const rc_dataset *ds, rc_split split, int64_t index, rc_events *ev,
                            rc_example_info *info)
{
    const sparse_priv *sp = ds->priv;
    const int T = ds->T;
    const long long total = (long long)NIN * T;
    rc_status st = rc_events_reset(ev, T);
    if (st) return st;
    const uint64_t key = (uint64_t)index * 4 + (uint64_t)split;
    if (sp->active >= 1.0) {
        for (long long pos = 0; pos < total && !st; pos++) st = rc_events_push(ev, (int)(pos / NIN), (int)(pos % NIN), 1.0f);
    } else if (sp->active > 0) {
        const double lq = log1p(-sp->active);
        long long pos = -1;
        for (uint64_t k = 0; !st; k++) {
            const double u = rc_uniform(ds->seed, RC_STREAM_TRAIN, key, k);
            pos += 1 + (long long)floor(log1p(-u) / lq); /* geometric gap */
            if (pos >= total) break;
            st = rc_events_push(ev, (int)(pos / NIN), (int)(pos % NIN), 1.0f);
        }
    }
    if (st) return st;
    rc_events_finish(ev);
    info->label = (int)(index % 10);
    info->earliest = -1;
    return RC_OK;
}

static int usage(const char *why)
{
    fprintf(stderr, "scaling: %s\nusage: scaling --model lstm|convlstm|lif --units N --threads P [--batch B] "
                    "[--steps T] [--active F] [--batches N] [--warmup W] [--placement spread|compact] [--header]\n",
            why);
    return 2;
}

int main(int argc, char **argv)
{
    const char *model = "lstm", *placement = "spread";
    int units = 340, nth = 1, B = 128, T = 10, nb = 10, warm = 2, header = 0;
    double active = 1.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--header")) { header = 1; continue; }
        if (!strcmp(a, "--cores")) { printf("%d\n", rc_hw_ncores()); return 0; }
        if (!v) return usage("missing value");
        if (!strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--units")) units = atoi(v);
        else if (!strcmp(a, "--threads")) nth = atoi(v);
        else if (!strcmp(a, "--batch")) B = atoi(v);
        else if (!strcmp(a, "--steps")) T = atoi(v);
        else if (!strcmp(a, "--active")) active = atof(v);
        else if (!strcmp(a, "--batches")) nb = atoi(v);
        else if (!strcmp(a, "--warmup")) warm = atoi(v);
        else if (!strcmp(a, "--placement")) placement = v;
        else return usage(a);
        i++;
    }
    if (header)
        printf("model,units,threads,placement,batch,steps,input_active,batches,ms_per_step,examples_per_s,"
               "events_per_s,gmac_per_s,blas_core\n");
    const int conv = !strcmp(model, "convlstm"), lif = !strcmp(model, "lif");
    if ((!conv && !lif && strcmp(model, "lstm")) || units < 1 || nth < 1 || B < 1 || T < 1 || nb < 1 || warm < 0 ||
        !(active >= 0 && active <= 1) || (strcmp(placement, "spread") && strcmp(placement, "compact")))
        return usage("bad argument");

    openblas_set_num_threads(1); /* our pool is the only busy one */
    sparse_priv *sp = malloc(sizeof *sp);
    if (!sp) return 1;
    sp->active = active;
    rc_dataset *ds = rc_dataset_new("sparse", T, NIN, 10, 1, sparse_get, NULL, sp);
    if (!ds) return 1;
    ds->rows = SIDE;
    ds->cols = SIDE;
    rc_net_shape s = { .nin = NIN, .K = 10 };
    double macs_per_row_step;
    if (lif) {
        /* A LIF layer of `units` neurons fed by the 784 input events, and a
         * LIF output layer of 10 (defaults of model.v_th/tau/lens, rect
         * surrogate, multiplicative reset, no bias: fully event-driven).
         * Its cost is the synaptic events, not MACs: gmac_per_s reports 0. */
        char layers[64], msg[256];
        snprintf(layers, sizeof layers, "fc%d fc10", units);
        if (rc_lif_parse(&s.snn, layers, 1, SIDE, SIDE, msg, sizeof msg)) return usage(msg);
        s.snn.vth = 0.5f;
        s.snn.tau = 0.2f;
        s.snn.lens = 0.5f;
        s.snn.surr = RC_LIF_SURR_RECT;
        s.snn.reset = RC_RESET_MULT;
        s.core = RC_CORE_LIF;
        s.H = units;
        macs_per_row_step = 0;
    } else if (conv) {
        s.core = RC_CORE_CONVLSTM;
        s.conv = (rc_convlstm_shape){ .C = units, .Cin = 1, .Hh = SIDE, .Ww = SIDE, .k = 5 };
        s.H = units * NIN;
        macs_per_row_step = 3.0 * 4.0 * units * units * 25.0 * NIN;
    } else {
        s.H = units;
        macs_per_row_step = 3.0 * 4.0 * (double)units * units;
    }
    rc_err err = { "" };
    rc_pool *pool = rc_pool_new(nth, strcmp(placement, "compact") ? RC_PLACE_SPREAD : RC_PLACE_COMPACT, &err);
    rc_net *net = pool ? rc_net_new(&s, 1) : NULL;
    rc_engine *eng = net ? rc_engine_new(net, ds, pool, B, &err) : NULL;
    int64_t *idx = malloc((size_t)B * sizeof *idx);
    rc_example_result *res = malloc((size_t)B * sizeof *res);
    rc_events ev = { 0 };
    if (!eng || !idx || !res) {
        fprintf(stderr, "scaling: setup failed: %s\n", err.msg[0] ? err.msg : "out of memory");
        return 1;
    }
    rc_batch_opts o = { .train = 1, .stop_at_spike = 0, .loss_at_end = 1, .lstm.threshold = 1.0 };
    double t0 = 0;
    long long events = 0;
    for (int b = 0; b < warm + nb; b++) {
        if (b == warm) t0 = rc_now_s();
        for (int i = 0; i < B; i++) idx[i] = (int64_t)b * B + i;
        rc_net_zero_grad(net);
        rc_status st = rc_engine_batch(eng, RC_SPLIT_TRAIN, idx, B, &o, res, NULL, &err);
        if (st) {
            fprintf(stderr, "scaling: batch failed: %s\n", err.msg);
            return 1;
        }
        rc_engine_adam(eng, 1e-4, 0.9, 0.999, 1e-8, 0, b + 1);
    }
    const double dt = rc_now_s() - t0;
    /* Events of the timed batches, counted outside the timing. */
    for (int b = warm; b < warm + nb; b++)
        for (int i = 0; i < B; i++) {
            rc_example_info info;
            if (sparse_get(ds, RC_SPLIT_TRAIN, (int64_t)b * B + i, &ev, &info) == RC_OK) events += ev.nev;
        }
    printf("%s,%d,%d,%s,%d,%d,%g,%d,%.3f,%.1f,%.4g,%.2f,%s\n", model, units, nth, placement, B, T, active, nb,
           1e3 * dt / nb, (double)B * nb / dt, (double)events / dt, macs_per_row_step * B * T * nb / dt / 1e9,
           openblas_get_corename());
    rc_events_free(&ev);
    free(idx);
    free(res);
    rc_engine_free(eng);
    rc_net_free(net);
    rc_pool_free(pool);
    rc_dataset_free(ds);
    return 0;
}
