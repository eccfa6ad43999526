/* Re-hashes installed files against an SPDX document and walks a root tree
 * for files that no document lists. Paths from the document never leave the
 * base folder: they were checked to be relative and free of "..", and every
 * file is opened with O_NOFOLLOW so that a symlink planted in place of a
 * file is reported, not followed. */
#include <bulkhead/hash.h>
#include <bulkhead/sbom.h>
#include "sbom_write.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void verify_report_free(struct verify_report *rep)
{
	strv_free(&rep->modified);
	strv_free(&rep->missing);
	strv_free(&rep->unlisted);
	strv_free(&rep->skipped);
}

static int push(struct strv *list, const char *prefix, const char *path)
{
	char rel[8192];

	snprintf(rel, sizeof(rel), "%s%s", prefix, path);
	return strv_push(list, rel);
}

static int check_file(const struct spdx_file *f, const char *base, const char *prefix,
		      struct verify_report *rep, struct bh_error *err)
{
	char full[8192], sha[65];
	struct stat st;

	snprintf(full, sizeof(full), "%s/%s", base, f->path);
	if (lstat(full, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return push(&rep->missing, prefix, f->path);
		return bh_error(err, errno, "stat %s", full);
	}
	rep->checked++;
	if (f->link_target) {
		char target[4096];
		ssize_t n = S_ISLNK(st.st_mode) ? readlink(full, target, sizeof(target) - 1) : -1;

		if (n < 0)
			return push(&rep->modified, prefix, f->path);
		target[n] = 0;
		return strcmp(target, f->link_target) ? push(&rep->modified, prefix, f->path) : 0;
	}
	if (!S_ISREG(st.st_mode))
		return push(&rep->modified, prefix, f->path);
	if (sha256_file(full, sha, NULL, err) < 0)
		return -1;
	return strcmp(sha, f->sha256) ? push(&rep->modified, prefix, f->path) : 0;
}

int sbom_verify_tree(const struct spdx_doc *doc, const char *base, const char *prefix,
		     struct verify_report *rep, struct bh_error *err)
{
	for (size_t i = 0; i < doc->n_files; i++) {
		const struct spdx_file *f = &doc->files[i];

		/* The kernel image lives on the boot partition; check it only
		 * when that is mounted under the root. */
		if (f->outside) {
			char dir[8192], *slash;
			struct stat st;

			snprintf(dir, sizeof(dir), "%s/%s", base, f->path);
			slash = strrchr(dir, '/');
			*slash = 0;
			if (stat(dir, &st) < 0) {
				if (push(&rep->skipped, prefix, f->path) < 0)
					return bh_error(err, ENOMEM, "verify");
				continue;
			}
		}
		if (check_file(f, base, prefix, rep, err) < 0)
			return -1;
	}
	return 0;
}

static bool skipped_prefix(const char *rel, const struct strv *skip)
{
	for (size_t i = 0; i < skip->n; i++) {
		size_t n = strlen(skip->v[i]);

		if (!strncmp(rel, skip->v[i], n) && (rel[n] == 0 || rel[n] == '/'))
			return true;
	}
	return false;
}

static int bsearch_cmp(const void *key, const void *elem)
{
	return strcmp((const char *)key, *(char *const *)elem);
}

/* Depth-first over one filesystem, with fds relative to their parent so
 * that nothing is resolved through a symlink. */
static int walk(int dfd, const char *rel, dev_t dev, const struct strv *covered,
		const struct strv *skip, const char *prefix, struct verify_report *rep,
		struct bh_error *err)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;
	struct strv names = {0};

	if (!d) {
		close(dfd);
		return bh_error(err, errno, "open folder %s", *rel ? rel : "/");
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			strv_push(&names, e->d_name);
	if (names.n) /* an empty folder: v is NULL, which qsort must not get */
		qsort(names.v, names.n, sizeof(char *), strv_cmp);
	for (size_t i = 0; i < names.n; i++) {
		char child[8192];
		struct stat st;

		snprintf(child, sizeof(child), "%s%s%s", rel, *rel ? "/" : "", names.v[i]);
		if (skipped_prefix(child, skip))
			continue;
		if (fstatat(dirfd(d), names.v[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* vanished while walking */
		if (st.st_dev != dev)
			continue; /* another filesystem (proc, tmpfs, /data) */
		if (S_ISDIR(st.st_mode)) {
			int fd = openat(dirfd(d), names.v[i],
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (fd < 0 || walk(fd, child, dev, covered, skip, prefix, rep, err) < 0) {
				if (fd < 0)
					bh_error(err, errno, "open folder %s", child);
				closedir(d);
				strv_free(&names);
				return -1;
			}
			continue;
		}
		if (!covered->n || !bsearch(child, covered->v, covered->n, sizeof(char *), bsearch_cmp))
			push(&rep->unlisted, prefix, child);
	}
	closedir(d);
	strv_free(&names);
	return 0;
}

int sbom_find_unlisted(const char *root, const struct strv *covered, const struct strv *skip,
		       const char *prefix, struct verify_report *rep, struct bh_error *err)
{
	struct strv sorted = {0};
	struct stat st;
	int fd, r;

	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return bh_error(err, errno, "open %s", root);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return bh_error(err, errno, "stat %s", root);
	}
	for (size_t i = 0; i < covered->n; i++)
		strv_push(&sorted, covered->v[i]);
	if (sorted.n)
		qsort(sorted.v, sorted.n, sizeof(char *), strv_cmp);
	r = walk(fd, "", st.st_dev, &sorted, skip, prefix, rep, err);
	strv_free(&sorted);
	return r;
}

/* Drops prefix + path from the entries of list from index from on (those
 * of one document), moving the last entry into its place. */
static void drop(struct strv *list, size_t from, const char *prefix, const char *path)
{
	size_t len = strlen(prefix);

	for (size_t i = from; i < list->n; i++)
		if (!strncmp(list->v[i], prefix, len) && !strcmp(list->v[i] + len, path)) {
			free(list->v[i]);
			list->v[i] = list->v[--list->n];
			list->v[list->n] = NULL;
			return;
		}
}

int sbom_verify_installed(const char *sbom, const char *base, const char *prefix,
                          const struct strv *skip, const char *own_file, struct verify_report *rep,
                          struct bh_error *err)
{
	static const struct strv none;
	struct strv covered = {0};
	struct spdx_doc doc;
	size_t from = rep->modified.n;
	int r;

	if (spdx_read(sbom, &doc, err) < 0)
		return -1;
	r = sbom_verify_tree(&doc, base, prefix, rep, err);
	for (size_t i = 0; r == 0 && i < doc.n_files; i++)
		if (!doc.files[i].outside && strv_push(&covered, doc.files[i].path) < 0)
			r = bh_error(err, ENOMEM, "verify %s", sbom);
	spdx_doc_free(&doc);
	/* base's tree may be on another filesystem than what holds it (a
	 * workload's on /data): it is walked on its own. */
	if (r == 0)
		r = sbom_find_unlisted(base, &covered, skip ? skip : &none, prefix, rep, err);
	strv_free(&covered);
	if (r == 0 && own_file)
		drop(&rep->modified, from, prefix, own_file);
	return r;
}
