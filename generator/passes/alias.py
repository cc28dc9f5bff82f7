"""Zero-copy aliases: tensors that share the bytes of another tensor instead of owning memory."""

from __future__ import annotations

import numpy as np

from generator.model.ir import Graph, Operator, Tensor


def alias_reshapes(graph: Graph) -> Graph:
    """A RESHAPE of a computed tensor becomes a view of its input: NHWC data in row-major order is
    the same bytes whatever the shape, so the operator costs nothing at run time."""
    for op in graph.operators:
        if op.type == "RESHAPE" and not op.inputs[0].is_constant and op.inputs[0].nbytes == op.outputs[0].nbytes:
            op.outputs[0].alias_of = op.inputs[0]
            op.outputs[0].alias_offset = 0
    return graph


def alias_concat_inputs(graph: Graph) -> Graph:
    """Let each producer of a CONCATENATION input write straight into its slice of the output.

    Legal when the slices are contiguous (every output dimension before the axis is 1, as in the
    detectors' [1, anchors, k] heads), the input has exactly the output's quantization (so the
    concatenation is a plain copy in TFLite too), and the input's bytes are needed nowhere else:
    each tensor on the way from the producer to the concatenation has this single reader and is
    not a graph input or output."""
    consumers = graph.consumers()
    producers = graph.producers()
    boundary = {id(t) for t in (*graph.inputs, *graph.outputs)}
    for op in graph.operators:
        if op.type != "CONCATENATION" or op.outputs[0].is_constant:
            continue
        out = op.outputs[0]
        axis = op.options.get("axis", 0) % len(out.shape)
        if any(d != 1 for d in out.shape[:axis]):
            continue
        offset = 0
        for t in op.inputs:
            if _can_alias(t, out, op, consumers, producers, boundary):
                root = t.storage
                root.alias_of, root.alias_offset = out, offset
            offset += t.nbytes
    return graph


def _can_alias(t: Tensor, out: Tensor, concat: Operator, consumers: dict, producers: dict, boundary: set) -> bool:
    if t.is_constant or t.quant is None or out.quant is None or t.dtype != out.dtype:
        return False
    if not (np.array_equal(t.quant.scale, out.quant.scale) and np.array_equal(t.quant.zero_point, out.quant.zero_point)):
        return False
    chain, cur = [t], t
    while cur.alias_of is not None:
        cur = cur.alias_of
        chain.append(cur)
    if chain[-1].alias_of is not None or id(chain[-1]) not in producers:
        return False
    for link in chain:
        if id(link) in boundary or len(consumers.get(id(link), [])) != 1:
            return False
    # t is read only by the concatenation; every other link only by the RESHAPE that aliases it
    return consumers[id(t)][0] is concat
