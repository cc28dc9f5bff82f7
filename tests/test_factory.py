"""The test-model factory: the .tflite writer, the single-op builders and the SSD test detector.

Pins: writer output round-trips through our reader exactly and runs bit-identically in LiteRT
(on ST's real models too); every op fixture loads and runs on LiteRT's built-in kernels with the
shapes we declared; quantization follows the converter's conventions; the SSD test model has ST's
structure and shows a few detections on real photos.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tflite
from PIL import Image

from conftest import IMAGES_DIR, REAL_MODELS, ST_SSD_V1_192, litert_interpreter
from generator.errors import Stm32genError, UnsupportedOperatorError
from generator.factory.build import GraphBuilder, quant
from generator.factory.ops import GRAPH_BUILDERS, op_fixtures, op_graphs
from generator.factory.ssd import anchor_boxes, build_ssd_model, ssd_graph
from generator.factory.writer import write_model
from generator.model.ir import Graph, Tensor
from generator.model.reader import read_model, read_model_bytes

SEEDS = (0, 1, 2)
COUNT = 20  # op_fixtures' default


# -- helpers -----------------------------------------------------------------------------------
def _assert_same_tensor(a: Tensor, b: Tensor) -> None:
    assert (a.name, a.shape, np.dtype(a.dtype)) == (b.name, b.shape, np.dtype(b.dtype))
    assert (a.quant is None) == (b.quant is None), a.name
    if a.quant is not None:
        assert a.quant.scale.tobytes() == b.quant.scale.tobytes(), a.name
        assert a.quant.zero_point.tolist() == b.quant.zero_point.tolist(), a.name
        assert a.quant.axis == b.quant.axis, a.name
    assert (a.data is None) == (b.data is None), a.name
    if a.data is not None:
        assert a.data.tobytes() == b.data.tobytes(), a.name


def _assert_same_graph(a: Graph, b: Graph) -> None:
    assert [op.type for op in a] == [op.type for op in b]
    for x, y in zip(a, b, strict=True):
        assert x.options == y.options, x
        assert x.version == y.version, x
        assert len(x.inputs) == len(y.inputs) and len(x.outputs) == len(y.outputs)
        for s, t in zip(x.inputs + x.outputs, y.inputs + y.outputs, strict=True):
            assert (s is None) == (t is None)
            if s is not None:
                _assert_same_tensor(s, t)
    for s, t in zip(a.inputs + a.outputs, b.inputs + b.outputs, strict=True):
        _assert_same_tensor(s, t)
    assert (a.name, a.description, a.metadata) == (b.name, b.description, b.metadata)


def _random_inputs(interp, rng: np.random.Generator) -> None:
    for d in interp.get_input_details():
        info = np.iinfo(d["dtype"])
        interp.set_tensor(d["index"], rng.integers(info.min, info.max + 1, d["shape"], dtype=d["dtype"]))


def _load_image(path: Path, size: int) -> np.ndarray:
    # ST's preprocessing: plain nearest resize, raw uint8 RGB.
    return np.asarray(Image.open(path).convert("RGB").resize((size, size), Image.NEAREST))


# -- writer ------------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=REAL_MODELS, ids=lambda p: p.stem)
def real_round_trip(request):
    original = read_model(request.param)
    data = write_model(original)
    return request.param, original, data


def test_real_models_round_trip_through_writer_and_reader(real_round_trip):
    _, original, data = real_round_trip
    rewritten = read_model_bytes(data)
    _assert_same_graph(original, rewritten)
    # The source model's tensor order is kept, so indices survive too.
    assert [t.index for t in original.tensors()] == [t.index for t in rewritten.tensors()]


def test_rewritten_real_model_gives_litert_identical_outputs(real_round_trip):
    path, _, data = real_round_trip
    results = []
    for model in (path, data):
        interp = litert_interpreter(model, preserve=False)
        _random_inputs(interp, np.random.default_rng(7))
        interp.invoke()
        results.append([interp.get_tensor(d["index"]) for d in interp.get_output_details()])
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)


def test_writer_layout_follows_the_schema():
    data = write_model(read_model(ST_SSD_V1_192))
    assert data[4:8] == b"TFL3"
    model = tflite.Model.GetRootAsModel(data, 0)
    assert model.Version() == 3
    assert model.Buffers(0).DataLength() == 0  # buffer 0: the empty sentinel
    sg = model.Subgraphs(0)
    for i in range(sg.TensorsLength()):
        t = sg.Tensors(i)
        if t.Buffer():
            assert model.Buffers(t.Buffer()).DataLength() > 0
            # Constant data is 16-byte aligned in the file, as the converter writes it.
            offset = model.Buffers(t.Buffer()).DataAsNumpy().ctypes.data - np.frombuffer(data, np.uint8).ctypes.data
            assert offset % 16 == 0


def test_opcodes_above_127_use_the_placeholder_deprecated_code():
    g = GraphBuilder()
    x = g.tensor("x", (1, 8), np.float32)
    y = g.tensor("y", (1, 8), np.float32)
    g.op("GELU", [x], [y], {"approximate": True})
    data = write_model(g.graph([x], [y]))
    code = tflite.Model.GetRootAsModel(data, 0).OperatorCodes(0)
    assert (code.BuiltinCode(), code.DeprecatedBuiltinCode()) == (tflite.BuiltinOperator.GELU, 127)
    back = read_model_bytes(data)
    assert back.operators[0].type == "GELU" and back.operators[0].options == {"approximate": True}
    interp = litert_interpreter(data, preserve=False)
    interp.set_tensor(interp.get_input_details()[0]["index"], np.linspace(-3, 3, 8, dtype=np.float32)[None])
    interp.invoke()


def test_vector_options_round_trip():
    g = GraphBuilder()
    x = g.tensor("x", (1, 2, 3), np.int8, quant(0.1, 0))
    y = g.tensor("y", (6,), np.int8, quant(0.1, 0))
    g.op("RESHAPE", [x], [y], {"new_shape": [6]})
    assert read_model_bytes(write_model(g.graph([x], [y]))).operators[0].options == {"new_shape": [6]}


def test_writer_rejects_an_option_the_operator_does_not_have():
    g = GraphBuilder()
    x = g.tensor("x", (1, 4), np.int8, quant(0.1, 0))
    y = g.tensor("y", (1, 4), np.int8, quant(1 / 256, -128))
    g.op("SOFTMAX", [x], [y], {"beta": 1.0, "axis": 1})
    with pytest.raises(UnsupportedOperatorError, match="axis"):
        write_model(g.graph([x], [y]))


# -- single-op fixtures ------------------------------------------------------------------------
def test_op_fixtures_cover_every_builder_with_unique_names():
    fixtures = op_fixtures()
    assert len(fixtures) >= 200
    names = [name for name, _ in fixtures]
    assert len(set(names)) == len(names)
    types = {read_model_bytes(data).operators[0].type for _, data in fixtures}
    assert types == set(GRAPH_BUILDERS)


def test_op_fixtures_are_deterministic_per_seed():
    assert op_fixtures(0, 2) == op_fixtures(0, 2)
    assert [d for _, d in op_fixtures(0, 2)] != [d for _, d in op_fixtures(1, 2)]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("op_type", sorted(GRAPH_BUILDERS))
def test_op_fixture_runs_in_litert_with_declared_shapes(op_type, seed):
    graphs = [(n, g) for n, g in op_graphs(seed, COUNT) if g.operators[0].type == op_type]
    assert len(graphs) == COUNT
    rng = np.random.default_rng(seed)
    for name, graph in graphs:
        data = write_model(graph)
        _assert_same_graph(graph, read_model_bytes(data))
        interp = litert_interpreter(data, preserve=False)
        # LiteRT recomputes output shapes in Prepare: they must match what the model declares.
        for detail, tensor in zip(interp.get_output_details(), graph.outputs, strict=True):
            assert tuple(detail["shape"]) == tensor.shape, f"{name}: {graph.description}"
        _random_inputs(interp, rng)
        interp.invoke()
        out = interp.get_tensor(interp.get_output_details()[0]["index"])
        assert out.shape == graph.outputs[0].shape


SATURATING_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "MEAN")


def test_computing_ops_do_not_saturate_wholesale_on_random_inputs():
    rng = np.random.default_rng(3)
    checked = 0
    for name, graph in op_graphs(0, COUNT):
        op = graph.operators[0]
        if op.type not in SATURATING_OPS or graph.outputs[0].size < 64:
            continue
        interp = litert_interpreter(write_model(graph), preserve=False)
        _random_inputs(interp, rng)
        interp.invoke()
        out = interp.get_tensor(interp.get_output_details()[0]["index"])
        assert np.mean(out == 127) < 0.25, f"{name}: {graph.description}"
        if op.options.get("fused_activation_function", "NONE") == "NONE":
            assert np.mean(out == -128) < 0.25, f"{name}: {graph.description}"
        assert len(np.unique(out)) > 8, f"{name}: {graph.description}"
        checked += 1
    assert checked >= 40


def test_conv_quantization_follows_the_converter():
    for name, graph in op_graphs(0, COUNT):
        op = graph.operators[0]
        if op.type not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            continue
        x, w, b = op.inputs
        axis = 0 if op.type == "CONV_2D" else 3
        assert w.quant.axis == axis and w.quant.scale.size == w.shape[axis], name
        assert not w.quant.zero_point.any() and np.abs(w.data.astype(int)).max() <= 127, name
        assert b.dtype == np.int32 and not b.quant.zero_point.any(), name
        expected = (np.float32(x.quant.scalar_scale) * w.quant.scale).astype(np.float32)
        np.testing.assert_array_equal(b.quant.scale, expected, err_msg=name)


def test_softmax_outputs_use_the_scale_tflite_requires():
    outs = [g.outputs[0].quant for _, g in op_graphs(0, COUNT) if g.operators[0].type == "SOFTMAX"]
    assert outs and all(q.scalar_scale == 1 / 256 and q.scalar_zero_point == -128 for q in outs)


def test_fixture_choices_cover_the_variants():
    seen = {}
    for _, g in op_graphs(0, COUNT):
        op = g.operators[0]
        seen.setdefault(op.type, set()).add(tuple(sorted((k, str(v)) for k, v in op.options.items()
                                                         if k in ("padding", "fused_activation_function",
                                                                  "stride_h", "depth_multiplier", "keep_dims",
                                                                  "align_corners", "half_pixel_centers"))))
    assert len(seen["CONV_2D"]) == 12  # 3 activations x 2 paddings x 2 strides
    assert {dict(v).get("depth_multiplier") for v in seen["DEPTHWISE_CONV_2D"]} >= {"1", "2", "3"}
    assert {dict(v)["keep_dims"] for v in seen["MEAN"]} == {"True", "False"}
    assert len(seen["RESIZE_BILINEAR"]) == 3
    in_types = {g.inputs[0].dtype for _, g in op_graphs(0, COUNT) if g.operators[0].type == "QUANTIZE"}
    assert in_types == {np.dtype(np.uint8), np.dtype(np.int8)}


# -- SSD test detector -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ssd_model() -> bytes:
    return build_ssd_model()


def test_ssd_model_has_st_structure(ssd_model):
    g = read_model_bytes(ssd_model)
    (image,) = g.inputs
    assert image.dtype == np.uint8 and image.shape == (1, 64, 64, 3)
    assert (image.quant.scalar_scale, image.quant.scalar_zero_point) == (np.float32(1 / 127.5), 127)
    assert g.operators[0].type == "QUANTIZE"
    hist = g.op_histogram()
    for op_type in ("SHAPE", "STRIDED_SLICE", "PACK", "TILE", "RESIZE_BILINEAR", "ADD", "PAD"):
        assert hist.get(op_type, 0) >= 1, op_type
    producers = g.producers()
    pad = next(op for op in g if op.type == "PAD")
    after_pad = next(op for op in g if pad.outputs[0] in op.inputs)
    assert after_pad.options["padding"] == "VALID" and after_pad.options["stride_h"] == 2
    assert next(op for op in g if op.type == "RESIZE_BILINEAR").options["half_pixel_centers"] is True

    scores, boxes, anchors = g.outputs
    num_anchors = scores.shape[1]
    assert (scores.shape, boxes.shape, anchors.shape) == ((1, num_anchors, 2), (1, num_anchors, 4), (1, num_anchors, 4))

    def chain(t: Tensor) -> list[str]:
        types = []
        while (op := producers.get(id(t))) is not None and op.type != "CONCATENATION":
            types.append(op.type)
            t = op.inputs[0]
        return types

    assert chain(scores) == ["DEQUANTIZE", "SOFTMAX"] and chain(boxes) == chain(anchors) == ["DEQUANTIZE"]
    for out in (scores, boxes, anchors):
        concat = producers[id(producers[id(out)].inputs[0])]
        if concat.type == "SOFTMAX":
            concat = producers[id(concat.inputs[0])]
        assert concat.type == "CONCATENATION" and concat.options["axis"] == 1 and len(concat.inputs) >= 2
        for part in concat.inputs:  # every part: RESHAPE(x, PACK(STRIDED_SLICE(SHAPE(..)), ...))
            reshape = producers[id(part)]
            pack = producers[id(reshape.inputs[1])]
            slice_ = producers[id(pack.inputs[0])]
            assert (reshape.type, pack.type, slice_.type, producers[id(slice_.inputs[0])].type) == (
                "RESHAPE", "PACK", "STRIDED_SLICE", "SHAPE")
    anchor_sources = [producers[id(producers[id(p)].inputs[0])] for p in concat.inputs]
    for tile in anchor_sources:  # anchors: TILE(const [1,h,w,A,4], PACK(batch, 1, 1, 1, 1))
        assert tile.type == "TILE" and tile.inputs[0].is_constant and len(tile.inputs[0].shape) == 5
        assert producers[id(tile.inputs[1])].type == "PACK"


def test_ssd_anchors_are_normalised_corner_boxes():
    boxes = anchor_boxes(8, 8, 0.25)
    assert boxes.min() >= 0.0 and boxes.max() <= 1.0
    assert (boxes[..., 2] > boxes[..., 0]).all() and (boxes[..., 3] > boxes[..., 1]).all()


def test_ssd_model_detects_a_few_anchors_on_real_photos(ssd_model):
    interp = litert_interpreter(ssd_model, preserve=False)
    photos = sorted(IMAGES_DIR.glob("*.jpg")) + sorted(IMAGES_DIR.glob("*.png"))
    assert photos
    for photo in photos:
        interp.set_tensor(interp.get_input_details()[0]["index"], _load_image(photo, 64)[None])
        interp.invoke()
        scores, offsets, anchors = (interp.get_tensor(d["index"])[0] for d in interp.get_output_details())
        positive = scores[:, 1] > 0.5
        assert 1 <= positive.sum() <= 0.25 * len(scores), photo.name
        assert anchors.min() >= 0 and anchors.max() <= 1
        # ST's decode: corners move by offsets scaled with the anchor size; results stay near [0, 1].
        size = np.concatenate([anchors[:, 2:] - anchors[:, :2]] * 2, axis=1)
        decoded = offsets * size + anchors
        assert decoded.min() > -0.5 and decoded.max() < 1.5, photo.name
        assert (decoded[positive, 2] > decoded[positive, 0]).all() and (decoded[positive, 3] > decoded[positive, 1]).all()


def test_ssd_model_is_deterministic(ssd_model):
    assert build_ssd_model() == ssd_model
    assert build_ssd_model(seed=1) != ssd_model


@pytest.mark.parametrize(("seed", "size"), [(1, 64), (2, 96), (3, 50)])
def test_ssd_variants_run_in_litert(seed, size):
    data = build_ssd_model(seed, size)
    _assert_same_graph(read_model_bytes(data), read_model_bytes(write_model(read_model_bytes(data))))
    interp = litert_interpreter(data, preserve=False)
    _random_inputs(interp, np.random.default_rng(seed))
    interp.invoke()
    scores = interp.get_tensor(interp.get_output_details()[0]["index"])[0]
    assert scores.shape == (ssd_graph(seed, size).outputs[0].shape[1], 2)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, atol=0.02)


def test_ssd_rejects_an_input_size_it_cannot_build():
    with pytest.raises(Stm32genError, match="16"):
        build_ssd_model(input_size=16)
