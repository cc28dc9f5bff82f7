"""The Cortex-M7 build of the kernels (SMLAD path, hardware FPU) is bit-exact too.

One bare-metal program runs one kernel call of every kind taken from a real model, on the exact
inputs LiteRT computed, in qemu-system-arm (mps2-an500, a Cortex-M7) and compares each output with
LiteRT's bytes on the target; the result comes back through semihosting.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from kernel_harness import KERNELS_DIR, kernel_sources
from test_kernels_litert import model_inputs

from conftest import ST_SSD_V1_192, litert_interpreter
from generator.codegen.kernel_params import KernelCall, c_literal, kernel_calls
from generator.model.reader import read_model
from generator.pipeline import load_graph, lower_graph

pytestmark = pytest.mark.qemu

CC = "arm-none-eabi-gcc"
QEMU = "qemu-system-arm"
M7 = ["-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16"]

RUNTIME = r"""
#include <stdint.h>
#include <stddef.h>

int main(void);

void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *dd = d;
    const uint8_t *ss = s;
    while (n--) *dd++ = *ss++;
    return d;
}

void *memset(void *d, int v, size_t n)
{
    uint8_t *dd = d;
    while (n--) *dd++ = (uint8_t)v;
    return d;
}

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void sg_report(const char *s) { semihost(0x04, s); }

static void sg_exit(void)
{
    semihost(0x18, (const void *)0x20026);
    for (;;) {}
}

static void fault(void)
{
    sg_report("SGRESULT FAULT\n");
    sg_exit();
}

void reset(void)
{
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CP10/CP11 full access: enable the FPU */
    __asm__ volatile("dsb\n\tisb");
    main();
    sg_exit();
}

__attribute__((section(".vectors"), used)) static const void *const vectors[16] = {
    (const void *)0x20400000u, (const void *)reset, (const void *)fault, (const void *)fault,
    (const void *)fault, (const void *)fault, (const void *)fault,
};
"""

LINKER = """
ENTRY(reset)
MEMORY { RAM (rwx) : ORIGIN = 0x00000000, LENGTH = 4M  RAM2 (rwx) : ORIGIN = 0x20000000, LENGTH = 3M }
SECTIONS {
  .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) } > RAM
  .data : { *(.data*) } > RAM
  .bss (NOLOAD) : { *(.bss*) *(COMMON) } > RAM2
}
"""


def c_array(ctype: str, name: str, values: np.ndarray) -> str:
    body = ",".join(str(int(v)) for v in values.reshape(-1))
    return f"static const {ctype} {name}[] = {{{body}}};\n"


Case = tuple[list[tuple[KernelCall, list[np.ndarray]]], np.ndarray]  # the calls of one op, LiteRT's output


def emit_case(i: int, case: Case) -> tuple[str, str]:
    """(definitions, statements) for one operator's calls checked against LiteRT's bytes."""
    calls, expected = case
    op = calls[0][0].op
    raw = expected.reshape(-1).view(np.uint8)
    out_ctype = "float" if expected.dtype == np.float32 else "int8_t"
    defs = [f"/* {op.type} #{op.index} */\n", c_array("uint8_t", f"c{i}_want", raw)]
    defs.append(f"static uint8_t c{i}_out[{raw.size}] __attribute__((aligned(4)));\n")
    stmts = []
    for j, (call, inputs) in enumerate(calls):
        prefix = f"c{i}_{j}"
        for arr in call.arrays:
            values = ", ".join(c_literal(arr.ctype, v) for v in arr.values)
            defs.append(f"static const {arr.ctype} {prefix}_{arr.name}[] = {{{values}}};\n")
        fields = ", ".join(f".{name} = {c_literal(ctype, value, prefix)}" for ctype, name, value in call.params)
        defs.append(f"static const {call.params_type} {prefix} = {{{fields}}};\n")
        args = []
        for k, x in enumerate(inputs):
            defs.append(c_array("uint8_t" if x.dtype == np.uint8 else "int8_t", f"{prefix}_in{k}", x))
            args.append(f"{prefix}_in{k}")
        stmts.append(f"    {call.function}(&{prefix}, {', '.join(args)}, ({out_ctype} *)c{i}_out);\n")
    stmts.append(
        f'    if (!same(c{i}_out, c{i}_want, {raw.size})) {{ sg_report("mismatch {op.type} #{op.index}\\n"); fails++; }}\n'
    )
    return "".join(defs), "".join(stmts)


def op_case(op, interp) -> Case:
    calls = []
    for call in kernel_calls(op):
        inputs = [np.asarray(t.data) if t.data is not None else interp.get_tensor(t.index) for t in call.args[:-1]]
        calls.append((call, inputs))
    return calls, interp.get_tensor(op.outputs[0].index)


def pick_ops(graph, interp) -> list[Case]:
    """The smallest operator of each kernel kind (1x1 and KxK convolutions apart, and the first
    convolution with its 3 input channels for the scalar tails)."""
    best: dict[str, tuple[int, object]] = {}
    for op in graph.operators:
        if op.type in ("RESHAPE", "SHAPE", "STRIDED_SLICE", "PACK", "TILE"):
            continue
        calls = kernel_calls(op)
        if not calls or any(t.alias_of is not None for t in op.inputs if t is not None):
            continue
        p = calls[0].params_dict()
        kind = calls[0].function + ("-1x1" if p.get("k_h") == 1 and p.get("k_w") == 1 else "")
        if calls[0].function == "sg_conv2d_s8" and p.get("in_c") == 3:
            kind += "-first"
        size = sum(int(np.prod(t.shape)) for t in (*op.inputs, *op.outputs) if t is not None)
        if kind not in best or size < best[kind][0]:
            best[kind] = (size, op)
    return [op_case(op, interp) for _, op in best.values()]


def fixture_cases() -> list[Case]:
    """A few random single-op models whose kernels have vector/tail splits or several calls."""
    from test_kernels_litert import random_feed

    from generator.factory.ops import op_fixtures
    from generator.model.reader import read_model_bytes

    wanted = ("depthwise", "mean", "dequantize", "concatenation", "resize", "add", "softmax")
    out = []
    for n, (name, data) in enumerate(op_fixtures(seed=5, count_per_op=6)):
        if not name.startswith(wanted):
            continue
        interp = litert_interpreter(data)
        random_feed(interp, seed=n)
        interp.invoke()
        out.append(op_case(read_model_bytes(data).operators[-1], interp))
    return out


@pytest.mark.skipif(
    shutil.which(CC) is None or shutil.which(QEMU) is None, reason="needs arm-none-eabi-gcc and qemu-system-arm"
)
def test_cortex_m7_build_matches_litert_in_qemu(tmp_path: Path) -> None:
    interp = litert_interpreter(ST_SSD_V1_192)
    detail = interp.get_input_details()[0]
    interp.set_tensor(detail["index"], model_inputs(interp, seed=3)[0])
    interp.invoke()
    cases = pick_ops(lower_graph(load_graph(ST_SSD_V1_192)), interp)
    cases += pick_ops(read_model(ST_SSD_V1_192), interp)  # PAD, DEQUANTIZE, copying CONCATENATION
    cases += fixture_cases()
    kinds = {call.function for calls, _ in cases for call, _ in calls}
    assert kinds == {
        "sg_conv2d_s8",
        "sg_depthwise_conv2d_s8",
        "sg_add_s8",
        "sg_softmax_s8",
        "sg_mean_hw_s8",
        "sg_quantize_u8_s8",
        "sg_pad_s8",
        "sg_resize_bilinear_s8",
        "sg_concat_part_s8",
        "sg_dequantize_s8_f32",
    }

    defs, stmts = [], []
    for i, case in enumerate(cases):
        d, s = emit_case(i, case)
        defs.append(d)
        stmts.append(s)
    main = (
        '#include "stm32gen_kernels.h"\n'
        "void sg_report(const char *s);\n"
        "static int same(const uint8_t *a, const uint8_t *b, int n)\n"
        "{ int i; for (i = 0; i < n; ++i) if (a[i] != b[i]) return 0; return 1; }\n"
        + "".join(defs)
        + "int main(void)\n{\n    int fails = 0;\n"
        + "".join(stmts)
        + '    sg_report(fails ? "SGRESULT FAIL\\n" : "SGRESULT PASS\\n");\n    return fails;\n}\n'
    )
    (tmp_path / "main.c").write_text(main)
    (tmp_path / "runtime.c").write_text(RUNTIME)
    (tmp_path / "link.ld").write_text(LINKER)
    elf = tmp_path / "kernels.elf"
    cmd = [
        CC,
        *M7,
        "-std=c99",
        "-O2",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-ffreestanding",
        "-nostdlib",
        "-Wno-unused-function",
        f"-I{KERNELS_DIR}",
        "-T",
        str(tmp_path / "link.ld"),
        "-o",
        str(elf),
        str(tmp_path / "main.c"),
        str(tmp_path / "runtime.c"),
        *map(str, kernel_sources()),
        "-lgcc",
    ]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    run = subprocess.run(
        [
            QEMU,
            "-M",
            "mps2-an500",
            "-nographic",
            "-monitor",
            "none",
            "-serial",
            "none",
            "-semihosting-config",
            "enable=on,target=native",
            "-kernel",
            str(elf),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = run.stdout + run.stderr  # QEMU prints semihosting output on stderr
    assert "SGRESULT PASS" in report, f"{len(cases)} kernel calls on the Cortex-M7:\n{report}"
