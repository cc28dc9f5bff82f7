"""Lowering: rewrite the folded graph into the one the generated C implements."""

from __future__ import annotations

from generator.model.ir import Graph

_CONVS = ("CONV_2D", "DEPTHWISE_CONV_2D")


def fold_pad_into_conv(graph: Graph) -> Graph:
    """PAD → VALID convolution becomes one convolution with explicit padding.

    Bit-exact: PAD fills int8 tensors with the zero point, which the convolution's input offset
    maps to 0 — exactly what implicit padding contributes. Only spatial padding of a PAD read by
    nothing but the convolution is folded."""
    consumers = graph.consumers()
    boundary = {id(t) for t in (*graph.inputs, *graph.outputs)}
    removed = set()
    for op in graph.operators:
        if op.type != "PAD" or len(op.inputs) != 2 or not op.inputs[1].is_constant:
            continue
        src, pads, padded = op.inputs[0], op.inputs[1].data, op.outputs[0]
        users = consumers.get(id(padded), [])
        if len(users) != 1 or id(padded) in boundary or src.quant is None or padded.quant is None:
            continue
        conv = users[0]
        if conv.type not in _CONVS or conv.inputs[0] is not padded or conv.options.get("padding") != "VALID":
            continue
        if pads.shape != (4, 2) or pads[0].any() or pads[3].any() or (pads < 0).any():
            continue
        if src.quant.scalar_zero_point != padded.quant.scalar_zero_point or src.quant.scalar_scale != padded.quant.scalar_scale:
            continue
        conv.inputs[0] = src
        conv.options = {**conv.options, "explicit_padding": tuple(int(p) for p in (*pads[1], *pads[2]))}
        removed.add(id(op))
    graph.operators = [op for op in graph.operators if id(op) not in removed]
    return graph


def drop_output_dequantize(graph: Graph) -> Graph:
    """The network's raw outputs are the int8 tensors before the final DEQUANTIZE ops: the
    post-processing consumes int8, and the float view is one multiply away on the host.
    `graph.float_outputs` keeps the model's own outputs in order."""
    producers = graph.producers()
    graph.float_outputs = list(graph.outputs)
    outputs, removed = [], set()
    for t in graph.outputs:
        op = producers.get(id(t))
        if op is not None and op.type == "DEQUANTIZE" and not op.inputs[0].is_constant:
            outputs.append(op.inputs[0])
            removed.add(id(op))
        else:
            outputs.append(t)
    graph.outputs = outputs
    graph.operators = [op for op in graph.operators if id(op) not in removed]
    return graph


def quantize_input_in_place(graph: Graph) -> Graph:
    """The uint8 → int8 QUANTIZE of the model input runs in place: same element count, one byte
    each, element i read before it is written, and the raw input is not needed afterwards."""
    consumers = graph.consumers()
    for t in graph.inputs:
        users = consumers.get(id(t), [])
        if len(users) == 1 and users[0].type == "QUANTIZE":
            out = users[0].outputs[0]
            if out.nbytes == t.nbytes and t not in graph.outputs and out.alias_of is None:
                out.alias_of, out.alias_offset = t, 0
    return graph
