"""ST's real models on the real boards: the generated project builds with -Wall -Wextra -Werror and
the section check places every section where the plan put it — or generation refuses it with a
message naming what is short."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from conftest import FPNLITE_192, FPNLITE_256, FPNLITE_416, ST_SSD_V1_192
from generator.cli import app
from generator.firmware.sections import read_sections

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="needs arm-none-eabi-gcc")
runner = CliRunner()

BUILDS = [
    ("nucleo-h743zi2", FPNLITE_192), ("nucleo-h743zi2", ST_SSD_V1_192),
    ("stm32h747i-disco", FPNLITE_192), ("stm32h747i-disco", ST_SSD_V1_192), ("stm32h747i-disco", FPNLITE_416),
    ("stm32n6570-dk", FPNLITE_192), ("stm32n6570-dk", ST_SSD_V1_192), ("stm32n6570-dk", FPNLITE_256),
    # the 2 MB expand buffer of the 416 model goes to the N6's PSRAM (XSPI1 bring-up generated)
    ("stm32n6570-dk", FPNLITE_416),
]
REFUSED = [
    ("nucleo-h743zi2", FPNLITE_256, "larger than every activation region of nucleo-h743zi2"),
]


@pytest.mark.parametrize(("board", "model"), BUILDS, ids=lambda v: getattr(v, "stem", v))
def test_real_model_project_builds_warning_free_with_sections_in_place(tmp_path, board, model) -> None:
    out = tmp_path / "project"
    result = runner.invoke(app, ["generate", str(model), "--target", board, "--out", str(out)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["build", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "build" / "firmware.elf").is_file()


@pytest.mark.parametrize(("board", "model", "message"), REFUSED, ids=lambda v: getattr(v, "stem", str(v)[:20]))
def test_model_that_does_not_fit_the_board_is_refused_by_name(tmp_path, board, model, message) -> None:
    result = runner.invoke(app, ["generate", str(model), "--target", board, "--out", str(tmp_path / "p")])
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert "Traceback" not in result.output


def test_n6_416_model_puts_activations_in_psram_at_0x9000_0000(tmp_path) -> None:
    out = tmp_path / "project"
    result = runner.invoke(app, ["generate", str(FPNLITE_416), "--target", "stm32n6570-dk", "--out", str(out)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["build", str(out)])
    assert result.exit_code == 0, result.output
    arena = {s.name: s for s in read_sections(out / "build" / "firmware.elf")}[".arena.PSRAM"]
    assert arena.size > 1_000_000 and 0x9000_0000 <= arena.address <= 0x9200_0000 - arena.size
