/* Container images as other tools ship them: an OCI image layout folder, the
 * same as a tar (podman save --format oci-archive, docker save of recent
 * Docker), or a classic `docker save` tar (manifest.json with Layers). The
 * layers are applied in order into one folder: a ".wh.<name>" entry deletes
 * <name> from the layers below, ".wh..wh..opq" empties its folder. Layer
 * digests are checked where the format names them. */
#include "bhpack.h"

#include <bulkhead/fs.h>
#include <bulkhead/hash.h>
#include <bulkhead/tar.h>

#include <errno.h>
#include <fcntl.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yyjson.h>
#include <zlib.h>

/* A FILE over a layer blob: gunzipped when it starts with the gzip magic,
 * and hashed as read (the digest is of the blob, compressed or not). */
struct blob {
	FILE *raw;
	gzFile gz;
	mbedtls_sha256_context sha;
};

static ssize_t blob_read(void *cookie, char *buf, size_t n)
{
	struct blob *b = cookie;

	if (b->gz) {
		int got = gzread(b->gz, buf, (unsigned)n);

		return got < 0 ? -1 : got;
	}
	size_t got = fread(buf, 1, n, b->raw);

	mbedtls_sha256_update(&b->sha, (unsigned char *)buf, got);
	return ferror(b->raw) ? -1 : (ssize_t)got;
}

/* Deletes dir/name below rootfd (no symlink followed on the way); an
 * empty name empties dir. */
static void whiteout(int rootfd, const char *dir, const char *name)
{
	int dfd = *dir ? openat(rootfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
		       : fcntl(rootfd, F_DUPFD_CLOEXEC, 0);

	if (dfd < 0)
		return;
	if (*name)
		bh_remove_tree_at(dfd, name);
	else
		bh_empty_folder(dfd);
	close(dfd);
}

static int apply_layer(const char *path, const char *digest, int rootfd, struct bh_error *err)
{
	cookie_io_functions_t io = {.read = blob_read};
	struct blob b = {0};
	unsigned char magic[2] = {0};
	struct tar_reader r;
	struct tar_entry e;
	FILE *stream;
	int got, rc = 0;

	if (digest && !strncmp(digest, "sha256:", 7)) {
		char hex[65];

		/* For gzip blobs zlib reads the file itself: hash it first. */
		if (sha256_path(path, hex, NULL, err) < 0)
			return -1;
		if (strcmp(hex, digest + 7))
			return bh_error(err, 0, "layer %s has sha256 %s, its manifest says %s", path, hex,
					digest + 7);
	}
	b.raw = fopen(path, "rbe");
	if (!b.raw)
		return bh_error(err, errno, "open layer %s", path);
	if (fread(magic, 1, 2, b.raw) == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
		fclose(b.raw);
		b.raw = NULL;
		b.gz = gzopen(path, "rb");
		if (!b.gz)
			return bh_error(err, errno, "open layer %s", path);
	} else {
		rewind(b.raw);
	}
	mbedtls_sha256_init(&b.sha);
	mbedtls_sha256_starts(&b.sha, 0);
	stream = fopencookie(&b, "r", io);
	tar_reader_init(&r, stream, path);
	while (rc == 0 && (got = tar_next(&r, &e, err)) > 0) {
		char *slash = strrchr(e.path, '/');
		const char *base = slash ? slash + 1 : e.path;
		char dir[TAR_PATH_MAX];

		snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - e.path) : 0, e.path);
		if (!strcmp(base, ".wh..wh..opq"))
			whiteout(rootfd, dir, "");
		else if (!strncmp(base, ".wh.", 4))
			whiteout(rootfd, dir, base + 4);
		else
			rc = untar_entry(&r, rootfd, &e, err);
	}
	if (rc == 0 && got < 0)
		rc = -1;
	fclose(stream);
	if (b.gz)
		gzclose(b.gz);
	if (b.raw)
		fclose(b.raw);
	mbedtls_sha256_free(&b.sha);
	return rc;
}

static yyjson_doc *read_json(const char *path, struct bh_error *err)
{
	yyjson_read_err rerr;
	yyjson_doc *d = yyjson_read_file(path, 0, NULL, &rerr);

	if (!d)
		bh_error(err, 0, "%s: %s at byte %zu", path, rerr.msg, rerr.pos);
	return d;
}

/* blobs/<alg>/<hex> of an OCI layout, checked to be a plain digest. */
static int blob_path(const char *layout, const char *digest, char *out, size_t size,
		     struct bh_error *err)
{
	const char *colon = digest ? strchr(digest, ':') : NULL;

	if (!colon || strspn(colon + 1, "0123456789abcdef") != strlen(colon + 1) ||
	    strncmp(digest, "sha256:", 7))
		return bh_error(err, 0, "%s: '%s' is not a sha256 digest", layout, digest ? digest : "");
	snprintf(out, size, "%s/blobs/sha256/%s", layout, colon + 1);
	return 0;
}

static const char *oci_arch(const char *arch)
{
	return !strcmp(arch, "aarch64") ? "arm64" : !strcmp(arch, "x86_64") ? "amd64" : arch;
}

/* index.json → (an image index for several platforms →) manifest → layers. */
static int unpack_layout(const char *layout, const char *arch, int rootfd, struct bh_error *err)
{
	char path[4096];
	yyjson_doc *idx, *man = NULL;
	yyjson_val *m, *layers, *l;
	size_t i, max;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/index.json", layout);
	idx = read_json(path, err);
	if (!idx)
		return -1;
	m = yyjson_arr_get_first(yyjson_obj_get(yyjson_doc_get_root(idx), "manifests"));
	for (int depth = 0; m && depth < 3; depth++) {
		const char *mt = yyjson_get_str(yyjson_obj_get(m, "mediaType"));
		yyjson_val *chosen = NULL, *c;

		if (blob_path(layout, yyjson_get_str(yyjson_obj_get(m, "digest")), path, sizeof(path),
			      err) < 0)
			goto out;
		yyjson_doc_free(man);
		man = read_json(path, err);
		if (!man)
			goto out;
		if (!mt || !strstr(mt, "index"))
			break;
		/* A multi-platform index: take the board's architecture. */
		yyjson_arr_foreach(yyjson_obj_get(yyjson_doc_get_root(man), "manifests"), i, max, c)
		{
			const char *a = yyjson_get_str(yyjson_obj_get(yyjson_obj_get(c, "platform"),
								       "architecture"));

			if (a && !strcmp(a, oci_arch(arch)) && !chosen)
				chosen = c;
		}
		if (!chosen) {
			bh_error(err, 0, "%s: the image has no %s variant", layout, oci_arch(arch));
			goto out;
		}
		m = chosen;
	}
	layers = man ? yyjson_obj_get(yyjson_doc_get_root(man), "layers") : NULL;
	if (!yyjson_is_arr(layers)) {
		bh_error(err, 0, "%s: no image manifest with layers", layout);
		goto out;
	}
	yyjson_arr_foreach(layers, i, max, l)
	{
		const char *digest = yyjson_get_str(yyjson_obj_get(l, "digest"));

		if (blob_path(layout, digest, path, sizeof(path), err) < 0 ||
		    apply_layer(path, digest, rootfd, err) < 0)
			goto out;
	}
	rc = 0;
out:
	yyjson_doc_free(man);
	yyjson_doc_free(idx);
	return rc;
}

/* docker save: manifest.json [{"Config": ..., "Layers": ["<id>/layer.tar", ...]}]. */
static int unpack_docker(const char *dir, int rootfd, struct bh_error *err)
{
	char path[4096];
	yyjson_doc *doc;
	yyjson_val *layers, *l;
	size_t i, max;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	doc = read_json(path, err);
	if (!doc)
		return -1;
	layers = yyjson_obj_get(yyjson_arr_get_first(yyjson_doc_get_root(doc)), "Layers");
	if (!yyjson_is_arr(layers))
		rc = bh_error(err, 0, "%s: [0].Layers is missing", path);
	yyjson_arr_foreach(layers, i, max, l)
	{
		char clean[TAR_PATH_MAX];

		if (rc < 0)
			break;
		if (!yyjson_is_str(l) || !tar_clean_path(yyjson_get_str(l), clean, sizeof(clean))) {
			rc = bh_error(err, 0, "%s: [0].Layers[%zu] is not a path inside the archive", path,
				      i);
			break;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, clean);
		rc = apply_layer(path, NULL, rootfd, err);
	}
	yyjson_doc_free(doc);
	return rc;
}

int oci_unpack(const char *src, const char *arch, const char *workdir, const char *staging,
	       struct bh_error *err)
{
	char layout[4096], probe[4200];
	struct stat st;
	int rootfd, rc;

	if (stat(src, &st) < 0)
		return bh_error(err, errno, "open image %s", src);
	if (S_ISDIR(st.st_mode)) {
		snprintf(layout, sizeof(layout), "%s", src);
	} else {
		/* An archive: unpack it first, as safely as any tar. */
		struct tar_reader r;
		FILE *f = fopen(src, "rbe");
		int fd;

		snprintf(layout, sizeof(layout), "%s/image", workdir);
		if (!f)
			return bh_error(err, errno, "open image %s", src);
		if (mkdir(layout, 0700) < 0 ||
		    (fd = open(layout, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
			fclose(f);
			return bh_error(err, errno, "create %s", layout);
		}
		tar_reader_init(&r, f, src);
		rc = untar_beneath(&r, fd, err);
		close(fd);
		fclose(f);
		if (rc < 0)
			return -1;
	}
	if (mkdir(staging, 0755) < 0 && errno != EEXIST)
		return bh_error(err, errno, "create %s", staging);
	rootfd = open(staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return bh_error(err, errno, "open %s", staging);
	snprintf(probe, sizeof(probe), "%s/index.json", layout);
	if (access(probe, F_OK) == 0) {
		rc = unpack_layout(layout, arch, rootfd, err);
	} else {
		snprintf(probe, sizeof(probe), "%s/manifest.json", layout);
		rc = access(probe, F_OK) == 0
			     ? unpack_docker(layout, rootfd, err)
			     : bh_error(err, 0, "%s is neither an OCI image (index.json) nor a docker "
					"save archive (manifest.json)", src);
	}
	close(rootfd);
	return rc;
}
