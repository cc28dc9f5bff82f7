"""Mutated real models must give a typed stm32gen error or a graph — never another exception."""

from __future__ import annotations

import os

import numpy as np
import pytest

from conftest import ST_SSD_V1_192
from generator.errors import GraphInvariantError, Stm32genError
from generator.model.reader import read_model_bytes
from generator.passes import LOWERING, PASSES, run_passes
from generator.ssd import find_ssd_head
from generator.support import check_support

CASES = int(os.environ.get("STM32GEN_FUZZ_CASES", "2400"))
SHARDS = 8


def _mutate(data: bytes, rng: np.random.Generator) -> bytes:
    buf = bytearray(data)
    kind = rng.integers(0, 10)
    if kind == 0:  # truncation
        return bytes(buf[: int(rng.integers(0, len(buf)))])
    # Most of the file is weight bytes where any value is valid; aim half the mutations at the
    # flatbuffer tables at both ends, where offsets and vector lengths live.
    for _ in range(int(rng.integers(1, 9))):
        if rng.random() < 0.5:
            pos = int(rng.integers(0, 8192)) if rng.random() < 0.5 else len(buf) - 1 - int(rng.integers(0, 65536))
        else:
            pos = int(rng.integers(0, len(buf)))
        buf[pos] = int(rng.integers(0, 256)) if kind < 7 else buf[pos] ^ (1 << int(rng.integers(0, 8)))
    return bytes(buf)


@pytest.mark.parametrize("shard", range(SHARDS))
def test_mutated_model_gives_typed_error_or_graph(shard: int) -> None:
    original = ST_SSD_V1_192.read_bytes()
    rng = np.random.default_rng(1000 + shard)
    outcomes = {"ok": 0, "error": 0}
    for case in range(CASES // SHARDS):
        data = _mutate(original, rng)
        try:
            graph = run_passes(read_model_bytes(data, source="fuzz"), PASSES)
            check_support(graph)
            find_ssd_head(graph)
            run_passes(graph, LOWERING)
            outcomes["ok"] += 1
        except GraphInvariantError as exc:
            pytest.fail(f"shard {shard} case {case}: a pass broke the graph (a bug, not bad input): {exc}")
        except Stm32genError as exc:
            assert str(exc) and "\n" not in str(exc)
            outcomes["error"] += 1
        except Exception as exc:
            pytest.fail(f"shard {shard} case {case}: {type(exc).__name__}: {exc}")
    assert outcomes["error"] > CASES // SHARDS // 10, outcomes  # the mutations really reach the structure
