/* images.h — images (MNIST-like idx data) as spike streams
 * (encoders/images.c): latency coding (temporal MNIST) or rate coding. */
#ifndef RC_IMAGES_H
#define RC_IMAGES_H

#include <stdint.h>
#include "encoders/dataset.h"

/* Latency-coded images (temporal MNIST, paper 3.3): T steps; a pixel of value
 * v > 0 spikes once, at step ((255 − v)·T) / 255 clipped to T − 1 (integer
 * arithmetic: brighter = earlier, exact at every boundary); v = 0 never spikes
 * (zero_last = 0) or spikes at T − 1 (zero_last = 1, as the paper's public
 * code does). Channel = pixel index (row-major). Splits: TRAIN = the first
 * ntrain − nval training images, VAL = the last nval training images, TEST =
 * the test images. Takes ownership of the pixel and label arrays (free()d).
 * Returns NULL on allocation failure. */
rc_dataset *rc_latency_new(uint64_t seed, int T, int zero_last, int npix, int nclass,
                           uint8_t *train_pix, uint8_t *train_lab, int64_t ntrain, int64_t nval,
                           uint8_t *test_pix, uint8_t *test_lab, int64_t ntest);
/* Rate-coded images (encoders/images.c): at every step each pixel of value v
 * spikes with probability v/255 (counter-based draws keyed by split, example,
 * step and pixel). Splits and ownership as rc_latency_new. */
rc_dataset *rc_rate_new(uint64_t seed, int T, int npix, int nclass,
                        uint8_t *train_pix, uint8_t *train_lab, int64_t ntrain, int64_t nval,
                        uint8_t *test_pix, uint8_t *test_lab, int64_t ntest);
/* Training augmentation for either code (default off): each training
 * example, on each pass over the training set, is the image moved by a
 * uniform random (dy, dx) in [−shift, shift]² (pixels moved in are 0), with
 * each pixel then dropped with probability drop; the events it sends carry
 * the value 1/(1 − drop). Validation and test examples are never changed.
 * Turns on ds->train_pass_index (the training index carries the pass). */
rc_status rc_images_set_aug(rc_dataset *ds, int rows, int cols, int shift, double drop, rc_err *err);
/* Latency step of a pixel value (−1 = no spike). */
int rc_latency_step(int v, int T, int zero_last);

#endif
