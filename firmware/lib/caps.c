/* Capability names and dropping privileges (include/bulkhead/caps.h). No
 * allocation: init calls this in a forked child, bhc and bhv after their
 * root is gone. */
#include <bulkhead/caps.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const names[] = {
	"CAP_CHOWN",          "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH",  "CAP_FOWNER",
	"CAP_FSETID",         "CAP_KILL",           "CAP_SETGID",           "CAP_SETUID",
	"CAP_SETPCAP",        "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN",      "CAP_NET_RAW",        "CAP_IPC_LOCK",         "CAP_IPC_OWNER",
	"CAP_SYS_MODULE",     "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",       "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT",      "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",         "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE",   "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",   "CAP_MKNOD",
	"CAP_LEASE",          "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",    "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE",   "CAP_MAC_ADMIN",      "CAP_SYSLOG",           "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND",  "CAP_AUDIT_READ",     "CAP_PERFMON",          "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

#define N_CAPS ((int)(sizeof(names) / sizeof(*names)))

int bh_cap_from_name(const char *name)
{
	for (int i = 0; i < N_CAPS; i++)
		if (!strcasecmp(name, names[i]))
			return i;
	return -1;
}

const char *bh_cap_name(int cap)
{
	return cap >= 0 && cap < N_CAPS ? names[cap] : NULL;
}

int bh_cap_last(void)
{
	char buf[16] = "";
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC), last;

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) < 0)
			buf[0] = 0;
		close(fd);
	}
	last = buf[0] ? atoi(buf) : -1;
	return last < 0 || last > 63 ? N_CAPS - 1 : last;
}

/* A capability's name for an error message, or its number. */
static const char *shown(int cap, char *buf, size_t size)
{
	if (bh_cap_name(cap))
		return bh_cap_name(cap);
	snprintf(buf, size, "capability %d", cap);
	return buf;
}

int bh_drop_privileges(const struct bh_privileges *p, struct bh_error *err)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	char num[24];
	int e;

	/* EINVAL: a capability this kernel does not have, so nothing to drop. */
	for (int c = 0; c <= p->last_cap; c++)
		if (!(p->bounding & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 &&
		    errno != EINVAL) {
			e = errno; /* before shown(), which may change it */
			return bh_error(err, e, "drop %s from the bounding set", shown(c, num, sizeof(num)));
		}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return bh_error(err, errno, "clear the ambient capabilities");
	if (setgroups(p->n_groups, p->groups) < 0)
		return bh_error(err, errno, "set the supplementary groups");
	if (setresgid(p->gid, p->gid, p->gid) < 0)
		return bh_error(err, errno, "set gid %u", (unsigned)p->gid);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setresuid(p->uid, p->uid, p->uid) < 0)
		return bh_error(err, errno, "set uid %u", (unsigned)p->uid);
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	memset(data, 0, sizeof(data));
	for (int i = 0; i < 2; i++) {
		data[i].permitted = (uint32_t)(p->permitted >> (32 * i));
		data[i].effective = (uint32_t)(p->effective >> (32 * i));
		data[i].inheritable = (uint32_t)(p->inheritable >> (32 * i));
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return bh_error(err, errno, "set the capabilities");
	for (int c = 0; c <= p->last_cap; c++)
		if ((p->ambient & (1ULL << c)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) {
			e = errno;
			return bh_error(err, e, "raise %s in the ambient set", shown(c, num, sizeof(num)));
		}
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return bh_error(err, errno, "set no_new_privs");
	return 0;
}
