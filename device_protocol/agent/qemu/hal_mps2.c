/* hal.h on QEMU's mps2-an386: UART0 (CMSDK APB UART) as the line, its rate set by BAUDDIV from
 * the 25 MHz clock, TIMER0 as the clock (SysTick for the keep-alive poll), and, through
 * semihosting, host files as flash and the host's /dev/urandom as entropy.
 *
 * EMULATOR ONLY: the entropy source and the storage exist because QEMU provides them. A
 * product MUST seed from its TRNG and keep its slots in its own flash (see the agent README). */
#include <string.h>

#include "../hal.h"
#include "board.h"
#include "semihost.h"

#define UART0 0x40004000u
#define UART_DATA (*(volatile uint32_t *)(UART0 + 0x00))
#define UART_STATE (*(volatile uint32_t *)(UART0 + 0x04))
#define UART_CTRL (*(volatile uint32_t *)(UART0 + 0x08))
#define UART_BAUDDIV (*(volatile uint32_t *)(UART0 + 0x10))
#define UART_TX_FULL 1u
#define UART_RX_FULL 2u

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

/* CMSDK APB timer 0: a 32-bit down-counter at the 25 MHz peripheral clock. QEMU computes its
 * value from the virtual clock when read, so it keeps time when a loaded host delays SysTick's
 * interrupts (QEMU then drops ticks: a tick count would run slow). */
#define TIMER0 0x40000000u
#define TIMER_CTRL (*(volatile uint32_t *)(TIMER0 + 0x00))
#define TIMER_VALUE (*(volatile uint32_t *)(TIMER0 + 0x04))
#define TIMER_RELOAD (*(volatile uint32_t *)(TIMER0 + 0x08))

#define HOST_ENOENT 2

extern uint32_t __stack_bottom, __stack_top, __isr_stack_bottom, __isr_stack_top;

/* BAUDDIV = clock / rate, at least 16 (the CMSDK UART's minimum: 1.56 Mbaud at 25 MHz); each
 * of these is within 0.5% of its rate (27, 54 and 108.5 -> 109 cycles per bit) */
static const uint32_t RATES[] = {230400u, 460800u, 921600u};
static uint32_t uart_div;

static uint64_t timer_cycles; /* TIMER0 cycles since board_init, widened past its wrap */
static uint32_t timer_last;
static long entropy_handle = -1;
static char uid[13];

static const char *const SLOT_FILES[] = {"key.der", "chain.pem", "locked"};
static const char *const SLOT_TEMPS[] = {"key.der.tmp", "chain.pem.tmp", "locked.tmp"};

void systick_handler(void);
void systick_handler(void)
{
    (void)hal_millis(); /* at least once per TIMER0 wrap (171 s) */
    board_keepalive_poll();
}

static long read_file(const char *name, uint8_t *buf, size_t cap)
{
    long h = sh_open(name, SH_MODE_RB), len;
    if (h < 0) return sh_errno() == HOST_ENOENT ? 0 : -1;
    len = sh_flen(h);
    if (len < 0 || (size_t)len > cap || (len > 0 && sh_read(h, buf, (size_t)len) != 0)) len = -1;
    sh_close(h);
    return len;
}

/* The board id: made once from entropy and kept in the storage (a chip id on a real MCU). */
static void load_uid(void)
{
    static const char hex[] = "0123456789ABCDEF";
    uint8_t raw[6];
    long h;
    size_t i;
    if (read_file("uid", (uint8_t *)uid, 12) == 12) return;
    if (hal_entropy(raw, sizeof raw)) return;
    for (i = 0; i < 6; i++) {
        uid[2 * i] = hex[raw[i] >> 4];
        uid[2 * i + 1] = hex[raw[i] & 15];
    }
    h = sh_open("uid", SH_MODE_WB);
    if (h >= 0) {
        (void)sh_write(h, uid, 12);
        sh_close(h);
    }
}

void board_init(void)
{
    uart_div = (BOARD_CPU_HZ + 115200u / 2) / 115200u;
    UART_BAUDDIV = uart_div;
    UART_CTRL = 3u; /* TX and RX enabled, no interrupts: the main loop polls */
    TIMER_RELOAD = 0xFFFFFFFFu;
    TIMER_VALUE = 0xFFFFFFFFu;
    TIMER_CTRL = 1u; /* enabled, no interrupt */
    SYST_RVR = BOARD_CPU_HZ / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* processor clock, interrupt, enabled */
    load_uid();
}

int board_uart_getc(void) { return UART_STATE & UART_RX_FULL ? (int)(UART_DATA & 0xFFu) : -1; }

size_t board_stack_size(void) { return (size_t)((char *)&__stack_top - (char *)&__stack_bottom); }

static size_t high_water(const uint32_t *bottom, const uint32_t *top)
{
    while (bottom < top && *bottom == BOARD_STACK_PAINT) bottom++;
    return (size_t)((const char *)top - (const char *)bottom);
}

size_t board_stack_high_water(void) { return high_water(&__stack_bottom, &__stack_top); }

size_t board_isr_stack_high_water(void) { return high_water(&__isr_stack_bottom, &__isr_stack_top); }

void board_stack_repaint(void)
{
    uint32_t *p;
    uintptr_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (p = &__stack_bottom; (uintptr_t)p < sp - 64; p++) *p = BOARD_STACK_PAINT;
}

void hal_uart_write(const uint8_t *data, size_t n)
{
    while (n-- > 0) {
        while (UART_STATE & UART_TX_FULL) {
        }
        UART_DATA = *data++;
    }
}

size_t hal_uart_rates(const uint32_t **rates)
{
    *rates = RATES;
    return sizeof RATES / sizeof RATES[0];
}

int hal_uart_set_rate(uint32_t rate)
{
    uint32_t div = (BOARD_CPU_HZ + rate / 2) / rate, start;
    if (rate == 0 || div < 16u) return -1;
    while (UART_STATE & UART_TX_FULL) {
    } /* the holding register gave its last byte to the shifter */
    /* the CMSDK UART has no transmitter-idle flag: wait out the shifter's frame (start, 8 data,
     * stop: 10 bit times at the old rate, one more for margin) on TIMER0, which counts down */
    start = TIMER_VALUE;
    while ((uint32_t)(start - TIMER_VALUE) < 11u * uart_div) {
    }
    UART_BAUDDIV = div;
    uart_div = div;
    return 0;
}

uint32_t hal_millis(void)
{
    uint32_t primask, now;
    uint64_t cycles;
    /* with interrupts off: SysTick calls it too */
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    now = ~TIMER_VALUE; /* counts up */
    timer_cycles += (uint32_t)(now - timer_last);
    timer_last = now;
    cycles = timer_cycles;
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
    return (uint32_t)(cycles / (BOARD_CPU_HZ / 1000u));
}

long hal_store_read(hal_slot_t slot, uint8_t *buf, size_t cap) { return read_file(SLOT_FILES[slot], buf, cap); }

int hal_store_write(hal_slot_t slot, const uint8_t *data, size_t n)
{
    long h;
    int ok;
    if (n == 0) return sh_remove(SLOT_FILES[slot]) == 0 || sh_errno() == HOST_ENOENT ? 0 : -1;
    /* atomic: a temp file renamed over the slot (the host's rename replaces it whole) */
    h = sh_open(SLOT_TEMPS[slot], SH_MODE_WB);
    if (h < 0) return -1;
    ok = sh_write(h, data, n) == 0;
    ok = sh_close(h) == 0 && ok;
    if (ok && sh_rename(SLOT_TEMPS[slot], SLOT_FILES[slot]) == 0) return 0;
    (void)sh_remove(SLOT_TEMPS[slot]);
    return -1;
}

int hal_entropy(uint8_t *out, size_t n)
{
    if (entropy_handle < 0) entropy_handle = sh_open("/dev/urandom", SH_MODE_RB);
    return entropy_handle >= 0 && sh_read(entropy_handle, out, n) == 0 ? 0 : -1;
}

const char *hal_uid(void) { return uid; }
