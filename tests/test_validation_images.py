"""One image preprocessing for `run`, `validate` and the post-processing reference (generator.images),
pinned against expectations computed independently of PIL's resize."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generator import images, runner
from generator.postprocess.litert_io import LiteRTModel
from generator.validation import inputs

SHARED = Path(__file__).resolve().parents[2] / "shared"
PHOTO = SHARED / "images" / "messi5.jpg"
MODEL = SHARED / "models" / "ssd_mobilenet_v2_fpnlite_035_192_int8.tflite"
PHOTO_SHA256 = "1d570e49654e84c7a943918537bd9e5e1ef82920152e147c834006e235be97c9"
# sha256 of load_image(PHOTO, 192, 192).tobytes(), computed once when the three copies were merged.
PHOTO_192_SHA256 = "4bb3c81e5e4bde8a9b5fa1139d290268ff5290ec29b403dfad7b5005cd1add2b"


def _pixels(h: int, w: int) -> np.ndarray:
    """Every pixel distinct and recognisable: R = 10*row + col, G = R + 100, B = 255 - R."""
    r = (10 * np.arange(h)[:, None] + np.arange(w)[None, :]).astype(np.uint8)
    return np.stack([r, r + 100, 255 - r], axis=-1)


def test_nearest_resize_picks_the_source_pixel_under_each_output_centre(tmp_path):
    # Output pixel i samples source floor((i + 0.5) * in / out): 4 -> 2 takes 1, 3; 3 -> 2 takes 0, 2.
    src = _pixels(4, 4)
    Image.fromarray(src).save(tmp_path / "a.png")
    got = images.load_image(tmp_path / "a.png", 2, 2)
    assert got.dtype == np.uint8 and got.shape == (2, 2, 3)
    assert got[..., 0].tolist() == [[11, 13], [31, 33]]
    assert np.array_equal(got, src[[1, 3]][:, [1, 3]])

    src = _pixels(3, 4)  # 3 rows, 4 columns -> 2 x 2: rows 0, 2 and columns 1, 3
    Image.fromarray(src).save(tmp_path / "b.png")
    assert images.load_image(tmp_path / "b.png", 2, 2)[..., 0].tolist() == [[1, 3], [21, 23]]


def test_greyscale_and_palette_images_become_rgb(tmp_path):
    grey = np.array([[0, 50], [100, 250]], np.uint8)
    Image.fromarray(grey, "L").save(tmp_path / "g.pgm")
    got = images.load_image(tmp_path / "g.pgm", 2, 2)
    assert got.shape == (2, 2, 3) and all(np.array_equal(got[..., c], grey) for c in range(3))
    # .pgm counts as an image for every entry point: a directory of them, and `run`'s loader.
    assert [it.key for it in inputs.collect_inputs([tmp_path], 0, (1, 2, 2, 3))] == [str(tmp_path / "g.pgm")]
    assert np.array_equal(runner.load_inputs(tmp_path / "g.pgm", (1, 2, 2, 3))[0], got)


def test_run_validate_and_the_reference_feed_the_same_pinned_bytes_for_a_photo():
    assert hashlib.sha256(PHOTO.read_bytes()).hexdigest() == PHOTO_SHA256, "the shared photo changed"
    by_run = runner.load_inputs(PHOTO, (1, 192, 192, 3))[0]
    by_validate = inputs.collect_inputs([PHOTO], 0, (1, 192, 192, 3))[0].load()
    by_reference = LiteRTModel(MODEL).load_image(PHOTO)
    for got in (by_run, by_validate, by_reference):
        assert got.dtype == np.uint8 and got.shape == (192, 192, 3)
        assert hashlib.sha256(got.tobytes()).hexdigest() == PHOTO_192_SHA256


def test_one_suffix_list_and_one_error_class():
    assert runner.IMAGE_SUFFIXES is inputs.IMAGE_SUFFIXES is images.IMAGE_SUFFIXES
    assert runner.InputError is inputs.InputError is images.InputError
    with pytest.raises(images.InputError, match="is not a readable image"):
        inputs.collect_inputs([Path(__file__)], 0, (1, 2, 2, 3))[0].load()
