"""Same inputs → byte-identical generated projects, across processes and hash seeds."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ST_SSD_V1_192


def _generate(out, seed: str) -> dict[str, bytes]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    subprocess.run([sys.executable, "-m", "generator", "generate", str(ST_SSD_V1_192), "-t", "stm32h747i-disco",
                    "--out", str(out)], check=True, capture_output=True, env=env, timeout=300)
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_generated_project_is_byte_identical_across_hash_seeds(tmp_path) -> None:
    first = _generate(tmp_path / "a", "1")
    second = _generate(tmp_path / "b", "2")
    assert first.keys() == second.keys()
    differing = [name for name in first if first[name] != second[name]]
    assert not differing, differing
