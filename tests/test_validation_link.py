"""Every way a validation session goes wrong gives one clear message (device simulated in Python)."""

from __future__ import annotations

import json
import socket
from contextlib import contextmanager
from dataclasses import replace

import numpy as np
import pytest

from generator.errors import DeviceFaultError, LinkError
from generator.validation import protocol as p
from generator.validation.inputs import InputItem
from generator.validation.link import Link
from generator.validation.reference import Expected
from generator.validation.runner import Expectations, ValidationInterrupted, read_log, validate
from generator.validation.testkit import fake_network as fake
from generator.validation.testkit.faults import Shim
from generator.validation.testkit.sim import Misbehaviour, SimDevice

SHA = "c0" * 32
PLAN = "00112233aabbccdd"


def _sig(name, dtype, shape, scale, zp):
    return p.TensorSignature(name, dtype, shape, float(np.float32(scale)), zp, int(np.prod(shape)))


INFO = p.DeviceInfo(
    p.PROTOCOL_VERSION,
    p.MAX_PAYLOAD,
    "sim",
    SHA,
    PLAN,
    "instructions",
    fake.MAX_DETECTIONS,
    _sig("input", "uint8", (1, fake.H, fake.W, fake.C), 1 / 127.5, 127),
    (
        _sig("scores", "int8", (1, fake.NA, 2), 1 / 256, -128),
        _sig("boxes", "int8", (1, fake.NA, 4), 0.01, 17),
        _sig("anchors", "int8", (1, fake.NA, 4), 0.008, -62),
    ),
)


def _compute(x: bytes):
    r = fake.fake_compute(x)
    return [o.tobytes() for o in r.outputs], r.detections


@contextmanager
def sim_url(info=INFO, **misbehave):
    dev = SimDevice(info, _compute, counter=4242, misbehave=Misbehaviour(**misbehave))
    ours, theirs = socket.socketpair()
    dev.attach(theirs)
    try:
        with Shim(ours) as url:
            yield url, dev
    finally:
        dev.stop()
        ours.close()
        theirs.close()


class FakeReference:
    def __init__(self, interrupt_at: int | None = None):
        self.calls, self.interrupt_at = 0, interrupt_at

    def expected(self, image: np.ndarray) -> Expected:
        self.calls += 1
        if self.calls == self.interrupt_at:
            raise KeyboardInterrupt
        r = fake.fake_compute(image.tobytes())
        return Expected(r.outputs, r.detections, None)


def _inputs(n: int, keys=None):
    keys = keys or [f"in{i}" for i in range(n)]
    return [
        InputItem(k, lambda i=i: np.random.default_rng(i).integers(0, 256, (fake.H, fake.W, fake.C), dtype=np.uint8))
        for i, k in enumerate(keys)
    ]


def test_wrong_port_names_the_port():
    with pytest.raises(LinkError, match="cannot open serial port '/dev/ttyNOPE0'"):
        Link("/dev/ttyNOPE0").open()


def test_wrong_baud_garbage_suggests_the_baud_rate():
    with sim_url(garbage=True) as (url, _), Link(url, baud=57600, timeout=0.1, retries=2) as link:
        with pytest.raises(LinkError, match=r"at 57600 baud .* bytes of unreadable data — is the baud rate right"):
            link.handshake()


def test_nothing_answering_times_out_naming_the_port():
    with sim_url(silent=True) as (url, _), Link(url, timeout=0.1, retries=1) as link:
        with pytest.raises(LinkError, match=rf"nothing answered INFO on {url} after 2 attempts"):
            link.handshake()


def test_boot_banner_noise_before_the_handshake_is_ignored():
    lines = []
    noise = b"\x1b[0m\xff\xfeU-Boot-ish loader 1.2\r\njumping to app\r\n"
    with sim_url(noise_before_banner=noise) as (url, _), Link(url, on_text=lines.append) as link:
        info = link.handshake(SHA, PLAN)
    assert info.target_id == "sim" and link.resets_seen == 0
    assert "jumping to app" in lines and any(line.startswith("stm32gen-vs sim") for line in lines)


def test_firmware_of_another_model_is_refused():
    with sim_url() as (url, _), Link(url) as link:
        with pytest.raises(LinkError, match=f"device runs model sha256 {SHA}, expected {'ee' * 32}"):
            link.handshake("ee" * 32)


def test_reset_mid_run_resends_the_input_and_completes(tmp_path):
    with sim_url(reset_on_runs={2}) as (url, dev):
        out = validate(
            url, _inputs(3), lambda info: FakeReference(), Expectations(SHA, PLAN), tmp_path / "r.jsonl", progress=False
        )
    assert [r["resets"] for r in out.records] == [0, 1, 0]
    assert all(r["ok"] for r in out.records) and dev.runs == 4


def test_hardfault_stops_the_run_showing_registers(tmp_path):
    with sim_url(fault_on_run=2) as (url, _):
        with pytest.raises(DeviceFaultError, match=r"HardFault: PC=0x08004f2a  LR=0x08001b3d .*CFSR=0x00000400"):
            validate(
                url, _inputs(3), lambda info: FakeReference(), Expectations(SHA), tmp_path / "r.jsonl", progress=False
            )
    assert [r["input"] for r in read_log(tmp_path / "r.jsonl", SHA)] == ["in0"]


def test_ctrl_c_leaves_a_valid_log_and_resume_finishes_it(tmp_path):
    log = tmp_path / "r.jsonl"
    with sim_url() as (url, _):
        with pytest.raises(ValidationInterrupted, match="interrupted after 2 of 5 inputs.*--resume"):
            validate(
                url, _inputs(5), lambda info: FakeReference(interrupt_at=3), Expectations(SHA), log, progress=False
            )
    assert [json.loads(line)["input"] for line in log.read_text().splitlines()] == ["in0", "in1"]
    with open(log, "a") as f:
        f.write('{"input": "in2", "trunc')  # a line cut by a crash is ignored
    with sim_url() as (url, dev):
        out = validate(
            url, _inputs(5), lambda info: FakeReference(), Expectations(SHA), log, resume=True, progress=False
        )
    assert out.skipped == 2 and dev.runs == 3
    assert [r["input"] for r in out.records] == ["in0", "in1", "in2", "in3", "in4"]


def test_a_wrong_byte_is_reported_with_index_and_size(tmp_path):
    def off_by_one(x: bytes):
        outs, dets = _compute(x)
        boxes = bytearray(outs[1])
        boxes[777] = (boxes[777] + 3) & 0xFF
        return [outs[0], bytes(boxes), outs[2]], dets

    dev = SimDevice(INFO, off_by_one)
    ours, theirs = socket.socketpair()
    dev.attach(theirs)
    with Shim(ours) as url:
        out = validate(
            url, _inputs(1), lambda info: FakeReference(), Expectations(SHA), tmp_path / "r.jsonl", progress=False
        )
    dev.stop()
    rec = out.records[0]
    assert not rec["ok"] and rec["outputs"][0]["match"] and rec["detections"]["exact"]
    assert rec["outputs"][1] == {
        "name": "boxes",
        "match": False,
        "max_abs_diff": 3,
        "first_mismatch": 777,
        "mismatches": 1,
    }


def test_a_line_too_noisy_for_any_chunk_size_stops_with_a_clear_message():
    dev = SimDevice(INFO, _compute)
    ours, theirs = socket.socketpair()
    dev.attach(theirs)
    shim = Shim(ours)
    with shim as url, Link(url, timeout=0.15, retries=2) as link:
        link.handshake(SHA)
        link.write_input(bytes(INFO.input.nbytes))
        link.run()
        shim.config.flip = 0.05  # from here on a 1 KiB answer practically never arrives intact
        with pytest.raises(LinkError, match=r"no intact answer to READ_OUTPUT .* the line is too noisy"):
            link.read_output(1, INFO.outputs[1].nbytes)
        assert link.chunk_limit < p.MAX_PAYLOAD  # it tried smaller frames before giving up
    dev.stop()


def test_a_port_that_fails_mid_session_is_one_clear_error():
    class Unplugged:
        in_waiting = 0

        def write(self, data):
            raise OSError(5, "Input/output error")

        def close(self):
            pass

    link = Link("/dev/ttyACM9", opener=lambda *a, **k: Unplugged()).open()
    with pytest.raises(LinkError, match=r"cannot write to serial port '/dev/ttyACM9': \[Errno 5\] Input/output error"):
        link.handshake()


class _Answers(Link):
    """A device whose answers pass the CRC but whose payloads are cut short or foreign."""

    def __init__(self, payloads: dict[int, bytes]):
        super().__init__("socket://fake:1")
        self.payloads = payloads
        self.info = INFO

    def request(self, cmd, payload=b"", budget=None):
        return p.Frame(cmd | p.RESPONSE_BIT, 0, p.Status.OK, self.payloads[cmd])


@pytest.mark.parametrize(
    "cmd, call, what",
    [
        (p.Cmd.INFO, lambda link: link.handshake(), r"malformed INFO answer .* truncated at byte 5"),
        (p.Cmd.RUN, lambda link: link.run(), r"malformed RUN answer .*\(6 bytes\): payload truncated at byte 0"),
        (p.Cmd.READ_DETECTIONS, lambda link: link.read_detections(), r"malformed READ_DETECTIONS .* hold 1 records"),
    ],
)
def test_a_crc_valid_but_malformed_answer_is_a_link_error_naming_the_command(cmd, call, what):
    full = {
        p.Cmd.INFO: p.pack_info(INFO)[:6],  # version and max_payload, then the target name is cut
        p.Cmd.RUN: b"\x00" * 6,
        p.Cmd.READ_DETECTIONS: b"\x01\x00\x01\x00" + b"\x00" * 5,  # one record announced, 5 of 12 bytes sent
    }
    with pytest.raises(LinkError, match=what):
        call(_Answers({cmd: full[cmd]}))


@pytest.mark.parametrize("other", [{"plan_hash": "ffeeddccbbaa9988"}, {"target_id": "sim-other"}])
def test_resume_redoes_inputs_logged_by_other_firmware_and_says_how_many(tmp_path, other):
    from rich.console import Console

    log = tmp_path / "r.jsonl"
    with sim_url() as (url, _):
        validate(url, _inputs(2), lambda info: FakeReference(), Expectations(SHA), log, progress=False)
    assert {(r["plan_hash"], r["target"]) for r in read_log(log)} == {(PLAN, "sim")}
    console = Console(record=True, width=200)
    with sim_url(replace(INFO, **other)) as (url, dev):  # same model, reflashed with another plan/target
        out = validate(
            url, _inputs(3), lambda info: FakeReference(), Expectations(SHA), log, resume=True, progress=False,
            console=console,
        )
    assert out.skipped == 0 and out.discarded == 2 and dev.runs == 3
    said = console.export_text()
    assert "--resume: 2 finished result(s)" in said and "came from other firmware" in said
    with sim_url(replace(INFO, **other)) as (url, dev):  # resuming again on that firmware reuses its own records
        out = validate(url, _inputs(3), lambda info: FakeReference(), Expectations(SHA), log, resume=True, progress=False)
    assert out.skipped == 3 and out.discarded == 0 and dev.runs == 0


def test_a_run_that_cannot_connect_leaves_the_previous_log_untouched(tmp_path):
    log = tmp_path / "r.jsonl"
    log.write_text('{"input": "in0", "ok": true}\n')
    with pytest.raises(LinkError, match="cannot open serial port '/dev/ttyNOPE0'"):
        validate("/dev/ttyNOPE0", _inputs(1), lambda info: FakeReference(), Expectations(SHA), log, progress=False)
    assert log.read_text() == '{"input": "in0", "ok": true}\n'


def test_firmware_with_another_input_shape_is_refused_before_the_log_is_touched(tmp_path):
    log = tmp_path / "r.jsonl"
    log.write_text("previous\n")
    with sim_url() as (url, _), pytest.raises(LinkError, match=r"device input is \[1, .*\], the model's is \[1, 9, 9, 3\]"):
        validate(url, _inputs(1), lambda info: FakeReference(), Expectations(SHA, input_shape=(1, 9, 9, 3)), log, progress=False)
    assert log.read_text() == "previous\n"
