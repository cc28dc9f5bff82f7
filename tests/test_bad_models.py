"""Valid flatbuffers that stm32gen cannot target: one clear line naming the problem, exit code 2."""

from __future__ import annotations

import flatbuffers
import numpy as np
import pytest
import tflite
from typer.testing import CliRunner

from generator.cli import app
from generator.factory.build import GraphBuilder, quant
from generator.factory.writer import write_model

runner = CliRunner()


def _float_conv_model() -> bytes:
    b = GraphBuilder()
    x = b.tensor("input", (1, 8, 8, 3), np.float32)
    w = b.const("weights", np.ones((4, 3, 3, 3), np.float32))
    bias = b.const("bias", np.zeros(4, np.float32))
    y = b.tensor("output", (1, 8, 8, 4), np.float32)
    b.op("CONV_2D", [x, w, bias], [y], {"padding": "SAME", "stride_h": 1, "stride_w": 1,
                                        "fused_activation_function": "NONE", "dilation_hfactor": 1,
                                        "dilation_wfactor": 1})
    return write_model(b.graph([x], [y]))


def _single_op_model(op_type: str, options: dict | None = None, extra_inputs=()) -> bytes:
    b = GraphBuilder()
    q = quant(0.05, 0)
    x = b.tensor("input", (1, 4, 4, 8), np.int8, q)
    y = b.tensor("output", (1, 4, 4, 8), np.int8, q)
    b.op(op_type, [x, *(b.int32(f"arg{i}", v) for i, v in enumerate(extra_inputs))], [y], options or {})
    return write_model(b.graph([x], [y]))


def _raw_model(subgraphs_count: int, custom_code: str | None = None) -> bytes:
    """A minimal model written with the schema's builders: empty subgraphs, or one subgraph whose
    only operator is a CUSTOM op (our writer refuses to write either)."""
    fb = flatbuffers.Builder(0)
    opcodes = []
    if custom_code is not None:
        name = fb.CreateString(custom_code)
        tflite.OperatorCodeStart(fb)
        tflite.OperatorCodeAddDeprecatedBuiltinCode(fb, tflite.BuiltinOperator.CUSTOM)
        tflite.OperatorCodeAddBuiltinCode(fb, tflite.BuiltinOperator.CUSTOM)
        tflite.OperatorCodeAddCustomCode(fb, name)
        opcodes.append(tflite.OperatorCodeEnd(fb))
        tflite.OperatorStart(fb)
        tflite.OperatorAddOpcodeIndex(fb, 0)
        ops = [tflite.OperatorEnd(fb)]
    subgraphs = []
    for _ in range(subgraphs_count):
        if custom_code is not None:
            tflite.SubGraphStartOperatorsVector(fb, 1)
            fb.PrependUOffsetTRelative(ops[0])
            op_vec = fb.EndVector()
        tflite.SubGraphStart(fb)
        if custom_code is not None:
            tflite.SubGraphAddOperators(fb, op_vec)
        subgraphs.append(tflite.SubGraphEnd(fb))
    tflite.ModelStartOperatorCodesVector(fb, len(opcodes))
    for oc in reversed(opcodes):
        fb.PrependUOffsetTRelative(oc)
    oc_vec = fb.EndVector()
    tflite.ModelStartSubgraphsVector(fb, len(subgraphs))
    for sg in reversed(subgraphs):
        fb.PrependUOffsetTRelative(sg)
    vec = fb.EndVector()
    tflite.ModelStart(fb)
    tflite.ModelAddVersion(fb, 3)
    tflite.ModelAddSubgraphs(fb, vec)
    tflite.ModelAddOperatorCodes(fb, oc_vec)
    fb.Finish(tflite.ModelEnd(fb), file_identifier=b"TFL3")
    return bytes(fb.Output())


@pytest.mark.parametrize(
    ("make_model", "message"),
    [
        (_float_conv_model, "float model"),
        (lambda: _single_op_model("HARD_SWISH"), "operator #0 HARD_SWISH is not supported"),
        (lambda: _raw_model(1, custom_code="TFLite_Detection_PostProcess"),
         "operator #0 CUSTOM 'TFLite_Detection_PostProcess' is not supported"),
        # A TILE of a computed tensor is not shape arithmetic on constants: it cannot fold.
        (lambda: _single_op_model("TILE", extra_inputs=([1, 1, 1, 1],)), "operator #0 TILE is not supported"),
        (lambda: _raw_model(2), "2 subgraphs"),
    ],
    ids=["float", "unsupported-op", "custom-op", "unfoldable-shape-op", "several-subgraphs"],
)
def test_untargetable_model_gives_one_line_and_exit_2(tmp_path, make_model, message) -> None:
    path = tmp_path / "model.tflite"
    path.write_bytes(make_model())
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 2, result.output
    assert message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
