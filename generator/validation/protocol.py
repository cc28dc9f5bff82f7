"""Wire format of the validation protocol (docs/protocol.md): COBS framing, CRC-32, messages.

Everything here is pure (bytes in, bytes out) so the link, the Python device simulator and the tests
share one implementation of the format. The C side (templates/validation) mirrors it.
"""

from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass, field

PROTOCOL_VERSION = 1
MAX_PAYLOAD = 1024  # keeps a device's RX buffer at ~1.04 KiB
HEADER = struct.Struct("<BBB")  # type, seq, status
CRC_SIZE = 4
MAX_FRAME = HEADER.size + MAX_PAYLOAD + CRC_SIZE
MAX_ENCODED = MAX_FRAME + MAX_FRAME // 254 + 2  # COBS overhead, without delimiters
RESPONSE_BIT = 0x80
DETECTION_SIZE = 12
DETECTION = struct.Struct("<Hhhhhh")  # class_id, score, x1, y1, x2, y2 (docs/contracts.md)
BANNER_PREFIX = "stm32gen-vs"  # first word of the server's boot line, how a reset is recognised


class Cmd:
    INFO = 0x01
    WRITE_INPUT = 0x02
    RUN = 0x03
    READ_OUTPUT = 0x04
    READ_DETECTIONS = 0x05
    RESET = 0x06


CMD_NAMES = {v: k for k, v in vars(Cmd).items() if not k.startswith("_")}


class Status:
    OK = 0
    UNKNOWN_CMD = 1
    BAD_LENGTH = 2
    OUT_OF_RANGE = 3
    NO_INPUT = 4  # RUN before the whole input was written since boot/RESET: a reset happened
    NO_RESULT = 5  # READ_* before a successful RUN since boot/RESET: a reset happened
    RUN_FAILED = 6


STATUS_NAMES = {v: k for k, v in vars(Status).items() if not k.startswith("_")}


class FrameError(ValueError):
    """A chunk between delimiters is not a valid frame (bad COBS, CRC, length)."""


def crc32(data: bytes) -> int:
    """CRC-32/IEEE 802.3 (reflected, poly 0xEDB88320, init and xorout 0xFFFFFFFF), as zlib computes it."""
    return binascii.crc32(data) & 0xFFFFFFFF


def cobs_encode(data: bytes) -> bytes:
    """Consistent Overhead Byte Stuffing: the output has no 0x00, so 0x00 can delimit frames."""
    out = bytearray()
    block = bytearray()
    for b in data:
        if b == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
        else:
            block.append(b)
            if len(block) == 254:
                out.append(255)
                out += block
                block.clear()
    out.append(len(block) + 1)
    out += block
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        code = data[i]
        if code == 0:
            raise FrameError("COBS: zero byte inside a frame")
        end = i + code
        if end > n:
            raise FrameError("COBS: block runs past the end of the frame")
        block = data[i + 1 : end]
        if 0 in block:
            raise FrameError("COBS: zero byte inside a frame")
        out += block
        i = end
        if code != 255 and i < n:
            out.append(0)
    return bytes(out)


@dataclass(frozen=True)
class Frame:
    type: int
    seq: int
    status: int = Status.OK
    payload: bytes = b""

    @property
    def is_response(self) -> bool:
        return bool(self.type & RESPONSE_BIT)

    @property
    def cmd(self) -> int:
        return self.type & ~RESPONSE_BIT


def encode_frame(frame: Frame) -> bytes:
    """Frame -> bytes on the wire: 0x00, COBS(header | payload | crc32 LE), 0x00.

    The leading delimiter separates the frame from any text line the device printed before it.
    """
    if len(frame.payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(frame.payload)} bytes exceeds {MAX_PAYLOAD}")
    raw = HEADER.pack(frame.type, frame.seq & 0xFF, frame.status) + frame.payload
    raw += struct.pack("<I", crc32(raw))
    return b"\x00" + cobs_encode(raw) + b"\x00"


def decode_frame(chunk: bytes) -> Frame:
    """One chunk between delimiters -> Frame; FrameError when it is not an intact frame."""
    if len(chunk) > MAX_ENCODED:
        raise FrameError(f"chunk of {len(chunk)} bytes is longer than any frame")
    raw = cobs_decode(chunk)
    if len(raw) < HEADER.size + CRC_SIZE:
        raise FrameError(f"frame of {len(raw)} bytes is shorter than header + CRC")
    body, (crc,) = raw[:-CRC_SIZE], struct.unpack("<I", raw[-CRC_SIZE:])
    if crc32(body) != crc:
        raise FrameError("CRC mismatch")
    typ, seq, status = HEADER.unpack_from(body)
    return Frame(typ, seq, status, bytes(body[HEADER.size :]))


def _printable(data: bytes | bytearray) -> bool:
    return all(0x20 <= c < 0x7F or c in (0x09, 0x0D) for c in data)


class StreamParser:
    """Splits the device's byte stream into frames, text lines and garbage.

    Text lines (boot banner, `!HARDFAULT ...`) travel outside frames and end with '\\n'; a frame is
    bracketed by 0x00 on both sides. After a frame's closing 0x00 the parser is in text mode; a 0x00
    switches to frame mode; an empty frame (two 0x00 in a row) is the next frame's opening delimiter.
    A lost delimiter therefore costs at most the frames around it, never the sync.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._in_frame = False
        self.garbage_bytes = 0  # bytes that were neither a valid frame nor a printable line
        self.bad_frames = 0

    def feed(self, data: bytes) -> list[Frame | str]:
        events: list[Frame | str] = []
        for b in data:
            if b == 0:
                if self._in_frame and self._buf:
                    self._finish_frame(events)
                    self._in_frame = False
                elif not self._in_frame and self._buf:
                    # Text mode ended by 0x00: either text before a frame, or a frame whose opening
                    # delimiter was lost (then this 0x00 closed it and we stay between frames).
                    if self._try_frame(events):
                        continue
                    self._finish_text(events)
                    self._in_frame = True
                else:
                    self._in_frame = True
            elif not self._in_frame and b == 0x0A and _printable(self._buf):
                self._finish_text(events)
            else:
                # Unprintable bytes before a newline may be a frame that lost its opening delimiter:
                # keep them until the 0x00 that would close it, or until no frame could be that long.
                self._buf.append(b)
                if not self._in_frame and len(self._buf) > MAX_ENCODED:
                    self._finish_frame(events)
        return events

    def _try_frame(self, events: list[Frame | str]) -> bool:
        """Decode the buffer, or its tail after some newline (garbage may precede the frame)."""
        buf = bytes(self._buf)
        starts = [0] + [i + 1 for i, c in enumerate(buf) if c == 0x0A]
        for start in starts:
            try:
                frame = decode_frame(buf[start:])
            except FrameError:
                continue
            self._buf.clear()
            for line in buf[:start].split(b"\n"):
                self._classify_text(line, events)
            events.append(frame)
            return True
        return False

    def _finish_frame(self, events: list[Frame | str]) -> None:
        chunk = bytes(self._buf)
        self._buf.clear()
        try:
            events.append(decode_frame(chunk))
        except FrameError:
            self.bad_frames += 1
            # A text line printed while the parser was in frame mode still reaches the user.
            for line in chunk.split(b"\n"):
                self._classify_text(line, events)

    def _finish_text(self, events: list[Frame | str]) -> None:
        data = bytes(self._buf)
        self._buf.clear()
        for line in data.split(b"\n"):
            self._classify_text(line, events)

    def _classify_text(self, line: bytes, events: list[Frame | str]) -> None:
        line = line.rstrip(b"\r")
        if not line:
            return
        if _printable(line):
            events.append(line.decode("ascii"))
        else:
            self.garbage_bytes += len(line)


# --- Messages -------------------------------------------------------------------------------------

DTYPE_NAMES = {1: "int8", 2: "uint8", 3: "float32"}  # STM32GEN_DTYPE_* of network.h


@dataclass(frozen=True)
class TensorSignature:
    name: str
    dtype: str  # "int8" | "uint8" | "float32" (constant outputs such as SSD anchors)
    shape: tuple[int, ...]
    scale: float
    zero_point: int
    nbytes: int

    def describe(self) -> str:
        return f"{self.name} {self.dtype}{list(self.shape)} scale={self.scale:.9g} zp={self.zero_point}"


@dataclass(frozen=True)
class DeviceInfo:
    protocol_version: int
    max_payload: int
    target_id: str
    model_sha256: str
    plan_hash: str
    counter_kind: str
    max_detections: int
    input: TensorSignature
    outputs: tuple[TensorSignature, ...] = field(default_factory=tuple)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> tuple:
        s = struct.Struct("<" + fmt)
        if self.pos + s.size > len(self.data):
            raise FrameError(f"payload truncated at byte {self.pos} (needed {s.size} more)")
        values = s.unpack_from(self.data, self.pos)
        self.pos += s.size
        return values

    def string(self) -> str:
        (n,) = self.take("B")
        raw = self.take(f"{n}s")[0]
        return raw.decode("ascii", errors="replace")


def pack_string(s: str) -> bytes:
    raw = s.encode("ascii")[:255]
    return bytes([len(raw)]) + raw


def pack_signature(sig: TensorSignature) -> bytes:
    code = {v: k for k, v in DTYPE_NAMES.items()}[sig.dtype]
    out = pack_string(sig.name) + struct.pack("<BB", code, len(sig.shape))
    out += struct.pack(f"<{len(sig.shape)}i", *sig.shape)
    return out + struct.pack("<fiI", sig.scale, sig.zero_point, sig.nbytes)


def _read_signature(r: _Reader) -> TensorSignature:
    name = r.string()
    code, rank = r.take("BB")
    if rank > 4:
        raise FrameError(f"tensor '{name}' has rank {rank} > 4")
    shape = r.take(f"{rank}i")
    scale, zp, nbytes = r.take("fiI")
    return TensorSignature(name, DTYPE_NAMES.get(code, f"dtype{code}"), tuple(shape), scale, zp, nbytes)


def pack_info(info: DeviceInfo) -> bytes:
    out = struct.pack("<HH", info.protocol_version, info.max_payload)
    out += pack_string(info.target_id) + info.model_sha256.encode("ascii")[:64].ljust(64, b"?")
    out += info.plan_hash.encode("ascii")[:16].ljust(16, b"?") + pack_string(info.counter_kind)
    out += struct.pack("<H", info.max_detections) + pack_signature(info.input)
    out += bytes([len(info.outputs)]) + b"".join(pack_signature(s) for s in info.outputs)
    return out


def parse_info(payload: bytes) -> DeviceInfo:
    r = _Reader(payload)
    version, max_payload = r.take("HH")
    if version != PROTOCOL_VERSION:
        # Stop before reading further: a future version may lay the rest out differently.
        return DeviceInfo(version, max_payload, "", "", "", "", 0, TensorSignature("", "", (), 0.0, 0, 0))
    target = r.string()
    sha = r.take("64s")[0].decode("ascii", errors="replace")
    plan = r.take("16s")[0].decode("ascii", errors="replace")
    kind = r.string()
    (max_det,) = r.take("H")
    inp = _read_signature(r)
    (n,) = r.take("B")
    outputs = tuple(_read_signature(r) for _ in range(n))
    return DeviceInfo(version, max_payload, target, sha, plan, kind, max_det, inp, outputs)


@dataclass(frozen=True)
class RunResult:
    rc: int
    counter: int
    counter_kind: str
    num_detections: int


def pack_run(res: RunResult) -> bytes:
    return struct.pack("<iIH", res.rc, res.counter, res.num_detections) + pack_string(res.counter_kind)


def parse_run(payload: bytes) -> RunResult:
    r = _Reader(payload)
    rc, counter, ndet = r.take("iIH")
    return RunResult(rc, counter, r.string(), ndet)


def write_input_payload(offset: int, data: bytes) -> bytes:
    return struct.pack("<I", offset) + data


def read_output_payload(index: int, offset: int, length: int) -> bytes:
    return struct.pack("<BIH", index, offset, length)


def read_detections_payload(first: int, count: int) -> bytes:
    return struct.pack("<HH", first, count)


def parse_detections(payload: bytes) -> tuple[int, list[tuple[int, int, int, int, int, int]]]:
    """READ_DETECTIONS response -> (total count, records as (class_id, score, x1, y1, x2, y2))."""
    r = _Reader(payload)
    total, n = r.take("HH")
    if len(payload) != 4 + n * DETECTION_SIZE:
        raise FrameError(f"detections payload of {len(payload)} bytes does not hold {n} records")
    recs = [DETECTION.unpack_from(payload, 4 + i * DETECTION_SIZE) for i in range(n)]
    return total, recs
