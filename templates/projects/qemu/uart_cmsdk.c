/* Arm CMSDK APB UART, the UART0 of the MPS2/MPS3 FPGA images QEMU models (Arm DDI 0479,
 * "APB UART"): DATA at +0x0, STATE at +0x4 (bit 0 TX buffer full, bit 1 RX buffer full), CTRL at
 * +0x8 (bit 0 TX enable, bit 1 RX enable, bit 3 RX interrupt enable), INTSTATUS at +0xC (bit 1 RX,
 * write 1 to clear), BAUDDIV at +0x10 (>= 16). QEMU connects `-serial` to UART0.
 *
 * Receive is interrupt driven into a ring buffer, and the thread sleeps in WFI while it waits.
 * Why: the UART holds one byte and QEMU 7.2 offers the next one only when its main loop next polls
 * the socket, which a guest spinning on STATE does not prompt; a halted vCPU does, so each byte
 * arrives as soon as the previous one is taken. No byte is ever lost: while the ring is full the
 * ISR leaves the byte in the UART, so QEMU holds back the rest (it only delivers into an empty
 * buffer), and the thread drains that byte once it has emptied the ring.
 * Transmit stays polled: QEMU writes each byte to the socket at once. */
#include <stdint.h>

#include "sg_board.h"
#include "sg_regs.h"
#include "sg_system.h"

#define UART_DATA      SG_REG32(SG_UART_BASE + 0x00u)
#define UART_STATE     SG_REG32(SG_UART_BASE + 0x04u)
#define UART_CTRL      SG_REG32(SG_UART_BASE + 0x08u)
#define UART_INTSTATUS SG_REG32(SG_UART_BASE + 0x0Cu)
#define UART_BAUDDIV   SG_REG32(SG_UART_BASE + 0x10u)

#define STATE_TX_FULL  (1u << 0)
#define CTRL_TX_EN     (1u << 0)
#define CTRL_RX_EN     (1u << 1)
#define CTRL_RX_INTEN  (1u << 3)
#define INTSTATUS_RX   (1u << 1)

#define RX_RING 1024u /* a power of two; head and tail run free and are reduced modulo it */

void sg_uart_rx_isr(void);

static volatile uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_head;     /* written only with the receive interrupt excluded */
static volatile uint32_t rx_tail;     /* written only by sg_uart_try_getc() */
static volatile uint32_t rx_deferred; /* 1: a byte waits in the UART because the ring was full */

/* Every register access is a trip into the emulator that takes its I/O lock, which its main loop
 * needs to hand over the next byte, so the paths below touch the UART as little as possible. */

/* Move the waiting byte into the ring, or leave it in the UART while the ring is full. Runs in
 * the ISR, or in thread mode with interrupts masked. */
static void take_byte(void)
{
    if (rx_head - rx_tail < RX_RING) {
        rx_ring[rx_head % RX_RING] = (uint8_t)UART_DATA;
        rx_head = rx_head + 1u;
        rx_deferred = 0u;
    } else {
        rx_deferred = 1u;
    }
}

void sg_uart_rx_isr(void)
{
    /* Clear first: a byte arriving after the read raises the interrupt again. */
    UART_INTSTATUS = INTSTATUS_RX;
    take_byte();
}

void sg_uart_init(void)
{
    UART_BAUDDIV = SG_UART_KERNEL_HZ / SG_UART_BAUD;
    UART_CTRL = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INTEN;
    NVIC_ISER(SG_UART_RX_IRQ) = NVIC_BIT(SG_UART_RX_IRQ);
}

void sg_uart_putc(uint8_t c)
{
    while ((UART_STATE & STATE_TX_FULL) != 0u) {
    }
    UART_DATA = c;
}

int sg_uart_try_getc(void)
{
    if (rx_tail == rx_head) {
        if (rx_deferred == 0u) {
            return -1;
        }
        /* The ring has emptied: now take the byte the ISR had to leave behind. */
        sg_irq_disable();
        take_byte();
        sg_irq_enable();
    }
    int c = rx_ring[rx_tail % RX_RING];
    rx_tail = rx_tail + 1u;
    return c;
}

void sg_uart_wait(void)
{
    /* With interrupts masked, a byte that arrives between the check and WFI leaves its interrupt
     * pending, and a pending interrupt ends WFI even while masked (Armv7-M B1.5.19); the ISR runs
     * once interrupts are unmasked. SysTick wraps wake us too, so timeouts still expire. */
    sg_irq_disable();
    if (rx_tail == rx_head && rx_deferred == 0u) {
        __asm__ volatile("wfi" ::: "memory");
    }
    sg_irq_enable();
}
