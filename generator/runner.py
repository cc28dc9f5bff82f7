"""`stm32gen run`: feed inputs to a built host project and return the model's outputs.

The host executable (templates/projects/host/main.c) is a filter: raw uint8 inputs on stdin, for
each the raw output bytes (then the detection records) on stdout, so a whole batch costs one
process. Raw int8 outputs become the model's float32 outputs here, with LiteRT's own DEQUANTIZE
arithmetic (generator.numerics), so they compare bit for bit with the .tflite.
"""

from __future__ import annotations

import json
import struct
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from generator.codegen.build import executable
from generator.codegen.project import MANIFEST
from generator.errors import Stm32genError
from generator.images import IMAGE_SUFFIXES, InputError, load_image
from generator.numerics import dequantize


class RunError(Stm32genError):
    """The project's executable failed or answered with the wrong number of bytes."""


def read_manifest(project_dir: str | Path) -> dict[str, Any]:
    path = Path(project_dir) / MANIFEST
    if not path.is_file():
        raise RunError(f"'{project_dir}' has no {MANIFEST}: is it a directory written by `stm32gen generate`?")
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise RunError(f"{path} is not valid JSON ({exc})") from None
    missing = [k for k in ("target", "input", "outputs") if not isinstance(data, dict) or k not in data]
    if missing:
        raise RunError(f"{path} lacks {', '.join(missing)}; regenerate the project with `stm32gen generate`")
    return data


def item_shape(shape: Sequence[int]) -> tuple[int, ...]:
    """One batch item: the input shape without its leading batch dimension of 1 (if it has one)."""
    shape = tuple(int(d) for d in shape)
    return shape[1:] if len(shape) > 1 and shape[0] == 1 else shape


def load_inputs(path: str | Path, shape: Sequence[int], dtype: str = "uint8") -> np.ndarray:
    """An N x H x W x C batch from a .npy (the model's dtype, HWC or NHWC; for other ranks the input
    shape with or without its batch dimension) or an image (RGB, nearest resize; uint8 models)."""
    path = Path(path)
    shape = tuple(int(d) for d in shape)
    item = item_shape(shape)
    if not path.is_file():
        raise InputError(f"input file '{path}' does not exist")
    if path.suffix.lower() == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise InputError(f"input '{path}' is not a readable .npy file ({exc})") from None
        if arr.dtype != np.dtype(dtype):
            raise InputError(f"input '{path}' has dtype {arr.dtype}; the model takes {dtype}")
        if arr.ndim == len(item):
            arr = arr[None]
        if arr.ndim != len(item) + 1 or tuple(arr.shape[1:]) != item:
            dims = ", ".join(map(str, item))
            raise InputError(f"input '{path}' has shape {list(arr.shape)}; the model takes [{dims}] or [N, {dims}]")
        return np.ascontiguousarray(arr)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise InputError(f"input '{path}' is neither .npy nor an image ({', '.join(IMAGE_SUFFIXES)})")
    if len(shape) != 4 or shape[3] != 3 or dtype != "uint8":
        raise InputError(f"images give uint8 RGB pixels but the model takes {dtype} {list(shape)}; use a .npy input")
    return load_image(path, shape[1], shape[2])[None].copy()


def _take(buf: bytes, pos: int, n: int) -> tuple[bytes, int]:
    if pos + n > len(buf):
        raise RunError(f"the executable answered {len(buf)} bytes, fewer than the outputs need")
    return buf[pos:pos + n], pos + n


def _model_output(raw: bytes, entry: dict[str, Any]) -> np.ndarray:
    """One model output from its raw bytes: dequantized like TFLite's kernel when the model does."""
    arr = np.frombuffer(raw, dtype=np.dtype(entry["raw_dtype"]).newbyteorder("<")).reshape(entry["shape"])
    if entry["dequantize"]:
        q = entry["quantization"]
        return dequantize(arr, q["scale"], q["zero_point"])
    return arr.astype(np.dtype(entry["dtype"]))


def parse_results(data: bytes, manifest: dict[str, Any], count: int, raw: bool = False) -> list[dict[str, np.ndarray]]:
    """Split the executable's stdout into per-input results: output_0..output_{n-1} (model dtypes, or
    the raw network tensors with `raw`), plus `detections` (N x 6) and `detection_records`."""
    outs = manifest["outputs"]
    pp = manifest.get("postprocess")
    results, pos = [], 0
    for _ in range(count):
        res: dict[str, np.ndarray] = {}
        for i, entry in enumerate(outs):
            n = int(np.prod(entry["shape"])) * np.dtype(entry["raw_dtype"]).itemsize
            chunk, pos = _take(data, pos, n)
            res[f"output_{i}"] = (np.frombuffer(chunk, np.dtype(entry["raw_dtype"])).reshape(entry["shape"]).copy()
                                  if raw else _model_output(chunk, entry))
        if pp is not None:
            from generator.postprocess.reference import detections_to_array, records_from_bytes

            head, pos = _take(data, pos, 4)
            n = int.from_bytes(head, "little")
            recs, pos = _take(data, pos, 12 * n)
            records = records_from_bytes(recs)
            sq = outs[pp["scores_output"]]["quantization"]
            res["detections"] = detections_to_array(records, (sq["scale"], sq["zero_point"]))
            res["detection_records"] = records
        results.append(res)
    if pos != len(data):
        raise RunError(f"the executable answered {len(data) - pos} bytes more than {count} results")
    return results


def run_batch(project_dir: str | Path, inputs: np.ndarray, variant: str = "release", raw: bool = False,
              env: dict[str, str] | None = None, timeout: float = 600) -> list[dict[str, np.ndarray]]:
    """Run every item of the batch (N x the model's input shape) through the built executable, in one process."""
    manifest = read_manifest(project_dir)
    if manifest.get("target") != "host":
        raise RunError(f"'{project_dir}' targets {manifest.get('target')}: run it with --emulate (QEMU "
                       "targets) or --device URL (a board)")
    exe = executable(project_dir, variant)
    if not exe.is_file():
        raise RunError(f"'{exe}' does not exist: run `stm32gen build {project_dir}` first")
    item, dtype = item_shape(manifest["input"]["shape"]), np.dtype(manifest["input"]["dtype"])
    batch = np.asarray(inputs)
    if batch.dtype != dtype or batch.shape[1:] != item:
        raise InputError(f"inputs are {batch.dtype} {list(batch.shape)}; the model takes {dtype.name} "
                         f"[N, {', '.join(map(str, item))}]")
    batch = np.ascontiguousarray(batch)
    try:
        proc = subprocess.run([str(exe)], input=batch.tobytes(), capture_output=True, timeout=timeout, env=env,
                              check=False)
    except subprocess.TimeoutExpired:
        raise RunError(f"'{exe}' did not finish {len(batch)} inputs within {timeout:g} s") from None
    if proc.returncode != 0:
        raise RunError(f"'{exe}' exited with status {proc.returncode}: {proc.stderr.decode(errors='replace').strip()}")
    return parse_results(proc.stdout, manifest, len(batch), raw=raw)


def run_on_device(project_dir: str | Path, item: np.ndarray, device: str | None = None,
                  emulate: bool = False) -> dict[str, np.ndarray]:
    """One input through the project's firmware over the serial protocol — on a board (`device`, a
    pyserial URL), in QEMU or as the host server (`emulate`) — with the counter it reports
    (`instructions` under QEMU, `cycles` on silicon, `nanoseconds` on the host)."""
    from generator.validation.command import device_url
    from generator.validation.link import Link
    from generator.validation.project import load_project
    from generator.validation.runner import Expectations, infer

    manifest = read_manifest(project_dir)
    project = load_project(project_dir)
    expect = Expectations(project.model_sha256, project.plan_hash)
    with device_url(project, device, emulate) as url, Link(url) as link:
        link.handshake(expect.model_sha256, expect.plan_hash)
        res = infer(link, np.ascontiguousarray(item).tobytes(), expect)
    data = b"".join(res.outputs)
    if manifest.get("postprocess") is not None:
        data += len(res.detections).to_bytes(4, "little")
        data += b"".join(struct.pack("<Hhhhhh", *d) for d in res.detections)
    result = parse_results(data, manifest, 1)[0]
    result[res.counter_kind] = np.int64(res.counter)
    return result


def run_file(project_dir: str | Path, input_path: str | Path, out_path: str | Path, device: str | None = None,
             emulate: bool = False) -> dict[str, np.ndarray]:
    """`stm32gen run DIR --input FILE --out OUT.npz`: one input, its outputs in model order — by the
    host executable, or over the serial protocol with `--device`/`--emulate`."""
    manifest = read_manifest(project_dir)
    batch = load_inputs(input_path, manifest["input"]["shape"], manifest["input"]["dtype"])
    if len(batch) != 1:
        raise InputError(f"input '{input_path}' holds {len(batch)} inputs; `run` takes one (batch dimension 1)")
    if device is not None or emulate:
        result = run_on_device(project_dir, batch[0], device, emulate)
    else:
        result = run_batch(project_dir, batch)[0]
    result.pop("detection_records", None)
    np.savez(out_path, **result)  # the caller names the file: out_path ends in .npz (see cli.run)
    return result
