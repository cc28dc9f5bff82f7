"""Post-processing constants, anchor table, code generation and reference-decoder edges."""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.errors import Stm32genError
from generator.model.ir import Quantization
from generator.postprocess import (
    DETECTION_DTYPE,
    PostprocessError,
    PostprocessParams,
    decode,
    detections_to_array,
    render_postprocess,
)
from generator.postprocess.anchors import quantize_anchors
from generator.postprocess.host import HostPostprocess, compile_host_library
from generator.postprocess.litert_io import LiteRTModel
from generator.postprocess.params import QuantParams, box_multiplier, iou_ratio, score_threshold_level
from generator.postprocess.reference import records_from_bytes

SHARED = Path(__file__).resolve().parents[2] / "shared"
SOFTMAX_Q = QuantParams(1 / 256, -128)
MODELS = sorted((SHARED / "models").glob("*.tflite"))


@pytest.mark.parametrize(("threshold", "level"), [(0.5, 0), (0.001, -127), (0.0, -128), (0.99609375, 127), (1.0, 128)])
def test_score_threshold_becomes_the_smallest_passing_int8_level(threshold, level):
    assert score_threshold_level(threshold, SOFTMAX_Q) == level


@settings(max_examples=200, deadline=None)
@given(
    threshold=st.floats(0, 1),
    scale=st.floats(1e-4, 0.1),
    zero_point=st.integers(-128, 127),
)
def test_score_level_separates_passing_from_failing_dequantized_scores(threshold, scale, zero_point):
    q = QuantParams(scale, zero_point)
    level = score_threshold_level(threshold, q)
    deq = q.dequantize(np.arange(-128, 128))
    assert np.all((deq >= threshold) == (np.arange(-128, 128) >= level))


@pytest.mark.parametrize(("threshold", "ratio"), [(0.5, (1, 2)), (0.45, (9, 20)), (0.6, (3, 5)), (1.0, (1, 1))])
def test_iou_threshold_becomes_an_exact_ratio_for_decimal_values(threshold, ratio):
    assert iou_ratio(threshold) == ratio


@settings(max_examples=200, deadline=None)
@given(scale=st.floats(1e-5, 0.4), frac_bits=st.integers(8, 15))
def test_box_multiplier_is_normalised_and_within_half_an_lsb(scale, frac_bits):
    bm = box_multiplier(QuantParams(scale, 0), frac_bits)
    assert 1 << 30 <= bm.mult < 1 << 31
    real = float(np.float32(scale)) * 2.0 ** (15 - frac_bits)
    assert abs(bm.mult - real * 2.0**bm.shift) <= 0.5


@pytest.mark.parametrize("scale", [1000.0, 1e-12])
def test_absurd_box_scale_is_refused_naming_it(scale):
    with pytest.raises(PostprocessError, match=f"box quantization scale {scale!r}"):
        box_multiplier(QuantParams(scale, 0), 14)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"score_threshold": 1.5}, "score_threshold 1.5"),
        ({"score_threshold": math.nan}, "score_threshold nan"),
        ({"iou_threshold": -0.1}, "iou_threshold -0.1"),
        ({"max_detections": 0}, "max_detections 0"),
        ({"max_detections": 2.5}, "max_detections 2.5"),
        ({"max_detections": True}, "max_detections True"),
    ],
)
def test_bad_parameters_raise_a_user_error_naming_the_value(kwargs, fragment):
    with pytest.raises(PostprocessError, match=fragment) as exc:
        PostprocessParams(**kwargs)
    assert isinstance(exc.value, Stm32genError)


def test_per_channel_score_quantization_is_refused():
    q = Quantization(np.float32([0.1, 0.2]), np.int64([0, 0]), axis=0)
    with pytest.raises(PostprocessError, match="per-tensor"):
        render_postprocess("/nonexistent", np.zeros((4, 4), np.float32), q, (0.1, 0), 1)


@pytest.mark.parametrize(
    ("anchors", "frac_bits"),
    [
        ([[0.0, 0.0, 0.5, 0.99]], 15),
        ([[0.0, 0.0, 1.0, 1.0]], 14),
        ([[-0.65, -0.5, 1.66, 1.2]], 14),
        ([[-3, 0, 3.5, 1]], 13),
    ],
)
def test_anchor_table_uses_the_finest_q_format_that_fits(anchors, frac_bits):
    assert quantize_anchors(np.float32(anchors)).frac_bits == frac_bits


def test_anchors_far_outside_the_image_are_refused():
    with pytest.raises(PostprocessError, match="300"):
        quantize_anchors(np.float32([[0, 0, 300, 1]]))


@pytest.mark.parametrize("shape", [(4,), (3, 5), (2, 3, 4), (0, 4)])
def test_anchors_of_the_wrong_shape_are_refused(shape):
    with pytest.raises(PostprocessError, match="shape"):
        quantize_anchors(np.zeros(shape, np.float32))


@pytest.fixture(scope="module")
def real_anchors():
    """model -> float anchors, from one LiteRT run each (the anchors output is constant)."""
    out = {}
    for path in MODELS:
        m = LiteRTModel(path)
        m.run(SHARED / "images" / "messi5.jpg")
        out[path.name] = m.anchors
    return out


@pytest.mark.skipif(not MODELS, reason="needs ../shared/models")
def test_real_anchor_tables_are_within_half_an_lsb_of_the_float_anchors(real_anchors):
    assert len(real_anchors) == 4
    for name, anchors in real_anchors.items():
        table = quantize_anchors(anchors)
        err = np.abs(table.to_float() - anchors.astype(np.float64)).max()
        lsb = 2.0**-table.frac_bits
        print(f"\n{name}: {table.num_anchors} anchors, Q{table.frac_bits}, max error {err / lsb:.3f} LSB")
        assert table.frac_bits == 14  # the real anchors reach about -0.65 .. 1.66
        assert err <= lsb / 2


def _render(tmp_path: Path, name: str, params: PostprocessParams, anchors=None) -> Path:
    anchors = np.float32([[0.1, 0.1, 0.4, 0.5], [0.5, 0.5, 0.9, 0.8]]) if anchors is None else anchors
    d = tmp_path / name
    render_postprocess(d, anchors, SOFTMAX_Q, (0.02, 3), 1, params)
    return d


def test_generation_is_byte_identical_across_runs(tmp_path):
    params = PostprocessParams(0.001, 0.5, 100)
    a, b = _render(tmp_path, "a", params), _render(tmp_path, "b", params)
    for name in ("postprocess.h", "postprocess.c", "anchors.c"):
        assert (a / name).read_bytes() == (b / name).read_bytes()


def test_header_declares_the_contract_record_and_entry_point(tmp_path):
    header = (_render(tmp_path, "h", PostprocessParams()) / "postprocess.h").read_text()
    assert "int stm32gen_postprocess(const int8_t *scores, const int8_t *boxes,\n" in header
    for field in ("uint16_t class_id;", "int16_t score;", "int16_t x1, y1, x2, y2;"):
        assert field in header
    assert "#define STM32GEN_PP_MAX_DETECTIONS  10" in header
    assert DETECTION_DTYPE.itemsize == 12


def test_unreachable_threshold_still_compiles_and_detects_nothing(tmp_path):
    d = _render(tmp_path, "never", PostprocessParams(score_threshold=1.0))
    pp = HostPostprocess(compile_host_library(d, d / "libpp.so"))
    scores = np.full((2, 2), 127, np.int8)
    assert len(pp(scores, np.zeros((2, 4), np.int8), 10)) == 0


def test_detections_to_array_dequantizes_score_and_scales_q15():
    rec = np.array([(0, 0, 0, 16384, 32767, 8192)], DETECTION_DTYPE)
    np.testing.assert_array_equal(
        detections_to_array(rec, SOFTMAX_Q), np.float32([[0, 0.5, 0, 0.5, 32767 / 32768, 0.25]])
    )


def test_records_round_trip_through_wire_bytes():
    rec = np.array([(1, -3, 1, 2, 3, 4), (0, 127, 0, 0, 32767, 32767)], DETECTION_DTYPE)
    raw = rec.tobytes()
    assert raw[:4] == b"\x01\x00\xfd\xff"  # little-endian uint16 class, int16 score
    np.testing.assert_array_equal(records_from_bytes(raw), rec)
    with pytest.raises(PostprocessError, match="13 bytes"):
        records_from_bytes(raw[:13])


def test_decode_rejects_unknown_mode_float_input_in_fixed_mode_and_shape_mismatch():
    anchors = np.float32([[0, 0, 1, 1]] * 3)
    scores, boxes = np.zeros((3, 2), np.int8), np.zeros((3, 4), np.int8)
    with pytest.raises(PostprocessError, match="'exact'"):
        decode("exact", scores, boxes, anchors, SOFTMAX_Q, (0.1, 0))
    with pytest.raises(PostprocessError, match="float32"):
        decode("fixed", scores.astype(np.float32), boxes, anchors, SOFTMAX_Q, (0.1, 0))
    with pytest.raises(PostprocessError, match=r"\[2, 4\]"):
        decode("fixed", scores, boxes[:2], anchors, SOFTMAX_Q, (0.1, 0))


STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-Wpedantic", "-Wconversion", "-Wsign-conversion", "-O2"]


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")
@pytest.mark.parametrize("params", [PostprocessParams(), PostprocessParams(0.001, 0.45, 100)])
def test_generated_c_compiles_warning_free_for_cortex_m7(tmp_path, params):
    d = _render(tmp_path, "m7", params)
    cmd = ["arm-none-eabi-gcc", *STRICT, "-mcpu=cortex-m7", "-mthumb", "-c", "postprocess.c", "anchors.c"]
    proc = subprocess.run(cmd, cwd=d, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
