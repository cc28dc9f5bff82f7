"""Run a host build of the validation server behind a pseudo-terminal.

The server process gets the pty master as stdin/stdout; the host opens the slave path with pyserial,
exactly as it opens /dev/ttyACM0, so the link code path under test is the one used on hardware.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tty
from collections.abc import Sequence
from pathlib import Path

from generator.errors import BuildError, ToolMissingError

CFLAGS = ("-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-pedantic")


def build_host_server(sources: Sequence[Path], include_dirs: Sequence[Path], exe: Path, cc: str = "gcc") -> Path:
    """Compile the server + host port + network sources into `exe` with the project's warning flags."""
    if shutil.which(cc) is None:
        raise ToolMissingError(f"C compiler '{cc}' is not installed")
    cmd = [cc, *CFLAGS, *(f"-I{d}" for d in include_dirs), *map(str, sources), "-o", str(exe)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise BuildError(f"host validation server did not compile:\n{proc.stderr.strip()}")
    return exe


class HostServer:
    """`with HostServer(exe) as url:` — the server runs on a fresh pty; `url` is the slave's path."""

    def __init__(self, exe: Path, args: Sequence[str] = (), env: dict[str, str] | None = None) -> None:
        self.exe, self.args, self.env = exe, list(args), env
        self.proc: subprocess.Popen | None = None
        self._fds: tuple[int, int] | None = None

    def __enter__(self) -> str:
        master, slave = os.openpty()
        # Raw mode before the server writes its banner: no echo, no newline translation.
        tty.setraw(slave)
        self._fds = (master, slave)
        self.proc = subprocess.Popen(
            [str(self.exe), *self.args], stdin=master, stdout=master, env=self.env, close_fds=True
        )
        return os.ttyname(slave)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self._fds:
            for fd in self._fds:
                os.close(fd)


class SocketHostServer:
    """`with SocketHostServer(exe) as sock:` — the server's stdin/stdout is one end of a socket pair,
    `sock` the other (put a `faults.Shim` in front of it to reach it as a `socket://` URL)."""

    def __init__(self, exe: Path, args: Sequence[str] = ()) -> None:
        self.exe, self.args = exe, list(args)
        self.proc: subprocess.Popen | None = None
        self._socks: tuple | None = None

    def __enter__(self):
        import socket

        ours, theirs = socket.socketpair()
        self._socks = (ours, theirs)
        self.proc = subprocess.Popen([str(self.exe), *self.args], stdin=theirs, stdout=theirs, close_fds=True)
        theirs.close()
        return ours

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self._socks:
            self._socks[0].close()
