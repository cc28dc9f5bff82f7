"""`stm32gen run --emulate` (the serial path into QEMU) and `generate --layout middleware`."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import IMAGES_DIR, litert_interpreter
from generator.cli import app
from generator.runner import load_inputs

pytestmark = pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="needs qemu-system-arm")
runner = CliRunner()


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "example.tflite"
    _ok(["example-model", str(path)])
    return path


def test_run_emulate_writes_litert_identical_outputs_and_the_instruction_count(model, tmp_path) -> None:
    project = tmp_path / "p"
    _ok(["generate", str(model), "--target", "qemu-mps2-an500", "--out", str(project)])
    _ok(["build", str(project)])
    image = IMAGES_DIR / "messi5.jpg"
    _ok(["run", str(project), "--input", str(image), "--out", str(tmp_path / "o.npz"), "--emulate"])
    got = np.load(tmp_path / "o.npz")
    interp = litert_interpreter(model, preserve=False)
    inp = interp.get_input_details()[0]
    interp.set_tensor(inp["index"], load_inputs(image, inp["shape"]))
    interp.invoke()
    for i, detail in enumerate(interp.get_output_details()):
        assert got[f"output_{i}"].tobytes() == interp.get_tensor(detail["index"]).tobytes(), f"output_{i}"
    assert int(got["instructions"]) > 0 and got["detections"].shape[1] == 6


def test_middleware_layout_is_the_library_alone_and_compiles_warning_free(model, tmp_path) -> None:
    out = tmp_path / "mw"
    _ok(["generate", str(model), "--target", "stm32h747i-disco", "--layout", "middleware", "--out", str(out)])
    names = {p.name for p in out.iterdir()}
    assert {"network.c", "postprocess.c", "anchors.c", "validation_server.c", "sg_port.h", "README.md"} <= names
    assert not {"CMakeLists.txt", "linker.ld", "startup.c", "main.c"} & names
    for src in sorted(out.glob("*.c")):
        subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m7", "-mthumb", "-std=c99", "-O2", "-Wall", "-Wextra",
                        "-Werror", "-c", str(src), "-o", str(tmp_path / (src.stem + ".o"))],
                       check=True, cwd=out, capture_output=True)


def test_host_target_has_no_middleware_layout(model, tmp_path) -> None:
    result = runner.invoke(app, ["generate", str(model), "--layout", "middleware", "--out", str(tmp_path / "h")])
    assert result.exit_code == 2 and "middleware is for board targets" in result.stderr


def test_regenerating_for_another_board_drops_the_old_build(model, tmp_path) -> None:
    project = tmp_path / "p"
    _ok(["generate", str(model), "--target", "qemu-mps2-an500", "--out", str(project)])
    _ok(["build", str(project)])
    _ok(["generate", str(model), "--target", "qemu-mps3-an547", "--out", str(project)])
    assert not (project / "build").exists()
    _ok(["build", str(project)])
    _ok(["run", str(project), "--input", str(IMAGES_DIR / "vtest_0000.jpg"), "--out", str(tmp_path / "o.npz"),
         "--emulate"])


def test_regenerating_for_another_family_leaves_no_sources_of_the_old_one(model, tmp_path) -> None:
    project = tmp_path / "p"
    _ok(["generate", str(model), "--target", "stm32n6570-dk", "--out", str(project)])
    assert (project / "src" / "system_stm32n6.c").is_file()
    _ok(["generate", str(model), "--target", "qemu-mps2-an500", "--out", str(project)])
    assert not (project / "src" / "system_stm32n6.c").exists()
    assert not (project / "src" / "uart_stm32_usart.c").exists()
