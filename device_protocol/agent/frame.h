/* Frames of SPEC.md section 2: a byte-at-a-time line decoder with a fixed buffer of AGENT_MTU
 * bytes, an in-place frame parser and a bounds-checked encoder. No I/O, no allocation. */
#ifndef AGENT_FRAME_H
#define AGENT_FRAME_H

#include <stddef.h>
#include <stdint.h>

#ifndef AGENT_MTU
/* the longest line, LF included, received or sent (SPEC.md 2.5); 256 so that HELLO with bauds
 * fits in its worst case (7.1), and fewer, longer chunks move the chain and the CSR */
#define AGENT_MTU 256
#endif
#define FRAME_MAX_FIELDS 8

typedef struct {
    const char *key; /* NUL-terminated, inside the decoder's buffer */
    const char *val; /* decoded bytes, NUL-terminated (values hold no NUL when sent as text) */
    size_t val_len;
} field_t;

typedef struct {
    unsigned version;
    uint32_t seq;
    uint32_t crc; /* of the body as received: the replay cache keys on (seq, crc) */
    const char *name;
    field_t fields[FRAME_MAX_FIELDS];
    size_t nfields;
} frame_t;

typedef enum { DEC_NONE, DEC_FRAME, DEC_BAD } dec_event_t;

typedef struct {
    uint8_t buf[AGENT_MTU];
    size_t len;
    int state;   /* text, frame, discard */
    int tilde;   /* the previous byte was '~' */
    int star;    /* index of the CRC separator, or -1 */
    int text;    /* the current non-frame line holds bytes */
    unsigned long bad;
} decoder_t;

void decoder_init(decoder_t *d);
/* Feed one byte. DEC_FRAME: *f is valid until the next call; DEC_BAD: a damaged line (NAK it). */
dec_event_t decoder_feed(decoder_t *d, uint8_t byte, frame_t *f);
const char *frame_get(const frame_t *f, const char *key, size_t *len);

typedef struct {
    char buf[AGENT_MTU];
    size_t len;
    int overflow;
} encoder_t;

void enc_begin(encoder_t *e, uint32_t seq, const char *name);
void enc_field(encoder_t *e, const char *key, const uint8_t *val, size_t n); /* escapes */
void enc_str(encoder_t *e, const char *key, const char *val);
void enc_uint(encoder_t *e, const char *key, uint32_t val);
void enc_b64(encoder_t *e, const char *key, const uint8_t *data, size_t n);
void enc_hex(encoder_t *e, const char *key, const uint8_t *data, size_t n);
/* Append *crc and LF; returns the line length, or 0 if it did not fit AGENT_MTU. */
size_t enc_finish(encoder_t *e);

#endif
