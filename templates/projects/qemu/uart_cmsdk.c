/* Arm CMSDK APB UART, the UART0 of the MPS2/MPS3 FPGA images QEMU models (Arm DDI 0479,
 * "APB UART"): DATA at +0x0, STATE at +0x4 (bit 0 TX buffer full, bit 1 RX buffer full), CTRL at
 * +0x8 (bit 0 TX enable, bit 1 RX enable), BAUDDIV at +0x10 (>= 16). QEMU connects `-serial` to
 * UART0. Polled, no FIFO: QEMU only offers a byte when the RX buffer is empty, so none is lost. */
#include <stdint.h>

#include "sg_board.h"
#include "sg_regs.h"
#include "sg_system.h"

#define UART_DATA    SG_REG32(SG_UART_BASE + 0x00u)
#define UART_STATE   SG_REG32(SG_UART_BASE + 0x04u)
#define UART_CTRL    SG_REG32(SG_UART_BASE + 0x08u)
#define UART_BAUDDIV SG_REG32(SG_UART_BASE + 0x10u)

#define STATE_TX_FULL (1u << 0)
#define STATE_RX_FULL (1u << 1)

void sg_uart_init(void)
{
    UART_BAUDDIV = SG_UART_KERNEL_HZ / SG_UART_BAUD;
    UART_CTRL = 0x3u;
}

void sg_uart_putc(uint8_t c)
{
    while ((UART_STATE & STATE_TX_FULL) != 0u) {
    }
    UART_DATA = c;
}

int sg_uart_try_getc(void)
{
    if ((UART_STATE & STATE_RX_FULL) == 0u) {
        return -1;
    }
    return (int)(UART_DATA & 0xFFu);
}
