/* cgroup v2: each container gets its own cgroup inside the subtree that
 * init delegates to workloads (/sys/fs/cgroup/workloads), with the memory,
 * pids and cpu limits of its config. Its init process is born inside it
 * (clone3 CLONE_INTO_CGROUP), so not one instruction of the container runs
 * outside its limits. */
#include "libbhc.h"

#include <bulkhead/meminfo.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

bool bhc_cgroup2_available(void)
{
	struct statfs sf;
	struct stat sb;

	return statfs(BHC_CGROUP_ROOT, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC &&
	       stat(BHC_CGROUP_ROOT BHC_CGROUP_DELEGATED, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The container's cgroup relative to the cgroup root ("workloads/web"):
 * linux.cgroupsPath when given, /workloads/<id> otherwise. bhc only ever
 * makes cgroups inside the subtree init delegates to workloads: an
 * absolute path outside it (containerd writes /default/<id>) is placed
 * below /workloads, with a warning, so that such configs run unchanged
 * and still never reach the host's own cgroups. */
int bhc_cgroup_path(const struct bhc_config *cfg, const char *id, char *out, size_t len,
                    struct bh_error *err)
{
	const char *p = cfg->cgroups_path;
	const char *prefix = BHC_CGROUP_DELEGATED "/";
	bool nested = false;
	int n;

	if (!p || !*p)
		n = snprintf(out, len, "%s%s", prefix + 1, id);
	else if (p[0] != '/')
		n = snprintf(out, len, "%s%s", prefix + 1, p);
	else if (!strncmp(p, prefix, strlen(prefix)) && p[strlen(prefix)])
		n = snprintf(out, len, "%s", p + 1);
	else if (!strcmp(p, BHC_CGROUP_DELEGATED) || !strcmp(p, prefix))
		return bh_error(err, 0,
		                "$.linux.cgroupsPath: '%s' is the subtree delegated to workloads "
		                "itself, not a container's cgroup",
		                p);
	else {
		n = snprintf(out, len, "%s%s", prefix + 1, p + 1);
		nested = true;
	}
	if (n < 0 || (size_t)n >= len)
		return bh_error(err, 0, "$.linux.cgroupsPath: too long");
	if (strstr(out, "/../") || strstr(out, "/./") || strstr(out, "//") ||
	    out[strlen(out) - 1] == '/' || !strcmp(out + strlen(out) - 3, "/.."))
		return bh_error(err, 0, "$.linux.cgroupsPath: '%s' is not a plain path",
		                p ? p : out);
	if (nested)
		bhc_warn(cfg, "$.linux.cgroupsPath",
		         "'%s' is outside %s (the subtree delegated to workloads): placed at /%s",
		         p, BHC_CGROUP_DELEGATED, out);
	return 0;
}

static int write_at(int dirfd, const char *file, const char *value, struct bh_error *err)
{
	if (bhc_write_file_at(dirfd, file, value, err) < 0)
		return bh_error_wrap(err, "cgroup");
	return 0;
}

/* The default memory.max: a quarter of the host's memory, in whole pages,
 * so that no one container can take the gateway down by itself. */
int64_t bhc_default_memory_max(uint64_t mem_total)
{
	return (int64_t)((mem_total / 4) & ~(uint64_t)4095);
}

/* Whether the cgroup can take a controller's limits (cgroup.controllers). */
static bool has_controller(int fd, const char *name)
{
	char buf[256], *p;
	int cfd = openat(fd, "cgroup.controllers", O_RDONLY | O_CLOEXEC);
	ssize_t n = cfd >= 0 ? read(cfd, buf, sizeof(buf) - 1) : -1;
	size_t len = strlen(name);

	if (cfd >= 0)
		close(cfd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	for (p = buf; (p = strstr(p, name)); p += len)
		if ((p == buf || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\n' || !p[len]))
			return true;
	return false;
}

/* cpu.cpus and mems (cpuset), blockIO (io) and hugepageLimits (hugetlb),
 * written as runc writes them on cgroup v2. */
static int write_cpuset_io_hugetlb(int fd, const struct bhc_config *cfg, struct bh_error *err)
{
	char v[128], file[64];

	if (cfg->cpuset_cpus && write_at(fd, "cpuset.cpus", cfg->cpuset_cpus, err) < 0)
		return bh_error_wrap(err, "$.linux.resources.cpu.cpus");
	if (cfg->cpuset_mems && write_at(fd, "cpuset.mems", cfg->cpuset_mems, err) < 0)
		return bh_error_wrap(err, "$.linux.resources.cpu.mems");
	if (cfg->io_weight) {
		/* runc's conversion of blkio's 10..1000 to io.weight's 1..10000. */
		snprintf(v, sizeof(v), "%u", 1 + ((unsigned)cfg->io_weight - 10) * 9999 / 990);
		if (write_at(fd, "io.weight", v, err) < 0)
			return bh_error_wrap(err, "$.linux.resources.blockIO.weight");
	}
	for (size_t i = 0; i < cfg->n_io_max; i++) {
		const struct bhc_io_max *m = &cfg->io_max[i];

		snprintf(v, sizeof(v), "%lld:%lld %s=%llu", (long long)m->major,
		         (long long)m->minor, m->key, (unsigned long long)m->rate);
		if (write_at(fd, "io.max", v, err) < 0)
			return bh_error_wrap(err, "$.linux.resources.blockIO: %s", v);
	}
	for (size_t i = 0; i < cfg->n_hugetlb; i++) {
		snprintf(file, sizeof(file), "hugetlb.%s.max", cfg->hugetlb[i].page_size);
		snprintf(v, sizeof(v), "%llu", (unsigned long long)cfg->hugetlb[i].limit);
		if (write_at(fd, file, v, err) < 0)
			return bh_error_wrap(err, "$.linux.resources.hugepageLimits[%zu]", i);
	}
	return 0;
}

/* Controllers beyond the memory, pids and cpu that init delegates: enabled
 * from the root down to the container's parent when the config asks for
 * their limits. A kernel without one is an error, as in runc: a limit is
 * never silently left out. */
static int enable_extra_controllers(const char *path, const struct bhc_config *cfg,
                                    struct bh_error *err)
{
	const struct {
		const char *name, *field;
		bool wanted;
	} extra[] = {
	    {"cpuset", "$.linux.resources.cpu.cpus/mems", cfg->cpuset_cpus || cfg->cpuset_mems},
	    {"io", "$.linux.resources.blockIO", cfg->io_weight || cfg->n_io_max},
	    {"hugetlb", "$.linux.resources.hugepageLimits", cfg->n_hugetlb > 0},
	};
	char level[1024], plus[16];

	for (size_t i = 0; i < sizeof(extra) / sizeof(*extra); i++) {
		const char *next = path + strlen(BHC_CGROUP_ROOT);
		int fd;

		if (!extra[i].wanted)
			continue;
		fd = open(BHC_CGROUP_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return bh_error(err, errno, "open %s", BHC_CGROUP_ROOT);
		if (!has_controller(fd, extra[i].name)) {
			close(fd);
			return bh_error(err, 0,
			                "%s: this kernel has no %s controller (not in %s/"
			                "cgroup.controllers)",
			                extra[i].field, extra[i].name, BHC_CGROUP_ROOT);
		}
		close(fd);
		snprintf(plus, sizeof(plus), "+%s", extra[i].name);
		/* Every level above the container's own cgroup. */
		for (;;) {
			snprintf(level, sizeof(level), "%.*s", (int)(next - path), path);
			fd = open(level, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0)
				return bh_error(err, errno, "open cgroup %s", level);
			if (write_at(fd, "cgroup.subtree_control", plus, err) < 0) {
				close(fd);
				return bh_error_wrap(err, "%s: enable %s in %s", extra[i].field,
				                     extra[i].name, level);
			}
			close(fd);
			if (!(next = strchr(next + 1, '/')))
				break;
		}
	}
	return 0;
}

/* The config's limits. A config without memory or pids limits gets the
 * defaults (BHC_DEFAULT_PIDS_MAX, a quarter of the memory), and the
 * container is OOM-killed as a whole (memory.oom.group), where the
 * controller is there: init delegates both to /workloads. */
static int write_limits(int fd, const struct bhc_config *cfg, struct bh_error *err)
{
	int64_t mem = cfg->memory_max, pids = cfg->pids_max;
	bool memcg = has_controller(fd, "memory");
	struct bh_error no_meminfo;
	uint64_t ram;
	char v[64];

	/* Without /proc/meminfo the container gets no default: it stays
	 * within the workloads' cap that init set. */
	if (mem < 0 && memcg && bh_mem_total(&ram, &no_meminfo) == 0)
		mem = bhc_default_memory_max(ram);
	if (pids < 0 && has_controller(fd, "pids"))
		pids = BHC_DEFAULT_PIDS_MAX;
	if (mem >= 0) {
		snprintf(v, sizeof(v), "%lld", (long long)mem);
		if (write_at(fd, "memory.max", v, err) < 0)
			return -1;
		/* The spec's swap counts memory plus swap; cgroup v2's only swap. */
		snprintf(v, sizeof(v), "%lld",
		         (long long)(cfg->memory_swap >= 0 ? cfg->memory_swap - mem : 0));
		if (write_at(fd, "memory.swap.max", v, err) < 0 && err->code != ENOENT)
			return -1;
	}
	if (memcg && write_at(fd, "memory.oom.group", "1", err) < 0)
		return -1;
	if (pids >= 0) {
		snprintf(v, sizeof(v), "%lld", (long long)pids);
		if (write_at(fd, "pids.max", v, err) < 0)
			return -1;
	}
	if (cfg->cpu_quota > 0 || cfg->cpu_period) {
		unsigned long long period = cfg->cpu_period ? cfg->cpu_period : 100000;

		if (cfg->cpu_quota > 0)
			snprintf(v, sizeof(v), "%lld %llu", (long long)cfg->cpu_quota, period);
		else
			snprintf(v, sizeof(v), "max %llu", period);
		if (write_at(fd, "cpu.max", v, err) < 0)
			return -1;
	}
	if (cfg->memory_low >= 0) {
		snprintf(v, sizeof(v), "%lld", (long long)cfg->memory_low);
		if (write_at(fd, "memory.low", v, err) < 0)
			return bh_error_wrap(err, "$.linux.resources.memory.reservation");
	}
	if (write_cpuset_io_hugetlb(fd, cfg, err) < 0)
		return -1;
	if (cfg->cpu_shares) {
		/* runc's conversion of cgroup v1 shares to v2 weight. */
		snprintf(v, sizeof(v), "%llu",
		         1 + ((unsigned long long)(cfg->cpu_shares - 2) * 9999) / 262142);
		if (write_at(fd, "cpu.weight", v, err) < 0)
			return -1;
	}
	return 0;
}

/* Creates every missing level below the delegated subtree and enables the
 * controllers on the way down, then the container's own cgroup. */
int bhc_cgroup_create(const char *rel, const struct bhc_config *cfg, struct bh_error *err)
{
	char path[1024], *next;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", BHC_CGROUP_ROOT, rel);
	/* Intermediate levels below /workloads: created, controllers enabled. */
	next = path + strlen(BHC_CGROUP_ROOT BHC_CGROUP_DELEGATED);
	while ((next = strchr(next + 1, '/'))) {
		*next = 0;
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return bh_error(err, errno, "create cgroup %s", path);
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return bh_error(err, errno, "open cgroup %s", path);
		if (write_at(fd, "cgroup.subtree_control", "+memory +pids +cpu", err) < 0) {
			close(fd);
			return bh_error_wrap(err, "%s", path);
		}
		close(fd);
		*next = '/';
	}
	if (enable_extra_controllers(path, cfg, err) < 0)
		return -1;
	if (mkdir(path, 0755) < 0) {
		if (errno == EEXIST)
			return bh_error(err, 0, "cgroup %s exists already", path);
		return bh_error(err, errno, "create cgroup %s", path);
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || write_limits(fd, cfg, err) < 0) {
		if (fd < 0)
			bh_error(err, errno, "open cgroup %s", path);
		else
			close(fd);
		rmdir(path);
		return bh_error_wrap(err, "%s", path);
	}
	return fd;
}

/* Kills what is left in the cgroup and removes it; waits up to a second for
 * the kernel to let go of the dying processes. */
int bhc_cgroup_remove(const char *rel, struct bh_error *err)
{
	struct timespec ts = {0, 5 * 1000 * 1000};
	char path[1024];
	int fd;

	if (!rel || !*rel)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", BHC_CGROUP_ROOT, rel);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : bh_error(err, errno, "open cgroup %s", path);
	bhc_write_file_at(fd, "cgroup.kill", "1", err);
	close(fd);
	for (int i = 0; i < 200; i++) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			break;
		nanosleep(&ts, NULL);
	}
	return bh_error(err, errno, "remove cgroup %s", path);
}
