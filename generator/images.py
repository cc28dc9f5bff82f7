"""The one image preprocessing of stm32gen, ST's evaluation pipeline: RGB, nearest-neighbour resize to
the model's H x W, raw uint8 pixels (no letterbox, no normalisation: the model's input quantization
does that). `run`, `validate` and the post-processing reference all go through `load_image`, so an
image means the same bytes everywhere."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from generator.errors import Stm32genError

# What PIL reads that makes sense as a camera frame; .pgm (greyscale) is converted to RGB like the rest.
IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".pgm", ".png", ".ppm", ".tif", ".tiff", ".webp")


class InputError(Stm32genError):
    """An input that cannot be fed to the model: missing, not a readable image or .npy, wrong shape
    or dtype, or a bad input count."""


def load_image(path: str | Path, height: int, width: int) -> np.ndarray:
    """uint8 [height, width, 3]: the image converted to RGB, then resized nearest-neighbour."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB").resize((width, height), Image.NEAREST), np.uint8)
    except (OSError, UnidentifiedImageError) as e:
        raise InputError(f"'{path}' is not a readable image ({e})") from None
