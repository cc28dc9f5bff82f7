"""LiteRT as the ground truth: its built-in (non-XNNPACK) kernels, with every tensor kept readable.

XNNPACK's int8 results differ from the built-in kernels by up to 30 LSB on these models, so the
default resolver is never used here."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def interpreter(model_path: str | Path):
    """A LiteRT interpreter on the built-in kernels, single-threaded, all intermediates preserved."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(
        model_path=str(model_path),
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        experimental_preserve_all_tensors=True,
        num_threads=1,
    )
    interp.allocate_tensors()
    return interp


def run(interp, image: np.ndarray) -> list[np.ndarray]:
    """Invoke on one NHWC input; return copies of the outputs in model order."""
    detail = interp.get_input_details()[0]
    interp.set_tensor(detail["index"], image.reshape(detail["shape"]).astype(detail["dtype"], copy=False))
    interp.invoke()
    return [interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()]


def tensor(interp, index: int) -> np.ndarray | None:
    """Tensor `index` of the model after the last invoke (None when LiteRT holds no data for it)."""
    try:
        return interp.get_tensor(index).copy()
    except ValueError:
        return None
