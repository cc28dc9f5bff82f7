/*
 * SOFTMAX int8 -> int8, LiteRT's x86/generic optimized path: a 256-entry float32 table of
 * exp(-in_scale * beta * k) indexed by (x - row max), float32 sum in element order, one reciprocal,
 * and C round() of each rescaled probability. Float32 step by step so the MCU FPU reproduces it.
 */
#include "stm32gen_kernels.h"
#include "sg_internal.h"

/* round() for 0 <= x < 2^23 without libm: truncate, then compare the exact fraction. */
static int32_t sg_round_pos(float x)
{
    int32_t i = (int32_t)x;
    return (x - (float)i >= 0.5f) ? i + 1 : i;
}

void sg_softmax_s8(const sg_softmax_params_t *p, const int8_t *in, int8_t *out)
{
    int32_t r, j;
    for (r = 0; r < p->rows; ++r) {
        const int8_t *x = in + r * p->depth;
        int8_t *o = out + r * p->depth;
        int32_t max_val = -128;
        const float *t;
        float sum = 0.0f;
        float inv;
        for (j = 0; j < p->depth; ++j) {
            if (x[j] > max_val) {
                max_val = x[j];
            }
        }
        /* t[x] = table[255 - max + x]; x in [-128, max] keeps the index in [0, 255]. */
        t = p->table + 255 - max_val;
        for (j = 0; j < p->depth; ++j) {
            sum += t[x[j]];
        }
        inv = 1.0f / (sum * p->out_scale);
        for (j = 0; j < p->depth; ++j) {
            const float prob = t[x[j]] * inv;
            const int32_t q = (prob >= 8388608.0f ? 127 : sg_round_pos(prob)) + p->out_zp;
            o[j] = (int8_t)sg_clamp(q, -128, 127);
        }
    }
}
