"""Check a linked ELF against the layout: every allocated section in the region it was planned for.

A small ELF32 little-endian section-header reader (ELF spec, "Sections"); no objdump needed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from generator.errors import BuildError

SHF_ALLOC = 0x2
SHT_NOBITS = 8


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    address: int
    size: int
    flags: int
    type: int

    @property
    def allocated(self) -> bool:
        return bool(self.flags & SHF_ALLOC) and self.size > 0


def read_sections(elf: str | Path) -> list[Section]:
    data = Path(elf).read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1:
        raise BuildError(f"{elf} is not a 32-bit little-endian ELF file")
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
    raw = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize) for i in range(shnum)]
    strtab_off, strtab_size = raw[shstrndx][4], raw[shstrndx][5]
    strtab = data[strtab_off:strtab_off + strtab_size]

    def name(off: int) -> str:
        return strtab[off:strtab.index(b"\0", off)].decode()

    return [Section(name(r[0]), r[3], r[5], r[2], r[1]) for r in raw[1:]]


def check_sections(elf: str | Path, expected: dict[str, str], regions: dict[str, tuple[int, int]]) -> list[Section]:
    """Raise BuildError naming the first section that is unknown or outside its planned region.

    `expected` maps output section names to region names, `regions` maps region names to
    (base, size). Returns the allocated sections checked."""
    checked = []
    for s in read_sections(elf):
        if not s.allocated:
            continue
        if s.name not in expected:
            raise BuildError(f"section {s.name} ({s.size} bytes at 0x{s.address:08X}) is not in the "
                             f"layout; known sections: {', '.join(sorted(expected))}")
        region = expected[s.name]
        base, size = regions[region]
        if not (base <= s.address and s.address + s.size <= base + size):
            raise BuildError(f"section {s.name} at 0x{s.address:08X}..0x{s.address + s.size:08X} lies outside "
                             f"region {region} (0x{base:08X}..0x{base + size:08X}) the plan chose")
        checked.append(s)
    return checked
