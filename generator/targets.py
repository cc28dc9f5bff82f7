"""Targets as data: `firmware_targets/chips/*.toml` (facts) + `boards/*.toml` (roles) -> `Target`.

A chip file lists the memories a chip has; a board file names the chip, adds the memories fitted on
the board, and says which banks hold activations and weights (in order of preference), how much of a
bank the firmware keeps for itself, which UART is the console and how the board is flashed. Unknown
keys are errors so a typo never silently becomes a default.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import Stm32genError, TargetError
from generator.resources import targets_dir

CORES = ("cortex-m7", "cortex-m55", "host")
KINDS = ("tcm", "sram", "ram", "flash", "nor", "sdram", "psram")
ALIASES = {"h743": "nucleo-h743zi2", "h747": "stm32h747i-disco", "n6": "stm32n6570-dk"}


class TargetDataError(Stm32genError):
    """A file in firmware_targets/ is malformed (unknown key, missing key, bad value)."""


@dataclass(frozen=True, slots=True)
class Region:
    """One memory bank. `reserved` bytes at its start are kept for the firmware (code, stack, .data);
    the plan's arena is the rest, so plan offsets start at `arena_base`."""

    name: str
    base: int
    size: int
    kind: str
    speed_rank: int  # 0 = fastest
    cacheable: bool
    dma: bool
    weights: bool  # board role: may hold constant tensors
    activations: bool  # board role: may hold activation buffers
    source: str  # document and section the numbers come from
    reserved: int = 0
    external: bool = False  # fitted on the board, not inside the chip

    @property
    def end(self) -> int:
        return self.base + self.size

    @property
    def arena_base(self) -> int:
        return self.base + self.reserved

    @property
    def capacity(self) -> int:
        """Bytes available to the plan."""
        return self.size - self.reserved

    def contains(self, addr: int, size: int) -> bool:
        """True if [addr, addr+size) lies inside the region (an empty range at the end counts)."""
        return size >= 0 and self.base <= addr and addr + size <= self.end

    def overlaps(self, other: Region) -> bool:
        return overlaps(self.base, self.size, other.base, other.size)


def overlaps(a_start: int, a_size: int, b_start: int, b_size: int) -> bool:
    """True if the half-open ranges [a_start, a_start+a_size) and [b_start, ...) share a byte."""
    return a_size > 0 and b_size > 0 and a_start < b_start + b_size and b_start < a_start + a_size


@dataclass(frozen=True, slots=True)
class Uart:
    instance: str
    baud: int
    tx: str = ""
    rx: str = ""
    af: int = -1
    base: int = -1  # set for emulated boards whose UART is not an STM32 USART


@dataclass(frozen=True, slots=True)
class FlashMethod:
    tool: str  # "STM32_Programmer_CLI", "qemu" or "none"
    external_loader: str = ""  # STM32CubeProgrammer .stldr for the memory-mapped NOR, if any
    pyocd_target: str = ""
    openocd_config: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    id: str
    name: str
    chip: str
    core: str
    fpu: str
    clock_hz: int
    regions: tuple[Region, ...]
    uart: Uart | None
    flash: FlashMethod
    qemu_machine: str = ""
    max_clock_hz: int = 0
    chip_reference: str = ""
    manual: str = ""
    # Role lists in order of preference (names of `regions`).
    activation_order: tuple[str, ...] = field(default=())
    weight_order: tuple[str, ...] = field(default=())

    def region(self, name: str) -> Region:
        for r in self.regions:
            if r.name == name:
                return r
        raise KeyError(name)

    @property
    def activation_regions(self) -> tuple[Region, ...]:
        return tuple(self.region(n) for n in self.activation_order)

    @property
    def weight_regions(self) -> tuple[Region, ...]:
        return tuple(self.region(n) for n in self.weight_order)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "chip": self.chip, "core": self.core, "fpu": self.fpu,
            "clock_hz": self.clock_hz, "max_clock_hz": self.max_clock_hz, "qemu_machine": self.qemu_machine,
            "regions": [
                {"name": r.name, "base": r.base, "size": r.size, "kind": r.kind, "speed_rank": r.speed_rank,
                 "cacheable": r.cacheable, "dma": r.dma, "weights": r.weights, "activations": r.activations,
                 "reserved": r.reserved, "external": r.external, "source": r.source}
                for r in self.regions
            ],
            "activation_order": list(self.activation_order), "weight_order": list(self.weight_order),
            "uart": None if self.uart is None else {
                "instance": self.uart.instance, "baud": self.uart.baud, "tx": self.uart.tx,
                "rx": self.uart.rx, "af": self.uart.af, "base": self.uart.base},
            "flash": {"tool": self.flash.tool, "external_loader": self.flash.external_loader,
                      "pyocd_target": self.flash.pyocd_target, "openocd_config": self.flash.openocd_config},
        }


# -- reading and validation ---------------------------------------------------------------------

_REGION_KEYS = {"name": str, "base": int, "size": int, "kind": str, "speed_rank": int, "cacheable": bool,
                "dma": bool, "source": str}
_CHIP_KEYS = {"id": str, "name": str, "core": str, "fpu": str, "max_clock_hz": int, "reference": str,
              "regions": list}
_BOARD_KEYS = {"id": str, "name": str, "chip": str, "clock_hz": int, "manual": str, "qemu_machine": str,
               "memories": list, "roles": dict, "uart": dict, "flash": dict}
_BOARD_REQUIRED = {"id", "name", "chip", "clock_hz", "roles", "flash"}
_ROLES_KEYS = {"activations": list, "weights": list, "reserved": dict}
_UART_KEYS = {"instance": str, "baud": int, "tx": str, "rx": str, "af": int, "base": int}
_FLASH_KEYS = {"tool": str, "external_loader": str, "pyocd_target": str, "openocd_config": str}


def _check(table: dict, schema: dict[str, type], where: Path, what: str, required: set[str] | None = None) -> None:
    unknown = sorted(set(table) - set(schema))
    if unknown:
        raise TargetDataError(f"{where.name}: unknown key(s) {', '.join(unknown)} in {what}; "
                              f"allowed: {', '.join(sorted(schema))}")
    missing = sorted((set(schema) if required is None else required) - set(table))
    if missing:
        raise TargetDataError(f"{where.name}: missing key(s) {', '.join(missing)} in {what}")
    for key, typ in schema.items():
        if key in table and (not isinstance(table[key], typ) or (typ is int and isinstance(table[key], bool))):
            raise TargetDataError(f"{where.name}: {what}.{key} = {table[key]!r} is not a {typ.__name__}")


def _read(path: Path) -> dict:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise TargetDataError(f"{path.name}: not valid TOML: {exc}") from None


def _region(raw: dict, path: Path, external: bool) -> dict:
    _check(raw, _REGION_KEYS, path, f"region {raw.get('name', '?')!r}")
    if raw["kind"] not in KINDS:
        raise TargetDataError(f"{path.name}: region {raw['name']}: kind {raw['kind']!r} not one of {', '.join(KINDS)}")
    if raw["size"] <= 0 or raw["base"] < 0:
        raise TargetDataError(f"{path.name}: region {raw['name']}: bad base/size {raw['base']:#x}/{raw['size']:#x}")
    return {**raw, "external": external}


def _load_board(path: Path, chips_dir: Path) -> Target:
    board = _read(path)
    _check(board, _BOARD_KEYS, path, "board", _BOARD_REQUIRED)
    if board["id"] != path.stem:
        raise TargetDataError(f"{path.name}: id {board['id']!r} differs from the file name")
    chip_path = chips_dir / f"{board['chip']}.toml"
    if not chip_path.is_file():
        raise TargetDataError(f"{path.name}: chip {board['chip']!r} has no file {chip_path.name}")
    chip = _read(chip_path)
    _check(chip, _CHIP_KEYS, chip_path, "chip")
    if chip["core"] not in CORES:
        raise TargetDataError(f"{chip_path.name}: core {chip['core']!r} not one of {', '.join(CORES)}")

    raws = [_region(r, chip_path, False) for r in chip["regions"]]
    raws += [_region(r, path, True) for r in board.get("memories", [])]
    names = [r["name"] for r in raws]
    if len(set(names)) != len(names):
        raise TargetDataError(f"{path.name}: duplicate region names in {names}")

    roles = board["roles"]
    _check(roles, _ROLES_KEYS, path, "roles", {"activations", "weights"})
    reserved = roles.get("reserved", {})
    for name in (*roles["activations"], *roles["weights"], *reserved):
        if name not in names:
            raise TargetDataError(f"{path.name}: roles name region {name!r}; regions: {', '.join(names)}")
    both = set(roles["activations"]) & set(roles["weights"])
    if both:
        raise TargetDataError(f"{path.name}: region(s) {', '.join(sorted(both))} cannot hold both roles")

    regions = []
    for raw in raws:
        keep = reserved.get(raw["name"], 0)
        if not isinstance(keep, int) or not 0 <= keep < raw["size"]:
            raise TargetDataError(f"{path.name}: reserved {raw['name']} = {keep!r} outside 0..{raw['size'] - 1}")
        regions.append(Region(
            name=raw["name"], base=raw["base"], size=raw["size"], kind=raw["kind"], speed_rank=raw["speed_rank"],
            cacheable=raw["cacheable"], dma=raw["dma"], weights=raw["name"] in roles["weights"],
            activations=raw["name"] in roles["activations"], source=raw["source"], reserved=keep,
            external=raw["external"]))
    for i, a in enumerate(regions):
        for b in regions[i + 1:]:
            if a.overlaps(b):
                raise TargetDataError(f"{path.name}: regions {a.name} and {b.name} overlap")

    uart = None
    if "uart" in board:
        _check(board["uart"], _UART_KEYS, path, "uart", {"instance", "baud"})
        uart = Uart(**board["uart"])
    _check(board["flash"], _FLASH_KEYS, path, "flash", {"tool"})
    return Target(
        id=board["id"], name=board["name"], chip=chip["name"], core=chip["core"], fpu=chip["fpu"],
        clock_hz=board["clock_hz"], regions=tuple(regions), uart=uart, flash=FlashMethod(**board["flash"]),
        qemu_machine=board.get("qemu_machine", ""), max_clock_hz=chip["max_clock_hz"],
        chip_reference=chip["reference"], manual=board.get("manual", ""),
        activation_order=tuple(roles["activations"]), weight_order=tuple(roles["weights"]))


def load_targets_from(directory: Path) -> dict[str, Target]:
    """Every board in `directory/boards`, resolved against `directory/chips`."""
    boards = sorted((directory / "boards").glob("*.toml"))
    return {t.id: t for t in (_load_board(p, directory / "chips") for p in boards)}


# Read once at import: a dozen small TOML files, and a broken one should fail loudly and early.
TARGETS: dict[str, Target] = load_targets_from(targets_dir())


def load_target(target_id: str) -> Target:
    """The target with this id (or alias). Raises TargetError listing the known ids."""
    key = ALIASES.get(target_id.lower(), target_id.lower())
    if key not in TARGETS:
        raise TargetError(target_id, tuple(TARGETS))
    return TARGETS[key]


def render_targets(targets: dict[str, Target]) -> str:
    """One line per target: id, chip, core, clock, activation and weight banks."""
    lines = [f"{'id':<18} {'chip':<28} {'core':<11} {'MHz':>5}  activations -> weights"]
    for t in targets.values():
        lines.append(f"{t.id:<18} {t.chip:<28} {t.core:<11} {t.clock_hz // 1_000_000:>5}  "
                     f"{', '.join(t.activation_order)} -> {', '.join(t.weight_order)}")
    return "\n".join(lines)


def render_target(t: Target) -> str:
    """The resolved memory map of one target (chip facts + board roles), with each region's source."""
    lines = [f"{t.id}: {t.name} ({t.chip}, {t.core}, fpu {t.fpu}, {t.clock_hz / 1e6:g} MHz of {t.max_clock_hz / 1e6:g})"]
    if t.qemu_machine:
        lines.append(f"qemu machine {t.qemu_machine}")
    if t.uart is not None:
        pins = f" tx {t.uart.tx} rx {t.uart.rx} AF{t.uart.af}" if t.uart.tx else f" at {t.uart.base:#010x}"
        lines.append(f"console {t.uart.instance}{pins}, {t.uart.baud} baud")
    flash = ", ".join(f"{k} {v}" for k, v in (("loader", t.flash.external_loader), ("pyocd", t.flash.pyocd_target),
                                              ("openocd", t.flash.openocd_config)) if v)
    lines.append(f"flashed with {t.flash.tool}" + (f" ({flash})" if flash else ""))
    lines.append(f"{'region':<10} {'base':>10} {'size':>10} {'kind':<6} {'rank':>4} {'role':<11} {'reserved':>9}  source")
    for r in sorted(t.regions, key=lambda r: r.base):
        role = "activations" if r.activations else "weights" if r.weights else "-"
        lines.append(f"{r.name:<10} {r.base:#010x} {r.size:>10} {r.kind:<6} {r.speed_rank:>4} {role:<11} "
                     f"{r.reserved:>9}  {r.source}{' (board)' if r.external else ''}")
    return "\n".join(lines)
