/* spotting.h — the continuous sequence spotting task (paper 3.1, B.1;
 * encoders/spotting.c): T random binary steps, positive iff `run` consecutive
 * steps are equal somewhere. A generator: sizes −1, every (split, index) is a
 * fresh sequence. */
#ifndef RC_SPOTTING_H
#define RC_SPOTTING_H

#include <stdint.h>
#include "encoders/dataset.h"

/* NULL on allocation failure. */
rc_dataset *rc_spotting_new(uint64_t seed, int T, int run);

/* Brute-force label and earliest step for a binary sequence (tests use it). */
void rc_spotting_label(const uint8_t *bits, int T, int run, int *label, int *earliest);

#endif
