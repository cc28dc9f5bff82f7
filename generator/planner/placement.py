"""Placement algorithms: give each buffer an offset so that buffers live at the same time never share
bytes. They see only (first_op, last_op, size) rows, never the Graph.

Every algorithm follows one Protocol, `place(buffers, capacity, walls) -> offsets`. `walls` are offsets
no buffer may straddle: the multi-bank orchestration lays the banks end to end in one address space
and puts a wall at each bank boundary. `capacity` is a hint (the improvement step stops early once a
plan fits under the bound); an algorithm may return offsets beyond it and the caller decides.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Sequence
from typing import Protocol

from generator.planner.bound import lower_bound
from generator.planner.lifetimes import ALIGN, Lifetime


class Placer(Protocol):
    name: str

    def place(self, buffers: Sequence[Lifetime], capacity: int, walls: Sequence[int] = ()) -> list[int]: ...


def peak(buffers: Sequence[Lifetime], offsets: Sequence[int]) -> int:
    return max((o + b.size for b, o in zip(buffers, offsets, strict=True)), default=0)


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

    def place(self, buffers: Sequence[Lifetime], capacity: int, walls: Sequence[int] = ()) -> list[int]:
        offsets, top = [], 0
        for b in buffers:
            off = _clear_walls(top, b.size, walls)
            offsets.append(off)
            top = off + b.size
        return offsets


def place_in_order(buffers: Sequence[Lifetime], order: Sequence[int], walls: Sequence[int] = ()) -> list[int]:
    """Best-fit placement of buffers taken in `order`.

    For each buffer: collect the address ranges of the already-placed buffers whose lifetimes overlap
    it, list the free gaps between them (the last gap is open-ended), and take the smallest gap the
    buffer fits in (lowest address on ties), after moving its start past any wall it would straddle.
    Limits: a buffer never moves once placed, so an early bad choice is never undone; that is what the
    improvement step is for. Cost O(n^2 log n) for n buffers.
    """
    offsets = [0] * len(buffers)
    placed: list[int] = []
    for i in order:
        b = buffers[i]
        busy = sorted((offsets[j], offsets[j] + buffers[j].size) for j in placed
                      if buffers[j].first_op <= b.last_op and b.first_op <= buffers[j].last_op)
        best_off, best_gap, cursor = None, None, 0
        for start, end in (*busy, (None, None)):
            gap_end = start  # None: open-ended gap above everything
            if gap_end is None or gap_end > cursor:
                off = _clear_walls(cursor, b.size, walls)
                if gap_end is None or off + b.size <= gap_end:
                    gap = None if gap_end is None else gap_end - cursor
                    if best_off is None or (gap is not None and (best_gap is None or gap < best_gap)):
                        best_off, best_gap = off, gap
            if end is not None:
                cursor = max(cursor, end)
        offsets[i] = best_off if best_off is not None else 0
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

    def place(self, buffers: Sequence[Lifetime], capacity: int, walls: Sequence[int] = ()) -> list[int]:
        return place_in_order(buffers, size_order(buffers), walls)


class ImprovePlacer:
    """Greedy, then a deterministic hill climb over the placement order (after Vela's HillClimbAllocator).

    Each step takes a buffer that ends at the current peak, swaps it with a buffer drawn by a seeded RNG
    from earlier in the order, and replaces the best order when the peak drops. Fixed seed and a fixed
    number of iterations make the result byte-identical between runs; it stops early as soon as the
    peak reaches the live-set bound, which no placement can beat.
    """

    name = "improve"

    def __init__(self, iterations: int = 60, seed: int = 0x5732) -> None:
        self.iterations = iterations
        self.seed = seed

    def place(self, buffers: Sequence[Lifetime], capacity: int, walls: Sequence[int] = ()) -> list[int]:
        order = size_order(buffers)
        best = place_in_order(buffers, order, walls)
        best_peak = peak(buffers, best)
        target = lower_bound(buffers)
        rng = random.Random(self.seed)
        for _ in range(self.iterations):
            if best_peak <= target or len(order) < 2:
                break
            at_peak = [k for k, i in enumerate(order) if best[i] + buffers[i].size == best_peak]
            k = at_peak[rng.randrange(len(at_peak))]
            if k == 0:
                continue
            j = rng.randrange(k)
            trial = list(order)
            trial[j], trial[k] = trial[k], trial[j]
            offsets = place_in_order(buffers, trial, walls)
            p = peak(buffers, offsets)
            if p < best_peak:
                order, best, best_peak = trial, offsets, p
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
