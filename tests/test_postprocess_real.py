"""The generated C post-processing on the real models and images.

Pins: the C output equals the fixed-point mirror record for record on every image, for the default
(0.5/0.5/10) and the evaluation (0.001/0.5/100) settings; and the fixed-point pipeline reproduces
ST's float decode: >= 99 % of float detections are matched by a fixed one of the same class with
IoU >= 0.9 and a score within one LSB.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from generator.postprocess import PostprocessParams, decode, detections_to_array, render_postprocess
from generator.postprocess.host import HostPostprocess, compile_host_library
from generator.postprocess.litert_io import LiteRTModel

SHARED = Path(__file__).resolve().parents[2] / "shared"
MODELS = [
    "ssd_mobilenet_v2_fpnlite_035_192_int8.tflite",
    "ssd_mobilenet_v2_fpnlite_035_256_int8.tflite",
    "ssd_mobilenet_v2_fpnlite_035_416_int8.tflite",
    "st_ssd_mobilenet_v1_025_192_int8.tflite",
]
SETTINGS = {
    "default": PostprocessParams(0.5, 0.5, 10),
    "evaluation": PostprocessParams(0.001, 0.5, 100),
}
IMAGES = sorted(p for p in (SHARED / "images").glob("*") if p.suffix in (".jpg", ".png"))

pytestmark = pytest.mark.skipif(not (SHARED / "models").is_dir(), reason="needs ../shared/models")


@pytest.fixture(scope="module")
def model_runs():
    """model name -> (LiteRTModel, [RawOutputs per image]); LiteRT runs once per image and model."""
    cache: dict[str, tuple] = {}

    def get(name: str):
        if name not in cache:
            m = LiteRTModel(SHARED / "models" / name)
            cache[name] = (m, [m.run(p) for p in IMAGES])
        return cache[name]

    return get


@pytest.fixture(scope="module")
def host_pp(tmp_path_factory, model_runs):
    libs: dict[tuple[str, str], HostPostprocess] = {}

    def get(name: str, setting: str) -> HostPostprocess:
        if (name, setting) not in libs:
            m, _ = model_runs(name)
            d = tmp_path_factory.mktemp(f"pp_{Path(name).stem}_{setting}")
            render_postprocess(d, m.anchors, m.score_quant, m.box_quant, m.num_classes, SETTINGS[setting])
            libs[name, setting] = HostPostprocess(compile_host_library(d, d / "libpp.so"))
        return libs[name, setting]

    return get


def test_real_images_exist():
    assert len(IMAGES) >= 20


@pytest.mark.parametrize("setting", sorted(SETTINGS))
@pytest.mark.parametrize("name", MODELS)
def test_c_detections_equal_fixed_mirror_on_every_image(name, setting, model_runs, host_pp):
    m, runs = model_runs(name)
    pp = host_pp(name, setting)
    params = SETTINGS[setting]
    total = 0
    for image, r in zip(IMAGES, runs, strict=True):
        want = decode("fixed", r.scores, r.boxes, m.anchors, m.score_quant, m.box_quant, params)
        got = pp(r.scores, r.boxes, params.max_detections)
        assert got.tobytes() == want.tobytes(), f"{name} {setting} {image.name}: C {got} != mirror {want}"
        total += len(got)
    assert total > 0  # the comparison is only meaningful if something is detected


def _area(b: np.ndarray) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def _same_box(a: np.ndarray, b: np.ndarray) -> bool:
    """IoU >= 0.9; for boxes without area (clipped flat at an edge, or inverted by the offsets),
    where IoU is undefined, every corner within 1e-3 instead."""
    if _area(a) == 0.0 or _area(b) == 0.0:
        return bool(np.all(np.abs(a - b) <= 1e-3))
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / (_area(a) + _area(b) - inter) >= 0.9


def _matched(flt: np.ndarray, fix: np.ndarray, score_lsb: float) -> int:
    """Float detections with a same-class fixed detection of the same box and score within one LSB
    (each fixed detection used once, float detections taken best first)."""
    used = np.zeros(len(fix), bool)
    hits = 0
    for det in flt:
        for j, cand in enumerate(fix):
            if used[j] or cand[0] != det[0] or abs(cand[1] - det[1]) > score_lsb * 1.0001:
                continue
            if _same_box(det[2:], cand[2:]):
                used[j] = True
                hits += 1
                break
    return hits


@pytest.mark.parametrize("setting", sorted(SETTINGS))
@pytest.mark.parametrize("name", MODELS)
def test_fixed_point_matches_float_decode_for_99_percent(name, setting, model_runs):
    m, runs = model_runs(name)
    params = SETTINGS[setting]
    lsb = m.score_quant.scalar_scale
    floats = matched = 0
    for r in runs:
        flt = decode("float", r.scores_float, r.boxes_float, m.anchors, m.score_quant, m.box_quant, params)
        fix = decode("fixed", r.scores, r.boxes, m.anchors, m.score_quant, m.box_quant, params)
        floats += len(flt)
        matched += _matched(flt, detections_to_array(fix, m.score_quant), lsb)
    rate = matched / floats
    print(f"\n{name} {setting}: {matched}/{floats} float detections matched ({100 * rate:.2f} %)")
    assert floats > 0
    assert rate >= 0.99


@pytest.mark.parametrize("name", MODELS)
def test_float_decoder_dequantizes_raw_outputs_exactly_as_litert(name, model_runs):
    """So `stm32gen run` can feed the device's raw int8 outputs to the float decoder."""
    m, runs = model_runs(name)
    params = SETTINGS["evaluation"]
    for r in runs[:3]:
        from_raw = decode("float", r.scores, r.boxes, m.anchors, m.score_quant, m.box_quant, params)
        from_litert = decode("float", r.scores_float, r.boxes_float, m.anchors, m.score_quant, m.box_quant, params)
        assert from_raw.tobytes() == from_litert.tobytes()


@pytest.mark.parametrize("name", MODELS)
def test_pipeline_ssd_head_renders_the_same_c_as_the_litert_outputs(name, model_runs, tmp_path):
    """`generate` feeds the folded graph's head to render_postprocess; it must match what these tests pin."""
    from generator.pipeline import load_graph, lower_graph
    from generator.ssd import find_ssd_head

    m, _ = model_runs(name)
    head = find_ssd_head(lower_graph(load_graph(SHARED / "models" / name)))
    params = SETTINGS["evaluation"]
    a = render_postprocess(
        tmp_path / "a", head.anchors.data, head.scores.quant, head.boxes.quant, head.num_classes, params
    )
    b = render_postprocess(tmp_path / "b", m.anchors, m.score_quant, m.box_quant, m.num_classes, params)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
