/* Set-up of the POSIX HAL (host build only). */
#ifndef AGENT_HAL_POSIX_H
#define AGENT_HAL_POSIX_H

#include "hal.h"

void hal_posix_set_uart(int fd);
/* The rates to offer besides 115200: ascending, comma-separated, each one of 230400, 460800,
 * 921600, 1000000, 1500000, 2000000 ("" offers none: a board without the capability); 0 when
 * the list is valid. */
int hal_posix_set_rates(const char *list);
/* Use dir for the slots and the board id (made on first use); 0 on success. */
int hal_posix_set_state(const char *dir);

#endif
