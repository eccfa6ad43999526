/* config.json: $.hooks, the runtime spec's six kinds of hook (path, args,
 * env, timeout), and the copy of them kept in the container's state folder
 * (<root>/<id>/hooks.json), which start (poststart) and delete (poststop)
 * run from: the bundle may have changed or gone by then.
 *
 * Hooks run as host root. The copy is only trusted when the state folder
 * and the file belong to bhc's own user and nobody else can write them; a
 * copy that fails that check is an error, never run. */
#include "libbhc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A saved copy is the config's hooks object: small. */
#define HOOKS_FILE_MAX (1u << 20)

const char *const bhc_hook_names[BHC_HOOK_N] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};

static char *read_fd(int fd, size_t max, size_t *len, struct bh_error *err)
{
	char *buf = malloc(max);
	size_t n = 0;
	ssize_t r;

	if (!buf) {
		bh_error(err, ENOMEM, "read");
		return NULL;
	}
	while ((r = read(fd, buf + n, max - n)) > 0 && (n += (size_t)r) < max)
		;
	if (r < 0 || n == max) {
		bh_error(err, r < 0 ? errno : EFBIG, "read");
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static int parse_env(const char **env, size_t n, const char *path, struct bh_error *err)
{
	struct json_path p;

	for (size_t i = 0; i < n; i++)
		if (!strchr(env[i], '=') || env[i][0] == '=')
			return bh_error(err, 0, "%s: '%s' is not NAME=value",
			                json_at(&p, path, "[%zu]", i), env[i]);
	return 0;
}

static int parse_hook(yyjson_val *v, const char *path, struct bhc_hook *h, struct bh_error *err)
{
	struct json_path p;
	yyjson_val *f;
	size_t n;

	if (json_object(v, path, err) < 0)
		return -1;
	f = yyjson_obj_get(v, "path");
	if (!f)
		return bh_error(err, 0, "%s: missing (the hook's program)",
		                json_at(&p, path, ".path"));
	if (json_string(f, json_at(&p, path, ".path"), &h->path, err) < 0)
		return -1;
	if (h->path[0] != '/')
		return bh_error(err, 0, "%s: '%s' must be an absolute path", p.s, h->path);
	f = yyjson_obj_get(v, "args");
	if (f && json_strings(f, json_at(&p, path, ".args"), &h->args, &n, err) < 0)
		return -1;
	f = yyjson_obj_get(v, "env");
	if (f && (json_strings(f, json_at(&p, path, ".env"), &h->env, &n, err) < 0 ||
	          parse_env(h->env, n, p.s, err) < 0))
		return -1;
	f = yyjson_obj_get(v, "timeout");
	if (f) {
		int64_t t;

		if (json_i64(f, json_at(&p, path, ".timeout"), &t, err) < 0)
			return -1;
		/* The spec: if set, greater than zero. A day is more than any
		 * hook needs and keeps the milliseconds in an int. */
		if (t <= 0 || t > 86400)
			return bh_error(err, 0, "%s: %lld must be from 1 to 86400 seconds", p.s,
			                (long long)t);
		h->timeout = (int)t;
	}
	return 0;
}

static int parse_kind(yyjson_val *arr, const char *path, struct bhc_hooks *h, int k,
                      struct bh_error *err)
{
	struct json_path p;
	yyjson_val *item;
	size_t i, max;

	if (json_array_max(arr, path, 64, err) < 0)
		return -1;
	h->list[k] = calloc(yyjson_arr_size(arr) + 1, sizeof(*h->list[k]));
	if (!h->list[k])
		return bh_error(err, ENOMEM, "%s", path);
	yyjson_arr_foreach(arr, i, max, item)
	{
		if (parse_hook(item, json_at(&p, path, "[%zu]", i), &h->list[k][i], err) < 0)
			return -1;
		h->n[k] = i + 1;
	}
	return 0;
}

static int parse(yyjson_val *v, const struct bhc_config *cfg, struct bhc_hooks *h,
                 struct bh_error *err)
{
	yyjson_val *key, *val;
	size_t i, max;

	if (json_object(v, "$.hooks", err) < 0)
		return -1;
	yyjson_obj_foreach(v, i, max, key, val)
	{
		const char *name = yyjson_get_str(key);
		struct json_path p;
		int k;

		for (k = 0; k < BHC_HOOK_N && strcmp(name, bhc_hook_names[k]); k++)
			;
		json_at(&p, "$.hooks.", "%s", name);
		if (k == BHC_HOOK_N) {
			if (cfg)
				bhc_warn(cfg, p.s,
				         "not a hook kind of the runtime spec (prestart, "
				         "createRuntime, createContainer, startContainer, "
				         "poststart, poststop): its hooks are not run");
			continue;
		}
		if (h->list[k])
			return bh_error(err, 0, "%s: given twice", p.s);
		if (parse_kind(val, p.s, h, k, err) < 0)
			return -1;
	}
	h->json = v;
	return 0;
}

int bhc_parse_hooks(yyjson_val *v, const struct bhc_config *cfg, struct bhc_hooks *h,
                    struct bh_error *err)
{
	if (parse(v, cfg, h, err) < 0) {
		bhc_hooks_free(h);
		return -1;
	}
	return 0;
}

void bhc_hooks_free(struct bhc_hooks *h)
{
	for (int k = 0; k < BHC_HOOK_N; k++) {
		/* path is parsed first: a hook without one holds nothing. */
		for (size_t i = 0; h->list[k] && h->list[k][i].path; i++) {
			free(h->list[k][i].args);
			free(h->list[k][i].env);
		}
		free(h->list[k]);
	}
	yyjson_doc_free(h->doc);
	memset(h, 0, sizeof(*h));
}

bool bhc_hooks_any(const struct bhc_hooks *h)
{
	for (int k = 0; k < BHC_HOOK_N; k++)
		if (h->n[k])
			return true;
	return false;
}

int bhc_hooks_save(int dirfd, const struct bhc_hooks *h, struct bh_error *err)
{
	char *text;
	size_t len;
	int r;

	if (!bhc_hooks_any(h))
		return 0;
	text = yyjson_val_write(h->json, 0, &len);
	if (!text)
		return bh_error(err, ENOMEM, "save the hooks");
	r = bh_write_atomic_at(dirfd, "hooks.json", text, len, 0600, err);
	free(text);
	return r < 0 ? bh_error_wrap(err, "save the hooks") : 0;
}

/* Only bhc's own user may have written it: anyone else could make host
 * root run a program of their choice. */
static int check_owner(int fd, const char *path, bool dir, struct bh_error *err)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0)
		return bh_error(err, errno, "%s", path);
	if ((dir ? !S_ISDIR(sb.st_mode) : !S_ISREG(sb.st_mode)) || sb.st_uid != geteuid() ||
	    (sb.st_mode & 022))
		return bh_error(err, 0,
		                "%s: not a %s owned by uid %u and writable only by it (owner %u, "
		                "mode %04o): its hooks would run as host root, not run",
		                path, dir ? "folder" : "file", (unsigned)geteuid(),
		                (unsigned)sb.st_uid, (unsigned)(sb.st_mode & 07777));
	return 0;
}

int bhc_hooks_load(const char *root, const char *id, struct bhc_hooks *h, struct bh_error *err)
{
	char path[4200];
	yyjson_read_err jerr;
	int dirfd, fd;
	size_t len;
	char *text;

	memset(h, 0, sizeof(*h));
	if (bhc_id_check(id, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", root, id);
	dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return bh_error(err, errno, "open %s", path);
	if (check_owner(dirfd, path, true, err) < 0) {
		close(dirfd);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s/hooks.json", root, id);
	fd = openat(dirfd, "hooks.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	close(dirfd);
	if (fd < 0)
		return errno == ENOENT ? 0 : bh_error(err, errno, "open %s", path);
	if (check_owner(fd, path, false, err) < 0) {
		close(fd);
		return -1;
	}
	text = read_fd(fd, HOOKS_FILE_MAX, &len, err);
	close(fd);
	if (!text)
		return bh_error_wrap(err, "%s", path);
	h->doc = yyjson_read_opts(text, len, 0, NULL, &jerr);
	free(text);
	if (!h->doc)
		return bh_error(err, 0, "%s: %s", path, jerr.msg);
	if (bhc_parse_hooks(yyjson_doc_get_root(h->doc), NULL, h, err) < 0)
		return bh_error_wrap(err, "%s", path);
	return 0;
}
