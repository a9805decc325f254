/* Hardware abstraction for the station agent: the few functions a port must provide.
 *
 * The protocol core (agent.c, frame.c, codec.c) calls nothing else from the platform. A
 * microcontroller port implements these on its UART driver, its flash and its TRNG; the host
 * build implements them on a pty, a state folder and /dev/urandom (hal_posix.c). */
#ifndef AGENT_HAL_H
#define AGENT_HAL_H

#include <stddef.h>
#include <stdint.h>

/* Persistent objects. Each write MUST be atomic: after a reset the slot holds the old or the
 * new content, entirely (double-buffered flash pages, or temp file + rename). */
typedef enum {
    HAL_SLOT_KEY = 0,   /* key type byte + private key DER */
    HAL_SLOT_CHAIN = 1, /* the committed PEM certificate chain */
    HAL_SLOT_LOCK = 2   /* present once the board is locked (a fuse or option byte on a MCU) */
} hal_slot_t;

/* Write n bytes to the UART, blocking until queued. The agent calls it once per frame line, so
 * a port that shares the UART with its log can hold the log lock for the duration. */
void hal_uart_write(const uint8_t *data, size_t n);

/* The rates the UART can switch to besides the default 115200, ascending: returns their count
 * and points *rates at them (0: the board does not switch; it then answers BAUD as unknown). */
size_t hal_uart_rates(const uint32_t **rates);

/* Wait until the transmitter is empty (the last stop bit of what hal_uart_write queued has left
 * the pin), then receive and send at rate (115200 or one of hal_uart_rates); 0 on success, -1
 * when the UART refused (it then still runs at the old rate). The agent calls it within a few
 * milliseconds of writing its BAUD answer: it MUST take effect within 10 ms of that answer's last
 * byte leaving (SPEC.md 1.2, SWITCH_GAP). */
int hal_uart_set_rate(uint32_t rate);

/* Milliseconds from any origin, wrapping; BUSY keep-alives and the rate's probation and idle
 * timers run on it. */
uint32_t hal_millis(void);

/* Read a slot into buf: returns its length, 0 when the slot is empty, -1 on a read error or
 * when it does not fit cap. */
long hal_store_read(hal_slot_t slot, uint8_t *buf, size_t cap);

/* Replace a slot atomically (n == 0 erases it); 0 on success, -1 on failure (old content kept). */
int hal_store_write(hal_slot_t slot, const uint8_t *data, size_t n);

/* Fill out with n bytes from a hardware entropy source; 0 on success. */
int hal_entropy(uint8_t *out, size_t n);

/* The board's unique id: 1..64 of A-Z a-z 0-9 . _ : - (a chip id), stable for its life. */
const char *hal_uid(void);

#endif
