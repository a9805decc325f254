/* The negotiated UART rate of SPEC.md 1.2 ("Baud rate"): which rates the board offers, the
 * switch after the BAUD answer has left, probation until the station confirms the new rate, and
 * the return to the default rate on its own (probation not confirmed, or the line idle). Pure
 * logic on the HAL's clock and its rate call; no OS calls. */
#ifndef AGENT_BAUD_H
#define AGENT_BAUD_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

#define BAUD_DEFAULT 115200u
#define BAUD_PROBATION_MS 2000u /* unconfirmed this long after the switch: back to the default */
#define BAUD_IDLE_MS 5000u      /* no valid frame this long at a negotiated rate: the default */

typedef struct {
    uint32_t rate;       /* the rate the UART runs at now */
    uint32_t pending;    /* switch to this rate once the answer has left (0: none) */
    uint32_t switched_at;
    uint32_t active_at;  /* the last valid frame received, or the end of its answer */
    int probation;       /* at a negotiated rate that the station has not confirmed yet */
    int proved;          /* ... and a HELLO was answered at it: proof_seq/proof_crc */
    uint32_t proof_seq, proof_crc;
} baud_t;

void baud_init(baud_t *b);
/* Whether the board can switch at all (the HAL offers rates besides the default). */
int baud_capable(void);
/* Whether BAUD may ask for rate: the default, or one of the HAL's rates. */
int baud_offered(uint32_t rate);
/* The HELLO field: the HAL's rates, comma-separated, into out (NUL-terminated); 0 when it fits. */
int baud_list(char *out, size_t cap);
/* A valid frame arrived (before it is executed or replayed): confirms a probation. */
void baud_on_frame(baud_t *b, const frame_t *f);
/* The answer to a request has been written: make the pending switch, if any. */
void baud_after_answer(baud_t *b);
/* From the main loop while no request executes: probation and idle timers. Returns whether a
 * timer is running (the loop should then call again within about 10 ms). */
int baud_poll(baud_t *b);

#endif
