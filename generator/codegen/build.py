"""`stm32gen build DIR`: compile a generated project.

Host projects build with their Makefile and the native compiler, in one of three variants, each in
its own build directory so they never mix objects:
  release  -O2, the strict flags (-std=c99 -Wall -Wextra -Werror)        build/
           (also build/stm32gen_server: the validation server on stdin/stdout)
  debug    + -DSTM32GEN_DEBUG_DUMP: every intermediate tensor dumped     build-debug/
  asan     + AddressSanitizer and UBSan, any report aborts the process   build-asan/
Board projects go to generator.firmware.build (the cross toolchain)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from generator.errors import BuildError, ToolMissingError

EXE_NAME = "stm32gen_host"
VARIANTS: dict[str, tuple[str, str, str]] = {  # name -> (build dir, OPT, EXTRA_CFLAGS)
    "release": ("build", "-O2", ""),
    "debug": ("build-debug", "-O2", "-DSTM32GEN_DEBUG_DUMP"),
    "asan": ("build-asan", "-O1 -g", "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"),
}


def executable(project_dir: str | Path, variant: str = "release") -> Path:
    if variant not in VARIANTS:
        raise BuildError(f"unknown build variant '{variant}'; variants: {', '.join(VARIANTS)}")
    return Path(project_dir) / VARIANTS[variant][0] / EXE_NAME


def build_host(project_dir: str | Path, variant: str = "release", cc: str | None = None, jobs: int = 2,
               timeout: float = 600) -> Path:
    """Build the host executable of `project_dir`; return its path. Raises BuildError with the
    compiler's message on failure."""
    d = Path(project_dir)
    if not (d / "Makefile").is_file():
        raise BuildError(f"'{d}' has no Makefile: is it a host project written by `stm32gen generate --target host`?")
    if shutil.which("make") is None:
        raise ToolMissingError("'make' is not installed")
    build_dir, opt, extra = VARIANTS[variant] if variant in VARIANTS else (None, None, None)
    if build_dir is None:
        raise BuildError(f"unknown build variant '{variant}'; variants: {', '.join(VARIANTS)}")
    compiler = cc or os.environ.get("CC") or "cc"
    if shutil.which(compiler) is None:
        raise ToolMissingError(f"host C compiler '{compiler}' is not installed")
    # release builds everything (runner + validation server); the dump and sanitizer variants only
    # the runner, whose main() provides the dump hook.
    goal = "all" if variant == "release" else f"{build_dir}/{EXE_NAME}"
    cmd = ["make", "-C", str(d), f"-j{jobs}", f"BUILD={build_dir}", f"OPT={opt}", f"EXTRA_CFLAGS={extra}",
           f"CC={compiler}", goal]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise BuildError(f"host build of '{d}' ({variant}) did not finish within {timeout:g} s") from None
    if proc.returncode != 0:
        errors = [ln for ln in proc.stderr.splitlines() if "error" in ln] or proc.stderr.strip().splitlines()[-5:]
        raise BuildError(f"host build of '{d}' ({variant}) failed: " + " | ".join(errors[:5]))
    return executable(d, variant)


def build_project(project_dir: str | Path, variant: str = "release") -> Path:
    """Build any generated project: host natively, boards with the firmware build."""
    from generator.runner import read_manifest

    manifest = read_manifest(project_dir)
    if manifest.get("target") == "host":
        return build_host(project_dir, variant)
    from generator.firmware import build as firmware_build

    return firmware_build.build_project(project_dir)
