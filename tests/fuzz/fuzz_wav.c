/* fuzz_wav.c — the WAV reader. Oracles besides the sanitizers: error
 * messages are one line (chunk ids are raw bytes); a success has samples. */
#include <string.h>
#include "io/wav.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rc_wav w;
    rc_err e;
    if (rc_wav_read(fuzz_file(data, size, ".wav"), &w, &e) == RC_OK) {
        if (w.n < 0 || (w.n > 0 && !w.samples)) abort();
        if (w.n > 0) {
            volatile int16_t last = w.samples[w.n - 1]; /* ASan: all there */
            (void)last;
        }
        rc_wav_free(&w);
    } else if (strchr(e.msg, '\n') || strchr(e.msg, '\r')) {
        fprintf(stderr, "message is not one line: %s\n", e.msg);
        abort();
    }
    return 0;
}
