/* The protocol core of the station agent: feed it the UART's bytes, it answers through the HAL. */
#ifndef AGENT_AGENT_H
#define AGENT_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "baud.h"
#include "crypto.h"
#include "frame.h"

#define AGENT_KEY_MAX 1800  /* an RSA-2048 private key in DER is ~1200 bytes */
#define AGENT_CHAIN_MAX 4096 /* a device certificate + intermediate in PEM: ~1.5 KiB */
#if AGENT_CHAIN_MAX < 4096
#error "SPEC.md 7.1: a board has at least 4096 bytes of chain storage (or says store= in HELLO)"
#endif
#define AGENT_CSR_MAX 1024
#define AGENT_SIG_MAX 512

typedef struct {
    decoder_t dec;
    encoder_t out;
    /* replay cache (SPEC.md 3.6): the last request's seq and CRC, and its answer line */
    uint32_t last_seq, last_crc;
    char last_line[AGENT_MTU];
    size_t last_len;
    /* persistent state, mirrored in RAM */
    key_type_t kt;
    uint8_t key[AGENT_KEY_MAX];
    size_t key_len;
    uint8_t chain[AGENT_CHAIN_MAX];
    size_t chain_len;
    int locked;
    /* volatile objects */
    uint8_t csr[AGENT_CSR_MAX];
    size_t csr_len;
    uint8_t sig[AGENT_SIG_MAX];
    size_t sig_len;
    uint8_t scratch[AGENT_MTU];     /* a decoded PUT_CERT chunk */
    uint8_t xfer[AGENT_CHAIN_MAX]; /* PUT_CERT in progress */
    size_t xfer_len, xfer_total;
    uint8_t xfer_sha[32];
    int xfer_active;
    /* keep-alives for the request being executed */
    uint32_t busy_seq, busy_at;
    int busy_sent;
    baud_t baud; /* the UART's rate (SPEC.md 1.2) */
} agent_t;

/* Load the persistent state; 0 on success. */
int agent_init(agent_t *a);
/* Process bytes received from the UART (answers are written through hal_uart_write). */
void agent_feed(agent_t *a, const uint8_t *data, size_t n);
/* Call from the main loop between requests: the rate's probation and idle timers. Returns
 * nonzero while one runs (call again within about 10 ms); 0 when it can wait for input. */
int agent_poll(agent_t *a);

#endif
