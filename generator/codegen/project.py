"""`stm32gen generate`: model + target -> a project directory with its manifest `stm32gen.json`.

The host target gets a native project (templates/projects/host: Makefile + a stdin/stdout runner);
every other target gets the firmware project of generator.firmware.project with the validation
server as its application. The manifest records what later commands (build, run, validate) need so
that they take only the directory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from generator.analysis import op_macs
from generator.codegen.network import NetworkSources, render_network
from generator.errors import CodegenError
from generator.model.ir import Graph, Tensor
from generator.pipeline import load_graph, lower_graph, plan_graph
from generator.planner import Plan
from generator.postprocess.params import PostprocessParams
from generator.resources import templates_dir
from generator.ssd import SsdHead, find_ssd_head
from generator.targets import load_target

log = logging.getLogger("stm32gen")

MANIFEST = "stm32gen.json"
MANIFEST_VERSION = 1
HOST_FILES = ("main.c",)  # copied verbatim from templates/projects/host into src/


@dataclass(frozen=True)
class Generated:
    out_dir: Path
    manifest: dict[str, Any]
    graph: Graph
    plan: Plan


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _quant_dict(t: Tensor) -> dict[str, Any] | None:
    return None if t.quant is None else t.quant.to_dict()


def _output_entries(graph: Graph) -> list[dict[str, Any]]:
    """Per model output: the raw tensor the network produces and the model's own (float) tensor."""
    floats = graph.float_outputs or graph.outputs
    out = []
    for raw, model_t in zip(graph.outputs, floats, strict=True):
        if raw is not model_t and raw.quant is not None and raw.quant.per_channel:
            raise CodegenError(f"output '{model_t.name}' dequantizes per channel; stm32gen outputs are per-tensor")
        out.append({
            "name": model_t.name,
            "shape": [int(d) for d in model_t.shape],
            "dtype": np.dtype(model_t.dtype).name,
            "raw_name": raw.name,
            "raw_dtype": np.dtype(raw.dtype).name,
            "quantization": _quant_dict(raw),
            "dequantize": raw is not model_t,  # the model ends in DEQUANTIZE: output = dequant(raw)
            "constant": raw.is_constant,
        })
    return out


def _postprocess_sources(head: SsdHead, params: PostprocessParams) -> dict[str, bytes]:
    from generator.postprocess.codegen import render_postprocess

    with tempfile.TemporaryDirectory() as work:
        paths = render_postprocess(work, head.anchors.data, head.scores.quant, head.boxes.quant, head.num_classes,
                                   params)
        return {p.name: p.read_bytes() for p in paths}


def _kernel_sources() -> dict[str, bytes]:
    kdir = templates_dir() / "kernels"
    return {p.name: p.read_bytes() for p in sorted(kdir.iterdir()) if p.suffix in (".c", ".h")}


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != data:  # unchanged files keep their mtime: make stays fast
        path.write_bytes(data)


def _server_sources(graph: Graph, target_id: str, host_port: bool) -> dict[str, bytes]:
    from generator.validation.render import config_from_graph, render_server

    with tempfile.TemporaryDirectory() as tmp:
        return {p.name: p.read_bytes() for p in render_server(tmp, config_from_graph(graph, target_id),
                                                              host_port=host_port)}


def _remove_stale(src: Path, keep: set[str]) -> None:
    """Regenerating into an existing project (another model) must not leave old sources the
    Makefile's wildcard would still compile."""
    if not src.is_dir():
        return
    for p in src.rglob("*"):
        if p.is_file() and str(p.relative_to(src)) not in keep:
            p.unlink()


def _host_project(out: Path, sources: dict[str, bytes], pp: dict[str, Any] | None, graph: Graph) -> None:
    hdir = templates_dir() / "projects" / "host"
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(hdir)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    files = dict(sources)
    files["host_config.h"] = env.get_template("host_config.h.j2").render(postprocess=pp).encode()
    for name in HOST_FILES:
        files[name] = (hdir / name).read_bytes()
    server = _server_sources(graph, "host", host_port=True)
    _remove_stale(out / "src", set(files) | {f"server/{n}" for n in server})
    for name, data in sorted(files.items()):
        _write(out / "src" / name, data)
    for name, data in sorted(server.items()):
        _write(out / "src" / "server" / name, data)
    _write(out / "Makefile", (hdir / "Makefile").read_bytes())


def _board_project(out: Path, target, plan: Plan, graph: Graph, sources: dict[str, bytes], layout: str) -> None:
    from generator.firmware.project import render_project

    files = {**sources, **_server_sources(graph, target.id, host_port=False)}
    render_project(out, target, plan, files, layout="board" if layout == "standalone" else layout, app="server")


def generate_project(model: str | Path, target_id: str, out_dir: str | Path,
                     postprocess: PostprocessParams | None = None, layout: str = "standalone") -> Generated:
    """Lower, plan and emit `model` for `target_id` into `out_dir`; write the manifest last.

    `layout="middleware"` (boards only) writes just the portable library — network, anchors,
    post-processing and validation server behind the porting layer — for an existing CubeIDE project."""
    model = Path(model).resolve()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise CodegenError(f"output '{out}' exists and is not a directory")
    target = load_target(target_id)
    if layout not in ("standalone", "middleware"):
        raise CodegenError(f"unknown layout '{layout}'; layouts: standalone, middleware")
    if target.core == "host" and layout != "standalone":
        raise CodegenError("the host target has only the standalone layout; middleware is for board targets")
    graph = lower_graph(load_graph(model))
    outputs = _output_entries(graph)  # checks the outputs before anything is written
    sha = sha256_file(model)
    plan = plan_graph(graph, target)
    log.info("emit network")
    net: NetworkSources = render_network(graph, plan, model.name, sha)
    sources = {**net.files, **_kernel_sources()}
    head = find_ssd_head(graph)
    params = postprocess or PostprocessParams()
    pp = None
    if head is not None:
        sources.update(_postprocess_sources(head, params))
        pp = {"scores_output": head.scores_index, "boxes_output": head.boxes_index,
              "anchors_output": head.anchors_index, "num_classes": head.num_classes,
              "score_threshold": params.score_threshold, "iou_threshold": params.iou_threshold,
              "max_detections": params.max_detections}
    # A previous build (CMake cache, objects) may be for another board or toolchain: start clean,
    # but only now that the model, target and plan have all been accepted.
    shutil.rmtree(out / "build", ignore_errors=True)
    if target.core == "host":
        _host_project(out, sources, pp, graph)
    else:
        _board_project(out, target, plan, graph, sources, layout)
    manifest = {
        "stm32gen_manifest": MANIFEST_VERSION,
        # relative, so the project does not depend on where the checkout lives
        "model": os.path.relpath(model, out.resolve()),
        "model_sha256": sha,
        "target": target.id,
        "plan_hash": net.plan_hash,
        "plan": {"algorithm": plan.algorithm,
                 "regions": [{"name": r.name, "activations_bytes": r.activations_bytes,
                              "weights_bytes": r.weights_bytes} for r in plan.regions]},
        "input": {"name": graph.inputs[0].name, "shape": [int(d) for d in graph.inputs[0].shape],
                  "dtype": np.dtype(graph.inputs[0].dtype).name, "quantization": _quant_dict(graph.inputs[0])},
        "outputs": outputs,
        "postprocess": pp,
        "macs": sum(op_macs(op) for op in graph.operators),
        "files": sorted(net.files),
    }
    _write(out / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return Generated(out, manifest, graph, plan)
