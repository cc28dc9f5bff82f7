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
 *   6. XSPI1 memory-mapped on the APS256XX PSRAM (x16 DTR, latency 7, read/write) plus a write-back
 *      MPU region over it, when the plan puts activations there;
 *   7. caches.
 * The register offsets follow RM0486; this file is compile-checked, not yet run on a board (the
 * PSRAM part included: no hardware was available when it was written). */
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

#if SG_USE_PSRAM
/* COMPILE-CHECKED ONLY: this PSRAM bring-up has not run on an STM32N6570-DK yet (no hardware).
 *
 * APS256XXN-OBR commands and mode registers (AP Memory datasheet, command and mode-register tables;
 * the same values as ST's aps256xx.h driver). */
#define APS_CMD_READ_LINEAR  0x20u /* linear burst read */
#define APS_CMD_WRITE_LINEAR 0xA0u /* linear burst write */
#define APS_CMD_WRITE_MR     0xC0u /* mode register write, no latency */
#define APS_LATENCY          7u    /* read and write latency code 7: up to 200 MHz */

/* STM32N6570-DK XSPI1 pins (UM3300 hexadeca-SPI PSRAM section; ST BSP stm32n6570_discovery_xspi.h):
 * PO0 NCS1, PO2 DQS0, PO3 DQS1, PO4 CLK, PP0..PP15 IO0..IO15, all AF9 (XSPIM port 1), VDDIO2 at 1.8 V. */
#define PSRAM_PINS_O 0x001Du
#define PSRAM_PINS_P 0xFFFFu

static void xspi_pins(uint32_t port, uint32_t mask)
{
    for (uint32_t pin = 0u; pin < 16u; ++pin) {
        if ((mask & (1u << pin)) == 0u) {
            continue;
        }
        uint32_t two = 2u * pin, four = 4u * (pin % 8u);
        GPIO_MODER(port) = (GPIO_MODER(port) & ~(3u << two)) | (2u << two); /* RM0486 GPIOx_MODER: alternate */
        GPIO_OSPEEDR(port) |= 3u << two;                                   /* GPIOx_OSPEEDR: very high speed */
        GPIO_PUPDR(port) = (GPIO_PUPDR(port) & ~(3u << two)) | (1u << two); /* GPIOx_PUPDR: pull-up, as ST's BSP */
        GPIO_AFR(port, pin) = (GPIO_AFR(port, pin) & ~(0xFu << four)) | (9u << four); /* GPIOx_AFRL/H: AF9 */
    }
}

static void xspi1_wait_idle(void)
{
    while ((XSPI1_SR & XSPI_SR_BUSY) != 0u) { /* RM0486 XSPI_SR.BUSY: config writes need BUSY = 0 */
    }
}

/* One APS256XX mode-register write in indirect-write mode: instruction 8 lines STR, 32-bit address
 * and data on 8 lines DTR, no latency, no DQS (APS256XX datasheet, mode register write figure; RM0486
 * XSPI indirect mode: the transfer starts on the AR write and its data phase takes the FIFO bytes). */
static void psram_write_mode_register(uint32_t address, uint32_t value)
{
    XSPI1_DLR = 1u; /* RM0486 XSPI_DLR: DL + 1 = 2 bytes, one DTR clock: the register value on both edges */
    XSPI1_CCR = XSPI_CCR_IMODE_8 | XSPI_CCR_ADMODE_8 | XSPI_CCR_ADDTR | XSPI_CCR_ADSIZE_32 | XSPI_CCR_DMODE_8 |
                XSPI_CCR_DDTR;              /* RM0486 XSPI_CCR */
    XSPI1_TCR = XSPI_TCR_DHQC;              /* RM0486 XSPI_TCR: no dummy cycle, DTR output hold */
    XSPI1_IR = APS_CMD_WRITE_MR;            /* RM0486 XSPI_IR */
    XSPI1_AR = address;                     /* RM0486 XSPI_AR: starts the command */
    XSPI1_DR16 = (uint16_t)(value * 0x101u); /* RM0486 XSPI_DR: the 2 data bytes */
    while ((XSPI1_SR & XSPI_SR_TCF) == 0u) { /* RM0486 XSPI_SR.TCF: transfer complete */
    }
    XSPI1_FCR = XSPI_FCR_CTCF;              /* RM0486 XSPI_FCR: clear TCF */
    xspi1_wait_idle();
}

static void psram_memory_mapped(void)
{
    PWR_SVMCR3 |= PWR_SVMCR3_VDDIO2VRSEL;           /* RM0486 PWR_SVMCR3: VDDIO2 in the 1.8 V range (UM3300) */
    RCC_AHB4ENSR = (1u << 14) | (1u << 15);         /* RM0486 RCC_AHB4ENR: GPIOOEN, GPIOPEN */
    RCC_AHB5ENSR = (1u << 5) | (1u << 13);          /* RM0486 RCC_AHB5ENR: XSPI1EN, XSPIMEN */
    (void)RCC_AHB5ENSR;
    /* XSPIM stays in its reset mode (RM0486 XSPIM_CR = 0: XSPI1 on port 1, XSPI2 on port 2). */
    xspi_pins(GPIOO_BASE, PSRAM_PINS_O);
    xspi_pins(GPIOP_BASE, PSRAM_PINS_P);

    if ((XSPI1_CR & XSPI_CR_EN) != 0u) { /* a boot stage may have left it running */
        XSPI1_CR |= XSPI_CR_ABORT;       /* RM0486 XSPI_CR.ABORT: leaves memory-mapped mode, self-clearing */
        while ((XSPI1_CR & XSPI_CR_ABORT) != 0u) {
        }
    }
    XSPI1_CR = 0u; /* RM0486 XSPI_CR: disabled while the device registers change */
    xspi1_wait_idle();
    /* RM0486 XSPI_DCR1: AP Memory 16-bit protocol, DEVSIZE = log2(bytes) - 1, nCS high >= CSHT + 1
     * cycles between commands, clock mode 0 */
    XSPI1_DCR1 = XSPI_DCR1_MTYP_APM16 | (SG_PSRAM_DEVSIZE << 16) | (SG_PSRAM_CSHT << 8);
    XSPI1_DCR2 = SG_PSRAM_INIT_PRESCALER; /* RM0486 XSPI_DCR2: slow clock for the mode-register writes */
    /* RM0486 XSPI_DCR3: CSBOUND = 10, no burst crosses a 1 KiB boundary, so none crosses an APS256XX
     * page (2 KiB in x16 mode, datasheet organisation table: 1024 words per page) */
    XSPI1_DCR3 = 10u << 16;
    XSPI1_DCR4 = SG_PSRAM_REFRESH; /* RM0486 XSPI_DCR4: nCS released so the PSRAM can self-refresh (tCEM) */
    XSPI1_CR = XSPI_CR_FMODE_WRITE | XSPI_CR_FTHRES(8u) | XSPI_CR_EN; /* RM0486 XSPI_CR: indirect write */

    /* APS256XX datasheet mode-register tables (values as ST's BSP for this board writes them):
     * MR0 = 0x30: fixed latency type, read latency code 7, full drive strength;
     * MR4 = 0x20: write latency code 7, 4x refresh, full-array refresh;
     * MR8 = 0x40: x16 I/O mode, 16-byte wrap (not used: linear burst commands), no row crossing. */
    psram_write_mode_register(0u, 0x30u);
    psram_write_mode_register(4u, 0x20u);
    psram_write_mode_register(8u, 0x40u);

    XSPI1_CR &= ~XSPI_CR_EN;
    xspi1_wait_idle();
    XSPI1_DCR2 = SG_PSRAM_PRESCALER; /* RM0486 XSPI_DCR2: full speed (<= 200 MHz, latency code 7) */
    /* Memory-mapped commands (APS256XX datasheet linear burst read/write; RM0486 XSPI_CCR/TCR/IR for
     * reads, XSPI_WCCR/WTCR/WIR for writes): instruction 8 lines STR, 32-bit address 8 lines DTR, data
     * 16 lines DTR with DQS (read strobe / write mask), latency - 1 dummy cycles because the latency
     * count starts on the last address clock (the count ST's aps256xx driver uses). */
    XSPI1_WCCR = XSPI_CCR_IMODE_8 | XSPI_CCR_ADMODE_8 | XSPI_CCR_ADDTR | XSPI_CCR_ADSIZE_32 | XSPI_CCR_DMODE_16 |
                 XSPI_CCR_DDTR | XSPI_CCR_DQSE;
    XSPI1_WTCR = APS_LATENCY - 1u;
    XSPI1_WIR = APS_CMD_WRITE_LINEAR;
    XSPI1_CCR = XSPI_CCR_IMODE_8 | XSPI_CCR_ADMODE_8 | XSPI_CCR_ADDTR | XSPI_CCR_ADSIZE_32 | XSPI_CCR_DMODE_16 |
                XSPI_CCR_DDTR | XSPI_CCR_DQSE;
    XSPI1_TCR = XSPI_TCR_DHQC | (APS_LATENCY - 1u);
    XSPI1_IR = APS_CMD_READ_LINEAR;
    XSPI1_CR = XSPI_CR_FMODE_MMAP | XSPI_CR_FTHRES(8u) | XSPI_CR_EN; /* RM0486 XSPI_CR: memory-mapped */
}

/* The default Armv8-M memory map makes 0x8000_0000-0x9FFF_FFFF Normal write-through (Armv8-M ARM
 * B3.2 / D1.2 default memory map), so every activation store would go out to the PSRAM: give the
 * populated window write-back read/write-allocate instead, no execute. MPU region 0 with the default
 * map behind it (PRIVDEFENA) everywhere else. */
static void psram_mpu_region(void)
{
    MPU_CTRL = 0u;
    sg_dsb();
    sg_isb();
    MPU_MAIR0 = (MPU_MAIR0 & ~0xFFu) | 0xFFu; /* Armv8-M MPU_MAIR0 Attr0: Normal, inner/outer WB RW-allocate */
    MPU_RNR = 0u;                             /* Armv8-M MPU_RNR */
    /* Armv8-M MPU_RBAR: BASE, SH = non-shareable, AP = 01 read/write at any privilege, XN = 1 */
    MPU_RBAR = (SG_PSRAM_BASE & ~0x1Fu) | (0u << 3) | (1u << 1) | 1u;
    MPU_RLAR = (SG_PSRAM_LIMIT & ~0x1Fu) | (0u << 1) | 1u; /* Armv8-M MPU_RLAR: LIMIT, AttrIndx 0, EN */
    MPU_CTRL = MPU_CTRL_ENABLE | MPU_CTRL_PRIVDEFENA;       /* Armv8-M MPU_CTRL */
    sg_dsb();
    sg_isb();
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
#if SG_USE_PSRAM
    psram_memory_mapped();
    psram_mpu_region();
#endif
    sg_caches_enable();
}
