"""The board layer on the two QEMU machines: boot, UART echo, instruction counter and fault reports.

Each image is the self-test application (templates/projects/common/selftest.c) built from the real
templates and target data, then booted in qemu-system-arm and driven over its TCP serial port.
"""

from __future__ import annotations

import re
import shutil
import time

import numpy as np
import pytest
import serial

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
FAULT = re.compile(r"!HARDFAULT exc=(\d+) cfsr=(0x[0-9a-f]{8}) .*pc=(0x[0-9a-f]{8})")


def small_plan(target) -> Plan:
    """A plan with a 4 KiB arena in the first activation bank and 8 KiB of weights."""
    act, wts = target.activation_regions[0], target.weight_regions[0]
    regions = [RegionUse(r.name, r.base, r.size, r.arena_base, r.capacity,
                         4096 if r is act else 0, 8192 if r is wts else 0) for r in (act, wts)]
    return Plan(target, [], regions, [], 0, 0, "synthetic")


@pytest.fixture(scope="module", params=BOARDS)
def board(request, tmp_path_factory):
    target = load_target(request.param)
    out = render_project(tmp_path_factory.mktemp(request.param), target, small_plan(target), {}, app="selftest")
    return target, build_project(out)


@pytest.fixture(scope="module", params=BOARDS)
def tiny_stack_board(request, tmp_path_factory):
    target = load_target(request.param)
    out = render_project(tmp_path_factory.mktemp(request.param + "-tiny"), target, small_plan(target), {},
                         app="selftest", stack_size=64)
    return target, build_project(out)


def open_port(url: str) -> serial.Serial:
    """Connect and synchronise: the boot banner may or may not reach us (QEMU drops output while
    no client is connected), so ask for the banner, wait for it, then drop anything older."""
    port = serial.serial_for_url(url, timeout=5)
    port.write(b"?")
    for _ in range(3):  # at most a (partial) boot banner, then our reply
        if port.read_until(b"\n").startswith(b"stm32gen selftest"):
            break
    else:
        pytest.fail("the self-test did not answer '?'")
    time.sleep(0.2)
    port.reset_input_buffer()
    return port


def read_fault(port: serial.Serial, deadline: float = 10.0) -> re.Match:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        line = port.readline().decode(errors="replace")
        m = FAULT.search(line)
        if m:
            return m
    pytest.fail("no !HARDFAULT line within the deadline")


def test_boot_banner_names_board_and_counter_kind(board):
    target, result = board
    with Emulator(result.elf, target.qemu_machine) as url, open_port(url) as port:
        port.write(b"?")
        line = port.read_until(b"\n").decode()
    assert line == f"stm32gen selftest board={target.id} counter=instructions\r\n"


def test_uart_echoes_every_byte_value(board):
    target, result = board
    payload = bytes(b for b in range(256) if chr(b) not in "?CFRSETW")  # all but the command bytes
    with Emulator(result.elf, target.qemu_machine) as url, open_port(url) as port:
        port.write(payload)
        echoed = port.read(len(payload))
    assert echoed == payload


def test_counter_counts_instructions_of_a_fixed_loop(board):
    target, result = board
    with Emulator(result.elf, target.qemu_machine) as url, open_port(url) as port:
        port.write(b"C")
        line = port.read_until(b"\n").decode()
    m = re.fullmatch(r"count=(\d+) kind=instructions\r\n", line)
    assert m, line
    # 100000 iterations of a 5-6 instruction loop body; the tick granularity is <= 40 instructions.
    assert 450_000 <= int(m.group(1)) <= 650_000


def test_undefined_instruction_is_reported_as_usage_fault(board):
    target, result = board
    with Emulator(result.elf, target.qemu_machine) as url, open_port(url) as port:
        port.write(b"F")
        m = read_fault(port)
    assert int(m.group(1)) == 6  # UsageFault
    assert int(m.group(2), 16) & (1 << 16)  # CFSR.UNDEFINSTR
    assert int(m.group(3), 16) != 0xFFFFFFFF  # the frame was readable: pc reported


def test_runaway_recursion_is_caught_before_it_corrupts_other_memory(board):
    target, result = board
    with Emulator(result.elf, target.qemu_machine) as url, open_port(url) as port:
        port.write(b"R")
        m = read_fault(port)
    cfsr = int(m.group(2), 16)
    if target.core == "cortex-m55":
        assert cfsr & (1 << 20)  # UFSR.STKOF from PSPLIM
    else:
        assert int(m.group(1)) == 4 and cfsr & 0x12  # MemManage: DACCVIOL or MSTKERR on the MPU guard


def test_image_with_a_tiny_stack_reports_a_fault_at_boot(tiny_stack_board):
    target, result = tiny_stack_board
    assert result.stack_size == 64
    with Emulator(result.elf, target.qemu_machine) as url, serial.serial_for_url(url, timeout=5) as port:
        read_fault(port)  # repeated by the handler, so a late listener still sees it


def test_emulator_ends_qemu_even_when_the_body_raises(board):
    target, result = board
    emu = Emulator(result.elf, target.qemu_machine)
    with pytest.raises(RuntimeError), emu:
        proc = emu.process
        raise RuntimeError("boom")
    assert proc.poll() is not None and emu.process is None


@pytest.mark.slow
@pytest.mark.parametrize("board", BOARDS)
def test_real_network_firmware_answers_the_validation_server_protocol(board, tmp_path):
    """The whole board layer under the real generated network and validation server: the stacks
    sized from the call graph hold, the sections fit, and one inference runs to completion."""
    from conftest import ST_SSD_V1_192
    from generator.codegen.project import generate_project
    from generator.validation.link import Link

    gen = generate_project(ST_SSD_V1_192, board, tmp_path)
    result = build_project(tmp_path)
    assert result.stack_depth > 0
    shape = gen.manifest["input"]["shape"]
    with Emulator(tmp_path) as url:
        link = Link(url).open()
        try:
            info = link.handshake(gen.manifest["model_sha256"], gen.manifest["plan_hash"])
            assert info.counter_kind == "instructions" and info.target_id == board
            link.write_input(bytes(int(np.prod(shape))))
            run = link.run()
        finally:
            link.close()
    assert run.rc == 0 and run.counter > 1_000_000
