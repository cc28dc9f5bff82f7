"""Plan reports: a dict for --json, a per-region table and a text picture. (The canonical plan JSON and
its hash for the firmware live in generator/codegen/plan_hash.py.)

The picture has one row per op and one column per slice of address space; each live buffer shows as
its letter, so reuse and fragmentation are visible at a glance (after TFLite Micro's PrintMemoryPlan).
"""

from __future__ import annotations

import string
from typing import Any

from generator.planner.plan import Plan

LETTERS = string.ascii_uppercase + string.ascii_lowercase + string.digits


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "target": plan.target.id,
        "fits": plan.fits,
        "algorithm": plan.algorithm,
        "activations_bytes": plan.activations_bytes,
        "lower_bound_bytes": plan.lower_bound_bytes,
        "weights_bytes": plan.weights_bytes,
        "regions": [
            {"name": r.name, "base": r.base, "size": r.size, "arena_base": r.arena_base, "capacity": r.capacity,
             "activations_bytes": r.activations_bytes, "weights_bytes": r.weights_bytes}
            for r in plan.regions
        ],
        "buffers": [
            {"tensor": p.tensor.name, "region": p.region, "offset": p.offset, "size": p.size,
             "first_op": p.first_op, "last_op": p.last_op}
            for p in plan.buffers
        ],
        "weights": [{"tensor": w.tensor.name, "region": w.region, "offset": w.offset, "size": w.size}
                    for w in plan.weights],
    }


def overhead_pct(plan: Plan) -> float:
    bound = plan.lower_bound_bytes
    return 0.0 if bound == 0 else 100.0 * (plan.activations_bytes - bound) / bound


def render_table(plan: Plan) -> str:
    rows = [f"target {plan.target.id} ({plan.target.name}), algorithm {plan.algorithm}",
            f"{'region':<10} {'base':>10} {'arena':>10} {'capacity':>10} {'activations':>11} {'weights':>10} {'used':>6}"]
    for r in plan.regions:
        used = r.activations_bytes + r.weights_bytes
        rows.append(f"{r.name:<10} {r.base:#010x} {r.arena_base:#010x} {r.capacity:>10} {r.activations_bytes:>11} "
                    f"{r.weights_bytes:>10} {100 * used / r.capacity:>5.1f}%")
    rows.append(f"activations {plan.activations_bytes} bytes, live-set bound {plan.lower_bound_bytes} bytes "
                f"(overhead {overhead_pct(plan):.2f}%), weights {plan.weights_bytes} bytes, "
                f"{len(plan.buffers)} buffers over {plan.num_ops} ops")
    return "\n".join(rows)


def render_picture(plan: Plan, width: int = 96) -> str:
    """One row per op; each region in use gets columns in proportion to its high-water mark."""
    used = [r for r in plan.regions if r.activations_bytes]
    if not used:
        return "(no activation buffers)"
    total = sum(r.activations_bytes for r in used)
    cols = {r.name: max(4, round(width * r.activations_bytes / total)) for r in used}
    letter = {id(p): LETTERS[n % len(LETTERS)] for n, p in enumerate(plan.buffers)}
    header = "op   " + "|".join(r.name[: cols[r.name]].ljust(cols[r.name]) for r in used)
    lines = [header]
    for op in range(plan.num_ops):
        lanes = []
        for r in used:
            n = cols[r.name]
            cells = ["."] * n
            for p in plan.buffers:
                if p.region == r.name and p.first_op <= op <= p.last_op:
                    lo = p.offset * n // r.activations_bytes
                    hi = max(lo + 1, -(-(p.offset + p.size) * n // r.activations_bytes))
                    for c in range(lo, min(hi, n)):
                        cells[c] = letter[id(p)]
            lanes.append("".join(cells))
        lines.append(f"{op:<4} " + "|".join(lanes))
    legend = [f"  {letter[id(p)]} {p.tensor.name[:70]} ({p.size} B, {p.region}+{p.offset}, ops {p.first_op}..{p.last_op})"
              for p in plan.buffers]
    return "\n".join([*lines, "legend (letters repeat after 62 buffers):", *legend])


def render_text(plan: Plan) -> str:
    return render_table(plan) + "\n\n" + render_picture(plan)
