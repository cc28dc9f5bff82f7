/*
 * Element-wise kernels: ADD, QUANTIZE (requantise), DEQUANTIZE. Each output element depends only
 * on the same-index input element(s), read before the write, so all of them are in-place safe.
 */
#include "stm32gen_kernels.h"
#include "sg_internal.h"

/* From this many elements on, a per-call table of every int8 input's value pays for itself (the
 * element-wise maths depends on one input byte at a time, so a table gives the same numbers). */
#define SG_TABLE_MIN 1024

/* One input of ADD rescaled to the common scale (see sg_add_s8). */
static int32_t sg_add_scaled(int32_t x, int32_t zp, int32_t left_shift, int32_t mult, int32_t shift)
{
    const int32_t v = (int32_t)((uint32_t)(x - zp) << left_shift);
    return sg_rdbpot(sg_srdhm(v, mult), (int)-shift);
}

/* TFLite int8 ADD: both inputs are left-shifted by 20 bits, rescaled to a common scale
 * (twice the larger input scale), summed, and rescaled to the output. */
void sg_add_s8(const sg_add_params_t *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    const int32_t n = p->size, ls = p->left_shift;
    const int32_t a_zp = p->a_zp, a_mult = p->a_mult, a_shift = p->a_shift;
    const int32_t b_zp = p->b_zp, b_mult = p->b_mult, b_shift = p->b_shift;
    const int32_t out_mult = p->out_mult, out_rsh = -p->out_shift, out_zp = p->out_zp;
    const int32_t lo = p->act_min, hi = p->act_max;
    int32_t i;
    if (n >= SG_TABLE_MIN) {
        int32_t ta[256], tb[256]; /* indexed by the input byte + 128 */
        for (i = 0; i < 256; ++i) {
            ta[i] = sg_add_scaled(i - 128, a_zp, ls, a_mult, a_shift);
            tb[i] = sg_add_scaled(i - 128, b_zp, ls, b_mult, b_shift);
        }
        for (i = 0; i < n; ++i) {
            const int32_t sum = ta[a[i] + 128] + tb[b[i] + 128];
            out[i] = (int8_t)sg_clamp(sg_rdbpot(sg_srdhm(sum, out_mult), out_rsh) + out_zp, lo, hi);
        }
        return;
    }
    for (i = 0; i < n; ++i) {
        const int32_t sum = sg_add_scaled(a[i], a_zp, ls, a_mult, a_shift) + sg_add_scaled(b[i], b_zp, ls, b_mult, b_shift);
        out[i] = (int8_t)sg_clamp(sg_rdbpot(sg_srdhm(sum, out_mult), out_rsh) + out_zp, lo, hi);
    }
}

static int8_t sg_requant1(const sg_requant_params_t *p, int32_t x)
{
    return (int8_t)sg_clamp(sg_mbqm(x - p->in_zp, p->mult, p->shift) + p->out_zp, -128, 127);
}

void sg_quantize_u8_s8(const sg_requant_params_t *p, const uint8_t *in, int8_t *out)
{
    const int32_t n = p->size;
    int32_t i;
    if (n >= SG_TABLE_MIN) {
        int8_t t[256];
        for (i = 0; i < 256; ++i) {
            t[i] = sg_requant1(p, i);
        }
        for (i = 0; i < n; ++i) {
            out[i] = t[in[i]];
        }
        return;
    }
    for (i = 0; i < n; ++i) {
        out[i] = sg_requant1(p, in[i]);
    }
}

void sg_requantize_s8(const sg_requant_params_t *p, const int8_t *in, int8_t *out)
{
    const int32_t n = p->size;
    int32_t i;
    if (n >= SG_TABLE_MIN) {
        int8_t t[256];
        for (i = 0; i < 256; ++i) {
            t[i] = sg_requant1(p, i - 128);
        }
        for (i = 0; i < n; ++i) {
            out[i] = t[in[i] + 128];
        }
        return;
    }
    for (i = 0; i < n; ++i) {
        out[i] = sg_requant1(p, in[i]);
    }
}

void sg_dequantize_s8_f32(const sg_dequantize_params_t *p, const int8_t *in, float *out)
{
    const int32_t blocked = p->size - p->size % 8;
    int32_t i;
    for (i = 0; i < blocked; ++i) {
        const float x = (float)in[i] * p->scale;
        out[i] = x + p->bias;
    }
    for (; i < p->size; ++i) {
        out[i] = (float)((int32_t)in[i] - p->zp) * p->scale;
    }
}
