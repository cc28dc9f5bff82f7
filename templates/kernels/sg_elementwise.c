/*
 * Element-wise kernels: ADD, QUANTIZE (requantise), DEQUANTIZE. Each output element depends only
 * on the same-index input element(s), read before the write, so all of them are in-place safe.
 */
#include "stm32gen_kernels.h"
#include "sg_internal.h"

/* TFLite int8 ADD: both inputs are left-shifted by 20 bits, rescaled to a common scale
 * (twice the larger input scale), summed, and rescaled to the output. */
void sg_add_s8(const sg_add_params_t *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t va = (int32_t)((uint32_t)(a[i] - p->a_zp) << p->left_shift);
        const int32_t vb = (int32_t)((uint32_t)(b[i] - p->b_zp) << p->left_shift);
        const int32_t sa = sg_rdbpot(sg_srdhm(va, p->a_mult), (int)-p->a_shift);
        const int32_t sb = sg_rdbpot(sg_srdhm(vb, p->b_mult), (int)-p->b_shift);
        const int32_t sum = sa + sb;
        const int32_t v = sg_rdbpot(sg_srdhm(sum, p->out_mult), (int)-p->out_shift) + p->out_zp;
        out[i] = (int8_t)sg_clamp(v, p->act_min, p->act_max);
    }
}

void sg_quantize_u8_s8(const sg_requant_params_t *p, const uint8_t *in, int8_t *out)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t v = sg_mbqm((int32_t)in[i] - p->in_zp, p->mult, p->shift) + p->out_zp;
        out[i] = (int8_t)sg_clamp(v, -128, 127);
    }
}

void sg_requantize_s8(const sg_requant_params_t *p, const int8_t *in, int8_t *out)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t v = sg_mbqm((int32_t)in[i] - p->in_zp, p->mult, p->shift) + p->out_zp;
        out[i] = (int8_t)sg_clamp(v, -128, 127);
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
