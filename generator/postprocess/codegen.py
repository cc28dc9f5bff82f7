"""Render the post-processing C (postprocess.h, postprocess.c, anchors.c) from templates/postprocess.

All the arithmetic (Q formats, multipliers, thresholds) is decided in Python; the templates only
print it. Output is a pure function of the arguments, so regeneration is byte-identical.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
import numpy as np

from generator.postprocess.anchors import quantize_anchors
from generator.postprocess.params import (
    PostprocessError,
    PostprocessParams,
    as_quant,
    box_multiplier,
    iou_ratio,
    score_threshold_level,
)
from generator.postprocess.reference import QuantLike
from generator.resources import templates_dir

OUTPUT_FILES = ("postprocess.h", "postprocess.c", "anchors.c")


def render_postprocess(
    out_dir: str | Path,
    anchors_f32: np.ndarray,
    score_quant: QuantLike,
    box_quant: QuantLike,
    num_classes: int,
    params: PostprocessParams | None = None,
) -> list[Path]:
    """Write postprocess.h/.c and anchors.c into out_dir; returns their paths."""
    params = params or PostprocessParams()
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise PostprocessError(f"num_classes {num_classes!r} must be a positive integer (background excluded)")
    context = postprocess_context(anchors_f32, score_quant, box_quant, int(num_classes), params)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / "postprocess")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in OUTPUT_FILES:
        path = out / name
        path.write_text(env.get_template(name + ".j2").render(context), encoding="utf-8", newline="\n")
        written.append(path)
    return written


def postprocess_context(anchors_f32, score_quant, box_quant, num_classes: int, params: PostprocessParams) -> dict:
    table = quantize_anchors(anchors_f32)
    sq, bq = as_quant(score_quant, "score"), as_quant(box_quant, "box")
    level = score_threshold_level(params.score_threshold, sq)
    bm = box_multiplier(bq, table.frac_bits)
    iou_num, iou_den = iou_ratio(params.iou_threshold)
    candidates = table.num_anchors * num_classes
    if candidates >= 1 << 32:
        raise PostprocessError(f"{table.num_anchors} anchors x {num_classes} classes is too many candidates")
    if level == 128:
        level_note = "no int8 score reaches it: nothing is ever detected"
    else:
        level_note = f"dequant({level}) = {float(sq.dequantize(np.array([level]))[0])!r}"
    return {
        "num_anchors": table.num_anchors,
        "num_classes": num_classes,
        "max_detections": params.max_detections,
        "score_threshold": repr(float(params.score_threshold)),
        "iou_threshold": repr(float(params.iou_threshold)),
        "score_level": level,
        "score_level_note": level_note,
        "level_slots": max(1, 128 - level),  # C forbids a zero-length array
        "box_scale": repr(float(np.float32(bq.scale))),
        "box_zero_point": bq.zero_point,
        "box_mult": bm.mult,
        "box_shift": bm.shift,
        "anchor_frac_bits": table.frac_bits,
        "anchor_to_q15": 1 << (15 - table.frac_bits),
        "iou_num": iou_num,
        "iou_den": iou_den,
        # The order array holds anchor * NC + class; 16 bits halve its RAM whenever they suffice.
        "index_type": "uint16_t" if candidates <= 0xFFFF else "uint32_t",
        "anchor_rows": [", ".join(f"{int(v):6d}" for v in row) for row in table.values],
    }
