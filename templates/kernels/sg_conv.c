/*
 * CONV_2D and DEPTHWISE_CONV_2D, int8 activations and weights, int32 accumulators.
 *
 * The accumulator is exact integer arithmetic, so any summation order gives LiteRT's value; only
 * the requantisation must match it bit for bit (see sg_internal.h for the two roundings).
 * The host folds -in_zp * sum(w) into `bias`, so the inner loops are plain int8 dot products; a tap
 * that falls in the padding reads the input zero point, which cancels exactly as in LiteRT.
 */
#include <string.h>

#include "stm32gen_kernels.h"
#include "sg_internal.h"

#define SG_CONV_REQUANT sg_mbqm_up

static int32_t sg_dot_s8(const int8_t *a, const int8_t *b, int32_t n)
{
    int32_t acc = 0;
    int32_t i = 0;
#if SG_USE_SSE2
    __m128i va = _mm_setzero_si128();
    for (; i + 16 <= n; i += 16) {
        const __m128i x = sg_load16(a + i), y = sg_load16(b + i);
        va = _mm_add_epi32(va, _mm_madd_epi16(sg_sx_lo(x), sg_sx_lo(y)));
        va = _mm_add_epi32(va, _mm_madd_epi16(sg_sx_hi(x), sg_sx_hi(y)));
    }
    for (; i + 8 <= n; i += 8) {
        va = _mm_add_epi32(va, _mm_madd_epi16(sg_sx_lo(sg_load8(a + i)), sg_sx_lo(sg_load8(b + i))));
    }
    acc = sg_hsum(va);
#elif SG_USE_DSP
    for (; i + 4 <= n; i += 4) {
        const uint32_t va = sg_load4(a + i), vb = sg_load4(b + i);
        acc = sg_smlad(sg_sxtb16(va), sg_sxtb16(vb), acc);
        acc = sg_smlad(sg_sxtb16_odd(va), sg_sxtb16_odd(vb), acc);
    }
#else
    int32_t acc1 = 0;
    for (; i + 4 <= n; i += 4) {
        acc += (int32_t)a[i] * b[i] + (int32_t)a[i + 1] * b[i + 1];
        acc1 += (int32_t)a[i + 2] * b[i + 2] + (int32_t)a[i + 3] * b[i + 3];
    }
    acc += acc1;
#endif
    for (; i < n; ++i) {
        acc += (int32_t)a[i] * b[i];
    }
    return acc;
}

/* Two dot products sharing the input vector x (two output channels of one pixel). */
SG_NOINLINE static void sg_dot2_s8(const int8_t *x, const int8_t *w0, const int8_t *w1, int32_t n, int32_t *acc0,
                       int32_t *acc1)
{
    int32_t a0 = *acc0, a1 = *acc1;
    int32_t i = 0;
#if SG_USE_SSE2
    __m128i v0 = _mm_setzero_si128(), v1 = _mm_setzero_si128();
    for (; i + 16 <= n; i += 16) {
        const __m128i vx = sg_load16(x + i);
        const __m128i xl = sg_sx_lo(vx), xh = sg_sx_hi(vx);
        const __m128i k0 = sg_load16(w0 + i), k1 = sg_load16(w1 + i);
        v0 = _mm_add_epi32(v0, _mm_madd_epi16(xl, sg_sx_lo(k0)));
        v0 = _mm_add_epi32(v0, _mm_madd_epi16(xh, sg_sx_hi(k0)));
        v1 = _mm_add_epi32(v1, _mm_madd_epi16(xl, sg_sx_lo(k1)));
        v1 = _mm_add_epi32(v1, _mm_madd_epi16(xh, sg_sx_hi(k1)));
    }
    for (; i + 8 <= n; i += 8) {
        const __m128i xl = sg_sx_lo(sg_load8(x + i));
        v0 = _mm_add_epi32(v0, _mm_madd_epi16(xl, sg_sx_lo(sg_load8(w0 + i))));
        v1 = _mm_add_epi32(v1, _mm_madd_epi16(xl, sg_sx_lo(sg_load8(w1 + i))));
    }
    a0 += sg_hsum(v0);
    a1 += sg_hsum(v1);
#elif SG_USE_DSP
    for (; i + 4 <= n; i += 4) {
        const uint32_t vx = sg_load4(x + i);
        const uint32_t xe = sg_sxtb16(vx), xo = sg_sxtb16_odd(vx);
        const uint32_t v0 = sg_load4(w0 + i), v1 = sg_load4(w1 + i);
        a0 = sg_smlad(xe, sg_sxtb16(v0), a0);
        a0 = sg_smlad(xo, sg_sxtb16_odd(v0), a0);
        a1 = sg_smlad(xe, sg_sxtb16(v1), a1);
        a1 = sg_smlad(xo, sg_sxtb16_odd(v1), a1);
    }
#endif
    for (; i < n; ++i) {
        const int32_t v = x[i];
        a0 += v * w0[i];
        a1 += v * w1[i];
    }
    *acc0 = a0;
    *acc1 = a1;
}

static int32_t sg_sum_s8(const int8_t *a, int32_t n)
{
    int32_t acc = 0;
    int32_t i;
    for (i = 0; i < n; ++i) {
        acc += a[i];
    }
    return acc;
}

/* Output stage parameters copied out of the params struct: int8 stores may alias anything, so
 * reading them through `p` inside the loops would reload them after every store. */
typedef struct {
    const int32_t *mult;
    const int32_t *shift;
    int32_t zp, lo, hi;
} sg_rq_t;

static inline int8_t sg_rq_up(const sg_rq_t *rq, int32_t acc, int32_t oc)
{
    const int32_t v = SG_CONV_REQUANT(acc, rq->mult[oc], rq->shift[oc]) + rq->zp;
    return (int8_t)sg_clamp(v, rq->lo, rq->hi);
}

/* Depthwise: LiteRT requantises vector blocks of 8 channels rounding half up and the out_c % 8
 * remaining channels one by one, half away from zero. */
static inline int8_t sg_rq_dw(const sg_rq_t *rq, int32_t acc, int32_t oc, int32_t blocked)
{
    const int32_t m = rq->mult[oc], sh = rq->shift[oc];
    const int32_t v = (oc < blocked ? sg_mbqm_up(acc, m, sh) : sg_mbqm(acc, m, sh)) + rq->zp;
    return (int8_t)sg_clamp(v, rq->lo, rq->hi);
}

/* sg_mbqm_up for shift < 0 as one multiply-accumulate: hi = (acc * mult + k) >> 32, then
 * hi >> rsh (see sg_mbqm_up); a channel's constants, computed once per call or pass. */
typedef struct {
    int32_t mult, rsh; /* in this order: sg_rq_fast4 loads the struct as two 64-bit pairs */
    uint32_t k_lo, k_hi;
} sg_rq_fast_t;

/* The one-step form covers right shifts only (shift < 0, i.e. multipliers below 0.5). */
static int sg_rq_fast_ok(const int32_t *shift, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        if (shift[i] >= 0) {
            return 0;
        }
    }
    return 1;
}

static void sg_rq_fast_init(const int32_t *mult, const int32_t *shift, int32_t n, sg_rq_fast_t *q)
{
    int32_t c;
    for (c = 0; c < n; ++c) {
        const int r = (int)-shift[c];
        const uint32_t p2 = (uint32_t)1 << r;
        q[c].mult = mult[c];
        q[c].k_hi = p2 >> 2;
        q[c].k_lo = 0x40000000u + ((p2 & 2u) << 30);
        q[c].rsh = r - 1;
    }
}

#if SG_USE_DSP
/* sg_mbqm_up(acc, mult, shift) + zp for a channel's shift < 0 (constants as in sg_rq_fast_t), not
 * clamped. */
static inline int32_t sg_rq_fast_raw(int32_t acc, uint32_t mult, uint32_t rsh, uint32_t k_lo, uint32_t k_hi, int32_t zp)
{
    const int64_t k = (int64_t)(((uint64_t)k_hi << 32) | k_lo);
    return ((int32_t)(((int64_t)acc * (int32_t)mult + k) >> 32) >> rsh) + zp;
}

/* Four channels' accumulators requantised, clamped and packed for one 32-bit store; each
 * channel's constants come in two LDRDs. */
static inline uint32_t sg_rq_fast4(const sg_rq_fast_t *q, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t zp,
                                   uint32_t lo4, uint32_t hi4)
{
    const uint32_t *t = (const uint32_t *)(const void *)q;
    uint32_t m, r, kl, kh;
    int32_t v0, v1, v2, v3;
    SG_LDRD2_INC(m, r, t);
    SG_LDRD2_INC(kl, kh, t);
    v0 = sg_rq_fast_raw(a0, m, r, kl, kh, zp);
    SG_LDRD2_INC(m, r, t);
    SG_LDRD2_INC(kl, kh, t);
    v1 = sg_rq_fast_raw(a1, m, r, kl, kh, zp);
    SG_LDRD2_INC(m, r, t);
    SG_LDRD2_INC(kl, kh, t);
    v2 = sg_rq_fast_raw(a2, m, r, kl, kh, zp);
    SG_LDRD2_INC(m, r, t);
    SG_LDRD2_INC(kl, kh, t);
    v3 = sg_rq_fast_raw(a3, m, r, kl, kh, zp);
    return sg_pack4_clamp(v0, v1, v2, v3, lo4, hi4);
}
#endif

/* Equals sg_clamp(sg_mbqm_up(acc, mult, shift) + zp, lo, hi) for the channel's shift < 0. */
static inline int32_t sg_rq_fast(const sg_rq_fast_t *q, int32_t acc, int32_t zp, int32_t lo, int32_t hi)
{
    const int64_t k = (int64_t)(((uint64_t)q->k_hi << 32) | q->k_lo);
    const int32_t v = ((int32_t)(((int64_t)acc * q->mult + k) >> 32) >> q->rsh) + zp;
    return v < lo ? lo : (v > hi ? hi : v);
}

/* 1x1, stride 1, no padding: a GEMM of [pixels x in_c] by [out_c x in_c]^T. Two pixels and two
 * output channels per step so every loaded input and weight word is used twice. The second pixel
 * and the second weight row are addressed as `stride` bytes past the first (one register for both). */
SG_NOINLINE static void sg_conv1x1_block(const int8_t *x, const int8_t *w, int32_t stride, int32_t n, int32_t acc[4])
{
    int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
    int32_t i = n;
#if SG_USE_SSE2
    __m128i v00 = _mm_setzero_si128(), v01 = v00, v10 = v00, v11 = v00;
    for (; i >= 16; i -= 16) {
        const __m128i u0 = sg_load16(x), u1 = sg_load16(x + stride);
        const __m128i k0 = sg_load16(w), k1 = sg_load16(w + stride);
        const __m128i x0l = sg_sx_lo(u0), x0h = sg_sx_hi(u0), x1l = sg_sx_lo(u1), x1h = sg_sx_hi(u1);
        __m128i kl = sg_sx_lo(k0), kh = sg_sx_hi(k0);
        v00 = _mm_add_epi32(v00, _mm_add_epi32(_mm_madd_epi16(x0l, kl), _mm_madd_epi16(x0h, kh)));
        v10 = _mm_add_epi32(v10, _mm_add_epi32(_mm_madd_epi16(x1l, kl), _mm_madd_epi16(x1h, kh)));
        kl = sg_sx_lo(k1);
        kh = sg_sx_hi(k1);
        v01 = _mm_add_epi32(v01, _mm_add_epi32(_mm_madd_epi16(x0l, kl), _mm_madd_epi16(x0h, kh)));
        v11 = _mm_add_epi32(v11, _mm_add_epi32(_mm_madd_epi16(x1l, kl), _mm_madd_epi16(x1h, kh)));
        x += 16;
        w += 16;
    }
    for (; i >= 8; i -= 8) {
        const __m128i x0l = sg_sx_lo(sg_load8(x)), x1l = sg_sx_lo(sg_load8(x + stride));
        const __m128i k0l = sg_sx_lo(sg_load8(w)), k1l = sg_sx_lo(sg_load8(w + stride));
        v00 = _mm_add_epi32(v00, _mm_madd_epi16(x0l, k0l));
        v10 = _mm_add_epi32(v10, _mm_madd_epi16(x1l, k0l));
        v01 = _mm_add_epi32(v01, _mm_madd_epi16(x0l, k1l));
        v11 = _mm_add_epi32(v11, _mm_madd_epi16(x1l, k1l));
        x += 8;
        w += 8;
    }
    a00 += sg_hsum(v00);
    a01 += sg_hsum(v01);
    a10 += sg_hsum(v10);
    a11 += sg_hsum(v11);
#elif SG_USE_DSP
    for (; i >= 4; i -= 4) {
        const uint32_t u0 = sg_load4(x), u1 = sg_load4(x + stride);
        const uint32_t v0 = sg_load4(w), v1 = sg_load4(w + stride);
        const uint32_t x0e = sg_sxtb16(u0), x0o = sg_sxtb16_odd(u0);
        const uint32_t x1e = sg_sxtb16(u1), x1o = sg_sxtb16_odd(u1);
        uint32_t we = sg_sxtb16(v0), wo = sg_sxtb16_odd(v0);
        a00 = sg_smlad(x0e, we, a00);
        a00 = sg_smlad(x0o, wo, a00);
        a10 = sg_smlad(x1e, we, a10);
        a10 = sg_smlad(x1o, wo, a10);
        we = sg_sxtb16(v1);
        wo = sg_sxtb16_odd(v1);
        a01 = sg_smlad(x0e, we, a01);
        a01 = sg_smlad(x0o, wo, a01);
        a11 = sg_smlad(x1e, we, a11);
        a11 = sg_smlad(x1o, wo, a11);
        x += 4;
        w += 4;
    }
#endif
    for (; i > 0; --i) {
        const int32_t v0 = x[0], v1 = x[stride];
        const int32_t k0 = w[0], k1 = w[stride];
        a00 += v0 * k0;
        a01 += v0 * k1;
        a10 += v1 * k0;
        a11 += v1 * k1;
        ++x;
        ++w;
    }
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
}

static void sg_conv1x1_generic(const sg_conv_params_t *p, const int8_t *in, const int8_t *w, int8_t *out)
{
    const sg_rq_t rq = {p->out_mult, p->out_shift, p->out_zp, p->act_min, p->act_max};
    const int32_t *bias = p->bias;
    const int32_t in_c = p->in_c;
    const int32_t out_c = p->out_c;
    const int32_t pixels = p->batches * p->out_h * p->out_w;
    int32_t px = 0;
    for (; px + 2 <= pixels; px += 2) {
        const int8_t *x0 = in + px * in_c;
        const int8_t *x1 = x0 + in_c;
        int8_t *o0 = out + px * out_c;
        int8_t *o1 = o0 + out_c;
        int32_t oc = 0;
        for (; oc + 2 <= out_c; oc += 2) {
            const int8_t *w0 = w + oc * in_c;
            int32_t acc[4];
            acc[0] = bias[oc];
            acc[1] = bias[oc + 1];
            acc[2] = acc[0];
            acc[3] = acc[1];
            sg_conv1x1_block(x0, w0, in_c, in_c, acc);
            o0[oc] = sg_rq_up(&rq, acc[0], oc);
            o0[oc + 1] = sg_rq_up(&rq, acc[1], oc + 1);
            o1[oc] = sg_rq_up(&rq, acc[2], oc);
            o1[oc + 1] = sg_rq_up(&rq, acc[3], oc + 1);
        }
        for (; oc < out_c; ++oc) {
            const int8_t *w0 = w + oc * in_c;
            o0[oc] = sg_rq_up(&rq, bias[oc] + sg_dot_s8(x0, w0, in_c), oc);
            o1[oc] = sg_rq_up(&rq, bias[oc] + sg_dot_s8(x1, w0, in_c), oc);
        }
    }
    for (; px < pixels; ++px) {
        const int8_t *x0 = in + px * in_c;
        int8_t *o0 = out + px * out_c;
        int32_t oc;
        for (oc = 0; oc < out_c; ++oc) {
            o0[oc] = sg_rq_up(&rq, bias[oc] + sg_dot_s8(x0, w + oc * in_c, in_c), oc);
        }
    }
}

#if SG_USE_DSP
/* Output channel pairs [0, n_pairs) of two neighbouring pixels (sg_conv1x1_block's 2x2 step),
 * requantised in place: one call per pixel pair instead of one per 2x2 block, and the four
 * accumulators never go through memory. w, bias, q and o0 start at the first channel; the second
 * pixel's input and output are in_c and out_c bytes further. */
SG_NOINLINE static void sg_conv1x1_pairs(const int8_t *x, const int8_t *w, const int32_t *bias, const sg_rq_fast_t *q,
                                         int32_t n_pairs, int8_t *o0, const sg_conv_params_t *p)
{
    const int32_t in_c = p->in_c, out_c = p->out_c;
    const int32_t zp = p->out_zp, lo = p->act_min, hi = p->act_max;
    int32_t j;
    for (j = 0; j < n_pairs; ++j, w += 2 * in_c, bias += 2, q += 2, o0 += 2) {
        const int8_t *xp = x, *wp = w;
        int32_t a00 = bias[0], a01 = bias[1], a10 = a00, a11 = a01;
        int32_t i = in_c;
        for (; i >= 4; i -= 4) {
            const uint32_t u0 = sg_load4(xp), u1 = sg_load4(xp + in_c);
            const uint32_t v0 = sg_load4(wp), v1 = sg_load4(wp + in_c);
            const uint32_t x0e = sg_sxtb16(u0), x0o = sg_sxtb16_odd(u0);
            const uint32_t x1e = sg_sxtb16(u1), x1o = sg_sxtb16_odd(u1);
            uint32_t we = sg_sxtb16(v0), wo = sg_sxtb16_odd(v0);
            a00 = sg_smlad(x0e, we, a00);
            a00 = sg_smlad(x0o, wo, a00);
            a10 = sg_smlad(x1e, we, a10);
            a10 = sg_smlad(x1o, wo, a10);
            we = sg_sxtb16(v1);
            wo = sg_sxtb16_odd(v1);
            a01 = sg_smlad(x0e, we, a01);
            a01 = sg_smlad(x0o, wo, a01);
            a11 = sg_smlad(x1e, we, a11);
            a11 = sg_smlad(x1o, wo, a11);
            xp += 4;
            wp += 4;
        }
        for (; i > 0; --i) {
            const int32_t v0 = xp[0], v1 = xp[in_c];
            const int32_t k0 = wp[0], k1 = wp[in_c];
            a00 += v0 * k0;
            a01 += v0 * k1;
            a10 += v1 * k0;
            a11 += v1 * k1;
            ++xp;
            ++wp;
        }
        o0[0] = (int8_t)sg_rq_fast(q, a00, zp, lo, hi);
        o0[1] = (int8_t)sg_rq_fast(q + 1, a01, zp, lo, hi);
        o0[out_c] = (int8_t)sg_rq_fast(q, a10, zp, lo, hi);
        o0[out_c + 1] = (int8_t)sg_rq_fast(q + 1, a11, zp, lo, hi);
    }
}
#endif

#if SG_USE_DSP
#define SG_C1_MAX_IN 256 /* input channels of the four-channel path (2 KiB of unpacked weights) */

/* Output channels [oc, oc + 4) of `pixels` pixels whose inputs are `n` bytes each (n % 4 == 0),
 * `stride` bytes apart. `wk` holds the four channels' weights sign-extended once per call (per
 * four input bytes and per output channel: the even int16 pairs in the low word, the odd in the
 * high word), so each input word is unpacked once and feeds eight SMLADs. bias, q and o start at
 * oc; o advances out_c bytes per pixel. */
SG_NOINLINE static void sg_conv_quad(const int8_t *x, int32_t stride, int32_t n, const uint64_t *wk, int32_t pixels,
                                     const int32_t *bias, const sg_rq_fast_t *q, const sg_conv_params_t *p, int8_t *o)
{
    const int32_t out_c = p->out_c;
    const int32_t zp = p->out_zp;
    const uint32_t lo4 = sg_bytes4(p->act_min), hi4 = sg_bytes4(p->act_max);
    const uint64_t *const wk_end = wk + n;
    int32_t px;
    for (px = 0; px < pixels; ++px, x += stride, o += out_c) {
        const int8_t *xp = x;
        const uint64_t *k = wk;
        int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3];
        while (k != wk_end) {
            /* one LDRD per output channel: its even and odd pairs */
            const uint32_t u = sg_load4(xp);
            const uint32_t xe = sg_sxtb16(u), xo = sg_sxtb16_odd(u);
            uint32_t ke, ko;
            xp += 4;
            SG_LDRD_INC(ke, ko, k);
            a0 = sg_smlad(xe, ke, a0);
            a0 = sg_smlad(xo, ko, a0);
            SG_LDRD_INC(ke, ko, k);
            a1 = sg_smlad(xe, ke, a1);
            a1 = sg_smlad(xo, ko, a1);
            SG_LDRD_INC(ke, ko, k);
            a2 = sg_smlad(xe, ke, a2);
            a2 = sg_smlad(xo, ko, a2);
            SG_LDRD_INC(ke, ko, k);
            a3 = sg_smlad(xe, ke, a3);
            a3 = sg_smlad(xo, ko, a3);
        }
        sg_store4(o, sg_rq_fast4(q, a0, a1, a2, a3, zp, lo4, hi4));
    }
}

/* sg_conv_quad's weight table for the four rows w, w + len, w + 2 len, w + 3 len, zero-extended
 * from len to n bytes. */
static void sg_quad_weights(const int8_t *w, int32_t len, int32_t n, uint64_t *wk)
{
    int32_t i, j, b;
    for (i = 0; i < n; i += 4) {
        for (j = 0; j < 4; ++j) {
            uint32_t v;
            if (i + 4 <= len) {
                v = sg_load4(w + j * len + i);
            } else {
                for (v = 0, b = 0; b < 4 && i + b < len; ++b) {
                    v |= (uint32_t)(uint8_t)w[j * len + i + b] << (8 * b);
                }
            }
            *wk++ = (uint64_t)sg_sxtb16(v) | ((uint64_t)sg_sxtb16_odd(v) << 32);
        }
    }
}

/* 1x1: output channels [0, out_c - out_c % 4) through sg_conv_quad; returns how many it did. */
static int32_t sg_conv1x1_quads(const sg_conv_params_t *p, const int8_t *in, const int8_t *w, int8_t *out)
{
    const int32_t in_c = p->in_c, out_c = p->out_c;
    const int32_t pixels = p->batches * p->out_h * p->out_w;
    uint64_t wk[SG_C1_MAX_IN];
    sg_rq_fast_t q[4];
    int32_t oc;
    if (in_c % 4 != 0 || in_c > SG_C1_MAX_IN) {
        return 0;
    }
    for (oc = 0; oc + 4 <= out_c; oc += 4) {
        sg_quad_weights(w + oc * in_c, in_c, in_c, wk);
        sg_rq_fast_init(p->out_mult + oc, p->out_shift + oc, 4, q);
        sg_conv_quad(in, in_c, in_c, wk, pixels, p->bias + oc, q, p, out + oc);
    }
    return oc;
}
#endif

#define SG_RQ_CHUNK 64 /* output channels per pass of sg_conv1x1_s8 (1 KiB of requantisation table) */

/* sg_conv1x1_generic with the requantisation constants computed once per SG_RQ_CHUNK output
 * channels (sg_rq_fast) instead of once per output: a pass over all pixels per chunk. */
static void sg_conv1x1_s8(const sg_conv_params_t *p, const int8_t *in, const int8_t *w, int8_t *out)
{
    const int32_t *bias = p->bias;
    const int32_t in_c = p->in_c;
    const int32_t out_c = p->out_c;
    const int32_t zp = p->out_zp, lo = p->act_min, hi = p->act_max;
    const int32_t pixels = p->batches * p->out_h * p->out_w;
    sg_rq_fast_t rq[SG_RQ_CHUNK];
    int32_t oc0;
    if (!sg_rq_fast_ok(p->out_shift, out_c)) {
        sg_conv1x1_generic(p, in, w, out);
        return;
    }
#if SG_USE_DSP
    oc0 = sg_conv1x1_quads(p, in, w, out);
#else
    oc0 = 0;
#endif
    for (; oc0 < out_c; oc0 += SG_RQ_CHUNK) {
        const int32_t oc1 = out_c - oc0 < SG_RQ_CHUNK ? out_c : oc0 + SG_RQ_CHUNK;
        const sg_rq_fast_t *q = rq - oc0; /* q[oc] for oc in [oc0, oc1) */
        int32_t px = 0;
        sg_rq_fast_init(p->out_mult + oc0, p->out_shift + oc0, oc1 - oc0, rq);
        for (; px + 2 <= pixels; px += 2) {
            const int8_t *x0 = in + px * in_c;
            const int8_t *x1 = x0 + in_c;
            int8_t *o0 = out + px * out_c;
            int8_t *o1 = o0 + out_c;
            int32_t oc = oc0;
#if SG_USE_DSP
            sg_conv1x1_pairs(x0, w + oc * in_c, bias + oc, q + oc, (oc1 - oc0) / 2, o0 + oc, p);
            oc += (oc1 - oc0) & ~1;
#endif
            for (; oc + 2 <= oc1; oc += 2) {
                int32_t acc[4];
                acc[0] = bias[oc];
                acc[1] = bias[oc + 1];
                acc[2] = acc[0];
                acc[3] = acc[1];
                sg_conv1x1_block(x0, w + oc * in_c, in_c, in_c, acc);
                o0[oc] = (int8_t)sg_rq_fast(q + oc, acc[0], zp, lo, hi);
                o0[oc + 1] = (int8_t)sg_rq_fast(q + oc + 1, acc[1], zp, lo, hi);
                o1[oc] = (int8_t)sg_rq_fast(q + oc, acc[2], zp, lo, hi);
                o1[oc + 1] = (int8_t)sg_rq_fast(q + oc + 1, acc[3], zp, lo, hi);
            }
            for (; oc < oc1; ++oc) {
                const int8_t *w0 = w + oc * in_c;
                o0[oc] = (int8_t)sg_rq_fast(q + oc, bias[oc] + sg_dot_s8(x0, w0, in_c), zp, lo, hi);
                o1[oc] = (int8_t)sg_rq_fast(q + oc, bias[oc] + sg_dot_s8(x1, w0, in_c), zp, lo, hi);
            }
        }
        for (; px < pixels; ++px) {
            const int8_t *x0 = in + px * in_c;
            int8_t *o0 = out + px * out_c;
            int32_t oc;
            for (oc = oc0; oc < oc1; ++oc) {
                o0[oc] = (int8_t)sg_rq_fast(q + oc, bias[oc] + sg_dot_s8(x0, w + oc * in_c, in_c), zp, lo, hi);
            }
        }
    }
}

#define SG_IM2COL_MAX 1024 /* bytes of one pixel's receptive field (2 KiB of stack for two) */

/* One output pixel's receptive field, laid out like a weight row (ky, kx, ic); taps in the
 * padding read the input zero point, which the effective bias cancels. */
static void sg_im2col_pixel(const sg_conv_params_t *p, const int8_t *in_b, int32_t oy, int32_t ox, int8_t *dst)
{
    const int32_t in_c = p->in_c;
    const int32_t row_bytes = p->k_w * in_c;
    const int32_t iy0 = oy * p->stride_h - p->pad_top;
    const int32_t ix0 = ox * p->stride_w - p->pad_left;
    const int8_t zp = (int8_t)p->in_zp;
    int32_t ky, kx;
    for (ky = 0; ky < p->k_h; ++ky, dst += row_bytes) {
        const int32_t iy = iy0 + ky * p->dil_h;
        if (iy < 0 || iy >= p->in_h) {
            memset(dst, zp, (size_t)row_bytes);
            continue;
        }
        if (p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w) {
            memcpy(dst, in_b + (iy * p->in_w + ix0) * in_c, (size_t)row_bytes);
            continue;
        }
        for (kx = 0; kx < p->k_w; ++kx) {
            const int32_t ix = ix0 + kx * p->dil_w;
            if (ix < 0 || ix >= p->in_w) {
                memset(dst + kx * in_c, zp, (size_t)in_c);
            } else {
                memcpy(dst + kx * in_c, in_b + (iy * p->in_w + ix) * in_c, (size_t)in_c);
            }
        }
    }
}

#if SG_USE_DSP
#define SG_IM2COL_QUAD_K 128   /* receptive-field bytes (rounded up to 4) of the four-channel path */
#define SG_IM2COL_QUAD_BUF 1024 /* bytes of gathered receptive fields per chunk of pixels */

/* KxK convolution with a small receptive field (the first layer's 3x3x3): gather the fields of as
 * many pixels as fit in SG_IM2COL_QUAD_BUF, each zero-padded to a multiple of four bytes, then run
 * sg_conv_quad over them four output channels at a time; the out_c % 4 last channels one by one. */
static void sg_conv_im2col_quads(const sg_conv_params_t *p, const int8_t *in, const int8_t *w, int8_t *out)
{
    const sg_rq_t rq = {p->out_mult, p->out_shift, p->out_zp, p->act_min, p->act_max};
    const int32_t k_size = p->k_h * p->k_w * p->in_c;
    const int32_t k4 = (k_size + 3) & ~3;
    const int32_t chunk = SG_IM2COL_QUAD_BUF / k4;
    const int32_t out_c = p->out_c, quads = out_c - out_c % 4;
    const int32_t per_image = p->out_h * p->out_w;
    const int32_t pixels = p->batches * per_image;
    int8_t patch[SG_IM2COL_QUAD_BUF];
    uint64_t wk[SG_IM2COL_QUAD_K];
    sg_rq_fast_t q[4];
    int32_t px0, k, oc;
    for (px0 = 0; px0 < pixels; px0 += chunk) {
        const int32_t n = pixels - px0 < chunk ? pixels - px0 : chunk;
        int8_t *o = out + px0 * out_c;
        for (k = 0; k < n; ++k) {
            const int32_t px = px0 + k, b = px / per_image, r = px % per_image;
            sg_im2col_pixel(p, in + b * p->in_h * p->in_w * p->in_c, r / p->out_w, r % p->out_w, patch + k * k4);
            memset(patch + k * k4 + k_size, 0, (size_t)(k4 - k_size));
        }
        for (oc = 0; oc < quads; oc += 4) {
            sg_quad_weights(w + oc * k_size, k_size, k4, wk);
            sg_rq_fast_init(p->out_mult + oc, p->out_shift + oc, 4, q);
            sg_conv_quad(patch, k4, k4, wk, n, p->bias + oc, q, p, o + oc);
        }
        for (; oc < out_c; ++oc) {
            for (k = 0; k < n; ++k) {
                o[k * out_c + oc] = sg_rq_up(&rq, p->bias[oc] + sg_dot_s8(patch + k * k4, w + oc * k_size, k_size), oc);
            }
        }
    }
}
#endif

/* KxK convolution as the 1x1 GEMM over receptive fields gathered two pixels at a time. */
static void sg_conv_im2col_s8(const sg_conv_params_t *p, const int8_t *in, const int8_t *w, int8_t *out)
{
    const sg_rq_t rq = {p->out_mult, p->out_shift, p->out_zp, p->act_min, p->act_max};
    const int32_t *bias = p->bias;
    const int32_t k_size = p->k_h * p->k_w * p->in_c;
    const int32_t out_c = p->out_c;
    const int32_t per_image = p->out_h * p->out_w;
    const int32_t pixels = p->batches * per_image;
    int8_t patch[2 * SG_IM2COL_MAX];
    int32_t px, oc, k;
    for (px = 0; px < pixels; px += 2) {
        const int32_t n_px = pixels - px >= 2 ? 2 : 1;
        int8_t *o0 = out + px * out_c;
        for (k = 0; k < n_px; ++k) {
            const int32_t q = px + k, b = q / per_image, r = q % per_image;
            sg_im2col_pixel(p, in + b * p->in_h * p->in_w * p->in_c, r / p->out_w, r % p->out_w, patch + k * k_size);
        }
        oc = 0;
        if (n_px == 2) {
            int8_t *o1 = o0 + out_c;
            for (; oc + 2 <= out_c; oc += 2) {
                int32_t acc[4];
                acc[0] = bias[oc];
                acc[1] = bias[oc + 1];
                acc[2] = acc[0];
                acc[3] = acc[1];
                sg_conv1x1_block(patch, w + oc * k_size, k_size, k_size, acc);
                o0[oc] = sg_rq_up(&rq, acc[0], oc);
                o0[oc + 1] = sg_rq_up(&rq, acc[1], oc + 1);
                o1[oc] = sg_rq_up(&rq, acc[2], oc);
                o1[oc + 1] = sg_rq_up(&rq, acc[3], oc + 1);
            }
            for (; oc < out_c; ++oc) {
                o1[oc] = sg_rq_up(&rq, bias[oc] + sg_dot_s8(patch + k_size, w + oc * k_size, k_size), oc);
            }
            oc = out_c - (out_c % 2);
        }
        for (; oc < out_c; ++oc) {
            o0[oc] = sg_rq_up(&rq, bias[oc] + sg_dot_s8(patch, w + oc * k_size, k_size), oc);
        }
    }
}

void sg_conv2d_s8(const sg_conv_params_t *p, const int8_t *in, const int8_t *w, int8_t *out)
{
    const sg_rq_t rq = {p->out_mult, p->out_shift, p->out_zp, p->act_min, p->act_max};
    const int32_t *bias = p->bias;
    const int32_t in_c = p->in_c;
    const int32_t out_c = p->out_c;
    const int32_t k_size = p->k_h * p->k_w * in_c;
    const int32_t span_h = (p->k_h - 1) * p->dil_h;
    const int32_t span_w = (p->k_w - 1) * p->dil_w;
    int32_t b, oy, ox, oc, ky, kx;

    if (p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_top == 0 &&
        p->pad_left == 0 && p->in_h == p->out_h && p->in_w == p->out_w) {
        sg_conv1x1_s8(p, in, w, out);
        return;
    }
#if SG_USE_DSP
    if (((k_size + 3) & ~3) <= SG_IM2COL_QUAD_K && out_c >= 4 && sg_rq_fast_ok(p->out_shift, out_c)) {
        sg_conv_im2col_quads(p, in, w, out);
        return;
    }
#endif
    if (k_size <= SG_IM2COL_MAX) {
        sg_conv_im2col_s8(p, in, w, out);
        return;
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + b * p->in_h * p->in_w * in_c;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                const int interior = iy0 >= 0 && ix0 >= 0 && iy0 + span_h < p->in_h && ix0 + span_w < p->in_w;
                int8_t *o = out + ((b * p->out_h + oy) * p->out_w + ox) * out_c;
                oc = 0;
                if (interior) {
                    for (; oc + 2 <= out_c; oc += 2) {
                        const int8_t *wo = w + oc * k_size;
                        int32_t acc0 = bias[oc], acc1 = bias[oc + 1];
                        for (ky = 0; ky < p->k_h; ++ky) {
                            const int8_t *row = in_b + ((iy0 + ky * p->dil_h) * p->in_w + ix0) * in_c;
                            const int8_t *wt = wo + ky * p->k_w * in_c;
                            if (p->dil_w == 1) {
                                /* the k_w taps of a kernel row are contiguous in NHWC and OHWI */
                                sg_dot2_s8(row, wt, wt + k_size, p->k_w * in_c, &acc0, &acc1);
                                continue;
                            }
                            for (kx = 0; kx < p->k_w; ++kx) {
                                sg_dot2_s8(row + kx * p->dil_w * in_c, wt + kx * in_c, wt + kx * in_c + k_size, in_c,
                                           &acc0, &acc1);
                            }
                        }
                        o[oc] = sg_rq_up(&rq, acc0, oc);
                        o[oc + 1] = sg_rq_up(&rq, acc1, oc + 1);
                    }
                }
                for (; oc < out_c; ++oc) {
                    const int8_t *wo = w + oc * k_size;
                    int32_t acc = bias[oc];
                    for (ky = 0; ky < p->k_h; ++ky) {
                        const int32_t iy = iy0 + ky * p->dil_h;
                        for (kx = 0; kx < p->k_w; ++kx) {
                            const int32_t ix = ix0 + kx * p->dil_w;
                            const int8_t *wt = wo + (ky * p->k_w + kx) * in_c;
                            if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w) {
                                acc += sg_dot_s8(in_b + (iy * p->in_w + ix) * in_c, wt, in_c);
                            } else {
                                acc += p->in_zp * sg_sum_s8(wt, in_c);
                            }
                        }
                    }
                    o[oc] = sg_rq_up(&rq, acc, oc);
                }
            }
        }
    }
}

#define SG_DW_MAX_TAPS 64

typedef struct {
    const int8_t *x; /* input pixel of this tap */
    const int8_t *k; /* weights of this tap */
} sg_tap_t;

/* Accumulators of channels [c0, c0 + n) of one output pixel over its in-bounds taps, four
 * channels at a time. A separate function so the accumulators, the tap cursor and the
 * temporaries all stay in registers. */
SG_NOINLINE static void sg_dw_accumulate(const sg_tap_t *taps, int32_t n_taps, int32_t c0, int32_t n,
                                         const int32_t *bias, int32_t *acc)
{
    const sg_tap_t *te = taps + n_taps;
    int32_t j = 0;
#if SG_USE_SSE2
    /* eight channels at a time, two taps per PMADDWD: the interleaved (tap t, tap t+1) int16
     * pairs of each channel multiply-add into that channel's int32 lane */
    for (; j + 8 <= n; j += 8) {
        const int32_t c = c0 + j;
        const sg_tap_t *tp = taps;
        __m128i lo = _mm_loadu_si128((const __m128i *)(const void *)(bias + c));
        __m128i hi = _mm_loadu_si128((const __m128i *)(const void *)(bias + c + 4));
        for (; tp + 2 <= te; tp += 2) {
            const __m128i x0 = sg_sx_lo(sg_load8(tp[0].x + c)), x1 = sg_sx_lo(sg_load8(tp[1].x + c));
            const __m128i k0 = sg_sx_lo(sg_load8(tp[0].k + c)), k1 = sg_sx_lo(sg_load8(tp[1].k + c));
            lo = _mm_add_epi32(lo, _mm_madd_epi16(_mm_unpacklo_epi16(x0, x1), _mm_unpacklo_epi16(k0, k1)));
            hi = _mm_add_epi32(hi, _mm_madd_epi16(_mm_unpackhi_epi16(x0, x1), _mm_unpackhi_epi16(k0, k1)));
        }
        if (tp != te) {
            const __m128i zero = _mm_setzero_si128();
            const __m128i x0 = sg_sx_lo(sg_load8(tp->x + c)), k0 = sg_sx_lo(sg_load8(tp->k + c));
            lo = _mm_add_epi32(lo, _mm_madd_epi16(_mm_unpacklo_epi16(x0, zero), _mm_unpacklo_epi16(k0, zero)));
            hi = _mm_add_epi32(hi, _mm_madd_epi16(_mm_unpackhi_epi16(x0, zero), _mm_unpackhi_epi16(k0, zero)));
        }
        _mm_storeu_si128((__m128i *)(void *)(acc + j), lo);
        _mm_storeu_si128((__m128i *)(void *)(acc + j + 4), hi);
    }
#endif
    for (; j + 4 <= n; j += 4) {
        const int32_t c = c0 + j;
        const sg_tap_t *tp = taps;
        int32_t a0 = bias[c], a1 = bias[c + 1], a2 = bias[c + 2], a3 = bias[c + 3];
        for (; tp != te; ++tp) {
#if SG_USE_DSP
            /* even lanes hold channels c, c+2; the odd lanes c+1, c+3 */
            const uint32_t vx = sg_load4(tp->x + c), vk = sg_load4(tp->k + c);
            const uint32_t xe = sg_sxtb16(vx), ke = sg_sxtb16(vk);
            const uint32_t xo = sg_sxtb16_odd(vx), ko = sg_sxtb16_odd(vk);
            a0 = sg_smlabb(xe, ke, a0);
            a2 = sg_smlatt(xe, ke, a2);
            a1 = sg_smlabb(xo, ko, a1);
            a3 = sg_smlatt(xo, ko, a3);
#else
            const int8_t *x = tp->x + c;
            const int8_t *k = tp->k + c;
            a0 += (int32_t)x[0] * k[0];
            a1 += (int32_t)x[1] * k[1];
            a2 += (int32_t)x[2] * k[2];
            a3 += (int32_t)x[3] * k[3];
#endif
        }
        acc[j] = a0;
        acc[j + 1] = a1;
        acc[j + 2] = a2;
        acc[j + 3] = a3;
    }
    for (; j < n; ++j) {
        const int32_t c = c0 + j;
        const sg_tap_t *tp = taps;
        int32_t a0 = bias[c];
        for (; tp != te; ++tp) {
            a0 += (int32_t)tp->x[c] * tp->k[c];
        }
        acc[j] = a0;
    }
}

/* Requantise channels [c0, c0 + n) of one pixel (see sg_rq_dw for the two roundings). */
SG_NOINLINE static void sg_dw_store(const sg_rq_t *rq, const int32_t *acc, int32_t c0, int32_t n, int32_t blocked,
                                    int8_t *o)
{
    const int32_t *mult = rq->mult + c0, *shift = rq->shift + c0;
    const int32_t zp = rq->zp, lo = rq->lo, hi = rq->hi;
    const int32_t n_up = blocked - c0 < n ? (blocked - c0 > 0 ? blocked - c0 : 0) : n;
    const int32_t *a = acc;
    const int32_t *const up_end = acc + n_up, *const end = acc + n;
    while (a != up_end) {
        int32_t v = sg_mbqm_up(*a++, *mult++, *shift++) + zp;
        v = v < lo ? lo : v;
        *o++ = (int8_t)(v > hi ? hi : v);
    }
    while (a != end) {
        int32_t v = sg_mbqm(*a++, *mult++, *shift++) + zp;
        v = v < lo ? lo : v;
        *o++ = (int8_t)(v > hi ? hi : v);
    }
}

#if SG_USE_DSP
#define SG_DW_INTERIOR 1
#define SG_DW_GROUPS 8 /* four-channel groups per pass of the interior path (1 KiB of tables) */

/* The 3x3 interior path of one layer: output pixels whose nine taps all lie inside the input. */
typedef struct {
    const int32_t *bias;
    int32_t zp, lo, hi;
    int32_t C;   /* channels (stride between neighbouring pixels) */
    int32_t row; /* bytes of one input row */
} sg_dw3_t;

/* Tables of channels [c0, c0 + 4 * groups). Weights are sign-extended once per pass: for each group
 * of four channels and each of the nine taps, the int16 pairs (c, c+2) and (c+1, c+3), as
 * SMLABB/SMLATT read them (two SXTB16 fewer per tap and pixel; a group's taps are contiguous). */
static void sg_dw3_tables(const sg_dwconv_params_t *p, const int8_t *w, int32_t c0, int32_t groups, uint32_t *kw,
                          sg_rq_fast_t *rq)
{
    const int32_t C = p->out_c;
    int32_t g, t;
    for (g = 0; g < groups; ++g) {
        for (t = 0; t < 9; ++t) {
            const uint32_t v = sg_load4(w + t * C + c0 + 4 * g);
            *kw++ = sg_sxtb16(v);
            *kw++ = sg_sxtb16_odd(v);
        }
    }
    sg_rq_fast_init(p->out_mult + c0, p->out_shift + c0, 4 * groups, rq);
}

/* One tap of a group: `xp` points at channel c of the tap's input pixel, `kp` at its packed weights. */
#define SG_DW3_TAP(xp, kp)                                                                         \
    do {                                                                                           \
        const uint32_t vx_ = sg_load4(xp);                                                         \
        const uint32_t xe_ = sg_sxtb16(vx_), xo_ = sg_sxtb16_odd(vx_);                             \
        a0 = sg_smlabb(xe_, (kp)[0], a0);                                                          \
        a2 = sg_smlatt(xe_, (kp)[0], a2);                                                          \
        a1 = sg_smlabb(xo_, (kp)[1], a1);                                                          \
        a3 = sg_smlatt(xo_, (kp)[1], a3);                                                          \
    } while (0)

/* Groups [0, groups) of one interior pixel: `x` is the top-left tap's pixel at the pass's first
 * channel c0, `kw`/`rq` the pass's tables, `o` the output pixel at c0. The four accumulators stay
 * in registers through the nine taps; all channels here round half up (c < blocked). */
SG_NOINLINE static void sg_dw3_pixel(const sg_dw3_t *d, const int8_t *x, const uint32_t *kw, const sg_rq_fast_t *rq,
                                     const int32_t *bias, int32_t groups, int8_t *o)
{
    const int32_t C = d->C, C2 = 2 * d->C, row = d->row;
    const int32_t zp = d->zp;
    const uint32_t lo4 = sg_bytes4(d->lo), hi4 = sg_bytes4(d->hi);
    const int32_t *const bias_end = bias + 4 * groups;
    for (; bias != bias_end; bias += 4, x += 4, o += 4, rq += 4) {
        const int8_t *xr = x;
        const uint32_t *const kw_end = kw + 18;
        int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3];
        /* a loop over the three kernel rows, not unrolled: fewer live values, no spills */
        for (; kw != kw_end; kw += 6, xr += row) {
            SG_DW3_TAP(xr, kw);
            SG_DW3_TAP(xr + C, kw + 2);
            SG_DW3_TAP(xr + C2, kw + 4);
        }
        sg_store4(o, sg_rq_fast4(rq, a0, a1, a2, a3, zp, lo4, hi4));
    }
}

/* sg_dw3_pixel for a pixel on the border: the nine taps are given as pointers, a tap in the
 * padding pointing at a row of input zero points (which the effective bias cancels). */
SG_NOINLINE static void sg_dw3_pixel_taps(const sg_dw3_t *d, const int8_t *const *tp, const uint32_t *kw,
                                          const sg_rq_fast_t *rq, const int32_t *bias, int32_t groups, int8_t *o)
{
    const int32_t zp = d->zp;
    const uint32_t lo4 = sg_bytes4(d->lo), hi4 = sg_bytes4(d->hi);
    int32_t g;
    for (g = 0; g < 4 * groups; g += 4, bias += 4, o += 4, rq += 4) {
        const int8_t *const *t = tp;
        const uint32_t *const kw_end = kw + 18;
        int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3];
        for (; kw != kw_end; kw += 6, t += 3) {
            SG_DW3_TAP(t[0] + g, kw);
            SG_DW3_TAP(t[1] + g, kw + 2);
            SG_DW3_TAP(t[2] + g, kw + 4);
        }
        sg_store4(o, sg_rq_fast4(rq, a0, a1, a2, a3, zp, lo4, hi4));
    }
}
#else
#define SG_DW_INTERIOR 0 /* SSE2 and portable C keep the tap-list path for every pixel */
#endif

#if SG_DW_INTERIOR
/* Channels [0, blocked) of every output pixel of a 3x3, dilation 1 layer, SG_DW_GROUPS groups of
 * four channels per pass over the pixels: interior pixels address their taps by offsets, border
 * pixels through a list of tap pointers. */
static void sg_dw3(const sg_dwconv_params_t *p, const int8_t *in, const int8_t *w, int8_t *out, int32_t blocked)
{
    const int32_t C = p->out_c;
    const sg_dw3_t d = {p->bias, p->out_zp, p->act_min, p->act_max, C, p->in_w * C};
    uint32_t kw[SG_DW_GROUPS * 18];
    sg_rq_fast_t rq[SG_DW_GROUPS * 4];
    int8_t zrow[SG_DW_GROUPS * 4];
    const int8_t *tp[9];
    int32_t b, oy, ox, c0, ky, kx;
    memset(zrow, (int8_t)p->in_zp, sizeof zrow);
    for (c0 = 0; c0 < blocked; c0 += 4 * SG_DW_GROUPS) {
        const int32_t groups = (blocked - c0) / 4 < SG_DW_GROUPS ? (blocked - c0) / 4 : SG_DW_GROUPS;
        sg_dw3_tables(p, w, c0, groups, kw, rq);
        for (b = 0; b < p->batches; ++b) {
            const int8_t *in_b = in + b * p->in_h * p->in_w * C + c0;
            for (oy = 0; oy < p->out_h; ++oy) {
                const int32_t iy0 = oy * p->stride_h - p->pad_top;
                const int rows_in = iy0 >= 0 && iy0 + 2 < p->in_h;
                int8_t *o = out + (b * p->out_h + oy) * p->out_w * C + c0;
                for (ox = 0; ox < p->out_w; ++ox, o += C) {
                    const int32_t ix0 = ox * p->stride_w - p->pad_left;
                    if (rows_in && ix0 >= 0 && ix0 + 2 < p->in_w) {
                        sg_dw3_pixel(&d, in_b + (iy0 * p->in_w + ix0) * C, kw, rq, p->bias + c0, groups, o);
                        continue;
                    }
                    for (ky = 0; ky < 3; ++ky) {
                        const int32_t iy = iy0 + ky;
                        for (kx = 0; kx < 3; ++kx) {
                            const int32_t ix = ix0 + kx;
                            const int in_bounds = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
                            tp[ky * 3 + kx] = in_bounds ? in_b + (iy * p->in_w + ix) * C : zrow;
                        }
                    }
                    sg_dw3_pixel_taps(&d, tp, kw, rq, p->bias + c0, groups, o);
                }
            }
        }
    }
}
#endif

#define SG_DW_CHANNELS 256 /* accumulators per pass (1 KiB of stack) */

/* depth_multiplier 1: per output pixel, list the in-bounds taps once, accumulate up to
 * SG_DW_CHANNELS channels through them, add the out-of-bounds taps (they read the input zero
 * point; the bias already holds -in_zp * sum(w)), then requantise the row of accumulators. */
static void sg_dw_mult1(const sg_dwconv_params_t *p, const int8_t *in, const int8_t *w, int8_t *out)
{
    const sg_rq_t rq = {p->out_mult, p->out_shift, p->out_zp, p->act_min, p->act_max};
    const int32_t in_zp = p->in_zp;
    const int32_t C = p->out_c;
    const int32_t blocked = C - C % 8;
    const int dw3 = SG_DW_INTERIOR && p->k_h == 3 && p->k_w == 3 && p->dil_h == 1 && p->dil_w == 1 &&
                    sg_rq_fast_ok(p->out_shift, blocked);
    const int32_t first = dw3 ? blocked : 0; /* sg_dw3 does channels [0, blocked) */
    sg_tap_t taps[SG_DW_MAX_TAPS];
    const int8_t *pad_k[SG_DW_MAX_TAPS];
    int32_t acc[SG_DW_CHANNELS];
    int32_t b, oy, ox, ky, kx, c0, j, t;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + b * p->in_h * p->in_w * C;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                int8_t *o = out + ((b * p->out_h + oy) * p->out_w + ox) * C;
                int32_t n_in = 0, n_pad = 0;
                if (first == C) {
                    continue;
                }
                for (ky = 0; ky < p->k_h; ++ky) {
                    const int32_t iy = iy0 + ky * p->dil_h;
                    for (kx = 0; kx < p->k_w; ++kx) {
                        const int32_t ix = ix0 + kx * p->dil_w;
                        const int8_t *k = w + (ky * p->k_w + kx) * C;
                        if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w) {
                            taps[n_in].x = in_b + (iy * p->in_w + ix) * C;
                            taps[n_in++].k = k;
                        } else {
                            pad_k[n_pad++] = k;
                        }
                    }
                }
                for (c0 = first; c0 < C; c0 += SG_DW_CHANNELS) {
                    const int32_t n = C - c0 < SG_DW_CHANNELS ? C - c0 : SG_DW_CHANNELS;
                    sg_dw_accumulate(taps, n_in, c0, n, p->bias, acc);
                    for (t = 0; t < n_pad; ++t) {
                        const int8_t *k = pad_k[t] + c0;
                        for (j = 0; j < n; ++j) {
                            acc[j] += in_zp * k[j];
                        }
                    }
                    sg_dw_store(&rq, acc, c0, n, blocked, o + c0);
                }
            }
        }
    }
#if SG_DW_INTERIOR
    if (dw3 && blocked > 0) {
        sg_dw3(p, in, w, out, blocked);
    }
#endif
}

#define SG_DW_CHUNK 64

void sg_depthwise_conv2d_s8(const sg_dwconv_params_t *p, const int8_t *in, const int8_t *w,
                            int8_t *out)
{
    const int32_t in_c = p->in_c;
    const int32_t out_c = p->out_c;
    const int32_t mult = p->depth_multiplier;
    const int32_t blocked = out_c - out_c % 8;
    const sg_rq_t rq = {p->out_mult, p->out_shift, p->out_zp, p->act_min, p->act_max};
    const int32_t *bias = p->bias;
    int32_t b, oy, ox, ky, kx, c0, j;
    int32_t acc[SG_DW_CHUNK];

    if (mult == 1 && p->k_h * p->k_w <= SG_DW_MAX_TAPS) {
        sg_dw_mult1(p, in, w, out);
        return;
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + b * p->in_h * p->in_w * in_c;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                int8_t *o = out + ((b * p->out_h + oy) * p->out_w + ox) * out_c;
                for (c0 = 0; c0 < out_c; c0 += SG_DW_CHUNK) {
                    const int32_t n = out_c - c0 < SG_DW_CHUNK ? out_c - c0 : SG_DW_CHUNK;
                    for (j = 0; j < n; ++j) {
                        acc[j] = bias[c0 + j];
                    }
                    for (ky = 0; ky < p->k_h; ++ky) {
                        const int32_t iy = iy0 + ky * p->dil_h;
                        for (kx = 0; kx < p->k_w; ++kx) {
                            const int32_t ix = ix0 + kx * p->dil_w;
                            const int8_t *wt = w + (ky * p->k_w + kx) * out_c + c0;
                            if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w) {
                                const int8_t *x = in_b + (iy * p->in_w + ix) * in_c;
                                for (j = 0; j < n; ++j) {
                                    acc[j] += (int32_t)x[(c0 + j) / mult] * wt[j];
                                }
                            } else {
                                for (j = 0; j < n; ++j) {
                                    acc[j] += p->in_zp * wt[j];
                                }
                            }
                        }
                    }
                    for (j = 0; j < n; ++j) {
                        o[c0 + j] = sg_rq_dw(&rq, acc[j], c0 + j, blocked);
                    }
                }
            }
        }
    }
}
