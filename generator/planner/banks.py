"""Multi-bank orchestration: which region each buffer and each weight goes to.

Activations. A *layout* lays segments of the activation regions end to end in one virtual address
space with a wall at each boundary; one placement algorithm packs all buffers into it, and since no
buffer straddles a wall each lies wholly inside one region. Several layouts are tried:

1. the board's order of preference (fastest first), then dropping banks while that shrinks the plan;
2. each single bank that could hold everything alone;
3. the banks by decreasing size (internal before external);
4. when some buffers fit no internal bank: the external RAM first, sized to what must go there (the
   space those buffers leave free between their lifetimes is reused at no cost), then the internal
   banks, then the rest of the external RAM.

The footprint of a plan is the sum of its regions' high-water marks. The winner uses the least external
RAM beyond what must be external (slower banks only when needed); then a plan within `GOOD_ENOUGH` of
the live-set bound beats one that is not; then the smallest; then the earliest layout in the list
above (the board's preference). Layouts are compared with the greedy placer; the chosen one is then
packed with the requested algorithm, and finally buffers move to faster banks wherever there is room
under those banks' high-water marks (`promote`).

Weights: taken in first-use order and put into the first weight region with room (internal flash
before memory-mapped external flash).
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from generator.errors import PlanError
from generator.model.ir import Tensor
from generator.planner.bound import lower_bound
from generator.planner.lifetimes import ALIGN, Lifetime, align_up
from generator.planner.placement import GreedyPlacer, Placer
from generator.targets import TARGETS, Region, Target

EXTERNAL_RAM_KINDS = ("sdram", "psram")
GOOD_ENOUGH = 1.02


def _capacity(r: Region) -> int:
    return r.capacity - r.capacity % ALIGN


@dataclass(frozen=True)
class Segment:
    region: Region
    start: int  # offset inside the region's arena
    length: int


@dataclass(frozen=True)
class _Packed:
    spots: list[tuple[str, int]] | None  # None: overflowed
    footprint: int
    external: int
    overflow: int


def _whole(regions: Sequence[Region]) -> list[Segment]:
    return [Segment(r, 0, _capacity(r)) for r in regions]


def _virtual_pins(buffers: Sequence[Lifetime], layout: Sequence[Segment], starts: Sequence[int],
                  pins: Mapping[int, tuple[str, int]]) -> dict[int, int] | None:
    """Pinned (region, offset) -> offset in this layout's address space; None if a pin has no segment."""
    out = {}
    for i, (region, offset) in pins.items():
        for seg, start in zip(layout, starts, strict=True):
            if seg.region.name == region and seg.start <= offset and offset + buffers[i].size <= seg.start + seg.length:
                out[i] = start + offset - seg.start
                break
        else:
            return None
    return out


def _pack(buffers: Sequence[Lifetime], layout: Sequence[Segment], placer: Placer,
          pins: Mapping[int, tuple[str, int]] | None = None) -> _Packed:
    starts, top = [], 0
    for seg in layout:
        starts.append(top)
        top += seg.length
    fixed = _virtual_pins(buffers, layout, starts, pins or {})
    if fixed is None:
        return _Packed(None, 0, 0, 0)
    offsets = placer.place(buffers, top, starts[1:], fixed)
    spots, used = [], [0] * len(layout)
    for b, off in zip(buffers, offsets, strict=True):
        k = bisect.bisect_right(starts, off) - 1
        local = off - starts[k]
        used[k] = max(used[k], local + b.size)
        spots.append((layout[k].region.name, layout[k].start + local))
    overflow = max((u - seg.length for u, seg in zip(used, layout, strict=True)), default=0)
    high: dict[str, int] = {}
    for u, seg in zip(used, layout, strict=True):
        if u:
            high[seg.region.name] = max(high.get(seg.region.name, 0), seg.start + u)
    external = sum(h for name, h in high.items() if _is_external_ram(_region(layout, name)))
    return _Packed(spots if overflow <= 0 else None, sum(high.values()), external, max(overflow, 0))


def _region(layout: Sequence[Segment], name: str) -> Region:
    return next(seg.region for seg in layout if seg.region.name == name)


def _is_external_ram(r: Region) -> bool:
    return r.external and r.kind in EXTERNAL_RAM_KINDS


def _layouts(buffers: Sequence[Lifetime], regions: Sequence[Region],
             pins: Mapping[int, tuple[str, int]]) -> list[list[Segment]]:
    greedy = GreedyPlacer()
    out: list[list[Segment]] = []
    # 1. preference order, dropping banks while the footprint shrinks
    current = list(regions)
    out.append(_whole(current))
    best = _pack(buffers, _whole(current), greedy, pins)
    while best.spots is not None and len(current) > 1:
        trials = []
        for r in reversed(current):
            trial = [x for x in current if x is not r]
            packed = _pack(buffers, _whole(trial), greedy, pins)
            if packed.spots is not None and packed.footprint < best.footprint:
                trials.append((packed.footprint, trial, packed))
        if not trials:
            break
        _, current, best = min(trials, key=lambda t: t[0])
        out.append(_whole(current))
    # 2. single banks
    largest = max((b.size for b in buffers), default=0)
    out += [_whole([r]) for r in regions if _capacity(r) >= largest]
    # 3. biggest banks first, internal before external
    out.append(_whole(sorted(regions, key=lambda r: (_is_external_ram(r), -_capacity(r)))))
    # 4. forced-external first
    internal = [r for r in regions if not _is_external_ram(r)]
    external = [r for r in regions if _is_external_ram(r)]
    need = _forced_external_bytes(buffers, regions)
    if need and external:
        ext = external[0]
        layout = [Segment(ext, 0, need), *_whole(internal)]
        if need < _capacity(ext):
            layout.append(Segment(ext, need, _capacity(ext) - need))
        layout += _whole(external[1:])
        out.append(layout)
    return out


def _forced_external_bytes(buffers: Sequence[Lifetime], regions: Sequence[Region]) -> int:
    """Bytes of external RAM the plan cannot avoid: the packed footprint of the buffers no internal
    bank can hold (0 when there are none or there is no external RAM)."""
    internal = [r for r in regions if not _is_external_ram(r)]
    external = [r for r in regions if _is_external_ram(r)]
    forced = [b for b in buffers if all(b.size > _capacity(r) for r in internal)]
    if not forced or not external:
        return 0
    packed = _pack(forced, _whole(external[:1]), GreedyPlacer())
    return min(align_up(packed.footprint, ALIGN), _capacity(external[0]))


def place_activations(buffers: Sequence[Lifetime], target: Target, placer: Placer,
                      pins: Mapping[int, tuple[str, int]] | None = None) -> list[tuple[str, int]]:
    """(region name, offset) per buffer, choosing among the layouts described in the module docstring.
    `pins` (buffer index -> (region, offset)) fixes some buffers; the rest fill the gaps around them.
    Raises PlanError naming the regions short when nothing fits."""
    pins = dict(pins or {})
    regions = list(target.activation_regions)
    too_big = [b for b in buffers if all(b.size > _capacity(r) for r in regions)]
    if too_big:
        raise PlanError(_too_big_message(max(too_big, key=lambda b: b.size), target))
    if not buffers:
        return []
    bound = lower_bound(buffers)
    greedy = GreedyPlacer()
    must_be_external = _forced_external_bytes(buffers, regions)
    scored = []
    first_failure = None
    for n, layout in enumerate(_layouts(buffers, regions, pins)):
        packed = _pack(buffers, layout, greedy, pins)
        if packed.spots is None:
            if packed.overflow:
                first_failure = first_failure or (packed, layout)
            continue
        good = packed.footprint <= GOOD_ENOUGH * bound
        scored.append(((max(0, packed.external - must_be_external), not good, packed.footprint, n), layout))
    if not scored:
        if first_failure is None:
            raise PlanError(f"the pinned buffers ({', '.join(buffers[i].name for i in pins)}) leave no room for "
                            f"the others on {target.id}")
        packed, layout = first_failure
        raise PlanError(_short_message(bound, packed.overflow, layout[-1].region, target))
    layout = min(scored, key=lambda s: s[0])[1]
    final = _pack(buffers, layout, placer, pins)
    if final.spots is None:  # only a weaker algorithm than greedy (linear) gets here
        raise PlanError(f"{placer.name} placement: " + _short_message(bound, final.overflow, layout[-1].region, target))
    return promote(buffers, final.spots, regions, set(pins)) if placer.reuses_memory else final.spots


def promote(buffers: Sequence[Lifetime], spots: list[tuple[str, int]], regions: Sequence[Region],
            pinned: Collection[int] = ()) -> list[tuple[str, int]]:
    """Move buffers into more preferred banks where that costs nothing: the lowest free slot under the
    bank's current high-water mark, free for the buffer's whole lifetime. Most traffic (size x ops
    using it) first. The footprint never grows, and a buffer only leaves a slower bank for a faster one
    (the layouts above may park a small buffer in external RAM next to the ones that must be there)."""
    rank = {r.name: n for n, r in enumerate(regions)}
    spots = list(spots)
    high = {r.name: 0 for r in regions}
    for b, (name, off) in zip(buffers, spots, strict=True):
        high[name] = max(high[name], off + b.size)
    for i in sorted(range(len(buffers)), key=lambda i: (-buffers[i].size * buffers[i].uses, i)):
        if i in pinned:
            continue
        b = buffers[i]
        for r in regions[: rank[spots[i][0]]]:
            busy = sorted((spots[j][1], spots[j][1] + buffers[j].size) for j in range(len(buffers))
                          if j != i and spots[j][0] == r.name and buffers[j].overlaps_in_time(b))
            cursor, slot = 0, None
            for start, end in (*busy, (high[r.name], high[r.name])):
                if start - cursor >= b.size:
                    slot = cursor
                    break
                cursor = max(cursor, end)
            if slot is not None and slot + b.size <= high[r.name]:
                spots[i] = (r.name, slot)
                break
    return spots


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
    boards = sorted(t.id for t in TARGETS.values() if t.id != target.id and not t.qemu_machine and t.core != "host"
                    and any(_is_external_ram(r) for r in t.activation_regions))
    return f"{target.id} has no external RAM; a board with one ({', '.join(boards)}) would help"


def _describe(b: Lifetime) -> str:
    """TFLite names fuse every op folded into a tensor ('a;b;c'): keep the first, add the shape."""
    if b.tensor is None:
        return f"'{b.name}'"
    name = b.tensor.name.split(";")[0]
    return f"'{name}' {'x'.join(map(str, b.tensor.shape))} {np.dtype(b.tensor.dtype).name}"


def _too_big_message(b: Lifetime, target: Target) -> str:
    shorts = ", ".join(f"{r.name} short by {b.size - _capacity(r)}" for r in target.activation_regions)
    return (f"buffer {_describe(b)} ({b.size} bytes) is larger than every activation region of {target.id} "
            f"({shorts}); {_external_ram_hint(target)}, or use a smaller input size")


def _short_message(bound: int, overflow: int, last: Region, target: Target) -> str:
    regions = ", ".join(f"{r.name} {_capacity(r)}" for r in target.activation_regions)
    return (f"activations do not fit {target.id}: {bound} bytes are live at once and the best plan overflows "
            f"{last.name} by {overflow} bytes (activation regions: {regions}); {_external_ram_hint(target)}, "
            f"or use a smaller input size")
