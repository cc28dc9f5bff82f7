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
#include <string.h>

#define SG_INT32_MIN (-2147483647 - 1)
#define SG_INT32_MAX 2147483647

/* Keep a hot inner loop in its own function so the caller's live values do not push its
 * accumulators and pointers out of the registers. */
#if defined(__GNUC__) && defined(__arm__)
#define SG_NOINLINE __attribute__((noinline))
#else
#define SG_NOINLINE /* x86-64 has registers to spare: let the compiler inline */
#endif

#if defined(__GNUC__)
#define SG_LIKELY(c) __builtin_expect(!!(c), 1)
#else
#define SG_LIKELY(c) (c)
#endif

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
    if (SG_LIKELY(shift < 0)) {
        /* Two round-half-up steps collapse into one: floor((floor(a / 2^31) + c) / 2^r) equals
         * floor((a / 2^31 + c) / 2^r) for integer c, so the result is
         * (x * mult + 2^30 + 2^(30 + r)) >> (31 + r): one multiply-accumulate into a 64-bit
         * constant k, then the high word shifted by r - 1. k is built without branches:
         * k_hi = 2^(r-2) (0 for r = 1), k_lo = 2^30 (+ 2^31 for r = 1). */
        const int r = (int)-shift;
        const uint32_t p2 = (uint32_t)1 << r;
        const uint32_t k_hi = p2 >> 2;
        const uint32_t k_lo = 0x40000000u + ((p2 & 2u) << 30);
        const int64_t k = (int64_t)(((uint64_t)k_hi << 32) | k_lo);
        const int32_t hi = (int32_t)(((int64_t)x * (int64_t)mult + k) >> 32);
        return hi >> (r - 1);
    } else {
        const int64_t prod = (int64_t)(int32_t)((uint32_t)x << shift) * (int64_t)mult;
        return (int32_t)((prod + ((int64_t)1 << 30)) >> 31);
    }
}

/*
 * Dual 16-bit multiply-accumulate (Cortex-M4/M7/M33/M55 DSP extension) for the int8 dot products.
 * Four int8 lanes are split into their even (bytes 0, 2) and odd (bytes 1, 3) halves, each sign
 * extended to two int16 lanes; SMLAD then adds both lane products to the accumulator. The sums
 * are exact integers, so the result equals the plain loop bit for bit. SG_EMULATE_DSP builds the
 * same code path on a host (for tests) with C versions of the three instructions.
 */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && !defined(SG_EMULATE_DSP)
#include <arm_acle.h>
#define SG_USE_DSP 1
#define sg_sxtb16(x) ((uint32_t)__sxtb16((int32_t)(x)))
#define sg_smlad(a, b, acc) __smlad((int32_t)(a), (int32_t)(b), (acc))
#define sg_smlabb(a, b, acc) __smlabb((int32_t)(a), (int32_t)(b), (acc))
#define sg_smlatt(a, b, acc) __smlatt((int32_t)(a), (int32_t)(b), (acc))
/* SXTB16 of the odd bytes: the rotate is the instruction's own operand (GCC does not fold it). */
static inline uint32_t sg_sxtb16_odd(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
#define sg_ssat8(x) __ssat((x), 8)
/* lo, hi = the two words at p; p += 8 (one LDRD with write-back: GCC splits 64-bit loads of
 * a table into two LDRs when registers are tight) */
#define SG_LDRD_INC(lo, hi, p)                                                                     \
    __asm__("ldrd %0, %1, [%2], #8" : "=&r"(lo), "=&r"(hi), "+r"(p) : "m"(*(const uint64_t *)(p)))
#define SG_LDRD2_INC(lo, hi, p)                                                                    \
    __asm__("ldrd %0, %1, [%2], #8" : "=&r"(lo), "=&r"(hi), "+r"(p) : "m"(*(const uint32_t(*)[2])(p)))
/* low half of a, low half of b in the top half */
static inline uint32_t sg_pkhbt16(int32_t a, int32_t b)
{
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
#define sg_uxtb16(x) ((uint32_t)__uxtb16((uint32_t)(x)))
/* Per signed byte max(a, b) and min(a, b): SSUB8 sets the GE flags SEL reads, in one asm statement
 * so nothing can be scheduled between them. */
static inline uint32_t sg_max_s8x4(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %1, %2" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
}
static inline uint32_t sg_min_s8x4(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %2, %1" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
}
#elif defined(SG_EMULATE_DSP)
#define SG_USE_DSP 1
static inline uint32_t sg_sxtb16(uint32_t x)
{
    const uint32_t lo = (uint32_t)(int32_t)(int8_t)(x & 0xFFu) & 0xFFFFu;
    const uint32_t hi = (uint32_t)(int32_t)(int8_t)((x >> 16) & 0xFFu) & 0xFFFFu;
    return lo | (hi << 16);
}
static inline int32_t sg_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    const int32_t p0 = (int32_t)(int16_t)(a & 0xFFFFu) * (int32_t)(int16_t)(b & 0xFFFFu);
    const int32_t p1 = (int32_t)(int16_t)(a >> 16) * (int32_t)(int16_t)(b >> 16);
    return (int32_t)((uint32_t)acc + (uint32_t)p0 + (uint32_t)p1);
}
static inline int32_t sg_smlabb(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)((int32_t)(int16_t)(a & 0xFFFFu) * (int32_t)(int16_t)(b & 0xFFFFu)));
}
static inline int32_t sg_smlatt(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)((int32_t)(int16_t)(a >> 16) * (int32_t)(int16_t)(b >> 16)));
}
static inline uint32_t sg_sxtb16_odd(uint32_t x)
{
    return sg_sxtb16((x >> 8) | (x << 24));
}
static inline int32_t sg_ssat8(int32_t x)
{
    return x < -128 ? -128 : (x > 127 ? 127 : x);
}
static inline uint32_t sg_uxtb16(uint32_t x)
{
    return x & 0x00FF00FFu;
}
static inline uint32_t sg_pkhbt16(int32_t a, int32_t b)
{
    return ((uint32_t)a & 0xFFFFu) | ((uint32_t)b << 16);
}
#define SG_LDRD_INC(lo, hi, p)                                                                     \
    do {                                                                                           \
        (lo) = (uint32_t)*(p);                                                                     \
        (hi) = (uint32_t)(*(p) >> 32);                                                             \
        ++(p);                                                                                     \
    } while (0)
#define SG_LDRD2_INC(lo, hi, p)                                                                    \
    do {                                                                                           \
        (lo) = (p)[0];                                                                             \
        (hi) = (p)[1];                                                                             \
        (p) += 2;                                                                                  \
    } while (0)
static inline uint32_t sg_max_s8x4(uint32_t a, uint32_t b)
{
    uint32_t r = 0;
    int i;
    for (i = 0; i < 32; i += 8) {
        const int8_t x = (int8_t)(a >> i), y = (int8_t)(b >> i);
        r |= (uint32_t)(uint8_t)(x >= y ? x : y) << i;
    }
    return r;
}
static inline uint32_t sg_min_s8x4(uint32_t a, uint32_t b)
{
    uint32_t r = 0;
    int i;
    for (i = 0; i < 32; i += 8) {
        const int8_t x = (int8_t)(a >> i), y = (int8_t)(b >> i);
        r |= (uint32_t)(uint8_t)(x >= y ? y : x) << i;
    }
    return r;
}
#else
#define SG_USE_DSP 0
#endif

#if SG_USE_DSP
/* Unaligned 32-bit load: one LDR on ARMv7-M; memcpy keeps it defined behaviour in C. The builtin
 * is inlined even under -ffreestanding, where a plain memcpy call would stay a call. */
static inline uint32_t sg_load4(const int8_t *p)
{
    uint32_t v;
#if defined(__GNUC__)
    __builtin_memcpy(&v, p, sizeof v);
#else
    memcpy(&v, p, sizeof v);
#endif
    return v;
}

/* Four int32 results clamped to [lo, hi] (lo4/hi4: the bound in every byte) and packed into bytes
 * 0..3: saturate to int8, interleave, then a byte-wise max and min. */
static inline uint32_t sg_pack4_clamp(int32_t v0, int32_t v1, int32_t v2, int32_t v3, uint32_t lo4, uint32_t hi4)
{
    const uint32_t e = sg_uxtb16(sg_pkhbt16(sg_ssat8(v0), sg_ssat8(v2)));
    const uint32_t o = sg_uxtb16(sg_pkhbt16(sg_ssat8(v1), sg_ssat8(v3)));
    return sg_min_s8x4(sg_max_s8x4(e | (o << 8), lo4), hi4);
}

static inline uint32_t sg_bytes4(int32_t v)
{
    return (uint32_t)(uint8_t)v * 0x01010101u;
}

/* Unaligned 32-bit store: one STR (see sg_load4). */
static inline void sg_store4(int8_t *p, uint32_t v)
{
#if defined(__GNUC__)
    __builtin_memcpy(p, &v, sizeof v);
#else
    memcpy(p, &v, sizeof v);
#endif
}
#endif

/*
 * SSE2 (every x86-64 host build): PMADDWD multiplies eight int16 pairs and adds neighbours into
 * four int32 lanes, the x86 counterpart of SMLAD, for the host build of the generated network.
 * Exact integer sums again, so the bytes are the same. -DSG_PORTABLE forces the plain C loops.
 */
#if !SG_USE_DSP && defined(__SSE2__) && !defined(SG_PORTABLE)
#include <emmintrin.h>
#define SG_USE_SSE2 1
/* int8 lanes 0..7 / 8..15 sign-extended to int16 */
static inline __m128i sg_sx_lo(__m128i v)
{
    return _mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8);
}
static inline __m128i sg_sx_hi(__m128i v)
{
    return _mm_srai_epi16(_mm_unpackhi_epi8(v, v), 8);
}
static inline __m128i sg_load16(const int8_t *p)
{
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}
static inline __m128i sg_load8(const int8_t *p)
{
    return _mm_loadl_epi64((const __m128i *)(const void *)p);
}
static inline int32_t sg_hsum(__m128i v)
{
    v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(v);
}
#else
#define SG_USE_SSE2 0
#endif

#endif /* STM32GEN_SG_INTERNAL_H */
