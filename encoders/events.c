/* events.c — labelled event data sets (events.h) as an rc_dataset.
 *
 * What and why: the files are read once, at construction, through
 * io/h5events (either layout), and every example is binned then: its events
 * become keys step·channels + channel, sorted (LSD radix, 11-bit digits:
 * two passes for SHD's 700 channels and up to 2900 steps; the real SHD
 * training file has millions of events), and runs of the same key merge into
 * one event whose value is the run's length (sum) or 1 (saturate). What is
 * kept per file is that binned stream, 12 bytes per merged event, so get()
 * is a copy into the caller's rc_events (thread-safe: nothing is written
 * after construction). Binning once also means a bad event (a channel out
 * of range, a negative time) is reported before training starts, naming the
 * file and the example, not in the middle of an epoch.
 *
 * Splits: TRAIN = the training file's first n − nval examples, VAL = its
 * last nval (or the whole validation file), TEST = the test file. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "encoders/events.h"
#include "io/h5events.h"

#define MAX_LABEL 100000

/* One file, binned. */
typedef struct {
    int64_t n, nev, cap, offcap;
    int64_t *off;        /* (n+1) event offsets per example            */
    int32_t *step, *ch;  /* (nev) sorted by (step, ch) per example      */
    float *val;          /* (nev) count, or 1 when saturating           */
    int *label;          /* (n)                                         */
} evfile;

typedef struct {
    evfile f[3];         /* 0 train file, 1 test file, 2 validation file */
    int has_val_file;
    int64_t nval;
    char **keys;         /* class names of the training file, or NULL   */
    int nkeys;
} ev_priv;

/* State of one file's read (the h5events callback's user pointer). */
typedef struct {
    const rc_evdata_opts *o;
    const char *path;
    evfile *f;
    int64_t limit;       /* events at or after this step are not kept     */
    int64_t dropped, maxstep;
    uint64_t *key;       /* scratch (2·keycap): one example's step·channels + ch */
    size_t keycap;
} loader;

int64_t rc_evdata_step(double t, double dt_ms)
{
    if (!isfinite(t) || t < 0) return -1;
    const double q = t * 1000.0 / dt_ms;
    if (!(q < 9.2e18)) return INT64_MAX;
    const double r = nearbyint(q);
    if (fabs(q - r) <= 1e-6 * fmax(1.0, r)) return (int64_t)r;
    return (int64_t)floor(q);
}

/* Sorts k[0..m) (every value <= max) using tmp[0..m); returns the array
 * holding the result (k or tmp). */
static uint64_t *sort_keys(uint64_t *k, uint64_t *tmp, size_t m, uint64_t max)
{
    if (m < 64) { /* insertion sort: the digit counts would cost more */
        for (size_t i = 1; i < m; i++) {
            const uint64_t v = k[i];
            size_t j = i;
            for (; j > 0 && k[j - 1] > v; j--) k[j] = k[j - 1];
            k[j] = v;
        }
        return k;
    }
    size_t cnt[2048];
    for (int sh = 0; sh < 64 && (max >> sh); sh += 11) {
        memset(cnt, 0, sizeof cnt);
        for (size_t i = 0; i < m; i++) cnt[(k[i] >> sh) & 2047]++;
        size_t sum = 0;
        for (int d = 0; d < 2048; d++) {
            const size_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < m; i++) tmp[cnt[(k[i] >> sh) & 2047]++] = k[i];
        uint64_t *x = k;
        k = tmp;
        tmp = x;
    }
    return k;
}

static rc_status file_grow(evfile *f, int64_t need)
{
    if (need <= f->cap) return RC_OK;
    int64_t cap = f->cap ? f->cap : 4096;
    while (cap < need) cap *= 2;
    int32_t *s = realloc(f->step, (size_t)cap * sizeof *s);
    if (s) f->step = s;
    int32_t *c = s ? realloc(f->ch, (size_t)cap * sizeof *c) : NULL;
    if (c) f->ch = c;
    float *v = c ? realloc(f->val, (size_t)cap * sizeof *v) : NULL;
    if (!v) return RC_ERR_NOMEM;
    f->val = v;
    f->cap = cap;
    return RC_OK;
}

/* h5events callback: bins example ex of the file being read. */
static rc_status bin_example(void *user, int64_t ex, const double *t, const int64_t *u, size_t n, rc_err *err)
{
    loader *L = user;
    evfile *f = L->f;
    if (ex + 2 > f->offcap) { /* examples come in ascending order, from 0 */
        const int64_t cap = f->offcap ? 2 * f->offcap : 1024;
        int64_t *o = realloc(f->off, (size_t)cap * sizeof *o);
        if (!o) return rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory for example %lld", L->path, (long long)ex);
        f->off = o;
        f->offcap = cap;
    }
    f->off[ex] = f->nev;
    if (n > L->keycap) {
        uint64_t *k = realloc(L->key, 2 * n * sizeof *k);
        if (!k) return rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory for example %lld", L->path, (long long)ex);
        L->key = k;
        L->keycap = n;
    }
    size_t m = 0;
    uint64_t max = 0;
    const uint64_t nch = (uint64_t)L->o->channels;
    for (size_t e = 0; e < n; e++) {
        const int64_t s = rc_evdata_step(t[e], L->o->dt_ms);
        if (s < 0)
            return rc_err_set(err, RC_ERR_DATA, "%s: example %lld, event %zu: time %g, expected a finite time >= 0 "
                              "(seconds)", L->path, (long long)ex, e, t[e]);
        if (u[e] < 0 || u[e] >= L->o->channels)
            return rc_err_set(err, RC_ERR_DATA, "%s: example %lld, event %zu: channel %lld, expected a channel in "
                              "[0, %d) (task.channels = %d)", L->path, (long long)ex, e, (long long)u[e],
                              L->o->channels, L->o->channels);
        if (s > L->maxstep) L->maxstep = s;
        if (s >= L->limit) {
            L->dropped++;
            continue;
        }
        const uint64_t key = (uint64_t)s * nch + (uint64_t)u[e];
        if (key > max) max = key;
        L->key[m++] = key;
    }
    if (m > INT_MAX)
        return rc_err_set(err, RC_ERR_DATA, "%s: example %lld has %zu events, more than the %d one example may have",
                          L->path, (long long)ex, m, INT_MAX);
    const uint64_t *k = sort_keys(L->key, L->key + n, m, max);
    rc_status st = file_grow(f, f->nev + (int64_t)m);
    if (st) return rc_err_set(err, st, "%s: out of memory binning example %lld", L->path, (long long)ex);
    for (size_t e = 0; e < m;) {
        size_t r = e + 1;
        while (r < m && k[r] == k[e]) r++;
        f->step[f->nev] = (int32_t)(k[e] / nch);
        f->ch[f->nev] = (int32_t)(k[e] % nch);
        f->val[f->nev] = L->o->saturate ? 1.0f : (float)(r - e);
        f->nev++;
        e = r;
    }
    f->off[ex + 1] = f->nev;
    return RC_OK;
}

static void file_free(evfile *f)
{
    free(f->off); free(f->step); free(f->ch); free(f->val); free(f->label);
    memset(f, 0, sizeof *f);
}

/* Reads and bins one file; its labels must be in [0, MAX_LABEL). The
 * training file's /extra/keys are kept (keys != NULL). */
static rc_status load_file(const rc_evdata_opts *o, const char *path, evfile *f, int64_t limit, int64_t *dropped,
                           int64_t *maxstep, int *maxlabel, ev_priv *keep_keys, rc_err *err)
{
    rc_h5ev_file h;
    loader L = { .o = o, .path = path, .f = f, .limit = limit, .maxstep = -1 };
    rc_status st = rc_h5ev_read(path, &h, bin_example, &L, err);
    free(L.key);
    if (st) return st;
    f->n = h.n;
    if (h.n == 0) st = rc_err_set(err, RC_ERR_DATA, "%s: /labels is empty, expected at least one example", path);
    else if (!(f->label = malloc((size_t)h.n * sizeof *f->label)))
        st = rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory", path);
    for (int64_t i = 0; !st && i < h.n; i++) {
        if (h.labels[i] < 0 || h.labels[i] >= MAX_LABEL)
            st = rc_err_set(err, RC_ERR_DATA, "%s: example %lld: label %lld, expected a class index in [0, %d)",
                            path, (long long)i, (long long)h.labels[i], MAX_LABEL);
        else f->label[i] = (int)h.labels[i];
        if (!st && f->label[i] > *maxlabel) *maxlabel = f->label[i];
    }
    if (!st && keep_keys) {
        keep_keys->keys = h.keys;
        keep_keys->nkeys = h.nkeys;
        h.keys = NULL;
        h.nkeys = 0;
    }
    rc_h5ev_file_free(&h);
    *dropped += L.dropped;
    if (L.maxstep > *maxstep) *maxstep = L.maxstep;
    return st;
}

/* The file and example index of (split, index). */
static const evfile *lookup(const ev_priv *p, rc_split split, int64_t index, int64_t *i)
{
    *i = index;
    if (split == RC_SPLIT_TEST) return &p->f[1];
    if (split == RC_SPLIT_VAL && p->has_val_file) return &p->f[2];
    if (split == RC_SPLIT_VAL) *i += p->f[0].n - p->nval;
    return &p->f[0];
}

static rc_status evdata_get(const rc_dataset *ds, rc_split split, int64_t index, rc_events *ev,
                            rc_example_info *info)
{
    const ev_priv *p = ds->priv;
    RC_ASSERT(index >= 0 && index < ds->size[split]);
    int64_t i;
    const evfile *f = lookup(p, split, index, &i);
    info->label = f->label[i];
    info->earliest = -1;
    const int64_t a = f->off[i], n = f->off[i + 1] - a;
    RC_ASSERT(n <= INT_MAX);
    rc_status st = rc_events_reset(ev, ds->T);
    if (!st) st = rc_events_reserve(ev, (int)n);
    if (st) return st;
    /* Stored sorted by step: off[t] is the first event of step >= t. */
    int64_t e = 0;
    for (int t = 0; t <= ds->T; t++) {
        while (e < n && f->step[a + e] < t) e++;
        ev->off[t] = (int)e;
    }
    if (n) {
        memcpy(ev->ch, f->ch + a, (size_t)n * sizeof *ev->ch);
        memcpy(ev->val, f->val + a, (size_t)n * sizeof *ev->val);
    }
    ev->nev = (int)n;
    return RC_OK;
}

static void evdata_free(rc_dataset *ds)
{
    ev_priv *p = ds->priv;
    for (int k = 0; k < 3; k++) file_free(&p->f[k]);
    for (int k = 0; p->keys && k < p->nkeys; k++) free(p->keys[k]);
    free(p->keys);
}

/* With steps = 0 the files were binned without a limit: T is the last
 * event's step + 1, which must not pass RC_EVDATA_MAX_T. */
static rc_status pick_T(const rc_evdata_opts *o, int64_t maxstep, int *T, rc_err *err)
{
    if (o->steps > 0) {
        *T = o->steps;
        return RC_OK;
    }
    if (maxstep + 1 > RC_EVDATA_MAX_T)
        return rc_err_set(err, RC_ERR_CONFIG, "the last event (in %s, %s%s%s) is at step %lld of %g ms, more than "
                          "the %d steps accepted; expected a larger sim.dt_ms, or task.steps (later events are dropped)",
                          o->train_file, o->test_file, o->val_file ? ", " : "", o->val_file ? o->val_file : "",
                          (long long)maxstep, o->dt_ms, RC_EVDATA_MAX_T);
    *T = maxstep < 0 ? 1 : (int)maxstep + 1;
    return RC_OK;
}

rc_status rc_evdata_new(const rc_evdata_opts *o, uint64_t seed, rc_dataset **out, int64_t *dropped, rc_err *err)
{
    *out = NULL;
    if (dropped) *dropped = 0;
    RC_ASSERT(o->channels > 0 && o->dt_ms > 0 && o->steps >= 0 && o->steps <= RC_EVDATA_MAX_T);
    if ((o->rows || o->cols) && (int64_t)o->rows * o->cols != o->channels)
        return rc_err_set(err, RC_ERR_CONFIG, "task.shape = %d,%d has %lld positions, expected task.channels = %d",
                          o->rows, o->cols, (long long)o->rows * o->cols, o->channels);
    ev_priv *p = calloc(1, sizeof *p);
    /* Made first (T and classes filled in below), so one free cleans up. */
    rc_dataset *ds = rc_dataset_new("events", 1, o->channels, 2, seed, evdata_get, evdata_free, p);
    if (!ds) return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    /* steps = 0: later events make pick_T fail, so none is kept past the cap. */
    const int64_t limit = o->steps > 0 ? o->steps : RC_EVDATA_MAX_T;
    int64_t drop = 0, maxstep = -1;
    int maxlabel = -1, T = 0;
    rc_status st = load_file(o, o->train_file, &p->f[0], limit, &drop, &maxstep, &maxlabel, p, err);
    if (!st) st = load_file(o, o->test_file, &p->f[1], limit, &drop, &maxstep, &maxlabel, NULL, err);
    if (!st && o->val_file) st = load_file(o, o->val_file, &p->f[2], limit, &drop, &maxstep, &maxlabel, NULL, err);
    p->has_val_file = o->val_file != NULL;
    p->nval = o->val_file ? 0 : o->nval >= 0 ? o->nval : (p->f[0].n / 10 > 0 ? p->f[0].n / 10 : 1);
    if (!st && !o->val_file && p->nval >= p->f[0].n)
        st = rc_err_set(err, RC_ERR_CONFIG, "task.validation = %lld must be smaller than the %lld training examples in %s",
                        (long long)p->nval, (long long)p->f[0].n, o->train_file);
    const int nclass = maxlabel + 1 > p->nkeys ? maxlabel + 1 : p->nkeys;
    if (!st && nclass < 2)
        st = rc_err_set(err, RC_ERR_DATA, "%s, %s: every label is 0, expected at least two classes", o->train_file,
                        o->test_file);
    if (!st) st = pick_T(o, maxstep, &T, err);
    if (st) {
        rc_dataset_free(ds);
        return st;
    }
    ds->T = T;
    ds->nclass = nclass;
    ds->size[RC_SPLIT_TRAIN] = p->f[0].n - p->nval;
    ds->size[RC_SPLIT_VAL] = o->val_file ? p->f[2].n : p->nval;
    ds->size[RC_SPLIT_TEST] = p->f[1].n;
    ds->rows = o->rows;
    ds->cols = o->cols;
    if (p->keys && p->nkeys == nclass) ds->class_names = (const char *const *)p->keys;
    if (dropped) *dropped = drop;
    *out = ds;
    return RC_OK;
}
