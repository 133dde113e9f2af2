/* featcache.h — a float32 matrix cached in an HDF5 file under a text key.
 *
 * What and why: the speech task's log-mel features of every clip take a few
 * seconds to compute (tens of minutes on the full data set); the cache keeps
 * them between runs. The file holds one float32 dataset /features
 * (rows, cols) with a CRC-32 attribute, and a string attribute `key` that
 * describes exactly what was computed (feature parameters, the file list with
 * sizes and modification times). A file whose key differs (stale), or that is
 * unreadable, truncated or fails its CRC (corrupt), is reported as a miss
 * with the reason, never used: the caller recomputes and saves over it.
 * Saving writes PATH.<pid>.tmp, fsyncs and renames it, so a crash never leaves a
 * half-written cache under PATH. Call from one thread (serial HDF5). */
#ifndef RC_FEATCACHE_H
#define RC_FEATCACHE_H

#include <stddef.h>
#include "base/status.h"

/* Fills data (rows·cols floats) and returns 1 on a hit; returns 0 on a miss
 * and writes the reason ("no cache file", "stale: ...", "corrupt: ...") to why. */
int rc_featcache_load(const char *path, const char *key, float *data, size_t rows, size_t cols,
                      char *why, size_t cap);
rc_status rc_featcache_save(const char *path, const char *key, const float *data, size_t rows, size_t cols,
                            rc_err *err);

#endif
