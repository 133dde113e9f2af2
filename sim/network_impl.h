/* network_impl.h — what sim/network.c (the engine), sim/network_build.c
 * (connectivity) and sim/network_io.c (results) share about the network's
 * insides. Not a public interface: only these files include it.
 *
 * Per thread (rc_nthr): the thread's neurons (global ids ith, ith + nth, ...
 * in increasing order, so every population is a contiguous local range),
 * their float state, ring buffers ring[ch] (L, nloc) slot-major (one slot row
 * is contiguous over the neurons, so an update step reads rows and a slice's
 * deliveries with one delay hit one row), and per projection the incoming
 * synapses as CSR over the projection's source neurons. */
#ifndef RC_NETWORK_IMPL_H
#define RC_NETWORK_IMPL_H

#include "base/rng.h"
#include "sim/network.h"

/* One projection's synapses on one thread. row (nsrc + 1): source i's
 * synapses are [row[i], row[i+1]) of tgt (local target index), w (weights;
 * NULL when the weight is constant: wc) and d (delay steps; NULL when
 * constant: dc). */
typedef struct {
    uint64_t *row;
    uint32_t *tgt;
    float *w;
    uint16_t *d;
    float wc;
    int dc;
    uint64_t nsyn;
} rc_nproj;

/* A Poisson source's 53-bit inversion thresholds: count(u) = min k with
 * u < thr[k], started from guide[u >> 45]. */
typedef struct {
    uint64_t *thr;        /* (nk), thr[nk-1] = 2^53                      */
    int nk;
    uint16_t guide[256];
} rc_npois;

typedef struct {
    int nloc;                      /* neurons on this thread               */
    int lo[RC_NET_MAXPOP], hi[RC_NET_MAXPOP]; /* local range per population */
    float *V, *g[2];               /* (nloc) state; g NULL for psc_delta-only */
    int32_t *refr;                 /* (nloc)                               */
    uint8_t *spk;                  /* (nloc) scratch: spiked this step     */
    float *ring[2];                /* (L, nloc) per input channel          */
    rc_nproj proj[RC_NET_MAXPROJ];
    int slo[RC_NET_MAXSRC], shi[RC_NET_MAXSRC]; /* local range per source  */
    uint64_t *skey[RC_NET_MAXSRC]; /* (shi - slo) Poisson keys             */
    size_t scur[RC_NET_MAXSRC];    /* spike source: next event             */
    rc_events img[RC_NET_MAXSRC];  /* image source: window iwin[k]'s events */
    int64_t iwin[RC_NET_MAXSRC];   /* (-1 = none loaded yet)                */
    /* Spike register, double-buffered by slice parity: global ids of this
     * slice's spikes, step k's in [regoff[b][k], regoff[b][k+1]). */
    uint32_t *reg[2];
    size_t regcap[2];
    size_t *regoff[2];             /* (dmin + 1)                           */
    /* Statistics per local neuron: spike count, last spike step, sums of
     * ISIs and squared ISIs (steps; integers, so exact). */
    uint32_t *nspk;
    int64_t *last, *isum, *isq;
    uint64_t *rec;                 /* recorded spikes, step << 32 | gid    */
    size_t nrec, reccap;
    uint64_t events, spikes;
    uint64_t syn_bytes, state_bytes, nsyn;
    int oom;                       /* an allocation failed on this thread  */
} rc_nthr;

struct rc_network {
    rc_net_spec spec;
    rc_pool *pool;
    int nth;
    rc_nrn_prop prop[RC_NET_MAXPOP];
    uint32_t off[RC_NET_MAXPOP + 1];  /* global ids of population p: [off[p], off[p+1]) */
    size_t N;
    int dmin, dmax, L;
    int chan[RC_NET_MAXPROJ];         /* 0 excitatory, 1 inhibitory       */
    int has_g;                        /* some population has two channels  */
    int pproj[RC_NET_MAXPOP][RC_NET_MAXPROJ + 1]; /* projections by source pop, -1 ends */
    int rec_lo[RC_NET_MAXPOP], rec_hi[RC_NET_MAXPOP]; /* recorded gids per pop */
    rc_npois pois[RC_NET_MAXSRC];
    int64_t *ev_step[RC_NET_MAXSRC];  /* spike sources: arrival steps, sorted */
    uint32_t *ev_gid[RC_NET_MAXSRC];  /* aligned: target gid                */
    size_t nev[RC_NET_MAXSRC];
    int src_delay[RC_NET_MAXSRC];     /* source delays (steps >= 1)        */
    rc_nthr *thr;                     /* (nth)                             */
    int64_t t;                        /* steps done                        */
    int64_t run_end;                  /* during a run: last step + 1        */
    float *vm[RC_NET_MAXREC];         /* (vm_cap, nnodes)                  */
    int64_t vm_rows[RC_NET_MAXREC], vm_cap[RC_NET_MAXREC];
    rc_net_progress_fn progress;
    void *progress_user;
    double build_s;
};

/* Zeroed memory for thread ith, bound to its NUMA node when the system
 * allows and first-touched by the caller (call from thread ith). NULL on
 * failure (the caller sets oom). Free with free(). */
void *rc_net_alloc(rc_network *net, int ith, size_t bytes);

/* Builds thread ith's synapses for every projection (network_build.c).
 * 0, or -1 when out of memory. */
int rc_net_build_thread(rc_network *net, int ith);

/* Checks the projections and fills dmin, dmax, chan (network_build.c). */
rc_status rc_net_check_proj(rc_network *net, rc_err *err);

/* Poisson inversion table for mean lam (network_build.c). */
rc_status rc_npois_init(rc_npois *t, double lam, const char *what, rc_err *err);

static inline int rc_npois_draw(const rc_npois *t, uint64_t r)
{
    const uint64_t u = r >> 11;
    int k = t->guide[u >> 45];
    while (u >= t->thr[k]) k++;
    return k;
}

/* splitmix64 step: the i-th word of the stream keyed by key. */
static inline uint64_t rc_net_word(uint64_t key, uint64_t i)
{
    return rc_mix64(key + i * 0x9e3779b97f4a7c15ULL);
}

#endif
