/* A root filesystem folder as a reproducible tar archive. */
#include "bhpack.h"

#include <bulkhead/strv.h>
#include <bulkhead/tar.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int add_tree(struct tar_writer *w, int fd_dir, const char *rel, struct bh_error *err)
{
	DIR *d = fdopendir(fd_dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (!d) {
		close(fd_dir);
		return bh_error(err, errno, "open folder %s", rel);
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			names = realloc(names, cap * sizeof(*names));
		}
		names[n++] = strdup(e->d_name);
	}
	if (n) /* an empty folder: names is NULL, which qsort must not get */
		qsort(names, n, sizeof(*names), strv_cmp);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char path[TAR_PATH_MAX];
		struct stat st;

		snprintf(path, sizeof(path), "%s%s%s", rel, *rel ? "/" : "", names[i]);
		if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = bh_error(err, errno, "stat %s", path);
		} else if (S_ISDIR(st.st_mode)) {
			int fd = openat(dirfd(d), names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			rc = tar_write_header(w, path, TAR_DIR, st.st_mode & 01777, 0, NULL, err);
			if (rc == 0)
				rc = fd < 0 ? bh_error(err, errno, "open %s", path)
					    : add_tree(w, fd, path, err);
		} else if (S_ISLNK(st.st_mode)) {
			char target[TAR_PATH_MAX];
			ssize_t len = readlinkat(dirfd(d), names[i], target, sizeof(target) - 1);

			if (len < 0) {
				rc = bh_error(err, errno, "readlink %s", path);
			} else {
				target[len] = 0;
				rc = tar_write_header(w, path, TAR_SYMLINK, 0777, 0, target, err);
			}
		} else if (S_ISREG(st.st_mode)) {
			int fd = openat(dirfd(d), names[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			uint64_t left = (uint64_t)st.st_size;
			char buf[65536];

			if (fd < 0) {
				rc = bh_error(err, errno, "open %s", path);
				continue;
			}
			rc = tar_write_header(w, path, TAR_FILE, st.st_mode & 0777, left, NULL, err);
			while (rc == 0 && left) {
				ssize_t got = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));

				if (got <= 0)
					rc = bh_error(err, got < 0 ? errno : 0, "read %s (changed while packing?)",
						      path);
				else
					rc = tar_write_data(w, buf, (size_t)got, err);
				left -= got > 0 ? (uint64_t)got : 0;
			}
			if (rc == 0)
				rc = tar_end_entry(w, (uint64_t)st.st_size, err);
			close(fd);
		} else {
			rc = bh_error(err, 0, "%s is a device node, FIFO or socket: a container "
				      "image holds none", path);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

int rootfs_to_tar(const char *dir, const char *tar_path, int64_t mtime, struct bh_error *err)
{
	struct tar_writer w;
	FILE *f;
	int fd, rc;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return bh_error(err, errno, "open root filesystem folder %s", dir);
	f = fopen(tar_path, "wbe");
	if (!f) {
		close(fd);
		return bh_error(err, errno, "create %s", tar_path);
	}
	tar_writer_init(&w, f, tar_path, mtime);
	rc = add_tree(&w, fd, "", err);
	if (rc == 0)
		rc = tar_finish(&w, err);
	if (fclose(f) != 0 && rc == 0)
		rc = bh_error(err, errno, "write %s", tar_path);
	return rc;
}
