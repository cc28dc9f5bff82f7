"""Build the generated post-processing C for the host and call it (tests, benchmarks, `run`).

The shared library is linked with -Bsymbolic so that several of them (one per model/parameter set,
all exporting the same names) can be loaded side by side in one process.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np

from generator.errors import BuildError, ToolMissingError
from generator.postprocess.reference import DETECTION_DTYPE

HOST_CFLAGS = ("-std=c99", "-Wall", "-Wextra", "-Werror", "-O2")


def compile_host_library(src_dir: str | Path, out_path: str | Path, cc: str = "gcc") -> Path:
    """Compile postprocess.c + anchors.c from src_dir into a shared library with the strict flags."""
    if shutil.which(cc) is None:
        raise ToolMissingError(f"host C compiler '{cc}' is not installed")
    src = Path(src_dir)
    cmd = [
        cc,
        *HOST_CFLAGS,
        "-fPIC",
        "-shared",
        "-Wl,-Bsymbolic",
        "-o",
        str(out_path),
        str(src / "postprocess.c"),
        str(src / "anchors.c"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BuildError(f"host build of {src} failed: {proc.stderr.strip()}")
    return Path(out_path)


class HostPostprocess:
    """ctypes binding of one compiled stm32gen_postprocess."""

    def __init__(self, library: str | Path) -> None:
        self._lib = ctypes.CDLL(str(library))
        self._fn = self._lib.stm32gen_postprocess
        self._fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
        self._fn.restype = ctypes.c_int

    def __call__(self, scores: np.ndarray, boxes: np.ndarray, max_out: int) -> np.ndarray:
        s = np.ascontiguousarray(scores, np.int8)
        b = np.ascontiguousarray(boxes, np.int8)
        out = np.zeros(max(max_out, 0), DETECTION_DTYPE)
        n = self._fn(s.ctypes.data, b.ctypes.data, out.ctypes.data if out.size else None, max_out)
        return out[:n].copy()
