/* Armv7-M / Armv8-M system-control-space registers used by the board layer.
 * Addresses from the Armv7-M ARM (DDI 0403, B3.2) and Armv8-M ARM (DDI 0553, D1.2); we define
 * only what we touch instead of pulling in CMSIS, so the project has no vendor dependency. */
#ifndef SG_REGS_H
#define SG_REGS_H

#include <stdint.h>

#define SG_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* System control block */
#define SCB_ICSR   SG_REG32(0xE000ED04u)
#define SCB_VTOR   SG_REG32(0xE000ED08u)
#define SCB_AIRCR  SG_REG32(0xE000ED0Cu)
#define SCB_CCR    SG_REG32(0xE000ED14u)
#define SCB_SHCSR  SG_REG32(0xE000ED24u)
#define SCB_CFSR   SG_REG32(0xE000ED28u)
#define SCB_HFSR   SG_REG32(0xE000ED2Cu)
#define SCB_MMFAR  SG_REG32(0xE000ED34u)
#define SCB_BFAR   SG_REG32(0xE000ED38u)
#define SCB_CCSIDR SG_REG32(0xE000ED80u)
#define SCB_CSSELR SG_REG32(0xE000ED84u)
#define SCB_CPACR  SG_REG32(0xE000ED88u)

#define SCB_CCR_UNALIGN_TRP (1u << 3)
#define SCB_CCR_DIV_0_TRP   (1u << 4)
#define SCB_CCR_DC          (1u << 16)
#define SCB_CCR_IC          (1u << 17)
#define SCB_SHCSR_FAULTS    ((1u << 16) | (1u << 17) | (1u << 18)) /* MemManage, BusFault, UsageFault enable */

/* Cache maintenance by set/way and invalidate-all (Armv7-M B3.2.2) */
#define SCB_ICIALLU SG_REG32(0xE000EF50u)
#define SCB_DCISW   SG_REG32(0xE000EF60u)
#define SCB_DCCISW  SG_REG32(0xE000EF74u)

/* SysTick (B3.3) */
#define SYST_CSR SG_REG32(0xE000E010u)
#define SYST_RVR SG_REG32(0xE000E014u)
#define SYST_CVR SG_REG32(0xE000E018u)

/* Debug: DEMCR.TRCENA gates the DWT; the Cortex-M7 DWT also has a software lock (LAR). */
#define DCB_DEMCR  SG_REG32(0xE000EDFCu)
#define DWT_CTRL   SG_REG32(0xE0001000u)
#define DWT_CYCCNT SG_REG32(0xE0001004u)
#define DWT_LAR    SG_REG32(0xE0001FB0u)

/* MPU: Armv7-M PMSAv7 uses RBAR/RASR, Armv8-M PMSAv8 uses RBAR/RLAR + MAIR at the same offsets */
#define MPU_TYPE  SG_REG32(0xE000ED90u)
#define MPU_CTRL  SG_REG32(0xE000ED94u)
#define MPU_RNR   SG_REG32(0xE000ED98u)
#define MPU_RBAR  SG_REG32(0xE000ED9Cu)
#define MPU_RASR  SG_REG32(0xE000EDA0u)
#define MPU_RLAR  SG_REG32(0xE000EDA0u)
#define MPU_MAIR0 SG_REG32(0xE000EDC0u)
#define MPU_MAIR1 SG_REG32(0xE000EDC4u)
#define MPU_CTRL_ENABLE     (1u << 0)
#define MPU_CTRL_PRIVDEFENA (1u << 2)

/* NVIC set-enable registers, 32 lines each (Armv7-M B3.4) */
#define NVIC_ISER(irq) SG_REG32(0xE000E100u + 4u * ((uint32_t)(irq) / 32u))
#define NVIC_BIT(irq)  (1u << ((uint32_t)(irq) % 32u))

static inline void sg_irq_disable(void) { __asm__ volatile("cpsid i" ::: "memory"); }
static inline void sg_irq_enable(void) { __asm__ volatile("cpsie i" ::: "memory"); }
static inline void sg_dsb(void) { __asm__ volatile("dsb 0xF" ::: "memory"); }
static inline void sg_isb(void) { __asm__ volatile("isb 0xF" ::: "memory"); }

#endif
