"""`stm32gen emulate`: the firmware's UART is reachable on the announced URL; QEMU ends with it."""

from __future__ import annotations

import subprocess

import pytest
from typer.testing import CliRunner

from generator.cli import app
from generator.firmware.session import run_emulator
from generator.validation.link import Link

runner = CliRunner()


@pytest.fixture(scope="module")
def qemu_project(tmp_path_factory):
    d = tmp_path_factory.mktemp("emu")
    for args in (["example-model", str(d / "m.tflite")],
                 ["generate", str(d / "m.tflite"), "--target", "qemu-mps3-an547", "--out", str(d / "p")],
                 ["build", str(d / "p")]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    return d / "p"


def _qemu_running(project) -> bool:
    return str(project) in subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True).stdout


def test_emulate_serves_the_firmware_on_the_announced_url_and_stops(qemu_project) -> None:
    answers = []

    def connect(message: str) -> None:
        url = message.split(" on ", 1)[1].split()[0]
        with Link(url, timeout=2.0) as link:
            answers.append(link.handshake())
        assert _qemu_running(qemu_project)

    run_emulator(qemu_project, seconds=0.5, on_ready=connect)
    assert answers and answers[0].target_id == "qemu-mps3-an547"
    assert not _qemu_running(qemu_project)


def test_emulate_refuses_a_directory_that_is_not_a_qemu_project(tmp_path) -> None:
    result = runner.invoke(app, ["emulate", str(tmp_path)])
    assert result.exit_code == 2 and "not a firmware project" in result.stderr
