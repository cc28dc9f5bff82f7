"""The real boards' firmware projects: they compile with -Wall -Wextra -Werror and every section
lands in the region the plan chose, with every external memory and RAM bank the boards offer in use
(so the SDRAM, QSPI, XSPI NOR, PSRAM and AXISRAM bring-up code is compiled too)."""

from __future__ import annotations

import shutil

import pytest

from generator.errors import BuildError
from generator.firmware.board import board_defines
from generator.firmware.build import build_project
from generator.firmware.project import render_project
from generator.firmware.sections import check_sections, read_sections
from generator.planner.plan import Plan, RegionUse
from generator.targets import load_target

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="needs arm-none-eabi-gcc")

BOARDS = ("nucleo-h743zi2", "stm32h747i-disco", "stm32n6570-dk")
ARENA = 4096
WEIGHTS = 64


def full_plan(target) -> Plan:
    """Every activation and weight region of the board used a little (so the N6 PSRAM too)."""
    regions = [RegionUse(r.name, r.base, r.size, r.arena_base, r.capacity,
                         ARENA if r.activations else 0, WEIGHTS if r.weights else 0)
               for r in target.regions if r.activations or r.weights]
    return Plan(target, [], regions, [], 0, 0, "synthetic")


def sources_for(plan) -> dict[str, str]:
    """Stand-ins for network.c: one array in each planned section, as the code generator emits."""
    lines = ["#include <stdint.h>"]
    for u in plan.regions:
        if u.weights_bytes:
            lines.append(f'__attribute__((section(".weights.{u.name}"), used)) '
                         f"const uint8_t w_{u.name}[{WEIGHTS}] = {{1}};")
        if u.activations_bytes:
            lines.append(f'__attribute__((section(".arena.{u.name}"), used, aligned(32))) '
                         f"uint8_t a_{u.name}[{ARENA}];")
    return {"blobs.c": "\n".join(lines) + "\n"}


@pytest.fixture(scope="module", params=BOARDS)
def built(request, tmp_path_factory):
    target = load_target(request.param)
    plan = full_plan(target)
    out = render_project(tmp_path_factory.mktemp(request.param), target, plan, sources_for(plan), app="selftest")
    return target, plan, out, build_project(out)


def test_board_project_compiles_warning_free(built):
    _, _, out, result = built
    assert result.elf.is_file()
    assert "-Werror" in (out / "CMakeLists.txt").read_text()
    assert "text" in result.size_report and "bss" in result.size_report


def test_every_planned_arena_and_weight_blob_is_at_its_planned_address(built):
    target, plan, _, result = built
    by_name = {s.name: s for s in result.sections}
    for u in plan.regions:
        if u.activations_bytes:
            s = by_name[f".arena.{u.name}"]
            assert (s.address, s.size) == (u.arena_base, u.activations_bytes)
        if u.weights_bytes:
            s = by_name[f".weights.{u.name}"]
            assert (s.address, s.size) == (u.arena_base, WEIGHTS)


def test_code_and_stacks_sit_in_the_reserved_part_of_their_banks(built):
    target, _, _, result = built
    by_name = {s.name: s for s in result.sections}
    for name in (".isr_vector", ".text", ".stack", ".handler_stack"):
        s = by_name[name]
        region = next(r for r in target.regions if r.contains(s.address, s.size))
        assert s.address + s.size <= region.arena_base, f"{name} spills into {region.name}'s arena"


def test_section_check_names_a_section_outside_its_region(built):
    target, _, _, result = built
    regions = {r.name: (r.base, r.size) for r in target.regions}
    expected = {s.name: target.regions[0].name for s in read_sections(result.elf) if s.allocated}
    wrong = next(s for s in result.sections if not target.regions[0].contains(s.address, s.size))
    with pytest.raises(BuildError, match=rf"section {wrong.name} at 0x"):
        check_sections(result.elf, expected, regions)


def test_stacks_are_sized_from_the_call_graph(built):
    _, _, out, result = built
    assert result.stack_depth > 0
    assert result.stack_size >= result.stack_depth * 5 // 4
    assert f"__stack_size = {result.stack_size};" in (out / "sizes.ld").read_text()


def test_compile_error_is_reported_with_file_and_message(tmp_path):
    target = load_target("nucleo-h743zi2")
    out = render_project(tmp_path, target, full_plan(target), {"broken.c": "int f(void) { return x; }\n"},
                         app="selftest")
    with pytest.raises(BuildError, match=r"(?s)build failed.*broken\.c.*'x' undeclared"):
        build_project(out)


def test_firmware_too_big_for_its_reserved_ram_names_the_bank(tmp_path):
    target = load_target("nucleo-h743zi2")  # 64 KiB of DTCM reserved for .data/.bss/stacks
    out = render_project(tmp_path, target, full_plan(target), {}, app="selftest", stack_size=80_000)
    with pytest.raises(BuildError, match=r"need \d+ more bytes than the DTCM bytes reserved"):
        build_project(out)


def test_n6_full_plan_brings_up_the_psram_and_places_its_arena_at_0x9000_0000(built):
    target, plan, out, result = built
    if target.id != "stm32n6570-dk":
        pytest.skip("the PSRAM is the N6 board's")
    board_h = (out / "src" / "sg_board.h").read_text()
    assert "#define SG_USE_PSRAM           1" in board_h
    # 32 MiB: DEVSIZE 24; 200 MHz HCLK needs no prescaler at the APS256XX's 200 MHz
    assert "SG_PSRAM_DEVSIZE       24u" in board_h and "SG_PSRAM_PRESCALER     0u" in board_h
    arena = {s.name: s for s in result.sections}[".arena.PSRAM"]
    assert 0x9000_0000 <= arena.address < 0x9200_0000


def test_n6_plan_without_psram_compiles_no_psram_set_up():
    target = load_target("stm32n6570-dk")
    plan = full_plan(target)
    plan.regions[:] = [u for u in plan.regions if u.name != "PSRAM"]
    defines = dict(board_defines(target, plan))
    assert defines["SG_USE_PSRAM"] == "0" and "SG_PSRAM_BASE" not in defines


def test_n6_psram_timing_follows_the_xspi_kernel_clock():
    from types import SimpleNamespace

    from generator.firmware.stm32 import _n6_psram_defines
    region = SimpleNamespace(base=0x9000_0000, size=0x200_0000)
    fast = dict(_n6_psram_defines(region, 200_000_000))
    # 200 MHz: no prescaler, 1 us of nCS-low = 200 cycles - 4, 25 ns nCS-high = 5 cycles (CSHT + 1)
    assert (fast["SG_PSRAM_PRESCALER"], fast["SG_PSRAM_REFRESH"], fast["SG_PSRAM_CSHT"]) == ("0u", "196u", "4u")
    assert fast["SG_PSRAM_INIT_PRESCALER"] == "3u" and fast["SG_PSRAM_LIMIT"] == "0x91FFFFFFu"
    slow = dict(_n6_psram_defines(region, 400_000_000))  # a faster kernel clock is divided down to 200 MHz
    assert (slow["SG_PSRAM_PRESCALER"], slow["SG_PSRAM_REFRESH"]) == ("1u", "196u")


def test_n6_psram_region_that_is_not_an_aligned_power_of_two_is_refused():
    from types import SimpleNamespace

    from generator.firmware.stm32 import _n6_psram_defines
    with pytest.raises(BuildError, match="0x300000 bytes at 0x90000000 is not a naturally aligned power of two"):
        _n6_psram_defines(SimpleNamespace(base=0x9000_0000, size=0x30_0000), 200_000_000)
