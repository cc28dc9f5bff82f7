"""Acceptance: the generated C, built for the host and driven by `stm32gen run`'s batch runner,
gives every output of every real model byte-identical to LiteRT's built-in kernels, on every shared
image and 10 random inputs; and the real models run clean under AddressSanitizer + UBSan.

On a mismatch the assertion message names the first differing layer (debug build, per-tensor dumps)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from generator.codegen import litert
from generator.codegen.build import build_host
from generator.codegen.debug import first_mismatch
from generator.codegen.project import generate_project
from generator.runner import load_inputs, run_batch, run_file
from tests.conftest import IMAGES_DIR, REAL_MODELS

pytestmark = pytest.mark.slow

IMAGES = sorted(p for p in IMAGES_DIR.iterdir() if p.suffix.lower() in (".jpg", ".png"))
RANDOM_INPUTS = 10


@pytest.fixture(scope="module", params=REAL_MODELS, ids=lambda p: p.stem.removesuffix("_int8"))
def project(request, tmp_path_factory):
    model: Path = request.param
    out = tmp_path_factory.mktemp(model.stem)
    gen = generate_project(model, "host", out)
    build_host(out)
    return model, out, gen.manifest


def _batch(shape) -> np.ndarray:
    images = [load_inputs(p, shape) for p in IMAGES]
    rng = np.random.default_rng(20261123)
    noise = rng.integers(0, 256, (RANDOM_INPUTS, *shape[1:]), dtype=np.uint8)
    return np.concatenate([*images, noise])


def test_every_output_is_byte_identical_to_litert(project):
    model, out, manifest = project
    batch = _batch(manifest["input"]["shape"])
    results = run_batch(out, batch)
    interp = litert.interpreter(model)
    for k, image in enumerate(batch):
        expected = litert.run(interp, image[None])
        assert len(results[k]) >= len(expected)
        for i, ref in enumerate(expected):
            got = results[k][f"output_{i}"]
            if got.dtype != ref.dtype or got.shape != ref.shape or got.tobytes() != ref.tobytes():
                where = first_mismatch(out, model, image[None])
                name = IMAGES[k].name if k < len(IMAGES) else f"random #{k - len(IMAGES)}"
                pytest.fail(f"{model.name}, input {name}, output_{i} differs from LiteRT; {where}")


def test_run_command_npz_holds_litert_outputs(project, tmp_path):
    """`stm32gen run DIR --input IMAGE --out OUT.npz` end to end, on one image."""
    model, out, _ = project
    result = run_file(out, IMAGES[0], tmp_path / "out.npz")
    expected = litert.run(litert.interpreter(model), result_input(out, IMAGES[0]))
    with np.load(tmp_path / "out.npz") as npz:
        assert sorted(npz.files) == sorted([f"output_{i}" for i in range(len(expected))] + ["detections"])
        for i, ref in enumerate(expected):
            assert npz[f"output_{i}"].dtype == ref.dtype and npz[f"output_{i}"].tobytes() == ref.tobytes()
        assert npz["detections"].tobytes() == result["detections"].tobytes()


def result_input(out: Path, image: Path) -> np.ndarray:
    from generator.runner import read_manifest

    return load_inputs(image, read_manifest(out)["input"]["shape"])


def test_detections_come_with_every_ssd_result(project):
    _, out, manifest = project
    assert manifest["postprocess"] is not None
    res = run_batch(out, load_inputs(IMAGES_DIR / "messi5.jpg", manifest["input"]["shape"]))[0]
    det = res["detections"]
    assert det.dtype == np.float32 and det.ndim == 2 and det.shape[1] == 6
    assert len(det) <= manifest["postprocess"]["max_detections"]
    assert np.all((det[:, 2:] >= 0) & (det[:, 2:] <= 1))


def test_sanitized_build_runs_the_real_model_without_reports(project):
    model, out, manifest = project
    exe = build_host(out, "asan")
    assert exe.is_file()
    batch = np.concatenate([load_inputs(IMAGES[0], manifest["input"]["shape"]),
                            np.random.default_rng(1).integers(0, 256, (1, *manifest["input"]["shape"][1:]),
                                                              dtype=np.uint8)])
    # -fno-sanitize-recover: any ASan/UBSan report aborts, which run_batch raises as RunError.
    results = run_batch(out, batch, variant="asan")
    reference = run_batch(out, batch)
    for got, want in zip(results, reference, strict=True):
        for key in want:
            assert got[key].tobytes() == want[key].tobytes(), key
