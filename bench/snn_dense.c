/* snn_dense.c — event-driven LIF training against a dense step-by-step pass
 * of the same network, on temporal MNIST at its real input sparsity.
 *
 * Both sides run the same code, weights, examples and batches (training:
 * forward, surrogate BPTT, gradient reduction; EOS, so every example runs all
 * T steps and both do the same steps). The dense side (rc_engine_set_dense, sim/engine_test.h)
 * updates every neuron every step, delivers every input of every layer (zeros
 * included) and computes δo for every neuron, as a frame-based simulator would;
 * the event-driven side delivers only spikes and touches only what they reach.
 * Prints the measured input sparsity (events / (pixels · T)), synaptic events
 * per example on both sides, and examples/s.
 *
 *   build/bench/snn_dense [DATA_DIR] [LAYERS] [batches] [batch] [threads] [bias]
 *   defaults: ../shared/data/mnist "conv32k3p1 pool2 conv32k3p1 pool2 fc128 fc10" 3 400 2 1 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "base/clock.h"
#include "encoders/images.h"
#include "io/idx.h"
#include "models/net.h"
#include "sim/pool.h"
#include "sim/engine_test.h"

void openblas_set_num_threads(int);

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared/data/mnist";
    const char *layers = argc > 2 ? argv[2] : "conv32k3p1 pool2 conv32k3p1 pool2 fc128 fc10";
    const int nb = argc > 3 ? atoi(argv[3]) : 3, B = argc > 4 ? atoi(argv[4]) : 400;
    const int nth = argc > 5 ? atoi(argv[5]) : 2, bias = argc > 6 ? atoi(argv[6]) : 1;
    openblas_set_num_threads(1);
    rc_idx tri = { 0 }, trl = { 0 }, tei = { 0 }, tel = { 0 };
    rc_err err;
    if (rc_idx_read_set(dir, "train", 10, &tri, &trl, &err) || rc_idx_read_set(dir, "t10k", 10, &tei, &tel, &err)) {
        fprintf(stderr, "snn_dense: %s\n", err.msg);
        return 1;
    }
    rc_dataset *ds = rc_latency_new(1, 10, 0, 784, 10, tri.data, trl.data, tri.count, 5000, tei.data, tel.data, tei.count);
    ds->rows = ds->cols = 28;
    rc_net_shape sh = { .core = RC_CORE_LIF, .nin = 784, .K = 10 };
    char msg[256];
    if (rc_lif_parse(&sh.snn, layers, 1, 28, 28, msg, sizeof msg)) {
        fprintf(stderr, "snn_dense: %s\n", msg);
        return 2;
    }
    sh.snn.vth = 0.5f; sh.snn.tau = 0.2f; sh.snn.lens = 0.5f; sh.snn.bias = bias;
    sh.H = rc_lif_neurons(&sh.snn, sh.snn.nl - 2);
    rc_net *net = rc_net_new(&sh, 1);
    rc_pool *pool = rc_pool_new(nth, RC_PLACE_SPREAD, &err);
    rc_engine *e = net && pool ? rc_engine_new(net, ds, pool, B, &err) : NULL;
    if (!net || !pool || !e) { fprintf(stderr, "snn_dense: setup failed\n"); return 1; }
    int64_t *idx = malloc((size_t)B * sizeof *idx);
    rc_example_result *res = malloc((size_t)B * sizeof *res);
    rc_batch_opts o = { .train = 1, .stop_at_spike = 0, .loss_at_end = 1, .lif.vth_scale = 1 };
    /* Input sparsity of the examples used. */
    rc_events ev = { 0 };
    rc_example_info info;
    int64_t nev = 0;
    for (int i = 0; i < nb * B; i++) {
        ds->get(ds, RC_SPLIT_TRAIN, i, &ev, &info);
        nev += ev.nev;
    }
    rc_events_free(&ev);
    printf("network: %s (bias %d), batch %d, %d threads, %d batches, EOS (all 10 steps)\n", layers, bias, B, nth, nb);
    printf("input: %.1f events per example = %.4f of pixels x steps\n", (double)nev / (nb * B), (double)nev / ((double)nb * B * 784 * 10));
    double rate[2];
    for (int dense = 0; dense < 2; dense++) {
        if (rc_engine_set_dense(e, dense, &err)) { fprintf(stderr, "snn_dense: %s\n", err.msg); return 1; }
        double t0 = rc_now_s(), syn = 0;
        for (int b = 0; b < nb; b++) {
            for (int i = 0; i < B; i++) idx[i] = (int64_t)b * B + i;
            rc_net_zero_grad(net);
            if (rc_engine_batch(e, RC_SPLIT_TRAIN, idx, B, &o, res, NULL, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
            for (int i = 0; i < B; i++) syn += (double)res[i].synops;
        }
        const double dt = rc_now_s() - t0;
        rate[dense] = nb * B / dt;
        printf("%-13s training: %8.1f ex/s, %12.0f synaptic events per example (forward)\n",
               dense ? "dense" : "event-driven", rate[dense], syn / (nb * B));
    }
    printf("event-driven / dense: %.2fx\n", rate[0] / rate[1]);
    free(idx);
    free(res);
    rc_engine_free(e);
    rc_pool_free(pool);
    rc_net_free(net);
    rc_dataset_free(ds);
    return 0;
}
