/* adam.h — the optimiser step every engine backend shares: the global L2
 * norm of the gradients, optional clipping, one bias-corrected Adam step
 * (PyTorch's form), all on the thread pool.
 *
 * The norm is summed in fixed chunks of RC_ADAM_CHUNK gradients, each chunk
 * by one thread, and the chunk sums are added in chunk order, so it does not
 * depend on the thread count. The update is elementwise: who runs which
 * parameter changes no result. A backend that binds parameter ranges to
 * NUMA nodes (the LSTM's w_hh rows, sim/numa.h) hands those ranges over with
 * rc_adam_set_owned, so each thread updates the pages on its own node. */
#ifndef RC_ADAM_H
#define RC_ADAM_H

#include <stddef.h>
#include <stdint.h>
#include "models/net.h"
#include "sim/pool.h"

#define RC_ADAM_CHUNK 4096

typedef struct rc_adam rc_adam;

/* Adam on net's params, grads and moments (net->m, net->v), run on pool.
 * NULL on allocation failure. */
rc_adam *rc_adam_new(rc_net *net, rc_pool *pool);
void rc_adam_free(rc_adam *a); /* NULL is a no-op */

/* Thread i of the pool owns params [base + lo[i], base + hi[i]); the ranges
 * are contiguous and ascending (hi[i] = lo[i+1]). Each thread then updates
 * its own range plus an equal share of the parameters nobody owns. Without
 * this call every thread takes an equal share of all parameters. Copies. */
void rc_adam_set_owned(rc_adam *a, size_t base, const size_t *lo, const size_t *hi);

/* Decoupled weight decay (AdamW, PyTorch's form): each step first multiplies
 * every parameter by 1 − lr·wd. 0 (the default) leaves the step as without. */
void rc_adam_set_decay(rc_adam *a, double wd);

/* Norm of net->grads; if clip > 0 and the norm exceeds it, the gradients are
 * scaled by clip/norm in the update; then one Adam step with step counter
 * `step` ≥ 1. Returns the pre-clip norm when clip > 0; without clipping the
 * norm is not needed and not summed (only whether every gradient is finite):
 * 0, or INFINITY when a gradient is not finite. */
double rc_adam_step(rc_adam *a, double lr, double b1, double b2, double eps,
                    double clip, int64_t step);

/* After rc_adam_step: 0 when the gradient norm and every updated parameter
 * are finite; else 1 (a non-finite gradient: the update was skipped, params
 * unchanged) or 2 (a parameter became non-finite in the update), with *index
 * the first bad gradient / parameter. The check is an integer OR folded into
 * the norm and update passes: it changes no arithmetic. */
int rc_adam_fault(const rc_adam *a, size_t *index);

#endif
