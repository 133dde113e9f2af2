/* network_impl.h — what sim/network.c (the engine), sim/network_build.c
 * (connectivity) and sim/network_io.c (results) share about the network's
 * insides. Not a public interface: only these files include it.
 *
 * Per thread (rc_nthr): the thread's neurons (global ids vp, vp + stride,
 * ... in increasing order, so every population is a contiguous local range;
 * vp = ith · nrank + rank is the thread's virtual process and stride = nth ·
 * nrank, NEST's mapping: rank r owns the ids g with g % nrank == r),
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
    uint32_t vp;                   /* virtual process: owns ids vp + k·stride */
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
    int nrank, rank;                  /* MPI ranks the network spans        */
    uint32_t stride;                  /* nth · nrank (this rank's VP stride) */
    struct rc_nxchg *xc;              /* spike exchange (nrank > 1)          */
    int xfail;                        /* the exchange failed: stop the run   */
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

/* Local index of global id g on the thread whose vp is vp, or of the first
 * id above g there: the number of the thread's ids below g. */
static inline int rc_net_first_local(uint32_t g, uint32_t vp, uint32_t stride)
{
    return g <= vp ? 0 : (int)((g - vp + stride - 1) / stride);
}

/* ---- ranks (network_mpi.c; without MPI or with one rank all are local) -- */

/* Sets nrank, rank; with several ranks allocates the exchange. 0 or -1. */
int rc_net_xchg_new(rc_network *net);
void rc_net_xchg_free(rc_network *net);

/* Thread 0, between the slice's update and its delivery: sends this rank's
 * spikes of register b (ns steps), receives every rank's and merges them by
 * (step, gid) into the slice list rc_net_xchg_slice gives. 0, or -1 (message
 * in the network's exchange state, see rc_net_xchg_error). */
int rc_net_exchange(rc_network *net, int ns, int b);
const uint32_t *rc_net_xchg_slice(const rc_network *net, const size_t **off);
const char *rc_net_xchg_error(const rc_network *net);

/* 1 if bad is non-zero on any rank (collective; bad itself with one rank). */
int rc_net_any(const rc_network *net, int bad);

/* Sums n counters over the ranks, in place (collective, exact). */
void rc_net_sum_u64(const rc_network *net, uint64_t *v, int n);

/* Rank 0 gets every rank's n values (out: nrank · n, rank order); the others
 * send theirs. 0, or -1 on an MPI error. */
int rc_net_gather_u64(const rc_network *net, const uint64_t *v, int n, uint64_t *out);

/* Rank 0 receives every rank's variable-length array of 64-bit records
 * (*all malloc'd, *nall); the others send theirs (*all = NULL). Collective.
 * 0, or -1 (out of memory or MPI error). */
int rc_net_gatherv_u64(const rc_network *net, const uint64_t *v, size_t n, uint64_t **all, size_t *nall);

/* Rank 0 gets the membrane columns other ranks recorded (collective). */
int rc_net_gather_vm(rc_network *net);

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
