"""An independent check of a finished plan. It trusts nothing the planner computed: given the graph it
re-derives, op by op, which bytes each operator touches, and it checks every pair of buffers itself.

Raises PlanVerificationError (a bug in stm32gen, never the user's fault) naming the buffers and their
absolute addresses.
"""

from __future__ import annotations

from generator.errors import GraphInvariantError
from generator.model.ir import Graph, Tensor
from generator.planner.plan import Placement, Plan, WeightPlacement

ALIGNMENT = 32


class PlanVerificationError(GraphInvariantError):
    """The memory plan is unsafe: two live buffers share bytes, or a buffer leaves its region."""


def _describe(plan: Plan, p: Placement | WeightPlacement) -> str:
    r = plan.region(p.region)
    start = r.arena_base + p.offset
    return f"'{p.tensor.name}' {p.region}[{start:#010x}..{start + p.size:#010x})"


def _needed_intervals(graph: Graph) -> dict[int, tuple[Tensor, int, int]]:
    """id(storage) -> (storage, first op, last op) that must hold its bytes, from a plain scan of the ops.
    Ops computing only from constants are skipped, as the planner documents."""
    const = {id(t) for t in graph.tensors() if t.is_constant}
    need: dict[int, list] = {}
    last = max(len(graph.operators) - 1, 0)
    for i, op in enumerate(graph.operators):
        live_ins = [t for t in op.inputs if t is not None and id(t.storage) not in const and id(t) not in const]
        if op.type == "SHAPE" or (not live_ins and any(t is not None for t in op.inputs)):
            const.update(id(t) for t in op.outputs)
            continue
        for t in (*live_ins, *op.outputs):
            s = t.storage
            entry = need.setdefault(id(s), [s, i, i])
            entry[1], entry[2] = min(entry[1], i), max(entry[2], i)
    for t, at in [(t, 0) for t in graph.inputs] + [(t, last) for t in graph.outputs]:
        s = t.storage
        if id(s) in const:
            continue
        entry = need.setdefault(id(s), [s, at, at])
        entry[1], entry[2] = min(entry[1], at), max(entry[2], at)
    return {k: (v[0], v[1], v[2]) for k, v in need.items()}


def verify_plan(plan: Plan, graph: Graph | None = None) -> None:
    target = plan.target
    for p in plan.buffers:
        region = target.region(p.region)
        if not region.activations:
            raise PlanVerificationError(f"buffer {_describe(plan, p)} is in a region without the activations role")
        if p.offset < 0 or p.offset % ALIGNMENT or p.offset + p.size > region.capacity:
            raise PlanVerificationError(
                f"buffer {_describe(plan, p)} lies outside {region.name}'s arena of {region.capacity} bytes "
                f"or is not {ALIGNMENT}-byte aligned")
        if p.size < p.tensor.nbytes:
            raise PlanVerificationError(f"buffer {_describe(plan, p)} is smaller than its tensor ({p.tensor.nbytes})")
    for w in plan.weights:
        region = target.region(w.region)
        if not region.weights or w.offset < 0 or w.offset + w.size > region.capacity or w.size < w.tensor.nbytes:
            raise PlanVerificationError(f"weight {_describe(plan, w)} lies outside a weight region's arena")

    if graph is not None:
        for t in graph.tensors():
            if t.alias_of is not None and t.storage_offset + t.nbytes > t.storage.nbytes:
                raise PlanVerificationError(
                    f"alias '{t.name}' ({t.nbytes} bytes at +{t.storage_offset}) runs past its storage "
                    f"'{t.storage.name}' ({t.storage.nbytes} bytes)")
        by_storage = {id(p.tensor): p for p in plan.buffers}
        weight_ids = {id(w.tensor) for w in plan.weights}
        for key, (tensor, first, last) in _needed_intervals(graph).items():
            p = by_storage.get(key)
            if p is None:
                if key in weight_ids:
                    continue
                raise PlanVerificationError(f"tensor '{tensor.name}' is used by the network but has no buffer")
            if p.first_op > first or p.last_op < last:
                raise PlanVerificationError(
                    f"buffer {_describe(plan, p)} is planned live over ops {p.first_op}..{p.last_op} "
                    f"but ops {first}..{last} use it")

    # Pairwise: same region, address ranges intersect, live intervals intersect (closed).
    by_region: dict[str, list] = {}
    for p in plan.buffers:
        by_region.setdefault(p.region, []).append(p)
    for items in by_region.values():
        items.sort(key=lambda p: p.offset)
        for n, a in enumerate(items):
            for b in items[n + 1:]:
                if b.offset >= a.offset + a.size:
                    break
                if a.first_op <= b.last_op and b.first_op <= a.last_op:
                    raise PlanVerificationError(
                        f"buffers {_describe(plan, a)} and {_describe(plan, b)} overlap while both live "
                        f"(ops {max(a.first_op, b.first_op)}..{min(a.last_op, b.last_op)})")
    weights_by_region: dict[str, list] = {}
    for w in plan.weights:
        weights_by_region.setdefault(w.region, []).append(w)
    for items in weights_by_region.values():
        items.sort(key=lambda w: w.offset)
        for a, b in zip(items, items[1:], strict=False):
            if b.offset < a.offset + a.size:
                raise PlanVerificationError(f"weights {_describe(plan, a)} and {_describe(plan, b)} overlap")
