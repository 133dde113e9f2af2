/* speech.c — Speech Commands keyword spotting as an rcsim data set
 * (paper 3.4, B.4).
 *
 * Layout (v0.02 and the shared subset alike): DIR/<word>/<name>.wav,
 * DIR/validation_list.txt and DIR/testing_list.txt (paths relative to DIR,
 * one a line; a clip in neither list is training data), optional
 * DIR/_background_noise_/ and DIR/_silence_/. Folders starting with '_' or
 * '.' are not words. Classes: the keywords in the order given, then
 * "_unknown_" (every other word), then "_silence_" if task.silence is on.
 * The lists name speakers' clips only; _silence_ clips that neither list
 * names are split by a hash of their file name (FNV-1a 32 mod 100: < 10
 * validation, < 30 test), so every split has silence examples.
 *
 * Without a _silence_/ folder (the full v0.02 download has none) the silence
 * examples are cut from the noise folder, as TensorFlow's speech_commands
 * pipeline does: task.silence_clips one-second windows (0 = the mean size of
 * a keyword class), each a random noise file at a random offset times a
 * volume ~ U(0, 1), drawn from (seed, clip). They are split in the word
 * clips' proportions (training first, then validation, then test by clip
 * index), and each noise file is cut in time in the same proportions: a
 * split's windows start in its own stretch of every file (training
 * [0, a), validation [a, b), test [b, len)), and augmentation noise is drawn
 * from the training stretch only, so validation and test silence is audio
 * that training never saw. A stretch shorter than 1 s lets its windows run
 * into the next one (only tiny noise files do that).
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
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>
#include "encoders/speech.h"
#include "encoders/logmel.h"
#include "io/featcache.h"
#include "io/fsutil.h"
#include "io/wav.h"
#include "base/rng.h"

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

/* ---- folders ------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void free_list(char **v, int n)
{
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* Sorted entries of dir: sub-folders (dirs = 1) or *.wav files (dirs = 0). */
static rc_status list_dir(const char *dir, int dirs, char ***out, int *nout, rc_err *err)
{
    DIR *d = opendir(dir);
    if (!d) return rc_err_set(err, RC_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    char **v = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    rc_status st = RC_OK;
    while ((e = readdir(d))) {
        const char *nm = e->d_name;
        if (nm[0] == '.') continue;
        size_t len = strlen(nm);
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", dir, nm) >= (int)sizeof path) continue;
        struct stat sb;
        if (stat(path, &sb) != 0) continue;
        if (dirs ? !S_ISDIR(sb.st_mode) : !(S_ISREG(sb.st_mode) && len > 4 && !strcmp(nm + len - 4, ".wav")))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nv = realloc(v, (size_t)cap * sizeof *nv);
            if (!nv) { st = RC_ERR_NOMEM; break; }
            v = nv;
        }
        if (!(v[n] = strdup(nm))) { st = RC_ERR_NOMEM; break; }
        n++;
    }
    closedir(d);
    if (st) {
        free_list(v, n);
        return rc_err_set(err, st, "%s: out of memory listing the folder", dir);
    }
    if (n) qsort(v, (size_t)n, sizeof *v, cmp_str);
    *out = v;
    *nout = n;
    return RC_OK;
}

/* Lines of a split list, trimmed and sorted (for bsearch). */
static rc_status read_list(const char *path, char ***out, int *nout, rc_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) return rc_err_set(err, RC_ERR_IO, "%s: cannot open: %s (expected the Speech Commands layout: "
                                              "<word>/*.wav, validation_list.txt, testing_list.txt)", path, strerror(errno));
    char **v = NULL, line[4096];
    int n = 0, cap = 0;
    rc_status st = RC_OK;
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\r\n");
        line[len] = 0;
        char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        len = strlen(s);
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) s[--len] = 0;
        if (!len) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            char **nv = realloc(v, (size_t)cap * sizeof *nv);
            if (!nv) { st = RC_ERR_NOMEM; break; }
            v = nv;
        }
        if (!(v[n] = strdup(s))) { st = RC_ERR_NOMEM; break; }
        n++;
    }
    fclose(f);
    if (st) {
        free_list(v, n);
        return rc_err_set(err, st, "%s: out of memory", path);
    }
    if (n) qsort(v, (size_t)n, sizeof *v, cmp_str);
    *out = v;
    *nout = n;
    return RC_OK;
}

static int in_list(char **v, int n, const char *s)
{
    return n && bsearch(&s, v, (size_t)n, sizeof *v, cmp_str) != NULL;
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* ---- audio -------------------------------------------------------------- */

/* Reads a clip as floats in [-1, 1): *x malloc'd, *n samples. */
static rc_status read_float(const char *path, float **x, int64_t *n, rc_err *err)
{
    rc_wav w;
    rc_status st = rc_wav_read(path, &w, err);
    if (st) return st;
    float *f = malloc((size_t)(w.n ? w.n : 1) * sizeof *f);
    if (!f) {
        rc_wav_free(&w);
        return rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory", path);
    }
    for (int64_t i = 0; i < w.n; i++) f[i] = (float)w.samples[i] / 32768.0f;
    *x = f;
    *n = w.n;
    rc_wav_free(&w);
    return RC_OK;
}

/* The samples of clip `file`: its WAV, or the scaled noise window of a
 * synthesised silence clip (one second, zeros past the end of the noise). */
static rc_status clip_audio(const speech_priv *p, int file, float **x, int64_t *n, rc_err *err)
{
    if (file < p->nreal) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", p->dir, p->rel[file]);
        return read_float(path, x, n, err);
    }
    const int j = file - p->nreal, k = p->syn_k[j], L = RC_WAV_RATE;
    const int64_t off = p->syn_off[j], len = p->noise_len[k];
    float *f = calloc((size_t)L, sizeof *f);
    if (!f) return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    for (int i = 0; i < L && off + i < len; i++) f[i] = p->syn_vol[j] * p->noise[k][off + i];
    *x = f;
    *n = L;
    return RC_OK;
}

/* ---- the data set ------------------------------------------------------- */

static void speech_free(rc_dataset *ds)
{
    speech_priv *p = ds->priv;
    if (!p) return;
    free(p->dir);
    free_list(p->rel, p->nfiles);
    free(p->label);
    free(p->split);
    for (int s = 0; s < 3; s++) free(p->sidx[s]);
    free(p->feat);
    rc_logmel_free(p->lm);
    free(p->norm);
    for (int i = 0; i < p->nnoise; i++) free(p->noise[i]);
    free(p->noise);
    free(p->noise_len);
    free(p->noise_use);
    free_list(p->noise_path, p->nnoise);
    free(p->syn_k);
    free(p->syn_off);
    free(p->syn_vol);
    for (int c = 0; c < MAX_CLASS; c++) free(p->names[c]);
}

/* Log-mel frames of training example `index` (pass-aware) with a random time
 * shift and noise, into out (frames, bands). */
static rc_status augmented(const speech_priv *p, uint64_t seed, int file, int64_t index, float *out)
{
    rc_err e;
    float *src = NULL;
    int64_t n = 0;
    rc_status st = clip_audio(p, file, &src, &n, &e);
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

static rc_status speech_get(const rc_dataset *ds, rc_split split, int64_t index, rc_events *ev,
                            rc_example_info *info)
{
    const speech_priv *p = ds->priv;
    const int64_t n = p->ns[split];
    RC_ASSERT(index >= 0 && n > 0 && (split == RC_SPLIT_TRAIN || index < n));
    const int file = p->sidx[split][index % n];
    const size_t fb = (size_t)p->frames * (size_t)p->bands;
    const float *f = p->feat + (size_t)file * fb;
    float *tmp = NULL;
    rc_status st;
    if (split == RC_SPLIT_TRAIN && p->augment) {
        if (!(tmp = malloc(fb * sizeof *tmp))) return RC_ERR_NOMEM;
        if ((st = augmented(p, ds->seed, file, index, tmp))) { free(tmp); return st; }
        f = tmp;
    }
    const int T = p->T, nin = p->nin, B = p->bands;
    if ((st = rc_events_reset(ev, T)) || (st = rc_events_reserve(ev, T * nin))) { free(tmp); return st; }
    const float *mean = ds->norm, *inv = ds->norm + nin;
    for (int t = 0; t < T; t++) {
        ev->off[t] = t * nin;
        int32_t *ch = ev->ch + (size_t)t * nin;
        float *val = ev->val + (size_t)t * nin;
        const float *w = f + (size_t)t * B; /* frames t .. t + 2·context, contiguous */
        for (int c = 0; c < nin; c++) {
            ch[c] = c;
            val[c] = (w[c] - mean[c]) * inv[c];
        }
    }
    ev->off[T] = T * nin;
    ev->nev = T * nin;
    info->label = p->label[file];
    info->earliest = -1;
    free(tmp);
    return RC_OK;
}

const char *rc_speech_file(const rc_dataset *ds, rc_split split, int64_t idx)
{
    const speech_priv *p = ds->priv;
    RC_ASSERT(idx >= 0 && idx < p->ns[split]);
    return p->rel[p->sidx[split][idx]];
}

int rc_speech_cache_state(const rc_dataset *ds) { return ((const speech_priv *)ds->priv)->cache_state; }

int rc_speech_synth_clip(const rc_dataset *ds, rc_split split, int64_t idx, const char **noise, int64_t *offset,
                         float *volume)
{
    const speech_priv *p = ds->priv;
    RC_ASSERT(idx >= 0 && idx < p->ns[split]);
    const int file = p->sidx[split][idx];
    if (file < p->nreal) return 0;
    const int j = file - p->nreal;
    *noise = p->noise_path[p->syn_k[j]];
    *offset = p->syn_off[j];
    *volume = p->syn_vol[j];
    return 1;
}

/* Room for n more files in rel, label and split. */
static rc_status grow(speech_priv *p, int *cap, int n, rc_err *err)
{
    if (p->nfiles + n <= *cap) return RC_OK;
    int c = *cap ? *cap : 1024;
    while (c < p->nfiles + n) c *= 2;
    char **nr = realloc(p->rel, (size_t)c * sizeof *nr);
    if (nr) p->rel = nr;
    int *nl = nr ? realloc(p->label, (size_t)c * sizeof *nl) : NULL;
    if (nl) p->label = nl;
    int *ns = nl ? realloc(p->split, (size_t)c * sizeof *ns) : NULL;
    if (ns) p->split = ns;
    if (!ns) return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    *cap = c;
    return RC_OK;
}

/* Appends the synthesised _silence_ clips (see the top of the file): n clips,
 * 0 = the mean keyword class size. The word clips already scanned give the
 * split proportions. */
static rc_status add_silence(speech_priv *p, int *cap, int nkw, int64_t n, uint64_t seed, rc_err *err)
{
    const int L = RC_WAV_RATE;
    int64_t W[3] = { 0, 0, 0 }, nkwclips = 0;
    for (int i = 0; i < p->nfiles; i++) {
        W[p->split[i]]++;
        nkwclips += p->label[i] < nkw;
    }
    const int64_t Wall = W[0] + W[1] + W[2];
    if (!Wall) return RC_OK;   /* no clips at all: the caller says so */
    if (n <= 0) n = nkwclips ? (nkwclips + nkw / 2) / nkw : 1;
    if (n > INT_MAX - p->nfiles) return rc_err_set(err, RC_ERR_CONFIG, "task.silence_clips = %lld is too many", (long long)n);
    /* Clips per split, rounded to the nearest; training takes the rest. */
    int64_t cnt[3];
    cnt[1] = (2 * n * W[1] + Wall) / (2 * Wall);
    cnt[2] = (2 * n * W[2] + Wall) / (2 * Wall);
    cnt[0] = n - cnt[1] - cnt[2];
    const int64_t cum[4] = { 0, W[0], W[0] + W[1], Wall };
    rc_status st = grow(p, cap, (int)n, err);
    if (st) return st;
    p->syn_k = malloc((size_t)n * sizeof *p->syn_k);
    p->syn_off = malloc((size_t)n * sizeof *p->syn_off);
    p->syn_vol = malloc((size_t)n * sizeof *p->syn_vol);
    if (!p->syn_k || !p->syn_off || !p->syn_vol) return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    p->nreal = p->nfiles;
    const int label = nkw + 1;
    for (int64_t j = 0; j < n; j++) {
        const int s = j < cnt[0] ? RC_SPLIT_TRAIN : j < cnt[0] + cnt[1] ? RC_SPLIT_VAL : RC_SPLIT_TEST;
        const uint64_t u = (uint64_t)j;
        const int k = (int)(rc_rand64(seed, RC_STREAM_SILENCE, u, 0) % (uint64_t)p->nnoise);
        const int64_t len = p->noise_len[k], a = len * cum[s] / Wall, b = len * cum[s + 1] / Wall;
        const int64_t span = b - L > a ? b - L - a : 0;
        p->syn_k[j] = k;
        p->syn_off[j] = a + (int64_t)(rc_rand64(seed, RC_STREAM_SILENCE, u, 1) % (uint64_t)(span + 1));
        p->syn_vol[j] = (float)rc_uniform(seed, RC_STREAM_SILENCE, u, 2);
        const char *base = strrchr(p->noise_path[k], '/');
        char rel[PATH_MAX];
        snprintf(rel, sizeof rel, "_silence_/%s@%lld", base ? base + 1 : p->noise_path[k], (long long)p->syn_off[j]);
        if (!(p->rel[p->nfiles] = strdup(rel))) return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
        p->label[p->nfiles] = label;
        p->split[p->nfiles] = s;
        p->nfiles++;
    }
    /* Augmentation noise comes from the training stretch of every file. */
    for (int k = 0; k < p->nnoise; k++) p->noise_use[k] = p->noise_len[k] * cum[1] / Wall;
    return RC_OK;
}

/* Finds the class of every word folder and collects the clips. */
static rc_status scan(speech_priv *p, const rc_speech_opts *o, uint64_t seed, rc_err *err)
{
    char **words = NULL, *kw[MAX_CLASS];
    int nwords = 0, nkw = 0;
    rc_status st = RC_OK;
    /* Keywords, in the order given. */
    for (const char *s = o->keywords; *s;) {
        size_t len = strcspn(s, ",");
        const char *q = s;
        while (len && *q == ' ') { q++; len--; }
        while (len && q[len - 1] == ' ') len--;
        if (len) {
            if (nkw == MAX_CLASS - 2) {
                for (int i = 0; i < nkw; i++) free(kw[i]);
                return rc_err_set(err, RC_ERR_CONFIG, "task.keywords: more than %d keywords", MAX_CLASS - 2);
            }
            kw[nkw++] = strndup(q, len);
        }
        s += strcspn(s, ",");
        if (*s) s++;
    }
    for (int i = 0; i < nkw; i++) p->names[i] = kw[i];
    if (!nkw) return rc_err_set(err, RC_ERR_CONFIG, "task.keywords is empty, expected comma-separated words (e.g. yes,no,up)");
    p->names[nkw] = strdup("_unknown_");
    if (o->silence) p->names[nkw + 1] = strdup("_silence_");
    if ((st = list_dir(p->dir, 1, &words, &nwords, err))) return st;
    char **vl = NULL, **tl = NULL;
    int nvl = 0, ntl = 0;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/validation_list.txt", p->dir);
    if ((st = read_list(path, &vl, &nvl, err))) goto out;
    snprintf(path, sizeof path, "%s/testing_list.txt", p->dir);
    if ((st = read_list(path, &tl, &ntl, err))) goto out;
    int cap = 0, have_silence = 0;
    for (int w = 0; w < nwords; w++) {
        const char *word = words[w];
        const int silence = !strcmp(word, "_silence_");
        if (silence) have_silence = 1;
        if (word[0] == '_' && !(silence && o->silence)) continue;
        int label = silence ? nkw + 1 : nkw;
        for (int k = 0; k < nkw; k++)
            if (!strcmp(word, kw[k])) label = k;
        char **files = NULL;
        int nf = 0;
        snprintf(path, sizeof path, "%s/%s", p->dir, word);
        if ((st = list_dir(path, 0, &files, &nf, err))) goto out;
        for (int i = 0; i < nf; i++) {
            if ((st = grow(p, &cap, 1, err))) { free_list(files, nf); goto out; }
            char *rel = malloc(strlen(word) + strlen(files[i]) + 2);
            if (!rel) { free_list(files, nf); st = rc_err_set(err, RC_ERR_NOMEM, "out of memory"); goto out; }
            sprintf(rel, "%s/%s", word, files[i]);
            int sp = in_list(vl, nvl, rel) ? RC_SPLIT_VAL : in_list(tl, ntl, rel) ? RC_SPLIT_TEST : RC_SPLIT_TRAIN;
            if (silence && sp == RC_SPLIT_TRAIN) {
                const uint32_t h = fnv1a(files[i]) % 100;
                sp = h < 10 ? RC_SPLIT_VAL : h < 30 ? RC_SPLIT_TEST : RC_SPLIT_TRAIN;
            }
            p->rel[p->nfiles] = rel;
            p->label[p->nfiles] = label;
            p->split[p->nfiles] = sp;
            p->nfiles++;
        }
        free_list(files, nf);
    }
    p->nreal = p->nfiles;
    if (o->silence && !have_silence) {
        if (!o->noise_dir) {
            st = rc_err_set(err, RC_ERR_IO, "%s/_silence_: no such folder, and no noise folder to cut silence clips from "
                                            "(task.noise_dir); task.silence = true needs one of them", p->dir);
            goto out;
        }
        if (!p->nnoise) {
            st = rc_err_set(err, RC_ERR_DATA, "%s: no .wav noise files to cut silence clips from (task.silence = true "
                                              "and no %s/_silence_ folder)", o->noise_dir, p->dir);
            goto out;
        }
        if ((st = add_silence(p, &cap, nkw, o->silence_clips, seed, err))) goto out;
    }
    if (!p->nfiles) {
        st = rc_err_set(err, RC_ERR_DATA, "%s: no <word>/*.wav clips found", p->dir);
        goto out;
    }
    for (int s = 0; s < 3; s++)
        if (!(p->sidx[s] = malloc((size_t)p->nfiles * sizeof *p->sidx[s]))) {
            st = rc_err_set(err, RC_ERR_NOMEM, "out of memory");
            goto out;
        }
    for (int i = 0; i < p->nfiles; i++) p->sidx[p->split[i]][p->ns[p->split[i]]++] = i;
    static const char *sname[3] = { "training", "validation", "test" };
    for (int s = 0; s < 3; s++)
        if (!p->ns[s]) {
            st = rc_err_set(err, RC_ERR_DATA, "%s: the %s split is empty (check validation_list.txt / testing_list.txt)",
                            p->dir, sname[s]);
            goto out;
        }
out:
    free_list(words, nwords);
    free_list(vl, nvl);
    free_list(tl, ntl);
    return st;
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

static rc_status compute_all(speech_priv *p, rc_err *err)
{
    const size_t fb = (size_t)p->frames * (size_t)p->bands;
    for (int i = 0; i < p->nfiles; i++) {
        float *x = NULL;
        int64_t n = 0;
        rc_status st = clip_audio(p, i, &x, &n, err);
        if (st) return st;
        rc_logmel_compute(p->lm, x, (size_t)n, p->feat + (size_t)i * fb);
        free(x);
    }
    return RC_OK;
}

/* Mean and 1/std of every channel over the training clips and steps (two
 * passes in double, fixed order: the same numbers on every machine). */
static rc_status normalisation(speech_priv *p, float *norm, rc_err *err)
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

static rc_status load_noise(speech_priv *p, const char *dir, rc_err *err)
{
    char **files = NULL;
    int nf = 0;
    rc_status st = list_dir(dir, 0, &files, &nf, err);
    if (st) return st;
    p->noise = calloc((size_t)(nf ? nf : 1), sizeof *p->noise);
    p->noise_len = calloc((size_t)(nf ? nf : 1), sizeof *p->noise_len);
    p->noise_use = calloc((size_t)(nf ? nf : 1), sizeof *p->noise_use);
    p->noise_path = calloc((size_t)(nf ? nf : 1), sizeof *p->noise_path);
    if (!p->noise || !p->noise_len || !p->noise_use || !p->noise_path) st = rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    for (int i = 0; i < nf && !st; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        if ((st = read_float(path, &p->noise[i], &p->noise_len[i], err))) break;
        p->noise_use[i] = p->noise_len[i];
        p->nnoise = i + 1;   /* owns noise[i] from here on */
        if (!(p->noise_path[i] = strdup(path))) st = rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    }
    free_list(files, nf);
    return st;
}

rc_status rc_speech_new(const rc_speech_opts *o, uint64_t seed, rc_dataset **out, rc_err *err)
{
    *out = NULL;
    speech_priv *p = calloc(1, sizeof *p);
    rc_dataset *ds = rc_dataset_new("speech", 0, 0, 0, seed, speech_get, speech_free, p);
    if (!ds) return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    rc_status st;
    if (!(p->dir = strdup(o->data_dir))) { st = rc_err_set(err, RC_ERR_NOMEM, "out of memory"); goto fail; }
    const rc_logmel_params lp = rc_logmel_default(o->bands, o->fmin, o->fmax);
    if (!(p->lm = rc_logmel_new(&lp))) {
        st = rc_err_set(err, RC_ERR_CONFIG, "log-mel features: bands = %d, fmin = %g Hz, fmax = %g Hz, expected 0 <= fmin < fmax <= %d Hz",
                        o->bands, o->fmin, o->fmax, lp.rate / 2);
        goto fail;
    }
    p->bands = o->bands;
    p->context = o->context;
    p->frames = rc_logmel_frames(p->lm);
    p->T = p->frames - 2 * o->context;
    p->nin = (2 * o->context + 1) * o->bands;
    if (p->T < 1) {
        st = rc_err_set(err, RC_ERR_CONFIG, "encoder.context = %d leaves no steps of the %d frames", o->context, p->frames);
        goto fail;
    }
    /* Noise first: synthesised silence clips are cut from it. */
    if (o->noise_dir && (st = load_noise(p, o->noise_dir, err))) goto fail;
    if ((st = scan(p, o, seed, err))) goto fail;
    const size_t fb = (size_t)p->frames * (size_t)p->bands;
    if (!(p->feat = malloc((size_t)p->nfiles * fb * sizeof *p->feat))) {
        st = rc_err_set(err, RC_ERR_NOMEM, "out of memory for the features of %d clips", p->nfiles);
        goto fail;
    }
    /* Features: from the cache when it holds exactly these, else computed. */
    char cpath[PATH_MAX] = "", why[600] = "";
    char *key = NULL;
    if (o->cache_dir) {
        uint32_t kc = 0;
        if ((st = cache_key(p, &lp, &key, &kc, err))) goto fail;
        snprintf(cpath, sizeof cpath, "%s/speech-%08x.h5", o->cache_dir, (unsigned)kc);
        if (rc_featcache_load(cpath, key, p->feat, (size_t)p->nfiles, fb, why, sizeof why)) p->cache_state = 1;
        else p->cache_state = !strcmp(why, "no cache file") ? 2 : 3;
    }
    if (p->cache_state != 1) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if ((st = compute_all(p, err))) { free(key); goto fail; }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        rc_err e2;
        int saved = 0;
        if (key) {
            saved = !rc_mkdir_p(o->cache_dir, &e2) && !rc_featcache_save(cpath, key, p->feat, (size_t)p->nfiles, fb, &e2);
            if (!saved && !o->quiet) fprintf(stderr, "rcsim: warning: feature cache not written: %s\n", e2.msg);
        }
        if (!o->quiet)
            fprintf(stderr, "rcsim: speech features of %d clips computed in %.1f s%s%s%s%s\n", p->nfiles,
                    (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec),
                    saved ? "; cached in " : "", saved ? cpath : "",
                    p->cache_state == 3 ? "; the old cache was " : "", p->cache_state == 3 ? why : "");
    }
    free(key);
    /* Normalisation from the training split. */
    if (!(p->norm = malloc(2 * (size_t)p->nin * sizeof *p->norm))) { st = rc_err_set(err, RC_ERR_NOMEM, "out of memory"); goto fail; }
    if ((st = normalisation(p, p->norm, err))) goto fail;
    /* Augmentation. */
    p->shift = (int)lround(o->time_shift_ms * lp.rate / 1000.0);
    p->noise_prob = o->noise_prob;
    p->noise_vol = o->noise_volume;
    p->augment = p->shift > 0 || (p->nnoise > 0 && o->noise_prob > 0 && o->noise_volume > 0);

    int nclass = 0;
    while (nclass < MAX_CLASS && p->names[nclass]) nclass++;
    ds->T = p->T;
    ds->nin = p->nin;
    ds->nclass = nclass;
    for (int s = 0; s < 3; s++) ds->size[s] = p->ns[s];
    ds->class_names = (const char *const *)p->names;
    ds->norm = p->norm;
    ds->nnorm = 2 * (size_t)p->nin;
    ds->train_pass_index = 1;
    *out = ds;
    return RC_OK;
fail:
    rc_dataset_free(ds);
    return st;
}
