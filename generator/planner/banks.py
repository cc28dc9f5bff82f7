"""Multi-bank orchestration: which region each buffer and each weight goes to.

Activations: the board's activation regions, in its order of preference (fastest first), are laid end
to end in one virtual address space with a wall at each boundary. One placement algorithm packs all
buffers into that space; a buffer never straddles a wall, so it lies wholly inside one region. The
largest buffers are placed first at the lowest addresses, so they land in the fastest bank that holds
them, and a later (slower, external) bank is used only for what does not fit before it.

Weights: taken in first-use order and put into the first weight region with room (internal flash
before memory-mapped external flash).
"""

from __future__ import annotations

from collections.abc import Sequence

from generator.errors import PlanError
from generator.model.ir import Tensor
from generator.planner.lifetimes import ALIGN, Lifetime, align_up
from generator.planner.placement import Placer
from generator.targets import TARGETS, Region, Target

EXTERNAL_RAM_KINDS = ("sdram", "psram")


def _capacity(r: Region) -> int:
    return r.capacity - r.capacity % ALIGN


def place_activations(buffers: Sequence[Lifetime], target: Target, placer: Placer) -> list[tuple[str, int]]:
    """(region name, offset) per buffer. Raises PlanError when they do not fit."""
    regions = target.activation_regions
    starts, top = [], 0
    for r in regions:
        starts.append(top)
        top += _capacity(r)
    total = top
    too_big = [b for b in buffers if all(b.size > _capacity(r) for r in regions)]
    if too_big:
        raise PlanError(_too_big_message(max(too_big, key=lambda b: b.size), target))
    offsets = placer.place(buffers, total, starts[1:])
    out = []
    for b, off in zip(buffers, offsets, strict=True):
        k = max(i for i, s in enumerate(starts) if s <= off) if off < total else len(regions)
        if k == len(regions) or off + b.size > starts[k] + _capacity(regions[k]):
            needed = max(o + x.size for x, o in zip(buffers, offsets, strict=True))
            raise PlanError(_short_message(needed, total, target))
        out.append((regions[k].name, off - starts[k]))
    return out


def place_weights(tensors: Sequence[Tensor], target: Target) -> list[tuple[str, int, int]]:
    """(region name, offset, size) per constant tensor, first fit in the board's weight order."""
    regions = target.weight_regions
    used = [0] * len(regions)
    out = []
    for t in tensors:
        size = align_up(t.nbytes, ALIGN)
        for k, r in enumerate(regions):
            if used[k] + size <= _capacity(r):
                out.append((r.name, used[k], t.nbytes))
                used[k] += size
                break
        else:
            need = sum(align_up(x.nbytes, ALIGN) for x in tensors)
            have = sum(_capacity(r) for r in regions)
            shorts = ", ".join(f"{r.name} {_capacity(r)} bytes" for r in regions)
            raise PlanError(f"weights need {need} bytes but {target.id}'s weight regions hold {have} ({shorts}): "
                            f"short by {need - have} bytes; use a smaller model")
    return out


def _external_ram_hint(target: Target) -> str:
    unused = [r.name for r in target.regions if r.kind in EXTERNAL_RAM_KINDS and not r.activations]
    if unused:
        return f"enable the board's external RAM ({', '.join(unused)}) for activations"
    if any(r.kind in EXTERNAL_RAM_KINDS for r in target.activation_regions):
        return "its external RAM is already in use"
    others = sorted(t.id for t in TARGETS.values()
                    if t.id != target.id and any(r.kind in EXTERNAL_RAM_KINDS for r in t.activation_regions))
    return f"{target.id} has no external RAM; a board with one ({', '.join(others)}) would help"


def _too_big_message(b: Lifetime, target: Target) -> str:
    shorts = ", ".join(f"{r.name} short by {b.size - _capacity(r)}" for r in target.activation_regions)
    return (f"buffer '{b.name}' ({b.size} bytes) is larger than every activation region of {target.id} "
            f"({shorts}); {_external_ram_hint(target)}, or use a smaller input size")


def _short_message(needed: int, total: int, target: Target) -> str:
    regions = ", ".join(f"{r.name} {_capacity(r)}" for r in target.activation_regions)
    return (f"activations need {needed} bytes but {target.id}'s activation regions hold {total} ({regions}): "
            f"short by {needed - total} bytes; {_external_ram_hint(target)}, or use a smaller input size")
