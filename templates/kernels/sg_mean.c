/* MEAN over H and W (NHWC int8); see stm32gen_kernels.h for LiteRT's two integer paths. */
#include "stm32gen_kernels.h"
#include "sg_internal.h"

void sg_mean_hw_s8(const sg_mean_params_t *p, const int8_t *in, int8_t *out)
{
    const int32_t count = p->h * p->w;
    const int32_t c = p->c;
    const int32_t blocked = c - c % 16; /* LiteRT's vectorised channel blocks (keep_dims path) */
    int32_t b, ch, i;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + b * count * c;
        for (ch = 0; ch < c; ++ch) {
            int32_t sum = 0;
            int32_t v;
            for (i = 0; i < count; ++i) {
                sum += in_b[i * c + ch];
            }
            if (p->mode == SG_MEAN_KEEPDIMS) {
                v = (ch < blocked ? sg_mbqm_up(sum, p->mult, p->shift) : sg_mbqm(sum, p->mult, p->shift)) + p->bias;
            } else {
                v = sg_mbqm(sum - p->in_zp * count, p->mult, p->shift) + p->out_zp;
            }
            out[b * c + ch] = (int8_t)sg_clamp(v, -128, 127);
        }
    }
}
