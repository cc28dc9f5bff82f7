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
#define XSPI2_BASE  0x5802A000u
#define GPION_BASE  0x56023400u

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

#endif
