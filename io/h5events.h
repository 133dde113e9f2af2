/* h5events.h — reading labelled event data sets from HDF5, in two layouts:
 *
 *   SHD layout (Spiking Heidelberg Digits / Spiking Speech Commands, Cramer
 *   et al. 2020): /spikes/times and /spikes/units, one variable-length array
 *   per example (times in seconds, any float or integer type; units = the
 *   channel of each event, any integer type), /labels (N integers), optional
 *   /extra/keys (class names, strings, fixed or variable length).
 *
 *   Flat layout (for converting anything with a few lines of h5py):
 *   /events/times (E floats, seconds), /events/units (E integers, channel),
 *   /events/example (E integers in [0, N), the example of each event, in any
 *   order), /labels (N integers), optional /extra/keys.
 *
 * The reader hands each example's events to a callback, in example order and
 * in file order within an example, so the caller bins them without the whole
 * file's events ever being in memory at once (SHD layout: 256 examples are
 * read at a time). Serial HDF5: call from one thread. */
#ifndef RC_H5EVENTS_H
#define RC_H5EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include "base/status.h"

typedef enum { RC_H5EV_SHD = 0, RC_H5EV_FLAT = 1 } rc_h5ev_layout;

typedef struct {
    rc_h5ev_layout layout;
    int64_t n;          /* examples                                        */
    int64_t *labels;    /* (n) as stored (not range-checked here)          */
    char **keys;        /* (nkeys) /extra/keys, NULL when absent            */
    int nkeys;
} rc_h5ev_file;

/* Called once per example ex (0 .. n-1, ascending) with its n events: t
 * (seconds) and u (channel), both as stored. Returning non-OK stops the read
 * and is passed on (the callback sets err). */
typedef rc_status (*rc_h5ev_fn)(void *user, int64_t ex, const double *t, const int64_t *u, size_t n,
                                rc_err *err);

/* Reads the file at path (either layout, found by its groups) into f and
 * feeds every example to fn. RC_ERR_IO (cannot open), RC_ERR_DATA (not
 * HDF5, neither layout, a dataset missing or of the wrong kind, lengths that
 * disagree, an example index out of range; the message names the file, the
 * dataset and, where it is one example's fault, the example), RC_ERR_NOMEM.
 * On failure f holds nothing to free. */
rc_status rc_h5ev_read(const char *path, rc_h5ev_file *f, rc_h5ev_fn fn, void *user, rc_err *err);
void rc_h5ev_file_free(rc_h5ev_file *f); /* zeroes f; a zeroed f is a no-op */

#endif
