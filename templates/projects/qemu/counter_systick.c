/* Instruction counter for QEMU. QEMU does not model the DWT cycle counter, but with
 * `-icount shift=0` its virtual clock advances exactly 1 ns per executed instruction, and SysTick
 * (CLKSOURCE = processor clock) is driven from that virtual clock at the board's SYSCLK. So
 * ticks x (1e9 / SYSCLK) is the number of instructions executed, with a granularity of one tick
 * (40 instructions at 25 MHz). Without -icount the value is wall-clock based and meaningless.
 * SysTick is 24 bits; its interrupt counts the wraps to extend it to 64 bits. */
#include <stdint.h>

#include "sg_board.h"
#include "sg_regs.h"
#include "sg_system.h"

#define SYST_CSR_ENABLE    (1u << 0)
#define SYST_CSR_TICKINT   (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2)
#define SYST_RELOAD        0x00FFFFFFu

void SysTick_Handler(void);

static volatile uint32_t wraps;

void SysTick_Handler(void) { wraps = wraps + 1u; }

void sg_counter_init(void)
{
    SYST_RVR = SYST_RELOAD;
    SYST_CVR = 0u;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
}

uint32_t sg_counter_read(void)
{
    uint32_t w;
    uint32_t v;
    do { /* re-read if the wrap interrupt ran in between */
        w = wraps;
        v = SYST_CVR;
    } while (w != wraps);
    uint64_t ticks = ((uint64_t)w << 24) + (SYST_RELOAD - v);
    /* 1e9 / SYSCLK instructions per tick, as the exact fraction NUM/DEN */
    return (uint32_t)(ticks * SG_COUNTER_NUM / SG_COUNTER_DEN);
}

const char *sg_counter_kind_name(void) { return "instructions"; }
