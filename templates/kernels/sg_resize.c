/*
 * RESIZE_BILINEAR int8. LiteRT's int8 path is the all-integer one (10-bit fixed-point source
 * coordinates, 20-bit weight products, round half away from zero; reference_ops::
 * ResizeBilinearInteger, which optimized_ops uses for int8).
 */
#include "stm32gen_kernels.h"
#include "sg_internal.h"

static void sg_interp_coord(int32_t value, int32_t scale_10, int32_t half_pixel, int32_t size,
                            int32_t *scaled, int32_t *lo, int32_t *hi)
{
    int32_t s = half_pixel ? value * scale_10 + scale_10 / 2 - (1 << 9) : value * scale_10;
    int32_t l = s / (1 << 10); /* C division truncates toward zero, as LiteRT's does */
    int32_t h = (s + (1 << 10) - 1) / (1 << 10);
    *scaled = s;
    *lo = l > 0 ? l : 0;
    *hi = h < size - 1 ? h : size - 1;
}

void sg_resize_bilinear_s8(const sg_resize_bilinear_params_t *p, const int8_t *in, int8_t *out)
{
    const int32_t c = p->c;
    int32_t sh10 = ((1 << 10) * p->in_h + p->out_h / 2) / p->out_h;
    int32_t sw10 = ((1 << 10) * p->in_w + p->out_w / 2) / p->out_w;
    int32_t b, y, x, ch;
    if (p->align_corners && p->out_h > 1) {
        sh10 = ((1 << 10) * (p->in_h - 1) + (p->out_h - 1) / 2) / (p->out_h - 1);
    }
    if (p->align_corners && p->out_w > 1) {
        sw10 = ((1 << 10) * (p->in_w - 1) + (p->out_w - 1) / 2) / (p->out_w - 1);
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + b * p->in_h * p->in_w * c;
        for (y = 0; y < p->out_h; ++y) {
            int32_t iy, y0, y1;
            int32_t dy, wy0;
            sg_interp_coord(y, sh10, p->half_pixel_centers, p->in_h, &iy, &y0, &y1);
            dy = iy - (1 << 10) * y0;
            wy0 = (1 << 10) - dy;
            for (x = 0; x < p->out_w; ++x) {
                int32_t ix, x0, x1;
                int32_t dx, wx0;
                const int8_t *r00, *r01, *r10, *r11;
                int8_t *o = out + ((b * p->out_h + y) * p->out_w + x) * c;
                sg_interp_coord(x, sw10, p->half_pixel_centers, p->in_w, &ix, &x0, &x1);
                dx = ix - (1 << 10) * x0;
                wx0 = (1 << 10) - dx;
                r00 = in_b + (y0 * p->in_w + x0) * c;
                r01 = in_b + (y0 * p->in_w + x1) * c;
                r10 = in_b + (y1 * p->in_w + x0) * c;
                r11 = in_b + (y1 * p->in_w + x1) * c;
                for (ch = 0; ch < c; ++ch) {
                    /* |value| <= 128 * 2^20 * (weights sum to 2^20), so int64 is only needed
                     * when a weight leaves [0, 2^10] (half-pixel edge); use it throughout. */
                    const int64_t v = (int64_t)r00[ch] * wy0 * wx0 + (int64_t)r10[ch] * dy * wx0 +
                                      (int64_t)r01[ch] * wy0 * dx + (int64_t)r11[ch] * dy * dx;
                    const int64_t r = v + (v > 0 ? (1 << 19) : -(1 << 19));
                    /* truncating division by 2^20 */
                    const int32_t q = (int32_t)(r >= 0 ? (r >> 20) : -((-r) >> 20));
                    o[ch] = (int8_t)q;
                }
            }
        }
    }
}
