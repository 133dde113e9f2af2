/* fsutil.h — the file-system helpers every layer above io/ shares: folders
 * (mkdir -p, is-a-folder, sorted listing) and files that are never
 * half-written. */
#ifndef RC_FSUTIL_H
#define RC_FSUTIL_H
#include <stddef.h>
#include "base/status.h"

/* mkdir -p; RC_ERR_IO with the path and strerror on failure. */
rc_status rc_mkdir_p(const char *path, rc_err *err);
/* Writes len bytes to path.tmp, fsyncs, renames over path: readers see the old
 * file or the new one, never a torn one. */
rc_status rc_write_atomic(const char *path, const char *data, size_t len, rc_err *err);
/* 1 if path exists and is a folder (following links), else 0. */
int rc_fs_is_dir(const char *path);
/* The entries of dir, sorted by strcmp, without hidden ones (leading '.'):
 * its sub-folders (dirs = 1), or its regular files whose name is longer than
 * suffix and ends with it (dirs = 0; suffix NULL or "" = every file). Entries
 * that cannot be stat()ed are left out. On success *out holds *nout strdup()ed
 * names (free with rc_fs_list_free; NULL when *nout = 0). RC_ERR_IO when dir
 * cannot be opened, RC_ERR_NOMEM; the message names dir. */
rc_status rc_fs_list_dir(const char *dir, int dirs, const char *suffix, char ***out, int *nout, rc_err *err);
void rc_fs_list_free(char **v, int n); /* NULL is a no-op */
/* One writer per folder: an exclusive flock on DIR/.rcsim.lock, held until
 * *fd is closed (or the process ends; the file itself is never removed, which
 * would race). RC_ERR_USAGE, one line naming dir, when another process holds
 * it; RC_ERR_IO when the lock file cannot be created. Where the file system
 * has no flock (some network mounts), carries on unlocked, *fd = -1. */
rc_status rc_fs_lock_dir(const char *dir, int *fd, rc_err *err);
/* Removes DIR/NAME.tmp for each of the n names: the temporaries rcsim's
 * writers leave when killed. Call with the folder's lock held. */
void rc_fs_remove_tmp(const char *dir, const char *const *names, int n);
#endif
