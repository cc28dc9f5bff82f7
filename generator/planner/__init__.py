"""The memory planner: `plan_memory(graph, target) -> Plan`.

lifetimes (when each buffer is live) -> placement (offsets in one address space, algorithm behind a
Protocol) -> banks (which region, weights too) -> verify (an independent overlap check) -> report.
"""

from __future__ import annotations

from generator.model.ir import Graph
from generator.planner.banks import place_activations, place_weights
from generator.planner.bound import lower_bound
from generator.planner.lifetimes import buffer_lifetimes, weight_tensors
from generator.planner.placement import PLACERS
from generator.planner.plan import Placement, Plan, RegionUse, WeightPlacement
from generator.planner.verify import verify_plan
from generator.targets import Target

DEFAULT_ALGORITHM = "improve"

__all__ = ["Placement", "Plan", "RegionUse", "WeightPlacement", "plan_memory", "verify_plan"]


def plan_memory(graph: Graph, target: Target, algorithm: str = DEFAULT_ALGORITHM) -> Plan:
    """Place every activation buffer and weight of `graph` in `target`'s memories and verify the result.
    Raises PlanError (naming the regions short and by how much) when the model does not fit."""
    placer = PLACERS[algorithm]
    buffers = buffer_lifetimes(graph)
    spots = place_activations(buffers, target, placer)
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
