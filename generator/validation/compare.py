"""Device results against the reference: bit-exactness per output, detections exact and float-matched."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Q15_ONE = 32768.0


def compare_output(name: str, device: bytes, expected: np.ndarray) -> dict:
    """Raw int8/uint8 bytes against the reference tensor: match, max |diff|, first mismatching index."""
    exp = np.ascontiguousarray(expected).reshape(-1)
    dev = np.frombuffer(device, exp.dtype)
    if dev.size != exp.size:
        return {
            "name": name,
            "match": False,
            "max_abs_diff": None,
            "first_mismatch": 0,
            "mismatches": None,
            "error": f"device sent {dev.size} elements, reference has {exp.size}",
        }
    if exp.dtype.kind == "f":
        # Bit-exact means the same bit patterns (so -0.0 != 0.0 and NaN == NaN); the size is a float.
        as_bits = f"u{exp.dtype.itemsize}"
        bad = np.flatnonzero(dev.view(as_bits) != exp.view(as_bits))
        diff = np.abs(dev.astype(np.float64) - exp.astype(np.float64))
        max_diff = float(np.nanmax(diff)) if diff.size else 0.0
    else:
        diff = np.abs(dev.astype(np.int32) - exp.astype(np.int32))
        bad = np.flatnonzero(diff)
        max_diff = int(diff.max()) if diff.size else 0
    return {
        "name": name,
        "match": bad.size == 0,
        "max_abs_diff": max_diff,
        "first_mismatch": int(bad[0]) if bad.size else None,
        "mismatches": int(bad.size),
    }


def detections_exact(device: Sequence[Sequence[int]], fixed: Sequence[Sequence[int]]) -> dict:
    dev = [tuple(int(v) for v in r) for r in device]
    ref = [tuple(int(v) for v in r) for r in fixed]
    first = next((i for i, (a, b) in enumerate(zip(dev, ref, strict=False)) if a != b), None)
    if first is None and len(dev) != len(ref):
        first = min(len(dev), len(ref))
    return {"exact": dev == ref, "device": len(dev), "fixed": len(ref), "first_difference": first}


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1]) + max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def float_match_rate(device: Sequence[Sequence[int]], float_ref: np.ndarray, iou: float = 0.5) -> float:
    """Share of detections that pair up between the device (Q15 records) and the float decoder.

    Greedy one-to-one pairing in the float reference's order: same class and IoU >= `iou`. The rate is
    pairs / max(len(device), len(float)), so both misses and extra boxes lower it; 1.0 when both are empty.
    """
    ref = np.asarray(float_ref, np.float64).reshape(-1, 6)
    dev = np.array(
        [[r[0], r[1], r[2] / Q15_ONE, r[3] / Q15_ONE, r[4] / Q15_ONE, r[5] / Q15_ONE] for r in device], np.float64
    ).reshape(-1, 6)
    if len(ref) == 0 and len(dev) == 0:
        return 1.0
    used = np.zeros(len(dev), bool)
    pairs = 0
    for r in ref:
        for j, d in enumerate(dev):
            if not used[j] and int(d[0]) == int(r[0]) and _iou(d[2:], r[2:]) >= iou:
                used[j] = True
                pairs += 1
                break
    return pairs / max(len(ref), len(dev))
