/* spikefile.h — reading SONATA spike reports: /spikes/<population>/
 * {timestamps (ms), node_ids}, as io/traces.h writes them (so one network
 * run's output can drive another) and as bmtk/NEST-SONATA tools write them. */
#ifndef RC_SPIKEFILE_H
#define RC_SPIKEFILE_H

#include <stddef.h>
#include <stdint.h>
#include "base/status.h"

/* Reads population `pop` (NULL: the only group under /spikes that holds
 * spikes; an error if there are several or none) of the file at path: n spike times (ms) and node ids,
 * in file order, into malloc'd arrays the caller frees (NULL when n = 0).
 * RC_ERR_IO (cannot open), RC_ERR_DATA (layout: missing group or dataset,
 * lengths differ), RC_ERR_NOMEM; the message names the file and object. */
rc_status rc_spikefile_read(const char *path, const char *pop, double **times, uint64_t **ids, size_t *n,
                            rc_err *err);

#endif
