"""The host end of the validation protocol over any pyserial URL (/dev/ttyACM0, socket://, a pty).

`Link` owns retries, sequence numbers and the handshake, and turns everything the device can do
wrong into one clear `LinkError` (or `DeviceFaultError` for a HardFault report).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

import serial

from generator.errors import DeviceFaultError, LinkError
from generator.validation import protocol as p

log = logging.getLogger(__name__)


class DeviceResetError(LinkError):
    """The device rebooted (new boot banner, or it lost its input/results): the caller redoes the step."""


class LinkSilenceError(LinkError):
    """No intact answer after every retry (nothing, garbage, or only corrupted frames)."""


class ModelMismatchError(LinkError):
    """The firmware was generated from another model or memory plan than the one being validated."""


_REGISTER = re.compile(r"([A-Za-z][A-Za-z0-9_]*)=(0x[0-9A-Fa-f]+|\d+)")


def format_fault(line: str) -> str:
    """'!HARDFAULT pc=0x8001234 lr=...' -> a message with the registers one per column."""
    regs = _REGISTER.findall(line)
    if not regs:
        return f"device reported a HardFault: {line}"
    cols = "  ".join(f"{k.upper()}={v}" for k, v in regs)
    return f"device reported a HardFault: {cols}"


class Link:
    """One open connection to a validation server.

    `timeout` bounds each wait for a short reply; `run_timeout` the wait for RUN (a full inference).
    A request is sent up to `1 + retries` times with the same sequence number; the device answers a
    repeated sequence number from its cache, so a retried RUN never runs twice.
    """

    def __init__(
        self,
        url: str,
        baud: int = 115200,
        *,
        timeout: float = 0.5,
        run_timeout: float = 120.0,
        retries: int = 5,
        on_text: Callable[[str], None] | None = None,
        opener: Callable[..., Any] = serial.serial_for_url,
    ) -> None:
        self.url, self.baud = url, baud
        self.timeout, self.run_timeout, self.retries = timeout, run_timeout, retries
        self.on_text = on_text or (lambda line: log.info("device: %s", line))
        self._opener = opener
        self._port: Any = None
        self._parser = p.StreamParser()
        self._seq = 0
        self._pending: list[p.Frame] = []
        self.info: p.DeviceInfo | None = None
        self.resets_seen = 0
        self.retransmissions = 0
        self.requests = 0
        self.frames_received = 0
        self.chunk_limit = p.MAX_PAYLOAD  # halved while a noisy line keeps eating long frames
        self.text_lines: list[str] = []

    # --- connection -------------------------------------------------------------------------------

    def open(self) -> Link:
        try:
            self._port = self._opener(self.url, baudrate=self.baud, timeout=0.02, write_timeout=5)
        except (serial.SerialException, OSError, ValueError) as e:
            raise LinkError(f"cannot open serial port '{self.url}': {e}") from None
        return self

    def close(self) -> None:
        if self._port is not None:
            self._port.close()
            self._port = None

    def __enter__(self) -> Link:
        return self.open() if self._port is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- frames ---------------------------------------------------------------------------------

    def _read_events(self, deadline: float) -> bool:
        """Read until `deadline`, the first frame (True) or a corrupted frame (False, so the caller
        re-sends at once instead of sitting out the timeout: the device answers each request once)."""
        bad0 = self._parser.bad_frames
        while True:
            try:
                data = self._port.read(max(1, self._port.in_waiting))
            except (serial.SerialException, OSError) as e:
                raise LinkError(f"serial port '{self.url}' failed: {e}") from None
            got_frame = False
            for ev in self._parser.feed(data):
                if isinstance(ev, p.Frame):
                    self._pending.append(ev)
                    self.frames_received += 1
                    got_frame = True
                else:
                    self._on_line(ev)
            if got_frame:
                return True
            if self._parser.bad_frames > bad0 or time.monotonic() >= deadline:
                return False

    def _write(self, data: bytes) -> None:
        try:
            self._port.write(data)
        except (serial.SerialException, OSError) as e:  # includes the write timeout of a stuck port
            raise LinkError(f"cannot write to serial port '{self.url}': {e}") from None

    def _on_line(self, line: str) -> None:
        self.text_lines.append(line)
        self.on_text(line)
        if line.startswith("!HARDFAULT"):
            raise DeviceFaultError(format_fault(line))
        if line.startswith(p.BANNER_PREFIX) and self.info is not None:
            self.resets_seen += 1
            raise DeviceResetError(f"device on {self.url} rebooted (boot banner: {line!r})")

    def request(self, cmd: int, payload: bytes = b"", budget: float | None = None) -> p.Frame:
        """Send one command and return its OK response; retries on silence or corruption.

        Without `budget` the request is sent 1 + `retries` times, `timeout` apart. With a budget (RUN:
        the device is deaf while it computes) it is re-sent with doubling gaps (capped at 2 s) until
        the budget is spent, so a lost RUN costs about one gap rather than the whole inference timeout.
        """
        if self._port is None:
            self.open()
        self._seq = (self._seq + 1) & 0xFF
        self.requests += 1
        wire = p.encode_frame(p.Frame(cmd, self._seq, p.Status.OK, payload))
        name = p.CMD_NAMES.get(cmd, hex(cmd))
        garbage0, bad0 = self._parser.garbage_bytes, self._parser.bad_frames
        start = time.monotonic()
        attempt = 0
        while True:
            wait = self.timeout if budget is None else min(self.timeout * 2**attempt, max(2.0, self.timeout))
            self._write(wire)
            resp = self._next_response(cmd, time.monotonic() + wait)
            if resp is not None:
                return self._check_status(resp, name)
            attempt += 1
            spent = time.monotonic() - start
            if (budget is None and attempt > self.retries) or (budget is not None and spent >= budget):
                break
            if budget is None:  # re-sending RUN while the device computes is polling, not a fault
                self.retransmissions += 1
        tries = f"{attempt} attempts in {time.monotonic() - start:.1f} s"
        raise self._silence_error(name, tries, self._parser.garbage_bytes - garbage0, self._parser.bad_frames - bad0)

    def _next_response(self, cmd: int, deadline: float) -> p.Frame | None:
        while True:
            while self._pending:
                f = self._pending.pop(0)
                # A stale duplicate of an earlier answer carries an older sequence number: skip it.
                if f.seq == self._seq and f.type == (cmd | p.RESPONSE_BIT):
                    return f
            if not self._read_events(deadline):
                return None

    def _check_status(self, resp: p.Frame, name: str) -> p.Frame:
        if resp.status == p.Status.OK:
            return resp
        status = p.STATUS_NAMES.get(resp.status, str(resp.status))
        if resp.status in (p.Status.NO_INPUT, p.Status.NO_RESULT):
            self.resets_seen += 1
            raise DeviceResetError(f"device on {self.url} lost its state during {name} ({status}): it was reset")
        raise LinkError(f"device rejected {name}: {status}")

    def _silence_error(self, name: str, tries: str, garbage: int, bad: int) -> LinkSilenceError:
        if garbage and not self.frames_received:
            # Never one intact frame from this device: the classic symptom of a baud rate mismatch.
            return LinkSilenceError(
                f"no valid answer to {name} from {self.url} at {self.baud} baud after {tries}: received "
                f"{garbage} bytes of unreadable data — is the baud rate right (the firmware's UART setting)?"
            )
        if bad or garbage:
            return LinkSilenceError(
                f"no intact answer to {name} from {self.url} after {tries}: {bad} corrupted frames and "
                f"{garbage} unreadable bytes — the line is too noisy or the baud rate is marginal"
            )
        return LinkSilenceError(
            f"nothing answered {name} on {self.url} after {tries} — is the board powered, flashed with "
            f"the stm32gen validation server, and on this port?"
        )

    # --- commands -------------------------------------------------------------------------------

    def _parse(self, name: str, parse: Callable[[bytes], Any], payload: bytes) -> Any:
        # A CRC-valid answer can still be cut short or laid out by other firmware: one clear error.
        try:
            return parse(payload)
        except p.FrameError as e:
            raise LinkError(
                f"malformed {name} answer from {self.url} ({len(payload)} bytes): {e} — is this the stm32gen "
                f"validation server of this version?"
            ) from None

    def handshake(self, expected_sha256: str | None = None, expected_plan: str | None = None) -> p.DeviceInfo:
        """INFO, then check the protocol version and that the firmware matches the model and plan.

        Text printed before the first answer (boot banner, log noise) is surfaced but does not count
        as a reset, since no session exists yet.
        """
        self.info = None
        info = self._parse("INFO", p.parse_info, self.request(p.Cmd.INFO).payload)
        if info.protocol_version != p.PROTOCOL_VERSION:
            raise LinkError(
                f"device speaks validation protocol v{info.protocol_version}, this host speaks "
                f"v{p.PROTOCOL_VERSION}: regenerate the firmware or update stm32gen"
            )
        if expected_sha256 and info.model_sha256.lower() != expected_sha256.lower():
            raise ModelMismatchError(
                f"device runs model sha256 {info.model_sha256}, expected {expected_sha256}: flash the "
                f"firmware generated from this model"
            )
        if expected_plan and info.plan_hash.lower() != expected_plan.lower():
            raise ModelMismatchError(
                f"device runs memory plan {info.plan_hash}, expected {expected_plan}: flash the firmware "
                f"generated with this plan"
            )
        self.info = info
        return info

    @property
    def _chunk(self) -> int:
        limit = self.info.max_payload if self.info else p.MAX_PAYLOAD
        return min(limit, p.MAX_PAYLOAD, self.chunk_limit)

    def _chunked(self, send: Callable[[int], int], total: int, overhead: int) -> None:
        """Call `send(max_bytes)` (which returns the bytes it moved) until `total` bytes are moved;
        when a chunk cannot get through a noisy line, halve the chunk size before giving up."""
        done = 0
        while done < total:
            try:
                done += send(self._chunk - overhead)
            except LinkSilenceError:
                if self._chunk <= 64 + overhead:
                    raise
                self.chunk_limit = self._chunk // 2
                log.warning("noisy line: chunk size lowered to %d bytes", self.chunk_limit)

    def write_input(self, data: bytes) -> None:
        pos = 0

        def send(step: int) -> int:
            nonlocal pos
            chunk = data[pos : pos + step]
            self.request(p.Cmd.WRITE_INPUT, p.write_input_payload(pos, chunk))
            pos += len(chunk)
            return len(chunk)

        self._chunked(send, len(data), 4)

    def run(self) -> p.RunResult:
        res = self._parse("RUN", p.parse_run, self.request(p.Cmd.RUN, budget=self.run_timeout).payload)
        if res.rc != 0:
            raise LinkError(f"the network returned error code {res.rc} on the device")
        return res

    def read_output(self, index: int, nbytes: int) -> bytes:
        out = bytearray()

        def send(step: int) -> int:
            n = min(step, nbytes - len(out))
            resp = self.request(p.Cmd.READ_OUTPUT, p.read_output_payload(index, len(out), n))
            if len(resp.payload) != n:
                raise LinkError(f"READ_OUTPUT returned {len(resp.payload)} bytes, asked for {n}")
            out.extend(resp.payload)
            return n

        self._chunked(send, nbytes, 0)
        return bytes(out)

    def read_detections(self) -> list[tuple[int, int, int, int, int, int]]:
        recs: list[tuple[int, int, int, int, int, int]] = []
        total = None
        while total is None or len(recs) < total:
            per_frame = max(1, (self._chunk - 4) // p.DETECTION_SIZE)
            try:
                resp = self.request(p.Cmd.READ_DETECTIONS, p.read_detections_payload(len(recs), per_frame))
            except LinkSilenceError:
                if self._chunk <= 64:
                    raise
                self.chunk_limit = self._chunk // 2
                continue
            total, got = self._parse("READ_DETECTIONS", p.parse_detections, resp.payload)
            if not got and len(recs) < total:
                raise LinkError(f"READ_DETECTIONS stopped at {len(recs)} of {total} records")
            recs += got
        return recs

    def reset(self) -> None:
        self.request(p.Cmd.RESET)
