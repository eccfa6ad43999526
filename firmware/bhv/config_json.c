/* The JSON config file: the same settings as the flags (README.md, "Config
 * file"). Every key is known and typed; an unknown key or a wrong type is
 * an error naming its JSON path, so a typo never silently drops a setting.
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

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yyjson.h>

#define CONFIG_FILE_MAX (64 * 1024)

struct ctx {
	struct bhv_config *cfg;
	const char *name;
	struct bh_error *err;
};

static int bad(struct ctx *c, const char *path, const char *what)
{
	return bh_error(c->err, 0, "%s: %s: %s", c->name, path, what);
}

/* Object keys are strings; "" stands in for one that is not. */
static const char *key_of(yyjson_val *k)
{
	const char *s = yyjson_get_str(k);

	return s ? s : "";
}

static int get_string(struct ctx *c, yyjson_val *v, const char *path, char *dst, size_t size)
{
	if (!yyjson_is_str(v))
		return bad(c, path, "must be a string");
	if (yyjson_get_len(v) >= size || strlen(yyjson_get_str(v)) != yyjson_get_len(v))
		return bad(c, path, "is too long or holds a NUL byte");
	strcpy(dst, yyjson_get_str(v));
	return 0;
}

static int get_uint(struct ctx *c, yyjson_val *v, const char *path, uint64_t max, uint64_t *out)
{
	if (!yyjson_is_uint(v) || yyjson_get_uint(v) > max)
		return bad(c, path, "must be a whole number in range");
	*out = yyjson_get_uint(v);
	return 0;
}

static int get_bool(struct ctx *c, yyjson_val *v, const char *path, bool *out)
{
	if (!yyjson_is_bool(v))
		return bad(c, path, "must be true or false");
	*out = yyjson_get_bool(v);
	return 0;
}

static int parse_disks(struct ctx *c, yyjson_val *arr)
{
	yyjson_val *d, *k, *v;
	size_t i, max, ki, kmax;
	char path[64];

	if (!yyjson_is_arr(arr))
		return bad(c, "disks", "must be an array");
	if (yyjson_arr_size(arr) > BHV_MAX_DISKS)
		return bad(c, "disks", "too many disks");
	yyjson_arr_foreach(arr, i, max, d)
	{
		struct bhv_disk *disk = &c->cfg->disks[i];

		snprintf(path, sizeof(path), "disks[%zu]", i);
		if (!yyjson_is_obj(d))
			return bad(c, path, "must be an object");
		memset(disk, 0, sizeof(*disk));
		yyjson_obj_foreach(d, ki, kmax, k, v)
		{
			const char *key = key_of(k);

			snprintf(path, sizeof(path), "disks[%zu].%.20s", i, key);
			if (!strcmp(key, "path")) {
				if (get_string(c, v, path, disk->path, sizeof(disk->path)) < 0)
					return -1;
			} else if (!strcmp(key, "read_only")) {
				if (get_bool(c, v, path, &disk->read_only) < 0)
					return -1;
			} else {
				return bad(c, path, "unknown key");
			}
		}
		if (!disk->path[0]) {
			snprintf(path, sizeof(path), "disks[%zu].path", i);
			return bad(c, path, "is missing or empty");
		}
	}
	c->cfg->n_disks = (int)yyjson_arr_size(arr);
	return 0;
}

static int parse_net(struct ctx *c, yyjson_val *obj)
{
	yyjson_val *k, *v;
	size_t i, max;
	char path[64], mac[32];
	uint64_t fd;

	if (!yyjson_is_obj(obj))
		return bad(c, "net", "must be an object");
	yyjson_obj_foreach(obj, i, max, k, v)
	{
		const char *key = key_of(k);

		snprintf(path, sizeof(path), "net.%.40s", key);
		if (!strcmp(key, "tap_fd")) {
			if (get_uint(c, v, path, INT32_MAX, &fd) < 0)
				return -1;
			c->cfg->net_fd = (int)fd;
		} else if (!strcmp(key, "mac")) {
			if (get_string(c, v, path, mac, sizeof(mac)) < 0)
				return -1;
			if (parse_mac(mac, c->cfg->mac) < 0)
				return bad(c, path, "is not a unicast aa:bb:cc:dd:ee:ff");
		} else {
			return bad(c, path, "unknown key");
		}
	}
	return 0;
}

static int parse_jail(struct ctx *c, yyjson_val *obj)
{
	yyjson_val *k, *v;
	size_t i, max;
	char path[64];
	uint64_t n;

	if (!yyjson_is_obj(obj))
		return bad(c, "jail", "must be an object");
	yyjson_obj_foreach(obj, i, max, k, v)
	{
		const char *key = key_of(k);

		snprintf(path, sizeof(path), "jail.%.40s", key);
		if (!strcmp(key, "enabled")) {
			if (get_bool(c, v, path, &c->cfg->jail) < 0)
				return -1;
		} else if (!strcmp(key, "uid") || !strcmp(key, "gid")) {
			if (get_uint(c, v, path, INT32_MAX - 1, &n) < 0)
				return -1;
			if (n == 0)
				return bad(c, path, "must not be 0 (root)");
			if (key[0] == 'u')
				c->cfg->jail_uid = (uid_t)n;
			else
				c->cfg->jail_gid = (gid_t)n;
		} else if (!strcmp(key, "cgroup")) {
			if (get_string(c, v, path, c->cfg->cgroup, sizeof(c->cfg->cgroup)) < 0)
				return -1;
		} else {
			return bad(c, path, "unknown key");
		}
	}
	return 0;
}

static int parse_key(struct ctx *c, const char *key, yyjson_val *v)
{
	struct bhv_config *cfg = c->cfg;
	char buf[64];
	uint64_t n;

	if (!strcmp(key, "kernel"))
		return get_string(c, v, key, cfg->kernel, sizeof(cfg->kernel));
	if (!strcmp(key, "initrd"))
		return get_string(c, v, key, cfg->initrd, sizeof(cfg->initrd));
	if (!strcmp(key, "cmdline"))
		return get_string(c, v, key, cfg->cmdline, sizeof(cfg->cmdline));
	if (!strcmp(key, "mem_mib")) {
		if (get_uint(c, v, key, BHV_MAX_MEM_MIB, &n) < 0)
			return -1;
		cfg->mem_mib = n;
		return 0;
	}
	if (!strcmp(key, "cpus")) {
		if (get_uint(c, v, key, BHV_MAX_CPUS, &n) < 0)
			return -1;
		cfg->cpus = (int)n;
		return 0;
	}
	if (!strcmp(key, "disks"))
		return parse_disks(c, v);
	if (!strcmp(key, "net"))
		return parse_net(c, v);
	if (!strcmp(key, "console")) {
		if (get_string(c, v, key, buf, sizeof(buf)) < 0)
			return -1;
		if (parse_console(buf, &cfg->console) < 0)
			return bad(c, key, "is not \"serial\", \"virtio\", \"both\" or \"none\"");
		return 0;
	}
	if (!strcmp(key, "rng"))
		return get_bool(c, v, key, &cfg->rng);
	if (!strcmp(key, "jail"))
		return parse_jail(c, v);
	return bad(c, key, "unknown key");
}

int config_from_json(struct bhv_config *cfg, const char *name, const char *text, size_t len,
                     struct bh_error *err)
{
	struct ctx c = {cfg, name, err};
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
	if (!yyjson_is_obj(root)) {
		yyjson_doc_free(doc);
		return bh_error(err, 0, "%s: the top level must be an object", name);
	}
	yyjson_obj_foreach(root, i, max, k, v)
	{
		if ((r = parse_key(&c, key_of(k), v)) < 0)
			break;
	}
	yyjson_doc_free(doc);
	return r;
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
