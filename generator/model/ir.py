"""stm32gen's graph IR: the model as typed Python objects, independent of the flatbuffer.

Tensors and operators refer to each other by object, not by index, so passes can add and remove
them freely. `Graph.operators` is always in execution (topological) order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Quantization:
    """Affine quantization: real = scale * (q - zero_point).

    `scale` and `zero_point` have one element per tensor, or one per slice along `axis`
    (per-channel, e.g. the output channels of CONV_2D weights or axis 3 of DEPTHWISE_CONV_2D weights).
    """

    scale: np.ndarray  # float32 as stored in the model
    zero_point: np.ndarray  # int64
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return self.scale.size > 1

    @property
    def scalar_scale(self) -> float:
        return float(self.scale.reshape(-1)[0])

    @property
    def scalar_zero_point(self) -> int:
        return int(self.zero_point.reshape(-1)[0])

    def to_dict(self) -> dict[str, Any]:
        if self.per_channel:
            return {"scale": self.scale.tolist(), "zero_point": self.zero_point.tolist(), "axis": self.axis}
        return {"scale": self.scalar_scale, "zero_point": self.scalar_zero_point}


@dataclass(eq=False)
class Tensor:
    """One tensor. `data` is set for constants (a read-only numpy view into the model bytes when
    it comes from the file, or a fresh array when a pass computed it)."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    quant: Quantization | None = None
    data: np.ndarray | None = None
    index: int = -1  # index in the source model's tensor table, -1 when created by a pass
    # Set by the alias passes: this tensor owns no memory; its bytes are those of `alias_of` starting
    # `alias_offset` bytes in (a RESHAPE view at 0, a CONCATENATION input at its slice).
    alias_of: Tensor | None = None
    alias_offset: int = 0

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(self.dtype).itemsize

    @property
    def storage(self) -> Tensor:
        """The tensor that owns the bytes (follows aliases to the end)."""
        t = self
        while t.alias_of is not None:
            t = t.alias_of
        return t

    @property
    def storage_offset(self) -> int:
        """Byte offset of this tensor inside `storage`."""
        t, offset = self, 0
        while t.alias_of is not None:
            offset += t.alias_offset
            t = t.alias_of
        return offset

    def __repr__(self) -> str:
        kind = "const " if self.is_constant else ""
        return f"<{kind}Tensor {self.name!r} {list(self.shape)} {np.dtype(self.dtype).name}>"


@dataclass(eq=False)
class Operator:
    """One operator. `type` is the builtin operator name (e.g. "CONV_2D"); `options` holds its
    builtin options with snake_case keys and enum values as names (e.g. padding="SAME")."""

    type: str
    inputs: list[Tensor | None]
    outputs: list[Tensor]
    options: dict[str, Any] = field(default_factory=dict)
    version: int = 1
    index: int = -1  # index in the source model's operator list, -1 when created by a pass

    def __repr__(self) -> str:
        return f"<Operator #{self.index} {self.type}>"


@dataclass(eq=False)
class Graph:
    operators: list[Operator]
    inputs: list[Tensor]
    outputs: list[Tensor]
    name: str = ""
    description: str = ""
    metadata: dict[str, bytes] = field(default_factory=dict)
    # Set by lowering when trailing DEQUANTIZE ops are dropped: the model's float outputs, in order.
    float_outputs: list[Tensor] = field(default_factory=list)

    def tensors(self) -> list[Tensor]:
        """Every tensor referenced by the graph, inputs first, in first-use order, no duplicates."""
        seen: dict[int, Tensor] = {}
        for t in self.inputs:
            seen.setdefault(id(t), t)
        for op in self.operators:
            for t in (*op.inputs, *op.outputs):
                if t is not None:
                    seen.setdefault(id(t), t)
        for t in self.outputs:
            seen.setdefault(id(t), t)
        return list(seen.values())

    def producers(self) -> dict[int, Operator]:
        """id(tensor) -> the operator that writes it."""
        return {id(t): op for op in self.operators for t in op.outputs}

    def consumers(self) -> dict[int, list[Operator]]:
        """id(tensor) -> the operators that read it, in execution order."""
        out: dict[int, list[Operator]] = {}
        for op in self.operators:
            for t in op.inputs:
                if t is not None:
                    out.setdefault(id(t), []).append(op)
        return out

    def op_histogram(self) -> dict[str, int]:
        hist: dict[str, int] = {}
        for op in self.operators:
            hist[op.type] = hist.get(op.type, 0) + 1
        return dict(sorted(hist.items()))

    def __iter__(self) -> Iterator[Operator]:
        return iter(self.operators)
