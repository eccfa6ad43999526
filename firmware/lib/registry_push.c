/* Uploads: blobs (monolithic upload) and manifests. Only bhpack links
 * this file: the device pulls. */
#include "registry_internal.h"

#include <bulkhead/registry_push.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int blob_exists(struct registry *r, const char *repo, const char *digest, int *exists,
                       struct bh_error *err)
{
	struct reg_req req = {.method = "HEAD", .small = 1, .follow = 1};
	struct reg_resp resp;

	reg_url(r, &req, repo, "blobs", digest);
	if (reg_request(r, &req, &resp, err) < 0)
		return -1;
	if (resp.status != 200 && resp.status != 404)
		return reg_status_error(r, &req, &resp, err);
	*exists = resp.status == 200;
	return 0;
}

/* POST /v2/<repo>/blobs/uploads/, then PUT <Location>?digest=... */
static int upload(struct registry *r, const char *repo, struct reg_source *src, const char *digest,
                  struct bh_error *err)
{
	struct reg_req post = {.method = "POST", .small = 1};
	struct reg_req put = {
	    .method = "PUT", .content_type = "application/octet-stream", .body = src};
	struct reg_resp resp;
	char loc[REG_URL_MAX];
	int n;

	snprintf(post.url, sizeof(post.url), "%s/v2/%s/blobs/uploads/", r->origin, repo);
	if (reg_request(r, &post, &resp, err) < 0)
		return -1;
	if (resp.status != 202)
		return reg_status_error(r, &post, &resp, err);
	if (!resp.location[0] || reg_resolve(post.url, resp.location, loc, sizeof(loc)) < 0 ||
	    !reg_same_origin(r, loc)) {
		reg_fail(r, REGISTRY_PROTOCOL);
		return bh_error(err, 0, "POST %s: the upload location '%s' is not on the registry",
		                post.url, resp.location);
	}
	n = snprintf(put.url, sizeof(put.url), "%s%sdigest=%s", loc, strchr(loc, '?') ? "&" : "?",
	             digest);
	if (n < 0 || (size_t)n >= sizeof(put.url)) {
		reg_fail(r, REGISTRY_PROTOCOL);
		return bh_error(err, 0, "POST %s: the upload location is too long", post.url);
	}
	if (reg_request(r, &put, &resp, err) < 0)
		return -1;
	if (resp.status != 201)
		return reg_status_error(r, &put, &resp, err);
	return 0;
}

int registry_push_blob_file(struct registry *r, const char *repo, const char *path,
                            char digest[REGISTRY_DIGEST_LEN + 1], uint64_t *size,
                            struct bh_error *err)
{
	mbedtls_sha256_context sha;
	struct reg_source src = {.fd = -1};
	char buf[65536];
	struct stat st;
	ssize_t k;
	int exists = 0, rc = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		reg_fail(r, REGISTRY_LOCAL);
		rc = bh_error(err, errno, "open %s", path);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	mbedtls_sha256_init(&sha);
	mbedtls_sha256_starts(&sha, 0);
	while ((k = read(fd, buf, sizeof(buf))) > 0)
		mbedtls_sha256_update(&sha, (unsigned char *)buf, (size_t)k);
	if (k < 0) {
		reg_fail(r, REGISTRY_LOCAL);
		bh_error(err, errno, "read %s", path);
		goto out;
	}
	reg_digest_finish(&sha, digest);
	*size = (uint64_t)st.st_size;
	src.fd = fd;
	src.size = *size;
	if (blob_exists(r, repo, digest, &exists, err) < 0 ||
	    (!exists && upload(r, repo, &src, digest, err) < 0)) {
		bh_error_wrap(err, "push %s", path);
		goto out;
	}
	rc = 0;
out:
	mbedtls_sha256_free(&sha);
	close(fd);
	return rc;
}

int registry_push_blob_mem(struct registry *r, const char *repo, const void *data, size_t len,
                           char digest[REGISTRY_DIGEST_LEN + 1], struct bh_error *err)
{
	mbedtls_sha256_context sha;
	struct reg_source src = {.mem = data, .fd = -1, .size = len};
	int exists = 0;

	mbedtls_sha256_init(&sha);
	mbedtls_sha256_starts(&sha, 0);
	mbedtls_sha256_update(&sha, data, len);
	reg_digest_finish(&sha, digest);
	mbedtls_sha256_free(&sha);
	if (blob_exists(r, repo, digest, &exists, err) < 0)
		return -1;
	return exists ? 0 : upload(r, repo, &src, digest, err);
}

int registry_push_manifest(struct registry *r, const char *repo, const char *tag,
                           const char *media_type, const char *body, size_t len,
                           char digest[REGISTRY_DIGEST_LEN + 1], struct bh_error *err)
{
	mbedtls_sha256_context sha;
	struct reg_source src = {.mem = body, .fd = -1, .size = len};
	struct reg_req req = {
	    .method = "PUT", .content_type = media_type, .body = &src, .small = 1};
	struct reg_resp resp;

	mbedtls_sha256_init(&sha);
	mbedtls_sha256_starts(&sha, 0);
	mbedtls_sha256_update(&sha, (const unsigned char *)body, len);
	reg_digest_finish(&sha, digest);
	mbedtls_sha256_free(&sha);
	if (tag && !registry_tag_valid(tag)) {
		reg_fail(r, REGISTRY_LOCAL);
		return bh_error(err, 0, "tag '%s' is not a valid tag", tag);
	}
	reg_url(r, &req, repo, "manifests", tag ? tag : digest);
	if (reg_request(r, &req, &resp, err) < 0)
		return -1;
	if (resp.status != 201)
		return reg_status_error(r, &req, &resp, err);
	if (resp.digest[0] && strcmp(resp.digest, digest)) {
		reg_fail(r, REGISTRY_INTEGRITY);
		return bh_error(err, 0, "PUT %s: the registry names the manifest %s, we sent %s",
		                req.url, resp.digest, digest);
	}
	return 0;
}
