"""Operator -> kernel call: everything the code generator needs to call templates/kernels.

`kernel_calls(op)` turns one IR operator into the C calls that implement it (one for most ops, one
per input for CONCATENATION, none for a concatenation input already produced in place). Each
`KernelCall` carries the function name, the params struct type, its fields as (C type, field,
value) in struct order, the constant arrays those fields point to, and the tensors passed as pointer
arguments after `&params`. The code generator needs no quantisation maths: it emits

    static const int32_t <prefix>_<array.name>[] = { ... };          for each array
    static const <params_type> <prefix> = { .<field> = <c_value>, ... };
    <function>(&<prefix>, <pointer to args[0]>, ..., <pointer to args[-1]>);

using `c_literal()` for values (an `ArrayRef` value means "the array <prefix>_<name>").
"""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from generator.codegen.quant import quantize_multiplier, round_half_away
from generator.errors import CodegenError
from generator.model.ir import Operator, Tensor


@dataclass(frozen=True)
class ArrayRef:
    """A params field pointing at one of the call's constant arrays."""

    name: str


@dataclass(frozen=True)
class ConstArray:
    name: str  # unique within the call; emitted as <prefix>_<name>
    ctype: str  # "int32_t" or "float"
    values: tuple[Any, ...]


@dataclass(frozen=True)
class KernelCall:
    function: str
    params_type: str
    params: tuple[tuple[str, str, Any], ...]  # (C type, field, value)
    arrays: tuple[ConstArray, ...] = ()
    args: tuple[Tensor, ...] = ()  # pointer arguments after &params: inputs..., output
    op: Operator | None = field(default=None, compare=False)

    def params_dict(self) -> dict[str, Any]:
        return {name: value for _, name, value in self.params}


def c_literal(ctype: str, value: Any, prefix: str = "") -> str:
    """C text for one params value (or array element). Floats are exact hex literals."""
    if isinstance(value, ArrayRef):
        return f"{prefix}_{value.name}"
    if isinstance(value, (tuple, list)):
        return "{" + ", ".join(c_literal(ctype, v) for v in value) + "}"
    if ctype == "float":
        f = float(np.float32(value))
        if f != f or f in (float("inf"), float("-inf")):
            raise CodegenError(f"non-finite float parameter {value!r}")
        return f"{f.hex()}f" if f != 0.0 else "0.0f"
    v = int(value)
    if v == -(1 << 31):
        return "(-2147483647 - 1)"
    return str(v)


# ---------------------------------------------------------------------------------------------
# helpers


def _scale(t: Tensor) -> float:
    if t.quant is None:
        raise CodegenError(f"tensor {t.name!r} has no quantization")
    return t.quant.scalar_scale


def _zp(t: Tensor) -> int:
    if t.quant is None:
        raise CodegenError(f"tensor {t.name!r} has no quantization")
    return t.quant.scalar_zero_point


def _f32(x: float) -> np.float32:
    return np.float32(x)


def _check_dtype(op: Operator, t: Tensor, *dtypes: str) -> None:
    if np.dtype(t.dtype).name not in dtypes:
        raise CodegenError(
            f"operator #{op.index} {op.type}: tensor {t.name!r} is {np.dtype(t.dtype).name}, "
            f"kernels support {', '.join(dtypes)}"
        )


def activation_range(op: Operator, out: Tensor) -> tuple[int, int]:
    """CalculateActivationRangeQuantized: quantise 0/6/±1 with float32 f / scale, C round()."""
    act = op.options.get("fused_activation_function", "NONE")
    scale, zp = _f32(_scale(out)), _zp(out)

    def q(f: float) -> int:
        return zp + round_half_away(float(_f32(f) / scale))

    lo, hi = -128, 127
    if act == "NONE":
        return lo, hi
    if act == "RELU":
        return max(lo, q(0.0)), hi
    if act == "RELU6":
        return max(lo, q(0.0)), min(hi, q(6.0))
    if act == "RELU_N1_TO_1":
        return max(lo, q(-1.0)), min(hi, q(1.0))
    raise CodegenError(f"operator #{op.index} {op.type}: fused activation {act!r} is not supported")


def _nhwc(t: Tensor) -> tuple[int, int, int, int]:
    shape = tuple(int(d) for d in t.shape)
    if len(shape) > 4:
        raise CodegenError(f"tensor {t.name!r} has rank {len(shape)}; kernels support rank <= 4")
    shape = (1,) * (4 - len(shape)) + shape
    return shape  # type: ignore[return-value]


def _same_padding(in_size: int, out_size: int, k: int, stride: int, dil: int) -> int:
    """TFLite ComputePaddingHeightWidth: the leading (top/left) padding; the extra goes last."""
    eff = (k - 1) * dil + 1
    total = max(0, (out_size - 1) * stride + eff - in_size)
    return total // 2


def _conv_padding(op: Operator, in_h: int, in_w: int, out_h: int, out_w: int, k_h: int, k_w: int) -> tuple[int, int]:
    explicit = op.options.get("explicit_padding")
    if explicit is not None:
        top, _bottom, left, _right = (int(v) for v in explicit)
        return top, left
    if op.options.get("padding", "SAME") == "VALID":
        return 0, 0
    sh, sw = int(op.options.get("stride_h", 1)), int(op.options.get("stride_w", 1))
    dh, dw = (
        int(op.options.get("dilation_h_factor", op.options.get("dilation_hfactor", 1))),
        int(op.options.get("dilation_w_factor", op.options.get("dilation_wfactor", 1))),
    )
    return _same_padding(in_h, out_h, k_h, sh, dh), _same_padding(in_w, out_w, k_w, sw, dw)


def _per_channel_requant(
    op: Operator, inp: Tensor, w: Tensor, out: Tensor, channels: int
) -> tuple[list[int], list[int]]:
    """Per output channel: QuantizeMultiplier(double(in_scale) * double(w_scale) / double(out_scale))."""
    if w.quant is None:
        raise CodegenError(f"operator #{op.index} {op.type}: weights {w.name!r} are not quantized")
    if np.any(np.asarray(w.quant.zero_point) != 0):
        raise CodegenError(f"operator #{op.index} {op.type}: weights {w.name!r} have a non-zero zero point")
    w_scales = np.asarray(w.quant.scale, dtype=np.float32).reshape(-1)
    if w_scales.size not in (1, channels):
        raise CodegenError(f"operator #{op.index} {op.type}: {w_scales.size} weight scales for {channels} channels")
    in_s, out_s = float(_f32(_scale(inp))), float(_f32(_scale(out)))
    mults, shifts = [], []
    for c in range(channels):
        ws = float(w_scales[c if w_scales.size > 1 else 0])
        m, s = quantize_multiplier(in_s * ws / out_s)
        mults.append(m)
        shifts.append(s)
    return mults, shifts


def _effective_bias(op: Operator, bias: Tensor | None, w_sums: np.ndarray, in_zp: int) -> list[int]:
    b = np.zeros(w_sums.shape, dtype=np.int64) if bias is None else np.asarray(bias.data, dtype=np.int64).reshape(-1)
    if bias is not None and bias.data is None:
        raise CodegenError(f"operator #{op.index} {op.type}: bias {bias.name!r} is not constant")
    eff = b - np.int64(in_zp) * w_sums.astype(np.int64)
    if np.any(eff > (1 << 31) - 1) or np.any(eff < -(1 << 31)):
        raise CodegenError(f"operator #{op.index} {op.type}: effective bias overflows int32")
    return [int(v) for v in eff]


def _conv_common(op: Operator, depthwise: bool) -> KernelCall:
    inp, w = op.inputs[0], op.inputs[1]
    bias = op.inputs[2] if len(op.inputs) > 2 else None
    out = op.outputs[0]
    assert inp is not None and w is not None
    for t in (inp, w, out):
        _check_dtype(op, t, "int8")
    if w.data is None:
        raise CodegenError(f"operator #{op.index} {op.type}: weights {w.name!r} are not constant")
    n, in_h, in_w, in_c = _nhwc(inp)
    _, out_h, out_w, out_c = _nhwc(out)
    wd = np.asarray(w.data, dtype=np.int8)
    if wd.ndim != 4:
        raise CodegenError(f"operator #{op.index} {op.type}: weights {w.name!r} must be 4-D")
    k_h, k_w = int(wd.shape[1]), int(wd.shape[2])
    if depthwise:
        w_sums = wd.astype(np.int64).sum(axis=(0, 1, 2))
        mult_dm = out_c // in_c if in_c else 0
        if mult_dm * in_c != out_c:
            raise CodegenError(f"operator #{op.index} {op.type}: {out_c} output channels is not a multiple of {in_c}")
    else:
        w_sums = wd.astype(np.int64).sum(axis=(1, 2, 3))
        if int(wd.shape[3]) != in_c:
            raise CodegenError(
                f"operator #{op.index} {op.type}: weights have {wd.shape[3]} input channels, input has {in_c} "
                "(grouped convolution is not supported)"
            )
    in_zp, out_zp = _zp(inp), _zp(out)
    pad_top, pad_left = _conv_padding(op, in_h, in_w, out_h, out_w, k_h, k_w)
    mults, shifts = _per_channel_requant(op, inp, w, out, out_c)
    act_min, act_max = activation_range(op, out)
    bias_eff = _effective_bias(op, bias, w_sums, in_zp)
    opts = op.options
    dil_h = int(opts.get("dilation_h_factor", opts.get("dilation_hfactor", 1)))
    dil_w = int(opts.get("dilation_w_factor", opts.get("dilation_wfactor", 1)))
    fields: list[tuple[str, str, Any]] = [
        ("int32_t", "batches", n),
        ("int32_t", "in_h", in_h),
        ("int32_t", "in_w", in_w),
        ("int32_t", "in_c", in_c),
        ("int32_t", "out_h", out_h),
        ("int32_t", "out_w", out_w),
        ("int32_t", "out_c", out_c),
    ]
    if depthwise:
        fields.append(("int32_t", "depth_multiplier", out_c // in_c))
    fields += [
        ("int32_t", "k_h", k_h),
        ("int32_t", "k_w", k_w),
        ("int32_t", "stride_h", int(opts.get("stride_h", 1))),
        ("int32_t", "stride_w", int(opts.get("stride_w", 1))),
        ("int32_t", "dil_h", dil_h),
        ("int32_t", "dil_w", dil_w),
        ("int32_t", "pad_top", pad_top),
        ("int32_t", "pad_left", pad_left),
        ("int32_t", "in_zp", in_zp),
        ("int32_t", "out_zp", out_zp),
        ("int32_t", "act_min", act_min),
        ("int32_t", "act_max", act_max),
        ("const int32_t *", "bias", ArrayRef("bias")),
        ("const int32_t *", "out_mult", ArrayRef("mult")),
        ("const int32_t *", "out_shift", ArrayRef("shift")),
    ]
    arrays = (
        ConstArray("bias", "int32_t", tuple(bias_eff)),
        ConstArray("mult", "int32_t", tuple(mults)),
        ConstArray("shift", "int32_t", tuple(shifts)),
    )
    if depthwise:
        return KernelCall("sg_depthwise_conv2d_s8", "sg_dwconv_params_t", tuple(fields), arrays, (inp, w, out), op)
    return KernelCall("sg_conv2d_s8", "sg_conv_params_t", tuple(fields), arrays, (inp, w, out), op)


# ---------------------------------------------------------------------------------------------
# per operator


def _conv2d(op: Operator) -> list[KernelCall]:
    return [_conv_common(op, depthwise=False)]


def _depthwise(op: Operator) -> list[KernelCall]:
    return [_conv_common(op, depthwise=True)]


def _add(op: Operator) -> list[KernelCall]:
    a, b = op.inputs[0], op.inputs[1]
    out = op.outputs[0]
    assert a is not None and b is not None
    for t in (a, b, out):
        _check_dtype(op, t, "int8")
    if tuple(a.shape) != tuple(b.shape) or a.size != out.size:
        raise CodegenError(f"operator #{op.index} ADD: broadcasting {list(a.shape)} + {list(b.shape)} is not supported")
    left_shift = 20
    # add.cc: twice_max_input_scale is float*int (exact), the ratios are double.
    sa, sb, so = _f32(_scale(a)), _f32(_scale(b)), _f32(_scale(out))
    twice_max = float(np.float32(2) * max(sa, sb))
    am, ash = quantize_multiplier(float(sa) / twice_max)
    bm, bsh = quantize_multiplier(float(sb) / twice_max)
    om, osh = quantize_multiplier(twice_max / float(np.float32(1 << left_shift) * so))
    act_min, act_max = activation_range(op, out)
    fields = (
        ("int32_t", "size", out.size),
        ("int32_t", "a_zp", _zp(a)),
        ("int32_t", "b_zp", _zp(b)),
        ("int32_t", "out_zp", _zp(out)),
        ("int32_t", "left_shift", left_shift),
        ("int32_t", "a_mult", am),
        ("int32_t", "a_shift", ash),
        ("int32_t", "b_mult", bm),
        ("int32_t", "b_shift", bsh),
        ("int32_t", "out_mult", om),
        ("int32_t", "out_shift", osh),
        ("int32_t", "act_min", act_min),
        ("int32_t", "act_max", act_max),
    )
    return [KernelCall("sg_add_s8", "sg_add_params_t", fields, (), (a, b, out), op)]


def _requant_fields(size: int, inp: Tensor, out: Tensor) -> tuple[tuple[str, str, Any], ...]:
    m, s = quantize_multiplier(float(_f32(_scale(inp))) / float(_f32(_scale(out))))
    return (
        ("int32_t", "size", size),
        ("int32_t", "in_zp", _zp(inp)),
        ("int32_t", "out_zp", _zp(out)),
        ("int32_t", "mult", m),
        ("int32_t", "shift", s),
    )


def _concatenation(op: Operator) -> list[KernelCall]:
    out = op.outputs[0]
    _check_dtype(op, out, "int8")
    rank = len(out.shape)
    axis = int(op.options.get("axis", 0))
    if axis < 0:
        axis += rank
    if not 0 <= axis < rank:
        raise CodegenError(f"operator #{op.index} CONCATENATION: axis {op.options.get('axis')} out of range")
    outer = int(np.prod(out.shape[:axis], dtype=np.int64))
    inner = int(np.prod(out.shape[axis + 1 :], dtype=np.int64))
    out_inner = int(out.shape[axis]) * inner
    calls, start = [], 0
    for t in op.inputs:
        assert t is not None
        _check_dtype(op, t, "int8")
        in_inner = int(t.shape[axis]) * inner
        same_quant = _scale(t) == _scale(out) and _zp(t) == _zp(out)
        in_place = (
            same_quant and t.storage is out.storage and t.storage_offset == out.storage_offset + start and outer == 1
        )
        if not in_place:
            m, s = quantize_multiplier(float(_f32(_scale(t))) / float(_f32(_scale(out))))
            fields = (
                ("int32_t", "outer", outer),
                ("int32_t", "in_inner", in_inner),
                ("int32_t", "out_inner", out_inner),
                ("int32_t", "out_start", start),
                ("int32_t", "requantize", 0 if same_quant else 1),
                ("int32_t", "in_zp", _zp(t)),
                ("int32_t", "out_zp", _zp(out)),
                ("int32_t", "mult", m),
                ("int32_t", "shift", s),
            )
            calls.append(KernelCall("sg_concat_part_s8", "sg_concat_part_params_t", fields, (), (t, out), op))
        start += in_inner
    return calls


def _resize_bilinear(op: Operator) -> list[KernelCall]:
    inp, out = op.inputs[0], op.outputs[0]
    assert inp is not None
    for t in (inp, out):
        _check_dtype(op, t, "int8")
    if _scale(inp) != _scale(out) or _zp(inp) != _zp(out):
        raise CodegenError(f"operator #{op.index} RESIZE_BILINEAR: input and output quantization differ")
    n, in_h, in_w, c = _nhwc(inp)
    _, out_h, out_w, _ = _nhwc(out)
    align = bool(op.options.get("align_corners", False))
    half = bool(op.options.get("half_pixel_centers", False))
    if align and half:
        raise CodegenError(f"operator #{op.index} RESIZE_BILINEAR: align_corners and half_pixel_centers both set")
    fields = (
        ("int32_t", "batches", n),
        ("int32_t", "in_h", in_h),
        ("int32_t", "in_w", in_w),
        ("int32_t", "c", c),
        ("int32_t", "out_h", out_h),
        ("int32_t", "out_w", out_w),
        ("int32_t", "align_corners", int(align)),
        ("int32_t", "half_pixel_centers", int(half)),
    )
    return [KernelCall("sg_resize_bilinear_s8", "sg_resize_bilinear_params_t", fields, (), (inp, out), op)]


def _libm_expf():
    name = ctypes.util.find_library("m")
    if name is None:
        return None
    fn = ctypes.CDLL(name).expf
    fn.restype = ctypes.c_float
    fn.argtypes = [ctypes.c_float]
    return fn


_EXPF = _libm_expf()


def softmax_table(in_scale: float, beta: float) -> list[float]:
    """PopulateSoftmaxLookupTable: table[255 - v] = expf(float(-in_scale * beta) * v), float32
    arithmetic throughout. The C library's expf is used when available so the table matches the
    one LiteRT builds on this host bit for bit."""
    scale = np.float32(-np.float32(in_scale) * np.float32(beta))
    table = [0.0] * 256
    for v in range(256):
        x = np.float32(scale * np.float32(v))
        if _EXPF is None:
            # numpy's exp is not libm's expf: the table could differ from LiteRT's by an ulp
            raise CodegenError("the C math library (libm expf) is not found; SOFTMAX tables need it to "
                               "match TFLite's bit for bit")
        e = _EXPF(float(x))
        table[255 - v] = float(np.float32(e))
    return table


def _softmax(op: Operator) -> list[KernelCall]:
    inp, out = op.inputs[0], op.outputs[0]
    assert inp is not None
    for t in (inp, out):
        _check_dtype(op, t, "int8")
    depth = int(inp.shape[-1])
    rows = inp.size // depth
    beta = float(op.options.get("beta", 1.0))
    fields = (
        ("int32_t", "rows", rows),
        ("int32_t", "depth", depth),
        ("int32_t", "out_zp", _zp(out)),
        ("float", "out_scale", float(_f32(_scale(out)))),
        ("const float *", "table", ArrayRef("table")),
    )
    arrays = (ConstArray("table", "float", tuple(softmax_table(_scale(inp), beta))),)
    return [KernelCall("sg_softmax_s8", "sg_softmax_params_t", fields, arrays, (inp, out), op)]


def _quantize(op: Operator) -> list[KernelCall]:
    inp, out = op.inputs[0], op.outputs[0]
    assert inp is not None
    _check_dtype(op, out, "int8")
    _check_dtype(op, inp, "uint8", "int8")
    fn = "sg_quantize_u8_s8" if np.dtype(inp.dtype) == np.uint8 else "sg_requantize_s8"
    return [KernelCall(fn, "sg_requant_params_t", _requant_fields(out.size, inp, out), (), (inp, out), op)]


def _dequantize(op: Operator) -> list[KernelCall]:
    inp, out = op.inputs[0], op.outputs[0]
    assert inp is not None
    _check_dtype(op, inp, "int8")
    _check_dtype(op, out, "float32")
    scale = _f32(_scale(inp))
    fields = (
        ("int32_t", "size", out.size),
        ("int32_t", "zp", _zp(inp)),
        ("float", "scale", float(scale)),
        ("float", "bias", float(np.float32(np.float32(-_zp(inp)) * scale))),
    )
    return [KernelCall("sg_dequantize_s8_f32", "sg_dequantize_params_t", fields, (), (inp, out), op)]


def _pad(op: Operator) -> list[KernelCall]:
    inp, paddings, out = op.inputs[0], op.inputs[1], op.outputs[0]
    assert inp is not None and paddings is not None
    for t in (inp, out):
        _check_dtype(op, t, "int8")
    if paddings.data is None:
        raise CodegenError(f"operator #{op.index} {op.type}: paddings {paddings.name!r} are not constant")
    pads = np.asarray(paddings.data, dtype=np.int64).reshape(-1, 2)
    rank = len(inp.shape)
    if rank > 4 or pads.shape[0] != rank or np.any(pads < 0):
        raise CodegenError(f"operator #{op.index} {op.type}: paddings {pads.tolist()} are not supported")
    pad_value = _zp(out)
    if len(op.inputs) > 2 and op.inputs[2] is not None:
        cv = op.inputs[2]
        if cv.data is None:
            raise CodegenError(f"operator #{op.index} {op.type}: constant value {cv.name!r} is not constant")
        pad_value = int(np.asarray(cv.data).reshape(-1)[0])
    lead = 4 - rank
    dims = [1] * lead + [int(d) for d in inp.shape]
    before = [0] * lead + [int(p) for p in pads[:, 0]]
    after = [0] * lead + [int(p) for p in pads[:, 1]]
    fields = (
        ("int32_t", "in_dims", tuple(dims)),
        ("int32_t", "pad_before", tuple(before)),
        ("int32_t", "pad_after", tuple(after)),
        ("int32_t", "pad_value", pad_value),
    )
    return [KernelCall("sg_pad_s8", "sg_pad_params_t", fields, (), (inp, out), op)]


SG_MEAN_RESCALE, SG_MEAN_KEEPDIMS = 0, 1


def mean_multiplier(in_scale: float, out_scale: float, count: int) -> tuple[int, int]:
    """keep_dims=false MEAN: QuantizeMultiplier(double in/out), then 1/count folded in by shifting
    the multiplier left by floor(log2(count)) (capped at 32 and at 31 + shift) and dividing."""
    mult, shift = quantize_multiplier(in_scale / out_scale)
    fold = min(count.bit_length() - 1, 32, 31 + shift)
    return (mult << fold) // count, shift - fold


def mean_keepdims_params(
    in_scale: np.float32, in_zp: int, out_scale: np.float32, out_zp: int, count: int
) -> tuple[int, int, int]:
    """keep_dims=true MEAN (LiteRT's optimized Mean4D): float32 maths for the bias and the scale
    in_scale / (count * out_scale), then QuantizeMultiplier."""
    f32 = np.float32
    temp = f32(f32(f32(in_zp) * in_scale) / out_scale)
    temp = f32(temp + f32(0.5)) if temp > 0 else f32(temp - f32(0.5))
    bias = out_zp - int(temp)  # C float -> int conversion truncates
    real = f32(in_scale / f32(f32(count) * out_scale))
    mult, shift = quantize_multiplier(float(real))
    return mult, shift, bias


def _mean(op: Operator) -> list[KernelCall]:
    inp, axes_t, out = op.inputs[0], op.inputs[1], op.outputs[0]
    assert inp is not None and axes_t is not None
    for t in (inp, out):
        _check_dtype(op, t, "int8")
    if len(inp.shape) != 4 or axes_t.data is None:
        raise CodegenError(f"operator #{op.index} MEAN: only constant axes over a 4-D input are supported")
    axes = sorted({int(a) % 4 for a in np.asarray(axes_t.data).reshape(-1)})
    if axes != [1, 2]:
        raise CodegenError(f"operator #{op.index} MEAN: axes {axes} are not supported (only [1, 2])")
    n, h, w, c = _nhwc(inp)
    in_s, out_s = _f32(_scale(inp)), _f32(_scale(out))
    in_zp, out_zp = _zp(inp), _zp(out)
    bias = 0
    if op.options.get("keep_dims", False):
        mode = SG_MEAN_KEEPDIMS
        mult, shift, bias = mean_keepdims_params(in_s, in_zp, out_s, out_zp, h * w)
    else:
        mode = SG_MEAN_RESCALE
        mult, shift = mean_multiplier(float(in_s), float(out_s), h * w)
    fields = (
        ("int32_t", "batches", n),
        ("int32_t", "h", h),
        ("int32_t", "w", w),
        ("int32_t", "c", c),
        ("int32_t", "mode", mode),
        ("int32_t", "in_zp", in_zp),
        ("int32_t", "out_zp", out_zp),
        ("int32_t", "mult", mult),
        ("int32_t", "shift", shift),
        ("int32_t", "bias", bias),
    )
    return [KernelCall("sg_mean_hw_s8", "sg_mean_params_t", fields, (), (inp, out), op)]


_HANDLERS = {
    "CONV_2D": _conv2d,
    "DEPTHWISE_CONV_2D": _depthwise,
    "ADD": _add,
    "CONCATENATION": _concatenation,
    "RESIZE_BILINEAR": _resize_bilinear,
    "SOFTMAX": _softmax,
    "QUANTIZE": _quantize,
    "DEQUANTIZE": _dequantize,
    "PAD": _pad,
    "MEAN": _mean,
}

SUPPORTED_OPS = tuple(sorted(_HANDLERS))


def kernel_calls(op: Operator) -> list[KernelCall]:
    """The kernel calls implementing `op`, in execution order (may be empty for a CONCATENATION
    whose inputs were all produced in place)."""
    handler = _HANDLERS.get(op.type)
    if handler is None:
        raise CodegenError(f"operator #{op.index} {op.type} has no kernel; supported: {', '.join(SUPPORTED_OPS)}")
    return handler(op)


def kernel_call(op: Operator) -> KernelCall:
    """The single kernel call of a one-call operator (every op but a multi-input CONCATENATION)."""
    calls = kernel_calls(op)
    if len(calls) != 1:
        raise CodegenError(f"operator #{op.index} {op.type} needs {len(calls)} kernel calls; use kernel_calls()")
    return calls[0]
