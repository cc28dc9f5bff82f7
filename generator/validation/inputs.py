"""The inputs a validation run feeds the device: image files preprocessed by generator.images (ST's
evaluation: RGB, nearest resize, raw uint8) and seeded random noise."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generator.images import IMAGE_SUFFIXES, InputError, load_image

__all__ = ["IMAGE_SUFFIXES", "InputError", "InputItem", "collect_inputs"]


@dataclass(frozen=True)
class InputItem:
    key: str  # stable name in the JSONL log, what --resume matches on
    load: Callable[[], np.ndarray]  # -> uint8 [H, W, C]


def collect_inputs(images: Sequence[Path], random_n: int, shape: Sequence[int], seed: int = 0) -> list[InputItem]:
    """Files (directories expanded, sorted) then `random_n` seeded uniform-noise inputs of `shape` (NHWC)."""
    if len(shape) != 4 or shape[0] != 1:
        raise InputError(f"model input shape {list(shape)} is not [1, H, W, C]")
    _, h, w, c = (int(v) for v in shape)
    if random_n < 0:
        raise InputError(f"--random {random_n} must be >= 0")
    items: list[InputItem] = []
    for path in images:
        path = Path(path)
        if path.is_dir():
            files = sorted(f for f in path.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise InputError(f"directory '{path}' holds no images ({', '.join(IMAGE_SUFFIXES)})")
        elif path.is_file():
            files = [path]
        else:
            raise InputError(f"image path '{path}' does not exist")
        for f in files:
            if c != 3:
                raise InputError(f"images need a 3-channel input, the model's has {c} channels")
            items.append(InputItem(str(f), lambda f=f: load_image(f, h, w)))
    for i in range(random_n):
        items.append(
            InputItem(
                f"random:{seed + i}",
                lambda i=i: np.random.default_rng(seed + i).integers(0, 256, (h, w, c), dtype=np.uint8),
            )
        )
    if not items:
        raise InputError("no inputs: give --images PATH and/or --random N")
    return items
