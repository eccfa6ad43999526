/* Internal interfaces between the parts of PID 1. */
#ifndef BULKHEAD_INIT_H
#define BULKHEAD_INIT_H

#include <bulkhead/error.h>

/* Mounts the kernel filesystems and tmpfs folders the host needs. */
int init_mount_all(struct bh_error *err);

/* Ends the system: stops everything, syncs, unmounts and powers off or
 * reboots. Never returns. */
enum init_halt { INIT_POWEROFF, INIT_REBOOT };
__attribute__((noreturn)) void init_shutdown(enum init_halt how);

/* Writes a line to the console, prefixed with "init: ". */
__attribute__((format(printf, 1, 2))) void init_log(const char *fmt, ...);

#endif
