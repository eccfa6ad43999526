/* The JSON config file: the same settings as the flags (README.md, "Config
 * file"). Every key is known and typed (firmware/lib/json.c); an unknown
 * key or a wrong type is an error naming its JSON path, so a typo never
 * silently drops a setting.
 *
 *   {"kernel": "/boot/bzImage", "initrd": "/boot/initrd", "cmdline": "quiet",
 *    "mem_mib": 256, "cpus": 2,
 *    "disks": [{"path": "/data/vm.img", "read_only": false}],
 *    "net": {"tap_fd": 5, "mac": "02:00:00:00:00:01"},
 *    "console": "serial", "rng": true,
 *    "jail": {"enabled": true, "uid": 64000, "gid": 64000,
 *             "cgroup": "/sys/fs/cgroup/workloads/web"}}
 */
#include "config.h"

#include <bulkhead/json.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yyjson.h>

#define CONFIG_FILE_MAX (64 * 1024)

static int unknown_key(const char *path, struct bh_error *err)
{
	return bh_error(err, 0, "%s: unknown key", path);
}

/* Object keys are strings; "" stands in for one that is not. */
static const char *key_of(yyjson_val *k)
{
	const char *s = yyjson_get_str(k);

	return s ? s : "";
}

static int parse_disks(struct bhv_config *cfg, yyjson_val *arr, struct bh_error *err)
{
	static const char *const keys[] = {"path", "read_only", NULL};
	yyjson_val *d, *v;
	size_t i, max;
	struct json_path p, q;

	if (json_array_max(arr, "$.disks", BHV_MAX_DISKS, err) < 0)
		return -1;
	yyjson_arr_foreach(arr, i, max, d)
	{
		struct bhv_disk *disk = &cfg->disks[i];

		memset(disk, 0, sizeof(*disk));
		if (json_known_keys(d, json_at(&p, "$.disks", "[%zu]", i), keys, err) < 0)
			return -1;
		if ((v = yyjson_obj_get(d, "path")) &&
		    json_string_copy(v, json_at(&q, p.s, ".path"), disk->path, sizeof(disk->path),
				     err) < 0)
			return -1;
		if (!disk->path[0])
			return bh_error(err, 0, "%s.path: is missing or empty", p.s);
		if ((v = yyjson_obj_get(d, "read_only")) &&
		    json_bool(v, json_at(&q, p.s, ".read_only"), &disk->read_only, err) < 0)
			return -1;
	}
	cfg->n_disks = (int)yyjson_arr_size(arr);
	return 0;
}

static int parse_net(struct bhv_config *cfg, yyjson_val *obj, struct bh_error *err)
{
	static const char *const keys[] = {"tap_fd", "mac", NULL};
	yyjson_val *v;
	char mac[32];
	uint64_t fd;

	if (json_known_keys(obj, "$.net", keys, err) < 0)
		return -1;
	if ((v = yyjson_obj_get(obj, "tap_fd"))) {
		if (json_u64_range(v, "$.net.tap_fd", 0, INT32_MAX, &fd, err) < 0)
			return -1;
		cfg->net_fd = (int)fd;
	}
	if ((v = yyjson_obj_get(obj, "mac"))) {
		if (json_string_copy(v, "$.net.mac", mac, sizeof(mac), err) < 0)
			return -1;
		if (parse_mac(mac, cfg->mac) < 0)
			return bh_error(err, 0, "$.net.mac: is not a unicast aa:bb:cc:dd:ee:ff");
	}
	return 0;
}

/* The jail's uid or gid: never 0, which is root. */
static int jail_id(yyjson_val *v, const char *path, uint64_t *out, struct bh_error *err)
{
	if (json_u64_range(v, path, 0, INT32_MAX - 1, out, err) < 0)
		return -1;
	if (*out == 0)
		return bh_error(err, 0, "%s: must not be 0 (root)", path);
	return 0;
}

static int parse_jail(struct bhv_config *cfg, yyjson_val *obj, struct bh_error *err)
{
	static const char *const keys[] = {"enabled", "uid", "gid", "cgroup", NULL};
	yyjson_val *v;
	uint64_t n;

	if (json_known_keys(obj, "$.jail", keys, err) < 0)
		return -1;
	if ((v = yyjson_obj_get(obj, "enabled")) && json_bool(v, "$.jail.enabled", &cfg->jail, err) < 0)
		return -1;
	if ((v = yyjson_obj_get(obj, "uid"))) {
		if (jail_id(v, "$.jail.uid", &n, err) < 0)
			return -1;
		cfg->jail_uid = (uid_t)n;
		cfg->jail_gid = (gid_t)n;
		cfg->jail_uid_auto = cfg->jail_gid_auto = false;
	}
	if ((v = yyjson_obj_get(obj, "gid"))) {
		if (jail_id(v, "$.jail.gid", &n, err) < 0)
			return -1;
		cfg->jail_gid = (gid_t)n;
		cfg->jail_gid_auto = false;
	}
	if ((v = yyjson_obj_get(obj, "cgroup")) &&
	    json_string_copy(v, "$.jail.cgroup", cfg->cgroup, sizeof(cfg->cgroup), err) < 0)
		return -1;
	return 0;
}

static int parse_key(struct bhv_config *cfg, const char *key, yyjson_val *v, struct bh_error *err)
{
	struct json_path p;
	char buf[64];
	uint64_t n;

	json_at(&p, "$", ".%s", key);
	if (!strcmp(key, "kernel"))
		return json_string_copy(v, p.s, cfg->kernel, sizeof(cfg->kernel), err);
	if (!strcmp(key, "initrd"))
		return json_string_copy(v, p.s, cfg->initrd, sizeof(cfg->initrd), err);
	if (!strcmp(key, "cmdline"))
		return json_string_copy(v, p.s, cfg->cmdline, sizeof(cfg->cmdline), err);
	if (!strcmp(key, "mem_mib")) {
		if (json_u64_range(v, p.s, 0, BHV_MAX_MEM_MIB, &n, err) < 0)
			return -1;
		cfg->mem_mib = n;
		return 0;
	}
	if (!strcmp(key, "cpus")) {
		if (json_u64_range(v, p.s, 0, BHV_MAX_CPUS, &n, err) < 0)
			return -1;
		cfg->cpus = (int)n;
		return 0;
	}
	if (!strcmp(key, "disks"))
		return parse_disks(cfg, v, err);
	if (!strcmp(key, "net"))
		return parse_net(cfg, v, err);
	if (!strcmp(key, "console")) {
		if (json_string_copy(v, p.s, buf, sizeof(buf), err) < 0)
			return -1;
		if (parse_console(buf, &cfg->console) < 0)
			return bh_error(err, 0, "%s: is not \"serial\", \"virtio\", \"both\" or \"none\"",
					p.s);
		return 0;
	}
	if (!strcmp(key, "rng"))
		return json_bool(v, p.s, &cfg->rng, err);
	if (!strcmp(key, "jail"))
		return parse_jail(cfg, v, err);
	return unknown_key(p.s, err);
}

int config_from_json(struct bhv_config *cfg, const char *name, const char *text, size_t len,
                     struct bh_error *err)
{
	yyjson_read_err rerr;
	yyjson_doc *doc;
	yyjson_val *root, *k, *v;
	size_t i, max;
	int r = 0;

	doc = yyjson_read_opts((char *)text, len, 0, NULL, &rerr);
	if (!doc)
		return bh_error(err, 0, "%s: not valid JSON at byte %zu: %s", name, rerr.pos,
		                rerr.msg);
	root = yyjson_doc_get_root(doc);
	r = json_object(root, "$", err);
	if (r == 0)
		yyjson_obj_foreach(root, i, max, k, v)
		{
			if ((r = parse_key(cfg, key_of(k), v, err)) < 0)
				break;
		}
	yyjson_doc_free(doc);
	return r < 0 ? bh_error_wrap(err, "%s", name) : 0;
}

int config_from_file(struct bhv_config *cfg, const char *path, struct bh_error *err)
{
	static char buf[CONFIG_FILE_MAX];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return bh_error(err, errno, "open config file %s", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size >= CONFIG_FILE_MAX) {
		close(fd);
		return bh_error(err, 0, "config file %s: not a regular file under %d KiB", path,
		                CONFIG_FILE_MAX / 1024);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return bh_error(err, errno, "read config file %s", path);
	return config_from_json(cfg, path, buf, (size_t)n, err);
}
