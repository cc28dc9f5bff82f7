/* L1 instruction and data cache enable for Cortex-M7 and Cortex-M55, by the architected sequence:
 * invalidate everything, then set CCR.IC / CCR.DC (Armv7-M ARM B2.2.7 "cache maintenance
 * operations", Cortex-M7 TRM §4.3, Armv8.1-M ARM B8.4). The data cache is invalidated by set/way
 * from the geometry in CCSIDR, so the same code serves both cores. */
#include <stdint.h>

#include "sg_regs.h"

void sg_caches_enable(void);

void sg_caches_enable(void)
{
    sg_dsb();
    sg_isb();
    SCB_ICIALLU = 0u;
    sg_dsb();
    sg_isb();
    SCB_CCR |= SCB_CCR_IC;
    sg_dsb();
    sg_isb();

    SCB_CSSELR = 0u; /* level 1 data cache */
    sg_dsb();
    uint32_t ccsidr = SCB_CCSIDR;
    uint32_t sets = ((ccsidr >> 13) & 0x7FFFu) + 1u;
    uint32_t ways = ((ccsidr >> 3) & 0x3FFu) + 1u;
    uint32_t set_shift = (ccsidr & 0x7u) + 4u; /* log2(line bytes) */
    uint32_t way_shift = (ways > 1u) ? (uint32_t)__builtin_clz(ways - 1u) : 0u;
    for (uint32_t set = 0u; set < sets; ++set) {
        for (uint32_t way = 0u; way < ways; ++way) {
            SCB_DCISW = (way << way_shift) | (set << set_shift);
        }
    }
    sg_dsb();
    SCB_CCR |= SCB_CCR_DC;
    sg_dsb();
    sg_isb();
}
