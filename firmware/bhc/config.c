/* config.json: the top of the document (ociVersion, root, hostname, mounts,
 * hooks, process, linux). Unknown properties are ignored, as the runtime spec
 * requires; properties the spec defines that bhc does not implement are
 * refused with an error naming them, never silently ignored. */
#include "libbhc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Properties of the spec bhc refuses rather than ignores. */
static const char *const unsupported_top[] = {"solaris", "windows", "vm", "zos", "freebsd"};

static int parse_root(yyjson_val *root, struct bhc_config *cfg, struct bh_error *err)
{
	const char *path;
	yyjson_val *ro;
	int n;

	if (json_object(root, "$.root", err) < 0 ||
	    json_string(yyjson_obj_get(root, "path"), "$.root.path", &path, err) < 0)
		return -1;
	if (!*path)
		return bh_error(err, 0, "$.root.path: must not be empty");
	if (path[0] == '/')
		n = snprintf(cfg->rootfs, sizeof(cfg->rootfs), "%s", path);
	else
		n = snprintf(cfg->rootfs, sizeof(cfg->rootfs), "%s/%s", cfg->bundle, path);
	if (n < 0 || (size_t)n >= sizeof(cfg->rootfs))
		return bh_error(err, 0, "$.root.path: path is too long");
	/* Read-only unless the config says otherwise. */
	cfg->readonly = true;
	ro = yyjson_obj_get(root, "readonly");
	if (ro && json_bool(ro, "$.root.readonly", &cfg->readonly, err) < 0)
		return -1;
	return 0;
}

static int parse_version(yyjson_val *v, struct bh_error *err)
{
	const char *s;

	if (json_string(v, "$.ociVersion", &s, err) < 0)
		return -1;
	if (strncmp(s, "1.", 2) != 0)
		return bh_error(err, 0, "$.ociVersion: '%s' is not a 1.x runtime spec version", s);
	return 0;
}

static int parse_optional_string(yyjson_val *top, const char *key, const char **out,
                                 struct bh_error *err)
{
	struct json_path p;
	yyjson_val *v = yyjson_obj_get(top, key);

	return v ? json_string(v, json_at(&p, "$.", "%s", key), out, err) : 0;
}

static int parse_document(yyjson_val *top, struct bhc_config *cfg, struct bh_error *err)
{
	yyjson_val *v;

	if (json_object(top, "$", err) < 0 ||
	    parse_version(yyjson_obj_get(top, "ociVersion"), err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(unsupported_top) / sizeof(*unsupported_top); i++)
		if (yyjson_obj_get(top, unsupported_top[i]))
			return bh_error(err, 0, "$.%s: not supported by bhc", unsupported_top[i]);
	if (parse_root(yyjson_obj_get(top, "root"), cfg, err) < 0)
		return -1;
	if (parse_optional_string(top, "hostname", &cfg->hostname, err) < 0 ||
	    parse_optional_string(top, "domainname", &cfg->domainname, err) < 0)
		return -1;
	v = yyjson_obj_get(top, "process");
	if (!v)
		return bh_error(err, 0, "$.process: missing (bhc needs a process to run)");
	if (bhc_parse_process(v, cfg, err) < 0)
		return -1;
	v = yyjson_obj_get(top, "mounts");
	if (v && bhc_parse_mounts(v, cfg, err) < 0)
		return -1;
	v = yyjson_obj_get(top, "hooks");
	if (v && bhc_parse_hooks(v, cfg, &cfg->hooks, err) < 0)
		return -1;
	v = yyjson_obj_get(top, "annotations");
	if (v) {
		yyjson_val *key, *val;
		size_t i, max;
		struct json_path p;

		if (json_object(v, "$.annotations", err) < 0)
			return -1;
		yyjson_obj_foreach(v, i, max, key, val)
		{
			if (!yyjson_is_str(val))
				return json_type_error(
				    err, json_at(&p, "$.annotations.", "%s", yyjson_get_str(key)),
				    "a string", val);
		}
		cfg->annotations = v;
	}
	return bhc_parse_linux(yyjson_obj_get(top, "linux"), cfg, err);
}

static void set_defaults(struct bhc_config *cfg)
{
	cfg->umask = -1;
	cfg->memory_max = cfg->memory_swap = cfg->pids_max = cfg->cpu_quota = -1;
	cfg->memory_low = -1;
}

int bhc_config_parse(const char *bundle, const char *text, size_t len, struct bhc_config *cfg,
                     struct bh_error *err)
{
	yyjson_read_err jerr;

	memset(cfg, 0, sizeof(*cfg));
	set_defaults(cfg);
	if (snprintf(cfg->bundle, sizeof(cfg->bundle), "%s", bundle) >= (int)sizeof(cfg->bundle))
		return bh_error(err, 0, "bundle path '%s' is too long", bundle);
	cfg->doc = yyjson_read_opts((char *)text, len, 0, NULL, &jerr);
	if (!cfg->doc)
		return bh_error(err, 0, "invalid JSON at byte %zu: %s", jerr.pos, jerr.msg);
	if (parse_document(yyjson_doc_get_root(cfg->doc), cfg, err) < 0) {
		bhc_config_free(cfg);
		return -1;
	}
	return 0;
}

int bhc_config_load(const char *bundle, struct bhc_config *cfg, struct bh_error *err)
{
	char abs[PATH_MAX], path[PATH_MAX + 16];
	size_t len;
	char *text;
	int r;

	if (!realpath(bundle, abs))
		return bh_error(err, errno, "bundle %s", bundle);
	snprintf(path, sizeof(path), "%s/config.json", abs);
	text = bh_read_file(path, 4 << 20, &len, err);
	if (!text)
		return -1;
	r = bhc_config_parse(abs, text, len, cfg, err);
	free(text);
	if (r < 0)
		return bh_error_wrap(err, "%s", path);
	return 0;
}

void bhc_config_free(struct bhc_config *cfg)
{
	free(cfg->args);
	free(cfg->env);
	free(cfg->mounts);
	free(cfg->masked);
	free(cfg->readonly_paths);
	bhc_hooks_free(&cfg->hooks);
	yyjson_doc_free(cfg->doc);
	memset(cfg, 0, sizeof(*cfg));
	set_defaults(cfg);
}

bool bhc_config_has_limits(const struct bhc_config *cfg)
{
	return cfg->memory_max >= 0 || cfg->memory_swap >= 0 || cfg->pids_max >= 0 ||
	       cfg->cpu_quota >= 0 || cfg->cpu_shares > 0 || cfg->memory_low >= 0 ||
	       cfg->cpuset_cpus || cfg->cpuset_mems || cfg->io_weight || cfg->n_io_max ||
	       cfg->n_hugetlb;
}
