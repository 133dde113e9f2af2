/* report.h — SONATA compartment reports (membrane potentials) added to a
 * traces.h5 while it is open (between rc_traces_open and rc_traces_close, so
 * the file is published whole, with its checksum trailer, or not at all):
 *   /report/<population>/data                 float32 [time, element], attribute units
 *   /report/<population>/mapping/node_ids      uint64 [elements]
 *   /report/<population>/mapping/element_ids   uint64 [elements] (0: point neurons)
 *   /report/<population>/mapping/index_pointers uint64 [elements + 1] (i .. i+1)
 *   /report/<population>/mapping/time          float64 [3] = start, stop, dt (ms),
 *                                              attribute units = "ms"
 * Row i of data is the sample at start + i·dt; stop = start + rows·dt. */
#ifndef RC_REPORT_H
#define RC_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include "base/status.h"
#include "io/traces.h"

/* Writes one population's report into tr. data: (rows, n) row-major. RC_ERR_IO on
 * failure, with the file and object named; the population must not exist
 * yet in /report. */
rc_status rc_report_write(rc_traces *tr, const char *pop, const uint64_t *node_ids, size_t n,
                          const float *data, size_t rows, double start_ms, double dt_ms, const char *units,
                          rc_err *err);

/* Image presentations of a network source, added the same way:
 *   /presentations/<source>/start_ms  float64 [n] (window starts, attribute units = "ms")
 *   /presentations/<source>/label     int32 [n]
 *   /presentations/<source>/example   uint64 [n] (index in the split)
 * RC_ERR_IO on failure; the source must not exist yet in /presentations. */
rc_status rc_report_presentations(rc_traces *tr, const char *source, const double *start_ms, const int32_t *label,
                                  const uint64_t *example, size_t n, rc_err *err);

#endif
