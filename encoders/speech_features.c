/* speech_features.c — the features of the Speech Commands data set (see
 * speech.c for the clips and splits).
 *
 * Encoding: log-mel energies per 10 ms frame (encoders/logmel.h: 101 frames
 * of `bands` energies for 1 s); step t stacks frames t .. t + 2·context
 * (no padding: 101 − 2·context steps, 81 for the paper's ±10), channel
 * k·bands + b = band b of frame t + k. Each value is normalised with the
 * training set's per-channel mean and standard deviation (over clips and
 * steps), and every channel of every step is one event (real-valued).
 *
 * Features of every clip are computed once (or loaded from the HDF5 cache,
 * io/featcache.h) at construction. Training examples with augmentation on
 * (time shift, noise) are recomputed from the WAV in get(): the random draws
 * are counter-based, keyed by (seed, pass·ntrain + position), so an example
 * is the same whatever thread loads it. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include "encoders/speech_impl.h"
#include "io/featcache.h"
#include "io/fsutil.h"
#include "base/clock.h"
#include "base/rng.h"

/* See speech_impl.h. */
rc_status speech_augmented(const speech_priv *p, uint64_t seed, int file, int64_t index, float *out)
{
    rc_err e;
    float *src = NULL;
    int64_t n = 0;
    rc_status st = speech_clip_audio(p, file, &src, &n, &e);
    if (st) return st;
    const int L = 16000;
    float *x = calloc((size_t)L, sizeof *x);
    if (!x) { free(src); return RC_ERR_NOMEM; }
    const uint64_t u = (uint64_t)index;
    /* Shift s > 0 delays the clip by s samples (zeros in front), s < 0 advances it. */
    const int s = p->shift ? (int)(rc_rand64(seed, RC_STREAM_AUG, u, 0) % (uint64_t)(2 * p->shift + 1)) - p->shift : 0;
    for (int i = 0; i < L; i++) {
        const int64_t j = (int64_t)i - s;
        if (j >= 0 && j < n) x[i] = src[j];
    }
    if (p->nnoise && rc_uniform(seed, RC_STREAM_AUG, u, 1) < p->noise_prob) {
        const int k = (int)(rc_rand64(seed, RC_STREAM_AUG, u, 2) % (uint64_t)p->nnoise);
        const int64_t len = p->noise_len[k], use = p->noise_use[k];
        const int64_t off = use > L ? (int64_t)(rc_rand64(seed, RC_STREAM_AUG, u, 3) % (uint64_t)(use - L + 1)) : 0;
        const float vol = (float)(rc_uniform(seed, RC_STREAM_AUG, u, 4) * p->noise_vol);
        for (int i = 0; i < L && off + i < len; i++) {
            float v = x[i] + vol * p->noise[k][off + i];
            x[i] = v > 1.0f ? 1.0f : v < -1.0f ? -1.0f : v;
        }
    }
    rc_logmel_compute(p->lm, x, (size_t)L, out);
    free(x);
    free(src);
    return RC_OK;
}

/* The cache key: feature parameters, the folder and every clip's path, size
 * and modification time (any change to the data makes the cache stale). */
static rc_status cache_key(const speech_priv *p, const rc_logmel_params *lp, char **key_out, uint32_t *crc_out,
                           rc_err *err)
{
    *key_out = NULL;
    char desc[512];
    rc_logmel_describe(lp, desc, sizeof desc);
    uLong c = crc32(0L, Z_NULL, 0);
    for (int i = 0; i < p->nreal; i++) {
        char path[PATH_MAX], line[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/%s", p->dir, p->rel[i]);
        struct stat sb;
        if (stat(path, &sb) != 0) return rc_err_set(err, RC_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        int n = snprintf(line, sizeof line, "%s\t%lld\t%lld.%09ld\n", p->rel[i], (long long)sb.st_size,
                         (long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec);
        c = crc32(c, (const unsigned char *)line, (uInt)n);
    }
    /* Synthesised silence: every noise file (path, size, mtime) and every
     * window (file, offset, volume), so another seed, clip count or noise
     * folder is another key. Without them the key is as it always was. */
    char syn[96] = "";
    if (p->nfiles > p->nreal) {
        uLong cs = crc32(0L, Z_NULL, 0);
        for (int k = 0; k < p->nnoise; k++) {
            char line[PATH_MAX + 64];
            struct stat sb;
            if (stat(p->noise_path[k], &sb) != 0)
                return rc_err_set(err, RC_ERR_IO, "%s: cannot stat: %s", p->noise_path[k], strerror(errno));
            int n = snprintf(line, sizeof line, "%s\t%lld\t%lld.%09ld\n", p->noise_path[k], (long long)sb.st_size,
                             (long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec);
            cs = crc32(cs, (const unsigned char *)line, (uInt)n);
        }
        for (int j = 0; j < p->nfiles - p->nreal; j++) {
            char line[128];
            int n = snprintf(line, sizeof line, "%d\t%lld\t%a\t%d\n", p->syn_k[j], (long long)p->syn_off[j],
                             (double)p->syn_vol[j], p->split[p->nreal + j]);
            cs = crc32(cs, (const unsigned char *)line, (uInt)n);
        }
        snprintf(syn, sizeof syn, "; silence-clips=%d; noise-files=%d; silence-crc32=%08lx", p->nfiles - p->nreal,
                 p->nnoise, (unsigned long)cs);
    }
    char *abs = realpath(p->dir, NULL);
    size_t cap = strlen(desc) + (abs ? strlen(abs) : strlen(p->dir)) + sizeof syn + 128;
    char *key = malloc(cap);
    if (key)
        snprintf(key, cap, "rcsim speech features v1; %s; dir=%s; files=%d; list-crc32=%08lx%s", desc,
                 abs ? abs : p->dir, p->nreal, (unsigned long)c, syn);
    free(abs);
    if (!key) return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    *crc_out = (uint32_t)crc32(0L, (const unsigned char *)key, (uInt)strlen(key));
    *key_out = key;
    return RC_OK;
}

/* Features of every clip, computed (in file order). */
static rc_status compute_all(speech_priv *p, rc_err *err)
{
    const size_t fb = (size_t)p->frames * (size_t)p->bands;
    for (int i = 0; i < p->nfiles; i++) {
        float *x = NULL;
        int64_t n = 0;
        rc_status st = speech_clip_audio(p, i, &x, &n, err);
        if (st) return st;
        rc_logmel_compute(p->lm, x, (size_t)n, p->feat + (size_t)i * fb);
        free(x);
    }
    return RC_OK;
}

/* Mean and 1/std of every channel over the training clips and steps (two
 * passes in double, fixed order: the same numbers on every machine). */
rc_status speech_normalisation(speech_priv *p, float *norm, rc_err *err)
{
    const int nin = p->nin, T = p->T, B = p->bands;
    const size_t fb = (size_t)p->frames * (size_t)B;
    double *sum = calloc((size_t)nin * 2, sizeof *sum), *sq = sum ? sum + nin : NULL;
    if (!sum) return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    const double cnt = (double)p->ns[RC_SPLIT_TRAIN] * T;
    for (int pass = 0; pass < 2; pass++)
        for (int64_t i = 0; i < p->ns[RC_SPLIT_TRAIN]; i++) {
            const float *f = p->feat + (size_t)p->sidx[RC_SPLIT_TRAIN][i] * fb;
            for (int t = 0; t < T; t++)
                for (int c = 0; c < nin; c++) {
                    const double v = f[(size_t)t * B + c];
                    if (!pass) sum[c] += v;
                    else sq[c] += (v - sum[c]) * (v - sum[c]);
                }
            if (!pass && i == p->ns[RC_SPLIT_TRAIN] - 1)
                for (int c = 0; c < nin; c++) sum[c] /= cnt;
        }
    for (int c = 0; c < nin; c++) {
        const double sd = sqrt(sq[c] / cnt);
        norm[c] = (float)sum[c];
        norm[nin + c] = sd > 1e-6 ? (float)(1.0 / sd) : 1.0f;
    }
    free(sum);
    return RC_OK;
}

/* See speech_impl.h. */
rc_status speech_features(speech_priv *p, const rc_speech_opts *o, const rc_logmel_params *lp, rc_err *err)
{
    rc_status st;
    const size_t fb = (size_t)p->frames * (size_t)p->bands;
    char cpath[PATH_MAX] = "", why[600] = "";
    char *key = NULL;
    if (o->cache_dir) {
        uint32_t kc = 0;
        if ((st = cache_key(p, lp, &key, &kc, err))) return st;
        snprintf(cpath, sizeof cpath, "%s/speech-%08x.h5", o->cache_dir, (unsigned)kc);
        if (rc_featcache_load(cpath, key, p->feat, (size_t)p->nfiles, fb, why, sizeof why)) p->cache_state = 1;
        else p->cache_state = !strcmp(why, "no cache file") ? 2 : 3;
    }
    if (p->cache_state != 1) {
        const double t0 = rc_now_s();
        if ((st = compute_all(p, err))) { free(key); return st; }
        const double t1 = rc_now_s();
        rc_err e2;
        int saved = 0;
        if (key) {
            saved = !rc_mkdir_p(o->cache_dir, &e2) && !rc_featcache_save(cpath, key, p->feat, (size_t)p->nfiles, fb, &e2);
            if (!saved && !o->quiet) fprintf(stderr, "rcsim: warning: feature cache not written: %s\n", e2.msg);
        }
        if (!o->quiet)
            fprintf(stderr, "rcsim: speech features of %d clips computed in %.1f s%s%s%s%s\n", p->nfiles, t1 - t0,
                    saved ? "; cached in " : "", saved ? cpath : "",
                    p->cache_state == 3 ? "; the old cache was " : "", p->cache_state == 3 ? why : "");
    }
    free(key);
    return RC_OK;
}
