/* CycloneDX 1.6 JSON of the whole image: one component per package or
 * program, its files as nested file components, and the dependency graph
 * (image → components, programs → what they statically linked). */
#include <bulkhead/sbom.h>
#include "sbom_write.h"

#include <stdio.h>
#include <string.h>

static const char *cdx_type(const struct sbom_component *c)
{
	if (!strcmp(c->kind, "program") || !strcmp(c->name, "busybox"))
		return "application";
	if (!strcmp(c->name, "linux"))
		return "operating-system";
	if (!strcmp(c->kind, "files"))
		return "data";
	return "library";
}

/* The organisation part of an SPDX-style "Organization: X" supplier. */
static const char *org(const char *supplier)
{
	const char *p = strchr(supplier, ':');

	return p ? p + 2 : supplier;
}

static void ref_of(const struct sbom_component *c, char *out, size_t size)
{
	snprintf(out, size, "component:%s", c->name);
}

static void add_hash(yyjson_mut_doc *doc, yyjson_mut_val *arr, const char *alg, const char *hex)
{
	yyjson_mut_val *h = yyjson_mut_arr_add_obj(doc, arr);

	yyjson_mut_obj_add_str(doc, h, "alg", alg);
	yyjson_mut_obj_add_strcpy(doc, h, "content", hex);
}

static void add_prop(yyjson_mut_doc *doc, yyjson_mut_val *props, const char *name,
		     const char *value)
{
	yyjson_mut_val *p = yyjson_mut_arr_add_obj(doc, props);

	yyjson_mut_obj_add_str(doc, p, "name", name);
	yyjson_mut_obj_add_strcpy(doc, p, "value", value);
}

static void add_component(yyjson_mut_doc *doc, yyjson_mut_val *arr, const struct sbom_image *img,
			  size_t ci)
{
	const struct sbom_component *c = &img->comps[ci];
	yyjson_mut_val *o = yyjson_mut_arr_add_obj(doc, arr), *sup, *lic, *props, *sub, *ext;
	char ref[256];

	ref_of(c, ref, sizeof(ref));
	yyjson_mut_obj_add_str(doc, o, "type", cdx_type(c));
	yyjson_mut_obj_add_strcpy(doc, o, "bom-ref", ref);
	sup = yyjson_mut_obj_add_obj(doc, o, "supplier");
	yyjson_mut_obj_add_strcpy(doc, sup, "name", org(c->supplier));
	yyjson_mut_obj_add_strcpy(doc, o, "name", c->name);
	yyjson_mut_obj_add_strcpy(doc, o, "version", c->version);
	if (c->package_file)
		add_hash(doc, yyjson_mut_obj_add_arr(doc, o, "hashes"), "SHA-256", c->package_sha256);
	lic = yyjson_mut_obj_add_arr(doc, o, "licenses");
	yyjson_mut_obj_add_strcpy(doc, yyjson_mut_arr_add_obj(doc, lic), "expression", c->license);
	if (c->cpe)
		yyjson_mut_obj_add_strcpy(doc, o, "cpe", c->cpe);
	if (c->purl)
		yyjson_mut_obj_add_strcpy(doc, o, "purl", c->purl);
	ext = yyjson_mut_obj_add_arr(doc, o, "externalReferences");
	if (c->download && strcmp(c->download, "NOASSERTION")) {
		yyjson_mut_val *e = yyjson_mut_arr_add_obj(doc, ext);

		yyjson_mut_obj_add_str(doc, e, "type", "distribution");
		yyjson_mut_obj_add_strcpy(doc, e, "url", c->download);
		if (c->source_sha256 && strlen(c->source_sha256) == 64)
			add_hash(doc, yyjson_mut_obj_add_arr(doc, e, "hashes"), "SHA-256",
				 c->source_sha256);
	}
	if (c->patches.n) {
		yyjson_mut_val *ped = yyjson_mut_obj_add_obj(doc, o, "pedigree");
		yyjson_mut_val *patches = yyjson_mut_obj_add_arr(doc, ped, "patches");

		for (size_t i = 0; i < c->patches.n; i++) {
			yyjson_mut_val *p = yyjson_mut_arr_add_obj(doc, patches), *diff;
			char file[512] = "", sha[65] = "";

			sscanf(c->patches.v[i], "%511s %64s", file, sha);
			yyjson_mut_obj_add_str(doc, p, "type", "unofficial");
			diff = yyjson_mut_obj_add_obj(doc, p, "diff");
			yyjson_mut_obj_add_strcpy(doc, diff, "url", file);
			(void)sha;
		}
	}
	props = yyjson_mut_obj_add_arr(doc, o, "properties");
	add_prop(doc, props, "bulkhead:kind", c->kind);
	if (c->source)
		add_prop(doc, props, "bulkhead:source", c->source);
	if (c->origin && *c->origin)
		add_prop(doc, props, "bulkhead:origin", c->origin);
	if (c->kernel_config_sha256)
		add_prop(doc, props, "bulkhead:kernel-config-sha256", c->kernel_config_sha256);
	sub = NULL;
	for (size_t i = 0; i < img->n_files; i++) {
		const struct sbom_file *f = &img->files[i];
		yyjson_mut_val *fo;
		char fref[4200];

		if (f->component != ci)
			continue;
		if (!sub)
			sub = yyjson_mut_obj_add_arr(doc, o, "components");
		fo = yyjson_mut_arr_add_obj(doc, sub);
		snprintf(fref, sizeof(fref), "file:/%s", f->path);
		yyjson_mut_obj_add_str(doc, fo, "type", "file");
		yyjson_mut_obj_add_strcpy(doc, fo, "bom-ref", fref);
		yyjson_mut_obj_add_strcpy(doc, fo, "name", fref + 5);
		add_hash(doc, yyjson_mut_obj_add_arr(doc, fo, "hashes"), "SHA-256", f->sha256);
		if (f->link_target) {
			yyjson_mut_val *fp = yyjson_mut_obj_add_arr(doc, fo, "properties");

			add_prop(doc, fp, "bulkhead:symlink-target", f->link_target);
		} else if (f->outside) {
			yyjson_mut_val *fp = yyjson_mut_obj_add_arr(doc, fo, "properties");

			add_prop(doc, fp, "bulkhead:location", "boot image, outside the root filesystem");
		}
	}
}

int sbom_write_cyclonedx(const struct sbom_image *img, const char *path, struct bh_error *err)
{
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *root = yyjson_mut_obj(doc), *meta, *tools, *tc, *main_c, *comps, *deps;
	yyjson_mut_val *lc, *authors, *sup, *props;
	char hash[65], serial[64], when[32], purl[512], ref[256];
	int r;

	yyjson_mut_doc_set_root(doc, root);
	sbom_content_hash(img, "cyclonedx", hash);
	/* A name-based UUID (version 5 layout) from the content digest. */
	snprintf(serial, sizeof(serial), "urn:uuid:%.8s-%.4s-5%.3s-a%.3s-%.12s", hash, hash + 8,
		 hash + 13, hash + 17, hash + 20);
	iso_time(img->created, when, sizeof(when));
	yyjson_mut_obj_add_str(doc, root, "$schema", "http://cyclonedx.org/schema/bom-1.6.schema.json");
	yyjson_mut_obj_add_str(doc, root, "bomFormat", "CycloneDX");
	yyjson_mut_obj_add_str(doc, root, "specVersion", "1.6");
	yyjson_mut_obj_add_strcpy(doc, root, "serialNumber", serial);
	yyjson_mut_obj_add_int(doc, root, "version", 1);
	meta = yyjson_mut_obj_add_obj(doc, root, "metadata");
	yyjson_mut_obj_add_strcpy(doc, meta, "timestamp", when);
	lc = yyjson_mut_obj_add_arr(doc, meta, "lifecycles");
	yyjson_mut_obj_add_str(doc, yyjson_mut_arr_add_obj(doc, lc), "phase", "build");
	tools = yyjson_mut_obj_add_obj(doc, meta, "tools");
	tc = yyjson_mut_arr_add_obj(doc, yyjson_mut_obj_add_arr(doc, tools, "components"));
	yyjson_mut_obj_add_str(doc, tc, "type", "application");
	yyjson_mut_obj_add_str(doc, tc, "name", "bhsbom");
	yyjson_mut_obj_add_str(doc, tc, "version", BHSBOM_VERSION);
	sup = yyjson_mut_obj_add_obj(doc, tc, "supplier");
	yyjson_mut_obj_add_str(doc, sup, "name", "Bulkhead");
	authors = yyjson_mut_obj_add_arr(doc, meta, "authors");
	yyjson_mut_obj_add_str(doc, yyjson_mut_arr_add_obj(doc, authors), "name", "Bulkhead");
	main_c = yyjson_mut_obj_add_obj(doc, meta, "component");
	yyjson_mut_obj_add_str(doc, main_c, "type", "firmware");
	yyjson_mut_obj_add_str(doc, main_c, "bom-ref", "image");
	sup = yyjson_mut_obj_add_obj(doc, main_c, "supplier");
	yyjson_mut_obj_add_str(doc, sup, "name", "Bulkhead");
	yyjson_mut_obj_add_strcpy(doc, main_c, "name", img->name);
	yyjson_mut_obj_add_strcpy(doc, main_c, "version", img->version);
	snprintf(purl, sizeof(purl), "pkg:generic/bulkhead-firmware@%s?board=%s&profile=%s",
		 img->version, img->board, img->profile);
	yyjson_mut_obj_add_strcpy(doc, main_c, "purl", purl);
	props = yyjson_mut_obj_add_arr(doc, meta, "properties");
	add_prop(doc, props, "bulkhead:board", img->board);
	add_prop(doc, props, "bulkhead:profile", img->profile);
	add_prop(doc, props, "bulkhead:arch", img->arch);
	add_prop(doc, props, "bulkhead:generation-context", GENERATION_CONTEXT);
	sup = yyjson_mut_obj_add_obj(doc, meta, "supplier");
	yyjson_mut_obj_add_str(doc, sup, "name", "Bulkhead");

	comps = yyjson_mut_obj_add_arr(doc, root, "components");
	for (size_t c = 0; c < img->n_comps; c++)
		add_component(doc, comps, img, c);
	deps = yyjson_mut_obj_add_arr(doc, root, "dependencies");
	{
		yyjson_mut_val *d = yyjson_mut_arr_add_obj(doc, deps);
		yyjson_mut_val *on;

		yyjson_mut_obj_add_str(doc, d, "ref", "image");
		on = yyjson_mut_obj_add_arr(doc, d, "dependsOn");
		for (size_t c = 0; c < img->n_comps; c++) {
			ref_of(&img->comps[c], ref, sizeof(ref));
			yyjson_mut_arr_add_strcpy(doc, on, ref);
		}
	}
	for (size_t c = 0; c < img->n_comps; c++) {
		const struct sbom_component *comp = &img->comps[c];
		yyjson_mut_val *d = yyjson_mut_arr_add_obj(doc, deps), *on;
		struct strv all = {0};

		ref_of(comp, ref, sizeof(ref));
		yyjson_mut_obj_add_strcpy(doc, d, "ref", ref);
		on = yyjson_mut_obj_add_arr(doc, d, "dependsOn");
		for (size_t i = 0; i < comp->links.n; i++)
			strv_push(&all, comp->links.v[i]);
		for (size_t i = 0; i < comp->depends.n; i++)
			if (!strv_has(&all, comp->depends.v[i]) &&
			    sbom_find_component(img, comp->depends.v[i]) >= 0)
				strv_push(&all, comp->depends.v[i]);
		if (all.n) /* no dependencies: v is NULL */
			qsort(all.v, all.n, sizeof(char *), strv_cmp);
		for (size_t i = 0; i < all.n; i++) {
			snprintf(ref, sizeof(ref), "component:%s", all.v[i]);
			yyjson_mut_arr_add_strcpy(doc, on, ref);
		}
		strv_free(&all);
	}
	r = write_json_atomic(doc, path, err);
	yyjson_mut_doc_free(doc);
	return r;
}
