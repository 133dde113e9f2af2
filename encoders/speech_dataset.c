/* speech_dataset.c — the Speech Commands data set as an rc_dataset: its
 * constructor (clips and splits from speech.c, features from
 * speech_features.c), get() and the accessors of speech.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "encoders/speech_impl.h"

static void speech_free(rc_dataset *ds)
{
    speech_priv *p = ds->priv;
    if (!p) return;
    free(p->dir);
    rc_fs_list_free(p->rel, p->nfiles);
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
    rc_fs_list_free(p->noise_path, p->nnoise);
    free(p->syn_k);
    free(p->syn_off);
    free(p->syn_vol);
    for (int c = 0; c < MAX_CLASS; c++) free(p->names[c]);
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
        if ((st = speech_augmented(p, ds->seed, file, index, tmp))) { free(tmp); return st; }
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
    if (o->noise_dir && (st = speech_load_noise(p, o->noise_dir, err))) goto fail;
    if ((st = speech_scan(p, o, seed, err))) goto fail;
    const size_t fb = (size_t)p->frames * (size_t)p->bands;
    if (!(p->feat = malloc((size_t)p->nfiles * fb * sizeof *p->feat))) {
        st = rc_err_set(err, RC_ERR_NOMEM, "out of memory for the features of %d clips", p->nfiles);
        goto fail;
    }
    if ((st = speech_features(p, o, &lp, err))) goto fail;
    /* Normalisation from the training split. */
    if (!(p->norm = malloc(2 * (size_t)p->nin * sizeof *p->norm))) { st = rc_err_set(err, RC_ERR_NOMEM, "out of memory"); goto fail; }
    if ((st = speech_normalisation(p, p->norm, err))) goto fail;
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
