/* A real test of the board layer, used until (and besides) the validation server: banner, echo,
 * counter and deliberate faults, all over the porting layer the server uses.
 *
 * Commands (one byte each, anything else is echoed back):
 *   '?'  reprint the banner
 *   'C'  time a fixed loop with the counter: "count=<n> kind=<cycles|instructions>"
 *   'F'  execute a permanently undefined instruction (UsageFault UNDEFINSTR -> !HARDFAULT)
 *   'R'  recurse until the thread stack overflows (guard/limit fault -> !HARDFAULT)
 *   'W'  busy for 50 ms of counter time without reading, so input piles up in the receive path
 * Bulk commands, each followed by a 4-byte little-endian length n (serial throughput tests):
 *   'E'  echo the next n bytes back verbatim (no command bytes inside)
 *   'S'  swallow the next n bytes, then answer "sum=<FNV-1a 32 of them>" (receive only)
 *   'T'  send n bytes of the LCG stream x = x * 1664525 + 1013904223 from x = n, top byte of each
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

/* A bulk length, or 0 if the host went quiet in the middle of it. */
static uint32_t read_length(void)
{
    uint32_t n = 0u;
    for (uint32_t i = 0u; i < 4u; ++i) {
        int c = sg_port_uart_getc(1000u);
        if (c < 0) {
            return 0u;
        }
        n |= (uint32_t)c << (8u * i);
    }
    return n;
}

static void bulk(int cmd)
{
    uint32_t n = read_length();
    uint32_t sum = 2166136261u;
    uint32_t x = n;
    for (uint32_t i = 0u; i < n; ++i) {
        uint8_t b;
        if (cmd == 'T') {
            x = x * 1664525u + 1013904223u;
            b = (uint8_t)(x >> 24);
        } else {
            int c = sg_port_uart_getc(1000u);
            if (c < 0) {
                return; /* the host gave up; back to command mode */
            }
            b = (uint8_t)c;
        }
        if (cmd == 'S') {
            sum = (sum ^ b) * 16777619u;
        } else {
            sg_port_uart_write(&b, 1u);
        }
    }
    if (cmd == 'S') {
        say("sum=");
        sg_put_hex32(sum);
        say("\r\n");
    }
}

static void stall(void)
{
    uint32_t start = sg_port_cycles();
    while (sg_port_cycles() - start < (uint32_t)(SG_COUNTER_HZ / 20u)) {
    }
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
        } else if (c == 'W') {
            stall();
        } else if (c == 'E' || c == 'S' || c == 'T') {
            bulk(c);
        } else {
            uint8_t b = (uint8_t)c;
            sg_port_uart_write(&b, 1u);
        }
    }
}
