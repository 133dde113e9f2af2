/* traces_impl.h — private to io/traces*.c: the trace writer's state and the
 * helpers its two files share. traces.c owns the file (open, close, the /rc
 * rows, activations, the appendable columns); traces_spikes.c the SONATA spike
 * populations. */
#ifndef RC_TRACES_IMPL_H
#define RC_TRACES_IMPL_H

#include <hdf5.h>
#include "io/traces.h"

/* Chunk length (elements) of the spike and per-example columns; one such
 * buffer per column bounds the memory. 64k float64 = 512 KiB per chunk. */
enum { RC_TR_CHUNK = 65536, RC_TR_IDS_CHUNK = 1024 };

typedef struct {
    hid_t dset;            /* open dataset, H5I_INVALID_HID if none     */
    hid_t mtype;           /* native memory type (library constant)     */
    size_t esize;          /* bytes per element in memory               */
    size_t cap;            /* buffer capacity = chunk length            */
    unsigned char *buf;    /* pending elements, allocated on first put  */
    size_t n;              /* pending count                             */
    hsize_t done;          /* elements already in the file              */
    char *where;           /* HDF5 path, for messages                   */
} rc_tr_col;

typedef struct {
    char *name;
    rc_tr_col ts, nodes, ex;
    rc_tr_col vals;        /* event populations only: values (float32)   */
    int any;               /* a spike was added: last_ex/last_step valid */
    uint64_t last_ex;
    int last_step;
} rc_tr_pop;

typedef struct {
    char *name;
    int units;
    hid_t dset;            /* [examples, T, units] float32              */
    hsize_t n;             /* examples written                          */
    rc_tr_col ids;         /* <layer>_example_ids                       */
} rc_tr_layer;

struct rc_traces {
    char *path, *tmp;
    hid_t file, spikes, acts;
    int T;
    double dt_ms;
    int failed;            /* a write failed: refuse more, never publish */
    int any_example;
    uint64_t last_example;
    rc_tr_col tsp, pred, label, spiked, exids;
    rc_tr_pop **pops;
    size_t npops;
    rc_tr_layer **layers;
    size_t nlayers;
};

/* Marks the writer unusable and reports what failed where (file + object). */
rc_status rc_tr_fail(rc_traces *tr, rc_err *err, const char *what, const char *where);
/* The error of every call after a failed write. */
rc_status rc_tr_refuse(const rc_traces *tr, rc_err *err);
char *rc_tr_strdup(const char *s);
/* Scalar variable-length UTF-8 string attribute (h5py reads it as str); -1
 * on failure (HDF5 error noted). */
herr_t rc_tr_attr_vstr(hid_t loc, const char *name, const char *s);
char *rc_tr_join(const char *a, const char *b, const char *c);  /* a + b + c, malloc'd */

/* Appendable 1-D columns (one chunk of buffer each, see traces.c). */
void rc_tr_col_init(rc_tr_col *c);
rc_status rc_tr_col_create(rc_traces *tr, rc_tr_col *c, hid_t loc, const char *prefix,
                           const char *name, hid_t ftype, hid_t mtype, size_t esize, size_t chunk,
                           rc_err *err);
rc_status rc_tr_col_put(rc_traces *tr, rc_tr_col *c, const void *v, rc_err *err);

/* Population `name` under /spikes, created on first use (traces_spikes.c);
 * NULL with *st set on failure. */
rc_tr_pop *rc_tr_pop_get(rc_traces *tr, const char *name, rc_err *err, rc_status *st);

#endif
