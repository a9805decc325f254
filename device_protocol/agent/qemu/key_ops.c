/* The key operations on this board, wrapped at link time (-Wl,--wrap=crypto_keygen,--wrap=
 * crypto_csr,--wrap=crypto_sign; the agent's code is unchanged) for two things:
 *
 * - BUSY keep-alives from the SysTick interrupt, not from the DRBG callback: on a slow core (or
 *   an emulator sharing a loaded host) RSA-2048's prime search can go longer than SPEC.md 4's
 *   0.5 s between two random draws. The agent's tick runs from the interrupt while the
 *   operation runs; the main context touches neither the UART nor the agent meanwhile.
 * - The figures of the agent README: each operation's time (emulated milliseconds), peak heap
 *   (mbedTLS's allocator) and stack high-water mark, appended to the board's storage as one
 *   line in `figures` ("keygen ec-p256 ms=39 heap=1416 blocks=24 stack=3332 isr_stack=312"). */
#include <string.h>

#include "../crypto.h"
#include "../hal.h"
#include "board.h"
#include "mbedtls/memory_buffer_alloc.h"
#include "semihost.h"

int __real_crypto_keygen(key_type_t kt, uint8_t *key, size_t cap, size_t *len, crypto_tick_t tick, void *ctx);
int __real_crypto_csr(const uint8_t *key, size_t key_len, const char *cn, const char *uid, uint8_t *out,
                      size_t cap, size_t *len, crypto_tick_t tick, void *ctx);
int __real_crypto_sign(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t n, uint8_t *sig,
                       size_t cap, size_t *len, crypto_tick_t tick, void *ctx);
int __wrap_crypto_keygen(key_type_t kt, uint8_t *key, size_t cap, size_t *len, crypto_tick_t tick, void *ctx);
int __wrap_crypto_csr(const uint8_t *key, size_t key_len, const char *cn, const char *uid, uint8_t *out,
                      size_t cap, size_t *len, crypto_tick_t tick, void *ctx);
int __wrap_crypto_sign(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t n, uint8_t *sig,
                       size_t cap, size_t *len, crypto_tick_t tick, void *ctx);

static uint32_t started;
static volatile crypto_tick_t timer_tick;
static void *volatile timer_ctx;

void board_keepalive_poll(void)
{
    crypto_tick_t tick = timer_tick;
    if (tick != NULL) tick(timer_ctx);
}

static const char *type_name(key_type_t kt)
{
    return kt == KT_RSA_2048 ? "rsa-2048" : kt == KT_EC_P384 ? "ec-p384" : "ec-p256";
}

/* The key type from its DER size: P-256 ~121 bytes, P-384 ~167, RSA-2048 ~1190. */
static key_type_t type_of(size_t key_len)
{
    return key_len > 600 ? KT_RSA_2048 : key_len > 140 ? KT_EC_P384 : KT_EC_P256;
}

static void start(crypto_tick_t tick, void *ctx)
{
    timer_ctx = ctx;
    timer_tick = tick;
    board_stack_repaint();
    mbedtls_memory_buffer_alloc_max_reset();
    started = hal_millis();
}

static char *put(char *o, const char *text)
{
    size_t n = strlen(text);
    memcpy(o, text, n);
    return o + n;
}

static char *put_u32(char *o, uint32_t v)
{
    char digits[10];
    size_t n = 0;
    do digits[n++] = (char)('0' + v % 10); while ((v /= 10) != 0);
    while (n > 0) *o++ = digits[--n];
    return o;
}

static void record(const char *op, key_type_t kt, int ret)
{
    char line[128], *o = line;
    size_t heap = 0, blocks = 0;
    long h;
    uint32_t ms = hal_millis() - started;
    timer_tick = NULL; /* the interrupt finishes before this returns: no tick after it */
    if (ret != 0) return;
    mbedtls_memory_buffer_alloc_max_get(&heap, &blocks);
    o = put(o, op);
    o = put(o, " ");
    o = put(o, type_name(kt));
    o = put_u32(put(o, " ms="), ms);
    o = put_u32(put(o, " heap="), (uint32_t)heap);
    o = put_u32(put(o, " blocks="), (uint32_t)blocks);
    o = put_u32(put(o, " stack="), (uint32_t)board_stack_high_water());
    o = put_u32(put(o, " isr_stack="), (uint32_t)board_isr_stack_high_water());
    o = put(o, "\n");
    /* appended by hand: QEMU 7.2's semihosting writes an "ab" file from its start */
    h = sh_open("figures", SH_MODE_RPB);
    if (h < 0) h = sh_open("figures", SH_MODE_WB);
    if (h < 0) return;
    if (sh_seek(h, sh_flen(h)) == 0) (void)sh_write(h, line, (size_t)(o - line));
    sh_close(h);
}

int __wrap_crypto_keygen(key_type_t kt, uint8_t *key, size_t cap, size_t *len, crypto_tick_t tick, void *ctx)
{
    int ret;
    start(tick, ctx);
    ret = __real_crypto_keygen(kt, key, cap, len, NULL, NULL);
    record("keygen", kt, ret);
    return ret;
}

int __wrap_crypto_csr(const uint8_t *key, size_t key_len, const char *cn, const char *uid, uint8_t *out,
                      size_t cap, size_t *len, crypto_tick_t tick, void *ctx)
{
    int ret;
    start(tick, ctx);
    ret = __real_crypto_csr(key, key_len, cn, uid, out, cap, len, NULL, NULL);
    record("csr", type_of(key_len), ret);
    return ret;
}

int __wrap_crypto_sign(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t n, uint8_t *sig,
                       size_t cap, size_t *len, crypto_tick_t tick, void *ctx)
{
    int ret;
    start(tick, ctx);
    ret = __real_crypto_sign(key, key_len, msg, n, sig, cap, len, NULL, NULL);
    record("sign", type_of(key_len), ret);
    return ret;
}

/* MBEDTLS_PLATFORM_FPRINTF_MACRO: the allocator's complaints, as console text (unformatted). */
int board_fprintf(FILE *stream, const char *format, ...)
{
    (void)stream;
    hal_uart_write((const uint8_t *)"E mbedtls: ", 11);
    hal_uart_write((const uint8_t *)format, strlen(format));
    return 0;
}

/* MBEDTLS_PLATFORM_EXIT_MACRO: a corrupt heap stops the board. */
void board_halt(int status)
{
    (void)status;
    hal_uart_write((const uint8_t *)"E mbedtls: halted\r\n", 19);
    for (;;) {
    }
}
