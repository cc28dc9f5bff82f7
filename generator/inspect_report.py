"""`stm32gen inspect`: what a model is, before and after folding, as a dict and as rich tables."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from generator.analysis import layers, tensor_summary, weights_bytes
from generator.model.reader import read_model
from generator.passes import PASSES, run_passes
from generator.ssd import find_ssd_head
from generator.support import check_support


def inspect_model(path: str | Path) -> dict:
    """The `inspect --json` document (keys documented in README.md)."""
    graph = read_model(path)
    before = graph.op_histogram()
    graph = run_passes(graph, PASSES)
    check_support(graph)
    head = find_ssd_head(graph)
    per_layer = layers(graph)
    return {
        "model": str(path),
        "inputs": [tensor_summary(t) for t in graph.inputs],
        "outputs": [tensor_summary(t) for t in graph.outputs],
        "ops_before": before,
        "ops_after": graph.op_histogram(),
        "macs": sum(layer.macs for layer in per_layer),
        "weights_bytes": weights_bytes(graph),
        "ssd": head.to_dict() if head else None,
        "layers": [
            {"index": la.index, "op": la.op, "output_shape": list(la.output_shape), "macs": la.macs,
             "weight_bytes": la.weight_bytes}
            for la in per_layer
        ],
    }


def render_inspect(report: dict, console: Console) -> None:
    io = Table(title=f"Model {report['model']}", title_justify="left")
    for col in ("", "name", "shape", "dtype", "scale", "zero point"):
        io.add_column(col)
    for kind in ("inputs", "outputs"):
        for t in report[kind]:
            io.add_row(kind[:-1], t["name"], str(t["shape"]), t["dtype"], _fmt(t["scale"]), _fmt(t["zero_point"]))
    console.print(io)

    ops = Table(title="Operators before → after folding", title_justify="left")
    ops.add_column("op")
    ops.add_column("before", justify="right")
    ops.add_column("after", justify="right")
    for name in sorted(set(report["ops_before"]) | set(report["ops_after"])):
        ops.add_row(name, str(report["ops_before"].get(name, 0)), str(report["ops_after"].get(name, 0)))
    console.print(ops)

    per = Table(title="Layers", title_justify="left")
    for col, just in (("#", "right"), ("op", "left"), ("output shape", "left"), ("MACs", "right"), ("weights B", "right")):
        per.add_column(col, justify=just)
    for la in report["layers"]:
        per.add_row(str(la["index"]), la["op"], str(la["output_shape"]), f"{la['macs']:,}", f"{la['weight_bytes']:,}")
    console.print(per)

    console.print(f"MACs: {report['macs']:,} ({report['macs'] / 1e6:.1f} M)   weights: {report['weights_bytes']:,} bytes")
    ssd = report["ssd"]
    if ssd:
        console.print(f"SSD head: {ssd['anchors']} anchors, {ssd['classes']} class(es) + background; anchors from {ssd['anchor_source']}")
    else:
        console.print("SSD head: none")


def _fmt(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, list):
        return f"per-channel ({len(v)})"
    return f"{v:.6g}" if isinstance(v, float) else str(v)
