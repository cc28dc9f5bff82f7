"""Put a built firmware on a board: compose the programmer command, print it (`dry_run`) or run it.

    STM32_Programmer_CLI -c port=SWD mode=UR [-el <external loader>] -w firmware.elf -v [-s <vectors>]
    pyocd load --target <part> firmware.elf
    openocd -f <board cfg> -c "program firmware.elf verify reset exit"

STM32CubeProgrammer is the default because it alone programs the external NOR (QSPI on the H747
Discovery, XSPI on the N6 DK) through ST's external loaders; pyOCD and OpenOCD are offered for images
that live entirely in internal flash. A RAM-resident image (STM32N6: AXISRAM1, development boot mode)
is started at its vector table after the download.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from generator.errors import Stm32genError, ToolMissingError
from generator.firmware.project import read_project_manifest

TOOLS = ("STM32_Programmer_CLI", "pyocd", "openocd")
ALIASES = {"cubeprogrammer": "STM32_Programmer_CLI"}  # STM32CubeProgrammer's command-line program
_INSTALL_HINT = {
    "STM32_Programmer_CLI": "install STM32CubeProgrammer from st.com/stm32cubeprog and put its bin/ on PATH",
    "pyocd": "install it with `pip install pyocd`",
    "openocd": "install it with `apt-get install openocd` (0.12 or newer for STM32H7/N6)",
}


class FlashError(Stm32genError):
    """The programmer could not be chosen, configured or run."""


@dataclass(frozen=True, slots=True)
class FlashCommand:
    tool: str
    argv: tuple[str, ...]

    def __str__(self) -> str:
        return " ".join(f'"{a}"' if " " in a else a for a in self.argv)


def _external_loader(name: str, cli: str | None) -> str:
    """An .stldr given by name is looked up in STM32CubeProgrammer's bin/ExternalLoader folder."""
    path = Path(name)
    if path.is_absolute() or cli is None:
        return str(path) if path.is_absolute() else name
    candidate = Path(cli).resolve().parent / "ExternalLoader" / name
    if not candidate.is_file():
        raise FlashError(f"external loader {name} not found in {candidate.parent}; "
                         "install it with STM32CubeProgrammer (it ships ST's board loaders)")
    return str(candidate)


def flash_command(project_dir: str | Path, tool: str | None = None, target=None) -> FlashCommand:
    """The command that programs `project_dir`'s built image with `tool` (default: the board's)."""
    from generator.targets import load_target

    project = Path(project_dir)
    manifest = read_project_manifest(project, FlashError)
    target = target or load_target(manifest["target"])
    if target.flash.tool in ("qemu", "none"):
        raise FlashError(f"target {target.id} is not flashed ({target.flash.tool}); "
                         f"use `stm32gen validate --emulate` for QEMU targets")
    elf = (project / "build" / "firmware.elf").resolve()
    if not elf.is_file():
        raise FlashError(f"{elf} does not exist; build the project first (`stm32gen build {project}`)")
    tool = ALIASES.get(tool or "", tool) or target.flash.tool
    external = manifest.get("external_regions", [])
    if tool == "STM32_Programmer_CLI":
        argv = [tool, "-c", "port=SWD", "mode=UR"]
        if external:
            if not target.flash.external_loader:
                raise FlashError(f"the image has sections in {', '.join(external)} but target {target.id} "
                                 "names no external loader")
            argv += ["-el", _external_loader(target.flash.external_loader, shutil.which(tool))]
        argv += ["-w", str(elf), "-v"]
        if manifest.get("ram_image"):
            argv += ["-s", f"0x{manifest['vector_table']:08X}"]
        else:
            argv += ["-rst"]
    elif tool in ("pyocd", "openocd"):
        if external or manifest.get("ram_image"):
            raise FlashError(f"{tool} cannot program {', '.join(external) or 'a RAM-resident image'} on "
                             f"{target.id}; use STM32_Programmer_CLI (with its external loader)")
        if tool == "pyocd":
            if not target.flash.pyocd_target:
                raise FlashError(f"target {target.id} names no pyOCD target type")
            argv = [tool, "load", "--target", target.flash.pyocd_target, str(elf)]
        else:
            if not target.flash.openocd_config:
                raise FlashError(f"target {target.id} names no OpenOCD configuration")
            argv = [tool, "-f", target.flash.openocd_config, "-c", f"program {elf} verify reset exit"]
    else:
        raise FlashError(f"unknown flash tool '{tool}'; tools: {', '.join((*ALIASES, *TOOLS[1:]))}")
    return FlashCommand(tool, tuple(argv))


def flash_project(project_dir: str | Path, tool: str | None = None, dry_run: bool = False,
                  timeout: float = 600) -> FlashCommand:
    """Compose and (unless `dry_run`) run the programmer. Returns the command."""
    cmd = flash_command(project_dir, tool)
    if dry_run:
        return cmd
    if shutil.which(cmd.tool) is None:
        raise ToolMissingError(f"'{cmd.tool}' is not installed; {_INSTALL_HINT[cmd.tool]}. "
                               f"The command would be: {cmd}")
    try:
        proc = subprocess.run(cmd.argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise FlashError(f"{cmd.tool} did not finish within {timeout:.0f} s: {cmd}") from None
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise FlashError(f"{cmd.tool} failed (exit {proc.returncode}): {cmd}\n{tail}")
    return cmd
