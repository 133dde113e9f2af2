/* h5guard.h — what rcsim checks in an HDF5 file before libhdf5 reads a byte
 * of it, and the whole-file checksum rcsim's own HDF5 files carry.
 *
 * What and why: libhdf5 decodes its metadata trusting the file; in the old
 * format (superblock version 0/1, no metadata checksums) a few corrupt bytes
 * make HDF5 1.10 read out of bounds. Every reader of an HDF5 file calls
 * rc_h5guard_check first:
 *   - every file: the superblock signature at 0 (own) or 0, 512, 1024, ...
 *     (foreign, after a user block), a known superblock version, sane offset
 *     and length sizes, the v2/v3 superblock checksum (Jenkins lookup3, as
 *     HDF5 computes it) and its end-of-file address against the real size;
 *   - rcsim's own files (model.h5, traces.h5, feature caches) must use
 *     superblock version 2 or later (rcsim never writes 0/1) and, when they
 *     carry the rcsim trailer (everything written since the trailer came;
 *     older files have none and still load), their whole-file CRC-32 must
 *     match.
 * The trailer: 24 bytes appended after HDF5's end of file, which libhdf5
 * ignores (it only refuses files shorter than their end-of-file address):
 *   "RCSIMCRC" | u64 LE bytes covered (= the file before the trailer) |
 *   u32 LE CRC-32 (zlib) of those bytes | u32 LE trailer version (1).
 * Foreign files in the v0/v1 format have no checksums to verify: they pass
 * the structural checks only (see README, "Files rcsim did not write"). */
#ifndef RC_H5GUARD_H
#define RC_H5GUARD_H
#include <stddef.h>
#include <stdint.h>
#include "base/status.h"

typedef enum { RC_H5_OWN, RC_H5_FOREIGN } rc_h5_origin;

#define RC_H5_TRAILER_SIZE 24

/* Bob Jenkins' lookup3 hashlittle, byte-wise, as HDF5's H5_checksum_lookup3
 * (HDF5's metadata checksums are this with initval 0). */
uint32_t rc_h5_lookup3(const void *key, size_t len, uint32_t initval);

/* Checks path as above before any HDF5 call. what names the file's role in
 * messages ("checkpoint", "feature cache", ...). RC_ERR_DATA (one line naming
 * path and what is wrong) or RC_ERR_IO (cannot read). crc_bad (optional) is
 * set to 1 when everything but the whole-file CRC-32 held: the superblock
 * and its checksum are sound, the damage is inside (a caller may then open
 * the file, as it would one written before the trailer existed, only to
 * name the damaged item; the file is refused either way). */
rc_status rc_h5guard_check(const char *path, rc_h5_origin origin, const char *what, int *crc_bad, rc_err *err);

/* After libhdf5 closed path: appends the trailer and fsyncs the file.
 * RC_ERR_IO naming path on failure (the caller removes the file). */
rc_status rc_h5guard_seal(const char *path, rc_err *err);
#endif
