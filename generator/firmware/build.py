"""Configure and build a rendered project with CMake + Ninja, size its stacks, check its sections.

Builds run twice: the first link yields the -fcallgraph-info call graphs, `stack.py` turns them
into stack sizes and the MPU guard size, sizes.ld is rewritten and the image relinked (only the
link step reruns). The host target is built by generator.codegen.build (a native Makefile project).
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import BuildError, ToolMissingError
from generator.firmware.project import TOOLCHAIN, read_project_manifest, render_sizes
from generator.firmware.sections import Section, check_sections
from generator.firmware.stack import stack_sizes

log = logging.getLogger(__name__)

HANDLERS = ("sg_fault_report", "SysTick_Handler", "sg_uart_rx_isr")


@dataclass
class BuildResult:
    elf: Path
    size_report: str  # arm-none-eabi-size output (text/data/bss)
    sections: list[Section] = field(default_factory=list)
    stack_size: int = 0
    handler_stack_size: int = 0
    stack_depth: int = 0  # deepest call path found, before margin


def _require(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise ToolMissingError(f"'{tool}' is not installed; {hint}")
    return path


def _run(cmd: list[str], cwd: Path, what: str, timeout: float = 600) -> str:
    log.info("%s: %s", what, " ".join(cmd))
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BuildError(f"{what} timed out after {timeout:.0f} s: {' '.join(cmd)}") from None
    if proc.returncode != 0:
        text = proc.stdout + proc.stderr
        tail = "\n".join(text.strip().splitlines()[-40:])
        raise BuildError(f"{what} failed (exit {proc.returncode}) in {cwd}{_overflow_hint(text)}:\n{tail}")
    return proc.stdout


_OVERFLOW = re.compile(r"region `(\w+?)_(FW|ARENA)' overflowed by (\d+) bytes")


def _overflow_hint(linker_output: str) -> str:
    """One readable sentence for the linker's region overflows (the usual way a build fails)."""
    hints = []
    for region, part, extra in _OVERFLOW.findall(linker_output):
        if part == "FW":
            hints.append(f"the firmware's own code/data/stacks need {extra} more bytes than the {region} bytes "
                         f"reserved for them (raise `reserved` for {region} in the board file)")
        else:
            hints.append(f"the plan's {region} arena is {extra} bytes larger than the bank")
    return ": " + "; ".join(hints) if hints else ""


def _configure(project: Path, build: Path) -> None:
    _require("cmake", "install it with `apt-get install cmake` or `pip install cmake`")
    _require("ninja", "install it with `apt-get install ninja-build` or `pip install ninja`")
    if not (build / "build.ninja").exists():
        _run(["cmake", "-S", str(project), "-B", str(build), "-G", "Ninja",
              f"-DCMAKE_TOOLCHAIN_FILE={project / TOOLCHAIN}"], project, "cmake configure")


def build_project(project_dir: str | Path) -> BuildResult:
    project = Path(project_dir).resolve()
    manifest = read_project_manifest(project, BuildError)
    build = project / "build"
    _require("arm-none-eabi-gcc", "install the Arm GNU Toolchain (`apt-get install gcc-arm-none-eabi "
             "libnewlib-arm-none-eabi`, or developer.arm.com/downloads/-/arm-gnu-toolchain-downloads)")
    _configure(project, build)
    # Pass 1 compiles everything (the call graphs come from the compiler, not the linker). Its link
    # may fail with the provisional stack sizes; that is fine as long as every object was compiled.
    try:
        _run(["cmake", "--build", str(build)], project, "build")
    except BuildError:
        sources = len(list((project / "src").glob("*.c")))
        if len(list(build.rglob("*.c.obj"))) < sources:  # a compile error, not the link
            raise
    result = BuildResult(elf=build / "firmware.elf", size_report="")
    sized = stack_sizes(build, "main", HANDLERS)
    pinned = manifest.get("stack_size")
    stack = pinned if pinned is not None else sized.thread
    origin = ("thread stack pinned by the caller" if pinned is not None else
              f"sized from -fcallgraph-info: deepest thread path {sized.thread_depth} bytes + 25 % + margin")
    sizes = render_sizes(stack, sized.handler, manifest.get("heap_size", 0), sized.guard, origin)
    if (project / "sizes.ld").read_text() != sizes:
        (project / "sizes.ld").write_text(sizes)
    _run(["cmake", "--build", str(build)], project, "link with sized stacks")
    result.stack_size, result.handler_stack_size, result.stack_depth = stack, sized.handler, sized.thread_depth
    result.size_report = _run(["arm-none-eabi-size", str(result.elf)], project, "size")
    log.info("memory summary:\n%s", result.size_report)
    regions = {name: (base, size) for name, (base, size) in manifest["regions"].items()}
    result.sections = check_sections(result.elf, manifest["sections"], regions)
    return result
