"""Where every output section of a firmware image goes, decided once from the target and the plan.

The board file reserves the start of some banks for the firmware (`Region.reserved`); the plan's
arenas start right after (`RegionUse.arena_base`). From that we derive:

- the *code* bank: the reserved internal bank of kind flash, else the reserved internal bank with the
  lowest address (the RAM QEMU's -kernel or the debugger loads into);
- the *system RAM* bank for .data/.bss/stacks: the fastest reserved internal non-flash bank other
  than the code bank, or the code bank itself when it is the only one (STM32N6: AXISRAM1);
- one `.arena.<REGION>` section per activation region at its planned arena base and size;
- one `.weights.<REGION>` section per weight region at its arena base; the plain `.weights` input
  section goes to the weight region that holds the most weight bytes.

`Layout.expected` maps each output section to the region it must end up in; `sections.py` checks the
linked ELF against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.errors import BuildError


@dataclass(frozen=True, slots=True)
class MemoryArea:
    """One MEMORY line of the linker script."""

    name: str
    origin: int
    length: int
    region: str  # target region it belongs to


@dataclass(frozen=True, slots=True)
class PinnedSection:
    """An output section at a fixed address (an arena, or a weights block)."""

    section: str
    inputs: tuple[str, ...]
    address: int
    size: int  # planned bytes (the arena is padded to this; weights are checked against it)
    memory: str
    region: str
    load: bool  # False for NOLOAD (activations)


@dataclass(frozen=True, slots=True)
class Layout:
    memory: tuple[MemoryArea, ...]
    code_memory: str
    ram_memory: str
    code_region: str
    ram_region: str
    arenas: tuple[PinnedSection, ...]
    weights: tuple[PinnedSection, ...]
    expected: dict[str, str] = field(default_factory=dict)  # output section -> region name


_CODE_SECTIONS = (".isr_vector", ".text", ".rodata", ".ARM.extab", ".ARM.exidx")
_RAM_SECTIONS = (".data", ".bss", ".heap", ".handler_stack", ".stack")


def _symbol(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)


def _plan_regions(plan) -> list:
    regions = plan.regions.values() if isinstance(plan.regions, dict) else plan.regions
    return list(regions)


def compute_layout(target, plan) -> Layout:
    internal = [r for r in target.regions if r.reserved > 0 and not r.external]
    if not internal:
        raise BuildError(f"target {target.id} reserves no internal memory for code and stack")
    flash = [r for r in internal if r.kind == "flash"]
    code = flash[0] if flash else min(internal, key=lambda r: r.base)
    ram_candidates = [r for r in internal if r.kind != "flash" and r.name != code.name] or (
        [code] if code.kind != "flash" else [])
    if not ram_candidates:
        raise BuildError(f"target {target.id} reserves no RAM for .data, .bss and the stacks")
    ram = min(ram_candidates, key=lambda r: (r.speed_rank, r.base))

    memory: list[MemoryArea] = []
    for r in (code, ram) if ram is not code else (code,):
        memory.append(MemoryArea(f"{_symbol(r.name)}_FW", r.base, r.reserved, r.name))

    arenas: list[PinnedSection] = []
    weights: list[PinnedSection] = []
    uses = _plan_regions(plan)
    by_weight = sorted((u for u in uses if u.weights_bytes > 0), key=lambda u: -u.weights_bytes)
    main_weights = by_weight[0].name if by_weight else None
    for use in uses:
        if use.activations_bytes <= 0 and use.weights_bytes <= 0:
            continue
        try:
            region = target.region(use.name)
        except KeyError:
            raise BuildError(f"plan uses region '{use.name}', which target {target.id} does not have; "
                             f"regions: {', '.join(r.name for r in target.regions)}") from None
        mem = f"{_symbol(region.name)}_ARENA"
        memory.append(MemoryArea(mem, use.arena_base, region.end - use.arena_base, region.name))
        tag = _symbol(region.name)
        if use.activations_bytes > 0:
            arenas.append(PinnedSection(f".arena.{tag}", (f".arena.{tag}", f".arena.{tag}.*"), use.arena_base,
                                        use.activations_bytes, mem, region.name, load=False))
        if use.weights_bytes > 0:
            inputs = (f".weights.{tag}", f".weights.{tag}.*") + ((".weights",) if use.name == main_weights else ())
            weights.append(PinnedSection(f".weights.{tag}", inputs, use.arena_base, use.weights_bytes, mem,
                                         region.name, load=True))

    expected = {s: code.name for s in _CODE_SECTIONS}
    expected.update({s: ram.name for s in _RAM_SECTIONS})
    expected.update({p.section: p.region for p in (*arenas, *weights)})
    return Layout(tuple(memory), memory[0].name, memory[1].name if ram is not code else memory[0].name,
                  code.name, ram.name, tuple(arenas), tuple(weights), expected)
