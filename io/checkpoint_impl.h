/* checkpoint_impl.h — private to io/checkpoint*.c: the /params writer. */
#ifndef RC_CHECKPOINT_IMPL_H
#define RC_CHECKPOINT_IMPL_H

#include <hdf5.h>
#include "io/checkpoint.h"

/* 1 if path is "" or '/'-separated non-empty components. */
int rc_ckpt_view_path_ok(const char *path);
/* Writes the views under /params of the open file f (nothing for nviews 0). */
rc_status rc_ckpt_write_views(hid_t f, const char *tmp, const rc_ckpt_view *views, size_t nviews, rc_err *err);

#endif
