"""The C kernels reproduce LiteRT's built-in int8 kernels byte for byte.

Every operator of every real model is run in isolation on the exact input tensors LiteRT computed
(one real image and one random input), through the parameters `kernel_calls()` derives for the code
generator, and compared with LiteRT's output tensor. The lowered graph (PAD folded into the
convolution, concatenation inputs produced in place) is checked the same way.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from kernel_harness import KernelLib, build_library
from PIL import Image

from conftest import IMAGES_DIR, REAL_MODELS, litert_interpreter
from generator.codegen.kernel_params import SUPPORTED_OPS, kernel_calls
from generator.model.ir import Graph, Operator
from generator.model.reader import read_model, read_model_bytes
from generator.pipeline import load_graph, lower_graph

# Pure shape ops fold away before code generation; they have no kernel.
SHAPE_OPS = {"SHAPE", "STRIDED_SLICE", "PACK", "TILE", "RESHAPE"}


BUILDS = {"sse2": (), "portable": ("-DSG_PORTABLE",), "dsp": ("-DSG_EMULATE_DSP",)}


@pytest.fixture(scope="module", params=sorted(BUILDS))
def kernels(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> KernelLib:
    """Every code path: the SSE2 loops a host build takes, the portable C loops, and the SMLAD path
    of the Cortex-M build (its DSP instructions emulated in C on the host)."""
    return KernelLib(build_library(tmp_path_factory.mktemp("kernels"), BUILDS[request.param]))


def model_inputs(interp, seed: int) -> list[np.ndarray]:
    """One real image (nearest-resized to the input size) and one uniform random input."""
    detail = interp.get_input_details()[0]
    shape, dtype = detail["shape"], detail["dtype"]
    image = (
        Image.open(IMAGES_DIR / "vtest_0000.jpg").convert("RGB").resize((int(shape[2]), int(shape[1])), Image.NEAREST)
    )
    info = np.iinfo(dtype)
    rng = np.random.default_rng(seed)
    real = np.asarray(image, dtype=np.uint8).reshape(shape)
    if dtype != np.uint8:
        real = (real.astype(np.int16) - 128).astype(dtype)
    noise = rng.integers(info.min, info.max + 1, size=shape).astype(dtype)
    return [real, noise]


def tensor_value(interp, t) -> np.ndarray:
    if t.data is not None:
        return np.asarray(t.data)
    return interp.get_tensor(t.index)


def run_op(kernels: KernelLib, interp, op: Operator) -> np.ndarray:
    """Run the kernel calls of `op`; in-place concatenation inputs are pre-placed in the output
    exactly where the memory plan would have produced them."""
    out_t = op.outputs[0]
    out = np.zeros(out_t.shape, dtype=out_t.dtype)
    flat = out.reshape(-1).view(np.uint8)
    if op.type == "CONCATENATION":
        for t in op.inputs:
            if t.storage is out_t.storage and t.alias_of is not None:
                raw = tensor_value(interp, t).reshape(-1).view(np.uint8)
                start = t.storage_offset - out_t.storage_offset
                flat[start : start + raw.size] = raw
    for call in kernel_calls(op):
        kernels.run(call, [tensor_value(interp, t) for t in call.args[:-1]], out)
    return out


def compare_graph(kernels: KernelLib, interp, graph: Graph) -> tuple[Counter, list[str]]:
    counts: Counter = Counter()
    failures: list[str] = []
    for op in graph.operators:
        if op.type in SHAPE_OPS:
            continue
        assert op.type in SUPPORTED_OPS, f"op #{op.index} {op.type} has no kernel"
        got = run_op(kernels, interp, op)
        want = interp.get_tensor(op.outputs[0].index)
        counts[op.type] += 1
        if got.tobytes() != want.reshape(got.shape).astype(got.dtype).tobytes() or got.dtype != want.dtype:
            diff = np.abs(got.astype(np.float64) - want.reshape(got.shape).astype(np.float64))
            failures.append(
                f"op #{op.index} {op.type} -> {op.outputs[0].name!r}: max abs diff {diff.max():g}, "
                f"{int((diff > 0).sum())}/{diff.size} elements differ"
            )
    return counts, failures


@pytest.mark.parametrize("model", REAL_MODELS, ids=lambda p: p.stem)
def test_every_real_model_op_is_byte_identical_to_litert(kernels: KernelLib, model: Path) -> None:
    raw = read_model(model)
    lowered = lower_graph(load_graph(model))
    interp = litert_interpreter(model)
    detail = interp.get_input_details()[0]
    total: Counter = Counter()
    failures: list[str] = []
    for i, x in enumerate(model_inputs(interp, seed=len(model.stem))):
        interp.set_tensor(detail["index"], x)
        interp.invoke()
        for label, graph in (("raw", raw), ("lowered", lowered)):
            counts, bad = compare_graph(kernels, interp, graph)
            total.update(counts)
            failures += [f"input {i} {label}: {msg}" for msg in bad]
    assert not failures, f"{model.name}: {len(failures)} mismatching ops\n" + "\n".join(failures)
    # The comparison really covered the convolutions (and the folded-PAD ones).
    assert total["CONV_2D"] >= 4 * 31 and total["DEPTHWISE_CONV_2D"] >= 4 * 15
    assert any("explicit_padding" in op.options for op in lowered.operators)


# ---------------------------------------------------------------------------------------------
# Random single-operator models (generator.factory.ops): every kernel option the factory covers.

FIXTURES_PER_OP = 24  # x 10 operator types = 240 configurations


@pytest.fixture(scope="module")
def fixtures() -> dict[str, list[tuple[str, bytes]]]:
    from generator.factory.ops import op_fixtures

    by_op: dict[str, list[tuple[str, bytes]]] = {}
    for name, data in op_fixtures(seed=7, count_per_op=FIXTURES_PER_OP):
        by_op.setdefault(read_model_bytes(data).operators[-1].type, []).append((name, data))
    return by_op


def random_feed(interp, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for detail in interp.get_input_details():
        dtype = detail["dtype"]
        if np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            x = rng.integers(info.min, info.max + 1, size=detail["shape"]).astype(dtype)
        else:
            x = rng.standard_normal(detail["shape"]).astype(dtype)
        interp.set_tensor(detail["index"], x)


def check_single_op_models(kernels: KernelLib, models: list[tuple[str, bytes]]) -> int:
    failures, checked = [], 0
    for n, (name, data) in enumerate(models):
        graph = read_model_bytes(data)
        interp = litert_interpreter(data)
        random_feed(interp, seed=n)
        interp.invoke()
        counts, bad = compare_graph(kernels, interp, graph)
        checked += sum(counts.values())
        failures += [f"{name} ({graph.name}): {msg}" for msg in bad]
    assert not failures, "\n".join(failures)
    return checked


@pytest.mark.parametrize("op_type", SUPPORTED_OPS)
def test_random_single_op_models_are_byte_identical_to_litert(kernels: KernelLib, fixtures, op_type: str) -> None:
    models = fixtures.get(op_type, [])
    assert len(models) == FIXTURES_PER_OP, f"factory produced {len(models)} {op_type} models"
    assert check_single_op_models(kernels, models) == FIXTURES_PER_OP


@pytest.mark.parametrize("op_type", ["CONV_2D", "DEPTHWISE_CONV_2D"])
def test_dilated_convolutions_are_byte_identical_to_litert(kernels: KernelLib, op_type: str) -> None:
    """The factory draws no dilation, so dilate its SAME convolutions (same output shape)."""
    from generator.factory.ops import op_graphs
    from generator.factory.writer import write_model

    models = []
    for name, graph in op_graphs(seed=11, count_per_op=12):
        op = graph.operators[-1]
        if op.type != op_type or op.options.get("padding") != "SAME":
            continue
        op.options = {**op.options, "dilation_hfactor": 2, "dilation_wfactor": 3}
        if max(op.inputs[1].shape[1:3]) > 1:
            models.append((name + "-dilated", write_model(graph)))
    assert len(models) >= 3
    check_single_op_models(kernels, models)


def test_add_matches_litert_on_every_input_pair(kernels: KernelLib) -> None:
    """ADD over all 256 x 256 int8 input pairs, for several random quantizations: the rounding
    steps of the three rescalings leave no corner untested."""
    from generator.factory.build import GraphBuilder, random_input_quant
    from generator.factory.writer import write_model
    from generator.model.ir import Quantization

    xa = np.repeat(np.arange(-128, 128, dtype=np.int8), 256).reshape(1, 256, 256, 1)
    xb = np.tile(np.arange(-128, 128, dtype=np.int8), 256).reshape(1, 256, 256, 1)
    failures = []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        g = GraphBuilder("ADD every pair")
        out_q = Quantization(np.array([rng.uniform(0.02, 0.3)], np.float32), np.array([int(rng.integers(-20, 20))]))
        a = g.tensor("a", (1, 256, 256, 1), np.int8, random_input_quant(rng, 24.0))
        b = g.tensor("b", (1, 256, 256, 1), np.int8, random_input_quant(rng, 24.0))
        y = g.tensor("y", (1, 256, 256, 1), np.int8, out_q)
        g.op("ADD", [a, b], [y], {"fused_activation_function": "NONE", "pot_scale_int16": True}, version=2)
        data = write_model(g.graph([a, b], [y]))
        interp = litert_interpreter(data)
        details = interp.get_input_details()
        interp.set_tensor(details[0]["index"], xa)
        interp.set_tensor(details[1]["index"], xb)
        interp.invoke()
        want = interp.get_tensor(interp.get_output_details()[0]["index"])
        got = kernels.run(kernel_calls(read_model_bytes(data).operators[-1])[0], [xa, xb])
        if not np.array_equal(got, want):
            failures.append(f"seed {seed}: {int((got != want).sum())} of 65536 pairs differ")
    assert not failures, "\n".join(failures)
