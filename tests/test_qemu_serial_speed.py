"""The interrupt-driven UART receive path on both QEMU machines: bulk data in either direction and
both at once arrives intact, input that piles up while the firmware is busy is neither lost nor
reordered, and receive timeouts still expire although the firmware now sleeps in WFI.

Driven through the self-test's bulk commands (templates/projects/common/selftest.c). Throughput is
printed (`pytest -s`), never asserted: it depends on the host's load.
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import threading
import time

import pytest

from generator.firmware.build import build_project
from generator.firmware.emulate import Emulator
from generator.firmware.project import render_project
from generator.planner.plan import Plan, RegionUse
from generator.targets import load_target

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                       reason="needs qemu-system-arm and arm-none-eabi-gcc"),
]

BOARDS = ("qemu-mps2-an500", "qemu-mps3-an547")
SIZE = 64 * 1024


def small_plan(target) -> Plan:
    act, wts = target.activation_regions[0], target.weight_regions[0]
    regions = [RegionUse(r.name, r.base, r.size, r.arena_base, r.capacity,
                         4096 if r is act else 0, 8192 if r is wts else 0) for r in (act, wts)]
    return Plan(target, [], regions, [], 0, 0, "synthetic")


@pytest.fixture(scope="module", params=BOARDS)
def board(request, tmp_path_factory):
    target = load_target(request.param)
    out = render_project(tmp_path_factory.mktemp(request.param), target, small_plan(target), {}, app="selftest")
    return target, build_project(out).elf


def fnv1a(data: bytes) -> int:
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def lcg_stream(n: int) -> bytes:
    """The self-test's 'T' stream: x = x * 1664525 + 1013904223 from x = n, top byte of each step."""
    x, out = n, bytearray()
    for _ in range(n):
        x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
        out.append(x >> 24)
    return bytes(out)


class Console:
    """The firmware's UART as a plain TCP socket, synchronised on the self-test banner."""

    def __init__(self, url: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=30)
        self.sock.sendall(b"?")
        while not self.line().startswith(b"stm32gen selftest"):
            pass
        time.sleep(0.2)  # the boot banner may still be on its way; drop it
        self.sock.setblocking(False)
        try:
            while self.sock.recv(4096):
                pass
        except BlockingIOError:
            pass
        self.sock.settimeout(30)

    def recv(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise EOFError("QEMU closed the serial socket")
            buf += chunk
        return bytes(buf)

    def line(self) -> bytes:
        buf = b""
        while not buf.endswith(b"\n"):
            buf += self.recv(1)
        return buf

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def console(board):
    target, elf = board
    with Emulator(elf, target.qemu_machine) as url:
        con = Console(url)
        yield target, con
        con.close()


def report(target, what: str, nbytes: int, seconds: float) -> None:
    print(f"\n{target.id}: {what} {nbytes} B in {seconds:.2f} s = {nbytes / seconds / 1e3:.1f} KB/s")


def test_64k_random_bytes_echo_back_intact(console):
    target, con = console
    data = os.urandom(SIZE)
    start = time.monotonic()
    # Send from a thread while reading here: neither side may wait for the other to finish.
    writer = threading.Thread(target=con.sock.sendall, args=(b"E" + struct.pack("<I", SIZE) + data,))
    writer.start()
    echoed = con.recv(SIZE)
    writer.join()
    report(target, "echo (both directions at once)", SIZE, time.monotonic() - start)
    assert echoed == data


def test_64k_sent_to_the_firmware_arrive_intact_and_in_order(console):
    target, con = console
    data = os.urandom(SIZE)
    start = time.monotonic()
    con.sock.sendall(b"S" + struct.pack("<I", SIZE) + data)
    answer = con.line()
    report(target, "host->guest", SIZE, time.monotonic() - start)
    assert answer == f"sum=0x{fnv1a(data):08x}\r\n".encode()


def test_64k_sent_by_the_firmware_arrive_intact(console):
    target, con = console
    start = time.monotonic()
    con.sock.sendall(b"T" + struct.pack("<I", SIZE))
    got = con.recv(SIZE)
    report(target, "guest->host", SIZE, time.monotonic() - start)
    assert got == lcg_stream(SIZE)


def test_input_sent_while_the_firmware_is_busy_is_neither_lost_nor_reordered(console):
    """'W' keeps the firmware from reading for 50 ms of counter time, long enough for the 1 KiB
    receive ring to fill: the driver must then leave bytes in the UART (QEMU holds back the rest)
    rather than drop or overwrite them."""
    _, con = console
    data = os.urandom(16 * 1024)
    con.sock.sendall(b"W" + b"S" + struct.pack("<I", len(data)) + data)
    assert con.line() == f"sum=0x{fnv1a(data):08x}\r\n".encode()


def test_receive_timeout_expires_while_the_firmware_sleeps_for_input(console):
    """A bulk transfer cut short times out after 1000 virtual ms (counted while halted in WFI) and
    the firmware answers commands again; had the timeout never expired, '?' would be taken as data."""
    target, con = console
    con.sock.sendall(b"S" + struct.pack("<I", 100) + bytes(10))
    time.sleep(2.5)  # > 1000 ms timeout + one SysTick wrap (the WFI wake-up granularity)
    con.sock.sendall(b"?")
    assert con.line() == f"stm32gen selftest board={target.id} counter=instructions\r\n".encode()
