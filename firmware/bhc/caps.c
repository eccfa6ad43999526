/* Capabilities: names, and applying the configured sets. Ambient and
 * inheritable are always cleared, so no capability survives an execve of a
 * non-root program; the bounding set is cut to what the config grants. */
#include "libbhc.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

#define N_CAPS ((int)(sizeof(names) / sizeof(*names)))

int bhc_cap_from_name(const char *name)
{
	for (int i = 0; i < N_CAPS; i++)
		if (!strcasecmp(name, names[i]))
			return i;
	return -1;
}

const char *bhc_cap_name(int cap)
{
	return cap >= 0 && cap < N_CAPS ? names[cap] : NULL;
}

/* The highest capability the running kernel knows. */
int bhc_cap_last(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = N_CAPS - 1;

	if (f) {
		if (fscanf(f, "%d", &last) != 1 || last < 0 || last > 63)
			last = N_CAPS - 1;
		fclose(f);
	}
	return last;
}

/* Before the uid change, while bhc still holds CAP_SETPCAP: the bounding
 * set cut to what the config grants, ambient cleared. */
int bhc_caps_bound(const uint64_t caps[CAPSET_N], struct bh_error *err)
{
	int last = bhc_cap_last();

	for (int c = 0; c <= last; c++)
		if (!(caps[CAPSET_BOUNDING] & (1ULL << c)) &&
		    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return bh_error(err, errno, "drop %s from the bounding set",
			                bhc_cap_name(c) ? bhc_cap_name(c) : "a capability");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return bh_error(err, errno, "clear the ambient capabilities");
	return 0;
}

/* After the uid change: exactly the effective and permitted sets granted,
 * inheritable empty. */
int bhc_caps_apply(const uint64_t caps[CAPSET_N], struct bh_error *err)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	for (int i = 0; i < 2; i++) {
		data[i].effective = (uint32_t)(caps[CAPSET_EFFECTIVE] >> (32 * i));
		data[i].permitted = (uint32_t)(caps[CAPSET_PERMITTED] >> (32 * i));
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return bh_error(err, errno, "set the capabilities");
	return 0;
}
