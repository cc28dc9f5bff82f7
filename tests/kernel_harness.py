"""Test helper: the C kernel library as a host shared library, called through ctypes.

`KernelLib.run(call, inputs)` builds the params struct described by a `KernelCall` (the same
description the code generator emits as C), allocates the output, and runs the kernel, so tests
exercise exactly the parameters the generated firmware will use.
"""

from __future__ import annotations

import ctypes
import hashlib
import subprocess
from pathlib import Path

import numpy as np

from generator.codegen.kernel_params import ArrayRef, KernelCall

ROOT = Path(__file__).resolve().parents[1]
KERNELS_DIR = ROOT / "templates" / "kernels"
CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-fPIC", "-shared"]

_SCALARS = {"int32_t": ctypes.c_int32, "float": ctypes.c_float}
_POINTERS = {"const int32_t *": ctypes.c_int32, "const float *": ctypes.c_float}
_NP = {"int32_t": np.int32, "float": np.float32}


def kernel_sources() -> list[Path]:
    return sorted(KERNELS_DIR.glob("*.c"))


def build_library(out_dir: Path, extra_flags: tuple[str, ...] = ()) -> Path:
    """Compile every kernel source into one .so named after a hash of the sources and flags."""
    digest = hashlib.sha256()
    for path in sorted(KERNELS_DIR.glob("*.[ch]")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(" ".join(extra_flags).encode())
    lib = out_dir / f"libsgkernels_{digest.hexdigest()[:16]}.so"
    if not lib.exists():
        cmd = ["gcc", *CFLAGS, *extra_flags, "-o", str(lib), *map(str, kernel_sources())]
        subprocess.run(cmd, check=True, capture_output=True, text=True)
    return lib


class KernelLib:
    def __init__(self, path: Path) -> None:
        self._lib = ctypes.CDLL(str(path))

    def _params(self, call: KernelCall) -> tuple[ctypes.Structure, list[object]]:
        keep: list[object] = []
        fields, values = [], []
        arrays = {a.name: a for a in call.arrays}
        for ctype, name, value in call.params:
            if ctype in _POINTERS:
                assert isinstance(value, ArrayRef)
                arr = arrays[value.name]
                data = np.ascontiguousarray(np.asarray(arr.values, dtype=_NP[arr.ctype]))
                keep.append(data)
                fields.append((name, ctypes.POINTER(_POINTERS[ctype])))
                values.append(data.ctypes.data_as(ctypes.POINTER(_POINTERS[ctype])))
            elif isinstance(value, (tuple, list)):
                ct = _SCALARS[ctype] * len(value)
                fields.append((name, ct))
                values.append(ct(*value))
            else:
                fields.append((name, _SCALARS[ctype]))
                values.append(value)
        struct_type = type(call.params_type, (ctypes.Structure,), {"_fields_": fields})
        return struct_type(*values), keep

    def run(self, call: KernelCall, inputs: list[np.ndarray], out: np.ndarray | None = None) -> np.ndarray:
        """Run `call` on `inputs` (one array per pointer argument before the output)."""
        out_t = call.args[-1]
        if out is None:
            out = np.zeros(out_t.shape, dtype=out_t.dtype)
        params, keep = self._params(call)
        ins = [np.ascontiguousarray(x) for x in inputs]
        fn = getattr(self._lib, call.function)
        fn.restype = None
        fn(ctypes.byref(params), *[x.ctypes.data_as(ctypes.c_void_p) for x in ins], out.ctypes.data_as(ctypes.c_void_p))
        del keep
        return out
