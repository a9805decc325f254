/* The agent on QEMU's mps2-an386: the HAL, a static heap for mbedTLS, then the UART loop.
 * Run with the board's storage in QEMU's working directory (make agent-qemu-run). */
#include <string.h>

#include "../agent.h"
#include "../hal.h"
#include "board.h"
#include "mbedtls/memory_buffer_alloc.h"

#ifndef AGENT_HEAP_SIZE
#define AGENT_HEAP_SIZE 16384 /* RSA-2048 keygen's peak plus headroom (agent README) */
#endif

static agent_t agent;
static unsigned char heap[AGENT_HEAP_SIZE];

static void console(const char *text)
{
    hal_uart_write((const uint8_t *)text, strlen(text));
}

int main(void)
{
    uint8_t buf[64];
    size_t n;
    int c;
    board_init();
    mbedtls_memory_buffer_alloc_init(heap, sizeof heap);
    console("\r\nI agent: station-agent (mps2-an386, Cortex-M4) protocol P1 ready\r\n");
    if (hal_uid()[0] == '\0' || crypto_init()) {
        console("E agent: no entropy (semihosting off?): start QEMU with -semihosting-config enable=on,target=native\r\n");
        return 1;
    }
    if (agent_init(&agent)) {
        console("E agent: cannot read the board's storage (QEMU's working directory)\r\n");
        return 1;
    }
    for (;;) {
        /* take what the UART has queued, then let the agent answer */
        for (n = 0; n < sizeof buf && (c = board_uart_getc()) >= 0; n++) buf[n] = (uint8_t)c;
        if (n > 0) agent_feed(&agent, buf, n);
        (void)agent_poll(&agent); /* the rate's probation and idle timers */
    }
}
