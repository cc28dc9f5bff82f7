"""Dead-code elimination."""

from __future__ import annotations

from generator.model.ir import Graph


def remove_dead(graph: Graph) -> Graph:
    """Drop operators none of whose outputs reach a graph output.

    Safe because TFLite operators have no side effects (stateful ops such as VAR_HANDLE are refused
    by the support rules before code generation)."""
    needed = {id(t) for t in graph.outputs}
    kept = []
    for op in reversed(graph.operators):
        if any(id(t) in needed for t in op.outputs):
            kept.append(op)
            needed.update(id(t) for t in op.inputs if t is not None)
    graph.operators = kept[::-1]
    return graph
