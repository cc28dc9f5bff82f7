/* STM32 USART (the same IP on STM32H7 and STM32N6: RM0433 §48.8, RM0486 USART chapter), polled,
 * 8N1, 16x oversampling, FIFO on. The board header supplies the instance base, its RCC enable bit,
 * the pins and BRR (computed by generator/firmware/clocks.py from the kernel clock). */
#include <stdint.h>

#include "sg_board.h"
#include "sg_regs.h"
#include "sg_system.h"

#define USART_CR1 SG_REG32(SG_UART_BASE + 0x00u)
#define USART_BRR SG_REG32(SG_UART_BASE + 0x0Cu)
#define USART_ISR SG_REG32(SG_UART_BASE + 0x1Cu)
#define USART_ICR SG_REG32(SG_UART_BASE + 0x20u)
#define USART_RDR SG_REG32(SG_UART_BASE + 0x24u)
#define USART_TDR SG_REG32(SG_UART_BASE + 0x28u)

#define CR1_UE     (1u << 0)
#define CR1_RE     (1u << 2)
#define CR1_TE     (1u << 3)
#define CR1_FIFOEN (1u << 29)
#define ISR_ORE    (1u << 3)
#define ISR_RXFNE  (1u << 5)
#define ISR_TXFNF  (1u << 7)
#define ISR_TEACK  (1u << 21)
#define ISR_REACK  (1u << 22)

#define GPIO(port, off) SG_REG32(SG_GPIO_BASE + (uint32_t)(port) * SG_GPIO_STRIDE + (off))

static void pin_af(uint32_t port, uint32_t pin, uint32_t af)
{
    SG_REG32(SG_RCC_BASE + SG_RCC_GPIO_EN) |= 1u << port;
    (void)SG_REG32(SG_RCC_BASE + SG_RCC_GPIO_EN); /* read back: the clock is on before the access */
    GPIO(port, 0x00u) = (GPIO(port, 0x00u) & ~(3u << (2u * pin))) | (2u << (2u * pin));   /* MODER: AF */
    GPIO(port, 0x08u) = (GPIO(port, 0x08u) & ~(3u << (2u * pin))) | (2u << (2u * pin));   /* OSPEEDR: high */
    uint32_t afr = 0x20u + 4u * (pin / 8u);                                                /* AFRL/AFRH */
    GPIO(port, afr) = (GPIO(port, afr) & ~(0xFu << (4u * (pin % 8u)))) | (af << (4u * (pin % 8u)));
}

void sg_uart_init(void)
{
    pin_af(SG_UART_TX_PORT, SG_UART_TX_PIN, SG_UART_AF);
    pin_af(SG_UART_RX_PORT, SG_UART_RX_PIN, SG_UART_AF);
    SG_REG32(SG_RCC_BASE + SG_UART_RCC_EN) |= 1u << SG_UART_RCC_BIT;
    (void)SG_REG32(SG_RCC_BASE + SG_UART_RCC_EN);
    USART_CR1 = 0u;
    USART_BRR = SG_UART_BRR;
    USART_CR1 = CR1_FIFOEN | CR1_TE | CR1_RE | CR1_UE;
    while ((USART_ISR & (ISR_TEACK | ISR_REACK)) != (ISR_TEACK | ISR_REACK)) {
    }
}

void sg_uart_putc(uint8_t c)
{
    while ((USART_ISR & ISR_TXFNF) == 0u) {
    }
    USART_TDR = c;
}

int sg_uart_try_getc(void)
{
    uint32_t isr = USART_ISR;
    if ((isr & ISR_ORE) != 0u) {
        USART_ICR = ISR_ORE; /* ORECF: an overrun must not block reception; the protocol retries */
    }
    if ((isr & ISR_RXFNE) == 0u) {
        return -1;
    }
    return (int)(USART_RDR & 0xFFu);
}

/* Busy-polling: no interrupt wakes a WFI here, and the DWT counter the timeouts use runs on. */
void sg_uart_wait(void) {}
