"""TFLite's fixed-point quantisation arithmetic, reproduced in Python.

These are the host-side halves of the kernels: multipliers and shifts are computed here exactly as
LiteRT computes them when it prepares an operator (double precision, `std::round` = half away from
zero), and the integer helpers mirror what the C kernels do at run time, so tests and numpy models of
the kernels can use them.
"""

from __future__ import annotations

import math

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def round_half_away(x: float) -> int:
    """C's round(): ties go away from zero (Python's round() goes to even)."""
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite QuantizeMultiplier: real = mult * 2^(shift - 31), mult in [2^30, 2^31).

    Returns (mult, shift) with TFLite's shift convention (> 0 is a left shift). Default build
    (no TFLITE_SINGLE_ROUNDING): shifts above 30 are kept; tiny values flush to (0, 0).
    """
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = round_half_away(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return int(q_fixed), int(shift)


def quantize_multiplier_smaller_than_one(real: float) -> tuple[int, int]:
    """QuantizeMultiplierSmallerThanOneExp: same value, but TFLite insists real < 1."""
    return quantize_multiplier(real)


def saturating_rounding_doubling_high_mul(a: int, b: int) -> int:
    """gemmlowp SaturatingRoundingDoublingHighMul (round half away from zero on the /2^31)."""
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    num = ab + nudge
    # C++ integer division truncates toward zero.
    q = abs(num) >> 31
    return q if num >= 0 else -q


def rounding_divide_by_pot(x: int, exponent: int) -> int:
    """gemmlowp RoundingDivideByPOT: round half away from zero."""
    if exponent == 0:
        return x
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def multiply_by_quantized_multiplier(x: int, mult: int, shift: int) -> int:
    """TFLite MultiplyByQuantizedMultiplier, default (double rounding) build."""
    left = shift if shift > 0 else 0
    right = -shift if shift < 0 else 0
    v = (x * (1 << left)) & 0xFFFFFFFF
    v = v - (1 << 32) if v >= (1 << 31) else v
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(v, mult), right)


def multiply_by_quantized_multiplier_half_up(x: int, mult: int, shift: int) -> int:
    """What LiteRT's vectorised convolution output stages compute (ruy GEMM for CONV_2D, the
    8-channel blocks of DEPTHWISE_CONV_2D): the doubling high multiply and the right shift of
    `multiply_by_quantized_multiplier`, both rounding half up instead of half away from zero."""
    left = shift if shift > 0 else 0
    right = -shift if shift < 0 else 0
    v = (x * (1 << left)) & 0xFFFFFFFF
    v = v - (1 << 32) if v >= (1 << 31) else v
    high = (v * mult + (1 << 30)) >> 31
    return (high + ((1 << right) >> 1)) >> right
