/* speech_impl.h — private to encoders/speech*.c: the Speech Commands data
 * set's state and the pieces its three files share. speech.c finds the clips
 * and their splits (and reads a clip's audio), speech_features.c computes,
 * caches, augments and normalises the log-mel features, speech_dataset.c is
 * the rc_dataset itself (get, free, the constructor). */
#ifndef RC_SPEECH_IMPL_H
#define RC_SPEECH_IMPL_H

#include <stdint.h>
#include "encoders/speech.h"
#include "encoders/logmel.h"
#include "io/fsutil.h" /* rc_fs_list_free */

#define MAX_CLASS 64

typedef struct {
    char *dir;
    int nfiles;
    char **rel;            /* (nfiles) "word/file.wav", sorted             */
    int *label;            /* (nfiles)                                     */
    int *split;            /* (nfiles) rc_split                            */
    int32_t *sidx[3];      /* per split: file indices, in file order       */
    int64_t ns[3];
    float *feat;           /* (nfiles, frames, bands)                      */
    rc_logmel *lm;
    int frames, bands, context, T, nin;
    float *norm;           /* (2·nin) mean, 1/std                          */
    int shift;             /* augmentation: max shift in samples           */
    double noise_prob, noise_vol;
    float **noise;         /* (nnoise) noise clips as floats               */
    int64_t *noise_len;
    int64_t *noise_use;    /* (nnoise) augmentation windows start below
                              noise_use − 1 s (the training stretch)       */
    char **noise_path;     /* (nnoise)                                     */
    int nnoise;
    int nreal;             /* files [nreal, nfiles) are synthesised silence */
    int *syn_k;            /* (nfiles − nreal) noise file of the window    */
    int64_t *syn_off;      /* first sample of the window                   */
    float *syn_vol;        /* its volume                                   */
    int augment;
    int cache_state;
    char *names[MAX_CLASS];
} speech_priv;

/* ---- speech.c: clips and splits ------------------------------------------- */

/* Finds the class of every word folder and collects the clips, their labels
 * and splits (p->rel, label, split, sidx, ns; synthesised silence too). */
rc_status speech_scan(speech_priv *p, const rc_speech_opts *o, uint64_t seed, rc_err *err);
/* Loads every *.wav of dir as augmentation / silence noise. */
rc_status speech_load_noise(speech_priv *p, const char *dir, rc_err *err);
/* The samples of clip `file`: its WAV, or the scaled noise window of a
 * synthesised silence clip (one second, zeros past the end of the noise).
 * *x malloc'd, *n samples. */
rc_status speech_clip_audio(const speech_priv *p, int file, float **x, int64_t *n, rc_err *err);

/* ---- speech_features.c ------------------------------------------------------ */

/* Fills p->feat (nfiles, frames, bands): from the cache in o->cache_dir when
 * it holds exactly these features, else computed (and cached). Sets
 * p->cache_state. */
rc_status speech_features(speech_priv *p, const rc_speech_opts *o, const rc_logmel_params *lp, rc_err *err);
/* Mean and 1/std of every channel over the training split into norm (2·nin). */
rc_status speech_normalisation(speech_priv *p, float *norm, rc_err *err);
/* Log-mel frames of training example `index` (pass-aware) with a random time
 * shift and noise, into out (frames, bands). */
rc_status speech_augmented(const speech_priv *p, uint64_t seed, int file, int64_t index, float *out);

#endif
