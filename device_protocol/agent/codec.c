/* Byte codecs of SPEC.md (see codec.h). Portable C99, no allocation. */
#include "codec.h"

uint32_t crc32_update(uint32_t crc, const uint8_t *data, size_t n)
{
    size_t i;
    int k;
    crc = ~crc;
    for (i = 0; i < n; i++) {
        crc ^= data[i];
        for (k = 0; k < 8; k++) /* bitwise: 1 KiB of table saved on small boards */
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

uint32_t crc32(const uint8_t *data, size_t n) { return crc32_update(0, data, n); }

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const uint8_t *s, size_t n)
{
    size_t len, i;
    uint32_t cp;
    if (s[0] < 0x80) return 1;
    if ((s[0] & 0xE0) == 0xC0) { len = 2; cp = s[0] & 0x1Fu; }
    else if ((s[0] & 0xF0) == 0xE0) { len = 3; cp = s[0] & 0x0Fu; }
    else if ((s[0] & 0xF8) == 0xF0) { len = 4; cp = s[0] & 0x07u; }
    else return 0;
    if (len > n) return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

long pct_decode(uint8_t *s, size_t n)
{
    size_t i = 0, o = 0, len;
    while (i < n) {
        uint8_t c = s[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= n) return -1;
            hi = hexval(s[i + 1]);
            lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0) return -1;
            s[o++] = (uint8_t)(hi * 16 + lo);
            i += 3;
        } else {
            if (c < 0x21 || c > 0x7E || c == '*' || c == '~') return -1;
            s[o++] = c;
            i++;
        }
    }
    for (i = 0; i < o; i += len) {
        len = utf8_len(s + i, o - i);
        if (len == 0) return -1;
    }
    return (long)o;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t b64_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
    size_t i, o = 0, need = (n + 2) / 3 * 4;
    if (need > cap) return 0;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
        out[o++] = B64[v >> 18]; out[o++] = B64[(v >> 12) & 63];
        out[o++] = B64[(v >> 6) & 63]; out[o++] = B64[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
        out[o++] = B64[v >> 18]; out[o++] = B64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? B64[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    return o;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

long b64_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
    size_t i, o = 0;
    if (n % 4 != 0) return -1;
    for (i = 0; i < n; i += 4) {
        int v[4], k, pad = 0;
        uint32_t w;
        for (k = 0; k < 4; k++) {
            if (in[i + k] == '=' && i + 4 == n && k >= 2) { v[k] = 0; pad++; continue; }
            if (pad) return -1; /* data after padding */
            v[k] = b64val(in[i + k]);
            if (v[k] < 0) return -1;
        }
        w = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) | ((uint32_t)v[2] << 6) | (uint32_t)v[3];
        if (o + (size_t)(3 - pad) > cap) return -1;
        out[o++] = (uint8_t)(w >> 16);
        if (pad < 2) out[o++] = (uint8_t)(w >> 8);
        if (pad < 1) out[o++] = (uint8_t)w;
    }
    return (long)o;
}

int hex64_decode(const char *in, size_t n, uint8_t out[32])
{
    size_t i;
    if (n != 64) return -1;
    for (i = 0; i < 64; i++)
        if (!((in[i] >= '0' && in[i] <= '9') || (in[i] >= 'a' && in[i] <= 'f'))) return -1;
    for (i = 0; i < 32; i++)
        out[i] = (uint8_t)(hexval((uint8_t)in[2 * i]) * 16 + hexval((uint8_t)in[2 * i + 1]));
    return 0;
}

void hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char H[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = H[in[i] >> 4];
        out[2 * i + 1] = H[in[i] & 15];
    }
}

int parse_uint(const char *s, size_t n, uint32_t lo, uint32_t hi, uint32_t *out)
{
    size_t i;
    uint64_t v = 0;
    if (n == 0 || n > 10) return -1;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v < lo || v > hi) return -1;
    *out = (uint32_t)v;
    return 0;
}
