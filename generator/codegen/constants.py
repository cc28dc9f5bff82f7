"""Kernel constants live with the weights, not in the firmware's .rodata.

kernel_params derives arrays per operator from the model: effective biases, requantisation
multipliers and shifts (one int32 each per output channel) and softmax tables. For the FPN-lite
detectors that is ~180 KB, more than a board's code-region reserve holds beside the firmware
itself. They are constants like the weights, so they join the plan's weights: appended after the
model's own, in the first weight region with room, 32-byte aligned, and the generated parameter
structs point into the weights blob. The plan (and its hash, and the linker's size checks) then
account for every constant byte the network reads.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from generator.codegen.kernel_params import KernelCall, kernel_calls
from generator.errors import PlanError
from generator.model.ir import Graph, Operator, Tensor
from generator.planner import Plan, RegionUse, WeightPlacement
from generator.planner.lifetimes import ALIGN, align_up

NAME_PREFIX = "stm32gen:"  # kernel constants' tensor names; no TFLite tensor name starts with it
_DTYPES = {"int32_t": np.int32, "float": np.float32}


def is_view(op: Operator) -> bool:
    """RESHAPE whose output shares its input's bytes: nothing to run."""
    return op.type == "RESHAPE" and all(o.alias_of is not None for o in op.outputs)


def operator_calls(graph: Graph) -> Iterator[tuple[int, Operator, list[tuple[str, KernelCall]]]]:
    """(position, operator, [(C name prefix, call)]) for every operator, in execution order."""
    for i, op in enumerate(graph.operators):
        calls = [] if is_view(op) else kernel_calls(op)
        yield i, op, [(f"op{i}" if len(calls) == 1 else f"op{i}_{k}", c) for k, c in enumerate(calls)]


def constant_name(prefix: str, array: str) -> str:
    return f"{NAME_PREFIX}{prefix}_{array}"


def kernel_constants(graph: Graph) -> list[Tensor]:
    """Every array the kernel calls point to, as constant tensors named by `constant_name`."""
    out = []
    for _, _, calls in operator_calls(graph):
        for prefix, call in calls:
            for a in call.arrays:
                data = np.asarray(a.values, dtype=_DTYPES[a.ctype])
                out.append(Tensor(constant_name(prefix, a.name), data.shape, data.dtype, data=data))
    return out


def with_kernel_constants(plan: Plan, graph: Graph) -> Plan:
    """`plan` plus a weight placement for every kernel constant of `graph` (first fit, board order)."""
    uses = {u.name: u for u in plan.regions}
    regions = [r for r in plan.target.weight_regions if r.name in uses]
    used = {r.name: uses[r.name].weights_bytes for r in regions}
    added = []
    for t in kernel_constants(graph):
        for r in regions:
            u = uses[r.name]
            offset = align_up(used[r.name], ALIGN)
            if offset + t.nbytes + u.activations_bytes <= u.capacity:
                added.append(WeightPlacement(t, r.name, offset, t.nbytes))
                used[r.name] = offset + t.nbytes
                break
        else:
            raise PlanError(f"the kernel constants of {graph.name or 'the model'} do not fit beside its weights in "
                            f"{plan.target.id}'s weight regions ({', '.join(r.name for r in regions)})")
    regions_out = [RegionUse(u.name, u.base, u.size, u.arena_base, u.capacity, u.activations_bytes,
                             used.get(u.name, u.weights_bytes)) for u in plan.regions]
    return Plan(plan.target, plan.buffers, regions_out, [*plan.weights, *added], plan.lower_bound_bytes,
                plan.num_ops, plan.algorithm)
