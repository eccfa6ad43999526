/* The seccomp allow-lists, one per kind of thread (README.md, "Seccomp").
 * Each thread installs its own filter (no TSYNC), so a vCPU thread, which
 * runs guest-controlled exits, gets fewer system calls than the device
 * thread, which does the I/O. A forbidden call ends the monitor with
 * status 1 and names the call on stderr. */
#ifndef BHV_POLICY_H
#define BHV_POLICY_H

#include <bulkhead/error.h>

enum policy {
	POLICY_VCPU,       /* KVM_RUN and exits */
	POLICY_DEVICE,     /* virtio queues, console, tap, disks */
	POLICY_SUPERVISOR, /* the jail's outer process: waits and relays */
	POLICY_COUNT,
};

/* Compiles every filter; call once, before any thread is started. */
int policy_prepare(struct bh_error *err);

/* Installs the filter of p in the calling thread (no_new_privs first). */
int policy_enter(enum policy p);

/* The system call names a policy allows (NULL-terminated), for tests and
 * `bhv syscalls`. Names this architecture lacks are skipped at compile. */
const char *const *policy_syscalls(enum policy p);
const char *policy_name(enum policy p);

#endif
