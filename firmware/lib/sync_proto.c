/* The messages between bhd and bhsync as JSON (include/bulkhead/sync.h).
 * Reading is strict: a missing or mistyped field is an error that names
 * it, strings must fit their fields, unknown fields are refused. */
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

int sync_request_write(const struct sync_request *q, char **json, size_t *len,
		       struct bh_error *err)
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

struct reader {
	const char *what; /* "request" or "result" */
	struct bh_error *err;
};

static int get_str(struct reader *rd, yyjson_val *obj, const char *key, char *out, size_t size)
{
	yyjson_val *v = yyjson_obj_get(obj, key);

	if (!yyjson_is_str(v))
		return bh_error(rd->err, 0, "sync %s: \"%s\" is missing or not a string", rd->what,
				key);
	if (yyjson_get_len(v) >= size || strlen(yyjson_get_str(v)) != yyjson_get_len(v))
		return bh_error(rd->err, 0, "sync %s: \"%s\" is too long (at most %zu bytes)",
				rd->what, key, size - 1);
	memcpy(out, yyjson_get_str(v), yyjson_get_len(v) + 1);
	return 0;
}

static int get_uint(struct reader *rd, yyjson_val *obj, const char *key, uint64_t *out)
{
	yyjson_val *v = yyjson_obj_get(obj, key);

	if (!yyjson_is_uint(v))
		return bh_error(rd->err, 0, "sync %s: \"%s\" is missing or not a whole number",
				rd->what, key);
	*out = yyjson_get_uint(v);
	return 0;
}

static int get_int(struct reader *rd, yyjson_val *obj, const char *key, long *out)
{
	yyjson_val *v = yyjson_obj_get(obj, key);

	if (!yyjson_is_int(v))
		return bh_error(rd->err, 0, "sync %s: \"%s\" is missing or not a number", rd->what,
				key);
	*out = (long)yyjson_get_sint(v);
	return 0;
}

static int get_bool(struct reader *rd, yyjson_val *obj, const char *key, bool *out)
{
	yyjson_val *v = yyjson_obj_get(obj, key);

	if (!yyjson_is_bool(v))
		return bh_error(rd->err, 0, "sync %s: \"%s\" is missing or not true/false",
				rd->what, key);
	*out = yyjson_get_bool(v);
	return 0;
}

static int get_digests(struct reader *rd, yyjson_val *obj, const char *key,
		       char (*out)[REGISTRY_DIGEST_LEN + 1], size_t max, size_t *n)
{
	yyjson_val *a = yyjson_obj_get(obj, key), *v;
	size_t i, count;

	if (!yyjson_is_arr(a))
		return bh_error(rd->err, 0, "sync %s: \"%s\" is missing or not a list", rd->what,
				key);
	if (yyjson_arr_size(a) > max)
		return bh_error(rd->err, 0, "sync %s: \"%s\" has more than %zu entries", rd->what,
				key, max);
	yyjson_arr_foreach(a, i, count, v)
	{
		if (!yyjson_is_str(v) || !registry_digest_valid(yyjson_get_str(v)))
			return bh_error(rd->err, 0, "sync %s: \"%s\"[%zu] is not a sha256 digest",
					rd->what, key, i);
		snprintf(out[i], REGISTRY_DIGEST_LEN + 1, "%s", yyjson_get_str(v));
	}
	*n = count;
	return 0;
}

/* Refuses any key of obj not in the NULL-terminated list. */
static int only_keys(struct reader *rd, yyjson_val *obj, const char *where,
		     const char *const *keys)
{
	yyjson_obj_iter it;
	yyjson_val *k;

	yyjson_obj_iter_init(obj, &it);
	while ((k = yyjson_obj_iter_next(&it))) {
		const char *const *p = keys;

		while (*p && strcmp(*p, yyjson_get_str(k)))
			p++;
		if (!*p)
			return bh_error(rd->err, 0, "sync %s: unknown field \"%s%s\"", rd->what,
					where, yyjson_get_str(k));
	}
	return 0;
}

static yyjson_doc *parse(struct reader *rd, const char *json, size_t len)
{
	yyjson_read_err e;
	yyjson_doc *doc;

	if (len > SYNC_MESSAGE_MAX) {
		bh_error(rd->err, 0, "sync %s: %zu bytes, at most %d", rd->what, len,
			 SYNC_MESSAGE_MAX);
		return NULL;
	}
	doc = yyjson_read_opts((char *)json, len, 0, NULL, &e);
	if (!doc) {
		bh_error(rd->err, 0, "sync %s: not JSON: %s at byte %zu", rd->what, e.msg, e.pos);
		return NULL;
	}
	if (!yyjson_is_obj(yyjson_doc_get_root(doc))) {
		yyjson_doc_free(doc);
		bh_error(rd->err, 0, "sync %s: not a JSON object", rd->what);
		return NULL;
	}
	return doc;
}

int sync_request_read(const char *json, size_t len, struct sync_request *q, struct bh_error *err)
{
	static const char *const top[] = {"config",         "keys_dir",        "work_dir",
					  "settled",        "force",           "applied_serial",
					  "running_version", "update_allowed", "failed_updates",
					  "have",           NULL};
	static const char *const cfgkeys[] = {"registry",    "repository", "group",
					      "ca_file",     "client_cert", "client_key",
					      "client_key_pem",
					      "username",    "password",   "poll_interval",
					      NULL};
	struct reader rd = {"request", err};
	yyjson_doc *doc = parse(&rd, json, len);
	yyjson_val *root, *cfg;
	uint64_t interval;
	int rc = -1;

	if (!doc)
		return -1;
	memset(q, 0, sizeof(*q));
	root = yyjson_doc_get_root(doc);
	cfg = yyjson_obj_get(root, "config");
	if (!yyjson_is_obj(cfg)) {
		bh_error(err, 0, "sync request: \"config\" is missing or not an object");
		goto out;
	}
	if (only_keys(&rd, root, "", top) < 0 || only_keys(&rd, cfg, "config.", cfgkeys) < 0 ||
	    get_str(&rd, cfg, "registry", q->cfg.registry, sizeof(q->cfg.registry)) < 0 ||
	    get_str(&rd, cfg, "repository", q->cfg.repository, sizeof(q->cfg.repository)) < 0 ||
	    get_str(&rd, cfg, "group", q->cfg.group, sizeof(q->cfg.group)) < 0 ||
	    get_str(&rd, cfg, "ca_file", q->cfg.ca_file, sizeof(q->cfg.ca_file)) < 0 ||
	    get_str(&rd, cfg, "client_cert", q->cfg.client_cert, sizeof(q->cfg.client_cert)) < 0 ||
	    get_str(&rd, cfg, "client_key", q->cfg.client_key, sizeof(q->cfg.client_key)) < 0 ||
	    get_str(&rd, cfg, "client_key_pem", q->cfg.client_key_pem,
		    sizeof(q->cfg.client_key_pem)) < 0 ||
	    get_str(&rd, cfg, "username", q->cfg.username, sizeof(q->cfg.username)) < 0 ||
	    get_str(&rd, cfg, "password", q->cfg.password, sizeof(q->cfg.password)) < 0 ||
	    get_uint(&rd, cfg, "poll_interval", &interval) < 0 ||
	    get_str(&rd, root, "keys_dir", q->keys_dir, sizeof(q->keys_dir)) < 0 ||
	    get_str(&rd, root, "work_dir", q->work_dir, sizeof(q->work_dir)) < 0 ||
	    get_str(&rd, root, "settled", q->settled, sizeof(q->settled)) < 0 ||
	    get_bool(&rd, root, "force", &q->force) < 0 ||
	    get_uint(&rd, root, "applied_serial", &q->applied_serial) < 0 ||
	    get_str(&rd, root, "running_version", q->running_version,
		    sizeof(q->running_version)) < 0 ||
	    get_bool(&rd, root, "update_allowed", &q->update_allowed) < 0 ||
	    get_digests(&rd, root, "failed_updates", q->failed_updates, SYNC_FAILED_MAX,
			&q->n_failed) < 0 ||
	    get_digests(&rd, root, "have", q->have, SYNC_HAVE_MAX, &q->n_have) < 0)
		goto out;
	if (interval < STATE_POLL_MIN || interval > STATE_POLL_MAX) {
		bh_error(err, 0, "sync request: config.poll_interval %llu is not in %d..%d s",
			 (unsigned long long)interval, STATE_POLL_MIN, STATE_POLL_MAX);
		goto out;
	}
	q->cfg.poll_interval = (uint32_t)interval;
	if (q->settled[0] && !registry_digest_valid(q->settled)) {
		bh_error(err, 0, "sync request: \"settled\" is not a sha256 digest");
		goto out;
	}
	rc = 0;
out:
	yyjson_doc_free(doc);
	return rc;
}

static int get_file(struct reader *rd, yyjson_val *o, const char *where, struct sync_file *f)
{
	static const char *const keys[] = {"name", "layer", "path", NULL};

	if (!yyjson_is_obj(o))
		return bh_error(rd->err, 0, "sync result: %s is not an object", where);
	if (only_keys(rd, o, where, keys) < 0 || get_str(rd, o, "name", f->name, sizeof(f->name)) < 0 ||
	    get_str(rd, o, "layer", f->layer, sizeof(f->layer)) < 0 ||
	    get_str(rd, o, "path", f->path, sizeof(f->path)) < 0)
		return bh_error_wrap(rd->err, "%s", where);
	if (f->layer[0] && !registry_digest_valid(f->layer))
		return bh_error(rd->err, 0, "sync result: %s.layer is not a sha256 digest", where);
	return 0;
}

int sync_result_read(const char *json, size_t len, struct sync_result *r, struct bh_error *err)
{
	static const char *const top[] = {"outcome",     "state_digest", "serial", "poll_interval",
					  "workloads",   "update",       "note",
					  "requests",    "bytes_received", "refetched",
					  "error",       "fault",        "http_status",
					  "retry_after", "verdict",      NULL};
	struct reader rd = {"result", err};
	yyjson_doc *doc = parse(&rd, json, len);
	yyjson_val *root, *wl, *v;
	char outcome[16];
	uint64_t interval;
	long fault;
	size_t i, n;
	int rc = -1;

	if (!doc)
		return -1;
	memset(r, 0, sizeof(*r));
	root = yyjson_doc_get_root(doc);
	if (only_keys(&rd, root, "", top) < 0 ||
	    get_str(&rd, root, "outcome", outcome, sizeof(outcome)) < 0 ||
	    get_str(&rd, root, "state_digest", r->state_digest, sizeof(r->state_digest)) < 0 ||
	    get_uint(&rd, root, "serial", &r->serial) < 0 ||
	    get_uint(&rd, root, "poll_interval", &interval) < 0 ||
	    get_file(&rd, yyjson_obj_get(root, "update"), "update", &r->update) < 0 ||
	    get_str(&rd, root, "note", r->note, sizeof(r->note)) < 0 ||
	    get_uint(&rd, root, "requests", &r->requests) < 0 ||
	    get_uint(&rd, root, "bytes_received", &r->bytes_received) < 0 ||
	    get_uint(&rd, root, "refetched", &r->refetched) < 0 ||
	    get_str(&rd, root, "error", r->error, sizeof(r->error)) < 0 ||
	    get_int(&rd, root, "fault", &fault) < 0 ||
	    get_int(&rd, root, "http_status", &r->http_status) < 0 ||
	    get_int(&rd, root, "retry_after", &r->retry_after_s) < 0 ||
	    get_str(&rd, root, "verdict", r->verdict, sizeof(r->verdict)) < 0)
		goto out;
	for (n = 0; n < 3 && strcmp(outcome, outcome_names[n]); n++)
		;
	if (n == 3) {
		bh_error(err, 0, "sync result: unknown outcome \"%s\"", outcome);
		goto out;
	}
	r->outcome = (enum sync_outcome)n;
	if (interval > STATE_POLL_MAX) {
		bh_error(err, 0, "sync result: poll_interval %llu is over %d s",
			 (unsigned long long)interval, STATE_POLL_MAX);
		goto out;
	}
	r->poll_interval = (uint32_t)interval;
	if (fault < 0 || fault > REGISTRY_LOCAL) {
		bh_error(err, 0, "sync result: unknown fault %ld", fault);
		goto out;
	}
	r->fault = (enum registry_fault)fault;
	if (r->state_digest[0] && !registry_digest_valid(r->state_digest)) {
		bh_error(err, 0, "sync result: \"state_digest\" is not a sha256 digest");
		goto out;
	}
	wl = yyjson_obj_get(root, "workloads");
	if (!yyjson_is_arr(wl) || yyjson_arr_size(wl) > STATE_MAX_WORKLOADS) {
		bh_error(err, 0, "sync result: \"workloads\" is not a list of at most %d",
			 STATE_MAX_WORKLOADS);
		goto out;
	}
	yyjson_arr_foreach(wl, i, n, v)
	{
		char where[32];

		snprintf(where, sizeof(where), "workloads[%zu]", i);
		if (get_file(&rd, v, where, &r->workloads[i]) < 0)
			goto out;
	}
	r->n_workloads = n;
	rc = 0;
out:
	yyjson_doc_free(doc);
	return rc;
}
