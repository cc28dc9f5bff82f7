"""The post-processing inputs of a real model, taken from the LiteRT reference interpreter.

The raw int8 scores and box offsets are the inputs of the model's final DEQUANTIZE ops (outputs are
scores, boxes, anchors in that order); the anchors are the float anchors output, constant for a
fixed input size. Used by tests, benchmarks and validation until the pipeline provides the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generator.images import load_image
from generator.model.ir import Quantization
from generator.model.reader import read_model
from generator.postprocess.params import PostprocessError


@dataclass
class RawOutputs:
    scores: np.ndarray  # int8 [NA, NC+1]
    boxes: np.ndarray  # int8 [NA, 4]
    scores_float: np.ndarray  # the model's float outputs, as LiteRT's DEQUANTIZE produced them
    boxes_float: np.ndarray


class LiteRTModel:
    def __init__(self, model_path: str | Path) -> None:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        graph = read_model(model_path)
        producers = graph.producers()
        raw = []
        for out in graph.outputs[:3]:
            op = producers.get(id(out))
            if op is None or op.type != "DEQUANTIZE":
                raise PostprocessError(f"model output '{out.name}' is not produced by a DEQUANTIZE")
            raw.append(op.inputs[0])
        self._scores_t, self._boxes_t = raw[0], raw[1]
        self.score_quant: Quantization = raw[0].quant
        self.box_quant: Quantization = raw[1].quant
        self.num_classes = int(raw[0].shape[-1]) - 1
        # Built-in kernels only: the default resolver's XNNPACK gives different int8 results.
        self._it = Interpreter(
            model_path=str(model_path),
            experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
            experimental_preserve_all_tensors=True,
        )
        self._it.allocate_tensors()
        self._input = self._it.get_input_details()[0]
        self._outputs = [d["index"] for d in self._it.get_output_details()]
        self.input_hw = (int(self._input["shape"][1]), int(self._input["shape"][2]))
        self.anchors: np.ndarray | None = None

    def load_image(self, image_path: str | Path) -> np.ndarray:
        """The image as the model's input (generator.images: ST's preprocessing)."""
        return load_image(image_path, *self.input_hw)

    def run(self, image_path: str | Path) -> RawOutputs:
        self._it.set_tensor(self._input["index"], self.load_image(image_path)[None])
        self._it.invoke()
        if self.anchors is None:
            self.anchors = self._it.get_tensor(self._outputs[2])[0].copy()
        return RawOutputs(
            scores=self._it.get_tensor(self._scores_t.index)[0].copy(),
            boxes=self._it.get_tensor(self._boxes_t.index)[0].copy(),
            scores_float=self._it.get_tensor(self._outputs[0])[0].copy(),
            boxes_float=self._it.get_tensor(self._outputs[1])[0].copy(),
        )
