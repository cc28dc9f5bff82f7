from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
MODELS_DIR = SHARED / "models"
IMAGES_DIR = SHARED / "images"

FPNLITE_192 = MODELS_DIR / "ssd_mobilenet_v2_fpnlite_035_192_int8.tflite"
FPNLITE_256 = MODELS_DIR / "ssd_mobilenet_v2_fpnlite_035_256_int8.tflite"
FPNLITE_416 = MODELS_DIR / "ssd_mobilenet_v2_fpnlite_035_416_int8.tflite"
ST_SSD_V1_192 = MODELS_DIR / "st_ssd_mobilenet_v1_025_192_int8.tflite"
REAL_MODELS = (FPNLITE_192, FPNLITE_256, FPNLITE_416, ST_SSD_V1_192)


# Tests that need these skip when one is missing, which is right on a bare checkout but must never
# happen silently in `make test` (it installs them first and sets STM32GEN_REQUIRE_TOOLS=1).
REQUIRED_TOOLS = ("arm-none-eabi-gcc", "qemu-system-arm", "cmake", "ninja", "gcc")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not MODELS_DIR.is_dir():
        raise pytest.UsageError(f"the shared models are missing: expected {MODELS_DIR} beside the repository")
    # The QEMU end-to-end runs take minutes each: start them first so the other worker fills in
    # around them instead of waiting at the end (with `--dist worksteal`, see the Makefile).
    items.sort(key=lambda item: item.module.__name__ != "test_qemu_end_to_end")
    missing = [t for t in REQUIRED_TOOLS if shutil.which(t) is None]
    if missing and os.environ.get("STM32GEN_REQUIRE_TOOLS") == "1":
        raise pytest.UsageError(f"missing tools: {', '.join(missing)} (run `make setup`)")


def litert_interpreter(model: Path | bytes, preserve: bool = True):
    """TFLite's built-in kernels — the ground truth (never the default XNNPACK resolver)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kwargs = {"model_path": str(model)} if isinstance(model, Path) else {"model_content": bytes(model)}
    interp = Interpreter(
        **kwargs,
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        experimental_preserve_all_tensors=preserve,
        num_threads=1,
    )
    interp.allocate_tensors()
    return interp
