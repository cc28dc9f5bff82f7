"""`sg_board.h` constants for the STM32 boards: console USART, clock tree, and the external
memories the plan actually uses. Register-level facts are cited where they are used in the C."""

from __future__ import annotations

import math

from generator.errors import BuildError
from generator.firmware import clocks

# Peripheral addresses and RCC enable bits of the console USARTs.
# STM32H7: RM0433 §2.3.2 and §8.7.40/§8.7.42 (APB1LENR 0xE8, APB2ENR 0xF0).
# STM32N6: RM0486 memory map (secure aliases, the FSBL/debug state) and RCC APB2ENSR at 0xA6C.
_USART = {
    ("stm32h7", "USART1"): (0x4001_1000, 0x0F0, 4, "pclk2"),
    ("stm32h7", "USART3"): (0x4000_4800, 0x0E8, 18, "pclk1"),
    ("stm32n6", "USART1"): (0x5200_1000, 0xA6C, 4, "pclk2"),
}
# RCC base, GPIOA base, port stride, GPIO clock-enable register offset.
_FAMILY = {
    "stm32h7": (0x5802_4400, 0x5802_0000, 0x400, 0x0E0),  # RM0433 §2.3.2, RCC_AHB4ENR
    "stm32n6": (0x5602_8000, 0x5602_0000, 0x400, 0xA5C),  # RM0486 §2.3, RCC_AHB4ENSR (set alias)
}
_PORTS = "ABCDEFGHIJKLMNOPQ"

# Supply wiring is a board fact (write-once PWR_CR3 must match it): UM2407 §6.3 (Nucleo-H743ZI2:
# LDO), UM2411 §6.3 (STM32H747I-DISCO: SMPS supplies VCORE directly).
_H7_SUPPLY_SMPS = {"nucleo-h743zi2": False, "stm32h747i-disco": True}

# STM32H747I-DISCO external memories (UM2411 §6.11-6.12, schematic MB1248): pins as
# (port, pin mask, alternate function), SDRAM geometry and timing of the IS42S32800J-6.
_H747_SDRAM_PINS = (
    (3, 0xC703, 12), (4, 0xFF83, 12), (5, 0xF83F, 12), (6, 0x8137, 12), (7, 0xFFE0, 12), (8, 0x06FF, 12))
_H747_QSPI_PINS = (
    (1, 1 << 2, 9), (6, 1 << 6, 10), (3, 1 << 11, 9), (5, 1 << 9, 10), (5, (1 << 7) | (1 << 6), 9),
    (7, (1 << 2) | (1 << 3), 9), (6, (1 << 9) | (1 << 14), 9))
_IS42S32800J = {"rows": 4096, "columns": 512, "cas": 2, "refresh_ms": 64.0, "tmrd_clk": 2, "txsr_ns": 70,
                "tras_ns": 42, "trc_ns": 60, "twr_clk": 2, "trp_ns": 18, "trcd_ns": 18}


# STM32N6: HCLK = AXI 400 MHz / 2 (system_stm32n6.c), the APB and the XSPI kernel clock.
_N6_HCLK_HZ = 200_000_000
# Boards whose XSPI1 pin-out (UM3300, ST BSP stm32n6570_discovery_xspi.h) system_stm32n6.c knows.
_N6_PSRAM_BOARDS = {"stm32n6570-dk"}
# APS256XXN-OBR (AP Memory datasheet): 200 MHz at read/write latency code 7. nCS-low budget 1 us,
# inside the datasheet's tCEM with margin (ST's BSP releases nCS even sooner); nCS high 25 ns
# between bursts, the 5 cycles at 200 MHz ST's BSP uses. Mode registers are written at <= 50 MHz
# (BSP: kernel clock / 4) before the latency codes are raised.
_APS256XX = {"max_hz": 200_000_000, "init_hz": 50_000_000, "cs_low_max_ns": 1000, "cs_high_min_ns": 25}


def _pin(name: str) -> tuple[int, int]:
    """'PD8' -> (3, 8)."""
    if len(name) < 3 or name[0] != "P" or name[1] not in _PORTS or not name[2:].isdigit():
        raise BuildError(f"bad pin name '{name}': expected P<port letter><number>, e.g. PD8")
    return _PORTS.index(name[1]), int(name[2:])


def _used(plan, kind_names: set[str]) -> bool:
    if plan is None:
        return False
    regions = plan.regions.values() if isinstance(plan.regions, dict) else plan.regions
    return any(u.name in kind_names and (u.activations_bytes > 0 or u.weights_bytes > 0) for u in regions)


def _pins_macro(pins) -> str:
    return ", ".join(f"{{{p}u, 0x{m:04X}u, {af}u}}" for p, m, af in pins)


def _sdram_defines(sdclk_hz: int) -> list[tuple[str, str]]:
    chip = _IS42S32800J
    cyc = lambda ns: clocks.ns_to_cycles(ns, sdclk_hz)  # noqa: E731
    trcd, trp, trc, tras = cyc(chip["trcd_ns"]), cyc(chip["trp_ns"]), cyc(chip["trc_ns"]), cyc(chip["tras_ns"])
    # RM0433 §22.9.5: TWR >= TRAS - TRCD and TWR >= TRC - TRCD - TRP.
    twr = max(chip["twr_clk"], tras - trcd, trc - trcd - trp)
    common_cr = (2 << 10) | (1 << 12)  # SDCLK = 2 x HCLK period, RBURST
    bank_cr = (1 << 0) | (1 << 2) | (2 << 4) | (1 << 6) | (chip["cas"] << 7)  # 9 cols, 12 rows, 32 bit, 4 banks
    common_tr = ((trc - 1) << 12) | ((trp - 1) << 20)
    bank_tr = ((chip["tmrd_clk"] - 1) << 0) | ((cyc(chip["txsr_ns"]) - 1) << 4) | ((tras - 1) << 8) | \
              ((twr - 1) << 16) | ((trcd - 1) << 24)
    mode = (chip["cas"] << 4) | (1 << 9)  # burst length 1, sequential, CAS, single-location write
    refresh = clocks.sdram_refresh_count(sdclk_hz, chip["refresh_ms"], chip["rows"])
    return [("SG_SDRAM_SDCR_COMMON", f"0x{common_cr:08X}u"), ("SG_SDRAM_SDCR_BANK", f"0x{bank_cr:08X}u"),
            ("SG_SDRAM_SDTR_COMMON", f"0x{common_tr:08X}u"), ("SG_SDRAM_SDTR_BANK", f"0x{bank_tr:08X}u"),
            ("SG_SDRAM_MODE_REGISTER", f"0x{mode:03X}u"), ("SG_SDRAM_REFRESH_COUNT", f"{refresh}u"),
            ("SG_SDRAM_PINS", _pins_macro(_H747_SDRAM_PINS))]


def _h7_defines(target, plan) -> list[tuple[str, str]]:
    if target.id not in _H7_SUPPLY_SMPS:
        raise BuildError(f"no supply configuration known for board {target.id}; boards: "
                         f"{', '.join(sorted(_H7_SUPPLY_SMPS))}")
    c = clocks.h7_clocks(target.clock_hz)
    if c.vos == 0 and _H7_SUPPLY_SMPS[target.id]:
        raise BuildError(f"{target.id} runs its core from the SMPS, which allows VOS1 at most: "
                         f"clock {target.clock_hz} Hz needs VOS0; use 400 MHz or less")
    defs = [("SG_H7_SUPPLY_SMPS", str(int(_H7_SUPPLY_SMPS[target.id]))), ("SG_H7_VOS", str(c.vos)),
            ("SG_H7_PLL_M", f"{c.pll_m}u"), ("SG_H7_PLL_N", f"{c.pll_n}u"), ("SG_H7_PLL_P", f"{c.pll_p}u"),
            ("SG_H7_PLL_RGE", f"{c.pll_rge}u"), ("SG_H7_FLASH_LATENCY", f"{c.flash_latency}u"),
            ("SG_H7_FLASH_WRHIGHFREQ", f"{c.flash_wrhighfreq}u")]
    # D2-domain SRAM1..3 have their own clock enables (RCC_AHB2ENR bits 29..31, RM0433 §8.7.41);
    # ST's own start-up code sets them before using those banks.
    d2 = sum(1 << (28 + i) for i in (1, 2, 3) if _used(plan, {f"SRAM{i}"}))
    defs.append(("SG_H7_D2_SRAM_ENABLE", f"0x{d2:08X}u"))
    sdram = _used(plan, {"SDRAM"})
    qspi = _used(plan, {"QSPI"})
    if (sdram or qspi) and target.id != "stm32h747i-disco":
        raise BuildError(f"board {target.id} has no external memory set-up; only stm32h747i-disco does")
    defs.append(("SG_USE_SDRAM", str(int(sdram))))
    if sdram:
        r = target.region("SDRAM")
        defs += [("SG_SDRAM_BASE", f"0x{r.base:08X}u"), ("SG_SDRAM_SIZE_LOG2", f"{int(math.log2(r.size))}u")]
        defs += _sdram_defines(c.hclk_hz // 2)
    defs.append(("SG_USE_QSPI", str(int(qspi))))
    if qspi:
        r = target.region("QSPI")
        # QUADSPI kernel clock = rcc_hclk3 (RM0399 §8.7.27 default); /3 stays under the
        # MT25QL512's 133 MHz quad-output limit with margin for the board traces.
        defs += [("SG_QSPI_BASE", f"0x{r.base:08X}u"), ("SG_QSPI_SIZE_LOG2", f"{int(math.log2(r.size))}u"),
                 ("SG_QSPI_FSIZE", f"{int(math.log2(r.size)) - 1}u"), ("SG_QSPI_PRESCALER", "2u"),
                 ("SG_QSPI_DUAL_FLASH", "1u"), ("SG_QSPI_READ_COMMAND", "0x6Cu"), ("SG_QSPI_DUMMY_CYCLES", "8u"),
                 ("SG_QSPI_PINS", _pins_macro(_H747_QSPI_PINS))]
    return defs, c.pclk_hz


def _n6_defines(target, plan) -> list[tuple[str, str]]:
    vco = 1_200_000_000  # HSI 64 MHz / 4 x 75 (RM0486 PLL: reference 16 MHz, VCO 800..3200 MHz)
    if vco % target.clock_hz or not 1 <= vco // target.clock_hz <= 256:
        raise BuildError(f"STM32N6 CPU clock {target.clock_hz} Hz is not 1200 MHz / an integer")
    banks = [n for n in ("AXISRAM3", "AXISRAM4", "AXISRAM5", "AXISRAM6") if _used(plan, {n})]
    mask = sum(1 << (int(n[-1]) - 3) for n in banks)
    psram = _used(plan, {"PSRAM"})
    defs = [("SG_N6_IC1_DIV", f"{vco // target.clock_hz}u"), ("SG_N6_AXISRAM_MASK", f"0x{mask:X}u"),
            ("SG_USE_XSPI_NOR", str(int(_used(plan, {"XSPI_NOR"})))), ("SG_USE_PSRAM", str(int(psram)))]
    if psram:
        if target.id not in _N6_PSRAM_BOARDS:
            raise BuildError(f"board {target.id} has no PSRAM set-up (XSPI1 pins, APS256XX); only "
                             f"{', '.join(sorted(_N6_PSRAM_BOARDS))} does")
        defs += _n6_psram_defines(target.region("PSRAM"), _N6_HCLK_HZ)
    return defs, _N6_HCLK_HZ  # PCLK2 = HCLK


def _n6_psram_defines(region, kernel_hz: int) -> list[tuple[str, str]]:
    """XSPI1 timing for the APS256XX from the XSPI1 kernel clock (HCLK, RM0486 RCC_CCIPR6 reset value).
    The C that uses it (system_stm32n6.c) is compile-checked only: not yet run on a board."""
    size_log2 = int(math.log2(region.size))
    if 1 << size_log2 != region.size or region.base % region.size:
        raise BuildError(f"PSRAM region {region.size:#x} bytes at {region.base:#010x} is not a naturally "
                         "aligned power of two, which XSPI DEVSIZE and the MPU region need")
    # Memory clock: the fastest kernel_hz / (PRESCALER + 1) within the APS256XX's 200 MHz (latency code 7).
    prescaler = -(-kernel_hz // _APS256XX["max_hz"]) - 1
    mem_hz = kernel_hz // (prescaler + 1)
    # RM0486 XSPI DCR4: nCS is released every REFRESH + 4 cycles on reads, so the PSRAM can refresh
    # within its tCEM (maximum nCS-low time).
    refresh = int(_APS256XX["cs_low_max_ns"] * mem_hz // 1_000_000_000) - 4
    csht = clocks.ns_to_cycles(_APS256XX["cs_high_min_ns"], mem_hz)
    return [("SG_PSRAM_BASE", f"0x{region.base:08X}u"), ("SG_PSRAM_LIMIT", f"0x{region.base + region.size - 1:08X}u"),
            ("SG_PSRAM_DEVSIZE", f"{size_log2 - 1}u"), ("SG_PSRAM_CSHT", f"{csht - 1}u"),
            ("SG_PSRAM_INIT_PRESCALER", f"{-(-kernel_hz // _APS256XX['init_hz']) - 1}u"),
            ("SG_PSRAM_PRESCALER", f"{prescaler}u"), ("SG_PSRAM_REFRESH", f"{refresh}u")]


def stm32_defines(fam: str, target, plan) -> list[tuple[str, str]]:
    defs, pclk = (_h7_defines if fam == "stm32h7" else _n6_defines)(target, plan)
    uart = target.uart
    key = (fam, uart.instance)
    if key not in _USART:
        raise BuildError(f"console {uart.instance} on {target.id} is not supported; supported: "
                         f"{', '.join(i for f, i in _USART if f == fam)}")
    base, en_reg, en_bit, _ = _USART[key]
    rcc, gpio, stride, gpio_en = _FAMILY[fam]
    tx_port, tx_pin = _pin(uart.tx)
    rx_port, rx_pin = _pin(uart.rx)
    return defs + [
        ("SG_RCC_BASE", f"0x{rcc:08X}u"), ("SG_GPIO_BASE", f"0x{gpio:08X}u"), ("SG_GPIO_STRIDE", f"0x{stride:X}u"),
        ("SG_RCC_GPIO_EN", f"0x{gpio_en:03X}u"),
        ("SG_UART_BASE", f"0x{base:08X}u"), ("SG_UART_RCC_EN", f"0x{en_reg:03X}u"), ("SG_UART_RCC_BIT", f"{en_bit}u"),
        ("SG_UART_BRR", f"{clocks.usart_brr(pclk, uart.baud)}u"),
        ("SG_UART_TX_PORT", f"{tx_port}u"), ("SG_UART_TX_PIN", f"{tx_pin}u"),
        ("SG_UART_RX_PORT", f"{rx_port}u"), ("SG_UART_RX_PIN", f"{rx_pin}u"), ("SG_UART_AF", f"{uart.af}u"),
    ]
