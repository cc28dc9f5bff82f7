"""Buffer lifetimes on the lowered graph.

Interval convention: operators are numbered by their position in `graph.operators` (0..N-1). A buffer
is live over the *closed* interval [first_op, last_op]: from the op that writes it to the last op that
reads it, both included. Two buffers may share bytes only if their intervals are disjoint, so an op's
outputs never overlap its inputs (no in-place kernels are assumed).

- A tensor with `alias_of` owns no memory: its writes and reads count towards its storage tensor
  (a CONCATENATION output is live from the first op writing any of its slices).
- Graph inputs are live from op 0; graph outputs until op N-1, so the caller can read them after a run.
- Constants are weights, not activations. So are tensors computed only from constants or from static
  shapes (SHAPE): a lowered graph has none (load_graph folds them), and if an unfolded graph is given
  their ops are not planned.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.model.ir import Graph, Operator, Tensor

ALIGN = 32  # Cortex-M7 / M55 data cache line: no two buffers share a line, so cache maintenance is safe


def align_up(n: int, align: int = ALIGN) -> int:
    return -(-n // align) * align


@dataclass(frozen=True, slots=True)
class Lifetime:
    """One buffer to place: `size` bytes (already aligned) live over [first_op, last_op]."""

    first_op: int
    last_op: int
    size: int
    tensor: Tensor | None = None  # the storage tensor; None in synthetic tests
    name: str = ""
    uses: int = 1  # ops that read or write it: with size, how much traffic a bank would serve

    def overlaps_in_time(self, other: Lifetime) -> bool:
        return self.first_op <= other.last_op and other.first_op <= self.last_op


def constant_like(graph: Graph) -> set[int]:
    """ids of tensors whose value is known before the run: constants and anything computed only from
    constants (shape arithmetic, TILE of anchors). These are weights, never activations."""
    known = {id(t) for t in graph.tensors() if t.is_constant}
    for op in graph.operators:
        ins = [t for t in op.inputs if t is not None]
        # SHAPE reads only the (static) shape of its input, never its values.
        if op.type == "SHAPE" or (ins and all(id(t.storage) in known or id(t) in known for t in ins)):
            known.update(id(t) for t in op.outputs)
    return known


def planned_ops(graph: Graph) -> list[tuple[int, Operator]]:
    """(index, op) for the operators the network runs (not the ones computing only from constants)."""
    const = constant_like(graph)
    return [(i, op) for i, op in enumerate(graph.operators) if not all(id(t) in const for t in op.outputs)]


def buffer_lifetimes(graph: Graph, align: int = ALIGN) -> list[Lifetime]:
    """One Lifetime per storage tensor that needs activation memory, in first-use order."""
    const = constant_like(graph)
    last_index = max(len(graph.operators) - 1, 0)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    uses: dict[int, set[int]] = {}
    storage: dict[int, Tensor] = {}

    def touch(t: Tensor, i: int) -> None:
        if id(t) in const or id(t.storage) in const:
            return
        s = t.storage
        storage.setdefault(id(s), s)
        first[id(s)] = min(first.get(id(s), i), i)
        last[id(s)] = max(last.get(id(s), i), i)
        uses.setdefault(id(s), set()).add(i)

    for t in graph.inputs:
        touch(t, 0)
    for i, op in planned_ops(graph):
        for t in (*op.inputs, *op.outputs):
            if t is not None:
                touch(t, i)
    for t in graph.outputs:
        touch(t, last_index)

    order = {id(t.storage): n for n, t in reversed(list(enumerate(graph.tensors())))}
    ids = sorted(storage, key=lambda k: (first[k], order.get(k, 0)))
    return [Lifetime(first[k], last[k], align_up(storage[k].nbytes, align), storage[k], storage[k].name, len(uses[k]))
            for k in ids]


def weight_tensors(graph: Graph) -> list[Tensor]:
    """Constant tensors the planned ops read (and constant graph outputs), storage only, first-use order."""
    const = constant_like(graph)
    seen: dict[int, Tensor] = {}
    for _, op in planned_ops(graph):
        for t in op.inputs:
            if t is not None and id(t) in const:
                seen.setdefault(id(t.storage), t.storage)
    for t in graph.outputs:
        if id(t) in const:
            seen.setdefault(id(t.storage), t.storage)
    return list(seen.values())
