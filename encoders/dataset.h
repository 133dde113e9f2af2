/* dataset.h — where examples come from.
 *
 * A dataset hands out examples as event streams by (split, index). Synthetic
 * tasks (spotting, twoseq) are generators: every index of every split is a
 * fresh sequence drawn from counter-based random numbers keyed by
 * (seed, split, index), so the same index always gives the same sequence and
 * nothing depends on thread count or visiting order. Finite data sets (MNIST,
 * speech) report their split sizes. */
#ifndef RC_DATASET_H
#define RC_DATASET_H

#include <stdint.h>
#include "base/events.h"
#include "base/status.h"

typedef enum { RC_SPLIT_TRAIN = 0, RC_SPLIT_VAL = 1, RC_SPLIT_TEST = 2 } rc_split;

/* Per-example facts besides the label that some metrics need. */
typedef struct {
    int label;      /* class index (binary tasks: 1 = positive)             */
    int earliest;   /* spotting: 0-based step completing the first 5-run,
                       -1 when there is none; other tasks: -1               */
} rc_example_info;

typedef struct rc_dataset rc_dataset;
struct rc_dataset {
    const char *name;        /* "spotting", "twoseq", ...                    */
    int T;                   /* steps per example                            */
    int nin;                 /* input channels                               */
    int nclass;              /* classes (2 for the binary tasks)             */
    int rows, cols;          /* image tasks: channel = row·cols + col; else 0 */
    int64_t size[3];         /* examples per split; -1 = generator (any)     */
    uint64_t seed;
    /* Fills ev (reset + pushes + finish) and info for example `index` of `split`.
     * Must be thread-safe (called concurrently with different ev). */
    rc_status (*get)(const rc_dataset *ds, rc_split split, int64_t index,
                     rc_events *ev, rc_example_info *info);
    void (*free)(rc_dataset *ds);
    void *priv;
    /* Optional (NULL / 0 unless a task sets them): */
    const char *const *class_names; /* (nclass) names for per-class metrics      */
    float *norm;             /* (nnorm) feature normalisation the examples are
                                encoded with (speech: mean (nin), then 1/std
                                (nin)); owned by the task, read by get(). The
                                driver stores it in model.h5 and overwrites it
                                from there on eval and resume, so a model is
                                always fed as it was trained.                 */
    size_t nnorm;
    int train_pass_index;    /* TRAIN get() takes index = pass·size[TRAIN] + i
                                (example i of that pass over the training set),
                                so per-example augmentation differs by pass   */
};

/* Synthetic tasks (encoders/spotting.c, encoders/twoseq.c). */
rc_dataset *rc_spotting_new(uint64_t seed, int T, int run);
rc_dataset *rc_twoseq_new(uint64_t seed, int T, double mean, double sigma_lo, double sigma_hi);

/* Latency-coded images (temporal MNIST, paper 3.3): T steps; a pixel of value
 * v > 0 spikes once, at step ((255 − v)·T) / 255 clipped to T − 1 (integer
 * arithmetic: brighter = earlier, exact at every boundary); v = 0 never spikes
 * (zero_last = 0) or spikes at T − 1 (zero_last = 1, as the paper's public
 * code does). Channel = pixel index (row-major). Splits: TRAIN = the first
 * ntrain − nval training images, VAL = the last nval training images, TEST =
 * the test images. Takes ownership of the pixel and label arrays (free()d).
 * Returns NULL on allocation failure. */
rc_dataset *rc_latency_new(uint64_t seed, int T, int zero_last, int npix, int nclass,
                           uint8_t *train_pix, uint8_t *train_lab, int64_t ntrain, int64_t nval,
                           uint8_t *test_pix, uint8_t *test_lab, int64_t ntest);
/* Rate-coded images (encoders/images.c): at every step each pixel of value v
 * spikes with probability v/255 (counter-based draws keyed by split, example,
 * step and pixel). Splits and ownership as rc_latency_new. */
rc_dataset *rc_rate_new(uint64_t seed, int T, int npix, int nclass,
                        uint8_t *train_pix, uint8_t *train_lab, int64_t ntrain, int64_t nval,
                        uint8_t *test_pix, uint8_t *test_lab, int64_t ntest);
/* Latency step of a pixel value (−1 = no spike). */
int rc_latency_step(int v, int T, int zero_last);

/* Brute-force label and earliest step for a binary sequence (tests use it). */
void rc_spotting_label(const uint8_t *bits, int T, int run, int *label, int *earliest);

/* Speech Commands keyword spotting (paper 3.4, B.4; encoders/speech.c). */
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

void rc_dataset_free(rc_dataset *ds); /* NULL is a no-op */

/* A dataset with the given fields and sizes -1 (a generator) that owns priv
 * (freed with free() after fr, if fr is not NULL). On allocation failure
 * frees priv and returns NULL. */
rc_dataset *rc_dataset_new(const char *name, int T, int nin, int nclass, uint64_t seed,
                           rc_status (*get)(const rc_dataset *, rc_split, int64_t, rc_events *, rc_example_info *),
                           void (*fr)(rc_dataset *), void *priv);

#endif
