"""Per-layer debugging: where does the generated C first part from LiteRT?

The debug build (-DSTM32GEN_DEBUG_DUMP) writes every tensor right after the operator that produced
it, in execution order. `first_mismatch` runs one input through it and through LiteRT with all
intermediates preserved, and reports the first operator whose output differs, so a failing
bit-exactness test names the layer instead of only the final outputs."""

from __future__ import annotations

import os
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from generator.codegen import litert
from generator.codegen.build import build_host, executable
from generator.errors import Stm32genError
from generator.pipeline import load_graph, lower_graph


@dataclass(frozen=True)
class Dump:
    op: int  # position in the lowered graph's operator list
    name: str
    data: bytes


class Mismatch(NamedTuple):
    """(op index, op type, tensor name, max abs diff, count): unpacks like a tuple, prints a sentence."""

    op_index: int  # position in the lowered graph (the `#N` comments of network.c)
    op_type: str
    tensor: str
    max_abs_diff: int  # in quantized units (-1 for float tensors and size mismatches)
    count: int  # differing elements

    def __str__(self) -> str:
        return (f"first mismatch at op #{self.op_index} {self.op_type}, tensor '{self.tensor}': "
                f"{self.count} elements differ, max |diff| {self.max_abs_diff}")


def parse_dumps(data: bytes) -> list[Dump]:
    """Records of the dump file: int32 op, uint32 name length, name, uint32 bytes, data."""
    out, pos = [], 0
    while pos < len(data):
        if pos + 8 > len(data):
            raise Stm32genError(f"truncated tensor dump at byte {pos}")
        op, nlen = struct.unpack_from("<iI", data, pos)
        pos += 8
        name = data[pos:pos + nlen].decode("utf-8", errors="replace")
        pos += nlen
        (size,) = struct.unpack_from("<I", data, pos)
        pos += 4
        out.append(Dump(op, name, data[pos:pos + size]))
        pos += size
    return out


def dump_tensors(project_dir: str | Path, image: np.ndarray) -> list[Dump]:
    """Build the debug variant if needed and run one input through it; return every dumped tensor."""
    build_host(project_dir, "debug")
    exe = executable(project_dir, "debug")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dump.bin"
        env = {**os.environ, "STM32GEN_DUMP_FILE": str(path)}
        proc = subprocess.run([str(exe)], input=np.ascontiguousarray(image, np.uint8).tobytes(), env=env,
                              capture_output=True, timeout=600, check=False)
        if proc.returncode != 0:
            raise Stm32genError(f"debug run of '{exe}' failed ({proc.returncode}): {proc.stderr.decode(errors='replace')}")
        return parse_dumps(path.read_bytes())


def first_mismatch(project_dir: str | Path, model: str | Path, image: np.ndarray) -> Mismatch | None:
    """The first operator (execution order) whose output differs from LiteRT's, or None if all match."""
    graph = lower_graph(load_graph(model))
    dumps = dump_tensors(project_dir, image)
    interp = litert.interpreter(model)
    litert.run(interp, image)
    for d in dumps:
        op = graph.operators[d.op]
        tensor = next((t for t in op.outputs if t.name == d.name), None)
        if tensor is None or tensor.index < 0:
            continue
        ref = litert.tensor(interp, tensor.index)
        if ref is None:
            continue
        ours = np.frombuffer(d.data, dtype=ref.dtype)
        ref = ref.reshape(-1)
        if ours.size != ref.size:
            return Mismatch(d.op, op.type, d.name, -1, abs(ours.size - ref.size))
        diff = ours.astype(np.int64) - ref.astype(np.int64) if ref.dtype.kind in "iu" else None
        if diff is None:  # float tensors: compare bits, report the element count
            bad = ours.view(np.uint8) != ref.view(np.uint8)
            if bad.any():
                return Mismatch(d.op, op.type, d.name, -1, int(bad.sum()))
            continue
        if diff.any():
            return Mismatch(d.op, op.type, d.name, int(np.abs(diff).max()), int(np.count_nonzero(diff)))
    return None
