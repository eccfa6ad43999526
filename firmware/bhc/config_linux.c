/* config.json: the linux section (namespaces, id mappings, cgroup path and
 * resources, masked and read-only paths, sysctls, devices, seccomp). */
#include "libbhc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

static const char *const unsupported_linux[] = {"intelRdt",     "personality", "timeOffsets",
                                                "memoryPolicy", "netDevices",  "mountLabel"};

static int parse_namespaces(yyjson_val *list, struct bhc_config *cfg, struct bh_error *err)
{
	/* Every namespace is created whatever the list says; a path joins an
	 * existing one instead, for the kinds where that keeps isolation. */
	static const char *const joinable[NS_N] = {"network", "ipc", "uts", "pid", "cgroup"};
	static const char *const created_only[] = {"mount", "user"};
	unsigned seen = 0;
	struct json_path p, q;
	yyjson_val *v;
	size_t i, max;

	if (json_array(list, "$.linux.namespaces", err) < 0)
		return -1;
	yyjson_arr_foreach(list, i, max, v)
	{
		const char *type, *path = NULL;
		int kind = -1;

		json_at(&p, "$.linux.namespaces", "[%zu]", i);
		if (json_object(v, p.s, err) < 0 ||
		    json_string(yyjson_obj_get(v, "type"), json_at(&q, p.s, ".type"), &type, err) < 0)
			return -1;
		if (yyjson_obj_get(v, "path") &&
		    json_string(yyjson_obj_get(v, "path"), json_at(&q, p.s, ".path"), &path, err) < 0)
			return -1;
		for (int k = 0; k < NS_N; k++)
			if (!strcmp(type, joinable[k]))
				kind = k;
		for (int k = 0; k < 2; k++)
			if (!strcmp(type, created_only[k])) {
				if (path)
					return bh_error(err, 0,
					                "%s.path: joining an existing %s namespace "
					                "is not supported by bhc",
					                p.s, type);
				kind = NS_N + k;
			}
		if (kind < 0)
			return bh_error(err, 0, "%s.type: '%s' is not supported by bhc", p.s, type);
		if (seen & (1u << kind))
			return bh_error(err, 0, "%s.type: '%s' is listed twice", p.s, type);
		seen |= 1u << kind;
		if (path && path[0] != '/')
			return bh_error(err, 0, "%s.path: '%s' is not an absolute path", p.s, path);
		if (kind < NS_N)
			cfg->ns_path[kind] = path;
	}
	return 0;
}

static int parse_idmaps(yyjson_val *list, const char *path, struct bhc_idmap *m, size_t *n,
                        struct bh_error *err)
{
	struct json_path p, q;
	yyjson_val *v;
	size_t i, max;

	if (json_array(list, path, err) < 0)
		return -1;
	if (yyjson_arr_size(list) > BHC_MAX_IDMAPS)
		return bh_error(err, 0, "%s: more than %d ranges", path, BHC_MAX_IDMAPS);
	yyjson_arr_foreach(list, i, max, v)
	{
		json_at(&p, path, "[%zu]", i);
		if (json_object(v, p.s, err) < 0 ||
		    json_u32(yyjson_obj_get(v, "containerID"), json_at(&q, p.s, ".containerID"),
		          &m[i].container, err) < 0 ||
		    json_u32(yyjson_obj_get(v, "hostID"), json_at(&q, p.s, ".hostID"), &m[i].host, err) <
		        0 ||
		    json_u32(yyjson_obj_get(v, "size"), json_at(&q, p.s, ".size"), &m[i].size, err) < 0)
			return -1;
	}
	*n = max;
	return bhc_idmaps_check(m, *n, path, err);
}

/* Settings of cgroup v1's memory controller that cgroup v2 has no file
 * for: runc drops them on cgroup v2 too. */
static void warn_memory_v1(yyjson_val *mem, struct bhc_config *cfg)
{
	static const struct {
		const char *name, *why;
	} dropped[] = {
	    {"kernel", "kernel memory is counted in memory.max on cgroup v2 (deprecated since "
	               "runtime-spec 1.0.2)"},
	    {"kernelTCP", "TCP buffer memory is counted in memory.max on cgroup v2 (deprecated "
	                  "since runtime-spec 1.0.2)"},
	    {"swappiness", "cgroup v2 has no per-cgroup swappiness"},
	};
	struct json_path p;

	for (size_t i = 0; i < sizeof(dropped) / sizeof(*dropped); i++)
		if (yyjson_obj_get(mem, dropped[i].name))
			bhc_warn(cfg,
			         json_at(&p, "$.linux.resources.memory.", "%s", dropped[i].name),
			         "ignored: %s", dropped[i].why);
}

static int parse_memory(yyjson_val *mem, struct bhc_config *cfg, struct bh_error *err)
{
	yyjson_val *v;

	if (json_object(mem, "$.linux.resources.memory", err) < 0)
		return -1;
	/* The OOM killer cannot be turned off on cgroup v2; false is the
	 * default and asks for nothing. */
	if ((v = yyjson_obj_get(mem, "disableOOMKiller")) && !yyjson_is_false(v))
		return bh_error(err, 0,
		                "$.linux.resources.memory.disableOOMKiller: not supported by "
		                "bhc (cgroup v2 cannot disable the OOM killer)");
	warn_memory_v1(mem, cfg);
	if ((v = yyjson_obj_get(mem, "limit")) &&
	    json_i64(v, "$.linux.resources.memory.limit", &cfg->memory_max, err) < 0)
		return -1;
	if ((v = yyjson_obj_get(mem, "swap")) &&
	    json_i64(v, "$.linux.resources.memory.swap", &cfg->memory_swap, err) < 0)
		return -1;
	/* The soft limit is cgroup v2's memory.low, as runc maps it. */
	if ((v = yyjson_obj_get(mem, "reservation")) &&
	    json_i64(v, "$.linux.resources.memory.reservation", &cfg->memory_low, err) < 0)
		return -1;
	if (cfg->memory_max < -1 || cfg->memory_swap < -1 || cfg->memory_low < -1)
		return bh_error(err, 0,
		                "$.linux.resources.memory: limits must be -1 (none) or positive");
	if (cfg->memory_swap >= 0 && (cfg->memory_max < 0 || cfg->memory_swap < cfg->memory_max))
		return bh_error(err, 0,
		                "$.linux.resources.memory.swap: must be at least memory.limit (it "
		                "counts memory plus swap)");
	return 0;
}

/* cpuset.cpus and cpuset.mems take lists like "0-3,6": the kernel checks
 * the numbers, bhc only the characters, so nothing else reaches the file. */
static int parse_cpu_list(yyjson_val *v, const char *path, const char **out, struct bh_error *err)
{
	if (json_string(v, path, out, err) < 0)
		return -1;
	if (strspn(*out, "0123456789,-") != strlen(*out))
		return bh_error(err, 0, "%s: '%s' is not a list of numbers and ranges (0-3,6)",
		                path, *out);
	if (!**out)
		*out = NULL; /* empty: every cpu, as if not given */
	return 0;
}

static int parse_cpu(yyjson_val *cpu, struct bhc_config *cfg, struct bh_error *err)
{
	static const char *const refused[] = {"realtimeRuntime", "realtimePeriod", "idle"};
	yyjson_val *v;

	if (json_object(cpu, "$.linux.resources.cpu", err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
		v = yyjson_obj_get(cpu, refused[i]);
		if (v && !(yyjson_is_str(v) && !yyjson_get_len(v)) &&
		    !(yyjson_is_int(v) && !yyjson_get_int(v)))
			return bh_error(err, 0, "$.linux.resources.cpu.%s: not supported by bhc",
			                refused[i]);
	}
	if ((v = yyjson_obj_get(cpu, "cpus")) &&
	    parse_cpu_list(v, "$.linux.resources.cpu.cpus", &cfg->cpuset_cpus, err) < 0)
		return -1;
	if ((v = yyjson_obj_get(cpu, "mems")) &&
	    parse_cpu_list(v, "$.linux.resources.cpu.mems", &cfg->cpuset_mems, err) < 0)
		return -1;
	if ((v = yyjson_obj_get(cpu, "shares")) &&
	    json_u64(v, "$.linux.resources.cpu.shares", &cfg->cpu_shares, err) < 0)
		return -1;
	if ((v = yyjson_obj_get(cpu, "quota")) &&
	    json_i64(v, "$.linux.resources.cpu.quota", &cfg->cpu_quota, err) < 0)
		return -1;
	if ((v = yyjson_obj_get(cpu, "period")) &&
	    json_u64(v, "$.linux.resources.cpu.period", &cfg->cpu_period, err) < 0)
		return -1;
	if (cfg->cpu_quota == 0 || cfg->cpu_quota < -1)
		return bh_error(err, 0,
		                "$.linux.resources.cpu.quota: must be -1 (none) or positive");
	if (cfg->cpu_period && (cfg->cpu_period < 1000 || cfg->cpu_period > 1000000))
		return bh_error(err, 0,
		                "$.linux.resources.cpu.period: %llu is outside 1000..1000000 us",
		                (unsigned long long)cfg->cpu_period);
	if (cfg->cpu_shares && (cfg->cpu_shares < 2 || cfg->cpu_shares > 262144))
		return bh_error(err, 0, "$.linux.resources.cpu.shares: %llu is outside 2..262144",
		                (unsigned long long)cfg->cpu_shares);
	return 0;
}

/* The devices of bhc's minimal /dev (null, zero, full, random, urandom,
 * tty, console, ptmx, pts/N). */
static bool default_device(const char *type, int64_t major, int64_t minor)
{
	static const int64_t devs[][2] = {{1, 3}, {1, 5}, {1, 7}, {1, 8},   {1, 9},
	                                  {5, 0}, {5, 1}, {5, 2}, {136, -1}};

	if (strcmp(type, "c"))
		return false;
	for (size_t i = 0; i < sizeof(devs) / sizeof(*devs); i++)
		if (devs[i][0] == major && (devs[i][1] == minor || devs[i][1] == -1))
			return true;
	return false;
}

/* linux.resources.devices. bhc has no device cgroup: what the container
 * can open is decided by what its /dev holds, and that is only the minimal
 * /dev (no node can be made in a user namespace, every other mount is
 * nodev). So deny rules hold anyway, allow rules for the minimal /dev's
 * devices hold, and an allow rule for any other device gives nothing: it
 * is accepted with a warning (containerd allows c 10:200, /dev/net/tun, in
 * every spec it writes). An allow rule for every device ("a", or a type
 * with no major) with read or write access asks for a privileged
 * container's /dev: refused, since bhc will not give it. */
static int parse_device_rules(yyjson_val *list, struct bhc_config *cfg, struct bh_error *err)
{
	struct json_path p, q;
	yyjson_val *v;
	size_t i, max;

	if (json_array(list, "$.linux.resources.devices", err) < 0)
		return -1;
	yyjson_arr_foreach(list, i, max, v)
	{
		bool allow;
		const char *type = "a", *access = "rwm";
		int64_t major = -1, minor = -1;
		char dev[64];

		json_at(&p, "$.linux.resources.devices", "[%zu]", i);
		if (json_object(v, p.s, err) < 0 ||
		    json_bool(yyjson_obj_get(v, "allow"), json_at(&q, p.s, ".allow"), &allow, err) <
		        0)
			return -1;
		if (yyjson_obj_get(v, "type") &&
		    json_string(yyjson_obj_get(v, "type"), json_at(&q, p.s, ".type"), &type, err) <
		        0)
			return -1;
		if (yyjson_obj_get(v, "access") &&
		    json_string(yyjson_obj_get(v, "access"), json_at(&q, p.s, ".access"), &access,
		                err) < 0)
			return -1;
		if (yyjson_obj_get(v, "major") &&
		    json_i64(yyjson_obj_get(v, "major"), json_at(&q, p.s, ".major"), &major, err) <
		        0)
			return -1;
		if (yyjson_obj_get(v, "minor") &&
		    json_i64(yyjson_obj_get(v, "minor"), json_at(&q, p.s, ".minor"), &minor, err) <
		        0)
			return -1;
		if (strcmp(type, "a") && strcmp(type, "c") && strcmp(type, "b"))
			return bh_error(err, 0, "%s.type: '%s' is not a, c or b", p.s, type);
		if (strspn(access, "rwm") != strlen(access))
			return bh_error(err, 0, "%s.access: '%s' is not made of r, w and m", p.s,
			                access);
		if (!allow || default_device(type, major, minor))
			continue;
		if ((!strcmp(type, "a") || major < 0) && strpbrk(access, "rw"))
			return bh_error(err, 0,
			                "%s: allowing every %sdevice is not supported by bhc (it "
			                "gives no host device to a container)",
			                p.s,
			                !strcmp(type, "a")   ? ""
			                : !strcmp(type, "c") ? "char "
			                                     : "block ");
		if (major < 0)
			snprintf(dev, sizeof(dev), "%s *:*", type);
		else if (minor < 0)
			snprintf(dev, sizeof(dev), "%s %lld:*", type, (long long)major);
		else
			snprintf(dev, sizeof(dev), "%s %lld:%lld", type, (long long)major,
			         (long long)minor);
		bhc_warn(
		    cfg, p.s,
		    "allow %s %s has no effect: bhc has no device cgroup and creates no such "
		    "node (its /dev holds only null, zero, full, random, urandom, tty, ptmx and "
		    "pts; mknod is impossible in the user namespace)",
		    dev, access);
	}
	return 0;
}

static int parse_throttles(yyjson_val *bio, const char *name, const char *key,
                           struct bhc_config *cfg, struct bh_error *err)
{
	yyjson_val *list = yyjson_obj_get(bio, name), *v;
	struct json_path p, q;
	size_t i, max;

	if (!list)
		return 0;
	json_at(&p, "$.linux.resources.blockIO.", "%s", name);
	if (json_array(list, p.s, err) < 0)
		return -1;
	yyjson_arr_foreach(list, i, max, v)
	{
		struct bhc_io_max *m = &cfg->io_max[cfg->n_io_max];
		struct json_path r;

		json_at(&q, p.s, "[%zu]", i);
		if (cfg->n_io_max == BHC_MAX_IO_LIMITS)
			return bh_error(err, 0, "$.linux.resources.blockIO: more than %d throttles",
			                BHC_MAX_IO_LIMITS);
		if (json_object(v, q.s, err) < 0 ||
		    json_i64(yyjson_obj_get(v, "major"), json_at(&r, q.s, ".major"), &m->major,
		             err) < 0 ||
		    json_i64(yyjson_obj_get(v, "minor"), json_at(&r, q.s, ".minor"), &m->minor,
		             err) < 0 ||
		    json_u64(yyjson_obj_get(v, "rate"), json_at(&r, q.s, ".rate"), &m->rate, err) <
		        0)
			return -1;
		if (m->major < 0 || m->minor < 0)
			return bh_error(err, 0, "%s: major and minor must not be negative", q.s);
		m->key = key;
		cfg->n_io_max++;
	}
	return 0;
}

/* blockIO, applied on cgroup v2's io controller as runc does: the weight
 * as io.weight (converted from 10..1000 to 1..10000), the throttles as
 * io.max lines. Per-device weights exist on cgroup v2 only with the BFQ
 * scheduler, and leaf weights not at all: dropped with a warning. */
static int parse_block_io(yyjson_val *bio, struct bhc_config *cfg, struct bh_error *err)
{
	static const char *const throttles[][2] = {{"throttleReadBpsDevice", "rbps"},
	                                           {"throttleWriteBpsDevice", "wbps"},
	                                           {"throttleReadIOPSDevice", "riops"},
	                                           {"throttleWriteIOPSDevice", "wiops"}};
	yyjson_val *v;
	uint64_t w;

	if (json_object(bio, "$.linux.resources.blockIO", err) < 0)
		return -1;
	if ((v = yyjson_obj_get(bio, "weight"))) {
		if (json_u64_range(v, "$.linux.resources.blockIO.weight", 10, 1000, &w, err) < 0)
			return -1;
		cfg->io_weight = (uint16_t)w;
	}
	if (yyjson_obj_get(bio, "leafWeight"))
		bhc_warn(cfg, "$.linux.resources.blockIO.leafWeight",
		         "ignored: cgroup v2 has no leaf weight");
	v = yyjson_obj_get(bio, "weightDevice");
	if (v && !(yyjson_is_arr(v) && !yyjson_arr_size(v)))
		bhc_warn(cfg, "$.linux.resources.blockIO.weightDevice",
		         "ignored: bhc sets no per-device weight (cgroup v2 has them only with the "
		         "BFQ scheduler)");
	for (size_t i = 0; i < sizeof(throttles) / sizeof(*throttles); i++)
		if (parse_throttles(bio, throttles[i][0], throttles[i][1], cfg, err) < 0)
			return -1;
	return 0;
}

/* hugepageLimits: hugetlb.<pageSize>.max, pageSize as the kernel names
 * the files ("2MB", "1GB", "64KB"). */
static int parse_hugepages(yyjson_val *list, struct bhc_config *cfg, struct bh_error *err)
{
	struct json_path p, q;
	yyjson_val *v;
	size_t i, max;

	if (json_array(list, "$.linux.resources.hugepageLimits", err) < 0)
		return -1;
	if (yyjson_arr_size(list) > BHC_MAX_HUGETLB)
		return bh_error(err, 0, "$.linux.resources.hugepageLimits: more than %d entries",
		                BHC_MAX_HUGETLB);
	yyjson_arr_foreach(list, i, max, v)
	{
		struct bhc_hugetlb *h = &cfg->hugetlb[i];
		size_t digits;

		json_at(&p, "$.linux.resources.hugepageLimits", "[%zu]", i);
		if (json_object(v, p.s, err) < 0 ||
		    json_string(yyjson_obj_get(v, "pageSize"), json_at(&q, p.s, ".pageSize"),
		                &h->page_size, err) < 0 ||
		    json_u64(yyjson_obj_get(v, "limit"), json_at(&q, p.s, ".limit"), &h->limit,
		             err) < 0)
			return -1;
		digits = strspn(h->page_size, "0123456789");
		if (!digits || digits > 6 || !strchr("KMG", h->page_size[digits]) ||
		    !h->page_size[digits] || strcmp(h->page_size + digits + 1, "B"))
			return bh_error(err, 0, "%s.pageSize: '%s' is not a size like 2MB or 1GB",
			                p.s, h->page_size);
	}
	cfg->n_hugetlb = max;
	return 0;
}

static int parse_resources(yyjson_val *res, struct bhc_config *cfg, struct bh_error *err)
{
	static const char *const refused[] = {"network", "rdma"};
	yyjson_val *v;

	if (json_object(res, "$.linux.resources", err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++)
		if (yyjson_obj_get(res, refused[i]))
			return bh_error(err, 0, "$.linux.resources.%s: not supported by bhc",
			                refused[i]);
	v = yyjson_obj_get(res, "unified");
	if (v && !(yyjson_is_obj(v) && yyjson_obj_size(v) == 0))
		return bh_error(err, 0, "$.linux.resources.unified: not supported by bhc");
	if ((v = yyjson_obj_get(res, "memory")) && parse_memory(v, cfg, err) < 0)
		return -1;
	if ((v = yyjson_obj_get(res, "cpu")) && parse_cpu(v, cfg, err) < 0)
		return -1;
	if ((v = yyjson_obj_get(res, "pids"))) {
		int64_t limit;

		if (json_object(v, "$.linux.resources.pids", err) < 0 ||
		    json_i64(yyjson_obj_get(v, "limit"), "$.linux.resources.pids.limit", &limit, err) <
		        0)
			return -1;
		cfg->pids_max = limit > 0 ? limit : -1;
	}
	if ((v = yyjson_obj_get(res, "devices")) && parse_device_rules(v, cfg, err) < 0)
		return -1;
	if ((v = yyjson_obj_get(res, "blockIO")) && parse_block_io(v, cfg, err) < 0)
		return -1;
	if ((v = yyjson_obj_get(res, "hugepageLimits")) && parse_hugepages(v, cfg, err) < 0)
		return -1;
	return 0;
}

static int parse_devices(yyjson_val *list, struct bh_error *err)
{
	struct json_path p;
	yyjson_val *v;
	size_t i, max;

	if (json_array(list, "$.linux.devices", err) < 0)
		return -1;
	yyjson_arr_foreach(list, i, max, v)
	{
		const char *type = yyjson_get_str(yyjson_obj_get(v, "type"));

		json_at(&p, "$.linux.devices", "[%zu]", i);
		if (json_object(v, p.s, err) < 0)
			return -1;
		if (!type || !default_device(type, yyjson_get_sint(yyjson_obj_get(v, "major")),
		                             yyjson_get_sint(yyjson_obj_get(v, "minor"))))
			return bh_error(
			    err, 0, "%s: device nodes beyond bhc's minimal /dev are not supported",
			    p.s);
	}
	return 0;
}

/* Only sysctls that belong to the container's own namespaces. */
static bool namespaced_sysctl(const char *key)
{
	static const char *const prefixes[] = {"net.", "fs.mqueue.", "kernel.shm", "kernel.msg",
	                                       "kernel.sem"};

	if (strstr(key, "..") || strchr(key, '/'))
		return false;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(*prefixes); i++)
		if (!strncmp(key, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static int parse_sysctls(yyjson_val *obj, struct bhc_config *cfg, struct bh_error *err)
{
	yyjson_val *key, *val;
	struct json_path p;
	size_t i, max;

	if (json_object(obj, "$.linux.sysctl", err) < 0)
		return -1;
	if (yyjson_obj_size(obj) > BHC_MAX_SYSCTLS)
		return bh_error(err, 0, "$.linux.sysctl: more than %d entries", BHC_MAX_SYSCTLS);
	yyjson_obj_foreach(obj, i, max, key, val)
	{
		struct bhc_sysctl *s = &cfg->sysctls[i];

		s->key = yyjson_get_str(key);
		if (json_string(val, json_at(&p, "$.linux.sysctl.", "%s", s->key), &s->value, err) < 0)
			return -1;
		if (!namespaced_sysctl(s->key))
			return bh_error(err, 0,
			                "%s: not a sysctl of the container's own namespaces", p.s);
	}
	cfg->n_sysctls = max;
	return 0;
}

static int parse_paths(yyjson_val *v, const char *path, const char ***out, size_t *n,
                       struct bh_error *err)
{
	struct json_path p;

	if (json_strings(v, path, out, n, err) < 0)
		return -1;
	for (size_t i = 0; i < *n; i++)
		if ((*out)[i][0] != '/')
			return bh_error(err, 0, "%s: '%s' is not an absolute path",
			                json_at(&p, path, "[%zu]", i), (*out)[i]);
	return 0;
}

static int parse_propagation(yyjson_val *v, struct bhc_config *cfg, struct bh_error *err)
{
	static const struct {
		const char *name;
		unsigned long flags;
	} modes[] = {{"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE},
	             {"slave", MS_SLAVE},           {"rslave", MS_SLAVE},
	             {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE}};
	const char *s;

	if (json_string(v, "$.linux.rootfsPropagation", &s, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(modes) / sizeof(*modes); i++)
		if (!strcmp(s, modes[i].name)) {
			cfg->rootfs_propagation = modes[i].flags;
			return 0;
		}
	/* shared would let the container's mounts reach the host. */
	return bh_error(err, 0,
	                "$.linux.rootfsPropagation: '%s' is not supported by bhc "
	                "(private, slave or unbindable)",
	                s);
}

int bhc_parse_linux(yyjson_val *lx, struct bhc_config *cfg, struct bh_error *err)
{
	yyjson_val *v;

	if (!lx)
		return 0;
	if (json_object(lx, "$.linux", err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(unsupported_linux) / sizeof(*unsupported_linux); i++) {
		v = yyjson_obj_get(lx, unsupported_linux[i]);
		if (v && !(yyjson_is_str(v) && !yyjson_get_len(v)))
			return bh_error(err, 0, "$.linux.%s: not supported by bhc",
			                unsupported_linux[i]);
	}
	if ((v = yyjson_obj_get(lx, "namespaces")) && parse_namespaces(v, cfg, err) < 0)
		return -1;
	if ((v = yyjson_obj_get(lx, "uidMappings")) &&
	    parse_idmaps(v, "$.linux.uidMappings", cfg->uidmap, &cfg->n_uidmap, err) < 0)
		return -1;
	if ((v = yyjson_obj_get(lx, "gidMappings")) &&
	    parse_idmaps(v, "$.linux.gidMappings", cfg->gidmap, &cfg->n_gidmap, err) < 0)
		return -1;
	if (!cfg->n_uidmap != !cfg->n_gidmap)
		return bh_error(err, 0,
		                "$.linux: uidMappings and gidMappings must be given together");
	if ((v = yyjson_obj_get(lx, "cgroupsPath")) &&
	    json_string(v, "$.linux.cgroupsPath", &cfg->cgroups_path, err) < 0)
		return -1;
	if ((v = yyjson_obj_get(lx, "resources")) && parse_resources(v, cfg, err) < 0)
		return -1;
	if ((v = yyjson_obj_get(lx, "devices")) && parse_devices(v, err) < 0)
		return -1;
	if ((v = yyjson_obj_get(lx, "maskedPaths")) &&
	    parse_paths(v, "$.linux.maskedPaths", &cfg->masked, &cfg->n_masked, err) < 0)
		return -1;
	if ((v = yyjson_obj_get(lx, "readonlyPaths")) &&
	    parse_paths(v, "$.linux.readonlyPaths", &cfg->readonly_paths, &cfg->n_readonly, err) <
	        0)
		return -1;
	if ((v = yyjson_obj_get(lx, "rootfsPropagation")) && parse_propagation(v, cfg, err) < 0)
		return -1;
	if ((v = yyjson_obj_get(lx, "sysctl")) && parse_sysctls(v, cfg, err) < 0)
		return -1;
	if ((v = yyjson_obj_get(lx, "seccomp"))) {
		if (json_object(v, "$.linux.seccomp", err) < 0)
			return -1;
		cfg->seccomp = v;
	}
	return 0;
}
