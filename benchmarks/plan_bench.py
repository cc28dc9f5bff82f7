"""Planned activation bytes per model x target against the live-set bound and ST's published figures.

    .venv/bin/python benchmarks/plan_bench.py [--models DIR] [--algorithm improve]

Columns: our activations (sum of the regions' high-water marks), the live-set bound, their ratio, what the
greedy and linear placers alone would need, weights, and ST's figure with our ratio to it
(benchmarks/st_reference.toml; "-" where ST published none). Pairs that do not fit print the PlanError.
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator.errors import PlanError  # noqa: E402
from generator.pipeline import load_graph, lower_graph  # noqa: E402
from generator.planner import plan_memory  # noqa: E402
from generator.targets import TARGETS  # noqa: E402


def st_figures() -> dict[tuple[str, str], dict]:
    data = tomllib.loads((ROOT / "benchmarks" / "st_reference.toml").read_text())
    return {(f["model"], t): f for f in data["figures"] for t in f["targets"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=ROOT.parent / "shared" / "models")
    parser.add_argument("--algorithm", default="improve", choices=("linear", "greedy", "improve"))
    args = parser.parse_args()
    st = st_figures()
    print(f"{'model':<40} {'target':<17} {'activations':>11} {'bound':>9} {'ratio':>6} {'greedy':>9} "
          f"{'linear':>9} {'weights':>9} {'ST act':>9} {'vs ST':>6} {'ms':>5}")
    for path in sorted(args.models.glob("*.tflite")):
        graph = lower_graph(load_graph(path))
        for target in TARGETS.values():
            t0 = time.perf_counter()
            try:
                plan = plan_memory(graph, target, args.algorithm)
            except PlanError as exc:
                print(f"{path.stem:<40} {target.id:<17} does not fit: {str(exc)[:110]}...")
                continue
            ms = 1000 * (time.perf_counter() - t0)
            others = {}
            for name in ("greedy", "linear"):
                try:
                    others[name] = str(plan_memory(graph, target, name).activations_bytes)
                except PlanError:
                    others[name] = "no fit"
            ref = st.get((path.stem, target.id))
            st_bytes = round(ref["activations_kib"] * 1024) if ref else None
            print(f"{path.stem:<40} {target.id:<17} {plan.activations_bytes:>11} {plan.lower_bound_bytes:>9} "
                  f"{plan.activations_bytes / plan.lower_bound_bytes:>6.3f} {others['greedy']:>9} {others['linear']:>9} "
                  f"{plan.weights_bytes:>9} {st_bytes or '-':>9} "
                  f"{(f'{plan.activations_bytes / st_bytes:.3f}' if st_bytes else '-'):>6} {ms:>5.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
