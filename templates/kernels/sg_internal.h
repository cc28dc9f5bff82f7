/*
 * Fixed-point helpers shared by the stm32gen kernels (not part of the public API).
 *
 * Two requantisation flavours exist inside LiteRT and both are needed for bit-exactness:
 *  - sg_mbqm():    TFLite MultiplyByQuantizedMultiplier, default build: a saturating rounding
 *                  doubling high multiply, then a rounding right shift, both rounding half away
 *                  from zero. LiteRT's ADD, QUANTIZE and MEAN use it.
 *  - sg_mbqm_up(): the same two steps with both roundings half up (towards +inf), as in LiteRT's
 *                  vectorised convolution output stages (ruy GEMM for CONV_2D, the 3x3 depthwise
 *                  kernels). Found by matching LiteRT on the real models: sg_mbqm misses ~1 output
 *                  in 10^4, ruy's single 64-bit rounding ~1 in 100, this none.
 */
#ifndef STM32GEN_SG_INTERNAL_H
#define STM32GEN_SG_INTERNAL_H

#include <stdint.h>

#define SG_INT32_MIN (-2147483647 - 1)
#define SG_INT32_MAX 2147483647

static inline int32_t sg_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* gemmlowp SaturatingRoundingDoublingHighMul: (a * b * 2 + 2^31 rounding) >> 32, division
 * truncating toward zero after a nudge of +-2^30 (i.e. round half away from zero). */
static inline int32_t sg_srdhm(int32_t a, int32_t b)
{
    int64_t ab;
    int64_t num;
    if (a == b && a == SG_INT32_MIN) {
        return SG_INT32_MAX;
    }
    ab = (int64_t)a * (int64_t)b;
    num = ab + (ab >= 0 ? (int64_t)(1 << 30) : (int64_t)(1 - (1 << 30)));
    /* Truncating division by 2^31 without a 64-bit divide call. */
    return (int32_t)(num >= 0 ? (num >> 31) : -((-num) >> 31));
}

/* gemmlowp RoundingDivideByPOT: arithmetic shift right, rounding half away from zero. */
static inline int32_t sg_rdbpot(int32_t x, int exponent)
{
    int32_t mask;
    int32_t remainder;
    int32_t threshold;
    if (exponent <= 0) {
        return x;
    }
    mask = (int32_t)(((uint32_t)1 << exponent) - 1u);
    remainder = x & mask;
    threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

static inline int32_t sg_mbqm(int32_t x, int32_t mult, int32_t shift)
{
    int left = shift > 0 ? (int)shift : 0;
    int right = shift > 0 ? 0 : (int)-shift;
    int32_t shifted = (int32_t)((uint32_t)x << left);
    return sg_rdbpot(sg_srdhm(shifted, mult), right);
}

static inline int32_t sg_mbqm_up(int32_t x, int32_t mult, int32_t shift)
{
    int left = shift > 0 ? (int)shift : 0;
    int right = shift > 0 ? 0 : (int)-shift;
    int64_t prod = (int64_t)(int32_t)((uint32_t)x << left) * (int64_t)mult;
    int32_t high = (int32_t)((prod + ((int64_t)1 << 30)) >> 31);
    if (right == 0) {
        return high;
    }
    return (int32_t)(((int64_t)high + ((int64_t)1 << (right - 1))) >> right);
}

#endif /* STM32GEN_SG_INTERNAL_H */
