/* The kernel filesystems and tmpfs folders of the host, and cgroup v2 with
 * the memory, pids and cpu controllers delegated to the workloads subtree. */
#include "init.h"

#include <bulkhead/meminfo.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

struct init_mount {
	const char *source, *target, *type;
	unsigned long flags;
	const char *data;
};

/* In mount order. /dev may be there already: the kernel mounts devtmpfs
 * itself before it starts init (CONFIG_DEVTMPFS_MOUNT). */
static const struct init_mount mounts[] = {
	{"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible"},
	{"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
	{"devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755"},
	{"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=0620,ptmxmode=0666"},
	{"tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=16m"},
	{"cgroup2", CGROUP_ROOT, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	 "nsdelegate,memory_recursiveprot"},
	{"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=32m"},
	{"tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=64m"},
};

int init_mount_all(struct bh_error *err)
{
	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		const struct init_mount *m = &mounts[i];

		if (mkdir(m->target, 0755) < 0 && errno != EEXIST && errno != EROFS)
			return bh_error(err, errno, "mkdir %s", m->target);
		if (mount(m->source, m->target, m->type, m->flags, m->data) == 0)
			continue;
		/* Mounted already (the kernel's own /dev): give it our flags. */
		if (errno == EBUSY &&
		    mount(NULL, m->target, NULL, MS_REMOUNT | m->flags, m->data) == 0)
			continue;
		return bh_error(err, errno, "mount %s on %s", m->type, m->target);
	}
	mkdir(LOG_DIR, 0750);
	mkdir("/run/bulkhead", 0755);
	return 0;
}

static int write_file(const char *path, const char *text, struct bh_error *err)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return bh_error(err, errno, "open %s", path);
	if (write(fd, text, strlen(text)) < 0) {
		int e = errno;

		close(fd);
		return bh_error(err, e, "write '%s' to %s", text, path);
	}
	close(fd);
	return 0;
}

/* The workloads as a whole may use RAM less a reserve for the host
 * (a quarter, at least 128 MiB) and half the pid space: a workload that
 * names no limits, or many that name generous ones, cannot take the memory
 * or the pids that init, bhd and the kernel's own users need. */
#define HOST_RESERVE_MIN (128ull << 20)

static int cap_workloads(const char *dir, struct bh_error *err)
{
	unsigned long long total, reserve, pid_max = 0;
	char path[128], val[32];
	uint64_t ram;
	FILE *f;

	if (bh_mem_total(&ram, err) < 0)
		return -1;
	total = ram;
	f = fopen("/proc/sys/kernel/pid_max", "re");
	if (f) {
		if (fscanf(f, "%llu", &pid_max) != 1)
			pid_max = 0;
		fclose(f);
	}
	if (!pid_max)
		return bh_error(err, errno ? errno : EINVAL, "read /proc/sys/kernel/pid_max");
	reserve = total / 4 > HOST_RESERVE_MIN ? total / 4 : HOST_RESERVE_MIN;
	snprintf(val, sizeof(val), "%llu", total > 2 * reserve ? total - reserve : total / 2);
	snprintf(path, sizeof(path), "%s/memory.max", dir);
	if (write_file(path, val, err) < 0)
		return -1;
	snprintf(val, sizeof(val), "%llu", pid_max / 2);
	snprintf(path, sizeof(path), "%s/pids.max", dir);
	return write_file(path, val, err);
}

/* / keeps init only (cgroup v2 lets the root hold processes); services go
 * under system/, workloads under workloads/, each with the controllers
 * enabled so that bhd, bhc and bhv can set limits for what they run. */
int init_cgroups(struct bh_error *err)
{
	static const char *const subtrees[] = {CGROUP_ROOT "/system", CGROUP_ROOT "/workloads"};

	if (write_file(CGROUP_ROOT "/cgroup.subtree_control", "+memory +pids +cpu", err) < 0)
		return bh_error_wrap(err, "enable cgroup controllers");
	for (size_t i = 0; i < 2; i++) {
		char path[128];

		if (mkdir(subtrees[i], 0755) < 0 && errno != EEXIST)
			return bh_error(err, errno, "mkdir %s", subtrees[i]);
		strcpy(path, subtrees[i]);
		strcat(path, "/cgroup.subtree_control");
		if (write_file(path, "+memory +pids +cpu", err) < 0)
			return bh_error_wrap(err, "delegate controllers to %s", subtrees[i]);
	}
	if (cap_workloads(subtrees[1], err) < 0)
		return bh_error_wrap(err, "cap the workloads' memory and pids");
	return 0;
}
