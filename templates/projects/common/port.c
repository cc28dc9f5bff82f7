/* The porting layer of the validation server on top of the board drivers, and the tiny text
 * helpers the fault handler and self-test share (no printf: it would pull in the heap). */
#include <stdint.h>

#include "sg_board.h"
#include "sg_port.h"
#include "sg_system.h"

int sg_port_uart_getc(uint32_t timeout_ms)
{
    int c = sg_uart_try_getc();
    if (c >= 0) {
        return c; /* a byte already waiting costs no counter read */
    }
    /* Count whole milliseconds so the wait can exceed one 32-bit counter period. */
    const uint32_t per_ms = (uint32_t)(SG_COUNTER_HZ / 1000u);
    uint32_t mark = sg_counter_read();
    uint32_t waited_ms = 0u;

    for (;;) {
        sg_uart_wait(); /* QEMU: halt the vCPU so the emulator delivers the next byte at once */
        c = sg_uart_try_getc();
        if (c >= 0) {
            return c;
        }
        uint32_t now = sg_counter_read();
        while ((uint32_t)(now - mark) >= per_ms) {
            mark += per_ms;
            if (++waited_ms >= timeout_ms) {
                return -1;
            }
        }
    }
}

void sg_port_uart_write(const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0u; i < n; ++i) {
        sg_uart_putc(p[i]);
    }
}

uint32_t sg_port_cycles(void) { return sg_counter_read(); }

const char *sg_port_counter_kind(void) { return sg_counter_kind_name(); }

void sg_puts(const char *s)
{
    while (*s != '\0') {
        sg_uart_putc((uint8_t)*s++);
    }
}

void sg_put_hex32(uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    sg_puts("0x");
    for (int shift = 28; shift >= 0; shift -= 4) {
        sg_uart_putc((uint8_t)digits[(v >> shift) & 0xFu]);
    }
}

void sg_put_dec32(uint32_t v)
{
    char buf[10];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    while (n > 0) {
        sg_uart_putc((uint8_t)buf[--n]);
    }
}
