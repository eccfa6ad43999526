/* config.json: the mounts list. Each option is either a mount flag (nosuid,
 * ro, rbind, rprivate, ...), tmpcopyup, or a filesystem option handed to
 * the kernel (mode=755, size=64k, newinstance); the kernel rejects
 * filesystem options it does not know. A bind mount takes none: the kernel
 * would ignore them, so bhc drops them with a warning. */
#include "libbhc.h"
#include "mountapi.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

struct mount_flag {
	const char *name;
	unsigned long set, clr; /* MS_* */
	uint64_t attr_set, attr_clr;
};

static const struct mount_flag flags[] = {
    {"ro", MS_RDONLY, 0, MOUNT_ATTR_RDONLY, 0},
    {"rw", 0, MS_RDONLY, 0, MOUNT_ATTR_RDONLY},
    {"nosuid", MS_NOSUID, 0, MOUNT_ATTR_NOSUID, 0},
    {"suid", 0, MS_NOSUID, 0, MOUNT_ATTR_NOSUID},
    {"nodev", MS_NODEV, 0, MOUNT_ATTR_NODEV, 0},
    {"dev", 0, MS_NODEV, 0, MOUNT_ATTR_NODEV},
    {"noexec", MS_NOEXEC, 0, MOUNT_ATTR_NOEXEC, 0},
    {"exec", 0, MS_NOEXEC, 0, MOUNT_ATTR_NOEXEC},
    {"sync", MS_SYNCHRONOUS, 0, 0, 0},
    {"async", 0, MS_SYNCHRONOUS, 0, 0},
    {"dirsync", MS_DIRSYNC, 0, 0, 0},
    {"nomand", 0, MS_MANDLOCK, 0, 0},
    {"atime", 0, MS_NOATIME, 0, MOUNT_ATTR_NOATIME},
    {"noatime", MS_NOATIME, 0, MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME},
    {"diratime", 0, MS_NODIRATIME, 0, MOUNT_ATTR_NODIRATIME},
    {"nodiratime", MS_NODIRATIME, 0, MOUNT_ATTR_NODIRATIME, 0},
    {"relatime", MS_RELATIME, 0, MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
    {"norelatime", 0, MS_RELATIME, 0, 0},
    {"strictatime", MS_STRICTATIME, 0, MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
    {"nostrictatime", 0, MS_STRICTATIME, 0, 0},
    {"lazytime", MS_LAZYTIME, 0, 0, 0},
    {"nolazytime", 0, MS_LAZYTIME, 0, 0},
    {"nosymfollow", 0, 0, MOUNT_ATTR_NOSYMFOLLOW, 0},
    {"symfollow", 0, 0, 0, MOUNT_ATTR_NOSYMFOLLOW},
};

static const struct {
	const char *name;
	unsigned long flags;
} propagations[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

/* Options bhc knows and refuses: each needs machinery bhc does not have. */
static const char *const refused[] = {"remount",      "mand",         "idmap",        "ridmap",
                                      "copy-symlink", "src-nofollow", "dest-nofollow"};

static const char *const fs_types[] = {"proc",   "sysfs",  "tmpfs",  "devpts",
                                       "mqueue", "cgroup", "cgroup2"};

static int add_data(struct bhc_mount *m, const char *opt, const char *path, struct bh_error *err)
{
	size_t used = strlen(m->data), n = strlen(opt);

	if (strchr(opt, ','))
		return bh_error(err, 0, "%s: option '%s' holds a comma", path, opt);
	if (used + n + 2 > sizeof(m->data))
		return bh_error(err, 0, "%s: filesystem options are too long", path);
	if (used)
		m->data[used++] = ',';
	memcpy(m->data + used, opt, n + 1);
	return 0;
}

/* The atime modes share one field that the kernel wants cleared as a whole
 * (MOUNT_ATTR__ATIME) when one of them is set; other attributes are bits. */
static void set_attr(struct bhc_mount *m, uint64_t set, uint64_t clr)
{
	if (clr == MOUNT_ATTR__ATIME) {
		m->attr_set = (m->attr_set & ~(uint64_t)MOUNT_ATTR__ATIME) | set;
		m->attr_clr |= MOUNT_ATTR__ATIME;
		return;
	}
	m->attr_set = (m->attr_set | set) & ~clr;
	m->attr_clr = (m->attr_clr | clr) & ~set;
}

static int parse_one_option(const char *o, const char *path, struct bhc_mount *m,
                            struct bh_error *err)
{
	const char *flag = o;

	if (!strcmp(o, "bind") || !strcmp(o, "rbind")) {
		m->bind = true;
		m->recursive |= o[0] == 'r';
		return 0;
	}
	if (!strcmp(o, "tmpcopyup")) {
		m->tmpcopyup = true;
		return 0;
	}
	for (size_t i = 0; i < sizeof(propagations) / sizeof(*propagations); i++)
		if (!strcmp(o, propagations[i].name)) {
			m->propagation = propagations[i].flags;
			return 0;
		}
	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++)
		if (!strcmp(o, refused[i]))
			return bh_error(err, 0, "%s: mount option '%s' is not supported by bhc",
			                path, o);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < sizeof(flags) / sizeof(*flags); i++)
			if (!strcmp(flag, flags[i].name)) {
				m->flags = (m->flags & ~flags[i].clr) | flags[i].set;
				set_attr(m, flags[i].attr_set, flags[i].attr_clr);
				return 0;
			}
		/* Recursive attributes (rro, rnosuid, ...): bhc applies attributes
		 * to a bind mount's submounts anyway. */
		if (o[0] != 'r' || !o[1])
			break;
		flag = o + 1;
	}
	return add_data(m, o, path, err);
}

int bhc_parse_mount_options(yyjson_val *opts, const char *path, struct bhc_mount *m,
                            struct bh_error *err)
{
	yyjson_val *o;
	struct json_path p;
	size_t i, max;

	if (json_array(opts, path, err) < 0)
		return -1;
	yyjson_arr_foreach(opts, i, max, o)
	{
		const char *s;

		if (json_string(o, json_at(&p, path, "[%zu]", i), &s, err) < 0 ||
		    parse_one_option(s, p.s, m, err) < 0)
			return -1;
	}
	return 0;
}

static int check_type(const struct bhc_config *cfg, struct bhc_mount *m, const char *path,
                      struct bh_error *err)
{
	char field[64];

	if (m->bind) {
		if (m->type && strcmp(m->type, "bind") && strcmp(m->type, "none") &&
		    strcmp(m->type, ""))
			return bh_error(err, 0,
			                "%s.type: '%s' cannot be combined with the bind option",
			                path, m->type);
		if (!m->source || !*m->source)
			return bh_error(err, 0, "%s.source: a bind mount needs a source", path);
		/* The kernel ignores data with MS_BIND; runc passes it all the same.
		 * Accepted, so that configs written for runc run, but said. */
		if (m->data[0]) {
			snprintf(field, sizeof(field), "%s.options", path);
			bhc_warn(cfg, field,
			         "'%s' ignored: a bind mount takes no filesystem options", m->data);
			m->data[0] = 0;
		}
		if (m->tmpcopyup) {
			snprintf(field, sizeof(field), "%s.options", path);
			bhc_warn(cfg, field, "'tmpcopyup' ignored: it only applies to a tmpfs");
			m->tmpcopyup = false;
		}
		return 0;
	}
	if (!m->type)
		return bh_error(err, 0, "%s.type: missing (and no bind option)", path);
	if (!strcmp(m->type, "bind")) {
		m->bind = true;
		return check_type(cfg, m, path, err);
	}
	if (m->tmpcopyup && strcmp(m->type, "tmpfs")) {
		snprintf(field, sizeof(field), "%s.options", path);
		bhc_warn(cfg, field, "'tmpcopyup' ignored: it only applies to a tmpfs, not %s",
		         m->type);
		m->tmpcopyup = false;
	}
	for (size_t i = 0; i < sizeof(fs_types) / sizeof(*fs_types); i++)
		if (!strcmp(m->type, fs_types[i]))
			return 0;
	return bh_error(
	    err, 0,
	    "%s.type: '%s' is not supported by bhc (proc, sysfs, tmpfs, devpts, mqueue, cgroup, "
	    "cgroup2 or a bind mount)",
	    path, m->type);
}

static int parse_mount(const struct bhc_config *cfg, yyjson_val *v, const char *path,
                       struct bhc_mount *m, struct bh_error *err)
{
	struct json_path p;
	yyjson_val *x;

	if (json_object(v, path, err) < 0 ||
	    json_string(yyjson_obj_get(v, "destination"), json_at(&p, path, ".destination"),
	             &m->destination, err) < 0)
		return -1;
	if (m->destination[0] != '/')
		return bh_error(err, 0, "%s: '%s' is not an absolute path", p.s, m->destination);
	if ((x = yyjson_obj_get(v, "type")) &&
	    json_string(x, json_at(&p, path, ".type"), &m->type, err) < 0)
		return -1;
	if ((x = yyjson_obj_get(v, "source")) &&
	    json_string(x, json_at(&p, path, ".source"), &m->source, err) < 0)
		return -1;
	if ((x = yyjson_obj_get(v, "uidMappings")) || (x = yyjson_obj_get(v, "gidMappings")))
		return bh_error(err, 0, "%s: id-mapped mounts are not supported by bhc", path);
	if ((x = yyjson_obj_get(v, "options")) &&
	    bhc_parse_mount_options(x, json_at(&p, path, ".options"), m, err) < 0)
		return -1;
	return check_type(cfg, m, path, err);
}

int bhc_parse_mounts(yyjson_val *mounts, struct bhc_config *cfg, struct bh_error *err)
{
	struct json_path p;
	yyjson_val *v;
	size_t i, max;

	if (json_array(mounts, "$.mounts", err) < 0)
		return -1;
	cfg->mounts = calloc(yyjson_arr_size(mounts) + 1, sizeof(*cfg->mounts));
	if (!cfg->mounts)
		return bh_error(err, ENOMEM, "$.mounts");
	yyjson_arr_foreach(mounts, i, max, v)
	{
		if (parse_mount(cfg, v, json_at(&p, "$.mounts", "[%zu]", i), &cfg->mounts[i], err) < 0)
			return -1;
	}
	cfg->n_mounts = max;
	return 0;
}
