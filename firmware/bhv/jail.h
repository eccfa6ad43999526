/* The jail around the monitor (jail.c). */
#ifndef BHV_JAIL_H
#define BHV_JAIL_H

#include "config.h"

#include <bulkhead/error.h>

/* Enters the jail. Returns 0 in the jailed monitor; the calling process
 * itself stays outside, waits, and exits with the monitor's status, so it
 * never returns. -1 (before the fork) when the jail cannot be built. */
int jail_enter(const struct bhv_config *cfg, struct bh_error *err);

/* Closes every descriptor but stdin, stdout, stderr and those in keep:
 * whatever else the caller left open stays outside the jail. */
void close_other_fds(const int *keep, int n);

#endif
