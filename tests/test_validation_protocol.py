"""The wire format: COBS, CRC-32, frames, the stream parser that separates frames from text lines."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.validation import protocol as p


def test_crc32_is_ieee_check_value():
    assert p.crc32(b"123456789") == 0xCBF43926


@given(st.binary(max_size=p.MAX_FRAME))
@settings(max_examples=300, deadline=None)
def test_cobs_round_trips_and_never_emits_zero(data):
    enc = p.cobs_encode(data)
    assert 0 not in enc
    assert len(enc) <= len(data) + len(data) // 254 + 1
    assert p.cobs_decode(enc) == data


def test_cobs_block_boundaries():
    for n in (253, 254, 255, 508, 509):
        data = bytes(range(1, 256)) * 3
        assert p.cobs_decode(p.cobs_encode(data[:n])) == data[:n]
        assert p.cobs_decode(p.cobs_encode(data[:n] + b"\x00")) == data[:n] + b"\x00"


def test_largest_frame_fits_the_device_buffer():
    wire = p.encode_frame(p.Frame(p.Cmd.WRITE_INPUT, 1, 0, b"\x00" * p.MAX_PAYLOAD))
    assert len(wire) - 2 <= p.MAX_ENCODED
    with pytest.raises(ValueError, match="exceeds 1024"):
        p.encode_frame(p.Frame(p.Cmd.WRITE_INPUT, 1, 0, b"\x00" * (p.MAX_PAYLOAD + 1)))


@given(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=64), st.integers(0, 200), st.integers(0, 7))
@settings(max_examples=300, deadline=None)
def test_any_single_bit_flip_is_detected(typ, seq, payload, pos, bit):
    wire = bytearray(p.encode_frame(p.Frame(typ, seq, 0, payload)))
    body = wire[1:-1]
    body[pos % len(body)] ^= 1 << bit
    try:
        got = p.decode_frame(bytes(body))
    except p.FrameError:
        return
    pytest.fail(f"corrupted frame accepted: {got}")


def test_parser_separates_banner_text_and_frames():
    f1 = p.Frame(p.Cmd.INFO | p.RESPONSE_BIT, 3, 0, b"\n\nhello\n")
    stream = b"boot noise\r\nstm32gen-vs host protocol 1\r\n" + p.encode_frame(f1) + b"!HARDFAULT pc=0x1\r\n"
    parser = p.StreamParser()
    events = []
    for i in range(0, len(stream), 5):  # arrives in pieces
        events += parser.feed(stream[i : i + 5])
    assert events == ["boot noise", "stm32gen-vs host protocol 1", f1, "!HARDFAULT pc=0x1"]


@pytest.mark.parametrize("cut", ["opening", "closing"])
def test_parser_recovers_every_intact_frame_when_a_delimiter_is_lost(cut):
    f1, f2, f3 = (p.Frame(0x81, i, 0, bytes([i]) * 5) for i in (1, 2, 3))
    w1 = p.encode_frame(f1)
    w1 = w1[1:] if cut == "opening" else w1[:-1]
    parser = p.StreamParser()
    events = parser.feed(b"\xff\xfe\x81\n" + w1 + p.encode_frame(f2) + p.encode_frame(f3))
    assert parser.garbage_bytes == 3
    assert events == [f1, f2, f3]


def test_info_round_trips():
    sig = p.TensorSignature("input", "uint8", (1, 192, 192, 3), float(np.float32(1 / 127.5)), 127, 110592)
    out = p.TensorSignature("StatefulPartitionedCall:21", "int8", (1, 3845, 2), 0.00390625, -128, 7690)
    info = p.DeviceInfo(1, 1024, "nucleo-h743zi", "a" * 64, "0123456789abcdef", "cycles", 10, sig, (out, out))
    assert p.parse_info(p.pack_info(info)) == info


def test_truncated_payload_names_the_position():
    with pytest.raises(p.FrameError, match="truncated at byte 0"):
        p.parse_run(b"\x00\x00\x00\x00")


_frames = st.builds(p.Frame, st.integers(0x81, 0x86), st.integers(0, 255), st.integers(0, 6), st.binary(max_size=300))
_lines = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=60)


@given(st.lists(st.one_of(_frames, _lines), max_size=12), st.integers(1, 64))
@settings(max_examples=200, deadline=None)
def test_parser_returns_clean_streams_exactly_in_any_chunking(items, step):
    stream = b"".join(p.encode_frame(i) if isinstance(i, p.Frame) else (i + "\r\n").encode() for i in items)
    parser = p.StreamParser()
    events = [ev for k in range(0, len(stream), step) for ev in parser.feed(stream[k : k + step])]
    assert events == items
    assert parser.garbage_bytes == 0 and parser.bad_frames == 0


@given(
    st.lists(_frames, min_size=1, max_size=8),
    st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 3), st.integers(0, 255)), max_size=6),
)
@settings(max_examples=300, deadline=None)
def test_parser_never_invents_a_frame_from_a_corrupted_stream(frames, faults):
    stream = bytearray(b"".join(p.encode_frame(f) for f in frames))
    for pos, kind, value in faults:  # drop, flip, duplicate, insert
        pos %= len(stream) + 1
        if kind == 0 and pos < len(stream):
            del stream[pos]
        elif kind == 1 and pos < len(stream):
            stream[pos] ^= value or 1
        elif kind == 2 and pos < len(stream):
            stream.insert(pos, stream[pos])
        else:
            stream.insert(pos, value)
    events = p.StreamParser().feed(bytes(stream))
    assert all(ev in frames for ev in events if isinstance(ev, p.Frame))
