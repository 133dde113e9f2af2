/* checkpoint.h — crash-safe, self-describing model checkpoints (HDF5).
 *
 * model.h5 holds every float tensor of the training state by name
 * (parameters, Adam moments, the best model so far), int64 and float64
 * scalars by name (step counters, best score, RNG position...), and strings
 * (the config text, a model-shape description, a format version).
 * Saving writes PATH.tmp, fsyncs it, renames it over PATH and fsyncs the
 * folder: an interruption at any moment leaves either the old or the new
 * checkpoint, never a broken one. Each tensor carries a CRC-32 (zlib) stored
 * as an attribute, checked on load, so bit flips are detected.
 *
 * Layout: /format (attr string "rcsim-checkpoint-1"), /tensors/<name> float32
 * 1-D with attr crc32 (uint32), /scalars/<name> attrs (int64 or float64),
 * /strings/<name> attrs (variable or fixed-length string), and optionally
 * /params/<path> views for users: float32 datasets of any shape (1 to 4
 * dims) with attributes, written on save and never read by load (the
 * loader reads the flat /tensors). */
#ifndef RC_CHECKPOINT_H
#define RC_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>
#include "base/status.h"

typedef struct {
    const char *name;
    float *data;      /* save: read from; load: written to (caller-allocated) */
    size_t n;         /* expected element count (load: mismatch is an error)  */
} rc_ckpt_tensor;

typedef struct { const char *name; int64_t *value; } rc_ckpt_int;
typedef struct { const char *name; double *value; } rc_ckpt_real;
typedef struct { const char *name; char **value; } rc_ckpt_str; /* load: malloc'd, caller frees */

/* An attribute of a view: a string s, or (s NULL) the number d, written as
 * int64 when integer is set, else as float64. */
typedef struct { const char *key; const char *s; double d; int integer; } rc_ckpt_attr;

/* A named, shaped copy of a tensor under /params: path '/'-separated
 * ("lstm/w_ih"; groups are created as needed), shape[0..ndim), data the
 * Π shape floats. ndim 0: only the attributes, on the group `path` ("" =
 * /params itself). */
typedef struct {
    const char *path;
    int ndim;
    uint64_t shape[4];
    const float *data;
    const rc_ckpt_attr *attrs; size_t nattrs;
} rc_ckpt_view;

typedef struct {
    rc_ckpt_tensor *tensors; size_t ntensors;
    rc_ckpt_int *ints; size_t nints;
    rc_ckpt_real *reals; size_t nreals;
    rc_ckpt_str *strs; size_t nstrs;
} rc_ckpt;

rc_status rc_ckpt_save(const char *path, const rc_ckpt *ck, rc_err *err);
/* The same, with the views (nviews may be 0) written under /params. A bad
 * view path (empty component) is refused before PATH.tmp exists. */
rc_status rc_ckpt_save_views(const char *path, const rc_ckpt *ck, const rc_ckpt_view *views, size_t nviews,
                             rc_err *err);

/* Loads every named item into the caller's buffers. Refuses (RC_ERR_DATA, with
 * a message naming the file and the item) a file that is missing, truncated,
 * not HDF5, of another format version, lacks an item, has a tensor of another
 * size, or whose CRC does not match. On error the buffers may be partly
 * overwritten; nothing on disk is touched. */
rc_status rc_ckpt_load(const char *path, rc_ckpt *ck, rc_err *err);

/* Reads only one string item (e.g. the config text stored in a checkpoint)
 * without the rest; *out malloc'd. */
rc_status rc_ckpt_read_string(const char *path, const char *name, char **out, rc_err *err);

#endif
