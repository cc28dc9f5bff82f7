"""SSD post-processing: anchor table, integer C decode + NMS, and the Python reference decoder."""

from generator.postprocess.codegen import render_postprocess
from generator.postprocess.params import PostprocessError, PostprocessParams
from generator.postprocess.reference import DETECTION_DTYPE, decode, detections_to_array

__all__ = [
    "DETECTION_DTYPE",
    "PostprocessError",
    "PostprocessParams",
    "decode",
    "detections_to_array",
    "render_postprocess",
]
