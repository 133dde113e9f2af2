/* speech.h — Speech Commands keyword spotting (paper 3.4, B.4;
 * encoders/speech*.c): log-mel features with context, cached, normalised on
 * the training split, with time-shift and noise augmentation. */
#ifndef RC_SPEECH_H
#define RC_SPEECH_H

#include <stdint.h>
#include "encoders/dataset.h"

/* Options of rc_speech_new. */
typedef struct {
    const char *data_dir;    /* <word>/<speaker>_nohash_<n>.wav, validation_list.txt,
                                testing_list.txt, optional _background_noise_/ */
    const char *keywords;    /* comma-separated; every other word is "unknown"  */
    int silence;             /* add _silence_/ clips as the last class; without
                                that folder, clips cut from noise_dir            */
    int64_t silence_clips;   /* how many to cut; 0 = the mean keyword class size */
    const char *cache_dir;   /* feature cache folder; NULL = no cache           */
    const char *noise_dir;   /* noise clips for mixing; NULL = no noise mixing  */
    double time_shift_ms;    /* augmentation: uniform shift in [-s, s] ms        */
    double noise_prob;       /* augmentation: chance of mixing noise in          */
    double noise_volume;     /* augmentation: noise gain ~ U(0, noise_volume)    */
    int bands, context;      /* mel filters; frames of context on either side    */
    double fmin, fmax;       /* filterbank edges (Hz)                            */
    int quiet;               /* no note on stderr when features are computed     */
} rc_speech_opts;
/* Scans data_dir, loads or computes the features (cache), computes the
 * training-set normalisation. Errors name the file or folder. */
rc_status rc_speech_new(const rc_speech_opts *o, uint64_t seed, rc_dataset **out, rc_err *err);
/* Relative path ("yes/abc_nohash_0.wav") of example idx of a split; a silence
 * clip cut from noise is named "_silence_/<noise file>@<first sample>". */
const char *rc_speech_file(const rc_dataset *ds, rc_split split, int64_t idx);
/* 1 if example idx of a split is a silence clip cut from noise, with the noise
 * file's path, the window's first sample and its volume (the clip is
 * volume × samples offset .. offset + 15999, zeros past the end); else 0. */
int rc_speech_synth_clip(const rc_dataset *ds, rc_split split, int64_t idx, const char **noise, int64_t *offset,
                         float *volume);
/* How the features were obtained: 0 computed (no cache), 1 loaded from the
 * cache, 2 computed because the cache was missing, 3 computed because it was
 * stale or corrupt. */
int rc_speech_cache_state(const rc_dataset *ds);

#endif
