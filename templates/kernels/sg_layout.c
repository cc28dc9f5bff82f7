/* Data-movement kernels: CONCATENATION (one input per call) and PAD. */
#include <string.h>

#include "stm32gen_kernels.h"
#include "sg_internal.h"

void sg_concat_part_s8(const sg_concat_part_params_t *p, const int8_t *in, int8_t *out)
{
    int32_t o, i;
    for (o = 0; o < p->outer; ++o) {
        const int8_t *src = in + o * p->in_inner;
        int8_t *dst = out + o * p->out_inner + p->out_start;
        if (!p->requantize) {
            if (dst != src) {
                memcpy(dst, src, (size_t)p->in_inner);
            }
        } else {
            for (i = 0; i < p->in_inner; ++i) {
                const int32_t v = sg_mbqm((int32_t)src[i] - p->in_zp, p->mult, p->shift) + p->out_zp;
                dst[i] = (int8_t)sg_clamp(v, -128, 127);
            }
        }
    }
}

void sg_pad_s8(const sg_pad_params_t *p, const int8_t *in, int8_t *out)
{
    const int32_t d0 = p->in_dims[0], d1 = p->in_dims[1], d2 = p->in_dims[2], d3 = p->in_dims[3];
    const int32_t o1 = p->pad_before[1] + d1 + p->pad_after[1];
    const int32_t o2 = p->pad_before[2] + d2 + p->pad_after[2];
    const int32_t o3 = p->pad_before[3] + d3 + p->pad_after[3];
    const int32_t o0 = p->pad_before[0] + d0 + p->pad_after[0];
    const int8_t fill = (int8_t)p->pad_value;
    int32_t a, b, c;
    memset(out, fill, (size_t)o0 * (size_t)o1 * (size_t)o2 * (size_t)o3);
    for (a = 0; a < d0; ++a) {
        for (b = 0; b < d1; ++b) {
            for (c = 0; c < d2; ++c) {
                const int8_t *src = in + ((a * d1 + b) * d2 + c) * d3;
                int8_t *dst = out + (((a + p->pad_before[0]) * o1 + b + p->pad_before[1]) * o2 + c + p->pad_before[2]) * o3 +
                              p->pad_before[3];
                memcpy(dst, src, (size_t)d3);
            }
        }
    }
}
