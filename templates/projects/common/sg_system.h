/* What the board layer offers the application: one init per concern. Interrupts only where they
 * pay: the SysTick wrap counter and the UART receive ring on QEMU. Each family directory
 * implements the first group. */
#ifndef SG_SYSTEM_H
#define SG_SYSTEM_H

#include <stdint.h>

/* per family (system_*.c): clocks, power, caches, external memories; runs before .data/.bss exist */
void sg_system_init(void);

/* per board UART (uart_*.c); sg_uart_putc is polled, safe to call from the fault handler */
void sg_uart_init(void);
void sg_uart_putc(uint8_t c);
int sg_uart_try_getc(void); /* -1 when no byte is waiting */
void sg_uart_wait(void);    /* idle until a byte or a timer tick may have come; may return at once */

/* per board counter (counter_*.c) */
void sg_counter_init(void);
uint32_t sg_counter_read(void);
const char *sg_counter_kind_name(void);

/* common helpers (port.c) */
void sg_puts(const char *s);
void sg_put_hex32(uint32_t v);
void sg_put_dec32(uint32_t v);

#endif
