/* Reset entry, vector table and the switch to the thread stack.
 *
 * Stacks: exceptions run on MSP (the small `.handler_stack`), the application runs in thread mode on
 * PSP (`.stack`). A thread-stack overflow therefore cannot take the fault handler's stack with it,
 * so the fault is reported instead of locking up. The overflow itself is caught by PSPLIM on
 * Armv8-M (Armv8-M ARM B3.2 "stack limit checks") and by a 32-byte no-access MPU region at the
 * bottom of the stack on Armv7-M (PMSAv7, Armv7-M ARM B3.5). */
#include <stdint.h>
#include <string.h>

#include "sg_board.h"
#include "sg_regs.h"
#include "sg_system.h"

extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __handler_stack_top[];
extern uint32_t __stack_guard[], __stack_limit[], __stack_top[];
extern uint32_t __stack_guard_size[]; /* linker constant: its address is the value */

int main(void);
void Reset_Handler(void);
void sg_fault_entry(void);   /* fault.c: every fault and unexpected interrupt lands here */
void SysTick_Handler(void);  /* weak alias of sg_fault_entry unless the counter needs it */
void sg_uart_rx_isr(void);   /* boards with SG_UART_RX_IRQ: the UART driver's receive interrupt */

typedef void (*sg_vector_t)(void);

/* The UART entry below deliberately overrides one slot of the catch-all range. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"

/* 16 system exceptions + the device IRQs; VTOR wants the table aligned to its size rounded up to a
 * power of two (Armv7-M B3.2.5), which the linker script guarantees for `.isr_vector`. */
__attribute__((section(".isr_vector"), used))
const sg_vector_t sg_vectors[16 + SG_NUM_IRQS] = {
    [0] = (sg_vector_t)(uintptr_t)__handler_stack_top,
    [1] = Reset_Handler,
    [2] = sg_fault_entry,  /* NMI */
    [3] = sg_fault_entry,  /* HardFault */
    [4] = sg_fault_entry,  /* MemManage */
    [5] = sg_fault_entry,  /* BusFault */
    [6] = sg_fault_entry,  /* UsageFault */
    [7] = sg_fault_entry,  /* SecureFault on Armv8-M, reserved on Armv7-M */
    [11] = sg_fault_entry, /* SVCall */
    [12] = sg_fault_entry, /* DebugMonitor */
    [14] = sg_fault_entry, /* PendSV */
    [15] = SysTick_Handler,
    [16 ... 16 + SG_NUM_IRQS - 1] = sg_fault_entry,
#ifdef SG_UART_RX_IRQ
    [16 + SG_UART_RX_IRQ] = sg_uart_rx_isr,
#endif
};
#pragma GCC diagnostic pop

#if !SG_ARMV8M
/* PMSAv7 region 7 (the highest priority of the 8 every Cortex-M7 MPU has) over the stack guard. */
static void stack_guard_enable(void)
{
    uint32_t size = (uint32_t)(uintptr_t)__stack_guard_size; /* a power of two >= 32 */
    uint32_t size_field = 30u - (uint32_t)__builtin_clz(size); /* region bytes = 2^(SIZE+1) */
    MPU_RNR = 7u;
    MPU_RBAR = (uint32_t)(uintptr_t)__stack_guard;
    /* XN=1, AP=000 (no access), SIZE, ENABLE */
    MPU_RASR = (1u << 28) | (0u << 24) | (size_field << 1) | 1u;
    MPU_CTRL = MPU_CTRL_ENABLE | MPU_CTRL_PRIVDEFENA;
    sg_dsb();
    sg_isb();
}
#endif

/* Move thread mode onto PSP and call main. Naked because the C frame would live on the old stack. */
__attribute__((naked, noreturn)) static void start_thread(void)
{
    __asm__ volatile(
        "ldr r0, =__stack_top      \n"
        "msr psp, r0               \n"
#if SG_ARMV8M
        "ldr r0, =__stack_limit    \n"
        "msr psplim, r0            \n"
        "ldr r0, =__handler_stack_bottom \n"
        "msr msplim, r0            \n"
#endif
        "mrs r0, control           \n"
        "orr r0, r0, #2            \n"
        "msr control, r0           \n"
        "isb                       \n"
        "bl main                   \n"
        "1: b 1b                   \n");
}

void Reset_Handler(void)
{
    SCB_VTOR = (uint32_t)(uintptr_t)sg_vectors;
    /* CP10/CP11 full access before any floating-point instruction (Armv7-M B3.2.20). */
    SCB_CPACR |= (0xFu << 20);
    sg_dsb();
    sg_isb();

    sg_system_init();

    /* Word loops, not memcpy: the C library may not be usable before .data exists. */
    for (uint32_t *src = __data_load, *dst = __data_start; dst < __data_end;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = __bss_start; dst < __bss_end;) {
        *dst++ = 0u;
    }

    /* Separate MemManage/BusFault/UsageFault handlers keep the original CFSR cause; divide by zero
     * traps instead of silently returning 0. */
    SCB_SHCSR |= SCB_SHCSR_FAULTS;
    SCB_CCR |= SCB_CCR_DIV_0_TRP;
#if !SG_ARMV8M
    stack_guard_enable();
#endif
    start_thread();
}
