/* The SBOM library behind bhsbom: the build-time model of an image (its
 * components and files), the writers for SPDX 2.3 and CycloneDX 1.6, the
 * reader of SPDX documents, verification of a root tree, and matching
 * against OSV advisories. */
#ifndef BULKHEAD_SBOM_H
#define BULKHEAD_SBOM_H

#include <bulkhead/error.h>
#include <bulkhead/strv.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sbom_file {
	char *path;          /* relative, without "./", e.g. "usr/bin/bhc" */
	char sha256[65];
	char sha1[41];
	uint64_t size;
	char *link_target;   /* a symlink: sha256/sha1 are of the target text */
	bool outside;        /* not on the root filesystem (the kernel image) */
	size_t component;
};

struct sbom_component {
	char *name, *kind, *version, *supplier, *license, *cpe, *purl, *download;
	char *origin, *source, *source_sha256, *kernel_config_sha256, *link_map;
	char *package_file;         /* a library archive linked as a whole */
	char package_sha256[65];
	struct strv patches;       /* "file sha256" */
	struct strv depends;       /* component names, from the recipe */
	struct strv archives;      /* path prefixes the linker may name */
	struct strv license_files;
	struct strv links;         /* component names it statically linked */
	struct strv outside_files; /* "path-in-image path-on-build-host" */
};

struct sbom_image {
	char *name, *version, *board, *profile, *arch;
	/* A workload bundle's SBOM (bhpack) rather than a firmware image's:
	 * profile holds the mode, container or vm. */
	bool workload;
	int64_t created; /* SOURCE_DATE_EPOCH */
	struct sbom_component *comps;
	size_t n_comps;
	struct sbom_file *files;
	size_t n_files;
};

void sbom_image_free(struct sbom_image *img);

/* Build side. */
int sbom_load_info_dir(struct sbom_image *img, const char *dir, struct bh_error *err);
int sbom_load_manifest(struct sbom_image *img, const char *path, const char *root,
		       struct bh_error *err);
int sbom_resolve_links(struct sbom_image *img, struct bh_error *err);
ssize_t sbom_find_component(const struct sbom_image *img, const char *name);

/* Document writers; output is deterministic for the same image. */
int sbom_write_spdx(const struct sbom_image *img, const char *path, ssize_t only_component,
		    struct bh_error *err);
int sbom_write_cyclonedx(const struct sbom_image *img, const char *path, struct bh_error *err);

/* Reading an SPDX document back (bhsbom list/verify on the device). */
struct spdx_package {
	char *spdxid, *name, *version, *license, *purl, *cpe, *supplier;
};
struct spdx_file {
	char *path; /* without "./" */
	char sha256[65];
	char *link_target;
	bool outside;
};
struct spdx_doc {
	char *name;
	struct spdx_package *pkgs;
	size_t n_pkgs;
	struct spdx_file *files;
	size_t n_files;
};
int spdx_read(const char *path, struct spdx_doc *doc, struct bh_error *err);
/* The same from memory; name is used in error messages. */
int spdx_read_buf(const char *data, size_t len, const char *name, struct spdx_doc *doc,
		  struct bh_error *err);
void spdx_doc_free(struct spdx_doc *doc);

/* Verification of a tree against one or more documents. */
struct verify_report {
	struct strv modified, missing, unlisted, skipped;
	size_t checked;
};
/* base: folder the document's paths are relative to; findings are reported
 * as prefix + path. */
int sbom_verify_tree(const struct spdx_doc *doc, const char *base, const char *prefix,
		     struct verify_report *rep, struct bh_error *err);
/* Walks root (one filesystem) and lists files no document covers. covered
 * holds every listed path relative to root; skip holds folder prefixes
 * that are not part of the image (e.g. "usr/share/sbom"). */
int sbom_find_unlisted(const char *root, const struct strv *covered, const struct strv *skip,
		       const char *prefix, struct verify_report *rep, struct bh_error *err);
/* Both for the tree a document describes (the image's root, a workload's
 * folder): the files of the SPDX document at sbom are re-hashed under base
 * and the files of base's filesystem that it does not list are unlisted,
 * all added to rep as prefix + path. skip (may be NULL) as above;
 * own_file (may be NULL) names a file of base that its owner changes
 * itself (a VM's writable disk.img): it is never reported modified. */
int sbom_verify_installed(const char *sbom, const char *base, const char *prefix,
                          const struct strv *skip, const char *own_file, struct verify_report *rep,
                          struct bh_error *err);
void verify_report_free(struct verify_report *rep);

/* OSV advisories. */
struct osv_match {
	char *advisory, *component, *version, *why;
};
struct osv_result {
	struct osv_match *m;
	size_t n;
	size_t advisories;
	struct strv notes; /* ranges that could not be evaluated */
};
int osv_match_file(const char *path, const struct spdx_doc *doc, struct osv_result *res,
		   struct bh_error *err);
int osv_match_buf(const char *data, size_t len, const char *name, const struct spdx_doc *doc,
		  struct osv_result *res, struct bh_error *err);
void osv_result_free(struct osv_result *res);
/* <0, 0, >0 like strcmp, for dotted versions with letters (1.2.10 > 1.2.9,
 * 1.0rc1 < 1.0). */
int version_compare(const char *a, const char *b);
/* "pkg:type/ns/name@v?q#s" → "type/ns/name", lowercased; false if not a purl. */
bool purl_base(const char *purl, char *out, size_t size);

#endif
