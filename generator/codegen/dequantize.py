"""int8 → float32 exactly as LiteRT's built-in DEQUANTIZE computes it on this host.

Its optimised kernel works in blocks of 8 elements: float32(q) * float32(scale) plus the float32
constant float32(-zero_point * (double)scale), two roundings and no fused multiply-add. The last
`size % 8` elements take the scalar path, float32((double)scale * (q - zero_point)), one rounding.
The two differ by one ulp on some values, so a single-formula dequantize is not bit-exact
(measured on the detectors' box outputs: 3 of 15380 values differ). This is the x86-64 wheel's
arithmetic; an Arm build with FMA fuses the vector multiply-add, which tests against LiteRT would show."""

from __future__ import annotations

import numpy as np

_BLOCK = 8


def tflite_dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Per-tensor dequantize of an int8/uint8 array, bit-identical to LiteRT's built-in kernel."""
    flat = np.asarray(q).reshape(-1)
    scale32 = np.float32(scale)
    out = np.empty(flat.size, dtype=np.float32)
    n = (flat.size // _BLOCK) * _BLOCK
    offset = np.float32(-int(zero_point) * np.float64(scale32))
    with np.errstate(over="ignore"):
        out[:n] = flat[:n].astype(np.float32) * scale32 + offset
        out[n:] = (np.float64(scale32) * (flat[n:].astype(np.float64) - int(zero_point))).astype(np.float32)
    return out.reshape(np.shape(q))
