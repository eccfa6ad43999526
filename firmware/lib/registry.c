/* The registry client's core: a client with its TLS settings, a request
 * with auth and redirects (reg_request), and the small reads (HEAD of a
 * manifest, GET of a manifest or a small blob). One HTTP exchange is in
 * registry_http.c, blob downloads in registry_blob.c, the auth flow in
 * registry_auth.c. */
#include "registry_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MANIFEST_ACCEPT                                                                            \
	"application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "    \
	"application/vnd.docker.distribution.manifest.v2+json"
#define MAX_REDIRECTS 5

static int global_ready;

static char *dup_opt(const char *s)
{
	return s ? strdup(s) : NULL;
}

int registry_open(struct registry **out, const char *host, const struct registry_opts *o,
                  struct bh_error *err)
{
	struct registry *r;
	const char *ca = o && o->ca_file ? o->ca_file : REGISTRY_SYSTEM_CA;

	*out = NULL;
	if (!global_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return bh_error(err, 0, "initialise libcurl");
		global_ready = 1;
	}
	if (access(ca, R_OK) < 0)
		return bh_error(err, errno, "registry %s: CA bundle %s", host, ca);
	if (o && (!o->client_cert != !(o->client_key || o->client_key_pem)))
		return bh_error(err, 0,
		                "registry %s: a client certificate needs its key and the "
		                "other way round",
		                host);
	if (o && (!o->username != !o->password))
		return bh_error(err, 0,
		                "registry %s: a user name needs a password and the other "
		                "way round",
		                host);
	r = calloc(1, sizeof(*r));
	if (!r)
		return bh_error(err, ENOMEM, "registry %s", host);
	snprintf(r->host, sizeof(r->host), "%s", host);
	snprintf(r->origin, sizeof(r->origin), "https://%s", host);
	r->ca_file = strdup(ca);
	if (o) {
		r->client_cert = dup_opt(o->client_cert);
		r->client_key = dup_opt(o->client_key);
		r->client_key_pem = dup_opt(o->client_key_pem);
		r->username = dup_opt(o->username);
		r->password = dup_opt(o->password);
	}
	r->connect_timeout_s = o && o->connect_timeout_s ? o->connect_timeout_s : 30;
	r->request_timeout_s = o && o->request_timeout_s ? o->request_timeout_s : 120;
	r->low_speed_bytes = o && o->low_speed_bytes ? o->low_speed_bytes : 1024;
	r->low_speed_time_s = o && o->low_speed_time_s ? o->low_speed_time_s : 30;
	r->last.retry_after_s = -1;
	r->curl = curl_easy_init();
	if (!r->curl || !r->ca_file) {
		registry_close(r);
		return bh_error(err, ENOMEM, "registry %s: create a libcurl handle", host);
	}
	*out = r;
	return 0;
}

static void free_secret(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

void registry_close(struct registry *r)
{
	if (!r)
		return;
	if (r->curl)
		curl_easy_cleanup(r->curl);
	free(r->ca_file);
	free(r->client_cert);
	free(r->client_key);
	free_secret(r->client_key_pem);
	free(r->username);
	free_secret(r->password);
	free_secret(r->token);
	free(r);
}

const struct registry_result *registry_last(const struct registry *r)
{
	return &r->last;
}

const struct registry_stats *registry_stats(const struct registry *r)
{
	return &r->stats;
}

void registry_stats_reset(struct registry *r)
{
	memset(&r->stats, 0, sizeof(r->stats));
}

static int is_redirect(long s)
{
	return s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
}

int reg_request(struct registry *r, struct reg_req *req, struct reg_resp *resp,
                struct bh_error *err)
{
	char url[REG_URL_MAX], auth[REG_TOKEN_MAX + 64];
	int auth_tries = 0, hops = 0;

	snprintf(url, sizeof(url), "%s", req->url);
	for (;;) {
		const char *ah = NULL;
		int mine = reg_same_origin(r, url);

		if (mine && r->auth == REG_AUTH_BASIC) {
			if (reg_basic_header(r, auth, sizeof(auth)) < 0) {
				reg_fail(r, REGISTRY_LOCAL);
				return bh_error(err, 0,
				                "registry %s: user name and password too long",
				                r->host);
			}
			ah = auth;
		} else if (mine && r->auth == REG_AUTH_BEARER && r->token) {
			if (snprintf(auth, sizeof(auth), "Authorization: Bearer %s", r->token) >=
			    (int)sizeof(auth)) {
				reg_fail(r, REGISTRY_PROTOCOL);
				return bh_error(err, 0, "registry %s: the token is too long",
				                r->host);
			}
			ah = auth;
		}
		if (reg_exchange(r, req, url, ah, resp, err) < 0) {
			memset(auth, 0, sizeof(auth));
			return -1;
		}
		memset(auth, 0, sizeof(auth));
		if (resp->status == 401 && mine && resp->www_auth[0] && auth_tries < 2) {
			auth_tries++;
			if (reg_auth_challenge(r, url, resp->www_auth, err) < 0)
				return -1;
			continue;
		}
		if (req->follow && is_redirect(resp->status)) {
			char *next = NULL;

			if (++hops > MAX_REDIRECTS) {
				reg_fail(r, REGISTRY_PROTOCOL);
				return bh_error(err, 0, "%s %s: more than %d redirects",
				                req->method, req->url, MAX_REDIRECTS);
			}
			/* libcurl resolves a relative Location against the URL. */
			curl_easy_getinfo(r->curl, CURLINFO_REDIRECT_URL, &next);
			if (!next || strncasecmp(next, "https://", 8)) {
				reg_fail(r, REGISTRY_PROTOCOL);
				return bh_error(err, 0,
				                "%s %s: redirected to %s, which is not https",
				                req->method, url, next ? next : resp->location);
			}
			snprintf(url, sizeof(url), "%s", next);
			continue;
		}
		return 0;
	}
}

/* The registry's own error, from a body like
 * {"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}. */
int registry_head_manifest(struct registry *r, const char *repo, const char *ref,
                           char digest[REGISTRY_DIGEST_LEN + 1], struct bh_error *err)
{
	struct reg_req req = {.method = "HEAD", .accept = MANIFEST_ACCEPT, .small = 1, .follow = 1};
	struct reg_resp resp;

	reg_url(r, &req, repo, "manifests", ref);
	if (reg_request(r, &req, &resp, err) < 0)
		return -1;
	if (resp.status != 200)
		return reg_status_error(r, &req, &resp, err);
	if (!registry_digest_valid(resp.digest)) {
		reg_fail(r, REGISTRY_PROTOCOL);
		return bh_error(err, 0,
		                "HEAD %s: no sha256 Docker-Content-Digest in the answer (%s)",
		                req.url, resp.digest[0] ? resp.digest : "none");
	}
	if (registry_digest_valid(ref) && strcmp(ref, resp.digest)) {
		reg_fail(r, REGISTRY_INTEGRITY);
		return bh_error(err, 0, "HEAD %s: the registry names it %s", req.url, resp.digest);
	}
	memcpy(digest, resp.digest, REGISTRY_DIGEST_LEN + 1);
	return 0;
}

/* GET into memory with a cap; the digest of what arrived is computed. */
static int get_mem(struct registry *r, struct reg_req *req, struct reg_resp *resp, size_t max,
                   char **body, size_t *len, char digest[REGISTRY_DIGEST_LEN + 1],
                   struct bh_error *err)
{
	mbedtls_sha256_context sha;
	struct reg_sink sink = {.kind = REG_SINK_MEM, .max = max};
	int rc;

	*body = NULL;
	*len = 0;
	req->sink = &sink;
	for (;;) {
		sink.len = sink.written = 0;
		sink.overflow = 0;
		rc = reg_request(r, req, resp, err);
		if (rc < 0 && r->last.fault == REGISTRY_TOO_LARGE)
			bh_error(err, 0, "GET %s: larger than %zu bytes: refused", req->url, max);
		if (rc < 0)
			break;
		if (resp->status != 200) {
			rc = reg_status_error(r, req, resp, err);
			break;
		}
		if (resp->content_length >= 0 && (uint64_t)resp->content_length != sink.len) {
			rc = bh_error(err, 0, "GET %s: %zu bytes arrived, Content-Length said %lld",
			              req->url, sink.len, (long long)resp->content_length);
			reg_fail(r, REGISTRY_NETWORK);
			break;
		}
		mbedtls_sha256_init(&sha);
		mbedtls_sha256_starts(&sha, 0);
		mbedtls_sha256_update(&sha, (const unsigned char *)(sink.buf ? sink.buf : ""),
		                      sink.len);
		reg_digest_finish(&sha, digest);
		mbedtls_sha256_free(&sha);
		if (!sink.buf && !(sink.buf = calloc(1, 1))) {
			rc = bh_error(err, ENOMEM, "GET %s", req->url);
			break;
		}
		*body = sink.buf;
		*len = sink.len;
		return 0;
	}
	free(sink.buf);
	return -1;
}

int registry_get_manifest(struct registry *r, const char *repo, const char *ref, char **body,
                          size_t *len, char media_type[REGISTRY_MEDIA_TYPE_MAX],
                          char digest[REGISTRY_DIGEST_LEN + 1], struct bh_error *err)
{
	struct reg_req req = {.method = "GET", .accept = MANIFEST_ACCEPT, .small = 1, .follow = 1};
	struct reg_resp resp;
	char got[REGISTRY_DIGEST_LEN + 1];

	reg_url(r, &req, repo, "manifests", ref);
	if (get_mem(r, &req, &resp, REGISTRY_MANIFEST_MAX, body, len, got, err) < 0)
		return -1;
	if ((registry_digest_valid(ref) && strcmp(ref, got)) ||
	    (resp.digest[0] && strcmp(resp.digest, got))) {
		free(*body);
		*body = NULL;
		reg_fail(r, REGISTRY_INTEGRITY);
		return bh_error(err, 0, "GET %s: the manifest's digest is %s, not %s", req.url, got,
		                registry_digest_valid(ref) ? ref : resp.digest);
	}
	snprintf(media_type, REGISTRY_MEDIA_TYPE_MAX, "%s", resp.content_type);
	memcpy(digest, got, sizeof(got));
	return 0;
}

int registry_get_blob_mem(struct registry *r, const char *repo, const char *digest, size_t max,
                          char **body, size_t *len, struct bh_error *err)
{
	struct reg_req req = {.method = "GET", .small = 1, .follow = 1};
	struct reg_resp resp;
	char got[REGISTRY_DIGEST_LEN + 1];

	if (!registry_digest_valid(digest)) {
		reg_fail(r, REGISTRY_PROTOCOL);
		return bh_error(err, 0, "blob %s: not a sha256 digest", digest);
	}
	reg_url(r, &req, repo, "blobs", digest);
	if (get_mem(r, &req, &resp, max, body, len, got, err) < 0)
		return -1;
	if (strcmp(got, digest)) {
		free(*body);
		*body = NULL;
		reg_fail(r, REGISTRY_INTEGRITY);
		return bh_error(err, 0, "GET %s: the content's digest is %s", req.url, got);
	}
	return 0;
}
