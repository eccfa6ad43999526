/* Reads the parts of an SPDX 2.3 JSON document that the device-side commands
 * use: packages (name, version, licence, purl, CPE) and files (path,
 * SHA-256). A document that does not have the expected shape is an error
 * naming the file and the JSON path, never a crash. */
#include <bulkhead/sbom.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yyjson.h>

void spdx_doc_free(struct spdx_doc *doc)
{
	for (size_t i = 0; i < doc->n_pkgs; i++) {
		struct spdx_package *p = &doc->pkgs[i];

		free(p->spdxid);
		free(p->name);
		free(p->version);
		free(p->license);
		free(p->purl);
		free(p->cpe);
		free(p->supplier);
	}
	for (size_t i = 0; i < doc->n_files; i++) {
		free(doc->files[i].path);
		free(doc->files[i].link_target);
	}
	free(doc->pkgs);
	free(doc->files);
	free(doc->name);
	memset(doc, 0, sizeof(*doc));
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* A string member, required or not; errors name the JSON path. */
static int get_str(yyjson_val *obj, const char *key, bool required, const char **out,
		   const char *file, const char *where, struct bh_error *err)
{
	yyjson_val *v = yyjson_obj_get(obj, key);

	*out = NULL;
	if (!v) {
		if (required)
			return bh_error(err, 0, "%s: %s.%s is missing", file, where, key);
		return 0;
	}
	if (!yyjson_is_str(v))
		return bh_error(err, 0, "%s: %s.%s must be a string", file, where, key);
	*out = yyjson_get_str(v);
	return 0;
}

static int read_package(yyjson_val *p, struct spdx_package *out, const char *file,
			const char *where, struct bh_error *err)
{
	const char *id, *name, *version, *lic, *sup;
	yyjson_val *refs;

	if (!yyjson_is_obj(p))
		return bh_error(err, 0, "%s: %s must be an object", file, where);
	if (get_str(p, "SPDXID", true, &id, file, where, err) < 0 ||
	    get_str(p, "name", true, &name, file, where, err) < 0 ||
	    get_str(p, "versionInfo", false, &version, file, where, err) < 0 ||
	    get_str(p, "licenseConcluded", false, &lic, file, where, err) < 0 ||
	    get_str(p, "supplier", false, &sup, file, where, err) < 0)
		return -1;
	out->spdxid = strdup(id);
	out->name = strdup(name);
	out->version = dup_or_null(version);
	out->license = dup_or_null(lic);
	out->supplier = dup_or_null(sup);
	refs = yyjson_obj_get(p, "externalRefs");
	if (refs && !yyjson_is_arr(refs))
		return bh_error(err, 0, "%s: %s.externalRefs must be an array", file, where);
	if (refs) {
		size_t i, max;
		yyjson_val *r;

		yyjson_arr_foreach(refs, i, max, r)
		{
			const char *type, *loc;
			char rwhere[256];

			snprintf(rwhere, sizeof(rwhere), "%s.externalRefs[%zu]", where, i);
			if (!yyjson_is_obj(r))
				return bh_error(err, 0, "%s: %s must be an object", file, rwhere);
			if (get_str(r, "referenceType", true, &type, file, rwhere, err) < 0 ||
			    get_str(r, "referenceLocator", true, &loc, file, rwhere, err) < 0)
				return -1;
			if (!strcmp(type, "purl") && !out->purl)
				out->purl = strdup(loc);
			else if (!strcmp(type, "cpe23Type") && !out->cpe)
				out->cpe = strdup(loc);
		}
	}
	return 0;
}

/* "./a/b": relative, no empty, "." or ".." component. */
static bool safe_path(const char *name)
{
	const char *p = name + 2;

	if (strncmp(name, "./", 2) || !*p)
		return false;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

static int read_file(yyjson_val *f, struct spdx_file *out, const char *file, const char *where,
		     struct bh_error *err)
{
	const char *name, *comment;
	yyjson_val *sums, *s;
	size_t i, max;

	if (!yyjson_is_obj(f))
		return bh_error(err, 0, "%s: %s must be an object", file, where);
	if (get_str(f, "fileName", true, &name, file, where, err) < 0 ||
	    get_str(f, "comment", false, &comment, file, where, err) < 0)
		return -1;
	if (!safe_path(name))
		return bh_error(err, 0, "%s: %s.fileName '%s' must be a relative path starting with "
				"./ and without . or .. components", file, where, name);
	out->path = strdup(name + 2);
	if (comment && !strncmp(comment, "symbolic link to ", 17)) {
		const char *t = comment + 17, *end = strstr(t, " (checksums");

		out->link_target = end ? strndup(t, end - t) : strdup(t);
	}
	out->outside = comment && strstr(comment, "outside the root filesystem");
	sums = yyjson_obj_get(f, "checksums");
	if (!yyjson_is_arr(sums))
		return bh_error(err, 0, "%s: %s.checksums must be an array", file, where);
	yyjson_arr_foreach(sums, i, max, s)
	{
		const char *alg, *val;
		char swhere[256];

		snprintf(swhere, sizeof(swhere), "%s.checksums[%zu]", where, i);
		if (!yyjson_is_obj(s))
			return bh_error(err, 0, "%s: %s must be an object", file, swhere);
		if (get_str(s, "algorithm", true, &alg, file, swhere, err) < 0 ||
		    get_str(s, "checksumValue", true, &val, file, swhere, err) < 0)
			return -1;
		if (!strcmp(alg, "SHA256")) {
			if (strlen(val) != 64 || strspn(val, "0123456789abcdef") != 64)
				return bh_error(err, 0, "%s: %s.checksumValue is not a SHA-256 in hex",
						file, swhere);
			memcpy(out->sha256, val, 65);
		}
	}
	if (!out->sha256[0])
		return bh_error(err, 0, "%s: %s has no SHA256 checksum", file, where);
	return 0;
}

static int read_doc(yyjson_doc *jd, const char *path, struct spdx_doc *doc, struct bh_error *err)
{
	yyjson_val *root, *pkgs, *files, *v;
	const char *version, *name;
	size_t i, max;

	root = yyjson_doc_get_root(jd);
	if (!yyjson_is_obj(root))
		return bh_error(err, 0, "%s: $ must be an object", path);
	if (get_str(root, "spdxVersion", true, &version, path, "$", err) < 0 ||
	    get_str(root, "name", true, &name, path, "$", err) < 0)
		return -1;
	if (strcmp(version, "SPDX-2.3") && strcmp(version, "SPDX-2.2"))
		return bh_error(err, 0, "%s: $.spdxVersion is '%s'; SPDX-2.3 or SPDX-2.2 expected",
				path, version);
	doc->name = strdup(name);
	pkgs = yyjson_obj_get(root, "packages");
	if (pkgs && !yyjson_is_arr(pkgs))
		return bh_error(err, 0, "%s: $.packages must be an array", path);
	doc->pkgs = calloc(yyjson_arr_size(pkgs) + 1, sizeof(*doc->pkgs));
	yyjson_arr_foreach(pkgs, i, max, v)
	{
		char where[64];

		snprintf(where, sizeof(where), "$.packages[%zu]", i);
		doc->n_pkgs++;
		if (read_package(v, &doc->pkgs[i], path, where, err) < 0)
			return -1;
	}
	files = yyjson_obj_get(root, "files");
	if (files && !yyjson_is_arr(files))
		return bh_error(err, 0, "%s: $.files must be an array", path);
	doc->files = calloc(yyjson_arr_size(files) + 1, sizeof(*doc->files));
	yyjson_arr_foreach(files, i, max, v)
	{
		char where[64];

		snprintf(where, sizeof(where), "$.files[%zu]", i);
		doc->n_files++;
		if (read_file(v, &doc->files[i], path, where, err) < 0)
			return -1;
	}
	return 0;
}

int spdx_read(const char *path, struct spdx_doc *doc, struct bh_error *err)
{
	yyjson_read_err rerr;
	yyjson_doc *jd;
	int r;

	memset(doc, 0, sizeof(*doc));
	jd = yyjson_read_file(path, 0, NULL, &rerr);
	if (!jd) {
		if (rerr.code == YYJSON_READ_ERROR_FILE_OPEN)
			return bh_error(err, errno, "open %s", path);
		return bh_error(err, 0, "%s: not valid JSON at byte %zu: %s", path, rerr.pos,
				rerr.msg);
	}
	r = read_doc(jd, path, doc, err);
	yyjson_doc_free(jd);
	if (r < 0)
		spdx_doc_free(doc);
	return r;
}

int spdx_read_buf(const char *data, size_t len, const char *name, struct spdx_doc *doc,
		  struct bh_error *err)
{
	yyjson_read_err rerr;
	yyjson_doc *jd;
	int r;

	memset(doc, 0, sizeof(*doc));
	jd = yyjson_read_opts((char *)data, len, 0, NULL, &rerr);
	if (!jd)
		return bh_error(err, 0, "%s: not valid JSON at byte %zu: %s", name, rerr.pos,
				rerr.msg);
	r = read_doc(jd, name, doc, err);
	yyjson_doc_free(jd);
	if (r < 0)
		spdx_doc_free(doc);
	return r;
}
