/* events.h — labelled event data sets (task.name = events; encoders/events.c):
 * the Spiking Heidelberg Digits / Spiking Speech Commands files and anything
 * converted to the same layouts (io/h5events.h), binned into steps.
 *
 * Binning: an event at time t seconds lands in step k = ⌊t·1000 / dt_ms⌋,
 * so step k is the half-open interval [k·dt, (k+1)·dt); an event exactly on
 * a boundary belongs to the later step. A time within a millionth of a step
 * (relative to its step count, at least 10^-6 steps) of a boundary counts as
 * on it, so 0.01 s stored as float32 (0.0099999998) lands in the step that
 * starts at 10 ms, as the value written meant. Coarser types are binned as
 * stored (float16 0.05 is 0.0499878: the step before 50 ms). Events in the same step and
 * channel add up (value = their count) or saturate (value 1). Events at or
 * after step T are dropped (and counted); negative or non-finite times, a
 * channel outside [0, channels) or a negative label are errors naming the
 * file and the example. */
#ifndef RC_ENC_EVENTS_H
#define RC_ENC_EVENTS_H

#include <stdint.h>
#include "encoders/dataset.h"

#define RC_EVDATA_MAX_T 4096

typedef struct {
    const char *train_file;  /* HDF5, either layout of io/h5events.h           */
    const char *val_file;    /* NULL: validation = the last nval training examples */
    const char *test_file;
    int channels;            /* input channels; every unit must be below it     */
    int steps;               /* T; 0 = up to the last event of all the files     */
    double dt_ms;            /* bin width (ms), one step                         */
    int saturate;            /* 1: value 1 per (step, channel); 0: the count      */
    int64_t nval;            /* with no val_file: -1 = a tenth of the training file
                                (at least 1), else this many (< training examples) */
    int rows, cols;          /* 0, 0 or a layout with rows·cols = channels
                                (channel = row·cols + col) for conv models        */
} rc_evdata_opts;

/* Reads and bins the files. Errors name the file (and example, dataset);
 * RC_ERR_CONFIG for a bad option (nval too large, rows·cols ≠ channels,
 * events reaching past RC_EVDATA_MAX_T steps with steps = 0). *dropped (may
 * be NULL) gets the number of events at or after step T over all files. */
rc_status rc_evdata_new(const rc_evdata_opts *o, uint64_t seed, rc_dataset **out, int64_t *dropped, rc_err *err);

/* The step of an event at t seconds for bins of dt_ms (see above); -1 when t
 * is negative or not finite; INT64_MAX when the step does not fit in 63 bits. */
int64_t rc_evdata_step(double t, double dt_ms);

#endif
