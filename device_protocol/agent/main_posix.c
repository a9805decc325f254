/* station-agent: the agent on a host, serving a pty. Prints the pty's path on its first line,
 * then serves until SIGINT or SIGTERM. Usage: station-agent --state DIR [--bauds LIST] */
#define _XOPEN_SOURCE 600
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "agent.h"
#include "hal_posix.h"

#define DEFAULT_BAUDS "230400,460800,921600"
#define USAGE "usage: %s --state DIR [--bauds RATE,RATE,... (default " DEFAULT_BAUDS ")]\n"

static volatile sig_atomic_t stop;
static agent_t agent; /* ~12 KiB: static, as on a microcontroller */

static void on_signal(int sig) { (void)sig; stop = 1; }

/* raw mode: bytes pass unchanged in both directions */
static int make_raw(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &t)) return -1;
    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t.c_oflag &= ~(tcflag_t)OPOST;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    t.c_cflag |= CS8;
    return tcsetattr(fd, TCSANOW, &t);
}

static int open_pty(void)
{
    int fd = posix_openpt(O_RDWR | O_NOCTTY);
    if (fd < 0 || grantpt(fd) || unlockpt(fd) || make_raw(fd)) return -1;
    return fd;
}

int main(int argc, char **argv)
{
    const char *state = NULL, *bauds = DEFAULT_BAUDS;
    struct sigaction sa;
    struct pollfd pfd;
    uint8_t buf[256];
    int fd, slave, i, timers = 0;
    static const char boot[] = "\r\nI agent: station-agent protocol P1 ready\r\n";
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--state") == 0 && i + 1 < argc) state = argv[++i];
        else if (strcmp(argv[i], "--bauds") == 0 && i + 1 < argc) bauds = argv[++i];
        else { fprintf(stderr, USAGE, argv[0]); return 2; }
    }
    if (state == NULL) { fprintf(stderr, USAGE, argv[0]); return 2; }
    if (hal_posix_set_rates(bauds)) {
        fprintf(stderr, "--bauds %s: give ascending rates from 230400, 460800, 921600, 1000000, "
                        "1500000, 2000000, comma-separated (\"\" for none)\n", bauds);
        return 2;
    }
    mkdir(state, 0700);
    if (hal_posix_set_state(state)) { fprintf(stderr, "cannot use state folder %s\n", state); return 1; }
    if (crypto_init()) { fprintf(stderr, "entropy/DRBG set-up failed\n"); return 1; }
    if (agent_init(&agent)) { fprintf(stderr, "cannot read the state in %s\n", state); return 1; }
    fd = open_pty();
    if (fd < 0) { perror("pty"); return 1; }
    /* keep the slave open ourselves, so the master does not see a hang-up between stations */
    slave = open(ptsname(fd), O_RDWR | O_NOCTTY);
    if (slave < 0 || make_raw(slave)) { perror("pty slave"); return 1; }
    printf("%s\n", ptsname(fd));
    fflush(stdout);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    hal_posix_set_uart(fd);
    if (hal_uart_set_rate(BAUD_DEFAULT)) { perror("pty speed"); return 1; } /* as after a reset */
    hal_uart_write((const uint8_t *)boot, sizeof boot - 1);
    pfd.fd = fd;
    pfd.events = POLLIN;
    while (!stop) {
        ssize_t n;
        /* 10 ms while a rate timer runs: its fall-back is due within PROBATION + 0.2 s */
        int r = poll(&pfd, 1, timers ? 10 : 200);
        if (r > 0) {
            n = read(fd, buf, sizeof buf);
            if (n > 0) agent_feed(&agent, buf, (size_t)n);
            else if (n < 0 && errno != EAGAIN && errno != EINTR && errno != EIO) break;
        }
        timers = agent_poll(&agent);
    }
    close(slave);
    close(fd);
    return 0;
}
