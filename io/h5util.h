/* h5util.h — what checkpoint.c and traces.c share about HDF5: its error
 * stack folded into one-line rcsim messages, lenient file locking, scalar
 * attributes, link-name checks, and a durable rename (fsync the folder).
 *
 * What and why: checkpoint.c and traces.c switch HDF5's own error printing
 * off and report failures through rc_err instead, naming the file and the
 * object. The reason HDF5 gives has to be copied out of its error stack at
 * the failing call, since the next API call (a cleanup H5?close included)
 * clears that stack; these helpers do that for both writers.
 * Serial HDF5 is not thread-safe, and neither is this: call from one thread. */
#ifndef RC_H5UTIL_H
#define RC_H5UTIL_H
#include <stddef.h>
#include <hdf5.h>

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

/* Cluster file systems often lack flock: HDF5 >= 1.10.7 then carries on
 * without locking instead of refusing the file. */
void rc_h5_lenient_locking(hid_t fapl);
/* Scalar fixed-length NUL-terminated string attribute sized to the text
 * (h5py, MATLAB and libsonata read it); notes the HDF5 reason on failure. */
herr_t rc_h5_attr_str(hid_t loc, const char *name, const char *s, H5T_cset_t cset);
/* Scalar numeric attribute: file type ftype, memory type mtype. */
herr_t rc_h5_attr_num(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v);
/* Names that become HDF5 links or attributes: one non-empty path component. */
static inline int rc_h5_name_ok(const char *s)
{
    return s && *s && !__builtin_strchr(s, '/') && __builtin_strcmp(s, ".") && __builtin_strcmp(s, "..");
}
/* H5Fclose(f); a failure is noted (rc_h5err_msg) and keeps HDF5 from
 * tearing itself down at exit, where 1.10 crashes on a file whose close
 * failed. Use it for every file rcsim closes. */
herr_t rc_h5_fclose(hid_t f);
/* Text from a file, safe to print: at most max bytes of s, printable ASCII
 * kept, everything else (and the backslash) as \xNN, "..." when cut; returns buf. */
char *rc_h5_escape(char *buf, size_t cap, const char *s, size_t max);
/* Opens a file rcsim did not write, read-only: rc_h5guard_check first (its
 * superblock before libhdf5 sees it), then H5Fopen with lenient locking.
 * *out is the file (close with rc_h5_fclose). Errors name path and what:
 * "PATH: cannot open WHAT (reason)", RC_ERR_IO; the guard's own errors as
 * it gives them. Calls rc_h5err_reset. */
#include "base/status.h"
rc_status rc_h5_open_foreign(const char *path, const char *what, hid_t *out, rc_err *err);
/* fsync the folder holding path, so a rename into it survives a crash. */
int rc_h5_sync_dir(const char *path);
#endif
