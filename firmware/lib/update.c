/* The update manifest and image version order (include/bulkhead/update.h). */
#include <bulkhead/update.h>

#include <ctype.h>
#include <string.h>
#include <yyjson.h>

int update_version_valid(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n >= UPDATE_VERSION_MAX || !isalnum((unsigned char)v[0]))
		return 0;
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && !strchr(".~^_-", *v))
			return 0;
	return 1;
}

static int copy_str(yyjson_val *root, const char *key, char *out, size_t size, const char *what,
		    struct bh_error *err)
{
	const char *s = yyjson_get_str(yyjson_obj_get(root, key));

	if (!s || !*s || strlen(s) >= size)
		return bh_error(err, 0, "%s: manifest.json $.%s must be a string of 1 to %zu characters",
				what, key, size - 1);
	strcpy(out, s);
	return 0;
}

int update_manifest_parse(const char *json, size_t len, const char *what,
			  struct update_manifest *m, struct bh_error *err)
{
	yyjson_doc *doc = yyjson_read(json, len, 0);
	yyjson_val *root = yyjson_doc_get_root(doc), *bytes;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	if (!yyjson_is_obj(root)) {
		bh_error(err, 0, "%s: manifest.json is not a JSON object", what);
		goto out;
	}
	if (copy_str(root, "board", m->board, sizeof(m->board), what, err) < 0 ||
	    copy_str(root, "arch", m->arch, sizeof(m->arch), what, err) < 0 ||
	    copy_str(root, "version", m->version, sizeof(m->version), what, err) < 0)
		goto out;
	if (strcmp(m->arch, "x86_64") && strcmp(m->arch, "aarch64")) {
		bh_error(err, 0, "%s: manifest.json $.arch '%s' is not x86_64 or aarch64", what, m->arch);
		goto out;
	}
	if (!update_version_valid(m->version)) {
		bh_error(err, 0, "%s: manifest.json $.version '%s' is not a valid image version", what,
			 m->version);
		goto out;
	}
	bytes = yyjson_obj_get(root, "slot_bytes");
	if (!yyjson_is_uint(bytes) || yyjson_get_uint(bytes) == 0 ||
	    yyjson_get_uint(bytes) % 4096) {
		bh_error(err, 0, "%s: manifest.json $.slot_bytes must be a positive multiple of 4096",
			 what);
		goto out;
	}
	m->slot_bytes = yyjson_get_uint(bytes);
	rc = 0;
out:
	yyjson_doc_free(doc);
	return rc;
}
