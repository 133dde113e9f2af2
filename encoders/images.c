/* images.c — images from IDX files as event streams: the latency code
 * (one spike per pixel, brighter earlier) and the rate code. Both share the
 * split lookup and the constructor; only the per-example encoding differs.
 *
 * Latency code. Events only: an image becomes at most npix (step, pixel, 1)
 * events, bucketed by step; dark pixels cost nothing (encoder.zero = skip).
 * The step of a pixel is computed in integers, t = ((255 − v)·T) / 255
 * clipped to T − 1, because ⌊(1 − v/255)·T⌋ in floating point is off by one
 * at exact boundaries (T = 10: v = 204 in double, v = 153 and 204 in float).
 *
 * Rate code (STBP's MNIST input): at every step each pixel spikes with
 * probability v/255, independently (a Bernoulli approximation of a Poisson
 * process). The draw for (split, example, step, pixel) is the counter-based
 * uniform rc_uniform(seed, stream of the split, example index, step·npix +
 * pixel), so an example is the same spike train whichever thread makes it
 * and however often it is visited (a training image gets the same train
 * every epoch). Cost: T·npix draws per example. */
#include <stdlib.h>
#include <string.h>
#include "encoders/images.h"
#include "base/rng.h"

typedef rc_status (*get_fn)(const rc_dataset *, rc_split, int64_t, rc_events *, rc_example_info *);

typedef struct {
    int T, zero_last, npix;
    uint8_t *trp, *trl, *tep, *tel;
    int64_t ntrain, nval, ntest;
    int rows, cols, shift; /* training augmentation (rc_images_set_aug) */
    double drop;
    int16_t step_of[256]; /* rc_latency_step of each pixel value */
    /* Latency encoding: the validation and test examples' events, encoded
     * once (they are never augmented), indexed by split. */
    struct { int64_t *base; int *off; int32_t *ch; } cache[RC_SPLIT_TEST + 1];
} image_priv;

/* The pixels and label of example `index` of a split: validation is the last
 * nval training images, training the ones before. */
static const uint8_t *image_lookup(const image_priv *p, rc_split split, int64_t index, int *label)
{
    const uint8_t *pix, *lab;
    int64_t i = index;
    if (split == RC_SPLIT_TEST) {
        RC_ASSERT(index >= 0 && index < p->ntest);
        pix = p->tep;
        lab = p->tel;
    } else {
        if (split == RC_SPLIT_TRAIN && (p->shift || p->drop > 0)) i %= p->ntrain - p->nval; /* index carries the pass */
        if (split == RC_SPLIT_VAL) i += p->ntrain - p->nval;
        RC_ASSERT(i >= 0 && i < p->ntrain);
        pix = p->trp;
        lab = p->trl;
    }
    *label = lab[i];
    return pix + (size_t)i * (size_t)p->npix;
}

int rc_latency_step(int v, int T, int zero_last)
{
    if (v <= 0) return zero_last ? T - 1 : -1;
    int t = ((255 - v) * T) / 255;
    return t > T - 1 ? T - 1 : t;
}

/* Training augmentation of example u (= pass·ntrain + i): the image moved by
 * (dy, dx), each uniform in [−shift, shift] (pixels moved in are 0), then
 * each pixel dropped (set to 0) with probability drop. Counter-based draws
 * keyed by (seed, RC_STREAM_AUG, u, field): the same for every thread. The
 * surviving pixels keep their value; the event value is *gain = 1/(1 − drop)
 * (inverted dropout: the expected input equals the unaugmented one). */
static const uint8_t *augment(const rc_dataset *ds, const uint8_t *img, int64_t u, uint8_t *out, float *gain)
{
    const image_priv *p = ds->priv;
    const uint64_t n = 2 * (uint64_t)p->shift + 1;
    const int dy = p->shift ? (int)(rc_rand64(ds->seed, RC_STREAM_AUG, (uint64_t)u, 0) % n) - p->shift : 0;
    const int dx = p->shift ? (int)(rc_rand64(ds->seed, RC_STREAM_AUG, (uint64_t)u, 1) % n) - p->shift : 0;
    for (int y = 0; y < p->rows; y++)
        for (int x = 0; x < p->cols; x++) {
            const int sy = y - dy, sx = x - dx, k = y * p->cols + x;
            out[k] = sy >= 0 && sy < p->rows && sx >= 0 && sx < p->cols ? img[sy * p->cols + sx] : 0;
            if (p->drop > 0 && out[k] && rc_uniform(ds->seed, RC_STREAM_AUG, (uint64_t)u, 2 + (uint64_t)k) < p->drop)
                out[k] = 0;
        }
    *gain = (float)(1.0 / (1.0 - p->drop));
    return out;
}

static rc_status latency_encode(const rc_dataset *ds, rc_split split, int64_t index,
                                rc_events *ev, rc_example_info *info);

static rc_status latency_get(const rc_dataset *ds, rc_split split, int64_t index,
                             rc_events *ev, rc_example_info *info)
{
    const image_priv *p = ds->priv;
    if (split == RC_SPLIT_TRAIN || !p->cache[split].base) return latency_encode(ds, split, index, ev, info);
    (void)image_lookup(p, split, index, &info->label);
    info->earliest = -1;
    rc_status st = rc_events_reset(ev, p->T);
    const int64_t b = p->cache[split].base[index];
    const int n = (int)(p->cache[split].base[index + 1] - b);
    if (st || (st = rc_events_reserve(ev, n))) return st;
    memcpy(ev->off, p->cache[split].off + (size_t)index * (size_t)(p->T + 1), (size_t)(p->T + 1) * sizeof *ev->off);
    memcpy(ev->ch, p->cache[split].ch + b, (size_t)n * sizeof *ev->ch);
    for (int i = 0; i < n; i++) ev->val[i] = 1.0f;
    ev->nev = n;
    return RC_OK;
}

/* Encodes example `index` of a split from its pixels. */
static rc_status latency_encode(const rc_dataset *ds, rc_split split, int64_t index,
                                rc_events *ev, rc_example_info *info)
{
    const image_priv *p = ds->priv;
    const uint8_t *img = image_lookup(p, split, index, &info->label);
    uint8_t moved[65536];
    float gain = 1.0f;
    if (split == RC_SPLIT_TRAIN && (p->shift || p->drop > 0)) img = augment(ds, img, index, moved, &gain);
    info->earliest = -1;
    rc_status st = rc_events_reset(ev, p->T);
    if (st) return st;
    /* Counting sort by step (events of one step stay in pixel order): one
     * pass for the steps and counts, one to place, O(npix + T). */
    RC_ASSERT(p->T <= 4096 && p->npix <= 65536);
    int16_t step[65536];
    int start[4097];
    memset(start, 0, (size_t)(p->T + 1) * sizeof *start);
    for (int k = 0; k < p->npix; k++) {
        step[k] = p->step_of[img[k]];
        if (step[k] >= 0) start[step[k] + 1]++;
    }
    for (int t = 0; t < p->T; t++) start[t + 1] += start[t];
    const int n = start[p->T];
    if ((st = rc_events_reserve(ev, n))) return st;
    for (int t = 0; t <= p->T; t++) ev->off[t] = start[t];
    for (int k = 0; k < p->npix; k++)
        if (step[k] >= 0) {
            const int at = start[step[k]]++;
            ev->ch[at] = k;
            ev->val[at] = gain;
        }
    ev->nev = n;
    return RC_OK;
}

static rc_status rate_get(const rc_dataset *ds, rc_split split, int64_t index,
                          rc_events *ev, rc_example_info *info)
{
    const image_priv *p = ds->priv;
    const uint8_t *img = image_lookup(p, split, index, &info->label);
    uint8_t moved[65536];
    float gain = 1.0f;
    if (split == RC_SPLIT_TRAIN && (p->shift || p->drop > 0)) img = augment(ds, img, index, moved, &gain);
    info->earliest = -1;
    const uint64_t stream = split == RC_SPLIT_TEST ? RC_STREAM_TEST : split == RC_SPLIT_VAL ? RC_STREAM_VAL : RC_STREAM_TRAIN;
    rc_status st = rc_events_reset(ev, p->T);
    if (st) return st;
    for (int t = 0; t < p->T; t++)
        for (int k = 0; k < p->npix; k++) {
            if (!img[k]) continue;
            const double u = rc_uniform(ds->seed, stream, (uint64_t)index, (uint64_t)t * (uint64_t)p->npix + (uint64_t)k);
            if (u * 255.0 < (double)img[k] && (st = rc_events_push(ev, t, k, gain))) return st;
        }
    rc_events_finish(ev);
    return RC_OK;
}

static void image_free(rc_dataset *ds)
{
    image_priv *p = ds->priv;
    free(p->trp); free(p->trl); free(p->tep); free(p->tel);
    for (int s = 0; s <= RC_SPLIT_TEST; s++) {
        free(p->cache[s].base); free(p->cache[s].off); free(p->cache[s].ch);
    }
}

/* The validation and test events, encoded once. Without memory for them
 * the examples are encoded on each use, as training examples are. */
static void latency_cache(rc_dataset *ds)
{
    image_priv *p = ds->priv;
    const rc_split splits[2] = { RC_SPLIT_VAL, RC_SPLIT_TEST };
    rc_events ev = { 0 };
    rc_example_info info;
    for (int k = 0; k < 2; k++) {
        const rc_split sp = splits[k];
        const int64_t n = ds->size[sp];
        int64_t *base = malloc((size_t)(n + 1) * sizeof *base);
        int *off = malloc((size_t)n * (size_t)(p->T + 1) * sizeof *off);
        int32_t *ch = NULL;
        int64_t used = 0, cap = 0;
        int ok = base && off;
        for (int64_t i = 0; ok && i < n; i++) {
            ok = latency_encode(ds, sp, i, &ev, &info) == RC_OK;
            if (ok && used + ev.nev > cap) {
                cap = 2 * (used + ev.nev) + 1024;
                int32_t *nch = realloc(ch, (size_t)cap * sizeof *ch);
                ok = nch != NULL;
                if (ok) ch = nch;
            }
            if (!ok) break;
            base[i] = used;
            memcpy(off + (size_t)i * (size_t)(p->T + 1), ev.off, (size_t)(p->T + 1) * sizeof *off);
            memcpy(ch + used, ev.ch, (size_t)ev.nev * sizeof *ch);
            used += ev.nev;
        }
        if (ok) {
            base[n] = used;
            p->cache[sp].base = base; p->cache[sp].off = off; p->cache[sp].ch = ch;
        } else {
            free(base); free(off); free(ch);
        }
    }
    rc_events_free(&ev);
}

static rc_dataset *image_new(uint64_t seed, int T, int zero_last, int npix, int nclass, get_fn get,
                             uint8_t *train_pix, uint8_t *train_lab, int64_t ntrain, int64_t nval,
                             uint8_t *test_pix, uint8_t *test_lab, int64_t ntest)
{
    image_priv *p = calloc(1, sizeof *p);
    if (p) *p = (image_priv){ .T = T, .zero_last = zero_last, .npix = npix, .trp = train_pix, .trl = train_lab,
                                .tep = test_pix, .tel = test_lab, .ntrain = ntrain, .nval = nval, .ntest = ntest };
    for (int v = 0; p && v < 256; v++) p->step_of[v] = (int16_t)rc_latency_step(v, T, zero_last);
    rc_dataset *ds = rc_dataset_new("tmnist", T, npix, nclass, seed, get, image_free, p);
    if (!ds) {
        free(train_pix); free(train_lab); free(test_pix); free(test_lab);
        return NULL;
    }
    ds->size[RC_SPLIT_TRAIN] = ntrain - nval;
    ds->size[RC_SPLIT_VAL] = nval;
    ds->size[RC_SPLIT_TEST] = ntest;
    return ds;
}

rc_dataset *rc_latency_new(uint64_t seed, int T, int zero_last, int npix, int nclass,
                           uint8_t *train_pix, uint8_t *train_lab, int64_t ntrain, int64_t nval,
                           uint8_t *test_pix, uint8_t *test_lab, int64_t ntest)
{
    rc_dataset *ds = image_new(seed, T, zero_last, npix, nclass, latency_get, train_pix, train_lab, ntrain, nval,
                               test_pix, test_lab, ntest);
    if (ds) latency_cache(ds);
    return ds;
}

rc_dataset *rc_rate_new(uint64_t seed, int T, int npix, int nclass,
                        uint8_t *train_pix, uint8_t *train_lab, int64_t ntrain, int64_t nval,
                        uint8_t *test_pix, uint8_t *test_lab, int64_t ntest)
{
    return image_new(seed, T, 0, npix, nclass, rate_get, train_pix, train_lab, ntrain, nval,
                     test_pix, test_lab, ntest);
}

rc_status rc_images_set_aug(rc_dataset *ds, int rows, int cols, int shift, double drop, rc_err *err)
{
    image_priv *p = ds->priv;
    if (rows < 1 || cols < 1 || (int64_t)rows * cols != p->npix || shift < 0 || shift >= rows || shift >= cols ||
        !(drop >= 0 && drop < 1))
        return rc_err_set(err, RC_ERR_USAGE, "images: augmentation shift = %d, drop = %g on %d x %d images: expected "
                          "0 <= shift < the image size and 0 <= drop < 1", shift, drop, rows, cols);
    p->rows = rows;
    p->cols = cols;
    p->shift = shift;
    p->drop = drop;
    ds->train_pass_index = shift || drop > 0;
    return RC_OK;
}
