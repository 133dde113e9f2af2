/* fsutil.h — files that are never half-written. */
#ifndef RC_FSUTIL_H
#define RC_FSUTIL_H
#include <stddef.h>
#include "base/status.h"

/* mkdir -p; RC_ERR_IO with the path and strerror on failure. */
rc_status rc_mkdir_p(const char *path, rc_err *err);
/* Writes len bytes to path.tmp, fsyncs, renames over path: readers see the old
 * file or the new one, never a torn one. */
rc_status rc_write_atomic(const char *path, const char *data, size_t len, rc_err *err);
#endif
