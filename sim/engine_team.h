/* engine_team.h — inference with whole batches per thread.
 *
 * rc_engine_batch splits every batch over the pool's threads, which meet at
 * a barrier after every step. That is the only way to train (one gradient
 * per batch), but an evaluation has many independent batches. A team holds
 * one engine per thread of the pool, each on a serial pool (sim/pool.h);
 * rc_engine_team_run lets every thread take the next batch not yet taken and
 * run it alone on its engine, with no barrier between threads until the
 * last batch is done. On a busy machine a thread that loses its core for a
 * scheduler slice then takes fewer batches, instead of stalling the others
 * at every step.
 *
 * Results: every backend is bit-identical for any thread count (sim/engine.h),
 * and the batches are the same examples as in a loop of rc_engine_batch over
 * them in order, so res[] is that loop's, bit for bit, whichever thread ran
 * which batch. Inference only (o->train must be 0). */
#ifndef RC_ENGINE_TEAM_H
#define RC_ENGINE_TEAM_H

#include "sim/engine.h"

typedef struct rc_engine_team rc_engine_team;

/* One engine of net's backend per thread of pool, for batches of up to
 * `batch` examples. NULL (err set) on allocation failure. The engines only
 * read net->params. */
rc_engine_team *rc_engine_team_new(rc_net *net, const rc_dataset *ds, rc_pool *pool, int batch, rc_err *err);
void rc_engine_team_free(rc_engine_team *t); /* NULL is a no-op */

/* Threads (= engines) of the team. */
int rc_engine_team_size(const rc_engine_team *t);

/* Runs examples first … first+count−1 of split in batches of `batch` (the
 * team's; the last may be shorter): batch b is examples first + b·batch …,
 * into res[b·batch …]. count ≥ 0. *rows_computed (optional): the steps
 * computed, summed. On failure, the error of the lowest-numbered batch that
 * failed (threads stop taking batches after the first failure; res is then
 * incomplete). */
rc_status rc_engine_team_run(rc_engine_team *t, rc_split split, int64_t first, int64_t count,
                             const rc_batch_opts *o, rc_example_result *res, int64_t *rows_computed,
                             rc_err *err);

#endif
