"""Render a buildable firmware project directory for one target and memory plan.

    out/
      CMakeLists.txt  Makefile  arm-none-eabi.cmake  linker.ld  sizes.ld  stm32gen-project.json
      src/  startup.c fault.c port.c main.c sg_*.h  <family drivers>  <the generated sources>

`layout="board"` is the whole bare-metal project. `layout="middleware"` is only the portable library
(the generated sources plus sg_port.h) with a README for dropping it into a CubeMX/CubeIDE project.
The manifest `stm32gen-project.json` tells build.py what to build and where each section belongs.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

import jinja2

from generator.errors import BuildError
from generator.firmware.board import board_defines, cpu_flags, family_of
from generator.firmware.layout import compute_layout
from generator.resources import templates_dir

MANIFEST = "stm32gen-project.json"
# What build, flash and emulate read from it.
MANIFEST_KEYS = ("target", "regions", "sections", "vector_table", "qemu_machine")
LAYOUTS = ("board", "middleware")
APPS = ("server", "selftest")
TOOLCHAIN = "arm-none-eabi.cmake"

# Before the first build there is no call-graph data. These values are what a plain `make` of a
# fresh project links with, so they are generous; build.py then sizes the stacks from the call
# graphs (also when this first link does not fit) and links again.
PROVISIONAL_STACK = 8 * 1024
PROVISIONAL_HANDLER_STACK = 1024
PROVISIONAL_GUARD = 256

_COMMON = ("startup.c", "fault.c", "port.c", "main.c", "sg_regs.h", "sg_system.h", "sg_port.h")
_FAMILY = {
    "qemu": ("qemu/uart_cmsdk.c", "qemu/counter_systick.c", "qemu/system_qemu.c"),
    "stm32h7": ("common/uart_stm32_usart.c", "common/counter_dwt.c", "common/cache.c",
                "stm32h7/system_stm32h7.c", "stm32h7/stm32h7_regs.h"),
    "stm32n6": ("common/uart_stm32_usart.c", "common/counter_dwt.c", "common/cache.c",
                "stm32n6/system_stm32n6.c", "stm32n6/stm32n6_regs.h"),
}
_APP_ENTRY = {"server": "stm32gen_server_run", "selftest": "sg_selftest_run"}


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(templates_dir() / "projects"),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def _read_sources(sources) -> dict[str, bytes]:
    """`sources` is {file name: text or bytes} or an iterable of paths; returns {name: bytes}."""
    out: dict[str, bytes] = {}
    items = sources.items() if isinstance(sources, Mapping) else ((Path(p).name, Path(p)) for p in sources)
    for name, content in items:
        if isinstance(content, Path):
            content = content.read_bytes()
        out[str(name)] = content.encode() if isinstance(content, str) else bytes(content)
    return out


def _write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    if not path.exists() or path.read_bytes() != data:  # keep mtimes so rebuilds stay incremental
        path.write_bytes(data)


def render_sizes(stack_size: int, handler_stack_size: int, heap_size: int, guard_size: int, origin: str) -> str:
    return _env().get_template("common/sizes.ld.j2").render(
        stack_size=stack_size, handler_stack_size=handler_stack_size, heap_size=heap_size,
        guard_size=guard_size, origin=origin)


def render_project(out_dir: str | Path, target, plan, sources: Mapping[str, str | bytes] | Iterable[Path],
                   layout: str = "board", *, app: str = "server", stack_size: int | None = None,
                   heap_size: int = 0) -> Path:
    """Write the project into `out_dir` and return it. `stack_size` pins the thread stack (no
    automatic sizing); by default build.py sizes it from -fstack-usage after a first build."""
    if layout not in LAYOUTS:
        raise BuildError(f"unknown project layout '{layout}'; layouts: {', '.join(LAYOUTS)}")
    if app not in APPS:
        raise BuildError(f"unknown firmware application '{app}'; applications: {', '.join(APPS)}")
    out = Path(out_dir)
    files = _read_sources(sources)
    if app == "server" and "validation_server.c" not in files:
        raise BuildError("app 'server' needs validation_server.c among the sources; "
                         f"got: {', '.join(sorted(files)) or 'none'}")
    if layout == "middleware":
        return _render_middleware(out, target, plan, files)
    if target.core == "host":
        raise BuildError("the host target has no firmware project: generator.codegen.project renders "
                         "its native Makefile project")

    root = templates_dir() / "projects"
    env = _env()
    fam = family_of(target)
    lay = compute_layout(target, plan)
    src = out / "src"
    shutil.rmtree(src, ignore_errors=True)  # all generated: a previous board's files must not linger
    copied = [f"common/{n}" for n in _COMMON] + list(_FAMILY[fam])
    if app == "selftest":
        copied.append("common/selftest.c")
    names = []
    for rel in copied:
        _write(src / Path(rel).name, (root / rel).read_bytes())
        names.append(Path(rel).name)
    for name, data in sorted(files.items()):
        _write(src / name, data)
        names.append(name)
    c_sources = sorted(n for n in set(names) if n.endswith(".c"))

    defines = [*board_defines(target, plan), ("SG_APP_ENTRY", _APP_ENTRY[app])]
    ctx = {"board_name": target.name, "board_id": target.id}
    _write(src / "sg_board.h", env.get_template("common/sg_board.h.j2").render(**ctx, defines=defines))
    _write(out / "linker.ld", env.get_template("common/linker.ld.j2").render(**ctx, layout=lay))
    pinned = stack_size is not None
    _write(out / "sizes.ld", render_sizes(stack_size if pinned else PROVISIONAL_STACK, PROVISIONAL_HANDLER_STACK,
                                          heap_size, PROVISIONAL_GUARD, "provisional, before sizing"))
    _write(out / TOOLCHAIN, (root / "common" / TOOLCHAIN).read_bytes())
    _write(out / "CMakeLists.txt", env.get_template("common/CMakeLists.txt.j2").render(
        **ctx, cpu_flags=cpu_flags(target), c_sources=c_sources))
    _write(out / "Makefile", env.get_template("common/Makefile.j2").render(toolchain=TOOLCHAIN))
    manifest = {
        "target": target.id, "core": target.core, "family": fam, "app": app, "layout": layout,
        "qemu_machine": target.qemu_machine, "stack_size": stack_size, "heap_size": heap_size,
        "regions": {r.name: [r.base, r.size] for r in target.regions},
        # for flash.py: what needs an external loader, and whether the image runs from RAM
        "external_regions": sorted({p.region for p in (*lay.arenas, *lay.weights)
                                    if target.region(p.region).external and p.load}),
        "ram_image": target.region(lay.code_region).kind != "flash",
        "vector_table": target.region(lay.code_region).base,
        "sections": lay.expected,
    }
    _write(out / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return out


def _render_middleware(out: Path, target, plan, files: dict[str, bytes]) -> Path:
    """The portable library only: sources + sg_port.h + a README with the linker-script lines."""
    root = templates_dir() / "projects" / "common"
    for name, data in sorted(files.items()):
        _write(out / name, data)
    _write(out / "sg_port.h", (root / "sg_port.h").read_bytes())
    _write(out / "README.md", _env().get_template("common/README.middleware.md.j2").render(
        board_name=target.name, board_id=target.id, files=sorted([*files, "sg_port.h"]),
        layout=compute_layout(target, plan)))
    return out




def read_project_manifest(project: Path, error: type[Exception] = BuildError) -> dict:
    """The firmware project's manifest, or one `error` naming what is wrong with it."""
    path = Path(project) / MANIFEST
    if not path.is_file():
        raise error(f"{project} is not a firmware project (no {MANIFEST}); write one with `stm32gen generate`")
    try:
        data = json.loads(path.read_text())
    except (ValueError, OSError) as exc:
        raise error(f"{path} is not readable JSON ({exc}); regenerate the project") from None
    missing = [k for k in MANIFEST_KEYS if not isinstance(data, dict) or k not in data]
    if missing:
        raise error(f"{path} lacks {', '.join(missing)}; regenerate the project with this stm32gen")
    return data
