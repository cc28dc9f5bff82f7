/* Host porting layer for the validation server: the "UART" is stdin/stdout (a pipe, a socket or a
 * pty), the counter is CLOCK_MONOTONIC in nanoseconds. Lets the host build speak the same protocol
 * as a board. Define SG_PORT_HOST_NO_MAIN when the program has its own main().
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "validation_server.h"

int sg_port_uart_getc(uint32_t timeout_ms)
{
    struct pollfd pfd;
    uint8_t byte;
    ssize_t n;

    pfd.fd = STDIN_FILENO;
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (poll(&pfd, 1, (int)timeout_ms) <= 0) {
        return -1;
    }
    n = read(STDIN_FILENO, &byte, 1);
    if (n == 1) {
        return byte;
    }
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        /* The host closed its end: nobody will ever talk to us again. */
        exit(0);
    }
    return -1;
}

void sg_port_uart_write(const uint8_t *p, uint32_t n)
{
    while (n > 0u) {
        ssize_t k = write(STDOUT_FILENO, p, n);
        if (k < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            exit(0);
        }
        p += k;
        n -= (uint32_t)k;
    }
}

uint32_t sg_port_cycles(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

const char *sg_port_counter_kind(void)
{
    return "nanoseconds";
}

#ifndef SG_PORT_HOST_NO_MAIN
int main(void)
{
    stm32gen_server_run();
    return 0;
}
#endif
