/* stm32gen validation server: answers the host's validation protocol (docs/protocol.md) over a UART.
 *
 * The board's firmware calls stm32gen_server_run() after its clock/UART setup; it never returns.
 * The porting layer below is all the server needs from the board.
 */
#ifndef STM32GEN_VALIDATION_SERVER_H
#define STM32GEN_VALIDATION_SERVER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Porting layer, implemented once per board (port_host.c is the host's). */
int sg_port_uart_getc(uint32_t timeout_ms);              /* next byte 0..255, -1 on timeout */
void sg_port_uart_write(const uint8_t *p, uint32_t n);   /* blocking */
uint32_t sg_port_cycles(void);                           /* free-running counter, wraps */
const char *sg_port_counter_kind(void);                  /* "cycles", "instructions", ... */

void stm32gen_server_run(void);

#ifdef __cplusplus
}
#endif

#endif /* STM32GEN_VALIDATION_SERVER_H */
