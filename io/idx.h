/* idx.h — MNIST-style IDX files (raw or gzip), checked strictly.
 *
 * IDX: big-endian magic 0x0000TTDD (TT = 0x08 unsigned byte data, DD = number
 * of dimensions), then DD big-endian uint32 sizes, then the data. rcsim reads
 * images (DD = 3: count, rows, cols) and labels (DD = 1: count), type 0x08.
 * A ".gz" file (or any file starting with the gzip magic 1f 8b) is inflated
 * with zlib. Every failure is RC_ERR_DATA (or RC_ERR_IO when the file cannot
 * be opened) with a message naming the file and what is wrong: bad magic
 * (the bytes seen), wrong type or dimension count, zero or absurd sizes,
 * data shorter than the header promises ("truncated: expected N bytes of
 * data, found M"), trailing bytes, corrupt gzip stream. */
#ifndef RC_IDX_H
#define RC_IDX_H

#include <stddef.h>
#include <stdint.h>
#include "base/status.h"

typedef struct {
    uint32_t count;     /* images or labels                     */
    uint32_t rows, cols;/* images only (labels: 0)              */
    uint8_t *data;      /* count·rows·cols bytes, or count bytes */
} rc_idx;

/* Images: magic 0x00000803. Labels: magic 0x00000801; every label must be
 * < max_label (else RC_ERR_DATA naming the index and value). */
rc_status rc_idx_read_images(const char *path, rc_idx *out, rc_err *err);
rc_status rc_idx_read_labels(const char *path, uint32_t max_label, rc_idx *out, rc_err *err);
void rc_idx_free(rc_idx *x); /* frees data; NULL data is fine */

/* Reads <dir>/<prefix>-images-idx3-ubyte[.gz] and <prefix>-labels-idx1-ubyte[.gz]
 * (prefix "train" or "t10k"; the .gz name is tried first) and checks that the
 * counts agree ("...: 60000 images but 59999 labels in ..."). */
rc_status rc_idx_read_set(const char *dir, const char *prefix, uint32_t max_label,
                          rc_idx *images, rc_idx *labels, rc_err *err);

#endif
