/* network_mpi.c — a network spread over MPI ranks (sim/network.h): the
 * spike exchange once per min-delay slice and the collectives the results
 * need (counters, recorded spikes and membrane columns to rank 0).
 *
 * Why it is built this way:
 *  - rank r owns the neurons g with g % nrank == r (its threads deal them on
 *    round-robin, so thread ith of rank r is NEST's virtual process ith ·
 *    nrank + r). Everything drawn per neuron (connections of a target, V_0,
 *    Poisson keys) is keyed by the global id, so it does not depend on who
 *    owns the neuron.
 *  - random connectivity sends almost every spike to almost every rank, so
 *    the exchange is an all-gather: one MPI_Allgather of the per-step counts
 *    (d_min ints per rank) and one MPI_Allgatherv of the spikes as 32-bit
 *    global ids, grouped by step (the step is implied by the counts: 4 bytes
 *    a spike). NEST's MPI_Alltoall sends each rank only the spikes with
 *    targets there; with ~10^4 random targets per neuron that is every rank
 *    below ~10^4 ranks anyway.
 *  - every rank's list of a step is sorted by id (its threads' registers
 *    merged), and the P lists are merged with a heap into one list in (step,
 *    id) order: the canonical order the threads deliver in, so the sums in
 *    the ring buffers are the same for every split.
 *  - MPI is called by thread 0 only (MPI_THREAD_FUNNELED: the pool's thread
 *    0 is the main thread), between two pool barriers.
 *  - errors return (MPI_ERRORS_RETURN): a failed call stops the run with the
 *    MPI error string; a rank that dies is noticed by mpirun, which ends the
 *    others (see README "Running on a cluster"). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/comm.h"
#include "sim/network_impl.h"

struct rc_nxchg {
    int D;                      /* d_min: steps per slice                    */
    int *cnt, *allcnt;          /* (D), (nrank · D) spikes per (rank, step)  */
    int *rcount, *rdispl;       /* (nrank) ids per rank, offsets             */
    uint32_t *sbuf, *rbuf, *mg; /* this rank's ids, all ranks', merged       */
    size_t scap, rcap, mgcap;
    size_t *mgoff;              /* (D + 1) merged list of step k             */
    const uint32_t **la;        /* (max(nrank, nth)) merge inputs            */
    size_t *ln;
    int *heap;
    char msg[256];
};

static int grow(uint32_t **p, size_t *cap, size_t need)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < need) c *= 2;
    uint32_t *q = realloc(*p, c * sizeof *q);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

int rc_net_xchg_new(rc_network *net)
{
    net->nrank = rc_comm_size();
    net->rank = rc_comm_rank();
    if (net->nrank <= 1) return 0;
    struct rc_nxchg *x = calloc(1, sizeof *x);
    if (!x) return -1;
    net->xc = x;
    const int P = net->nrank, D = net->dmin, m = P > net->nth ? P : net->nth;
    x->D = D;
    x->cnt = calloc((size_t)D, sizeof *x->cnt);
    x->allcnt = calloc((size_t)P * (size_t)D, sizeof *x->allcnt);
    x->rcount = calloc((size_t)P, sizeof *x->rcount);
    x->rdispl = calloc((size_t)P, sizeof *x->rdispl);
    x->mgoff = calloc((size_t)D + 1, sizeof *x->mgoff);
    x->la = calloc((size_t)m, sizeof *x->la);
    x->ln = calloc((size_t)m, sizeof *x->ln);
    x->heap = calloc((size_t)m, sizeof *x->heap);
    return x->cnt && x->allcnt && x->rcount && x->rdispl && x->mgoff && x->la && x->ln && x->heap ? 0 : -1;
}

void rc_net_xchg_free(rc_network *net)
{
    struct rc_nxchg *x = net->xc;
    if (!x) return;
    free(x->cnt);
    free(x->allcnt);
    free(x->rcount);
    free(x->rdispl);
    free(x->sbuf);
    free(x->rbuf);
    free(x->mg);
    free(x->mgoff);
    free(x->la);
    free(x->ln);
    free(x->heap);
    free(x);
    net->xc = NULL;
}

const uint32_t *rc_net_xchg_slice(const rc_network *net, const size_t **off)
{
    *off = net->xc->mgoff;
    return net->xc->mg;
}

const char *rc_net_xchg_error(const rc_network *net) { return net->xc ? net->xc->msg : ""; }

/* Merges m sorted lists (x->la, x->ln; consumed) into out with a binary
 * min-heap of list indices keyed by their heads; returns the count. */
static size_t merge(struct rc_nxchg *x, int m, uint32_t *out)
{
    int *h = x->heap, nh = 0;
    size_t n = 0;
    if (m == 1) { /* one list (one thread, one rank's turn): a copy */
        if (x->ln[0]) memcpy(out, x->la[0], x->ln[0] * sizeof *out);
        x->la[0] += x->ln[0];
        n = x->ln[0];
        x->ln[0] = 0;
        return n;
    }
#define KEY(i) (x->la[h[i]][0])
    for (int i = 0; i < m; i++) {
        if (!x->ln[i]) continue;
        int c = nh++;
        h[c] = i;
        while (c > 0 && KEY((c - 1) / 2) > KEY(c)) {
            int t = h[c];
            h[c] = h[(c - 1) / 2];
            h[(c - 1) / 2] = t;
            c = (c - 1) / 2;
        }
    }
    while (nh > 0) {
        const int l = h[0];
        out[n++] = x->la[l][0];
        x->la[l]++;
        if (--x->ln[l] == 0) h[0] = h[--nh];
        for (int c = 0;;) {
            int s = c, a = 2 * c + 1, b = a + 1;
            if (a < nh && KEY(a) < KEY(s)) s = a;
            if (b < nh && KEY(b) < KEY(s)) s = b;
            if (s == c) break;
            int t = h[c];
            h[c] = h[s];
            h[s] = t;
            c = s;
        }
    }
#undef KEY
    return n;
}

static int mpi_fail(struct rc_nxchg *x, int rc, const char *what)
{
    char s[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, s, &len) != MPI_SUCCESS) snprintf(s, sizeof s, "MPI error %d", rc);
    snprintf(x->msg, sizeof x->msg, "%s failed on rank %d: %.100s", what, rc_comm_rank(), s);
    return -1;
}

/* This rank's spikes of register b, step by step merged over its threads. */
static int pack(rc_network *net, int ns, int b)
{
    struct rc_nxchg *x = net->xc;
    size_t total = 0;
    for (int u = 0; u < net->nth; u++) total += net->thr[u].regoff[b][ns];
    if (grow(&x->sbuf, &x->scap, total + 1)) return -1;
    size_t n = 0;
    for (int k = 0; k < x->D; k++) {
        if (k >= ns) {
            x->cnt[k] = 0;
            continue;
        }
        for (int u = 0; u < net->nth; u++) {
            const rc_nthr *th = &net->thr[u];
            x->ln[u] = th->regoff[b][k + 1] - th->regoff[b][k];
            x->la[u] = x->ln[u] ? th->reg[b] + th->regoff[b][k] : NULL;
        }
        const size_t c = merge(x, net->nth, x->sbuf + n);
        x->cnt[k] = (int)c;
        n += c;
    }
    return 0;
}

int rc_net_exchange(rc_network *net, int ns, int b)
{
    struct rc_nxchg *x = net->xc;
    const int P = net->nrank, D = x->D;
    if (pack(net, ns, b)) {
        snprintf(x->msg, sizeof x->msg, "network: out of memory packing spikes on rank %d", net->rank);
        return -1;
    }
    int rc = MPI_Allgather(x->cnt, D, MPI_INT, x->allcnt, D, MPI_INT, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return mpi_fail(x, rc, "network: spike count exchange (MPI_Allgather)");
    size_t total = 0;
    for (int r = 0; r < P; r++) {
        size_t c = 0;
        for (int k = 0; k < D; k++) c += (size_t)x->allcnt[r * D + k];
        x->rcount[r] = (int)c;
        x->rdispl[r] = (int)total;
        total += c;
    }
    if (total > (size_t)0x7fffffff || grow(&x->rbuf, &x->rcap, total + 1) || grow(&x->mg, &x->mgcap, total + 1)) {
        snprintf(x->msg, sizeof x->msg, "network: out of memory for the %zu spikes of a slice on rank %d", total,
                 net->rank);
        return -1;
    }
    rc = MPI_Allgatherv(x->sbuf, x->rcount[net->rank], MPI_UINT32_T, x->rbuf, x->rcount, x->rdispl, MPI_UINT32_T,
                        MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return mpi_fail(x, rc, "network: spike exchange (MPI_Allgatherv)");
    /* list (r, k) starts after rank r's lists of steps < k */
    size_t n = 0;
    for (int r = 0; r < P; r++) x->ln[r] = (size_t)x->rdispl[r];
    for (int k = 0; k < D; k++) {
        x->mgoff[k] = n;
        for (int r = 0; r < P; r++) {
            x->la[r] = x->rbuf + x->ln[r];
            x->ln[r] = (size_t)x->allcnt[r * D + k];
        }
        n += merge(x, P, x->mg + n);
        /* merge consumed la/ln: la[r] now points past list (r, k) */
        for (int r = 0; r < P; r++) x->ln[r] = (size_t)(x->la[r] - x->rbuf);
    }
    x->mgoff[D] = n;
    return 0;
}

/* ---- collectives for the results --------------------------------------- */

int rc_net_any(const rc_network *net, int bad)
{
    if (net->nrank <= 1) return bad != 0;
    int b = bad != 0, any = 1;
    if (MPI_Allreduce(&b, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS) return 1;
    return any;
}

void rc_net_sum_u64(const rc_network *net, uint64_t *v, int n)
{
    if (net->nrank > 1) MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
}

int rc_net_gather_u64(const rc_network *net, const uint64_t *v, int n, uint64_t *out)
{
    if (net->nrank <= 1) {
        memcpy(out, v, (size_t)n * sizeof *v);
        return 0;
    }
    return MPI_Gather(v, n, MPI_UINT64_T, out, n, MPI_UINT64_T, 0, MPI_COMM_WORLD) == MPI_SUCCESS ? 0 : -1;
}

int rc_net_gatherv_u64(const rc_network *net, const uint64_t *v, size_t n, uint64_t **all, size_t *nall)
{
    *all = NULL;
    *nall = 0;
    const int P = net->nrank, root = net->rank == 0;
    uint64_t mine = n, *cnt = root ? calloc((size_t)P, sizeof *cnt) : NULL;
    int *rc = root ? calloc((size_t)P, sizeof *rc) : NULL, *rd = root ? calloc((size_t)P, sizeof *rd) : NULL;
    int ok = !root || (cnt && rc && rd);
    if (MPI_Gather(&mine, 1, MPI_UINT64_T, cnt, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD) != MPI_SUCCESS) ok = 0;
    if (root && ok) {
        uint64_t tot = 0;
        for (int r = 0; r < P; r++) rc[r] = (int)cnt[r], rd[r] = (int)tot, tot += cnt[r];
        ok = tot < 0x7fffffff && (*all = malloc((size_t)(tot ? tot : 1) * sizeof **all)) != NULL;
        *nall = ok ? (size_t)tot : 0;
    }
    /* rank 0 says whether it can receive: nobody is left waiting */
    if (MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD) != MPI_SUCCESS) ok = 0;
    if (ok && MPI_Gatherv(v, (int)n, MPI_UINT64_T, *all, rc, rd, MPI_UINT64_T, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
        ok = 0;
    free(cnt);
    free(rc);
    free(rd);
    if (!ok) {
        free(*all);
        *all = NULL;
        *nall = 0;
    }
    return ok ? 0 : -1;
}

/* The columns of membrane recorder vr that rank q owns, in column order. */
static int owned_cols(const rc_network *net, const rc_net_vm_rec *vr, int q, int *cols)
{
    int n = 0;
    for (int c = 0; c < vr->nnodes; c++)
        if ((net->off[vr->pop] + (uint32_t)vr->nodes[c]) % (uint32_t)net->nrank == (uint32_t)q) cols[n++] = c;
    return n;
}

int rc_net_gather_vm(rc_network *net)
{
    const int P = net->nrank;
    if (P <= 1) return 0;
    int bad = 0;
    for (int r = 0; r < net->spec.nvm; r++) {
        const rc_net_vm_rec *vr = &net->spec.vm[r];
        const size_t rows = (size_t)net->vm_rows[r], nn = (size_t)vr->nnodes;
        int cols[RC_NET_MAXVM];
        const int mine = owned_cols(net, vr, net->rank, cols);
        float *buf = malloc((rows * (size_t)(net->rank ? mine : vr->nnodes) + 1) * sizeof *buf);
        int *rc = calloc((size_t)P, sizeof *rc), *rd = calloc((size_t)P, sizeof *rd);
        int ok = buf && rc && rd && rows * nn < 0x7fffffff;
        if (ok && net->rank) {
            for (size_t i = 0; i < rows; i++)
                for (int c = 0; c < mine; c++) buf[i * (size_t)mine + (size_t)c] = net->vm[r][i * nn + (size_t)cols[c]];
        }
        for (int q = 0, d = 0; q < P && ok; q++) {
            rc[q] = q ? (int)rows * owned_cols(net, vr, q, cols) : 0;
            rd[q] = d;
            d += rc[q];
        }
        if (!rc_net_any(net, !ok)) {
            const void *send = net->rank ? (const void *)buf : MPI_IN_PLACE;
            if (MPI_Gatherv(send, net->rank ? rc[net->rank] : 0, MPI_FLOAT, buf, rc, rd, MPI_FLOAT, 0,
                            MPI_COMM_WORLD) != MPI_SUCCESS)
                bad = 1;
            for (int q = 1; q < P && !net->rank && !bad; q++) {
                const int n = owned_cols(net, vr, q, cols);
                for (size_t i = 0; i < rows; i++)
                    for (int c = 0; c < n; c++)
                        net->vm[r][i * nn + (size_t)cols[c]] = buf[(size_t)rd[q] + i * (size_t)n + (size_t)c];
            }
        } else {
            bad = 1;
        }
        free(buf);
        free(rc);
        free(rd);
    }
    return bad ? -1 : 0;
}
