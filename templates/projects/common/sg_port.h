/* Porting layer the validation server is written against. The board projects implement it in
 * port.c; in the middleware layout the user implements these four functions for their HAL. */
#ifndef SG_PORT_H
#define SG_PORT_H

#include <stdint.h>

/* Next received byte (0..255), or -1 when none arrived within timeout_ms milliseconds. */
int sg_port_uart_getc(uint32_t timeout_ms);
/* Blocking write of n bytes. */
void sg_port_uart_write(const uint8_t *p, uint32_t n);
/* Free-running 32-bit counter; differences are taken modulo 2^32. */
uint32_t sg_port_cycles(void);
/* "cycles" (DWT CYCCNT on silicon) or "instructions" (QEMU -icount, see counter_systick.c). */
const char *sg_port_counter_kind(void);

#endif
