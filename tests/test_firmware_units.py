"""Firmware layer logic without a compiler: clock maths, layout choices, stack sizing from call
graphs, flash commands, emulator errors and project rendering."""

from __future__ import annotations

import json
import shutil

import pytest

from generator.errors import BuildError, EmulationError, ToolMissingError
from generator.firmware import clocks, flash
from generator.firmware.emulate import Emulator, qemu_command
from generator.firmware.layout import compute_layout
from generator.firmware.project import MANIFEST, render_project
from generator.firmware.stack import max_depth, read_callgraph, stack_sizes
from generator.planner.plan import Plan, RegionUse
from generator.targets import load_target


def plan_using(target, activations: dict[str, int], weights: dict[str, int]) -> Plan:
    regions = [RegionUse(r.name, r.base, r.size, r.arena_base, r.capacity, activations.get(r.name, 0),
                         weights.get(r.name, 0)) for r in target.regions if r.name in {*activations, *weights}]
    return Plan(target, [], regions, [], 0, 0, "synthetic")


# -- clocks -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("hz", "vos", "m", "n", "p", "latency"), [
    (400_000_000, 1, 4, 50, 2, 2),   # VCO 800 MHz, HCLK 200 MHz -> 2 WS (RM0433 table 17)
    (480_000_000, 0, 4, 60, 2, 4),   # needs overdrive and the 960 MHz VCO; HCLK 240 MHz -> 4 WS
])
def test_h7_pll_reaches_the_rated_clock_from_hsi(hz, vos, m, n, p, latency):
    c = clocks.h7_clocks(hz)
    assert (c.vos, c.pll_m, c.pll_n, c.pll_p, c.flash_latency) == (vos, m, n, p, latency)
    assert clocks.HSI_HZ // c.pll_m * c.pll_n // c.pll_p == hz
    assert 192_000_000 <= clocks.HSI_HZ // c.pll_m * c.pll_n <= (960_000_000 if vos == 0 else 836_000_000)


def test_h7_clock_above_the_maximum_is_refused():
    with pytest.raises(BuildError, match="above the 480 MHz"):
        clocks.h7_clocks(550_000_000)


def test_usart_brr_rounds_and_refuses_impossible_rates():
    assert clocks.usart_brr(100_000_000, 921_600) == 109
    with pytest.raises(BuildError, match="baud rate 9000000"):
        clocks.usart_brr(100_000_000, 9_000_000)


def test_sdram_refresh_count_is_the_row_interval_minus_margin():
    # 64 ms / 4096 rows at 100 MHz = 1562 cycles, minus the 20-cycle margin
    assert clocks.sdram_refresh_count(100_000_000, 64.0, 4096) == 1542


# -- layout -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("board", "code", "ram"), [
    ("qemu-mps2-an500", "SSRAM1", "SSRAM23"),
    ("qemu-mps3-an547", "ITCM", "DTCM"),
    ("nucleo-h743zi2", "FLASH", "DTCM"),
    ("stm32h747i-disco", "FLASH", "DTCM"),
    ("stm32n6570-dk", "AXISRAM1", "AXISRAM1"),
])
def test_code_and_system_ram_come_from_the_reserved_banks(board, code, ram):
    target = load_target(board)
    lay = compute_layout(target, plan_using(target, {}, {}))
    assert (lay.code_region, lay.ram_region) == (code, ram)


def test_plain_weights_section_goes_to_the_bank_with_most_weights():
    target = load_target("stm32h747i-disco")
    lay = compute_layout(target, plan_using(target, {"AXI_SRAM": 100}, {"FLASH": 10, "QSPI": 1000}))
    by_region = {w.region: w for w in lay.weights}
    assert ".weights" in by_region["QSPI"].inputs and ".weights" not in by_region["FLASH"].inputs
    assert lay.expected[".arena.AXI_SRAM"] == "AXI_SRAM"


def test_plan_naming_an_unknown_region_is_a_build_error():
    target = load_target("nucleo-h743zi2")
    plan = Plan(target, [], [RegionUse("SDRAM", 0xD000_0000, 1, 0xD000_0000, 1, 16, 0)], [], 0, 0, "x")
    with pytest.raises(BuildError, match="plan uses region 'SDRAM'.*nucleo-h743zi2"):
        compute_layout(target, plan)


# -- stack sizing -----------------------------------------------------------------------------------

CI = """graph: { title: "x.c"
node: { title: "main" label: "main\\nx.c:1:5\\n16 bytes (static)" }
node: { title: "run" label: "run\\nx.c:2:6\\n200 bytes (static)" }
node: { title: "leaf" label: "leaf\\nx.c:3:6\\n40 bytes (static)" }
node: { title: "rec" label: "rec\\nx.c:4:6\\n24 bytes (static)" }
node: { title: "memcpy" label: "memcpy\\n<built-in>" }
edge: { sourcename: "main" targetname: "run" label: "x.c:1:20" }
edge: { sourcename: "run" targetname: "leaf" label: "x.c:2:20" }
edge: { sourcename: "main" targetname: "rec" label: "x.c:1:30" }
edge: { sourcename: "rec" targetname: "rec" label: "x.c:4:30" }
edge: { sourcename: "leaf" targetname: "memcpy" label: "x.c:3:30" }
}
"""


def test_stack_depth_is_the_deepest_call_path(tmp_path):
    (tmp_path / "x.c.ci").write_text(CI)
    frames, calls = read_callgraph([tmp_path / "x.c.ci"])
    # main 16 + run 200 + leaf 40 + memcpy (no .ci: 128 assumed)
    assert max_depth("main", frames, calls) == 16 + 200 + 40 + 128
    assert max_depth("rec", frames, calls) == 24  # recursion followed once


def test_indirect_calls_are_bounded_by_the_deepest_function(tmp_path):
    ci = CI.replace('edge: { sourcename: "main" targetname: "rec"',
                    'edge: { sourcename: "main" targetname: "__indirect_call"')
    (tmp_path / "x.c.ci").write_text(ci)
    frames, calls = read_callgraph([tmp_path / "x.c.ci"])
    assert max_depth("main", frames, calls) == 16 + 200 + 40 + 128


def test_stack_sizes_add_margin_frame_and_guard(tmp_path):
    (tmp_path / "x.c.ci").write_text(CI)
    s = stack_sizes(tmp_path, "main", ["leaf"])
    assert s.thread_depth == 384 and s.thread >= 384 * 5 // 4 + 104 and s.thread % 256 == 0
    assert s.guard == 256  # the 200-byte frame rounded up to a power of two


# -- rendering --------------------------------------------------------------------------------------

def test_rendering_twice_gives_identical_files(tmp_path):
    target = load_target("stm32h747i-disco")
    plan = plan_using(target, {"DTCM": 512, "SDRAM": 4096}, {"QSPI": 64})
    a, b = tmp_path / "a", tmp_path / "b"
    render_project(a, target, plan, {"x.c": "int x;\n"}, app="selftest")
    render_project(b, target, plan, {"x.c": "int x;\n"}, app="selftest")
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    board_h = (a / "src" / "sg_board.h").read_text()
    assert "#define SG_USE_SDRAM           1" in board_h and "#define SG_USE_QSPI            1" in board_h


def test_server_app_requires_the_validation_server_source(tmp_path):
    target = load_target("qemu-mps2-an500")
    with pytest.raises(BuildError, match="needs validation_server.c"):
        render_project(tmp_path, target, plan_using(target, {}, {}), {"network.c": "int x;\n"})


def test_unknown_layout_is_refused(tmp_path):
    target = load_target("qemu-mps2-an500")
    with pytest.raises(BuildError, match="unknown project layout 'cube'; layouts: board, middleware"):
        render_project(tmp_path, target, plan_using(target, {}, {}), {}, layout="cube", app="selftest")


def test_middleware_layout_is_the_library_and_a_readme_with_linker_lines(tmp_path):
    target = load_target("stm32h747i-disco")
    plan = plan_using(target, {"SDRAM": 4096}, {"QSPI": 64})
    render_project(tmp_path, target, plan, {"validation_server.c": "int s;\n", "network.c": "int n;\n"},
                   layout="middleware")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "network.c", "sg_port.h",
                                                          "validation_server.c"]
    readme = (tmp_path / "README.md").read_text()
    assert ".arena.SDRAM 0xD0000000 (NOLOAD)" in readme and ".weights.QSPI 0x90000000" in readme


# -- flashing ---------------------------------------------------------------------------------------

def fake_built_project(tmp_path, board: str, activations: dict, weights: dict):
    target = load_target(board)
    render_project(tmp_path, target, plan_using(target, activations, weights), {}, app="selftest")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "firmware.elf").write_bytes(b"\x7fELF")
    return tmp_path


def test_qspi_weights_are_flashed_with_the_external_loader(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda tool: None)
    project = fake_built_project(tmp_path, "stm32h747i-disco", {"DTCM": 64}, {"QSPI": 64})
    cmd = flash.flash_command(project)
    assert cmd.argv[:4] == ("STM32_Programmer_CLI", "-c", "port=SWD", "mode=UR")
    assert cmd.argv[4:6] == ("-el", "MT25TL01G_STM32H747I-DISCO.stldr")
    assert cmd.argv[-3:] == (str(project.resolve() / "build" / "firmware.elf"), "-v", "-rst")


def test_n6_ram_image_is_started_at_its_vector_table(tmp_path):
    project = fake_built_project(tmp_path, "stm32n6570-dk", {"AXISRAM3": 64}, {"XSPI_NOR": 64})
    cmd = flash.flash_command(project)
    assert cmd.argv[-2:] == ("-s", "0x34000000") and "-el" in cmd.argv


def test_internal_flash_image_can_use_pyocd_or_openocd(tmp_path):
    project = fake_built_project(tmp_path, "nucleo-h743zi2", {"DTCM": 64}, {"FLASH": 64})
    elf = str(project.resolve() / "build" / "firmware.elf")
    assert flash.flash_command(project, "pyocd").argv == ("pyocd", "load", "--target", "stm32h743zitx", elf)
    assert flash.flash_command(project, "openocd").argv == (
        "openocd", "-f", "board/st_nucleo_h743zi.cfg", "-c", f"program {elf} verify reset exit")


def test_pyocd_cannot_program_external_flash(tmp_path):
    project = fake_built_project(tmp_path, "stm32h747i-disco", {"DTCM": 64}, {"QSPI": 64})
    with pytest.raises(flash.FlashError, match="pyocd cannot program QSPI"):
        flash.flash_command(project, "pyocd")


def test_missing_programmer_names_how_to_get_it_and_the_command(tmp_path, monkeypatch):
    project = fake_built_project(tmp_path, "nucleo-h743zi2", {"DTCM": 64}, {"FLASH": 64})
    monkeypatch.setattr(shutil, "which", lambda tool: None)
    with pytest.raises(ToolMissingError, match="STM32CubeProgrammer.*-w .*firmware.elf"):
        flash.flash_project(project)
    assert flash.flash_project(project, dry_run=True).tool == "STM32_Programmer_CLI"


def test_qemu_targets_are_not_flashed(tmp_path):
    project = fake_built_project(tmp_path, "qemu-mps2-an500", {"SSRAM23": 64}, {})
    with pytest.raises(flash.FlashError, match="--emulate"):
        flash.flash_command(project)


# -- emulator ---------------------------------------------------------------------------------------

def test_qemu_command_counts_instructions_and_serves_the_uart_on_tcp():
    cmd = qemu_command("fw.elf", "mps3-an547", 4321)
    assert cmd[:3] == ["qemu-system-arm", "-M", "mps3-an547"]
    assert cmd[cmd.index("-icount") + 1] == "shift=0"
    assert "tcp:127.0.0.1:4321,server=on,wait=off,nodelay=on" in cmd and cmd[-2:] == ["-kernel", "fw.elf"]


def test_emulator_refuses_unknown_machines_and_missing_images(tmp_path):
    with pytest.raises(EmulationError, match="unknown QEMU machine 'lm3s6965evb'"):
        Emulator(tmp_path / "fw.elf", "lm3s6965evb")
    with pytest.raises(EmulationError, match="build the project first"):
        Emulator(tmp_path / "fw.elf", "mps2-an500")


def test_emulator_takes_a_project_and_refuses_real_hardware(tmp_path):
    project = fake_built_project(tmp_path, "nucleo-h743zi2", {"DTCM": 64}, {"FLASH": 64})
    with pytest.raises(EmulationError, match="nucleo-h743zi2 is real hardware"):
        Emulator(project)
    manifest = json.loads((project / MANIFEST).read_text())
    manifest.update(target="qemu-mps2-an500", qemu_machine="mps2-an500")
    (project / MANIFEST).write_text(json.dumps(manifest))
    assert Emulator(project).machine == "mps2-an500"


def test_missing_qemu_is_reported_with_the_package_name(tmp_path, monkeypatch):
    (tmp_path / "fw.elf").write_bytes(b"\x7fELF")
    monkeypatch.setattr(shutil, "which", lambda tool: None)
    with pytest.raises(ToolMissingError, match="apt-get install qemu-system-arm"), Emulator(tmp_path / "fw.elf",
                                                                                           "mps2-an500"):
        pass
