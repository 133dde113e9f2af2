/* fuzz_util.h — what the libFuzzer harnesses share: the input as a file.
 * The readers take paths, so each input is written to one per-process file
 * (in $TMPDIR or /tmp) and read back through the real code path. */
#ifndef RC_FUZZ_UTIL_H
#define RC_FUZZ_UTIL_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline const char *fuzz_file(const uint8_t *data, size_t size, const char *suffix)
{
    static char path[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/rcsim_fuzz_%d%s", tmp && *tmp ? tmp : "/tmp", (int)getpid(), suffix);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    if (fclose(f)) abort();
    return path;
}
#endif
