"""`stm32gen emulate`: boot a built QEMU project and keep it running for a person or a script."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from generator.errors import EmulationError, ToolMissingError
from generator.firmware.emulate import QEMU, Emulator, _from_project, qemu_command


def run_emulator(project: Path, port: int | None = None, stdio: bool = False, seconds: float | None = None,
                 on_ready: Callable[[str], None] = print) -> None:
    """Serve the firmware's UART on a TCP port (or this terminal) until Ctrl-C or `seconds` pass.

    QEMU is always shut down on the way out; Ctrl-C is the normal way to stop."""
    project = Path(project)
    if stdio:
        elf, machine = _from_project(project, None)
        if not elf.is_file():
            raise EmulationError(f"{elf} is missing; run `stm32gen build {project}` first")
        if shutil.which(QEMU) is None:
            raise ToolMissingError(f"'{QEMU}' is not installed; install it with `apt-get install qemu-system-arm`")
        cmd = qemu_command(elf, machine, 0)
        cmd[cmd.index("-serial") + 1] = "stdio"
        on_ready(f"booting {elf.name} on {machine}, UART on this terminal (Ctrl-A X quits QEMU)")
        try:
            subprocess.run(cmd, timeout=seconds, check=False)
        except subprocess.TimeoutExpired:
            pass  # subprocess.run killed QEMU
        except KeyboardInterrupt:
            pass
        return
    with Emulator(project, port=port) as url:
        on_ready(f"UART of {project} on {url} (pyserial URL); Ctrl-C stops QEMU")
        deadline = None if seconds is None else time.monotonic() + seconds
        try:
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
