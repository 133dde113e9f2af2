/* engine_test.h — hooks for benches and tests only, not part of the engine's
 * API (sim/engine.h): they switch a backend to a slower reference path so a
 * bench can time both sides. */
#ifndef RC_ENGINE_TEST_H
#define RC_ENGINE_TEST_H

#include "sim/engine.h"

/* LIF backend: dense = 1 makes the next batches update every group and
 * deliver every input at every step (the dense step-by-step pass); 0 goes
 * back to the event-driven pass (bench/snn_dense.c times both). Returns
 * RC_ERR_USAGE (err set) for a backend without a dense pass. */
rc_status rc_engine_set_dense(rc_engine *e, int dense, rc_err *err);

#endif
