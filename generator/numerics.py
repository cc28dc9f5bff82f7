"""Float arithmetic that must match TFLite's built-in kernels bit for bit.

The pip builds of TFLite/LiteRT for x86 compile the NEON code paths through NEON_2_SSE, so the
"optimized" arithmetic is what runs: DEQUANTIZE multiplies and adds in float32 (two roundings) for
every full block of 8 elements, and evaluates float(double(scale) * (q - zp)) for the tail."""

from __future__ import annotations

import numpy as np


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """int8/uint8 → float32 exactly as TFLite's optimized DEQUANTIZE (per-tensor quantization)."""
    flat = np.ascontiguousarray(q).reshape(-1).astype(np.int32)
    out = np.empty(flat.shape, dtype=np.float32)
    blocked = flat.size - flat.size % 8
    scale_f = np.float32(scale)
    zero_times_scale = np.float32(-zero_point * np.float64(scale_f))
    out[:blocked] = flat[:blocked].astype(np.float32) * scale_f + zero_times_scale
    out[blocked:] = (np.float64(scale_f) * (flat[blocked:] - zero_point)).astype(np.float32)
    return out.reshape(np.shape(q))
