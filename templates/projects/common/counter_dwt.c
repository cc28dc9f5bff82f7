/* Core clock cycle counter: DWT CYCCNT (Armv7-M ARM C1.8.8; Armv8-M ARM D1.2). DEMCR.TRCENA powers
 * the DWT; the Cortex-M7 DWT additionally ignores writes until its lock access register is given
 * the CoreSight key (Cortex-M7 TRM 3.5). */
#include <stdint.h>

#include "sg_board.h"
#include "sg_regs.h"
#include "sg_system.h"

#define DEMCR_TRCENA     (1u << 24)
#define DWT_CTRL_CYCCNTENA (1u << 0)

void sg_counter_init(void)
{
    DCB_DEMCR |= DEMCR_TRCENA;
#if !SG_ARMV8M
    DWT_LAR = 0xC5ACCE55u;
#endif
    DWT_CYCCNT = 0u;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
}

uint32_t sg_counter_read(void) { return DWT_CYCCNT; }

const char *sg_counter_kind_name(void) { return "cycles"; }
