"""Milliseconds per inference: the generated C (host build, -O2, one thread) vs LiteRT's built-in
kernels (num_threads=1, no XNNPACK) on the same model and the same input.

    .venv/bin/python benchmarks/host_bench.py [MODEL ...] [--runs 20] [--image PATH]

Each model is generated and built into a temporary directory. The C side times N back-to-back runs
inside the executable (`stm32gen_host --bench N`, after one warm-up run); LiteRT times N invokes
after one warm-up. Ratio = C / LiteRT (below 1 means the generated C is faster).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from generator.codegen.build import build_host  # noqa: E402
from generator.codegen.project import generate_project  # noqa: E402
from generator.errors import Stm32genError  # noqa: E402
from generator.runner import load_inputs  # noqa: E402

MODELS = ROOT.parent / "shared" / "models"
IMAGE = ROOT.parent / "shared" / "images" / "messi5.jpg"


def litert_ms(model: Path, image: np.ndarray, runs: int) -> float:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(model_path=str(model), num_threads=1,
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], image)
    interp.invoke()
    start = time.perf_counter()
    for _ in range(runs):
        interp.invoke()
    return (time.perf_counter() - start) * 1e3 / runs


def generated_ms(model: Path, image: np.ndarray, runs: int, work: Path) -> float:
    out = work / model.stem
    generate_project(model, "host", out)
    exe = build_host(out)
    proc = subprocess.run([str(exe), "--bench", str(runs)], input=image.tobytes(), capture_output=True, check=True)
    return float(proc.stdout.decode().strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path, help="default: every .tflite in ../shared/models")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--image", type=Path, default=IMAGE)
    args = parser.parse_args()
    models = args.models or sorted(MODELS.glob("*.tflite"))
    print(f"{'model':<45} {'C ms':>9} {'LiteRT ms':>10} {'C/LiteRT':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for model in models:
            from generator.pipeline import load_graph

            shape = load_graph(model).inputs[0].shape
            image = load_inputs(args.image, shape)[:1]
            try:
                c = generated_ms(model, image, args.runs, Path(tmp))
            except Stm32genError as exc:
                print(f"{model.stem:<45} error: {exc}")
                continue
            ref = litert_ms(model, image, args.runs)
            print(f"{model.stem:<45} {c:9.2f} {ref:10.2f} {c / ref:9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
