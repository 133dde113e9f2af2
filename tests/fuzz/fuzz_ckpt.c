/* fuzz_ckpt.c — the checkpoint loader (io/checkpoint.c over libhdf5): the
 * config string, then a load of the items a tiny run's model.h5 holds at
 * their sizes (tests/fuzz/seeds/ckpt). Crashes inside libhdf5 itself are
 * HDF5's (see the README's fuzzing section); the harness counts on rcsim
 * validating a file before handing it over. */
#include <string.h>
#include <hdf5.h>
#include "io/checkpoint.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        quiet = 1;
    }
    const char *path = fuzz_file(data, size, ".h5");
    rc_err e;
    char *s = NULL;
    if (rc_ckpt_read_string(path, "config", &s, &e) == RC_OK) free(s);
    else if (strchr(e.msg, '\n')) abort();
    static float p[64];
    int64_t batch = 0;
    double score = 0;
    rc_ckpt_tensor t[] = { { "params", p, 64 } };
    rc_ckpt_int ci[] = { { "batch", &batch } };
    rc_ckpt_real cr[] = { { "best_score", &score } };
    rc_ckpt ck = { t, 1, ci, 1, cr, 1, NULL, 0 };
    if (rc_ckpt_load(path, &ck, &e) != RC_OK && strchr(e.msg, '\n')) abort();
    return 0;
}
