/* Set-up of the POSIX HAL (host build only). */
#ifndef AGENT_HAL_POSIX_H
#define AGENT_HAL_POSIX_H

#include "hal.h"

void hal_posix_set_uart(int fd);
/* Use dir for the slots and the board id (made on first use); 0 on success. */
int hal_posix_set_state(const char *dir);

#endif
