"""Render the firmware side of the validation protocol for one model.

The server reads tensor signatures, the model SHA-256 and the plan hash from the generated network
at run time (the detection capacity from postprocess.h), so only the target id and which outputs
feed `stm32gen_postprocess` are rendered in.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import jinja2

from generator.errors import CodegenError
from generator.resources import templates_dir
from generator.validation import protocol as p

MAX_OUTPUTS = 8  # keeps the INFO answer (names cut at 63 characters) inside one frame


@dataclass(frozen=True)
class ServerConfig:
    target_id: str
    model_name: str
    num_outputs: int
    scores_output: int | None = None  # None: the network has no SSD head, the server reports 0 detections
    boxes_output: int | None = None

    def validate(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,32}", self.target_id):
            raise CodegenError(f"target id '{self.target_id}' must be 1-32 characters of [A-Za-z0-9_.-]")
        if not 1 <= self.num_outputs <= MAX_OUTPUTS:
            raise CodegenError(
                f"the validation server handles 1-{MAX_OUTPUTS} outputs, the network has {self.num_outputs}"
            )
        heads = (self.scores_output, self.boxes_output)
        if (heads[0] is None) != (heads[1] is None):
            raise CodegenError("scores_output and boxes_output must both be set or both be None")
        for what, i in zip(("scores", "boxes"), heads, strict=True):
            if i is not None and not 0 <= i < self.num_outputs:
                raise CodegenError(f"{what} output index {i} is not in [0, {self.num_outputs})")


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / "validation")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_server(out_dir: str | Path, config: ServerConfig, *, host_port: bool = False) -> list[Path]:
    """Write validation_server.c/.h (and port_host.c when `host_port`) into `out_dir`; return the paths."""
    config.validate()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    has_pp = config.scores_output is not None
    text = (
        _env()
        .get_template("validation_server.c.j2")
        .render(
            model_name=re.sub(r"[^\x20-\x7e]|\*/", "_", config.model_name),
            target_id=config.target_id,
            protocol_version=p.PROTOCOL_VERSION,
            max_payload=p.MAX_PAYLOAD,
            has_postprocess=has_pp,
            scores_output=config.scores_output if has_pp else -1,
            boxes_output=config.boxes_output if has_pp else -1,
        )
    )
    paths = [out / "validation_server.c", out / "validation_server.h"]
    paths[0].write_text(text)
    shutil.copyfile(templates_dir() / "validation" / "validation_server.h", paths[1])
    if host_port:
        paths.append(out / "port_host.c")
        shutil.copyfile(templates_dir() / "validation" / "port_host.c", paths[2])
    return paths


def config_from_graph(graph, target_id: str) -> ServerConfig:
    """ServerConfig for a lowered graph: the SSD head (if recognised) selects the post-processing inputs."""
    from generator.ssd import find_ssd_head

    head = find_ssd_head(graph)
    return ServerConfig(
        target_id=target_id,
        model_name=graph.name or "model",
        num_outputs=len(graph.outputs),
        scores_output=head.scores_index if head else None,
        boxes_output=head.boxes_index if head else None,
    )
