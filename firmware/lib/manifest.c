#include <bulkhead/json.h>
#include <bulkhead/manifest.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yyjson.h>

bool wl_valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= WL_NAME_MAX || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-' && *s != '_')
			return false;
	return true;
}

int64_t wl_parse_size(const char *s)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'K': mult = 1ULL << 10; break;
		case 'M': mult = 1ULL << 20; break;
		case 'G': mult = 1ULL << 30; break;
		default: return -1;
		}
		if (end[1] && !(toupper((unsigned char)end[1]) == 'I' && toupper((unsigned char)end[2]) == 'B' && !end[3]) &&
		    !(toupper((unsigned char)end[1]) == 'B' && !end[2]))
			return -1;
	}
	if (v > (uint64_t)INT64_MAX / mult)
		return -1;
	return (int64_t)(v * mult);
}

void wl_manifest_free(struct wl_manifest *m)
{
	free(m->storage);
	m->storage = NULL;
}

/* A cursor into a string buffer that owns the args and env strings. */
struct store {
	char *buf;
	size_t used, cap;
};

static char *store_add(struct store *s, const char *str)
{
	size_t n = strlen(str) + 1;
	char *p;

	if (s->used + n > s->cap)
		return NULL;
	p = s->buf + s->used;
	memcpy(p, str, n);
	s->used += n;
	return p;
}

#define FAIL(...) (bh_error(err, 0, __VA_ARGS__), -1)

/* The members of an object, each under the path `where` ("$.container"):
 * absent is fine unless required, present must be of the right type. */
static int get_string(yyjson_val *obj, const char *key, char *out, size_t size, bool required,
		      const char *where, struct bh_error *err)
{
	yyjson_val *v = yyjson_obj_get(obj, key);
	struct json_path p;

	if (!v && !required)
		return 0;
	return json_string_copy(v, json_at(&p, where, ".%s", key), out, size, err);
}

static int get_uint(yyjson_val *obj, const char *key, uint64_t min, uint64_t max, uint64_t *out,
		    const char *where, struct bh_error *err)
{
	yyjson_val *v = yyjson_obj_get(obj, key);
	struct json_path p;

	if (!v)
		return 0;
	return json_u64_range(v, json_at(&p, where, ".%s", key), min, max, out, err);
}

static int get_strings(yyjson_val *obj, const char *key, char **out, size_t max, size_t *n,
		       struct store *st, const char *where, struct bh_error *err)
{
	yyjson_val *arr = yyjson_obj_get(obj, key), *v;
	struct json_path p, q;
	size_t i, imax;

	*n = 0;
	if (!arr)
		return 0;
	if (json_array_max(arr, json_at(&p, where, ".%s", key), max, err) < 0)
		return -1;
	yyjson_arr_foreach(arr, i, imax, v)
	{
		const char *s;

		if (json_string(v, json_at(&q, p.s, "[%zu]", i), &s, err) < 0)
			return -1;
		out[(*n)++] = store_add(st, s);
		if (!out[*n - 1])
			return FAIL("%s: too large", p.s);
	}
	out[*n] = NULL;
	return 0;
}

static int parse_container(yyjson_val *c, struct wl_manifest *m, struct store *st,
			   struct bh_error *err)
{
	static const char *const keys[] = {"args", "env", "workdir", "user", "group", NULL};
	uint64_t u = 0, g = 0;

	if (json_known_keys(c, "$.container", keys, err) < 0 ||
	    get_strings(c, "args", m->args, WL_ARGS_MAX, &m->n_args, st, "$.container", err) < 0 ||
	    get_strings(c, "env", m->env, WL_ENV_MAX, &m->n_env, st, "$.container", err) < 0 ||
	    get_string(c, "workdir", m->workdir, sizeof(m->workdir), false, "$.container", err) < 0 ||
	    get_uint(c, "user", 0, 65535, &u, "$.container", err) < 0 ||
	    get_uint(c, "group", 0, 65535, &g, "$.container", err) < 0)
		return -1;
	if (m->n_args == 0 || m->args[0][0] != '/')
		return FAIL("$.container.args must start with an absolute program path");
	for (size_t i = 0; i < m->n_env; i++)
		if (!strchr(m->env[i], '=') || m->env[i][0] == '=')
			return FAIL("$.container.env[%zu] is not NAME=value", i);
	if (!m->workdir[0])
		strcpy(m->workdir, "/");
	if (m->workdir[0] != '/')
		return FAIL("$.container.workdir must be absolute");
	m->user = (uint32_t)u;
	m->group = (uint32_t)g;
	return 0;
}

static int parse_vm(yyjson_val *v, struct wl_manifest *m, struct bh_error *err)
{
	static const char *const keys[] = {"cmdline", "disk_readonly", "vcpus", NULL};
	yyjson_val *b;
	uint64_t vcpus = 1;

	m->disk_readonly = true;
	if (json_known_keys(v, "$.vm", keys, err) < 0 ||
	    get_string(v, "cmdline", m->cmdline, sizeof(m->cmdline), false, "$.vm", err) < 0 ||
	    get_uint(v, "vcpus", 1, 16, &vcpus, "$.vm", err) < 0)
		return -1;
	m->vcpus = (uint32_t)vcpus;
	b = yyjson_obj_get(v, "disk_readonly");
	return b ? json_bool(b, "$.vm.disk_readonly", &m->disk_readonly, err) : 0;
}

static int parse_resources(yyjson_val *r, struct wl_manifest *m, struct bh_error *err)
{
	static const char *const keys[] = {"memory", "cpus", "pids", NULL};
	yyjson_val *mem, *cpus;
	uint64_t pids = 0;

	if (!r)
		return 0;
	if (json_known_keys(r, "$.resources", keys, err) < 0 ||
	    get_uint(r, "pids", 1, 1000000, &pids, "$.resources", err) < 0)
		return -1;
	m->pids = (uint32_t)pids;
	mem = yyjson_obj_get(r, "memory");
	if (mem) {
		int64_t bytes = yyjson_is_str(mem) ? wl_parse_size(yyjson_get_str(mem)) : -1;

		if (bytes < (1 << 20))
			return FAIL("$.resources.memory must be a size like \"64M\" (at least 1M)");
		m->memory = (uint64_t)bytes;
	}
	cpus = yyjson_obj_get(r, "cpus");
	if (cpus) {
		double c = yyjson_is_num(cpus) ? yyjson_get_num(cpus) : -1;

		if (c < 0.01 || c > 64)
			return FAIL("$.resources.cpus must be a number from 0.01 to 64");
		m->cpu_millis = (uint32_t)(c * 1000 + 0.5);
	}
	return 0;
}

static int parse_restart(yyjson_val *r, struct wl_manifest *m, struct bh_error *err)
{
	static const char *const keys[] = {"policy", "max_restarts", "delay_ms", NULL};
	char policy[32] = "";
	uint64_t max = 5, delay = 1000;

	m->restart = WL_RESTART_ON_FAILURE;
	m->max_restarts = 5;
	m->restart_delay_ms = 1000;
	if (!r)
		return 0;
	if (json_known_keys(r, "$.restart", keys, err) < 0 ||
	    get_string(r, "policy", policy, sizeof(policy), false, "$.restart", err) < 0 ||
	    get_uint(r, "max_restarts", 0, 1000000, &max, "$.restart", err) < 0 ||
	    get_uint(r, "delay_ms", 1, 3600000, &delay, "$.restart", err) < 0)
		return -1;
	if (!strcmp(policy, "always"))
		m->restart = WL_RESTART_ALWAYS;
	else if (!strcmp(policy, "never"))
		m->restart = WL_RESTART_NEVER;
	else if (policy[0] && strcmp(policy, "on-failure"))
		return FAIL("$.restart.policy '%s' is not always, on-failure or never", policy);
	m->max_restarts = (uint32_t)max;
	m->restart_delay_ms = (uint32_t)delay;
	return 0;
}

static int parse_network(yyjson_val *n, struct wl_manifest *m, struct bh_error *err)
{
	static const char *const keys[] = {"mode", "ports", NULL};
	char mode[32] = "";
	yyjson_val *ports, *p;
	size_t i, max;

	m->network = WL_NET_NONE;
	if (!n)
		return 0;
	if (json_known_keys(n, "$.network", keys, err) < 0 ||
	    get_string(n, "mode", mode, sizeof(mode), true, "$.network", err) < 0)
		return -1;
	if (!strcmp(mode, "isolated"))
		m->network = WL_NET_ISOLATED;
	else if (strcmp(mode, "none"))
		return FAIL("$.network.mode '%s' is not none or isolated", mode);
	ports = yyjson_obj_get(n, "ports");
	if (!ports)
		return 0;
	if (m->network == WL_NET_NONE)
		return FAIL("$.network.ports needs mode isolated");
	if (json_array_max(ports, "$.network.ports", WL_PORTS_MAX, err) < 0)
		return -1;
	yyjson_arr_foreach(ports, i, max, p)
	{
		static const char *const pkeys[] = {"host", "workload", NULL};
		uint64_t host = 0, wl = 0;
		char where[64];

		snprintf(where, sizeof(where), "$.network.ports[%zu]", i);
		if (json_known_keys(p, where, pkeys, err) < 0 ||
		    get_uint(p, "host", 1, 65535, &host, where, err) < 0 ||
		    get_uint(p, "workload", 1, 65535, &wl, where, err) < 0)
			return -1;
		if (!host || !wl)
			return FAIL("%s needs host and workload ports", where);
		m->ports[m->n_ports].host = (uint16_t)host;
		m->ports[m->n_ports].workload = (uint16_t)wl;
		m->n_ports++;
	}
	return 0;
}

static int parse_volumes(yyjson_val *vols, struct wl_manifest *m, struct bh_error *err)
{
	yyjson_val *v;
	size_t i, max;

	if (!vols)
		return 0;
	if (json_array_max(vols, "$.volumes", WL_VOLUMES_MAX, err) < 0)
		return -1;
	yyjson_arr_foreach(vols, i, max, v)
	{
		static const char *const keys[] = {"name", "path", NULL};
		struct wl_volume *vol = &m->volumes[m->n_volumes];
		char where[64];

		snprintf(where, sizeof(where), "$.volumes[%zu]", i);
		if (json_known_keys(v, where, keys, err) < 0 ||
		    get_string(v, "name", vol->name, sizeof(vol->name), true, where, err) < 0 ||
		    get_string(v, "path", vol->path, sizeof(vol->path), m->mode == WL_CONTAINER,
			       where, err) < 0)
			return -1;
		if (!wl_valid_name(vol->name))
			return FAIL("%s.name must be a-z, 0-9, - and _", where);
		if (m->mode == WL_CONTAINER && (vol->path[0] != '/' || strstr(vol->path, "..")))
			return FAIL("%s.path must be absolute, without ..", where);
		m->n_volumes++;
	}
	return 0;
}

/* Every message says where in the document; wl_manifest_parse prefixes
 * the manifest's name. */
static int parse_root(yyjson_val *root, struct wl_manifest *m, size_t storage,
		      struct bh_error *err)
{
	static const char *const keys[] = {"name", "version", "mode", "container", "vm", "resources",
					   "restart", "network", "volumes", NULL};
	struct store st = {.buf = m->storage, .cap = storage};
	char mode[32] = "";

	if (json_known_keys(root, "$", keys, err) < 0 ||
	    get_string(root, "name", m->name, sizeof(m->name), true, "$", err) < 0 ||
	    get_string(root, "version", m->version, sizeof(m->version), false, "$", err) < 0 ||
	    get_string(root, "mode", mode, sizeof(mode), true, "$", err) < 0)
		return -1;
	if (!wl_valid_name(m->name))
		return FAIL("$.name '%s' must be 1 to 63 of a-z, 0-9, - and _, starting with a letter "
			    "or digit", m->name);
	if (!m->version[0])
		strcpy(m->version, "0");
	if (!strcmp(mode, "container")) {
		m->mode = WL_CONTAINER;
		if (yyjson_obj_get(root, "vm"))
			return FAIL("$.vm given for a container workload");
		if (parse_container(yyjson_obj_get(root, "container"), m, &st, err) < 0)
			return -1;
	} else if (!strcmp(mode, "vm")) {
		m->mode = WL_VM;
		if (yyjson_obj_get(root, "container"))
			return FAIL("$.container given for a vm workload");
		if (parse_vm(yyjson_obj_get(root, "vm"), m, err) < 0)
			return -1;
	} else {
		return FAIL("$.mode '%s' is not container or vm", mode);
	}
	if (parse_resources(yyjson_obj_get(root, "resources"), m, err) < 0 ||
	    parse_restart(yyjson_obj_get(root, "restart"), m, err) < 0 ||
	    parse_network(yyjson_obj_get(root, "network"), m, err) < 0 ||
	    parse_volumes(yyjson_obj_get(root, "volumes"), m, err) < 0)
		return -1;
	if (m->mode == WL_VM && !m->memory)
		return FAIL("$.resources.memory is required for a vm workload");
	return 0;
}

int wl_manifest_parse(const char *json, size_t len, const char *what, struct wl_manifest *m,
		      struct bh_error *err)
{
	yyjson_read_err rerr;
	yyjson_doc *jd;
	int r = -1;

	memset(m, 0, sizeof(*m));
	jd = yyjson_read_opts((char *)json, len, 0, NULL, &rerr);
	if (!jd)
		return bh_error(err, 0, "%s: not valid JSON at byte %zu: %s", what, rerr.pos, rerr.msg);
	m->storage = malloc(len + 1);
	if (!m->storage)
		bh_error(err, ENOMEM, "%s", what);
	else if (parse_root(yyjson_doc_get_root(jd), m, len + 1, err) < 0)
		bh_error_wrap(err, "%s", what);
	else
		r = 0;
	yyjson_doc_free(jd);
	if (r < 0)
		wl_manifest_free(m);
	return r;
}
