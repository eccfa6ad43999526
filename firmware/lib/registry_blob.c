/* Blob downloads into a file: the SHA-256 is computed while the data
 * streams into dest.part (on a second thread that reads the file behind
 * the writer, registry_hasher.c), free space is checked first, a cut
 * connection is resumed with a Range request, and dest appears only once
 * complete and verified (fsync, rename, fsync of the folder). */
#include "registry_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static int fsync_dir_of(const char *path)
{
	char tmp[4096];
	int fd, rc;

	snprintf(tmp, sizeof(tmp), "%s", path);
	fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Hashes what an earlier try left in the .part file. */
static int hash_existing(int fd, uint64_t have, mbedtls_sha256_context *sha)
{
	char buf[65536];
	uint64_t off = 0;

	while (off < have) {
		size_t want = have - off < sizeof(buf) ? (size_t)(have - off) : sizeof(buf);
		ssize_t n = pread(fd, buf, want, (off_t)off);

		if (n <= 0)
			return -1;
		mbedtls_sha256_update(sha, (unsigned char *)buf, (size_t)n);
		off += (uint64_t)n;
	}
	return 0;
}

static int check_space(struct registry *r, const char *dest, uint64_t need, struct bh_error *err)
{
	char tmp[4096], *dir;
	struct statvfs st;
	uint64_t avail;

	snprintf(tmp, sizeof(tmp), "%s", dest);
	dir = dirname(tmp);
	if (statvfs(dir, &st) < 0) {
		reg_fail(r, REGISTRY_LOCAL);
		return bh_error(err, errno, "check free space in %s", dir);
	}
	avail = (uint64_t)st.f_bavail * st.f_frsize;
	if (avail < need) {
		reg_fail(r, REGISTRY_NO_SPACE);
		return bh_error(err, ENOSPC,
		                "%s needs %" PRIu64 " more bytes, %s has %" PRIu64 " free", dest,
		                need, dir, avail);
	}
	return 0;
}

/* "bytes FROM-TO/SIZE" must start where we asked. */
static int range_starts_at(const char *cr, uint64_t from)
{
	unsigned long long a = 0;

	return sscanf(cr, "bytes %llu-", &a) == 1 && a == from;
}

int registry_get_blob(struct registry *r, const char *repo, const char *digest, uint64_t size,
                      const char *dest, unsigned max_resumes, struct registry_fetch *f,
                      struct bh_error *err)
{
	char part[4096], got[REGISTRY_DIGEST_LEN + 1];
	mbedtls_sha256_context sha;
	struct reg_hasher hasher = {.running = 0};
	struct reg_req req = {.method = "GET", .follow = 1};
	struct reg_resp resp;
	struct stat st;
	uint64_t have;
	int fd, threaded, rc = -1;

	memset(f, 0, sizeof(*f));
	f->size = size;
	if (!registry_digest_valid(digest)) {
		reg_fail(r, REGISTRY_PROTOCOL);
		return bh_error(err, 0, "blob %s: not a sha256 digest", digest);
	}
	if (snprintf(part, sizeof(part), "%s.part", dest) >= (int)sizeof(part)) {
		reg_fail(r, REGISTRY_LOCAL);
		return bh_error(err, ENAMETOOLONG, "%s", dest);
	}
	reg_url(r, &req, repo, "blobs", digest);
	fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &st) < 0) {
		reg_fail(r, REGISTRY_LOCAL);
		rc = bh_error(err, errno, "open %s", part);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	mbedtls_sha256_init(&sha);
	mbedtls_sha256_starts(&sha, 0);
	have = (uint64_t)st.st_size;
	if (have > size || hash_existing(fd, have, &sha) < 0) {
		/* Not a prefix of this blob: start over. */
		if (ftruncate(fd, 0) < 0) {
			reg_fail(r, REGISTRY_LOCAL);
			rc = bh_error(err, errno, "truncate %s", part);
			goto out;
		}
		have = 0;
		mbedtls_sha256_starts(&sha, 0);
	}
	f->resumed_from = have;
	if (check_space(r, dest, size - have, err) < 0)
		goto out;
	/* Without a thread, the write callback hashes as before. */
	threaded = reg_hasher_start(&hasher, fd, have, &sha) == 0;
	for (;;) {
		struct reg_sink sink = {.kind = REG_SINK_FD,
		                        .fd = fd,
		                        .sha = threaded ? NULL : &sha,
		                        .wrote = threaded ? reg_hasher_wrote : NULL,
		                        .wrote_arg = &hasher,
		                        .skip = have};
		uint64_t before = have;
		int got_answer;

		if (have == size)
			break;
		if (lseek(fd, (off_t)have, SEEK_SET) < 0) {
			reg_fail(r, REGISTRY_LOCAL);
			rc = bh_error(err, errno, "seek in %s", part);
			goto out;
		}
		sink.max = size - have;
		req.sink = &sink;
		req.ranged = have > 0;
		req.range_from = have;
		/* A 200 to a Range request sends everything again: the bytes
		 * we have are dropped (and counted) as they arrive. */
		got_answer = reg_request(r, &req, &resp, err) == 0;
		have += sink.written;
		f->downloaded += sink.written + sink.skipped;
		f->refetched += sink.skipped;
		if (got_answer && resp.status != 200 && resp.status != 206) {
			rc = reg_status_error(r, &req, &resp, err);
			goto out;
		}
		if (got_answer && resp.status == 206 &&
		    !range_starts_at(resp.content_range, before)) {
			reg_fail(r, REGISTRY_PROTOCOL);
			rc = bh_error(err, 0, "GET %s: asked for bytes from %" PRIu64 ", got %s",
			              req.url, before, resp.content_range);
			goto out;
		}
		if (got_answer && have == size)
			break;
		if (got_answer) {
			/* A clean end before the last byte: resume like after a cut. */
			reg_fail(r, REGISTRY_NETWORK);
			bh_error(err, 0,
			         "GET %s: the answer ended at %" PRIu64 " of %" PRIu64 " bytes",
			         req.url, have, size);
		}
		if (r->last.fault == REGISTRY_TOO_LARGE) {
			reg_fail(r, REGISTRY_INTEGRITY);
			bh_error(err, 0,
			         "GET %s: more than the %" PRIu64 " bytes the manifest says",
			         req.url, size);
			unlink(part);
			goto out;
		}
		if (r->last.fault != REGISTRY_NETWORK || f->resumes >= max_resumes)
			goto out; /* .part stays for the next try */
		f->resumes++;
	}
	if (reg_hasher_finish(&hasher) < 0) {
		reg_fail(r, REGISTRY_LOCAL);
		rc = bh_error(err, errno, "read back %s to hash it", part);
		goto out;
	}
	reg_digest_finish(&sha, got);
	if (strcmp(got, digest)) {
		/* Whatever is in .part is wrong: the next try starts over. */
		unlink(part);
		reg_fail(r, REGISTRY_INTEGRITY);
		rc = bh_error(err, 0, "GET %s: the content's digest is %s: refused", req.url, got);
		goto out;
	}
	if (fsync(fd) < 0 || rename(part, dest) < 0 || fsync_dir_of(dest) < 0) {
		reg_fail(r, errno == ENOSPC ? REGISTRY_NO_SPACE : REGISTRY_LOCAL);
		rc = bh_error(err, errno, "store %s", dest);
		goto out;
	}
	r->last.fault = REGISTRY_OK;
	rc = 0;
out:
	reg_hasher_finish(&hasher); /* before sha and fd go */
	mbedtls_sha256_free(&sha);
	close(fd);
	return rc;
}
