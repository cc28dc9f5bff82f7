/*
 * stm32gen int8 kernel library: one function per operator, bit-exact with the LiteRT built-in
 * (optimized) CPU kernels for int8 TFLite models.
 *
 * Plain C99, no heap, only memcpy/memset from libc. Copied verbatim into generated projects:
 * compile every sg_*.c of this directory. Build with -ffp-contract=off and without -ffast-math
 * (GCC's -std=c99 implies the former, -std=gnu99 does not): SOFTMAX and DEQUANTIZE reproduce
 * LiteRT's float32 arithmetic step by step.
 * On cores with the DSP extension (__ARM_FEATURE_DSP: Cortex-M4/M7/M33/M55) the convolutions use
 * SMLAD/SXTB16 through <arm_acle.h>; elsewhere portable C. Both give the same bytes (the sums are
 * exact); -DSG_EMULATE_DSP builds the DSP path on a host for testing. The DSP path also has its own
 * loop structure (sg_conv.c): 1x1 and small-field convolutions four output channels at a time over
 * weights sign-extended once per call, 3x3 depthwise four channels in registers through the nine
 * taps; they need up to ~2 KiB of stack per call (tables), which the firmware's stack sizing sees.
 * Which LiteRT code path each kernel reproduces (and how that was established) is written at the
 * kernel; tests/test_kernels_*.py compare every operator of the real models, 240 random
 * single-operator models, and a Cortex-M7 build in QEMU, byte for byte with LiteRT.
 *
 * Calling convention: every kernel is  sg_<op>(const params *p, inputs..., output)
 *  - `p` points to a per-operator parameter struct that never changes at run time, so the
 *    generated network keeps them in a `static const` table (flash). Pointer fields in a params
 *    struct (per-channel multipliers, shifts, effective biases, LUTs) point to `static const` arrays.
 *  - Activation and weight data are passed separately as pointers.
 *  - The generator fills the structs from generator/codegen/kernel_params.py (`kernel_calls(op)`);
 *    emit them with designated initialisers from its (type, field, value) list, never by position.
 *
 * Layouts: activations NHWC (batch outermost, channels innermost, contiguous).
 *          CONV_2D weights OHWI (out channel, kernel row, kernel col, in channel), int8, zero point 0.
 *          DEPTHWISE_CONV_2D weights 1HWO, O = in_c * depth_multiplier, output channel
 *          o = ic * depth_multiplier + m.
 * Requantisation: `mult` is a Q31 multiplier in [2^30, 2^31) (or 0), `shift` is TFLite's exponent
 *          (> 0 shifts left, < 0 shifts right), one pair per output channel for convolutions.
 * Offsets: `*_zp` are zero points as stored in the model (the kernels subtract/add them).
 */
#ifndef STM32GEN_KERNELS_H
#define STM32GEN_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CONV_2D. Padding is explicit (pad_top/pad_left; bottom/right follow from out_h/out_w), so SAME,
 * VALID and a folded PAD are all the same kernel. `bias` holds the effective bias
 * bias[o] - in_zp * sum(w[o]) (precomputed), one int32 per output channel; padded taps read in_zp. */
typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_top, pad_left;
    int32_t in_zp;
    int32_t out_zp;
    int32_t act_min, act_max;     /* int8 range after fused RELU/RELU6 */
    const int32_t *bias;          /* [out_c] effective bias (see above) */
    const int32_t *out_mult;      /* [out_c] */
    const int32_t *out_shift;     /* [out_c] */
} sg_conv_params_t;

void sg_conv2d_s8(const sg_conv_params_t *p, const int8_t *in, const int8_t *w, int8_t *out);

/* DEPTHWISE_CONV_2D, same conventions as CONV_2D; out_c = in_c * depth_multiplier.
 * As in LiteRT, channels in whole blocks of 8 requantise rounding half up, the out_c % 8 last
 * channels rounding half away from zero. */
typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t depth_multiplier;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_top, pad_left;
    int32_t in_zp;
    int32_t out_zp;
    int32_t act_min, act_max;
    const int32_t *bias;          /* [out_c] effective bias bias[o] - in_zp * sum(w[.., o]) */
    const int32_t *out_mult;      /* [out_c] */
    const int32_t *out_shift;     /* [out_c] */
} sg_dwconv_params_t;

void sg_depthwise_conv2d_s8(const sg_dwconv_params_t *p, const int8_t *in, const int8_t *w,
                            int8_t *out);

/* ADD of two same-shape int8 tensors (TFLite int8 rescaling with left_shift = 20).
 * In-place safe: `out` may equal `a` or `b`. */
typedef struct {
    int32_t size;                 /* elements */
    int32_t a_zp, b_zp, out_zp;
    int32_t left_shift;
    int32_t a_mult, a_shift;
    int32_t b_mult, b_shift;
    int32_t out_mult, out_shift;
    int32_t act_min, act_max;
} sg_add_params_t;

void sg_add_s8(const sg_add_params_t *p, const int8_t *a, const int8_t *b, int8_t *out);

/* CONCATENATION, one call per input: writes input `in` into its slice of `out`.
 * The tensors are viewed as [outer, axis * inner]; this input covers elements
 * [out_start, out_start + in_inner) of every one of the `outer` rows of length out_inner.
 * requantize = 0: plain copy (same quantisation); 1: rescale with mult/shift and zero points. */
typedef struct {
    int32_t outer;
    int32_t in_inner;
    int32_t out_inner;
    int32_t out_start;
    int32_t requantize;
    int32_t in_zp, out_zp;
    int32_t mult, shift;
} sg_concat_part_params_t;

void sg_concat_part_s8(const sg_concat_part_params_t *p, const int8_t *in, int8_t *out);

/* RESIZE_BILINEAR int8 (NHWC), TFLite align_corners / half_pixel_centers semantics, computed as
 * LiteRT's int8 kernel does: in 10-bit fixed point, no floating point. */
typedef struct {
    int32_t batches;
    int32_t in_h, in_w, c;
    int32_t out_h, out_w;
    int32_t align_corners;
    int32_t half_pixel_centers;
} sg_resize_bilinear_params_t;

void sg_resize_bilinear_s8(const sg_resize_bilinear_params_t *p, const int8_t *in, int8_t *out);

/* SOFTMAX int8 -> int8 over the last dimension, LiteRT's LUT-based path: `table` holds the 256
 * float32 values exp(-in_scale * beta * k), k = 0..255, precomputed on the host. */
typedef struct {
    int32_t rows;                 /* product of all dimensions but the last */
    int32_t depth;                /* last dimension */
    int32_t out_zp;
    float out_scale;
    const float *table;           /* [256] */
} sg_softmax_params_t;

void sg_softmax_s8(const sg_softmax_params_t *p, const int8_t *in, int8_t *out);

/* QUANTIZE uint8 -> int8 and int8 -> int8 (requantise). In-place safe (out may alias in). */
typedef struct {
    int32_t size;
    int32_t in_zp, out_zp;
    int32_t mult, shift;
} sg_requant_params_t;

void sg_quantize_u8_s8(const sg_requant_params_t *p, const uint8_t *in, int8_t *out);
void sg_requantize_s8(const sg_requant_params_t *p, const int8_t *in, int8_t *out);

/* DEQUANTIZE int8 -> float32 as LiteRT's vectorised path computes it: in blocks of 8 elements
 * out = (float)in * scale + bias with bias = (float)-zp * scale (two float32 roundings; an FMA would
 * change the last bit); the size % 8 tail elements get (float)(in - zp) * scale. */
typedef struct {
    int32_t size;
    int32_t zp;
    float scale;
    float bias;
} sg_dequantize_params_t;

void sg_dequantize_s8_f32(const sg_dequantize_params_t *p, const int8_t *in, float *out);

/* PAD int8, rank <= 4 (shapes right-aligned into 4 dims), constant pad value. */
typedef struct {
    int32_t in_dims[4];
    int32_t pad_before[4];
    int32_t pad_after[4];
    int32_t pad_value;
} sg_pad_params_t;

void sg_pad_s8(const sg_pad_params_t *p, const int8_t *in, int8_t *out);

/* MEAN over H and W of an NHWC int8 tensor (output [N, C] or [N, 1, 1, C], same bytes).
 * LiteRT takes one of two integer paths, chosen on the host (kernel_params.py):
 *   SG_MEAN_RESCALE   keep_dims = false: (sum - in_zp * h * w) * mult/shift + out_zp, with 1/(h*w)
 *                     folded into the multiplier
 *   SG_MEAN_KEEPDIMS  keep_dims = true: sum * mult/shift + bias (its vectorised blocks of 16
 *                     channels round half up, the remaining channels half away from zero) */
#define SG_MEAN_RESCALE 0
#define SG_MEAN_KEEPDIMS 1
typedef struct {
    int32_t batches;
    int32_t h, w, c;
    int32_t mode;                 /* SG_MEAN_* */
    int32_t in_zp, out_zp;
    int32_t mult, shift;
    int32_t bias;                 /* SG_MEAN_KEEPDIMS */
} sg_mean_params_t;

void sg_mean_hw_s8(const sg_mean_params_t *p, const int8_t *in, int8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* STM32GEN_KERNELS_H */
