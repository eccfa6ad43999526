/* SPDX 2.3 JSON: the image document (every component, every file) and one
 * document per component. Everything is ordered and the namespace and
 * timestamp are derived from the inputs, so the same build gives the same
 * bytes. */
#include <bulkhead/hash.h>
#include <bulkhead/sbom.h>
#include "sbom_write.h"

#include <stdio.h>
#include <string.h>

/* SPDX ids allow letters, digits, '.' and '-'. */
static void spdx_id(char *out, size_t size, const char *prefix, const char *name)
{
	size_t n = snprintf(out, size, "%s", prefix);

	for (const char *p = name; *p && n + 1 < size; p++, n++)
		out[n] = (isalnum_ascii(*p) || *p == '.' || *p == '-') ? *p : '-';
	out[n < size ? n : size - 1] = 0;
}

static const char *purpose(const struct sbom_component *c)
{
	if (!strcmp(c->kind, "program"))
		return "APPLICATION";
	if (!strcmp(c->kind, "files"))
		return "FILE";
	if (!strcmp(c->name, "linux"))
		return "OPERATING_SYSTEM";
	if (!strcmp(c->name, "busybox"))
		return "APPLICATION";
	return "LIBRARY";
}

static void add_checksum(yyjson_mut_doc *doc, yyjson_mut_val *arr, const char *alg,
			 const char *hex)
{
	yyjson_mut_val *o = yyjson_mut_arr_add_obj(doc, arr);

	yyjson_mut_obj_add_str(doc, o, "algorithm", alg);
	yyjson_mut_obj_add_strcpy(doc, o, "checksumValue", hex);
}

static void add_rel(yyjson_mut_doc *doc, yyjson_mut_val *rels, const char *a, const char *type,
		    const char *b)
{
	yyjson_mut_val *o = yyjson_mut_arr_add_obj(doc, rels);

	yyjson_mut_obj_add_strcpy(doc, o, "spdxElementId", a);
	yyjson_mut_obj_add_str(doc, o, "relationshipType", type);
	yyjson_mut_obj_add_strcpy(doc, o, "relatedSpdxElement", b);
}

static const char *or_noassertion(const char *s)
{
	return s && *s ? s : "NOASSERTION";
}

/* The package's verification code (SPDX 7.9): SHA-1 over the sorted SHA-1s
 * of its files. */
static void verification_code(const struct sbom_image *img, size_t c, char hex[41])
{
	struct strv sums = {0};
	char *all;
	size_t n = 0;

	for (size_t i = 0; i < img->n_files; i++)
		if (img->files[i].component == c)
			strv_push(&sums, img->files[i].sha1);
	if (sums.n) /* a component without files: v is NULL */
		qsort(sums.v, sums.n, sizeof(char *), strv_cmp);
	all = calloc(sums.n * 40 + 1, 1);
	for (size_t i = 0; all && i < sums.n; i++) {
		memcpy(all + n, sums.v[i], 40);
		n += 40;
	}
	sha1_hex(all ? all : "", n, hex);
	free(all);
	strv_free(&sums);
}

static bool has_files(const struct sbom_image *img, size_t c)
{
	for (size_t i = 0; i < img->n_files; i++)
		if (img->files[i].component == c)
			return true;
	return false;
}

static void add_package(yyjson_mut_doc *doc, yyjson_mut_val *pkgs, yyjson_mut_val *rels,
			const struct sbom_image *img, size_t ci, bool with_files)
{
	const struct sbom_component *c = &img->comps[ci];
	yyjson_mut_val *p = yyjson_mut_arr_add_obj(doc, pkgs), *refs, *src;
	char id[256], sid[256], info[4096];
	size_t n;

	spdx_id(id, sizeof(id), "SPDXRef-Package-", c->name);
	yyjson_mut_obj_add_strcpy(doc, p, "SPDXID", id);
	yyjson_mut_obj_add_strcpy(doc, p, "name", c->name);
	yyjson_mut_obj_add_strcpy(doc, p, "versionInfo", c->version);
	yyjson_mut_obj_add_strcpy(doc, p, "supplier", c->supplier);
	yyjson_mut_obj_add_strcpy(doc, p, "downloadLocation", or_noassertion(c->download));
	yyjson_mut_obj_add_bool(doc, p, "filesAnalyzed", with_files && has_files(img, ci));
	if (with_files && has_files(img, ci)) {
		char code[41];
		yyjson_mut_val *v = yyjson_mut_obj_add_obj(doc, p, "packageVerificationCode");

		verification_code(img, ci, code);
		yyjson_mut_obj_add_strcpy(doc, v, "packageVerificationCodeValue", code);
	}
	if (c->package_file) {
		const char *base = strrchr(c->package_file, '/');

		yyjson_mut_obj_add_strcpy(doc, p, "packageFileName", base ? base + 1 : c->package_file);
		add_checksum(doc, yyjson_mut_obj_add_arr(doc, p, "checksums"), "SHA256",
			     c->package_sha256);
	}
	yyjson_mut_obj_add_strcpy(doc, p, "licenseConcluded", c->license);
	yyjson_mut_obj_add_strcpy(doc, p, "licenseDeclared", c->license);
	yyjson_mut_obj_add_str(doc, p, "copyrightText", "NOASSERTION");
	yyjson_mut_obj_add_str(doc, p, "primaryPackagePurpose", purpose(c));
	n = snprintf(info, sizeof(info), "%s", c->origin && *c->origin ? c->origin : "built from source");
	for (size_t i = 0; i < c->patches.n && n < sizeof(info); i++)
		n += snprintf(info + n, sizeof(info) - n, "%spatch applied: %s", "; ", c->patches.v[i]);
	yyjson_mut_obj_add_strcpy(doc, p, "sourceInfo", info);
	if (c->kernel_config_sha256) {
		snprintf(info, sizeof(info), "kernel .config sha256: %s", c->kernel_config_sha256);
		yyjson_mut_obj_add_strcpy(doc, p, "comment", info);
	}
	refs = yyjson_mut_obj_add_arr(doc, p, "externalRefs");
	if (c->cpe) {
		yyjson_mut_val *r = yyjson_mut_arr_add_obj(doc, refs);

		yyjson_mut_obj_add_str(doc, r, "referenceCategory", "SECURITY");
		yyjson_mut_obj_add_str(doc, r, "referenceType", "cpe23Type");
		yyjson_mut_obj_add_strcpy(doc, r, "referenceLocator", c->cpe);
	}
	if (c->purl) {
		yyjson_mut_val *r = yyjson_mut_arr_add_obj(doc, refs);

		yyjson_mut_obj_add_str(doc, r, "referenceCategory", "PACKAGE-MANAGER");
		yyjson_mut_obj_add_str(doc, r, "referenceType", "purl");
		yyjson_mut_obj_add_strcpy(doc, r, "referenceLocator", c->purl);
	}
	/* The source archive it was built from, as a package of its own. */
	if (c->source) {
		spdx_id(sid, sizeof(sid), "SPDXRef-Source-", c->name);
		src = yyjson_mut_arr_add_obj(doc, pkgs);
		yyjson_mut_obj_add_strcpy(doc, src, "SPDXID", sid);
		snprintf(info, sizeof(info), "%s-source", c->name);
		yyjson_mut_obj_add_strcpy(doc, src, "name", info);
		yyjson_mut_obj_add_strcpy(doc, src, "versionInfo", c->version);
		yyjson_mut_obj_add_strcpy(doc, src, "supplier", c->supplier);
		yyjson_mut_obj_add_strcpy(doc, src, "packageFileName", c->source);
		yyjson_mut_obj_add_strcpy(doc, src, "downloadLocation", or_noassertion(c->download));
		yyjson_mut_obj_add_bool(doc, src, "filesAnalyzed", false);
		if (c->source_sha256 && strlen(c->source_sha256) == 64)
			add_checksum(doc, yyjson_mut_obj_add_arr(doc, src, "checksums"), "SHA256",
				     c->source_sha256);
		yyjson_mut_obj_add_strcpy(doc, src, "licenseConcluded", c->license);
		yyjson_mut_obj_add_strcpy(doc, src, "licenseDeclared", c->license);
		yyjson_mut_obj_add_str(doc, src, "copyrightText", "NOASSERTION");
		yyjson_mut_obj_add_str(doc, src, "primaryPackagePurpose", "SOURCE");
		add_rel(doc, rels, id, "GENERATED_FROM", sid);
	}
}

static void add_file(yyjson_mut_doc *doc, yyjson_mut_val *files, yyjson_mut_val *rels,
		     const struct sbom_image *img, size_t fi)
{
	const struct sbom_file *f = &img->files[fi];
	yyjson_mut_val *o = yyjson_mut_arr_add_obj(doc, files), *sums, *types;
	char id[64], pid[256], name[4096];

	snprintf(id, sizeof(id), "SPDXRef-File-%zu", fi + 1);
	snprintf(name, sizeof(name), "./%s", f->path);
	yyjson_mut_obj_add_strcpy(doc, o, "SPDXID", id);
	yyjson_mut_obj_add_strcpy(doc, o, "fileName", name);
	sums = yyjson_mut_obj_add_arr(doc, o, "checksums");
	add_checksum(doc, sums, "SHA1", f->sha1);
	add_checksum(doc, sums, "SHA256", f->sha256);
	types = yyjson_mut_obj_add_arr(doc, o, "fileTypes");
	yyjson_mut_arr_add_str(doc, types, f->link_target ? "OTHER" : "BINARY");
	yyjson_mut_obj_add_str(doc, o, "licenseConcluded", "NOASSERTION");
	yyjson_mut_obj_add_str(doc, o, "copyrightText", "NOASSERTION");
	if (f->link_target) {
		snprintf(name, sizeof(name), "symbolic link to %s (checksums are of the target text)",
			 f->link_target);
		yyjson_mut_obj_add_strcpy(doc, o, "comment", name);
	} else if (f->outside) {
		yyjson_mut_obj_add_str(doc, o, "comment",
				       "outside the root filesystem: the boot image");
	}
	spdx_id(pid, sizeof(pid), "SPDXRef-Package-", img->comps[f->component].name);
	add_rel(doc, rels, pid, "CONTAINS", id);
}

int sbom_write_spdx(const struct sbom_image *img, const char *path, ssize_t only,
		    struct bh_error *err)
{
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *root = yyjson_mut_obj(doc), *ci, *creators, *pkgs, *files, *rels, *desc;
	char name[512], ns[1024], hash[65], when[32], tool[128], id[256];
	int r;

	yyjson_mut_doc_set_root(doc, root);
	if (only < 0)
		snprintf(name, sizeof(name), "%s", img->name);
	else
		snprintf(name, sizeof(name), "%s-%s", img->name, img->comps[only].name);
	sbom_content_hash(img, name, hash);
	snprintf(ns, sizeof(ns), "https://spdx.org/spdxdocs/%s-%.32s", name, hash);
	iso_time(img->created, when, sizeof(when));
	yyjson_mut_obj_add_str(doc, root, "spdxVersion", "SPDX-2.3");
	yyjson_mut_obj_add_str(doc, root, "dataLicense", "CC0-1.0");
	yyjson_mut_obj_add_str(doc, root, "SPDXID", "SPDXRef-DOCUMENT");
	yyjson_mut_obj_add_strcpy(doc, root, "name", name);
	yyjson_mut_obj_add_strcpy(doc, root, "documentNamespace", ns);
	ci = yyjson_mut_obj_add_obj(doc, root, "creationInfo");
	yyjson_mut_obj_add_strcpy(doc, ci, "created", when);
	creators = yyjson_mut_obj_add_arr(doc, ci, "creators");
	yyjson_mut_arr_add_str(doc, creators, "Organization: Bulkhead");
	snprintf(tool, sizeof(tool), "Tool: bhsbom-%s", BHSBOM_VERSION);
	yyjson_mut_arr_add_strcpy(doc, creators, tool);
	yyjson_mut_obj_add_str(doc, ci, "comment", GENERATION_CONTEXT);
	desc = yyjson_mut_obj_add_arr(doc, root, "documentDescribes");
	pkgs = yyjson_mut_obj_add_arr(doc, root, "packages");
	files = yyjson_mut_obj_add_arr(doc, root, "files");
	rels = yyjson_mut_obj_add_arr(doc, root, "relationships");

	if (only < 0) {
		/* The image itself: a firmware package that contains the rest. */
		yyjson_mut_val *p = yyjson_mut_arr_add_obj(doc, pkgs);
		char purl[512];

		yyjson_mut_obj_add_str(doc, p, "SPDXID", "SPDXRef-Package-image");
		yyjson_mut_obj_add_strcpy(doc, p, "name", img->name);
		yyjson_mut_obj_add_strcpy(doc, p, "versionInfo", img->version);
		yyjson_mut_obj_add_str(doc, p, "supplier", "Organization: Bulkhead");
		yyjson_mut_obj_add_str(doc, p, "downloadLocation", "NOASSERTION");
		yyjson_mut_obj_add_bool(doc, p, "filesAnalyzed", false);
		yyjson_mut_obj_add_str(doc, p, "licenseConcluded", "NOASSERTION");
		yyjson_mut_obj_add_str(doc, p, "licenseDeclared", "NOASSERTION");
		yyjson_mut_obj_add_str(doc, p, "copyrightText", "NOASSERTION");
		yyjson_mut_obj_add_str(doc, p, "primaryPackagePurpose",
				       img->workload ? (strcmp(img->profile, "vm") ? "CONTAINER" : "APPLICATION")
						     : "FIRMWARE");
		if (img->workload) {
			snprintf(purl, sizeof(purl), "Bulkhead workload bundle (%s), architecture %s",
				 img->profile, img->arch);
			yyjson_mut_obj_add_strcpy(doc, p, "description", purl);
			snprintf(purl, sizeof(purl), "pkg:generic/%s@%s", img->name, img->version);
		} else {
			snprintf(purl, sizeof(purl), "board %s, profile %s, architecture %s", img->board,
				 img->profile, img->arch);
			yyjson_mut_obj_add_strcpy(doc, p, "description", purl);
			snprintf(purl, sizeof(purl),
				 "pkg:generic/bulkhead-firmware@%s?board=%s&profile=%s", img->version,
				 img->board, img->profile);
		}
		yyjson_mut_val *refs = yyjson_mut_obj_add_arr(doc, p, "externalRefs");
		yyjson_mut_val *ref = yyjson_mut_arr_add_obj(doc, refs);

		yyjson_mut_obj_add_str(doc, ref, "referenceCategory", "PACKAGE-MANAGER");
		yyjson_mut_obj_add_str(doc, ref, "referenceType", "purl");
		yyjson_mut_obj_add_strcpy(doc, ref, "referenceLocator", purl);
		yyjson_mut_arr_add_str(doc, desc, "SPDXRef-Package-image");
		add_rel(doc, rels, "SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Package-image");
		for (size_t c = 0; c < img->n_comps; c++) {
			add_package(doc, pkgs, rels, img, c, true);
			spdx_id(id, sizeof(id), "SPDXRef-Package-", img->comps[c].name);
			add_rel(doc, rels, "SPDXRef-Package-image", "CONTAINS", id);
		}
		for (size_t i = 0; i < img->n_files; i++)
			add_file(doc, files, rels, img, i);
	} else {
		add_package(doc, pkgs, rels, img, (size_t)only, true);
		spdx_id(id, sizeof(id), "SPDXRef-Package-", img->comps[only].name);
		yyjson_mut_arr_add_strcpy(doc, desc, id);
		add_rel(doc, rels, "SPDXRef-DOCUMENT", "DESCRIBES", id);
		for (size_t i = 0; i < img->n_files; i++)
			if (img->files[i].component == (size_t)only)
				add_file(doc, files, rels, img, i);
		/* The packages it links or depends on, named so that the
		 * relationships below resolve inside this document. */
		for (size_t c = 0; c < img->n_comps; c++)
			if (c != (size_t)only && (strv_has(&img->comps[only].links, img->comps[c].name) ||
						  strv_has(&img->comps[only].depends, img->comps[c].name)))
				add_package(doc, pkgs, rels, img, c, false);
	}
	/* Static links from the link step, and the recipes' dependencies. */
	for (size_t c = 0; c < img->n_comps; c++) {
		const struct sbom_component *comp = &img->comps[c];
		char other[256];

		if (only >= 0 && c != (size_t)only)
			continue;
		spdx_id(id, sizeof(id), "SPDXRef-Package-", comp->name);
		for (size_t i = 0; i < comp->links.n; i++) {
			spdx_id(other, sizeof(other), "SPDXRef-Package-", comp->links.v[i]);
			add_rel(doc, rels, id, "STATIC_LINK", other);
		}
		for (size_t i = 0; i < comp->depends.n; i++) {
			if (sbom_find_component(img, comp->depends.v[i]) < 0)
				continue;
			spdx_id(other, sizeof(other), "SPDXRef-Package-", comp->depends.v[i]);
			add_rel(doc, rels, id, "DEPENDS_ON", other);
		}
	}
	r = write_json_atomic(doc, path, err);
	yyjson_mut_doc_free(doc);
	return r;
}
