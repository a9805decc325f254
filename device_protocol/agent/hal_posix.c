/* hal.h on POSIX, for the host build: a pty master as the UART (its rate set with tcsetattr),
 * a state folder as flash (one file per slot, replaced by write + fsync + rename), /dev/urandom
 * as the entropy source. */
#define _XOPEN_SOURCE 600
#define _DEFAULT_SOURCE /* B230400 and above are not in POSIX */
#include "hal_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int uart_fd = -1;
static char state_dir[512];
static char uid[13];

static const char *SLOT_FILES[] = {"key.der", "chain.pem", "locked"};

/* the termios speeds this build can set, and the ones it offers (hal_posix_set_rates) */
static const struct { uint32_t rate; speed_t speed; } SPEEDS[] = {
    {115200, B115200}, {230400, B230400}, {460800, B460800}, {921600, B921600},
    {1000000, B1000000}, {1500000, B1500000}, {2000000, B2000000}};
#define N_SPEEDS (sizeof SPEEDS / sizeof SPEEDS[0])
static uint32_t rates[N_SPEEDS];
static size_t n_rates;

void hal_posix_set_uart(int fd) { uart_fd = fd; }

int hal_posix_set_rates(const char *list)
{
    const char *p = list;
    size_t i;
    n_rates = 0;
    while (*p != '\0') {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p || (*end != ',' && *end != '\0') || n_rates == N_SPEEDS) return -1;
        for (i = 1; i < N_SPEEDS && SPEEDS[i].rate != v; i++) {}
        if (i == N_SPEEDS || (n_rates > 0 && v <= rates[n_rates - 1])) return -1;
        rates[n_rates++] = (uint32_t)v;
        p = *end == ',' ? end + 1 : end;
    }
    return 0;
}

size_t hal_uart_rates(const uint32_t **out)
{
    *out = rates;
    return n_rates;
}

int hal_uart_set_rate(uint32_t rate)
{
    struct termios t;
    size_t i;
    for (i = 0; i < N_SPEEDS && SPEEDS[i].rate != rate; i++) {}
    if (i == N_SPEEDS || uart_fd < 0) return -1;
    /* on a pty master these act on the pty's one termios, which the station's side reads back */
    if (tcdrain(uart_fd) || tcgetattr(uart_fd, &t)) return -1;
    if (cfsetispeed(&t, SPEEDS[i].speed) || cfsetospeed(&t, SPEEDS[i].speed)) return -1;
    return tcsetattr(uart_fd, TCSANOW, &t);
}

static int slot_path(hal_slot_t slot, const char *suffix, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s%s", state_dir, SLOT_FILES[slot], suffix);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int hal_posix_set_state(const char *dir)
{
    uint8_t raw[6];
    long n;
    int fd;
    size_t i;
    if (strlen(dir) >= sizeof state_dir - 16) return -1;
    strcpy(state_dir, dir);
    /* the board id: made once, then stable (a chip id on real hardware) */
    {
        char path[600];
        snprintf(path, sizeof path, "%s/uid", state_dir);
        fd = open(path, O_RDONLY);
        if (fd >= 0) {
            n = read(fd, uid, 12);
            close(fd);
            if (n == 12) return 0;
        }
        if (hal_entropy(raw, sizeof raw)) return -1;
        for (i = 0; i < 6; i++) snprintf(uid + 2 * i, 3, "%02X", raw[i]);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) return -1;
        n = write(fd, uid, 12);
        close(fd);
        return n == 12 ? 0 : -1;
    }
}

void hal_uart_write(const uint8_t *data, size_t n)
{
    while (n > 0 && uart_fd >= 0) {
        ssize_t w = write(uart_fd, data, n);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return; /* nobody on the line: the bytes are lost, as on a UART */
        }
        data += w;
        n -= (size_t)w;
    }
}

uint32_t hal_millis(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

long hal_store_read(hal_slot_t slot, uint8_t *buf, size_t cap)
{
    char path[600];
    size_t got = 0;
    ssize_t r;
    int fd;
    if (slot_path(slot, "", path, sizeof path)) return -1;
    fd = open(path, O_RDONLY);
    if (fd < 0) return errno == ENOENT ? 0 : -1;
    while ((r = read(fd, buf + got, cap - got)) > 0) {
        got += (size_t)r;
        if (got == cap) { /* full: more would not fit */
            uint8_t extra;
            if (read(fd, &extra, 1) > 0) { close(fd); return -1; }
            break;
        }
    }
    close(fd);
    return r < 0 ? -1 : (long)got;
}

int hal_store_write(hal_slot_t slot, const uint8_t *data, size_t n)
{
    char path[600], tmp[610];
    int fd;
    if (slot_path(slot, "", path, sizeof path) || slot_path(slot, ".tmp", tmp, sizeof tmp)) return -1;
    if (n == 0) return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, slot == HAL_SLOT_KEY ? 0600 : 0644);
    if (fd < 0) return -1;
    while (n > 0) {
        ssize_t w = write(fd, data, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) { close(fd); unlink(tmp); return -1; }
        data += w;
        n -= (size_t)w;
    }
    if (fsync(fd) || close(fd)) { unlink(tmp); return -1; }
    return rename(tmp, path) == 0 ? 0 : -1;
}

int hal_entropy(uint8_t *out, size_t n)
{
    int fd = open("/dev/urandom", O_RDONLY);
    size_t got = 0;
    if (fd < 0) return -1;
    while (got < n) {
        ssize_t r = read(fd, out + got, n - got);
        if (r <= 0) { close(fd); return -1; }
        got += (size_t)r;
    }
    close(fd);
    return 0;
}

const char *hal_uid(void) { return uid; }
