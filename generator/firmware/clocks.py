"""Clock tree, power and external-memory numbers for the STM32 families, computed here so the C
templates only copy registers.

STM32H7 (RM0433 for H743, RM0399 for H747; same RCC/PWR/FLASH layout for what we touch):
PLL1 is fed by HSI (64 MHz, always present: no dependence on a board crystal), divided by M to a
reference in 8..16 MHz, multiplied by N into the wide VCO range 192..836 MHz (960 MHz at VOS0) and divided by an
even P to sys_ck (RM0433 §8.7.12-§8.7.13). HCLK = sys_ck/2 <= 240 MHz, every APB = HCLK/2 <= 120 MHz.
STM32N6 (RM0486): the CPU runs from PLL1 through the IC1 divider; see system_stm32n6.c.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.errors import BuildError

HSI_HZ = 64_000_000

# RM0433 Table 17 / RM0399 Table 16 (FLASH recommended wait states): upper AXI/HCLK bound (Hz) of
# each LATENCY value, with the WRHIGHFREQ programming delay, per voltage scale.
_FLASH_WS = {
    0: ((70e6, 0, 0), (140e6, 1, 1), (185e6, 2, 1), (210e6, 2, 2), (225e6, 3, 2), (240e6, 4, 2)),
    1: ((70e6, 0, 0), (140e6, 1, 1), (185e6, 2, 1), (210e6, 2, 2), (225e6, 3, 2)),
}
# Highest sys_ck per voltage scale (RM0433 §6.6.2, revision V silicon).
_VOS_MAX = ((1, 400_000_000), (0, 480_000_000))


@dataclass(frozen=True, slots=True)
class H7Clocks:
    vos: int  # 0 (needs SYSCFG ODEN) or 1
    pll_m: int
    pll_n: int
    pll_p: int
    pll_rge: int  # PLL1RGE: input range 3 = 8..16 MHz
    sys_hz: int
    hclk_hz: int
    pclk_hz: int
    flash_latency: int
    flash_wrhighfreq: int


def h7_clocks(sys_hz: int) -> H7Clocks:
    """The PLL1 settings that give exactly `sys_hz` from HSI, or BuildError."""
    vos = next((v for v, top in _VOS_MAX if sys_hz <= top), None)
    if vos is None:
        raise BuildError(f"STM32H7 clock {sys_hz} Hz is above the 480 MHz maximum")
    # Wide VCO range: 192..836 MHz, extended to 960 MHz for the 480 MHz VOS0 operation of revision V
    # silicon (RM0433 §8.7.13 PLL1VCOSEL, datasheet DS12110 table "PLL characteristics").
    vco_max = 960_000_000 if vos == 0 else 836_000_000
    for m in range(4, 9):  # reference 16..8 MHz
        ref = HSI_HZ // m
        if HSI_HZ % m:
            continue
        for p in range(2, 129, 2):
            vco = sys_hz * p
            if not 192_000_000 <= vco <= vco_max or vco % ref:
                continue
            n = vco // ref
            if 4 <= n <= 512:
                hclk = sys_hz // 2
                latency, wrhf = next((ws, wr) for top, ws, wr in _FLASH_WS[vos] if hclk <= top)
                return H7Clocks(vos, m, n, p, 3 if ref >= 8_000_000 else 2, sys_hz, hclk, hclk // 2, latency, wrhf)
    raise BuildError(f"no PLL1 setting reaches exactly {sys_hz} Hz from the 64 MHz HSI")


def usart_brr(kernel_hz: int, baud: int) -> int:
    """USART BRR for 16x oversampling, rounded to nearest; error above 2 % is refused."""
    brr = (kernel_hz + baud // 2) // baud
    actual = kernel_hz / brr
    if brr < 16 or abs(actual - baud) / baud > 0.02:
        raise BuildError(f"baud rate {baud} cannot be made from a {kernel_hz} Hz USART clock")
    return brr


def sdram_refresh_count(sdclk_hz: int, refresh_ms: float, rows: int) -> int:
    """FMC_SDRTR.COUNT = refresh interval per row in SDCLK cycles minus the 20-cycle safety margin
    (RM0433 §22.7.5, "SDRAM refresh timer register")."""
    return int(refresh_ms * 1e-3 / rows * sdclk_hz) - 20


def ns_to_cycles(ns: float, clk_hz: int) -> int:
    """Whole clock cycles covering `ns` nanoseconds (at least 1)."""
    period = 1e9 / clk_hz
    return max(1, -int(-ns // period))
