"""Recognise an SSD detection head on a folded graph.

ST's detectors end in three outputs: class scores [1, NA, NC+1] behind a SOFTMAX (background in
column 0), box offsets [1, NA, 4] and anchors [1, NA, 4], the last constant once the TILE chains
are folded. Recognition goes by structure, not tensor names, so other SSD exports work too."""

from __future__ import annotations

from dataclasses import dataclass

from generator.model.ir import Graph, Tensor

_PASS_THROUGH = ("DEQUANTIZE", "QUANTIZE", "RESHAPE")


@dataclass(frozen=True)
class SsdHead:
    scores: Tensor
    boxes: Tensor
    anchors: Tensor
    scores_index: int  # position among the graph outputs
    boxes_index: int
    anchors_index: int

    @property
    def num_anchors(self) -> int:
        return self.scores.shape[-2]

    @property
    def num_classes(self) -> int:
        """Object classes, background excluded."""
        return self.scores.shape[-1] - 1

    def to_dict(self) -> dict:
        return {
            "anchors": self.num_anchors,
            "classes": self.num_classes,
            "outputs": {"scores": self.scores_index, "boxes": self.boxes_index, "anchors": self.anchors_index},
            "anchor_source": f"constant '{self.anchors.name}' (folded)",
        }


def _behind_softmax(graph: Graph, t: Tensor) -> bool:
    producers = graph.producers()
    while (op := producers.get(id(t))) is not None:
        if op.type == "SOFTMAX":
            return True
        if op.type not in _PASS_THROUGH:
            return False
        t = op.inputs[0]
    return False


def find_ssd_head(graph: Graph) -> SsdHead | None:
    """Return the head if the graph has exactly the SSD triple, else None."""
    outs = list(enumerate(graph.outputs))
    rank3 = [(i, t) for i, t in outs if len(t.shape) == 3 and t.shape[0] == 1]
    scores = [(i, t) for i, t in rank3 if t.shape[2] >= 2 and _behind_softmax(graph, t)]
    if len(scores) != 1:
        return None
    si, st = scores[0]
    na = st.shape[1]
    quads = [(i, t) for i, t in rank3 if i != si and t.shape[1:] == (na, 4)]
    anchors = [(i, t) for i, t in quads if t.is_constant]
    boxes = [(i, t) for i, t in quads if not t.is_constant]
    if len(anchors) != 1 or len(boxes) != 1:
        return None
    return SsdHead(st, boxes[0][1], anchors[0][1], si, boxes[0][0], anchors[0][0])
