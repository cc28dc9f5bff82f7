"""A canonical JSON form of a memory plan and its short hash (`stm32gen_plan_hash`).

Two generations of the same model for the same target give the same JSON, so the hash tells a
device's firmware apart from a stale build: it changes whenever any buffer or weight moves."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from generator.planner import Plan


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "target": plan.target.id,
        "algorithm": plan.algorithm,
        "regions": [
            {"name": r.name, "arena_base": r.arena_base, "activations_bytes": r.activations_bytes,
             "weights_bytes": r.weights_bytes}
            for r in plan.regions
        ],
        "buffers": [
            {"tensor": p.tensor.name, "region": p.region, "offset": p.offset, "size": p.size,
             "first_op": p.first_op, "last_op": p.last_op}
            for p in plan.buffers
        ],
        "weights": [
            {"tensor": w.tensor.name, "region": w.region, "offset": w.offset, "size": w.size}
            for w in plan.weights
        ],
    }


def plan_json(plan: Plan) -> str:
    return json.dumps(plan_to_dict(plan), sort_keys=True, separators=(",", ":"))


def plan_hash(plan: Plan) -> str:
    """Hex of the first 8 bytes of SHA-256 of the plan JSON (16 characters)."""
    return hashlib.sha256(plan_json(plan).encode()).hexdigest()[:16]
