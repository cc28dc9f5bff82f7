"""Graph passes, each `Graph -> Graph`, listed once in the order they run."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from generator.model.ir import Graph
from generator.passes.alias import alias_concat_inputs, alias_reshapes
from generator.passes.check import check_graph
from generator.passes.dce import remove_dead
from generator.passes.fold import fold_constants
from generator.passes.lower import drop_output_dequantize, fold_pad_into_conv, quantize_input_in_place

Pass = Callable[[Graph], Graph]

# What `inspect` shows: constants computed, dead code gone, reshapes free.
PASSES: tuple[Pass, ...] = (fold_constants, remove_dead, alias_reshapes)

# What the generated C implements (runs after PASSES).
LOWERING: tuple[Pass, ...] = (fold_pad_into_conv, drop_output_dequantize, remove_dead, alias_concat_inputs,
                              quantize_input_in_place)


def run_passes(graph: Graph, passes: Sequence[Pass], check: bool = True) -> Graph:
    for p in passes:
        graph = p(graph)
        if check:
            check_graph(graph, after=p.__name__)
    return graph
