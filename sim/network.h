/* network.h — networks of point neurons (the NEST/Brian2 workload):
 * populations of models/neuron.h neurons, random projections with delays,
 * Poisson and spike-file sources, spike and membrane recording.
 *
 * The engine follows NEST's design. Time is an integer step count (step s =
 * the interval (s·h, (s+1)·h]). Neurons advance in slices of d_min steps (the
 * smallest delay); after each slice the threads exchange the spikes of the
 * slice once. Neurons are dealt round-robin over the pool's threads (global id
 * g goes to thread g % nth, local index g / nth), so every population is
 * spread evenly; a thread stores its neurons' state, ring buffers (d_min +
 * d_max slots per input channel) and *incoming* synapses grouped by source,
 * allocated and first-touched by that thread and bound to its NUMA node. Only
 * the owner writes a ring buffer: no locks or atomics on the hot path.
 *
 * A spike emitted in step s over a synapse of delay d (steps) is added to the
 * target's input of step s + d; its recorded time is (s+1)·h (NEST's stamp).
 *
 * Across MPI ranks (sim/comm.h; started by mpirun) the same scheme holds
 * with virtual processes: rank r's thread ith is VP vp = ith · nranks + r,
 * owns the ids g with g % (nth · nranks) == vp, and builds only their
 * incoming synapses; after each slice thread 0 of every rank exchanges the
 * slice's spikes with the others (MPI_Allgatherv of 32-bit ids) and all
 * threads deliver the merged list (network_mpi.c). rc_network_new, _run,
 * _popstat, _spikes and _info are then collective (every rank calls them,
 * in the same order); popstat, spikes and membrane recordings are complete
 * on rank 0 only.
 *
 * Results depend on the spec and seed only, never on the thread or rank count:
 * connectivity is drawn per target (per source for fixed_outdegree) from the
 * counter-based RNG, Poisson counts per (source, neuron, step), initial V per
 * (population, neuron), and every ring-buffer slot sums its inputs in one
 * canonical order (slices in time order; within a slice, spikes by (step,
 * source id); per spike, projections in spec order; per projection, synapses
 * in target-then-draw order; Poisson input last). */
#ifndef RC_NETWORK_H
#define RC_NETWORK_H

#include <stddef.h>
#include <stdint.h>
#include "base/status.h"
#include "encoders/dataset.h"
#include "models/neuron.h"
#include "sim/pool.h"

enum { RC_NET_MAXPOP = 16, RC_NET_MAXPROJ = 64, RC_NET_MAXSRC = 16, RC_NET_MAXREC = 16,
       RC_NET_NAMELEN = 32, RC_NET_MAXVM = 64 };

/* A constant or a random value: uniform in [a, b], or normal (mean a, sd b)
 * clipped to [lo, hi]. */
typedef enum { RC_DIST_CONST = 0, RC_DIST_UNIFORM = 1, RC_DIST_NORMAL = 2 } rc_dist_kind;
typedef struct {
    rc_dist_kind kind;
    double a, b, lo, hi;
} rc_dist;

typedef struct {
    char name[RC_NET_NAMELEN];
    int n;                     /* neurons                                  */
    rc_nrn_params p;
} rc_net_pop;

typedef enum {
    RC_RULE_FIXED_INDEGREE = 0, RC_RULE_FIXED_OUTDEGREE, RC_RULE_BERNOULLI, RC_RULE_ONE_TO_ONE,
    RC_RULE_ALL_TO_ALL
} rc_net_rule;

/* Synapses from population src onto population tgt. The input channel is
 * excitatory for weights >= 0, inhibitory below (NEST's sign convention); a
 * weight distribution must not cross 0. Weights: mV (psc_delta), pA
 * (psc_exp), nS (cond_exp); delays in ms, rounded to steps >= 1. */
typedef struct {
    char name[RC_NET_NAMELEN];
    int src, tgt;              /* population indices                       */
    rc_net_rule rule;
    int degree;                /* fixed_indegree / fixed_outdegree         */
    double p;                  /* pairwise_bernoulli                       */
    int autapses, multapses;   /* 1 = allowed (NEST's defaults: both 1)    */
    rc_dist weight, delay;
} rc_net_proj;

typedef enum { RC_SRC_POISSON = 0, RC_SRC_SPIKES = 1, RC_SRC_IMAGES = 2 } rc_net_src_kind;

/* An input: RC_SRC_POISSON gives every target neuron its own Poisson train
 * (rate_hz) during [start_ms, stop_ms); RC_SRC_SPIKES replays given spikes
 * (times in ms, node ids 0-based within the target range) as if emitted by
 * virtual neurons: spike at time t acts on the input of step round(t/h) -
 * 1 + delay. RC_SRC_IMAGES presents example (example0 + w) mod size[split]
 * of the dataset `images` in window w = [w·window, (w+1)·window) steps: its
 * event of encoder step k on channel c is emitted by virtual neuron c in
 * step w·window + k·step_every and acts on target first + c in that step +
 * delay (count must be the dataset's channel count). Targets: neurons
 * [first, first + count) of population tgt (count 0 = all). */
typedef struct {
    char name[RC_NET_NAMELEN];
    rc_net_src_kind kind;
    int tgt, first, count;
    double rate_hz, weight, delay_ms, start_ms, stop_ms; /* stop_ms <= 0: until the end */
    const double *times_ms;    /* RC_SRC_SPIKES: n_events (borrowed)         */
    const uint64_t *node_ids;
    size_t n_events;
    const rc_dataset *images;  /* RC_SRC_IMAGES (borrowed; get() is called
                                  from every thread, once per window each)  */
    rc_split split;
    int64_t example0, window;  /* first example; window length (steps)     */
    int step_every;            /* simulation steps per encoder step (>= 1)  */
} rc_net_source;

/* Spikes of neurons [first, first + count) of population pop (count 0 =
 * all), or the membrane potential of the listed neurons every `every` steps
 * (nodes: indices within the population). */
typedef struct {
    int pop, first, count;
} rc_net_spike_rec;
typedef struct {
    int pop, every, nnodes;
    int nodes[RC_NET_MAXVM];
} rc_net_vm_rec;

typedef struct {
    double dt_ms;
    uint64_t seed;
    int npop, nproj, nsrc, nspk, nvm;
    rc_net_pop pop[RC_NET_MAXPOP];
    rc_net_proj proj[RC_NET_MAXPROJ];
    rc_net_source src[RC_NET_MAXSRC];
    rc_net_spike_rec spk[RC_NET_MAXREC];
    rc_net_vm_rec vm[RC_NET_MAXREC];
} rc_net_spec;

typedef struct rc_network rc_network;

/* Builds the network on pool's threads (connectivity drawn here: the "build
 * time"). spec is copied, except the borrowed spike-source arrays, which must
 * outlive the network. RC_ERR_CONFIG on a bad spec, RC_ERR_NOMEM. */
rc_status rc_network_new(rc_network **out, const rc_net_spec *spec, rc_pool *pool, rc_err *err);
void rc_network_free(rc_network *net); /* NULL is a no-op */

/* Called by thread 0 between slices, at most every ~0.5 s of wall time:
 * steps done, total, spikes so far. */
typedef void (*rc_net_progress_fn)(void *user, int64_t done, int64_t total, uint64_t spikes);

/* Advances nsteps steps (any count; a trailing partial slice is fine) from
 * where the last call stopped. Recording buffers grow as needed. */
rc_status rc_network_run(rc_network *net, int64_t nsteps, rc_net_progress_fn progress, void *user,
                         rc_err *err);

/* ---- results ----------------------------------------------------------- */

int64_t rc_network_steps_done(const rc_network *net);
int rc_network_dmin(const rc_network *net);
int rc_network_dmax(const rc_network *net);
size_t rc_network_nneurons(const rc_network *net);

/* Per-population statistics over the steps run so far. */
typedef struct {
    uint64_t spikes;
    double rate_hz;   /* spikes / (neurons · simulated s)                     */
    double cv_isi;    /* mean over neurons with >= 3 spikes of std/mean ISI;
                         NaN if none                                          */
} rc_net_popstat;
void rc_network_popstat(const rc_network *net, int pop, rc_net_popstat *out);

/* Recorded spikes of population pop, sorted by (step, node id): *steps are
 * 0-based emission steps (time (step+1)·h), *ids within the population.
 * Arrays are malloc'd (caller frees); *n = 0 with NULL arrays if none. */
rc_status rc_network_spikes(const rc_network *net, int pop, int32_t **steps, uint64_t **ids, size_t *n,
                            rc_err *err);

/* Membrane recording r: *rows samples of nnodes values, row-major, mV; row
 * i was taken at the end of step (i+1)·every − 1, i.e. time (i+1)·every·h.
 * Pointer into the network (valid until the next run or free). */
const float *rc_network_vm(const rc_network *net, int r, int64_t *rows);

/* Memory and work, for summaries and `rcsim info`. */
typedef struct {
    uint64_t synapses;         /* all threads                               */
    uint64_t syn_bytes;        /* bytes of synapse storage (targets, weights,
                                  delays, per-source offsets)               */
    uint64_t state_bytes;      /* neuron state + ring buffers               */
    uint64_t ring_bytes;       /* of which ring buffers                     */
    uint64_t syn_events;       /* spike deliveries into ring buffers so far */
    uint64_t spikes;           /* spikes emitted so far                     */
    double build_s;            /* connect time                              */
} rc_net_info;
void rc_network_info(const rc_network *net, rc_net_info *out);
/* Same, for thread ith only (neurons, synapses, bytes). */
void rc_network_thread_info(const rc_network *net, int ith, size_t *neurons, rc_net_info *out);
/* Neurons of population pop that thread ith owns. */
int rc_network_thread_pop(const rc_network *net, int ith, int pop);
int rc_network_nthreads(const rc_network *net);

/* One distribution draw from a 64-bit random word r (for rc_dist users). */
double rc_dist_draw(const rc_dist *d, uint64_t r1, uint64_t r2);

#endif
