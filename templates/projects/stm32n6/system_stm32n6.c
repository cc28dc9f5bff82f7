/* STM32N657 (Cortex-M55) bring-up at register level for code loaded into AXISRAM1 (dev boot or
 * FSBL), before .data/.bss exist:
 *
 *   1. drop the MPU set-up the boot ROM may leave behind;
 *   2. I/O supply valid flags for the VDDIO2/VDDIO3 domains (RM0486 PWR_SVMCR3), needed before
 *      the console pins (PE5/PE6) and the XSPI2 port-N pins drive anything;
 *   3. PLL1 = HSI/4 x 75 = 1200 MHz, IC1 -> CPU (SG_N6_IC1_DIV), IC2 = 400 MHz AXI, IC6 = 300 MHz,
 *      IC11 = 400 MHz, HCLK = 200 MHz, every APB = HCLK (RM0486 RCC: PLL, IC dividers, CFGR1/2);
 *   4. AXISRAM3..6 the plan uses: clock on (RCC_MEMENR) and out of shutdown (RAMCFG_AXISRAMxCR
 *      SRAMSD) — only AXISRAM1/2 are usable at reset;
 *   5. XSPI2 memory-mapped on the MX66UW1G45G (1-1-1 FAST READ 4B, 8 dummy cycles: the command the
 *      flash accepts from power-on without any configuration) when the plan puts weights there;
 *   6. caches.
 * The register offsets follow RM0486; this file is compile-checked, not yet run on a board. */
#include <stdint.h>

#include "sg_board.h"
#include "sg_system.h"
#include "stm32n6_regs.h"

void sg_caches_enable(void);

static void ic_divider(uint32_t n, uint32_t divide)
{
    RCC_DIVENCR = 1u << (n - 1u); /* divider off while it is reprogrammed */
    RCC_ICCFGR(n) = (0u << 28) /* PLL1 */ | ((divide - 1u) << 16);
    RCC_DIVENSR = 1u << (n - 1u);
}

static void clocks(void)
{
    /* A boot stage (FSBL, boot ROM) may already run the CPU and buses from IC1/IC2: go back to HSI
     * first so that no divider or PLL is reprogrammed under the running core. */
    RCC_CFGR1 &= ~((3u << 16) | (3u << 24));
    while (((RCC_CFGR1 >> 20) & 3u) != 0u || ((RCC_CFGR1 >> 28) & 3u) != 0u) {
    }
    RCC_PLL1CFGR1 |= RCC_PLL1BYP; /* run from the reference while reprogramming */
    RCC_CCR = RCC_PLL1ON;
    RCC_PLL1CFGR1 = (RCC_PLL1CFGR1 & 0x8C0000FFu) | (0u << 28) /* HSI */ | (4u << 20) | (75u << 8);
    RCC_PLL1CFGR2 = 0u; /* integer mode */
    /* PDIV1 = PDIV2 = 1, output enable, spread spectrum off and held in reset */
    RCC_PLL1CFGR3 = (1u << 27) | (1u << 24) | (1u << 30) | (1u << 2) | (1u << 0);
    RCC_CSR = RCC_PLL1ON;
    while ((RCC_SR & RCC_PLL1ON) == 0u) {
    }
    RCC_PLL1CFGR1 &= ~RCC_PLL1BYP;

    ic_divider(1u, SG_N6_IC1_DIV);
    ic_divider(2u, 3u);
    ic_divider(6u, 4u);
    ic_divider(11u, 3u);
    RCC_CFGR2 = (RCC_CFGR2 & ~((7u << 0) | (7u << 4) | (7u << 12) | (7u << 16) | (7u << 20))) | (1u << 20);
    RCC_CFGR1 |= (3u << 16) | (3u << 24); /* CPUSW = IC1, SYSSW = IC2/IC6/IC11 */
    while (((RCC_CFGR1 >> 20) & 3u) != 3u || ((RCC_CFGR1 >> 28) & 3u) != 3u) {
    }
}

static void axisram_enable(void)
{
#if SG_N6_AXISRAM_MASK
    RCC_MEMENSR = SG_N6_AXISRAM_MASK; /* bits 0..3 = AXISRAM3..6 */
    RCC_AHB2ENSR = 1u << 12;          /* RAMCFGEN */
    (void)RCC_AHB2ENSR;
    for (uint32_t bank = 3u; bank <= 6u; ++bank) {
        if ((SG_N6_AXISRAM_MASK & (1u << (bank - 3u))) != 0u) {
            RAMCFG_AXISRAMCR(bank) &= ~RAMCFG_SRAMSD;
        }
    }
#endif
}

#if SG_USE_XSPI_NOR
static void xspi_nor_memory_mapped(void)
{
    /* PN0..PN6, PN8..PN11 are XSPIM port 2 (AF9), on the 1.8 V VDDIO3 domain. */
    static const uint8_t pins[] = {0u, 1u, 2u, 3u, 4u, 5u, 6u, 8u, 9u, 10u, 11u};
    PWR_SVMCR3 |= PWR_SVMCR3_VDDIO3VRSEL;
    RCC_AHB4ENSR = 1u << 13; /* GPION */
    RCC_AHB5ENSR = (1u << 12) | (1u << 13); /* XSPI2, XSPIM */
    (void)RCC_AHB5ENSR;
    for (uint32_t i = 0u; i < sizeof pins; ++i) {
        uint32_t pin = pins[i], two = 2u * pin, afr = 0x20u + 4u * (pin / 8u), four = 4u * (pin % 8u);
        SG_REG32(GPION_BASE + 0x00u) = (SG_REG32(GPION_BASE + 0x00u) & ~(3u << two)) | (2u << two);
        SG_REG32(GPION_BASE + 0x08u) |= 3u << two;
        SG_REG32(GPION_BASE + afr) = (SG_REG32(GPION_BASE + afr) & ~(0xFu << four)) | (9u << four);
    }
    SG_REG32(GPION_BASE + 0x0Cu) = (SG_REG32(GPION_BASE + 0x0Cu) & ~(3u << 2)) | (1u << 2); /* NCS1 pull-up */

    XSPI_CR = 0u;
    while ((XSPI_SR & XSPI_SR_BUSY) != 0u) {
    }
    XSPI_DCR1 = (1u << 24) /* Macronix */ | (26u << 16) /* 2^27 bytes */ | (1u << 8) /* CSHT */;
    XSPI_DCR2 = 3u; /* kernel clock (HCLK 200 MHz) / 4 = 50 MHz */
    XSPI_TCR = (1u << 30) /* SSHIFT */ | (1u << 28) /* DHQC */ | 8u /* dummy cycles */;
    XSPI_CCR = (1u << 24) /* data 1 line */ | (3u << 12) /* 32-bit address */ | (1u << 8) | (1u << 0);
    XSPI_IR = 0x0Cu; /* FAST READ 4B */
    XSPI_CR = (3u << 28) /* memory-mapped */ | (3u << 8) /* FTHRES */ | 1u;
}
#endif

void sg_system_init(void)
{
    MPU_CTRL = 0u;
    sg_dsb();
    sg_isb();
    PWR_SVMCR3 |= PWR_SVMCR3_VDDIO2SV | PWR_SVMCR3_VDDIO3SV;
    clocks();
    axisram_enable();
#if SG_USE_XSPI_NOR
    xspi_nor_memory_mapped();
#endif
    sg_caches_enable();
}
