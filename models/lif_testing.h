/* lif_testing.h — TEST-ONLY hooks into the LIF simulator (models/lif.h).
 * They exist so tests/test_lif.c and bench/fc_rows.c can compare code paths
 * and inspect state;
 * the library's callers (sim/, sim/app/) must not use them. */
#ifndef RC_LIF_TESTING_H
#define RC_LIF_TESTING_H

#include <stdint.h>
#include "models/lif.h"

/* 1 makes forward and backward use their general per-neuron loops where a
 * vectorised special case (Heaviside spikes; rectangular surrogate with
 * multiplicative reset in backward) would run. Both give identical bits. */
void rc_lif_sim_set_generic(rc_lif_sim *m, int on);

/* After a recorded forward: the pre-reset potentials U and spikes O (both
 * (tmax+1, Σ neurons), layers in order) of steps 0..tmax. */
void rc_lif_sim_state(rc_lif_sim *m, int tmax, float *U, uint8_t *O);

/* The fc layer's δo product for a few rows (lif_backward.c): acc (nt, nin) =
 * dI (nt, nout) × WT (nout, nin), each output one fused multiply-add chain
 * over k from +0. below() uses it where rc_lif_fc_hand(nt, nin) is 1 (up to
 * 3 rows, nin a multiple of 16, hardware fma) and the sgemm otherwise;
 * bench/fc_rows.c checks that it gives the sgemm's bits there. */
void rc_lif_fc_below_rows(int nt, int nout, int nin, const float *dI, const float *WT, float *acc);
int rc_lif_fc_hand(int nt, int nin);

#endif
