/* Board bring-up done by Reset_Handler (clocks, memories, caches); here the drivers the
 * application needs, then the application itself, which never returns. */
#include "sg_board.h"
#include "sg_system.h"

void SG_APP_ENTRY(void);

int main(void)
{
    sg_uart_init();
    sg_counter_init();
    SG_APP_ENTRY();
    for (;;) {
    }
}
