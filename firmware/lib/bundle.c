/* Checking and unpacking workload bundles (include/bulkhead/bundle.h). */
#include <bulkhead/bundle.h>
#include <bulkhead/fs.h>
#include <bulkhead/hash.h>
#include <bulkhead/sbom.h>
#include <bulkhead/tar.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yyjson.h>

/* The members each format may hold, and the limit on each one's size. A
 * workload bundle and a firmware update (include/bulkhead/update.h) are the
 * same signed container with different members. */
struct allowed_member {
	const char *name;
	uint64_t max;
	bool required;
};

static const struct allowed_member workload_members[] = {
	{"manifest.json", BUNDLE_MANIFEST_MAX, true}, {"sbom.spdx.json", BUNDLE_SBOM_MAX, true},
	{"rootfs.tar", 16ULL << 30, false},           {"kernel", 256ULL << 20, false},
	{"initrd", 1ULL << 30, false},                {"disk.img", 64ULL << 30, false},
	{NULL, 0, false},
};

static const struct allowed_member update_members[] = {
	{"manifest.json", BUNDLE_MANIFEST_MAX, true}, {"sbom.spdx.json", BUNDLE_SBOM_MAX, true},
	{"uki-a.efi", 512ULL << 20, true},            {"uki-b.efi", 512ULL << 20, true},
	{"slot.img", 64ULL << 30, true},              {NULL, 0, false},
};

static const struct allowed_member *members_of(const char *format)
{
	return !strcmp(format, UPDATE_FORMAT) ? update_members : workload_members;
}

void bundle_free(struct bundle *b)
{
	free(b->index);
	free(b->manifest);
	free(b->sbom);
	memset(b, 0, sizeof(*b));
}

const struct bundle_member *bundle_member(const struct bundle *b, const char *name)
{
	for (size_t i = 0; i < b->n_members; i++)
		if (!strcmp(b->members[i].name, name))
			return &b->members[i];
	return NULL;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= 64 || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-' &&
		    *s != '_' && *s != '.')
			return false;
	return true;
}

static bool is_hex(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

static int parse_index(struct bundle *b, const char *what, const char *want_format,
		       struct bh_error *err)
{
	const struct allowed_member *allowed = members_of(want_format);
	yyjson_doc *jd = yyjson_read(b->index, b->index_len, 0);
	yyjson_val *root = yyjson_doc_get_root(jd), *members, *m;
	const char *format, *name, *key;
	size_t i, max;
	int r = -1;

	if (!yyjson_is_obj(root)) {
		bh_error(err, 0, "%s: not a bundle: its index (bundle.json) is not a JSON object", what);
		goto out;
	}
	format = yyjson_get_str(yyjson_obj_get(root, "format"));
	name = yyjson_get_str(yyjson_obj_get(root, "name"));
	key = yyjson_get_str(yyjson_obj_get(root, "key_id"));
	members = yyjson_obj_get(root, "members");
	if (!format || strcmp(format, want_format)) {
		bh_error(err, 0, "%s: bundle.json $.format is not \"%s\"%s", what, want_format,
			 format && (!strcmp(format, BUNDLE_FORMAT) || !strcmp(format, UPDATE_FORMAT))
				 ? (strcmp(format, BUNDLE_FORMAT) ? " (this is a firmware update)"
								  : " (this is a workload bundle)")
				 : "");
		goto out;
	}
	if (!name || !valid_name(name)) {
		bh_error(err, 0, "%s: bundle.json $.name must be a workload name (a-z, 0-9, - _ ., "
			 "at most 63)", what);
		goto out;
	}
	if (!key || !is_hex(key, SIGN_KEY_ID_LEN)) {
		bh_error(err, 0, "%s: bundle.json $.key_id must be %d hex digits", what,
			 SIGN_KEY_ID_LEN);
		goto out;
	}
	if (!yyjson_is_arr(members) || yyjson_arr_size(members) > BUNDLE_MAX_MEMBERS) {
		bh_error(err, 0, "%s: bundle.json $.members must be an array of at most %d", what,
			 BUNDLE_MAX_MEMBERS);
		goto out;
	}
	strcpy(b->name, name);
	strcpy(b->key_id, key);
	yyjson_arr_foreach(members, i, max, m)
	{
		const char *mname = yyjson_get_str(yyjson_obj_get(m, "name"));
		const char *sha = yyjson_get_str(yyjson_obj_get(m, "sha256"));
		yyjson_val *size = yyjson_obj_get(m, "size");
		size_t k;

		for (k = 0; mname && allowed[k].name; k++)
			if (!strcmp(mname, allowed[k].name))
				break;
		if (!mname || !allowed[k].name) {
			bh_error(err, 0, "%s: bundle.json $.members[%zu].name is not a bundle member",
				 what, i);
			goto out;
		}
		if (!sha || !is_hex(sha, 64) || !yyjson_is_uint(size) ||
		    yyjson_get_uint(size) > allowed[k].max) {
			bh_error(err, 0, "%s: bundle.json $.members[%zu] (%s) needs a sha256 and a size "
				 "of at most %llu", what, i, mname,
				 (unsigned long long)allowed[k].max);
			goto out;
		}
		if (bundle_member(b, mname)) {
			bh_error(err, 0, "%s: bundle.json lists %s twice", what, mname);
			goto out;
		}
		strcpy(b->members[b->n_members].name, mname);
		strcpy(b->members[b->n_members].sha256, sha);
		b->members[b->n_members].size = yyjson_get_uint(size);
		b->n_members++;
	}
	for (size_t k = 0; allowed[k].name; k++) {
		if (allowed[k].required && !bundle_member(b, allowed[k].name)) {
			if (!strcmp(allowed[k].name, "sbom.spdx.json"))
				bh_error(err, 0, "%s: the bundle has no SBOM (sbom.spdx.json): refused",
					 what);
			else if (!strcmp(allowed[k].name, "manifest.json"))
				bh_error(err, 0, "%s: the bundle has no manifest (manifest.json)", what);
			else
				bh_error(err, 0, "%s: the update has no %s", what, allowed[k].name);
			goto out;
		}
	}
	r = 0;
out:
	yyjson_doc_free(jd);
	return r;
}

static FILE *open_stream(int fd, const char *what, struct bh_error *err)
{
	struct stat st;
	FILE *f;
	int dfd;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		bh_error(err, errno, "%s: a bundle must be a regular file", what);
		return NULL;
	}
	dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dfd < 0 || lseek(dfd, 0, SEEK_SET) < 0 || !(f = fdopen(dfd, "rb"))) {
		bh_error(err, errno, "%s: open", what);
		if (dfd >= 0)
			close(dfd);
		return NULL;
	}
	return f;
}

/* Reads a whole small member into memory, NUL-terminated. */
static char *slurp(struct tar_reader *r, uint64_t size, struct bh_error *err)
{
	char *buf = malloc(size + 1);

	if (!buf) {
		bh_error(err, ENOMEM, "%s", r->name);
		return NULL;
	}
	if (tar_read(r, buf, size, err) != (ssize_t)size) {
		free(buf);
		return NULL;
	}
	buf[size] = 0;
	return buf;
}

/* The first two members: the index and its signature. */
static int read_head(struct tar_reader *tr, const char *what, const char *format,
		     const char *keys_dir, struct bundle *b, struct bh_error *err)
{
	unsigned char sig[SIGN_MAX_SIG];
	struct tar_entry e;
	int r;

	r = tar_next(tr, &e, err);
	if (r <= 0 || e.type != TAR_FILE || strcmp(e.path, "bundle.json") ||
	    e.size > BUNDLE_INDEX_MAX) {
		if (r >= 0)
			bh_error(err, 0, "%s: not a bundle: it does not start with bundle.json", what);
		else
			bh_error_wrap(err, "%s: not a bundle", what);
		return -1;
	}
	b->index_len = e.size;
	b->index = slurp(tr, e.size, err);
	if (!b->index)
		return -1;
	if (parse_index(b, what, format, err) < 0)
		return -1;
	r = tar_next(tr, &e, err);
	if (r <= 0 || e.type != TAR_FILE || strcmp(e.path, "bundle.sig") || e.size > sizeof(sig) ||
	    e.size == 0) {
		if (r >= 0)
			bh_error(err, 0, "%s: the bundle is not signed (no bundle.sig after bundle.json)",
				 what);
		return -1;
	}
	if (tar_read(tr, sig, e.size, err) != (ssize_t)e.size)
		return -1;
	if (keys_dir && sign_verify_in_dir(keys_dir, b->key_id, b->index, b->index_len, sig,
					   e.size, err) < 0)
		return bh_error_wrap(err, "%s", what);
	return 0;
}

int bundle_check(int fd, const char *what, const char *keys_dir, struct bundle *b,
		 struct bh_error *err)
{
	return bundle_check_as(fd, what, BUNDLE_FORMAT, keys_dir, b, err);
}

int bundle_check_as(int fd, const char *what, const char *format, const char *keys_dir,
		    struct bundle *b, struct bh_error *err)
{
	struct tar_reader tr;
	struct tar_entry e;
	FILE *f;
	int r = -1;

	memset(b, 0, sizeof(*b));
	f = open_stream(fd, what, err);
	if (!f)
		return -1;
	tar_reader_init(&tr, f, what);
	if (read_head(&tr, what, format, keys_dir, b, err) < 0)
		goto out;
	snprintf(b->format, sizeof(b->format), "%s", format);
	for (size_t i = 0; i < b->n_members; i++) {
		const struct bundle_member *m = &b->members[i];
		mbedtls_sha256_context ctx;
		unsigned char d[32], buf[65536];
		char hex[65];
		char *keep = NULL;
		ssize_t n;

		if (tar_next(&tr, &e, err) <= 0 || e.type != TAR_FILE || strcmp(e.path, m->name)) {
			bh_error(err, 0, "%s: member %zu is not %s as its index says", what, i + 3,
				 m->name);
			goto out;
		}
		if (e.size != m->size) {
			bh_error(err, 0, "%s: %s is %llu bytes, its index says %llu", what, m->name,
				 (unsigned long long)e.size, (unsigned long long)m->size);
			goto out;
		}
		if (!strcmp(m->name, "manifest.json") || !strcmp(m->name, "sbom.spdx.json"))
			keep = malloc(e.size + 1);
		mbedtls_sha256_init(&ctx);
		mbedtls_sha256_starts(&ctx, 0);
		for (uint64_t got = 0; (n = tar_read(&tr, buf, sizeof(buf), err)) > 0; got += n) {
			mbedtls_sha256_update(&ctx, buf, n);
			if (keep)
				memcpy(keep + got, buf, n);
		}
		mbedtls_sha256_finish(&ctx, d);
		mbedtls_sha256_free(&ctx);
		if (n < 0) {
			free(keep);
			goto out;
		}
		hex_encode(d, 32, hex);
		if (strcmp(hex, m->sha256)) {
			free(keep);
			bh_error(err, 0, "%s: %s does not match its signed hash (sha256 %s, signed %s)",
				 what, m->name, hex, m->sha256);
			goto out;
		}
		if (keep) {
			keep[e.size] = 0;
			if (!strcmp(m->name, "manifest.json")) {
				b->manifest = keep;
			} else {
				b->sbom = keep;
				b->sbom_len = e.size;
			}
		}
	}
	if (tar_next(&tr, &e, err) != 0) {
		if (!err->msg[0] || strstr(err->msg, what) == NULL)
			bh_error(err, 0, "%s: %s is not listed in the signed index", what, e.path);
		goto out;
	}
	/* The SBOM must be one we can read: SPDX 2.3 JSON. */
	{
		struct spdx_doc doc;
		char name[128];

		snprintf(name, sizeof(name), "%s: sbom.spdx.json", what);
		if (spdx_read_buf(b->sbom, b->sbom_len, name, &doc, err) < 0)
			goto out;
		spdx_doc_free(&doc);
	}
	r = 0;
out:
	fclose(f);
	if (r < 0)
		bundle_free(b);
	return r;
}

/* --- Unpacking ---------------------------------------------------------- */

/* A FILE that reads the current member of the outer tar and hashes it. */
struct member_stream {
	struct tar_reader *outer;
	mbedtls_sha256_context sha;
	struct bh_error *err;
};

static ssize_t member_read(void *cookie, char *buf, size_t n)
{
	struct member_stream *ms = cookie;
	ssize_t got = tar_read(ms->outer, buf, n, ms->err);

	if (got > 0)
		mbedtls_sha256_update(&ms->sha, (unsigned char *)buf, got);
	return got;
}

static int finish_hash(struct member_stream *ms, struct tar_reader *outer,
		       const struct bundle_member *m, const char *what, struct bh_error *err)
{
	unsigned char d[32], buf[65536];
	char hex[65];
	ssize_t n;

	/* Whatever the unpacker did not read still counts. */
	while ((n = tar_read(outer, buf, sizeof(buf), err)) > 0)
		mbedtls_sha256_update(&ms->sha, buf, n);
	mbedtls_sha256_finish(&ms->sha, d);
	if (n < 0)
		return -1;
	hex_encode(d, 32, hex);
	if (strcmp(hex, m->sha256))
		return bh_error(err, 0, "%s: %s changed since it was checked", what, m->name);
	return 0;
}

static int extract_members(struct tar_reader *tr, const char *what, const struct bundle *b,
			   int dirfd, struct bh_error *err)
{
	struct tar_entry e;

	for (size_t i = 0; i < b->n_members; i++) {
		const struct bundle_member *m = &b->members[i];
		struct member_stream ms = {.outer = tr, .err = err};
		int rc = 0;

		if (tar_next(tr, &e, err) <= 0 || strcmp(e.path, m->name) || e.size != m->size)
			return bh_error(err, 0, "%s: %s changed since it was checked", what, m->name);
		mbedtls_sha256_init(&ms.sha);
		mbedtls_sha256_starts(&ms.sha, 0);
		if (!strcmp(m->name, "rootfs.tar")) {
			cookie_io_functions_t io = {.read = member_read};
			FILE *inner = fopencookie(&ms, "r", io);
			struct tar_reader ir;
			int rootfd;

			if (!inner)
				return bh_error(err, errno, "%s: rootfs.tar", what);
			if (mkdirat(dirfd, "rootfs", 0755) < 0 ||
			    (rootfd = openat(dirfd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
							      O_CLOEXEC)) < 0) {
				fclose(inner);
				return bh_error(err, errno, "%s: create rootfs", what);
			}
			tar_reader_init(&ir, inner, "rootfs.tar");
			rc = untar_beneath(&ir, rootfd, err);
			close(rootfd);
			fclose(inner);
			if (rc < 0)
				bh_error_wrap(err, "%s", what);
		} else if (strcmp(m->name, "manifest.json") && strcmp(m->name, "sbom.spdx.json")) {
			char buf[65536];
			ssize_t n;
			int fd = openat(dirfd, m->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
							       O_CLOEXEC, 0644);

			if (fd < 0)
				return bh_error(err, errno, "%s: create %s", what, m->name);
			while (rc == 0 && (n = member_read(&ms, buf, sizeof(buf))) > 0)
				if (write(fd, buf, n) != n)
					rc = bh_error(err, errno, "%s: write %s", what, m->name);
			if (n < 0)
				rc = -1;
			if (rc == 0 && fsync(fd) < 0)
				rc = bh_error(err, errno, "%s: write %s", what, m->name);
			close(fd);
		}
		if (rc == 0)
			rc = finish_hash(&ms, tr, m, what, err);
		else
			mbedtls_sha256_free(&ms.sha);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int bundle_extract(int fd, const char *what, const struct bundle *b, const char *dir,
		   struct bh_error *err)
{
	struct bundle again;
	struct tar_reader tr;
	char base[256];
	int pfd, dfd, rc;
	FILE *f;

	f = open_stream(fd, what, err);
	if (!f)
		return -1;
	tar_reader_init(&tr, f, what);
	memset(&again, 0, sizeof(again));
	/* The index read now must be the one that was checked. */
	rc = read_head(&tr, what, b->format[0] ? b->format : BUNDLE_FORMAT, NULL, &again, err);
	if (rc == 0 && (again.index_len != b->index_len || memcmp(again.index, b->index, b->index_len)))
		rc = bh_error(err, 0, "%s: the bundle changed since it was checked", what);
	bundle_free(&again);
	if (rc < 0) {
		fclose(f);
		return -1;
	}
	if (dir[0] != '/') {
		fclose(f);
		return bh_error(err, 0, "extract %s: '%s' must be an absolute path", what, dir);
	}
	pfd = bh_open_parent(dir, base, sizeof(base));
	if (pfd < 0 || mkdirat(pfd, base, 0700) < 0 ||
	    (dfd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rc = bh_error(err, errno, "extract %s: create %s", what, dir);
		if (pfd >= 0)
			close(pfd);
		fclose(f);
		return rc;
	}
	rc = extract_members(&tr, what, b, dfd, err);
	if (rc == 0 && fchmod(dfd, 0755) < 0)
		rc = bh_error(err, errno, "extract %s: chmod %s", what, dir);
	close(dfd);
	if (rc < 0)
		bh_remove_tree_at(pfd, base);
	close(pfd);
	fclose(f);
	return rc;
}

int bundle_open_member(int fd, const char *what, const struct bundle *b, const char *member,
		       FILE **fp, struct tar_reader *tr, uint64_t *size, struct bh_error *err)
{
	struct bundle again;
	struct tar_entry e;
	FILE *f = open_stream(fd, what, err);
	int rc;

	if (!f)
		return -1;
	tar_reader_init(tr, f, what);
	memset(&again, 0, sizeof(again));
	rc = read_head(tr, what, b->format, NULL, &again, err);
	if (rc == 0 && (again.index_len != b->index_len || memcmp(again.index, b->index, b->index_len)))
		rc = bh_error(err, 0, "%s: the file changed since it was checked", what);
	bundle_free(&again);
	for (size_t i = 0; rc == 0 && i < b->n_members; i++) {
		if (tar_next(tr, &e, err) <= 0 || strcmp(e.path, b->members[i].name) ||
		    e.size != b->members[i].size) {
			rc = bh_error(err, 0, "%s: %s changed since it was checked", what,
				      b->members[i].name);
			break;
		}
		if (!strcmp(e.path, member)) {
			*fp = f;
			*size = e.size;
			return 0;
		}
	}
	if (rc == 0)
		rc = bh_error(err, 0, "%s: has no %s", what, member);
	fclose(f);
	return rc;
}

int bundle_check_contents(const struct bundle *b, const char *what, const char *dir,
			  struct bh_error *err)
{
	struct verify_report rep = {0};
	struct spdx_doc doc;
	char name[128];
	int rc;

	snprintf(name, sizeof(name), "%s: sbom.spdx.json", what);
	if (spdx_read_buf(b->sbom, b->sbom_len, name, &doc, err) < 0)
		return -1;
	rc = sbom_verify_doc(&doc, dir, "", NULL, NULL, &rep, err);
	if (rc == 0 && (rep.modified.n || rep.missing.n || rep.unlisted.n))
		rc = bh_error(err, 0, "%s: its SBOM does not describe its contents (%zu modified, "
			      "%zu missing, %zu unlisted files%s%s)", what, rep.modified.n,
			      rep.missing.n, rep.unlisted.n, rep.unlisted.n ? ", e.g. /" : "",
			      rep.unlisted.n ? rep.unlisted.v[0] : "");
	spdx_doc_free(&doc);
	verify_report_free(&rep);
	return rc;
}
