/* logmel.c — see logmel.h. Double precision throughout (the FFT included):
 * a clip costs ~100 FFTs of 512 points, negligible next to the LSTM, and the
 * features then match a float64 reference to rounding. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fftw3.h>
#include "encoders/logmel.h"
#include "base/status.h"

struct rc_logmel {
    rc_logmel_params p;
    int frames, nbin;
    double *window;     /* (win)                */
    double *fb;         /* (bands, nbin)        */
    int *lo, *hi;       /* (bands) nonzero bin range [lo, hi) of each filter */
    fftw_plan plan;
};

/* FFTW's planner is not thread-safe: plans are made and destroyed under this lock. */
static pthread_mutex_t g_plan_lock = PTHREAD_MUTEX_INITIALIZER;

static double hz_to_mel(double f) { return 2595.0 * log10(1.0 + f / 700.0); }
static double mel_to_hz(double m) { return 700.0 * (pow(10.0, m / 2595.0) - 1.0); }

rc_logmel_params rc_logmel_default(int bands, double fmin, double fmax)
{
    return (rc_logmel_params){ .rate = 16000, .samples = 16000, .win = 400, .hop = 160, .nfft = 512,
                               .bands = bands, .fmin = fmin, .fmax = fmax };
}

void rc_logmel_describe(const rc_logmel_params *p, char *buf, size_t cap)
{
    snprintf(buf, cap, "logmel-1 rate=%d samples=%d win=%d hamming-periodic hop=%d centred-zero-pad nfft=%d "
                       "power fftw-double bands=%d htk-mel fmin=%.17g fmax=%.17g triangle-peak1 log(E+%g)",
             p->rate, p->samples, p->win, p->hop, p->nfft, p->bands, p->fmin, p->fmax, RC_LOGMEL_EPS);
}

void rc_logmel_free(rc_logmel *lm)
{
    if (!lm) return;
    if (lm->plan) {
        pthread_mutex_lock(&g_plan_lock);
        fftw_destroy_plan(lm->plan);
        pthread_mutex_unlock(&g_plan_lock);
    }
    free(lm->window);
    free(lm->fb);
    free(lm->lo);
    free(lm->hi);
    free(lm);
}

rc_logmel *rc_logmel_new(const rc_logmel_params *p)
{
    if (p->rate <= 0 || p->win < 2 || p->hop < 1 || p->nfft < p->win || p->bands < 1 || p->samples < 1 ||
        !(p->fmin >= 0 && p->fmin < p->fmax && p->fmax <= p->rate / 2.0))
        return NULL;
    rc_logmel *lm = calloc(1, sizeof *lm);
    if (!lm) return NULL;
    lm->p = *p;
    lm->frames = 1 + p->samples / p->hop;
    lm->nbin = p->nfft / 2 + 1;
    lm->window = malloc((size_t)p->win * sizeof *lm->window);
    lm->fb = calloc((size_t)p->bands * (size_t)lm->nbin, sizeof *lm->fb);
    lm->lo = calloc((size_t)p->bands, sizeof *lm->lo);
    lm->hi = calloc((size_t)p->bands, sizeof *lm->hi);
    double *in = fftw_malloc((size_t)p->nfft * sizeof *in);
    fftw_complex *out = fftw_malloc((size_t)lm->nbin * sizeof *out);
    if (!lm->window || !lm->fb || !lm->lo || !lm->hi || !in || !out) goto fail;
    for (int n = 0; n < p->win; n++) lm->window[n] = 0.54 - 0.46 * cos(2.0 * M_PI * n / p->win);
    /* Triangles between mel-spaced edge frequencies f[0] < ... < f[bands+1]. */
    const double m0 = hz_to_mel(p->fmin), m1 = hz_to_mel(p->fmax);
    for (int b = 0; b < p->bands; b++) {
        const double fl = mel_to_hz(m0 + (m1 - m0) * b / (p->bands + 1));
        const double fc = mel_to_hz(m0 + (m1 - m0) * (b + 1) / (p->bands + 1));
        const double fh = mel_to_hz(m0 + (m1 - m0) * (b + 2) / (p->bands + 1));
        lm->lo[b] = lm->nbin;
        for (int k = 0; k < lm->nbin; k++) {
            const double f = (double)k * p->rate / p->nfft;
            const double w = fmin((f - fl) / (fc - fl), (fh - f) / (fh - fc));
            if (w > 0) {
                lm->fb[(size_t)b * lm->nbin + k] = w;
                if (k < lm->lo[b]) lm->lo[b] = k;
                lm->hi[b] = k + 1;
            }
        }
        if (lm->hi[b] <= lm->lo[b]) lm->lo[b] = lm->hi[b] = 0;
    }
    /* Unaligned: rc_logmel_compute executes on its callers' stack arrays. */
    pthread_mutex_lock(&g_plan_lock);
    lm->plan = fftw_plan_dft_r2c_1d(p->nfft, in, out, FFTW_ESTIMATE | FFTW_UNALIGNED);
    pthread_mutex_unlock(&g_plan_lock);
    fftw_free(in);
    fftw_free(out);
    if (!lm->plan) {
        rc_logmel_free(lm);
        return NULL;
    }
    return lm;
fail:
    fftw_free(in);
    fftw_free(out);
    rc_logmel_free(lm);
    return NULL;
}

int rc_logmel_frames(const rc_logmel *lm) { return lm->frames; }
const double *rc_logmel_filterbank(const rc_logmel *lm) { return lm->fb; }

void rc_logmel_compute(const rc_logmel *lm, const float *x, size_t n, float *out)
{
    const rc_logmel_params *p = &lm->p;
    const long len = (long)(n < (size_t)p->samples ? n : (size_t)p->samples); /* pad or cut */
    double *buf = malloc((size_t)p->nfft * sizeof *buf + (size_t)lm->nbin * (sizeof(fftw_complex) + sizeof(double)));
    RC_ASSERT(buf); /* a few kB; running out here is not recoverable mid-batch */
    fftw_complex *spec = (fftw_complex *)(buf + p->nfft);
    double *pw = (double *)(spec + lm->nbin);
    for (int i = 0; i < lm->frames; i++) {
        const long start = (long)i * p->hop - p->win / 2;
        for (int k = 0; k < p->nfft; k++) buf[k] = 0;
        for (int k = 0; k < p->win; k++) {
            const long s = start + k;
            if (s >= 0 && s < len) buf[k] = lm->window[k] * (double)x[s];
        }
        fftw_execute_dft_r2c(lm->plan, buf, spec);
        for (int k = 0; k < lm->nbin; k++) pw[k] = spec[k][0] * spec[k][0] + spec[k][1] * spec[k][1];
        for (int b = 0; b < p->bands; b++) {
            const double *w = lm->fb + (size_t)b * lm->nbin;
            double e = 0;
            for (int k = lm->lo[b]; k < lm->hi[b]; k++) e += w[k] * pw[k];
            out[(size_t)i * p->bands + b] = (float)log(e + RC_LOGMEL_EPS);
        }
    }
    free(buf);
}
