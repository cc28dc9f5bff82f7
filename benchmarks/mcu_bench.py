"""Instructions per inference of the generated firmware in QEMU (Cortex-M7 and Cortex-M55), against
ST's published inference time.

    .venv/bin/python benchmarks/mcu_bench.py [--models fpnlite,ssd_v1] [--targets qemu-mps2-an500,...]
                                             [--ops] [--seed 0]

For each model and QEMU target: generate -> build -> one inference over the serial protocol
(`run_on_device(..., emulate=True)`); QEMU runs with `-icount shift=0`, so the firmware's counter
reports executed instructions. Printed: instructions per inference, instructions per MAC, whether
every output equals LiteRT's (built-in kernels) bytes and, for fpnlite 192 on the M7, the ratio to
ST's figure (benchmarks/st_reference.toml).

QEMU instructions are NOT Cortex-M7 cycles: QEMU has no pipeline, cache, memory wait-state or
dual-issue model, so the ratio only says how our instruction stream compares to ST's cycle count.

--ops adds a per-operator-kind breakdown on the M7: one bare-metal program runs every kernel call of
the lowered model once (real weights and parameters, seeded random activations) and times each call
with SysTick under -icount (one tick = 40 instructions at the an500's 25 MHz). Random activations
change no branch that matters for the count except value-dependent clamping, so the figures match
the real input to well under 1 %.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import tomllib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from generator.analysis import op_macs  # noqa: E402
from generator.codegen import litert  # noqa: E402
from generator.codegen.build import build_project  # noqa: E402
from generator.codegen.kernel_params import SUPPORTED_OPS, c_literal, kernel_calls  # noqa: E402
from generator.codegen.project import generate_project  # noqa: E402
from generator.pipeline import load_graph, lower_graph  # noqa: E402
from generator.runner import load_inputs, run_on_device  # noqa: E402

MODELS_DIR = ROOT.parent / "shared" / "models"
MODELS = {
    "fpnlite": MODELS_DIR / "ssd_mobilenet_v2_fpnlite_035_192_int8.tflite",
    "ssd_v1": MODELS_DIR / "st_ssd_mobilenet_v1_025_192_int8.tflite",
}
TARGETS = ("qemu-mps2-an500", "qemu-mps3-an547")
IMAGE = ROOT.parent / "shared" / "images" / "messi5.jpg"
ST_REFERENCE = ROOT / "benchmarks" / "st_reference.toml"
KERNELS = ROOT / "templates" / "kernels"


def st_inference(model: Path) -> dict | None:
    data = tomllib.loads(ST_REFERENCE.read_text())
    for row in data.get("inference", []):
        if row["model"] == model.stem:
            return row
    return None


def litert_outputs(model: Path, item: np.ndarray) -> list[np.ndarray]:
    """The ground truth: LiteRT's built-in kernels (the project's one interpreter set-up)."""
    return litert.run(litert.interpreter(model), item)


def network_instructions(model: Path, target: str, work: Path) -> tuple[int, bool]:
    """(instructions of one inference, whether every output equals LiteRT's bytes)."""
    out = work / f"{model.stem}-{target}"
    generate_project(model, target, out)
    build_project(out)
    shape = load_graph(model).inputs[0].shape
    item = load_inputs(IMAGE, shape)[0] if IMAGE.exists() else np.random.default_rng(0).integers(
        0, 256, size=tuple(shape[1:]), dtype=np.uint8)
    res = run_on_device(out, item, emulate=True)
    ref = litert_outputs(model, item)
    exact = all(res[f"output_{i}"].tobytes() == r.tobytes() for i, r in enumerate(ref))  # bitwise, -0.0 != 0.0
    return int(res["instructions"]), exact


# ---------------------------------------------------------------------------------------------
# per-operator breakdown (bare metal, M7)

RUNTIME = r"""
#include <stdint.h>
#include <stddef.h>

int main(void);

/* GCC would turn these loops into calls to themselves */
#define SG_NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))

SG_NO_LIBCALL void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *dd = d;
    const uint8_t *ss = s;
    while (n--) *dd++ = *ss++;
    return d;
}

SG_NO_LIBCALL void *memset(void *d, int v, size_t n)
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
    sg_report("FAULT\n");
    sg_exit();
}

void reset(void)
{
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* enable the FPU */
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
MEMORY { RAM (rwx) : ORIGIN = 0x00000000, LENGTH = 4M  RAM2 (rwx) : ORIGIN = 0x20000000, LENGTH = 4M }
SECTIONS {
  .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) } > RAM
  .data : { *(.data*) } > RAM
  .bss (NOLOAD) : { *(.bss*) *(COMMON) } > RAM2
}
"""

MAIN_HEAD = r"""
#include <stdint.h>
#include "stm32gen_kernels.h"

void sg_report(const char *s);

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

static uint8_t arena[%(arena)d] __attribute__((aligned(8)));

static void put_u32(uint32_t v)
{
    char b[12];
    int i = 11;
    b[i] = 0;
    do { b[--i] = (char)('0' + v %% 10u); v /= 10u; } while (v);
    sg_report(&b[i]);
}

static uint32_t start(void) { SYST_CVR = 0u; return SYST_CVR; }
static void stop(int op)
{
    const uint32_t ticks = 0x00FFFFFFu - SYST_CVR;
    put_u32((uint32_t)op);
    sg_report(" ");
    put_u32(ticks);
    sg_report("\n");
}
"""


def op_kind(op, call) -> str:
    p = call.params_dict()
    if call.function in ("sg_conv2d_s8", "sg_depthwise_conv2d_s8"):
        name = "conv" if call.function == "sg_conv2d_s8" else "dwconv"
        kind = f"{name} {p['k_h']}x{p['k_w']} s{p['stride_h']}"
        if name == "conv" and p["k_h"] == 1:
            kind += " in_c<32" if p["in_c"] < 32 else (" in_c<128" if p["in_c"] < 128 else " in_c>=128")
        return kind
    return op.type.lower()


def ops_program(graph, seed: int) -> tuple[str, list[tuple[int, str, int]]]:
    """C for one program timing every kernel call, and (op index, kind, MACs) per timed op."""
    rng = np.random.default_rng(seed)
    defs: list[str] = []
    stmts: list[str] = []
    meta: list[tuple[int, str, int]] = []
    arena = 0
    for op in graph.operators:
        calls = kernel_calls(op) if op.type in SUPPORTED_OPS else []  # RESHAPE & co. are aliases
        if not calls:
            continue
        op_stmts = []
        need = 0
        for j, call in enumerate(calls):
            prefix = f"o{op.index}_{j}"
            for arr in call.arrays:
                values = ",".join(c_literal(arr.ctype, v) for v in arr.values)
                defs.append(f"static const {arr.ctype} {prefix}_{arr.name}[] = {{{values}}};\n")
            fields = ", ".join(f".{n} = {c_literal(t, v, prefix)}" for t, n, v in call.params)
            defs.append(f"static const {call.params_type} {prefix} = {{{fields}}};\n")
            args = []
            offset = 0
            for k, t in enumerate(call.args):
                if t.data is not None and k < len(call.args) - 1:
                    data = np.asarray(t.data).reshape(-1)
                    ctype = {"int8": "int8_t", "uint8": "uint8_t", "int32": "int32_t",
                             "float32": "float"}[data.dtype.name]
                    values = ",".join(c_literal(ctype, v) for v in data.tolist())
                    defs.append(f"static const {ctype} {prefix}_a{k}[] = {{{values}}};\n")
                    args.append(f"(const void *){prefix}_a{k}")
                else:
                    args.append(f"(void *)(arena + {offset})")
                    offset += (int(t.nbytes) + 7) // 8 * 8
            need = max(need, offset)
            op_stmts.append(f"    {call.function}(&{prefix}, {', '.join(args)});\n")
        arena = max(arena, need)
        stmts.append("    start();\n" + "".join(op_stmts) + f"    stop({op.index});\n")
        meta.append((op.index, op_kind(op, calls[0]), op_macs(op)))
    main = (MAIN_HEAD % {"arena": arena} + "".join(defs) + "\nint main(void)\n{\n    uint32_t i, s = "
            f"{int(rng.integers(1, 2**31))}u;\n"
            f"    for (i = 0; i < {arena}u; ++i) {{ s = s * 1664525u + 1013904223u; arena[i] = (uint8_t)(s >> 24); }}\n"
            "    SYST_RVR = 0x00FFFFFFu;\n    SYST_CSR = 5u; /* enabled, processor clock, no interrupt */\n"
            + "".join(stmts) + "    return 0;\n}\n")
    return main, meta


def op_breakdown(model: Path, work: Path, seed: int) -> list[tuple[int, str, int, int]]:
    """(op index, kind, MACs, instructions) for every kernel-backed op of the lowered model, on the M7."""
    graph = lower_graph(load_graph(model))
    main, meta = ops_program(graph, seed)
    d = work / f"ops-{model.stem}"
    d.mkdir(parents=True, exist_ok=True)
    (d / "main.c").write_text(main)
    (d / "runtime.c").write_text(RUNTIME)
    (d / "link.ld").write_text(LINKER)
    elf = d / "ops.elf"
    srcs = [str(d / "main.c"), str(d / "runtime.c")] + [str(p) for p in sorted(KERNELS.glob("*.c"))]
    # the firmware's optimisation flags (templates/projects/common/CMakeLists.txt.j2)
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16",
                    "-std=c99", "-O2", "-ffunction-sections", "-fdata-sections", "-nostdlib", "-nostartfiles", f"-I{KERNELS}", "-T", str(d / "link.ld"),
                    *srcs, "-lgcc", "-lm", "-o", str(elf)], check=True)
    proc = subprocess.run(["qemu-system-arm", "-M", "mps2-an500", "-nographic", "-icount", "shift=0",
                           "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)],
                          capture_output=True, timeout=900, check=False)
    ticks = {}
    for line in (proc.stdout + proc.stderr).decode(errors="replace").splitlines():  # semihosting: stderr
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
            ticks[int(parts[0])] = int(parts[1])
    if len(ticks) != len(meta):
        raise RuntimeError(f"ops program reported {len(ticks)} of {len(meta)} ops: {proc.stdout[-400:]!r}")
    per_tick = 1_000_000_000 // 25_000_000  # mps2-an500 SYSCLK 25 MHz, 1 ns per instruction
    return [(i, kind, macs, ticks[i] * per_tick) for i, kind, macs in meta]


def print_breakdown(model: Path, rows: list[tuple[int, str, int, int]]) -> None:
    agg: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for _, kind, macs, ins in rows:
        agg[kind][0] += 1
        agg[kind][1] += macs
        agg[kind][2] += ins
    total = sum(r[3] for r in rows)
    print(f"\nper-op breakdown, {model.stem}, qemu-mps2-an500 (M7), kernels only, random activations")
    print(f"{'kind':<22} {'ops':>4} {'MACs':>12} {'instructions':>14} {'instr/MAC':>10} {'share':>7}")
    for kind, (n, macs, ins) in sorted(agg.items(), key=lambda kv: -kv[1][2]):
        ipm = f"{ins / macs:10.2f}" if macs else f"{'-':>10}"
        print(f"{kind:<22} {n:4d} {macs:12,d} {ins:14,d} {ipm} {ins / total:7.1%}")
    print(f"{'total':<22} {len(rows):4d} {sum(r[2] for r in rows):12,d} {total:14,d}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma list of {', '.join(MODELS)}")
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--ops", action="store_true", help="per-operator-kind breakdown on the M7")
    parser.add_argument("--no-network", action="store_true", help="only the --ops breakdown")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    models = [MODELS[m] for m in args.models.split(",")]
    targets = args.targets.split(",")
    print("QEMU counts executed instructions (-icount shift=0); they are not Cortex-M7/M55 cycles.")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(os.environ.get("MCU_BENCH_DIR", tmp))
        if not args.no_network:
            print(f"{'model':<40} {'target':<17} {'instructions':>14} {'MACs':>12} {'instr/MAC':>10} {'=LiteRT':>8}")
            for model in models:
                macs = sum(op_macs(op) for op in lower_graph(load_graph(model)).operators)
                for target in targets:
                    ins, exact = network_instructions(model, target, work)
                    print(f"{model.stem:<40} {target:<17} {ins:14,d} {macs:12,d} {ins / macs:10.2f} "
                          f"{'yes' if exact else 'NO':>8}", flush=True)
                    ref = st_inference(model)
                    if ref is not None and target == "qemu-mps2-an500":
                        cycles = ref["time_ms"] * 1e-3 * ref["clock_mhz"] * 1e6
                        print(f"  ST {ref['board']} ({ref['core']} @ {ref['clock_mhz']} MHz): {ref['time_ms']} ms = "
                              f"{cycles / 1e6:.1f} M cycles; our QEMU instructions / ST cycles = {ins / cycles:.2f} "
                              "(instructions vs cycles: not a like-for-like time)", flush=True)
        if args.ops:
            for model in models:
                print_breakdown(model, op_breakdown(model, work, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
