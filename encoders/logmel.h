/* logmel.h — log-mel filterbank energies of a one-second clip (paper B.4).
 *
 * The clip (padded with zeros or cut to `samples`) is cut into centred
 * frames: frame i is centred on sample i·hop and covers samples
 * [i·hop − win/2, i·hop + win/2), zeros outside the clip, so there are
 * 1 + samples/hop frames (101 for 1 s at a 10 ms hop). Each frame is
 * multiplied by a periodic Hamming window w[n] = 0.54 − 0.46·cos(2πn/win),
 * zero-padded to nfft and transformed with FFTW's real FFT (double
 * precision); its power spectrum P_k = |X_k|², k = 0..nfft/2, goes through
 * `bands` triangular mel filters (HTK mel scale m = 2595·log10(1 + f/700),
 * centres equally spaced in mel between fmin and fmax, peak 1, no area
 * normalisation), and the energies become log(E + 1e-6) (natural log).
 *
 * Thread-safety: rc_logmel_new/free plan and destroy FFTW plans and must not
 * run concurrently with each other (they take a process-wide lock for the
 * planner); rc_logmel_compute only executes the plan on its own arrays
 * (FFTW's new-array execute, thread-safe) and may run on any thread. */
#ifndef RC_LOGMEL_H
#define RC_LOGMEL_H

#include <stddef.h>

typedef struct {
    int rate;       /* Hz (16000)                                         */
    int samples;    /* clip length after padding/cutting (16000 = 1 s)     */
    int win;        /* window length in samples (400 = 25 ms)              */
    int hop;        /* frame stride in samples (160 = 10 ms)               */
    int nfft;       /* FFT length, >= win (512)                            */
    int bands;      /* mel filters (20)                                    */
    double fmin, fmax; /* filterbank edges in Hz (20, 8000)                */
} rc_logmel_params;

#define RC_LOGMEL_EPS 1e-6

typedef struct rc_logmel rc_logmel;

/* The paper's parameters with `bands` filters between fmin and fmax. */
rc_logmel_params rc_logmel_default(int bands, double fmin, double fmax);
/* NULL on allocation failure or invalid parameters. */
rc_logmel *rc_logmel_new(const rc_logmel_params *p);
void rc_logmel_free(rc_logmel *lm);   /* NULL is a no-op */
int rc_logmel_frames(const rc_logmel *lm);
/* (bands, nfft/2 + 1) filter weights, row-major. */
const double *rc_logmel_filterbank(const rc_logmel *lm);
/* Features of one clip: x (n samples, any length: padded with zeros or cut
 * to p.samples) → out (frames, bands), row-major. */
void rc_logmel_compute(const rc_logmel *lm, const float *x, size_t n, float *out);
/* One line describing the parameters exactly (feature-cache keys). */
void rc_logmel_describe(const rc_logmel_params *p, char *buf, size_t cap);

#endif
