"""A Python validation device: the server's behaviour (docs/protocol.md) around any compute function,
plus switches that make it misbehave the ways real boards do (noise, wrong baud, silence, faults,
reboots). Attached to one end of a socket; pair it with `faults.Shim` for a `socket://` URL."""

from __future__ import annotations

import random
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from generator.validation import protocol as p

Detection = tuple[int, int, int, int, int, int]
Compute = Callable[[bytes], tuple[list[bytes], list[Detection]]]


@dataclass
class Misbehaviour:
    noise_before_banner: bytes = b""  # bootloader chatter before the banner
    garbage: bool = False  # every byte it sends is mangled, as when the baud rate is wrong
    silent: bool = False  # reads, never answers
    fault_on_run: int | None = None  # RUN number (1-based) that prints a HardFault report and hangs
    reset_on_runs: set[int] = field(default_factory=set)  # RUN numbers that reboot the device instead


class SimDevice:
    def __init__(
        self, info: p.DeviceInfo, compute: Compute, counter: int = 123456, misbehave: Misbehaviour | None = None
    ):
        self.info, self.compute, self.counter = info, compute, counter
        self.mis = misbehave or Misbehaviour()
        self.runs = 0
        self.frames_handled = 0
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._garble = random.Random(7)
        self._boot()

    def _boot(self) -> None:
        self.input = bytearray(self.info.input.nbytes)
        self.input_end = 0
        self.outputs: list[bytes] | None = None
        self.detections: list[Detection] = []
        self.last: tuple[int, int, bytes] | None = None  # seq, type, wire bytes

    def banner(self) -> bytes:
        return f"\r\n{p.BANNER_PREFIX} {self.info.target_id} protocol {p.PROTOCOL_VERSION}\r\n".encode()

    # --- transport ------------------------------------------------------------------------------

    def attach(self, sock: socket.socket) -> SimDevice:
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)

    def _send(self, data: bytes) -> None:
        if self.mis.garbage:
            data = bytes(self._garble.randrange(256) for _ in data)
        self._sock.sendall(data)

    def _serve(self) -> None:
        parser = p.StreamParser()
        self._sock.settimeout(0.1)
        # Bootloader chatter is sent when the host first talks (as if the board reset on connect):
        # sent at attach time it could be gone before the host's port is open, and the test that
        # checks it is ignored would race.
        boot_pending = bool(self.mis.noise_before_banner)
        if not boot_pending:
            self._send(self.banner())
        hung = False
        while not self._stop.is_set():
            try:
                data = self._sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            if boot_pending:
                boot_pending = False
                self._send(self.mis.noise_before_banner + self.banner())
            if self.mis.silent or hung:
                continue
            for ev in parser.feed(data):
                if isinstance(ev, p.Frame) and not ev.is_response:
                    if self._handle(ev) == "hang":
                        hung = True
                        break

    # --- protocol -------------------------------------------------------------------------------

    def _handle(self, f: p.Frame) -> str | None:
        self.frames_handled += 1
        if self.last and self.last[0] == f.seq and self.last[1] == f.type:
            self._send(self.last[2])
            return None
        status, payload = p.Status.OK, b""
        if f.type == p.Cmd.INFO:
            payload = p.pack_info(self.info)
        elif f.type == p.Cmd.WRITE_INPUT:
            (off,), data = struct.unpack_from("<I", f.payload), f.payload[4:]
            if off + len(data) > len(self.input):
                status = p.Status.OUT_OF_RANGE
            else:
                self.input[off : off + len(data)] = data
                if off <= self.input_end < off + len(data):
                    self.input_end = off + len(data)
        elif f.type == p.Cmd.RUN:
            self.runs += 1
            if self.runs == self.mis.fault_on_run:
                self._send(
                    b"\r\n!HARDFAULT pc=0x08004f2a lr=0x08001b3d r0=0x20000000 cfsr=0x00000400 hfsr=0x40000000\r\n"
                )
                return "hang"
            if self.runs in self.mis.reset_on_runs:
                self._boot()
                self._send(self.banner())
                return None
            if self.input_end != len(self.input):
                status = p.Status.NO_INPUT
            else:
                self.input_end = 0
                self.outputs, self.detections = self.compute(bytes(self.input))
                kind = self.info.counter_kind
                payload = p.pack_run(p.RunResult(0, self.counter, kind, len(self.detections)))
        elif f.type == p.Cmd.READ_OUTPUT:
            idx, off, n = struct.unpack("<BIH", f.payload)
            if self.outputs is None:
                status = p.Status.NO_RESULT
            elif idx >= len(self.outputs) or off + n > len(self.outputs[idx]):
                status = p.Status.OUT_OF_RANGE
            else:
                payload = self.outputs[idx][off : off + n]
        elif f.type == p.Cmd.READ_DETECTIONS:
            first, count = struct.unpack("<HH", f.payload)
            if self.outputs is None:
                status = p.Status.NO_RESULT
            else:
                count = min(count, len(self.detections) - first, (p.MAX_PAYLOAD - 4) // p.DETECTION_SIZE)
                recs = self.detections[first : first + max(count, 0)]
                payload = struct.pack("<HH", len(self.detections), len(recs))
                payload += b"".join(p.DETECTION.pack(*r) for r in recs)
        elif f.type == p.Cmd.RESET:
            self._boot()
        else:
            status = p.Status.UNKNOWN_CMD
        wire = p.encode_frame(p.Frame(f.type | p.RESPONSE_BIT, f.seq, status, payload))
        self.last = (f.seq, f.type, wire)
        self._send(wire)
        return None
