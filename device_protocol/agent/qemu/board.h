/* The emulated board (QEMU mps2-an386, Cortex-M4 at 25 MHz): its UART, its tick, and the
 * figures the agent's port measures on it (stack and heap high-water marks). */
#ifndef AGENT_BOARD_H
#define AGENT_BOARD_H

#include <stddef.h>
#include <stdint.h>

#define BOARD_CPU_HZ 25000000u
#define BOARD_STACK_PAINT 0xA5A5A5A5u

/* UART0 at 115200 8N1 (hal_uart_set_rate changes the rate), TIMER0 behind hal_millis, the 1 ms
 * SysTick for the keep-alive poll. */
void board_init(void);
/* The next received byte, or -1 when none is waiting (never blocks). */
int board_uart_getc(void);
/* Bytes of the agent's stack ever used since the last repaint (painted words overwritten). */
size_t board_stack_high_water(void);
/* The same for the interrupt handlers' stack, since reset. */
size_t board_isr_stack_high_water(void);
/* Paint the unused part of the stack again, so that the next high-water mark is one
 * operation's. */
void board_stack_repaint(void);
/* From SysTick, every millisecond: the running key operation's keep-alive tick, if any. */
void board_keepalive_poll(void);
/* Bytes of the stack reserved by the linker script. */
size_t board_stack_size(void);

#endif
