/* engine_shard.c — training batches cut into shards over MPI ranks, with a
 * fixed-order gradient sum (engine_shard.h). */
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include "sim/comm.h"
#include "sim/engine_shard.h"

struct rc_shards {
    int S, P, rank;
    size_t np;             /* parameters                                        */
    int k0, k1;            /* this rank's shards [k0, k1)                        */
    float *local;          /* ((k1 − k0), np) this rank's shard gradients        */
    float *send, *recv;    /* Alltoallv buffers (P > 1)                         */
    int *scnt, *sdis, *rcnt, *rdis, *ccnt, *cdis;  /* (P) counts and offsets    */
};

void rc_shards_free(rc_shards *s)
{
    if (!s) return;
    free(s->local); free(s->send); free(s->recv);
    free(s->scnt); free(s->sdis); free(s->rcnt); free(s->rdis); free(s->ccnt); free(s->cdis);
    free(s);
}

/* Shards of rank q: [*a, *b). */
static void shards_of(const rc_shards *s, int q, int *a, int *b)
{
    size_t lo, hi;
    rc_partition((size_t)s->S, q, s->P, &lo, &hi);
    *a = (int)lo;
    *b = (int)hi;
}

/* The Alltoallv and Allgatherv counts: rank q's parameter chunk
 * rc_partition(np, q, P); this rank sends each of its shards' chunk q to q
 * and receives its own chunk of every shard, in shard order. */
static void set_counts(rc_shards *s)
{
    size_t mlo, mhi;
    rc_partition(s->np, s->rank, s->P, &mlo, &mhi);
    int so = 0, ro = 0;
    for (int q = 0; q < s->P; q++) {
        size_t lo, hi;
        rc_partition(s->np, q, s->P, &lo, &hi);
        int a, b;
        shards_of(s, q, &a, &b);
        s->ccnt[q] = (int)(hi - lo);
        s->cdis[q] = (int)lo;
        s->scnt[q] = (s->k1 - s->k0) * (int)(hi - lo);
        s->sdis[q] = so;
        so += s->scnt[q];
        s->rcnt[q] = (b - a) * (int)(mhi - mlo);
        s->rdis[q] = ro;
        ro += s->rcnt[q];
    }
}

rc_status rc_shards_new(const rc_net *net, int nshards, rc_shards **out, rc_err *err)
{
    const int P = rc_comm_size();
    *out = NULL;
    if (P > nshards)
        return rc_err_set(err, RC_ERR_CONFIG,
                   "train.shards = %d: %d MPI ranks need at least as many shards (each rank computes whole "
                   "shards); set train.shards >= %d (train.shards = S gives the same results for every "
                   "number of ranks up to S)", nshards, P, P);
    rc_shards *s = calloc(1, sizeof *s);
    if (!s) goto nomem;
    s->S = nshards;
    s->P = P;
    s->rank = rc_comm_rank();
    s->np = net->nparams;
    shards_of(s, s->rank, &s->k0, &s->k1);
    const size_t nloc = (size_t)(s->k1 - s->k0);
    if ((double)nshards * (double)s->np / P > 2e9) {
        rc_shards_free(s);
        return rc_err_set(err, RC_ERR_CONFIG, "train.shards = %d: %zu parameters × shards per rank exceed MPI's int "
                          "counts; use fewer shards or more ranks", nshards, net->nparams);
    }
    s->local = malloc(nloc * s->np * sizeof *s->local);
    if (!s->local) goto nomem;
    if (P > 1) {
        s->send = malloc(nloc * s->np * sizeof *s->send);
        s->recv = malloc(((size_t)nshards * (s->np / (size_t)P + 1)) * sizeof *s->recv);
        int **c[] = { &s->scnt, &s->sdis, &s->rcnt, &s->rdis, &s->ccnt, &s->cdis };
        for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
            if (!(*c[i] = calloc((size_t)P, sizeof(int)))) goto nomem;
        if (!s->send || !s->recv) goto nomem;
        set_counts(s);
    }
    *out = s;
    return RC_OK;
nomem:
    rc_shards_free(s);
    return rc_err_set(err, RC_ERR_NOMEM, "out of memory for %d gradient shards", nshards);
}

/* An MPI call's failure as one message. */
static rc_status mpi_fail(const char *what, int rc, rc_err *err)
{
    char msg[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    return rc_err_set(err, RC_ERR_IO, "MPI rank %d: %s failed (%s); another rank has probably died",
                      rc_comm_rank(), what, msg);
}

/* This rank's shards, each into its own buffer. */
static rc_status run_local(rc_shards *s, rc_engine *e, rc_net *net, rc_split split, const int64_t *idx, int n,
                           const rc_batch_opts *o, rc_example_result *res, int64_t *rows, rc_err *err)
{
    rc_batch_opts so = *o;
    so.mean_over = n;
    *rows = 0;
    for (int k = s->k0; k < s->k1; k++) {
        size_t lo, hi;
        rc_partition((size_t)n, k, s->S, &lo, &hi);
        float *g = s->local + (size_t)(k - s->k0) * s->np;
        if (hi == lo) { memset(g, 0, s->np * sizeof *g); continue; }
        rc_net_zero_grad(net);
        int64_t r = 0;
        rc_status st = rc_engine_batch(e, split, idx + lo, (int)(hi - lo), &so, res + lo, &r, err);
        if (st) return st;
        *rows += r;
        memcpy(g, net->grads, s->np * sizeof *g);
    }
    return RC_OK;
}

/* One rank: the shard gradients added in shard order. */
static void sum_local(rc_shards *s, float *G)
{
    memcpy(G, s->local, s->np * sizeof *G);
    for (int k = 1; k < s->S; k++) {
        const float *g = s->local + (size_t)k * s->np;
        for (size_t j = 0; j < s->np; j++) G[j] += g[j];
    }
}

/* Several ranks: steps 1-3 of engine_shard.h, and the example results. */
static rc_status exchange(rc_shards *s, float *G, rc_example_result *res, int n, rc_err *err)
{
    const int nloc = s->k1 - s->k0;
    for (int q = 0; q < s->P; q++)
        for (int k = 0; k < nloc; k++)
            memcpy(s->send + s->sdis[q] + (size_t)k * s->ccnt[q], s->local + (size_t)k * s->np + s->cdis[q],
                   (size_t)s->ccnt[q] * sizeof(float));
    int rc = MPI_Alltoallv(s->send, s->scnt, s->sdis, MPI_FLOAT, s->recv, s->rcnt, s->rdis, MPI_FLOAT, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return mpi_fail("MPI_Alltoallv of gradient shards", rc, err);
    const size_t m = (size_t)s->ccnt[s->rank];
    float *mine = G + s->cdis[s->rank];
    memcpy(mine, s->recv, m * sizeof *mine);
    for (int k = 1; k < s->S; k++) {
        const float *g = s->recv + (size_t)k * m;
        for (size_t j = 0; j < m; j++) mine[j] += g[j];
    }
    rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, G, s->ccnt, s->cdis, MPI_FLOAT, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return mpi_fail("MPI_Allgatherv of the gradient", rc, err);
    /* The example results, rank q's shards' examples from rank q. */
    int *cnt = s->rcnt, *dis = s->rdis; /* reused as byte counts, restored below */
    int sav_c[s->P], sav_d[s->P];
    memcpy(sav_c, cnt, sizeof sav_c);
    memcpy(sav_d, dis, sizeof sav_d);
    for (int q = 0; q < s->P; q++) {
        int a, b;
        shards_of(s, q, &a, &b);
        size_t lo, hi, l2, h2;
        rc_partition((size_t)n, a, s->S, &lo, &h2);
        rc_partition((size_t)n, b - 1, s->S, &l2, &hi);
        dis[q] = (int)(lo * sizeof *res);
        cnt[q] = (int)((hi - lo) * sizeof *res);
    }
    rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_BYTE, res, cnt, dis, MPI_BYTE, MPI_COMM_WORLD);
    memcpy(cnt, sav_c, sizeof sav_c);
    memcpy(dis, sav_d, sizeof sav_d);
    if (rc != MPI_SUCCESS) return mpi_fail("MPI_Allgatherv of example results", rc, err);
    return RC_OK;
}

rc_status rc_shards_batch(rc_shards *s, rc_engine *e, rc_net *net, rc_split split, const int64_t *idx, int n,
                          const rc_batch_opts *o, rc_example_result *res, int64_t *rows_computed,
                          int (*local_stop)(void), int *stop, rc_err *err)
{
    int64_t rows = 0;
    rc_status st = run_local(s, e, net, split, idx, n, o, res, &rows, err);
    *stop = local_stop();
    if (s->P == 1) {
        if (!st) sum_local(s, net->grads);
        if (rows_computed) *rows_computed = rows;
        return st;
    }
    /* Agree on stopping and on failure before any rank waits on the others:
     * flags[1] is P − (lowest failed rank), 0 when none failed. */
    int flags[2] = { *stop, st ? s->P - s->rank : 0 };
    int rc = MPI_Allreduce(MPI_IN_PLACE, flags, 2, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return mpi_fail("MPI_Allreduce of the stop flags", rc, err);
    *stop = flags[0];
    if (st) return st;
    if (flags[1])
        return rc_err_set(err, RC_ERR_IO, "%s", ""); /* rank P − flags[1] failed and says why */
    if ((st = exchange(s, net->grads, res, n, err))) return st;
    rc = MPI_Allreduce(MPI_IN_PLACE, &rows, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return mpi_fail("MPI_Allreduce of rows", rc, err);
    if (rows_computed) *rows_computed = rows;
    return RC_OK;
}

void rc_shards_eval_range(int64_t nb, int64_t *lo, int64_t *hi)
{
    size_t a, b;
    rc_partition((size_t)nb, rc_comm_rank(), rc_comm_size(), &a, &b);
    *lo = (int64_t)a;
    *hi = (int64_t)b;
}

rc_status rc_shards_eval_gather(rc_example_result *res, int64_t count, int batch, int64_t *rows, rc_err *err)
{
    const int P = rc_comm_size();
    if (P == 1) return RC_OK;
    const int64_t nb = (count + batch - 1) / batch;
    int cnt[P], dis[P];
    for (int q = 0; q < P; q++) {
        size_t a, b;
        rc_partition((size_t)nb, q, P, &a, &b);
        const int64_t lo = (int64_t)a * batch, hi = (int64_t)b * batch < count ? (int64_t)b * batch : count;
        if ((double)count * sizeof *res > 2e9)
            return rc_err_set(err, RC_ERR_CONFIG, "%lld evaluation results exceed MPI's int counts", (long long)count);
        dis[q] = (int)(lo * (int64_t)sizeof *res);
        cnt[q] = hi > lo ? (int)((hi - lo) * (int64_t)sizeof *res) : 0;
    }
    int rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_BYTE, res, cnt, dis, MPI_BYTE, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return mpi_fail("MPI_Allgatherv of evaluation results", rc, err);
    rc = MPI_Allreduce(MPI_IN_PLACE, rows, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return mpi_fail("MPI_Allreduce of evaluation rows", rc, err);
    return RC_OK;
}

int rc_shards_max_int(int v)
{
    if (rc_comm_size() == 1) return v;
    if (MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS) return v;
    return v;
}
