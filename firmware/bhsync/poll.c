/* One poll of the group's desired state (docs/fleet.md, "How a device
 * syncs"): the conditional HEAD, then, when the tag moved, the state, its
 * signature and fields, and the files it needs that the device lacks.
 *
 * Everything written goes into the work folder, which belongs to this
 * program's user alone: the state envelope (state.dsse), the artifact
 * manifests by digest (manifests/, immutable, so a state naming the same
 * bundles again costs no request), and the bundle and update files
 * (blobs/sha256-<hex>, complete and checked, or .part while resuming),
 * and what the next poll, a new process, starts from: the auth scheme
 * (auth) and the TLS sessions to resume (tls-sessions), both 0600. */
#include "bhsync.h"

#include <bulkhead/artifact.h>
#include <bulkhead/fs.h>
#include <bulkhead/registry_tls_sessions.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLOB_RESUMES       5
#define REG_AUTH_SAVED_MAX 9000 /* "bearer " and a token of registries' sizes */

static void digest_of(const void *data, size_t len, char out[REGISTRY_DIGEST_LEN + 1])
{
	unsigned char sum[32];

	mbedtls_sha256(data, len, sum, 0);
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", sum[i]);
}

static void path_in(const struct sync_request *q, const char *sub, const char *digest, char *out,
                    size_t size)
{
	snprintf(out, size, "%s/%s/sha256-%s", q->work_dir, sub, digest + 7);
}

/* A manifest cached by digest: read back and hashed, so a damaged copy is
 * fetched again rather than believed. */
static char *cached_manifest(const char *path, const char *digest, size_t *len)
{
	char got[REGISTRY_DIGEST_LEN + 1], *buf;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > REGISTRY_MANIFEST_MAX ||
	    !(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return NULL;
	}
	if (read(fd, buf, (size_t)st.st_size) != st.st_size) {
		free(buf);
		close(fd);
		return NULL;
	}
	close(fd);
	buf[st.st_size] = 0;
	*len = (size_t)st.st_size;
	digest_of(buf, *len, got);
	if (strcmp(got, digest)) {
		free(buf);
		unlink(path);
		return NULL;
	}
	return buf;
}

/* The artifact behind a manifest digest, of the type the state says. */
static int resolve(struct registry *r, const struct sync_request *q, const char *digest,
                   const char *type, struct artifact *a, struct bh_error *err)
{
	char path[SYNC_PATH_MAX], mtype[REGISTRY_MEDIA_TYPE_MAX], got[REGISTRY_DIGEST_LEN + 1];
	size_t len = 0;
	char *body;
	int rc;

	path_in(q, "manifests", digest, path, sizeof(path));
	body = cached_manifest(path, digest, &len);
	if (!body) {
		if (registry_get_manifest(r, q->cfg.repository, digest, &body, &len, mtype, got,
		                          err) < 0)
			return -1;
		if (bh_write_atomic(path, body, len, 0644, err) < 0) {
			free(body);
			return -1;
		}
	}
	rc = artifact_manifest_parse(body, len, digest, type, a, err);
	free(body);
	return rc;
}

/* Downloads a file unless it is complete already. */
static int fetch(struct registry *r, const struct sync_request *q, const struct artifact *a,
                 char *path, size_t size, struct sync_result *res, struct bh_error *err)
{
	struct registry_fetch f = {0};
	struct stat st;

	path_in(q, "blobs", a->layer_digest, path, size);
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == a->layer_size)
		return 0;
	if (registry_get_blob(r, q->cfg.repository, a->layer_digest, a->layer_size, path,
	                      BLOB_RESUMES, &f, err) < 0)
		return -1;
	res->refetched += f.refetched;
	if (f.resumed_from || f.resumes)
		fprintf(stderr,
		        "bhsync: %s: resumed at byte %" PRIu64 " (%u Range requests, %" PRIu64
		        " bytes fetched again)\n",
		        a->layer_digest, f.resumed_from, f.resumes, f.refetched);
	return 0;
}

static bool have(const struct sync_request *q, const char *layer)
{
	for (size_t i = 0; i < q->n_have; i++)
		if (!strcmp(q->have[i], layer))
			return true;
	return false;
}

static bool failed_before(const struct sync_request *q, const char *digest)
{
	for (size_t i = 0; i < q->n_failed; i++)
		if (!strcmp(q->failed_updates[i], digest))
			return true;
	return false;
}

/* Blobs and manifests no longer needed by this result go: the device has
 * installed them, or the state moved on. */
static void prune(const struct sync_request *q, const struct sync_result *res)
{
	char dir[SYNC_PATH_MAX];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/blobs", q->work_dir);
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		bool keep = e->d_name[0] == '.';

		for (size_t i = 0; !keep && i < res->n_workloads; i++)
			keep = res->workloads[i].path[0] &&
			       !strncmp(e->d_name + 7, res->workloads[i].layer + 7, 64);
		if (!keep && res->update.path[0])
			keep = !strncmp(e->d_name + 7, res->update.layer + 7, 64);
		if (!keep && strlen(e->d_name) >= 71)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	if (d)
		closedir(d);
}

static int make_dirs(const struct sync_request *q, struct bh_error *err)
{
	const char *subs[] = {"", "/manifests", "/blobs"};

	for (size_t i = 0; i < 3; i++) {
		char path[SYNC_PATH_MAX];

		snprintf(path, sizeof(path), "%s%s", q->work_dir, subs[i]);
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return bh_error(err, errno, "mkdir %s", path);
	}
	return 0;
}

/* The state: manifest, envelope, signature, fields, freshness. */
static int read_state(struct registry *r, const struct sync_request *q, const char *digest,
                      struct state *s, struct sync_result *res, struct bh_error *err)
{
	struct state_check chk = {q->keys_dir, q->cfg.group, q->applied_serial,
	                          (int64_t)time(NULL)};
	char path[SYNC_PATH_MAX], *env = NULL;
	enum state_verdict v = STATE_MALFORMED;
	struct artifact a;
	size_t len = 0;
	int rc;

	if (resolve(r, q, digest, ARTIFACT_STATE, &a, err) < 0)
		return -1;
	if (a.layer_size > STATE_MAX_BYTES)
		return bh_error(err, 0, "%s: the state is %" PRIu64 " bytes, at most %d", digest,
		                a.layer_size, STATE_MAX_BYTES);
	if (registry_get_blob_mem(r, q->cfg.repository, a.layer_digest, STATE_MAX_BYTES, &env, &len,
	                          err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", q->work_dir, SYNC_STATE_FILE);
	rc = bh_write_atomic(path, env, len, 0644, err);
	if (rc == 0 && (rc = state_read(env, len, digest, &chk, s, &v, err)) < 0)
		snprintf(res->verdict, sizeof(res->verdict), "%s", state_verdict_name(v));
	free(env);
	return rc;
}

/* The auth the last poll settled on (work folder, 0600): without it each
 * poll, a process of its own, would begin with a 401. */
static void auth_load(struct registry *r, const struct sync_request *q)
{
	char path[SYNC_PATH_MAX], saved[REG_AUTH_SAVED_MAX] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/auth", q->work_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	n = read(fd, saved, sizeof(saved) - 1);
	close(fd);
	saved[n > 0 ? n : 0] = 0;
	if (registry_auth_import(r, saved) < 0)
		unlink(path);
}

static void auth_save(struct registry *r, const struct sync_request *q)
{
	char path[SYNC_PATH_MAX], saved[REG_AUTH_SAVED_MAX];
	struct bh_error err;

	if (registry_auth_export(r, saved, sizeof(saved)) < 0 || !saved[0])
		return;
	snprintf(path, sizeof(path), "%s/auth", q->work_dir);
	if (bh_write_atomic(path, saved, strlen(saved), 0600, &err) < 0)
		fprintf(stderr, "bhsync: %s (the next poll begins with a 401)\n", err.msg);
	memset(saved, 0, sizeof(saved));
}

/* The TLS sessions the last poll was given (work folder, 0600): without
 * them each poll would pay a full handshake, the certificate chain most
 * of its bytes. The file is untrusted: one that cannot be used is said
 * once (it is removed) and the poll makes a full handshake. */
static void sessions_load(struct registry_tls_sessions *ts, const struct sync_request *q)
{
	char path[SYNC_PATH_MAX];
	struct bh_error err;

	if (!ts)
		return;
	snprintf(path, sizeof(path), "%s/tls-sessions", q->work_dir);
	if (registry_tls_sessions_load(ts, path, &err) < 0) {
		fprintf(stderr, "bhsync: %s (not used: a full TLS handshake)\n", err.msg);
		unlink(path);
	}
}

static void sessions_save(struct registry_tls_sessions *ts, const struct sync_request *q)
{
	char path[SYNC_PATH_MAX];
	struct bh_error err;

	if (!ts)
		return;
	snprintf(path, sizeof(path), "%s/tls-sessions", q->work_dir);
	if (registry_tls_sessions_save(ts, path, &err) < 0)
		fprintf(stderr, "bhsync: %s (the next poll makes a full TLS handshake)\n", err.msg);
}

static int poll_registry(struct registry *r, struct registry_tls_sessions *ts,
                         const struct sync_request *q, struct sync_result *res, struct state *s,
                         struct bh_error *err)
{
	char tag[REGISTRY_TAG_MAX + 1], digest[REGISTRY_DIGEST_LEN + 1];
	struct artifact a;

	if (make_dirs(q, err) < 0)
		return -1;
	auth_load(r, q);
	sessions_load(ts, q);
	snprintf(tag, sizeof(tag), "group-%s", q->cfg.group);
	if (registry_head_manifest(r, q->cfg.repository, tag, digest, err) < 0)
		return bh_error_wrap(err, "poll %s/%s:%s", q->cfg.registry, q->cfg.repository, tag);
	if (!q->force && !strcmp(digest, q->settled)) {
		res->outcome = SYNC_UNCHANGED;
		snprintf(res->state_digest, sizeof(res->state_digest), "%s", digest);
		return 0;
	}
	if (read_state(r, q, digest, s, res, err) < 0)
		return -1;
	snprintf(res->state_digest, sizeof(res->state_digest), "%s", digest);
	res->serial = s->serial;
	res->poll_interval = s->poll_interval;
	for (size_t i = 0; i < s->n_workloads; i++) {
		struct sync_file *f = &res->workloads[i];

		snprintf(f->name, sizeof(f->name), "%s", s->workloads[i].name);
		if (resolve(r, q, s->workloads[i].bundle, ARTIFACT_BUNDLE, &a, err) < 0)
			return bh_error_wrap(err, "workload %s", f->name);
		snprintf(f->layer, sizeof(f->layer), "%s", a.layer_digest);
		if (!have(q, a.layer_digest) &&
		    fetch(r, q, &a, f->path, sizeof(f->path), res, err) < 0)
			return bh_error_wrap(err, "workload %s", f->name);
	}
	res->n_workloads = s->n_workloads;
	if (s->has_firmware && strcmp(s->firmware_version, q->running_version)) {
		if (failed_before(q, s->firmware_update))
			snprintf(res->note, sizeof(res->note),
			         "update %s (%s) rolled back before: not fetched again",
			         s->firmware_version, s->firmware_update);
		else if (!q->update_allowed)
			snprintf(res->note, sizeof(res->note),
			         "update %s waits until the running boot is confirmed",
			         s->firmware_version);
		else if (resolve(r, q, s->firmware_update, ARTIFACT_UPDATE, &a, err) < 0 ||
		         fetch(r, q, &a, res->update.path, sizeof(res->update.path), res, err) < 0)
			return bh_error_wrap(err, "update %s", s->firmware_version);
		else
			snprintf(res->update.layer, sizeof(res->update.layer), "%s",
			         a.layer_digest);
	}
	res->outcome = SYNC_READY;
	prune(q, res);
	return 0;
}

int sync_poll(const struct sync_request *q, struct sync_result *res)
{
	struct registry_opts opts = {
	    .ca_file = q->cfg.ca_file[0] ? q->cfg.ca_file : NULL,
	    .client_cert = q->cfg.client_cert[0] ? q->cfg.client_cert : NULL,
	    .client_key = q->cfg.client_key[0] ? q->cfg.client_key : NULL,
	    .client_key_pem = q->cfg.client_key_pem[0] ? q->cfg.client_key_pem : NULL,
	    .username = q->cfg.username[0] ? q->cfg.username : NULL,
	    .password = q->cfg.password[0] ? q->cfg.password : NULL,
	};
	struct state *s = calloc(1, sizeof(*s));
	struct registry *r = NULL;
	struct bh_error err = {0};
	int rc = -1;

	memset(res, 0, sizeof(*res));
	res->retry_after_s = -1;
	if (!s) {
		bh_error(&err, ENOMEM, "bhsync");
	} else if (registry_open(&r, q->cfg.registry, &opts, &err) == 0) {
		struct registry_tls_sessions *ts = NULL;
		struct bh_error terr;

		if (registry_tls_sessions_attach(r, &ts, &terr) < 0)
			fprintf(stderr, "bhsync: %s (a full TLS handshake)\n", terr.msg);
		rc = poll_registry(r, ts, q, res, s, &err);
		auth_save(r, q);
		sessions_save(ts, q);
		registry_tls_sessions_detach(ts);
		if (rc < 0) {
			const struct registry_result *last = registry_last(r);

			res->fault = last->fault;
			res->http_status = last->http_status;
			res->retry_after_s = last->retry_after_s;
		}
		res->requests = registry_stats(r)->requests;
		res->bytes_received = registry_stats(r)->bytes_received;
		registry_close(r);
	}
	if (rc < 0) {
		res->outcome = SYNC_FAILED;
		snprintf(res->error, sizeof(res->error), "%s", err.msg);
	}
	free(s);
	return rc;
}
