/* wav.h — RIFF/WAVE reader for the speech task: 16-bit PCM, mono, 16 kHz.
 *
 * What and why: Speech Commands ships one-second clips (and minute-long
 * background noise files) in exactly this format. Anything else (stereo,
 * 8 kHz, 8-bit, float samples, compressed codecs) is refused rather than
 * converted, so that a data set that is not what the features assume fails
 * loudly. Chunks other than "fmt " and "data" (LIST, fact, cue, ...) are
 * skipped, with RIFF's even-size padding. The reader never trusts a size
 * field: a chunk that runs past the end of the file is an error.
 *
 * Every error is RC_ERR_IO (cannot open/read) or RC_ERR_DATA (not a valid
 * file of the required format), with one line naming the file and what is
 * wrong, e.g. "a.wav: 2 channels, expected mono (1)". Thread-safe. */
#ifndef RC_WAV_H
#define RC_WAV_H

#include <stdint.h>
#include "base/status.h"

#define RC_WAV_RATE 16000

typedef struct {
    int16_t *samples;   /* (n) PCM samples, native byte order */
    int64_t n;
} rc_wav;

rc_status rc_wav_read(const char *path, rc_wav *out, rc_err *err);
void rc_wav_free(rc_wav *w);   /* keeps w usable; NULL samples are fine */

/* Writes a 16 kHz mono PCM16 file (tests and tools generate clips with it). */
rc_status rc_wav_write(const char *path, const int16_t *samples, int64_t n, rc_err *err);

#endif
