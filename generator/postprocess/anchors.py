"""The constant anchor boxes as an int16 fixed-point table.

Anchors are corners (x1, y1, x2, y2) in normalised image coordinates, and ST's anchors reach outside
[0, 1] (about -0.65 .. 1.66 on the real models), so the table uses the finest Q format whose int16
range still holds every value: frac_bits = 14 for those. Rounding to nearest keeps every entry
within half an LSB of the float anchor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator.postprocess.params import PostprocessError

MAX_FRAC_BITS = 15
MIN_FRAC_BITS = 8  # below this (anchors beyond +-128) the input is not a normalised anchor set


@dataclass(frozen=True)
class AnchorTable:
    values: np.ndarray  # int16 [NA, 4]: x1, y1, x2, y2 scaled by 2^frac_bits
    frac_bits: int

    @property
    def num_anchors(self) -> int:
        return int(self.values.shape[0])

    def to_float(self) -> np.ndarray:
        return self.values.astype(np.float64) / (1 << self.frac_bits)


def as_anchor_array(anchors: np.ndarray) -> np.ndarray:
    """[NA, 4] float32 from [NA, 4] or [1, NA, 4]; refuses anything else with the shape it got."""
    a = np.asarray(anchors)
    if a.ndim == 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 2 or a.shape[1] != 4 or a.shape[0] == 0:
        raise PostprocessError(f"anchors must have shape [NA, 4] or [1, NA, 4], got {list(np.shape(anchors))}")
    if not np.issubdtype(a.dtype, np.floating) or not np.all(np.isfinite(a)):
        raise PostprocessError("anchors must be finite floating-point values")
    return a.astype(np.float32)


def quantize_anchors(anchors: np.ndarray) -> AnchorTable:
    a = as_anchor_array(anchors).astype(np.float64)
    for frac_bits in range(MAX_FRAC_BITS, MIN_FRAC_BITS - 1, -1):
        q = np.round(a * (1 << frac_bits))
        if q.min() >= -32768 and q.max() <= 32767:
            return AnchorTable(q.astype(np.int16), frac_bits)
    raise PostprocessError(
        f"anchor values span [{a.min():.3f}, {a.max():.3f}], beyond the int16 Q{MIN_FRAC_BITS} range of the table"
    )
