"""What `stm32gen validate DIR` needs to know about a generated project: read from DIR/stm32gen.json.

Keys read (written by `stm32gen generate`): "model" (path of the .tflite, absolute or relative to
DIR), "model_sha256", "plan_hash", "target", optional "postprocess" ({score_threshold,
iou_threshold, max_detections}) and "macs".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from generator.codegen.project import sha256_file
from generator.errors import Stm32genError

MANIFEST = "stm32gen.json"


class ProjectError(Stm32genError):
    """The directory is not a generated project, or its manifest points at a missing/changed model."""


@dataclass(frozen=True)
class ProjectInfo:
    dir: Path
    model_path: Path
    model_sha256: str
    plan_hash: str | None = None
    target: str | None = None
    postprocess: dict = field(default_factory=dict)
    macs: int | None = None


def load_project(project_dir: str | Path) -> ProjectInfo:
    d = Path(project_dir)
    manifest = d / MANIFEST
    if not d.is_dir():
        raise ProjectError(f"project directory '{d}' does not exist")
    if not manifest.is_file():
        raise ProjectError(f"'{d}' has no {MANIFEST}: is it a directory written by `stm32gen generate`?")
    try:
        data = json.loads(manifest.read_text())
        model = Path(data["model"])
    except (ValueError, KeyError, TypeError) as e:
        raise ProjectError(f"{manifest} is not a valid project manifest ({e!r})") from None
    model = model if model.is_absolute() else (d / model)
    if not model.is_file():
        raise ProjectError(f"model '{model}' named in {manifest} does not exist")
    sha = sha256_file(model)
    recorded = data.get("model_sha256")
    if recorded and recorded.lower() != sha:
        raise ProjectError(f"model '{model}' has sha256 {sha}, the project was generated from {recorded}")
    return ProjectInfo(
        d, model, sha, data.get("plan_hash"), data.get("target"), data.get("postprocess") or {}, data.get("macs")
    )
