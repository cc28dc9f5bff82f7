"""The expected results for one input: LiteRT's built-in kernels, read at the device's output tensors,
and the reference decoder's detections (fixed = bit-exact mirror of the C, float = ST's pipeline)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generator.errors import Stm32genError
from generator.validation.protocol import DeviceInfo, TensorSignature


@dataclass
class Expected:
    outputs: list[np.ndarray]  # raw, one per device output
    fixed: list[tuple[int, ...]] | None = None  # detection records, as the C post-processing makes them
    float: np.ndarray | None = None  # N x 6 (class, score, x1, y1, x2, y2)


class LiteRTReference:
    """Runs the .tflite on LiteRT's built-in kernels; maps each device output to a model tensor by
    name, or else by position among the raw tensors feeding the model's final DEQUANTIZE ops."""

    def __init__(self, model_path: Path, info: DeviceInfo, postprocess: dict | None = None) -> None:
        from generator.codegen.litert import interpreter
        from generator.model.reader import read_model

        self.interp = interpreter(model_path)
        graph = read_model(model_path)
        by_name = {d["name"]: d["index"] for d in self.interp.get_tensor_details()}
        producers = graph.producers()
        raw = []  # model output i -> the int8 tensor the device holds for it
        for out in graph.outputs:
            op = producers.get(id(out))
            raw.append(op.inputs[0] if op is not None and op.type == "DEQUANTIZE" else out)
        self.indices = []
        for pos, sig in enumerate(info.outputs):
            idx = by_name.get(sig.name)
            if idx is None:
                if pos >= len(raw):
                    raise Stm32genError(f"device output '{sig.name}' (#{pos}) matches no tensor of {model_path}")
                idx = raw[pos].index
            self.indices.append(idx)
        details = {d["index"]: d for d in self.interp.get_tensor_details()}
        for sig, idx in zip(info.outputs, self.indices, strict=True):
            _check_signature(sig, details[idx], model_path)
        self.input_detail = self.interp.get_input_details()[0]
        self._decoder = self._make_decoder(graph, raw, info, postprocess or {}, model_path)

    def _make_decoder(self, graph, raw, info: DeviceInfo, pp: dict, model_path: Path):
        """The reference decoder for the device's detections; None when neither model nor device has any.

        A device that reports detections for a model without a recognisable SSD head cannot be
        checked, and skipping the check would let a run pass on outputs alone: that is an error."""
        from generator.pipeline import load_graph
        from generator.postprocess.params import PostprocessParams
        from generator.postprocess.reference import decode
        from generator.ssd import find_ssd_head

        head = find_ssd_head(load_graph(model_path))
        if head is None and not info.max_detections:
            return None
        if head is None:
            raise Stm32genError(
                f"device reports up to {info.max_detections} detections, but {model_path.name} has no SSD "
                f"head (scores behind a softmax, boxes, constant anchors) to decode a reference from: the "
                f"firmware was not generated from this model"
            )
        params = PostprocessParams(
            **{k: pp[k] for k in ("score_threshold", "iou_threshold", "max_detections") if k in pp}
        )
        s_t, b_t = raw[head.scores_index], raw[head.boxes_index]
        anchors = np.asarray(head.anchors.data, np.float32)

        def run() -> tuple[list[tuple[int, ...]], np.ndarray]:
            scores = self.interp.get_tensor(s_t.index)
            boxes = self.interp.get_tensor(b_t.index)
            fixed = decode("fixed", scores, boxes, anchors, s_t.quant, b_t.quant, params, max_out=info.max_detections)
            flt = decode("float", scores, boxes, anchors, s_t.quant, b_t.quant, params)
            return [tuple(int(v) for v in r) for r in fixed.tolist()], np.asarray(flt, np.float32)

        return run

    def expected(self, image: np.ndarray) -> Expected:
        d = self.input_detail
        self.interp.set_tensor(d["index"], image.reshape(d["shape"]).astype(d["dtype"], copy=False))
        self.interp.invoke()
        outs = [self.interp.get_tensor(i).copy() for i in self.indices]
        if self._decoder is None:
            return Expected(outs)
        fixed, flt = self._decoder()
        return Expected(outs, fixed, flt)


def _check_signature(sig: TensorSignature, detail: dict, model_path: Path) -> None:
    dtype = np.dtype(detail["dtype"]).name
    scale, zp = detail["quantization"]
    size = int(np.prod(detail["shape"]))
    if (
        dtype != sig.dtype
        or size * np.dtype(dtype).itemsize != sig.nbytes
        or zp != sig.zero_point
        or not np.isclose(scale, sig.scale, rtol=1e-6, atol=0)
    ):
        raise Stm32genError(
            f"device output '{sig.name}' is {sig.describe()}, but {model_path.name} has "
            f"{detail['name']} {dtype}{[int(d) for d in detail['shape']]} scale={scale:.9g} zp={zp}"
        )
