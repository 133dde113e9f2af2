/* rng.h — counter-based random numbers.
 *
 * Every random number rcsim draws is a pure function of (seed, stream, a, b):
 * a keyed hash (splitmix64 finaliser, applied in a chain) rather than a
 * sequential generator. Data for example i at step t never depends on which
 * thread made it, how the batch was split or in which order examples were
 * visited, and initial weights never depend on the memory layout. */
#ifndef RC_RNG_H
#define RC_RNG_H

#include <math.h>
#include <stdint.h>

/* Streams keep unrelated draws apart. */
enum {
    RC_STREAM_INIT = 1,     /* parameter initialisation: (param id, index)   */
    RC_STREAM_TRAIN = 2,    /* training data:   (example index, step/field)  */
    RC_STREAM_VAL = 3,      /* validation data                               */
    RC_STREAM_TEST = 4,     /* test data                                     */
    RC_STREAM_SHUFFLE = 5,  /* epoch permutations of finite data sets        */
    RC_STREAM_AUG = 6,      /* augmentation                                  */
    RC_STREAM_SILENCE = 7,  /* speech: silence clips cut from noise (clip, field) */
    RC_STREAM_NET_CONN = 8,    /* network connectivity: (projection, target or source) keys */
    RC_STREAM_NET_POISSON = 9, /* network Poisson sources: (source, neuron) keys  */
    RC_STREAM_NET_VINIT = 10,  /* network initial membrane potentials: (pop, neuron) */
};

static inline uint64_t rc_mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* 64 random bits for the counter (seed, stream, a, b). */
static inline uint64_t rc_rand64(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b)
{
    uint64_t h = rc_mix64(seed ^ 0x5851f42d4c957f2dULL);
    h = rc_mix64(h ^ stream);
    h = rc_mix64(h ^ a);
    return rc_mix64(h ^ (b * 0xd1342543de82ef95ULL + 1));
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double rc_uniform(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b)
{
    return (double)(rc_rand64(seed, stream, a, b) >> 11) * 0x1.0p-53;
}

/* Standard normal (Box-Muller on two counters derived from b). */
static inline double rc_normal(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b)
{
    double u1 = rc_uniform(seed, stream, a, 2 * b);
    double u2 = rc_uniform(seed, stream, a, 2 * b + 1);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

#endif
