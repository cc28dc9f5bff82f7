/* A real test of the board layer, used until (and besides) the validation server: banner, echo,
 * counter and deliberate faults, all over the porting layer the server uses.
 *
 * Commands (one byte each, anything else is echoed back):
 *   '?'  reprint the banner
 *   'C'  time a fixed loop with the counter: "count=<n> kind=<cycles|instructions>"
 *   'F'  execute a permanently undefined instruction (UsageFault UNDEFINSTR -> !HARDFAULT)
 *   'R'  recurse until the thread stack overflows (guard/limit fault -> !HARDFAULT)
 */
#include <stdint.h>

#include "sg_board.h"
#include "sg_port.h"
#include "sg_system.h"

void sg_selftest_run(void);

static void say(const char *s) { sg_puts(s); }

static void banner(void)
{
    say("stm32gen selftest board=" SG_BOARD_ID " counter=");
    say(sg_port_counter_kind());
    say("\r\n");
}

static volatile uint32_t sink;

static void timed_loop(void)
{
    uint32_t start = sg_port_cycles();
    for (uint32_t i = 0u; i < 100000u; ++i) {
        sink = sink + i;
    }
    uint32_t count = sg_port_cycles() - start;
    say("count=");
    sg_put_dec32(count);
    say(" kind=");
    say(sg_port_counter_kind());
    say("\r\n");
}

static uint32_t recurse(volatile uint32_t depth)
{
    volatile uint8_t pad[64];
    pad[depth & 63u] = (uint8_t)depth;
    if (depth == 0xFFFFFFFFu) { /* never reached: keeps -Winfinite-recursion quiet */
        return pad[1];
    }
    return recurse(depth + 1u) + pad[0];
}

void sg_selftest_run(void)
{
    banner();
    for (;;) {
        int c = sg_port_uart_getc(1000u);
        if (c < 0) {
            continue;
        }
        if (c == '?') {
            banner();
        } else if (c == 'C') {
            timed_loop();
        } else if (c == 'F') {
            __asm__ volatile("udf #0");
        } else if (c == 'R') {
            sink = recurse(0u);
        } else {
            uint8_t b = (uint8_t)c;
            sg_port_uart_write(&b, 1u);
        }
    }
}
