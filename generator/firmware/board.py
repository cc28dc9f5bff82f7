"""Board constants for `sg_board.h`: which family a target belongs to, its core flags, and the
numbers the C layer needs (UART base and kernel clock, counter scale, IRQ count)."""

from __future__ import annotations

from fractions import Fraction

from generator.errors import BuildError
from generator.firmware.stm32 import stm32_defines

FAMILIES = ("qemu", "stm32h7", "stm32n6")

# Device interrupt lines (vector table length - 16). QEMU: hw/arm/mps2.c (32) and mps2-tz.c (an547,
# 96); STM32H7: RM0433 table 145 / RM0399 table 148 (150 lines); STM32N6: RM0486 NVIC table (194).
_NUM_IRQS = {"qemu-mps2-an500": 32, "qemu-mps3-an547": 96, "stm32h7": 150, "stm32n6": 194}

# NVIC line of the console UART's receive interrupt in QEMU 7.2. mps2.c wires an500 UART0 RX to
# IRQ 0 (TX is 1); mps2-tz.c gives an547 UART0 lines 33, 34 and 43 (combined), and received bytes
# raise 33 (checked by tests/test_qemu_serial_speed.py: with 34 the echo stalls).
_UART_RX_IRQ = {"qemu-mps2-an500": 0, "qemu-mps3-an547": 33}

_CPU_FLAGS = {
    "cortex-m7": ("-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard"),
    "cortex-m55": ("-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"),
}


def family_of(target) -> str:
    if target.qemu_machine:
        return "qemu"
    chip = target.chip.lower()
    for fam in ("stm32h7", "stm32n6"):
        if chip.startswith(fam):
            return fam
    raise BuildError(f"no firmware templates for chip {target.chip} (target {target.id}); "
                     f"families: {', '.join(FAMILIES)}")


def cpu_flags(target) -> tuple[str, ...]:
    try:
        return _CPU_FLAGS[target.core]
    except KeyError:
        raise BuildError(f"no cross-compiler flags for core {target.core}; cores: {', '.join(_CPU_FLAGS)}") from None


def board_defines(target, plan=None) -> list[tuple[str, str]]:
    """(name, C value) pairs for sg_board.h, in a fixed order."""
    fam = family_of(target)
    if target.uart is None:
        raise BuildError(f"target {target.id} names no console UART")
    defs: list[tuple[str, str]] = [
        ("SG_FAMILY_" + fam.upper(), "1"),
        ("SG_ARMV8M", "1" if target.core == "cortex-m55" else "0"),
        ("SG_NUM_IRQS", str(_NUM_IRQS.get(target.id, _NUM_IRQS.get(fam, 240)))),
        ("SG_CORE_CLOCK_HZ", f"{target.clock_hz}u"),
        ("SG_UART_BAUD", f"{target.uart.baud}u"),
        # Pause between repeated fault reports, a spin being ~4 cycles or instructions: ~1 s on
        # silicon, 0.1 s of virtual time on QEMU (where instructions, not seconds, cost test time).
        ("SG_FAULT_REPEAT_SPINS", f"{(100_000_000 if fam == 'qemu' else target.clock_hz) // 4}u"),
    ]
    if fam == "qemu":
        # SysTick runs at SYSCLK; -icount shift=0 makes one virtual ns one instruction.
        per_tick = Fraction(1_000_000_000, target.clock_hz)
        defs += [
            ("SG_UART_BASE", f"0x{target.uart.base:08X}u"),
            ("SG_UART_KERNEL_HZ", f"{target.clock_hz}u"),
            ("SG_UART_RX_IRQ", str(_UART_RX_IRQ[target.id])),
            ("SG_COUNTER_HZ", "1000000000u"),
            ("SG_COUNTER_NUM", f"{per_tick.numerator}u"),
            ("SG_COUNTER_DEN", f"{per_tick.denominator}u"),
        ]
    else:
        defs += [("SG_COUNTER_HZ", f"{target.clock_hz}u")]
        defs += stm32_defines(fam, target, plan)
    return defs
