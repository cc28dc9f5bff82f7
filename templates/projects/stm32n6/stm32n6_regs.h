/* STM32N657 registers used by system_stm32n6.c, secure aliases (the state the core starts in).
 * Addresses: RM0486 §2.3 memory map; RCC/RAMCFG/PWR offsets from the RM0486 register maps. RCC
 * enable bits are written through the set / clear aliases (ENSR = ENR + 0x800, ENCR = ENR +
 * 0x1000), the PLL enables through RCC_CSR/RCC_CCR. */
#ifndef STM32N6_REGS_H
#define STM32N6_REGS_H

#include "sg_regs.h"

#define RCC_BASE    0x56028000u
#define PWR_BASE    0x56024800u
#define RAMCFG_BASE 0x52023000u
#define XSPI1_BASE  0x58025000u
#define XSPI2_BASE  0x5802A000u
#define GPION_BASE  0x56023400u
#define GPIOO_BASE  0x56023800u
#define GPIOP_BASE  0x56023C00u

#define RCC_SR        SG_REG32(RCC_BASE + 0x004u)
#define RCC_CFGR1     SG_REG32(RCC_BASE + 0x020u)
#define RCC_CFGR2     SG_REG32(RCC_BASE + 0x024u)
#define RCC_PLL1CFGR1 SG_REG32(RCC_BASE + 0x080u)
#define RCC_PLL1CFGR2 SG_REG32(RCC_BASE + 0x084u)
#define RCC_PLL1CFGR3 SG_REG32(RCC_BASE + 0x088u)
#define RCC_ICCFGR(n) SG_REG32(RCC_BASE + 0x0C4u + 4u * ((uint32_t)(n) - 1u))
#define RCC_CSR       SG_REG32(RCC_BASE + 0x800u)  /* RCC_CR set alias */
#define RCC_CCR       SG_REG32(RCC_BASE + 0x1000u) /* RCC_CR clear alias */
#define RCC_DIVENSR   SG_REG32(RCC_BASE + 0xA40u)
#define RCC_DIVENCR   SG_REG32(RCC_BASE + 0x1240u)
#define RCC_MEMENSR   SG_REG32(RCC_BASE + 0xA4Cu)
#define RCC_AHB2ENSR  SG_REG32(RCC_BASE + 0xA54u)
#define RCC_AHB4ENSR  SG_REG32(RCC_BASE + 0xA5Cu)
#define RCC_AHB5ENSR  SG_REG32(RCC_BASE + 0xA60u)
#define RCC_PLL1ON    (1u << 8)
#define RCC_PLL1BYP   (1u << 27)

#define PWR_SVMCR3 SG_REG32(PWR_BASE + 0x03Cu)
#define PWR_SVMCR3_VDDIO2SV    (1u << 8)
#define PWR_SVMCR3_VDDIO3SV    (1u << 9)
#define PWR_SVMCR3_VDDIO2VRSEL (1u << 25)
#define PWR_SVMCR3_VDDIO3VRSEL (1u << 26)

#define RAMCFG_AXISRAMCR(n) SG_REG32(RAMCFG_BASE + 0x80u * ((uint32_t)(n) - 1u)) /* AXISRAM3CR at 0x100 */
#define RAMCFG_SRAMSD       (1u << 20)

/* XSPI (RM0486 XSPI register map; the OCTOSPI layout) */
#define XSPI_CR   SG_REG32(XSPI2_BASE + 0x000u)
#define XSPI_DCR1 SG_REG32(XSPI2_BASE + 0x008u)
#define XSPI_DCR2 SG_REG32(XSPI2_BASE + 0x00Cu)
#define XSPI_SR   SG_REG32(XSPI2_BASE + 0x020u)
#define XSPI_CCR  SG_REG32(XSPI2_BASE + 0x100u)
#define XSPI_TCR  SG_REG32(XSPI2_BASE + 0x108u)
#define XSPI_IR   SG_REG32(XSPI2_BASE + 0x110u)
#define XSPI_SR_BUSY (1u << 5)

/* XSPI1 (same layout, RM0486 XSPI register map), with the registers indirect mode and the
 * memory-mapped write path also use */
#define XSPI1_CR    SG_REG32(XSPI1_BASE + 0x000u)
#define XSPI1_DCR1  SG_REG32(XSPI1_BASE + 0x008u)
#define XSPI1_DCR2  SG_REG32(XSPI1_BASE + 0x00Cu)
#define XSPI1_DCR3  SG_REG32(XSPI1_BASE + 0x010u)
#define XSPI1_DCR4  SG_REG32(XSPI1_BASE + 0x014u)
#define XSPI1_SR    SG_REG32(XSPI1_BASE + 0x020u)
#define XSPI1_FCR   SG_REG32(XSPI1_BASE + 0x024u)
#define XSPI1_DLR   SG_REG32(XSPI1_BASE + 0x040u)
#define XSPI1_AR    SG_REG32(XSPI1_BASE + 0x048u)
#define XSPI1_DR16  (*(volatile uint16_t *)(uintptr_t)(XSPI1_BASE + 0x050u)) /* half-word access: 2 bytes */
#define XSPI1_CCR   SG_REG32(XSPI1_BASE + 0x100u)
#define XSPI1_TCR   SG_REG32(XSPI1_BASE + 0x108u)
#define XSPI1_IR    SG_REG32(XSPI1_BASE + 0x110u)
#define XSPI1_WCCR  SG_REG32(XSPI1_BASE + 0x180u)
#define XSPI1_WTCR  SG_REG32(XSPI1_BASE + 0x188u)
#define XSPI1_WIR   SG_REG32(XSPI1_BASE + 0x190u)

#define XSPI_CR_EN            (1u << 0)
#define XSPI_CR_ABORT         (1u << 1)
#define XSPI_CR_FTHRES(n)     (((uint32_t)(n) - 1u) << 8)  /* FIFO threshold, n bytes */
#define XSPI_CR_FMODE_WRITE   (0u << 28)                   /* indirect write */
#define XSPI_CR_FMODE_MMAP    (3u << 28)                   /* memory-mapped */
#define XSPI_DCR1_MTYP_APM16  (6u << 24)                   /* AP Memory, 16-bit data (DQS0/DQS1) */
#define XSPI_SR_TCF           (1u << 1)
#define XSPI_FCR_CTCF         (1u << 1)
#define XSPI_CCR_IMODE_8      (4u << 0)                    /* instruction on 8 lines, 8 bits, STR */
#define XSPI_CCR_ADMODE_8     (4u << 8)
#define XSPI_CCR_ADDTR        (1u << 11)
#define XSPI_CCR_ADSIZE_32    (3u << 12)
#define XSPI_CCR_DMODE_8      (4u << 24)
#define XSPI_CCR_DMODE_16     (5u << 24)
#define XSPI_CCR_DDTR         (1u << 27)
#define XSPI_CCR_DQSE         (1u << 29)
#define XSPI_TCR_DHQC         (1u << 28)                   /* delay hold quarter cycle (DTR output) */

/* GPIO (RM0486 GPIO register map) */
#define GPIO_MODER(port)   SG_REG32((port) + 0x00u)
#define GPIO_OSPEEDR(port) SG_REG32((port) + 0x08u)
#define GPIO_PUPDR(port)   SG_REG32((port) + 0x0Cu)
#define GPIO_AFR(port, n)  SG_REG32((port) + 0x20u + 4u * ((uint32_t)(n) / 8u))

#endif
