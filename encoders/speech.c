/* speech.c — Speech Commands keyword spotting as an rcsim data set
 * (paper 3.4, B.4): the clips, their classes and splits.
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
 * is the same whatever thread loads it.
 *
 * Code: this file finds the clips and their splits (and reads a clip's
 * audio); speech_features.c computes, caches and normalises the features;
 * speech_dataset.c is the data set (get, free, rc_speech_new); their shared
 * state is speech_impl.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "encoders/speech_impl.h"
#include "encoders/logmel.h"
#include "io/fsutil.h"
#include "io/wav.h"
#include "base/rng.h"

/* ---- folders ------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

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
        rc_fs_list_free(v, n);
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

/* See speech_impl.h. */
rc_status speech_clip_audio(const speech_priv *p, int file, float **x, int64_t *n, rc_err *err)
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

/* See speech_impl.h. */
rc_status speech_scan(speech_priv *p, const rc_speech_opts *o, uint64_t seed, rc_err *err)
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
    if ((st = rc_fs_list_dir(p->dir, 1, NULL, &words, &nwords, err))) return st;
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
        if ((st = rc_fs_list_dir(path, 0, ".wav", &files, &nf, err))) goto out;
        for (int i = 0; i < nf; i++) {
            if ((st = grow(p, &cap, 1, err))) { rc_fs_list_free(files, nf); goto out; }
            char *rel = malloc(strlen(word) + strlen(files[i]) + 2);
            if (!rel) { rc_fs_list_free(files, nf); st = rc_err_set(err, RC_ERR_NOMEM, "out of memory"); goto out; }
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
        rc_fs_list_free(files, nf);
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
    rc_fs_list_free(words, nwords);
    rc_fs_list_free(vl, nvl);
    rc_fs_list_free(tl, ntl);
    return st;
}

rc_status speech_load_noise(speech_priv *p, const char *dir, rc_err *err)
{
    char **files = NULL;
    int nf = 0;
    rc_status st = rc_fs_list_dir(dir, 0, ".wav", &files, &nf, err);
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
    rc_fs_list_free(files, nf);
    return st;
}
