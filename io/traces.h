/* traces.h — spike traces in the SONATA spike-report layout (HDF5), which
 * h5py, MATLAB and libsonata/bmtk readers open.
 *
 * File layout (all datasets chunked + deflate, extendible, written
 * incrementally: memory does not grow with the number of examples):
 *   /spikes/<population>/timestamps   float64 (n), attribute units = "ms"
 *   /spikes/<population>/node_ids     uint64  (n)
 *   /spikes/<population>/example_ids  uint64  (n), aligned with node_ids
 *   /spikes/<population>  attribute sorting: HDF5 enum over uint8
 *                         {none = 0, by_id = 1, by_time = 2}, set to by_time;
 *                         described populations (rc_traces_describe) also
 *                         size (uint64), shape (int64 [rank]), dims (string,
 *                         the axes, e.g. "y,x,channel") and node_id_mapping
 *                         (string, e.g. "node_id = (y*28 + x)*32 + channel":
 *                         row-major over shape)
 *   /spikes/<population>/values       float32 (n), event populations only
 *                         (rc_traces_add_events): each event's value, aligned
 *                         with node_ids (e.g. a delta LSTM's hidden events)
 *   /rc/t_sp (int32, 1-based steps), /rc/pred (int32), /rc/label (int32),
 *   /rc/spiked (uint8), /rc/example_ids (uint64) — one row per example;
 *   /rc attributes: threshold (float64), beta (float64), mode (string), T (int32),
 *                   delta_x, delta_h (float64: the LSTM's delta thresholds; 0 = exact)
 *   /activations/<layer>  float32 [examples, T, units] for traced examples
 *                         (steps not computed hold NaN), with
 *   /activations/<layer>_example_ids uint64 [examples]
 *   root attributes: rcsim_version, git_revision, config (the effective
 *   config text), seed (uint64), dt_ms (float64), T (int32, steps per
 *   example), example_ms (float64, T·dt_ms)
 * Every string attribute is a variable-length UTF-8 string (h5py: str).
 * Example i occupies [i·T·dt, (i+1)·T·dt) in time; a spike at 0-based step s
 * of example i has timestamp (i·T + s)·dt_ms. Examples must be added in
 * increasing example id so the spikes are sorted by time.
 *
 * The file is written as PATH.tmp and renamed to PATH by rc_traces_close, so
 * an interrupted run never leaves a half-written traces file under PATH. */
#ifndef RC_TRACES_H
#define RC_TRACES_H

#include <stddef.h>
#include <stdint.h>
#include "base/status.h"

typedef struct {
    const char *version;      /* rcsim version string          */
    const char *git_revision;
    const char *config_text;  /* effective config, INI text    */
    uint64_t seed;
    double threshold, beta;
    const char *mode;         /* "rc" or "eos"                 */
    int T;                    /* steps per example             */
    double dt_ms;             /* step length in ms             */
    int no_output;            /* 1: no empty /spikes/output group
                                 (network runs name their own
                                 populations); 0: readers of the
                                 training traces always find it */
    double delta_x, delta_h;  /* delta LSTM thresholds (0: exact) */
} rc_traces_meta;

typedef struct rc_traces rc_traces;

rc_traces *rc_traces_open(const char *path, const rc_traces_meta *meta, rc_err *err);

/* One example's rank-coding outcome (tsp 0-based here; stored 1-based). */
rc_status rc_traces_add_example(rc_traces *tr, uint64_t example_id, int tsp, int pred,
                                int label, int spiked, rc_err *err);

/* n spikes of `population` in example example_id: 0-based steps and node ids.
 * Populations are created on first use. */
rc_status rc_traces_add_spikes(rc_traces *tr, const char *population, uint64_t example_id,
                               const int *steps, const uint64_t *node_ids, size_t n,
                               rc_err *err);

/* n events of `population` in example example_id: as rc_traces_add_spikes,
 * plus each event's value (values, n), stored in the population's `values`
 * column. The first call (n = 0 too) makes the population an event
 * population; spikes without values may then no longer be added to it, nor
 * events to a population that already has spikes (caller bugs: RC_ASSERT). */
rc_status rc_traces_add_events(rc_traces *tr, const char *population, uint64_t example_id,
                               const int *steps, const uint64_t *node_ids, const float *values,
                               size_t n, rc_err *err);

/* Shape of a population: node ids run row-major over shape[0..rank). */
typedef struct {
    int rank;             /* 1..4                                      */
    int64_t shape[4];
    const char *dims;     /* the axes' names, comma-separated: "y,x,channel" */
} rc_traces_pop_shape;

/* Creates `population` if new and writes its size, shape, dims and
 * node_id_mapping attributes; a population described already keeps its
 * first description. */
rc_status rc_traces_describe(rc_traces *tr, const char *population, const rc_traces_pop_shape *sh,
                             rc_err *err);

/* Activations of `layer` for one traced example: act is (T, units) row-major.
 * The layer's units must be the same on every call. */
rc_status rc_traces_add_activations(rc_traces *tr, const char *layer, uint64_t example_id,
                                    const float *act, int units, rc_err *err);

/* Flushes, closes and renames PATH.tmp to PATH. Frees tr (also on error). */
rc_status rc_traces_close(rc_traces *tr, rc_err *err);
/* Closes without renaming and removes PATH.tmp (error paths). NULL is a no-op. */
void rc_traces_abort(rc_traces *tr);

#endif
