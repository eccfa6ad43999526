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

static int parse_memory(yyjson_val *mem, struct bhc_config *cfg, struct bh_error *err)
{
	static const char *const refused[] = {"kernel", "kernelTCP", "swappiness",
	                                      "disableOOMKiller", "reservation"};
	yyjson_val *v;

	if (json_object(mem, "$.linux.resources.memory", err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++)
		if (yyjson_obj_get(mem, refused[i]))
			return bh_error(err, 0, "$.linux.resources.memory.%s: not supported by bhc",
			                refused[i]);
	if ((v = yyjson_obj_get(mem, "limit")) &&
	    json_i64(v, "$.linux.resources.memory.limit", &cfg->memory_max, err) < 0)
		return -1;
	if ((v = yyjson_obj_get(mem, "swap")) &&
	    json_i64(v, "$.linux.resources.memory.swap", &cfg->memory_swap, err) < 0)
		return -1;
	if (cfg->memory_max < -1 || cfg->memory_swap < -1)
		return bh_error(err, 0,
		                "$.linux.resources.memory: limits must be -1 (none) or positive");
	if (cfg->memory_swap >= 0 && (cfg->memory_max < 0 || cfg->memory_swap < cfg->memory_max))
		return bh_error(err, 0,
		                "$.linux.resources.memory.swap: must be at least memory.limit (it "
		                "counts memory plus swap)");
	return 0;
}

static int parse_cpu(yyjson_val *cpu, struct bhc_config *cfg, struct bh_error *err)
{
	static const char *const refused[] = {"realtimeRuntime", "realtimePeriod", "cpus", "mems",
	                                      "idle"};
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

/* The device rules bhc can honour: deny rules (nothing beyond the minimal
 * /dev exists, and no device node can be made in a user namespace), and
 * allow rules for the minimal /dev's own devices. */
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

static int parse_device_rules(yyjson_val *list, struct bh_error *err)
{
	struct json_path p;
	yyjson_val *v;
	size_t i, max;

	if (json_array(list, "$.linux.resources.devices", err) < 0)
		return -1;
	yyjson_arr_foreach(list, i, max, v)
	{
		bool allow;
		const char *type = "a";
		int64_t major = -1, minor = -1;

		json_at(&p, "$.linux.resources.devices", "[%zu]", i);
		if (json_object(v, p.s, err) < 0 ||
		    json_bool(yyjson_obj_get(v, "allow"), p.s, &allow, err) < 0)
			return -1;
		if (!allow)
			continue;
		if (yyjson_obj_get(v, "type"))
			type = yyjson_get_str(yyjson_obj_get(v, "type"));
		if (yyjson_obj_get(v, "major"))
			major = yyjson_get_sint(yyjson_obj_get(v, "major"));
		if (yyjson_obj_get(v, "minor"))
			minor = yyjson_get_sint(yyjson_obj_get(v, "minor"));
		if (!type || !default_device(type, major, minor))
			return bh_error(
			    err, 0,
			    "%s: allowing devices beyond bhc's minimal /dev is not supported", p.s);
	}
	return 0;
}

static int parse_resources(yyjson_val *res, struct bhc_config *cfg, struct bh_error *err)
{
	static const char *const refused[] = {"blockIO", "hugepageLimits", "network", "rdma"};
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
	if ((v = yyjson_obj_get(res, "devices")) && parse_device_rules(v, err) < 0)
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
