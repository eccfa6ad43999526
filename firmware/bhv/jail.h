/* The jail around the monitor (jail.c). */
#ifndef BHV_JAIL_H
#define BHV_JAIL_H

#include "config.h"

#include <bulkhead/error.h>

#include <stdint.h>

/* RLIMIT_NOFILE, RLIMIT_NPROC and RLIMIT_FSIZE of the jailed monitor. */
struct jail_limits {
	uint64_t nofile, nproc, fsize;
};

/* The limits for a configuration whose largest disk has that many bytes
 * (jail_limits.c says how they were counted). */
void jail_limits_for(const struct bhv_config *cfg, uint64_t largest_disk, struct jail_limits *out);

/* Each VM's jail uid comes from a range no other user of the gateway
 * has: bhc's container ranges end at 0x20000000, bhv's start there. */
#define JAIL_UID_DIR   "/run/bhv"
#define JAIL_UID_BASE  0x20000000u
#define JAIL_UID_SLOTS 1024u

/* Takes the first free uid of [base, base + slots) by locking its file in
 * dir (created 0700 if missing, refused unless only we may write it).
 * Returns the lock's fd: the slot is ours while it is open here or in a
 * child. -1 when every slot is taken or the folder is unusable. */
int jail_uid_allocate(const char *dir, uid_t base, unsigned slots, uid_t *uid,
                      struct bh_error *err);

/* Enters the jail. Returns 0 in the jailed monitor; the calling process
 * itself stays outside, waits, and exits with the monitor's status, so it
 * never returns. -1 (before the fork) when the jail cannot be built. */
int jail_enter(const struct bhv_config *cfg, const struct jail_limits *limits,
               struct bh_error *err);

/* Closes every descriptor but stdin, stdout, stderr and those in keep:
 * whatever else the caller left open stays outside the jail. */
void close_other_fds(const int *keep, int n);

#endif
