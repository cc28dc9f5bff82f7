"""Constant folding on ST's real models: everything shape-related folds, and every folded constant
equals what TFLite's built-in kernels compute for that tensor."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import FPNLITE_192, FPNLITE_256, FPNLITE_416, REAL_MODELS, ST_SSD_V1_192, litert_interpreter
from generator.analysis import layers
from generator.model.reader import read_model
from generator.passes import PASSES, run_passes
from generator.ssd import find_ssd_head

SHAPE_OPS = {"SHAPE", "STRIDED_SLICE", "PACK", "TILE"}


@pytest.mark.parametrize("model", REAL_MODELS, ids=lambda p: p.stem)
def test_every_folded_constant_equals_litert(model) -> None:
    graph = read_model(model)
    computed_before = {id(t) for op in graph.operators for t in op.outputs}
    graph = run_passes(graph, PASSES)
    folded = [t for t in graph.tensors() if id(t) in computed_before and t.is_constant]
    folded += [t for t in graph.outputs if t.is_constant and t not in folded]
    assert folded, "nothing was folded"
    interp = litert_interpreter(model)
    inp = interp.get_input_details()[0]
    interp.set_tensor(inp["index"], np.random.default_rng(0).integers(0, 256, inp["shape"], dtype=np.uint8))
    interp.invoke()
    for t in folded:
        expected = interp.get_tensor(t.index)
        assert expected.dtype == t.data.dtype and expected.shape == t.data.shape, t.name
        assert expected.tobytes() == t.data.tobytes(), f"folded '{t.name}' differs from LiteRT"


@pytest.mark.parametrize("model", REAL_MODELS, ids=lambda p: p.stem)
def test_shape_arithmetic_and_tiles_fold_away(model) -> None:
    graph = run_passes(read_model(model), PASSES)
    assert not SHAPE_OPS & set(graph.op_histogram())


@pytest.mark.parametrize(
    ("model", "anchors"),
    [(FPNLITE_192, 3845), (FPNLITE_256, 6820), (FPNLITE_416, 18070), (ST_SSD_V1_192, 3830)],
    ids=lambda v: getattr(v, "stem", str(v)),
)
def test_ssd_head_is_recognised_with_anchor_count_and_one_class(model, anchors) -> None:
    head = find_ssd_head(run_passes(read_model(model), PASSES))
    assert head is not None
    assert (head.num_anchors, head.num_classes) == (anchors, 1)
    assert (head.scores_index, head.boxes_index, head.anchors_index) == (0, 1, 2)
    assert head.anchors.is_constant and head.anchors.data.dtype == np.float32


def test_fpnlite_192_macs_match_the_published_121_8_million() -> None:
    macs = sum(layer.macs for layer in layers(run_passes(read_model(FPNLITE_192), PASSES)))
    assert abs(macs - 121.8e6) / 121.8e6 < 0.01


def test_graph_without_ssd_head_reports_none() -> None:
    graph = run_passes(read_model(ST_SSD_V1_192), PASSES)
    graph.outputs = graph.outputs[1:]  # drop the scores: no longer an SSD triple
    assert find_ssd_head(graph) is None
