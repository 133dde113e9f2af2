/* fastmath.h — exp, sigmoid and tanh over float arrays, written so the
 * compiler vectorises them (no libm calls in the LSTM's elementwise loops,
 * which otherwise cost as much as the matrix products).
 *
 * exp: Cephes' expf scheme — n = round(x·log2 e), r = x − n·ln 2 in two parts,
 * a degree-6 polynomial for e^r, then scale by 2^n through the exponent bits.
 * Max relative error about 2 ulp on [−87, 88] (tests/test_fastmath.c checks
 * it against double). Inputs are clamped to that range, so no inf/NaN arises
 * from finite inputs; NaN inputs stay NaN (clamping with comparisons keeps
 * them). Deterministic: plain IEEE operations in a fixed order, no FMA
 * contraction (ISO C mode), same result in every thread. */
#ifndef RC_FASTMATH_H
#define RC_FASTMATH_H

#include <stdint.h>
#include <string.h>

static inline float rc_expf(float x)
{
    x = x > 88.3762626647949f ? 88.3762626647949f : x;
    x = x < -87.3365447504f ? -87.3365447504f : x;
    /* Round to nearest by adding and removing 1.5·2^23 (exact for |v| < 2^22;
     * vectorises, unlike floorf without -fno-trapping-math). */
    float fx = x * 1.44269504088896341f;
    fx = (fx + 12582912.0f) - 12582912.0f;
    float r = x - fx * 0.693359375f;
    r = r - fx * -2.12194440e-4f;
    float z = r * r;
    float y = 1.9875691500E-4f;
    y = y * r + 1.3981999507E-3f;
    y = y * r + 8.3334519073E-3f;
    y = y * r + 4.1665795894E-2f;
    y = y * r + 1.6666665459E-1f;
    y = y * r + 5.0000001201E-1f;
    y = y * z + r + 1.0f;
    int32_t n = (int32_t)fx;
    int32_t bits = (n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return y * scale;
}

static inline float rc_sigmoidf(float x) { return 1.0f / (1.0f + rc_expf(-x)); }

static inline float rc_tanhf(float x)
{
    float a = x < 0 ? -x : x;
    float t = rc_expf(-2.0f * a);
    float y = (1.0f - t) / (1.0f + t);
    return x < 0 ? -y : y;
}

#endif
