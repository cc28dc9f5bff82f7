"""ST's real detectors on both emulated cores, every shared photo, over the real serial path.

Per (board, model): generate → build → `validate --emulate` (QEMU with the UART on socket://) on every
image in ../shared/images, and `run --emulate` on five of them. The firmware's raw outputs must equal
LiteRT's built-in kernels byte for byte, its detections the fixed-point mirror exactly, and the
report must carry the instruction count and the MACs."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import FPNLITE_192, IMAGES_DIR, ST_SSD_V1_192, litert_interpreter
from generator.cli import app
from generator.runner import load_inputs

pytestmark = [pytest.mark.qemu, pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="needs QEMU")]
runner = CliRunner()
IMAGES = sorted(p for p in IMAGES_DIR.iterdir() if p.suffix in (".jpg", ".png"))
MACS = {FPNLITE_192: 121_803_584, ST_SSD_V1_192: 39_942_272}


@pytest.mark.parametrize("model", [FPNLITE_192, ST_SSD_V1_192], ids=lambda p: p.stem)
@pytest.mark.parametrize("board", ["qemu-mps2-an500", "qemu-mps3-an547"])
def test_every_photo_is_bit_exact_on_the_emulated_core(tmp_path, board, model) -> None:
    project = tmp_path / "project"
    for args in (["generate", str(model), "--target", board, "--out", str(project)], ["build", str(project)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output

    report_path = tmp_path / "report.json"
    result = runner.invoke(app, ["validate", str(project), "--emulate", "--images", str(IMAGES_DIR),
                                 "--json", str(report_path)])
    report = json.loads(report_path.read_text())
    assert result.exit_code == 0, (result.output, report.get("failures"))
    assert report["images"] == len(IMAGES) == 22
    assert report["bit_exact"] is True and report["detections_exact"] is True and not report["failures"]
    assert report["instructions_per_inference"] > report["macs"] == MACS[model]

    interp = litert_interpreter(model, preserve=False)
    for image in IMAGES[:5]:
        out = tmp_path / f"{image.stem}.npz"
        result = runner.invoke(app, ["run", str(project), "--input", str(image), "--out", str(out), "--emulate"])
        assert result.exit_code == 0, result.output
        got = np.load(out)
        interp.set_tensor(interp.get_input_details()[0]["index"], load_inputs(image, [1, 192, 192, 3]))
        interp.invoke()
        for i, detail in enumerate(interp.get_output_details()):
            assert got[f"output_{i}"].tobytes() == interp.get_tensor(detail["index"]).tobytes(), (image.name, i)
        assert int(got["instructions"]) > MACS[model]
