"""What stm32gen can target: one rule per concern, each `(op) -> message | None`.

A rule's docstring is the user-facing statement of the rule; `docs/SUPPORTED_OPS.md` is generated
from them. "Valid model" checks live in the reader; these say whether we can compile it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from generator.errors import UnsupportedModelError, UnsupportedOperatorError
from generator.model.ir import Graph, Operator

SUPPORTED_OPS = (
    "ADD", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEQUANTIZE", "MEAN", "PAD", "QUANTIZE",
    "RESHAPE", "RESIZE_BILINEAR", "SOFTMAX",
)
# Operators that compute on activations: their presence with float data means a float model.
_COMPUTE_OPS = ("ADD", "CONV_2D", "DEPTHWISE_CONV_2D", "MEAN", "RESIZE_BILINEAR", "SOFTMAX", "CONCATENATION", "PAD")

Rule = Callable[[Operator], str | None]
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


@rule
def known_operator(op: Operator) -> str | None:
    """Only these operators remain after folding: ADD, CONCATENATION, CONV_2D, DEPTHWISE_CONV_2D,
    DEQUANTIZE, MEAN, PAD, QUANTIZE, RESHAPE, RESIZE_BILINEAR, SOFTMAX. Shape arithmetic (SHAPE,
    STRIDED_SLICE, PACK, TILE, ...) is accepted only where it folds to constants."""
    if op.type in SUPPORTED_OPS:
        return None
    return "no kernel for it, and its inputs are not constant so it cannot be folded"


@rule
def int8_activations(op: Operator) -> str | None:
    """Activations are int8 (the uint8 model input is quantized once by the first QUANTIZE, and
    DEQUANTIZE may produce float32 outputs)."""
    if op.type not in _COMPUTE_OPS:
        return None
    for t in (*op.inputs[:1], *op.outputs):
        if t is not None and not t.is_constant and t.dtype != np.int8:
            return f"tensor '{t.name}' is {np.dtype(t.dtype).name}; stm32gen compiles int8-quantized models"
    return None


@rule
def mean_over_spatial_axes(op: Operator) -> str | None:
    """MEAN reduces over the spatial axes (1, 2) of an NHWC tensor."""
    if op.type != "MEAN":
        return None
    axes = op.inputs[1].data if len(op.inputs) > 1 and op.inputs[1] is not None and op.inputs[1].is_constant else None
    if axes is None or sorted(int(a) % 4 for a in axes.reshape(-1)) != [1, 2]:
        return "only a mean over height and width is supported"
    return None


@rule
def reshape_keeps_size(op: Operator) -> str | None:
    """RESHAPE keeps the number of elements and the data type (it is a free view of the same bytes)."""
    if op.type != "RESHAPE":
        return None
    src, out = op.inputs[0], op.outputs[0]
    if src.size != out.size or src.dtype != out.dtype:
        return f"'{src.name}' {list(src.shape)} cannot be viewed as {list(out.shape)}"
    return None


def diagnostics(graph: Graph) -> list[tuple[Operator, str]]:
    return [(op, msg) for op in graph.operators for r in RULES if (msg := r(op)) is not None]


def check_support(graph: Graph) -> None:
    """Raise on the first operator stm32gen cannot compile (float models get one model-level line)."""
    found = diagnostics(graph)
    if not found:
        return
    op, msg = found[0]
    if "int8-quantized" in msg:
        raise UnsupportedModelError(
            f"operator #{op.index} {op.type}: {msg} (this is a float model; convert it with full-integer int8 quantization)"
        )
    raise UnsupportedOperatorError(op.type, op.index, msg)


def rules_doc() -> list[dict[str, str]]:
    return [{"rule": r.__name__, "text": " ".join((r.__doc__ or "").split())} for r in RULES]


def supported_ops_markdown() -> str:
    """docs/SUPPORTED_OPS.md, generated from the rules above (`python -m generator.support`)."""
    lines = ["# What stm32gen compiles", "", "Generated from `generator/support.py` by `python -m generator.support`; "
             "a test keeps it current.", "", "| rule | statement |", "| --- | --- |"]
    lines += [f"| `{r['rule']}` | {r['text']} |" for r in rules_doc()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(supported_ops_markdown(), end="")
