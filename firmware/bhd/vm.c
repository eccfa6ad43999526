/* A VM workload as a bhv command line: the bundle's kernel, initrd and
 * disk, the manifest's memory and vCPUs, a cgroup with its limits, and the
 * tap (inherited as fd 3) when it has a network. bhv jails itself. The
 * guest learns its address from the command line (bulkhead.ip=). */
#include "bhd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_cg(const char *dir, const char *file, const char *val, struct bh_error *err)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, strlen(val)) < 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return bh_error(err, e, "write %s to %s", val, path);
	}
	close(fd);
	return 0;
}

/* Guest memory plus what the monitor itself needs. */
#define MONITOR_OVERHEAD (32u << 20)

static int vm_cgroup(struct workload *w, char *cg, size_t size, struct bh_error *err)
{
	char val[64];

	snprintf(cg, size, WORKLOADS_CGROUP "/%s", w->m.name);
	if (mkdir(cg, 0755) < 0 && errno != EEXIST)
		return bh_error(err, errno, "mkdir %s", cg);
	snprintf(val, sizeof(val), "%llu", (unsigned long long)(w->m.memory + MONITOR_OVERHEAD));
	/* An OOM kill takes the whole monitor, never one of its threads. */
	if (write_cg(cg, "memory.oom.group", "1", err) < 0)
		return -1;
	if (write_cg(cg, "memory.max", val, err) < 0)
		return -1;
	if (w->m.pids) {
		snprintf(val, sizeof(val), "%u", w->m.pids);
		if (write_cg(cg, "pids.max", val, err) < 0)
			return -1;
	}
	if (w->m.cpu_millis) {
		snprintf(val, sizeof(val), "%u 100000", w->m.cpu_millis * 100);
		if (write_cg(cg, "cpu.max", val, err) < 0)
			return -1;
	}
	return 0;
}

int vm_prepare(struct workload *w, char **argv, size_t max, char *store, size_t store_size,
	       struct bh_error *err)
{
	size_t n = 0, used = 0;
	char cg[256];

#define ADD(...)                                                                                \
	do {                                                                                     \
		argv[n++] = store + used;                                                        \
		used += (size_t)snprintf(store + used, store_size - used, __VA_ARGS__) + 1;      \
	} while (0)

	if (vm_cgroup(w, cg, sizeof(cg), err) < 0)
		return -1;
	ADD("%s", BHV);
	ADD("--kernel");
	ADD(WORKLOADS_DIR "/%s/kernel", w->m.name);
	if (w->has_initrd) {
		ADD("--initrd");
		ADD(WORKLOADS_DIR "/%s/initrd", w->m.name);
	}
	if (w->has_disk) {
		ADD("--disk");
		ADD(WORKLOADS_DIR "/%s/disk.img,%s", w->m.name, w->m.disk_readonly ? "ro" : "rw");
	}
	ADD("--mem");
	ADD("%lluM", (unsigned long long)(w->m.memory >> 20));
	ADD("--cpus");
	ADD("%u", w->m.vcpus ? w->m.vcpus : 1);
	ADD("--cmdline");
	if (w->net_index)
		ADD("%s bulkhead.ip=10.89.%d.2/30 bulkhead.gw=10.89.%d.1", w->m.cmdline, w->net_index,
		    w->net_index);
	else
		ADD("%s", w->m.cmdline);
	if (w->tap_fd >= 0) {
		ADD("--net");
		ADD("3");
	}
	ADD("--cgroup");
	ADD("%s", cg);
	argv[n] = NULL;
#undef ADD
	if (used >= store_size || n >= max)
		return bh_error(err, 0, "%s: the bhv command line is too long", w->m.name);
	return 0;
}
