/* ARM semihosting calls (ARM DUI 0471, "Semihosting operations"): r0 the operation, r1 a
 * parameter block, BKPT 0xAB; the result comes back in r0. QEMU runs them with
 * -semihosting-config enable=on,target=native. */
#include "semihost.h"

#include <string.h>

enum {
    SYS_OPEN = 0x01,
    SYS_CLOSE = 0x02,
    SYS_WRITE = 0x05,
    SYS_READ = 0x06,
    SYS_SEEK = 0x0A,
    SYS_FLEN = 0x0C,
    SYS_REMOVE = 0x0E,
    SYS_RENAME = 0x0F,
    SYS_ERRNO = 0x13
};

static long call(uint32_t op, const void *params)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = params;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return (long)(int32_t)r0;
}

long sh_open(const char *name, int mode)
{
    uint32_t p[3] = {(uint32_t)name, (uint32_t)mode, (uint32_t)strlen(name)};
    return call(SYS_OPEN, p);
}

int sh_close(long handle)
{
    uint32_t p[1] = {(uint32_t)handle};
    return (int)call(SYS_CLOSE, p);
}

long sh_read(long handle, void *buf, size_t n)
{
    uint32_t p[3] = {(uint32_t)handle, (uint32_t)buf, (uint32_t)n};
    return call(SYS_READ, p);
}

long sh_write(long handle, const void *buf, size_t n)
{
    uint32_t p[3] = {(uint32_t)handle, (uint32_t)buf, (uint32_t)n};
    return call(SYS_WRITE, p);
}

long sh_flen(long handle)
{
    uint32_t p[1] = {(uint32_t)handle};
    return call(SYS_FLEN, p);
}

int sh_seek(long handle, long pos)
{
    uint32_t p[2] = {(uint32_t)handle, (uint32_t)pos};
    return (int)call(SYS_SEEK, p);
}

int sh_remove(const char *name)
{
    uint32_t p[2] = {(uint32_t)name, (uint32_t)strlen(name)};
    return (int)call(SYS_REMOVE, p);
}

int sh_rename(const char *from, const char *to)
{
    uint32_t p[4] = {(uint32_t)from, (uint32_t)strlen(from), (uint32_t)to, (uint32_t)strlen(to)};
    return (int)call(SYS_RENAME, p);
}

int sh_errno(void) { return (int)call(SYS_ERRNO, NULL); }
