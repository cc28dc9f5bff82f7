"""Constant folding: evaluate with numpy every operator whose inputs are known at compile time.

"Known" means a constant tensor, or — for SHAPE — a tensor whose shape is static (stm32gen compiles
for one fixed input size, so every shape is). ST's detectors wrap their heads in SHAPE →
STRIDED_SLICE → PACK chains and tile constant anchors by the batch size; all of it folds away here.

One small rule per operator type. Each evaluator returns the output arrays; the pass checks them
against the shapes the model declares, so a rule that disagrees with TFLite cannot slip through.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from generator.errors import FoldError
from generator.model.ir import Graph, Operator, Quantization, Tensor
from generator.model.reader import MAX_TENSOR_ELEMENTS
from generator.numerics import dequantize

Evaluator = Callable[[Operator, list[np.ndarray | None]], list[np.ndarray]]
FOLDERS: dict[str, Evaluator] = {}


def folds(*op_types: str) -> Callable[[Evaluator], Evaluator]:
    def register(fn: Evaluator) -> Evaluator:
        for t in op_types:
            FOLDERS[t] = fn
        return fn

    return register


def _guard_size(op: Operator, elements: int) -> None:
    if elements > MAX_TENSOR_ELEMENTS:
        raise FoldError(f"operator #{op.index} {op.type} would produce {elements} elements; the model is corrupt")


@folds("SHAPE")
def _shape(op: Operator, vals: list[np.ndarray | None]) -> list[np.ndarray]:
    """The input's shape is static, so SHAPE is a constant whatever the input's values."""
    out_type = op.options.get("out_type", 2)
    dtype = np.int64 if out_type == 4 else np.int32  # TensorType INT64 = 4, INT32 = 2
    return [np.asarray(op.inputs[0].shape, dtype=dtype)]


@folds("STRIDED_SLICE")
def _strided_slice(op: Operator, vals: list[np.ndarray | None]) -> list[np.ndarray]:
    """TFLite's StridedSlice with begin/end/shrink masks on constant data (ellipsis and new-axis
    masks do not occur in the detectors and are refused rather than guessed)."""
    data, begin, end, strides = vals[0], vals[1], vals[2], vals[3]
    o = op.options
    if o.get("ellipsis_mask", 0) or o.get("new_axis_mask", 0):
        raise FoldError(f"operator #{op.index} STRIDED_SLICE uses ellipsis/new-axis masks")
    slices, shrink = [], []
    for axis in range(data.ndim):
        if axis >= len(begin):
            slices.append(slice(None))
            continue
        b, e, s = int(begin[axis]), int(end[axis]), int(strides[axis])
        if s == 0:
            raise FoldError(f"operator #{op.index} STRIDED_SLICE has stride 0")
        if o.get("offset", False):
            e = b + e
        if o.get("begin_mask", 0) >> axis & 1:
            b = None
        if o.get("end_mask", 0) >> axis & 1:
            e = None
        if o.get("shrink_axis_mask", 0) >> axis & 1:
            n = data.shape[axis]
            idx = b if b is not None else 0
            if not -n <= idx < n:
                raise FoldError(f"operator #{op.index} STRIDED_SLICE index {idx} out of range")
            slices.append(slice(idx, idx + 1 if idx != -1 else None, 1))
            shrink.append(axis)
        else:
            slices.append(slice(b, e, s))
    out = data[tuple(slices)]
    return [np.squeeze(out, axis=tuple(shrink)) if shrink else out]


@folds("PACK")
def _pack(op: Operator, vals: list[np.ndarray | None]) -> list[np.ndarray]:
    return [np.stack(vals, axis=op.options.get("axis", 0))]


@folds("TILE")
def _tile(op: Operator, vals: list[np.ndarray | None]) -> list[np.ndarray]:
    data, multiples = vals[0], vals[1]
    if np.any(multiples < 0):
        raise FoldError(f"operator #{op.index} TILE has negative multiples {multiples.tolist()}")
    _guard_size(op, int(np.prod(multiples, dtype=np.float64) * data.size))
    return [np.tile(data, tuple(int(m) for m in multiples))]


@folds("RESHAPE", "SQUEEZE", "EXPAND_DIMS")
def _reshape(op: Operator, vals: list[np.ndarray | None]) -> list[np.ndarray]:
    """The output shape is declared on the output tensor (static), so the data is just relaid."""
    return [vals[0].reshape(op.outputs[0].shape)]


@folds("CONCATENATION")
def _concatenation(op: Operator, vals: list[np.ndarray | None]) -> list[np.ndarray]:
    """Same-quantization inputs are joined as they are (what TFLite's int8 kernel requires); other
    quantized inputs are requantized to the output's parameters like TFLite's uint8 path."""
    out_q = op.outputs[0].quant
    parts = []
    for t, v in zip(op.inputs, vals, strict=True):
        if out_q is not None and t.quant is not None and not _same_quant(t.quant, out_q):
            info = np.iinfo(v.dtype)
            scale = np.float32(t.quant.scalar_scale) / np.float32(out_q.scalar_scale)
            bias = np.float32(-t.quant.scalar_zero_point) * scale
            rq = np.round(v.astype(np.float32) * scale + bias) + out_q.scalar_zero_point
            v = np.clip(rq, info.min, info.max).astype(v.dtype)
        parts.append(v)
    axis = op.options.get("axis", 0)
    return [np.concatenate(parts, axis=axis)]


@folds("DEQUANTIZE")
def _dequantize(op: Operator, vals: list[np.ndarray | None]) -> list[np.ndarray]:
    """Per-tensor: TFLite's optimized arithmetic (see generator.numerics). Per-channel: TFLite's
    reference float(double(scale) * (q - zp))."""
    q = op.inputs[0].quant
    if q is None:
        return [vals[0].astype(np.float32)]
    if not q.per_channel:
        return [dequantize(vals[0], q.scalar_scale, q.scalar_zero_point)]
    v = vals[0].astype(np.int64)
    shape = [1] * v.ndim
    shape[q.axis] = -1
    scale, zp = q.scale.astype(np.float64).reshape(shape), q.zero_point.reshape(shape)
    return [(scale * (v - zp)).astype(np.float32)]


@folds("QUANTIZE")
def _quantize(op: Operator, vals: list[np.ndarray | None]) -> list[np.ndarray]:
    """Only float → integer is folded (round half away from zero, as TFLite's AffineQuantize);
    an integer requantization of a constant does not occur in the detectors."""
    src, out = op.inputs[0], op.outputs[0]
    if src.dtype != np.float32 or out.quant is None:
        raise _NotFoldable
    info = np.iinfo(out.dtype)
    x = vals[0].astype(np.float32) / np.float32(out.quant.scalar_scale)
    rounded = np.sign(x) * np.floor(np.abs(x) + np.float32(0.5))
    return [np.clip(rounded + out.quant.scalar_zero_point, info.min, info.max).astype(out.dtype)]


@folds("CAST")
def _cast(op: Operator, vals: list[np.ndarray | None]) -> list[np.ndarray]:
    return [vals[0].astype(op.outputs[0].dtype)]


@folds("ADD", "SUB", "MUL")
def _int_arith(op: Operator, vals: list[np.ndarray | None]) -> list[np.ndarray]:
    """Shape arithmetic only: unquantized integer tensors without a fused activation."""
    a, b = op.inputs[0], op.inputs[1]
    if a.quant is not None or b.quant is not None or a.dtype.kind != "i" or op.options.get(
        "fused_activation_function", "NONE"
    ) != "NONE":
        raise _NotFoldable
    fn = {"ADD": np.add, "SUB": np.subtract, "MUL": np.multiply}[op.type]
    return [fn(vals[0], vals[1]).astype(op.outputs[0].dtype)]


@folds("GATHER")
def _gather(op: Operator, vals: list[np.ndarray | None]) -> list[np.ndarray]:
    return [np.take(vals[0], vals[1].astype(np.int64), axis=op.options.get("axis", 0))]


class _NotFoldable(Exception):
    """Raised by an evaluator for an input combination it leaves to the runtime kernels."""


def _same_quant(a: Quantization, b: Quantization) -> bool:
    return np.array_equal(a.scale, b.scale) and np.array_equal(a.zero_point, b.zero_point)


def _known(op: Operator) -> list[np.ndarray | None] | None:
    """Input values if all are compile-time facts, else None."""
    vals: list[np.ndarray | None] = []
    for i, t in enumerate(op.inputs):
        if t is None:
            vals.append(None)
        elif t.is_constant:
            vals.append(t.data)
        elif op.type == "SHAPE" and i == 0:
            vals.append(None)  # only the (static) shape is used
        else:
            return None
    return vals


def fold_constants(graph: Graph) -> Graph:
    """Replace every foldable operator by constant data on its outputs."""
    kept = []
    for op in graph.operators:
        fn = FOLDERS.get(op.type)
        vals = _known(op) if fn else None
        if fn is None or vals is None:
            kept.append(op)
            continue
        try:
            results = fn(op, vals)
        except _NotFoldable:
            kept.append(op)
            continue
        except (ValueError, IndexError, TypeError) as exc:
            raise FoldError(f"operator #{op.index} {op.type} cannot be folded: {exc}") from None
        for t, value in zip(op.outputs, results, strict=True):
            _set_constant(op, t, value)
    graph.operators = kept
    return graph


def _set_constant(op: Operator, t: Tensor, value: np.ndarray) -> None:
    value = np.ascontiguousarray(value, dtype=t.dtype)
    if tuple(value.shape) != tuple(t.shape):
        if value.size != t.size:
            raise FoldError(
                f"operator #{op.index} {op.type} folds to shape {list(value.shape)} but the model declares "
                f"{list(t.shape)} for '{t.name}'"
            )
        value = value.reshape(t.shape)
    value.setflags(write=False)
    t.data = value
