"""Boot a firmware ELF in qemu-system-arm with its UART on a local TCP port.

    with Emulator(elf, "mps2-an500") as url:      # url = "socket://127.0.0.1:PORT"
        link = serial.serial_for_url(url)
    with Emulator(project_dir) as url:            # a built project: ELF and machine from its manifest
        ...

QEMU runs with `-icount shift=0` so the SysTick counter counts instructions (counter_systick.c)
and runs are deterministic. While the firmware waits for input it halts in WFI (uart_cmsdk.c); with
icount's default `sleep=on` virtual time then follows real time, so receive timeouts still last
their virtual milliseconds (`sleep=off` would warp through them at once). `nodelay=on` turns off
Nagle on the socket: QEMU sends every UART byte as its own segment, and with Nagle the tail of each
reply waited for the host's delayed ACK (~40 ms per reply). The process is always ended on exit,
exceptions included.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from generator.errors import EmulationError, ToolMissingError

QEMU = "qemu-system-arm"
MACHINES = ("mps2-an500", "mps3-an547")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def qemu_command(elf: str | Path, machine: str, port: int) -> list[str]:
    return [QEMU, "-M", machine, "-icount", "shift=0", "-nographic", "-monitor", "none",
            "-serial", f"tcp:127.0.0.1:{port},server=on,wait=off,nodelay=on", "-kernel", str(elf)]


def _from_project(project: Path, machine: str | None) -> tuple[Path, str]:
    from generator.firmware.project import read_project_manifest

    manifest = read_project_manifest(project, EmulationError)
    if not manifest.get("qemu_machine"):
        raise EmulationError(f"target {manifest['target']} is real hardware, not emulated; QEMU machines: "
                             f"{', '.join(MACHINES)} (targets qemu-mps2-an500, qemu-mps3-an547)")
    return project / "build" / "firmware.elf", machine or manifest["qemu_machine"]


class Emulator:
    """Context manager owning one QEMU process; yields the pyserial URL of the firmware's UART."""

    def __init__(self, elf: str | Path, machine: str | None = None, port: int | None = None,
                 boot_timeout: float = 10.0) -> None:
        if Path(elf).is_dir():
            elf, machine = _from_project(Path(elf), machine)
        if machine not in MACHINES:
            raise EmulationError(f"unknown QEMU machine '{machine}'; machines: {', '.join(MACHINES)}")
        self.elf = Path(elf)
        if not self.elf.is_file():
            raise EmulationError(f"firmware image {self.elf} does not exist; build the project first")
        self.machine = machine
        self.port = port
        self.boot_timeout = boot_timeout
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    def __enter__(self) -> str:
        if shutil.which(QEMU) is None:
            raise ToolMissingError(f"'{QEMU}' is not installed; install it with `apt-get install qemu-system-arm`")
        if self.port is None:
            self.port = free_port()
        self.process = subprocess.Popen(qemu_command(self.elf, self.machine, self.port),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            self._wait_listening()
        except BaseException:
            self.close()
            raise
        return self.url

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + self.boot_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                out = self.process.stdout.read().decode(errors="replace").strip()
                raise EmulationError(f"{QEMU} -M {self.machine} exited with code {self.process.returncode}: {out}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    pass  # wait=off: QEMU keeps running; the next client connects normally
                return
            except OSError:
                time.sleep(0.05)
        raise EmulationError(f"{QEMU} did not open 127.0.0.1:{self.port} within {self.boot_timeout:.0f} s")

    def close(self) -> None:
        proc, self.process = self.process, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def __exit__(self, *exc) -> None:
        self.close()
