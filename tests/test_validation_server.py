"""The real C validation server, built on the host against a fake network and reached through a pty
(the same pyserial path as a board) or a fault-injecting socket shim."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from generator.errors import BuildError, CodegenError, DeviceFaultError, LinkError
from generator.validation.hostserver import HostServer, SocketHostServer, build_host_server
from generator.validation.inputs import InputItem
from generator.validation.link import Link
from generator.validation.reference import Expected
from generator.validation.render import ServerConfig, render_server
from generator.validation.runner import Expectations, validate
from generator.validation.testkit import fake_network as fake
from generator.validation.testkit.faults import FaultConfig, Shim

SHA = "5e" * 32
PLAN = "0123456789abcdef"
CONFIG = ServerConfig(target_id="host", model_name="fake", num_outputs=3, scores_output=0, boxes_output=1)


@pytest.fixture(scope="module")
def server_exe(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("vs")
    c, _h, port = render_server(d, CONFIG, host_port=True)
    return build_host_server([c, port, *fake.write_fake_network(d, SHA, PLAN)], [d], d / "server")


def _random_input(seed: int) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, fake.INPUT_BYTES, dtype=np.uint8).tobytes()


def _check_inference(link: Link, x: bytes) -> None:
    link.write_input(x)
    run = link.run()
    exp = fake.fake_compute(x)
    outs = [link.read_output(i, s.nbytes) for i, s in enumerate(link.info.outputs)]
    assert outs == [o.tobytes() for o in exp.outputs]
    assert run.num_detections == len(exp.detections)
    assert link.read_detections() == exp.detections


def test_rendering_is_deterministic_and_checks_its_config(tmp_path):
    a = render_server(tmp_path / "a", CONFIG)
    b = render_server(tmp_path / "b", CONFIG)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert "#define SG_SCORES_OUTPUT 0" in a[0].read_text()
    with pytest.raises(CodegenError, match="boxes output index 5 is not in"):
        render_server(tmp_path / "c", ServerConfig("host", "m", 3, 0, 5))
    with pytest.raises(CodegenError, match="target id 'bad id'"):
        render_server(tmp_path / "c", ServerConfig("bad id", "m", 3))


def test_server_without_ssd_head_compiles_warning_free(tmp_path):
    c, _h, port = render_server(tmp_path, ServerConfig("host", "m", 3), host_port=True)
    srcs = fake.write_fake_network(tmp_path, SHA, PLAN)
    build_host_server([c, port, *srcs], [tmp_path], tmp_path / "server")


def test_handshake_reports_model_plan_and_signatures_over_a_pty(server_exe):
    with HostServer(server_exe) as url, Link(url) as link:
        info = link.handshake(SHA, PLAN)
    assert (info.target_id, info.model_sha256, info.plan_hash) == ("host", SHA, PLAN)
    assert info.counter_kind == "nanoseconds" and info.max_detections == fake.MAX_DETECTIONS
    assert info.input.shape == (1, fake.H, fake.W, fake.C) and info.input.dtype == "uint8"
    assert [(o.name, o.dtype, o.shape, o.zero_point) for o in info.outputs] == [
        ("scores", "int8", (1, fake.NA, 2), -128),
        ("boxes", "int8", (1, fake.NA, 4), 17),
        ("anchors", "int8", (1, fake.NA, 4), -62),
    ]
    assert info.outputs[0].scale == 0.00390625


def test_outputs_and_detections_come_back_bit_exact_over_a_pty(server_exe):
    with HostServer(server_exe) as url, Link(url) as link:
        link.handshake(SHA)
        for seed in range(3):
            _check_inference(link, _random_input(seed))


def test_firmware_for_another_model_is_refused_with_both_hashes(server_exe):
    other = "ab" * 32
    with HostServer(server_exe) as url, Link(url) as link:
        with pytest.raises(LinkError, match=f"device runs model sha256 {SHA}, expected {other}"):
            link.handshake(other)
        with pytest.raises(LinkError, match=f"device runs memory plan {PLAN}, expected fedcba9876543210"):
            link.handshake(SHA, "fedcba9876543210")


def test_hardfault_report_is_raised_with_registers(server_exe):
    with HostServer(server_exe) as url, Link(url, run_timeout=5) as link:
        link.handshake(SHA)
        link.write_input(fake.HARDFAULT_MAGIC + bytes(fake.INPUT_BYTES - 3))
        with pytest.raises(DeviceFaultError) as e:
            link.run()
    msg = str(e.value)
    assert "HardFault" in msg and "PC=0x08001234" in msg and "CFSR=0x00008200" in msg and "BFAR=0xdeadbeef" in msg


class _FakeReference:
    def expected(self, image: np.ndarray) -> Expected:
        r = fake.fake_compute(image.tobytes())
        return Expected(r.outputs, r.detections, None)


def _items(keys_and_bytes):
    return [
        InputItem(k, lambda b=b: np.frombuffer(b, np.uint8).reshape(fake.H, fake.W, fake.C)) for k, b in keys_and_bytes
    ]


def test_reset_mid_run_is_detected_and_the_input_resent(server_exe, tmp_path):
    reset_input = fake.RESET_MAGIC + _random_input(9)[3:]
    inputs = [("a", _random_input(1)), ("reboots", reset_input), ("c", _random_input(2))]
    with HostServer(server_exe) as url:
        out = validate(
            url,
            _items(inputs),
            lambda info: _FakeReference(),
            Expectations(SHA, PLAN),
            tmp_path / "log.jsonl",
            progress=False,
        )
    recs = {r["input"]: r for r in out.records}
    assert all(r["ok"] for r in out.records)
    assert recs["reboots"]["resets"] == 1 and recs["a"]["resets"] == 0
    assert [json.loads(line)["input"] for line in (tmp_path / "log.jsonl").read_text().splitlines()] == [
        "a",
        "reboots",
        "c",
    ]


def test_fault_injection_over_a_thousand_frames_never_passes_corruption(server_exe):
    """Over 1,000 request/response pairs through a line that drops, flips, duplicates and inserts
    bytes: every answer that gets through is exactly right (checked against the mirror), the faults
    are recovered by retries, and the run completes."""
    faults = FaultConfig(drop=0.0003, flip=0.0003, dup=0.0003, insert=0.0003, seed=1234)
    rng = np.random.default_rng(5)
    with SocketHostServer(server_exe) as sock:
        shim = Shim(sock, faults)
        with shim as url, Link(url, timeout=0.05, retries=10) as link:
            link.handshake(SHA)
            while link.requests < 1000:
                _check_inference(link, rng.integers(0, 256, fake.INPUT_BYTES, dtype=np.uint8).tobytes())
    injected = sum(s.faults for s in shim.stats.values())
    assert injected > 100, shim.stats
    assert link.retransmissions > 10


def test_silent_port_times_out_with_a_message(tmp_path):
    # `sleep` holds the pty open and never answers a frame: nothing answering.
    exe = Path("/bin/sleep")
    with HostServer(exe, args=["30"]) as url, Link(url, timeout=0.1, retries=2) as link:
        with pytest.raises(LinkError, match=r"nothing answered INFO on /dev/pts/\d+ after 3 attempts in 0.\d s"):
            link.handshake()


def test_gcc_flags_reject_a_warning(tmp_path):
    bad = tmp_path / "bad.c"
    bad.write_text("int main(void) { int unused; return 0; }\n")
    with pytest.raises(BuildError, match=r"(?s)did not compile:.*unused variable"):
        build_host_server([bad], [], tmp_path / "bad")
