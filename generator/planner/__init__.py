"""The memory planner: `plan_memory(graph, target) -> Plan`.

lifetimes (when each buffer is live) -> placement (offsets in one address space, algorithm behind a
Protocol) -> banks (which region, weights too) -> verify (an independent overlap check) -> report.
"""

from __future__ import annotations

from collections.abc import Mapping

from generator.errors import PlanError
from generator.model.ir import Graph
from generator.planner.banks import place_activations, place_weights
from generator.planner.bound import lower_bound
from generator.planner.lifetimes import ALIGN, Lifetime, buffer_lifetimes, weight_tensors
from generator.planner.placement import PLACERS
from generator.planner.plan import Placement, Plan, RegionUse, WeightPlacement
from generator.planner.verify import verify_plan
from generator.targets import Target

DEFAULT_ALGORITHM = "improve"

__all__ = ["Placement", "Plan", "RegionUse", "WeightPlacement", "plan_memory", "verify_plan"]


def plan_memory(graph: Graph, target: Target, algorithm: str = DEFAULT_ALGORITHM,
                pinned: Mapping[str, tuple[str, int]] | None = None) -> Plan:
    """Place every activation buffer and weight of `graph` in `target`'s memories and verify the result.

    `pinned` fixes buffers by tensor name: {name: (region, offset in its arena)}, e.g. an input a DMA
    writes to a fixed address; the planner fills the gaps around them.
    Raises PlanError (naming the regions short and by how much) when the model does not fit."""
    if algorithm not in PLACERS:
        raise ValueError(f"unknown placement algorithm {algorithm!r}; known: {', '.join(PLACERS)}")
    placer = PLACERS[algorithm]
    buffers = buffer_lifetimes(graph)
    spots = place_activations(buffers, target, placer, _pins(buffers, target, pinned or {}))
    placements = [Placement(b.tensor, region, offset, b.size, b.first_op, b.last_op)
                  for b, (region, offset) in zip(buffers, spots, strict=True)]
    constants = weight_tensors(graph)
    weights = [WeightPlacement(t, region, offset, size)
               for t, (region, offset, size) in zip(constants, place_weights(constants, target), strict=True)]
    uses = []
    for r in target.regions:
        if not (r.activations or r.weights):
            continue
        act = max((p.offset + p.size for p in placements if p.region == r.name), default=0)
        wts = max((w.offset + w.size for w in weights if w.region == r.name), default=0)
        uses.append(RegionUse(r.name, r.base, r.size, r.arena_base, r.capacity, act, wts))
    plan = Plan(target, placements, uses, weights, lower_bound(buffers), len(graph.operators), placer.name)
    verify_plan(plan, graph)
    return plan


def _pins(buffers: list[Lifetime], target: Target, pinned: Mapping[str, tuple[str, int]]) -> dict[int, tuple[str, int]]:
    """Buffer index -> (region, offset) for each pinned tensor name, checked against the target."""
    index = {b.name: i for i, b in enumerate(buffers)}
    out = {}
    for name, (region, offset) in pinned.items():
        if name not in index:
            raise PlanError(f"cannot pin '{name}': no activation buffer has that name (aliases and constants have none)")
        if region not in target.activation_order:
            raise PlanError(f"cannot pin '{name}' in {region!r}: activation regions of {target.id} are "
                            f"{', '.join(target.activation_order)}")
        size, capacity = buffers[index[name]].size, target.region(region).capacity
        if offset < 0 or offset % ALIGN or offset + size > capacity:
            raise PlanError(f"cannot pin '{name}' at {region}+{offset}: needs a {ALIGN}-byte aligned offset with "
                            f"{size} bytes free before the arena's end ({capacity} bytes)")
        out[index[name]] = (region, offset)
    return out
