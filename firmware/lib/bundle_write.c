/* Writing a bundle file (include/bulkhead/bundle.h): the index, its
 * signature, the members. Its own object, apart from bundle.c's reader, so
 * that only bhpack links it: the device only checks bundles. */
#include <bulkhead/bundle.h>
#include <bulkhead/hash.h>
#include <bulkhead/sign.h>
#include <bulkhead/tar.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yyjson.h>

static int copy_member(struct tar_writer *w, const char *name, const char *path, uint64_t size,
		       struct bh_error *err)
{
	char buf[65536];
	size_t n;
	uint64_t done = 0;
	FILE *f = fopen(path, "rbe");

	if (!f)
		return bh_error(err, errno, "open %s", path);
	if (tar_write_header(w, name, TAR_FILE, 0644, size, NULL, err) < 0) {
		fclose(f);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (tar_write_data(w, buf, n, err) < 0) {
			fclose(f);
			return -1;
		}
		done += n;
	}
	fclose(f);
	if (done != size)
		return bh_error(err, 0, "%s changed while it was being packed", path);
	return tar_end_entry(w, size, err);
}

int bundle_write(const char *out, const char *name, const struct bundle_file *members, size_t n,
		 const char *key, struct bh_error *err)
{
	return bundle_write_as(out, BUNDLE_FORMAT, name, members, n, key, err);
}

int bundle_write_as(const char *out, const char *format, const char *name,
		    const struct bundle_file *members, size_t n, const char *key,
		    struct bh_error *err)
{
	char key_id[SIGN_KEY_ID_LEN + 1], tmp[4096], hex[BUNDLE_MAX_MEMBERS][65];
	uint64_t sizes[BUNDLE_MAX_MEMBERS];
	unsigned char sig[SIGN_MAX_SIG];
	size_t sig_len = 0, index_len;
	yyjson_mut_doc *doc;
	yyjson_mut_val *root, *arr;
	struct tar_writer w;
	char *index = NULL;
	FILE *f;
	int fd, rc = -1;

	if (n > BUNDLE_MAX_MEMBERS)
		return bh_error(err, 0, "a bundle holds at most %d members", BUNDLE_MAX_MEMBERS);
	memset(key_id, '0', SIGN_KEY_ID_LEN);
	key_id[SIGN_KEY_ID_LEN] = 0;
	if (key && sign_key_id(key, key_id, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (sha256_path(members[i].path, hex[i], &sizes[i], err) < 0)
			return -1;
	doc = yyjson_mut_doc_new(NULL);
	root = yyjson_mut_obj(doc);
	yyjson_mut_doc_set_root(doc, root);
	yyjson_mut_obj_add_str(doc, root, "format", format);
	yyjson_mut_obj_add_strcpy(doc, root, "name", name);
	yyjson_mut_obj_add_strcpy(doc, root, "key_id", key_id);
	arr = yyjson_mut_obj_add_arr(doc, root, "members");
	for (size_t i = 0; i < n; i++) {
		yyjson_mut_val *m = yyjson_mut_arr_add_obj(doc, arr);

		yyjson_mut_obj_add_str(doc, m, "name", members[i].name);
		yyjson_mut_obj_add_strcpy(doc, m, "sha256", hex[i]);
		yyjson_mut_obj_add_uint(doc, m, "size", sizes[i]);
	}
	index = yyjson_mut_write(doc, YYJSON_WRITE_PRETTY_TWO_SPACES, &index_len);
	yyjson_mut_doc_free(doc);
	if (!index)
		return bh_error(err, ENOMEM, "write the bundle index");
	if (key && sign_data(key, index, index_len, sig, &sig_len, err) < 0)
		goto out;
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", out);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0 || !(f = fdopen(fd, "wb"))) {
		bh_error(err, errno, "create %s", tmp);
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		goto out;
	}
	tar_writer_init(&w, f, out, 0);
	rc = tar_write_file(&w, "bundle.json", 0644, index, index_len, err);
	if (rc == 0 && key)
		rc = tar_write_file(&w, "bundle.sig", 0644, sig, sig_len, err);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = copy_member(&w, members[i].name, members[i].path, sizes[i], err);
	if (rc == 0)
		rc = tar_finish(&w, err);
	if (rc == 0 && (fchmod(fileno(f), 0644) < 0 || fsync(fileno(f)) < 0))
		rc = bh_error(err, errno, "write %s", tmp);
	if (fclose(f) != 0 && rc == 0)
		rc = bh_error(err, errno, "write %s", tmp);
	if (rc == 0 && rename(tmp, out) < 0)
		rc = bh_error(err, errno, "rename %s to %s", tmp, out);
	if (rc < 0)
		unlink(tmp);
out:
	free(index);
	return rc;
}
