"""The live-set lower bound: no placement can use less than the bytes live at the busiest op."""

from __future__ import annotations

from collections.abc import Sequence

from generator.planner.lifetimes import Lifetime


def live_bytes(buffers: Sequence[Lifetime]) -> list[int]:
    """Bytes live at each op index 0..max(last_op) (a difference array over closed intervals)."""
    if not buffers:
        return []
    n = max(b.last_op for b in buffers) + 2
    delta = [0] * n
    for b in buffers:
        delta[b.first_op] += b.size
        delta[b.last_op + 1] -= b.size
    out, run = [], 0
    for d in delta[:-1]:
        run += d
        out.append(run)
    return out


def lower_bound(buffers: Sequence[Lifetime]) -> int:
    """max over ops of the live bytes (sizes as placed, i.e. aligned)."""
    return max(live_bytes(buffers), default=0)
