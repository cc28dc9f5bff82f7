"""Kernel library properties that do not need LiteRT: compilation, in-place safety, parameter
derivation and the errors a user can trigger."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from kernel_harness import KERNELS_DIR, KernelLib, build_library, kernel_sources

from generator.codegen.kernel_params import ArrayRef, c_literal, kernel_call, kernel_calls
from generator.codegen.quant import (
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    round_half_away,
)
from generator.errors import CodegenError
from generator.model.ir import Operator, Quantization, Tensor

STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-c"]


@pytest.fixture(scope="module")
def kernels(tmp_path_factory: pytest.TempPathFactory) -> KernelLib:
    return KernelLib(build_library(tmp_path_factory.mktemp("kernels")))


def q(scale: float, zp: int) -> Quantization:
    return Quantization(np.array([scale], np.float32), np.array([zp], np.int64))


def t(name: str, shape, dtype=np.int8, quant=None, data=None) -> Tensor:
    return Tensor(name, tuple(shape), np.dtype(dtype), quant, data)


@pytest.mark.parametrize(
    "compiler,flags",
    [
        ("gcc", []),
        ("arm-none-eabi-gcc", ["-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16"]),
        ("arm-none-eabi-gcc", ["-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"]),
        ("arm-none-eabi-gcc", ["-mcpu=cortex-m0plus", "-mthumb"]),  # no DSP extension: portable path
    ],
)
def test_kernels_compile_warning_free(tmp_path: Path, compiler: str, flags: list[str]) -> None:
    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} is not installed")
    for src in kernel_sources():
        subprocess.run([compiler, *flags, *STRICT, str(src), "-o", str(tmp_path / (src.stem + ".o"))], check=True)


def test_kernels_use_no_libc_beyond_memcpy_memset(tmp_path: Path) -> None:
    objs = []
    for src in kernel_sources():
        obj = tmp_path / (src.stem + ".o")
        subprocess.run(["gcc", *STRICT, str(src), "-o", str(obj)], check=True)
        objs.append(str(obj))
    undefined = subprocess.run(["nm", "-u", *objs], check=True, capture_output=True, text=True).stdout.split()
    external = {sym for sym in undefined if not sym.endswith(":") and sym not in ("U",)}
    assert external <= {"memcpy", "memset"}, external


def test_header_is_plain_c_without_jinja() -> None:
    for path in KERNELS_DIR.iterdir():
        text = path.read_text()
        assert "{{" not in text and "{%" not in text, path.name


def test_quantize_multiplier_matches_tflite_convention() -> None:
    assert quantize_multiplier(0.0) == (0, 0)
    assert quantize_multiplier(1.0) == (1 << 30, 1)
    assert quantize_multiplier(0.5) == (1 << 30, 0)
    m, s = quantize_multiplier(0.0001234)
    assert (1 << 30) <= m < (1 << 31) and abs(m * 2.0 ** (s - 31) - 0.0001234) < 1e-12
    assert quantize_multiplier(1e-12) == (0, 0)  # below 2^-31 flushes to zero
    assert round_half_away(2.5) == 3 and round_half_away(-2.5) == -3


def test_multiply_by_quantized_multiplier_rounds_half_away_from_zero() -> None:
    m, s = quantize_multiplier(0.25)
    assert multiply_by_quantized_multiplier(6, m, s) == 2  # 1.5 -> 2
    assert multiply_by_quantized_multiplier(-6, m, s) == -2  # -1.5 -> -2
    # Double rounding (the default build): 5 * 2^30 / 2^31 = 2.5 -> 3, then 3 / 2 = 1.5 -> 2,
    # although 5 * 0.25 = 1.25 would round to 1.
    assert multiply_by_quantized_multiplier(5, m, s) == 2


def test_c_literal_emits_exact_floats_and_int_min() -> None:
    assert c_literal("float", 0.1) == f"{float(np.float32(0.1)).hex()}f"
    assert float.fromhex(c_literal("float", 0.1)[:-1]) == float(np.float32(0.1))
    assert c_literal("int32_t", -(1 << 31)) == "(-2147483647 - 1)"
    assert c_literal("const int32_t *", ArrayRef("mult"), "op7") == "op7_mult"
    assert c_literal("int32_t", (1, 2, 3, 4)) == "{1, 2, 3, 4}"


def _add_op(shape_a=(1, 4, 4, 8), shape_b=(1, 4, 4, 8)) -> Operator:
    a = t("a", shape_a, quant=q(0.05, -3))
    b = t("b", shape_b, quant=q(0.02, 10))
    out = t("out", shape_a, quant=q(0.06, 4))
    return Operator("ADD", [a, b], [out], {"fused_activation_function": "NONE"}, index=3)


def test_add_is_in_place_safe(kernels: KernelLib) -> None:
    op = _add_op()
    call = kernel_call(op)
    rng = np.random.default_rng(0)
    a = rng.integers(-128, 128, size=(1, 4, 4, 8)).astype(np.int8)
    b = rng.integers(-128, 128, size=(1, 4, 4, 8)).astype(np.int8)
    separate = kernels.run(call, [a, b])
    in_place = a.copy()
    kernels.run(call, [in_place, b], in_place)
    assert np.array_equal(in_place, separate)
    assert not np.array_equal(separate, a)


def test_uint8_quantize_is_in_place_safe(kernels: KernelLib) -> None:
    x = t("x", (1, 8, 8, 3), np.uint8, q(1 / 255, 0))
    y = t("y", (1, 8, 8, 3), np.int8, q(0.0078125, -1))
    call = kernel_call(Operator("QUANTIZE", [x], [y], {}, index=0))
    raw = np.arange(192, dtype=np.uint8).reshape(1, 8, 8, 3)
    separate = kernels.run(call, [raw])
    buf = raw.copy()
    kernels.run(call, [buf], buf.view(np.int8))
    assert np.array_equal(buf.view(np.int8), separate)


def test_broadcasting_add_is_reported_as_codegen_error() -> None:
    with pytest.raises(CodegenError, match=r"operator #3 ADD: broadcasting \[1, 4, 4, 8\] \+ \[1, 1, 1, 8\]"):
        kernel_calls(_add_op(shape_b=(1, 1, 1, 8)))


def test_unknown_operator_names_the_op_and_the_supported_set() -> None:
    op = Operator("GATHER", [t("x", (4,))], [t("y", (4,))], {}, index=9)
    with pytest.raises(CodegenError, match=r"operator #9 GATHER has no kernel; supported: ADD, "):
        kernel_calls(op)


def test_float_activation_is_rejected_with_the_tensor_name() -> None:
    op = _add_op()
    op.inputs[0] = t("float_in", (1, 4, 4, 8), np.float32, q(1.0, 0))
    with pytest.raises(CodegenError, match="'float_in' is float32"):
        kernel_calls(op)


def test_concatenation_input_produced_in_place_needs_no_call() -> None:
    out = t("out", (1, 6, 4), quant=q(0.1, 0))
    a = t("a", (1, 2, 4), quant=q(0.1, 0))
    b = t("b", (1, 4, 4), quant=q(0.1, 0))
    a.alias_of, a.alias_offset = out, 0
    op = Operator("CONCATENATION", [a, b], [out], {"axis": 1}, index=5)
    calls = kernel_calls(op)
    assert len(calls) == 1 and calls[0].args == (b, out)
    assert calls[0].params_dict()["out_start"] == 8
    assert kernel_call(op) is not None
    b.alias_of, b.alias_offset = out, 8
    with pytest.raises(CodegenError, match="needs 0 kernel calls"):
        kernel_call(op)


def test_concatenation_requantizes_inputs_with_other_quantization(kernels: KernelLib) -> None:
    out = t("out", (1, 2, 3), quant=q(0.1, 5))
    a = t("a", (1, 1, 3), quant=q(0.1, 5))
    b = t("b", (1, 1, 3), quant=q(0.2, -1))
    calls = kernel_calls(Operator("CONCATENATION", [a, b], [out], {"axis": 1}, index=1))
    assert [c.params_dict()["requantize"] for c in calls] == [0, 1]
    result = np.zeros((1, 2, 3), np.int8)
    kernels.run(calls[0], [np.array([[[1, 2, 3]]], np.int8)], result)
    kernels.run(calls[1], [np.array([[[-1, 0, 4]]], np.int8)], result)
    # b: real = 0.2 * (q + 1) -> out = real / 0.1 + 5
    assert result.tolist() == [[[1, 2, 3], [5, 7, 15]]]


def test_conv_requantisation_matches_the_two_step_half_up_definition(kernels: KernelLib) -> None:
    """The C output stage folds LiteRT's two half-up roundings into one multiply-accumulate; check
    it against the step-by-step definition on random accumulators, multipliers and shifts."""
    from generator.codegen.kernel_params import ArrayRef, ConstArray, KernelCall
    from generator.codegen.quant import multiply_by_quantized_multiplier_half_up

    rng = np.random.default_rng(5)
    n = 4000
    shifts = rng.integers(-31, 3, size=n)
    mults = rng.integers(1 << 30, (1 << 31) - 1, size=n)
    # accumulators that land inside int8 after scaling, plus exact ties
    scale = mults.astype(np.float64) * 2.0 ** (shifts.astype(np.float64) - 31)
    acc = np.clip((rng.uniform(-127, 127, size=n) / scale).astype(np.int64), -(1 << 31), (1 << 31) - 1)
    # exact ties at both roundings: multiplier 0.5 (2^30, shift 0) and small accumulators
    mults[:500], shifts[:500] = 1 << 30, rng.integers(-3, 1, size=500)
    acc[:500] = rng.integers(-200, 201, size=500)
    want = np.array(
        [
            multiply_by_quantized_multiplier_half_up(int(a), int(m), int(s))
            for a, m, s in zip(acc, mults, shifts, strict=True)
        ]
    )
    fields = (
        ("int32_t", "batches", 1),
        ("int32_t", "in_h", 1),
        ("int32_t", "in_w", 1),
        ("int32_t", "in_c", 1),
        ("int32_t", "out_h", 1),
        ("int32_t", "out_w", 1),
        ("int32_t", "out_c", n),
        ("int32_t", "k_h", 1),
        ("int32_t", "k_w", 1),
        ("int32_t", "stride_h", 1),
        ("int32_t", "stride_w", 1),
        ("int32_t", "dil_h", 1),
        ("int32_t", "dil_w", 1),
        ("int32_t", "pad_top", 0),
        ("int32_t", "pad_left", 0),
        ("int32_t", "in_zp", 0),
        ("int32_t", "out_zp", 0),
        ("int32_t", "act_min", -128),
        ("int32_t", "act_max", 127),
        ("const int32_t *", "bias", ArrayRef("bias")),
        ("const int32_t *", "out_mult", ArrayRef("mult")),
        ("const int32_t *", "out_shift", ArrayRef("shift")),
    )
    arrays = (
        ConstArray("bias", "int32_t", tuple(int(a) for a in acc)),
        ConstArray("mult", "int32_t", tuple(int(m) for m in mults)),
        ConstArray("shift", "int32_t", tuple(int(s) for s in shifts)),
    )
    out_t = t("out", (1, 1, 1, n))
    call = KernelCall(
        "sg_conv2d_s8", "sg_conv_params_t", fields, arrays, (t("x", (1, 1, 1, 1)), t("w", (n, 1, 1, 1)), out_t)
    )
    got = kernels.run(call, [np.zeros((1, 1, 1, 1), np.int8), np.zeros((n, 1, 1, 1), np.int8)]).reshape(-1)
    assert np.array_equal(got.astype(np.int64), np.clip(want, -128, 127))


# The Cortex-M DSP build has its own convolution paths (3x3 depthwise over register accumulators
# with border taps on a zero-point row, 1x1 four channels at a time with unpacked weights, a one-step
# requantisation for right shifts); on the shapes and shifts that pick each path and its fallbacks
# it must give the portable build's bytes, which test_kernels_litert pins to LiteRT.
_CONV_FIELDS = ("batches", "in_h", "in_w", "in_c", "out_h", "out_w", "out_c")
_CONV_TAIL = ("k_h", "k_w", "stride_h", "stride_w", "dil_h", "dil_w", "pad_top", "pad_left", "in_zp", "out_zp",
              "act_min", "act_max")


def _conv_like_call(depthwise: bool, rng: np.random.Generator, in_hwc: tuple[int, int, int], out_c: int, stride: int,
                    pad: int, shifts: np.ndarray, act: tuple[int, int], k: int):
    from generator.codegen.kernel_params import ConstArray, KernelCall

    in_h, in_w, in_c = in_hwc
    out_h = (in_h + 2 * pad - k) // stride + 1
    out_w = (in_w + 2 * pad - k) // stride + 1
    values = dict(batches=1, in_h=in_h, in_w=in_w, in_c=in_c, out_h=out_h, out_w=out_w, out_c=out_c, k_h=k, k_w=k,
                  stride_h=stride, stride_w=stride, dil_h=1, dil_w=1, pad_top=pad, pad_left=pad, in_zp=-7, out_zp=3,
                  act_min=act[0], act_max=act[1])
    names = _CONV_FIELDS + (("depth_multiplier",) if depthwise else ()) + _CONV_TAIL
    fields = [("int32_t", n, values.get(n, 1)) for n in names]
    fields += [("const int32_t *", n, ArrayRef(n)) for n in ("bias", "out_mult", "out_shift")]
    arrays = (ConstArray("bias", "int32_t", tuple(int(v) for v in rng.integers(-6000, 6000, out_c))),
              ConstArray("out_mult", "int32_t", tuple(int(v) for v in rng.integers(1 << 30, (1 << 31) - 1, out_c))),
              ConstArray("out_shift", "int32_t", tuple(int(v) for v in shifts)))
    out = SimpleNamespace(shape=(out_h, out_w, out_c), dtype=np.int8)  # all KernelLib.run reads of the output
    call = KernelCall("sg_depthwise_conv2d_s8" if depthwise else "sg_conv2d_s8",
                      "sg_dwconv_params_t" if depthwise else "sg_conv_params_t", tuple(fields), arrays, (out,))
    x = rng.integers(-128, 128, (in_h, in_w, in_c), dtype=np.int8)
    w = rng.integers(-128, 128, (k, k, out_c) if depthwise else (out_c, k, k, in_c), dtype=np.int8)
    return call, [x, w]


@pytest.fixture(scope="module")
def dsp_and_portable(tmp_path_factory: pytest.TempPathFactory) -> tuple[KernelLib, KernelLib]:
    d = tmp_path_factory.mktemp("builds")
    return KernelLib(build_library(d, ("-DSG_EMULATE_DSP",))), KernelLib(build_library(d, ("-DSG_PORTABLE",)))


@pytest.mark.parametrize(
    "depthwise, in_hwc, out_c, stride, pad, shift_kind",
    [
        (True, (7, 9, 20), 20, 1, 1, "right"),  # 16 blocked channels on the fast path, 4 rounded apart
        (True, (8, 6, 72), 72, 2, 1, "right"),  # three passes of channel groups, stride 2
        (True, (3, 3, 8), 8, 1, 1, "right"),  # one interior pixel, eight border pixels
        (True, (6, 5, 24), 24, 1, 0, "edge"),  # shifts -1 and -31 (the constants' corner cases)
        (True, (5, 5, 16), 16, 1, 1, "left"),  # a shift >= 0 falls back to the tap-list path
        (False, (5, 3, 12), 10, 1, 0, "right"),  # two channel quads, then a pair; odd pixel count
        (False, (4, 4, 260), 6, 1, 0, "right"),  # in_c above the unpacked-weight buffer
        (False, (3, 5, 6), 9, 1, 0, "right"),  # in_c % 4 != 0
        (False, (4, 3, 16), 8, 1, 0, "left"),
        (False, (20, 18, 3), 6, 2, 1, "right"),  # 3x3x3 fields padded to 28 bytes, three chunks of pixels
    ],
)
def test_dsp_convolution_paths_match_the_portable_build(dsp_and_portable, depthwise, in_hwc, out_c, stride, pad,
                                                        shift_kind) -> None:
    rng = np.random.default_rng(out_c * 31 + in_hwc[2])
    shifts = {"right": rng.integers(-12, -5, out_c), "edge": np.resize([-1, -31, -8], out_c),
              "left": np.where(np.arange(out_c) == 3, 0, -9)}[shift_kind]
    for act in ((-128, 127), (3, 90)):
        k = 3 if depthwise or in_hwc[2] == 3 else 1
        call, inputs = _conv_like_call(depthwise, rng, in_hwc, out_c, stride, pad, shifts, act, k)
        dsp, portable = (lib.run(call, inputs) for lib in dsp_and_portable)
        assert np.array_equal(dsp, portable), f"{call.function} act={act}"
