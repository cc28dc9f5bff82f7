"""Small helpers to assemble int8 test graphs the way the TFLite converter quantizes them.

- Activations: asymmetric int8, scale = (max - min) / 255 over a range that always contains 0 (so
  real 0 is exactly representable, as TFLite requires), zero point nudged into [-128, 127].
- Weights: symmetric per output channel, zero point 0, values in [-127, 127].
- Bias: int32, scale = input_scale * weight_scale[c], zero point 0.

Ranges are chosen from simple statistics (mean/std of the real values) rather than a calibration
run: good enough to keep outputs from saturating wholesale on random inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from generator.model.ir import Graph, Operator, Quantization, Tensor

ACTIVATIONS = ("NONE", "RELU", "RELU6")
# How many standard deviations of a roughly Gaussian activation the calibrated range covers; a
# calibration set's min/max sits around here.
RANGE_SIGMAS = 3.5


def quant(scale: float | np.ndarray, zero_point: int | np.ndarray, axis: int = 0) -> Quantization:
    return Quantization(
        np.atleast_1d(np.asarray(scale, dtype=np.float32)),
        np.atleast_1d(np.asarray(zero_point, dtype=np.int64)),
        axis,
    )


def range_quant(lo: float, hi: float, dtype: Any = np.int8) -> Quantization:
    """Asymmetric quantization covering the real range [lo, hi] (widened to contain 0)."""
    info = np.iinfo(dtype)
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if hi - lo < 1e-6:
        hi = lo + 1e-6
    scale = np.float32((hi - lo) / (info.max - info.min))
    zero_point = int(np.clip(np.round(info.min - lo / float(scale)), info.min, info.max))
    return quant(scale, zero_point)


def real_range(q: Quantization, dtype: Any = np.int8) -> tuple[float, float]:
    info = np.iinfo(dtype)
    s, z = q.scalar_scale, q.scalar_zero_point
    return s * (info.min - z), s * (info.max - z)


def uniform_moments(q: Quantization, dtype: Any = np.int8) -> tuple[float, float]:
    """(mean, mean square) of the real value when the raw value is uniform over the whole type."""
    lo, hi = real_range(q, dtype)
    mean = (lo + hi) / 2
    return mean, mean * mean + (hi - lo) ** 2 / 12


def activation_range(lo: float, hi: float, activation: str) -> tuple[float, float]:
    """The calibrated output range after a fused activation (the converter records post-activation
    min/max, so RELU6 outputs get a [0, <=6] range)."""
    if activation == "RELU":
        return 0.0, max(hi, 1e-3)
    if activation == "RELU6":
        return 0.0, min(max(hi, 1e-3), 6.0)
    return lo, hi


def random_input_quant(rng: np.random.Generator, max_width: float = 24.0) -> Quantization:
    """A plausible activation quantization: width 0.5..max_width, sometimes a post-ReLU [0, w]."""
    width = float(np.exp(rng.uniform(np.log(0.5), np.log(max_width))))
    below_zero = 0.0 if rng.random() < 0.3 else float(rng.uniform(0.05, 0.95))
    return range_quant(-width * below_zero, width * (1 - below_zero))


def random_weights(rng: np.random.Generator, shape: tuple[int, ...], axis: int, fan_in: int) -> np.ndarray:
    """Float weights, zero mean, per-channel magnitudes spread log-normally along `axis` (as real
    layers' channels are after batch-norm folding)."""
    std = np.sqrt(1.0 / fan_in) * np.exp(rng.normal(0.0, 0.4, shape[axis]))
    bshape = [1] * len(shape)
    bshape[axis] = shape[axis]
    return rng.normal(0.0, 1.0, shape) * std.reshape(bshape)


def quantize_per_channel(w: np.ndarray, axis: int) -> tuple[np.ndarray, Quantization]:
    """Symmetric per-channel int8 along `axis`: scale = max|w| / 127, zero point 0."""
    others = tuple(d for d in range(w.ndim) if d != axis)
    bshape = [1] * w.ndim
    bshape[axis] = w.shape[axis]
    scale = (np.maximum(np.abs(w).max(axis=others), 1e-8) / 127.0).astype(np.float32)
    q = np.clip(np.round(w / scale.reshape(bshape)), -127, 127).astype(np.int8)
    return q, quant(scale, np.zeros(scale.size, dtype=np.int64), axis)


def weighted_sum_stats(w: np.ndarray, axis: int, in_q: Quantization) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (mean, std) of sum_i w_i * x_i when the raw inputs x are uniform over int8.

    For fixed weights and iid inputs of mean m and variance v the sum has mean m * sum(w) and
    variance v * sum(w^2); padding zeros make the real spread only smaller."""
    mean_x, mean_sq = uniform_moments(in_q)
    var_x = mean_sq - mean_x * mean_x
    others = tuple(d for d in range(w.ndim) if d != axis)
    return mean_x * w.sum(axis=others), np.sqrt(var_x * (w * w).sum(axis=others))


def bias_int32(bias: np.ndarray, input_scale: float, weight_scales: np.ndarray) -> tuple[np.ndarray, Quantization]:
    """Quantize a float bias with scale input_scale * weight_scale (float32 product, as TFLite)."""
    scale = (np.float32(input_scale) * weight_scales.astype(np.float32)).astype(np.float32)
    q = np.clip(np.round(bias / scale.astype(np.float64)), -(2**31), 2**31 - 1).astype(np.int32)
    return q, quant(scale, np.zeros(scale.size, dtype=np.int64), 0)


def conv_weights_and_range(
    rng: np.random.Generator, shape: tuple[int, ...], axis: int, in_q: Quantization, activation: str
) -> tuple[np.ndarray, np.ndarray, Quantization]:
    """Float weights and bias of a convolution plus its calibrated output quantization.

    Under RELU6 the weights are scaled so the pre-activation spread is comparable to 6, as in a
    trained network; otherwise most outputs would clip and the test would exercise nothing."""
    fan_in = int(np.prod(shape)) // shape[axis]
    weights = random_weights(rng, shape, axis, fan_in)
    mean, std = weighted_sum_stats(weights, axis, in_q)
    if activation == "RELU6":
        gain = float(rng.uniform(3.0, 8.0)) / max(float(np.max(np.abs(mean) + RANGE_SIGMAS * std)), 1e-6)
        weights, mean, std = weights * gain, mean * gain, std * gain
    bias = rng.normal(0.0, 0.5, shape[axis]) * np.maximum(std, 1e-3)
    lo, hi = np.min(mean + bias - RANGE_SIGMAS * std), np.max(mean + bias + RANGE_SIGMAS * std)
    return weights, bias, range_quant(*activation_range(float(lo), float(hi), activation))


@dataclass
class GraphBuilder:
    """Collects tensors and operators in execution order; `graph()` returns the finished Graph."""

    description: str = ""
    operators: list[Operator] = field(default_factory=list)
    _names: dict[str, int] = field(default_factory=dict)

    def _unique(self, name: str) -> str:
        n = self._names.get(name, 0)
        self._names[name] = n + 1
        return name if n == 0 else f"{name}_{n}"

    def tensor(self, name: str, shape: tuple[int, ...], dtype: Any = np.int8, q: Quantization | None = None) -> Tensor:
        return Tensor(self._unique(name), tuple(int(d) for d in shape), np.dtype(dtype), q)

    def const(self, name: str, data: np.ndarray, q: Quantization | None = None) -> Tensor:
        data = np.array(data, order="C")  # (ascontiguousarray would turn a scalar into shape [1])
        return Tensor(self._unique(name), tuple(int(d) for d in data.shape), data.dtype, q, data)

    def int32(self, name: str, values: Any) -> Tensor:
        return self.const(name, np.asarray(values, dtype=np.int32))

    def op(
        self, op_type: str, inputs: list[Tensor | None], outputs: list[Tensor],
        options: dict[str, Any] | None = None, version: int = 1,
    ) -> Operator:
        op = Operator(op_type, list(inputs), list(outputs), dict(options or {}), version, len(self.operators))
        self.operators.append(op)
        return op

    def graph(self, inputs: list[Tensor], outputs: list[Tensor], name: str = "main") -> Graph:
        return Graph(list(self.operators), list(inputs), list(outputs), name=name, description=self.description)
