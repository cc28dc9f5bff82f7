/* STM32H743 / STM32H747 (Cortex-M7) bring-up at register level, before .data/.bss exist:
 *
 *   1. supply configuration (RM0433 §6.4 / RM0399 §7.4): LDO on the H743 Nucleo, direct SMPS on
 *      the H747 Discovery; PWR_CR3 is write-once per power-on, so it must match the board;
 *   2. voltage scale (RM0433 §6.6.2 "voltage scaling"): VOS1, plus overdrive (VOS0) above 400 MHz;
 *   3. flash wait states for the new AXI clock (RM0433 §4.3.8, table 17) before raising it;
 *   4. PLL1 from HSI to sys_ck, HCLK = sys_ck/2, APBs = HCLK/2 (RM0433 §8.5.5, §8.7.6-8.7.13);
 *   5. MPU attributes (Cortex-M7 PMSAv7) for the FMC NOR window, SDRAM and QSPI, then caches;
 *   6. clocks of the D2 SRAM1..3 banks the plan uses (RCC_AHB2ENR, RM0433 §8.7.41);
 *   7. FMC SDRAM init sequence (RM0433 §22.9.3) and QUADSPI memory-mapped mode (RM0433 §23.3.4),
 *      each only when the memory plan uses the memory.
 * Every number comes from sg_board.h, computed by generator/firmware/clocks.py and stm32.py. */
#include <stdint.h>

#include "sg_board.h"
#include "sg_system.h"
#include "stm32h7_regs.h"

void sg_caches_enable(void);

/* PMSAv7 RASR fields (Armv7-M ARM B3.5.9) */
#define RASR_XN            (1u << 28)
#define RASR_AP_NONE       (0u << 24)
#define RASR_AP_RW         (3u << 24)
#define RASR_AP_RO         (6u << 24)
#define RASR_NORMAL_WBWA   ((1u << 19) | (1u << 17) | (1u << 16)) /* TEX=001 C=1 B=1 */
#define RASR_NORMAL_WT     (1u << 17)                             /* TEX=000 C=1 B=0 */
#define RASR_STRONGLY_ORD  0u
#define RASR_SIZE(log2)    (((uint32_t)(log2) - 1u) << 1)
#define RASR_ENABLE        1u

static void mpu_region(uint32_t number, uint32_t base, uint32_t rasr)
{
    MPU_RNR = number;
    MPU_RBAR = base;
    MPU_RASR = rasr;
}

static void power_and_clocks(void)
{
#if SG_H7_SUPPLY_SMPS
    PWR_CR3 = (PWR_CR3 & ~0x7u) | (1u << 2); /* SDEN=1, LDOEN=0, BYPASS=0: direct SMPS (RM0399 §7.8.4) */
#else
    PWR_CR3 = (PWR_CR3 & ~0x7u) | (1u << 1); /* LDOEN=1, BYPASS=0 (RM0433 §6.8.4) */
#endif
    while ((PWR_CSR1 & PWR_CSR1_ACTVOSRDY) == 0u) {
    }
    PWR_D3CR = (PWR_D3CR & ~(3u << 14)) | (3u << 14); /* VOS1 */
    while ((PWR_D3CR & PWR_D3CR_VOSRDY) == 0u) {
    }
#if SG_H7_VOS == 0
    RCC_APB4ENR |= RCC_APB4ENR_SYSCFGEN;
    (void)RCC_APB4ENR;
    SYSCFG_PWRCR |= 1u; /* ODEN: VOS1 -> VOS0 */
    while ((PWR_D3CR & PWR_D3CR_VOSRDY) == 0u) {
    }
#endif

    FLASH_ACR = (FLASH_ACR & ~0x3Fu) | (SG_H7_FLASH_WRHIGHFREQ << 4) | SG_H7_FLASH_LATENCY;
    while ((FLASH_ACR & 0xFu) != SG_H7_FLASH_LATENCY) {
    }

    while ((RCC_CR & RCC_CR_HSIRDY) == 0u) { /* HSI 64 MHz runs from reset */
    }
    RCC_PLLCKSELR = (RCC_PLLCKSELR & ~((0x3Fu << 4) | 3u)) | (SG_H7_PLL_M << 4); /* PLLSRC=HSI, DIVM1 */
    RCC_PLL1DIVR = ((SG_H7_PLL_N - 1u) << 0) | ((SG_H7_PLL_P - 1u) << 9) | (1u << 16) | (1u << 24);
    RCC_PLLCFGR = (RCC_PLLCFGR & ~0x7Fu) | (SG_H7_PLL_RGE << 2) | (1u << 16); /* wide VCO, integer, DIVP1EN */
    RCC_CR |= RCC_CR_PLL1ON;
    while ((RCC_CR & RCC_CR_PLL1RDY) == 0u) {
    }
    /* D1CPRE=1, HPRE=2 (HCLK = sys_ck/2), APB3/1/2/4 = HCLK/2 */
    RCC_D1CFGR = (0u << 8) | (4u << 4) | 8u;
    RCC_D2CFGR = (4u << 8) | (4u << 4);
    RCC_D3CFGR = (4u << 4);
    RCC_CFGR = (RCC_CFGR & ~7u) | 3u; /* SW = PLL1 */
    while (((RCC_CFGR >> 3) & 7u) != 3u) {
    }
}

#if SG_USE_SDRAM || SG_USE_QSPI
static void pins_af(const uint32_t (*pins)[3], uint32_t count, uint32_t pull)
{
    for (uint32_t i = 0u; i < count; ++i) {
        uint32_t port = pins[i][0], mask = pins[i][1], af = pins[i][2];
        SG_REG32(SG_RCC_BASE + SG_RCC_GPIO_EN) |= 1u << port;
        (void)SG_REG32(SG_RCC_BASE + SG_RCC_GPIO_EN);
        uint32_t gpio = SG_GPIO_BASE + port * SG_GPIO_STRIDE;
        for (uint32_t pin = 0u; pin < 16u; ++pin) {
            if ((mask & (1u << pin)) == 0u) {
                continue;
            }
            uint32_t two = 2u * pin, afr = 0x20u + 4u * (pin / 8u), four = 4u * (pin % 8u);
            SG_REG32(gpio + 0x00u) = (SG_REG32(gpio + 0x00u) & ~(3u << two)) | (2u << two);    /* AF */
            SG_REG32(gpio + 0x08u) |= 3u << two;                                                /* very high speed */
            SG_REG32(gpio + 0x0Cu) = (SG_REG32(gpio + 0x0Cu) & ~(3u << two)) | (pull << two);  /* PUPDR */
            SG_REG32(gpio + afr) = (SG_REG32(gpio + afr) & ~(0xFu << four)) | (af << four);
        }
    }
}
#endif

#if SG_USE_SDRAM || SG_USE_QSPI
static void spin(uint32_t n)
{
    for (volatile uint32_t i = 0u; i < n; i = i + 1u) {
    }
}
#endif

#if SG_USE_SDRAM
static const uint32_t sdram_pins[][3] = {SG_SDRAM_PINS};

static void sdram_command(uint32_t mode, uint32_t refresh, uint32_t mrd)
{
    FMC_SDCMR = mode | (1u << 3) /* CTB2: SDRAM bank 2 */ | ((refresh - 1u) << 5) | (mrd << 9);
    while ((FMC_SDSR & FMC_SDSR_BUSY) != 0u) {
    }
}

static void sdram_init(void)
{
    pins_af(sdram_pins, sizeof sdram_pins / sizeof sdram_pins[0], 1u /* pull-up */);
    RCC_AHB3ENR |= RCC_AHB3ENR_FMCEN;
    (void)RCC_AHB3ENR;
    FMC_SDCR1 = SG_SDRAM_SDCR_COMMON;  /* SDCLK, RBURST, RPIPE live in SDCR1 only */
    FMC_SDCR2 = SG_SDRAM_SDCR_BANK;
    FMC_SDTR1 = SG_SDRAM_SDTR_COMMON;  /* TRC, TRP live in SDTR1 only */
    FMC_SDTR2 = SG_SDRAM_SDTR_BANK;
    FMC_BCR1 |= FMC_BCR1_FMCEN;
    sdram_command(1u, 1u, 0u);           /* clock configuration enable */
    spin(SG_CORE_CLOCK_HZ / 10000u);     /* >= 100 us power-up delay */
    sdram_command(2u, 1u, 0u);           /* precharge all */
    sdram_command(3u, 8u, 0u);           /* 8 auto-refresh cycles */
    sdram_command(4u, 1u, SG_SDRAM_MODE_REGISTER);
    FMC_SDRTR = SG_SDRAM_REFRESH_COUNT << 1;
}
#endif

#if SG_USE_QSPI
static const uint32_t qspi_pins[][3] = {SG_QSPI_PINS};

/* An instruction-only command in indirect mode (FMODE=00, no address, no data): writing CCR
 * starts it (RM0433 §23.3.9). `lines` is IMODE: 1 = single line, 3 = four lines (QPI). */
static void qspi_command(uint32_t instruction, uint32_t lines)
{
    QSPI_CCR = (lines << 8) | instruction;
    while ((QSPI_SR & QSPI_SR_TCF) == 0u) {
    }
    QSPI_FCR = QSPI_SR_TCF;
    while ((QSPI_SR & QSPI_SR_BUSY) != 0u) {
    }
}

static void qspi_memory_mapped(void)
{
    pins_af(qspi_pins, sizeof qspi_pins / sizeof qspi_pins[0], 0u);
    RCC_AHB3ENR |= RCC_AHB3ENR_QSPIEN;
    (void)RCC_AHB3ENR;
    /* PRESCALER, FTHRES=3, SSHIFT (sample half a cycle late), DFM: two chips side by side */
    QSPI_CR = (SG_QSPI_PRESCALER << 24) | (3u << 8) | (1u << 4) | (SG_QSPI_DUAL_FLASH << 6);
    QSPI_DCR = (SG_QSPI_FSIZE << 16) | (3u << 8); /* FSIZE, CSHT = 4 cycles */
    QSPI_CR |= 1u;
    while ((QSPI_SR & QSPI_SR_BUSY) != 0u) {
    }
    /* The external loader may have left the flashes in QPI mode or with another dummy-cycle
     * setting, and a core reset does not reset them: reset-enable + reset-memory (66h, 99h) in
     * QPI and then SPI mode brings both back to their power-on state (MT25QL512 "software reset"). */
    qspi_command(0x66u, 3u);
    qspi_command(0x99u, 3u);
    qspi_command(0x66u, 1u);
    qspi_command(0x99u, 1u);
    spin(SG_CORE_CLOCK_HZ / 10000u); /* >= 40 us reset recovery */
    /* FMODE=11 memory-mapped, DMODE=4 lines, DCYC, ADSIZE=32 bit, ADMODE=1 line, IMODE=1 line:
     * the 4-byte-address quad-output fast read that works from the flash's power-on state. */
    QSPI_CCR = (3u << 26) | (3u << 24) | (SG_QSPI_DUMMY_CYCLES << 18) | (3u << 12) | (1u << 10) | (1u << 8) |
               SG_QSPI_READ_COMMAND;
}
#endif

static void mpu_setup(void)
{
    MPU_CTRL = 0u;
    sg_dsb();
    sg_isb();
    /* The FMC NOR/PSRAM window is Normal memory in the default map, so the core may read it
     * speculatively and stall the bus when nothing answers: make it no-access (AN4861 §4.6). */
    mpu_region(0u, 0x60000000u, RASR_XN | RASR_AP_NONE | RASR_STRONGLY_ORD | RASR_SIZE(28) | RASR_ENABLE);
    /* Same for the whole QUADSPI window; region 3 re-opens the part that is populated. */
    mpu_region(1u, 0x90000000u, RASR_XN | RASR_AP_NONE | RASR_STRONGLY_ORD | RASR_SIZE(28) | RASR_ENABLE);
#if SG_USE_SDRAM
    mpu_region(2u, SG_SDRAM_BASE, RASR_XN | RASR_AP_RW | RASR_NORMAL_WBWA | RASR_SIZE(SG_SDRAM_SIZE_LOG2) | RASR_ENABLE);
#endif
#if SG_USE_QSPI
    mpu_region(3u, SG_QSPI_BASE, RASR_XN | RASR_AP_RO | RASR_NORMAL_WT | RASR_SIZE(SG_QSPI_SIZE_LOG2) | RASR_ENABLE);
#endif
    MPU_CTRL = MPU_CTRL_ENABLE | MPU_CTRL_PRIVDEFENA;
    sg_dsb();
    sg_isb();
}

void sg_system_init(void)
{
    power_and_clocks();
#if SG_H7_D2_SRAM_ENABLE
    RCC_AHB2ENR |= SG_H7_D2_SRAM_ENABLE;
    (void)RCC_AHB2ENR;
#endif
#if SG_USE_SDRAM
    sdram_init();
#endif
#if SG_USE_QSPI
    qspi_memory_mapped();
#endif
    mpu_setup();
    sg_caches_enable();
}
