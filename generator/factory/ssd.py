"""A small SSD-like int8 detector with the structure of ST's models, for demos and tests.

uint8 image -> QUANTIZE -> MobileNet-style CONV/DEPTHWISE stack (one PAD + VALID stride-2
depthwise, as ST's backbone does) -> a two-level FPN (1x1 lateral conv + RESIZE_BILINEAR
half-pixel upsampling + ADD) -> per feature map a class head and a box head, each reshaped through
ST's SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE chain -> CONCATENATION -> SOFTMAX -> DEQUANTIZE
(scores) / DEQUANTIZE (boxes). Anchors are constant int8 [1, h, w, A, 4] tensors tiled by the
batch size (PACK of the shape-derived batch -> TILE), reshaped the same way, concatenated and
dequantized. Outputs in ST's order: scores [1, NA, 2], boxes [1, NA, 4], anchors [1, NA, 4].

The weights are random; the class head's person bias is calibrated (one LiteRT run on synthetic
images) so that a few percent of anchors score above 0.5, so the demo shows detections.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from generator.errors import Stm32genError
from generator.factory.build import GraphBuilder, bias_int32, quant, quantize_per_channel, random_weights, range_quant
from generator.factory.writer import write_model
from generator.model.ir import Graph, Quantization, Tensor
from generator.model.reader import read_model_bytes

INT8 = np.int8
INPUT_QUANT = (1 / 127.5, 127)  # ST's: raw pixels, real = (q - 127) / 127.5
ASPECT_RATIOS = (1.0, 2.0, 0.5)
ANCHORS_PER_CELL = len(ASPECT_RATIOS)
NUM_CLASSES = 2  # background + person, as ST's COCO-person models
# Fraction of anchors the calibration puts above 0.5 on its synthetic images.
TARGET_POSITIVE_FRACTION = 0.03
MIN_INPUT, MAX_INPUT = 32, 320
_CONV_OPTS = {"dilation_hfactor": 1, "dilation_wfactor": 1, "quantized_bias_type": 0}
_DW_OPTS = {"dilation_hfactor": 1, "dilation_wfactor": 1, "depth_multiplier": 1}
_SLICE_OPTS = {
    "begin_mask": 0, "ellipsis_mask": 0, "end_mask": 0, "new_axis_mask": 0, "offset": False, "shrink_axis_mask": 1,
}
_INT32 = 2  # tflite.TensorType.INT32, SHAPE's out_type


@dataclass
class _Net:
    """Building state: the graph so far, the calibrated ranges, and the constants ST shares between
    its shape chains."""

    g: GraphBuilder
    rng: np.random.Generator
    ranges: dict[str, tuple[float, float]]
    begin: Tensor
    one_vec: Tensor
    one: Tensor
    scalars: dict[int, Tensor]

    def scalar(self, value: int) -> Tensor:
        if value not in self.scalars:
            self.scalars[value] = self.g.int32(f"shape_const_{value}", value)
        return self.scalars[value]

    def quant(self, name: str, default: tuple[float, float]) -> Quantization:
        """The calibrated quantization of activation `name`, or a generous first guess."""
        return range_quant(*self.ranges.get(name, default))

    def conv(self, name: str, x: Tensor, cout: int, kernel: int, stride: int, padding: str, activation: str,
             depthwise: bool = False, weight_std: float | None = None, bias: np.ndarray | None = None,
             out_q: Quantization | None = None) -> Tensor:
        q = x.quant
        assert q is not None
        cin = x.shape[3]
        shape, axis = ((1, kernel, kernel, cin), 3) if depthwise else ((cout, kernel, kernel, cin), 0)
        fan_in = kernel * kernel * (1 if depthwise else cin)
        # He initialisation keeps the activations' spread steady through the ReLU layers. The
        # random draws never depend on the ranges, so calibration rounds rebuild the same network.
        weights = random_weights(self.rng, shape, axis, fan_in) * math.sqrt(2.0)
        drawn_bias = self.rng.normal(0.0, 0.1, shape[axis])
        if weight_std is not None:
            weights *= weight_std * math.sqrt(fan_in)
        bias = drawn_bias if bias is None else bias
        wq, w_quant = quantize_per_channel(weights, axis)
        bq, b_quant = bias_int32(bias, q.scalar_scale, w_quant.scale)
        size = [math.ceil(d / stride) if padding == "SAME" else (d - kernel) // stride + 1 for d in x.shape[1:3]]
        default = (0.0, 6.0) if activation == "RELU6" else (-8.0, 8.0)
        y = self.g.tensor(name, (1, *size, shape[axis]), INT8, out_q or self.quant(name, default))
        opts = {**(_DW_OPTS if depthwise else _CONV_OPTS), "fused_activation_function": activation,
                "padding": padding, "stride_h": stride, "stride_w": stride}
        self.g.op("DEPTHWISE_CONV_2D" if depthwise else "CONV_2D",
                  [x, self.g.const(f"{name}/weights", wq, w_quant), self.g.const(f"{name}/bias", bq, b_quant)],
                  [y], opts, version=3)
        return y

    def batch_of(self, t: Tensor) -> Tensor:
        """SHAPE -> STRIDED_SLICE [0:1] with shrink: the batch size as a scalar, as ST computes it."""
        shape = self.g.tensor(f"{t.name}/Shape", (len(t.shape),), np.int32)
        self.g.op("SHAPE", [t], [shape], {"out_type": _INT32}, version=1)
        batch = self.g.tensor(f"{t.name}/strided_slice", (), np.int32)
        self.g.op("STRIDED_SLICE", [shape, self.begin, self.one_vec, self.one_vec], [batch], _SLICE_OPTS, version=1)
        return batch

    def flatten(self, t: Tensor, width: int, batch: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """[1, h, w, A*width] (or [1, h, w, A, width]) -> [1, h*w*A, width] through PACK + RESHAPE."""
        batch = batch if batch is not None else self.batch_of(t)
        rows = int(np.prod(t.shape)) // width
        new_shape = self.g.tensor(f"{t.name}/Reshape/shape", (3,), np.int32)
        self.g.op("PACK", [batch, self.scalar(rows), self.scalar(width)], [new_shape],
                  {"axis": 0, "values_count": 3}, version=1)
        out = self.g.tensor(f"{t.name}/Reshape", (1, rows, width), INT8, t.quant)
        self.g.op("RESHAPE", [t, new_shape], [out], version=1)
        return out, batch


def anchor_boxes(h: int, w: int, scale: float) -> np.ndarray:
    """[h, w, A, 4] normalised corner boxes (x1, y1, x2, y2) centred on each cell, clipped to [0, 1]."""
    cy, cx = np.meshgrid((np.arange(h) + 0.5) / h, (np.arange(w) + 0.5) / w, indexing="ij")
    boxes = np.zeros((h, w, ANCHORS_PER_CELL, 4))
    for a, ratio in enumerate(ASPECT_RATIOS):
        half_w, half_h = scale * math.sqrt(ratio) / 2, scale / math.sqrt(ratio) / 2
        boxes[:, :, a] = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=-1)
    return np.clip(boxes, 0.0, 1.0)


def _quantize(values: np.ndarray, q: Quantization) -> np.ndarray:
    return np.clip(np.round(values / q.scalar_scale) + q.scalar_zero_point, -128, 127).astype(np.int8)


def ssd_graph(
    seed: int = 0, input_size: int = 64, ranges: dict[str, tuple[float, float]] | None = None,
    person_offset: float = 0.0,
) -> Graph:
    """The detector as a Graph. `ranges` maps activation names to calibrated real (min, max), as a
    converter's representative dataset would give; `person_offset` shifts every person logit."""
    if not MIN_INPUT <= input_size <= MAX_INPUT:
        raise Stm32genError(f"SSD test model input size {input_size} is outside [{MIN_INPUT}, {MAX_INPUT}]")
    g = GraphBuilder(f"stm32gen test SSD, seed {seed}, input {input_size}")
    net = _Net(g, np.random.default_rng(seed), ranges or {}, g.int32("strided_slice/stack", [0]),
               g.int32("strided_slice/stack_1", [1]), g.int32("concat/axis", 1), {})
    image = g.tensor("serving_default_input_1:0", (1, input_size, input_size, 3), np.uint8, quant(*INPUT_QUANT))
    x = g.tensor("tfl.quantize", image.shape, INT8, quant(INPUT_QUANT[0], INPUT_QUANT[1] - 128))
    g.op("QUANTIZE", [image], [x], version=1)

    # MobileNet-v1-like backbone, ST's layout: stride-2 depthwise behind an explicit PAD.
    x = net.conv("conv1", x, 8, 3, 2, "SAME", "RELU6")
    x = net.conv("conv_dw_1", x, 8, 3, 1, "SAME", "RELU6", depthwise=True)
    x = net.conv("conv_pw_1", x, 16, 1, 1, "SAME", "RELU6")
    padded = g.tensor("conv_pad_2", (1, x.shape[1] + 1, x.shape[2] + 1, x.shape[3]), INT8, x.quant)
    g.op("PAD", [x, g.int32("conv_pad_2/paddings", [[0, 0], [0, 1], [0, 1], [0, 0]])], [padded], version=2)
    x = net.conv("conv_dw_2", padded, 16, 3, 2, "VALID", "RELU6", depthwise=True)
    x = net.conv("conv_pw_2", x, 32, 1, 1, "SAME", "RELU6")
    x = net.conv("conv_dw_3", x, 32, 3, 2, "SAME", "RELU6", depthwise=True)
    c3 = net.conv("conv_pw_3", x, 48, 1, 1, "SAME", "RELU6")
    x = net.conv("conv_dw_4", c3, 48, 3, 2, "SAME", "RELU6", depthwise=True)
    c4 = net.conv("conv_pw_4", x, 64, 1, 1, "SAME", "RELU6")

    # FPN: the coarse map upsampled (half-pixel bilinear) and added to a lateral 1x1 conv.
    p4 = net.conv("fmap_2", c4, 32, 1, 1, "SAME", "NONE")
    lateral = net.conv("lateral_1", c3, 32, 1, 1, "SAME", "NONE")
    # Upsample to the lateral map's size: 2x, or 2x - 1 when an odd size was halved.
    up = g.tensor("up_sampling2d/resize", lateral.shape, INT8, p4.quant)
    g.op("RESIZE_BILINEAR", [p4, g.int32("up_sampling2d/size", list(lateral.shape[1:3]))], [up],
         {"align_corners": False, "half_pixel_centers": True}, version=3)
    p3 = g.tensor("fmap_1/add", lateral.shape, INT8, net.quant("fmap_1/add", (-16.0, 16.0)))
    g.op("ADD", [lateral, up], [p3], {"fused_activation_function": "NONE", "pot_scale_int16": True}, version=2)

    # Heads: every map's heads share the quantization of their CONCATENATION (int8 concat needs it).
    cls_q = net.quant("classes_concat", (-12.0, 12.0))
    box_q = net.quant("boxes_concat", (-1.0, 1.0))
    anchor_q = range_quant(0.0, 1.0)
    # Background logit +1, person -1 + offset: most anchors are background until calibrated.
    cls_bias = np.tile([1.0, -1.0 + person_offset], ANCHORS_PER_CELL)
    scores, offsets, anchors = [], [], []
    for k, (fmap, scale) in enumerate(((p3, 0.25), (p4, 0.55))):
        head = net.conv(f"class_head_{k}", fmap, NUM_CLASSES * ANCHORS_PER_CELL, 3, 1, "SAME", "NONE",
                        weight_std=1.5 / math.sqrt(3 * 3 * fmap.shape[3]), bias=cls_bias, out_q=cls_q)
        scores.append(net.flatten(head, NUM_CLASSES)[0])
        head = net.conv(f"box_head_{k}", fmap, 4 * ANCHORS_PER_CELL, 3, 1, "SAME", "NONE",
                        weight_std=0.03 / math.sqrt(3 * 3 * fmap.shape[3]), out_q=box_q)
        boxes_k, batch = net.flatten(head, 4)
        offsets.append(boxes_k)
        h, w = fmap.shape[1:3]
        grid = g.const(f"tile_{k}/input", _quantize(anchor_boxes(h, w, scale)[None], anchor_q), anchor_q)
        multiples = g.tensor(f"tile_{k}/multiples", (5,), np.int32)
        g.op("PACK", [batch, net.one, net.one, net.one, net.one], [multiples], {"axis": 0, "values_count": 5})
        tiled = g.tensor(f"tile_{k}", grid.shape, INT8, anchor_q)
        g.op("TILE", [grid, multiples], [tiled], version=3)
        anchors.append(net.flatten(tiled, 4)[0])

    num_anchors = sum(t.shape[1] for t in scores)
    outputs = []
    for name, parts, q, width in (("classes_concat", scores, cls_q, NUM_CLASSES), ("boxes_concat", offsets, box_q, 4),
                                  ("anchors_concat", anchors, anchor_q, 4)):
        cat = g.tensor(name, (1, num_anchors, width), INT8, q)
        g.op("CONCATENATION", parts, [cat], {"axis": 1, "fused_activation_function": "NONE"}, version=2)
        if name == "classes_concat":
            probs = g.tensor("softmax", cat.shape, INT8, quant(1 / 256, -128))
            g.op("SOFTMAX", [cat], [probs], {"beta": 1.0}, version=2)
            cat = probs
        out = g.tensor(f"StatefulPartitionedCall:{2 - len(outputs)}", cat.shape, np.float32)
        g.op("DEQUANTIZE", [cat], [out], version=2)
        outputs.append(out)
    return g.graph([image], outputs)


def calibration_images(seed: int, count: int, size: int) -> np.ndarray:
    """Synthetic photos: smooth colour gradients with a few solid blobs and sensor noise (uint8)."""
    rng = np.random.default_rng([seed, 1])
    yy, xx = np.mgrid[0:size, 0:size] / size
    images = np.empty((count, size, size, 3), dtype=np.uint8)
    for n in range(count):
        img = rng.uniform(40, 200, 3) + rng.uniform(-60, 60, 3) * xx[..., None] + rng.uniform(-60, 60, 3) * yy[..., None]
        for _ in range(int(rng.integers(2, 6))):
            cx, cy, rx, ry = rng.uniform(0, 1, 2).tolist() + rng.uniform(0.05, 0.3, 2).tolist()
            mask = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 < 1
            img[mask] = rng.uniform(0, 255, 3)
        images[n] = np.clip(img + rng.normal(0, 8, img.shape), 0, 255).astype(np.uint8)
    return images


def _observe(model: bytes, images: np.ndarray) -> tuple[dict[str, tuple[float, float]], np.ndarray]:
    """Run LiteRT's built-in kernels over `images`; return every int8 activation's real (min, max)
    and the person - background logit margin of every anchor on every image."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(model_content=model, num_threads=1,
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
                         experimental_preserve_all_tensors=True)
    interp.allocate_tensors()
    constants = {t.name for t in read_model_bytes(model).tensors() if t.is_constant}
    details = [d for d in interp.get_tensor_details() if d["dtype"] == np.int8 and d["name"] not in constants]
    ranges: dict[str, tuple[float, float]] = {}
    margins = []
    for image in images:
        interp.set_tensor(interp.get_input_details()[0]["index"], image[None])
        interp.invoke()
        for d in details:
            scale, zero_point = d["quantization"]
            real = (interp.get_tensor(d["index"]).astype(np.float64) - zero_point) * scale
            lo, hi = ranges.get(d["name"], (np.inf, -np.inf))
            ranges[d["name"]] = (min(lo, float(real.min())), max(hi, float(real.max())))
            if d["name"] == "classes_concat":
                margins.append(real[0, :, 1] - real[0, :, 0])
    return ranges, np.concatenate(margins)


def build_ssd_model(seed: int = 0, input_size: int = 64) -> bytes:
    """The test detector as .tflite bytes (deterministic for a given seed and size).

    Calibrated like the converter's post-training quantization: activation ranges are the min/max
    seen on synthetic images (two rounds, the first from generous guesses), then the person bias
    is set so that TARGET_POSITIVE_FRACTION of the anchors score above 0.5, then one more range
    round for the shifted class logits."""
    images = calibration_images(seed, 4, input_size)
    ranges: dict[str, tuple[float, float]] = {}
    offset = 0.0
    for round_ in range(3):
        ranges, margins = _observe(write_model(ssd_graph(seed, input_size, ranges, offset)), images)
        if round_ == 1:
            offset -= float(np.quantile(margins, 1.0 - TARGET_POSITIVE_FRACTION))
    return write_model(ssd_graph(seed, input_size, ranges, offset))
