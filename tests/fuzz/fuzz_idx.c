/* fuzz_idx.c — the IDX reader, raw and gzip (detected by its magic), as
 * images and as labels. Oracle besides the sanitizers: a success returns
 * exactly the sizes the header claims. */
#include <string.h>
#include "io/idx.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, ".idx");
    rc_idx x;
    rc_err e;
    if (rc_idx_read_images(path, &x, &e) == RC_OK) {
        if (!x.data || !x.count || !x.rows || !x.cols) abort();
        volatile uint8_t last = x.data[(size_t)x.count * x.rows * x.cols - 1]; /* ASan: all there */
        (void)last;
        rc_idx_free(&x);
    } else if (strchr(e.msg, '\n')) abort();
    if (rc_idx_read_labels(path, 10, &x, &e) == RC_OK) {
        for (uint32_t i = 0; i < x.count; i++)
            if (x.data[i] >= 10) abort();
        rc_idx_free(&x);
    } else if (strchr(e.msg, '\n')) abort();
    return 0;
}
