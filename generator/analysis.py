"""Per-layer figures for `inspect`: output shapes, multiply-accumulates, weight bytes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator.model.ir import Graph, Operator, Tensor


@dataclass(frozen=True)
class LayerInfo:
    index: int
    op: str
    output_shape: tuple[int, ...]
    macs: int
    weight_bytes: int


def op_macs(op: Operator) -> int:
    """Multiply-accumulates of convolutions and fully connected layers (the convention of the
    model zoo's MACC figures: one per weight use per output element; other ops count 0)."""
    out = op.outputs[0]
    if op.type == "CONV_2D":
        _, kh, kw, cin = op.inputs[1].shape
        return out.size * kh * kw * cin
    if op.type == "DEPTHWISE_CONV_2D":
        _, kh, kw, _ = op.inputs[1].shape
        return out.size * kh * kw
    if op.type == "FULLY_CONNECTED":
        return out.size * op.inputs[1].shape[-1]
    return 0


def _weights(op: Operator) -> list[Tensor]:
    """Constant inputs that are data, not shape parameters (paddings, axes, sizes)."""
    if op.type in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        return [t for t in op.inputs[1:] if t is not None and t.is_constant]
    if op.type in ("ADD", "CONCATENATION"):
        return [t for t in op.inputs if t is not None and t.is_constant]
    return []


def layers(graph: Graph) -> list[LayerInfo]:
    return [
        LayerInfo(op.index, op.type, op.outputs[0].shape, op_macs(op), sum(t.nbytes for t in _weights(op)))
        for op in graph.operators
    ]


def weights_bytes(graph: Graph) -> int:
    """Bytes of distinct constant data the network reads, plus constant outputs (anchors)."""
    seen = {id(t): t for op in graph.operators for t in _weights(op)}
    seen.update({id(t): t for t in graph.outputs if t.is_constant})
    return sum(t.nbytes for t in seen.values())


def tensor_summary(t: Tensor) -> dict:
    q = t.quant
    return {
        "name": t.name,
        "shape": list(t.shape),
        "dtype": np.dtype(t.dtype).name,
        "scale": (q.scalar_scale if not q.per_channel else q.scale.tolist()) if q else None,
        "zero_point": (q.scalar_zero_point if not q.per_channel else q.zero_point.tolist()) if q else None,
    }
