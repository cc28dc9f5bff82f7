/* STM32H743/H747 registers used by system_stm32h7.c. Addresses: RM0433 §2.3.2 memory map (RM0399
 * §2.3.2 is identical for these blocks); offsets from each block's register map section. */
#ifndef STM32H7_REGS_H
#define STM32H7_REGS_H

#include "sg_regs.h"

#define RCC_BASE    0x58024400u
#define PWR_BASE    0x58024800u
#define SYSCFG_BASE 0x58000400u
#define FLASH_BASE_ 0x52002000u
#define FMC_BASE    0x52004000u
#define QSPI_BASE   0x52005000u

/* RCC (RM0433 §8.7) */
#define RCC_CR        SG_REG32(RCC_BASE + 0x000u)
#define RCC_CFGR      SG_REG32(RCC_BASE + 0x010u)
#define RCC_D1CFGR    SG_REG32(RCC_BASE + 0x018u)
#define RCC_D2CFGR    SG_REG32(RCC_BASE + 0x01Cu)
#define RCC_D3CFGR    SG_REG32(RCC_BASE + 0x020u)
#define RCC_PLLCKSELR SG_REG32(RCC_BASE + 0x028u)
#define RCC_PLLCFGR   SG_REG32(RCC_BASE + 0x02Cu)
#define RCC_PLL1DIVR  SG_REG32(RCC_BASE + 0x030u)
#define RCC_D1CCIPR   SG_REG32(RCC_BASE + 0x04Cu)
#define RCC_AHB3ENR   SG_REG32(RCC_BASE + 0x0D4u)
#define RCC_AHB2ENR   SG_REG32(RCC_BASE + 0x0DCu)
#define RCC_APB4ENR   SG_REG32(RCC_BASE + 0x0F4u)
#define RCC_CR_HSIRDY  (1u << 2)
#define RCC_CR_PLL1ON  (1u << 24)
#define RCC_CR_PLL1RDY (1u << 25)
#define RCC_AHB3ENR_FMCEN  (1u << 12)
#define RCC_AHB3ENR_QSPIEN (1u << 14)
#define RCC_APB4ENR_SYSCFGEN (1u << 1)

/* PWR (RM0433 §6.8) */
#define PWR_CSR1 SG_REG32(PWR_BASE + 0x04u)
#define PWR_CR3  SG_REG32(PWR_BASE + 0x0Cu)
#define PWR_D3CR SG_REG32(PWR_BASE + 0x18u)
#define PWR_CSR1_ACTVOSRDY (1u << 13)
#define PWR_D3CR_VOSRDY    (1u << 13)

#define SYSCFG_PWRCR SG_REG32(SYSCFG_BASE + 0x2Cu)
#define FLASH_ACR    SG_REG32(FLASH_BASE_ + 0x00u)

/* FMC SDRAM controller (RM0433 §22.9.5) */
#define FMC_BCR1  SG_REG32(FMC_BASE + 0x000u)
#define FMC_SDCR1 SG_REG32(FMC_BASE + 0x140u)
#define FMC_SDCR2 SG_REG32(FMC_BASE + 0x144u)
#define FMC_SDTR1 SG_REG32(FMC_BASE + 0x148u)
#define FMC_SDTR2 SG_REG32(FMC_BASE + 0x14Cu)
#define FMC_SDCMR SG_REG32(FMC_BASE + 0x150u)
#define FMC_SDRTR SG_REG32(FMC_BASE + 0x154u)
#define FMC_SDSR  SG_REG32(FMC_BASE + 0x158u)
#define FMC_BCR1_FMCEN (1u << 31)
#define FMC_SDSR_BUSY  (1u << 5)

/* QUADSPI (RM0433 §23.5 / RM0399 §24.5) */
#define QSPI_CR  SG_REG32(QSPI_BASE + 0x00u)
#define QSPI_DCR SG_REG32(QSPI_BASE + 0x04u)
#define QSPI_SR  SG_REG32(QSPI_BASE + 0x08u)
#define QSPI_FCR SG_REG32(QSPI_BASE + 0x0Cu)
#define QSPI_CCR SG_REG32(QSPI_BASE + 0x14u)
#define QSPI_SR_TCF  (1u << 1)
#define QSPI_SR_BUSY (1u << 5)

#endif
