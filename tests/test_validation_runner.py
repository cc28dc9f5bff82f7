"""`stm32gen validate` end to end on a real model: the generated host project's server on a pty,
checked against LiteRT's built-in kernels and the reference decoder."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from generator.cli import app
from generator.validation.hostserver import HostServer
from generator.validation.inputs import InputError, collect_inputs
from generator.validation.link import Link
from generator.validation.reference import LiteRTReference
from generator.validation.testkit.faults import Shim
from generator.validation.testkit.sim import SimDevice

SHARED = Path(__file__).resolve().parents[2] / "shared"
MODEL = SHARED / "models" / "ssd_mobilenet_v2_fpnlite_035_192_int8.tflite"
IMAGES = SHARED / "images"
runner = CliRunner()


@pytest.fixture(scope="module")
def host_project(tmp_path_factory) -> Path:
    from generator.codegen.build import build_project
    from generator.codegen.project import generate_project

    d = tmp_path_factory.mktemp("validate") / "host192"
    generate_project(MODEL, "host", d)
    build_project(d)
    return d


def _validate(*args: str):
    return runner.invoke(app, ["validate", *map(str, args)])


def test_generated_host_project_validates_bit_exact_with_a_full_report(host_project, tmp_path):
    res = _validate(
        host_project,
        "--emulate",
        "--images",
        IMAGES / "messi5.jpg",
        "--images",
        IMAGES / "vtest_0080.jpg",
        "--random",
        2,
        "--json",
        tmp_path / "r.json",
        "--html",
        tmp_path / "r.html",
    )
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "r.json").read_text())
    manifest = json.loads((host_project / "stm32gen.json").read_text())
    assert summary["images"] == 4 and summary["bit_exact"] and summary["detections_exact"]
    assert summary["float_match_rate"] >= 0.5 and summary["failures"] == []
    assert summary["nanoseconds_per_inference"] > 0 and summary["macs"] == manifest["macs"]
    assert summary["device"]["plan_hash"] == manifest["plan_hash"]
    log = [json.loads(line) for line in (host_project / "validation" / "results.jsonl").read_text().splitlines()]
    assert [r["input"] for r in log] == [
        str(IMAGES / "messi5.jpg"),
        str(IMAGES / "vtest_0080.jpg"),
        "random:0",
        "random:1",
    ]
    assert log[0]["detections"]["device"] > 0  # a photo of a person: the decoder path really ran
    # The float32 anchors are a model constant: compared on the first input only.
    assert [[o["name"] for o in r["outputs"]] for r in log][1:] == [[o["name"] for o in log[0]["outputs"][:2]]] * 3
    assert len(log[0]["outputs"]) == 3
    assert "Validation: PASS" in (tmp_path / "r.html").read_text()


def test_resume_reuses_finished_inputs(host_project, tmp_path):
    assert _validate(host_project, "--emulate", "--random", 2).exit_code == 0
    res = _validate(host_project, "--emulate", "--random", 3, "--resume", "--json", tmp_path / "r.json")
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "r.json").read_text())["images"] == 3
    assert len((host_project / "validation" / "results.jsonl").read_text().splitlines()) == 3


def test_a_device_that_differs_exits_1_naming_the_output_and_index(host_project, tmp_path):
    with HostServer(host_project / "build" / "stm32gen_server") as url, Link(url) as link:
        info = link.handshake()
    ref = LiteRTReference(MODEL, info)
    scores = 0  # graph output order: scores, boxes, anchors

    def compute(x: bytes):
        exp = ref.expected(np.frombuffer(x, np.uint8))
        outs = [o.tobytes() for o in exp.outputs]
        bad = bytearray(outs[scores])
        bad[1234] ^= 0x01
        outs[scores] = bytes(bad)
        return outs, exp.fixed

    dev = SimDevice(info, compute)
    ours, theirs = socket.socketpair()
    dev.attach(theirs)
    with Shim(ours) as url:
        res = _validate(host_project, "--device", url, "--random", 1, "--json", tmp_path / "r.json")
    dev.stop()
    assert res.exit_code == 1
    assert "1 of 1 inputs differ from the reference" in res.output
    failure = json.loads((tmp_path / "r.json").read_text())["failures"][0]
    assert failure["input"] == "random:0"
    assert failure["reason"].startswith(f"{info.outputs[scores].name}: 1 differ, max |diff| 1, first at index 1234")


def test_bad_invocations_exit_2_with_one_line(host_project, tmp_path):
    res = _validate(tmp_path / "nope", "--emulate", "--random", 1)
    assert res.exit_code == 2 and "does not exist" in res.output
    res = _validate(host_project, "--random", 1)
    assert res.exit_code == 2 and "give exactly one of --device URL and --emulate" in res.output
    res = _validate(host_project, "--device", "/dev/ttyNOPE0", "--random", 1)
    assert res.exit_code == 2 and "cannot open serial port '/dev/ttyNOPE0'" in res.output
    res = _validate(host_project, "--emulate", "--images", tmp_path / "missing.jpg")
    assert res.exit_code == 2 and f"image path '{tmp_path / 'missing.jpg'}' does not exist" in res.output


def test_images_are_preprocessed_like_st_nearest_resize_rgb():
    from generator.postprocess.litert_io import LiteRTModel

    items = collect_inputs([IMAGES / "basketball1.png"], 1, (1, 192, 192, 3))
    img = items[0].load()
    assert img.shape == (192, 192, 3) and img.dtype == np.uint8
    assert np.array_equal(img, LiteRTModel(MODEL).load_image(IMAGES / "basketball1.png"))
    assert items[1].key == "random:0" and np.array_equal(items[1].load(), items[1].load())
    with pytest.raises(InputError, match="no inputs"):
        collect_inputs([], 0, (1, 192, 192, 3))


@pytest.mark.qemu
@pytest.mark.skipif(
    not (shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc")), reason="needs QEMU + Arm GCC"
)
def test_firmware_in_qemu_validates_bit_exact_counting_instructions(tmp_path):
    from generator.codegen.build import build_project
    from generator.codegen.project import generate_project

    generate_project(MODEL, "qemu-mps2-an500", tmp_path / "q")
    build_project(tmp_path / "q")
    res = _validate(tmp_path / "q", "--emulate", "--random", 1, "--json", tmp_path / "r.json")
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "r.json").read_text())
    assert summary["bit_exact"] and summary["detections_exact"] and summary["device"]["target"] == "qemu-mps2-an500"
    # -icount makes the count deterministic; a MAC costs more than one instruction on a Cortex-M7.
    assert summary["instructions_per_inference"] > summary["macs"]


def test_sigint_mid_run_exits_130_and_leaves_every_log_line_valid(host_project):
    log = host_project / "validation" / "results.jsonl"
    log.unlink(missing_ok=True)  # the project is shared: wait for *this* run's lines, not an earlier log
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator", "validate", str(host_project), "--emulate", "--random", "200"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not log.is_file() or len(log.read_text().splitlines()) < 3):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "--resume to continue" in err
    lines = log.read_text().splitlines()
    assert 3 <= len(lines) < 200 and log.read_text().endswith("\n")
    assert [json.loads(line)["input"] for line in lines] == [f"random:{i}" for i in range(len(lines))]


def test_baud_defaults_to_the_targets_uart_setting():
    from generator.validation.command import target_baud

    assert target_baud("nucleo-h743zi2") == 921_600
    assert target_baud("host") == 115_200 and target_baud(None) == 115_200


def test_a_project_whose_target_is_unknown_is_refused_not_given_a_guessed_baud(host_project, tmp_path):
    from generator.errors import TargetError
    from generator.validation.command import target_baud

    with pytest.raises(TargetError, match="unknown target 'nucleo-nonesuch'"):
        target_baud("nucleo-nonesuch")
    proj = tmp_path / "p"
    shutil.copytree(host_project, proj, ignore=shutil.ignore_patterns("validation"))
    manifest = json.loads((proj / "stm32gen.json").read_text())
    (proj / "stm32gen.json").write_text(json.dumps({**manifest, "target": "nucleo-nonesuch"}))
    res = _validate(proj, "--device", "/dev/ttyNOPE0", "--random", 1)
    assert res.exit_code == 2 and "unknown target 'nucleo-nonesuch'" in res.output


def test_bad_inputs_and_report_paths_are_refused_before_the_device_is_opened(host_project, tmp_path):
    log = host_project / "validation" / "results.jsonl"
    log.parent.mkdir(exist_ok=True)
    log.write_text("previous\n")
    # /dev/ttyNOPE0 would fail to open: each of these must be reported first, and leave the log alone.
    res = _validate(host_project, "--device", "/dev/ttyNOPE0", "--images", tmp_path / "missing.jpg")
    assert res.exit_code == 2 and f"image path '{tmp_path / 'missing.jpg'}' does not exist" in res.output
    res = _validate(host_project, "--device", "/dev/ttyNOPE0", "--random", 1, "--json", tmp_path / "no" / "r.json")
    assert res.exit_code == 2 and f"cannot write report '{tmp_path / 'no' / 'r.json'}'" in res.output
    res = _validate(host_project, "--device", "/dev/ttyNOPE0", "--random", 1, "--html", tmp_path)
    assert res.exit_code == 2 and f"cannot write report '{tmp_path}'" in res.output
    res = _validate(host_project, "--device", "/dev/ttyNOPE0", "--random", 1, "--json", tmp_path / "r.json")
    assert res.exit_code == 2 and "cannot open serial port" in res.output
    assert not (tmp_path / "r.json").exists() and log.read_text() == "previous\n"
