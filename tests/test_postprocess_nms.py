"""Class-aware greedy NMS of the generated C, against the fixed-point mirror and against properties.

Small synthetic detectors (16 anchors, 2 classes) keep each build under a second. Box offsets equal
to the box zero point decode to the anchor itself, which lets a test choose the boxes exactly.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from generator.postprocess import PostprocessParams, decode, render_postprocess
from generator.postprocess.host import HostPostprocess, compile_host_library

NA, NC = 16, 2
SCORE_Q = (1 / 256, -128)  # softmax output quantization of the real models
BOX_Q = (0.05, 0)  # offset q = 0 decodes to the anchor itself
PARAMS = PostprocessParams(score_threshold=0.5, iou_threshold=0.5, max_detections=5)
PASS, FAIL = 0, -1  # raw scores: dequant 0.5 passes the 0.5 threshold, 0.496 does not


def _grid() -> np.ndarray:
    """16 disjoint 0.2 x 0.2 anchors on a 4 x 4 grid."""
    xs = np.arange(4) * 0.25 + 0.02
    return np.array([[x, y, x + 0.2, y + 0.2] for y in xs for x in xs], np.float32)


ANCHORS = {
    "grid": _grid(),
    "same": np.tile(np.float32([0.2, 0.2, 0.6, 0.6]), (NA, 1)),
    "flat": np.tile(np.float32([0.3, 0.3, 0.3, 0.7]), (NA, 1)),  # zero width
    # A, B with IoU exactly 1/2, B one Q15 LSB taller, then far-away filler (all exact in Q15).
    "half": np.float32(
        [[0, 0, 0.5, 0.5], [0, 0, 0.5, 0.25], [0, 0, 0.5, 0.25 + 2**-15]] + [[0.9, 0.9, 0.95, 0.95]] * (NA - 3)
    ),
}


@pytest.fixture(scope="module")
def libs(tmp_path_factory):
    out = {}
    for name, anchors in ANCHORS.items():
        d = tmp_path_factory.mktemp(f"nms_{name}")
        render_postprocess(d, anchors, SCORE_Q, BOX_Q, NC, PARAMS)
        out[name] = HostPostprocess(compile_host_library(d, d / "libpp.so"))
    return out


def _run_both(libs, name: str, scores: np.ndarray, boxes: np.ndarray, max_out: int = PARAMS.max_detections):
    """C records, after checking they equal the mirror's byte for byte."""
    got = libs[name](scores, boxes, max_out)
    want = decode("fixed", scores, boxes, ANCHORS[name], SCORE_Q, BOX_Q, PARAMS, max_out=max_out)
    assert got.tobytes() == want.tobytes()
    return got


def _scores(per_class: list[list[int]] | np.ndarray) -> np.ndarray:
    """Raw scores [NA, NC+1] from class scores [NA, NC]; background column at its minimum."""
    cls = np.asarray(per_class, np.int8).reshape(NA, NC)
    return np.concatenate([np.full((NA, 1), -128, np.int8), cls], axis=1)


ZERO_OFFSETS = np.zeros((NA, 4), np.int8)


def _iou_exceeds(a, b, threshold=Fraction(1, 2)) -> bool:
    """Exact rational IoU test on integer corners, written independently of the decoder."""
    iw = min(a["x2"], b["x2"]) - max(a["x1"], b["x1"])
    ih = min(a["y2"], b["y2"]) - max(a["y1"], b["y1"])
    if iw <= 0 or ih <= 0:
        return False
    inter = int(iw) * int(ih)
    area = lambda r: max(int(r["x2"]) - int(r["x1"]), 0) * max(int(r["y2"]) - int(r["y1"]), 0)  # noqa: E731
    return Fraction(inter, area(a) + area(b) - inter) > threshold


@settings(max_examples=150, deadline=None)
@given(
    cls=arrays(np.int8, (NA, NC)),
    boxes=arrays(np.int8, (NA, 4)),
    max_out=st.integers(-1, 7),
)
def test_random_inputs_give_identical_records_and_a_valid_nms(libs, cls, boxes, max_out):
    got = _run_both(libs, "grid", _scores(cls), boxes, max_out)
    assert len(got) <= max(0, min(max_out, PARAMS.max_detections))
    assert np.all(got["score"] >= PASS)
    assert np.all(np.diff(got["score"].astype(int)) <= 0)  # best first
    for f in ("x1", "y1", "x2", "y2"):
        assert np.all((got[f] >= 0) & (got[f] <= 32767))
    for i in range(len(got)):
        for j in range(i):
            if got[i]["class_id"] == got[j]["class_id"]:
                assert not _iou_exceeds(got[i], got[j])


@settings(max_examples=60, deadline=None)
@given(cls=arrays(np.int8, (NA, NC), elements=st.integers(-128, -1)))
def test_no_candidate_above_threshold_gives_no_detection(libs, cls):
    assert len(_run_both(libs, "grid", _scores(cls), ZERO_OFFSETS)) == 0


@settings(max_examples=60, deadline=None)
@given(cls=arrays(np.int8, (NA, NC), elements=st.integers(0, 127)))
def test_more_candidates_than_max_keeps_exactly_the_best(libs, cls):
    got = _run_both(libs, "grid", _scores(cls), ZERO_OFFSETS)
    assert len(got) == PARAMS.max_detections  # disjoint boxes: nothing is suppressed
    flat = np.sort(cls.astype(int).ravel())[::-1]
    assert got["score"].tolist() == flat[: PARAMS.max_detections].tolist()


def test_equal_scores_are_kept_in_anchor_then_class_order(libs):
    cls = np.full((NA, NC), 40, np.int8)
    got = _run_both(libs, "grid", _scores(cls), ZERO_OFFSETS)
    order = [(i // NC, i % NC) for i in range(PARAMS.max_detections)]
    grid = np.round(ANCHORS["grid"].astype(np.float64) * 32768).astype(int)
    assert [(int(r["class_id"])) for r in got] == [c for _, c in order]
    assert [int(r["x1"]) for r in got] == [grid[a][0] for a, _ in order]


@settings(max_examples=60, deadline=None)
@given(cls=arrays(np.int8, (NA, NC), elements=st.integers(-128, 127)))
def test_identical_boxes_keep_one_detection_per_class(libs, cls):
    got = _run_both(libs, "same", _scores(cls), ZERO_OFFSETS)
    for c in range(NC):
        col = cls[:, c].astype(int)
        mine = got[got["class_id"] == c]
        if col.max() < PASS:
            assert len(mine) == 0
        else:  # the best score wins; on a tie the lowest anchor, which has the same box anyway
            assert len(mine) == 1 and mine[0]["score"] == col.max()


@settings(max_examples=60, deadline=None)
@given(cls=arrays(np.int8, (NA, NC), elements=st.integers(-128, 127)))
def test_zero_area_boxes_never_suppress_each_other(libs, cls):
    got = _run_both(libs, "flat", _scores(cls), ZERO_OFFSETS)
    passing = int((cls.astype(int) >= PASS).sum())
    assert len(got) == min(passing, PARAMS.max_detections)
    assert np.all(got["x1"] == got["x2"])


def test_iou_exactly_at_threshold_keeps_and_one_lsb_more_suppresses(libs):
    """The rule is IoU > threshold: A and B overlap with IoU exactly 1/2 and both stay; B grown by
    one Q15 LSB gives 8193/16384 and is suppressed. Same answer from the float decoder."""
    for other, expect in ((1, 2), (2, 1)):
        cls = np.full((NA, NC), FAIL, np.int8)
        cls[0, 0], cls[other, 0] = 10, 9
        assert len(_run_both(libs, "half", _scores(cls), ZERO_OFFSETS)) == expect
        flt = decode("float", _scores(cls), ZERO_OFFSETS, ANCHORS["half"], SCORE_Q, BOX_Q, PARAMS)
        assert len(flt) == expect
