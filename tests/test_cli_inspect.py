"""`stm32gen inspect` through the real CLI: JSON keys, and one clear line + exit 2 on bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from conftest import FPNLITE_192, ST_SSD_V1_192
from generator.cli import app

runner = CliRunner()


def test_inspect_json_has_the_documented_keys_and_figures() -> None:
    result = runner.invoke(app, ["inspect", str(FPNLITE_192), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    for key in ("inputs", "outputs", "ops_before", "ops_after", "macs", "weights_bytes", "ssd", "layers"):
        assert key in report
    for t in report["inputs"] + report["outputs"]:
        assert set(t) >= {"name", "shape", "dtype", "scale", "zero_point"}
    assert report["inputs"][0] == {
        "name": "serving_default_input_1:0", "shape": [1, 192, 192, 3], "dtype": "uint8",
        "scale": pytest.approx(1 / 127.5), "zero_point": 127,
    }
    assert report["ssd"]["anchors"] == 3845 and report["ssd"]["classes"] == 1
    assert report["ops_before"]["TILE"] == 5 and "TILE" not in report["ops_after"]


def test_inspect_table_names_the_ssd_head() -> None:
    result = runner.invoke(app, ["inspect", str(ST_SSD_V1_192)])
    assert result.exit_code == 0, result.output
    assert "3830 anchors" in result.stdout and "MACs" in result.stdout


@pytest.mark.parametrize(
    ("make_bytes", "message"),
    [
        (lambda real: real[:4000], "corrupt or truncated"),
        (lambda real: b"\x00" * 3, "truncated file"),
        (lambda real: b"PK\x03\x04 this is a zip file, not a model", "not a TFLite model"),
        (lambda real: real[:4] + b"TFL2" + real[8:], "file identifier"),
    ],
    ids=["truncated", "tiny", "not-flatbuffer", "wrong-identifier"],
)
def test_bad_model_files_give_one_line_and_exit_2(tmp_path, make_bytes, message) -> None:
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(make_bytes(ST_SSD_V1_192.read_bytes()))
    result = runner.invoke(app, ["inspect", str(bad)])
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_file_is_reported_by_name(tmp_path) -> None:
    result = runner.invoke(app, ["inspect", str(tmp_path / "nope.tflite")])
    assert result.exit_code == 2 and "nope.tflite" in result.stderr


def test_package_runs_as_a_module() -> None:
    proc = subprocess.run([sys.executable, "-m", "generator", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "inspect" in proc.stdout
