/* The SBOM bhpack writes when none is given: the workload itself as one
 * component owning every file (SHA-1 and SHA-256), plus the packages that
 * an Alpine (lib/apk/db/installed) or Debian (var/lib/dpkg/status) package
 * database in the root filesystem names. Paths are relative to the
 * workload's folder on the device (/data/workloads/<name>/). */
#include "bhpack.h"

#include <bulkhead/hash.h>
#include <bulkhead/sbom.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct sbom_component *add_comp(struct sbom_image *img)
{
	struct sbom_component *v = realloc(img->comps, (img->n_comps + 1) * sizeof(*v));

	if (!v)
		return NULL;
	img->comps = v;
	memset(&v[img->n_comps], 0, sizeof(*v));
	return &v[img->n_comps++];
}

static int add_file(struct sbom_image *img, const char *path, const char *full, bool is_link,
		    struct bh_error *err)
{
	struct sbom_file f = {0};
	struct sbom_file *v;

	f.path = strdup(path);
	if (is_link) {
		char target[4096];
		ssize_t n = readlink(full, target, sizeof(target) - 1);

		if (n < 0)
			return bh_error(err, errno, "readlink %s", full);
		target[n] = 0;
		f.link_target = strdup(target);
		sha256_hex(target, (size_t)n, f.sha256);
		sha1_hex(target, (size_t)n, f.sha1);
	} else if (sha256_file(full, f.sha256, &f.size, err) < 0 || sha1_file(full, f.sha1, err) < 0) {
		free(f.path);
		return -1;
	}
	v = realloc(img->files, (img->n_files + 1) * sizeof(*v));
	if (!v)
		return bh_error(err, ENOMEM, "sbom");
	img->files = v;
	img->files[img->n_files++] = f;
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(struct sbom_image *img, const char *dir, const char *rel, struct bh_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	int rc = 0;

	if (!d)
		return bh_error(err, errno, "open %s", dir);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			names = realloc(names, (n + 1) * sizeof(*names));
			names[n++] = strdup(e->d_name);
		}
	closedir(d);
	if (n) /* an empty folder: names is NULL, which qsort must not get */
		qsort(names, n, sizeof(*names), cmp);
	for (size_t i = 0; i < n; i++) {
		char full[4096], path[4096];
		struct stat st;

		snprintf(full, sizeof(full), "%s/%s", dir, names[i]);
		snprintf(path, sizeof(path), "%s/%s", rel, names[i]);
		if (rc == 0 && lstat(full, &st) < 0)
			rc = bh_error(err, errno, "stat %s", full);
		else if (rc == 0 && S_ISDIR(st.st_mode))
			rc = walk(img, full, path, err);
		else if (rc == 0 && (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)))
			rc = add_file(img, path, full, S_ISLNK(st.st_mode), err);
		free(names[i]);
	}
	free(names);
	return rc;
}

static void add_package(struct sbom_image *img, const char *type, const char *name,
			const char *version, const char *license)
{
	struct sbom_component *c = add_comp(img);
	char purl[512];

	if (!c)
		return;
	c->name = strdup(name);
	c->version = strdup(version);
	c->kind = strdup("package");
	c->supplier = strdup(!strcmp(type, "apk") ? "Organization: Alpine Linux"
						  : "Organization: Debian");
	c->license = strdup(license && *license ? license : "NOASSERTION");
	snprintf(purl, sizeof(purl), "pkg:%s/%s/%s@%s", type, !strcmp(type, "apk") ? "alpine" : "debian",
		 name, version);
	c->purl = strdup(purl);
	c->download = strdup("NOASSERTION");
	c->origin = strdup("found in the image's package database");
}

/* Alpine: blocks of "X:value" lines, P: name, V: version, L: licence. */
static void scan_apk(struct sbom_image *img, const char *rootfs)
{
	char path[4096], line[1024], name[256] = "", ver[256] = "", lic[256] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/lib/apk/db/installed", rootfs);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!line[0]) {
			if (name[0] && ver[0])
				add_package(img, "apk", name, ver, lic);
			name[0] = ver[0] = lic[0] = 0;
		} else if (line[1] == ':') {
			char *dst = line[0] == 'P' ? name : line[0] == 'V' ? ver : line[0] == 'L' ? lic : NULL;

			if (dst)
				snprintf(dst, 256, "%s", line + 2);
		}
	}
	if (name[0] && ver[0])
		add_package(img, "apk", name, ver, lic);
	fclose(f);
}

/* Debian: stanzas with Package:, Version:, Status: ... installed. */
static void scan_dpkg(struct sbom_image *img, const char *rootfs)
{
	char path[4096], line[1024], name[256] = "", ver[256] = "";
	bool installed = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/var/lib/dpkg/status", rootfs);
	f = fopen(path, "re");
	if (!f)
		return;
	for (;;) {
		bool end = !fgets(line, sizeof(line), f);

		line[strcspn(line, "\n")] = 0;
		if (end || !line[0]) {
			if (name[0] && ver[0] && installed)
				add_package(img, "deb", name, ver, NULL);
			name[0] = ver[0] = 0;
			installed = false;
			if (end)
				break;
		} else if (!strncmp(line, "Package: ", 9)) {
			snprintf(name, sizeof(name), "%s", line + 9);
		} else if (!strncmp(line, "Version: ", 9)) {
			snprintf(ver, sizeof(ver), "%s", line + 9);
		} else if (!strncmp(line, "Status: ", 8)) {
			installed = strstr(line, " installed") != NULL;
		}
	}
	fclose(f);
}

int generate_sbom(const struct wl_manifest *m, const char *rootfs, const struct bundle_file *files,
		  size_t n_files, const char *arch, const char *supplier, int64_t created,
		  const char *out, struct bh_error *err)
{
	struct sbom_image img = {0};
	struct sbom_component *c;
	char purl[512];
	int rc = -1;

	img.workload = true;
	img.name = strdup(m->name);
	img.version = strdup(m->version);
	img.board = strdup("workload");
	img.profile = strdup(m->mode == WL_VM ? "vm" : "container");
	img.arch = strdup(arch);
	img.created = created;
	c = add_comp(&img);
	if (!c)
		goto out;
	c->name = strdup(m->name);
	c->version = strdup(m->version);
	c->kind = strdup("program");
	c->supplier = strdup(supplier);
	c->license = strdup("NOASSERTION");
	snprintf(purl, sizeof(purl), "pkg:generic/%s@%s", m->name, m->version);
	c->purl = strdup(purl);
	c->download = strdup("NOASSERTION");
	c->origin = strdup("packed by bhpack");
	if (rootfs) {
		if (walk(&img, rootfs, "rootfs", err) < 0)
			goto out;
		scan_apk(&img, rootfs);
		scan_dpkg(&img, rootfs);
	}
	for (size_t i = 0; i < n_files; i++)
		if (add_file(&img, files[i].name, files[i].path, false, err) < 0)
			goto out;
	rc = sbom_write_spdx(&img, out, -1, err);
out:
	sbom_image_free(&img);
	return rc;
}
