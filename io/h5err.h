/* h5err.h — HDF5's error stack folded into one-line rcsim messages.
 *
 * What and why: checkpoint.c and traces.c switch HDF5's own error printing
 * off and report failures through rc_err instead, naming the file and the
 * object. The reason HDF5 gives has to be copied out of its error stack at
 * the failing call, since the next API call (a cleanup H5?close included)
 * clears that stack; these helpers do that for both writers.
 * Serial HDF5 is not thread-safe, and neither is this: call from one thread. */
#ifndef RC_H5ERR_H
#define RC_H5ERR_H
#include <stddef.h>

/* Entry of every public function: HDF5's error printing off, its stack and
 * any stale reason from an earlier call cleared. */
void rc_h5err_reset(void);
/* Right after a failing HDF5 call: copies the reason off HDF5's error stack
 * (a no-op when the stack is empty, so an earlier note is kept). */
void rc_h5err_note(void);
/* The noted reason (noting first) as one line in buf, e.g. "unable to open
 * file (truncated file: eof = ...)", or "HDF5 call failed" if there is none;
 * forgets the reason and returns buf. */
const char *rc_h5err_msg(char *buf, size_t cap);
#endif
