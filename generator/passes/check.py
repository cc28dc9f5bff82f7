"""Graph invariants, checked between passes with a real exception."""

from __future__ import annotations

from generator.errors import GraphInvariantError
from generator.model.ir import Graph


def check_graph(graph: Graph, after: str = "") -> None:
    """Raise GraphInvariantError unless: every operator input is a constant, a graph input or the
    output of an earlier operator; every tensor is written at most once; every graph output is
    computed or constant; alias chains end (no cycles) and stay inside their storage."""
    where = f" after pass '{after}'" if after else ""
    available = {id(t) for t in graph.inputs}
    written: set[int] = set()
    for op in graph.operators:
        for t in op.inputs:
            if t is not None and not t.is_constant and id(t) not in available:
                raise GraphInvariantError(f"{op!r} reads '{t.name}' before anything writes it{where}")
        for t in op.outputs:
            if id(t) in written:
                raise GraphInvariantError(f"'{t.name}' is written twice{where}")
            if t.is_constant:
                raise GraphInvariantError(f"{op!r} writes constant '{t.name}'{where}")
            written.add(id(t))
            available.add(id(t))
    for t in graph.outputs:
        if not t.is_constant and id(t) not in available:
            raise GraphInvariantError(f"graph output '{t.name}' is never computed{where}")
    for t in graph.tensors():
        seen, cur = set(), t
        while cur.alias_of is not None:
            if id(cur) in seen:
                raise GraphInvariantError(f"alias cycle through '{t.name}'{where}")
            seen.add(id(cur))
            cur = cur.alias_of
        if t.alias_of is not None and t.storage_offset + t.nbytes > t.storage.nbytes:
            raise GraphInvariantError(f"alias '{t.name}' runs past its storage '{t.storage.name}'{where}")
