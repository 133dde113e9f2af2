/* network_cfg.h — task.name = network: config → rc_net_spec, and the run
 * (sim/app/network_run.c): build, simulate, write traces.h5 and summary.json. */
#ifndef RC_NETWORK_CFG_H
#define RC_NETWORK_CFG_H

#include "io/cfg.h"
#include "io/spikefile.h"
#include "sim/app/run.h"
#include "sim/network.h"

/* Spike-file contents and image datasets the spec borrows (one slot per
 * source). */
typedef struct {
    double *times[RC_NET_MAXSRC];
    uint64_t *ids[RC_NET_MAXSRC];
    size_t n[RC_NET_MAXSRC];
    rc_dataset *ds[RC_NET_MAXSRC];   /* type = images: the encoded split    */
    uint8_t *labels[RC_NET_MAXSRC];  /* its labels (nlabels), for /presentations */
    int64_t nlabels[RC_NET_MAXSRC];
} rc_netcfg_files;

/* Fills s from a loaded, checked config (path names it in messages); reads
 * the spike files into files (free with rc_netcfg_files_free, after the
 * network). RC_ERR_CONFIG with FILE: ... on a bad value, RC_ERR_IO/DATA on a
 * spike file that cannot be read. */
rc_status rc_netcfg_spec(const rc_cfg *c, const char *path, rc_net_spec *s, rc_netcfg_files *files, rc_err *err);
void rc_netcfg_files_free(rc_netcfg_files *files);

/* `rcsim run` for any config: *handled = 1 and the run's status when
 * task.name = network; *handled = 0 (and RC_OK) otherwise, nothing done.
 * Config errors are returned either way (handled = 1). */
rc_status rc_netrun(const rc_run_args *a, int *handled, rc_err *err);

/* `rcsim info CFG` for task.name = network: builds the network on a pool of
 * nth threads and prints neurons (per population), synapses and bytes per
 * thread (pl: the planned places) and per NUMA node of topo. Exit status:
 * 0, or 1/2 with the error printed. */
int rc_netinfo(const rc_cfg *cfg, const char *cfg_path, const rc_topo *topo, int nth, rc_placement place,
               const rc_thread_place *pl);

#endif
