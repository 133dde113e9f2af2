/* plan.h — who computes what: each layer's work split into contiguous,
 * cost-weighted partitions, one per thread, with the NUMA node each part's
 * memory lives on.
 *
 * Items are the engine's units of work, whose shapes never depend on the
 * thread count: LSTM tiles of RC_LSTM_TILE units, ConvLSTM tiles of
 * RC_CONVLSTM_TILE channels, ConvLSTM rows (examples). An item's weight is
 * its expected cost; today an item's cost is proportional to its width (the
 * last LSTM tile of H = 340 has 4 units, not 16), but the partitioner takes
 * any weights. The LIF engine backend (sim/engine_lif.c) does not use a
 * plan today: it hands out whole examples in fixed chunks; a spiking layer
 * split across threads would weight its neurons by expected event load
 * (rc_plan_add_layer with per-neuron weights).
 *
 * A partition only decides which thread computes an item, never the order
 * of a sum, so results stay bit-identical for any thread count.
 *
 * Memory: thread ith owns the recurrent weight rows of its LSTM tiles
 * (w_hh rows [4·u0, 4·u1), contiguous in the tiled layout) in the
 * parameters, gradients and both Adam moments; the LSTM engine backend
 * (sim/engine_lstm.c) binds those pages to the thread's NUMA node
 * (sim/numa.h) and has the Adam update of that range run on that thread
 * (rc_adam_set_owned, sim/adam.h). Everything else (input weights, biases,
 * head, activations with all units of a row side by side, the whole
 * ConvLSTM, whose forward is split by rows) is read by every thread and is
 * interleaved over the nodes the threads use. */
#ifndef RC_PLAN_H
#define RC_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "models/net.h"
#include "base/status.h"
#include "sim/topo.h"

/* Contiguous partition of n items with weights w[0..n) into nth >= 1 parts:
 * part i is [bounds[i], bounds[i+1]), bounds[0] = 0, bounds[nth] = n.
 * Minimises the largest part's weight (exactly: binary search on the bound
 * with a greedy check). Among the partitions reaching that optimum, each
 * boundary is the feasible one whose prefix weight is nearest to
 * (i+1)·total/nth, ties to the lower index — so equal weights give equal
 * shares. Deterministic; parts may be empty (more threads than items).
 * Weights must sum to less than 2^63. */
void rc_partition_weighted(const uint64_t *w, size_t n, int nth, size_t *bounds);

#define RC_PLAN_MAX_LAYERS 8

typedef struct {
    char name[96];        /* "LSTM 340 units: tiles of 16 (forward, backward, dW)" */
    char item[24];        /* "tile", "row", "channel tile"                       */
    char neuron[24];      /* what a neuron is here: "units", "examples", "channels" */
    size_t nitems;
    size_t *bounds;       /* (nth + 1) item ranges                              */
    long long *neurons;   /* (nth) neurons per thread                           */
    double *cost;         /* (nth) estimated multiply-accumulates per row-step  */
    double imbalance;     /* max / mean of cost (1 = perfect)                   */
} rc_layer_plan;

typedef struct {
    int nth;
    rc_thread_place *place;         /* (nth), or NULL when planned without a machine */
    int nlayers;
    rc_layer_plan layer[RC_PLAN_MAX_LAYERS];
    int tiles_layer;                /* index of the layer whose bounds the engine's
                                       tile loops use                               */
    /* Parameter ownership, float offsets relative to net->w_hh: thread ith
     * owns [own_lo[ith], own_hi[ith]) (empty for the ConvLSTM). */
    size_t *own_lo, *own_hi;        /* (nth) */
} rc_plan;

/* Plan of the network of shape s for a batch of `batch` rows over nth
 * threads placed at place[0..nth) (NULL: unknown nodes). NULL + err on
 * allocation failure. */
rc_plan *rc_plan_new(const rc_net_shape *s, int batch, int nth, const rc_thread_place *place, rc_err *err);
void rc_plan_free(rc_plan *p); /* NULL is a no-op */

/* Generic layer: n items with weights w (expected cost, any unit),
 * neurons[k] neurons in item k (NULL = 1 each), cost_per_weight converts a
 * weight into multiply-accumulates per row-step for the report. Returns the
 * layer's index, or -1 (full, or out of memory). */
int rc_plan_add_layer(rc_plan *p, const char *name, const char *item, const char *neuron,
                      const uint64_t *w, size_t n, const long long *neurons, double cost_per_weight);

/* Human-readable plan: per layer and thread the item range, neurons,
 * estimated cost, node, and the imbalance. */
void rc_plan_print(const rc_plan *p, FILE *f);

#endif
