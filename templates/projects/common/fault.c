/* One handler for every fault: print the fault status registers and the stacked frame as a single
 * line the host recognises, then stop.
 *
 *   !HARDFAULT exc=3 cfsr=0x00008200 hfsr=0x40000000 mmfar=0x... bfar=0x... pc=0x... lr=0x... xpsr=0x... sp=0x...
 *
 * exc is the active exception number (3 HardFault, 4 MemManage, 5 BusFault, 6 UsageFault, 7
 * SecureFault, >= 16 an interrupt nobody enabled). Register meanings: Armv7-M ARM B3.2.15-B3.2.18.
 * When the fault happened while stacking (CFSR MSTKERR/STKERR, or STKOF on Armv8-M) the frame was
 * never written, so pc/lr/xpsr print as 0xffffffff rather than reading a bad address again.
 * The line is repeated about once a second until reset, so a host that opens the port after the
 * fault (a fault during boot, before anyone listened) still sees it. */
#include <stdint.h>

#include "sg_board.h"
#include "sg_regs.h"
#include "sg_system.h"

void sg_fault_entry(void);
void sg_fault_report(const uint32_t *frame, uint32_t exc_return);
void SysTick_Handler(void) __attribute__((weak, alias("sg_fault_entry")));

#define CFSR_MSTKERR (1u << 4)
#define CFSR_STKERR  (1u << 12)
#define CFSR_STKOF   (1u << 20)

/* Pick the stack the frame was pushed to (EXC_RETURN bit 2: 0 = MSP, 1 = PSP). */
__attribute__((naked)) void sg_fault_entry(void)
{
    __asm__ volatile(
        "tst lr, #4        \n"
        "ite eq            \n"
        "mrseq r0, msp     \n"
        "mrsne r0, psp     \n"
        "mov r1, lr        \n"
        "b sg_fault_report \n");
}

static void field(const char *name, uint32_t value)
{
    sg_uart_putc(' ');
    sg_puts(name);
    sg_uart_putc('=');
    sg_put_hex32(value);
}

static void report_line(const uint32_t *frame)
{
    uint32_t cfsr = SCB_CFSR;
    int stacked = (cfsr & (CFSR_MSTKERR | CFSR_STKERR | CFSR_STKOF)) == 0u;

    sg_puts("\r\n!HARDFAULT exc=");
    sg_put_dec32(SCB_ICSR & 0x1FFu);
    field("cfsr", cfsr);
    field("hfsr", SCB_HFSR);
    field("mmfar", SCB_MMFAR);
    field("bfar", SCB_BFAR);
    field("pc", stacked ? frame[6] : 0xFFFFFFFFu);
    field("lr", stacked ? frame[5] : 0xFFFFFFFFu);
    field("xpsr", stacked ? frame[7] : 0xFFFFFFFFu);
    field("sp", (uint32_t)(uintptr_t)frame);
    sg_puts("\r\n");
}

__attribute__((noreturn, used)) void sg_fault_report(const uint32_t *frame, uint32_t exc_return)
{
    (void)exc_return;
    for (;;) { /* no reset: a fresh boot banner would hide the report */
        report_line(frame);
        for (volatile uint32_t spin = 0u; spin < SG_FAULT_REPEAT_SPINS; spin = spin + 1u) {
        }
    }
}
