/*
 * CONV_2D and DEPTHWISE_CONV_2D, int8 activations and weights, int32 accumulators.
 *
 * The accumulator is exact integer arithmetic, so any summation order gives LiteRT's value; only
 * the requantisation must match it bit for bit (see sg_internal.h for the two roundings).
 * The host folds -in_zp * sum(w) into `bias`, so the inner loops are plain int8 dot products; a tap
 * that falls in the padding reads the input zero point, which cancels exactly as in LiteRT.
 */
#include "stm32gen_kernels.h"
#include "sg_internal.h"

#define SG_CONV_REQUANT sg_mbqm_up

static int32_t sg_dot_s8(const int8_t *a, const int8_t *b, int32_t n)
{
    int32_t acc = 0;
    int32_t i = 0;
#if SG_USE_DSP
    for (; i + 4 <= n; i += 4) {
        const uint32_t va = sg_load4(a + i), vb = sg_load4(b + i);
        acc = sg_smlad(sg_sxtb16(va), sg_sxtb16(vb), acc);
        acc = sg_smlad(sg_sxtb16(sg_ror8(va)), sg_sxtb16(sg_ror8(vb)), acc);
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
static void sg_dot2_s8(const int8_t *x, const int8_t *w0, const int8_t *w1, int32_t n, int32_t *acc0,
                       int32_t *acc1)
{
    int32_t a0 = *acc0, a1 = *acc1;
    int32_t i = 0;
#if SG_USE_DSP
    for (; i + 4 <= n; i += 4) {
        const uint32_t vx = sg_load4(x + i);
        const uint32_t xe = sg_sxtb16(vx), xo = sg_sxtb16(sg_ror8(vx));
        const uint32_t v0 = sg_load4(w0 + i), v1 = sg_load4(w1 + i);
        a0 = sg_smlad(xe, sg_sxtb16(v0), a0);
        a0 = sg_smlad(xo, sg_sxtb16(sg_ror8(v0)), a0);
        a1 = sg_smlad(xe, sg_sxtb16(v1), a1);
        a1 = sg_smlad(xo, sg_sxtb16(sg_ror8(v1)), a1);
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

static int8_t sg_conv_out(const sg_conv_params_t *p, int32_t acc, int32_t oc)
{
    int32_t v = SG_CONV_REQUANT(acc, p->out_mult[oc], p->out_shift[oc]) + p->out_zp;
    return (int8_t)sg_clamp(v, p->act_min, p->act_max);
}

/* 1x1, stride 1, no padding: a GEMM of [pixels x in_c] by [out_c x in_c]^T. Two pixels and two
 * output channels per step so every loaded input and weight word is used twice. */
static void sg_conv1x1_block(const int8_t *x0, const int8_t *x1, const int8_t *w0, const int8_t *w1, int32_t n,
                             int32_t acc[4])
{
    int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
    int32_t i = 0;
#if SG_USE_DSP
    for (; i + 4 <= n; i += 4) {
        const uint32_t u0 = sg_load4(x0 + i), u1 = sg_load4(x1 + i);
        const uint32_t v0 = sg_load4(w0 + i), v1 = sg_load4(w1 + i);
        const uint32_t x0e = sg_sxtb16(u0), x0o = sg_sxtb16(sg_ror8(u0));
        const uint32_t x1e = sg_sxtb16(u1), x1o = sg_sxtb16(sg_ror8(u1));
        const uint32_t w0e = sg_sxtb16(v0), w0o = sg_sxtb16(sg_ror8(v0));
        const uint32_t w1e = sg_sxtb16(v1), w1o = sg_sxtb16(sg_ror8(v1));
        a00 = sg_smlad(x0e, w0e, a00);
        a00 = sg_smlad(x0o, w0o, a00);
        a01 = sg_smlad(x0e, w1e, a01);
        a01 = sg_smlad(x0o, w1o, a01);
        a10 = sg_smlad(x1e, w0e, a10);
        a10 = sg_smlad(x1o, w0o, a10);
        a11 = sg_smlad(x1e, w1e, a11);
        a11 = sg_smlad(x1o, w1o, a11);
    }
#endif
    for (; i < n; ++i) {
        const int32_t v0 = x0[i], v1 = x1[i];
        const int32_t k0 = w0[i], k1 = w1[i];
        a00 += v0 * k0;
        a01 += v0 * k1;
        a10 += v1 * k0;
        a11 += v1 * k1;
    }
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
}

static void sg_conv1x1_s8(const sg_conv_params_t *p, const int8_t *in, const int8_t *w, int8_t *out)
{
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
            acc[0] = p->bias[oc];
            acc[1] = p->bias[oc + 1];
            acc[2] = acc[0];
            acc[3] = acc[1];
            sg_conv1x1_block(x0, x1, w0, w0 + in_c, in_c, acc);
            o0[oc] = sg_conv_out(p, acc[0], oc);
            o0[oc + 1] = sg_conv_out(p, acc[1], oc + 1);
            o1[oc] = sg_conv_out(p, acc[2], oc);
            o1[oc + 1] = sg_conv_out(p, acc[3], oc + 1);
        }
        for (; oc < out_c; ++oc) {
            const int8_t *w0 = w + oc * in_c;
            o0[oc] = sg_conv_out(p, p->bias[oc] + sg_dot_s8(x0, w0, in_c), oc);
            o1[oc] = sg_conv_out(p, p->bias[oc] + sg_dot_s8(x1, w0, in_c), oc);
        }
    }
    for (; px < pixels; ++px) {
        const int8_t *x0 = in + px * in_c;
        int8_t *o0 = out + px * out_c;
        int32_t oc;
        for (oc = 0; oc < out_c; ++oc) {
            o0[oc] = sg_conv_out(p, p->bias[oc] + sg_dot_s8(x0, w + oc * in_c, in_c), oc);
        }
    }
}

void sg_conv2d_s8(const sg_conv_params_t *p, const int8_t *in, const int8_t *w, int8_t *out)
{
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
                        int32_t acc0 = p->bias[oc], acc1 = p->bias[oc + 1];
                        for (ky = 0; ky < p->k_h; ++ky) {
                            const int8_t *row = in_b + ((iy0 + ky * p->dil_h) * p->in_w + ix0) * in_c;
                            for (kx = 0; kx < p->k_w; ++kx) {
                                const int8_t *wt = wo + (ky * p->k_w + kx) * in_c;
                                sg_dot2_s8(row + kx * p->dil_w * in_c, wt, wt + k_size, in_c, &acc0, &acc1);
                            }
                        }
                        o[oc] = sg_conv_out(p, acc0, oc);
                        o[oc + 1] = sg_conv_out(p, acc1, oc + 1);
                    }
                }
                for (; oc < out_c; ++oc) {
                    const int8_t *wo = w + oc * k_size;
                    int32_t acc = p->bias[oc];
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
                    o[oc] = sg_conv_out(p, acc, oc);
                }
            }
        }
    }
}

#define SG_DW_CHUNK 64

void sg_depthwise_conv2d_s8(const sg_dwconv_params_t *p, const int8_t *in, const int8_t *w,
                            int8_t *out)
{
    const int32_t in_c = p->in_c;
    const int32_t out_c = p->out_c;
    const int32_t mult = p->depth_multiplier;
    const int32_t blocked = out_c - out_c % 8; /* LiteRT's vectorised requantisation blocks */
    int32_t b, oy, ox, ky, kx, c0, j;
    int32_t acc[SG_DW_CHUNK];

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
                        acc[j] = p->bias[c0 + j];
                    }
                    for (ky = 0; ky < p->k_h; ++ky) {
                        const int32_t iy = iy0 + ky * p->dil_h;
                        for (kx = 0; kx < p->k_w; ++kx) {
                            const int32_t ix = ix0 + kx * p->dil_w;
                            const int8_t *wt = w + (ky * p->k_w + kx) * out_c + c0;
                            if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w) {
                                const int8_t *x = in_b + (iy * p->in_w + ix) * in_c;
                                if (mult == 1) {
                                    const int8_t *xc = x + c0;
                                    for (j = 0; j < n; ++j) {
                                        acc[j] += (int32_t)xc[j] * wt[j];
                                    }
                                } else {
                                    for (j = 0; j < n; ++j) {
                                        acc[j] += (int32_t)x[(c0 + j) / mult] * wt[j];
                                    }
                                }
                            } else {
                                for (j = 0; j < n; ++j) {
                                    acc[j] += p->in_zp * wt[j];
                                }
                            }
                        }
                    }
                    for (j = 0; j < n; ++j) {
                        const int32_t oc = c0 + j;
                        const int32_t m = p->out_mult[oc], sh = p->out_shift[oc];
                        int32_t v = (oc < blocked ? sg_mbqm_up(acc[j], m, sh) : sg_mbqm(acc[j], m, sh)) + p->out_zp;
                        o[oc] = (int8_t)sg_clamp(v, p->act_min, p->act_max);
                    }
                }
            }
        }
    }
}
