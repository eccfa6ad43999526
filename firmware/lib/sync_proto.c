/* The messages between bhd and bhsync as JSON (include/bulkhead/sync.h).
 * Reading is strict (include/bulkhead/json.h): a missing or mistyped field
 * is an error that names its JSON path, strings must fit their fields,
 * unknown fields are refused. */
#include <bulkhead/json.h>
#include <bulkhead/sync.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yyjson.h>

static const char *const outcome_names[] = {"unchanged", "ready", "failed"};

/* Writing ---------------------------------------------------------------- */

static int finish(yyjson_mut_doc *doc, yyjson_mut_val *root, char **json, size_t *len,
                  struct bh_error *err)
{
	yyjson_mut_doc_set_root(doc, root);
	*json = yyjson_mut_write(doc, 0, len);
	yyjson_mut_doc_free(doc);
	return *json ? 0 : bh_error(err, 0, "sync: out of memory writing a message");
}

static yyjson_mut_val *strarr(yyjson_mut_doc *doc, const char (*v)[REGISTRY_DIGEST_LEN + 1],
                              size_t n)
{
	yyjson_mut_val *a = yyjson_mut_arr(doc);

	for (size_t i = 0; i < n; i++)
		yyjson_mut_arr_add_strcpy(doc, a, v[i]);
	return a;
}

int sync_request_write(const struct sync_request *q, char **json, size_t *len, struct bh_error *err)
{
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *root, *cfg;

	if (!doc)
		return bh_error(err, 0, "sync: out of memory writing a request");
	root = yyjson_mut_obj(doc);
	cfg = yyjson_mut_obj(doc);
	yyjson_mut_obj_add_strcpy(doc, cfg, "registry", q->cfg.registry);
	yyjson_mut_obj_add_strcpy(doc, cfg, "repository", q->cfg.repository);
	yyjson_mut_obj_add_strcpy(doc, cfg, "group", q->cfg.group);
	yyjson_mut_obj_add_strcpy(doc, cfg, "ca_file", q->cfg.ca_file);
	yyjson_mut_obj_add_strcpy(doc, cfg, "client_cert", q->cfg.client_cert);
	yyjson_mut_obj_add_strcpy(doc, cfg, "client_key", q->cfg.client_key);
	yyjson_mut_obj_add_strcpy(doc, cfg, "client_key_pem", q->cfg.client_key_pem);
	yyjson_mut_obj_add_strcpy(doc, cfg, "username", q->cfg.username);
	yyjson_mut_obj_add_strcpy(doc, cfg, "password", q->cfg.password);
	yyjson_mut_obj_add_uint(doc, cfg, "poll_interval", q->cfg.poll_interval);
	yyjson_mut_obj_add_val(doc, root, "config", cfg);
	yyjson_mut_obj_add_strcpy(doc, root, "keys_dir", q->keys_dir);
	yyjson_mut_obj_add_strcpy(doc, root, "work_dir", q->work_dir);
	yyjson_mut_obj_add_strcpy(doc, root, "settled", q->settled);
	yyjson_mut_obj_add_bool(doc, root, "force", q->force);
	yyjson_mut_obj_add_uint(doc, root, "applied_serial", q->applied_serial);
	yyjson_mut_obj_add_strcpy(doc, root, "running_version", q->running_version);
	yyjson_mut_obj_add_bool(doc, root, "update_allowed", q->update_allowed);
	yyjson_mut_obj_add_val(doc, root, "failed_updates",
	                       strarr(doc, q->failed_updates, q->n_failed));
	yyjson_mut_obj_add_val(doc, root, "have", strarr(doc, q->have, q->n_have));
	return finish(doc, root, json, len, err);
}

static yyjson_mut_val *file_obj(yyjson_mut_doc *doc, const struct sync_file *f)
{
	yyjson_mut_val *o = yyjson_mut_obj(doc);

	yyjson_mut_obj_add_strcpy(doc, o, "name", f->name);
	yyjson_mut_obj_add_strcpy(doc, o, "layer", f->layer);
	yyjson_mut_obj_add_strcpy(doc, o, "path", f->path);
	return o;
}

int sync_result_write(const struct sync_result *r, char **json, size_t *len, struct bh_error *err)
{
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *root, *wl;

	if (!doc)
		return bh_error(err, 0, "sync: out of memory writing a result");
	root = yyjson_mut_obj(doc);
	yyjson_mut_obj_add_str(doc, root, "outcome", outcome_names[r->outcome]);
	yyjson_mut_obj_add_strcpy(doc, root, "state_digest", r->state_digest);
	yyjson_mut_obj_add_uint(doc, root, "serial", r->serial);
	yyjson_mut_obj_add_uint(doc, root, "poll_interval", r->poll_interval);
	wl = yyjson_mut_arr(doc);
	for (size_t i = 0; i < r->n_workloads; i++)
		yyjson_mut_arr_append(wl, file_obj(doc, &r->workloads[i]));
	yyjson_mut_obj_add_val(doc, root, "workloads", wl);
	yyjson_mut_obj_add_val(doc, root, "update", file_obj(doc, &r->update));
	yyjson_mut_obj_add_strcpy(doc, root, "note", r->note);
	yyjson_mut_obj_add_uint(doc, root, "requests", r->requests);
	yyjson_mut_obj_add_uint(doc, root, "bytes_received", r->bytes_received);
	yyjson_mut_obj_add_uint(doc, root, "refetched", r->refetched);
	yyjson_mut_obj_add_strcpy(doc, root, "error", r->error);
	yyjson_mut_obj_add_int(doc, root, "fault", r->fault);
	yyjson_mut_obj_add_int(doc, root, "http_status", r->http_status);
	yyjson_mut_obj_add_int(doc, root, "retry_after", r->retry_after_s);
	yyjson_mut_obj_add_strcpy(doc, root, "verdict", r->verdict);
	return finish(doc, root, json, len, err);
}

/* Reading ---------------------------------------------------------------- */

static int get_digests(yyjson_val *obj, const char *path, const char *key,
                       char (*out)[REGISTRY_DIGEST_LEN + 1], size_t max, size_t *n,
                       struct bh_error *err)
{
	yyjson_val *a = yyjson_obj_get(obj, key), *v;
	struct json_path at, item;
	size_t i, count;

	json_at(&at, path, ".%s", key);
	if (json_array_max(a, at.s, max, err) < 0)
		return -1;
	yyjson_arr_foreach(a, i, count, v)
	{
		json_at(&item, at.s, "[%zu]", i);
		if (json_string_copy(v, item.s, out[i], REGISTRY_DIGEST_LEN + 1, err) < 0)
			return -1;
		if (!registry_digest_valid(out[i]))
			return bh_error(err, 0, "%s: not a sha256 digest", item.s);
	}
	*n = count;
	return 0;
}

static int get_digest(yyjson_val *obj, const char *path, const char *key, char *out,
                      struct bh_error *err)
{
	struct json_path at;

	json_at(&at, path, ".%s", key);
	if (json_string_copy(yyjson_obj_get(obj, key), at.s, out, REGISTRY_DIGEST_LEN + 1, err) < 0)
		return -1;
	if (out[0] && !registry_digest_valid(out))
		return bh_error(err, 0, "%s: not a sha256 digest", at.s);
	return 0;
}

static yyjson_doc *parse(const char *what, const char *json, size_t len, struct bh_error *err)
{
	yyjson_read_err e;
	yyjson_doc *doc;

	if (len > SYNC_MESSAGE_MAX) {
		bh_error(err, 0, "sync %s: %zu bytes, at most %d", what, len, SYNC_MESSAGE_MAX);
		return NULL;
	}
	doc = yyjson_read_opts((char *)json, len, 0, NULL, &e);
	if (!doc) {
		bh_error(err, 0, "sync %s: not JSON: %s at byte %zu", what, e.msg, e.pos);
		return NULL;
	}
	if (json_object(yyjson_doc_get_root(doc), "$", err) < 0) {
		yyjson_doc_free(doc);
		bh_error_wrap(err, "sync %s", what);
		return NULL;
	}
	return doc;
}

#define STR(obj, path, key, dst)                                                                   \
	json_string_copy(yyjson_obj_get(obj, key), path "." key, dst, sizeof(dst), err)

int sync_request_read(const char *json, size_t len, struct sync_request *q, struct bh_error *err)
{
	static const char *const top[] = {"config",
	                                  "keys_dir",
	                                  "work_dir",
	                                  "settled",
	                                  "force",
	                                  "applied_serial",
	                                  "running_version",
	                                  "update_allowed",
	                                  "failed_updates",
	                                  "have",
	                                  NULL};
	static const char *const cfgkeys[] = {"registry",       "repository",  "group",
	                                      "ca_file",        "client_cert", "client_key",
	                                      "client_key_pem", "username",    "password",
	                                      "poll_interval",  NULL};
	yyjson_doc *doc = parse("request", json, len, err);
	yyjson_val *root, *cfg;
	uint64_t interval;
	int rc = -1;

	if (!doc)
		return -1;
	memset(q, 0, sizeof(*q));
	root = yyjson_doc_get_root(doc);
	cfg = yyjson_obj_get(root, "config");
	if (json_known_keys(root, "$", top, err) < 0 || json_object(cfg, "$.config", err) < 0 ||
	    json_known_keys(cfg, "$.config", cfgkeys, err) < 0 ||
	    STR(cfg, "$.config", "registry", q->cfg.registry) < 0 ||
	    STR(cfg, "$.config", "repository", q->cfg.repository) < 0 ||
	    STR(cfg, "$.config", "group", q->cfg.group) < 0 ||
	    STR(cfg, "$.config", "ca_file", q->cfg.ca_file) < 0 ||
	    STR(cfg, "$.config", "client_cert", q->cfg.client_cert) < 0 ||
	    STR(cfg, "$.config", "client_key", q->cfg.client_key) < 0 ||
	    STR(cfg, "$.config", "client_key_pem", q->cfg.client_key_pem) < 0 ||
	    STR(cfg, "$.config", "username", q->cfg.username) < 0 ||
	    STR(cfg, "$.config", "password", q->cfg.password) < 0 ||
	    json_u64_range(yyjson_obj_get(cfg, "poll_interval"), "$.config.poll_interval",
	                   STATE_POLL_MIN, STATE_POLL_MAX, &interval, err) < 0 ||
	    STR(root, "$", "keys_dir", q->keys_dir) < 0 ||
	    STR(root, "$", "work_dir", q->work_dir) < 0 ||
	    get_digest(root, "$", "settled", q->settled, err) < 0 ||
	    json_bool(yyjson_obj_get(root, "force"), "$.force", &q->force, err) < 0 ||
	    json_u64(yyjson_obj_get(root, "applied_serial"), "$.applied_serial", &q->applied_serial,
	             err) < 0 ||
	    STR(root, "$", "running_version", q->running_version) < 0 ||
	    json_bool(yyjson_obj_get(root, "update_allowed"), "$.update_allowed",
	              &q->update_allowed, err) < 0 ||
	    get_digests(root, "$", "failed_updates", q->failed_updates, SYNC_FAILED_MAX,
	                &q->n_failed, err) < 0 ||
	    get_digests(root, "$", "have", q->have, SYNC_HAVE_MAX, &q->n_have, err) < 0)
		goto out;
	q->cfg.poll_interval = (uint32_t)interval;
	rc = 0;
out:
	yyjson_doc_free(doc);
	return rc < 0 ? bh_error_wrap(err, "sync request") : 0;
}

static int get_file(yyjson_val *o, const char *path, struct sync_file *f, struct bh_error *err)
{
	static const char *const keys[] = {"name", "layer", "path", NULL};
	struct json_path at;

	if (json_object(o, path, err) < 0 || json_known_keys(o, path, keys, err) < 0 ||
	    json_string_copy(yyjson_obj_get(o, "name"), json_at(&at, path, ".name"), f->name,
	                     sizeof(f->name), err) < 0 ||
	    get_digest(o, path, "layer", f->layer, err) < 0 ||
	    json_string_copy(yyjson_obj_get(o, "path"), json_at(&at, path, ".path"), f->path,
	                     sizeof(f->path), err) < 0)
		return -1;
	return 0;
}

int sync_result_read(const char *json, size_t len, struct sync_result *r, struct bh_error *err)
{
	static const char *const top[] = {
	    "outcome",        "state_digest", "serial",  "poll_interval",
	    "workloads",      "update",       "note",    "requests",
	    "bytes_received", "refetched",    "error",   "fault",
	    "http_status",    "retry_after",  "verdict", NULL};
	yyjson_doc *doc = parse("result", json, len, err);
	yyjson_val *root, *wl, *v;
	uint64_t interval, fault;
	struct json_path at;
	char outcome[16];
	int64_t n64;
	size_t i, n;
	int rc = -1;

	if (!doc)
		return -1;
	memset(r, 0, sizeof(*r));
	root = yyjson_doc_get_root(doc);
	wl = yyjson_obj_get(root, "workloads");
	if (json_known_keys(root, "$", top, err) < 0 || STR(root, "$", "outcome", outcome) < 0 ||
	    get_digest(root, "$", "state_digest", r->state_digest, err) < 0 ||
	    json_u64(yyjson_obj_get(root, "serial"), "$.serial", &r->serial, err) < 0 ||
	    json_u64_range(yyjson_obj_get(root, "poll_interval"), "$.poll_interval", 0,
	                   STATE_POLL_MAX, &interval, err) < 0 ||
	    get_file(yyjson_obj_get(root, "update"), "$.update", &r->update, err) < 0 ||
	    STR(root, "$", "note", r->note) < 0 ||
	    json_u64(yyjson_obj_get(root, "requests"), "$.requests", &r->requests, err) < 0 ||
	    json_u64(yyjson_obj_get(root, "bytes_received"), "$.bytes_received", &r->bytes_received,
	             err) < 0 ||
	    json_u64(yyjson_obj_get(root, "refetched"), "$.refetched", &r->refetched, err) < 0 ||
	    STR(root, "$", "error", r->error) < 0 ||
	    json_u64_range(yyjson_obj_get(root, "fault"), "$.fault", 0, REGISTRY_LOCAL, &fault,
	                   err) < 0 ||
	    json_i64(yyjson_obj_get(root, "http_status"), "$.http_status", &n64, err) < 0)
		goto out;
	r->http_status = (long)n64;
	if (json_i64(yyjson_obj_get(root, "retry_after"), "$.retry_after", &n64, err) < 0 ||
	    STR(root, "$", "verdict", r->verdict) < 0 ||
	    json_array_max(wl, "$.workloads", STATE_MAX_WORKLOADS, err) < 0)
		goto out;
	r->retry_after_s = (long)n64;
	r->poll_interval = (uint32_t)interval;
	r->fault = (enum registry_fault)fault;
	for (n = 0; n < 3 && strcmp(outcome, outcome_names[n]); n++)
		;
	if (n == 3) {
		bh_error(err, 0, "$.outcome: unknown outcome \"%s\"", outcome);
		goto out;
	}
	r->outcome = (enum sync_outcome)n;
	yyjson_arr_foreach(wl, i, n, v)
	{
		if (get_file(v, json_at(&at, "$.workloads", "[%zu]", i), &r->workloads[i], err) < 0)
			goto out;
	}
	r->n_workloads = n;
	rc = 0;
out:
	yyjson_doc_free(doc);
	return rc < 0 ? bh_error_wrap(err, "sync result") : 0;
}
