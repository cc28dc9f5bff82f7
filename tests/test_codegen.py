"""The generated network and host project: layout, determinism, manifest, runner I/O, debugging."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from generator.cli import app
from generator.codegen import litert
from generator.codegen.build import build_host
from generator.codegen.constants import with_kernel_constants
from generator.codegen.debug import first_mismatch
from generator.codegen.kernel_params import kernel_calls
from generator.codegen.network import render_network, weight_blobs
from generator.codegen.plan_hash import plan_hash
from generator.codegen.project import generate_project, sha256_file
from generator.numerics import dequantize
from generator.pipeline import load_graph, lower_graph
from generator.planner import plan_memory
from generator.runner import InputError, RunError, item_shape, load_inputs, run_batch
from generator.targets import load_target
from tests.conftest import FPNLITE_192, IMAGES_DIR, ST_SSD_V1_192

MODEL = ST_SSD_V1_192  # the smallest real model: every test here stays fast


@pytest.fixture(scope="module")
def lowered():
    graph = lower_graph(load_graph(MODEL))
    return graph, with_kernel_constants(plan_memory(graph, load_target("host")), graph)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("st_ssd")
    gen = generate_project(MODEL, "host", out)
    build_host(out)
    return out, gen


def _files(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()
            and not p.relative_to(d).parts[0].startswith("build")}


def test_regenerating_gives_byte_identical_files(tmp_path, built):
    out, _ = built
    generate_project(MODEL, "host", tmp_path)
    assert _files(tmp_path) == _files(out)


def test_each_constant_sits_at_its_planned_offset_in_the_blob(lowered):
    _, plan = lowered
    (blob,) = weight_blobs(plan)
    assert blob.region == "ROM" and blob.section == ".weights.ROM"
    assert len(blob.data) == plan.region("ROM").weights_bytes
    for w in plan.weights:
        assert blob.data[w.offset:w.offset + w.size] == np.ascontiguousarray(w.tensor.data).tobytes(), w.tensor.name


def test_weights_c_literal_decodes_to_the_blob(lowered):
    graph, plan = lowered
    src = render_network(graph, plan, MODEL.name, "0" * 64).files["weights.c"].decode()
    body = "".join(re.findall(r'^\s*"((?:\\x[0-9a-f]{2})*)"', src, flags=re.M))
    assert bytes.fromhex(body.replace("\\x", "")) == weight_blobs(plan)[0].data


def test_operators_map_to_straight_line_kernel_calls(lowered):
    """One call per kernel call of every operator, none for aliased RESHAPEs, in graph order."""
    graph, plan = lowered
    c = render_network(graph, plan, MODEL.name, "0" * 64).files["network.c"].decode()
    run_body = c[c.index("int stm32gen_network_run(void)"):]
    called = re.findall(r"^    (sg_\w+)\(&op", run_body, flags=re.M)
    expected = [k.function for op in graph.operators if op.type != "RESHAPE" for k in kernel_calls(op)]
    assert called == expected
    assert "RESHAPE" in graph.op_histogram() and "sg_reshape" not in c
    assert re.search(r'section\("\.arena\.RAM"\)', c)
    assert f"static uint8_t stm32gen_arena_ram[{plan.region('RAM').activations_bytes}]" in c


def test_executable_links_arena_and_weights_sections_at_planned_sizes(built):
    out, gen = built
    heads = subprocess.run(["objdump", "-h", str(out / "build" / "stm32gen_host")], capture_output=True, text=True,
                           check=True).stdout
    sizes = {m[0]: int(m[1], 16) for m in re.findall(r"^\s*\d+\s+(\S+)\s+([0-9a-f]+)", heads, flags=re.M)}
    regions = {r["name"]: r for r in gen.manifest["plan"]["regions"]}
    assert sizes[".arena.RAM"] == regions["RAM"]["activations_bytes"]
    assert sizes[".weights.ROM"] == regions["ROM"]["weights_bytes"]


def test_manifest_records_model_target_plan_and_outputs(built, lowered):
    out, gen = built
    m = gen.manifest
    assert (out / m["model"]).resolve() == MODEL.resolve() and m["model_sha256"] == sha256_file(MODEL)
    assert m["target"] == "host" and m["plan_hash"] == plan_hash(lowered[1]) and len(m["plan_hash"]) == 16
    assert [o["name"] for o in m["outputs"]] == ["StatefulPartitionedCall:2", "StatefulPartitionedCall:1",
                                                 "StatefulPartitionedCall:0"]
    assert [o["dtype"] for o in m["outputs"]] == ["float32"] * 3
    assert [o["raw_dtype"] for o in m["outputs"]] == ["int8", "int8", "float32"]
    assert m["outputs"][2]["constant"] and not m["outputs"][2]["dequantize"]
    assert m["postprocess"]["scores_output"] == 0 and m["postprocess"]["boxes_output"] == 1
    network_c = (out / "src" / "network.c").read_text()
    assert f'stm32gen_model_sha256[65] = "{m["model_sha256"]}"' in network_c
    assert f'stm32gen_plan_hash[17] = "{m["plan_hash"]}"' in network_c


def test_dequantize_reproduces_litert_float_outputs_bit_for_bit():
    graph = lower_graph(load_graph(FPNLITE_192))
    interp = litert.interpreter(FPNLITE_192)
    outs = litert.run(interp, np.random.default_rng(3).integers(0, 256, (1, 192, 192, 3), dtype=np.uint8))
    single_formula_exact = []
    for raw, ref in zip(graph.outputs[:2], outs[:2], strict=True):
        q = litert.tensor(interp, raw.index)
        ours = dequantize(q, raw.quant.scalar_scale, raw.quant.scalar_zero_point)
        assert ours.tobytes() == ref.tobytes()
        single = (np.float64(np.float32(raw.quant.scalar_scale)) * (q.astype(np.float64) - raw.quant.scalar_zero_point))
        single_formula_exact.append(single.astype(np.float32).tobytes() == ref.tobytes())
    # why the block structure matters: one formula for every element is an ulp off on the box offsets
    assert single_formula_exact == [True, False]


def test_batch_results_equal_one_by_one_results(built):
    out, gen = built
    batch = np.random.default_rng(5).integers(0, 256, (3, 192, 192, 3), dtype=np.uint8)
    together = run_batch(out, batch)
    for k in range(3):
        alone = run_batch(out, batch[k:k + 1])[0]
        assert all(alone[key].tobytes() == together[k][key].tobytes() for key in alone)
    assert together[0]["output_0"].tobytes() != together[1]["output_0"].tobytes()


def test_npy_inputs_accept_hwc_and_nhwc(tmp_path):
    img = np.arange(192 * 192 * 3, dtype=np.uint32).astype(np.uint8).reshape(192, 192, 3)
    np.save(tmp_path / "hwc.npy", img)
    np.save(tmp_path / "nhwc.npy", np.stack([img, img]))
    assert load_inputs(tmp_path / "hwc.npy", (1, 192, 192, 3)).shape == (1, 192, 192, 3)
    assert load_inputs(tmp_path / "nhwc.npy", (1, 192, 192, 3)).shape == (2, 192, 192, 3)


def test_images_are_converted_to_rgb_and_resized_nearest():
    from PIL import Image

    got = load_inputs(IMAGES_DIR / "messi5.jpg", (1, 192, 192, 3))
    with Image.open(IMAGES_DIR / "messi5.jpg") as im:
        want = np.asarray(im.convert("RGB").resize((192, 192), Image.NEAREST))
    assert got.shape == (1, 192, 192, 3) and np.array_equal(got[0], want)


@pytest.mark.parametrize(("content", "name", "message"), [
    (np.zeros((192, 192, 3), np.float32), "float.npy", "dtype float32"),
    (np.zeros((100, 100, 3), np.uint8), "small.npy", "shape [1, 100, 100, 3]"),
    (None, "notes.txt", "neither .npy nor an image"),
    (None, "broken.png", "not a readable image"),
])
def test_bad_inputs_raise_input_error_naming_the_problem(tmp_path, content, name, message):
    path = tmp_path / name
    if content is None:
        path.write_text("hello")
    else:
        np.save(path, content)
    with pytest.raises(InputError, match=re.escape(message)):
        load_inputs(path, (1, 192, 192, 3))


def test_run_before_build_is_a_clear_error(tmp_path):
    generate_project(MODEL, "host", tmp_path)
    with pytest.raises(RunError, match="stm32gen build"):
        run_batch(tmp_path, np.zeros((1, 192, 192, 3), np.uint8))


def test_first_mismatch_names_the_layer_that_was_corrupted(tmp_path):
    generate_project(MODEL, "host", tmp_path)
    image = np.random.default_rng(7).integers(0, 256, (1, 192, 192, 3), dtype=np.uint8)
    assert first_mismatch(tmp_path, MODEL, image) is None
    src = tmp_path / "src" / "network.c"
    text = src.read_text()
    block = re.search(r"static const sg_dwconv_params_t (op(\d+)) = \{.*?\n\};", text, flags=re.S)
    corrupted = re.sub(r"\.out_zp = (-?\d+)", lambda m: f".out_zp = {int(m[1]) + 3}", block[0])
    src.write_text(text.replace(block[0], corrupted))
    found = first_mismatch(tmp_path, MODEL, image)
    assert found is not None
    assert (found.op_index, found.op_type) == (int(block[2]), "DEPTHWISE_CONV_2D")
    assert found.count > 0 and found.max_abs_diff >= 1


def test_cli_generate_build_run_writes_the_outputs_npz(tmp_path):
    runner = CliRunner()
    proj = tmp_path / "proj"
    assert runner.invoke(app, ["generate", str(MODEL), "--out", str(proj), "--target", "host"]).exit_code == 0
    assert runner.invoke(app, ["build", str(proj)]).exit_code == 0
    npz = tmp_path / "out.npz"
    res = runner.invoke(app, ["run", str(proj), "--input", str(IMAGES_DIR / "messi5.jpg"), "--out", str(npz)])
    assert res.exit_code == 0, res.output
    with np.load(npz) as data:
        assert sorted(data.files) == ["detections", "output_0", "output_1", "output_2"]
        assert data["output_0"].shape == (1, 3830, 2) and data["output_0"].dtype == np.float32
        assert data["detections"].shape[1] == 6


def test_cli_reports_user_errors_with_exit_code_2(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["generate", str(MODEL), "--out", str(tmp_path / "p"), "--target", "no-such-board"])
    assert res.exit_code == 2 and "unknown target 'no-such-board'" in res.output
    res = runner.invoke(app, ["run", str(tmp_path / "missing"), "--input", "x.npy", "--out", "o.npz"])
    assert res.exit_code == 2 and "stm32gen.json" in res.output


def test_host_validation_server_answers_the_same_bytes_as_the_runner(built):
    """The project's second executable runs the boards' validation server on the same network: over
    the serial protocol it must report this model and plan, and give exactly the runner's bytes."""
    from generator.validation.hostserver import HostServer
    from generator.validation.link import Link

    out, gen = built
    m = gen.manifest
    image = load_inputs(IMAGES_DIR / "messi5.jpg", m["input"]["shape"])
    want = run_batch(out, image, raw=True)[0]
    with HostServer(out / "build" / "stm32gen_server") as url, Link(url) as link:
        link.handshake(m["model_sha256"], m["plan_hash"])
        link.write_input(image.tobytes())
        assert link.run().rc == 0
        for i in range(len(m["outputs"])):
            assert link.read_output(i, want[f"output_{i}"].nbytes) == want[f"output_{i}"].tobytes()
        assert link.read_detections() == [tuple(int(v) for v in r) for r in want["detection_records"]]


SINGLE_INPUT_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "RESIZE_BILINEAR", "SOFTMAX", "QUANTIZE", "PAD", "MEAN", "RESHAPE")


def _op_models():
    from generator.factory.ops import op_fixtures

    return [(name, data) for name, data in op_fixtures(seed=2, count_per_op=2)
            if name.split("-")[0].upper() in SINGLE_INPUT_OPS]


@pytest.mark.parametrize(("name", "data"), _op_models(), ids=lambda v: v if isinstance(v, str) else "")
def test_single_operator_models_run_bit_exact_end_to_end(tmp_path, name, data):
    """Graph-level codegen on small models: aliases, in-place quantize, outputs that are views."""
    model = tmp_path / f"{name}.tflite"
    model.write_bytes(data)
    gen = generate_project(model, "host", tmp_path / "p")
    build_host(tmp_path / "p")
    inp = gen.manifest["input"]
    info = np.iinfo(inp["dtype"])
    batch = np.random.default_rng(0).integers(info.min, info.max + 1, (2, *item_shape(inp["shape"])),
                                              dtype=inp["dtype"])
    results = run_batch(tmp_path / "p", batch)
    interp = litert.interpreter(model)
    for k in range(len(batch)):
        for i, ref in enumerate(litert.run(interp, batch[k])):
            got = results[k][f"output_{i}"]
            assert got.dtype == ref.dtype and got.tobytes() == ref.tobytes(), (name, k, i)


def test_regenerating_another_model_into_a_project_drops_its_old_sources(tmp_path):
    from generator.factory.ops import op_fixtures

    generate_project(MODEL, "host", tmp_path)
    assert (tmp_path / "src" / "postprocess.c").is_file()
    name, data = next((n, d) for n, d in op_fixtures(seed=3, count_per_op=1) if n.startswith("conv_2d"))
    model = tmp_path / f"{name}.tflite"
    model.write_bytes(data)
    generate_project(model, "host", tmp_path)
    assert not (tmp_path / "src" / "postprocess.c").exists() and not (tmp_path / "src" / "anchors.c").exists()
    build_host(tmp_path)


def test_cli_generate_records_postprocess_parameters_and_rejects_bad_ones(tmp_path):
    import json

    runner = CliRunner()
    res = runner.invoke(app, ["generate", str(MODEL), "--out", str(tmp_path / "p"), "--score-threshold", "0.3",
                              "--max-detections", "25"])
    assert res.exit_code == 0, res.output
    pp = json.loads((tmp_path / "p" / "stm32gen.json").read_text())["postprocess"]
    assert (pp["score_threshold"], pp["iou_threshold"], pp["max_detections"]) == (0.3, 0.5, 25)
    assert "#define STM32GEN_MAX_DETECTIONS 25" in (tmp_path / "p" / "src" / "host_config.h").read_text()
    res = runner.invoke(app, ["generate", str(MODEL), "--out", str(tmp_path / "q"), "--iou-threshold", "1.5"])
    assert res.exit_code == 2 and "iou_threshold 1.5" in res.output


def test_kernel_arrays_live_in_the_weights_blob_not_in_rodata(lowered):
    """Per-channel biases/multipliers/shifts and softmax tables are planned weights: network.c keeps
    only the parameter structs, whose pointers lead to the arrays' exact values in the blob."""
    graph, plan = lowered
    c = render_network(graph, plan, MODEL.name, "0" * 64).files["network.c"].decode()
    assert not re.search(r"static const (int32_t|float) \w+\[", c)
    (blob,) = weight_blobs(plan)
    conv = next(i for i, op in enumerate(graph.operators) if op.type == "CONV_2D")
    (call,) = kernel_calls(graph.operators[conv])
    for name, field in (("bias", "bias"), ("mult", "out_mult"), ("shift", "out_shift")):
        offset = int(re.search(rf"static const sg_conv_params_t op{conv} = {{.*?\.{field} = "
                               rf"\(const int32_t \*\)\(stm32gen_weights \+ (\d+)\)", c, flags=re.S)[1])
        values = next(a.values for a in call.arrays if a.name == name)
        assert np.frombuffer(blob.data, "<i4", len(values), offset).tolist() == list(values)


def test_kernel_constants_that_do_not_fit_raise_plan_error(lowered):
    import dataclasses

    from generator.errors import PlanError

    graph = lowered[0]
    plan = plan_memory(graph, load_target("host"))
    tight = [dataclasses.replace(u, capacity=u.activations_bytes + u.weights_bytes) for u in plan.regions]
    with pytest.raises(PlanError, match="kernel constants"):
        with_kernel_constants(dataclasses.replace(plan, regions=tight), graph)
