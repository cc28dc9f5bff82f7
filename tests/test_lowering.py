"""Lowering rewrites that the generated network relies on."""

from __future__ import annotations

import numpy as np

from conftest import FPNLITE_192, ST_SSD_V1_192
from generator.pipeline import load_graph, lower_graph


def test_pad_before_valid_conv_becomes_explicit_padding() -> None:
    graph = load_graph(FPNLITE_192)
    pads_before = graph.op_histogram()["PAD"]
    graph = lower_graph(graph)
    assert "PAD" not in graph.op_histogram()
    padded = [op for op in graph.operators if "explicit_padding" in op.options]
    assert len(padded) == pads_before
    assert all(op.type in ("CONV_2D", "DEPTHWISE_CONV_2D") and op.options["padding"] == "VALID" for op in padded)


def test_pad_feeding_an_add_is_kept() -> None:
    # st_ssd_v1 pads an upsampled map before an ADD: that PAD must stay a real operator.
    graph = lower_graph(load_graph(ST_SSD_V1_192))
    pads = [op for op in graph.operators if op.type == "PAD"]
    assert len(pads) == 1 and graph.consumers()[id(pads[0].outputs[0])][0].type == "ADD"


def test_outputs_become_int8_before_dequantize_and_float_outputs_are_kept() -> None:
    graph = lower_graph(load_graph(FPNLITE_192))
    assert "DEQUANTIZE" not in graph.op_histogram()
    assert [t.dtype for t in graph.outputs[:2]] == [np.int8, np.int8]
    assert graph.outputs[2].is_constant  # anchors
    assert [t.dtype for t in graph.float_outputs] == [np.float32] * 3


def test_concat_inputs_are_slices_of_the_output() -> None:
    graph = lower_graph(load_graph(FPNLITE_192))
    for op in (o for o in graph.operators if o.type == "CONCATENATION"):
        out, offset = op.outputs[0], 0
        for t in op.inputs:
            assert t.storage is out.storage and t.storage_offset == offset, t.name
            offset += t.nbytes


def test_input_quantize_runs_in_place() -> None:
    graph = lower_graph(load_graph(FPNLITE_192))
    quant = graph.operators[0]
    assert quant.type == "QUANTIZE" and quant.outputs[0].storage is graph.inputs[0]
