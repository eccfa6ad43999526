/* The build-time model: components from the `key=value` files the build
 * writes (rootfs/sbom.mk), files from the root filesystem's manifest
 * (rootfs/assemble.py) hashed again from the tree, and the static links
 * read from each program's link trace. */
#include <bulkhead/hash.h>
#include <bulkhead/sbom.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void component_free(struct sbom_component *c)
{
	char **fields[] = {&c->name, &c->kind, &c->version, &c->supplier, &c->license, &c->cpe,
			   &c->purl, &c->download, &c->origin, &c->source, &c->source_sha256,
			   &c->kernel_config_sha256, &c->link_map, &c->package_file};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		free(*fields[i]);
	strv_free(&c->patches);
	strv_free(&c->depends);
	strv_free(&c->archives);
	strv_free(&c->license_files);
	strv_free(&c->links);
	strv_free(&c->outside_files);
}

void sbom_image_free(struct sbom_image *img)
{
	for (size_t i = 0; i < img->n_comps; i++)
		component_free(&img->comps[i]);
	for (size_t i = 0; i < img->n_files; i++) {
		free(img->files[i].path);
		free(img->files[i].link_target);
	}
	free(img->comps);
	free(img->files);
	free(img->name);
	free(img->version);
	free(img->board);
	free(img->profile);
	free(img->arch);
	memset(img, 0, sizeof(*img));
}

ssize_t sbom_find_component(const struct sbom_image *img, const char *name)
{
	for (size_t i = 0; i < img->n_comps; i++)
		if (!strcmp(img->comps[i].name, name))
			return (ssize_t)i;
	return -1;
}

static int set_field(struct sbom_component *c, const char *key, const char *val)
{
	struct {
		const char *key;
		char **field;
	} single[] = {
		{"name", &c->name},
		{"kind", &c->kind},
		{"version", &c->version},
		{"supplier", &c->supplier},
		{"license", &c->license},
		{"cpe", &c->cpe},
		{"purl", &c->purl},
		{"download", &c->download},
		{"origin", &c->origin},
		{"source", &c->source},
		{"source_sha256", &c->source_sha256},
		{"kernel_config_sha256", &c->kernel_config_sha256},
		{"link_map", &c->link_map},
		{"package_file", &c->package_file},
	};
	struct {
		const char *key;
		struct strv *list;
	} multi[] = {
		{"patch", &c->patches},           {"depends", &c->depends},
		{"archive", &c->archives},        {"license_file", &c->license_files},
		{"outside_file", &c->outside_files},
	};

	for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++)
		if (!strcmp(key, single[i].key)) {
			free(*single[i].field);
			*single[i].field = strdup(val);
			return *single[i].field ? 0 : -1;
		}
	for (size_t i = 0; i < sizeof(multi) / sizeof(multi[0]); i++)
		if (!strcmp(key, multi[i].key))
			return strv_push(multi[i].list, val);
	/* Keys for other tools (artifact) are not part of the SBOM. */
	return 0;
}

static int load_info(struct sbom_component *c, const char *path, struct bh_error *err)
{
	char line[4096];
	int lineno = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return bh_error(err, errno, "open %s", path);
	while (fgets(line, sizeof(line), f)) {
		char *eq;

		lineno++;
		line[strcspn(line, "\n")] = 0;
		if (!line[0])
			continue;
		eq = strchr(line, '=');
		if (!eq) {
			fclose(f);
			return bh_error(err, 0, "%s:%d: expected key=value", path, lineno);
		}
		*eq = 0;
		if (eq[1] && set_field(c, line, eq + 1) < 0) {
			fclose(f);
			return bh_error(err, ENOMEM, "%s:%d", path, lineno);
		}
	}
	fclose(f);
	if (!c->name || !c->version || !c->license || !c->supplier || !c->kind)
		return bh_error(err, 0, "%s: name, kind, version, supplier and license are required",
				path);
	if (c->package_file && sha256_file(c->package_file, c->package_sha256, NULL, err) < 0)
		return bh_error_wrap(err, "%s: package_file", path);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sbom_load_info_dir(struct sbom_image *img, const char *dir, struct bh_error *err)
{
	struct strv names = {0};
	struct dirent *e;
	DIR *d = opendir(dir);
	int r = 0;

	if (!d)
		return bh_error(err, errno, "open %s", dir);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len > 5 && !strcmp(e->d_name + len - 5, ".info"))
			strv_push(&names, e->d_name);
	}
	closedir(d);
	if (names.n) /* no .info files: v is NULL */
		qsort(names.v, names.n, sizeof(char *), cmp_str);
	img->comps = calloc(names.n ? names.n : 1, sizeof(*img->comps));
	if (!img->comps) {
		strv_free(&names);
		return bh_error(err, ENOMEM, "load %s", dir);
	}
	for (size_t i = 0; i < names.n && r == 0; i++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", dir, names.v[i]);
		r = load_info(&img->comps[img->n_comps++], path, err);
		if (r == 0 && sbom_find_component(img, img->comps[img->n_comps - 1].name) !=
				      (ssize_t)img->n_comps - 1)
			r = bh_error(err, 0, "%s: component %s is described twice", path,
				     img->comps[img->n_comps - 1].name);
	}
	strv_free(&names);
	if (r == 0 && img->n_comps == 0)
		r = bh_error(err, 0, "%s holds no component (*.info)", dir);
	return r;
}

static int add_file(struct sbom_image *img, struct sbom_file *f, struct bh_error *err)
{
	if (img->n_files % 64 == 0) {
		struct sbom_file *v = realloc(img->files, (img->n_files + 64) * sizeof(*v));

		if (!v)
			return bh_error(err, ENOMEM, "add %s", f->path);
		img->files = v;
	}
	img->files[img->n_files++] = *f;
	return 0;
}

/* Manifest lines: path component type mode size sha256 target. The root
 * tree is hashed again here: the SBOM states what is in the tree. */
int sbom_load_manifest(struct sbom_image *img, const char *path, const char *root,
		       struct bh_error *err)
{
	char line[8192];
	int lineno = 0;
	FILE *m = fopen(path, "re");

	if (!m)
		return bh_error(err, errno, "open %s", path);
	while (fgets(line, sizeof(line), m)) {
		char *field[7] = {0}, *p = line, full[8192];
		struct sbom_file f = {0};
		ssize_t comp;
		int n = 0;

		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = 0;
		while (n < 7) {
			field[n++] = p;
			p = strchr(p, '\t');
			if (!p)
				break;
			*p++ = 0;
		}
		if (n != 7 || field[0][0] != '/') {
			fclose(m);
			return bh_error(err, 0, "%s:%d: expected 7 tab-separated fields", path, lineno);
		}
		if (strcmp(field[2], "f") && strcmp(field[2], "l"))
			continue; /* folders are not files */
		comp = sbom_find_component(img, field[1]);
		if (comp < 0) {
			fclose(m);
			return bh_error(err, 0, "%s:%d: %s belongs to component %s, which has no .info",
					path, lineno, field[0], field[1]);
		}
		f.component = (size_t)comp;
		f.path = strdup(field[0] + 1);
		snprintf(full, sizeof(full), "%s/%s", root, f.path);
		if (!strcmp(field[2], "l")) {
			char target[4096];
			ssize_t len = readlink(full, target, sizeof(target) - 1);

			if (len < 0) {
				fclose(m);
				return bh_error(err, errno, "readlink %s", full);
			}
			target[len] = 0;
			f.link_target = strdup(target);
			sha256_hex(target, len, f.sha256);
			sha1_hex(target, len, f.sha1);
			f.size = len;
		} else {
			if (sha256_file(full, f.sha256, &f.size, err) < 0 ||
			    sha1_file(full, f.sha1, err) < 0) {
				fclose(m);
				return -1;
			}
			if (strcmp(f.sha256, field[5])) {
				fclose(m);
				return bh_error(err, 0, "%s:%d: %s has sha256 %s in the tree, %s in the "
						"manifest", path, lineno, f.path, f.sha256, field[5]);
			}
		}
		if (add_file(img, &f, err) < 0) {
			fclose(m);
			return -1;
		}
	}
	fclose(m);
	/* Files outside the root filesystem (the kernel image). */
	for (size_t c = 0; c < img->n_comps; c++)
		for (size_t i = 0; i < img->comps[c].outside_files.n; i++) {
			struct sbom_file f = {.component = c, .outside = true};
			char fpath[1024], host[3072];

			if (sscanf(img->comps[c].outside_files.v[i], "%1023s %3071s", fpath, host) != 2)
				return bh_error(err, 0, "component %s: outside_file '%s' is not "
						"'path-in-image path-on-host'", img->comps[c].name,
						img->comps[c].outside_files.v[i]);
			if (sha256_file(host, f.sha256, &f.size, err) < 0 ||
			    sha1_file(host, f.sha1, err) < 0)
				return bh_error_wrap(err, "component %s", img->comps[c].name);
			f.path = strdup(fpath);
			if (add_file(img, &f, err) < 0)
				return -1;
		}
	return 0;
}

/* The component that owns an input the linker named: the longest archive
 * prefix that matches. */
static ssize_t owner(const struct sbom_image *img, const char *input)
{
	ssize_t best = -1;
	size_t best_len = 0;

	for (size_t c = 0; c < img->n_comps; c++)
		for (size_t i = 0; i < img->comps[c].archives.n; i++) {
			const char *a = img->comps[c].archives.v[i];
			size_t len = strlen(a);

			if (len > best_len && !strncmp(input, a, len)) {
				best = (ssize_t)c;
				best_len = len;
			}
		}
	return best;
}

static int add_link(struct sbom_image *img, size_t c, const char *input, const char *own_dir,
		    struct bh_error *err)
{
	struct sbom_component *comp = &img->comps[c];
	ssize_t o;

	if (!strncmp(input, own_dir, strlen(own_dir)))
		return 0; /* the program's own objects */
	o = owner(img, input);
	if (o < 0)
		return bh_error(err, 0, "link map %s names %s, which no component claims "
				"(archive= in an .info file)", comp->link_map, input);
	if (o == (ssize_t)c)
		return 0;
	for (size_t i = 0; i < comp->links.n; i++)
		if (!strcmp(comp->links.v[i], img->comps[o].name))
			return 0;
	return strv_push(&comp->links, img->comps[o].name);
}

/* GNU ld's map file: the archive members it pulled in are listed first, one
 * "archive(member)" a line at column 0 under "Archive member included";
 * objects given directly appear as "LOAD file.o". Archives that are only
 * searched (LOAD lib.a) contributed nothing unless a member is listed. */
static int read_link_map(struct sbom_image *img, size_t c, struct bh_error *err)
{
	struct sbom_component *comp = &img->comps[c];
	char line[8192], own_dir[4096];
	bool members = false;
	FILE *f = fopen(comp->link_map, "re");

	if (!f)
		return bh_error(err, errno, "open link map %s", comp->link_map);
	snprintf(own_dir, sizeof(own_dir), "%s", comp->link_map);
	*strrchr(own_dir, '/') = 0;
	while (fgets(line, sizeof(line), f)) {
		char *paren;
		size_t n;

		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "Archive member included", 23)) {
			members = true;
			continue;
		}
		if (members && (!strncmp(line, "Discarded input", 15) ||
				!strncmp(line, "Memory Configuration", 20) ||
				!strncmp(line, "Allocating common", 17)))
			members = false;
		if (members && line[0] == '/' && (paren = strchr(line, '('))) {
			*paren = 0;
			if (add_link(img, c, line, own_dir, err) < 0)
				goto fail;
			continue;
		}
		n = strlen(line);
		if (!strncmp(line, "LOAD /", 6) && n > 2 && !strcmp(line + n - 2, ".o") &&
		    add_link(img, c, line + 5, own_dir, err) < 0)
			goto fail;
	}
	fclose(f);
	if (comp->links.n) /* nothing linked: v is NULL */
		qsort(comp->links.v, comp->links.n, sizeof(char *), cmp_str);
	return 0;
fail:
	fclose(f);
	return -1;
}

int sbom_resolve_links(struct sbom_image *img, struct bh_error *err)
{
	for (size_t c = 0; c < img->n_comps; c++)
		if (img->comps[c].link_map && read_link_map(img, c, err) < 0)
			return -1;
	return 0;
}
