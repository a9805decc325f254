/* ARM semihosting (the debugger's, here QEMU's, file and console calls through BKPT 0xAB):
 * the emulated board's storage and its emulator-only entropy source. Not for a product. */
#ifndef AGENT_SEMIHOST_H
#define AGENT_SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

/* open modes of SYS_OPEN (fopen's "rb", "wb", "r+b") */
#define SH_MODE_RB 1
#define SH_MODE_WB 5
#define SH_MODE_RPB 3

/* A host file's handle, or -1. Relative names are relative to QEMU's working directory. */
long sh_open(const char *name, int mode);
int sh_close(long handle);
/* Bytes NOT transferred (0: all of them), as SYS_READ/SYS_WRITE report it; -1 on error. */
long sh_read(long handle, void *buf, size_t n);
long sh_write(long handle, const void *buf, size_t n);
long sh_flen(long handle);
/* Move to byte pos of the file; 0 on success. */
int sh_seek(long handle, long pos);
int sh_remove(const char *name);
int sh_rename(const char *from, const char *to);
/* The host's errno of the last call that failed. */
int sh_errno(void);

#endif
