/* Byte codecs of SPEC.md: CRC-32/ISO-HDLC, %XX escapes, base64, hex, decimal. No state, no I/O. */
#ifndef AGENT_CODEC_H
#define AGENT_CODEC_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32_update(uint32_t crc, const uint8_t *data, size_t n);
uint32_t crc32(const uint8_t *data, size_t n);

/* Decode %XX escapes in place; returns the new length, or -1 on a broken escape, a byte outside
 * the safe set, or invalid UTF-8. */
long pct_decode(uint8_t *s, size_t n);

/* Base64 (RFC 4648, padded). Encode returns the output length or 0 when cap is too small;
 * decode returns the byte count or -1 on bad input or overflow. */
size_t b64_encode(const uint8_t *in, size_t n, char *out, size_t cap);
long b64_decode(const char *in, size_t n, uint8_t *out, size_t cap);

/* 64 lowercase hex digits to 32 bytes (0 on success), and 32 bytes to 64 hex digits. */
int hex64_decode(const char *in, size_t n, uint8_t out[32]);
void hex_encode(const uint8_t *in, size_t n, char *out);

/* Unsigned decimal of 1..10 digits within lo..hi; 0 on success. */
int parse_uint(const char *s, size_t n, uint32_t lo, uint32_t hi, uint32_t *out);

#endif
