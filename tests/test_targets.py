"""Targets are typed, frozen, validated data; the memory maps are pinned to their documents."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest

from generator.errors import TargetError
from generator.resources import targets_dir
from generator.targets import TARGETS, Region, TargetDataError, load_target, load_targets_from, overlaps

KiB, MiB = 1024, 1024 * 1024


def _map(target_id: str) -> dict[str, tuple[int, int]]:
    return {r.name: (r.base, r.size) for r in load_target(target_id).regions}


def test_registry_holds_the_six_targets():
    assert set(TARGETS) == {"nucleo-h743zi2", "stm32h747i-disco", "stm32n6570-dk", "qemu-mps2-an500",
                            "qemu-mps3-an547", "host"}


def test_h743_memory_map_matches_rm0433():
    m = _map("nucleo-h743zi2")
    assert m["AXI_SRAM"] == (0x2400_0000, 512 * KiB)
    assert m["SRAM1"] == (0x3000_0000, 128 * KiB)
    assert m["SRAM2"] == (0x3002_0000, 128 * KiB)
    assert m["SRAM3"] == (0x3004_0000, 32 * KiB)
    assert m["SRAM4"] == (0x3800_0000, 64 * KiB)
    assert m["DTCM"] == (0x2000_0000, 128 * KiB)
    assert m["ITCM"] == (0x0000_0000, 64 * KiB)
    assert m["FLASH"] == (0x0800_0000, 2 * MiB)
    t = load_target("nucleo-h743zi2")
    assert (t.core, t.uart.instance, t.uart.tx, t.uart.rx, t.uart.af) == ("cortex-m7", "USART3", "PD8", "PD9", 7)
    assert not any(r.external for r in t.regions)


def test_h747_disco_has_sdram_and_qspi_and_usart1_vcp():
    t = load_target("stm32h747i-disco")
    m = _map(t.id)
    assert m["SDRAM"] == (0xD000_0000, 32 * MiB) and t.region("SDRAM").activations
    assert m["QSPI"] == (0x9000_0000, 128 * MiB) and t.region("QSPI").weights
    assert t.weight_order == ("FLASH", "QSPI")  # internal flash first
    assert (t.uart.instance, t.uart.tx, t.uart.rx, t.uart.af) == ("USART1", "PA9", "PA10", 7)
    assert t.flash.external_loader.endswith(".stldr")


def test_n6_has_npu_rams_no_internal_flash_and_weights_in_xspi():
    t = load_target("stm32n6570-dk")
    m = _map(t.id)
    assert m["AXISRAM3"] == (0x3420_0000, 448 * KiB)
    assert m["AXISRAM4"] == (0x3427_0000, 448 * KiB)
    assert m["AXISRAM5"] == (0x342E_0000, 448 * KiB)
    assert m["AXISRAM6"] == (0x3435_0000, 448 * KiB)
    assert m["XSPI_NOR"][0] == 0x7000_0000 and m["PSRAM"][0] == 0x9000_0000
    assert not any(r.kind == "flash" for r in t.regions)
    assert [r.name for r in t.weight_regions] == ["XSPI_NOR"]
    assert t.core == "cortex-m55" and t.uart.instance == "USART1"


def test_qemu_targets_name_their_machine_and_uart():
    an500, an547 = load_target("qemu-mps2-an500"), load_target("qemu-mps3-an547")
    assert an500.qemu_machine == "mps2-an500" and an547.qemu_machine == "mps3-an547"
    assert _map(an500.id)["SSRAM1"] == (0, 4 * MiB) and _map(an500.id)["PSRAM"] == (0x6000_0000, 16 * MiB)
    assert _map(an547.id)["ITCM"] == (0, 512 * KiB) and _map(an547.id)["SRAM"] == (0x0100_0000, 2 * MiB)
    assert an500.uart.base == 0x4000_4000 and an547.uart.base == 0x4930_3000
    assert (an500.core, an547.core) == ("cortex-m7", "cortex-m55")


def test_every_region_cites_a_source_and_board_regions_do_not_overlap():
    for t in TARGETS.values():
        assert t.activation_regions and t.weight_regions, t.id
        for r in t.regions:
            assert r.source.strip(), (t.id, r.name)
            assert 0 <= r.reserved < r.size


def test_unknown_target_lists_the_known_ones():
    with pytest.raises(TargetError) as err:
        load_target("nucleo-f401re")
    assert "nucleo-f401re" in str(err.value) and "nucleo-h743zi2" in str(err.value)
    assert load_target("H743").id == "nucleo-h743zi2"


def test_targets_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        load_target("host").regions[0].size = 1  # type: ignore[misc]


@pytest.mark.parametrize(("addr", "size", "inside"), [
    (0x100, 0, True), (0x100, 0x100, True), (0x1FF, 1, True), (0x1FF, 2, False), (0xFF, 1, False),
    (0x200, 0, True), (0x200, 1, False), (0x150, -1, False),
])
def test_region_contains_is_half_open(addr, size, inside):
    r = Region("R", 0x100, 0x100, "sram", 0, True, True, False, True, "test")
    assert r.contains(addr, size) is inside


@pytest.mark.parametrize(("a", "b", "hit"), [
    ((0, 10), (10, 5), False), ((0, 10), (9, 5), True), ((5, 0), (0, 10), False), ((0, 10), (2, 3), True),
])
def test_overlaps_is_half_open_and_ignores_empty_ranges(a, b, hit):
    assert overlaps(*a, *b) is hit and overlaps(*b, *a) is hit


@pytest.fixture
def target_copy(tmp_path: Path) -> Path:
    shutil.copytree(targets_dir(), tmp_path / "t")
    return tmp_path / "t"


def test_unknown_key_in_a_board_is_an_error_naming_it(target_copy: Path):
    board = target_copy / "boards" / "host.toml"
    board.write_text(board.read_text().replace('clock_hz = 0', 'clock_hz = 0\nclok_mhz = 1'))
    with pytest.raises(TargetDataError, match="clok_mhz"):
        load_targets_from(target_copy)


def test_unknown_key_in_a_chip_region_is_an_error_naming_it(target_copy: Path):
    chip = target_copy / "chips" / "host.toml"
    chip.write_text(chip.read_text().replace('kind = "ram"', 'kind = "ram"\ncachable = true'))
    with pytest.raises(TargetDataError, match="cachable"):
        load_targets_from(target_copy)


def test_a_region_with_both_roles_is_refused(target_copy: Path):
    board = target_copy / "boards" / "host.toml"
    board.write_text(board.read_text().replace('weights = ["ROM"]', 'weights = ["RAM"]'))
    with pytest.raises(TargetDataError, match="both roles"):
        load_targets_from(target_copy)


def test_overlapping_regions_are_refused(target_copy: Path):
    chip = target_copy / "chips" / "host.toml"
    chip.write_text(chip.read_text().replace("base = 0x4000_0000", "base = 0x3FFF_0000"))
    with pytest.raises(TargetDataError, match="overlap"):
        load_targets_from(target_copy)


@pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed")
@pytest.mark.parametrize("target_id", ["qemu-mps2-an500", "qemu-mps3-an547"])
def test_qemu_ram_regions_exist_in_the_emulated_machine(target_id: str):
    """Ask QEMU itself (`info mtree`) that every region we plan into is RAM there (directly, or the
    upstream window of a TrustZone memory protection controller in front of RAM on the SSE-300)."""
    t = load_target(target_id)
    out = subprocess.run(
        ["qemu-system-arm", "-M", t.qemu_machine, "-nographic", "-S", "-monitor", "stdio", "-serial", "null"],
        input="info mtree\nquit\n", capture_output=True, text=True, timeout=30).stdout
    rams = []
    for line in out.splitlines():
        if "(prio" in line and (", ram)" in line or "tz-mpc-upstream" in line):
            lo, hi = line.split()[0].split("-")
            rams.append((int(lo, 16), int(hi, 16) + 1))
    for r in t.regions:
        assert any(lo <= r.base and r.end <= hi for lo, hi in rams), f"{r.name} {r.base:#x}+{r.size:#x} not RAM in QEMU"
