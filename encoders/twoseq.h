/* twoseq.h — the 2-sequence problem (paper 3.2, B.2; encoders/twoseq.c):
 * T real-valued steps drawn around ±mean, σ ~ U(sigma_lo, sigma_hi) per
 * sequence. A generator: sizes −1, every (split, index) is a fresh sequence. */
#ifndef RC_TWOSEQ_H
#define RC_TWOSEQ_H

#include <stdint.h>
#include "encoders/dataset.h"

/* NULL on allocation failure. */
rc_dataset *rc_twoseq_new(uint64_t seed, int T, double mean, double sigma_lo, double sigma_hi);

#endif
