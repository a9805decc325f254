/* The protocol core: state machine, message handlers, replay cache, NAK and BUSY (SPEC.md 3-7).
 * No OS calls and no allocation: the platform is reached through hal.h, keys through crypto.h. */
#include "agent.h"

#include <string.h>

#include "codec.h"
#include "hal.h"

#define AGENT_MODEL "SA1"
#define AGENT_FW "1.3"
/* SPEC.md 4: the first BUSY by 0.5 s, then at least every 1 s. Half of each, so a late tick (a slow
 * core, an emulator on a loaded host) still keeps within the spec. */
#define BUSY_EVERY_MS 250u

enum {
    UNSUPPORTED = 1, BAD_REQUEST, BAD_VERSION, BAD_STATE, LOCKED, UNSUPPORTED_KEY,
    KEYGEN_FAILED, BAD_OFFSET, DIGEST_MISMATCH, TOO_LARGE, STORAGE_FAILED, NO_OBJECT, INTERNAL
};

static const struct { const char *name; key_type_t kt; } KEY_TYPES[] = {
    {"ec-p256", KT_EC_P256}, {"ec-p384", KT_EC_P384}, {"rsa-2048", KT_RSA_2048}};
#define N_KEY_TYPES (sizeof KEY_TYPES / sizeof KEY_TYPES[0])

static const char *kt_name(key_type_t kt)
{
    size_t i;
    for (i = 0; i < N_KEY_TYPES; i++)
        if (KEY_TYPES[i].kt == kt) return KEY_TYPES[i].name;
    return "";
}

static void log_line(const char *text)
{
    hal_uart_write((const uint8_t *)"I agent: ", 9);
    hal_uart_write((const uint8_t *)text, strlen(text));
    hal_uart_write((const uint8_t *)"\r\n", 2);
}

int agent_init(agent_t *a)
{
    long n;
    memset(a, 0, sizeof *a);
    decoder_init(&a->dec);
    baud_init(&a->baud);
    n = hal_store_read(HAL_SLOT_KEY, a->key, sizeof a->key);
    if (n > 1 && a->key[0] >= KT_EC_P256 && a->key[0] <= KT_RSA_2048) {
        a->kt = (key_type_t)a->key[0];
        a->key_len = (size_t)n - 1;
        memmove(a->key, a->key + 1, a->key_len);
    }
    n = hal_store_read(HAL_SLOT_CHAIN, a->chain, sizeof a->chain);
    a->chain_len = n > 0 && a->kt != KT_NONE ? (size_t)n : 0;
    a->locked = hal_store_read(HAL_SLOT_LOCK, a->scratch, sizeof a->scratch) > 0 && a->chain_len > 0;
    return n < 0 ? -1 : 0;
}

static const char *state_name(const agent_t *a)
{
    if (a->locked) return "locked";
    if (a->chain_len) return "certified";
    return a->kt != KT_NONE ? "keyed" : "blank";
}

static void busy_tick(void *ctx)
{
    agent_t *a = ctx;
    encoder_t busy;
    size_t n;
    if ((uint32_t)(hal_millis() - a->busy_at) < (a->busy_sent ? 2 * BUSY_EVERY_MS : BUSY_EVERY_MS))
        return;
    enc_begin(&busy, a->busy_seq, "BUSY");
    enc_str(&busy, "msg", "working");
    if ((n = enc_finish(&busy)) != 0) hal_uart_write((const uint8_t *)busy.buf, n);
    a->busy_at = hal_millis();
    a->busy_sent = 1;
}

/* ---- answers --------------------------------------------------------------------------------- */

static int err(agent_t *a, uint32_t seq, int code, const char *msg)
{
    enc_begin(&a->out, seq, "ERR");
    enc_uint(&a->out, "code", (uint32_t)code);
    enc_str(&a->out, "msg", msg);
    return code;
}

static void ok(agent_t *a, uint32_t seq) { enc_begin(&a->out, seq, "OK"); }

/* The object's first bytes as `data` (SPEC.md 1.3: GET_CSR, GET_CERT, SIGN): as many as fit the
 * answer built so far in its worst case, seq 65535, with " data=", whole base64 quads, "*", the
 * CRC and LF; none at all rather than an empty value. */
static void enc_inline(agent_t *a, uint32_t seq, const uint8_t *data, size_t n)
{
    size_t digits = 1, used, room;
    uint32_t s;
    for (s = seq; s >= 10; s /= 10) digits++;
    used = a->out.len + (5 - digits) + 6 + 10; /* seq as 65535; " data="; "*", 8 digits, LF */
    room = used < AGENT_MTU ? (AGENT_MTU - used) / 4 * 3 : 0;
    if (room > n) room = n;
    if (room > 0) enc_b64(&a->out, "data", data, room);
}

/* OK total= sha= [alg=] data=: an object the station reads the rest of from len(data) on. */
static void ok_object(agent_t *a, uint32_t seq, const uint8_t *data, size_t n, const uint8_t sha[32],
                      const char *alg)
{
    ok(a, seq);
    enc_uint(&a->out, "total", (uint32_t)n);
    enc_hex(&a->out, "sha", sha, 32);
    if (alg != NULL) enc_str(&a->out, "alg", alg);
    enc_inline(a, seq, data, n);
}

/* Required unsigned field; -1 when missing or malformed. */
static int get_uint(const frame_t *f, const char *key, uint32_t lo, uint32_t hi, uint32_t *v)
{
    size_t n;
    const char *s = frame_get(f, key, &n);
    return s == NULL ? -1 : parse_uint(s, n, lo, hi, v);
}

/* ---- handlers ---------------------------------------------------------------------------------- */

static void hello(agent_t *a, const frame_t *f)
{
    uint32_t v;
    char keys[96] = ""; /* also the bauds list, after the keys are sent */
    size_t i;
    if (get_uint(f, "v", 1, 999, &v)) { err(a, f->seq, BAD_REQUEST, "v missing or invalid"); return; }
    for (i = 0; i < N_KEY_TYPES; i++) {
        if (i) strcat(keys, ",");
        strcat(keys, KEY_TYPES[i].name);
    }
    ok(a, f->seq);
    enc_uint(&a->out, "v", 1);
    enc_str(&a->out, "model", AGENT_MODEL);
    enc_str(&a->out, "uid", hal_uid());
    enc_str(&a->out, "fw", AGENT_FW);
    enc_str(&a->out, "keys", keys);
    enc_str(&a->out, "state", state_name(a));
    enc_uint(&a->out, "mtu", AGENT_MTU);
    if (a->kt != KT_NONE) enc_str(&a->out, "kt", kt_name(a->kt));
    /* no store field: AGENT_CHAIN_MAX is the minimum of SPEC.md 7.1, which a station assumes
     * when store is absent */
    if (baud_capable() && baud_list(keys, sizeof keys) == 0) enc_str(&a->out, "bauds", keys);
    enc_str(&a->out, "caps", "text"); /* 1.3: PUT_CERT chunks may carry text */
}

/* SPEC.md 1.2: answered at the current rate; on_frame switches once the answer has left */
static void baud(agent_t *a, const frame_t *f)
{
    uint32_t rate;
    if (!baud_capable()) { err(a, f->seq, UNSUPPORTED, "unknown message"); return; }
    if (get_uint(f, "rate", 1, 0xFFFFFFFFu, &rate) || !baud_offered(rate)) {
        err(a, f->seq, BAD_REQUEST, "rate missing or not offered (115200 or one of bauds in HELLO)");
        return;
    }
    ok(a, f->seq);
    enc_uint(&a->out, "rate", rate);
    a->baud.pending = rate;
}

/* Read the committed chain back from storage into the RAM mirror and hash what was read, so a
 * digest proves what the flash holds (SPEC.md 1.2: PUT_CERT's final chunk and GET_CERT). */
static int reload_chain(agent_t *a, uint8_t sha[32])
{
    long n = hal_store_read(HAL_SLOT_CHAIN, a->chain, sizeof a->chain);
    a->chain_len = n > 0 ? (size_t)n : 0;
    if (n < 0) return -1;
    crypto_sha256(a->chain, a->chain_len, sha);
    return 0;
}

static void keygen(agent_t *a, const frame_t *f)
{
    size_t i, n;
    key_type_t kt = KT_NONE;
    const char *name = frame_get(f, "kt", NULL);
    uint8_t stored[1 + AGENT_KEY_MAX];
    if (name == NULL) { err(a, f->seq, BAD_REQUEST, "kt missing"); return; }
    if (a->locked) { err(a, f->seq, LOCKED, "board is locked"); return; }
    for (i = 0; i < N_KEY_TYPES; i++)
        if (strcmp(name, KEY_TYPES[i].name) == 0) kt = KEY_TYPES[i].kt;
    if (kt == KT_NONE) { err(a, f->seq, UNSUPPORTED_KEY, "key type not supported"); return; }
    if (crypto_keygen(kt, stored + 1, sizeof stored - 1, &n, busy_tick, a)) {
        err(a, f->seq, KEYGEN_FAILED, "key generation failed");
        return;
    }
    stored[0] = (uint8_t)kt;
    /* chain first: a reset in between leaves the old key without a chain, never a mismatch */
    if (hal_store_write(HAL_SLOT_CHAIN, NULL, 0) || hal_store_write(HAL_SLOT_KEY, stored, n + 1)) {
        err(a, f->seq, KEYGEN_FAILED, "storing the key failed");
        return;
    }
    memcpy(a->key, stored + 1, n);
    a->key_len = n;
    a->kt = kt;
    a->chain_len = a->csr_len = a->sig_len = 0;
    a->xfer_active = 0;
    ok(a, f->seq);
    enc_str(&a->out, "kt", name);
}

static void get_csr(agent_t *a, const frame_t *f)
{
    size_t n;
    const char *cn = frame_get(f, "cn", &n);
    char subject_cn[65];
    uint8_t sha[32];
    if (cn != NULL && (n > 64 || memchr(cn, '\0', n) != NULL)) {
        err(a, f->seq, BAD_REQUEST, "cn longer than 64");
        return;
    }
    if (a->kt == KT_NONE) { err(a, f->seq, BAD_STATE, "no key pair; send KEYGEN first"); return; }
    strcpy(subject_cn, cn != NULL && n > 0 ? cn : hal_uid());
    if (crypto_csr(a->key, a->key_len, subject_cn, hal_uid(), a->csr, sizeof a->csr, &a->csr_len,
                   busy_tick, a)) {
        a->csr_len = 0;
        err(a, f->seq, INTERNAL, "CSR failed");
        return;
    }
    crypto_sha256(a->csr, a->csr_len, sha);
    ok_object(a, f->seq, a->csr, a->csr_len, sha, NULL);
}

static void read_obj(agent_t *a, const frame_t *f)
{
    const char *obj = frame_get(f, "obj", NULL);
    const uint8_t *data = NULL;
    size_t total = 0, chunk = (AGENT_MTU - 38) / 4 * 3; /* SPEC.md 2.5 */
    uint32_t off;
    if (obj == NULL || get_uint(f, "off", 0, 65536, &off)) {
        err(a, f->seq, BAD_REQUEST, "obj or off missing or invalid");
        return;
    }
    if (strcmp(obj, "csr") == 0) { data = a->csr; total = a->csr_len; }
    else if (strcmp(obj, "cert") == 0) { data = a->chain; total = a->chain_len; }
    else if (strcmp(obj, "sig") == 0) { data = a->sig; total = a->sig_len; }
    else { err(a, f->seq, BAD_REQUEST, "obj is not csr, cert or sig"); return; }
    if (total == 0) { err(a, f->seq, NO_OBJECT, "no such object"); return; }
    if (off >= total) { err(a, f->seq, BAD_OFFSET, "off >= total"); return; }
    if (chunk > total - off) chunk = total - off;
    ok(a, f->seq);
    enc_uint(&a->out, "off", off);
    enc_b64(&a->out, "data", data + off, chunk);
}

static void put_cert(agent_t *a, const frame_t *f)
{
    uint32_t total, off;
    size_t n, text_len;
    uint8_t sha[32];
    long len;
    const char *s, *text;
    const uint8_t *bytes;
    if (frame_get(f, "total", NULL) != NULL) { /* begin */
        s = frame_get(f, "sha", &n);
        if (get_uint(f, "total", 1, 65536, &total) || s == NULL || hex64_decode(s, n, sha)) {
            err(a, f->seq, BAD_REQUEST, "total or sha missing or invalid");
            return;
        }
        if (a->locked) { err(a, f->seq, LOCKED, "board is locked"); return; }
        if (a->kt == KT_NONE) { err(a, f->seq, BAD_STATE, "no key pair"); return; }
        if (total > AGENT_CHAIN_MAX) { err(a, f->seq, TOO_LARGE, "chain store holds 4096 bytes"); return; }
        a->xfer_active = 1;
        a->xfer_total = total;
        a->xfer_len = 0;
        memcpy(a->xfer_sha, sha, 32);
        ok(a, f->seq);
        enc_uint(&a->out, "next", 0);
        return;
    }
    s = frame_get(f, "data", &n);
    text = frame_get(f, "text", &text_len);
    if (get_uint(f, "off", 0, 65536, &off)) { err(a, f->seq, BAD_REQUEST, "off missing or invalid"); return; }
    if ((s == NULL) == (text == NULL)) {
        err(a, f->seq, BAD_REQUEST, "a chunk carries exactly one of data or text");
        return;
    }
    if (s != NULL ? n == 0 : text_len == 0) { err(a, f->seq, BAD_REQUEST, "empty data or text"); return; }
    if (s != NULL) {
        len = b64_decode(s, n, a->scratch, sizeof a->scratch);
        if (len <= 0) { err(a, f->seq, BAD_REQUEST, "data is not base64"); return; }
        bytes = a->scratch;
    } else { /* 1.3: the value's own bytes, escapes already decoded by the frame parser */
        len = (long)text_len;
        bytes = (const uint8_t *)text;
    }
    if (a->locked) { err(a, f->seq, LOCKED, "board is locked"); return; }
    if (!a->xfer_active) { err(a, f->seq, BAD_STATE, "no transfer begun"); return; }
    if (off != a->xfer_len) { err(a, f->seq, BAD_OFFSET, "not the next offset"); return; }
    if (a->xfer_len + (size_t)len > a->xfer_total) {
        a->xfer_active = 0;
        err(a, f->seq, TOO_LARGE, "chunk runs past total");
        return;
    }
    memcpy(a->xfer + a->xfer_len, bytes, (size_t)len);
    a->xfer_len += (size_t)len;
    if (a->xfer_len == a->xfer_total) {
        a->xfer_active = 0;
        crypto_sha256(a->xfer, a->xfer_len, sha);
        if (memcmp(sha, a->xfer_sha, 32) != 0) { err(a, f->seq, DIGEST_MISMATCH, "sha-256 mismatch"); return; }
        if (hal_store_write(HAL_SLOT_CHAIN, a->xfer, a->xfer_len)) {
            err(a, f->seq, STORAGE_FAILED, "flash write failed; previous chain kept");
            return;
        }
        if (reload_chain(a, sha)) {
            err(a, f->seq, STORAGE_FAILED, "chain written, reading it back failed; retry");
            return;
        }
    }
    ok(a, f->seq);
    enc_uint(&a->out, "next", (uint32_t)a->xfer_len);
    if (a->xfer_len == a->xfer_total) {
        enc_uint(&a->out, "done", 1);
        enc_hex(&a->out, "sha", sha, 32); /* of the chain as read back from storage */
    }
}

static void get_cert(agent_t *a, const frame_t *f)
{
    uint8_t sha[32];
    if (reload_chain(a, sha)) {
        err(a, f->seq, STORAGE_FAILED, "reading the chain from storage failed");
        return;
    }
    if (a->chain_len == 0) { err(a, f->seq, NO_OBJECT, "no certificate chain stored"); return; }
    ok_object(a, f->seq, a->chain, a->chain_len, sha, NULL);
}

static void sign(agent_t *a, const frame_t *f)
{
    size_t n;
    uint8_t ch[64 + 3], sha[32];
    const char *s = frame_get(f, "ch", &n);
    long len = s == NULL ? -1 : b64_decode(s, n, ch, sizeof ch);
    if (len < 16 || len > 64) { err(a, f->seq, BAD_REQUEST, "ch must be 16..64 bytes of base64"); return; }
    if (a->kt == KT_NONE) { err(a, f->seq, BAD_STATE, "no key pair"); return; }
    if (crypto_sign(a->key, a->key_len, ch, (size_t)len, a->sig, sizeof a->sig, &a->sig_len, busy_tick, a)) {
        a->sig_len = 0;
        err(a, f->seq, INTERNAL, "signing failed");
        return;
    }
    crypto_sha256(a->sig, a->sig_len, sha);
    ok_object(a, f->seq, a->sig, a->sig_len, sha,
              a->kt == KT_RSA_2048 ? "rsa-pkcs1-sha256" : "ecdsa-sha256");
}

static void lock(agent_t *a, const frame_t *f)
{
    if (!a->locked) {
        if (a->chain_len == 0) { err(a, f->seq, BAD_STATE, "no certificate committed"); return; }
        if (hal_store_write(HAL_SLOT_LOCK, (const uint8_t *)"1", 1)) {
            err(a, f->seq, STORAGE_FAILED, "writing the lock failed");
            return;
        }
        a->locked = 1;
    }
    ok(a, f->seq);
    enc_str(&a->out, "state", "locked");
}

static void dispatch(agent_t *a, const frame_t *f)
{
    static const struct { const char *name; void (*fn)(agent_t *, const frame_t *); } H[] = {
        {"HELLO", hello}, {"KEYGEN", keygen}, {"GET_CSR", get_csr}, {"READ", read_obj},
        {"PUT_CERT", put_cert}, {"SIGN", sign}, {"LOCK", lock}, {"GET_CERT", get_cert},
        {"BAUD", baud}};
    size_t i;
    if (f->version != 1) { err(a, f->seq, BAD_VERSION, "speaks P1 only"); return; }
    for (i = 0; i < sizeof H / sizeof H[0]; i++)
        if (strcmp(f->name, H[i].name) == 0) { H[i].fn(a, f); return; }
    err(a, f->seq, UNSUPPORTED, "unknown message");
}

static void on_frame(agent_t *a, const frame_t *f)
{
    size_t n;
    baud_on_frame(&a->baud, f);
    /* replay, never redo; HELLO always runs afresh and its answer replaces the cache, so no
     * request from before it is ever replayed after it (SPEC.md 3.8) */
    if (f->seq == a->last_seq && f->crc == a->last_crc && a->last_len &&
        strcmp(f->name, "HELLO") != 0) {
        hal_uart_write((const uint8_t *)a->last_line, a->last_len);
        return;
    }
    a->busy_seq = f->seq;
    a->busy_at = hal_millis();
    a->busy_sent = 0;
    dispatch(a, f);
    n = enc_finish(&a->out);
    if (n == 0) { /* cannot happen with the fields above; answer rather than stay silent */
        err(a, f->seq, INTERNAL, "answer too long");
        n = enc_finish(&a->out);
    }
    memcpy(a->last_line, a->out.buf, n);
    /* BAUD is never replayed (SPEC.md 1.2): a copy of it runs afresh at the rate it arrives at */
    a->last_len = strcmp(f->name, "BAUD") == 0 ? 0 : n;
    a->last_seq = f->seq;
    a->last_crc = f->crc;
    hal_uart_write((const uint8_t *)a->out.buf, n);
    baud_after_answer(&a->baud);
    if (strcmp(f->name, "KEYGEN") == 0 || strcmp(f->name, "LOCK") == 0) log_line(state_name(a));
}

void agent_feed(agent_t *a, const uint8_t *data, size_t n)
{
    static const char NAK[] = "~P1 0 NAK*4ac7d651\n";
    frame_t f;
    size_t i;
    for (i = 0; i < n; i++) {
        dec_event_t ev = decoder_feed(&a->dec, data[i], &f);
        if (ev == DEC_FRAME) on_frame(a, &f);
        else if (ev == DEC_BAD) hal_uart_write((const uint8_t *)NAK, sizeof NAK - 1);
    }
}

int agent_poll(agent_t *a) { return baud_poll(&a->baud); }
