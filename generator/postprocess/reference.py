"""Reference SSD decoder in two modes.

- "float": the textbook pipeline ST's evaluation runs on the model's float outputs: dequantize,
  per-class score threshold, decode corners against the anchors, clip to [0, 1], class-aware greedy
  NMS, keep at most max_detections. Returns an N x 6 float32 array (class, score, x1, y1, x2, y2).
- "fixed": a bit-exact numpy mirror of the generated C (templates/postprocess/postprocess.c.j2),
  returning the same 12-byte records (`DETECTION_DTYPE`, the wire layout of stm32gen_detection_t).

Both modes share one candidate order, highest score first, ties by lower anchor index then lower
class, and one NMS rule: a candidate is dropped when its IoU with an already kept box of the same
class exceeds the threshold. Boxes of zero or negative extent have area 0 and never overlap anything.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from generator.model.ir import Quantization
from generator.postprocess.anchors import as_anchor_array, quantize_anchors
from generator.postprocess.params import (
    Q15_MAX,
    Q15_ONE,
    PostprocessError,
    PostprocessParams,
    QuantParams,
    as_quant,
    box_multiplier,
    iou_ratio,
    score_threshold_level,
)

DETECTION_DTYPE = np.dtype(
    [("class_id", "<u2"), ("score", "<i2"), ("x1", "<i2"), ("y1", "<i2"), ("x2", "<i2"), ("y2", "<i2")]
)
QuantLike = Quantization | QuantParams | tuple[float, int]


def decode(
    mode: str,
    scores: np.ndarray,
    boxes: np.ndarray,
    anchors: np.ndarray,
    score_quant: QuantLike,
    box_quant: QuantLike,
    params: PostprocessParams | None = None,
    max_out: int | None = None,
) -> np.ndarray:
    """Detections from the raw int8 scores [NA, NC+1] and box offsets [NA, 4] (a leading batch
    dimension of 1 is accepted). The float mode also accepts already dequantized float arrays.
    `max_out` mirrors the C argument: the result holds at most min(max_out, max_detections) rows."""
    params = params or PostprocessParams()
    sq, bq = as_quant(score_quant, "score"), as_quant(box_quant, "box")
    scores, boxes = _squeeze(scores, "scores"), _squeeze(boxes, "boxes")
    anchors = as_anchor_array(anchors)
    if scores.shape[1] < 2 or boxes.shape[1] != 4 or not scores.shape[0] == boxes.shape[0] == anchors.shape[0]:
        raise PostprocessError(
            f"scores {list(scores.shape)}, boxes {list(boxes.shape)} and anchors {list(anchors.shape)} "
            "must be [NA, NC+1], [NA, 4] and [NA, 4] with NC >= 1"
        )
    limit = params.max_detections if max_out is None else max(0, min(max_out, params.max_detections))
    if mode == "float":
        return _decode_float(scores, boxes, anchors, sq, bq, params, limit)
    if mode == "fixed":
        for name, t in (("scores", scores), ("boxes", boxes)):
            if t.dtype != np.int8:
                raise PostprocessError(f"fixed mode needs the raw int8 {name}, got {t.dtype}")
        return _decode_fixed(scores, boxes, anchors, sq, bq, params, limit)
    raise PostprocessError(f"unknown decode mode '{mode}'; known modes: fixed, float")


def detections_to_array(records: np.ndarray, score_quant: QuantLike) -> np.ndarray:
    """N x 6 float32 (class, score, x1, y1, x2, y2 normalised) from fixed-point records."""
    sq = as_quant(score_quant, "score")
    r = np.asarray(records, DETECTION_DTYPE)
    out = np.empty((r.size, 6), np.float32)
    out[:, 0] = r["class_id"]
    out[:, 1] = sq.dequantize(r["score"])
    for col, name in enumerate(("x1", "y1", "x2", "y2"), start=2):
        out[:, col] = r[name].astype(np.float32) / Q15_ONE
    return out


def records_from_bytes(data: bytes) -> np.ndarray:
    """Records as they arrive on the wire (12 bytes each, little-endian) -> DETECTION_DTYPE array."""
    if len(data) % DETECTION_DTYPE.itemsize:
        raise PostprocessError(f"detection payload of {len(data)} bytes is not a multiple of 12")
    return np.frombuffer(data, DETECTION_DTYPE).copy()


def _squeeze(t: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(t)
    if a.ndim == 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 2:
        raise PostprocessError(f"{name} must have shape [NA, C] or [1, NA, C], got {list(np.shape(t))}")
    return a


def _candidates(passing: np.ndarray, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(anchor, class) of the passing entries, highest level first, ties by anchor then class.

    np.nonzero walks row-major (anchor-major), and the stable sort keeps that order within a level,
    which is exactly what the C counting sort produces."""
    a_idx, c_idx = np.nonzero(passing)
    order = np.argsort(-level[a_idx, c_idx], kind="stable")
    return a_idx[order], c_idx[order]


def _greedy_nms(
    boxes: np.ndarray, classes: np.ndarray, exceeds: Callable[[np.ndarray, np.ndarray], np.ndarray], limit: int
) -> list[int]:
    """Indices kept by greedy NMS over candidates already in score order.

    Suppressing every later overlapping candidate when one is kept is the same rule as the C's
    "keep unless it overlaps an earlier kept box", since the overlap test is symmetric."""
    alive = np.ones(len(boxes), bool)
    kept: list[int] = []
    i = 0
    while len(kept) < limit:
        rest = np.flatnonzero(alive[i:])
        if rest.size == 0:
            break
        i += int(rest[0])
        kept.append(i)
        alive[i] = False
        later = i + 1 + np.flatnonzero(alive[i + 1 :])
        later = later[classes[later] == classes[i]]
        alive[later[exceeds(boxes[i], boxes[later])]] = False
    return kept


def _decode_fixed(scores, boxes, anchors, sq, bq, params, limit) -> np.ndarray:
    table = quantize_anchors(anchors)
    level = scores[:, 1:].astype(np.int32)
    a_idx, c_idx = _candidates(level >= score_threshold_level(params.score_threshold, sq), level)
    bm = box_multiplier(bq, table.frac_bits)
    anc = table.values[a_idx].astype(np.int64)
    off = boxes[a_idx].astype(np.int64) - bq.zero_point
    size = np.stack([anc[:, 2] - anc[:, 0], anc[:, 3] - anc[:, 1]] * 2, axis=1)
    delta = (off * size * bm.mult + (1 << (bm.shift - 1))) >> bm.shift
    corners = np.clip(anc * (1 << (15 - table.frac_bits)) + delta, 0, Q15_MAX)
    n, d = iou_ratio(params.iou_threshold)

    def exceeds(b: np.ndarray, others: np.ndarray) -> np.ndarray:
        inter, union = _inter_union(b, others)
        return inter * d > union * n

    kept = _greedy_nms(corners, c_idx, exceeds, limit)
    out = np.zeros(len(kept), DETECTION_DTYPE)
    out["class_id"] = c_idx[kept]
    out["score"] = level[a_idx[kept], c_idx[kept]]
    for col, name in enumerate(("x1", "y1", "x2", "y2")):
        out[name] = corners[kept, col]
    return out


def _decode_float(scores, boxes, anchors, sq, bq, params, limit) -> np.ndarray:
    s = scores.astype(np.float32) if scores.dtype.kind == "f" else sq.dequantize(scores)
    b = boxes.astype(np.float32) if boxes.dtype.kind == "f" else bq.dequantize(boxes)
    cls = s[:, 1:]
    a_idx, c_idx = _candidates(cls >= params.score_threshold, cls)
    a, d = anchors[a_idx], b[a_idx]
    w, h = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
    corners = np.stack(
        [d[:, 0] * w + a[:, 0], d[:, 1] * h + a[:, 1], d[:, 2] * w + a[:, 2], d[:, 3] * h + a[:, 3]], axis=1
    )
    corners = np.clip(corners, np.float32(0), np.float32(1)).astype(np.float32)
    thr = np.float32(params.iou_threshold)

    def exceeds(box: np.ndarray, others: np.ndarray) -> np.ndarray:
        inter, union = _inter_union(box, others)
        iou = np.where(union > 0, inter / np.where(union > 0, union, 1), 0)
        return iou > thr

    kept = _greedy_nms(corners, c_idx, exceeds, limit)
    out = np.empty((len(kept), 6), np.float32)
    out[:, 0] = c_idx[kept]
    out[:, 1] = cls[a_idx[kept], c_idx[kept]]
    out[:, 2:] = corners[kept]
    return out


def _inter_union(b: np.ndarray, others: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Intersection and union areas of one box against many; extents below zero count as zero."""
    zero = b.dtype.type(0)
    iw = np.maximum(np.minimum(b[2], others[:, 2]) - np.maximum(b[0], others[:, 0]), zero)
    ih = np.maximum(np.minimum(b[3], others[:, 3]) - np.maximum(b[1], others[:, 1]), zero)
    inter = iw * ih
    area_b = max(b[2] - b[0], zero) * max(b[3] - b[1], zero)
    area_o = np.maximum(others[:, 2] - others[:, 0], zero) * np.maximum(others[:, 3] - others[:, 1], zero)
    return inter, area_b + area_o - inter
