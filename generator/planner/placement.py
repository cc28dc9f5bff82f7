"""Placement algorithms: give each buffer an offset so that buffers live at the same time never share
bytes. They see only (first_op, last_op, size) rows, never the Graph.

Every algorithm follows one Protocol, `place(buffers, capacity, walls, pinned) -> offsets`. `walls` are
offsets no buffer may straddle: the multi-bank orchestration lays the banks end to end in one address
space and puts a wall at each bank boundary. `pinned` maps buffer index -> fixed offset (a DMA-fed
input, say): those buffers stay put and the others fill the gaps around them. `capacity` is a hint
(the improvement step never trades a plan that fits it for one that does not); an algorithm may
return offsets beyond it and the caller decides.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Mapping, Sequence
from typing import Protocol

from generator.planner.bound import lower_bound
from generator.planner.lifetimes import ALIGN, Lifetime


class Placer(Protocol):
    name: str
    reuses_memory: bool  # False only for the linear baseline, which banks.promote must leave alone

    def place(self, buffers: Sequence[Lifetime], capacity: int, walls: Sequence[int] = (),
              pinned: Mapping[int, int] | None = None) -> list[int]: ...


def peak(buffers: Sequence[Lifetime], offsets: Sequence[int]) -> int:
    return max((o + b.size for b, o in zip(buffers, offsets, strict=True)), default=0)


def segment_tops(buffers: Sequence[Lifetime], offsets: Sequence[int], walls: Sequence[int] = ()) -> list[int]:
    """High-water mark of each segment between walls (segment k starts at walls[k-1], the first at 0)."""
    starts = [0, *walls]
    tops = [0] * len(starts)
    for b, o in zip(buffers, offsets, strict=True):
        k = bisect.bisect_right(starts, o) - 1
        tops[k] = max(tops[k], o + b.size - starts[k])
    return tops


def footprint(buffers: Sequence[Lifetime], offsets: Sequence[int], walls: Sequence[int] = ()) -> int:
    """Bytes the placement reserves: the sum of the segments' high-water marks (the peak without walls)."""
    return sum(segment_tops(buffers, offsets, walls))


def _clear_walls(offset: int, size: int, walls: Sequence[int]) -> int:
    """The lowest offset >= `offset` at which [offset, offset+size) straddles no wall."""
    while True:
        i = bisect.bisect_right(walls, offset)
        if i < len(walls) and walls[i] < offset + size:
            offset = walls[i]
        else:
            return offset


class LinearPlacer:
    """Baseline: every buffer gets its own bytes, one after the other (no reuse). The plan the others
    must beat; also the safest possible plan when debugging a kernel that writes out of bounds."""

    name = "linear"
    reuses_memory = False

    def place(self, buffers: Sequence[Lifetime], capacity: int, walls: Sequence[int] = (),
              pinned: Mapping[int, int] | None = None) -> list[int]:
        pinned = dict(pinned or {})
        fixed = sorted((off, off + buffers[i].size) for i, off in pinned.items())
        offsets, top = [], 0
        for i, b in enumerate(buffers):
            if i in pinned:
                offsets.append(pinned[i])
                continue
            off = _clear_walls(top, b.size, walls)
            for lo, hi in fixed:  # no reuse at all: step over every pinned range, live or not
                if lo < off + b.size and off < hi:
                    off = _clear_walls(hi, b.size, walls)
            offsets.append(off)
            top = off + b.size
        return offsets


def place_in_order(buffers: Sequence[Lifetime], order: Sequence[int], walls: Sequence[int] = (),
                   pinned: Mapping[int, int] | None = None) -> list[int]:
    """Best-fit placement of buffers taken in `order` (pinned buffers are in place before the first).

    For each buffer: collect the address ranges of the already-placed buffers whose lifetimes overlap
    it, list the free gaps between them (the last gap is open-ended), move each candidate start past any
    wall it would straddle, and take the gap that (1) raises its segment's high-water mark least, then
    (2) is the tightest, then (3) is lowest. Without walls (1) only separates the open top gap from the
    rest, which is TFLite Micro's greedy; with walls it stops a buffer from topping up one bank when
    another has room under its mark.
    Limits: a buffer never moves once placed, so an early bad choice is never undone; that is what the
    improvement step is for. Cost O(n^2 log n) for n buffers.
    """
    starts = [0, *walls]
    tops = [0] * len(starts)  # high-water mark per segment, absolute
    offsets = [0] * len(buffers)
    placed: list[int] = []
    for i, off in (pinned or {}).items():
        offsets[i] = off
        seg = bisect.bisect_right(starts, off) - 1
        tops[seg] = max(tops[seg], off + buffers[i].size)
        placed.append(i)
    for i in order:
        if pinned and i in pinned:
            continue
        b = buffers[i]
        busy = sorted((offsets[j], offsets[j] + buffers[j].size) for j in placed
                      if buffers[j].first_op <= b.last_op and b.first_op <= buffers[j].last_op)
        best, best_key, cursor = 0, None, 0
        for start, end in (*busy, (None, None)):
            if start is None or start > cursor:
                # A gap may span walls: try its start and the start of every segment inside it.
                inner = walls[bisect.bisect_right(walls, cursor):len(walls) if start is None
                              else bisect.bisect_left(walls, start)]
                for candidate in (cursor, *inner):
                    off = _clear_walls(candidate, b.size, walls)
                    if start is not None and off + b.size > start:
                        break
                    seg = bisect.bisect_right(starts, off) - 1
                    key = (max(0, off + b.size - max(tops[seg], starts[seg])),
                           float("inf") if start is None else start - cursor, off)
                    if best_key is None or key < best_key:
                        best, best_key = off, key
            if end is not None:
                cursor = max(cursor, end)
        offsets[i] = best
        seg = bisect.bisect_right(starts, best) - 1
        tops[seg] = max(tops[seg], best + b.size)
        placed.append(i)
    return offsets


def size_order(buffers: Sequence[Lifetime]) -> list[int]:
    """Largest first; ties by longer lifetime, then earlier start (deterministic)."""
    return sorted(range(len(buffers)),
                  key=lambda i: (-buffers[i].size, -(buffers[i].last_op - buffers[i].first_op), buffers[i].first_op, i))


class GreedyPlacer:
    """Greedy by size, best fit (the TFLite Micro GreedyMemoryPlanner idea): big buffers first, each
    into the tightest gap left by the buffers it is live with. See `place_in_order`."""

    name = "greedy"
    reuses_memory = True

    def place(self, buffers: Sequence[Lifetime], capacity: int, walls: Sequence[int] = (),
              pinned: Mapping[int, int] | None = None) -> list[int]:
        return place_in_order(buffers, size_order(buffers), walls, pinned)


class ImprovePlacer:
    """Greedy, then a deterministic hill climb over the placement order (after Vela's HillClimbAllocator).

    The objective is the footprint: the sum of each segment's high-water mark (just the peak when there
    are no walls). Each step takes a buffer that sets some segment's high-water mark, swaps it with a
    buffer drawn by a seeded RNG from earlier in the order, re-places everything, and keeps the new
    order when the footprint drops. Fixed seed and iteration count make the result byte-identical
    between runs; it stops as soon as the footprint reaches the live-set bound, which nothing can beat.
    """

    name = "improve"
    reuses_memory = True

    def __init__(self, iterations: int = 40, seed: int = 0x5732) -> None:
        self.iterations = iterations
        self.seed = seed

    def place(self, buffers: Sequence[Lifetime], capacity: int, walls: Sequence[int] = (),
              pinned: Mapping[int, int] | None = None) -> list[int]:
        order = [i for i in size_order(buffers) if not pinned or i not in pinned]
        best = place_in_order(buffers, order, walls, pinned)
        best_cost = footprint(buffers, best, walls)
        target = lower_bound(buffers)
        rng = random.Random(self.seed)
        starts = [0, *walls]
        for _ in range(self.iterations):
            if best_cost <= target or len(order) < 2:
                break
            tops = segment_tops(buffers, best, walls)
            setters = [k for k, i in enumerate(order)
                       if best[i] + buffers[i].size - starts[bisect.bisect_right(starts, best[i]) - 1]
                       == tops[bisect.bisect_right(starts, best[i]) - 1]]
            if not setters:  # only pinned buffers set the marks: nothing to reorder
                break
            k = setters[rng.randrange(len(setters))]
            if k == 0:
                continue
            j = rng.randrange(k)
            trial = list(order)
            trial[j], trial[k] = trial[k], trial[j]
            offsets = place_in_order(buffers, trial, walls, pinned)
            cost = footprint(buffers, offsets, walls)
            # Never trade a plan that fits `capacity` for a smaller one that does not.
            if cost < best_cost and (peak(buffers, offsets) <= max(capacity, peak(buffers, best))):
                order, best, best_cost = trial, offsets, cost
        return best


PLACERS: dict[str, Placer] = {p.name: p for p in (LinearPlacer(), GreedyPlacer(), ImprovePlacer())}


def check_offsets(buffers: Sequence[Lifetime], offsets: Sequence[int], walls: Sequence[int] = (),
                  align: int = ALIGN) -> None:
    """Raise ValueError naming the first two buffers that are live together and share bytes, or a
    buffer that is misaligned or straddles a wall. Used by tests on raw placements."""
    rows = sorted(zip(offsets, buffers, strict=True), key=lambda r: r[0])
    for n, (off, b) in enumerate(rows):
        if off < 0 or off % align:
            raise ValueError(f"buffer {b.name or n} at offset {off} is negative or not {align}-aligned")
        i = bisect.bisect_right(walls, off)
        if i < len(walls) and walls[i] < off + b.size:
            raise ValueError(f"buffer {b.name or n} [{off}, {off + b.size}) straddles wall {walls[i]}")
        for off2, b2 in rows[n + 1:]:
            if off2 >= off + b.size:
                break
            if b.overlaps_in_time(b2):
                raise ValueError(f"buffers {b.name or b} and {b2.name or b2} overlap: [{off}, {off + b.size}) and "
                                 f"[{off2}, {off2 + b2.size}) both live in ops {max(b.first_op, b2.first_op)}.."
                                 f"{min(b.last_op, b2.last_op)}")
