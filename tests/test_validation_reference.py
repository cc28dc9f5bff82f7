"""The reference side of `validate` never switches a check off on its own."""

from __future__ import annotations

import numpy as np
import pytest

from generator.errors import Stm32genError
from generator.factory.ops import build_conv2d
from generator.validation import protocol as p
from generator.validation.reference import Expected, LiteRTReference
from generator.validation.runner import DeviceResult, make_record


def _signature(detail: dict) -> p.TensorSignature:
    scale, zp = detail["quantization"]
    shape = tuple(int(d) for d in detail["shape"])
    dtype = np.dtype(detail["dtype"])
    return p.TensorSignature(detail["name"], dtype.name, shape, scale, zp, int(np.prod(shape)) * dtype.itemsize)


@pytest.fixture(scope="module")
def conv_model(tmp_path_factory):
    """A plain int8 conv model: no SSD head, so no reference detections."""
    path = tmp_path_factory.mktemp("ref") / "conv.tflite"
    path.write_bytes(build_conv2d(np.random.default_rng(3)))
    from generator.codegen.litert import interpreter

    it = interpreter(path)
    return path, _signature(it.get_input_details()[0]), _signature(it.get_output_details()[0])


def _info(inp, out, max_detections):
    return p.DeviceInfo(1, 1024, "sim", "a" * 64, "b" * 16, "cycles", max_detections, inp, (out,))


def test_a_device_reporting_detections_for_a_model_without_ssd_head_is_refused(conv_model):
    path, inp, out = conv_model
    with pytest.raises(Stm32genError, match=rf"device reports up to 10 detections, but {path.name} has no SSD head"):
        LiteRTReference(path, _info(inp, out, 10))
    ref = LiteRTReference(path, _info(inp, out, 0))  # no detections on either side: outputs only
    assert ref.expected(np.zeros(inp.shape, np.uint8 if inp.dtype == "uint8" else np.int8)).fixed is None


def test_a_record_with_unchecked_device_detections_is_an_error_not_ok(conv_model):
    _, inp, out = conv_model
    raw = bytes(out.nbytes)
    res = DeviceResult([raw], [(1, 100, 0, 0, 10, 10)], 1, "cycles", 0)
    exp = Expected([np.frombuffer(raw, out.dtype)])
    assert make_record("x", res, exp, _info(inp, out, 0), "a" * 64)["ok"]
    with pytest.raises(Stm32genError, match="input x: the device made detections but the reference has none"):
        make_record("x", res, exp, _info(inp, out, 10), "a" * 64)
