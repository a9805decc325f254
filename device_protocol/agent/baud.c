/* The negotiated UART rate (SPEC.md 1.2): switch, probation, fall back, idle return. */
#include "baud.h"

#include <string.h>

#include "hal.h"

void baud_init(baud_t *b)
{
    memset(b, 0, sizeof *b);
    b->rate = BAUD_DEFAULT;
}

int baud_capable(void)
{
    const uint32_t *rates;
    return hal_uart_rates(&rates) > 0;
}

int baud_offered(uint32_t rate)
{
    const uint32_t *rates;
    size_t i, n = hal_uart_rates(&rates);
    if (rate == BAUD_DEFAULT) return 1;
    for (i = 0; i < n; i++)
        if (rates[i] == rate) return 1;
    return 0;
}

int baud_list(char *out, size_t cap)
{
    const uint32_t *rates;
    size_t i, len = 0, n = hal_uart_rates(&rates);
    for (i = 0; i < n; i++) {
        char tmp[11];
        size_t k = 0;
        uint32_t v = rates[i];
        do { tmp[k++] = (char)('0' + v % 10); v /= 10; } while (v);
        if (len + (i > 0) + k + 1 > cap) return -1;
        if (i > 0) out[len++] = ',';
        while (k) out[len++] = tmp[--k];
    }
    if (cap == 0) return -1;
    out[len] = '\0';
    return 0;
}

/* Switch now (the HAL drains the transmitter first). */
static void switch_to(baud_t *b, uint32_t rate)
{
    if (hal_uart_set_rate(rate) != 0) return; /* still at the old rate: the proof fails there */
    b->rate = rate;
    b->switched_at = b->active_at = hal_millis();
    b->probation = rate != BAUD_DEFAULT; /* the default rate needs no proof */
    b->proved = 0;
}

void baud_on_frame(baud_t *b, const frame_t *f)
{
    b->active_at = hal_millis();
    if (!b->probation) return;
    if (b->proved && !(f->seq == b->proof_seq && f->crc == b->proof_crc)) {
        b->probation = 0; /* a HELLO answered at this rate, then another request: confirmed */
        return;
    }
    if (!b->proved && strcmp(f->name, "HELLO") == 0) {
        b->proved = 1;
        b->proof_seq = f->seq;
        b->proof_crc = f->crc;
    }
}

void baud_after_answer(baud_t *b)
{
    uint32_t rate = b->pending;
    b->active_at = hal_millis();
    if (rate == 0) return;
    b->pending = 0;
    switch_to(b, rate);
}

int baud_poll(baud_t *b)
{
    uint32_t now = hal_millis();
    if (b->rate == BAUD_DEFAULT) return 0;
    if ((b->probation && (uint32_t)(now - b->switched_at) >= BAUD_PROBATION_MS) ||
        (uint32_t)(now - b->active_at) >= BAUD_IDLE_MS)
        switch_to(b, BAUD_DEFAULT);
    return b->rate != BAUD_DEFAULT;
}
