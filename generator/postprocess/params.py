"""Post-processing parameters and the integer constants derived from them.

Everything the C code and the bit-exact mirror must agree on is computed here, once: the score
threshold as an int8 level, the IoU threshold as a ratio N/D, and the fixed-point multiplier that
turns (box offset x anchor size) into Q15 coordinates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from generator.errors import Stm32genError
from generator.model.ir import Quantization
from generator.numerics import dequantize

Q15_ONE = 1 << 15  # coordinate scale: value = q / 32768; 1.0 saturates to 32767
Q15_MAX = Q15_ONE - 1
IOU_MAX_DENOMINATOR = 1 << 15  # keeps inter * D inside 64 bits with room to spare
MAX_DETECTIONS_LIMIT = 65535  # the record count must stay addressable by the generated index types


class PostprocessError(Stm32genError):
    """A post-processing parameter or input the generator cannot honour."""


@dataclass(frozen=True)
class PostprocessParams:
    score_threshold: float = 0.5
    iou_threshold: float = 0.5
    max_detections: int = 10

    def __post_init__(self) -> None:
        s, i, m = self.score_threshold, self.iou_threshold, self.max_detections
        if not (isinstance(s, (int, float)) and math.isfinite(s) and 0.0 <= s <= 1.0):
            raise PostprocessError(f"score_threshold {s!r} must be a number in [0, 1]")
        if not (isinstance(i, (int, float)) and math.isfinite(i) and 0.0 <= i <= 1.0):
            raise PostprocessError(f"iou_threshold {i!r} must be a number in [0, 1]")
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or not 1 <= m <= MAX_DETECTIONS_LIMIT:
            raise PostprocessError(f"max_detections {m!r} must be an integer in [1, {MAX_DETECTIONS_LIMIT}]")


@dataclass(frozen=True)
class QuantParams:
    """Per-tensor affine quantization: real = scale * (q - zero_point)."""

    scale: float
    zero_point: int

    def dequantize(self, q: np.ndarray) -> np.ndarray:
        """float32 exactly as LiteRT's DEQUANTIZE produces the model's float outputs (the project's
        one implementation, generator.numerics; docs/contracts.md "Numerics")."""
        return dequantize(np.asarray(q), self.scale, self.zero_point)


def as_quant(q: Quantization | QuantParams | tuple[float, int], what: str) -> QuantParams:
    """Accept the IR's Quantization, a QuantParams or a (scale, zero_point) pair; per-tensor only."""
    if isinstance(q, QuantParams):
        out = q
    elif isinstance(q, Quantization):
        if q.per_channel:
            raise PostprocessError(f"{what} quantization must be per-tensor, got {q.scale.size} scales")
        out = QuantParams(q.scalar_scale, q.scalar_zero_point)
    else:
        scale, zero_point = q
        out = QuantParams(float(scale), int(zero_point))
    if not (math.isfinite(out.scale) and out.scale > 0):
        raise PostprocessError(f"{what} quantization scale {out.scale!r} must be positive and finite")
    if not -128 <= out.zero_point <= 127:
        raise PostprocessError(f"{what} zero point {out.zero_point} is outside the int8 range")
    return out


def score_threshold_level(threshold: float, score_quant: QuantParams) -> int:
    """Smallest int8 q with dequant(q) >= threshold, or 128 when no level reaches it.

    Comparing raw int8 scores against this level selects exactly the candidates whose float score
    (as DEQUANTIZE produces it) passes `score >= threshold`, because dequantization is monotone.
    """
    levels = np.arange(-128, 128)
    passing = levels[score_quant.dequantize(levels) >= threshold]
    return int(passing[0]) if passing.size else 128


def iou_ratio(threshold: float) -> tuple[int, int]:
    """IoU threshold as N/D (D <= 2^15): a box is suppressed when inter * D > union * N.

    Decimal thresholds (0.5, 0.45, 0.6) come out exact; anything else is the nearest such fraction.
    """
    f = Fraction(threshold).limit_denominator(IOU_MAX_DENOMINATOR)
    return f.numerator, f.denominator


@dataclass(frozen=True)
class BoxMultiplier:
    """delta_q15 = (off * size * mult + 2^(shift-1)) >> shift, with off = q - zero_point and size an
    anchor width/height in the anchor table's Q format. mult is in [2^30, 2^31)."""

    mult: int
    shift: int


def box_multiplier(box_quant: QuantParams, anchor_frac_bits: int) -> BoxMultiplier:
    """Fixed-point form of box_scale * 2^(15 - anchor_frac_bits) (anchor units -> Q15)."""
    real = float(np.float32(box_quant.scale)) * 2.0 ** (15 - anchor_frac_bits)
    mantissa, exponent = math.frexp(real)  # real = mantissa * 2^exponent, mantissa in [0.5, 1)
    mult = round(mantissa * (1 << 31))
    shift = 31 - exponent
    if mult == 1 << 31:  # rounding carried into the next power of two
        mult >>= 1
        shift -= 1
    # off * size < 2^24 and mult < 2^31 keep the 64-bit product below 2^55; shift >= 24 keeps the
    # decoded delta (< 2^24 * 2^(31 - shift)) inside int32, and shift <= 62 leaves room for rounding.
    if not 24 <= shift <= 62:
        raise PostprocessError(
            f"box quantization scale {box_quant.scale!r} is outside the supported range "
            f"(box_scale * 2^{15 - anchor_frac_bits} must lie in [2^-32, 2^7))"
        )
    return BoxMultiplier(mult, shift)
