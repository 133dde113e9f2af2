/* engine_shard.h — a training batch cut into a fixed number of shards,
 * spread over the MPI ranks (sim/comm.h), with a gradient that does not
 * depend on how many ranks there are.
 *
 * The batch's n examples are cut into S shards (shard k: examples
 * rc_partition(n, k, S)); each shard runs as its own engine batch (loss
 * scaled by 1/n) into its own gradient buffer. Rank r computes the shards
 * rc_partition(S, r, P). The gradient is the sum over k = 0 … S−1 of the
 * shard gradients, added in that order for every parameter:
 *
 *   1. MPI_Alltoallv: every rank sends chunk q of each of its shard
 *      gradients to rank q (chunks: rc_partition(nparams, q, P));
 *   2. rank q adds the S pieces of its chunk in shard order;
 *   3. MPI_Allgatherv: every rank gets the whole summed gradient.
 *
 * Each parameter's sum is the same float additions in the same order for
 * any P ≤ S (and for P = 1 without MPI), so the gradient, the Adam step and
 * everything after are bit-identical for any number of ranks. The example
 * results (res) are gathered on every rank in example order, so metrics and
 * checkpoints are identical on all ranks too. S = 1 on one rank is the plain
 * engine batch (today's bits); S > 1 gives other bits than S = 1, since a
 * shard's weight gradient is summed over its own rows.
 *
 * Ranks stop together: the call also ORs a flag over the ranks (a signal
 * seen by any rank) and agrees on failure (one rank's error stops all). */
#ifndef RC_ENGINE_SHARD_H
#define RC_ENGINE_SHARD_H

#include "sim/engine.h"

typedef struct rc_shards rc_shards;

/* *out: training batches of net cut into nshards shards, over the ranks of
 * the run (rc_comm_size). RC_ERR_CONFIG when there are more ranks than
 * shards (the message, which starts with "train.shards", says what to set);
 * RC_ERR_NOMEM. */
rc_status rc_shards_new(const rc_net *net, int nshards, rc_shards **out, rc_err *err);
void rc_shards_free(rc_shards *s); /* NULL is a no-op */

/* One training batch (o->train set) of examples idx[0..n) of split: zeroes
 * net->grads and leaves there the gradient of the mean loss over the n
 * examples (every rank the same); res[0..n) and *rows_computed as from
 * rc_engine_batch, for the whole batch. *stop: the largest over the ranks
 * of local_stop() (this rank's stop request, e.g. a signal number; 0: none),
 * asked after this rank's shards are computed. An error of
 * any rank is returned by every rank . A rank whose own run went well but that stops for
 * another's failure gets an empty message: the failed rank prints it, so
 * the job says it once. */
rc_status rc_shards_batch(rc_shards *s, rc_engine *e, rc_net *net, rc_split split, const int64_t *idx, int n,
                          const rc_batch_opts *o, rc_example_result *res, int64_t *rows_computed,
                          int (*local_stop)(void), int *stop, rc_err *err);

/* The data-parallel pieces of an evaluation (sim/app/eval.c): batch range
 * [*lo, *hi) of nb batches that this rank computes, and the gather of the
 * results res[0..count) (every rank's range filled, batches of `batch`
 * examples) onto every rank, in example order. *rows and *synops summed
 * over the ranks. No-ops on one rank. */
void rc_shards_eval_range(int64_t nb, int64_t *lo, int64_t *hi);
rc_status rc_shards_eval_gather(rc_example_result *res, int64_t count, int batch, int64_t *rows, rc_err *err);

/* The largest of v over the ranks (v on one rank); for stop flags. */
int rc_shards_max_int(int v);

#endif
