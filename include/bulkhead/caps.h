/* Linux capabilities (firmware/lib/caps.c): their names, the highest one
 * the running kernel knows, and becoming an unprivileged identity that
 * keeps exactly the capabilities it is granted. init drops to a service's
 * identity with it, bhc to a container process's, bhv to its jail's. */
#ifndef BULKHEAD_CAPS_H
#define BULKHEAD_CAPS_H

#include <bulkhead/error.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* "CAP_NET_ADMIN", in any case, to 12; -1 when it names no capability. */
int bh_cap_from_name(const char *name);
/* 12 to "CAP_NET_ADMIN"; NULL past the last capability we know. */
const char *bh_cap_name(int cap);
/* /proc/sys/kernel/cap_last_cap, or the last capability we know when it
 * cannot be read. Reads no more than a few bytes, through no FILE. */
int bh_cap_last(void);

/* Who a process becomes. Each capability set is a mask, bit n for
 * capability n. */
struct bh_privileges {
	uid_t uid;
	gid_t gid;
	const gid_t *groups; /* supplementary groups, n_groups of them (0: none) */
	size_t n_groups;
	uint64_t bounding; /* what stays in the bounding set */
	uint64_t permitted, effective, inheritable, ambient;
	bool no_new_privs;
	int last_cap; /* bh_cap_last(), read while /proc is still there */
};

/* In this order, which is the one that works: the bounding set cut to
 * p->bounding (dropping needs CAP_SETPCAP, which the uid change takes
 * away) and the ambient set cleared; the groups, the gid, the uid (keeping
 * the permitted set across it); then exactly the permitted, effective and
 * inheritable sets asked, each ambient capability raised (it must be
 * permitted and inheritable too), and no_new_privs when asked. The error
 * names the step that failed. */
int bh_drop_privileges(const struct bh_privileges *p, struct bh_error *err);

#endif
