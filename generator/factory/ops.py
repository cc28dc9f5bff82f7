"""Single-operator int8 test models with random shapes and converter-like quantization.

Every `build_*` takes a seeded `numpy.random.Generator` plus optional keyword overrides for the
choices a test may want to pin (activation, padding, ...) and returns .tflite bytes. `op_fixtures`
enumerates a deterministic set of configurations for parametrised tests, cycling the pinned
choices so every combination appears, and drawing the rest (shapes, quantization) at random.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from generator.factory.build import (
    ACTIVATIONS,
    RANGE_SIGMAS,
    GraphBuilder,
    activation_range,
    bias_int32,
    conv_weights_and_range,
    quant,
    quantize_per_channel,
    random_input_quant,
    range_quant,
    real_range,
    uniform_moments,
)
from generator.factory.writer import write_model
from generator.model.ir import Graph

INT8 = np.int8


def _hw(rng: np.random.Generator, lo: int = 1, hi: int = 12) -> tuple[int, int]:
    return int(rng.integers(lo, hi + 1)), int(rng.integers(lo, hi + 1))


def _conv_out(size: int, kernel: int, stride: int, padding: str) -> int:
    return math.ceil(size / stride) if padding == "SAME" else (size - kernel) // stride + 1


def _kernel(rng: np.random.Generator) -> tuple[int, int]:
    """1..5, square four times out of five (as most real kernels are)."""
    kh = int(rng.integers(1, 6))
    return kh, kh if rng.random() < 0.8 else int(rng.integers(1, 6))


def _pick(rng: np.random.Generator, value: Any, choices: tuple[Any, ...]) -> Any:
    return value if value is not None else choices[int(rng.integers(len(choices)))]


def conv2d_graph(
    rng: np.random.Generator, *, kernel: tuple[int, int] | None = None, stride: int | None = None,
    padding: str | None = None, activation: str | None = None,
) -> Graph:
    padding = _pick(rng, padding, ("SAME", "VALID"))
    activation = _pick(rng, activation, ACTIVATIONS)
    stride = _pick(rng, stride, (1, 2))
    kh, kw = kernel or _kernel(rng)
    h, w = _hw(rng, max(kh, kw) if padding == "VALID" else 1)
    cin, cout = int(rng.integers(1, 17)), int(rng.integers(1, 17))
    g = GraphBuilder(f"CONV_2D k{kh}x{kw} s{stride} {padding} {activation} in {h}x{w}x{cin} out {cout}")
    in_q = random_input_quant(rng)
    x = g.tensor("input", (1, h, w, cin), INT8, in_q)
    weights, bias, out_q = conv_weights_and_range(rng, (cout, kh, kw, cin), 0, in_q, activation)
    wq, w_quant = quantize_per_channel(weights, 0)
    bq, b_quant = bias_int32(bias, in_q.scalar_scale, w_quant.scale)
    oh, ow = _conv_out(h, kh, stride, padding), _conv_out(w, kw, stride, padding)
    y = g.tensor("output", (1, oh, ow, cout), INT8, out_q)
    g.op("CONV_2D", [x, g.const("weights", wq, w_quant), g.const("bias", bq, b_quant)], [y],
         _conv_options(padding, stride, activation, quantized_bias_type=True), version=3)
    return g.graph([x], [y])


def _conv_options(padding: str, stride: int, activation: str, quantized_bias_type: bool = False,
                  depth_multiplier: int | None = None) -> dict[str, Any]:
    """Options with the reader's keys (the converter writes every field of the table)."""
    opts: dict[str, Any] = {
        "dilation_hfactor": 1, "dilation_wfactor": 1, "fused_activation_function": activation,
        "padding": padding, "stride_h": stride, "stride_w": stride,
    }
    if quantized_bias_type:
        opts["quantized_bias_type"] = 0
    if depth_multiplier is not None:
        opts["depth_multiplier"] = depth_multiplier
    return opts


def depthwise_conv2d_graph(
    rng: np.random.Generator, *, kernel: tuple[int, int] | None = None, stride: int | None = None,
    padding: str | None = None, activation: str | None = None, depth_multiplier: int | None = None,
) -> Graph:
    padding = _pick(rng, padding, ("SAME", "VALID"))
    activation = _pick(rng, activation, ACTIVATIONS)
    stride = _pick(rng, stride, (1, 2))
    mult = depth_multiplier if depth_multiplier is not None else int(rng.choice([1, 1, 2, 3]))
    kh, kw = kernel or _kernel(rng)
    h, w = _hw(rng, max(kh, kw) if padding == "VALID" else 1)
    cin = int(rng.integers(1, 17))
    cout = cin * mult
    g = GraphBuilder(f"DEPTHWISE_CONV_2D k{kh}x{kw} s{stride} {padding} {activation} x{mult} in {h}x{w}x{cin}")
    in_q = random_input_quant(rng)
    x = g.tensor("input", (1, h, w, cin), INT8, in_q)
    weights, bias, out_q = conv_weights_and_range(rng, (1, kh, kw, cout), 3, in_q, activation)
    wq, w_quant = quantize_per_channel(weights, 3)
    bq, b_quant = bias_int32(bias, in_q.scalar_scale, w_quant.scale)
    oh, ow = _conv_out(h, kh, stride, padding), _conv_out(w, kw, stride, padding)
    y = g.tensor("output", (1, oh, ow, cout), INT8, out_q)
    g.op("DEPTHWISE_CONV_2D", [x, g.const("weights", wq, w_quant), g.const("bias", bq, b_quant)], [y],
         _conv_options(padding, stride, activation, depth_multiplier=mult), version=3)
    return g.graph([x], [y])


def add_graph(rng: np.random.Generator, *, activation: str | None = None) -> Graph:
    activation = _pick(rng, activation, ACTIVATIONS)
    h, w = _hw(rng)
    c = int(rng.integers(1, 33))
    g = GraphBuilder(f"ADD {activation} {h}x{w}x{c}")
    # Under RELU6 the inputs stay small enough that their sum mostly lies below 6.
    max_width = 8.0 if activation == "RELU6" else 24.0
    qa, qb = random_input_quant(rng, max_width), random_input_quant(rng, max_width)
    (ma, sa), (mb, sb) = uniform_moments(qa), uniform_moments(qb)
    mean = ma + mb
    std = math.sqrt(max(sa - ma * ma, 0) + max(sb - mb * mb, 0))
    out_q = range_quant(*activation_range(mean - RANGE_SIGMAS * std, mean + RANGE_SIGMAS * std, activation))
    a = g.tensor("input_a", (1, h, w, c), INT8, qa)
    b = g.tensor("input_b", (1, h, w, c), INT8, qb)
    y = g.tensor("output", (1, h, w, c), INT8, out_q)
    g.op("ADD", [a, b], [y], {"fused_activation_function": activation, "pot_scale_int16": True}, version=2)
    return g.graph([a, b], [y])


def concatenation_graph(rng: np.random.Generator, *, axis: int | None = None, rank: int | None = None) -> Graph:
    """TFLite's int8 CONCATENATION refuses to rescale (Prepare checks that every input has the
    output's scale and zero point), so the converter gives all inputs the output's quantization."""
    rank = rank or (3 if rng.random() < 0.25 else 4)
    axis = axis if axis is not None else int(rng.choice([1, 2, 3, -1, 0] if rank == 4 else [1, 2, -1]))
    base = [1, *(int(d) for d in rng.integers(1, 9, rank - 1))]
    n = int(rng.integers(2, 5))
    shapes = []
    for _ in range(n):
        s = list(base)
        s[axis] = int(rng.integers(1, 6)) if axis != 0 else 1
        shapes.append(tuple(s))
    out_shape = list(base)
    out_shape[axis] = sum(s[axis] for s in shapes)
    g = GraphBuilder(f"CONCATENATION axis {axis} of {[list(s) for s in shapes]}")
    q = random_input_quant(rng)
    xs = [g.tensor(f"input_{k}", s, INT8, q) for k, s in enumerate(shapes)]
    y = g.tensor("output", tuple(out_shape), INT8, q)
    g.op("CONCATENATION", xs, [y], {"axis": axis, "fused_activation_function": "NONE"}, version=2)
    return g.graph(xs, [y])


def resize_bilinear_graph(
    rng: np.random.Generator, *, align_corners: bool | None = None, half_pixel_centers: bool | None = None,
) -> Graph:
    if align_corners is None and half_pixel_centers is None:
        align_corners, half_pixel_centers = [(False, False), (True, False), (False, True)][int(rng.integers(3))]
    align_corners, half_pixel_centers = bool(align_corners), bool(half_pixel_centers)
    h, w = _hw(rng, 1, 10)
    c = int(rng.integers(1, 17))
    if rng.random() < 0.4:
        oh, ow = 2 * h, 2 * w  # the FPN upsampling case
    else:
        oh, ow = _hw(rng, 1, 20)
    g = GraphBuilder(f"RESIZE_BILINEAR {h}x{w}->{oh}x{ow}x{c} align {align_corners} half {half_pixel_centers}")
    q = random_input_quant(rng)
    x = g.tensor("input", (1, h, w, c), INT8, q)
    y = g.tensor("output", (1, oh, ow, c), INT8, q)
    g.op("RESIZE_BILINEAR", [x, g.int32("size", [oh, ow])], [y],
         {"align_corners": align_corners, "half_pixel_centers": half_pixel_centers},
         version=3 if half_pixel_centers else 2)
    return g.graph([x], [y])


def softmax_graph(rng: np.random.Generator, *, rank: int | None = None, beta: float | None = None) -> Graph:
    rank = rank or int(rng.integers(2, 5))
    classes = int(rng.integers(2, 11))
    shape = (1, *(int(d) for d in rng.integers(1, 9, rank - 2)), classes)
    beta = beta if beta is not None else (1.0 if rng.random() < 0.75 else float(np.float32(rng.uniform(0.5, 2.0))))
    g = GraphBuilder(f"SOFTMAX {list(shape)} beta {beta}")
    width = float(rng.uniform(4.0, 40.0))  # logits
    in_q = range_quant(-width * float(rng.uniform(0.3, 0.7)), width)
    x = g.tensor("logits", shape, INT8, in_q)
    # TFLite requires int8 softmax outputs to be quantized with scale 1/256, zero point -128.
    y = g.tensor("probabilities", shape, INT8, quant(1.0 / 256.0, -128))
    g.op("SOFTMAX", [x], [y], {"beta": beta}, version=2)
    return g.graph([x], [y])


QUANTIZE_MODES = ("uint8_shift", "uint8_rescale", "int8_rescale")


def quantize_graph(rng: np.random.Generator, *, mode: str | None = None) -> Graph:
    mode = _pick(rng, mode, QUANTIZE_MODES)
    rank = int(rng.integers(1, 5))
    shape = (1, *(int(d) for d in rng.integers(1, 9, rank - 1))) if rank > 1 else (int(rng.integers(1, 33)),)
    g = GraphBuilder(f"QUANTIZE {mode} {list(shape)}")
    if mode == "uint8_shift":
        # ST's models: raw pixels in, same scale, zero point moved by -128.
        scale, zp = float(rng.choice([1 / 127.5, 1 / 255.0, 1.0])), int(rng.choice([127, 128, 0]))
        in_q, in_dtype, out_q = quant(scale, zp), np.uint8, quant(scale, zp - 128)
    elif mode == "uint8_rescale":
        lo, hi = sorted(rng.uniform(-6, 6, 2))
        in_q, in_dtype = range_quant(lo, hi, np.uint8), np.uint8
        out_q = range_quant(*(np.array(real_range(in_q, np.uint8)) * rng.uniform(0.8, 2.0)))
    else:
        in_q, in_dtype = random_input_quant(rng), INT8
        lo, hi = real_range(in_q)
        out_q = range_quant(lo * rng.uniform(0.8, 2.0), hi * rng.uniform(0.8, 2.0))
    x = g.tensor("input", shape, in_dtype, in_q)
    y = g.tensor("output", shape, INT8, out_q)
    g.op("QUANTIZE", [x], [y], version=1)
    return g.graph([x], [y])


def dequantize_graph(rng: np.random.Generator, *, rank: int | None = None) -> Graph:
    rank = rank or int(rng.integers(1, 5))
    shape = (1, *(int(d) for d in rng.integers(1, 9, rank - 1))) if rank > 1 else (int(rng.integers(1, 33)),)
    g = GraphBuilder(f"DEQUANTIZE {list(shape)}")
    x = g.tensor("input", shape, INT8, random_input_quant(rng))
    y = g.tensor("output", shape, np.float32)
    g.op("DEQUANTIZE", [x], [y], version=2)
    return g.graph([x], [y])


def pad_graph(rng: np.random.Generator, *, paddings: np.ndarray | None = None) -> Graph:
    h, w = _hw(rng, 1, 10)
    c = int(rng.integers(1, 17))
    if paddings is None:
        paddings = np.zeros((4, 2), dtype=np.int32)
        paddings[1:3] = rng.integers(0, 3, (2, 2))
        if rng.random() < 0.25:
            paddings[3] = rng.integers(0, 3, 2)
    paddings = np.asarray(paddings, dtype=np.int32)
    out_shape = tuple(int(d + p.sum()) for d, p in zip((1, h, w, c), paddings, strict=True))
    g = GraphBuilder(f"PAD {h}x{w}x{c} by {paddings.tolist()}")
    q = random_input_quant(rng)  # PAD keeps its input's quantization; the pad value is real 0
    x = g.tensor("input", (1, h, w, c), INT8, q)
    y = g.tensor("output", out_shape, INT8, q)
    g.op("PAD", [x, g.const("paddings", paddings)], [y], version=2)
    return g.graph([x], [y])


def mean_graph(rng: np.random.Generator, *, keep_dims: bool | None = None, same_quant: bool | None = None) -> Graph:
    keep_dims = bool(rng.random() < 0.5) if keep_dims is None else keep_dims
    same = bool(rng.random() < 0.3) if same_quant is None else same_quant
    h, w = _hw(rng, 1, 12)
    c = int(rng.integers(1, 33))
    g = GraphBuilder(f"MEAN axes [1,2] keep_dims {keep_dims} {h}x{w}x{c} {'same' if same else 'own'} quant")
    in_q = random_input_quant(rng)
    if same:
        out_q = in_q
    else:
        # Averaging narrows the range (ST's global pooling: [0, 6] -> [0, 4.8]).
        lo, hi = real_range(in_q)
        # With few elements averaged the mean spreads nearly as wide as one element does.
        shrink = max(float(rng.uniform(0.4, 1.0)), min(1.0, 2.1 / math.sqrt(h * w)))
        mid, half = (lo + hi) / 2, (hi - lo) / 2 * shrink
        out_q = range_quant(mid - half, mid + half)
    x = g.tensor("input", (1, h, w, c), INT8, in_q)
    y = g.tensor("output", (1, 1, 1, c) if keep_dims else (1, c), INT8, out_q)
    g.op("MEAN", [x, g.int32("axes", [1, 2])], [y], {"keep_dims": keep_dims}, version=2)
    return g.graph([x], [y])


RESHAPE_MODES = ("shape_tensor", "shape_tensor_and_option", "wildcard")


def reshape_graph(rng: np.random.Generator, *, mode: str | None = None) -> Graph:
    mode = _pick(rng, mode, RESHAPE_MODES)
    h, w = _hw(rng, 1, 8)
    c = int(rng.integers(1, 17))
    target = [[1, h * w * c], [1, h * w, c], [1, h, w * c], [1, c, w, h], [h * w * c]][int(rng.integers(5))]
    g = GraphBuilder(f"RESHAPE {mode} {[1, h, w, c]} -> {target}")
    q = random_input_quant(rng)
    x = g.tensor("input", (1, h, w, c), INT8, q)
    y = g.tensor("output", tuple(target), INT8, q)
    shape_values = list(target)
    if mode == "wildcard":
        shape_values[int(rng.integers(len(shape_values)))] = -1
    options = {"new_shape": list(target)} if mode == "shape_tensor_and_option" else {}
    g.op("RESHAPE", [x, g.int32("shape", shape_values)], [y], options, version=1)
    return g.graph([x], [y])


GRAPH_BUILDERS: dict[str, Callable[..., Graph]] = {
    "CONV_2D": conv2d_graph,
    "DEPTHWISE_CONV_2D": depthwise_conv2d_graph,
    "ADD": add_graph,
    "CONCATENATION": concatenation_graph,
    "RESIZE_BILINEAR": resize_bilinear_graph,
    "SOFTMAX": softmax_graph,
    "QUANTIZE": quantize_graph,
    "DEQUANTIZE": dequantize_graph,
    "PAD": pad_graph,
    "MEAN": mean_graph,
    "RESHAPE": reshape_graph,
}


def _bytes_builder(make_graph: Callable[..., Graph]) -> Callable[..., bytes]:
    def build(rng: np.random.Generator, **choices: Any) -> bytes:
        return write_model(make_graph(rng, **choices))

    build.__name__ = "build_" + make_graph.__name__.removesuffix("_graph")
    build.__doc__ = f"{make_graph.__name__}(rng, **choices) serialised to .tflite bytes."
    return build


build_conv2d = _bytes_builder(conv2d_graph)
build_depthwise_conv2d = _bytes_builder(depthwise_conv2d_graph)
build_add = _bytes_builder(add_graph)
build_concatenation = _bytes_builder(concatenation_graph)
build_resize_bilinear = _bytes_builder(resize_bilinear_graph)
build_softmax = _bytes_builder(softmax_graph)
build_quantize = _bytes_builder(quantize_graph)
build_dequantize = _bytes_builder(dequantize_graph)
build_pad = _bytes_builder(pad_graph)
build_mean = _bytes_builder(mean_graph)
build_reshape = _bytes_builder(reshape_graph)


def _choices(op_type: str, i: int) -> dict[str, Any]:
    """The pinned choices of configuration i, cycling so every combination shows up."""
    act, pad, stride = ACTIVATIONS[i % 3], ("SAME", "VALID")[(i // 3) % 2], (1, 2)[(i // 6) % 2]
    if op_type == "CONV_2D":
        return {"activation": act, "padding": pad, "stride": stride}
    if op_type == "DEPTHWISE_CONV_2D":
        return {"activation": act, "padding": pad, "stride": stride, "depth_multiplier": (1, 2, 1, 3)[i % 4]}
    if op_type == "ADD":
        return {"activation": act}
    if op_type == "CONCATENATION":
        return {"axis": (1, 2, 3, -1, 0)[i % 5], "rank": 4} if i % 4 else {"axis": 1, "rank": 3}
    if op_type == "RESIZE_BILINEAR":
        ac, hp = [(False, False), (True, False), (False, True)][i % 3]
        return {"align_corners": ac, "half_pixel_centers": hp}
    if op_type == "SOFTMAX":
        return {"rank": 2 + i % 3}
    if op_type == "QUANTIZE":
        return {"mode": QUANTIZE_MODES[i % 3]}
    if op_type == "DEQUANTIZE":
        return {"rank": 1 + i % 4}
    if op_type == "MEAN":
        return {"keep_dims": i % 2 == 0, "same_quant": i % 3 == 2}
    if op_type == "RESHAPE":
        return {"mode": RESHAPE_MODES[i % 3]}
    return {}


def op_graphs(seed: int = 0, count_per_op: int = 20) -> list[tuple[str, Graph]]:
    """Deterministic (name, Graph) configurations: `count_per_op` per operator type."""
    out = []
    for op_index, (op_type, make) in enumerate(GRAPH_BUILDERS.items()):
        for i in range(count_per_op):
            rng = np.random.default_rng([seed, op_index, i])
            out.append((f"{op_type.lower()}-s{seed}-{i:03d}", make(rng, **_choices(op_type, i))))
    return out


def op_fixtures(seed: int = 0, count_per_op: int = 20) -> list[tuple[str, bytes]]:
    """(name, .tflite bytes) for every configuration of `op_graphs` (220 at the defaults)."""
    return [(name, write_model(graph)) for name, graph in op_graphs(seed, count_per_op)]
