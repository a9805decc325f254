/* Frame decoder, parser and encoder (SPEC.md section 2). */
#include "frame.h"

#include <string.h>

#include "codec.h"

/* ST_TAIL: a frame ended at its CRC; bytes up to its LF are ignored, not NAKed (SPEC.md 2.4) */
enum { ST_TEXT, ST_FRAME, ST_DISCARD, ST_TAIL };

void decoder_init(decoder_t *d)
{
    memset(d, 0, sizeof *d);
    d->star = -1;
}

static void start_frame(decoder_t *d)
{
    d->state = ST_FRAME;
    d->buf[0] = '~';
    d->buf[1] = 'P';
    d->len = 2;
    d->star = -1;
    d->text = 0;
}

static int is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static int is_lower(char c) { return c >= 'a' && c <= 'z'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* [A-Z][A-Z0-9_]{0,15} (upper) or [a-z][a-z0-9_]{0,15} */
static int is_token(const char *s, size_t n, int upper)
{
    size_t i;
    if (n < 1 || n > 16 || !(upper ? is_upper(s[0]) : is_lower(s[0]))) return 0;
    for (i = 1; i < n; i++)
        if (!((upper ? is_upper(s[i]) : is_lower(s[i])) || is_digit(s[i]) || s[i] == '_')) return 0;
    return 1;
}

/* Parse buf[0..len) = "~" body "*" 8 hex digits, in place; 0 on success. */
static int parse(decoder_t *d, frame_t *f)
{
    char *body = (char *)d->buf + 1, *p, *end;
    size_t body_len = (size_t)d->star - 1, i;
    uint32_t crc = 0, v;
    int n = 0;
    for (i = 0; i < 8; i++) {
        char c = (char)d->buf[d->star + 1 + (int)i];
        int x = is_digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (x < 0) return -1;
        crc = (crc << 4) | (uint32_t)x;
    }
    if (crc != crc32((const uint8_t *)body, body_len)) return -1;
    memset(f, 0, sizeof *f);
    f->crc = crc;
    end = body + body_len;
    *end = '\0'; /* the '*' */
    for (p = body; p <= end; n++) {
        char *sp = memchr(p, ' ', (size_t)(end - p));
        size_t tl;
        if (sp == NULL) sp = end;
        tl = (size_t)(sp - p);
        *sp = '\0';
        if (tl == 0) return -1; /* double, leading or trailing space */
        if (n == 0) {
            if (tl < 2 || tl > 4 || p[0] != 'P' || parse_uint(p + 1, tl - 1, 0, 999, &v)) return -1;
            f->version = v;
        } else if (n == 1) {
            if (tl > 5 || parse_uint(p, tl, 0, 65535, &f->seq)) return -1;
        } else if (n == 2) {
            if (!is_token(p, tl, 1)) return -1;
            f->name = p;
        } else {
            char *eq = memchr(p, '=', tl);
            long vl;
            size_t k;
            if (eq == NULL || !is_token(p, (size_t)(eq - p), 0)) return -1;
            *eq = '\0';
            vl = pct_decode((uint8_t *)eq + 1, tl - (size_t)(eq + 1 - p));
            if (vl < 0) return -1;
            eq[1 + vl] = '\0';
            for (k = 0; k < f->nfields && strcmp(f->fields[k].key, p) != 0; k++) {}
            if (k == FRAME_MAX_FIELDS) continue; /* more fields than any message has: ignore */
            f->fields[k].key = p; /* a repeated key: the last one wins */
            f->fields[k].val = eq + 1;
            f->fields[k].val_len = (size_t)vl;
            if (k == f->nfields) f->nfields++;
        }
        p = sp + 1;
    }
    return n >= 3 ? 0 : -1;
}

dec_event_t decoder_feed(decoder_t *d, uint8_t c, frame_t *f)
{
    int marker = d->tilde && c == 'P';
    d->tilde = c == '~';
    switch (d->state) {
    case ST_TEXT:
        if (marker) { start_frame(d); return DEC_NONE; } /* text before a marker is dropped */
        if (c == '\n') {
            int had = d->text;
            d->text = 0;
            if (had) { d->bad++; return DEC_BAD; } /* the station sends only frames */
            return DEC_NONE;
        }
        if (c != '\r' && c != '~') d->text = 1;
        return DEC_NONE;
    case ST_TAIL:
        if (marker) { start_frame(d); return DEC_NONE; }
        if (c == '\n') { d->state = ST_TEXT; d->text = 0; }
        return DEC_NONE;
    case ST_DISCARD: /* a line longer than the buffer: dropped up to LF or a marker */
        if (c == '\n' || marker) {
            if (marker) start_frame(d); else d->state = ST_TEXT;
            d->bad++;
            return DEC_BAD;
        }
        return DEC_NONE;
    default: /* ST_FRAME */
        if (c == '\n' || marker) { /* cut short */
            d->len = 0;
            if (marker) start_frame(d); else { d->state = ST_TEXT; d->text = 0; }
            d->bad++;
            return DEC_BAD;
        }
        if (c == '~') return DEC_NONE; /* maybe a marker; else the CRC check fails */
        if (d->len + 1 >= AGENT_MTU) { d->state = ST_DISCARD; d->len = 0; return DEC_NONE; }
        d->buf[d->len++] = c;
        if (c == '*' && d->star < 0) d->star = (int)d->len - 1;
        if (d->star >= 0 && d->len == (size_t)d->star + 9) { /* the 8th CRC digit */
            d->state = ST_TAIL;
            d->text = 0;
            if (parse(d, f) == 0) return DEC_FRAME;
            d->bad++;
            return DEC_BAD;
        }
        return DEC_NONE;
    }
}

const char *frame_get(const frame_t *f, const char *key, size_t *len)
{
    size_t i;
    for (i = 0; i < f->nfields; i++) {
        if (strcmp(f->fields[i].key, key) == 0) {
            if (len) *len = f->fields[i].val_len;
            return f->fields[i].val;
        }
    }
    return NULL;
}

static void put(encoder_t *e, const char *s, size_t n)
{
    if (e->overflow || e->len + n > sizeof e->buf) { e->overflow = 1; return; }
    memcpy(e->buf + e->len, s, n);
    e->len += n;
}

static void put_uint(encoder_t *e, uint32_t v)
{
    char tmp[10];
    int n = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) put(e, &tmp[--n], 1);
}

void enc_begin(encoder_t *e, uint32_t seq, const char *name)
{
    e->len = 0;
    e->overflow = 0;
    put(e, "~P1 ", 4);
    put_uint(e, seq);
    put(e, " ", 1);
    put(e, name, strlen(name));
}

static void key(encoder_t *e, const char *k)
{
    put(e, " ", 1);
    put(e, k, strlen(k));
    put(e, "=", 1);
}

void enc_field(encoder_t *e, const char *k, const uint8_t *val, size_t n)
{
    static const char H[] = "0123456789ABCDEF";
    size_t i;
    key(e, k);
    for (i = 0; i < n; i++) {
        uint8_t c = val[i];
        if (c < 0x21 || c > 0x7E || c == '%' || c == '*' || c == '~') {
            char esc[3];
            esc[0] = '%'; esc[1] = H[c >> 4]; esc[2] = H[c & 15];
            put(e, esc, 3);
        } else {
            put(e, (const char *)&c, 1);
        }
    }
}

void enc_str(encoder_t *e, const char *k, const char *val)
{
    enc_field(e, k, (const uint8_t *)val, strlen(val));
}

void enc_uint(encoder_t *e, const char *k, uint32_t val)
{
    key(e, k);
    put_uint(e, val);
}

void enc_b64(encoder_t *e, const char *k, const uint8_t *data, size_t n)
{
    size_t room;
    key(e, k);
    room = e->overflow ? 0 : sizeof e->buf - e->len;
    if (e->overflow || (n && b64_encode(data, n, e->buf + e->len, room) == 0)) { e->overflow = 1; return; }
    e->len += (n + 2) / 3 * 4;
}

void enc_hex(encoder_t *e, const char *k, const uint8_t *data, size_t n)
{
    key(e, k);
    if (e->overflow || e->len + 2 * n > sizeof e->buf) { e->overflow = 1; return; }
    hex_encode(data, n, e->buf + e->len);
    e->len += 2 * n;
}

size_t enc_finish(encoder_t *e)
{
    char tail[8];
    uint32_t crc = e->overflow ? 0 : crc32((const uint8_t *)e->buf + 1, e->len - 1);
    hex_encode((const uint8_t[]){(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8),
                                 (uint8_t)crc}, 4, tail);
    put(e, "*", 1);
    put(e, tail, 8);
    put(e, "\n", 1);
    return e->overflow ? 0 : e->len;
}
